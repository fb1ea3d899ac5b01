//! Machine-readable results: the summary `sim run --json` and `sim faults --json` write, and the
//! merge of such summaries from CI shards (`sim merge`).
//!
//! A [`Summary`] holds one [`ShardSummary`] per run that went into it (one for `sim run`, all of
//! them after `sim merge`) and the [`TargetTotals`] summed over its shards, so a merged summary can
//! be merged again. Every field, its type and meaning, and the versioning rule are in
//! docs/results-schema.md; docs/results.schema.json is the JSON Schema that a test checks real
//! output against. The summary is built from the runner's own [`Campaign`] and [`Report`] and the
//! coverage's own [`CoverageSummary`] (with their serde derives), not from the text report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::coverage::{Coverage, CoverageSummary};
use crate::detection::DetectionRate;
use crate::program::HasherSet;
use crate::runner::{Campaign, Problem, Report, SeedSet};
use crate::target::{self, TargetInfo};

/// The version of the results format this sim writes and reads. Any change to the format (a
/// field added, removed, renamed or given another meaning) takes the next version; `sim merge`
/// reads only this one.
pub const SCHEMA_VERSION: u32 = 2;

/// A results file: the shards that went into it and their totals per target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// [`SCHEMA_VERSION`] of the sim that wrote the file.
    pub schema_version: u32,
    /// The command that wrote this file (`sim run ...`, or `sim merge ...` for a merged one).
    pub command_line: Vec<String>,
    /// 0 when every shard exited 0, else 1: what `sim merge` exits with.
    pub exit_code: u8,
    /// One per run, in the order they were given.
    pub shards: Vec<ShardSummary>,
    /// The shards summed per target, fault and command ([`totals`]).
    pub targets: Vec<TargetTotals>,
}

/// Which subcommand made a shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Command {
    /// `sim run`.
    Run,
    /// `sim faults`.
    Faults,
}

/// The map a shard ran on.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetId {
    /// The target's name (`--target NAME`).
    pub name: String,
    /// The target's own version where it reports one (the Go driver's `hello`, or the part of
    /// the name after `@`), else `None`.
    pub version: Option<String>,
}

impl TargetId {
    /// The name and, where known, the version, for reports.
    pub fn label(&self) -> String {
        match &self.version {
            Some(version) if !self.name.ends_with(&format!("@{version}")) => {
                format!("{} ({version})", self.name)
            }
            _ => self.name.clone(),
        }
    }
}

/// One run of `sim run` or `sim faults`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardSummary {
    /// Which subcommand ran.
    pub command: Command,
    /// Its command line, as given.
    pub command_line: Vec<String>,
    /// The map it ran on.
    pub target: TargetId,
    /// The map-core fault injected into every program, if any.
    pub fault: Option<String>,
    /// The seeds asked for (`end` is `u64::MAX` for `--time` without `--seeds`).
    pub seeds: SeedSet,
    /// Seeds that ran to completion: a prefix of `seeds`.
    pub seeds_run: u64,
    /// Whether `--time` stopped the run before the last seed.
    pub stopped_by_time: bool,
    /// Worker threads.
    pub jobs: usize,
    /// Ops checked over the seeds that ran clean (`None` for `sim faults`, which counts none).
    pub ops: Option<u64>,
    /// Cursor steps checked over the seeds that ran clean.
    pub cursor_steps: Option<u64>,
    /// Cursor steps that yielded an entry.
    pub yields: Option<u64>,
    /// Structural audits.
    pub audits: Option<u64>,
    /// `ops / wall_time_seconds`.
    pub ops_per_second: Option<f64>,
    /// Wall time of the run.
    pub wall_time_seconds: f64,
    /// Whether the target reports internal state; without it the growth states count nothing.
    pub state_coverage: bool,
    /// The hard states reached by the seeds that ran clean (`None` for `sim faults`).
    pub coverage: Option<CoverageSummary>,
    /// Every failing seed found, lowest first (without `--keep-going`, only the lowest).
    pub failures: Vec<FailureRecord>,
    /// `sim faults` only: one per fault, in the catalog's order.
    pub detections: Vec<FaultDetection>,
    /// What the run exited with: 0 clean, 1 bug found.
    pub exit_code: u8,
}

