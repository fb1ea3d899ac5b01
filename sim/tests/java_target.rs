//! The `java-chm` target: Java's ConcurrentHashMap behind `drivers/java/SimDriver.java`.
//!
//! Tests that need a JDK print why they skip and pass when `javac` or `java` is not on PATH.

mod common;

use sim::program::HasherSet;
use std::process::Command;

use sim::exec::{self, FailureKind};
use sim::op::{CursorId, Op};
use sim::program::Program;
use sim::target::driver::{Driver, DriverKind};
use sim::target::{self, java, Contract, NoRepeat, TargetError, TargetInfo};

/// The `java-chm` target, compiled and started once; `None` (after saying why) without a JDK.
fn java_target(test: &str) -> Option<&'static TargetInfo> {
    common::runnable_target(java::NAME, test)
}

fn program(ops: Vec<Op>) -> Program {
    common::program_on(java::NAME, ops)
}

const C0: CursorId = CursorId::ALL[0];

#[test]
fn a_fixed_seed_range_runs_clean_and_cursors_live_through_resizes() {
    let Some(java) = java_target("a_fixed_seed_range_runs_clean_and_cursors_live_through_resizes")
    else {
        return;
    };
    assert_eq!(
        java.capabilities.contract,
        Contract::Weak(NoRepeat::PerElement)
    );
    assert!(java.capabilities.deterministic && java.capabilities.cursors);
    let (mut resized_under, mut twice, mut yields) = (0, 0, 0);
    for seed in 0..300 {
        let p = sim::gen::generate_for(seed, java);
        match exec::run(&p) {
            Ok(stats) => {
                resized_under += stats.coverage.cursors_through_growth;
                twice += stats.coverage.multi_growth_cursors;
                yields += stats.yields;
            }
            Err(f) => panic!("seed {seed} on java-chm:\n{f}"),
        }
    }
    // The driver reads the table through --add-opens and counts cursors that step after a
    // resize during their life; the generator's growth episodes make them common.
    assert!(resized_under >= 30, "{resized_under} cursors saw a resize");
    assert!(twice >= 5, "{twice} cursors saw two resizes");
    assert!(yields > 10_000, "{yields} yields");
}

#[test]
fn the_same_program_gets_the_same_answers() {
    let Some(java) = java_target("the_same_program_gets_the_same_answers") else {
        return;
    };
    for seed in [3, 17, 40] {
        let p = sim::gen::generate_for(seed, java);
        let first = java::KIND.run(&p).expect("runs");
        let second = java::KIND.run(&p).expect("runs");
        assert_eq!(first.answers(), second.answers(), "seed {seed}");
        assert_eq!(first.contents(), second.contents(), "seed {seed}");
    }
}

#[test]
fn a_cursor_sees_every_entry_across_resizes_and_a_clear_empties_the_map() {
    let Some(java) =
        java_target("a_cursor_sees_every_entry_across_resizes_and_a_clear_empties_the_map")
    else {
        return;
    };
    // 11 entries in a 16-bin table, a cursor part-way, then 40 more: two resizes (at 12 and 24
    // entries) and a third (at 48) under the cursor, which must still yield the first 11.
    let mut ops: Vec<Op> = (0..11).map(|k| Op::Insert { key: k, value: k }).collect();
    ops.push(Op::CursorNew { cursor: C0 });
    ops.push(Op::CursorStep {
        cursor: C0,
        steps: 3,
    });
    ops.extend((100..140).map(|k| Op::Insert { key: k, value: k }));
    ops.push(Op::CursorStep {
        cursor: C0,
        steps: 1000,
    });
    ops.push(Op::Clear);
    ops.push(Op::Insert { key: 7, value: 8 });
    let mut p = program(ops);
    p.config.initial_capacity = 8;
    let stats = exec::run_on(&p, java, None).expect("clean");
    assert_eq!(stats.coverage.cursors_through_growth, 1);
    assert_eq!(stats.coverage.multi_growth_cursors, 1);
    assert!(stats.yields >= 11, "{} yields", stats.yields);
    let t = java::KIND.run(&p).expect("runs");
    assert_eq!(t.contents(), &[(7, 8)]);
    assert_eq!(
        t.counts()
            .iter()
            .find(|(name, _)| name == "resize")
            .map(|c| c.1),
        Some(3)
    );
}

#[test]
fn malformed_programs_get_an_error_answer_and_the_driver_stays_ready() {
    let dir = match java::build(java::SOURCE) {
        Ok(dir) => dir,
        Err(why) => {
            eprintln!(
                "malformed_programs_get_an_error_answer_and_the_driver_stays_ready: skipped: {why}"
            );
            return;
        }
    };
    let mut driver = java::spawn_from(&dir).expect("starts");
    for (request, message) in [
        (&b"program 0 1\nq 1\nend\n"[..], "unknown op"),
        (b"program 0 1\ni 1\nend\n", "expected 2 operands"),
        (b"program 0 1\ng 18446744073709551616\nend\n", "bad number"),
        (b"program 0 1\nn 4\nend\n", "cursor handle out of range"),
        (b"program 0\nend\n", "no seed"),
        (b"program 99999999999 1\nend\n", "too large"),
        (b"bogus\ng 1\nend\n", "expected `program"),
    ] {
        let t = driver.run_raw(request);
        match t.outcome() {
            sim::target::driver::Outcome::Rejected(m) => assert!(m.contains(message), "{m}"),
            other => panic!("{}: {other:?}", String::from_utf8_lossy(request)),
        }
    }
    let t = driver.run_raw(b"program 0 1\ni 18446744073709551615 5\ng 18446744073709551615\nend\n");
    assert_eq!(t.contents(), &[(u64::MAX, 5)]);
}

