//! Scheduled events with no daemon: `cost-threshold` (a profile's spend in the UTC day or month
//! reached a threshold) and `daily-rollup` (yesterday's totals, once per UTC day from 00:05).
//! Whichever ringlet process checks first after the condition holds claims the event in the
//! [`FiredLedger`] and fires it; every other process, concurrent or later, sees it claimed.

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc};

use super::context::HookContext;
use super::ledger::FiredLedger;
use super::rule::{HookEntry, HookEvent, Period};
use crate::error::Result;
use crate::usage::{UsageFilter, UsageGroup, UsageStore};

/// Who a profile is, for the `RINGLET_AGENT` / `RINGLET_PROVIDER` of scheduled events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRef {
    /// The alias.
    pub alias: String,
    /// The agent id.
    pub agent: String,
    /// The provider id.
    pub provider: String,
}

/// A scheduled hook this process claimed and must now fire.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    /// The rule.
    pub entry: HookEntry,
    /// The event it fires with.
    pub context: HookContext,
}

/// The daily rollup is due from this time of the UTC day.
pub const ROLLUP_AFTER: (u32, u32) = (0, 5);

fn midnight(day: chrono::NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN))
}

/// The start of the period containing `now`, and its key (`2026-05-01`, `2026-05`).
pub(crate) fn period_start(period: Period, now: DateTime<Utc>) -> (DateTime<Utc>, String) {
    let today = now.date_naive();
    match period {
        Period::Day => (midnight(today), today.format("%Y-%m-%d").to_string()),
        Period::Month => {
            let first = today.with_day(1).unwrap_or(today);
            (midnight(first), today.format("%Y-%m").to_string())
        }
    }
}

/// Spend of `alias` between `since` and `until`.
fn spend(
    store: &dyn UsageStore,
    alias: &str,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<f64> {
    let filter = UsageFilter::new().profile(alias).since(since).until(until);
    Ok(store
        .query(&filter, UsageGroup::Total)?
        .first()
        .map_or(0.0, |r| r.cost_usd))
}

/// Evaluates every `cost-threshold` rule for the profiles it covers: a rule whose profile spent
/// at least its threshold in the current UTC day or month fires once for that profile and
/// period. A global rule is checked against each profile on its own.
pub fn check_cost_thresholds(
    store: &dyn UsageStore,
    rules: &[HookEntry],
    profiles: &[ProfileRef],
    ledger: &FiredLedger,
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
        // The team ledger's (`team::check_team_cost_thresholds`, after a push).
        if threshold.scope != super::rule::ThresholdScope::Profile {
            continue;
        }
        let (since, key) = period_start(threshold.period, now);
        // `until` is exclusive: include events stamped this very second.
        let until = now + Duration::seconds(1);
        for p in profiles.iter().filter(|p| entry.scope().covers(&p.alias)) {
            let spent = spend(store, &p.alias, since, until)?;
            if spent < threshold.usd {
                continue;
            }
            let claim = format!("cost-threshold|{}|{}|{}", entry.rule.id, p.alias, key);
            if !ledger.claim(&claim, now)? {
                continue;
            }
            let mut ctx =
                HookContext::new(HookEvent::CostThreshold, &p.alias, &p.agent, &p.provider);
            ctx.cost_usd = Some(spent);
            ctx.total_usd = Some(spent);
            ctx.threshold_usd = Some(threshold.usd);
            ctx.budget_usd = threshold.of_usd;
            ctx.period = Some(threshold.period.as_str().into());
            ctx.period_key = Some(key.clone());
            out.push(Firing {
                entry: entry.clone(),
                context: ctx,
            });
        }
    }
    Ok(out)
}

