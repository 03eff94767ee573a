//! Running an agent inside an OS sandbox: bubblewrap (`bwrap`) on Linux, `sandbox-exec` with a
//! generated Seatbelt profile on macOS.
//!
//! The core is a pure transform, [`bwrap_command`] / [`seatbelt_command`]: a [`SandboxPolicy`]
//! (what the user configured) and a [`SandboxRun`] (the facts of one run, all supplied by the
//! caller) in, a [`SandboxedCommand`] (program, argv, environment) out. It reads nothing from the
//! process or the filesystem, so both outputs are unit-tested on any platform. The facts that
//! need the filesystem are gathered by separate helpers the caller runs first:
//! [`AgentRuntime::resolve`] (where the agent's binary and interpreter live),
//! [`WorkspaceGuard::scan`] (which files in the writable directories run code later, outside the
//! sandbox), [`HookAccess::dispatch`] (what `ringlet hooks dispatch` reads), [`find_bwrap`] and
//! [`probe`] (whether bwrap exists and can create namespaces here).
//!
//! What the agent sees (docs/sandbox.md has the user's version):
//! - the system, read-only; a fresh `/tmp`; its own `/proc` and a minimal `/dev`;
//! - the workspace (the run's working directory) and the profile HOME, read-write;
//! - nothing of the user's real HOME, of `$XDG_RUNTIME_DIR` (the ssh-agent, D-Bus and keyring
//!   sockets live there), of ringlet's config, data and cache directories (credentials, the
//!   usage ledger) or of other profiles — except the agent's own binary and runtime, wherever
//!   they are installed, and the few files hook dispatch reads, read-only;
//! - inside the writable directories, the files that run code later outside the sandbox
//!   (`.git/hooks`, `.git/config`, editor task folders, shell rc files, …) read-only.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::paths::Paths;

/// The `sandbox-exec` binary on macOS (it is not looked up on PATH: a planted one would run the
/// agent unsandboxed).
pub const SANDBOX_EXEC: &str = "/usr/bin/sandbox-exec";

/// Files and directories, relative to a writable directory, that something outside the sandbox
/// later executes or obeys: git runs `.git/hooks/*` on commit and reads `core.hooksPath`,
/// aliases and filters from `.git/config`; `.gitmodules` names URLs and commands git fetches;
/// editors run `.vscode/tasks.json` and `.idea` run configurations; shells source rc files when
/// the directory is a HOME; direnv runs `.envrc` on `cd`; Claude Code runs the hooks in
/// `.claude/settings*.json` and the MCP servers in `.mcp.json`. An agent that could write them
/// would escape the moment the user commits, opens the editor or runs the agent unsandboxed.
pub const GUARDED_PATHS: &[&str] = &[
    ".git/hooks",
    ".git/config",
    ".gitmodules",
    ".vscode",
    ".idea",
    ".envrc",
    ".mcp.json",
    ".claude/settings.json",
    ".claude/settings.local.json",
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
    ".zlogout",
    ".config/fish/config.fish",
];

/// Variables removed from a sandboxed agent's environment: each points at a socket that acts
/// with the user's authority outside the sandbox (signing with the user's SSH or GPG keys,
/// asking the keyring over D-Bus for ringlet's own keys, reading the screen), and some of those
/// sockets stay reachable through the shared network namespace (abstract sockets) even when
/// their directory is hidden.
pub const SANDBOX_ENV_REMOVE: &[&str] = &[
    "SSH_AUTH_SOCK",
    "SSH_AGENT_PID",
    "GPG_AGENT_INFO",
    "DBUS_SESSION_BUS_ADDRESS",
    "XDG_RUNTIME_DIR",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "XAUTHORITY",
];

// ---------------------------------------------------------------------------------------------
// Configuration: `[sandbox]` in config.toml and profile.toml, and the profile's `sandbox` mode.
// ---------------------------------------------------------------------------------------------

/// Whether the sandboxed agent shares the host's network.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Network {
    /// The host's network (the agent must reach its provider's API).
    #[default]
    Shared,
    /// No network at all, loopback included: only for agents pointed at nothing remote.
    None,
}

impl Network {
    /// The name used in TOML.
    pub fn as_str(self) -> &'static str {
        match self {
            Network::Shared => "shared",
            Network::None => "none",
        }
    }
}

/// When a profile's runs are sandboxed (the profile's `sandbox` key).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SandboxMode {
    /// Never.
    Off,
    /// Every run, local ones included.
    Always,
    /// Remote sessions only (an agent started on behalf of a client that is not at this
    /// machine's terminal); a local run is the user typing at their own machine.
    #[default]
    Remote,
}

impl SandboxMode {
    /// Every mode, in the order they are documented.
    pub const ALL: [SandboxMode; 3] = [SandboxMode::Off, SandboxMode::Always, SandboxMode::Remote];

    /// The name used in TOML and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            SandboxMode::Off => "off",
            SandboxMode::Always => "always",
            SandboxMode::Remote => "remote",
        }
    }

    /// Parses a name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// Whether a run is sandboxed: `remote` is whether it is a remote session.
    pub fn applies(self, remote: bool) -> bool {
        match self {
            SandboxMode::Off => false,
            SandboxMode::Always => true,
            SandboxMode::Remote => remote,
        }
    }
}

impl fmt::Display for SandboxMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the user adds to the default sandbox: `[sandbox]` in config.toml (every profile) and in
/// a profile.toml (that profile). See [`SandboxPolicy::merge`] for how the two combine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[non_exhaustive]
pub struct SandboxPolicy {
    /// Absolute paths the agent may also read and write. Paths that do not exist are skipped.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "absolute_paths"
    )]
    pub extra_rw: Vec<PathBuf>,
    /// Absolute paths the agent may also read. Paths that do not exist are skipped.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "absolute_paths"
    )]
    pub extra_ro: Vec<PathBuf>,
    /// `shared` (the default) or `none`.
    #[serde(default, skip_serializing_if = "is_shared")]
    pub network: Network,
}

fn is_shared(n: &Network) -> bool {
    *n == Network::Shared
}

impl SandboxPolicy {
    /// The default policy: nothing extra, network shared.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a read-write path.
    pub fn extra_rw(mut self, path: impl Into<PathBuf>) -> Self {
        self.extra_rw.push(path.into());
        self
    }

    /// Adds a read-only path.
    pub fn extra_ro(mut self, path: impl Into<PathBuf>) -> Self {
        self.extra_ro.push(path.into());
        self
    }

    /// Sets the network.
    pub fn network(mut self, network: Network) -> Self {
        self.network = network;
        self
    }

    /// Checks what deserialisation checks, for a policy built in code: every path absolute and
    /// without `..`.
    pub fn validate(&self) -> Result<()> {
        for p in self.extra_rw.iter().chain(&self.extra_ro) {
            check_absolute(p).map_err(|m| Error::InvalidInput(format!("[sandbox] {m}")))?;
        }
        Ok(())
    }

    /// config.toml's `[sandbox]` (self) combined with a profile's: the extra paths of both, and
    /// no network when either says so — a stricter global setting is not undone per profile.
    pub fn merge(&self, profile: &SandboxPolicy) -> SandboxPolicy {
        let mut out = self.clone();
        for p in &profile.extra_rw {
            if !out.extra_rw.contains(p) {
                out.extra_rw.push(p.clone());
            }
        }
        for p in &profile.extra_ro {
            if !out.extra_ro.contains(p) {
                out.extra_ro.push(p.clone());
            }
        }
        if profile.network == Network::None {
            out.network = Network::None;
        }
        out
    }
}

fn check_absolute(p: &Path) -> std::result::Result<(), String> {
    let shown = p.display().to_string().escape_debug().to_string();
    if !p.is_absolute() {
        return Err(format!(
            "path '{shown}' is not absolute; write it in full (`~` and variables are not expanded)"
        ));
    }
    if p.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(format!("path '{shown}' contains '..'; write it without"));
    }
    Ok(())
}

fn absolute_paths<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<PathBuf>, D::Error> {
    let paths = Vec::<PathBuf>::deserialize(d)?;
    for p in &paths {
        check_absolute(p).map_err(serde::de::Error::custom)?;
    }
    Ok(paths)
}

/// A profile's sandbox settings: the mode and the profile's own `[sandbox]` additions.
///
/// In profile.toml either `sandbox = "always"` (a mode alone), or a table:
///
/// ```toml
/// [sandbox]
/// mode = "always"          # off | always | remote (the default)
/// extra-rw = ["/var/log/myapp"]
/// extra-ro = ["/opt/datasets"]
/// network = "none"         # shared (the default) | none
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProfileSandbox {
    /// When the profile's runs are sandboxed.
    pub mode: SandboxMode,
    /// What the profile adds to config.toml's `[sandbox]`.
    pub policy: SandboxPolicy,
}

impl ProfileSandbox {
    /// Settings with this mode and no additions.
    pub fn new(mode: SandboxMode) -> Self {
        Self {
            mode,
            policy: SandboxPolicy::default(),
        }
    }

    /// Sets the profile's additions.
    pub fn policy(mut self, policy: SandboxPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Whether nothing differs from the default (so profile.toml need not mention it).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// The table form of [`ProfileSandbox`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ProfileSandboxTable {
    #[serde(default)]
    mode: SandboxMode,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "absolute_paths"
    )]
    extra_rw: Vec<PathBuf>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "absolute_paths"
    )]
    extra_ro: Vec<PathBuf>,
    #[serde(default, skip_serializing_if = "is_shared")]
    network: Network,
}

impl Serialize for ProfileSandbox {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if self.policy == SandboxPolicy::default() {
            return s.serialize_str(self.mode.as_str());
        }
        ProfileSandboxTable {
            mode: self.mode,
            extra_rw: self.policy.extra_rw.clone(),
            extra_ro: self.policy.extra_ro.clone(),
            network: self.policy.network,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for ProfileSandbox {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ProfileSandbox;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "\"off\", \"always\" or \"remote\", or a [sandbox] table with mode, extra-rw, extra-ro, network",
                )
            }

            fn visit_str<E: serde::de::Error>(
                self,
                v: &str,
            ) -> std::result::Result<Self::Value, E> {
                SandboxMode::from_name(v)
                    .map(ProfileSandbox::new)
                    .ok_or_else(|| {
                        E::custom(format!(
                            "sandbox '{}' is not one of: off, always, remote",
                            v.escape_debug()
                        ))
                    })
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let t = ProfileSandboxTable::deserialize(
                    serde::de::value::MapAccessDeserializer::new(map),
                )?;
                Ok(ProfileSandbox {
                    mode: t.mode,
                    policy: SandboxPolicy {
                        extra_rw: t.extra_rw,
                        extra_ro: t.extra_ro,
                        network: t.network,
                    },
                })
            }
        }
        d.deserialize_any(Visitor)
    }
}

// ---------------------------------------------------------------------------------------------
// The facts of one run.
// ---------------------------------------------------------------------------------------------

/// ringlet's own directories, which the agent must not read: the config directory holds the
/// credentials file, the data directory the usage ledger and every profile, the cache directory
/// the remembered script outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RingletDirs {
    /// The config directory.
    pub config: PathBuf,
    /// The data directory.
    pub data: PathBuf,
    /// The cache directory.
    pub cache: PathBuf,
    /// The credentials file. It is hidden with the directory that holds it, never as a file
    /// alone: a file hidden by a mount would reappear when ringlet replaces it (atomic writes
    /// rename a new file over the old one).
    pub credentials_file: PathBuf,
    /// The directory holding every profile.
    pub profiles: PathBuf,
}

