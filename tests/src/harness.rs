//! Driving the real `ringlet` binary from tests: an isolated `RINGLET_HOME` per test, a clean
//! environment, and helpers to read what the fake agent recorded.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// Builds (once per test process) and returns a workspace binary of the same profile as the
/// running test, so tests always exercise the current code.
fn workspace_bin(package: &str, bin: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary has a path");
    // target/<profile>/deps/<test> → target/<profile>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps")
        .to_path_buf();
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet", "-p", package, "--bin", bin])
        .current_dir(crate::repo_root());
    if release {
        cmd.arg("--release");
    }
    let status = cmd.status().expect("cargo runs");
    assert!(status.success(), "building {bin} failed");
    profile_dir.join(bin)
}

/// The `ringlet` binary built from this workspace.
pub fn ringlet_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| workspace_bin("ringlet-cli", "ringlet"))
}

/// The fake agent binary.
pub fn fake_agent_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| workspace_bin("ringlet-tests", "fake-agent"))
}

/// One isolated ringlet installation in a temp dir.
#[derive(Debug)]
pub struct Sandbox {
    dir: tempfile::TempDir,
    envs: Vec<(String, OsString)>,
}

/// What a `ringlet` invocation did.
#[derive(Debug)]
pub struct Run {
    /// Exit code (-1 if killed).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Asserts success, showing stderr otherwise.
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "ringlet failed:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts failure with exactly one stderr line containing `needle` (warning lines, which
    /// may come before it, aside).
    pub fn fails_with(self, needle: &str) -> Self {
        assert_ne!(
            self.code, 0,
            "expected failure, got success:\n{}",
            self.stdout
        );
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty() && !is_warning(l))
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "expected one error line, got: {:?}",
            self.stderr
        );
        assert!(
            self.stderr.contains(needle),
            "stderr {:?} does not mention {needle:?}",
            self.stderr
        );
        self
    }

    /// The warning lines on stderr (`ringlet: warning: …`, or `{"warning": …}` with `--json`).
    pub fn warnings(&self) -> Vec<&str> {
        self.stderr.lines().filter(|l| is_warning(l)).collect()
    }

    /// Parses stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

fn is_warning(line: &str) -> bool {
    line.starts_with("ringlet: warning: ") || line.starts_with("{\"warning\":")
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Self {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    /// A fresh, empty installation.
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
            envs: Vec::new(),
        }
    }

    /// The temp root (RINGLET_HOME is `<root>/ringlet`).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// RINGLET_HOME.
    pub fn ringlet_home(&self) -> PathBuf {
        self.root().join("ringlet")
    }

    /// A profile's directory.
    pub fn profile_dir(&self, alias: &str) -> PathBuf {
        self.ringlet_home().join("data/profiles").join(alias)
    }

    /// A profile's HOME.
    pub fn profile_home(&self, alias: &str) -> PathBuf {
        self.profile_dir(alias).join("home")
    }

    /// Sets a variable for every later invocation.
    pub fn env(&mut self, key: &str, value: impl Into<OsString>) -> &mut Self {
        self.envs.push((key.to_string(), value.into()));
        self
    }

    /// A `ringlet` command with a clean environment: PATH, a temp HOME, RINGLET_HOME, and the
    /// variables set with [`Sandbox::env`].
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = Command::new(ringlet_bin());
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.root().join("user-home"))
            .env("RINGLET_HOME", self.ringlet_home())
            .current_dir(self.root())
            .stdin(Stdio::null());
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `ringlet ARGS` to completion.
    pub fn run<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command(args).output().expect("ringlet starts").into()
    }

    /// Every file below the sandbox root, relative, sorted (for "nothing was written" checks).
    pub fn files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
            if let Ok(entries) = std::fs::read_dir(dir) {
                for e in entries.flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        walk(&p, base, out);
                    } else if let Ok(rel) = p.strip_prefix(base) {
                        out.push(rel.to_path_buf());
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(self.root(), self.root(), &mut out);
        out.sort();
        out
    }
}

/// Reads the fake agent's record.
pub fn read_record(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("fake agent left no record at {}: {e}", path.display()));
    serde_json::from_str(&text).expect("record is JSON")
}
