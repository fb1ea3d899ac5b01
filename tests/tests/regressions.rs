//! The regression corpus `tests/regressions/*.trace`: every program there runs clean on the healthy
//! map, and, with the `faults` feature, every trace that injects a fault still fails (the harness
//! still detects the bug it once found), with the check its `# expect:` line names. A finding on
//! another target (Go's runtime map) still fails there, where that target can run.

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
    let not_findings: Vec<Entry> = corpus().into_iter().filter(|e| !e.is_finding()).collect();
    each(&not_findings, |entry| {
        exec::run(&entry.healthy())
            .map(|_| ())
            .map_err(|failure| format!("fails on the healthy map:\n{failure}"))
    });
}

#[test]
fn clean_traces_name_no_expected_failure() {
    each(&corpus(), |entry| {
        match (&entry.program.config.fault, &entry.expect) {
            (None, Some(check)) if !entry.is_finding() => Err(format!(
                "`# expect: {check}` in a map-core trace without a fault: the healthy map must \
                 pass it"
            )),
            _ => Ok(()),
        }
    });
}

#[test]
fn every_finding_on_another_target_still_fails_there() {
    let findings: Vec<Entry> = corpus().into_iter().filter(Entry::is_finding).collect();
    each(&findings, |entry| {
        let target = match sim::target::lookup(&entry.program.config.target) {
            Ok(target) => target,
            Err(why) => {
                println!("skipped {}: {why}", entry.name());
                return Ok(());
            }
        };
        if let Err(why) = (target.check_available)(target) {
            println!(
                "skipped {}: target {} cannot run here: {why}",
                entry.name(),
                target.name
            );
            return Ok(());
        }
        let tries = if target.capabilities.deterministic {
            1
        } else {
            corpus::FINDING_TRIES
        };
        let expect = entry.expect.as_deref().unwrap_or_default();
        let mut other = None;
        for _ in 0..tries {
            match exec::run(&entry.program) {
                Err(failure) if failure.kind.describe() == expect => return Ok(()),
                Err(failure) => other = Some(failure),
                Ok(_) => {}
            }
        }
        Err(match other {
            Some(failure) => format!(
                "never failed with `{expect}` in {tries} runs on {}; once:\n{failure}",
                target.name
            ),
            None => format!(
                "ran clean {tries} times on {}: the finding no longer reproduces",
                target.name
            ),
        })
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
