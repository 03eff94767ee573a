//! Writing a plan's files into the profile HOME, with the key filled in and existing agent
//! state merged rather than clobbered.

use super::plan::{FileFormat, LaunchPlan, MergeMode, PlannedFile};
use crate::credentials::Secret;
use crate::error::{Error, Result};
use crate::fsio;
use crate::script::KEY_PLACEHOLDER;

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
    let exists = file.path.exists();
    if file.merge == MergeMode::Create && exists {
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
        file.content.replace(KEY_PLACEHOLDER, key.expose())
    } else {
        file.content.clone()
    };
    let content = if file.merge == MergeMode::Merge && exists {
        merge_existing(file, &content)?
    } else {
        content
    };
    if exists && unchanged(&file.path, &content) {
        return Ok(());
    }
    fsio::write_atomic_volatile(&file.path, content.as_bytes(), Some(0o600))
}

/// Whether the file already holds exactly `content` with mode 0600 (the steady state of a
/// profile that is run again and again: no write needed).
fn unchanged(path: &std::path::Path, content: &str) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::metadata(path) {
            Ok(m) if m.permissions().mode() & 0o777 == 0o600 => {}
            _ => return false,
        }
    }
    std::fs::read(path).is_ok_and(|old| old == content.as_bytes())
}

fn merge_existing(file: &PlannedFile, planned: &str) -> Result<String> {
    let existing = fsio::read_to_string(&file.path)?;
    let keep_backup = || -> Result<()> {
        // The agent's file is unreadable; keep it beside ours rather than lose it.
        let backup = file.path.with_extension("ringlet-bak");
        fsio::write_atomic_volatile(&backup, existing.as_bytes(), Some(0o600))
    };
    match file.format {
        FileFormat::Json => {
            let new: serde_json::Value =
                serde_json::from_str(planned).map_err(|e| Error::Parse {
                    path: file.path.clone(),
                    line: Some(e.line()),
                    message: e.to_string(),
                })?;
            let Ok(mut old) = serde_json::from_str::<serde_json::Value>(&existing) else {
                keep_backup()?;
                return Ok(planned.to_string());
            };
            merge_json(&mut old, new);
            serde_json::to_string_pretty(&old).map_err(|e| Error::InvalidInput(e.to_string()))
        }
        FileFormat::Toml => {
            let new: toml::Table =
                toml::from_str(planned).map_err(|e| Error::toml(&file.path, planned, &e))?;
            let Ok(mut old) = toml::from_str::<toml::Table>(&existing) else {
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
}
