//! Detection rates: for each fault of map-core, and each planted fault of the weak example
//! ([`crate::target::weak_example`]), the share of seeds in a fixed range whose program catches
//! it.
//!
//! Seeds-to-first-detection ([`crate::runner::detect`]) says little about a generator: one lucky
//! seed hides a class that the other 999 programs never exercise. The rate over a fixed range is
//! the measure of the harness, and the weakest fault's rate its figure of merit: a generator
//! change that blinds it to a class shows there first.
//!
//! A seed catches a fault when its program fails with the fault injected and runs clean without
//! it (a seed that fails on the healthy map is a bug of the map or the harness, not a detection,
//! and is reported apart). The result depends only on the seeds and the faults: workers take
//! seeds from a shared counter and only sums cross threads.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use map_core::Fault;

use crate::exec;
use crate::failure::FailureKind;
use crate::runner::{passes, program_on};
use crate::target::weak_example::Planted;
use crate::target::TargetInfo;

/// The goal for the length of a fault's shrunk failing program: 12 ops, or, for a fault whose
/// smallest failing program is longer, a bound just above that minimum.
///
/// `no-same-size-growth` fails only at Go's overflow threshold, one overflow bucket per bucket,
/// and the smallest map that reaches it is B 1 with a full chain in each of its 2 buckets: 9
/// inserts into one (the 9th doubles the map from B 0), removes to stay under the load factor, 9
/// inserts into the other and the insert that must grow, about 24 ops.
pub fn max_shrunk_len(fault: Fault) -> usize {
    match fault {
        Fault::NoSameSizeGrowth => 32,
        _ => MAX_SHRUNK_LEN,
    }
}

/// The goal for the length of a planted fault's shrunk failing program.
pub const MAX_SHRUNK_LEN: usize = 12;

/// How many seeds of a range caught one fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DetectionRate {
    /// The fault injected.
    pub fault: Fault,
    /// Seeds whose program runs clean on the healthy map (the denominator).
    pub seeds: u64,
    /// Of those, the seeds whose program fails with the fault injected.
    pub caught: u64,
}

impl DetectionRate {
    /// `caught / seeds`, 0 for no seeds.
    pub fn rate(&self) -> f64 {
        if self.seeds == 0 {
            0.0
        } else {
            self.caught as f64 / self.seeds as f64
        }
    }
}

/// The detection rates of several faults over one seed range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetectionTable {
    /// The seeds run.
    pub seeds: Range<u64>,
    /// Seeds whose program fails without any fault, in increasing order: left out of every rate.
    pub unhealthy: Vec<u64>,
    /// One entry per fault, in the order asked for.
    pub rates: Vec<DetectionRate>,
}

impl DetectionTable {
    /// The fault caught by the fewest seeds (the first such in the order asked for).
    pub fn weakest(&self) -> Option<&DetectionRate> {
        self.rates.iter().reduce(|weakest, rate| {
            if rate.caught < weakest.caught {
                rate
            } else {
                weakest
            }
        })
    }
}

/// Runs every seed of `seeds` without a fault and with each of `faults`, on `jobs` threads.
///
/// # Panics
/// If a fault is asked for and sim was built without the `faults` feature (as [`crate::exec::run`]).
pub fn detection_rates(faults: &[Fault], seeds: Range<u64>, jobs: usize) -> DetectionTable {
    let catches: Vec<Box<dyn Fn(u64) -> bool + Sync>> = faults
        .iter()
        .map(|&fault| Box::new(move |seed| !passes(seed, Some(fault))) as _)
        .collect();
    let counted = count_seeds(seeds.clone(), jobs, &|seed| passes(seed, None), &catches);
    DetectionTable {
        seeds,
        unhealthy: counted.unhealthy,
        rates: faults
            .iter()
            .zip(counted.caught)
            .map(|(&fault, caught)| DetectionRate {
                fault,
                seeds: counted.healthy,
                caught,
            })
            .collect(),
    }
}

/// How many seeds of a range caught one planted fault of a target other than map-core.
#[derive(Clone, Copy, Debug)]
pub struct PlantedRate {
    /// The fault.
    pub planted: Planted,
    /// Seeds whose program runs clean on the correct map (the denominator).
    pub seeds: u64,
    /// Of those, the seeds whose program fails, on the map with the fault, the check the fault
    /// breaks ([`Planted::check`]).
    pub caught: u64,
}

impl PlantedRate {
    /// `caught / seeds`, 0 for no seeds.
    pub fn rate(&self) -> f64 {
        if self.seeds == 0 {
            0.0
        } else {
            self.caught as f64 / self.seeds as f64
        }
    }
}

/// The detection rates of planted faults over one seed range.
#[derive(Clone, Debug)]
pub struct PlantedTable {
    /// The seeds run.
    pub seeds: Range<u64>,
    /// Seeds whose program fails on one of the correct maps, in increasing order: left out of
    /// every rate.
    pub unhealthy: Vec<u64>,
    /// One entry per fault, in the order asked for.
    pub rates: Vec<PlantedRate>,
}

impl PlantedTable {
    /// The fault caught by the fewest seeds (the first such in the order asked for).
    pub fn weakest(&self) -> Option<&PlantedRate> {
        self.rates.iter().reduce(|weakest, rate| {
            if rate.caught < weakest.caught {
                rate
            } else {
                weakest
            }
        })
    }
}

