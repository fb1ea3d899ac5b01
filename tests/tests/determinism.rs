//! Determinism is the product: the same seed gives byte-identical traces and identical results,
//! twice in one process and in two separate processes (which would differ if std's
//! `RandomState`, an address or the clock leaked into a program or a run).

use std::process::Command;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config as ProptestConfig, RngSeed, TestRunner};
use sim::trace;
use tests::digest::seed_lines;
use tests::strategy;

/// Seeds compared; each is generated and run in full, so keep the range modest in debug builds.
const SEEDS: (u64, u64) = (0, 40);

/// `seed-digest START END [FAULT]` in a fresh process.
fn digest_process(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_seed-digest"))
        .args(args)
        .output()
        .expect("seed-digest runs");
    assert!(
        out.status.success(),
        "seed-digest {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn same_seed_same_trace_and_result_twice_in_one_process() {
    let (start, end) = SEEDS;
    let first = seed_lines(start, end, None);
    assert_eq!(first.lines().count() as u64, end - start);
    assert_eq!(first, seed_lines(start, end, None));
}

#[test]
fn same_seed_same_trace_and_result_in_two_processes() {
    let (start, end) = SEEDS;
    let range = [start.to_string(), end.to_string()];
    let args = [range[0].as_str(), range[1].as_str()];
    let first = digest_process(&args);
    let second = digest_process(&args);
    assert_eq!(first, second, "two processes disagree");
    assert_eq!(
        first,
        seed_lines(start, end, None),
        "a process disagrees with this one"
    );
}

#[test]
fn seed_digest_rejects_bad_usage_with_exit_code_2() {
    for args in [
        &["1"][..],
        &["5", "3"],
        &["x", "3"],
        &["0", "1", "gremlins"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_seed-digest"))
            .args(args)
            .output()
            .expect("seed-digest runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("usage: seed-digest"),
            "{args:?}"
        );
    }
}

/// With a fault, runs fail; the failures (step, check, expected, found, the map's diagram) must
/// be as reproducible as clean runs.
#[cfg(feature = "faults")]
#[test]
fn failures_are_the_same_in_two_processes() {
    let fault = map_core::Fault::ClearKeepsCursors;
    let name = fault.name();
    let first = digest_process(&["0", "20", name]);
    assert!(first.contains(" failed"), "no seed failed:\n{first}");
    assert_eq!(first, digest_process(&["0", "20", name]));
    assert_eq!(first, seed_lines(0, 20, Some(fault)));
}

/// A proptest RNG seed (`PROPTEST_RNG_SEED`) fixes the programs proptest draws, so a property-test
/// run can be repeated exactly.
#[test]
fn a_proptest_seed_fixes_the_programs_drawn() {
    let draw = |seed: u64| -> Vec<String> {
        let config = ProptestConfig {
            rng_seed: RngSeed::Fixed(seed),
            ..ProptestConfig::default()
        };
        let mut runner = TestRunner::new(config);
        let programs = strategy::program();
        (0..20)
            .map(|_| trace::print(&programs.new_tree(&mut runner).unwrap().current()))
            .collect()
    };
    assert_eq!(draw(7), draw(7));
    assert_ne!(draw(7), draw(8));
}
