//! `ringlet usage push` from simulated machines (one RINGLET_HOME each) into one Postgres.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use ringlet::{PgUsageStore, UsageFilter, UsageGroup, UsageStore};
use ringlet_tests::harness::{Sandbox, fake_agent_bin};
use serde_json::Value;

use crate::pg::{connect_as, fresh_schema, url};

/// Must never reach the team ledger: an API key, a prompt, a directory name.
const CANARY_KEY: &str = "sk-canary-KEY-4f1d";
const CANARY_PROMPT: &str = "canary-PROMPT-do-not-share";
const CANARY_DIR: &str = "canary-PATH-secret-project";

/// One developer machine: its own RINGLET_HOME and machine id, a `work` profile running the
/// fake Claude agent, and `[team]` pointing at `schema`.
pub struct Machine {
    pub sb: Sandbox,
}

impl Machine {
    pub fn new(schema: &str, user: &str) -> Self {
        let mut sb = Sandbox::new();
        sb.env("TEST_KEY", CANARY_KEY);
        if let Ok(pw) = std::env::var("RINGLET_TEST_POSTGRES_PASSWORD") {
            sb.env("TEAM_PW", pw);
        }
        let config = sb.ringlet_home().join("config/config.toml");
        std::fs::create_dir_all(config.parent().expect("dir")).expect("mkdir");
        // The server's certificate, trusted as a team trusts its CA (tests/run.sh's has TLS).
        let ca = std::env::var("RINGLET_TEST_POSTGRES_CA")
            .map(|ca| format!("ca-file = \"{ca}\"\n"))
            .unwrap_or_default();
        std::fs::write(
            &config,
            format!(
                "[credentials]\nbackend = \"file\"\n\n[team]\nledger = \"{}\"\nschema = \"{schema}\"\nuser = \"{user}\"\n{ca}",
                url()
            ),
        )
        .expect("config");
        if std::env::var_os("RINGLET_TEST_POSTGRES_PASSWORD").is_some() {
            sb.run(["team", "login", "--password-from-env", "TEAM_PW"])
                .ok();
        }
        sb.run([
            "profiles",
            "create",
            "claude",
            "work",
            "--provider",
            "anthropic",
            "--model",
            "claude-sonnet-4-5",
            "--key-from-env",
            "TEST_KEY",
            "--binary",
            fake_agent_bin().to_str().expect("utf-8"),
        ])
        .ok();
        Self { sb }
    }

    /// Writes Claude transcripts with message ids `ids` (each line twice, as Claude Code logs a
    /// response once per content block) under a directory named like a secret project, and
    /// imports them.
    pub fn import(&self, ids: std::ops::Range<u64>) {
        self.import_at(ids, None);
    }

    /// [`Machine::import`], every response stamped `at` (RFC 3339) when given.
    pub fn import_at(&self, ids: std::ops::Range<u64>, at: Option<&str>) {
        let dir = self.sb.root().join(CANARY_DIR);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let log = dir.join(format!("{}-{}.jsonl", ids.start, ids.end));
        let mut text = String::new();
        for i in ids {
            let line = claude_line(i, at);
            text.push_str(&line);
            text.push_str(&line);
        }
        std::fs::write(&log, text).expect("write log");
        self.sb
            .run(["import", "claude", "--to", "work", "--from", path_str(&log)])
            .ok();
    }

    /// `usage --json ARGS` (the local ledger, or the team's with `--team`).
    pub fn usage(&self, args: &[&str]) -> Value {
        let mut full = vec!["usage", "--json"];
        full.extend_from_slice(args);
        self.sb.run(full).ok().json()
    }

    pub fn push(&self, args: &[&str]) -> Value {
        let mut full = vec!["usage", "push", "--json"];
        full.extend_from_slice(args);
        self.sb.run(full).ok().json()
    }

    pub fn status(&self) -> Value {
        self.push(&["--status"])
    }
}

