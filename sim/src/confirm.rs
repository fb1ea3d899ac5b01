//! Confirming a failure of the seeded Go target on Go's unmodified runtime: the program is
//! exported as a standalone Go program ([`crate::export::to_go`]), built with the same
//! toolchain, and run `-runs N` times, each time on a new map with the runtime's own randomness.
//! The rate it reports is how often a real Go program doing these ops would see the bug.

use std::path::PathBuf;

use crate::export;
use crate::program::Program;
use crate::target::go::{self, build, toolchain::clean_go_command};

/// How many runs of the exported program confirm a seeded failure by default.
pub const CONFIRM_RUNS: u32 = 10_000;

/// What the unmodified runtime did with a program's export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NaturalRate {
    /// The toolchain's version, such as `go1.19.8`.
    pub version: String,
    /// Runs that broke a rule.
    pub failed: u64,
    /// Runs made.
    pub runs: u64,
}

impl std::fmt::Display for NaturalRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.failed == 0 {
            write!(
                f,
                "never failed in {} runs of its export on the unmodified runtime ({})",
                self.runs, self.version
            )
        } else {
            write!(
                f,
                "failed {} of {} runs of its export on the unmodified runtime ({})",
                self.failed, self.runs, self.version
            )
        }
    }
}

/// Exports `program` (which names a Go target), builds it with that target's toolchain and runs
/// it `runs` times; `Err` says why it could not be run (not whether it failed).
pub fn natural_rate(program: &Program, runs: u32) -> Result<NaturalRate, String> {
    let resolved = go::resolve(&program.config.target)
        .ok_or_else(|| format!("`{}` is not a Go target", program.config.target))??;
    let toolchain = &resolved.toolchain;
    let dir = build::target_dir().join("sim-drivers").join(format!(
        "confirm-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let result = run_in(&dir, program, toolchain, runs);
    let _ = std::fs::remove_dir_all(&dir);
    result.map(|(failed, runs)| NaturalRate {
        version: toolchain.version.clone(),
        failed,
        runs,
    })
}

fn run_in(
    dir: &PathBuf,
    program: &Program,
    toolchain: &go::toolchain::Toolchain,
    runs: u32,
) -> Result<(u64, u64), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let source = dir.join("main.go");
    std::fs::write(&source, export::to_go(program))
        .map_err(|e| format!("cannot write {}: {e}", source.display()))?;
    let binary = dir.join("repro");
    let mut command = clean_go_command(&toolchain.go);
    command
        .args(["build", "-o"])
        .arg(&binary)
        .arg("main.go")
        .current_dir(dir);
    build::set_cache(&mut command);
    let built = command
        .output()
        .map_err(|e| format!("cannot run {}: {e}", toolchain.go.display()))?;
    if !built.status.success() {
        return Err(format!(
            "the export did not build with {}: {}",
            toolchain.version,
            String::from_utf8_lossy(&built.stderr).trim()
        ));
    }
    let ran = std::process::Command::new(&binary)
        .arg(format!("-runs={runs}"))
        .output()
        .map_err(|e| format!("cannot run the export: {e}"))?;
    let stdout = String::from_utf8_lossy(&ran.stdout);
    parse_summary(&stdout).ok_or_else(|| {
        format!(
            "the export ended ({}) without its summary line: {}{}",
            ran.status,
            stdout.trim(),
            String::from_utf8_lossy(&ran.stderr).trim()
        )
    })
}

/// Reads the export's last line: `FAIL: X of N runs broke a rule (...)` or
/// `ok: all N runs kept every rule (...)`.
pub fn parse_summary(stdout: &str) -> Option<(u64, u64)> {
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty())?;
    let words: Vec<&str> = last.split_whitespace().collect();
    match words.as_slice() {
        ["FAIL:", failed, "of", runs, "runs", ..] => {
            Some((failed.parse().ok()?, runs.parse().ok()?))
        }
        ["ok:", "all", runs, "runs", ..] => Some((0, runs.parse().ok()?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_export_summary_line_gives_the_rate() {
        let out = "run 3: ...\nFAIL: 17 of 10000 runs broke a rule (go1.19.8 linux/amd64)\n";
        assert_eq!(parse_summary(out), Some((17, 10000)));
        assert_eq!(
            parse_summary("ok: all 100 runs kept every rule (go1.27.4 linux/amd64)\n"),
            Some((0, 100))
        );
        assert_eq!(parse_summary("panic: oops\n"), None);
    }
}
