//! The facade's profile methods: create (resolving a request against the catalogue), list,
//! read, update and delete.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::{Event, Ringlet};
use crate::alias::validate_alias;
use crate::catalog::wire::WireShape;
use crate::credentials::{CredentialKey, Secret};
use crate::error::{Error, Result};
use crate::error_kind::Field;
use crate::launch::sandbox::SandboxMode;
use crate::profile::{BrokenKind, Budget, Profile, ProfileMetadata, ProxyMode};

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
    /// Whether runs go through the ringlet proxy (docs/proxy.md).
    pub proxy: ProxyMode,
    /// What the proxy lets the profile spend per day and month.
    pub budget: Budget,
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

/// Changes to an existing profile, for [`Ringlet::update_profile`]. What is left unset keeps
/// the profile's value; everything given is checked as at creation, and the profile is
/// rewritten only when all of it is valid.
///
/// ```
/// use ringlet::{ProfileUpdate, SandboxMode};
/// let change = ProfileUpdate::new()
///     .sandbox(SandboxMode::Always)
///     .model("claude-opus-4-1")
///     .set_env("NO_COLOR", "1")
///     .unset_env("DEBUG");
/// assert!(!change.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ProfileUpdate {
    /// When runs are sandboxed: `off`, `always` or `remote`.
    pub sandbox: Option<SandboxMode>,
    /// The model; an empty one means the provider's default.
    pub model: Option<String>,
    /// A named endpoint of the provider. It replaces a custom base URL unless
    /// [`custom_endpoint`](Self::custom_endpoint) is given too.
    pub endpoint: Option<String>,
    /// A base URL overriding the endpoint's (as `--custom-endpoint` at creation).
    pub custom_endpoint: Option<String>,
    /// The wire shape the custom base URL serves: `anthropic`, `openai`, `openai-chat`,
    /// `openai-responses` or `gemini`.
    pub shape: Option<String>,
    /// Environment variables to add or replace.
    pub set_env: BTreeMap<String, String>,
    /// Environment variables to remove; each must be set in the profile.
    pub unset_env: Vec<String>,
    /// New default arguments, replacing the old ones (empty: none).
    pub args: Option<Vec<String>>,
    /// The directory the agent starts in.
    pub working_dir: Option<PathBuf>,
    /// Start the agent in the caller's directory again (forget the working dir).
    pub clear_working_dir: bool,
    /// A binary overriding the agent manifest's.
    pub binary: Option<PathBuf>,
    /// Run the agent manifest's binary again (forget the override).
    pub clear_binary: bool,
    /// Whether runs go through the ringlet proxy: `on` or `off`.
    pub proxy: Option<ProxyMode>,
    /// The day budget in dollars (docs/proxy.md).
    pub budget_day: Option<f64>,
    /// The month budget in dollars.
    pub budget_month: Option<f64>,
    /// Remove both budgets (before `budget_day`/`budget_month` apply).
    pub clear_budget: bool,
}

impl ProfileUpdate {
    /// An update that changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Sets when runs are sandboxed.
    pub fn sandbox(mut self, mode: SandboxMode) -> Self {
        self.sandbox = Some(mode);
        self
    }

    /// Turns the ringlet proxy on or off for the profile's runs.
    pub fn proxy(mut self, mode: ProxyMode) -> Self {
        self.proxy = Some(mode);
        self
    }

    /// Sets the day and month budgets (dollars; `None` keeps that one).
    pub fn budget(mut self, day: Option<f64>, month: Option<f64>) -> Self {
        self.budget_day = day;
        self.budget_month = month;
        self
    }

    /// Sets when runs are sandboxed by the mode's name (`off`, `always` or `remote`), as a
    /// frontend receives it; another name is [`Error::InvalidInput`] listing the three.
    pub fn sandbox_named(self, name: &str) -> Result<Self> {
        match SandboxMode::from_name(name) {
            Some(mode) => Ok(self.sandbox(mode)),
            None => Err(Error::invalid_field(
                Field::Sandbox,
                format!(
                    "sandbox '{}' is not one of: off, always, remote",
                    crate::error::shown(&name.escape_debug().to_string())
                ),
            )),
        }
    }

