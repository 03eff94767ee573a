//! The ringlet proxy's overhead (docs/performance.md, "Proxy"): the fake API (tests/src/fake_api)
//! as the provider, the proxy in a process of its own (this program re-executed as
//! `proxy UPSTREAM LEDGER`, which runs a `ProxyHandle` as a proxied run does: token check,
//! usage tap, ledger), and a client on loopback.
//!
//! 1. Added latency per request at 200 req/s, non-streamed and streamed (SSE): each request is
//!    sent once straight to the fake API and once through the proxy, alternately, on an
//!    open-loop schedule; p50 and p99 of each, and their differences.
//! 2. Time to first byte of a stream, straight and through the proxy.
//! 3. The proxy process's RSS idle and its peak with 20 concurrent streams.
//! 4. With `LITELLM=path/to/litellm`, LiteLLM's proxy on the same fake API in the same run.
//!
//! Usage: cargo bench -p ringlet-tests --bench proxy -- [REQUESTS=2000]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ringlet::proxy::{
    Attribution, ProxyHandle, ProxySpec, RunToken, UpstreamAuth, UpstreamTarget, UsageSink,
};
use ringlet_tests::FakeApi;

const KEY: &str = "sk-bench-real-key";
const TOKEN: &str = "rl-proxy-bench-token";
const BODY: &str =
    r#"{"model":"claude-sonnet-5","max_tokens":16,"messages":[{"role":"user","content":"ping"}]}"#;
const STREAM_BODY: &str = r#"{"model":"claude-sonnet-5","max_tokens":16,"stream":true,"messages":[{"role":"user","content":"ping"}]}"#;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("proxy") {
        serve(&args[1], &args[2]);
        return;
    }
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let api = FakeApi::start().expect("fake API");
    let dir = tempfile::tempdir().expect("tempdir");
    let proxy = Proxy::start(&api.base_url(), &dir.path().join("usage.db"));
    let idle_kb = rss_kb(proxy.child.id(), "VmRSS");
    println!("proxy RSS idle: {} KiB", idle_kb);

    let litellm = std::env::var("LITELLM")
        .ok()
        .map(|bin| LiteLlm::start(&bin, &api.base_url(), dir.path()));
    for (name, body) in [("non-streamed", BODY), ("streamed", STREAM_BODY)] {
        latency(
            name,
            body,
            n,
            &api.base_url(),
            &proxy.url,
            litellm.as_ref().map(|l| l.url.as_str()),
        );
    }
    ttfb(&api.base_url(), &proxy.url, n.min(500));
    concurrent_streams(&proxy, 20, 50);
    println!(
        "proxy RSS peak (VmHWM) after 20 concurrent streams: {} KiB",
        rss_kb(proxy.child.id(), "VmHWM")
    );
    proxy.stop();
}

/// The proxy process.
fn serve(upstream: &str, ledger: &str) {
    let spec = ProxySpec {
        shape: ringlet::WireShape::Anthropic,
        upstream: UpstreamTarget {
            provider: "anthropic".into(),
            base_url: upstream.into(),
            shape: ringlet::WireShape::Anthropic,
            auth: UpstreamAuth::for_shape(
                ringlet::WireShape::Anthropic,
                ringlet::AuthScheme::XApiKey,
                Some(ringlet::Secret::new(KEY)),
            ),
        },
        token: Some(RunToken::from_secret(ringlet::Secret::new(TOKEN))),
        attribution: Attribution {
            profile: "bench".into(),
            agent: "claude".into(),
            provider: "anthropic".into(),
            project: None,
        },
        sink: Some(UsageSink {
            store: Arc::new(ringlet::SqliteUsageStore::open(ledger).expect("ledger")),
            prices: Arc::new(ringlet::PriceBook::builtin()),
            on_refusal: None,
        }),
        budgets: Vec::new(),
    };
    let listener = ringlet::proxy::bind_loopback(None).expect("a port");
    let handle = ProxyHandle::start(listener, spec).expect("proxy");
    println!("{}", handle.base_url());
    // Until the parent closes stdin.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    let report = handle.stop();
    eprintln!("{:?}", report.stats);
}

struct Proxy {
    child: Child,
    url: String,
}

impl Proxy {
    fn start(upstream: &str, ledger: &std::path::Path) -> Proxy {
        let mut child = Command::new(std::env::current_exe().expect("exe"))
            .arg("proxy")
            .arg(upstream)
            .arg(ledger)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("proxy process");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("its URL");
        Proxy {
            child,
            url: line.trim().to_string(),
        }
    }

