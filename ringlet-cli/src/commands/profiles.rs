use std::process::ExitCode;

use anyhow::{Context, bail};
use ringlet::{
    Budget, DeleteOptions, KeyOnDelete, KeyOutcome, NewProfile, Profile, ProfileUpdate, ProxyMode,
    Ringlet, RunOptions,
};

use crate::cli::{CreateArgs, ProfilesCmd, SetArgs};
use crate::output::{self, or_dash};
use crate::output::{errln, outln};
use crate::prompt;

/// `home`: the `--home` (or `RINGLET_HOME`) ringlet was given, which a status line command
/// written into a profile must name too.
pub fn run(
    ringlet: &Ringlet,
    cmd: ProfilesCmd,
    home: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    match cmd {
        ProfilesCmd::Create(args) => create(ringlet, *args, home),
        ProfilesCmd::Set(args) => set(ringlet, *args, home),
        ProfilesCmd::List(j) => {
            let profiles = ringlet.profiles()?;
            if j.json {
                output::json(&profiles)?;
            } else if profiles.is_empty() {
                errln!(
                    "No profiles yet. Create one with `ringlet profiles create <agent> <alias> --provider <provider>`."
                );
            } else {
                let mut t =
                    output::table(&["ALIAS", "AGENT", "PROVIDER", "MODEL", "RUNS", "LAST USED"]);
                for p in &profiles {
                    t.add_row([
                        p.alias.clone(),
                        p.agent.clone(),
                        p.provider.clone(),
                        or_dash(p.model.as_deref()),
                        p.metadata.total_runs.to_string(),
                        or_dash(p.metadata.last_used.map(|t| t.format("%Y-%m-%d %H:%M"))),
                    ]);
                }
                output::print_table(&t);
            }
            Ok(ExitCode::SUCCESS)
        }
        ProfilesCmd::Inspect { alias, json } => {
            let p = ringlet.profile(&alias)?;
            if json.json {
                output::json(&p)?;
            } else {
                inspect(ringlet, &p)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        ProfilesCmd::Delete {
            alias,
            yes,
            keep_key,
            remove_key,
            json,
        } => delete(ringlet, &alias, yes, keep_key, remove_key, json),
        ProfilesCmd::Run {
            alias,
            args,
            sandbox,
            no_sandbox,
            remote,
            prompt,
            json,
        } => {
            let alias = match alias {
                Some(alias) => alias,
                None => super::setup::chosen_profile(ringlet)?,
            };
            if let Some(name) = remote {
                #[cfg(feature = "server")]
                return super::remotes::run_remote(ringlet, &name, &alias, args);
                #[cfg(not(feature = "server"))]
                anyhow::bail!(
                    "this ringlet was built without the `server` feature, which --remote {name} needs"
                );
            }
            // Settle the credential backend now, so a fallback warning comes before the agent
            // takes over the terminal rather than after it exits.
            if ringlet.profile(&alias)?.key_alias.is_some() {
                ringlet.check_credentials()?;
                output::warnings(ringlet, false);
            }
            let mut options = RunOptions::default();
            if sandbox || no_sandbox {
                options = options.sandbox(sandbox);
            }
            if let Some(prompt) = prompt {
                return super::prompt::run(ringlet, &alias, &prompt, options, json);
            }
            // The same orchestration as every binding's: start, then wait.
            let outcome = ringlet.start(&alias, &args, options)?.wait()?;
            Ok(ExitCode::from(u8::try_from(outcome.exit_code).unwrap_or(1)))
        }
        ProfilesCmd::Env { alias, args, json } => {
            let plan = ringlet.plan_run(&alias, &args)?;
            if json.json {
                // The plan with its `env` replaced by the masked one, which also names the key's
                // variable: one `env` key (a second one would be silently dropped by parsers).
                let mut view = serde_json::to_value(&plan)?;
                let env: serde_json::Map<String, serde_json::Value> = plan
                    .masked_env()
                    .into_iter()
                    .map(|e| (e.name, e.value.into()))
                    .collect();
                view["env"] = env.into();
                output::json(&view)?;
            } else {
                for e in plan.masked_env() {
                    outln!("{}={}", e.name, e.value);
                }
                errln!();
                errln!(
                    "# removed from the inherited environment: {}",
                    plan.env_remove.join(" ")
                );
                for f in &plan.files {
                    errln!("# writes {}", f.path.display());
                }
                errln!("# runs: {} {}", plan.program.display(), plan.args.join(" "));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn delete(
    ringlet: &Ringlet,
    alias: &str,
    yes: bool,
    keep_key: bool,
    remove_key: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let key = match (keep_key, remove_key) {
        (true, _) => KeyOnDelete::Keep,
        (_, true) => KeyOnDelete::Remove,
        _ => KeyOnDelete::IfUnused,
    };
    let options = DeleteOptions::new().key(key);
    // What would happen, checked (the profile exists, a removal is allowed) before asking.
    let plan = ringlet.delete_profile_with(alias, &options.clone().dry_run(true))?;
    if !yes {
        if !prompt::interactive() {
            bail!(
                "deleting profile '{alias}' removes {}; pass --yes to confirm (stdin is not a terminal to ask on)",
                plan.home.display()
            );
        }
        let key_part = match (&plan.key, plan.key_outcome) {
            (Some(k), KeyOutcome::Removed) => format!(" and its key {k}"),
            _ => String::new(),
        };
        if !prompt::confirm(&format!(
            "Delete profile '{alias}', its HOME {}{key_part}?",
            plan.home.display()
        ))? {
            errln!("Nothing deleted.");
            return Ok(ExitCode::FAILURE);
        }
    }
    let report = ringlet.delete_profile_with(alias, &options)?;
    if json {
        output::json(&report)?;
    } else {
        errln!("Deleted profile '{alias}' and its HOME.");
    }
    if let Some(k) = &report.key {
        let others = || {
            report
                .shared_with
                .iter()
                .map(|a| format!("'{a}'"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match report.key_outcome {
            KeyOutcome::Removed if !json => errln!("Removed its key {k}."),
            KeyOutcome::Kept if !json => errln!("Kept its key {k} (--keep-key)."),
            KeyOutcome::Shared if !json => {
                errln!("Kept its key {k}: profile {} uses it too.", others())
            }
            KeyOutcome::NotStored if !json => errln!("Its key {k} was not stored."),
            KeyOutcome::Failed => {
                // The profile is gone; the key is not: a warning, whatever the format.
                let message = format!(
                    "the key {k} was not removed: {}; remove it with `ringlet keychain remove {} {}`",
                    report.key_error.as_deref().unwrap_or("unknown error"),
                    k.provider,
                    k.alias
                );
                if json {
                    errln!(
                        "{}",
                        serde_json::json!({ "warning": { "code": "key_not_removed", "message": message } })
                    );
                } else {
                    errln!("ringlet: warning: {message}");
                }
            }
            _ => {}
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn create(
    ringlet: &Ringlet,
    a: CreateArgs,
    home: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let mut env = std::collections::BTreeMap::new();
    for pair in &a.env {
        let (k, v) = pair
            .split_once('=')
            .with_context(|| format!("--env '{pair}' must be KEY=VALUE"))?;
        env.insert(k.to_string(), v.to_string());
    }
    let req = NewProfile {
        agent: a.agent,
        alias: a.alias,
        provider: a.provider,
        endpoint: a.endpoint,
        custom_endpoint: a.custom_endpoint,
        shape: a.shape,
        model: a.model,
        key_alias: a.key_alias,
        env,
        working_dir: a.working_dir,
        binary: a.binary,
        args: a.args,
        proxy: a
            .proxy
            .as_deref()
            .map(ProxyMode::parse)
            .transpose()?
            .unwrap_or_default(),
        budget: Budget {
            day: a.budget_day,
            month: a.budget_month,
        },
    };
    // Validate everything before asking for a key, so a typo never costs a paste.
    let mut unstored = None;
    let key = match (ringlet.missing_key(&req)?, &a.key_from_env) {
        (_, Some(var)) => Some(prompt::from_env(var)?),
        (Some(name), None) if prompt::interactive() => Some(prompt::ask(&name)?),
        (Some(name), None) => {
            unstored = Some(name);
            None
        }
        (None, None) => None,
    };
    if a.statusline && req.agent != "claude" {
        bail!(
            "--statusline is for Claude Code profiles; {} has no status line setting",
            req.agent
        );
    }
    let profile = ringlet.create_profile(&req, key.as_ref())?;
    if a.statusline {
        let settings =
            ringlet.set_statusline(&profile.alias, Some(&super::statusline::command(home)?))?;
        output::status_line(&format!("Status line on: {}", settings.display()));
    }
    // Only once the profile exists: advice about running it means nothing after a failure.
    if let Some(name) = unstored.filter(|_| !output::quiet()) {
        let message = format!(
            "no key stored for {name}; add one with `ringlet keychain set {} {}` before running (or pass --key-from-env VAR)",
            name.provider, name.alias
        );
        if a.json {
            output::err_line(
                &serde_json::json!({ "warning": { "code": "missing_key", "message": message } })
                    .to_string(),
            );
        } else {
            output::err_line(&format!("ringlet: warning: {}", output::clean(&message)));
        }
    }
    if a.json {
        output::json(&profile)?;
    } else {
        errln!(
            "Created profile '{}' ({} via {}, model {}).",
            profile.alias,
            profile.agent,
            profile.provider,
            or_dash(profile.model.as_deref())
        );
        errln!("Run it with: ringlet profiles run {}", profile.alias);
    }
    Ok(ExitCode::SUCCESS)
}

fn set(ringlet: &Ringlet, a: SetArgs, home: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    let mut update = ProfileUpdate::new();
    if let Some(mode) = &a.sandbox {
        update = update.sandbox_named(mode)?;
    }
    update.model = a.model;
    update.endpoint = a.endpoint;
    update.custom_endpoint = a.custom_endpoint;
    update.shape = a.shape;
    for pair in &a.env {
        let (k, v) = pair
            .split_once('=')
            .with_context(|| format!("--env '{pair}' must be KEY=VALUE"))?;
        update = update.set_env(k, v);
    }
    update.unset_env = a.unset_env;
    update.working_dir = a.working_dir;
    update.clear_working_dir = a.clear_working_dir;
    update.binary = a.binary;
    update.clear_binary = a.clear_binary;
    update.proxy = a.proxy.as_deref().map(ProxyMode::parse).transpose()?;
    update.budget_day = a.budget_day;
    update.budget_month = a.budget_month;
    update.clear_budget = a.clear_budget;
    if a.clear_args {
        update = update.args(Vec::<String>::new());
    } else if !a.args.is_empty() {
        update = update.args(a.args);
    }
    // The rules are checked before anything changes, and installed after the profile's other
    // settings, which they are checked against (its shape, its key alias).
    #[cfg(feature = "proxy")]
    let rules = match &a.routing {
        Some(path) => Some((crate::commands::routing::read_rules(path)?, path.clone())),
        None => None,
    };
    #[cfg(feature = "proxy")]
    if let Some((text, path)) = &rules {
        ringlet.check_routing(&a.alias, text, path)?;
    }
    #[cfg(feature = "proxy")]
    let routing = rules.is_some() || a.no_routing;
    #[cfg(not(feature = "proxy"))]
    let routing = false;
    // The status line (in the agent's settings) and the routing rules (routing.toml) live
    // outside profile.toml: alone, they are the whole change.
    let profile = if update.is_empty() && (a.statusline.is_some() || routing) {
        ringlet.profile(&a.alias)?
    } else {
        ringlet.update_profile(&a.alias, &update)?
    };
    if let Some(state) = a.statusline.as_deref() {
        let command = match state {
            "on" => Some(super::statusline::command(home)?),
            _ => None,
        };
        let settings = ringlet.set_statusline(&profile.alias, command.as_deref())?;
        output::status_line(&format!("Status line {state}: {}", settings.display()));
    }
    #[cfg(feature = "proxy")]
    if let Some((text, path)) = &rules {
        let plan = ringlet.set_routing(&a.alias, Some((text, path)))?;
        if !a.json
            && let Some(plan) = plan
        {
            errln!(
                "Routing rules installed: {} rules and a default.",
                plan.rules.len()
            );
        }
    } else if a.no_routing {
        ringlet.set_routing(&a.alias, None)?;
    }
    if a.json {
        output::json(&profile)?;
    } else {
        errln!(
            "Updated profile '{}' ({} via {}, model {}, sandbox {}).",
            profile.alias,
            profile.agent,
            profile.provider,
            or_dash(profile.model.as_deref()),
            profile.sandbox.mode
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `day $10, month $100`, or `-`.
fn budget_text(b: &Budget) -> String {
    let parts: Vec<String> = [("day", b.day), ("month", b.month)]
        .into_iter()
        .filter_map(|(name, usd)| usd.map(|usd| format!("{name} ${usd}")))
        .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

fn inspect(ringlet: &Ringlet, p: &Profile) -> anyhow::Result<()> {
    let home = ringlet.profile_home(&p.alias)?;
    output::fields(&[
        ("alias", p.alias.clone()),
        ("agent", p.agent.clone()),
        ("provider", p.provider.clone()),
        (
            "endpoint",
            or_dash(p.endpoint_url.as_deref().or(p.endpoint.as_deref())),
        ),
        ("shape", p.shape.to_string()),
        ("model", or_dash(p.model.as_deref())),
        (
            "key",
            or_dash(p.key_alias.as_ref().map(|k| format!("{}/{k}", p.provider))),
        ),
        ("home", home.display().to_string()),
        (
            "working dir",
            or_dash(p.working_dir.as_ref().map(|d| d.display())),
        ),
        ("binary", or_dash(p.binary.as_ref().map(|d| d.display()))),
        ("sandbox", p.sandbox.mode.to_string()),
        (
            "status line",
            if ringlet.statusline_enabled(&p.alias)? {
                "on (ringlet statusline)".to_string()
            } else {
                "-".to_string()
            },
        ),
        ("proxy", p.proxy.as_str().to_string()),
        ("budget", budget_text(&p.budget)),
        ("args", p.args.join(" ")),
        ("env", p.env.keys().cloned().collect::<Vec<_>>().join(", ")),
        ("created", p.metadata.created_at.to_rfc3339()),
        (
            "last used",
            or_dash(p.metadata.last_used.map(|t| t.to_rfc3339())),
        ),
        ("runs", p.metadata.total_runs.to_string()),
    ]);
    Ok(())
}
