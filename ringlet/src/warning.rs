//! Warnings: things a frontend should tell the user that are not errors (the command still
//! works). The library never prints; it collects them and [`crate::Ringlet::warnings`] hands
//! them out.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// One thing worth telling the user. `message` is a single line that says why and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// A stable identifier (`credentials_fallback`).
    pub code: String,
    /// One line: what happened, why, and how to change it.
    pub message: String,
}

/// Where parts of the library record warnings; shared by everything a facade owns.
#[derive(Debug, Clone, Default)]
pub(crate) struct Warnings(Arc<Mutex<Vec<Warning>>>);

impl Warnings {
    /// Records a warning once: the same code and message are not repeated.
    pub(crate) fn push(&self, code: &str, message: String) {
        // A poisoned lock only means another thread panicked while pushing; the list is still
        // a valid Vec, so keep using it.
        let mut list = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if !list.iter().any(|w| w.code == code && w.message == message) {
            list.push(Warning {
                code: code.to_string(),
                message,
            });
        }
    }

    /// Every warning recorded so far, oldest first.
    pub(crate) fn all(&self) -> Vec<Warning> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_dropped() {
        let w = Warnings::default();
        w.push("a", "one".into());
        w.push("a", "one".into());
        w.push("a", "two".into());
        assert_eq!(
            w.all()
                .iter()
                .map(|w| w.message.as_str())
                .collect::<Vec<_>>(),
            ["one", "two"]
        );
    }
}
