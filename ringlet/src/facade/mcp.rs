//! MCP servers defined once for every agent (`ringlet mcp`): global ones in `config.toml`
//! (`[mcp.NAME]`, edited in place so comments survive), a profile's own in its `profile.toml`.
//! A run hands them to the agent's config script, which writes them in the agent's format,
//! and puts their secrets (credential references) in the agent's environment.

use super::Ringlet;
use crate::config::Config;
use crate::credentials::Secret;
use crate::error::{Error, Result};
use crate::launch::LaunchPlan;
use crate::launch::SecretEnv;
use crate::mcp::{McpEntry, McpScope, McpServer, validate_name};
use crate::profile::Profile;

impl Ringlet {
    /// Adds MCP server `name`: for every profile (`profile` `None`, in `config.toml`) or for
    /// one profile. An existing one of that name and scope is replaced only with `replace`.
    /// Secret references (`alias:NAME` env values) are checked for form here and resolved
    /// when a run starts; their secrets are stored with `set_key("mcp", NAME, …)`.
    pub fn add_mcp_server(
        &self,
        name: &str,
        server: &McpServer,
        profile: Option<&str>,
        replace: bool,
    ) -> Result<McpEntry> {
        server.validate(name)?;
        let exists = |scope: &McpScope| {
            Error::InvalidInput(format!(
                "an MCP server named '{name}' already exists ({scope}); remove it first (`ringlet mcp remove {name}{}`) or replace it (--replace)",
                match scope {
                    McpScope::Profile(alias) => format!(" --profile {alias}"),
                    McpScope::Global => String::new(),
                }
            ))
        };
        let scope = match profile {
            Some(alias) => {
                let scope = McpScope::Profile(alias.to_string());
                self.inner.profiles.edit(alias, &mut |current| {
                    if current.mcp.contains_key(name) && !replace {
                        return Err(exists(&scope));
                    }
                    let mut next = current.clone();
                    next.mcp.insert(name.to_string(), server.clone());
                    Ok(next)
                })?;
                scope
            }
            None => {
                let _lock = self.remotes_lock()?;
                let mut doc = self.config_document()?;
                if doc.get("mcp").and_then(|m| m.get(name)).is_some() && !replace {
                    return Err(exists(&McpScope::Global));
                }
                let table = toml::to_string(server)
                    .map_err(|e| Error::InvalidInput(e.to_string()))?
                    .parse::<toml_edit::DocumentMut>()
                    .map_err(|e| self.config_error(&e.to_string()))?;
                let servers = doc
                    .entry("mcp")
                    .or_insert_with(|| {
                        let mut t = toml_edit::Table::new();
                        t.set_implicit(true);
                        toml_edit::Item::Table(t)
                    })
                    .as_table_mut()
                    .ok_or_else(|| self.config_error("`mcp` is not a table"))?;
                servers.insert(name, toml_edit::Item::Table(table.as_table().clone()));
                self.write_config_document(&doc)?;
                McpScope::Global
            }
        };
        Ok(McpEntry {
            name: name.to_string(),
            scope,
            server: server.clone(),
        })
    }

    /// The MCP servers: with `profile`, the ones its agent gets (the global ones and its own,
    /// its own winning by name); without, the global ones and every profile's own.
    pub fn mcp_servers(&self, profile: Option<&str>) -> Result<Vec<McpEntry>> {
        match profile {
            Some(alias) => self.mcp_for(&self.profile(alias)?),
            None => {
                let mut out = global(&Config::load(self.paths())?);
                for p in self.profiles()? {
                    out.extend(own(&p));
                }
                Ok(out)
            }
        }
    }

    /// Removes MCP server `name` from `config.toml` (`profile` `None`) or from one profile;
    /// answers what was removed. The agents' files lose it at the profile's next run (entries
    /// the user changed inside the agent stay).
    pub fn remove_mcp_server(&self, name: &str, profile: Option<&str>) -> Result<McpEntry> {
        validate_name(name)?;
        let missing = |scope: &McpScope| {
            Error::InvalidInput(format!(
                "no MCP server named '{name}' ({scope}); `ringlet mcp list` shows them"
            ))
        };
        match profile {
            Some(alias) => {
                let scope = McpScope::Profile(alias.to_string());
                let mut removed = None;
                self.inner.profiles.edit(alias, &mut |current| {
                    let mut next = current.clone();
                    removed = next.mcp.remove(name);
                    if removed.is_none() {
                        return Err(missing(&scope));
                    }
                    Ok(next)
                })?;
                Ok(McpEntry {
                    name: name.to_string(),
                    scope,
                    server: removed.unwrap_or_default(),
                })
            }
            None => {
                let _lock = self.remotes_lock()?;
                let server = Config::load(self.paths())?
                    .mcp
                    .remove(name)
                    .ok_or_else(|| missing(&McpScope::Global))?;
                let mut doc = self.config_document()?;
                if let Some(servers) = doc.get_mut("mcp").and_then(|m| m.as_table_like_mut()) {
                    servers.remove(name);
                    if servers.is_empty() {
                        doc.remove("mcp");
                    }
                }
                self.write_config_document(&doc)?;
                Ok(McpEntry {
                    name: name.to_string(),
                    scope: McpScope::Global,
                    server,
                })
            }
        }
    }

