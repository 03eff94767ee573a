//! The status line: the one line Claude Code shows under its prompt, from a command it runs
//! with a JSON description of the session on stdin (`statusLine` in its settings.json). ringlet
//! answers from the ledger — the profile, this session's cost, today's cost and the active
//! billing block — after reading what the session's transcript added since the last look.
//!
//! Claude Code runs the command after every message and keeps the session waiting for nothing,
//! but a slow line lags behind: everything here is a few indexed reads. The ledger is never
//! fully imported on this path: only the transcript Claude Code names, and only its new bytes
//! (the import position of that one file).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};

use super::Ringlet;
use super::usage::first_row;
use crate::error::{Error, Result};
use crate::fsio::NoFollowDir;
use crate::profile::Profile;
use crate::usage::{
    Attribution, ImportOptions, LazyPriceBook, UsageFilter, UsageGroup, UsageStore, Zone,
    billing_blocks, import_files, importer_for,
};

/// How far back the status line looks for the active billing block. Blocks are cut from the
/// first response after five idle hours, so a week of hours finds the active block's true
/// start unless its user worked a whole week without a five-hour break.
const BLOCK_LOOKBACK_DAYS: i64 = 7;

/// The agent whose settings have a status line.
const STATUSLINE_AGENT: &str = "claude";

/// The settings file (in the profile HOME) Claude Code reads `statusLine` from.
const CLAUDE_SETTINGS: &str = ".claude/settings.json";

/// What Claude Code passes a status line command on stdin: the fields ringlet reads (the others,
/// such as its own cost estimate, are ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StatuslineInput {
    /// The session's id (the `sessionId` of its transcript lines).
    pub session_id: Option<String>,
    /// The session's transcript (JSONL), inside the profile HOME's `.claude/projects`.
    pub transcript_path: Option<PathBuf>,
    /// The working directory.
    pub cwd: Option<PathBuf>,
    /// The model in use.
    pub model: Option<StatuslineModel>,
}

/// The model in a [`StatuslineInput`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StatuslineModel {
    /// Its id (`claude-sonnet-4-5-20250929`).
    pub id: Option<String>,
    /// Its name as Claude Code shows it (`Sonnet 4.5`).
    pub display_name: Option<String>,
}

/// Where a status line runs: what the frontend knows of its environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StatuslineContext {
    /// The profile the agent was started as (`RINGLET_PROFILE`, which `profiles run` sets).
    pub profile: Option<String>,
    /// The agent's HOME: a profile's HOME names the profile when `profile` is not given.
    pub home: Option<PathBuf>,
    /// Today in this zone (an IANA name or `UTC`); `None` uses the system's.
    pub timezone: Option<String>,
}

/// The active billing block, as the status line shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatuslineBlock {
    /// When it ends.
    pub end: DateTime<Utc>,
    /// Minutes until then.
    pub remaining_minutes: i64,
    /// What it cost so far, dollars.
    pub cost_usd: f64,
    /// Dollars per hour since its first response.
    pub cost_per_hour_usd: f64,
}

/// What `ringlet statusline` shows ([`Ringlet::statusline`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusLine {
    /// The profile, when the session runs in one.
    pub profile: Option<String>,
    /// The model's display name (else id), as Claude Code passed it.
    pub model: Option<String>,
    /// This session's cost so far, dollars (`None` without a session id).
    pub session_cost_usd: Option<f64>,
    /// Today's cost (the profile's, or everything's without one), dollars.
    pub today_cost_usd: f64,
    /// The active billing block, if one is open.
    pub block: Option<StatuslineBlock>,
    /// Events the transcript added to the ledger on this call.
    pub synced_events: u64,
    /// The line itself.
    pub text: String,
}

impl Ringlet {
    /// The status line for the Claude Code session `input` describes, now.
    pub fn statusline(
        &self,
        input: &StatuslineInput,
        cx: &StatuslineContext,
    ) -> Result<StatusLine> {
        self.statusline_at(input, cx, Utc::now())
    }

