//! The `go` target (Go's runtime map behind `drivers/go`) and the driver protocol's edge cases.
//!
//! Tests that need Go print why they skip and pass when `go` is not on PATH. The fake-driver
//! tests need only `sh`.

mod common;

use std::path::Path;
use std::process::Command;

use sim::exec::{self, FailureKind, Stage};
use sim::op::{CursorId, Op};
use sim::program::Program;
use sim::target::driver::{Driver, DriverKind, Outcome};
use sim::target::{self, Capabilities, TargetError, TargetInfo};

/// The `go` target, built and started once; `None` (after saying why) when Go is missing.
fn go_target(test: &str) -> Option<&'static TargetInfo> {
    common::runnable_target("go", test)
}

fn program(ops: Vec<Op>) -> Program {
    common::program_on("go", ops)
}

const C0: CursorId = CursorId::ALL[0];
const C1: CursorId = CursorId::ALL[1];
const C2: CursorId = CursorId::ALL[2];

fn step(cursor: CursorId, steps: u16) -> Op {
    Op::CursorStep { cursor, steps }
}

/// Go 1.19's `mapclear` leaves a live iterator walking stale entries: those of the old array when
/// the iteration began before a growth still under way, or those of a separately allocated
/// overflow bucket it stands in; the swiss map of Go 1.24 and later yields a key put back after a
/// clear twice (drivers/go/README.md, drivers/go/repro). Those are the only failures a run on Go
/// may show, and only at a cursor step after a clear.
fn is_the_known_clear_bug(program: &Program, failure: &exec::Failure) -> bool {
    let cursor_stage = matches!(failure.stage, Stage::End | Stage::Op(Op::CursorStep { .. }));
    let cleared_before = program.ops[..failure.step.min(program.ops.len())].contains(&Op::Clear);
    cursor_stage
        && cleared_before
        && matches!(
            failure.kind,
            FailureKind::AbsentYield | FailureKind::StaleValue | FailureKind::DuplicateYield
        )
}

#[test]
fn a_fixed_seed_range_runs_on_go_with_only_the_known_clear_bug() {
    let Some(go) = go_target("a_fixed_seed_range_runs_on_go_with_only_the_known_clear_bug") else {
        return;
    };
    let (mut clean, mut known, mut growth_steps) = (0, 0, 0);
    let mut swiss_steps = 0;
    for seed in 0..300 {
        let p = sim::gen::generate_for(seed, go);
        match exec::run(&p) {
            Ok(stats) => {
                clean += 1;
                growth_steps += stats.coverage.growth_with_cursor;
                swiss_steps += stats.coverage.replaced_table_steps;
                assert_eq!(stats.coverage.growth_state_unknown, 0, "seed {seed}");
            }
            Err(f) if is_the_known_clear_bug(&p, &f) => known += 1,
            Err(f) => panic!("seed {seed} on go:\n{f}"),
        }
    }
    assert!(clean >= 280, "{clean} clean, {known} hit the clear bug");
    // The classic map grows incrementally, under cursors; the swiss map replaces tables, which
    // cursors go on walking.
    assert!(
        growth_steps > 0 || swiss_steps > 0,
        "no cursor step ran during a growth or on a replaced table"
    );
}

#[test]
fn an_empty_program_answers_only_the_contents() {
    let Some(go) = go_target("an_empty_program_answers_only_the_contents") else {
        return;
    };
    let stats = exec::run_on(&program(vec![]), go, None).expect("clean");
    assert_eq!((stats.ops, stats.cursor_steps), (0, 0));
}

#[test]
fn a_cursor_on_an_empty_map_ends_at_its_first_step_and_stays_ended() {
    let Some(go) = go_target("a_cursor_on_an_empty_map_ends_at_its_first_step_and_stays_ended")
    else {
        return;
    };
    let p = program(vec![
        Op::CursorNew { cursor: C0 },
        step(C0, 3),
        Op::Insert { key: 1, value: 2 },
        step(C0, 3),
    ]);
    let stats = exec::run_on(&p, go, None).expect("clean");
    assert_eq!((stats.cursor_steps, stats.yields), (1, 0));
}

#[test]
fn steps_on_dropped_and_missing_cursors_are_no_ops() {
    let Some(go) = go_target("steps_on_dropped_and_missing_cursors_are_no_ops") else {
        return;
    };
    let mut ops: Vec<Op> = (0..20).map(|k| Op::Insert { key: k, value: k }).collect();
    ops.extend([
        Op::CursorNew { cursor: C1 },
        step(C1, 2),
        Op::CursorDrop { cursor: C1 },
        step(C1, 5),
        step(C2, 5),
        Op::CursorDrop { cursor: C2 },
    ]);
    let stats = exec::run_on(&program(ops), go, None).expect("clean");
    assert_eq!((stats.cursor_steps, stats.yields), (2, 2));
}

