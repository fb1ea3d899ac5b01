//! The executor: the only code that drives the map.
//!
//! It applies each op to the map and to the [`Model`] and checks, on every step: plain-op results
//! and `len()` equal, every cursor yield allowed (rules 1-7, judged by the model), full coverage
//! when a cursor ends, and `check_invariants` after every op (or every `audit_every`-th). At the
//! end of the program it drains every live cursor to its end and audits once more. A panic inside
//! the map is caught and reported as a failure at the op that caused it.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use map_core::{Cursor, GoMap};

pub use crate::coverage::Coverage;
pub use crate::failure::{Failure, FailureKind, Stage};
use crate::hasher::SimHasher;
use crate::model::{Allowed, Model, Violation};
use crate::op::{CursorId, Op, OpKind, MAX_CURSORS};
use crate::program::Program;

/// [`Op::ForceGrow`] is skipped once the map has this many buckets: every forced doubling costs
/// memory however few entries the map holds, and no program may exhaust memory.
pub const MAX_FORCED_BUCKETS: usize = 1 << 12;

/// The map type under test.
pub type SimMap = GoMap<u64, u64, SimHasher>;

/// What a clean run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RunStats {
    /// Ops applied.
    pub ops: u64,
    /// Ops applied per kind, indexed by [`OpKind::index`].
    pub op_counts: [u64; OpKind::ALL.len()],
    /// Calls to `Cursor::next`, each checked (including the end-of-program drain).
    pub cursor_steps: u64,
    /// Cursor steps that yielded an entry.
    pub yields: u64,
    /// `check_invariants` calls.
    pub audits: u64,
    /// The internal states reached.
    pub coverage: Coverage,
}

impl RunStats {
    /// Ops of one kind.
    pub fn count(&self, kind: OpKind) -> u64 {
        self.op_counts[kind.index()]
    }

    /// Adds another run's counts to these.
    pub fn add(&mut self, other: &RunStats) {
        self.ops += other.ops;
        for (mine, theirs) in self.op_counts.iter_mut().zip(other.op_counts) {
            *mine += theirs;
        }
        self.cursor_steps += other.cursor_steps;
        self.yields += other.yields;
        self.audits += other.audits;
        self.coverage.add(&other.coverage);
    }
}

/// Why a program cannot run in this build.
pub fn check_runnable(program: &Program) -> Result<(), String> {
    program.config.validate()?;
    if let Some(fault) = program.config.fault {
        if !cfg!(feature = "faults") {
            return Err(format!(
                "the program injects fault `{fault}`, but sim was built without the `faults` feature \
                 (rebuild with `--features faults`)"
            ));
        }
    }
    Ok(())
}

/// Runs a program, checking every step.
///
/// # Panics
/// If [`check_runnable`] rejects the program (an invalid config, or a fault without the `faults`
/// feature). Panics inside the map, creating it included, are not propagated: they become
/// [`FailureKind::Panic`].
pub fn run(program: &Program) -> Result<RunStats, Failure> {
    Executor::new(program, None)?.run()
}

/// Like [`run`], and describes every step to `log`: the op, the model's and the map's results,
/// and each cursor yield with the rule that allowed it (for `sim replay --verbose`).
pub fn run_verbose(program: &Program, log: &mut dyn FnMut(&str)) -> Result<RunStats, Failure> {
    Executor::new(program, Some(log))?.run()
}

struct Executor<'a> {
    program: &'a Program,
    map: SimMap,
    cursors: [Option<Cursor<u64, u64>>; MAX_CURSORS],
    model: Model,
    stats: RunStats,
    /// The op being applied; `ops.len()` during the end-of-program checks.
    step: usize,
    since_audit: u32,
    log: Option<&'a mut dyn FnMut(&str)>,
}

impl<'a> Executor<'a> {
    /// An executor with the program's map created; a panic while creating it is a failure.
    fn new(program: &'a Program, log: Option<&'a mut dyn FnMut(&str)>) -> Result<Self, Failure> {
        if let Err(why) = check_runnable(program) {
            panic!("cannot run this program: {why}");
        }
        let map = catch_creation(|| create_map(&program.config))?;
        Ok(Executor {
            program,
            map,
            cursors: Default::default(),
            model: Model::new(),
            stats: RunStats::default(),
            step: 0,
            since_audit: 0,
            log,
        })
    }

    fn run(mut self) -> Result<RunStats, Failure> {
        install_panic_hook();
        let _quiet = QuietPanics::enter();
        match panic::catch_unwind(AssertUnwindSafe(|| self.run_checks())) {
            Ok(Ok(())) => Ok(self.stats),
            Ok(Err(violation)) => Err(self.failure(violation)),
            Err(payload) => {
                let violation = Violation {
                    kind: FailureKind::Panic,
                    expected: "no panic".to_string(),
                    found: format!("the map panicked: {}", panic_message(&*payload)),
                };
                Err(self.failure(violation))
            }
        }
    }

