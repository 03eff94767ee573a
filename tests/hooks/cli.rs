//! `ringlet hooks …` through the binary: managing rules, dispatch as an agent calls it,
//! webhooks, the Rhai sandbox, and the launcher's `start`/`stop`.

use std::time::{Duration, Instant};

use ringlet_tests::harness::fake_agent_bin;
use serde_json::{Value, json};

use crate::receiver::Receiver;
use crate::{KEY, add_hook, dispatch, sandbox_with_fake_profile, wait_lines};

const BASH_RM: &str = r#"{"session_id":"s1","cwd":"/tmp","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"rm -rf /tmp/important"},"tool_use_id":"t1"}"#;
const BASH_LS: &str = r#"{"session_id":"s1","cwd":"/tmp","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"},"tool_use_id":"t2"}"#;
const GUARD: &str = r#"case "$RINGLET_TOOL_INPUT" in *"rm -rf"*) echo "rm -rf is blocked on $RINGLET_PROFILE" >&2; exit 1 ;; *) exit 0 ;; esac"#;

#[test]
fn add_list_test_remove_export_and_import() {
    let sb = sandbox_with_fake_profile();
    let guard = add_hook(
        &sb,
        &[
            "work",
            "--on",
            "pre-tool-use",
            "--matcher",
            "Bash",
            "--shell",
            GUARD,
        ],
    );
    let rollup = add_hook(
        &sb,
        &[
            "--all-profiles",
            "--on",
            "daily-rollup",
            "--webhook",
            "https://hooks.example.test/services/T0/B0/very-secret",
            "--webhook-template",
            r#"{"text":"Yesterday: $RINGLET_TOTAL_USD across $RINGLET_PROFILE_COUNT profiles"}"#,
        ],
    );
    assert!(
        sb.profile_dir("work")
            .join(format!("hooks/{guard}.toml"))
            .is_file()
    );
    assert!(
        sb.ringlet_home()
            .join(format!("config/hooks/{rollup}.toml"))
            .is_file()
    );

    let list = sb.run(["hooks", "list", "--json"]).ok().json();
    let ids: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["rule"]["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [rollup.as_str(), guard.as_str()]);
    assert_eq!(list[1]["profile"], "work");
    assert_eq!(list[1]["rule"]["matcher"], "Bash");
    let table = sb.run(["hooks", "list"]).ok().stdout;
    assert!(table.starts_with("ID"), "{table}");
    assert!(table.contains("https://hooks.example.test/…"), "{table}");
    assert!(
        !table.contains("very-secret"),
        "webhook secrets stay out of listings: {table}"
    );

    // Dry runs show the decision.
    let payload = sb.root().join("rm.json");
    std::fs::write(&payload, BASH_RM).expect("payload");
    let out = sb.run([
        "hooks",
        "test",
        &guard,
        "--payload",
        payload.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        out.stdout.trim(),
        format!("deny: denied by ringlet hook {guard}: rm -rf is blocked on work")
    );
    assert_eq!(out.code, 2, "a deny exits 2, as dispatch does");
    std::fs::write(&payload, BASH_LS).expect("payload");
    let out = sb
        .run([
            "hooks",
            "test",
            &guard,
            "--payload",
            payload.to_str().expect("utf-8"),
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(out["decision"]["decision"], "allow");
    std::fs::write(&payload, r#"{"tool_name":"Write","tool_input":{}}"#).expect("payload");
    let out = sb
        .run([
            "hooks",
            "test",
            &guard,
            "--payload",
            payload.to_str().expect("utf-8"),
        ])
        .ok();
    assert!(out.stdout.starts_with("not applicable"), "{}", out.stdout);

    // Export, remove everything, import: the same rules come back; a second import adds nothing.
    let exported = sb.run(["hooks", "export"]).ok().stdout;
    assert!(
        exported.contains("[[hooks]]") && exported.contains("very-secret"),
        "{exported}"
    );
    let file = sb.root().join("hooks.toml");
    std::fs::write(&file, &exported).expect("export file");
    sb.run(["hooks", "remove", &guard]).ok();
    sb.run(["hooks", "remove", &rollup]).ok();
    assert_eq!(sb.run(["hooks", "list", "--json"]).ok().json(), json!([]));
    sb.run(["hooks", "remove", &guard])
        .fails_with("no hook with id");
    let report = sb
        .run(["hooks", "import", file.to_str().expect("utf-8"), "--json"])
        .ok()
        .json();
    assert_eq!(report["added"].as_array().map(Vec::len), Some(2));
    assert_eq!(sb.run(["hooks", "list", "--json"]).ok().json(), list);
    let report = sb
        .run(["hooks", "import", file.to_str().expect("utf-8"), "--json"])
        .ok()
        .json();
    assert_eq!(report["unchanged"].as_array().map(Vec::len), Some(2));
}

/// `hooks test` exits 2 on a deny, and tests a matcher-bound hook against a tool its matcher
/// names — or asks for `--tool` when the matcher names none — never against an empty tool name.
#[test]
fn hooks_test_reports_a_deny_in_its_exit_code_and_picks_a_matching_tool() {
    let sb = sandbox_with_fake_profile();
    let deny_all = r#"echo "no $RINGLET_TOOL" >&2; exit 1"#;
    let writes = add_hook(
        &sb,
        &[
            "work",
            "--on",
            "pre-tool-use",
            "--matcher",
            "Write|Edit",
            "--shell",
            deny_all,
        ],
    );
    let out = sb.run(["hooks", "test", &writes]);
    assert_eq!(
        (out.code, out.stdout.trim()),
        (
            2,
            format!("deny: denied by ringlet hook {writes}: no Write").as_str()
        ),
        "{}",
        out.stderr
    );
    let out = sb.run(["hooks", "test", &writes, "--tool", "Edit", "--json"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.json()["context"]["tool"], "Edit");
    let out = sb.run(["hooks", "test", &writes, "--tool", "Bash"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("not applicable"), "{}", out.stdout);

    let mcp = add_hook(
        &sb,
        &[
            "work",
            "--on",
            "pre-tool-use",
            "--matcher",
            "mcp__*",
            "--shell",
            deny_all,
        ],
    );
    sb.run(["hooks", "test", &mcp]).fails_with("--tool");
    let out = sb.run(["hooks", "test", &mcp, "--tool", "mcp__fs__read"]);
    assert_eq!(
        (out.code, out.stdout.trim()),
        (
            2,
            format!("deny: denied by ringlet hook {mcp}: no mcp__fs__read").as_str()
        )
    );

    let allow = add_hook(&sb, &["work", "--on", "pre-tool-use", "--shell", "exit 0"]);
    let out = sb.run(["hooks", "test", &allow]).ok();
    assert_eq!(out.stdout.trim(), "allow");
}

#[test]
fn bad_hooks_are_refused_with_what_to_do() {
    let sb = sandbox_with_fake_profile();
    sb.run(["hooks", "add", "nope", "--on", "stop", "--shell", "true"])
        .fails_with("profile 'nope' not found");
    sb.run([
        "hooks", "add", "work", "--on", "pre-tool", "--shell", "true",
    ])
    .fails_with("unknown hook event 'pre-tool'");
    sb.run([
        "hooks",
        "add",
        "work",
        "--on",
        "stop",
        "--matcher",
        "Bash",
        "--shell",
        "true",
    ])
    .fails_with("a matcher applies to pre-tool-use and tool-use hooks");
    sb.run([
        "hooks",
        "add",
        "work",
        "--on",
        "cost-threshold",
        "--shell",
        "true",
    ])
    .fails_with("a cost-threshold hook needs a threshold in USD and a period (day or month); pass --threshold");
    sb.run([
        "hooks",
        "add",
        "work",
        "--on",
        "cost-threshold",
        "--threshold",
        "160",
        "--shell",
        "true",
    ])
    .fails_with("a threshold needs a period: day or month; pass --period");
    sb.run([
        "hooks",
        "add",
        "work",
        "--on",
        "cost-threshold",
        "--period",
        "month",
        "--threshold",
        "160",
        "--of",
        "100",
        "--shell",
        "true",
    ])
    .fails_with("of (the budget, 100) must be at least the threshold (160)");
    sb.run([
        "hooks",
        "add",
        "work",
        "--on",
        "tool-use",
        "--webhook",
        "http://x",
        "--webhook-template",
        "{\"a\": $RINGLET_TOOL}",
    ])
    .fails_with("not JSON");
    let script = sb.root().join("g.rhai");
    std::fs::write(&script, "fn on_pre_tool_use(ctx) { allow() }").expect("script");
    sb.run([
        "hooks",
        "add",
        "work",
        "--on",
        "stop",
        "--rhai",
        script.to_str().expect("utf-8"),
    ])
    .fails_with("Rhai hooks decide pre-tool-use calls");
    let json = sb.run([
        "hooks", "add", "work", "--on", "nope", "--shell", "true", "--json",
    ]);
    assert_ne!(json.code, 0);
    let err: Value = serde_json::from_str(json.stderr.trim()).expect("JSON error");
    assert_eq!(err["error"]["code"], "invalid_input");
    assert_eq!(sb.run(["hooks", "list", "--json"]).ok().json(), json!([]));
}

#[test]
fn dispatch_denies_with_exit_2_and_never_hands_the_key_to_a_hook() {
    let mut sb = sandbox_with_fake_profile();
    // The agent's own environment holds its key; the hook must not inherit it.
    let agent_key = "sk-agent-env-canary-19f3";
    sb.env("OPENAI_API_KEY", agent_key)
        .env("ANTHROPIC_API_KEY", agent_key);
    let env_dump = sb.root().join("hook-env.txt");
    let guard = add_hook(
        &sb,
        &[
            "work",
            "--on",
            "pre-tool-use",
            "--shell",
            &format!("env > '{}'; {GUARD}", env_dump.display()),
        ],
    );
    let out = dispatch(&sb, "work", "pre-tool-use", BASH_RM);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(
        out.stderr.trim(),
        format!("denied by ringlet hook {guard}: rm -rf is blocked on work")
    );
    assert!(
        out.stdout.is_empty(),
        "Claude Code reads stdout as JSON: {}",
        out.stdout
    );
    let env = std::fs::read_to_string(&env_dump).expect("hook ran");
    assert!(env.contains("RINGLET_TOOL=Bash"), "{env}");
    assert!(
        env.contains(r#"RINGLET_TOOL_INPUT={"command":"rm -rf /tmp/important"}"#),
        "{env}"
    );
    assert!(
        env.contains("RINGLET_AGENT=codex") && env.contains("RINGLET_PROVIDER=openai"),
        "{env}"
    );
    assert!(
        !env.contains(agent_key),
        "the agent's API key reached a hook"
    );

    let out = dispatch(&sb, "work", "pre-tool-use", BASH_LS);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
}

#[test]
fn dispatch_fails_closed_when_it_cannot_decide() {
    let sb = sandbox_with_fake_profile();
    let dir = sb.profile_dir("work").join("hooks");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("broken.toml"), "id = \"broken\"\nevent = \n").expect("write");
    let out = dispatch(&sb, "work", "pre-tool-use", BASH_LS);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("broken.toml"), "{}", out.stderr);
    assert!(!out.stderr.contains("hooks remove"), "{}", out.stderr);
    // Not a gate: the agent goes on.
    assert_eq!(dispatch(&sb, "work", "stop", "{}").code, 0);
    std::fs::remove_file(dir.join("broken.toml")).expect("rm");

    // Garbage on stdin, unknown profiles and unknown events deny too.
    let out = dispatch(&sb, "work", "pre-tool-use", "{not json");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("not JSON"), "{}", out.stderr);
    let out = dispatch(&sb, "ghost", "pre-tool-use", BASH_LS);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("ghost") && !out.stderr.contains("hooks remove"),
        "no hook to remove when dispatch itself fails: {}",
        out.stderr
    );
    assert_eq!(dispatch(&sb, "work", "pre-tool-usage", BASH_LS).code, 2);
    // ringlet's own files unreadable: config.toml broken.
    std::fs::write(sb.ringlet_home().join("config/config.toml"), "[[[").expect("write");
    let out = dispatch(&sb, "work", "pre-tool-use", BASH_LS);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("config.toml"), "{}", out.stderr);
}

/// Every file and stdin read is capped: an endless input (`/dev/zero`) is refused at its
/// documented limit, naming it, instead of filling memory.
#[cfg(unix)]
#[test]
fn endless_inputs_are_refused_at_their_limit() {
    let sb = sandbox_with_fake_profile();
    let zero = || std::fs::File::open("/dev/zero").expect("/dev/zero");
    let limit = Duration::from_secs(60);

    let mut cmd = sb.command([
        "hooks",
        "add",
        "work",
        "--on",
        "pre-tool-use",
        "--rhai",
        "/dev/zero",
    ]);
    let out = crate::run_bounded(cmd.stdin(std::process::Stdio::null()), limit);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("/dev/zero") && out.stderr.contains("larger than 1 MiB"),
        "{}",
        out.stderr
    );

    let id = add_hook(&sb, &["work", "--on", "pre-tool-use", "--shell", GUARD]);
    for args in [
        vec!["hooks", "test", id.as_str(), "--payload", "/dev/zero"],
        vec!["hooks", "test", id.as_str(), "--payload", "-"],
        vec!["hooks", "import", "/dev/zero"],
        vec!["hooks", "import", "-"],
    ] {
        let mut cmd = sb.command(&args);
        let out = crate::run_bounded(cmd.stdin(zero()), limit);
        let name = if args[args.len() - 1] == "-" {
            "stdin"
        } else {
            "/dev/zero"
        };
        assert_ne!(out.code, 0, "{args:?}");
        assert!(
            out.stderr.contains(name) && out.stderr.contains("larger than 16 MiB"),
            "{args:?}: {}",
            out.stderr
        );
    }

    // An agent's endless stdin denies a gated call, naming the limit.
    let mut cmd = sb.command([
        "hooks",
        "dispatch",
        "--profile",
        "work",
        "--event",
        "pre-tool-use",
    ]);
    let out = crate::run_bounded(cmd.stdin(zero()), limit);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("stdin") && out.stderr.contains("larger than 16 MiB"),
        "{}",
        out.stderr
    );
    assert_eq!(
        sb.run(["hooks", "list", "--json"])
            .ok()
            .json()
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[test]
fn rhai_gates_are_sandboxed_and_bounded() {
    let sb = sandbox_with_fake_profile();
    let write = |name: &str, text: &str| {
        let p = sb.root().join(name);
        std::fs::write(&p, text).expect("script");
        p.display().to_string()
    };
    let guard = write(
        "guard.rhai",
        r#"fn on_pre_tool_use(ctx) {
            if ctx.tool == "Bash" && ctx.tool_input.contains("rm -rf") {
                return deny(`Pattern 'rm -rf' is blocked on ${ctx.profile}.`);
            }
            allow()
        }"#,
    );
    let id = add_hook(&sb, &["work", "--on", "pre-tool-use", "--rhai", &guard]);
    let out = dispatch(&sb, "work", "pre-tool-use", BASH_RM);
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr.trim(),
        format!("denied by ringlet hook {id}: Pattern 'rm -rf' is blocked on work.")
    );
    assert_eq!(dispatch(&sb, "work", "pre-tool-use", BASH_LS).code, 0);
    sb.run(["hooks", "remove", &id]).ok();

    // An infinite loop ends at the operation limit and denies, naming the hook.
    let looping = write("loop.rhai", "fn on_pre_tool_use(ctx) { loop { } }");
    let id = add_hook(
        &sb,
        &[
            "work",
            "--on",
            "pre-tool-use",
            "--rhai",
            &looping,
            "--timeout",
            "60000",
        ],
    );
    let started = Instant::now();
    let out = dispatch(&sb, "work", "pre-tool-use", BASH_LS);
    assert_eq!(out.code, 2);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        out.stderr.contains(&id) && out.stderr.to_lowercase().contains("operations"),
        "{}",
        out.stderr
    );
    sb.run(["hooks", "remove", &id]).ok();

    // A script cannot read files: there is no function for it, and the gate fails closed.
    let secret = sb.root().join("secret.txt");
    std::fs::write(&secret, "top secret").expect("secret");
    let reader = write(
        "read.rhai",
        &format!(
            r#"fn on_pre_tool_use(ctx) {{ let f = open_file("{}"); deny(f.read_string()) }}"#,
            secret.display()
        ),
    );
    let id = add_hook(&sb, &["work", "--on", "pre-tool-use", "--rhai", &reader]);
    let out = dispatch(&sb, "work", "pre-tool-use", BASH_LS);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("open_file") && !out.stderr.contains("top secret"),
        "{}",
        out.stderr
    );
    sb.run(["hooks", "remove", &id]).ok();
}

