//! Webhook actions: a POST of a JSON body, with a timeout.
//!
//! The body is the rule's template with `$RINGLET_NAME` and `${RINGLET_NAME}` replaced by the
//! variable's value escaped for a JSON string — nothing else is expanded (no shell, no
//! commands), so a template is safe to share. Without a template the body is the event JSON.

use std::time::Duration;

use super::context::HookContext;
use crate::error::{Error, Result};

/// How a webhook call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WebhookEnd {
    /// The server answered, and (when it was asked for) its whole body arrived in time.
    Answered {
        /// The HTTP status.
        status: u16,
        /// The response body, complete; empty when the body was not asked for.
        body: String,
    },
    /// No complete answer within the timeout (the body included).
    TimedOut,
    /// The request failed (connection refused, DNS, TLS, a body cut off or too large, …): one
    /// sentence naming the webhook and the cause, once.
    Failed(String),
}

/// The most of a webhook's answer that is read: a verdict is a few hundred bytes.
pub(crate) const MAX_ANSWER_BYTES: u64 = 64 * 1024;

/// Substitutes the `RINGLET_*` variables into `template`. Unknown or unset names become "".
pub(crate) fn render(template: &str, env: &[(String, String)]) -> String {
    let lookup = |name: &str| {
        env.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| json_escape(v))
            .unwrap_or_default()
    };
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, consumed) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) if is_var(&inner[..end]) => (Some(&inner[..end]), end + 2),
                _ => (None, 0),
            }
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(after.len());
            if is_var(&after[..len]) {
                (Some(&after[..len]), len)
            } else {
                (None, 0)
            }
        };
        match name {
            Some(name) => {
                out.push_str(&lookup(name));
                rest = &after[consumed..];
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_var(name: &str) -> bool {
    name.starts_with("RINGLET_")
        && name.len() > "RINGLET_".len()
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The value as it goes between the quotes of a JSON string.
fn json_escape(v: &str) -> String {
    let quoted = serde_json::Value::String(v.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

/// Checks a template becomes valid JSON once substituted (when the hook is added).
pub(crate) fn check_template(hook: &str, template: &str) -> Result<()> {
    let sample: Vec<(String, String)> = Vec::new();
    let body = render(template, &sample);
    serde_json::from_str::<serde_json::Value>(&body)
        .map(|_| ())
        .map_err(|e| Error::Hook {
            hook: hook.to_string(),
            message: format!(
                "the webhook template is not JSON ({e}); variables go inside JSON strings, like {{\"text\":\"spent $RINGLET_TOTAL_USD\"}}"
            ),
        })
}

/// The body for this event.
pub(crate) fn body(template: Option<&str>, ctx: &HookContext) -> String {
    match template {
        Some(t) => render(t, &ctx.env()),
        None => ctx.payload().to_string(),
    }
}

/// POSTs `body` to `url`. The whole exchange — connecting, sending, and, when `read_answer`,
/// reading the complete answer — must end within `timeout`, or it is [`WebhookEnd::TimedOut`]:
/// the deadline is enforced here, not only per read, so a server that trickles its answer byte
/// by byte cannot hold a gate open.
pub(crate) fn post(url: &str, body: &str, timeout: Duration, read_answer: bool) -> WebhookEnd {
    let (tx, rx) = std::sync::mpsc::channel();
    let (url, body) = (url.to_string(), body.to_string());
    // The exchange runs on its own thread so the deadline holds whatever ureq does (DNS
    // lookups, for one, are not interruptible); ureq's own global timeout ends the thread.
    let spawned = std::thread::Builder::new()
        .name("ringlet-webhook".into())
        .spawn(move || {
            let _ = tx.send(exchange(&url, &body, timeout, read_answer));
        });
    if let Err(e) = spawned {
        return WebhookEnd::Failed(format!("could not start the webhook request: {e}"));
    }
    match rx.recv_timeout(timeout) {
        Ok(end) => end,
        Err(_) => WebhookEnd::TimedOut,
    }
}

fn exchange(url: &str, body: &str, timeout: Duration, read_answer: bool) -> WebhookEnd {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .user_agent(concat!("ringlet/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut resp = match agent
        .post(url)
        .header("content-type", "application/json")
        .send(body)
    {
        Ok(resp) => resp,
        Err(ureq::Error::Timeout(_)) => return WebhookEnd::TimedOut,
        Err(e) => {
            return WebhookEnd::Failed(format!("could not reach the webhook: {}", cause(&e)));
        }
    };
    let status = resp.status().as_u16();
    if !read_answer {
        return WebhookEnd::Answered {
            status,
            body: String::new(),
        };
    }
    // Read raw bytes (no charset guessing) and judge them: an answer that cannot be read in
    // full is no answer.
    let bytes = resp
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER_BYTES)
        .read_to_vec();
    match bytes {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(body) => WebhookEnd::Answered { status, body },
            Err(_) => WebhookEnd::Failed("the webhook's answer is not UTF-8 text".into()),
        },
        Err(ureq::Error::Timeout(_)) => WebhookEnd::TimedOut,
        Err(ureq::Error::BodyExceedsLimit(_)) => WebhookEnd::Failed(format!(
            "the webhook's answer is larger than {} KiB",
            MAX_ANSWER_BYTES / 1024
        )),
        Err(e) => WebhookEnd::Failed(format!("the webhook's answer was cut off: {}", cause(&e))),
    }
}

/// One cause, without ureq's "io: " prefix (callers add their own context once).
fn cause(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::rule::HookEvent;

    #[test]
    fn variables_are_substituted_and_escaped_nothing_else() {
        let env = vec![
            ("RINGLET_TOTAL_USD".to_string(), "12.50".to_string()),
            (
                "RINGLET_TOOL_INPUT".to_string(),
                r#"{"command":"echo "hi""}"#.to_string(),
            ),
        ];
        let out = render(
            r#"{"text":"$RINGLET_TOTAL_USD ${RINGLET_TOTAL_USD}x $RINGLET_NOPE $HOME $(id) `id`","in":"$RINGLET_TOOL_INPUT"}"#,
            &env,
        );
        let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(v["text"], "12.50 12.50x  $HOME $(id) `id`");
        assert_eq!(v["in"], r#"{"command":"echo "hi""}"#);
    }

    #[test]
    fn templates_must_be_json() {
        check_template("h1", r#"{"text":"$RINGLET_TOTAL_USD"}"#).expect("valid");
        let err = check_template("h1", r#"{"text": $RINGLET_TOTAL_USD}"#).expect_err("bare");
        assert!(err.to_string().contains("not JSON"), "{err}");
    }

    #[test]
    fn without_a_template_the_body_is_the_event() {
        let ctx = HookContext::new(HookEvent::Stop, "w", "codex", "openai");
        let v: serde_json::Value = serde_json::from_str(&body(None, &ctx)).expect("json");
        assert_eq!(v["event"], "stop");
        assert_eq!(v["profile"], "w");
    }
}