    fn run_checks(&mut self) -> Result<(), Violation> {
        for (step, op) in self.program.ops.iter().enumerate() {
            self.step = step;
            self.apply(op)?;
            self.check_len()?;
            self.since_audit += 1;
            if op.kind() == OpKind::Audit || self.since_audit >= self.program.config.audit_every {
                self.audit()?;
            }
        }
        self.step = self.program.ops.len();
        self.log_line(|| {
            "end: drain live cursors, audit, compare contents with iter()".to_string()
        });
        for c in CursorId::ALL {
            if self.model.is_active(c) {
                self.step_cursor(c, u64::MAX)?;
            }
        }
        self.audit()?;
        self.check_contents()?;
        for c in CursorId::ALL {
            self.retire_cursor(c);
        }
        let map_stats = self.map.stats();
        let coverage = &mut self.stats.coverage;
        coverage.same_size_grows = map_stats.same_size_grows;
        coverage.reinsert_yielded = self.model.reinserted_yielded();
        Ok(())
    }

    fn apply(&mut self, op: &Op) -> Result<(), Violation> {
        self.stats.ops += 1;
        self.stats.op_counts[op.kind().index()] += 1;
        let step = self.step;
        match *op {
            Op::Insert { key, value } => {
                let found = self.map.insert(key, value);
                let expected = self.model.insert(key, value, step);
                self.compare(op, expected, found)
            }
            Op::Remove { key } => {
                let found = self.map.remove(&key);
                let expected = self.model.remove(key, step);
                self.compare(op, expected, found)
            }
            Op::Get { key } => {
                let found = self.map.get(&key).copied();
                self.compare(op, self.model.get(key), found)
            }
            Op::Clear => {
                if self.model.has_active_cursors() {
                    self.stats.coverage.clear_during_iteration += 1;
                }
                self.map.clear();
                self.model.clear(step);
                self.log_op(op, || "len 0".into());
                Ok(())
            }
            Op::CursorNew { cursor } => {
                self.retire_cursor(cursor);
                self.cursors[cursor.index()] = Some(self.map.cursor());
                self.model.cursor_new(cursor, step);
                let owed = self.model.len();
                self.log_op(op, || format!("owes {owed} entries"));
                Ok(())
            }
            Op::CursorStep { cursor, steps } => {
                self.log_op(op, String::new);
                if self.model.is_active(cursor) {
                    self.step_cursor(cursor, u64::from(steps))?;
                }
                Ok(())
            }
            Op::CursorDrop { cursor } => {
                self.retire_cursor(cursor);
                self.log_op(op, String::new);
                Ok(())
            }
            Op::ForceGrow => {
                if self.map.stats().buckets < MAX_FORCED_BUCKETS {
                    self.map.force_grow();
                }
                let growing = self.map.is_growing();
                self.log_op(op, || format!("growing: {growing}"));
                Ok(())
            }
            Op::ForceSameSizeGrow => {
                self.map.force_same_size_grow();
                let growing = self.map.is_growing();
                self.log_op(op, || format!("growing: {growing}"));
                Ok(())
            }
            Op::EvacuateStep => {
                let was_growing = self.map.is_growing();
                let evacuated = self.map.evacuate_step();
                self.log_op(op, || format!("model: {was_growing} | map: {evacuated}"));
                if evacuated == was_growing {
                    Ok(())
                } else {
                    Err(Violation {
                        kind: FailureKind::WrongResult,
                        expected: format!(
                            "evacuate-step returns {was_growing} (whether a growth was under way)"
                        ),
                        found: format!("evacuate-step returned {evacuated}"),
                    })
                }
            }
            Op::Audit => {
                self.log_op(op, String::new);
                Ok(())
            }
        }
    }

    fn compare(
        &mut self,
        op: &Op,
        expected: Option<u64>,
        found: Option<u64>,
    ) -> Result<(), Violation> {
        self.log_op(op, || format!("model: {expected:?} | map: {found:?}"));
        if expected == found {
            Ok(())
        } else {
            Err(Model::mismatch(&op.to_string(), expected, found))
        }
    }

