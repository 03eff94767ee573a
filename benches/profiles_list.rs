//! The Rust side of benches/bindings_overhead.sh: `Ringlet::profiles()` on a given ringlet home,
//! timed the way the Python and Node sides time their binding call, so the difference is what a
//! binding adds (argument and result conversion, thread hand-off, promise settling).
//!
//! Usage: cargo bench -p ringlet --bench profiles_list -- HOME [ROUNDS] [CALLS]
//! Prints one JSON line: {"lang":"rust","profiles":N,"us_per_call":[median per round, …]}.

use std::time::Instant;

fn main() -> Result<(), ringlet::Error> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(home) = args.first() else {
        return Err(ringlet::Error::InvalidInput(
            "usage: profiles_list HOME [ROUNDS] [CALLS]".into(),
        ));
    };
    let rounds: usize = args.get(1).and_then(|v| v.parse().ok()).unwrap_or(7);
    let calls: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(200);
    let ringlet = ringlet::Ringlet::builder().home(home).build()?;
    let count = ringlet.profiles()?.len();
    for _ in 0..calls / 4 {
        std::hint::black_box(ringlet.profiles()?);
    }
    let mut per_round = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..calls {
            std::hint::black_box(ringlet.profiles()?);
        }
        per_round.push(start.elapsed().as_secs_f64() * 1e6 / calls as f64);
    }
    let list: Vec<String> = per_round.iter().map(|us| format!("{us:.2}")).collect();
    println!(
        "{{\"lang\":\"rust\",\"profiles\":{count},\"us_per_call\":[{}]}}",
        list.join(",")
    );
    Ok(())
}
