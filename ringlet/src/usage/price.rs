//! Prices per model: a built-in table (`ringlet/assets/pricing.toml`) overlaid with a snapshot of
//! LiteLLM's pricing feed, and the matching of the model ids agents log to the ids priced.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::event::{CostSource, NANOS_PER_USD, TokenCounts, UsageEvent};
use crate::error::{Error, Result};
use crate::paths::Paths;

const BUILTIN_TOML: &str = include_str!("../../assets/pricing.toml");
const BUILTIN_NAME: &str = "<built-in pricing.toml>";
const LITELLM_NAME: &str = "<LiteLLM pricing JSON>";

/// Providers whose own entries win when several feed entries normalise to the same model id
/// (the same model resold by Bedrock, Azure or OpenRouter may cost more).
const FIRST_PARTY: &[&str] = &[
    "anthropic",
    "openai",
    "gemini",
    "xai",
    "zai",
    "moonshot",
    "deepseek",
    "minimax",
    "mistral",
    "groq",
];

/// No model costs a dollar per token; a feed that says so is corrupt (and would overflow sums).
const MAX_PER_TOKEN: f64 = 1.0;

/// A per-token price, optionally tiered by request size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    /// USD per token up to the first tier.
    pub per_token: f64,
    /// Higher rates for the part of a bucket above a threshold, sorted by threshold.
    pub tiers: Vec<Tier>,
}

/// One step of a tiered [`Rate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tier {
    /// Tokens above this many are charged `per_token`.
    pub above_tokens: u64,
    /// USD per token above the threshold.
    pub per_token: f64,
}

impl Rate {
    /// A rate without tiers.
    pub fn flat(per_token: f64) -> Self {
        Self {
            per_token,
            tiers: Vec::new(),
        }
    }

    /// The cost in USD of `tokens` tokens: each part between two thresholds at its own rate.
    pub fn cost(&self, tokens: u64) -> f64 {
        let mut cost = 0.0;
        let mut start = 0u64;
        let mut rate = self.per_token;
        for tier in &self.tiers {
            if tokens <= tier.above_tokens {
                break;
            }
            cost += (tier.above_tokens - start) as f64 * rate;
            start = tier.above_tokens;
            rate = tier.per_token;
        }
        cost + tokens.saturating_sub(start) as f64 * rate
    }

    fn add_tier(&mut self, above_tokens: u64, per_token: f64) {
        self.tiers.retain(|t| t.above_tokens != above_tokens);
        self.tiers.push(Tier {
            above_tokens,
            per_token,
        });
        self.tiers.sort_by_key(|t| t.above_tokens);
    }
}

/// The prices of one model, per token bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelPrice {
    /// The provider that sells at these prices (LiteLLM's `litellm_provider`).
    pub provider: Option<String>,
    /// Uncached input.
    pub input: Rate,
    /// Output (reasoning included, unless `reasoning` prices it apart).
    pub output: Rate,
    /// 5-minute cache writes (and writes of unknown lifetime); the input rate when absent.
    pub cache_creation_5m: Option<Rate>,
    /// 1-hour cache writes; the 5-minute rate when absent.
    pub cache_creation_1h: Option<Rate>,
    /// Cache reads; the input rate when absent.
    pub cache_read: Option<Rate>,
    /// Reasoning tokens, when priced apart from other output.
    pub reasoning: Option<Rate>,
}

impl ModelPrice {
    /// The cost in USD of one response's tokens. Tiers apply per bucket: the part of a bucket
    /// above a tier's threshold is charged at the tier's rate.
    pub fn cost_usd(&self, t: &TokenCounts) -> f64 {
        let t = t.normalized();
        let write_5m = self.cache_creation_5m.as_ref().unwrap_or(&self.input);
        let write_1h = self.cache_creation_1h.as_ref().unwrap_or(write_5m);
        let read = self.cache_read.as_ref().unwrap_or(&self.input);
        let output = match &self.reasoning {
            Some(r) => self.output.cost(t.output - t.reasoning) + r.cost(t.reasoning),
            None => self.output.cost(t.output),
        };
        self.input.cost(t.input)
            + output
            + write_5m.cost(t.cache_creation_5m + t.cache_creation_unsplit())
            + write_1h.cost(t.cache_creation_1h)
            + read.cost(t.cache_read)
    }

    /// [`ModelPrice::cost_usd`] rounded to integer nano-dollars.
    pub fn cost_nanos(&self, t: &TokenCounts) -> i64 {
        usd_to_nanos(self.cost_usd(t))
    }
}

fn usd_to_nanos(usd: f64) -> i64 {
    let nanos = (usd * NANOS_PER_USD as f64).round();
    if nanos.is_finite() {
        // `as` saturates at the i64 bounds, which no real cost reaches.
        nanos as i64
    } else {
        0
    }
}

