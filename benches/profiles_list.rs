//! The Rust side of benches/bindings_overhead.sh: the facade calls the Python and Node sides
//! time through their bindings, timed the same way, so the difference is what a binding adds
//! (argument and result conversion, GIL release, thread hand-off, promise settling).
//!
//! Usage: cargo bench -p ringlet --bench profiles_list -- HOME [ROUNDS] [CALLS]
//! Prints one JSON line per operation (`profiles`, `has_profile`):
//! {"lang":"rust","op":"profiles","wall_us":[…],"cpu_us":[…]}, the mean wall-clock and CPU time
//! per call of each round.

use std::time::Instant;

/// CPU time this thread has used, in nanoseconds (Linux: /proc/thread-self/schedstat); 0
/// elsewhere. CPU time is what other processes on a busy machine disturb least.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn time<T>(
    op: &str,
    rounds: usize,
    calls: usize,
    mut f: impl FnMut() -> ringlet::Result<T>,
) -> ringlet::Result<()> {
    for _ in 0..calls / 4 {
        std::hint::black_box(f()?);
    }
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (start, start_cpu) = (Instant::now(), cpu_ns());
        for _ in 0..calls {
            std::hint::black_box(f()?);
        }
        wall.push(start.elapsed().as_secs_f64() * 1e6 / calls as f64);
        cpu.push(cpu_ns().saturating_sub(start_cpu) as f64 / 1e3 / calls as f64);
    }
    let show = |v: &[f64]| {
        v.iter()
            .map(|us| format!("{us:.2}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    println!(
        "{{\"lang\":\"rust\",\"op\":\"{op}\",\"wall_us\":[{}],\"cpu_us\":[{}]}}",
        show(&wall),
        show(&cpu)
    );
    Ok(())
}

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
    time("profiles", rounds, calls, || ringlet.profiles())?;
    time("has_profile", rounds, calls * 10, || {
        ringlet.has_profile("p000")
    })?;
    Ok(())
}
