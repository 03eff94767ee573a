//! Bad input: one clear line on stderr, a non-zero exit, nothing half-written.

use ringlet_tests::harness::{Sandbox, fake_agent_bin};

use crate::sandbox_with_profile;

fn create(sb: &Sandbox, args: &[&str]) -> ringlet_tests::harness::Run {
    let mut full = vec!["profiles", "create"];
    full.extend_from_slice(args);
    sb.run(full)
}

#[test]
fn unknown_agent_provider_endpoint_and_profile() {
    let sb = Sandbox::new();
    create(&sb, &["clod", "w", "--provider", "anthropic"])
        .fails_with("unknown agent 'clod'; known agents: claude, codex");
    create(&sb, &["claude", "w", "--provider", "anthropik"])
        .fails_with("unknown provider 'anthropik'");
    create(
        &sb,
        &["claude", "w", "--provider", "minimax", "--endpoint", "mars"],
    )
    .fails_with("has no endpoint 'mars'; its endpoints: china, international");
    sb.run(["profiles", "run", "nope"])
        .fails_with("profile 'nope' not found");
    sb.run(["profiles", "inspect", "nope"])
        .fails_with("ringlet profiles list");
    sb.run(["agents", "inspect", "nope"])
        .fails_with("unknown agent 'nope'");
    assert!(sb.files().is_empty(), "nothing written: {:?}", sb.files());
}

#[test]
fn incompatible_pairs_name_the_providers_that_work() {
    let sb = Sandbox::new();
    create(&sb, &["codex", "w", "--provider", "anthropic"])
        .fails_with("agent 'codex' speaks openai-responses but provider 'anthropic' serves anthropic; providers 'codex' can use:");
    create(&sb, &["gemini", "w", "--provider", "openai"]).fails_with("google");
    assert!(sb.files().is_empty());
}

#[test]
fn duplicate_and_hostile_aliases() {
    let sb = sandbox_with_profile();
    let before = sb.files();
    create(&sb, &["claude", "work", "--provider", "anthropic"]).fails_with(
        "profile 'work' already exists; pick another alias or delete it first with `ringlet profiles delete work`",
    );
    for bad in [
        "../escape",
        "..",
        ".hidden",
        "a/b",
        "tab\there",
        "new\nline",
        "\u{1b}[31mred",
        "",
    ] {
        let out = create(&sb, &["claude", bad, "--provider", "anthropic"]);
        let out = out.fails_with("invalid profile alias");
        assert!(
            !out.stderr.contains('\u{1b}'),
            "terminal escapes are neutralised"
        );
    }
    sb.run(["profiles", "run", "../../etc"])
        .fails_with("invalid profile alias");
    assert_eq!(sb.files(), before, "nothing was written");
    assert!(!sb.root().join("escape").exists());
}

#[test]
fn missing_key_names_the_command_that_adds_one() {
    let sb = Sandbox::new();
    let out = create(
        &sb,
        &[
            "claude",
            "w",
            "--provider",
            "anthropic",
            "--binary",
            fake_agent_bin().to_str().expect("utf-8"),
        ],
    )
    .ok();
    assert!(
        out.stderr.contains("ringlet keychain set anthropic w"),
        "{}",
        out.stderr
    );
    sb.run(["profiles", "run", "w"])
        .fails_with("no API key stored for anthropic/w (backend: file); add one with `ringlet keychain set anthropic w`");
    create(
        &sb,
        &[
            "claude",
            "x",
            "--provider",
            "anthropic",
            "--key-from-env",
            "UNSET_VAR",
        ],
    )
    .fails_with("UNSET_VAR is not set");
    assert!(!sb.profile_dir("x").exists());
}

#[test]
fn agent_not_installed() {
    let mut sb = Sandbox::new();
    sb.env("PATH", "/nonexistent").env("K", "sk-x");
    create(
        &sb,
        &[
            "claude",
            "w",
            "--provider",
            "anthropic",
            "--key-from-env",
            "K",
        ],
    )
    .ok();
    sb.run(["profiles", "run", "w"]).fails_with(
        "agent 'claude' is not installed: 'claude' was not found in PATH (/nonexistent); install it (npm install -g @anthropic-ai/claude-code@latest)",
    );
    create(
        &sb,
        &[
            "claude",
            "v",
            "--provider",
            "anthropic",
            "--key-from-env",
            "K",
            "--binary",
            "/opt/none/claude",
        ],
    )
    .ok();
    sb.run(["profiles", "run", "v"])
        .fails_with("'/opt/none/claude' was not found");
}