/// A failing seed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureRecord {
    /// The seed.
    pub seed: u64,
    /// The check that failed ([`crate::failure::FailureKind::name`], or `nondeterminism`).
    pub check: String,
    /// The check's description, naming its rule of semantics.md.
    pub description: String,
    /// Whether `--allow` names the check as a known bug of the target.
    pub allowed: bool,
    /// Where the (shrunk) program was saved, if it was.
    pub trace: Option<String>,
    /// The command that replays it, from the workspace root.
    pub replay: String,
}

/// `sim faults`: how one fault was detected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultDetection {
    /// The fault's name.
    pub fault: String,
    /// Seeds of the rate range that run clean without a fault (the rate's denominator).
    pub rate_seeds: u64,
    /// Of those, the seeds whose program fails with the fault injected.
    pub caught: u64,
    /// The first seed, from 0, whose program catches the fault, if one within the budget does.
    pub first_seed: Option<u64>,
    /// Seconds to find it (one thread).
    pub detect_seconds: Option<f64>,
    /// The check it failed.
    pub check: Option<String>,
    /// The length of its shrunk program.
    pub shrunk_len: Option<usize>,
    /// The most ops the shrunk program may have ([`crate::detection::max_shrunk_len`]).
    pub max_shrunk_len: usize,
    /// The command that replays the first detecting seed.
    pub replay: Option<String>,
}

/// One target's shards summed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetTotals {
    /// The map.
    pub target: TargetId,
    /// The fault injected, if any.
    pub fault: Option<String>,
    /// Which subcommand ran.
    pub command: Command,
    /// How many shards were summed.
    pub shards: u64,
    /// Seeds run, summed.
    pub seeds_run: u64,
    /// Ops, summed (`None` when a shard counted none).
    pub ops: Option<u64>,
    /// Cursor steps, summed.
    pub cursor_steps: Option<u64>,
    /// Yields, summed.
    pub yields: Option<u64>,
    /// Audits, summed.
    pub audits: Option<u64>,
    /// Wall time summed over the shards (machine-seconds: shards may have run in parallel).
    pub wall_time_seconds: f64,
    /// `ops / wall_time_seconds`: the rate of one shard's machine, on average.
    pub ops_per_second: Option<f64>,
    /// Failing seeds, summed.
    pub failures: u64,
    /// Failing seeds per check.
    pub failures_by_check: BTreeMap<String, u64>,
    /// Coverage, merged ([`CoverageSummary::merge`]).
    pub coverage: Option<CoverageSummary>,
    /// 1 if any shard exited 1.
    pub exit_code: u8,
}

/// What `sim run` saved of the failure it reported: the one seed it shrank.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedFailure {
    /// The seed.
    pub seed: u64,
    /// Where the trace is.
    pub trace: String,
    /// The command that replays the trace.
    pub replay: String,
}

/// The target's own version, where it has one: the part of its name after `@` (a Go target
/// resolved to its toolchain is named `go@1.26.11`, whatever name the user gave).
pub fn target_version(info: &TargetInfo) -> Option<String> {
    info.name
        .split_once('@')
        .map(|(_, version)| version.to_string())
}

/// ` --hashers MODES` when a campaign drew from fewer than every hasher mode, for the commands
/// that run one of its seeds again; nothing otherwise.
pub fn hashers_flag(hashers: HasherSet) -> String {
    if hashers == HasherSet::ALL {
        String::new()
    } else {
        format!(" --hashers {hashers}")
    }
}

/// The command that replays seed `seed` of a campaign's target (the unshrunk program), whose
/// programs drew their hasher from `hashers`.
pub fn seed_replay_command(
    seed: u64,
    target: &str,
    fault: Option<&str>,
    hashers: HasherSet,
) -> String {
    let features = if fault.is_some() {
        " --features faults"
    } else {
        ""
    };
    let fault = fault.map_or(String::new(), |f| format!(" --fault {f}"));
    let on_target = if target == target::DEFAULT_TARGET {
        String::new()
    } else {
        format!(" --target {target}")
    };
    let hashers = hashers_flag(hashers);
    format!(
        "cargo run --release -p sim{features} -- replay --seed {seed}{fault}{on_target}{hashers}"
    )
}

