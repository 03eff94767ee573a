//! A stand-in MCP server (stdio transport) for the MCP tests: it answers `initialize` and
//! `tools/list` (no tools), so an agent's `mcp list` reports it connected, and appends one JSON
//! line to RECORD with the values of the variables named after it, so a test can see which of
//! them reached the server.
//!
//! Usage: `fake-mcp RECORD [VAR…]`

use std::io::{BufRead, Write};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(record) = args.next() else {
        eprintln!("usage: fake-mcp RECORD [VAR…]");
        std::process::exit(2);
    };
    let seen: serde_json::Map<String, serde_json::Value> = args
        .map(|var| {
            let value = std::env::var(&var)
                .ok()
                .map_or(serde_json::Value::Null, Into::into);
            (var, value)
        })
        .collect();
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&record)
    {
        let _ = writeln!(f, "{}", serde_json::Value::Object(seen));
    }
    let stdout = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        // Notifications (no id) need no answer.
        let Some(id) = message.get("id").cloned() else {
            continue;
        };
        let result = match message["method"].as_str() {
            Some("initialize") => serde_json::json!({
                "protocolVersion": message["params"]["protocolVersion"]
                    .as_str()
                    .unwrap_or("2024-11-05"),
                "capabilities": { "tools": {} },
                "serverInfo": { "name": "fake-mcp", "version": "1.0.0" },
            }),
            Some("tools/list") => serde_json::json!({ "tools": [] }),
            _ => serde_json::json!({}),
        };
        let reply = serde_json::json!({ "jsonrpc": "2.0", "id": id, "result": result });
        let mut out = stdout.lock();
        if writeln!(out, "{reply}").and_then(|()| out.flush()).is_err() {
            break;
        }
    }
}
