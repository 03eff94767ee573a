//! A snapshot of the ledger's counters, and its Prometheus text form.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::usage::{UsageFilter, UsageGroup, UsageRow, UsageStore};

/// At most this many label sets per metric; the smallest (by cost, then tokens) beyond it are
/// added up under `other` labels, so a ledger with thousands of model ids cannot blow up a
/// Prometheus server. Label values are cut to [`MAX_LABEL_LEN`] characters.
pub const MAX_SERIES: usize = 500;

/// Longest label value kept whole.
pub const MAX_LABEL_LEN: usize = 64;

/// A run without an end this long after its start no longer counts as active (its ringlet
/// was killed before it could record the end).
const ACTIVE_MAX: Duration = Duration::hours(24);

/// The usage of one (profile, agent, provider, model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageSeries {
    /// The profile.
    pub profile: String,
    /// The agent.
    pub agent: String,
    /// The provider.
    pub provider: String,
    /// The model.
    pub model: String,
    /// Its totals.
    pub usage: UsageRow,
}

/// The runs of one (profile, agent, provider).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSeries {
    /// The profile.
    pub profile: String,
    /// The agent.
    pub agent: String,
    /// The provider.
    pub provider: String,
    /// Runs recorded.
    pub runs: u64,
    /// Runs going now (started, not ended, less than a day old).
    pub active: u64,
}

/// Everything `/metrics` and the OTLP export report, read from one ledger at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsSnapshot {
    /// `local` (this machine's ledger) or `team` (the team ledger).
    pub source: String,
    /// When it was read.
    pub at: DateTime<Utc>,
    /// Usage per label set, at most [`MAX_SERIES`] (the rest under `other`).
    pub usage: Vec<UsageSeries>,
    /// Runs per label set.
    pub runs: Vec<RunSeries>,
}

/// Reads a snapshot from `store`: every event ever recorded, and every run.
pub fn snapshot(store: &dyn UsageStore, source: &str) -> Result<MetricsSnapshot> {
    let all = UsageFilter::new();
    let mut usage = Vec::new();
    for p in store.query(&all, UsageGroup::Profile)? {
        let fp = all.clone().profile(p.key.clone());
        for a in store.query(&fp, UsageGroup::Agent)? {
            let fa = fp.clone().agent(a.key.clone());
            for v in store.query(&fa, UsageGroup::Provider)? {
                let fv = fa.clone().provider(v.key.clone());
                for m in store.query(&fv, UsageGroup::Model)? {
                    usage.push(UsageSeries {
                        profile: p.key.clone(),
                        agent: a.key.clone(),
                        provider: v.key.clone(),
                        model: m.key.clone(),
                        usage: m,
                    });
                }
            }
        }
    }
    let now = Utc::now();
    let mut runs: BTreeMap<(String, String, String), RunSeries> = BTreeMap::new();
    for r in store.runs(&all, None)? {
        let s = runs
            .entry((r.profile.clone(), r.agent.clone(), r.provider.clone()))
            .or_insert_with(|| RunSeries {
                profile: r.profile.clone(),
                agent: r.agent.clone(),
                provider: r.provider.clone(),
                runs: 0,
                active: 0,
            });
        s.runs += 1;
        if r.ended_at.is_none() && now - r.started_at < ACTIVE_MAX {
            s.active += 1;
        }
    }
    Ok(MetricsSnapshot {
        source: source.to_string(),
        at: now,
        usage: cap(usage),
        runs: runs.into_values().collect(),
    })
}

/// Keeps the [`MAX_SERIES`] costliest series and adds the rest up under `other`; cuts long
/// label values.
fn cap(mut usage: Vec<UsageSeries>) -> Vec<UsageSeries> {
    for s in &mut usage {
        for v in [&mut s.profile, &mut s.agent, &mut s.provider, &mut s.model] {
            if v.chars().count() > MAX_LABEL_LEN {
                *v = v.chars().take(MAX_LABEL_LEN).collect();
            }
        }
    }
    if usage.len() <= MAX_SERIES {
        return usage;
    }
    usage.sort_by(|a, b| {
        (b.usage.cost_nanos, b.usage.total_tokens).cmp(&(a.usage.cost_nanos, a.usage.total_tokens))
    });
    let rest = usage.split_off(MAX_SERIES - 1);
    let mut other = UsageRow::empty("other");
    for s in &rest {
        other.absorb(&s.usage);
    }
    usage.push(UsageSeries {
        profile: "other".into(),
        agent: "other".into(),
        provider: "other".into(),
        model: "other".into(),
        usage: other,
    });
    usage
}

