//! `sim go-matrix`: the same seeds on every installed Go toolchain, one table.

use std::time::Duration;

use sim::coverage::Coverage;
use sim::runner::{self, Campaign, Problem, Report, SeedSet};
use sim::target::go::{self, build::Mode, toolchain, MapKind};
use sim::target::TargetInfo;

use super::args::{self, SeedRange};
use super::{report, Outcome, UsageError, EXIT_CODES};

/// Run the same seeds on every Go toolchain found (PATH and /usr/lib/go-*), seeded unless
/// `--natural`, counting every failure by its check, and print one Markdown table: version,
/// seeds, ops, ops/s, failures by check, and the share of seeds reaching each state of that
/// version's map.
#[derive(clap::Args, Debug)]
#[command(after_help = EXIT_CODES)]
pub struct Args {
    /// Seeds to run on each version, `A..B` (B exclusive).
    #[arg(long, value_parser = args::seed_range, default_value = "0..10000")]
    seeds: SeedRange,
    /// Only these versions (`1.19`, `1.26.11`; repeatable). Default: every one found.
    #[arg(long = "go", value_name = "VERSION")]
    versions: Vec<String>,
    /// Run on the unmodified runtime (go-natural@...) instead of the seeded one.
    #[arg(long)]
    natural: bool,
    /// Which of Go's maps: `runtime` (the built-in map, go@...) or `sync` (sync.Map,
    /// go-sync-map@...).
    #[arg(long = "map", value_enum, default_value = "runtime")]
    map: MapArg,
    /// Worker threads (default: the number of CPUs).
    #[arg(long, value_parser = args::jobs)]
    jobs: Option<usize>,
    /// Stop each version's run after this long (`30s`, `5m`).
    #[arg(long, value_parser = args::duration)]
    time: Option<Duration>,
}

/// `--map`: which of Go's maps the matrix runs.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum MapArg {
    /// The built-in map.
    Runtime,
    /// sync.Map.
    Sync,
}

/// One version's row.
struct Row {
    target: &'static TargetInfo,
    family: toolchain::Family,
    map: MapKind,
    report: Report,
}

pub fn run(args: Args) -> Result<Outcome, UsageError> {
    let mode = if args.natural {
        Mode::Natural
    } else {
        Mode::Seeded
    };
    let mut toolchains: Vec<&toolchain::Toolchain> = toolchain::installed()
        .iter()
        .filter(|t| t.family().is_ok())
        .collect();
    if !args.versions.is_empty() {
        for v in &args.versions {
            if !toolchains.iter().any(|t| t.matches(v)) {
                return Err(UsageError(format!(
                    "--go {v}: no such toolchain is installed (`sim targets` lists them)"
                )));
            }
        }
        toolchains.retain(|t| args.versions.iter().any(|v| t.matches(v)));
    }
    if toolchains.is_empty() {
        return Err(UsageError(
            "no Go toolchain found on PATH or in /usr/lib/go-*: install one (Debian: \
             golang-1.NN-go)"
                .to_string(),
        ));
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut rows = Vec::new();
    for t in toolchains {
        let map = match args.map {
            MapArg::Runtime => MapKind::Runtime,
            MapArg::Sync => MapKind::Sync,
        };
        let name = go::canonical_name_of(map, mode, t);
        let target = sim::target::lookup(&name).map_err(UsageError)?;
        report::available(target)?;
        let campaign = Campaign {
            target: *target,
            seeds: SeedSet::range(args.seeds.start, args.seeds.end),
            jobs,
            time_limit: args.time,
            fault: None,
            check_determinism: false,
            keep_going: true,
        };
        eprintln!(
            "go-matrix: {name}, seeds {}..{}",
            args.seeds.start, args.seeds.end
        );
        let report = runner::run_campaign(&campaign, &|| {});
        let family = t.family().expect("filtered above");
        rows.push(Row {
            target,
            family,
            map,
            report,
        });
    }
    print_table(&rows);
    let failed = rows.iter().any(|r| !r.report.failed_seeds.is_empty());
    Ok(if failed {
        Outcome::BugFound
    } else {
        Outcome::Clean
    })
}

/// The states worth a column per family, by index in [`Coverage::entries`], with short names.
fn states(family: toolchain::Family) -> &'static [(usize, &'static str)] {
    match family {
        toolchain::Family::Classic => &[
            (0, "growth+cursor"),
            (3, "2 growths/cursor"),
            (4, "clear in iteration"),
            (7, "same-size growth"),
            (8, "cursor through growth"),
        ],
        toolchain::Family::Swiss => &[
            (4, "clear in iteration"),
            (3, "2 growths/cursor"),
            (12, "outgrew group"),
            (9, "table grown"),
            (10, "table split"),
            (11, "directory doubled"),
            (13, "replaced-table step"),
            (14, "replaced-table relookup"),
            (15, "tombstones"),
        ],
    }
}

