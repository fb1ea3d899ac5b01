//! `sim run`: many seeds, in parallel, with a progress bar and a coverage summary.

use std::path::PathBuf;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use map_core::Fault;
use sim::exec::FailureKind;
use sim::op::OpKind;
use sim::program::HasherSet;
use sim::runner::{self, Campaign, Problem, Report, SeedSet};
use sim::shrink;
use sim::target::{self, Contract, TargetInfo};

use super::args::{self, SeedRange, Shard};
use super::{report, results, Outcome, UsageError, EXIT_CODES};

/// The default seed range: about 30 s in release on 2 idle cores (about 55 s of CPU time).
pub const DEFAULT_SEEDS: SeedRange = SeedRange {
    start: 0,
    end: 100_000,
};

/// Run the programs of a range of seeds, checking every step against the model.
#[derive(clap::Args, Debug)]
#[command(after_help = EXIT_CODES)]
pub struct Args {
    /// Seeds to run, `A..B` (B exclusive). Default: 0..100000 (about 30 s in release on 2 idle cores),
    /// or every seed from 0 when `--time` is given.
    #[arg(long, value_parser = args::seed_range)]
    seeds: Option<SeedRange>,
    /// Stop starting new seeds after this long (`30s`, `5m`, `2h`); the summary says how many ran.
    #[arg(long, value_parser = args::duration)]
    time: Option<Duration>,
    /// Worker threads (default: the number of CPUs). Results do not depend on it.
    #[arg(long, value_parser = args::jobs)]
    jobs: Option<usize>,
    /// Run only shard I of N of the seed range (seeds whose offset from A is I modulo N).
    #[arg(long, value_parser = args::shard, value_name = "I/N")]
    shard: Option<Shard>,
    /// Run the seeds in N processes of one job each instead of threads of this one (each a shard
    /// of the range; their reports are printed in turn, then the total): for a map whose threads
    /// slow each other down across maps, as papaya's process-wide memory barriers do. Each
    /// process stops at its own first failure unless `--keep-going`.
    #[arg(long, value_parser = args::jobs, value_name = "N", conflicts_with_all = ["jobs", "threads"])]
    processes: Option<usize>,
    /// Directory for failing traces (`DIR/seed-<seed>.trace`).
    #[arg(long, value_name = "DIR", default_value = "sim-failures")]
    out: PathBuf,
    /// Run every seed twice and compare trace bytes and results.
    #[arg(long)]
    check_determinism: bool,
    /// Inject this map-core fault into every program (needs the `faults` feature).
    #[arg(long, value_parser = args::fault, value_name = "NAME")]
    fault: Option<Fault>,
    /// Draw each program's hasher from these modes only, comma-separated (seeded,
    /// collide-low-bits, collide-tophash, constant); a seed that drew another gets one of these.
    /// For a map with a known weakness under some hashers (papaya never finishes a resize under
    /// the colliding ones) whose other behaviour is still worth checking. Default: all.
    #[arg(long, value_parser = args::hashers, value_name = "MODES")]
    hashers: Option<HasherSet>,
    /// Go on past failing seeds: count every failure by its check, then shrink and save the
    /// lowest failing seed as usual (for a target with known bugs, such as Go 1.19's map). With
    /// `--threads`: run the whole range, each failure reported, measured and saved as found.
    #[arg(long)]
    keep_going: bool,
    /// With `--keep-going`: failures of this check are known bugs of the target (repeatable).
    /// The run exits 0 when every failing seed failed one of these checks (and the share of
    /// failing seeds is within `--max-failure-rate`); else it shrinks and saves the lowest seed
    /// that failed another check, and exits 1.
    #[arg(long, value_enum, value_name = "CHECK", requires = "keep_going")]
    allow: Vec<KnownCheck>,
    /// With `--allow`: the largest share of failing seeds, in percent, that the known bugs may
    /// account for; more is a failure (exit 1) even if every check is allowed.
    #[arg(long, value_parser = args::percent, value_name = "PERCENT", requires = "allow")]
    max_failure_rate: Option<f64>,
    /// The map to check (`sim targets` lists them); each seed's program holds only the ops it
    /// supports.
    #[arg(long, value_parser = args::target, value_name = "NAME", default_value = "map-core")]
    target: &'static TargetInfo,
    /// On a seeded Go target, run the shrunk failure's Go export this many times on the
    /// unmodified runtime of the same toolchain and report the rate (0: do not).
    #[arg(long, value_name = "N", default_value_t = sim::confirm::CONFIRM_RUNS)]
    confirm_runs: u32,
    /// Concurrent mode: N writer threads on their own op streams while a reader steps cursors,
    /// every call logged and checked against §7's concurrent form (targets several threads may
    /// call at once: `striped`, `striped-racy`, `java-chm`, and with the `concurrent-maps`
    /// feature `papaya`, `flurry`). Seeds run one after another; the default range is then
    /// 0..1000. Real threads do not replay byte for byte: a failure is run again `--repeat`
    /// times for its reproduction rate, and saved with the interleaving it saw.
    #[arg(long, value_parser = args::jobs, value_name = "N")]
    threads: Option<usize>,
    /// With `--threads`: how many more times a failing seed is run to measure how often it
    /// fails again.
    #[arg(long, value_name = "RUNS", default_value_t = 100, requires = "threads")]
    repeat: u32,
    /// A seed still running after this long (`60s`, `5m`) is a hang of the map: its program is
    /// saved, the replay command printed, and sim exits 1 (an in-process map cannot be
    /// interrupted, so the run ends there).
    #[arg(long, value_parser = args::duration, value_name = "DURATION", default_value = "60s")]
    hang_after: Duration,
    /// Also write the run's summary as JSON to FILE (docs/results-schema.md), before exiting,
    /// whatever the run found; `sim merge` combines such files from shards.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// A check that `--allow` can name: the cursor rules a target's known iteration bugs break.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum KnownCheck {
    /// Rule 1: an incarnation yielded twice.
    DuplicateYield,
    /// Rules 2 and 7: an absent key yielded.
    AbsentYield,
    /// Rule 3: a yield with a value other than the current one.
    StaleValue,
    /// Rule 4: a cursor ended without an entry it owed.
    MissedEntry,
}

