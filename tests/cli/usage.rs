//! The usage ledger through the CLI: automatic ingestion after `profiles run`, reports, exports,
//! imports of the real agent-log samples, pricing updates from the real LiteLLM feed, stats,
//! errors, and several ringlet processes writing at once.

use std::path::{Path, PathBuf};

use ringlet_tests::harness::{Run, Sandbox, fake_agent_bin};
use serde_json::Value;

use crate::KEY;

/// The real agent log samples (tests/fixtures/agent-logs), copied into the sandbox once: an
/// import opens opencode.db with SQLite, which leaves -wal/-shm files beside it, and those must
/// not land in the repository.
fn samples(sb: &Sandbox) -> PathBuf {
    let dir = sb.root().join("agent-logs");
    if !dir.is_dir() {
        std::fs::create_dir_all(&dir).expect("mkdir");
        let fixtures = ringlet_tests::fixtures_dir().join("agent-logs");
        for entry in std::fs::read_dir(&fixtures).expect("tests/fixtures/agent-logs") {
            let entry = entry.expect("entry");
            std::fs::copy(entry.path(), dir.join(entry.file_name())).expect("copy sample");
        }
    }
    dir
}

fn sample(sb: &Sandbox, name: &str) -> PathBuf {
    samples(sb).join(name)
}

/// The trimmed LiteLLM feed (tests/fixtures/litellm_model_prices.json) and how many models it
/// prices (every entry but the `sample_spec` documentation entry).
fn litellm_feed() -> (PathBuf, u64) {
    let path = ringlet_tests::fixtures_dir().join("litellm_model_prices.json");
    let feed: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("feed")).expect("feed is JSON");
    let models = feed.as_object().expect("an object").len() as u64 - 1;
    (path, models)
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A sandbox whose profile `alias` runs the fake agent as `agent` with `provider` and `model`.
fn profile(sb: &Sandbox, agent: &str, alias: &str, provider: &str, model: &str) {
    sb.run([
        "profiles",
        "create",
        agent,
        alias,
        "--provider",
        provider,
        "--model",
        model,
        "--key-from-env",
        "TEST_KEY",
        "--binary",
        path_str(fake_agent_bin()),
    ])
    .ok();
}

fn sandbox() -> Sandbox {
    let mut sb = Sandbox::new();
    sb.env("TEST_KEY", KEY);
    sb
}

fn run_agent(sb: &Sandbox, alias: &str, args: &[&str]) -> Run {
    let mut full = vec!["profiles", "run", alias, "--"];
    full.extend_from_slice(args);
    sb.run(full)
}

fn usage_json(sb: &Sandbox, args: &[&str]) -> Value {
    let mut full = vec!["usage", "--json"];
    full.extend_from_slice(args);
    sb.run(full).ok().json()
}

/// Nano-dollars of `n` claude-sonnet-4-5 responses of 1000 input and 100 output tokens:
/// 1000 × $3/M + 100 × $15/M = $0.0045 each.
fn sonnet_nanos(n: i64) -> i64 {
    n * 4_500_000
}

