//! The facade's side of the ringlet proxy (docs/proxy.md): a run of a profile with
//! `proxy = "on"` takes a loopback port before its plan (so the config script writes the
//! proxy's URL), starts the proxy with the real key once the key is read, gives the agent the
//! run's token instead, and stops the proxy when the agent ends.

use super::Ringlet;
use crate::credentials::Secret;
use crate::error::{Error, Result};
use crate::launch::LaunchPlan;
use crate::profile::{Profile, ProxyMode};

/// The proxy's port, taken before the plan.
#[cfg(feature = "proxy")]
pub(crate) struct ProxyListener {
    listener: std::net::TcpListener,
    base_url: String,
}

/// A build without the `proxy` feature never has one.
#[cfg(not(feature = "proxy"))]
pub(crate) enum ProxyListener {}

impl ProxyListener {
    /// What the agent is pointed at.
    pub(crate) fn base_url(&self) -> &str {
        #[cfg(feature = "proxy")]
        return &self.base_url;
        #[cfg(not(feature = "proxy"))]
        match *self {}
    }
}

/// A run's proxy, and when it started (ms since the epoch).
#[cfg(feature = "proxy")]
pub(crate) struct RunProxy(crate::proxy::ProxyHandle, i64);

/// A build without the `proxy` feature never has one.
#[cfg(not(feature = "proxy"))]
pub(crate) enum RunProxy {}

impl std::fmt::Debug for RunProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RunProxy")
    }
}

impl Ringlet {
    /// The proxy's port when `profile` runs through the proxy.
    pub(super) fn proxy_listener(&self, profile: &Profile) -> Result<Option<ProxyListener>> {
        // Routing rules need the proxy, whatever the profile's `proxy` mode.
        #[cfg(feature = "proxy")]
        let routed = self.routing_file(&profile.alias)?.exists();
        #[cfg(not(feature = "proxy"))]
        let routed = false;
        if profile.proxy != ProxyMode::On && !routed {
            return Ok(None);
        }
        #[cfg(feature = "proxy")]
        {
            let listener = crate::proxy::bind_loopback(self.inner.config.proxy.port_range()?)?;
            let addr = listener.local_addr().map_err(|e| Error::Proxy {
                message: format!("its listener has no address: {e}"),
            })?;
            let root = format!("http://{addr}");
            let base_url = if profile.shape.base_url_has_v1() {
                format!("{root}/v1")
            } else {
                root
            };
            Ok(Some(ProxyListener { listener, base_url }))
        }
        #[cfg(not(feature = "proxy"))]
        Err(Error::Proxy {
            message: format!(
                "profile '{}' runs through the proxy, but this ringlet was built without it (cargo feature `proxy`); turn it off with `ringlet profiles set {} --proxy off`",
                profile.alias, profile.alias
            ),
        })
    }

    /// Starts the run's proxy with the real `key`; returns it and what the agent gets instead
    /// of the key (the run's token, or nothing when there is no key).
    #[cfg(feature = "proxy")]
    pub(super) fn start_proxy(
        &self,
        profile: &Profile,
        plan: &LaunchPlan,
        listener: ProxyListener,
        key: Option<Secret>,
    ) -> Result<(RunProxy, Option<Secret>)> {
        use crate::proxy::{
            Attribution, BudgetLimit, BudgetScope, ProxyHandle, ProxySpec, RunToken, UpstreamAuth,
            UpstreamTarget, UsageSink,
        };
        let provider = self.catalogue().provider(&profile.provider)?;
        let upstream = UpstreamTarget {
            provider: profile.provider.clone(),
            base_url: self.base_url(profile, provider.as_ref())?,
            shape: profile.shape,
            auth: UpstreamAuth::for_shape(
                profile.shape,
                provider.manifest().auth.scheme,
                key.clone(),
            ),
        };
        // The agent's key variable or file gets the token; with no key there is nothing to
        // hide, and nothing to check.
        let token = match (&plan.secret_env, &key) {
            (Some(_), Some(_)) => Some(RunToken::generate()?),
            _ => None,
        };
        let mut budgets = Vec::new();
        let limits = [
            (BudgetScope::Profile(profile.alias.clone()), profile.budget),
            (BudgetScope::Global, self.inner.config.budget),
        ];
        for (scope, budget) in limits {
            budget.validate()?;
            for (period, usd) in [
                (crate::hooks::Period::Day, budget.day),
                (crate::hooks::Period::Month, budget.month),
            ] {
                if let Some(usd) = usd {
                    budgets.push(BudgetLimit {
                        scope: scope.clone(),
                        period,
                        usd,
                    });
                }
            }
        }
        let who = crate::hooks::ProfileRef {
            alias: profile.alias.clone(),
            agent: profile.agent.clone(),
            provider: profile.provider.clone(),
        };
        let ringlet = self.clone();
        let sink = UsageSink {
            store: self.usage_store()?,
            prices: self.price_book()?,
            on_refusal: Some(std::sync::Arc::new(move |refusal| {
                ringlet.fire_budget_refusal(&who, refusal);
            })),
        };
        let spec = ProxySpec {
            shape: profile.shape,
            upstream,
            token: token.clone(),
            attribution: Attribution {
                profile: profile.alias.clone(),
                agent: profile.agent.clone(),
                provider: profile.provider.clone(),
                project: plan.cwd.to_str().map(str::to_string),
            },
            sink: Some(sink),
            budgets,
        };
        let started_ms = chrono::Utc::now().timestamp_millis();
        let routes = self.run_routes(profile)?;
        let handle = ProxyHandle::start_routed(listener.listener, spec, routes)?;
        let agent_key = match token {
            Some(token) => Some(token.secret().clone()),
            None => key,
        };
        Ok((RunProxy(handle, started_ms), agent_key))
    }

