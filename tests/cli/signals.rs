//! Signals sent to `ringlet profiles run` reach the agent's whole process group; after SIGTERM
//! nothing the agent started outlives the run; on a terminal the agent is the foreground job
//! while it runs and ringlet has the terminal back afterwards.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use ringlet_tests::harness::{Sandbox, fake_agent_bin, read_record, ringlet_bin};

/// `RunOptions::grace` by default: the group is SIGKILLed this long after SIGTERM.
const GRACE: Duration = Duration::from_secs(5);

fn sandbox() -> Sandbox {
    let mut sb = Sandbox::new();
    sb.env("TEST_KEY", crate::KEY);
    sb.run([
        "profiles",
        "create",
        "codex",
        "work",
        "--provider",
        "openai",
        "--model",
        "gpt-test",
        "--key-from-env",
        "TEST_KEY",
        "--binary",
        fake_agent_bin().to_str().expect("utf-8 path"),
    ])
    .ok();
    sb
}

/// Whether a process still runs (a zombie has ended: it only waits to be reaped).
/// Whether `pid` is gone within `limit`: a SIGKILLed process takes a moment to exit, and the
/// run waits for the agent only, not for its children, which the same SIGKILL ended.
fn gone_within(pid: i32, limit: Duration) -> bool {
    let until = Instant::now() + limit;
    while alive(pid) {
        if Instant::now() > until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Every live process whose process group is `pgrp`.
fn group_members(pgrp: i32) -> Vec<i32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...
        let Some((_, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let fields: Vec<&str> = rest.split(' ').collect();
        if fields.first() != Some(&"Z") && fields.get(2) == Some(&pgrp.to_string().as_str()) {
            out.push(pid);
        }
    }
    out
}

/// Waits for `--spawn-child` to write `<agent pid> <child pid>`.
fn pids(file: &Path) -> (i32, i32) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(file)
            && let Some((a, c)) = text.split_once(' ')
            && let (Ok(a), Ok(c)) = (a.parse(), c.parse())
        {
            return (a, c);
        }
        assert!(
            Instant::now() < deadline,
            "the agent never started its child"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn sigterm(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Waits for ringlet, killing it (and failing) after `limit`.
fn wait_within(mut child: Child, limit: Duration) -> i32 {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ringlet did not end within {limit:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn start(sb: &Sandbox, agent_args: &[&str]) -> Child {
    let mut args = vec!["profiles", "run", "work", "--"];
    args.extend_from_slice(agent_args);
    sb.command(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ringlet starts")
}

#[test]
fn sigterm_reaches_the_agents_group_and_what_ignores_it_is_killed_after_the_grace_period() {
    let sb = sandbox();
    let file = sb.root().join("pids");
    let file_arg = file.to_str().expect("utf-8");
    let ringlet = start(
        &sb,
        &[
            "--ignore-term",
            "--spawn-child",
            file_arg,
            "--sleep-ms",
            "120000",
        ],
    );
    let ringlet_pid = ringlet.id();
    let (agent, child) = pids(&file);
    assert!(alive(agent) && alive(child));
    let asked = Instant::now();
    sigterm(ringlet_pid);
    let code = wait_within(ringlet, GRACE + Duration::from_secs(15));
    let took = asked.elapsed();
    assert_eq!(code, 128 + 9, "the agent ignored SIGTERM and was killed");
    assert!(
        took >= GRACE,
        "killed after {took:?}, before the grace period ended"
    );
    assert!(!alive(agent), "the agent outlived the run");
    assert!(
        gone_within(child, Duration::from_secs(5)),
        "the agent's child outlived the run"
    );
    assert_eq!(group_members(agent), Vec::<i32>::new());
}

#[test]
fn an_agent_that_ends_on_sigterm_leaves_no_child_behind() {
    let sb = sandbox();
    let file = sb.root().join("pids");
    let file_arg = file.to_str().expect("utf-8");
    let ringlet = start(&sb, &["--spawn-child", file_arg, "--sleep-ms", "120000"]);
    let ringlet_pid = ringlet.id();
    let (agent, child) = pids(&file);
    sigterm(ringlet_pid);
    let code = wait_within(ringlet, GRACE + Duration::from_secs(15));
    assert_eq!(code, 128 + 15, "the agent's own end is reported");
    assert!(!alive(agent), "the agent outlived the run");
    assert!(
        gone_within(child, Duration::from_secs(5)),
        "a child that ignores SIGTERM outlived the run"
    );
}

#[test]
fn a_run_that_ends_by_itself_is_not_kept_waiting() {
    let sb = sandbox();
    let clock = Instant::now();
    let ringlet = start(&sb, &["--sleep-ms", "50", "--exit", "3"]);
    assert_eq!(wait_within(ringlet, Duration::from_secs(60)), 3);
    assert!(clock.elapsed() < GRACE, "{:?}", clock.elapsed());
}

#[test]
fn on_a_terminal_the_agent_is_the_foreground_job_and_ringlet_gets_the_terminal_back() {
    let mut sb = sandbox();
    let during = sb.root().join("during.json");
    let after = sb.root().join("after.json");
    sb.env("FAKE_AGENT_RECORD", &during);
    // util-linux `script` runs the line in a new session on a pseudo-terminal; `sh -c` does no
    // job control, so ringlet runs in the foreground group, and so does the fake agent started
    // after it — which can only read the terminal if ringlet handed it back.
    let quote = |p: &Path| format!("'{}'", p.display());
    let line = format!(
        "{} profiles run work -- --sleep-ms 100; FAKE_AGENT_RECORD={} {}",
        quote(ringlet_bin()),
        quote(&after),
        quote(fake_agent_bin()),
    );
    let listing = sb.command(["profiles", "run", "work"]);
    let mut cmd = std::process::Command::new("script");
    cmd.arg("-qec")
        .arg(&line)
        .arg("/dev/null")
        .env_clear()
        .current_dir(sb.root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in listing.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let out = cmd.output().expect("script(1) runs (util-linux)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let during = read_record(&during);
    assert_eq!(
        during["tty_foreground"], true,
        "the agent was not the terminal's foreground job: {during}"
    );
    assert_eq!(
        during["pgrp"], during["pid"],
        "the agent leads its own process group"
    );
    let after = read_record(&after);
    assert_eq!(
        after["tty_foreground"], true,
        "ringlet did not give the terminal back: {after}"
    );
}
