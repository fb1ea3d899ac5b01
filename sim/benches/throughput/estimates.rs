//! The table printed after a run: ops per second and the simulator's ratio to
//! proptest-state-machine, read from the estimates criterion wrote during this run (older
//! estimates on disk are ignored, so a filtered run tabulates only what it measured).

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sim::exec::RunStats;

/// Criterion group names.
pub const PLAIN_AUDIT_EVERY_OP: &str = "plain_audit_every_op";
pub const PLAIN_AUDIT_AT_END: &str = "plain_audit_at_end";
pub const DEFAULT_GROUP: &str = "default_workload";

/// Criterion function ids.
pub const SIM: &str = "sim";
pub const SIM_EXEC_ONLY: &str = "sim_exec_only";
pub const PROPTEST: &str = "proptest_state_machine";

/// One plain-workload group of the table: its checks and the ops each side applies per iteration.
pub struct PlainRow {
    pub group: &'static str,
    pub checks: &'static str,
    pub sim_ops: u64,
    pub proptest_ops: u64,
}

/// The simulator's goal: at least this many times proptest-state-machine's ops per second (the
/// plain-op workload's goal since the harness-power work; it was 10x before).
const GOAL: f64 = 15.0;

/// Where criterion writes its estimates; passed to criterion explicitly so that both agree.
/// Same order of preference as criterion's own default, except that the target directory is
/// taken from the bench executable's location instead of running `cargo metadata`.
pub fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    // The executable lives in <target>/<profile>/deps/.
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .nth(3)
                .map(|target| target.join("criterion"))
        })
        .unwrap_or_else(|| PathBuf::from("target/criterion"))
}

/// The median time of one iteration, in nanoseconds, if this run wrote it.
fn median_ns(dir: &Path, group: &str, function: &str, since: SystemTime) -> Option<f64> {
    let file = dir
        .join(group)
        .join(function)
        .join("new")
        .join("estimates.json");
    let modified = std::fs::metadata(&file).ok()?.modified().ok()?;
    if modified < since {
        return None;
    }
    let json = std::fs::read_to_string(&file).ok()?;
    point_estimate(&json, "median")
}

/// Reads `"<statistic>": {..., "point_estimate": X, ...}` from criterion's estimates.json.
fn point_estimate(json: &str, statistic: &str) -> Option<f64> {
    let section = &json[json.find(&format!("\"{statistic}\""))?..];
    let value = &section[section.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = value
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(value.len());
    value[..end].parse().ok()
}

fn ops_per_sec(
    dir: &Path,
    group: &str,
    function: &str,
    ops: u64,
    since: SystemTime,
) -> Option<f64> {
    median_ns(dir, group, function, since).map(|ns| ops as f64 / (ns * 1e-9))
}

fn cell(rate: Option<f64>) -> String {
    rate.map_or_else(|| "-".to_string(), |r| format!("{:.0}", r))
}

/// Prints the markdown table of this run's results.
pub fn print(
    dir: &Path,
    since: SystemTime,
    plain: &[PlainRow],
    default_stats: &RunStats,
    default_seeds: Range<u64>,
) {
    let mut lines = Vec::new();
    for row in plain {
        let rate = |function, ops| ops_per_sec(dir, row.group, function, ops, since);
        let (sim, exec_only, proptest) = (
            rate(SIM, row.sim_ops),
            rate(SIM_EXEC_ONLY, row.sim_ops),
            rate(PROPTEST, row.proptest_ops),
        );
        if sim.is_none() && exec_only.is_none() && proptest.is_none() {
            continue;
        }
        let ratio = sim.zip(proptest).map(|(s, p)| s / p);
        let goal = match ratio {
            None => "-".to_string(),
            Some(r) if r >= GOAL => format!(">= {GOAL:.0}x: met"),
            Some(r) => format!(">= {GOAL:.0}x: MISSED, needs {:.2}x faster", GOAL / r),
        };
        lines.push(format!(
            "| {} | {} | {} | {} | {} | {goal} |",
            row.checks,
            cell(sim),
            cell(exec_only),
            cell(proptest),
            ratio.map_or_else(|| "-".to_string(), |r| format!("{r:.2}x")),
        ));
    }

    println!();
    if !lines.is_empty() {
        println!("Plain-op workload: checked ops per second (median of the samples)");
        println!();
        println!("| checks | sim (generate + run) | sim (run only) | proptest-state-machine | sim / proptest | goal |");
        println!("|---|---:|---:|---:|---:|---|");
        for line in &lines {
            println!("{line}");
        }
        println!();
    }
    match ops_per_sec(dir, DEFAULT_GROUP, SIM, default_stats.ops, since) {
        Some(rate) => println!(
            "Default workload (gen::generate, seeds {}..{}): {} ops, {} cursor steps, {} audits per pass; \
             {rate:.0} checked ops per second (generate + run)",
            default_seeds.start, default_seeds.end, default_stats.ops, default_stats.cursor_steps, default_stats.audits
        ),
        None if lines.is_empty() => {
            println!("No estimates were written in this run (nothing matched the filter), so there is no table.")
        }
        None => {}
    }
}
