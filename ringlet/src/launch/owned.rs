//! Tables whose entries ringlet owns inside an agent's own config file: the MCP servers
//! ringlet defines (`mcpServers` in `.claude.json`, `mcp_servers` in Codex's `config.toml`, …)
//! live beside the ones the user added inside the agent. Each run adds ringlet's entries,
//! removes the ones it wrote before and no longer defines (when the user has not changed them),
//! and never touches an entry the user made or changed, even one of the same name: that one is
//! kept and reported. What ringlet wrote is remembered per file in `<HOME>/.ringlet/owned.json`.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;

use serde_json::{Map, Value};

use super::plan::{FileFormat, PlannedFile};
use crate::error::{Error, Result};
use crate::fsio::NoFollowDir;

/// The directory in the profile HOME, and the file in it, that remember owned entries.
const LEDGER_DIR: &str = ".ringlet";
const LEDGER_FILE: &str = "owned.json";

/// The owned tables of one planned file, taken out of it.
#[derive(Debug)]
pub(super) struct Owned {
    planned: Vec<(String, Map<String, Value>)>,
}

/// What ringlet wrote: file (relative to HOME) → table path → entries.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    entries: BTreeMap<String, BTreeMap<String, Map<String, Value>>>,
    loaded: Option<Vec<u8>>,
}

/// `content` without its owned tables, and those tables; `None` when the file owns none.
pub(super) fn split(file: &PlannedFile, content: &str) -> Result<(String, Option<Owned>)> {
    if file.owned.is_empty() {
        return Ok((content.to_string(), None));
    }
    let mut doc = parse(file.format, content).ok_or_else(|| {
        Error::InvalidInput(format!(
            "the planned {} is not a JSON/TOML table",
            file.path.display()
        ))
    })?;
    let planned = file
        .owned
        .iter()
        .map(|path| (path.clone(), take_at(&mut doc, path)))
        .collect();
    Ok((render(file, &doc)?, Some(Owned { planned })))
}

impl Owned {
    /// `merged` (the file after the ordinary merge) with the owned entries settled; the notes
    /// about the user's entries kept, and the ledger to save once the file is written.
    pub(super) fn settle(
        self,
        file: &PlannedFile,
        home: &NoFollowDir,
        rel: &Path,
        merged: &str,
    ) -> Result<(String, Vec<String>, Ledger)> {
        let mut ledger = Ledger::load(home)?;
        let key = rel.to_string_lossy().into_owned();
        let mut doc = parse(file.format, merged).unwrap_or_else(|| Value::Object(Map::new()));
        let mut notes = Vec::new();
        for (path, planned) in self.planned {
            let before = ledger.get(&key, &path);
            let current = get_at(&doc, &path).cloned().unwrap_or_default();
            let had_table = get_at(&doc, &path).is_some();
            let (result, written, kept) = settle_entries(current, &planned, &before);
            for name in kept {
                notes.push(format!(
                    "{key}: '{name}' under {path} is your own entry, so ringlet left it as it is and did not write its own '{name}' there; rename one of them to have both"
                ));
            }
            if had_table || !result.is_empty() {
                set_at(&mut doc, &path, result);
            }
            ledger.set(&key, &path, written);
        }
        Ok((render(file, &doc)?, notes, ledger))
    }
}

/// The entries of a table after a run: `current` (what the file holds now), `planned`
/// (ringlet's entries now) and `before` (what ringlet wrote last time). Also what ringlet
/// wrote this time, and the names of the user's entries it left alone.
fn settle_entries(
    current: Map<String, Value>,
    planned: &Map<String, Value>,
    before: &Map<String, Value>,
) -> (Map<String, Value>, Map<String, Value>, Vec<String>) {
    let mut result = current;
    for (name, wrote) in before {
        // Gone from ringlet's definitions and as ringlet left it: ringlet's to remove.
        if !planned.contains_key(name) && result.get(name) == Some(wrote) {
            result.remove(name);
        }
    }
    let mut written = Map::new();
    let mut kept = Vec::new();
    for (name, value) in planned {
        let ours = match result.get(name) {
            None => true,
            Some(now) => before.get(name) == Some(now) || now == value,
        };
        if ours {
            result.insert(name.clone(), value.clone());
            written.insert(name.clone(), value.clone());
        } else {
            kept.push(name.clone());
        }
    }
    (result, written, kept)
}

impl Ledger {
    fn load(home: &NoFollowDir) -> Result<Self> {
        let dir = home.subdir(Path::new(LEDGER_DIR))?;
        let loaded = dir.read(OsStr::new(LEDGER_FILE))?.map(|f| f.bytes);
        // An unreadable ledger forgets what ringlet wrote: its entries are recognised again
        // by being equal to what it plans, and only stale ones stay behind.
        let entries = loaded
            .as_deref()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or_default();
        Ok(Self { entries, loaded })
    }

    fn get(&self, file: &str, path: &str) -> Map<String, Value> {
        self.entries
            .get(file)
            .and_then(|t| t.get(path))
            .cloned()
            .unwrap_or_default()
    }

    fn set(&mut self, file: &str, path: &str, written: Map<String, Value>) {
        let tables = self.entries.entry(file.to_string()).or_default();
        if written.is_empty() {
            tables.remove(path);
        } else {
            tables.insert(path.to_string(), written);
        }
        if tables.is_empty() {
            self.entries.remove(file);
        }
    }

