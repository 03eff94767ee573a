//! `Ringlet::start` and its `RunHandle`, through the facade as an embedding uses it: a PTY run,
//! a piped run, the hook transport's fail-closed check, the run events, bookkeeping that fails
//! after the agent exited, and concurrent runs of one profile. Each "agent" is a small `sh`
//! script set as the profile's `--binary`, so no other crate's binary is needed.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use ringlet::{
    Error, Event, ImportState, MemoryCredentialStore, NewHook, NewProfile, RecordOutcome,
    RepriceOutcome, Result, Ringlet, RingletBuilder, RunEnd, RunOptions, RunSession, RunStart,
    SqliteUsageStore, UsageEvent, UsageFilter, UsageGroup, UsageRow, UsageStore,
};

/// Long enough for a loaded machine; every wait below fails the test after it, never hangs.
const TIMEOUT: Duration = Duration::from_secs(20);

/// An isolated ringlet home with a memory credential store.
fn builder(dir: &Path) -> RingletBuilder {
    Ringlet::builder()
        .home(dir.join("ringlet"))
        .credential_store(Arc::new(MemoryCredentialStore::default()))
}

/// Writes an executable `sh` script and returns its path.
fn agent_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).expect("write the agent");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// A Codex profile on Ollama (no key needed) whose binary is `agent`.
fn profile(ringlet: &Ringlet, alias: &str, agent: &Path) {
    ringlet
        .create_profile(
            &NewProfile::new("codex", alias, "ollama").binary(agent),
            None,
        )
        .expect("create the profile");
}

/// Starts a piped run of `alias`, reads its whole output, waits for it: the output, trimmed.
fn piped_output(ringlet: &Ringlet, alias: &str, options: RunOptions) -> Result<String> {
    let mut handle = ringlet.start(alias, &[], options.piped())?;
    let mut out = String::new();
    handle
        .take_output()
        .expect("output")
        .stdout
        .read_to_string(&mut out)
        .expect("read");
    handle.wait()?;
    Ok(out.trim().to_string())
}

/// Output read on a thread and collected as it arrives.
struct Output {
    chunks: Receiver<Vec<u8>>,
    seen: String,
}

impl Output {
    fn of(mut reader: impl Read + Send + 'static) -> Self {
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Self {
            chunks: rx,
            seen: String::new(),
        }
    }

    /// Waits until the output contains `needle`; fails the test on timeout or end of file.
    fn wait_for(&mut self, needle: &str) {
        let deadline = Instant::now() + TIMEOUT;
        while !self.seen.contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.seen.push_str(&String::from_utf8_lossy(&chunk)),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no {needle:?} within {TIMEOUT:?}; output: {:?}", self.seen)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("output ended without {needle:?}; output: {:?}", self.seen)
                }
            }
        }
    }
}

/// An interactive agent in a PTY of the requested size: it sees that size, a resize reaches
/// it as SIGWINCH with the new size, what is written through the handle reaches its input, and
/// `wait` gives its exit code.
#[test]
fn a_pty_run_sees_its_size_and_resizes_and_input_reach_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ringlet = builder(dir.path()).build().expect("build");
    let agent = agent_script(
        dir.path(),
        "interactive.sh",
        r#"trap 'echo "winch $(stty size)"' WINCH
echo "size $(stty size) pid $$"
# A trapped signal interrupts `read` (dash): read again.
while :; do
  read -r line || continue
  case "$line" in
    quit) exit 7 ;;
    *) echo "got $line" ;;
  esac
done
"#,
    );
    profile(&ringlet, "tty", &agent);

    let handle = ringlet
        .start(
            "tty",
            &[],
            RunOptions::embedded().pty(24, 80).working_dir(dir.path()),
        )
        .expect("start");
    let pty = handle.pty().expect("a PTY run has a PTY");
    let mut out = Output::of(pty.reader().expect("reader"));
    out.wait_for(&format!("size 24 80 pid {}", handle.pid()));

    handle.resize(30, 100).expect("resize");
    assert_eq!(pty.size().expect("size"), (30, 100));
    // The trap may run as the signal lands or once `read` returns: a line makes sure.
    let mut input = pty.writer();
    input.write_all(b"hello\n").expect("type");
    out.wait_for("got hello");
    out.wait_for("winch 30 100");

    input.write_all(b"quit\n").expect("type");
    let outcome = handle.wait().expect("wait");
    assert_eq!(outcome.exit_code, 7);
}

