//! A secret string that cannot be printed by accident and is wiped from memory on drop.

use std::fmt;

use zeroize::Zeroizing;

/// An API key. `Debug` and `Display` print `********`; the value is reachable only through
/// [`Secret::expose`], which makes every use greppable.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The value itself. Call only where the key leaves ringlet: the agent's environment or
    /// its 0600 config file, or the credential store.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty (an empty key is always a mistake).
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(********)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("********")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_formats_the_value() {
        let s = Secret::new("sk-canary-123");
        assert!(!format!("{s} {s:?}").contains("canary"));
    }
}
