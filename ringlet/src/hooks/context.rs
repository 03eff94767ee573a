//! What a hook is told about the event: the `RINGLET_*` variables, the JSON payload on stdin
//! (and the default webhook body), and the map a Rhai script sees as `ctx`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rule::HookEvent;

/// One event as hooks see it. Unset fields are not exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookContext {
    /// The event.
    pub event: HookEvent,
    /// The profile alias (`*` for a daily rollup over every profile).
    pub profile: String,
    /// The agent id.
    pub agent: String,
    /// The provider id.
    pub provider: String,
    /// The tool's name as the agent calls it (`Bash`, `Write`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The tool input, JSON-serialised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_input: Option<String>,
    /// The tool's result after the call (JSON-serialised when the agent gives JSON), or
    /// `denied: <reason>` when a ringlet hook denied the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_result: Option<String>,
    /// Whether the tool call failed or was denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_error: Option<bool>,
    /// A notification's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `cost-threshold`: the spend in the period that passed the threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// `cost-threshold`: the threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_usd: Option<f64>,
    /// `cost-threshold`: the budget given with `--of`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_usd: Option<f64>,
    /// `cost-threshold`: `day` or `month`; `daily-rollup`: `day`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// `cost-threshold`: the period (`2026-05-01`, `2026-05`); `daily-rollup`: the day rolled up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_key: Option<String>,
    /// `stop`: how long the agent ran; `daily-rollup`: the total run time of the day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// `stop` from the launcher: the agent's exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// `daily-rollup`: the day's spend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_usd: Option<f64>,
    /// `daily-rollup`: how many profiles spent anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_count: Option<u64>,
    /// `daily-rollup`: the profile that spent most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_profile: Option<String>,
    /// `daily-rollup`: what it spent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_usd: Option<f64>,
    /// The agent's session id, when it reports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The agent's working directory, when it reports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// The profile's HOME (the agent's `$HOME`), exported as `RINGLET_PROFILE_HOME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_home: Option<String>,
    /// The HOME shell hooks run with — always the user's. Set when this process's HOME is not
    /// the user's (`hooks dispatch` runs under the agent, whose HOME is the profile's); `None`
    /// keeps this process's HOME. Not part of the event.
    #[serde(skip)]
    pub user_home: Option<String>,
}

impl HookContext {
    /// A context with only the event and who it concerns.
    pub fn new(
        event: HookEvent,
        profile: impl Into<String>,
        agent: impl Into<String>,
        provider: impl Into<String>,
    ) -> Self {
        Self {
            event,
            profile: profile.into(),
            agent: agent.into(),
            provider: provider.into(),
            tool: None,
            tool_input: None,
            tool_result: None,
            tool_error: None,
            message: None,
            cost_usd: None,
            threshold_usd: None,
            budget_usd: None,
            period: None,
            period_key: None,
            duration_ms: None,
            exit_code: None,
            total_usd: None,
            profile_count: None,
            top_profile: None,
            top_usd: None,
            session_id: None,
            cwd: None,
            profile_home: None,
            user_home: None,
        }
    }

