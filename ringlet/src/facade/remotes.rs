//! Named remotes: ringlet servers this machine attaches to (`ringlet remotes`, docs/remote.md).
//!
//! A remote's name and URL are in `config.toml` (`[remotes.NAME] url = "…"`), edited in place
//! so the user's comments and layout survive; its token is in the credential store under
//! `ringlet-remote/NAME` (the OS keychain by default), never in a plain file.

use serde::Serialize;

use super::Ringlet;
use crate::alias::validate_alias;
use crate::config::Config;
use crate::credentials::{CredentialKey, Secret};
use crate::error::{Error, Result};

/// The credential-store "provider" remote tokens are kept under (`ringlet-remote/NAME`).
pub const REMOTE_TOKEN_PROVIDER: &str = "ringlet-remote";

/// A remote ringlet server, as configured (its token is never part of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Remote {
    /// Its name.
    pub name: String,
    /// Its base URL.
    pub url: String,
}

fn token_key(name: &str) -> CredentialKey {
    CredentialKey::new(REMOTE_TOKEN_PROVIDER, name)
}

impl Ringlet {
    /// Adds the remote `name` at `url` with its server's token (kept in the credential store).
    /// An existing remote of that name is replaced only with `replace`. Nothing is written
    /// when any part is refused.
    pub fn add_remote(
        &self,
        name: &str,
        url: &str,
        token: &Secret,
        replace: bool,
    ) -> Result<Remote> {
        validate_alias(name)?;
        let url = crate::base_url::parse(url)
            .map_err(|why| Error::InvalidInput(format!("the remote's URL {why}")))?;
        if token.is_empty() {
            return Err(Error::InvalidInput(
                "the remote's token is empty; it is in the server's <config>/http_token".into(),
            ));
        }
        let _lock = self.remotes_lock()?;
        let mut doc = self.config_document()?;
        let exists = doc.get("remotes").and_then(|r| r.get(name)).is_some();
        if exists && !replace {
            return Err(Error::RemoteExists {
                name: name.to_string(),
            });
        }
        // The token first: should the config write fail, a stored token names no remote and
        // is overwritten by the next `add`; the other way round a remote would have no token.
        self.credentials().set(&token_key(name), token)?;
        let remotes = doc
            .entry("remotes")
            .or_insert_with(|| {
                let mut t = toml_edit::Table::new();
                t.set_implicit(true);
                toml_edit::Item::Table(t)
            })
            .as_table_mut()
            .ok_or_else(|| self.config_error("`remotes` is not a table"))?;
        let mut entry = toml_edit::Table::new();
        entry.insert("url", toml_edit::value(url.clone()));
        remotes.insert(name, toml_edit::Item::Table(entry));
        self.write_config_document(&doc)?;
        Ok(Remote {
            name: name.to_string(),
            url,
        })
    }

    /// Every configured remote, by name.
    pub fn remotes(&self) -> Result<Vec<Remote>> {
        Ok(Config::load(self.paths())?
            .remotes
            .into_iter()
            .map(|(name, r)| Remote { name, url: r.url })
            .collect())
    }

    /// One configured remote.
    pub fn remote(&self, name: &str) -> Result<Remote> {
        self.remotes()?
            .into_iter()
            .find(|r| r.name == name)
            .ok_or_else(|| Error::RemoteNotFound {
                name: name.to_string(),
            })
    }

    /// The token of a configured remote, from the credential store.
    pub fn remote_token(&self, name: &str) -> Result<Secret> {
        self.remote(name)?;
        self.credentials()
            .get(&token_key(name))?
            .ok_or_else(|| Error::KeyNotFound {
                provider: REMOTE_TOKEN_PROVIDER.into(),
                alias: name.to_string(),
                backend: self.credentials().backend().to_string(),
            })
    }

    /// Removes a remote and its token; answers what was removed.
    pub fn remove_remote(&self, name: &str) -> Result<Remote> {
        let _lock = self.remotes_lock()?;
        let removed = self.remote(name)?;
        let mut doc = self.config_document()?;
        if let Some(remotes) = doc.get_mut("remotes").and_then(|r| r.as_table_like_mut()) {
            remotes.remove(name);
            if remotes.is_empty() {
                doc.remove("remotes");
            }
        }
        self.write_config_document(&doc)?;
        // Gone from the config first: a token left behind (a keychain refusing the delete)
        // names no remote.
        self.credentials().delete(&token_key(name))?;
        Ok(removed)
    }

