//! Base URLs an agent is pointed at, wherever they come from (`--custom-endpoint`, a
//! profile.toml edited by hand, a provider manifest), are parsed as URLs rather than checked by
//! prefix: a prefix check let `http://` through (the agent got `ANTHROPIC_BASE_URL=http:`),
//! along with bad ports, unclosed IPv6 hosts and embedded newlines, and refused an upper-case
//! `HTTP://`.

use url::Url;

use crate::error::shown as echo;

/// Parses `input` as the base URL of a model API: `http` or `https`, with a host, without
/// credentials, query or fragment, without control characters or spaces. Returns it
/// normalised (scheme and host lower-cased, international names in punycode, a default port
/// dropped). The error is one line saying what is wrong and what to do, and never repeats
/// credentials found in the URL.
pub(crate) fn parse(input: &str) -> Result<String, String> {
    let input = input.trim();
    if input.is_empty() {
        return Err("is empty; give an http:// or https:// URL".into());
    }
    // The URL parser would silently drop tabs and newlines, and quote an ESC: a URL that holds
    // one is a mistake (or an attack on a terminal), not a URL.
    if let Some(c) = input.chars().find(|c| c.is_control()) {
        return Err(format!(
            "contains the control character {}; give the URL on one line, as plain text",
            c.escape_debug()
        ));
    }
    if input.chars().any(char::is_whitespace) {
        return Err(format!(
            "'{}' contains a space; spaces in a URL are written %20",
            echo(input)
        ));
    }
    let url = Url::parse(input).map_err(|e| {
        if has_userinfo(input) {
            format!("is not a valid URL ({e})")
        } else {
            format!("'{}' is not a valid URL: {e}", echo(input))
        }
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "must not hold a user name or password (the part before '@'); store the API key with `ringlet keychain set <provider> <alias>` and give the URL without it"
                .into(),
        );
    }
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "'{}' must be an http:// or https:// URL",
            echo(input)
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("'{}' has no host", echo(input)));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "'{}' must not have a query (?…) or fragment (#…): agents append their API paths to a base URL",
            echo(input)
        ));
    }
    Ok(url.as_str().to_string())
}

/// Whether the authority part of a string that failed to parse looks like it holds
/// `user:password@`, so the error must not repeat it.
fn has_userinfo(input: &str) -> bool {
    let rest = input.split_once("://").map_or(input, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises_http_and_https_urls() {
        for (given, parsed) in [
            ("https://api.example.com", "https://api.example.com/"),
            ("HTTP://EXAMPLE.COM/v1/", "http://example.com/v1/"),
            ("  http://127.0.0.1:9/v1  ", "http://127.0.0.1:9/v1"),
            ("https://[::1]:8080/api", "https://[::1]:8080/api"),
            ("https://example.com:443/x", "https://example.com/x"),
            ("http://localhost:11434", "http://localhost:11434/"),
        ] {
            assert_eq!(parse(given).as_deref(), Ok(parsed), "{given}");
        }
    }

    #[test]
    fn refuses_what_is_no_base_url_with_a_reason() {
        for (given, reason) in [
            ("", "is empty"),
            ("http://", "not a valid URL"),
            ("http:", "not a valid URL"),
            ("https://[::1", "not a valid URL"),
            ("http://127.0.0.1:99999/", "invalid port"),
            ("http://exa\nmple.com", "control character \\n"),
            ("http://example.com/\u{1b}[31m", "control character \\u{1b}"),
            ("http://exa mple.com", "contains a space"),
            ("ftp://example.com", "must be an http:// or https:// URL"),
            ("file:///etc/passwd", "must be an http:// or https:// URL"),
            ("example.com", "not a valid URL"),
            ("https://example.com/v1?key=1", "must not have a query"),
            ("https://example.com/#x", "fragment"),
        ] {
            let err = parse(given).expect_err(given);
            assert!(err.contains(reason), "{given:?}: {err}");
            assert!(!err.contains('\n') && !err.contains('\u{1b}'), "{err:?}");
        }
    }

    #[test]
    fn refuses_credentials_without_repeating_them() {
        for given in [
            "https://user:hunter2-secret@example.com/v1",
            "https://hunter2-secret@example.com",
            "https://user:hunter2-secret@[::1/v1",
        ] {
            let err = parse(given).expect_err(given);
            assert!(!err.contains("hunter2"), "{err}");
            assert!(!err.contains("user:"), "{err}");
        }
        let err = parse("https://user:hunter2-secret@example.com").expect_err("credentials");
        assert!(err.contains("ringlet keychain set"), "{err}");
    }

    #[test]
    fn long_input_is_echoed_short() {
        let long = format!("ftp://{}", "a".repeat(100_000));
        let err = parse(&long).expect_err("ftp");
        assert!(err.len() < 200, "{}", err.len());
        assert!(err.contains('…'), "{err}");
    }

    #[test]
    fn every_built_in_provider_endpoint_parses() {
        for (file, text) in crate::catalog::builtin::PROVIDERS {
            let manifest: crate::catalog::provider::ProviderManifest =
                crate::catalog::manifest::parse(std::path::Path::new(file), text).expect(file);
            for (name, urls) in &manifest.endpoints {
                for url in urls.values() {
                    parse(url).unwrap_or_else(|e| panic!("{file} endpoint {name}: {url} {e}"));
                }
            }
        }
    }
}
