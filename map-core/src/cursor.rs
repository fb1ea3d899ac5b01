//! Cursors: iteration that survives insert, remove, clear and growth between its steps (Go's
//! `hiter`, `mapiterinit` and `mapiternext`).

use std::hash::{BuildHasher, Hash};
use std::sync::{Arc, Weak};

use crate::bucket::{
    is_empty, Slot, BUCKET_CNT, EVACUATED_EMPTY, EVACUATED_X, EVACUATED_Y, NO_OVERFLOW,
};
use crate::map::GoMap;
#[cfg(feature = "faults")]
use crate::Fault;

/// What a cursor has done so far, for tests and coverage reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CursorStats {
    /// Calls to [`Cursor::next`].
    pub steps: u64,
    /// Entries yielded.
    pub yields: u64,
    /// Old buckets walked under the `checkBucket` filter: the cursor started at the current B
    /// during a growth and reached a bucket whose old bucket was not yet evacuated.
    pub old_bucket_walks: u64,
    /// Evacuated slots whose key was looked up again in the live map.
    pub relookups: u64,
    /// Re-lookups that found the key absent, so the slot was skipped.
    pub relookup_misses: u64,
    /// Growths (doubling or same-size) started during the cursor's life, as of its last step.
    pub growths_seen: u64,
}

/// The chain a walk is in (Go's `bptr`): an array, named by id, and a bucket index in it.
#[derive(Clone, Debug)]
struct ChainPos {
    array: u64,
    bucket: u32,
    /// Keeps the array readable when it is not the walk's home array (an old bucket walked
    /// under the `checkBucket` filter): growth may finish while the walk is in it. Held only
    /// for its effect on the map's pruning, never read.
    _pin: Option<Arc<()>>,
}

/// The position of an iteration, shared by [`Cursor`] and [`Iter`](crate::Iter).
#[derive(Clone, Debug)]
pub(crate) struct Walk {
    /// The array the walk started on (Go's `it.buckets`) and its B (Go's `it.B`).
    home: u64,
    b: u8,
    home_pin: Option<Arc<()>>,
    start_bucket: usize,
    offset: usize,
    /// The next main bucket to visit.
    bucket: usize,
    wrapped: bool,
    chain: Option<ChainPos>,
    /// The next slot counter (0..8) in the current bucket of the chain.
    i: usize,
    /// While walking an old bucket: the new bucket whose keys to yield (Go's `checkBucket`), and
    /// whether that growth was same-size (no filtering then).
    check_bucket: Option<(usize, bool)>,
    clear_seq: u64,
    growths_at_start: u64,
    finished: bool,
}

impl Walk {
    /// A walk from a random bucket and slot offset of the map's current array (Go's
    /// `mapiterinit`). On an empty map the walk is over at once, as in Go.
    pub(crate) fn new<K, V, S>(map: &GoMap<K, V, S>) -> Walk
    where
        K: Hash + Eq + Clone,
        S: BuildHasher,
    {
        let r = map.next_random() as usize;
        let array = &map.buckets;
        let start_bucket = r & array.mask();
        let offset = (r >> array.b) & (BUCKET_CNT - 1);
        let finished = map.is_empty();
        Walk {
            home: array.id,
            b: array.b,
            home_pin: (!finished).then(|| Arc::clone(&array.pin)),
            start_bucket,
            offset,
            bucket: start_bucket,
            wrapped: false,
            chain: None,
            i: 0,
            check_bucket: None,
            clear_seq: map.clear_seq,
            growths_at_start: map.grows + map.same_size_grows,
            finished,
        }
    }

    /// The random start: main bucket and slot offset.
    pub(crate) fn start(&self) -> (usize, usize) {
        (self.start_bucket, self.offset)
    }

    /// Whether the walk has ended.
    pub(crate) fn is_finished(&self) -> bool {
        self.finished
    }

    fn finish(&mut self) {
        self.finished = true;
        self.home_pin = None;
        self.chain = None;
    }

    /// Whether the walk has visited every bucket (with the `CursorWrapEndsEarly` fault: all but
    /// the last one).
    fn at_end<K, V, S>(&self, map: &GoMap<K, V, S>) -> bool
    where
        K: Hash + Eq + Clone,
        S: BuildHasher,
    {
        #[cfg(feature = "faults")]
        if map.has_fault(Fault::CursorWrapEndsEarly) {
            let mask = (1usize << self.b) - 1;
            return (self.bucket + 1) & mask == self.start_bucket
                && (self.wrapped || self.start_bucket == 0);
        }
        let _ = map;
        self.bucket == self.start_bucket && self.wrapped
    }

