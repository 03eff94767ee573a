//! Writing a plan's files into the profile HOME, with the key filled in and existing agent
//! state merged rather than clobbered.

use super::plan::{FileFormat, LaunchPlan, MergeMode, PlannedFile};
use crate::credentials::Secret;
use crate::error::{Error, Result};
use crate::fsio;
use crate::launch::script::fill_key;

/// Writes every file of `plan`. Files that hold the key need `key`; all are written 0600 since
/// they live in a private HOME and may hold provider settings.
pub fn materialise(plan: &LaunchPlan, key: Option<&Secret>) -> Result<()> {
    for dir in &plan.dirs {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    }
    for file in &plan.files {
        write_one(plan, file, key)?;
    }
    Ok(())
}

fn write_one(plan: &LaunchPlan, file: &PlannedFile, key: Option<&Secret>) -> Result<()> {
    // Read once: for merging, and to skip the write when nothing changed (the steady state of
    // a profile that is run again and again).
    let existing = match std::fs::read(&file.path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io("reading", &file.path, e)),
    };
    if file.merge == MergeMode::Create && existing.is_some() {
        return Ok(());
    }
    let content = if file.holds_key {
        let key = key.ok_or_else(|| match &plan.secret_env {
            Some(s) => Error::MissingKey {
                provider: s.provider.clone(),
                alias: s.alias.clone(),
                backend: "configured".into(),
            },
            None => Error::Script {
                script: plan.agent.clone(),
                message: format!(
                    "{} needs the API key but the profile has no key alias",
                    file.path.display()
                ),
            },
        })?;
        fill_key(&file.content, Some(key))
    } else {
        // Only the key's suffix can be there (Claude Code's approval of the key).
        fill_key(&file.content, key)
    };
    let content = match &existing {
        Some(old) if file.merge == MergeMode::Merge => merge_existing(file, old, &content)?,
        _ => content,
    };
    if existing.is_some_and(|old| old == content.as_bytes()) && private(&file.path) {
        return Ok(());
    }
    fsio::write_atomic_volatile(&file.path, content.as_bytes(), Some(0o600))
}

/// Whether the file has mode 0600 (so an unchanged one needs no write).
fn private(path: &std::path::Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o777 == 0o600)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        true
    }
}

fn merge_existing(file: &PlannedFile, existing: &[u8], planned: &str) -> Result<String> {
    let keep_backup = || -> Result<()> {
        // The agent's file is unreadable; keep it beside ours rather than lose it.
        let backup = file.path.with_extension("ringlet-bak");
        fsio::write_atomic_volatile(&backup, existing, Some(0o600))
    };
    let Ok(existing) = std::str::from_utf8(existing) else {
        keep_backup()?;
        return Ok(planned.to_string());
    };
    match file.format {
        FileFormat::Json => {
            let new: serde_json::Value =
                serde_json::from_str(planned).map_err(|e| Error::Parse {
                    path: file.path.clone(),
                    line: Some(e.line()),
                    message: e.to_string(),
                })?;
            let Ok(mut old) = serde_json::from_str::<serde_json::Value>(existing) else {
                keep_backup()?;
                return Ok(planned.to_string());
            };
            merge_json(&mut old, new);
            serde_json::to_string_pretty(&old).map_err(|e| Error::InvalidInput(e.to_string()))
        }
        FileFormat::Toml => {
            let new: toml::Table =
                toml::from_str(planned).map_err(|e| Error::toml(&file.path, planned, &e))?;
            let Ok(mut old) = toml::from_str::<toml::Table>(existing) else {
                keep_backup()?;
                return Ok(planned.to_string());
            };
            merge_toml(&mut old, new);
            toml::to_string_pretty(&old).map_err(|e| Error::InvalidInput(e.to_string()))
        }
        FileFormat::Text => Ok(planned.to_string()),
    }
}

