//! The `sim` command: run seeds, replay and shrink traces (see `sim --help`).

mod cli;

/// mimalloc rather than the system's malloc: papaya and flurry allocate a node per insert and
/// free it through their reclaimers, and the system allocator took about a fifth of a flurry
/// run's samples (BENCHMARKS.md, "Concurrent-map targets"). Nothing a seed replays depends on
/// addresses, so the allocator changes timings only.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
