//! Importer tests: every importer against the real samples in `<repo>/tests/fixtures`
//! (recorded by tests/record-agent-logs.sh; expected numbers checked by hand and with `jq`), and
//! hand-made edge cases for the traps each format has.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use proptest::prelude::*;
use serde_json::json;

use super::claude::ClaudeLines;
use super::codex::CodexLines;
use super::gemini::GeminiLines;
use super::jsonl::LineParser;
use super::*;
use crate::catalog::agent::AgentManifest;
use crate::usage::price::PriceBook;
use crate::usage::sqlite::SqliteUsageStore;
use crate::usage::store::{UsageFilter, UsageGroup, UsageRow};
use crate::usage::tests::sample;

fn manifest(agent: &str) -> AgentManifest {
    let (name, text) = crate::catalog::builtin::AGENTS
        .iter()
        .find(|(name, _)| *name == format!("{agent}.toml"))
        .expect("built-in manifest");
    crate::catalog::manifest::parse(Path::new(name), text).expect("manifest parses")
}

/// A profile HOME holding copies of samples at the paths the agent writes them to.
fn home_with(files: &[(&str, PathBuf)]) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("tempdir");
    for (rel, src) in files {
        let dst = home.path().join(rel);
        fs::create_dir_all(dst.parent().expect("parent")).expect("mkdir");
        fs::copy(src, &dst).expect("copy sample");
    }
    home
}

fn who(agent: &str) -> Attribution {
    Attribution::new("work", agent, "anthropic")
}

fn ingest(store: &dyn UsageStore, agent: &str, home: &Path) -> ImportSummary {
    ingest_home(
        store,
        &PriceBook::builtin(),
        &who(agent),
        &manifest(agent).logs,
        home,
    )
    .expect("ingest")
}

fn total(store: &dyn UsageStore) -> UsageRow {
    store
        .query(&UsageFilter::new(), UsageGroup::Total)
        .expect("total")
        .remove(0)
}

fn buckets(r: &UsageRow) -> (u64, u64, u64, u64, u64) {
    (
        r.input,
        r.output,
        r.cache_creation,
        r.cache_read,
        r.reasoning,
    )
}

fn mem_store() -> SqliteUsageStore {
    SqliteUsageStore::open_in_memory().expect("store")
}

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open for append");
    f.write_all(text.as_bytes()).expect("append");
}

// ---------------------------------------------------------------------------------------------
// The real samples.

#[test]
fn claude_sample() {
    let home = home_with(&[(
        ".claude/projects/-home-dev-work/10bf73cd-5e55-4ebb-809c-1c7c261cfa57.jsonl",
        sample("claude-session.jsonl"),
    )]);
    let store = mem_store();
    let s = ingest(&store, "claude", home.path());
    assert_eq!((s.files_seen, s.files_scanned, s.lines), (1, 1, 24));
    assert_eq!((s.inserted, s.malformed_lines, s.pending_tails), (1, 0, 0));
    assert!(s.failures.is_empty() && s.unknown_formats.is_empty());
    let t = total(&store);
    // One response: input 11, output 3, cache write 5 (all of it 5-minute), read 7.
    assert_eq!(buckets(&t), (11, 3, 5, 7, 0));
    assert_eq!((t.cache_creation_5m, t.cache_creation_1h), (5, 0));
    let ev = &store.events(&UsageFilter::new(), None).expect("events")[0];
    assert_eq!(ev.model, "claude-opus-5-5");
    assert_eq!(ev.dedup_key, "claude:msg_fake_1814a849_000001");
    assert_eq!(
        ev.session_id.as_deref(),
        Some("10bf73cd-5e55-4ebb-809c-1c7c261cfa57")
    );
    assert_eq!(ev.time.to_rfc3339(), "2026-12-03T14:28:35.543+00:00");
    // The project: the `cwd` of the response's line.
    assert_eq!(
        ev.project.as_deref(),
        Some("/tmp/tmp.xPSwMvLVJZ/claude/work")
    );
    assert!(ev.origin.starts_with("file:") && ev.origin.ends_with(".jsonl"));
    // No price for claude-opus-5-5: unpriced, never $0.
    assert_eq!(
        (ev.cost_source, ev.cost_nanos),
        (CostSource::Unpriced, None)
    );
    assert!(s.unpriced_models.contains("claude-opus-5-5"));
    assert_eq!((t.unpriced_events, t.cost_nanos), (1, 0));

    let again = ingest(&store, "claude", home.path());
    assert_eq!((again.files_unchanged, again.files_scanned), (1, 0));
    assert_eq!(total(&store).events, 1);
}

#[test]
fn codex_sample_and_its_archived_copy() {
    let rel = "sessions/2026/12/03/rollout-2026-12-03T14-29-14-01a23c4f-38bd-7683-b768-948004c507c2.jsonl";
    let home = home_with(&[(&format!(".codex/{rel}"), sample("codex-rollout.jsonl"))]);
    let store = mem_store();
    let s = ingest(&store, "codex", home.path());
    assert_eq!((s.lines, s.inserted, s.malformed_lines), (14, 1, 0));
    let t = total(&store);
    // input_tokens 18 of which 7 cached: 11 uncached + 7 read; output 3. Total 21 = ccusage's.
    assert_eq!(buckets(&t), (11, 3, 0, 7, 0));
    assert_eq!(t.total_tokens, 21);
    let ev = &store.events(&UsageFilter::new(), None).expect("events")[0];
    assert_eq!(ev.model, "fake-model");
    assert_eq!(
        ev.session_id.as_deref(),
        Some("01a23c4f-38bd-7683-b768-948004c507c2")
    );
    assert_eq!(ev.time.to_rfc3339(), "2026-12-03T14:29:15.102+00:00");
    // The project: session_meta's `cwd`.
    assert_eq!(
        ev.project.as_deref(),
        Some("/tmp/tmp.RBCS2czNHe/codex/work")
    );

    // Codex moves old rollouts to archived_sessions/: the same responses, not new ones.
    let archived = home
        .path()
        .join(".codex/archived_sessions")
        .join(rel.rsplit('/').next().expect("name"));
    fs::create_dir_all(archived.parent().expect("parent")).expect("mkdir");
    fs::copy(sample("codex-rollout.jsonl"), &archived).expect("copy");
    let s = ingest(&store, "codex", home.path());
    assert_eq!(
        (s.files_scanned, s.files_unchanged, s.duplicates, s.inserted),
        (1, 1, 1, 0)
    );
    assert_eq!(total(&store).events, 1);
}

#[test]
fn opencode_sample() {
    let home = home_with(&[(".local/share/opencode/opencode.db", sample("opencode.db"))]);
    let store = mem_store();
    let s = ingest(&store, "opencode", home.path());
    assert!(s.failures.is_empty(), "{:?}", s.failures);
    assert_eq!((s.lines, s.inserted, s.ignored_lines), (2, 1, 1));
    let t = total(&store);
    assert_eq!(buckets(&t), (11, 3, 5, 7, 0));
    let ev = &store.events(&UsageFilter::new(), None).expect("events")[0];
    assert_eq!(ev.model, "claude-sonnet-4-5");
    assert_eq!(
        ev.session_id.as_deref(),
        Some("ses_dc3aefda5ffebznt623gNF1bJM")
    );
    assert_eq!(ev.dedup_key, "opencode:msg_23c51166b001tdGFqTdnnhbXM2");
    // The project: the message's `path.cwd`.
    assert_eq!(
        ev.project.as_deref(),
        Some("/tmp/tmp.xgTXgC55hU/opencode/work")
    );
    // OpenCode's own cost, $0.00009885, kept as reported (and equal to ringlet's own price).
    assert_eq!(
        (ev.cost_source, ev.cost_nanos),
        (CostSource::Reported, Some(98_850))
    );
    let again = ingest(&store, "opencode", home.path());
    assert_eq!(again.files_unchanged, 1);
}

