//! Terminal sessions through the core's `SessionManager`, with real PTYs: typing and echo,
//! resize, two clients seeing the same bytes, reattaching to the scrollback, read-only
//! clients, the scrollback's bound, terminate ending the whole process group, exit codes, a
//! client that stops reading not slowing another, and a sandboxed session outliving the thread
//! that started it (bwrap's --die-with-parent). Each agent is a small `sh` script set as the
//! profile's `--binary`.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ringlet::session::{
    ClientEvent, NewSession, SCROLLBACK_BYTES, SessionClient, SessionConfig, SessionManager,
    SessionState,
};
use ringlet::{MemoryCredentialStore, NewProfile, Ringlet};

/// Long enough for a loaded machine; every wait fails the test after it, never hangs.
const TIMEOUT: Duration = Duration::from_secs(30);

struct Fixture {
    dir: tempfile::TempDir,
    ringlet: Ringlet,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let ringlet = Ringlet::builder()
            .home(dir.path().join("ringlet"))
            .credential_store(Arc::new(MemoryCredentialStore::default()))
            .build()
            .expect("build");
        Self { dir, ringlet }
    }

    /// A Codex profile on Ollama (no key needed) whose binary is an `sh` script.
    fn agent(&self, alias: &str, body: &str) -> PathBuf {
        let path = self.dir.path().join(format!("{alias}.sh"));
        std::fs::write(&path, format!("#!/bin/sh\n{body}")).expect("write the agent");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        self.ringlet
            .create_profile(
                &NewProfile::new("codex", alias, "ollama").binary(&path),
                None,
            )
            .expect("create the profile");
        path
    }

    fn manager(&self, config: SessionConfig) -> SessionManager {
        SessionManager::new(self.ringlet.clone(), config)
    }

    fn session(&self, alias: &str) -> NewSession {
        NewSession::new(alias)
            .working_dir(self.dir.path())
            .sandbox(false)
    }
}

/// The interactive fake agent: says its size, echoes lines, reports SIGWINCH, exits 7 on
/// `quit`.
const INTERACTIVE: &str = r#"trap 'echo "winch $(stty size)"' WINCH
echo "ready $(stty size)"
while :; do
  read -r line || continue
  case "$line" in
    quit) exit 7 ;;
    *) echo "got $line" ;;
  esac
done
"#;

/// A client's output, gathered as it arrives.
struct Seen<'a> {
    client: &'a SessionClient,
    bytes: Vec<u8>,
    last: Option<ClientEvent>,
}