/// Deep-merges `new` into `old`: objects merge key by key, everything else is replaced.
pub(crate) fn merge_json(old: &mut serde_json::Value, new: serde_json::Value) {
    match (old, new) {
        (serde_json::Value::Object(old), serde_json::Value::Object(new)) => {
            for (k, v) in new {
                match old.get_mut(&k) {
                    Some(slot) => merge_json(slot, v),
                    None => {
                        old.insert(k, v);
                    }
                }
            }
        }
        (old, new) => *old = new,
    }
}

fn merge_toml(old: &mut toml::Table, new: toml::Table) {
    for (k, v) in new {
        match (old.get_mut(&k), v) {
            (Some(toml::Value::Table(o)), toml::Value::Table(n)) => merge_toml(o, n),
            (_, v) => {
                old.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_merge_keeps_agent_state() {
        let mut old = json!({"projects": {"/a": {"trusted": true}}, "theme": "dark", "n": 1});
        merge_json(
            &mut old,
            json!({"projects": {"/b": {"trusted": true}}, "n": 2}),
        );
        assert_eq!(
            old,
            json!({"projects": {"/a": {"trusted": true}, "/b": {"trusted": true}}, "theme": "dark", "n": 2})
        );
    }

    #[test]
    fn toml_merge_keeps_agent_state() {
        let mut old: toml::Table =
            toml::from_str("model = \"a\"\n[projects.\"/x\"]\ntrust_level = \"trusted\"\n")
                .expect("old");
        let new: toml::Table =
            toml::from_str("model = \"b\"\n[analytics]\nenabled = false\n").expect("new");
        merge_toml(&mut old, new);
        assert_eq!(old["model"].as_str(), Some("b"));
        assert!(old.contains_key("projects"));
        assert!(old.contains_key("analytics"));
    }

    fn plan() -> LaunchPlan {
        serde_json::from_value(json!({
            "profile": "w", "agent": "claude", "provider": "anthropic", "shape": "anthropic",
            "base_url": "http://x", "model": null, "program": "/bin/true", "args": [],
            "cwd": "/", "home": "/h", "env": {}, "secret_env": null, "env_remove": [],
            "dirs": [], "files": [], "native_events": []
        }))
        .expect("a plan")
    }

    fn planned(path: std::path::PathBuf) -> PlannedFile {
        PlannedFile {
            path,
            format: FileFormat::Json,
            merge: MergeMode::Merge,
            content: r#"{"ours": 1}"#.into(),
            holds_key: false,
        }
    }

    #[test]
    fn an_unreadable_agent_file_is_kept_aside_and_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("settings.json");
        std::fs::write(&path, b"\xff\xfe not utf-8").expect("write");
        let file = planned(path.clone());
        let plan = plan();
        write_one(&plan, &file, None).expect("written");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            r#"{"ours": 1}"#
        );
        assert_eq!(
            std::fs::read(dir.path().join("settings.ringlet-bak")).expect("backup"),
            b"\xff\xfe not utf-8"
        );
    }

    #[test]
    fn a_merged_file_keeps_the_agents_keys_and_an_unchanged_one_is_not_rewritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("settings.json");
        std::fs::write(&path, r#"{"theirs": 2}"#).expect("write");
        let file = planned(path.clone());
        let plan = plan();
        write_one(&plan, &file, None).expect("written");
        let merged: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        assert_eq!(merged, json!({"theirs": 2, "ours": 1}));
        let before = std::fs::metadata(&path)
            .expect("stat")
            .modified()
            .expect("mtime");
        let inode = |p: &std::path::Path| {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata(p).expect("stat").ino()
        };
        let ino = inode(&path);
        write_one(&plan, &file, None).expect("written again");
        assert_eq!(inode(&path), ino, "an unchanged file is not replaced");
        assert_eq!(
            std::fs::metadata(&path)
                .expect("stat")
                .modified()
                .expect("mtime"),
            before
        );
    }
}
