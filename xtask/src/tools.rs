//! The toolchains and cargo subcommands the automation needs: finding them, installing the missing.
//!
//! What was learned about cargo-fuzz on this project's machines (cargo-fuzz 0.13, Rust 1.95):
//!
//! - `cargo +nightly fuzz build` works with AddressSanitizer (its default, `-Zsanitizer=address`).
//! - `cargo fuzz build -s none` works on stable as it is: the coverage instrumentation
//!   (`-Cpasses=sancov-module`, `-Cllvm-args=-sanitizer-coverage-*`) and `--cfg fuzzing` are all
//!   stable flags, so neither `RUSTC_BOOTSTRAP` nor `-Zllvm-plugins` is needed.
//! - Without `-s none`, stable fails: cargo-fuzz passes `-Zsanitizer=address`.
//! - `RUSTC_BOOTSTRAP=1` makes stable accept `-Zsanitizer=address` too, but cargo caches rustc's
//!   answers in `<target-dir>/.rustc_info.json` without keying them on `RUSTC_BOOTSTRAP`: once a
//!   build without it has failed in a target directory, the same build with it keeps failing there.
//!   cargo-fuzz also treats any `RUSTC_BOOTSTRAP` as "nightly". So the stable mode removes it from
//!   the environment, and each mode builds in a target directory of its own.
//! - `-s none` and the sanitizer must be passed to `cargo fuzz run` as well as to `build`, or
//!   `run` rebuilds with ASan; the automation runs the built binaries directly instead.

use std::fmt;
use std::process::Command;

use crate::process::{run_inherit, stdout_of};

/// The cargo-fuzz release the automation installs when none is present.
pub const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// The cargo-mutants release the automation installs when none is present.
pub const CARGO_MUTANTS_VERSION: &str = "27.1.0";

/// Which toolchain a fuzz build asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ToolchainChoice {
    /// Nightly with AddressSanitizer when a nightly toolchain is installed and builds, else stable.
    Auto,
    /// The toolchain running this command, without a sanitizer (`-s none`).
    Stable,
    /// Nightly, with AddressSanitizer.
    Nightly,
}

/// How fuzz targets are built: one toolchain and one sanitizer setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuzzMode {
    /// The rustup toolchain named with `+toolchain`; `None` for the one running this command.
    pub toolchain: Option<String>,
    /// Whether AddressSanitizer is on (otherwise `-s none`).
    pub asan: bool,
}

impl FuzzMode {
    /// Stable (the toolchain running this command), no sanitizer.
    pub fn stable() -> Self {
        FuzzMode {
            toolchain: None,
            asan: false,
        }
    }

    /// Nightly with AddressSanitizer.
    pub fn nightly_asan() -> Self {
        FuzzMode {
            toolchain: Some("nightly".to_string()),
            asan: true,
        }
    }

    /// A short name, also used for this mode's target directory.
    pub fn slug(&self) -> String {
        let toolchain = self.toolchain.as_deref().unwrap_or("stable");
        let sanitizer = if self.asan { "asan" } else { "none" };
        format!("{toolchain}-{sanitizer}")
    }

    /// `cargo [+toolchain] fuzz`, with the environment this mode needs.
    pub fn cargo_fuzz(&self) -> Command {
        let mut cmd = Command::new("cargo");
        if let Some(toolchain) = &self.toolchain {
            cmd.arg(format!("+{toolchain}"));
        } else {
            // See the module comment: RUSTC_BOOTSTRAP would make cargo-fuzz ask for nightly flags.
            cmd.env_remove("RUSTC_BOOTSTRAP");
        }
        cmd.arg("fuzz");
        cmd
    }

    /// The `cargo fuzz build` arguments that select the sanitizer.
    pub fn sanitizer_args(&self) -> &'static [&'static str] {
        if self.asan {
            &["--sanitizer", "address"]
        } else {
            &["--sanitizer", "none"]
        }
    }
}

impl fmt::Display for FuzzMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.toolchain, self.asan) {
            (Some(t), true) => write!(f, "{t} toolchain with AddressSanitizer"),
            (Some(t), false) => write!(f, "{t} toolchain, no sanitizer"),
            (None, true) => write!(f, "current toolchain with AddressSanitizer"),
            (None, false) => write!(f, "current toolchain, no sanitizer (-s none)"),
        }
    }
}

/// The modes to try for a choice, best first: a build falls back to the next one if it fails.
pub fn candidate_modes(choice: ToolchainChoice) -> Vec<FuzzMode> {
    match choice {
        ToolchainChoice::Stable => vec![FuzzMode::stable()],
        ToolchainChoice::Nightly => vec![FuzzMode::nightly_asan()],
        ToolchainChoice::Auto if nightly_installed() => {
            vec![FuzzMode::nightly_asan(), FuzzMode::stable()]
        }
        ToolchainChoice::Auto => {
            eprintln!("no nightly toolchain installed: fuzzing on stable without a sanitizer");
            vec![FuzzMode::stable()]
        }
    }
}

/// Whether rustup has a nightly toolchain whose rustc runs. Never installs one: this machine's
/// network reaches crates.io but not the toolchain server.
pub fn nightly_installed() -> bool {
    stdout_of(Command::new("rustup").args(["run", "nightly", "rustc", "--version"]))
        .is_some_and(|v| v.contains("nightly"))
}

/// The host's target triple (`rustc -vV`), which cargo-fuzz builds for by default.
pub fn host_triple() -> Result<String, String> {
    let out = stdout_of(Command::new("rustc").arg("-vV")).ok_or("cannot run `rustc -vV`")?;
    out.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_string)
        .ok_or_else(|| "`rustc -vV` printed no host triple".to_string())
}

/// Makes `cargo <subcommand>` available, installing `krate` at `version` from crates.io if missing.
pub fn ensure_cargo_tool(subcommand: &str, krate: &str, version: &str) -> Result<(), String> {
    if stdout_of(Command::new("cargo").args([subcommand, "--version"])).is_some() {
        return Ok(());
    }
    eprintln!("`cargo {subcommand}` is missing: installing {krate} {version}");
    let status = run_inherit(Command::new("cargo").args([
        "install",
        krate,
        "--version",
        version,
        "--locked",
    ]))
    .map_err(|e| format!("cannot run cargo install: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`cargo install {krate} --version {version} --locked` failed ({status})"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_have_distinct_target_directories() {
        assert_eq!(FuzzMode::stable().slug(), "stable-none");
        assert_eq!(FuzzMode::nightly_asan().slug(), "nightly-asan");
    }

    #[test]
    fn stable_mode_drops_rustc_bootstrap_and_names_no_toolchain() {
        let cmd = FuzzMode::stable().cargo_fuzz();
        let args: Vec<_> = cmd.get_args().collect();
        assert_eq!(args, ["fuzz"]);
        assert!(cmd
            .get_envs()
            .any(|(k, v)| k == "RUSTC_BOOTSTRAP" && v.is_none()));
        let nightly = FuzzMode::nightly_asan().cargo_fuzz();
        assert_eq!(nightly.get_args().collect::<Vec<_>>(), ["+nightly", "fuzz"]);
    }

    #[test]
    fn explicit_choices_have_one_mode() {
        assert_eq!(
            candidate_modes(ToolchainChoice::Stable),
            [FuzzMode::stable()]
        );
        assert_eq!(
            candidate_modes(ToolchainChoice::Nightly),
            [FuzzMode::nightly_asan()]
        );
    }
}
