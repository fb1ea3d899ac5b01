//! What the tests of the `sim` binary share: running it, reading its exit code, and the
//! targets of the tests that need an outside tool (Go, a JDK). Not every test binary uses every
//! item, hence the `dead_code` allowances.

use std::process::{Command, Output};

use sim::op::Op;
use sim::program::{Config, Program};
use sim::target::{self, TargetInfo};

/// Runs the `sim` binary this test was built with on `args`.
#[allow(dead_code)]
pub fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .output()
        .expect("sim runs")
}

/// The exit code of a `sim` that exited (not killed by a signal).
#[allow(dead_code)]
pub fn code(output: &Output) -> i32 {
    output.status.code().expect("exited normally")
}

/// The built-in target `name`, built and started once; `None`, after saying why `test` skips,
/// when it cannot run here (its tool is missing).
#[allow(dead_code)]
pub fn runnable_target(name: &str, test: &str) -> Option<&'static TargetInfo> {
    let info = target::lookup(name).unwrap_or_else(|e| panic!("`{name}`: {e}"));
    match (info.check_available)(info) {
        Ok(()) => Some(info),
        Err(why) => {
            eprintln!("{test}: skipped: {why}");
            None
        }
    }
}

/// A program of `ops` for the target `name`, with the default configuration otherwise.
#[allow(dead_code)]
pub fn program_on(name: &str, ops: Vec<Op>) -> Program {
    let config = Config {
        target: name.to_string(),
        ..Config::default()
    };
    Program::new(config, ops)
}
