//! Usage ledger benchmarks, on one core:
//!
//! 1. import throughput: a generated Claude Code corpus (default 1 GiB, in 64 MiB session
//!    files shaped like real transcripts: tool results, content-block lines repeating usage,
//!    attachments) imported into a fresh SQLite ledger; target ≥ 200 MB/s;
//! 2. re-scan of 1,000 unchanged log files; target ≤ 100 ms;
//! 3. reports over 1,000,000 events (by day in several zones, by month, model, session);
//!    target ≤ 50 ms each;
//! 4. the status line (`ringlet statusline`) over the same ledger, from opening ringlet to the
//!    line, with the session's transcript re-checked; target ≤ 50 ms.
//!
//! Usage: `cargo bench -p ringlet --bench usage_ledger [-- CORPUS_MIB | reports]`. Results are printed;
//! docs/performance.md ("Usage ledger") records them.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use ringlet::{
    Attribution, CostSource, LogLocation, PriceBook, SqliteUsageStore, TokenCounts, UsageEvent,
    UsageFilter, UsageGroup, UsageStore, ingest_home,
};

/// A small deterministic generator (xorshift64*), so every run reads the same corpus.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "fn",
    "let",
    "mut",
    "match",
    "impl",
    "struct",
    "the",
    "error",
    "path",
    "file",
    "\\n",
    "\\\"",
    "return",
    "Result<()>",
    "self",
    "=>",
    "{",
    "}",
    "cargo",
    "test",
    "ringlet",
    "usage",
];

fn text(rng: &mut Rng, bytes: u64) -> String {
    let mut s = String::with_capacity(bytes as usize + 16);
    while (s.len() as u64) < bytes {
        s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
        s.push(' ');
    }
    s
}

fn write_session(path: &Path, target: u64, rng: &mut Rng, next_id: &mut u64) -> u64 {
    let session = format!("sess-{}", rng.next());
    write_transcript(path, target, rng, next_id, &session, None)
}

/// A transcript of about `target` bytes. `replay`: a subagent's sidechain transcript
/// (`isSidechain: true`) whose responses repeat, one in three, a message id of the main session
/// in this range (Claude Code replays them under a new request id); the others are its own.
fn write_transcript(
    path: &Path,
    target: u64,
    rng: &mut Rng,
    next_id: &mut u64,
    session: &str,
    replay: Option<std::ops::Range<u64>>,
) -> u64 {
    let mut out = BufWriter::with_capacity(1 << 20, fs::File::create(path).expect("create"));
    let sidechain = replay.is_some();
    let mut written = 0u64;
    let mut minute = rng.below(40 * 24 * 60);
    while written < target {
        minute += 1;
        let id = match &replay {
            Some(range) if !range.is_empty() && rng.below(3) == 0 => {
                range.start + rng.below(range.end - range.start)
            }
            _ => {
                *next_id += 1;
                *next_id
            }
        };
        let request = if sidechain {
            format!("{id}s{}", rng.below(1000))
        } else {
            id.to_string()
        };
        let ts = format!(
            "2026-05-{:02}T{:02}:{:02}:00.000Z",
            1 + (minute / 600) % 28,
            8 + (minute / 60) % 10,
            minute % 60
        );
        let mut lines = Vec::new();
        lines.push(format!(
            r#"{{"parentUuid":"u{id}a","isSidechain":{sidechain},"userType":"external","cwd":"/home/dev/work","sessionId":"{session}","version":"2.1.330","gitBranch":"main","type":"user","message":{{"role":"user","content":[{{"tool_use_id":"toolu_{id}","type":"tool_result","content":"{}","is_error":false}}]}},"uuid":"u{id}b","timestamp":"{ts}"}}"#,
            { let n = 500 + rng.below(7000); text(rng, n) }
        ));
        let usage = format!(
            r#"{{"input_tokens":{},"cache_creation_input_tokens":{},"cache_read_input_tokens":{},"cache_creation":{{"ephemeral_5m_input_tokens":{},"ephemeral_1h_input_tokens":0}},"output_tokens":{},"service_tier":"standard"}}"#,
            rng.below(50),
            rng.below(4000),
            20_000 + rng.below(100_000),
            rng.below(10),
            1 + rng.below(2000)
        );
        let blocks = [
            format!(r#"{{"type":"text","text":"{}"}}"#, {
                let n = 100 + rng.below(1500);
                text(rng, n)
            }),
            format!(
                r#"{{"type":"tool_use","id":"toolu_{id}x","name":"Bash","input":{{"command":"{}","description":"run it"}}}}"#,
                {
                    let n = 50 + rng.below(400);
                    text(rng, n)
                }
            ),
        ];
        for (i, block) in blocks.iter().enumerate() {
            lines.push(format!(
                r#"{{"parentUuid":"u{id}b","isSidechain":{sidechain},"userType":"external","cwd":"/home/dev/work","sessionId":"{session}","version":"2.1.330","gitBranch":"main","message":{{"id":"msg_{id}","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{block}],"stop_reason":null,"stop_sequence":null,"usage":{usage}}},"requestId":"req_{request}","type":"assistant","uuid":"u{id}c{i}","timestamp":"{ts}"}}"#
            ));
        }
        lines.push(format!(
            r#"{{"parentUuid":"u{id}c1","isSidechain":{sidechain},"attachment":{{"type":"todo","content":"{}"}},"type":"attachment","uuid":"u{id}d","timestamp":"{ts}","sessionId":"{session}"}}"#,
            { let n = 100 + rng.below(600); text(rng, n) }
        ));
        for line in lines {
            out.write_all(line.as_bytes()).expect("write");
            out.write_all(b"\n").expect("write");
            written += line.len() as u64 + 1;
        }
    }
    out.flush().expect("flush");
    written
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn claude_logs() -> Vec<LogLocation> {
    vec![LogLocation {
        path: ".claude/projects".into(),
        format: "claude-jsonl".into(),
    }]
}

