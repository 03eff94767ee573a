//! Agent state migration: bringing what a user built up in an agent outside ringlet (settings,
//! memory files, MCP servers, project trust, history) from their HOME into a profile HOME, as
//! each agent's manifest lists it (`[import_state]`), never its credentials.
//!
//! Credentials stay behind three ways: files that hold only credentials are never read
//! (`never`: Claude Code's `.credentials.json`, Codex's `auth.json`, …); JSON and TOML files
//! are copied with every secret-looking value removed (keys naming a key, token, secret,
//! password, credential or OAuth state, unless the value only refers to an environment
//! variable) and with the manifest's `strip` keys removed; and nothing else is copied. The
//! originals are only read. A file the profile already has is merged with the profile's values
//! winning (JSON/TOML) or left alone (anything else), and the report says which.

mod strip;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
pub use strip::strip_secrets;

/// The state a user brings into a profile, relative to HOME.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateLayout {
    /// Files copied (JSON and TOML ones cleaned of secrets and merged).
    #[serde(default)]
    pub files: Vec<String>,
    /// Directories copied file by file (symbolic links skipped).
    #[serde(default)]
    pub dirs: Vec<String>,
    /// Files never copied: they hold credentials.
    #[serde(default)]
    pub never: Vec<String>,
    /// Dotted keys removed from the JSON/TOML files besides the secret-looking ones (account
    /// identity, the agent's own key approvals, …).
    #[serde(default)]
    pub strip: Vec<String>,
}

impl StateLayout {
    /// Whether the manifest lists any state.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.dirs.is_empty()
    }
}

/// What happened (or, in a dry run, would happen) to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum StateAction {
    /// Copied into the profile HOME (which had no such file).
    Copied,
    /// Merged into the profile's file, whose own values won.
    Merged,
    /// Left out: the profile already has this file and it cannot be merged.
    SkippedExists,
    /// Left out: it holds credentials.
    SkippedCredentials,
    /// Left out: not a JSON/TOML file ringlet could read, where it had to be cleaned.
    SkippedUnreadable,
}

/// One file of a state import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StateItem {
    /// Its path relative to HOME.
    pub path: String,
    /// What happened to it.
    pub action: StateAction,
    /// The keys removed from it because they held (or looked like) credentials.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stripped: Vec<String>,
}

/// What a state import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StateImportReport {
    /// The agent.
    pub agent: String,
    /// The profile.
    pub profile: String,
    /// The HOME the state was read from.
    pub from: PathBuf,
    /// Whether nothing was written (a dry run).
    pub dry_run: bool,
    /// Every file found, in order.
    pub items: Vec<StateItem>,
}

/// How a file is cleaned and merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Json,
    Toml,
    Other,
}

fn kind(path: &Path) -> Kind {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => Kind::Json,
        Some("toml") => Kind::Toml,
        _ => Kind::Other,
    }
}

/// The files `layout` names under `from`: each relative path, files before directories'
/// contents, sorted within a directory. Missing ones are not there; links are skipped.
fn found(layout: &StateLayout, from: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for rel in &layout.files {
        if is_plain_file(&from.join(rel)) {
            out.push(rel.clone());
        }
    }
    for rel in &layout.dirs {
        walk(from, Path::new(rel), &mut out);
    }
    out
}

fn is_plain_file(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
}

fn walk(root: &Path, rel: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(root.join(rel)) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let Ok(ty) = e.file_type() else { continue };
        let child = rel.join(e.file_name());
        if ty.is_dir() {
            walk(root, &child, out);
        } else if ty.is_file() {
            out.push(child.to_string_lossy().into_owned());
        }
    }
}

/// Brings `layout`'s state from `from` (a HOME) into `home` (a profile HOME). With `dry_run`
/// nothing is written and the report says what would be.
pub fn import_state(
    layout: &StateLayout,
    from: &Path,
    home: &Path,
    dry_run: bool,
) -> Result<Vec<StateItem>> {
    let mut items = Vec::new();
    for rel in &layout.never {
        if from.join(rel).exists() {
            items.push(StateItem {
                path: rel.clone(),
                action: StateAction::SkippedCredentials,
                stripped: Vec::new(),
            });
        }
    }
    for rel in found(layout, from) {
        if layout
            .never
            .iter()
            .any(|n| rel == *n || Path::new(&rel).starts_with(n))
        {
            continue;
        }
        let source = from.join(&rel);
        let target = crate::profile::join_inside(home, &rel).ok_or_else(|| {
            Error::InvalidInput(format!(
                "state path '{rel}' must be relative and stay inside HOME; fix the agent's manifest"
            ))
        })?;
        let item = import_one(
            &source,
            &target,
            &rel,
            kind(&source),
            &layout.strip,
            dry_run,
        )?;
        items.push(item);
    }
    Ok(items)
}