/// Evaluates every `daily-rollup` rule: from 00:05 UTC, each fires once for the previous UTC
/// day with its spend (`RINGLET_TOTAL_USD`), the number of profiles that spent anything, the
/// top spender, and the agents' total run time. A profile's own rule rolls up that profile; a
/// global rule rolls up all of them (`RINGLET_PROFILE` = `*`).
pub fn check_daily_rollup(
    store: &dyn UsageStore,
    rules: &[HookEntry],
    profiles: &[ProfileRef],
    ledger: &FiredLedger,
    now: DateTime<Utc>,
) -> Result<Vec<Firing>> {
    let (h, m) = ROLLUP_AFTER;
    let due = NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN);
    if now.time() < due {
        return Ok(Vec::new());
    }
    let today = now.date_naive();
    let Some(yesterday) = today.pred_opt() else {
        return Ok(Vec::new());
    };
    let (since, until) = (midnight(yesterday), midnight(today));
    let day = yesterday.format("%Y-%m-%d").to_string();
    let mut out = Vec::new();
    for entry in rules
        .iter()
        .filter(|e| e.rule.event == HookEvent::DailyRollup)
    {
        // Claim first: the claim alone decides which process fires, however they interleave.
        let claim = format!("daily-rollup|{}|{}", entry.rule.id, day);
        if !ledger.claim(&claim, now)? {
            continue;
        }
        let mut filter = UsageFilter::new().since(since).until(until);
        if let Some(p) = &entry.profile {
            filter = filter.profile(p.clone());
        }
        let rows = store.query(&filter, UsageGroup::Profile)?;
        let spent: Vec<_> = rows.iter().filter(|r| r.events > 0).collect();
        let total: f64 = spent.iter().map(|r| r.cost_usd).sum();
        let top = spent
            .iter()
            .max_by(|a, b| a.cost_usd.total_cmp(&b.cost_usd));
        let run_ms: u64 = store
            .runs(&filter, None)?
            .iter()
            .filter_map(|r| r.duration_ms)
            .sum();
        let mut ctx = match &entry.profile {
            Some(alias) => {
                let who = profiles.iter().find(|p| &p.alias == alias);
                HookContext::new(
                    HookEvent::DailyRollup,
                    alias,
                    who.map(|p| p.agent.as_str()).unwrap_or_default(),
                    who.map(|p| p.provider.as_str()).unwrap_or_default(),
                )
            }
            None => HookContext::new(HookEvent::DailyRollup, "*", "*", "*"),
        };
        ctx.total_usd = Some(total);
        ctx.profile_count = Some(spent.len() as u64);
        ctx.top_profile = Some(top.map(|r| r.key.clone()).unwrap_or_default());
        ctx.top_usd = Some(top.map_or(0.0, |r| r.cost_usd));
        ctx.duration_ms = Some(run_ms);
        ctx.period = Some("day".into());
        ctx.period_key = Some(day.clone());
        out.push(Firing {
            entry: entry.clone(),
            context: ctx,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::rule::{HookAction, HookRule, Threshold};
    use crate::usage::{CostSource, NANOS_PER_USD, SqliteUsageStore, TokenCounts, UsageEvent};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    fn spend_event(store: &SqliteUsageStore, profile: &str, time: &str, usd: f64, key: &str) {
        store
            .record(&[UsageEvent {
                time: at(time),
                profile: profile.into(),
                agent: "claude".into(),
                provider: "anthropic".into(),
                model: "m".into(),
                tokens: TokenCounts {
                    input: 10,
                    ..TokenCounts::default()
                },
                cost_nanos: Some((usd * NANOS_PER_USD as f64) as i64),
                cost_source: CostSource::Computed,
                session_id: None,
                project: None,
                origin: "test".into(),
                dedup_key: key.into(),
                rank: 0,
            }])
            .expect("records");
    }

    fn rule(
        id: &str,
        profile: Option<&str>,
        event: HookEvent,
        threshold: Option<Threshold>,
    ) -> HookEntry {
        HookEntry {
            profile: profile.map(str::to_string),
            rule: HookRule {
                id: id.into(),
                event,
                matcher: None,
                timeout_ms: None,
                threshold,
                action: HookAction::Shell {
                    command: "true".into(),
                },
            },
        }
    }

    fn profiles() -> Vec<ProfileRef> {
        ["work", "play"]
            .map(|a| ProfileRef {
                alias: a.into(),
                agent: "claude".into(),
                provider: "anthropic".into(),
            })
            .to_vec()
    }

    #[test]
    fn a_threshold_fires_once_per_profile_and_period() {
        let store = SqliteUsageStore::open_in_memory().expect("store");
        let ledger = FiredLedger::open_in_memory().expect("ledger");
        let rules = [
            rule(
                "day10",
                None,
                HookEvent::CostThreshold,
                Some(Threshold {
                    period: Period::Day,
                    usd: 10.0,
                    of_usd: None,
                    scope: crate::hooks::ThresholdScope::Profile,
                }),
            ),
            rule(
                "month",
                Some("work"),
                HookEvent::CostThreshold,
                Some(Threshold {
                    period: Period::Month,
                    usd: 160.0,
                    of_usd: Some(200.0),
                    scope: crate::hooks::ThresholdScope::Profile,
                }),
            ),
        ];
        spend_event(&store, "work", "2026-05-03T09:00:00Z", 6.0, "a");
        let check = |now: &str| {
            check_cost_thresholds(&store, &rules, &profiles(), &ledger, at(now)).expect("checks")
        };
        assert!(check("2026-05-03T10:00:00Z").is_empty(), "6 < 10");
        spend_event(&store, "work", "2026-05-03T10:30:00Z", 5.0, "b");
        let fired = check("2026-05-03T11:00:00Z");
        assert_eq!(fired.len(), 1);
        let ctx = &fired[0].context;
        assert_eq!(
            (
                ctx.profile.as_str(),
                ctx.cost_usd,
                ctx.period_key.as_deref()
            ),
            ("work", Some(11.0), Some("2026-05-03"))
        );
        assert!(check("2026-05-03T12:00:00Z").is_empty(), "once per day");
        // The next day starts from zero.
        spend_event(&store, "work", "2026-05-04T08:00:00Z", 12.0, "c");
        spend_event(&store, "play", "2026-05-04T08:00:00Z", 1.0, "d");
        let fired = check("2026-05-04T09:00:00Z");
        assert_eq!(
            fired
                .iter()
                .map(|f| f.context.profile.as_str())
                .collect::<Vec<_>>(),
            ["work"]
        );
        // The month rule: 6 + 5 + 12 = 23 so far; push past 160.
        spend_event(&store, "work", "2026-05-20T08:00:00Z", 140.0, "e");
        let fired = check("2026-05-20T09:00:00Z");
        let ids: Vec<_> = fired.iter().map(|f| f.entry.rule.id.as_str()).collect();
        assert_eq!(ids, ["day10", "month"]);
        let month = &fired[1].context;
        assert_eq!(month.budget_usd, Some(200.0));
        assert_eq!(month.period_key.as_deref(), Some("2026-05"));
        let env: std::collections::BTreeMap<_, _> = month.env().into_iter().collect();
        assert_eq!(env["RINGLET_COST_USD"], "163.00");
        assert!(check("2026-05-31T23:00:00Z").is_empty(), "once per month");
    }

    #[test]
    fn the_rollup_waits_for_0005_utc_and_fires_once_a_day() {
        let store = SqliteUsageStore::open_in_memory().expect("store");
        let ledger = FiredLedger::open_in_memory().expect("ledger");
        let rules = [
            rule("all", None, HookEvent::DailyRollup, None),
            rule("mine", Some("play"), HookEvent::DailyRollup, None),
        ];
        spend_event(&store, "work", "2026-05-02T10:00:00Z", 3.0, "a");
        spend_event(&store, "play", "2026-05-02T11:00:00Z", 1.5, "b");
        spend_event(&store, "work", "2026-05-03T00:01:00Z", 100.0, "today");
        let check = |now: &str| {
            check_daily_rollup(&store, &rules, &profiles(), &ledger, at(now)).expect("checks")
        };
        assert!(check("2026-05-03T00:04:59Z").is_empty(), "not before 00:05");
        let fired = check("2026-05-03T00:05:00Z");
        assert_eq!(fired.len(), 2);
        let all = &fired[0].context;
        assert_eq!(all.profile, "*");
        assert_eq!(all.total_usd, Some(4.5));
        assert_eq!(all.profile_count, Some(2));
        assert_eq!(all.top_profile.as_deref(), Some("work"));
        assert_eq!(all.top_usd, Some(3.0));
        assert_eq!(all.period_key.as_deref(), Some("2026-05-02"));
        let mine = &fired[1].context;
        assert_eq!(
            (mine.profile.as_str(), mine.total_usd, mine.agent.as_str()),
            ("play", Some(1.5), "claude")
        );
        assert!(check("2026-05-03T18:00:00Z").is_empty(), "once a day");
        assert_eq!(check("2026-05-04T00:06:00Z").len(), 2, "the next day");
    }
}
