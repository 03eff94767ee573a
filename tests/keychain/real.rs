//! Against the real Secret Service: every key operation, persistence across processes,
//! profiles sharing a key, migration from the file, and a locked keyring.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{
    Cleanup, create_profile, credentials_file, keychain_sandbox, keyring_exclusive, keyring_shared,
    run_profile, secret_service_items, session_bus, unique_alias, write_config,
};

#[test]
fn set_replace_list_and_remove_in_the_real_keychain() {
    let Some(bus) = session_bus("set_replace_list_and_remove_in_the_real_keychain") else {
        return;
    };
    let _shared = keyring_shared();
    let alias = unique_alias("crud");
    let account = format!("anthropic/{alias}");
    let mut cleanup = Cleanup::new(&bus);
    cleanup.add("anthropic", &alias);
    let mut sb = keychain_sandbox(&bus);
    sb.env("K1", "sk-real-first").env("K2", "sk-real-second");

    let set = sb
        .run(["keychain", "set", "anthropic", &alias, "--from-env", "K1"])
        .ok();
    assert!(
        set.stderr
            .contains(&format!("Stored key {account} (system backend).")),
        "{}",
        set.stderr
    );
    assert!(set.warnings().is_empty(), "no fallback: {}", set.stderr);
    assert_eq!(
        secret_service_items(&bus, &account),
        1,
        "one Secret Service item"
    );
    assert!(
        !credentials_file(&sb).exists(),
        "the keychain backend writes no credentials file"
    );

    sb.run(["keychain", "set", "anthropic", &alias, "--from-env", "K2"])
        .fails_with("--replace");
    sb.run([
        "keychain",
        "set",
        "anthropic",
        &alias,
        "--from-env",
        "K2",
        "--replace",
    ])
    .ok();
    assert_eq!(
        secret_service_items(&bus, &account),
        1,
        "replacing updates the item instead of adding one"
    );

    let list = sb.run(["keychain", "list", "--json"]).ok().json();
    let entry = serde_json::json!({"provider": "anthropic", "alias": alias});
    assert!(
        list.as_array().expect("array").contains(&entry),
        "{list} lacks {entry}"
    );
    let human = sb.run(["keychain", "list"]).ok();
    assert!(
        human.stdout.lines().any(|l| l == account),
        "{}",
        human.stdout
    );

    sb.run(["keychain", "remove", "anthropic", &alias]).ok();
    assert_eq!(secret_service_items(&bus, &account), 0, "the item is gone");
    sb.run(["keychain", "remove", "anthropic", &alias])
        .fails_with(&format!("no key stored for {account} (backend: system)"));
    let list = sb.run(["keychain", "list", "--json"]).ok().json();
    assert!(!list.as_array().expect("array").contains(&entry));
}

