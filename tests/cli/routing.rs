//! `ringlet routing show|check` and `profiles set --routing`: rules checked before they are
//! installed, shown as they will be tried.

use crate::sandbox_with_profile;

const RULES: &str = r#"
[[rule]]
match = { tool-use = true }
to = "anthropic"
model = "claude-sonnet-4-5"

[[rule]]
name = "small"
match = { input-tokens-lt = 2000 }
to = "groq"
model = "llama-3.3-70b-versatile"
fallback = [{ to = "openrouter" }]

[default]
to = "anthropic"
model = "claude-haiku-4-5"
"#;

#[test]
fn rules_are_checked_installed_shown_and_removed() {
    let sb = sandbox_with_profile();
    let file = sb.root().join("rules.toml");
    std::fs::write(&file, RULES).expect("rules");
    let file = file.to_str().expect("utf-8");

    let none = sb.run(["routing", "show", "work", "--json"]).ok().json();
    assert!(none.is_null());
    let checked = sb
        .run(["routing", "check", "work", file, "--json"])
        .ok()
        .json();
    assert_eq!(checked["rules"][1]["label"], "small");
    assert_eq!(checked["rules"][1]["targets"][0]["shape"], "openai-chat");
    assert_eq!(checked["rules"][1]["targets"][1]["provider"], "openrouter");
    assert!(
        sb.run(["routing", "show", "work", "--json"])
            .ok()
            .json()
            .is_null(),
        "check installs nothing"
    );

    sb.run(["profiles", "set", "work", "--routing", file]).ok();
    let shown = sb.run(["routing", "show", "work", "--json"]).ok().json();
    assert_eq!(shown, checked);
    let table = sb.run(["routing", "show", "work"]).ok().stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("#  RULE"), "{table}");
    assert!(
        lines[1].contains("tool-use = true") && lines[1].contains("claude-sonnet-4-5"),
        "{table}"
    );
    assert!(
        lines[2].contains("small") && lines[2].contains("openrouter"),
        "{table}"
    );
    assert!(lines[3].starts_with("-  default"), "{table}");

    sb.run(["profiles", "set", "work", "--no-routing"]).ok();
    assert!(
        sb.run(["routing", "show", "work", "--json"])
            .ok()
            .json()
            .is_null()
    );
}

#[test]
fn bad_rules_are_refused_with_the_file_line_and_fix_and_install_nothing() {
    let sb = sandbox_with_profile();
    let file = sb.root().join("bad.toml");
    let path = file.to_str().expect("utf-8");

    std::fs::write(
        &file,
        "[[rule]]\nmatch = { tool-use = true }\nto = \"groqq\"\n",
    )
    .expect("rules");
    sb.run(["profiles", "set", "work", "--routing", path])
        .fails_with(&format!(
            "{path}:3: rule 1: unknown provider 'groqq' (did you mean 'groq'?)"
        ));
    assert!(
        sb.run(["routing", "show", "work", "--json"])
            .ok()
            .json()
            .is_null()
    );

    std::fs::write(
        &file,
        "[[rule]]\nto = \"groq\"\nmatch = { tool-uses = true }\n",
    )
    .expect("rules");
    sb.run(["routing", "check", "work", path])
        .fails_with("unknown field `tool-uses`, expected one of `tool-use`, `input-tokens-lt`");

    std::fs::write(
        &file,
        "[default]\nto = \"google\"\nendpoint = \"nowhere\"\n",
    )
    .expect("rules");
    sb.run(["routing", "check", "work", path])
        .fails_with("has no endpoint 'nowhere'");

    sb.run(["routing", "check", "work"])
        .fails_with("has no routing rules to check; give a FILE");
    sb.run(["routing", "show", "nobody"])
        .fails_with("profile 'nobody' not found");
}
