//! The plain-op workload written as a proptest-state-machine test, for comparison with the
//! simulator: the same map (`SimMap`, seeded hasher, same seeds), the same reference (`sim`'s
//! `Model`), the same op mix and key choices as `sim::gen::generate_with` draws for plain ops, and
//! the same checks as `sim::exec::run`: every result compared with the model's, `len()` compared
//! after every op, `check_invariants` every `AUDIT_EVERY`-th op and once more at the end.

use std::collections::BTreeMap;

use map_core::GoMap;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};
use sim::exec::SimMap;
use sim::hasher::SimHasher;
use sim::model::Model;
use sim::op::Op;
use sim::program::HasherMode;

use crate::workload;

/// How a transition chooses its key. Present and recently removed keys are named by an `Index`
/// into the reference's lists and resolved when the transition is applied: a strategy that
/// selected from those lists directly would have to copy them at every step.
#[derive(Clone, Debug)]
pub enum Pick {
    /// Uniform over the key space.
    Any(u64),
    /// One of the present keys.
    Present(Index),
    /// One of the last 16 removed or cleared keys (a re-insert).
    Removed(Index),
}

/// One plain op, before its key is resolved.
#[derive(Clone, Debug)]
pub enum PlainOp {
    /// `insert(key, value)`.
    Insert {
        /// The key.
        key: Pick,
        /// The value.
        value: u64,
    },
    /// `remove(key)`.
    Remove(Pick),
    /// `get(key)`.
    Get(Pick),
    /// `clear()`.
    Clear,
}

/// The reference state: `sim`'s model plus the key lists the generator keeps to aim ops.
#[derive(Clone, Debug, Default)]
pub struct Reference {
    model: Model,
    step: usize,
    present: Vec<u64>,
    position: BTreeMap<u64, usize>,
    removed: Vec<u64>,
    /// The last transition resolved to a concrete op, and the model's result for it.
    pub last: Option<(Op, Option<u64>)>,
}

impl Reference {
    /// The number of keys present in the model.
    pub fn model_len(&self) -> usize {
        self.model.len()
    }

    fn resolve(&self, pick: &Pick) -> u64 {
        match pick {
            Pick::Any(key) => *key,
            Pick::Present(ix) => self.present[ix.index(self.present.len())],
            Pick::Removed(ix) => self.removed[ix.index(self.removed.len())],
        }
    }

    fn can_resolve(&self, pick: &Pick) -> bool {
        match pick {
            Pick::Any(_) => true,
            Pick::Present(_) => !self.present.is_empty(),
            Pick::Removed(_) => !self.removed.is_empty(),
        }
    }

    // The key bookkeeping below is the generator's (sim::gen), so both sides aim ops alike.

    fn add_present(&mut self, key: u64) {
        if let std::collections::btree_map::Entry::Vacant(slot) = self.position.entry(key) {
            slot.insert(self.present.len());
            self.present.push(key);
        }
        self.removed.retain(|&k| k != key);
    }

    fn forget_present(&mut self, key: u64) {
        if let Some(i) = self.position.remove(&key) {
            self.present.swap_remove(i);
            if let Some(&moved) = self.present.get(i) {
                self.position.insert(moved, i);
            }
            self.push_removed(key);
        }
    }

    fn forget_all(&mut self) {
        self.position.clear();
        for key in std::mem::take(&mut self.present) {
            self.push_removed(key);
        }
    }

    fn push_removed(&mut self, key: u64) {
        const KEEP: usize = 16;
        if self.removed.len() == KEEP {
            self.removed.remove(0);
        }
        self.removed.push(key);
    }
}

/// `Present` with weight `present`, `Any` with weight `uniform`; only `Any` when nothing is present.
fn present_or_any(state: &Reference, present: u32, uniform: u32) -> BoxedStrategy<Pick> {
    let any_key = (0..workload::KEY_SPACE).prop_map(Pick::Any);
    if state.present.is_empty() {
        any_key.boxed()
    } else {
        prop_oneof![present => any::<Index>().prop_map(Pick::Present), uniform => any_key].boxed()
    }
}

/// The reference state machine of the plain-op workload.
pub struct PlainReference;

impl ReferenceStateMachine for PlainReference {
    type State = Reference;
    type Transition = PlainOp;