/// How a model id was matched to a price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MatchKind {
    /// The id is priced as is.
    Exact,
    /// `<provider>/<id>` is priced (LiteLLM keys many models that way: `xai/grok-4.5`).
    ProviderPrefixed,
    /// Equal after normalising: case, provider prefixes, date suffixes, `-latest`, `.`/`_`.
    Normalized,
}

/// A successful price lookup.
#[derive(Debug, Clone, Copy)]
pub struct PriceMatch<'a> {
    /// The priced id that matched.
    pub key: &'a str,
    /// How it matched.
    pub kind: MatchKind,
    /// The prices.
    pub price: &'a ModelPrice,
}

/// Where an import gets its prices. A [`PriceBook`] is one; [`LazyPriceBook`] is another that
/// loads the book only when an event actually needs pricing, so a re-scan that finds nothing
/// new (the common case after `profiles run`) never parses a price table.
pub trait PriceSource: Send + Sync + std::fmt::Debug {
    /// The book; loading it may fail.
    fn book(&self) -> Result<&PriceBook>;
}

impl PriceSource for PriceBook {
    fn book(&self) -> Result<&PriceBook> {
        Ok(self)
    }
}

/// A [`PriceSource`] that calls its loader the first time a price is needed, and keeps the book.
pub struct LazyPriceBook<F> {
    load: F,
    book: OnceLock<Arc<PriceBook>>,
}

impl<F> std::fmt::Debug for LazyPriceBook<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyPriceBook")
            .field("loaded", &self.book.get().is_some())
            .finish()
    }
}

impl<F: Fn() -> Result<Arc<PriceBook>> + Send + Sync> LazyPriceBook<F> {
    /// A source that runs `load` on first use.
    pub fn new(load: F) -> Self {
        Self {
            load,
            book: OnceLock::new(),
        }
    }

    /// Whether the loader has run (and succeeded).
    pub fn is_loaded(&self) -> bool {
        self.book.get().is_some()
    }
}

impl<F: Fn() -> Result<Arc<PriceBook>> + Send + Sync> PriceSource for LazyPriceBook<F> {
    fn book(&self) -> Result<&PriceBook> {
        if let Some(book) = self.book.get() {
            return Ok(book);
        }
        let loaded = (self.load)()?;
        Ok(self.book.get_or_init(|| loaded))
    }
}

/// Prices for many models, and the lookup from logged model ids to them.
#[derive(Debug, Clone, Default)]
pub struct PriceBook {
    entries: HashMap<String, ModelPrice>,
    normalized: HashMap<String, String>,
    skipped: Vec<String>,
}

impl PriceBook {
    /// A book that prices nothing.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The built-in table compiled into ringlet (`ringlet/assets/pricing.toml`).
    pub fn builtin() -> Self {
        // The embedded table is checked by the test `builtin_table_parses`; an empty book (every
        // event unpriced, never $0) is the safe outcome should that ever be wrong.
        Self::from_table_toml(BUILTIN_TOML, Path::new(BUILTIN_NAME)).unwrap_or_default()
    }

