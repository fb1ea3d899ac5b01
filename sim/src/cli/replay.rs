//! `sim replay`: re-run one program, optionally describing every step.

use std::io::Write;
use std::path::PathBuf;

use map_core::Fault;
use sim::exec;
use sim::program::{HasherSet, Program};
use sim::runner;
use sim::target::{self, TargetInfo};

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
    /// With --seed: draw the hasher from these modes only, as `sim run --hashers MODES` did.
    #[arg(long, requires = "seed", value_parser = args::hashers, value_name = "MODES")]
    hashers: Option<HasherSet>,
    /// Print every step: the op, the model's and the map's results, each cursor yield.
    #[arg(long, short)]
    verbose: bool,
    /// Run on this target instead of the one the trace names (with --seed: the seed's program
    /// for this target). `sim targets` lists them.
    #[arg(long, value_parser = args::target, value_name = "NAME")]
    target: Option<&'static TargetInfo>,
    /// How many times to run the program; the summary says how many runs failed. Default: 1 on
    /// a deterministic target, 20 on one that randomizes by itself (Go's runtime map).
    #[arg(long, value_parser = args::tries, value_name = "N")]
    tries: Option<usize>,
}

pub fn run(args: Args) -> Result<Outcome, UsageError> {
    let mut program = match (&args.file, args.seed) {
        (Some(path), _) => report::parse_file(path)?,
        (None, Some(seed)) => {
            let mut drawn_for = *args.target.unwrap_or(target::default_target());
            if let Some(hashers) = args.hashers {
                drawn_for.capabilities.hashers = hashers;
            }
            runner::program_on(seed, &drawn_for, args.fault)
        }
        (None, None) => unreachable!("clap requires a file or --seed"),
    };
    let target = match args.target {
        Some(target) => target,
        None => target::lookup(&program.config.target).map_err(UsageError)?,
    };
    program.config.target = target.name.to_string();
    report::runnable_on(&program, target)?;
    let tries = args.tries.unwrap_or(if target.capabilities.deterministic {
        1
    } else {
        report::REPRODUCTION_RUNS
    });
    let mut first_failure = None;
    let mut failed = 0;
    let mut last_stats = None;
    for _ in 0..tries {
        match run_once(&program, target, args.verbose && first_failure.is_none()) {
            Ok(stats) => last_stats = Some(stats),
            Err(failure) => {
                failed += 1;
                first_failure.get_or_insert(failure);
            }
        }
    }
    if tries > 1 {
        println!(
            "on target {}: {}",
            target.name,
            report::Reproduction {
                failed,
                runs: tries
            }
        );
    }
    match (first_failure, last_stats) {
        (Some(failure), _) => {
            report::print_failure(&failure);
            Ok(Outcome::BugFound)
        }
        (None, Some(stats)) => {
            println!(
                "clean: {} ops, {} cursor steps, {} yields, {} audits",
                stats.ops, stats.cursor_steps, stats.yields, stats.audits
            );
            Ok(Outcome::Clean)
        }
        (None, None) => unreachable!("at least one try ran"),
    }
}

fn run_once(
    program: &Program,
    target: &TargetInfo,
    verbose: bool,
) -> Result<exec::RunStats, exec::Failure> {
    if verbose {
        // A closed stdout (`| head`) must not panic inside the run, where it would be taken for
        // a panic of the map: write errors are ignored instead.
        let mut stdout = std::io::stdout().lock();
        exec::run_on(
            program,
            target,
            Some(&mut |line: &str| {
                let _ = writeln!(stdout, "{line}");
            }),
        )
    } else {
        exec::run_on(program, target, None)
    }
}
