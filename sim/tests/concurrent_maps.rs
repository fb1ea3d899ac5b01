//! The concurrent-map targets (`papaya`, `flurry`): clean campaigns, exact replay, cursors that
//! survive changes of the map between their steps; and, built without the `concurrent-maps`
//! feature, that their names are known and say how to get them.

mod common;

use common::{code, sim};

#[cfg(feature = "concurrent-maps")]
mod built {
    use sim::failure::{FailureKind, WeakRule};
    use sim::op::{CursorId, Op};
    use sim::program::{Config, Program};
    use sim::runner::{run_campaign, Campaign, SeedSet};
    use sim::target::{self, Contract, NoRepeat, TargetInfo};

    fn info(name: &str) -> &'static TargetInfo {
        target::lookup(name).expect("built with concurrent-maps")
    }

    fn campaign(name: &str, seeds: SeedSet, check_determinism: bool) -> Campaign {
        Campaign {
            target: *info(name),
            seeds,
            jobs: 2,
            time_limit: None,
            fault: None,
            check_determinism,
            keep_going: false,
        }
    }

    /// Runs `seeds` on `name` and fails the test on any failing seed; returns the report.
    fn runs_clean(name: &str, seeds: SeedSet, check_determinism: bool) -> sim::runner::Report {
        let n = seeds.len();
        let report = run_campaign(&campaign(name, seeds, check_determinism), &|| {});
        if let Some(failure) = &report.failure {
            panic!(
                "{name}: seed {} failed: {:?}",
                failure.seed, failure.problem
            );
        }
        assert_eq!(report.seeds_run, n);
        report
    }

    #[test]
    fn the_targets_declare_weakly_consistent_cursors_and_replay_exactly() {
        let papaya = info("papaya").capabilities;
        let flurry = info("flurry").capabilities;
        assert_eq!(papaya.contract, Contract::Weak(NoRepeat::PerElement));
        assert_eq!(flurry.contract, Contract::Weak(NoRepeat::PerElement));
        for caps in [papaya, flurry] {
            assert!(caps.cursors && caps.deterministic);
            assert!(!caps.growth_controls && !caps.audit && !caps.api);
        }
    }

    #[test]
    fn flurry_runs_a_few_thousand_seeds_clean_with_cursors_stepping() {
        let report = runs_clean("flurry", SeedSet::range(0, 3000), false);
        assert!(report.stats.cursor_steps > 100_000, "{:?}", report.stats);
    }

    #[test]
    fn flurry_seeds_replay_byte_for_byte() {
        runs_clean("flurry", SeedSet::range(0, 300), true);
    }

    /// A program on `target`: keys 0..16, a cursor made over them, then the map changed between
    /// every step of it by `change`, and the cursor drained at the end by the executor.
    fn cursor_across(target: &str, change: &[Op]) -> Program {
        let config = Config {
            key_space: 16,
            max_cursors: 1,
            target: target.to_string(),
            ..Config::default()
        };
        let c0 = CursorId::ALL[0];
        let mut ops: Vec<Op> = (0..16).map(|k| Op::Insert { key: k, value: k }).collect();
        ops.push(Op::CursorNew { cursor: c0 });
        for op in change {
            ops.push(Op::CursorStep {
                cursor: c0,
                steps: 1,
            });
            ops.push(*op);
        }
        Program { config, ops }
    }

    #[test]
    fn a_cursor_kept_across_inserts_removes_and_clear_keeps_the_contract() {
        let change = [
            Op::Insert { key: 9, value: 90 },
            Op::Remove { key: 3 },
            Op::Insert { key: 3, value: 30 },
            Op::Insert { key: 4, value: 40 },
            Op::Remove { key: 6 },
            Op::Clear,
            Op::Insert { key: 5, value: 50 },
            Op::Insert {
                key: 12,
                value: 120,
            },
        ];
        for target in ["papaya", "flurry"] {
            let program = cursor_across(target, &change);
            let stats = sim::exec::run_on(&program, info(target), None)
                .unwrap_or_else(|f| panic!("{target}: {f:?}"));
            // 16 keys, two removed before the clear: the cursor cannot have ended in the 6 steps
            // before it, so it was stepped across the clear too (and drained at the end).
            assert!(stats.cursor_steps >= 7, "{target}: {}", stats.cursor_steps);
        }
    }

    /// The 9 ops that refuted W1 per key on papaya (the shrunk failure of seed 10 when papaya
    /// declared per key): a yielded key removed and re-inserted is yielded again.
    const REINSERTED_KEY_AGAIN: &str = "sim-trace 1
