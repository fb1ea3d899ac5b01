//! The regression corpus `tests/regressions/*.trace`: every program there runs clean on the healthy
//! map, and, with the `faults` feature, every trace that injects a fault still fails (the harness
//! still detects the bug it once found), with the check its `# expect:` line names.

use sim::exec;
use tests::corpus::{self, Entry};

fn corpus() -> Vec<Entry> {
    let entries = corpus::load(&corpus::dir()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !entries.is_empty(),
        "no trace in {}",
        corpus::dir().display()
    );
    entries
}

/// Runs every entry through `check` and reports all the entries that broke it at once.
fn each(entries: &[Entry], check: impl Fn(&Entry) -> Result<(), String>) {
    let problems: Vec<String> = entries
        .iter()
        .filter_map(|entry| check(entry).err().map(|e| format!("{}: {e}", entry.name())))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn every_trace_runs_clean_without_its_fault() {
    each(&corpus(), |entry| {
        exec::run(&entry.healthy())
            .map(|_| ())
            .map_err(|failure| format!("fails on the healthy map:\n{failure}"))
    });
}

#[test]
fn clean_traces_name_no_expected_failure() {
    each(&corpus(), |entry| {
        match (&entry.program.config.fault, &entry.expect) {
            (None, Some(check)) => Err(format!(
                "`# expect: {check}` in a trace without a fault: the healthy map must pass it"
            )),
            _ => Ok(()),
        }
    });
}

#[cfg(feature = "faults")]
mod faults {
    use map_core::Fault;
    use sim::exec;

    use super::{corpus, each};

    #[test]
    fn every_fault_trace_still_fails_with_its_check() {
        let entries = corpus();
        let faulty: Vec<_> = entries
            .into_iter()
            .filter(|e| e.program.config.fault.is_some())
            .collect();
        each(&faulty, |entry| match exec::run(&entry.program) {
            Ok(_) => Err("runs clean: the fault is no longer detected".to_string()),
            Err(failure) => match &entry.expect {
                Some(check) if *check != failure.kind.describe() => Err(format!(
                    "fails, but not as `# expect: {check}` says:\n{failure}"
                )),
                _ => Ok(()),
            },
        });
    }

    #[test]
    fn every_fault_has_a_trace_that_names_its_check() {
        let entries = corpus();
        let missing: Vec<Fault> = Fault::ALL
            .into_iter()
            .filter(|&fault| {
                !entries
                    .iter()
                    .any(|e| e.program.config.fault == Some(fault) && e.expect.is_some())
            })
            .collect();
        assert!(
            missing.is_empty(),
            "no trace with `# expect:` in tests/regressions/ for {missing:?}; produce one with \
             `cargo run --release -p sim --features faults -- run --fault NAME`"
        );
    }
}