    /// Advances active cursor `c` up to `steps` times, checking each yield, until it ends.
    fn step_cursor(&mut self, c: CursorId, steps: u64) -> Result<(), Violation> {
        let cursor = self.cursors[c.index()]
            .as_mut()
            .expect("an active cursor exists in the map");
        for _ in 0..steps {
            self.stats.cursor_steps += 1;
            if self.map.is_growing() {
                self.stats.coverage.growth_with_cursor += 1;
            }
            match cursor.next(&self.map) {
                Some((&key, &value)) => {
                    self.stats.yields += 1;
                    let allowed = self.model.on_yield(c, key, value);
                    if let Some(log) = self.log.as_mut() {
                        let verdict = match &allowed {
                            Ok(Allowed::Required) => "allowed: present since the cursor began",
                            Ok(Allowed::Optional) => "allowed: inserted after the cursor began",
                            Err(_) => "NOT ALLOWED",
                        };
                        log(&format!("        {c} -> ({key}, {value})  {verdict}"));
                    }
                    allowed?;
                }
                None => {
                    let end = self.model.on_end(c);
                    if let Some(log) = self.log.as_mut() {
                        let verdict = if end.is_ok() {
                            "allowed: all owed entries yielded"
                        } else {
                            "NOT ALLOWED"
                        };
                        log(&format!("        {c} -> end  {verdict}"));
                    }
                    return end;
                }
            }
        }
        Ok(())
    }

    /// Drops cursor `c` from map and model, counting the states it reached.
    fn retire_cursor(&mut self, c: CursorId) {
        if let Some(cursor) = self.cursors[c.index()].take() {
            let s = cursor.stats();
            let coverage = &mut self.stats.coverage;
            coverage.old_bucket_walks += s.old_bucket_walks;
            coverage.relookups += s.relookups;
            coverage.multi_growth_cursors += u64::from(s.growths_seen >= 2);
        }
        self.model.cursor_drop(c);
    }

    fn check_len(&self) -> Result<(), Violation> {
        let (expected, found) = (self.model.len(), self.map.len());
        if expected == found {
            return Ok(());
        }
        Err(Violation {
            kind: FailureKind::WrongLen,
            expected: format!("len() == {expected}"),
            found: format!("len() == {found}"),
        })
    }

    /// The whole map, through its `Iterator`, against the model: nothing lost, nothing extra,
    /// nothing twice.
    fn check_contents(&self) -> Result<(), Violation> {
        let mut found: Vec<(u64, u64)> = self.map.iter().map(|(&k, &v)| (k, v)).collect();
        found.sort_unstable();
        let expected = self.model.entries();
        if found == expected {
            return Ok(());
        }
        let first_difference = expected
            .iter()
            .zip(&found)
            .position(|(e, f)| e != f)
            .unwrap_or(expected.len().min(found.len()));
        let show = |entries: &[(u64, u64)]| match entries.get(first_difference) {
            Some((k, v)) => format!("({k}, {v})"),
            None => "nothing".to_string(),
        };
        Err(Violation {
            kind: FailureKind::WrongContents,
            expected: format!(
                "iter() yields the model's {} entries; in key order, entry {first_difference} is {}",
                expected.len(),
                show(&expected)
            ),
            found: format!(
                "iter() yielded {} entries; in key order, entry {first_difference} is {}",
                found.len(),
                show(&found)
            ),
        })
    }

    fn audit(&mut self) -> Result<(), Violation> {
        self.since_audit = 0;
        self.stats.audits += 1;
        if let Err(e) = self.map.check_invariants() {
            return Err(Violation {
                kind: FailureKind::Invariant(e.invariant),
                expected: "check_invariants() == Ok(())".to_string(),
                found: e.to_string(),
            });
        }
        if self.map.stats().max_chain_len >= 3 {
            self.stats.coverage.deep_chains += 1;
        }
        Ok(())
    }

    fn failure(&mut self, violation: Violation) -> Failure {
        // A map that just panicked may panic again while drawing itself.
        let diagram = panic::catch_unwind(AssertUnwindSafe(|| self.map.diagram().to_string()))
            .unwrap_or_else(|payload| {
                format!(
                    "(no diagram: drawing the map panicked: {})",
                    panic_message(&*payload)
                )
            });
        Failure {
            step: self.step,
            stage: Stage::at(&self.program.ops, self.step),
            kind: violation.kind,
            expected: violation.expected,
            found: violation.found,
            diagram,
        }
    }

    /// Logs one op's line; `outcome` is only formatted when a log is attached, since the
    /// executor's hot loop runs without one.
    fn log_op(&mut self, op: &Op, outcome: impl FnOnce() -> String) {
        if self.log.is_none() {
            return;
        }
        let outcome = outcome();
        let step = self.step;
        let s = self.map.stats();
        let growth = if s.growing {
            let kind = if s.same_size { "same-size" } else { "doubling" };
            format!(
                ", {kind} growth {}/{} evacuated",
                s.evacuated, s.old_buckets
            )
        } else {
            String::new()
        };
        let state = format!("[len {} B {}{growth}]", s.len, s.b);
        self.log_line(|| format!("{step:>6}  {:<28} {state:<40} {outcome}", op.to_string()));
    }

    fn log_line(&mut self, line: impl FnOnce() -> String) {
        if let Some(log) = self.log.as_mut() {
            log(&line());
        }
    }
}

