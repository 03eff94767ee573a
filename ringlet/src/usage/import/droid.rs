//! Droid (Factory): `~/.factory/sessions/<cwd>/<uuid>.settings.json`.
//!
//! Droid keeps no per-response log with usage: each session's settings file holds a running
//! `tokenUsage{inputTokens, outputTokens, cacheCreationTokens, cacheReadTokens, thinkingTokens}`
//! that it rewrites in place. So the file is one snapshot, imported as one event per session
//! (dedup key `droid:<uuid>`, ranked by its total): a re-scan that finds larger totals *replaces*
//! the session's event, and the ledger holds the latest snapshot exactly once, however often it
//! was read. The event's time is the file's modification time (when the snapshot was written).
//!
//! `inclusiveTokenUsage` adds the session's child (subagent) sessions, which have settings files
//! of their own; it is not used, or children would be counted twice. `thinkingTokens` is taken
//! as part of `outputTokens` (Anthropic's convention, which Droid's counters mirror).

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::Utc;
use serde::Deserialize;

use super::jsonl::strip_bom;
use super::{
    FileReport, FileStat, Importer, ParsedUsage, ScanContext, file_name, identity, path_key,
    rank_by_total, read_head, tokens_de, walk,
};
use crate::error::{Error, Result};
use crate::usage::event::TokenCounts;
use crate::usage::store::ImportState;

/// Reads Droid's session settings files (`droid-settings`).
#[derive(Debug, Clone, Copy, Default)]
pub struct DroidImporter;

const SUFFIX: &str = ".settings.json";

/// The most of the session's transcript read for its first line, which names the working
/// directory (`{"type":"session_start",…,"cwd":…}`).
const SESSION_START_MAX: u64 = 64 << 10;

#[derive(Deserialize)]
struct SessionStart {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    cwd: Option<String>,
}

/// The working directory the session's transcript (`<uuid>.jsonl` beside the settings file)
/// starts with, when it has one.
fn session_cwd(settings: &Path, session: &str) -> Option<String> {
    let file = std::fs::File::open(settings.with_file_name(format!("{session}.jsonl"))).ok()?;
    let mut head = Vec::new();
    file.take(SESSION_START_MAX).read_to_end(&mut head).ok()?;
    let first = head.split(|&b| b == b'\n').next()?;
    let start: SessionStart = serde_json::from_slice(strip_bom(first)).ok()?;
    (start.kind.as_deref() == Some("session_start"))
        .then_some(start.cwd)
        .flatten()
        .filter(|c| !c.is_empty())
}

#[derive(Deserialize)]
struct Settings {
    #[serde(default)]
    model: Option<String>,
    #[serde(rename = "tokenUsage", default)]
    token_usage: Option<TokenUsage>,
}

#[derive(Deserialize)]
struct TokenUsage {
    #[serde(rename = "inputTokens", default, deserialize_with = "tokens_de")]
    input: u64,
    #[serde(rename = "outputTokens", default, deserialize_with = "tokens_de")]
    output: u64,
    #[serde(
        rename = "cacheCreationTokens",
        default,
        deserialize_with = "tokens_de"
    )]
    cache_creation: u64,
    #[serde(rename = "cacheReadTokens", default, deserialize_with = "tokens_de")]
    cache_read: u64,
    #[serde(rename = "thinkingTokens", default, deserialize_with = "tokens_de")]
    thinking: u64,
}

impl Importer for DroidImporter {
    fn format(&self) -> &'static str {
        "droid-settings"
    }

    fn discover(&self, root: &Path) -> Result<Vec<PathBuf>> {
        walk(root, &|p| file_name(p).ends_with(SUFFIX))
    }

    fn scan(
        &self,
        path: &Path,
        _previous: Option<&ImportState>,
        cx: &ScanContext<'_>,
    ) -> Result<FileReport> {
        let mut report = FileReport::new(path);
        let mut file = std::fs::File::open(path).map_err(|e| Error::io("opening", path, e))?;
        let meta = file
            .metadata()
            .map_err(|e| Error::io("inspecting", path, e))?;
        let stat = FileStat::from_meta(&meta);
        let head = read_head(&mut file, stat.size).map_err(|e| Error::io("reading", path, e))?;
        let limit = cx.options().max_line_bytes as u64;
        let mut records = Vec::new();
        if stat.size > limit {
            report.malformed(
                1,
                format!("{} bytes is larger than the {limit}-byte limit", stat.size),
            );
        } else {
            let mut text = head.clone();
            file.by_ref()
                .take(limit - text.len() as u64)
                .read_to_end(&mut text)
                .map_err(|e| Error::io("reading", path, e))?;
            report.lines = 1;
            report.bytes_read = text.len() as u64;
            match serde_json::from_slice::<Settings>(strip_bom(&text)) {
                // Half-written while Droid saves it: the next scan sees a new mtime and retries.
                Err(e) => report.malformed(1, e.to_string()),
                Ok(settings) => match settings.token_usage {
                    None => report.ignored += 1,
                    Some(u) => {
                        let tokens = TokenCounts {
                            input: u.input,
                            output: u.output,
                            cache_creation: u.cache_creation,
                            cache_read: u.cache_read,
                            reasoning: u.thinking,
                            ..TokenCounts::default()
                        }
                        .normalized();
                        if tokens.is_zero() {
                            report.ignored += 1;
                        } else {
                            let session = file_name(path).trim_end_matches(SUFFIX).to_string();
                            // As logged (`custom:<model>` for custom models); the price
                            // lookup's normalisation drops the `custom:` prefix.
                            let model = settings.model.unwrap_or_else(|| "unknown".into());
                            records.push(ParsedUsage {
                                time: stat.modified(),
                                model,
                                rank: rank_by_total(&tokens),
                                tokens,
                                dedup_key: format!("droid:{session}"),
                                project: session_cwd(path, &session),
                                session_id: Some(session),
                                reported_cost_nanos: None,
                            });
                        }
                    }
                },
            }
        }
        let state = ImportState {
            path: path_key(path),
            format: self.format().to_string(),
            identity: identity(&stat, &head),
            size: stat.size,
            mtime_ns: stat.mtime_ns,
            offset: stat.size,
            line: 1,
            context: None,
            updated_at: Utc::now(),
        };
        cx.commit(path, records, &state, &mut report)?;
        Ok(report)
    }
}
