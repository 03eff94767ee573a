use ringlet_tests::harness::Sandbox;

use crate::KEY;

#[test]
fn set_list_replace_remove_never_print_the_key() {
    let mut sb = Sandbox::new();
    sb.env("K1", KEY).env("K2", "sk-second");
    let out = sb
        .run(["keychain", "set", "anthropic", "work", "--from-env", "K1"])
        .ok();
    assert!(out.stderr.contains("anthropic/work"));
    sb.run(["keychain", "set", "anthropic", "work", "--from-env", "K2"])
        .fails_with("--replace");
    sb.run([
        "keychain",
        "set",
        "anthropic",
        "work",
        "--from-env",
        "K2",
        "--replace",
    ])
    .ok();
    sb.run(["keychain", "set", "openai", "default", "--from-env", "K1"])
        .ok();
    let list = sb.run(["keychain", "list", "--json"]).ok();
    assert_eq!(
        list.json(),
        serde_json::json!([
            {"provider": "anthropic", "alias": "work"},
            {"provider": "openai", "alias": "default"}
        ])
    );
    let human = sb.run(["keychain", "list"]).ok();
    assert_eq!(human.stdout, "anthropic/work\nopenai/default\n");
    sb.run(["keychain", "remove", "openai", "default"]).ok();
    sb.run(["keychain", "remove", "openai", "default"])
        .fails_with("no key stored for openai/default");
    sb.run(["keychain", "set", "nosuch", "x", "--from-env", "K1"])
        .fails_with("unknown provider");
    sb.run(["keychain", "set", "anthropic", "x"])
        .fails_with("--from-env");
    for out in [&list, &human] {
        assert!(!out.stdout.contains(KEY) && !out.stderr.contains(KEY));
    }
}

#[test]
fn a_different_key_for_an_existing_alias_is_not_overwritten_by_create() {
    let mut sb = Sandbox::new();
    sb.env("K1", KEY).env("K2", "sk-other");
    sb.run(["keychain", "set", "anthropic", "shared", "--from-env", "K1"])
        .ok();
    sb.run([
        "profiles",
        "create",
        "claude",
        "p",
        "--provider",
        "anthropic",
        "--key-alias",
        "shared",
        "--key-from-env",
        "K2",
    ])
    .fails_with("a different key is already stored for anthropic/shared");
    assert!(!sb.profile_dir("p").exists());
}