#[test]
fn opencode_database_in_a_read_only_directory() {
    // The sample (a WAL database, as OpenCode leaves it) in a read-only directory: it can only
    // be read in SQLite's immutable mode, which the importer falls back to. (Root ignores the
    // directory's mode, so as root this reads it normally.)
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("opencode.db");
    fs::copy(sample("opencode.db"), &db).expect("copy sample");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).expect("chmod");
    let store = mem_store();
    let s = import_logs(
        &store,
        &PriceBook::builtin(),
        &who("opencode"),
        "opencode-sqlite",
        &db,
        &ImportOptions::default(),
    );
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod back");
    let s = s.expect("import");
    assert!(s.failures.is_empty(), "{:?}", s.failures);
    assert_eq!(s.inserted, 1);
    assert_eq!(buckets(&total(&store)), (11, 3, 5, 7, 0));
}

#[test]
fn gemini_sample() {
    let home = home_with(&[(
        ".gemini/tmp/work/chats/session-2026-12-03T14-29-7f205fb6.jsonl",
        sample("gemini-session.jsonl"),
    )]);
    let store = mem_store();
    let s = ingest(&store, "gemini", home.path());
    assert_eq!((s.lines, s.inserted, s.malformed_lines), (6, 1, 0));
    let t = total(&store);
    // input 18 of which 7 cached, output 3, no thoughts or tool tokens; total 21.
    assert_eq!(buckets(&t), (11, 3, 0, 7, 0));
    assert_eq!(t.total_tokens, 21);
    let ev = &store.events(&UsageFilter::new(), None).expect("events")[0];
    assert_eq!(ev.model, "gemini-3.8-flash");
    assert_eq!(
        ev.session_id.as_deref(),
        Some("7f205fb6-0483-4786-812e-eb7889ad8151")
    );
    assert_eq!(ev.dedup_key, "gemini:fcad1a3b-d38c-4ebf-ad8d-bf9d7f9accec");
    // Gemini CLI logs a hash of the project's path, not the path.
    assert_eq!(ev.project, None);
}

#[test]
fn droid_sample_and_a_growing_snapshot() {
    let rel = ".factory/sessions/-home-dev-work/0fc42bfe-d55c-4fef-80fd-a080bebc0dec.settings.json";
    let home = home_with(&[
        (rel, sample("droid-session.settings.json")),
        (
            ".factory/sessions/-home-dev-work/0fc42bfe-d55c-4fef-80fd-a080bebc0dec.jsonl",
            sample("droid-session.jsonl"),
        ),
    ]);
    let store = mem_store();
    let s = ingest(&store, "droid", home.path());
    assert_eq!((s.files_seen, s.inserted), (1, 1));
    assert_eq!(buckets(&total(&store)), (11, 3, 5, 7, 0));
    let ev = &store.events(&UsageFilter::new(), None).expect("events")[0];
    assert_eq!(ev.model, "custom:Fake-0");
    assert_eq!(ev.dedup_key, "droid:0fc42bfe-d55c-4fef-80fd-a080bebc0dec");
    // The project: the transcript's session_start `cwd`.
    assert_eq!(
        ev.project.as_deref(),
        Some("/tmp/tmp.RBCS2czNHe/droid/work")
    );

    // Droid rewrites the file with larger running totals: the session's event is replaced, and
    // the ledger holds the latest totals once.
    let path = home.path().join(rel);
    let mut settings: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("json");
    settings["tokenUsage"] = json!({"inputTokens": 30, "outputTokens": 9,
        "cacheCreationTokens": 5, "cacheReadTokens": 70, "thinkingTokens": 2});
    fs::write(
        &path,
        serde_json::to_string_pretty(&settings).expect("json"),
    )
    .expect("write");
    let s = ingest(&store, "droid", home.path());
    assert_eq!((s.inserted, s.replaced), (0, 1));
    let t = total(&store);
    assert_eq!(
        (t.events, t.input, t.output, t.cache_read, t.reasoning),
        (1, 30, 9, 70, 2)
    );
    // A scan that somehow saw an older, smaller snapshot does not go backwards.
    settings["tokenUsage"] = json!({"inputTokens": 11, "outputTokens": 3});
    fs::write(&path, settings.to_string()).expect("write");
    let s = ingest(&store, "droid", home.path());
    assert_eq!(s.duplicates, 1);
    assert_eq!(total(&store).input, 30);
    // Half-written by Droid: malformed now, read again once it changes.
    fs::write(&path, "{\"tokenUsage\": {\"inputTo").expect("write");
    let s = ingest(&store, "droid", home.path());
    assert_eq!(s.malformed_lines, 1);
    assert_eq!(total(&store).input, 30);
}

#[test]
fn every_builtin_log_format_has_an_importer() {
    for (name, _) in crate::catalog::builtin::AGENTS {
        let m = manifest(name.trim_end_matches(".toml"));
        for log in &m.logs {
            assert!(
                importer_for(&log.format).is_some(),
                "{}: {}",
                m.id,
                log.format
            );
        }
    }
    let store = mem_store();
    let s = import_logs(
        &store,
        &PriceBook::builtin(),
        &who("x"),
        "no-such-format",
        Path::new("/nonexistent"),
        &ImportOptions::default(),
    )
    .expect("unknown formats are reported, not errors");
    assert_eq!(s.unknown_formats, vec!["no-such-format".to_string()]);
    // A HOME where the agent never ran: nothing, no error.
    let empty = tempfile::tempdir().expect("tempdir");
    assert_eq!(ingest(&store, "claude", empty.path()).files_seen, 0);
}

// ---------------------------------------------------------------------------------------------
// Claude edge cases.

fn claude_line(id: &str, ts: &str, sidechain: bool, input: u64, output: u64) -> String {
    json!({
        "type": "assistant", "isSidechain": sidechain, "sessionId": "s1", "timestamp": ts,
        "requestId": format!("req_{id}_{sidechain}_{input}"),
        "message": {"id": id, "model": "claude-sonnet-4-5", "role": "assistant",
            "content": [{"type": "text", "text": "hi"}],
            "usage": {"input_tokens": input, "output_tokens": output,
                "cache_creation_input_tokens": 1000, "cache_read_input_tokens": 2000,
                "cache_creation": {"ephemeral_5m_input_tokens": 600,
                    "ephemeral_1h_input_tokens": 400}}}
    })
    .to_string()
        + "\n"
}

fn claude_home() -> (tempfile::TempDir, PathBuf) {
    let home = tempfile::tempdir().expect("tempdir");
    let dir = home.path().join(".claude/projects/-p");
    fs::create_dir_all(dir.join("sess/subagents")).expect("mkdir");
    (home, dir)
}

#[test]
fn claude_content_block_lines_count_once() {
    let (home, dir) = claude_home();
    let mut text = String::new();
    // One response written as three content-block lines with different timestamps.
    for ts in [
        "2026-05-01T10:00:00.000Z",
        "2026-05-01T10:00:01.000Z",
        "2026-05-01T10:00:02Z",
    ] {
        text += &claude_line("msg_a", ts, false, 100, 50);
    }
    text += &claude_line("msg_b", "2026-05-01T10:01:00Z", false, 10, 5);
    fs::write(dir.join("sess.jsonl"), text).expect("write");
    let store = mem_store();
    let s = ingest(&store, "claude", home.path());
    assert_eq!((s.records, s.inserted, s.duplicates), (4, 2, 2));
    let t = total(&store);
    assert_eq!(buckets(&t), (110, 55, 2000, 4000, 0));
    assert_eq!((t.cache_creation_5m, t.cache_creation_1h), (1200, 800));
    // Priced per bucket: sonnet 4.5 at $3 / $15 / $3.75 (5m) / $6 (1h) / $0.30 per Mtok.
    let expected: f64 = 110.0 * 3.0 + 55.0 * 15.0 + 1200.0 * 3.75 + 800.0 * 6.0 + 4000.0 * 0.3;
    assert_eq!(t.cost_nanos, (expected * 1000.0).round() as i64);
}