#[test]
fn a_webhook_gets_the_substituted_template() {
    let sb = sandbox_with_fake_profile();
    let rx = Receiver::start(200, "{}", Duration::ZERO);
    add_hook(
        &sb,
        &[
            "work",
            "--on",
            "tool-use",
            "--webhook",
            &rx.url,
            "--webhook-template",
            r#"{"text":"$RINGLET_PROFILE ran $RINGLET_TOOL: ${RINGLET_TOOL_INPUT} $(id) $HOME","agent":"$RINGLET_AGENT"}"#,
        ],
    );
    let post = r#"{"hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"echo \"hi\""},"tool_response":{"stdout":"hi"}}"#;
    let out = dispatch(&sb, "work", "tool-use", post);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let got = rx.wait(1, Duration::from_secs(10));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/hook/secret-token");
    assert_eq!(got[0].content_type.as_deref(), Some("application/json"));
    let body: Value = serde_json::from_str(&got[0].body).expect("the body is JSON");
    assert_eq!(
        body["text"],
        r#"work ran Bash: {"command":"echo \"hi\""} $(id) $HOME"#
    );
    assert_eq!(body["agent"], "codex");
}

#[test]
fn a_gating_webhook_that_times_out_denies_naming_the_hook() {
    let sb = sandbox_with_fake_profile();
    let slow = Receiver::start(200, "{}", Duration::from_secs(10));
    let id = add_hook(
        &sb,
        &[
            "work",
            "--on",
            "pre-tool-use",
            "--webhook",
            &slow.url,
            "--timeout",
            "300",
        ],
    );
    let started = Instant::now();
    let out = dispatch(&sb, "work", "pre-tool-use", BASH_LS);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains(&id) && out.stderr.contains("timed out after 300 ms"),
        "{}",
        out.stderr
    );
    sb.run(["hooks", "remove", &id]).ok();

    // A 2xx answer allows unless it says deny; other statuses fail closed.
    let deny = Receiver::start(
        200,
        r#"{"decision":"deny","reason":"change freeze"}"#,
        Duration::ZERO,
    );
    let id = add_hook(
        &sb,
        &["work", "--on", "pre-tool-use", "--webhook", &deny.url],
    );
    let out = dispatch(&sb, "work", "pre-tool-use", BASH_LS);
    assert_eq!(
        (out.code, out.stderr.trim()),
        (
            2,
            format!("denied by ringlet hook {id}: change freeze").as_str()
        )
    );
    sb.run(["hooks", "remove", &id]).ok();
    let broken = Receiver::start(500, "{}", Duration::ZERO);
    let id = add_hook(
        &sb,
        &["work", "--on", "pre-tool-use", "--webhook", &broken.url],
    );
    let out = dispatch(&sb, "work", "pre-tool-use", BASH_LS);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("HTTP 500"), "{}", out.stderr);
    sb.run(["hooks", "remove", &id]).ok();
    let ok = Receiver::start(204, "", Duration::ZERO);
    add_hook(&sb, &["work", "--on", "pre-tool-use", "--webhook", &ok.url]);
    assert_eq!(dispatch(&sb, "work", "pre-tool-use", BASH_LS).code, 0);
}

