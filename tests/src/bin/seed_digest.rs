//! `seed-digest START END [FAULT]`: for every seed in `START..END`, one line with the hash of its
//! program's trace and of its run's result (see `tests::digest`). The determinism test runs it
//! in two processes and compares the output byte for byte.
//!
//! Exit codes: 0 printed, 2 bad usage (the message says what was expected).

use std::process::ExitCode;

use map_core::Fault;

const USAGE: &str = "usage: seed-digest START END [FAULT]  (seeds START..END, END exclusive; \
                     FAULT is a map-core fault name and needs the `faults` feature)";

fn parse(args: &[String]) -> Result<(u64, u64, Option<Fault>), String> {
    let (start, end, fault) = match args {
        [start, end] => (start, end, None),
        [start, end, fault] => (start, end, Some(fault)),
        _ => return Err(format!("expected 2 or 3 arguments, found {}", args.len())),
    };
    let seed = |text: &String| {
        text.parse::<u64>()
            .map_err(|_| format!("`{text}` is not a seed (a u64)"))
    };
    let (start, end) = (seed(start)?, seed(end)?);
    if start > end {
        return Err(format!("START {start} is above END {end}"));
    }
    let fault = match fault {
        None => None,
        Some(name) => {
            let fault = name.parse::<Fault>().map_err(|e| e.to_string())?;
            if sim::exec::check_runnable(&sim::runner::program_for(start, Some(fault))).is_err() {
                return Err(format!(
                    "fault `{fault}` needs the `faults` feature (cargo run -p tests --features faults --bin seed-digest)"
                ));
            }
            Some(fault)
        }
    };
    Ok((start, end, fault))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args) {
        Ok((start, end, fault)) => {
            print!("{}", tests::digest::seed_lines(start, end, fault));
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("error: {why}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
