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

use crate::launch::script::{ScriptContext, ScriptOutput};

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

    /// A profile's remembered outputs for this script source, read once for both a lookup and
    /// the store after a miss (none when there are none, or they are for another source).
    pub(crate) fn open(&self, alias: &str, script: &str, source: &str) -> Remembered {
        let file = match self.read(alias) {
            Some(file) if file.is_for(script, source) => file,
            _ => CacheFile {
                format: FORMAT,
                ringlet: env!("CARGO_PKG_VERSION").to_string(),
                script: script.to_string(),
                source: source.to_string(),
                entries: Vec::new(),
            },
        };
        Remembered {
            path: self.path(alias),
            file,
        }
    }

    /// Forgets a profile's entries (when the profile is deleted).
    pub(crate) fn remove(&self, alias: &str) {
        let _ = std::fs::remove_file(self.path(alias));
    }
}

/// One profile's remembered outputs for one script source.
#[derive(Debug)]
pub(crate) struct Remembered {
    path: PathBuf,
    file: CacheFile,
}

impl Remembered {
    /// The output remembered for exactly this context.
    pub(crate) fn get(&self, context: &ScriptContext) -> Option<ScriptOutput> {
        self.file
            .entries
            .iter()
            .find(|e| e.context == *context)
            .map(|e| e.output.clone())
    }

    /// Remembers an output. Best effort: a cache that cannot be written costs only speed.
    pub(crate) fn put(mut self, context: &ScriptContext, output: &ScriptOutput) {
        let entries = &mut self.file.entries;
        entries.retain(|e| e.context != *context);
        entries.insert(
            0,
            CacheEntry {
                context: context.clone(),
                output: output.clone(),
            },
        );
        entries.truncate(ENTRIES);
        if let Ok(bytes) = serde_json::to_vec(&self.file) {
            let _ = crate::fsio::write_atomic_volatile(&self.path, &bytes, Some(0o600));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::launch::script::tests::ctx;

    #[test]
    fn hit_only_for_the_same_source_and_context() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = ScriptCache::new(dir.path());
        let out = ScriptOutput {
            args: vec!["--x".into()],
            ..ScriptOutput::default()
        };
        assert_eq!(cache.open("w", "a.rhai", "src").get(&ctx()), None);
        cache.open("w", "a.rhai", "src").put(&ctx(), &out);
        assert_eq!(
            cache.open("w", "a.rhai", "src").get(&ctx()),
            Some(out.clone())
        );
        assert_eq!(cache.open("w", "a.rhai", "src2").get(&ctx()), None);
        assert_eq!(cache.open("w", "b.rhai", "src").get(&ctx()), None);
        assert_eq!(cache.open("other", "a.rhai", "src").get(&ctx()), None);
        let mut changed = ctx();
        changed.model = "other-model".into();
        assert_eq!(cache.open("w", "a.rhai", "src").get(&changed), None);
        cache.remove("w");
        assert_eq!(cache.open("w", "a.rhai", "src").get(&ctx()), None);
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
            cache.open("w", "a.rhai", "src").put(&in_dir(n), &out(n));
        }
        assert_eq!(
            cache.open("w", "a.rhai", "src").get(&in_dir(0)),
            None,
            "the oldest went"
        );
        for n in 1..=ENTRIES {
            assert_eq!(
                cache.open("w", "a.rhai", "src").get(&in_dir(n)),
                Some(out(n))
            );
        }
        cache.open("w", "a.rhai", "edited").put(&in_dir(1), &out(1));
        assert_eq!(
            cache.open("w", "a.rhai", "edited").get(&in_dir(1)),
            Some(out(1))
        );
        assert_eq!(cache.open("w", "a.rhai", "edited").get(&in_dir(2)), None);
    }

    #[test]
    fn a_corrupt_entry_is_a_miss_and_is_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = ScriptCache::new(dir.path());
        std::fs::create_dir_all(dir.path().join("scripts")).expect("mkdir");
        std::fs::write(dir.path().join("scripts/w.json"), b"{not json").expect("write");
        assert_eq!(cache.open("w", "a.rhai", "src").get(&ctx()), None);
        let out = ScriptOutput::default();
        cache.open("w", "a.rhai", "src").put(&ctx(), &out);
        assert_eq!(cache.open("w", "a.rhai", "src").get(&ctx()), Some(out));
    }
}
