//! Shims (`ringlet aliases`): per-profile commands such as `claude-work` in `~/.local/bin`.
//! See `setup/shim.rs` for what a shim is and how ringlet knows its own.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Ringlet;
use crate::error::{Error, Result};
use crate::setup::Shim;
use crate::setup::shim;

/// A request to install shims ([`Ringlet::install_shims`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ShimRequest {
    /// The profiles to make shims for; every profile when empty.
    pub aliases: Vec<String>,
    /// The directory to write them to (default: `~/.local/bin`).
    pub dir: Option<PathBuf>,
    /// The command's name, for exactly one profile (default `<agent>-<alias>`).
    pub name: Option<String>,
    /// The ringlet the shims run (default: this ringlet, as hooks call it).
    pub program: Option<PathBuf>,
    /// A ringlet home the shims pass on (`--home`), when this setup is not in the default
    /// place.
    pub home: Option<PathBuf>,
}

impl ShimRequest {
    /// Shims for these profiles (all when empty), with the defaults.
    pub fn new<I, S>(aliases: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            aliases: aliases.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// Writes them into `dir`.
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Names the one shim.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Runs this ringlet binary.
    pub fn program(mut self, program: impl Into<PathBuf>) -> Self {
        self.program = Some(program.into());
        self
    }

    /// Passes `--home HOME`.
    pub fn home(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = Some(home.into());
        self
    }
}

/// What [`Ringlet::install_shims`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ShimReport {
    /// The directory.
    pub dir: PathBuf,
    /// Whether the directory is on this process's PATH (if not, a warning says how to add it).
    pub on_path: bool,
    /// Shims written (new, or replacing an older shim of ringlet's).
    pub installed: Vec<Shim>,
    /// Shims already there, the same.
    pub unchanged: Vec<Shim>,
}

impl Ringlet {
    /// Where shims go by default: `~/.local/bin` (`$HOME/.local/bin`).
    pub fn default_shim_dir(&self) -> Result<PathBuf> {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .or_else(|| directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf()))
            .ok_or_else(|| Error::NoHome("no home directory to put ~/.local/bin in".into()))?;
        Ok(home.join(".local").join("bin"))
    }

    fn shim_dir(&self, dir: Option<&Path>) -> Result<PathBuf> {
        match dir {
            Some(d) => std::path::absolute(d).map_err(|e| Error::io("resolving", d, e)),
            None => self.default_shim_dir(),
        }
    }

    /// Writes a shim per profile: an executable `<agent>-<alias>` (or `name`) that runs
    /// `ringlet profiles run <alias> -- "$@"`. Everything is checked first: an unknown profile,
    /// a bad name, two shims with one name, or a file of that name that ringlet did not write
    /// (which is never overwritten) refuses the whole request. A shim of ringlet's is replaced.
    /// A directory not on PATH is a warning.
    pub fn install_shims(&self, req: &ShimRequest) -> Result<ShimReport> {
        let dir = self.shim_dir(req.dir.as_deref())?;
        let profiles = if req.aliases.is_empty() {
            self.profiles()?
        } else {
            req.aliases
                .iter()
                .map(|a| self.profile(a))
                .collect::<Result<Vec<_>>>()?
        };
        if profiles.is_empty() {
            return Err(Error::InvalidInput(
                "there are no profiles to make commands for; create one first".into(),
            ));
        }
        if req.name.is_some() && profiles.len() != 1 {
            return Err(Error::InvalidInput(
                "a command name names one profile's shim; give exactly one profile with it".into(),
            ));
        }
        let program = req
            .program
            .clone()
            .or_else(|| self.hook_program())
            .unwrap_or_else(|| PathBuf::from("ringlet"));
        let mut todo = Vec::new();
        for p in &profiles {
            let name = req
                .name
                .clone()
                .unwrap_or_else(|| format!("{}-{}", p.agent, p.alias));
            shim::validate_name(&name)?;
            if todo
                .iter()
                .any(|(n, _, _): &(String, PathBuf, String)| *n == name)
            {
                return Err(Error::InvalidInput(format!(
                    "two profiles would get the command '{name}'; install one of them with another name"
                )));
            }
            let path = dir.join(&name);
            let text = shim::render(&program, req.home.as_deref(), &p.alias);
            if std::fs::symlink_metadata(&path).is_ok() && shim::read(&path).is_none() {
                return Err(Error::InvalidInput(format!(
                    "{} exists and ringlet did not write it, so it is left alone; remove it, or give the shim another name",
                    path.display()
                )));
            }
            todo.push((name, path, text));
        }
        let mut report = ShimReport {
            on_path: shim::on_path(&dir, std::env::var_os("PATH").as_deref()),
            dir: dir.clone(),
            installed: Vec::new(),
            unchanged: Vec::new(),
        };
        for ((name, path, text), p) in todo.into_iter().zip(&profiles) {
            let entry = Shim {
                name,
                path: path.clone(),
                profile: p.alias.clone(),
                profile_exists: true,
            };
            if std::fs::read_to_string(&path).is_ok_and(|t| t == text) {
                report.unchanged.push(entry);
                continue;
            }
            crate::fsio::write_atomic(&path, text.as_bytes(), Some(0o755))?;
            report.installed.push(entry);
        }
        if !report.on_path {
            self.inner.warnings.push(
                "shim_dir_not_on_path",
                format!(
                    "{} is not on PATH, so its commands are not found by name; add it to PATH in your shell's startup file (export PATH=\"{}:$PATH\")",
                    dir.display(),
                    dir.display()
                ),
            );
        }
        Ok(report)
    }

    /// The shims ringlet wrote in `dir` (default `~/.local/bin`), by name, each with whether
    /// its profile still exists.
    pub fn shims(&self, dir: Option<&Path>) -> Result<Vec<Shim>> {
        let dir = self.shim_dir(dir)?;
        let mut shims = shim::scan(&dir)?;
        for s in &mut shims {
            s.profile_exists = self.has_profile(&s.profile).unwrap_or(false);
        }
        Ok(shims)
    }

    /// Removes the shims ringlet wrote in `dir` for these profiles (every shim of ringlet's
    /// there when `aliases` is empty); files ringlet did not write are never touched. A profile
    /// named that has no shim there is an error, and then nothing is removed.
    pub fn uninstall_shims(&self, aliases: &[String], dir: Option<&Path>) -> Result<Vec<Shim>> {
        let all = self.shims(dir)?;
        for a in aliases {
            if !all.iter().any(|s| s.profile == *a) {
                return Err(Error::InvalidInput(format!(
                    "there is no shim of ringlet's for profile '{a}' in {}",
                    self.shim_dir(dir)?.display()
                )));
            }
        }
        let mut removed = Vec::new();
        for s in all {
            if aliases.is_empty() || aliases.contains(&s.profile) {
                std::fs::remove_file(&s.path).map_err(|e| Error::io("removing", &s.path, e))?;
                removed.push(s);
            }
        }
        Ok(removed)
    }
}
