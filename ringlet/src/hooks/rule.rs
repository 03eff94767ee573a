//! Hook rules as stored in TOML: the event, an optional tool matcher, the action, and for
//! `cost-threshold` the threshold. One rule per file, `hooks/<id>.toml`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The default time a hook may take, in milliseconds.
pub const DEFAULT_TIMEOUT_MS: u64 = 2_000;

/// The longest timeout a hook may ask for (a gating hook holds the agent that long). Agents'
/// own hook timeouts are set far above this (an hour), so ringlet's gate always answers first:
/// an agent that timed out a hook itself would let the tool run.
pub const MAX_TIMEOUT_MS: u64 = 120_000;

/// The most ringlet reads of a hook's input: an agent's event JSON on `hooks dispatch`'s stdin,
/// or `hooks test --payload`. 16 MiB — far above any tool call — so a runaway or hostile input
/// cannot fill memory.
pub const MAX_HOOK_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// The largest Rhai gate script (`hooks add --rhai FILE`, a stored rule's script): 1 MiB.
pub const MAX_RHAI_SCRIPT_BYTES: u64 = 1024 * 1024;

/// The largest hooks document ringlet reads: a `hooks import` file or one stored rule file.
/// 16 MiB.
pub const MAX_HOOKS_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A lifecycle event a hook can fire on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum HookEvent {
    /// Before a tool call; the only event whose hooks can deny.
    PreToolUse,
    /// After a tool call (or after ringlet denied one), with its result.
    ToolUse,
    /// The agent finished a turn (Claude Code) or exited (other agents).
    Stop,
    /// A profile launches its agent.
    Start,
    /// The agent sent a notification (Claude Code's `Notification`).
    Notify,
    /// A profile's spend in a day or month passed a threshold (once per period).
    CostThreshold,
    /// Once per UTC day, for yesterday's totals.
    DailyRollup,
}

impl HookEvent {
    /// Every event, in documentation order.
    pub const ALL: [HookEvent; 7] = [
        HookEvent::PreToolUse,
        HookEvent::ToolUse,
        HookEvent::Stop,
        HookEvent::Start,
        HookEvent::Notify,
        HookEvent::CostThreshold,
        HookEvent::DailyRollup,
    ];

    /// The kebab-case name (`pre-tool-use`).
    pub fn as_str(self) -> &'static str {
        match self {
            HookEvent::PreToolUse => "pre-tool-use",
            HookEvent::ToolUse => "tool-use",
            HookEvent::Stop => "stop",
            HookEvent::Start => "start",
            HookEvent::Notify => "notify",
            HookEvent::CostThreshold => "cost-threshold",
            HookEvent::DailyRollup => "daily-rollup",
        }
    }

    /// Parses a kebab-case name.
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == name)
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "unknown hook event '{}'; events: {}",
                    name.escape_debug(),
                    Self::ALL.map(HookEvent::as_str).join(", ")
                ))
            })
    }

    /// Whether hooks on this event decide (synchronously, failing closed) if the agent may go on.
    pub fn is_gating(self) -> bool {
        self == HookEvent::PreToolUse
    }

    /// Whether the event concerns one tool call (so a matcher applies).
    pub fn has_tool(self) -> bool {
        matches!(self, HookEvent::PreToolUse | HookEvent::ToolUse)
    }
}

impl fmt::Display for HookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a hook does when it fires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub enum HookAction {
    /// Runs `sh -c COMMAND` with the `RINGLET_*` variables set and the event as JSON on stdin.
    /// On `pre-tool-use`, exit 0 allows and any other exit denies (stderr is the reason).
    Shell {
        /// The command line.
        command: String,
    },
    /// A Rhai script defining `fn on_pre_tool_use(ctx)` that returns `allow()` or `deny(msg)`.
    /// Runs in a sandboxed engine: no file, network or process access, bounded operations.
    Rhai {
        /// The script source (stored inline so the rule is self-contained).
        script: String,
        /// Where the script was read from when the hook was added (informational).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<String>,
    },
    /// POSTs a JSON body to a URL: the template with `$RINGLET_*` substituted, or the event
    /// as JSON when there is no template.
    Webhook {
        /// The URL (http or https).
        url: String,
        /// A JSON template; `$RINGLET_NAME` / `${RINGLET_NAME}` are replaced by the variable's
        /// value, escaped for a JSON string. Nothing else is expanded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        template: Option<String>,
    },
}

/// A [`HookAction`] as optional fields, for frontends whose data model has no tagged enums
/// (the Node and Swift bindings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookActionFields {
    /// The shell command (`shell`).
    pub command: Option<String>,
    /// The script source (`rhai`).
    pub script: Option<String>,
    /// Where the script was read from (`rhai`).
    pub script_source: Option<String>,
    /// The URL (`webhook`).
    pub url: Option<String>,
    /// The JSON template (`webhook`).
    pub template: Option<String>,
}

