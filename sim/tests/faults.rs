//! Proof that the simulator works: every fault of map-core is found within a fixed seed budget,
//! and shrinks to a small program that still shows it. Run with `--features faults`.
#![cfg(feature = "faults")]

use map_core::Fault;
use sim::detection::max_shrunk_len;
use sim::exec;
use sim::runner::detect;
use sim::shrink::shrink;
use sim::trace;

/// Seeds tried per fault. Every fault is found within the first few dozen today; the margin
/// keeps generator changes from making this flaky, while a fault the simulator cannot see
/// still fails here.
const SEED_BUDGET: u64 = 500;

#[test]
fn every_fault_is_found_and_shrinks_to_at_most_12_ops_or_its_own_minimum() {
    for fault in Fault::ALL {
        let found = detect(Some(fault), SEED_BUDGET)
            .unwrap_or_else(|| panic!("{fault} not found in {SEED_BUDGET} seeds"));
        let shrunk = shrink(&found.program, &found.failure);
        let text = trace::print(&shrunk.program);
        assert!(
            shrunk.after_len <= max_shrunk_len(fault),
            "{fault}: shrunk to {} ops:\n{text}",
            shrunk.after_len
        );
        assert_eq!(shrunk.failure.kind, found.failure.kind, "{fault}");
        // The saved trace replays to the same failure.
        let replayed = trace::parse(&text).expect("shrunk trace parses");
        assert_eq!(
            exec::run(&replayed).err(),
            Some(shrunk.failure.clone()),
            "{fault}"
        );
        // And the fault is what fails it: without it, the same program runs clean.
        let mut healthy = replayed;
        healthy.config.fault = None;
        assert!(
            exec::run(&healthy).is_ok(),
            "{fault}: shrunk program fails without the fault:\n{text}"
        );
    }
}

/// A failure that needs an exact number of inserts (here: an update at the load-factor threshold
/// starts a growth under the fault, and the thresholds are 8, 13, 26 and 52 keys) shrinks to the
/// smallest threshold, even when the updated key sits among the inserts that must go.
#[test]
fn a_failure_at_a_load_factor_threshold_shrinks_to_the_smallest_one() {
    use sim::op::Op;
    use sim::program::{Config, Program};
    let mut ops: Vec<Op> = (0..52).map(|key| Op::Insert { key, value: 0 }).collect();
    ops.push(Op::Insert { key: 21, value: 1 });
    let program = Program::new(
        Config {
            key_space: 64,
            fault: Some(Fault::GrowOnUpdate),
            ..Config::default()
        },
        ops,
    );
    let failure = exec::run(&program).expect_err("the update at 52 keys starts a growth");
    let shrunk = shrink(&program, &failure);
    assert_eq!(shrunk.failure.kind, failure.kind);
    assert!(
        shrunk.after_len <= 9,
        "shrunk to {} ops:\n{}",
        shrunk.after_len,
        trace::print(&shrunk.program)
    );
}