    /// Parses a table in the built-in format (USD per million tokens; see
    /// `ringlet/assets/pricing.toml`).
    pub fn from_table_toml(text: &str, path: &Path) -> Result<Self> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Table {
            model: Vec<Entry>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Buckets {
            input: Option<f64>,
            output: Option<f64>,
            cache_write_5m: Option<f64>,
            cache_write_1h: Option<f64>,
            cache_read: Option<f64>,
            reasoning: Option<f64>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct TierEntry {
            above: u64,
            #[serde(flatten)]
            rates: Buckets,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Entry {
            name: String,
            provider: Option<String>,
            input: f64,
            output: f64,
            cache_write_5m: Option<f64>,
            cache_write_1h: Option<f64>,
            cache_read: Option<f64>,
            reasoning: Option<f64>,
            #[serde(default)]
            tiers: Vec<TierEntry>,
        }
        let table: Table = toml::from_str(text).map_err(|e| Error::toml(path, text, &e))?;
        let per_million = |v: f64| Rate::flat(v / 1_000_000.0);
        let mut book = PriceBook::default();
        for e in table.model {
            let mut price = ModelPrice {
                provider: e.provider,
                input: per_million(e.input),
                output: per_million(e.output),
                cache_creation_5m: e.cache_write_5m.map(per_million),
                cache_creation_1h: e.cache_write_1h.map(per_million),
                cache_read: e.cache_read.map(per_million),
                reasoning: e.reasoning.map(per_million),
            };
            for tier in e.tiers {
                let r = &tier.rates;
                let above = tier.above;
                let add = |rate: Option<&mut Rate>, v: Option<f64>| {
                    if let (Some(rate), Some(v)) = (rate, v) {
                        rate.add_tier(above, v / 1_000_000.0);
                    }
                };
                add(Some(&mut price.input), r.input);
                add(Some(&mut price.output), r.output);
                add(price.cache_creation_5m.as_mut(), r.cache_write_5m);
                add(price.cache_creation_1h.as_mut(), r.cache_write_1h);
                add(price.cache_read.as_mut(), r.cache_read);
                add(price.reasoning.as_mut(), r.reasoning);
            }
            if let Err(message) = check_price(&price) {
                return Err(Error::Parse {
                    path: path.to_path_buf(),
                    line: None,
                    message: format!("model '{}': {message}", e.name),
                });
            }
            book.entries.insert(e.name, price);
        }
        book.reindex();
        Ok(book)
    }

    /// Parses LiteLLM's `model_prices_and_context_window.json`. Each entry is read on its own: an
    /// entry with a malformed price field (the feed's `sample_spec` documents its fields with
    /// strings) is skipped and listed in [`PriceBook::skipped`], never fatal. Entries without
    /// per-token prices (image, audio, per-request models) are left out.
    pub fn from_litellm_json(text: &str) -> Result<Self> {
        Self::from_litellm_json_at(text, Path::new(LITELLM_NAME))
    }

    fn from_litellm_json_at(text: &str, path: &Path) -> Result<Self> {
        let root: serde_json::Map<String, Value> =
            serde_json::from_str(text).map_err(|e| Error::Parse {
                path: path.to_path_buf(),
                line: Some(e.line()),
                message: format!(
                    "not a LiteLLM pricing file ({e}); download it again with `ringlet pricing update`"
                ),
            })?;
        let mut book = PriceBook::default();
        for (key, entry) in root {
            if key == "sample_spec" {
                continue;
            }
            match litellm_entry(&entry) {
                Ok(Some(price)) => {
                    book.entries.insert(key, price);
                }
                Ok(None) => {}
                Err(reason) => book.skipped.push(format!("{key}: {reason}")),
            }
        }
        book.reindex();
        Ok(book)
    }

    /// This book with `other`'s entries added, `other` winning where both price a model (a
    /// downloaded feed over the built-in table).
    pub fn overlay(mut self, other: PriceBook) -> Self {
        self.entries.extend(other.entries);
        self.skipped.extend(other.skipped);
        self.reindex();
        self
    }

    /// How many model ids are priced.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is priced.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Feed entries that were left out because a price field was malformed, as `key: reason`.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    /// The exact entry for `key`, without any matching.
    pub fn get(&self, key: &str) -> Option<&ModelPrice> {
        self.entries.get(key)
    }

    /// Finds the price of a logged model id: exactly, then prefixed with the provider's LiteLLM
    /// name (or any first-party provider's), then normalised. `provider` is the ringlet provider
    /// id the profile used, if known.
    pub fn lookup(&self, model: &str, provider: Option<&str>) -> Option<PriceMatch<'_>> {
        if let Some((key, price)) = self.entries.get_key_value(model) {
            return Some(PriceMatch {
                key,
                kind: MatchKind::Exact,
                price,
            });
        }
        let hinted = provider.map(litellm_prefixes).unwrap_or_default();
        for prefix in hinted
            .iter()
            .map(String::as_str)
            .chain(FIRST_PARTY.iter().copied())
        {
            let candidate = format!("{prefix}/{model}");
            if let Some((key, price)) = self.entries.get_key_value(&candidate) {
                return Some(PriceMatch {
                    key,
                    kind: MatchKind::ProviderPrefixed,
                    price,
                });
            }
        }
        let norm = normalize_model(model);
        let key = self.normalized.get(&norm)?;
        let (key, price) = self.entries.get_key_value(key)?;
        Some(PriceMatch {
            key,
            kind: MatchKind::Normalized,
            price,
        })
    }

    /// The cost of `tokens` for `model`, in nano-dollars; `None` when the model is unpriced.
    pub fn cost_nanos(
        &self,
        model: &str,
        provider: Option<&str>,
        tokens: &TokenCounts,
    ) -> Option<i64> {
        self.lookup(model, provider)
            .map(|m| m.price.cost_nanos(tokens))
    }

    /// Sets an event's cost from this book, unless the agent reported one. An unknown model
    /// leaves the cost `None` and the source [`CostSource::Unpriced`].
    pub fn price_event(&self, event: &mut UsageEvent) {
        if event.cost_source == CostSource::Reported && event.cost_nanos.is_some() {
            return;
        }
        match self.cost_nanos(&event.model, Some(&event.provider), &event.tokens) {
            Some(nanos) => {
                event.cost_nanos = Some(nanos);
                event.cost_source = CostSource::Computed;
            }
            None => {
                event.cost_nanos = None;
                event.cost_source = CostSource::Unpriced;
            }
        }
    }

    /// Where `ringlet pricing update` keeps the downloaded feed: `<cache>/pricing/litellm.json`.
    pub fn snapshot_path(paths: &Paths) -> PathBuf {
        paths.cache_dir().join("pricing").join("litellm.json")
    }

    /// Reads a snapshot of the LiteLLM feed; `None` when there is none yet.
    pub fn load_snapshot(path: &Path) -> Result<Option<Self>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("reading", path, e)),
        };
        Self::from_litellm_json_at(&text, path)
            .map(Some)
            .map_err(|e| match e {
                Error::Parse {
                    path,
                    line,
                    message,
                    ..
                } => Error::Parse {
                    path,
                    line,
                    message: format!("{message}; or delete the file to use the built-in prices"),
                },
                other => other,
            })
    }

    /// Checks `json` is a usable LiteLLM feed, then writes it to `path` atomically (the
    /// `pricing update` step after the download). Returns the parsed book.
    pub fn save_snapshot(path: &Path, json: &str) -> Result<Self> {
        let book = Self::from_litellm_json_at(json, path)?;
        if book.is_empty() {
            return Err(Error::Parse {
                path: path.to_path_buf(),
                line: None,
                message:
                    "the downloaded pricing feed prices no model; keeping the previous snapshot"
                        .into(),
            });
        }
        crate::fsio::write_atomic(path, json.as_bytes(), None)?;
        Ok(book)
    }

    /// The book ringlet prices with: the built-in table, overlaid with the registry snapshot's
    /// LiteLLM feed when one was synced, overlaid with `pricing update`'s snapshot in `paths`'
    /// cache when one was downloaded (the user's own download wins).
    pub fn load(paths: &Paths) -> Result<Self> {
        let mut book = Self::builtin();
        if let Some(path) = Self::registry_path(paths) {
            // The registry's feed was verified when synced; one that no longer parses is left
            // out (doctor reports it) rather than failing every priced command.
            if let Ok(Some(feed)) = Self::load_snapshot(&path) {
                book = book.overlay(feed);
            }
        }
        Ok(match Self::load_snapshot(&Self::snapshot_path(paths))? {
            Some(feed) => book.overlay(feed),
            None => book,
        })
    }

    /// The registry snapshot's LiteLLM feed, when a snapshot in use has one.
    pub fn registry_path(paths: &Paths) -> Option<PathBuf> {
        crate::registry::snapshot_file(paths, "pricing", "litellm.json")
    }

    fn reindex(&mut self) {
        let mut best: HashMap<String, (u8, &str)> = HashMap::new();
        for (key, price) in &self.entries {
            let norm = normalize_model(key);
            let score = match (price.provider.as_deref(), key.contains('/')) {
                (Some(p), false) if FIRST_PARTY.contains(&p) => 0,
                (Some(p), true) if FIRST_PARTY.contains(&p) => 1,
                (None, false) => 2,
                _ => 3,
            };
            let better = match best.get(&norm) {
                None => true,
                Some(&(s, k)) => (score, key.len(), key.as_str()) < (s, k.len(), k),
            };
            if better {
                best.insert(norm, (score, key.as_str()));
            }
        }
        self.normalized = best
            .into_iter()
            .map(|(norm, (_, key))| (norm, key.to_string()))
            .collect();
    }
}