/// The issue's reproduction: a pre-tool-use webhook whose answer stalls, is cut off, is padded
/// past the read limit or starts with a byte order mark must deny `rm -rf /`, never allow it.
#[test]
fn a_gating_webhook_with_a_broken_answer_denies() {
    let sb = sandbox_with_fake_profile();
    let server = crate::receiver::start_misbehaving();
    let rm = r#"{"tool_name":"Bash","tool_input":{"command":"rm -rf /"}}"#;
    for (path, why) in [
        ("/slow", "timed out after 1000 ms"),
        ("/cut", "cut off"),
        ("/big", "larger than 64 KiB"),
        ("/bom", "BOM deny"),
    ] {
        let id = add_hook(
            &sb,
            &[
                "work",
                "--on",
                "pre-tool-use",
                "--webhook",
                &format!("{server}{path}"),
                "--timeout",
                "1000",
            ],
        );
        let started = Instant::now();
        let out = dispatch(&sb, "work", "pre-tool-use", rm);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{path} took {:?}",
            started.elapsed()
        );
        assert_eq!(out.code, 2, "{path} let rm -rf / through: {}", out.stderr);
        assert!(
            out.stderr.contains(&id) && out.stderr.contains(why),
            "{path}: {}",
            out.stderr
        );
        sb.run(["hooks", "remove", &id]).ok();
    }
}

