//! Running many seeds: in parallel, with a deadline, yet with a result that depends only on the
//! seeds.
//!
//! Workers take seeds in increasing order from a shared counter, so the seeds that ran always form
//! a prefix of the (sharded) range. When a seed fails, no seed above it is started; every seed
//! below it still runs, so the failure reported — the lowest failing seed — is the same for any
//! number of jobs and any timing. Sums of statistics are order-independent.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use map_core::Fault;

use crate::coverage::CoverageSummary;
use crate::exec::{self, Failure, RunStats};
use crate::gen;
use crate::program::Program;
use crate::target::{self, TargetInfo};
use crate::trace;

/// The program a seed stands for on map-core, with an optional fault injected.
pub fn program_for(seed: u64, fault: Option<Fault>) -> Program {
    program_on(seed, target::default_target(), fault)
}

/// The program a seed stands for on `target` (only the ops it supports), with an optional fault
/// injected.
pub fn program_on(seed: u64, target: &TargetInfo, fault: Option<Fault>) -> Program {
    let mut program = gen::generate_for(seed, target);
    program.config.fault = fault;
    program
}

/// Runs the program of `seed` on `target` with `fault` injected, streamed from the generator into
/// the executor ([`exec::run_streamed`]): `Some` with its statistics when it runs clean, `None`
/// when it does not, or when the target does not stream. Either way nothing is stored: a caller
/// that needs the failure draws the program ([`program_on`]) and runs it again, which map-core,
/// deterministic, fails the same way.
pub fn run_streamed(seed: u64, target: &TargetInfo, fault: Option<Fault>) -> Option<RunStats> {
    if !exec::can_stream(target) {
        return None;
    }
    let mut drawing = gen::Drawing::for_seed(seed, target);
    drawing.config_mut().fault = fault;
    let config = drawing.config().clone();
    exec::run_streamed(&config, target, drawing)
}

/// Whether the program of `seed` runs clean on map-core with `fault` injected (streamed, as
/// [`run_streamed`]; for the detection rates, which only count failures, so a failing seed is
/// not run again). map-core always streams, so `None` there means the run failed.
pub fn passes(seed: u64, fault: Option<Fault>) -> bool {
    let target = target::default_target();
    debug_assert!(exec::can_stream(target), "map-core streams");
    run_streamed(seed, target, fault).is_some()
}

/// Seeds `start..end`, keeping those whose offset from `start` is `shard` modulo `shards`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedSet {
    /// First seed of the range.
    pub start: u64,
    /// End of the range (exclusive).
    pub end: u64,
    /// Which shard this is, `0..shards`.
    pub shard: u64,
    /// How many shards the range is cut into (>= 1).
    pub shards: u64,
}

impl SeedSet {
    /// The whole range `start..end`.
    pub fn range(start: u64, end: u64) -> Self {
        SeedSet {
            start,
            end,
            shard: 0,
            shards: 1,
        }
    }

    /// The `index`-th seed of the set, if there is one.
    pub fn nth(&self, index: u64) -> Option<u64> {
        let offset = index.checked_mul(self.shards)?.checked_add(self.shard)?;
        self.start
            .checked_add(offset)
            .filter(|&seed| seed < self.end)
    }

    /// How many seeds the set holds.
    pub fn len(&self) -> u64 {
        let span = self.end.saturating_sub(self.start);
        span / self.shards + u64::from(span % self.shards > self.shard)
    }

    /// Whether the set holds no seed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct Campaign {
    /// The map every program runs on.
    pub target: TargetInfo,
    /// The seeds.
    pub seeds: SeedSet,
    /// Worker threads (>= 1).
    pub jobs: usize,
    /// Stop starting new seeds after this long.
    pub time_limit: Option<Duration>,
    /// Fault injected into every program.
    pub fault: Option<Fault>,
    /// Run every seed twice and compare trace bytes and results.
    pub check_determinism: bool,
    /// Go on past failing seeds, counting them ([`Report::failed_seeds`]), instead of stopping at
    /// the first: for a target with known bugs, or to measure how often a target fails.
    pub keep_going: bool,
}

