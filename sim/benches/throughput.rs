//! Checked ops per second: the simulator against proptest-state-machine on the same workload, and
//! the simulator on its full default workload.
//!
//! The plain-op workload (insert, remove, get, clear; no cursors, no forced growth) runs, in the
//! same process, through:
//!
//! - `sim`: each program streamed from its seed into the executor, as `sim run` runs a seed
//!   (`sim::gen::Drawing` into `sim::exec::run_streamed`: every op checked as it is drawn,
//!   nothing stored);
//! - `sim_exec_only`: the same programs drawn beforehand (`sim::gen::generate_with`), so only
//!   the executor is timed (`sim::exec::run`);
//! - `proptest_state_machine`: a `ReferenceStateMachine` + `StateMachineTest` pair (module
//!   `machine`) run by proptest's `TestRunner`: `PROGRAMS` cases of `TRANSITIONS` transitions, a
//!   transition being one draw of the generator (one op, or a burst of inserts).
//!
//! Both sides use the same map type, hasher and map seed, the same reference
//! (`sim::model::Model`), the same op mix, bursts and key choices, and the same checks: each
//! result and `len()` against the model after every op, `check_invariants` every
//! `audit_every`-th op and at the end. The workload runs twice: auditing after every op (the
//! simulator's default config), and auditing only at the end, which leaves the per-op model
//! comparison and shows the drivers' own cost.
//!
//! proptest's time includes what it does for every case even when nothing fails: a value tree
//! for every transition (kept so that a failure could be shrunk), the reference applied twice
//! (once while generating, once while testing), the reference state moved by value through every
//! step, the transition list copied out of the value tree, and the case run under
//! `catch_unwind`. The transition strategy is built once and shared, the cheapest way proptest
//! allows. The simulator's time includes its generator (ChaCha8) and executor. Neither side
//! shrinks, because nothing fails.
//!
//! `default_workload` runs the programs of a fixed seed range as `sim run` does
//! (`sim::runner::run_streamed`): cursors, forced growth, colliding hashers, the generator's audit
//! intervals.
//!
//! Run with `cargo bench -p sim --bench throughput`. The table at the end reads the estimates
//! criterion wrote in this run.

#[path = "throughput/estimates.rs"]
mod estimates;
#[path = "throughput/machine.rs"]
mod machine;

use std::cell::{Cell, RefCell};
use std::ops::Range;
use std::time::{Duration, Instant, SystemTime};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};
use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, TestRng, TestRunner};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};
use sim::exec::RunStats;
use sim::gen;
use sim::model::Model;
use sim::op::{Op, OpKind};
use sim::program::{Config, HasherMode, OpWeights, Program};

use machine::{PlainReference, PlainTest};

/// The plain-op workload, shared by both sides.
mod workload {
    /// Keys are drawn from `0..KEY_SPACE`.
    pub const KEY_SPACE: u64 = 1024;
    /// Ops per simulator program.
    pub const LEN: u32 = 1000;
    /// Programs (proptest: cases) per measured iteration.
    pub const PROGRAMS: u64 = 16;
    pub const HASHER_SEED: u64 = 0x5EED;
    pub const MAP_SEED: u64 = 0x3A9;
    /// Seeds of the simulator's programs: `SEED_BASE..SEED_BASE + PROGRAMS`.
    pub const SEED_BASE: u64 = 1;

    /// The simulator's op weights (mid-range of what its generator draws, with clear on).
    pub const INSERT: u16 = 10;
    pub const REMOVE: u16 = 5;
    pub const GET: u16 = 4;
    pub const CLEAR: u16 = 1;

    /// Transitions per proptest case. A transition is one draw of the generator (an insert draw
    /// is a burst), 1.6 ops on average (half the draws are inserts, of 2.2 inserts on average),
    /// so a case applies about `LEN` ops; the ops actually applied are counted.
    pub const TRANSITIONS: usize = 625;
}

/// Seeds of the default workload, run in each measured iteration.
const DEFAULT_SEEDS: Range<u64> = 0..64;

/// Audit after every op (the simulator's default config) or only at the end.
const AUDIT_EVERY_OP: u32 = 1;
const AUDIT_AT_END: u32 = workload::LEN;

