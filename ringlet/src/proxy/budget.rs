//! Budgets that stop spending. Before a request starts, the proxy reads what the profile (or,
//! for `config.toml`'s `[budget]`, every profile) spent in the current UTC day or month from the
//! ledger — the one every run of every process records into, so concurrent runs of a profile
//! share one budget — and refuses the request once a limit is reached.
//!
//! A request already in flight when the limit is crossed completes: the overspend is what was
//! in flight. To bound it, a run with a budget sends one request at a time: the next request
//! waits until the last one's cost is in the ledger, then reads the spend. Every request is
//! admitted only while the recorded spend is under the limit, so when it is crossed each run has
//! at most one request in flight: the overspend is at most one request per concurrent run.
//! (Agents that send requests in parallel, such as Claude Code's side calls, wait for each other
//! while a budget is set.)

use std::sync::Arc;

use chrono::{Duration, Utc};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::hooks::{Period, period_start};
use crate::usage::{NANOS_PER_USD, UsageFilter, UsageGroup, UsageStore};

/// Whose spend a limit counts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BudgetScope {
    /// One profile's (its `[budget]`).
    Profile(String),
    /// Every profile's together (`config.toml`'s `[budget]`).
    Global,
}

/// One limit: dollars per UTC day or month.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetLimit {
    /// Whose spend.
    pub scope: BudgetScope,
    /// Per day or per month.
    pub period: Period,
    /// Dollars.
    pub usd: f64,
}

/// A request refused because a limit was reached.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetRefusal {
    /// The limit.
    pub limit: BudgetLimit,
    /// What was spent in the period when the request came.
    pub spent_usd: f64,
    /// The period (`2026-05-01`, `2026-05`).
    pub period_key: String,
    /// What the agent is told.
    pub message: String,
}

impl BudgetLimit {
    fn nanos(&self) -> i64 {
        (self.usd * NANOS_PER_USD as f64).round() as i64
    }

    fn refusal(&self, spent_nanos: i64, period_key: String) -> BudgetRefusal {
        let spent_usd = spent_nanos as f64 / NANOS_PER_USD as f64;
        let (what, raise) = match &self.scope {
            BudgetScope::Profile(alias) => (
                format!("profile '{alias}'"),
                format!(
                    "raise it with `ringlet profiles set {alias} --budget-{} <dollars>`",
                    self.period.as_str()
                ),
            ),
            BudgetScope::Global => (
                "all profiles".to_string(),
                format!(
                    "raise it in config.toml, [budget] {} = <dollars>",
                    self.period.as_str()
                ),
            ),
        };
        let when = match self.period {
            Period::Day => "tomorrow (UTC)",
            Period::Month => "next month (UTC)",
        };
        BudgetRefusal {
            limit: self.clone(),
            spent_usd,
            message: format!(
                "ringlet budget reached: the {} budget of {what} is ${:.2} and ${spent_usd:.4} is spent ({period_key}); {raise}, or wait until {when}",
                self.period.as_str(),
                self.usd
            ),
            period_key,
        }
    }
}

/// The proxy's side of its budgets.
#[derive(Debug)]
pub(crate) struct Guard {
    limits: Vec<BudgetLimit>,
    store: Arc<dyn UsageStore>,
    /// One request at a time.
    gate: Arc<Mutex<()>>,
}

/// What the guard decided.
#[derive(Debug)]
pub(crate) enum Admit {
    /// Go; hold the permit until the response's cost is in the ledger.
    Go(OwnedMutexGuard<()>),
    /// Refused.
    Refused(BudgetRefusal),
}

impl Guard {
    pub(crate) fn new(limits: Vec<BudgetLimit>, store: Arc<dyn UsageStore>) -> Guard {
        Guard {
            limits,
            store,
            gate: Arc::new(Mutex::new(())),
        }
    }

    /// Decides whether a request may start, once the run's previous request is in the ledger.
    pub(crate) async fn admit(&self) -> Admit {
        let permit = Arc::clone(&self.gate).lock_owned().await;
        match self.check().await {
            Some(refusal) => Admit::Refused(refusal),
            None => Admit::Go(permit),
        }
    }

    /// A refusal if a limit is reached.
    async fn check(&self) -> Option<BudgetRefusal> {
        let limits = self.limits.clone();
        let store = Arc::clone(&self.store);
        let checked = tokio::task::spawn_blocking(move || {
            let now = Utc::now();
            for limit in &limits {
                let (since, key) = period_start(limit.period, now);
                let mut filter = UsageFilter::new()
                    .since(since)
                    .until(now + Duration::seconds(1));
                if let BudgetScope::Profile(alias) = &limit.scope {
                    filter = filter.profile(alias.clone());
                }
                // A ledger that cannot be read refuses nothing: budgets must not stop work
                // because of a locked file (the next request reads it again).
                let spent = store
                    .query(&filter, UsageGroup::Total)
                    .ok()
                    .and_then(|rows| rows.first().map(|r| r.cost_nanos))
                    .unwrap_or(0);
                if spent >= limit.nanos() {
                    return Some(limit.refusal(spent, key));
                }
            }
            None
        })
        .await;
        checked.unwrap_or(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_budget_and_how_to_raise_it() {
        let limit = BudgetLimit {
            scope: BudgetScope::Profile("work".into()),
            period: Period::Day,
            usd: 0.01,
        };
        let r = limit.refusal(12_000_000, "2026-05-01".into());
        assert!(
            r.message.contains("day budget of profile 'work' is $0.01"),
            "{}",
            r.message
        );
        assert!(
            r.message.contains("ringlet profiles set work --budget-day"),
            "{}",
            r.message
        );
        assert!((r.spent_usd - 0.012).abs() < 1e-12);
        let global = BudgetLimit {
            scope: BudgetScope::Global,
            period: Period::Month,
            usd: 100.0,
        };
        let r = global.refusal(0, "2026-05".into());
        assert!(r.message.contains("[budget] month"), "{}", r.message);
    }
}
