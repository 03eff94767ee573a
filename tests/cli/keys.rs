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
        .fails_with("a key is already stored for anthropic/work; pass --replace to overwrite it");
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
    .fails_with("a different key is already stored for anthropic/shared; replace it with `ringlet keychain set anthropic shared --replace` or choose another --key-alias");
    assert!(!sb.profile_dir("p").exists());
}

/// Twenty processes store a key under one alias at once, without `--replace`: the existence
/// check and the write happen under the credentials file's lock, so exactly one stores its key
/// and every other one is refused, naming `--replace`, and the file keeps the winner's key.
#[test]
fn concurrent_sets_of_one_alias_store_exactly_one_key() {
    let mut sb = Sandbox::new();
    std::fs::create_dir_all(sb.ringlet_home().join("config")).expect("config dir");
    std::fs::write(
        sb.ringlet_home().join("config/config.toml"),
        "[credentials]\nbackend = \"file\"\n",
    )
    .expect("config.toml");
    for i in 0..20 {
        sb.env(&format!("K{i}"), format!("sk-racer-{i}"));
    }
    // Started together, waited for together.
    let children: Vec<_> = (0..20)
        .map(|i| {
            sb.command([
                "keychain",
                "set",
                "anthropic",
                "same",
                "--from-env",
                &format!("K{i}"),
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
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
            .contains("Stored key anthropic/same")
    );
    for (i, run) in runs.into_iter().enumerate() {
        if i != winners[0] {
            run.fails_with("a key is already stored for anthropic/same; pass --replace");
        }
    }
    let text = std::fs::read_to_string(sb.ringlet_home().join("config/credentials.toml"))
        .expect("credentials file");
    assert!(
        text.contains(&format!("\"sk-racer-{}\"", winners[0])),
        "the winner's key is the one kept"
    );
}
