//! Routing through the proxy (docs/proxy.md#routing), over real sockets against fake providers:
//! tool-use requests reach provider B and small ones provider A; a 503 from A fails over to B
//! (a 400 does not); a target of the other wire shape gets the request translated and answers
//! through the translation, whole and streamed, both ways; and the real Claude Code routed to an
//! OpenAI-Chat provider completes a tool-using turn.

use std::path::Path;
use std::sync::Arc;

use ringlet::proxy::routing::Routes;
use ringlet::proxy::{
    Attribution, ProxyHandle, ProxySpec, UpstreamAuth, UpstreamTarget, bind_loopback,
};
use ringlet::{MemoryCredentialStore, NewProfile, Ringlet, Secret, WireShape};
use ringlet_tests::{FakeApi, FakeApiConfig, Reply};
use serde_json::{Value, json};

use crate::{agent_bin_dir, agent_sandbox, finish, spawn_run};

/// A provider manifest for `providers.d/`: one endpoint serving `shape` at `url`.
fn manifest(id: &str, shape: &str, url: &str) -> String {
    format!("id = \"{id}\"\nname = \"{id}\"\n[endpoints.default]\n{shape} = \"{url}\"\n")
}

/// A facade over a fresh home whose providers.d holds `providers`, with a profile `work` of
/// `agent` on the first of them.
fn facade(dir: &Path, agent: &str, providers: &[(&str, &str, String)]) -> Ringlet {
    let pd = dir.join("config/providers.d");
    std::fs::create_dir_all(&pd).expect("providers.d");
    for (id, shape, url) in providers {
        std::fs::write(pd.join(format!("{id}.toml")), manifest(id, shape, url)).expect("manifest");
    }
    let r = Ringlet::builder()
        .home(dir)
        .credential_store(Arc::new(MemoryCredentialStore::default()))
        .build()
        .expect("facade");
    r.create_profile(
        &NewProfile::new(agent, "work", providers[0].0).model("m"),
        Some(&Secret::new("key-profile")),
    )
    .expect("profile");
    r
}

/// A proxy for `work` routed by `rules`; each target's key is `key-<provider>`.
fn routed_proxy(r: &Ringlet, shape: WireShape, rules: &str) -> ProxyHandle {
    let plan = r
        .check_routing("work", rules, Path::new("routing.toml"))
        .expect("rules check");
    let routes = Routes::new(plan, |k| {
        Ok(Some(Secret::new(format!("key-{}", k.provider))))
    })
    .expect("routes");
    let profile = r.profile("work").expect("profile");
    let spec = ProxySpec {
        shape,
        upstream: UpstreamTarget {
            provider: profile.provider.clone(),
            base_url: "http://127.0.0.1:9".into(),
            shape,
            auth: UpstreamAuth::None,
        },
        token: None,
        attribution: Attribution {
            profile: "work".into(),
            agent: profile.agent.clone(),
            provider: profile.provider.clone(),
            project: None,
        },
        sink: None,
        budgets: vec![],
    };
    ProxyHandle::start_routed(bind_loopback(None).expect("listener"), spec, Some(routes))
        .expect("proxy")
}

/// POSTs `body` to the proxy; (status, body).
fn post(proxy: &ProxyHandle, path: &str, body: &Value) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(format!("http://{}{path}", proxy.addr()))
        .header("anthropic-version", "2023-06-01")
        .content_type("application/json")
        .send(serde_json::to_vec(body).expect("json"))
        .expect("the proxy answers");
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().expect("body"))
}

fn anthropic_request(tools: bool, stream: bool) -> Value {
    let mut body = json!({
        "model": "claude-sonnet-5", "max_tokens": 100, "stream": stream,
        "system": "be brief",
        "messages": [{"role": "user", "content": "ping"}],
    });
    if tools {
        body["tools"] = json!([{"name": "Bash", "description": "Run", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}]);
    }
    body
}

