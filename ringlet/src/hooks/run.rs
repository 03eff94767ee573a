//! Running rules: the gate for `pre-tool-use` (synchronous, fails closed) and firing for every
//! other event (never blocks: shell commands detached, webhooks bounded by their timeout).

use serde::{Deserialize, Serialize};

use super::context::HookContext;
use super::rhai_gate::{self, RhaiVerdict};
use super::rule::{HookAction, HookEntry, HookEvent, HookRule};
use super::shell::{self, ShellEnd};
use super::webhook::{self, WebhookEnd};

/// What the `pre-tool-use` hooks decided about one tool call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Decision {
    /// No hook objected (or none applies).
    Allow,
    /// A hook denied the call, or could not decide and so failed closed.
    Deny {
        /// The hook that denied.
        hook: String,
        /// Why, in the hook's words, or why the hook could not decide.
        reason: String,
        /// True when the hook did not decide but failed (timeout, error): the deny is the
        /// fail-closed default.
        failed: bool,
    },
    /// ringlet could not run the hooks at all — its rules, ringlet's config or the agent's
    /// input unreadable, an unknown profile or event — so no hook decided, and the call is
    /// denied (failing closed).
    Unchecked {
        /// Why the hooks could not run.
        reason: String,
    },
}

impl Decision {
    /// Whether the call may go ahead.
    pub fn allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }

    /// The message the agent (and its user) sees for a deny.
    pub fn message(&self) -> Option<String> {
        match self {
            Decision::Allow => None,
            Decision::Deny {
                hook,
                reason,
                failed: false,
            } => Some(format!("denied by ringlet hook {hook}: {reason}")),
            Decision::Deny {
                hook,
                reason,
                failed: true,
            } => Some(format!(
                "denied: ringlet hook {hook} failed ({reason}), and a pre-tool-use hook that fails denies; fix or remove it with `ringlet hooks remove {hook}`"
            )),
            Decision::Unchecked { reason } => Some(format!(
                "denied: ringlet could not run the pre-tool-use hooks ({reason}), and a call they cannot check is denied; fix that cause (`ringlet hooks list` shows the hooks)"
            )),
        }
    }
}

/// What one non-gating hook did (for `hooks test` and frontends' diagnostics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FireReport {
    /// The hook id.
    pub hook: String,
    /// Whether it ran (or, detached, started) without an error.
    pub ok: bool,
    /// What happened: `started`, `exit 0`, `HTTP 200`, `timed out after 2000 ms`, …
    pub detail: String,
}

/// How non-gating shell hooks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShellMode {
    /// Start and return; the agent never waits.
    Detached,
    /// Wait up to the rule's timeout (dry runs).
    Waited,
}

/// Runs the `pre-tool-use` rules that match `ctx.tool`, in order, until one denies.
pub(crate) fn gate(rules: &[HookEntry], ctx: &HookContext, scrub: &[String]) -> Decision {
    for entry in rules {
        let rule = &entry.rule;
        if rule.event != HookEvent::PreToolUse || !rule.matches_tool(ctx.tool.as_deref()) {
            continue;
        }
        let decision = gate_one(rule, ctx, scrub);
        if !decision.allowed() {
            return decision;
        }
    }
    Decision::Allow
}