/// The driver's source with every yield line's tag changed: a driver that breaks the protocol.
fn tampered_source() -> String {
    let tampered = java::SOURCE.replace("outBuf[outLen++] = 'y';", "outBuf[outLen++] = 'Y';");
    assert_ne!(
        tampered,
        java::SOURCE,
        "the yield line's tag is where the test expects it"
    );
    tampered
}

fn spawn_tampered(_: &'static str) -> Result<Driver, TargetError> {
    java::spawn_from(&java::build(&tampered_source())?)
}

const TAMPERED: DriverKind = DriverKind {
    name: "test-java-tampered",
    spawn: spawn_tampered,
};

#[test]
fn a_tampered_driver_line_is_a_failure_that_names_it() {
    if let Err(why) = java::build(java::SOURCE) {
        eprintln!("a_tampered_driver_line_is_a_failure_that_names_it: skipped: {why}");
        return;
    }
    let info = TargetInfo {
        name: "test-java-tampered",
        create: |p| TAMPERED.target(p),
        ..*target::find(java::NAME).expect("built in")
    };
    let p = program(vec![
        Op::Insert { key: 1, value: 2 },
        Op::CursorNew { cursor: C0 },
        Op::CursorStep {
            cursor: C0,
            steps: 1,
        },
    ]);
    let failure = exec::run_on(&p, &info, None).expect_err("the driver broke the protocol");
    assert_eq!(failure.kind, FailureKind::Panic);
    assert!(
        failure.found.contains("broke the protocol") && failure.found.contains("`Y 1 2 ?`"),
        "{}",
        failure.found
    );
}

#[test]
fn the_cache_rebuilds_when_the_source_changes_and_reuses_a_build_otherwise() {
    let dir = match java::build(java::SOURCE) {
        Ok(dir) => dir,
        Err(why) => {
            eprintln!("the_cache_rebuilds_when_the_source_changes_and_reuses_a_build_otherwise: skipped: {why}");
            return;
        }
    };
    assert!(dir.join("SimDriver.class").is_file());
    assert!(dir.starts_with(sim::target::go::build::target_dir().join("sim-drivers")));
    let class = dir.join("SimDriver.class");
    let built = std::fs::metadata(&class).unwrap().modified().unwrap();
    assert_eq!(java::build(java::SOURCE).unwrap(), dir);
    assert_eq!(
        std::fs::metadata(&class).unwrap().modified().unwrap(),
        built,
        "a cached build is not compiled again"
    );
    assert_eq!(java::driver_dir_for(java::SOURCE).unwrap(), dir);
    // A changed source (a comment is enough) is compiled into a directory of its own.
    let changed = format!("{}\n// changed by {}\n", java::SOURCE, module_path!());
    let other = java::build(&changed).expect("compiles");
    assert_ne!(other, dir);
    assert!(other.join("SimDriver.class").is_file());
    let mut driver = java::spawn_from(&other).expect("starts");
    let t = driver.run_raw(b"program 0 1\ni 4 5\nend\n");
    assert_eq!(t.contents(), &[(4, 5)]);
}

