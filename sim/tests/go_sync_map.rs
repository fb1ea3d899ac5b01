//! The `go-sync-map` target: Go's `sync.Map` behind the Go driver's `-map=sync`, checked against
//! weakly consistent iteration (semantics.md §7, no key visited twice).
//!
//! Tests that need Go print why they skip and pass when `go` is not on PATH.

mod common;

use sim::program::HasherSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use sim::exec;
use sim::op::{CursorId, Op};
use sim::program::Program;
use sim::target::go::{self, build, MapKind};
use sim::target::{self, Contract, NoRepeat, TargetInfo};

/// The `go-sync-map` target on the `go` on PATH, built and started once; `None` (after saying
/// why) when Go is missing.
fn sync_target(test: &str) -> Option<&'static TargetInfo> {
    common::runnable_target("go-sync-map", test)
}

fn program(ops: Vec<Op>) -> Program {
    common::program_on("go-sync-map", ops)
}

const C0: CursorId = CursorId::ALL[0];

fn step(cursor: CursorId, steps: u16) -> Op {
    Op::CursorStep { cursor, steps }
}

#[test]
fn sync_map_names_are_weak_targets_of_their_own() {
    for name in [go::SYNC_SEEDED, go::SYNC_NATURAL] {
        let info = target::find(name).expect("a built-in target");
        assert_eq!(
            info.capabilities.contract,
            Contract::Weak(NoRepeat::PerKey),
            "{name}"
        );
        assert!(
            info.capabilities.cursors && !info.capabilities.state,
            "{name}"
        );
    }
    assert!(
        target::find(go::SYNC_SEEDED)
            .unwrap()
            .capabilities
            .deterministic
    );
    assert!(
        !target::find(go::SYNC_NATURAL)
            .unwrap()
            .capabilities
            .deterministic
    );
    assert_eq!(
        go::parse("go-sync-map@1.27"),
        Some((MapKind::Sync, build::Mode::Seeded, Some("1.27")))
    );
    assert_eq!(
        go::parse("go-sync-map-natural"),
        Some((MapKind::Sync, build::Mode::Natural, None))
    );
    // The runtime map's parser, which the natural-mode confirmation uses (it exports a plain
    // map), does not take sync.Map's names.
    assert_eq!(go::parse_name("go-sync-map@1.27"), None);
    assert_eq!(
        go::parse_name("go@1.27"),
        Some((build::Mode::Seeded, Some("1.27")))
    );
}

#[test]
fn a_seed_range_on_the_go_on_path_runs_clean() {
    let Some(sync) = sync_target("a_seed_range_on_the_go_on_path_runs_clean") else {
        return;
    };
    assert!(sync.name.starts_with("go-sync-map@"), "{}", sync.name);
    let (mut yields, mut fresh, mut clears) = (0, 0, 0);
    for seed in 0..150 {
        let p = sim::gen::generate_for(seed, sync);
        let stats = exec::run(&p).unwrap_or_else(|f| panic!("seed {seed} on {}:\n{f}", sync.name));
        yields += stats.yields;
        fresh += stats.coverage.fresh_value_cursors;
        clears += stats.count(sim::op::OpKind::Clear);
    }
    assert!(yields > 5_000, "{yields} yields");
    assert!(clears > 0, "no clear ran");
    // sync.Map's Range reads each value when it reaches the key: a cursor yields values stored
    // after its creation.
    assert!(fresh > 0, "no cursor yielded a value newer than itself");
}

