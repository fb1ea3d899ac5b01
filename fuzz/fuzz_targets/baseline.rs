//! `baseline`: the measuring stick for the other targets' speed, not a test.
//!
//! It is built exactly as they are (same crate, toolchain, sanitizer and coverage
//! instrumentation) but does next to nothing with its input, so its exec/s is what libFuzzer's
//! own loop (mutation, running, reading the coverage counters) costs on this machine.
//! `cargo xtask fuzz-speed` runs it beside the real targets; it has no fault class and no corpus,
//! and `fuzz-faults`, `fuzz-corpus` and `nightly` leave it out.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // One pass over the bytes, kept from being optimized away: the least work an input can cause.
    let sum = data.iter().fold(0u8, |acc, &b| acc.wrapping_add(b));
    std::hint::black_box(sum);
});
