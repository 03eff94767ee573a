//! Claude Code: `~/.claude/projects/<project>/<session>.jsonl`, plus subagent transcripts in
//! `<session>/subagents/agent-*.jsonl`, scanned recursively.
//!
//! Usage sits on `type: "assistant"` lines, in `message.usage`. The traps:
//! - Claude Code writes one line per content block, each repeating the response's usage (and the
//!   timestamps may differ): one response is one `message.id`, counted once.
//! - Sidechain replays (`isSidechain: true`, often in a subagent file and under a new
//!   `requestId`) repeat a `message.id`: still the same response. The main-thread line is
//!   preferred, then the larger totals (the event's rank encodes both, and the ledger keeps the
//!   highest-ranked copy).
//! - `<synthetic>` is the model of messages Claude Code makes up itself (errors, interruptions):
//!   no tokens were spent.
//! - `cost-state` lines (2.1.330+) hold the session's cumulative `totalCostUSD` and
//!   `modelUsage`. They repeat what the assistant lines already count, so they are ignored;
//!   adding them would count the session twice.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::value::RawValue;

use super::jsonl::{LineOutcome, LineParser, read_jsonl, scan_jsonl};
use super::{
    BatchSink, FileReport, ImportOptions, Importer, ParsedUsage, ScanContext, parse_time,
    tokens_de, walk,
};
use crate::error::Result;
use crate::usage::event::TokenCounts;
use crate::usage::store::ImportState;

/// Reads Claude Code's JSONL transcripts (`claude-jsonl`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ClaudeImporter;

/// A main-thread line outranks any sidechain copy, whatever the totals.
const MAIN_THREAD: i64 = 1 << 40;

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<&'a RawValue>,
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "sessionId", borrow, default)]
    session_id: Option<Cow<'a, str>>,
    #[serde(rename = "requestId", borrow, default)]
    request_id: Option<Cow<'a, str>>,
    #[serde(rename = "isSidechain", default)]
    is_sidechain: Option<bool>,
    #[serde(borrow, default)]
    cwd: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    model: Option<Cow<'a, str>>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default, deserialize_with = "tokens_de")]
    input_tokens: u64,
    #[serde(default, deserialize_with = "tokens_de")]
    output_tokens: u64,
    #[serde(default, deserialize_with = "tokens_de")]
    cache_creation_input_tokens: u64,
    #[serde(default, deserialize_with = "tokens_de")]
    cache_read_input_tokens: u64,
    #[serde(default)]
    cache_creation: Option<CacheCreation>,
    #[serde(default)]
    output_tokens_details: Option<OutputDetails>,
}

#[derive(Deserialize)]
struct CacheCreation {
    #[serde(default, deserialize_with = "tokens_de")]
    ephemeral_5m_input_tokens: u64,
    #[serde(default, deserialize_with = "tokens_de")]
    ephemeral_1h_input_tokens: u64,
}

#[derive(Deserialize)]
struct OutputDetails {
    #[serde(default, deserialize_with = "tokens_de")]
    thinking_tokens: u64,
}

pub(crate) struct ClaudeLines;

/// Whether a line is certainly of no interest without parsing it: a whole object (`{…}`) in
/// which neither a `"usage"` key nor an `"assistant"` string occurs. Most of a transcript is
/// such lines (user turns with tool results, attachments, summaries), and most of its bytes:
/// skipping them unparsed is most of a first import's speed. Quoted as keys or values only (the
/// same word inside a string is escaped, `\"usage\"`, and so does not match). A line that is
/// not a whole object (cut short by a crash) is still parsed, so it is reported as malformed.
fn cannot_hold_usage(line: &[u8]) -> bool {
    let whole = line.first() == Some(&b'{') && line.last() == Some(&b'}');
    whole
        && memchr::memmem::find(line, b"\"usage\"").is_none()
        && memchr::memmem::find(line, b"\"assistant\"").is_none()
}

impl LineParser for ClaudeLines {
    type Context = ();

