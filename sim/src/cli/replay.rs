//! `sim replay`: re-run one program, optionally describing every step.

use std::io::Write;
use std::path::PathBuf;

use map_core::Fault;
use sim::exec;
use sim::runner;

use super::{args, report, Outcome, UsageError, EXIT_CODES};

/// Re-run a saved trace, or the program of a seed; `--verbose` prints every step.
#[derive(clap::Args, Debug)]
#[command(after_help = EXIT_CODES)]
pub struct Args {
    /// The trace file to replay.
    #[arg(required_unless_present = "seed", conflicts_with = "seed")]
    file: Option<PathBuf>,
    /// Replay the program of this seed instead of a file.
    #[arg(long)]
    seed: Option<u64>,
    /// With --seed: inject this fault, as `sim run --fault NAME` did (needs the `faults` feature).
    #[arg(long, requires = "seed", value_parser = args::fault, value_name = "NAME")]
    fault: Option<Fault>,
    /// Print every step: the op, the model's and the map's results, each cursor yield.
    #[arg(long, short)]
    verbose: bool,
}

pub fn run(args: Args) -> Result<Outcome, UsageError> {
    let program = match (&args.file, args.seed) {
        (Some(path), _) => report::load(path)?,
        (None, Some(seed)) => runner::program_for(seed, args.fault),
        (None, None) => unreachable!("clap requires a file or --seed"),
    };
    report::runnable(&program)?;
    let result = if args.verbose {
        // A closed stdout (`| head`) must not panic inside the run, where it would be taken for
        // a panic of the map: write errors are ignored instead.
        let mut stdout = std::io::stdout().lock();
        exec::run_verbose(&program, &mut |line| {
            let _ = writeln!(stdout, "{line}");
        })
    } else {
        exec::run(&program)
    };
    match result {
        Ok(stats) => {
            println!(
                "clean: {} ops, {} cursor steps, {} yields, {} audits",
                stats.ops, stats.cursor_steps, stats.yields, stats.audits
            );
            Ok(Outcome::Clean)
        }
        Err(failure) => {
            report::print_failure(&failure);
            Ok(Outcome::BugFound)
        }
    }
}
