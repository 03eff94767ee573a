//! Loading TOML manifests: built-ins embedded in the binary, then user files from a directory,
//! where a user file with the same id overrides the built-in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Where a manifest came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "path", rename_all = "kebab-case")]
pub enum Source {
    /// Embedded in the ringlet binary.
    BuiltIn,
    /// A user file.
    File(PathBuf),
}

/// Something with an id that manifests are keyed by.
pub(crate) trait HasId {
    fn id(&self) -> &str;
}

/// Parses one manifest, naming the file and line on error.
pub(crate) fn parse<T: DeserializeOwned>(origin: &Path, text: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| Error::toml(origin, text, &e))
}

/// Loads every `*.toml` in `dir`, keyed by id (sorted by file name, so when two files share an
/// id the later one wins, deterministically).
pub(crate) fn load_user<T: DeserializeOwned + HasId>(
    dir: &Path,
) -> Result<BTreeMap<String, (T, Source)>> {
    let mut out = BTreeMap::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io("listing", dir, e)),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for path in files {
        let text = crate::fsio::read_to_string(&path)?;
        let manifest: T = parse(&path, &text)?;
        crate::alias::validate_alias(manifest.id()).map_err(|_| Error::Parse {
            path: path.clone(),
            line: None,
            message: format!(
                "id '{}' must be letters, digits, '-', '_' or '.'",
                manifest.id().escape_debug()
            ),
        })?;
        out.insert(manifest.id().to_string(), (manifest, Source::File(path)));
    }
    Ok(out)
}