    fn init_state() -> BoxedStrategy<Reference> {
        Just(Reference::default()).boxed()
    }

    fn transitions(state: &Reference) -> BoxedStrategy<PlainOp> {
        // The generator's key choices: inserts re-use a recently removed key 1 time in 4, removes
        // aim at a present key 4 times in 5, gets 1 time in 2.
        let any_key = (0..workload::KEY_SPACE).prop_map(Pick::Any);
        let insert_key = if state.removed.is_empty() {
            any_key.boxed()
        } else {
            prop_oneof![3 => any_key, 1 => any::<Index>().prop_map(Pick::Removed)].boxed()
        };
        prop_oneof![
            workload::PROPTEST_INSERT_WEIGHT => (insert_key, any::<u64>())
                .prop_map(|(key, value)| PlainOp::Insert { key, value }),
            workload::PROPTEST_REMOVE_WEIGHT => present_or_any(state, 4, 1).prop_map(PlainOp::Remove),
            workload::PROPTEST_GET_WEIGHT => present_or_any(state, 1, 1).prop_map(PlainOp::Get),
            workload::PROPTEST_CLEAR_WEIGHT => Just(PlainOp::Clear),
        ]
        .boxed()
    }

    fn preconditions(state: &Reference, transition: &PlainOp) -> bool {
        // Shrinking may delete the ops that made a key present; such a pick no longer resolves.
        match transition {
            PlainOp::Insert { key, .. } | PlainOp::Remove(key) | PlainOp::Get(key) => {
                state.can_resolve(key)
            }
            PlainOp::Clear => true,
        }
    }

    fn apply(mut state: Reference, transition: &PlainOp) -> Reference {
        let step = state.step;
        let (op, expected) = match transition {
            PlainOp::Insert { key, value } => {
                let key = state.resolve(key);
                state.add_present(key);
                (
                    Op::Insert { key, value: *value },
                    state.model.insert(key, *value, step),
                )
            }
            PlainOp::Remove(key) => {
                let key = state.resolve(key);
                state.forget_present(key);
                (Op::Remove { key }, state.model.remove(key, step))
            }
            PlainOp::Get(key) => {
                let key = state.resolve(key);
                (Op::Get { key }, state.model.get(key))
            }
            PlainOp::Clear => {
                state.forget_all();
                state.model.clear(step);
                (Op::Clear, None)
            }
        };
        state.last = Some((op, expected));
        state.step += 1;
        state
    }
}

/// The map under test and the ops since its last audit.
pub struct Sut {
    map: SimMap,
    since_audit: u32,
}

/// The test: applies each resolved op to the map and checks it as `sim::exec::run` does.
pub struct PlainTest<const AUDIT_EVERY: u32>;

impl<const AUDIT_EVERY: u32> StateMachineTest for PlainTest<AUDIT_EVERY> {
    type SystemUnderTest = Sut;
    type Reference = PlainReference;

    fn init_test(_: &Reference) -> Sut {
        let hasher = SimHasher::new(HasherMode::Seeded, workload::HASHER_SEED);
        Sut {
            map: GoMap::with_capacity_hasher_and_seed(0, hasher, workload::MAP_SEED),
            since_audit: 0,
        }
    }

    fn apply(mut sut: Sut, reference: &Reference, _: PlainOp) -> Sut {
        let (op, expected) = reference
            .last
            .expect("the reference resolved the transition it applied");
        let found = match op {
            Op::Insert { key, value } => sut.map.insert(key, value),
            Op::Remove { key } => sut.map.remove(&key),
            Op::Get { key } => sut.map.get(&key).copied(),
            Op::Clear => {
                sut.map.clear();
                None
            }
            other => unreachable!("the plain workload has no {other}"),
        };
        assert_eq!(
            found, expected,
            "`{op}`: the map's result differs from the model's"
        );
        assert_eq!(
            sut.map.len(),
            reference.model.len(),
            "after `{op}`: len differs from the model's"
        );
        sut.since_audit += 1;
        if sut.since_audit >= AUDIT_EVERY {
            sut.since_audit = 0;
            audit(&sut.map);
        }
        sut
    }

    fn teardown(sut: Sut) {
        audit(&sut.map);
    }
}

fn audit(map: &SimMap) {
    if let Err(e) = map.check_invariants() {
        panic!("check_invariants: {e}");
    }
}
