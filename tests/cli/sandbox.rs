//! `ringlet profiles run --sandbox / --no-sandbox` with the real bwrap (apt `bubblewrap`): the
//! flag sandboxes one run or leaves one run plain whatever the profile's `sandbox` mode says,
//! and a sandbox that cannot start fails the run before the agent starts.
//!
//! The fake agent only looks (`--probe`): sandboxed, `/etc` is on a read-only mount and the
//! user's real HOME is hidden; plain, neither. Then it attacks (`--write-probe`, `--probe`):
//! writing and reading what a sandboxed agent must not reach, each refused, while what it may
//! write is written.
//!
//! Every installation here lives outside `/tmp` ([`outside_tmp`]): the sandbox gives the agent
//! a fresh `/tmp`, so anything under the real one is invisible inside whatever the policy says,
//! and a test there could not tell a hidden file from a missing one.

use std::path::{Path, PathBuf};
use std::process::Command;

use ringlet_tests::harness::{Run, Sandbox, fake_agent_bin, outside_tmp, read_record};
use serde_json::Value;

/// Adds the claude profile `alias` running the fake agent.
fn create_fake_profile(sb: &mut Sandbox, alias: &str) {
    sb.env("TEST_KEY", crate::KEY);
    sb.run([
        "profiles",
        "create",
        "claude",
        alias,
        "--provider",
        "anthropic",
        "--model",
        "claude-test-1",
        "--key-from-env",
        "TEST_KEY",
        "--binary",
        fake_agent_bin().to_str().expect("utf-8 path"),
    ])
    .ok();
}

/// A sandbox with the `work` profile (the fake agent), a project directory to run in (the
/// workspace: not the user's HOME, which the sandbox refuses to show whole), and a file in the
/// user's real HOME.
struct Setup {
    sb: Sandbox,
    project: PathBuf,
    secret: PathBuf,
    record: PathBuf,
}

fn setup() -> Setup {
    let mut sb = Sandbox::new_in(&outside_tmp());
    create_fake_profile(&mut sb, "work");
    let project = sb.root().join("project");
    std::fs::create_dir_all(&project).expect("project");
    let user_home = sb.root().join("user-home");
    std::fs::create_dir_all(&user_home).expect("user home");
    let secret = user_home.join("secret.txt");
    std::fs::write(&secret, "private").expect("secret");
    let record = project.join("record.json");
    Setup {
        sb,
        project,
        secret,
        record,
    }
}

impl Setup {
    /// `ringlet profiles run work FLAGS -- --probe /etc --probe SECRET`, from the project.
    fn run_probing(&self, flags: &[&str]) -> Command {
        let mut args = vec!["profiles", "run", "work"];
        args.extend_from_slice(flags);
        let secret = self.secret.to_str().expect("utf-8");
        args.extend(["--", "--probe", "/etc", "--probe", secret]);
        let mut cmd = self.sb.command(args);
        cmd.current_dir(&self.project)
            .env("FAKE_AGENT_RECORD", &self.record);
        cmd
    }

    /// Whether the recorded run was sandboxed: `/etc` read-only and the real HOME hidden — or
    /// neither. A mix fails the test.
    fn was_sandboxed(&self) -> bool {
        let record = read_record(&self.record);
        let probes = &record["probes"];
        let etc_ro = probes["/etc"]["read_only_mount"]
            .as_bool()
            .unwrap_or_else(|| panic!("no /etc probe: {record}"));
        let secret_hidden = !probes[self.secret.to_str().expect("utf-8")]["readable"]
            .as_bool()
            .unwrap_or_else(|| panic!("no HOME probe: {record}"));
        assert_eq!(
            etc_ro, secret_hidden,
            "half a sandbox (/etc read-only: {etc_ro}, HOME hidden: {secret_hidden}): {record}"
        );
        etc_ro
    }

    /// Puts `sandbox = "always"` into the profile (a top-level key, before its tables).
    fn always(&self) {
        let path = self.sb.profile_dir("work").join("profile.toml");
        let text = std::fs::read_to_string(&path).expect("profile.toml");
        std::fs::write(&path, format!("sandbox = \"always\"\n{text}")).expect("write");
    }
}

fn ran(cmd: &mut Command) -> Run {
    cmd.output().expect("ringlet starts").into()
}

