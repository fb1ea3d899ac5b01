//! `sim shrink`: minimize a saved failing trace.

use std::path::PathBuf;

use sim::{exec, shrink, target};

use super::{report, Outcome, UsageError, EXIT_CODES};

/// Shrink a saved failing trace and save the result.
#[derive(clap::Args, Debug)]
#[command(after_help = EXIT_CODES)]
pub struct Args {
    /// The failing trace.
    file: PathBuf,
    /// Where to save the shrunk trace (default: FILE with `.shrunk.trace` in place of `.trace`).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<Outcome, UsageError> {
    let program = report::load(&args.file)?;
    let target = target::lookup(&program.config.target).map_err(UsageError)?;
    let failure = match exec::run_on(&program, target, None) {
        Ok(_) => {
            println!("{} runs clean: nothing to shrink", args.file.display());
            return Ok(Outcome::Clean);
        }
        Err(failure) => failure,
    };
    let shrunk = shrink::shrink_on(&program, &failure, target);
    let out = args.out.unwrap_or_else(|| {
        let name = args
            .file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let stem = name.strip_suffix(".trace").unwrap_or(&name);
        args.file.with_file_name(format!("{stem}.shrunk.trace"))
    });
    // A target that randomizes by itself may not fail every time: say how often it did.
    let rate = (!target.capabilities.deterministic).then(|| {
        report::reproduce(
            &shrunk.program,
            target,
            shrunk.failure.kind,
            report::REPRODUCTION_RUNS,
        )
    });
    let saved = report::save_with_rate(&out, &shrunk.program, rate, None);
    report::print_shrunk(&shrunk, saved.as_deref());
    if let Some(rate) = rate {
        println!("on target {}, the shrunk program {rate}", target.name);
    }
    Ok(Outcome::BugFound)
}