#[test]
fn tool_use_requests_reach_b_small_ones_a_and_a_503_from_a_fails_over_to_b() {
    let (a, b) = (FakeApi::start().expect("A"), FakeApi::start().expect("B"));
    let dir = tempfile::tempdir().expect("tempdir");
    let r = facade(
        dir.path(),
        "claude",
        &[
            ("fake-a", "anthropic", a.base_url()),
            ("fake-b", "anthropic", b.base_url()),
        ],
    );
    let rules = "[[rule]]\nmatch = { tool-use = true }\nto = \"fake-b\"\nmodel = \"b-big\"\n\n\
                 [[rule]]\nmatch = { input-tokens-lt = 2000 }\nto = \"fake-a\"\nmodel = \"a-small\"\nfallback = [{ to = \"fake-b\" }]\n\n\
                 [default]\nto = \"fake-a\"\n";
    let proxy = routed_proxy(&r, WireShape::Anthropic, rules);

    let (status, body) = post(&proxy, "/v1/messages", &anthropic_request(true, false));
    assert_eq!(status, 200, "{body}");
    let (ga, gb) = (a.generation_requests(), b.generation_requests());
    assert_eq!(
        (ga.len(), gb.len()),
        (0, 1),
        "the tool-use request goes to B"
    );
    assert_eq!(
        gb[0].model.as_deref(),
        Some("b-big"),
        "the rule's model is asked for"
    );
    assert_eq!(gb[0].api_key.as_deref(), Some("key-fake-b"), "B's own key");

    let (status, body) = post(&proxy, "/v1/messages", &anthropic_request(false, false));
    assert_eq!(status, 200, "{body}");
    let ga = a.generation_requests();
    assert_eq!(
        (ga.len(), b.generation_requests().len()),
        (1, 1),
        "the small request goes to A"
    );
    assert_eq!(ga[0].model.as_deref(), Some("a-small"));
    assert_eq!(ga[0].api_key.as_deref(), Some("key-fake-a"));

    // A answers 503: the same request goes to B, and the agent sees only B's answer.
    a.clear_requests();
    b.clear_requests();
    a.push_reply(Reply::Error {
        status: 503,
        message: "A is down".into(),
    });
    let (status, body) = post(&proxy, "/v1/messages", &anthropic_request(false, true));
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("event: message_stop"),
        "B's stream reached the agent: {body}"
    );
    assert_eq!(a.generation_requests().len(), 1);
    let gb = b.generation_requests();
    assert_eq!(gb.len(), 1, "the fallback got the request");
    assert_eq!(
        gb[0].body["messages"],
        json!([{"role": "user", "content": "ping"}])
    );
    assert_eq!(gb[0].api_key.as_deref(), Some("key-fake-b"));

    // A 400 is the request's fault: no fallback, the agent gets it.
    a.clear_requests();
    b.clear_requests();
    a.push_reply(Reply::Error {
        status: 400,
        message: "bad request".into(),
    });
    let (status, body) = post(&proxy, "/v1/messages", &anthropic_request(false, false));
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("bad request"), "{body}");
    assert_eq!(b.generation_requests().len(), 0);

    // A cannot be reached at all: B again.
    drop(a);
    let (status, body) = post(&proxy, "/v1/messages", &anthropic_request(false, false));
    assert_eq!(status, 200, "{body}");
    assert_eq!(b.generation_requests().len(), 1);
    let stats = proxy.stop().stats;
    assert_eq!(stats.upstream_errors, 1);
}

