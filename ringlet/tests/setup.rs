//! Export of a setup on one ringlet home and import into another (docs/setup.md): what
//! travels arrives equal, secrets and machine-local state never travel, a second import
//! changes nothing, conflicts stop the import before anything is written, and a write that
//! fails half-way is taken back.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use ringlet::{
    CredentialKey, FileProfileStore, ImportOutcome, MemoryCredentialStore, NewHook, NewProfile,
    Profile, ProfileHold, ProfileListing, ProfileStore, ProfileUpdate, Ringlet, Secret,
    SetupDocument, SetupImportOptions, SetupItemKind,
};

const CANARY: &str = "sk-ant-CANARY-0123456789abcdef";
const ENV_CANARY: &str = "ghp_ENVCANARY42";

fn open(home: &Path, store: Option<Arc<dyn ProfileStore>>) -> Ringlet {
    let mut b = Ringlet::builder()
        .home(home)
        .credential_store(Arc::new(MemoryCredentialStore::default()));
    if let Some(s) = store {
        b = b.profile_store(s);
    }
    b.build().expect("build")
}

/// A home with two profiles (one with hooks, routing, a sandbox mode, tasks and a secret-looking
/// env var), a global hook and routing file, config settings, a remote, run counters and a
/// machine id.
fn populated(home: &Path) -> Ringlet {
    let config = home.join("config");
    std::fs::create_dir_all(&config).expect("mkdir");
    std::fs::write(
        config.join("config.toml"),
        "# my settings\n[sandbox]\nnetwork = \"none\"\n\n[[directory-mapping]]\npath = \"~/Projects/acme\"\nprofile = \"work\"\n",
    )
    .expect("config");
    std::fs::write(config.join("routing.toml"), "# global routing\n[default]\n").expect("routing");
    let r = open(home, None);
    r.create_profile(
        &NewProfile::new("claude", "work", "anthropic").model("claude-sonnet-4-5"),
        Some(&Secret::new(CANARY)),
    )
    .expect("work");
    r.create_profile(&NewProfile::new("codex", "local", "ollama"), None)
        .expect("local");
    r.update_profile(
        "work",
        &ProfileUpdate::new()
            .sandbox_named("always")
            .expect("mode")
            .set_env("RUST_LOG", "info")
            .set_env("GITHUB_TOKEN", ENV_CANARY),
    )
    .expect("update");
    // A task, as a user writes it into profile.toml.
    let manifest = r
        .profile_home("work")
        .expect("home")
        .with_file_name("profile.toml");
    let text = std::fs::read_to_string(&manifest).expect("read");
    let text = text.replace(
        "[metadata]",
        "[tasks.plugins]\ndescription = \"install plugins\"\nrun = \"echo plugins\"\n\n[metadata]",
    );
    std::fs::write(&manifest, text).expect("write");
    std::fs::write(
        manifest.with_file_name("routing.toml"),
        "[[rule]]\nmatch = { tool-use = true }\nto = \"anthropic\"\n",
    )
    .expect("routing");
    r.add_hook(&NewHook {
        profile: Some("work".into()),
        event: "tool-use".into(),
        shell: Some("echo used".into()),
        ..NewHook::default()
    })
    .expect("hook");
    r.add_hook(&NewHook {
        event: "stop".into(),
        shell: Some("echo stopped".into()),
        ..NewHook::default()
    })
    .expect("global hook");
    r.add_remote(
        "box",
        "http://127.0.0.1:8765",
        &Secret::new("remote-TOKEN-canary"),
        false,
    )
    .expect("remote");
    // Machine-local state that must stay behind.
    std::fs::create_dir_all(home.join("data")).expect("mkdir");
    std::fs::write(home.join("data/machine-id"), "MACHINE-ID-CANARY\n").expect("machine id");
    // A registry pinned to a commit (the registry's own lock file, docs/registry.md).
    std::fs::create_dir_all(home.join("cache/registry")).expect("mkdir");
    std::fs::write(
        home.join("cache/registry/registry.lock"),
        r#"{"commit": "c0ffee1", "channel": "stable", "serial": 7, "url": "file:///r", "synced-at": "2026-12-01T00:00:00Z", "pinned": "c0ffee1", "highest-serial": {"stable": 7}}"#,
    )
    .expect("registry lock");
    open(home, None)
}

