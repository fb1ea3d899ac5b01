//! Running one libFuzzer binary and reading its report.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::process::run_logged;

/// How to run a fuzz binary once.
#[derive(Clone, Debug, Default)]
pub struct RunSpec {
    /// Corpus directories: libFuzzer reads all of them and adds new inputs to the first only.
    pub corpora: Vec<PathBuf>,
    /// Where a failing input is written (a directory; created if missing).
    pub artifacts: PathBuf,
    /// Stop after this long (`-max_total_time`); `None` with `runs = Some(0)` to only replay.
    pub max_total_time: Option<Duration>,
    /// Stop after this many new inputs (`-runs`); `Some(0)` replays the corpora and stops.
    pub runs: Option<u64>,
    /// The largest input to generate (`-max_len`).
    pub max_len: usize,
    /// libFuzzer's random seed (`-seed`); `None` for a fresh one each run.
    pub seed: Option<u64>,
    /// A libFuzzer dictionary (`-dict`).
    pub dict: Option<PathBuf>,
    /// Extra environment, such as the fault to inject.
    pub env: Vec<(String, String)>,
    /// Echo libFuzzer's output to the terminal as it runs.
    pub echo: bool,
}

/// How long one input may run before libFuzzer reports it as a timeout. The executor bounds
/// every cursor by a step budget, so a slow input is a finding, not noise.
const INPUT_TIMEOUT_SECS: u64 = 25;

/// What one run of a fuzz binary did.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The process exited with status 0: nothing found.
    pub clean: bool,
    /// libFuzzer's exit code, if it exited rather than being killed.
    pub exit_code: Option<i32>,
    /// Wall-clock time from start to exit, corpus loading included.
    pub elapsed: Duration,
    /// The input that failed, as libFuzzer wrote it.
    pub artifact: Option<PathBuf>,
    /// Inputs executed (`stat::number_of_executed_units`).
    pub executions: Option<u64>,
    /// The panic message: the failure and the program in trace format.
    pub panic_text: Option<String>,
    /// The full output.
    pub log: PathBuf,
}

impl Outcome {
    /// Executions per second over the whole run.
    pub fn exec_per_sec(&self) -> Option<f64> {
        let secs = self.elapsed.as_secs_f64();
        self.executions
            .filter(|_| secs > 0.0)
            .map(|n| n as f64 / secs)
    }
}

/// Runs `binary` as `spec` says, logging its output to `log`.
pub fn run(binary: &Path, spec: &RunSpec, log: &Path) -> Result<Outcome, String> {
    std::fs::create_dir_all(&spec.artifacts)
        .map_err(|e| format!("cannot create {}: {e}", spec.artifacts.display()))?;
    for corpus in &spec.corpora {
        std::fs::create_dir_all(corpus)
            .map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
    }
    let mut cmd = Command::new(binary);
    cmd.args(&spec.corpora);
    let mut prefix = OsString::from("-artifact_prefix=");
    // libFuzzer concatenates the prefix and the file name: the trailing slash makes it a directory.
    prefix.push(spec.artifacts.as_os_str());
    prefix.push("/");
    cmd.arg(prefix);
    if spec.max_len > 0 {
        cmd.arg(format!("-max_len={}", spec.max_len));
    }
    cmd.arg(format!("-timeout={INPUT_TIMEOUT_SECS}"));
    cmd.arg("-print_final_stats=1");
    if let Some(t) = spec.max_total_time {
        cmd.arg(format!("-max_total_time={}", t.as_secs().max(1)));
    }
    if let Some(runs) = spec.runs {
        cmd.arg(format!("-runs={runs}"));
    }
    if let Some(seed) = spec.seed {
        cmd.arg(format!("-seed={seed}"));
    }
    if let Some(dict) = &spec.dict {
        let mut arg = OsString::from("-dict=");
        arg.push(dict.as_os_str());
        cmd.arg(arg);
    }
    // cargo-fuzz sets this for ASan builds too: Rust's duplicated generic code trips ODR checks.
    cmd.env("ASAN_OPTIONS", asan_options());
    for (k, v) in &spec.env {
        cmd.env(k, v);
    }
    let done = run_logged(&mut cmd, log, spec.echo)
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    Ok(Outcome {
        clean: done.status.success(),
        exit_code: done.status.code(),
        elapsed: done.elapsed,
        artifact: artifact_path(&done.output),
        executions: stat(&done.output, "number_of_executed_units"),
        panic_text: panic_text(&done.output),
        log: log.to_path_buf(),
    })
}