fn plain_config(audit_every: u32) -> Config {
    Config {
        seed: None,
        map_seed: workload::MAP_SEED,
        hasher: HasherMode::Seeded,
        hasher_seed: workload::HASHER_SEED,
        initial_capacity: 0,
        key_space: workload::KEY_SPACE,
        max_cursors: 0,
        audit_every,
        weights: OpWeights::plain(
            workload::INSERT,
            workload::REMOVE,
            workload::GET,
            workload::CLEAR,
        ),
        len: workload::LEN,
        fault: None,
        target: sim::target::DEFAULT_TARGET.to_string(),
    }
}

fn sim_seeds() -> Range<u64> {
    workload::SEED_BASE..workload::SEED_BASE + workload::PROGRAMS
}

fn run_clean(program: &Program) -> RunStats {
    match sim::exec::run(program) {
        Ok(stats) => stats,
        Err(failure) => panic!("seed {:?} is not clean: {failure:?}", program.config.seed),
    }
}

/// Draws and runs the simulator's plain programs, streamed; returns the ops applied.
fn run_sim(config: &Config) -> u64 {
    let target = sim::target::default_target();
    sim_seeds()
        .map(|seed| {
            let drawing = gen::Drawing::with_config(config, seed);
            match sim::exec::run_streamed(config, target, drawing) {
                Some(stats) => stats.ops,
                None => panic!("seed {seed} is not clean"),
            }
        })
        .sum()
}