    /// Sets the model (empty: the provider's default).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Switches to a named endpoint of the provider.
    pub fn endpoint(mut self, name: impl Into<String>) -> Self {
        self.endpoint = Some(name.into());
        self
    }

    /// Sets a custom base URL.
    pub fn custom_endpoint(mut self, url: impl Into<String>) -> Self {
        self.custom_endpoint = Some(url.into());
        self
    }

    /// Sets the wire shape of the custom base URL.
    pub fn shape(mut self, shape: impl Into<String>) -> Self {
        self.shape = Some(shape.into());
        self
    }

    /// Adds or replaces an environment variable.
    pub fn set_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.set_env.insert(name.into(), value.into());
        self
    }

    /// Removes an environment variable.
    pub fn unset_env(mut self, name: impl Into<String>) -> Self {
        self.unset_env.push(name.into());
        self
    }

    /// Replaces the default arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args = Some(args.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the directory the agent starts in.
    pub fn working_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.working_dir = Some(dir.into());
        self
    }

    /// Forgets the working dir: the agent starts wherever it is run from.
    pub fn clear_working_dir(mut self) -> Self {
        self.clear_working_dir = true;
        self
    }

    /// Sets the binary.
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }

    /// Forgets the binary override.
    pub fn clear_binary(mut self) -> Self {
        self.clear_binary = true;
        self
    }
}

/// Where a profile sends its requests (see [`Ringlet::resolve_route`]).
struct Route {
    endpoint: Option<String>,
    endpoint_url: Option<String>,
    shape: WireShape,
}

/// The model a profile pins: the one given, else (unset or blank) the provider's default.
fn resolve_model(
    model: Option<&str>,
    provider: &dyn crate::catalog::provider::Provider,
) -> Result<Option<String>> {
    // A model name is an identifier that ends up in terminals and the agent's files.
    if let Some(m) = model.filter(|m| m.chars().any(char::is_control)) {
        return Err(Error::invalid_field(
            Field::Model,
            format!(
                "model '{}' holds a control character; give the model's id, such as claude-sonnet-4-5",
                crate::error::shown(&m.escape_debug().to_string())
            ),
        ));
    }
    let pm = provider.manifest();
    let model = model
        .filter(|m| !m.trim().is_empty())
        .map(str::to_string)
        .or_else(|| pm.models.default.clone());
    if model.is_none() {
        return Err(Error::missing_field(
            Field::Model,
            format!("provider '{}' has no default model", pm.id),
        ));
    }
    Ok(model)
}

/// A variable name the agent's environment can hold, and not HOME (the profile's own); `field`
/// is where it was given (a new profile's `env`, an update's `set_env`).
fn validate_env_name(name: &str, field: Field) -> Result<()> {
    if name.is_empty() || name.contains('=') || name.contains('\0') || name == "HOME" {
        return Err(Error::invalid_field(
            field,
            format!(
                "invalid environment variable name '{}': it must be non-empty, without '=' and not HOME",
                crate::error::shown(&name.escape_debug().to_string())
            ),
        ));
    }
    Ok(())
}

/// An existing directory, made absolute (the profile is run from anywhere).
fn resolve_working_dir(dir: &std::path::Path) -> Result<PathBuf> {
    let abs = std::path::absolute(dir).map_err(|e| Error::io("resolving", dir, e))?;
    if !abs.is_dir() {
        return Err(Error::invalid_field(
            Field::WorkingDir,
            format!(
                "working directory {} is not a directory",
                crate::error::shown(&abs.display().to_string())
            ),
        ));
    }
    Ok(abs)
}

/// The wire shapes a `shape` value names (`openai` is both OpenAI dialects).
fn parse_shape(shape: &str) -> Result<Vec<WireShape>> {
    WireShape::parse_family(shape).map_err(|e| Error::invalid_field(Field::Shape, e.to_string()))
}