impl RingletDirs {
    /// The directories of `paths`. They must exist when the sandbox starts (bwrap mounts over
    /// them); [`Paths::ensure`] creates them.
    pub fn from_paths(paths: &Paths) -> Self {
        Self {
            config: paths.config_dir().to_path_buf(),
            data: paths.data_dir().to_path_buf(),
            cache: paths.cache_dir().to_path_buf(),
            credentials_file: paths.credentials_file(),
            profiles: paths.profiles_dir(),
        }
    }

    /// The directories hidden from the agent, ringlet's own first.
    fn hidden(&self) -> Vec<PathBuf> {
        let mut dirs = vec![
            self.config.clone(),
            self.data.clone(),
            self.cache.clone(),
            self.profiles.clone(),
        ];
        if let Some(parent) = self.credentials_file.parent() {
            dirs.push(parent.to_path_buf());
        }
        dirs
    }
}

/// What the agent's hooks need to call back into ringlet from inside the sandbox.
///
/// `ringlet hooks dispatch` (what Claude Code, Droid, Gemini CLI and the OpenCode plugin run
/// for every tool call) opens ringlet with explicit directories and reads: `config.toml`
/// (the credential backend setting; dispatch itself uses an in-memory key store and never
/// reads a key), `agents.d/` and `providers.d/` (the catalogue), the global `hooks/`, and the
/// profile's directory (`profile.toml`, `run-stats`, `hooks/`). It writes nothing: the
/// once-only ledger `hooks-state.db` and the usage ledger `usage.db` are written by the
/// scheduled checks that the ringlet outside the sandbox runs after the agent exits, not by
/// dispatch — so neither is visible, and the usage of other profiles stays private. Hooks the
/// agent triggers run inside the sandbox, with its limits. When any of this cannot be read,
/// dispatch fails and a `pre-tool-use` call is denied, never silently allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HookAccess {
    /// The ringlet executable the agent's hooks run (visible read-only wherever it is).
    pub program: Option<PathBuf>,
    /// Paths dispatch reads (read-only; skipped when missing).
    pub read_only: Vec<PathBuf>,
    /// Paths dispatch writes (read-write; skipped when missing). Empty today, see above.
    pub read_write: Vec<PathBuf>,
}

impl HookAccess {
    /// No hook transport: the agent's hooks are not wired.
    pub fn none() -> Self {
        Self::default()
    }

    /// What `ringlet hooks dispatch --profile <alias>` needs, with `program` as the transport.
    pub fn dispatch(program: impl Into<PathBuf>, dirs: &RingletDirs, alias: &str) -> Self {
        Self {
            program: Some(program.into()),
            read_only: vec![
                dirs.config.join("config.toml"),
                dirs.config.join("agents.d"),
                dirs.config.join("providers.d"),
                dirs.config.join(crate::hooks::HOOKS_DIR),
                dirs.profiles.join(alias),
            ],
            read_write: Vec::new(),
        }
    }
}

/// Where the agent's binary and runtime live, so the sandbox can show them (read-only) even
/// under the hidden HOME: agents are often installed under `~/.nvm`, `~/.local` or a
/// project-local `node_modules`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AgentRuntime {
    /// The program to run inside the sandbox: the agent's binary with symlinks resolved (a
    /// symlink in a hidden directory would not resolve inside).
    pub program: PathBuf,
    /// The directories (or files) to show: the package the binary belongs to, the directory it
    /// was found in, and the interpreter of a `#!` script with its installation prefix.
    pub read_only: Vec<PathBuf>,
}

impl AgentRuntime {
    /// Finds what `program` (a path, or a name looked up on `search_path`) needs: the canonical
    /// binary, its package directory (the outermost `node_modules` for a Node package, else the
    /// binary's directory), the directory it was found in, and the interpreter named in its
    /// `#!` line (`#!/usr/bin/env node` is looked up on `search_path`) with its prefix. Never
    /// names `user_home` itself or a directory holding it.
    pub fn resolve(program: &Path, search_path: &OsStr, user_home: &Path) -> Result<Self> {
        let found = locate(program, search_path)?;
        let canonical = std::fs::canonicalize(&found)
            .map_err(|e| Error::io("resolving the agent program", &found, e))?;
        let mut dirs = Vec::new();
        if let Some(parent) = found.parent() {
            dirs.push(narrowest_safe(parent, &found, user_home));
        }
        dirs.push(package_dir(&canonical, user_home));
        // An interpreter can itself be a script (a version manager's shim): follow a few.
        let mut script = canonical.clone();
        for _ in 0..4 {
            let Some(name) = shebang_interpreter(&script) else {
                break;
            };
            let interpreter = match locate(&name, search_path) {
                Ok(p) => p,
                Err(_) => break,
            };
            let Ok(real) = std::fs::canonicalize(&interpreter) else {
                break;
            };
            if let Some(parent) = interpreter.parent() {
                dirs.push(narrowest_safe(parent, &interpreter, user_home));
            }
            dirs.push(prefix_dir(&real, user_home));
            script = real;
        }
        Ok(Self {
            program: canonical,
            read_only: outermost(dirs),
        })
    }
}

fn locate(program: &Path, search_path: &OsStr) -> Result<PathBuf> {
    if program.components().count() > 1 {
        return if program.is_absolute() {
            Ok(program.to_path_buf())
        } else {
            Err(Error::InvalidInput(format!(
                "the sandbox needs the agent program as an absolute path, not '{}'",
                program.display()
            )))
        };
    }
    which::which_in(program, Some(search_path), "/").map_err(|_| {
        Error::InvalidInput(format!(
            "'{}' was not found in PATH ({}); the sandbox cannot show the agent what it needs",
            program.display(),
            search_path.to_string_lossy()
        ))
    })
}

/// Whether showing `dir` would show the whole HOME or a broad part of it (`~/.local`,
/// `~/.config`).
fn too_broad(dir: &Path, user_home: &Path) -> bool {
    user_home.starts_with(dir) || dir.parent() == Some(user_home)
}

/// `dir`, unless it is the HOME or holds it; then `file` alone. (A directory the program was
/// found in, like `~/bin` or `~/.local/bin`, is what PATH names: fine to show.)
fn narrowest_safe(dir: &Path, file: &Path, user_home: &Path) -> PathBuf {
    if user_home.starts_with(dir) {
        file.to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// The package a canonical binary belongs to: the outermost `node_modules` above it (a Node
/// package's hoisted dependencies live beside it), else its directory.
fn package_dir(canonical: &Path, user_home: &Path) -> PathBuf {
    let mut found = None;
    let mut cur = canonical.parent();
    while let Some(dir) = cur {
        if dir.file_name() == Some(OsStr::new("node_modules")) {
            found = Some(dir.to_path_buf());
        }
        cur = dir.parent();
    }
    match (found, canonical.parent()) {
        (Some(nm), _) => nm,
        (None, Some(dir)) => narrowest_safe(dir, canonical, user_home),
        (None, None) => canonical.to_path_buf(),
    }
}

/// An interpreter's installation prefix (`~/.nvm/versions/node/v22/bin/node` →
/// `~/.nvm/versions/node/v22`) when that is a dedicated directory, else its directory.
fn prefix_dir(interpreter: &Path, user_home: &Path) -> PathBuf {
    let Some(bin) = interpreter.parent() else {
        return interpreter.to_path_buf();
    };
    if bin.file_name() == Some(OsStr::new("bin"))
        && let Some(prefix) = bin.parent()
        && prefix != Path::new("/")
        && !too_broad(prefix, user_home)
    {
        return prefix.to_path_buf();
    }
    narrowest_safe(bin, interpreter, user_home)
}

/// The interpreter a `#!` line names: its path, or for `/usr/bin/env [-S] [VAR=x] name …` the
/// name to look up.
fn shebang_interpreter(file: &Path) -> Option<PathBuf> {
    let mut head = [0u8; 256];
    let mut f = std::fs::File::open(file).ok()?;
    let mut len = 0;
    while len < head.len() {
        match f.read(&mut head[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(_) => return None,
        }
    }
    parse_shebang(&head[..len])
}

fn parse_shebang(head: &[u8]) -> Option<PathBuf> {
    let line = head.strip_prefix(b"#!")?;
    let end = line.iter().position(|&b| b == b'\n').unwrap_or(line.len());
    let line = std::str::from_utf8(&line[..end]).ok()?;
    let mut words = line.split_whitespace();
    let interpreter = words.next()?;
    if Path::new(interpreter).file_name() != Some(OsStr::new("env")) {
        return Some(PathBuf::from(interpreter));
    }
    words
        .find(|w| !w.starts_with('-') && !w.contains('='))
        .map(PathBuf::from)
}

/// Paths without those inside another one of them, in their first order.
fn outermost(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for p in &paths {
        if paths.iter().any(|q| q != p && p.starts_with(q)) || out.contains(p) {
            continue;
        }
        out.push(p.clone());
    }
    out
}

/// The guarded paths ([`GUARDED_PATHS`]) of the writable directories, as found on disk before
/// the run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkspaceGuard {
    /// The writable directories scanned.
    pub(crate) roots: Vec<PathBuf>,
    /// Directories between a root and a pinned path (`.git`, `.claude`): writable inside, but
    /// they must not be renamed or replaced — moving `.git` aside and copying it back would shed
    /// the read-only mounts inside it. bwrap mounts them onto themselves, and a mount point
    /// cannot be renamed or removed.
    pub(crate) anchors: Vec<PathBuf>,
    /// Guarded paths that exist: read-only inside the sandbox.
    pub(crate) pinned: Vec<PathBuf>,
    /// Guarded paths bwrap cannot make read-only: missing ones (a mount needs an existing
    /// target, and creating one would litter the user's directory) and ones reached through a
    /// symlink (the mount would land on the link's target). The agent can create or change
    /// them; [`SandboxedCommand::appeared`] tells which exist after the run. The Seatbelt
    /// profile denies writes to them all.
    pub(crate) unguarded: Vec<PathBuf>,
}

impl WorkspaceGuard {
    /// Looks at each writable root (the workspace and every `extra-rw` directory) for the
    /// guarded paths, the `.git` directory or `gitdir:` file, and a `core.hooksPath` in
    /// `.git/config` that points inside the root.
    pub fn scan<P: AsRef<Path>>(roots: &[P]) -> Self {
        let mut g = WorkspaceGuard::default();
        for root in roots {
            let root = root.as_ref();
            g.roots.push(root.to_path_buf());
            if !root.is_dir() {
                continue;
            }
            let mut guarded: Vec<PathBuf> = GUARDED_PATHS.iter().map(|r| root.join(r)).collect();
            let dot_git = root.join(".git");
            match std::fs::symlink_metadata(&dot_git) {
                Ok(m) if m.is_file() => {
                    // A worktree or submodule: `.git` names the real git directory. The pointer
                    // itself is guarded (else it could be pointed elsewhere), and so is the git
                    // directory's hooks and config when it lies inside the root.
                    guarded.push(dot_git.clone());
                    if let Some(gitdir) = read_gitdir(&dot_git, root)
                        && gitdir.starts_with(root)
                    {
                        guarded.push(gitdir.join("hooks"));
                        guarded.push(gitdir.join("config"));
                    }
                }
                _ => {}
            }
            if let Some(hooks) = hooks_path(&root.join(".git/config"), root)
                && hooks.starts_with(root)
            {
                guarded.push(hooks);
            }
            for path in guarded {
                if g.pinned.contains(&path) || g.unguarded.contains(&path) {
                    continue;
                }
                if through_symlink(root, &path) || std::fs::symlink_metadata(&path).is_err() {
                    g.unguarded.push(path);
                    continue;
                }
                // Every directory between the root and a pinned path is anchored: renaming
                // `.git` (or `.claude`) aside and copying it back would shed the mounts inside.
                let mut above: Vec<PathBuf> = path
                    .ancestors()
                    .skip(1)
                    .take_while(|a| *a != root && a.starts_with(root))
                    .map(Path::to_path_buf)
                    .collect();
                above.reverse();
                for a in above {
                    if !g.anchors.contains(&a) {
                        g.anchors.push(a);
                    }
                }
                g.pinned.push(path);
            }
        }
        // Outer directories first: a mount made later inside them stays visible.
        g.anchors.sort_by_key(|a| a.components().count());
        g
    }

    /// The guarded paths that will be read-only.
    pub fn pinned(&self) -> &[PathBuf] {
        &self.pinned
    }

    /// The guarded paths bwrap cannot make read-only (missing, or behind a symlink).
    pub fn unguarded(&self) -> &[PathBuf] {
        &self.unguarded
    }

    fn covers(&self, root: &Path) -> bool {
        self.roots.iter().any(|r| r == root)
    }
}

/// Whether any component of `path` below `root` (the path itself included) is a symlink.
fn through_symlink(root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return true;
    };
    let mut cur = root.to_path_buf();
    for c in rel.components() {
        cur.push(c);
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

fn read_gitdir(dot_git: &Path, root: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(dot_git).ok()?;
    let dir = text.lines().next()?.strip_prefix("gitdir:")?.trim();
    let dir = root.join(dir);
    Some(lexical_normal(&dir))
}

/// `core.hooksPath` from a git config file, resolved against the worktree root.
fn hooks_path(config: &Path, root: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(config).ok()?;
    let mut in_core = false;
    let mut found = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            let name = line.trim_start_matches('[').trim_end_matches(']').trim();
            in_core = name.eq_ignore_ascii_case("core");
            continue;
        }
        if !in_core {
            continue;
        }
        if let Some((k, v)) = line.split_once('=')
            && k.trim().eq_ignore_ascii_case("hookspath")
        {
            let v = v.trim().trim_matches('"');
            found = Some(lexical_normal(&root.join(v)));
        }
    }
    found
}

fn lexical_normal(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// Who else uses the terminal the agent writes to; decides bwrap's `--new-session`.
///
/// `--new-session` (setsid) is the defence against `TIOCSTI`: a process whose controlling
/// terminal is the user's can push characters into its input queue, and the user's shell runs
/// them — outside the sandbox — once the agent exits. But it also takes the terminal away from
/// the agent as its controlling terminal: no job control (Ctrl-Z), no `SIGINT` from Ctrl-C in
/// cooked mode, no `SIGWINCH` on resize (a TUI agent stops redrawing), and `/dev/tty` cannot be
/// opened. So it is used only where nothing interactive is lost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Terminal {
    /// The user's own terminal (a CLI run that inherits it). No `--new-session`: the agent
    /// needs job control and `SIGWINCH`. `TIOCSTI` is then refused only by the kernel's own
    /// setting (`dev.tty.legacy_tiocsti = 0`, Linux 6.2+); see [`SandboxProbe::tiocsti_blocked`].
    Shared,
    /// A PTY ringlet allocated for this run (remote sessions). No `--new-session`: characters
    /// pushed into it only reach the agent itself, and the agent keeps job control and resize.
    Private,
    /// No terminal (pipes): `--new-session`, since an inherited controlling terminal would be
    /// someone else's.
    #[default]
    None,
}

/// The facts of one run, all supplied by the caller: the transform reads nothing else.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SandboxRun {
    /// The program to run (absolute; [`AgentRuntime::program`] when the runtime was resolved).
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// The environment to give it (passed through; never put into argv).
    pub env: BTreeMap<String, String>,
    /// The run's working directory: read-write.
    pub workspace: PathBuf,
    /// The profile HOME: read-write.
    pub profile_home: PathBuf,
    /// The user's real HOME: hidden.
    pub user_home: PathBuf,
    /// `$XDG_RUNTIME_DIR` (sockets of the user's ssh-agent, keyring, D-Bus session): hidden.
    pub runtime_dir: Option<PathBuf>,
    /// ringlet's directories: hidden.
    pub ringlet: RingletDirs,
    /// The agent's binary and runtime: visible read-only wherever they are.
    pub runtime: Vec<PathBuf>,
    /// What hook dispatch needs.
    pub hooks: HookAccess,
    /// The guarded paths of the writable directories.
    pub guard: WorkspaceGuard,
    /// Who else uses the agent's terminal.
    pub terminal: Terminal,
}