fn check_price(p: &ModelPrice) -> std::result::Result<(), String> {
    let rates = [
        Some(&p.input),
        Some(&p.output),
        p.cache_creation_5m.as_ref(),
        p.cache_creation_1h.as_ref(),
        p.cache_read.as_ref(),
        p.reasoning.as_ref(),
    ];
    for rate in rates.into_iter().flatten() {
        let ok = |v: f64| (0.0..=MAX_PER_TOKEN).contains(&v);
        if !ok(rate.per_token) || rate.tiers.iter().any(|t| !ok(t.per_token)) {
            return Err("prices must be between 0 and 1,000,000 USD per million tokens".into());
        }
    }
    Ok(())
}

/// The LiteLLM provider names a ringlet provider id maps to.
fn litellm_prefixes(provider: &str) -> Vec<String> {
    match provider {
        "google" | "gemini" => vec!["gemini".into(), "vertex_ai".into()],
        other => vec![other.to_string()],
    }
}

/// Reads one feed entry. `Ok(None)`: not priced per token; `Err`: malformed.
fn litellm_entry(entry: &Value) -> std::result::Result<Option<ModelPrice>, String> {
    let obj = entry.as_object().ok_or("not an object")?;
    let num = |field: &str| -> std::result::Result<Option<f64>, String> {
        match obj.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v.as_f64() {
                Some(f) if (0.0..=MAX_PER_TOKEN).contains(&f) => Ok(Some(f)),
                _ => Err(format!("{field} is {v}, not a price")),
            },
        }
    };
    let input = num("input_cost_per_token")?;
    let output = num("output_cost_per_token")?;
    if input.is_none() && output.is_none() {
        return Ok(None);
    }
    let provider = match obj.get("litellm_provider") {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let mut price = ModelPrice {
        provider,
        input: Rate::flat(input.unwrap_or(0.0)),
        output: Rate::flat(output.unwrap_or(0.0)),
        cache_creation_5m: num("cache_creation_input_token_cost")?.map(Rate::flat),
        cache_creation_1h: num("cache_creation_input_token_cost_above_1hr")?.map(Rate::flat),
        cache_read: num("cache_read_input_token_cost")?.map(Rate::flat),
        reasoning: num("output_cost_per_reasoning_token")?.map(Rate::flat),
    };
    // Tiers: `<base>_above_<N>k_tokens`. Variants with a further suffix (`_priority`, `_flex`)
    // are other service tiers, not size tiers, and do not match.
    for field in obj.keys() {
        let Some((base, above)) = split_tier_field(field) else {
            continue;
        };
        let Some(per_token) = num(field)? else {
            continue;
        };
        let rate = match base {
            "input_cost_per_token" => Some(&mut price.input),
            "output_cost_per_token" => Some(&mut price.output),
            "cache_creation_input_token_cost" => price.cache_creation_5m.as_mut(),
            "cache_creation_input_token_cost_above_1hr" => price.cache_creation_1h.as_mut(),
            "cache_read_input_token_cost" => price.cache_read.as_mut(),
            "output_cost_per_reasoning_token" => price.reasoning.as_mut(),
            _ => None,
        };
        if let Some(rate) = rate {
            rate.add_tier(above, per_token);
        }
    }
    Ok(Some(price))
}