#[test]
fn corrupt_profile_toml_names_file_line_and_fix() {
    let sb = sandbox_with_profile();
    let path = sb.profile_dir("work").join("profile.toml");
    std::fs::write(&path, "alias = \"work\"\nagent = \n").expect("corrupt");
    let out = sb.run(["profiles", "run", "work"]);
    out.fails_with("profile.toml:2:");
    sb.run(["profiles", "inspect", "work"])
        .fails_with("ringlet profiles delete work");
    // Listing is no question about this profile: it is reported, not an error.
    let out = sb.run(["profiles", "list"]).ok();
    assert!(
        out.warnings()
            .iter()
            .any(|w| w.contains("profile.toml:2:") && w.contains("ringlet profiles delete work")),
        "{}",
        out.stderr
    );
    sb.run(["profiles", "delete", "work", "--yes"]).ok();
}

#[test]
fn corrupt_user_manifest_and_config() {
    let sb = Sandbox::new();
    sb.run(["init"]).ok();
    let agent = sb.ringlet_home().join("config/agents.d/bad.toml");
    std::fs::write(&agent, "id = \"bad\"\nspeaks = [\"smoke-signals\"]\n").expect("write");
    // One broken user manifest disables that agent only, with a warning naming the file and
    // line; every other command keeps working (a failing `hooks dispatch` would deny every
    // tool call of every agent).
    let listed = sb.run(["agents", "list"]).ok();
    assert!(
        listed.stderr.contains("agent 'bad' is disabled") && listed.stderr.contains("bad.toml:2:"),
        "{}",
        listed.stderr
    );
    assert!(listed.stdout.contains("claude"), "{}", listed.stdout);
    sb.run(["agents", "inspect", "bad"])
        .fails_with("agent 'bad' is disabled");
    std::fs::remove_file(&agent).expect("rm");
    let config = sb.ringlet_home().join("config/config.toml");
    std::fs::write(&config, "[credentials]\nbackend = \"carrier-pigeon\"\n").expect("write");
    sb.run(["profiles", "list"])
        .fails_with("config.toml: [credentials] backend 'carrier-pigeon'");
}

#[test]
fn loose_credentials_file_is_refused_with_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let sb = sandbox_with_profile();
    let creds = sb.ringlet_home().join("config/credentials.toml");
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    sb.run(["profiles", "run", "work"]).fails_with("chmod 600");
}

#[test]
fn bad_flags_are_rejected_before_anything_is_written() {
    let sb = Sandbox::new();
    create(&sb, &["claude", "w", "--provider", "custom"]).fails_with(
        "provider 'custom' has no built-in endpoint; give a custom endpoint URL; pass --custom-endpoint",
    );
    create(
        &sb,
        &[
            "claude",
            "w",
            "--provider",
            "custom",
            "--custom-endpoint",
            "ftp://x",
            "--model",
            "m",
        ],
    )
    .fails_with("must be an http:// or https:// URL");
    create(
        &sb,
        &[
            "claude",
            "w",
            "--provider",
            "custom",
            "--custom-endpoint",
            "http://x",
        ],
    )
    // The core's message names the field; the CLI's hint names its flag.
    .fails_with("provider 'custom' has no default model; pass --model");
    create(
        &sb,
        &[
            "claude",
            "w",
            "--provider",
            "anthropic",
            "--env",
            "NOEQUALS",
        ],
    )
    .fails_with("KEY=VALUE");
    create(
        &sb,
        &[
            "claude",
            "w",
            "--provider",
            "anthropic",
            "--env",
            "HOME=/tmp",
        ],
    )
    .fails_with("not HOME");
    create(
        &sb,
        &[
            "claude",
            "w",
            "--provider",
            "anthropic",
            "--working-dir",
            "/does/not/exist",
        ],
    )
    .fails_with("working directory /does/not/exist is not a directory; check --working-dir");
    assert!(sb.files().is_empty(), "{:?}", sb.files());
}

#[test]
fn json_mode_reports_errors_as_json() {
    let sb = Sandbox::new();
    let out = sb.run(["profiles", "inspect", "nope", "--json"]);
    assert_ne!(out.code, 0);
    let err: serde_json::Value = serde_json::from_str(out.stderr.trim()).expect("json error");
    assert_eq!(err["error"]["code"], "profile_not_found");
    assert_eq!(err["error"]["kind"], "not_found");
    assert_eq!(err["error"]["hint"], "see `ringlet profiles list`");
    assert_eq!(
        err["error"]["message"],
        "profile 'nope' not found; see `ringlet profiles list`"
    );
}

