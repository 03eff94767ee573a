//! The facade's profile methods: create (resolving a request against the catalogue), list,
//! read and delete.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::{Event, Ringlet};
use crate::alias::validate_alias;
use crate::catalog::wire::WireShape;
use crate::credentials::{CredentialKey, Secret};
use crate::error::{Error, Result};
use crate::launch::script_cache::ScriptCache;
use crate::profile::{BrokenKind, Profile, ProfileMetadata};

/// A request to create a profile. Only agent, alias and provider are required.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NewProfile {
    /// The agent id.
    pub agent: String,
    /// The new profile's alias.
    pub alias: String,
    /// The provider id.
    pub provider: String,
    /// A named endpoint of the provider.
    pub endpoint: Option<String>,
    /// A base URL overriding the provider's (required for `custom`).
    pub custom_endpoint: Option<String>,
    /// The wire shape of the custom endpoint: `anthropic`, `openai`, `openai-chat`,
    /// `openai-responses` or `gemini`.
    pub shape: Option<String>,
    /// The model; the provider's default when unset.
    pub model: Option<String>,
    /// The key alias; the profile alias when unset.
    pub key_alias: Option<String>,
    /// Extra environment variables.
    pub env: BTreeMap<String, String>,
    /// The directory the agent starts in.
    pub working_dir: Option<PathBuf>,
    /// A binary overriding the agent manifest's.
    pub binary: Option<PathBuf>,
    /// Default arguments.
    pub args: Vec<String>,
}

impl NewProfile {
    /// A request with the three required fields.
    pub fn new(
        agent: impl Into<String>,
        alias: impl Into<String>,
        provider: impl Into<String>,
    ) -> Self {
        Self {
            agent: agent.into(),
            alias: alias.into(),
            provider: provider.into(),
            ..Self::default()
        }
    }

    /// Sets the model.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Sets a custom base URL.
    pub fn custom_endpoint(mut self, url: impl Into<String>) -> Self {
        self.custom_endpoint = Some(url.into());
        self
    }

    /// Sets the key alias.
    pub fn key_alias(mut self, alias: impl Into<String>) -> Self {
        self.key_alias = Some(alias.into());
        self
    }

    /// Sets the binary.
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }
}

impl Ringlet {
    /// Every readable profile, sorted by alias. A profile that cannot be read never hides the
    /// others: it is left out and reported in [`warnings`](Self::warnings) by file and line
    /// (code `profile_unreadable`, or `profile_incomplete` for a directory without its
    /// profile.toml); asking for it by name ([`profile`](Self::profile), [`run`](Self::run))
    /// is the error.
    pub fn profiles(&self) -> Result<Vec<Profile>> {
        let listing = self.inner.profiles.list()?;
        for broken in &listing.broken {
            let code = match broken.kind {
                BrokenKind::Unreadable => "profile_unreadable",
                BrokenKind::Incomplete => "profile_incomplete",
            };
            self.inner.warnings.push(
                code,
                format!("profile '{}' skipped: {}", broken.alias, broken.message),
            );
        }
        Ok(listing.profiles)
    }

    /// One profile.
    pub fn profile(&self, alias: &str) -> Result<Profile> {
        self.inner.profiles.get(alias)
    }

    /// The profile's HOME directory.
    pub fn profile_home(&self, alias: &str) -> Result<PathBuf> {
        validate_alias(alias)?;
        Ok(self.inner.profiles.home_dir(alias))
    }

