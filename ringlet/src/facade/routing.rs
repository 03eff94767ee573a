//! A profile's routing rules (`profiles/<alias>/routing.toml`, docs/proxy.md#routing): read,
//! checked against the catalogue and the profile, installed and removed.

use std::path::{Path, PathBuf};

use crate::alias::validate_alias;
use crate::error::{Error, Result};
use crate::proxy::routing::{MAX_ROUTING_FILE_BYTES, ROUTING_FILE, RoutePlan};

use super::Ringlet;

impl Ringlet {
    /// Where a profile's routing rules are kept (whether or not it has any).
    pub fn routing_file(&self, alias: &str) -> Result<PathBuf> {
        validate_alias(alias)?;
        Ok(self.paths().profiles_dir().join(alias).join(ROUTING_FILE))
    }

    /// The profile's checked routing plan; `None` when it has no `routing.toml`. A file that no
    /// longer checks (a provider removed since) is an error naming the file and line.
    pub fn routing(&self, alias: &str) -> Result<Option<RoutePlan>> {
        let profile = self.profile(alias)?;
        let path = self.routing_file(alias)?;
        if !path.exists() {
            return Ok(None);
        }
        RoutePlan::load(self.catalogue(), &profile, &path).map(Some)
    }

    /// Checks routing rules for a profile without installing them. `origin` names the text in
    /// errors (the file it was read from).
    pub fn check_routing(&self, alias: &str, text: &str, origin: &Path) -> Result<RoutePlan> {
        let profile = self.profile(alias)?;
        if text.len() as u64 > MAX_ROUTING_FILE_BYTES {
            return Err(Error::InvalidInput(format!(
                "{} is larger than {MAX_ROUTING_FILE_BYTES} bytes; routing rules are a few lines",
                origin.display()
            )));
        }
        RoutePlan::from_text(self.catalogue(), &profile, origin, text)
    }

    /// Checks and installs routing rules for a profile (`Some(text)`), or removes them
    /// (`None`). Nothing is written when the rules do not check. Returns the installed plan.
    pub fn set_routing(
        &self,
        alias: &str,
        rules: Option<(&str, &Path)>,
    ) -> Result<Option<RoutePlan>> {
        let path = self.routing_file(alias)?;
        match rules {
            Some((text, origin)) => {
                let plan = self.check_routing(alias, text, origin)?;
                crate::fsio::write_atomic(&path, text.as_bytes(), None)?;
                Ok(Some(plan))
            }
            None => {
                self.profile(alias)?;
                match std::fs::remove_file(&path) {
                    Ok(()) => Ok(None),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(Error::io("removing", &path, e)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use crate::credentials::MemoryCredentialStore;
    use crate::{NewProfile, Ringlet, Secret};

    fn ringlet() -> (tempfile::TempDir, Ringlet) {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = Ringlet::builder()
            .home(dir.path())
            .credential_store(Arc::new(MemoryCredentialStore::default()))
            .build()
            .expect("facade");
        r.create_profile(
            &NewProfile::new("claude", "work", "anthropic").model("claude-sonnet-5"),
            Some(&Secret::new("sk-test")),
        )
        .expect("profile");
        (dir, r)
    }

    #[test]
    fn rules_are_checked_installed_read_and_removed() {
        let (_dir, r) = ringlet();
        assert_eq!(r.routing("work").expect("read"), None);
        let text = "[[rule]]\nmatch = { tool-use = true }\nto = \"groq\"\nmodel = \"llama-3.3-70b-versatile\"\n";
        let plan = r
            .set_routing("work", Some((text, Path::new("mine.toml"))))
            .expect("installed")
            .expect("plan");
        assert_eq!(plan.rules[0].label, "tool-use");
        let path = r.routing_file("work").expect("path");
        assert_eq!(std::fs::read_to_string(&path).expect("written"), text);
        assert_eq!(r.routing("work").expect("read"), Some(plan));
        assert_eq!(r.set_routing("work", None).expect("removed"), None);
        assert!(!path.exists());
        assert_eq!(
            r.set_routing("work", None).expect("removing twice is fine"),
            None
        );
    }

    #[test]
    fn rules_that_do_not_check_are_not_written() {
        let (_dir, r) = ringlet();
        let err = r
            .set_routing(
                "work",
                Some((
                    "[[rule]]\nmatch = { tool-use = true }\nto = \"nope\"\n",
                    Path::new("mine.toml"),
                )),
            )
            .expect_err("refused");
        assert!(
            err.to_string()
                .starts_with("mine.toml:3: rule 1: unknown provider 'nope'"),
            "{err}"
        );
        assert!(!r.routing_file("work").expect("path").exists());
        assert!(
            r.set_routing("nobody", None).is_err(),
            "an unknown profile is an error"
        );
    }
}
