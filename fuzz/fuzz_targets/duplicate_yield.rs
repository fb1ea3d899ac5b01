//! `duplicate_yield`: see `sim::fuzz_input::Target::DuplicateYield` for what it generates and checks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sim::fuzz_input::{fuzz_one, init, Target};

fuzz_target!(init: init(), |data: &[u8]| fuzz_one(Target::DuplicateYield, data));