    /// Validates a request and turns it into the profile it would create, without writing
    /// anything.
    pub fn resolve_profile(&self, req: &NewProfile) -> Result<Profile> {
        validate_alias(&req.alias)?;
        let reg = self.registry();
        let agent = reg.agent(&req.agent)?;
        let provider = reg.provider(&req.provider)?;
        let pm = provider.manifest();

        let endpoint = if pm.endpoints.is_empty() {
            if let Some(e) = &req.endpoint {
                return Err(Error::UnknownEndpoint {
                    provider: pm.id.clone(),
                    endpoint: e.escape_debug().to_string(),
                    known: "none (use --custom-endpoint URL)".into(),
                });
            }
            None
        } else {
            let name = req
                .endpoint
                .clone()
                .or_else(|| provider.default_endpoint().map(str::to_string))
                .unwrap_or_default();
            if !pm.endpoints.contains_key(&name) {
                return Err(Error::UnknownEndpoint {
                    provider: pm.id.clone(),
                    endpoint: name.escape_debug().to_string(),
                    known: pm.endpoints.keys().cloned().collect::<Vec<_>>().join(", "),
                });
            }
            Some(name)
        };

        let custom = req
            .custom_endpoint
            .as_deref()
            .map(|url| {
                crate::base_url::parse(url)
                    .map_err(|why| Error::InvalidInput(format!("--custom-endpoint {why}")))
            })
            .transpose()?;
        let custom = custom.as_deref();
        if custom.is_none() && endpoint.is_none() {
            return Err(Error::InvalidInput(format!(
                "provider '{}' has no built-in endpoint; give one with --custom-endpoint URL",
                pm.id
            )));
        }
        if req.shape.is_some() && custom.is_none() {
            return Err(Error::InvalidInput(
                "--shape describes a --custom-endpoint; give the URL too".into(),
            ));
        }
        let served = match (&req.shape, custom, &endpoint) {
            (Some(shape), _, _) => WireShape::parse_family(shape)?,
            (None, Some(_), Some(name)) => provider.shapes(Some(name)),
            (None, Some(_), None) => agent.speaks().to_vec(),
            (None, None, name) => provider.shapes(name.as_deref()),
        };
        let shape = reg.negotiate(agent.as_ref(), provider.as_ref(), &served)?;

        // A model name is an identifier that ends up in terminals and the agent's files.
        if let Some(m) = req
            .model
            .as_deref()
            .filter(|m| m.chars().any(char::is_control))
        {
            return Err(Error::InvalidInput(format!(
                "--model '{}' holds a control character; give the model's id, such as claude-sonnet-4-5",
                m.escape_debug()
            )));
        }
        let model = req
            .model
            .clone()
            .filter(|m| !m.trim().is_empty())
            .or_else(|| pm.models.default.clone());
        if model.is_none() {
            return Err(Error::InvalidInput(format!(
                "provider '{}' has no default model; pass --model",
                pm.id
            )));
        }

        let key_alias = match (&req.key_alias, pm.auth.required) {
            (Some(k), _) => Some(k.clone()),
            (None, true) => Some(req.alias.clone()),
            (None, false) => None,
        };
        if let Some(k) = &key_alias {
            validate_alias(k).map_err(|_| {
                Error::InvalidInput(format!(
                    "invalid key alias '{}'; use letters, digits, '-', '_' or '.'",
                    crate::error::shown(&k.escape_debug().to_string())
                ))
            })?;
        }
        for name in req.env.keys() {
            if name.is_empty() || name.contains('=') || name.contains('\0') || name == "HOME" {
                return Err(Error::InvalidInput(format!(
                    "invalid --env name '{}': it must be non-empty, without '=' and not HOME",
                    crate::error::shown(&name.escape_debug().to_string())
                )));
            }
        }
        let working_dir = match &req.working_dir {
            Some(dir) => {
                let abs = std::path::absolute(dir).map_err(|e| Error::io("resolving", dir, e))?;
                if !abs.is_dir() {
                    return Err(Error::InvalidInput(format!(
                        "--working-dir {} is not a directory",
                        abs.display()
                    )));
                }
                Some(abs)
            }
            None => None,
        };
        let binary = match &req.binary {
            Some(b) if b.components().count() > 1 => {
                // A path that does not exist yet is accepted (the agent may be installed
                // later); one that exists must be a program.
                if let Some(why) = crate::catalog::agent::not_a_program(b) {
                    return Err(Error::InvalidInput(format!("--binary {why}")));
                }
                Some(std::path::absolute(b).map_err(|e| Error::io("resolving", b, e))?)
            }
            other => other.clone(),
        };

        Ok(Profile {
            alias: req.alias.clone(),
            agent: agent.id().to_string(),
            provider: pm.id.clone(),
            endpoint,
            endpoint_url: custom.map(|u| shape.normalise_base_url(u)),
            shape,
            model,
            key_alias,
            binary,
            working_dir,
            args: req.args.clone(),
            env: req.env.clone(),
            sandbox: Default::default(),
            metadata: ProfileMetadata {
                created_at: Utc::now(),
                last_used: None,
                total_runs: 0,
            },
        })
    }

    /// The directory a run of `profile` starts in: its working dir, else the caller's. A missing
    /// one is an error saying so, rather than the agent's start failing with "No such file or
    /// directory" as if the binary were missing.
    pub(super) fn run_dir(&self, profile: &Profile) -> Result<PathBuf> {
        match &profile.working_dir {
            Some(dir) if dir.is_dir() => Ok(dir.clone()),
            Some(dir) => Err(Error::InvalidInput(format!(
                "the working directory of profile '{}', {}, does not exist (any more); create it again, or recreate the profile with another --working-dir",
                profile.alias,
                dir.display()
            ))),
            None => std::env::current_dir().map_err(|e| {
                Error::InvalidInput(format!(
                    "the current directory cannot be read ({e}); it was probably removed: cd to an existing directory and run again"
                ))
            }),
        }
    }

