//! `cargo xtask nightly`: the long jobs of the nightly CI, run locally, with one summary at the end.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::fuzz::{Fuzzer, RunPlan};
use crate::process::{human, run_logged, Finished};
use crate::tools::{self, ToolchainChoice, CARGO_MUTANTS_VERSION};
use crate::Workspace;

/// The jobs, by the names `--skip` takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Job {
    /// Property tests with many cases (`PROPTEST_CASES`).
    Proptest,
    /// The simulator over fresh seeds for a fixed time.
    Sim,
    /// Each fuzz target for a fixed time.
    Fuzz,
    /// cargo-mutants on map-core.
    Mutants,
}

/// What `cargo xtask nightly` should do.
#[derive(Debug)]
pub struct NightlyRequest {
    /// The time budget of the timed jobs, in minutes.
    pub minutes: u64,
    /// Cases per property test.
    pub proptest_cases: u64,
    /// The first simulator seed; by default one derived from today's date, so that each night
    /// runs seeds no night ran before.
    pub sim_start_seed: Option<u64>,
    /// The targets the simulator and the property tests check, by name (at least one).
    pub targets: Vec<String>,
    /// Jobs not to run.
    pub skip: Vec<Job>,
    /// Echo every job's output.
    pub verbose: bool,
}

/// How a job ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Ran and found nothing.
    Clean,
    /// Found something: how to replay it.
    Found(String),
    /// Could not run: why.
    Error(String),
    /// Not run (`--skip`).
    Skipped,
}

/// One job's line in the summary.
#[derive(Debug)]
pub struct JobReport {
    /// What ran.
    pub name: String,
    /// How it ended.
    pub verdict: Verdict,
    /// How long it took.
    pub elapsed: Duration,
    /// A number worth keeping (cases, seeds, executions, mutants).
    pub detail: String,
    /// Its full output.
    pub log: Option<PathBuf>,
}

/// Seeds per day of the default start seed: far more than a night runs, so nights never overlap.
const SEEDS_PER_DAY: u64 = 100_000_000;

/// The file of `sim run`'s flags for Go's map (its known bugs), relative to the workspace root; the
/// nightly workflow reads the same file.
const GO_KNOWN_BUGS: &str = "drivers/go/known-bugs.args";

/// The flags of an args file: every line that is not a comment, split on whitespace.
fn args_of(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .flat_map(str::split_whitespace)
        .collect()
}

/// Runs the jobs and prints the summary. Returns whether every job ran clean.
pub fn nightly_command(ws: &Workspace, req: &NightlyRequest) -> Result<bool, crate::Error> {
    let logs = ws.target_dir.join("xtask").join("nightly");
    fs::create_dir_all(&logs)
        .map_err(|e| crate::Error::Failed(format!("cannot create {}: {e}", logs.display())))?;
    let budget = Duration::from_secs(req.minutes * 60);
    // The timed jobs share the budget: a quarter each for the simulator and the fuzzers, half for
    // mutants (stopped at its share; the property tests are bounded by their case count instead).
    let sim_time = budget / 4;
    let fuzz_time = budget / 4;
    let mutants_time = budget / 2;
    let mut reports = Vec::new();
    let skipped = |job: Job| req.skip.contains(&job);

    for target in &req.targets {
        reports.push(if skipped(Job::Proptest) {
            skipped_report(&format!("property tests ({target})"))
        } else {
            proptest_job(ws, &logs, req, target)
        });
    }
    let per_target = sim_time / req.targets.len().max(1) as u32;
    for target in &req.targets {
        reports.push(if skipped(Job::Sim) {
            skipped_report(&format!("simulator ({target})"))
        } else {
            sim_job(ws, &logs, req, target, per_target)
        });
    }
    if skipped(Job::Fuzz) {
        reports.push(skipped_report("fuzz"));
    } else {
        reports.extend(fuzz_jobs(ws, fuzz_time, req.verbose));
    }
    reports.push(if skipped(Job::Mutants) {
        skipped_report("mutants (map-core)")
    } else {
        mutants_job(ws, &logs, mutants_time, req.verbose)
    });

    print_summary(&reports);
    Ok(reports
        .iter()
        .all(|r| matches!(r.verdict, Verdict::Clean | Verdict::Skipped)))
}

fn skipped_report(name: &str) -> JobReport {
    unstarted_report(name, Verdict::Skipped)
}

