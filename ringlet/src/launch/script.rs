//! Rhai config scripts. Each agent has a script with `fn configure(ctx)` that returns the files
//! to write into the profile HOME and the env vars to set. Scripts run in a sandboxed engine:
//! no file or network access, and limits on operations, string size and call depth, so a bad
//! script ends in an error naming it, never a hang.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rhai::{Dynamic, Engine, Scope};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Stands in for the API key inside generated files. It is replaced with the real key only when
/// the file is written (mode 0600) into the profile HOME, so plans and logs never hold the key.
pub const KEY_PLACEHOLDER: &str = "{{ringlet:api_key}}";

/// Stands in for the last [`KEY_SUFFIX_CHARS`] characters of the API key, the way Claude Code
/// remembers which key its user approved (`customApiKeyResponses` in `.claude.json`). The suffix
/// is part of the secret, so like [`KEY_PLACEHOLDER`] it is filled in only when the file is
/// written, and it becomes "" when the run has no key.
pub const KEY_SUFFIX_PLACEHOLDER: &str = "{{ringlet:api_key_suffix}}";

/// How many trailing characters of the key [`KEY_SUFFIX_PLACEHOLDER`] stands for.
pub const KEY_SUFFIX_CHARS: usize = 20;

/// A planned file's content with the key placeholders filled in: [`KEY_PLACEHOLDER`] with the
/// key, [`KEY_SUFFIX_PLACEHOLDER`] with its last [`KEY_SUFFIX_CHARS`] characters (the whole key
/// when shorter). Without a key both become "" — a file that needs the key itself is refused
/// before this by the caller.
pub(crate) fn fill_key(content: &str, key: Option<&crate::credentials::Secret>) -> String {
    let key = key.map_or("", |k| k.expose());
    let suffix_at = key
        .char_indices()
        .rev()
        .nth(KEY_SUFFIX_CHARS - 1)
        .map_or(0, |(at, _)| at);
    content
        .replace(KEY_PLACEHOLDER, key)
        .replace(KEY_SUFFIX_PLACEHOLDER, &key[suffix_at..])
}

/// Upper bound on the operations one script run may take.
const MAX_OPERATIONS: u64 = 2_000_000;

/// What a config script is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptContext {
    /// The profile alias.
    pub alias: String,
    /// The agent id.
    pub agent: String,
    /// The provider id.
    pub provider: String,
    /// The provider's display name.
    pub provider_name: String,
    /// The wire format in use (`anthropic`, `openai-chat`, `openai-responses`, `gemini`).
    pub shape: String,
    /// The base URL for that wire format, following the shape's `/v1` convention.
    pub base_url: String,
    /// The model, or "" when the agent's own default applies.
    pub model: String,
    /// Whether a key will be supplied at launch.
    pub has_key: bool,
    /// `x-api-key` or `bearer`: how the provider wants the key on Anthropic-shaped endpoints.
    pub auth_scheme: String,
    /// The env var the agent reads its key from, per its manifest ("" if none).
    pub key_env: String,
    /// [`KEY_PLACEHOLDER`], for agents that can read their key only from a config file.
    pub key_placeholder: String,
    /// [`KEY_SUFFIX_PLACEHOLDER`]: the key's last 20 characters, for agents that remember an
    /// approved key by them (Claude Code).
    #[serde(default)]
    pub key_suffix_placeholder: String,
    /// The profile HOME (absolute).
    pub home: String,
    /// The directory the agent starts in (absolute).
    pub working_dir: String,
    /// The shell command that calls back into ringlet for a hook event, to be completed with
    /// the event name (`<hook_command> pre-tool-use`); it reads the agent's hook JSON on stdin
    /// and exits 2 with the reason on stderr to deny. "" when hooks cannot be wired.
    pub hook_command: String,
    /// The complete command for `pre-tool-use`: `hook_command pre-tool-use`, wrapped so that it
    /// also exits 2 (deny) when ringlet itself cannot run — agents treat other exit codes as
    /// "go ahead". "" when hooks cannot be wired.
    pub hook_gate_command: String,
    /// The MCP servers the agent gets (global and the profile's), by name; each script writes
    /// them in its agent's format. Secrets are only named here.
    #[serde(default)]
    pub mcp: BTreeMap<String, crate::mcp::ScriptMcp>,
}