/// A seed that failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedFailure {
    /// The seed.
    pub seed: u64,
    /// Its program.
    pub program: Program,
    /// What went wrong.
    pub problem: Problem,
}

/// How a seed failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A check failed while running the program.
    Check(Failure),
    /// Two runs of the seed differed (only with `check_determinism`).
    Nondeterministic(String),
}

/// What a campaign did.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Seeds that ran to completion.
    pub seeds_run: u64,
    /// Statistics summed over seeds that ran clean.
    pub stats: RunStats,
    /// Coverage over seeds that ran clean.
    pub coverage: CoverageSummary,
    /// The lowest failing seed, if any.
    pub failure: Option<SeedFailure>,
    /// With `keep_going`: every failing seed, lowest first, with how it failed.
    pub failed_seeds: Vec<(u64, Problem)>,
    /// Wall time.
    pub elapsed: Duration,
}

/// Runs the campaign; `on_seed_done` is called after every seed (for a progress bar).
pub fn run_campaign(campaign: &Campaign, on_seed_done: &(dyn Fn() + Sync)) -> Report {
    let started = Instant::now();
    let next = AtomicU64::new(0);
    // The lowest failing seed's index so far: no index above it is started.
    let lowest_failure = AtomicU64::new(u64::MAX);
    let merged = Mutex::new(Report::default());

    std::thread::scope(|scope| {
        for _ in 0..campaign.jobs.max(1) {
            scope.spawn(|| {
                let mut local = Report::default();
                loop {
                    if campaign
                        .time_limit
                        .is_some_and(|limit| started.elapsed() >= limit)
                    {
                        break;
                    }
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if !campaign.keep_going && index > lowest_failure.load(Ordering::Relaxed) {
                        break;
                    }
                    let Some(seed) = campaign.seeds.nth(index) else {
                        break;
                    };
                    local.seeds_run += 1;
                    let mark = crate::watchdog::watch(seed);
                    let ran = run_one(seed, campaign);
                    drop(mark);
                    match ran {
                        Ok(stats) => {
                            local.stats.add(&stats);
                            local.coverage.add(&stats.coverage);
                        }
                        Err(failure) => {
                            lowest_failure.fetch_min(index, Ordering::Relaxed);
                            if campaign.keep_going {
                                local
                                    .failed_seeds
                                    .push((failure.seed, failure.problem.clone()));
                            }
                            keep_lowest(&mut local.failure, *failure);
                        }
                    }
                    on_seed_done();
                }
                let mut merged = merged
                    .lock()
                    .expect("no worker panics while holding the lock");
                merged.seeds_run += local.seeds_run;
                merged.stats.add(&local.stats);
                merged.coverage.merge(&local.coverage);
                if let Some(failure) = local.failure {
                    keep_lowest(&mut merged.failure, failure);
                }
                merged.failed_seeds.append(&mut local.failed_seeds);
            });
        }
    });
    let mut report = merged.into_inner().expect("workers finished");
    report.failed_seeds.sort_by_key(|(seed, _)| *seed);
    report.elapsed = started.elapsed();
    report
}

fn keep_lowest(slot: &mut Option<SeedFailure>, failure: SeedFailure) {
    if slot.as_ref().is_none_or(|kept| failure.seed < kept.seed) {
        *slot = Some(failure);
    }
}

fn run_one(seed: u64, campaign: &Campaign) -> Result<RunStats, Box<SeedFailure>> {
    if !campaign.check_determinism {
        if let Some(stats) = run_streamed(seed, &campaign.target, campaign.fault) {
            return Ok(stats);
        }
    }
    let program = program_on(seed, &campaign.target, campaign.fault);
    let result = exec::run_on(&program, &campaign.target, None);
    if campaign.check_determinism {
        if let Some(difference) = rerun_differs(seed, campaign, &program, &result) {
            let problem = Problem::Nondeterministic(difference);
            return Err(Box::new(SeedFailure {
                seed,
                program,
                problem,
            }));
        }
    }
    result.map_err(|failure| {
        Box::new(SeedFailure {
            seed,
            program,
            problem: Problem::Check(failure),
        })
    })
}

