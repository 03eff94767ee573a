//! Gemini CLI: `~/.gemini/tmp/<project>/chats/session-*.jsonl`.
//!
//! The first line describes the session (`sessionId`, `projectHash`, `startTime`); each model
//! reply is a line `{"type":"gemini","id",…,"model",…,"tokens":{input, output, cached, thoughts,
//! tool, total}}`; `{"$set": {…}}` lines update session fields and may carry a `messages` array,
//! whose replies are read too (deduplicated by message id). Gemini's `input` includes `cached`;
//! `thoughts` are billed as output but not included in it; `tool` (tool-use prompt tokens) is
//! billed as input but not included in it. So ringlet stores input = input − cached + tool,
//! cache_read = cached, output = output + thoughts, reasoning = thoughts: the buckets add up to
//! Gemini's `total`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::jsonl::{LineOutcome, LineParser, read_jsonl, scan_jsonl};
use super::{
    BatchSink, FileReport, ImportOptions, Importer, ParsedUsage, ScanContext, file_name,
    parse_time, rank_by_total, tokens_of, walk,
};
use crate::error::Result;
use crate::usage::event::TokenCounts;
use crate::usage::store::ImportState;

/// Reads Gemini CLI chat sessions (`gemini-jsonl`).
#[derive(Debug, Clone, Copy, Default)]
pub struct GeminiImporter;

/// What a session file's earlier lines established.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct GeminiContext {
    session: Option<String>,
}

pub(crate) struct GeminiLines;

impl LineParser for GeminiLines {
    type Context = GeminiContext;

    fn parse_line(
        &self,
        line: &[u8],
        file: &Path,
        cx: &mut GeminiContext,
        out: &mut Vec<ParsedUsage>,
    ) -> std::result::Result<LineOutcome, String> {
        let value: Value = serde_json::from_slice(line).map_err(|e| e.to_string())?;
        let Value::Object(obj) = &value else {
            return Err("not a JSON object".into());
        };
        if obj.contains_key("projectHash") || obj.contains_key("startTime") {
            if let Some(Value::String(id)) = obj.get("sessionId") {
                cx.session = Some(id.clone());
            }
            return Ok(LineOutcome::Used);
        }
        let mut used = false;
        if obj.get("type").and_then(Value::as_str) == Some("gemini") {
            used |= reply(&value, file, cx, out)?;
        }
        if let Some(messages) = obj
            .get("$set")
            .and_then(|s| s.get("messages"))
            .and_then(Value::as_array)
        {
            for m in messages {
                if m.get("type").and_then(Value::as_str) == Some("gemini") {
                    used |= reply(m, file, cx, out)?;
                }
            }
        }
        Ok(if used {
            LineOutcome::Used
        } else {
            LineOutcome::Ignored
        })
    }
}

/// Reads one model reply; `Ok(false)` when it carries no tokens.
fn reply(
    m: &Value,
    file: &Path,
    cx: &GeminiContext,
    out: &mut Vec<ParsedUsage>,
) -> std::result::Result<bool, String> {
    let Some(tokens) = m.get("tokens").filter(|t| !t.is_null()) else {
        return Ok(false);
    };
    if !tokens.is_object() {
        return Err("tokens is not an object".into());
    }
    let n = |field: &str| tokens_of(tokens.get(field)).map_err(|e| format!("tokens.{field}: {e}"));
    let (input, output, cached, thoughts, tool) = (
        n("input")?,
        n("output")?,
        n("cached")?,
        n("thoughts")?,
        n("tool")?,
    );
    let cached = cached.min(input);
    let tokens = TokenCounts {
        input: (input - cached).saturating_add(tool),
        output: output.saturating_add(thoughts),
        cache_read: cached,
        reasoning: thoughts,
        ..TokenCounts::default()
    };
    if tokens.is_zero() {
        return Ok(false);
    }
    let time = m
        .get("timestamp")
        .and_then(Value::as_str)
        .and_then(parse_time)
        .ok_or("gemini reply without a valid timestamp")?;
    let session = cx
        .session
        .clone()
        .unwrap_or_else(|| file_name(file).trim_end_matches(".jsonl").to_string());
    let dedup_key = match m.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => format!("gemini:{id}"),
        _ => format!("gemini:{session}:{}", time.timestamp_millis()),
    };
    let model = m
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string();
    out.push(ParsedUsage {
        time,
        model,
        rank: rank_by_total(&tokens),
        tokens,
        session_id: Some(session),
        // Gemini CLI records only a hash of the project's path.
        project: None,
        dedup_key,
        reported_cost_nanos: None,
    });
    Ok(true)
}

impl Importer for GeminiImporter {
    fn format(&self) -> &'static str {
        "gemini-jsonl"
    }

    fn discover(&self, root: &Path) -> Result<Vec<PathBuf>> {
        walk(root, &|p| {
            let name = file_name(p);
            name.starts_with("session-")
                && name.ends_with(".jsonl")
                && p.parent().is_some_and(|d| file_name(d) == "chats")
        })
    }

    fn scan(
        &self,
        file: &Path,
        previous: Option<&ImportState>,
        cx: &ScanContext<'_>,
    ) -> Result<FileReport> {
        scan_jsonl(&GeminiLines, self.format(), file, previous, cx)
    }

    fn read(
        &self,
        file: &Path,
        previous: Option<&ImportState>,
        options: &ImportOptions,
        batch: BatchSink<'_>,
    ) -> Option<Result<FileReport>> {
        Some(read_jsonl(
            &GeminiLines,
            self.format(),
            file,
            previous,
            options,
            batch,
        ))
    }
}