fn problem_check(problem: &Problem) -> (String, String) {
    match problem {
        Problem::Check(failure) => (failure.kind.name(), failure.kind.describe()),
        Problem::Nondeterministic(difference) => (
            "nondeterminism".to_string(),
            format!("two runs of the seed differ: {difference}"),
        ),
    }
}

/// The summary of one `sim run`: `allowed` says which problems `--allow` passes, `saved` is the
/// failure it shrank and saved, `exit_code` what it exits with.
pub fn run_summary(
    command_line: Vec<String>,
    campaign: &Campaign,
    report: &Report,
    allowed: &dyn Fn(&Problem) -> bool,
    saved: Option<&SavedFailure>,
    exit_code: u8,
) -> Summary {
    let fault = campaign.fault.map(|f| f.name().to_string());
    let mut failing: Vec<(u64, &Problem)> =
        report.failed_seeds.iter().map(|(s, p)| (*s, p)).collect();
    if let Some(lowest) = &report.failure {
        if !failing.iter().any(|(seed, _)| *seed == lowest.seed) {
            failing.push((lowest.seed, &lowest.problem));
        }
    }
    failing.sort_by_key(|(seed, _)| *seed);
    let failures = failing
        .into_iter()
        .map(|(seed, problem)| {
            let (check, description) = problem_check(problem);
            let saved = saved.filter(|s| s.seed == seed);
            FailureRecord {
                seed,
                check,
                description,
                allowed: allowed(problem),
                trace: saved.map(|s| s.trace.clone()),
                replay: saved.map_or_else(
                    || {
                        seed_replay_command(
                            seed,
                            campaign.target.name,
                            fault.as_deref(),
                            campaign.target.capabilities.hashers,
                        )
                    },
                    |s| s.replay.clone(),
                ),
            }
        })
        .collect();
    let secs = report.elapsed.as_secs_f64();
    let stats = &report.stats;
    let shard = ShardSummary {
        command: Command::Run,
        command_line,
        target: TargetId {
            name: campaign.target.name.to_string(),
            version: target_version(&campaign.target),
        },
        fault,
        seeds: campaign.seeds,
        seeds_run: report.seeds_run,
        stopped_by_time: campaign.time_limit.is_some() && report.seeds_run < campaign.seeds.len(),
        jobs: campaign.jobs,
        ops: Some(stats.ops),
        cursor_steps: Some(stats.cursor_steps),
        yields: Some(stats.yields),
        audits: Some(stats.audits),
        ops_per_second: Some(rate(stats.ops, secs)),
        wall_time_seconds: secs,
        state_coverage: campaign.target.capabilities.state,
        coverage: Some(report.coverage),
        failures,
        detections: Vec::new(),
        exit_code,
    };
    Summary::of_shards(shard.command_line.clone(), vec![shard])
}

/// What `sim faults` found for one fault, for [`faults_summary`].
#[derive(Clone, Debug, PartialEq)]
pub struct FaultResult {
    /// The fault's name.
    pub fault: String,
    /// Seeds of the rate range that run clean without the fault (the rate's denominator).
    pub rate_seeds: u64,
    /// Of those, the seeds that catch the fault.
    pub caught: u64,
    /// The first detection: seed, seconds, check, shrunk length; `None` if none within budget.
    pub first: Option<(u64, f64, String, usize)>,
    /// The most ops its shrunk program may have.
    pub max_shrunk_len: usize,
    /// Where a detecting seed replays: the target and, for a map-core fault, the fault to
    /// inject (a planted fault of another target is a target of its own).
    pub replay_on: (String, Option<String>),
}

impl FaultResult {
    /// The row of map-core fault `rate.fault`.
    pub fn of_map_core(rate: &DetectionRate) -> FaultResult {
        FaultResult {
            fault: rate.fault.name().to_string(),
            rate_seeds: rate.seeds,
            caught: rate.caught,
            first: None,
            max_shrunk_len: crate::detection::max_shrunk_len(rate.fault),
            replay_on: (
                target::DEFAULT_TARGET.to_string(),
                Some(rate.fault.name().to_string()),
            ),
        }
    }

