//! Billing blocks: the 5-hour windows Claude's plans count usage in. A block starts at its first
//! response, floored to the hour, and lasts five hours; a response five hours or more after the
//! block's start, or after a gap of five hours or more since the previous response, starts a new
//! one. The active block (still open now) gets a burn rate and a projection to its end.
//!
//! Blocks are cut from hourly usage ([`HourUsage`], from the ledger's hourly rollup): a block
//! starts on the hour, so an hour is wholly in one block, and no gap inside an hour reaches five
//! hours, so each hour's first and last response are all the gap test needs.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::store::{HourUsage, UsageRow};

/// How long a block lasts, and the gap that ends one early.
pub const BLOCK_HOURS: i64 = 5;

/// One billing block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BillingBlock {
    /// Its start: the first response, floored to the hour.
    pub start: DateTime<Utc>,
    /// `start` + 5 hours.
    pub end: DateTime<Utc>,
    /// Its first response.
    pub first_activity: DateTime<Utc>,
    /// Its last response.
    pub last_activity: DateTime<Utc>,
    /// Whether it is still open: now is before `end`, and less than five hours after its last
    /// response.
    pub active: bool,
    /// The models it used, sorted.
    pub models: Vec<String>,
    /// Its numbers (`key` is its start, RFC 3339).
    #[serde(flatten)]
    pub usage: UsageRow,
    /// The active block's pace and where it is heading.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub projection: Option<Projection>,
}

/// The active block's burn rate and where it ends at that rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Projection {
    /// Tokens per minute since its first response.
    pub tokens_per_minute: f64,
    /// Dollars per hour since its first response.
    pub cost_per_hour_usd: f64,
    /// Minutes until the block ends.
    pub remaining_minutes: i64,
    /// Total tokens at the end, at this rate.
    pub projected_total_tokens: u64,
    /// Cost at the end, at this rate, in dollars.
    pub projected_cost_usd: f64,
}

/// Cuts hourly usage (oldest first) into billing blocks, oldest first; `now` decides which is
/// active.
pub fn billing_blocks(hours: &[HourUsage], now: DateTime<Utc>) -> Vec<BillingBlock> {
    let span = Duration::hours(BLOCK_HOURS);
    let mut blocks: Vec<BillingBlock> = Vec::new();
    for h in hours {
        let open = blocks
            .last()
            .is_some_and(|b| h.first < b.end && h.first - b.last_activity < span);
        if !open {
            blocks.push(BillingBlock {
                start: h.hour,
                end: h.hour + span,
                first_activity: h.first,
                last_activity: h.last,
                active: false,
                models: Vec::new(),
                usage: UsageRow::empty(h.hour.to_rfc3339()),
                projection: None,
            });
        }
        if let Some(b) = blocks.last_mut() {
            b.first_activity = b.first_activity.min(h.first);
            b.last_activity = b.last_activity.max(h.last);
            b.usage.absorb(&h.usage);
            if !b.models.contains(&h.model) {
                b.models.push(h.model.clone());
            }
        }
    }
    for b in &mut blocks {
        b.models.sort();
        b.active = now < b.end && now - b.last_activity < span;
        if b.active {
            b.projection = Some(project(b, now));
        }
    }
    blocks
}

