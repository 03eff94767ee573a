//! The final command a launcher starts: program, argv, the complete environment and the working
//! directory. Plain data, so the child process launcher and the PTY launcher start exactly the
//! same thing, and nothing is read from ringlet's own environment unless the caller passes it in.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

use super::plan::LaunchPlan;
use crate::credentials::Secret;

/// A fully resolved command. `env` is the child's **whole** environment: a launcher clears
/// everything else, so nothing of the launching process leaks in by accident.
///
/// A `program` without a slash is looked up on the `PATH` in `env` (not ringlet's own), as
/// `execvp` does with the child's environment.
///
/// `Debug` shows the variable names only: the environment may hold the key.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AgentCommand {
    /// The program: a path, or a name looked up on `PATH` in `env`.
    pub program: PathBuf,
    /// Arguments, without the program itself.
    pub args: Vec<OsString>,
    /// The complete environment, in order; a later entry for the same name wins.
    pub env: Vec<(OsString, OsString)>,
    /// The directory the program starts in.
    pub cwd: PathBuf,
}

impl AgentCommand {
    /// A command with no arguments and an empty environment.
    pub fn new(program: impl Into<PathBuf>, cwd: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            cwd: cwd.into(),
        }
    }

    /// Appends an argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends arguments.
    pub fn args<I, A>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets a variable (replacing an earlier entry of the same name).
    pub fn env(mut self, name: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        let name = name.into();
        self.env.retain(|(n, _)| *n != name);
        self.env.push((name, value.into()));
        self
    }

    /// The command that runs `plan`: `inherited` (the caller's choice of base environment,
    /// e.g. `std::env::vars_os()` for a CLI) minus the plan's removals, plus the plan's
    /// variables, plus the key under the plan's variable when there is one.
    pub fn from_plan(
        plan: &LaunchPlan,
        key: Option<&Secret>,
        inherited: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> Self {
        // Removed: what the plan sets itself and what it removes (by name or by prefix, like
        // other profiles' `RINGLET_KEY_*`).
        let set = |name: &OsString| {
            plan.removes(name) || name.to_str().is_some_and(|n| plan.env.contains_key(n))
        };
        let mut env: Vec<(OsString, OsString)> =
            inherited.into_iter().filter(|(n, _)| !set(n)).collect();
        env.extend(
            plan.env
                .iter()
                .map(|(n, v)| (OsString::from(n), OsString::from(v))),
        );
        if let (Some(secret), Some(key)) = (&plan.secret_env, key) {
            env.retain(|(n, _)| *n != *secret.var);
            env.push((secret.var.clone().into(), key.expose().into()));
        }
        Self {
            program: plan.program.clone(),
            args: plan.args.iter().map(OsString::from).collect(),
            env,
            cwd: plan.cwd.clone(),
        }
    }

    /// The environment with duplicates resolved (the last entry of a name wins), in order of
    /// first appearance.
    pub fn resolved_env(&self) -> Vec<(&OsString, &OsString)> {
        let mut out: Vec<(&OsString, &OsString)> = Vec::with_capacity(self.env.len());
        for (name, value) in &self.env {
            match out.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = value,
                None => out.push((name, value)),
            }
        }
        out
    }

    /// A `std::process::Command` for this command, with the environment cleared first.
    pub fn to_std(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(&self.program);
        cmd.args(&self.args)
            .current_dir(&self.cwd)
            .env_clear()
            .envs(self.env.iter().map(|(n, v)| (n, v)));
        cmd
    }
}

