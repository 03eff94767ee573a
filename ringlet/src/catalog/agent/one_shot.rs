//! The one-shot form of an agent: how to hand it one prompt non-interactively, and how to read
//! its answer from what it prints. Each agent spells this differently (`claude -p …`, `codex
//! exec --skip-git-repo-check …`, `opencode run …`), so the manifest says it as data.

use serde::{Deserialize, Serialize};

use super::AgentManifest;
use crate::error::{Error, Result};

/// Stands for the prompt in a manifest's `one_shot` arguments.
pub const PROMPT_PLACEHOLDER: &str = "{prompt}";

/// How an agent's one-shot answer is read from its standard output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum OneShotAnswer {
    /// Standard output is the answer (trailing whitespace trimmed).
    #[default]
    Stdout,
    /// Standard output is JSON lines of chat messages (`{"role": …, "content": …}`); the answer
    /// is the content of the last `assistant` message (Grok CLI's `-p`).
    AssistantJsonl,
}

/// The arguments that run `manifest`'s agent on `prompt` non-interactively: its `one_shot`
/// arguments with every [`PROMPT_PLACEHOLDER`] replaced by the prompt, or the prompt appended
/// when none names it. The prompt is always one argument, never split or read by a shell.
pub fn one_shot_args(manifest: &AgentManifest, prompt: &str) -> Result<Vec<String>> {
    if manifest.one_shot.is_empty() {
        return Err(Error::InvalidInput(format!(
            "agent '{}' has no one-shot form: its manifest sets no `one_shot` arguments; add them (for example one_shot = [\"-p\", \"{PROMPT_PLACEHOLDER}\"]) or run it with `profiles run ALIAS -- ARGS`",
            manifest.id
        )));
    }
    let mut placed = false;
    let mut args: Vec<String> = manifest
        .one_shot
        .iter()
        .map(|a| {
            if a == PROMPT_PLACEHOLDER {
                placed = true;
                prompt.to_string()
            } else {
                a.clone()
            }
        })
        .collect();
    if !placed {
        args.push(prompt.to_string());
    }
    Ok(args)
}

/// The answer in an agent's one-shot standard output, per its manifest's `one_shot_answer`.
pub fn one_shot_answer(manifest: &AgentManifest, stdout: &str) -> String {
    match manifest.one_shot_answer {
        OneShotAnswer::Stdout => stdout.trim_end().to_string(),
        OneShotAnswer::AssistantJsonl => stdout
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|m| m["role"] == "assistant")
            .filter_map(|m| m["content"].as_str().map(str::to_string))
            .next_back()
            // Not the shape it should be (an older or newer agent): what it printed, rather
            // than nothing.
            .unwrap_or_else(|| stdout.trim_end().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(id: &str) -> AgentManifest {
        let (name, text) = crate::catalog::builtin::AGENTS
            .iter()
            .find(|(n, _)| *n == format!("{id}.toml"))
            .expect("built in");
        crate::catalog::manifest::parse(std::path::Path::new(name), text).expect("parses")
    }

    #[test]
    fn every_built_in_agent_has_a_one_shot_form_with_the_prompt_as_one_argument() {
        let prompt = "say \"hi\"; rm -rf / {prompt} $(x)";
        for (id, expected) in [
            ("claude", vec!["-p", prompt]),
            (
                "codex",
                vec!["exec", "--skip-git-repo-check", "--color", "never", prompt],
            ),
            ("opencode", vec!["run", prompt]),
            ("gemini", vec!["-p", prompt]),
            ("grok", vec!["-p", prompt]),
            ("droid", vec!["exec", prompt]),
        ] {
            assert_eq!(
                one_shot_args(&manifest(id), prompt).expect(id),
                expected,
                "{id}"
            );
        }
    }

    #[test]
    fn the_prompt_is_appended_when_no_argument_names_it_and_no_form_is_an_error() {
        let mut m = manifest("claude");
        m.one_shot = vec!["--print".into()];
        assert_eq!(
            one_shot_args(&m, "hi").expect("appended"),
            vec!["--print", "hi"]
        );
        m.one_shot.clear();
        let err = one_shot_args(&m, "hi").expect_err("no form");
        assert!(err.to_string().contains("one_shot"), "{err}");
    }

    #[test]
    fn grok_answers_in_json_lines_and_the_last_assistant_message_is_the_answer() {
        let m = manifest("grok");
        let out = "{\"role\":\"user\",\"content\":\"Say pong.\"}\n{\"role\":\"assistant\",\"content\":\"thinking\"}\n{\"role\":\"tool\",\"content\":\"x\"}\n{\"role\":\"assistant\",\"content\":\"pong\"}\n";
        assert_eq!(one_shot_answer(&m, out), "pong");
        assert_eq!(one_shot_answer(&m, "plain text\n"), "plain text");
        assert_eq!(one_shot_answer(&manifest("claude"), "pong\n\n"), "pong");
    }
}
