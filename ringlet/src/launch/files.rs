//! Writing a plan's files into the profile HOME, with the key filled in and existing agent
//! state merged rather than clobbered.

use std::ffi::OsStr;
use std::path::Path;

use super::plan::{FileFormat, LaunchPlan, MergeMode, PlannedFile};
use crate::credentials::Secret;
use crate::error::{Error, Result};
use crate::fsio::NoFollowDir;
use crate::launch::script::fill_key;

/// Writes every file of `plan`. Files that hold the key need `key`; all are written 0600 since
/// they live in a private HOME and may hold provider settings.
///
/// Nothing is written through a symbolic link from the profile HOME down (the HOME itself, a
/// directory in it, or a planned file): whatever runs there can make links, and following one
/// would put agent settings (hook commands, the key) in any file the user can write. A link is
/// a clear error naming it, and nothing is written through it.
///
/// Returns notes for the user: entries of an owned table (see [`PlannedFile::owned`]) that the
/// user made in the agent and ringlet therefore left alone.
pub fn materialise(plan: &LaunchPlan, key: Option<&Secret>) -> Result<Vec<String>> {
    let home = NoFollowDir::open_root(&plan.home)?;
    for dir in &plan.dirs {
        home.subdir(inside_home(plan, dir)?)?;
    }
    let mut notes = Vec::new();
    for file in &plan.files {
        notes.extend(write_one(plan, &home, file, key)?);
    }
    Ok(notes)
}

/// `path` relative to the plan's HOME; a plan is deserialisable, so one naming a path
/// elsewhere is refused rather than trusted.
fn inside_home<'a>(plan: &LaunchPlan, path: &'a Path) -> Result<&'a Path> {
    path.strip_prefix(&plan.home).map_err(|_| {
        Error::InvalidInput(format!(
            "{} is not inside the profile HOME {}, and ringlet writes agent files only there",
            path.display(),
            plan.home.display()
        ))
    })
}

fn write_one(
    plan: &LaunchPlan,
    home: &NoFollowDir,
    file: &PlannedFile,
    key: Option<&Secret>,
) -> Result<Vec<String>> {
    let rel = inside_home(plan, &file.path)?;
    let Some(name) = rel.file_name() else {
        return Err(Error::InvalidInput(format!(
            "{} names no file inside the profile HOME",
            file.path.display()
        )));
    };
    let dir = home.subdir(rel.parent().unwrap_or(Path::new("")))?;
    // Read once: for merging, and to skip the write when nothing changed (the steady state of
    // a profile that is run again and again).
    let existing = dir.read(name)?;
    if file.merge == MergeMode::Create && existing.is_some() {
        return Ok(Vec::new());
    }
    let content = if file.holds_key {
        let key = key.ok_or_else(|| match &plan.secret_env {
            Some(s) => Error::MissingKey {
                provider: s.provider.clone(),
                alias: s.alias.clone(),
                backend: "configured".into(),
            },
            None => Error::Script {
                script: plan.agent.clone(),
                message: format!(
                    "{} needs the API key but the profile has no key alias",
                    file.path.display()
                ),
            },
        })?;
        fill_key(&file.content, Some(key))
    } else {
        // Only the key's suffix can be there (Claude Code's approval of the key).
        fill_key(&file.content, key)
    };
    // Owned tables are taken out of the planned document and settled entry by entry after
    // the ordinary merge (see `owned.rs`).
    let (content, owned) = super::owned::split(file, &content)?;
    let content = match &existing {
        Some(old) if file.merge == MergeMode::Merge => {
            merge_existing(file, &dir, name, &old.bytes, &content)?
        }
        _ => content,
    };
    let (content, notes, ledger) = match owned {
        Some(owned) => {
            let (content, notes, ledger) = owned.settle(file, home, rel, &content)?;
            (content, notes, Some(ledger))
        }
        None => (content, Vec::new(), None),
    };
    let unchanged =
        existing.is_some_and(|old| old.bytes == content.as_bytes() && private(old.mode));
    if !unchanged {
        dir.write_atomic_volatile(name, content.as_bytes(), 0o600)?;
    }
    // After the file: a ledger ahead of its file would claim entries that are not there.
    if let Some(ledger) = ledger {
        ledger.save(home)?;
    }
    Ok(notes)
}

