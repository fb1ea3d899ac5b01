//! The table printed after a run: time per operation and the ratios `GoMap / std`, read from the
//! estimates criterion wrote during this run (older estimates on disk are ignored, so a filtered
//! run tabulates only what it measured).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use map_core::MapStats;

/// Criterion function ids: the maps under comparison.
pub const GOMAP: &str = "gomap";
pub const GOMAP_CURSOR: &str = "gomap_cursor";
pub const STD_SAME: &str = "std_same_hasher";
pub const STD_RANDOM: &str = "std_randomstate";

/// Criterion group names: the operations.
pub const INSERT: &str = "insert";
pub const GET_HIT: &str = "get_hit";
pub const GET_MISS: &str = "get_miss";
pub const REMOVE: &str = "remove";
pub const ITER: &str = "iter";

/// One table row kind: which GoMap measurement is compared with the std maps of which group, and
/// the map's goal for the ratio against std with the same hasher, if it has one.
struct Row {
    label: &'static str,
    group: &'static str,
    gomap: &'static str,
    goal: Option<f64>,
}

impl Row {
    const fn new(
        label: &'static str,
        group: &'static str,
        gomap: &'static str,
        goal: Option<f64>,
    ) -> Self {
        Row {
            label,
            group,
            gomap,
            goal,
        }
    }
}

const ROWS: [Row; 6] = [
    Row::new("insert", INSERT, GOMAP, Some(2.0)),
    Row::new("get-hit", GET_HIT, GOMAP, Some(1.5)),
    Row::new("get-miss", GET_MISS, GOMAP, None),
    Row::new("remove", REMOVE, GOMAP, None),
    Row::new("iter", ITER, GOMAP, Some(1.5)),
    Row::new("iter (Cursor)", ITER, GOMAP_CURSOR, None),
];

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

/// The median time of one sample's routine (a batch of n operations), in nanoseconds, if this
/// run wrote it.
fn median_ns(dir: &Path, group: &str, function: &str, n: usize, since: SystemTime) -> Option<f64> {
    let file = dir
        .join(group)
        .join(function)
        .join(n.to_string())
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

fn cell_ns(per_op: Option<f64>) -> String {
    per_op.map_or_else(|| "-".to_string(), |ns| format!("{ns:.2}"))
}

fn cell_ratio(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "-".to_string(), |r| format!("{r:.2}x"))
}

fn cell_goal(goal: Option<f64>, ratio: Option<f64>) -> String {
    match (goal, ratio) {
        (None, _) => "-".to_string(),
        (Some(goal), None) => format!("<= {goal:.1}x: not measured"),
        (Some(goal), Some(r)) if r <= goal => format!("<= {goal:.1}x: met"),
        (Some(goal), Some(r)) => format!("<= {goal:.1}x: MISSED, needs {:.2}x faster", r / goal),
    }
}

/// Prints the markdown table of this run's results, then the shape of each prebuilt GoMap.
pub fn print(dir: &Path, since: SystemTime, sizes: &[(usize, &str)], shapes: &[(&str, MapStats)]) {
    let mut lines = Vec::new();
    for row in &ROWS {
        for &(n, label) in sizes {
            let per_op = |function: &str| {
                median_ns(dir, row.group, function, n, since).map(|ns| ns / n as f64)
            };
            let (go, same, random) = (per_op(row.gomap), per_op(STD_SAME), per_op(STD_RANDOM));
            if go.is_none() && same.is_none() && random.is_none() {
                continue;
            }
            let vs_same = go.zip(same).map(|(g, s)| g / s);
            let vs_random = go.zip(random).map(|(g, r)| g / r);
            lines.push(format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                row.label,
                label,
                cell_ns(go),
                cell_ns(same),
                cell_ns(random),
                cell_ratio(vs_same),
                cell_ratio(vs_random),
                cell_goal(row.goal, vs_same),
            ));
        }
    }

    println!();
    if lines.is_empty() {
        println!("No estimates were written in this run (nothing matched the filter), so there is no table.");
        return;
    }
    println!(
        "GoMap vs std HashMap: median ns per operation (each sample times a batch of n operations)"
    );
    println!();
    println!("| op | n | GoMap | std, same hasher | std, RandomState | GoMap / std same hasher | GoMap / std RandomState | goal (vs same hasher) |");
    println!("|---|---|---:|---:|---:|---:|---:|---|");
    for line in lines {
        println!("{line}");
    }
    println!();
    println!("GoMap after building (the map get, remove and iter run on):");
    for (label, s) in shapes {
        println!(
            "  n={label}: B={}, buckets={}, overflow buckets={}, longest chain={}, growing={}",
            s.b, s.buckets, s.overflow_buckets, s.max_chain_len, s.growing
        );
    }
}
