//! Two profiles of the same agent run at the same time without sharing keys or state.

use ringlet_tests::FakeApi;

use crate::{
    ProfileSpec, agent_bin_dir, agent_sandbox, create_profile, finish, generations, spawn_run, tree,
};

#[test]
fn two_claude_profiles_run_at_once_each_with_its_own_key_model_and_home() {
    let Some(bin_dir) = agent_bin_dir("claude") else {
        return;
    };
    let api = FakeApi::start().expect("fake API starts");
    let mut sb = agent_sandbox(&bin_dir);
    let profiles = [
        ("work", "sk-e2e-work-key", "claude-sonnet-5"),
        ("personal", "sk-e2e-personal-key", "claude-haiku-4-5"),
    ];
    for (alias, key, model) in profiles {
        create_profile(
            &mut sb,
            &ProfileSpec {
                agent: "claude",
                alias,
                provider: "anthropic",
                base_url: api.base_url(),
                model,
                key,
            },
        );
    }

    // Both agents are started before either is waited for, so their runs overlap.
    let children: Vec<_> = profiles
        .iter()
        .map(|(alias, _, _)| (*alias, spawn_run(&sb, alias, &["-p", "Reply with pong."])))
        .collect();
    for (alias, child) in children {
        let run = finish(child, alias);
        assert_eq!(run.code, 0, "{alias}: {}\n{}", run.stdout, run.stderr);
    }

    let gens = generations(&api);
    for (alias, key, model) in profiles {
        let mine: Vec<_> = gens
            .iter()
            .filter(|r| r.api_key.as_deref() == Some(key))
            .collect();
        assert!(!mine.is_empty(), "no request carried {alias}'s key");
        for r in &mine {
            assert_eq!(
                r.model.as_deref(),
                Some(model),
                "{alias}'s key travelled with another profile's model"
            );
        }
    }
    assert!(
        gens.iter().all(|r| profiles
            .iter()
            .any(|(_, k, _)| r.api_key.as_deref() == Some(*k))),
        "a request carried neither profile's key: {:?}",
        gens.iter().map(|r| &r.api_key).collect::<Vec<_>>()
    );

    // The usage each real agent logged was read from its own HOME after the run: each profile
    // has exactly the tokens the fake API reported for its own requests (Claude Code counts
    // input, output, cache creation and cache read apart, as the API reports them).
    let usage = sb.run(["usage", "--json"]).ok().json();
    let usage_rows = usage["rows"].as_array().expect("rows");
    let per_request = ringlet_tests::Usage::default();
    for (alias, key, model) in profiles {
        let requests = gens
            .iter()
            .filter(|r| r.api_key.as_deref() == Some(key))
            .count() as u64;
        let row = usage_rows
            .iter()
            .find(|r| r["profile"] == alias)
            .unwrap_or_else(|| panic!("no usage row for {alias}: {usage}"));
        assert_eq!(row["agent"], "claude", "{row}");
        assert_eq!(row["provider"], "anthropic", "{row}");
        assert_eq!(
            row["events"], requests,
            "{alias}: one event per response: {row}"
        );
        assert_eq!(row["input"], requests * per_request.input_tokens, "{row}");
        assert_eq!(row["output"], requests * per_request.output_tokens, "{row}");
        assert_eq!(
            row["cache_read"],
            requests * per_request.cache_read_input_tokens,
            "{row}"
        );
        assert_eq!(
            row["cache_creation"],
            requests * per_request.cache_creation_input_tokens,
            "{row}"
        );
        assert_eq!(
            row["unpriced_events"], 0,
            "{alias}'s model is priced: {row}"
        );
        assert!(row["cost_nanos"].as_i64() > Some(0), "{row}");
        let by_model = sb
            .run(["usage", "--json", "--by-model", "--profile", alias])
            .ok()
            .json();
        assert_eq!(by_model["rows"][0]["key"], model, "{by_model}");
    }

    // Each HOME holds exactly its own transcript.
    for (alias, _, _) in profiles {
        let transcripts: Vec<_> = tree(&sb.profile_home(alias).join(".claude/projects"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect();
        assert_eq!(
            transcripts.len(),
            1,
            "{alias} should hold one transcript: {transcripts:?}"
        );
    }
}