/// A webhook that cannot be reached says so once: not `failed: failed: io: Connection refused`.
#[test]
fn a_failed_webhook_names_its_cause_once() {
    let sb = sandbox_with_fake_profile();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("binds")
        .local_addr()
        .expect("addr")
        .port();
    let url = format!("http://127.0.0.1:{port}/");
    let stop = add_hook(&sb, &["work", "--on", "stop", "--webhook", &url]);
    let out = sb.run(["hooks", "test", &stop]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout
            .trim()
            .starts_with("failed: could not reach the webhook: Connection refused"),
        "{}",
        out.stdout
    );
    assert_eq!(out.stdout.matches("failed").count(), 1, "{}", out.stdout);
    // The launcher's warning for the same failure.
    let out = sb.run(["profiles", "run", "work"]).ok();
    let warning = out
        .warnings()
        .into_iter()
        .find(|w| w.contains(&stop))
        .unwrap_or_else(|| panic!("no warning for {stop}: {}", out.stderr))
        .to_string();
    assert_eq!(warning.matches("failed").count(), 1, "{warning}");
    assert_eq!(
        warning.matches("Connection refused").count(),
        1,
        "{warning}"
    );
    assert!(!warning.contains("io:"), "{warning}");
}

#[test]
fn a_non_gating_hook_never_holds_the_agent() {
    let sb = sandbox_with_fake_profile();
    let done = sb.root().join("done.txt");
    add_hook(
        &sb,
        &[
            "work",
            "--on",
            "tool-use",
            "--shell",
            &format!("sleep 2; echo done > '{}'", done.display()),
            // Longer than the sleep: at its timeout the hook's process group is killed.
            "--timeout",
            "20000",
        ],
    );
    let started = Instant::now();
    let out = dispatch(
        &sb,
        "work",
        "tool-use",
        r#"{"tool_name":"Bash","tool_input":{}}"#,
    );
    assert_eq!(out.code, 0);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "dispatch waited {:?}",
        started.elapsed()
    );
    assert_eq!(wait_lines(&done, 1, Duration::from_secs(10)), ["done"]);
}