fn asan_options() -> String {
    match std::env::var("ASAN_OPTIONS") {
        Ok(existing) if !existing.is_empty() => format!("{existing}:detect_odr_violation=0"),
        _ => "detect_odr_violation=0".to_string(),
    }
}

/// The path in libFuzzer's `Test unit written to PATH` line.
fn artifact_path(output: &str) -> Option<PathBuf> {
    output.lines().find_map(|l| {
        l.split_once("Test unit written to ")
            .map(|(_, p)| PathBuf::from(p.trim()))
    })
}

/// A `stat::NAME: VALUE` line of `-print_final_stats=1`.
fn stat(output: &str, name: &str) -> Option<u64> {
    let key = format!("stat::{name}:");
    output
        .lines()
        .find_map(|l| l.strip_prefix(&key).and_then(|v| v.trim().parse().ok()))
}

/// The text of the panic that stopped the run, from `panicked at` up to libFuzzer's own report.
fn panic_text(output: &str) -> Option<String> {
    let lines: Vec<&str> = output.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("thread '") && l.contains(" panicked at "))?;
    let end = lines[start..]
        .iter()
        .position(|l| {
            l.starts_with("==")
                || l.starts_with("stack backtrace:")
                || l.starts_with("note: run with")
        })
        .map_or(lines.len(), |n| start + n);
    Some(lines[start..end].join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRASH: &str = "\
INFO: Seed: 1424508307
thread '<unnamed>' (10895) panicked at fuzz/fuzz_targets/corruption.rs:9:5:
failure at step 3: `remove 7`
  check:    wrong result
stack backtrace:
==10895== ERROR: libFuzzer: deadly signal
artifact_prefix='art/'; Test unit written to art/crash-494f3efbd1f5
Base64: RlVaVA==
stat::number_of_executed_units: 43607
stat::average_exec_per_sec:     0
";

    #[test]
    fn a_crash_report_is_read() {
        assert_eq!(
            artifact_path(CRASH),
            Some(PathBuf::from("art/crash-494f3efbd1f5"))
        );
        assert_eq!(stat(CRASH, "number_of_executed_units"), Some(43607));
        assert_eq!(stat(CRASH, "average_exec_per_sec"), Some(0));
        let text = panic_text(CRASH).unwrap();
        assert!(text.starts_with("thread '<unnamed>'"), "{text}");
        assert!(text.ends_with("check:    wrong result"), "{text}");
    }

    #[test]
    fn a_clean_report_has_no_artifact_or_panic() {
        let clean =
            "#4\tDONE   cov: 11\nDone 4 runs in 0 second(s)\nstat::number_of_executed_units: 4\n";
        assert_eq!(artifact_path(clean), None);
        assert_eq!(panic_text(clean), None);
        assert_eq!(stat(clean, "number_of_executed_units"), Some(4));
    }

    #[test]
    fn exec_rate_is_over_the_whole_run() {
        let outcome = Outcome {
            clean: true,
            exit_code: Some(0),
            elapsed: Duration::from_secs(4),
            artifact: None,
            executions: Some(1000),
            panic_text: None,
            log: PathBuf::new(),
        };
        assert_eq!(outcome.exec_per_sec(), Some(250.0));
    }
}