fn import_throughput(root: &Path, mib: u64) {
    let home = root.join("corpus");
    let dir = home.join(".claude/projects/-home-dev-work");
    fs::create_dir_all(&dir).expect("mkdir");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut id = 0;
    let mut bytes = 0;
    let per_file = 64u64 << 20;
    let total = mib << 20;
    let mut n = 0;
    let started = Instant::now();
    while bytes < total {
        n += 1;
        let want = per_file.min(total - bytes);
        bytes += write_session(
            &dir.join(format!("session-{n}.jsonl")),
            want,
            &mut rng,
            &mut id,
        );
    }
    println!(
        "corpus: {:.0} MiB in {n} files, {id} responses (generated in {:.1?})",
        bytes as f64 / 1048576.0,
        started.elapsed()
    );
    let store = SqliteUsageStore::open(root.join("import.db")).expect("open");
    let who = Attribution::new("bench", "claude", "anthropic");
    let started = Instant::now();
    let s =
        ingest_home(&store, &PriceBook::builtin(), &who, &claude_logs(), &home).expect("import");
    let elapsed = started.elapsed();
    assert_eq!(s.inserted, id, "every response once");
    println!(
        "import: {:.0} MiB, {} lines, {} events in {:.2?} = {:.0} MB/s ({:.0} MiB/s)",
        s.bytes_read as f64 / 1048576.0,
        s.lines,
        s.inserted,
        elapsed,
        s.bytes_read as f64 / 1e6 / elapsed.as_secs_f64(),
        s.bytes_read as f64 / 1048576.0 / elapsed.as_secs_f64()
    );
    fs::remove_dir_all(&home).expect("clean up the corpus");
}