fn project(b: &BillingBlock, now: DateTime<Utc>) -> Projection {
    // At least a minute, so a block one response old does not project an infinite rate.
    let minutes = ((now - b.first_activity).num_seconds() as f64 / 60.0).max(1.0);
    let remaining_minutes = (b.end - now).num_minutes().max(0);
    let tokens_per_minute = b.usage.total_tokens as f64 / minutes;
    let usd_per_minute = b.usage.cost_usd / minutes;
    Projection {
        tokens_per_minute,
        cost_per_hour_usd: usd_per_minute * 60.0,
        remaining_minutes,
        projected_total_tokens: b.usage.total_tokens
            + (tokens_per_minute * remaining_minutes as f64).round() as u64,
        projected_cost_usd: b.usage.cost_usd + usd_per_minute * remaining_minutes as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    /// Hourly usage from single responses (time, model, tokens, cost in cents).
    fn hours(responses: &[(&str, &str, u64, i64)]) -> Vec<HourUsage> {
        let mut out: Vec<HourUsage> = Vec::new();
        for &(time, model, tokens, cents) in responses {
            let at = t(time);
            let hour = DateTime::from_timestamp(at.timestamp() / 3600 * 3600, 0).expect("hour");
            let mut row = UsageRow::empty(model);
            row.events = 1;
            row.input = tokens;
            row.cost_nanos = cents * 10_000_000;
            row.priced_events = 1;
            row.finish();
            match out.iter_mut().find(|h| h.hour == hour && h.model == model) {
                Some(h) => {
                    h.last = h.last.max(at);
                    h.usage.absorb(&row);
                }
                None => out.push(HourUsage {
                    hour,
                    model: model.into(),
                    first: at,
                    last: at,
                    usage: row,
                }),
            }
        }
        out.sort_by(|a, b| (a.hour, &a.model).cmp(&(b.hour, &b.model)));
        out
    }

    #[test]
    fn blocks_start_on_the_hour_and_end_after_five_hours_or_a_five_hour_gap() {
        let h = hours(&[
            // Block 1: 09:00–14:00; 13:59 is still in it, 14:00 is not.
            ("2026-05-01T09:17:00Z", "sonnet", 100, 10),
            ("2026-05-01T11:00:00Z", "opus", 200, 20),
            ("2026-05-01T13:59:00Z", "sonnet", 300, 30),
            // Block 2 starts at 14:00 (five hours after block 1's start).
            ("2026-05-01T14:00:00Z", "sonnet", 400, 40),
            // A gap of five hours from 14:00: block 3 at 19:00... spanning midnight.
            ("2026-05-01T22:30:00Z", "haiku", 500, 50),
            ("2026-05-02T01:10:00Z", "haiku", 600, 60),
            // Block 4: after block 3's end (03:00), floored to 08:00.
            ("2026-05-02T08:40:00Z", "sonnet", 700, 70),
        ]);
        let blocks = billing_blocks(&h, t("2026-05-03T00:00:00Z"));
        let summary: Vec<(String, u64, u64, bool)> = blocks
            .iter()
            .map(|b| {
                (
                    b.start.to_rfc3339(),
                    b.usage.events,
                    b.usage.input,
                    b.active,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("2026-05-01T09:00:00+00:00".into(), 3, 600, false),
                ("2026-05-01T14:00:00+00:00".into(), 1, 400, false),
                ("2026-05-01T22:00:00+00:00".into(), 2, 1100, false),
                ("2026-05-02T08:00:00+00:00".into(), 1, 700, false),
            ]
        );
        assert_eq!(blocks[0].models, ["opus", "sonnet"]);
        assert_eq!(blocks[0].end, t("2026-05-01T14:00:00Z"));
        assert_eq!(blocks[2].last_activity, t("2026-05-02T01:10:00Z"));
        assert!(blocks.iter().all(|b| b.projection.is_none()));
    }

    #[test]
    fn the_open_block_is_active_with_a_burn_rate_and_a_projection() {
        let h = hours(&[
            ("2026-05-01T10:05:00Z", "sonnet", 1_000, 100),
            ("2026-05-01T10:35:00Z", "sonnet", 2_000, 200),
        ]);
        // An hour after the first response: 3,000 tokens and $3 in 60 minutes.
        let now = t("2026-05-01T11:05:00Z");
        let blocks = billing_blocks(&h, now);
        assert_eq!(blocks.len(), 1);
        let b = &blocks[0];
        assert!(b.active);
        let p = b.projection.as_ref().expect("projection");
        assert_eq!(p.remaining_minutes, 235);
        assert!((p.tokens_per_minute - 50.0).abs() < 1e-9);
        assert!((p.cost_per_hour_usd - 3.0).abs() < 1e-9);
        assert_eq!(p.projected_total_tokens, 3_000 + 50 * 235);
        assert!((p.projected_cost_usd - (3.0 + 0.05 * 235.0)).abs() < 1e-9);
        // Five idle hours end it even before its end: here the end comes first.
        assert!(!billing_blocks(&h, t("2026-05-01T15:00:00Z"))[0].active);
    }
}