#[test]
fn sandbox_flag_sandboxes_one_run_of_a_profile_that_is_not() {
    let s = setup();
    // The profile's default (`remote`) leaves a local run plain.
    ran(&mut s.run_probing(&[])).ok();
    assert!(
        !s.was_sandboxed(),
        "a local run of a `remote` profile is plain"
    );

    ran(&mut s.run_probing(&["--sandbox"])).ok();
    assert!(s.was_sandboxed(), "--sandbox sandboxes the run");
}

#[test]
fn no_sandbox_flag_runs_an_always_profile_plain_once() {
    let s = setup();
    s.always();
    ran(&mut s.run_probing(&[])).ok();
    assert!(
        s.was_sandboxed(),
        "sandbox = \"always\" sandboxes a local run"
    );

    ran(&mut s.run_probing(&["--no-sandbox"])).ok();
    assert!(!s.was_sandboxed(), "--no-sandbox runs it plain");

    // One run only: the profile is still `always`.
    ran(&mut s.run_probing(&[])).ok();
    assert!(s.was_sandboxed());
}

#[test]
fn sandbox_and_no_sandbox_together_are_refused() {
    let s = setup();
    let run = ran(&mut s.run_probing(&["--sandbox", "--no-sandbox"]));
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
    assert!(!s.record.exists(), "the agent ran");
}

/// A PATH without bwrap: `--sandbox` fails, names bubblewrap and how to get it, and the agent
/// never started — neither sandboxed nor, worse, plain.
#[test]
fn sandbox_without_bwrap_fails_and_the_agent_never_runs() {
    let s = setup();
    let empty = s.sb.root().join("empty-bin");
    std::fs::create_dir_all(&empty).expect("dir");
    assert_no_bwrap(&empty);
    let runs_before = run_count(&s.sb);

    let run = ran(s.run_probing(&["--sandbox"]).env("PATH", &empty)).fails_with("bubblewrap");
    assert!(
        run.stderr.contains("apt-get install bubblewrap"),
        "{}",
        run.stderr
    );
    assert!(!s.record.exists(), "the agent ran without its sandbox");
    assert_eq!(
        run_count(&s.sb),
        runs_before,
        "a run that never started was counted"
    );

    // The same for a profile that is always sandboxed, without the flag.
    s.always();
    ran(s.run_probing(&[]).env("PATH", &empty)).fails_with("bubblewrap");
    assert!(!s.record.exists(), "the agent ran without its sandbox");
}

fn assert_no_bwrap(dir: &Path) {
    assert!(!dir.join("bwrap").exists());
}

/// The profile's `total_runs`.
fn run_count(sb: &Sandbox) -> u64 {
    let text =
        std::fs::read_to_string(sb.profile_dir("work").join("profile.toml")).expect("profile");
    text.lines()
        .find_map(|l| l.trim().strip_prefix("total_runs = "))
        .map_or(0, |n| n.trim().parse().expect("a count"))
}

// ---------------------------------------------------------------------------------------------
// What a sandboxed agent can and cannot reach.
// ---------------------------------------------------------------------------------------------

/// An installation with two profiles (`work`, run sandboxed; `other`, with a transcript in its
/// HOME), a user HOME with an SSH key and dotfiles, and a git repository as the workspace —
/// at `workspace` relative to the root (inside the user HOME or not).
struct Attack {
    sb: Sandbox,
    project: PathBuf,
    user_home: PathBuf,
    ssh_key: PathBuf,
    other_home: PathBuf,
    other_transcript: PathBuf,
    credentials: PathBuf,
    own_home: PathBuf,
    record: PathBuf,
}

/// What an SSH private key file holds here; it must not be read from inside.
const SSH_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\nfake-key-for-the-sandbox-test\n";
/// The other profile's transcript.
const TRANSCRIPT: &str =
    "{\"type\":\"user\",\"message\":{\"content\":\"other profile's secret\"}}\n";
/// What `--write-probe` writes (tests/src/bin/fake-agent.rs).
const PROBE_LINE: &str = "ringlet-write-probe\n";

