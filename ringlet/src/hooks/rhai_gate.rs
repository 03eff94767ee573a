//! Rhai gate scripts: `fn on_pre_tool_use(ctx)` returning `allow()` or `deny(msg)`.
//!
//! The engine is sandboxed: Rhai itself has no file, network or process functions, module
//! loading and `eval` are off, `print`/`debug` go nowhere, and operations, string/array/map
//! sizes, call depth and wall-clock time are bounded — a runaway script ends in an error (and
//! so, for a gate, in a deny), never a hang.

use std::time::{Duration, Instant};

use rhai::{Dynamic, Engine, Map, Scope};

use super::context::HookContext;
use crate::error::{Error, Result};

/// The operations one gate run may take.
const MAX_OPERATIONS: u64 = 1_000_000;

/// The function a gate script defines.
pub(crate) const ENTRY: &str = "on_pre_tool_use";

/// What a gate script decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RhaiVerdict {
    /// `allow()`.
    Allow,
    /// `deny(msg)`.
    Deny(String),
}

fn engine(deadline: Option<(Instant, Duration)>) -> Engine {
    let mut engine = Engine::new();
    engine.set_max_operations(MAX_OPERATIONS);
    engine.set_max_string_size(1 << 20);
    engine.set_max_array_size(10_000);
    engine.set_max_map_size(10_000);
    engine.set_max_call_levels(32);
    engine.set_max_expr_depths(64, 32);
    engine.set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new());
    engine.disable_symbol("eval");
    engine.on_print(|_| {});
    engine.on_debug(|_, _, _| {});
    if let Some((start, limit)) = deadline {
        engine.on_progress(move |_| {
            (start.elapsed() > limit)
                .then(|| Dynamic::from(format!("ran longer than {} ms", limit.as_millis())))
        });
    }
    engine.register_fn("allow", || -> Map {
        let mut m = Map::new();
        m.insert("decision".into(), "allow".into());
        m
    });
    engine.register_fn("deny", |reason: &str| -> Map {
        let mut m = Map::new();
        m.insert("decision".into(), "deny".into());
        m.insert("reason".into(), reason.into());
        m
    });
    engine
}

/// Compiles `script` and checks it defines the entry point (used when a hook is added).
pub(crate) fn check(hook: &str, script: &str) -> Result<()> {
    let fail = |message: String| Error::Hook {
        hook: hook.to_string(),
        message,
    };
    let ast = engine(None)
        .compile(script)
        .map_err(|e| fail(format!("the Rhai script does not compile: {e}")))?;
    if !ast
        .iter_functions()
        .any(|f| f.name == ENTRY && f.params.len() == 1)
    {
        return Err(fail(format!(
            "the Rhai script must define `fn {ENTRY}(ctx)` returning allow() or deny(msg)"
        )));
    }
    Ok(())
}

