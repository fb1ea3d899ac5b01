//! `sim faults`: the fault-detection table. For every fault of map-core, the seeds and time the
//! simulator needs to detect it, and the length of the shrunk program.

use std::time::Instant;

use map_core::Fault;
use sim::{runner, shrink};

use super::{Outcome, UsageError, EXIT_CODES};

/// For every map-core fault: seeds and time to detection, shrunk length (needs `faults`).
///
/// Seeds run in order from 0 on one thread. Exits 1 if some fault is not detected within the
/// budget or does not shrink to at most 12 ops.
#[derive(clap::Args, Debug)]
#[command(after_help = EXIT_CODES)]
pub struct Args {
    /// Seeds to try per fault before calling it undetected.
    #[arg(long, default_value_t = 10_000)]
    budget: u64,
}

/// The goal for a shrunk failing program.
const MAX_SHRUNK_LEN: usize = 12;

pub fn run(args: Args) -> Result<Outcome, UsageError> {
    if !cfg!(feature = "faults") {
        return Err(UsageError(
            "the fault table needs sim built with the `faults` feature: cargo run --release -p sim --features faults -- faults"
                .to_string(),
        ));
    }
    println!(
        "{:<32} {:>6} {:>10} {:<34} {:>9} {:>10}",
        "fault", "seeds", "detect", "failure", "shrunk", "shrink"
    );
    let mut all_good = true;
    for fault in Fault::ALL {
        let Some(found) = runner::detect(Some(fault), args.budget) else {
            println!("{:<32} not detected in {} seeds", fault.name(), args.budget);
            all_good = false;
            continue;
        };
        let started = Instant::now();
        let shrunk = shrink::shrink(&found.program, &found.failure);
        let shrink_time = started.elapsed();
        all_good &= shrunk.after_len <= MAX_SHRUNK_LEN;
        println!(
            "{:<32} {:>6} {:>8.3} s {:<34} {:>5} ops {:>8.3} s",
            fault.name(),
            found.seeds_tried,
            found.elapsed.as_secs_f64(),
            found.failure.kind.describe(),
            shrunk.after_len,
            shrink_time.as_secs_f64()
        );
    }
    Ok(if all_good {
        Outcome::Clean
    } else {
        Outcome::BugFound
    })
}