    /// The credential a profile request would use, when it needs one that is not stored yet.
    /// Frontends call this to decide whether to ask for a key.
    pub fn missing_key(&self, req: &NewProfile) -> Result<Option<CredentialKey>> {
        let profile = self.resolve_profile(req)?;
        let Some(alias) = profile.key_alias else {
            return Ok(None);
        };
        let key = CredentialKey::new(profile.provider, alias);
        Ok(match self.credentials().get(&key)? {
            Some(_) => None,
            None => Some(key),
        })
    }

    /// Creates a profile. A `key` given here is stored under the profile's key alias first; a
    /// different key already stored there is not overwritten.
    pub fn create_profile(&self, req: &NewProfile, key: Option<&Secret>) -> Result<Profile> {
        let profile = self.resolve_profile(req)?;
        if self.inner.profiles.exists(&profile.alias)? {
            return Err(Error::ProfileExists {
                alias: profile.alias,
            });
        }
        if let (Some(key), Some(alias)) = (key, &profile.key_alias) {
            if key.is_empty() {
                return Err(Error::InvalidInput("the API key given is empty".into()));
            }
            let name = CredentialKey::new(profile.provider.clone(), alias.clone());
            match self.credentials().get_for(&name, Some(&profile.alias))? {
                Some(existing) if existing != *key => {
                    return Err(Error::KeyAliasTaken {
                        provider: name.provider,
                        alias: name.alias,
                    });
                }
                Some(_) => {}
                None => self.credentials().set(&name, key)?,
            }
        }
        self.inner.profiles.create(&profile)?;
        self.emit(Event::ProfileCreated {
            alias: profile.alias.clone(),
        });
        Ok(profile)
    }

    /// Whether a profile exists, even one whose manifest is unreadable (so it can be deleted).
    pub fn has_profile(&self, alias: &str) -> Result<bool> {
        self.inner.profiles.exists(alias)
    }

    /// Deletes a profile and its HOME.
    pub fn delete_profile(&self, alias: &str) -> Result<()> {
        self.inner.profiles.delete(alias)?;
        ScriptCache::new(self.paths().cache_dir()).remove(alias);
        self.emit(Event::ProfileDeleted {
            alias: alias.to_string(),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::MemoryCredentialStore;
    use std::sync::Arc;

    pub(super) fn ringlet(dir: &std::path::Path) -> Ringlet {
        Ringlet::builder()
            .home(dir)
            .credential_store(Arc::new(MemoryCredentialStore::default()))
            .build()
            .expect("build")
    }

    #[test]
    fn an_unreadable_profile_is_skipped_with_a_warning_and_an_error_only_by_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ringlet = ringlet(dir.path());
        for alias in ["good", "broken"] {
            ringlet
                .create_profile(&NewProfile::new("codex", alias, "ollama"), None)
                .expect("create");
        }
        let manifest = ringlet
            .profile_home("broken")
            .expect("home")
            .with_file_name("profile.toml");
        std::fs::write(&manifest, "alias = \"broken\"\n\nagent = 3 4\n").expect("corrupt");

        let aliases: Vec<_> = ringlet
            .profiles()
            .expect("the healthy profiles are listed")
            .into_iter()
            .map(|p| p.alias)
            .collect();
        assert_eq!(aliases, ["good"]);
        let warnings = ringlet.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].code, "profile_unreadable");
        let expected = format!("{}:3:", manifest.display());
        assert!(warnings[0].message.contains(&expected), "{warnings:?}");

        // Counts leave it out; the same warning is not repeated.
        let codex = ringlet.agent("codex").expect("codex");
        assert_eq!(codex.profiles, 1);
        assert_eq!(
            ringlet
                .providers()
                .iter()
                .find(|p| p.id == "ollama")
                .expect("ollama")
                .profiles,
            1
        );
        assert_eq!(ringlet.warnings().len(), 1);

        let err = ringlet.profile("broken").expect_err("asked by name");
        assert!(err.to_string().contains(&expected), "{err}");
        assert!(ringlet.plan_run("broken", &[]).is_err());
    }

