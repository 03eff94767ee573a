//! Agent state migration through the facade: `ringlet import AGENT --to ALIAS` brings the
//! agent's settings, memory, MCP servers, trust and history from the user's HOME into the
//! profile HOME (see [`crate::state`]).

use std::path::PathBuf;

use super::Ringlet;
use crate::error::{Error, Result};
use crate::state::{StateImportReport, import_state};

impl Ringlet {
    /// Brings `agent`'s state (its manifest's `[import_state]`) from `from` (a HOME; default
    /// the user's own) into profile `alias`'s HOME, without credentials. With `dry_run`
    /// nothing is written and the report lists what would be. The originals are only read.
    pub fn import_agent_state(
        &self,
        agent: &str,
        alias: &str,
        from: Option<PathBuf>,
        dry_run: bool,
    ) -> Result<StateImportReport> {
        let agent = self.catalogue().agent(agent)?;
        let profile = self.profile(alias)?;
        if profile.agent != agent.id() {
            return Err(Error::InvalidInput(format!(
                "profile '{}' runs {}, not {}; bring {}'s state into a {} profile",
                profile.alias,
                profile.agent,
                agent.id(),
                agent.id(),
                agent.id()
            )));
        }
        let from = match from {
            Some(dir) => dir,
            None => directories::BaseDirs::new()
                .map(|d| d.home_dir().to_path_buf())
                .ok_or_else(|| {
                    Error::NoHome("no home directory for the current user; pass --from DIR".into())
                })?,
        };
        if !from.is_dir() {
            return Err(Error::InvalidInput(format!(
                "{} is not a directory; give the HOME the agent's state is in",
                from.display()
            )));
        }
        let home = self.inner.profiles.home_dir(alias);
        // Never the profile's own HOME: the import would read what it writes.
        if std::fs::canonicalize(&from).ok() == std::fs::canonicalize(&home).ok() {
            return Err(Error::InvalidInput(format!(
                "{} is profile '{alias}''s own HOME; import from the HOME the agent ran in before",
                from.display()
            )));
        }
        let items = import_state(&agent.manifest().import_state, &from, &home, dry_run)?;
        Ok(StateImportReport {
            agent: agent.id().to_string(),
            profile: alias.to_string(),
            from,
            dry_run,
            items,
        })
    }
}