/// A resize without a PTY is an error that says how to get one, not a silent no-op.
#[test]
fn resizing_a_run_without_a_pty_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ringlet = builder(dir.path()).build().expect("build");
    let agent = agent_script(dir.path(), "quiet.sh", "exec sleep 30\n");
    profile(&ringlet, "plain", &agent);
    let handle = ringlet
        .start(
            "plain",
            &[],
            RunOptions::embedded().piped().working_dir(dir.path()),
        )
        .expect("start");
    let err = handle.resize(10, 10).expect_err("no terminal to resize");
    assert!(err.to_string().contains("RunOptions::pty"), "{err}");
    handle.signal(9).expect("kill");
    assert_eq!(handle.wait().expect("wait").exit_code, 128 + 9);
}

/// Piped output is read through the handle, its pid is the agent's, and a signal through the
/// handle ends it (the exit code says which signal).
#[test]
fn a_piped_run_is_read_and_signalled_through_its_handle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ringlet = builder(dir.path()).build().expect("build");
    let agent = agent_script(
        dir.path(),
        "server.sh",
        "echo \"ready $$\"\necho 'to stderr' >&2\nexec sleep 300\n",
    );
    profile(&ringlet, "piped", &agent);

    let mut handle = ringlet
        .start(
            "piped",
            &[],
            RunOptions::embedded().piped().working_dir(dir.path()),
        )
        .expect("start");
    let output = handle.take_output().expect("piped output");
    assert!(
        handle.take_output().is_none(),
        "the output is handed out once"
    );
    let mut line = String::new();
    BufReader::new(output.stdout)
        .read_line(&mut line)
        .expect("read stdout");
    assert_eq!(line.trim(), format!("ready {}", handle.pid()));
    let mut err_line = String::new();
    BufReader::new(output.stderr)
        .read_line(&mut err_line)
        .expect("read stderr");
    assert_eq!(err_line.trim(), "to stderr");

    let pid = handle.pid();
    handle.signal(15).expect("SIGTERM");
    let outcome = handle.wait().expect("wait");
    assert_eq!(outcome.exit_code, 128 + 15, "ended by the SIGTERM sent");
    assert_eq!(outcome.pid, pid);
}

/// A signal number that is none is refused.
#[test]
fn a_bad_signal_number_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ringlet = builder(dir.path()).build().expect("build");
    let agent = agent_script(dir.path(), "sleep.sh", "exec sleep 30\n");
    profile(&ringlet, "sig", &agent);
    let handle = ringlet
        .start(
            "sig",
            &[],
            RunOptions::embedded().piped().working_dir(dir.path()),
        )
        .expect("start");
    let err = handle.signal(9999).expect_err("no such signal");
    assert!(err.to_string().contains("9999"), "{err}");
    handle.signal(9).expect("kill");
    handle.wait().expect("wait");
}

/// A subscriber sees the run start (with the agent's pid) and end (with its outcome).
#[test]
fn run_started_and_ended_reach_a_subscriber() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ringlet = builder(dir.path()).build().expect("build");
    let agent = agent_script(dir.path(), "exit5.sh", "exit 5\n");
    profile(&ringlet, "ev", &agent);
    let events = ringlet.subscribe();

    let handle = ringlet
        .start(
            "ev",
            &[],
            RunOptions::embedded().piped().working_dir(dir.path()),
        )
        .expect("start");
    let pid = handle.pid();
    let outcome = handle.wait().expect("wait");

    let mut seen = Vec::new();
    while let Ok(event) = events.recv_timeout(Duration::from_millis(200)) {
        seen.push(event);
    }
    let started = seen
        .iter()
        .position(
            |e| matches!(e, Event::RunStarted { alias, pid: p, .. } if alias == "ev" && *p == pid),
        )
        .unwrap_or_else(|| panic!("no RunStarted for pid {pid}: {seen:?}"));
    let ended = seen
        .iter()
        .position(|e| matches!(e, Event::RunEnded { alias, outcome: o, .. } if alias == "ev" && *o == outcome))
        .unwrap_or_else(|| panic!("no RunEnded with {outcome:?}: {seen:?}"));
    assert!(started < ended, "{seen:?}");
    assert_eq!(outcome.exit_code, 5);
}

/// A usage ledger that fails every write after the agent has started: the run still reports
/// the agent's exit code, and the failures come back as warnings.
#[derive(Debug)]
struct FailsAfterStart(SqliteUsageStore);