#[test]
fn claude_sidechain_replays_prefer_the_main_thread_then_larger_totals() {
    for sidechain_first in [false, true] {
        let (home, dir) = claude_home();
        let main = dir.join("sess.jsonl");
        let side = dir.join("sess/subagents/agent-1.jsonl");
        // The replay has *larger* totals, but the main-thread line wins.
        fs::write(
            &main,
            claude_line("msg_a", "2026-05-01T10:00:00Z", false, 100, 50),
        )
        .expect("write");
        fs::write(
            &side,
            claude_line("msg_a", "2026-05-01T10:05:00Z", true, 900, 90),
        )
        .expect("write");
        let store = mem_store();
        let opts = ImportOptions::default();
        let prices = PriceBook::builtin();
        let order = if sidechain_first {
            [&side, &main]
        } else {
            [&main, &side]
        };
        for file in order {
            import_logs(&store, &prices, &who("claude"), "claude-jsonl", file, &opts)
                .expect("import");
        }
        let t = total(&store);
        assert_eq!(
            (t.events, t.input, t.output),
            (1, 100, 50),
            "sidechain first: {sidechain_first}"
        );
        // Among main-thread copies, the larger totals win (a response logged while streaming).
        append(
            &main,
            &claude_line("msg_a", "2026-05-01T10:00:09Z", false, 100, 70),
        );
        ingest(&store, "claude", home.path());
        let t = total(&store);
        assert_eq!((t.events, t.output), (1, 70));
    }
}

#[test]
fn claude_synthetic_cost_state_and_odd_lines() {
    let (home, dir) = claude_home();
    let synthetic = claude_line("msg_s", "2026-05-01T10:00:00Z", false, 5, 5)
        .replace("claude-sonnet-4-5", "<synthetic>");
    let cost_state = json!({"type": "cost-state", "sessionId": "s1", "totalCostUSD": 1.5,
        "modelUsage": {"claude-sonnet-4-5": {"inputTokens": 999, "costUSD": 1.5}}})
    .to_string();
    let float_tokens = claude_line("msg_f", "2026-05-01T10:00:00Z", false, 7, 1)
        .replace("\"input_tokens\":7", "\"input_tokens\":7.0");
    let lines = [
        synthetic,
        cost_state + "\n",
        "\n".into(),
        "   \n".into(),
        "{not json\n".into(),
        claude_line("msg_w", "2026-05-01T10:00:00Z", false, 1, 1)
            .replace("\"input_tokens\":1", "\"input_tokens\":\"1\""),
        claude_line("msg_n", "2026-05-01T10:00:00Z", false, 1, 1)
            .replace("\"input_tokens\":1", "\"input_tokens\":-1"),
        claude_line("msg_t", "yesterday", false, 1, 1),
        "[1,2,3]\n".into(),
        "{\"type\":\"assistant\",\"message\":\"just text\"}\n".into(),
        float_tokens,
        "{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":\"hi\"}}\n".into(),
    ];
    fs::write(dir.join("sess.jsonl"), lines.concat()).expect("write");
    let store = mem_store();
    let s = ingest(&store, "claude", home.path());
    assert_eq!(s.lines, 12);
    assert_eq!(s.inserted, 1, "only the float-token line counts");
    assert_eq!(total(&store).input, 7);
    // {not json, "1" as tokens, -1 tokens, a bad timestamp, a top-level array, message a string.
    assert_eq!(s.malformed_lines, 6, "{:#?}", s.malformed_samples);
    let lines: Vec<u64> = s.malformed_samples.iter().map(|m| m.line).collect();
    assert_eq!(lines, vec![5, 6, 7, 8, 9, 10]);
    assert!(s.malformed_samples[0].path.ends_with("sess.jsonl"));
    assert_eq!(s.ignored_lines, 5);
}

#[test]
fn truncated_final_line_is_left_for_the_next_scan() {
    let (home, dir) = claude_home();
    let file = dir.join("sess.jsonl");
    let third = claude_line("msg_c", "2026-05-01T10:02:00Z", false, 300, 3);
    let (head, tail) = third.split_at(third.len() / 2);
    fs::write(
        &file,
        claude_line("msg_a", "2026-05-01T10:00:00Z", false, 100, 1)
            + claude_line("msg_b", "2026-05-01T10:01:00Z", false, 200, 2).as_str()
            + head,
    )
    .expect("write");
    let store = mem_store();
    let s = ingest(&store, "claude", home.path());
    assert_eq!((s.inserted, s.pending_tails, s.malformed_lines), (2, 1, 0));
    let state = store
        .import_state(&file.to_string_lossy())
        .expect("state")
        .expect("saved");
    assert_eq!(
        state.offset as usize,
        fs::read(&file).expect("read").len() - head.len()
    );
    // The agent finishes the line (and writes one more without its newline yet).
    append(&file, tail);
    append(&file, "{\"type\":\"assistant\"");
    let s = ingest(&store, "claude", home.path());
    assert_eq!((s.inserted, s.pending_tails, s.lines), (1, 1, 1));
    assert_eq!(s.bytes_read as usize, third.len());
    let t = total(&store);
    assert_eq!((t.events, t.input), (3, 600));
}

#[test]
fn empty_and_rewritten_files() {
    let (home, dir) = claude_home();
    let file = dir.join("sess.jsonl");
    fs::write(&file, "").expect("write");
    let store = mem_store();
    let s = ingest(&store, "claude", home.path());
    assert_eq!((s.files_scanned, s.lines, s.inserted), (1, 0, 0));
    assert_eq!(ingest(&store, "claude", home.path()).files_unchanged, 1);

    fs::write(
        &file,
        claude_line("msg_a", "2026-05-01T10:00:00Z", false, 100, 1),
    )
    .expect("write");
    assert_eq!(ingest(&store, "claude", home.path()).inserted, 1);
    // Replaced by a different file of the same name (new inode, new first bytes): read from the
    // start again; what was already counted deduplicates.
    let tmp = dir.join("new.tmp");
    fs::write(
        &tmp,
        claude_line("msg_z", "2026-05-01T09:00:00Z", false, 5, 1)
            + claude_line("msg_a", "2026-05-01T10:00:00Z", false, 100, 1).as_str(),
    )
    .expect("write");
    fs::rename(&tmp, &file).expect("replace");
    let s = ingest(&store, "claude", home.path());
    assert_eq!((s.files_restarted, s.inserted, s.duplicates), (1, 1, 1));
    // Truncated in place to something shorter: also read again from the start.
    fs::write(
        &file,
        claude_line("msg_y", "2026-05-01T08:00:00Z", false, 1, 1),
    )
    .expect("write");
    let s = ingest(&store, "claude", home.path());
    assert_eq!((s.files_restarted, s.inserted), (1, 1));
    assert_eq!(total(&store).input, 106);
}

// ---------------------------------------------------------------------------------------------
// Codex edge cases.

fn codex_count(ts: &str, total: [u64; 4], last: Option<[u64; 4]>) -> String {
    let usage = |[input, cached, output, reasoning]: [u64; 4]| {
        json!({"input_tokens": input, "cached_input_tokens": cached, "output_tokens": output,
            "reasoning_output_tokens": reasoning, "total_tokens": input + output})
    };
    let mut info = json!({"total_token_usage": usage(total)});
    if let Some(last) = last {
        info["last_token_usage"] = usage(last);
    }
    json!({"timestamp": ts, "type": "event_msg", "payload": {"type": "token_count", "info": info}})
        .to_string()
        + "\n"
}