/// `input_cost_per_token_above_200k_tokens` → (`input_cost_per_token`, 200000).
fn split_tier_field(field: &str) -> Option<(&str, u64)> {
    let rest = field.strip_suffix("k_tokens")?;
    let idx = rest.rfind("_above_")?;
    let (base, n) = (&rest[..idx], &rest[idx + "_above_".len()..]);
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousands: u64 = n.parse().ok()?;
    Some((base, thousands.checked_mul(1000)?))
}

/// The normalised form of a model id used for the last matching step: lowercase; without
/// provider prefixes (`anthropic/`, `models/`, `custom:`), a `[1m]`-style suffix, `-latest`, or a
/// date suffix (`-20250929`, `-2025-08-07`, `@20250929`); with `.` and `_` as `-`.
pub fn normalize_model(model: &str) -> String {
    let mut s = model.trim().to_ascii_lowercase();
    if let Some(idx) = s.rfind('/') {
        s = s[idx + 1..].to_string();
    }
    if let Some(rest) = s.strip_prefix("custom:") {
        s = strip_droid_display_suffix(rest).to_string();
    }
    if s.ends_with(']')
        && let Some(idx) = s.rfind('[')
    {
        s.truncate(idx);
    }
    loop {
        let before = s.len();
        if let Some(rest) = s.strip_suffix("-latest") {
            s = rest.to_string();
        }
        strip_date_suffix(&mut s);
        if s.len() == before {
            break;
        }
    }
    s.chars()
        .map(|c| if c == '.' || c == '_' { '-' } else { c })
        .collect()
}

/// Droid logs a custom model as `custom:<displayName with spaces as '-'>-<index>`, and ringlet's
/// Droid script names the model `<model> (<provider>)`: `claude-sonnet-4-5-(anthropic)-0` is
/// `claude-sonnet-4-5`. Only the parenthesised form is stripped, so a model whose own name ends
/// in `-<digits>` (`gpt-5`) stays whole.
fn strip_droid_display_suffix(s: &str) -> &str {
    let Some((head, index)) = s.rsplit_once('-') else {
        return s;
    };
    if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
        return s;
    }
    let Some(head) = head.strip_suffix(')') else {
        return s;
    };
    match head.find("-(") {
        Some(idx) if idx > 0 => &head[..idx],
        _ => s,
    }
}