fn ledger_down() -> Error {
    Error::io(
        "writing",
        "usage.db",
        std::io::Error::other("disk full (test)"),
    )
}

impl UsageStore for FailsAfterStart {
    fn record(&self, _: &[UsageEvent]) -> Result<RecordOutcome> {
        Err(ledger_down())
    }
    fn commit_import(&self, _: &[UsageEvent], _: &ImportState) -> Result<RecordOutcome> {
        Err(ledger_down())
    }
    fn import_state(&self, path: &str) -> Result<Option<ImportState>> {
        self.0.import_state(path)
    }
    fn import_states(&self, root: &str) -> Result<Vec<ImportState>> {
        self.0.import_states(root)
    }
    fn forget_import_states(&self, root: &str) -> Result<u64> {
        self.0.forget_import_states(root)
    }
    fn query(&self, filter: &UsageFilter, group: UsageGroup) -> Result<Vec<UsageRow>> {
        self.0.query(filter, group)
    }
    fn query_split(
        &self,
        filter: &UsageFilter,
        group: UsageGroup,
        by: UsageGroup,
    ) -> Result<Vec<(String, UsageRow)>> {
        self.0.query_split(filter, group, by)
    }
    fn events(&self, filter: &UsageFilter, limit: Option<u64>) -> Result<Vec<UsageEvent>> {
        self.0.events(filter, limit)
    }
    fn reprice(&self, prices: &ringlet::PriceBook) -> Result<RepriceOutcome> {
        self.0.reprice(prices)
    }
    fn start_run(&self, start: &RunStart) -> Result<i64> {
        self.0.start_run(start)
    }
    fn finish_run(&self, _: i64, _: &RunEnd) -> Result<()> {
        Err(ledger_down())
    }
    fn runs(&self, filter: &UsageFilter, limit: Option<u64>) -> Result<Vec<RunSession>> {
        self.0.runs(filter, limit)
    }
}

#[test]
fn bookkeeping_that_fails_after_the_exit_is_a_warning_not_the_exit_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FailsAfterStart(SqliteUsageStore::open_in_memory().expect("ledger"));
    let ringlet = builder(dir.path())
        .usage_store(Arc::new(store))
        .build()
        .expect("build");
    // A stop hook that fails is bookkeeping after the exit too.
    let agent = agent_script(dir.path(), "exit9.sh", "exit 9\n");
    profile(&ringlet, "books", &agent);
    ringlet
        .add_hook(&NewHook {
            profile: Some("books".into()),
            event: "stop".into(),
            shell: Some("exit 3".into()),
            ..NewHook::default()
        })
        .expect("add the stop hook");

    let outcome = ringlet
        .start(
            "books",
            &[],
            RunOptions::embedded().piped().working_dir(dir.path()),
        )
        .expect("start")
        .wait()
        .expect("the run succeeded: only its bookkeeping failed");
    assert_eq!(outcome.exit_code, 9);
    let warnings = ringlet.warnings();
    assert!(
        warnings
            .iter()
            .any(|w| w.code == "usage" && w.message.contains("disk full (test)")),
        "the ledger's failure is a warning: {warnings:?}"
    );
}

/// Two threads run one profile at the same time, over and over, while a third reads the
/// files the runs write into its HOME: every read parses, and every run reports its agent's
/// exit code.
#[test]
fn concurrent_runs_of_one_profile_never_leave_a_torn_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ringlet = builder(dir.path()).build().expect("build");
    let agent = agent_script(dir.path(), "exit0.sh", "exit 0\n");
    profile(&ringlet, "twice", &agent);
    let plan = ringlet.plan_run("twice", &[]).expect("plan");
    let files: Vec<PathBuf> = plan.files.iter().map(|f| f.path.clone()).collect();
    assert!(
        !files.is_empty(),
        "the profile's runs write files: {plan:?}"
    );

    let stop = std::sync::atomic::AtomicBool::new(false);
    let failures = std::sync::Mutex::new(Vec::<String>::new());
    thread::scope(|s| {
        let runners: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    for round in 0..25 {
                        let ran = ringlet
                            .start(
                                "twice",
                                &[],
                                RunOptions::embedded().piped().working_dir(dir.path()),
                            )
                            .and_then(|h| h.wait());
                        match ran {
                            Ok(o) if o.exit_code == 0 => {}
                            other => failures
                                .lock()
                                .expect("failures")
                                .push(format!("round {round}: {other:?}")),
                        }
                    }
                })
            })
            .collect();
        s.spawn(|| {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for file in &files {
                    let Ok(text) = std::fs::read_to_string(file) else {
                        continue;
                    };
                    let parsed = match file.extension().and_then(|e| e.to_str()) {
                        Some("json") => serde_json::from_str::<serde_json::Value>(&text)
                            .map(drop)
                            .map_err(|e| e.to_string()),
                        Some("toml") => text
                            .parse::<toml::Table>()
                            .map(drop)
                            .map_err(|e| e.to_string()),
                        _ => Ok(()),
                    };
                    if let Err(e) = parsed {
                        failures
                            .lock()
                            .expect("failures")
                            .push(format!("{} torn: {e}: {text:?}", file.display()));
                    }
                }
            }
        });
        for r in runners {
            r.join().expect("runner");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let failures = failures.into_inner().expect("failures");
    assert!(failures.is_empty(), "{failures:#?}");
}

