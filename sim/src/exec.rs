//! The executor: the only code that drives the map.
//!
//! It applies each op to the map under test (a [`Target`]) and to the [`Model`] and checks, on
//! every step: plain-op results and `len()` equal, every cursor yield allowed (rules 1-7, judged
//! by the model), full coverage when a cursor ends, and the target's audit after every op (or
//! every `audit_every`-th) where it has one, and, for a target that reports its shape, the shape
//! contract after creation and after every op (semantics.md §3a, [`crate::shape`]: sizing for the
//! capacity hint, a trigger for every growth started, the bound on buckets under churn). At the end of the program it drains every live cursor
//! to its end, audits once more and compares the map's whole contents with the model's. A panic
//! inside the map is caught and reported as a failure at the op that caused it.
//!
//! [`run_streamed`] applies the same checks to ops as a generator draws them, without a stored
//! program: the simulator's main loop on map-core, where a seed that fails is run again from its
//! program for the report.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

pub use crate::coverage::Coverage;
pub use crate::failure::{Failure, FailureKind, Stage};
use crate::model::{Allowed, Model, Violation};
use crate::op::{CursorId, Op, OpKind, OpSink, OpSource, MAX_CURSORS};
use crate::program::{Config, Program};
use crate::shape::{ShapeChecker, ShapeEvent, ShapeViolation};
pub use crate::target::SimMap;
pub use crate::target::MAX_FORCED_BUCKETS;
use crate::target::{self, MapCoreTarget, Target, TargetInfo};

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

/// Why a program cannot run in this build, on its own target.
pub fn check_runnable(program: &Program) -> Result<(), String> {
    check_runnable_on(program, target::lookup(&program.config.target)?)
}

/// Why a program cannot run on `target`: an invalid config, a fault without the `faults` feature
/// or on a target other than map-core, or ops that the target does not support.
pub fn check_runnable_on(program: &Program, target: &TargetInfo) -> Result<(), String> {
    check_config_runnable_on(&program.config, target)?;
    let caps = target.capabilities;
    if let Some(op) = program.ops.iter().find(|op| !caps.supports(op.kind())) {
        let missing = match op.kind() {
            OpKind::CursorNew | OpKind::CursorStep | OpKind::CursorDrop => "cursors",
            _ => "growth controls",
        };
        return Err(format!(
            "the program uses `{op}`, but target `{}` has no {missing}",
            target.name
        ));
    }
    Ok(())
}

/// [`check_runnable_on`] for the config alone.
fn check_config_runnable_on(config: &Config, target: &TargetInfo) -> Result<(), String> {
    config.validate()?;
    if let Some(fault) = config.fault {
        if !cfg!(feature = "faults") {
            return Err(format!(
                "the program injects fault `{fault}`, but sim was built without the `faults` feature \
                 (rebuild with `--features faults`)"
            ));
        }
        if target.name != target::DEFAULT_TARGET {
            return Err(format!(
                "the program injects fault `{fault}`, a fault of map-core's, but runs on target `{}`",
                target.name
            ));
        }
    }
    Ok(())
}

/// Runs a program on the target its config names, checking every step.
///
/// # Panics
/// If [`check_runnable`] rejects the program (an unknown target, an invalid config, a fault
/// without the `faults` feature, an op the target lacks). Panics inside the map, creating it
/// included, are not propagated: they become [`FailureKind::Panic`].
pub fn run(program: &Program) -> Result<RunStats, Failure> {
    run_on(program, known_target(program), None)
}

/// Like [`run`], and describes every step to `log`: the op, the model's and the map's results,
/// and each cursor yield with the rule that allowed it (for `sim replay --verbose`).
pub fn run_verbose(program: &Program, log: &mut dyn FnMut(&str)) -> Result<RunStats, Failure> {
    run_on(program, known_target(program), Some(log))
}

