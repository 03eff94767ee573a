//! Embedding ringlet in a Rust tool: create a profile, then look at exactly what launching it
//! would do — without starting anything or touching the real ringlet home.
//!
//! Run: `cargo run -p ringlet --example plan_a_launch`

use std::sync::Arc;

use ringlet::{MemoryCredentialStore, NewProfile, Ringlet, Secret};

fn main() -> Result<(), ringlet::Error> {
    let home = tempfile::tempdir().map_err(|e| ringlet::Error::io("creating", "a temp dir", e))?;
    let ringlet = Ringlet::builder()
        .home(home.path())
        // Keys in memory: nothing this example does outlives it.
        .credential_store(Arc::new(MemoryCredentialStore::new()))
        .build()?;

    let request = NewProfile::new("claude", "work", "minimax").model("MiniMax-M3");
    let profile = ringlet.create_profile(&request, Some(&Secret::new("sk-example-not-real")))?;
    println!(
        "profile '{}': {} via {} ({}), key alias {}",
        profile.alias,
        profile.agent,
        profile.provider,
        profile.shape,
        profile.key_alias.as_deref().unwrap_or("-")
    );

    let plan = ringlet.plan_run("work", &["-p".into(), "explain this repo".into()])?;
    println!(
        "program: {} {}",
        plan.program.display(),
        plan.args.join(" ")
    );
    println!("HOME:    {}", plan.home.display());
    for entry in plan.masked_env() {
        println!("  {}={}", entry.name, entry.value);
    }
    for file in &plan.files {
        println!("writes:  {}", file.path.display());
    }
    println!("removes from the inherited env: {}", plan.env_remove.len());

    // The plan is plain data and never holds the key.
    let json =
        serde_json::to_string(&plan).map_err(|e| ringlet::Error::InvalidInput(e.to_string()))?;
    assert!(!json.contains("sk-example-not-real"));
    assert_eq!(plan.home, ringlet.profile_home("work")?);
    Ok(())
}
