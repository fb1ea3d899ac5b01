//! `sim run --threads N`: concurrent mode, for the targets that several threads may call at once.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use sim::concurrent::focus::Focus;
use sim::concurrent::{self, ConcurrentFailure, ConcurrentInfo, ConcurrentStats};
use sim::failure::FailureKind;
use sim::program::HasherSet;

use super::args::SeedRange;
use super::{report, Outcome, UsageError};

/// What concurrent mode needs of `sim run`'s arguments.
pub struct ConcurrentRun<'a> {
    pub target: &'a str,
    pub threads: usize,
    pub hashers: HasherSet,
    pub seeds: SeedRange,
    pub time: Option<Duration>,
    pub out: &'a Path,
    pub repeat: u32,
    pub keep_going: bool,
    pub progress: ProgressBar,
}

/// The concurrent form of `name`, or a usage error naming the targets that have one.
pub fn info(name: &str) -> Result<&'static ConcurrentInfo, UsageError> {
    concurrent::lookup(name).map_err(UsageError)
}

/// Runs the seeds in order, each on fresh threads, until the first failure (with `keep_going`,
/// through the whole range, each failure reported and saved as it is found).
pub fn run(run: ConcurrentRun<'_>) -> Result<Outcome, UsageError> {
    let info = info(run.target)?;
    let started = Instant::now();
    let mut stats = ConcurrentStats::default();
    let mut seeds_run = 0u64;
    let mut first = None;
    let mut failing: Vec<(u64, FailureKind)> = Vec::new();
    for seed in run.seeds.start..run.seeds.end {
        if run.time.is_some_and(|limit| started.elapsed() >= limit) {
            break;
        }
        seeds_run += 1;
        run.progress.inc(1);
        let mark = sim::watchdog::watch(seed);
        let ran = concurrent::run_seed(info, seed, run.threads, run.hashers);
        drop(mark);
        match ran {
            Ok(counts) => stats.add(&counts),
            Err(found) if run.keep_going => {
                run.progress
                    .suspend(|| report_failure(&run, info, seed, &found));
                failing.push((seed, found.kind()));
            }
            Err(found) => {
                first = Some((seed, found));
                break;
            }
        }
    }
    run.progress.finish_and_clear();
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    println!(
        "sim run: target {}, {} writer threads and a reader: {seeds_run} seeds ran, {secs:.1} s",
        info.name, run.threads
    );
    println!(
        "  {} calls checked ({:.0} calls/s), {} cursors, {} yields{}",
        stats.calls,
        stats.calls as f64 / secs,
        stats.cursors,
        stats.yields,
        if run.keep_going {
            " (clean seeds only)"
        } else {
            ""
        }
    );
    println!(
        "  §7 (W1 {}), concurrent form: {} of {} cursors yielded a value stored after their \
         creation (a snapshot never would)",
        info.no_repeat.name(),
        stats.fresh_value_cursors,
        stats.cursors
    );
    if let Some((seed, found)) = first {
        report_failure(&run, info, seed, &found);
        return Ok(Outcome::BugFound);
    }
    if failing.is_empty() {
        println!("no failure found");
        return Ok(Outcome::Clean);
    }
    println!(
        "{} of {seeds_run} seeds failed (each reported above, with its log and reproduction rate):",
        failing.len()
    );
    let mut kinds: Vec<FailureKind> = failing.iter().map(|&(_, kind)| kind).collect();
    kinds.sort_by_key(|kind| kind.name());
    kinds.dedup();
    for kind in kinds {
        let seeds: Vec<String> = failing
            .iter()
            .filter(|&&(_, k)| k == kind)
            .map(|(seed, _)| seed.to_string())
            .collect();
        // The lowest ten name the check's seeds; the log files hold every one.
        let shown = seeds.len().min(10);
        let more = match seeds.len() - shown {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        println!(
            "  {}: {} seed{} ({}{more})",
            kind.name(),
            seeds.len(),
            if seeds.len() == 1 { "" } else { "s" },
            seeds[..shown].join(", ")
        );
    }
    Ok(Outcome::BugFound)
}

/// Prints the failure with its reproduction rate and saves its log.
fn report_failure(
    run: &ConcurrentRun<'_>,
    info: &ConcurrentInfo,
    seed: u64,
    found: &ConcurrentFailure,
) {
    let violation = &found.violation.violation;
    let replay = format!(
        "cargo run --release -p sim{} -- run --target {} --threads {} --seeds {seed}..{}{}",
        report::features_for(info.name, false),
        info.name,
        run.threads,
        seed + 1,
        sim::results::hashers_flag(run.hashers)
    );
    // Save first: nothing found is lost, even if measuring the rate never finishes.
    let path = run
        .out
        .join(format!("concurrent-{}-seed-{seed}.log", info.name));
    let mut text = log_text(info, run.threads, seed, found, &replay, None);
    let mut saved: Option<PathBuf> = report::save_text(&path, &text);
    let reproduced = concurrent::reproduction_rate(
        info,
        seed,
        run.threads,
        run.hashers,
        found.kind(),
        run.repeat,
    );
    let rate = format!("{reproduced} of {} further runs", run.repeat);
    if saved.is_some() {
        text = log_text(info, run.threads, seed, found, &replay, Some(&rate));
        saved = report::save_text(&path, &text);
    }
    println!("failure at seed {seed} (real threads: the interleaving is not replayed)");
    println!("  check:    {}", violation.kind.describe());
    println!("  expected: {}", violation.expected);
    println!("  found:    {}", violation.found);
    if let Some(call) = found.violation.at {
        println!("  at call:  {call}");
    }
    match &found.focus {
        Some(focus) if focus.calls.len() + focus.meanwhile.len() <= SHOWN_FOCUS => {
            println!("{}:", focus_heading(found, focus));
            for line in focus_lines(focus) {
                println!("    {line}");
            }
        }
        Some(focus) => println!(
            "{} (too many to show here: in the saved log)",
            focus_heading(found, focus)
        ),
        None => {}
    }
    println!("reproduced in {rate} of seed {seed}");
    if let Some(path) = saved {
        println!(
            "saved {} (the interleaving it saw: every call, in the order they began)",
            path.display()
        );
    }
    println!("run it again with: {replay}");
}

/// The most calls of a focus printed on the terminal; the saved log holds them all.
const SHOWN_FOCUS: usize = 40;

/// What a focus is, in one line: `the N calls of M that show it (...)`.
fn focus_heading(found: &ConcurrentFailure, focus: &Focus) -> String {
    format!(
        "the {} calls of {} that show it: those on key {}, every clear, and the cursors that \
         yielded it or broke the rule, with the writes of other keys in progress meanwhile; checked \
         alone, they break the same rule at the same call (expected: {})",
        focus.calls.len(),
        found.log.len(),
        focus.key,
        focus.violation.violation.expected,
    )
}

/// The focus's calls in the order they began, the writes in progress meanwhile marked.
fn focus_lines(focus: &Focus) -> Vec<String> {
    focus
        .interleaved()
        .into_iter()
        .map(|(call, meanwhile)| {
            if meanwhile {
                format!("{call}    (another key, in progress meanwhile)")
            } else {
                call.to_string()
            }
        })
        .collect()
}

/// The saved log: a header of `#` lines (target, seed, check, rate, command, the calls that show
/// the failure), then every call.
fn log_text(
    info: &ConcurrentInfo,
    threads: usize,
    seed: u64,
    found: &ConcurrentFailure,
    replay: &str,
    rate: Option<&str>,
) -> String {
    let violation = &found.violation.violation;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# sim concurrent log: target {} threads {threads} seed {seed}",
        info.name
    );
    let _ = writeln!(
        text,
        "# check: {} ({})",
        violation.kind.name(),
        violation.kind.describe()
    );
    let _ = writeln!(text, "# expected: {}", violation.expected);
    let _ = writeln!(text, "# found: {}", violation.found);
    if let Some(call) = found.violation.at {
        let _ = writeln!(text, "# at call: {call}");
    }
    let _ = writeln!(
        text,
        "# reproduced: {}",
        rate.unwrap_or("(still being measured when this was written)")
    );
    let _ = writeln!(text, "# run again: {replay}");
    if let Some(focus) = &found.focus {
        let _ = writeln!(text, "# {}:", focus_heading(found, focus));
        for line in focus_lines(focus) {
            let _ = writeln!(text, "#   {line}");
        }
    }
    let _ = writeln!(
        text,
        "# t<thread> <began>..<returned> <call> -> <answer> (thread 0: prefill and reader)"
    );
    for call in &found.log {
        let _ = writeln!(text, "{call}");
    }
    text
}