/// Whether a file's mode is 0600 (so an unchanged one needs no write).
fn private(mode: u32) -> bool {
    if cfg!(unix) { mode == 0o600 } else { true }
}

fn merge_existing(
    file: &PlannedFile,
    dir: &NoFollowDir,
    name: &OsStr,
    existing: &[u8],
    planned: &str,
) -> Result<String> {
    let keep_backup = || -> Result<()> {
        // The agent's file is unreadable; keep it beside ours rather than lose it.
        let backup = Path::new(name).with_extension("ringlet-bak");
        dir.write_atomic_volatile(backup.as_os_str(), existing, 0o600)
    };
    let Ok(existing) = std::str::from_utf8(existing) else {
        keep_backup()?;
        return Ok(planned.to_string());
    };
    match file.format {
        FileFormat::Json => {
            let new: serde_json::Value =
                serde_json::from_str(planned).map_err(|e| Error::Parse {
                    path: file.path.clone(),
                    line: Some(e.line()),
                    message: e.to_string(),
                })?;
            let Ok(mut old) = serde_json::from_str::<serde_json::Value>(existing) else {
                keep_backup()?;
                return Ok(planned.to_string());
            };
            merge_json(&mut old, new);
            serde_json::to_string_pretty(&old).map_err(|e| Error::InvalidInput(e.to_string()))
        }
        FileFormat::Toml => {
            let new: toml::Table =
                toml::from_str(planned).map_err(|e| Error::toml(&file.path, planned, &e))?;
            let Ok(mut old) = toml::from_str::<toml::Table>(existing) else {
                keep_backup()?;
                return Ok(planned.to_string());
            };
            merge_toml(&mut old, new);
            toml::to_string_pretty(&old).map_err(|e| Error::InvalidInput(e.to_string()))
        }
        FileFormat::Text => Ok(planned.to_string()),
    }
}

/// Deep-merges `new` into `old`: objects merge key by key, everything else is replaced.
pub(crate) fn merge_json(old: &mut serde_json::Value, new: serde_json::Value) {
    match (old, new) {
        (serde_json::Value::Object(old), serde_json::Value::Object(new)) => {
            for (k, v) in new {
                match old.get_mut(&k) {
                    Some(slot) => merge_json(slot, v),
                    None => {
                        old.insert(k, v);
                    }
                }
            }
        }
        (old, new) => *old = new,
    }
}