/// Generates and runs the seed again; describes the first difference from the first run.
///
/// On a nondeterministic target only the programs are compared: its answers may differ by design.
fn rerun_differs(
    seed: u64,
    campaign: &Campaign,
    program: &Program,
    result: &Result<RunStats, Failure>,
) -> Option<String> {
    let again = program_on(seed, &campaign.target, campaign.fault);
    let (first, second) = (trace_hash(program), trace_hash(&again));
    if first != second {
        return Some(format!(
            "trace hashes differ: {first:016x} then {second:016x}"
        ));
    }
    if !campaign.target.capabilities.deterministic {
        return None;
    }
    let rerun = exec::run_on(&again, &campaign.target, None);
    if &rerun != result {
        return Some(format!("results differ: {result:?} then {rerun:?}"));
    }
    None
}

/// FNV-1a of the program's trace text: equal hashes for byte-identical traces.
pub fn trace_hash(program: &Program) -> u64 {
    trace::print(program)
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
}

/// A fault found by searching seeds in order.
#[derive(Clone, Debug)]
pub struct Detection {
    /// The first failing seed.
    pub seed: u64,
    /// Seeds run, the failing one included.
    pub seeds_tried: u64,
    /// Its program and failure.
    pub program: Program,
    /// The failure.
    pub failure: Failure,
    /// Time from the start of the search to the failure (generation and checking, one thread).
    pub elapsed: Duration,
}

/// Runs seeds `0..budget` in order on one thread, with `fault` injected, until one fails.
pub fn detect(fault: Option<Fault>, budget: u64) -> Option<Detection> {
    let started = Instant::now();
    (0..budget).find_map(|seed| {
        if run_streamed(seed, target::default_target(), fault).is_some() {
            return None;
        }
        let program = program_for(seed, fault);
        let failure = exec::run(&program).err()?;
        Some(Detection {
            seed,
            seeds_tried: seed + 1,
            program,
            failure,
            elapsed: started.elapsed(),
        })
    })
}

/// Runs seeds `0..budget` in order on one thread on `target` (no map-core fault), until one
/// fails the check `check`: a planted fault of a target other than map-core
/// ([`crate::target::weak_example::planted`]) is detected by a program that fails the rule it
/// breaks. A program that fails another check first does not show that rule and is passed over.
pub fn detect_check_on(
    target: &TargetInfo,
    check: crate::failure::FailureKind,
    budget: u64,
) -> Option<Detection> {
    let started = Instant::now();
    (0..budget).find_map(|seed| {
        let program = program_on(seed, target, None);
        let failure = exec::run_on(&program, target, None)
            .err()
            .filter(|f| f.kind == check)?;
        Some(Detection {
            seed,
            seeds_tried: seed + 1,
            program,
            failure,
            elapsed: started.elapsed(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_range() {
        let shards: Vec<SeedSet> = (0..3)
            .map(|shard| SeedSet {
                start: 10,
                end: 21,
                shard,
                shards: 3,
            })
            .collect();
        let mut all: Vec<u64> = shards
            .iter()
            .flat_map(|s| (0..).map_while(|i| s.nth(i)).collect::<Vec<_>>())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (10..21).collect::<Vec<_>>());
        assert_eq!(shards.iter().map(SeedSet::len).sum::<u64>(), 11);
        assert_eq!(shards[0].len(), 4);
        assert_eq!(shards[2].len(), 3);
        assert!(SeedSet::range(5, 5).is_empty());
    }

    #[test]
    fn a_campaign_does_not_depend_on_jobs() {
        let campaign = |jobs| Campaign {
            target: *target::default_target(),
            seeds: SeedSet::range(0, 12),
            jobs,
            time_limit: None,
            fault: None,
            check_determinism: true,
            keep_going: false,
        };
        let one = run_campaign(&campaign(1), &|| {});
        let three = run_campaign(&campaign(3), &|| {});
        assert_eq!(one.failure, None);
        assert_eq!(one.seeds_run, 12);
        assert_eq!((one.stats, one.coverage), (three.stats, three.coverage));
    }
}