impl HookAction {
    /// The action's fields, one set per kind ([`HookAction::kind`] says which).
    pub fn into_fields(self) -> HookActionFields {
        match self {
            HookAction::Shell { command } => HookActionFields {
                command: Some(command),
                ..HookActionFields::default()
            },
            HookAction::Rhai { script, source } => HookActionFields {
                script: Some(script),
                script_source: source,
                ..HookActionFields::default()
            },
            HookAction::Webhook { url, template } => HookActionFields {
                url: Some(url),
                template,
                ..HookActionFields::default()
            },
        }
    }

    /// `shell`, `rhai` or `webhook`.
    pub fn kind(&self) -> &'static str {
        match self {
            HookAction::Shell { .. } => "shell",
            HookAction::Rhai { .. } => "rhai",
            HookAction::Webhook { .. } => "webhook",
        }
    }

    /// A one-line description safe to show: webhook URLs lose their path and query (Slack-style
    /// URLs carry a secret there).
    pub fn summary(&self) -> String {
        match self {
            HookAction::Shell { command } => {
                let one_line = command.replace('\n', " ");
                if one_line.chars().count() > 60 {
                    format!("{}…", one_line.chars().take(59).collect::<String>())
                } else {
                    one_line
                }
            }
            HookAction::Rhai { source, .. } => match source {
                Some(s) => format!("rhai {s}"),
                None => "rhai (inline)".into(),
            },
            HookAction::Webhook { url, .. } => format!("POST {}", redact_url(url)),
        }
    }
}

/// `https://hooks.slack.com/services/T/B/secret` → `https://hooks.slack.com/…`.
pub(crate) fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or(host);
    let tail = if rest.len() > host.len() { "/…" } else { "" };
    if scheme.is_empty() {
        format!("{host}{tail}")
    } else {
        format!("{scheme}://{host}{tail}")
    }
}

/// The period a cost threshold is measured over (UTC calendar periods).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Period {
    /// The UTC calendar day.
    Day,
    /// The UTC calendar month.
    Month,
}

impl Period {
    /// Parses `day` or `month`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "day" => Ok(Period::Day),
            "month" => Ok(Period::Month),
            other => Err(Error::invalid_field(
                crate::Field::Period,
                format!(
                    "period must be day or month, not '{}'",
                    crate::error::shown(&other.escape_debug().to_string())
                ),
            )),
        }
    }

    /// `day` or `month`.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Month => "month",
        }
    }
}

/// When a `cost-threshold` hook fires.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// Day or month.
    pub period: Period,
    /// Spend in USD at or above which the hook fires (once per period and profile).
    pub usd: f64,
    /// The budget the threshold is part of (`--threshold 160 --of 200`: warn at 80% of $200),
    /// reported to the hook as `RINGLET_BUDGET_USD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of_usd: Option<f64>,
    /// Whose spend: each profile's on this machine (the default), or the whole team's in the
    /// team ledger, firing once per team (docs/team.md).
    #[serde(default, skip_serializing_if = "ThresholdScope::is_profile")]
    pub scope: ThresholdScope,
}

/// Whose spend a `cost-threshold` hook counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ThresholdScope {
    /// Each profile's spend in this machine's ledger, firing once per profile and period on
    /// this machine.
    #[default]
    Profile,
    /// The team's spend in the team ledger (every machine; only the hook's profile when it has
    /// one), firing once per period for the whole team: the claim lives in Postgres.
    Team,
}

impl ThresholdScope {
    /// Parses `profile` or `team`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "profile" => Ok(ThresholdScope::Profile),
            "team" => Ok(ThresholdScope::Team),
            other => Err(Error::invalid_field(
                crate::Field::Threshold,
                format!(
                    "scope must be profile or team, not '{}'",
                    crate::error::shown(&other.escape_debug().to_string())
                ),
            )),
        }
    }

    fn is_profile(&self) -> bool {
        *self == ThresholdScope::Profile
    }
}

/// One hook rule, as stored in `hooks/<id>.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookRule {
    /// A short unique id (`h` + 8 hex digits).
    pub id: String,
    /// The event it fires on.
    pub event: HookEvent,
    /// For tool events: which tools, case-insensitive; `*` wildcards, `|` between
    /// alternatives (`Bash`, `Write|Edit`, `mcp__*`). Unset matches every tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matcher: Option<String>,
    /// How long the hook may take, ms (default 2000). A gating hook that takes longer denies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// For `cost-threshold`: the period and amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<Threshold>,
    /// What it does.
    pub action: HookAction,
}

