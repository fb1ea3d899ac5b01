//! `sim import`: a libFuzzer crash file to a shrunk trace that `sim replay` runs.

use std::path::PathBuf;

use map_core::Fault;
use sim::fuzz_input::{self, Target};

use super::{args, report, Outcome, UsageError, EXIT_CODES};

/// Decode a fuzz target's crash file into a program, shrink its failure and save it as a trace.
#[derive(clap::Args, Debug)]
#[command(after_help = EXIT_CODES)]
pub struct Args {
    /// The fuzz target that found it: corruption, differential or duplicate_yield.
    #[arg(long)]
    target: Target,
    /// The fault the target injected (its FUZZ_FAULT), if any (needs the `faults` feature).
    #[arg(long, value_parser = args::fault, value_name = "NAME")]
    fault: Option<Fault>,
    /// Where to save the trace (default: FILE.trace, beside the crash file).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// The crash file (fuzz/artifacts/<target>/crash-...).
    file: PathBuf,
}

pub fn run(args: Args) -> Result<Outcome, UsageError> {
    let (imported, saved) =
        fuzz_input::import_file(args.target, &args.file, args.fault, args.out.as_deref())
            .map_err(|e| UsageError(e.to_string()))?;
    report::print_failure(&imported.failure);
    println!(
        "shrunk from {} to {} ops ({} runs)",
        imported.original.ops.len(),
        imported.shrunk.ops.len(),
        imported.shrink_runs
    );
    report::print_saved(Some(&saved), &imported.shrunk);
    Ok(Outcome::BugFound)
}