#[test]
fn a_setup_travels_without_secrets_and_reimports_unchanged() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    let from = populated(a.path());
    from.inner_record_runs();
    let doc = from.export_setup().expect("export");
    let text = serde_json::to_string_pretty(&doc).expect("json");
    for secret in [
        CANARY,
        ENV_CANARY,
        "remote-TOKEN-canary",
        "MACHINE-ID-CANARY",
    ] {
        assert!(
            !text.contains(secret),
            "{secret} leaked into the export:\n{text}"
        );
    }
    for local in ["created_at", "total_runs", "last_used", "metadata"] {
        assert!(!text.contains(local), "{local} is machine-local:\n{text}");
    }
    assert_eq!(doc.profiles.len(), 2);
    let work = doc
        .profiles
        .iter()
        .find(|p| p.alias() == "work")
        .expect("work");
    assert_eq!(work.withheld_env, vec!["GITHUB_TOKEN".to_string()]);
    assert_eq!(work.hooks.len(), 1);
    assert!(
        work.routing
            .as_deref()
            .is_some_and(|r| r.contains("tool-use"))
    );
    assert_eq!(doc.hooks.len(), 1);
    assert_eq!(
        doc.routing.as_deref(),
        Some("# global routing\n[default]\n")
    );
    assert!(doc.config.contains_key("sandbox") && !doc.config.contains_key("remotes"));
    assert_eq!(doc.remotes.len(), 1);
    assert_eq!(doc.registry_pin.as_deref(), Some("c0ffee1"));
    for local in ["synced-at", "highest-serial", "serial"] {
        assert!(
            !text.contains(local),
            "{local} is the registry's machine state"
        );
    }
    let keys: Vec<(&str, &str)> = doc
        .keys
        .iter()
        .map(|k| (k.provider.as_str(), k.alias.as_str()))
        .collect();
    assert_eq!(keys, vec![("anthropic", "work"), ("ringlet-remote", "box")]);

    // Through its text, as a file would carry it.
    let doc = SetupDocument::parse(&text).expect("parses");
    let to = open(b.path(), None);
    let dry = to
        .import_setup(&doc, &SetupImportOptions::new().dry_run(true))
        .expect("dry run");
    assert!(dry.dry_run && dry.count(ImportOutcome::Created) > 0);
    assert!(
        to.profiles().expect("list").is_empty(),
        "a dry run writes nothing"
    );
    assert!(!b.path().join("config/config.toml").exists());

    let report = to
        .import_setup(&doc, &SetupImportOptions::new())
        .expect("import");
    assert_eq!(report.count(ImportOutcome::Unchanged), 0, "{report:#?}");
    let to_set: Vec<(&str, &str)> = report
        .keys_to_set
        .iter()
        .map(|k| (k.provider.as_str(), k.alias.as_str()))
        .collect();
    assert_eq!(
        to_set,
        vec![("anthropic", "work"), ("ringlet-remote", "box")]
    );
    assert_eq!(
        report.keys_to_set[1].remote_url.as_deref(),
        Some("http://127.0.0.1:8765/")
    );
    assert_eq!(report.env_to_set.len(), 1);
    assert_eq!(
        report.registry_pin.as_deref(),
        Some("c0ffee1"),
        "to pin here"
    );
    assert_eq!(report.env_to_set[0].name, "GITHUB_TOKEN");

    // What arrived equals what left (the withheld variable aside).
    let to = open(b.path(), None);
    for alias in ["work", "local"] {
        let (mut x, mut y) = (
            from.profile(alias).expect("a"),
            to.profile(alias).expect("b"),
        );
        x.env.remove("GITHUB_TOKEN");
        x.metadata = y.metadata.clone();
        y.metadata = x.metadata.clone();
        assert_eq!(x, y, "{alias}");
    }
    assert_eq!(to.profile("work").expect("work").tasks.len(), 1);
    assert_eq!(to.hooks().expect("hooks"), from.hooks().expect("hooks"));
    for file in ["config/routing.toml", "data/profiles/work/routing.toml"] {
        assert_eq!(
            std::fs::read_to_string(b.path().join(file)).expect("routing"),
            std::fs::read_to_string(a.path().join(file)).expect("routing"),
            "{file}"
        );
    }
    let config = std::fs::read_to_string(b.path().join("config/config.toml")).expect("config");
    let config: ringlet::Config = toml::from_str(&config).expect("loads");
    assert_eq!(config.sandbox, from_config(a.path()).sandbox);
    assert_eq!(
        config.directory_mapping,
        from_config(a.path()).directory_mapping
    );
    assert_eq!(
        to.remotes().expect("remotes"),
        from.remotes().expect("remotes")
    );
    assert_eq!(to.profile("work").expect("work").metadata.total_runs, 0);
    assert!(!b.path().join("data/machine-id").exists());

    // Again: nothing changes, nothing is created.
    let before = std::fs::read_to_string(b.path().join("config/config.toml")).expect("config");
    let again = to
        .import_setup(&doc, &SetupImportOptions::new())
        .expect("re-import");
    assert_eq!(again.count(ImportOutcome::Created), 0, "{again:#?}");
    assert_eq!(again.count(ImportOutcome::Unchanged), report.items.len());
    assert_eq!(
        std::fs::read_to_string(b.path().join("config/config.toml")).expect("config"),
        before
    );

    // With the key stored, it is no longer listed.
    to.set_key(
        &CredentialKey::new("anthropic", "work"),
        &Secret::new("k"),
        false,
    )
    .expect("set");
    let again = to
        .import_setup(&doc, &SetupImportOptions::new().dry_run(true))
        .expect("dry");
    assert_eq!(again.keys_to_set.len(), 1);
}

