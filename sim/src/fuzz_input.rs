//! Fuzzer bytes to programs: what each fuzz target runs, and how its findings become traces.
//!
//! A fuzz target (`fuzz/fuzz_targets/<name>.rs`) is one line: [`fuzz_one`] with its [`Target`].
//! The bytes are decoded by `arbitrary::Unstructured` into the simulator's own [`Program`]
//! ([`decode`]), with the fault named by the environment variable [`FAULT_ENV`] injected, and run
//! by [`check`]: the executor, plus for `differential` the same program on the std-hash-map
//! target. A failure panics
//! with the failure and the program in trace format, so libFuzzer's artifact and the printed text
//! both reproduce it; [`import_file`] (`sim import`) turns the artifact into a shrunk trace file.
//! [`write_seed_corpus`] makes the committed seed corpora from generated programs.

mod corpus;
mod decode;
mod import;

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use map_core::Fault;

pub use corpus::{
    dictionary, dictionary_text, seed_inputs, write_seed_corpus, CorpusWritten, SEED_PREFIX,
};
pub use decode::{
    decode, encode, encode_churn, encode_fill, encode_ops, encode_within, project, HEADER_LEN,
    MAX_FORCED_GROWS,
};
pub use import::{import, import_file, trace_path, ImportError, Imported};

use crate::exec::{self, Failure, RunStats};
use crate::program::Program;
use crate::target;
use crate::trace;

/// The environment variable naming the fault a fuzz target injects (a kebab name such as
/// `skip-check-bucket`); the target must be built with the `faults` feature.
pub const FAULT_ENV: &str = "FUZZ_FAULT";

/// A fuzz target: how it reads its input, and what it checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// Structure-heavy programs (inserts, removes, clears, forced growth, evacuation steps,
    /// colliding hashers), audited after every op (a long one at most 8 times, and at its end):
    /// lost entries, wrong counts, bad markers.
    Corruption,
    /// Cursors interleaved with growth, removes, re-inserts and clears, with the iteration rules
    /// checked on every step: duplicate, missed, stale and removed entries yielded.
    DuplicateYield,
    /// Plain ops and the map API over a large key space, run on map-core and on std's
    /// `HashMap`, both checked by the model.
    Differential,
}

impl Target {
    /// Every target, in the order of their names.
    pub const ALL: [Target; 3] = [
        Target::Corruption,
        Target::Differential,
        Target::DuplicateYield,
    ];

