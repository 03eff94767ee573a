//! The hooks part of the [`Ringlet`] facade: managing rules, dispatching agents' hook calls,
//! firing `start`/`stop` around a launch, and the scheduled `cost-threshold` / `daily-rollup`
//! checks.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Event, Ringlet};
use crate::error::{Error, Result};
use crate::error_kind::Field;
use crate::hooks::{
    self, Decision, DispatchOutcome, FireReport, FiredLedger, Firing, HookAction, HookContext,
    HookEntry, HookEvent, HookRule, HookStore, Period, ProfileRef, ShellMode, Threshold,
    ThresholdScope,
};
use crate::launch::{LaunchPlan, RunOutcome};
use crate::usage::UsageStore;

/// The variable the launcher sets in the agent's environment with the launch time (ms since
/// the Unix epoch), so `stop` hooks dispatched by the agent can report `RINGLET_DURATION_MS`.
pub const RUN_STARTED_ENV: &str = "RINGLET_RUN_STARTED_MS";

/// A request to add a hook (`ringlet hooks add`). Exactly one of `shell`, `rhai_file`,
/// `rhai_script` and `webhook` is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NewHook {
    /// The profile the hook belongs to; `None` for every profile (`--all-profiles`).
    pub profile: Option<String>,
    /// The event (`pre-tool-use`, `tool-use`, `stop`, `start`, `notify`, `cost-threshold`,
    /// `daily-rollup`).
    pub event: String,
    /// A shell command.
    pub shell: Option<String>,
    /// A Rhai gate script file (read now and stored in the rule).
    pub rhai_file: Option<PathBuf>,
    /// A Rhai gate script's source.
    pub rhai_script: Option<String>,
    /// A webhook URL.
    pub webhook: Option<String>,
    /// The webhook's JSON template.
    pub webhook_template: Option<String>,
    /// Tool matcher for tool events.
    pub matcher: Option<String>,
    /// Timeout in ms (default 2000).
    pub timeout_ms: Option<u64>,
    /// `day` or `month`, for `cost-threshold`.
    pub period: Option<String>,
    /// USD threshold, for `cost-threshold`.
    pub threshold: Option<f64>,
    /// The budget the threshold is part of, for `cost-threshold`.
    pub of: Option<f64>,
    /// `profile` (default) or `team`, for `cost-threshold`: whose spend counts, and whether the
    /// hook fires once per profile on this machine or once for the whole team (docs/team.md).
    pub scope: Option<String>,
}

/// What `hooks test` found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookTestReport {
    /// The rule tested.
    pub hook: HookEntry,
    /// The event it was given.
    pub context: HookContext,
    /// Whether the rule applies to this payload (its matcher and scope).
    pub applies: bool,
    /// For `pre-tool-use`: the decision.
    pub decision: Option<Decision>,
    /// For other events: what the action did (run to completion, not detached).
    pub fired: Option<FireReport>,
}

/// What `hooks import` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookImportReport {
    /// Ids added.
    pub added: Vec<String>,
    /// Ids already present with the same content.
    pub unchanged: Vec<String>,
}

/// The export format: a list of rules with their scopes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HookBundle {
    #[serde(default)]
    hooks: Vec<HookEntry>,
}

/// Started `start` hooks, joined when the agent exits.
#[derive(Debug)]
pub(crate) struct StartedHooks(Option<JoinHandle<Vec<FireReport>>>);

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The `pre-tool-use` callback: exit 0 allows, and everything else becomes exit 2 (deny) —
/// also when ringlet cannot run at all (moved, deleted, crashed), since agents treat any exit
/// code but 2 as "go ahead".
pub(crate) fn gate_command(hook_command: &str) -> String {
    format!(
        "{{ {hook_command} pre-tool-use; }} || {{ s=$?; [ \"$s\" -eq 2 ] || echo \"ringlet hooks dispatch could not run (exit $s); denying the tool call\" >&2; exit 2; }}"
    )
}

impl Ringlet {
    pub(super) fn hook_store(&self) -> HookStore {
        HookStore::new(
            self.paths().config_dir().join(hooks::HOOKS_DIR),
            self.paths().profiles_dir(),
        )
    }

    /// Variables removed from a hook's environment: every provider key and setting an agent
    /// reads and every `RINGLET_KEY_*` (the agent's own environment holds its API key; a hook
    /// never gets it).
    fn hook_scrub(&self) -> Vec<String> {
        hooks::scrub_list(self.catalogue().conflicting_env())
    }

    /// Where `~` points for a hook: it runs with the user's HOME (`user_home` when this
    /// process's HOME is not the user's, as in `hooks dispatch` under an agent), and the
    /// profile's HOME is in `RINGLET_PROFILE_HOME`.
    fn set_homes(&self, ctx: &mut HookContext, user_home: Option<&Path>) {
        if ctx.profile != "*" && self.has_profile(&ctx.profile).unwrap_or(false) {
            ctx.profile_home = self
                .profile_home(&ctx.profile)
                .ok()
                .map(|h| h.display().to_string());
        }
        ctx.user_home = user_home.map(|h| h.display().to_string());
    }