fn from_config(home: &Path) -> ringlet::Config {
    toml::from_str(&std::fs::read_to_string(home.join("config/config.toml")).expect("read"))
        .expect("loads")
}

trait RecordRuns {
    fn inner_record_runs(&self);
}

impl RecordRuns for Ringlet {
    /// Counts a run, so the export has run counters to leave out.
    fn inner_record_runs(&self) {
        let store = FileProfileStore::new(self.paths().profiles_dir());
        store.record_run("work", Utc::now()).expect("count");
        assert_eq!(self.profile("work").expect("work").metadata.total_runs, 1);
    }
}

#[test]
fn conflicts_stop_the_import_unless_renamed_or_skipped() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    let doc = populated(a.path()).export_setup().expect("export");
    let to = open(b.path(), None);
    // This machine already has a different `work` and another sandbox network.
    to.create_profile(
        &NewProfile::new("claude", "work", "anthropic"),
        Some(&Secret::new("x")),
    )
    .expect("work");
    std::fs::create_dir_all(b.path().join("config")).expect("mkdir");
    std::fs::write(
        b.path().join("config/config.toml"),
        "[sandbox]\nnetwork = \"shared\"\n",
    )
    .expect("config");
    let to = open(b.path(), None);
    let err = to
        .import_setup(&doc, &SetupImportOptions::new())
        .expect_err("conflicts");
    let msg = err.to_string();
    assert!(
        msg.contains("profile 'work' exists with other settings"),
        "{msg}"
    );
    assert!(
        msg.contains("config key sandbox.network has another value"),
        "{msg}"
    );
    assert!(msg.contains("nothing was imported"), "{msg}");
    assert_eq!(to.profiles().expect("list").len(), 1, "nothing written");
    assert_eq!(to.hooks().expect("hooks").len(), 0, "nothing written");

    // Renamed, the setup's `work` arrives as `work2` with its hooks; the config conflict is
    // kept as this machine's with skip-existing.
    let report = to
        .import_setup(
            &doc,
            &SetupImportOptions::new()
                .rename("work", "work2")
                .skip_existing(true),
        )
        .expect("import");
    let profile = report
        .items
        .iter()
        .find(|i| i.kind == SetupItemKind::Profile && i.name == "work2")
        .expect("renamed");
    assert_eq!(profile.renamed_from.as_deref(), Some("work"));
    assert_eq!(profile.outcome, ImportOutcome::Created);
    let skipped: Vec<&str> = report
        .items
        .iter()
        .filter(|i| i.outcome == ImportOutcome::Skipped)
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(skipped, vec!["sandbox.network"]);
    assert!(to.profile("work2").expect("work2").sandbox.mode == ringlet::SandboxMode::Always);
    assert_eq!(
        to.hooks_for("work2").expect("hooks").len(),
        2,
        "global + its own"
    );
    assert!(
        std::fs::read_to_string(b.path().join("config/config.toml"))
            .expect("config")
            .contains("network = \"shared\"")
    );
    let ours = to.profile("work").expect("ours");
    assert_eq!(ours.sandbox.mode, ringlet::SandboxMode::Remote, "untouched");

    for (options, says) in [
        (
            SetupImportOptions::new().rename("nope", "x"),
            "no profile 'nope'",
        ),
        (
            SetupImportOptions::new().rename("work", "local"),
            "imported as 'local'",
        ),
        (
            SetupImportOptions::new().rename("work", "bad name"),
            "bad name",
        ),
    ] {
        let e = to.import_setup(&doc, &options).expect_err(says);
        assert!(e.to_string().contains(says), "{e}");
    }
}

