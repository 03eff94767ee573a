//! Loading TOML manifests: built-ins embedded in the binary, the registry snapshot's, then user
//! files from a directory; a later one with the same id overrides the earlier.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Where a manifest came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "path", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Source {
    /// Embedded in the ringlet binary.
    BuiltIn,
    /// A user file.
    File(PathBuf),
    /// The synced registry snapshot's file (docs/registry.md).
    Registry(PathBuf),
}

/// `built-in`, or the file's path.
impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::BuiltIn => f.write_str("built-in"),
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Registry(path) => write!(f, "registry {}", path.display()),
        }
    }
}

/// Something with an id that manifests are keyed by.
pub(crate) trait HasId {
    fn id(&self) -> &str;
}

/// Parses one manifest, naming the file and line on error.
pub(crate) fn parse<T: DeserializeOwned>(origin: &Path, text: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| Error::toml(origin, text, &e))
}

/// A user manifest that could not be loaded. The entry it names (its file name without
/// `.toml`, since a file that does not parse has no readable id) is disabled rather than
/// falling back to a built-in of the same name, which would quietly run something other than
/// what the user wrote.
#[derive(Debug)]
pub(crate) struct Broken {
    /// The id the file stands for: its file stem.
    pub id: String,
    /// Why it was refused, naming the file and line.
    pub error: Error,
}

/// User manifests by id, with the file each came from.
pub(crate) type Loaded<T> = BTreeMap<String, (T, Source)>;

/// Loads every `*.toml` in `dir`, keyed by id (sorted by file name, so when two files share an
/// id the later one wins, deterministically). A file that cannot be read or parsed is returned
/// in the second list and loading goes on: one typo must not stop every command (a failing
/// `hooks dispatch` denies every tool call of every agent).
pub(crate) fn load_user<T: DeserializeOwned + HasId>(
    dir: &Path,
) -> Result<(Loaded<T>, Vec<Broken>)> {
    let mut out = BTreeMap::new();
    let mut broken = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((out, broken)),
        Err(e) => return Err(Error::io("listing", dir, e)),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for path in files {
        match load_one::<T>(&path) {
            Ok(manifest) => {
                out.insert(manifest.id().to_string(), (manifest, Source::File(path)));
            }
            Err(error) => broken.push(Broken {
                id: path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                error,
            }),
        }
    }
    // A later good file for the same id does not revive it: the broken one may be the edit the
    // user meant.
    for b in &broken {
        out.remove(&b.id);
    }
    Ok((out, broken))
}

fn load_one<T: DeserializeOwned + HasId>(path: &Path) -> Result<T> {
    let text = crate::fsio::read_to_string(path)?;
    let manifest: T = parse(path, &text)?;
    crate::alias::validate_alias(manifest.id()).map_err(|_| Error::Parse {
        path: path.to_path_buf(),
        line: None,
        message: format!(
            "id '{}' must be letters, digits, '-', '_' or '.'",
            manifest.id().escape_debug()
        ),
    })?;
    Ok(manifest)
}
