//! The ringlet proxy (docs/proxy.md) with the real agents: each of the six runs a one-shot
//! prompt through it against the fake API. The fake API must see the real key; the agent's
//! processes (their /proc environ, sampled while they run) and its HOME must hold only the
//! run's token; the ledger must hold the fake API's token counts once per response, also after
//! `usage sync` reads the agent's own logs. Then budgets with Claude Code, a wrong token, and
//! the listener's address.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ringlet_tests::harness::Sandbox;
use ringlet_tests::{FakeApi, FakeApiConfig, Usage};

use crate::{agent_bin_dir, agent_sandbox, finish, generations, spawn_run};

/// One agent's case.
struct Case<'a> {
    agent: &'a str,
    provider: &'a str,
    /// OpenAI-shaped base URLs end in /v1.
    v1: bool,
    model: &'a str,
    args: &'a [&'a str],
    /// The per-response usage the ledger must show, in ringlet's buckets: (input, output,
    /// cache_creation, cache_read). The fake API reports the same counts in each shape's own
    /// accounting.
    anthropic_buckets: bool,
}

/// Creates a proxied profile; the key is in the environment of `profiles create` only, so no
/// later ringlet (nor the agent) inherits it.
fn create_proxied(
    sb: &Sandbox,
    case: &Case<'_>,
    alias: &str,
    url: &str,
    key: &str,
    extra: &[&str],
) {
    let mut args = vec![
        "profiles",
        "create",
        case.agent,
        alias,
        "--provider",
        case.provider,
        "--custom-endpoint",
        url,
        "--model",
        case.model,
        "--key-from-env",
        "E2E_PROXY_KEY",
        "--proxy",
        "on",
    ];
    args.extend_from_slice(extra);
    let out = sb
        .command(&args)
        .env("E2E_PROXY_KEY", key)
        .output()
        .expect("ringlet starts");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The environ of every process that belongs to `alias`'s run (the plan sets
/// `RINGLET_PROFILE`, which the agent's children inherit), sampled until `stop`.
fn watch_environs(alias: &str, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<Vec<u8>>> {
    let marker = format!("RINGLET_PROFILE={alias}").into_bytes();
    std::thread::spawn(move || {
        let mut seen: Vec<Vec<u8>> = Vec::new();
        let mut pids = BTreeSet::new();
        while !stop.load(Ordering::Relaxed) {
            if let Ok(entries) = std::fs::read_dir("/proc") {
                for e in entries.flatten() {
                    let name = e.file_name();
                    let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
                        continue;
                    };
                    let Ok(environ) = std::fs::read(e.path().join("environ")) else {
                        continue;
                    };
                    let ours = environ
                        .split(|b| *b == 0)
                        .any(|var| var == marker.as_slice());
                    if ours && pids.insert(pid) {
                        seen.push(environ);
                    } else if ours {
                        // Environments can change (exec): keep the latest too.
                        seen.push(environ);
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(15));
        }
        seen
    })
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Every file below `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_symlink() {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p).is_ok_and(|b| contains(&b, needle)) {
                out.push(p);
            }
        }
    }
    out
}

/// The profile's totals in the ledger: (events, input, output, cache_creation, cache_read).
fn ledger(sb: &Sandbox, alias: &str) -> (u64, u64, u64, u64, u64) {
    let report = sb.run(["usage", "--profile", alias, "--json"]).ok().json();
    let t = &report["total"];
    let n = |k: &str| t[k].as_u64().unwrap_or_else(|| panic!("{k} in {report}"));
    (
        n("events"),
        n("input"),
        n("output"),
        n("cache_creation"),
        n("cache_read"),
    )
}

fn through_the_proxy(case: Case<'_>) {
    let Some(bin_dir) = agent_bin_dir(case.agent) else {
        return;
    };
    let api = FakeApi::start().expect("fake API starts");
    let url = if case.v1 {
        format!("{}/v1", api.base_url())
    } else {
        api.base_url()
    };
    let key = format!("sk-proxy-e2e-{}-real-key-0123456789", case.agent);
    let alias = format!("{}-px", case.agent);
    let sb = agent_sandbox(&bin_dir);
    create_proxied(&sb, &case, &alias, &url, &key, &[]);

    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch_environs(&alias, Arc::clone(&stop));
    let run = finish(spawn_run(&sb, &alias, case.args), &alias);
    stop.store(true, Ordering::Relaxed);
    let environs = watcher.join().expect("watcher");
    assert_eq!(
        run.code,
        0,
        "{} exited {}\nstdout: {}\nstderr: {}\nrequests: {:#?}",
        case.agent,
        run.code,
        run.stdout,
        run.stderr,
        api.requests()
    );
    assert!(
        run.stdout.contains("pong"),
        "{}: {}",
        case.agent,
        run.stdout
    );

    // The provider saw the real key on every request.
    let gens = generations(&api);
    assert!(!gens.is_empty(), "{} sent nothing", case.agent);
    for r in api.requests() {
        assert_eq!(
            r.api_key.as_deref(),
            Some(key.as_str()),
            "{}: {r:?}",
            case.agent
        );
    }

    // The agent's processes held the token, never the key.
    assert!(
        !environs.is_empty(),
        "{}: no process of the run was seen",
        case.agent
    );
    for environ in &environs {
        assert!(
            !contains(environ, &key),
            "{}: the key is in an agent's environment",
            case.agent
        );
    }
    let home = sb.profile_home(&alias);
    assert_eq!(
        files_containing(&home, &key),
        Vec::<std::path::PathBuf>::new(),
        "{}: the key is in its HOME",
        case.agent
    );
    let token_in_env = environs.iter().any(|e| contains(e, "rl-proxy-"));
    let token_in_files = !files_containing(&home, "rl-proxy-").is_empty();
    assert!(
        token_in_env || token_in_files,
        "{}: the agent was not given the run's token",
        case.agent
    );

    // Exactly the fake API's counts, once per response, before and after the logs are re-read.
    let n = gens.iter().filter(|r| r.status == 200).count() as u64;
    let u = Usage::default();
    let want = if case.anthropic_buckets {
        (
            n,
            n * u.input_tokens,
            n * u.output_tokens,
            n * u.cache_creation_input_tokens,
            n * u.cache_read_input_tokens,
        )
    } else {
        (
            n,
            n * u.input_tokens,
            n * u.output_tokens,
            0,
            n * u.cache_read_input_tokens,
        )
    };
    assert_eq!(ledger(&sb, &alias), want, "{} after the run", case.agent);
    sb.run(["usage", "sync"]).ok();
    assert_eq!(ledger(&sb, &alias), want, "{} after usage sync", case.agent);
    let events = sb
        .run(["usage", "--profile", &alias, "--export", "json"])
        .ok()
        .json();
    let origins: Vec<&str> = events
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|e| e["origin"].as_str())
        .collect();
    assert_eq!(
        origins,
        vec!["proxy"; n as usize],
        "{}: every response counted once, from the wire",
        case.agent
    );
}

#[test]
fn claude_code_runs_through_the_proxy() {
    through_the_proxy(Case {
        agent: "claude",
        provider: "anthropic",
        v1: false,
        model: "claude-sonnet-5",
        args: &["-p", "Reply with the word pong."],
        anthropic_buckets: true,
    });
}

#[test]
fn codex_runs_through_the_proxy() {
    through_the_proxy(Case {
        agent: "codex",
        provider: "openai",
        v1: true,
        model: "gpt-5-codex",
        args: &["exec", "--skip-git-repo-check", "Reply with the word pong."],
        anthropic_buckets: false,
    });
}

#[test]
fn opencode_runs_through_the_proxy() {
    through_the_proxy(Case {
        agent: "opencode",
        provider: "openai",
        v1: true,
        model: "gpt-4.1",
        args: &["run", "Reply with the word pong."],
        anthropic_buckets: false,
    });
}

#[test]
fn grok_gets_exact_usage_through_the_proxy() {
    through_the_proxy(Case {
        agent: "grok",
        provider: "xai",
        v1: true,
        model: "grok-code-fast-1",
        args: &["-p", "Reply with the word pong."],
        anthropic_buckets: false,
    });
}

#[test]
fn gemini_runs_through_the_proxy() {
    through_the_proxy(Case {
        agent: "gemini",
        provider: "google",
        v1: false,
        model: "gemini-2.5-flash",
        args: &["-p", "Reply with the word pong."],
        anthropic_buckets: false,
    });
}

#[test]
fn droid_runs_through_the_proxy() {
    through_the_proxy(Case {
        agent: "droid",
        provider: "anthropic",
        v1: false,
        model: "claude-sonnet-5",
        args: &["exec", "Reply with the word pong."],
        anthropic_buckets: true,
    });
}

#[test]
fn a_spent_budget_stops_claude_code_and_fires_the_hook_once() {
    let Some(bin_dir) = agent_bin_dir("claude") else {
        return;
    };
    // Each response costs dollars: the first crosses the $0.01 day budget.
    let api = FakeApi::start_with(FakeApiConfig {
        usage: Usage {
            input_tokens: 1_000_000,
            ..Usage::default()
        },
        ..FakeApiConfig::default()
    })
    .expect("fake API starts");
    let case = Case {
        agent: "claude",
        provider: "anthropic",
        v1: false,
        model: "claude-sonnet-5",
        args: &["-p", "Reply with the word pong."],
        anthropic_buckets: true,
    };
    let sb = agent_sandbox(&bin_dir);
    let alias = "claude-budget";
    create_proxied(
        &sb,
        &case,
        alias,
        &api.base_url(),
        "sk-budget-real-key",
        &["--budget-day", "0.01"],
    );
    let log = sb.root().join("budget-hook.log");
    sb.run([
        "hooks",
        "add",
        alias,
        "--on",
        "cost-threshold",
        "--period",
        "day",
        "--threshold",
        "0.01",
        "--shell",
        &format!(
            r#"echo "$RINGLET_PROFILE $RINGLET_THRESHOLD_USD" >> '{}'"#,
            log.display()
        ),
    ])
    .ok();

    // The first run spends past the budget (a request in flight completes).
    let first = finish(spawn_run(&sb, alias, case.args), alias);
    let sent = api.generation_requests().len();
    assert!(
        sent >= 1,
        "stdout: {}\nstderr: {}",
        first.stdout,
        first.stderr
    );

    // The second is refused before anything reaches the provider, and Claude Code shows why.
    let second = finish(spawn_run(&sb, alias, case.args), alias);
    let shown = format!("{}{}", second.stdout, second.stderr);
    assert!(
        shown.contains("ringlet budget reached") && shown.contains("--budget-day"),
        "Claude Code did not show the refusal\nstdout: {}\nstderr: {}",
        second.stdout,
        second.stderr
    );
    assert_eq!(
        api.generation_requests().len(),
        sent,
        "a request reached the provider after the budget was spent"
    );
    // Detached hooks finish on their own: wait for the line, then a little for a second one.
    for _ in 0..100 {
        if std::fs::read_to_string(&log).is_ok_and(|t| !t.is_empty()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let lines: Vec<String> = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "the hook fired {} times: {lines:?}",
        lines.len()
    );
    assert!(lines[0].starts_with(alias), "{lines:?}");
}

/// A proxy started directly (as the facade does for a run) in front of `api`, for an
/// Anthropic-shaped profile `alias`, recording into `ledger`.
fn bare_proxy(
    api: &FakeApi,
    alias: &str,
    ledger: &Path,
    budgets: Vec<ringlet::proxy::BudgetLimit>,
) -> (ringlet::proxy::ProxyHandle, String) {
    use ringlet::proxy::{
        Attribution, ProxyHandle, ProxySpec, RunToken, UpstreamAuth, UpstreamTarget, UsageSink,
    };
    let token = RunToken::generate().expect("a token");
    let secret = token.secret().expose().to_string();
    let spec = ProxySpec {
        shape: ringlet::WireShape::Anthropic,
        upstream: UpstreamTarget {
            provider: "anthropic".into(),
            base_url: api.base_url(),
            shape: ringlet::WireShape::Anthropic,
            auth: UpstreamAuth::for_shape(
                ringlet::WireShape::Anthropic,
                ringlet::AuthScheme::XApiKey,
                Some(ringlet::Secret::new("sk-the-real-key")),
            ),
        },
        token: Some(token),
        attribution: Attribution {
            profile: alias.into(),
            agent: "claude".into(),
            provider: "anthropic".into(),
            project: None,
        },
        sink: Some(UsageSink {
            store: Arc::new(ringlet::SqliteUsageStore::open(ledger).expect("ledger")),
            prices: Arc::new(ringlet::PriceBook::builtin()),
            on_refusal: None,
        }),
        budgets,
    };
    let listener = ringlet::proxy::bind_loopback(None).expect("a port");
    (ProxyHandle::start(listener, spec).expect("starts"), secret)
}

fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// One non-streamed Messages request through the proxy: (status, body).
fn ask(agent: &ureq::Agent, base: &str, key: &str) -> (u16, serde_json::Value) {
    let mut response = agent
        .post(format!("{base}/v1/messages"))
        .header("x-api-key", key)
        .header("anthropic-version", "2023-06-01")
        .header("content-type", "application/json")
        .send(r#"{"model":"claude-sonnet-5","max_tokens":16,"messages":[{"role":"user","content":"ping"}]}"#)
        .expect("the proxy answers");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    (status, body)
}

#[test]
fn a_wrong_token_gets_401_in_the_providers_shape_and_the_proxy_listens_on_loopback_only() {
    let api = FakeApi::start().expect("fake API");
    let dir = tempfile::tempdir().expect("dir");
    let (proxy, token) = bare_proxy(&api, "p", &dir.path().join("usage.db"), Vec::new());
    assert!(proxy.addr().ip().is_loopback(), "{}", proxy.addr());
    let base = proxy.base_url();
    let agent = client();

    let (status, body) = ask(&agent, &base, "sk-the-real-key");
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "authentication_error");
    let (status, _) = ask(&agent, &base, &format!("{token}x"));
    assert_eq!(status, 401);
    assert!(
        api.requests().is_empty(),
        "a refused request reached the provider"
    );

    let (status, body) = ask(&agent, &base, &token);
    assert_eq!(status, 200, "{body}");
    let seen = api.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].api_key.as_deref(), Some("sk-the-real-key"));
    let report = proxy.stop();
    assert_eq!(report.stats.unauthorized, 2);
    assert_eq!(report.stats.forwarded, 1);
    assert_eq!(report.stats.metered, 1);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[test]
fn two_concurrent_runs_overspend_a_shared_budget_by_at_most_one_request_each() {
    // A response costs about $0.30 (100k input tokens of claude-sonnet-5); the budget is $1.
    let api = FakeApi::start_with(FakeApiConfig {
        usage: Usage {
            input_tokens: 100_000,
            ..Usage::default()
        },
        ..FakeApiConfig::default()
    })
    .expect("fake API");
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("usage.db");
    let limit = ringlet::proxy::BudgetLimit {
        scope: ringlet::proxy::BudgetScope::Profile("shared".into()),
        period: ringlet::Period::Day,
        usd: 1.0,
    };
    let runs: Vec<_> = (0..2)
        .map(|_| bare_proxy(&api, "shared", &db, vec![limit.clone()]))
        .collect();
    // Four clients per run, each asking until refused.
    let mut clients = Vec::new();
    for (proxy, token) in &runs {
        for _ in 0..4 {
            let (base, token) = (proxy.base_url(), token.clone());
            clients.push(std::thread::spawn(move || {
                let agent = client();
                let mut refusals = 0;
                for _ in 0..50 {
                    let (status, body) = ask(&agent, &base, &token);
                    if status == 400 {
                        assert!(
                            body["error"]["message"]
                                .as_str()
                                .is_some_and(|m| m.contains("ringlet budget reached")),
                            "{body}"
                        );
                        refusals += 1;
                        break;
                    }
                    assert_eq!(status, 200, "{body}");
                }
                refusals
            }));
        }
    }
    let refusals: u32 = clients.into_iter().map(|c| c.join().expect("client")).sum();
    assert_eq!(refusals, 8, "every client was refused in the end");
    for (proxy, _) in runs {
        proxy.stop();
    }
    let store = ringlet::SqliteUsageStore::open(&db).expect("ledger");
    use ringlet::UsageStore;
    let events = store
        .events(&ringlet::UsageFilter::new(), None)
        .expect("events");
    let dearest = events
        .iter()
        .filter_map(|e| e.cost_nanos)
        .max()
        .expect("priced");
    let spent: i64 = events.iter().filter_map(|e| e.cost_nanos).sum();
    let limit_nanos = ringlet::NANOS_PER_USD;
    assert!(
        spent >= limit_nanos,
        "spent {spent} stopped short of the budget"
    );
    assert!(
        spent <= limit_nanos + 2 * dearest,
        "spent {spent} nano-dollars: more than one in-flight request ({dearest}) per run over {limit_nanos}"
    );
    assert_eq!(events.len(), api.generation_requests().len());
}
