//! Validation of profile aliases. An alias names a directory, so anything that could escape the
//! profiles directory, confuse a shell, or hide in a terminal is refused.

use crate::error::{Error, Result};

/// The longest alias accepted, in bytes.
pub const MAX_ALIAS_LEN: usize = 64;

/// Checks that `alias` is safe to use as a profile name and directory.
///
/// Accepted: 1 to [`MAX_ALIAS_LEN`] ASCII letters, digits, `-`, `_` and `.`, not starting with `.`
/// or `-` (so never `..`, a hidden file, or something a CLI would read as a flag).
pub fn validate_alias(alias: &str) -> Result<()> {
    let refuse = |reason| {
        Err(Error::InvalidAlias {
            alias: alias.escape_debug().to_string(),
            reason,
        })
    };
    if alias.is_empty() {
        return refuse("it is empty");
    }
    if alias.len() > MAX_ALIAS_LEN {
        return refuse("it is longer than 64 characters");
    }
    if alias.chars().any(|c| c.is_control()) {
        return refuse("it contains control characters");
    }
    if alias.contains('/') || alias.contains('\\') {
        return refuse("it contains a path separator");
    }
    if alias.starts_with('.') {
        return refuse("it starts with '.'");
    }
    if alias.starts_with('-') {
        return refuse("it starts with '-'");
    }
    if !alias
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return refuse("it contains characters other than letters, digits, '-', '_' and '.'");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_aliases() {
        for ok in ["work", "client-acme", "a", "v1.2_b", &"x".repeat(64)] {
            assert!(validate_alias(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_hostile_aliases() {
        for bad in [
            "",
            "..",
            ".",
            ".hidden",
            "../etc",
            "a/b",
            "a\\b",
            "-rf",
            "a\nb",
            "a\u{1b}[31m",
            "tab\t",
            "sp ace",
            "ünï",
            "$(rm)",
            &"x".repeat(65),
        ] {
            let err = validate_alias(bad).expect_err(bad);
            let msg = err.to_string();
            assert!(!msg.contains('\n') && !msg.contains('\u{1b}'), "{msg:?}");
        }
    }
}
