use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::proxy::translate::sse::{SseEvent, SseParser};

/// A reply as the agent understands it, rebuilt from either shape's stream.
#[derive(Debug, Clone, Default, PartialEq)]
struct Reply {
    id: String,
    text: String,
    /// (id, name, arguments)
    tools: Vec<(String, String, String)>,
    stop: String,
    usage: Value,
}

fn events(bytes: &[u8]) -> Vec<SseEvent> {
    let mut p = SseParser::default();
    let mut v = Vec::new();
    p.feed(bytes, |e| v.push(e));
    p.finish(|e| v.push(e));
    v
}

/// Rebuilds a reply from Anthropic events, checking the block discipline Claude Code's SDK
/// relies on: one message_start first, blocks started, filled and stopped in order, message_stop last.
fn read_anthropic(bytes: &[u8]) -> Reply {
    let mut r = Reply::default();
    let mut open: Option<u64> = None;
    let mut next = 0;
    let evs = events(bytes);
    assert_eq!(
        evs.first().and_then(|e| e.event.as_deref()),
        Some("message_start"),
        "{evs:?}"
    );
    assert_eq!(
        evs.last().and_then(|e| e.event.as_deref()),
        Some("message_stop"),
        "{evs:?}"
    );
    for e in &evs {
        let v: Value = serde_json::from_str(&e.data).expect("json");
        assert_eq!(
            v["type"].as_str(),
            e.event.as_deref(),
            "the event name is the data's type"
        );
        match e.event.as_deref() {
            Some("message_start") => r.id = v["message"]["id"].as_str().expect("id").to_string(),
            Some("content_block_start") => {
                assert_eq!(open, None, "a block starts only after the last one stopped");
                assert_eq!(v["index"], next);
                open = Some(next);
                next += 1;
                if v["content_block"]["type"] == "tool_use" {
                    let b = &v["content_block"];
                    r.tools.push((
                        b["id"].as_str().expect("id").into(),
                        b["name"].as_str().expect("name").into(),
                        String::new(),
                    ));
                }
            }
            Some("content_block_delta") => {
                assert_eq!(Some(v["index"].as_u64().expect("index")), open);
                match v["delta"]["type"].as_str() {
                    Some("text_delta") => {
                        r.text.push_str(v["delta"]["text"].as_str().expect("text"))
                    }
                    Some("input_json_delta") => r
                        .tools
                        .last_mut()
                        .expect("tool")
                        .2
                        .push_str(v["delta"]["partial_json"].as_str().expect("json")),
                    other => panic!("{other:?}"),
                }
            }
            Some("content_block_stop") => {
                assert_eq!(Some(v["index"].as_u64().expect("index")), open);
                open = None;
            }
            Some("message_delta") => {
                assert_eq!(open, None);
                r.stop = v["delta"]["stop_reason"].as_str().expect("stop").into();
                r.usage = v["usage"].clone();
            }
            _ => {}
        }
    }
    r
}

/// Rebuilds a reply from OpenAI Chat chunks.
fn read_chat(bytes: &[u8]) -> Reply {
    let mut r = Reply::default();
    let evs = events(bytes);
    assert_eq!(evs.last().map(|e| e.data.as_str()), Some("[DONE]"));
    for e in &evs[..evs.len() - 1] {
        let v: Value = serde_json::from_str(&e.data).expect("json");
        assert_eq!(v["object"], "chat.completion.chunk");
        r.id = v["id"].as_str().expect("id").into();
        if !v["usage"].is_null() {
            r.usage = v["usage"].clone();
        }
        let Some(c) = v.pointer("/choices/0") else {
            continue;
        };
        if let Some(t) = c["delta"]["content"].as_str() {
            r.text.push_str(t);
        }
        for call in c["delta"]["tool_calls"].as_array().into_iter().flatten() {
            let k = call["index"].as_u64().expect("index") as usize;
            if let Some(id) = call["id"].as_str() {
                assert_eq!(k, r.tools.len());
                r.tools.push((
                    id.into(),
                    call["function"]["name"].as_str().expect("name").into(),
                    String::new(),
                ));
            }
            r.tools[k]
                .2
                .push_str(call["function"]["arguments"].as_str().unwrap_or_default());
        }
        if let Some(f) = c["finish_reason"].as_str() {
            r.stop = f.into();
        }
    }
    r
}

