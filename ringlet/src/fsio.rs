//! Small filesystem helpers: atomic writes with explicit modes, locked files, and permission
//! checks.

use std::io::{Read, Write};
use std::path::Path;

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
    let tmp = dir.join(format!(".{file_name}.tmp.{}", std::process::id()));
    let result = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(mode.unwrap_or(0o644));
        }
        let mut file = opts
            .open(&tmp)
            .map_err(|e| Error::io("creating", &tmp, e))?;
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

/// Reads a UTF-8 text file of at most `limit` bytes. A larger file (or an endless one:
/// `/dev/zero`, a FIFO) is refused after reading `limit + 1` bytes, with an error naming the
/// file and the limit, so memory stays bounded whatever the path is.
pub fn read_file_capped(path: &Path, limit: u64) -> Result<String> {
    let file = std::fs::File::open(path).map_err(|e| Error::io("reading", path, e))?;
    read_capped(file, path, limit)
}

/// Reads UTF-8 text of at most `limit` bytes from `reader` (stdin, a pipe, a socket); `name` is
/// what the error calls it (`stdin`, a path). More than `limit` bytes is an error naming it and
/// the limit, after reading no more than `limit + 1` bytes.
pub fn read_capped(reader: impl Read, name: impl AsRef<Path>, limit: u64) -> Result<String> {
    let name = name.as_ref();
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("reading", name, e))?;
    if bytes.len() as u64 > limit {
        return Err(Error::io(
            "reading",
            name,
            std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                format!(
                    "larger than {}, the most ringlet reads here",
                    size_text(limit)
                ),
            ),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        Error::io(
            "reading",
            name,
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "not UTF-8 text (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            ),
        )
    })
}

/// `1 MiB`, `64 KiB`, `100 bytes`.
fn size_text(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_reads_refuse_more_than_the_limit_naming_the_source() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("small.txt");
        std::fs::write(&p, "12345").expect("write");
        assert_eq!(read_file_capped(&p, 5).expect("fits"), "12345");
        let err = read_file_capped(&p, 4).expect_err("too large").to_string();
        assert!(
            err.contains("small.txt") && err.contains("larger than 4 bytes"),
            "{err}"
        );
        // An endless reader stops at the limit instead of filling memory.
        let err = read_capped(std::io::repeat(b'a'), "stdin", 1024 * 1024)
            .expect_err("endless")
            .to_string();
        assert_eq!(
            err,
            "reading stdin: larger than 1 MiB, the most ringlet reads here"
        );
        let err = read_capped(&[0xff, 0xfe][..], "stdin", 10)
            .expect_err("binary")
            .to_string();
        assert!(err.contains("not UTF-8"), "{err}");
        #[cfg(unix)]
        {
            let err = read_file_capped(Path::new("/dev/zero"), 64 * 1024)
                .expect_err("endless file")
                .to_string();
            assert_eq!(
                err,
                "reading /dev/zero: larger than 64 KiB, the most ringlet reads here"
            );
        }
    }

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