fn codex_turn(model: &str) -> String {
    json!({"timestamp": "2026-05-01T10:00:00Z", "type": "turn_context",
        "payload": {"model": model, "cwd": "/w"}})
    .to_string()
        + "\n"
}

#[test]
fn codex_reemitted_totals_and_deltas_across_incremental_reads() {
    let home = tempfile::tempdir().expect("tempdir");
    let dir = home.path().join(".codex/sessions/2026/05/01");
    fs::create_dir_all(&dir).expect("mkdir");
    let file = dir.join("rollout-2026-05-01T10-00-00-abc.jsonl");
    let meta = json!({"timestamp": "2026-05-01T10:00:00Z", "type": "session_meta",
        "payload": {"id": "abc", "cwd": "/w"}})
    .to_string()
        + "\n";
    fs::write(
        &file,
        meta + codex_turn("gpt-5").as_str()
            + r#"{"timestamp":"2026-05-01T10:00:01Z","type":"event_msg","payload":{"type":"token_count","info":null}}"#
            + "\n"
            + codex_count("2026-05-01T10:00:02Z", [1000, 400, 100, 30], Some([1000, 400, 100, 30])).as_str()
            // Re-emitted: same totals, same last usage.
            + codex_count("2026-05-01T10:00:03Z", [1000, 400, 100, 30], Some([1000, 400, 100, 30])).as_str(),
    )
    .expect("write");
    let store = mem_store();
    let s = ingest(&store, "codex", home.path());
    assert_eq!(s.inserted, 1);
    assert_eq!(buckets(&total(&store)), (600, 100, 0, 400, 30));

    // Later rows without last_token_usage: the difference of the cumulative totals, with the
    // previous totals and the model remembered from the first read.
    append(&file, &codex_turn("gpt-5-mini"));
    append(
        &file,
        &codex_count("2026-05-01T10:05:00Z", [3000, 1400, 300, 30], None),
    );
    append(
        &file,
        &codex_count("2026-05-01T10:05:01Z", [3000, 1400, 300, 30], None),
    );
    let s = ingest(&store, "codex", home.path());
    assert_eq!((s.inserted, s.ignored_lines), (1, 1));
    let rows = store
        .query(&UsageFilter::new(), UsageGroup::Model)
        .expect("by model");
    assert_eq!(rows.len(), 2);
    let mini = rows
        .iter()
        .find(|r| r.key == "gpt-5-mini")
        .expect("gpt-5-mini");
    // Delta: input 2000 of which 1000 cached, output 200, no new reasoning.
    assert_eq!(buckets(mini), (1000, 200, 0, 1000, 0));
    // Priced: gpt-5-mini $0.25 in, $0.025 cached, $2 out per Mtok.
    assert_eq!(mini.cost_nanos, 250_000 + 25_000 + 400_000);
    let t = total(&store);
    // ccusage's Codex totals for the same rollout: input 3000 (cached 1400), output 300.
    assert_eq!(
        (t.input + t.cache_read, t.output, t.total_tokens),
        (3000, 300, 3300)
    );
}

// ---------------------------------------------------------------------------------------------
// Bounded memory and time on a huge file.

fn peak_rss_kib() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_sparse_two_gigabyte_file_is_read_in_bounded_memory() {
    let (home, dir) = claude_home();
    let file = dir.join("huge.jsonl");
    let f = fs::File::create(&file).expect("create");
    let hole = 2u64 << 30;
    f.set_len(hole).expect("sparse 2 GiB");
    drop(f);
    // The hole reads as 2 GiB of NUL bytes without a newline: one absurd line, skipped without
    // being held, then the real lines.
    append(&file, "\n");
    append(
        &file,
        &claude_line("msg_a", "2026-05-01T10:00:00Z", false, 1, 1),
    );
    append(
        &file,
        &claude_line("msg_b", "2026-05-01T10:00:00Z", false, 2, 1),
    );
    append(
        &file,
        &claude_line("msg_c", "2026-05-01T10:00:00Z", false, 4, 1),
    );
    let before = peak_rss_kib();
    let store = mem_store();
    let s = ingest(&store, "claude", home.path());
    assert_eq!((s.inserted, s.malformed_lines), (3, 1));
    assert!(
        s.malformed_samples[0].reason.contains("longer than"),
        "{:?}",
        s.malformed_samples
    );
    assert_eq!(s.bytes_read, fs::metadata(&file).expect("meta").len());
    assert_eq!(total(&store).input, 7);
    if let (Some(before), Some(after)) = (before, peak_rss_kib()) {
        // The default line limit is 64 MiB; nothing near 2 GiB may be resident.
        assert!(
            after.saturating_sub(before) < 200 * 1024,
            "peak RSS grew by {} KiB",
            after - before
        );
    }
    // How fast is a benchmark's question (benches/usage_ledger.rs), not this test's: under a
    // loaded CI machine a time limit here only makes the test flaky.
}

// ---------------------------------------------------------------------------------------------
// Crashes and concurrency.

/// A ledger whose `commit_import` fails after a number of successful commits: an import killed
/// between two transactions.
#[derive(Debug)]
struct FailingStore {
    inner: SqliteUsageStore,
    commits_left: std::sync::Mutex<u32>,
}

impl UsageStore for FailingStore {
    fn record(&self, events: &[UsageEvent]) -> Result<RecordOutcome> {
        self.inner.record(events)
    }
    fn commit_import(&self, events: &[UsageEvent], state: &ImportState) -> Result<RecordOutcome> {
        let mut left = self.commits_left.lock().expect("lock");
        if *left == 0 {
            return Err(Error::UsageStore {
                path: "injected".into(),
                message: "killed".into(),
            });
        }
        *left -= 1;
        self.inner.commit_import(events, state)
    }
    fn import_state(&self, path: &str) -> Result<Option<ImportState>> {
        self.inner.import_state(path)
    }
    fn import_states(&self, root: &str) -> Result<Vec<ImportState>> {
        self.inner.import_states(root)
    }
    fn forget_import_states(&self, root: &str) -> Result<u64> {
        self.inner.forget_import_states(root)
    }
    fn query(&self, f: &UsageFilter, g: UsageGroup) -> Result<Vec<UsageRow>> {
        self.inner.query(f, g)
    }
    fn query_split(
        &self,
        f: &UsageFilter,
        g: UsageGroup,
        by: UsageGroup,
    ) -> Result<Vec<(String, UsageRow)>> {
        self.inner.query_split(f, g, by)
    }
    fn sessions(&self, f: &UsageFilter) -> Result<Vec<crate::usage::store::SessionUsage>> {
        self.inner.sessions(f)
    }
    fn hours(&self, f: &UsageFilter) -> Result<Vec<crate::usage::store::HourUsage>> {
        self.inner.hours(f)
    }
    fn events(&self, f: &UsageFilter, limit: Option<u64>) -> Result<Vec<UsageEvent>> {
        self.inner.events(f, limit)
    }
    fn reprice(&self, p: &PriceBook) -> Result<crate::usage::store::RepriceOutcome> {
        self.inner.reprice(p)
    }
    fn start_run(&self, s: &crate::usage::store::RunStart) -> Result<i64> {
        self.inner.start_run(s)
    }
    fn finish_run(&self, id: i64, e: &crate::usage::store::RunEnd) -> Result<()> {
        self.inner.finish_run(id, e)
    }
    fn runs(
        &self,
        f: &UsageFilter,
        l: Option<u64>,
    ) -> Result<Vec<crate::usage::store::RunSession>> {
        self.inner.runs(f, l)
    }
}