impl<'a> Seen<'a> {
    fn of(client: &'a SessionClient) -> Self {
        Self {
            client,
            bytes: Vec::new(),
            last: None,
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// Reads until the output contains `needle`.
    fn wait_for(&mut self, needle: &str) {
        let deadline = Instant::now() + TIMEOUT;
        while !self.text().contains(needle) {
            self.step(deadline, needle);
        }
    }

    /// Reads until the last event (exit or dropped), which it returns.
    fn until_end(&mut self) -> ClientEvent {
        let deadline = Instant::now() + TIMEOUT;
        while self.last.is_none() {
            self.step(deadline, "the end");
        }
        self.last.clone().expect("the last event")
    }

    fn step(&mut self, deadline: Instant, what: &str) {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.client.event_timeout(left) {
            Ok(Some(ClientEvent::Output(b))) => self.bytes.extend(b),
            Ok(Some(ClientEvent::Resync(b))) => self.bytes = b,
            Ok(Some(last)) => self.last = Some(last),
            Ok(None) => panic!("events ended before {what:?}; output: {:?}", self.text()),
            Err(_) => panic!("no {what:?} within {TIMEOUT:?}; output: {:?}", self.text()),
        }
    }
}

#[test]
fn typing_resizing_two_clients_reattach_read_only_and_the_exit_code() {
    let f = Fixture::new();
    f.agent("tty", INTERACTIVE);
    let sessions = f.manager(SessionConfig::default());
    let info = sessions
        .create(&f.session("tty").size(24, 80))
        .expect("create");
    assert_eq!(info.state, SessionState::Running);
    assert_eq!(info.agent, "codex");
    assert!(info.pid.is_some() && info.run_id.is_some(), "{info:?}");

    let a = sessions.attach(&info.id, false).expect("attach a");
    let mut seen_a = Seen::of(&a);
    seen_a.wait_for("ready 24 80");
    let b = sessions.attach(&info.id, false).expect("attach b");
    let mut seen_b = Seen::of(&b);
    // b starts from the scrollback.
    seen_b.wait_for("ready 24 80");
    assert_eq!(sessions.get(&info.id).expect("get").clients, 2);

    assert!(a.write(b"hello\n").expect("type"));
    seen_a.wait_for("got hello");
    seen_b.wait_for("got hello");
    assert!(b.resize(30, 100).expect("resize"));
    assert!(b.write(b"again\n").expect("type"));
    seen_a.wait_for("winch 30 100");
    seen_b.wait_for("winch 30 100");
    seen_a.wait_for("got again");
    seen_b.wait_for("got again");
    assert_eq!(
        seen_a.text(),
        seen_b.text(),
        "both clients see the same bytes"
    );
    assert_eq!(sessions.get(&info.id).expect("get").rows, 30);

    // A read-only client's input and resizes are ignored.
    let watcher = sessions.attach(&info.id, true).expect("attach read-only");
    let mut seen_w = Seen::of(&watcher);
    seen_w.wait_for("got again");
    assert!(!watcher.write(b"sneaky\n").expect("write"));
    assert!(!watcher.resize(10, 10).expect("resize"));

    // b leaves; the session goes on; b comes back to the scrollback.
    drop(seen_b);
    drop(b);
    assert!(a.write(b"while away\n").expect("type"));
    seen_a.wait_for("got while away");
    let b = sessions.attach(&info.id, false).expect("reattach");
    let mut seen_b = Seen::of(&b);
    seen_b.wait_for("got while away");
    assert!(seen_b.text().contains("ready 24 80"), "{}", seen_b.text());
    assert!(!seen_b.text().contains("sneaky"), "{}", seen_b.text());

    assert!(a.write(b"quit\n").expect("type"));
    let end = ClientEvent::Exit {
        state: SessionState::Exited { exit_code: 7 },
    };
    assert_eq!(seen_a.until_end(), end);
    assert_eq!(seen_b.until_end(), end);
    assert_eq!(seen_w.until_end(), end);
    let ended = sessions.get(&info.id).expect("still listed");
    assert_eq!(ended.state, SessionState::Exited { exit_code: 7 });
    assert!(ended.ended_at.is_some());
    // An ended session can still be attached for its scrollback, then its end.
    let late = sessions
        .attach(&info.id, false)
        .expect("attach after the end");
    let mut seen_late = Seen::of(&late);
    assert_eq!(seen_late.until_end(), end);
    assert!(seen_late.text().contains("got while away"));
    // The run is a run: counted, and in the ledger with its exit code.
    let runs = f
        .ringlet
        .usage_store()
        .expect("ledger")
        .runs(&ringlet::UsageFilter::new(), None)
        .expect("runs");
    let run = runs
        .iter()
        .find(|r| Some(r.id) == ended.run_id)
        .expect("the session's run is in the ledger");
    assert_eq!(run.exit_code, Some(7));
    assert_eq!(
        f.ringlet
            .profile("tty")
            .expect("profile")
            .metadata
            .total_runs,
        1
    );
}

#[test]
fn ended_sessions_are_dropped_after_the_retention() {
    let f = Fixture::new();
    f.agent("brief", "echo bye\nexit 3\n");
    let sessions = f.manager(SessionConfig::default().retention(Duration::from_millis(200)));
    let info = sessions.create(&f.session("brief")).expect("create");
    let ended = sessions.wait(&info.id, TIMEOUT).expect("wait");
    assert_eq!(ended.state, SessionState::Exited { exit_code: 3 });
    let deadline = Instant::now() + TIMEOUT;
    while sessions.get(&info.id).is_ok() {
        assert!(Instant::now() < deadline, "never dropped");
        std::thread::sleep(Duration::from_millis(50));
    }
    let err = sessions.get(&info.id).expect_err("gone");
    assert_eq!(err.code(), "session_not_found");
    assert!(sessions.list().is_empty());
}

#[test]
fn the_scrollback_never_exceeds_one_mebibyte() {
    let f = Fixture::new();
    // 3 MiB of numbered lines, then a marker; then it waits.
    f.agent(
        "loud",
        "i=0\nwhile [ $i -lt 49152 ]; do printf '%063d\\n' $i; i=$((i+1)); done\necho END-OF-OUTPUT\nexec sleep 300\n",
    );
    let sessions = f.manager(SessionConfig::default().grace(Duration::from_millis(200)));
    let info = sessions.create(&f.session("loud")).expect("create");
    let watcher = sessions.attach(&info.id, true).expect("attach");
    let mut seen = Seen::of(&watcher);
    seen.wait_for("END-OF-OUTPUT");
    let now = sessions.get(&info.id).expect("get");
    assert!(now.scrollback_bytes <= SCROLLBACK_BYTES, "{now:?}");
    assert!(now.scrollback_bytes > SCROLLBACK_BYTES / 2, "{now:?}");
    let late = sessions.attach(&info.id, true).expect("attach");
    let mut replay = Seen::of(&late);
    replay.wait_for("END-OF-OUTPUT");
    assert!(
        replay.bytes.len() <= SCROLLBACK_BYTES,
        "{}",
        replay.bytes.len()
    );
    // The newest output, not the oldest.
    // (The terminal turns each \n into \r\n.)
    assert!(!replay.text().contains(&format!("{:063}\r\n", 0)));
    assert!(replay.text().contains(&format!("{:063}\r\n", 49151)));
    sessions.terminate(&info.id).expect("terminate");
}

#[test]
fn terminate_ends_the_whole_process_group() {
    let f = Fixture::new();
    let pidfile = f.dir.path().join("child.pid");
    // The agent ends on SIGHUP, but leaves a child that ignores it.
    f.agent(
        "stubborn",
        &format!(
            "sh -c 'trap \"\" HUP; echo $$ > {}; exec sleep 300' &\necho started\nwait\n",
            pidfile.display()
        ),
    );
    let sessions = f.manager(SessionConfig::default().grace(Duration::from_millis(300)));
    let info = sessions.create(&f.session("stubborn")).expect("create");
    let client = sessions.attach(&info.id, false).expect("attach");
    let mut seen = Seen::of(&client);
    seen.wait_for("started");
    let deadline = Instant::now() + TIMEOUT;
    let child: i32 = loop {
        if let Some(pid) = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "the child never wrote its pid");
        std::thread::sleep(Duration::from_millis(20));
    };
    let terminated = sessions.terminate(&info.id).expect("terminate");
    assert!(!terminated.state.ended() || terminated.state.as_str() == "terminated");
    let ClientEvent::Exit { state } = seen.until_end() else {
        panic!("not an exit");
    };
    assert_eq!(state.as_str(), "terminated", "{state:?}");
    // The child that ignored SIGHUP is gone too (SIGKILL after the grace).
    let deadline = Instant::now() + TIMEOUT;
    while alive(child) {
        assert!(
            Instant::now() < deadline,
            "the group's child {child} survived"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let err = sessions.terminate("nope").expect_err("unknown id");
    assert_eq!(err.code(), "session_not_found");
}

/// Whether `pid` is a live process (not a zombie: our own test harness does not reap it).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

#[test]
fn a_client_that_stops_reading_does_not_slow_another() {
    let f = Fixture::new();
    // 48 MiB of output (twelve times a client's queue), then a marker; then it waits.
    f.agent(
        "firehose",
        "head -c 50331648 /dev/zero | tr '\\0' x\necho\necho FIREHOSE-DONE\nexec sleep 300\n",
    );
    let sessions = f.manager(SessionConfig::default().grace(Duration::from_millis(200)));
    let info = sessions.create(&f.session("firehose")).expect("create");
    // Attached before any output (the agent's first bytes take a fork to appear), never read.
    let stalled = sessions
        .attach(&info.id, true)
        .expect("attach the stalled client");
    let reader = sessions.attach(&info.id, true).expect("attach the reader");
    let mut received = 0usize;
    // A reader descheduled on a loaded machine may itself fall a queue behind: it is then
    // resynced, which is fine; it is never dropped, and it reaches the end of the stream.
    let mut resyncs = 0usize;
    let mut tail = Vec::new();
    let deadline = Instant::now() + TIMEOUT * 2;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let bytes = match reader.event_timeout(left) {
            Ok(Some(ClientEvent::Output(b))) => b,
            Ok(Some(ClientEvent::Resync(b))) => {
                resyncs += 1;
                tail.clear();
                b
            }
            other => panic!(
                "the reading client got {:?} after {received} bytes and {resyncs} resyncs",
                other.map(|e| e.map(|e| std::mem::discriminant(&e)))
            ),
        };
        received += bytes.len();
        tail.extend_from_slice(&bytes);
        let keep = tail.len().saturating_sub(64);
        tail.drain(..keep);
        if String::from_utf8_lossy(&tail).contains("FIREHOSE-DONE") {
            break;
        }
    }
    if resyncs == 0 {
        // Every byte reached the reading client.
        assert!(received >= 48 * 1024 * 1024, "received {received}");
    }
    // The stalled one was resynced, then (never having taken that) dropped, with nothing
    // queued before its reason; the session has forgotten it.
    let mut events = Vec::new();
    while let Ok(Some(event)) = stalled.event_timeout(Duration::ZERO) {
        events.push(event);
    }
    let kinds: Vec<_> = events.iter().map(std::mem::discriminant).collect();
    assert!(
        matches!(&events[..], [ClientEvent::Dropped { reason }] if reason.contains("fell more than")),
        "{kinds:?}"
    );
    assert_eq!(sessions.get(&info.id).expect("get").clients, 1);
    sessions.terminate(&info.id).expect("terminate");
}

/// bwrap's --die-with-parent fires when the *thread* that forked it exits. A session created
/// from a short-lived thread (as a server's blocking pool retires its threads) must outlive
/// that thread; the sandbox is the profile's default for a remote run.
#[test]
fn a_sandboxed_session_outlives_the_thread_that_started_it() {
    let f = Fixture::new();
    f.agent("boxed", INTERACTIVE);
    let sessions = f.manager(SessionConfig::default().grace(Duration::from_millis(200)));
    let new = NewSession::new("boxed").working_dir(f.dir.path());
    let starter = sessions.clone();
    let info = std::thread::spawn(move || starter.create(&new))
        .join()
        .expect("join")
        .expect("create");
    // The starting thread is gone; bwrap would have had its death signal by now.
    let client = sessions.attach(&info.id, false).expect("attach");
    let mut seen = Seen::of(&client);
    seen.wait_for("ready 24 80");
    std::thread::sleep(Duration::from_millis(300));
    assert!(client.write(b"still here\n").expect("type"));
    seen.wait_for("got still here");
    assert_eq!(
        sessions.get(&info.id).expect("get").state,
        SessionState::Running
    );
    assert!(client.write(b"quit\n").expect("type"));
    assert_eq!(
        seen.until_end(),
        ClientEvent::Exit {
            state: SessionState::Exited { exit_code: 7 }
        }
    );
}

/// A remote session is sandboxed by default: it writes its workspace and its profile's HOME,
/// and nothing else on the host.
#[test]
fn a_sandboxed_session_writes_only_its_workspace_and_home() {
    let f = Fixture::new();
    // The workspace holds the agent script too (the sandbox's fresh /tmp hides the rest).
    let workspace = f.dir.path().to_path_buf();
    // Outside /tmp (which the sandbox replaces with a fresh one) and outside the workspace.
    let outside = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("outside dir");
    let target = outside.path().join("escaped");
    f.agent(
        "jailed",
        &format!(
            "echo in > ws-file && echo ws-ok\necho in > \"$HOME/home-file\" && echo home-ok\necho out > {} 2>/dev/null || echo outside-refused\necho done-writing\nexec sleep 300\n",
            target.display()
        ),
    );
    let sessions = f.manager(SessionConfig::default().grace(Duration::from_millis(200)));
    let info = sessions
        .create(&NewSession::new("jailed").working_dir(&workspace))
        .expect("create");
    let client = sessions.attach(&info.id, true).expect("attach");
    let mut seen = Seen::of(&client);
    seen.wait_for("done-writing");
    let text = seen.text();
    assert!(text.contains("ws-ok"), "{text}");
    assert!(text.contains("home-ok"), "{text}");
    assert!(text.contains("outside-refused"), "{text}");
    assert!(workspace.join("ws-file").exists());
    assert!(
        f.ringlet
            .profile_home("jailed")
            .expect("home")
            .join("home-file")
            .exists()
    );
    assert!(!target.exists(), "the sandboxed agent wrote {target:?}");
    sessions.terminate(&info.id).expect("terminate");
    assert!(
        sessions
            .wait(&info.id, TIMEOUT)
            .expect("wait")
            .state
            .ended()
    );
}