/// A job that did not start, and why.
fn unstarted_report(name: &str, verdict: Verdict) -> JobReport {
    JobReport {
        name: name.to_string(),
        verdict,
        elapsed: Duration::ZERO,
        detail: String::new(),
        log: None,
    }
}

fn cargo(ws: &Workspace) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(&ws.root);
    cmd
}

fn logged(name: &str, cmd: &mut Command, log: &Path, verbose: bool) -> Result<Finished, JobReport> {
    eprintln!("nightly: {name} (log: {})", log.display());
    run_logged(cmd, log, verbose).map_err(|e| JobReport {
        log: Some(log.to_path_buf()),
        ..unstarted_report(name, Verdict::Error(format!("cannot start: {e}")))
    })
}

fn proptest_job(ws: &Workspace, logs: &Path, req: &NightlyRequest, target: &str) -> JobReport {
    let name = format!("property tests ({target})");
    let name = name.as_str();
    let log = logs.join(format!("proptest-{target}.log"));
    let mut cmd = cargo(ws);
    // The default target runs every property test; another target runs the property that takes
    // a target (`SIM_TARGET`), the rest being about map-core.
    cmd.args(["test", "-p", "tests", "--release"]);
    if target != "map-core" {
        cmd.args(["--test", "property"]);
    }
    cmd.env("PROPTEST_CASES", req.proptest_cases.to_string())
        .env("SIM_TARGET", target);
    let done = match logged(name, &mut cmd, &log, req.verbose) {
        Ok(done) => done,
        Err(report) => return report,
    };
    let verdict = if done.status.success() {
        Verdict::Clean
    } else if done.output.contains("test result: FAILED") {
        Verdict::Found(format!(
            "the failing cases are in tests/proptest-regressions/ (proptest saved them); replay with\n    \
             SIM_TARGET={target} PROPTEST_CASES={} cargo test -p tests --release\n    failing tests: {}",
            req.proptest_cases,
            failed_tests(&done.output).join(", ")
        ))
    } else {
        Verdict::Error(format!(
            "cargo test exited with {} before running the tests",
            done.status
        ))
    };
    let detail = format!("{} cases per property", req.proptest_cases);
    JobReport {
        name: name.to_string(),
        verdict,
        elapsed: done.elapsed,
        detail,
        log: Some(log),
    }
}

/// The names cargo test lists under `failures:`.
fn failed_tests(output: &str) -> Vec<String> {
    let mut names: Vec<String> = output
        .lines()
        .filter_map(|l| {
            l.strip_prefix("test ")
                .and_then(|rest| rest.strip_suffix(" ... FAILED"))
        })
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    names
}

fn sim_job(
    ws: &Workspace,
    logs: &Path,
    req: &NightlyRequest,
    target: &str,
    time: Duration,
) -> JobReport {
    let name = format!("simulator ({target})");
    let name = name.as_str();
    let log = logs.join(format!("sim-{target}.log"));
    let start = req.sim_start_seed.unwrap_or_else(default_start_seed);
    let out = ws
        .target_dir
        .join("xtask")
        .join("sim-failures")
        .join(target);
    let mut cmd = cargo(ws);
    cmd.args([
        "run",
        "--release",
        "-p",
        "sim",
        "--",
        "run",
        "--target",
        target,
    ]);
    // Go's map randomizes by itself and Go 1.19's has known bugs (drivers/go/README.md): count
    // every failing seed rather than stop at the first, and pass the known ones, so that any
    // other check failing, or too many seeds, is what the job reports.
    if target == "go" {
        let path = ws.root.join(GO_KNOWN_BUGS);
        match fs::read_to_string(&path) {
            Ok(text) => {
                cmd.args(args_of(&text));
            }
            Err(e) => {
                let why = format!("cannot read {}: {e}", path.display());
                return unstarted_report(name, Verdict::Error(why));
            }
        }
    }
    cmd.arg("--seeds")
        .arg(format!("{start}..{}", start + SEEDS_PER_DAY))
        .arg("--time")
        .arg(format!("{}s", time.as_secs().max(1)))
        .arg("--out")
        .arg(&out);
    let done = match logged(name, &mut cmd, &log, req.verbose) {
        Ok(done) => done,
        Err(report) => return report,
    };
    // sim's exit codes: 0 clean, 1 a check failed (it saved and printed the replay), 2 bad usage.
    let verdict = match done.status.code() {
        Some(0) => Verdict::Clean,
        Some(1) => {
            let replay: Vec<&str> = done
                .output
                .lines()
                .filter(|l| {
                    l.contains("replay with")
                        || l.contains("seeds failed")
                        || l.contains("(first seeds:")
                })
                .take(8)
                .collect();
            Verdict::Found(format!(
                "traces in {}; {}",
                out.display(),
                replay.join("\n    ")
            ))
        }
        _ => Verdict::Error(format!("sim exited with {}", done.status)),
    };
    // A clean run of a target with known bugs still says how many seeds hit them.
    let known = match verdict {
        Verdict::Clean => done
            .output
            .lines()
            .find(|l| l.contains("seeds failed"))
            .map(|l| format!("; known bugs only: {}", l.trim().trim_end_matches(':'))),
        _ => None,
    };
    let detail = format!(
        "seeds from {start}, {}{}",
        human(time),
        known.unwrap_or_default()
    );
    JobReport {
        name: name.to_string(),
        verdict,
        elapsed: done.elapsed,
        detail,
        log: Some(log),
    }
}