/// An OpenAI Chat stream as a provider sends it: role first, text, tool calls (id and name,
/// then argument fragments), the finish reason, then a usage chunk and `[DONE]`.
fn chat_stream(
    text: &[String],
    tools: &[(String, Vec<String>)],
    usage: (u64, u64, u64),
) -> Vec<u8> {
    let mut out = Vec::new();
    let chunk = |out: &mut Vec<u8>, delta: Value, finish: Value| {
        let c = json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "llama", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        out.extend_from_slice(format!("data: {c}\n\n").as_bytes());
    };
    chunk(
        &mut out,
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    );
    for t in text {
        chunk(&mut out, json!({"content": t}), Value::Null);
    }
    for (k, (name, fragments)) in tools.iter().enumerate() {
        chunk(
            &mut out,
            json!({"tool_calls": [{"index": k, "id": format!("call_{k}"), "type": "function", "function": {"name": name, "arguments": ""}}]}),
            Value::Null,
        );
        for f in fragments {
            chunk(
                &mut out,
                json!({"tool_calls": [{"index": k, "function": {"arguments": f}}]}),
                Value::Null,
            );
        }
    }
    chunk(
        &mut out,
        json!({}),
        json!(if tools.is_empty() {
            "stop"
        } else {
            "tool_calls"
        }),
    );
    let (prompt, cached, completion) = usage;
    let u = json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "llama", "choices": [],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion, "prompt_tokens_details": {"cached_tokens": cached}}});
    out.extend_from_slice(format!("data: {u}\n\ndata: [DONE]\n\n").as_bytes());
    out
}

/// Feeds `input` to a translator in pieces cut at `cuts`.
fn translate(t: &mut dyn StreamTranslator, input: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut at = 0;
    for c in cuts {
        t.feed(&input[at..c], &mut out);
        at = c;
    }
    t.feed(&input[at..], &mut out);
    t.finish(&mut out);
    out
}

#[test]
fn a_chat_tool_call_stream_becomes_anthropic_events() {
    let input = chat_stream(
        &["Let me ".into(), "look.".into()],
        &[(
            "Bash".into(),
            vec!["{\"comm".into(), "and\":\"ls\"}".into()],
        )],
        (120, 20, 30),
    );
    let out = translate(&mut ChatToAnthropic::new("llama"), &input, &[]);
    let r = read_anthropic(&out);
    assert_eq!(r.id, "chatcmpl-1");
    assert_eq!(r.text, "Let me look.");
    assert_eq!(
        r.tools,
        [(
            "call_0".to_string(),
            "Bash".to_string(),
            "{\"command\":\"ls\"}".to_string()
        )]
    );
    assert_eq!(r.stop, "tool_use");
    assert_eq!(
        r.usage,
        json!({"input_tokens": 100, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 20, "output_tokens": 30})
    );
    let text = String::from_utf8(out).expect("utf-8");
    assert!(text.starts_with("event: message_start\ndata: "), "{text}");
}

#[test]
fn an_anthropic_stream_becomes_chat_chunks_with_usage_when_asked() {
    let input = concat!(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-haiku-4-5\",\"content\":[],\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":5,\"output_tokens\":1}}}\n\n",
        "event: ping\ndata: {\"type\":\"ping\"}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hm\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"read\",\"input\":{}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"p\\\":\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"1}\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":2}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":7}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );
    let out = translate(
        &mut AnthropicToChat::new("m", true, 9),
        input.as_bytes(),
        &[],
    );
    let r = read_chat(&out);
    assert_eq!(r.id, "msg_1");
    assert_eq!(r.text, "Hi");
    assert_eq!(
        r.tools,
        [(
            "toolu_1".to_string(),
            "read".to_string(),
            "{\"p\":1}".to_string()
        )]
    );
    assert_eq!(r.stop, "tool_calls");
    assert_eq!(
        r.usage,
        json!({"prompt_tokens": 15, "completion_tokens": 7, "total_tokens": 22, "prompt_tokens_details": {"cached_tokens": 5}})
    );
    let without = translate(
        &mut AnthropicToChat::new("m", false, 9),
        input.as_bytes(),
        &[],
    );
    assert!(
        read_chat(&without).usage.is_null(),
        "no usage chunk unless the agent asked"
    );
}

