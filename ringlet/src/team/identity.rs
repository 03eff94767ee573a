//! Who is pushing: a machine id generated once per data directory, and a user name.

use std::io::ErrorKind;
use std::path::Path;

use crate::error::{Error, Result};
use crate::paths::Paths;

/// The file in the data directory that holds this machine's id.
pub const MACHINE_ID_FILE: &str = "machine-id";

/// This machine's id in the team ledger: 32 hex digits, random, generated the first time it is
/// asked for and kept in `<data>/machine-id`, so it survives restarts, renames and new network
/// addresses (a host name would not), and reveals nothing about the machine.
pub fn machine_id(paths: &Paths) -> Result<String> {
    let path = paths.data_dir().join(MACHINE_ID_FILE);
    if let Some(id) = read_id(&path)? {
        return Ok(id);
    }
    let dir = paths.data_dir();
    std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| Error::Io {
        action: "generating a machine id for",
        path: path.clone(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    // Written whole under another name, then linked into place: two processes creating it at
    // once agree on one id (the link fails for the second, which reads the first's).
    let tmp = dir.join(format!(".{MACHINE_ID_FILE}.{id}"));
    std::fs::write(&tmp, format!("{id}\n")).map_err(|e| Error::io("writing", &tmp, e))?;
    let linked = std::fs::hard_link(&tmp, &path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(id),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            read_id(&path)?.ok_or_else(|| Error::Parse {
                path: path.clone(),
                line: None,
                message: "not a machine id; delete it and ringlet makes a new one".into(),
            })
        }
        Err(e) => Err(Error::io("creating", &path, e)),
    }
}

fn read_id(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let id = text.trim();
            if id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()) {
                Ok(Some(id.to_ascii_lowercase()))
            } else {
                Err(Error::Parse {
                    path: path.to_path_buf(),
                    line: None,
                    message: "not a machine id (32 hex digits); delete it and ringlet makes a new one, which the team ledger counts as a new machine".into(),
                })
            }
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("reading", path, e)),
    }
}

/// The user name recorded with this machine's events when `[team] user` does not set one:
/// `$USER` (`$USERNAME` on Windows), else `unknown`.
pub fn default_user() -> String {
    ["USER", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_id_is_made_once_and_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = Paths::under(dir.path());
        let a = machine_id(&paths).expect("make");
        assert_eq!(a.len(), 32);
        assert_eq!(machine_id(&paths).expect("read"), a);
        let other = tempfile::tempdir().expect("tempdir");
        assert_ne!(machine_id(&Paths::under(other.path())).expect("other"), a);
    }

    #[test]
    fn racing_processes_agree_on_one_id() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ids: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| machine_id(&Paths::under(dir.path())).expect("id")))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("join"))
                .collect()
        });
        assert!(ids.iter().all(|i| i == &ids[0]), "{ids:?}");
    }

    #[test]
    fn a_damaged_id_names_the_fix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = Paths::under(dir.path());
        std::fs::create_dir_all(paths.data_dir()).expect("mkdir");
        std::fs::write(paths.data_dir().join(MACHINE_ID_FILE), "nope").expect("write");
        let err = machine_id(&paths).expect_err("damaged");
        assert!(err.to_string().contains("delete it"), "{err}");
    }
}