#[test]
fn a_run_records_its_session_and_its_usage() {
    let sb = sandbox();
    profile(&sb, "claude", "work", "anthropic", "claude-sonnet-4-5");
    // Nothing yet: an empty report is not an error.
    let empty = sb.run(["usage"]).ok();
    assert!(empty.stdout.is_empty() && empty.stderr.contains("No usage recorded"));
    assert_eq!(usage_json(&sb, &[])["total"]["events"], 0);

    let out = run_agent(&sb, "work", &["--claude-log", "3", "--alloc-mb", "40"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.warnings().iter().all(|w| !w.contains("usage")),
        "{}",
        out.stderr
    );

    let report = usage_json(&sb, &[]);
    let total = &report["total"];
    // Each response is logged on two lines (two content blocks) and counted once.
    assert_eq!(total["events"], 3);
    assert_eq!(total["input"], 3000);
    assert_eq!(total["output"], 300);
    assert_eq!(total["cost_nanos"], sonnet_nanos(3));
    assert_eq!(total["unpriced_events"], 0);
    let row = &report["rows"][0];
    assert_eq!(
        (&row["profile"], &row["agent"], &row["provider"]),
        (&"work".into(), &"claude".into(), &"anthropic".into())
    );

    let stats = sb.run(["stats", "--json"]).ok().json();
    let s = &stats["rows"][0];
    assert_eq!(
        (s["profile"].as_str(), s["runs"].as_u64()),
        (Some("work"), Some(1))
    );
    assert_eq!(s["succeeded"], 1);
    let peak = s["peak_rss_bytes"].as_u64().expect("peak RSS recorded");
    assert!(peak >= 40 << 20, "peak RSS {peak} below the 40 MiB touched");
    assert!(s["cpu_user_ms"].is_u64() && s["cpu_system_ms"].is_u64());
    assert_eq!(stats["total"]["runs"], 1);

    // A second run adds only its own responses; a failing agent is still recorded, with its
    // exit code unchanged.
    let out = run_agent(&sb, "work", &["--claude-log", "2", "--exit", "5"]);
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert_eq!(usage_json(&sb, &[])["total"]["events"], 5);
    let stats = sb.run(["stats", "--json"]).ok().json();
    assert_eq!(
        (&stats["total"]["runs"], &stats["total"]["failed"]),
        (&2.into(), &1.into())
    );
    // `usage sync` finds nothing new: runs already ingested everything.
    let sync = sb.run(["usage", "sync", "--json"]).ok().json();
    assert_eq!(sync["total"]["inserted"], 0);
    let by_agent = sb.run(["stats", "--by-agent", "--json"]).ok().json();
    assert_eq!(by_agent["rows"][0]["agent"], "claude");
    assert_eq!(by_agent["rows"][0]["runs"], 2);
    let table = sb.run(["stats", "--by-agent"]).ok().stdout;
    assert!(table.starts_with("AGENT"), "{table}");
    let table = sb.run(["stats"]).ok().stdout;
    assert!(
        table.starts_with("PROFILE") && table.contains("TOTAL"),
        "{table}"
    );
}

#[test]
fn the_table_has_a_total_row_and_never_shows_unpriced_usage_as_zero() {
    let sb = sandbox();
    profile(&sb, "claude", "work", "anthropic", "claude-sonnet-4-5");
    profile(&sb, "claude", "lab", "anthropic", "claude-test-1");
    run_agent(&sb, "work", &["--claude-log", "2"]).ok();
    run_agent(&sb, "lab", &["--claude-log", "1"]).ok();
    let out = sb.run(["usage"]).ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", out.stdout);
    assert!(lines[0].starts_with("PROFILE") && lines[0].contains("CACHE READ"));
    let lab = lines
        .iter()
        .find(|l| l.starts_with("lab"))
        .expect("lab row");
    assert!(lab.contains("unpriced") && !lab.contains('$'), "{lab}");
    let work = lines
        .iter()
        .find(|l| l.starts_with("work"))
        .expect("work row");
    assert!(
        work.contains(" 2,000 ") && work.contains(" 200 ") && work.contains("$0.01"),
        "{work}"
    );
    let total = lines[3];
    assert!(
        total.starts_with("TOTAL") && total.contains("$0.01 + 1 unpriced"),
        "{total}"
    );
    assert!(
        out.stderr.contains("without a known price"),
        "{}",
        out.stderr
    );
}

#[test]
fn grouping_filters_and_exports() {
    let sb = sandbox();
    profile(&sb, "claude", "work", "anthropic", "claude-sonnet-4-5");
    profile(&sb, "claude", "lab", "anthropic", "claude-test-1");
    run_agent(&sb, "work", &["--claude-log", "2"]).ok();
    run_agent(&sb, "work", &["--claude-log", "1"]).ok();
    run_agent(&sb, "lab", &["--claude-log", "4"]).ok();

    let by_model = usage_json(&sb, &["--by-model"]);
    assert_eq!(by_model["group"], "model");
    let keys: Vec<(&str, u64)> = by_model["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["key"].as_str().expect("key"),
                r["events"].as_u64().expect("n"),
            )
        })
        .collect();
    assert_eq!(keys, [("claude-sonnet-4-5", 3), ("claude-test-1", 4)]);
    let by_session = usage_json(&sb, &["--by-session"]);
    assert_eq!(
        by_session["sessions"].as_array().expect("sessions").len(),
        3
    );
    let by_profile = usage_json(&sb, &["--by-profile"]);
    assert_eq!(by_profile["rows"][0]["key"], "lab");
    assert!(by_profile["rows"][0].get("agent").is_none());
    // Everything happened today (UTC in the sandbox).
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let by_day = usage_json(&sb, &["--by-day", "--since", &today, "--until", &today]);
    assert_eq!(by_day["rows"][0]["key"], today.as_str());
    assert_eq!(by_day["rows"][0]["events"], 7);
    let by_month = sb.run(["usage", "--by-month"]).ok().stdout;
    assert!(by_month.starts_with("MONTH") && by_month.contains(&today[..7]));
    sb.run(["usage", "--by-week"]).ok();

    let work = usage_json(&sb, &["--profile", "work"]);
    assert_eq!(work["total"]["events"], 3);
    let model = usage_json(&sb, &["--model", "claude-test-1"]);
    assert_eq!(model["total"]["events"], 4);
    // By prefix or normalised name, and an error (exit 1) listing the models when none match.
    assert_eq!(
        usage_json(&sb, &["--model", "sonnet-4.5"])["total"]["events"],
        3
    );
    assert_eq!(
        usage_json(&sb, &["--model", "claude"])["total"]["events"],
        7
    );
    sb.run(["usage", "--model", "opus-9"]).fails_with(
        "no model in the ledger matches 'opus-9'; models recorded: claude-sonnet-4-5, claude-test-1",
    );
    assert_eq!(
        usage_json(&sb, &["--provider", "anthropic"])["total"]["events"],
        7
    );
    assert_eq!(usage_json(&sb, &["--agent", "codex"])["total"]["events"], 0);
    assert_eq!(
        usage_json(&sb, &["--since", "2000-01-01", "--until", "2000-12-31"])["total"]["events"],
        0
    );
    assert_eq!(usage_json(&sb, &["--since", "1d"])["total"]["events"], 7);

    let csv = sb
        .run(["usage", "--export", "csv", "--profile", "work"])
        .ok()
        .stdout;
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 4, "{csv}");
    assert!(rows[0].starts_with("time,profile,agent,provider,model,input,output"));
    assert!(rows[1].contains(",work,claude,anthropic,claude-sonnet-4-5,1000,100,"));
    assert!(rows[1].contains(",0.004500000,computed,"), "{}", rows[1]);
    let lab_csv = sb
        .run(["usage", "--export", "csv", "--profile", "lab"])
        .ok()
        .stdout;
    // Unpriced: an empty cost, never 0.
    assert!(
        lab_csv.lines().nth(1).expect("row").contains(",,unpriced,"),
        "{lab_csv}"
    );
    let events = sb.run(["usage", "--export", "json"]).ok().json();
    let events = events.as_array().expect("array");
    assert_eq!(events.len(), 7);
    assert_eq!(events[0]["agent"], "claude");
    assert!(events.iter().any(|e| e["cost_nanos"].is_null()));
    // Both exports carry the cost in dollars, as docs/usage.md says: null when unpriced.
    for e in events {
        match e["cost_nanos"].as_i64() {
            Some(nanos) => assert_eq!(e["cost_usd"].as_f64(), Some(nanos as f64 / 1e9), "{e}"),
            None => assert!(e.get("cost_usd").is_some_and(Value::is_null), "{e}"),
        }
    }
    assert!(events.iter().any(|e| e["cost_usd"] == 0.0045));
}