/// The live (not zombie) processes in process group `pgid`, from /proc.
#[cfg(target_os = "linux")]
fn group_members(pgid: &str) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid {
            out.push(name);
        }
    }
    out
}

/// The issue's reproduction: a `start` hook (`sleep 46.5`, `--timeout 1000`) ran on under PID 1
/// after ringlet exited. Detached hooks — from the launcher and from `hooks dispatch` — are
/// killed with their whole process group at their timeout, with ringlet long gone.
#[cfg(target_os = "linux")]
#[test]
fn detached_hooks_die_at_their_timeout_after_ringlet_exits() {
    let sb = sandbox_with_fake_profile();
    let hook = |event: &str, name: &str| {
        let file = sb.root().join(name);
        add_hook(
            &sb,
            &[
                "work",
                "--on",
                event,
                "--shell",
                &format!(
                    r#"cut -d" " -f5 /proc/$$/stat > '{}'; sleep 46.5 & sleep 46.5"#,
                    file.display()
                ),
                "--timeout",
                "1000",
            ],
        );
        file
    };
    let started_file = hook("start", "start.pgid");
    let tool_file = hook("tool-use", "tool.pgid");
    sb.run(["profiles", "run", "work"]).ok();
    let out = dispatch(&sb, "work", "tool-use", r#"{"tool_name":"Bash"}"#);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for file in [started_file, tool_file] {
        let pgid = wait_lines(&file, 1, Duration::from_secs(10));
        assert_eq!(pgid.len(), 1, "{} was not written", file.display());
        let deadline = Instant::now() + Duration::from_secs(6);
        let left = loop {
            let left = group_members(&pgid[0]);
            if left.is_empty() || Instant::now() >= deadline {
                break left;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(
            left.is_empty(),
            "{}: processes {left:?} outlived the hook's 1000 ms timeout",
            file.display()
        );
    }
}

#[test]
fn the_launcher_fires_start_and_stop_for_any_agent() {
    let sb = sandbox_with_fake_profile();
    let log = sb.root().join("events.log");
    let line = format!(
        r#"echo "$RINGLET_EVENT $RINGLET_PROFILE $RINGLET_AGENT $RINGLET_PROVIDER ${{RINGLET_EXIT_CODE:-none}} ${{RINGLET_DURATION_MS:-none}}" >> '{}'"#,
        log.display()
    );
    add_hook(&sb, &["work", "--on", "start", "--shell", &line]);
    add_hook(&sb, &["--all-profiles", "--on", "stop", "--shell", &line]);
    let out = sb.run([
        "profiles",
        "run",
        "work",
        "--",
        "--sleep-ms",
        "300",
        "--exit",
        "3",
    ]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let mut lines = wait_lines(&log, 2, Duration::from_secs(10));
    lines.sort();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0], "start work codex openai none none");
    let stop: Vec<&str> = lines[1].split(' ').collect();
    assert_eq!(stop[..5], ["stop", "work", "codex", "openai", "3"]);
    let ms: u64 = stop[5].parse().expect("duration");
    assert!((300..60_000).contains(&ms), "{ms}");
}

#[test]
fn claude_profiles_get_settings_that_call_back_into_this_ringlet() {
    let mut sb = ringlet_tests::harness::Sandbox::new();
    sb.env("TEST_KEY", KEY);
    sb.run([
        "profiles",
        "create",
        "claude",
        "cc",
        "--provider",
        "anthropic",
        "--model",
        "m",
        "--key-from-env",
        "TEST_KEY",
        "--binary",
        fake_agent_bin().to_str().expect("utf-8"),
    ])
    .ok();
    let guard = add_hook(&sb, &["cc", "--on", "pre-tool-use", "--shell", GUARD]);
    sb.run(["profiles", "run", "cc"]).ok();
    let settings: Value = serde_json::from_str(
        &std::fs::read_to_string(sb.profile_home("cc").join(".claude/settings.json"))
            .expect("settings"),
    )
    .expect("JSON");
    assert_eq!(
        settings["env"]["DISABLE_TELEMETRY"], "1",
        "the existing settings stay"
    );
    let hooks = &settings["hooks"];
    for (claude_event, ours) in [
        ("PreToolUse", "pre-tool-use"),
        ("PostToolUse", "tool-use"),
        ("PostToolUseFailure", "tool-use"),
        ("Stop", "stop"),
        ("Notification", "notify"),
    ] {
        let cmd = hooks[claude_event][0]["hooks"][0]["command"]
            .as_str()
            .expect("command");
        // The gate is wrapped so that it denies even when ringlet cannot run.
        let (start, end) = if ours == "pre-tool-use" {
            ("{ '", format!("--event {ours}; }}"))
        } else {
            ("'", format!("--event {ours}"))
        };
        assert!(cmd.contains(&end), "{cmd}");
        assert!(
            cmd.starts_with(&format!(
                "{start}{}' hooks dispatch",
                ringlet_tests::harness::ringlet_bin().display()
            )),
            "{cmd}"
        );
        assert!(
            cmd.contains(&sb.ringlet_home().join("config").display().to_string()),
            "{cmd}"
        );
        // Far above ringlet's own limits: Claude timing a hook out would let the tool run.
        assert_eq!(hooks[claude_event][0]["hooks"][0]["timeout"], 3600);
    }
    // Run exactly as Claude Code would: through a shell, with a HOME that is the profile's and
    // no RINGLET_HOME.
    let cmd = hooks["PreToolUse"][0]["hooks"][0]["command"]
        .as_str()
        .expect("command");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("printf '%s' '{BASH_RM}' | {cmd}"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", sb.profile_home("cc"))
        .output()
        .expect("sh runs");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&guard) && !stderr.contains("could not run"),
        "{stderr}"
    );

    // With the ringlet binary gone, the gate still denies.
    let gone = cmd.replace(
        &ringlet_tests::harness::ringlet_bin().display().to_string(),
        "/nonexistent/ringlet",
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("printf '%s' '{BASH_LS}' | {gone}"))
        .output()
        .expect("sh runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not run"));
}

