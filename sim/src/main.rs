//! The `sim` command: run seeds, replay and shrink traces (see `sim --help`).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