impl KnownCheck {
    /// The name `--allow` takes (clap's, from the variant's name).
    fn name(self) -> String {
        clap::ValueEnum::to_possible_value(&self)
            .map(|value| value.get_name().to_string())
            .unwrap_or_default()
    }

    fn covers(self, kind: FailureKind) -> bool {
        matches!(
            (self, kind),
            (KnownCheck::DuplicateYield, FailureKind::DuplicateYield)
                | (KnownCheck::AbsentYield, FailureKind::AbsentYield)
                | (KnownCheck::StaleValue, FailureKind::StaleValue)
                | (KnownCheck::MissedEntry, FailureKind::MissedEntry)
        )
    }
}

/// Whether a failing seed's problem is one of the known bugs `allow` names (a nondeterministic
/// seed never is).
pub(super) fn is_known(allow: &[KnownCheck], problem: &Problem) -> bool {
    match problem {
        Problem::Check(failure) => allow.iter().any(|check| check.covers(failure.kind)),
        Problem::Nondeterministic(_) => false,
    }
}

pub fn run(args: Args) -> Result<Outcome, UsageError> {
    if args.fault.is_some() && !cfg!(feature = "faults") {
        return Err(UsageError(
            "--fault needs sim built with the `faults` feature: cargo run --release -p sim --features faults -- run --fault NAME"
                .to_string(),
        ));
    }
    if args.fault.is_some() && args.target.name != target::DEFAULT_TARGET {
        return Err(UsageError(format!(
            "--fault injects a map-core fault; it cannot be used with --target {}",
            args.target.name
        )));
    }
    report::available(args.target)?;
    if let Some(processes) = args.processes {
        // The arguments after `run`, for the processes to take over.
        let given: Vec<std::ffi::OsString> = std::env::args_os()
            .skip_while(|arg| arg != "run")
            .skip(1)
            .collect();
        return super::processes::run(
            &given,
            processes as u64,
            args.shard.unwrap_or(Shard { index: 0, count: 1 }),
            args.json.as_deref(),
        );
    }
    start_watchdog(&args);
    if let Some(threads) = args.threads {
        return run_concurrent(&args, threads);
    }
    let range = args.seeds.unwrap_or(if args.time.is_some() {
        SeedRange {
            start: 0,
            end: u64::MAX,
        }
    } else {
        DEFAULT_SEEDS
    });
    let shard = args.shard.unwrap_or(Shard { index: 0, count: 1 });
    let seeds = SeedSet {
        start: range.start,
        end: range.end,
        shard: shard.index,
        shards: shard.count,
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let campaign = Campaign {
        target: campaign_target(&args),
        seeds,
        jobs,
        time_limit: args.time,
        fault: args.fault,
        check_determinism: args.check_determinism,
        keep_going: args.keep_going,
    };

    let progress = progress_bar(&campaign);
    let report = runner::run_campaign(&campaign, &|| progress.inc(1));
    progress.finish_and_clear();

    let mut saved = None;
    let outcome = conclude(&args, &campaign, &report, &mut saved)?;
    if let Some(path) = &args.json {
        results::write_run(path, &campaign, &report, &args.allow, saved, outcome)?;
    }
    Ok(outcome)
}

/// Prints what the run found and shrinks and saves the failure to report, which `saved` then
/// names.
fn conclude(
    args: &Args,
    campaign: &Campaign,
    report: &Report,
    saved: &mut Option<results::SavedFailure>,
) -> Result<Outcome, UsageError> {
    let described = describe(campaign);
    match &report.failure {
        None => {
            print_summary(&described, campaign, report);
            Ok(Outcome::Clean)
        }
        Some(failure) => {
            if campaign.keep_going {
                print_summary(&described, campaign, report);
                print_failure_counts(report);
            }
            if args.allow.is_empty() {
                *saved = handle_failure(&described, campaign, failure, args);
                return Ok(Outcome::BugFound);
            }
            let unknown = report
                .failed_seeds
                .iter()
                .find(|(_, problem)| !is_known(&args.allow, problem));
            let rate = 100.0 * report.failed_seeds.len() as f64 / report.seeds_run.max(1) as f64;
            let allowed: Vec<String> = args.allow.iter().map(|c| c.name()).collect();
            match unknown {
                Some((seed, problem)) => {
                    println!(
                        "seed {seed} failed a check other than the known ones ({}): it is the one \
                         shrunk and saved",
                        allowed.join(", ")
                    );
                    let failure = runner::SeedFailure {
                        seed: *seed,
                        program: runner::program_on(*seed, &campaign.target, campaign.fault),
                        problem: problem.clone(),
                    };
                    *saved = handle_failure(&described, campaign, &failure, args);
                    Ok(Outcome::BugFound)
                }
                None => match args.max_failure_rate {
                    Some(max) if rate > max => {
                        println!(
                            "every failing seed failed a known check, but {rate:.2}% of the seeds \
                             failed, more than the {max}% allowed"
                        );
                        *saved = handle_failure(&described, campaign, failure, args);
                        Ok(Outcome::BugFound)
                    }
                    _ => {
                        println!(
                            "every failing seed failed a known check ({}), {rate:.2}% of the seeds{}: \
                             nothing new (the lowest: cargo run --release -p sim -- replay --seed {} \
                             --target {}{})",
                            allowed.join(", "),
                            args.max_failure_rate
                                .map_or(String::new(), |max| format!(", within {max}%")),
                            failure.seed,
                            campaign.target.name,
                            sim::results::hashers_flag(campaign.target.capabilities.hashers),
                        );
                        Ok(Outcome::Clean)
                    }
                },
            }
        }
    }
}

/// The target as the campaign draws programs for it: with `--hashers`, from those modes only.
fn campaign_target(args: &Args) -> TargetInfo {
    let mut target = *args.target;
    if let Some(hashers) = args.hashers {
        target.capabilities.hashers = hashers;
    }
    target
}

/// Ends the run when a seed hangs, with what reproduces it on disk first.
fn start_watchdog(args: &Args) {
    let target = campaign_target(args);
    let (out, fault, threads, after) =
        (args.out.clone(), args.fault, args.threads, args.hang_after);
    sim::watchdog::start(after, move |seed, ran| {
        println!(
            "hang: seed {seed} has run for {:.0} s without finishing (--hang-after {after:?}): the \
             map never returned from a call",
            ran.as_secs_f64()
        );
        let replay = match threads {
            None => {
                let program = runner::program_on(seed, &target, fault);
                let path = out.join(format!("seed-{seed}.hang.trace"));
                report::save(&path, &program).map(|path| {
                    println!(
                        "shrink it with: {} (each candidate in a child process)",
                        report::shrink_command(&path, &program)
                    );
                    report::replay_command(&path, &program)
                })
            }
            Some(n) => Some(format!(
                "cargo run --release -p sim{} -- run --target {} --threads {n} --seeds {seed}..{}{}",
                report::features_for(target.name, false),
                target.name,
                seed + 1,
                sim::results::hashers_flag(target.capabilities.hashers)
            )),
        };
        if let Some(replay) = replay {
            println!("run it again with: {replay}");
        }
        // Exit code 1: a bug found (a hang), as EXIT_CODES says.
        std::process::exit(1);
    });
}

/// `--threads`: concurrent mode, which takes only the options that mean something there.
fn run_concurrent(args: &Args, threads: usize) -> Result<Outcome, UsageError> {
    let unsupported = [
        (args.shard.is_some(), "--shard"),
        (
            args.check_determinism,
            "--check-determinism (real threads never replay exactly)",
        ),
        (args.json.is_some(), "--json"),
        (!args.allow.is_empty(), "--allow"),
        (
            args.jobs.is_some(),
            "--jobs (each seed already runs on N + 1 threads)",
        ),
    ];
    if let Some((_, flag)) = unsupported.iter().find(|(given, _)| *given) {
        return Err(UsageError(format!("{flag} cannot be used with --threads")));
    }
    let seeds = args.seeds.unwrap_or(match args.time {
        Some(_) => SeedRange {
            start: 0,
            end: u64::MAX,
        },
        None => SeedRange {
            start: 0,
            end: 1000,
        },
    });
    let bar = ProgressBar::with_draw_target(
        (seeds.end != u64::MAX).then(|| seeds.end - seeds.start),
        ProgressDrawTarget::stderr(),
    );
    super::concurrent::run(super::concurrent::ConcurrentRun {
        target: args.target.name,
        threads,
        hashers: args.hashers.unwrap_or(HasherSet::ALL),
        seeds,
        time: args.time,
        out: &args.out,
        repeat: args.repeat,
        keep_going: args.keep_going,
        progress: bar,
    })
}

fn progress_bar(campaign: &Campaign) -> ProgressBar {
    // Hidden by indicatif itself when stderr is not a terminal.
    let target = ProgressDrawTarget::stderr();
    let bounded = campaign.time_limit.is_none() || campaign.seeds.len() < 1 << 40;
    if bounded {
        let bar = ProgressBar::with_draw_target(Some(campaign.seeds.len()), target);
        let style = ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} seeds ({per_sec}, eta {eta})",
        )
        .expect("valid template")
        .progress_chars("=> ");
        bar.with_style(style)
    } else {
        let bar = ProgressBar::with_draw_target(None, target);
        let style =
            ProgressStyle::with_template("{elapsed_precise} {spinner} {pos} seeds ({per_sec})")
                .expect("valid template");
        bar.with_style(style)
    }
}