    pub(super) fn remotes_lock(&self) -> Result<std::fs::File> {
        let dir = self.paths().config_dir();
        std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
        crate::fsio::open_locked(&dir.join(".config.lock"))
    }

    /// `config.toml` as an editable document (empty when there is none).
    pub(super) fn config_document(&self) -> Result<toml_edit::DocumentMut> {
        let path = self.paths().config_file();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io("reading", &path, e)),
        };
        // The whole file must be a valid config first: an edit never hides a broken one.
        toml::from_str::<Config>(&text).map_err(|e| Error::toml(&path, &text, &e))?;
        let doc = text
            .parse::<toml_edit::DocumentMut>()
            .map_err(|e| self.config_error(&e.to_string()))?;
        Ok(doc)
    }

    pub(super) fn config_error(&self, message: &str) -> Error {
        Error::Parse {
            path: self.paths().config_file(),
            line: None,
            message: message.to_string(),
        }
    }

    pub(super) fn write_config_document(&self, doc: &toml_edit::DocumentMut) -> Result<()> {
        let text = doc.to_string();
        let path = self.paths().config_file();
        // What is written must load again, or the next start would fail on it.
        toml::from_str::<Config>(&text).map_err(|e| Error::toml(&path, &text, &e))?;
        crate::fsio::write_atomic(&path, text.as_bytes(), Some(0o644))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::{MemoryCredentialStore, Ringlet, Secret};

    fn ringlet(dir: &std::path::Path) -> Ringlet {
        Ringlet::builder()
            .home(dir)
            .credential_store(Arc::new(MemoryCredentialStore::default()))
            .build()
            .expect("build")
    }

    #[test]
    fn remotes_keep_their_url_in_config_and_their_token_in_the_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = ringlet(dir.path());
        let config = r.paths().config_file();
        std::fs::create_dir_all(config.parent().expect("dir")).expect("mkdir");
        std::fs::write(
            &config,
            "# mine\n[credentials]\nbackend = \"system\" # keep\n",
        )
        .expect("write");
        let token = Secret::new("t0k3n-abc");
        let added = r
            .add_remote("box", "HTTP://Box.Example:8765/", &token, false)
            .expect("add");
        assert_eq!(added.url, "http://box.example:8765/");
        let text = std::fs::read_to_string(&config).expect("read");
        assert!(text.contains("# mine") && text.contains("# keep"), "{text}");
        assert!(text.contains("[remotes.box]"), "{text}");
        assert!(
            !text.contains("t0k3n"),
            "the token is not in config.toml: {text}"
        );
        assert_eq!(r.remote_token("box").expect("token").expose(), "t0k3n-abc");
        assert_eq!(r.remotes().expect("list"), vec![added.clone()]);

        let err = r
            .add_remote("box", "http://other:1", &token, false)
            .expect_err("taken");
        assert_eq!(err.code(), "remote_exists");
        assert_eq!(r.remote("box").expect("kept").url, added.url);
        r.add_remote("box", "http://other:1", &Secret::new("new"), true)
            .expect("replace");
        assert_eq!(r.remote_token("box").expect("token").expose(), "new");

        for (name, url, token, code) in [
            ("bad name", "http://x:1", "t", "invalid_alias"),
            ("ok", "ftp://x", "t", "invalid_input"),
            ("ok", "http://x:1", "", "invalid_input"),
        ] {
            let err = r
                .add_remote(name, url, &Secret::new(token), false)
                .expect_err("refused");
            assert_eq!(err.code(), code, "{name} {url}");
        }
        assert_eq!(r.remotes().expect("list").len(), 1, "nothing half-written");

        let removed = r.remove_remote("box").expect("remove");
        assert_eq!(removed.name, "box");
        assert!(r.remotes().expect("list").is_empty());
        assert_eq!(
            r.remote_token("box").expect_err("gone").code(),
            "remote_not_found"
        );
        assert_eq!(
            r.remove_remote("box").expect_err("gone").code(),
            "remote_not_found"
        );
        let text = std::fs::read_to_string(&config).expect("read");
        assert!(!text.contains("remotes"), "{text}");
        assert!(text.contains("# keep"), "{text}");
    }
}
