//! A process holds at most 16 inotify instances for its profile listings, one per `Ringlet`
//! whose listing cache is armed (ringlet/src/profile/listing_cache.rs): the per-user limit is
//! shared with every program the user runs. Its own test binary, so no other test's `Ringlet`s
//! hold instances meanwhile.
#![cfg(target_os = "linux")]

use ringlet::{NewProfile, Ringlet, Secret};

/// Instances one process may hold (`MAX_INSTANCES` in listing_cache.rs).
const MAX: usize = 16;

fn open_with_a_profile(dir: &std::path::Path) -> Ringlet {
    let config = dir.join("config");
    std::fs::create_dir_all(&config).expect("config dir");
    std::fs::write(
        config.join("config.toml"),
        "[credentials]\nbackend = \"file\"\n",
    )
    .expect("config.toml");
    let ringlet = Ringlet::builder().home(dir).build().expect("open");
    ringlet
        .create_profile(
            &NewProfile::new("claude", "work", "minimax"),
            Some(&Secret::new("sk-not-real")),
        )
        .expect("create");
    ringlet
}

#[test]
fn beyond_the_limit_a_ringlet_reads_the_files_until_another_lets_go() {
    let dirs: Vec<_> = (0..=MAX)
        .map(|_| tempfile::tempdir().expect("tempdir"))
        .collect();
    let mut ringlets: Vec<Ringlet> = dirs.iter().map(|d| open_with_a_profile(d.path())).collect();
    for r in &ringlets {
        r.profiles().expect("first listing");
        r.profiles().expect("second listing: arms the cache");
    }
    let armed = |rs: &[Ringlet]| rs.iter().filter(|r| r.cached_profiles().is_some()).count();
    assert_eq!(armed(&ringlets), MAX);
    let last = ringlets.pop().expect("the one beyond the limit");
    assert!(last.cached_profiles().is_none());
    // It lists all the same, from the files.
    assert_eq!(last.profiles().expect("listing")[0].alias, "work");
    assert!(last.cached_profiles().is_none());

    drop(ringlets.pop());
    last.profiles().expect("listing: arms now");
    assert!(last.cached_profiles().is_some());
}