/// `n` responses, each written as two content-block lines; response i has i+1 input tokens.
fn claude_corpus(n: u64) -> String {
    let mut text = String::new();
    for i in 0..n {
        let line = claude_line(&format!("msg_{i}"), "2026-05-01T10:00:00Z", false, i + 1, 1);
        text += &line;
        text += &line;
    }
    text
}

#[test]
fn an_import_killed_between_commits_then_rerun_gives_exact_totals() {
    let (_home, dir) = claude_home();
    let file = dir.join("sess.jsonl");
    fs::write(&file, claude_corpus(50)).expect("write");
    let dbdir = tempfile::tempdir().expect("tempdir");
    let db = dbdir.path().join("usage.db");
    let opts = ImportOptions {
        batch_lines: 7,
        ..ImportOptions::default()
    };
    let prices = PriceBook::builtin();
    for killed_after in [0u32, 1, 3, 5] {
        let failing = FailingStore {
            inner: SqliteUsageStore::open(&db).expect("open"),
            commits_left: std::sync::Mutex::new(killed_after),
        };
        let err = import_logs(
            &failing,
            &prices,
            &who("claude"),
            "claude-jsonl",
            &file,
            &opts,
        )
        .expect_err("killed");
        assert_eq!(err.code(), "usage_store");
    }
    let store = SqliteUsageStore::open(&db).expect("open");
    let s = import_logs(
        &store,
        &prices,
        &who("claude"),
        "claude-jsonl",
        &file,
        &opts,
    )
    .expect("re-run");
    assert!(s.inserted > 0 && s.inserted < 50, "{s:?}");
    let t = total(&store);
    assert_eq!((t.events, t.input, t.output), (50, 50 * 51 / 2, 50));
    // And nothing more to do.
    let s = import_logs(
        &store,
        &prices,
        &who("claude"),
        "claude-jsonl",
        &file,
        &opts,
    )
    .expect("again");
    assert_eq!(s.files_unchanged, 1);
}

#[test]
fn threads_importing_and_recording_together_lose_and_duplicate_nothing() {
    let (_home, dir) = claude_home();
    let file = dir.join("sess.jsonl");
    fs::write(&file, claude_corpus(300)).expect("write");
    let dbdir = tempfile::tempdir().expect("tempdir");
    let db = dbdir.path().join("usage.db");
    let prices = Arc::new(PriceBook::builtin());
    let mut handles = Vec::new();
    for t in 0..4u64 {
        let (db, file, prices) = (db.clone(), file.clone(), prices.clone());
        handles.push(std::thread::spawn(move || {
            // Each thread its own connection, as separate processes would have.
            let store = SqliteUsageStore::open(&db).expect("open");
            let opts = ImportOptions {
                batch_lines: 25,
                ..ImportOptions::default()
            };
            let s = import_logs(
                &store,
                prices.as_ref(),
                &who("claude"),
                "claude-jsonl",
                &file,
                &opts,
            )
            .expect("import");
            let mut own = RecordOutcome::default();
            for chunk in 0..10u64 {
                let events: Vec<UsageEvent> = (0..10u64)
                    .flat_map(|i| {
                        let shared =
                            crate::usage::tests::event(&format!("shared{chunk}-{i}"), "m", 1, 0);
                        let mine =
                            crate::usage::tests::event(&format!("t{t}-{chunk}-{i}"), "m", 1, 0);
                        [shared, mine]
                    })
                    .collect();
                own.add(store.record(&events).expect("record"));
            }
            (s.inserted, own)
        }));
    }
    let mut imported = 0;
    let mut recorded = RecordOutcome::default();
    for h in handles {
        let (inserted, own) = h.join().expect("thread");
        imported += inserted;
        recorded.add(own);
    }
    assert_eq!(
        imported, 300,
        "each response inserted by exactly one thread"
    );
    assert_eq!(recorded.inserted, 100 + 4 * 100);
    assert_eq!(recorded.duplicates, 3 * 100);
    let store = SqliteUsageStore::open(&db).expect("open");
    let t = total(&store);
    assert_eq!(t.events, 300 + 500);
    assert_eq!(t.input, 300 * 301 / 2 + 500);
}

const CHILD_ENV: &str = "RINGLET_USAGE_TEST_CHILD";

/// Not a test of its own: the body of the child processes the tests below start.
#[test]
fn child_process_entry() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let parts: Vec<&str> = spec.splitn(3, '|').collect();
    let (mode, db, arg) = (parts[0], parts[1], parts.get(2).copied().unwrap_or(""));
    let store = SqliteUsageStore::open(db).expect("child open");
    match mode {
        "record" => {
            for chunk in 0..20u64 {
                let events: Vec<UsageEvent> = (0..15u64)
                    .flat_map(|i| {
                        [
                            crate::usage::tests::event(&format!("p-shared{chunk}-{i}"), "m", 1, 0),
                            crate::usage::tests::event(&format!("p-{arg}-{chunk}-{i}"), "m", 1, 0),
                        ]
                    })
                    .collect();
                store.record(&events).expect("child record");
            }
        }
        "import" => {
            let opts = ImportOptions {
                batch_lines: 64,
                ..ImportOptions::default()
            };
            import_logs(
                &store,
                &PriceBook::builtin(),
                &who("claude"),
                "claude-jsonl",
                Path::new(arg),
                &opts,
            )
            .expect("child import");
        }
        other => panic!("unknown child mode {other}"),
    }
}

fn child(spec: String) -> std::process::Command {
    let mut cmd = std::process::Command::new(std::env::current_exe().expect("test binary"));
    cmd.args([
        "--exact",
        "usage::import::tests::child_process_entry",
        "--test-threads=1",
        "-q",
    ])
    .env(CHILD_ENV, spec)
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null());
    cmd
}

#[test]
fn processes_recording_together_lose_and_duplicate_nothing() {
    let dbdir = tempfile::tempdir().expect("tempdir");
    let db = dbdir.path().join("usage.db");
    let children: Vec<_> = (0..3)
        .map(|i| {
            child(format!("record|{}|{i}", db.display()))
                .spawn()
                .expect("spawn child")
        })
        .collect();
    for mut c in children {
        assert!(c.wait().expect("wait").success());
    }
    let store = SqliteUsageStore::open(&db).expect("open");
    let t = total(&store);
    assert_eq!(t.events, 20 * 15 + 3 * 20 * 15);
    assert_eq!(t.input, t.events);
}

#[test]
fn a_process_killed_mid_import_then_rerun_gives_exact_totals() {
    let (_home, dir) = claude_home();
    let file = dir.join("sess.jsonl");
    let n = 20_000;
    fs::write(&file, claude_corpus(n)).expect("write");
    let dbdir = tempfile::tempdir().expect("tempdir");
    let db = dbdir.path().join("usage.db");
    // Create the schema first so the poll below can read while the child writes.
    let store = SqliteUsageStore::open(&db).expect("open");
    let mut c = child(format!("import|{}|{}", db.display(), file.display()))
        .spawn()
        .expect("spawn child");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while total(&store).events == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = c.kill();
    let status = c.wait().expect("wait");
    let partial = total(&store).events;
    assert!(
        partial > 0,
        "the child committed nothing before the kill ({status:?})"
    );
    assert!(partial < n, "the child finished before it could be killed");
    let s = import_logs(
        &store,
        &PriceBook::builtin(),
        &who("claude"),
        "claude-jsonl",
        &file,
        &ImportOptions::default(),
    )
    .expect("re-run");
    let t = total(&store);
    assert_eq!(
        (t.events, t.input, t.output),
        (n, n * (n + 1) / 2, n),
        "{status:?} {s:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Property tests: no parser panics, and whatever it returns is sane.

fn json_scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_string()),
        Just("-5".to_string()),
        Just("1.5".to_string()),
        Just("11.0".to_string()),
        Just("1e308".to_string()),
        Just("18446744073709551615".to_string()),
        Just("99999999999999999999999".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("\"7\"".to_string()),
        Just("{}".to_string()),
        Just("[]".to_string()),
        Just("\"2026-05-01T10:00:00Z\"".to_string()),
        Just("\"<synthetic>\"".to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        (0u64..1_000_000).prop_map(|n| n.to_string()),
        "[a-z\\\\\"]{0,6}".prop_map(|s| format!("\"{s}\"")),
    ]
}

/// Lines shaped like each format's usage lines, with any value in any field; plus noise.
fn line_strategy(template: &'static str) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => proptest::collection::vec(json_scalar(), 8).prop_map(move |values| {
            let mut s = template.to_string();
            for v in values {
                s = s.replacen("@", &v, 1);
            }
            s.into_bytes()
        }),
        1 => proptest::collection::vec(any::<u8>(), 0..200),
        1 => "[ -~]{0,120}".prop_map(String::into_bytes),
    ]
}