/// Twenty processes store a key under one alias at once, without `--replace`. The Secret
/// Service cannot create an item only if it is absent, so ringlet makes the check and the
/// write under a lock file: exactly one process stores its key, the others are refused, and
/// the keychain holds one item with the winner's key.
#[test]
fn concurrent_sets_of_one_alias_store_exactly_one_key_in_the_keychain() {
    let Some(bus) =
        session_bus("concurrent_sets_of_one_alias_store_exactly_one_key_in_the_keychain")
    else {
        return;
    };
    let _shared = keyring_shared();
    let alias = unique_alias("race");
    let account = format!("anthropic/{alias}");
    let mut cleanup = Cleanup::new(&bus);
    cleanup.add("anthropic", &alias);
    let mut sb = keychain_sandbox(&bus);
    for i in 0..20 {
        sb.env(&format!("K{i}"), format!("sk-racer-{i}"));
    }
    let children: Vec<_> = (0..20)
        .map(|i| {
            sb.command([
                "keychain",
                "set",
                "anthropic",
                &alias,
                "--from-env",
                &format!("K{i}"),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ringlet starts")
        })
        .collect();
    let runs: Vec<ringlet_tests::harness::Run> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("ringlet ends").into())
        .collect();
    let winners: Vec<usize> = (0..20).filter(|&i| runs[i].code == 0).collect();
    assert_eq!(winners.len(), 1, "exactly one stores the key: {runs:#?}");
    assert!(
        runs[winners[0]]
            .stderr
            .contains(&format!("Stored key {account} (system backend).")),
        "{}",
        runs[winners[0]].stderr
    );
    for (i, run) in runs.into_iter().enumerate() {
        if i != winners[0] {
            run.fails_with(&format!(
                "a key is already stored for {account}; pass --replace"
            ));
        }
    }
    assert_eq!(secret_service_items(&bus, &account), 1, "one item");
    create_profile(&sb, "raced", &alias);
    let record = sb.root().join("record.json");
    assert_eq!(
        run_profile(&sb, "raced", &record).1,
        Some(format!("sk-racer-{}", winners[0])),
        "the winner's key is the one kept"
    );
}

#[test]
fn a_key_stored_by_one_process_reaches_agents_started_by_others() {
    let Some(bus) = session_bus("a_key_stored_by_one_process_reaches_agents_started_by_others")
    else {
        return;
    };
    let _shared = keyring_shared();
    let alias = unique_alias("shared");
    let mut cleanup = Cleanup::new(&bus);
    cleanup.add("anthropic", &alias);
    let mut sb = keychain_sandbox(&bus);
    sb.env("K", "sk-persisted-one")
        .env("K2", "sk-persisted-two");

    // Process 1 stores the key; it exits, and nothing but the keychain holds it.
    sb.run(["keychain", "set", "anthropic", &alias, "--from-env", "K"])
        .ok();
    // Two profiles, created by two more processes, share the alias.
    create_profile(&sb, "first", &alias);
    let second = create_profile(&sb, "second", &alias);
    assert!(
        !second.stderr.contains("no key stored"),
        "the stored key was found: {}",
        second.stderr
    );
    for profile in ["first", "second"] {
        let manifest = std::fs::read_to_string(sb.profile_dir(profile).join("profile.toml"))
            .expect("profile.toml");
        assert!(
            manifest.contains(&format!("key_alias = \"{alias}\"")),
            "{manifest}"
        );
    }

    // Two more processes run them; each agent receives the key from the keychain.
    let record = sb.root().join("record.json");
    for profile in ["first", "second"] {
        let (run, key) = run_profile(&sb, profile, &record);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(key.as_deref(), Some("sk-persisted-one"), "{profile}");
        assert!(run.warnings().is_empty(), "{}", run.stderr);
    }
    assert!(!credentials_file(&sb).exists());

    // A rotation reaches both.
    sb.run([
        "keychain",
        "set",
        "anthropic",
        &alias,
        "--from-env",
        "K2",
        "--replace",
    ])
    .ok();
    for profile in ["first", "second"] {
        assert_eq!(
            run_profile(&sb, profile, &record).1.as_deref(),
            Some("sk-persisted-two")
        );
    }

    // Removed from the keychain: the run is refused, naming the command that adds it.
    sb.run(["keychain", "remove", "anthropic", &alias]).ok();
    let (run, key) = run_profile(&sb, "first", &record);
    assert_ne!(run.code, 0);
    assert_eq!(key, None);
    assert!(
        run.stderr.contains(&format!(
            "no API key stored for anthropic/{alias} (backend: system)"
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn migrate_moves_file_keys_into_the_keychain() {
    let Some(bus) = session_bus("migrate_moves_file_keys_into_the_keychain") else {
        return;
    };
    let _shared = keyring_shared();
    let moved = unique_alias("moved");
    let present = unique_alias("present");
    let conflict = unique_alias("conflict");
    let mut cleanup = Cleanup::new(&bus);
    for a in [&moved, &present, &conflict] {
        cleanup.add("anthropic", a);
    }
    cleanup.add("openai", &moved);
    let mut sb = keychain_sandbox(&bus);
    sb.env("MOVED", "sk-mig-moved")
        .env("MOVED_OAI", "sk-mig-moved-openai")
        .env("SAME", "sk-mig-same")
        .env("FILE_SIDE", "sk-mig-file-side")
        .env("KEYCHAIN_SIDE", "sk-mig-keychain-side");

    // In the keychain first: one key identical to the file's, one different.
    sb.run([
        "keychain",
        "set",
        "anthropic",
        &present,
        "--from-env",
        "SAME",
    ])
    .ok();
    sb.run([
        "keychain",
        "set",
        "anthropic",
        &conflict,
        "--from-env",
        "KEYCHAIN_SIDE",
    ])
    .ok();

    // Then in the file, through the file backend.
    write_config(&sb, "[credentials]\nbackend = \"file\"\n");
    for (provider, alias, var) in [
        ("anthropic", &moved, "MOVED"),
        ("openai", &moved, "MOVED_OAI"),
        ("anthropic", &present, "SAME"),
        ("anthropic", &conflict, "FILE_SIDE"),
    ] {
        sb.run(["keychain", "set", provider, alias, "--from-env", var])
            .ok();
    }
    sb.run(["keychain", "migrate"])
        .fails_with("set `[credentials] backend = \"system\"`");
    create_profile(&sb, "mover", &moved);

    // Back on the keychain: before migrating, the run says where the key is and what to do.
    write_config(&sb, "[credentials]\nbackend = \"system\"\n");
    let record = sb.root().join("record.json");
    let (run, _) = run_profile(&sb, "mover", &record);
    assert!(
        run.stderr
            .contains("move it there with `ringlet keychain migrate`"),
        "{}",
        run.stderr
    );

    let out = sb.run(["keychain", "migrate", "--json"]);
    assert_eq!(
        out.code, 1,
        "a conflict is a partial migration: {}",
        out.stderr
    );
    let report = out.json();
    assert_eq!(report["counts"]["moved"], 2, "{report}");
    assert_eq!(report["counts"]["already_present"], 1, "{report}");
    assert_eq!(report["counts"]["conflicts"], 1, "{report}");
    assert_eq!(
        report["conflicts"],
        serde_json::json!([{"provider": "anthropic", "alias": conflict}])
    );
    assert!(out.stderr.contains("keychain remove"), "{}", out.stderr);

    // The file keeps only the conflict; the keychain has the rest, and agents get them.
    let file = std::fs::read_to_string(credentials_file(&sb)).expect("file");
    assert!(file.contains("sk-mig-file-side"), "{file}");
    for gone in ["sk-mig-moved", "sk-mig-same"] {
        assert!(!file.contains(gone), "{gone} left in the file: {file}");
    }
    for account in [
        format!("anthropic/{moved}"),
        format!("openai/{moved}"),
        format!("anthropic/{present}"),
    ] {
        assert_eq!(secret_service_items(&bus, &account), 1, "{account}");
    }
    assert_eq!(
        run_profile(&sb, "mover", &record).1.as_deref(),
        Some("sk-mig-moved")
    );

    // Keep the file's side of the conflict: remove the keychain's, migrate again.
    sb.run(["keychain", "remove", "anthropic", &conflict]).ok();
    let out = sb.run(["keychain", "migrate"]).ok();
    assert!(out.stdout.starts_with("Moved 1 key(s)"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains(&format!("moved     anthropic/{conflict}"))
    );
    let file = std::fs::read_to_string(credentials_file(&sb)).expect("file");
    assert!(
        !file.contains("sk-mig"),
        "the file is empty of keys: {file}"
    );
    create_profile(&sb, "conflicted", &conflict);
    assert_eq!(
        run_profile(&sb, "conflicted", &record).1.as_deref(),
        Some("sk-mig-file-side")
    );
}

/// Locks the login keyring through the Secret Service API, checks that ringlet reports it
/// (and does not quietly fall back to the file), then restarts the keyring daemon unlocked
/// and checks the key survived (it was persisted on disk by the daemon, not held by ringlet).
/// Only where tests/run.sh says the keyring is a disposable one it created.
#[test]
fn a_locked_keyring_is_reported_and_the_key_survives_a_daemon_restart() {
    let Some(bus) =
        session_bus("a_locked_keyring_is_reported_and_the_key_survives_a_daemon_restart")
    else {
        return;
    };
    let Ok(password) = std::env::var("RINGLET_TEST_KEYRING_PASSWORD") else {
        let _ = writeln!(
            std::io::stderr(),
            "skipping the locked-keyring test: RINGLET_TEST_KEYRING_PASSWORD is unset, so this keyring is not a disposable one (tests/run.sh makes one)"
        );
        return;
    };
    let _exclusive = keyring_exclusive();
    let alias = unique_alias("locked");
    let mut cleanup = Cleanup::new(&bus);
    cleanup.add("anthropic", &alias);
    let mut sb = keychain_sandbox(&bus);
    sb.env("K", "sk-survives-restart");
    sb.run(["keychain", "set", "anthropic", &alias, "--from-env", "K"])
        .ok();
    create_profile(&sb, "locked", &alias);

    let collection = dbus_call(
        &bus,
        &["org.freedesktop.Secret.Service.ReadAlias", "string:default"],
    )
    .lines()
    .find_map(|l| {
        l.trim()
            .strip_prefix("object path \"")
            .map(|p| p.trim_end_matches('"').to_string())
    })
    .expect("a default collection");
    dbus_call(
        &bus,
        &[
            "org.freedesktop.Secret.Service.Lock",
            &format!("array:objpath:{collection}"),
        ],
    );

    let list = sb.run(["keychain", "list", "--json"]);
    let err: serde_json::Value =
        serde_json::from_str(list.stderr.lines().last().expect("an error line"))
            .expect("JSON error");
    assert_eq!(err["error"]["code"], "keychain_locked", "{}", list.stderr);
    let record = sb.root().join("record.json");
    let (run, key) = run_profile(&sb, "locked", &record);
    assert_ne!(run.code, 0);
    assert_eq!(key, None);
    assert!(
        run.stderr.contains("the system keychain is locked") && run.stderr.contains("unlock it"),
        "{}",
        run.stderr
    );
    assert!(
        !credentials_file(&sb).exists(),
        "no silent fallback to the file"
    );

    // Restart the daemon unlocked (its keyring files stay where tests/run.sh put them).
    let mut daemon = Command::new("gnome-keyring-daemon")
        .args(["--replace", "--unlock", "--components=secrets"])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("gnome-keyring-daemon starts");
    daemon
        .stdin
        .take()
        .expect("stdin")
        .write_all(password.as_bytes())
        .expect("password");
    assert!(daemon.wait().expect("daemon forks").success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let key = loop {
        let (run, key) = run_profile(&sb, "locked", &record);
        if run.code == 0 || Instant::now() > deadline {
            break key;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(key.as_deref(), Some("sk-survives-restart"));
}

fn dbus_call(bus: &std::ffi::OsString, method_and_args: &[&str]) -> String {
    let out = Command::new("dbus-send")
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
        ])
        .args(method_and_args)
        .output()
        .expect("dbus-send runs");
    assert!(
        out.status.success(),
        "{method_and_args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