    /// The next entry (Go's `mapiternext`).
    pub(crate) fn next<'m, K, V, S>(
        &mut self,
        map: &'m GoMap<K, V, S>,
        stats: &mut CursorStats,
    ) -> Option<(&'m K, &'m V)>
    where
        K: Hash + Eq + Clone,
        S: BuildHasher,
    {
        if self.finished {
            return None;
        }
        stats.growths_seen = map.grows + map.same_size_grows - self.growths_at_start;
        #[cfg(feature = "faults")]
        let clear_stops = !map.has_fault(Fault::ClearKeepsCursors);
        #[cfg(not(feature = "faults"))]
        let clear_stops = true;
        if clear_stops && self.clear_seq != map.clear_seq {
            // The map was cleared: nothing from before may be yielded, and nothing after is owed.
            self.finish();
            return None;
        }
        loop {
            if self.chain.is_none() {
                if self.at_end(map) {
                    self.finish();
                    return None;
                }
                self.enter_bucket(map, stats);
            }
            let Some((array_id, bucket_index)) = self.chain.as_ref().map(|c| (c.array, c.bucket))
            else {
                self.finish();
                return None;
            };
            let Some(array) = map.array(array_id) else {
                // The array is gone: only possible after a clear, which ended the walk above.
                self.finish();
                return None;
            };
            let Some(bucket) = array.buckets.get(bucket_index as usize) else {
                self.finish();
                return None;
            };
            while self.i < BUCKET_CNT {
                let slot = (self.i + self.offset) & (BUCKET_CNT - 1);
                self.i += 1;
                let top = bucket.tophash[slot];
                if is_empty(top) || top == EVACUATED_EMPTY {
                    // Go cannot use emptyRest here either: the walk starts mid-bucket.
                    continue;
                }
                let key = match &bucket.slots[slot] {
                    Slot::Live(k, _) | Slot::Moved(k) => k,
                    Slot::Empty => continue,
                };
                if let Some((check_bucket, same_size)) = self.check_bucket {
                    #[cfg(feature = "faults")]
                    let filter = !same_size && !map.has_fault(Fault::SkipCheckBucket);
                    #[cfg(not(feature = "faults"))]
                    let filter = !same_size;
                    // Walking an old bucket for new bucket `check_bucket`: skip the keys that
                    // evacuation sends to the other new bucket.
                    if filter && (map.hash(key) as usize) & ((1usize << self.b) - 1) != check_bucket
                    {
                        continue;
                    }
                }
                if top != EVACUATED_X && top != EVACUATED_Y {
                    // The golden data: the entry lives here.
                    if let Slot::Live(k, v) = &bucket.slots[slot] {
                        stats.yields += 1;
                        return Some((k, v));
                    }
                    continue;
                }
                // The map has grown since the walk began: the entry lives elsewhere now, if at all.
                stats.relookups += 1;
                #[cfg(feature = "faults")]
                if map.has_fault(Fault::StaleEvacuatedYield) {
                    let forward = bucket.forward[slot];
                    let value = map
                        .array(forward.array)
                        .and_then(|a| a.buckets.get(forward.bucket as usize))
                        .and_then(|b| match &b.slots[forward.slot as usize] {
                            Slot::Live(_, v) => Some(v),
                            _ => None,
                        });
                    match value {
                        Some(v) => {
                            stats.yields += 1;
                            return Some((key, v));
                        }
                        None => continue,
                    }
                }
                match map.get_key_value(key) {
                    Some(entry) => {
                        stats.yields += 1;
                        return Some(entry);
                    }
                    None => {
                        stats.relookup_misses += 1;
                        continue;
                    }
                }
            }
            // This bucket is done: on to its overflow bucket, or to the next main bucket.
            self.i = 0;
            if bucket.overflow == NO_OVERFLOW {
                self.chain = None;
            } else if let Some(chain) = &mut self.chain {
                chain.bucket = bucket.overflow;
            }
        }
    }

    /// Picks the chain for main bucket `self.bucket` and advances it: the old bucket under the
    /// `checkBucket` filter when the walk started at the current B during a growth whose old bucket
    /// is not evacuated yet, else the home array's bucket.
    fn enter_bucket<K, V, S>(&mut self, map: &GoMap<K, V, S>, stats: &mut CursorStats)
    where
        K: Hash + Eq + Clone,
        S: BuildHasher,
    {
        let bucket = self.bucket;
        self.chain = None;
        self.check_bucket = None;
        if let Some(old) = &map.old {
            if self.b == map.buckets.b {
                let old_bucket = bucket & old.mask();
                if !old.buckets[old_bucket].evacuated() {
                    self.chain = Some(ChainPos {
                        array: old.id,
                        bucket: old_bucket as u32,
                        _pin: (old.id != self.home).then(|| Arc::clone(&old.pin)),
                    });
                    self.check_bucket = Some((bucket, map.same_size));
                    stats.old_bucket_walks += 1;
                }
            }
        }
        if self.chain.is_none() {
            self.chain = Some(ChainPos {
                array: self.home,
                bucket: bucket as u32,
                _pin: None,
            });
        }
        self.bucket += 1;
        if self.bucket == 1usize << self.b {
            self.bucket = 0;
            self.wrapped = true;
        }
        self.i = 0;
    }
}