impl HookRule {
    /// The effective timeout.
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS))
    }

    /// Whether the rule applies to a call of `tool` (always, for events without a tool).
    pub fn matches_tool(&self, tool: Option<&str>) -> bool {
        match (&self.matcher, tool) {
            (None, _) => true,
            (Some(m), _) if m.trim().is_empty() || m.trim() == "*" => true,
            (Some(_), None) => !self.event.has_tool(),
            (Some(m), Some(tool)) => m
                .split('|')
                .any(|alt| glob_match(&alt.trim().to_lowercase(), &tool.to_lowercase())),
        }
    }

    /// Checks the rule is complete and consistent; the message says what to change.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| {
            Err(Error::Hook {
                hook: self.id.clone(),
                message: msg,
            })
        };
        if !valid_id(&self.id) {
            return bad("the id must be 1-32 letters, digits, '-' or '_'".into());
        }
        if let Some(t) = self.timeout_ms
            && (t == 0 || t > MAX_TIMEOUT_MS)
        {
            return bad(format!(
                "timeout must be between 1 and {MAX_TIMEOUT_MS} ms, not {t}"
            ));
        }
        if self.matcher.is_some() && !self.event.has_tool() {
            return bad(format!(
                "a matcher applies to pre-tool-use and tool-use hooks, not {}",
                self.event
            ));
        }
        match (self.event, &self.threshold) {
            (HookEvent::CostThreshold, None) => {
                return bad("a cost-threshold hook needs a period and a threshold".into());
            }
            (HookEvent::CostThreshold, Some(t)) => {
                if !(t.usd.is_finite() && t.usd > 0.0) {
                    return bad(format!(
                        "threshold must be a positive amount of USD, not {}",
                        t.usd
                    ));
                }
                if let Some(of) = t.of_usd
                    && !(of.is_finite() && of >= t.usd)
                {
                    return bad(format!(
                        "of (the budget, {of}) must be at least the threshold ({})",
                        t.usd
                    ));
                }
            }
            (event, Some(_)) => {
                return bad(format!(
                    "period, threshold and of belong to cost-threshold hooks, not {event}"
                ));
            }
            (_, None) => {}
        }
        match &self.action {
            HookAction::Shell { command } if command.trim().is_empty() => {
                bad("the shell command is empty".into())
            }
            HookAction::Rhai { .. } if self.event != HookEvent::PreToolUse => bad(format!(
                "Rhai hooks decide pre-tool-use calls (fn on_pre_tool_use); use a shell command or a webhook for {}",
                self.event
            )),
            HookAction::Rhai { script, .. } if script.len() as u64 > MAX_RHAI_SCRIPT_BYTES => {
                bad(format!(
                    "the Rhai script is larger than {} MiB; keep gate scripts small",
                    MAX_RHAI_SCRIPT_BYTES / (1024 * 1024)
                ))
            }
            HookAction::Rhai { script, .. } => super::rhai_gate::check(&self.id, script),
            HookAction::Webhook { url, template } => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return bad(format!(
                        "the webhook URL must start with http:// or https://, not '{}'",
                        redact_url(url)
                    ));
                }
                if let Some(t) = template {
                    super::webhook::check_template(&self.id, t)?;
                }
                Ok(())
            }
            HookAction::Shell { .. } => Ok(()),
        }
    }
}

/// Ids are file names: keep them plain.
pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `*` matches any run of characters; everything else literally.
fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Where a rule lives: one profile's `hooks/`, or the global `hooks/` (every profile).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HookScope {
    /// The profile alias; `None` for a global rule.
    pub profile: Option<String>,
}

impl HookScope {
    /// Every profile.
    pub fn global() -> Self {
        Self { profile: None }
    }

    /// One profile.
    pub fn profile(alias: impl Into<String>) -> Self {
        Self {
            profile: Some(alias.into()),
        }
    }

    /// Whether a rule in this scope applies to `alias`.
    pub fn covers(&self, alias: &str) -> bool {
        self.profile.as_deref().is_none_or(|p| p == alias)
    }
}

impl fmt::Display for HookScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.profile {
            Some(p) => f.write_str(p),
            None => f.write_str("*"),
        }
    }
}

/// A rule with where it lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookEntry {
    /// The profile it belongs to; absent for a global rule (all profiles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The rule.
    pub rule: HookRule,
}