/// Failures by check, most first: `N check` joined.
pub fn failures_by_check(report: &Report) -> Vec<(String, usize, u64)> {
    let mut by_check: Vec<(String, usize, u64)> = Vec::new();
    for (seed, problem) in &report.failed_seeds {
        let check = match problem {
            Problem::Check(failure) => failure.kind.describe(),
            Problem::Nondeterministic(_) => "nondeterminism".to_string(),
        };
        match by_check.iter_mut().find(|(c, _, _)| *c == check) {
            Some((_, n, _)) => *n += 1,
            None => by_check.push((check, 1, *seed)),
        }
    }
    by_check.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    by_check
}

fn print_table(rows: &[Row]) {
    println!("| Go | map | seeds | ops | ops/s | failing seeds by check (lowest seed) | states reached (% of seeds) |");
    println!("|---|---|---:|---:|---:|---|---|");
    for row in rows {
        let r = &row.report;
        let secs = r.elapsed.as_secs_f64().max(1e-9);
        let failures = failures_by_check(r);
        let failures = if failures.is_empty() {
            "none".to_string()
        } else {
            failures
                .iter()
                .map(|(check, n, seed)| format!("{n} {check} (seed {seed})"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let runs = r.coverage.runs.max(1) as f64;
        // sync.Map reports no internal state; what its rows show is how weak its cursors were.
        let sync_reached = [format!(
            "cursors yielding a value newer than themselves: {} (in {:.1} % of seeds)",
            r.coverage.total.fresh_value_cursors,
            100.0 * r.coverage.runs_reaching.fresh_value_cursors as f64 / runs
        )];
        let reached: Vec<String> = if row.map == MapKind::Sync {
            sync_reached.to_vec()
        } else {
            states(row.family)
                .iter()
                .map(|&(i, name)| {
                    format!(
                        "{name} {:.1}",
                        100.0 * r.coverage.runs_reaching.entries()[i].1 as f64 / runs
                    )
                })
                .collect()
        };
        let family = match (row.map, row.family) {
            (MapKind::Runtime, toolchain::Family::Classic) => "classic",
            (MapKind::Runtime, toolchain::Family::Swiss) => "swiss",
            (MapKind::Sync, toolchain::Family::Classic) => "sync: read + dirty",
            (MapKind::Sync, toolchain::Family::Swiss) => "sync: hash trie",
        };
        println!(
            "| {} | {family} | {} | {} | {:.2} M | {failures} | {} |",
            row.target.name,
            r.seeds_run,
            r.stats.ops,
            r.stats.ops as f64 / secs / 1e6,
            reached.join(", ")
        );
    }
    debug_assert_eq!(Coverage::STATES, 16);
    println!();
    let base = match rows.first().map(|r| r.map) {
        Some(MapKind::Sync) => "go-sync-map",
        _ => "go",
    };
    println!("replay a failing seed with: cargo run --release -p sim -- replay --seed N --target {base}@VERSION");
}
