use std::os::unix::fs::PermissionsExt;

use ringlet_tests::harness::{Sandbox, fake_agent_bin, read_record};

use crate::{KEY, sandbox_with_profile};

#[test]
fn create_writes_profile_without_the_key_and_stores_key_0600() {
    let sb = sandbox_with_profile();
    let manifest =
        std::fs::read_to_string(sb.profile_dir("work").join("profile.toml")).expect("profile.toml");
    assert!(manifest.contains("agent = \"claude\""), "{manifest}");
    assert!(manifest.contains("key_alias = \"work\""), "{manifest}");
    assert!(!manifest.contains(KEY), "the key leaked into profile.toml");
    assert!(sb.profile_home("work").is_dir());
    let creds = sb.ringlet_home().join("config/credentials.toml");
    let mode = std::fs::metadata(&creds)
        .expect("credentials")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    assert!(std::fs::read_to_string(creds).expect("read").contains(KEY));
}

#[test]
fn list_and_inspect_have_stable_json() {
    let sb = sandbox_with_profile();
    let list = sb.run(["profiles", "list", "--json"]).ok().json();
    let p = &list[0];
    assert_eq!(p["alias"], "work");
    assert_eq!(p["agent"], "claude");
    assert_eq!(p["provider"], "anthropic");
    assert_eq!(p["shape"], "anthropic");
    assert_eq!(p["model"], "claude-test-1");
    assert_eq!(p["key_alias"], "work");
    assert_eq!(p["metadata"]["total_runs"], 0);
    let one = sb
        .run(["profiles", "inspect", "work", "--json"])
        .ok()
        .json();
    assert_eq!(&one, p);
    let table = sb.run(["profiles", "list"]).ok().stdout;
    assert!(table.starts_with("ALIAS"), "{table}");
    let human = sb.run(["profiles", "inspect", "work"]).ok().stdout;
    assert!(
        human.contains(&sb.profile_home("work").display().to_string()),
        "{human}"
    );
}

#[test]
fn run_gives_the_agent_its_home_provider_env_and_key_and_nothing_stale() {
    let mut sb = sandbox_with_profile();
    let record = sb.root().join("record.json");
    sb.env("FAKE_AGENT_RECORD", &record)
        // Stale settings in the parent shell that must never reach the agent.
        .env("ANTHROPIC_API_KEY", "sk-stale-parent")
        .env("ANTHROPIC_AUTH_TOKEN", "stale-token")
        .env("OPENAI_BASE_URL", "http://stale.invalid/v1")
        .env("OPENAI_API_KEY", "sk-stale-openai")
        .env("XDG_CONFIG_HOME", "/somewhere/else")
        .env("CLAUDE_CONFIG_DIR", "/somewhere/else/.claude")
        .env("KEEP_ME", "yes");
    let out = sb.run([
        "profiles",
        "run",
        "work",
        "--",
        "-p",
        "hello world",
        "--exit",
        "7",
    ]);
    assert_eq!(out.code, 7, "exit code is the agent's: {}", out.stderr);
    assert!(!out.stdout.contains(KEY) && !out.stderr.contains(KEY));

    let rec = read_record(&record);
    let env = &rec["env"];
    let home = sb.profile_home("work").display().to_string();
    assert_eq!(env["HOME"], home.as_str());
    assert_eq!(env["ANTHROPIC_API_KEY"], KEY);
    assert_eq!(env["ANTHROPIC_BASE_URL"], "https://api.anthropic.com");
    assert_eq!(env["ANTHROPIC_MODEL"], "claude-test-1");
    assert_eq!(env["RINGLET_PROFILE"], "work");
    assert_eq!(env["DISABLE_TELEMETRY"], "1");
    for gone in [
        "ANTHROPIC_AUTH_TOKEN",
        "OPENAI_BASE_URL",
        "OPENAI_API_KEY",
        "XDG_CONFIG_HOME",
        "CLAUDE_CONFIG_DIR",
    ] {
        assert!(env.get(gone).is_none(), "{gone} leaked into the agent");
    }
    assert_eq!(env["KEEP_ME"], "yes", "unrelated variables are inherited");
    assert_eq!(
        rec["argv"],
        serde_json::json!(["-p", "hello world", "--exit", "7"])
    );
    assert_eq!(rec["cwd"], sb.root().display().to_string());

    // Claude's onboarding and the working dir's trust are seeded, inside the profile HOME.
    let claude_json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sb.profile_home("work").join(".claude.json"))
            .expect(".claude.json"),
    )
    .expect("json");
    assert_eq!(claude_json["hasCompletedOnboarding"], true);
    assert_eq!(
        claude_json["projects"][sb.root().display().to_string()]["hasTrustDialogAccepted"],
        true
    );
    let p = sb
        .run(["profiles", "inspect", "work", "--json"])
        .ok()
        .json();
    assert_eq!(p["metadata"]["total_runs"], 1);
    assert!(p["metadata"]["last_used"].is_string());

    // No file anywhere but the credential store holds the key.
    for f in sb.files() {
        if f.ends_with("credentials.toml") || f.ends_with("record.json") {
            continue;
        }
        let text = std::fs::read(sb.root().join(&f)).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&text).contains(KEY),
            "{} holds the key",
            f.display()
        );
    }
}