    fn stop(mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// LiteLLM's proxy (`litellm --config`), routing `claude-sonnet-5` to the fake API.
struct LiteLlm {
    child: Child,
    url: String,
}

impl LiteLlm {
    fn start(bin: &str, upstream: &str, dir: &std::path::Path) -> LiteLlm {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a port")
            .port();
        let config = dir.join("litellm.yaml");
        std::fs::write(
            &config,
            format!(
                "model_list:\n  - model_name: claude-sonnet-5\n    litellm_params:\n      model: anthropic/claude-sonnet-5\n      api_base: {upstream}\n      api_key: {KEY}\n"
            ),
        )
        .expect("config");
        let child = Command::new(bin)
            .args([
                "--config",
                &config.to_string_lossy(),
                "--port",
                &port.to_string(),
            ])
            .env("LITELLM_LOG", "ERROR")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("litellm");
        let url = format!("http://127.0.0.1:{port}");
        let agent = agent();
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if agent.get(format!("{url}/health/liveliness")).call().is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        LiteLlm { child, url }
    }
}

impl Drop for LiteLlm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// One request; the time to its whole body.
fn request(agent: &ureq::Agent, base: &str, key: &str, body: &str) -> Duration {
    let t = Instant::now();
    let mut response = agent
        .post(format!("{base}/v1/messages"))
        .header("x-api-key", key)
        .header("authorization", format!("Bearer {key}"))
        .header("anthropic-version", "2023-06-01")
        .header("content-type", "application/json")
        .send(body)
        .expect("an answer");
    let _ = response.body_mut().read_to_vec();
    assert_eq!(response.status().as_u16(), 200, "{base}");
    t.elapsed()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `n` requests each way at 200 req/s (one every 5 ms, straight and proxied alternately).
fn latency(name: &str, body: &str, n: usize, direct: &str, proxied: &str, litellm: Option<&str>) {
    let agent = agent();
    // Warm the connections (and the proxy's pool).
    for _ in 0..20 {
        request(&agent, direct, KEY, body);
        request(&agent, proxied, TOKEN, body);
        if let Some(l) = litellm {
            request(&agent, l, KEY, body);
        }
    }
    let mut a = Vec::with_capacity(n);
    let mut b = Vec::with_capacity(n);
    let mut c = Vec::with_capacity(n);
    let start = Instant::now();
    let interval = Duration::from_millis(5);
    for i in 0..n {
        let due = start + interval * i as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        if i % 2 == 0 {
            a.push(request(&agent, direct, KEY, body));
            b.push(request(&agent, proxied, TOKEN, body));
        } else {
            b.push(request(&agent, proxied, TOKEN, body));
            a.push(request(&agent, direct, KEY, body));
        }
        if let Some(l) = litellm {
            c.push(request(&agent, l, KEY, body));
        }
    }
    for v in [&mut a, &mut b, &mut c] {
        v.sort();
    }
    let (a50, a99) = (percentile(&a, 0.5), percentile(&a, 0.99));
    let (b50, b99) = (percentile(&b, 0.5), percentile(&b, 0.99));
    println!(
        "{name}, {n} requests at 200 req/s: direct p50 {:.3} ms p99 {:.3} ms | proxy p50 {:.3} ms p99 {:.3} ms | added p50 {:.3} ms p99 {:.3} ms",
        ms(a50),
        ms(a99),
        ms(b50),
        ms(b99),
        ms(b50) - ms(a50),
        ms(b99) - ms(a99)
    );
    if !c.is_empty() {
        let (c50, c99) = (percentile(&c, 0.5), percentile(&c, 0.99));
        println!(
            "{name}: litellm p50 {:.3} ms p99 {:.3} ms | added p50 {:.3} ms p99 {:.3} ms",
            ms(c50),
            ms(c99),
            ms(c50) - ms(a50),
            ms(c99) - ms(a99)
        );
    }
}

/// Time to the first byte of a stream's body, straight and proxied.
fn ttfb(direct: &str, proxied: &str, n: usize) {
    let agent = agent();
    let first = |base: &str, key: &str| {
        let t = Instant::now();
        let mut response = agent
            .post(format!("{base}/v1/messages"))
            .header("x-api-key", key)
            .header("anthropic-version", "2023-06-01")
            .header("content-type", "application/json")
            .send(STREAM_BODY)
            .expect("an answer");
        let mut reader = response.body_mut().as_reader();
        let mut byte = [0u8; 1];
        reader.read_exact(&mut byte).expect("a first byte");
        let took = t.elapsed();
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
        took
    };
    let mut a = Vec::new();
    let mut b = Vec::new();
    for _ in 0..n {
        a.push(first(direct, KEY));
        b.push(first(proxied, TOKEN));
    }
    a.sort();
    b.sort();
    println!(
        "stream TTFB, {n} each: direct p50 {:.3} ms | proxy p50 {:.3} ms | added p50 {:.3} ms (p99 added {:.3} ms)",
        ms(percentile(&a, 0.5)),
        ms(percentile(&b, 0.5)),
        ms(percentile(&b, 0.5)) - ms(percentile(&a, 0.5)),
        ms(percentile(&b, 0.99)) - ms(percentile(&a, 0.99))
    );
}

/// `streams` clients at once, each sending `each` streamed requests through the proxy.
fn concurrent_streams(proxy: &Proxy, streams: usize, each: usize) {
    let barrier = Arc::new(std::sync::Barrier::new(streams));
    let t = Instant::now();
    let clients: Vec<_> = (0..streams)
        .map(|_| {
            let (url, barrier) = (proxy.url.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let agent = agent();
                barrier.wait();
                for _ in 0..each {
                    request(&agent, &url, TOKEN, STREAM_BODY);
                }
            })
        })
        .collect();
    for c in clients {
        c.join().expect("client");
    }
    println!(
        "{streams} concurrent streams x {each}: {:.0} streams/s",
        (streams * each) as f64 / t.elapsed().as_secs_f64()
    );
}

/// A line of /proc/PID/status, in KiB.
fn rss_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