    /// Every hook rule: global ones, then each profile's.
    pub fn hooks(&self) -> Result<Vec<HookEntry>> {
        self.hook_store().all()
    }

    /// The rules that apply to one profile (global ones first).
    pub fn hooks_for(&self, alias: &str) -> Result<Vec<HookEntry>> {
        self.hook_store().for_profile(alias)
    }

    /// Adds a hook and returns it with its new id.
    pub fn add_hook(&self, req: &NewHook) -> Result<HookEntry> {
        let event = HookEvent::parse(req.event.trim())?;
        if let Some(alias) = &req.profile
            && !self.has_profile(alias)?
        {
            return Err(self.inner.profiles.not_found(alias));
        }
        let given = [
            req.shell.is_some(),
            req.rhai_file.is_some(),
            req.rhai_script.is_some(),
            req.webhook.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        const ACTIONS: &str =
            "a shell command, a Rhai script (a file or its text) or a webhook URL";
        if given == 0 {
            return Err(Error::missing_field(
                Field::HookAction,
                format!("a hook needs an action: {ACTIONS}"),
            ));
        }
        if given > 1 {
            return Err(Error::invalid_field(
                Field::HookAction,
                format!("give exactly one action: {ACTIONS}"),
            ));
        }
        if req.webhook_template.is_some() && req.webhook.is_none() {
            return Err(Error::missing_field(
                Field::Webhook,
                "a webhook template needs a webhook URL",
            ));
        }
        let action = if let Some(command) = &req.shell {
            HookAction::Shell {
                command: command.clone(),
            }
        } else if let Some(path) = &req.rhai_file {
            let abs = std::path::absolute(path).map_err(|e| Error::io("resolving", path, e))?;
            HookAction::Rhai {
                script: crate::fsio::read_file_capped(&abs, hooks::MAX_RHAI_SCRIPT_BYTES)?,
                source: Some(abs.display().to_string()),
            }
        } else if let Some(script) = &req.rhai_script {
            HookAction::Rhai {
                script: script.clone(),
                source: None,
            }
        } else {
            HookAction::Webhook {
                url: req.webhook.clone().unwrap_or_default(),
                template: req.webhook_template.clone(),
            }
        };
        let threshold = match (&req.period, req.threshold, req.of) {
            (None, None, None) if event == HookEvent::CostThreshold => {
                return Err(Error::missing_field(
                    Field::Threshold,
                    "a cost-threshold hook needs a threshold in USD and a period (day or month)",
                ));
            }
            (None, None, None) => None,
            (Some(period), Some(usd), of) => Some(Threshold {
                period: Period::parse(period)?,
                usd,
                of_usd: of,
                scope: req
                    .scope
                    .as_deref()
                    .map(ThresholdScope::parse)
                    .transpose()?
                    .unwrap_or_default(),
            }),
            (None, Some(_), _) => {
                return Err(Error::missing_field(
                    Field::Period,
                    "a threshold needs a period: day or month",
                ));
            }
            (_, None, _) => {
                return Err(Error::missing_field(
                    Field::Threshold,
                    "a period or a budget (of) needs a threshold in USD",
                ));
            }
        };
        let entry = HookEntry {
            profile: req.profile.clone(),
            rule: HookRule {
                id: hooks::new_id(),
                event,
                matcher: req.matcher.clone().filter(|m| !m.trim().is_empty()),
                timeout_ms: req.timeout_ms,
                threshold,
                action,
            },
        };
        self.hook_store().add(&entry)?;
        Ok(entry)
    }

    /// Removes a hook.
    pub fn remove_hook(&self, id: &str) -> Result<HookEntry> {
        self.hook_store().remove(id)
    }

    /// Every rule as one TOML document (`hooks export`), for a dotfiles repo or another machine.
    pub fn export_hooks(&self) -> Result<String> {
        let bundle = HookBundle {
            hooks: self.hooks()?,
        };
        let mut text = toml::to_string_pretty(&bundle)
            .map_err(|e| Error::InvalidInput(format!("serialising hooks: {e}")))?;
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Ok(text)
    }

    /// Adds the rules of an exported document. Rules whose id exists with the same content are
    /// skipped; a different rule under an existing id, or a rule for a profile that does not
    /// exist, stops the import before anything is written.
    pub fn import_hooks(&self, text: &str) -> Result<HookImportReport> {
        if text.len() as u64 > hooks::MAX_HOOKS_FILE_BYTES {
            return Err(Error::InvalidInput(format!(
                "the hooks document is larger than {} MiB, the most ringlet imports",
                hooks::MAX_HOOKS_FILE_BYTES / (1024 * 1024)
            )));
        }
        let bundle: HookBundle =
            toml::from_str(text).map_err(|e| Error::toml("<hooks import>", text, &e))?;
        let existing = self.hooks()?;
        let mut report = HookImportReport::default();
        let mut todo = Vec::new();
        for entry in bundle.hooks {
            entry.rule.validate()?;
            if let Some(alias) = &entry.profile
                && !self.has_profile(alias)?
            {
                return Err(self.inner.profiles.not_found(alias));
            }
            match existing.iter().find(|e| e.rule.id == entry.rule.id) {
                Some(e) if *e == entry => report.unchanged.push(entry.rule.id.clone()),
                Some(_) => {
                    return Err(Error::HookExists {
                        id: entry.rule.id.clone(),
                    });
                }
                None if todo.iter().any(|t: &HookEntry| t.rule.id == entry.rule.id) => {
                    return Err(Error::Hook {
                        hook: entry.rule.id.clone(),
                        message: "the file holds this id twice".into(),
                    });
                }
                None => todo.push(entry),
            }
        }
        for entry in todo {
            self.hook_store().add(&entry)?;
            report.added.push(entry.rule.id);
        }
        Ok(report)
    }

    fn profile_ref(&self, alias: &str) -> ProfileRef {
        match self.profile(alias) {
            Ok(p) => ProfileRef {
                alias: p.alias,
                agent: p.agent,
                provider: p.provider,
            },
            Err(_) => ProfileRef {
                alias: alias.to_string(),
                agent: String::new(),
                provider: String::new(),
            },
        }
    }

    /// Runs one hook against a payload (JSON in the agent's hook shape or ringlet's own field
    /// names) and reports what it decided or did. Actions really run; nothing reaches an agent.
    /// A tool hook with a matcher, given a payload that names no tool, is tested against the
    /// first tool its matcher names (`Write` for `Write|Edit`); see [`Ringlet::test_hook_on_tool`].
    pub fn test_hook(
        &self,
        id: &str,
        payload: &serde_json::Value,
        profile: Option<&str>,
    ) -> Result<HookTestReport> {
        self.test_hook_on_tool(id, payload, profile, None)
    }

    /// [`Ringlet::test_hook`] for a call of `tool` (it overrides the payload's tool name). A
    /// hook whose matcher names no plain tool (`mcp__*`) needs a tool, from here or the payload.
    pub fn test_hook_on_tool(
        &self,
        id: &str,
        payload: &serde_json::Value,
        profile: Option<&str>,
        tool: Option<&str>,
    ) -> Result<HookTestReport> {
        let entry = self.hook_store().find(id)?;
        let alias = entry
            .profile
            .clone()
            .or_else(|| profile.map(str::to_string))
            .unwrap_or_else(|| "test".into());
        let who = self.profile_ref(&alias);
        let mut ctx = HookContext::new(entry.rule.event, &who.alias, &who.agent, &who.provider);
        ctx.absorb_agent_json(payload);
        self.set_homes(&mut ctx, None);
        if let Some(tool) = tool.map(str::trim).filter(|t| !t.is_empty()) {
            ctx.tool = Some(tool.to_string());
        }
        if ctx.tool.is_none() && entry.rule.event.has_tool() {
            ctx.tool = sample_tool(&entry.rule)?;
        }
        let applies = entry.rule.matches_tool(ctx.tool.as_deref());
        let scrub = self.hook_scrub();
        let (decision, fired) = if entry.rule.event.is_gating() {
            let decision = if applies {
                hooks::gate_one(&entry.rule, &ctx, &scrub)
            } else {
                Decision::Allow
            };
            (Some(decision), None)
        } else if applies {
            (
                None,
                Some(hooks::fire_one(
                    &entry.rule,
                    &ctx,
                    &scrub,
                    ShellMode::Waited,
                )),
            )
        } else {
            (None, None)
        };
        Ok(HookTestReport {
            hook: entry,
            context: ctx,
            applies,
            decision,
            fired,
        })
    }

    /// Handles an agent's hook call (`ringlet hooks dispatch`): `input` is the agent's hook
    /// JSON. For `pre-tool-use` the profile's gates decide; a denied call is also reported to
    /// `tool-use` hooks (the agent will not report it). Never fails: anything that goes wrong
    /// denies a gating event and lets any other through.
    pub fn dispatch_hook(&self, alias: &str, event: &str, input: &str) -> DispatchOutcome {
        self.dispatch_for(alias, event, input, None)
    }

    /// [`Ringlet::dispatch_hook`] from a process whose HOME is not the user's — an agent runs
    /// `hooks dispatch` with the profile's HOME — so hooks still run with the user's HOME,
    /// `user_home` (the agents' hook commands pass it as `--user-home`).
    pub fn dispatch_hook_with_home(
        &self,
        alias: &str,
        event: &str,
        input: &str,
        user_home: &Path,
    ) -> DispatchOutcome {
        self.dispatch_for(alias, event, input, Some(user_home))
    }

    fn dispatch_for(
        &self,
        alias: &str,
        event: &str,
        input: &str,
        user_home: Option<&Path>,
    ) -> DispatchOutcome {
        let event = match HookEvent::parse(event) {
            Ok(e) => e,
            // Unknown events cannot be told apart from gating ones: fail closed.
            Err(e) => return DispatchOutcome::failed(HookEvent::PreToolUse, &e.to_string()),
        };
        match self.try_dispatch(alias, event, input, user_home) {
            Ok(outcome) => outcome,
            Err(e) => DispatchOutcome::failed(event, &e.to_string()),
        }
    }

    fn try_dispatch(
        &self,
        alias: &str,
        event: HookEvent,
        input: &str,
        user_home: Option<&Path>,
    ) -> Result<DispatchOutcome> {
        let rules = self.hook_store().for_profile(alias)?;
        let input = hooks::parse_agent_input(input).map_err(Error::InvalidInput)?;
        let who = {
            let p = self.profile(alias)?;
            ProfileRef {
                alias: p.alias,
                agent: p.agent,
                provider: p.provider,
            }
        };
        let mut ctx = HookContext::new(event, &who.alias, &who.agent, &who.provider);
        ctx.absorb_agent_json(&input);
        self.set_homes(&mut ctx, user_home);
        if event == HookEvent::Stop && ctx.duration_ms.is_none() {
            ctx.duration_ms = std::env::var(RUN_STARTED_ENV)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
                .map(|started| (Utc::now().timestamp_millis() - started).max(0) as u64);
        }
        let scrub = self.hook_scrub();
        if !event.is_gating() {
            let fired = hooks::fire(&rules, &ctx, &scrub, ShellMode::Detached);
            self.tell_fired(event, &fired);
            return Ok(DispatchOutcome {
                event,
                decision: Decision::Allow,
                fired,
            });
        }
        let decision = hooks::gate(&rules, &ctx, &scrub);
        self.tell_gated(&rules, &ctx, &decision);
        let mut fired = Vec::new();
        if let Some(message) = decision.message() {
            let mut after = ctx.clone();
            after.event = HookEvent::ToolUse;
            after.tool_result = Some(message);
            after.tool_error = Some(true);
            fired = hooks::fire(&rules, &after, &scrub, ShellMode::Detached);
            self.tell_fired(HookEvent::ToolUse, &fired);
        }
        Ok(DispatchOutcome {
            event,
            decision,
            fired,
        })
    }

    /// The command an agent's own hooks run to call back into ringlet, without the trailing
    /// event name: `'<ringlet>' hooks dispatch --config-dir … --data-dir … --cache-dir …
    /// [--user-home …] --profile <alias> --event`. `None` when no ringlet executable can be
    /// found (ringlet embedded in another program with no `ringlet` on PATH): agents then get
    /// no hooks wired. The user's HOME is taken now, at plan time: the agent runs the command
    /// with the profile's HOME, and hooks must run with the user's.
    pub(crate) fn hook_command(&self, alias: &str) -> Option<String> {
        let exe = self.hook_program()?;
        let p = self.paths();
        // The agent runs hooks from its own working directory: every path must be absolute.
        let abs = |d: &Path| {
            std::path::absolute(d)
                .map(|a| sh_quote(&a.display().to_string()))
                .ok()
        };
        let user_home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .filter(|h| h.is_absolute())
            .map(|h| format!(" --user-home {}", sh_quote(&h.display().to_string())))
            .unwrap_or_default();
        Some(format!(
            "{} hooks dispatch --config-dir {} --data-dir {} --cache-dir {}{user_home} --profile {} --event",
            sh_quote(&exe.display().to_string()),
            abs(p.config_dir())?,
            abs(p.data_dir())?,
            abs(p.cache_dir())?,
            sh_quote(alias),
        ))
    }

    /// `(hook_command, hook_gate_command)` for a config script; both "" when no ringlet
    /// executable can be found.
    pub(crate) fn hook_commands(&self, alias: &str) -> (String, String) {
        match self.hook_command(alias) {
            Some(c) => {
                let gate = gate_command(&c);
                (c, gate)
            }
            None => (String::new(), String::new()),
        }
    }

    fn warn_hooks(&self, what: &str, e: &Error) {
        self.inner
            .warnings
            .push("hooks", format!("{what}: {e}; see `ringlet hooks list`"));
    }

    /// Tells subscribers about non-gating hooks fired for `event`.
    fn tell_fired(&self, event: HookEvent, reports: &[FireReport]) {
        for r in reports {
            self.emit(Event::HookFired {
                event: event.as_str().to_string(),
                hook: r.hook.clone(),
                ok: r.ok,
                detail: r.detail.clone(),
                allowed: None,
            });
        }
    }

    /// Tells subscribers each gate's verdict: the gates run in order until one denies, so
    /// every matching gate before the deciding one allowed, and none after it ran.
    fn tell_gated(&self, rules: &[HookEntry], ctx: &HookContext, decision: &Decision) {
        if !self.has_subscribers() {
            return;
        }
        let gates = rules
            .iter()
            .map(|e| &e.rule)
            .filter(|r| r.event == HookEvent::PreToolUse && r.matches_tool(ctx.tool.as_deref()));
        for rule in gates {
            let (ok, detail, allowed, last) = match decision {
                Decision::Deny {
                    hook,
                    reason,
                    failed,
                } if *hook == rule.id => (!failed, reason.clone(), false, true),
                // `Unchecked` never reaches here: it is decided before any gate runs.
                _ => (true, "allowed".to_string(), true, false),
            };
            self.emit(Event::HookFired {
                event: HookEvent::PreToolUse.as_str().to_string(),
                hook: rule.id.clone(),
                ok,
                detail,
                allowed: Some(allowed),
            });
            if last {
                break;
            }
        }
    }

    fn warn_failed(&self, reports: &[FireReport]) {
        for r in reports.iter().filter(|r| !r.ok) {
            self.inner.warnings.push(
                "hook_failed",
                format!("hook {} failed: {}", r.hook, r.detail),
            );
        }
    }

    /// Fires `start` for a launch (in the background: the agent does not wait) and stamps the
    /// launch time into the plan's environment for `stop` hooks dispatched by the agent.
    pub(crate) fn fire_start(&self, plan: &mut LaunchPlan) -> StartedHooks {
        plan.env.insert(
            RUN_STARTED_ENV.into(),
            Utc::now().timestamp_millis().to_string(),
        );
        let rules = match self.hook_store().for_profile(&plan.profile) {
            Ok(r) => r,
            Err(e) => {
                self.warn_hooks("hooks not run", &e);
                return StartedHooks(None);
            }
        };
        if !rules.iter().any(|e| e.rule.event == HookEvent::Start) {
            return StartedHooks(None);
        }
        let mut ctx =
            HookContext::new(HookEvent::Start, &plan.profile, &plan.agent, &plan.provider);
        self.set_homes(&mut ctx, None);
        let mut scrub = self.hook_scrub();
        scrub.extend(
            plan.secret_env
                .iter()
                .chain(&plan.mcp_secrets)
                .map(|s| s.var.clone()),
        );
        StartedHooks(Some(std::thread::spawn(move || {
            hooks::fire(&rules, &ctx, &scrub, ShellMode::Detached)
        })))
    }

    /// Fires `stop` after the agent exited — unless the agent reports its own stops (Claude
    /// Code's `Stop` hook, at the end of every turn) — and collects the `start` hooks.
    pub(crate) fn fire_stop(&self, plan: &LaunchPlan, outcome: &RunOutcome, started: StartedHooks) {
        if let Some(handle) = started.0
            && let Ok(reports) = handle.join()
        {
            self.tell_fired(HookEvent::Start, &reports);
            self.warn_failed(&reports);
        }
        if plan
            .native_events
            .iter()
            .any(|e| e == HookEvent::Stop.as_str())
        {
            return;
        }
        let rules = match self.hook_store().for_profile(&plan.profile) {
            Ok(r) => r,
            Err(e) => return self.warn_hooks("hooks not run", &e),
        };
        let mut ctx = HookContext::new(HookEvent::Stop, &plan.profile, &plan.agent, &plan.provider);
        ctx.duration_ms = Some(u64::try_from(outcome.duration.as_millis()).unwrap_or(u64::MAX));
        ctx.exit_code = Some(outcome.exit_code);
        self.set_homes(&mut ctx, None);
        let mut scrub = self.hook_scrub();
        scrub.extend(
            plan.secret_env
                .iter()
                .chain(&plan.mcp_secrets)
                .map(|s| s.var.clone()),
        );
        let reports = hooks::fire(&rules, &ctx, &scrub, ShellMode::Detached);
        self.tell_fired(HookEvent::Stop, &reports);
        self.warn_failed(&reports);
    }

    fn all_profile_refs(&self) -> Vec<ProfileRef> {
        self.profiles()
            .unwrap_or_default()
            .into_iter()
            .map(|p| ProfileRef {
                alias: p.alias,
                agent: p.agent,
                provider: p.provider,
            })
            .collect()
    }

    /// The proxy refused a request of `profile` because a budget is spent: fires the
    /// `cost-threshold` rules covering the profile, once per rule, profile and period. The
    /// claim is the one the scheduled check makes (`check_cost_thresholds`), so a rule fires
    /// once whether the refusal or the check after the run comes first, and concurrent runs
    /// fire it once between them.
    #[cfg(feature = "proxy")]
    pub(super) fn fire_budget_refusal(
        &self,
        profile: &ProfileRef,
        refusal: &crate::proxy::BudgetRefusal,
    ) {
        let rules = match self.hooks() {
            Ok(r) => r,
            Err(e) => return self.warn_hooks("budget hooks not run", &e),
        };
        let ledger = match self.hook_ledger() {
            Ok(l) => l,
            Err(e) => return self.warn_hooks("budget hooks not run", &e),
        };
        let now = Utc::now();
        let mut firings = Vec::new();
        for entry in rules.iter().filter(|e| {
            e.rule.event == HookEvent::CostThreshold && e.scope().covers(&profile.alias)
        }) {
            let claim = format!(
                "cost-threshold|{}|{}|{}",
                entry.rule.id, profile.alias, refusal.period_key
            );
            if !ledger.claim(&claim, now).unwrap_or(false) {
                continue;
            }
            let mut ctx = HookContext::new(
                HookEvent::CostThreshold,
                &profile.alias,
                &profile.agent,
                &profile.provider,
            );
            ctx.cost_usd = Some(refusal.spent_usd);
            ctx.total_usd = Some(refusal.spent_usd);
            ctx.threshold_usd = Some(refusal.limit.usd);
            ctx.budget_usd = Some(refusal.limit.usd);
            ctx.period = Some(refusal.limit.period.as_str().into());
            ctx.period_key = Some(refusal.period_key.clone());
            firings.push(Firing {
                entry: entry.clone(),
                context: ctx,
            });
        }
        self.fire_all(firings);
    }

    fn hook_ledger(&self) -> Result<FiredLedger> {
        FiredLedger::open(self.paths().data_dir().join(hooks::STATE_FILE))
    }

    pub(super) fn fire_all(&self, firings: Vec<Firing>) -> Vec<FireReport> {
        let scrub = self.hook_scrub();
        let reports: Vec<FireReport> = firings
            .into_iter()
            .map(|mut f| {
                self.set_homes(&mut f.context, None);
                let report =
                    hooks::fire_one(&f.entry.rule, &f.context, &scrub, ShellMode::Detached);
                self.tell_fired(f.context.event, std::slice::from_ref(&report));
                report
            })
            .collect();
        self.warn_failed(&reports);
        reports
    }

    /// Checks every `cost-threshold` rule against `store` and fires those that passed their
    /// threshold this period and have not fired yet (in any process).
    pub fn check_cost_hooks(
        &self,
        store: &dyn UsageStore,
        now: DateTime<Utc>,
    ) -> Result<Vec<FireReport>> {
        let rules = self.hooks()?;
        if !rules
            .iter()
            .any(|e| e.rule.event == HookEvent::CostThreshold)
        {
            return Ok(Vec::new());
        }
        let firings = hooks::check_cost_thresholds(
            store,
            &rules,
            &self.all_profile_refs(),
            &self.hook_ledger()?,
            now,
        )?;
        Ok(self.fire_all(firings))
    }

    /// Fires the `daily-rollup` rules for yesterday if it is past 00:05 UTC and no ringlet
    /// process has fired them today.
    pub fn check_rollup_hooks(
        &self,
        store: &dyn UsageStore,
        now: DateTime<Utc>,
    ) -> Result<Vec<FireReport>> {
        let rules = self.hooks()?;
        if !rules.iter().any(|e| e.rule.event == HookEvent::DailyRollup) {
            return Ok(Vec::new());
        }
        let firings = hooks::check_daily_rollup(
            store,
            &rules,
            &self.all_profile_refs(),
            &self.hook_ledger()?,
            now,
        )?;
        Ok(self.fire_all(firings))
    }

    /// Runs the scheduled checks (`cost-threshold`, `daily-rollup`) against the usage ledger in
    /// the data dir (`usage.db`), if there is one and any scheduled rule exists. Frontends call
    /// this once per invocation; it is cheap when there is nothing to do. Problems become
    /// warnings: a scheduled hook must never break the command it rides on.
    pub fn run_scheduled_hooks(&self) -> Vec<FireReport> {
        self.run_scheduled_hooks_at(Utc::now())
    }

    /// [`Ringlet::run_scheduled_hooks`] as if it were `now`.
    pub fn run_scheduled_hooks_at(&self, now: DateTime<Utc>) -> Vec<FireReport> {
        let rules = match self.hooks() {
            Ok(r) => r,
            Err(e) => {
                self.warn_hooks("scheduled hooks not checked", &e);
                return Vec::new();
            }
        };
        let scheduled = |ev| rules.iter().any(|e| e.rule.event == ev);
        if !scheduled(HookEvent::CostThreshold) && !scheduled(HookEvent::DailyRollup) {
            return Vec::new();
        }
        // The facade's ledger (already open after a run's ingestion); none on a fresh install.
        let result = self.existing_usage_store().and_then(|store| {
            let Some(store) = store else {
                return Ok(Vec::new());
            };
            let mut out = self.check_cost_hooks(store.as_ref(), now)?;
            out.extend(self.check_rollup_hooks(store.as_ref(), now)?);
            Ok(out)
        });
        result.unwrap_or_else(|e| {
            self.warn_hooks("scheduled hooks not checked", &e);
            Vec::new()
        })
    }
}

/// The tool a dry run of `rule` uses when the payload names none: the first plain name in its
/// matcher (`Write` for `Write|Edit`), so a matcher-bound hook is not tested against an empty
/// tool name it can never match. `None` without a matcher; an error when the matcher names no
/// plain tool (`mcp__*`).
fn sample_tool(rule: &HookRule) -> Result<Option<String>> {
    let Some(matcher) = rule
        .matcher
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty() && *m != "*")
    else {
        return Ok(None);
    };
    match matcher
        .split('|')
        .map(str::trim)
        .find(|alt| !alt.is_empty() && !alt.contains('*'))
    {
        Some(name) => Ok(Some(name.to_string())),
        None => Err(Error::missing_field(
            Field::Tool,
            format!(
                "hook {} applies only to tools matching '{matcher}', and the payload names no tool",
                rule.id
            ),
        )),
    }
}