#[test]
fn agent_state_merges_across_runs_instead_of_being_clobbered() {
    let sb = sandbox_with_profile();
    sb.run(["profiles", "run", "work"]).ok();
    let path = sb.profile_home("work").join(".claude.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    doc["numStartups"] = 41.into();
    std::fs::write(&path, doc.to_string()).expect("agent writes its state");
    sb.run(["profiles", "run", "work"]).ok();
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    assert_eq!(doc["numStartups"], 41, "the agent's own state survives");
    assert_eq!(doc["hasCompletedOnboarding"], true);
}

#[test]
fn a_killed_agent_reports_128_plus_signal() {
    let sb = sandbox_with_profile();
    let out = sb.run(["profiles", "run", "work", "--", "--kill-self"]);
    assert_eq!(out.code, 128 + 9);
}

#[test]
fn env_shows_the_plan_with_the_key_masked() {
    let sb = sandbox_with_profile();
    let out = sb.run(["profiles", "env", "work"]).ok();
    assert!(
        out.stdout.contains("ANTHROPIC_API_KEY=********"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("ANTHROPIC_BASE_URL=https://api.anthropic.com")
    );
    assert!(!out.stdout.contains(KEY) && !out.stderr.contains(KEY));
    let json = sb.run(["profiles", "env", "work", "--json"]).ok();
    assert!(!json.stdout.contains(KEY));
    let plan = json.json();
    assert_eq!(plan["home"], sb.profile_home("work").display().to_string());
    assert!(
        plan["env_remove"]
            .as_array()
            .expect("array")
            .iter()
            .any(|v| v == "OPENAI_BASE_URL")
    );
    assert_eq!(plan["secret_env"]["var"], "ANTHROPIC_API_KEY");
    // Planning writes nothing into the HOME.
    assert_eq!(
        std::fs::read_dir(sb.profile_home("work"))
            .expect("home")
            .count(),
        0
    );
}

#[test]
fn two_profiles_share_a_key_alias_and_get_different_homes() {
    let mut sb = sandbox_with_profile();
    sb.run([
        "profiles",
        "create",
        "claude",
        "work-staging",
        "--provider",
        "anthropic",
        "--key-alias",
        "work",
        "--binary",
        fake_agent_bin().to_str().expect("utf-8"),
    ])
    .ok();
    let record = sb.root().join("r.json");
    sb.env("FAKE_AGENT_RECORD", &record);
    sb.run(["profiles", "run", "work-staging"]).ok();
    let rec = read_record(&record);
    assert_eq!(rec["env"]["ANTHROPIC_API_KEY"], KEY);
    assert_eq!(
        rec["env"]["HOME"],
        sb.profile_home("work-staging").display().to_string()
    );
    assert_eq!(
        rec["env"]["ANTHROPIC_MODEL"], "claude-sonnet-5",
        "provider default model"
    );
}

#[test]
fn custom_endpoint_and_shape() {
    let mut sb = Sandbox::new();
    sb.env("K", "sk-custom");
    let bin = fake_agent_bin().to_str().expect("utf-8").to_string();
    // Claude's native shape (anthropic) by default; a trailing /v1 is dropped for it.
    let p = sb
        .run([
            "profiles",
            "create",
            "claude",
            "gw",
            "--provider",
            "custom",
            "--custom-endpoint",
            "http://127.0.0.1:9/v1/",
            "--model",
            "m1",
            "--key-from-env",
            "K",
            "--binary",
            &bin,
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(p["shape"], "anthropic");
    assert_eq!(p["endpoint_url"], "http://127.0.0.1:9");
    // An OpenAI-compatible gateway for an agent that speaks several shapes.
    let p = sb
        .run([
            "profiles",
            "create",
            "opencode",
            "oc",
            "--provider",
            "custom",
            "--custom-endpoint",
            "http://127.0.0.1:9",
            "--shape",
            "openai",
            "--model",
            "m2",
            "--key-from-env",
            "K",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(p["shape"], "openai-chat");
    assert_eq!(p["endpoint_url"], "http://127.0.0.1:9/v1");
    // --custom-endpoint overrides a built-in provider's URL.
    let p = sb
        .run([
            "profiles",
            "create",
            "grok",
            "g",
            "--provider",
            "xai",
            "--custom-endpoint",
            "https://proxy.example/xai/v1",
            "--key-from-env",
            "K",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(p["endpoint_url"], "https://proxy.example/xai/v1");
    let env = sb.run(["profiles", "env", "g"]).ok().stdout;
    assert!(
        env.contains("GROK_BASE_URL=https://proxy.example/xai/v1"),
        "{env}"
    );
}

#[test]
fn ollama_needs_no_key_and_named_endpoints_work() {
    let sb = Sandbox::new();
    let p = sb
        .run([
            "profiles",
            "create",
            "codex",
            "local",
            "--provider",
            "ollama",
            "--json",
        ])
        .ok()
        .json();
    assert!(p.get("key_alias").is_none(), "{p}");
    let env = sb.run(["profiles", "env", "local", "--json"]).ok().json();
    assert!(env["secret_env"].is_null());
    let p = sb
        .run([
            "profiles",
            "create",
            "claude",
            "mm",
            "--provider",
            "minimax",
            "--endpoint",
            "china",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(p["endpoint"], "china");
    let env = sb.run(["profiles", "env", "mm"]).ok().stdout;
    assert!(env.contains("ANTHROPIC_BASE_URL=https://api.minimaxi.com/anthropic"));
    // MiniMax wants a bearer token, which Claude Code sends from ANTHROPIC_AUTH_TOKEN.
    assert!(env.contains("ANTHROPIC_AUTH_TOKEN=********"), "{env}");
}

#[test]
fn delete_needs_confirmation_without_a_terminal() {
    let sb = sandbox_with_profile();
    sb.run(["profiles", "delete", "work"])
        .fails_with("pass --yes to confirm (stdin is not a terminal to ask on)");
    assert!(sb.profile_dir("work").exists());
    sb.run(["profiles", "delete", "work", "--yes"]).ok();
    assert!(!sb.profile_dir("work").exists());
    let list = sb.run(["profiles", "list", "--json"]).ok().json();
    assert_eq!(list, serde_json::json!([]));
}

#[test]
fn concurrent_runs_count_every_run() {
    let sb = sandbox_with_profile();
    std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| {
                sb.run(["profiles", "run", "work", "--", "--sleep-ms", "50"])
                    .ok()
            });
        }
    });
    let p = sb
        .run(["profiles", "inspect", "work", "--json"])
        .ok()
        .json();
    assert_eq!(p["metadata"]["total_runs"], 6);
}

/// `ringlet profiles run` stands between a terminal (or a supervisor) and the agent: a SIGINT
/// sent to ringlet reaches the agent (its own process group; see tests/cli/signals.rs for
/// SIGTERM) and does not end ringlet, which waits for the agent to decide what it means.
#[test]
fn signals_sent_to_ringlet_reach_the_agent_and_sigint_does_not_end_ringlet() {
    let sb = sandbox_with_profile();
    let started = sb.profile_home("work").join("started");
    let mut child = sb
        .command([
            "profiles",
            "run",
            "work",
            "--",
            "--touch",
            "started",
            "--sleep-ms",
            "30000",
        ])
        .spawn()
        .expect("ringlet starts");
    // Readiness, not timing: the agent has started once it has touched its file.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !started.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the agent never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let signal = |name: &str| {
        let sent = std::process::Command::new("kill")
            .args([format!("-{name}"), child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -{name}");
    };
    signal("INT");
    let status = child.wait().expect("ringlet ends");
    assert_eq!(
        status.code(),
        Some(128 + 2),
        "ringlet survives SIGINT and reports the agent's death by the forwarded SIGINT: {status:?}"
    );
}

/// Fails on the first object holding the same key twice, at any depth: serde_json's `Value`
/// silently keeps the last one, as jq does, so a duplicate would go unseen.
fn assert_no_duplicate_keys(json: &str) {
    use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};

    struct Checked;
    impl<'de> Deserialize<'de> for Checked {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(CheckedVisitor)
        }
    }
    struct CheckedVisitor;
    impl<'de> Visitor<'de> for CheckedVisitor {
        type Value = Checked;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
            let mut seen = std::collections::HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                if !seen.insert(key.clone()) {
                    return Err(A::Error::custom(format!("duplicate key {key:?}")));
                }
                map.next_value::<Checked>()?;
            }
            Ok(Checked)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
            while seq.next_element::<Checked>()?.is_some() {}
            Ok(Checked)
        }
        fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
            Ok(Checked)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
            Ok(Checked)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
            Ok(Checked)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
            Ok(Checked)
        }
        fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
            Ok(Checked)
        }
        fn visit_unit<E>(self) -> Result<Checked, E> {
            Ok(Checked)
        }
    }
    if let Err(e) = serde_json::from_str::<Checked>(json) {
        panic!("{e}: {json}");
    }
}

#[test]
fn env_json_has_one_env_key_holding_the_masked_key() {
    let sb = sandbox_with_profile();
    let out = sb.run(["profiles", "env", "work", "--json"]).ok();
    assert_no_duplicate_keys(&out.stdout);
    assert!(!out.stdout.contains(KEY), "{}", out.stdout);
    let plan = out.json();
    let env = &plan["env"];
    assert_eq!(env["ANTHROPIC_API_KEY"], "********", "{env}");
    assert_eq!(env["ANTHROPIC_BASE_URL"], "https://api.anthropic.com");
    assert_eq!(env["HOME"], sb.profile_home("work").display().to_string());
    assert_eq!(plan["secret_env"]["var"], "ANTHROPIC_API_KEY");
}

#[test]
fn one_unparsable_profile_toml_stops_nothing_else() {
    let sb = sandbox_with_profile();
    sb.run([
        "profiles",
        "create",
        "claude",
        "broken",
        "--provider",
        "anthropic",
        "--key-alias",
        "work",
    ])
    .ok();
    let manifest = sb.profile_dir("broken").join("profile.toml");
    std::fs::write(
        &manifest,
        "alias = \"broken\"\nagent = \"claude\"\nprovider = \n",
    )
    .expect("corrupt");
    // Usage the healthy profile's agent logged outside ringlet, for `usage sync` to find.
    let logged = std::process::Command::new(fake_agent_bin())
        .args(["--claude-log", "2"])
        .env("HOME", sb.profile_home("work"))
        .status()
        .expect("fake agent");
    assert!(logged.success());
    let names_the_file = |line: &str| line.contains(&format!("{}:3:", manifest.display()));

    let out = sb.run(["profiles", "list", "--json"]).ok();
    let aliases: Vec<_> = out
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|p| p["alias"].clone())
        .collect();
    assert_eq!(aliases, ["work"]);
    let warnings = out.warnings();
    assert_eq!(warnings.len(), 1, "{}", out.stderr);
    let warning: serde_json::Value = serde_json::from_str(warnings[0]).expect("a JSON warning");
    assert_eq!(warning["warning"]["code"], "profile_unreadable");
    assert!(
        names_the_file(warning["warning"]["message"].as_str().expect("message")),
        "{warning}"
    );

    let out = sb.run(["profiles", "list"]).ok();
    assert!(
        out.stdout.contains("work") && !out.stdout.contains("broken"),
        "{}",
        out.stdout
    );
    assert!(
        out.warnings().iter().any(|w| names_the_file(w)),
        "{}",
        out.stderr
    );

    let out = sb.run(["agents", "list", "--json"]).ok();
    let claude = out
        .json()
        .as_array()
        .expect("array")
        .iter()
        .find(|a| a["id"] == "claude")
        .expect("claude")
        .clone();
    assert_eq!(claude["profiles"], 1);
    assert!(
        out.warnings().iter().any(|w| names_the_file(w)),
        "{}",
        out.stderr
    );

    let out = sb.run(["usage", "sync", "--json"]).ok();
    assert_eq!(out.json()["total"]["inserted"], 2, "{}", out.stdout);
    assert!(
        out.warnings().iter().any(|w| names_the_file(w)),
        "{}",
        out.stderr
    );

    // Asked about by name, it is the error, with the file and line.
    sb.run(["profiles", "inspect", "broken"])
        .fails_with(&format!("{}:3:", manifest.display()));
    sb.run(["profiles", "run", "broken"])
        .fails_with(&format!("{}:3:", manifest.display()));
}

