//! Budgets that stop spending. Before a request starts, the proxy reads what the profile (or,
//! for `config.toml`'s `[budget]`, every profile) spent in the current UTC day or month from the
//! ledger — the one every run of every process records into, so concurrent runs of a profile
//! share one budget — and refuses the request once a limit is reached.
//!
//! A request already in flight when the limit is crossed completes: the overspend is what was
//! in flight. To bound it, a run sends one request at a time while it is close to a limit
//! (closer than the dearest response it has seen, or before it has seen one), and the next
//! request of the run waits until the last one's cost is in the ledger. So the overspend is at
//! most one in-flight request per run.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{Duration, Utc};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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
    /// One request at a time while close to a limit.
    gate: Arc<Semaphore>,
    /// The dearest response seen by this proxy, nano-dollars (0: none seen yet).
    dearest: Arc<AtomicI64>,
}

/// What the guard decided.
#[derive(Debug)]
pub(crate) enum Admit {
    /// Go; hold the permit (if any) until the response's cost is in the ledger.
    Go(Option<OwnedSemaphorePermit>),
    /// Refused.
    Refused(BudgetRefusal),
}

impl Guard {
    pub(crate) fn new(
        limits: Vec<BudgetLimit>,
        store: Arc<dyn UsageStore>,
        dearest: Arc<AtomicI64>,
    ) -> Guard {
        Guard {
            limits,
            store,
            gate: Arc::new(Semaphore::new(1)),
            dearest,
        }
    }

    /// Decides whether a request may start.
    pub(crate) async fn admit(&self) -> Admit {
        let (refused, tight) = self.check().await;
        if let Some(refusal) = refused {
            return Admit::Refused(refusal);
        }
        if !tight {
            return Admit::Go(None);
        }
        let Ok(permit) = Arc::clone(&self.gate).acquire_owned().await else {
            return Admit::Go(None);
        };
        // The request before this one is in the ledger now: look again.
        match self.check().await {
            (Some(refusal), _) => Admit::Refused(refusal),
            (None, _) => Admit::Go(Some(permit)),
        }
    }

    /// A refusal if a limit is reached; and whether a limit is close.
    async fn check(&self) -> (Option<BudgetRefusal>, bool) {
        let limits = self.limits.clone();
        let store = Arc::clone(&self.store);
        let dearest = self.dearest.load(Ordering::Relaxed);
        let checked = tokio::task::spawn_blocking(move || {
            let now = Utc::now();
            let mut tight = false;
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
                    return (Some(limit.refusal(spent, key)), true);
                }
                if dearest == 0 || spent.saturating_add(dearest) >= limit.nanos() {
                    tight = true;
                }
            }
            (None, tight)
        })
        .await;
        checked.unwrap_or((None, true))
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
