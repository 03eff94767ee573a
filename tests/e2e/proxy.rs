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
