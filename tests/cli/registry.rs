//! `ringlet registry`: a signed registry published into a temp dir and synced over file:// and
//! over http on loopback; pin, offline, a tampered artifact, a bad signature, a rollback, a
//! private registry's key, resolution order, and launches that never wait for a sync.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ringlet_tests::harness::Sandbox;
use ringlet_tests::registry::{Commit, Keys, publish};

/// A registry source tree: one provider (`acme`, model `acme-1`, priced by the feed) and the
/// LiteLLM feed, with `tag` in the provider's name so commits differ.
fn source(dir: &Path, tag: &str) -> PathBuf {
    let src = dir.join(format!("src-{tag}"));
    std::fs::create_dir_all(src.join("providers")).expect("mkdir");
    std::fs::create_dir_all(src.join("pricing")).expect("mkdir");
    std::fs::write(
        src.join("providers/acme.toml"),
        format!(
            "id = \"acme\"\nname = \"Acme {tag}\"\ndefault_endpoint = \"default\"\n\n[endpoints.default]\nanthropic = \"https://api.acme.test/anthropic\"\n\n[auth]\nenv = \"ACME_API_KEY\"\n\n[models]\ndefault = \"acme-1\"\navailable = [\"acme-1\"]\n"
        ),
    )
    .expect("write");
    std::fs::write(
        src.join("pricing/litellm.json"),
        r#"{"acme-1": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "litellm_provider": "acme"}}"#,
    )
    .expect("write");
    src
}

/// A published registry in `<root>/registry`, signed with its own key, and a sandbox whose
/// config.toml trusts that key and points at it.
struct Fixture {
    sb: Sandbox,
    keys: Keys,
    out: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let sb = Sandbox::new();
        let keys = Keys::generate().expect("keys");
        let out = sb.root().join("registry");
        let f = Self { sb, keys, out };
        f.publish("c1", 1, "one");
        let url = url_of(&f.out);
        f.config(&format!(
            "[registry]\nurl = \"{url}\"\npublic-key = \"{}\"\n",
            f.keys.public_line()
        ));
        f
    }

    fn config(&self, text: &str) {
        let dir = self.sb.ringlet_home().join("config");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("config.toml"), text).expect("config");
    }

    fn publish(&self, commit: &str, serial: u64, tag: &str) -> ringlet::RegistryIndex {
        let src = source(self.sb.root(), tag);
        publish(
            &src,
            &self.out,
            &self.keys,
            &Commit {
                channel: "stable",
                commit,
                serial,
            },
        )
        .expect("publish")
    }

    fn sync(&self, extra: &[&str]) -> serde_json::Value {
        let mut args = vec!["registry", "sync", "--json"];
        args.extend_from_slice(extra);
        self.sb.run(args).ok().json()
    }

    fn inspect(&self) -> serde_json::Value {
        self.sb.run(["registry", "inspect", "--json"]).json()
    }

    fn acme_name(&self) -> String {
        let v = self
            .sb
            .run(["providers", "inspect", "acme", "--json"])
            .ok()
            .json();
        v["name"].as_str().expect("name").to_string()
    }
}

fn url_of(dir: &Path) -> String {
    format!("file://{}/", dir.display())
}

