//! `sim merge`: the JSON summaries of CI shards (`sim run --json`) combined into one, and a
//! Markdown report of it.

use std::path::PathBuf;

use sim::results::{self, SCHEMA_VERSION};

use super::{Outcome, UsageError, EXIT_CODES};

/// Combine shard summaries (`sim run --json`, `sim faults --json`, or earlier merges) into one and
/// print a Markdown report: a table per target (seeds, ops, ops/s, failures by check, state
/// coverage), then each failure with its shard, seed, check and replay command.
///
/// Exits 1 when any shard exited 1 (found a bug), naming each such failure on stderr; 2 when a
/// file is unreadable or not a results file, the files have different schema versions, or two
/// shards of the same target (and fault) hold the same seed.
#[derive(clap::Args, Debug)]
#[command(after_help = EXIT_CODES)]
pub struct Args {
    /// The summaries to merge.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Also write the merged summary as JSON to OUT.
    #[arg(long, value_name = "OUT")]
    json: Option<PathBuf>,
}

/// How many failures of each failing shard are named on stderr (the report lists more).
const FAILURES_NAMED: usize = 5;

pub fn run(args: Args) -> Result<Outcome, UsageError> {
    let mut read = Vec::new();
    for path in &args.files {
        let (version, value) = results::read_versioned(path).map_err(UsageError)?;
        read.push((path, version, value));
    }
    let versions: Vec<String> = read
        .iter()
        .map(|(path, version, _)| format!("{} has {version}", path.display()))
        .collect();
    if read.iter().any(|(_, v, _)| *v != read[0].1) {
        return Err(UsageError(format!(
            "mixed schema versions: {}; merge files written by the same sim",
            versions.join(", ")
        )));
    }
    if read[0].1 != SCHEMA_VERSION {
        return Err(UsageError(format!(
            "schema version {} is not the one this sim reads ({SCHEMA_VERSION}): {}",
            read[0].1,
            versions.join(", ")
        )));
    }
    let mut inputs = Vec::new();
    for (path, _, value) in read {
        let summary = results::decode(path, value).map_err(UsageError)?;
        inputs.push((path.display().to_string(), summary));
    }
    let merged = results::merge(super::results::command_line(), inputs).map_err(UsageError)?;
    if let Some(out) = &args.json {
        super::results::write(out, &merged)?;
    }
    print!("{}", results::markdown(&merged));
    for shard in merged.shards.iter().filter(|s| s.exit_code != 0) {
        let label = results::shard_label(shard);
        let unknown: Vec<_> = shard.failures.iter().filter(|f| !f.allowed).collect();
        if unknown.is_empty() {
            // Every failure was a known bug, but too many seeds failed (--max-failure-rate), or
            // `sim faults` missed a fault.
            eprintln!("failure: shard {label} exited 1 (see its report)");
        }
        for failure in unknown.iter().take(FAILURES_NAMED) {
            eprintln!(
                "failure: shard {label}, seed {}, check {}: {}",
                failure.seed, failure.check, failure.replay
            );
        }
        if unknown.len() > FAILURES_NAMED {
            eprintln!(
                "failure: shard {label}: {} more failing seeds (in the report and the JSON)",
                unknown.len() - FAILURES_NAMED
            );
        }
    }
    Ok(if merged.exit_code == 0 {
        Outcome::Clean
    } else {
        Outcome::BugFound
    })
}