impl Ringlet {
    /// The program agents call back through for hooks: the one given to
    /// [`RingletBuilder::hook_program`](crate::RingletBuilder::hook_program), else this process
    /// when it is the `ringlet` binary, else `ringlet` on PATH (found when the facade was
    /// built).
    pub(crate) fn hook_program(&self) -> Option<PathBuf> {
        self.inner.hook_program.clone()
    }
}

/// This process when it is the `ringlet` binary, else `ringlet` on PATH.
pub(crate) fn detect_hook_program() -> Option<PathBuf> {
    let is_ringlet = |p: &Path| p.file_stem().is_some_and(|s| s == "ringlet");
    if let Ok(exe) = std::env::current_exe()
        && is_ringlet(&exe)
    {
        return Some(exe);
    }
    which::which("ringlet").ok().filter(|p| is_ringlet(p))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::credentials::{MemoryCredentialStore, Secret};
    use crate::facade::NewProfile;
    use crate::usage::{CostSource, NANOS_PER_USD, TokenCounts, UsageEvent};

    fn ringlet(dir: &Path) -> Ringlet {
        let r = Ringlet::builder()
            .home(dir)
            .credential_store(Arc::new(MemoryCredentialStore::new()))
            .build()
            .expect("opens");
        r.create_profile(
            &NewProfile::new("codex", "work", "openai").model("gpt-test"),
            Some(&Secret::new("sk-unit")),
        )
        .expect("profile");
        r
    }

    #[test]
    fn the_facade_gates_and_reports_denied_calls_to_tool_use_hooks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = ringlet(dir.path());
        let audit = dir.path().join("audit.jsonl");
        r.add_hook(&NewHook {
            profile: Some("work".into()),
            event: "tool-use".into(),
            shell: Some(format!("{{ cat; echo; }} >> '{}'", audit.display())),
            ..NewHook::default()
        })
        .expect("audit hook");
        let gate = r
            .add_hook(&NewHook {
                profile: None,
                event: "pre-tool-use".into(),
                rhai_script: Some(
                    r#"fn on_pre_tool_use(ctx) { if ctx.tool_input.contains("rm -rf") { deny("no") } else { allow() } }"#.into(),
                ),
                matcher: Some("Bash".into()),
                ..NewHook::default()
            })
            .expect("gate");
        let ok = r.dispatch_hook(
            "work",
            "pre-tool-use",
            r#"{"tool_name":"Bash","tool_input":{"command":"ls"}}"#,
        );
        assert_eq!((ok.exit_code(), ok.stderr()), (0, None));
        let no = r.dispatch_hook(
            "work",
            "pre-tool-use",
            r#"{"tool_name":"Bash","tool_input":{"command":"rm -rf /"}}"#,
        );
        assert_eq!(no.exit_code(), crate::hooks::DENY_EXIT_CODE);
        assert_eq!(
            no.stderr(),
            Some(format!("denied by ringlet hook {}: no", gate.rule.id))
        );
        assert_eq!(no.fired.len(), 1, "the denied call went to the audit hook");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let line = loop {
            let text = std::fs::read_to_string(&audit).unwrap_or_default();
            if text.ends_with('\n') || std::time::Instant::now() > deadline {
                break text;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let v: serde_json::Value = serde_json::from_str(line.trim()).expect("one JSON line");
        assert_eq!(
            (v["tool"].as_str(), v["tool_error"].as_bool()),
            (Some("Bash"), Some(true))
        );
    }

    /// `~` in a hook is the user's HOME on every path; the profile's HOME is in
    /// RINGLET_PROFILE_HOME.
    #[cfg(unix)]
    #[test]
    fn hooks_run_with_the_users_home_and_get_the_profiles_in_a_variable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = ringlet(dir.path());
        let gate = r
            .add_hook(&NewHook {
                profile: Some("work".into()),
                event: "pre-tool-use".into(),
                shell: Some(r#"echo "$HOME|$RINGLET_PROFILE_HOME" >&2; exit 1"#.into()),
                ..NewHook::default()
            })
            .expect("gate");
        let profile_home = r.profile_home("work").expect("home").display().to_string();
        let input = r#"{"tool_name":"Bash","tool_input":{"command":"ls"}}"#;
        // As an agent runs it: this process's HOME is not the user's, the command says which is.
        let out =
            r.dispatch_hook_with_home("work", "pre-tool-use", input, Path::new("/home/the-user"));
        assert_eq!(
            out.stderr(),
            Some(format!(
                "denied by ringlet hook {}: /home/the-user|{profile_home}",
                gate.rule.id
            ))
        );
        // From ringlet's own process (launcher events, hooks test): its HOME is the user's.
        let own = std::env::var("HOME").expect("HOME");
        let payload: serde_json::Value = serde_json::from_str(input).expect("json");
        let report = r.test_hook(&gate.rule.id, &payload, None).expect("tested");
        assert_eq!(
            report.decision.and_then(|d| d.message()),
            Some(format!(
                "denied by ringlet hook {}: {own}|{profile_home}",
                gate.rule.id
            ))
        );
    }

    #[test]
    fn cost_hooks_fire_once_through_the_facade() {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = ringlet(dir.path());
        r.add_hook(&NewHook {
            profile: Some("work".into()),
            event: "cost-threshold".into(),
            shell: Some("true".into()),
            period: Some("day".into()),
            threshold: Some(1.0),
            ..NewHook::default()
        })
        .expect("hook");
        let store = crate::usage::SqliteUsageStore::open_in_memory().expect("store");
        let now = Utc::now();
        let check = || r.check_cost_hooks(&store, now).expect("checks");
        assert!(check().is_empty());
        store
            .record(&[UsageEvent {
                time: now,
                profile: "work".into(),
                agent: "codex".into(),
                provider: "openai".into(),
                model: "gpt-test".into(),
                tokens: TokenCounts::default(),
                cost_nanos: Some(2 * NANOS_PER_USD),
                cost_source: CostSource::Computed,
                session_id: None,
                project: None,
                origin: "test".into(),
                dedup_key: "k".into(),
                rank: 0,
            }])
            .expect("records");
        let fired = check();
        assert_eq!(fired.len(), 1);
        assert!(fired[0].ok, "{fired:?}");
        assert!(check().is_empty(), "once");
        assert!(
            dir.path()
                .join("data")
                .join(crate::hooks::STATE_FILE)
                .is_file()
        );
    }

    /// A request's mistakes name the request's field, so each frontend can say it in its own
    /// terms (`--period`, `period=`): no CLI flag in the core's message.
    #[test]
    fn add_hook_names_the_field_at_fault() {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = ringlet(dir.path());
        let field = |req: NewHook| match r.add_hook(&req).expect_err("refused") {
            Error::InvalidField {
                field,
                problem,
                message,
            } => {
                assert!(!message.contains("--"), "a flag in {message}");
                (field, problem)
            }
            other => panic!("{other:?}"),
        };
        let hook = |event: &str| NewHook {
            event: event.into(),
            shell: Some("true".into()),
            ..NewHook::default()
        };
        use crate::FieldProblem::{Invalid, Missing};
        assert_eq!(
            field(NewHook {
                shell: None,
                ..hook("stop")
            }),
            (Field::HookAction, Missing)
        );
        assert_eq!(
            field(NewHook {
                webhook: Some("http://x".into()),
                ..hook("stop")
            }),
            (Field::HookAction, Invalid)
        );
        assert_eq!(
            field(NewHook {
                webhook_template: Some("{}".into()),
                ..hook("stop")
            }),
            (Field::Webhook, Missing)
        );
        assert_eq!(field(hook("cost-threshold")), (Field::Threshold, Missing));
        assert_eq!(
            field(NewHook {
                threshold: Some(5.0),
                ..hook("cost-threshold")
            }),
            (Field::Period, Missing)
        );
        assert_eq!(
            field(NewHook {
                period: Some("week".into()),
                threshold: Some(5.0),
                ..hook("cost-threshold")
            }),
            (Field::Period, Invalid)
        );
        assert_eq!(
            field(NewHook {
                of: Some(5.0),
                ..hook("cost-threshold")
            }),
            (Field::Threshold, Missing)
        );
        assert!(r.hooks().expect("list").is_empty());
    }

    #[test]
    fn add_hook_needs_exactly_one_action_and_a_known_profile() {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = ringlet(dir.path());
        let two = NewHook {
            profile: Some("work".into()),
            event: "stop".into(),
            shell: Some("true".into()),
            webhook: Some("http://x".into()),
            ..NewHook::default()
        };
        assert!(
            r.add_hook(&two)
                .expect_err("two")
                .to_string()
                .contains("exactly one action")
        );
        let ghost = NewHook {
            profile: Some("ghost".into()),
            event: "stop".into(),
            shell: Some("true".into()),
            ..NewHook::default()
        };
        assert_eq!(
            r.add_hook(&ghost).expect_err("ghost").code(),
            "profile_not_found"
        );
        assert!(r.hooks().expect("list").is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn the_gate_command_denies_when_ringlet_cannot_run() {
        let run = |prefix: &str| {
            std::process::Command::new("sh")
                .arg("-c")
                .arg(gate_command(prefix))
                .output()
                .expect("sh runs")
        };
        let gone = run("'/nonexistent/ringlet' hooks dispatch --event");
        assert_eq!(gone.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&gone.stderr).contains("could not run"));
        let denied = run("f() { echo reason >&2; return 2; }; f");
        assert_eq!(denied.status.code(), Some(2));
        assert_eq!(String::from_utf8_lossy(&denied.stderr), "reason\n");
        assert_eq!(run("true").status.code(), Some(0));
        assert_eq!(run("f() { return 1; }; f").status.code(), Some(2));
    }

    #[test]
    fn dry_runs_of_matcher_bound_hooks_use_a_tool_the_matcher_names() {
        let rule = |matcher: Option<&str>| HookRule {
            id: "h1".into(),
            event: HookEvent::PreToolUse,
            matcher: matcher.map(str::to_string),
            timeout_ms: None,
            threshold: None,
            action: HookAction::Shell {
                command: "exit 0".into(),
            },
        };
        assert_eq!(sample_tool(&rule(None)).expect("none"), None);
        assert_eq!(sample_tool(&rule(Some("*"))).expect("any"), None);
        assert_eq!(
            sample_tool(&rule(Some(" Write | Edit"))).expect("first"),
            Some("Write".into())
        );
        assert_eq!(
            sample_tool(&rule(Some("mcp__*|Bash"))).expect("plain one"),
            Some("Bash".into())
        );
        let err = sample_tool(&rule(Some("mcp__*"))).expect_err("no plain name");
        assert!(
            matches!(
                err,
                Error::InvalidField {
                    field: Field::Tool,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn shell_quoting_survives_quotes_and_spaces() {
        assert_eq!(sh_quote("/a b/c"), "'/a b/c'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
    }
}
