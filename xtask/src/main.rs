//! Project automation, run as `cargo xtask <command>` (an alias in `.cargo/config.toml`).
//!
//! Exit codes: 0 clean, 1 something was found (a failing input, test, seed or surviving mutant,
//! or a fault the fuzzers missed), 2 bad usage or a job that could not run (a build that failed,
//! a tool that could not be installed).

mod cflite;
mod fuzz;
mod libfuzzer;
mod nightly;
mod process;
mod tools;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use map_core::Fault;
use sim::fuzz_input::{dictionary_text, write_seed_corpus, Target};

use crate::nightly::Job;
use crate::tools::ToolchainChoice;

/// Project automation for the map-core workspace.
#[derive(Parser, Debug)]
#[command(
    name = "cargo xtask",
    after_help = "Exit codes: 0 clean, 1 found something, 2 bad usage or a job that could not run."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build the fuzz targets, replay their committed corpora, then fuzz each for a while.
    ///
    /// Picks what works here: nightly with AddressSanitizer if a nightly toolchain is installed,
    /// else stable without a sanitizer (`-s none`); installs cargo-fuzz if it is missing.
    Fuzz {
        /// One target (corruption, differential, duplicate_yield); all if omitted.
        target: Option<String>,
        /// Seconds to fuzz each target (after the corpus replay).
        #[arg(long, default_value_t = 60)]
        time: u64,
        /// Only build and replay the committed corpora (`-runs=0`); no timed run.
        #[arg(long, conflicts_with = "build_only")]
        replay_corpus: bool,
        /// Only build the targets.
        #[arg(long)]
        build_only: bool,
        /// Which toolchain to build with.
        #[arg(long, value_enum, default_value_t = ToolchainChoice::Auto)]
        toolchain: ToolchainChoice,
        /// Build with map-core's `faults` and inject this fault (a kebab name, e.g. skip-check-bucket).
        #[arg(long, value_name = "NAME")]
        fault: Option<Fault>,
        /// Show libFuzzer's output as it runs.
        #[arg(long, short)]
        verbose: bool,
    },
    /// With each fault of each target's class injected, fuzz from the committed corpus until the
    /// fault is found or the limit passes; prints the detection table (exec/s, time to detection).
    FuzzFaults {
        /// One target; all with a fault class if omitted.
        target: Option<String>,
        /// One fault instead of the target's class.
        #[arg(long, value_name = "NAME")]
        fault: Option<Fault>,
        /// Seconds each target may take to find each fault.
        #[arg(long, default_value_t = 60)]
        limit: u64,
        /// libFuzzer's random seed, so the table can be reproduced on the same build.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Start from an empty corpus instead of the committed one (what fuzzing finds by itself).
        #[arg(long)]
        from_empty: bool,
        /// Which toolchain to build with.
        #[arg(long, value_enum, default_value_t = ToolchainChoice::Auto)]
        toolchain: ToolchainChoice,
    },
    /// Measure exec/s: fuzz a trivial baseline target and each target for the same time, from
    /// the committed corpus with a fixed libFuzzer seed, and print one table.
    FuzzSpeed {
        /// One target (besides the baseline); all if omitted.
        target: Option<String>,
        /// Seconds to fuzz each.
        #[arg(long, default_value_t = 20)]
        time: u64,
        /// libFuzzer's random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Which toolchain to build with.
        #[arg(long, value_enum, default_value_t = ToolchainChoice::Auto)]
        toolchain: ToolchainChoice,
    },
    /// Regenerate the seed corpora `fuzz/corpus/<target>/gen-*` from simulator programs, and the
    /// dictionaries `fuzz/dicts/<target>.dict`.
    FuzzCorpus {
        /// Inputs per target.
        #[arg(long, default_value_t = 48)]
        count: usize,
    },
    /// ClusterFuzzLite's build, offline: run `.clusterfuzzlite/build.sh` with the builder image's
    /// environment in temporary SRC/OUT/WORK directories, check `$OUT` holds each target's
    /// binary, seed zip, dictionary and options, and run each binary over its seeds (`-runs=0`).
    CfliteCheck,
    /// The nightly jobs, locally: long property tests, the simulator on fresh seeds, each fuzz
    /// target, cargo-mutants on map-core; a summary at the end.
    Nightly {
        /// Time budget of the timed jobs: a quarter each for the simulator and the fuzzers, half
        /// for mutants (stopped at its share). The property tests add their own time.
        #[arg(long, default_value_t = 60)]
        minutes: u64,
        /// Cases per property test (PROPTEST_CASES).
        #[arg(long, default_value_t = 10_000)]
        proptest_cases: u64,
        /// The simulator's first seed (default: derived from today's date, new every day).
        #[arg(long)]
        sim_start_seed: Option<u64>,
        /// The maps the simulator and the property tests check (repeatable; `sim targets` lists
        /// them): each gets an equal share of the simulator's time. A target that randomizes by
        /// itself (go) runs with `--keep-going`, so its summary counts every failing seed, and with
        /// its known bugs allowed (`sim run --allow`).
        #[arg(long = "target", value_name = "NAME", default_value = "map-core")]
        targets: Vec<String>,
        /// Jobs to leave out (repeatable).
        #[arg(long, value_enum)]
        skip: Vec<Job>,
        /// Show every job's output as it runs.
        #[arg(long, short)]
        verbose: bool,
    },
}