impl fmt::Debug for AgentCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentCommand")
            .field("program", &self.program)
            .field("args", &self.args)
            .field(
                "env",
                &self
                    .resolved_env()
                    .iter()
                    .map(|(n, _)| n)
                    .collect::<Vec<_>>(),
            )
            .field("cwd", &self.cwd)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::catalog::wire::WireShape;
    use crate::launch::plan::SecretEnv;

    fn plan() -> LaunchPlan {
        LaunchPlan {
            profile: "work".into(),
            agent: "claude".into(),
            provider: "anthropic".into(),
            shape: WireShape::Anthropic,
            base_url: "https://api.example".into(),
            model: None,
            program: "/opt/agent".into(),
            args: vec!["--flag".into()],
            cwd: "/work/project".into(),
            home: "/profiles/work".into(),
            env: BTreeMap::from([
                ("HOME".to_string(), "/profiles/work".to_string()),
                ("PATH".to_string(), "/opt/bin".to_string()),
            ]),
            secret_env: Some(SecretEnv {
                var: "ANTHROPIC_API_KEY".into(),
                provider: "anthropic".into(),
                alias: "work".into(),
            }),
            mcp_secrets: vec![],
            env_remove: vec!["OPENAI_API_KEY".into()],
            env_remove_prefixes: vec!["RINGLET_KEY_".into()],
            dirs: vec![],
            files: vec![],
            native_events: vec![],
        }
    }

    fn os(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(n, v)| (OsString::from(n), OsString::from(v)))
            .collect()
    }

    #[test]
    fn from_plan_removes_overrides_and_adds_the_key() {
        let inherited = os(&[
            ("TERM", "xterm"),
            ("HOME", "/home/user"),
            ("OPENAI_API_KEY", "leak"),
            ("PATH", "/usr/bin"),
            ("ANTHROPIC_API_KEY", "other"),
            ("RINGLET_KEY_OPENAI_B", "another profile's key"),
        ]);
        let cmd = AgentCommand::from_plan(&plan(), Some(&Secret::new("sk-1")), inherited);
        assert_eq!(cmd.program, PathBuf::from("/opt/agent"));
        assert_eq!(cmd.args, vec![OsString::from("--flag")]);
        assert_eq!(cmd.cwd, PathBuf::from("/work/project"));
        assert_eq!(
            cmd.env,
            os(&[
                ("TERM", "xterm"),
                ("HOME", "/profiles/work"),
                ("PATH", "/opt/bin"),
                ("ANTHROPIC_API_KEY", "sk-1"),
            ])
        );
    }

    #[test]
    fn from_plan_with_nothing_inherited_has_only_the_plans_variables() {
        let cmd = AgentCommand::from_plan(&plan(), None, Vec::new());
        assert_eq!(
            cmd.env,
            os(&[("HOME", "/profiles/work"), ("PATH", "/opt/bin")])
        );
    }

    #[test]
    fn debug_names_variables_but_never_shows_values() {
        let cmd = AgentCommand::from_plan(&plan(), Some(&Secret::new("sk-secret")), Vec::new());
        let shown = format!("{cmd:?}");
        assert!(shown.contains("ANTHROPIC_API_KEY"), "{shown}");
        assert!(!shown.contains("sk-secret"), "{shown}");
    }

    #[test]
    fn env_replaces_and_resolved_env_keeps_the_last_entry() {
        let mut cmd = AgentCommand::new("sh", "/")
            .env("A", "1")
            .env("B", "2")
            .env("A", "3");
        assert_eq!(cmd.env, os(&[("B", "2"), ("A", "3")]));
        cmd.env.push(("B".into(), "4".into()));
        let resolved: Vec<_> = cmd.resolved_env();
        assert_eq!(
            resolved,
            vec![
                (&OsString::from("B"), &OsString::from("4")),
                (&OsString::from("A"), &OsString::from("3")),
            ]
        );
    }

    #[test]
    fn to_std_runs_with_exactly_the_given_environment() {
        // The test process has PATH and CARGO_MANIFEST_DIR; neither may reach the child.
        assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
        let dir = tempfile::tempdir().expect("tempdir");
        let cwd = dir.path().canonicalize().expect("canonical");
        let cmd = AgentCommand::new("/bin/sh", &cwd)
            .args(["-c", "pwd; /usr/bin/env"])
            .env("ONLY", "1");
        let out = cmd.to_std().output().expect("run sh");
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines: Vec<&str> = text.lines().collect();
        let pwd = lines.remove(0);
        assert_eq!(pwd, cwd.display().to_string());
        // sh itself exports PWD (and may set OLDPWD/SHLVL); nothing of ringlet's.
        lines.retain(|l| {
            !["PWD=", "OLDPWD=", "SHLVL="]
                .iter()
                .any(|p| l.starts_with(p))
        });
        assert_eq!(lines, vec!["ONLY=1"]);
    }
}
