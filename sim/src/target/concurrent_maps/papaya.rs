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
//! `sim run --target papaya`, `collide-low-bits`; seeds 24 and 51, `constant`). `sim shrink` of
//! seed 5's saved hang (candidates judged in child processes, 300 ms each) took its 1510 ops to
//! 54 inserts of distinct keys whose hashes share their low 8 bits four ways, every one of which
//! returns, and then the end-of-program walk of the map, which never does
//! (`docs/findings/papaya-iter-hangs-after-54-inserts.trace`, pinned by a test that its replay
//! still runs after 2 s). Before the shrink, by hand: 827 inserts of 474 distinct keys whose hashes
//! share their low 8 bits four ways, then `iter()`: the iterator first completes the resize in
//! progress (`linearize`, `help_copy`, `insert_copy`), which allocates ever larger tables and
//! never returns (memory grows by about 65 MB/s), in `ResizeMode::Blocking` too. An in-process
//! target cannot be interrupted, so such a seed stops a campaign instead of failing it (the
//! watchdog saves it and ends the run, exit 1). Under `constant` every table size gives every key
//! the same probe sequence (`hash & mask`, quadratic), so an insert past papaya's probe limit
//! (`5 * log2(capacity)`, `raw/probe.rs`) always asks for another table. Under
//! `collide-low-bits` the likely reason, read from papaya's source (not confirmed by
//! instrumenting it): the next table is twice the size only when the map is at least half full,
//! and otherwise the same size (`get_or_alloc_next`, `raw/mod.rs` 1950-1965). In a table of at
//! most 256 slots, keys whose hashes share their low 8 bits start their probes at the same four
//! slots in every table of that size, so a copy that overran the probe limit overruns it again
//! in the same-size table, which asks for yet another. The shrunk trace agrees on one point: it
//! hangs when the map starts with 32 or 64 slots (initial capacity 0, 20, 40) and finishes when
//! it starts with 128 or more (50, 90, 100, 300, 3000). papaya's campaign looks past both modes
//! with `sim run --target papaya --hashers seeded,collide-tophash`.

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

target_map!(PapayaTarget, "papaya", 0);

shared_map!();
