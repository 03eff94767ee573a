//! A profile's proxy settings (`proxy = "on"`, `[budget]`), and `config.toml`'s `[proxy]` and
//! `[budget]`. Plain data, parsed whether or not this build has the `proxy` feature, so one
//! profile works with every ringlet (a build without it refuses to run a proxied profile).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Whether a profile's runs go through the ringlet proxy (docs/proxy.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ProxyMode {
    /// The agent talks to the provider itself, holding the key (the default).
    #[default]
    Off,
    /// The agent talks to a proxy ringlet runs for the run, holding only a per-run token.
    On,
}

impl ProxyMode {
    /// `on` or `off`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyMode::Off => "off",
            ProxyMode::On => "on",
        }
    }

    /// Parses `on` or `off`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "on" => Ok(ProxyMode::On),
            "off" => Ok(ProxyMode::Off),
            other => Err(Error::InvalidInput(format!(
                "proxy '{}' is not one of: on, off",
                other.escape_debug()
            ))),
        }
    }

    /// Whether it is [`ProxyMode::Off`].
    pub fn is_off(&self) -> bool {
        *self == ProxyMode::Off
    }
}

/// Spending limits in US dollars, per local day and per local month (`[budget]` in a profile or
/// in `config.toml`). The proxy refuses a request that would start once one is spent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Dollars per day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<f64>,
    /// Dollars per month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<f64>,
}

impl Budget {
    /// Whether no limit is set.
    pub fn is_empty(&self) -> bool {
        self.day.is_none() && self.month.is_none()
    }

    /// Checks the limits: each a finite amount of dollars, not negative.
    pub fn validate(&self) -> Result<()> {
        for (name, value) in [("day", self.day), ("month", self.month)] {
            if let Some(v) = value
                && !(v.is_finite() && v >= 0.0)
            {
                return Err(Error::InvalidInput(format!(
                    "budget {name} must be a number of dollars, 0 or more, not {v}"
                )));
            }
        }
        Ok(())
    }
}

/// `config.toml`'s `[proxy]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProxyConfig {
    /// Ports the proxy may listen on, `"41000-41099"` (inclusive); an ephemeral port when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<String>,
}

impl ProxyConfig {
    /// Whether nothing is set.
    pub fn is_unset(&self) -> bool {
        *self == ProxyConfig::default()
    }

    /// The port range, `None` for an ephemeral port.
    pub fn port_range(&self) -> Result<Option<(u16, u16)>> {
        let Some(text) = self.ports.as_deref() else {
            return Ok(None);
        };
        let bad = || {
            Error::InvalidInput(format!(
                "[proxy] ports = \"{}\" in config.toml is not a port range like \"41000-41099\"",
                text.escape_debug()
            ))
        };
        let (lo, hi) = text.split_once('-').unwrap_or((text, text));
        let lo: u16 = lo.trim().parse().map_err(|_| bad())?;
        let hi: u16 = hi.trim().parse().map_err(|_| bad())?;
        if lo == 0 || lo > hi {
            return Err(bad());
        }
        Ok(Some((lo, hi)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_budgets_parse_and_validate() {
        assert_eq!(ProxyMode::parse("on").expect("on"), ProxyMode::On);
        assert!(ProxyMode::parse("yes").is_err());
        assert!(
            Budget {
                day: Some(-1.0),
                month: None
            }
            .validate()
            .is_err()
        );
        assert!(
            Budget {
                day: Some(f64::NAN),
                month: None
            }
            .validate()
            .is_err()
        );
        Budget {
            day: Some(0.01),
            month: Some(100.0),
        }
        .validate()
        .expect("valid");
    }

    #[test]
    fn port_ranges_parse() {
        let cfg = |p: &str| ProxyConfig {
            ports: Some(p.into()),
        };
        assert_eq!(
            cfg("41000-41099").port_range().expect("range"),
            Some((41000, 41099))
        );
        assert_eq!(cfg("5000").port_range().expect("one"), Some((5000, 5000)));
        assert!(cfg("9-1").port_range().is_err());
        assert!(cfg("0-10").port_range().is_err());
        assert!(cfg("a-b").port_range().is_err());
        assert_eq!(ProxyConfig::default().port_range().expect("none"), None);
    }
}