#[test]
fn custom_endpoints_are_parsed_as_urls() {
    let mut sb = Sandbox::new();
    sb.env("K", "sk-x");
    let custom = |url: &str| {
        create(
            &sb,
            &[
                "claude",
                "gw",
                "--provider",
                "custom",
                "--model",
                "m",
                "--key-from-env",
                "K",
                "--custom-endpoint",
                url,
                "--json",
            ],
        )
    };
    for (url, reason) in [
        ("http://", "not a valid URL"),
        ("https://[::1", "not a valid URL"),
        ("http://127.0.0.1:99999/", "invalid port number"),
        ("http://example.com\n/v1", "control character"),
        ("http://example.com/\u{1b}[2J", "control character"),
        ("ftp://example.com", "must be an http:// or https:// URL"),
        ("https://example.com/v1?x=1", "must not have a query"),
    ] {
        let out = custom(url).fails_with(reason);
        assert!(!out.stderr.contains('\u{1b}'), "{:?}", out.stderr);
    }
    // Credentials in the URL: refused, and never repeated or written anywhere.
    let out = custom("https://me:hunter2-pw@llm.example/v1").fails_with("user name or password");
    assert!(!out.stderr.contains("hunter2"), "{}", out.stderr);
    assert!(sb.files().is_empty(), "nothing written: {:?}", sb.files());

    // Upper-case scheme and host are URLs too.
    let p = custom("HTTP://EXAMPLE.COM/v1/").ok().json();
    assert_eq!(p["endpoint_url"], "http://example.com");

    // A URL edited into profile.toml by hand is checked on the way in.
    let manifest = sb.profile_dir("gw").join("profile.toml");
    let text = std::fs::read_to_string(&manifest).expect("read");
    let edited = text.replace("http://example.com", "http:");
    assert_ne!(text, edited);
    std::fs::write(&manifest, edited).expect("edit");
    sb.run(["profiles", "env", "gw"])
        .fails_with("endpoint_url 'http:' is not a valid URL");
}

#[test]
fn provider_manifest_endpoints_are_parsed_as_urls() {
    let sb = Sandbox::new();
    sb.run(["init"]).ok();
    let path = sb.ringlet_home().join("config/providers.d/gw.toml");
    std::fs::write(
        &path,
        "id = \"gw\"\nname = \"Gateway\"\n[endpoints.default]\nopenai-chat = \"https://[::1\"\n",
    )
    .expect("write");
    // The provider is disabled with a warning naming the file; the rest keep working.
    let listed = sb.run(["providers", "list"]).ok();
    assert!(
        listed.stderr.contains("provider 'gw' is disabled")
            && listed.stderr.contains(
                "gw.toml: endpoint 'default' (openai-chat): URL 'https://[::1' is not a valid URL"
            ),
        "{}",
        listed.stderr
    );
    sb.run(["providers", "inspect", "gw"])
        .fails_with("provider 'gw' is disabled");
}

#[test]
fn a_binary_that_is_a_directory_is_called_one() {
    let mut sb = Sandbox::new();
    sb.env("K", "sk-x");
    let tmp = sb.root().join("tmpdir");
    std::fs::create_dir(&tmp).expect("dir");
    let tmp = tmp.to_str().expect("utf-8").to_string();
    create(
        &sb,
        &[
            "claude",
            "d",
            "--provider",
            "anthropic",
            "--key-from-env",
            "K",
            "--binary",
            &tmp,
        ],
    )
    .fails_with(&format!(
        "binary '{tmp}' is a directory, not the agent's program; check --binary"
    ));
    assert!(!sb.profile_dir("d").exists());
    // A path that is not there yet is accepted; if a directory appears there, a run says so.
    let later = sb.root().join("later").to_str().expect("utf-8").to_string();
    create(
        &sb,
        &[
            "claude",
            "d",
            "--provider",
            "anthropic",
            "--key-from-env",
            "K",
            "--binary",
            &later,
        ],
    )
    .ok();
    std::fs::create_dir(&later).expect("dir");
    let out = sb.run(["profiles", "run", "d"]).fails_with(&format!(
        "'{later}' is a directory, not the agent's program"
    ));
    assert!(!out.stderr.contains("not found"), "{}", out.stderr);
}

