//! `sim targets`: the maps sim can check, and what each supports.

use sim::target;

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
    println!("{:<14} {:<66} supports", "target", "what");
    for t in target::builtin() {
        let mut supports = vec!["plain ops"];
        supports.extend(t.capabilities.names());
        println!("{:<14} {:<66} {}", t.name, t.about, supports.join(", "));
        if args.check {
            match (t.check_available)() {
                Ok(()) => println!("{:<14} available here", ""),
                Err(e) => println!("{:<14} NOT available here: {e}", ""),
            }
        }
    }
    println!();
    println!("use one with: sim run --target NAME, sim replay --target NAME FILE, SIM_TARGET=NAME cargo test -p tests --test property");
    Ok(Outcome::Clean)
}