/// What a config script returns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptOutput {
    /// Env vars to set.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Files to write into the profile HOME.
    #[serde(default)]
    pub files: Vec<ScriptFile>,
    /// Directories to create inside the profile HOME (for example a private `TMPDIR`).
    #[serde(default)]
    pub dirs: Vec<String>,
    /// Arguments placed before the profile's and the caller's.
    #[serde(default)]
    pub args: Vec<String>,
    /// The env var that should carry the key, when not the manifest's (for example
    /// `ANTHROPIC_AUTH_TOKEN` for gateways that want a bearer token).
    #[serde(default)]
    pub key_env: Option<String>,
    /// Hook events the agent reports itself through `hook_command` (so the launcher does not
    /// fire them too), for example `["stop"]` for Claude Code.
    #[serde(default)]
    pub native_events: Vec<String>,
}

/// One file a script wants written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptFile {
    /// Path relative to the profile HOME.
    pub path: String,
    /// JSON content (a map).
    #[serde(default)]
    pub json: Option<serde_json::Value>,
    /// TOML content (a map).
    #[serde(default)]
    pub toml: Option<serde_json::Value>,
    /// Plain text content.
    #[serde(default)]
    pub text: Option<String>,
    /// `replace` (default), `merge` (deep-merge into an existing JSON/TOML file, keeping what the
    /// agent wrote) or `create` (write only if missing).
    #[serde(default)]
    pub merge: Option<String>,
    /// Dotted paths of tables whose entries ringlet owns (for `merge`: see
    /// `PlannedFile::owned`), e.g. `["mcpServers"]`.
    #[serde(default)]
    pub owned: Vec<String>,
}

/// A compiled config script.
#[derive(Debug)]
pub struct Script {
    name: String,
    engine: Engine,
    ast: rhai::AST,
}

/// Where a script's source came from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ScriptSource {
    /// Embedded in the binary, by file name.
    BuiltIn(&'static str, &'static str),
    /// A user file.
    File(PathBuf),
}

/// The config-script engine: the core language, strings, arrays and maps, which is all a script
/// that turns a profile into env vars and files needs. Rhai's full standard package (math, time,
/// blobs, bit fields) costs ~0.56 M instructions to register, 8 % of a whole `profiles run`.
fn engine() -> Engine {
    use rhai::packages::{
        BasicArrayPackage, BasicMapPackage, CorePackage, MoreStringPackage, Package,
    };
    let mut engine = Engine::new_raw();
    engine.register_global_module(CorePackage::new().as_shared_module());
    engine.register_global_module(BasicArrayPackage::new().as_shared_module());
    engine.register_global_module(BasicMapPackage::new().as_shared_module());
    engine.register_global_module(MoreStringPackage::new().as_shared_module());
    engine.set_max_operations(MAX_OPERATIONS);
    engine.set_max_string_size(1 << 20);
    engine.set_max_array_size(10_000);
    engine.set_max_map_size(10_000);
    engine.set_max_call_levels(32);
    engine.set_max_expr_depths(64, 32);
    // Scripts must not load other files or evaluate strings as code.
    engine.set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new());
    engine.disable_symbol("eval");
    // print/debug would write to our stdout; config scripts have nothing to say there.
    engine.on_print(|_| {});
    engine.on_debug(|_, _, _| {});
    engine
}

impl ScriptSource {
    /// The script's name in messages and its text.
    pub fn read(&self) -> Result<(String, String)> {
        Ok(match self {
            ScriptSource::BuiltIn(name, text) => {
                (format!("<built-in>/{name}"), (*text).to_string())
            }
            ScriptSource::File(path) => (
                path.display().to_string(),
                crate::fsio::read_to_string(path)?,
            ),
        })
    }
}

impl Script {
    /// Compiles a script's text; `name` is what errors call it.
    pub fn compile(name: String, text: &str) -> Result<Self> {
        let engine = engine();
        let ast = engine.compile(text).map_err(|e| Error::Script {
            script: name.clone(),
            message: e.to_string(),
        })?;
        if !ast
            .iter_functions()
            .any(|f| f.name == "configure" && f.params.len() == 1)
        {
            return Err(Error::Script {
                script: name,
                message: "it must define `fn configure(ctx)`".into(),
            });
        }
        Ok(Self { name, engine, ast })
    }

