//! `ringlet export` / `import FILE` (told apart from `import <agent>`), `aliases`,
//! `profiles run` without an alias, and `env setup` / `env tasks`, through the binary.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use ringlet_tests::harness::{Sandbox, fake_agent_bin, read_record};

use crate::{KEY, sandbox_with_profile};

fn create(sb: &Sandbox, agent: &str, alias: &str) {
    sb.run([
        "profiles",
        "create",
        agent,
        alias,
        "--provider",
        "ollama",
        "--binary",
        fake_agent_bin().to_str().expect("utf-8"),
    ])
    .ok();
}

#[test]
fn export_then_import_recreates_the_setup_and_lists_the_keys() {
    let a = sandbox_with_profile();
    a.run([
        "hooks",
        "add",
        "work",
        "--on",
        "tool-use",
        "--shell",
        "echo used",
    ])
    .ok();
    let file = a.root().join("setup.json");
    let run = a
        .run(["export", "--output", file.to_str().expect("utf-8")])
        .ok();
    assert!(
        run.stderr.contains("Exported 1 profile, 1 hook"),
        "{}",
        run.stderr
    );
    let text = std::fs::read_to_string(&file).expect("written");
    assert!(!text.contains(KEY), "the key leaked into the export");
    assert_eq!(
        std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777,
        0o600
    );
    // To stdout, the same document.
    let stdout = a.run(["export"]).ok().stdout;
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(doc["format"], "ringlet-setup");
    assert_eq!(doc["keys"][0]["alias"], "work");

    let b = Sandbox::new();
    let copy = b.root().join("setup.json");
    std::fs::copy(&file, &copy).expect("copy");
    let dry = b.run(["import", "setup.json", "--dry-run"]).ok();
    assert!(
        dry.stdout.contains("profile  work: would create"),
        "{}",
        dry.stdout
    );
    assert!(
        b.run(["profiles", "list", "--json"])
            .ok()
            .json()
            .as_array()
            .expect("list")
            .is_empty()
    );

    let run = b.run(["import", "./setup.json"]).ok();
    assert!(
        run.stdout.contains("profile  work: created"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("hook "), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("ringlet keychain set anthropic work    # work"),
        "{}",
        run.stderr
    );
    let listed = b.run(["profiles", "inspect", "work", "--json"]).ok().json();
    assert_eq!(listed["model"], "claude-test-1");

    let again = b.run(["import", "setup.json", "--json"]).ok().json();
    let items = again["items"].as_array().expect("items");
    assert!(items.iter().all(|i| i["outcome"] == "unchanged"), "{again}");

    // From stdin too.
    let out = b
        .command(["import", "-", "--dry-run", "--json"])
        .stdin(std::fs::File::open(&copy).expect("open"))
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn import_tells_an_agent_from_a_setup_file() {
    let sb = sandbox_with_profile();
    // The agent import keeps working (nothing to import from an empty HOME).
    std::fs::create_dir_all(sb.root().join("user-home")).expect("the user's HOME");
    sb.run(["import", "claude", "--to", "work"]).ok();
    sb.run(["import", "claude"]).fails_with("pass --to PROFILE");
    sb.run(["import", "claude", "--to", "work", "--rename", "a=b"])
        .fails_with("--rename and --skip-existing are for importing a setup file");
    sb.run(["import", "backup"])
        .fails_with("no file 'backup', and it is not an agent either (");
    sb.run(["import", "./nope.json", "--to", "work"])
        .fails_with("takes no --to or --from");
    // A file named like an agent, in the current directory: ambiguous without --to.
    let doc = sb.run(["export"]).ok().stdout;
    std::fs::write(sb.root().join("claude"), &doc).expect("write");
    sb.run(["import", "claude"])
        .fails_with("'claude' is both an agent and a file in this directory; to import the setup in the file write ./claude");
    sb.run(["import", "./claude", "--dry-run"]).ok();
    sb.run(["import", "claude", "--to", "work"]).ok();
    std::fs::write(sb.root().join("junk.json"), "{\"a\": 1}").expect("write");
    sb.run(["import", "junk.json"])
        .fails_with("not a ringlet setup");
}

#[test]
fn aliases_install_list_run_and_uninstall() {
    let mut sb = sandbox_with_profile();
    let bin = sb.root().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let record = sb.root().join("record.json");
    sb.env("FAKE_AGENT_RECORD", &record);
    let dir = bin.to_str().expect("utf-8");

    let run = sb.run(["aliases", "install", "--dir", dir]).ok();
    assert!(
        run.stdout.contains("claude-work  → profiles run work"),
        "{}",
        run.stdout
    );
    assert!(
        run.warnings().iter().any(|w| w.contains("is not on PATH")),
        "{}",
        run.stderr
    );
    let shim = bin.join("claude-work");
    assert_eq!(
        std::fs::metadata(&shim).expect("shim").permissions().mode() & 0o777,
        0o755
    );
    let text = std::fs::read_to_string(&shim).expect("read");
    assert!(text.contains("# ringlet-shim: profile=work"), "{text}");
    assert!(
        text.contains(&format!("--home '{}'", sb.ringlet_home().display())),
        "{text}"
    );

    // Run as a user would: the shim found on PATH, no RINGLET_HOME in the environment.
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", "claude-work --exit 7 hello"])
        .env_clear()
        .env("PATH", &path)
        .env("HOME", sb.root().join("user-home"))
        .env("FAKE_AGENT_RECORD", &record)
        .current_dir(sb.root())
        .output()
        .expect("shell");
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rec = read_record(&record);
    assert_eq!(rec["argv"][0], "--exit");
    assert_eq!(
        rec["env"]["HOME"],
        sb.profile_home("work").display().to_string()
    );

    // Installing again changes nothing; a file ringlet did not write is never replaced.
    let again = sb
        .run(["aliases", "install", "work", "--dir", dir, "--json"])
        .ok()
        .json();
    assert_eq!(again["unchanged"].as_array().expect("list").len(), 1);
    std::fs::write(bin.join("mine"), "#!/bin/sh\necho mine\n").expect("write");
    sb.run(["aliases", "install", "work", "--dir", dir, "--name", "mine"])
        .fails_with("exists and ringlet did not write it");
    assert_eq!(
        std::fs::read_to_string(bin.join("mine")).expect("kept"),
        "#!/bin/sh\necho mine\n"
    );
    sb.run([
        "aliases", "install", "--dir", dir, "--name", "x", "work", "nope",
    ])
    .fails_with("not found");

    let listed = sb
        .run(["aliases", "list", "--dir", dir, "--json"])
        .ok()
        .json();
    let listed = listed.as_array().expect("list");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["name"], "claude-work");
    assert_eq!(listed[0]["profile_exists"], true);

    let removed = sb
        .run(["aliases", "uninstall", "--dir", dir, "--json"])
        .ok()
        .json();
    assert_eq!(removed.as_array().expect("list").len(), 1);
    assert!(!shim.exists());
    assert!(bin.join("mine").exists(), "never touches other files");
    sb.run(["aliases", "uninstall", "work", "--dir", dir])
        .fails_with("no shim of ringlet's for profile 'work'");
}

/// `profiles run` with no alias: the longest `[[directory-mapping]]`, then
/// `RINGLET_DEFAULT_PROFILE`, else an error saying how to choose.
#[test]
fn run_without_an_alias_follows_directory_mapping_then_the_env_var() {
    let mut sb = Sandbox::new();
    for alias in ["outer", "inner", "fallback"] {
        create(&sb, "codex", alias);
    }
    let record = sb.root().join("record.json");
    sb.env("FAKE_AGENT_RECORD", &record);
    let projects = sb.root().join("user-home/Projects");
    let acme = projects.join("acme/api");
    std::fs::create_dir_all(&acme).expect("mkdir");
    std::os::unix::fs::symlink(projects.join("acme"), sb.root().join("acme-link"))
        .expect("symlink");
    std::fs::create_dir_all(sb.ringlet_home().join("config")).expect("mkdir");
    std::fs::write(
        sb.ringlet_home().join("config/config.toml"),
        "[[directory-mapping]]\npath = \"~/Projects\"\nprofile = \"outer\"\n\n[[directory-mapping]]\npath = \"~/Projects/acme\"\nprofile = \"inner\"\n",
    )
    .expect("config");
    let ran_in = |dir: &Path, env: Option<&str>| {
        let mut cmd = sb.command(["profiles", "run"]);
        cmd.current_dir(dir);
        if let Some(v) = env {
            cmd.env("RINGLET_DEFAULT_PROFILE", v);
        }
        let out = cmd.output().expect("runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let profile = || read_record(&record)["env"]["RINGLET_PROFILE"].clone();

    assert!(ran_in(&acme, Some("fallback")).0);
    assert_eq!(
        profile(),
        "inner",
        "the longest mapping wins over the env var"
    );
    assert!(ran_in(&sb.root().join("acme-link/api"), None).0);
    assert_eq!(profile(), "inner", "through a symlink");
    assert!(ran_in(&projects, None).0);
    assert_eq!(profile(), "outer");
    assert!(ran_in(sb.root(), Some("fallback")).0);
    assert_eq!(profile(), "fallback", "no mapping: the env var");
    let (ok, stderr) = ran_in(sb.root(), None);
    assert!(!ok);
    assert!(
        stderr.contains("no profile named, and none chosen for")
            && stderr.contains("[[directory-mapping]]")
            && stderr.contains("RINGLET_DEFAULT_PROFILE"),
        "{stderr}"
    );
    // A named profile always wins.
    sb.run(["profiles", "run", "fallback"]).ok();
    assert_eq!(profile(), "fallback");
    // Arguments after `--` go to the agent of the chosen profile.
    let out = sb
        .command(["profiles", "run", "--", "--exit", "4"])
        .current_dir(&acme)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(profile(), "inner");
    assert_eq!(read_record(&record)["argv"][0], "--exit");
}

#[test]
fn env_setup_runs_a_task_in_the_profile_environment_and_passes_its_status() {
    let sb = sandbox_with_profile();
    let manifest = sb.profile_dir("work").join("profile.toml");
    let text = std::fs::read_to_string(&manifest).expect("read");
    let text = text.replace(
        "[metadata]",
        "[tasks.check]\ndescription = \"show the environment\"\nrun = \"echo home=$HOME; echo key=${ANTHROPIC_API_KEY:+set}; echo oops >&2; exit 3\"\n\n[metadata]",
    );
    std::fs::write(&manifest, text).expect("write");

    let tasks = sb.run(["env", "tasks", "work", "--json"]).ok().json();
    assert_eq!(tasks[0]["name"], "check");
    assert_eq!(tasks[0]["origin"], "profile");
    let table = sb.run(["env", "tasks", "work"]).ok().stdout;
    assert!(table.contains("show the environment"), "{table}");

    let run = sb.run(["env", "setup", "work", "check"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let home = sb.profile_home("work").display().to_string();
    assert!(
        run.stdout.contains(&format!("home={home}")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("key=set"), "{}", run.stdout);
    assert!(!run.stdout.contains(KEY));
    assert!(run.stderr.contains("oops"), "{}", run.stderr);
    assert!(run.stderr.contains("exited 3"), "{}", run.stderr);
    let log =
        std::fs::read_to_string(sb.profile_dir("work").join("tasks/check.log")).expect("logged");
    assert!(
        log.contains(&format!("home={home}")) && log.contains("oops"),
        "{log}"
    );
    assert!(log.contains("--- exit 3 after "), "{log}");
    // The agent's config files were written first, as for a run.
    assert!(
        sb.profile_home("work")
            .join(".claude/settings.json")
            .exists()
    );

    sb.run(["env", "setup", "work", "nope"])
        .fails_with("profile 'work' has no setup task 'nope'; its tasks are: check");

    // Tasks of the agent manifest (a user manifest replacing the built-in claude one): listed
    // for every claude profile; the profile's own task of the same name replaces it.
    let builtin = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../ringlet/assets/agents/claude.toml"),
    )
    .expect("the built-in manifest");
    let agents = sb.ringlet_home().join("config/agents.d");
    std::fs::create_dir_all(&agents).expect("mkdir");
    std::fs::write(
        agents.join("claude.toml"),
        format!(
            "{builtin}\n[tasks.hello]\ndescription = \"say hello\"\nrun = \"echo hello from the agent\"\n\n[tasks.check]\nrun = \"echo replaced\"\n"
        ),
    )
    .expect("write");
    let tasks = sb.run(["env", "tasks", "work", "--json"]).ok().json();
    let listed: Vec<(&str, &str)> = tasks
        .as_array()
        .expect("list")
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap_or(""),
                t["origin"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(listed, vec![("check", "profile"), ("hello", "agent")]);
    let run = sb.run(["env", "setup", "work", "hello"]).ok();
    assert!(
        run.stdout.contains("hello from the agent"),
        "{}",
        run.stdout
    );
    sb.run(["env", "setup", "ghost", "check"])
        .fails_with("not found");
}
