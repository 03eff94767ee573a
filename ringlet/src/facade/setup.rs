//! Export and import of a whole setup (`ringlet export`, `ringlet import FILE`): the settings
//! that make a ringlet setup, as one [`SetupDocument`], recreated on another machine. Secrets
//! and machine-local state never travel (docs/setup.md).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Event, REMOTE_TOKEN_PROVIDER, Ringlet};
use crate::alias::validate_alias;
use crate::credentials::CredentialKey;
use crate::error::{Error, Result};
use crate::hooks::{HookEntry, HookRule};
use crate::profile::Profile;
use crate::setup::document::{
    MAX_ROUTING_BYTES, MAX_SETUP_BYTES, REGISTRY_LOCK, ROUTING_FILE, key_refs, portable_settings,
    profile_from_settings, registry_pin,
};
use crate::setup::merge::merge_config;
use crate::setup::{PortableProfile, PortableRemote, SetupDocument};

/// How [`Ringlet::import_setup`] treats what it brings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SetupImportOptions {
    /// Check everything and report what would happen; write nothing.
    pub dry_run: bool,
    /// Profiles to import under another alias: setup alias → new alias.
    pub rename: BTreeMap<String, String>,
    /// Keep this machine's version of whatever exists here with other settings (a profile,
    /// hook, routing file or config key) instead of refusing the import.
    pub skip_existing: bool,
}

impl SetupImportOptions {
    /// The defaults: apply, no renames, refuse on conflicts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only checks and reports.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Imports the setup's profile `from` as `to`.
    pub fn rename(mut self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.rename.insert(from.into(), to.into());
        self
    }

    /// Keeps this machine's versions of conflicting items.
    pub fn skip_existing(mut self, skip: bool) -> Self {
        self.skip_existing = skip;
        self
    }
}

/// What kind of thing an imported item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SetupItemKind {
    /// A profile (its `name` is its alias here).
    Profile,
    /// A hook rule (its id).
    Hook,
    /// A routing file (`*` for the global one, else the profile's alias).
    Routing,
    /// A config.toml key (dotted).
    Config,
    /// A remote (its name).
    Remote,
}

/// What the import did (or, dry, would do) with an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ImportOutcome {
    /// Created: this machine did not have it.
    Created,
    /// Already here, the same.
    Unchanged,
    /// Here with other settings, kept as it is (`skip_existing`).
    Skipped,
}

/// One item of the setup and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImportedItem {
    /// What it is.
    pub kind: SetupItemKind,
    /// Its name here.
    pub name: String,
    /// Its name in the setup, when renamed.
    pub renamed_from: Option<String>,
    /// What happened.
    pub outcome: ImportOutcome,
}

/// A credential the imported setup needs that this machine's credential store lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct KeyToSet {
    /// The provider id (`ringlet-remote` for a remote's token).
    pub provider: String,
    /// The key alias (the remote's name for a remote token).
    pub alias: String,
    /// Who uses it: profile aliases, or `remote NAME`.
    pub used_by: Vec<String>,
    /// For a remote's token, the remote's URL (adding the remote again stores its token).
    pub remote_url: Option<String>,
}

/// An environment variable the export left out of a profile (its name says it holds a
/// secret) that should be set again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnvToSet {
    /// The profile.
    pub profile: String,
    /// The variable.
    pub name: String,
}

/// What [`Ringlet::import_setup`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SetupImportReport {
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Every item of the setup, in the order applied.
    pub items: Vec<ImportedItem>,
    /// Credentials still to store.
    pub keys_to_set: Vec<KeyToSet>,
    /// Withheld environment variables to set again.
    pub env_to_set: Vec<EnvToSet>,
    /// The registry commit the exporting machine was pinned to, when this machine is not
    /// pinned to it (`ringlet registry pin COMMIT` pins it).
    pub registry_pin: Option<String>,
}

impl SetupImportReport {
    /// How many items had `outcome`.
    pub fn count(&self, outcome: ImportOutcome) -> usize {
        self.items.iter().filter(|i| i.outcome == outcome).count()
    }
}

/// A file's text, or `None` when it does not exist.
fn read_optional(path: &Path, limit: u64) -> Result<Option<String>> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => crate::fsio::read_file_capped(path, limit).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("reading", path, e)),
    }
}

/// One write of an import, undone if a later one fails.
enum Undo {
    Profile(String),
    File(PathBuf),
    Hook(String),
    Config(PathBuf, Option<String>),
}