/// A profile directory without profile.toml (what an agent still writing into its HOME leaves
/// after its profile is deleted) is reported by `list` and removed by `delete`, so the alias
/// can be used again.
#[test]
fn a_leftover_directory_is_reported_and_deleted() {
    let sb = sandbox_with_profile();
    std::fs::create_dir_all(sb.profile_home("ghost").join(".codex")).expect("leftover");
    let out = sb.run(["profiles", "list"]).ok();
    assert!(
        out.warnings()
            .iter()
            .any(|w| w.contains("has no profile.toml")
                && w.contains("ringlet profiles delete ghost")),
        "{}",
        out.stderr
    );
    sb.run(["profiles", "run", "ghost"])
        .fails_with("profile 'ghost' not found");
    let create = [
        "profiles",
        "create",
        "codex",
        "ghost",
        "--provider",
        "ollama",
    ];
    sb.run(create)
        .fails_with("delete it first with `ringlet profiles delete ghost`");
    sb.run(["profiles", "delete", "ghost", "--yes"]).ok();
    assert!(!sb.profile_dir("ghost").exists());
    sb.run(create).ok();
    assert!(sb.profile_dir("ghost").join("profile.toml").is_file());
}

/// Another claude profile in `sb` whose key is stored under `key_alias`.
fn add_profile_with_key(sb: &Sandbox, alias: &str, key_alias: &str) {
    sb.run([
        "profiles",
        "create",
        "claude",
        alias,
        "--provider",
        "anthropic",
        "--key-alias",
        key_alias,
        "--key-from-env",
        "TEST_KEY",
    ])
    .ok();
}