fn merge_toml(old: &mut toml::Table, new: toml::Table) {
    for (k, v) in new {
        match (old.get_mut(&k), v) {
            (Some(toml::Value::Table(o)), toml::Value::Table(n)) => merge_toml(o, n),
            (_, v) => {
                old.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_merge_keeps_agent_state() {
        let mut old = json!({"projects": {"/a": {"trusted": true}}, "theme": "dark", "n": 1});
        merge_json(
            &mut old,
            json!({"projects": {"/b": {"trusted": true}}, "n": 2}),
        );
        assert_eq!(
            old,
            json!({"projects": {"/a": {"trusted": true}, "/b": {"trusted": true}}, "theme": "dark", "n": 2})
        );
    }

    #[test]
    fn toml_merge_keeps_agent_state() {
        let mut old: toml::Table =
            toml::from_str("model = \"a\"\n[projects.\"/x\"]\ntrust_level = \"trusted\"\n")
                .expect("old");
        let new: toml::Table =
            toml::from_str("model = \"b\"\n[analytics]\nenabled = false\n").expect("new");
        merge_toml(&mut old, new);
        assert_eq!(old["model"].as_str(), Some("b"));
        assert!(old.contains_key("projects"));
        assert!(old.contains_key("analytics"));
    }

    fn plan() -> LaunchPlan {
        serde_json::from_value(json!({
            "profile": "w", "agent": "claude", "provider": "anthropic", "shape": "anthropic",
            "base_url": "http://x", "model": null, "program": "/bin/true", "args": [],
            "cwd": "/", "home": "/h", "env": {}, "secret_env": null, "env_remove": [],
            "dirs": [], "files": [], "native_events": []
        }))
        .expect("a plan")
    }

    fn planned(path: std::path::PathBuf) -> PlannedFile {
        PlannedFile {
            path,
            format: FileFormat::Json,
            merge: MergeMode::Merge,
            content: r#"{"ours": 1}"#.into(),
            holds_key: false,
            owned: Vec::new(),
        }
    }

    #[test]
    fn an_unreadable_agent_file_is_kept_aside_and_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("settings.json");
        std::fs::write(&path, b"\xff\xfe not utf-8").expect("write");
        let file = planned(path.clone());
        let mut plan = plan();
        plan.home = dir.path().to_path_buf();
        let home = NoFollowDir::open_root(dir.path()).expect("home");
        write_one(&plan, &home, &file, None).expect("written");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            r#"{"ours": 1}"#
        );
        assert_eq!(
            std::fs::read(dir.path().join("settings.ringlet-bak")).expect("backup"),
            b"\xff\xfe not utf-8"
        );
    }

    #[test]
    fn a_merged_file_keeps_the_agents_keys_and_an_unchanged_one_is_not_rewritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("settings.json");
        std::fs::write(&path, r#"{"theirs": 2}"#).expect("write");
        let file = planned(path.clone());
        let mut plan = plan();
        plan.home = dir.path().to_path_buf();
        let home = NoFollowDir::open_root(dir.path()).expect("home");
        write_one(&plan, &home, &file, None).expect("written");
        let merged: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        assert_eq!(merged, json!({"theirs": 2, "ours": 1}));
        let before = std::fs::metadata(&path)
            .expect("stat")
            .modified()
            .expect("mtime");
        let inode = |p: &std::path::Path| {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata(p).expect("stat").ino()
        };
        let ino = inode(&path);
        write_one(&plan, &home, &file, None).expect("written again");
        assert_eq!(inode(&path), ino, "an unchanged file is not replaced");
        assert_eq!(
            std::fs::metadata(&path)
                .expect("stat")
                .modified()
                .expect("mtime"),
            before
        );
    }

    /// Two threads of one process materialise the same profile's files at once (a
    /// long-lived embedding running one profile twice): every write succeeds, and after every
    /// round the file parses, so no write ever shows through half-done or mixed with another.
    #[test]
    fn concurrent_materialisations_never_produce_a_torn_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        let path = home.join(".claude/settings.json");
        // Big enough that a write takes a while; two contents of different lengths so each
        // write changes the file and a mix of the two is not JSON.
        let content = |tag: &str, n: usize| {
            let entries: serde_json::Map<String, serde_json::Value> = (0..n)
                .map(|i| (format!("{tag}-{i}"), json!(tag.repeat(n / 100))))
                .collect();
            serde_json::to_string_pretty(&entries).expect("json")
        };
        let plan_with = |tag: &str, n: usize| {
            let mut plan = plan();
            plan.home = home.clone();
            plan.files = vec![PlannedFile {
                content: content(tag, n),
                merge: MergeMode::Replace,
                ..planned(path.clone())
            }];
            plan
        };
        // Each thread alternates between two contents, so in every round the file differs from
        // what both threads plan and both really write (an unchanged file is skipped).
        let a = [plan_with("a0", 3000), plan_with("a1", 3100)];
        let b = [plan_with("b0", 4000), plan_with("b1", 4100)];
        // Each round, both threads start writing together (the machine may be too busy for
        // free-running threads to overlap), then one reads what they left.
        let barrier = std::sync::Barrier::new(2);
        // Failures are collected, not panicked on: a thread that stopped would leave the other
        // waiting at the barrier for ever.
        let failures = std::sync::Mutex::new(Vec::<String>::new());
        std::thread::scope(|s| {
            for plans in [&a, &b] {
                let (barrier, path, failures) = (&barrier, &path, &failures);
                s.spawn(move || {
                    for round in 0..300 {
                        barrier.wait();
                        let written = materialise(&plans[round % 2], None);
                        let leader = barrier.wait().is_leader();
                        let mut failures = failures.lock().expect("failures");
                        if let Err(e) = written {
                            failures.push(format!("round {round}: {e}"));
                        }
                        if leader {
                            match std::fs::read_to_string(path) {
                                Ok(text) => {
                                    if let Err(e) = serde_json::from_str::<serde_json::Value>(&text)
                                    {
                                        failures.push(format!(
                                            "round {round}: torn file ({e}), {} bytes",
                                            text.len()
                                        ));
                                    }
                                }
                                Err(e) => failures.push(format!("round {round}: reading: {e}")),
                            }
                        }
                    }
                });
            }
        });
        let failures = failures.into_inner().expect("failures");
        assert!(
            failures.is_empty(),
            "{} failures: {failures:#?}",
            failures.len()
        );
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
            .expect("readdir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("settings.json")]);
    }

    /// A profile HOME with the files Claude Code gets: `.claude.json` at the top and
    /// `.claude/settings.json` below, and a planned directory.
    #[cfg(unix)]
    fn claude_like_plan(home: &std::path::Path) -> LaunchPlan {
        let mut plan = plan();
        plan.home = home.to_path_buf();
        plan.dirs = vec![home.join(".claude/debug")];
        plan.files = vec![
            planned(home.join(".claude.json")),
            planned(home.join(".claude/settings.json")),
        ];
        plan
    }

    /// Every file below `dir`, with its content.
    #[cfg(unix)]
    fn contents(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).expect("readdir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                out.extend(contents(&p));
            } else {
                out.push((p.clone(), std::fs::read(&p).expect("read")));
            }
        }
        out.sort();
        out
    }

    /// A symlink anywhere from the profile HOME down (the HOME itself, a directory in it, or
    /// a planned file) is refused with an error naming it, and nothing outside is touched:
    /// whatever runs in the HOME can make links there, and following one would let the next
    /// run write agent settings (hooks!) or the key into any file the user can write.
    #[cfg(unix)]
    #[test]
    fn symlinks_on_the_write_path_are_refused_and_their_targets_untouched() {
        use std::os::unix::fs::symlink;
        type Place = fn(&std::path::Path, &std::path::Path);
        let placements: [(&str, Place); 3] = [
            ("home", |home, outside| {
                std::fs::create_dir_all(home.parent().expect("parent")).expect("mkdir");
                symlink(outside, home).expect("symlink");
            }),
            ("home/.claude", |home, outside| {
                std::fs::create_dir_all(home).expect("mkdir");
                symlink(outside, home.join(".claude")).expect("symlink");
            }),
            ("home/.claude.json", |home, outside| {
                std::fs::create_dir_all(home).expect("mkdir");
                symlink(outside.join("victim.json"), home.join(".claude.json")).expect("symlink");
            }),
        ];
        for (link, place) in placements {
            let dir = tempfile::tempdir().expect("tempdir");
            let outside = dir.path().join("outside");
            std::fs::create_dir_all(outside.join(".claude")).expect("outside");
            std::fs::write(outside.join("victim.json"), r#"{"mine": true}"#).expect("victim");
            std::fs::write(outside.join("settings.json"), "user's own").expect("victim");
            let before = contents(&outside);
            let home = dir.path().join("profile/home");
            place(&home, &outside);
            let err = materialise(&claude_like_plan(&home), None)
                .expect_err(&format!("a symlink at {link} is refused"));
            let msg = err.to_string();
            let named = dir.path().join("profile").join(link);
            assert!(
                msg.contains(&named.display().to_string()) && msg.contains("symbolic link"),
                "{link}: {msg}"
            );
            assert_eq!(
                contents(&outside),
                before,
                "{link}: the outside is untouched"
            );
            assert!(!outside.join(".claude/debug").exists(), "{link}");
            assert!(!outside.join(".claude.json").exists(), "{link}");
        }
    }

    /// The same plan in a HOME without links is written, directories included.
    #[cfg(unix)]
    #[test]
    fn a_home_without_links_is_written_in_full() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("profile/home");
        materialise(&claude_like_plan(&home), None).expect("written");
        assert!(home.join(".claude/debug").is_dir());
        for f in [".claude.json", ".claude/settings.json"] {
            assert_eq!(
                std::fs::read_to_string(home.join(f)).expect("read"),
                r#"{"ours": 1}"#
            );
        }
    }

    /// A FIFO where an agent file goes is refused at once (reading it would wait for a writer
    /// for ever).
    #[cfg(unix)]
    #[test]
    fn a_fifo_in_place_of_a_file_is_refused_without_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        nix::unistd::mkfifo(
            &home.join(".claude.json"),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .expect("mkfifo");
        let err = materialise(&claude_like_plan(&home), None).expect_err("a FIFO is refused");
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }
}