fn known_target(program: &Program) -> &'static TargetInfo {
    target::lookup(&program.config.target)
        .unwrap_or_else(|why| panic!("cannot run this program: {why}"))
}

/// Runs a program on `target`, whatever target its config names (a user's own target, or
/// `sim replay --target`), checking every step; `log` as for [`run_verbose`].
///
/// # Panics
/// If [`check_runnable_on`] rejects the program.
pub fn run_on<'a>(
    program: &'a Program,
    target: &'a TargetInfo,
    log: Option<&'a mut dyn FnMut(&str)>,
) -> Result<RunStats, Failure> {
    if let Err(why) = check_runnable_on(program, target) {
        panic!("cannot run this program: {why}");
    }
    // map-core runs without dynamic dispatch: it is the target the throughput goals are about.
    if is_built_in_map_core(target) {
        let map = catch_creation(|| MapCoreTarget::new(&program.config))?;
        return Executor::new(program, target, map, log).run();
    }
    let created = catch_creation(|| (target.create)(program))?;
    match created {
        Ok(map) => Executor::new(program, target, map, log).run(),
        Err(why) => Err(Failure {
            step: 0,
            stage: Stage::CreateMap,
            kind: FailureKind::Panic,
            expected: format!("target `{}` is created", target.name),
            found: format!("creating the target failed: {why}"),
            diagram: "(no map: creating it failed)".to_string(),
        }),
    }
}

/// Whether [`run_streamed`] runs on `target`: map-core, built in (deterministic, so a failure
/// found while streaming comes back when its program is run again).
pub fn can_stream(target: &TargetInfo) -> bool {
    is_built_in_map_core(target)
}

fn is_built_in_map_core(target: &TargetInfo) -> bool {
    target.name == target::DEFAULT_TARGET && *target == *target::default_target()
}

/// Runs the program that `source` draws, on map-core, checking each op as it arrives exactly as
/// [`run_on`] checks the stored program, but without storing it: the simulator's main loop, where
/// nearly every program passes. The ops go from the generator to the map with no list between
/// them, and each place where the generator pushes an op knows its kind: the executor's code for
/// that kind is inlined there, so the executor does not branch on the kind again (a branch on a
/// random kind is one the processor mostly mispredicts).
///
/// `Some` with the statistics [`run_on`] returns for the program when it runs clean; `None` when a
/// check failed or the map panicked. The failure is then found by drawing the program again and
/// running it with [`run_on`]: map-core is deterministic, so it fails the same way, and its report
/// names the op.
///
/// # Panics
/// If `target` is not one [`can_stream`] accepts, or [`check_runnable_on`] rejects `config`.
///
/// # Example
/// ```
/// let target = sim::target::default_target();
/// let drawing = sim::gen::Drawing::for_seed(7, target);
/// let config = drawing.config().clone();
/// let streamed = sim::exec::run_streamed(&config, target, drawing);
/// let stored = sim::exec::run_on(&sim::gen::generate_for(7, target), target, None);
/// assert_eq!(streamed, stored.ok());
/// ```
pub fn run_streamed(
    config: &Config,
    target: &TargetInfo,
    source: impl OpSource,
) -> Option<RunStats> {
    assert!(
        can_stream(target),
        "target `{}` does not stream",
        target.name
    );
    if let Err(why) = check_config_runnable_on(config, target) {
        panic!("cannot run this program: {why}");
    }
    let map = catch_creation(|| MapCoreTarget::new(config)).ok()?;
    let _quiet = QuietPanics::enter();
    let mut sink = StreamSink {
        executor: Executor::streamed(config, target, map),
        taken: 0,
        failed: false,
    };
    let clean = panic::catch_unwind(AssertUnwindSafe(|| {
        if sink.executor.begin().is_err() {
            return false;
        }
        source.draw_into(&mut sink);
        !sink.failed && sink.executor.end(sink.taken).is_ok()
    }));
    matches!(clean, Ok(true)).then_some(sink.executor.stats)
}

