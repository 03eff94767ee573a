//! An embedding (a Python or Node binding, a server) is not the `ringlet` binary, and may run
//! where no `ringlet` is on PATH: then agents have nothing to call back through for hooks, and
//! a profile's pre-tool-use gates could not apply. Starting such a run must fail (fail closed)
//! instead of running the agent ungated; told the program with `RingletBuilder::hook_program`,
//! it starts.
//!
//! The hook program is looked for on this process's PATH, which a test cannot change for
//! itself without `unsafe`: the test runs itself again as a child process with a PATH that has
//! no `ringlet` on it, and the child does the checks.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use ringlet::{Error, MemoryCredentialStore, NewHook, NewProfile, Ringlet, RunOptions};

/// Set in the child run of the test.
const CHILD: &str = "RINGLET_TEST_EMBEDDING_CHILD";
const PATH_WITHOUT_RINGLET: &str = "/usr/bin:/bin";

#[test]
fn an_embedding_without_a_hook_transport_refuses_to_run_a_gated_profile() {
    if std::env::var_os(CHILD).is_none() {
        let exe = std::env::current_exe().expect("this test's executable");
        let out = Command::new(exe)
            .args([
                "--exact",
                "an_embedding_without_a_hook_transport_refuses_to_run_a_gated_profile",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .env("PATH", PATH_WITHOUT_RINGLET)
            .output()
            .expect("run the test again as a child");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "the child run failed:\n{text}");
        // Guards against a child that ran no test (a renamed test filters to nothing).
        assert!(text.contains("1 passed"), "the child ran no test:\n{text}");
        return;
    }
    in_the_child();
}

fn agent_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).expect("write the agent");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

fn in_the_child() {
    // The premise: nothing named `ringlet` to find, and this process is not one.
    let exe = std::env::current_exe().expect("exe");
    assert_ne!(exe.file_stem().and_then(|s| s.to_str()), Some("ringlet"));
    for dir in std::env::split_paths(&std::env::var_os("PATH").expect("PATH")) {
        assert!(
            !dir.join("ringlet").exists(),
            "{} holds a ringlet; this test needs a PATH without one",
            dir.display()
        );
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("ringlet");
    let marker = dir.path().join("agent-ran");
    let agent = agent_script(
        dir.path(),
        "agent.sh",
        &format!("touch '{}'\nexit 0\n", marker.display()),
    );
    let build = |hook_program: Option<&Path>| {
        let mut b = Ringlet::builder()
            .home(&home)
            .credential_store(Arc::new(MemoryCredentialStore::default()));
        if let Some(p) = hook_program {
            b = b.hook_program(p);
        }
        b.build().expect("build")
    };
    let options = || RunOptions::embedded().piped().working_dir(dir.path());

    let ringlet = build(None);
    for alias in ["gated", "ungated"] {
        ringlet
            .create_profile(
                &NewProfile::new("codex", alias, "ollama").binary(&agent),
                None,
            )
            .expect("create");
    }
    ringlet
        .add_hook(&NewHook {
            profile: Some("gated".into()),
            event: "pre-tool-use".into(),
            shell: Some("exit 0".into()),
            ..NewHook::default()
        })
        .expect("add the gate");
    // Hooks that gate nothing need no transport: missing one only loses them, as before.
    ringlet
        .add_hook(&NewHook {
            profile: Some("ungated".into()),
            event: "stop".into(),
            shell: Some("true".into()),
            ..NewHook::default()
        })
        .expect("add a stop hook");
    let events = ringlet.subscribe();

    let err = ringlet
        .start("gated", &[], options())
        .expect_err("a gated profile without a hook transport must not start");
    assert!(
        matches!(&err, Error::HookTransportMissing { alias } if alias == "gated"),
        "{err:?}"
    );
    assert_eq!(err.code(), "hook_transport_missing");
    let message = err.to_string();
    assert!(
        message.contains("pre-tool-use") && message.contains("RingletBuilder::hook_program"),
        "{message}"
    );
    assert!(!marker.exists(), "the agent ran ungated");
    let plan = ringlet.plan_run("gated", &[]).expect("plan");
    for file in &plan.files {
        assert!(!file.path.exists(), "{} was written", file.path.display());
    }
    assert!(
        events.recv_timeout(Duration::from_millis(100)).is_err(),
        "a refused run is no run"
    );

    let outcome = ringlet
        .start("ungated", &[], options())
        .expect("no gate, no transport needed")
        .wait()
        .expect("wait");
    assert_eq!(outcome.exit_code, 0);
    std::fs::remove_file(&marker).expect("the ungated agent ran");

    // Told where the ringlet program is, the embedding runs the gated profile.
    let program = dir.path().join("bin/ringlet");
    let ringlet = build(Some(&program));
    let outcome = ringlet
        .start("gated", &[], options())
        .expect("a hook transport was given")
        .wait()
        .expect("wait");
    assert_eq!(outcome.exit_code, 0);
    assert!(marker.exists(), "the agent ran");
}
