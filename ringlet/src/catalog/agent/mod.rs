//! Agents: the coding CLIs ringlet launches.

mod detect;
mod manifest;
mod one_shot;

use std::ffi::OsString;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

pub use detect::{DetectProgress, Detection, detect_all, detect_all_with_progress};
pub use manifest::{AgentEnv, AgentManifest, LogLocation};
pub use one_shot::{OneShotAnswer, PROMPT_PLACEHOLDER, one_shot_answer, one_shot_args};

use crate::catalog::manifest::Source;
use crate::catalog::wire::WireShape;
use crate::error::{Error, Result};

/// A coding-agent CLI. The built-in implementation is [`ManifestAgent`], driven entirely by a
/// TOML manifest; embedders can supply their own.
pub trait Agent: Send + Sync + Debug {
    /// The agent's manifest.
    fn manifest(&self) -> &AgentManifest;

    /// Where the manifest came from.
    fn source(&self) -> &Source;

    /// The agent's id.
    fn id(&self) -> &str {
        &self.manifest().id
    }

    /// Wire formats the agent speaks, most preferred first.
    fn speaks(&self) -> &[WireShape] {
        &self.manifest().speaks
    }

    /// Finds the agent's executable: `binary` when given (a path, or a name looked up on PATH),
    /// else the manifest's binary on `path_env` (the PATH the agent will get).
    fn locate(&self, binary: Option<&Path>, path_env: Option<OsString>) -> Result<PathBuf> {
        let manifest = self.manifest();
        let wanted = binary.unwrap_or_else(|| Path::new(&manifest.binary));
        let searched = path_env
            .clone()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|| "an empty PATH".into());
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let found = if wanted.components().count() > 1 || wanted.is_absolute() {
            which::which_in(wanted, None::<&str>, &cwd)
        } else {
            which::which_in(wanted, path_env, &cwd)
        };
        if found.is_err()
            && let Some(why) = not_a_program(wanted)
        {
            return Err(Error::InvalidInput(format!(
                "agent '{}': {why}",
                manifest.id
            )));
        }
        found.map_err(|_| Error::AgentNotInstalled {
            agent: manifest.id.clone(),
            binary: wanted.display().to_string(),
            searched: if wanted.components().count() > 1 {
                "that location".into()
            } else {
                format!("PATH ({searched})")
            },
            install: if manifest.install.is_empty() {
                "see the agent's documentation".into()
            } else {
                manifest.install.clone()
            },
        })
    }
}

/// Why a binary path that exists cannot be run (a directory, a file without execute
/// permission), so the error says that rather than "not found". `None` for a bare name (looked
/// up on PATH), a missing path, or a program.
pub(crate) fn not_a_program(binary: &Path) -> Option<String> {
    if binary.components().count() < 2 && !binary.is_absolute() {
        return None;
    }
    let meta = std::fs::metadata(binary).ok()?;
    if meta.is_dir() {
        return Some(format!(
            "'{}' is a directory, not the agent's program",
            binary.display()
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o111 == 0 {
            return Some(format!(
                "'{}' is not executable; make it so (`chmod +x {}`)",
                binary.display(),
                binary.display()
            ));
        }
    }
    None
}

/// An agent defined entirely by its manifest.
#[derive(Debug, Clone)]
pub struct ManifestAgent {
    manifest: AgentManifest,
    source: Source,
}

impl ManifestAgent {
    /// Wraps a manifest.
    pub fn new(manifest: AgentManifest, source: Source) -> Self {
        Self { manifest, source }
    }
}

impl Agent for ManifestAgent {
    fn manifest(&self) -> &AgentManifest {
        &self.manifest
    }

    fn source(&self) -> &Source {
        &self.source
    }
}