/// The executor as the generator's sink: each op is checked as it is drawn. After a failed check
/// the rest are only counted (the generator still draws them: its loop ends on the count).
struct StreamSink<'a> {
    executor: Executor<'a, MapCoreTarget>,
    taken: usize,
    failed: bool,
}

impl OpSink for StreamSink<'_> {
    #[inline(always)]
    fn push(&mut self, op: Op) {
        if !self.failed {
            self.executor.step = self.taken;
            self.failed = self.executor.check_op(&op).is_err();
        }
        self.taken += 1;
    }

    #[inline(always)]
    fn len(&self) -> usize {
        self.taken
    }
}

struct Executor<'a, T: Target> {
    config: &'a Config,
    /// The program's ops, for failure reports (empty when they are streamed: a streamed run that
    /// fails is run again from its program, see [`run_streamed`]).
    ops: &'a [Op],
    info: &'a TargetInfo,
    target: T,
    model: Model,
    stats: RunStats,
    /// Per cursor handle: whether a step of the live cursor ran while a growth was under way.
    saw_growth: [bool; MAX_CURSORS],
    /// The model of the program's second map, once a `clone` or `from-iter` made one.
    second: Option<Model>,
    /// Whether the second map changed since its last audit: only `clone`, `from-iter`,
    /// `clone-insert` and `clone-remove` change it, and auditing an unchanged map again finds
    /// nothing new.
    second_changed: bool,
    /// The op being applied; `ops.len()` during the end-of-program checks.
    step: usize,
    since_audit: u32,
    log: Option<&'a mut dyn FnMut(&str)>,
    /// The shape rules' state, for a target that reports its shape.
    shape: Option<ShapeChecker>,
    /// What the op just applied was, for the shape rules.
    shape_event: ShapeEvent,
    /// Checking the map as created, before the first op: a failure is at [`Stage::CreateMap`].
    creating: bool,
}

impl<'a, T: Target> Executor<'a, T> {
    fn new(
        program: &'a Program,
        info: &'a TargetInfo,
        target: T,
        log: Option<&'a mut dyn FnMut(&str)>,
    ) -> Self {
        let mut executor = Executor::streamed(&program.config, info, target);
        executor.ops = &program.ops;
        executor.log = log;
        executor
    }

    fn streamed(config: &'a Config, info: &'a TargetInfo, target: T) -> Self {
        Executor {
            config,
            ops: &[],
            info,
            target,
            model: Model::with_contract(config.key_space, info.capabilities.contract),
            stats: RunStats::default(),
            saw_growth: [false; MAX_CURSORS],
            second: None,
            second_changed: false,
            step: 0,
            since_audit: 0,
            log: None,
            shape: None,
            shape_event: ShapeEvent::Other,
            creating: false,
        }
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
        self.begin()?;
        for (step, op) in self.ops.iter().enumerate() {
            self.step = step;
            self.check_op(op)?;
        }
        self.end(self.ops.len())
    }

    /// The checks of the map as created, before the first op.
    fn begin(&mut self) -> Result<(), Violation> {
        if self.info.capabilities.shape {
            self.creating = true;
            let created = self.reported_shape();
            let capacity = self.config.initial_capacity as usize;
            self.shape = Some(ShapeChecker::new(capacity, created).map_err(shape_violation)?);
            self.creating = false;
        }
        Ok(())
    }

    /// Applies op number `self.step` and checks what it did.
    #[inline(always)]
    fn check_op(&mut self, op: &Op) -> Result<(), Violation> {
        self.apply(op)?;
        self.check_len()?;
        self.check_shape()?;
        self.since_audit += 1;
        if self.info.capabilities.audit
            && (op.kind() == OpKind::Audit || self.since_audit >= self.config.audit_every)
        {
            self.audit()?;
        }
        Ok(())
    }