fn keys(sb: &Sandbox) -> Vec<String> {
    sb.run(["keychain", "list", "--json"])
        .ok()
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|k| {
            format!(
                "{}/{}",
                k["provider"].as_str().unwrap_or(""),
                k["alias"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn delete_says_what_became_of_the_key() {
    let sb = sandbox_with_profile();
    add_profile_with_key(&sb, "twin", "work");
    add_profile_with_key(&sb, "solo", "solo");
    assert_eq!(keys(&sb), ["anthropic/solo", "anthropic/work"]);

    // Shared with `twin`: --remove-key is refused before anything is deleted.
    sb.run(["profiles", "delete", "work", "--yes", "--remove-key"])
        .fails_with("also used by profile 'twin'");
    assert!(sb.profile_dir("work").exists());
    // The default keeps a shared key, and says so.
    let out = sb.run(["profiles", "delete", "work", "--yes"]).ok();
    assert!(
        out.stderr.contains("Deleted profile 'work' and its HOME."),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("Kept its key anthropic/work: profile 'twin' uses it too."),
        "{}",
        out.stderr
    );
    // The last user takes it along.
    let out = sb
        .run(["profiles", "delete", "twin", "--yes", "--json"])
        .ok();
    let report = out.json();
    assert_eq!(report["key_outcome"], "removed", "{report}");
    assert_eq!(report["key"]["alias"], "work");
    assert_eq!(keys(&sb), ["anthropic/solo"]);
    // --keep-key keeps it.
    let out = sb
        .run(["profiles", "delete", "solo", "-y", "--keep-key"])
        .ok();
    assert!(
        out.stderr
            .contains("Kept its key anthropic/solo (--keep-key)."),
        "{}",
        out.stderr
    );
    assert_eq!(keys(&sb), ["anthropic/solo"]);
    let both = sb.run(["profiles", "delete", "x", "--keep-key", "--remove-key"]);
    assert_eq!(both.code, 2, "{}", both.stderr);
}

/// On a terminal, `profiles delete` asks, naming the HOME and the key; only y/yes deletes.
#[cfg(unix)]
#[test]
fn delete_asks_on_a_terminal() {
    use std::io::{Read, Write};
    use std::os::fd::OwnedFd;

    let sb = sandbox_with_profile();
    let ask = |answer: &str| {
        let pty = nix::pty::openpty(None, None).expect("openpty");
        let slave = |fd: &OwnedFd| std::process::Stdio::from(fd.try_clone().expect("dup"));
        let mut child = sb
            .command(["profiles", "delete", "work"])
            .stdin(slave(&pty.slave))
            .stderr(slave(&pty.slave))
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("ringlet starts");
        drop(pty.slave);
        let mut master = std::fs::File::from(pty.master);
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains("[y/N]") {
            let n = master.read(&mut buf).expect("read the terminal");
            assert!(n > 0, "no question: {}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&buf[..n]);
        }
        master.write_all(answer.as_bytes()).expect("answer");
        let status = child.wait().expect("ringlet ends");
        // The rest of what it said (EIO once the child has gone and the slave is closed).
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        (status.code(), String::from_utf8_lossy(&seen).into_owned())
    };
    let (code, screen) = ask("n\n");
    assert_eq!(code, Some(1), "{screen}");
    assert!(
        screen.contains("Delete profile 'work', its HOME ")
            && screen.contains(" and its key anthropic/work? [y/N]"),
        "{screen}"
    );
    assert!(screen.contains("Nothing deleted."), "{screen}");
    assert!(sb.profile_dir("work").exists());
    let (code, screen) = ask("y\n");
    assert_eq!(code, Some(0), "{screen}");
    assert!(
        screen.contains("Removed its key anthropic/work."),
        "{screen}"
    );
    assert!(!sb.profile_dir("work").exists());
}