#[test]
fn the_end_of_the_program_drains_every_live_cursor() {
    let Some(go) = go_target("the_end_of_the_program_drains_every_live_cursor") else {
        return;
    };
    let mut ops: Vec<Op> = (0..50).map(|k| Op::Insert { key: k, value: k }).collect();
    for cursor in CursorId::ALL {
        ops.push(Op::CursorNew { cursor });
        ops.push(step(cursor, 7));
    }
    let stats = exec::run_on(&program(ops), go, None).expect("clean");
    // Each of the four cursors yields all 50 entries, then reports its end.
    assert_eq!((stats.yields, stats.cursor_steps), (200, 204));
}

#[test]
fn a_program_larger_than_a_pipe_buffer_runs_without_deadlock() {
    let Some(go) = go_target("a_program_larger_than_a_pipe_buffer_runs_without_deadlock") else {
        return;
    };
    // 200k ops: megabytes each way, far past a 64 KiB pipe buffer. No clear, so that Go's clear
    // bug cannot fail it.
    let ops: Vec<Op> = (0..200_000u64)
        .map(|i| match i % 10 {
            0 => Op::CursorNew {
                cursor: CursorId::ALL[(i / 10 % 4) as usize],
            },
            1 | 2 => step(CursorId::ALL[(i % 4) as usize], 3),
            3 => Op::Remove { key: i % 7919 },
            4 => Op::Get { key: i % 4001 },
            _ => Op::Insert {
                key: i % 5003,
                value: i,
            },
        })
        .collect();
    let stats = exec::run_on(&program(ops), go, None).expect("clean");
    assert_eq!(stats.ops, 200_000);
}

#[test]
fn a_malformed_program_gets_error_and_the_driver_stays_usable() {
    if go_target("a_malformed_program_gets_error_and_the_driver_stays_usable").is_none() {
        return;
    }
    let mut driver = sim::target::go::spawn("go").expect("the driver starts");
    assert!(driver
        .hello()
        .implementation
        .starts_with("go-runtime-map/go"));
    for (bad, says) in [
        (&b"program 0\ni 1\nend\n"[..], "operands"),
        (b"program 0\ns 4 1\nend\n", "handle"),
        (b"program 0\nq\nend\n", "unknown op"),
        (b"program x\nend\n", "capacity"),
        (b"program 0\ng 18446744073709551616\nend\n", "bad number"),
        (b"program 0\ng 99999999999999999999\nend\n", "bad number"),
        (b"program 0\ng 1844674407370955161x\nend\n", "bad number"),
    ] {
        let t = driver.run_raw(bad);
        match t.outcome() {
            Outcome::Rejected(message) => assert!(message.contains(says), "{message}"),
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(bad)),
        }
        assert!(t.answers().is_empty());
    }
    let t =
        driver.run_raw(b"program 0\ni 1 2\ng 1\ni 18446744073709551615 9999999999999999999\nend\n");
    assert_eq!(t.outcome(), &Outcome::Complete);
    assert_eq!(
        t.answers()
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>(),
        ["v -", "l 1", "v 2", "l 1", "v -", "l 2", "c 2"]
    );
    let mut contents = t.contents().to_vec();
    contents.sort_unstable();
    assert_eq!(contents, [(1, 2), (u64::MAX, 9_999_999_999_999_999_999)]);
}

