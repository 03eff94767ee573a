//! The agent versions ringlet's end-to-end tests ran against: `tests/install-agents.sh` pins
//! them, and a test below keeps this table equal to it.

/// (agent id, version the agent reports with `--version`). Grok's npm package 0.0.34 reports
/// 1.0.1.
pub const TESTED_VERSIONS: &[(&str, &str)] = &[
    ("claude", "2.1.330"),
    ("codex", "0.169.0"),
    ("opencode", "1.18.33"),
    ("gemini", "0.61.0"),
    ("grok", "1.0.1"),
    ("droid", "0.215.0"),
];

/// The version ringlet was tested with, for a built-in agent.
pub(crate) fn tested_version(agent: &str) -> Option<&'static str> {
    TESTED_VERSIONS
        .iter()
        .find(|(id, _)| *id == agent)
        .map(|(_, v)| *v)
}

/// The first `N.N…` number in an agent's version output (`2.1.330 (Claude Code)`,
/// `codex-cli 0.169.0`, `v1.0.1`).
pub(crate) fn version_number(output: &str) -> Option<&str> {
    output
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',')
        .map(|w| w.trim_start_matches('v'))
        .find(|w| {
            w.contains('.')
                && w.split('.').all(|p| !p.is_empty())
                && w.starts_with(|c: char| c.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_matches_the_pins_of_install_agents() {
        let script = include_str!("../../../tests/install-agents.sh");
        for (id, version) in TESTED_VERSIONS {
            // Grok's package version differs from the version it reports (see the script).
            let pinned = if *id == "grok" { "0.0.34" } else { version };
            let pin = format!("\"{id}|");
            let line = script
                .lines()
                .find(|l| l.trim_start().starts_with(&pin))
                .unwrap_or_else(|| panic!("{id} is not pinned in tests/install-agents.sh"));
            assert!(
                line.contains(&format!("|{pinned}|")),
                "tests/install-agents.sh pins {line}, TESTED_VERSIONS says {id} {version}"
            );
        }
    }

    #[test]
    fn version_numbers_are_found_in_what_agents_print() {
        for (out, want) in [
            ("2.1.330 (Claude Code)", "2.1.330"),
            ("codex-cli 0.169.0", "0.169.0"),
            ("v1.0.1", "1.0.1"),
            ("0.61.0", "0.61.0"),
        ] {
            assert_eq!(version_number(out), Some(want), "{out}");
        }
        assert_eq!(version_number("unknown"), None);
    }
}
