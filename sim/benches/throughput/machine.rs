//! The plain-op workload written as a proptest-state-machine test, for comparison with the
//! simulator: the same map (`SimMap`, seeded hasher, same seeds), the same reference (`sim`'s
//! `Model`), the same op mix and key choices as `sim::gen::generate_with` draws for plain ops, and
//! the same checks as `sim::exec::run`: every result compared with the model's, `len()` compared
//! after every op, `check_invariants` every `AUDIT_EVERY`-th op and once more at the end.

use map_core::GoMap;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};
use sim::exec::SimMap;
use sim::gen::KeyPool;
use sim::hasher::SimHasher;
use sim::model::Model;
use sim::op::Op;
use sim::program::HasherMode;

use crate::workload;

/// How a transition chooses its key, as the simulator's generator does: a present key or a
/// recently removed one when there is one, else the uniform key drawn alongside. The list entry
/// is named by an `Index` and resolved when the transition is applied: a strategy that selected
/// from the lists directly would have to copy them at every step.
#[derive(Clone, Debug)]
pub enum Pick {
    /// Uniform over the key space.
    Any(u64),
    /// One of the present keys; the uniform key when none is present.
    Present(Index, u64),
    /// One of the last 16 removed or cleared keys (a re-insert); the uniform key when there is none.
    Removed(Index, u64),
}

/// One transition: a plain op, or a burst of inserts, before its keys are resolved.
#[derive(Clone, Debug)]
pub enum PlainOp {
    /// `insert(key, value)` for each pair, in order: the generator draws inserts in bursts.
    Insert(Vec<(Pick, u64)>),
    /// `remove(key)`.
    Remove(Pick),
    /// `get(key)`.
    Get(Pick),
    /// `clear()`.
    Clear,
}

impl PlainOp {
    /// How many map ops this transition applies.
    pub fn ops(&self) -> usize {
        match self {
            PlainOp::Insert(burst) => burst.len(),
            _ => 1,
        }
    }
}

/// The reference state: `sim`'s model plus the key lists the generator keeps to aim ops.
#[derive(Clone, Debug)]
pub struct Reference {
    model: Model,
    step: usize,
    keys: KeyPool,
    /// The last transition resolved to concrete ops, each with the model's result and `len()`
    /// after it.
    pub last: Vec<(Op, Option<u64>, usize)>,
}

impl Default for Reference {
    fn default() -> Self {
        Reference {
            model: Model::for_key_space(workload::KEY_SPACE),
            step: 0,
            keys: KeyPool::new(workload::KEY_SPACE),
            last: Vec::new(),
        }
    }
}

impl Reference {
    fn record(&mut self, op: Op, expected: Option<u64>) {
        self.last.push((op, expected, self.model.len()));
        self.step += 1;
    }

    /// Resolves an insert's pick and adds its key to the key lists, as the generator does (a
    /// re-insert by its index in the removed list).
    fn add(&mut self, pick: &Pick) -> u64 {
        match *pick {
            Pick::Removed(ix, _) if self.keys.removed_len() > 0 => {
                self.keys.insert_removed(ix.index(self.keys.removed_len()))
            }
            _ => {
                let key = self.resolve(pick);
                self.keys.insert(key);
                key
            }
        }
    }

    fn resolve(&self, pick: &Pick) -> u64 {
        let removed = self.keys.removed_len();
        match *pick {
            Pick::Any(key) => key,
            Pick::Present(_, key) if self.keys.is_empty() => key,
            Pick::Present(ix, _) => self.keys.present(ix.index(self.keys.len())),
            Pick::Removed(_, key) if removed == 0 => key,
            Pick::Removed(ix, _) => self.keys.removed(ix.index(removed)),
        }
    }
}

/// A list key (`list`) with weight `from_list`, else a uniform key with weight `uniform`.
fn pick(from_list: u32, uniform: u32, list: fn(Index, u64) -> Pick) -> BoxedStrategy<Pick> {
    let key = 0..workload::KEY_SPACE;
    prop_oneof![
        from_list => (any::<Index>(), key.clone()).prop_map(move |(ix, k)| list(ix, k)),
        uniform => key.prop_map(Pick::Any),
    ]
    .boxed()
}

/// The generator's draws: an insert is a burst of 2..=16 inserts 15% of the time; inserts re-use
/// a recently removed key 1 time in 4, removes aim at a present key 4 times in 5, gets 1 time in 2.
fn transition_strategy() -> BoxedStrategy<PlainOp> {
    let insert = (pick(1, 3, Pick::Removed), any::<u64>());
    let burst = prop_oneof![
        85 => insert.clone().prop_map(|one| vec![one]),
        15 => proptest::collection::vec(insert, 2..=16),
    ];
    prop_oneof![
        u32::from(workload::INSERT) => burst.prop_map(PlainOp::Insert),
        u32::from(workload::REMOVE) => pick(4, 1, Pick::Present).prop_map(PlainOp::Remove),
        u32::from(workload::GET) => pick(1, 1, Pick::Present).prop_map(PlainOp::Get),
        u32::from(workload::CLEAR) => Just(PlainOp::Clear),
    ]
    .boxed()
}

/// The reference state machine of the plain-op workload.
pub struct PlainReference;

impl ReferenceStateMachine for PlainReference {
    type State = Reference;
    type Transition = PlainOp;

    fn init_state() -> BoxedStrategy<Reference> {
        Just(Reference::default()).boxed()
    }

    fn transitions(_: &Reference) -> BoxedStrategy<PlainOp> {
        // The draws do not depend on the state (picks resolve against it later), so the strategy
        // is built once per thread and shared: proptest's cost here is only what it must do.
        thread_local! {
            static TRANSITIONS: BoxedStrategy<PlainOp> = transition_strategy();
        }
        TRANSITIONS.with(BoxedStrategy::clone)
    }

    fn apply(mut state: Reference, transition: &PlainOp) -> Reference {
        state.last.clear();
        match transition {
            PlainOp::Insert(burst) => {
                for (pick, value) in burst {
                    let key = state.add(pick);
                    let expected = state.model.insert(key, *value, state.step);
                    state.record(Op::Insert { key, value: *value }, expected);
                }
            }
            PlainOp::Remove(pick) => {
                let key = state.resolve(pick);
                state.keys.remove(key);
                let expected = state.model.remove(key, state.step);
                state.record(Op::Remove { key }, expected);
            }
            PlainOp::Get(pick) => {
                let key = state.resolve(pick);
                let expected = state.model.get(key);
                state.record(Op::Get { key }, expected);
            }
            PlainOp::Clear => {
                state.keys.clear();
                state.model.clear(state.step);
                state.record(Op::Clear, None);
            }
        }
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
        for &(op, expected, len) in &reference.last {
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
                len,
                "after `{op}`: len differs from the model's"
            );
            sut.since_audit += 1;
            if sut.since_audit >= AUDIT_EVERY {
                sut.since_audit = 0;
                audit(&sut.map);
            }
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
