//! One prompt, any agent: [`Ringlet::prompt`] runs a profile's agent non-interactively on one
//! prompt, in the agent's own one-shot form (its manifest's `one_shot`), and returns the
//! answer. Everything a run does (config files, key, hooks, sandbox, ledger) applies.

use std::io::Read;

use serde::{Deserialize, Serialize};

use super::Ringlet;
use crate::catalog::agent::{one_shot_answer, one_shot_args};
use crate::error::{Error, Result};
use crate::launch::RunOptions;

/// How much of each stream a one-shot run keeps; an answer is far smaller, and an agent that
/// prints without end must not exhaust the caller's memory.
pub const MAX_PROMPT_OUTPUT: u64 = 16 << 20;

/// What a one-shot run answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PromptAnswer {
    /// The agent's answer, read from its output as its manifest says (`one_shot_answer`).
    pub answer: String,
    /// The agent's exit code (128 + N when killed by signal N).
    pub exit_code: i32,
    /// Everything it printed on standard output (up to [`MAX_PROMPT_OUTPUT`] bytes).
    pub stdout: String,
    /// Everything it printed on standard error (up to [`MAX_PROMPT_OUTPUT`] bytes).
    pub stderr: String,
}

impl Ringlet {
    /// The arguments that run profile `alias`'s agent on `prompt` non-interactively (its
    /// manifest's one-shot form with the prompt as one argument), followed by the profile's
    /// and the script's own when the run starts.
    pub fn one_shot_args(&self, alias: &str, prompt: &str) -> Result<Vec<String>> {
        let profile = self.profile(alias)?;
        let agent = self.catalogue().agent(&profile.agent)?;
        one_shot_args(agent.manifest(), prompt)
    }

    /// Runs profile `alias`'s agent on one prompt, non-interactively whatever the agent, and
    /// returns its answer and exit status. The agent's streams are piped (standard input is
    /// `/dev/null`, which some agents need to not wait for more input); `options` says the
    /// rest (sandbox, working directory, environment). A non-zero exit is not an error: the
    /// answer carries the code and what the agent printed.
    pub fn prompt(&self, alias: &str, prompt: &str, options: RunOptions) -> Result<PromptAnswer> {
        if prompt.trim().is_empty() {
            return Err(Error::InvalidInput(
                "the prompt is empty; give the agent something to answer".into(),
            ));
        }
        let args = self.one_shot_args(alias, prompt)?;
        let profile = self.profile(alias)?;
        let agent = self.catalogue().agent(&profile.agent)?;
        let manifest = agent.manifest().clone();
        let mut handle = self.start(alias, &args, options.piped())?;
        let output = handle.take_output();
        // Both streams at once: an agent blocked on a full stderr pipe never finishes stdout.
        let (stdout, stderr) = match output {
            Some(out) => {
                let err = std::thread::spawn(move || read_capped(out.stderr));
                let stdout = read_capped(out.stdout);
                (stdout, err.join().unwrap_or_default())
            }
            None => (String::new(), String::new()),
        };
        let outcome = handle.wait()?;
        Ok(PromptAnswer {
            answer: one_shot_answer(&manifest, &stdout),
            exit_code: outcome.exit_code,
            stdout,
            stderr,
        })
    }
}

/// A stream read to its end, keeping the first [`MAX_PROMPT_OUTPUT`] bytes (the rest is
/// drained, so the agent never blocks on a full pipe).
fn read_capped(stream: impl Read) -> String {
    let mut stream = stream;
    let mut kept = Vec::new();
    let _ = (&mut stream).take(MAX_PROMPT_OUTPUT).read_to_end(&mut kept);
    let _ = std::io::copy(&mut stream, &mut std::io::sink());
    String::from_utf8_lossy(&kept).into_owned()
}
