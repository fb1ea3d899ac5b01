//! `baseline`: the measuring stick for the other targets' speed, not a test.
//!
//! It is built exactly as they are (same crate, toolchain, sanitizer and coverage
//! instrumentation) and links the same code, but runs none of it: so its exec/s is what
//! libFuzzer's own loop costs for a binary of this size (mutating the input, calling the target,
//! scanning every coverage counter after each run). `cargo xtask fuzz-speed` runs it beside the
//! real targets; it has no fault class and no corpus, and `fuzz-faults`, `fuzz-corpus` and
//! `nightly` leave it out.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sim::fuzz_input::{fuzz_one, Target};

fuzz_target!(|data: &[u8]| {
    // Never true, but the compiler cannot know: the targets' code stays in the binary, with its
    // coverage counters, which libFuzzer scans after every input whether they were hit or not.
    if std::hint::black_box(data.len() == usize::MAX) {
        fuzz_one(Target::Differential, data);
        fuzz_one(Target::DuplicateYield, data);
        fuzz_one(Target::Corruption, data);
    }
});
