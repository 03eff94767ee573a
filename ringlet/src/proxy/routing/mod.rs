//! Routing: a profile's `routing.toml` sends each request to the provider and model its first
//! matching rule names, with fallbacks tried in order when a target fails before answering.
//!
//! `config` holds the file as written; `facts` reads what rules look at from a request body;
//! this module resolves the file against the catalogue and the profile into a [`RoutePlan`],
//! checking every provider, endpoint and key alias once, at `profiles set --routing` and at
//! load, so a request never meets a misconfigured target.

pub mod config;
pub mod facts;
pub mod routes;

pub(crate) mod forward;

use std::path::Path;

use serde::Serialize;

pub use config::{MAX_ROUTING_FILE_BYTES, Match, ROUTING_FILE, RoutingFile, TargetSpec};
pub use facts::{BYTES_PER_TOKEN, RequestFacts};
pub use routes::{RoutedTarget, Routes, RunningRoute};

use crate::catalog::catalogue::Catalogue;
use crate::catalog::provider::AuthScheme;
use crate::catalog::wire::WireShape;
use crate::credentials::CredentialKey;
use crate::error::{Error, Result};
use crate::profile::Profile;

/// The label of the route taken when no rule matches.
pub const DEFAULT_LABEL: &str = "default";

/// The longest rule name accepted (it is a column in usage reports).
pub const MAX_RULE_NAME: usize = 64;

/// A checked `routing.toml`: the rules in order and the default.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoutePlan {
    /// The rules, tried top to bottom; the first that matches wins.
    pub rules: Vec<Route>,
    /// Where a request no rule matches goes.
    pub default: Route,
}

/// One rule (or the default) with its targets resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Route {
    /// The rule's name as usage reports show it: its `name`, else its match keys joined with
    /// `+` (`tool-use`, `input-tokens-lt+has-system-prompt`), else `default`.
    pub label: String,
    /// The conditions; `None` for the default.
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    pub when: Option<Match>,
    /// The target first, then its fallbacks, in the order they are tried.
    pub targets: Vec<Target>,
}

/// Where a routed request goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// The provider id.
    pub provider: String,
    /// The base URL (in the shape's convention: `/v1` for OpenAI shapes).
    pub base_url: String,
    /// The wire shape the provider is spoken to in. When it differs from the agent's, requests
    /// and responses are translated (`proxy::translate`).
    pub shape: WireShape,
    /// The model asked for; the request's own when `None`.
    pub model: Option<String>,
    /// Where its key is in the credential store; `None` for providers that need none.
    pub key: Option<CredentialKey>,
    /// How the key is sent on Anthropic-shaped endpoints.
    pub auth: AuthScheme,
}

impl Target {
    /// Whether requests to this target are translated from the agent's shape.
    pub fn translates_from(&self, agent: WireShape) -> bool {
        self.shape != agent
    }
}

/// The one shape a request in `agent`'s shape can be translated to, if any.
pub fn translatable(agent: WireShape) -> Option<WireShape> {
    match agent {
        WireShape::Anthropic => Some(WireShape::OpenaiChat),
        WireShape::OpenaiChat => Some(WireShape::Anthropic),
        _ => None,
    }
}

/// One target as written (a rule, the default, or a fallback entry).
struct Written<'a> {
    to: &'a toml::Spanned<String>,
    model: &'a Option<String>,
    endpoint: &'a Option<String>,
    key: &'a Option<String>,
}

impl<'a> From<&'a TargetSpec> for Written<'a> {
    fn from(t: &'a TargetSpec) -> Self {
        Written {
            to: &t.to,
            model: &t.model,
            endpoint: &t.endpoint,
            key: &t.key,
        }
    }
}

/// What resolution checks a file against.
struct Resolver<'a> {
    catalogue: &'a Catalogue,
    profile: &'a Profile,
    path: &'a Path,
    text: &'a str,
}