    /// The end-of-program checks, after `ops` ops.
    fn end(&mut self, ops: usize) -> Result<(), Violation> {
        let audits = self.info.capabilities.audit;
        self.step = ops;
        self.log_line(|| "end: drain live cursors, audit, compare contents".to_string());
        for c in CursorId::ALL {
            if self.model.is_active(c) {
                self.step_cursor(c, u64::MAX)?;
            }
        }
        self.shape_event = ShapeEvent::Other;
        self.check_shape()?;
        if audits {
            self.audit()?;
        }
        self.check_contents()?;
        for c in CursorId::ALL {
            self.retire_cursor(c);
        }
        self.target.add_coverage(&mut self.stats.coverage);
        self.stats.coverage.reinsert_yielded = self.model.reinserted_yielded();
        self.stats.coverage.fresh_value_cursors = self.model.fresh_value_cursors();
        Ok(())
    }

    #[inline(always)]
    fn apply(&mut self, op: &Op) -> Result<(), Violation> {
        self.stats.ops += 1;
        self.stats.op_counts[op.kind().index()] += 1;
        let step = self.step;
        self.shape_event = ShapeEvent::Other;
        match *op {
            Op::Insert { key, value } => {
                let found = self.target.insert(key, value);
                let expected = self.model.insert(key, value, step);
                self.shape_event = match expected {
                    None => ShapeEvent::InsertAbsent { key },
                    Some(_) => ShapeEvent::Update { key },
                };
                self.compare(op, expected, found)
            }
            Op::Remove { key } => {
                self.shape_event = ShapeEvent::Remove;
                let found = self.target.remove(key);
                let expected = self.model.remove(key, step);
                self.compare(op, expected, found)
            }
            Op::Get { key } => {
                let found = self.target.get(key);
                self.compare(op, self.model.get(key), found)
            }
            Op::Clear => {
                if self.model.has_active_cursors() {
                    self.stats.coverage.clear_during_iteration += 1;
                }
                self.shape_event = ShapeEvent::Clear;
                self.target.clear();
                self.model.clear(step);
                self.log_op(op, || "len 0".into());
                Ok(())
            }
            Op::CursorNew { cursor } => {
                self.retire_cursor(cursor);
                self.target.cursor_new(cursor);
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
                self.shape_event = ShapeEvent::ForceGrow;
                self.target.force_grow();
                self.log_growth(op);
                Ok(())
            }
            Op::ForceSameSizeGrow => {
                self.shape_event = ShapeEvent::ForceSameSizeGrow;
                self.target.force_same_size_grow();
                self.log_growth(op);
                Ok(())
            }
            Op::EvacuateStep => {
                self.shape_event = ShapeEvent::EvacuateStep;
                let was_growing = self.target.is_growing();
                let evacuated = self.target.evacuate_step();
                self.log_op(op, || format!("model: {was_growing:?} | map: {evacuated}"));
                match was_growing {
                    Some(was) if was != evacuated => Err(Violation {
                        kind: FailureKind::WrongResult,
                        expected: format!(
                            "evacuate-step returns {was} (whether a growth was under way)"
                        ),
                        found: format!("evacuate-step returned {evacuated}"),
                    }),
                    _ => Ok(()),
                }
            }
            Op::Audit => {
                self.log_op(op, String::new);
                Ok(())
            }
            _ => self.apply_api(op),
        }
    }