fn describe(campaign: &Campaign) -> String {
    let s = &campaign.seeds;
    let mut text = if s.end == u64::MAX {
        format!("target {}, seeds {}..", campaign.target.name, s.start)
    } else {
        format!(
            "target {}, seeds {}..{}",
            campaign.target.name, s.start, s.end
        )
    };
    if s.shards > 1 {
        text += &format!(" shard {}/{}", s.shard, s.shards);
    }
    if let Some(fault) = campaign.fault {
        text += &format!(" with fault {fault}");
    }
    text
}

fn print_summary(described: &str, campaign: &Campaign, report: &Report) {
    let secs = report.elapsed.as_secs_f64().max(1e-9);
    let stats = &report.stats;
    let limited = match campaign.time_limit {
        Some(limit) if report.seeds_run < campaign.seeds.len() => {
            format!(", stopped by --time {limit:?}")
        }
        _ => String::new(),
    };
    // The op counts are those of the seeds that ran clean (a failing run reports no stats).
    println!(
        "sim run: {described}: {} seeds ran{limited}, {} jobs, {:.1} s{}",
        report.seeds_run,
        campaign.jobs,
        secs,
        if campaign.check_determinism {
            ", each twice: deterministic"
        } else {
            ""
        }
    );
    println!(
        "  {} ops checked ({:.0} ops/s), {} cursor steps, {} yields, {} audits",
        stats.ops,
        stats.ops as f64 / secs,
        stats.cursor_steps,
        stats.yields,
        stats.audits
    );
    if let Contract::Weak(_) = campaign.target.capabilities.contract {
        println!(
            "  {} contract: {} of {} cursors yielded a value stored after their creation \
             (a snapshot never would)",
            campaign.target.capabilities.contract.name(),
            report.coverage.total.fresh_value_cursors,
            stats.count(OpKind::CursorNew)
        );
    }
    if campaign.target.capabilities.state {
        print!("{}", report.coverage);
    } else {
        println!(
            "state coverage: target {} reports no internal state",
            campaign.target.name
        );
    }
    if report.failure.is_none() {
        println!("no failure found");
    }
}

