//! Supervised setup tasks (`ringlet env setup`, `ringlet env tasks`) and the profile chosen
//! for a directory when none is named (`[[directory-mapping]]`, `RINGLET_DEFAULT_PROFILE`).

use std::path::{Path, PathBuf};

use super::Ringlet;
use crate::alias::validate_alias;
use crate::error::{Error, Result};
use crate::launch::{AgentCommand, EnvPolicy, materialise};
use crate::setup::mapping::choose;
use crate::setup::task::{TASK_LOG_DIR, TaskRunReport, run_logged};
use crate::setup::{DEFAULT_PROFILE_ENV, ProfileChoice, TaskInfo, TaskOrigin};

impl Ringlet {
    /// The setup tasks a profile can run: its agent manifest's, then its own (which replace
    /// an agent task of the same name), by name.
    pub fn setup_tasks(&self, alias: &str) -> Result<Vec<TaskInfo>> {
        let profile = self.profile(alias)?;
        let agent = self.catalogue().agent(&profile.agent)?;
        let mut tasks: std::collections::BTreeMap<String, TaskInfo> = agent
            .manifest()
            .tasks
            .iter()
            .map(|(name, t)| {
                (
                    name.clone(),
                    TaskInfo {
                        name: name.clone(),
                        description: t.description.clone(),
                        run: t.run.clone(),
                        origin: TaskOrigin::Agent,
                    },
                )
            })
            .collect();
        for (name, t) in &profile.tasks {
            tasks.insert(
                name.clone(),
                TaskInfo {
                    name: name.clone(),
                    description: t.description.clone(),
                    run: t.run.clone(),
                    origin: TaskOrigin::Profile,
                },
            );
        }
        Ok(tasks.into_values().collect())
    }

    /// Runs a profile's setup task with `/bin/sh -c`, in the environment a run of the profile
    /// gets (its HOME, provider settings and key; the agent's config files written first) and
    /// the directory a run starts in, appending its output to `<profile dir>/tasks/<task>.log`.
    /// With `echo` its output also goes to this process's stdout/stderr and it reads stdin
    /// (a terminal frontend); without, its stdin is empty. Never sandboxed: a setup task is
    /// the user's own deliberate step. The task's exit status is in the report; an error means
    /// it could not be started.
    pub fn run_setup_task(&self, alias: &str, task: &str, echo: bool) -> Result<TaskRunReport> {
        let tasks = self.setup_tasks(alias)?;
        let Some(info) = tasks.iter().find(|t| t.name == task) else {
            let known: Vec<&str> = tasks.iter().map(|t| t.name.as_str()).collect();
            return Err(Error::InvalidInput(format!(
                "profile '{alias}' has no setup task '{}'; {}",
                task.escape_debug(),
                if known.is_empty() {
                    "it has none: define one as [tasks.NAME] run = \"…\" in its profile.toml or its agent's manifest".to_string()
                } else {
                    format!("its tasks are: {}", known.join(", "))
                }
            )));
        };
        validate_alias(&info.name).map_err(|_| {
            Error::InvalidInput(format!(
                "setup task name '{}' cannot name a log file; use letters, digits, '-', '_' or '.'",
                info.name.escape_debug()
            ))
        })?;
        let profile = self.profile(alias)?;
        let plan = self.plan_for(&profile, &[], false, None, None)?;
        let key = self.key_for(&plan)?;
        let command = AgentCommand::from_plan(
            &plan,
            key.as_ref(),
            EnvPolicy::InheritMinusConflicts.inherited(std::env::vars_os()),
        );
        let hold = self.inner.profiles.hold(alias)?;
        std::fs::create_dir_all(&plan.home).map_err(|e| Error::io("creating", &plan.home, e))?;
        materialise(&plan, key.as_ref())?;
        let log = self
            .inner
            .profiles
            .profile_dir(alias)
            .join(TASK_LOG_DIR)
            .join(format!("{}.log", info.name));
        let header = format!(
            "--- ringlet env setup {alias} {} at {}: {}",
            info.name,
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            info.run
        );
        let (exit_code, duration_ms) = run_logged(&command, &info.run, &header, &log, echo)?;
        drop(hold);
        Ok(TaskRunReport {
            profile: alias.to_string(),
            task: info.name.clone(),
            exit_code,
            log,
            duration_ms,
        })
    }

    /// The profile to run in `dir` when none is named: the `[[directory-mapping]]` of
    /// config.toml whose path holds `dir` with the most components (symlinks resolved, `~` the
    /// user's HOME), else `env_default` (a frontend passes `RINGLET_DEFAULT_PROFILE`). An
    /// error, saying how to choose, when neither applies.
    pub fn default_profile(&self, dir: &Path, env_default: Option<&str>) -> Result<ProfileChoice> {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        choose(
            &self.inner.config.directory_mapping,
            dir,
            env_default,
            home.as_deref(),
        )?
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "no profile named, and none chosen for {}: no [[directory-mapping]] in {} holds it and {DEFAULT_PROFILE_ENV} is not set; name the profile, map the directory (add [[directory-mapping]] path = \"{}\", profile = \"ALIAS\" to config.toml) or set {DEFAULT_PROFILE_ENV}",
                dir.display(),
                self.paths().config_file().display(),
                dir.display()
            ))
        })
    }
}