fn import_one(
    source: &Path,
    target: &Path,
    rel: &str,
    kind: Kind,
    strip: &[String],
    dry_run: bool,
) -> Result<StateItem> {
    let bytes = std::fs::read(source).map_err(|e| Error::io("reading", source, e))?;
    let existing = match std::fs::read(target) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io("reading", target, e)),
    };
    let item = |action, stripped| StateItem {
        path: rel.to_string(),
        action,
        stripped,
    };
    if kind == Kind::Other {
        if existing.is_some() {
            return Ok(item(StateAction::SkippedExists, Vec::new()));
        }
        if !dry_run {
            write(target, &bytes)?;
        }
        return Ok(item(StateAction::Copied, Vec::new()));
    }
    let Some(mut doc) = parse(kind, &bytes) else {
        return Ok(item(StateAction::SkippedUnreadable, Vec::new()));
    };
    let stripped = strip_secrets(&mut doc, strip);
    let (action, doc) = match existing.as_deref().map(|b| parse(kind, b)) {
        None => (StateAction::Copied, doc),
        // The profile's file wins key by key: imported values only fill what it lacks.
        Some(Some(mine)) => {
            let mut merged = doc;
            crate::launch::merge_json(&mut merged, mine);
            (StateAction::Merged, merged)
        }
        Some(None) => return Ok(item(StateAction::SkippedExists, stripped)),
    };
    if !dry_run {
        write(target, render(kind, &doc)?.as_bytes())?;
    }
    Ok(item(action, stripped))
}

fn parse(kind: Kind, bytes: &[u8]) -> Option<serde_json::Value> {
    let text = std::str::from_utf8(bytes).ok()?;
    match kind {
        Kind::Json => serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .filter(serde_json::Value::is_object),
        Kind::Toml => toml::from_str::<toml::Table>(text)
            .ok()
            .and_then(|t| serde_json::to_value(t).ok()),
        Kind::Other => None,
    }
}

fn render(kind: Kind, doc: &serde_json::Value) -> Result<String> {
    match kind {
        Kind::Toml => {
            let table: toml::Table = serde_json::from_value(doc.clone())
                .map_err(|e| Error::InvalidInput(e.to_string()))?;
            toml::to_string_pretty(&table).map_err(|e| Error::InvalidInput(e.to_string()))
        }
        _ => serde_json::to_string_pretty(doc).map_err(|e| Error::InvalidInput(e.to_string())),
    }
}

fn write(target: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    }
    crate::fsio::write_atomic(target, bytes, Some(0o600))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> StateLayout {
        StateLayout {
            files: vec![
                ".a/settings.json".into(),
                ".a/MEMORY.md".into(),
                ".a.json".into(),
            ],
            dirs: vec![".a/commands".into()],
            never: vec![".a/.credentials.json".into()],
            strip: vec!["oauthAccount".into()],
        }
    }

    fn put(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    #[test]
    fn state_is_copied_without_credentials_and_the_profiles_own_files_win() {
        let from = tempfile::tempdir().expect("tempdir");
        let home = tempfile::tempdir().expect("tempdir");
        put(
            from.path(),
            ".a/settings.json",
            r#"{"theme":"dark","env":{"API_TOKEN":"t0k","PLAIN":"1","REF":"${X_TOKEN}"}}"#,
        );
        put(from.path(), ".a/MEMORY.md", "remember this");
        put(
            from.path(),
            ".a.json",
            r#"{"oauthAccount":{"email":"me"},"primaryApiKey":"sk-1","projects":{"/p":{"hasTrustDialogAccepted":true}}}"#,
        );
        put(from.path(), ".a/commands/x.md", "cmd");
        put(from.path(), ".a/.credentials.json", r#"{"token":"secret"}"#);
        put(home.path(), ".a/MEMORY.md", "the profile's own");
        put(home.path(), ".a/settings.json", r#"{"theme":"light"}"#);

        let dry = import_state(&layout(), from.path(), home.path(), true).expect("dry run");
        assert!(
            !home.path().join(".a.json").exists(),
            "a dry run writes nothing"
        );
        let done = import_state(&layout(), from.path(), home.path(), false).expect("imported");
        assert_eq!(dry, done);
        let action = |p: &str| done.iter().find(|i| i.path == p).map(|i| i.action);
        assert_eq!(
            action(".a/.credentials.json"),
            Some(StateAction::SkippedCredentials)
        );
        assert_eq!(action(".a/MEMORY.md"), Some(StateAction::SkippedExists));
        assert_eq!(action(".a/settings.json"), Some(StateAction::Merged));
        assert_eq!(action(".a.json"), Some(StateAction::Copied));
        assert_eq!(action(".a/commands/x.md"), Some(StateAction::Copied));

        let read = |p: &str| std::fs::read_to_string(home.path().join(p)).expect(p);
        assert_eq!(read(".a/MEMORY.md"), "the profile's own");
        let settings: serde_json::Value =
            serde_json::from_str(&read(".a/settings.json")).expect("json");
        assert_eq!(settings["theme"], "light", "the profile's value wins");
        assert_eq!(settings["env"]["PLAIN"], "1");
        assert_eq!(
            settings["env"]["REF"], "${X_TOKEN}",
            "a reference holds no secret"
        );
        assert!(settings["env"].get("API_TOKEN").is_none());
        let top = read(".a.json");
        assert!(
            !top.contains("sk-1") && !top.contains("oauthAccount"),
            "{top}"
        );
        assert!(top.contains("hasTrustDialogAccepted"), "{top}");
        assert!(!home.path().join(".a/.credentials.json").exists());
        assert_eq!(
            std::fs::read_to_string(from.path().join(".a.json")).expect("original"),
            r#"{"oauthAccount":{"email":"me"},"primaryApiKey":"sk-1","projects":{"/p":{"hasTrustDialogAccepted":true}}}"#,
            "the original is untouched"
        );
    }
}