#[test]
fn a_removed_working_dir_is_named_not_blamed_on_the_binary() {
    let sb = sandbox_with_profile();
    let dir = sb.root().join("project");
    std::fs::create_dir(&dir).expect("dir");
    create(
        &sb,
        &[
            "claude",
            "w",
            "--provider",
            "anthropic",
            "--key-alias",
            "work",
            "--working-dir",
            dir.to_str().expect("utf-8"),
            "--binary",
            fake_agent_bin().to_str().expect("utf-8"),
        ],
    )
    .ok();
    std::fs::remove_dir(&dir).expect("rmdir");
    let out = sb.run(["profiles", "run", "w"]).fails_with(&format!(
        "the working directory of profile 'w', {}, does not exist",
        dir.display()
    ));
    assert!(!out.stderr.contains("launching"), "{}", out.stderr);

    // The caller's own directory removed under it (no working dir in the profile).
    let gone = sb.root().join("gone");
    std::fs::create_dir(&gone).expect("dir");
    let script = format!(
        "cd '{}' && rmdir '{}' && exec \"$0\" profiles run work",
        gone.display(),
        gone.display()
    );
    let out: ringlet_tests::harness::Run = std::process::Command::new("sh")
        .args([
            "-c",
            &script,
            ringlet_tests::harness::ringlet_bin()
                .to_str()
                .expect("utf-8"),
        ])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", sb.root().join("user-home"))
        .env("RINGLET_HOME", sb.ringlet_home())
        .output()
        .expect("sh")
        .into();
    let out = out.fails_with("the current directory cannot be read");
    assert!(
        out.stderr.contains("cd to an existing directory"),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr.matches("os error 2").count(),
        1,
        "{}",
        out.stderr
    );
}

#[test]
fn each_cause_is_printed_once() {
    let sb = Sandbox::new();
    let profiles = sb.ringlet_home().join("data/profiles");
    std::fs::create_dir_all(profiles.parent().expect("parent")).expect("mkdir");
    std::fs::write(&profiles, "not a directory").expect("write");
    let out = sb.run(["profiles", "list"]).fails_with("Not a directory");
    let error = out
        .stderr
        .lines()
        .find(|l| l.starts_with("ringlet: error: "))
        .expect("an error line");
    assert_eq!(error.matches("os error 20").count(), 1, "{error}");
}

#[test]
fn a_huge_alias_is_not_echoed_whole() {
    let sb = Sandbox::new();
    let huge = "a".repeat(100_000);
    for args in [
        vec!["profiles", "inspect", &huge],
        vec!["profiles", "run", &huge],
        vec![
            "profiles",
            "create",
            "claude",
            &huge,
            "--provider",
            "anthropic",
        ],
        vec![
            "profiles",
            "create",
            "clod",
            &huge,
            "--provider",
            "anthropic",
        ],
    ] {
        let out = sb.run(&args).fails_with("invalid profile alias");
        assert!(out.stderr.len() < 1000, "{} bytes", out.stderr.len());
        assert!(
            out.stderr.contains(&format!("{}…", "a".repeat(64))),
            "{}",
            out.stderr
        );
    }
}

/// A failed command says its error first: warnings it gathered on the way (a key to add before
/// running the profile it did not create, the keychain fallback) never come before it, and
/// advice about what it would have created is not given at all.
#[test]
fn a_failed_command_says_its_error_first() {
    let sb = sandbox_with_profile();
    for json in [false, true] {
        let mut args = vec![
            "profiles",
            "create",
            "claude",
            "work",
            "--provider",
            "anthropic",
            "--key-alias",
            "unstored",
        ];
        if json {
            args.push("--json");
        }
        let out = sb.run(&args).fails_with("profile 'work' already exists");
        let first = out.stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("ringlet: error: ") || first.starts_with("{\"error\":"),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains("no key stored"), "{}", out.stderr);
    }
    // On success the advice is given, as a warning.
    let out = create(
        &sb,
        &[
            "claude",
            "fresh",
            "--provider",
            "anthropic",
            "--key-alias",
            "unstored",
        ],
    )
    .ok();
    assert!(
        out.warnings()
            .iter()
            .any(|w| w.contains("no key stored for anthropic/unstored")),
        "{}",
        out.stderr
    );
}
