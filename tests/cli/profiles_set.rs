//! `ringlet profiles set`: editing a profile in place.

use ringlet_tests::harness::read_record;

use crate::{KEY, sandbox_with_profile};

#[test]
fn set_changes_what_the_next_run_gets_and_keeps_the_rest() {
    let mut sb = sandbox_with_profile();
    let record = sb.root().join("record.json");
    sb.env("FAKE_AGENT_RECORD", &record);
    sb.run(["profiles", "run", "work"]).ok();
    let before = sb
        .run(["profiles", "inspect", "work", "--json"])
        .ok()
        .json();

    let set = sb
        .run([
            "profiles",
            "set",
            "work",
            "--model",
            "claude-test-2",
            "--env",
            "EXTRA=1",
            "--env",
            "GONE=x",
            "--json",
            "--",
            "--default-arg",
        ])
        .ok()
        .json();
    assert_eq!(set["model"], "claude-test-2");
    assert_eq!(set["args"], serde_json::json!(["--default-arg"]));
    let set = sb
        .run(["profiles", "set", "work", "--unset-env", "GONE", "--json"])
        .ok()
        .json();
    assert_eq!(set["env"], serde_json::json!({"EXTRA": "1"}));
    // What --json printed is what is stored; identity, key and counts are untouched.
    let after = sb
        .run(["profiles", "inspect", "work", "--json"])
        .ok()
        .json();
    assert_eq!(set, after);
    for kept in [
        "alias",
        "agent",
        "provider",
        "shape",
        "key_alias",
        "metadata",
    ] {
        assert_eq!(after[kept], before[kept], "{kept}");
    }
    assert_eq!(after["metadata"]["total_runs"], 1);

    sb.run(["profiles", "run", "work", "--", "-p", "hi"]).ok();
    let rec = read_record(&record);
    assert_eq!(rec["env"]["ANTHROPIC_MODEL"], "claude-test-2");
    assert_eq!(rec["env"]["EXTRA"], "1");
    assert!(rec["env"].get("GONE").is_none());
    assert_eq!(
        rec["argv"],
        serde_json::json!(["--default-arg", "-p", "hi"])
    );
    assert_eq!(
        rec["env"]["ANTHROPIC_API_KEY"], KEY,
        "the key still resolves"
    );

    // --clear-args and --clear-binary undo; the human line names the profile.
    let out = sb
        .run([
            "profiles",
            "set",
            "work",
            "--clear-args",
            "--sandbox",
            "always",
        ])
        .ok();
    assert!(
        out.stderr.contains(
            "Updated profile 'work' (claude via anthropic, model claude-test-2, sandbox always)."
        ),
        "{}",
        out.stderr
    );
    let manifest =
        std::fs::read_to_string(sb.profile_dir("work").join("profile.toml")).expect("read");
    assert!(manifest.contains("sandbox = \"always\""), "{manifest}");
    assert!(!manifest.contains("args"), "{manifest}");
    let p = sb
        .run(["profiles", "set", "work", "--clear-binary", "--json"])
        .ok()
        .json();
    assert!(p.get("binary").is_none(), "{p}");
    assert_eq!(p["sandbox"], "always");
}

#[test]
fn bad_settings_are_one_error_and_change_nothing() {
    let sb = sandbox_with_profile();
    let manifest = sb.profile_dir("work").join("profile.toml");
    let before = std::fs::read(&manifest).expect("read");
    let file = sb.root().join("a-file");
    std::fs::write(&file, "").expect("file");
    let file = file.to_str().expect("utf-8");
    let cases: [(&[&str], &str); 8] = [
        (&[], "nothing to change in profile 'work'"),
        (
            &["--custom-endpoint", "https://user:pw@gw.example"],
            "custom endpoint must not hold a user name or password",
        ),
        (&["--endpoint", "china"], "china"),
        (
            &["--env", "HOME=/tmp"],
            "invalid environment variable name 'HOME': it must be non-empty, without '=' and not HOME; check --env",
        ),
        (&["--env", "NOEQUALS"], "--env 'NOEQUALS' must be KEY=VALUE"),
        (
            &["--unset-env", "NOT_SET"],
            "profile 'work' has no environment variable NOT_SET to unset; it sets none; check --unset-env",
        ),
        (
            &["--working-dir", file],
            "is not a directory; check --working-dir",
        ),
        (
            &["--model", "a\u{7}b"],
            "model 'a\\u{7}b' holds a control character; give the model's id, such as claude-sonnet-4-5; check --model",
        ),
    ];
    for (args, says) in cases {
        let mut argv = vec!["profiles", "set", "work"];
        argv.extend_from_slice(args);
        sb.run(&argv).fails_with(says);
        assert_eq!(
            std::fs::read(&manifest).expect("read"),
            before,
            "{args:?} changed profile.toml"
        );
    }
    sb.run(["profiles", "set", "nobody", "--model", "m"])
        .fails_with("profile 'nobody' not found");
    sb.run(["profiles", "set", "../x", "--model", "m"])
        .fails_with("../x");
    // Contradictions are refused before anything runs.
    let out = sb.run([
        "profiles",
        "set",
        "work",
        "--binary",
        "/bin/true",
        "--clear-binary",
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("cannot be used with"), "{}", out.stderr);

    // With --json the error is one JSON object naming its code.
    let out = sb.run([
        "profiles",
        "set",
        "work",
        "--unset-env",
        "NOT_SET",
        "--json",
    ]);
    assert_ne!(out.code, 0);
    let err: serde_json::Value = serde_json::from_str(out.stderr.trim()).expect("json error");
    assert_eq!(err["error"]["code"], "invalid_input");
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert_eq!(std::fs::read(&manifest).expect("read"), before);
}

#[test]
fn proxy_and_budgets_are_set_shown_and_cleared() {
    let sb = sandbox_with_profile();
    let shown = sb.run(["profiles", "inspect", "work"]).ok().stdout;
    assert!(shown.contains("proxy        off"), "{shown}");
    let set = sb
        .run([
            "profiles",
            "set",
            "work",
            "--proxy",
            "on",
            "--budget-day",
            "10",
            "--budget-month",
            "100",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(set["proxy"], "on");
    assert_eq!(
        set["budget"],
        serde_json::json!({"day": 10.0, "month": 100.0})
    );
    let shown = sb.run(["profiles", "inspect", "work"]).ok().stdout;
    assert!(shown.contains("proxy        on"), "{shown}");
    assert!(
        shown.contains("budget       day $10, month $100"),
        "{shown}"
    );
    // One budget changes, the other stays.
    let set = sb
        .run(["profiles", "set", "work", "--budget-day", "0.5", "--json"])
        .ok()
        .json();
    assert_eq!(
        set["budget"],
        serde_json::json!({"day": 0.5, "month": 100.0})
    );
    sb.run(["profiles", "set", "work", "--budget-day=-1"])
        .fails_with("budget day must be a number of dollars, 0 or more");
    let set = sb
        .run([
            "profiles",
            "set",
            "work",
            "--clear-budget",
            "--proxy",
            "off",
            "--json",
        ])
        .ok()
        .json();
    assert!(set.get("budget").is_none(), "{set}");
    assert!(
        set.get("proxy").is_none(),
        "off is the default, left out: {set}"
    );
}