impl fmt::Debug for SandboxRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The environment may hold a key: names only.
        f.debug_struct("SandboxRun")
            .field("program", &self.program)
            .field("args", &self.args)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("workspace", &self.workspace)
            .field("profile_home", &self.profile_home)
            .field("user_home", &self.user_home)
            .field("runtime_dir", &self.runtime_dir)
            .field("ringlet", &self.ringlet)
            .field("runtime", &self.runtime)
            .field("hooks", &self.hooks)
            .field("guard", &self.guard)
            .field("terminal", &self.terminal)
            .finish()
    }
}

impl SandboxRun {
    /// The facts every run has. The rest defaults to: no arguments, an empty environment, no
    /// runtime directory, no extra runtime paths, no hook transport, no terminal — and a
    /// workspace guard that covers nothing, which the transform refuses: scan with
    /// [`WorkspaceGuard::scan`] and set it with [`guard`](Self::guard).
    pub fn new(
        program: impl Into<PathBuf>,
        workspace: impl Into<PathBuf>,
        profile_home: impl Into<PathBuf>,
        user_home: impl Into<PathBuf>,
        ringlet: RingletDirs,
    ) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: BTreeMap::new(),
            workspace: workspace.into(),
            profile_home: profile_home.into(),
            user_home: user_home.into(),
            runtime_dir: None,
            ringlet,
            runtime: Vec::new(),
            hooks: HookAccess::none(),
            guard: WorkspaceGuard::default(),
            terminal: Terminal::None,
        }
    }

    /// Sets the arguments.
    pub fn args(mut self, args: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the environment.
    pub fn env(mut self, env: BTreeMap<String, String>) -> Self {
        self.env = env;
        self
    }

    /// Sets `$XDG_RUNTIME_DIR`, to hide.
    pub fn runtime_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.runtime_dir = Some(dir.into());
        self
    }

    /// Uses a resolved runtime: its program becomes the one run, its paths are shown.
    pub fn agent_runtime(mut self, runtime: AgentRuntime) -> Self {
        self.program = runtime.program;
        self.runtime = runtime.read_only;
        self
    }

    /// Sets the hook access.
    pub fn hooks(mut self, hooks: HookAccess) -> Self {
        self.hooks = hooks;
        self
    }

    /// Sets the workspace guard.
    pub fn guard(mut self, guard: WorkspaceGuard) -> Self {
        self.guard = guard;
        self
    }

    /// Sets the terminal use.
    pub fn terminal(mut self, terminal: Terminal) -> Self {
        self.terminal = terminal;
        self
    }
}

/// The wrapped command: what to spawn instead of the agent.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SandboxedCommand {
    /// `bwrap`, or `/usr/bin/sandbox-exec`.
    pub program: PathBuf,
    /// Its arguments, ending with the agent's program and arguments.
    pub args: Vec<OsString>,
    /// Variables to set (the run's environment, adjusted).
    pub env: BTreeMap<String, String>,
    /// Variables to remove from whatever the process would otherwise inherit.
    pub env_remove: Vec<String>,
    /// The directory to start in (the workspace).
    pub cwd: PathBuf,
    /// The Seatbelt profile text, for `sandbox-exec`: the caller writes it to the file named
    /// after `-f` before spawning.
    pub seatbelt_profile: Option<String>,
    /// Guarded paths the sandbox could not make read-only (see [`WorkspaceGuard`]).
    pub unguarded: Vec<PathBuf>,
}

impl fmt::Debug for SandboxedCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxedCommand")
            .field("program", &self.program)
            .field("args", &self.args)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("env_remove", &self.env_remove)
            .field("cwd", &self.cwd)
            .field(
                "seatbelt_profile",
                &self.seatbelt_profile.as_ref().map(|_| ".."),
            )
            .field("unguarded", &self.unguarded)
            .finish()
    }
}

impl SandboxedCommand {
    /// After the run: the guarded paths that could not be made read-only and now exist — for
    /// example `.git/hooks` after the agent ran `git init` — so the caller can tell the user to
    /// review them before git, an editor or a shell runs them.
    pub fn appeared(&self) -> Vec<PathBuf> {
        self.unguarded
            .iter()
            .filter(|p| std::fs::symlink_metadata(p).is_ok())
            .cloned()
            .collect()
    }

    /// A [`Command`] for it (program, args, environment, working directory); stdio is the
    /// caller's.
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.program);
        c.args(&self.args).current_dir(&self.cwd);
        for k in &self.env_remove {
            c.env_remove(k);
        }
        c.envs(&self.env);
        c
    }
}

// ---------------------------------------------------------------------------------------------
// The policy as ordered layers, rendered to bwrap and to Seatbelt.
// ---------------------------------------------------------------------------------------------

/// Whether a mount's source must exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// bwrap fails when it is missing (the run cannot work without it).
    Must,
    /// Skipped when missing.
    Try,
}

/// One step of the filesystem view. Later steps win where they overlap (bwrap: a later mount
/// shadows an earlier one; Seatbelt: the last matching rule decides).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Layer {
    /// Unreadable and unwritable: an empty read-only tmpfs.
    Hide(PathBuf),
    /// Readable, not writable.
    Read(PathBuf, Need),
    /// Readable and writable.
    Write(PathBuf, Need),
    /// Writable inside, but the directory itself cannot be renamed or removed.
    Anchor(PathBuf),
    /// Read-only inside a writable directory; `exists` says whether bwrap can mount it.
    Pin(PathBuf, bool),
}

