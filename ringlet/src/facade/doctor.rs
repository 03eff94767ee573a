//! [`Ringlet::doctor`]: every check of docs/doctor.md, in one report.

use super::Ringlet;
use crate::config::CredentialBackend;
use crate::doctor::{
    Check, DoctorReport, LedgerHealth, ledger_health, loose_mode, server_answers, tested_version,
    version_number,
};
use crate::error::Result;
use crate::launch::sandbox::SandboxMode;

/// Where `ringlet serve` listens by default (ringlet-server's `DEFAULT_LISTEN`).
const SERVER_ADDR: &str = "127.0.0.1:8765";
/// The server's token file in the config directory (ringlet-server's `TOKEN_FILE`).
const TOKEN_FILE: &str = "http_token";
/// A `pricing update` snapshot older than this is called old.
const PRICES_OLD_DAYS: i64 = 30;

impl Ringlet {
    /// Checks what can go wrong on this machine and says how to fix each: the agents found and
    /// their versions against those ringlet was tested with; the keychain or the file fallback;
    /// file permissions; the ledger's integrity and size; the prices' age and unpriced models;
    /// the registry snapshot's age and signature; the sandbox; the shims directory on PATH; a
    /// running server and its token. Checks never fail the call: a broken part is a
    /// [`Check`] with status `fail`, and [`DoctorReport::healthy`] is false.
    pub fn doctor(&self) -> Result<DoctorReport> {
        let mut checks = self.doctor_agents();
        checks.push(self.doctor_manifests());
        checks.push(self.doctor_credentials());
        checks.push(self.doctor_permissions());
        let ledger = self.doctor_ledger(&mut checks);
        checks.push(self.doctor_pricing(ledger.as_ref()));
        checks.push(self.doctor_registry());
        checks.push(self.doctor_sandbox());
        checks.push(self.doctor_shims());
        checks.push(self.doctor_server());
        Ok(DoctorReport::new(checks))
    }

    fn doctor_agents(&self) -> Vec<Check> {
        let agents = match self.agents() {
            Ok(agents) => agents,
            Err(e) => {
                return vec![Check::fail(
                    "agents",
                    format!("agents could not be listed: {e}"),
                    "fix the error above",
                )];
            }
        };
        agents
            .into_iter()
            .map(|a| {
                let name = format!("agent:{}", a.id);
                let used = match a.profiles {
                    0 => String::new(),
                    1 => "; 1 profile uses it".into(),
                    n => format!("; {n} profiles use it"),
                };
                if !a.installed {
                    return if a.profiles > 0 {
                        Check::fail(name, format!("not found on PATH{used}"), a.install)
                    } else {
                        Check::ok(name, "not installed (no profile uses it)")
                    };
                }
                let path = a
                    .path
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                let Some(output) = a.version.as_deref() else {
                    return Check::warn(
                        name,
                        format!(
                            "{path} did not report its version: {}",
                            a.version_error.as_deref().unwrap_or("no answer")
                        ),
                        format!(
                            "run `{path} --version` to see why; reinstall with: {}",
                            a.install
                        ),
                    );
                };
                let found = version_number(output).unwrap_or(output);
                match tested_version(&a.id) {
                    Some(tested) if tested != found => Check::warn(
                        name,
                        format!("{found} at {path}; ringlet was tested with {tested}{used}"),
                        format!(
                            "it may well work; if it misbehaves, install the tested version ({})",
                            a.install
                        ),
                    ),
                    Some(_) => Check::ok(
                        name,
                        format!("{found} at {path} (the tested version){used}"),
                    ),
                    None => Check::ok(name, format!("{found} at {path}{used}")),
                }
            })
            .collect()
    }

    fn doctor_manifests(&self) -> Check {
        let problems = self.catalogue().problems();
        if problems.is_empty() {
            Check::ok("manifests", "every agent and provider manifest loads")
        } else {
            Check::warn(
                "manifests",
                problems.join("; "),
                "fix or remove the files named (ringlet agents/providers inspect ID shows the rest)",
            )
        }
    }