seed 10
map-seed 0
hasher seeded 155525203423597714
capacity 0
key-space 256
max-cursors 3
audit-every 1
weights insert=6 remove=2 get=6 clear=1 cursor-new=1 cursor-step=11 cursor-drop=2 force-grow=0 force-same-size-grow=0 evacuate-step=0 audit=0 get-mut=0 contains=0 index=0 iter=0 clone=0 clone-insert=0 clone-remove=0 eq=0 extend=0 from-iter=0
length 931
fault none
target papaya
ops
insert 0 0
insert 79 0
insert 2 0
insert 1 0
insert 85 0
cursor-new c1
cursor-step c1 4
remove 1
insert 1 0
";

    #[test]
    fn papaya_yields_a_removed_and_reinserted_key_again_so_it_is_held_to_w1_per_element() {
        let program = sim::trace::parse(REINSERTED_KEY_AGAIN).expect("the trace parses");
        let papaya = info("papaya");
        sim::exec::run_on(&program, papaya, None).expect("allowed per element");
        let mut per_key = *papaya;
        per_key.capabilities.contract = Contract::Weak(NoRepeat::PerKey);
        let failure = sim::exec::run_on(&program, &per_key, None).expect_err("refuted per key");
        assert_eq!(
            failure.kind,
            FailureKind::Weak(WeakRule::KeyTwice),
            "{failure:?}"
        );
    }

    #[test]
    fn a_cursor_kept_across_growth_yields_every_key_present_throughout() {
        // 16 keys, then 2000 more inserted one per step: both maps resize many times under the
        // cursor, and the model holds it to W2 (the first 16, never removed, are all yielded).
        let change: Vec<Op> = (100..2100)
            .map(|k| Op::Insert { key: k, value: k })
            .collect();
        for target in ["papaya", "flurry"] {
            let mut program = cursor_across(target, &change);
            program.config.key_space = 4096;
            let stats = sim::exec::run_on(&program, info(target), None)
                .unwrap_or_else(|f| panic!("{target}: {f:?}"));
            assert!(stats.cursor_steps > 16, "{target}");
        }
    }
}

/// The line `sim targets` prints for `name`.
fn targets_line(name: &str) -> String {
    let out = sim(&["targets"]);
    assert_eq!(code(&out), 0);
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("`sim targets` does not list {name}:\n{text}"))
        .to_string()
}

#[cfg(not(feature = "concurrent-maps"))]
#[test]
fn without_the_feature_the_targets_are_listed_with_how_to_enable_them() {
    for name in ["papaya", "flurry"] {
        let line = targets_line(name);
        assert!(line.contains("--features concurrent-maps"), "{line}");
    }
}

#[cfg(not(feature = "concurrent-maps"))]
#[test]
fn without_the_feature_running_one_is_a_usage_error_naming_the_feature() {
    let out = sim(&["run", "--target", "papaya", "--seeds", "0..1"]);
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("concurrent-maps"), "{err}");
}

#[cfg(feature = "concurrent-maps")]
#[test]
fn with_the_feature_sim_targets_lists_both_as_built_in() {
    for name in ["papaya", "flurry"] {
        let line = targets_line(name);
        assert!(
            line.contains("cursors") && !line.contains("not built"),
            "{line}"
        );
    }
}

/// papaya never returns from `iter()` on seed 5's program (a resize that never ends under the
/// colliding-low-bits hasher): the watchdog ends the run with the program saved.
#[cfg(feature = "concurrent-maps")]
#[test]
fn a_seed_that_hangs_in_the_map_is_saved_and_ends_the_run_with_exit_1() {
    let dir = std::env::temp_dir().join(format!("sim-hang-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = sim(&[
        "run",
        "--target",
        "papaya",
        "--seeds",
        "5..6",
        "--hang-after",
        "2s",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code(&out), 1, "{stdout}");
    assert!(stdout.contains("hang: seed 5 has run for"), "{stdout}");
    assert!(
        stdout.contains("--features concurrent-maps -- replay"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "shrink it with: cargo run --release -p sim --features concurrent-maps -- shrink "
        ),
        "{stdout}"
    );
    let trace = std::fs::read_to_string(dir.join("seed-5.hang.trace")).expect("saved");
    assert!(trace.contains("target papaya"), "{trace}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The shrunk form of that hang (`sim shrink` of seed 5's 1510 ops): 54 inserts of keys in four
/// low-byte classes, after which papaya's iteration never returns. It must keep hanging: its
/// replay is still running after two seconds, and is killed then.
#[cfg(feature = "concurrent-maps")]
#[test]
fn papaya_still_hangs_on_the_54_inserts_of_its_shrunk_hang() {
    let trace = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/findings/papaya-iter-hangs-after-54-inserts.trace"
    );
    let text = std::fs::read_to_string(trace).expect("the finding is committed");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("insert ")).count(),
        54
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(["replay", trace])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("sim runs");
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(2) {
        if let Some(status) = child.try_wait().expect("waits") {
            panic!("the replay ended ({status}): papaya no longer hangs on this trace");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().expect("killed");
    let _ = child.wait();
}