/// Builds the layers for a run: the one place the policy's order is decided.
///
/// The order, and why (each step wins over the ones before it where paths overlap):
/// 1. (renderers) the system read-only, a fresh `/tmp`, `/dev`, `/proc` — first, so the
///    workspace or ringlet's files under `/tmp` (tests, scratch checkouts) are mounted over the
///    fresh `/tmp` instead of being hidden by it;
/// 2. hide the user's HOME and `$XDG_RUNTIME_DIR`;
/// 3. the grants, sorted from the shallowest path to the deepest so that the more specific
///    wins (an `extra-ro` inside the workspace stays read-only, a workspace inside an `extra-ro`
///    stays writable), writable before read-only at the same path: the agent's runtime and the
///    hook program (read-only, where they lie under the hidden HOME), `extra-ro`, `extra-rw`
///    and the workspace — this re-shows the workspace when it is under HOME;
/// 4. hide ringlet's config, data and cache directories and the profiles — after the grants, so
///    no grant (a workspace or `extra-*` that contains them) can show them;
/// 5. show back what the run itself needs from them: hook dispatch's files (read-only), the
///    runtime when it lives there, then the profile HOME (read-write, after its profile
///    directory's read-only view);
/// 6. last, the guards in the writable directories: the directories above guarded paths
///    (`.git`) mounted onto themselves, then the guarded paths read-only — nothing may undo
///    them;
/// 7. (bwrap) the hiding tmpfs mounts remounted read-only, once everything inside them is
///    mounted.
fn layers(policy: &SandboxPolicy, run: &SandboxRun) -> Vec<Layer> {
    let mut out = Vec::new();

    // 2.
    let mut home_hides = vec![run.user_home.clone()];
    home_hides.extend(run.runtime_dir.clone());
    let home_hides = outermost(home_hides);
    out.extend(home_hides.iter().cloned().map(Layer::Hide));

    // 3.
    let shown: Vec<&PathBuf> = run.runtime.iter().chain(run.hooks.program.iter()).collect();
    let mut grants: Vec<(PathBuf, bool, Need)> = Vec::new();
    for p in &shown {
        if home_hides.iter().any(|h| p.starts_with(h)) {
            grants.push(((*p).clone(), false, Need::Must));
        }
    }
    grants.extend(
        policy
            .extra_ro
            .iter()
            .map(|p| (p.clone(), false, Need::Try)),
    );
    grants.extend(policy.extra_rw.iter().map(|p| (p.clone(), true, Need::Try)));
    grants.push((run.workspace.clone(), true, Need::Must));
    // Stable: equal keys keep the order above.
    grants.sort_by_key(|(p, writable, _)| (p.components().count(), !writable));
    let mut seen: Vec<(PathBuf, bool)> = Vec::new();
    for (p, writable, need) in grants {
        if seen.contains(&(p.clone(), writable)) {
            continue;
        }
        seen.push((p.clone(), writable));
        out.push(if writable {
            Layer::Write(p, need)
        } else {
            Layer::Read(p, need)
        });
    }

    // 4.
    let ringlet_hidden = outermost(run.ringlet.hidden());
    out.extend(ringlet_hidden.iter().cloned().map(Layer::Hide));

    // 5.
    out.extend(
        run.hooks
            .read_only
            .iter()
            .map(|p| Layer::Read(p.clone(), Need::Try)),
    );
    for p in &shown {
        // Inside the profile HOME it is shown (writable) with it, below.
        if ringlet_hidden.iter().any(|h| p.starts_with(h)) && !p.starts_with(&run.profile_home) {
            out.push(Layer::Read((*p).clone(), Need::Must));
        }
    }
    out.extend(
        run.hooks
            .read_write
            .iter()
            .map(|p| Layer::Write(p.clone(), Need::Try)),
    );
    out.push(Layer::Write(run.profile_home.clone(), Need::Must));

    // 6.
    out.extend(run.guard.anchors.iter().cloned().map(Layer::Anchor));
    out.extend(
        run.guard
            .pinned
            .iter()
            .cloned()
            .map(|p| Layer::Pin(p, true)),
    );
    out.extend(
        run.guard
            .unguarded
            .iter()
            .cloned()
            .map(|p| Layer::Pin(p, false)),
    );
    out
}

/// Checks the facts before anything is built from them.
fn check(policy: &SandboxPolicy, run: &SandboxRun) -> Result<()> {
    policy.validate()?;
    let abs = |what: &str, p: &Path| {
        check_absolute(p).map_err(|m| Error::InvalidInput(format!("sandbox {what}: {m}")))
    };
    abs("program", &run.program)?;
    abs("workspace", &run.workspace)?;
    abs("profile HOME", &run.profile_home)?;
    abs("user HOME", &run.user_home)?;
    if let Some(d) = &run.runtime_dir {
        abs("runtime dir", d)?;
    }
    for d in run.ringlet.hidden() {
        abs("ringlet directory", &d)?;
    }
    for p in run
        .runtime
        .iter()
        .chain(&run.hooks.read_only)
        .chain(&run.hooks.read_write)
        .chain(run.hooks.program.iter())
    {
        abs("path", p)?;
    }
    if run.user_home == Path::new("/") {
        return Err(Error::InvalidInput(
            "the user's HOME is '/': the sandbox cannot hide it; set HOME to the user's home directory"
                .into(),
        ));
    }
    let ws = &run.workspace;
    if run.user_home.starts_with(ws) {
        return Err(Error::InvalidInput(format!(
            "the workspace {} would give the sandboxed agent your whole HOME ({}), ~/.ssh included; run it from a project directory (add other paths with `extra-rw`/`extra-ro` under [sandbox])",
            ws.display(),
            run.user_home.display()
        )));
    }
    for p in policy.extra_rw.iter().chain(&policy.extra_ro) {
        if run.user_home.starts_with(p) {
            return Err(Error::InvalidInput(format!(
                "[sandbox] path {} would show the sandboxed agent your whole HOME ({}), ~/.ssh included; name the directories inside it you need",
                p.display(),
                run.user_home.display()
            )));
        }
    }
    for hidden in outermost(run.ringlet.hidden()) {
        let inside_own_home = ws.starts_with(&run.profile_home);
        if ws.starts_with(&hidden) && !inside_own_home {
            return Err(Error::InvalidInput(format!(
                "the workspace {} is inside ringlet's own directory {}, which the sandbox hides; run the agent from a project directory",
                ws.display(),
                hidden.display()
            )));
        }
        for p in policy.extra_rw.iter().chain(&policy.extra_ro) {
            if p.starts_with(&hidden) {
                return Err(Error::InvalidInput(format!(
                    "[sandbox] path {} is inside ringlet's own directory {}, which the sandbox always hides (it holds keys and other profiles)",
                    p.display(),
                    hidden.display()
                )));
            }
        }
    }
    let mut roots = vec![ws.clone()];
    roots.extend(policy.extra_rw.iter().cloned());
    for root in roots {
        if !run.guard.covers(&root) {
            return Err(Error::InvalidInput(format!(
                "the sandbox's workspace guard does not cover {}; scan the workspace and every extra-rw path with WorkspaceGuard::scan",
                root.display()
            )));
        }
    }
    Ok(())
}

/// The bwrap command for a run: `bwrap` is the path [`find_bwrap`] returned.
///
/// bwrap's own environment is passed to the agent unchanged, so the run's environment (and the
/// key the launcher adds to it) goes into [`SandboxedCommand::env`], never into argv, where any
/// user could read it in `/proc/<pid>/cmdline`.
pub fn bwrap_command(
    bwrap: &Path,
    policy: &SandboxPolicy,
    run: &SandboxRun,
) -> Result<SandboxedCommand> {
    check(policy, run)?;
    let layers = layers(policy, run);
    let mut a: Vec<OsString> = Vec::new();
    let mut push = |parts: &[&OsStr]| a.extend(parts.iter().map(|s| s.to_os_string()));

    push(&[
        "--unshare-user".as_ref(),
        "--unshare-pid".as_ref(),
        "--unshare-ipc".as_ref(),
    ]);
    if policy.network == Network::None {
        push(&["--unshare-net".as_ref()]);
    }
    // Without it, an agent started by root keeps every capability in its user namespace and can
    // unmount what hides the real HOME, or remount the system read-write.
    push(&[
        "--die-with-parent".as_ref(),
        "--cap-drop".as_ref(),
        "ALL".as_ref(),
    ]);
    if run.terminal == Terminal::None {
        push(&["--new-session".as_ref()]);
    }
    // 1. (see `layers` for the whole order)
    push(&[
        "--ro-bind".as_ref(),
        "/".as_ref(),
        "/".as_ref(),
        "--dev".as_ref(),
        "/dev".as_ref(),
        "--proc".as_ref(),
        "/proc".as_ref(),
        "--tmpfs".as_ref(),
        "/tmp".as_ref(),
    ]);
    let mut hidden = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        match l {
            Layer::Hide(p) => {
                push(&["--tmpfs".as_ref(), p.as_os_str()]);
                // Read-only at the end (after the mounts inside it were made), unless a later
                // mount sits exactly here: `--remount-ro` would hit that one instead.
                let remounted = layers[i + 1..].iter().any(|later| match later {
                    Layer::Hide(q)
                    | Layer::Read(q, _)
                    | Layer::Write(q, _)
                    | Layer::Anchor(q)
                    | Layer::Pin(q, _) => q == p,
                });
                if !remounted {
                    hidden.push(p.clone());
                }
            }
            Layer::Read(p, Need::Must) | Layer::Pin(p, true) => {
                push(&["--ro-bind".as_ref(), p.as_os_str(), p.as_os_str()]);
            }
            Layer::Read(p, Need::Try) => {
                push(&["--ro-bind-try".as_ref(), p.as_os_str(), p.as_os_str()]);
            }
            Layer::Write(p, Need::Must) | Layer::Anchor(p) => {
                push(&["--bind".as_ref(), p.as_os_str(), p.as_os_str()]);
            }
            Layer::Write(p, Need::Try) => {
                push(&["--bind-try".as_ref(), p.as_os_str(), p.as_os_str()]);
            }
            // bwrap can only mount onto an existing path; see WorkspaceGuard::unguarded.
            Layer::Pin(_, false) => {}
        }
    }
    // A writable tmpfs would let the agent "write" files under the hidden HOME that silently
    // vanish; read-only, the write fails like any other outside the allowed places. Not
    // recursive: the mounts made inside stay as they are.
    for p in &hidden {
        push(&["--remount-ro".as_ref(), p.as_os_str()]);
    }
    push(&[
        "--chdir".as_ref(),
        run.workspace.as_os_str(),
        "--".as_ref(),
        run.program.as_os_str(),
    ]);
    a.extend(run.args.iter().map(OsString::from));

    let mut env = run.env.clone();
    for k in SANDBOX_ENV_REMOVE {
        env.remove(*k);
    }
    // The fresh /tmp is the one writable scratch place outside the workspace; a TMPDIR pointing
    // elsewhere would be read-only or hidden.
    env.insert("TMPDIR".into(), "/tmp".into());
    Ok(SandboxedCommand {
        program: bwrap.to_path_buf(),
        args: a,
        env,
        env_remove: SANDBOX_ENV_REMOVE.iter().map(|s| s.to_string()).collect(),
        cwd: run.workspace.clone(),
        seatbelt_profile: None,
        unguarded: run.guard.unguarded.clone(),
    })
}

/// The `sandbox-exec` command for a run, with the Seatbelt profile text in
/// [`SandboxedCommand::seatbelt_profile`]; the caller writes that text to `profile_file`
/// (named after `-f`) before spawning.
pub fn seatbelt_command(
    profile_file: &Path,
    policy: &SandboxPolicy,
    run: &SandboxRun,
) -> Result<SandboxedCommand> {
    check(policy, run)?;
    let mut layers = layers(policy, run);
    // Seatbelt checks a rename against the directory's own path, not its children's: moving a
    // prepared `x/hooks/pre-commit` into place as `.git` would dodge the deny on `.git/hooks`.
    // So the directories above every guarded path, existing or not, cannot be created, renamed
    // or removed either.
    for p in run.guard.unguarded.iter() {
        for root in run.guard.roots.iter().filter(|r| p.starts_with(r)) {
            for a in p.ancestors().skip(1).take_while(|a| a != root) {
                let a = Layer::Anchor(a.to_path_buf());
                if !layers.contains(&a) {
                    let at = layers
                        .iter()
                        .position(|l| matches!(l, Layer::Pin(..)))
                        .unwrap_or(layers.len());
                    layers.insert(at, a);
                }
            }
        }
    }
    let text = seatbelt_profile(policy, &layers)?;
    let mut args: Vec<OsString> = vec![
        "-f".into(),
        profile_file.as_os_str().to_os_string(),
        "--".into(),
        run.program.as_os_str().to_os_string(),
    ];
    args.extend(run.args.iter().map(OsString::from));
    let mut env = run.env.clone();
    for k in SANDBOX_ENV_REMOVE {
        env.remove(*k);
    }
    Ok(SandboxedCommand {
        program: PathBuf::from(SANDBOX_EXEC),
        args,
        env,
        env_remove: SANDBOX_ENV_REMOVE.iter().map(|s| s.to_string()).collect(),
        cwd: run.workspace.clone(),
        seatbelt_profile: Some(text),
        // Seatbelt denies writes to missing paths too.
        unguarded: Vec::new(),
    })
}

