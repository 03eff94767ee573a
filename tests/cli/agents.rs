use std::os::unix::fs::{PermissionsExt, symlink};

use ringlet_tests::harness::{Sandbox, fake_agent_bin};

#[test]
fn init_creates_directories_and_suggests_next_steps() {
    let sb = Sandbox::new();
    let out = sb.run(["init"]).ok();
    assert!(out.stdout.contains("Next steps"), "{}", out.stdout);
    for dir in [
        "config/agents.d",
        "config/providers.d",
        "config/scripts",
        "data/profiles",
    ] {
        assert!(sb.ringlet_home().join(dir).is_dir(), "{dir} missing");
    }
    let json = sb.run(["init", "--json"]).ok().json();
    assert_eq!(json["agents"].as_array().map(Vec::len), Some(6));
}

#[test]
fn agents_list_detects_binaries_on_path_with_versions() {
    let mut sb = Sandbox::new();
    let bin = sb.root().join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    symlink(fake_agent_bin(), bin.join("codex")).expect("symlink");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    sb.env("PATH", path);
    let agents = sb.run(["agents", "list", "--json"]).ok().json();
    let codex = agents
        .as_array()
        .expect("array")
        .iter()
        .find(|a| a["id"] == "codex")
        .expect("codex listed");
    assert_eq!(codex["installed"], true);
    assert_eq!(codex["version"], "fake-agent 1.0.0");
    assert_eq!(codex["profiles"], 0);
    // Second call is served from the detection cache.
    assert!(
        sb.ringlet_home()
            .join("cache/agent-detections.json")
            .is_file()
    );
    let table = sb.run(["agents", "list"]).ok().stdout;
    let header = table.lines().next().expect("header");
    assert!(header.starts_with("AGENT"), "{header}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("codex") && l.contains("yes"))
    );

    let one = sb.run(["agents", "inspect", "codex", "--json"]).ok().json();
    assert_eq!(one["path"], bin.join("codex").display().to_string());
}

#[test]
fn providers_list_and_inspect() {
    let sb = Sandbox::new();
    let all = sb.run(["providers", "list", "--json"]).ok().json();
    let ids: Vec<&str> = all
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    for id in [
        "anthropic",
        "openai",
        "google",
        "minimax",
        "openrouter",
        "zai",
        "moonshot",
        "deepseek",
        "groq",
        "ollama",
        "custom",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    let minimax = sb
        .run(["providers", "inspect", "minimax", "--json"])
        .ok()
        .json();
    assert_eq!(
        minimax["endpoints"]["china"]["anthropic"],
        "https://api.minimaxi.com/anthropic"
    );
    assert_eq!(minimax["default_endpoint"], "international");
    let ollama = sb.run(["providers", "inspect", "ollama"]).ok().stdout;
    assert!(
        ollama.contains("key") && ollama.contains("none"),
        "{ollama}"
    );
}

#[test]
fn user_manifests_add_agents_and_override_builtins() {
    let sb = Sandbox::new();
    sb.run(["init"]).ok();
    std::fs::write(
        sb.ringlet_home().join("config/agents.d/aider.toml"),
        "id = \"aider\"\nname = \"Aider\"\nbinary = \"aider\"\nspeaks = [\"openai-chat\"]\nscript = \"aider.rhai\"\n",
    )
    .expect("write manifest");
    std::fs::write(
        sb.ringlet_home().join("config/providers.d/anthropic.toml"),
        "id = \"anthropic\"\nname = \"Anthropic via proxy\"\n[endpoints.default]\nanthropic = \"https://proxy.example\"\n",
    )
    .expect("write provider");
    let agent = sb.run(["agents", "inspect", "aider", "--json"]).ok().json();
    assert_eq!(agent["name"], "Aider");
    let provider = sb
        .run(["providers", "inspect", "anthropic", "--json"])
        .ok()
        .json();
    assert_eq!(provider["name"], "Anthropic via proxy");
    assert_eq!(provider["source"]["kind"], "file");
}

#[test]
fn completions_are_printed() {
    let sb = Sandbox::new();
    let out = sb.run(["completions", "bash"]).ok();
    assert!(out.stdout.contains("ringlet"), "{}", out.stdout);
}

#[test]
fn a_version_probe_that_times_out_is_named_and_a_terminal_sees_progress() {
    let mut sb = Sandbox::new();
    let bin = sb.root().join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    // A `claude` whose `--version` never answers (a cold Node start on a busy machine, stuck).
    let hang = bin.join("claude");
    std::fs::write(&hang, "#!/bin/sh\nexec sleep 60\n").expect("script");
    std::fs::set_permissions(&hang, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    symlink(fake_agent_bin(), bin.join("codex")).expect("symlink");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    sb.env("PATH", path);

    // The same listing on a terminal (util-linux `script` gives it a pseudo-terminal), started
    // alongside: each waits for the 10 s probe timeout.
    let listing = sb.command(["agents", "list"]);
    let mut on_tty = std::process::Command::new("script");
    on_tty
        .arg("-qec")
        .arg(format!(
            "'{}' agents list",
            ringlet_tests::harness::ringlet_bin().display()
        ))
        .arg("/dev/null")
        .env_clear()
        .current_dir(sb.root())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in listing.get_envs() {
        if let Some(v) = v {
            on_tty.env(k, v);
        }
    }
    // Without a terminal type a terminal is "dumb", and nothing is drawn on it.
    on_tty.env("TERM", "xterm");
    let on_tty = on_tty.spawn().expect("script(1) runs (util-linux)");

    let run = sb.run(["agents", "list", "--json"]).ok();
    let agents = run.json();
    let claude = agents
        .as_array()
        .expect("array")
        .iter()
        .find(|a| a["id"] == "claude")
        .expect("claude listed");
    assert_eq!(claude["installed"], true);
    assert!(claude["version"].is_null());
    let error = claude["version_error"].as_str().expect("the probe's error");
    assert!(error.contains("did not answer within 10s"), "{error}");
    let warnings = run.warnings();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("agent claude") && w.contains("within 10s")),
        "no warning names the agent and the timeout: {:?}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("checking the version"),
        "progress drawn on a stderr that is not a terminal: {:?}",
        run.stderr
    );

    let tty = on_tty.wait_with_output().expect("script ends");
    let screen = String::from_utf8_lossy(&tty.stdout);
    assert!(tty.status.success(), "{screen}");
    assert!(
        screen.contains("checking the version of claude"),
        "no progress on the terminal: {screen:?}"
    );
    assert!(
        screen
            .lines()
            .any(|l| l.starts_with("claude") && l.contains("unknown")),
        "{screen}"
    );
    assert!(screen.contains("warning: agent claude"), "{screen}");
}