/// One Claude Code response: its tokens, model and day vary with `i`; its text is a prompt
/// that must stay on the machine.
fn claude_line(i: u64, at: Option<&str>) -> String {
    let model = ["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5"][(i % 3) as usize];
    let time = at.map_or_else(
        || format!("2026-05-{:02}T{:02}:{:02}:00Z", 1 + i % 28, i % 24, i % 60),
        str::to_string,
    );
    serde_json::json!({
        "type": "assistant",
        "sessionId": format!("session-{}", i % 7),
        "timestamp": time,
        "cwd": format!("/home/dev/{CANARY_DIR}"),
        "message": {
            "id": format!("msg_{i:08}"),
            "model": model,
            "role": "assistant",
            "content": [{"type": "text", "text": CANARY_PROMPT}],
            "usage": {
                "input_tokens": 100 + i % 13,
                "output_tokens": 10 + i % 5,
                "cache_read_input_tokens": i % 11,
                "cache_creation_input_tokens": i % 3
            }
        }
    })
    .to_string()
        + "\n"
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The numbers a report's total must match exactly.
fn totals(report: &Value) -> [i64; 6] {
    let t = &report["total"];
    [
        "events",
        "input",
        "output",
        "cache_read",
        "cache_creation",
        "cost_nanos",
    ]
    .map(|k| t[k].as_i64().unwrap_or_else(|| panic!("{k} in {t}")))
}

fn sum(all: &[[i64; 6]]) -> [i64; 6] {
    let mut out = [0; 6];
    for t in all {
        for (o, v) in out.iter_mut().zip(t) {
            *o += v;
        }
    }
    out
}

/// Every text in every table of `schema`, for the canary check.
fn everything_in(schema: &str) -> String {
    let mut config: postgres::Config = url().parse().expect("url");
    if let Some(pw) = crate::pg::password() {
        config.password(pw.expose());
    }
    let mut client = config.connect(postgres::NoTls).expect("connect");
    let mut all = String::new();
    for table in [
        "usage_events",
        "usage_rollup",
        "machines",
        "import_state",
        "run_sessions",
        "fired_hooks",
    ] {
        for row in client
            .query(&format!("SELECT t::text FROM \"{schema}\".{table} t"), &[])
            .expect("dump")
        {
            all.push_str(row.get::<_, &str>(0));
            all.push('\n');
        }
    }
    all
}

#[test]
fn three_machines_pushing_at_once_merge_exactly_and_share_no_secrets() {
    let schema = fresh_schema();
    let machines: Vec<Machine> = ["alice", "bob", "carol"]
        .iter()
        .map(|u| Machine::new(&schema, u))
        .collect();
    // Overlapping corpora: the same message ids on several machines (copies of one log) are each
    // machine's own events; within a machine they count once.
    for (i, m) in machines.iter().enumerate() {
        let start = i as u64 * 300;
        m.import(start..start + 600);
        m.import(start + 500..start + 700);
    }
    let truths: Vec<[i64; 6]> = machines.iter().map(|m| totals(&m.usage(&[]))).collect();
    assert_eq!(truths[0][0], 700, "{truths:?}");
    for m in &machines {
        assert_eq!(m.status()["pending"], 700);
    }

    let pushes: Vec<_> = machines
        .iter()
        .map(|m| {
            m.sb.command(["usage", "push", "--json", "--batch-size", "97"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn push")
        })
        .collect();
    for p in pushes {
        let out = p.wait_with_output().expect("push");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(report["sent"], 700, "{report}");
        assert_eq!(report["inserted"], 700, "{report}");
    }

    let team = machines[0].usage(&["--team"]);
    assert_eq!(totals(&team), sum(&truths));
    for args in [
        &["--team", "--by-day"][..],
        &["--team", "--by-month"],
        &["--team", "--by-model"],
        &["--team", "--by-session"],
        &["--team", "--by-user"],
        &["--team", "--by-machine"],
    ] {
        let report = machines[1].usage(args);
        assert_eq!(totals(&report), sum(&truths), "{args:?}");
        let rows = report["rows"].as_array().expect("rows");
        let row_sum: i64 = rows
            .iter()
            .map(|r| r["cost_nanos"].as_i64().expect("cost"))
            .sum();
        assert_eq!(row_sum, sum(&truths)[5], "{args:?}");
    }
    // Per user, exactly each machine's own ground truth.
    let by_user = machines[2].usage(&["--team", "--by-user"]);
    assert_eq!(by_user["group"], "user");
    for (row, (user, truth)) in by_user["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .zip(["alice", "bob", "carol"].iter().zip(&truths))
    {
        assert_eq!(row["key"], *user);
        assert_eq!(row["events"].as_i64(), Some(truth[0]));
        assert_eq!(row["cost_nanos"].as_i64(), Some(truth[5]));
    }
    // A filter applies to the team too.
    let opus = machines[0].usage(&["--team", "--model", "claude-opus-4-1"]);
    let local_opus: i64 = machines
        .iter()
        .map(|m| totals(&m.usage(&["--model", "claude-opus-4-1"]))[0])
        .sum();
    assert_eq!(totals(&opus)[0], local_opus);

    // A second push sends nothing.
    for m in &machines {
        let again = m.push(&[]);
        assert_eq!(
            (again["sent"].as_i64(), again["batches"].as_i64()),
            (Some(0), Some(0))
        );
        assert_eq!(m.status()["pending"], 0);
    }

    let shared = everything_in(&schema);
    assert!(shared.contains("msg_00000001"), "the dump reads the events");
    for canary in [CANARY_KEY, CANARY_PROMPT, CANARY_DIR, "/home/dev", "file:/"] {
        assert!(!shared.contains(canary), "{canary} reached the team ledger");
    }
}

#[test]
fn a_push_killed_halfway_resumes_without_loss_or_duplicates() {
    let schema = fresh_schema();
    let m = Machine::new(&schema, "dana");
    m.import(0..3000);
    let truth = totals(&m.usage(&[]));
    let observer =
        PgUsageStore::connect(&connect_as(&schema, "observer", "obs")).expect("observer");
    let team_events = || {
        observer
            .query(&UsageFilter::new(), UsageGroup::Total)
            .expect("total")[0]
            .events
    };
    let mut child =
        m.sb.command(["usage", "push", "--batch-size", "10"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(60);
    let killed_at = loop {
        let n = team_events();
        if n >= 200 {
            child.kill().expect("SIGKILL");
            break n;
        }
        assert!(Instant::now() < deadline, "the push never got going");
        std::thread::sleep(Duration::from_millis(2));
    };
    let _ = child.wait();
    let after_kill = team_events();
    assert!(
        after_kill < 3000,
        "killed at {killed_at}, yet all events arrived: the push was not interrupted"
    );
    let pending = m.status()["pending"].as_u64().expect("pending");
    assert!(
        pending > 0 && pending <= 3000 - after_kill + 10,
        "{pending} after {after_kill}"
    );

    let resumed = m.push(&[]);
    assert_eq!(
        resumed["inserted"].as_u64().expect("inserted"),
        3000 - after_kill,
        "{resumed}"
    );
    assert!(
        resumed["unchanged"].as_u64().expect("unchanged") <= 10,
        "{resumed}"
    );
    assert_eq!(totals(&m.usage(&["--team"])), truth);
    assert_eq!(m.push(&[])["sent"], 0);
}

#[test]
fn a_run_pushes_in_the_background_and_a_failed_push_is_kept_for_status() {
    let schema = fresh_schema();
    let m = Machine::new(&schema, "erin");
    let out =
        m.sb.run(["profiles", "run", "work", "--", "--claude-log", "3"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let observer =
        PgUsageStore::connect(&connect_as(&schema, "observer", "obs")).expect("observer");
    let deadline = Instant::now() + Duration::from_secs(30);
    while observer
        .query(&UsageFilter::new(), UsageGroup::Total)
        .expect("total")[0]
        .events
        < 3
    {
        assert!(
            Instant::now() < deadline,
            "the background push never arrived"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(totals(&m.usage(&["--team"])), totals(&m.usage(&[])));
    // The run itself went too, ended, once however often it is pushed.
    m.push(&[]);
    let runs = observer.runs(&UsageFilter::new(), None).expect("runs");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(
        (runs[0].profile.as_str(), runs[0].exit_code),
        ("work", Some(0))
    );
    assert!(runs[0].ended_at.is_some());

    // A ledger that refuses this machine: the push fails with one line, and the status keeps it.
    let bad = Machine::new(&schema, "frank");
    let config = bad.sb.ringlet_home().join("config/config.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, text.replace("/postgres\"", "/no_such_database\"")).expect("config");
    bad.import(0..5);
    let failed = bad.sb.run(["usage", "push"]);
    assert_ne!(failed.code, 0);
    assert!(
        failed.stderr.contains("no_such_database"),
        "{}",
        failed.stderr
    );
    let status = bad.status();
    assert_eq!(status["pending"], 5);
    assert!(
        status["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("no_such_database")),
        "{status}"
    );
    if let Some(pw) = crate::pg::password() {
        assert!(!failed.stderr.contains(pw.expose()));
        assert!(!status.to_string().contains(pw.expose()));
    }
}

#[test]
fn a_password_in_the_url_is_refused() {
    let schema = fresh_schema();
    let m = Machine::new(&schema, "gil");
    let config: PathBuf = m.sb.ringlet_home().join("config/config.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(
        &config,
        text.replace("postgres://ringlet@", "postgres://ringlet:hunter2@"),
    )
    .expect("config");
    let out = m.sb.run(["usage", "push"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("credential store"), "{}", out.stderr);
    assert!(!out.stderr.contains("hunter2"), "{}", out.stderr);
}