/// `~` in a hook means the user's HOME whoever fires it — the agent (whose HOME is the
/// profile's), the launcher or `hooks test` — so the README's `~/audit.jsonl` recipe writes
/// where the user looks; the profile's HOME is in RINGLET_PROFILE_HOME.
#[test]
fn hooks_run_with_the_users_home_whoever_fires_them() {
    let mut sb = ringlet_tests::harness::Sandbox::new();
    sb.env("TEST_KEY", KEY);
    sb.run([
        "profiles",
        "create",
        "claude",
        "cc",
        "--provider",
        "anthropic",
        "--model",
        "m",
        "--key-from-env",
        "TEST_KEY",
        "--binary",
        fake_agent_bin().to_str().expect("utf-8"),
    ])
    .ok();
    let user_home = sb.root().join("user-home");
    std::fs::create_dir_all(&user_home).expect("user home");
    add_hook(
        &sb,
        &[
            "cc",
            "--on",
            "tool-use",
            "--shell",
            "{ cat; echo; } >> ~/audit.jsonl",
        ],
    );
    let record = r#"echo "$RINGLET_EVENT $HOME $RINGLET_PROFILE_HOME" >> ~/homes.log"#;
    let gate = add_hook(&sb, &["cc", "--on", "pre-tool-use", "--shell", record]);
    add_hook(&sb, &["cc", "--on", "start", "--shell", record]);
    sb.run(["profiles", "run", "cc"]).ok();
    let settings: Value = serde_json::from_str(
        &std::fs::read_to_string(sb.profile_home("cc").join(".claude/settings.json"))
            .expect("settings"),
    )
    .expect("JSON");
    // Run Claude Code's callbacks as it does: a shell with the profile's HOME.
    for (claude_event, input) in [
        ("PreToolUse", BASH_LS),
        (
            "PostToolUse",
            r#"{"hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"ls"},"tool_response":{"stdout":"ok"}}"#,
        ),
    ] {
        let cmd = settings["hooks"][claude_event][0]["hooks"][0]["command"]
            .as_str()
            .expect("command");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf '%s' '{input}' | {cmd}"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", sb.profile_home("cc"))
            .output()
            .expect("sh runs");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{claude_event}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let payload = sb.root().join("ls.json");
    std::fs::write(&payload, BASH_LS).expect("payload");
    sb.run([
        "hooks",
        "test",
        &gate,
        "--payload",
        payload.to_str().expect("utf-8"),
    ])
    .ok();

    let audit = wait_lines(&user_home.join("audit.jsonl"), 1, Duration::from_secs(10));
    assert_eq!(
        audit.len(),
        1,
        "the agent's tool call reached ~/audit.jsonl"
    );
    let line: Value = serde_json::from_str(&audit[0]).expect("JSON line");
    assert_eq!(line["tool"], "Bash");
    let mut homes = wait_lines(&user_home.join("homes.log"), 3, Duration::from_secs(10));
    homes.sort();
    let profile_home = sb.profile_home("cc");
    let (user, profile) = (user_home.display(), profile_home.display());
    assert_eq!(
        homes,
        [
            format!("pre-tool-use {user} {profile}"),
            format!("pre-tool-use {user} {profile}"),
            format!("start {user} {profile}"),
        ]
    );
    assert!(
        !sb.profile_home("cc").join("audit.jsonl").exists()
            && !sb.profile_home("cc").join("homes.log").exists(),
        "nothing went to the profile's HOME"
    );
}

