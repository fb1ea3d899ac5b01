//! From a libFuzzer artifact to a trace file: decode, run, shrink, save (`sim import`).

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use map_core::Fault;

use super::{decode, on_std_hash_map, Target};
use crate::exec::{self, Failure};
use crate::program::Program;
use crate::{shrink, trace};

/// A failing input, decoded and shrunk.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The program the target decoded from the input.
    pub original: Program,
    /// The smallest program found that fails the same way.
    pub shrunk: Program,
    /// The shrunk program's failure.
    pub failure: Failure,
    /// Candidate programs the shrinker ran.
    pub shrink_runs: usize,
    /// Whether the failure is std's `HashMap` disagreeing with the model (`differential`, with
    /// map-core clean): the trace is then a `target std-hash-map` trace, and a bug of the model
    /// (or of std) is what it shows.
    pub std_oracle_only: bool,
    /// The trace file's text: comments naming the source and the failure, then the program.
    pub trace: String,
}

/// Why an input could not be imported.
#[derive(Debug)]
pub enum ImportError {
    /// The artifact could not be read.
    Read(PathBuf, io::Error),
    /// The trace could not be written (it was printed to stdout instead).
    Write(PathBuf, io::Error),
    /// The program cannot run in this build (a fault without the `faults` feature).
    NotRunnable(String),
    /// The program runs clean: the input belongs to another target, or needs a fault.
    Clean {
        /// The target it was decoded for.
        target: Target,
        /// Its ops.
        ops: usize,
    },
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Read(path, e) => write!(f, "cannot read {}: {e}", path.display()),
            ImportError::Write(path, e) => write!(f, "cannot write {}: {e}", path.display()),
            ImportError::NotRunnable(why) => write!(f, "cannot run the decoded program: {why}"),
            ImportError::Clean { target, ops } => write!(
                f,
                "the input runs clean as a `{target}` program ({ops} ops): was it found by another \
                 target, or with a fault injected (pass --fault NAME)?"
            ),
        }
    }
}

impl std::error::Error for ImportError {}

/// Decodes `data` as `target` does, injects `fault`, runs it and shrinks the failure.
pub fn import(target: Target, data: &[u8], fault: Option<Fault>) -> Result<Imported, ImportError> {
    let mut original = decode(target, data);
    original.config.fault = fault;
    exec::check_runnable(&original).map_err(ImportError::NotRunnable)?;
    let (shrunk, failure, shrink_runs, std_oracle_only) = match exec::run(&original) {
        Err(failure) => {
            let s = shrink::shrink(&original, &failure);
            (s.program, s.failure, s.runs, false)
        }
        Ok(_) if target == Target::Differential => match exec::run(&on_std_hash_map(&original)) {
            Err(failure) => {
                let s = shrink::shrink(&on_std_hash_map(&original), &failure);
                (s.program, s.failure, s.runs, true)
            }
            Ok(_) => {
                return Err(ImportError::Clean {
                    target,
                    ops: original.ops.len(),
                })
            }
        },
        Ok(_) => {
            return Err(ImportError::Clean {
                target,
                ops: original.ops.len(),
            })
        }
    };
    let trace = trace_text(target, &original, &shrunk, &failure, std_oracle_only);
    Ok(Imported {
        original,
        shrunk,
        failure,
        shrink_runs,
        std_oracle_only,
        trace,
    })
}

fn trace_text(
    target: Target,
    original: &Program,
    shrunk: &Program,
    failure: &Failure,
    std_only: bool,
) -> String {
    let mut text = format!(
        "# imported from a `{target}` fuzz input: {} ops, shrunk to {}\n",
        original.ops.len(),
        shrunk.ops.len()
    );
    // The failure's first lines (where, which check, expected, found), not the map diagram.
    for line in failure.to_string().lines().take(4) {
        text.push_str(&format!("# {line}\n"));
    }
    if std_only {
        text.push_str(
            "# map-core ran it clean; std's HashMap disagreed with the model (a bug of the model,\n\
             # or of std): the trace runs on target std-hash-map\n",
        );
    }
    text.push_str(&trace::print(shrunk));
    text
}

/// Where [`import_file`] writes the trace of `artifact` by default: beside it, `.trace` appended.
pub fn trace_path(artifact: &Path) -> PathBuf {
    let mut name = artifact.as_os_str().to_owned();
    name.push(".trace");
    PathBuf::from(name)
}

/// [`import`] for a file: reads the artifact, writes the trace to `out` (default
/// [`trace_path`]) and returns the result and where the trace went. If the trace cannot be
/// written it is printed to stdout before the error returns, so the failure is not lost.
pub fn import_file(
    target: Target,
    artifact: &Path,
    fault: Option<Fault>,
    out: Option<&Path>,
) -> Result<(Imported, PathBuf), ImportError> {
    let data = fs::read(artifact).map_err(|e| ImportError::Read(artifact.to_path_buf(), e))?;
    let imported = import(target, &data, fault)?;
    let out = out.map_or_else(|| trace_path(artifact), Path::to_path_buf);
    if let Err(e) = fs::write(&out, &imported.trace) {
        print!("{}", imported.trace);
        return Err(ImportError::Write(out, e));
    }
    Ok((imported, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_input_is_refused_with_a_hint() {
        let err = import(Target::Corruption, &[0; 40], None).unwrap_err();
        assert!(matches!(
            err,
            ImportError::Clean {
                target: Target::Corruption,
                ..
            }
        ));
        assert!(err.to_string().contains("--fault"), "{err}");
    }

    #[test]
    fn the_default_trace_sits_beside_the_artifact() {
        let path = trace_path(Path::new("fuzz/artifacts/corruption/crash-0a1b"));
        assert_eq!(
            path,
            Path::new("fuzz/artifacts/corruption/crash-0a1b.trace")
        );
    }

    #[test]
    fn a_missing_artifact_is_a_read_error() {
        let err = import_file(
            Target::Corruption,
            Path::new("/nonexistent/crash-0"),
            None,
            None,
        )
        .unwrap_err();
        assert!(matches!(err, ImportError::Read(..)), "{err}");
    }

    #[cfg(feature = "faults")]
    #[test]
    fn a_failing_input_becomes_a_trace_that_replays_the_failure() {
        use super::super::corpus::seed_inputs;
        // Look through the committed-corpus generator's inputs for one that fails under a fault
        // the duplicate_yield target is built to find.
        let fault = Fault::StaleEvacuatedYield;
        let input = seed_inputs(Target::DuplicateYield, 48)
            .into_iter()
            .map(|(_, bytes)| bytes)
            .find(|bytes| import(Target::DuplicateYield, bytes, Some(fault)).is_ok())
            .expect("some seed input shows the fault");
        let imported = import(Target::DuplicateYield, &input, Some(fault)).unwrap();
        assert!(imported.shrunk.ops.len() <= imported.original.ops.len());
        let replayed = trace::parse(&imported.trace).expect("the trace parses");
        assert_eq!(replayed, imported.shrunk);
        let failure = exec::run(&replayed).expect_err("the trace replays the failure");
        assert_eq!(failure.kind, imported.failure.kind);
    }
}