/// Runs `create`, turning a panic into a [`Stage::CreateMap`] failure.
pub(crate) fn catch_creation<T>(create: impl FnOnce() -> T) -> Result<T, Failure> {
    install_panic_hook();
    let _quiet = QuietPanics::enter();
    panic::catch_unwind(AssertUnwindSafe(create)).map_err(|payload| Failure {
        step: 0,
        stage: Stage::CreateMap,
        kind: FailureKind::Panic,
        expected: "no panic".to_string(),
        found: format!("creating the map panicked: {}", panic_message(&*payload)),
        diagram: "(no map: creating it panicked)".to_string(),
    })
}

/// The program's map: its capacity, hasher and seed, and its fault when one is injected.
pub(crate) fn create_map(config: &crate::program::Config) -> SimMap {
    let hasher = SimHasher::new(config.hasher, config.hasher_seed);
    #[cfg_attr(not(feature = "faults"), allow(unused_mut))]
    let mut map = GoMap::with_capacity_hasher_and_seed(
        config.initial_capacity as usize,
        hasher,
        config.map_seed,
    );
    #[cfg(feature = "faults")]
    if let Some(fault) = config.fault {
        map.inject(fault);
    }
    map
}

thread_local! {
    /// Set while this thread runs a program: the panic hook then records instead of printing.
    static QUIET: Cell<bool> = const { Cell::new(false) };
    /// Where the last quiet panic happened.
    static LAST_PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Marks this thread as running a program until dropped.
struct QuietPanics {
    was: bool,
}

impl QuietPanics {
    fn enter() -> Self {
        QuietPanics {
            was: QUIET.with(|q| q.replace(true)),
        }
    }
}

impl Drop for QuietPanics {
    fn drop(&mut self) {
        QUIET.with(|q| q.set(self.was));
    }
}

/// Panics inside the map are expected results of a run (failures to report, maybe thousands
/// while shrinking), so they are not printed; other panics go to the previous hook.
fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) {
                let location = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()));
                LAST_PANIC_LOCATION.with(|slot| *slot.borrow_mut() = location);
            } else {
                previous(info);
            }
        }));
    });
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    let message = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string payload)".to_string()
    };
    match LAST_PANIC_LOCATION.with(|slot| slot.borrow_mut().take()) {
        Some(location) => format!("{message} (at {location})"),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::Config;

    fn program(ops: Vec<Op>) -> Program {
        Program::new(Config::default(), ops)
    }

    #[test]
    fn a_clean_program_runs_and_counts() {
        let c0 = CursorId::ALL[0];
        let p = program(vec![
            Op::Insert { key: 1, value: 10 },
            Op::Insert { key: 2, value: 20 },
            Op::CursorNew { cursor: c0 },
            Op::CursorStep {
                cursor: c0,
                steps: 1,
            },
            Op::Remove { key: 2 },
            Op::Clear,
            Op::Get { key: 1 },
            Op::ForceGrow,
            Op::EvacuateStep,
            Op::Audit,
        ]);
        let stats = run(&p).expect("clean");
        assert_eq!(stats.ops, 10);
        assert_eq!(stats.count(OpKind::Insert), 2);
        assert_eq!(stats.coverage.clear_during_iteration, 1);
        assert!(stats.yields >= 1);
    }

    #[test]
    fn ops_on_missing_cursors_are_no_ops() {
        let c3 = CursorId::ALL[3];
        let p = program(vec![
            Op::CursorStep {
                cursor: c3,
                steps: 5,
            },
            Op::CursorDrop { cursor: c3 },
            Op::Insert { key: 1, value: 1 },
        ]);
        let stats = run(&p).expect("clean");
        assert_eq!(stats.cursor_steps, 0);
    }

    #[test]
    fn a_panic_while_creating_the_map_is_a_failure_before_the_first_op() {
        let failure = catch_creation(|| -> SimMap { panic!("no room for the buckets") })
            .expect_err("the panic is caught");
        assert_eq!(failure.stage, Stage::CreateMap);
        assert_eq!(failure.kind, FailureKind::Panic);
        assert!(
            failure.found.contains("no room for the buckets"),
            "{}",
            failure.found
        );
        let shown = failure.to_string();
        assert!(
            shown.starts_with("failure before the first op: creating the map"),
            "{shown}"
        );
        assert!(catch_creation(|| 7).is_ok_and(|n| n == 7));
    }

    #[test]
    fn verbose_run_describes_every_op() {
        let p = program(vec![Op::Insert { key: 1, value: 10 }, Op::Get { key: 1 }]);
        let mut lines = Vec::new();
        run_verbose(&p, &mut |line| lines.push(line.to_string())).expect("clean");
        assert!(lines[0].contains("insert 1 10"), "{lines:?}");
        assert!(lines[1].contains("Some(10)"), "{lines:?}");
    }
}
