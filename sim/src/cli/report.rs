//! Reading and writing trace files, and printing failures with the command that replays them.

use std::fs;
use std::path::{Path, PathBuf};

use sim::exec::{self, Failure};
use sim::program::Program;
use sim::shrink::Shrunk;
use sim::trace;

use super::UsageError;

/// Reads and parses a trace; any problem is bad input.
pub fn load(path: &Path) -> Result<Program, UsageError> {
    let text = fs::read_to_string(path)
        .map_err(|e| UsageError(format!("cannot read trace {}: {e}", path.display())))?;
    let program = trace::parse(&text)
        .map_err(|e| UsageError(format!("malformed trace {}: {e}", path.display())))?;
    runnable(&program)?;
    Ok(program)
}

/// Rejects programs this build cannot run (a fault without the `faults` feature).
pub fn runnable(program: &Program) -> Result<(), UsageError> {
    exec::check_runnable(program).map_err(UsageError)
}

/// Writes the program's trace to `path`, creating its directory. If that fails, the trace goes
/// to stdout instead, so a failure found is never lost.
pub fn save(path: &Path, program: &Program) -> Option<PathBuf> {
    let text = trace::print(program);
    let written = path
        .parent()
        .map_or(Ok(()), fs::create_dir_all)
        .and_then(|()| fs::write(path, &text));
    match written {
        Ok(()) => Some(path.to_path_buf()),
        Err(e) => {
            eprintln!(
                "error: cannot write {}: {e}; the trace follows on stdout",
                path.display()
            );
            println!("{text}");
            None
        }
    }
}

/// The command that replays a saved trace, from the workspace root.
pub fn replay_command(path: &Path, program: &Program) -> String {
    let features = if program.config.fault.is_some() {
        " --features faults"
    } else {
        ""
    };
    format!(
        "cargo run --release -p sim{features} -- replay {}",
        path.display()
    )
}

/// Prints a shrunk failure, where it was saved and how to replay it.
pub fn print_shrunk(shrunk: &Shrunk, saved: Option<&Path>) {
    print_failure(&shrunk.failure);
    println!(
        "shrunk from {} to {} ops ({} candidate runs)",
        shrunk.before_len, shrunk.after_len, shrunk.runs
    );
    print_saved(saved, &shrunk.program);
}

/// Prints a failure: step, op, check, expected vs found, the map's diagram.
pub fn print_failure(failure: &Failure) {
    print!("{failure}");
}

/// Prints where the trace was saved and the command replaying it.
pub fn print_saved(saved: Option<&Path>, program: &Program) {
    if let Some(path) = saved {
        println!("saved {}", path.display());
        println!("replay with: {}", replay_command(path, program));
    }
}
