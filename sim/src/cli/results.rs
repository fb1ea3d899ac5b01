//! The glue between the subcommands and [`sim::results`]: what `sim run --json` and
//! `sim faults --json` write, from what the subcommand already has in hand.

use std::path::Path;

use sim::program::Program;
pub use sim::results::SavedFailure;
use sim::results::{self, Summary};
use sim::runner::{Campaign, Report};

use super::run::KnownCheck;
use super::{report, Outcome, UsageError};

/// The command line as given, for the summary.
pub fn command_line() -> Vec<String> {
    std::env::args().collect()
}

/// The exit code an outcome maps to (as [`super::main`] maps it).
pub fn exit_code(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Clean => 0,
        Outcome::BugFound => 1,
    }
}

/// What `sim run` saved of seed `seed`: the trace at `path` (none when saving failed and the
/// trace went to stdout) and the command that replays it.
pub fn saved(seed: u64, path: Option<&Path>, program: &Program) -> Option<SavedFailure> {
    path.map(|path| SavedFailure {
        seed,
        trace: path.display().to_string(),
        replay: report::replay_command(path, program),
    })
}

/// Writes the summary of a `sim run` to `path`; a file that cannot be written is bad usage.
pub fn write_run(
    path: &Path,
    campaign: &Campaign,
    report: &Report,
    allow: &[KnownCheck],
    saved: Option<SavedFailure>,
    outcome: Outcome,
) -> Result<(), UsageError> {
    let summary = results::run_summary(
        command_line(),
        campaign,
        report,
        &|problem| super::run::is_known(allow, problem),
        saved.as_ref(),
        exit_code(outcome),
    );
    write(path, &summary)
}

/// Writes a summary to `path`; a file that cannot be written is bad usage.
pub fn write(path: &Path, summary: &Summary) -> Result<(), UsageError> {
    results::write(path, summary).map_err(UsageError)
}
