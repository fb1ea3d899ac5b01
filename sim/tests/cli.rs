//! The `sim` binary: exit codes, messages, saved traces.

use std::path::PathBuf;
use std::process::Output;

mod common;
use common::{code, sim};

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A fresh directory of this test's own.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn help_documents_the_exit_codes() {
    for args in [&["--help"][..], &["run", "--help"], &["replay", "--help"]] {
        let out = sim(args);
        assert_eq!(code(&out), 0);
        assert!(stdout(&out).contains("Exit codes:"), "{args:?}");
    }
}

#[test]
fn a_clean_run_prints_the_summary_and_exits_0() {
    let out = sim(&[
        "run",
        "--seeds",
        "0..20",
        "--jobs",
        "2",
        "--check-determinism",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("seeds 0..20: 20 seeds ran"), "{text}");
    assert!(text.contains("ops checked"), "{text}");
    assert!(text.contains("state coverage"), "{text}");
    assert!(text.contains("no failure found"), "{text}");
}

#[test]
fn output_does_not_depend_on_jobs_or_shards_cover_the_range() {
    let summary = |args: &[&str]| {
        let out = sim(args);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        // Timing lines aside, the summary is a function of the seeds.
        stdout(&out)
            .lines()
            .filter(|l| l.starts_with("  ") && !l.contains("ops/s"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        summary(&["run", "--seeds", "0..16", "--jobs", "1"]),
        summary(&["run", "--seeds", "0..16", "--jobs", "3"])
    );
    let out = sim(&["run", "--seeds", "0..10", "--shard", "1/3"]);
    assert!(
        stdout(&out).contains("shard 1/3: 3 seeds ran"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_time_limit_stops_the_run_and_says_how_many_seeds_ran() {
    let out = sim(&["run", "--time", "300ms", "--jobs", "1"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("seeds ran, stopped by --time"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn bad_usage_exits_2_with_a_message() {
    let cases: [(&[&str], &str); 6] = [
        (&["run", "--seeds", "5..3"], "is empty"),
        (&["run", "--seeds", "banana"], "expected `A..B`"),
        (&["run", "--fault", "gremlins"], "unknown fault `gremlins`"),
        (&["run", "--frobnicate"], "--frobnicate"),
        (&["run", "--shard", "3/3"], "expected `I/N`"),
        (&["replay"], "required"),
    ];
    for (args, message) in cases {
        let out = sim(args);
        assert_eq!(code(&out), 2, "{args:?}");
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn a_malformed_trace_exits_2_with_its_line() {
    let dir = scratch("malformed");
    let path = dir.join("bad.trace");
    std::fs::write(&path, "sim-trace 1\nseed none\nmap-seed x\n").unwrap();
    let out = sim(&["replay", path.to_str().unwrap()]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("line 3: expected `map-seed <u64>`"),
        "{}",
        stderr(&out)
    );
    let missing = sim(&["replay", dir.join("missing.trace").to_str().unwrap()]);
    assert_eq!(code(&missing), 2);
    assert!(stderr(&missing).contains("cannot read trace"));
}

#[test]
fn replaying_a_seed_runs_its_program() {
    let out = sim(&["replay", "--seed", "3", "--verbose"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("end: drain live cursors, audit"), "{text}");
    assert!(text.contains("clean:"), "{text}");
}

#[cfg(not(feature = "faults"))]
#[test]
fn a_fault_needs_the_faults_feature() {
    let out = sim(&["run", "--fault", "skip-check-bucket"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("`faults` feature"),
        "{}",
        stderr(&out)
    );
}

#[cfg(feature = "faults")]
#[test]
fn a_failure_is_shrunk_saved_printed_and_replays() {
    let dir = scratch("failure");
    let out = sim(&[
        "run",
        "--seeds",
        "0..200",
        "--fault",
        "clear-keeps-cursors",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let text = stdout(&out);
    for part in [
        "failed",
        "check:",
        "expected:",
        "found:",
        "map at the failure:",
        "shrunk from",
        "replay with: cargo run",
    ] {
        assert!(text.contains(part), "{part:?} missing from:\n{text}");
    }
    let saved: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let name = saved[0].file_name().unwrap().to_str().unwrap().to_string();
    assert!(
        name.starts_with("seed-") && name.ends_with(".trace"),
        "{name}"
    );
    let replay = sim(&["replay", saved[0].to_str().unwrap()]);
    assert_eq!(code(&replay), 1);
    assert!(
        stdout(&replay).contains("absent entry yielded (rules 2, 7)"),
        "{}",
        stdout(&replay)
    );
    let shrink = sim(&["shrink", saved[0].to_str().unwrap()]);
    assert_eq!(code(&shrink), 1);
    assert!(dir.join(name.replace(".trace", ".shrunk.trace")).exists());
}

/// `sim shrink` of a `.hang.trace` judges candidates in child processes; one that finishes is
/// no hang, and nothing is shrunk or saved.
#[test]
fn shrinking_a_hang_trace_that_finishes_says_it_is_no_hang() {
    let dir = scratch("no-hang");
    let trace = dir.join("seed-0.hang.trace");
    let program = common::program_on("map-core", vec![sim::op::Op::Insert { key: 1, value: 2 }]);
    std::fs::write(&trace, sim::trace::print(&program)).unwrap();
    let out = sim(&["shrink", trace.to_str().unwrap(), "--hang-after", "5s"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert!(stdout(&out).contains("not a hang"), "{}", stdout(&out));
    assert!(!dir.join("seed-0.hang.shrunk.trace").exists());
}

/// `--keep-going --allow`: known bugs (here the `clear-keeps-cursors` fault, caught by absent
/// and stale yields over these seeds) pass, anything else, or too many, fails.
#[cfg(feature = "faults")]
#[test]
fn known_failures_pass_and_any_other_check_or_too_many_fail() {
    let dir = scratch("known");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "--seeds",
            "0..100",
            "--fault",
            "clear-keeps-cursors",
            "--keep-going",
            "--out",
            dir.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        sim(&args)
    };
    let known = run(&["--allow", "absent-yield", "--allow", "stale-value"]);
    assert_eq!(code(&known), 0, "{}", stdout(&known));
    assert!(stdout(&known).contains("every failing seed failed a known check"));

    let other = run(&["--allow", "absent-yield"]);
    assert_eq!(code(&other), 1, "{}", stdout(&other));
    let text = stdout(&other);
    assert!(
        text.contains("failed a check other than the known ones"),
        "{text}"
    );
    assert!(
        text.contains("check:    stale value yielded (rule 3)"),
        "{text}"
    );
    assert!(text.contains("replay with: cargo run"), "{text}");

    let too_many = run(&[
        "--allow",
        "absent-yield",
        "--allow",
        "stale-value",
        "--max-failure-rate",
        "10%",
    ]);
    assert_eq!(code(&too_many), 1, "{}", stdout(&too_many));
    assert!(stdout(&too_many).contains("more than the 10% allowed"));

    let without_keep_going = sim(&["run", "--seeds", "0..5", "--allow", "absent-yield"]);
    assert_eq!(code(&without_keep_going), 2);
}

#[test]
fn a_trace_of_a_weakly_consistent_target_does_not_export_to_a_map_judged_by_section_2() {
    let dir = scratch("weak-export");
    let striped = sim::target::lookup("striped").unwrap();
    let trace = dir.join("striped.trace");
    std::fs::write(
        &trace,
        sim::trace::print(&sim::gen::generate_for(3, striped)),
    )
    .unwrap();
    let out = sim(&["export", "--lang", "go", trace.to_str().unwrap()]);
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert!(stderr(&out).contains("promise §7"), "{}", stderr(&out));
    let out = sim(&["replay", trace.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
}

#[test]
fn a_run_limited_to_some_hashers_prints_a_seed_replay_that_draws_the_same_program() {
    let dir = scratch("hashers");
    let out = sim(&[
        "run",
        "--target",
        "weak-example-resize-skips",
        "--hashers",
        "seeded,constant",
        "--seeds",
        "0..50",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let text = stdout(&out);
    let replay = text
        .lines()
        .find_map(|l| l.strip_prefix("the unshrunk program: cargo run --release -p sim -- "))
        .unwrap_or_else(|| panic!("no seed replay command in:\n{text}"));
    assert!(replay.ends_with("--hashers seeded,constant"), "{replay}");
    let args: Vec<&str> = replay.split_whitespace().collect();
    let again = sim(&args);
    assert_eq!(code(&again), 1, "{}", stdout(&again));
    assert!(
        text.contains("key present throughout not yielded (W2"),
        "{text}"
    );
    assert!(
        stdout(&again).contains("key present throughout not yielded (W2"),
        "{}",
        stdout(&again)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unknown_hasher_mode_is_a_usage_error_naming_the_known_ones() {
    let out = sim(&["run", "--hashers", "seeded,fnv"]);
    assert_eq!(code(&out), 2);
    let text = stderr(&out);
    assert!(text.contains("unknown hasher mode `fnv`"), "{text}");
    assert!(text.contains("collide-tophash"), "{text}");
    let out = sim(&["replay", "--hashers", "seeded"]);
    assert_eq!(code(&out), 2, "--hashers without --seed");
}

/// The `N ops checked` figures of a run's output, in order.
fn ops_checked(text: &str) -> Vec<u64> {
    text.lines()
        .filter_map(|l| l.split_once(" ops checked"))
        .filter_map(|(head, _)| head.rsplit(' ').next()?.parse().ok())
        .collect()
}

#[test]
fn processes_split_the_seeds_and_add_up_to_one_runs_ops() {
    let one = sim(&["run", "--seeds", "0..400", "--jobs", "2"]);
    assert_eq!(code(&one), 0, "{}", stderr(&one));
    let split = sim(&["run", "--seeds", "0..400", "--processes", "2"]);
    let text = stdout(&split);
    assert_eq!(code(&split), 0, "{text}{}", stderr(&split));
    assert!(
        text.contains("== process 0/2 (--shard 0/2 --jobs 1)"),
        "{text}"
    );
    assert!(
        text.contains("== process 1/2 (--shard 1/2 --jobs 1)"),
        "{text}"
    );
    assert!(
        text.contains("2 processes together: 400 seeds ran"),
        "{text}"
    );
    let parts = ops_checked(&text);
    assert_eq!(parts.len(), 3, "two processes and the total: {text}");
    assert_eq!(parts[0] + parts[1], parts[2]);
    assert_eq!(parts[2], ops_checked(&stdout(&one))[0]);
}

#[test]
fn each_process_saves_its_own_failure_and_the_run_exits_1() {
    let dir = scratch("processes");
    let json = dir.join("merged.json");
    let out = sim(&[
        "run",
        "--target",
        "weak-example-resize-skips",
        "--seeds",
        "0..50",
        "--processes",
        "2",
        "--out",
        dir.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}");
    assert!(text.contains("2 of them found a failure"), "{text}");
    let traces = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("trace".as_ref()))
        .count();
    assert_eq!(traces, 2, "{text}");
    let merged = std::fs::read_to_string(&json).expect("the merged summary");
    assert!(merged.contains("\"shard\": 1"), "{merged}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn processes_with_jobs_is_a_usage_error() {
    let out = sim(&["run", "--processes", "2", "--jobs", "2"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("--jobs"), "{}", stderr(&out));
}
