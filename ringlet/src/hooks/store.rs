//! Where rules live: `<config>/hooks/<id>.toml` (every profile) and
//! `<data>/profiles/<alias>/hooks/<id>.toml` (one profile). One TOML file per rule, written
//! atomically, so a rule is never half-written and a profile's rules go when the profile goes.

use std::path::{Path, PathBuf};

use super::rule::{HookEntry, HookRule, HookScope, valid_id};
use crate::alias::validate_alias;
use crate::error::{Error, Result};
use crate::fsio;

/// The directory name of hook rules, in the config dir and in each profile's directory.
pub const HOOKS_DIR: &str = "hooks";

/// Hook rules as files.
#[derive(Debug, Clone)]
pub struct HookStore {
    global: PathBuf,
    profiles: PathBuf,
}

impl HookStore {
    /// A store over `<config>/hooks` and `<profiles>/<alias>/hooks`.
    pub fn new(global: impl Into<PathBuf>, profiles: impl Into<PathBuf>) -> Self {
        Self {
            global: global.into(),
            profiles: profiles.into(),
        }
    }

    /// The directory of a scope's rules.
    pub fn dir(&self, scope: &HookScope) -> Result<PathBuf> {
        match &scope.profile {
            None => Ok(self.global.clone()),
            Some(alias) => {
                validate_alias(alias)?;
                Ok(self.profiles.join(alias).join(HOOKS_DIR))
            }
        }
    }

    fn read_dir(dir: &Path, scope: &HookScope, out: &mut Vec<HookEntry>) -> Result<()> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io("reading", dir, e)),
        };
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("reading", dir, e))?;
            let path = entry.path();
            if path.extension().is_some_and(|x| x == "toml") {
                found.push(path);
            }
        }
        found.sort();
        for path in found {
            let text = fsio::read_file_capped(&path, super::MAX_HOOKS_FILE_BYTES)?;
            let rule: HookRule =
                toml::from_str(&text).map_err(|e| Error::toml(&path, &text, &e))?;
            if path.file_stem().is_none_or(|s| s != rule.id.as_str()) {
                return Err(Error::Parse {
                    path: path.clone(),
                    line: None,
                    message: format!(
                        "the rule's id '{}' does not match its file name; rename the file to {}.toml",
                        rule.id.escape_debug(),
                        rule.id.escape_debug()
                    ),
                });
            }
            rule.validate().map_err(|e| Error::Parse {
                path: path.clone(),
                line: None,
                message: e.to_string(),
            })?;
            out.push(HookEntry {
                profile: scope.profile.clone(),
                rule,
            });
        }
        Ok(())
    }

    /// The rules that apply to one profile: global ones first, then the profile's own.
    pub fn for_profile(&self, alias: &str) -> Result<Vec<HookEntry>> {
        let mut out = Vec::new();
        Self::read_dir(&self.global, &HookScope::global(), &mut out)?;
        let scope = HookScope::profile(alias);
        Self::read_dir(&self.dir(&scope)?, &scope, &mut out)?;
        Ok(out)
    }

    /// Every rule: global ones, then each profile's in alias order.
    pub fn all(&self) -> Result<Vec<HookEntry>> {
        let mut out = Vec::new();
        Self::read_dir(&self.global, &HookScope::global(), &mut out)?;
        let mut aliases = Vec::new();
        match std::fs::read_dir(&self.profiles) {
            Ok(entries) => {
                for e in entries.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if validate_alias(&name).is_ok() && e.path().join(HOOKS_DIR).is_dir() {
                        aliases.push(name);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("reading", &self.profiles, e)),
        }
        aliases.sort();
        for alias in aliases {
            let scope = HookScope::profile(alias);
            Self::read_dir(&self.dir(&scope)?, &scope, &mut out)?;
        }
        Ok(out)
    }

    /// The rule with this id.
    pub fn find(&self, id: &str) -> Result<HookEntry> {
        self.all()?
            .into_iter()
            .find(|e| e.rule.id == id)
            .ok_or_else(|| Error::HookNotFound {
                id: id.escape_debug().to_string(),
            })
    }

    /// Writes a validated rule into its scope. Refuses an id that is taken anywhere.
    pub fn add(&self, entry: &HookEntry) -> Result<()> {
        entry.rule.validate()?;
        if self.all()?.iter().any(|e| e.rule.id == entry.rule.id) {
            return Err(Error::HookExists {
                id: entry.rule.id.clone(),
            });
        }
        let dir = self.dir(&entry.scope())?;
        let text = toml::to_string_pretty(&entry.rule)
            .map_err(|e| Error::InvalidInput(format!("serialising hook: {e}")))?;
        fsio::write_atomic(
            &dir.join(format!("{}.toml", entry.rule.id)),
            text.as_bytes(),
            Some(0o600),
        )
    }

    /// Deletes the rule with this id and returns it.
    pub fn remove(&self, id: &str) -> Result<HookEntry> {
        if !valid_id(id) {
            return Err(Error::HookNotFound {
                id: id.escape_debug().to_string(),
            });
        }
        let entry = self.find(id)?;
        let path = self.dir(&entry.scope())?.join(format!("{id}.toml"));
        std::fs::remove_file(&path).map_err(|e| Error::io("removing", &path, e))?;
        Ok(entry)
    }
}

