//! `sim export`: a trace as a standalone reproducer, a Go program or a map-core test.

use std::fs;
use std::path::{Path, PathBuf};

use sim::target::{self, Contract};
use sim::{export, trace};

use super::{Outcome, UsageError, EXIT_CODES};

/// The language of the reproducer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// One standalone `main.go` on Go's runtime map (standard library only, Go 1.19+).
    Go,
    /// A `#[test]` for `map-core/tests/` on map-core's public API.
    Rust,
}

/// Turn a trace into a standalone reproducer: a Go program or a Rust test of map-core.
#[derive(clap::Args, Debug)]
#[command(after_help = EXIT_CODES)]
pub struct Args {
    /// The trace.
    file: PathBuf,
    /// `go`: a `main.go` that runs the ops on a Go map `-runs N` times and checks every answer
    /// by sim's rules (force-grow, force-same-size-grow, evacuate-step and audit are skipped;
    /// the Rust-API ops run as near as a Go map allows: `index` cannot panic in Go and `eq`
    /// compares contents, for Go has no `==` on maps); `rust`: a test for `map-core/tests/`
    /// with the trace's seed and hasher, every op on map-core's public API, checked the same way.
    #[arg(long, value_enum)]
    lang: Lang,
    /// Where to write it: default FILE with its extension replaced by `.go` or `.rs`; `-` for
    /// stdout.
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    /// `rust` only: write `include!("PATH")` in place of the checker, PATH leading from the
    /// test's directory to sim's `sim/src/export/rust_checker.rs`, for a test kept in this
    /// workspace (map-core's `tests/exported_trace.rs` is written with
    /// `--include-checker ../../sim/src/export/rust_checker.rs`).
    #[arg(long, value_name = "PATH")]
    include_checker: Option<String>,
}

pub fn run(args: Args) -> Result<Outcome, UsageError> {
    let text = fs::read_to_string(&args.file)
        .map_err(|e| UsageError(format!("cannot read trace {}: {e}", args.file.display())))?;
    let program = trace::parse(&text)
        .map_err(|e| UsageError(format!("malformed trace {}: {e}", args.file.display())))?;
    // Not `exec::check_runnable`: the reproducer injects no fault and names no sim target, so a
    // fault trace exports in any build; only the config itself must make sense.
    program
        .config
        .validate()
        .map_err(|e| UsageError(format!("malformed trace {}: {e}", args.file.display())))?;
    // The exports judge Go's plain map or map-core by §2; a trace of a §7 target would be judged
    // by rules its map never promised.
    if let Ok(info) = target::lookup(&program.config.target) {
        if let Contract::Weak(_) = info.capabilities.contract {
            return Err(UsageError(format!(
                "trace {} is of target `{}`, whose cursors promise §7 (weakly consistent), but \
                 an export runs on Go's plain map or map-core and judges by §2; replay it with \
                 `sim replay {}`",
                args.file.display(),
                info.name,
                args.file.display()
            )));
        }
    }
    let (code, extension) = match (args.lang, &args.include_checker) {
        (Lang::Go, Some(_)) => {
            return Err(UsageError(
                "--include-checker goes with --lang rust: a Go export has no Rust checker"
                    .to_string(),
            ))
        }
        (Lang::Go, None) => (export::to_go(&program), "go"),
        (Lang::Rust, None) => (export::to_rust(&program, &test_name(&args.file)), "rs"),
        (Lang::Rust, Some(path)) => (
            export::to_rust_including_checker(&program, &test_name(&args.file), path),
            "rs",
        ),
    };
    let out = args
        .out
        .unwrap_or_else(|| args.file.with_extension(extension));
    if out == Path::new("-") {
        print!("{code}");
        return Ok(Outcome::Clean);
    }
    fs::write(&out, code)
        .map_err(|e| UsageError(format!("cannot write {}: {e}", out.display())))?;
    let how = match args.lang {
        Lang::Go => format!("run it with `go run {}`", out.display()),
        Lang::Rust => "put it in map-core/tests/ and run `cargo test -p map-core`".to_string(),
    };
    println!(
        "exported {} ({} ops) to {}: {how}",
        args.file.display(),
        program.ops.len(),
        out.display()
    );
    Ok(Outcome::Clean)
}

/// The test's name: the trace's file stem as a Rust identifier
/// (`clean-cursors-across-two-growths.trace` -> `clean_cursors_across_two_growths`).
fn test_name(file: &Path) -> String {
    let stem = file
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    match name.chars().next() {
        Some(first) if !first.is_ascii_digit() => name,
        _ => format!("trace_{name}"),
    }
}
