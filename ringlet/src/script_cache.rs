//! Remembered config-script results. A config script is a pure function of its source and its
//! [`ScriptContext`]: the engine has no clock, randomness, file or network access, and the
//! context holds no secret (only [`crate::KEY_PLACEHOLDER`]). So the output of the last run of
//! a profile's script can be reused while neither changed, which spares starting the Rhai
//! engine and compiling the script on every launch (≈ 1.5 M instructions, a fifth of a whole
//! `profiles run`).
//!
//! One JSON file per profile under `<cache>/scripts/`. It is only a cache: an unreadable,
//! corrupt or foreign entry is ignored and overwritten, and failing to write one never fails a
//! run.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::script::{ScriptContext, ScriptOutput};

/// Bumped with anything that changes what a script may return for the same source and context
/// (the engine's packages or limits, the context's fields); the crate version covers releases.
const FORMAT: u32 = 1;

/// Contexts remembered per profile. The context holds the working directory, so a profile
/// started from a few projects in turn keeps one entry for each.
const ENTRIES: usize = 8;

/// One profile's file: the script it ran, and the latest outputs first.
#[derive(Debug, Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    ringlet: String,
    script: String,
    source: String,
    entries: Vec<CacheEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct CacheEntry {
    context: ScriptContext,
    output: ScriptOutput,
}

impl CacheFile {
    fn is_for(&self, script: &str, source: &str) -> bool {
        self.format == FORMAT
            && self.ringlet == env!("CARGO_PKG_VERSION")
            && self.script == script
            && self.source == source
    }
}

/// The script cache of one ringlet home.
#[derive(Debug, Clone)]
pub(crate) struct ScriptCache {
    dir: PathBuf,
}

impl ScriptCache {
    pub(crate) fn new(cache_dir: &Path) -> Self {
        Self {
            dir: cache_dir.join("scripts"),
        }
    }

    fn path(&self, alias: &str) -> PathBuf {
        self.dir.join(format!("{alias}.json"))
    }

    fn read(&self, alias: &str) -> Option<CacheFile> {
        let bytes = std::fs::read(self.path(alias)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The output remembered for exactly this script source and context.
    pub(crate) fn get(
        &self,
        alias: &str,
        script: &str,
        source: &str,
        context: &ScriptContext,
    ) -> Option<ScriptOutput> {
        let file = self.read(alias)?;
        if !file.is_for(script, source) {
            return None;
        }
        file.entries
            .into_iter()
            .find(|e| e.context == *context)
            .map(|e| e.output)
    }

    /// Remembers an output. Best effort: a cache that cannot be written costs only speed.
    pub(crate) fn put(
        &self,
        alias: &str,
        script: &str,
        source: &str,
        context: &ScriptContext,
        output: &ScriptOutput,
    ) {
        let mut file = match self.read(alias) {
            Some(file) if file.is_for(script, source) => file,
            _ => CacheFile {
                format: FORMAT,
                ringlet: env!("CARGO_PKG_VERSION").to_string(),
                script: script.to_string(),
                source: source.to_string(),
                entries: Vec::new(),
            },
        };
        file.entries.retain(|e| e.context != *context);
        file.entries.insert(
            0,
            CacheEntry {
                context: context.clone(),
                output: output.clone(),
            },
        );
        file.entries.truncate(ENTRIES);
        if let Ok(bytes) = serde_json::to_vec(&file) {
            let _ = crate::fsio::write_atomic_volatile(&self.path(alias), &bytes, Some(0o600));
        }
    }

    /// Forgets a profile's entries (when the profile is deleted).
    pub(crate) fn remove(&self, alias: &str) {
        let _ = std::fs::remove_file(self.path(alias));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::tests::ctx;

    #[test]
    fn hit_only_for_the_same_source_and_context() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = ScriptCache::new(dir.path());
        let out = ScriptOutput {
            args: vec!["--x".into()],
            ..ScriptOutput::default()
        };
        assert_eq!(cache.get("w", "a.rhai", "src", &ctx()), None);
        cache.put("w", "a.rhai", "src", &ctx(), &out);
        assert_eq!(cache.get("w", "a.rhai", "src", &ctx()), Some(out.clone()));
        assert_eq!(cache.get("w", "a.rhai", "src2", &ctx()), None);
        assert_eq!(cache.get("w", "b.rhai", "src", &ctx()), None);
        assert_eq!(cache.get("other", "a.rhai", "src", &ctx()), None);
        let mut changed = ctx();
        changed.model = "other-model".into();
        assert_eq!(cache.get("w", "a.rhai", "src", &changed), None);
        cache.remove("w");
        assert_eq!(cache.get("w", "a.rhai", "src", &ctx()), None);
    }

    #[test]
    fn keeps_the_latest_contexts_and_forgets_them_when_the_script_changes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = ScriptCache::new(dir.path());
        let in_dir = |n: usize| ScriptContext {
            working_dir: format!("/project/{n}"),
            ..ctx()
        };
        let out = |n: usize| ScriptOutput {
            args: vec![n.to_string()],
            ..ScriptOutput::default()
        };
        for n in 0..=ENTRIES {
            cache.put("w", "a.rhai", "src", &in_dir(n), &out(n));
        }
        assert_eq!(
            cache.get("w", "a.rhai", "src", &in_dir(0)),
            None,
            "the oldest went"
        );
        for n in 1..=ENTRIES {
            assert_eq!(cache.get("w", "a.rhai", "src", &in_dir(n)), Some(out(n)));
        }
        cache.put("w", "a.rhai", "edited", &in_dir(1), &out(1));
        assert_eq!(cache.get("w", "a.rhai", "edited", &in_dir(1)), Some(out(1)));
        assert_eq!(cache.get("w", "a.rhai", "edited", &in_dir(2)), None);
    }

    #[test]
    fn a_corrupt_entry_is_a_miss_and_is_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = ScriptCache::new(dir.path());
        std::fs::create_dir_all(dir.path().join("scripts")).expect("mkdir");
        std::fs::write(dir.path().join("scripts/w.json"), b"{not json").expect("write");
        assert_eq!(cache.get("w", "a.rhai", "src", &ctx()), None);
        let out = ScriptOutput::default();
        cache.put("w", "a.rhai", "src", &ctx(), &out);
        assert_eq!(cache.get("w", "a.rhai", "src", &ctx()), Some(out));
    }
}
