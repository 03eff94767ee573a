use std::process::ExitCode;

use anyhow::bail;
use ringlet::{CredentialKey, Ringlet};

use crate::cli::KeychainCmd;
use crate::output;
use crate::output::{errln, outln};
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
            errln!(
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
                    outln!("{k}");
                }
            }
        }
        KeychainCmd::Remove { provider, alias } => {
            let key = CredentialKey::new(provider, alias);
            ringlet.remove_key(&key)?;
            errln!(
                "Removed key {key} ({} backend).",
                ringlet.credentials().backend()
            );
        }
        KeychainCmd::Migrate(j) => {
            let report = ringlet.migrate_keys()?;
            let file = ringlet.paths().credentials_file();
            if j.json {
                output::json(&serde_json::json!({
                    "moved": report.moved,
                    "already_present": report.already_present,
                    "conflicts": report.conflicts,
                    "counts": {
                        "moved": report.moved.len(),
                        "already_present": report.already_present.len(),
                        "conflicts": report.conflicts.len(),
                    },
                }))?;
            } else {
                outln!(
                    "Moved {} key(s) from {} into the system keychain; {} were already there; {} conflict(s).",
                    report.moved.len(),
                    file.display(),
                    report.already_present.len(),
                    report.conflicts.len()
                );
                for k in &report.moved {
                    outln!("moved     {k}");
                }
                for k in &report.already_present {
                    outln!("present   {k}");
                }
                for k in &report.conflicts {
                    outln!("conflict  {k}");
                }
            }
            if !report.is_complete() {
                errln!(
                    "The keychain already holds a different key for each conflict, so those stay in {}. To keep the keychain's, delete the entry from that file; to keep the file's, run `ringlet keychain remove <provider> <alias>` and migrate again.",
                    file.display()
                );
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