fn attack_setup(workspace: &str) -> Attack {
    let mut sb = Sandbox::new_in(&outside_tmp());
    create_fake_profile(&mut sb, "work");
    create_fake_profile(&mut sb, "other");
    let root = sb.root().to_path_buf();
    let user_home = root.join("user-home");
    let ssh = user_home.join(".ssh");
    std::fs::create_dir_all(&ssh).expect(".ssh");
    let ssh_key = ssh.join("id_ed25519");
    std::fs::write(&ssh_key, SSH_KEY).expect("ssh key");
    std::fs::write(user_home.join(".bashrc"), "# the user's\n").expect(".bashrc");

    let other_home = sb.profile_home("other");
    let other_transcript = other_home.join(".claude/projects/-project/session.jsonl");
    std::fs::create_dir_all(other_transcript.parent().expect("dir")).expect("transcripts");
    std::fs::write(&other_transcript, TRANSCRIPT).expect("transcript");

    // Without a D-Bus session the key went into the file store.
    let credentials = sb.ringlet_home().join("config/credentials.toml");
    let creds = std::fs::read_to_string(&credentials).expect("the key is in the credentials file");
    assert!(
        creds.contains(crate::KEY),
        "the key is in the credentials file"
    );

    let project = root.join(workspace);
    // A repository as `git init` leaves it, as far as the sandbox looks.
    std::fs::create_dir_all(project.join(".git/hooks")).expect(".git/hooks");
    std::fs::write(project.join(".git/HEAD"), "ref: refs/heads/main\n").expect("HEAD");
    std::fs::write(
        project.join(".git/config"),
        "[core]\n\trepositoryformatversion = 0\n",
    )
    .expect(".git/config");
    std::fs::write(project.join("README.md"), "# project\n").expect("README");

    let own_home = sb.profile_home("work");
    std::fs::create_dir_all(&own_home).expect("own home");
    let record = project.join("record.json");
    Attack {
        sb,
        project,
        user_home,
        ssh_key,
        other_home,
        other_transcript,
        credentials,
        own_home,
        record,
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

impl Attack {
    /// Runs `work` with `flags`, the agent writing each of `writes` and reading each of `reads`;
    /// returns the record.
    fn run(&self, flags: &[&str], writes: &[&Path], reads: &[&Path]) -> Value {
        let _ = std::fs::remove_file(&self.record);
        let mut args = vec!["profiles", "run", "work"];
        args.extend_from_slice(flags);
        args.push("--");
        for w in writes {
            args.extend(["--write-probe", s(w)]);
        }
        for r in reads {
            args.extend(["--probe", s(r)]);
        }
        let mut cmd = self.sb.command(args);
        cmd.current_dir(&self.project)
            .env("FAKE_AGENT_RECORD", &self.record);
        ran(&mut cmd).ok();
        read_record(&self.record)
    }

    /// Every file the agent must leave alone, with its contents: the user HOME (but the
    /// workspace, when it lies inside), the other profile and the credentials file. (The rest
    /// of ringlet's files change with the run's own bookkeeping.)
    fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let other = self.sb.profile_dir("other");
        self.sb
            .files()
            .into_iter()
            .map(|rel| self.sb.root().join(rel))
            .filter(|p| {
                (p.starts_with(&self.user_home) && !p.starts_with(&self.project))
                    || p.starts_with(&other)
                    || *p == self.credentials
            })
            .map(|p| {
                let bytes = std::fs::read(&p).expect("readable");
                (p, bytes)
            })
            .collect()
    }
}

fn written(record: &Value, path: &Path) -> bool {
    record["writes"][s(path)]["written"]
        .as_bool()
        .unwrap_or_else(|| panic!("no write probe of {}: {record}", path.display()))
}

fn readable(record: &Value, path: &Path) -> bool {
    record["probes"][s(path)]["readable"]
        .as_bool()
        .unwrap_or_else(|| panic!("no read probe of {}: {record}", path.display()))
}

/// The agent tries to write /etc, the user's HOME (a file in it and a dotfile), another
/// profile's HOME and transcript, ringlet's credentials file, the workspace's `.git/hooks/`
/// (a new `pre-commit` too) and `.git/config`: each write fails inside, and outside nothing
/// changed. Writes to the workspace and to its own HOME work.
fn writes_are_refused_except_the_workspace_and_its_own_home(workspace: &str) {
    let a = attack_setup(workspace);
    let etc = Path::new("/etc");
    let hooks = a.project.join(".git/hooks");
    let pre_commit = hooks.join("pre-commit");
    let git_config = a.project.join(".git/config");
    let bashrc = a.user_home.join(".bashrc");
    let refused: Vec<&Path> = vec![
        etc,
        &a.user_home,
        &bashrc,
        &a.other_home,
        &a.other_transcript,
        &a.credentials,
        &hooks,
        &pre_commit,
        &git_config,
    ];
    let allowed_file = a.project.join("src/notes.txt");
    std::fs::create_dir_all(allowed_file.parent().expect("dir")).expect("src");
    let own_file = a.own_home.join("agent-state.txt");
    let allowed: Vec<&Path> = vec![&a.project, &allowed_file, &a.own_home, &own_file];
    let git_config_before = std::fs::read(&git_config).expect("config");
    let before = a.snapshot();

    let mut all = refused.clone();
    all.extend(&allowed);
    let record = a.run(&["--sandbox"], &all, &[]);

    for p in &refused {
        assert!(
            !written(&record, p),
            "the sandboxed agent wrote {}: {record}",
            p.display()
        );
    }
    for p in &allowed {
        assert!(
            written(&record, p),
            "the sandboxed agent could not write {}: {record}",
            p.display()
        );
    }
    // Outside: the allowed writes landed, the refused ones did not.
    assert_eq!(
        std::fs::read_to_string(&allowed_file).expect("written"),
        PROBE_LINE
    );
    assert_eq!(
        std::fs::read_to_string(a.project.join("ringlet-write-probe")).expect("written"),
        PROBE_LINE
    );
    assert_eq!(
        std::fs::read_to_string(&own_file).expect("written"),
        PROBE_LINE
    );
    assert!(
        !Path::new("/etc/ringlet-write-probe").exists(),
        "/etc was written"
    );
    assert!(!pre_commit.exists(), "a pre-commit hook was planted");
    assert!(!hooks.join("ringlet-write-probe").exists());
    assert_eq!(
        std::fs::read(&git_config).expect("config"),
        git_config_before
    );
    assert_eq!(
        a.snapshot(),
        before,
        "the run changed files outside its workspace and HOME"
    );
}

#[test]
fn a_sandboxed_agent_writes_only_its_workspace_and_its_own_home() {
    writes_are_refused_except_the_workspace_and_its_own_home("project");
}

/// The common layout: the project under the user's HOME (`~/src/project`), which the sandbox
/// shows again inside the hidden HOME — and nothing else of it.
#[test]
fn a_sandboxed_agent_in_a_project_under_home_writes_only_there() {
    writes_are_refused_except_the_workspace_and_its_own_home("user-home/src/project");
}

/// The agent reads `~/.ssh/id_*` (and lists `~/.ssh`), another profile's transcript and
/// ringlet's credentials file: all unreadable inside, all readable by the same agent run
/// without the sandbox (so the probe itself works). The workspace and its own HOME stay
/// readable.
fn reads_are_refused_except_the_workspace_and_its_own_home(workspace: &str) {
    let a = attack_setup(workspace);
    let ssh_dir = a.ssh_key.parent().expect(".ssh").to_path_buf();
    let secret: Vec<&Path> = vec![
        &a.ssh_key,
        &ssh_dir,
        &a.other_transcript,
        &a.other_home,
        &a.credentials,
    ];
    let readme = a.project.join("README.md");
    let own_file = a.own_home.join("own.txt");
    std::fs::write(&own_file, "mine").expect("own file");
    let visible: Vec<&Path> = vec![&readme, &own_file];
    let mut all = secret.clone();
    all.extend(&visible);

    let plain = a.run(&["--no-sandbox"], &[], &all);
    for p in &all {
        assert!(
            readable(&plain, p),
            "without the sandbox {} is readable (else the probe proves nothing): {plain}",
            p.display()
        );
    }

    let boxed = a.run(&["--sandbox"], &[], &all);
    for p in &secret {
        assert!(
            !readable(&boxed, p),
            "the sandboxed agent read {}: {boxed}",
            p.display()
        );
    }
    for p in &visible {
        assert!(
            readable(&boxed, p),
            "the sandboxed agent cannot read {}: {boxed}",
            p.display()
        );
    }
}

#[test]
fn a_sandboxed_agent_cannot_read_ssh_keys_other_profiles_or_the_credentials() {
    reads_are_refused_except_the_workspace_and_its_own_home("project");
}

#[test]
fn a_sandboxed_agent_in_a_project_under_home_cannot_read_the_rest_of_home() {
    reads_are_refused_except_the_workspace_and_its_own_home("user-home/src/project");
}