#[test]
fn upstream_errors_mid_stream_reach_the_agent_in_its_shape() {
    let input = b"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"error\":{\"message\":\"overloaded\"}}\n\n";
    let out =
        String::from_utf8(translate(&mut ChatToAnthropic::new("m"), input, &[])).expect("utf-8");
    assert!(out.contains("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"overloaded\"}}"), "{out}");
    assert!(
        !out.contains("message_stop"),
        "an errored stream does not pretend to finish: {out}"
    );
    let input = b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
    let out = String::from_utf8(translate(
        &mut AnthropicToChat::new("m", true, 0),
        input,
        &[],
    ))
    .expect("utf-8");
    assert_eq!(
        out,
        "data: {\"error\":{\"message\":\"Overloaded\",\"type\":\"overloaded_error\",\"code\":null}}\n\n"
    );
}

#[test]
fn a_stream_cut_off_without_done_is_still_closed() {
    let input = b"data: {\"id\":\"c\",\"model\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"partial\"}}]}\n\n";
    let r = read_anthropic(&translate(&mut ChatToAnthropic::new("m"), input, &[]));
    assert_eq!((r.text.as_str(), r.stop.as_str()), ("partial", "end_turn"));
}

/// Text pieces, tool calls (name, argument fragments), usage (prompt, cached, completion).
type ReplyParts = (Vec<String>, Vec<(String, Vec<String>)>, (u64, u64, u64));

fn reply_strategy() -> impl Strategy<Value = ReplyParts> {
    (
        proptest::collection::vec("\\PC{0,12}", 0..4),
        proptest::collection::vec(
            (
                "[a-zA-Z_]{1,8}",
                proptest::collection::vec("[ -~]{0,10}", 0..4),
            ),
            0..3,
        ),
        (1000u64..2000, 0u64..1000, 0u64..500),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Chat → Anthropic → Chat rebuilds the same reply, whatever the chunk boundaries of both
    /// streams (inside events, lines, UTF-8 characters).
    #[test]
    fn streams_round_trip_at_any_chunk_boundaries(
        (text, tools, usage) in reply_strategy(),
        cuts_a in proptest::collection::vec(any::<usize>(), 0..8),
        cuts_b in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let input = chat_stream(&text, &tools, usage);
        let whole = translate(&mut ChatToAnthropic::new("llama"), &input, &[]);
        let anthropic = translate(&mut ChatToAnthropic::new("llama"), &input, &cuts_a);
        prop_assert_eq!(&anthropic, &whole, "the output does not depend on the cuts");
        let a = read_anthropic(&anthropic);
        let back = translate(&mut AnthropicToChat::new("llama", true, 1), &anthropic, &cuts_b);
        let r = read_chat(&back);
        let original = read_chat(&input);
        prop_assert_eq!(&r.text, &original.text);
        prop_assert_eq!(&r.tools, &original.tools);
        prop_assert_eq!(&r.stop, &original.stop);
        prop_assert_eq!(&r.usage, &original.usage);
        prop_assert_eq!(&r.id, &original.id);
        prop_assert_eq!(a.tools.len(), tools.len());
    }

    /// Every single-byte split of a stream gives the same translation as the whole.
    #[test]
    fn every_byte_boundary_gives_the_same_output(cut in any::<usize>()) {
        let input = chat_stream(&["héllo ✓".into()], &[("f".into(), vec!["{\"a\":".into(), "1}".into()])], (10, 0, 3));
        let whole = translate(&mut ChatToAnthropic::new("m"), &input, &[]);
        prop_assert_eq!(translate(&mut ChatToAnthropic::new("m"), &input, &[cut]), whole);
    }
}
