//! Without a keychain: the `system` backend falls back to the 0600 file with one warning,
//! `system-only` refuses, `file` never warns, loose permissions are refused, and the audit
//! log records lookups by name only. None of these need a Secret Service, so they always run
//! (the harness gives `ringlet` no D-Bus session unless a test sets one).

use std::os::unix::fs::PermissionsExt;

use ringlet_tests::harness::Sandbox;

use crate::{create_profile, credentials_file, run_profile, write_config};

const KEY: &str = "sk-fallback-canary-51c2";

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn without_a_session_bus_keys_go_to_the_private_file_with_one_warning() {
    let mut sb = Sandbox::new();
    sb.env("K", KEY);

    // Commands that never touch a key never mention the keychain.
    let agents = sb.run(["agents", "list"]).ok();
    assert!(agents.warnings().is_empty(), "{}", agents.stderr);

    let set = sb
        .run(["keychain", "set", "anthropic", "work", "--from-env", "K"])
        .ok();
    let warnings = set.warnings();
    assert_eq!(warnings.len(), 1, "exactly one warning: {}", set.stderr);
    let w = warnings[0];
    for needle in [
        "no system keychain",
        "DBUS_SESSION_BUS_ADDRESS is not set",
        "credentials.toml",
        "apt install gnome-keyring",
        "backend = \"file\"",
    ] {
        assert!(w.contains(needle), "warning lacks {needle:?}: {w}");
    }
    assert!(
        set.stderr
            .contains("Stored key anthropic/work (file backend).")
    );

    let file = credentials_file(&sb);
    assert_eq!(mode(&file), 0o600, "a new credentials file is private");
    assert!(std::fs::read_to_string(&file).expect("read").contains(KEY));

    // Once told, the next commands are quiet for a day (a stamp in the data directory).
    let stamp = sb.ringlet_home().join("data/keychain-fallback-warned");
    assert!(stamp.is_file(), "the stamp records the warning");
    create_profile(&sb, "work", "work");
    let record = sb.root().join("record.json");
    let (run, key) = run_profile(&sb, "work", &record);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(key.as_deref(), Some(KEY));
    assert!(run.warnings().is_empty(), "told today: {}", run.stderr);

    // A day later it is told again, once, before the agent starts (the run uses the key
    // twice: to check the backend first, then to start the agent).
    let day_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        - 24 * 3600
        - 60;
    std::fs::write(&stamp, day_ago.to_string()).expect("age the stamp");
    let (run, key) = run_profile(&sb, "work", &record);
    assert_eq!(key.as_deref(), Some(KEY));
    assert_eq!(run.warnings().len(), 1, "{}", run.stderr);

    // `fallback-warning = "always"`: every command; with --json the warning is JSON too.
    write_config(&sb, "[credentials]\nfallback-warning = \"always\"\n");
    let list = sb.run(["keychain", "list", "--json"]).ok();
    assert_eq!(list.warnings().len(), 1, "{}", list.stderr);
    let w: serde_json::Value = serde_json::from_str(list.warnings()[0]).expect("JSON warning line");
    assert_eq!(w["warning"]["code"], "credentials_fallback");
    assert_eq!(
        list.json(),
        serde_json::json!([{"provider": "anthropic", "alias": "work"}])
    );
    // A command that meets the cause twice (a run checks the backend, then reads the key)
    // prints it once.
    let (run, _) = run_profile(&sb, "work", &record);
    assert_eq!(run.warnings().len(), 1, "{}", run.stderr);

    // `never`: never, whatever the stamp says.
    write_config(&sb, "[credentials]\nfallback-warning = \"never\"\n");
    std::fs::remove_file(&stamp).expect("rm stamp");
    let quiet = sb.run(["keychain", "list"]).ok();
    assert!(quiet.warnings().is_empty(), "{}", quiet.stderr);
    assert!(!stamp.exists());

    // Choosing the file on purpose silences it.
    write_config(&sb, "[credentials]\nbackend = \"file\"\n");
    let quiet = sb.run(["keychain", "list"]).ok();
    assert!(quiet.warnings().is_empty(), "{}", quiet.stderr);
    assert_eq!(quiet.stdout, "anthropic/work\n");
}

