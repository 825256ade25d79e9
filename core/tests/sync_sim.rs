//! Convergence under a simulated network: after quiescence every
//! participant's manifest id and file contents equal the server's, and every
//! acknowledged edit is present unless a documented rule removed it.
//!
//! `SIM_SEEDS=N` sets how many seeds each test runs; `SIM_SEED=S` runs one
//! seed with a trace; `SIM_SOAK=OPS` runs a long soak of at least OPS
//! operations (see the README for the reported soak).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should stop at once

mod harness;

use harness::sim::{Faults, compacting, run_seed, shrink};
use velocity_sync::ServerConfig;

fn seeds(default: u64) -> std::ops::Range<u64> {
    if let Ok(one) = std::env::var("SIM_SEED") {
        let seed: u64 = one.parse().expect("SIM_SEED is a number");
        return seed..seed + 1;
    }
    let count = std::env::var("SIM_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    0..count
}

fn check(name: &str, default_seeds: u64, steps: u64, faults: Faults, config: ServerConfig) {
    for seed in seeds(default_seeds) {
        let outcome = std::panic::catch_unwind(|| run_seed(seed, steps, faults, config));
        let reason = match outcome {
            Ok(Ok(_)) => continue,
            Ok(Err(reason)) => reason,
            Err(panic) => panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default(),
        };
        let minimal = shrink(seed, steps, faults, config);
        panic!(
            "{name}: seed {seed} fails after {steps} steps: {reason}\n\
             minimal reproduction: {minimal} steps with this seed \
             (SIM_SEED={seed} cargo test -p velocity-sync --test sync_sim {name})"
        );
    }
}

#[test]
fn converges_on_a_perfect_network() {
    check(
        "converges_on_a_perfect_network",
        50,
        120,
        Faults::none(),
        ServerConfig::default(),
    );
}

#[test]
fn converges_with_delays_duplicates_drops_and_disconnects() {
    check(
        "converges_with_delays_duplicates_drops_and_disconnects",
        400,
        150,
        Faults::harsh(),
        ServerConfig::default(),
    );
}

#[test]
fn converges_when_history_is_compacted() {
    check(
        "converges_when_history_is_compacted",
        400,
        150,
        Faults::harsh(),
        compacting(),
    );
}

#[test]
fn soak() {
    let Some(ops) = std::env::var("SIM_SOAK")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        // Without SIM_SOAK, a short soak still runs so the path stays tested.
        let sim = run_seed(7, 2_000, Faults::harsh(), compacting()).expect("short soak");
        assert!(sim.ops > 300, "{} ops", sim.ops);
        return;
    };
    let started = std::time::Instant::now();
    let (mut total, mut seed) = (0u64, 1_000u64);
    while total < ops {
        match run_seed(seed, 5_000, Faults::harsh(), compacting()) {
            Ok(sim) => total += sim.ops,
            Err(reason) => panic!("soak seed {seed}: {reason}"),
        }
        seed += 1;
    }
    println!(
        "soak: {total} operations over {} runs in {:.1} s",
        seed - 1_000,
        started.elapsed().as_secs_f64()
    );
}