fn rescan_unchanged(root: &Path) {
    let home = root.join("many");
    let mut rng = Rng(7);
    let mut id = 0;
    for i in 0..1000 {
        let dir = home.join(format!(".claude/projects/-p{}", i % 40));
        fs::create_dir_all(&dir).expect("mkdir");
        write_session(&dir.join(format!("s{i}.jsonl")), 8 << 10, &mut rng, &mut id);
    }
    let store = SqliteUsageStore::open(root.join("rescan.db")).expect("open");
    let who = Attribution::new("bench", "claude", "anthropic");
    let prices = PriceBook::builtin();
    let first = ingest_home(&store, &prices, &who, &claude_logs(), &home).expect("import");
    assert_eq!(first.files_scanned, 1000);
    let mut times = Vec::new();
    for _ in 0..15 {
        let started = Instant::now();
        let s = ingest_home(&store, &prices, &who, &claude_logs(), &home).expect("rescan");
        times.push(started.elapsed());
        assert_eq!(s.files_unchanged, 1000);
    }
    println!(
        "re-scan of 1,000 unchanged files: median {:.1?}",
        median(times)
    );
}

/// Records `n` events spread over the working hours of 2026, three profiles and three models;
/// returns the start of the year.
fn fill(store: &SqliteUsageStore, n: u64) -> chrono::DateTime<Utc> {
    let mut rng = Rng(42);
    let start = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("date");
    let profiles = ["work", "personal", "client"];
    let models = ["claude-sonnet-4-5", "claude-opus-4-5", "claude-haiku-4-5"];
    let started = Instant::now();
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..n {
        // A year of working days: 10 busy hours a day, ~2,700 events a day.
        let day = i * 365 / n;
        let second = 8 * 3600 + rng.below(10 * 3600);
        let profile = profiles[rng.below(3) as usize];
        batch.push(UsageEvent {
            time: start + chrono::Duration::seconds((day * 86400 + second) as i64),
            profile: profile.into(),
            agent: "claude".into(),
            provider: "anthropic".into(),
            model: models[rng.below(3) as usize].into(),
            tokens: TokenCounts {
                input: rng.below(100),
                output: rng.below(2000),
                cache_creation: rng.below(5000),
                cache_read: rng.below(100_000),
                ..TokenCounts::default()
            },
            cost_nanos: Some(rng.below(1_000_000) as i64),
            cost_source: CostSource::Computed,
            session_id: Some(format!("s{}", i / 200)),
            project: None,
            origin: "bench".into(),
            dedup_key: format!("bench:{i}"),
            rank: 0,
        });
        if batch.len() == 10_000 {
            store.record(&batch).expect("record");
            batch.clear();
        }
    }
    if !batch.is_empty() {
        store.record(&batch).expect("record");
    }
    let elapsed = started.elapsed();
    println!(
        "recorded {n} events in {elapsed:.1?} ({:.0} events/s)",
        n as f64 / elapsed.as_secs_f64()
    );
    start
}