#[test]
fn without_a_jdk_the_target_is_a_clear_error_with_exit_2() {
    let empty = std::env::temp_dir().join(format!("sim-no-jdk-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(["run", "--target", "java-chm", "--seeds", "0..1"])
        .env("PATH", &empty)
        .output()
        .expect("sim runs");
    let _ = std::fs::remove_dir(&empty);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`javac` cannot be run"), "{stderr}");
}

/// Concurrent mode's `java-chm`: the driver's own threads, its log read back and checked.
fn java_concurrent(test: &str) -> Option<&'static sim::concurrent::ConcurrentInfo> {
    java_target(test)?;
    Some(sim::concurrent::lookup(java::NAME).expect("java-chm runs concurrent programs"))
}

#[test]
fn concurrent_programs_run_on_java_threads_and_their_logs_check_clean() {
    let Some(info) =
        java_concurrent("concurrent_programs_run_on_java_threads_and_their_logs_check_clean")
    else {
        return;
    };
    assert_eq!(info.no_repeat, NoRepeat::PerElement);
    let mut total = sim::concurrent::ConcurrentStats::default();
    for seed in 0..40 {
        match sim::concurrent::run_seed(info, seed, 2, HasherSet::ALL) {
            Ok(stats) => total.add(&stats),
            Err(f) => panic!(
                "seed {seed} on java-chm with 2 threads: {:?}\n{}",
                f.violation,
                f.log.iter().map(|c| format!("{c}\n")).collect::<String>()
            ),
        }
    }
    let program_calls: usize = (0..40)
        .map(|s| sim::concurrent::ConcurrentProgram::generate(s, 2).calls())
        .sum();
    // Every call of the program comes back (cursor steps add more).
    assert!(total.calls >= program_calls as u64, "{total:?}");
    assert!(total.cursors > 0 && total.yields > 0, "{total:?}");
}

#[test]
fn malformed_concurrent_programs_get_an_error_answer_and_the_driver_stays_ready() {
    let dir = match java::build(java::SOURCE) {
        Ok(dir) => dir,
        Err(why) => {
            eprintln!("malformed_concurrent_programs_get_an_error_answer_and_the_driver_stays_ready: skipped: {why}");
            return;
        }
    };
    let mut driver = java::spawn_from(&dir).expect("starts");
    assert!(driver.hello().concurrent);
    for (request, message) in [
        (&b"concurrent 0 1\nend\n"[..], "expected `concurrent"),
        (b"concurrent 0 1 0\nend\n", "writers must be 1 to 64"),
        (b"concurrent 0 1 65\nend\n", "writers must be 1 to 64"),
        (b"concurrent 0 1 2\n3 i 1 2\nend\n", "thread 3 out of range"),
        (
            b"concurrent 0 1 2\n0 i 1 2\nend\n",
            "not one thread 0 may run",
        ),
        (
            b"concurrent 0 1 2\n1 n 0\nend\n",
            "not one thread 1 may run",
        ),
        (b"concurrent 0 1 2\n1 i 1\nend\n", "expected 2 operands"),
        (b"concurrent 0 1 2\np 1\nend\n", "expected 2 operands"),
        (
            b"concurrent 0 1 2\ni 1 2\nend\n",
            "expected `p <key> <value>`",
        ),
    ] {
        let lines = driver.exchange_lines(request).expect("answers");
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with("error ") && lines[0].contains(message),
            "{}: {}",
            String::from_utf8_lossy(request),
            lines[0]
        );
    }
    let lines = driver
        .exchange_lines(b"concurrent 0 1 1\np 7 70\n1 r 7\n0 n 0\n0 s 0 5\nend\n")
        .expect("answers");
    let ran = sim::concurrent::driver::parse(&lines);
    assert_eq!(ran.panic, None, "{lines:?}");
    assert_eq!(ran.contents, vec![]);
    assert!(ran.calls.len() >= 4, "{lines:?}");
}

/// The driver's source with every concurrent yield's value off by one: a map that yields values
/// no store ever stored.
fn spawn_off_by_one(_: &'static str) -> Result<Driver, TargetError> {
    let source = java::SOURCE.replace(
        "log.add(b, r, (byte) 'y', c, e.getKey(), e.getValue(), null);",
        "log.add(b, r, (byte) 'y', c, e.getKey(), e.getValue() + 1, null);",
    );
    assert_ne!(
        source,
        java::SOURCE,
        "the concurrent yield is where the test expects it"
    );
    java::spawn_from(&java::build(&source)?)
}

const OFF_BY_ONE: DriverKind = DriverKind {
    name: "test-java-off-by-one",
    spawn: spawn_off_by_one,
};

#[test]
fn a_driver_whose_threads_yield_values_never_stored_fails_the_concurrent_check() {
    let Some(real) = java_concurrent(
        "a_driver_whose_threads_yield_values_never_stored_fails_the_concurrent_check",
    ) else {
        return;
    };
    let info = sim::concurrent::ConcurrentInfo {
        name: "test-java-off-by-one",
        runner: sim::concurrent::Runner::Driver(&OFF_BY_ONE),
        ..*real
    };
    let failure = (0..20)
        .find_map(|seed| sim::concurrent::run_seed(&info, seed, 2, HasherSet::ALL).err())
        .expect("a yield of a value no store stored is caught");
    assert!(
        matches!(failure.kind(), FailureKind::Weak(_)),
        "{:?}",
        failure.violation
    );
}

#[test]
fn the_java_reproducers_compile() {
    if let Err(why) = java::build(java::SOURCE) {
        eprintln!("the_java_reproducers_compile: skipped: {why}");
        return;
    }
    let repro = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../drivers/java/repro");
    let out = std::env::temp_dir().join(format!("sim-java-repro-{}", std::process::id()));
    let sources: Vec<_> = std::fs::read_dir(&repro)
        .expect("drivers/java/repro")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "java"))
        .collect();
    assert!(!sources.is_empty());
    // They run as `java File.java`; compiling them checks they still do, without running a race.
    let status = Command::new("javac")
        .args(["--release", "17", "-d"])
        .arg(&out)
        .args(&sources)
        .status()
        .expect("javac runs");
    assert!(status.success(), "{sources:?}");
    let _ = std::fs::remove_dir_all(&out);
}
