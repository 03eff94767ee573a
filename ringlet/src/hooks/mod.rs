//! Hooks: rules that audit, gate and alert on agent lifecycle events.
//!
//! A rule ([`HookRule`]) names an event ([`HookEvent`]), optionally a tool matcher, and an
//! action ([`HookAction`]): a shell command, a sandboxed Rhai gate, or a webhook. Rules are TOML
//! files in the config dir's `hooks/` (every profile) or a profile's own `hooks/`
//! ([`HookStore`]).
//!
//! - `pre-tool-use` hooks gate: they run synchronously, in order, until one denies; a hook that
//!   times out (default 2 s) or errors denies too — the gate fails closed ([`Decision`]).
//! - every other event fires without blocking the agent: shell commands start detached,
//!   webhooks are bounded by their timeout.
//! - `cost-threshold` and `daily-rollup` have no daemon: the first ringlet process that checks
//!   after the condition holds claims the event in a SQLite ledger ([`FiredLedger`]) and fires
//!   it, so concurrent processes fire it exactly once ([`check_cost_thresholds`],
//!   [`check_daily_rollup`]).
//!
//! Real agents call back into ringlet: Claude Code's own hooks (written into the profile's
//! `.claude/settings.json` by its config script) run `ringlet hooks dispatch`, and the
//! launcher fires `start` and `stop` for every agent.

mod agent_io;
mod context;
mod ledger;
mod rhai_gate;
mod rule;
mod run;
mod schedule;
mod shell;
mod store;
#[cfg(test)]
mod test_http;
mod webhook;

pub use agent_io::{DENY_EXIT_CODE, DispatchOutcome};
pub use context::HookContext;
pub use ledger::{FiredLedger, STATE_FILE};
pub use rule::{
    DEFAULT_TIMEOUT_MS, HookAction, HookActionFields, HookEntry, HookEvent, HookRule, HookScope,
    MAX_HOOK_INPUT_BYTES, MAX_HOOKS_FILE_BYTES, MAX_RHAI_SCRIPT_BYTES, MAX_TIMEOUT_MS, Period,
    Threshold, ThresholdScope,
};
pub use run::{Decision, FireReport};
#[cfg(any(feature = "team", feature = "proxy"))]
pub(crate) use schedule::period_start;
pub use schedule::{Firing, ProfileRef, ROLLUP_AFTER, check_cost_thresholds, check_daily_rollup};
pub use store::{HOOKS_DIR, HookStore};

pub(crate) use agent_io::parse_input as parse_agent_input;
pub(crate) use context::scrub_list;
pub(crate) use run::{ShellMode, fire, fire_one, gate, gate_one};
pub(crate) use store::new_id;