/// Days since 1970 times [`SEEDS_PER_DAY`]: the date picks the seeds, the printed range replays them.
fn default_start_seed() -> u64 {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    days * SEEDS_PER_DAY
}

fn fuzz_jobs(ws: &Workspace, time: Duration, verbose: bool) -> Vec<JobReport> {
    let fuzzer = match Fuzzer::prepare(ws, ToolchainChoice::Auto, false) {
        Ok(f) => f,
        Err(why) => {
            return vec![JobReport {
                name: "fuzz (build)".to_string(),
                verdict: Verdict::Error(why),
                elapsed: Duration::ZERO,
                detail: String::new(),
                log: None,
            }]
        }
    };
    let targets = sim::fuzz_input::Target::ALL;
    let per_target = time / targets.len() as u32;
    targets
        .iter()
        .map(|target| {
            let name = format!("fuzz {target}");
            eprintln!("nightly: {name} for {}", human(per_target));
            let plan = RunPlan {
                time: per_target,
                fault: None,
                seed: None,
                from_committed: true,
                echo: verbose,
            };
            match fuzzer.fuzz(*target, &plan) {
                Err(why) => JobReport {
                    name,
                    verdict: Verdict::Error(why),
                    elapsed: Duration::ZERO,
                    detail: String::new(),
                    log: None,
                },
                Ok(o) => {
                    let verdict = match (&o.artifact, o.clean) {
                        (_, true) => Verdict::Clean,
                        (Some(artifact), false) => {
                            Verdict::Found(fuzzer.replay_help(*target, artifact, None))
                        }
                        (None, false) => Verdict::Error(format!(
                            "libFuzzer exited with {:?} and no artifact",
                            o.exit_code
                        )),
                    };
                    let rate = o
                        .exec_per_sec()
                        .map(|r| format!(", {r:.0}/s"))
                        .unwrap_or_default();
                    let detail = format!(
                        "{} execs{rate}, {}",
                        o.executions.unwrap_or(0),
                        fuzzer.mode()
                    );
                    JobReport {
                        name,
                        verdict,
                        elapsed: o.elapsed,
                        detail,
                        log: Some(o.log),
                    }
                }
            }
        })
        .collect()
}

