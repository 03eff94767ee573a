//! `ringlet profiles run --sandbox / --no-sandbox` with the real bwrap (apt `bubblewrap`): the
//! flag sandboxes one run or leaves one run plain whatever the profile's `sandbox` mode says,
//! and a sandbox that cannot start fails the run before the agent starts.
//!
//! The fake agent only looks (`--probe`): sandboxed, `/etc` is on a read-only mount and the
//! user's real HOME is hidden; plain, neither.

use std::path::{Path, PathBuf};
use std::process::Command;

use ringlet_tests::harness::{Run, Sandbox, read_record};

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
    let sb = crate::sandbox_with_profile();
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