fn check_records(out: &[ParsedUsage]) -> std::result::Result<(), TestCaseError> {
    for r in out {
        let t = r.tokens;
        prop_assert!(!r.dedup_key.is_empty() && !r.model.is_empty());
        prop_assert!(t.cache_creation_5m + t.cache_creation_1h <= t.cache_creation);
        prop_assert!(t.reasoning <= t.output);
        prop_assert!(!t.is_zero());
        prop_assert!(r.rank >= 0);
    }
    Ok(())
}

const CLAUDE_T: &str = r#"{"type":"assistant","isSidechain":@,"timestamp":@,"sessionId":"s","message":{"id":@,"model":@,"usage":{"input_tokens":@,"output_tokens":@,"cache_creation_input_tokens":@,"cache_creation":{"ephemeral_1h_input_tokens":@}}}}"#;
const CODEX_T: &str = r#"{"timestamp":@,"type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":@,"cached_input_tokens":@,"output_tokens":@},"last_token_usage":{"input_tokens":@,"cached_input_tokens":@,"cache_write_input_tokens":@,"output_tokens":@}}}}"#;
const GEMINI_T: &str = r#"{"type":"gemini","id":@,"timestamp":@,"model":@,"tokens":{"input":@,"output":@,"cached":@,"thoughts":@,"tool":@}}"#;

proptest! {
    // Failures are printed with their minimal input; nothing is written into the source tree.
    #![proptest_config(ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn claude_lines_never_panic(line in line_strategy(CLAUDE_T)) {
        let mut out = Vec::new();
        let _ = ClaudeLines.parse_line(&line, Path::new("x.jsonl"), &mut (), &mut out);
        check_records(&out)?;
    }

    #[test]
    fn codex_lines_never_panic(lines in proptest::collection::vec(line_strategy(CODEX_T), 1..6)) {
        let mut cx = Default::default();
        let mut out = Vec::new();
        for line in &lines {
            let _ = CodexLines.parse_line(line, Path::new("rollout-x.jsonl"), &mut cx, &mut out);
        }
        check_records(&out)?;
    }

    #[test]
    fn gemini_lines_never_panic(line in line_strategy(GEMINI_T)) {
        let mut out = Vec::new();
        let _ = GeminiLines.parse_line(&line, Path::new("session-x.jsonl"), &mut Default::default(), &mut out);
        check_records(&out)?;
    }

    #[test]
    fn droid_and_opencode_files_never_panic(body in line_strategy(
        r#"{"model":@,"tokenUsage":{"inputTokens":@,"outputTokens":@,"cacheCreationTokens":@,"cacheReadTokens":@,"thinkingTokens":@}}"#,
    )) {
        let (home, _) = claude_home();
        let file = home.path().join(".factory/sessions/x/abc.settings.json");
        fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        fs::write(&file, &body).expect("write");
        let store = mem_store();
        let s = ingest(&store, "droid", home.path());
        prop_assert_eq!(s.inserted + s.malformed_lines + s.ignored_lines, 1);
    }

    #[test]
    fn the_line_reader_consumes_exactly_the_complete_lines(
        data in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'a'), any::<u8>()], 0..300),
        max in 1usize..40,
    ) {
        let mut r = super::jsonl::LineReader::new(std::io::Cursor::new(data.clone()), max);
        let mut consumed = 0u64;
        loop {
            match r.next_line().expect("read") {
                super::jsonl::Line::Complete(n) => consumed += n as u64,
                super::jsonl::Line::TooLong { len, complete: true } => consumed += len,
                _ => break,
            }
        }
        let last_newline = data.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        prop_assert_eq!(consumed as usize, last_newline);
    }

    #[test]
    fn the_litellm_loader_never_panics(entry in line_strategy(
        r#"{"m":{"input_cost_per_token":@,"output_cost_per_token":@,"cache_read_input_token_cost":@,"input_cost_per_token_above_200k_tokens":@,"litellm_provider":@}}"#,
    )) {
        let text = String::from_utf8_lossy(&entry);
        if let Ok(book) = PriceBook::from_litellm_json(&text)
            && let Some(p) = book.get("m")
        {
            let cost = p.cost_usd(&TokenCounts { input: 300_000, output: 5, ..Default::default() });
            prop_assert!(cost.is_finite() && cost >= 0.0);
        }
    }
}

#[test]
fn a_file_read_as_another_format_is_read_again_from_the_start() {
    // `ringlet import claude --from DIR` on a directory that also holds a Codex rollout reads it
    // as Claude (finding nothing) and records a position at its end; importing the rollout as
    // Codex afterwards must still find its usage.
    let dir = tempfile::tempdir().expect("tempdir");
    let rollout = dir.path().join("rollout-mixed.jsonl");
    fs::copy(sample("codex-rollout.jsonl"), &rollout).expect("copy");
    let store = mem_store();
    let opts = ImportOptions::default();
    let prices = PriceBook::builtin();
    let as_claude = import_logs(
        &store,
        &prices,
        &who("claude"),
        "claude-jsonl",
        dir.path(),
        &opts,
    )
    .expect("claude");
    assert_eq!((as_claude.files_scanned, as_claude.inserted), (1, 0));
    let as_codex = import_logs(
        &store,
        &prices,
        &who("codex"),
        "codex-rollout",
        &rollout,
        &opts,
    )
    .expect("codex");
    assert_eq!((as_codex.files_scanned, as_codex.inserted), (1, 1));
    // And back: the Claude read starts over too, and still finds nothing to count twice.
    let again = import_logs(
        &store,
        &prices,
        &who("claude"),
        "claude-jsonl",
        dir.path(),
        &opts,
    )
    .expect("claude again");
    assert_eq!((again.files_scanned, again.inserted), (1, 0));
    assert_eq!(total(&store).events, 1);
}

