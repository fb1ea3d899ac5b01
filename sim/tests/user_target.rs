//! A map written outside this project, checked through the target interface: the user_map
//! example's map runs clean, and its deliberate bug is found and shrunk.

#[path = "../examples/user_map.rs"]
mod user_map;

use sim::runner::SeedSet;

#[test]
fn a_users_map_with_cursors_runs_clean_through_the_target_interface() {
    let ops = user_map::check(user_map::SLOT_MAP, SeedSet::range(0, 300)).unwrap();
    assert!(ops > 10_000, "only {ops} ops ran");
}

#[test]
fn a_bug_in_a_users_map_is_found_and_shrunk() {
    let report = user_map::check(user_map::BUGGY_SLOT_MAP, SeedSet::range(0, 2000))
        .expect_err("the compaction bug is found");
    assert!(report.contains("target slot-map-buggy"), "{report}");
    assert!(report.contains("shrunk to"), "{report}");
}