/// Runs the gate. `Err` carries why the script could not decide (compile error, limit,
/// timeout, wrong result); callers treat that as a deny.
pub(crate) fn run(
    script: &str,
    ctx: &HookContext,
    timeout: Duration,
) -> std::result::Result<RhaiVerdict, String> {
    let engine = engine(Some((Instant::now(), timeout)));
    let ast = engine
        .compile(script)
        .map_err(|e| format!("the script does not compile: {e}"))?;
    let mut map = Map::new();
    let text = |v: &Option<String>| Dynamic::from(v.clone().unwrap_or_default());
    map.insert("event".into(), ctx.event.as_str().into());
    map.insert("profile".into(), ctx.profile.clone().into());
    map.insert("agent".into(), ctx.agent.clone().into());
    map.insert("provider".into(), ctx.provider.clone().into());
    map.insert("tool".into(), text(&ctx.tool));
    map.insert("tool_input".into(), text(&ctx.tool_input));
    map.insert("cwd".into(), text(&ctx.cwd));
    map.insert("session_id".into(), text(&ctx.session_id));
    let result: Dynamic = engine
        .call_fn(&mut Scope::new(), &ast, ENTRY, (map,))
        .map_err(|e| match *e {
            rhai::EvalAltResult::ErrorTerminated(ref why, _) => why.to_string(),
            other => other.to_string(),
        })?;
    let map = result
        .try_cast::<Map>()
        .ok_or_else(|| "it returned neither allow() nor deny(msg)".to_string())?;
    match map.get("decision").map(|d| d.to_string()).as_deref() {
        Some("allow") => Ok(RhaiVerdict::Allow),
        Some("deny") => Ok(RhaiVerdict::Deny(
            map.get("reason").map(|r| r.to_string()).unwrap_or_default(),
        )),
        _ => Err("it returned neither allow() nor deny(msg)".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::rule::HookEvent;

    fn ctx(input: &str) -> HookContext {
        let mut c = HookContext::new(HookEvent::PreToolUse, "prod", "claude", "anthropic");
        c.tool = Some("Bash".into());
        c.tool_input = Some(input.into());
        c
    }

    const GUARD: &str = r#"
        fn on_pre_tool_use(ctx) {
            if ctx.tool == "Bash" {
                for pattern in ["rm -rf /", "git push --force"] {
                    if ctx.tool_input.contains(pattern) {
                        return deny(`Pattern '${pattern}' is blocked on ${ctx.profile}.`);
                    }
                }
            }
            allow()
        }"#;

    #[test]
    fn allow_and_deny_with_a_reason() {
        let t = Duration::from_secs(2);
        assert_eq!(
            run(GUARD, &ctx(r#"{"command":"ls"}"#), t),
            Ok(RhaiVerdict::Allow)
        );
        assert_eq!(
            run(GUARD, &ctx(r#"{"command":"rm -rf /"}"#), t),
            Ok(RhaiVerdict::Deny(
                "Pattern 'rm -rf /' is blocked on prod.".into()
            ))
        );
    }

    #[test]
    fn an_infinite_loop_ends_at_the_operation_limit() {
        let started = Instant::now();
        let err = run(
            "fn on_pre_tool_use(ctx) { loop {} }",
            &ctx("{}"),
            Duration::from_secs(60),
        )
        .expect_err("limit");
        assert!(err.to_lowercase().contains("operations"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(30));
    }

    #[test]
    fn a_slow_script_ends_at_the_timeout() {
        // Few operations but a long time: string building under a short deadline.
        let err = run(
            r#"fn on_pre_tool_use(ctx) { let s = ""; for i in 0..900000 { s = `${i}`; } allow() }"#,
            &ctx("{}"),
            Duration::from_millis(1),
        )
        .expect_err("timeout");
        assert!(err.contains("ran longer than 1 ms"), "{err}");
    }

    #[test]
    fn scripts_cannot_read_files_import_or_eval() {
        let t = Duration::from_secs(2);
        for script in [
            r#"fn on_pre_tool_use(ctx) { let f = open_file("/etc/passwd"); deny(f.read_string()) }"#,
            r#"fn on_pre_tool_use(ctx) { import "/etc/passwd" as p; allow() }"#,
            r#"fn on_pre_tool_use(ctx) { eval("allow()") }"#,
            r#"fn on_pre_tool_use(ctx) { let x = read_file("/etc/passwd"); allow() }"#,
        ] {
            let out = run(script, &ctx("{}"), t);
            assert!(out.is_err(), "{script} gave {out:?}");
        }
    }

    #[test]
    fn wrong_results_and_missing_entry_points_are_explained() {
        let err = run(
            "fn on_pre_tool_use(ctx) { 42 }",
            &ctx("{}"),
            Duration::from_secs(2),
        )
        .expect_err("shape");
        assert!(err.contains("neither allow() nor deny(msg)"), "{err}");
        let err = check("h1", "fn other(ctx) { allow() }").expect_err("entry");
        assert!(err.to_string().contains("fn on_pre_tool_use(ctx)"), "{err}");
        check("h1", GUARD).expect("valid");
    }
}