/// `RunOptions::working_dir` and `search_path` replace the process's own: the agent found on
/// the given PATH (the profile names no binary), started in the given directory. A working
/// directory that is not one is refused before anything starts.
#[test]
fn working_dir_and_search_path_come_from_the_options() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ringlet = builder(dir.path()).build().expect("build");
    let bin = dir.path().join("bin");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&bin).expect("bin");
    std::fs::create_dir_all(&work).expect("work");
    agent_script(&bin, "codex", "echo \"in $(pwd)\"\n");
    ringlet
        .create_profile(&NewProfile::new("codex", "found", "ollama"), None)
        .expect("create");

    let mut handle = ringlet
        .start(
            "found",
            &[],
            RunOptions::embedded()
                .piped()
                .working_dir(&work)
                .search_path(bin.as_os_str()),
        )
        .expect("the agent is found on the given PATH");
    let mut out = String::new();
    handle
        .take_output()
        .expect("output")
        .stdout
        .read_to_string(&mut out)
        .expect("read");
    assert_eq!(out.trim(), format!("in {}", work.display()));
    assert_eq!(handle.wait().expect("wait").exit_code, 0);

    let err = ringlet
        .start(
            "found",
            &[],
            RunOptions::embedded()
                .piped()
                .working_dir(dir.path().join("missing"))
                .search_path(bin.as_os_str()),
        )
        .expect_err("no such working directory");
    assert!(err.to_string().contains("missing"), "{err}");
}

/// The environment policy: by default the agent inherits this process's variables (minus the
/// conflicting ones); `CleanPlusAllowlist` passes only those named, the plan's own (HOME) still
/// set. `CARGO_MANIFEST_DIR` is set by cargo for this test process.
#[test]
fn a_clean_environment_passes_only_the_allowlist() {
    assert!(
        std::env::var_os("CARGO_MANIFEST_DIR").is_some(),
        "run under cargo"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let ringlet = builder(dir.path()).build().expect("build");
    let agent = agent_script(
        dir.path(),
        "env.sh",
        "echo \"manifest=${CARGO_MANIFEST_DIR:-unset} path=${PATH:+set} home=$HOME\"\n",
    );
    profile(&ringlet, "envs", &agent);
    let home = ringlet.profile_home("envs").expect("home");
    let seen = |policy: ringlet::EnvPolicy| {
        let options = RunOptions::embedded().working_dir(dir.path()).env(policy);
        piped_output(&ringlet, "envs", options).expect("run")
    };
    let inherited = seen(ringlet::EnvPolicy::InheritMinusConflicts);
    assert!(!inherited.contains("manifest=unset"), "{inherited}");
    let clean = seen(ringlet::EnvPolicy::CleanPlusAllowlist(vec!["PATH".into()]));
    assert_eq!(
        clean,
        format!("manifest=unset path=set home={}", home.display())
    );
}

/// A server runs agents for users in other zones: the run's `TZ` is the caller's, a clean
/// environment included, and a zone the system does not know is refused before anything runs
/// (the C library would silently read it as UTC).
#[test]
fn the_time_zone_comes_from_the_options_and_a_bad_one_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ringlet = builder(dir.path()).build().expect("build");
    let marker = dir.path().join("ran");
    let agent = agent_script(
        dir.path(),
        "tz.sh",
        &format!(
            "touch '{}'\necho \"tz=${{TZ:-unset}} hour=$(date -d @0 +%H%M)\"\n",
            marker.display()
        ),
    );
    profile(&ringlet, "tz", &agent);
    let run = |options: RunOptions| piped_output(&ringlet, "tz", options.working_dir(dir.path()));
    let clean = RunOptions::embedded().env(ringlet::EnvPolicy::clean());
    // 1970-01-01T00:00Z is 05:30 in Kolkata: the agent's clock really is in that zone.
    assert_eq!(
        run(clean.clone().time_zone("Asia/Kolkata")).expect("run"),
        "tz=Asia/Kolkata hour=0530"
    );
    assert_eq!(
        run(clean.clone().time_zone("UTC")).expect("run"),
        "tz=UTC hour=0000"
    );
    std::fs::remove_file(&marker).expect("the agent ran");
    for bad in [
        "Europe/Berlinn",
        "../../etc/passwd",
        "/etc/localtime",
        "",
        "Europe/ Paris",
    ] {
        let err = run(clean.clone().time_zone(bad)).expect_err(bad);
        assert!(matches!(err, Error::InvalidInput(_)), "{bad}: {err:?}");
        assert!(err.to_string().contains("Europe/Berlin or UTC"), "{err}");
        assert!(!marker.exists(), "{bad}: the agent ran");
    }
}

