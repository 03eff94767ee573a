//! The contract with agents that call `ringlet hooks dispatch` from their own hook mechanism
//! (Claude Code): the event JSON arrives on stdin; a deny is exit code 2 with the reason on
//! stderr, which Claude Code hands to the model as the tool's error result.

use serde::{Deserialize, Serialize};

use super::rule::HookEvent;
use super::run::{Decision, FireReport};

/// The exit code that tells Claude Code to block the tool call (stderr is the reason).
pub const DENY_EXIT_CODE: i32 = 2;

/// What `hooks dispatch` decided and did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchOutcome {
    /// The event dispatched.
    pub event: HookEvent,
    /// For `pre-tool-use`, the gate's decision; `Allow` for every other event.
    pub decision: Decision,
    /// The non-gating hooks fired.
    pub fired: Vec<FireReport>,
}

impl DispatchOutcome {
    /// The exit code for the agent: 0, or [`DENY_EXIT_CODE`] to block the tool call.
    pub fn exit_code(&self) -> i32 {
        if self.decision.allowed() {
            0
        } else {
            DENY_EXIT_CODE
        }
    }

    /// What to print on stderr for the agent: the deny message, if any.
    pub fn stderr(&self) -> Option<String> {
        self.decision.message()
    }

    /// The outcome when dispatch itself failed (unreadable rules, bad input, unknown profile):
    /// a gating event is denied, naming the failure; any other event is let through.
    pub fn failed(event: HookEvent, why: &str) -> Self {
        let decision = if event.is_gating() {
            Decision::Unchecked {
                reason: why.to_string(),
            }
        } else {
            Decision::Allow
        };
        Self {
            event,
            decision,
            fired: Vec::new(),
        }
    }
}

/// Parses the agent's stdin: empty is `null`, anything else must be JSON.
pub(crate) fn parse_input(text: &str) -> Result<serde_json::Value, String> {
    if text.trim().is_empty() {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_str(text).map_err(|e| format!("the hook input on stdin is not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_deny_only_gating_events() {
        let gate = DispatchOutcome::failed(HookEvent::PreToolUse, "rules unreadable");
        assert_eq!(gate.exit_code(), DENY_EXIT_CODE);
        assert!(gate.stderr().expect("message").contains("rules unreadable"));
        // Dispatch itself failed: there is no hook to remove.
        assert!(
            !gate.stderr().expect("message").contains("hooks remove"),
            "{:?}",
            gate.stderr()
        );
        let stop = DispatchOutcome::failed(HookEvent::Stop, "rules unreadable");
        assert_eq!(stop.exit_code(), 0);
        assert!(parse_input("  ").expect("empty").is_null());
        assert!(parse_input("{").is_err());
    }
}
