//! Team alerts: `cost-threshold` hooks with `scope = "team"` count the team ledger's spend and
//! fire once for the whole team. The claim is a row in Postgres (`fired_hooks`, primary key
//! hook and period): of all the machines that see the threshold crossed, the one whose insert
//! wins fires; the others, and every later check, see it claimed.

use chrono::{DateTime, Duration, Utc};

use super::pg::PgUsageStore;
use crate::error::Result;
use crate::hooks::{Firing, HookContext, HookEntry, HookEvent, ThresholdScope, period_start};
use crate::usage::{UsageFilter, UsageGroup, UsageStore};

/// Checks every team-scoped `cost-threshold` rule in `rules` against `team` at `now`, claiming
/// in Postgres; returns the firings this process won.
pub fn check_team_cost_thresholds(
    team: &PgUsageStore,
    rules: &[HookEntry],
    now: DateTime<Utc>,
) -> Result<Vec<Firing>> {
    let mut out = Vec::new();
    for entry in rules
        .iter()
        .filter(|e| e.rule.event == HookEvent::CostThreshold)
    {
        let Some(threshold) = entry.rule.threshold else {
            continue;
        };
        if threshold.scope != ThresholdScope::Team {
            continue;
        }
        let (since, key) = period_start(threshold.period, now);
        let mut filter = UsageFilter::new()
            .since(since)
            .until(now + Duration::seconds(1));
        filter.profile = entry.profile.clone();
        let spent = team
            .query(&filter, UsageGroup::Total)?
            .first()
            .map_or(0.0, |r| r.cost_usd);
        if spent < threshold.usd {
            continue;
        }
        let profile = entry.profile.as_deref().unwrap_or("*");
        let hook = format!("cost-threshold|{}|{profile}", entry.rule.id);
        if !team.claim_fired(&hook, &key)? {
            continue;
        }
        let mut ctx = HookContext::new(HookEvent::CostThreshold, profile, "*", "*");
        ctx.cost_usd = Some(spent);
        ctx.total_usd = Some(spent);
        ctx.threshold_usd = Some(threshold.usd);
        ctx.budget_usd = threshold.of_usd;
        ctx.period = Some(threshold.period.as_str().into());
        ctx.period_key = Some(key);
        out.push(Firing {
            entry: entry.clone(),
            context: ctx,
        });
    }
    Ok(out)
}
