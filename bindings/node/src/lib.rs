//! Node.js bindings for ringlet: `Ringlet`, a thin shell over [`ringlet::Ringlet`].
//!
//! Every method that can touch the disk, the keychain or a process returns a Promise: the facade
//! call runs on tokio's blocking thread pool and settles the promise from there, so the event
//! loop never waits (a `run` lasts as long as the agent does). Results are converted to the
//! plain objects in [`types`]; errors carry the core's stable `code` ([`error`]).

mod error;
mod types;

use napi::bindgen_prelude::{Object, spawn_blocking};
use napi::{Env, Result};
use napi_derive::napi;
use ringlet::{CredentialKey, RunOptions, Secret};

use crate::types::{
    AgentInfo, InitReport, LaunchPlan, MigrationReport, NewProfile, Paths, Profile, ProviderInfo,
    RunOutcome, Warning,
};

/// Runs `work` on a blocking thread and returns a promise settled with its result, converted
/// with `Into`; a core error rejects it with a coded error.
fn promise<'env, T, J, F>(env: &'env Env, work: F) -> Result<Object<'env>>
where
    F: FnOnce() -> ringlet::Result<T> + Send + 'static,
    T: Into<J> + Send + 'static,
    J: napi::bindgen_prelude::ToNapiValue + 'static,
{
    let (deferred, promise) = env.create_deferred()?;
    spawn_blocking(move || {
        let result = work();
        deferred.resolve(move |env| {
            result
                .map(Into::<J>::into)
                .map_err(|e| error::to_js(env, e))
        });
    });
    Ok(promise)
}

/// Converts each element of a list result.
fn each<T: Into<J>, J>(items: Vec<T>) -> Vec<J> {
    items.into_iter().map(Into::into).collect()
}

/// ringlet as a library: agents, providers, profiles, keys and launching. Create one with
/// `await Ringlet.open(home?)`; it is cheap to keep and safe to use from many calls at once.
#[napi]
#[derive(Debug, Clone)]
pub struct Ringlet {
    inner: ringlet::Ringlet,
}

