use std::process::ExitCode;

use anyhow::bail;
use ringlet::{CredentialKey, Ringlet};

use crate::cli::KeychainCmd;
use crate::output;
use crate::prompt;

pub fn run(ringlet: &Ringlet, cmd: KeychainCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        KeychainCmd::Set {
            provider,
            alias,
            from_env,
            replace,
        } => {
            let key = CredentialKey::new(provider, alias);
            let secret = match from_env {
                Some(var) => prompt::from_env(&var)?,
                None if prompt::interactive() => prompt::ask(&key)?,
                None => bail!(
                    "no terminal to prompt for the key; pass --from-env VAR with the key in $VAR"
                ),
            };
            ringlet.set_key(&key, &secret, replace)?;
            eprintln!(
                "Stored key {key} ({} backend).",
                ringlet.credentials().backend()
            );
        }
        KeychainCmd::List(j) => {
            let keys = ringlet.list_keys()?;
            if j.json {
                output::json(&keys)?;
            } else {
                for k in &keys {
                    println!("{k}");
                }
            }
        }
        KeychainCmd::Remove { provider, alias } => {
            let key = CredentialKey::new(provider, alias);
            ringlet.remove_key(&key)?;
            eprintln!("Removed key {key}.");
        }
    }
    Ok(ExitCode::SUCCESS)
}