#[test]
fn an_anthropic_agent_routed_to_an_openai_chat_provider_is_translated_both_ways() {
    let chat = FakeApi::start().expect("chat provider");
    let dir = tempfile::tempdir().expect("tempdir");
    let r = facade(
        dir.path(),
        "claude",
        &[
            ("fake-a", "anthropic", "http://127.0.0.1:9".into()),
            (
                "fake-chat",
                "openai-chat",
                format!("{}/v1", chat.base_url()),
            ),
        ],
    );
    let proxy = routed_proxy(
        &r,
        WireShape::Anthropic,
        "[default]\nto = \"fake-chat\"\nmodel = \"gpt-test\"\n",
    );

    // Whole: the provider gets a Chat request, the agent an Anthropic message.
    chat.push_reply(Reply::ToolUse {
        name: "Bash".into(),
        input: json!({"command": "ls"}),
    });
    let (status, body) = post(
        &proxy,
        "/v1/messages?beta=true",
        &anthropic_request(true, false),
    );
    assert_eq!(status, 200, "{body}");
    let seen = chat.generation_requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/v1/chat/completions");
    assert_eq!(seen[0].api_key.as_deref(), Some("key-fake-chat"));
    assert_eq!(seen[0].body["model"], "gpt-test");
    assert_eq!(
        seen[0].body["messages"][0],
        json!({"role": "system", "content": "be brief"})
    );
    assert_eq!(seen[0].body["tools"][0]["function"]["name"], "Bash");
    let message: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(message["type"], "message");
    assert_eq!(message["stop_reason"], "tool_use");
    let tool = message["content"]
        .as_array()
        .expect("content")
        .iter()
        .find(|b| b["type"] == "tool_use")
        .cloned()
        .expect("a tool_use block");
    assert_eq!(
        (tool["name"].clone(), tool["input"].clone()),
        (json!("Bash"), json!({"command": "ls"}))
    );
    assert!(
        message["usage"]["output_tokens"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{message}"
    );

    // Streamed: Anthropic's events, built from the Chat chunks as they came.
    let (status, body) = post(&proxy, "/v1/messages", &anthropic_request(false, true));
    assert_eq!(status, 200, "{body}");
    assert!(chat.generation_requests()[1].body["stream_options"]["include_usage"] == true);
    let events: Vec<&str> = body
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(events.first(), Some(&"message_start"), "{body}");
    assert_eq!(events.last(), Some(&"message_stop"), "{body}");
    assert!(
        events.contains(&"content_block_delta") && events.contains(&"message_delta"),
        "{body}"
    );

    // An error keeps its status and reaches the agent in Anthropic's shape.
    chat.push_reply(Reply::Error {
        status: 429,
        message: "slow down".into(),
    });
    let (status, body) = post(&proxy, "/v1/messages", &anthropic_request(false, false));
    assert_eq!(status, 429, "{body}");
    let error: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["type"], "rate_limit_error");

    // Token counting has no Chat endpoint: answered from the estimate.
    let (status, body) = post(
        &proxy,
        "/v1/messages/count_tokens",
        &anthropic_request(false, false),
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        serde_json::from_str::<Value>(&body).expect("json")["input_tokens"]
            .as_u64()
            .is_some()
    );
    assert_eq!(
        chat.generation_requests().len(),
        3,
        "count_tokens reached no provider"
    );
}

#[test]
fn an_openai_chat_agent_routed_to_an_anthropic_provider_is_translated_both_ways() {
    let anthropic = FakeApi::start().expect("anthropic provider");
    let dir = tempfile::tempdir().expect("tempdir");
    let r = facade(
        dir.path(),
        "grok",
        &[
            ("fake-chat", "openai-chat", "http://127.0.0.1:9/v1".into()),
            ("fake-a", "anthropic", anthropic.base_url()),
        ],
    );
    let proxy = routed_proxy(
        &r,
        WireShape::OpenaiChat,
        "[[rule]]\nmatch = { model-equals = \"m\" }\nto = \"fake-a\"\nmodel = \"claude-test\"\n",
    );
    let request = json!({
        "model": "m", "stream": true, "stream_options": {"include_usage": true},
        "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "ping"}],
    });
    let (status, body) = post(&proxy, "/v1/chat/completions", &request);
    assert_eq!(status, 200, "{body}");
    let seen = anthropic.generation_requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/v1/messages");
    assert_eq!(seen[0].body["system"], "sys");
    assert_eq!(seen[0].body["max_tokens"], 8192);
    assert_eq!(
        seen[0].headers.get("anthropic-version").map(String::as_str),
        Some("2023-06-01")
    );
    let chunks: Vec<Value> = body
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).expect("chunk"))
        .collect();
    assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");
    let text: String = chunks
        .iter()
        .filter_map(|c| {
            c.pointer("/choices/0/delta/content")
                .and_then(Value::as_str)
        })
        .collect();
    assert!(!text.is_empty(), "{body}");
    let usage = chunks
        .iter()
        .find_map(|c| c.get("usage").filter(|u| !u.is_null()))
        .expect("a usage chunk");
    assert!(
        usage["prompt_tokens"].as_u64().is_some_and(|n| n > 0),
        "{usage}"
    );
}

