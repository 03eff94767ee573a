//! What rules look at in a request body, read without building it as a tree.
//!
//! The body is deserialised into a borrowing view that keeps the few fields rules need and
//! skips the rest: message contents, tool schemas and images are passed over by serde_json's
//! skipping parser (validated, never allocated), so the cost is one pass over the bytes and no
//! allocation proportional to the body (benches/routing_match.rs compares it with a full parse).
//! One view reads all four wire shapes, since their field names do not clash.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use super::config::Match;

/// Bytes of request JSON per estimated input token: the rule of thumb for English text and code
/// that gateways use for routing decisions. An estimate, not the provider's count: images count
/// by their encoded size.
pub const BYTES_PER_TOKEN: u64 = 4;

/// The facts of one request that rules match on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFacts {
    /// The model the request asks for (from the body; Gemini's is in the URL, see
    /// [`RequestFacts::with_model`]).
    pub model: Option<String>,
    /// Whether it offers the model at least one tool.
    pub tool_use: bool,
    /// Conversation messages, system prompts not counted.
    pub messages: u64,
    /// Whether it has a non-empty system prompt.
    pub has_system_prompt: bool,
    /// The estimated input tokens: the body's size over [`BYTES_PER_TOKEN`].
    pub input_tokens: u64,
}

#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(borrow, default)]
    model: Option<Cow<'a, str>>,
    // Anthropic Messages and OpenAI Chat.
    #[serde(borrow, default)]
    messages: Option<Vec<PeekMessage<'a>>>,
    // OpenAI Responses: a string or a list of items.
    #[serde(borrow, default)]
    input: Option<&'a RawValue>,
    // Gemini.
    #[serde(default)]
    contents: Option<Vec<IgnoredAny>>,
    #[serde(borrow, default)]
    system: Option<&'a RawValue>,
    #[serde(borrow, default)]
    instructions: Option<&'a RawValue>,
    #[serde(
        borrow,
        default,
        rename = "systemInstruction",
        alias = "system_instruction"
    )]
    system_instruction: Option<&'a RawValue>,
    #[serde(borrow, default)]
    tools: Option<&'a RawValue>,
    // The Chat API's deprecated spelling of tools.
    #[serde(borrow, default)]
    functions: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct PeekMessage<'a> {
    #[serde(borrow, default)]
    role: Option<Cow<'a, str>>,
}

fn is_system(role: Option<&str>) -> bool {
    matches!(role, Some("system" | "developer"))
}

/// Whether a raw JSON value holds something: not null, not an empty string, array or object.
fn non_empty(raw: Option<&RawValue>) -> bool {
    let Some(raw) = raw else { return false };
    let text = raw.get().trim();
    match text.as_bytes().first() {
        None | Some(b'n') => false,
        Some(b'[' | b'{') => !text[1..text.len() - 1].trim().is_empty(),
        Some(b'"') => text.len() > 2,
        Some(_) => true,
    }
}

