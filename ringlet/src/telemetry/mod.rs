//! Metrics for a team's observability stack: a snapshot of the ledger (the team ledger when one
//! is configured, else this machine's) as Prometheus text for the server's `/metrics`, and as
//! OTLP/HTTP JSON for `[telemetry] otlp-endpoint` (docs/team.md).

mod metrics;
mod otlp;

pub use metrics::{MAX_LABEL_LEN, MAX_SERIES, MetricsSnapshot, RunSeries, UsageSeries, snapshot};
pub use otlp::{export as export_otlp, metrics_url as otlp_metrics_url, otlp_json};
