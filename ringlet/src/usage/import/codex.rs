//! Codex CLI: rollouts in `${CODEX_HOME}/sessions/YYYY/MM/DD/rollout-*.jsonl` and
//! `archived_sessions/`.
//!
//! Usage sits on `event_msg` lines whose payload is a `token_count`: `info.last_token_usage` is
//! the response, `info.total_token_usage` the running total of the session. The traps:
//! - Codex re-emits `token_count` rows whose totals did not advance; counting them double counts.
//!   Such rows are skipped, and the dedup key is built from the cumulative totals, so a re-emitted
//!   row, or the same rollout found again under `archived_sessions/`, is the same event.
//! - Without `last_token_usage`, the response is the difference of two cumulative totals; the
//!   previous totals are carried in the import context across incremental reads.
//! - `input_tokens` *includes* `cached_input_tokens` (and, from 0.169, `cache_write_input_tokens`),
//!   and `output_tokens` includes `reasoning_output_tokens`. ringlet stores the uncached part as
//!   `input` (see [`TokenCounts`]), so its totals equal ccusage's Codex totals.
//! - The model comes from the latest `turn_context` line.
//! - Codex 0.169 also writes `token_usage_record` lines repeating the same usage with a
//!   `response_id`; they are ignored so the response is not counted twice.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::jsonl::{LineOutcome, LineParser, read_jsonl, scan_jsonl};
use super::{
    BatchSink, FileReport, ImportOptions, Importer, ParsedUsage, ScanContext, file_name,
    parse_time, tokens_de, walk,
};
use crate::error::Result;
use crate::usage::event::TokenCounts;
use crate::usage::store::ImportState;

/// Reads Codex CLI rollouts (`codex-rollout`).
#[derive(Debug, Clone, Copy, Default)]
pub struct CodexImporter;

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    payload: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct SessionMeta {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    cwd: Option<String>,
}

#[derive(Deserialize)]
struct TurnContext {
    #[serde(default)]
    model: Option<String>,
}

#[derive(Deserialize)]
struct EventMsg<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    info: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Info {
    #[serde(default)]
    total_token_usage: Option<CodexUsage>,
    #[serde(default)]
    last_token_usage: Option<CodexUsage>,
}

/// One of Codex's usage blocks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CodexUsage {
    #[serde(default, deserialize_with = "tokens_de")]
    input_tokens: u64,
    #[serde(default, deserialize_with = "tokens_de")]
    cached_input_tokens: u64,
    #[serde(default, deserialize_with = "tokens_de")]
    cache_write_input_tokens: u64,
    #[serde(default, deserialize_with = "tokens_de")]
    output_tokens: u64,
    #[serde(default, deserialize_with = "tokens_de")]
    reasoning_output_tokens: u64,
    #[serde(default, deserialize_with = "tokens_de")]
    total_tokens: u64,
}

impl CodexUsage {
    fn fields(&self) -> [u64; 6] {
        [
            self.input_tokens,
            self.cached_input_tokens,
            self.cache_write_input_tokens,
            self.output_tokens,
            self.reasoning_output_tokens,
            self.total_tokens,
        ]
    }

    fn covers(&self, earlier: &CodexUsage) -> bool {
        self.fields()
            .iter()
            .zip(earlier.fields())
            .all(|(a, b)| *a >= b)
    }

    fn minus(&self, earlier: &CodexUsage) -> CodexUsage {
        CodexUsage {
            input_tokens: self.input_tokens - earlier.input_tokens,
            cached_input_tokens: self.cached_input_tokens - earlier.cached_input_tokens,
            cache_write_input_tokens: self.cache_write_input_tokens
                - earlier.cache_write_input_tokens,
            output_tokens: self.output_tokens - earlier.output_tokens,
            reasoning_output_tokens: self.reasoning_output_tokens - earlier.reasoning_output_tokens,
            total_tokens: self.total_tokens - earlier.total_tokens,
        }
    }

    fn tokens(&self) -> TokenCounts {
        let cached = self.cached_input_tokens.min(self.input_tokens);
        let written = self
            .cache_write_input_tokens
            .min(self.input_tokens - cached);
        TokenCounts {
            input: self.input_tokens - cached - written,
            output: self.output_tokens,
            cache_creation: written,
            cache_read: cached,
            reasoning: self.reasoning_output_tokens,
            ..TokenCounts::default()
        }
        .normalized()
    }
}

/// What a rollout's earlier lines established.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct CodexContext {
    session: Option<String>,
    model: Option<String>,
    last_total: Option<CodexUsage>,
    /// The session's working directory (`session_meta`'s `cwd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cwd: Option<String>,
}

pub(crate) struct CodexLines;

impl LineParser for CodexLines {
    type Context = CodexContext;