    /// The target's name: its file in `fuzz/fuzz_targets/` and its corpus directory.
    pub fn name(self) -> &'static str {
        match self {
            Target::Corruption => "corruption",
            Target::DuplicateYield => "duplicate_yield",
            Target::Differential => "differential",
        }
    }

    /// The largest input worth generating (libFuzzer's `-max_len`): about what the decoder
    /// reads before its limit of 128 ops (two to three bytes each; three to four for
    /// `differential`, whose keys take two bytes), since bytes past the limit change nothing. The
    /// programs that find bugs are short, and a short input runs fast.
    pub fn max_len(self) -> usize {
        match self {
            Target::Corruption | Target::DuplicateYield => 320,
            Target::Differential => 448,
        }
    }

    /// The injected faults this target is built to find within a minute from its seed corpus.
    pub fn fault_class(self) -> &'static [Fault] {
        match self {
            Target::Corruption => &[
                Fault::EvacuationDropsOverflow,
                Fault::NevacuateSkipsBucket,
                Fault::RemoveBadEmptyRest,
                Fault::RemoveSkipsCountDuringGrow,
                Fault::SameSizeGrowSplits,
                Fault::TophashNoMinOffset,
                // The shape faults: the executor's shape check (sim::shape) catches them; inputs
                // of the committed seed corpus already fail with each (3 to 46 of 48).
                Fault::CapacityHintBySlots,
                Fault::GrowOnUpdate,
                Fault::TombstonesCountTowardLoad,
                Fault::GrowWorkSkipsNevacuate,
                // Fails only at Go's overflow threshold, about 24 exact ops under the colliding
                // hasher: not found within 60 s from either corpus (BENCHMARKS.md §4); the
                // simulator and the property tests find it.
                Fault::NoSameSizeGrowth,
            ],
            Target::DuplicateYield => &[
                Fault::SkipCheckBucket,
                Fault::StaleEvacuatedYield,
                Fault::ClearKeepsCursors,
                Fault::CursorWrapEndsEarly,
            ],
            // The Rust map API beyond the plain ops: lookups, writes, clones, equality, collecting.
            Target::Differential => &[
                Fault::GetMutMissesOldArray,
                Fault::ContainsKeyStopsAtFirstBucket,
                Fault::IndexSkipsKeyCompare,
                Fault::IterCountsCurrentArray,
                Fault::CloneDropsOldArray,
                Fault::EqIgnoresValues,
                Fault::ExtendKeepsFirst,
                Fault::FromIterKeepsFirst,
            ],
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A target name that is not one of [`Target::ALL`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownTarget(pub String);

impl fmt::Display for UnknownTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
        write!(
            f,
            "unknown fuzz target `{}` (the targets are {})",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownTarget {}

impl FromStr for Target {
    type Err = UnknownTarget;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| UnknownTarget(s.to_string()))
    }
}

/// Runs `program` as `target` checks it: the executor on map-core (every step against the
/// model), and for `differential` the same program on std's `HashMap` as well
/// ([`on_std_hash_map`]): a second, independent map judged by the same model, so that a bug the
/// model shares with map-core shows up as std disagreeing with the model.
pub fn check(target: Target, program: &Program) -> Result<RunStats, Failure> {
    let stats = exec::run(program)?;
    if target == Target::Differential {
        exec::run(&on_std_hash_map(program))?;
    }
    Ok(stats)
}

/// `program` as the std-hash-map target runs it: the ops std's `HashMap` has (plain ops and the
/// map API; no cursors, no growth controls), no fault.
pub fn on_std_hash_map(program: &Program) -> Program {
    let std_map = target::lookup("std-hash-map").expect("std-hash-map is built in");
    let mut on_std = program.clone();
    on_std.config.target = std_map.name.to_string();
    on_std.config.fault = None;
    on_std
        .ops
        .retain(|op| std_map.capabilities.supports(op.kind()));
    crate::gen::restrict_to(&mut on_std.config, &std_map.capabilities);
    on_std
}

/// The fault named by [`FAULT_ENV`], read once per process.
///
/// # Errors
/// The variable names no fault, or names one in a build without the `faults` feature.
pub fn fault_from_env() -> Result<Option<Fault>, String> {
    static FAULT: OnceLock<Result<Option<Fault>, String>> = OnceLock::new();
    FAULT
        .get_or_init(|| {
            let Ok(name) = std::env::var(FAULT_ENV) else { return Ok(None) };
            if name.is_empty() {
                return Ok(None);
            }
            let fault: Fault = name.parse().map_err(|_| {
                let names: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
                format!("{FAULT_ENV}={name} names no fault; the faults are {}", names.join(", "))
            })?;
            if cfg!(feature = "faults") {
                Ok(Some(fault))
            } else {
                Err(format!("{FAULT_ENV}={name}, but this build has no `faults` feature (build with `--features faults`)"))
            }
        })
        .clone()
}

/// The fuzz targets' `init`: checks [`FAULT_ENV`] before the first input, so a bad value stops the
/// run with a clear message (exit code 2) instead of being reported as a crash.
pub fn init() {
    match fault_from_env() {
        Ok(Some(fault)) => eprintln!("injecting fault {fault}: {}", fault.description()),
        Ok(None) => {}
        Err(why) => {
            eprintln!("error: {why}");
            std::process::exit(2);
        }
    }
}

/// The body of a fuzz target: decode, inject the fault from the environment, check.
///
/// # Panics
/// On a failure, with the failure, the program as a trace, and the command that turns the
/// crash file into a shrunk trace: the panic is what libFuzzer reports.
pub fn fuzz_one(target: Target, data: &[u8]) {
    let mut program = decode(target, data);
    // `init` already stopped the run if the variable is bad.
    program.config.fault = fault_from_env().ok().flatten();
    if let Err(failure) = check(target, &program) {
        let fault = program
            .config
            .fault
            .map(|f| format!(" --fault {f}"))
            .unwrap_or_default();
        panic!(
            "{failure}\nthe program ({} ops) as a trace:\n{}\nshrink the crash file into a trace with:\n  \
             sim import --target {target}{fault} <crash file>",
            program.ops.len(),
            trace::print(&program),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_names_round_trip_and_unknown_names_are_listed() {
        for target in Target::ALL {
            assert_eq!(target.name().parse(), Ok(target));
        }
        let err = "corrupt".parse::<Target>().unwrap_err();
        assert!(
            err.to_string()
                .contains("corruption, differential, duplicate_yield"),
            "{err}"
        );
    }

    #[test]
    fn every_fault_belongs_to_exactly_one_target() {
        let mut covered: Vec<Fault> = Target::ALL
            .iter()
            .flat_map(|t| t.fault_class().to_vec())
            .collect();
        covered.sort();
        let mut all = Fault::ALL.to_vec();
        all.sort();
        assert_eq!(covered, all);
    }

    #[test]
    fn fuzz_one_accepts_any_input_of_a_correct_map() {
        for target in Target::ALL {
            for data in [&b""[..], b"\x00\x01\x02", &[0xA5; 300], &[0x3C; 2000]] {
                fuzz_one(target, data);
            }
        }
    }
}