    /// [`Ringlet::statusline`] as if it were `now`.
    pub fn statusline_at(
        &self,
        input: &StatuslineInput,
        cx: &StatuslineContext,
        now: DateTime<Utc>,
    ) -> Result<StatusLine> {
        let zone = match cx
            .timezone
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(name) => Zone::named(name)?,
            None => Zone::system(),
        };
        let profile = self.statusline_profile(input, cx)?;
        let store = self.usage_store()?;
        let synced_events = match (&profile, &input.transcript_path) {
            (Some(p), Some(t)) => self.sync_transcript(store.as_ref(), p, t)?,
            _ => 0,
        };
        let mut scope = UsageFilter::new().time_zone(zone.clone());
        if let Some(p) = &profile {
            scope = scope.profile(&p.alias);
        }
        let session_id = input
            .session_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let session_cost_usd = match session_id {
            Some(id) => Some(
                store
                    .sessions(&scope.clone().session(id))?
                    .first()
                    .map_or(0.0, |s| s.usage.cost_usd),
            ),
            None => None,
        };
        let today = zone.start_of_day(zone.date_of(now))?;
        let today_cost_usd =
            first_row(store.query(&scope.clone().since(today), UsageGroup::Total)?).cost_usd;
        // On the hour, so the hourly rollup answers.
        let from = (now - Duration::days(BLOCK_LOOKBACK_DAYS))
            .duration_trunc(Duration::hours(1))
            .unwrap_or(now);
        let hours = store.hours(&scope.since(from))?;
        let block = billing_blocks(&hours, now)
            .into_iter()
            .find(|b| b.active)
            .map(|b| StatuslineBlock {
                end: b.end,
                remaining_minutes: (b.end - now).num_minutes().max(0),
                cost_usd: b.usage.cost_usd,
                cost_per_hour_usd: b.projection.map_or(0.0, |p| p.cost_per_hour_usd),
            });
        let model = input.model.as_ref().and_then(|m| {
            m.display_name
                .clone()
                .or_else(|| m.id.clone())
                .filter(|s| !s.trim().is_empty())
        });
        let mut line = StatusLine {
            profile: profile.map(|p| p.alias),
            model,
            session_cost_usd,
            today_cost_usd,
            block,
            synced_events,
            text: String::new(),
        };
        line.text = render(&line);
        Ok(line)
    }

    /// The profile a status line belongs to: the one named (it must exist), else the one whose
    /// HOME is the agent's HOME or holds the transcript; `None` outside every profile.
    fn statusline_profile(
        &self,
        input: &StatuslineInput,
        cx: &StatuslineContext,
    ) -> Result<Option<Profile>> {
        if let Some(alias) = cx.profile.as_deref().filter(|a| !a.trim().is_empty()) {
            return self.profile(alias.trim()).map(Some);
        }
        let home = cx.home.as_deref();
        let transcript = input.transcript_path.as_deref();
        if home.is_none() && transcript.is_none() {
            return Ok(None);
        }
        for p in self.profiles()? {
            let dir = self.profile_home(&p.alias)?;
            if home.is_some_and(|h| same_dir(h, &dir))
                || transcript.is_some_and(|t| t.starts_with(&dir))
            {
                return Ok(Some(p));
            }
        }
        Ok(None)
    }

    /// Reads what `transcript` added since it was last read, when it is a Claude Code log in
    /// the profile's HOME (the same import position `profiles run` and `usage sync` keep, so
    /// nothing is counted twice). Returns the new events.
    fn sync_transcript(
        &self,
        store: &dyn UsageStore,
        profile: &Profile,
        transcript: &Path,
    ) -> Result<u64> {
        if profile.agent != STATUSLINE_AGENT {
            return Ok(0);
        }
        let home = self.profile_home(&profile.alias)?;
        let logs = home.join(".claude/projects");
        if !transcript.starts_with(&logs) || !transcript.is_file() {
            return Ok(0);
        }
        let Some(importer) = importer_for("claude-jsonl") else {
            return Ok(0);
        };
        let who = Attribution::new(&profile.alias, &profile.agent, &profile.provider);
        // The price book is read only when there is something new to price.
        let prices = LazyPriceBook::new(|| self.price_book());
        let options = ImportOptions {
            threads: 1,
            ..ImportOptions::default()
        };
        let files = [transcript.to_path_buf()];
        let summary = import_files(
            store,
            &prices,
            &who,
            importer,
            transcript,
            &files,
            &options,
            &mut |_, _| {},
        )?;
        Ok(summary.inserted)
    }

    /// Turns Claude Code's status line on (runs `command`) or off (`None`) for a Claude Code
    /// profile: writes `statusLine` into the profile HOME's `.claude/settings.json`, keeping
    /// every other setting. Off removes the setting only when it is ringlet's (a command ending
    /// in `statusline`), never a status line of the user's own. Returns the file written.
    pub fn set_statusline(&self, alias: &str, command: Option<&str>) -> Result<PathBuf> {
        let profile = self.profile(alias)?;
        if profile.agent != STATUSLINE_AGENT {
            return Err(Error::InvalidInput(format!(
                "profile '{alias}' runs {}; only Claude Code has a status line setting",
                profile.agent
            )));
        }
        let home = self.profile_home(alias)?;
        let path = home.join(CLAUDE_SETTINGS);
        let dir = NoFollowDir::open_root(&home)?.subdir(Path::new(".claude"))?;
        let name = std::ffi::OsStr::new("settings.json");
        let existing = dir.read(name)?;
        let mut settings: serde_json::Value = match &existing {
            Some(old) if !old.bytes.iter().all(u8::is_ascii_whitespace) => {
                serde_json::from_slice(&old.bytes).map_err(|e| Error::Parse {
                    path: path.clone(),
                    line: Some(e.line()),
                    message: format!("{e}; fix or remove it, then try again"),
                })?
            }
            _ => serde_json::json!({}),
        };
        let Some(obj) = settings.as_object_mut() else {
            return Err(Error::Parse {
                path,
                line: None,
                message: "the settings are not a JSON object; fix or remove the file".into(),
            });
        };
        match command {
            Some(cmd) => {
                if let Some(theirs) = obj
                    .get("statusLine")
                    .and_then(|s| s.get("command"))
                    .and_then(|c| c.as_str())
                    .filter(|c| !is_ringlet_statusline(c))
                {
                    return Err(Error::InvalidInput(format!(
                        "{} already has a status line of its own ({}); remove its statusLine \
                         setting first, or keep it",
                        path.display(),
                        theirs.escape_debug()
                    )));
                }
                obj.insert(
                    "statusLine".into(),
                    serde_json::json!({"type": "command", "command": cmd, "padding": 0}),
                );
            }
            None => {
                let ours = obj
                    .get("statusLine")
                    .and_then(|s| s.get("command"))
                    .and_then(|c| c.as_str())
                    .is_some_and(is_ringlet_statusline);
                if !ours {
                    return Ok(path);
                }
                obj.remove("statusLine");
            }
        }
        let mut text = serde_json::to_string_pretty(&settings)
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        text.push('\n');
        if existing.is_some_and(|old| old.bytes == text.as_bytes()) {
            return Ok(path);
        }
        dir.write_atomic_volatile(name, text.as_bytes(), 0o600)?;
        Ok(path)
    }

    /// Whether the profile's Claude Code runs ringlet's status line.
    pub fn statusline_enabled(&self, alias: &str) -> Result<bool> {
        let path = self.profile_home(alias)?.join(CLAUDE_SETTINGS);
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(false);
        };
        let settings: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        Ok(settings
            .get("statusLine")
            .and_then(|s| s.get("command"))
            .and_then(|c| c.as_str())
            .is_some_and(is_ringlet_statusline))
    }
}

