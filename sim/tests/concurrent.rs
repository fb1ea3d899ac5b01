//! Concurrent mode: real threads on a map that promises §7, checked from the call log.

use sim::concurrent::log::What;
use sim::concurrent::{self, check, ConcurrentProgram};
use sim::exec::FailureKind;
use sim::program::HasherSet;
use sim::runner::{self, Campaign, SeedSet};
use sim::target;

mod common;
use common::{code, sim};

/// `sim run --target striped-racy --threads 2` with `extra` arguments, its failures saved in a
/// fresh directory named for `test` (removed again by the caller).
fn racy_run(test: &str, extra: &[&str]) -> (std::process::Output, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("sim-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut args = vec!["run", "--target", "striped-racy", "--threads", "2"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--out", dir.to_str().unwrap()]);
    (sim(&args), dir)
}

fn striped(racy: bool) -> &'static concurrent::ConcurrentInfo {
    concurrent::lookup(if racy { "striped-racy" } else { "striped" }).expect("built in")
}

#[test]
fn a_correct_concurrent_map_passes_the_concurrent_checks() {
    let mut cursors = 0;
    for seed in 0..150 {
        match concurrent::run_seed(striped(false), seed, 2, HasherSet::ALL) {
            Ok(stats) => cursors += stats.cursors,
            Err(found) => panic!(
                "seed {seed}: {:?}\n{}",
                found.violation,
                found
                    .log
                    .iter()
                    .map(|c| format!("{c}\n"))
                    .collect::<String>()
            ),
        }
    }
    assert!(cursors > 1000, "{cursors} cursors");
}

/// The planted race (a resize that publishes its table before filling it) breaks §7 only when
/// calls overlap.
#[test]
fn a_half_filled_table_is_caught_with_threads_and_never_without() {
    let first = (0..2000).find_map(|seed| {
        concurrent::run_seed(striped(true), seed, 2, HasherSet::ALL)
            .err()
            .map(|f| (seed, f))
    });
    let (seed, found) = first.expect("the race shows within 2000 concurrent programs");
    assert!(
        matches!(
            found.kind(),
            FailureKind::Weak(_) | FailureKind::WrongContents | FailureKind::WrongResult
        ),
        "seed {seed}: {:?}",
        found.violation
    );
    assert!(!found.log.is_empty());

    let single = Campaign {
        target: *target::lookup("striped-racy").unwrap(),
        seeds: SeedSet::range(0, 3000),
        jobs: 2,
        time_limit: None,
        fault: None,
        check_determinism: false,
        keep_going: false,
    };
    let report = runner::run_campaign(&single, &|| {});
    assert!(
        report.failure.is_none(),
        "single-threaded programs cannot show the race"
    );
    assert!(report.stats.yields > 0);
}

/// A failing log of thousands of calls comes with the few on one key that show the failure by
/// themselves.
#[test]
fn a_concurrent_failure_is_shown_by_the_calls_on_one_key() {
    let failures: Vec<_> = (0..3000)
        .filter_map(|seed| concurrent::run_seed(striped(true), seed, 2, HasherSet::ALL).err())
        .take(6)
        .collect();
    assert_eq!(
        failures.len(),
        6,
        "the race shows six times in 3000 programs"
    );
    let mut focused = 0;
    for found in &failures {
        let Some(focus) = &found.focus else { continue };
        focused += 1;
        assert!(focus.calls.len() * 4 < found.log.len(), "{focus:?}");
        assert!(found.violation.keys.contains(&focus.key));
        for call in &focus.calls {
            assert!(found.log.contains(call), "only calls of the log: {call}");
            match call.what {
                What::Insert { key, .. }
                | What::Remove { key, .. }
                | What::Get { key, .. }
                | What::Yield { key, .. } => assert_eq!(key, focus.key, "{call}"),
                _ => {}
            }
        }
        assert_eq!(focus.violation.violation.kind, found.kind());
        assert_eq!(focus.violation.at, found.violation.at);
        // The checker, given the cut log alone, says what the focus says.
        let contents: Vec<(u64, u64)> = Vec::new();
        if found.violation.at.is_some() {
            let again = check::check(&focus.calls, &contents, striped(true).no_repeat)
                .expect_err("the cut log fails by itself");
            assert_eq!(*again, focus.violation);
        }
    }
    assert!(focused >= 3, "{focused} of 6 failures were cut down");
}

#[test]
fn a_concurrent_program_is_fixed_by_its_seed() {
    assert_eq!(
        ConcurrentProgram::generate(5, 3),
        ConcurrentProgram::generate(5, 3)
    );
    assert_eq!(ConcurrentProgram::generate(5, 3).writers.len(), 3);
}

#[test]
fn concurrent_mode_saves_the_interleaving_and_says_how_often_it_reproduced() {
    let (out, dir) = racy_run("saves", &["--seeds", "0..2000", "--repeat", "10"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code(&out), 1, "{stdout}");
    assert!(stdout.contains("reproduced in "), "{stdout}");
    assert!(stdout.contains("of 10 further runs"), "{stdout}");
    let saved: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    assert_eq!(saved.len(), 1);
    let log = std::fs::read_to_string(saved[0].path()).unwrap();
    assert!(log.starts_with("# sim concurrent log: target striped-racy threads 2 seed "));
    assert!(log.contains("# reproduced: "), "{log}");
    assert!(
        !log.contains("still being measured"),
        "the rate is in the saved file"
    );
    assert!(
        log.lines().any(|l| l.starts_with("t1 ")),
        "a writer's calls are in the log"
    );
    if stdout.contains("that show it") {
        assert!(log.contains("calls of ") && log.contains("#   t"), "{log}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn concurrent_mode_rejects_targets_and_options_it_cannot_honour() {
    let out = sim(&["run", "--target", "std-hash-map", "--threads", "2"]);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot run with --threads"));
    let out = sim(&[
        "run",
        "--target",
        "striped",
        "--threads",
        "2",
        "--check-determinism",
    ]);
    assert_eq!(code(&out), 2);
    let out = sim(&["run", "--target", "striped", "--threads", "0"]);
    assert_eq!(code(&out), 2);
    let out = sim(&[
        "run",
        "--target",
        "striped",
        "--threads",
        "2",
        "--keep-going",
        "--allow",
        "missed-entry",
    ]);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow cannot be used with --threads"));
}

#[test]
fn keep_going_with_threads_runs_the_whole_range_and_saves_every_failing_seed() {
    let (out, dir) = racy_run(
        "keep-going",
        &["--seeds", "0..150", "--keep-going", "--repeat", "1"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code(&out), 1, "{stdout}");
    assert!(stdout.contains(": 150 seeds ran"), "{stdout}");
    let failed: usize = stdout
        .lines()
        .find_map(|l| {
            l.strip_suffix(
                " of 150 seeds failed (each reported above, with its log and reproduction rate):",
            )
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a count of failing seeds: {stdout}"));
    let saved = std::fs::read_dir(&dir).unwrap().flatten().count();
    assert_eq!(saved, failed, "one log per failing seed");
    assert_eq!(
        stdout.matches("run it again with: ").count(),
        failed,
        "every failure is reported as it is found"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