/// A fresh id: `h` and 8 hex digits from the clock, the process id and a counter.
pub(crate) fn new_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let mixed = nanos
        ^ (u64::from(std::process::id()) << 32)
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mixed = mixed.wrapping_mul(0xff51_afd7_ed55_8ccd);
    format!("h{:08x}", (mixed ^ (mixed >> 32)) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::rule::{HookAction, HookEvent};

    fn entry(profile: Option<&str>, id: &str) -> HookEntry {
        HookEntry {
            profile: profile.map(str::to_string),
            rule: HookRule {
                id: id.into(),
                event: HookEvent::ToolUse,
                matcher: None,
                timeout_ms: None,
                threshold: None,
                action: HookAction::Shell {
                    command: "true".into(),
                },
            },
        }
    }

    #[test]
    fn add_list_find_remove() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = HookStore::new(dir.path().join("config/hooks"), dir.path().join("profiles"));
        store.add(&entry(None, "g1")).expect("global");
        store.add(&entry(Some("work"), "p1")).expect("profile");
        store.add(&entry(Some("other"), "p2")).expect("other");
        assert!(
            store.add(&entry(Some("work"), "g1")).is_err(),
            "ids are unique"
        );
        let ids = |v: Vec<HookEntry>| v.into_iter().map(|e| e.rule.id).collect::<Vec<_>>();
        assert_eq!(ids(store.for_profile("work").expect("work")), ["g1", "p1"]);
        assert_eq!(ids(store.all().expect("all")), ["g1", "p2", "p1"]);
        assert!(dir.path().join("profiles/work/hooks/p1.toml").is_file());
        assert_eq!(
            store.remove("p1").expect("removed").profile.as_deref(),
            Some("work")
        );
        assert!(matches!(
            store.remove("p1"),
            Err(Error::HookNotFound { .. })
        ));
        assert!(matches!(
            store.remove("../x"),
            Err(Error::HookNotFound { .. })
        ));
    }

    #[test]
    fn a_broken_rule_names_its_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = HookStore::new(dir.path().join("hooks"), dir.path().join("profiles"));
        std::fs::create_dir_all(dir.path().join("hooks")).expect("mkdir");
        std::fs::write(
            dir.path().join("hooks/x.toml"),
            "id = \"x\"\nevent = \"nope\"\n",
        )
        .expect("write");
        let msg = store.for_profile("w").expect_err("broken").to_string();
        assert!(msg.contains("x.toml:2"), "{msg}");
    }

    #[test]
    fn a_hand_edited_rule_that_does_not_validate_is_refused_naming_its_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = HookStore::new(dir.path().join("hooks"), dir.path().join("profiles"));
        std::fs::create_dir_all(dir.path().join("hooks")).expect("mkdir");
        std::fs::write(
            dir.path().join("hooks/x.toml"),
            "id = \"x\"\nevent = \"stop\"\ntimeout_ms = 0\n[action]\ntype = \"shell\"\ncommand = \"true\"\n",
        )
        .expect("write");
        let msg = store.all().expect_err("invalid").to_string();
        assert!(msg.contains("x.toml") && msg.contains("timeout"), "{msg}");
    }

    #[test]
    fn ids_differ() {
        let a = new_id();
        let b = new_id();
        assert_ne!(a, b);
        assert!(valid_id(&a) && a.len() == 9, "{a}");
    }
}