/// With `--keep-going`: how many seeds failed, by check, with the first few seeds of each.
fn print_failure_counts(report: &Report) {
    let mut by_check: Vec<(String, Vec<u64>)> = Vec::new();
    for (seed, problem) in &report.failed_seeds {
        let check = match problem {
            Problem::Check(failure) => failure.kind.describe(),
            Problem::Nondeterministic(_) => "nondeterminism".to_string(),
        };
        match by_check.iter_mut().find(|(c, _)| *c == check) {
            Some((_, seeds)) => seeds.push(*seed),
            None => by_check.push((check, vec![*seed])),
        }
    }
    by_check.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
    let failed = report.failed_seeds.len() as u64;
    let ran = report.seeds_run.max(1);
    println!(
        "{failed} of {} seeds failed ({:.2}%):",
        report.seeds_run,
        100.0 * failed as f64 / ran as f64
    );
    for (check, seeds) in by_check {
        let first: Vec<String> = seeds.iter().take(5).map(u64::to_string).collect();
        println!(
            "  {:>8}  {check}  (first seeds: {})",
            seeds.len(),
            first.join(", ")
        );
    }
}

/// Shrinks, saves and prints the failure; returns where it was saved, if it was.
fn handle_failure(
    described: &str,
    campaign: &Campaign,
    failure: &runner::SeedFailure,
    args: &Args,
) -> Option<results::SavedFailure> {
    let seed = failure.seed;
    let path = args.out.join(format!("seed-{seed}.trace"));
    println!(
        "sim run: {described}: seed {seed} failed; every seed before it in the range ran clean"
    );
    // Saved before shrinking: a crash while shrinking must not lose the failure.
    let saved = report::save(&path, &failure.program);
    match &failure.problem {
        Problem::Nondeterministic(difference) => {
            println!("nondeterminism: two runs of seed {seed} differ: {difference}");
            report::print_saved(saved.as_deref(), &failure.program);
            results::saved(seed, saved.as_deref(), &failure.program)
        }
        Problem::Check(check) => {
            let target = &campaign.target;
            let shrunk = shrink::shrink_on(&failure.program, check, target);
            // A target that randomizes by itself may not fail every time: say how often it did.
            let rate = (!target.capabilities.deterministic).then(|| {
                report::reproduce(
                    &shrunk.program,
                    target,
                    shrunk.failure.kind,
                    report::REPRODUCTION_RUNS,
                )
            });
            let natural = report::confirm_natural(&shrunk.program, args.confirm_runs);
            let saved = report::save_with_rate(&path, &shrunk.program, rate, natural.as_ref());
            report::print_shrunk(&shrunk, saved.as_deref());
            if let Some(rate) = rate {
                println!("on target {}, the shrunk program {rate}", target.name);
            }
            println!(
                "the unshrunk program: {}",
                sim::results::seed_replay_command(
                    seed,
                    target.name,
                    campaign.fault.map(|f| f.name()),
                    campaign.target.capabilities.hashers
                )
            );
            results::saved(seed, saved.as_deref(), &shrunk.program)
        }
    }
}