/// A binary name (looked up on PATH at run time) or a path, made absolute.
fn resolve_binary(binary: &std::path::Path) -> Result<PathBuf> {
    if binary.components().count() > 1 {
        // A path that does not exist yet is accepted (the agent may be installed later); one
        // that exists must be a program.
        if let Some(why) = crate::catalog::agent::not_a_program(binary) {
            return Err(Error::invalid_field(Field::Binary, format!("binary {why}")));
        }
        return std::path::absolute(binary).map_err(|e| Error::io("resolving", binary, e));
    }
    Ok(binary.to_path_buf())
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
        let reg = self.catalogue();
        let agent = reg.agent(&req.agent)?;
        let provider = reg.provider(&req.provider)?;
        let pm = provider.manifest();

        let served = req.shape.as_deref().map(parse_shape).transpose()?;
        let route = self.resolve_route(
            agent.as_ref(),
            provider.as_ref(),
            req.endpoint.as_deref(),
            req.custom_endpoint.as_deref(),
            served,
        )?;
        let model = resolve_model(req.model.as_deref(), provider.as_ref())?;

        let key_alias = match (&req.key_alias, pm.auth.required) {
            (Some(k), _) => Some(k.clone()),
            (None, true) => Some(req.alias.clone()),
            (None, false) => None,
        };
        if let Some(k) = &key_alias {
            validate_alias(k).map_err(|_| {
                Error::invalid_field(
                    Field::KeyAlias,
                    format!(
                        "invalid key alias '{}'; use letters, digits, '-', '_' or '.'",
                        crate::error::shown(&k.escape_debug().to_string())
                    ),
                )
            })?;
        }
        for name in req.env.keys() {
            validate_env_name(name, Field::Env)?;
        }
        let working_dir = req
            .working_dir
            .as_deref()
            .map(resolve_working_dir)
            .transpose()?;
        let binary = req.binary.as_deref().map(resolve_binary).transpose()?;

        Ok(Profile {
            alias: req.alias.clone(),
            agent: agent.id().to_string(),
            provider: pm.id.clone(),
            endpoint: route.endpoint,
            endpoint_url: route.endpoint_url,
            shape: route.shape,
            model,
            key_alias,
            binary,
            working_dir,
            args: req.args.clone(),
            env: req.env.clone(),
            sandbox: Default::default(),
            proxy: req.proxy,
            budget: {
                req.budget.validate()?;
                req.budget
            },
            tasks: Default::default(),
            mcp: Default::default(),
            metadata: ProfileMetadata {
                created_at: Utc::now(),
                last_used: None,
                total_runs: 0,
            },
        })
    }

    /// Where a profile of `agent` on `provider` sends its requests: the named endpoint (the
    /// provider's default when none is given), a custom base URL overriding it, and the wire
    /// shape negotiated from what that serves (`served`: the shapes a custom URL was said to
    /// serve, else the endpoint's or the agent's).
    fn resolve_route(
        &self,
        agent: &dyn crate::catalog::agent::Agent,
        provider: &dyn crate::catalog::provider::Provider,
        endpoint: Option<&str>,
        custom_endpoint: Option<&str>,
        served: Option<Vec<WireShape>>,
    ) -> Result<Route> {
        let pm = provider.manifest();
        let endpoint = if pm.endpoints.is_empty() {
            if let Some(e) = endpoint {
                return Err(Error::UnknownEndpoint {
                    provider: pm.id.clone(),
                    endpoint: e.escape_debug().to_string(),
                    known: "none (give a custom endpoint URL)".into(),
                });
            }
            None
        } else {
            let name = endpoint
                .or_else(|| provider.default_endpoint())
                .unwrap_or_default()
                .to_string();
            if !pm.endpoints.contains_key(&name) {
                return Err(Error::UnknownEndpoint {
                    provider: pm.id.clone(),
                    endpoint: name.escape_debug().to_string(),
                    known: pm.endpoints.keys().cloned().collect::<Vec<_>>().join(", "),
                });
            }
            Some(name)
        };

        let custom = custom_endpoint
            .map(|url| {
                crate::base_url::parse(url).map_err(|why| {
                    Error::invalid_field(Field::CustomEndpoint, format!("custom endpoint {why}"))
                })
            })
            .transpose()?;
        let custom = custom.as_deref();
        if custom.is_none() && endpoint.is_none() {
            return Err(Error::missing_field(
                Field::CustomEndpoint,
                format!(
                    "provider '{}' has no built-in endpoint; give a custom endpoint URL",
                    pm.id
                ),
            ));
        }
        if served.is_some() && custom.is_none() {
            return Err(Error::missing_field(
                Field::CustomEndpoint,
                "a wire shape describes a custom endpoint; give its URL too",
            ));
        }
        let served = match (served, custom, &endpoint) {
            (Some(shapes), _, _) => shapes,
            (None, Some(_), Some(name)) => provider.shapes(Some(name)),
            (None, Some(_), None) => agent.speaks().to_vec(),
            (None, None, name) => provider.shapes(name.as_deref()),
        };
        let shape = self.catalogue().negotiate(agent, provider, &served)?;
        Ok(Route {
            endpoint,
            endpoint_url: custom.map(|u| shape.normalise_base_url(u)),
            shape,
        })
    }

    /// The directory a run of `profile` starts in: its working dir, else the caller's. A missing
    /// one is an error saying so, rather than the agent's start failing with "No such file or
    /// directory" as if the binary were missing.
    pub(super) fn run_dir(&self, profile: &Profile) -> Result<PathBuf> {
        match &profile.working_dir {
            Some(dir) if dir.is_dir() => Ok(dir.clone()),
            Some(dir) => Err(Error::InvalidInput(format!(
                "the working directory of profile '{}', {}, does not exist (any more); create it again, or give the profile another working directory",
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

    /// Changes a profile's settings, checking them as [`create_profile`](Self::create_profile)
    /// does; returns the profile as stored. Nothing is written unless every change is valid,
    /// and profile.toml is replaced atomically, under the profile's lock (so two updates of
    /// one profile never lose either's changes). Its HOME, key and run counts are untouched.
    pub fn update_profile(&self, alias: &str, update: &ProfileUpdate) -> Result<Profile> {
        validate_alias(alias)?;
        if update.is_empty() {
            return Err(Error::InvalidInput(format!(
                "nothing to change in profile '{alias}': give a sandbox mode, proxy, budget, model, endpoint, env, args, working dir or binary"
            )));
        }
        let profile = self
            .inner
            .profiles
            .edit(alias, &mut |current| self.apply_update(current, update))?;
        self.emit(Event::ProfileUpdated {
            alias: profile.alias.clone(),
        });
        Ok(profile)
    }

    /// `current` with `update` applied, every change checked; writes nothing.
    fn apply_update(&self, current: &Profile, update: &ProfileUpdate) -> Result<Profile> {
        if update.working_dir.is_some() && update.clear_working_dir {
            return Err(Error::contradicting_fields(
                Field::WorkingDir,
                Field::ClearWorkingDir,
                "a new working directory and clearing it contradict each other",
            ));
        }
        if update.binary.is_some() && update.clear_binary {
            return Err(Error::contradicting_fields(
                Field::Binary,
                Field::ClearBinary,
                "a new binary and clearing it contradict each other",
            ));
        }
        if let Some(name) = update
            .unset_env
            .iter()
            .find(|n| update.set_env.contains_key(*n))
        {
            return Err(Error::contradicting_fields(
                Field::SetEnv,
                Field::UnsetEnv,
                format!(
                    "environment variable {} is both set and unset",
                    crate::error::shown(&name.escape_debug().to_string())
                ),
            ));
        }

        let reg = self.catalogue();
        let provider = reg.provider(&current.provider)?;
        let mut next = current.clone();
        if let Some(mode) = update.sandbox {
            next.sandbox.mode = mode;
        }
        if let Some(mode) = update.proxy {
            next.proxy = mode;
        }
        if update.clear_budget {
            next.budget = Budget::default();
        }
        if update.budget_day.is_some() {
            next.budget.day = update.budget_day;
        }
        if update.budget_month.is_some() {
            next.budget.month = update.budget_month;
        }
        next.budget.validate()?;
        if update.endpoint.is_some() || update.custom_endpoint.is_some() || update.shape.is_some() {
            let agent = reg.agent(&current.agent)?;
            // A named endpoint replaces a custom URL unless a new one comes with it; a URL the
            // profile keeps serves the shape it was created with, unless told another.
            let keeps_url = update.endpoint.is_none() && update.custom_endpoint.is_none();
            let custom = match (&update.custom_endpoint, &update.endpoint) {
                (Some(url), _) => Some(url.clone()),
                (None, Some(_)) => None,
                (None, None) => current.endpoint_url.clone(),
            };
            let served = match &update.shape {
                Some(shape) => Some(parse_shape(shape)?),
                None if keeps_url && custom.is_some() => Some(vec![current.shape]),
                None => None,
            };
            let route = self.resolve_route(
                agent.as_ref(),
                provider.as_ref(),
                update.endpoint.as_deref().or(current.endpoint.as_deref()),
                custom.as_deref(),
                served,
            )?;
            next.endpoint = route.endpoint;
            next.endpoint_url = route.endpoint_url;
            next.shape = route.shape;
        }
        if let Some(model) = &update.model {
            next.model = resolve_model(Some(model), provider.as_ref())?;
        }
        for name in &update.unset_env {
            if next.env.remove(name).is_none() {
                let set: Vec<&str> = current.env.keys().map(String::as_str).collect();
                return Err(Error::invalid_field(
                    Field::UnsetEnv,
                    format!(
                        "profile '{}' has no environment variable {} to unset; it sets {}",
                        current.alias,
                        crate::error::shown(&name.escape_debug().to_string()),
                        if set.is_empty() {
                            "none".to_string()
                        } else {
                            set.join(", ")
                        }
                    ),
                ));
            }
        }
        for (name, value) in &update.set_env {
            validate_env_name(name, Field::SetEnv)?;
            next.env.insert(name.clone(), value.clone());
        }
        if let Some(args) = &update.args {
            next.args = args.clone();
        }
        if update.clear_working_dir {
            next.working_dir = None;
        } else if let Some(dir) = &update.working_dir {
            next.working_dir = Some(resolve_working_dir(dir)?);
        }
        if update.clear_binary {
            next.binary = None;
        } else if let Some(binary) = &update.binary {
            next.binary = Some(resolve_binary(binary)?);
        }
        Ok(next)
    }

    /// Whether a profile exists, even one whose manifest is unreadable (so it can be deleted).
    pub fn has_profile(&self, alias: &str) -> Result<bool> {
        self.inner.profiles.exists(alias)
    }

    /// Deletes a profile and its HOME, and its key unless another profile uses it: the
    /// defaults of [`delete_profile_with`](Self::delete_profile_with), which also reports what
    /// became of the key.
    pub fn delete_profile(&self, alias: &str) -> Result<()> {
        self.delete_profile_with(alias, &crate::DeleteOptions::new())
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::MemoryCredentialStore;
    use crate::error_kind::Hint;
    use std::sync::Arc;

    pub(super) fn ringlet(dir: &std::path::Path) -> Ringlet {
        Ringlet::builder()
            .home(dir)
            .credential_store(Arc::new(MemoryCredentialStore::default()))
            .build()
            .expect("build")
    }

    fn manifest(ringlet: &Ringlet, alias: &str) -> std::path::PathBuf {
        ringlet
            .profile_home(alias)
            .expect("home")
            .with_file_name("profile.toml")
    }

    #[test]
    fn update_changes_what_it_names_and_keeps_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ringlet = ringlet(dir.path());
        let mut req = NewProfile::new("claude", "mm", "minimax").model("MiniMax-M2.5");
        req.env.insert("KEEP".into(), "1".into());
        req.env.insert("DROP".into(), "2".into());
        req.args = vec!["--old".into()];
        let created = ringlet.create_profile(&req, None).expect("create");
        assert_eq!(created.endpoint.as_deref(), Some("international"));
        ringlet
            .inner
            .profiles
            .record_run("mm", Utc::now())
            .expect("count a run");
        let events = ringlet.subscribe();

        let work = dir.path().join("work");
        std::fs::create_dir(&work).expect("mkdir");
        let updated = ringlet
            .update_profile(
                "mm",
                &ProfileUpdate::new()
                    .sandbox(SandboxMode::Always)
                    .model("MiniMax-M3")
                    .endpoint("china")
                    .set_env("ADD", "3")
                    .unset_env("DROP")
                    .args(["--new", "x"])
                    .working_dir(&work)
                    .binary("/bin/true"),
            )
            .expect("update");
        assert_eq!(updated.sandbox.mode, SandboxMode::Always);
        assert_eq!(updated.model.as_deref(), Some("MiniMax-M3"));
        assert_eq!(updated.endpoint.as_deref(), Some("china"));
        assert_eq!(
            updated.env.keys().map(String::as_str).collect::<Vec<_>>(),
            ["ADD", "KEEP"]
        );
        assert_eq!(updated.args, ["--new", "x"]);
        assert_eq!(updated.working_dir.as_deref(), Some(work.as_path()));
        assert_eq!(
            updated.binary.as_deref(),
            Some(std::path::Path::new("/bin/true"))
        );
        // Untouched: identity, key, creation time and the run count.
        assert_eq!(updated.key_alias, created.key_alias);
        assert_eq!(updated.metadata.created_at, created.metadata.created_at);
        assert_eq!(updated.metadata.total_runs, 1);
        assert_eq!(ringlet.profile("mm").expect("read back"), updated);
        assert_eq!(
            events.try_recv().ok(),
            Some(Event::ProfileUpdated { alias: "mm".into() })
        );
        assert_eq!(events.try_recv().ok(), None);

        // Clearing: back to the caller's directory, the manifest's binary, no arguments, and
        // an empty model is the provider's default.
        let cleared = ringlet
            .update_profile(
                "mm",
                &ProfileUpdate::new()
                    .clear_working_dir()
                    .clear_binary()
                    .args(Vec::<String>::new())
                    .model(""),
            )
            .expect("clear");
        assert_eq!(cleared.working_dir, None);
        assert_eq!(cleared.binary, None);
        assert!(cleared.args.is_empty());
        assert_eq!(cleared.model.as_deref(), Some("MiniMax-M3"));
        assert_eq!(cleared.sandbox.mode, SandboxMode::Always, "kept");
    }

    #[test]
    fn update_moves_between_a_named_endpoint_and_a_custom_url() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ringlet = ringlet(dir.path());
        ringlet
            .create_profile(&NewProfile::new("claude", "gw", "minimax"), None)
            .expect("create");
        let custom = ringlet
            .update_profile(
                "gw",
                &ProfileUpdate::new().custom_endpoint("https://llm.example.com/v1"),
            )
            .expect("custom URL");
        // Normalised for the negotiated shape, as at creation (Claude Code adds the /v1).
        assert_eq!(
            custom.endpoint_url.as_deref(),
            Some("https://llm.example.com")
        );
        assert_eq!(custom.shape, WireShape::Anthropic);
        // Changing something else keeps the URL and its shape.
        let kept = ringlet
            .update_profile("gw", &ProfileUpdate::new().model("MiniMax-M2.5"))
            .expect("model");
        assert_eq!(kept.endpoint_url, custom.endpoint_url);
        // A named endpoint replaces the URL.
        let named = ringlet
            .update_profile("gw", &ProfileUpdate::new().endpoint("china"))
            .expect("named endpoint");
        assert_eq!(named.endpoint.as_deref(), Some("china"));
        assert_eq!(named.endpoint_url, None);
        assert!(ringlet.plan_run("gw", &[]).is_ok());
    }

    /// Every kind of bad input: one error naming the thing, and profile.toml byte for byte as
    /// it was (no event either).
    #[test]
    fn a_bad_update_is_refused_whole_and_writes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ringlet = ringlet(dir.path());
        let mut req = NewProfile::new("claude", "w", "minimax");
        req.env.insert("A".into(), "1".into());
        ringlet.create_profile(&req, None).expect("create");
        let before = std::fs::read(manifest(&ringlet, "w")).expect("read");
        let events = ringlet.subscribe();
        let not_a_dir = dir.path().join("file");
        std::fs::write(&not_a_dir, "").expect("file");
        // What the message says, and the field its hint names (`None`: no field hint).
        let cases: Vec<(ProfileUpdate, &str, Option<Hint>)> = vec![
            (
                ProfileUpdate::new(),
                "nothing to change in profile 'w'",
                None,
            ),
            (
                ProfileUpdate::new().model("bad\u{1b}[2J"),
                "model 'bad\\u{1b}[2J' holds a control character",
                Some(Hint::CheckField(Field::Model)),
            ),
            (
                ProfileUpdate::new().custom_endpoint("ftp://x.example"),
                "custom endpoint 'ftp://x.example'",
                Some(Hint::CheckField(Field::CustomEndpoint)),
            ),
            (
                ProfileUpdate::new()
                    .endpoint("mars")
                    .sandbox(SandboxMode::Off),
                "mars",
                None,
            ),
            (
                ProfileUpdate::new().shape("anthropic"),
                "a wire shape describes a custom endpoint; give its URL too",
                Some(Hint::GiveField(Field::CustomEndpoint)),
            ),
            (
                ProfileUpdate::new()
                    .shape("soap")
                    .custom_endpoint("https://x.example"),
                "unknown wire shape 'soap'",
                Some(Hint::CheckField(Field::Shape)),
            ),
            (
                ProfileUpdate::new()
                    .set_env("HOME", "/tmp")
                    .model("MiniMax-M3"),
                "invalid environment variable name 'HOME'",
                Some(Hint::CheckField(Field::SetEnv)),
            ),
            (
                ProfileUpdate::new().set_env("A=B", "x"),
                "invalid environment variable name 'A=B'",
                Some(Hint::CheckField(Field::SetEnv)),
            ),
            (
                ProfileUpdate::new().unset_env("TYPO"),
                "profile 'w' has no environment variable TYPO to unset; it sets A",
                Some(Hint::CheckField(Field::UnsetEnv)),
            ),
            (
                ProfileUpdate::new().set_env("A", "2").unset_env("A"),
                "environment variable A is both set and unset",
                Some(Hint::OneOfFields(Field::SetEnv, Field::UnsetEnv)),
            ),
            (
                ProfileUpdate::new().working_dir(&not_a_dir),
                "is not a directory",
                Some(Hint::CheckField(Field::WorkingDir)),
            ),
            (
                ProfileUpdate::new()
                    .working_dir(dir.path())
                    .clear_working_dir(),
                "a new working directory and clearing it contradict each other",
                Some(Hint::OneOfFields(Field::WorkingDir, Field::ClearWorkingDir)),
            ),
            (
                ProfileUpdate::new().binary(dir.path()),
                "is a directory, not the agent's program",
                Some(Hint::CheckField(Field::Binary)),
            ),
            (
                ProfileUpdate::new().binary("/bin/true").clear_binary(),
                "a new binary and clearing it contradict each other",
                Some(Hint::OneOfFields(Field::Binary, Field::ClearBinary)),
            ),
        ];
        for (update, says, hint) in cases {
            let err = ringlet.update_profile("w", &update).expect_err(says);
            let code = if says == "mars" {
                "unknown_endpoint"
            } else {
                "invalid_input"
            };
            assert_eq!(err.code(), code, "{says}: {err}");
            assert!(err.to_string().contains(says), "{says}: {err}");
            // The message is the same in every frontend: it names no CLI flag.
            assert!(!err.to_string().contains("--"), "{says}: {err}");
            assert_eq!(err.hint(), hint, "{says}: {err}");
            assert_eq!(
                std::fs::read(manifest(&ringlet, "w")).expect("read"),
                before,
                "{says}: profile.toml changed"
            );
        }
        assert!(matches!(
            ringlet.update_profile("../w", &ProfileUpdate::new().model("m")),
            Err(Error::InvalidAlias { .. })
        ));
        assert!(matches!(
            ringlet.update_profile("nobody", &ProfileUpdate::new().model("m")),
            Err(Error::ProfileNotFound { .. })
        ));
        assert_eq!(
            events.try_recv().ok(),
            None,
            "no event for a refused update"
        );
    }

    /// Two threads editing different variables of one profile, 50 times each: neither loses
    /// the other's changes (the read and the write happen under the profile's lock).
    #[test]
    fn concurrent_updates_never_lose_each_others_changes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ringlet = ringlet(dir.path());
        ringlet
            .create_profile(&NewProfile::new("codex", "c", "ollama"), None)
            .expect("create");
        std::thread::scope(|s| {
            for t in ["A", "B"] {
                let ringlet = &ringlet;
                s.spawn(move || {
                    for i in 0..50 {
                        ringlet
                            .update_profile(
                                "c",
                                &ProfileUpdate::new().set_env(format!("{t}{i}"), "1"),
                            )
                            .expect("update");
                    }
                });
            }
        });
        assert_eq!(ringlet.profile("c").expect("read").env.len(), 100);
    }

    #[test]
    fn an_update_deserialises_from_what_bindings_send() {
        let update: ProfileUpdate = serde_json::from_value(serde_json::json!({
            "sandbox": "always", "set_env": {"A": "1"}, "clear_binary": true
        }))
        .expect("deserialise");
        assert_eq!(
            update,
            ProfileUpdate::new()
                .sandbox(SandboxMode::Always)
                .set_env("A", "1")
                .clear_binary()
        );
        assert_eq!(
            ProfileUpdate::new()
                .sandbox_named("never")
                .expect_err("unknown mode")
                .to_string(),
            "sandbox 'never' is not one of: off, always, remote"
        );
        let bad = serde_json::from_value::<ProfileUpdate>(serde_json::json!({"sandbox": "never"}))
            .expect_err("unknown mode");
        assert!(bad.to_string().contains("`always`"), "{bad}");
        assert!(
            serde_json::from_value::<ProfileUpdate>(serde_json::json!({"modle": "x"})).is_err()
        );
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

        // Counts leave it out; the calls that meet it again report it again, once each.
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
                Err(self.not_found(alias))
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

    /// A bad or missing value in a new profile is an `InvalidField`: the message names the
    /// field as every frontend can, the hint carries the field for each to spell.
    #[test]
    fn a_bad_new_profile_names_the_field_not_a_flag() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ringlet = ringlet(dir.path());
        let custom =
            || NewProfile::new("claude", "c", "custom").custom_endpoint("http://127.0.0.1:9");
        let mut bad_env = NewProfile::new("claude", "e", "minimax");
        bad_env.env.insert("HOME".into(), "/tmp".into());
        let mut long_dir = NewProfile::new("claude", "d", "minimax");
        long_dir.working_dir = Some(dir.path().join("x".repeat(300)));
        let cases = [
            (
                custom(),
                "provider 'custom' has no default model",
                Hint::GiveField(Field::Model),
            ),
            (
                NewProfile::new("claude", "c", "custom").model("m"),
                "provider 'custom' has no built-in endpoint; give a custom endpoint URL",
                Hint::GiveField(Field::CustomEndpoint),
            ),
            (
                custom().model("m").key_alias("../k"),
                "invalid key alias '../k'",
                Hint::CheckField(Field::KeyAlias),
            ),
            (
                bad_env,
                "invalid environment variable name 'HOME'",
                Hint::CheckField(Field::Env),
            ),
            (
                long_dir,
                // A long path is cut as other input is: to 64 characters and an ellipsis.
                "…",
                Hint::CheckField(Field::WorkingDir),
            ),
        ];
        for (req, says, hint) in cases {
            let err = ringlet.create_profile(&req, None).expect_err(says);
            let msg = err.to_string();
            assert!(msg.contains(says), "{says}: {msg}");
            assert!(!msg.contains("--"), "{says}: {msg}");
            assert!(msg.len() < 200, "{says}: {msg}");
            assert_eq!(err.code(), "invalid_input", "{says}");
            assert_eq!(err.hint(), Some(hint), "{says}");
        }
        assert!(ringlet.profiles().expect("list").is_empty());
    }
}