/// Whether a status line command is ringlet's (`<path>/ringlet statusline`, maybe quoted or
/// with a `--home`).
fn is_ringlet_statusline(command: &str) -> bool {
    let command = command.trim();
    command.ends_with(" statusline") && command.contains("ringlet")
}

/// Whether two paths name the same directory (as given, else resolved).
fn same_dir(a: &Path, b: &Path) -> bool {
    a == b
        || match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
}

/// `work · Sonnet 4.5 · session $0.42 · today $3.10 · block 2h13m left, $1.20/h`.
fn render(line: &StatusLine) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(p) = &line.profile {
        parts.push(p.clone());
    }
    if let Some(m) = &line.model {
        parts.push(m.chars().filter(|c| !c.is_control()).collect());
    }
    if let Some(cost) = line.session_cost_usd {
        parts.push(format!("session ${cost:.2}"));
    }
    parts.push(format!("today ${:.2}", line.today_cost_usd));
    match &line.block {
        Some(b) => parts.push(format!(
            "block {}h{:02}m left, ${:.2}/h",
            b.remaining_minutes / 60,
            b.remaining_minutes % 60,
            b.cost_per_hour_usd
        )),
        None => parts.push("no active block".into()),
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ringlet_commands_count_as_ours() {
        assert!(is_ringlet_statusline("/usr/local/bin/ringlet statusline"));
        assert!(is_ringlet_statusline(
            "'/opt/my tools/ringlet' --home /x statusline "
        ));
        assert!(!is_ringlet_statusline("~/.claude/statusline.sh"));
        assert!(!is_ringlet_statusline("npx ccusage statusline"));
    }

    #[test]
    fn the_line_names_what_it_knows() {
        let mut line = StatusLine {
            profile: Some("work".into()),
            model: Some("Sonnet 4.5".into()),
            session_cost_usd: Some(0.4249),
            today_cost_usd: 3.1,
            block: Some(StatuslineBlock {
                end: DateTime::UNIX_EPOCH,
                remaining_minutes: 133,
                cost_usd: 1.0,
                cost_per_hour_usd: 1.2,
            }),
            synced_events: 0,
            text: String::new(),
        };
        assert_eq!(
            render(&line),
            "work · Sonnet 4.5 · session $0.42 · today $3.10 · block 2h13m left, $1.20/h"
        );
        line.profile = None;
        line.model = None;
        line.session_cost_usd = None;
        line.block = None;
        assert_eq!(render(&line), "today $3.10 · no active block");
    }
}