    /// Runs `configure(ctx)`.
    pub fn run(&self, ctx: &ScriptContext) -> Result<ScriptOutput> {
        let fail = |message: String| Error::Script {
            script: self.name.clone(),
            message,
        };
        let ctx = rhai::serde::to_dynamic(ctx).map_err(|e| fail(e.to_string()))?;
        let result: Dynamic = self
            .engine
            .call_fn(&mut Scope::new(), &self.ast, "configure", (ctx,))
            .map_err(|e| fail(e.to_string()))?;
        rhai::serde::from_dynamic(&result)
            .map_err(|e| fail(format!("its result has the wrong shape: {e}")))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn ctx() -> ScriptContext {
        ScriptContext {
            alias: "w".into(),
            agent: "claude".into(),
            provider: "anthropic".into(),
            provider_name: "Anthropic".into(),
            shape: "anthropic".into(),
            base_url: "http://x".into(),
            model: "m".into(),
            has_key: true,
            auth_scheme: "x-api-key".into(),
            key_env: "ANTHROPIC_API_KEY".into(),
            key_placeholder: KEY_PLACEHOLDER.into(),
            key_suffix_placeholder: KEY_SUFFIX_PLACEHOLDER.into(),
            home: "/h".into(),
            working_dir: "/w".into(),
            hook_command: String::new(),
            hook_gate_command: String::new(),
            mcp: BTreeMap::new(),
        }
    }

    fn builtin(text: &'static str) -> Result<Script> {
        Script::compile("<built-in>/t.rhai".into(), text)
    }

    #[test]
    fn returns_env_and_files() {
        let s = builtin(
            r#"fn configure(ctx) { #{ env: #{ M: ctx.model }, files: [#{ path: "a.json", json: #{ k: 1 } }] } }"#,
        )
        .expect("compiles");
        let out = s.run(&ctx()).expect("runs");
        assert_eq!(out.env["M"], "m");
        assert_eq!(out.files[0].json, Some(serde_json::json!({"k": 1})));
    }

    #[test]
    fn infinite_loop_ends_at_the_limit_with_the_script_named() {
        let s = builtin("fn configure(ctx) { loop {} }").expect("compiles");
        let err = s.run(&ctx()).expect_err("limit");
        let msg = err.to_string();
        assert!(msg.contains("<built-in>/t.rhai"), "{msg}");
        assert!(msg.to_lowercase().contains("operations"), "{msg}");
    }

    #[test]
    fn deep_recursion_is_refused() {
        let s = builtin("fn f(n) { f(n + 1) } fn configure(ctx) { f(0) }").expect("compiles");
        assert!(s.run(&ctx()).is_err());
    }

    #[test]
    fn missing_configure_and_syntax_errors_are_named() {
        let err = builtin("fn other() {}").expect_err("no configure");
        assert!(err.to_string().contains("fn configure(ctx)"));
        let err = builtin("fn configure(ctx) { #{ ").expect_err("syntax");
        assert!(err.to_string().contains("t.rhai"));
    }

    #[test]
    fn cannot_import_or_eval() {
        let s = builtin(r#"fn configure(ctx) { import "/etc/passwd" as p; #{} }"#);
        assert!(s.is_err() || s.expect("compiled").run(&ctx()).is_err());
        let s = builtin(r#"fn configure(ctx) { eval("1") }"#);
        assert!(s.is_err() || s.expect("compiled").run(&ctx()).is_err());
    }

    #[test]
    fn the_key_and_its_last_20_characters_are_filled_in() {
        let key =
            crate::credentials::Secret::new("sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789");
        let text = format!("k={KEY_PLACEHOLDER} s={KEY_SUFFIX_PLACEHOLDER}");
        assert_eq!(
            fill_key(&text, Some(&key)),
            "k=sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789 s=qrstuvwxyz0123456789"
        );
        let short = crate::credentials::Secret::new("short-ключ");
        assert_eq!(fill_key(KEY_SUFFIX_PLACEHOLDER, Some(&short)), "short-ключ");
        let twenty = crate::credentials::Secret::new("ключ-ключ-ключ-ключ-ключ");
        assert_eq!(
            fill_key(KEY_SUFFIX_PLACEHOLDER, Some(&twenty)),
            "-ключ-ключ-ключ-ключ"
        );
        assert_eq!(fill_key(&text, None), "k= s=");
    }

    #[test]
    fn wrong_result_shape_is_explained() {
        let s = builtin(r#"fn configure(ctx) { #{ files: 3 } }"#).expect("compiles");
        let msg = s.run(&ctx()).expect_err("shape").to_string();
        assert!(msg.contains("wrong shape"), "{msg}");
    }
}
