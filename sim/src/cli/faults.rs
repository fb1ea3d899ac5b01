//! `sim faults`: the fault-detection table. For every fault of map-core (or, with `--target
//! weak-example`, every planted fault of the weakly consistent example), the seeds and time the
//! simulator needs to detect it, the length of the shrunk program, and the share of a fixed seed
//! range that catches it (the detection rate, [`sim::detection`]).

use std::path::PathBuf;
use std::time::Instant;

use map_core::Fault;
use sim::results::FaultResult;
use sim::runner::{Problem, SeedSet};
use sim::target::{self, weak_example, TargetInfo};
use sim::{detection, exec, runner, shrink};

use super::args::{self, SeedRange};
use super::{Outcome, UsageError, EXIT_CODES};

/// The seeds the detection rates are computed over unless `--rate-seeds` says otherwise.
const DEFAULT_RATE_SEEDS: SeedRange = SeedRange {
    start: 0,
    end: 1000,
};

/// For every map-core fault: seeds and time to detection, shrunk length, and the detection rate
/// (the share of `--rate-seeds` whose program catches it) (needs `faults`).
///
/// The search for the first detection runs seeds in order from 0 on one thread; the rates run on
/// `--jobs` threads and do not depend on it. The last line is the weakest fault's rate, the
/// figure of merit of the generator. Exits 1 if some fault is not detected within the budget or
/// does not shrink to at most 12 ops (or its own minimum: `sim::detection::max_shrunk_len`).
/// With `--target weak-example`, a seed detects a planted fault only by failing the rule of §7
/// it breaks, and the failure column names that check (`weak/w4-unending`).
#[derive(clap::Args, Debug)]
#[command(after_help = EXIT_CODES)]
pub struct Args {
    /// Seeds to try per fault before calling it undetected.
    #[arg(long, default_value_t = 10_000)]
    budget: u64,
    /// Seeds the detection rates are computed over, `A..B` (B exclusive). Default: 0..1000.
    #[arg(long, value_parser = args::seed_range)]
    rate_seeds: Option<SeedRange>,
    /// Worker threads for the detection rates. Results do not depend on it.
    #[arg(long, value_parser = args::jobs, default_value_t = 2)]
    jobs: usize,
    /// Also write the table as JSON to FILE (docs/results-schema.md), before exiting.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Whose faults: map-core's (the default, needs the `faults` feature), or the planted faults
    /// of the weakly consistent example, one per rule of semantics.md §7 (`weak-example`; or
    /// `weak-example-per-element`, its own only).
    #[arg(long, value_parser = args::target, value_name = "NAME", default_value = "map-core")]
    target: &'static TargetInfo,
}

pub fn run(args: Args) -> Result<Outcome, UsageError> {
    if args.target.name != target::DEFAULT_TARGET {
        return run_planted(&args);
    }
    if !cfg!(feature = "faults") {
        return Err(UsageError(
            "the fault table needs sim built with the `faults` feature: cargo run --release -p sim --features faults -- faults"
                .to_string(),
        ));
    }
    let range = args.rate_seeds.unwrap_or(DEFAULT_RATE_SEEDS);
    let started = Instant::now();
    let table = detection::detection_rates(&Fault::ALL, range.start..range.end, args.jobs);
    let rates_time = started.elapsed();
    print_header(range);
    let mut all_good = true;
    let mut results = Vec::new();
    for (fault, rate) in Fault::ALL.into_iter().zip(&table.rates) {
        let mut result = FaultResult::of_map_core(rate);
        let found = runner::detect(Some(fault), args.budget);
        all_good &= row(&mut result, found, args.budget, &|found| {
            found.failure.kind.describe()
        });
        results.push(result);
    }
    // Not detections: the healthy map fails them, so they are out of every rate.
    all_good &= print_footer(Footer {
        unhealthy: &table.unhealthy,
        unhealthy_are: "seeds failing without a fault",
        seeds: table.rates.first().map_or(0, |r| r.seeds),
        time: rates_time,
        jobs: args.jobs,
        how: "",
        weakest: table
            .weakest()
            .map(|w| (w.rate(), w.fault.to_string(), w.caught, w.seeds)),
    });
    let outcome = outcome(all_good);
    if let Some(path) = &args.json {
        // How each unhealthy seed fails, for its check: map-core is deterministic, so it fails
        // again the same way.
        let map_core = target::default_target();
        let unhealthy: Vec<(u64, &str, Problem)> = table
            .unhealthy
            .iter()
            .map(|&seed| {
                let problem = match exec::run(&runner::program_for(seed, None)) {
                    Err(failure) => Problem::Check(failure),
                    Ok(_) => Problem::Nondeterministic(
                        "failed without a fault, then ran clean when run again".to_string(),
                    ),
                };
                (seed, map_core.name, problem)
            })
            .collect();
        write_json(
            path, &args, map_core, range, started, &results, &unhealthy, outcome,
        )?;
    }
    Ok(outcome)
}

