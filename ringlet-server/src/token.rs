//! The bearer token: 256 random bits, hex, in `<config>/http_token` (mode 0600), made on the
//! server's first start and replaced by `ringlet daemon rotate-token`.
//!
//! The server never keeps the token past a change of that file: [`TokenFile::verify`] looks at
//! the file's identity (device, inode, size, mtime) on every request, one `stat`, and reads it
//! again when it changed. A rotation is a rename of a new file over the old one, so the next
//! request after it is checked against the new token: the old one stops working at once, with
//! no signal to send and no watcher to trust. A missing or unreadable file refuses everything.
//! The comparison takes the same time wherever the tokens differ (`subtle`).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use subtle::ConstantTimeEq;

/// The token file's name in the config directory.
pub const TOKEN_FILE: &str = "http_token";

/// 32 bytes: 256 bits.
const TOKEN_BYTES: usize = 32;

/// What can go wrong with the token file. Its messages name the file, never the token.
#[derive(Debug)]
pub struct TokenError(String);

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TokenError {}

/// The token file of a config directory.
pub fn token_path(config_dir: &Path) -> PathBuf {
    config_dir.join(TOKEN_FILE)
}

fn new_token() -> Result<String, TokenError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|e| TokenError(format!("the system's random source failed: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Writes a new token to `path` through a 0600 temporary file renamed over it, so a reader sees
/// the old file or the new one, never a half-written one, and never a moment of looser mode.
fn write_new(path: &Path) -> Result<(), TokenError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| TokenError(format!("creating {}: {e}", dir.display())))?;
    let token = new_token()?;
    let tmp = dir.join(format!(".{TOKEN_FILE}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let write = || -> std::io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(token.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        TokenError(format!("writing {}: {e}", path.display()))
    })
}

/// Makes sure `path` holds a token: creates one when there is no file yet. Returns whether it
/// created one.
pub fn ensure(path: &Path) -> Result<bool, TokenError> {
    match read(path) {
        Ok(_) => Ok(false),
        Err(ReadError::Missing) => write_new(path).map(|()| true),
        Err(ReadError::Other(e)) => Err(e),
    }
}

/// Replaces the token: every request with the old one is refused from now on, by every server
/// using this file.
pub fn rotate(path: &Path) -> Result<(), TokenError> {
    write_new(path)
}

enum ReadError {
    Missing,
    Other(TokenError),
}

/// Reads the token, refusing a file others can read or write (a token is as good as a shell).
fn read(path: &Path) -> Result<String, ReadError> {
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ReadError::Missing),
        Err(e) => {
            return Err(ReadError::Other(TokenError(format!(
                "reading {}: {e}",
                path.display()
            ))));
        }
    };
    let meta = f
        .metadata()
        .map_err(|e| ReadError::Other(TokenError(format!("reading {}: {e}", path.display()))))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(ReadError::Other(TokenError(format!(
            "{} has mode {mode:03o}, so other users may read the server's token; run `chmod 600 {}` or `ringlet daemon rotate-token`",
            path.display(),
            path.display()
        ))));
    }
    let mut text = String::new();
    f.take(1024)
        .read_to_string(&mut text)
        .map_err(|e| ReadError::Other(TokenError(format!("reading {}: {e}", path.display()))))?;
    let token = text.trim();
    if token.len() < 32 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ReadError::Other(TokenError(format!(
            "{} does not hold a token (32 or more printable characters); run `ringlet daemon rotate-token`",
            path.display()
        ))));
    }
    Ok(token.to_string())
}

/// The identity of the file the token was read from: a rename over it changes the inode, an
/// edit in place the size or mtime, a chmod the ctime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: i64,
    mtime_nsec: i64,
    ctime: i64,
    ctime_nsec: i64,
}

impl Identity {
    fn of(meta: &std::fs::Metadata) -> Self {
        Self {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
            ctime: meta.ctime(),
            ctime_nsec: meta.ctime_nsec(),
        }
    }
}

/// The token file as a server checks requests against it.
#[derive(Debug)]
pub struct TokenFile {
    path: PathBuf,
    cached: Mutex<Option<(Identity, String)>>,
}

impl TokenFile {
    /// The token in `path` (see [`ensure`] to create it first).
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            cached: Mutex::new(None),
        }
    }

    /// Where the token is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether `presented` is the token the file holds now. `Err` when the file cannot be read
    /// (every request is refused then; the message is for the server's log).
    pub fn verify(&self, presented: &str) -> Result<bool, TokenError> {
        let meta = std::fs::metadata(&self.path).map_err(|e| {
            TokenError(format!(
                "{}: {e}; run `ringlet daemon rotate-token` to make one",
                self.path.display()
            ))
        })?;
        let id = Identity::of(&meta);
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = matches!(&*cached, Some((known, _)) if *known == id);
        if !fresh {
            *cached = None;
            let token = match read(&self.path) {
                Ok(t) => t,
                Err(ReadError::Missing) => {
                    return Err(TokenError(format!(
                        "{} is gone; run `ringlet daemon rotate-token` to make one",
                        self.path.display()
                    )));
                }
                Err(ReadError::Other(e)) => return Err(e),
            };
            *cached = Some((id, token));
        }
        let Some((_, token)) = &*cached else {
            return Ok(false);
        };
        Ok(token.as_bytes().ct_eq(presented.as_bytes()).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_in(path: &Path) -> String {
        std::fs::read_to_string(path)
            .expect("token")
            .trim()
            .to_string()
    }

    #[test]
    fn the_first_start_creates_a_private_256_bit_token_and_keeps_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = token_path(&dir.path().join("config"));
        assert!(ensure(&path).expect("created"));
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let token = token_in(&path);
        assert_eq!(token.len(), 64);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(!ensure(&path).expect("kept"));
        assert_eq!(token_in(&path), token);
    }

    #[test]
    fn rotation_invalidates_the_old_token_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = token_path(dir.path());
        ensure(&path).expect("created");
        let old = token_in(&path);
        let file = TokenFile::new(path.clone());
        assert!(file.verify(&old).expect("readable"));
        assert!(!file.verify("nope").expect("readable"));
        rotate(&path).expect("rotated");
        let new = token_in(&path);
        assert_ne!(old, new);
        assert!(!file.verify(&old).expect("readable"));
        assert!(file.verify(&new).expect("readable"));
    }

    #[test]
    fn a_readable_by_others_or_missing_file_refuses_everything() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = token_path(dir.path());
        ensure(&path).expect("created");
        let token = token_in(&path);
        let file = TokenFile::new(path.clone());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = file.verify(&token).expect_err("refused");
        assert!(err.to_string().contains("chmod 600"), "{err}");
        assert!(!err.to_string().contains(&token));
        std::fs::remove_file(&path).expect("rm");
        assert!(file.verify(&token).is_err());
    }
}