    fn doctor_credentials(&self) -> Check {
        if let Some((message, hint)) = &self.inner.credentials_problem {
            return Check::fail(
                "credentials",
                message.clone(),
                hint.clone()
                    .unwrap_or_else(|| "see docs/keychain.md".into()),
            );
        }
        let configured = self
            .inner
            .config
            .credentials
            .backend(&self.paths().config_file());
        if let Err(e) = self.check_credentials() {
            return Check::fail(
                "credentials",
                e.to_string(),
                e.hint()
                    .map(|h| h.to_string())
                    .unwrap_or_else(|| "see docs/keychain.md".into()),
            );
        }
        let using = self.credentials().backend().to_string();
        match configured {
            Ok(CredentialBackend::System) if using == "file" => Check::warn(
                "credentials",
                format!(
                    "no OS keychain reachable: keys are in {} (mode 0600)",
                    self.paths().credentials_file().display()
                ),
                "start a Secret Service (gnome-keyring) in your session, or set [credentials] backend = \"file\" to use the file on purpose",
            ),
            _ => Check::ok("credentials", format!("the {using} backend works")),
        }
    }

    fn doctor_permissions(&self) -> Check {
        let mut fails = Vec::new();
        let mut warns = Vec::new();
        let creds = self.paths().credentials_file();
        if let Some(mode) = loose_mode(&creds) {
            fails.push((creds.clone(), mode, "600"));
        }
        if let Ok(entries) = std::fs::read_dir(self.paths().profiles_dir()) {
            for e in entries.flatten() {
                let home = e.path().join("home");
                if let Some(mode) = loose_mode(&home) {
                    warns.push((home, mode, "700"));
                }
            }
        }
        let describe = |list: &[(std::path::PathBuf, u32, &str)]| {
            list.iter()
                .map(|(p, m, _)| format!("{} is mode {m:03o}", p.display()))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let fix = |list: &[(std::path::PathBuf, u32, &str)]| {
            list.iter()
                .map(|(p, _, want)| format!("chmod {want} {}", p.display()))
                .collect::<Vec<_>>()
                .join(" && ")
        };
        let all: Vec<_> = fails.iter().chain(&warns).cloned().collect();
        if !fails.is_empty() {
            Check::fail(
                "permissions",
                format!("others can read secrets: {}", describe(&all)),
                fix(&all),
            )
        } else if !warns.is_empty() {
            Check::warn(
                "permissions",
                format!("profile homes others can read: {}", describe(&warns)),
                fix(&warns),
            )
        } else {
            Check::ok(
                "permissions",
                "the credentials file and profile homes are private",
            )
        }
    }

    fn doctor_ledger(&self, checks: &mut Vec<Check>) -> Option<LedgerHealth> {
        let path = self.usage_db_path();
        if !path.exists() {
            checks.push(Check::ok("ledger", "no usage ledger yet"));
            return None;
        }
        let fix = format!(
            "move {} aside and run `ringlet usage sync` (agent logs are imported again)",
            path.display()
        );
        match ledger_health(&path) {
            Err(e) => {
                checks.push(Check::fail(
                    "ledger",
                    format!("{} cannot be opened: {e}", path.display()),
                    fix,
                ));
                None
            }
            Ok(h) => {
                let size = mib(h.bytes);
                checks.push(match &h.damage {
                    Some(damage) => Check::fail(
                        "ledger",
                        format!("{} ({size}) is damaged: {damage}", path.display()),
                        fix,
                    ),
                    None => Check::ok(
                        "ledger",
                        format!("{} ({size}) passes integrity_check", path.display()),
                    ),
                });
                Some(h)
            }
        }
    }

    fn doctor_pricing(&self, ledger: Option<&LedgerHealth>) -> Check {
        let status = match self.pricing_status() {
            Ok(s) => s,
            Err(e) => {
                return Check::fail(
                    "pricing",
                    e.to_string(),
                    "run `ringlet pricing update`, or delete the file named to use the built-in prices",
                );
            }
        };
        let source = match (
            &status.updated_at,
            crate::usage::PriceBook::registry_path(self.paths()),
        ) {
            (Some(t), _) => format!("LiteLLM feed of {}", t.format("%Y-%m-%d")),
            (None, Some(_)) => "the registry's LiteLLM feed".into(),
            (None, None) => "the built-in table".into(),
        };
        let detail = format!("{} models priced, from {source}", status.models);
        if let Some(h) = ledger
            && !h.unpriced.is_empty()
        {
            let list = h
                .unpriced
                .iter()
                .map(|(m, n)| format!("{m} ({n} events)"))
                .collect::<Vec<_>>()
                .join(", ");
            return Check::warn(
                "pricing",
                format!("{detail}; unpriced: {list}"),
                "run `ringlet pricing update` (usage is then re-priced); models LiteLLM does not list stay unpriced",
            );
        }
        match status.updated_at {
            Some(t) if (chrono::Utc::now() - t).num_days() > PRICES_OLD_DAYS => Check::warn(
                "pricing",
                format!("{detail}, {} days old", (chrono::Utc::now() - t).num_days()),
                "run `ringlet pricing update`",
            ),
            _ => Check::ok("pricing", detail),
        }
    }

    fn doctor_registry(&self) -> Check {
        let status = match self.registry_status() {
            Ok(s) => s,
            Err(e) => {
                return Check::fail(
                    "registry",
                    e.to_string(),
                    "delete the file named and run `ringlet registry sync`",
                );
            }
        };
        let Some(commit) = &status.commit else {
            return Check::ok(
                "registry",
                "never synced: built-in manifests and your files are used (`ringlet registry sync` fetches more)",
            );
        };
        let age = status
            .age_seconds
            .map(|s| format!("synced {} h ago", s / 3600))
            .unwrap_or_else(|| "sync time unknown".into());
        let pinned = if status.pinned.is_some() {
            ", pinned"
        } else {
            ""
        };
        if let Some(problem) = &status.problem {
            return Check::fail(
                "registry",
                format!("snapshot {commit} does not verify: {problem}"),
                "run `ringlet registry sync --force` to replace it",
            );
        }
        if status.stale && status.pinned.is_none() {
            return Check::warn(
                "registry",
                format!("snapshot {commit} (signature and checksums verified), {age}: stale"),
                "run `ringlet registry sync` (or check that the registry can be reached)",
            );
        }
        Check::ok(
            "registry",
            format!("snapshot {commit}, signature and checksums verified, {age}{pinned}"),
        )
    }

    fn doctor_sandbox(&self) -> Check {
        let needed = self
            .profiles()
            .unwrap_or_default()
            .into_iter()
            .any(|p| p.sandbox.mode == SandboxMode::Always);
        let problem = |detail: String, fix: String| {
            if needed {
                Check::fail(
                    "sandbox",
                    format!("{detail}; a profile runs sandboxed always"),
                    fix,
                )
            } else {
                Check::warn("sandbox", detail, fix)
            }
        };
        #[cfg(target_os = "linux")]
        {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let bwrap = match crate::launch::sandbox::find_bwrap(&path) {
                Ok(b) => b,
                Err(e) => {
                    return problem(
                        e.to_string(),
                        e.hint().map(|h| h.to_string()).unwrap_or_else(|| {
                            "install bubblewrap (`apt-get install bubblewrap`)".into()
                        }),
                    );
                }
            };
            match crate::launch::sandbox::probe(&bwrap, crate::launch::sandbox::Network::Shared) {
                Ok(_) => Check::ok(
                    "sandbox",
                    format!("{} runs with user namespaces", bwrap.display()),
                ),
                Err(e) => problem(
                    e.to_string(),
                    "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, or the AppArmor profile for bwrap on Ubuntu; docs/sandbox.md)".into(),
                ),
            }
        }
        #[cfg(target_os = "macos")]
        {
            if std::path::Path::new(crate::launch::sandbox::SANDBOX_EXEC).exists() {
                Check::ok(
                    "sandbox",
                    format!("{} is present", crate::launch::sandbox::SANDBOX_EXEC),
                )
            } else {
                problem(
                    format!("{} is missing", crate::launch::sandbox::SANDBOX_EXEC),
                    "ringlet's sandbox needs macOS's sandbox-exec".into(),
                )
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "macos")))]
        {
            problem(
                "no sandbox on this OS".into(),
                "run sandboxed profiles on Linux or macOS".into(),
            )
        }
    }

    fn doctor_server(&self) -> Check {
        let token = self.paths().config_dir().join(TOKEN_FILE);
        let token_state = if !token.exists() {
            "no token file yet".to_string()
        } else if let Some(mode) = loose_mode(&token) {
            return Check::fail(
                "server",
                format!(
                    "{} is mode {mode:03o}: other users can read the server's token",
                    token.display()
                ),
                format!(
                    "chmod 600 {} && ringlet daemon rotate-token",
                    token.display()
                ),
            );
        } else {
            format!("token file {} is private (0600)", token.display())
        };
        match server_answers(SERVER_ADDR) {
            None => Check::ok(
                "server",
                format!(
                    "no server on {SERVER_ADDR} (start one with `ringlet serve`); {token_state}"
                ),
            ),
            Some(true) => Check::ok(
                "server",
                format!("a ringlet server answers on {SERVER_ADDR}; {token_state}"),
            ),
            Some(false) => Check::warn(
                "server",
                format!("something that is not a ringlet server listens on {SERVER_ADDR}"),
                "start ringlet's server on another address with `ringlet serve --listen ADDR`",
            ),
        }
    }

    /// The shims `ringlet aliases install` wrote in `~/.local/bin`: whether the shell finds
    /// them (the directory on PATH) and whether their profiles still exist.
    fn doctor_shims(&self) -> Check {
        let dir = match self.default_shim_dir() {
            Ok(dir) => dir,
            Err(e) => return Check::warn("shims", e.to_string(), "set HOME"),
        };
        let on_path = crate::setup::shim::on_path(&dir, std::env::var_os("PATH").as_deref());
        let shims = match self.shims(None) {
            Ok(shims) => shims,
            Err(e) => {
                return Check::warn(
                    "shims",
                    e.to_string(),
                    format!("make {} readable", dir.display()),
                );
            }
        };
        let export = format!(
            "add `export PATH=\"{}:$PATH\"` to your shell's profile",
            dir.display()
        );
        if !shims.is_empty() && !on_path {
            let names: Vec<&str> = shims.iter().map(|s| s.name.as_str()).collect();
            return Check::fail(
                "shims",
                format!(
                    "{} is not on PATH, so the shell does not find the shims there: {}",
                    dir.display(),
                    names.join(", ")
                ),
                export,
            );
        }
        let orphans: Vec<String> = shims
            .iter()
            .filter(|s| !s.profile_exists)
            .map(|s| format!("{} (profile '{}')", s.name, s.profile))
            .collect();
        if !orphans.is_empty() {
            return Check::warn(
                "shims",
                format!("shims of deleted profiles: {}", orphans.join(", ")),
                "remove them with `ringlet aliases uninstall`",
            );
        }
        match (on_path, shims.len()) {
            (true, 0) => Check::ok(
                "shims",
                format!("{} is on PATH (no shims yet)", dir.display()),
            ),
            (true, n) => Check::ok(
                "shims",
                format!("{n} shim(s) in {}, which is on PATH", dir.display()),
            ),
            (false, _) => Check::warn(
                "shims",
                format!(
                    "{} is not on PATH: shims written there would not be found",
                    dir.display()
                ),
                export,
            ),
        }
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