fn strip_date_suffix(s: &mut String) {
    let b = s.as_bytes();
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    // -YYYYMMDD or @YYYYMMDD
    if b.len() > 9 && (b[b.len() - 9] == b'-' || b[b.len() - 9] == b'@') {
        let tail = &b[b.len() - 8..];
        if digits(tail) && (tail.starts_with(b"19") || tail.starts_with(b"20")) {
            s.truncate(s.len() - 9);
            return;
        }
    }
    // -YYYY-MM-DD
    if b.len() > 11 && b[b.len() - 11] == b'-' {
        let tail = &b[b.len() - 10..];
        if digits(&tail[0..4])
            && tail[4] == b'-'
            && digits(&tail[5..7])
            && tail[7] == b'-'
            && digits(&tail[8..10])
        {
            s.truncate(s.len() - 11);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_feed() -> String {
        let path = super::super::tests::fixtures().join("litellm_model_prices.json");
        std::fs::read_to_string(&path).expect("read the LiteLLM sample feed")
    }

    fn tokens(input: u64, output: u64, cw5: u64, cw1: u64, cw: u64, cr: u64) -> TokenCounts {
        TokenCounts {
            input,
            output,
            cache_creation: cw,
            cache_creation_5m: cw5,
            cache_creation_1h: cw1,
            cache_read: cr,
            reasoning: 0,
        }
    }

    #[test]
    fn builtin_table_parses() {
        let book = PriceBook::from_table_toml(BUILTIN_TOML, Path::new(BUILTIN_NAME))
            .expect("built-in pricing.toml parses");
        assert!(book.len() >= 70, "{} models", book.len());
        assert_eq!(PriceBook::builtin().len(), book.len());
    }

    #[test]
    fn builtin_table_matches_the_litellm_sample() {
        let feed = PriceBook::from_litellm_json(&sample_feed()).expect("feed");
        let builtin = PriceBook::builtin();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-12);
        for (name, mine) in &builtin.entries {
            let provider = mine
                .provider
                .as_deref()
                .expect("built-in entries name a provider");
            let theirs = feed
                .get(&format!("{provider}/{name}"))
                .or_else(|| feed.get(name))
                .unwrap_or_else(|| panic!("{name} is not in the sample feed"));
            let pairs = [
                (Some(&mine.input), Some(&theirs.input)),
                (Some(&mine.output), Some(&theirs.output)),
                (
                    mine.cache_creation_5m.as_ref(),
                    theirs.cache_creation_5m.as_ref(),
                ),
                (
                    mine.cache_creation_1h.as_ref(),
                    theirs.cache_creation_1h.as_ref(),
                ),
                (mine.cache_read.as_ref(), theirs.cache_read.as_ref()),
                (mine.reasoning.as_ref(), theirs.reasoning.as_ref()),
            ];
            for (a, b) in pairs {
                match (a, b) {
                    (None, None) => {}
                    (Some(a), Some(b)) => {
                        assert!(close(a.per_token, b.per_token), "{name}: {a:?} vs {b:?}");
                        assert_eq!(a.tiers.len(), b.tiers.len(), "{name} tiers");
                        for (x, y) in a.tiers.iter().zip(&b.tiers) {
                            assert_eq!(x.above_tokens, y.above_tokens, "{name}");
                            assert!(close(x.per_token, y.per_token), "{name}: {x:?} vs {y:?}");
                        }
                    }
                    _ => panic!("{name}: bucket present on one side only: {a:?} vs {b:?}"),
                }
            }
        }
    }

    #[test]
    fn litellm_sample_loads_entry_by_entry() {
        let feed = sample_feed();
        let book = PriceBook::from_litellm_json(&feed).expect("feed");
        // Every entry but `sample_spec` (whose values are strings) loads.
        let entries: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&feed).expect("JSON object");
        assert_eq!(book.len(), entries.len() - 1, "{} entries", book.len());
        assert!(book.get("sample_spec").is_none());
        let sonnet = book.get("claude-sonnet-4-5").expect("sonnet 4.5");
        assert_eq!(sonnet.input.per_token, 3e-6);
        assert_eq!(
            sonnet.input.tiers,
            vec![Tier {
                above_tokens: 200_000,
                per_token: 6e-6
            }]
        );
        let one_hour = sonnet.cache_creation_1h.as_ref().expect("1h rate");
        assert_eq!(one_hour.per_token, 6e-6);
        assert_eq!(one_hour.tiers[0].per_token, 1.2e-5);
        // 272k tiers, and `_flex`/`_priority` variants that are not size tiers.
        let gpt = book.get("gpt-5.6").expect("gpt-5.6");
        assert_eq!(gpt.input.tiers.len(), 1);
        assert_eq!(gpt.input.tiers[0].above_tokens, 272_000);
        assert_eq!(gpt.input.tiers[0].per_token, 1e-5);
    }

    #[test]
    fn malformed_entries_are_skipped_not_fatal() {
        let json = r#"{
            "sample_spec": {"input_cost_per_token": 0, "max_tokens": "LEGACY"},
            "good": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6, "max_tokens": 2000000.0},
            "bad": {"input_cost_per_token": "cheap", "output_cost_per_token": 2e-6},
            "negative": {"input_cost_per_token": -1.0},
            "image": {"output_cost_per_image": 0.04},
            "list": [1, 2]
        }"#;
        let book = PriceBook::from_litellm_json(json).expect("parses");
        assert_eq!(book.len(), 1);
        assert!(book.get("good").is_some());
        let mut skipped = book.skipped().to_vec();
        skipped.sort();
        assert_eq!(skipped.len(), 3, "{skipped:?}");
        assert!(skipped[0].starts_with("bad: input_cost_per_token"));
        let err = PriceBook::from_litellm_json("[1,2").expect_err("not JSON");
        assert_eq!(err.code(), "parse");
    }

    #[test]
    fn each_bucket_is_priced_at_its_rate() {
        // claude-sonnet-4-5: $3 in, $15 out, $3.75 5m write, $6 1h write, $0.30 read (per Mtok).
        let book = PriceBook::builtin();
        let p = book
            .lookup("claude-sonnet-4-5", None)
            .expect("priced")
            .price;
        let cost = |t: TokenCounts| p.cost_nanos(&t);
        assert_eq!(cost(tokens(1_000, 0, 0, 0, 0, 0)), 3_000_000);
        assert_eq!(cost(tokens(0, 1_000, 0, 0, 0, 0)), 15_000_000);
        assert_eq!(cost(tokens(0, 0, 1_000, 0, 1_000, 0)), 3_750_000);
        assert_eq!(cost(tokens(0, 0, 0, 1_000, 1_000, 0)), 6_000_000);
        // Unknown lifetime: priced as 5-minute writes.
        assert_eq!(cost(tokens(0, 0, 0, 0, 1_000, 0)), 3_750_000);
        assert_eq!(cost(tokens(0, 0, 0, 0, 0, 1_000)), 300_000);
        // OpenCode's own figure for the sample: 11 in, 3 out, 5 write, 7 read = $0.00009885.
        assert_eq!(cost(tokens(11, 3, 0, 0, 5, 7)), 98_850);
    }

    #[test]
    fn tiers_charge_only_the_part_above_the_threshold() {
        let book = PriceBook::builtin();
        let p = book
            .lookup("claude-sonnet-4-5", None)
            .expect("priced")
            .price;
        // 250k input: 200k at $3 + 50k at $6 = $0.60 + $0.30.
        assert_eq!(p.cost_nanos(&tokens(250_000, 0, 0, 0, 0, 0)), 900_000_000);
        // Exactly at the threshold: all at the base rate.
        assert_eq!(p.cost_nanos(&tokens(200_000, 0, 0, 0, 0, 0)), 600_000_000);
        // Output 300k: 200k at $15 + 100k at $22.50.
        assert_eq!(p.cost_nanos(&tokens(0, 300_000, 0, 0, 0, 0)), 5_250_000_000);
        // 5m writes 210k: 200k at $3.75 + 10k at $7.50.
        assert_eq!(
            p.cost_nanos(&tokens(0, 0, 210_000, 0, 210_000, 0)),
            750_000_000 + 75_000_000
        );
        // 1h writes 201k: 200k at $6 + 1k at $12.
        assert_eq!(
            p.cost_nanos(&tokens(0, 0, 0, 201_000, 201_000, 0)),
            1_200_000_000 + 12_000_000
        );
        // Reads 400k: 200k at $0.30 + 200k at $0.60.
        assert_eq!(p.cost_nanos(&tokens(0, 0, 0, 0, 0, 400_000)), 180_000_000);
        // Two tiers (hand-made): 100 at 1, 100 at 2, rest at 3.
        let rate = Rate {
            per_token: 1.0,
            tiers: vec![
                Tier {
                    above_tokens: 100,
                    per_token: 2.0,
                },
                Tier {
                    above_tokens: 200,
                    per_token: 3.0,
                },
            ],
        };
        assert_eq!(rate.cost(50), 50.0);
        assert_eq!(rate.cost(150), 100.0 + 100.0);
        assert_eq!(rate.cost(250), 100.0 + 200.0 + 150.0);
    }

    #[test]
    fn missing_rates_fall_back_sensibly() {
        let book = PriceBook::builtin();
        // gpt-5: no cache-write rate (writes at input), reads at $0.125.
        let p = book.lookup("gpt-5", None).expect("priced").price;
        assert_eq!(
            p.cost_nanos(&tokens(0, 0, 0, 0, 1_000_000, 0)),
            1_250_000_000
        );
        assert_eq!(p.cost_nanos(&tokens(0, 0, 0, 0, 0, 1_000_000)), 125_000_000);
        // Gemini prices reasoning apart (same rate here): output 1000 of which 400 reasoning.
        let g = book.lookup("gemini-2.5-flash", None).expect("priced").price;
        let t = TokenCounts {
            output: 1_000,
            reasoning: 400,
            ..Default::default()
        };
        assert_eq!(g.cost_nanos(&t), 2_500_000);
    }

    #[test]
    fn matching_goes_exact_then_prefixed_then_normalised() {
        let book = PriceBook::from_litellm_json(&sample_feed()).expect("feed");
        let m = |model: &str, provider: Option<&str>| {
            book.lookup(model, provider)
                .map(|m| (m.key.to_string(), m.kind))
        };
        assert_eq!(
            m("claude-sonnet-4-5", None),
            Some(("claude-sonnet-4-5".into(), MatchKind::Exact))
        );
        assert_eq!(
            m("grok-4.5", Some("xai")),
            Some(("xai/grok-4.5".into(), MatchKind::ProviderPrefixed))
        );
        // An exact id wins even when another provider lists it (Vertex here, same prices).
        assert_eq!(
            m("gemini-2.5-pro", Some("google")),
            Some(("gemini-2.5-pro".into(), MatchKind::Exact))
        );
        assert_eq!(
            m("glm-5", Some("zai")),
            Some(("zai/glm-5".into(), MatchKind::ProviderPrefixed))
        );
        // Without a hint, first-party prefixes are tried.
        assert_eq!(
            m("kimi-k2.6", None),
            Some(("moonshot/kimi-k2.6".into(), MatchKind::ProviderPrefixed))
        );
        // Through OpenRouter: OpenRouter's own entry; without a hint, the first-party one.
        assert_eq!(
            m("anthropic/claude-sonnet-4.5", Some("openrouter")),
            Some((
                "openrouter/anthropic/claude-sonnet-4.5".into(),
                MatchKind::ProviderPrefixed
            ))
        );
        assert_eq!(
            m("anthropic/claude-sonnet-4.5", None),
            Some(("claude-sonnet-4-5".into(), MatchKind::Normalized))
        );
        assert_eq!(
            m("Claude-Opus-4-1", None),
            Some(("claude-opus-4-1".into(), MatchKind::Normalized))
        );
        assert_eq!(
            m("claude-haiku-4-5@20251001", None).map(|x| x.1),
            Some(MatchKind::Normalized)
        );
        assert_eq!(
            m("gpt-5.4-2026-03-05-latest", None).map(|x| x.0),
            Some("gpt-5.4".into())
        );
        // The sample logs' models are not priced anywhere: unpriced, not $0.
        for unknown in [
            "claude-opus-5-5",
            "gemini-3.8-flash",
            "fake-model",
            "custom:Fake-0",
        ] {
            assert_eq!(m(unknown, None), None, "{unknown}");
        }
    }

    #[test]
    fn first_party_entries_win_normalised_collisions() {
        let json = r#"{
            "bedrock/claude-x-1": {"input_cost_per_token": 9e-6, "litellm_provider": "bedrock"},
            "claude-x-1-20250101": {"input_cost_per_token": 1e-6, "litellm_provider": "anthropic"}
        }"#;
        let book = PriceBook::from_litellm_json(json).expect("parses");
        let hit = book.lookup("CLAUDE-X-1", None).expect("matched");
        assert_eq!(hit.key, "claude-x-1-20250101");
    }

    #[test]
    fn price_event_marks_unpriced_and_keeps_reported() {
        let book = PriceBook::builtin();
        let mut ev = super::super::tests::event("k", "claude-sonnet-4-5", 1_000, 0);
        book.price_event(&mut ev);
        assert_eq!(ev.cost_source, CostSource::Computed);
        assert_eq!(ev.cost_nanos, Some(3_000_000));
        ev.model = "mystery-model".into();
        book.price_event(&mut ev);
        assert_eq!(ev.cost_source, CostSource::Unpriced);
        assert_eq!(ev.cost_nanos, None);
        ev.cost_source = CostSource::Reported;
        ev.cost_nanos = Some(42);
        book.price_event(&mut ev);
        assert_eq!(ev.cost_nanos, Some(42));
    }

    #[test]
    fn snapshot_round_trip_and_errors_name_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = Paths::under(dir.path());
        let path = PriceBook::snapshot_path(&paths);
        assert!(
            PriceBook::load_snapshot(&path)
                .expect("no snapshot")
                .is_none()
        );
        assert_eq!(
            PriceBook::load(&paths).expect("builtin").len(),
            PriceBook::builtin().len()
        );
        let json = r#"{"my-model": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}}"#;
        PriceBook::save_snapshot(&path, json).expect("save");
        let book = PriceBook::load(&paths).expect("load");
        assert!(book.get("my-model").is_some());
        assert!(book.get("claude-sonnet-4-5").is_some());
        let err = PriceBook::save_snapshot(&path, "{}").expect_err("empty feed refused");
        assert!(err.to_string().contains("prices no model"), "{err}");
        std::fs::write(&path, "{oops").expect("corrupt");
        let err = PriceBook::load(&paths).expect_err("corrupt snapshot");
        let msg = err.to_string();
        assert!(
            msg.contains("litellm.json") && msg.contains("delete the file"),
            "{msg}"
        );
    }

    #[test]
    fn normalisation_examples() {
        assert_eq!(
            normalize_model("anthropic/claude-sonnet-4.5"),
            "claude-sonnet-4-5"
        );
        assert_eq!(
            normalize_model("claude-sonnet-4-5-20250929"),
            "claude-sonnet-4-5"
        );
        assert_eq!(normalize_model("gpt-5-2025-08-07"), "gpt-5");
        assert_eq!(normalize_model("models/gemini-2.5-pro"), "gemini-2-5-pro");
        assert_eq!(normalize_model("claude-opus-4-6[1m]"), "claude-opus-4-6");
        assert_eq!(normalize_model("custom:Fake-0"), "fake-0");
        assert_eq!(
            normalize_model("custom:claude-sonnet-4-5-(Anthropic)-0"),
            "claude-sonnet-4-5"
        );
        assert_eq!(
            normalize_model("custom:gpt-5.5-(OpenAI-Compatible-(EU))-12"),
            "gpt-5-5"
        );
        assert_eq!(normalize_model("custom:gpt-5"), "gpt-5");
        assert_eq!(normalize_model("custom:-(x)-0"), "-(x)-0");
        assert_eq!(normalize_model("MiniMax-M2.5"), "minimax-m2-5");
        assert_eq!(normalize_model("gpt-4o-latest"), "gpt-4o");
        assert_eq!(normalize_model("claude-opus-5-5"), "claude-opus-5-5");
    }
}