/// What the import will write, all of it checked.
#[derive(Default)]
struct Plan {
    profiles: Vec<Profile>,
    routing: Vec<(PathBuf, String)>,
    hooks: Vec<HookEntry>,
    config: Option<String>,
}

/// Collects items and conflicts while checking.
struct Check {
    report: SetupImportReport,
    conflicts: Vec<String>,
    skip: bool,
}

impl Check {
    /// Records an item found here with other settings: skipped, or a conflict.
    fn differs(&mut self, kind: SetupItemKind, name: &str, from: Option<&str>, what: String) {
        if self.skip {
            self.item(kind, name, from, ImportOutcome::Skipped);
        } else {
            self.conflicts.push(what);
        }
    }

    fn item(
        &mut self,
        kind: SetupItemKind,
        name: &str,
        from: Option<&str>,
        outcome: ImportOutcome,
    ) {
        self.report.items.push(ImportedItem {
            kind,
            name: name.to_string(),
            renamed_from: from.map(str::to_string),
            outcome,
        });
    }
}

impl Ringlet {
    /// This machine's setup as one document: config.toml (without remotes), the global routing
    /// file and hooks, every profile with its hooks and routing file, the remotes and the names
    /// of the keys they all use. Never a secret (keys, tokens, passwords, and profile
    /// environment variables whose names say they hold one) nor machine-local state (creation
    /// times, run counters, usage ledger and its import cursors, caches, the machine id, the
    /// profiles' HOMEs).
    pub fn export_setup(&self) -> Result<SetupDocument> {
        let mut doc = SetupDocument::new();
        let path = self.paths().config_file();
        let text = read_optional(&path, MAX_SETUP_BYTES)?.unwrap_or_default();
        let table: toml::Table =
            toml::from_str(&text).map_err(|e| Error::toml(&path, &text, &e))?;
        let mut config = match serde_json::to_value(&table) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        config.remove("remotes");
        doc.registry_pin = self.pinned_registry_commit()?;
        let mut uses = Vec::new();
        #[cfg(feature = "team")]
        if config.get("team").and_then(|t| t.get("ledger")).is_some() {
            let (provider, alias) = super::team::TEAM_PASSWORD_KEY;
            uses.push((provider.into(), alias.into(), "team ledger".into()));
        }
        doc.config = config;
        doc.routing = read_optional(
            &self.paths().config_dir().join(ROUTING_FILE),
            MAX_ROUTING_BYTES,
        )?;

        let mut profile_hooks: BTreeMap<String, Vec<HookRule>> = BTreeMap::new();
        for entry in self.hooks()? {
            match entry.profile {
                None => doc.hooks.push(entry.rule),
                Some(alias) => profile_hooks.entry(alias).or_default().push(entry.rule),
            }
        }
        for profile in self.profiles()? {
            let (settings, withheld_env) = portable_settings(&profile)?;
            let dir = self.inner.profiles.profile_dir(&profile.alias);
            if let Some(alias) = &profile.key_alias {
                uses.push((
                    profile.provider.clone(),
                    alias.clone(),
                    profile.alias.clone(),
                ));
            }
            doc.profiles.push(PortableProfile {
                settings,
                hooks: profile_hooks.remove(&profile.alias).unwrap_or_default(),
                routing: read_optional(&dir.join(ROUTING_FILE), MAX_ROUTING_BYTES)?,
                withheld_env,
            });
        }
        for (alias, rules) in profile_hooks {
            self.inner.warnings.push(
                "setup_hooks_left_out",
                format!(
                    "{} of profile '{alias}' left out of the export: the profile cannot be read",
                    if rules.len() == 1 {
                        "1 hook".to_string()
                    } else {
                        format!("{} hooks", rules.len())
                    }
                ),
            );
        }
        for remote in self.remotes()? {
            uses.push((
                REMOTE_TOKEN_PROVIDER.into(),
                remote.name.clone(),
                format!("remote {}", remote.name),
            ));
            doc.remotes.push(PortableRemote {
                name: remote.name,
                url: remote.url,
            });
        }
        doc.keys = key_refs(uses);
        Ok(doc)
    }

