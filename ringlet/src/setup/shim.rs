//! Shims: small executables named for a profile (`claude-work`) that run it through ringlet,
//! so `claude-work -p hi` is `ringlet profiles run work -- -p hi`.
//!
//! A shim is a POSIX `sh` script whose second line is the marker [`SHIM_MARKER`] with the
//! profile's alias: ringlet lists, replaces and removes only files carrying it, so it never
//! touches a file it did not write. It `exec`s the absolute path of the ringlet that wrote it
//! (the same binary, whatever PATH an IDE or cron gives), with `--home` when that ringlet was
//! given one.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The marker line's start; the profile's alias follows it.
pub const SHIM_MARKER: &str = "# ringlet-shim: profile=";

/// The most of a file read to recognise a shim (shims are a few hundred bytes).
const SHIM_READ_LIMIT: u64 = 4096;

/// A shim ringlet wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Shim {
    /// Its file name (`claude-work`).
    pub name: String,
    /// Its path.
    pub path: PathBuf,
    /// The profile it runs.
    pub profile: String,
    /// Whether that profile exists.
    pub profile_exists: bool,
}

/// A single-quoted `sh` word.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The shim's text.
pub(crate) fn render(program: &Path, home: Option<&Path>, alias: &str) -> String {
    let home = home
        .map(|h| format!(" --home {}", sh_quote(&h.display().to_string())))
        .unwrap_or_default();
    format!(
        "#!/bin/sh\n{SHIM_MARKER}{alias}\n# Written by `ringlet aliases install`; `ringlet aliases uninstall {alias}` removes it.\nexec {}{home} profiles run {} -- \"$@\"\n",
        sh_quote(&program.display().to_string()),
        sh_quote(alias),
    )
}

/// The profile a shim runs, when `text` is one ringlet wrote.
pub(crate) fn parse(text: &str) -> Option<String> {
    let mut lines = text.lines();
    if lines.next()? != "#!/bin/sh" {
        return None;
    }
    let alias = lines.next()?.strip_prefix(SHIM_MARKER)?;
    (!alias.is_empty()).then(|| alias.to_string())
}

/// The profile of the shim at `path`; `None` when the file is not one (or is unreadable, or
/// is not a regular file).
pub(crate) fn read(path: &Path) -> Option<String> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.is_file() || meta.len() > SHIM_READ_LIMIT {
        return None;
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(SHIM_READ_LIMIT)
        .read_to_string(&mut text)
        .ok()?;
    parse(&text)
}

/// Every shim in `dir`, by name, with the profile each runs (`profile_exists` left false).
pub(crate) fn scan(dir: &Path) -> Result<Vec<Shim>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("reading", dir, e)),
    };
    let mut shims = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("reading", dir, e))?;
        let path = entry.path();
        if let (Some(name), Some(profile)) = (entry.file_name().to_str(), read(&path)) {
            shims.push(Shim {
                name: name.to_string(),
                path,
                profile,
                profile_exists: false,
            });
        }
    }
    shims.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(shims)
}

/// Checks a shim's file name: one plain path component a shell can call.
pub(crate) fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with(['-', '.'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "'{}' is not a usable command name; use letters, digits, '-', '_', '.' or '+', not starting with '-' or '.'",
            name.escape_debug()
        )))
    }
}

/// Whether `dir` is one of the directories of `path` (a `PATH` value), compared resolved.
pub(crate) fn on_path(dir: &Path, path: Option<&std::ffi::OsStr>) -> bool {
    let Some(path) = path else { return false };
    let want = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    std::env::split_paths(path)
        .any(|p| p == dir || std::fs::canonicalize(&p).is_ok_and(|p| p == want))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shim_round_trips_and_quotes() {
        let text = render(
            Path::new("/opt/it's/ringlet"),
            Some(Path::new("/h")),
            "work",
        );
        assert_eq!(parse(&text).as_deref(), Some("work"));
        assert!(
            text.ends_with(
                "exec '/opt/it'\\''s/ringlet' --home '/h' profiles run 'work' -- \"$@\"\n"
            ),
            "{text}"
        );
        let plain = render(Path::new("/bin/ringlet"), None, "w");
        assert!(
            plain.contains("exec '/bin/ringlet' profiles run 'w' --"),
            "{plain}"
        );
        assert_eq!(parse("#!/bin/sh\necho hi\n"), None);
        assert_eq!(parse(&format!("#!/bin/bash\n{SHIM_MARKER}w\n")), None);
        assert_eq!(parse(&format!("#!/bin/sh\n{SHIM_MARKER}\n")), None);
    }

    #[test]
    fn names() {
        for ok in ["claude-work", "cx_1", "g+"] {
            validate_name(ok).expect(ok);
        }
        for bad in ["", "-x", ".x", "a/b", "a b", "é"] {
            validate_name(bad).expect_err(bad);
        }
    }

    #[test]
    fn path_membership() {
        let dir = tempfile::tempdir().expect("tempdir");
        let joined = std::env::join_paths([Path::new("/usr/bin"), dir.path()]).expect("join");
        assert!(on_path(dir.path(), Some(&joined)));
        assert!(!on_path(Path::new("/nowhere/bin"), Some(&joined)));
        assert!(!on_path(dir.path(), None));
    }
}
