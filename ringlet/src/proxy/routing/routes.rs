//! A checked plan with its keys read: what a running proxy routes by. Each target becomes an
//! [`UpstreamTarget`] (base URL, shape, the real key in the provider's scheme) plus the model to
//! ask for, so the request path only matches and sends.

use super::{RequestFacts, RoutePlan};
use crate::credentials::{CredentialKey, Secret};
use crate::error::Result;
use crate::proxy::upstream::{UpstreamAuth, UpstreamTarget};

/// One target of a route, ready to send to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutedTarget {
    /// Where and how.
    pub upstream: UpstreamTarget,
    /// The model asked for; the request's own when `None`.
    pub model: Option<String>,
}

/// One rule (or the default) of a running proxy.
#[derive(Debug, Clone, PartialEq)]
pub struct RunningRoute {
    /// The rule's label (`usage --by-rule`).
    pub label: String,
    /// The target, then its fallbacks.
    pub targets: Vec<RoutedTarget>,
}

/// A profile's routing, ready for a proxy: the plan's rules and default with their keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Routes {
    plan: RoutePlan,
    rules: Vec<RunningRoute>,
    default: RunningRoute,
}

impl Routes {
    /// Resolves every target's key with `key` (the credential store's lookup): a target of a
    /// provider that needs a key gets it; `key` fails for a missing one.
    pub fn new(
        plan: RoutePlan,
        mut key: impl FnMut(&CredentialKey) -> Result<Option<Secret>>,
    ) -> Result<Self> {
        let mut running = |route: &super::Route| -> Result<RunningRoute> {
            let mut targets = Vec::with_capacity(route.targets.len());
            for t in &route.targets {
                let secret = match &t.key {
                    Some(k) => key(k)?,
                    None => None,
                };
                targets.push(RoutedTarget {
                    upstream: UpstreamTarget {
                        provider: t.provider.clone(),
                        base_url: t.base_url.clone(),
                        shape: t.shape,
                        auth: UpstreamAuth::for_shape(t.shape, t.auth, secret),
                    },
                    model: t.model.clone(),
                });
            }
            Ok(RunningRoute {
                label: route.label.clone(),
                targets,
            })
        };
        let rules = plan
            .rules
            .iter()
            .map(&mut running)
            .collect::<Result<Vec<_>>>()?;
        let default = running(&plan.default)?;
        Ok(Self {
            plan,
            rules,
            default,
        })
    }

    /// The route for a request body: the first rule whose conditions hold, else the default.
    pub fn pick(&self, body: &[u8]) -> &RunningRoute {
        if !self.plan.reads_body() {
            return &self.default;
        }
        let facts = RequestFacts::scan(body);
        self.plan
            .rules
            .iter()
            .position(|r| r.when.as_ref().is_some_and(|m| m.matches(&facts)))
            .map_or(&self.default, |i| &self.rules[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::provider::AuthScheme;
    use crate::catalog::wire::WireShape;
    use crate::proxy::routing::{Match, Route, Target};

    fn target(provider: &str, shape: WireShape, key: Option<&str>) -> Target {
        Target {
            provider: provider.into(),
            base_url: format!("http://{provider}.test"),
            shape,
            model: Some(format!("{provider}-model")),
            key: key.map(|k| CredentialKey::new(provider, k)),
            auth: AuthScheme::XApiKey,
        }
    }

    #[test]
    fn keys_are_read_once_per_target_and_sent_in_each_shapes_scheme() {
        let plan = RoutePlan {
            rules: vec![Route {
                label: "tool-use".into(),
                when: Some(Match {
                    tool_use: Some(true),
                    ..Match::default()
                }),
                targets: vec![
                    target("b", WireShape::OpenaiChat, Some("k")),
                    target("local", WireShape::Anthropic, None),
                ],
            }],
            default: Route {
                label: "default".into(),
                when: None,
                targets: vec![target("a", WireShape::Anthropic, Some("k"))],
            },
        };
        let mut asked = Vec::new();
        let routes = Routes::new(plan, |k| {
            asked.push(k.clone());
            Ok(Some(Secret::new(format!("sk-{}", k.provider))))
        })
        .expect("routes");
        assert_eq!(
            asked,
            [CredentialKey::new("b", "k"), CredentialKey::new("a", "k")]
        );
        let tools = routes.pick(br#"{"tools":[{"name":"x"}],"messages":[]}"#);
        assert_eq!(tools.label, "tool-use");
        assert_eq!(
            tools.targets[0].upstream.auth,
            UpstreamAuth::Bearer(Secret::new("sk-b"))
        );
        assert_eq!(tools.targets[1].upstream.auth, UpstreamAuth::None);
        let other = routes.pick(br#"{"messages":[]}"#);
        assert_eq!(other.label, "default");
        assert_eq!(
            other.targets[0].upstream.auth,
            UpstreamAuth::XApiKey(Secret::new("sk-a"))
        );
        assert_eq!(other.targets[0].model.as_deref(), Some("a-model"));
    }

    #[test]
    fn a_missing_key_fails_the_whole_routing() {
        let plan = RoutePlan {
            rules: vec![],
            default: Route {
                label: "default".into(),
                when: None,
                targets: vec![target("a", WireShape::Anthropic, Some("k"))],
            },
        };
        let err = Routes::new(plan, |_| {
            Err(crate::error::Error::InvalidInput("no key".into()))
        });
        assert!(err.is_err());
    }
}
