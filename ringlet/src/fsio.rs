//! Small filesystem helpers: atomic writes with explicit modes, locked files, and permission
//! checks.

use std::fs::File;
use std::io::{Read, Write};
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
    loop {
        let tmp = dir.join(temp_name(file_name));
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

/// The next temp file name for `file_name`: `.<name>.tmp.<pid>.<n>`, unique within the
/// process (a counter) and among live processes (the pid).
fn temp_name(file_name: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!(".{file_name}.tmp.{}.{n}", std::process::id())
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

/// The error for a symbolic link met where ringlet writes without following links.
fn symlink_refused(path: &Path) -> Error {
    Error::InvalidInput(format!(
        "refusing to write through {}: it is a symbolic link, and ringlet never follows one inside a profile HOME (anything the agent runs can make one there, and following it would write agent settings outside the profile); replace it with a real directory or file",
        path.display()
    ))
}

/// `err` on `path`, or the symlink refusal when `path` is a link (the usual reason an
/// `O_NOFOLLOW` open fails).
fn refused_or_io(action: &'static str, path: &Path, err: std::io::Error) -> Error {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        symlink_refused(path)
    } else {
        Error::io(action, path, err)
    }
}

/// A directory that is written below without ever following a symbolic link, from the
/// directory itself down: the profile HOME, where whatever the agent runs can make links, so a
/// link must never send ringlet's writes (agent settings, hooks) elsewhere.
///
/// On Unix every step is relative to an open directory (`openat`, `mkdirat`, `renameat` with
/// `O_NOFOLLOW`), so a link swapped in while ringlet writes is refused too, not only one that
/// was there before. Elsewhere each component is checked with `symlink_metadata` just before
/// it is used.
#[derive(Debug)]
pub struct NoFollowDir {
    path: PathBuf,
    #[cfg(unix)]
    fd: std::os::fd::OwnedFd,
}

/// A file read through a [`NoFollowDir`].
#[derive(Debug)]
pub struct ExistingFile {
    /// Its content.
    pub bytes: Vec<u8>,
    /// Its permission bits (0 where there are none).
    pub mode: u32,
}

#[cfg(unix)]
impl NoFollowDir {
    /// Opens `path`, creating it (0700) and its parents when missing. Its ancestors may be links
    /// (a home under a linked /var, say); `path` itself may not.
    pub fn open_root(path: &Path) -> Result<Self> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io("creating", parent, e))?;
        }
        match std::fs::DirBuilder::new().mode(0o700).create(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(refused_or_io("creating", path, e)),
        }
        let dir = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc_flags::DIR_NOFOLLOW)
            .open(path)
            .map_err(|e| refused_or_io("opening", path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            fd: dir.into(),
        })
    }

    /// The directory `rel` below this one, each missing component created (0700) and none
    /// followed if it is a link. `rel` must be relative, without `..`.
    pub fn subdir(&self, rel: &Path) -> Result<Self> {
        use nix::errno::Errno;
        use nix::fcntl::{OFlag, openat};
        use nix::sys::stat::{Mode, mkdirat};
        use std::os::fd::AsFd;
        let mut path = self.path.clone();
        let mut current: Option<std::os::fd::OwnedFd> = None;
        for component in rel.components() {
            let std::path::Component::Normal(name) = component else {
                return Err(Error::InvalidInput(format!(
                    "{} must be a relative path inside {} without '..'",
                    rel.display(),
                    self.path.display()
                )));
            };
            path.push(name);
            let parent = current.as_ref().map_or(self.fd.as_fd(), |fd| fd.as_fd());
            match mkdirat(parent, name, Mode::from_bits_truncate(0o700)) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => return Err(refused_or_io("creating", &path, e.into())),
            }
            let next = openat(
                parent,
                name,
                OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| refused_or_io("opening", &path, e.into()))?;
            current = Some(next);
        }
        let fd = match current {
            Some(fd) => fd,
            None => self
                .fd
                .try_clone()
                .map_err(|e| Error::io("opening", &self.path, e))?,
        };
        Ok(Self { path, fd })
    }

    /// The file `name` in this directory, `None` when there is none. A link, or anything but
    /// a regular file (a FIFO would block the read), is refused.
    pub fn read(&self, name: &std::ffi::OsStr) -> Result<Option<ExistingFile>> {
        use nix::errno::Errno;
        use nix::fcntl::{OFlag, openat};
        use nix::sys::stat::Mode;
        use std::io::Read;
        use std::os::unix::fs::PermissionsExt;
        let path = self.path.join(name);
        let fd = match openat(
            &self.fd,
            name,
            OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return Ok(None),
            Err(e) => return Err(refused_or_io("reading", &path, e.into())),
        };
        let mut file = File::from(fd);
        let meta = file
            .metadata()
            .map_err(|e| Error::io("inspecting", &path, e))?;
        if !meta.is_file() {
            return Err(Error::InvalidInput(format!(
                "{} is not a regular file; remove it so ringlet can write the agent's file there",
                path.display()
            )));
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| Error::io("reading", &path, e))?;
        Ok(Some(ExistingFile {
            bytes,
            mode: meta.permissions().mode() & 0o777,
        }))
    }

    /// Replaces `name` in this directory atomically (a new temp file beside it, then a rename
    /// that replaces the entry itself, never a link's target), with exactly `mode`, without
    /// fsync (see [`write_atomic_volatile`]).
    pub fn write_atomic_volatile(
        &self,
        name: &std::ffi::OsStr,
        bytes: &[u8],
        mode: u32,
    ) -> Result<()> {
        use nix::errno::Errno;
        use nix::fcntl::{OFlag, openat, renameat};
        use nix::sys::stat::Mode;
        use nix::unistd::{UnlinkatFlags, unlinkat};
        use std::os::unix::fs::PermissionsExt;
        let path = self.path.join(name);
        let (tmp, fd) = loop {
            let tmp = temp_name(&name.to_string_lossy());
            match openat(
                &self.fd,
                tmp.as_str(),
                OFlag::O_WRONLY
                    | OFlag::O_CREAT
                    | OFlag::O_EXCL
                    | OFlag::O_NOFOLLOW
                    | OFlag::O_CLOEXEC,
                Mode::from_bits_truncate(mode),
            ) {
                Ok(fd) => break (tmp, fd),
                Err(Errno::EEXIST) => continue,
                Err(e) => return Err(Error::io("creating", self.path.join(tmp), e.into())),
            }
        };
        let tmp_path = self.path.join(&tmp);
        let mut file = File::from(fd);
        let result = (|| {
            // The mode given to open() is filtered by the umask; set it exactly.
            file.set_permissions(std::fs::Permissions::from_mode(mode))
                .map_err(|e| Error::io("setting permissions of", &tmp_path, e))?;
            file.write_all(bytes)
                .map_err(|e| Error::io("writing", &tmp_path, e))?;
            renameat(&self.fd, tmp.as_str(), &self.fd, name)
                .map_err(|e| Error::io("replacing", &path, e.into()))
        })();
        if result.is_err() {
            let _ = unlinkat(&self.fd, tmp.as_str(), UnlinkatFlags::NoRemoveDir);
        }
        result
    }
}

