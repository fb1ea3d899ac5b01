//! `sim run --processes N`: the seeds in N processes of one job each, instead of N threads of one
//! process.
//!
//! For a map whose threads slow each other down even on maps of their own: papaya's reclamation
//! (seize) issues a process-wide memory barrier (`membarrier`) for every batch of retired
//! entries, which interrupts every core running a thread of the process, so two jobs of one
//! process stop each other about thirteen times a seed. Processes do not share that barrier.
//!
//! Each process is this same `sim run`, with `--jobs 1`, a shard of the parent's seeds
//! (`--shard`, composed with the parent's own) and `--json` into a scratch file. Their reports
//! are printed whole, one after another in shard order, then the total; `--json` gets their
//! merged summary, as `sim merge` makes it. Without `--keep-going` each process stops at its own
//! first failure, as one `sim run` of its shard would; none is stopped from outside, since one
//! stopped between finding a failure and saving it would lose it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use sim::results::{self, Summary};

use super::args::Shard;
use super::{Outcome, UsageError};

/// The flags a process gets from the parent instead of the user's: each is dropped from the
/// user's command line (with its value) before the process's own are added.
const REPLACED: [&str; 4] = ["--processes", "--jobs", "--shard", "--json"];

/// One process of the run.
struct Process {
    shard: Shard,
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
    json: PathBuf,
    /// The exit code, once it exited.
    exit: Option<i32>,
}

/// The user's `sim run` arguments (after `run`) without the flags the processes get their own of.
fn passed_on(args: &[OsString]) -> Vec<OsString> {
    let mut kept = Vec::new();
    let mut skip_value = false;
    for arg in args {
        if std::mem::take(&mut skip_value) {
            continue;
        }
        let text = arg.to_string_lossy();
        match REPLACED.iter().find(|flag| text.starts_with(*flag)) {
            Some(flag) if text.len() == flag.len() => skip_value = true,
            Some(flag) if text[flag.len()..].starts_with('=') => {}
            _ => kept.push(arg.clone()),
        }
    }
    kept
}

/// The shard of the parent's seeds that process `i` of `n` runs: the parent's shard `s` of `S`
/// cut `n` ways is shard `s + i * S` of `n * S`, since shard `j` of `m` is the seeds at offsets
/// `k * m + j` of the range.
fn shard_of(parent: Shard, i: u64, n: u64) -> Shard {
    Shard {
        index: parent.index + i * parent.count,
        count: parent.count * n,
    }
}

/// Runs `sim run` (arguments `run_args`, the ones after `run`) as `processes` processes.
pub fn run(
    run_args: &[OsString],
    processes: u64,
    parent: Shard,
    json: Option<&Path>,
) -> Result<Outcome, UsageError> {
    let exe = std::env::current_exe()
        .map_err(|e| UsageError(format!("--processes: cannot find sim's own binary: {e}")))?;
    let scratch = std::env::temp_dir().join(format!("sim-processes-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .map_err(|e| UsageError(format!("--processes: {}: {e}", scratch.display())))?;
    let started = Instant::now();
    let kept = passed_on(run_args);
    let mut running = Vec::new();
    for i in 0..processes {
        let shard = shard_of(parent, i, processes);
        let stdout = scratch.join(format!("process-{i}.out"));
        let stderr = scratch.join(format!("process-{i}.err"));
        let json = scratch.join(format!("process-{i}.json"));
        let open = |path: &Path| {
            std::fs::File::create(path)
                .map_err(|e| UsageError(format!("--processes: {}: {e}", path.display())))
        };
        let child = Command::new(&exe)
            .arg("run")
            .args(&kept)
            .args(["--jobs", "1", "--shard"])
            .arg(format!("{}/{}", shard.index, shard.count))
            .arg("--json")
            .arg(&json)
            .stdin(Stdio::null())
            .stdout(open(&stdout)?)
            .stderr(open(&stderr)?)
            .spawn()
            .map_err(|e| UsageError(format!("--processes: cannot start {}: {e}", exe.display())))?;
        running.push(Process {
            shard,
            child,
            stdout,
            stderr,
            json,
            exit: None,
        });
    }
    wait_all(&mut running);
    let secs = started.elapsed().as_secs_f64();

    let mut summaries = Vec::new();
    let mut worst = 0;
    for process in &running {
        let Shard { index, count } = process.shard;
        println!("== process {index}/{count} (--shard {index}/{count} --jobs 1)");
        print!(
            "{}",
            std::fs::read_to_string(&process.stdout).unwrap_or_default()
        );
        eprint!(
            "{}",
            std::fs::read_to_string(&process.stderr).unwrap_or_default()
        );
        let code = process.exit.unwrap_or(2);
        worst = worst.max(code);
        if let Ok(summary) = read_summary(&process.json) {
            summaries.push((process.json.display().to_string(), summary));
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    if worst >= 2 || summaries.is_empty() {
        return Err(UsageError(format!(
            "--processes: a process exited {worst} (its message is above)"
        )));
    }
    let merged = results::merge(super::results::command_line(), summaries).map_err(UsageError)?;
    print_total(&merged, processes, secs);
    if let Some(path) = json {
        super::results::write(path, &merged)?;
    }
    Ok(if worst == 1 {
        Outcome::BugFound
    } else {
        Outcome::Clean
    })
}

/// Waits for every process to exit.
fn wait_all(running: &mut [Process]) {
    for process in running.iter_mut() {
        process.exit = Some(match process.child.wait() {
            Ok(status) => status.code().unwrap_or(2),
            Err(_) => 2,
        });
    }
}

fn read_summary(path: &Path) -> Result<Summary, String> {
    let (_, value) = results::read_versioned(path)?;
    results::decode(path, value)
}

/// The line that adds the processes up: seeds, ops and ops/s over the parent's wall time.
fn print_total(merged: &Summary, processes: u64, secs: f64) {
    let seeds: u64 = merged.shards.iter().map(|s| s.seeds_run).sum();
    let ops: u64 = merged.shards.iter().filter_map(|s| s.ops).sum();
    let rate = if secs > 0.0 { ops as f64 / secs } else { 0.0 };
    let failing = merged.shards.iter().filter(|s| s.exit_code != 0).count();
    let found = match failing {
        0 => "no failure found".to_string(),
        n => format!("{n} of them found a failure (above)"),
    };
    println!(
        "sim run: {processes} processes together: {seeds} seeds ran, {ops} ops checked \
         ({rate:.0} ops/s), {secs:.1} s; {found}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn a_process_gets_the_users_flags_but_its_own_jobs_shard_and_json() {
        let kept = passed_on(&os(&[
            "--target",
            "papaya",
            "--processes",
            "2",
            "--jobs=4",
            "--shard",
            "1/3",
            "--json",
            "out.json",
            "--keep-going",
            "--jsonl-like-but-not",
        ]));
        assert_eq!(
            kept,
            os(&["--target", "papaya", "--keep-going", "--jsonl-like-but-not"])
        );
    }

    #[test]
    fn the_processes_shards_cut_the_parents_shard_and_nothing_else() {
        let parent = Shard { index: 1, count: 3 };
        let (start, end) = (10u64, 100u64);
        let parents: Vec<u64> = (start..end).skip(1).step_by(3).collect();
        let mut covered: Vec<u64> = (0..2)
            .flat_map(|i| {
                let shard = shard_of(parent, i, 2);
                (start..end)
                    .skip(shard.index as usize)
                    .step_by(shard.count as usize)
            })
            .collect();
        covered.sort_unstable();
        assert_eq!(covered, parents);
    }
}