    /// Fills the tool fields from an agent's hook JSON (Claude Code's shape: `tool_name`,
    /// `tool_input`, `tool_response` / `error`, `message`, `session_id`, `cwd`; ringlet's own
    /// field names are accepted too, so `hooks test --payload` takes either).
    pub fn absorb_agent_json(&mut self, input: &Value) {
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let field = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| input.get(*n).filter(|v| !v.is_null()))
        };
        if let Some(v) = field(&["tool_name", "tool"]) {
            self.tool = Some(text(v));
        }
        if let Some(v) = field(&["tool_input"]) {
            self.tool_input = Some(text(v));
        }
        if let Some(v) = field(&["tool_response", "tool_result", "error"]) {
            self.tool_result = Some(text(v));
        }
        // Claude Code's PostToolUseFailure carries `error`; Gemini CLI's AfterTool puts it in
        // `tool_response.error`.
        let response_error = input
            .get("tool_response")
            .and_then(|r| r.get("error"))
            .is_some_and(|e| !e.is_null() && e != &Value::Bool(false));
        if response_error || input.get("error").is_some_and(|v| !v.is_null()) {
            self.tool_error = Some(true);
        } else if let Some(b) = input.get("tool_error").and_then(Value::as_bool) {
            self.tool_error = Some(b);
        }
        if let Some(v) = field(&["message"]) {
            self.message = Some(text(v));
        }
        if let Some(v) = field(&["session_id"]) {
            self.session_id = Some(text(v));
        }
        if let Some(v) = field(&["cwd"]) {
            self.cwd = Some(text(v));
        }
        for (name, slot) in [
            ("cost_usd", &mut self.cost_usd),
            ("total_usd", &mut self.total_usd),
            ("top_usd", &mut self.top_usd),
        ] {
            if let Some(x) = input.get(name).and_then(Value::as_f64) {
                *slot = Some(x);
            }
        }
        if let Some(x) = input.get("duration_ms").and_then(Value::as_u64) {
            self.duration_ms = Some(x);
        }
    }

    /// The `RINGLET_*` variables for this event, in a stable order. Only set fields appear.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut out: Vec<(&str, String)> = vec![
            ("RINGLET_EVENT", self.event.as_str().to_string()),
            ("RINGLET_PROFILE", self.profile.clone()),
            ("RINGLET_AGENT", self.agent.clone()),
            ("RINGLET_PROVIDER", self.provider.clone()),
        ];
        let mut opt = |name: &'static str, v: Option<String>| {
            if let Some(v) = v {
                out.push((name, v));
            }
        };
        opt("RINGLET_TOOL", self.tool.clone());
        opt("RINGLET_TOOL_INPUT", self.tool_input.clone());
        opt("RINGLET_TOOL_RESULT", self.tool_result.clone());
        opt(
            "RINGLET_TOOL_ERROR",
            self.tool_error
                .map(|b| if b { "1" } else { "0" }.to_string()),
        );
        opt("RINGLET_MESSAGE", self.message.clone());
        opt("RINGLET_COST_USD", self.cost_usd.map(usd));
        opt("RINGLET_THRESHOLD_USD", self.threshold_usd.map(usd));
        opt("RINGLET_BUDGET_USD", self.budget_usd.map(usd));
        opt("RINGLET_PERIOD", self.period.clone());
        opt("RINGLET_PERIOD_KEY", self.period_key.clone());
        opt(
            "RINGLET_DURATION_MS",
            self.duration_ms.map(|d| d.to_string()),
        );
        opt("RINGLET_EXIT_CODE", self.exit_code.map(|c| c.to_string()));
        opt("RINGLET_TOTAL_USD", self.total_usd.map(usd));
        opt(
            "RINGLET_PROFILE_COUNT",
            self.profile_count.map(|c| c.to_string()),
        );
        opt("RINGLET_TOP_PROFILE", self.top_profile.clone());
        opt("RINGLET_TOP_USD", self.top_usd.map(usd));
        opt("RINGLET_SESSION_ID", self.session_id.clone());
        opt("RINGLET_CWD", self.cwd.clone());
        opt("RINGLET_PROFILE_HOME", self.profile_home.clone());
        out.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// The event as JSON (stdin of shell hooks, the default webhook body).
    pub fn payload(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// The variables a hook's process must not inherit: `known` (every provider key and setting an
/// agent reads, and the launch's own key variable when the launcher fires the hook), the
/// variables the agent's environment names in `RINGLET_SECRET_VARS` (the key variable a config
/// script chose, which no manifest lists: `hooks dispatch` runs inside the agent's
/// environment), and every `RINGLET_KEY_*` variable of this process — the env credential
/// backend's keys, one per profile, which no hook needs. (A name that is not UTF-8 is never one
/// the backend reads, so it holds no key ringlet knows of.)
pub(crate) fn scrub_list(known: impl IntoIterator<Item = String>) -> Vec<String> {
    let prefix = crate::credentials::EnvCredentialStore::VAR_PREFIX;
    let mut out: std::collections::BTreeSet<String> = known.into_iter().collect();
    if let Ok(names) = std::env::var(crate::launch::SECRET_VARS_ENV) {
        out.extend(secret_var_names(&names));
    }
    out.extend(
        std::env::vars_os()
            .filter_map(|(name, _)| name.into_string().ok())
            .filter(|name| name.starts_with(prefix)),
    );
    out.into_iter().collect()
}

/// The names in a `RINGLET_SECRET_VARS` value (comma-separated).
fn secret_var_names(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
}

/// Dollars with two decimals, or four below a cent so small spends do not read as zero.
pub(crate) fn usd(x: f64) -> String {
    if x != 0.0 && x.abs() < 0.01 {
        format!("{x:.4}")
    } else {
        format!("{x:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claude_hook_json_becomes_tool_fields_and_env() {
        let mut ctx = HookContext::new(HookEvent::PreToolUse, "work", "claude", "anthropic");
        ctx.absorb_agent_json(&json!({
            "session_id": "s1", "cwd": "/w", "hook_event_name": "PreToolUse",
            "tool_name": "Bash", "tool_input": {"command": "rm -rf /tmp/x"}, "tool_use_id": "t"
        }));
        let env: std::collections::BTreeMap<_, _> = ctx.env().into_iter().collect();
        assert_eq!(env["RINGLET_PROFILE"], "work");
        assert_eq!(env["RINGLET_AGENT"], "claude");
        assert_eq!(env["RINGLET_PROVIDER"], "anthropic");
        assert_eq!(env["RINGLET_TOOL"], "Bash");
        assert_eq!(env["RINGLET_TOOL_INPUT"], r#"{"command":"rm -rf /tmp/x"}"#);
        assert!(!env.contains_key("RINGLET_TOOL_RESULT"));
        assert_eq!(ctx.payload()["tool"], "Bash");
    }

    #[test]
    fn tool_errors_are_recognised_in_claude_and_gemini_shapes() {
        let error = |v: Value| {
            let mut ctx = HookContext::new(HookEvent::ToolUse, "w", "a", "p");
            ctx.absorb_agent_json(&v);
            ctx.tool_error
        };
        assert_eq!(
            error(json!({"tool_name":"Bash","error":"Exit code 2"})),
            Some(true)
        );
        assert_eq!(
            error(
                json!({"tool_name":"run_shell_command","tool_response":{"llmContent":"x","error":{"message":"boom"}}})
            ),
            Some(true)
        );
        assert_eq!(
            error(
                json!({"tool_name":"run_shell_command","tool_response":{"llmContent":"x","error":null}})
            ),
            None
        );
        assert_eq!(
            error(json!({"tool_name":"Bash","tool_response":{"stdout":"ok"}})),
            None
        );
    }

    #[test]
    fn secret_var_names_are_split_on_commas() {
        let names: Vec<String> = secret_var_names("MY_AGENT_KEY, OTHER,,").collect();
        assert_eq!(names, ["MY_AGENT_KEY", "OTHER"]);
    }

    #[test]
    fn money_keeps_small_amounts_visible() {
        assert_eq!(usd(10.0), "10.00");
        assert_eq!(usd(0.0003), "0.0003");
        assert_eq!(usd(0.0), "0.00");
    }
}