#[test]
fn sync_pin_and_offline_from_a_file_registry() {
    let f = Fixture::new();
    let r = f.sync(&[]);
    assert_eq!(r["source"], "network", "{r}");
    assert_eq!(r["commit"], "c1");
    assert_eq!(r["downloaded"], 2);
    // The synced provider is in the catalogue, named as coming from the registry.
    let p =
        f.sb.run(["providers", "inspect", "acme", "--json"])
            .ok()
            .json();
    assert_eq!(p["name"], "Acme one");
    assert_eq!(p["source"]["kind"], "registry", "{p}");
    // Young enough: no second fetch.
    assert_eq!(f.sync(&[])["source"], "cache");

    f.publish("c2", 2, "two");
    let r = f.sync(&["--force"]);
    assert_eq!(
        (r["commit"].as_str(), r["previous"].as_str()),
        (Some("c2"), Some("c1"))
    );
    assert_eq!(
        (r["downloaded"].as_u64(), r["reused"].as_u64()),
        (Some(1), Some(1)),
        "{r}"
    );
    assert_eq!(f.acme_name(), "Acme two");
    let lock: serde_json::Value = serde_json::from_slice(
        &std::fs::read(f.sb.ringlet_home().join("cache/registry/registry.lock")).expect("lock"),
    )
    .expect("json");
    assert_eq!(
        (lock["commit"].as_str(), lock["channel"].as_str()),
        (Some("c2"), Some("stable"))
    );
    assert!(lock["synced-at"].is_string(), "{lock}");

    // Pin to the older commit (still cached): syncs leave it there.
    let r = f.sb.run(["registry", "pin", "c1", "--json"]).ok().json();
    assert_eq!(r["pinned"], "c1");
    assert_eq!(f.acme_name(), "Acme one");
    assert_eq!(f.sync(&["--force"])["source"], "pinned");
    assert_eq!(f.acme_name(), "Acme one");
    let s = f.inspect();
    assert_eq!(
        (s["commit"].as_str(), s["pinned"].as_str()),
        (Some("c1"), Some("c1"))
    );
    assert_eq!(s["verified"], true, "{s}");

    f.sb.run(["registry", "pin", "--unpin"]).ok();
    // Unpinned, the next sync follows the channel without --force.
    assert_eq!(f.sync(&[])["commit"], "c2");

    // Offline: the registry is gone, the snapshot stays in use.
    std::fs::remove_dir_all(&f.out).expect("rm registry");
    let r = f.sync(&["--offline"]);
    assert_eq!(
        (r["source"].as_str(), r["commit"].as_str()),
        (Some("offline"), Some("c2"))
    );
    assert_eq!(f.acme_name(), "Acme two");
    f.sb.run(["registry", "sync", "--force"])
        .fails_with("stays in use");
}

#[test]
fn a_pin_fetches_a_commit_that_was_never_synced() {
    let f = Fixture::new();
    f.publish("c2", 2, "two");
    let r = f.sb.run(["registry", "pin", "c1", "--json"]).ok().json();
    assert_eq!(
        (r["commit"].as_str(), r["downloaded"].as_u64()),
        (Some("c1"), Some(2)),
        "{r}"
    );
    assert_eq!(f.acme_name(), "Acme one");
    f.sb.run(["registry", "pin", "c9"]).fails_with("c9");
}

#[test]
fn a_tampered_artifact_is_refused_and_the_previous_snapshot_stays() {
    let f = Fixture::new();
    f.sync(&[]);
    let index = f.publish("c2", 2, "two");
    let acme = index
        .artifacts
        .iter()
        .find(|a| a.path == "providers/acme.toml")
        .expect("acme");
    // Same size, other content: only the checksum can tell.
    let object = f.out.join("objects").join(&acme.sha256);
    let text = std::fs::read_to_string(&object).expect("object");
    std::fs::write(&object, text.replace("Acme two", "Evil two")).expect("tamper");
    f.sb.run(["registry", "sync", "--force"])
        .fails_with("does not match the signed index");
    assert_eq!(f.inspect()["commit"], "c1");
    assert_eq!(f.acme_name(), "Acme one");

    // A snapshot changed on disk after its sync no longer verifies: inspect says so.
    let synced =
        f.sb.ringlet_home()
            .join("cache/registry/commits/c1/providers/acme.toml");
    std::fs::write(&synced, "id = \"acme\"\n").expect("tamper snapshot");
    let run = f.sb.run(["registry", "inspect", "--json"]);
    assert_ne!(run.code, 0);
    assert!(
        run.json()["problem"]
            .as_str()
            .expect("problem")
            .contains("changed after")
    );
}

#[test]
fn a_bad_signature_is_refused() {
    let f = Fixture::new();
    f.sync(&[]);
    // Signed by another key.
    let other = Keys::generate().expect("keys");
    let src = source(f.sb.root(), "rogue");
    publish(
        &src,
        &f.out,
        &other,
        &Commit {
            channel: "stable",
            commit: "c2",
            serial: 2,
        },
    )
    .expect("publish");
    f.sb.run(["registry", "sync", "--force"])
        .fails_with("does not verify");
    assert_eq!(f.acme_name(), "Acme one");

    // The right key, but the index changed after signing.
    f.publish("c3", 3, "three");
    let head = f.out.join("stable/registry.json");
    let text = std::fs::read_to_string(&head).expect("index");
    std::fs::write(&head, text.replace("\"serial\": 3", "\"serial\": 4")).expect("tamper");
    f.sb.run(["registry", "sync", "--force"])
        .fails_with("does not verify");
    assert_eq!(f.inspect()["commit"], "c1");
}