#[test]
fn claude_code_routed_to_an_openai_chat_provider_completes_a_tool_using_turn() {
    let Some(bin_dir) = agent_bin_dir("claude") else {
        return;
    };
    const ANSWER: &str = "ROUTED-THROUGH-CHAT-7731";
    let chat = FakeApi::start_with(FakeApiConfig {
        default_text: ANSWER.into(),
        script_only_tool_requests: true,
        ..FakeApiConfig::default()
    })
    .expect("chat provider");
    // The profile's own provider must get no generation: everything is routed away.
    let direct = FakeApi::start().expect("the profile's provider");
    let mut sb = agent_sandbox(&bin_dir);
    let pd = sb.ringlet_home().join("config/providers.d");
    std::fs::create_dir_all(&pd).expect("providers.d");
    std::fs::write(
        pd.join("fake-chat.toml"),
        manifest(
            "fake-chat",
            "openai-chat",
            &format!("{}/v1", chat.base_url()),
        ),
    )
    .expect("manifest");
    crate::create_profile(
        &mut sb,
        &crate::ProfileSpec {
            agent: "claude",
            alias: "work",
            provider: "anthropic",
            base_url: direct.base_url(),
            model: "claude-sonnet-5",
            key: "sk-ant-direct-not-used-0000",
        },
    );
    let chat_key = "sk-chat-routed-real-key-5150";
    sb.env("E2E_CHAT_KEY", chat_key);
    sb.run([
        "keychain",
        "set",
        "fake-chat",
        "chat",
        "--from-env",
        "E2E_CHAT_KEY",
    ])
    .ok();
    let rules = sb.root().join("routing.toml");
    std::fs::write(
        &rules,
        "[default]\nto = \"fake-chat\"\nmodel = \"gpt-test\"\nkey = \"chat\"\n",
    )
    .expect("rules");
    sb.run([
        "profiles",
        "set",
        "work",
        "--routing",
        rules.to_str().expect("utf-8"),
    ])
    .ok();

    let marker = sb.root().join("ran-the-tool");
    chat.push_reply(Reply::ToolUse {
        name: "Bash".into(),
        input: json!({"command": format!("touch {}", marker.display()), "description": "Mark it"}),
    });
    let run = finish(
        spawn_run(
            &sb,
            "work",
            &[
                "-p",
                "Mark the file, then say the word.",
                "--allowedTools",
                "Bash",
            ],
        ),
        "routed claude",
    );
    assert_eq!(
        run.code,
        0,
        "claude failed:\n{}\n{}\nrequests: {:#?}",
        run.stdout,
        run.stderr,
        chat.requests()
    );
    assert!(
        marker.exists(),
        "the tool call did not run: {}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stdout.contains(ANSWER),
        "{}\n{}",
        run.stdout,
        run.stderr
    );

    let gens = chat.generation_requests();
    assert!(
        gens.iter()
            .all(|g| g.path == "/v1/chat/completions" && g.api_key.as_deref() == Some(chat_key)),
        "{gens:#?}"
    );
    // The tool's result went back as a Chat `tool` message answering the call.
    let result = gens
        .iter()
        .flat_map(|g| g.body["messages"].as_array().cloned().unwrap_or_default())
        .find(|m| m["role"] == "tool")
        .expect("a tool result was sent back");
    assert!(
        result["tool_call_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{result}"
    );
    assert!(
        direct.generation_requests().is_empty(),
        "a generation bypassed the routing"
    );
}
