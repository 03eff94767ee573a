//! Metrics through the facade: the snapshot `/metrics` and the OTLP export report.

use chrono::{DateTime, Utc};

use super::Ringlet;
use crate::error::{Error, Result};
use crate::telemetry::{MetricsSnapshot, export_otlp, snapshot};

impl Ringlet {
    /// The ledger's counters now, from the ledger `[telemetry] metrics-source` names: the team
    /// ledger when one is configured (`auto`, the default) or asked for (`team`), else this
    /// machine's.
    pub fn metrics(&self) -> Result<MetricsSnapshot> {
        let source = self
            .inner
            .config
            .telemetry
            .metrics_source
            .as_deref()
            .unwrap_or("auto");
        let team = match source {
            "local" => false,
            "auto" => self.inner.config.team.ledger.is_some(),
            "team" => true,
            other => {
                return Err(Error::Parse {
                    path: self.paths().config_file(),
                    line: None,
                    message: format!(
                        "[telemetry] metrics-source '{}' is not one of: auto, local, team",
                        crate::error::shown(other)
                    ),
                });
            }
        };
        if team {
            return self.team_metrics();
        }
        snapshot(self.usage_store()?.as_ref(), "local")
    }

    #[cfg(feature = "team")]
    fn team_metrics(&self) -> Result<MetricsSnapshot> {
        snapshot(&self.team_store()?, "team")
    }

    #[cfg(not(feature = "team"))]
    fn team_metrics(&self) -> Result<MetricsSnapshot> {
        Err(Error::InvalidInput(
            "team metrics need ringlet built with the `team` feature; set [telemetry] metrics-source = \"local\"".into(),
        ))
    }

    /// `[telemetry] otlp-endpoint` and the seconds between exports, when an endpoint is set.
    pub fn otlp_settings(&self) -> Option<(String, u64)> {
        let t = &self.inner.config.telemetry;
        t.otlp_endpoint
            .clone()
            .map(|e| (e, t.otlp_interval_seconds.unwrap_or(60).max(1)))
    }

    /// Sends [`metrics`](Self::metrics) once to the configured OTLP/HTTP endpoint; `start` is
    /// when the exporting process started (the cumulative sums' start time).
    pub fn export_metrics(&self, start: DateTime<Utc>) -> Result<()> {
        let Some((endpoint, _)) = self.otlp_settings() else {
            return Err(Error::InvalidInput(format!(
                "no OTLP endpoint is configured; add [telemetry] otlp-endpoint = \"http://collector:4318\" to {}",
                self.paths().config_file().display()
            )));
        };
        export_otlp(&self.metrics()?, start, &endpoint)
    }
}