impl HookEntry {
    /// The scope.
    pub fn scope(&self) -> HookScope {
        HookScope {
            profile: self.profile.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(event: HookEvent, matcher: Option<&str>) -> HookRule {
        HookRule {
            id: "h1".into(),
            event,
            matcher: matcher.map(str::to_string),
            timeout_ms: None,
            threshold: None,
            action: HookAction::Shell {
                command: "true".into(),
            },
        }
    }

    #[test]
    fn matcher_is_case_insensitive_with_globs_and_alternatives() {
        let r = rule(HookEvent::PreToolUse, Some("bash|Write|mcp__*"));
        assert!(r.matches_tool(Some("Bash")));
        assert!(r.matches_tool(Some("write")));
        assert!(r.matches_tool(Some("mcp__github__push")));
        assert!(!r.matches_tool(Some("Edit")));
        assert!(!r.matches_tool(Some("BashOutput")));
        assert!(rule(HookEvent::PreToolUse, None).matches_tool(Some("Edit")));
        assert!(rule(HookEvent::PreToolUse, Some("*")).matches_tool(Some("Edit")));
    }

    #[test]
    fn events_round_trip_and_unknown_ones_are_listed() {
        for e in HookEvent::ALL {
            assert_eq!(HookEvent::parse(e.as_str()).expect("parses"), e);
        }
        let msg = HookEvent::parse("pre_tool")
            .expect_err("unknown")
            .to_string();
        assert!(
            msg.contains("pre-tool-use") && msg.contains("daily-rollup"),
            "{msg}"
        );
    }

    #[test]
    fn validation_explains_what_is_wrong() {
        let mut r = rule(HookEvent::Stop, Some("Bash"));
        assert!(
            r.validate()
                .expect_err("matcher")
                .to_string()
                .contains("matcher")
        );
        r.matcher = None;
        r.action = HookAction::Rhai {
            script: "fn on_pre_tool_use(ctx) { allow() }".into(),
            source: None,
        };
        assert!(
            r.validate()
                .expect_err("rhai")
                .to_string()
                .contains("a shell command or a webhook")
        );
        let mut c = rule(HookEvent::CostThreshold, None);
        assert!(
            c.validate()
                .expect_err("no threshold")
                .to_string()
                .contains("needs a period and a threshold")
        );
        c.threshold = Some(Threshold {
            period: Period::Month,
            usd: 160.0,
            of_usd: Some(100.0),
            scope: ThresholdScope::Profile,
        });
        assert!(
            c.validate()
                .expect_err("of")
                .to_string()
                .contains("must be at least the threshold")
        );
        c.threshold = Some(Threshold {
            period: Period::Month,
            usd: 160.0,
            of_usd: Some(200.0),
            scope: ThresholdScope::Profile,
        });
        c.validate().expect("valid");
        let mut w = rule(HookEvent::ToolUse, None);
        w.action = HookAction::Webhook {
            url: "ftp://x".into(),
            template: None,
        };
        assert!(w.validate().is_err());
        let mut big = rule(HookEvent::PreToolUse, None);
        big.action = HookAction::Rhai {
            script: format!(
                "fn on_pre_tool_use(ctx) {{ allow() }}\n{}",
                "//\n".repeat(MAX_RHAI_SCRIPT_BYTES as usize)
            ),
            source: None,
        };
        let err = big.validate().expect_err("too large").to_string();
        assert!(err.contains("larger than 1 MiB"), "{err}");
    }

    #[test]
    fn webhook_urls_are_redacted_in_summaries() {
        let a = HookAction::Webhook {
            url: "https://user:pw@hooks.slack.com/services/T1/B2/secret".into(),
            template: None,
        };
        assert_eq!(a.summary(), "POST https://hooks.slack.com/…");
        assert!(!a.summary().contains("secret"));
    }

    #[test]
    fn rules_round_trip_through_toml() {
        let mut r = rule(HookEvent::CostThreshold, None);
        r.threshold = Some(Threshold {
            period: Period::Day,
            usd: 10.0,
            of_usd: None,
            scope: ThresholdScope::Profile,
        });
        r.action = HookAction::Webhook {
            url: "https://example.test/h".into(),
            template: Some(r#"{"text":"$RINGLET_TOTAL_USD"}"#.into()),
        };
        let text = toml::to_string_pretty(&r).expect("serialises");
        let back: HookRule = toml::from_str(&text).expect("parses");
        assert_eq!(back, r);
    }

    #[test]
    fn actions_flatten_into_the_fields_of_their_kind() {
        let rhai = HookAction::Rhai {
            script: "fn on_pre_tool_use(ctx) { allow() }".into(),
            source: Some("gate.rhai".into()),
        };
        assert_eq!(rhai.kind(), "rhai");
        let f = rhai.into_fields();
        assert_eq!(f.script_source.as_deref(), Some("gate.rhai"));
        assert!(f.script.is_some() && f.command.is_none() && f.url.is_none());
        let hook = HookAction::Webhook {
            url: "http://127.0.0.1/x".into(),
            template: None,
        }
        .into_fields();
        assert_eq!(hook.url.as_deref(), Some("http://127.0.0.1/x"));
        assert!(hook.template.is_none() && hook.script.is_none());
    }
}