#[test]
fn seeded_runs_replay_the_same_answers() {
    if sync_target("seeded_runs_replay_the_same_answers").is_none() {
        return;
    }
    let out = common::sim(&[
        "run",
        "--target",
        "go-sync-map",
        "--seeds",
        "0..100",
        "--jobs",
        "1",
        "--check-determinism",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        common::code(&out),
        0,
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("each twice: deterministic"), "{stdout}");
    assert!(stdout.contains("no failure found"), "{stdout}");
}

#[test]
fn a_cursor_may_yield_what_a_clear_removed_but_never_a_key_twice() {
    let Some(sync) = sync_target("a_cursor_may_yield_what_a_clear_removed_but_never_a_key_twice")
    else {
        return;
    };
    // Begun, then the map cleared and refilled with the same keys under new values: Go 1.23's
    // Clear leaves the Range on its snapshot of the old entries, the hash trie's Range reads the
    // new root's keys or the old; either way each key comes at most once (W1), with a value it
    // held during the window (W3), and the refilled map is whole at the end.
    let mut ops: Vec<Op> = (0..40).map(|k| Op::Insert { key: k, value: k }).collect();
    ops.extend([Op::CursorNew { cursor: C0 }, step(C0, 5), Op::Clear]);
    ops.extend((0..40).map(|k| Op::Insert {
        key: k,
        value: 100 + k,
    }));
    ops.push(step(C0, 100));
    let stats = exec::run_on(&program(ops), sync, None).expect("clean");
    assert!(stats.yields >= 5 && stats.yields <= 40, "{}", stats.yields);
}

/// Runs `programs` (protocol text, each ended by `end`) through the driver built for the `go` on
/// PATH in sync mode, and returns, per program, the goroutine count and baseline it reported on
/// stderr (SIM_GO_DRIVER_DEBUG=goroutines).
fn goroutine_reports(programs: &str) -> Option<(Vec<(u64, u64)>, String)> {
    let toolchain = match go::check_go() {
        Ok(t) => t,
        Err(why) => {
            eprintln!("goroutine_reports: skipped: {why}");
            return None;
        }
    };
    let binary = build::build(&toolchain, build::Mode::Seeded).expect("the driver builds");
    let mut child = Command::new(binary)
        .arg("-map=sync")
        .env("SIM_GO_DRIVER_DEBUG", "goroutines")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the driver starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(programs.as_bytes())
        .unwrap();
    let mut stdout = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_to_string(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    let stderr: Vec<String> = BufReader::new(child.stderr.take().unwrap())
        .lines()
        .map(Result::unwrap)
        .collect();
    assert!(status.success(), "{status}: {stderr:?}\n{stdout}");
    let reports = stderr
        .iter()
        .map(|l| {
            let w: Vec<&str> = l.split(' ').collect();
            assert_eq!((w.len(), w[0], w[2]), (4, "goroutines", "baseline"), "{l}");
            (w[1].parse().unwrap(), w[3].parse().unwrap())
        })
        .collect();
    Some((reports, stdout))
}

#[test]
fn a_cursor_dropped_mid_range_leaves_no_goroutine_behind() {
    let mut fill = String::new();
    for k in 0..50 {
        fill.push_str(&format!("i {k} {k}\n"));
    }
    let programs = [
        // Dropped mid-Range, and replaced mid-Range by a new cursor on the same handle.
        format!("program 0 1\n{fill}n 0\ns 0 3\nd 0\nn 1\ns 1 7\nn 1\ns 1 2\nd 1\nend\n"),
        // Created and dropped before its first step (its Range never began).
        format!("program 0 2\n{fill}n 2\nd 2\nn 3\nend\n"),
        // Left mid-Range at the end of the program (the drain runs it out) and ended by a step.
        format!("program 0 3\n{fill}n 0\ns 0 10\nn 1\ns 1 60\nx\nend\n"),
    ];
    let Some((reports, stdout)) = goroutine_reports(&programs.concat()) else {
        return;
    };
    assert_eq!(stdout.matches("\ndone\n").count(), 3, "{stdout}");
    assert_eq!(reports.len(), 3, "{reports:?}");
    for (i, (now, baseline)) in reports.iter().enumerate() {
        assert_eq!(now, baseline, "program {i}: {reports:?}");
    }
    // Cursor 1 of the last program ran to its end within its 60 steps.
    assert!(stdout.contains("\ne ?\n"), "{stdout}");
}

#[test]
fn the_sync_driver_rejects_an_unknown_map_flag() {
    let Ok(toolchain) = go::check_go() else {
        eprintln!("the_sync_driver_rejects_an_unknown_map_flag: skipped: no go on PATH");
        return;
    };
    let binary = build::build(&toolchain, build::Mode::Natural).expect("the driver builds");
    let out = Command::new(binary)
        .arg("-map=btree")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
}

#[test]
fn each_program_seeds_the_hash_trie_of_go_1_24_and_later() {
    let Ok(toolchain) = go::check_go() else {
        eprintln!("each_program_seeds_the_hash_trie_of_go_1_24_and_later: skipped: no go on PATH");
        return;
    };
    let rules = go::overlay::renames(&toolchain).unwrap();
    let pulls_seeded = rules
        .iter()
        .any(|r| r.file == "internal/sync/hashtriemap.go" && r.to.contains("simMapRand"));
    let swiss = toolchain.family() == Ok(go::toolchain::Family::Swiss);
    assert_eq!(pulls_seeded, swiss, "{}", toolchain.version);
    // Two programs differing only in their seed: on a seeded hash trie their Range orders
    // differ (the order follows the hash seed), and the same seed gives the same order.
    let mut fill = String::new();
    for k in 0..64 {
        fill.push_str(&format!("i {k} {k}\n"));
    }
    let order = |seed: u64| {
        let text = format!("program 0 {seed}\n{fill}end\n");
        let (_, stdout) = goroutine_reports(&text).expect("go is on PATH");
        let start = stdout.find("\nc 64\n").expect("contents") + 6;
        stdout[start..].to_string()
    };
    assert_eq!(order(7), order(7));
    assert_ne!(order(7), order(8));
}

#[test]
fn concurrent_programs_run_on_goroutines_from_go_1_23_and_are_refused_before() {
    let test = "concurrent_programs_run_on_goroutines_from_go_1_23_and_are_refused_before";
    let Some(info) = sync_target(test) else {
        return;
    };
    let toolchain = match go::resolve(info.name) {
        Some(Ok(r)) => &r.toolchain,
        other => panic!("{other:?}"),
    };
    let minor = toolchain.release().expect("a release").1;
    let concurrent = sim::concurrent::lookup(info.name);
    if minor < go::CONCURRENT_SINCE {
        let why = concurrent.expect_err("refused before Go 1.23");
        assert!(why.contains("Clear only from Go 1.23"), "{why}");
        return;
    }
    let concurrent = concurrent.expect("Go 1.23 and later run concurrent programs");
    assert_eq!(concurrent.no_repeat, NoRepeat::PerKey);
    let mut total = sim::concurrent::ConcurrentStats::default();
    for seed in 0..30 {
        match sim::concurrent::run_seed(concurrent, seed, 2, HasherSet::ALL) {
            Ok(stats) => total.add(&stats),
            Err(f) => panic!("seed {seed} on {}: {:?}", concurrent.name, f.violation),
        }
    }
    assert!(total.cursors > 0 && total.yields > 0, "{total:?}");
    let sim::concurrent::Runner::Driver(kind) = concurrent.runner else {
        panic!("sync.Map runs in its driver");
    };
    let answered = kind
        .with_driver(|d| {
            [
                &b"concurrent 0 1 0\nend\n"[..],
                b"concurrent 0 1 1\n2 x\nend\n",
                b"concurrent 0 1 1\n1 n 0\nend\n",
                b"concurrent 0 1 1\np 1\nend\n",
            ]
            .map(|request| d.exchange_lines(request).expect("answers"))
        })
        .expect("the driver starts");
    for (lines, says) in answered.iter().zip([
        "writers must be 1 to 64",
        "thread 2 out of range",
        "not one thread 1 may run",
        "expected 2 operands",
    ]) {
        assert!(
            lines.len() == 1 && lines[0].starts_with("error ") && lines[0].contains(says),
            "{lines:?}"
        );
    }
}
