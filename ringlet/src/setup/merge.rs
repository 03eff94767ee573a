//! Merging an imported `config.toml` table into this machine's, leaf by leaf.
//!
//! A leaf is a value that is not a table (a string, number, boolean, array, or array of tables
//! such as `[[directory-mapping]]`). An imported leaf this machine lacks is added; one it has
//! with the same value is unchanged; one it has with another value is a conflict, which the
//! import refuses unless told to keep this machine's. The file is edited with `toml_edit`, so
//! the user's comments and layout stay.

use std::path::Path;

use serde_json::{Map, Value};

use crate::config::Config;
use crate::error::{Error, Result};

/// What merging found, and the file it would write.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct ConfigMerge {
    /// Dotted keys added.
    pub added: Vec<String>,
    /// Dotted keys already set to the same value.
    pub unchanged: Vec<String>,
    /// Dotted keys set here to another value.
    pub conflicts: Vec<String>,
    /// The merged file (conflicting keys keep this machine's values); `None` when nothing is
    /// added.
    pub text: Option<String>,
}

/// Every leaf of `map` with its path.
fn leaves(prefix: &mut Vec<String>, map: &Map<String, Value>, out: &mut Vec<(Vec<String>, Value)>) {
    for (key, value) in map {
        prefix.push(key.clone());
        match value {
            Value::Object(inner) => leaves(prefix, inner, out),
            leaf => out.push((prefix.clone(), leaf.clone())),
        }
        prefix.pop();
    }
}

enum Local {
    Absent,
    Same,
    Other,
}

fn lookup(local: &Value, path: &[String], want: &Value) -> Local {
    let mut at = local;
    for key in path {
        match at {
            Value::Object(map) => match map.get(key) {
                Some(v) => at = v,
                None => return Local::Absent,
            },
            // A leaf where the import has a table: the two disagree.
            _ => return Local::Other,
        }
    }
    if at == want {
        Local::Same
    } else {
        Local::Other
    }
}

/// A JSON leaf as a TOML item (through a one-key document, so arrays of tables come out as
/// `[[key]]`).
fn toml_item(path: &[String], value: &Value) -> Result<toml_edit::Item> {
    let dotted = path.join(".");
    let bad = |why: String| {
        Error::InvalidInput(format!(
            "the setup's config key {dotted} cannot be written to config.toml: {why}"
        ))
    };
    let value: toml::Value =
        serde_json::from_value(value.clone()).map_err(|e| bad(e.to_string()))?;
    let mut wrapper = toml::Table::new();
    wrapper.insert("v".into(), value);
    let text = toml::to_string(&wrapper).map_err(|e| bad(e.to_string()))?;
    let doc: toml_edit::DocumentMut = text.parse().map_err(|e| bad(format!("{e}")))?;
    doc.get("v")
        .cloned()
        .ok_or_else(|| bad("it has no TOML form".into()))
}

/// Merges `imported` into the config file whose text is `local_text` (empty when there is
/// none). Conflicting keys keep the local value. The merged text is checked to load as a
/// [`Config`]; `path` names the file in errors.
pub(crate) fn merge_config(
    local_text: &str,
    imported: &Map<String, Value>,
    path: &Path,
) -> Result<ConfigMerge> {
    let local_table: toml::Table =
        toml::from_str(local_text).map_err(|e| Error::toml(path, local_text, &e))?;
    let local = serde_json::to_value(&local_table)
        .map_err(|e| Error::InvalidInput(format!("reading {}: {e}", path.display())))?;
    let mut doc: toml_edit::DocumentMut = local_text.parse().map_err(|e| Error::Parse {
        path: path.to_path_buf(),
        line: None,
        message: format!("{e}"),
    })?;
    let mut found = Vec::new();
    leaves(&mut Vec::new(), imported, &mut found);
    let mut merge = ConfigMerge::default();
    for (key_path, value) in found {
        let dotted = key_path.join(".");
        match lookup(&local, &key_path, &value) {
            Local::Same => merge.unchanged.push(dotted),
            Local::Other => merge.conflicts.push(dotted),
            Local::Absent => {
                let item = toml_item(&key_path, &value)?;
                let (last, parents) = key_path
                    .split_last()
                    .ok_or_else(|| Error::InvalidInput("an empty config key".into()))?;
                let mut table: &mut dyn toml_edit::TableLike = doc.as_table_mut();
                for key in parents {
                    let entry = table.entry(key).or_insert_with(|| {
                        let mut t = toml_edit::Table::new();
                        t.set_implicit(true);
                        toml_edit::Item::Table(t)
                    });
                    table = entry.as_table_like_mut().ok_or_else(|| {
                        Error::InvalidInput(format!(
                            "the setup's config key {dotted} needs {key} to be a table in {}",
                            path.display()
                        ))
                    })?;
                }
                table.insert(last, item);
                merge.added.push(dotted);
            }
        }
    }
    if !merge.added.is_empty() {
        let text = doc.to_string();
        toml::from_str::<Config>(&text).map_err(|e| {
            Error::InvalidInput(format!(
                "{} would not load after importing the setup's settings: {}",
                path.display(),
                Error::toml(path, &text, &e)
            ))
        })?;
        merge.text = Some(text);
    }
    Ok(merge)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn adds_missing_keeps_same_and_reports_conflicts() {
        let local = "# mine\n[sandbox]\nnetwork = \"none\" # keep\n";
        let imported = map(serde_json::json!({
            "sandbox": {"network": "none", "extra-ro": ["/opt/data"]},
            "credentials": {"backend": "file"},
            "directory-mapping": [{"path": "~/p", "profile": "p"}],
        }));
        let m = merge_config(local, &imported, Path::new("config.toml")).expect("merge");
        assert_eq!(m.unchanged, vec!["sandbox.network"]);
        let mut added = m.added.clone();
        added.sort();
        assert_eq!(
            added,
            vec![
                "credentials.backend",
                "directory-mapping",
                "sandbox.extra-ro"
            ]
        );
        assert!(m.conflicts.is_empty());
        let text = m.text.expect("text");
        assert!(text.contains("# mine") && text.contains("# keep"), "{text}");
        let c: Config = toml::from_str(&text).expect("loads");
        assert_eq!(c.directory_mapping.len(), 1);
        assert_eq!(c.credentials.backend, "file");

        let again = merge_config(&text, &imported, Path::new("config.toml")).expect("again");
        assert!(again.added.is_empty() && again.text.is_none());
        let other = map(serde_json::json!({"credentials": {"backend": "env"}}));
        let m = merge_config(&text, &other, Path::new("config.toml")).expect("merge");
        assert_eq!(m.conflicts, vec!["credentials.backend"]);
        assert!(m.text.is_none());
    }

    #[test]
    fn a_merge_that_would_not_load_is_refused() {
        let imported = map(serde_json::json!({"sandbox": {"network": "sideways"}}));
        let e = merge_config("", &imported, Path::new("config.toml")).expect_err("bad");
        assert!(e.to_string().contains("would not load"), "{e}");
    }
}
