//! `ringlet doctor`: what can go wrong on this machine, each with how to fix it. The report's
//! types, the versions of the agents ringlet was tested with, and the probes that need no
//! facade (file modes, the ledger, a running server); the facade's `doctor()` runs the checks.

mod probes;
mod tested;

use serde::{Deserialize, Serialize};

pub(crate) use probes::{LedgerHealth, ledger_health, loose_mode, server_answers};
pub use tested::TESTED_VERSIONS;
pub(crate) use tested::{tested_version, version_number};

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CheckStatus {
    /// Fine.
    Ok,
    /// Works, but something deserves attention.
    Warn,
    /// Broken: something ringlet needs does not work.
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// What was checked (`agent:claude`, `credentials`, `ledger`…).
    pub name: String,
    /// How it came out.
    pub status: CheckStatus,
    /// What was found.
    pub detail: String,
    /// What to do about it, when it is not fine.
    pub fix: Option<String>,
}

impl Check {
    pub(crate) fn ok(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            status: CheckStatus::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    pub(crate) fn warn(
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            status: CheckStatus::Warn,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    pub(crate) fn fail(
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            status: CheckStatus::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

/// Every check, in a stable order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorReport {
    /// The checks.
    pub checks: Vec<Check>,
    /// Whether none failed (warnings do not count): the CLI's exit status.
    pub healthy: bool,
}

impl DoctorReport {
    pub(crate) fn new(checks: Vec<Check>) -> Self {
        let healthy = checks.iter().all(|c| c.status != CheckStatus::Fail);
        Self { checks, healthy }
    }

    /// The check named `name`.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }
}