/// Why a command did not finish its work.
#[derive(Debug)]
pub enum Error {
    /// The command line asked for something that does not exist.
    Usage(String),
    /// A step could not run (build, install, file system).
    Failed(String),
}

/// Where the workspace and its build output are.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// The workspace root.
    pub root: PathBuf,
    /// Cargo's target directory (`CARGO_TARGET_DIR`, else `<root>/target`).
    pub target_dir: PathBuf,
}

impl Workspace {
    fn locate() -> Workspace {
        // xtask sits one level below the root, so its manifest directory locates the workspace.
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let target_dir =
            std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
        Workspace { root, target_dir }
    }

    /// The cargo-fuzz project.
    pub fn fuzz_dir(&self) -> PathBuf {
        self.root.join("fuzz")
    }

    /// The committed corpus of `target`.
    pub fn committed_corpus(&self, target: &str) -> PathBuf {
        self.fuzz_dir().join("corpus").join(target)
    }

    /// Where failing inputs of `target` go (cargo-fuzz's place; not committed).
    pub fn artifacts(&self, target: &str) -> PathBuf {
        self.fuzz_dir().join("artifacts").join(target)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ws = Workspace::locate();
    let result = match cli.command {
        Command::Fuzz {
            target,
            time,
            replay_corpus,
            build_only,
            toolchain,
            fault,
            verbose,
        } => {
            let request = fuzz::FuzzRequest {
                target,
                time: (!replay_corpus && !build_only).then(|| Duration::from_secs(time)),
                replay: !build_only,
                toolchain,
                fault,
                verbose,
            };
            fuzz::fuzz_command(&ws, &request)
        }
        Command::FuzzFaults {
            target,
            fault,
            limit,
            seed,
            from_empty,
            toolchain,
        } => {
            let request = fuzz::FaultsRequest {
                target,
                fault,
                limit: Duration::from_secs(limit),
                seed,
                from_empty,
                toolchain,
            };
            fuzz::faults_command(&ws, &request)
        }
        Command::FuzzSpeed {
            target,
            time,
            seed,
            toolchain,
        } => {
            let request = fuzz::SpeedRequest {
                target,
                time: Duration::from_secs(time),
                seed,
                toolchain,
            };
            fuzz::speed_command(&ws, &request)
        }
        Command::FuzzCorpus { count } => fuzz_corpus(&ws, count),
        Command::CfliteCheck => cflite::check_command(&ws),
        Command::Nightly {
            minutes,
            proptest_cases,
            sim_start_seed,
            targets,
            skip,
            verbose,
        } => match targets.iter().find_map(|t| sim::target::lookup(t).err()) {
            Some(unknown) => Err(Error::Usage(unknown)),
            None => {
                let request = nightly::NightlyRequest {
                    minutes,
                    proptest_cases,
                    sim_start_seed,
                    targets,
                    skip,
                    verbose,
                };
                nightly::nightly_command(&ws, &request)
            }
        },
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(Error::Usage(why)) => {
            eprintln!("error: {why}");
            ExitCode::from(2)
        }
        Err(Error::Failed(why)) => {
            eprintln!("error: {why}");
            ExitCode::from(2)
        }
    }
}

fn fuzz_corpus(ws: &Workspace, count: usize) -> Result<bool, Error> {
    for target in Target::ALL {
        let dir = ws.committed_corpus(target.name());
        let written = write_seed_corpus(target, &dir, count)
            .map_err(|e| Error::Failed(format!("cannot write {}: {e}", dir.display())))?;
        println!(
            "{target}: {} inputs, {} bytes in {}",
            written.files,
            written.bytes,
            dir.display()
        );
        let dicts = ws.fuzz_dir().join("dicts");
        let dict = dicts.join(format!("{target}.dict"));
        std::fs::create_dir_all(&dicts)
            .and_then(|()| std::fs::write(&dict, dictionary_text(target)))
            .map_err(|e| Error::Failed(format!("cannot write {}: {e}", dict.display())))?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_target_and_the_baseline_have_a_fuzz_target_file_and_back() {
        let ws = Workspace::locate();
        let dir = ws.fuzz_dir().join("fuzz_targets");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let mut names: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
        // The measuring stick of `fuzz-speed` has a file but is no target.
        names.push(fuzz::BASELINE);
        names.sort();
        assert_eq!(files, names);
    }
}