#[test]
fn dispatch_needs_no_keychain() {
    let sb = sandbox_with_fake_profile();
    add_hook(&sb, &["work", "--on", "pre-tool-use", "--shell", GUARD]);
    // No D-Bus session here: a keychain-only backend cannot be reached, yet gates still decide.
    std::fs::write(
        sb.ringlet_home().join("config/config.toml"),
        "[credentials]\nbackend = \"system-only\"\n",
    )
    .expect("config");
    sb.run(["keychain", "list"]).fails_with("keychain");
    assert_eq!(dispatch(&sb, "work", "pre-tool-use", BASH_LS).code, 0);
    assert_eq!(dispatch(&sb, "work", "pre-tool-use", BASH_RM).code, 2);
}

#[test]
fn notify_hooks_get_the_agents_message() {
    let sb = sandbox_with_fake_profile();
    let log = sb.root().join("notify.log");
    add_hook(
        &sb,
        &[
            "--all-profiles",
            "--on",
            "notify",
            "--shell",
            &format!(
                r#"echo "$RINGLET_PROFILE: $RINGLET_MESSAGE" >> '{}'"#,
                log.display()
            ),
        ],
    );
    let out = dispatch(
        &sb,
        "work",
        "notify",
        r#"{"session_id":"s","hook_event_name":"Notification","message":"Claude needs your permission to use Bash"}"#,
    );
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(
        wait_lines(&log, 1, Duration::from_secs(10)),
        ["work: Claude needs your permission to use Bash"]
    );
}
