//! Removing credentials from an agent's JSON/TOML state before it is copied.

use serde_json::Value;

/// Words that, in a key (case and `_`/`-` ignored), mark its value as a credential.
const SECRET_WORDS: &[&str] = &[
    "apikey",
    "token",
    "secret",
    "password",
    "passwd",
    "credential",
    "oauth",
    "authorization",
    "bearer",
    "privatekey",
    "cookie",
    "session_key",
];

/// Removes from `doc` every value under a secret-looking key (a string, or a table of them —
/// numbers and booleans such as `maxOutputTokens` stay; a string that only refers to an
/// environment variable, `${VAR}` or `{env:VAR}`, stays too) and every `extra` dotted key.
/// Answers the dotted paths removed.
pub fn strip_secrets(doc: &mut Value, extra: &[String]) -> Vec<String> {
    let mut removed = Vec::new();
    for path in extra {
        let (parent, last) = match path.rsplit_once('.') {
            Some((parent, last)) => (
                parent.split('.').try_fold(&mut *doc, |v, k| v.get_mut(k)),
                last,
            ),
            None => (Some(&mut *doc), path.as_str()),
        };
        if let Some(map) = parent.and_then(Value::as_object_mut)
            && map.remove(last).is_some()
        {
            removed.push(path.clone());
        }
    }
    walk(doc, "", &mut removed);
    removed
}

fn walk(value: &mut Value, at: &str, removed: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            let secret: Vec<String> = map
                .iter()
                .filter(|(k, v)| secret_key(k) && holds_secret(v))
                .map(|(k, _)| k.clone())
                .collect();
            for k in secret {
                map.remove(&k);
                removed.push(join(at, &k));
            }
            for (k, v) in map.iter_mut() {
                walk(v, &join(at, k), removed);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                walk(v, &join(at, &i.to_string()), removed);
            }
        }
        _ => {}
    }
}

fn join(at: &str, k: &str) -> String {
    if at.is_empty() {
        k.to_string()
    } else {
        format!("{at}.{k}")
    }
}

fn secret_key(key: &str) -> bool {
    let folded: String = key
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let squashed = folded.replace('_', "");
    SECRET_WORDS
        .iter()
        .any(|w| squashed.contains(&w.replace('_', "")))
}

fn holds_secret(value: &Value) -> bool {
    match value {
        Value::String(s) => !is_reference(s) && !s.is_empty(),
        Value::Object(_) | Value::Array(_) => true,
        _ => false,
    }
}

/// `${VAR}`, `$VAR` or `{env:VAR}`: names a variable, holds no secret.
fn is_reference(s: &str) -> bool {
    let s = s.trim();
    let name = s
        .strip_prefix("${")
        .and_then(|r| r.strip_suffix('}'))
        .or_else(|| s.strip_prefix("{env:").and_then(|r| r.strip_suffix('}')))
        .or_else(|| s.strip_prefix('$'));
    name.is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secret_looking_values_go_and_references_numbers_and_the_rest_stay() {
        let mut doc = json!({
            "primaryApiKey": "sk-ant-1",
            "customApiKeyResponses": {"approved": ["abc"]},
            "maxOutputTokens": 100,
            "theme": "dark",
            "mcpServers": {"gh": {"command": "x", "env": {"GITHUB_TOKEN": "ghp_1", "REF": "$HOME", "K": "{env:OPENAI_API_KEY}"}}},
            "customModels": [{"model": "m", "apiKey": "sk-2", "baseUrl": "http://x"}],
            "model_providers": {"x": {"env_key": "OPENAI_API_KEY", "experimental_bearer_token": "b"}},
            "account": {"userId": "u"},
        });
        let removed = strip_secrets(
            &mut doc,
            &["account".to_string(), "nothing.here".to_string()],
        );
        assert_eq!(
            doc,
            json!({
                "maxOutputTokens": 100,
                "theme": "dark",
                "mcpServers": {"gh": {"command": "x", "env": {"REF": "$HOME", "K": "{env:OPENAI_API_KEY}"}}},
                "customModels": [{"model": "m", "baseUrl": "http://x"}],
                "model_providers": {"x": {"env_key": "OPENAI_API_KEY"}},
            })
        );
        for path in [
            "account",
            "primaryApiKey",
            "customApiKeyResponses",
            "mcpServers.gh.env.GITHUB_TOKEN",
            "customModels.0.apiKey",
            "model_providers.x.experimental_bearer_token",
        ] {
            assert!(
                removed.iter().any(|r| r == path),
                "{path} not in {removed:?}"
            );
        }
    }
}