/// The same path as macOS's sandbox sees it: `/tmp`, `/var` and `/etc` are symlinks into
/// `/private`, and Seatbelt matches resolved paths.
fn mac_path(p: &Path) -> PathBuf {
    for top in ["/tmp", "/var", "/etc"] {
        if let Ok(rest) = p.strip_prefix(top) {
            return Path::new("/private")
                .join(top.trim_start_matches('/'))
                .join(rest);
        }
    }
    p.to_path_buf()
}

/// A Seatbelt string literal.
fn sb_str(p: &Path) -> Result<String> {
    let s = mac_path(p);
    let s = s.to_str().ok_or_else(|| {
        Error::InvalidInput(format!(
            "the sandbox profile cannot name the non-UTF-8 path {}",
            p.display()
        ))
    })?;
    Ok(format!(
        "\"{}\"",
        s.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

fn seatbelt_profile(policy: &SandboxPolicy, layers: &[Layer]) -> Result<String> {
    let mut s = String::new();
    s.push_str(
        "(version 1)\n\
         ; Written by ringlet for one sandboxed run. Deny by default; where rules overlap the\n\
         ; last one that matches decides, so the order below is the policy's order.\n\
         (deny default)\n\
         (allow process-exec process-fork)\n\
         (allow signal (target same-sandbox))\n\
         (allow sysctl-read)\n\
         (allow mach-lookup)\n\
         (allow ipc-posix-shm ipc-posix-sem)\n\
         (allow pseudo-tty)\n\
         (allow file-ioctl)\n",
    );
    match policy.network {
        Network::Shared => s.push_str(
            "; network: shared (IP only: no Unix sockets, which reach the user's agents)\n\
             (allow system-socket)\n\
             (allow network-outbound (remote ip))\n\
             (allow network-bind (local ip))\n\
             (allow network-inbound (local ip))\n",
        ),
        Network::None => s.push_str("; network: none\n"),
    }
    s.push_str(
        "; the system, read-only; temporary directories and terminals, writable\n\
         (allow file-read*)\n\
         (allow file-write* (subpath \"/private/tmp\") (subpath \"/private/var/folders\")\n\
         \x20 (literal \"/dev/null\") (literal \"/dev/zero\") (literal \"/dev/dtracehelper\")\n\
         \x20 (regex #\"^/dev/tty\") (regex #\"^/dev/fd/\"))\n",
    );
    for l in layers {
        match l {
            // Metadata stays readable: resolving a path under HOME (the workspace's) stats
            // every directory on the way.
            Layer::Hide(p) => {
                let p = sb_str(p)?;
                s.push_str(&format!(
                    "(deny file-read-data file-read-xattr file-write* (subpath {p}))\n"
                ));
            }
            Layer::Read(p, _) => {
                let p = sb_str(p)?;
                s.push_str(&format!(
                    "(allow file-read* (subpath {p}))\n(deny file-write* (subpath {p}))\n"
                ));
            }
            Layer::Write(p, _) => {
                let p = sb_str(p)?;
                s.push_str(&format!("(allow file-read* file-write* (subpath {p}))\n"));
            }
            Layer::Anchor(p) => {
                let p = sb_str(p)?;
                s.push_str(&format!("(deny file-write* (literal {p}))\n"));
            }
            // Existing or not: Seatbelt also refuses creating them.
            Layer::Pin(p, _) => {
                let p = sb_str(p)?;
                s.push_str(&format!("(deny file-write* (subpath {p}))\n"));
            }
        }
    }
    Ok(s)
}

// ---------------------------------------------------------------------------------------------
// Is bwrap there, and does it work here?
// ---------------------------------------------------------------------------------------------

/// Finds `bwrap` on `search_path` (a PATH value).
pub fn find_bwrap(search_path: &OsStr) -> Result<PathBuf> {
    which::which_in("bwrap", Some(search_path), "/").map_err(|_| Error::SandboxUnavailable {
        reason: format!(
            "bwrap (bubblewrap) was not found in PATH ({})",
            search_path.to_string_lossy()
        ),
        fix: "install it (`apt-get install bubblewrap` on Debian/Ubuntu, `dnf install bubblewrap` on Fedora, `pacman -S bubblewrap` on Arch), or run with the sandbox off".into(),
    })
}

/// What [`probe`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SandboxProbe {
    /// The bwrap that was run.
    pub bwrap: PathBuf,
    /// Whether the kernel refuses `TIOCSTI` (`dev.tty.legacy_tiocsti = 0`): then an agent
    /// sharing the user's terminal cannot type into the user's shell. `None` when the kernel
    /// does not say (before Linux 6.2, where it is always allowed).
    pub tiocsti_blocked: Option<bool>,
}

/// Runs `bwrap` once with the namespaces a sandboxed run uses (user, PID, IPC, and network when
/// `network` is none), a read-only root, `/dev` and `/proc`, and maps a failure to what to do
/// about it. Call it once before the first sandboxed run; it takes a few milliseconds.
pub fn probe(bwrap: &Path, network: Network) -> Result<SandboxProbe> {
    let mut c = Command::new(bwrap);
    c.args(["--unshare-user", "--unshare-pid", "--unshare-ipc"]);
    if network == Network::None {
        c.arg("--unshare-net");
    }
    c.args([
        "--die-with-parent",
        "--cap-drop",
        "ALL",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
        "--",
    ]);
    // bwrap itself is the one program certainly there to run inside.
    c.arg(bwrap).arg("--version");
    c.env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let out = c.output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::SandboxUnavailable {
            reason: format!("{} does not exist", bwrap.display()),
            fix: "install bubblewrap (`apt-get install bubblewrap`)".into(),
        },
        _ => Error::Spawn {
            program: bwrap.to_path_buf(),
            source: e,
        },
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(probe_failure(&stderr, out.status.code()));
    }
    let tiocsti_blocked = std::fs::read_to_string("/proc/sys/dev/tty/legacy_tiocsti")
        .ok()
        .map(|s| s.trim() == "0");
    Ok(SandboxProbe {
        bwrap: bwrap.to_path_buf(),
        tiocsti_blocked,
    })
}

/// The kernel settings that decide whether an unprivileged user may create the namespaces a
/// sandbox needs (the ones [`probe_failure`]'s fixes name). A remembered probe is only trusted
/// while they read the same.
const USERNS_SETTINGS: &[&str] = &[
    "/proc/sys/kernel/unprivileged_userns_clone",
    "/proc/sys/user/max_user_namespaces",
    "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
];

/// What a successful probe is remembered by: the bwrap binary (path, size, modification time),
/// the network setting, the user, the boot, and the user-namespace settings. `None` when one of
/// them cannot be read (then nothing is remembered).
#[cfg(unix)]
fn probe_key(bwrap: &Path, network: Network) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(bwrap).ok()?;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let mut key = format!(
        "ringlet sandbox probe 1\nbwrap {}\nsize {}\nmtime {}.{}\nnetwork {}\nuid {uid}\nboot {}\n",
        bwrap.display(),
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec(),
        network.as_str(),
        boot.trim()
    );
    for setting in USERNS_SETTINGS {
        let value = std::fs::read_to_string(setting).unwrap_or_else(|_| "-".into());
        key.push_str(&format!("{setting} {}\n", value.trim()));
    }
    Some(key)
}

#[cfg(not(unix))]
fn probe_key(_: &Path, _: Network) -> Option<String> {
    None
}

/// [`probe`], remembered across processes in `cache_dir` (ringlet's cache directory, which the
/// sandbox hides from agents).
///
/// Each `ringlet profiles run --sandbox` is a new process, and the probe starts a whole sandbox
/// of its own: it doubled what the sandbox adds to a launch (docs/performance.md, "Sandbox
/// overhead"). A successful probe is written down with what it depends on (see `probe_key`);
/// the next process skips it while all of that reads the same, and probes again when bwrap is
/// replaced, the machine rebooted, or a user-namespace setting changed. Should bwrap still
/// fail later, the run's own bwrap fails before the agent starts (its message on the run's
/// stderr): never an unsandboxed run. A failed probe is not remembered. Returns whether bwrap
/// was run.
pub fn probe_remembered(bwrap: &Path, network: Network, cache_dir: &Path) -> Result<bool> {
    let key = probe_key(bwrap, network);
    let stamp = cache_dir.join(format!("sandbox-probe-{}", network.as_str()));
    if let Some(key) = &key
        && std::fs::read_to_string(&stamp).is_ok_and(|found| found == *key)
    {
        return Ok(false);
    }
    probe(bwrap, network)?;
    if let Some(key) = key {
        // Only a cache: failing to write it costs the next run a probe, nothing else.
        let _ = crate::fsio::write_atomic_volatile(&stamp, key.as_bytes(), Some(0o600));
    }
    Ok(true)
}