/// One gating rule's decision.
pub(crate) fn gate_one(rule: &HookRule, ctx: &HookContext, scrub: &[String]) -> Decision {
    let deny = |reason: String| Decision::Deny {
        hook: rule.id.clone(),
        reason,
        failed: false,
    };
    let failed = |reason: String| Decision::Deny {
        hook: rule.id.clone(),
        reason,
        failed: true,
    };
    let ms = rule.timeout().as_millis();
    match &rule.action {
        HookAction::Shell { command } => {
            let payload = ctx.payload().to_string();
            match shell::run_waited(
                command,
                &shell_env(ctx),
                scrub,
                payload.as_bytes(),
                rule.timeout(),
            ) {
                Ok(ShellEnd::Exited { code: 0, .. }) => Decision::Allow,
                Ok(ShellEnd::Exited {
                    code,
                    stderr,
                    stdout,
                }) => {
                    let said = if stderr.is_empty() { stdout } else { stderr };
                    let said = last_line(&said);
                    deny(if said.is_empty() {
                        format!("the command exited with code {code}")
                    } else {
                        said
                    })
                }
                Ok(ShellEnd::TimedOut) => failed(format!("timed out after {ms} ms")),
                Err(e) => failed(format!("could not start sh: {e}")),
            }
        }
        HookAction::Rhai { script, .. } => match rhai_gate::run(script, ctx, rule.timeout()) {
            Ok(RhaiVerdict::Allow) => Decision::Allow,
            Ok(RhaiVerdict::Deny(reason)) if reason.trim().is_empty() => {
                deny("the Rhai script denied the call".into())
            }
            Ok(RhaiVerdict::Deny(reason)) => deny(reason),
            Err(why) => failed(format!("error in the Rhai script: {why}")),
        },
        HookAction::Webhook { url, template } => {
            let body = webhook::body(template.as_deref(), ctx);
            match webhook::post(url, &body, rule.timeout(), true) {
                WebhookEnd::Answered { status, body } if (200..300).contains(&status) => {
                    match webhook_verdict(&body) {
                        Ok(None) => Decision::Allow,
                        Ok(Some(reason)) => deny(reason),
                        Err(why) => failed(why),
                    }
                }
                WebhookEnd::Answered { status, .. } => {
                    failed(format!("the webhook answered HTTP {status}"))
                }
                WebhookEnd::TimedOut => failed(format!("the webhook timed out after {ms} ms")),
                WebhookEnd::Failed(why) => failed(why),
            }
        }
    }
}

/// The verdict of a complete 2xx answer: `Ok(None)` allows — an empty body, or a JSON object
/// whose `decision` is absent or `allow`; `Ok(Some(reason))` denies — `{"decision": "deny",
/// "reason": "…"}`; `Err(why)` is an answer that is no verdict (not JSON, another decision),
/// and the gate fails closed. A leading UTF-8 byte order mark is ignored.
fn webhook_verdict(body: &str) -> Result<Option<String>, String> {
    let body = body.strip_prefix('\u{feff}').unwrap_or(body);
    if body.trim().is_empty() {
        return Ok(None);
    }
    let v: serde_json::Value = serde_json::from_str(body)
        .map_err(|e| format!("the webhook's answer is not JSON ({e})"))?;
    let Some(obj) = v.as_object() else {
        return Err("the webhook's answer is not a JSON object".into());
    };
    match obj.get("decision") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(d)) if d.trim().eq_ignore_ascii_case("allow") => Ok(None),
        Some(serde_json::Value::String(d)) if d.trim().eq_ignore_ascii_case("deny") => Ok(Some(
            obj.get("reason")
                .and_then(|r| r.as_str())
                .filter(|r| !r.trim().is_empty())
                .unwrap_or("the webhook denied the call")
                .to_string(),
        )),
        Some(other) => Err(format!(
            "the webhook's decision {} is neither allow nor deny",
            last_line(&other.to_string())
        )),
    }
}

/// A shell hook's variables: the event's `RINGLET_*`, and `HOME` when it must be set to the
/// user's (see [`HookContext::user_home`]), so `~` means the same in every hook.
fn shell_env(ctx: &HookContext) -> Vec<(String, String)> {
    let mut env = ctx.env();
    if let Some(home) = &ctx.user_home {
        env.push(("HOME".into(), home.clone()));
    }
    env
}

fn last_line(text: &str) -> String {
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let line = line.trim();
    if line.chars().count() > 500 {
        format!("{}…", line.chars().take(499).collect::<String>())
    } else {
        line.to_string()
    }
}

/// Fires the rules for `ctx.event` that match. Shell actions start detached (or wait, for dry
/// runs); webhooks wait at most their timeout. Rhai rules only gate and are skipped here.
pub(crate) fn fire(
    rules: &[HookEntry],
    ctx: &HookContext,
    scrub: &[String],
    mode: ShellMode,
) -> Vec<FireReport> {
    rules
        .iter()
        .filter(|e| e.rule.event == ctx.event && e.rule.matches_tool(ctx.tool.as_deref()))
        .filter(|e| e.scope().covers(&ctx.profile) || ctx.profile == "*")
        .map(|e| fire_one(&e.rule, ctx, scrub, mode))
        .collect()
}

