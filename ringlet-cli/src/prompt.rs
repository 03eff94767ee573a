//! Reading a key from the user or the environment, never echoing it.

use std::io::IsTerminal;

use anyhow::{Context, bail};
use ringlet::{CredentialKey, Secret};

/// Reads the key for `key` from `$VAR`.
pub fn from_env(var: &str) -> anyhow::Result<Secret> {
    let value =
        std::env::var(var).with_context(|| format!("environment variable {var} is not set"))?;
    if value.trim().is_empty() {
        bail!("environment variable {var} is empty");
    }
    Ok(Secret::new(value.trim().to_string()))
}

/// Whether a person is at the terminal to answer a prompt.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks for the key without echo.
pub fn ask(key: &CredentialKey) -> anyhow::Result<Secret> {
    let value = rpassword::prompt_password(format!("API key for {key} (input hidden): "))
        .context("reading the key from the terminal")?;
    if value.trim().is_empty() {
        bail!("no key entered");
    }
    Ok(Secret::new(value.trim().to_string()))
}

/// Asks for a secret (a server's token) without echo, with this prompt.
#[cfg(feature = "server")]
pub fn ask_hidden(prompt: &str) -> anyhow::Result<Secret> {
    let value = rpassword::prompt_password(prompt).context("reading from the terminal")?;
    if value.trim().is_empty() {
        bail!("nothing entered");
    }
    Ok(Secret::new(value.trim().to_string()))
}

/// Asks a yes/no question; anything but y/yes is no.
pub fn confirm(question: &str) -> anyhow::Result<bool> {
    crate::output::err_text(&format!("{question} [y/N] "));
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES"))
}