    /// The ops of the Rust map API beyond the plain ops ([`OpKind::is_api`]).
    fn apply_api(&mut self, op: &Op) -> Result<(), Violation> {
        let step = self.step;
        match *op {
            Op::GetMut { key, value } => {
                let found = self.target.get_mut_write(key, value);
                // A write through `get_mut` updates a present key and does nothing otherwise.
                let expected = self.model.get(key);
                if expected.is_some() {
                    self.model.insert(key, value, step);
                }
                self.compare(op, expected, found)
            }
            Op::ContainsKey { key } => {
                let found = self.target.contains_key(key);
                let expected = self.model.get(key).is_some();
                self.compare_as(op, FailureKind::WrongResult, expected, found)
            }
            Op::Index { key } => {
                let target = &mut self.target;
                let found = panic::catch_unwind(AssertUnwindSafe(|| target.index(key))).ok();
                let expected = self.model.get(key);
                self.log_op(op, || {
                    format!("model: {expected:?} | map: {found:?} (None: panicked)")
                });
                if expected == found {
                    return Ok(());
                }
                Err(Violation {
                    kind: FailureKind::WrongResult,
                    expected: match expected {
                        Some(v) => format!("map[&{key}] == {v}"),
                        None => format!("map[&{key}] panics: the key is absent"),
                    },
                    found: match found {
                        Some(v) => format!("map[&{key}] == {v}"),
                        None => format!("map[&{key}] panicked"),
                    },
                })
            }
            Op::Iter => {
                self.log_op(op, String::new);
                let found = self.target.iter_now();
                check_entries(found, self.model.entries(), "iter()")
            }
            Op::Clone => {
                self.target.clone_to_second();
                let entries: Vec<(u64, u64)> = self.model.unsorted_entries().collect();
                self.second = Some(Model::from_entries(&entries, step, self.config.key_space));
                self.second_changed = true;
                self.log_op(op, String::new);
                Ok(())
            }
            Op::FromIter { key, count, value } => {
                let entries: Vec<(u64, u64)> = Op::entries(key, count, value).collect();
                self.target.collect_to_second(&entries);
                self.second = Some(Model::from_entries(&entries, step, self.config.key_space));
                self.second_changed = true;
                self.log_op(op, String::new);
                Ok(())
            }
            Op::Extend { key, count, value } => {
                let entries: Vec<(u64, u64)> = Op::entries(key, count, value).collect();
                self.shape_event = ShapeEvent::Extend { key, count };
                self.target.extend(&entries);
                for &(k, v) in &entries {
                    self.model.insert(k, v, step);
                }
                self.log_op(op, String::new);
                Ok(())
            }
            Op::CloneInsert { key, value } => match self.second.as_mut() {
                Some(second) => {
                    self.second_changed = true;
                    let expected = second.insert(key, value, step);
                    let found = self.target.second_insert(key, value);
                    self.compare(op, expected, found)
                }
                None => Ok(()),
            },
            Op::CloneRemove { key } => match self.second.as_mut() {
                Some(second) => {
                    self.second_changed = true;
                    let expected = second.remove(key, step);
                    let found = self.target.second_remove(key);
                    self.compare(op, expected, found)
                }
                None => Ok(()),
            },
            Op::Eq => {
                let entries: Vec<(u64, u64)> = self.model.unsorted_entries().collect();
                let equal_to_its_entries = self.target.eq_entries(&entries);
                self.compare_as(op, FailureKind::WrongResult, true, equal_to_its_entries)?;
                if let Some(second) = &self.second {
                    let expected = second.same_entries(&self.model);
                    let found = self.target.eq_second();
                    return self.compare_as(op, FailureKind::WrongResult, expected, found);
                }
                Ok(())
            }
            _ => unreachable!("apply handles every op that is not of the API"),
        }
    }

    /// Compares an answer that is not an `Option<u64>`.
    fn compare_as<A: PartialEq + std::fmt::Debug>(
        &mut self,
        op: &Op,
        kind: FailureKind,
        expected: A,
        found: A,
    ) -> Result<(), Violation> {
        self.log_op(op, || format!("model: {expected:?} | map: {found:?}"));
        if expected == found {
            return Ok(());
        }
        Err(Violation {
            kind,
            expected: format!("`{op}` answers {expected:?}"),
            found: format!("`{op}` answered {found:?}"),
        })
    }