fn proptest_config() -> ProptestConfig {
    ProptestConfig {
        cases: workload::PROGRAMS as u32,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A runner that draws the same cases every time, as the simulator's fixed seeds do.
fn proptest_runner(config: &ProptestConfig) -> TestRunner {
    TestRunner::new_with_rng(
        config.clone(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    )
}

/// Generates and runs `PROGRAMS` proptest cases of `TRANSITIONS` transitions; returns the ops
/// applied. `observe`, when given, also replays each case's reference to record its mix (outside
/// the measured runs).
fn run_proptest<const AUDIT_EVERY: u32>(
    config: &ProptestConfig,
    observe: Option<&RefCell<Mix>>,
) -> u64 {
    let n = workload::TRANSITIONS;
    let strategy = PlainReference::sequential_strategy(n..=n);
    let ops = Cell::new(0u64);
    let result = proptest_runner(config).run(&strategy, |(initial, transitions, seen)| {
        ops.set(ops.get() + transitions.iter().map(|t| t.ops() as u64).sum::<u64>());
        if let Some(mix) = observe {
            let mut state = initial.clone();
            for transition in &transitions {
                state = PlainReference::apply(state, transition);
                for &(op, result, len) in &state.last {
                    mix.borrow_mut().add(op, result, len);
                }
            }
        }
        PlainTest::<AUDIT_EVERY>::test_sequential(config.clone(), initial, transitions, seen);
        Ok(())
    });
    if let Err(e) = result {
        panic!("the proptest-state-machine run failed: {e}");
    }
    ops.get()
}

/// Op mix, hit rates and map size of a workload, to show both sides run the same one.
#[derive(Default)]
struct Mix {
    counts: [u64; 4],
    remove_hits: u64,
    get_hits: u64,
    size_sum: u64,
}

impl Mix {
    fn add(&mut self, op: Op, result: Option<u64>, size_after: usize) {
        let kind = match op.kind() {
            OpKind::Insert => 0,
            OpKind::Remove => 1,
            OpKind::Get => 2,
            OpKind::Clear => 3,
            other => panic!("the plain workload has no {}", other.name()),
        };
        self.counts[kind] += 1;
        self.remove_hits += u64::from(kind == 1 && result.is_some());
        self.get_hits += u64::from(kind == 2 && result.is_some());
        self.size_sum += size_after as u64;
    }

    fn describe(&self) -> String {
        let total = self.counts.iter().sum::<u64>().max(1) as f64;
        let pct = |x: u64, of: u64| 100.0 * x as f64 / of.max(1) as f64;
        format!(
            "{} ops: insert {:.1}%, remove {:.1}% ({:.0}% hit), get {:.1}% ({:.0}% hit), clear {:.1}%; mean len {:.1}",
            total as u64,
            pct(self.counts[0], total as u64),
            pct(self.counts[1], total as u64),
            pct(self.remove_hits, self.counts[1]),
            pct(self.counts[2], total as u64),
            pct(self.get_hits, self.counts[2]),
            pct(self.counts[3], total as u64),
            self.size_sum as f64 / total,
        )
    }
}

fn sim_mix(programs: &[Program]) -> Mix {
    let mut mix = Mix::default();
    for program in programs {
        let mut model = Model::for_key_space(program.config.key_space);
        for (step, &op) in program.ops.iter().enumerate() {
            let result = match op {
                Op::Insert { key, value } => model.insert(key, value, step),
                Op::Remove { key } => model.remove(key, step),
                Op::Get { key } => model.get(key),
                Op::Clear => {
                    model.clear(step);
                    None
                }
                other => panic!(
                    "{:?}: the plain workload drew `{other}`",
                    program.config.seed
                ),
            };
            mix.add(op, result, model.len());
        }
    }
    mix
}

/// Flat sampling: one iteration already takes milliseconds. 20 samples, so that the median
/// holds up on a machine shared with other work.
fn configure(g: &mut BenchmarkGroup<WallTime>, ops: u64, measurement: Duration) {
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(measurement)
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(ops));
}

/// Ops per measured iteration of each side, and the mixes they drew.
struct PlainRun {
    sim_ops: u64,
    proptest_ops: u64,
    sim_mix: Mix,
    proptest_mix: Mix,
}

fn bench_plain<const AUDIT_EVERY: u32>(
    c: &mut Criterion,
    group: &str,
    prop_config: &ProptestConfig,
) -> PlainRun {
    let config = plain_config(AUDIT_EVERY);
    // Every side must run clean, and the same ops every time (the throughput counts them).
    let sim_ops = run_sim(&config);
    assert_eq!(sim_ops, workload::PROGRAMS * u64::from(workload::LEN));
    let proptest_mix = RefCell::new(Mix::default());
    let proptest_ops = run_proptest::<AUDIT_EVERY>(prop_config, Some(&proptest_mix));
    assert_eq!(run_proptest::<AUDIT_EVERY>(prop_config, None), proptest_ops);
    let programs: Vec<Program> = sim_seeds()
        .map(|seed| gen::generate_with(&config, seed))
        .collect();

    let mut g = c.benchmark_group(group);
    configure(&mut g, sim_ops, Duration::from_secs(4));
    g.bench_function(estimates::SIM, |b| b.iter(|| run_sim(&config)));
    g.bench_function(estimates::SIM_EXEC_ONLY, |b| {
        b.iter(|| programs.iter().map(|p| run_clean(p).ops).sum::<u64>())
    });
    g.throughput(Throughput::Elements(proptest_ops));
    g.bench_function(estimates::PROPTEST, |b| {
        b.iter(|| run_proptest::<AUDIT_EVERY>(prop_config, None))
    });
    g.finish();
    PlainRun {
        sim_ops,
        proptest_ops,
        sim_mix: sim_mix(&programs),
        proptest_mix: proptest_mix.into_inner(),
    }
}

/// Rounds of the paired measurement.
const PAIRED_ROUNDS: usize = 60;
/// Simulator passes per round: about as long as one proptest pass, so that both halves of a
/// round see the machine alike.
const PAIRED_SIM_PASSES: u32 = 8;

/// The ratio measured in pairs: each round times the simulator's programs, then proptest's cases,
/// back to back, and gives one ratio; the median over the rounds is reported with its quartiles.
/// Criterion measures each side for seconds, one after the other, so a slow spell of a shared
/// machine can fall on one side alone and move the ratio of its medians; a pair taken within
/// milliseconds sees both sides under the same load. Returns the sorted per-round ratios.
fn paired_ratios<const AUDIT_EVERY: u32>(prop_config: &ProptestConfig) -> Vec<f64> {
    let config = plain_config(AUDIT_EVERY);
    let mut ratios: Vec<f64> = (0..PAIRED_ROUNDS)
        .map(|_| {
            let started = Instant::now();
            let sim_ops: u64 = (0..PAIRED_SIM_PASSES).map(|_| run_sim(&config)).sum();
            let sim_rate = sim_ops as f64 / started.elapsed().as_secs_f64();
            let started = Instant::now();
            let proptest_ops = run_proptest::<AUDIT_EVERY>(prop_config, None);
            let proptest_rate = proptest_ops as f64 / started.elapsed().as_secs_f64();
            sim_rate / proptest_rate
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios
}

/// Runs the default workload's seeds; returns the stats summed over them.
fn run_default() -> RunStats {
    let mut total = RunStats::default();
    let target = sim::target::default_target();
    for seed in DEFAULT_SEEDS {
        let stats = sim::runner::run_streamed(seed, target, None);
        total.add(&stats.unwrap_or_else(|| panic!("seed {seed} is not clean")));
    }
    total
}

fn bench_default(c: &mut Criterion) -> RunStats {
    let stats = run_default();
    let mut g = c.benchmark_group(estimates::DEFAULT_GROUP);
    configure(&mut g, stats.ops, Duration::from_secs(5));
    g.bench_function(estimates::SIM, |b| b.iter(run_default));
    g.finish();
    stats
}

/// Mirrors criterion's own test detection (`cargo test --benches` runs the binary without
/// `--bench`), so that a test run skips the table.
fn is_benchmark_run() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    has("--bench")
        && !has("--test")
        && !has("--list")
        && !args.iter().any(|a| a.starts_with("--profile-time"))
}

fn main() {
    let benchmarking = is_benchmark_run();
    let started = SystemTime::now();
    let out_dir = estimates::criterion_dir();
    let mut c = Criterion::default()
        .nresamples(10_000)
        .without_plots()
        .output_directory(&out_dir)
        .configure_from_args();

    let prop_config = proptest_config();
    let every_op =
        bench_plain::<AUDIT_EVERY_OP>(&mut c, estimates::PLAIN_AUDIT_EVERY_OP, &prop_config);
    let at_end = bench_plain::<AUDIT_AT_END>(&mut c, estimates::PLAIN_AUDIT_AT_END, &prop_config);
    let default_stats = bench_default(&mut c);
    c.final_summary();

    if benchmarking {
        // Both audit variants run the same programs and cases: one mix describes both.
        println!();
        println!(
            "Plain-op workload as drawn (keys 0..{}):",
            workload::KEY_SPACE
        );
        println!(
            "  sim:      {} programs of {} ops; {}",
            workload::PROGRAMS,
            workload::LEN,
            every_op.sim_mix.describe()
        );
        println!(
            "  proptest: {} cases of {} transitions; {}",
            workload::PROGRAMS,
            workload::TRANSITIONS,
            every_op.proptest_mix.describe()
        );
        let rows = [
            estimates::PlainRow {
                group: estimates::PLAIN_AUDIT_EVERY_OP,
                checks: "result + len after every op, check_invariants after every op",
                sim_ops: every_op.sim_ops,
                proptest_ops: every_op.proptest_ops,
            },
            estimates::PlainRow {
                group: estimates::PLAIN_AUDIT_AT_END,
                checks: "result + len after every op, check_invariants at the end",
                sim_ops: at_end.sim_ops,
                proptest_ops: at_end.proptest_ops,
            },
        ];
        estimates::print(&out_dir, started, &rows, &default_stats, DEFAULT_SEEDS);
        if selected(estimates::PLAIN_AUDIT_AT_END) {
            let ratios = paired_ratios::<AUDIT_AT_END>(&prop_config);
            let quartile = |q: usize| ratios[(ratios.len() - 1) * q / 4];
            println!();
            println!(
                "Paired (check_invariants at the end): sim / proptest-state-machine {:.2}x, the \
                 median of {} rounds of {} sim passes then one proptest pass (quartiles {:.2}x-{:.2}x)",
                quartile(2),
                ratios.len(),
                PAIRED_SIM_PASSES,
                quartile(1),
                quartile(3),
            );
        }
    }
}

/// Whether the bench filter given on the command line (if any) selects `group`'s benches.
fn selected(group: &str) -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    filters.is_empty()
        || filters
            .iter()
            .any(|f| group.contains(f.as_str()) || f.contains(group))
}
