//! Property tests: every program the strategies draw runs clean on the map, judged by the
//! simulator's executor and model. `PROPTEST_CASES` raises the case count (the nightly job runs
//! thousands); failures are saved to `tests/proptest-regressions/property.txt` and replayed first
//! on every later run, so commit that file when it appears.

use proptest::prelude::*;
use sim::trace;
use tests::strategy::{self, proptest_config, DEFAULT_CASES};

proptest! {
    #![proptest_config(proptest_config(
        DEFAULT_CASES,
        concat!(env!("CARGO_MANIFEST_DIR"), "/proptest-regressions/property.txt"),
    ))]

    /// The whole contract: plain-op results, cursor rules 1-7 on every step, the audit.
    #[test]
    fn every_program_runs_clean(program in strategy::program()) {
        strategy::run(&program)?;
    }

    /// The trace format holds every program proptest draws, exactly.
    #[test]
    fn drawn_programs_round_trip_through_their_trace(program in strategy::program()) {
        let text = trace::print(&program);
        prop_assert_eq!(trace::parse(&text), Ok(program), "{}", text);
    }
}