impl Resolver<'_> {
    fn error(&self, offset: usize, message: String) -> Error {
        Error::Parse {
            path: self.path.to_path_buf(),
            line: Some(config::line_of(self.text, offset)),
            message,
        }
    }

    fn target(&self, what: &str, t: Written<'_>) -> Result<Target> {
        let at = t.to.span().start;
        let id = t.to.get_ref();
        let provider = self
            .catalogue
            .provider(id)
            .map_err(|e| self.error(at, format!("{what}: {e}")))?;
        let manifest = provider.manifest();
        let endpoint = match t.endpoint {
            Some(name) if manifest.endpoints.contains_key(name) => name.clone(),
            Some(name) => {
                let known: Vec<_> = manifest.endpoints.keys().cloned().collect();
                return Err(self.error(
                    at,
                    format!(
                        "{what}: provider '{id}' has no endpoint '{}'; its endpoints: {}",
                        name.escape_debug(),
                        known.join(", ")
                    ),
                ));
            }
            None => provider.default_endpoint().unwrap_or_default().to_string(),
        };
        let agent = self.profile.shape;
        let shapes = provider.shapes(Some(&endpoint));
        let shape = if shapes.contains(&agent) {
            agent
        } else if let Some(other) = translatable(agent).filter(|s| shapes.contains(s)) {
            other
        } else {
            let served: Vec<_> = shapes.iter().map(|s| s.as_str()).collect();
            return Err(self.error(
                at,
                format!(
                    "{what}: provider '{id}' serves {} but the agent speaks {agent}; ringlet translates only between anthropic and openai-chat",
                    if served.is_empty() { "nothing".to_string() } else { served.join(", ") }
                ),
            ));
        };
        let base_url = provider
            .base_url(&endpoint, shape)
            .map(str::to_string)
            .ok_or_else(|| {
                self.error(
                    at,
                    format!("{what}: provider '{id}' has no URL for {shape}"),
                )
            })?;
        let key = if manifest.auth.required {
            let alias = t
                .key
                .clone()
                .or_else(|| self.profile.key_alias.clone())
                .ok_or_else(|| {
                    self.error(
                        at,
                        format!(
                            "{what}: provider '{id}' needs a key; name its alias with key = \"…\""
                        ),
                    )
                })?;
            crate::alias::validate_alias(&alias)
                .map_err(|e| self.error(at, format!("{what}: key alias: {e}")))?;
            Some(CredentialKey::new(id.clone(), alias))
        } else {
            None
        };
        if let Some(model) = t.model
            && (model.trim().is_empty() || model.chars().any(char::is_control))
        {
            return Err(self.error(at, format!("{what}: model must be a non-empty name")));
        }
        Ok(Target {
            provider: id.clone(),
            base_url,
            shape,
            model: t.model.clone(),
            key,
            auth: manifest.auth.scheme,
        })
    }

    fn targets(
        &self,
        what: &str,
        first: Written<'_>,
        fallback: &[TargetSpec],
    ) -> Result<Vec<Target>> {
        let mut targets = vec![self.target(what, first)?];
        for (i, f) in fallback.iter().enumerate() {
            targets.push(self.target(&format!("{what}, fallback {}", i + 1), f.into())?);
        }
        Ok(targets)
    }

    /// The profile's own provider, model and key: the default when the file has no `[default]`.
    fn profile_target(&self) -> Result<Target> {
        let p = self.profile;
        let provider = self.catalogue.provider(&p.provider)?;
        let base_url = match &p.endpoint_url {
            Some(url) => url.clone(),
            None => provider
                .base_url(p.endpoint.as_deref().unwrap_or_default(), p.shape)
                .or_else(|| provider.default_endpoint().and_then(|e| provider.base_url(e, p.shape)))
                .map(str::to_string)
                .ok_or_else(|| {
                    Error::InvalidInput(format!(
                        "provider '{}' no longer serves {} at the profile's endpoint; recreate profile '{}'",
                        p.provider, p.shape, p.alias
                    ))
                })?,
        };
        Ok(Target {
            provider: p.provider.clone(),
            base_url,
            shape: p.shape,
            model: None,
            key: p
                .key_alias
                .as_ref()
                .map(|a| CredentialKey::new(p.provider.clone(), a.clone())),
            auth: provider.manifest().auth.scheme,
        })
    }
}