    fn parse_line(
        &self,
        line: &[u8],
        file: &Path,
        cx: &mut CodexContext,
        out: &mut Vec<ParsedUsage>,
    ) -> std::result::Result<LineOutcome, String> {
        let line: Line<'_> = serde_json::from_slice(line).map_err(|e| e.to_string())?;
        let (Some(kind), Some(payload)) = (line.kind.as_deref(), line.payload) else {
            return Ok(LineOutcome::Ignored);
        };
        match kind {
            "session_meta" => {
                let meta: SessionMeta = serde_json::from_str(payload.get())
                    .map_err(|e| format!("session_meta payload: {e}"))?;
                if meta.id.is_some() {
                    cx.session = meta.id;
                }
                if meta.cwd.as_deref().is_some_and(|c| !c.is_empty()) {
                    cx.cwd = meta.cwd;
                }
                Ok(LineOutcome::Used)
            }
            "turn_context" => {
                let turn: TurnContext = serde_json::from_str(payload.get())
                    .map_err(|e| format!("turn_context payload: {e}"))?;
                if turn.model.is_some() {
                    cx.model = turn.model;
                }
                Ok(LineOutcome::Used)
            }
            "event_msg" => {
                let msg: EventMsg<'_> = serde_json::from_str(payload.get())
                    .map_err(|e| format!("event_msg payload: {e}"))?;
                if msg.kind.as_deref() != Some("token_count") {
                    return Ok(LineOutcome::Ignored);
                }
                let Some(info) = msg.info.filter(|i| i.get() != "null") else {
                    return Ok(LineOutcome::Ignored);
                };
                let info: Info = serde_json::from_str(info.get())
                    .map_err(|e| format!("token_count info: {e}"))?;
                self.token_count(info, line.timestamp.as_deref(), file, cx, out)
            }
            _ => Ok(LineOutcome::Ignored),
        }
    }
}

impl CodexLines {
    fn token_count(
        &self,
        info: Info,
        timestamp: Option<&str>,
        file: &Path,
        cx: &mut CodexContext,
        out: &mut Vec<ParsedUsage>,
    ) -> std::result::Result<LineOutcome, String> {
        let previous = cx.last_total;
        if let (Some(total), Some(prev)) = (info.total_token_usage, previous)
            && total == prev
        {
            // Re-emitted: the totals did not advance.
            return Ok(LineOutcome::Ignored);
        }
        let usage = match (info.last_token_usage, info.total_token_usage, previous) {
            (Some(last), _, _) => last,
            (None, Some(total), Some(prev)) if total.covers(&prev) => total.minus(&prev),
            (None, Some(total), _) => total,
            (None, None, _) => return Ok(LineOutcome::Ignored),
        };
        if let Some(total) = info.total_token_usage {
            cx.last_total = Some(total);
        }
        let tokens = usage.tokens();
        if tokens.is_zero() {
            return Ok(LineOutcome::Ignored);
        }
        let time = timestamp
            .and_then(parse_time)
            .ok_or("token_count line without a valid timestamp")?;
        let session = cx
            .session
            .clone()
            .unwrap_or_else(|| file_name(file).trim_end_matches(".jsonl").to_string());
        let key_usage = info.total_token_usage.unwrap_or(usage);
        let [a, b, c, d, e, f] = key_usage.fields();
        let dedup_key = if info.total_token_usage.is_some() {
            format!("codex:{session}:{a}:{b}:{c}:{d}:{e}:{f}")
        } else {
            format!(
                "codex:{session}:{}:{a}:{b}:{c}:{d}:{e}:{f}",
                time.timestamp_millis()
            )
        };
        out.push(ParsedUsage {
            time,
            model: cx.model.clone().unwrap_or_else(|| "unknown".into()),
            tokens,
            session_id: Some(session),
            project: cx.cwd.clone(),
            dedup_key,
            rank: 0,
            reported_cost_nanos: None,
        });
        Ok(LineOutcome::Used)
    }
}

impl Importer for CodexImporter {
    fn format(&self) -> &'static str {
        "codex-rollout"
    }

    fn discover(&self, root: &Path) -> Result<Vec<PathBuf>> {
        walk(root, &|p| {
            let name = file_name(p);
            name.starts_with("rollout-") && name.ends_with(".jsonl")
        })
    }

    fn scan(
        &self,
        file: &Path,
        previous: Option<&ImportState>,
        cx: &ScanContext<'_>,
    ) -> Result<FileReport> {
        scan_jsonl(&CodexLines, self.format(), file, previous, cx)
    }

    fn read(
        &self,
        file: &Path,
        previous: Option<&ImportState>,
        options: &ImportOptions,
        batch: BatchSink<'_>,
    ) -> Option<Result<FileReport>> {
        Some(read_jsonl(
            &CodexLines,
            self.format(),
            file,
            previous,
            options,
            batch,
        ))
    }
}