#[test]
fn import_reads_the_real_samples_once() {
    let sb = sandbox();
    profile(&sb, "claude", "work", "anthropic", "claude-sonnet-4-5");
    profile(&sb, "codex", "cx", "openai", "gpt-5.5");
    profile(&sb, "gemini", "gm", "google", "gemini-2.5-pro");
    profile(&sb, "opencode", "oc", "anthropic", "claude-sonnet-4-5");
    profile(&sb, "droid", "dr", "anthropic", "claude-sonnet-4-5");
    let cases = [
        ("claude", "work", "claude-session.jsonl"),
        ("codex", "cx", "codex-rollout.jsonl"),
        ("gemini", "gm", "gemini-session.jsonl"),
        ("opencode", "oc", "opencode.db"),
        ("droid", "dr", "droid-session.settings.json"),
    ];
    for (agent, alias, file) in cases {
        let from = sample(&sb, file);
        let args = ["import", agent, "--to", alias, "--from", path_str(&from)];
        let mut json_args = args.to_vec();
        json_args.push("--json");
        let first = sb.run(&json_args).ok().json();
        let s = &first["summary"];
        assert_eq!(s["files_seen"], 1, "{agent}: {first}");
        assert!(s["inserted"].as_u64().expect("n") >= 1, "{agent}: {first}");
        assert_eq!(
            s["failures"].as_array().map(Vec::len),
            Some(0),
            "{agent}: {first}"
        );
        assert_eq!(first["profile"], alias);
        let again = sb.run(&json_args).ok().json();
        assert_eq!(again["summary"]["inserted"], 0, "{agent}: {again}");
        assert_eq!(again["summary"]["files_unchanged"], 1, "{agent}: {again}");
        let human = sb.run(args).ok().stdout;
        assert!(
            human.contains(&format!("Imported {agent} logs into profile '{alias}'"))
                && human.contains("0 new"),
            "{human}"
        );
        let report = usage_json(&sb, &["--profile", alias]);
        assert_eq!(report["rows"][0]["agent"], agent);
        assert_eq!(report["total"]["events"], first["summary"]["inserted"]);
    }
    // The claude sample: input 11, output 3, cache write 5, read 7 (checked by hand).
    let claude = usage_json(&sb, &["--agent", "claude"])["total"].clone();
    let buckets: Vec<u64> = ["input", "output", "cache_creation", "cache_read"]
        .iter()
        .map(|k| claude[*k].as_u64().expect("count"))
        .collect();
    assert_eq!(buckets, [11, 3, 5, 7]);
    // A log directory works too, and finds nothing new.
    let dir = sb
        .run([
            "import",
            "claude",
            "--to",
            "work",
            "--from",
            path_str(&samples(&sb)),
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(dir["summary"]["inserted"], 0, "{dir}");
}

#[test]
fn import_defaults_to_the_real_home_and_init_offers_it() {
    let sb = sandbox();
    let logs = sb.root().join("user-home/.claude/projects/-home-dev-work");
    std::fs::create_dir_all(&logs).expect("mkdir");
    std::fs::copy(
        sample(&sb, "claude-session.jsonl"),
        logs.join("10bf73cd.jsonl"),
    )
    .expect("copy");
    let init = sb.run(["init"]).ok().stdout;
    assert!(init.contains("Claude Code (1 file in"), "{init}");
    assert!(
        init.contains("ringlet profiles create claude <alias>"),
        "{init}"
    );
    profile(&sb, "claude", "work", "anthropic", "claude-sonnet-4-5");
    let init = sb.run(["init"]).ok().stdout;
    assert!(
        init.contains("    ringlet import claude --to work"),
        "{init}"
    );

    let out = sb.run(["import", "claude", "--to", "work"]).ok();
    assert!(out.stdout.contains("1 new"), "{}", out.stdout);
    assert!(out.stdout.contains("unpriced"), "{}", out.stdout);
    // No terminal: no progress bar drawn into the output.
    assert!(!out.stderr.contains("importing ["), "{}", out.stderr);
    assert_eq!(usage_json(&sb, &[])["total"]["events"], 1);
}

#[test]
fn pricing_update_from_the_real_litellm_feed_reprices_the_ledger() {
    let sb = sandbox();
    // claude-3-haiku-20240307 is in LiteLLM's feed but not in the built-in table.
    profile(&sb, "claude", "old", "anthropic", "claude-3-haiku-20240307");
    run_agent(&sb, "old", &["--claude-log", "2"]).ok();
    let before = usage_json(&sb, &[]);
    assert_eq!(before["total"]["unpriced_events"], 2);
    let show = sb.run(["pricing", "show", "--json"]).ok().json();
    assert!(show["snapshot"].is_null());

    let (feed, models) = litellm_feed();
    let report = sb
        .run(["pricing", "update", "--from", path_str(&feed), "--json"])
        .ok()
        .json();
    assert_eq!(report["models"], models, "{report}");
    assert_eq!(report["repriced"]["updated"], 2);
    let snapshot = sb.ringlet_home().join("cache/pricing/litellm.json");
    assert!(snapshot.is_file());
    let after = usage_json(&sb, &[]);
    assert_eq!(after["total"]["unpriced_events"], 0);
    // 2 × (1000 × $0.25/M + 100 × $1.25/M) = $0.00075.
    assert_eq!(after["total"]["cost_nanos"], 750_000);
    let show = sb.run(["pricing", "show", "--json"]).ok().json();
    assert_eq!(show["snapshot"], path_str(&snapshot));
    // New runs are priced with the snapshot too.
    run_agent(&sb, "old", &["--claude-log", "1"]).ok();
    assert_eq!(usage_json(&sb, &[])["total"]["cost_nanos"], 1_125_000);

    // A bad feed is refused and the snapshot kept.
    let junk = sb.root().join("junk.json");
    std::fs::write(&junk, "{\"not\": \"prices\"}").expect("write");
    sb.run(["pricing", "update", "--from", path_str(&junk)])
        .fails_with("prices no model");
    assert!(snapshot.is_file());
    sb.run(["pricing", "update", "--from", "/nonexistent/prices.json"])
        .fails_with("is not a file nor an http(s) URL");
    sb.run([
        "pricing",
        "update",
        "--from",
        "http://127.0.0.1:9/prices.json",
    ])
    .fails_with("ringlet pricing update --from FILE");
}

#[test]
fn unknown_names_and_bad_input_fail_with_one_line() {
    let sb = sandbox();
    profile(&sb, "claude", "work", "anthropic", "claude-sonnet-4-5");
    sb.run(["usage", "--profile", "nope"])
        .fails_with("profile 'nope' not found");
    sb.run(["usage", "--agent", "clod"])
        .fails_with("unknown agent 'clod'");
    sb.run(["usage", "--provider", "anthropik", "--json"])
        .fails_with("\"code\":\"unknown_provider\"");
    sb.run(["stats", "--profile", "nope"])
        .fails_with("profile 'nope' not found");
    sb.run(["usage", "--since", "last tuesday"])
        .fails_with("--since 'last tuesday' is not a date; use YYYY-MM-DD");
    sb.run(["usage", "--since", "2026-05-02", "--until", "2026-05-01"])
        .fails_with("swap them");
    let both = sb.run(["usage", "--by-day", "--by-model"]);
    assert!(
        both.code != 0 && both.stderr.contains("cannot be used with"),
        "{}",
        both.stderr
    );
    sb.run(["usage", "--breakdown", "model"])
        .fails_with("a breakdown splits grouped rows; give a group");
    sb.run(["import", "clod", "--to", "work"])
        .fails_with("unknown agent 'clod'");
    sb.run(["import", "claude", "--to", "nope"])
        .fails_with("profile 'nope' not found");
    sb.run(["import", "codex", "--to", "work"])
        .fails_with("profile 'work' runs claude, not codex");
    sb.run([
        "import",
        "claude",
        "--to",
        "work",
        "--from",
        "/nonexistent/logs",
    ])
    .fails_with("--from /nonexistent/logs does not exist");
    profile(&sb, "grok", "g", "xai", "grok-4");
    sb.run(["import", "grok", "--to", "g", "--no-state"])
        .fails_with("grok keeps no usage logs ringlet can read");
    // Without --no-state there is still its state to bring (none in this HOME).
    let out = sb.run(["import", "grok", "--to", "g"]).ok();
    assert!(out.stdout.contains("No grok state found"), "{}", out.stdout);
    let both = sb.run([
        "import",
        "claude",
        "--to",
        "work",
        "--dry-run",
        "--no-state",
    ]);
    assert!(
        both.code == 2 && both.stderr.contains("cannot be used with"),
        "{}",
        both.stderr
    );
}

#[test]
fn a_corrupt_ledger_is_named_and_never_changes_a_run_exit_code() {
    let sb = sandbox();
    profile(&sb, "claude", "work", "anthropic", "claude-sonnet-4-5");
    let db = sb.ringlet_home().join("data/usage.db");
    std::fs::write(&db, vec![b'x'; 8192]).expect("write junk");
    sb.run(["usage"])
        .fails_with("usage.db: damaged or not a ringlet ledger");
    let json = sb.run(["usage", "--json"]);
    assert!(
        json.stderr.contains("\"code\":\"usage_store\""),
        "{}",
        json.stderr
    );
    sb.run(["stats"]).fails_with("move it aside");

    let out = run_agent(&sb, "work", &["--claude-log", "1", "--exit", "3"]);
    assert_eq!(out.code, 3, "the agent's exit code: {}", out.stderr);
    // One warning for one cause.
    assert_eq!(
        out.warnings()
            .iter()
            .filter(|w| w.contains("usage"))
            .count(),
        1,
        "{}",
        out.stderr
    );
    let warnings = out.warnings();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("usage.db") && w.contains("not recorded")),
        "{}",
        out.stderr
    );
    // Moved aside, the ledger is rebuilt from the profile's logs.
    std::fs::rename(&db, db.with_extension("db.bad")).expect("move aside");
    sb.run(["usage", "sync"]).ok();
    assert_eq!(usage_json(&sb, &[])["total"]["events"], 1);
}