    /// The row of a planted fault of another target ([`crate::detection::PlantedRate`]).
    pub fn of_planted(rate: &crate::detection::PlantedRate) -> FaultResult {
        FaultResult {
            fault: rate.planted.name.to_string(),
            rate_seeds: rate.seeds,
            caught: rate.caught,
            first: None,
            max_shrunk_len: crate::detection::MAX_SHRUNK_LEN,
            replay_on: (rate.planted.target.name.to_string(), None),
        }
    }
}

/// The summary of one `sim faults`: the target whose faults ran (map-core, or the weak example),
/// the rate seeds, each fault's detection, and the seeds that fail without a fault (`unhealthy`:
/// seed, the correct target it fails on, and its check) as its failures.
#[allow(clippy::too_many_arguments)]
pub fn faults_summary(
    command_line: Vec<String>,
    of: &TargetInfo,
    seeds: SeedSet,
    jobs: usize,
    wall_time_seconds: f64,
    results: &[FaultResult],
    unhealthy: &[(u64, &str, Problem)],
    exit_code: u8,
) -> Summary {
    let detections = results
        .iter()
        .map(|r| FaultDetection {
            fault: r.fault.clone(),
            rate_seeds: r.rate_seeds,
            caught: r.caught,
            first_seed: r.first.as_ref().map(|f| f.0),
            detect_seconds: r.first.as_ref().map(|f| f.1),
            check: r.first.as_ref().map(|f| f.2.clone()),
            shrunk_len: r.first.as_ref().map(|f| f.3),
            max_shrunk_len: r.max_shrunk_len,
            replay: r.first.as_ref().map(|f| {
                seed_replay_command(
                    f.0,
                    &r.replay_on.0,
                    r.replay_on.1.as_deref(),
                    HasherSet::ALL,
                )
            }),
        })
        .collect();
    let failures = unhealthy
        .iter()
        .map(|(seed, target, problem)| {
            let (check, description) = problem_check(problem);
            FailureRecord {
                seed: *seed,
                check,
                description,
                allowed: false,
                trace: None,
                replay: seed_replay_command(*seed, target, None, HasherSet::ALL),
            }
        })
        .collect();
    let shard = ShardSummary {
        command: Command::Faults,
        command_line,
        target: TargetId {
            name: of.name.to_string(),
            version: None,
        },
        fault: None,
        seeds,
        seeds_run: seeds.len(),
        stopped_by_time: false,
        jobs,
        ops: None,
        cursor_steps: None,
        yields: None,
        audits: None,
        ops_per_second: None,
        wall_time_seconds,
        state_coverage: of.capabilities.state,
        coverage: None,
        failures,
        detections,
        exit_code,
    };
    Summary::of_shards(shard.command_line.clone(), vec![shard])
}

fn rate(ops: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        ops as f64 / secs
    } else {
        0.0
    }
}

impl Summary {
    /// A summary of these shards, written by `command_line`, with their totals.
    pub fn of_shards(command_line: Vec<String>, shards: Vec<ShardSummary>) -> Summary {
        Summary {
            schema_version: SCHEMA_VERSION,
            command_line,
            exit_code: shards.iter().map(|s| s.exit_code).max().unwrap_or(0),
            targets: totals(&shards),
            shards,
        }
    }
}

/// A short name for a shard in reports: target, seeds, shard, fault.
pub fn shard_label(shard: &ShardSummary) -> String {
    let s = &shard.seeds;
    let mut label = format!("{} seeds {}..", shard.target.label(), s.start);
    if s.end != u64::MAX {
        label += &s.end.to_string();
    }
    if s.shards > 1 {
        label += &format!(" shard {}/{}", s.shard, s.shards);
    }
    if let Some(fault) = &shard.fault {
        label += &format!(" fault {fault}");
    }
    if shard.command == Command::Faults {
        label = format!("faults, rate {label}");
    }
    label
}