#[test]
fn a_lazy_price_book_is_loaded_only_when_something_needs_pricing() {
    let (home, dir) = claude_home();
    let store = SqliteUsageStore::open_in_memory().expect("store");
    let loads = std::sync::atomic::AtomicUsize::new(0);
    let prices = crate::usage::LazyPriceBook::new(|| {
        loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Arc::new(PriceBook::builtin()))
    });
    let logs = manifest("claude").logs;

    // Nothing logged yet: a re-scan after a run that wrote nothing parses no price table.
    ingest_home(&store, &prices, &who("claude"), &logs, home.path()).expect("empty");
    assert!(!prices.is_loaded());

    fs::write(
        dir.join("sess.jsonl"),
        claude_line("msg_lazy", "2026-05-01T10:00:00Z", false, 100, 50),
    )
    .expect("write");
    let s = ingest_home(&store, &prices, &who("claude"), &logs, home.path()).expect("new");
    assert_eq!(s.inserted, 1);
    assert!(prices.is_loaded());
    assert!(total(&store).cost_usd > 0.0, "the new event was priced");

    // Nothing new again: the book is not loaded a second time.
    ingest_home(&store, &prices, &who("claude"), &logs, home.path()).expect("rescan");
    assert_eq!(loads.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn a_price_book_that_fails_to_load_fails_only_an_import_with_something_to_price() {
    let (home, dir) = claude_home();
    let store = SqliteUsageStore::open_in_memory().expect("store");
    let prices = crate::usage::LazyPriceBook::new(|| {
        Err(Error::Parse {
            path: "prices.json".into(),
            line: None,
            message: "corrupt".into(),
        })
    });
    let logs = manifest("claude").logs;
    ingest_home(&store, &prices, &who("claude"), &logs, home.path()).expect("nothing to price");
    fs::write(
        dir.join("sess.jsonl"),
        claude_line("msg_bad", "2026-05-01T10:00:00Z", false, 100, 50),
    )
    .expect("write");
    // The file's import fails, by name and reason; the rest of the scan goes on.
    let s = ingest_home(&store, &prices, &who("claude"), &logs, home.path()).expect("scan");
    assert_eq!(s.inserted, 0);
    assert_eq!(s.failures.len(), 1, "{s:?}");
    assert!(s.failures[0].message.contains("prices.json"), "{s:?}");
    // Nothing was half-recorded: a later import with working prices records the event.
    let s = ingest(&store, "claude", home.path());
    assert_eq!(s.inserted, 1);
}

// ---------------------------------------------------------------------------------------------
// OpenCode edge cases.

/// A copy of the OpenCode sample database in a fresh HOME, and its path.
fn opencode_home() -> (tempfile::TempDir, PathBuf) {
    let rel = ".local/share/opencode/opencode.db";
    let home = home_with(&[(rel, sample("opencode.db"))]);
    let db = home.path().join(rel);
    (home, db)
}

/// Adds a copy of the sample's assistant message as `id`, `ms` later, with `data` edited by
/// `edit` (a SQL expression over `data`).
fn opencode_add(db: &Path, id: &str, ms: i64, edit: &str) {
    let conn = rusqlite::Connection::open(db).expect("open opencode.db");
    conn.execute(
        &format!(
            "INSERT INTO message SELECT ?1, session_id, time_created + ?2, time_updated + ?2, {edit} \
             FROM message WHERE json_extract(data, '$.role') = 'assistant' AND json_extract(data, '$.tokens') IS NOT NULL ORDER BY rowid LIMIT 1"
        ),
        rusqlite::params![id, ms],
    )
    .expect("insert message");
}

#[test]
fn an_implausible_reported_cost_is_skipped_and_counted_and_the_rest_imported() {
    let (home, db) = opencode_home();
    // Two in one 15-minute bucket: their sum overflowed the rollup before the bound.
    opencode_add(&db, "msg_evil1", 1, "json_set(data, '$.cost', 5e9)");
    opencode_add(&db, "msg_evil2", 2, "json_set(data, '$.cost', 5e9)");
    opencode_add(&db, "msg_neg", 3, "json_set(data, '$.cost', -1)");
    opencode_add(&db, "msg_ok", 4, "json_set(data, '$.cost', 0.5)");
    let store = mem_store();
    let s = ingest(&store, "opencode", home.path());
    assert!(s.failures.is_empty(), "{:?}", s.failures);
    assert_eq!((s.inserted, s.malformed_lines), (2, 3));
    assert!(
        s.malformed_samples
            .iter()
            .any(|m| m.reason.contains("msg_evil1") && m.reason.contains("implausible cost")),
        "{:?}",
        s.malformed_samples
    );
    let t = total(&store);
    assert_eq!(t.events, 2);
    assert_eq!(t.cost_nanos, 98_850 + 500_000_000);
    // The bound itself is accepted, exactly.
    assert_eq!(
        reported_cost(Some(10_000.0)),
        Ok(Some(10_000 * NANOS_PER_USD))
    );
    assert!(reported_cost(Some(10_000.01)).is_err());
    assert_eq!(reported_cost(Some(0.0)), Ok(None));
}

// ---------------------------------------------------------------------------------------------
// A UTF-8 byte order mark before the first line (Windows editors, some tools) is not data.

const BOM: &str = "\u{feff}";

/// An event's identity, session, model and tokens.
type Facts = (String, Option<String>, String, TokenCounts);

/// The events a HOME's logs give, as comparable facts.
fn facts(agent: &str, home: &Path) -> (ImportSummary, Vec<Facts>) {
    let store = mem_store();
    let s = ingest(&store, agent, home);
    let events = store
        .events(&UsageFilter::new(), None)
        .expect("events")
        .into_iter()
        .map(|e| (e.dedup_key, e.session_id, e.model, e.tokens))
        .collect();
    (s, events)
}

#[test]
fn a_byte_order_mark_before_the_first_line_loses_nothing() {
    let cases = [
        (
            "claude",
            ".claude/projects/-p/feba11c4.jsonl",
            "claude-session.jsonl",
        ),
        (
            "codex",
            ".codex/sessions/2026/11/21/rollout-2026-11-21T13-06-18-01a1fe36.jsonl",
            "codex-rollout.jsonl",
        ),
        (
            "gemini",
            ".gemini/tmp/work/chats/session-2026-11-21T13-11-d3b51392.jsonl",
            "gemini-session.jsonl",
        ),
        (
            "droid",
            ".factory/sessions/-p/2e219a8c-d44e-469d-bf3d-6f57c076cc53.settings.json",
            "droid-session.settings.json",
        ),
    ];
    for (agent, rel, file) in cases {
        let plain = home_with(&[(rel, sample(file))]);
        let marked = home_with(&[(rel, sample(file))]);
        let path = marked.path().join(rel);
        let text = fs::read(&path).expect("read");
        fs::write(&path, [BOM.as_bytes(), &text].concat()).expect("write");
        let (want_summary, want) = facts(agent, plain.path());
        let (got_summary, got) = facts(agent, marked.path());
        assert!(!want.is_empty(), "{agent}");
        assert_eq!(got, want, "{agent}");
        assert_eq!(
            (got_summary.malformed_lines, got_summary.ignored_lines),
            (want_summary.malformed_lines, want_summary.ignored_lines),
            "{agent}: {:?}",
            got_summary.malformed_samples
        );
    }
    // The reported case: the usage line itself is the first line.
    let (home, dir) = claude_home();
    fs::write(
        dir.join("s.jsonl"),
        format!(
            "{BOM}{}",
            claude_line("m1", "2026-05-01T10:00:00Z", false, 10, 1)
        ),
    )
    .expect("write");
    let store = mem_store();
    let s = ingest(&store, "claude", home.path());
    assert_eq!((s.inserted, s.malformed_lines), (1, 0));
    // A mark anywhere else is not skipped: it is not at the start of the file.
    fs::write(
        dir.join("s.jsonl"),
        format!(
            "{}{BOM}{}",
            claude_line("m2", "2026-05-01T10:00:00Z", false, 10, 1),
            claude_line("m3", "2026-05-01T10:00:00Z", false, 10, 1)
        ),
    )
    .expect("write");
    let s = ingest(&store, "claude", home.path());
    assert_eq!((s.inserted, s.malformed_lines), (1, 1));
}

#[test]
fn an_opencode_row_of_the_wrong_type_is_skipped_and_the_rest_read() {
    let (home, db) = opencode_home();
    opencode_add(&db, "msg_later", 5, "json_set(data, '$.cost', 0.5)");
    let conn = rusqlite::Connection::open(&db).expect("open");
    // What the report found: a text time_created. Also a text time_updated, a NULL session and
    // a non-text data column (OpenCode's schema says NOT NULL, but the file is not ours).
    conn.execute_batch(
        "PRAGMA ignore_check_constraints = ON;
         CREATE TABLE m2 AS SELECT * FROM message;
         DROP TABLE message;
         CREATE TABLE message (id text PRIMARY KEY, session_id text, time_created integer,
            time_updated integer, data text);
         INSERT INTO message SELECT * FROM m2;
         DROP TABLE m2;",
    )
    .expect("loosen the schema");
    let copy = |id: &str, created: &str, updated: &str, session: &str, data: &str| {
        conn.execute(
            &format!(
                "INSERT INTO message SELECT '{id}', {session}, {created}, {updated}, {data} \
                 FROM message WHERE json_extract(data, '$.role') = 'assistant' AND json_extract(data, '$.tokens') IS NOT NULL ORDER BY rowid LIMIT 1"
            ),
            [],
        )
        .expect("insert");
    };
    copy(
        "msg_t1",
        "'yesterday'",
        "time_updated + 1",
        "session_id",
        "data",
    );
    copy("msg_t2", "time_created + 2", "'soon'", "session_id", "data");
    copy(
        "msg_t3",
        "time_created + 3",
        "time_updated + 3",
        "NULL",
        "data",
    );
    copy(
        "msg_t4",
        "time_created + 4",
        "time_updated + 4",
        "session_id",
        "x'00ff'",
    );
    drop(conn);
    let store = mem_store();
    let s = ingest(&store, "opencode", home.path());
    assert!(s.failures.is_empty(), "{:?}", s.failures);
    assert_eq!(
        (s.inserted, s.malformed_lines),
        (2, 4),
        "{:?}",
        s.malformed_samples
    );
    assert!(
        s.malformed_samples
            .iter()
            .any(|m| m.reason.contains("msg_t1") && m.reason.contains("time_created")),
        "{:?}",
        s.malformed_samples
    );
    assert_eq!(total(&store).events, 2);
}

/// A generated history of `files` Claude Code transcripts shaped to make order matter: content
/// blocks repeating a response, sidechain files replaying responses of other files (some with
/// the very same rank and another timestamp, so which copy a ledger keeps depends on commit
/// order), user and attachment lines, `"usage"` spelled inside strings, malformed lines and an
/// unfinished last line here and there.
fn order_sensitive_corpus(root: &Path, files: u64) {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for f in 0..files {
        let dir = root.join(format!(".claude/projects/-p{}", f % 5));
        fs::create_dir_all(&dir).expect("mkdir");
        let sidechain = f % 3 == 2;
        let mut text = String::new();
        for r in 0..(5 + next(40)) {
            // Sidechains replay ids of earlier files; main files have their own and a few
            // shared with a later main file (a resumed session copied into a new file).
            let id = if sidechain || next(10) == 0 {
                format!("msg_{}_{}", next(f + 1), next(45))
            } else {
                format!("msg_{f}_{r}")
            };
            let day = 1 + next(28);
            let ts = format!("2026-05-{day:02}T{:02}:{:02}:00Z", next(24), next(60));
            let (input, output) = (next(3) * 100, 1 + next(2) * 50);
            let line = claude_line(&id, &ts, sidechain, input, output);
            text.push_str(&line);
            if next(3) == 0 {
                text.push_str(&line.replace("\"text\":\"hi\"", "\"text\":\"more\""));
            }
            match next(8) {
                0 => text.push_str(
                    "{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":\"a \\\"usage\\\" question\"}}\n",
                ),
                1 => text.push_str("{\"type\":\"attachment\",\"attachment\":{\"type\":\"todo\"}}\n"),
                2 => text.push_str("{\"type\":\"assistant\",\"message\":\"just text\"}\n"),
                3 => text.push_str("{not json\n"),
                _ => {}
            }
        }
        if next(6) == 0 {
            text.push_str("{\"type\":\"assistant\",\"unfinished");
        }
        let name = if sidechain {
            let sub = dir.join(format!("s{}/subagents", f - 1));
            fs::create_dir_all(&sub).expect("mkdir");
            sub.join(format!("agent-{f}.jsonl"))
        } else {
            dir.join(format!("s{f}.jsonl"))
        };
        fs::write(name, text).expect("write");
    }
}

/// Everything a ledger holds after an import: each event whole, in the ledger's order, and
/// every import position.
fn ledger(store: &SqliteUsageStore, root: &Path) -> (Vec<String>, Vec<String>) {
    let events = store
        .events(&UsageFilter::new(), None)
        .expect("events")
        .into_iter()
        .map(|e| format!("{e:?}"))
        .collect();
    let mut states: Vec<String> = store
        .import_states(&path_key(root))
        .expect("states")
        .into_iter()
        .map(|mut s| {
            s.updated_at = DateTime::<Utc>::UNIX_EPOCH;
            format!("{s:?}")
        })
        .collect();
    states.sort();
    (events, states)
}

#[test]
fn a_parallel_import_ends_exactly_as_a_serial_one() {
    let home = tempfile::tempdir().expect("tempdir");
    order_sensitive_corpus(home.path(), 120);
    let root = home.path().join(".claude/projects");
    let import = |threads: usize, batch_lines: usize| {
        let store = mem_store();
        let options = ImportOptions {
            threads,
            batch_lines,
            ..ImportOptions::default()
        };
        let s = import_logs(
            &store,
            &PriceBook::builtin(),
            &who("claude"),
            "claude-jsonl",
            &root,
            &options,
        )
        .expect("import");
        (s, ledger(&store, &root))
    };
    let (serial, serial_ledger) = import(1, 5_000);
    assert_eq!(serial.files_seen, 120);
    assert!(serial.replaced > 0 && serial.duplicates > 0, "{serial:#?}");
    assert!(serial.malformed_lines > 0 && serial.pending_tails > 0);
    // (The batch size changes how repeats within a batch are counted, collapsed or replaced,
    // so each is compared with a serial import in batches of the same size.)
    for (threads, batch_lines) in [(2, 5_000), (4, 5_000), (8, 3), (3, 1)] {
        let (serial, serial_ledger) = if batch_lines == 5_000 {
            (serial.clone(), serial_ledger.clone())
        } else {
            import(1, batch_lines)
        };
        let (parallel, parallel_ledger) = import(threads, batch_lines);
        assert_eq!(
            parallel, serial,
            "{threads} threads, batches of {batch_lines}"
        );
        assert_eq!(
            parallel_ledger, serial_ledger,
            "{threads} threads, batches of {batch_lines}"
        );
    }

    // Appending to a few files and importing again (every file stat'ed, three read from
    // where they stopped) also ends the same.
    let store_serial = mem_store();
    let store_parallel = mem_store();
    let run = |store: &SqliteUsageStore, threads| {
        let options = ImportOptions {
            threads,
            ..ImportOptions::default()
        };
        import_logs(
            store,
            &PriceBook::builtin(),
            &who("claude"),
            "claude-jsonl",
            &root,
            &options,
        )
        .expect("import")
    };
    run(&store_serial, 1);
    run(&store_parallel, 4);
    for f in [0u64, 3, 6] {
        let file = root.join(format!("-p{}/s{f}.jsonl", f % 5));
        append(
            &file,
            &claude_line(&format!("msg_new_{f}"), "2026-06-01T00:00:00Z", false, 7, 7),
        );
    }
    let again_serial = run(&store_serial, 1);
    let again_parallel = run(&store_parallel, 4);
    assert_eq!(again_parallel, again_serial);
    assert_eq!(again_serial.files_unchanged, 117);
    assert_eq!(ledger(&store_parallel, &root), ledger(&store_serial, &root));
}
