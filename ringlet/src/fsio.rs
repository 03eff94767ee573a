//! Small filesystem helpers: atomic writes with explicit modes, locked files, and permission
//! checks.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// Writes `bytes` to `path` atomically: a temp file in the same directory, fsync, rename.
/// A reader never sees a half-written file, and a crash leaves the old content in place.
/// `mode` is applied to the temp file before any content is written (Unix only).
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    write_replacing(path, bytes, mode, true)
}

/// Like [`write_atomic`] but without fsync: still never half-written, but a power loss may bring
/// back the previous content. For files regenerated on every run (agent config, counters,
/// caches), where an fsync would be most of the launch overhead.
pub fn write_atomic_volatile(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    write_replacing(path, bytes, mode, false)
}

fn write_replacing(path: &Path, bytes: &[u8], mode: Option<u32>, durable: bool) -> Result<()> {
    let dir = path.parent().ok_or_else(|| {
        Error::InvalidInput(format!("{} has no parent directory", path.display()))
    })?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (tmp, mut file) = create_temp(dir, &file_name, mode)?;
    let result = (|| {
        // The mode passed to open() is filtered by the umask; set it exactly.
        #[cfg(unix)]
        if let Some(mode) = mode {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(mode))
                .map_err(|e| Error::io("setting permissions of", &tmp, e))?;
        }
        file.write_all(bytes)
            .map_err(|e| Error::io("writing", &tmp, e))?;
        if durable {
            file.sync_all().map_err(|e| Error::io("syncing", &tmp, e))?;
        }
        std::fs::rename(&tmp, path).map_err(|e| Error::io("replacing", path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Creates a new temp file for `file_name` in `dir`, named uniquely within the process and
/// among processes (`.<name>.tmp.<pid>.<n>`), and never an existing one (`O_EXCL`, which also
/// never follows a symlink planted at that name): two threads replacing one file must not
/// write into the same temp file, or one renames the other's half-written content into place.
fn create_temp(dir: &Path, file_name: &str, mode: Option<u32>) -> Result<(PathBuf, File)> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{file_name}.tmp.{}.{n}", std::process::id()));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(mode.unwrap_or(0o644));
        }
        #[cfg(not(unix))]
        let _ = mode;
        match opts.open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            // Left by a crashed process that had this pid: take the next name.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io("creating", &tmp, e)),
        }
    }
}

/// Refuses a secrets file that group or others can read or write.
#[cfg(unix)]
pub fn ensure_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|e| Error::io("inspecting", path, e))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::InsecurePermissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// Permission bits are not meaningful here; the file lives in the user's profile directory.
#[cfg(not(unix))]
pub fn ensure_private(_path: &Path) -> Result<()> {
    Ok(())
}

/// Opens `path` for reading and writing, creating it empty if missing (never truncating), and
/// waits for an exclusive `flock` on it, held until the file is dropped.
pub fn open_locked(path: &Path) -> Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| Error::io("opening", path, e))?;
    file.lock().map_err(|e| Error::io("locking", path, e))?;
    Ok(file)
}

/// Reads a file to a string, naming the path on failure.
pub fn read_to_string(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io("reading", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_sets_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("sub/f.txt");
        write_atomic(&p, b"one", Some(0o600)).expect("first write");
        write_atomic(&p, b"two", Some(0o600)).expect("second write");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            ensure_private(&p).expect("0600 is private");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            assert!(matches!(
                ensure_private(&p),
                Err(Error::InsecurePermissions { mode: 0o644, .. })
            ));
        }
        let leftovers: Vec<_> = std::fs::read_dir(p.parent().expect("parent"))
            .expect("readdir")
            .collect();
        assert_eq!(leftovers.len(), 1, "no temp files left behind");
    }
}