/// The file names of the natural driver for `go`, as sim builds it.
fn natural_files(go: &target::go::toolchain::Toolchain) -> Vec<&'static str> {
    let family = go.family().expect("a known family");
    let (_, minor, _) = go.release().expect("a release number");
    target::go::build::sources(target::go::build::Mode::Natural, family, minor)
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// The assembly of the driver's `clearMap` calls `runtime.mapclear`: the idiom is compiled as
/// the clear it stands for, not as a delete per key.
#[test]
fn the_driver_clear_compiles_to_runtime_mapclear() {
    let go = match target::go::check_go() {
        Ok(go) => go,
        Err(why) => {
            eprintln!("the_driver_clear_compiles_to_runtime_mapclear: skipped: {why}");
            return;
        }
    };
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("../drivers/go");
    let out_dir = std::env::temp_dir().join(format!("sim-go-asm-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let output = target::go::toolchain::clean_go_command(&go.go)
        .args(["build", "-gcflags=-S", "-o"])
        .arg(out_dir.join("driver"))
        .args(natural_files(&go))
        .current_dir(&sources)
        .output()
        .expect("go build runs");
    let _ = std::fs::remove_dir_all(&out_dir);
    assert!(output.status.success(), "{output:?}");
    // The compiler prints each function's assembly to stderr, starting with `<name> STEXT`.
    let asm = String::from_utf8_lossy(&output.stderr);
    let start = asm
        .find("main.clearMap STEXT")
        .unwrap_or_else(|| panic!("no assembly for main.clearMap in:\n{asm}"));
    // The function runs up to the next function's header line.
    let calls: Vec<&str> = asm[start..]
        .lines()
        .skip(1)
        .take_while(|l| !l.contains(" STEXT"))
        .filter_map(|l| l.split_once("CALL").map(|(_, callee)| callee.trim()))
        .collect();
    assert!(
        calls.contains(&"runtime.mapclear(SB)"),
        "clearMap calls {calls:?}"
    );
    assert!(
        !calls
            .iter()
            .any(|c| c.contains("mapiterinit") || c.contains("mapdelete")),
        "clearMap iterates or deletes instead of clearing: {calls:?}"
    );
}

// Fake drivers in `sh`: what the client does with a driver that rejects or dies.

fn sh_driver(script: &str) -> Result<Driver, TargetError> {
    let mut command = Command::new("sh");
    command.arg("-c").arg(script);
    Driver::spawn(command)
}

const REJECTING: DriverKind = DriverKind {
    name: "test-rejecting",
    spawn: |_| {
        sh_driver(
            "echo 'hello sim-driver 1 fake/0 state=unknown'; \
             while read -r line; do \
               if [ \"$line\" = end ]; then echo 'error no map here'; echo done; fi; \
             done",
        )
    },
};

const DYING: DriverKind = DriverKind {
    name: "test-dying",
    spawn: |_| {
        sh_driver(
            "echo 'hello sim-driver 1 fake/0 state=unknown'; \
             read -r line; echo 'v -'; echo 'out of memory, say' >&2; exit 3",
        )
    },
};

fn fake_info(
    name: &'static str,
    create: fn(&Program) -> Result<Box<dyn target::Target>, TargetError>,
) -> TargetInfo {
    TargetInfo {
        name,
        about: "a fake driver for tests",
        capabilities: Capabilities {
            cursors: true,
            deterministic: false,
            ..Capabilities::PLAIN
        },
        create,
        check_available: target::always_available,
    }
}

#[test]
fn a_driver_error_is_a_failure_at_the_first_op_not_a_hang() {
    let info = fake_info("test-rejecting", |p| REJECTING.target(p));
    let p = program(vec![Op::Insert { key: 1, value: 1 }]);
    for _ in 0..2 {
        let failure = exec::run_on(&p, &info, None).expect_err("the driver rejects");
        assert_eq!((failure.kind, failure.step), (FailureKind::Panic, 0));
        assert!(
            failure.found.contains("rejected the program: no map here"),
            "{}",
            failure.found
        );
    }
}

#[test]
fn a_driver_that_dies_is_a_failure_with_its_stderr_and_is_restarted() {
    let info = fake_info("test-dying", |p| DYING.target(p));
    let p = program(vec![Op::Insert { key: 1, value: 1 }, Op::Get { key: 1 }]);
    for _ in 0..2 {
        let failure = exec::run_on(&p, &info, None).expect_err("the driver dies");
        // The driver answered the insert, then died before the len after it.
        assert_eq!((failure.kind, failure.step), (FailureKind::Panic, 0));
        assert!(
            failure.found.contains("died after 1 answers"),
            "{}",
            failure.found
        );
        assert!(
            failure.found.contains("out of memory, say"),
            "{}",
            failure.found
        );
        assert!(
            failure.found.contains("exit status: 3"),
            "{}",
            failure.found
        );
    }
}

#[test]
fn a_driver_that_hangs_is_killed_and_reported_not_waited_for() {
    // `exec sleep`: the hung process is the driver itself; plain `sleep`: a process the driver
    // started keeps its pipes open after the driver is killed.
    for hang in ["exec sleep 1000", "sleep 1000"] {
        let script = format!(
            "echo 'hello sim-driver 1 fake/0 state=unknown'; read -r line; echo 'v -'; {hang}"
        );
        let mut command = Command::new("sh");
        command.arg("-c").arg(&script);
        let started = std::time::Instant::now();
        let mut driver = Driver::spawn_with_timeout(command, std::time::Duration::from_millis(200))
            .expect("the driver says hello");
        let p = program(vec![Op::Insert { key: 1, value: 1 }, Op::Get { key: 1 }]);
        let transcript = driver.run(&p).expect("the program is written");
        match transcript.outcome() {
            Outcome::Died(why) => assert!(
                why.contains("wrote nothing for 0.2 s (it hangs) and was killed"),
                "{hang}: {why}"
            ),
            other => panic!("{hang}: {other:?}"),
        }
        assert_eq!(
            transcript.answers().len(),
            1,
            "the answer before the hang is kept"
        );
        assert!(driver.is_dead());
        drop(driver);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{hang}: took {:?}",
            started.elapsed()
        );
    }
}