#[napi]
impl Ringlet {
    /// Opens ringlet under `home` (like `RINGLET_HOME`), else under `RINGLET_HOME` or the
    /// platform's directories.
    #[napi(ts_return_type = "Promise<Ringlet>")]
    pub fn open<'env>(env: &'env Env, home: Option<String>) -> Result<Object<'env>> {
        promise::<_, Ringlet, _>(env, move || {
            let inner = match home {
                Some(home) => ringlet::Ringlet::builder().home(home).build()?,
                None => ringlet::Ringlet::open()?,
            };
            Ok(Ringlet { inner })
        })
    }

    /// The directories in use.
    #[napi]
    pub fn paths(&self) -> Paths {
        self.inner.paths().into()
    }

    /// Warnings recorded so far, oldest first.
    #[napi]
    pub fn warnings(&self) -> Vec<Warning> {
        each(self.inner.warnings())
    }

    /// Makes sure the credential backend can be used now.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn check_credentials<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, (), _>(env, move || r.check_credentials())
    }

    /// Creates ringlet's directories and detects agents.
    #[napi(ts_return_type = "Promise<InitReport>")]
    pub fn init<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, InitReport, _>(env, move || r.init())
    }

    /// Every agent with its detection result.
    #[napi(ts_return_type = "Promise<Array<AgentInfo>>")]
    pub fn agents<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, Vec<AgentInfo>, _>(env, move || r.agents().map(each))
    }

    /// One agent with its detection result.
    #[napi(ts_return_type = "Promise<AgentInfo>")]
    pub fn agent<'env>(&self, env: &'env Env, id: String) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, AgentInfo, _>(env, move || r.agent(&id))
    }

    /// Every provider.
    #[napi(ts_return_type = "Promise<Array<ProviderInfo>>")]
    pub fn providers<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, Vec<ProviderInfo>, _>(env, move || Ok(each(r.providers())))
    }

    /// One provider.
    #[napi(ts_return_type = "Promise<ProviderInfo>")]
    pub fn provider<'env>(&self, env: &'env Env, id: String) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, ProviderInfo, _>(env, move || r.provider(&id))
    }

    /// Every profile, sorted by alias.
    #[napi(ts_return_type = "Promise<Array<Profile>>")]
    pub fn profiles<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, Vec<Profile>, _>(env, move || r.profiles().map(each))
    }

    /// One profile.
    #[napi(ts_return_type = "Promise<Profile>")]
    pub fn profile<'env>(&self, env: &'env Env, alias: String) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, Profile, _>(env, move || r.profile(&alias))
    }

    /// The profile's HOME directory.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn profile_home<'env>(&self, env: &'env Env, alias: String) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, String, _>(env, move || {
            r.profile_home(&alias)
                .map(|p| p.to_string_lossy().into_owned())
        })
    }

    /// Whether a profile exists (even one whose manifest is unreadable).
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn has_profile<'env>(&self, env: &'env Env, alias: String) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, bool, _>(env, move || r.has_profile(&alias))
    }

    /// The profile a request would create, validated, without writing anything.
    #[napi(ts_return_type = "Promise<Profile>")]
    pub fn resolve_profile<'env>(&self, env: &'env Env, req: NewProfile) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, Profile, _>(env, move || r.resolve_profile(&req.into()))
    }

    /// The key a request would need that is not stored yet, or null.
    #[napi(ts_return_type = "Promise<CredentialKey | null>")]
    pub fn missing_key<'env>(&self, env: &'env Env, req: NewProfile) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, Option<types::CredentialKey>, _>(env, move || {
            r.missing_key(&req.into()).map(|k| k.map(Into::into))
        })
    }

    /// Creates a profile; `key` is stored under its key alias first.
    #[napi(ts_return_type = "Promise<Profile>")]
    pub fn create_profile<'env>(
        &self,
        env: &'env Env,
        req: NewProfile,
        key: Option<String>,
    ) -> Result<Object<'env>> {
        let r = self.inner.clone();
        let key = key.map(Secret::new);
        promise::<_, Profile, _>(env, move || r.create_profile(&req.into(), key.as_ref()))
    }

    /// Deletes a profile and its HOME.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete_profile<'env>(&self, env: &'env Env, alias: String) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, (), _>(env, move || r.delete_profile(&alias))
    }

    /// The launch plan for a profile. Writes nothing; holds no secret.
    #[napi(ts_return_type = "Promise<LaunchPlan>")]
    pub fn plan_run<'env>(
        &self,
        env: &'env Env,
        alias: String,
        args: Option<Vec<String>>,
    ) -> Result<Object<'env>> {
        let r = self.inner.clone();
        let args = args.unwrap_or_default();
        promise::<_, LaunchPlan, _>(env, move || r.plan_run(&alias, &args))
    }

    /// Runs a profile's agent and resolves when it exits. The agent inherits this process's
    /// stdio; no signal handlers are installed.
    #[napi(ts_return_type = "Promise<RunOutcome>")]
    pub fn run<'env>(
        &self,
        env: &'env Env,
        alias: String,
        args: Option<Vec<String>>,
    ) -> Result<Object<'env>> {
        let r = self.inner.clone();
        let args = args.unwrap_or_default();
        promise::<_, RunOutcome, _>(env, move || r.run(&alias, &args, RunOptions::embedded()))
    }

    /// Moves the keys in the credentials file into the OS keychain.
    #[napi(ts_return_type = "Promise<MigrationReport>")]
    pub fn migrate_keys<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, MigrationReport, _>(env, move || r.migrate_keys())
    }

    /// Stores a key; refuses to overwrite one unless `replace`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn set_key<'env>(
        &self,
        env: &'env Env,
        provider: String,
        alias: String,
        secret: String,
        replace: Option<bool>,
    ) -> Result<Object<'env>> {
        let r = self.inner.clone();
        let key = CredentialKey::new(provider, alias);
        let secret = Secret::new(secret);
        promise::<_, (), _>(env, move || {
            r.set_key(&key, &secret, replace.unwrap_or(false))
        })
    }

    /// Removes a key.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn remove_key<'env>(
        &self,
        env: &'env Env,
        provider: String,
        alias: String,
    ) -> Result<Object<'env>> {
        let r = self.inner.clone();
        let key = CredentialKey::new(provider, alias);
        promise::<_, (), _>(env, move || r.remove_key(&key))
    }

    /// The names of stored keys; never their values.
    #[napi(ts_return_type = "Promise<Array<CredentialKey>>")]
    pub fn list_keys<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, Vec<types::CredentialKey>, _>(env, move || r.list_keys().map(each))
    }
}
