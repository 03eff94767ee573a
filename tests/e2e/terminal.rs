//! A real pseudo-terminal for tests: a private tmux server (send-keys, capture-pane).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use ringlet_tests::harness::Sandbox;

/// How long a screen may take to show what a test waits for, on a loaded machine (Claude Code
/// drawing its first screen or answering).
pub const SCREEN_TIMEOUT: Duration = Duration::from_secs(90);

/// `tmux`, or `None` (after saying why) when the test should skip; panics when
/// `RINGLET_E2E_REQUIRED=1`.
pub fn tmux() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("tmux"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let msg = "tmux is not installed (apt install tmux)";
        if std::env::var_os("RINGLET_E2E_REQUIRED").is_some_and(|v| v == "1") {
            panic!("{msg} (RINGLET_E2E_REQUIRED=1)");
        }
        eprintln!("skipping: {msg}");
    }
    found
}

/// A tmux server of its own (its socket in the sandbox), killed when dropped.
pub struct Terminal {
    tmux: PathBuf,
    socket: PathBuf,
}

impl Terminal {
    /// Starts `ringlet ARGS` in a 160x50 pane, with exactly the sandbox's environment plus a
    /// terminal type, in the sandbox root.
    pub fn start(tmux: PathBuf, sb: &Sandbox, args: &[&str]) -> Self {
        let cmd = sb.command(args);
        let mut argv = vec![cmd.get_program().to_os_string()];
        argv.extend(cmd.get_args().map(|a| a.to_os_string()));
        Self::start_program(tmux, sb, &argv, &[])
    }

    /// Starts `argv` in a 160x50 pane with the sandbox's environment, `extra` variables and a
    /// terminal type, in the sandbox root.
    pub fn start_program(
        tmux: PathBuf,
        sb: &Sandbox,
        argv: &[std::ffi::OsString],
        extra: &[(&str, &str)],
    ) -> Self {
        let quote =
            |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', r"'\''"));
        let mut line = String::from("cd ");
        line.push_str(&quote(sb.root().as_os_str()));
        line.push_str(" && exec env -i TERM=xterm-256color");
        let env = sb.command(["--version"]);
        let pairs = env
            .get_envs()
            .filter_map(|(k, v)| v.map(|v| (k.to_os_string(), v.to_os_string())))
            .chain(extra.iter().map(|(k, v)| (k.into(), v.into())));
        for (k, v) in pairs {
            let mut pair = k;
            pair.push("=");
            pair.push(v);
            line.push(' ');
            line.push_str(&quote(&pair));
        }
        for a in argv {
            line.push(' ');
            line.push_str(&quote(a));
        }
        let n = std::fs::read_dir(sb.root()).map_or(0, |d| d.count());
        let script = sb.root().join(format!("tmux-{n}.sh"));
        std::fs::write(&script, format!("#!/bin/sh\n{line}\n")).expect("script");
        let term = Self {
            tmux,
            socket: sb.root().join(format!("tmux-{n}.sock")),
        };
        let status = term
            .tmux()
            .args([
                "new-session",
                "-d",
                "-s",
                "e2e",
                "-x",
                "160",
                "-y",
                "50",
                "sh",
            ])
            .arg(&script)
            .status()
            .expect("tmux starts");
        assert!(status.success(), "tmux new-session failed");
        term
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new(&self.tmux);
        c.arg("-S").arg(&self.socket);
        c
    }

    /// The visible screen.
    pub fn screen(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-t", "e2e"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `tmux send-keys` with these arguments (`-l TEXT` for literal text, or key names).
    pub fn send(&self, keys: &[&str]) {
        let status = self
            .tmux()
            .args(["send-keys", "-t", "e2e"])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(status.success(), "tmux send-keys failed");
    }

    /// Resizes the pane's window to `cols` × `rows` (the program in it gets SIGWINCH).
    pub fn resize(&self, cols: u16, rows: u16) {
        let status = self
            .tmux()
            .args([
                "resize-window",
                "-t",
                "e2e",
                "-x",
                &cols.to_string(),
                "-y",
                &rows.to_string(),
            ])
            .status()
            .expect("tmux resize-window");
        assert!(status.success(), "tmux resize-window failed");
    }

    /// Waits until the screen shows one of `wanted`, and returns which with the screen.
    pub fn wait_for(&self, wanted: &[&str]) -> (usize, String) {
        let deadline = Instant::now() + SCREEN_TIMEOUT;
        loop {
            let screen = self.screen();
            if let Some(i) = wanted.iter().position(|w| screen.contains(w)) {
                return (i, screen);
            }
            assert!(
                Instant::now() < deadline,
                "none of {wanted:?} appeared within {SCREEN_TIMEOUT:?}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").status();
    }
}
