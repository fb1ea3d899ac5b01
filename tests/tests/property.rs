//! Property tests: every program the strategies draw runs clean on the map, judged by the
//! simulator's executor and model. `PROPTEST_CASES` raises the case count (the nightly job runs
//! thousands); failures are saved to `tests/proptest-regressions/property.txt` and replayed first
//! on every later run, so commit that file when it appears. `SIM_TARGET=NAME` runs the first
//! property on another target (`sim targets` lists them).

use proptest::prelude::*;
use sim::trace;
use tests::strategy::{self, proptest_config, DEFAULT_CASES};

proptest! {
    #![proptest_config(proptest_config(
        DEFAULT_CASES,
        concat!(env!("CARGO_MANIFEST_DIR"), "/proptest-regressions/property.txt"),
    ))]

    /// The whole contract: plain-op results, cursor rules 1-7 on every step, the audit, on the
    /// target `SIM_TARGET` names (map-core when unset).
    #[test]
    fn every_program_runs_clean(program in strategy::program_on(strategy::target_from_env())) {
        strategy::run(&program)?;
    }

    /// std's maps meet the plain-op contract: the harness's smallest targets stay honest.
    #[test]
    fn every_plain_program_runs_clean_on_std_maps(
        program in strategy::program_on(sim::target::lookup("std-hash-map").unwrap()),
    ) {
        strategy::run(&program)?;
        let mut on_btree = program.clone();
        on_btree.config.target = "std-btree-map".to_string();
        strategy::run(&on_btree)?;
    }

    /// The trace format holds every program proptest draws, exactly.
    #[test]
    fn drawn_programs_round_trip_through_their_trace(program in strategy::program()) {
        let text = trace::print(&program);
        prop_assert_eq!(trace::parse(&text), Ok(program), "{}", text);
    }
}