fn mutants_job(ws: &Workspace, logs: &Path, time: Duration, verbose: bool) -> JobReport {
    let name = "mutants (map-core)";
    if let Err(why) = tools::ensure_cargo_tool("mutants", "cargo-mutants", CARGO_MUTANTS_VERSION) {
        return JobReport {
            name: name.to_string(),
            verdict: Verdict::Error(why),
            elapsed: Duration::ZERO,
            detail: String::new(),
            log: None,
        };
    }
    let log = logs.join("mutants.log");
    let out = ws.target_dir.join("xtask");
    let mut cmd = cargo(ws);
    cmd.args(["mutants", "-p", "map-core", "--no-shuffle", "--output"])
        .arg(&out);
    // cargo-mutants has no overall time limit: it is stopped at its share of the budget, and the
    // summary counts what was tested by then.
    eprintln!(
        "nightly: {name} for up to {} (log: {})",
        human(time),
        log.display()
    );
    let done = match crate::process::run_logged_until(&mut cmd, &log, verbose, time) {
        Ok(done) => done,
        Err(e) => {
            return JobReport {
                name: name.to_string(),
                verdict: Verdict::Error(format!("cannot start: {e}")),
                elapsed: Duration::ZERO,
                detail: String::new(),
                log: Some(log),
            }
        }
    };
    let outcome_dir = out.join("mutants.out");
    let missed = fs::read_to_string(outcome_dir.join("missed.txt")).unwrap_or_default();
    let caught = count_lines(&outcome_dir.join("caught.txt"));
    let timeouts = count_lines(&outcome_dir.join("timeout.txt"));
    let unviable = count_lines(&outcome_dir.join("unviable.txt"));
    let missed_count = missed.lines().filter(|l| !l.trim().is_empty()).count();
    let detail = format!(
        "{caught} caught, {missed_count} missed, {timeouts} timeouts, {unviable} unviable{}",
        if done.timed_out {
            " (stopped at the time limit)"
        } else {
            ""
        }
    );
    // cargo-mutants' exit codes: 0 all caught, 2 some missed, 3 some timed out, 4 baseline failed.
    let verdict = match done.finished.status.code() {
        _ if missed_count > 0 => Verdict::Found(format!(
            "surviving mutants (also in {}):\n    {}",
            outcome_dir.join("missed.txt").display(),
            missed.lines().take(10).collect::<Vec<_>>().join("\n    ")
        )),
        Some(0) | Some(3) => Verdict::Clean,
        _ if done.timed_out => Verdict::Clean,
        Some(4) => Verdict::Error(
            "the unmutated tree failed its tests (cargo-mutants' baseline)".to_string(),
        ),
        _ => Verdict::Error(format!(
            "cargo mutants exited with {}",
            done.finished.status
        )),
    };
    JobReport {
        name: name.to_string(),
        verdict,
        elapsed: done.finished.elapsed,
        detail,
        log: Some(log),
    }
}

fn count_lines(path: &Path) -> usize {
    fs::read_to_string(path).map_or(0, |s| s.lines().filter(|l| !l.trim().is_empty()).count())
}

fn print_summary(reports: &[JobReport]) {
    println!();
    println!("nightly summary:");
    println!("{:<24} {:<8} {:>9}  detail", "job", "result", "time");
    for r in reports {
        let result = match r.verdict {
            Verdict::Clean => "clean",
            Verdict::Found(_) => "FOUND",
            Verdict::Error(_) => "ERROR",
            Verdict::Skipped => "skipped",
        };
        println!(
            "{:<24} {:<8} {:>9}  {}",
            r.name,
            result,
            human(r.elapsed),
            r.detail
        );
    }
    for r in reports {
        match &r.verdict {
            Verdict::Found(how) => println!("\n{} found something:\n    {how}", r.name),
            Verdict::Error(why) => println!("\n{} could not run: {why}", r.name),
            Verdict::Clean | Verdict::Skipped => continue,
        }
        if let Some(log) = &r.log {
            println!("    full output: {}", log.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_tests_are_read_from_cargo_test_output() {
        let out = "test a ... ok\ntest prop::b ... FAILED\ntest c ... FAILED\n\nfailures:\n";
        assert_eq!(failed_tests(out), ["c", "prop::b"]);
    }

    #[test]
    fn args_files_skip_comments_and_split_on_whitespace() {
        let text = "# a comment\n--keep-going\n  # indented\n--allow a --allow b\n\n";
        assert_eq!(
            args_of(text),
            ["--keep-going", "--allow", "a", "--allow", "b"]
        );
    }

    #[test]
    fn the_go_known_bugs_file_holds_the_flags_and_the_workflow_reads_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let text = fs::read_to_string(root.join(GO_KNOWN_BUGS)).expect("the args file");
        let args = args_of(&text);
        assert!(args.contains(&"--keep-going") && args.contains(&"--max-failure-rate"));
        let workflow = fs::read_to_string(root.join(".github/workflows/nightly.yml")).unwrap();
        assert!(
            workflow.contains(GO_KNOWN_BUGS),
            "the go job reads {GO_KNOWN_BUGS}"
        );
    }

    #[test]
    fn the_default_start_seed_is_a_whole_day_of_seeds() {
        let start = default_start_seed();
        assert_eq!(start % SEEDS_PER_DAY, 0);
        // 2026 is more than 20,000 days after 1970.
        assert!(start / SEEDS_PER_DAY > 20_000, "{start}");
    }
}
