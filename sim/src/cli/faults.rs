//! `sim faults`: the fault-detection table. For every fault of map-core, the seeds and time the
//! simulator needs to detect it, the length of the shrunk program, and the share of a fixed seed
//! range that catches it (the detection rate, [`sim::detection`]).

use std::path::PathBuf;
use std::time::Instant;

use map_core::Fault;
use sim::results::FaultResult;
use sim::runner::{Problem, SeedSet};
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
}

pub fn run(args: Args) -> Result<Outcome, UsageError> {
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
    let rate_header = format!("rate {}..{}", range.start, range.end);
    println!(
        "{:<32} {:>6} {:>10} {:<34} {:>9} {:>10} {:>16}",
        "fault", "seeds", "detect", "failure", "shrunk", "shrink", rate_header
    );
    let mut all_good = true;
    let mut results = Vec::new();
    for (fault, rate) in Fault::ALL.into_iter().zip(&table.rates) {
        let mut result = FaultResult {
            rate: *rate,
            first: None,
            max_shrunk_len: sim::detection::max_shrunk_len(fault),
        };
        let rate_cell = format!("{:>5.1}% ({:>4})", 100.0 * rate.rate(), rate.caught);
        let Some(found) = runner::detect(Some(fault), args.budget) else {
            println!(
                "{:<32} not detected in {} seeds {rate_cell:>60}",
                fault.name(),
                args.budget
            );
            all_good = false;
            results.push(result);
            continue;
        };
        let started = Instant::now();
        let shrunk = shrink::shrink(&found.program, &found.failure);
        let shrink_time = started.elapsed();
        all_good &= shrunk.after_len <= sim::detection::max_shrunk_len(fault);
        println!(
            "{:<32} {:>6} {:>8.3} s {:<34} {:>5} ops {:>8.3} s {rate_cell:>16}",
            fault.name(),
            found.seeds_tried,
            found.elapsed.as_secs_f64(),
            found.failure.kind.describe(),
            shrunk.after_len,
            shrink_time.as_secs_f64()
        );
        result.first = Some((
            found.seed,
            found.elapsed.as_secs_f64(),
            found.failure.kind.name(),
            shrunk.after_len,
        ));
        results.push(result);
    }
    if !table.unhealthy.is_empty() {
        // Not detections: the healthy map fails them, so they are out of every rate.
        println!(
            "seeds failing without a fault (left out of the rates): {:?}",
            table.unhealthy
        );
        all_good = false;
    }
    println!(
        "rates over {} seeds in {:.1} s on {} threads",
        table.rates.first().map_or(0, |r| r.seeds),
        rates_time.as_secs_f64(),
        args.jobs
    );
    if let Some(weakest) = table.weakest() {
        println!(
            "weakest detection rate: {:.1}% ({}, {} of {} seeds)",
            100.0 * weakest.rate(),
            weakest.fault,
            weakest.caught,
            weakest.seeds
        );
    }
    let outcome = if all_good {
        Outcome::Clean
    } else {
        Outcome::BugFound
    };
    if let Some(path) = &args.json {
        // How each unhealthy seed fails, for its check: map-core is deterministic, so it fails
        // again the same way.
        let unhealthy: Vec<(u64, Problem)> = table
            .unhealthy
            .iter()
            .map(|&seed| {
                let problem = match exec::run(&runner::program_for(seed, None)) {
                    Err(failure) => Problem::Check(failure),
                    Ok(_) => Problem::Nondeterministic(
                        "failed without a fault, then ran clean when run again".to_string(),
                    ),
                };
                (seed, problem)
            })
            .collect();
        let summary = sim::results::faults_summary(
            super::results::command_line(),
            SeedSet::range(range.start, range.end),
            args.jobs,
            started.elapsed().as_secs_f64(),
            &results,
            &unhealthy,
            super::results::exit_code(outcome),
        );
        super::results::write(path, &summary)?;
    }
    Ok(outcome)
}
