//! What a failing run reports: where, which check, what the model expected and what the map did.

use std::fmt;

use map_core::Invariant;

use crate::op::Op;
use crate::shape::ShapeRule;

/// Which check failed. The shrinker keeps a smaller program only if it fails with the same kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// `insert`, `remove`, `get` or `evacuate_step` returned something other than the model's result.
    WrongResult,
    /// `len()` differs from the model's after an op.
    WrongLen,
    /// At the end of the program, `iter()` does not produce exactly the model's entries.
    WrongContents,
    /// Rule 1: a cursor yielded one incarnation twice.
    DuplicateYield,
    /// Rules 2 and 7: a cursor yielded a key that is absent (removed, cleared or never inserted).
    AbsentYield,
    /// Rule 3: a cursor yielded a key with a value other than its current one.
    StaleValue,
    /// Rule 4: a cursor ended without yielding an incarnation present since its creation.
    MissedEntry,
    /// `check_invariants` reported this broken invariant.
    Invariant(Invariant),
    /// The map's size or growth broke the shape contract (semantics.md §3a): its sizing for the
    /// capacity hint, a growth without its trigger, or the bound on buckets under churn.
    Shape(ShapeRule),
    /// A rule of weakly consistent iteration (semantics.md §7), for a target that promises §7.
    Weak(WeakRule),
    /// The map panicked.
    Panic,
}

/// A rule of weakly consistent iteration (semantics.md §7) that a cursor broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WeakRule {
    /// W1, per key: a cursor yielded a key a second time.
    KeyTwice,
    /// W1, per element: a cursor yielded a key more times than it had incarnations in the
    /// cursor's window.
    ElementTwice,
    /// W2: a cursor ended without yielding a key present, in one incarnation, since its creation.
    MissedPresent,
    /// W3: a cursor yielded a value that its key never held during the cursor's window.
    ValueOutsideWindow,
    /// W3: a cursor yielded a key that was never present during its window.
    KeyOutsideWindow,
    /// W4: a cursor yielded more often than there were keys (per element: incarnations) present
    /// during its life.
    Unending,
}

impl WeakRule {
    /// Every rule, in the order of semantics.md §7.
    pub const ALL: [WeakRule; 6] = [
        WeakRule::KeyTwice,
        WeakRule::ElementTwice,
        WeakRule::MissedPresent,
        WeakRule::ValueOutsideWindow,
        WeakRule::KeyOutsideWindow,
        WeakRule::Unending,
    ];

    /// The rule's stable name in results and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            WeakRule::KeyTwice => "w1-key-twice",
            WeakRule::ElementTwice => "w1-element-twice",
            WeakRule::MissedPresent => "w2-missed",
            WeakRule::ValueOutsideWindow => "w3-value-outside-window",
            WeakRule::KeyOutsideWindow => "w3-key-outside-window",
            WeakRule::Unending => "w4-unending",
        }
    }

    /// A short description naming the rule of §7.
    pub fn describe(self) -> &'static str {
        match self {
            WeakRule::KeyTwice => "key yielded twice (W1, per key, §7)",
            WeakRule::ElementTwice => "element yielded twice (W1, per element, §7)",
            WeakRule::MissedPresent => "key present throughout not yielded (W2, §7)",
            WeakRule::ValueOutsideWindow => {
                "value the key never held during the cursor's window (W3, §7)"
            }
            WeakRule::KeyOutsideWindow => {
                "key never present during the cursor's window yielded (W3, §7)"
            }
            WeakRule::Unending => "more yields than keys in the cursor's life (W4, §7)",
        }
    }
}

impl FailureKind {
    /// A short description, naming the rule of semantics.md where there is one.
    pub fn describe(self) -> String {
        match self {
            FailureKind::WrongResult => "wrong result".to_string(),
            FailureKind::WrongLen => "wrong len".to_string(),
            FailureKind::WrongContents => "wrong contents".to_string(),
            FailureKind::DuplicateYield => "duplicate yield (rule 1)".to_string(),
            FailureKind::AbsentYield => "absent entry yielded (rules 2, 7)".to_string(),
            FailureKind::StaleValue => "stale value yielded (rule 3)".to_string(),
            FailureKind::MissedEntry => "entry missed (rule 4)".to_string(),
            FailureKind::Invariant(invariant) => format!("broken invariant {invariant:?}"),
            FailureKind::Shape(rule) => format!("shape: {} (§3a)", rule.name()),
            FailureKind::Weak(rule) => rule.describe().to_string(),
            FailureKind::Panic => "panic in the map".to_string(),
        }
    }

    /// A stable kebab-case name for machine-readable results (docs/results-schema.md): the
    /// cursor rules by the names `sim run --allow` takes, an invariant as `invariant/NAME`, a
    /// shape rule as `shape/NAME`, a rule of weakly consistent iteration as `weak/NAME`.
    pub fn name(self) -> String {
        match self {
            FailureKind::WrongResult => "wrong-result".to_string(),
            FailureKind::WrongLen => "wrong-len".to_string(),
            FailureKind::WrongContents => "wrong-contents".to_string(),
            FailureKind::DuplicateYield => "duplicate-yield".to_string(),
            FailureKind::AbsentYield => "absent-yield".to_string(),
            FailureKind::StaleValue => "stale-value".to_string(),
            FailureKind::MissedEntry => "missed-entry".to_string(),
            FailureKind::Invariant(invariant) => format!("invariant/{}", invariant.name()),
            FailureKind::Shape(rule) => format!("shape/{}", rule.name().replace(' ', "-")),
            FailureKind::Weak(rule) => format!("weak/{}", rule.name()),
            FailureKind::Panic => "panic".to_string(),
        }
    }
}

/// Where in a run a check failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Creating the map from the program's config, before the first op.
    CreateMap,
    /// Applying this op.
    Op(Op),
    /// The end-of-program checks: draining live cursors, the final audit, `iter()` against the
    /// model.
    End,
}

impl Stage {
    /// The stage of `step` in a program of these ops: the op at `step`, or [`Stage::End`] past
    /// the last one.
    pub fn at(ops: &[Op], step: usize) -> Stage {
        ops.get(step).map_or(Stage::End, |&op| Stage::Op(op))
    }
}

/// A failed check during [`crate::exec::run`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Index of the failing op in the program; 0 while creating the map, `ops.len()` for the
    /// end-of-program checks.
    pub step: usize,
    /// What the run was doing.
    pub stage: Stage,
    /// Which check failed.
    pub kind: FailureKind,
    /// What the model expected.
    pub expected: String,
    /// What the map did.
    pub found: String,
    /// The map's diagram right after the failure (`map_core::GoMap::diagram`).
    pub diagram: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.stage {
            Stage::CreateMap => writeln!(f, "failure before the first op: creating the map")?,
            Stage::Op(op) => writeln!(f, "failure at step {}: `{op}`", self.step)?,
            Stage::End => writeln!(f, "failure at step {}: end-of-program checks", self.step)?,
        }
        writeln!(f, "  check:    {}", self.kind.describe())?;
        writeln!(f, "  expected: {}", self.expected)?;
        writeln!(f, "  found:    {}", self.found)?;
        writeln!(f, "map at the failure:")?;
        for line in self.diagram.lines() {
            writeln!(f, "  {line}")?;
        }
        Ok(())
    }
}