#[test]
fn a_rollback_to_an_older_signed_index_is_refused() {
    let f = Fixture::new();
    f.publish("c2", 2, "two");
    assert_eq!(f.sync(&[])["commit"], "c2");
    // A mirror replays commit c1's genuine, signed index as the channel head.
    for file in ["registry.json", "registry.json.minisig"] {
        std::fs::copy(
            f.out.join("commits/c1").join(file),
            f.out.join("stable").join(file),
        )
        .expect("replay");
    }
    f.sb.run(["registry", "sync", "--force"])
        .fails_with("rollback");
    assert_eq!(f.acme_name(), "Acme two");
}

#[test]
fn a_user_provider_file_overrides_the_synced_one() {
    let f = Fixture::new();
    f.sync(&[]);
    let dir = f.sb.ringlet_home().join("config/providers.d");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let synced =
        f.sb.ringlet_home()
            .join("cache/registry/commits/c1/providers/acme.toml");
    let text = std::fs::read_to_string(synced).expect("synced");
    std::fs::write(dir.join("acme.toml"), text.replace("Acme one", "Acme mine")).expect("write");
    let p =
        f.sb.run(["providers", "inspect", "acme", "--json"])
            .ok()
            .json();
    assert_eq!(p["name"], "Acme mine");
    assert_eq!(p["source"]["kind"], "file", "{p}");
}

#[test]
fn synced_prices_cost_usage_until_the_user_downloads_a_feed() {
    let f = Fixture::new();
    let before = f.sb.run(["pricing", "show", "--json"]).ok().json();
    f.sync(&[]);
    let after = f.sb.run(["pricing", "show", "--json"]).ok().json();
    assert_eq!(
        after["models"].as_u64().expect("models"),
        before["models"].as_u64().expect("models") + 1,
        "{before} {after}"
    );
}

/// Serves `root` over HTTP/1.1 on loopback: GET only, one request per connection. Counts
/// requests.
fn serve(root: PathBuf) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            let _ = answer(stream, &root);
        }
    });
    (url, hits)
}

fn answer(mut stream: TcpStream, root: &Path) -> std::io::Result<()> {
    let mut line = String::new();
    let mut reader = BufReader::new(stream.try_clone()?);
    reader.read_line(&mut line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/");
    let file = root.join(path.trim_start_matches('/'));
    match std::fs::read(&file) {
        Ok(body) if !path.contains("..") => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            )?;
            stream.write_all(&body)
        }
        _ => write!(
            stream,
            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        ),
    }
}

#[test]
fn a_private_registry_over_http_on_loopback_needs_its_own_key() {
    let f = Fixture::new();
    f.config(""); // only the environment says where and which key
    let (url, hits) = serve(f.out.clone());
    let mut sb = f.sb;
    sb.env("RINGLET_REGISTRY_URL", &url);
    // ringlet's built-in key does not sign this registry.
    sb.run(["registry", "sync"])
        .fails_with("built-in registry key");
    assert!(hits.load(Ordering::SeqCst) >= 1);
    sb.env("RINGLET_REGISTRY_PUBLIC_KEY", f.keys.public_line());
    let r = sb.run(["registry", "sync", "--json"]).ok().json();
    assert_eq!(
        (r["commit"].as_str(), r["url"].as_str()),
        (Some("c1"), Some(url.as_str()))
    );
    let s = sb.run(["registry", "inspect", "--json"]).ok().json();
    assert_eq!(
        (s["verified"].as_bool(), s["key"].as_str()),
        (Some(true), Some("env")),
        "{s}"
    );
    // Plain http elsewhere than loopback is refused before any connection.
    sb.env("RINGLET_REGISTRY_URL", "http://registry.example/");
    sb.run(["registry", "sync", "--force"])
        .fails_with("only on loopback");
}

/// A registry that accepts connections and never answers, counting them.
fn black_hole() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    (url, hits)
}

