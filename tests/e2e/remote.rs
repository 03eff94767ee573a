//! Remote terminal sessions from the CLI, in a real pseudo-terminal (tmux) against a real
//! `ringlet serve`: `remotes add`, `profiles run --remote` (output, typing, resize, detach with
//! Ctrl-]), `remotes sessions`, `remotes attach` (the scrollback replayed) and the remote
//! agent's exit code as ringlet's; and the real Claude Code in a remote session against the
//! fake API.
//!
//! The server and the client share one installation (the client's remote points at the
//! server's own token); sessions are sandboxed by default, so it lives outside `/tmp`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use ringlet_tests::harness::{Sandbox, fake_agent_bin, outside_tmp, ringlet_bin};

use crate::terminal::{Terminal, tmux};

/// A running `ringlet serve` on a free port, killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    /// Starts the server in `cwd` (the sessions' working directory: not HOME, which the
    /// sandbox refuses to give an agent whole).
    fn start(sb: &Sandbox, cwd: &std::path::Path) -> Self {
        let mut child = sb
            .command(["serve", "--listen", "127.0.0.1:0"])
            .current_dir(cwd)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ringlet serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("serving the API on")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(line);
                }
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the server says where it listens");
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Self {
            child,
            url: format!("http://{addr}"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An installation outside /tmp with a project directory, the user's HOME, a running server
/// and the remote `box` pointing at it.
fn setup() -> (Sandbox, Server) {
    let mut sb = Sandbox::new_in(&outside_tmp());
    std::fs::create_dir_all(sb.root().join("user-home")).expect("user home");
    let project = sb.root().join("project");
    std::fs::create_dir_all(&project).expect("project");
    let server = Server::start(&sb, &project);
    let token = std::fs::read_to_string(sb.ringlet_home().join("config/http_token"))
        .expect("token file")
        .trim()
        .to_string();
    sb.env("BOX_TOKEN", token.clone());
    sb.run([
        "remotes",
        "add",
        "box",
        "--url",
        &server.url,
        "--token-from-env",
        "BOX_TOKEN",
    ])
    .ok();
    let config =
        std::fs::read_to_string(sb.ringlet_home().join("config/config.toml")).expect("config.toml");
    assert!(config.contains("[remotes.box]"), "{config}");
    assert!(!config.contains(&token), "the token is not in config.toml");
    (sb, server)
}

/// `ringlet ARGS` in a pane, then its exit status on the screen, then the pane stays.
fn in_pane(tmux: std::path::PathBuf, sb: &Sandbox, args: &[&str]) -> Terminal {
    let quoted: Vec<String> = args
        .iter()
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    let script = format!(
        "'{}' {}; echo RINGLET-EXIT=$?; exec sleep 600",
        ringlet_bin().display(),
        quoted.join(" ")
    );
    Terminal::start_program(tmux, sb, &["sh".into(), "-c".into(), script.into()], &[])
}

#[test]
fn profiles_run_remote_types_resizes_detaches_reattaches_and_exits_with_the_agents_code() {
    let Some(tmux) = tmux() else {
        return;
    };
    let (sb, _server) = setup();
    sb.run([
        "profiles",
        "create",
        "codex",
        "tty",
        "--provider",
        "ollama",
        "--binary",
        fake_agent_bin().to_str().expect("utf-8 path"),
    ])
    .ok();

    // The pane is 160 × 50: the remote terminal starts at that size.
    let term = in_pane(
        tmux.clone(),
        &sb,
        &[
            "profiles",
            "run",
            "tty",
            "--remote",
            "box",
            "--",
            "--exit",
            "5",
            "--interactive",
        ],
    );
    term.wait_for(&["size 50 160"]);
    term.send(&["-l", "hello"]);
    term.send(&["Enter"]);
    term.wait_for(&["got hello"]);
    term.resize(120, 40);
    term.wait_for(&["winch 40 120"]);
    // Ctrl-] detaches: ringlet exits 0, the session goes on.
    term.send(&["C-]"]);
    let (_, screen) = term.wait_for(&["RINGLET-EXIT="]);
    assert!(screen.contains("RINGLET-EXIT=0"), "{screen}");
    assert!(screen.contains("detached from session"), "{screen}");

    let listed = sb.run(["remotes", "sessions", "box", "--json"]).ok().json();
    let sessions = listed.as_array().expect("list");
    assert_eq!(sessions.len(), 1, "{listed}");
    let id = sessions[0]["id"].as_str().expect("id").to_string();
    assert_eq!(sessions[0]["state"], "running", "{listed}");
    assert_eq!(sessions[0]["clients"], 0, "{listed}");
    let table = sb.run(["remotes", "sessions", "box"]).ok().stdout;
    assert!(
        table.contains(&id) && table.contains("tty") && table.contains("codex"),
        "{table}"
    );
    assert!(table.contains("0 (detached)"), "{table}");

    // Attach again: the scrollback is replayed; `quit` ends the agent with its code, 5.
    let again = in_pane(tmux, &sb, &["remotes", "attach", "box", &id]);
    again.wait_for(&["got hello"]);
    again.send(&["-l", "quit"]);
    again.send(&["Enter"]);
    let (_, screen) = again.wait_for(&["RINGLET-EXIT="]);
    assert!(screen.contains("RINGLET-EXIT=5"), "{screen}");

    let ended = sb.run(["remotes", "sessions", "box", "--json"]).ok().json();
    assert_eq!(ended[0]["state"], "exited", "{ended}");
    assert_eq!(ended[0]["exit_code"], 5, "{ended}");
    let missing = sb.run(["remotes", "attach", "box", "nope"]);
    assert_ne!(missing.code, 0);
    assert!(
        missing.stderr.contains("no terminal session"),
        "{}",
        missing.stderr
    );
    // The remote's profile counted the run.
    let profile = sb.run(["profiles", "inspect", "tty", "--json"]).ok().json();
    assert_eq!(profile["metadata"]["total_runs"], 1, "{profile}");
}