    fn log_growth(&mut self, op: &Op) {
        if self.log.is_some() {
            let growing = self.target.is_growing();
            self.log_op(op, || match growing {
                Some(g) => format!("growing: {g}"),
                None => String::new(),
            });
        }
    }

    #[inline(always)]
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
            Err(mismatch(op, expected, found))
        }
    }

    /// Advances active cursor `c` up to `steps` times, checking each yield, until it ends.
    fn step_cursor(&mut self, c: CursorId, steps: u64) -> Result<(), Violation> {
        for _ in 0..steps {
            self.stats.cursor_steps += 1;
            match self.target.is_growing() {
                Some(true) => {
                    self.stats.coverage.growth_with_cursor += 1;
                    self.saw_growth[c.index()] = true;
                }
                Some(false) => {}
                None => self.stats.coverage.growth_state_unknown += 1,
            }
            match self.target.cursor_next(c) {
                Some((key, value)) => {
                    self.stats.yields += 1;
                    let allowed = self.model.on_yield(c, key, value);
                    if let Some(log) = self.log.as_mut() {
                        let verdict = match &allowed {
                            Ok(Allowed::Required) => "allowed: present since the cursor began",
                            Ok(Allowed::Optional) => "allowed: inserted after the cursor began",
                            Ok(Allowed::Earlier) => {
                                "allowed (§7 W3): a value the key held since the cursor began"
                            }
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
        if self.info.capabilities.cursors {
            self.target.cursor_drop(c, &mut self.stats.coverage);
        }
        let saw_growth = std::mem::take(&mut self.saw_growth[c.index()]);
        self.stats.coverage.cursors_through_growth += u64::from(saw_growth);
        self.model.cursor_drop(c);
    }

    /// `len()` of the map (and the second map) against the model: inline for the common case
    /// where they agree, out of line to describe a difference.
    #[inline(always)]
    fn check_len(&mut self) -> Result<(), Violation> {
        let agree = self.model.len() == self.target.len()
            && match &self.second {
                Some(second) => second.len() == self.target.second_len(),
                None => true,
            };
        if agree {
            Ok(())
        } else {
            self.len_violation()
        }
    }

    #[cold]
    #[inline(never)]
    fn len_violation(&mut self) -> Result<(), Violation> {
        let (expected, found) = (self.model.len(), self.target.len());
        if expected != found {
            return Err(Violation {
                kind: FailureKind::WrongLen,
                expected: format!("len() == {expected}"),
                found: format!("len() == {found}"),
            });
        }
        if let Some(second) = &self.second {
            let (expected, found) = (second.len(), self.target.second_len());
            if expected != found {
                return Err(Violation {
                    kind: FailureKind::WrongLen,
                    expected: format!("the second map's len() == {expected}"),
                    found: format!("the second map's len() == {found}"),
                });
            }
        }
        Ok(())
    }

    /// The shape rules after the op just applied, for a target that reports its shape: inline
    /// for the common case where only the length moved, out of line for the full check.
    #[inline(always)]
    fn check_shape(&mut self) -> Result<(), Violation> {
        let Some(checker) = self.shape.as_mut() else {
            return Ok(());
        };
        let now = self
            .target
            .shape()
            .expect("a target with the `shape` capability reports its shape");
        if checker.only_len_moved(&self.shape_event, &now) {
            return Ok(());
        }
        self.check_shape_changed(now)
    }

    #[cold]
    #[inline(never)]
    fn check_shape_changed(&mut self, now: crate::shape::Shape) -> Result<(), Violation> {
        match self.shape.as_mut() {
            Some(checker) => checker
                .after_shape_changed(self.shape_event, now)
                .map_err(shape_violation),
            None => Ok(()),
        }
    }

    /// The target's shape; a target whose capabilities claim one must report it.
    #[inline]
    fn reported_shape(&mut self) -> crate::shape::Shape {
        self.target
            .shape()
            .expect("a target with the `shape` capability reports its shape")
    }

    /// The whole map (and the second map), through its own iteration, against the model:
    /// nothing lost, nothing extra, nothing twice.
    fn check_contents(&mut self) -> Result<(), Violation> {
        check_entries(self.target.contents(), self.model.entries(), "iter()")?;
        if let Some(second) = &self.second {
            let expected = second.entries();
            check_entries(
                self.target.second_contents(),
                expected,
                "the second map's iter()",
            )?;
        }
        Ok(())
    }

    fn audit(&mut self) -> Result<(), Violation> {
        self.since_audit = 0;
        self.stats.audits += 1;
        let coverage = &mut self.stats.coverage;
        let audited = self.target.audit(coverage).and_then(|()| {
            if self.second.is_some() && std::mem::take(&mut self.second_changed) {
                self.target.second_audit(coverage)
            } else {
                Ok(())
            }
        });
        audited.map_err(|e| Violation {
            kind: e.kind,
            expected: "check_invariants() == Ok(())".to_string(),
            found: e.message,
        })
    }

    fn failure(&mut self, violation: Violation) -> Failure {
        // A map that just panicked may panic again while drawing itself.
        let target = &mut self.target;
        let diagram =
            panic::catch_unwind(AssertUnwindSafe(|| target.diagram())).unwrap_or_else(|payload| {
                format!(
                    "(no diagram: drawing the map panicked: {})",
                    panic_message(&*payload)
                )
            });
        let stage = if self.creating {
            Stage::CreateMap
        } else {
            Stage::at(self.ops, self.step)
        };
        Failure {
            step: self.step,
            stage,
            kind: violation.kind,
            expected: violation.expected,
            found: violation.found,
            diagram,
        }
    }

    /// Logs one op's line; `outcome` is only formatted when a log is attached, since the
    /// executor's hot loop runs without one.
    #[inline(always)]
    fn log_op(&mut self, op: &Op, outcome: impl FnOnce() -> String) {
        if self.log.is_some() {
            self.log_op_line(op, outcome);
        }
    }

    #[cold]
    #[inline(never)]
    fn log_op_line(&mut self, op: &Op, outcome: impl FnOnce() -> String) {
        let outcome = outcome();
        let step = self.step;
        let state = self.target.state_line().unwrap_or_default();
        self.log_line(|| format!("{step:>6}  {:<28} {state:<40} {outcome}", op.to_string()));
    }

    fn log_line(&mut self, line: impl FnOnce() -> String) {
        if let Some(log) = self.log.as_mut() {
            log(&line());
        }
    }
}

#[cold]
#[inline(never)]
fn mismatch(op: &Op, expected: Option<u64>, found: Option<u64>) -> Violation {
    Model::mismatch(&op.to_string(), expected, found)
}

/// `found` (what `what` yielded, in its order) against the model's entries (in key order):
/// nothing lost, nothing extra, nothing twice.
fn check_entries(
    mut found: Vec<(u64, u64)>,
    expected: Vec<(u64, u64)>,
    what: &str,
) -> Result<(), Violation> {
    found.sort_unstable();
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
            "{what} yields the model's {} entries; in key order, entry {first_difference} is {}",
            expected.len(),
            show(&expected)
        ),
        found: format!(
            "{what} yielded {} entries; in key order, entry {first_difference} is {}",
            found.len(),
            show(&found)
        ),
    })
}

fn shape_violation(v: ShapeViolation) -> Violation {
    Violation {
        kind: FailureKind::Shape(v.rule),
        expected: v.expected,
        found: v.found,
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

/// Runs `f` on this thread with panics caught and kept quiet, as a run of a program does: a
/// panic becomes its message (with where it happened), for threads of a concurrent run.
pub(crate) fn catch_quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_panic_hook();
    let _quiet = QuietPanics::enter();
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| panic_message(&*payload))
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