#[test]
fn an_unreachable_session_bus_falls_back_when_a_key_is_first_used() {
    let mut sb = Sandbox::new();
    let addr = format!("unix:path={}", sb.root().join("no-bus").display());
    sb.env("DBUS_SESSION_BUS_ADDRESS", &addr).env("K", KEY);
    ringlet_tests::harness::ringlet_bin(); // built before the clock starts
    let started = std::time::Instant::now();
    let set = sb
        .run(["keychain", "set", "openai", "default", "--from-env", "K"])
        .ok();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "a dead bus is given up on at once"
    );
    let warnings = set.warnings();
    assert_eq!(warnings.len(), 1, "{}", set.stderr);
    assert!(warnings[0].contains(&addr), "{}", warnings[0]);
    assert!(
        std::fs::read_to_string(credentials_file(&sb))
            .expect("file used")
            .contains(KEY)
    );
}

#[test]
fn system_only_refuses_to_run_without_a_keychain() {
    let mut sb = Sandbox::new();
    sb.env("K", KEY);
    write_config(&sb, "[credentials]\nbackend = \"system-only\"\n");
    sb.run(["profiles", "list"])
        .fails_with("the system keychain is not available: DBUS_SESSION_BUS_ADDRESS is not set");
    let out = sb.run(["keychain", "list", "--json"]);
    let err: serde_json::Value = serde_json::from_str(out.stderr.trim()).expect("JSON error");
    assert_eq!(err["error"]["code"], "keychain_unavailable");
    assert!(
        err["error"]["message"]
            .as_str()
            .expect("message")
            .contains("backend = \"file\""),
        "the error says how to get going: {err}"
    );

    // A session address that leads nowhere: refused at the first key operation, and the file
    // is never used as a quiet substitute.
    sb.env(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}", sb.root().join("no-bus").display()),
    );
    sb.run(["profiles", "list"]).ok();
    sb.run(["keychain", "set", "anthropic", "work", "--from-env", "K"])
        .fails_with("the system keychain is not available: cannot use a Secret Service");
    assert!(!credentials_file(&sb).exists());
    for f in sb.files() {
        let text = std::fs::read(sb.root().join(&f)).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&text).contains(KEY),
            "{}",
            f.display()
        );
    }
}

#[test]
fn the_credentials_file_must_stay_private() {
    let mut sb = Sandbox::new();
    sb.env("K", KEY);
    write_config(&sb, "[credentials]\nbackend = \"file\"\n");
    sb.run(["keychain", "set", "anthropic", "work", "--from-env", "K"])
        .ok();
    let file = credentials_file(&sb);
    assert_eq!(mode(&file), 0o600);
    create_profile(&sb, "work", "work");

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let expected = format!("fix it with `chmod 600 {}`", file.display());
    sb.run(["keychain", "list"]).fails_with(&expected);
    let record = sb.root().join("record.json");
    let (run, key) = run_profile(&sb, "work", &record);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
    assert_eq!(key, None, "the agent never started");
    assert!(!run.stderr.contains(KEY));

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let (run, key) = run_profile(&sb, "work", &record);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(key.as_deref(), Some(KEY));
}

#[test]
fn the_audit_log_records_each_lookup_by_name_only() {
    let mut sb = Sandbox::new();
    sb.env("K", KEY);
    write_config(
        &sb,
        "[credentials]\nbackend = \"file\"\naudit-log = \"audit/keys.jsonl\"\n",
    );
    sb.run(["keychain", "set", "anthropic", "work", "--from-env", "K"])
        .ok();
    create_profile(&sb, "work", "work");
    create_profile(&sb, "other", "other-alias");
    let record = sb.root().join("record.json");
    assert_eq!(run_profile(&sb, "work", &record).1.as_deref(), Some(KEY));
    let (missing, _) = run_profile(&sb, "other", &record);
    assert_ne!(missing.code, 0, "no key for other-alias");

    let log = sb.ringlet_home().join("config/audit/keys.jsonl");
    assert_eq!(mode(&log), 0o600);
    let text = std::fs::read_to_string(&log).expect("audit log");
    assert!(
        !text.contains(KEY),
        "the audit log never holds a key: {text}"
    );
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let lookup = |profile: &str| {
        lines
            .iter()
            .find(|l| l["op"] == "get" && l["profile"] == profile)
            .unwrap_or_else(|| panic!("no lookup for {profile}: {text}"))
    };
    let work = lookup("work");
    assert_eq!(work["provider"], "anthropic");
    assert_eq!(work["alias"], "work");
    assert_eq!(work["backend"], "file");
    assert_eq!(work["found"], true);
    assert!(work["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    let other = lookup("other");
    assert_eq!(other["alias"], "other-alias");
    assert_eq!(other["found"], false);
    assert!(
        lines
            .iter()
            .any(|l| l["op"] == "set" && l["alias"] == "work"),
        "{text}"
    );
}
