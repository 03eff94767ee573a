//! Job control in a real interactive shell: the agent runs as its own process group, in the
//! terminal's foreground; Ctrl-Z stops the run as one job (the shell gets the terminal back),
//! `fg` resumes it with the agent in the foreground again, and Ctrl-C reaches the agent.

use std::path::Path;
use std::time::{Duration, Instant};

use ringlet_tests::harness::{Sandbox, fake_agent_bin};

use crate::terminal::{Terminal, tmux};

/// Field `n` (1-based, as in proc(5)) of `/proc/<pid>/stat`.
fn stat_field(pid: i32, n: usize) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(") ")?;
    rest.split(' ').nth(n - 3).map(str::to_string)
}

/// Waits until `pid`'s state (`R`, `S`, `T`, …) satisfies `want`.
fn wait_state(pid: i32, what: &str, want: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let state = stat_field(pid, 3).unwrap_or_default();
        if want(&state) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: process {pid} is in state {state:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn pids(file: &Path) -> (i32, i32) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(text) = std::fs::read_to_string(file)
            && let Some((a, c)) = text.split_once(' ')
            && let (Ok(a), Ok(c)) = (a.parse(), c.parse())
        {
            return (a, c);
        }
        assert!(Instant::now() < deadline, "the agent never started");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn ctrl_z_suspends_the_run_as_one_job_and_fg_resumes_it_in_the_foreground() {
    let Some(tmux) = tmux() else {
        return;
    };
    let mut sb = Sandbox::new();
    sb.env("TEST_KEY", "sk-e2e-jobs");
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
    let ringlet = ringlet_tests::harness::ringlet_bin();
    let bash = std::ffi::OsString::from("bash");
    let argv = [bash, "--norc".into(), "--noprofile".into(), "-i".into()];
    let term = Terminal::start_program(tmux, &sb, &argv, &[("PS1", "READY> ")]);
    term.wait_for(&["READY>"]);

    let file = sb.root().join("pids");
    term.send(&[
        "-l",
        &format!(
            "'{}' profiles run work -- --spawn-child '{}' --sleep-ms 600000",
            ringlet.display(),
            file.display()
        ),
    ]);
    term.send(&["Enter"]);
    let (agent, child) = pids(&file);
    // The agent leads its own group, and that group has the terminal.
    assert_eq!(stat_field(agent, 5), Some(agent.to_string()), "pgrp");
    let deadline = Instant::now() + Duration::from_secs(30);
    while stat_field(agent, 8) != Some(agent.to_string()) {
        assert!(
            Instant::now() < deadline,
            "the agent's group never became the terminal's foreground group"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    term.send(&["C-z"]);
    let (_, screen) = term.wait_for(&["Stopped"]);
    wait_state(agent, "the agent after Ctrl-Z", |s| s == "T");
    assert!(screen.contains("Stopped"), "{screen}");
    // The shell has the terminal again: it answers.
    term.send(&["-l", "echo still-here"]);
    term.send(&["Enter"]);
    term.wait_for(&["\nstill-here"]);

    term.send(&["-l", "fg"]);
    term.send(&["Enter"]);
    wait_state(agent, "the agent after fg", |s| s != "T");
    let deadline = Instant::now() + Duration::from_secs(30);
    while stat_field(agent, 8) != Some(agent.to_string()) {
        assert!(
            Instant::now() < deadline,
            "after fg the agent's group is not the terminal's foreground group"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // Ctrl-C goes to the foreground group: the agent (and its child) end, and so does the run.
    term.send(&["C-c"]);
    // Typed while the run still ends, this waits in the terminal for the shell.
    term.send(&["-l", "echo rc=$?"]);
    term.send(&["Enter"]);
    let (_, screen) = term.wait_for(&["\nrc="]);
    assert!(screen.contains("rc=130"), "{screen}");
    wait_state(agent, "the agent after Ctrl-C", |s| {
        s.is_empty() || s == "Z"
    });
    wait_state(child, "the agent's child after Ctrl-C", |s| {
        s.is_empty() || s == "Z"
    });
}