/// Maps bwrap's stderr when it could not set up a sandbox to the reason and the fix.
pub(crate) fn probe_failure(stderr: &str, code: Option<i32>) -> Error {
    let said = stderr
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .trim_start_matches("bwrap: ")
        .to_string();
    let said = if said.is_empty() {
        format!("bwrap exited with {code:?} and said nothing")
    } else {
        said
    };
    let has = |s: &str| stderr.contains(s);
    let fix = if has("No permissions to create") || has("No permissions to creating") {
        "user namespaces are refused for this user: enable them (`sysctl -w kernel.unprivileged_userns_clone=1` on Debian before 11 and older Ubuntu; on Ubuntu 23.10+ allow bwrap in AppArmor or `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`); inside a container, allow user namespaces (e.g. Docker: `--security-opt seccomp=unconfined --security-opt apparmor=unconfined`)"
    } else if has("max_") && has("namespaces") {
        "user namespaces are disabled or used up: `sysctl -w user.max_user_namespaces=15000` (it is 0 here, or the nesting is too deep)"
    } else if has("does not support user namespaces") {
        "the kernel has no user namespaces: use a kernel built with CONFIG_USER_NS, or install bwrap setuid root"
    } else if has("setting up uid map") || has("uid_map") {
        "the kernel refused the user namespace's uid map (on Ubuntu 23.10+ AppArmor restricts unprivileged user namespaces: allow bwrap, or `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`)"
    } else if has("Can't mount proc") {
        "this environment forbids mounting /proc in a new PID namespace (a container hides parts of /proc): run ringlet where user namespaces are fully allowed (Docker: `--privileged` or `--security-opt systempaths=unconfined`)"
    } else if has("RTM_NEWADDR") || has("loopback") {
        "a network namespace cannot be set up here: use `network = \"shared\"` under [sandbox], or run where network namespaces are allowed"
    } else {
        "check that `bwrap --ro-bind / / --unshare-user --unshare-pid true` works for this user"
    };
    Error::SandboxUnavailable {
        reason: format!("bwrap cannot create the sandbox: {said}"),
        fix: fix.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- fixtures: fixed paths, nothing on disk (the transform is pure) ----

    /// ringlet's XDG layout under /home/u.
    fn xdg_dirs() -> RingletDirs {
        RingletDirs::from_paths(&Paths::from_dirs(
            "/home/u/.config/ringlet",
            "/home/u/.local/share/ringlet",
            "/home/u/.cache/ringlet",
        ))
    }

    fn guard(
        roots: &[&str],
        anchors: &[&str],
        pinned: &[&str],
        unguarded: &[&str],
    ) -> WorkspaceGuard {
        let v = |xs: &[&str]| xs.iter().map(PathBuf::from).collect();
        WorkspaceGuard {
            roots: v(roots),
            anchors: v(anchors),
            pinned: v(pinned),
            unguarded: v(unguarded),
        }
    }

    /// A run in /work/app (outside HOME), the agent installed system-wide, ringlet on PATH in
    /// /usr/local/bin.
    fn base_run() -> SandboxRun {
        let dirs = xdg_dirs();
        let hooks = HookAccess::dispatch("/usr/local/bin/ringlet", &dirs, "work");
        SandboxRun::new(
            "/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js",
            "/work/app",
            "/home/u/.local/share/ringlet/profiles/work/home",
            "/home/u",
            dirs,
        )
        .args(["-p", "hello"])
        .env(BTreeMap::from([
            (
                "HOME".to_string(),
                "/home/u/.local/share/ringlet/profiles/work/home".to_string(),
            ),
            ("ANTHROPIC_API_KEY".to_string(), "sk-ant-secret".to_string()),
            (
                "SSH_AUTH_SOCK".to_string(),
                "/run/user/1000/ssh".to_string(),
            ),
        ]))
        .runtime_dir("/run/user/1000")
        .agent_runtime(AgentRuntime {
            program: "/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js".into(),
            read_only: vec!["/usr/lib/node_modules".into(), "/usr/bin".into()],
        })
        .hooks(hooks)
        .guard(guard(
            &["/work/app"],
            &["/work/app/.git"],
            &[
                "/work/app/.git/hooks",
                "/work/app/.git/config",
                "/work/app/.bashrc",
            ],
            &["/work/app/.vscode", "/work/app/.gitmodules"],
        ))
    }

    /// One line per option with its operands; the agent's command after `--` on one line.
    fn render(cmd: &SandboxedCommand) -> String {
        let args: Vec<String> = cmd
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let arity = |a: &str| match a {
            "--ro-bind" | "--ro-bind-try" | "--bind" | "--bind-try" => 2,
            "--tmpfs" | "--dev" | "--proc" | "--remount-ro" | "--chdir" | "--cap-drop" => 1,
            _ => 0,
        };
        let mut out = format!("{}\n", cmd.program.display());
        let mut i = 0;
        while i < args.len() {
            if args[i] == "--" {
                out.push_str(&format!("-- {}\n", args[i + 1..].join(" ")));
                break;
            }
            let n = arity(&args[i]);
            out.push_str(&args[i..=i + n].join(" "));
            out.push('\n');
            i += n + 1;
        }
        out
    }

    /// Compares with `src/launch/testdata/<name>`; `RINGLET_UPDATE_SNAPSHOTS=1` rewrites it.
    fn snapshot(name: &str, actual: &str) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/launch/testdata")
            .join(name);
        if std::env::var_os("RINGLET_UPDATE_SNAPSHOTS").is_some() {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, actual).expect("write snapshot");
            return;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run with RINGLET_UPDATE_SNAPSHOTS=1",
                path.display()
            )
        });
        assert!(
            expected == actual,
            "{} differs (RINGLET_UPDATE_SNAPSHOTS=1 rewrites it after review)\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        );
    }

    fn bwrap(policy: &SandboxPolicy, run: &SandboxRun) -> SandboxedCommand {
        bwrap_command(Path::new("/usr/bin/bwrap"), policy, run).expect("bwrap command")
    }

    fn seatbelt(policy: &SandboxPolicy, run: &SandboxRun) -> SandboxedCommand {
        seatbelt_command(Path::new("/tmp/ringlet-work.sb"), policy, run).expect("seatbelt command")
    }

    // ---- snapshots ----

    #[test]
    fn bwrap_default_policy() {
        let cmd = bwrap(&SandboxPolicy::default(), &base_run());
        snapshot("bwrap_default.txt", &render(&cmd));
        // Spelled out here too, the properties the snapshot must keep.
        let text = render(&cmd);
        let line = |l: &str| {
            text.lines()
                .position(|x| x == l)
                .unwrap_or_else(|| panic!("no line {l:?} in\n{text}"))
        };
        assert!(line("--tmpfs /home/u") < line("--bind /work/app /work/app"));
        assert!(line("--bind /work/app /work/app") < line("--tmpfs /home/u/.config/ringlet"));
        assert!(
            line(
                "--ro-bind-try /home/u/.local/share/ringlet/profiles/work /home/u/.local/share/ringlet/profiles/work"
            ) < line(
                "--bind /home/u/.local/share/ringlet/profiles/work/home /home/u/.local/share/ringlet/profiles/work/home"
            )
        );
        assert!(
            line("--bind /work/app/.git /work/app/.git")
                < line("--ro-bind /work/app/.git/hooks /work/app/.git/hooks")
        );
        assert!(
            line("--ro-bind /work/app/.bashrc /work/app/.bashrc") < line("--remount-ro /home/u")
        );
        assert!(
            !text.contains(".vscode"),
            "a missing path is not mounted: {text}"
        );
        assert!(text.contains("--new-session\n"));
        assert!(!text.contains("--unshare-net"));
    }

    #[test]
    fn bwrap_network_none() {
        let policy = SandboxPolicy::new().network(Network::None);
        let cmd = bwrap(&policy, &base_run().terminal(Terminal::Shared));
        snapshot("bwrap_network_none.txt", &render(&cmd));
        let text = render(&cmd);
        assert!(text.contains("--unshare-net\n"));
        assert!(
            !text.contains("--new-session"),
            "a shared terminal keeps job control"
        );
    }

    #[test]
    fn bwrap_extra_paths() {
        let policy = SandboxPolicy::new()
            .extra_ro("/opt/datasets")
            .extra_ro("/work/app/vendor")
            .extra_ro("/home/u/.gitconfig")
            .extra_rw("/var/cache/build")
            .extra_rw("/home/u/.cargo/registry");
        let run = base_run().guard(guard(
            &["/work/app", "/var/cache/build", "/home/u/.cargo/registry"],
            &["/work/app/.git"],
            &["/work/app/.git/hooks", "/work/app/.git/config"],
            &[],
        ));
        let cmd = bwrap(&policy, &run);
        snapshot("bwrap_extra_paths.txt", &render(&cmd));
        let text = render(&cmd);
        let line = |l: &str| {
            text.lines()
                .position(|x| x == l)
                .unwrap_or_else(|| panic!("no line {l:?} in\n{text}"))
        };
        // More specific wins: vendor/ stays read-only inside the writable workspace.
        assert!(
            line("--bind /work/app /work/app")
                < line("--ro-bind-try /work/app/vendor /work/app/vendor")
        );
    }

    #[test]
    fn bwrap_workspace_inside_home() {
        let mut run = base_run();
        run.workspace = "/home/u/src/app".into();
        let run = run.guard(guard(
            &["/home/u/src/app"],
            &["/home/u/src/app/.git"],
            &["/home/u/src/app/.git/hooks", "/home/u/src/app/.git/config"],
            &[],
        ));
        let cmd = bwrap(&SandboxPolicy::default(), &run);
        snapshot("bwrap_workspace_in_home.txt", &render(&cmd));
        assert_eq!(cmd.cwd, Path::new("/home/u/src/app"));
    }

    #[test]
    fn bwrap_agent_installed_under_home() {
        let dirs = xdg_dirs();
        let run = base_run()
            .agent_runtime(AgentRuntime {
                program: "/home/u/.nvm/versions/node/v22.11.0/lib/node_modules/@anthropic-ai/claude-code/cli.js".into(),
                read_only: vec![
                    "/home/u/.nvm/versions/node/v22.11.0".into(),
                ],
            })
            .hooks(HookAccess::dispatch("/home/u/.cargo/bin/ringlet", &dirs, "work"));
        let cmd = bwrap(&SandboxPolicy::default(), &run);
        snapshot("bwrap_agent_under_home.txt", &render(&cmd));
        let text = render(&cmd);
        assert!(text.contains(
            "--ro-bind /home/u/.nvm/versions/node/v22.11.0 /home/u/.nvm/versions/node/v22.11.0\n"
        ));
        assert!(text.contains("--ro-bind /home/u/.cargo/bin/ringlet /home/u/.cargo/bin/ringlet\n"));
        assert!(text.ends_with("-- /home/u/.nvm/versions/node/v22.11.0/lib/node_modules/@anthropic-ai/claude-code/cli.js -p hello\n"));
    }

    #[test]
    fn bwrap_ringlet_home_layout() {
        // RINGLET_HOME puts everything under one root, outside HOME; the agent lives in the
        // profile HOME (a native installer run with HOME = the profile's).
        let dirs = RingletDirs::from_paths(&Paths::under("/srv/ringlet"));
        let run = SandboxRun::new(
            "/srv/ringlet/data/profiles/work/home/.local/bin/claude",
            "/work/app",
            "/srv/ringlet/data/profiles/work/home",
            "/home/u",
            dirs.clone(),
        )
        .agent_runtime(AgentRuntime {
            program: "/srv/ringlet/data/profiles/work/home/.local/share/claude/versions/2.0.1"
                .into(),
            read_only: vec![
                "/srv/ringlet/data/profiles/work/home/.local/share/claude/versions".into(),
            ],
        })
        .hooks(HookAccess::dispatch(
            "/usr/local/bin/ringlet",
            &dirs,
            "work",
        ))
        .guard(guard(&["/work/app"], &[], &[], &[]))
        .terminal(Terminal::Private);
        let cmd = bwrap(&SandboxPolicy::default(), &run);
        snapshot("bwrap_ringlet_home.txt", &render(&cmd));
    }

    #[test]
    fn seatbelt_default_policy() {
        let cmd = seatbelt(&SandboxPolicy::default(), &base_run());
        assert_eq!(cmd.program, Path::new(SANDBOX_EXEC));
        assert_eq!(
            render(&cmd),
            "/usr/bin/sandbox-exec\n-f\n/tmp/ringlet-work.sb\n-- /usr/lib/node_modules/@anthropic-ai/claude-code/cli.js -p hello\n"
        );
        snapshot(
            "seatbelt_default.sb",
            cmd.seatbelt_profile.as_deref().expect("profile"),
        );
        assert!(
            cmd.unguarded.is_empty(),
            "Seatbelt denies writes to missing paths too"
        );
    }

    #[test]
    fn seatbelt_network_none_extra_paths_under_tmp() {
        let mut run = base_run();
        run.workspace = "/tmp/scratch/app".into();
        let run = run.guard(guard(
            &["/tmp/scratch/app", "/var/cache/build"],
            &[],
            &[],
            &["/tmp/scratch/app/.git/hooks"],
        ));
        let policy = SandboxPolicy::new()
            .network(Network::None)
            .extra_ro("/opt/datasets")
            .extra_rw("/var/cache/build");
        let cmd = seatbelt(&policy, &run);
        let text = cmd.seatbelt_profile.expect("profile");
        snapshot("seatbelt_network_none_extra.sb", &text);
        // /tmp and /var are /private/... to Seatbelt.
        assert!(
            text.contains("(allow file-read* file-write* (subpath \"/private/tmp/scratch/app\"))")
        );
        assert!(
            text.contains("(deny file-write* (subpath \"/private/tmp/scratch/app/.git/hooks\"))")
        );
        assert!(!text.contains("network-outbound"));
        // `.git` cannot be created (or renamed into place) with hooks inside.
        assert!(text.contains("(deny file-write* (literal \"/private/tmp/scratch/app/.git\"))"));
    }

    // ---- properties of the transform ----

    #[test]
    fn env_passes_through_but_never_into_argv() {
        let cmd = bwrap(&SandboxPolicy::default(), &base_run());
        assert!(
            cmd.args
                .iter()
                .all(|a| !a.to_string_lossy().contains("sk-ant-secret"))
        );
        assert_eq!(
            cmd.env.get("ANTHROPIC_API_KEY").map(String::as_str),
            Some("sk-ant-secret")
        );
        assert_eq!(cmd.env.get("TMPDIR").map(String::as_str), Some("/tmp"));
        assert!(!cmd.env.contains_key("SSH_AUTH_SOCK"));
        assert!(cmd.env_remove.iter().any(|k| k == "SSH_AUTH_SOCK"));
        assert!(
            cmd.env_remove
                .iter()
                .any(|k| k == "DBUS_SESSION_BUS_ADDRESS")
        );
        let shown = format!("{cmd:?} {:?}", base_run());
        assert!(!shown.contains("sk-ant-secret"), "{shown}");
        assert!(shown.contains("ANTHROPIC_API_KEY"));
    }

    #[test]
    fn a_grant_exactly_at_a_hidden_path_is_not_remounted_read_only() {
        // extra-rw = $XDG_RUNTIME_DIR (say, for a Wayland socket): `--remount-ro` there would
        // hit that bind, not the tmpfs under it.
        let policy = SandboxPolicy::new().extra_rw("/run/user/1000");
        let run = base_run().guard(guard(&["/work/app", "/run/user/1000"], &[], &[], &[]));
        let text = render(&bwrap(&policy, &run));
        assert!(
            text.contains("--bind-try /run/user/1000 /run/user/1000\n"),
            "{text}"
        );
        assert!(!text.contains("--remount-ro /run/user/1000\n"), "{text}");
        assert!(text.contains("--remount-ro /home/u\n"), "{text}");
    }

    #[test]
    fn nested_hides_collapse() {
        // The profiles and the credentials file's directory lie inside data and config.
        let text = render(&bwrap(&SandboxPolicy::default(), &base_run()));
        assert!(
            !text.contains("--tmpfs /home/u/.local/share/ringlet/profiles\n"),
            "{text}"
        );
        assert_eq!(text.matches("--tmpfs /home/u/.config/ringlet\n").count(), 1);
        // $XDG_RUNTIME_DIR is hidden too.
        assert!(text.contains("--tmpfs /run/user/1000\n"));
    }

    fn refused(policy: &SandboxPolicy, run: &SandboxRun) -> String {
        let e = bwrap_command(Path::new("/usr/bin/bwrap"), policy, run).expect_err("refused");
        assert_eq!(e.code(), "invalid_input", "{e}");
        e.to_string()
    }

    #[test]
    fn workspaces_that_would_expose_home_or_ringlet_are_refused() {
        let with_ws = |ws: &str| {
            let mut r = base_run();
            r.workspace = ws.into();
            r.guard(guard(&[ws], &[], &[], &[]))
        };
        let p = SandboxPolicy::default();
        assert!(refused(&p, &with_ws("/home/u")).contains("whole HOME"));
        assert!(refused(&p, &with_ws("/home")).contains("whole HOME"));
        assert!(refused(&p, &with_ws("/")).contains("whole HOME"));
        let e = refused(&p, &with_ws("/home/u/.config/ringlet/scripts"));
        assert!(
            e.contains("inside ringlet's own directory /home/u/.config/ringlet"),
            "{e}"
        );
        // Another profile's HOME is inside ringlet's data.
        let e = refused(
            &p,
            &with_ws("/home/u/.local/share/ringlet/profiles/other/home/x"),
        );
        assert!(e.contains("ringlet's own directory"), "{e}");
        // The profile's own HOME is fine.
        let own = with_ws("/home/u/.local/share/ringlet/profiles/work/home/proj");
        bwrap_command(Path::new("/usr/bin/bwrap"), &p, &own).expect("own HOME");
    }

    #[test]
    fn bad_policies_and_facts_are_refused() {
        let run = base_run();
        let e = refused(&SandboxPolicy::new().extra_ro("relative/dir"), &run);
        assert!(e.contains("'relative/dir' is not absolute"), "{e}");
        let e = refused(&SandboxPolicy::new().extra_ro("/a/../etc"), &run);
        assert!(e.contains("contains '..'"), "{e}");
        let e = refused(
            &SandboxPolicy::new().extra_ro("/home/u/.config/ringlet"),
            &run,
        );
        assert!(e.contains("always hides"), "{e}");
        let e = refused(
            &SandboxPolicy::new().extra_rw("/home/u/.local/share/ringlet/profiles/other/home"),
            &run,
        );
        assert!(e.contains("always hides"), "{e}");
        // The guard must cover the workspace and every extra-rw directory.
        let e = refused(&SandboxPolicy::new().extra_rw("/var/cache/build"), &run);
        assert!(e.contains("does not cover /var/cache/build"), "{e}");
        let mut unscanned = base_run();
        unscanned.guard = WorkspaceGuard::default();
        let e = refused(&SandboxPolicy::default(), &unscanned);
        assert!(e.contains("does not cover /work/app"), "{e}");
        let mut rel = base_run();
        rel.program = "claude".into();
        assert!(refused(&SandboxPolicy::default(), &rel).contains("sandbox program"));
        // An extra path holding the HOME would show all of it.
        let e = refused(&SandboxPolicy::new().extra_ro("/home"), &run);
        assert!(e.contains("whole HOME"), "{e}");
        let e = refused(&SandboxPolicy::new().extra_ro("/home/u"), &run);
        assert!(e.contains("whole HOME"), "{e}");
        let mut root_home = base_run();
        root_home.user_home = "/".into();
        assert!(refused(&SandboxPolicy::default(), &root_home).contains("HOME is '/'"));
    }

    // ---- configuration ----

    #[test]
    fn policy_parses_validates_and_refuses_unknown_keys() {
        let p: SandboxPolicy = toml::from_str(
            "extra-rw = [\"/var/log/app\"]\nextra-ro = [\"/opt/x\"]\nnetwork = \"none\"\n",
        )
        .expect("parses");
        assert_eq!(
            p,
            SandboxPolicy::new()
                .extra_rw("/var/log/app")
                .extra_ro("/opt/x")
                .network(Network::None)
        );
        let e = toml::from_str::<SandboxPolicy>("allow-bind = [\"127.0.0.1:3000\"]\n")
            .expect_err("unknown");
        assert!(e.message().contains("unknown field `allow-bind`"), "{e}");
        let e = toml::from_str::<SandboxPolicy>("extra-rw = [\"~/logs\"]\n").expect_err("relative");
        assert!(e.message().contains("'~/logs' is not absolute"), "{e}");
        let e = toml::from_str::<SandboxPolicy>("network = \"host\"\n").expect_err("bad network");
        assert!(e.message().contains("unknown variant `host`"), "{e}");
        // Defaults are not written back.
        assert_eq!(toml::to_string(&SandboxPolicy::default()).expect("ser"), "");
    }

    #[test]
    fn merge_adds_paths_and_keeps_the_stricter_network() {
        let config = SandboxPolicy::new()
            .extra_ro("/opt/x")
            .network(Network::None);
        let profile = SandboxPolicy::new()
            .extra_ro("/opt/x")
            .extra_ro("/opt/y")
            .extra_rw("/var/z");
        let m = config.merge(&profile);
        assert_eq!(
            m.extra_ro,
            vec![PathBuf::from("/opt/x"), PathBuf::from("/opt/y")]
        );
        assert_eq!(m.extra_rw, vec![PathBuf::from("/var/z")]);
        assert_eq!(
            m.network,
            Network::None,
            "a profile does not undo config's none"
        );
        assert_eq!(
            SandboxPolicy::default()
                .merge(&SandboxPolicy::new().network(Network::None))
                .network,
            Network::None
        );
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        #[serde(default, skip_serializing_if = "ProfileSandbox::is_default")]
        sandbox: ProfileSandbox,
    }

    #[test]
    fn profile_sandbox_is_a_mode_or_a_table() {
        let h: Holder = toml::from_str("sandbox = \"always\"\n").expect("mode");
        assert_eq!(h.sandbox, ProfileSandbox::new(SandboxMode::Always));
        let h: Holder = toml::from_str("").expect("absent");
        assert_eq!(h.sandbox.mode, SandboxMode::Remote);
        assert!(!h.sandbox.mode.applies(false) && h.sandbox.mode.applies(true));
        let h: Holder = toml::from_str(
            "[sandbox]\nmode = \"off\"\nextra-rw = [\"/var/log/app\"]\nnetwork = \"none\"\n",
        )
        .expect("table");
        assert_eq!(
            h.sandbox,
            ProfileSandbox::new(SandboxMode::Off).policy(
                SandboxPolicy::new()
                    .extra_rw("/var/log/app")
                    .network(Network::None)
            )
        );
        let h: Holder = toml::from_str("[sandbox]\nextra-ro = [\"/opt/x\"]\n").expect("no mode");
        assert_eq!(h.sandbox.mode, SandboxMode::Remote);

        // Round trips, in the shortest form.
        for (value, text) in [
            (ProfileSandbox::default(), ""),
            (ProfileSandbox::new(SandboxMode::Off), "sandbox = \"off\"\n"),
            (
                ProfileSandbox::new(SandboxMode::Always)
                    .policy(SandboxPolicy::new().extra_ro("/opt/x")),
                "[sandbox]\nmode = \"always\"\nextra-ro = [\"/opt/x\"]\n",
            ),
        ] {
            let h = Holder { sandbox: value };
            let written = toml::to_string(&h).expect("ser");
            assert_eq!(written, text);
            assert_eq!(toml::from_str::<Holder>(&written).expect("back"), h);
        }

        for (bad, says) in [
            (
                "sandbox = \"sometimes\"\n",
                "sandbox 'sometimes' is not one of: off, always, remote",
            ),
            ("[sandbox]\nmode = \"on\"\n", "unknown variant `on`"),
            ("[sandbox]\nextra-rw = [\"rel\"]\n", "'rel' is not absolute"),
            ("[sandbox]\nallow-bind = []\n", "unknown field `allow-bind`"),
            ("sandbox = 1\n", "\"off\", \"always\" or \"remote\""),
        ] {
            let e = toml::from_str::<Holder>(bad).expect_err(bad);
            assert!(e.message().contains(says), "{bad}: {e}");
        }
    }

    // ---- helpers that look at the filesystem ----

    #[test]
    fn shebangs() {
        let p = |s: &str| parse_shebang(s.as_bytes()).map(|p| p.display().to_string());
        assert_eq!(
            p("#!/usr/bin/env node\nconsole.log(1)"),
            Some("node".into())
        );
        assert_eq!(
            p("#!/usr/bin/env -S node --no-warnings\n"),
            Some("node".into())
        );
        assert_eq!(
            p("#!/usr/bin/env NODE_OPTIONS=x node\n"),
            Some("node".into())
        );
        assert_eq!(p("#! /bin/sh -e\n"), Some("/bin/sh".into()));
        assert_eq!(
            p("#!/opt/py/bin/python3"),
            Some("/opt/py/bin/python3".into())
        );
        assert_eq!(p("\x7fELF..."), None);
        assert_eq!(p("#!/usr/bin/env\n"), None);
    }

    #[cfg(unix)]
    fn script(path: &Path, text: &str) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    #[cfg(unix)]
    #[test]
    fn runtime_of_a_node_agent_under_nvm() {
        let t = tempfile::tempdir().expect("tempdir");
        let home = t.path().join("home");
        let prefix = home.join(".nvm/versions/node/v22.11.0");
        script(&prefix.join("bin/node"), "\x7fELF");
        let cli = prefix.join("lib/node_modules/@anthropic-ai/claude-code/cli.js");
        script(&cli, "#!/usr/bin/env node\n");
        std::os::unix::fs::symlink(
            "../lib/node_modules/@anthropic-ai/claude-code/cli.js",
            prefix.join("bin/claude"),
        )
        .expect("symlink");
        let path = std::env::join_paths([prefix.join("bin"), "/usr/bin".into()]).expect("PATH");
        let rt = AgentRuntime::resolve(Path::new("claude"), &path, &home).expect("resolves");
        let prefix = std::fs::canonicalize(&prefix).expect("canonical");
        assert_eq!(
            rt.program,
            prefix.join("lib/node_modules/@anthropic-ai/claude-code/cli.js")
        );
        // bin/ (where it was found), lib/node_modules (its package) and the interpreter's
        // prefix collapse into the prefix.
        let found: Vec<PathBuf> = rt
            .read_only
            .iter()
            .map(|p| std::fs::canonicalize(p).expect("exists"))
            .collect();
        assert_eq!(found, vec![prefix]);
    }

    #[cfg(unix)]
    #[test]
    fn runtime_never_shows_home_itself() {
        let t = tempfile::tempdir().expect("tempdir");
        let home = t.path().join("home");
        // A binary right in HOME: only the file. One in ~/.local/bin: that directory, not
        // ~/.local. A script whose interpreter is in ~/.local/bin: not ~/.local either.
        script(&home.join("agent"), "\x7fELF");
        script(&home.join(".local/bin/python3"), "\x7fELF");
        script(&home.join(".local/bin/tool"), "#!/usr/bin/env python3\n");
        let path = std::env::join_paths([home.join(".local/bin"), home.clone()]).expect("PATH");
        let rt = AgentRuntime::resolve(&home.join("agent"), &path, &home).expect("resolves");
        assert_eq!(rt.read_only, vec![home.join("agent")]);
        let rt = AgentRuntime::resolve(Path::new("tool"), &path, &home).expect("resolves");
        assert_eq!(rt.read_only, vec![home.join(".local/bin")]);
        let e = AgentRuntime::resolve(Path::new("nope"), &path, &home).expect_err("missing");
        assert!(
            e.to_string().contains("'nope' was not found in PATH"),
            "{e}"
        );
        let e = AgentRuntime::resolve(Path::new("rel/agent"), &path, &home).expect_err("relative");
        assert!(e.to_string().contains("absolute path"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn guard_scan_pins_what_exists_and_reports_the_rest() {
        let t = tempfile::tempdir().expect("tempdir");
        let ws = t.path().join("ws");
        std::fs::create_dir_all(ws.join(".git/hooks")).expect("mkdir");
        std::fs::write(
            ws.join(".git/config"),
            "[core]\n\thooksPath = .husky\n[remote \"o\"]\n\thooksPath = nope\n",
        )
        .expect("config");
        std::fs::create_dir_all(ws.join(".husky")).expect("husky");
        std::fs::create_dir_all(ws.join(".claude")).expect("claude");
        std::fs::write(ws.join(".claude/settings.json"), "{}").expect("settings");
        std::fs::write(ws.join(".bashrc"), "").expect("bashrc");
        std::fs::create_dir_all(ws.join("elsewhere")).expect("elsewhere");
        std::os::unix::fs::symlink("elsewhere", ws.join(".vscode")).expect("symlink");
        let other = t.path().join("other");
        std::fs::create_dir_all(&other).expect("other");

        let g = WorkspaceGuard::scan(&[&ws, &other]);
        assert_eq!(g.roots, vec![ws.clone(), other.clone()]);
        for p in [
            ".git/hooks",
            ".git/config",
            ".claude/settings.json",
            ".bashrc",
            ".husky",
        ] {
            assert!(g.pinned.contains(&ws.join(p)), "{p} pinned: {g:?}");
        }
        assert!(
            !g.pinned.iter().any(|p| p.ends_with("nope")),
            "only [core] hooksPath counts"
        );
        assert_eq!(g.anchors, vec![ws.join(".git"), ws.join(".claude")]);
        // Behind a symlink, or missing: reported, not mounted.
        for p in [".vscode", ".idea", ".gitmodules", ".envrc"] {
            assert!(g.unguarded.contains(&ws.join(p)), "{p} unguarded: {g:?}");
        }
        assert!(g.unguarded.contains(&other.join(".git/hooks")));
        assert!(g.pinned.iter().all(|p| !p.starts_with(&other)));
    }

    #[cfg(unix)]
    #[test]
    fn guard_scan_follows_a_gitdir_file_inside_the_root() {
        let t = tempfile::tempdir().expect("tempdir");
        let ws = t.path().join("ws");
        let sub = ws.join("sub");
        std::fs::create_dir_all(ws.join(".git/modules/sub/hooks")).expect("mkdir");
        std::fs::write(ws.join(".git/modules/sub/config"), "").expect("config");
        std::fs::create_dir_all(&sub).expect("sub");
        std::fs::write(sub.join(".git"), "gitdir: ../.git/modules/sub\n").expect("gitdir");
        let g = WorkspaceGuard::scan(&[&sub]);
        assert!(
            g.pinned.contains(&sub.join(".git")),
            "the pointer itself: {g:?}"
        );
        // The git directory is in the parent, outside this root: not writable through it.
        assert!(!g.pinned.iter().any(|p| p.starts_with(ws.join(".git"))));
        let inner = ws.join("inner");
        std::fs::create_dir_all(inner.join("gd/hooks")).expect("mkdir");
        std::fs::write(inner.join("gd/config"), "").expect("config");
        std::fs::write(inner.join(".git"), "gitdir: gd\n").expect("gitdir");
        let g = WorkspaceGuard::scan(&[&inner]);
        assert!(
            g.pinned.contains(&inner.join("gd/hooks"))
                && g.pinned.contains(&inner.join("gd/config")),
            "{g:?}"
        );
    }

    #[test]
    fn find_bwrap_names_the_package_when_missing() {
        let e = find_bwrap(OsStr::new("/nonexistent-dir")).expect_err("missing");
        assert_eq!(e.code(), "sandbox_unavailable");
        let m = e.to_string();
        assert!(
            m.contains("bwrap (bubblewrap) was not found in PATH (/nonexistent-dir)"),
            "{m}"
        );
        assert!(m.contains("apt-get install bubblewrap"), "{m}");
    }

    #[test]
    fn probe_failures_say_what_to_do() {
        // bwrap 0.8's own words, as captured on Linux 6.x.
        for (stderr, says) in [
            (
                "bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces. See <https://deb.li/bubblewrap> or <file:///usr/share/doc/bubblewrap/README.Debian.gz>.\n",
                "kernel.unprivileged_userns_clone=1",
            ),
            (
                "bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces. On e.g. debian this can be enabled with 'sysctl kernel.unprivileged_userns_clone=1'.\n",
                "kernel.unprivileged_userns_clone=1",
            ),
            (
                "bwrap: Creating new namespace failed: nesting depth or /proc/sys/user/max_*_namespaces exceeded (ENOSPC)\n",
                "user.max_user_namespaces",
            ),
            (
                "bwrap: Creating new namespace failed, likely because the kernel does not support user namespaces.  bwrap must be installed setuid on such systems.\n",
                "CONFIG_USER_NS",
            ),
            (
                "bwrap: setting up uid map: Permission denied\n",
                "apparmor_restrict_unprivileged_userns",
            ),
            (
                "bwrap: Can't mount proc on /newroot/proc: Operation not permitted\n",
                "mounting /proc",
            ),
            (
                "bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted\n",
                "network = \"shared\"",
            ),
            ("", "exited with Some(1) and said nothing"),
        ] {
            let e = probe_failure(stderr, Some(1));
            assert_eq!(e.code(), "sandbox_unavailable");
            let m = e.to_string();
            assert!(
                m.starts_with("the sandbox cannot start: bwrap cannot create the sandbox: "),
                "{m}"
            );
            assert!(m.contains(says), "{stderr:?} → {m}");
            assert!(!m.contains("bwrap: bwrap:"), "{m}");
        }
    }

    /// A stand-in bwrap that counts its runs in `runs` and exits with `code`, saying `says`.
    #[cfg(target_os = "linux")]
    fn counting_bwrap(path: &Path, runs: &Path, code: i32, says: &str) {
        script(
            path,
            &format!(
                "#!/bin/sh\necho run >> '{}'\necho '{says}' >&2\nexit {code}\n",
                runs.display()
            ),
        );
    }

    #[cfg(target_os = "linux")]
    fn count(runs: &Path) -> usize {
        std::fs::read_to_string(runs).map_or(0, |t| t.lines().count())
    }

    /// A successful probe is remembered across processes (a stamp in the cache directory) until
    /// bwrap changes; the other network setting is probed apart; a failure is never remembered.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_successful_probe_is_remembered_until_bwrap_changes() {
        let t = tempfile::tempdir().expect("tempdir");
        let cache = t.path().join("cache");
        let runs = t.path().join("runs");
        let bwrap = t.path().join("bin/bwrap");
        counting_bwrap(&bwrap, &runs, 0, "");

        assert!(probe_remembered(&bwrap, Network::Shared, &cache).expect("probes"));
        assert_eq!(count(&runs), 1);
        // The next process: no bwrap run.
        assert!(!probe_remembered(&bwrap, Network::Shared, &cache).expect("remembered"));
        assert_eq!(count(&runs), 1);
        // Another network setting needs its own probe.
        assert!(probe_remembered(&bwrap, Network::None, &cache).expect("probes"));
        assert_eq!(count(&runs), 2);

        // bwrap replaced (another size): probed again.
        counting_bwrap(&bwrap, &runs, 0, "a newer bwrap");
        assert!(probe_remembered(&bwrap, Network::Shared, &cache).expect("probes"));
        assert_eq!(count(&runs), 3);

        // A probe that fails is an error each time: nothing is remembered.
        counting_bwrap(
            &bwrap,
            &runs,
            1,
            "bwrap: No permissions to create new namespace",
        );
        for _ in 0..2 {
            let e = probe_remembered(&bwrap, Network::Shared, &cache).expect_err("refused");
            assert!(matches!(e, Error::SandboxUnavailable { .. }), "{e}");
        }
        assert_eq!(count(&runs), 5);
    }
}
