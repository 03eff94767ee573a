//! Which profile `ringlet profiles run` runs when it is given none: the `[[directory-mapping]]`
//! entry of config.toml whose path holds the current directory most closely (component by
//! component, symlinks resolved, `~` expanded), else `RINGLET_DEFAULT_PROFILE`.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The environment variable naming the profile to run when no alias is given and no
/// directory mapping applies.
pub const DEFAULT_PROFILE_ENV: &str = "RINGLET_DEFAULT_PROFILE";

/// `[[directory-mapping]]` in config.toml: runs under `path` use `profile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryMapping {
    /// An absolute directory, or one under `~` (the user's HOME).
    pub path: String,
    /// The profile alias.
    pub profile: String,
}

/// Why a profile was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ProfileChoiceSource {
    /// A `[[directory-mapping]]` entry holds the directory.
    DirectoryMapping,
    /// `RINGLET_DEFAULT_PROFILE`.
    Environment,
}

/// The profile picked for a directory, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProfileChoice {
    /// The profile alias.
    pub alias: String,
    /// Where the choice came from.
    pub source: ProfileChoiceSource,
    /// The mapping's directory (expanded and resolved), for a directory mapping.
    pub mapped_dir: Option<PathBuf>,
}

/// `~` and `~/…` under `home`; anything else as given.
fn expand(path: &str, home: Option<&Path>) -> Result<PathBuf> {
    let rest = match path.strip_prefix('~') {
        None => return Ok(PathBuf::from(path)),
        Some("") => "",
        Some(rest) => rest.strip_prefix('/').ok_or_else(|| {
            Error::InvalidInput(format!(
                "[[directory-mapping]] path '{path}' names another user's home; write it out in full"
            ))
        })?,
    };
    let home = home.ok_or_else(|| {
        Error::InvalidInput(format!(
            "[[directory-mapping]] path '{path}' starts with ~ but HOME is not set"
        ))
    })?;
    Ok(home.join(rest))
}

/// The directory as the filesystem resolves it, or else made absolute and cleaned of `.`
/// (a mapping may name a directory that does not exist yet).
fn resolved(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| {
        path.components()
            .filter(|c| !matches!(c, Component::CurDir))
            .collect()
    })
}

/// Picks the profile for `dir`: the mapping whose directory holds `dir` with the most
/// components, else `env_default`. `None` when neither applies. `home` expands `~`.
pub(crate) fn choose(
    mappings: &[DirectoryMapping],
    dir: &Path,
    env_default: Option<&str>,
    home: Option<&Path>,
) -> Result<Option<ProfileChoice>> {
    let here = resolved(dir);
    let mut best: Option<(usize, PathBuf, &DirectoryMapping)> = None;
    for m in mappings {
        let expanded = expand(&m.path, home)?;
        if !expanded.is_absolute() {
            return Err(Error::InvalidInput(format!(
                "[[directory-mapping]] path '{}' in config.toml is not absolute; write it from / or ~",
                m.path
            )));
        }
        let mapped = resolved(&expanded);
        if !here.starts_with(&mapped) {
            continue;
        }
        let depth = mapped.components().count();
        match &best {
            Some((d, p, other)) if *d == depth && *p == mapped && other.profile != m.profile => {
                return Err(Error::InvalidInput(format!(
                    "config.toml maps {} to two profiles, '{}' and '{}'; keep one [[directory-mapping]] for it",
                    mapped.display(),
                    other.profile,
                    m.profile
                )));
            }
            Some((d, _, _)) if *d >= depth => {}
            _ => best = Some((depth, mapped, m)),
        }
    }
    if let Some((_, mapped, m)) = best {
        return Ok(Some(ProfileChoice {
            alias: m.profile.clone(),
            source: ProfileChoiceSource::DirectoryMapping,
            mapped_dir: Some(mapped),
        }));
    }
    Ok(env_default
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|alias| ProfileChoice {
            alias: alias.to_string(),
            source: ProfileChoiceSource::Environment,
            mapped_dir: None,
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(path: &str, profile: &str) -> DirectoryMapping {
        DirectoryMapping {
            path: path.into(),
            profile: profile.into(),
        }
    }

    #[test]
    fn the_longest_mapping_wins_then_the_env_var() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = std::fs::canonicalize(dir.path()).expect("canon");
        let deep = root.join("Projects/acme/api");
        std::fs::create_dir_all(&deep).expect("mkdir");
        let maps = [
            m("~/Projects", "personal"),
            m("~/Projects/acme", "acme"),
            m(&format!("{}/Projects/acme-other", root.display()), "other"),
        ];
        let home = Some(root.as_path());
        let pick = |d: &Path, env: Option<&str>| choose(&maps, d, env, home).expect("choose");
        let c = pick(&deep, Some("env")).expect("mapped");
        assert_eq!(c.alias, "acme");
        assert_eq!(c.source, ProfileChoiceSource::DirectoryMapping);
        assert_eq!(c.mapped_dir, Some(root.join("Projects/acme")));
        assert_eq!(
            pick(&root.join("Projects"), None).expect("mapped").alias,
            "personal"
        );
        // Component-wise: acme-other is not under acme.
        std::fs::create_dir_all(root.join("Projects/acme-other")).expect("mkdir");
        assert_eq!(
            pick(&root.join("Projects/acme-other"), None)
                .expect("mapped")
                .alias,
            "other"
        );
        let c = pick(&root, Some("env")).expect("env");
        assert_eq!(
            (c.alias.as_str(), c.source),
            ("env", ProfileChoiceSource::Environment)
        );
        assert_eq!(pick(&root, None), None);
        assert_eq!(pick(&root, Some("  ")), None);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_resolve_on_both_sides() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = std::fs::canonicalize(dir.path()).expect("canon");
        std::fs::create_dir_all(root.join("real/sub")).expect("mkdir");
        std::os::unix::fs::symlink(root.join("real"), root.join("link")).expect("symlink");
        let maps = [m(&format!("{}/link", root.display()), "linked")];
        let c = choose(&maps, &root.join("real/sub"), None, None)
            .expect("choose")
            .expect("mapped");
        assert_eq!(c.alias, "linked");
        let maps = [m(&format!("{}/real", root.display()), "real")];
        let c = choose(&maps, &root.join("link/sub"), None, None)
            .expect("choose")
            .expect("mapped");
        assert_eq!(c.alias, "real");
    }

    #[test]
    fn bad_mappings_are_errors() {
        let d = Path::new("/");
        for (maps, says) in [
            (vec![m("rel/dir", "x")], "not absolute"),
            (vec![m("~bob/x", "x")], "another user's home"),
            (vec![m("/a", "x"), m("/a/", "y")], "two profiles"),
        ] {
            let here = if says == "two profiles" {
                Path::new("/a/b")
            } else {
                d
            };
            let e = choose(&maps, here, None, Some(Path::new("/h"))).expect_err(says);
            assert!(e.to_string().contains(says), "{e}");
        }
        let e = choose(&[m("~/x", "x")], d, None, None).expect_err("no HOME");
        assert!(e.to_string().contains("HOME is not set"), "{e}");
    }
}
