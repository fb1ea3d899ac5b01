//! Fuzz targets decode bytes into a `Program` with `arbitrary`: every decoded program must be
//! valid and runnable, whatever the bytes. Run with `--features arbitrary`.
#![cfg(feature = "arbitrary")]

use arbitrary::{Arbitrary, Unstructured};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sim::exec;
use sim::program::Program;

#[test]
fn decoded_programs_are_valid_and_run_clean() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut decoded = 0;
    for len in (0..300).map(|i| i * 7) {
        let bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        let Ok(program) = Program::arbitrary(&mut Unstructured::new(&bytes)) else {
            continue;
        };
        decoded += 1;
        assert_eq!(program.config.validate(), Ok(()));
        assert_eq!(program.config.fault, None);
        if let Err(failure) = exec::run(&program) {
            panic!(
                "decoded program fails on the healthy map:\n{failure}\n{}",
                sim::trace::print(&program)
            );
        }
    }
    assert!(decoded > 250, "only {decoded} of 300 byte strings decoded");
}