/// A token bucket and its `kind` label.
pub(crate) fn token_kinds(r: &UsageRow) -> [(&'static str, u64); 5] {
    [
        ("input", r.input),
        ("output", r.output),
        ("cache_creation", r.cache_creation),
        ("cache_read", r.cache_read),
        ("reasoning", r.reasoning),
    ]
}

impl MetricsSnapshot {
    /// The Prometheus text exposition format (version 0.0.4). Metric names and labels are
    /// documented in docs/team.md.
    pub fn to_prometheus(&self) -> String {
        let mut out = String::new();
        let usage_labels = |s: &UsageSeries| {
            format!(
                "profile=\"{}\",agent=\"{}\",provider=\"{}\",model=\"{}\"",
                esc(&s.profile),
                esc(&s.agent),
                esc(&s.provider),
                esc(&s.model)
            )
        };
        let run_labels = |s: &RunSeries| {
            format!(
                "profile=\"{}\",agent=\"{}\",provider=\"{}\"",
                esc(&s.profile),
                esc(&s.agent),
                esc(&s.provider)
            )
        };
        header(
            &mut out,
            "ringlet_tokens_total",
            "counter",
            "Tokens processed, by kind (input, output, cache_creation, cache_read; reasoning is part of output).",
        );
        for s in &self.usage {
            for (kind, n) in token_kinds(&s.usage) {
                let _ = writeln!(
                    out,
                    "ringlet_tokens_total{{{},kind=\"{kind}\"}} {n}",
                    usage_labels(s)
                );
            }
        }
        header(
            &mut out,
            "ringlet_cost_usd_total",
            "counter",
            "Cost of the priced events in US dollars (unpriced events add nothing; see ringlet_unpriced_events_total).",
        );
        for s in &self.usage {
            let _ = writeln!(
                out,
                "ringlet_cost_usd_total{{{}}} {}",
                usage_labels(s),
                s.usage.cost_usd
            );
        }
        header(
            &mut out,
            "ringlet_events_total",
            "counter",
            "Usage events (model responses) recorded.",
        );
        for s in &self.usage {
            let _ = writeln!(
                out,
                "ringlet_events_total{{{}}} {}",
                usage_labels(s),
                s.usage.events
            );
        }
        header(
            &mut out,
            "ringlet_unpriced_events_total",
            "counter",
            "Usage events whose model has no known price.",
        );
        for s in &self.usage {
            let _ = writeln!(
                out,
                "ringlet_unpriced_events_total{{{}}} {}",
                usage_labels(s),
                s.usage.unpriced_events
            );
        }
        header(
            &mut out,
            "ringlet_runs_total",
            "counter",
            "Agent runs started through ringlet profiles run.",
        );
        for s in &self.runs {
            let _ = writeln!(out, "ringlet_runs_total{{{}}} {}", run_labels(s), s.runs);
        }
        header(
            &mut out,
            "ringlet_active_sessions",
            "gauge",
            "Agent runs going now.",
        );
        for s in &self.runs {
            let _ = writeln!(
                out,
                "ringlet_active_sessions{{{}}} {}",
                run_labels(s),
                s.active
            );
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value escaped for the text format: backslash, double quote and line feed.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::SqliteUsageStore;
    use crate::usage::tests::event;

    #[test]
    fn labels_are_escaped_and_series_capped() {
        assert_eq!(esc("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        let store = SqliteUsageStore::open_in_memory().expect("store");
        let events: Vec<_> = (0..MAX_SERIES + 20)
            .map(|i| {
                let mut e = event(
                    &format!("k{i}"),
                    &format!("model-{i}-{}", "x".repeat(80)),
                    1,
                    0,
                );
                e.cost_nanos = Some(i as i64);
                e
            })
            .collect();
        store.record(&events).expect("record");
        let snap = snapshot(&store, "local").expect("snapshot");
        assert_eq!(snap.usage.len(), MAX_SERIES);
        let total: u64 = snap.usage.iter().map(|s| s.usage.events).sum();
        assert_eq!(
            total,
            (MAX_SERIES + 20) as u64,
            "nothing is dropped, only folded"
        );
        assert!(
            snap.usage
                .iter()
                .all(|s| s.model.chars().count() <= MAX_LABEL_LEN)
        );
        assert_eq!(snap.usage.last().map(|s| s.model.as_str()), Some("other"));
    }
}