/// The table of a target's planted faults ([`sim::target::weak_example::planted`]): detection,
/// shrunk length and rate as for map-core's, where a seed detects a fault only by failing the
/// rule of §7 the fault breaks (the failure column names it).
fn run_planted(args: &Args) -> Result<Outcome, UsageError> {
    let planted = weak_example::planted(args.target.name);
    if planted.is_empty() {
        return Err(UsageError(format!(
            "target `{}` has no planted faults; `sim faults` measures map-core's (the default) \
             and weak-example's (--target weak-example, or weak-example-per-element for its own)",
            args.target.name
        )));
    }
    let range = args.rate_seeds.unwrap_or(DEFAULT_RATE_SEEDS);
    let started = Instant::now();
    let table = detection::planted_detection_rates(&planted, range.start..range.end, args.jobs);
    let rates_time = started.elapsed();
    print_header(range);
    let mut all_good = true;
    let mut results = Vec::new();
    for rate in &table.rates {
        let p = rate.planted;
        let mut result = FaultResult::of_planted(rate);
        let found = runner::detect_check_on(p.target, p.check, args.budget);
        all_good &= row(&mut result, found, args.budget, &|found| {
            found.failure.kind.name()
        });
        results.push(result);
    }
    all_good &= print_footer(Footer {
        unhealthy: &table.unhealthy,
        unhealthy_are: "seeds failing on the correct map",
        seeds: table.rates.first().map_or(0, |r| r.seeds),
        time: rates_time,
        jobs: args.jobs,
        how: "; a seed detects a fault by failing its rule",
        weakest: table
            .weakest()
            .map(|w| (w.rate(), w.planted.name.to_string(), w.caught, w.seeds)),
    });
    let outcome = outcome(all_good);
    if let Some(path) = &args.json {
        let mut unhealthy: Vec<(u64, &str, Problem)> = Vec::new();
        for &seed in &table.unhealthy {
            let mut healthy: Vec<&'static TargetInfo> = Vec::new();
            for p in &planted {
                if !healthy.contains(&p.healthy) {
                    healthy.push(p.healthy);
                }
            }
            for target in healthy {
                if let Err(failure) =
                    exec::run_on(&runner::program_on(seed, target, None), target, None)
                {
                    unhealthy.push((seed, target.name, Problem::Check(failure)));
                }
            }
        }
        write_json(
            path,
            args,
            args.target,
            range,
            started,
            &results,
            &unhealthy,
            outcome,
        )?;
    }
    Ok(outcome)
}

/// What the lines under a fault table say.
struct Footer<'a> {
    /// Seeds the map without a fault fails (left out of every rate).
    unhealthy: &'a [u64],
    /// What those seeds are called.
    unhealthy_are: &'a str,
    /// Seeds each rate is over.
    seeds: u64,
    /// How long the rates took.
    time: std::time::Duration,
    jobs: usize,
    /// Said after the rates' line.
    how: &'a str,
    /// The weakest rate: rate, fault, seeds caught, seeds.
    weakest: Option<(f64, String, u64, u64)>,
}

/// Prints the lines under a fault table; false when some seed failed without a fault.
fn print_footer(footer: Footer<'_>) -> bool {
    if !footer.unhealthy.is_empty() {
        println!(
            "{} (left out of the rates): {:?}",
            footer.unhealthy_are, footer.unhealthy
        );
    }
    println!(
        "rates over {} seeds in {:.1} s on {} threads{}",
        footer.seeds,
        footer.time.as_secs_f64(),
        footer.jobs,
        footer.how
    );
    if let Some((rate, fault, caught, seeds)) = footer.weakest {
        println!(
            "weakest detection rate: {:.1}% ({fault}, {caught} of {seeds} seeds)",
            100.0 * rate
        );
    }
    footer.unhealthy.is_empty()
}

fn print_header(range: SeedRange) {
    let rate_header = format!("rate {}..{}", range.start, range.end);
    println!(
        "{:<32} {:>6} {:>10} {:<34} {:>9} {:>10} {:>16}",
        "fault", "seeds", "detect", "failure", "shrunk", "shrink", rate_header
    );
}

/// Prints the row of one fault from its first detection (shrinking it), fills in `result`, and
/// says whether the fault was found and shrank to its goal; `check` names the failure.
fn row(
    result: &mut FaultResult,
    found: Option<runner::Detection>,
    budget: u64,
    check: &dyn Fn(&runner::Detection) -> String,
) -> bool {
    let rate_cell = format!(
        "{:>5.1}% ({:>4})",
        100.0 * rate(result.caught, result.rate_seeds),
        result.caught
    );
    let Some(found) = found else {
        println!(
            "{:<32} not detected in {budget} seeds {rate_cell:>60}",
            result.fault
        );
        return false;
    };
    let started = Instant::now();
    let shrunk = shrink::shrink(&found.program, &found.failure);
    let shrink_time = started.elapsed();
    println!(
        "{:<32} {:>6} {:>8.3} s {:<34} {:>5} ops {:>8.3} s {rate_cell:>16}",
        result.fault,
        found.seeds_tried,
        found.elapsed.as_secs_f64(),
        check(&found),
        shrunk.after_len,
        shrink_time.as_secs_f64()
    );
    result.first = Some((
        found.seed,
        found.elapsed.as_secs_f64(),
        found.failure.kind.name(),
        shrunk.after_len,
    ));
    shrunk.after_len <= result.max_shrunk_len
}

fn rate(caught: u64, seeds: u64) -> f64 {
    if seeds == 0 {
        0.0
    } else {
        caught as f64 / seeds as f64
    }
}

fn outcome(all_good: bool) -> Outcome {
    if all_good {
        Outcome::Clean
    } else {
        Outcome::BugFound
    }
}

#[allow(clippy::too_many_arguments)]
fn write_json(
    path: &std::path::Path,
    args: &Args,
    of: &TargetInfo,
    range: SeedRange,
    started: Instant,
    results: &[FaultResult],
    unhealthy: &[(u64, &str, Problem)],
    outcome: Outcome,
) -> Result<(), UsageError> {
    let summary = sim::results::faults_summary(
        super::results::command_line(),
        of,
        SeedSet::range(range.start, range.end),
        args.jobs,
        started.elapsed().as_secs_f64(),
        results,
        unhealthy,
        super::results::exit_code(outcome),
    );
    super::results::write(path, &summary)
}
