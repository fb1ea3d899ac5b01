//! On the map without faults, a fixed range of seeds runs clean.

use sim::runner::{run_campaign, Campaign, SeedSet};

#[test]
fn a_fixed_seed_range_runs_clean() {
    let campaign = Campaign {
        target: *sim::target::default_target(),
        seeds: SeedSet::range(0, 300),
        jobs: 2,
        time_limit: None,
        fault: None,
        check_determinism: false,
        keep_going: false,
    };
    let report = run_campaign(&campaign, &|| {});
    if let Some(failure) = &report.failure {
        panic!("seed {} failed: {:?}", failure.seed, failure.problem);
    }
    assert_eq!(report.seeds_run, 300);
    // The range must reach every hard state of map-core (the swiss-table states are Go's), or
    // it proves little.
    for ((state, _), (_, reached)) in report
        .coverage
        .total
        .classic_entries()
        .zip(report.coverage.runs_reaching.entries())
    {
        assert!(reached > 0, "no seed reached: {state}");
    }
}
