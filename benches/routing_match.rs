//! The cost of choosing a route for one request: `RoutePlan::route_body` (the skimming scan of
//! `ringlet::proxy::routing::RequestFacts`, then the rules) against the alternative, a full
//! `serde_json::Value` parse of the body and the same facts read from the tree.
//!
//! Usage: cargo bench -p ringlet --features proxy --bench routing_match -- [ROUNDS] [CALLS]
//! Prints one JSON line per body size and method: the median wall-clock and CPU time per request
//! over ROUNDS rounds of CALLS requests, and the throughput.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use ringlet::proxy::routing::RoutePlan;
use ringlet::{MemoryCredentialStore, NewProfile, Ringlet, Secret};
use serde_json::{Value, json};

/// CPU time this thread has used, in nanoseconds (Linux: /proc/thread-self/schedstat); 0
/// elsewhere. CPU time is what other processes on a busy machine disturb least.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A Claude Code turn late in a session: a long system prompt, 20 tools with schemas, and
/// `turns` user/assistant exchanges with tool calls and results.
fn body(turns: usize) -> Vec<u8> {
    let tools: Vec<Value> = (0..20)
        .map(|i| json!({"name": format!("Tool{i}"), "description": "x".repeat(400),
            "input_schema": {"type": "object", "properties": {"command": {"type": "string", "description": "y".repeat(200)}}}}))
        .collect();
    let mut messages = Vec::new();
    for i in 0..turns {
        messages.push(json!({"role": "user", "content": [{"type": "text", "text": format!("step {i}: {}", "please look at this file ".repeat(20))}]}));
        messages.push(json!({"role": "assistant", "content": [
            {"type": "text", "text": "Reading it."},
            {"type": "tool_use", "id": format!("toolu_{i}"), "name": "Read", "input": {"path": format!("src/file{i}.rs")}}]}));
        messages.push(json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": format!("toolu_{i}"),
            "content": "fn main() { println!(\"hello\"); }\n".repeat(40)}]}));
    }
    serde_json::to_vec(&json!({
        "model": "claude-sonnet-4-5", "max_tokens": 32000, "stream": true,
        "system": [{"type": "text", "text": "You are Claude Code. ".repeat(500)}],
        "tools": tools, "messages": messages,
    }))
    .expect("serialises")
}

/// The alternative: the whole body as a tree, then the same facts.
fn facts_by_full_parse(body: &[u8]) -> (Option<String>, bool, u64, bool) {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let messages = v["messages"].as_array().map_or(0, |m| m.len() as u64);
    let tools = v["tools"].as_array().is_some_and(|t| !t.is_empty());
    let system = v.get("system").is_some_and(|s| !s.is_null());
    (
        v["model"].as_str().map(str::to_string),
        tools,
        messages,
        system,
    )
}

fn time(label: &str, size: usize, rounds: usize, calls: usize, mut f: impl FnMut()) {
    for _ in 0..calls.div_ceil(4) {
        f();
    }
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (start, start_cpu) = (Instant::now(), cpu_ns());
        for _ in 0..calls {
            f();
        }
        wall.push(start.elapsed().as_secs_f64() * 1e6 / calls as f64);
        cpu.push(cpu_ns().saturating_sub(start_cpu) as f64 / 1e3 / calls as f64);
    }
    let (wall, cpu) = (median(wall), median(cpu));
    println!(
        "{{\"op\":\"{label}\",\"body_bytes\":{size},\"median_wall_us\":{wall:.2},\"median_cpu_us\":{cpu:.2},\"mb_per_s\":{:.0}}}",
        size as f64 / wall
    );
}

fn main() -> ringlet::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let rounds: usize = args.first().and_then(|v| v.parse().ok()).unwrap_or(9);
    let calls: usize = args.get(1).and_then(|v| v.parse().ok()).unwrap_or(50);

    let home = std::env::temp_dir().join(format!("ringlet-routing-bench-{}", std::process::id()));
    let ringlet = Ringlet::builder()
        .home(&home)
        .credential_store(Arc::new(MemoryCredentialStore::default()))
        .build()?;
    ringlet.create_profile(
        &NewProfile::new("claude", "bench", "anthropic"),
        Some(&Secret::new("sk-bench")),
    )?;
    // The seeds' example, with the token rules first so every request is scanned to the end.
    let rules = r#"
[[rule]]
match = { input-tokens-gt = 100000 }
to = "anthropic"
model = "claude-sonnet-4-5"

[[rule]]
match = { input-tokens-lt = 2000 }
to = "groq"
model = "llama-3.3-70b-versatile"

[[rule]]
match = { tool-use = true, messages-gt = 10 }
to = "anthropic"
model = "claude-sonnet-4-5"

[default]
to = "anthropic"
model = "claude-haiku-4-5"
"#;
    let plan: RoutePlan = ringlet.check_routing("bench", rules, Path::new("bench.toml"))?;

    for turns in [10, 100, 400] {
        let body = body(turns);
        let size = body.len();
        let route = plan.route_body(&body).label.clone();
        eprintln!("{size} bytes, {} messages: routed by '{route}'", turns * 3);
        time("route_body (skim)", size, rounds, calls, || {
            std::hint::black_box(plan.route_body(std::hint::black_box(&body)));
        });
        time("full Value parse", size, rounds, calls, || {
            std::hint::black_box(facts_by_full_parse(std::hint::black_box(&body)));
        });
    }
    let _ = std::fs::remove_dir_all(&home);
    Ok(())
}