/// Whether `seed`'s program for `target` (no map-core fault) fails the check `check`.
pub fn fails_check(seed: u64, target: &TargetInfo, check: FailureKind) -> bool {
    let program = program_on(seed, target, None);
    exec::run_on(&program, target, None).is_err_and(|f| f.kind == check)
}

/// Runs every seed of `seeds` on the correct maps of `planted` and on each planted fault's map,
/// on `jobs` threads. A seed catches a fault when its program fails the fault's rule with the
/// fault and runs clean on the correct map: a program that fails another check first shows a
/// bug, but not the rule the fault is there to prove.
pub fn planted_detection_rates(
    planted: &[Planted],
    seeds: Range<u64>,
    jobs: usize,
) -> PlantedTable {
    let mut healthy_targets: Vec<&'static TargetInfo> = Vec::new();
    for p in planted {
        if !healthy_targets.contains(&p.healthy) {
            healthy_targets.push(p.healthy);
        }
    }
    let healthy = |seed| {
        healthy_targets
            .iter()
            .all(|&target| exec::run_on(&program_on(seed, target, None), target, None).is_ok())
    };
    let catches: Vec<Box<dyn Fn(u64) -> bool + Sync>> = planted
        .iter()
        .map(|&p| Box::new(move |seed| fails_check(seed, p.target, p.check)) as _)
        .collect();
    let counted = count_seeds(seeds.clone(), jobs, &healthy, &catches);
    PlantedTable {
        seeds,
        unhealthy: counted.unhealthy,
        rates: planted
            .iter()
            .zip(counted.caught)
            .map(|(&planted, caught)| PlantedRate {
                planted,
                seeds: counted.healthy,
                caught,
            })
            .collect(),
    }
}

/// What [`count_seeds`] counted.
struct Counted {
    healthy: u64,
    unhealthy: Vec<u64>,
    caught: Vec<u64>,
}

/// For every seed of `seeds`, on `jobs` threads: whether it is `healthy`, and if so which of
/// `catches` it satisfies. Workers take seeds from a shared counter and only sums cross
/// threads, so the counts depend on the seeds alone.
fn count_seeds(
    seeds: Range<u64>,
    jobs: usize,
    healthy: &(dyn Fn(u64) -> bool + Sync),
    catches: &[Box<dyn Fn(u64) -> bool + Sync>],
) -> Counted {
    let next = AtomicU64::new(seeds.start);
    let merged = Mutex::new(Counted {
        healthy: 0,
        unhealthy: Vec::new(),
        caught: vec![0; catches.len()],
    });
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| {
                let mut local = Counted {
                    healthy: 0,
                    unhealthy: Vec::new(),
                    caught: vec![0; catches.len()],
                };
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= seeds.end {
                        break;
                    }
                    if !healthy(seed) {
                        local.unhealthy.push(seed);
                        continue;
                    }
                    local.healthy += 1;
                    for (count, catches) in local.caught.iter_mut().zip(catches) {
                        *count += u64::from(catches(seed));
                    }
                }
                let mut merged = merged
                    .lock()
                    .expect("no worker panics while holding the lock");
                for (total, count) in merged.caught.iter_mut().zip(local.caught) {
                    *total += count;
                }
                merged.unhealthy.extend(local.unhealthy);
                merged.healthy += local.healthy;
            });
        }
    });
    let mut counted = merged.into_inner().expect("workers finished");
    // Threads finish in any order: sort so the table does not depend on it.
    counted.unhealthy.sort_unstable();
    counted
}

#[cfg(all(test, feature = "faults"))]
mod tests {
    use super::*;
    use crate::exec;
    use crate::runner::program_for;

    #[test]
    fn rates_do_not_depend_on_the_number_of_threads() {
        let faults = [Fault::SkipCheckBucket, Fault::RemoveBadEmptyRest];
        let one = detection_rates(&faults, 0..24, 1);
        assert_eq!(one, detection_rates(&faults, 0..24, 3));
        assert_eq!(one.seeds, 0..24);
        assert!(one.unhealthy.is_empty(), "{:?}", one.unhealthy);
        assert_eq!(one.rates[0].seeds, 24);
    }

    #[test]
    fn a_rate_counts_the_seeds_whose_program_fails_with_the_fault() {
        let fault = Fault::ClearKeepsCursors;
        let table = detection_rates(&[fault], 0..16, 2);
        let failing = (0..16)
            .filter(|&seed| exec::run(&program_for(seed, Some(fault))).is_err())
            .count() as u64;
        assert_eq!(table.rates[0].caught, failing);
        assert!(failing > 0);
    }

    #[test]
    fn the_weakest_fault_is_the_one_caught_least() {
        let rate = |fault, caught| DetectionRate {
            fault,
            seeds: 10,
            caught,
        };
        let table = DetectionTable {
            seeds: 0..10,
            unhealthy: Vec::new(),
            rates: vec![
                rate(Fault::SkipCheckBucket, 5),
                rate(Fault::ClearKeepsCursors, 2),
                rate(Fault::CursorWrapEndsEarly, 2),
            ],
        };
        assert_eq!(
            table.weakest().map(|r| r.fault),
            Some(Fault::ClearKeepsCursors)
        );
        assert_eq!(table.weakest().map(DetectionRate::rate), Some(0.2));
    }
}
