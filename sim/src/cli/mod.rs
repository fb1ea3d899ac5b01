//! The command line: one module per subcommand, each with its clap `Args` and a `run` function.
//!
//! To add a subcommand: write a module with `Args` (clap derive) and
//! `pub fn run(args: Args) -> Result<Outcome, UsageError>`, then add a variant to [`Command`]
//! and a line to [`main`].

mod args;
mod concurrent;
mod export;
mod faults;
mod go_matrix;
mod import;
mod merge;
mod processes;
mod replay;
mod report;
mod results;
mod run;
mod shrink;
mod targets;

use std::fmt;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Shown at the end of every `--help`.
const EXIT_CODES: &str = "\
Exit codes:
  0  nothing found: every program ran clean
  1  bug found: a check failed, or a seed hung (the failing program is saved and the command
     replaying it printed)
  2  bad usage or input: unknown option, bad seed range, malformed trace, unknown fault, ...";

/// Seeded, deterministic simulator for map-core and other maps (targets): runs generated programs
/// against the map and a model, checking every step; shrinks, saves and replays failures.
#[derive(Parser, Debug)]
#[command(name = "sim", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run generated programs for a range of seeds; on a failure, shrink it, save it, print it.
    Run(run::Args),
    /// Re-run a saved trace, or the program of a seed.
    Replay(replay::Args),
    /// Shrink a saved failing trace and save the result.
    Shrink(shrink::Args),
    /// For every fault of map-core: seeds and time to detection, shrunk length (needs `faults`).
    Faults(faults::Args),
    /// Decode a fuzz target's crash file into a program, shrink it and save it as a trace.
    Import(import::Args),
    /// List the maps sim can check (targets) and what each supports.
    Targets(targets::Args),
    /// Turn a trace into a standalone reproducer: a Go program or a Rust test of map-core.
    Export(export::Args),
    /// Run the same seeds on every installed Go toolchain and print one table.
    GoMatrix(go_matrix::Args),
    /// Combine the JSON summaries of shards (`run --json`) into one, and print a Markdown report.
    Merge(merge::Args),
}

/// How a subcommand ended, when its input was good.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing found (exit 0).
    Clean,
    /// A check failed (exit 1).
    BugFound,
}

/// Bad usage or input (exit 2): the message says what was wrong.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses the command line, runs the subcommand and maps its outcome to the exit code.
pub fn main() -> ExitCode {
    // clap reports its own usage errors with exit code 2.
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Shrink(args) => shrink::run(args),
        Command::Faults(args) => faults::run(args),
        Command::Import(args) => import::run(args),
        Command::Targets(args) => targets::run(args),
        Command::Export(args) => export::run(args),
        Command::GoMatrix(args) => go_matrix::run(args),
        Command::Merge(args) => merge::run(args),
    };
    match outcome {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::BugFound) => ExitCode::from(1),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}