    /// Recreates a setup [exported](Self::export_setup) elsewhere. Everything is checked before
    /// anything is written: an item that exists here with other settings stops the import
    /// (all such are named), unless `skip_existing` keeps this machine's; items here with the
    /// same settings are left alone, so importing twice changes nothing. Should a write fail
    /// half-way, what this import wrote is removed again. The report lists every item, and
    /// the keys and withheld variables still to set.
    pub fn import_setup(
        &self,
        doc: &SetupDocument,
        options: &SetupImportOptions,
    ) -> Result<SetupImportReport> {
        // Against concurrent edits of config.toml (`remotes add`, another import); a dry run
        // writes nothing, not even the lock file.
        let _lock = if options.dry_run {
            None
        } else {
            Some(self.remotes_lock()?)
        };
        let (plan, report) = self.plan_import(doc, options)?;
        if options.dry_run {
            return Ok(report);
        }
        let mut undo = Vec::new();
        match self.apply_import(&plan, &mut undo) {
            Ok(()) => {
                for p in &plan.profiles {
                    self.emit(Event::ProfileCreated {
                        alias: p.alias.clone(),
                    });
                }
                Ok(report)
            }
            Err(e) => {
                self.undo_import(undo);
                Err(e)
            }
        }
    }

    fn plan_import(
        &self,
        doc: &SetupDocument,
        options: &SetupImportOptions,
    ) -> Result<(Plan, SetupImportReport)> {
        let mut check = Check {
            report: SetupImportReport {
                dry_run: options.dry_run,
                items: Vec::new(),
                keys_to_set: Vec::new(),
                env_to_set: Vec::new(),
                registry_pin: None,
            },
            conflicts: Vec::new(),
            skip: options.skip_existing,
        };
        let mut plan = Plan::default();

        // Renames first: each names a profile of the setup, and no two profiles end up with
        // one alias.
        let aliases: Vec<&str> = doc.profiles.iter().map(PortableProfile::alias).collect();
        for (from, to) in &options.rename {
            if !aliases.contains(&from.as_str()) {
                return Err(Error::InvalidInput(format!(
                    "the setup has no profile '{from}' to rename; it has {}",
                    if aliases.is_empty() {
                        "none".to_string()
                    } else {
                        aliases.join(", ")
                    }
                )));
            }
            validate_alias(to)?;
        }
        let final_alias = |a: &str| {
            options
                .rename
                .get(a)
                .cloned()
                .unwrap_or_else(|| a.to_string())
        };
        let mut seen = BTreeSet::new();
        for a in &aliases {
            let to = final_alias(a);
            if !seen.insert(to.clone()) {
                return Err(Error::InvalidInput(format!(
                    "two of the setup's profiles would be imported as '{to}'; rename one of them"
                )));
            }
        }

        let existing_hooks = self.hooks()?;
        let mut doc_hook_ids = BTreeSet::new();
        let mut hook = |check: &mut Check, plan: &mut Plan, entry: HookEntry| -> Result<()> {
            entry.rule.validate()?;
            let id = entry.rule.id.clone();
            if !doc_hook_ids.insert(id.clone()) {
                return Err(Error::Hook {
                    hook: id,
                    message: "the setup holds this hook id twice".into(),
                });
            }
            match existing_hooks.iter().find(|e| e.rule.id == id) {
                Some(e) if *e == entry => {
                    check.item(SetupItemKind::Hook, &id, None, ImportOutcome::Unchanged)
                }
                Some(_) => check.differs(
                    SetupItemKind::Hook,
                    &id,
                    None,
                    format!("hook {id} exists with other settings"),
                ),
                None => {
                    check.item(SetupItemKind::Hook, &id, None, ImportOutcome::Created);
                    plan.hooks.push(entry);
                }
            }
            Ok(())
        };
        let routing = |check: &mut Check,
                       plan: &mut Plan,
                       path: PathBuf,
                       name: &str,
                       text: &str|
         -> Result<()> {
            if text.len() as u64 > MAX_ROUTING_BYTES {
                return Err(Error::InvalidInput(format!(
                    "the setup's routing file for {name} is larger than 1 MiB"
                )));
            }
            match read_optional(&path, MAX_ROUTING_BYTES)? {
                Some(here) if here == text => {
                    check.item(SetupItemKind::Routing, name, None, ImportOutcome::Unchanged)
                }
                Some(_) => check.differs(
                    SetupItemKind::Routing,
                    name,
                    None,
                    format!("{} exists with other rules", path.display()),
                ),
                None => {
                    check.item(SetupItemKind::Routing, name, None, ImportOutcome::Created);
                    plan.routing.push((path, text.to_string()));
                }
            }
            Ok(())
        };

        let mut keys: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for portable in &doc.profiles {
            let from = portable.alias();
            let alias = final_alias(from);
            let renamed = (alias != from).then_some(from);
            let profile = profile_from_settings(&portable.settings, &alias)?;
            validate_alias(&profile.alias)?;
            self.catalogue().agent(&profile.agent)?;
            self.catalogue().provider(&profile.provider)?;
            if let Some(k) = &profile.key_alias {
                validate_alias(k)?;
            }
            let outcome = if self.has_profile(&alias)? {
                let here = portable_settings(&self.profile(&alias)?)?.0;
                let mut wanted = portable_settings(&profile)?.0;
                wanted.insert("alias".into(), Value::String(alias.clone()));
                if here == wanted {
                    ImportOutcome::Unchanged
                } else {
                    ImportOutcome::Skipped
                }
            } else {
                ImportOutcome::Created
            };
            match outcome {
                ImportOutcome::Skipped => {
                    check.differs(
                        SetupItemKind::Profile,
                        &alias,
                        renamed,
                        format!("profile '{alias}' exists with other settings"),
                    );
                    // Its hooks and routing belong to the setup's profile, not this one.
                    for rule in &portable.hooks {
                        check.item(SetupItemKind::Hook, &rule.id, None, ImportOutcome::Skipped);
                    }
                    if portable.routing.is_some() {
                        check.item(SetupItemKind::Routing, &alias, None, ImportOutcome::Skipped);
                    }
                    continue;
                }
                outcome => check.item(SetupItemKind::Profile, &alias, renamed, outcome),
            }
            if let Some(k) = &profile.key_alias {
                keys.entry((profile.provider.clone(), k.clone()))
                    .or_default()
                    .push(alias.clone());
            }
            if outcome == ImportOutcome::Created {
                for name in &portable.withheld_env {
                    check.report.env_to_set.push(EnvToSet {
                        profile: alias.clone(),
                        name: name.clone(),
                    });
                }
            }
            if let Some(text) = &portable.routing {
                let path = self.inner.profiles.profile_dir(&alias).join(ROUTING_FILE);
                routing(&mut check, &mut plan, path, &alias, text)?;
            }
            if outcome == ImportOutcome::Created {
                plan.profiles.push(profile);
            }
            for rule in &portable.hooks {
                hook(
                    &mut check,
                    &mut plan,
                    HookEntry {
                        profile: Some(alias.clone()),
                        rule: rule.clone(),
                    },
                )?;
            }
        }
        for rule in &doc.hooks {
            hook(
                &mut check,
                &mut plan,
                HookEntry {
                    profile: None,
                    rule: rule.clone(),
                },
            )?;
        }
        if let Some(text) = &doc.routing {
            let path = self.paths().config_dir().join(ROUTING_FILE);
            routing(&mut check, &mut plan, path, "*", text)?;
        }

        // config.toml: the setup's settings and its remotes, merged key by key.
        if doc.config.contains_key("remotes") {
            return Err(Error::InvalidInput(
                "the setup's config holds remotes; they belong in its \"remotes\" list".into(),
            ));
        }
        let mut wanted = doc.config.clone();
        let mut remotes = Map::new();
        for r in &doc.remotes {
            validate_alias(&r.name)?;
            let url = crate::base_url::parse(&r.url).map_err(|why| {
                Error::InvalidInput(format!("the setup's remote '{}': its URL {why}", r.name))
            })?;
            remotes.insert(r.name.clone(), serde_json::json!({ "url": url }));
        }
        if !remotes.is_empty() {
            wanted.insert("remotes".into(), Value::Object(remotes));
        }
        let path = self.paths().config_file();
        let here = read_optional(&path, MAX_SETUP_BYTES)?.unwrap_or_default();
        let merge = merge_config(&here, &wanted, &path)?;
        let named = |key: &str| match key.strip_prefix("remotes.") {
            Some(rest) => (
                SetupItemKind::Remote,
                rest.strip_suffix(".url").unwrap_or(rest).to_string(),
            ),
            None => (SetupItemKind::Config, key.to_string()),
        };
        for key in &merge.added {
            let (kind, name) = named(key);
            check.item(kind, &name, None, ImportOutcome::Created);
        }
        for key in &merge.unchanged {
            let (kind, name) = named(key);
            check.item(kind, &name, None, ImportOutcome::Unchanged);
        }
        for key in &merge.conflicts {
            let (kind, name) = named(key);
            let what = match kind {
                SetupItemKind::Remote => format!("remote '{name}' has another URL"),
                _ => format!("config key {name} has another value"),
            };
            check.differs(kind, &name, None, what);
        }
        plan.config = merge.text;

        if !check.conflicts.is_empty() {
            return Err(Error::InvalidInput(format!(
                "the setup conflicts with this machine's in {} {}: {}; nothing was imported. Import a profile under another alias (rename OLD=NEW), or keep this machine's versions (skip existing)",
                check.conflicts.len(),
                if check.conflicts.len() == 1 {
                    "place"
                } else {
                    "places"
                },
                check.conflicts.join("; ")
            )));
        }

        // What the credential store still lacks.
        for r in &doc.remotes {
            keys.entry((REMOTE_TOKEN_PROVIDER.into(), r.name.clone()))
                .or_default()
                .push(format!("remote {}", r.name));
        }
        for ((provider, alias), used_by) in keys {
            let key = CredentialKey::new(provider.clone(), alias.clone());
            // A store that cannot be asked (a locked keychain) counts as lacking the key: the
            // list says to set it, which is harmless if it is there.
            if matches!(self.credentials().get(&key), Ok(Some(_))) {
                continue;
            }
            let remote_url = (provider == REMOTE_TOKEN_PROVIDER)
                .then(|| {
                    doc.remotes
                        .iter()
                        .find(|r| r.name == alias)
                        .map(|r| r.url.clone())
                })
                .flatten();
            check.report.keys_to_set.push(KeyToSet {
                provider,
                alias,
                used_by,
                remote_url,
            });
        }
        if doc.registry_pin.is_some() && self.pinned_registry_commit()? != doc.registry_pin {
            check.report.registry_pin = doc.registry_pin.clone();
        }
        Ok((plan, check.report))
    }