fn by_day(root: &Path) {
    let store = SqliteUsageStore::open(root.join("report.db")).expect("open");
    let start = fill(&store, 1_000_000);
    let year = UsageFilter::new()
        .since(start)
        .until(start + chrono::Duration::days(365));
    let zone = |name: &str| ringlet::Zone::named(name).expect("zone");
    for (label, filter, group) in [
        ("by day, UTC", year.clone(), UsageGroup::Day),
        (
            "by day, no bounds (GET /api/usage?group=day)",
            UsageFilter::new(),
            UsageGroup::Day,
        ),
        (
            "by day, Europe/Berlin (both DST changes)",
            year.clone().time_zone(zone("Europe/Berlin")),
            UsageGroup::Day,
        ),
        (
            "by day, Asia/Kolkata (+05:30: hourly rollup, quarters of the cut hours)",
            year.clone().time_zone(zone("Asia/Kolkata")),
            UsageGroup::Day,
        ),
        (
            "by day, one profile",
            year.clone().profile("work"),
            UsageGroup::Day,
        ),
        ("by month", year.clone(), UsageGroup::Month),
        ("by model", year.clone(), UsageGroup::Model),
        ("total", year.clone(), UsageGroup::Total),
        (
            "by day, unaligned bounds (every event read)",
            year.clone()
                .since(start + chrono::Duration::milliseconds(1)),
            UsageGroup::Day,
        ),
        ("by session", year.clone(), UsageGroup::Session),
        (
            "by session, no bounds",
            UsageFilter::new(),
            UsageGroup::Session,
        ),
    ] {
        let mut times = Vec::new();
        let mut cpu = Vec::new();
        let mut rows = 0;
        for _ in 0..9 {
            let (started, cpu_started) = (Instant::now(), thread_cpu());
            rows = store.query(&filter, group).expect("query").len();
            times.push(started.elapsed());
            cpu.push(thread_cpu().saturating_sub(cpu_started));
        }
        println!(
            "{label}: {rows} rows, median {:.1?} (CPU {:.1?})",
            median(times),
            median(cpu)
        );
    }
    // The reports that are not a plain grouping: a by-day report split by model (`usage
    // --by-day --breakdown model`, also the models column), the session list, billing blocks.
    let now = start + chrono::Duration::days(365);
    type Report<'a> = Box<dyn Fn() -> usize + 'a>;
    let reports: [(&str, Report<'_>); 4] = [
        (
            "by day, breakdown model",
            Box::new(|| {
                store
                    .query_split(&year, UsageGroup::Day, UsageGroup::Model)
                    .expect("split")
                    .len()
            }),
        ),
        (
            "session list (usage --by-session)",
            Box::new(|| store.sessions(&year).expect("sessions").len()),
        ),
        (
            "session list, no bounds",
            Box::new(|| store.sessions(&UsageFilter::new()).expect("sessions").len()),
        ),
        (
            "billing blocks (usage blocks)",
            Box::new(|| {
                ringlet::billing_blocks(&store.hours(&UsageFilter::new()).expect("hours"), now)
                    .len()
            }),
        ),
    ];
    for (label, report) in reports {
        let mut times = Vec::new();
        let mut cpu = Vec::new();
        let mut rows = 0;
        for _ in 0..9 {
            let (started, cpu_started) = (Instant::now(), thread_cpu());
            rows = report();
            times.push(started.elapsed());
            cpu.push(thread_cpu().saturating_sub(cpu_started));
        }
        println!(
            "{label}: {rows} rows, median {:.1?} (CPU {:.1?})",
            median(times),
            median(cpu)
        );
    }
}

/// `ringlet statusline` as Claude Code runs it, minus the process start: a new [`Ringlet`] on
/// a home whose ledger holds 1,000,000 events, a profile, and the session's transcript (one
/// response, already read: the status line checks it for new lines).
fn statusline(root: &Path) {
    let home = root.join("statusline-home");
    let ringlet = || {
        ringlet::Ringlet::builder()
            .home(&home)
            .build()
            .expect("ringlet")
    };
    let first = ringlet();
    let store = SqliteUsageStore::open(first.usage_db_path()).expect("open");
    let start = fill(&store, 1_000_000);
    drop(store);
    first
        .create_profile(
            &ringlet::NewProfile::new("claude", "work", "anthropic"),
            None,
        )
        .expect("profile");
    let dir = first
        .profile_home("work")
        .expect("home")
        .join(".claude/projects/-work");
    fs::create_dir_all(&dir).expect("mkdir");
    let transcript = dir.join("s4999.jsonl");
    let mut rng = Rng(7);
    let mut id = 0;
    write_transcript(&transcript, 4096, &mut rng, &mut id, "s4999", None);
    let input = ringlet::StatuslineInput {
        session_id: Some("s4999".into()),
        transcript_path: Some(transcript),
        ..Default::default()
    };
    let cx = ringlet::StatuslineContext {
        profile: Some("work".into()),
        timezone: Some("UTC".into()),
        ..Default::default()
    };
    // In the middle of the corpus's busiest stretch: a session, today and an active block.
    let now = start + chrono::Duration::days(364) + chrono::Duration::hours(12);
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    let mut line = String::new();
    for _ in 0..9 {
        let (started, cpu_started) = (Instant::now(), thread_cpu());
        line = ringlet()
            .statusline_at(&input, &cx, now)
            .expect("statusline")
            .text;
        times.push(started.elapsed());
        cpu.push(thread_cpu().saturating_sub(cpu_started));
    }
    println!(
        "status line (`ringlet statusline`, a new Ringlet each time): median {:.1?} (CPU {:.1?}): {line}",
        median(times),
        median(cpu)
    );
}

/// CPU time of this thread so far: on a shared machine, wall time also counts the time other
/// processes held the cores.
fn thread_cpu() -> Duration {
    use nix::sys::resource::{UsageWho, getrusage};
    getrusage(UsageWho::RUSAGE_THREAD).map_or(Duration::ZERO, |u| {
        let t = |tv: nix::sys::time::TimeVal| {
            Duration::new(
                tv.tv_sec().max(0) as u64,
                (tv.tv_usec().max(0) as u32) * 1000,
            )
        };
        t(u.user_time()) + t(u.system_time())
    })
}

/// Writes the first-import corpus under `home/.claude/projects`: about `mib` MiB in `files`
/// transcripts over 40 projects, a fifth of them subagent sidechains (`<session>/subagents/`)
/// replaying some of their session's responses, sizes spread from a few KiB to a few MiB as in
/// a real history. Returns (bytes, files, distinct responses).
fn corpus(home: &Path, mib: u64, files: u64) -> (u64, u64, u64) {
    let mut rng = Rng(0x51de_c4a1_2026_0001);
    let mut id = 0u64;
    let mut bytes = 0u64;
    let total = mib << 20;
    let sessions = files - files / 5;
    let mean = total / files;
    let mut written_files = 0;
    for s in 0..sessions {
        let dir = home.join(format!(".claude/projects/-home-dev-project-{}", s % 40));
        fs::create_dir_all(&dir).expect("mkdir");
        // From a tenth of the mean to nearly three times it.
        let size = mean / 10 + rng.below(mean * 2 + mean * 3 / 4);
        let session = format!("{:08x}-{s}", rng.next() as u32);
        let first = id + 1;
        bytes += write_transcript(
            &dir.join(format!("{session}.jsonl")),
            size,
            &mut rng,
            &mut id,
            &session,
            None,
        );
        written_files += 1;
        if s % 4 == 0 && written_files < files {
            let sub = dir.join(&session).join("subagents");
            fs::create_dir_all(&sub).expect("mkdir");
            let size = mean / 10 + rng.below(mean);
            let replay = first..id + 1;
            bytes += write_transcript(
                &sub.join(format!("agent-{s}.jsonl")),
                size,
                &mut rng,
                &mut id,
                &session,
                Some(replay),
            );
            written_files += 1;
        }
    }
    (bytes, written_files, id)
}

fn main() {
    // `fill LEDGER [EVENTS]`: only write the report corpus into a ledger at that path (the
    // server benchmark, benches/server_load.sh, serves it).
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    // `corpus HOME [MIB] [FILES]`: only write the first-import corpus (benches/first_import.sh).
    if let [mode, path, rest @ ..] = args.as_slice()
        && mode == "corpus"
    {
        let mib = rest.first().and_then(|n| n.parse().ok()).unwrap_or(300);
        let files = rest.get(1).and_then(|n| n.parse().ok()).unwrap_or(1400);
        let started = Instant::now();
        let (bytes, files, responses) = corpus(Path::new(path), mib, files);
        println!(
            "corpus: {:.0} MiB in {files} files, {responses} distinct responses, in {:.1?}",
            bytes as f64 / 1048576.0,
            started.elapsed()
        );
        return;
    }
    if let [mode, path, rest @ ..] = args.as_slice()
        && mode == "fill"
    {
        let n = rest
            .first()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1_000_000);
        let store = SqliteUsageStore::open(path).expect("open the ledger");
        fill(&store, n);
        return;
    }
    let mib: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1024);
    let root = tempfile::tempdir().expect("tempdir");
    // `reports`: only the reports over 1,000,000 events.
    if args.first().is_some_and(|a| a == "reports") {
        by_day(root.path());
        statusline(root.path());
        return;
    }
    // `statusline`: only the status line.
    if args.first().is_some_and(|a| a == "statusline") {
        statusline(root.path());
        return;
    }
    import_throughput(root.path(), mib);
    rescan_unchanged(root.path());
    by_day(root.path());
    statusline(root.path());
}