fn add_option(into: &mut Option<u64>, from: Option<u64>) {
    *into = into.zip(from).map(|(a, b)| a.saturating_add(b));
}

/// The shards summed per target (name and version), fault and command, in order of first
/// appearance.
pub fn totals(shards: &[ShardSummary]) -> Vec<TargetTotals> {
    let mut totals: Vec<TargetTotals> = Vec::new();
    for shard in shards {
        let index = match totals.iter().position(|t| {
            t.target == shard.target && t.fault == shard.fault && t.command == shard.command
        }) {
            Some(index) => index,
            None => {
                totals.push(TargetTotals {
                    target: shard.target.clone(),
                    fault: shard.fault.clone(),
                    command: shard.command,
                    shards: 0,
                    seeds_run: 0,
                    ops: Some(0),
                    cursor_steps: Some(0),
                    yields: Some(0),
                    audits: Some(0),
                    wall_time_seconds: 0.0,
                    ops_per_second: None,
                    failures: 0,
                    failures_by_check: BTreeMap::new(),
                    coverage: Some(CoverageSummary::default()),
                    exit_code: 0,
                });
                totals.len() - 1
            }
        };
        let total = &mut totals[index];
        total.shards += 1;
        total.seeds_run = total.seeds_run.saturating_add(shard.seeds_run);
        add_option(&mut total.ops, shard.ops);
        add_option(&mut total.cursor_steps, shard.cursor_steps);
        add_option(&mut total.yields, shard.yields);
        add_option(&mut total.audits, shard.audits);
        total.wall_time_seconds += shard.wall_time_seconds;
        total.failures += shard.failures.len() as u64;
        for failure in &shard.failures {
            *total
                .failures_by_check
                .entry(failure.check.clone())
                .or_default() += 1;
        }
        total.coverage = match (total.coverage, &shard.coverage) {
            (Some(mut sum), Some(more)) => {
                sum.merge(more);
                Some(sum)
            }
            _ => None,
        };
        total.exit_code = total.exit_code.max(shard.exit_code);
    }
    for total in &mut totals {
        total.ops_per_second = total.ops.map(|ops| rate(ops, total.wall_time_seconds));
    }
    totals
}

/// Writes `summary` to `path` as pretty-printed JSON, creating the directory.
pub fn write(path: &Path, summary: &Summary) -> Result<(), String> {
    let text = serde_json::to_string_pretty(summary)
        .map_err(|e| format!("cannot encode the results: {e}"))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    std::fs::write(path, text + "\n")
        .map_err(|e| format!("cannot write results {}: {e}", path.display()))
}

/// A results file as JSON, with the schema version it declares: read first, so that a file of
/// another version is reported as such rather than as a missing field.
pub fn read_versioned(path: &Path) -> Result<(u32, serde_json::Value), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read results {}: {e}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    let version = value
        .get("schema_version")
        .and_then(serde_json::Value::as_u64)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| {
            format!(
                "{} is not a sim results file: no integer `schema_version`",
                path.display()
            )
        })?;
    Ok((version, value))
}

/// Decodes a results file of [`SCHEMA_VERSION`] read by [`read_versioned`].
pub fn decode(path: &Path, value: serde_json::Value) -> Result<Summary, String> {
    let summary: Summary = serde_json::from_value(value)
        .map_err(|e| format!("{} is not a valid sim results file: {e}", path.display()))?;
    for shard in &summary.shards {
        let s = &shard.seeds;
        if s.shards == 0 || s.shard >= s.shards || s.start > s.end {
            return Err(format!(
                "{}: a shard has an impossible seed set {}..{} shard {}/{}",
                path.display(),
                s.start,
                s.end,
                s.shard,
                s.shards
            ));
        }
    }
    Ok(summary)
}

