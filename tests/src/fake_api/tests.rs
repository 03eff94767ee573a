//! Tests of the fake API over real HTTP, with a minimal HTTP/1.1 client on `std::net` (keeps
//! the dependency list short, and shows the bytes an agent would see).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{Value, json};

use super::*;

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: BTreeMap<String, String>,
    body: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("response body is JSON")
    }
}

/// Sends one request with `Connection: close` and reads the whole answer.
fn http(
    api: &FakeApi,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Resp {
    let mut stream = TcpStream::connect(api.addr()).expect("connect to fake API");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set timeout");
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut req = format!(
        "{method} {target} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        api.addr(),
        body.len()
    );
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    stream.write_all(req.as_bytes()).expect("send request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    let raw = String::from_utf8(raw).expect("utf-8 response");
    let (head, rest) = raw.split_once("\r\n\r\n").expect("header/body separator");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let body = if headers.get("transfer-encoding").map(String::as_str) == Some("chunked") {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = s.split_once("\r\n").expect("chunk size line");
        let size = usize::from_str_radix(size.trim(), 16).expect("hex chunk size");
        if size == 0 {
            return out;
        }
        out.push_str(&rest[..size]);
        s = &rest[size + 2..];
    }
}

/// Parses an SSE body into (event name, data) pairs; `[DONE]` comes back as a JSON string.
fn sse_events(body: &str) -> Vec<(Option<String>, Value)> {
    body.split("\n\n")
        .filter(|frame| !frame.trim().is_empty())
        .map(|frame| {
            let mut name = None;
            let mut data = String::new();
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("event: ") {
                    name = Some(v.to_string());
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data.push_str(v);
                }
            }
            let data = serde_json::from_str(&data).unwrap_or(Value::String(data));
            (name, data)
        })
        .collect()
}

fn names(events: &[(Option<String>, Value)]) -> Vec<&str> {
    events.iter().filter_map(|(n, _)| n.as_deref()).collect()
}

fn start() -> FakeApi {
    FakeApi::start().expect("start fake API")
}

// ---------------------------------------------------------------- Anthropic

#[test]
fn anthropic_streaming_text() {
    let api = start();
    let resp = http(
        &api,
        "POST",
        "/v1/messages?beta=true",
        &[
            ("x-api-key", "sk-ant-test"),
            ("anthropic-version", "2023-06-01"),
        ],
        Some(
            &json!({"model": "claude-x", "stream": true, "max_tokens": 10, "messages": [{"role": "user", "content": "ping"}]}),
        ),
    );
    assert_eq!(resp.status, 200);
    assert!(resp.headers["content-type"].starts_with("text/event-stream"));
    let events = sse_events(&resp.body);
    assert_eq!(
        names(&events),
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    for (name, data) in &events {
        assert_eq!(
            data["type"].as_str(),
            name.as_deref(),
            "event name matches data.type"
        );
    }
    let start_msg = &events[0].1["message"];
    assert_eq!(start_msg["model"], "claude-x");
    assert_eq!(start_msg["usage"]["input_tokens"], 11);
    assert_eq!(start_msg["usage"]["cache_creation_input_tokens"], 5);
    assert_eq!(start_msg["usage"]["cache_read_input_tokens"], 7);
    assert_eq!(
        events[3].1["delta"],
        json!({"type": "text_delta", "text": "pong"})
    );
    assert_eq!(events[5].1["delta"]["stop_reason"], "end_turn");
    assert_eq!(events[5].1["usage"]["output_tokens"], 3);

    let reqs = api.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.shape, WireShape::AnthropicMessages);
    assert_eq!(r.path, "/v1/messages");
    assert_eq!(r.query.as_deref(), Some("beta=true"));
    assert_eq!(r.path_and_query(), "/v1/messages?beta=true");
    assert_eq!(r.api_key.as_deref(), Some("sk-ant-test"));
    assert_eq!(r.model.as_deref(), Some("claude-x"));
    assert_eq!(r.header("Anthropic-Version"), Some("2023-06-01"));
    assert_eq!(r.body["messages"][0]["content"], "ping");
    assert!(r.streamed);
    assert_eq!(r.status, 200);
}

#[test]
fn anthropic_non_streaming_and_count_tokens() {
    let api = start();
    let resp = http(
        &api,
        "POST",
        "/v1/messages",
        &[("authorization", "Bearer tok-1")],
        Some(&json!({"model": "m", "max_tokens": 10, "messages": []})),
    );
    let body = resp.json();
    assert_eq!(body["type"], "message");
    assert_eq!(body["content"][0], json!({"type": "text", "text": "pong"}));
    assert_eq!(body["stop_reason"], "end_turn");
    assert_eq!(body["usage"]["output_tokens"], 3);

    let resp = http(
        &api,
        "POST",
        "/v1/messages/count_tokens",
        &[],
        Some(&json!({"model": "m", "messages": []})),
    );
    assert_eq!(resp.json(), json!({"input_tokens": 11}));

    let reqs = api.requests();
    assert_eq!(reqs[0].api_key.as_deref(), Some("tok-1"));
    assert!(!reqs[0].streamed);
    assert_eq!(reqs[1].shape, WireShape::AnthropicCountTokens);
    assert!(!reqs[1].is_generation());
}

#[test]
fn anthropic_tool_use_then_default() {
    let api = start();
    api.push_reply(Reply::ToolUse {
        name: "Bash".into(),
        input: json!({"command": "echo hi"}),
    });
    let req = json!({"model": "m", "stream": true, "messages": []});
    let events = sse_events(&http(&api, "POST", "/v1/messages", &[], Some(&req)).body);
    let block = &events[1].1["content_block"];
    assert_eq!(block["type"], "tool_use");
    assert_eq!(block["name"], "Bash");
    assert!(
        block["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("toolu_"))
    );
    let partial = events[3].1["delta"]["partial_json"]
        .as_str()
        .expect("partial_json string");
    assert_eq!(
        serde_json::from_str::<Value>(partial).expect("partial_json is JSON"),
        json!({"command": "echo hi"})
    );
    assert_eq!(events[5].1["delta"]["stop_reason"], "tool_use");
    assert_eq!(api.pending_replies(), 0);

    // The follow-up (carrying the tool result) falls back to the default text.
    let events = sse_events(&http(&api, "POST", "/v1/messages", &[], Some(&req)).body);
    assert_eq!(events[3].1["delta"]["text"], "pong");

    // Non-streaming tool use.
    api.push_reply(Reply::ToolUse {
        name: "Read".into(),
        input: json!({"file_path": "/x"}),
    });
    let body = http(
        &api,
        "POST",
        "/v1/messages",
        &[],
        Some(&json!({"model": "m"})),
    )
    .json();
    assert_eq!(body["content"][0]["input"], json!({"file_path": "/x"}));
    assert_eq!(body["stop_reason"], "tool_use");
}

// ---------------------------------------------------------------- OpenAI Responses

#[test]
fn responses_streaming_text() {
    let api = start();
    let resp = http(
        &api,
        "POST",
        "/v1/responses",
        &[("authorization", "Bearer sk-openai")],
        Some(&json!({"model": "gpt-x", "stream": true, "input": []})),
    );
    assert_eq!(resp.status, 200);
    let events = sse_events(&resp.body);
    assert_eq!(
        names(&events),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    for (i, (name, data)) in events.iter().enumerate() {
        assert_eq!(data["type"].as_str(), name.as_deref());
        assert_eq!(data["sequence_number"], i);
    }
    let text: String = events
        .iter()
        .filter(|(n, _)| n.as_deref() == Some("response.output_text.delta"))
        .filter_map(|(_, d)| d["delta"].as_str())
        .collect();
    assert_eq!(text, "pong");
    let done = &events[8].1["response"];
    assert_eq!(done["status"], "completed");
    assert_eq!(done["model"], "gpt-x");
    assert_eq!(done["output"][0]["content"][0]["text"], "pong");
    assert_eq!(
        done["usage"],
        json!({
            "input_tokens": 18,
            "input_tokens_details": {"cached_tokens": 7},
            "output_tokens": 3,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 21
        })
    );
    let r = &api.requests()[0];
    assert_eq!(r.shape, WireShape::OpenAiResponses);
    assert_eq!(r.api_key.as_deref(), Some("sk-openai"));
    assert_eq!(r.model.as_deref(), Some("gpt-x"));
}

#[test]
fn responses_tool_call_and_non_streaming() {
    let api = start();
    api.push_reply(Reply::ToolUse {
        name: "shell".into(),
        input: json!({"command": ["ls"]}),
    });
    let events = sse_events(
        &http(
            &api,
            "POST",
            "/v1/responses",
            &[],
            Some(&json!({"model": "m", "stream": true})),
        )
        .body,
    );
    assert!(names(&events).contains(&"response.function_call_arguments.delta"));
    let item = &events
        .iter()
        .find(|(n, _)| n.as_deref() == Some("response.output_item.done"))
        .expect("output_item.done")
        .1["item"];
    assert_eq!(item["type"], "function_call");
    assert_eq!(item["name"], "shell");
    assert!(item["call_id"].is_string());
    let args: Value =
        serde_json::from_str(item["arguments"].as_str().expect("arguments string")).expect("json");
    assert_eq!(args, json!({"command": ["ls"]}));

    let body = http(
        &api,
        "POST",
        "/v1/responses",
        &[],
        Some(&json!({"model": "m"})),
    )
    .json();
    assert_eq!(body["object"], "response");
    assert_eq!(body["output"][0]["content"][0]["text"], "pong");
    assert_eq!(body["usage"]["input_tokens_details"]["cached_tokens"], 7);
}

// ---------------------------------------------------------------- Chat Completions

#[test]
fn chat_streaming_with_and_without_usage() {
    let api = start();
    let req = json!({"model": "grok-x", "stream": true, "stream_options": {"include_usage": true}, "messages": []});
    let resp = http(
        &api,
        "POST",
        "/v1/chat/completions",
        &[("authorization", "Bearer xai-key")],
        Some(&req),
    );
    let events = sse_events(&resp.body);
    assert_eq!(events.last().map(|e| &e.1), Some(&json!("[DONE]")));
    let text: String = events
        .iter()
        .filter_map(|(_, d)| {
            d.pointer("/choices/0/delta/content")?
                .as_str()
                .map(String::from)
        })
        .collect();
    assert_eq!(text, "pong");
    let finish: Vec<&str> = events
        .iter()
        .filter_map(|(_, d)| d.pointer("/choices/0/finish_reason")?.as_str())
        .collect();
    assert_eq!(finish, ["stop"]);
    let usage_chunk = &events[events.len() - 2].1;
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(usage_chunk["usage"]["prompt_tokens"], 18);
    assert_eq!(usage_chunk["usage"]["completion_tokens"], 3);
    assert_eq!(
        usage_chunk["usage"]["prompt_tokens_details"]["cached_tokens"],
        7
    );

    let no_usage = json!({"model": "m", "stream": true, "messages": []});
    let events = sse_events(&http(&api, "POST", "/v1/chat/completions", &[], Some(&no_usage)).body);
    assert!(events.iter().all(|(_, d)| d.get("usage").is_none()));

    let r = &api.requests()[0];
    assert_eq!(r.shape, WireShape::OpenAiChatCompletions);
    assert_eq!(r.api_key.as_deref(), Some("xai-key"));
    assert_eq!(r.model.as_deref(), Some("grok-x"));
}

#[test]
fn chat_non_streaming_text_and_tool_call() {
    let api = start();
    api.push_reply(Reply::ToolUse {
        name: "view_file".into(),
        input: json!({"path": "a.txt"}),
    });
    let req = json!({"model": "m", "messages": []});
    let body = http(&api, "POST", "/v1/chat/completions", &[], Some(&req)).json();
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
    let call = &body["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "view_file");
    assert_eq!(
        call["function"]["arguments"],
        json!({"path": "a.txt"}).to_string()
    );

    let body = http(&api, "POST", "/v1/chat/completions", &[], Some(&req)).json();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["message"]["content"], "pong");
    assert_eq!(body["usage"]["total_tokens"], 21);

    // Streamed tool call arrives as a tool_calls delta with an index.
    api.push_reply(Reply::ToolUse {
        name: "t".into(),
        input: json!({}),
    });
    let stream_req = json!({"model": "m", "stream": true});
    let events =
        sse_events(&http(&api, "POST", "/v1/chat/completions", &[], Some(&stream_req)).body);
    let call = events
        .iter()
        .find_map(|(_, d)| d.pointer("/choices/0/delta/tool_calls/0"))
        .expect("tool call delta");
    assert_eq!(call["index"], 0);
    assert_eq!(call["function"]["name"], "t");
}

// ---------------------------------------------------------------- Gemini

#[test]
fn gemini_streaming_sse() {
    let api = start();
    let resp = http(
        &api,
        "POST",
        "/v1beta/models/gemini-x:streamGenerateContent?alt=sse",
        &[("x-goog-api-key", "AIza-test")],
        Some(&json!({"contents": [{"role": "user", "parts": [{"text": "ping"}]}]})),
    );
    assert_eq!(resp.status, 200);
    assert!(resp.headers["content-type"].starts_with("text/event-stream"));
    let events = sse_events(&resp.body);
    assert_eq!(events.len(), 1);
    let chunk = &events[0].1;
    assert_eq!(
        chunk["candidates"][0]["content"]["parts"][0]["text"],
        "pong"
    );
    assert_eq!(chunk["candidates"][0]["finishReason"], "STOP");
    assert_eq!(chunk["usageMetadata"]["promptTokenCount"], 18);
    assert_eq!(chunk["usageMetadata"]["cachedContentTokenCount"], 7);
    assert_eq!(chunk["usageMetadata"]["candidatesTokenCount"], 3);
    assert_eq!(chunk["usageMetadata"]["totalTokenCount"], 21);

    let r = &api.requests()[0];
    assert_eq!(r.shape, WireShape::GeminiStreamGenerateContent);
    assert_eq!(r.path, "/v1beta/models/gemini-x:streamGenerateContent");
    assert_eq!(r.query.as_deref(), Some("alt=sse"));
    assert_eq!(r.model.as_deref(), Some("gemini-x"));
    assert_eq!(r.api_key.as_deref(), Some("AIza-test"));
    assert!(r.streamed);
}

#[test]
fn gemini_non_sse_forms_and_query_key() {
    let api = start();
    let body = http(
        &api,
        "POST",
        "/v1beta/models/g1:generateContent?key=qkey",
        &[],
        Some(&json!({"contents": []})),
    )
    .json();
    assert_eq!(body["candidates"][0]["content"]["role"], "model");
    assert_eq!(body["usageMetadata"]["totalTokenCount"], 21);

    let arr = http(
        &api,
        "POST",
        "/v1beta/models/g1:streamGenerateContent",
        &[],
        Some(&json!({})),
    )
    .json();
    assert_eq!(
        arr[0]["candidates"][0]["content"]["parts"][0]["text"],
        "pong"
    );

    api.push_reply(Reply::ToolUse {
        name: "run_shell_command".into(),
        input: json!({"command": "ls"}),
    });
    let body = http(
        &api,
        "POST",
        "/v1beta/models/g1:generateContent",
        &[],
        Some(&json!({})),
    )
    .json();
    assert_eq!(
        body["candidates"][0]["content"]["parts"][0]["functionCall"],
        json!({"name": "run_shell_command", "args": {"command": "ls"}})
    );

    let count = http(
        &api,
        "POST",
        "/v1beta/models/g1:countTokens",
        &[],
        Some(&json!({})),
    )
    .json();
    assert_eq!(count["totalTokens"], 18);

    let reqs = api.requests();
    assert_eq!(reqs[0].api_key.as_deref(), Some("qkey"));
    assert_eq!(reqs[0].shape, WireShape::GeminiGenerateContent);
    assert_eq!(reqs[1].shape, WireShape::GeminiStreamGenerateContent);
    assert_eq!(reqs[3].shape, WireShape::GeminiCountTokens);
}

#[test]
fn schema_requests_get_json_and_do_not_consume_script() {
    let api = start();
    api.push_reply(Reply::Text("scripted".into()));
    let router = json!({
        "contents": [],
        "generationConfig": {
            "responseMimeType": "application/json",
            "responseJsonSchema": {
                "type": "object",
                "properties": {
                    "reasoning": {"type": "string"},
                    "model_choice": {"type": "string", "enum": ["flash", "pro"]}
                }
            }
        }
    });
    let body = http(
        &api,
        "POST",
        "/v1beta/models/g:generateContent",
        &[],
        Some(&router),
    )
    .json();
    let text = body["candidates"][0]["content"]["parts"][0]["text"]
        .as_str()
        .expect("text part");
    let parsed: Value = serde_json::from_str(text).expect("router answer is JSON");
    assert_eq!(parsed["model_choice"], "flash");
    assert_eq!(api.pending_replies(), 1);
}

// ---------------------------------------------------------------- misc

#[test]
fn models_and_unknown_routes() {
    let api = FakeApi::start_with(FakeApiConfig {
        models: vec!["a".into(), "b".into()],
        ..FakeApiConfig::default()
    })
    .expect("start");
    let list = http(&api, "GET", "/v1/models", &[], None).json();
    assert_eq!(list["object"], "list");
    assert_eq!(list["data"][1]["id"], "b");
    assert_eq!(list["has_more"], false);
    let one = http(&api, "GET", "/v1/models/a", &[], None).json();
    assert_eq!(one["id"], "a");
    let glist = http(&api, "GET", "/v1beta/models", &[], None).json();
    assert_eq!(glist["models"][0]["name"], "models/a");

    let resp = http(
        &api,
        "GET",
        "/api/whatever?x=1",
        &[("x-api-key", "k")],
        None,
    );
    assert_eq!(resp.status, 404);
    assert!(resp.json()["error"].is_object());
    let reqs = api.requests();
    let unknown = reqs.last().expect("recorded");
    assert_eq!(unknown.shape, WireShape::Unknown);
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.api_key.as_deref(), Some("k"));
    assert_eq!(unknown.body, Value::Null);
    assert_eq!(reqs[0].shape, WireShape::Models);
    assert!(api.generation_requests().is_empty());
}

#[test]
fn error_replies_use_each_shape() {
    let api = start();
    for _ in 0..3 {
        api.push_reply(Reply::Error {
            status: 429,
            message: "slow down".into(),
        });
    }
    let a = http(
        &api,
        "POST",
        "/v1/messages",
        &[],
        Some(&json!({"model": "m"})),
    );
    assert_eq!(a.status, 429);
    assert_eq!(a.json()["error"]["type"], "rate_limit_error");
    let o = http(
        &api,
        "POST",
        "/v1/chat/completions",
        &[],
        Some(&json!({"model": "m"})),
    );
    assert_eq!(o.status, 429);
    assert_eq!(o.json()["error"]["message"], "slow down");
    let g = http(
        &api,
        "POST",
        "/v1beta/models/g:generateContent",
        &[],
        Some(&json!({})),
    );
    assert_eq!(g.json()["error"]["status"], "RESOURCE_EXHAUSTED");
    assert_eq!(api.requests()[0].status, 429);
}

#[test]
fn script_only_tool_requests_skips_side_calls() {
    let api = FakeApi::start_with(FakeApiConfig {
        replies: vec![Reply::Text("first".into())],
        default_text: "fallback".into(),
        script_only_tool_requests: true,
        ..FakeApiConfig::default()
    })
    .expect("start");
    let title = http(
        &api,
        "POST",
        "/v1/messages",
        &[],
        Some(&json!({"model": "m"})),
    )
    .json();
    assert_eq!(title["content"][0]["text"], "fallback");
    let main = json!({"model": "m", "tools": [{"name": "Bash"}]});
    let body = http(&api, "POST", "/v1/messages", &[], Some(&main)).json();
    assert_eq!(body["content"][0]["text"], "first");
}

#[test]
fn configurable_usage() {
    let api = FakeApi::start_with(FakeApiConfig {
        usage: Usage {
            input_tokens: 100,
            output_tokens: 50,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 20,
            reasoning_tokens: 10,
        },
        ..FakeApiConfig::default()
    })
    .expect("start");
    let body = http(
        &api,
        "POST",
        "/v1/responses",
        &[],
        Some(&json!({"model": "m"})),
    )
    .json();
    assert_eq!(body["usage"]["input_tokens"], 120);
    assert_eq!(
        body["usage"]["output_tokens_details"]["reasoning_tokens"],
        10
    );
    let body = http(
        &api,
        "POST",
        "/v1beta/models/g:generateContent",
        &[],
        Some(&json!({})),
    )
    .json();
    assert_eq!(body["usageMetadata"]["candidatesTokenCount"], 40);
    assert_eq!(body["usageMetadata"]["thoughtsTokenCount"], 10);
}

#[test]
fn wait_for_requests_and_record_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("requests.jsonl");
    let api = FakeApi::start_with(FakeApiConfig {
        record_file: Some(file.clone()),
        ..FakeApiConfig::default()
    })
    .expect("start");

    let none = api.wait_for_requests(1, Duration::from_millis(50));
    assert!(none.is_empty());

    let addr = api.addr();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        let mut s = TcpStream::connect(addr).expect("connect");
        let body = r#"{"model":"m"}"#;
        write!(
            s,
            "POST /v1/messages HTTP/1.1\r\nhost: x\r\nconnection: close\r\nx-api-key: rec-key\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("write");
        let mut sink = Vec::new();
        s.read_to_end(&mut sink).expect("read");
    });
    let got = api.wait_for_requests(1, Duration::from_secs(10));
    sender.join().expect("sender thread");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].api_key.as_deref(), Some("rec-key"));

    let text = std::fs::read_to_string(&file).expect("record file");
    let lines: Vec<RecordedRequest> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("record line parses back"))
        .collect();
    assert_eq!(lines, got);
    let raw: Value = serde_json::from_str(text.lines().next().expect("a line")).expect("json");
    assert_eq!(raw["shape"], "anthropic_messages");

    api.clear_requests();
    assert!(api.requests().is_empty());
}

#[test]
fn drop_stops_the_server() {
    let api = start();
    let addr = api.addr();
    assert!(api.base_url().starts_with("http://127.0.0.1:"));
    // Leave a keep-alive connection open: drop must not wait for it.
    let _idle = TcpStream::connect(addr).expect("connect");
    drop(api);
    assert!(TcpStream::connect(addr).is_err(), "port closed after drop");
}

#[test]
fn response_ids_differ_across_instances() {
    // Usage importers deduplicate by message id; two test runs must not look like one response.
    let req = json!({"model": "m"});
    let a = start();
    let b = start();
    let id_a = http(&a, "POST", "/v1/messages", &[], Some(&req)).json()["id"].clone();
    let id_a2 = http(&a, "POST", "/v1/messages", &[], Some(&req)).json()["id"].clone();
    let id_b = http(&b, "POST", "/v1/messages", &[], Some(&req)).json()["id"].clone();
    assert!(id_a.as_str().is_some_and(|id| id.starts_with("msg_fake_")));
    assert_ne!(id_a, id_a2);
    assert_ne!(id_a, id_b);
}