/// `open(2)` flags std has no names for.
#[cfg(unix)]
mod libc_flags {
    /// A directory, and not through a link.
    pub(super) const DIR_NOFOLLOW: i32 =
        nix::fcntl::OFlag::O_DIRECTORY.bits() | nix::fcntl::OFlag::O_NOFOLLOW.bits();
}

#[cfg(not(unix))]
impl NoFollowDir {
    /// Opens `path`, creating it and its parents when missing; `path` itself may not be a
    /// link.
    pub fn open_root(path: &Path) -> Result<Self> {
        std::fs::create_dir_all(path).map_err(|e| refused_or_io("creating", path, e))?;
        refuse_link(path)?;
        Ok(Self {
            path: path.to_path_buf(),
        })
    }

    /// The directory `rel` below this one, each missing component created and none that is a
    /// link used.
    pub fn subdir(&self, rel: &Path) -> Result<Self> {
        let mut path = self.path.clone();
        for component in rel.components() {
            let std::path::Component::Normal(name) = component else {
                return Err(Error::InvalidInput(format!(
                    "{} must be a relative path inside {} without '..'",
                    rel.display(),
                    self.path.display()
                )));
            };
            path.push(name);
            refuse_link(&path)?;
            match std::fs::create_dir(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(Error::io("creating", &path, e)),
            }
            refuse_link(&path)?;
        }
        Ok(Self { path })
    }

    /// The file `name` in this directory, `None` when there is none; a link is refused.
    pub fn read(&self, name: &std::ffi::OsStr) -> Result<Option<ExistingFile>> {
        let path = self.path.join(name);
        refuse_link(&path)?;
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(ExistingFile { bytes, mode: 0 })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("reading", &path, e)),
        }
    }

    /// Replaces `name` in this directory atomically, without fsync.
    pub fn write_atomic_volatile(
        &self,
        name: &std::ffi::OsStr,
        bytes: &[u8],
        mode: u32,
    ) -> Result<()> {
        let path = self.path.join(name);
        refuse_link(&self.path)?;
        write_atomic_volatile(&path, bytes, Some(mode))
    }
}

#[cfg(not(unix))]
fn refuse_link(path: &Path) -> Result<()> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(symlink_refused(path));
    }
    Ok(())
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