impl RoutePlan {
    /// Parses and checks `text` (the contents of `path`) for `profile`: every provider must be
    /// known and serve the agent's wire shape or the one ringlet translates it to, every
    /// endpoint must exist, every rule must have a condition that can hold, and every provider
    /// that needs a key must have an alias (the target's `key`, else the profile's).
    pub fn from_text(
        catalogue: &Catalogue,
        profile: &Profile,
        path: &Path,
        text: &str,
    ) -> Result<Self> {
        let file = RoutingFile::parse(path, text)?;
        let r = Resolver {
            catalogue,
            profile,
            path,
            text,
        };
        let mut rules = Vec::with_capacity(file.rules.len());
        for (i, rule) in file.rules.iter().enumerate() {
            let what = format!("rule {}", i + 1);
            let when = rule.when.get_ref();
            let at = rule.when.span().start;
            let keys = when.keys();
            if keys.is_empty() {
                return Err(r.error(
                    at,
                    format!("{what}: match is empty; give a condition (tool-use, input-tokens-lt, input-tokens-gt, messages-gt, has-system-prompt, model-equals) or use [default]"),
                ));
            }
            if let (Some(lt), Some(gt)) = (when.input_tokens_lt, when.input_tokens_gt)
                && lt <= gt.saturating_add(1)
            {
                return Err(r.error(
                    at,
                    format!("{what}: input-tokens-lt = {lt} and input-tokens-gt = {gt} can never both hold"),
                ));
            }
            if when.input_tokens_lt == Some(0) {
                return Err(r.error(at, format!("{what}: input-tokens-lt = 0 can never hold")));
            }
            let label = match &rule.name {
                Some(name) => {
                    if name.is_empty()
                        || name.chars().count() > MAX_RULE_NAME
                        || name.chars().any(char::is_control)
                    {
                        return Err(r.error(
                            at,
                            format!("{what}: name must be 1-{MAX_RULE_NAME} printable characters"),
                        ));
                    }
                    name.clone()
                }
                None => keys.join("+"),
            };
            let first = Written {
                to: &rule.to,
                model: &rule.model,
                endpoint: &rule.endpoint,
                key: &rule.key,
            };
            rules.push(Route {
                label,
                when: Some(when.clone()),
                targets: r.targets(&what, first, &rule.fallback)?,
            });
        }
        let default = match &file.default {
            Some(d) => {
                let first = Written {
                    to: &d.to,
                    model: &d.model,
                    endpoint: &d.endpoint,
                    key: &d.key,
                };
                r.targets("[default]", first, &d.fallback)?
            }
            None => vec![r.profile_target()?],
        };
        Ok(Self {
            rules,
            default: Route {
                label: DEFAULT_LABEL.to_string(),
                when: None,
                targets: default,
            },
        })
    }

    /// Reads, parses and checks a `routing.toml` (see [`RoutePlan::from_text`]).
    pub fn load(catalogue: &Catalogue, profile: &Profile, path: &Path) -> Result<Self> {
        let text = crate::fsio::read_file_capped(path, MAX_ROUTING_FILE_BYTES)?;
        Self::from_text(catalogue, profile, path, &text)
    }

    /// The route for a request with these facts: the first rule that matches, else the default.
    pub fn route(&self, facts: &RequestFacts) -> &Route {
        self.rules
            .iter()
            .find(|r| r.when.as_ref().is_some_and(|m| m.matches(facts)))
            .unwrap_or(&self.default)
    }

    /// Whether any rule looks at the body at all (a plan with only a default needs no scan).
    pub fn reads_body(&self) -> bool {
        !self.rules.is_empty()
    }

    /// The route for a request body (see [`RequestFacts::scan`]).
    pub fn route_body(&self, body: &[u8]) -> &Route {
        if !self.reads_body() {
            return &self.default;
        }
        self.route(&RequestFacts::scan(body))
    }

    /// Every credential key the plan's targets use, without repeats.
    pub fn keys(&self) -> Vec<CredentialKey> {
        let mut keys: Vec<CredentialKey> = Vec::new();
        for t in self
            .rules
            .iter()
            .chain([&self.default])
            .flat_map(|r| &r.targets)
        {
            if let Some(k) = &t.key
                && !keys.contains(k)
            {
                keys.push(k.clone());
            }
        }
        keys
    }
}

#[cfg(test)]
mod tests;