/// The lowest seed in both sets, if they share one. Sets are arithmetic progressions, so this is
/// the Chinese remainder theorem on `seed ≡ start + shard (mod shards)` for both.
pub fn first_common_seed(a: &SeedSet, b: &SeedSet) -> Option<u64> {
    let (lo, hi) = (a.start.max(b.start), a.end.min(b.end));
    if lo >= hi || a.shards == 0 || b.shards == 0 {
        return None;
    }
    let (na, nb) = (u128::from(a.shards), u128::from(b.shards));
    let ra = (u128::from(a.start) + u128::from(a.shard)) % na;
    let rb = (u128::from(b.start) + u128::from(b.shard)) % nb;
    let (g, p) = gcd_and_inverse(na, nb);
    let diff = rb as i128 - ra as i128;
    if diff.rem_euclid(g as i128) != 0 {
        return None;
    }
    // x = ra + na * t with na * t ≡ rb - ra (mod nb), so t ≡ (diff / g) * p (mod nb / g).
    let m = nb / g;
    let d = (diff / g as i128).rem_euclid(m as i128) as u128;
    let t = d * p % m;
    let lcm = na * m;
    let x0 = ra + na * t;
    let lo_rem = u128::from(lo) % lcm;
    let step = if x0 >= lo_rem {
        x0 - lo_rem
    } else {
        lcm - (lo_rem - x0)
    };
    let x = u128::from(lo) + step;
    (x < u128::from(hi)).then_some(x as u64)
}

/// `(g, p)` with `g = gcd(a, b)` and `p * a ≡ g (mod b)`, `0 <= p < b / g`.
fn gcd_and_inverse(a: u128, b: u128) -> (u128, u128) {
    // Extended Euclid on i128: a and b are below 2^64, so every value fits.
    let (mut old_r, mut r) = (a as i128, b as i128);
    let (mut old_s, mut s) = (1i128, 0i128);
    while r != 0 {
        let q = old_r / r;
        (old_r, r) = (r, old_r - q * r);
        (old_s, s) = (s, old_s - q * s);
    }
    let g = old_r as u128;
    let m = (b / g) as i128;
    (g, old_s.rem_euclid(m) as u128)
}

/// Merges summaries (each a file's, with its path for errors) into one written by
/// `command_line`: every shard of every input, in order, and their totals. Rejects shards of the
/// same target, fault and command whose seed sets overlap (a seed would count twice).
pub fn merge(command_line: Vec<String>, inputs: Vec<(String, Summary)>) -> Result<Summary, String> {
    let mut shards: Vec<(String, ShardSummary)> = Vec::new();
    for (path, summary) in inputs {
        for shard in summary.shards {
            let same_target = |other: &ShardSummary| {
                other.target == shard.target
                    && other.fault == shard.fault
                    && other.command == shard.command
            };
            let overlap = shards.iter().find_map(|(other_path, other)| {
                let seed = first_common_seed(&other.seeds, &shard.seeds)?;
                same_target(other).then_some((other_path, other, seed))
            });
            if let Some((other_path, other, seed)) = overlap {
                return Err(format!(
                    "overlapping seed ranges of target {}: {} in {other_path} and {} in {path} \
                     both hold seed {seed}",
                    shard.target.label(),
                    shard_label(other),
                    shard_label(&shard),
                ));
            }
            shards.push((path.clone(), shard));
        }
    }
    Ok(Summary::of_shards(
        command_line,
        shards.into_iter().map(|(_, shard)| shard).collect(),
    ))
}

/// The most failures [`markdown`] lists one by one; the JSON holds them all.
pub const MARKDOWN_FAILURES: usize = 100;

fn count(value: Option<u64>) -> String {
    value.map_or("—".to_string(), |v| v.to_string())
}

fn coverage_rows(out: &mut String, coverage: &CoverageSummary) {
    let _ = writeln!(out, "| state | seeds reaching | events |");
    let _ = writeln!(out, "|---|---:|---:|");
    let reaching = coverage.runs_reaching.entries();
    let share = |reached: u64| {
        if coverage.runs == 0 {
            0.0
        } else {
            100.0 * reached as f64 / coverage.runs as f64
        }
    };
    // The swiss-table states are shown only for a target that reached one (Go 1.24 and later).
    let swiss = reaching[Coverage::SWISS_FROM..].iter().any(|&(_, r)| r > 0);
    let shown = if swiss {
        Coverage::STATES
    } else {
        Coverage::SWISS_FROM
    };
    let rows = coverage
        .total
        .entries()
        .into_iter()
        .zip(reaching)
        .take(shown);
    for ((name, events), (_, reached)) in rows {
        let _ = writeln!(
            out,
            "| {name} | {reached} ({:.1}%) | {events} |",
            share(reached)
        );
    }
    let unknown: Coverage = coverage.total;
    if unknown.growth_state_unknown > 0 {
        let _ = writeln!(
            out,
            "| cursor steps where the target could not tell whether a growth was under way | {} | {} |",
            coverage.runs_reaching.growth_state_unknown, unknown.growth_state_unknown
        );
    }
}