    /// A run and a delete of the same profile started together, 200 times at staggered
    /// offsets: whichever wins, the alias never ends up as a directory without profile.toml
    /// (which `create` called taken while `run` and `delete` called missing), and a run that
    /// started its agent reports the agent's exit code, whatever the bookkeeping met after.
    #[test]
    fn a_delete_racing_a_run_never_wedges_the_alias() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ringlet = ringlet(dir.path());
        let req = NewProfile::new("codex", "racy", "ollama").binary("/bin/true");
        let profile_dir = ringlet
            .profile_home("racy")
            .expect("home")
            .with_file_name("");
        let (mut ran, mut refused) = (0, 0);
        for i in 0..200u64 {
            ringlet
                .create_profile(&req, None)
                .expect("the alias is free again");
            let start = std::sync::Barrier::new(2);
            let (run, deleted) = std::thread::scope(|s| {
                let run = s.spawn(|| {
                    start.wait();
                    ringlet.run("racy", &[], crate::launch::RunOptions::embedded())
                });
                let deleted = s.spawn(|| {
                    start.wait();
                    std::thread::sleep(std::time::Duration::from_micros((i % 40) * 50));
                    ringlet.delete_profile("racy")
                });
                (
                    run.join().expect("run thread"),
                    deleted.join().expect("delete thread"),
                )
            });
            deleted.expect("the delete always succeeds");
            match run {
                Ok(outcome) => {
                    assert_eq!(outcome.exit_code, 0, "iteration {i}");
                    ran += 1;
                }
                Err(Error::ProfileNotFound { .. }) => refused += 1,
                Err(e) => panic!("iteration {i}: a run that lost the race says so, not: {e}"),
            }
            assert!(
                !profile_dir.exists(),
                "iteration {i}: the run left {} behind: {:?}",
                profile_dir.display(),
                std::fs::read_dir(&profile_dir).map(|d| d.count())
            );
        }
        // Both outcomes happened, or the test raced nothing.
        assert!(ran > 0 && refused > 0, "ran {ran}, refused {refused}");
    }

    /// Bookkeeping after the agent has started (here: the run cannot be counted, as when the
    /// profile was deleted meanwhile) is a warning; the run still reports the agent's exit code.
    #[test]
    fn bookkeeping_never_replaces_the_agents_exit_code() {
        use crate::profile::{FileProfileStore, ProfileHold, ProfileListing, ProfileStore};
        use std::os::unix::fs::PermissionsExt;

        #[derive(Debug)]
        struct CannotCount(FileProfileStore);
        impl ProfileStore for CannotCount {
            fn list(&self) -> Result<ProfileListing> {
                self.0.list()
            }
            fn get(&self, alias: &str) -> Result<Profile> {
                self.0.get(alias)
            }
            fn exists(&self, alias: &str) -> Result<bool> {
                self.0.exists(alias)
            }
            fn create(&self, profile: &Profile) -> Result<()> {
                self.0.create(profile)
            }
            fn update(&self, profile: &Profile) -> Result<()> {
                self.0.update(profile)
            }
            fn delete(&self, alias: &str) -> Result<()> {
                self.0.delete(alias)
            }
            fn hold(&self, alias: &str) -> Result<ProfileHold> {
                self.0.hold(alias)
            }
            fn record_run(&self, alias: &str, _: chrono::DateTime<Utc>) -> Result<()> {
                Err(Error::ProfileNotFound {
                    alias: alias.to_string(),
                })
            }
            fn profile_dir(&self, alias: &str) -> PathBuf {
                self.0.profile_dir(alias)
            }
        }

        let dir = tempfile::tempdir().expect("tempdir");
        let agent = dir.path().join("agent.sh");
        std::fs::write(&agent, "#!/bin/sh\nexit 7\n").expect("agent");
        std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let paths = crate::paths::Paths::under(dir.path());
        let store = CannotCount(FileProfileStore::new(paths.profiles_dir()));
        let ringlet = Ringlet::builder()
            .paths(paths)
            .credential_store(Arc::new(
                crate::credentials::MemoryCredentialStore::default(),
            ))
            .profile_store(Arc::new(store))
            .build()
            .expect("build");
        ringlet
            .create_profile(
                &NewProfile::new("codex", "w", "ollama").binary(&agent),
                None,
            )
            .expect("create");
        let outcome = ringlet
            .run("w", &[], crate::launch::RunOptions::embedded())
            .expect("the run itself succeeded");
        assert_eq!(outcome.exit_code, 7);
        let warnings = ringlet.warnings();
        assert!(
            warnings
                .iter()
                .any(|w| w.code == "run_not_counted" && w.message.contains("'w' not found")),
            "{warnings:?}"
        );
    }
}