/// `wait` takes the handle, so a server ending a run from another request signals through a
/// signaller: it reaches the agent while `wait` blocks (piped and PTY alike), and once the
/// agent is reaped it does nothing.
#[test]
fn a_signaller_ends_a_run_another_thread_waits_for() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ringlet = builder(dir.path()).build().expect("build");
    let agent = agent_script(dir.path(), "long.sh", "echo up\nexec sleep 300\n");
    profile(&ringlet, "long", &agent);
    for options in [
        RunOptions::embedded().piped(),
        RunOptions::embedded().pty(24, 80),
    ] {
        let mut handle = ringlet
            .start("long", &[], options.working_dir(dir.path()))
            .expect("start");
        // Started and past `echo`: the signal is for `sleep`, not a shell still starting.
        let mut out = match handle.take_output() {
            Some(piped) => Output::of(piped.stdout),
            None => Output::of(handle.pty().expect("pty").reader().expect("reader")),
        };
        out.wait_for("up");
        let signaller = handle.signaller().expect("a signaller");
        let waiter = thread::spawn(move || handle.wait());
        thread::sleep(Duration::from_millis(100));
        assert!(!waiter.is_finished(), "the agent ended by itself");
        signaller.signal(15).expect("SIGTERM from another thread");
        let outcome = waiter.join().expect("waiter").expect("wait");
        assert_eq!(outcome.exit_code, 128 + 15);
        signaller
            .signal(9)
            .expect("a signal after the agent was reaped does nothing");
    }
}

/// `wait` takes the handle, so a caller resizing the terminal meanwhile (a Node binding awaits
/// `wait()` on a worker while the page resizes) uses a resizer: the agent sees the new size
/// while another thread waits for it.
#[test]
fn a_resizer_resizes_a_run_another_thread_waits_for() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ringlet = builder(dir.path()).build().expect("build");
    let agent = agent_script(
        dir.path(),
        "winch.sh",
        r#"trap 'echo "winch $(stty size)"; exit 3' WINCH
echo up
while :; do sleep 1; done
"#,
    );
    profile(&ringlet, "winch", &agent);
    let handle = ringlet
        .start(
            "winch",
            &[],
            RunOptions::embedded().pty(24, 80).working_dir(dir.path()),
        )
        .expect("start");
    let mut out = Output::of(handle.pty().expect("pty").reader().expect("reader"));
    out.wait_for("up");
    let resizer = handle.resizer().expect("a PTY run has a resizer");
    let waiter = thread::spawn(move || handle.wait());
    resizer.resize(40, 120).expect("resize while waiting");
    out.wait_for("winch 40 120");
    let outcome = waiter.join().expect("waiter").expect("wait");
    assert_eq!(outcome.exit_code, 3);

    let piped = ringlet
        .start(
            "winch",
            &[],
            RunOptions::embedded().piped().working_dir(dir.path()),
        )
        .expect("start");
    assert!(piped.resizer().is_none(), "a piped run has no terminal");
    piped.signal(9).expect("kill");
    piped.wait().expect("wait");
}