#[test]
fn a_launch_never_waits_for_nor_starts_a_sync() {
    let f = Fixture::new();
    f.sync(&[]);
    // The snapshot is two days old, and the registry now hangs every request.
    let lock_path = f.sb.ringlet_home().join("cache/registry/registry.lock");
    let mut lock: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&lock_path).expect("lock")).expect("json");
    let old = chrono::Utc::now() - chrono::Duration::hours(48);
    lock["synced-at"] = serde_json::Value::String(old.to_rfc3339());
    std::fs::write(&lock_path, serde_json::to_vec(&lock).expect("json")).expect("write");
    // The last attempt was that sync: two days ago too.
    std::fs::remove_file(f.sb.ringlet_home().join("cache/registry/last-attempt")).expect("rm");
    let (url, hits) = black_hole();
    f.config(&format!(
        "[registry]\nurl = \"{url}\"\npublic-key = \"{}\"\n",
        f.keys.public_line()
    ));
    let mut sb = f.sb;
    sb.env("TEST_KEY", crate::KEY);
    sb.run([
        "profiles",
        "create",
        "claude",
        "work",
        "--provider",
        "anthropic",
        "--key-from-env",
        "TEST_KEY",
        "--binary",
        ringlet_tests::harness::fake_agent_bin()
            .to_str()
            .expect("utf-8"),
    ])
    .ok();
    // `profiles create` was not a launch: it started the background refresh, which hangs on
    // the black hole. Let it connect, then launch while it hangs.
    let deadline = Instant::now() + Duration::from_secs(10);
    while hits.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "the background refresh asked the registry"
    );
    let started = Instant::now();
    sb.run(["profiles", "run", "work", "--", "hello"]).ok();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "the launch took {took:?}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "the launch asked the registry"
    );
    // The hung attempt is recorded: the next commands do not pile up more refreshes.
    sb.run(["profiles", "list"]).ok();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    // And the snapshot in use is the old one, untouched.
    assert_eq!(
        sb.run(["registry", "inspect", "--json"]).json()["commit"],
        "c1"
    );
}

#[test]
fn doctor_fails_on_a_snapshot_changed_after_its_sync() {
    let f = Fixture::new();
    f.sync(&[]);
    let run = f.sb.run(["doctor", "--json"]);
    let registry = |run: &ringlet_tests::harness::Run| {
        run.json()["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["name"] == "registry")
            .expect("registry check")
            .clone()
    };
    assert_eq!(registry(&run)["status"], "ok", "{}", run.stdout);
    let synced =
        f.sb.ringlet_home()
            .join("cache/registry/commits/c1/providers/acme.toml");
    std::fs::write(&synced, "id = \"acme\"\n").expect("tamper");
    let run = f.sb.run(["doctor", "--json"]);
    let c = registry(&run);
    assert_eq!((run.code, c["status"].as_str()), (1, Some("fail")), "{c}");
    assert!(
        c["fix"]
            .as_str()
            .expect("fix")
            .contains("registry sync --force"),
        "{c}"
    );
}

#[test]
fn a_synced_config_script_runs_unless_the_user_has_one() {
    let f = Fixture::new();
    let builtin = std::fs::read_to_string(
        ringlet_tests::repo_root().join("ringlet/assets/scripts/claude.rhai"),
    )
    .expect("built-in script");
    let marked = |who: &str| {
        let text = builtin.replacen(
            "let env = #{",
            &format!("let env = #{{\n        RINGLET_SCRIPT_FROM: \"{who}\","),
            1,
        );
        assert_ne!(
            text, builtin,
            "the built-in script still starts its env map so"
        );
        text
    };
    let src = source(f.sb.root(), "scripted");
    std::fs::create_dir_all(src.join("scripts")).expect("mkdir");
    std::fs::write(src.join("scripts/claude.rhai"), marked("registry")).expect("write");
    publish(
        &src,
        &f.out,
        &f.keys,
        &Commit {
            channel: "stable",
            commit: "c2",
            serial: 2,
        },
    )
    .expect("publish");
    let mut sb = f.sb;
    sb.env("TEST_KEY", crate::KEY);
    sb.run([
        "profiles",
        "create",
        "claude",
        "work",
        "--provider",
        "anthropic",
        "--key-from-env",
        "TEST_KEY",
    ])
    .ok();
    let from = |sb: &Sandbox| {
        let plan = sb.run(["profiles", "env", "work", "--json"]).ok().json();
        plan.to_string()
    };
    assert!(
        !from(&sb).contains("RINGLET_SCRIPT_FROM"),
        "built-in before a sync"
    );
    sb.run(["registry", "sync"]).ok();
    assert!(from(&sb).contains(r#""registry""#), "{}", from(&sb));
    let user = sb.ringlet_home().join("config/scripts/claude.rhai");
    std::fs::create_dir_all(user.parent().expect("parent")).expect("mkdir");
    std::fs::write(&user, marked("user")).expect("write");
    let plan = from(&sb);
    assert!(
        plan.contains(r#""user""#) && !plan.contains(r#""registry""#),
        "{plan}"
    );
}