/// Fires one rule, whatever its event.
pub(crate) fn fire_one(
    rule: &HookRule,
    ctx: &HookContext,
    scrub: &[String],
    mode: ShellMode,
) -> FireReport {
    let report = |ok: bool, detail: String| FireReport {
        hook: rule.id.clone(),
        ok,
        detail,
    };
    let ms = rule.timeout().as_millis();
    match &rule.action {
        HookAction::Shell { command } => {
            let payload = ctx.payload().to_string();
            match mode {
                ShellMode::Detached => {
                    match shell::run_detached(
                        command,
                        &shell_env(ctx),
                        scrub,
                        payload.as_bytes(),
                        rule.timeout(),
                    ) {
                        Ok(()) => report(true, "started".into()),
                        Err(e) => report(false, format!("could not start sh: {e}")),
                    }
                }
                ShellMode::Waited => match shell::run_waited(
                    command,
                    &shell_env(ctx),
                    scrub,
                    payload.as_bytes(),
                    rule.timeout(),
                ) {
                    Ok(ShellEnd::Exited { code, stderr, .. }) => {
                        let tail = last_line(&stderr);
                        let detail = if tail.is_empty() {
                            format!("exit {code}")
                        } else {
                            format!("exit {code}: {tail}")
                        };
                        report(code == 0, detail)
                    }
                    Ok(ShellEnd::TimedOut) => report(false, format!("timed out after {ms} ms")),
                    Err(e) => report(false, format!("could not start sh: {e}")),
                },
            }
        }
        HookAction::Webhook { url, template } => {
            let body = webhook::body(template.as_deref(), ctx);
            match webhook::post(url, &body, rule.timeout(), false) {
                WebhookEnd::Answered { status, .. } => {
                    report((200..300).contains(&status), format!("HTTP {status}"))
                }
                WebhookEnd::TimedOut => report(false, format!("timed out after {ms} ms")),
                WebhookEnd::Failed(why) => report(false, why),
            }
        }
        HookAction::Rhai { script, .. } => match rhai_gate::run(script, ctx, rule.timeout()) {
            Ok(RhaiVerdict::Allow) => report(true, "allow".into()),
            Ok(RhaiVerdict::Deny(reason)) => report(true, format!("deny: {reason}")),
            Err(why) => report(false, format!("error in the Rhai script: {why}")),
        },
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::hooks::rule::HookScope;

    fn entry(
        id: &str,
        matcher: Option<&str>,
        action: HookAction,
        timeout_ms: Option<u64>,
    ) -> HookEntry {
        HookEntry {
            profile: HookScope::global().profile,
            rule: HookRule {
                id: id.into(),
                event: HookEvent::PreToolUse,
                matcher: matcher.map(str::to_string),
                timeout_ms,
                threshold: None,
                action,
            },
        }
    }

    fn shell(cmd: &str) -> HookAction {
        HookAction::Shell {
            command: cmd.into(),
        }
    }

    fn ctx(input: &str) -> HookContext {
        let mut c = HookContext::new(HookEvent::PreToolUse, "prod", "claude", "anthropic");
        c.tool = Some("Bash".into());
        c.tool_input = Some(input.into());
        c
    }

    #[test]
    fn the_articles_shell_guard_denies_rm_rf_and_allows_the_rest() {
        let guard = entry(
            "h1",
            None,
            shell(
                r#"case "$RINGLET_TOOL_INPUT" in *"rm -rf"*) echo "no rm -rf here" >&2; exit 1 ;; *) exit 0 ;; esac"#,
            ),
            None,
        );
        let rules = [guard];
        assert_eq!(
            gate(&rules, &ctx(r#"{"command":"ls"}"#), &[]),
            Decision::Allow
        );
        let d = gate(&rules, &ctx(r#"{"command":"rm -rf /tmp/x"}"#), &[]);
        assert_eq!(
            d,
            Decision::Deny {
                hook: "h1".into(),
                reason: "no rm -rf here".into(),
                failed: false
            }
        );
        assert_eq!(
            d.message().as_deref(),
            Some("denied by ringlet hook h1: no rm -rf here")
        );
    }

    #[test]
    fn a_gate_that_times_out_fails_closed_naming_the_hook() {
        let rules = [entry("slow", None, shell("sleep 10"), Some(100))];
        let started = std::time::Instant::now();
        let d = gate(&rules, &ctx("{}"), &[]);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let msg = d.message().expect("denied");
        assert!(
            msg.contains("slow") && msg.contains("timed out after 100 ms"),
            "{msg}"
        );
    }

    #[test]
    fn matchers_pick_the_rules_that_run() {
        let rules = [
            entry("writes", Some("Write|Edit"), shell("exit 1"), None),
            entry("bash", Some("bash"), shell("exit 0"), None),
        ];
        assert!(gate(&rules, &ctx("{}"), &[]).allowed());
        let mut edit = ctx("{}");
        edit.tool = Some("Edit".into());
        assert!(!gate(&rules, &edit, &[]).allowed());
    }

    #[test]
    fn a_broken_rhai_gate_fails_closed() {
        let rules = [entry(
            "loop",
            None,
            HookAction::Rhai {
                script: "fn on_pre_tool_use(ctx) { loop {} }".into(),
                source: None,
            },
            None,
        )];
        let msg = gate(&rules, &ctx("{}"), &[]).message().expect("denied");
        assert!(msg.contains("loop") && msg.contains("failed"), "{msg}");
    }

    fn webhook(url: String) -> HookAction {
        HookAction::Webhook {
            url,
            template: None,
        }
    }

    /// A webhook gate decides only on a complete, well-formed answer: a body that stalls,
    /// trickles, is cut off, is too large or is not a verdict denies, naming the hook and why.
    #[test]
    fn a_gating_webhook_fails_closed_on_anything_but_a_complete_verdict() {
        let server = crate::hooks::test_http::start();
        let gate_at = |path: &str| {
            let rules = [entry(
                "wh",
                None,
                webhook(format!("{server}{path}")),
                Some(1000),
            )];
            let started = std::time::Instant::now();
            let d = gate(&rules, &ctx("{}"), &[]);
            (d, started.elapsed())
        };
        for (path, why) in [
            ("/slow", "timed out after 1000 ms"),
            ("/trickle", "timed out after 1000 ms"),
            ("/cut", "cut off"),
            ("/chunk-cut", "cut off"),
            ("/big", "larger than 64 KiB"),
            ("/text", "not JSON"),
            ("/weird", "neither allow nor deny"),
        ] {
            let (d, took) = gate_at(path);
            assert!(
                took < std::time::Duration::from_millis(2500),
                "{path}: {took:?}"
            );
            let Decision::Deny { hook, failed, .. } = &d else {
                panic!("{path} allowed the call");
            };
            assert_eq!((hook.as_str(), *failed), ("wh", true), "{path}: {d:?}");
            let msg = d.message().expect("denied");
            assert!(msg.contains("wh") && msg.contains(why), "{path}: {msg}");
        }
        // A byte order mark does not hide a deny.
        assert_eq!(
            gate_at("/bom").0,
            Decision::Deny {
                hook: "wh".into(),
                reason: "no, with a BOM".into(),
                failed: false
            }
        );
        assert!(!gate_at("/deny").0.allowed());
        for path in ["/allow", "/empty", "/object"] {
            assert!(gate_at(path).0.allowed(), "{path}");
        }
    }

    /// One cause, said once: not `failed: failed: io: Connection refused`.
    #[test]
    fn a_failed_webhook_names_its_cause_once() {
        let url = crate::hooks::test_http::refused();
        let mut rule = entry("wh", None, webhook(url), Some(1000)).rule;
        let msg = gate_one(&rule, &ctx("{}"), &[]).message().expect("denied");
        assert_eq!(msg.matches("Connection refused").count(), 1, "{msg}");
        assert_eq!(msg.matches("failed").count(), 1, "{msg}");
        assert!(!msg.contains("io:"), "{msg}");
        rule.event = HookEvent::ToolUse;
        let report = fire_one(&rule, &ctx("{}"), &[], ShellMode::Waited);
        assert!(!report.ok);
        assert!(
            report
                .detail
                .starts_with("could not reach the webhook: Connection refused"),
            "{}",
            report.detail
        );
    }

    #[test]
    fn webhook_verdicts() {
        assert_eq!(webhook_verdict(""), Ok(None));
        assert_eq!(webhook_verdict(r#"{"decision":"allow"}"#), Ok(None));
        assert_eq!(webhook_verdict("{}"), Ok(None));
        assert_eq!(
            webhook_verdict(r#"{"decision":"deny","reason":"change freeze"}"#),
            Ok(Some("change freeze".into()))
        );
        assert_eq!(
            webhook_verdict("\u{feff}{\"decision\":\"DENY\"}"),
            Ok(Some("the webhook denied the call".into()))
        );
        assert!(webhook_verdict("OK").is_err());
        assert!(webhook_verdict("[]").is_err());
        assert!(webhook_verdict(r#"{"decision":false}"#).is_err());
    }
}
