//! Reading and writing trace files, and printing failures with the command that replays them.

use std::fs;
use std::path::{Path, PathBuf};

use sim::confirm::NaturalRate;
use sim::exec::{self, Failure};
use sim::program::Program;
use sim::shrink::Shrunk;
use sim::target::TargetInfo;
use sim::trace;

use super::UsageError;

/// Reads and parses a trace, and checks that its target can run it here; any problem is bad
/// input.
pub fn load(path: &Path) -> Result<Program, UsageError> {
    let program = parse_file(path)?;
    let target = sim::target::lookup(&program.config.target).map_err(UsageError)?;
    runnable_on(&program, target)?;
    Ok(program)
}

/// Reads and parses a trace; any problem is bad input.
pub fn parse_file(path: &Path) -> Result<Program, UsageError> {
    let text = fs::read_to_string(path)
        .map_err(|e| UsageError(format!("cannot read trace {}: {e}", path.display())))?;
    trace::parse(&text).map_err(|e| UsageError(format!("malformed trace {}: {e}", path.display())))
}

/// Rejects programs `target` cannot run, and targets that cannot run here (a missing tool).
pub fn runnable_on(program: &Program, target: &TargetInfo) -> Result<(), UsageError> {
    exec::check_runnable_on(program, target).map_err(UsageError)?;
    available(target)
}

/// Checks that `target` can run on this machine.
pub fn available(target: &TargetInfo) -> Result<(), UsageError> {
    (target.check_available)(target)
        .map_err(|e| UsageError(format!("target `{}` cannot run here: {e}", target.name)))
}

/// Writes the program's trace to `path`, creating its directory. If that fails, the trace goes
/// to stdout instead, so a failure found is never lost.
pub fn save(path: &Path, program: &Program) -> Option<PathBuf> {
    save_text(path, &trace::print(program))
}

/// Writes `text` to `path`, creating its directory; if that fails, `text` goes to stdout
/// instead, so a failure found is never lost.
pub fn save_text(path: &Path, text: &str) -> Option<PathBuf> {
    let written = path
        .parent()
        .map_or(Ok(()), fs::create_dir_all)
        .and_then(|()| fs::write(path, text));
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
    command_on("replay", path, program)
}

/// The command that shrinks a saved trace, from the workspace root.
pub fn shrink_command(path: &Path, program: &Program) -> String {
    command_on("shrink", path, program)
}

/// `sim SUBCOMMAND PATH`, built with the features the program's target needs.
fn command_on(subcommand: &str, path: &Path, program: &Program) -> String {
    let features = features_for(&program.config.target, program.config.fault.is_some());
    format!(
        "cargo run --release -p sim{features} -- {subcommand} {}",
        path.display()
    )
}

/// The `--features` a sim needs to run a program of `target` (with a map-core fault or not).
pub fn features_for(target: &str, fault: bool) -> String {
    let mut features = Vec::new();
    if fault {
        features.push("faults");
    }
    if sim::target::concurrent_maps::TARGETS
        .iter()
        .any(|&(name, _)| name == target)
    {
        features.push(sim::target::concurrent_maps::FEATURE);
    }
    if features.is_empty() {
        String::new()
    } else {
        format!(" --features {}", features.join(","))
    }
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

/// How often a program failed on its target, out of how many runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reproduction {
    /// Runs that failed with the failure's kind.
    pub failed: usize,
    /// Runs made.
    pub runs: usize,
}

impl std::fmt::Display for Reproduction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "failed {} of {} runs", self.failed, self.runs)
    }
}

/// Runs `program` on `target` `runs` times and counts the runs failing with `kind`.
pub fn reproduce(
    program: &Program,
    target: &TargetInfo,
    kind: sim::exec::FailureKind,
    runs: usize,
) -> Reproduction {
    let failed = (0..runs)
        .filter(|_| exec::run_on(program, target, None).is_err_and(|f| f.kind == kind))
        .count();
    Reproduction { failed, runs }
}

/// Like [`save`], with a comment line on how often the program reproduced on its target (for a
/// nondeterministic target, whose failures may not reproduce every time), and one on how often
/// its export failed on Go's unmodified runtime (for a seeded Go target).
pub fn save_with_rate(
    path: &Path,
    program: &Program,
    rate: Option<Reproduction>,
    natural: Option<&NaturalRate>,
) -> Option<PathBuf> {
    if rate.is_none() && natural.is_none() {
        return save(path, program);
    }
    let mut text = String::new();
    if let Some(natural) = natural {
        text.push_str(&format!("# natural mode: this program {natural}\n"));
    }
    if let Some(rate) = rate {
        text.push_str(&format!(
            "# on target {} this program {rate} (the target randomizes by itself)\n",
            program.config.target
        ));
    }
    text.push_str(&trace::print(program));
    save_text(path, &text)
}

/// For a program on a seeded Go target: runs its Go export `runs` times on the unmodified
/// runtime of the same toolchain and prints the rate, which the caller saves with the trace.
pub fn confirm_natural(program: &Program, runs: u32) -> Option<NaturalRate> {
    let seeded = matches!(
        sim::target::go::parse_name(&program.config.target),
        Some((sim::target::go::build::Mode::Seeded, _))
    );
    if !seeded || runs == 0 {
        return None;
    }
    match sim::confirm::natural_rate(program, runs) {
        Ok(rate) => {
            println!("natural mode: the shrunk program {rate}");
            Some(rate)
        }
        Err(e) => {
            println!("natural mode: could not run the export on the unmodified runtime: {e}");
            None
        }
    }
}

/// How many times `sim run` and `sim replay` run a failing program on a nondeterministic target
/// to say how often it reproduces.
pub const REPRODUCTION_RUNS: usize = 20;
