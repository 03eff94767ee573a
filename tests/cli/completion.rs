//! Dynamic completion in the real shells: the script `ringlet completions <shell>` prints is
//! loaded into bash, zsh and fish, which call ringlet back for profile, agent, provider and
//! hook names from the ringlet home.

use std::process::Command;

use ringlet_tests::harness::{Sandbox, ringlet_bin};

use crate::sandbox_with_profile;

/// A home with profiles `work` (claude, anthropic) and `wide` (codex, openai), and one hook.
fn home() -> (Sandbox, String) {
    let sb = sandbox_with_profile();
    sb.run([
        "profiles",
        "create",
        "codex",
        "wide",
        "--provider",
        "openai",
        "--key-from-env",
        "TEST_KEY",
    ])
    .ok();
    sb.run(["hooks", "add", "work", "--on", "stop", "--shell", "true"])
        .ok();
    let hooks = sb.run(["hooks", "list", "--json"]).ok().json();
    let id = hooks[0]["id"]
        .as_str()
        .or_else(|| hooks[0]["rule"]["id"].as_str())
        .unwrap_or_else(|| panic!("a hook id in {hooks}"))
        .to_string();
    (sb, id)
}

/// `ringlet completions <shell>`, written to a file in the sandbox.
fn script(sb: &Sandbox, shell: &str) -> std::path::PathBuf {
    let out = sb.run(["completions", shell]).ok();
    // The script calls this very binary back, by the absolute path it was started with.
    assert!(
        out.stdout.contains(&ringlet_bin().display().to_string()),
        "{shell}: {}",
        out.stdout
    );
    assert!(out.stdout.contains("RINGLET_COMPLETE"), "{}", out.stdout);
    let path = sb.root().join(format!("ringlet.{shell}"));
    std::fs::write(&path, out.stdout).expect("write the script");
    path
}

/// Runs `program args` with the sandbox's environment; its stdout.
fn shell(sb: &Sandbox, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", sb.root().join("user-home"))
        .env("RINGLET_HOME", sb.ringlet_home())
        .env("TEST_KEY", crate::KEY)
        .current_dir(sb.root())
        .output()
        .unwrap_or_else(|e| panic!("{program} must be installed (tests/run.sh installs it): {e}"));
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The candidates' values, sorted, options aside (an empty word is also offered the options):
/// each line up to its description (a tab in fish, a colon in zsh).
fn values(text: &str, separator: char) -> Vec<String> {
    let mut v: Vec<String> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('-'))
        .map(|l| l.split(separator).next().unwrap_or(l).to_string())
        .collect();
    v.sort();
    v
}

/// The command lines and the candidates each must offer (exactly).
fn cases(hook: &str) -> Vec<(Vec<&'static str>, &'static str, Vec<String>)> {
    let v = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        (vec!["profiles", "run"], "w", v(&["wide", "work"])),
        (vec!["profiles", "delete"], "wo", v(&["work"])),
        (vec!["usage", "--profile"], "", v(&["wide", "work"])),
        (vec!["profiles", "create"], "cl", v(&["claude"])),
        (vec!["agents", "inspect"], "co", v(&["codex"])),
        (
            vec!["profiles", "create", "claude", "x", "--provider"],
            "open",
            v(&["openai", "openrouter"]),
        ),
        (vec!["keychain", "set"], "anth", v(&["anthropic"])),
        (vec!["hooks", "remove"], "", vec![hook.to_string()]),
    ]
}

fn quoted(words: &[&str]) -> String {
    words
        .iter()
        .map(|w| format!("'{w}'"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn bash_completes_names_from_the_ringlet_home() {
    let (sb, hook) = home();
    let script = script(&sb, "bash");
    for (words, current, want) in cases(&hook) {
        // What bash sets before calling the completion function, then what it would offer.
        let mut all = vec!["ringlet"];
        all.extend(&words);
        all.push(current);
        let program = format!(
            "source {}; COMP_WORDS=({}); COMP_CWORD={}; COMP_TYPE=9; _clap_complete_ringlet ringlet '{current}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display(),
            quoted(&all),
            all.len() - 1,
            words.last().unwrap_or(&"ringlet")
        );
        let got = shell(&sb, "bash", &["--norc", "--noprofile", "-c", &program]);
        assert_eq!(values(&got, '\t'), want, "bash: {all:?}: {got}");
    }
}

#[test]
fn zsh_completes_names_from_the_ringlet_home() {
    let (sb, hook) = home();
    let script = script(&sb, "zsh");
    for (words, current, want) in cases(&hook) {
        let mut all = vec!["ringlet"];
        all.extend(&words);
        all.push(current);
        // The script's function as zsh's completion system calls it (`words`, `CURRENT`), with
        // `_describe`, which would hand the candidates to the line editor, printing them.
        let program = format!(
            "compdef() {{ : }}; _describe() {{ local n=${{@[-1]}}; print -rl -- ${{(P)n}} }}; source {}; words=({}); CURRENT={}; _clap_dynamic_completer_ringlet",
            script.display(),
            quoted(&all),
            all.len()
        );
        let got = shell(&sb, "zsh", &["-f", "-c", &program]);
        assert_eq!(values(&got, ':'), want, "zsh: {all:?}: {got}");
    }
}

#[test]
fn fish_completes_names_from_the_ringlet_home() {
    let (sb, hook) = home();
    let script = script(&sb, "fish");
    for (words, current, want) in cases(&hook) {
        let line = format!("ringlet {} {current}", words.join(" "));
        let program = format!("source {}; complete -C '{line}'", script.display());
        let got = shell(&sb, "fish", &["--no-config", "-c", &program]);
        assert_eq!(values(&got, '\t'), want, "fish: {line}: {got}");
    }
}

/// `--home DIR` on the command line being completed is the home the names come from.
#[test]
fn completion_follows_home_on_the_command_line() {
    let (sb, _) = home();
    let other = Sandbox::new();
    other.run([
        "profiles",
        "create",
        "claude",
        "elsewhere",
        "--provider",
        "anthropic",
    ]);
    let script = script(&sb, "fish");
    let line = format!(
        "ringlet --home {} profiles run ",
        other.ringlet_home().display()
    );
    let got = shell(
        &sb,
        "fish",
        &[
            "--no-config",
            "-c",
            &format!("source {}; complete -C '{line}'", script.display()),
        ],
    );
    assert_eq!(values(&got, '\t'), ["elsewhere"], "{got}");
}
