//! The tap reads the same usage from a response however TCP cuts it: every shape, streamed or
//! not, plain or gzip'd, split at every byte boundary.

use std::io::Write;

use proptest::prelude::*;

use super::*;
use crate::usage::TokenCounts;

/// A response of each shape, streamed (SSE) and not, as the providers send them, and the usage
/// ringlet must read from each.
fn cases() -> Vec<(WireShape, bool, String, WireUsage)> {
    let anthropic = TokenCounts {
        input: 11,
        output: 30,
        cache_creation: 5,
        cache_creation_5m: 5,
        cache_read: 7,
        ..TokenCounts::default()
    };
    let openai = TokenCounts {
        input: 11,
        output: 30,
        cache_read: 7,
        reasoning: 4,
        ..TokenCounts::default()
    };
    let want = |id: &str, model: &str, tokens| WireUsage {
        id: Some(id.into()),
        model: Some(model.into()),
        tokens: Some(tokens),
    };
    let anthropic_usage = r#"{"input_tokens":11,"cache_creation_input_tokens":5,"cache_read_input_tokens":7,"cache_creation":{"ephemeral_5m_input_tokens":5,"ephemeral_1h_input_tokens":0},"output_tokens":1}"#;
    vec![
        (
            WireShape::Anthropic,
            true,
            format!(
                "event: message_start\ndata: {{\"type\":\"message_start\",\"message\":{{\"id\":\"msg_1\",\"type\":\"message\",\"model\":\"claude-sonnet-5\",\"usage\":{anthropic_usage}}}}}\n\n\
                 event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"usage: pong\"}}}}\n\n\
                 event: message_delta\ndata: {{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"end_turn\"}},\"usage\":{{\"output_tokens\":30}}}}\n\n\
                 event: message_stop\ndata: {{\"type\":\"message_stop\"}}\n\n"
            ),
            want("msg_1", "claude-sonnet-5", anthropic),
        ),
        (
            WireShape::Anthropic,
            false,
            format!(
                "{{\"id\":\"msg_2\",\"type\":\"message\",\"model\":\"claude-sonnet-5\",\"content\":[],\"usage\":{}}}",
                anthropic_usage.replace("\"output_tokens\":1", "\"output_tokens\":30")
            ),
            want("msg_2", "claude-sonnet-5", anthropic),
        ),
        (
            WireShape::OpenaiChat,
            true,
            "data: {\"id\":\"chatcmpl-1\",\"model\":\"gpt-4.1\",\"choices\":[{\"delta\":{\"content\":\"po\"}}],\"usage\":null}\r\n\r\n\
             data: {\"id\":\"chatcmpl-1\",\"model\":\"gpt-4.1\",\"choices\":[],\"usage\":{\"prompt_tokens\":18,\"completion_tokens\":30,\"prompt_tokens_details\":{\"cached_tokens\":7},\"completion_tokens_details\":{\"reasoning_tokens\":4}}}\r\n\r\n\
             data: [DONE]\r\n\r\n"
                .into(),
            want("chatcmpl-1", "gpt-4.1", openai),
        ),
        (
            WireShape::OpenaiChat,
            false,
            "{\"id\":\"chatcmpl-2\",\"object\":\"chat.completion\",\"model\":\"gpt-4.1\",\"choices\":[],\"usage\":{\"prompt_tokens\":18,\"completion_tokens\":30,\"prompt_tokens_details\":{\"cached_tokens\":7},\"completion_tokens_details\":{\"reasoning_tokens\":4}}}"
                .into(),
            want("chatcmpl-2", "gpt-4.1", openai),
        ),
        (
            WireShape::OpenaiResponses,
            true,
            "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"model\":\"gpt-5-codex\",\"usage\":null}}\n\n\
             event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"pong\"}\n\n\
             event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"model\":\"gpt-5-codex\",\"usage\":{\"input_tokens\":18,\"input_tokens_details\":{\"cached_tokens\":7},\"output_tokens\":30,\"output_tokens_details\":{\"reasoning_tokens\":4}}}}\n\n"
                .into(),
            want("resp_1", "gpt-5-codex", openai),
        ),
        (
            WireShape::OpenaiResponses,
            false,
            "{\"id\":\"resp_2\",\"object\":\"response\",\"model\":\"gpt-5-codex\",\"usage\":{\"input_tokens\":18,\"input_tokens_details\":{\"cached_tokens\":7},\"output_tokens\":30,\"output_tokens_details\":{\"reasoning_tokens\":4}}}"
                .into(),
            want("resp_2", "gpt-5-codex", openai),
        ),
        (
            WireShape::Gemini,
            true,
            "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"po\"}]}}],\"usageMetadata\":{\"promptTokenCount\":18,\"candidatesTokenCount\":1,\"cachedContentTokenCount\":7},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"g1\"}\r\n\r\n\
             data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"ng\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":18,\"candidatesTokenCount\":26,\"cachedContentTokenCount\":7,\"thoughtsTokenCount\":4,\"totalTokenCount\":48},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"g1\"}\r\n\r\n"
                .into(),
            want("g1", "gemini-2.5-flash", openai),
        ),
        (
            WireShape::Gemini,
            false,
            "[{\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":18,\"candidatesTokenCount\":26,\"cachedContentTokenCount\":7,\"thoughtsTokenCount\":4},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"g2\"}]"
                .into(),
            want("g2", "gemini-2.5-flash", openai),
        ),
    ]
}

