//! flurry's `HashMap` (crates.io) in process, its `iter(&guard)` as the cursor.
//!
//! flurry is "a concurrent hash table based on Java's `ConcurrentHashMap`", and says of its
//! iterators (crate documentation, "Consistency"):
//!
//! > Operations that inspect the map as a whole, rather than a single key, operate on a snapshot
//! > of the underlying table. For example, iterators return elements reflecting the state of the
//! > hash table at some point at or since the creation of the iterator.
//!
//! "A snapshot of the underlying table" is the table array, not its contents: the bins are walked
//! as they are when the iterator reaches them. Java's `ConcurrentHashMap`, of which flurry is a
//! port, states the contract exactly: its iterators are weakly consistent, "guaranteed to
//! traverse elements as they existed upon construction exactly once, and may (but are not
//! guaranteed to) reflect any modifications subsequent to construction". That is semantics.md §7
//! with W1 per element: a key removed and re-inserted goes to the end of its bin's chain, ahead
//! of an iterator in that bin, and may be yielded again.

use std::sync::Arc;

use self_cell::self_cell;

use crate::concurrent::ConcurrentMap;
use crate::hasher::SimHasher;
use crate::op::{CursorId, MAX_CURSORS};
use crate::program::Program;
use crate::target::{Capabilities, Contract, NoRepeat, Target, TargetInfo};

/// The map under test, hashed by the program's hasher.
type Map = ::flurry::HashMap<u64, u64, SimHasher>;

/// A guard of the map's collector, borrowing the map.
type Guard<'map> = ::flurry::Guard<'map>;

/// flurry's iterator, borrowing the map and a guard.
type Iter<'guard> = ::flurry::iter::Iter<'guard, u64, u64>;

self_cell!(
    /// The `Arc`'d map and a guard of it, owned together.
    struct GuardedMap {
        owner: Arc<Map>,
        #[covariant]
        dependent: Guard,
    }
);

self_cell!(
    /// A cursor: flurry's iterator with the guard and the map it borrows.
    struct Cursor {
        owner: GuardedMap,
        #[covariant]
        dependent: Iter,
    }
);

impl Cursor {
    /// A new iterator over `map`, under a guard of its own.
    fn over(map: &Arc<Map>) -> Self {
        let guarded = GuardedMap::new(Arc::clone(map), |map| map.guard());
        Cursor::new(guarded, |guarded| {
            guarded.borrow_owner().iter(guarded.borrow_dependent())
        })
    }

    /// The iterator's next entry.
    fn next(&mut self) -> Option<(u64, u64)> {
        self.with_dependent_mut(|_, iter| iter.next().map(|(&k, &v)| (k, v)))
    }
}

target_map!(FlurryTarget, "flurry", 1);

shared_map!();
