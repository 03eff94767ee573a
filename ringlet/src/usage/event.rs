//! The ledger's data: one usage event, its token buckets, and where its cost came from.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Nano-dollars in one US dollar. Costs are stored as integer nano-dollars so that sums are exact
/// and independent of order (a by-day report adds up to the grand total to the last digit), and
/// fine enough that one cached token (a few tens of nano-dollars) is not rounded away.
pub const NANOS_PER_USD: i64 = 1_000_000_000;

/// Converts integer nano-dollars to dollars, for display.
pub fn nanos_to_usd(nanos: i64) -> f64 {
    nanos as f64 / NANOS_PER_USD as f64
}

/// The tokens of one model response, in **disjoint** buckets, so that every bucket is priced once
/// and the buckets add up to everything the provider processed.
///
/// Agents report tokens in two conventions; importers convert both to this one:
/// - Anthropic-shaped (Claude Code, Droid, OpenCode): `input` already excludes cache reads and
///   writes.
/// - OpenAI- and Gemini-shaped (Codex, Gemini CLI): the reported input *includes* the cached
///   tokens; importers subtract them, so `input` here is the uncached part. ccusage's Codex
///   report shows `input + cache_read` as "Input"; its "Total" equals [`TokenCounts::total`].
///
/// `reasoning` is *part of* `output` (thinking tokens are billed as output), kept for display.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TokenCounts {
    /// Uncached input (prompt) tokens.
    pub input: u64,
    /// Output tokens, reasoning included.
    pub output: u64,
    /// Tokens written to the prompt cache, all lifetimes. At least `cache_creation_5m +
    /// cache_creation_1h`; the rest has an unknown lifetime and is priced as 5-minute writes.
    pub cache_creation: u64,
    /// Of `cache_creation`, the tokens known to be written with the 5-minute lifetime.
    pub cache_creation_5m: u64,
    /// Of `cache_creation`, the tokens known to be written with the 1-hour lifetime (priced
    /// higher).
    pub cache_creation_1h: u64,
    /// Tokens read from the prompt cache.
    pub cache_read: u64,
    /// Of `output`, the reasoning (thinking) tokens.
    pub reasoning: u64,
}

impl TokenCounts {
    /// Restores the invariants: the lifetime split never exceeds the cache-write total, and
    /// reasoning never exceeds output. A log that breaks them is trusted on its more detailed
    /// numbers (the split), since they are what is priced.
    pub fn normalized(mut self) -> Self {
        let split = self
            .cache_creation_5m
            .saturating_add(self.cache_creation_1h);
        if split > self.cache_creation {
            self.cache_creation = split;
        }
        if self.reasoning > self.output {
            self.reasoning = self.output;
        }
        self
    }

    /// Cache-write tokens whose lifetime the log did not say.
    pub fn cache_creation_unsplit(&self) -> u64 {
        self.cache_creation.saturating_sub(
            self.cache_creation_5m
                .saturating_add(self.cache_creation_1h),
        )
    }

    /// Everything processed: input + output + cache writes + cache reads.
    pub fn total(&self) -> u64 {
        self.input
            .saturating_add(self.output)
            .saturating_add(self.cache_creation)
            .saturating_add(self.cache_read)
    }

    /// Whether no tokens at all were counted.
    pub fn is_zero(&self) -> bool {
        self.total() == 0
    }
}

/// Where an event's cost came from. Unpriced events keep a `None` cost, never `$0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum CostSource {
    /// Computed by ringlet's [`PriceBook`](crate::PriceBook) from the token buckets.
    Computed,
    /// Reported by the agent itself (OpenCode writes a cost per message).
    Reported,
    /// The model has no known price; the cost is unknown, not zero.
    Unpriced,
}

impl CostSource {
    /// The stable lowercase name stored in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            CostSource::Computed => "computed",
            CostSource::Reported => "reported",
            CostSource::Unpriced => "unpriced",
        }
    }

    /// Parses [`CostSource::as_str`]'s output; anything else is `None`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "computed" => Some(CostSource::Computed),
            "reported" => Some(CostSource::Reported),
            "unpriced" => Some(CostSource::Unpriced),
            _ => None,
        }
    }
}

/// One model response (or, for agents that only keep totals, one session snapshot), attributed to
/// a profile. Plain data: importers and the proxy build it, a [`UsageStore`](crate::UsageStore)
/// keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageEvent {
    /// When the response happened (UTC).
    pub time: DateTime<Utc>,
    /// The ringlet profile it is attributed to.
    pub profile: String,
    /// The agent id (`claude`, `codex`, …).
    pub agent: String,
    /// The ringlet provider id the profile was bound to (`anthropic`, `openrouter`, …).
    pub provider: String,
    /// The model id as the agent logged it.
    pub model: String,
    /// Token counts.
    #[serde(flatten)]
    pub tokens: TokenCounts,
    /// Cost in nano-dollars ([`NANOS_PER_USD`]); `None` when unpriced.
    pub cost_nanos: Option<i64>,
    /// Where the cost came from.
    pub cost_source: CostSource,
    /// The agent's own session id, when its log has one.
    pub session_id: Option<String>,
    /// The project: the agent's working directory as its log records it (Claude Code's `cwd`,
    /// Codex's session `cwd`, Droid's), when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Where the event was read: `file:<path>` for imports, `proxy` for captured traffic.
    pub origin: String,
    /// Identifies the response across re-reads, copies and replays (`claude:<message id>`).
    /// The ledger keeps one event per key.
    pub dedup_key: String,
    /// Which of two events with the same key wins: a later one with a strictly higher rank
    /// replaces the stored one (Claude: a main-thread line beats a sidechain replay, then larger
    /// totals win; Droid: a larger snapshot of the same session replaces the smaller).
    pub rank: i64,
}

impl UsageEvent {
    /// The cost in dollars, when priced.
    pub fn cost_usd(&self) -> Option<f64> {
        self.cost_nanos.map(nanos_to_usd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_keeps_split_within_total_and_reasoning_within_output() {
        let t = TokenCounts {
            cache_creation: 5,
            cache_creation_5m: 4,
            cache_creation_1h: 3,
            output: 2,
            reasoning: 9,
            ..Default::default()
        }
        .normalized();
        assert_eq!(t.cache_creation, 7);
        assert_eq!(t.cache_creation_unsplit(), 0);
        assert_eq!(t.reasoning, 2);
        let t = TokenCounts {
            cache_creation: 5,
            ..Default::default()
        };
        assert_eq!(t.cache_creation_unsplit(), 5);
        assert_eq!(t.total(), 5);
    }

    #[test]
    fn cost_source_round_trips() {
        for s in [
            CostSource::Computed,
            CostSource::Reported,
            CostSource::Unpriced,
        ] {
            assert_eq!(CostSource::parse(s.as_str()), Some(s));
        }
        assert_eq!(CostSource::parse("free"), None);
    }
}