    /// The MCP servers `profile`'s agent gets.
    pub(super) fn mcp_for(&self, profile: &Profile) -> Result<Vec<McpEntry>> {
        let mut out: Vec<McpEntry> = global(&Config::load(self.paths())?)
            .into_iter()
            .filter(|e| !profile.mcp.contains_key(&e.name))
            .collect();
        out.extend(own(profile));
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Names the MCP secrets in the plan (`mcp_secrets`, and the variables hooks must not
    /// see), refusing a variable the agent, ringlet or the provider key needs.
    pub(super) fn plan_mcp_secrets(&self, plan: &mut LaunchPlan, mcp: &[McpEntry]) -> Result<()> {
        for entry in mcp {
            for (var, key) in entry.server.secrets() {
                let taken = crate::launch::reserved_for_secret(&var)
                    .or_else(|| {
                        plan.secret_env
                            .as_ref()
                            .is_some_and(|s| s.var == var)
                            .then(|| format!("the provider key travels in {var}"))
                    })
                    .or_else(|| {
                        plan.env
                            .contains_key(&var)
                            .then(|| format!("the plan sets {var} itself"))
                    })
                    .or_else(|| {
                        plan.mcp_secrets
                            .iter()
                            .any(|s| {
                                s.var == var && (s.provider != key.provider || s.alias != key.alias)
                            })
                            .then(|| format!("another MCP server's secret travels in {var}"))
                    });
                if let Some(why) = taken {
                    return Err(Error::InvalidInput(format!(
                        "MCP server '{}' wants its secret in {var}, but {why}; give the server another variable name (`ringlet mcp add {} --replace … --env OTHER=alias:{}`)",
                        entry.name, entry.name, key.alias
                    )));
                }
                if plan.mcp_secrets.iter().any(|s| s.var == var) {
                    continue;
                }
                plan.env_remove.retain(|v| *v != var);
                plan.mcp_secrets.push(SecretEnv {
                    var,
                    provider: key.provider,
                    alias: key.alias,
                });
            }
        }
        if !plan.mcp_secrets.is_empty() {
            let vars = crate::launch::SECRET_VARS_ENV;
            let mut names: Vec<String> = plan
                .env
                .get(vars)
                .map(|v| v.split(',').map(str::to_string).collect())
                .unwrap_or_default();
            names.extend(plan.mcp_secrets.iter().map(|s| s.var.clone()));
            plan.env.insert(vars.to_string(), names.join(","));
        }
        Ok(())
    }

    /// The values of the plan's MCP secrets, from the credential store; a missing one is an
    /// error naming the command that stores it.
    pub(super) fn mcp_secret_values(&self, plan: &LaunchPlan) -> Result<Vec<(String, Secret)>> {
        plan.mcp_secrets
            .iter()
            .map(|s| {
                let key =
                    crate::credentials::CredentialKey::new(s.provider.clone(), s.alias.clone());
                match self.credentials().get_for(&key, Some(&plan.profile))? {
                    Some(secret) => Ok((s.var.clone(), secret)),
                    None => Err(Error::MissingKey {
                        provider: s.provider.clone(),
                        alias: s.alias.clone(),
                        backend: self.credentials().backend().to_string(),
                    }),
                }
            })
            .collect()
    }
}

fn global(config: &Config) -> Vec<McpEntry> {
    config
        .mcp
        .iter()
        .map(|(name, server)| McpEntry {
            name: name.clone(),
            scope: McpScope::Global,
            server: server.clone(),
        })
        .collect()
}

fn own(profile: &Profile) -> Vec<McpEntry> {
    profile
        .mcp
        .iter()
        .map(|(name, server)| McpEntry {
            name: name.clone(),
            scope: McpScope::Profile(profile.alias.clone()),
            server: server.clone(),
        })
        .collect()
}
