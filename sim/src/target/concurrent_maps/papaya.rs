//! papaya's `HashMap` (crates.io) in process, its iterator as the cursor.
//!
//! What papaya promises of its iterators (crate documentation, "Consistency"):
//!
//! > Aggregate operations, such as iterators, rely on a weak snapshot of the table and return
//! > results reflecting the state of the table at or some point after the creation of the
//! > iterator. This means that they may, but are not guaranteed to, reflect concurrent
//! > modifications to the table that occur during iteration. Similarly, operations such as
//! > `clear` and `clone` rely on iteration and may not produce "perfect" results if the map is
//! > being concurrently modified.
//!
//! and of `HashMap::iter`: "this method will block until any in-progress resizes are completed
//! before proceeding". That is semantics.md §7: a value from the window (W3), every key present
//! throughout yielded (W2), and no snapshot ("may ... reflect concurrent modifications").
//!
//! W1: papaya promises nothing about repeats, and its wording is that of Java's weakly
//! consistent iterators, so the target declares W1 **per element** (each incarnation at most
//! once), not per key. The per-key reading was tried first and refuted by what papaya does, in 9
//! ops (`sim/tests/concurrent_maps.rs` keeps the program): a cursor yields key 1, key 1 is
//! removed and re-inserted, and the cursor yields it again. papaya's table is open-addressed and
//! a removed key leaves a tombstone that an insert does not reuse, so the re-inserted key lands
//! in a later slot of the probe sequence, ahead of the iterator. Each state of the table the
//! iterator reflects holds the key once; the walk across two of them sees both incarnations,
//! which is what "may reflect concurrent modifications" allows and Go's per-key promise
//! (`sync.Map`) would not.
//!
//! Known, and papaya's: under the colliding hashers some programs never finish (seed 5 of
//! `sim run --target papaya`, `collide-low-bits`; seeds 24 and 51, `constant`). 827 inserts of 474 distinct keys whose hashes
//! share their low 8 bits four ways, then `iter()`: the iterator first completes the resize in
//! progress (`linearize`, `help_copy`, `insert_copy`), which allocates ever larger tables and
//! never returns (memory grows by about 65 MB/s), in `ResizeMode::Blocking` too. An in-process
//! target cannot be interrupted, so such a seed stops a campaign instead of failing it.

use std::sync::Arc;

use self_cell::self_cell;

use crate::concurrent::ConcurrentMap;
use crate::hasher::SimHasher;
use crate::op::{CursorId, MAX_CURSORS};
use crate::program::Program;
use crate::target::{Capabilities, Contract, NoRepeat, Target, TargetInfo};

/// The map under test: the program's seeded hasher, papaya's default (incremental) resizing.
type Map = ::papaya::HashMap<u64, u64, SimHasher>;

/// A pin of the map that a cursor owns: papaya's `HashMapRef` with an owned guard, borrowing the
/// map it pins.
type Pin<'map> = ::papaya::HashMapRef<'map, u64, u64, SimHasher, ::papaya::OwnedGuard<'map>>;

/// papaya's iterator, borrowing a pin.
type Iter<'pin> = ::papaya::Iter<'pin, u64, u64, ::papaya::OwnedGuard<'pin>>;

self_cell!(
    /// The `Arc`'d map and a pin of it (its guard), owned together.
    struct PinnedMap {
        owner: Arc<Map>,
        #[covariant]
        dependent: Pin,
    }
);

self_cell!(
    /// A cursor: papaya's iterator with the pin and the map it borrows.
    struct Cursor {
        owner: PinnedMap,
        #[covariant]
        dependent: Iter,
    }
);

impl Cursor {
    /// A new iterator over `map`, under a pin of its own.
    fn over(map: &Arc<Map>) -> Self {
        let pinned = PinnedMap::new(Arc::clone(map), |map| map.pin_owned());
        Cursor::new(pinned, |pinned| pinned.borrow_dependent().iter())
    }

    /// The iterator's next entry.
    fn next(&mut self) -> Option<(u64, u64)> {
        self.with_dependent_mut(|_, iter| iter.next().map(|(&k, &v)| (k, v)))
    }
}

pub(crate) const INFO: TargetInfo = TargetInfo {
    name: "papaya",
    about: super::TARGETS[0].1,
    capabilities: Capabilities {
        cursors: true,
        contract: Contract::Weak(NoRepeat::PerElement),
        ..Capabilities::PLAIN
    },
    create: |program| Ok(Box::new(PapayaTarget::new(program))),
    check_available: crate::target::always_available,
};

/// papaya's `HashMap`, hashed by the program's hasher, and the program's cursors on it.
pub struct PapayaTarget {
    map: Arc<Map>,
    cursors: [Option<Cursor>; MAX_CURSORS],
}

impl PapayaTarget {
    /// The program's map: its capacity hint and its seeded hasher.
    pub fn new(program: &Program) -> Self {
        let config = &program.config;
        PapayaTarget {
            map: Arc::new(Map::with_capacity_and_hasher(
                config.initial_capacity as usize,
                SimHasher::new(config.hasher, config.hasher_seed),
            )),
            cursors: Default::default(),
        }
    }
}

impl Target for PapayaTarget {
    fn insert(&mut self, key: u64, value: u64) -> Option<u64> {
        self.map.pin().insert(key, value).copied()
    }

    fn remove(&mut self, key: u64) -> Option<u64> {
        self.map.pin().remove(&key).copied()
    }

    fn get(&mut self, key: u64) -> Option<u64> {
        self.map.pin().get(&key).copied()
    }

    fn clear(&mut self) {
        self.map.pin().clear();
    }

    fn len(&mut self) -> usize {
        self.map.len()
    }

    fn contents(&mut self) -> Vec<(u64, u64)> {
        self.map.pin().iter().map(|(&k, &v)| (k, v)).collect()
    }

    fn cursor_new(&mut self, cursor: CursorId) {
        // The old cursor goes first, so that its guard is not held while the new one pins.
        self.cursors[cursor.index()] = None;
        self.cursors[cursor.index()] = Some(Cursor::over(&self.map));
    }

    fn cursor_next(&mut self, cursor: CursorId) -> Option<(u64, u64)> {
        self.cursors[cursor.index()]
            .as_mut()
            .expect("the executor steps only cursors that exist")
            .next()
    }

    fn cursor_drop(&mut self, cursor: CursorId, _coverage: &mut crate::coverage::Coverage) {
        self.cursors[cursor.index()] = None;
    }
}

shared_map!();
