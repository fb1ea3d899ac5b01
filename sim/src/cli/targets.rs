//! `sim targets`: the maps sim can check, and what each supports.

use sim::target;
use sim::target::go::toolchain;

use super::{Outcome, UsageError, EXIT_CODES};

/// List the targets: name, what each supports beyond plain ops, and whether it can run here.
#[derive(clap::Args, Debug)]
#[command(after_help = EXIT_CODES)]
pub struct Args {
    /// Also check that each target can run on this machine (builds and starts a driver).
    #[arg(long)]
    check: bool,
}

pub fn run(args: Args) -> Result<Outcome, UsageError> {
    println!("{:<19} {:<70} supports", "target", "what");
    for t in target::builtin() {
        let mut supports = vec!["plain ops"];
        supports.extend(t.capabilities.names());
        // Concurrent mode (`--threads`): the built-in concurrent forms, and sync.Map's from Go 1.23.
        if sim::concurrent::builtin().iter().any(|c| c.name == t.name) {
            supports.push("threads");
        } else if matches!(
            target::go::parse(t.name),
            Some((target::go::MapKind::Sync, ..))
        ) {
            supports.push("threads (Go 1.23+)");
        }
        println!("{:<19} {:<70} {}", t.name, t.about, supports.join(", "));
        if args.check {
            match (t.check_available)(t) {
                Ok(()) => println!("{:<19} available here", ""),
                Err(e) => println!("{:<19} NOT available here: {e}", ""),
            }
        }
    }
    if !target::concurrent_maps::BUILT {
        let feature = target::concurrent_maps::FEATURE;
        for (name, about) in target::concurrent_maps::TARGETS {
            println!("{name:<14} {about:<66} not built in: needs --features {feature}");
        }
    }
    println!();
    print_go_toolchains();
    println!();
    println!("use one with: sim run --target NAME, sim replay --target NAME FILE, SIM_TARGET=NAME cargo test -p tests --test property");
    Ok(Outcome::Clean)
}

/// The Go toolchains found (PATH and /usr/lib/go-*), each with the names that run on it.
fn print_go_toolchains() {
    let on_path = toolchain::on_path().ok();
    let installed = toolchain::installed();
    if installed.is_empty() {
        println!(
            "Go toolchains: none found (on PATH or in /usr/lib/go-*); the go targets need one"
        );
        return;
    }
    println!("Go toolchains found (go@VERSION, go-natural@VERSION, go-sync-map@VERSION run on one; go@1.NN picks the newest 1.NN):");
    for t in installed {
        let family = match t.family() {
            Ok(toolchain::Family::Classic) => "classic map".to_string(),
            Ok(toolchain::Family::Swiss) => "swiss-table map".to_string(),
            Err(e) => format!("unsupported: {e}"),
        };
        let path_mark = if on_path.as_ref() == Some(t) {
            ", the `go` on PATH"
        } else {
            ""
        };
        println!(
            "  go@{:<10} {:<32} {family}{path_mark}",
            t.number(),
            t.go.display()
        );
    }
}