    /// The registry commit this machine is pinned to, from the registry's lock file.
    fn pinned_registry_commit(&self) -> Result<Option<String>> {
        let path = self.paths().cache_dir().join(REGISTRY_LOCK);
        Ok(read_optional(&path, MAX_ROUTING_BYTES)?.and_then(|t| registry_pin(&t)))
    }

    fn apply_import(&self, plan: &Plan, undo: &mut Vec<Undo>) -> Result<()> {
        for profile in &plan.profiles {
            self.inner.profiles.create(profile)?;
            undo.push(Undo::Profile(profile.alias.clone()));
        }
        for (path, text) in &plan.routing {
            crate::fsio::write_atomic(path, text.as_bytes(), Some(0o644))?;
            undo.push(Undo::File(path.clone()));
        }
        let store = self.hook_store();
        for entry in &plan.hooks {
            store.add(entry)?;
            undo.push(Undo::Hook(entry.rule.id.clone()));
        }
        if let Some(text) = &plan.config {
            let path = self.paths().config_file();
            let before = read_optional(&path, MAX_SETUP_BYTES)?;
            crate::fsio::write_atomic(&path, text.as_bytes(), Some(0o644))?;
            undo.push(Undo::Config(path, before));
        }
        Ok(())
    }

    /// Removes what a failed import wrote, newest first. Best effort: each failure becomes a
    /// warning naming what is left.
    fn undo_import(&self, undo: Vec<Undo>) {
        let store = self.hook_store();
        for step in undo.into_iter().rev() {
            let (what, result) = match step {
                Undo::Profile(alias) => (
                    format!("profile '{alias}'"),
                    self.inner.profiles.delete(&alias),
                ),
                Undo::File(path) => (
                    path.display().to_string(),
                    std::fs::remove_file(&path).map_err(|e| Error::io("removing", &path, e)),
                ),
                Undo::Hook(id) => (format!("hook {id}"), store.remove(&id).map(drop)),
                Undo::Config(path, before) => (
                    path.display().to_string(),
                    match before {
                        Some(text) => {
                            crate::fsio::write_atomic(&path, text.as_bytes(), Some(0o644))
                        }
                        None => {
                            std::fs::remove_file(&path).map_err(|e| Error::io("removing", &path, e))
                        }
                    },
                ),
            };
            if let Err(e) = result {
                self.inner.warnings.push(
                    "setup_import_undo",
                    format!("the failed import could not take back {what}: {e}"),
                );
            }
        }
    }
}
