//! OTLP/HTTP metrics export, written by hand: one JSON POST to `<endpoint>/v1/metrics` per
//! interval. ringlet already has an HTTP client (`ureq`) and JSON; the OpenTelemetry SDK
//! (`opentelemetry`, `opentelemetry_sdk`, `opentelemetry-otlp`) would add an async runtime, a
//! meter provider and protobuf code for what is, here, a periodic snapshot of six metrics
//! (docs/team.md, "OTLP").

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::metrics::{MetricsSnapshot, RunSeries, UsageSeries, token_kinds};
use crate::error::{Error, Result};

/// How long one export may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// `endpoint` as the URL metrics are POSTed to: `http://collector:4318` becomes
/// `http://collector:4318/v1/metrics`; a URL already ending in `/v1/metrics` is kept.
pub fn metrics_url(endpoint: &str) -> Result<String> {
    let bad = |why: &str| {
        Error::InvalidInput(format!(
            "[telemetry] otlp-endpoint '{}' {why}; write it as http://collector:4318",
            crate::error::shown(endpoint)
        ))
    };
    let url = url::Url::parse(endpoint).map_err(|_| bad("is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad("is not an http(s) URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("holds credentials"));
    }
    let trimmed = endpoint.trim_end_matches('/');
    Ok(if trimmed.ends_with("/v1/metrics") {
        trimmed.to_string()
    } else {
        format!("{trimmed}/v1/metrics")
    })
}

fn attr(key: &str, value: &str) -> Value {
    json!({"key": key, "value": {"stringValue": value}})
}

fn usage_attrs(s: &UsageSeries) -> Vec<Value> {
    vec![
        attr("profile", &s.profile),
        attr("agent", &s.agent),
        attr("provider", &s.provider),
        attr("model", &s.model),
    ]
}

fn run_attrs(s: &RunSeries) -> Vec<Value> {
    vec![
        attr("profile", &s.profile),
        attr("agent", &s.agent),
        attr("provider", &s.provider),
    ]
}

fn nanos(t: DateTime<Utc>) -> String {
    t.timestamp_nanos_opt().unwrap_or(0).to_string()
}

/// The snapshot as an OTLP `ExportMetricsServiceRequest` in its JSON encoding: cumulative
/// monotonic sums `ringlet.tokens` (attribute `kind`), `ringlet.cost` (USD), `ringlet.events`,
/// `ringlet.unpriced_events`, `ringlet.runs`, and the gauge `ringlet.active_sessions`, each data
/// point with the same labels as `/metrics`. `start` is when the exporter started.
pub fn otlp_json(snap: &MetricsSnapshot, start: DateTime<Utc>) -> Value {
    let (t0, t) = (nanos(start), nanos(snap.at));
    let int_point = |attrs: Vec<Value>, n: u64| json!({"attributes": attrs, "startTimeUnixNano": t0, "timeUnixNano": t, "asInt": n.to_string()});
    let sum = |name: &str, unit: &str, description: &str, points: Vec<Value>| {
        json!({
            "name": name, "unit": unit, "description": description,
            "sum": {"aggregationTemporality": 2, "isMonotonic": true, "dataPoints": points}
        })
    };
    let mut tokens = Vec::new();
    for s in &snap.usage {
        for (kind, n) in token_kinds(&s.usage) {
            let mut attrs = usage_attrs(s);
            attrs.push(attr("kind", kind));
            tokens.push(int_point(attrs, n));
        }
    }
    let cost = snap
        .usage
        .iter()
        .map(|s| {
            json!({"attributes": usage_attrs(s), "startTimeUnixNano": t0, "timeUnixNano": t,
                "asDouble": s.usage.cost_usd})
        })
        .collect();
    let events = snap
        .usage
        .iter()
        .map(|s| int_point(usage_attrs(s), s.usage.events))
        .collect();
    let unpriced = snap
        .usage
        .iter()
        .map(|s| int_point(usage_attrs(s), s.usage.unpriced_events))
        .collect();
    let runs = snap
        .runs
        .iter()
        .map(|s| int_point(run_attrs(s), s.runs))
        .collect();
    let active: Vec<Value> = snap
        .runs
        .iter()
        .map(|s| json!({"attributes": run_attrs(s), "timeUnixNano": t, "asInt": s.active.to_string()}))
        .collect();
    json!({"resourceMetrics": [{
        "resource": {"attributes": [
            attr("service.name", "ringlet"),
            attr("ringlet.source", &snap.source),
        ]},
        "scopeMetrics": [{
            "scope": {"name": "ringlet", "version": env!("CARGO_PKG_VERSION")},
            "metrics": [
                sum("ringlet.tokens", "{token}", "Tokens processed, by kind.", tokens),
                sum("ringlet.cost", "USD", "Cost of the priced events.", cost),
                sum("ringlet.events", "{event}", "Usage events recorded.", events),
                sum("ringlet.unpriced_events", "{event}", "Usage events without a known price.", unpriced),
                sum("ringlet.runs", "{run}", "Agent runs started.", runs),
                {"name": "ringlet.active_sessions", "unit": "{run}",
                 "description": "Agent runs going now.", "gauge": {"dataPoints": active}},
            ]
        }]
    }]})
}

/// POSTs the snapshot to the collector at `endpoint` (OTLP/HTTP, JSON encoding).
pub fn export(snap: &MetricsSnapshot, start: DateTime<Utc>, endpoint: &str) -> Result<()> {
    let url = metrics_url(endpoint)?;
    let body = otlp_json(snap, start).to_string();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();
    let fail = |message: String| Error::Download {
        url: url.clone(),
        message,
    };
    let res = agent
        .post(&url)
        .header("Content-Type", "application/json")
        .send(body.as_bytes())
        .map_err(|e| {
            fail(format!(
                "{e}; check [telemetry] otlp-endpoint and that the collector listens"
            ))
        })?;
    let status = res.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(fail(format!("the collector answered HTTP {status}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_get_the_metrics_path_once_and_refuse_credentials() {
        assert_eq!(
            metrics_url("http://c:4318").expect("url"),
            "http://c:4318/v1/metrics"
        );
        assert_eq!(
            metrics_url("https://c/otlp/v1/metrics/").expect("url"),
            "https://c/otlp/v1/metrics"
        );
        assert!(metrics_url("http://u:p@c:4318").is_err());
        assert!(metrics_url("ftp://c").is_err());
    }
}