    /// The profile's routing for a run: its rules checked again (a provider may have gone since
    /// they were installed) and every target's key read now, so a missing one fails the run
    /// before the agent starts.
    #[cfg(feature = "proxy")]
    fn run_routes(&self, profile: &Profile) -> Result<Option<crate::proxy::routing::Routes>> {
        let Some(plan) = self.routing(&profile.alias)? else {
            return Ok(None);
        };
        let routes = crate::proxy::routing::Routes::new(plan, |key| {
            match self.credentials().get_for(key, Some(&profile.alias))? {
                Some(secret) => Ok(Some(secret)),
                None => Err(Error::MissingKey {
                    provider: key.provider.clone(),
                    alias: key.alias.clone(),
                    backend: self.credentials().backend().to_string(),
                }),
            }
        })?;
        Ok(Some(routes))
    }

    /// A build without the `proxy` feature has no listener to start one on.
    #[cfg(not(feature = "proxy"))]
    pub(super) fn start_proxy(
        &self,
        _profile: &Profile,
        _plan: &LaunchPlan,
        listener: ProxyListener,
        _key: Option<Secret>,
    ) -> Result<(RunProxy, Option<Secret>)> {
        match listener {}
    }

    /// Stops the run's proxy once the agent has ended; what it could not record becomes a
    /// warning.
    pub(super) fn stop_proxy(&self, profile: &Profile, proxy: RunProxy) {
        #[cfg(feature = "proxy")]
        {
            let RunProxy(handle, started_ms) = proxy;
            let report = handle.stop();
            // The span in which the proxy, not the agent's log, counts this profile's usage.
            let file = crate::usage::proxied_runs_file(self.paths().data_dir(), &profile.alias);
            let ended_ms = chrono::Utc::now().timestamp_millis();
            if let Err(e) = crate::usage::add_proxied_run(&file, started_ms, ended_ms) {
                self.inner.warnings.push(
                    "proxy_usage",
                    format!("the agent's log may count this proxied run again: {e}"),
                );
            }
            for problem in report.problems {
                self.inner.warnings.push("proxy_usage", problem);
            }
            if report.stats.refused > 0 {
                self.inner.warnings.push(
                    "budget_refused",
                    format!(
                        "the proxy refused {} request(s) of '{}' because a budget is spent",
                        report.stats.refused, profile.alias
                    ),
                );
            }
        }
        #[cfg(not(feature = "proxy"))]
        {
            let _ = profile;
            match proxy {}
        }
    }
}

/// Wire against log for one proxied profile (`ringlet usage --reconcile`): over the spans of its
/// proxied runs, what the proxy read on the wire and what the agent's own log says.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReconcileLine {
    /// The profile.
    pub profile: String,
    /// Its agent.
    pub agent: String,
    /// Proxied runs compared.
    pub runs: u64,
    /// The proxy's figures (the ledger's).
    pub wire: crate::usage::UsageRow,
    /// The agent log's figures for the same spans (read again, never stored).
    pub log: crate::usage::UsageRow,
}

impl ReconcileLine {
    /// Whether the log and the wire agree on every token bucket.
    pub fn agrees(&self) -> bool {
        let (w, l) = (&self.wire, &self.log);
        (w.input, w.output, w.cache_creation, w.cache_read)
            == (l.input, l.output, l.cache_creation, l.cache_read)
    }
}

impl Ringlet {
    /// Where the agents' logs and the wire disagree: for each profile with proxied runs (or
    /// only `alias`), the usage the proxy recorded during those runs beside what the agent's
    /// log reports for the same time, read again from the profile's HOME into a scratch ledger
    /// (the real one is not touched).
    pub fn reconcile_usage(&self, alias: Option<&str>) -> Result<Vec<ReconcileLine>> {
        use crate::usage::{UsageFilter, UsageGroup};
        let profiles = match alias {
            Some(a) => vec![self.profile(a)?],
            None => self.profiles()?,
        };
        let store = self.usage_store()?;
        let prices = self.lazy_price_book();
        let mut out = Vec::new();
        for profile in profiles {
            let spans = crate::usage::proxied_runs(&crate::usage::proxied_runs_file(
                self.paths().data_dir(),
                &profile.alias,
            ));
            if spans.is_empty() {
                continue;
            }
            let scratch = crate::usage::SqliteUsageStore::open_in_memory()?;
            let agent = self.catalogue().agent(&profile.agent)?;
            let who =
                crate::usage::Attribution::new(&profile.alias, &profile.agent, &profile.provider);
            let home = self.profile_home(&profile.alias)?;
            crate::usage::ingest_home(&scratch, &prices, &who, &agent.manifest().logs, &home)?;
            let mut wire = crate::usage::UsageRow::empty("wire");
            let mut log = crate::usage::UsageRow::empty("log");
            for (start, end) in &spans {
                let (Some(since), Some(until)) = (
                    chrono::DateTime::from_timestamp_millis(*start),
                    chrono::DateTime::from_timestamp_millis(end.saturating_add(1)),
                ) else {
                    continue;
                };
                let filter = UsageFilter::new()
                    .profile(&profile.alias)
                    .since(since)
                    .until(until);
                let total = |s: &dyn crate::usage::UsageStore| {
                    s.query(&filter, UsageGroup::Total)
                        .map(super::usage::first_row)
                };
                wire.absorb(&total(store.as_ref())?);
                log.absorb(&total(&scratch)?);
            }
            out.push(ReconcileLine {
                profile: profile.alias,
                agent: profile.agent,
                runs: spans.len() as u64,
                wire,
                log,
            });
        }
        Ok(out)
    }
}
