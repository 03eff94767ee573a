//! `ringlet-registry`: make a signing key, and publish a registry source tree signed with it
//! (docs/registry.md, "Publishing a registry").
//!
//! ```text
//! ringlet-registry keygen DIR                 # DIR/registry.key (0600) and DIR/registry.pub
//! ringlet-registry publish SRC OUT --key DIR/registry.key --commit ID --serial N [--channel C]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use ringlet_tests::registry::{Commit, Error, Keys, publish};

const USAGE: &str = "usage:
  ringlet-registry keygen DIR
  ringlet-registry publish SRC OUT --key KEYFILE --commit ID --serial N [--channel C]";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ringlet-registry: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<(), Error> {
    match args.first().map(String::as_str) {
        Some("keygen") => {
            let dir = PathBuf::from(args.get(1).ok_or(USAGE)?);
            std::fs::create_dir_all(&dir)?;
            let keys = Keys::generate()?;
            let secret = dir.join("registry.key");
            write_private(&secret, &keys.secret_file()?)?;
            std::fs::write(dir.join("registry.pub"), &keys.public)?;
            println!("{}", keys.public_line());
            eprintln!(
                "wrote {} (keep it secret) and {}",
                secret.display(),
                dir.join("registry.pub").display()
            );
            Ok(())
        }
        Some("publish") => {
            let (mut positional, mut key, mut commit, mut serial, mut channel) =
                (Vec::new(), None, None, None, "stable".to_string());
            let mut it = args.into_iter().skip(1);
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--key" => key = it.next(),
                    "--commit" => commit = it.next(),
                    "--serial" => serial = it.next(),
                    "--channel" => channel = it.next().ok_or(USAGE)?,
                    _ => positional.push(a),
                }
            }
            let [src, out] = <[String; 2]>::try_from(positional).map_err(|_| USAGE)?;
            let key = PathBuf::from(key.ok_or(USAGE)?);
            let secret = std::fs::read_to_string(&key)?;
            let public = std::fs::read_to_string(key.with_extension("pub"))?;
            let keys = Keys::read(&secret, &public)?;
            let commit = commit.ok_or(USAGE)?;
            let serial: u64 = serial.ok_or(USAGE)?.parse()?;
            let index = publish(
                src.as_ref(),
                out.as_ref(),
                &keys,
                &Commit {
                    channel: &channel,
                    commit: &commit,
                    serial,
                },
            )?;
            println!(
                "published commit {} (serial {}) on channel {} with {} artifacts into {out}",
                index.commit,
                index.serial,
                index.channel,
                index.artifacts.len()
            );
            Ok(())
        }
        _ => Err(USAGE.into()),
    }
}

fn write_private(path: &std::path::Path, text: &str) -> Result<(), Error> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).map_err(|e| {
        format!(
            "{}: {e} (an existing key is never overwritten)",
            path.display()
        )
    })?;
    f.write_all(text.as_bytes())?;
    Ok(())
}