/// A position in a [`GoMap`]'s iteration that holds no borrow of the map, so the map may change
/// in any way between two steps.
///
/// Created by [`GoMap::cursor`]. Each call to [`next`](Cursor::next) takes the map it came from.
/// The guarantees (the Go spec's, and shared/docs/semantics.md's section 2):
/// no entry incarnation is yielded twice; no removed entry is yielded; the value yielded is the
/// current one; when `next` returns `None`, every entry present at creation and never removed
/// since has been yielded exactly once; entries inserted after creation may or may not be; after
/// [`GoMap::clear`] nothing from before the clear is yielded.
///
/// ```
/// use map_core::GoMap;
/// let mut map: GoMap<u64, u64> = (0..100).map(|k| (k, k)).collect();
/// let mut cursor = map.cursor();
/// let mut sum = 0;
/// while let Some((_, v)) = cursor.next(&map) {
///     sum += *v;
///     map.force_grow(); // growth between steps is fine
/// }
/// assert_eq!(sum, (0..100).sum());
/// ```
#[derive(Debug)]
pub struct Cursor<K, V> {
    walk: Walk,
    map: Weak<()>,
    /// Counted by the map as a live cursor until the walk ends.
    alive: Option<Arc<()>>,
    stats: CursorStats,
    _entries: std::marker::PhantomData<fn() -> (K, V)>,
}

impl<K, V> Cursor<K, V>
where
    K: Hash + Eq + Clone,
{
    /// The next entry, or `None` when the iteration is over (and for every later call).
    ///
    /// # Panics
    ///
    /// If `map` is not the map this cursor came from (a clone of it counts as another map).
    pub fn next<'m, S: BuildHasher>(&mut self, map: &'m GoMap<K, V, S>) -> Option<(&'m K, &'m V)> {
        assert!(
            std::ptr::eq(self.map.as_ptr(), Arc::as_ptr(&map.identity)),
            "map_core::Cursor::next called with a map the cursor did not come from"
        );
        self.stats.steps += 1;
        let entry = self.walk.next(map, &mut self.stats);
        if entry.is_none() {
            self.alive = None;
        }
        entry
    }

    /// What this cursor has done so far.
    pub fn stats(&self) -> CursorStats {
        self.stats
    }

    /// Whether the iteration is over: `next` returned `None`.
    pub fn is_finished(&self) -> bool {
        self.walk.finished
    }
}

impl<K, V, S> GoMap<K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
    /// A cursor over the map, starting at a random bucket and slot offset drawn from the map's
    /// seeded random stream (Go's `mapiterinit`). The cursor borrows nothing: pass the map to
    /// each [`Cursor::next`], and change the map as you like in between.
    pub fn cursor(&mut self) -> Cursor<K, V> {
        self.prune_retired();
        let walk = Walk::new(self);
        let alive = (!walk.finished).then(|| Arc::clone(&self.identity));
        Cursor {
            walk,
            map: Arc::downgrade(&self.identity),
            alive,
            stats: CursorStats::default(),
            _entries: std::marker::PhantomData,
        }
    }
}