#[test]
fn concurrent_runs_and_syncs_lose_and_duplicate_nothing() {
    let sb = sandbox();
    profile(&sb, "claude", "work", "anthropic", "claude-sonnet-4-5");
    profile(&sb, "claude", "home", "anthropic", "claude-sonnet-4-5");
    let mut children = Vec::new();
    for i in 0..6 {
        let alias = if i % 2 == 0 { "work" } else { "home" };
        children.push(
            sb.command(["profiles", "run", alias, "--", "--claude-log", "25"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn"),
        );
    }
    for _ in 0..2 {
        children.push(
            sb.command(["usage", "sync"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn"),
        );
    }
    for child in children {
        let out: Run = child.wait_with_output().expect("wait").into();
        out.ok();
    }
    sb.run(["usage", "sync"]).ok();
    let report = usage_json(&sb, &["--by-profile"]);
    assert_eq!(report["total"]["events"], 150);
    assert_eq!(report["total"]["input"], 150_000);
    assert_eq!(report["total"]["cost_nanos"], sonnet_nanos(150));
    for row in report["rows"].as_array().expect("rows") {
        assert_eq!(row["events"], 75, "{row}");
    }
    let stats = sb.run(["stats", "--json"]).ok().json();
    assert_eq!(stats["total"]["runs"], 6);
    assert_eq!(stats["total"]["succeeded"], 6);
    let list = sb.run(["profiles", "list", "--json"]).ok().json();
    let runs: u64 = list
        .as_array()
        .expect("profiles")
        .iter()
        .map(|p| p["metadata"]["total_runs"].as_u64().expect("runs"))
        .sum();
    assert_eq!(runs, 6);
}

/// Serves `responses` (status line, body) to one request each on 127.0.0.1, then stops.
fn serve(responses: Vec<(&'static str, Vec<u8>)>) -> (String, std::thread::JoinHandle<()>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let handle = std::thread::spawn(move || {
        for (status, body) in responses {
            let (mut stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            // The request line and headers, up to the blank line.
            while reader.read_line(&mut line).expect("read") > 2 {
                line.clear();
            }
            let head = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).expect("head");
            stream.write_all(&body).expect("body");
        }
    });
    (url, handle)
}

#[test]
fn pricing_update_downloads_the_feed_over_http() {
    let sb = sandbox();
    let (path, models) = litellm_feed();
    let feed = std::fs::read(path).expect("feed");
    let (url, server) = serve(vec![("200 OK", feed), ("404 Not Found", b"{}".to_vec())]);
    let prices = format!("{url}/model_prices_and_context_window.json");
    let report = sb
        .run(["pricing", "update", "--from", &prices, "--json"])
        .ok()
        .json();
    assert_eq!(report["source"], prices.as_str());
    assert_eq!(report["models"], models, "{report}");
    assert!(
        sb.ringlet_home()
            .join("cache/pricing/litellm.json")
            .is_file()
    );
    sb.run(["pricing", "update", "--from", &prices])
        .fails_with("404");
    server.join().expect("server");
    // The failed download kept the snapshot.
    let show = sb.run(["pricing", "show", "--json"]).ok().json();
    assert!(show["snapshot"].is_string(), "{show}");
}

/// Waits until `path` has at least `n` lines (a detached hook writes it) or `timeout` passes.
fn lines_after(path: &Path, n: usize, timeout: std::time::Duration) -> Vec<String> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let got: Vec<String> = text.lines().map(str::to_string).collect();
        if got.len() >= n || std::time::Instant::now() >= deadline {
            return got;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn usage_a_run_logs_fires_the_cost_threshold_it_crosses_once() {
    let sb = sandbox();
    profile(&sb, "claude", "work", "anthropic", "claude-sonnet-4-5");
    let alerts = sb.root().join("alerts.log");
    sb.run([
        "hooks",
        "add",
        "work",
        "--on",
        "cost-threshold",
        "--period",
        "day",
        "--threshold",
        "0.01",
        "--shell",
        &format!(
            r#"echo "$RINGLET_PROFILE $RINGLET_COST_USD" >> '{}'"#,
            alerts.display()
        ),
    ])
    .ok();

    // $0.009: below the threshold, nothing fires.
    run_agent(&sb, "work", &["--claude-log", "2"]).ok();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(!alerts.exists(), "fired below the threshold");

    // The run's own usage, ingested when the agent exits, crosses $0.01: the hook fires.
    run_agent(&sb, "work", &["--claude-log", "1"]).ok();
    let lines = lines_after(&alerts, 1, std::time::Duration::from_secs(10));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("work "), "{lines:?}");

    // More spend the same day does not fire it again.
    run_agent(&sb, "work", &["--claude-log", "1"]).ok();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(lines_after(&alerts, 2, std::time::Duration::ZERO).len(), 1);
}

/// A copy of the OpenCode sample database in the sandbox, with the sample's assistant message
/// copied once per `(id, cost)` (each a millisecond later, all in one 15-minute bucket).
fn opencode_db_with(sb: &Sandbox, extra: &[(&str, f64)]) -> PathBuf {
    let dir = sb.root().join("oc-logs");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let db = dir.join("opencode.db");
    std::fs::copy(sample(sb, "opencode.db"), &db).expect("copy sample");
    let conn = rusqlite::Connection::open(&db).expect("open opencode.db");
    for (i, (id, cost)) in extra.iter().enumerate() {
        conn.execute(
            "INSERT INTO message SELECT ?1, session_id, time_created + ?2, time_updated + ?2, \
             json_set(data, '$.cost', ?3) FROM message \
             WHERE json_extract(data, '$.role') = 'assistant' AND json_extract(data, '$.tokens') IS NOT NULL ORDER BY rowid LIMIT 1",
            rusqlite::params![id, i as i64 + 1, cost],
        )
        .expect("insert message");
    }
    db
}

#[test]
fn an_absurd_cost_in_a_log_is_skipped_and_never_poisons_the_ledger() {
    let sb = sandbox();
    profile(&sb, "opencode", "oc", "anthropic", "claude-sonnet-4-5");
    let db = opencode_db_with(
        &sb,
        &[("msg_evil1", 5e9), ("msg_evil2", 5e9), ("msg_ok", 0.25)],
    );
    let import = sb.run(["import", "opencode", "--to", "oc", "--from", path_str(&db)]);
    assert_eq!(import.code, 0, "{}", import.stderr);
    assert!(
        import.stderr.contains("2 malformed lines were skipped")
            && import.stderr.contains("implausible cost"),
        "{}",
        import.stderr
    );
    let report = usage_json(&sb, &[]);
    assert_eq!(report["total"]["events"], 2);
    assert_eq!(report["total"]["cost_nanos"], 98_850 + 250_000_000);
    for args in [
        &["usage"][..],
        &["usage", "--by-day"],
        &["usage", "--by-session"],
    ] {
        let out = sb.run(args).ok();
        assert!(out.stdout.contains("$0.25"), "{args:?}: {}", out.stdout);
    }
}

#[test]
fn a_ledger_poisoned_by_an_older_version_still_reports() {
    let sb = sandbox();
    profile(&sb, "opencode", "oc", "anthropic", "claude-sonnet-4-5");
    let db = opencode_db_with(&sb, &[]);
    sb.run(["import", "opencode", "--to", "oc", "--from", path_str(&db)])
        .ok();
    // What older versions stored for OpenCode's `"cost": 5e9`: 5e18 nano-dollars, twice in one
    // rollup cell (whose sum then overflowed into a REAL); and a REAL in the row itself.
    let conn = rusqlite::Connection::open(sb.ringlet_home().join("data/usage.db"))
        .expect("open the ledger");
    for (key, cost) in [
        ("old1", "5000000000000000000"),
        ("old2", "5e18"),
        ("old3", "1e300"),
    ] {
        conn.execute(
            &format!(
                "INSERT INTO usage_events (ts_ms, profile, agent, provider, model, input, output, \
                 cache_creation, cache_creation_5m, cache_creation_1h, cache_read, reasoning, \
                 cost_nanos, cost_source, session_id, origin_id, dedup_key, rank) \
                 SELECT ts_ms, profile, agent, provider, model, 1, 0, 0, 0, 0, 0, 0, {cost}, \
                 'reported', session_id, origin_id, ?1, 0 FROM usage_events LIMIT 1"
            ),
            [key],
        )
        .expect("insert an old row");
    }
    drop(conn);
    for args in [
        &["usage"][..],
        &["usage", "--by-day"],
        &["usage", "--by-model"],
        &["usage", "--by-session"],
        &["usage", "--export", "csv"],
        &["usage", "--export", "json"],
        &["usage", "--json"],
    ] {
        let out = sb.run(args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(!out.stdout.is_empty(), "{args:?}");
    }
    let total = &usage_json(&sb, &[])["total"];
    assert_eq!(total["events"], 4);
    assert_eq!(total["cost_nanos"], i64::MAX);
}

/// Runs `ringlet ARGS` with stdout a pipe whose read end is already closed.
fn into_closed_pipe(sb: &Sandbox, args: &[&str]) -> Run {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    sb.command(args)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("ringlet starts")
        .into()
}

#[test]
fn a_closed_stdout_ends_every_command_quietly_with_success() {
    let sb = sandbox();
    profile(&sb, "claude", "work", "anthropic", "claude-sonnet-4-5");
    let from = sample(&sb, "claude-session.jsonl");
    sb.run([
        "import",
        "claude",
        "--to",
        "work",
        "--from",
        path_str(&from),
    ])
    .ok();
    for args in [
        &["completions", "zsh"][..],
        &["completions", "bash"],
        &["usage"],
        &["usage", "--by-day"],
        &["usage", "--json"],
        &["usage", "--export", "csv"],
        &["usage", "--export", "json"],
        &["stats"],
        &["pricing", "show"],
        &["profiles", "list"],
        &["profiles", "inspect", "work"],
        &["profiles", "env", "work"],
        &["providers", "list"],
        &["providers", "inspect", "anthropic"],
        &["keychain", "list"],
        &["hooks", "export"],
        &[
            "import",
            "claude",
            "--to",
            "work",
            "--from",
            path_str(&from),
        ],
    ] {
        let out = into_closed_pipe(&sb, args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(
            !out.stderr.contains("panicked") && !out.stderr.contains("Broken pipe"),
            "{args:?}: {}",
            out.stderr
        );
    }
    // An error still says so, and still fails, whatever stdout is.
    let out = into_closed_pipe(&sb, &["usage", "--profile", "nobody"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("nobody"), "{}", out.stderr);
}

/// One Claude Code response by `model`, as a transcript line.
fn claude_line(id: &str, model: &str) -> String {
    serde_json::json!({
        "type": "assistant", "sessionId": "s1", "timestamp": "2026-05-01T10:00:00Z",
        "message": {"id": id, "model": model, "role": "assistant",
            "usage": {"input_tokens": 10, "output_tokens": 1}}
    })
    .to_string()
        + "\n"
}

#[test]
fn terminal_escapes_and_spreadsheet_formulas_from_logs_and_flags_are_neutralised() {
    const ESC: char = '\u{1b}';
    let sb = sandbox();
    profile(&sb, "claude", "work", "anthropic", "claude-sonnet-4-5");
    let log = sb.root().join("evil.jsonl");
    let formula = "=HYPERLINK(\"http://evil\")";
    std::fs::write(
        &log,
        claude_line("m1", "\u{1b}[31mevil\u{1b}]0;title\u{7}")
            + claude_line("m2", formula).as_str(),
    )
    .expect("write log");
    sb.run(["import", "claude", "--to", "work", "--from", path_str(&log)])
        .ok();
    let shown = |args: &[&str]| {
        let out = sb.run(args).ok();
        assert!(
            !out.stdout.contains(ESC) && !out.stdout.contains('\u{7}'),
            "{args:?}: {:?}",
            out.stdout
        );
        out.stdout
    };
    let table = shown(&["usage", "--by-model"]);
    assert!(
        table.contains("\\u{1b}[31mevil\\u{1b}]0;title\\u{7}"),
        "{table}"
    );
    let csv = shown(&["usage", "--export", "csv"]);
    assert!(
        csv.contains(",\"'=HYPERLINK(\"\"http://evil\"\")\",") && !csv.contains(",=HYPERLINK"),
        "{csv}"
    );
    // The JSON export keeps the data exactly (JSON escapes it).
    let events = sb.run(["usage", "--export", "json"]).ok().json();
    let models: Vec<&str> = events
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["model"].as_str())
        .collect();
    assert!(models.contains(&formula) && models.iter().any(|m| m.starts_with(ESC)));

    // A model name is an identifier: one with a control character is refused at creation.
    let out = sb.run([
        "profiles",
        "create",
        "claude",
        "bad",
        "--provider",
        "anthropic",
        "--model",
        "\u{1b}[31mx",
        "--key-from-env",
        "TEST_KEY",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("control character") && !out.stderr.contains(ESC),
        "{:?}",
        out.stderr
    );
    // An --env value with a newline cannot forge another line of `profiles env`.
    sb.run([
        "profiles",
        "create",
        "claude",
        "envy",
        "--provider",
        "anthropic",
        "--key-from-env",
        "TEST_KEY",
        "--env",
        "NOTE=a\nANTHROPIC_BASE_URL=http://evil\u{1b}[2J",
    ])
    .ok();
    let env = shown(&["profiles", "env", "envy"]);
    assert!(
        env.contains("NOTE=a\\nANTHROPIC_BASE_URL=http://evil\\u{1b}[2J")
            && !env
                .lines()
                .any(|l| l.starts_with("ANTHROPIC_BASE_URL=http://evil")),
        "{env}"
    );
    // Errors echo what was given, visibly.
    let out = sb.run(["usage", "--profile", "x\u{1b}[2J"]);
    assert_eq!(out.code, 1);
    assert!(!out.stderr.contains(ESC), "{:?}", out.stderr);
}

#[test]
fn an_import_that_finds_nothing_says_so_and_counts_read_in_words() {
    let sb = sandbox();
    profile(&sb, "claude", "work", "anthropic", "claude-sonnet-4-5");
    let empty = sb.root().join("no-logs-here");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let out = sb
        .run([
            "import",
            "claude",
            "--to",
            "work",
            "--from",
            path_str(&empty),
        ])
        .ok();
    assert!(
        out.stdout
            .starts_with(&format!("No claude logs found in {}", empty.display()))
            && !out.stdout.contains("Imported"),
        "{}",
        out.stdout
    );
    // One file, one response, one malformed line: all singular.
    let log = sb.root().join("one.jsonl");
    std::fs::write(&log, claude_line("m1", "claude-sonnet-4-5") + "{not json\n").expect("write");
    let out = sb
        .run(["import", "claude", "--to", "work", "--from", path_str(&log)])
        .ok();
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("Imported claude logs into profile 'work'")
            && all.contains("1 file found")
            && all.contains("1 event read, 1 new")
            && all.contains("1 malformed line was skipped"),
        "{all}"
    );
    for bad in [" 1 files", " 1 events", " 1 lines", " 1 duplicates", "(s)"] {
        assert!(!all.contains(bad), "{bad}: {all}");
    }
    let again = sb
        .run(["import", "claude", "--to", "work", "--from", path_str(&log)])
        .ok()
        .stdout;
    assert!(again.contains("1 unchanged"), "{again}");
    let sync = sb.run(["usage", "sync"]).ok().stdout;
    assert!(sync.starts_with("Read 1 profile: "), "{sync}");
    assert!(!sync.contains("(s)"), "{sync}");
}

/// A Claude Code response line at `time`.
fn claude_line_at(id: &str, time: &str) -> String {
    serde_json::json!({
        "type": "assistant", "sessionId": "s1", "timestamp": time,
        "message": {"id": id, "model": "claude-sonnet-4-5", "role": "assistant",
            "usage": {"input_tokens": 10, "output_tokens": 1}}
    })
    .to_string()
        + "\n"
}

#[test]
fn days_are_in_the_named_time_zone_or_the_systems() {
    let mut sb = sandbox();
    profile(&sb, "claude", "work", "anthropic", "claude-sonnet-4-5");
    // A minute before and half an hour after midnight of 20 October in Los Angeles (PDT, -7).
    let log = sb.root().join("tz.jsonl");
    std::fs::write(
        &log,
        claude_line_at("a", "2026-10-20T06:59:00Z")
            + claude_line_at("b", "2026-10-20T07:30:00Z").as_str(),
    )
    .expect("log");
    sb.run(["import", "claude", "--to", "work", "--from", path_str(&log)])
        .ok();
    let days = |report: &Value| -> Vec<(String, u64)> {
        report["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| {
                (
                    r["key"].as_str().expect("key").into(),
                    r["events"].as_u64().expect("n"),
                )
            })
            .collect()
    };
    let la = usage_json(&sb, &["--by-day", "-z", "America/Los_Angeles"]);
    assert_eq!(la["timezone"], "America/Los_Angeles");
    assert_eq!(
        days(&la),
        [("2026-10-19".into(), 1), ("2026-10-20".into(), 1)]
    );
    let utc = usage_json(&sb, &["--by-day", "--timezone", "UTC"]);
    assert_eq!(utc["timezone"], "UTC");
    assert_eq!(days(&utc), [("2026-10-20".into(), 2)]);
    // --since a day is that day's local midnight: 07:00Z in October, not today's PST 08:00Z.
    let since = usage_json(&sb, &["--since", "2026-10-20", "-z", "America/Los_Angeles"]);
    assert_eq!(since["since"], "2026-10-20T07:00:00Z");
    assert_eq!(since["total"]["events"], 1);
    sb.run(["usage", "-z", "Mars/Olympus_Mons"])
        .fails_with("unknown time zone 'Mars/Olympus_Mons'");
    // Without --timezone, the system's zone (TZ) names the days, and the report names it.
    sb.env("TZ", "America/Los_Angeles");
    let system = usage_json(&sb, &["--by-day"]);
    assert_eq!(system["timezone"], "America/Los_Angeles");
    assert_eq!(days(&system), days(&la));
}