impl RequestFacts {
    /// Reads the facts of a request body. A body that is not a JSON object yields the facts of an
    /// empty request (no model, no tools, no messages), so it goes where `[default]` says and the
    /// provider answers with its own error.
    pub fn scan(body: &[u8]) -> Self {
        let input_tokens = body.len() as u64 / BYTES_PER_TOKEN;
        let Ok(peek) = serde_json::from_slice::<Peek<'_>>(body) else {
            return Self {
                input_tokens,
                ..Self::default()
            };
        };
        let mut has_system_prompt = non_empty(peek.system)
            || non_empty(peek.instructions)
            || non_empty(peek.system_instruction);
        let mut messages = 0u64;
        if let Some(list) = &peek.messages {
            for m in list {
                if is_system(m.role.as_deref()) {
                    has_system_prompt = true;
                } else {
                    messages += 1;
                }
            }
        }
        if let Some(input) = peek.input {
            match input.get().trim_start().as_bytes().first() {
                Some(b'"') => messages += 1,
                Some(b'[') => {
                    if let Ok(items) = serde_json::from_str::<Vec<PeekMessage<'_>>>(input.get()) {
                        for m in &items {
                            if is_system(m.role.as_deref()) {
                                has_system_prompt = true;
                            } else {
                                messages += 1;
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(contents) = &peek.contents {
            messages += contents.len() as u64;
        }
        Self {
            model: peek.model.map(Cow::into_owned),
            tool_use: non_empty(peek.tools) || non_empty(peek.functions),
            messages,
            has_system_prompt,
            input_tokens,
        }
    }

    /// The same facts with the model taken from elsewhere (Gemini names it in the URL path).
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }
}

impl Match {
    /// Whether every condition of the rule holds for `facts`.
    pub fn matches(&self, facts: &RequestFacts) -> bool {
        self.tool_use.is_none_or(|want| facts.tool_use == want)
            && self.input_tokens_lt.is_none_or(|n| facts.input_tokens < n)
            && self.input_tokens_gt.is_none_or(|n| facts.input_tokens > n)
            && self.messages_gt.is_none_or(|n| facts.messages > n)
            && self
                .has_system_prompt
                .is_none_or(|want| facts.has_system_prompt == want)
            && self
                .model_equals
                .as_deref()
                .is_none_or(|m| facts.model.as_deref() == Some(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn anthropic_requests_are_read() {
        let body = br#"{"model":"claude-sonnet-4-5","max_tokens":100,
            "system":[{"type":"text","text":"be brief"}],
            "tools":[{"name":"Bash","input_schema":{"type":"object"}}],
            "messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"text","text":"yo"}]},
                        {"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"ok"}]}]}"#;
        let f = RequestFacts::scan(body);
        assert_eq!(f.model.as_deref(), Some("claude-sonnet-4-5"));
        assert!(f.tool_use);
        assert!(f.has_system_prompt);
        assert_eq!(f.messages, 3);
        assert_eq!(f.input_tokens, body.len() as u64 / 4);
    }

    #[test]
    fn openai_chat_requests_count_system_messages_as_the_system_prompt() {
        let body = br#"{"model":"gpt-5","messages":[{"role":"developer","content":"x"},{"role":"user","content":"hi"}],"tools":[]}"#;
        let f = RequestFacts::scan(body);
        assert!(f.has_system_prompt);
        assert!(!f.tool_use, "an empty tools list offers no tool");
        assert_eq!(f.messages, 1);
    }

    #[test]
    fn responses_and_gemini_requests_are_read() {
        let r = RequestFacts::scan(
            br#"{"model":"gpt-5","instructions":"be kind","input":[{"role":"user","content":"a"},{"type":"function_call_output","call_id":"c","output":"o"}],"tools":[{"type":"function","name":"f"}]}"#,
        );
        assert!(r.has_system_prompt && r.tool_use);
        assert_eq!(r.messages, 2);
        let s = RequestFacts::scan(br#"{"model":"gpt-5","input":"hello","instructions":""}"#);
        assert!(!s.has_system_prompt);
        assert_eq!(s.messages, 1);
        let g = RequestFacts::scan(
            br#"{"contents":[{"role":"user","parts":[{"text":"a"}]}],"systemInstruction":{"parts":[{"text":"s"}]}}"#,
        )
        .with_model("gemini-2.5-pro");
        assert!(g.has_system_prompt && !g.tool_use);
        assert_eq!(
            (g.messages, g.model.as_deref()),
            (1, Some("gemini-2.5-pro"))
        );
    }

    #[test]
    fn empty_or_null_fields_are_absent() {
        let f = RequestFacts::scan(br#"{"system":"","tools":null,"messages":[]}"#);
        assert!(!f.has_system_prompt && !f.tool_use);
        let f = RequestFacts::scan(br#"{"system":[ ],"tools":{ }}"#);
        assert!(!f.has_system_prompt && !f.tool_use);
    }

    #[test]
    fn a_body_that_is_not_json_has_no_facts_but_its_size() {
        let f = RequestFacts::scan(b"not json at all");
        assert_eq!(f.model, None);
        assert_eq!(f.input_tokens, 3);
        assert!(!f.tool_use);
    }

    #[test]
    fn escaped_model_names_are_unescaped() {
        let f = RequestFacts::scan(br#"{"model":"a\/b\u0041"}"#);
        assert_eq!(f.model.as_deref(), Some("a/bA"));
    }

    #[test]
    fn all_conditions_of_a_rule_must_hold() {
        let facts = RequestFacts {
            model: Some("m".into()),
            tool_use: true,
            messages: 5,
            has_system_prompt: false,
            input_tokens: 1000,
        };
        let m = |f: fn(&mut Match)| {
            let mut m = Match::default();
            f(&mut m);
            m.matches(&facts)
        };
        assert!(m(|m| m.tool_use = Some(true)));
        assert!(!m(|m| m.tool_use = Some(false)));
        assert!(m(|m| m.input_tokens_lt = Some(1001)));
        assert!(!m(|m| m.input_tokens_lt = Some(1000)));
        assert!(m(|m| m.input_tokens_gt = Some(999)));
        assert!(!m(|m| m.input_tokens_gt = Some(1000)));
        assert!(m(|m| m.messages_gt = Some(4)));
        assert!(!m(|m| m.messages_gt = Some(5)));
        assert!(m(|m| m.has_system_prompt = Some(false)));
        assert!(m(|m| m.model_equals = Some("m".into())));
        assert!(!m(|m| m.model_equals = Some("n".into())));
        assert!(!m(|m| {
            m.tool_use = Some(true);
            m.messages_gt = Some(10);
        }));
    }

    proptest! {
        /// The skimming view agrees with a full parse on every request shape it reads.
        #[test]
        fn the_scan_agrees_with_a_full_parse(
            roles in proptest::collection::vec(prop_oneof!["user", "assistant", "system", "tool"], 0..8),
            tools in 0usize..3,
            system in proptest::option::of("[a-z ]{0,8}"),
            model in "[a-z0-9.\\-]{1,12}",
            text in "\\PC{0,40}",
        ) {
            let messages: Vec<_> = roles.iter().map(|r| serde_json::json!({"role": r, "content": text})).collect();
            let tools: Vec<_> = (0..tools).map(|i| serde_json::json!({"name": format!("t{i}")})).collect();
            let mut body = serde_json::json!({"model": model, "messages": messages, "tools": tools});
            if let Some(s) = &system {
                body["system"] = serde_json::json!(s);
            }
            let bytes = serde_json::to_vec(&body).expect("serialises");
            let f = RequestFacts::scan(&bytes);
            prop_assert_eq!(f.model.as_deref(), Some(model.as_str()));
            prop_assert_eq!(f.tool_use, !tools.is_empty());
            prop_assert_eq!(f.messages, roles.iter().filter(|r| *r != "system").count() as u64);
            prop_assert_eq!(
                f.has_system_prompt,
                roles.iter().any(|r| r == "system") || system.as_deref().is_some_and(|s| !s.is_empty())
            );
        }
    }
}