    pub(super) fn save(&self, home: &NoFollowDir) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(&self.entries)
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        if self.loaded.as_deref() == Some(&bytes[..])
            || (self.loaded.is_none() && self.entries.is_empty())
        {
            return Ok(());
        }
        home.subdir(Path::new(LEDGER_DIR))?.write_atomic_volatile(
            OsStr::new(LEDGER_FILE),
            &bytes,
            0o600,
        )
    }
}

fn parse(format: FileFormat, text: &str) -> Option<Value> {
    match format {
        FileFormat::Json => serde_json::from_str::<Value>(text)
            .ok()
            .filter(Value::is_object),
        FileFormat::Toml => toml::from_str::<toml::Table>(text)
            .ok()
            .and_then(|t| serde_json::to_value(t).ok()),
        FileFormat::Text => None,
    }
}

fn render(file: &PlannedFile, doc: &Value) -> Result<String> {
    let bad = |e: String| Error::InvalidInput(format!("{}: {e}", file.path.display()));
    match file.format {
        FileFormat::Toml => {
            let table: toml::Table =
                serde_json::from_value(doc.clone()).map_err(|e| bad(e.to_string()))?;
            toml::to_string_pretty(&table).map_err(|e| bad(e.to_string()))
        }
        _ => serde_json::to_string_pretty(doc).map_err(|e| bad(e.to_string())),
    }
}

fn get_at<'a>(doc: &'a Value, path: &str) -> Option<&'a Map<String, Value>> {
    path.split('.')
        .try_fold(doc, |v, k| v.get(k))
        .and_then(Value::as_object)
}

fn take_at(doc: &mut Value, path: &str) -> Map<String, Value> {
    let (parent, last) = match path.rsplit_once('.') {
        Some((parent, last)) => (
            parent.split('.').try_fold(&mut *doc, |v, k| v.get_mut(k)),
            last,
        ),
        None => (Some(&mut *doc), path),
    };
    parent
        .and_then(Value::as_object_mut)
        .and_then(|m| m.remove(last))
        .and_then(|v| match v {
            Value::Object(m) => Some(m),
            _ => None,
        })
        .unwrap_or_default()
}

fn set_at(doc: &mut Value, path: &str, entries: Map<String, Value>) {
    let mut at = doc;
    let keys: Vec<&str> = path.split('.').collect();
    for k in &keys[..keys.len() - 1] {
        let Some(map) = at.as_object_mut() else {
            return;
        };
        let next = map
            .entry(k.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        at = next;
    }
    if let Some(map) = at.as_object_mut() {
        map.insert(keys[keys.len() - 1].to_string(), Value::Object(entries));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().expect("an object").clone()
    }

    #[test]
    fn the_users_entries_stay_and_ringlets_come_and_go() {
        let ours = json!({"command": "srv"});
        let theirs = json!({"command": "mine"});
        // First run: the user already has `mine` and an entry named like ringlet's `gh`.
        let (result, written, kept) = settle_entries(
            map(json!({"mine": theirs, "gh": {"command": "their-gh"}})),
            &map(json!({"gh": ours, "fs": ours})),
            &Map::new(),
        );
        assert_eq!(kept, vec!["gh"]);
        assert_eq!(result["gh"], json!({"command": "their-gh"}));
        assert_eq!(result["fs"], ours);
        assert_eq!(result["mine"], theirs);
        assert_eq!(written, map(json!({"fs": ours})));
        // Next run: `fs` changed in ringlet's config, and is updated.
        let changed = json!({"command": "srv2"});
        let (result, written, _) = settle_entries(result, &map(json!({"fs": changed})), &written);
        assert_eq!(result["fs"], changed);
        // Then removed from ringlet's config: gone, the user's untouched.
        let (result, written, _) = settle_entries(result, &Map::new(), &written);
        assert!(!result.contains_key("fs"));
        assert!(result.contains_key("mine") && result.contains_key("gh"));
        assert!(written.is_empty());
        // An entry ringlet wrote and the user then edited is the user's: kept, even removed.
        let (result, written, _) = settle_entries(result, &map(json!({"x": ours})), &Map::new());
        let mut edited = result.clone();
        edited.insert("x".into(), json!({"command": "edited"}));
        let (result, _, kept) = settle_entries(edited, &Map::new(), &written);
        assert_eq!(result["x"], json!({"command": "edited"}));
        assert!(kept.is_empty());
    }

    #[test]
    fn dotted_paths_reach_nested_tables() {
        let mut doc = json!({"a": {"b": {"x": 1}, "keep": 2}});
        assert_eq!(take_at(&mut doc, "a.b"), map(json!({"x": 1})));
        assert_eq!(doc, json!({"a": {"keep": 2}}));
        set_at(&mut doc, "a.c.d", map(json!({"y": 1})));
        assert_eq!(doc, json!({"a": {"keep": 2, "c": {"d": {"y": 1}}}}));
        assert_eq!(get_at(&doc, "a.c.d"), Some(&map(json!({"y": 1}))));
        assert_eq!(take_at(&mut doc, "none.here"), Map::new());
    }
}