fn read(shape: WireShape, streamed: bool, gzip: bool, chunks: &[&[u8]]) -> WireUsage {
    let content_type = if streamed {
        "text/event-stream; charset=utf-8"
    } else {
        "application/json"
    };
    let mut tap = UsageTap::new(shape, Some(content_type), gzip.then_some("gzip")).expect("a tap");
    for c in chunks {
        tap.feed(c);
    }
    tap.finish()
}

fn gzipped(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

#[test]
fn every_shape_streamed_or_not_split_at_every_byte_boundary() {
    for (shape, streamed, body, want) in cases() {
        let bytes = body.as_bytes();
        assert_eq!(
            read(shape, streamed, false, &[bytes]),
            want,
            "{shape} {streamed}"
        );
        for cut in 0..=bytes.len() {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(
                read(shape, streamed, false, &[a, b]),
                want,
                "{shape} streamed={streamed} cut at {cut}"
            );
        }
        let one_by_one: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(read(shape, streamed, false, &one_by_one), want);
        let zipped = gzipped(bytes);
        for cut in 0..=zipped.len() {
            let (a, b) = zipped.split_at(cut);
            assert_eq!(
                read(shape, streamed, true, &[a, b]),
                want,
                "{shape} streamed={streamed} gzip cut at {cut}"
            );
        }
    }
}

proptest! {
    /// Any number of cuts anywhere.
    #[test]
    fn any_chunking_reads_the_same_usage(
        case in 0usize..8,
        mut cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..24),
        gzip in any::<bool>(),
    ) {
        let (shape, streamed, body, want) = cases().swap_remove(case);
        let bytes = if gzip { gzipped(body.as_bytes()) } else { body.into_bytes() };
        let mut at: Vec<usize> = cuts.drain(..).map(|i| i.index(bytes.len() + 1)).collect();
        at.sort_unstable();
        let mut chunks = Vec::new();
        let mut from = 0;
        for cut in at {
            chunks.push(&bytes[from..cut]);
            from = cut;
        }
        chunks.push(&bytes[from..]);
        prop_assert_eq!(read(shape, streamed, gzip, &chunks), want);
    }
}

#[test]
fn a_stream_cut_off_still_counts_what_it_said_and_unknown_encodings_are_not_read() {
    let (shape, streamed, body, _) = cases().swap_remove(0);
    let cut = body.find("event: message_delta").expect("a delta");
    let got = read(shape, streamed, false, &[&body.as_bytes()[..cut]]);
    assert_eq!(got.id.as_deref(), Some("msg_1"));
    assert_eq!(
        got.tokens.map(|t| t.output),
        Some(1),
        "message_start's running count"
    );
    assert!(UsageTap::new(WireShape::Anthropic, None, Some("br")).is_none());
    let error = read(
        WireShape::Anthropic,
        false,
        false,
        &[b"{\"type\":\"error\"}"],
    );
    assert_eq!(error, WireUsage::default());
}