    fn parse_line(
        &self,
        line: &[u8],
        _file: &Path,
        _cx: &mut (),
        out: &mut Vec<ParsedUsage>,
    ) -> std::result::Result<LineOutcome, String> {
        if cannot_hold_usage(line) {
            return Ok(LineOutcome::Ignored);
        }
        let line: Line<'_> = serde_json::from_slice(line).map_err(|e| e.to_string())?;
        if line.kind.as_deref() != Some("assistant") {
            return Ok(LineOutcome::Ignored);
        }
        let Some(raw) = line.message else {
            return Ok(LineOutcome::Ignored);
        };
        let message: Message<'_> =
            serde_json::from_str(raw.get()).map_err(|e| format!("message: {e}"))?;
        let Some(usage) = message.usage else {
            return Ok(LineOutcome::Ignored);
        };
        let model = message.model.as_deref().unwrap_or("unknown");
        if model == "<synthetic>" {
            return Ok(LineOutcome::Ignored);
        }
        let time = line
            .timestamp
            .as_deref()
            .and_then(parse_time)
            .ok_or("assistant line without a valid timestamp")?;
        let (split_5m, split_1h) = usage.cache_creation.as_ref().map_or((0, 0), |c| {
            (c.ephemeral_5m_input_tokens, c.ephemeral_1h_input_tokens)
        });
        let tokens = TokenCounts {
            input: usage.input_tokens,
            output: usage.output_tokens,
            cache_creation: usage.cache_creation_input_tokens,
            cache_creation_5m: split_5m,
            cache_creation_1h: split_1h,
            cache_read: usage.cache_read_input_tokens,
            reasoning: usage
                .output_tokens_details
                .as_ref()
                .map_or(0, |d| d.thinking_tokens),
        }
        .normalized();
        if tokens.is_zero() {
            return Ok(LineOutcome::Ignored);
        }
        let session_id = line.session_id.as_deref().map(str::to_string);
        let dedup_key = match (message.id.as_deref(), line.request_id.as_deref()) {
            (Some(id), _) if !id.is_empty() => format!("claude:{id}"),
            (_, Some(req)) if !req.is_empty() => format!("claude:req:{req}"),
            _ => format!(
                "claude:nomsgid:{}:{}:{}:{}:{}:{}",
                session_id.as_deref().unwrap_or(""),
                time.timestamp_millis(),
                tokens.input,
                tokens.output,
                tokens.cache_creation,
                tokens.cache_read
            ),
        };
        let thread = if line.is_sidechain == Some(true) {
            0
        } else {
            MAIN_THREAD
        };
        let size = i64::try_from(tokens.total())
            .unwrap_or(i64::MAX)
            .min(MAIN_THREAD - 1);
        out.push(ParsedUsage {
            time,
            model: model.to_string(),
            tokens,
            session_id,
            project: line
                .cwd
                .as_deref()
                .filter(|c| !c.is_empty())
                .map(str::to_string),
            dedup_key,
            rank: thread + size,
            reported_cost_nanos: None,
        });
        Ok(LineOutcome::Used)
    }
}

impl Importer for ClaudeImporter {
    fn format(&self) -> &'static str {
        "claude-jsonl"
    }

    fn discover(&self, root: &Path) -> Result<Vec<PathBuf>> {
        walk(root, &|p| p.extension().is_some_and(|e| e == "jsonl"))
    }

    fn scan(
        &self,
        file: &Path,
        previous: Option<&ImportState>,
        cx: &ScanContext<'_>,
    ) -> Result<FileReport> {
        scan_jsonl(&ClaudeLines, self.format(), file, previous, cx)
    }

    fn read(
        &self,
        file: &Path,
        previous: Option<&ImportState>,
        options: &ImportOptions,
        batch: BatchSink<'_>,
    ) -> Option<Result<FileReport>> {
        Some(read_jsonl(
            &ClaudeLines,
            self.format(),
            file,
            previous,
            options,
            batch,
        ))
    }
}

#[cfg(test)]
mod prefilter_tests {
    use super::*;

    #[test]
    fn only_whole_objects_without_usage_or_assistant_are_skipped_unparsed() {
        for skipped in [
            r#"{"type":"user","message":{"role":"user","content":"hi"}}"#,
            r#"{"type":"attachment","attachment":{"content":"the \"usage\" and \"assistant\" words"}}"#,
            r#"{"type":"summary","summary":"x"}"#,
        ] {
            assert!(cannot_hold_usage(skipped.as_bytes()), "{skipped}");
        }
        for parsed in [
            r#"{"type":"assistant","message":{"usage":{"input_tokens":1}}}"#,
            r#"{"type":"assistant","message":"just text"}"#,
            r#"{"message":{"usage":{}}}"#,
            r#"{"type":"user", truncated"#,
            "[1,2,3]",
            "{not json",
            "",
        ] {
            assert!(!cannot_hold_usage(parsed.as_bytes()), "{parsed}");
        }
    }
}
