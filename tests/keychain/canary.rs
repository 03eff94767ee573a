//! The canary: one known key used through every keychain and profile command, including the
//! failing ones, must never appear in any output, in any file under RINGLET_HOME other than
//! the credential store, or in the audit log. The fake agent receiving it is the positive
//! control that proves the key really went through.

use ringlet_tests::harness::{Run, Sandbox, fake_agent_bin};

use crate::{
    Cleanup, credentials_file, keychain_sandbox, keyring_shared, run_profile, session_bus,
    unique_alias, write_config,
};

const CANARY: &str = "sk-keychain-canary-7f3a1e90";

#[test]
fn the_key_never_shows_up_anywhere_it_should_not() {
    let Some(bus) = session_bus("the_key_never_shows_up_anywhere_it_should_not") else {
        return;
    };
    let _shared = keyring_shared();
    let alias = unique_alias("canary");
    let filed = unique_alias("canary-file");
    let mut cleanup = Cleanup::new(&bus);
    cleanup.add("anthropic", &alias);
    cleanup.add("anthropic", &filed);
    let mut sb = keychain_sandbox(&bus);
    sb.env("CANARY", CANARY).env("OTHER", "sk-not-the-canary");
    let audit = sb.ringlet_home().join("audit.jsonl");
    let system_config = format!(
        "[credentials]\nbackend = \"system\"\naudit-log = \"{}\"\n",
        audit.display()
    );
    write_config(&sb, &system_config);
    let fake = fake_agent_bin().to_str().expect("utf-8").to_string();
    let record = sb.root().join("record.json");
    let mut outputs: Vec<(String, Run)> = Vec::new();
    let mut run = |sb: &Sandbox, args: &[&str]| outputs.push((args.join(" "), sb.run(args)));

    run(
        &sb,
        &[
            "keychain",
            "set",
            "anthropic",
            &alias,
            "--from-env",
            "CANARY",
        ],
    );
    run(
        &sb,
        &[
            "keychain",
            "set",
            "anthropic",
            &alias,
            "--from-env",
            "CANARY",
        ],
    );
    run(
        &sb,
        &[
            "keychain",
            "set",
            "anthropic",
            &alias,
            "--from-env",
            "OTHER",
        ],
    );
    run(
        &sb,
        &[
            "keychain",
            "set",
            "anthropic",
            &alias,
            "--from-env",
            "CANARY",
            "--replace",
        ],
    );
    run(&sb, &["keychain", "list"]);
    run(&sb, &["keychain", "list", "--json"]);
    run(
        &sb,
        &[
            "profiles",
            "create",
            "claude",
            "canary",
            "--provider",
            "anthropic",
            "--key-alias",
            &alias,
            "--key-from-env",
            "CANARY",
            "--binary",
            &fake,
        ],
    );
    run(
        &sb,
        &[
            "profiles",
            "create",
            "claude",
            "clash",
            "--provider",
            "anthropic",
            "--key-alias",
            &alias,
            "--key-from-env",
            "OTHER",
            "--binary",
            &fake,
        ],
    );
    run(
        &sb,
        &[
            "profiles",
            "create",
            "claude",
            "json",
            "--provider",
            "anthropic",
            "--key-alias",
            &alias,
            "--binary",
            &fake,
            "--json",
        ],
    );
    for args in [
        &["profiles", "list"][..],
        &["profiles", "list", "--json"],
        &["profiles", "inspect", "canary"],
        &["profiles", "inspect", "canary", "--json"],
        &["profiles", "env", "canary"],
        &["profiles", "env", "canary", "--json"],
    ] {
        run(&sb, args);
    }
    let (out, received) = run_profile(&sb, "canary", &record);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(received.as_deref(), Some(CANARY), "the positive control");
    let mut runs = vec![("profiles run canary".to_string(), out)];
    let (out, received) = run_profile(&sb, "json", &record);
    assert_eq!(received.as_deref(), Some(CANARY));
    runs.push(("profiles run json".into(), out));

    // Through the file and back into the keychain.
    write_config(
        &sb,
        &format!(
            "[credentials]\nbackend = \"file\"\naudit-log = \"{}\"\n",
            audit.display()
        ),
    );
    run(
        &sb,
        &[
            "keychain",
            "set",
            "anthropic",
            &filed,
            "--from-env",
            "CANARY",
        ],
    );
    run(&sb, &["keychain", "list", "--json"]);
    write_config(&sb, &system_config);
    run(&sb, &["keychain", "migrate"]);
    run(&sb, &["keychain", "migrate", "--json"]);
    run(&sb, &["keychain", "remove", "anthropic", &alias]);
    run(&sb, &["keychain", "remove", "anthropic", &alias]);
    let (out, received) = run_profile(&sb, "canary", &record);
    assert_eq!(received, None, "removed keys are not handed out");
    runs.push(("profiles run canary (removed)".into(), out));
    run(&sb, &["profiles", "delete", "canary", "--yes"]);
    outputs.extend(runs);

    // Sanity: the sweep did what it says (otherwise "nothing leaked" proves nothing).
    let expect_ok = |name: &str| {
        let (_, out) = outputs
            .iter()
            .find(|(n, _)| n.starts_with(name))
            .unwrap_or_else(|| panic!("{name} ran"));
        assert_eq!(out.code, 0, "{name}: {}", out.stderr);
    };
    for name in [
        "keychain set anthropic",
        "keychain list --json",
        "profiles create claude canary",
        "profiles env canary --json",
        "keychain migrate",
        "profiles run canary",
    ] {
        expect_ok(name);
    }
    let clash = &outputs
        .iter()
        .find(|(n, _)| n.contains("create claude clash"))
        .expect("clash ran")
        .1;
    assert!(
        clash.stderr.contains("a different key is already stored"),
        "{}",
        clash.stderr
    );

    for (name, out) in &outputs {
        assert!(
            !out.stdout.contains(CANARY) && !out.stderr.contains(CANARY),
            "`ringlet {name}` printed the key:\nstdout: {}\nstderr: {}",
            out.stdout,
            out.stderr
        );
        assert!(out.warnings().is_empty(), "{name}: {}", out.stderr);
    }

    let creds = credentials_file(&sb);
    let text = std::fs::read_to_string(&creds).unwrap_or_default();
    assert!(
        !text.contains(CANARY),
        "migrate left the key in the file: {text}"
    );
    let mut files = 0;
    for rel in sb.files() {
        let path = sb.root().join(&rel);
        if !path.starts_with(sb.ringlet_home()) || path == creds {
            continue;
        }
        files += 1;
        let bytes = std::fs::read(&path).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(CANARY),
            "{} holds the key",
            rel.display()
        );
    }
    assert!(
        files >= 3,
        "profiles, their HOMEs and the audit log were checked"
    );

    let log = std::fs::read_to_string(&audit).expect("audit log written");
    assert!(!log.contains(CANARY));
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert!(
        lines.iter().any(|l| l["op"] == "get"
            && l["profile"] == "canary"
            && l["backend"] == "system"
            && l["found"] == true),
        "the run's lookup is logged: {log}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["op"] == "delete" && l["backend"] == "file" && l["alias"] == filed),
        "migrate's removal from the file is logged: {log}"
    );
}
