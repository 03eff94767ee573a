//! Driving the real `ringlet` binary from tests: an isolated `RINGLET_HOME` per test, a clean
//! environment, and helpers to read what the fake agent recorded.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The directory cargo put the running test binary's profile in: `target/<profile>` (or
/// `target/<triple>/<profile>` with `--target`), since test binaries live in its `deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary has a path");
    exe.parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps")
        .to_path_buf()
}

/// A workspace binary of the same profile as the running test, as cargo built it. The tests
/// never run cargo themselves (a build from inside a test picks its own feature set and
/// recompiles half the dependency tree, and races other test processes): build first, e.g.
/// `cargo build --workspace` (tests/run.sh builds everything before it tests). Fails with the
/// command to run when the binary is missing or, with `check_sources`, does not match the
/// sources (see [`stale`]).
fn workspace_bin(package: &str, bin: &str, check_sources: bool) -> PathBuf {
    let path = profile_dir().join(format!("{bin}{}", std::env::consts::EXE_SUFFIX));
    let build = format!("cargo build -p {package} --bin {bin}");
    let Ok(built) = std::fs::metadata(&path).and_then(|m| m.modified()) else {
        panic!(
            "{} is missing: run `{build}` first (the tests use the built binary and never run \
             cargo themselves)",
            path.display()
        );
    };
    if let Some(reason) = check_sources
        .then(|| stale(&path, built, &crate::repo_root()))
        .flatten()
    {
        panic!(
            "{} {reason}: run `{build}` first (the tests use the built binary and never run cargo \
             themselves)",
            path.display()
        );
    }
    path
}

/// Why `bin`, built at `built`, does not match the sources under `repo`, if it does not: by the
/// dep-info file (`<bin>.d`) cargo writes beside it, `<bin>: <source> <source> …` with spaces in
/// paths escaped. A source that changed since, is gone, or lies outside `repo` (a target
/// directory copied from another checkout) makes it stale. Cargo rewrites that file whenever the
/// binary is a target of the build (`cargo build`), fresh or not, but not when it builds the
/// binary only for the integration tests of its package.
fn stale(bin: &Path, built: std::time::SystemTime, repo: &Path) -> Option<String> {
    let text = std::fs::read_to_string(bin.with_extension("d")).ok()?;
    let rule = text.lines().next()?;
    let sources = rule.split_once(": ")?.1;
    let mut paths = Vec::new();
    let mut current = String::new();
    let mut chars = sources.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.extend(chars.next()),
            ' ' => paths.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    paths.push(current);
    // Files a build script generated live in the target directory, not in the repository.
    let target = bin.parent().and_then(Path::parent).unwrap_or(bin);
    paths.iter().filter(|p| !p.is_empty()).find_map(|p| {
        let path = Path::new(p);
        if !path.starts_with(repo) && !path.starts_with(target) {
            return Some(format!("was built from another checkout ({p})"));
        }
        match std::fs::metadata(path).and_then(|m| m.modified()) {
            Ok(changed) if changed <= built => None,
            Ok(_) => Some(format!("is older than {p}")),
            Err(_) => Some(format!("was built from {p}, which is gone")),
        }
    })
}

/// A directory outside `/tmp` for installations that sandboxed agents run in: `sandbox-tests/`
/// beside the test binaries, in the build's target directory. A sandboxed agent gets a fresh
/// `/tmp`, so anything under the real one is invisible inside whatever the policy says, and a
/// test there could not tell a hidden file from a missing one. Fails when the target directory
/// itself is under `/tmp`.
pub fn outside_tmp() -> PathBuf {
    let dir = profile_dir().join("sandbox-tests");
    assert!(
        !dir.starts_with("/tmp"),
        "the sandbox tests need a target directory outside /tmp (it is {}): the sandbox's fresh /tmp would hide everything there",
        dir.display()
    );
    dir
}

/// The `ringlet` binary built from this workspace.
pub fn ringlet_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| workspace_bin("ringlet-cli", "ringlet", true))
}

/// The fake agent binary.
pub fn fake_agent_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    // Cargo builds it before the integration tests of this package (its dep-info file is then
    // not rewritten, so it cannot be checked against the sources; it needs no check).
    BIN.get_or_init(|| workspace_bin("ringlet-tests", "fake-agent", false))
}

/// The fake MCP server binary (built with the tests, like [`fake_agent_bin`]).
pub fn fake_mcp_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| workspace_bin("ringlet-tests", "fake-mcp", false))
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

    /// A fresh, empty installation in a temp dir under `parent` (created when missing), e.g.
    /// [`outside_tmp`] for the sandbox tests.
    pub fn new_in(parent: &Path) -> Self {
        std::fs::create_dir_all(parent).expect("temp parent");
        Self {
            dir: tempfile::tempdir_in(parent).expect("tempdir"),
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

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::stale;

    /// A fake built binary in `dir/target/debug` with the dep-info `rule`, "built" at `built`.
    fn binary(dir: &std::path::Path, rule: &str) -> std::path::PathBuf {
        let profile = dir.join("target/debug");
        std::fs::create_dir_all(&profile).expect("mkdir");
        let bin = profile.join("tool");
        std::fs::write(&bin, "").expect("bin");
        std::fs::write(
            profile.join("tool.d"),
            format!("{}: {rule}\n", bin.display()),
        )
        .expect("dep-info");
        bin
    }

    #[test]
    fn a_binary_is_stale_when_a_source_changed_vanished_or_lies_elsewhere() {
        // The target directory outside the repository, as with CARGO_TARGET_DIR.
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = &dir.path().join("repo");
        std::fs::create_dir_all(repo.join("src dir")).expect("mkdir");
        std::fs::write(repo.join("src dir/main.rs"), "").expect("source");
        std::fs::write(repo.join("lib.rs"), "").expect("source");
        let rule = format!("{0}/src\\ dir/main.rs {0}/lib.rs", repo.display());
        let bin = binary(dir.path(), &rule);
        let later = SystemTime::now() + Duration::from_secs(60);
        let earlier = SystemTime::now() - Duration::from_secs(60);

        // Built after every source changed (an escaped space in a path included): current.
        assert_eq!(stale(&bin, later, repo), None);
        // Built before a source changed.
        let reason = stale(&bin, earlier, repo).expect("stale");
        assert!(reason.contains("src dir/main.rs"), "{reason}");
        // A source that is gone.
        std::fs::remove_file(repo.join("lib.rs")).expect("rm");
        let reason = stale(&bin, later, repo).expect("stale");
        assert!(reason.contains("which is gone"), "{reason}");
        // Built from another checkout (a copied target directory).
        let other = tempfile::tempdir().expect("tempdir");
        std::fs::write(other.path().join("lib.rs"), "").expect("source");
        let bin = binary(dir.path(), &format!("{}/lib.rs", other.path().display()));
        let reason = stale(&bin, later, repo).expect("stale");
        assert!(reason.contains("another checkout"), "{reason}");
        // A file a build script generated in the target directory is not a source elsewhere.
        let generated = dir.path().join("target/debug/build/x/out/gen.rs");
        std::fs::create_dir_all(generated.parent().expect("parent")).expect("mkdir");
        std::fs::write(&generated, "").expect("generated");
        let bin = binary(dir.path(), &generated.display().to_string());
        assert_eq!(stale(&bin, later, repo), None);
    }
}