/// A profile store whose `create` fails for one alias, after the import's checks passed.
#[derive(Debug)]
struct FailingCreate(FileProfileStore, &'static str);

impl ProfileStore for FailingCreate {
    fn list(&self) -> ringlet::Result<ProfileListing> {
        self.0.list()
    }
    fn get(&self, alias: &str) -> ringlet::Result<Profile> {
        self.0.get(alias)
    }
    fn exists(&self, alias: &str) -> ringlet::Result<bool> {
        self.0.exists(alias)
    }
    fn create(&self, profile: &Profile) -> ringlet::Result<()> {
        if profile.alias == self.1 {
            return Err(ringlet::Error::InvalidInput("the disk is full".into()));
        }
        self.0.create(profile)
    }
    fn update(&self, profile: &Profile) -> ringlet::Result<()> {
        self.0.update(profile)
    }
    fn delete(&self, alias: &str) -> ringlet::Result<()> {
        self.0.delete(alias)
    }
    fn hold(&self, alias: &str) -> ringlet::Result<ProfileHold> {
        self.0.hold(alias)
    }
    fn record_run(&self, alias: &str, at: DateTime<Utc>) -> ringlet::Result<()> {
        self.0.record_run(alias, at)
    }
    fn profile_dir(&self, alias: &str) -> std::path::PathBuf {
        self.0.profile_dir(alias)
    }
}

#[test]
fn an_import_failing_half_way_leaves_nothing_behind() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    let doc = populated(a.path()).export_setup().expect("export");
    let store = FailingCreate(
        FileProfileStore::new(b.path().join("data/profiles")),
        "work",
    );
    let to = open(b.path(), Some(Arc::new(store)));
    // `local` sorts first and is created; `work` fails.
    let err = to
        .import_setup(&doc, &SetupImportOptions::new())
        .expect_err("fails");
    assert!(err.to_string().contains("the disk is full"), "{err}");
    assert!(
        to.profiles().expect("list").is_empty(),
        "local was taken back"
    );
    assert!(to.hooks().expect("hooks").is_empty());
    assert!(!b.path().join("config/config.toml").exists());
    assert!(!b.path().join("config/routing.toml").exists());
}
