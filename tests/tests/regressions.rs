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

/// The target `name`, when it can run here; `None` (with the reason printed) when it cannot, as
/// for a Go release not installed on this machine (`.ci/install-go` installs them).
fn runnable(entry: &Entry, name: &str) -> Option<&'static sim::target::TargetInfo> {
    let target = match sim::target::lookup(name) {
        Ok(target) => target,
        Err(why) => {
            println!("skipped {} on {name}: {why}", entry.name());
            return None;
        }
    };
    if let Err(why) = (target.check_available)(target) {
        println!(
            "skipped {} on {name}: it cannot run here: {why}",
            entry.name()
        );
        return None;
    }
    Some(target)
}

/// The finding's program on `target`, run as often as that target needs (once when it is
/// deterministic, else up to [`corpus::FINDING_TRIES`], stopping at the expected failure): the
/// runs made and the failures seen.
fn run_on(entry: &Entry, target: &sim::target::TargetInfo) -> (usize, Vec<exec::Failure>) {
    let mut program = entry.program.clone();
    program.config.target = target.name.to_string();
    let tries = if target.capabilities.deterministic {
        1
    } else {
        corpus::FINDING_TRIES
    };
    let expect = entry.expect.as_deref().unwrap_or_default();
    let mut failures = Vec::new();
    for _ in 0..tries {
        if let Err(failure) = exec::run(&program) {
            let expected = failure.kind.describe() == expect;
            failures.push(failure);
            if expected {
                break;
            }
        }
    }
    (tries, failures)
}

#[test]
fn every_finding_on_another_target_still_fails_where_it_is_pinned() {
    let findings: Vec<Entry> = corpus().into_iter().filter(Entry::is_finding).collect();
    each(&findings, |entry| {
        let expect = entry.expect.as_deref().unwrap_or_default();
        let mut problems = Vec::new();
        let targets = std::iter::once(&entry.program.config.target).chain(&entry.fails_on);
        for target in targets.filter_map(|name| runnable(entry, name)) {
            let (tries, failures) = run_on(entry, target);
            if failures.iter().any(|f| f.kind.describe() == expect) {
                continue;
            }
            problems.push(match failures.first() {
                Some(failure) => format!(
                    "never failed with `{expect}` in {tries} runs on {}; once:\n{failure}",
                    target.name
                ),
                None => format!(
                    "ran clean {tries} times on {}: the finding no longer reproduces",
                    target.name
                ),
            });
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    });
}

#[test]
fn every_finding_runs_clean_where_it_is_fixed() {
    let findings: Vec<Entry> = corpus().into_iter().filter(Entry::is_finding).collect();
    each(&findings, |entry| {
        let mut problems = Vec::new();
        for target in entry
            .passes_on
            .iter()
            .filter_map(|name| runnable(entry, name))
        {
            let (tries, failures) = run_on(entry, target);
            if let Some(failure) = failures.first() {
                problems.push(format!(
                    "`# passes-on: {}`, but failed {} of {tries} runs there; once:\n{failure}",
                    target.name,
                    failures.len()
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
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
