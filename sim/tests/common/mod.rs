//! What the tests of the `sim` binary share: running it, and reading its exit code.

use std::process::{Command, Output};

/// Runs the `sim` binary this test was built with on `args`.
pub fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .output()
        .expect("sim runs")
}

/// The exit code of a `sim` that exited (not killed by a signal).
pub fn code(output: &Output) -> i32 {
    output.status.code().expect("exited normally")
}
