//! A streamed run (the generator's ops checked as they are drawn, never stored) is the run of the
//! stored program: the same statistics when it passes, and a failure exactly when the stored
//! program fails.

use sim::exec;
use sim::gen::Drawing;
use sim::op::{Op, OpSink, OpSource};
use sim::runner::{program_on, run_streamed};
use sim::target;

#[test]
fn a_streamed_run_gives_the_statistics_of_the_stored_program() {
    let target = target::default_target();
    for seed in 0..300 {
        let stored = exec::run_on(&program_on(seed, target, None), target, None);
        let stored = stored.unwrap_or_else(|f| panic!("seed {seed} fails: {f:?}"));
        assert_eq!(
            run_streamed(seed, target, None),
            Some(stored),
            "seed {seed}"
        );
    }
}

/// Counts the ops it is given, and keeps them.
struct Recorder(Vec<Op>);

impl OpSink for Recorder {
    fn push(&mut self, op: Op) {
        self.0.push(op);
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

#[test]
fn a_drawing_streams_exactly_the_ops_of_its_program() {
    let target = target::default_target();
    for seed in 0..200 {
        let mut sink = Recorder(Vec::new());
        Drawing::for_seed(seed, target).draw_into(&mut sink);
        let program = Drawing::for_seed(seed, target).program();
        assert_eq!(sink.0, program.ops, "seed {seed}");
        assert_eq!(sink.0.len(), program.config.len as usize, "seed {seed}");
    }
}

#[test]
fn targets_other_than_map_core_do_not_stream() {
    let std_map = target::lookup("std-hash-map").expect("a built-in target");
    assert!(!exec::can_stream(std_map));
    assert_eq!(run_streamed(0, std_map, None), None);
    assert!(exec::can_stream(target::default_target()));
}

#[cfg(feature = "faults")]
#[test]
fn a_streamed_run_fails_exactly_when_the_stored_program_fails() {
    let target = target::default_target();
    let mut failed = 0;
    for fault in map_core::Fault::ALL {
        for seed in 0..40 {
            let stored = exec::run_on(&program_on(seed, target, Some(fault)), target, None);
            let streamed = run_streamed(seed, target, Some(fault));
            assert_eq!(
                streamed,
                stored.as_ref().ok().copied(),
                "{fault} seed {seed}"
            );
            failed += u64::from(stored.is_err());
        }
    }
    assert!(failed > 0, "no fault made a program fail");
}