/// Whether the shards of `total` ran on a target that reports its internal state.
fn reports_state(summary: &Summary, total: &TargetTotals) -> bool {
    summary.shards.iter().any(|s| {
        s.target == total.target
            && s.fault == total.fault
            && s.command == total.command
            && s.state_coverage
    })
}

/// The report `sim merge` prints: a table per target, then every failure (up to
/// [`MARKDOWN_FAILURES`]) with its shard, seed, check and replay command.
pub fn markdown(summary: &Summary) -> String {
    let mut out = String::new();
    let failures: usize = summary.shards.iter().map(|s| s.failures.len()).sum();
    let _ = writeln!(
        out,
        "# Simulator results: {} shards, {} failing seeds, {}\n",
        summary.shards.len(),
        failures,
        if summary.exit_code == 0 {
            "clean"
        } else {
            "bug found"
        }
    );
    for total in &summary.targets {
        let mut title = total.target.label();
        if let Some(fault) = &total.fault {
            title += &format!(" with fault {fault}");
        }
        if total.command == Command::Faults {
            title += " (sim faults)";
        }
        let _ = writeln!(out, "## {title}\n");
        let _ = writeln!(
            out,
            "| shards | seeds run | ops | ops/s per shard | wall time (s, summed) | failing seeds | exit |"
        );
        let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.1} | {} | {} |\n",
            total.shards,
            total.seeds_run,
            count(total.ops),
            total
                .ops_per_second
                .map_or("—".to_string(), |r| format!("{r:.0}")),
            total.wall_time_seconds,
            total.failures,
            total.exit_code
        );
        if total.failures_by_check.is_empty() {
            let _ = writeln!(out, "Failures by check: none.\n");
        } else {
            let _ = writeln!(out, "| check | failing seeds |");
            let _ = writeln!(out, "|---|---:|");
            for (check, n) in &total.failures_by_check {
                let _ = writeln!(out, "| `{check}` | {n} |");
            }
            out.push('\n');
        }
        match &total.coverage {
            Some(coverage) if reports_state(summary, total) => {
                let _ = writeln!(out, "State coverage over {} clean seeds:\n", coverage.runs);
                coverage_rows(&mut out, coverage);
                out.push('\n');
            }
            Some(_) => {
                let _ = writeln!(
                    out,
                    "State coverage: the target reports no internal state.\n"
                );
            }
            None => {}
        }
    }
    let detections: Vec<(&ShardSummary, &FaultDetection)> = summary
        .shards
        .iter()
        .flat_map(|s| s.detections.iter().map(move |d| (s, d)))
        .collect();
    if !detections.is_empty() {
        let _ = writeln!(out, "## Fault detection\n");
        let _ = writeln!(
            out,
            "| shard | fault | rate | first seed | check | shrunk ops (max) |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---|---:|");
        for (shard, d) in detections {
            let rate = if d.rate_seeds == 0 {
                0.0
            } else {
                100.0 * d.caught as f64 / d.rate_seeds as f64
            };
            let _ = writeln!(
                out,
                "| {} | `{}` | {rate:.1}% ({} of {}) | {} | {} | {} ({}) |",
                shard_label(shard),
                d.fault,
                d.caught,
                d.rate_seeds,
                count(d.first_seed),
                d.check.as_deref().unwrap_or("not detected"),
                d.shrunk_len.map_or("—".to_string(), |n| n.to_string()),
                d.max_shrunk_len
            );
        }
        out.push('\n');
    }
    if failures > 0 {
        let _ = writeln!(out, "## Failures\n");
        let _ = writeln!(out, "| shard | seed | check | known | replay |");
        let _ = writeln!(out, "|---|---:|---|---|---|");
        // The failures that made a shard fail come first: they are the ones to replay.
        let mut listed: Vec<(&ShardSummary, &FailureRecord)> = summary
            .shards
            .iter()
            .flat_map(|s| s.failures.iter().map(move |f| (s, f)))
            .collect();
        listed.sort_by_key(|(_, f)| f.allowed);
        for (shard, failure) in listed.iter().take(MARKDOWN_FAILURES) {
            let _ = writeln!(
                out,
                "| {} | {} | `{}` | {} | `{}` |",
                shard_label(shard),
                failure.seed,
                failure.check,
                if failure.allowed { "yes" } else { "no" },
                failure.replay
            );
        }
        if listed.len() > MARKDOWN_FAILURES {
            let _ = writeln!(
                out,
                "\n{} more failing seeds are listed in the merged JSON.",
                listed.len() - MARKDOWN_FAILURES
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(start: u64, end: u64, shard: u64, shards: u64) -> SeedSet {
        SeedSet {
            start,
            end,
            shard,
            shards,
        }
    }

    fn seeds_of(s: &SeedSet) -> Vec<u64> {
        (0..).map_while(|i| s.nth(i)).collect()
    }

    #[test]
    fn the_first_common_seed_is_found_as_by_listing_both_sets() {
        let mut sets = Vec::new();
        for start in [0, 3, 7] {
            for end in [start + 1, start + 9, 30] {
                for shards in 1..5 {
                    for shard in 0..shards {
                        sets.push(set(start, end, shard, shards));
                    }
                }
            }
        }
        for a in &sets {
            let in_a = seeds_of(a);
            for b in &sets {
                let expected = seeds_of(b).into_iter().find(|s| in_a.contains(s));
                assert_eq!(first_common_seed(a, b), expected, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn shards_of_one_range_do_not_overlap_and_huge_sets_do_not_overflow() {
        let day = 100_000_000 * 20_000;
        let shards: Vec<SeedSet> = (0..4).map(|i| set(day, day + 100_000_000, i, 4)).collect();
        for (i, a) in shards.iter().enumerate() {
            for (j, b) in shards.iter().enumerate() {
                assert_eq!(first_common_seed(a, b).is_some(), i == j);
            }
        }
        let wide = set(0, u64::MAX, u64::MAX - 2, u64::MAX - 1);
        let other = set(0, u64::MAX, 5, u64::MAX - 3);
        assert_eq!(first_common_seed(&wide, &wide), Some(u64::MAX - 2));
        let common = first_common_seed(&wide, &other);
        assert!(common.is_none_or(|s| s % (u64::MAX - 1) == u64::MAX - 2));
    }

    #[test]
    fn failure_kinds_have_distinct_names() {
        use crate::failure::{FailureKind, WeakRule};
        use crate::shape::ShapeRule;
        use map_core::Invariant;
        let kinds = [
            FailureKind::WrongResult,
            FailureKind::WrongLen,
            FailureKind::WrongContents,
            FailureKind::DuplicateYield,
            FailureKind::AbsentYield,
            FailureKind::StaleValue,
            FailureKind::MissedEntry,
            FailureKind::Invariant(Invariant::Count),
            FailureKind::Invariant(Invariant::EmptyRest),
            FailureKind::Shape(ShapeRule::Trigger),
            FailureKind::Shape(ShapeRule::Churn),
            FailureKind::Panic,
        ]
        .into_iter()
        .chain(WeakRule::ALL.map(FailureKind::Weak))
        .collect::<Vec<_>>();
        let names: Vec<String> = kinds.iter().map(|k| k.name()).collect();
        for (i, name) in names.iter().enumerate() {
            assert!(!names[..i].contains(name), "{name} twice");
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b == b'-'
                    || b == b'/'),
                "{name}"
            );
        }
        assert_eq!(names[9], "shape/growth-trigger");
        assert_eq!(names[8], "invariant/empty-rest");
    }
}
