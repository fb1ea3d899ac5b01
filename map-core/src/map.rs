//! The map itself: construction, lookup, insert, remove and clear (Go's `makemap`, `mapaccess`,
//! `mapassign`, `mapdelete`, `mapclear`).

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::bucket::{
    BucketArray, Slot, BUCKET_CNT, EMPTY_ONE, EMPTY_REST, MIN_TOP_HASH, NO_OVERFLOW,
};
use crate::hash::{hash_seed_from, mix64, os_seed, DefaultHashBuilder, GOLDEN_GAMMA};
use crate::Fault;

/// The load factor's numerator and denominator: Go grows at an average of 6.5 entries per bucket.
const LOAD_FACTOR_NUM: usize = 13;
const LOAD_FACTOR_DEN: usize = 2;

/// A hash map built on the algorithm of Go's runtime map (runtime/map.go, Go 1.18-1.23): 8-slot
/// buckets with tophash bytes, overflow chains, load factor 6.5, incremental doubling and
/// same-size growth, and randomized iteration.
///
/// Its [`Cursor`](crate::Cursor) holds no borrow of the map, so the map may be inserted into,
/// removed from, cleared and grown between two steps, with Go's guarantees: no entry twice, no
/// removed entry, latest values, every surviving entry exactly once.
///
/// `K: Clone` is needed because Rust moves an entry when its bucket is evacuated, where Go copies
/// it: a cursor walking the old array must still find the key to look it up again in the live map,
/// so while a cursor is alive the old slot keeps a clone of the key (Go's `oldIterator` flag).
/// Without live cursors no key is ever cloned.
///
/// ```
/// use map_core::GoMap;
/// let mut map = GoMap::with_seed(1);
/// for k in 0..20u64 {
///     map.insert(k, k * 10);
/// }
/// let mut cursor = map.cursor();
/// let mut seen = 0;
/// while let Some((k, _)) = cursor.next(&map) {
///     let k = *k;
///     seen += 1;
///     // The map may change between steps.
///     map.remove(&(k + 1));
///     map.insert(1000 + k, 0);
/// }
/// assert!(seen > 0);
/// map.check_invariants().unwrap();
/// ```
pub struct GoMap<K, V, S = DefaultHashBuilder> {
    pub(crate) hasher: S,
    /// Live entries (Go's `count`).
    pub(crate) count: usize,
    /// The current bucket array (Go's `buckets`).
    pub(crate) buckets: BucketArray<K, V>,
    /// The array being evacuated while growing (Go's `oldbuckets`).
    pub(crate) old: Option<BucketArray<K, V>>,
    /// Old buckets below this index are evacuated (Go's `nevacuate`).
    pub(crate) nevacuate: usize,
    /// The growth under way keeps the bucket count (Go's `sameSizeGrow` flag).
    pub(crate) same_size: bool,
    /// Overflow buckets of the current array, counted exactly (Go approximates for B >= 16).
    pub(crate) noverflow: usize,
    /// Old arrays that growth or clear has finished with but that cursors still walk.
    pub(crate) retired: Vec<BucketArray<K, V>>,
    pub(crate) next_array_id: u64,
    /// Bumped by every clear that had entries; cursors that saw another value stop (Go's `clearSeq`).
    pub(crate) clear_seq: u64,
    /// The map's own random stream for iteration starts (a splitmix64 counter).
    pub(crate) rng: AtomicU64,
    /// Cursors hold a strong clone while they may still yield: the live-cursor count.
    pub(crate) identity: Arc<()>,
    /// A new key was inserted while a growth was under way, so the load-factor check is deferred
    /// to the next insert of a new key (Go only checks on insert).
    pub(crate) load_check_deferred: bool,
    pub(crate) grows: u64,
    pub(crate) same_size_grows: u64,
    #[cfg(feature = "faults")]
    pub(crate) fault: Option<Fault>,
    /// The capacity hint the map was made with: the `CapacityHintBySlots` fault re-sizes a fresh
    /// map from it when injected.
    #[cfg(feature = "faults")]
    pub(crate) capacity_hint: usize,
    /// Removes since the last growth or clear, counted against the load factor by the
    /// `TombstonesCountTowardLoad` fault.
    #[cfg(feature = "faults")]
    pub(crate) tombstones: usize,
}

/// Where a live entry sits: which array, which bucket of it, which slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlotRef {
    pub in_old: bool,
    pub bucket: u32,
    pub slot: usize,
}

/// `count > 8 && count > 6.5 * 2^b` (Go's `overLoadFactor`).
#[inline]
pub(crate) fn over_load_factor(count: usize, b: u8) -> bool {
    count > BUCKET_CNT && count > LOAD_FACTOR_NUM * ((1usize << b) / LOAD_FACTOR_DEN)
}

/// The B that `makemap` picks for a capacity hint: the smallest whose array holds `capacity`
/// entries without going over the load factor (0 for `capacity <= 8`).
#[inline]
pub(crate) fn sized_b(capacity: usize) -> u8 {
    let mut b = 0u8;
    while b < 31 && over_load_factor(capacity, b) {
        b += 1;
    }
    b
}

/// `noverflow >= 2^min(b, 15)` (Go's `tooManyOverflowBuckets`).
#[inline]
pub(crate) fn too_many_overflow_buckets(noverflow: usize, b: u8) -> bool {
    noverflow >= 1usize << b.min(15)
}

impl<K, V> GoMap<K, V, DefaultHashBuilder>
where
    K: Hash + Eq + Clone,
{
    /// An empty map whose hash seed and iteration randomness come from the operating system, like
    /// a Go map. Use [`GoMap::with_seed`] to replay.
    pub fn new() -> Self {
        Self::with_seed(os_seed())
    }

    /// An empty map whose hash seed and iteration randomness are fixed by `seed`: the same seed
    /// and the same calls give the same order, always.
    pub fn with_seed(seed: u64) -> Self {
        Self::with_capacity_and_seed(0, seed)
    }

    /// An empty map sized for `capacity` entries without growing (Go's `makemap` hint).
    pub fn with_capacity_and_seed(capacity: usize, seed: u64) -> Self {
        let hasher = DefaultHashBuilder::with_seed(hash_seed_from(seed));
        Self::with_capacity_hasher_and_seed(capacity, hasher, seed)
    }
}

impl<K, V> Default for GoMap<K, V, DefaultHashBuilder>
where
    K: Hash + Eq + Clone,
{
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V, S> GoMap<K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
    /// An empty map hashing with `hasher`; `seed` fixes its iteration randomness.
    pub fn with_hasher_and_seed(hasher: S, seed: u64) -> Self {
        Self::with_capacity_hasher_and_seed(0, hasher, seed)
    }

    /// An empty map hashing with `hasher`, sized for `capacity` entries; `seed` fixes its
    /// iteration randomness.
    pub fn with_capacity_hasher_and_seed(capacity: usize, hasher: S, seed: u64) -> Self {
        let b = sized_b(capacity);
        GoMap {
            hasher,
            count: 0,
            buckets: BucketArray::new(0, b),
            old: None,
            nevacuate: 0,
            same_size: false,
            noverflow: 0,
            retired: Vec::new(),
            next_array_id: 1,
            clear_seq: 0,
            rng: AtomicU64::new(mix64(seed)),
            identity: Arc::new(()),
            load_check_deferred: false,
            grows: 0,
            same_size_grows: 0,
            #[cfg(feature = "faults")]
            fault: None,
            #[cfg(feature = "faults")]
            capacity_hint: capacity,
            #[cfg(feature = "faults")]
            tombstones: 0,
        }
    }

    /// The number of entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the map has no entries.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The map's hasher.
    pub fn hasher(&self) -> &S {
        &self.hasher
    }

    /// Whether a growth (doubling or same-size) is under way (Go's `growing`).
    #[inline]
    pub fn is_growing(&self) -> bool {
        self.old.is_some()
    }

    /// Injects `fault`, replacing any fault injected before.
    ///
    /// A fault of `makemap` ([`Fault::CapacityHintBySlots`]) injected into a map that has not
    /// been used yet (no entry, no growth, no cursor) re-sizes it as the faulty `makemap` would
    /// have; injected later, it changes nothing.
    #[cfg(feature = "faults")]
    pub fn inject(&mut self, fault: Fault) {
        self.fault = Some(fault);
        let fresh = self.count == 0
            && self.old.is_none()
            && self.grows == 0
            && self.same_size_grows == 0
            && self.noverflow == 0
            && self.live_cursors() == 0;
        if fault == Fault::CapacityHintBySlots && fresh {
            // Sized so that the hint fits the slots, 8 per bucket, ignoring the load factor.
            let mut b = 0u8;
            while b < 31 && self.capacity_hint > BUCKET_CNT << b {
                b += 1;
            }
            self.buckets = BucketArray::new(self.buckets.id, b);
        }
    }

    /// The fault injected, if any.
    #[cfg(feature = "faults")]
    pub fn injected(&self) -> Option<Fault> {
        self.fault
    }

    /// Whether `fault` is injected; a constant `false` without the `faults` feature.
    #[cfg(feature = "faults")]
    #[inline]
    pub(crate) fn has_fault(&self, fault: Fault) -> bool {
        self.fault == Some(fault)
    }

    /// Whether `fault` is injected: [`Self::has_fault`], and a constant `false` without the
    /// `faults` feature, so that a check needs no `cfg` of its own.
    #[inline(always)]
    pub(crate) fn fault_is(&self, fault: Fault) -> bool {
        #[cfg(feature = "faults")]
        {
            self.has_fault(fault)
        }
        #[cfg(not(feature = "faults"))]
        {
            let _ = fault;
            false
        }
    }

    /// The count the load factor is checked against: the entries (with the
    /// `TombstonesCountTowardLoad` fault, plus the removes since the last growth).
    #[inline]
    fn load_count(&self) -> usize {
        #[cfg(feature = "faults")]
        if self.fault_is(Fault::TombstonesCountTowardLoad) {
            return self.count + self.tombstones;
        }
        self.count
    }

    /// Whether an insert of a new key must start a growth now (the condition of Go's
    /// `mapassign`, evaluated before the key is added): not growing, and over the load factor
    /// with one more entry or with too many overflow buckets.
    #[inline]
    fn needs_growth(&self) -> bool {
        !self.is_growing()
            && (over_load_factor(self.load_count() + 1, self.buckets.b)
                || (too_many_overflow_buckets(self.noverflow, self.buckets.b)
                    && !self.fault_is(Fault::NoSameSizeGrowth)))
    }

    #[inline]
    pub(crate) fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The tophash of a hash: its top byte, moved up past the markers (Go's `tophash`).
    #[inline]
    pub(crate) fn tophash(&self, hash: u64) -> u8 {
        let top = (hash >> 56) as u8;
        #[cfg(feature = "faults")]
        if self.has_fault(Fault::TophashNoMinOffset) {
            return top;
        }
        if top < MIN_TOP_HASH {
            top + MIN_TOP_HASH
        } else {
            top
        }
    }

    /// The next draw of the map's random stream.
    pub(crate) fn next_random(&self) -> u64 {
        mix64(self.rng.fetch_add(GOLDEN_GAMMA, Ordering::Relaxed))
    }

    /// The number of cursors alive for this map.
    pub(crate) fn live_cursors(&self) -> usize {
        Arc::strong_count(&self.identity) - 1
    }

    /// Finds the slot holding `key` (Go's `mapaccess`): in the old array when the key's old bucket
    /// is not yet evacuated, else in the current one. Never evacuates.
    #[inline]
    pub(crate) fn find<Q>(&self, hash: u64, key: &Q) -> Option<SlotRef>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.find_entry(hash, key).map(|(at, _, _)| at)
    }

    /// [`Self::find`], with the entry found: a lookup that reads the entry needs no second
    /// indexing of array, bucket and slot.
    #[inline]
    fn find_entry<Q>(&self, hash: u64, key: &Q) -> Option<(SlotRef, &K, &V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut array = &self.buckets;
        let mut in_old = false;
        if let Some(old) = &self.old {
            let old_index = hash as usize & old.mask();
            if !old.buckets[old_index].evacuated() {
                array = old;
                in_old = true;
            }
        }
        let top = self.tophash(hash);
        let mut index = (hash as usize & array.mask()) as u32;
        loop {
            let bucket = &array.buckets[index as usize];
            let (found, ends_chain) = bucket.find(top, key);
            if let Some(slot) = found {
                if let Slot::Live(k, v) = &bucket.slots[slot] {
                    let at = SlotRef {
                        in_old,
                        bucket: index,
                        slot,
                    };
                    return Some((at, k, v));
                }
            }
            if ends_chain || bucket.overflow == NO_OVERFLOW {
                return None;
            }
            index = bucket.overflow;
        }
    }

    /// The value of the first live slot in `hash`'s chain with its tophash, whatever its key: the
    /// lookup of [`Fault::IndexSkipsKeyCompare`].
    #[cfg(feature = "faults")]
    pub(crate) fn first_with_tophash(&self, hash: u64) -> Option<&V> {
        let array = match &self.old {
            Some(old) if !old.buckets[hash as usize & old.mask()].evacuated() => old,
            _ => &self.buckets,
        };
        let top = self.tophash(hash);
        array
            .chain(hash as usize & array.mask())
            .flat_map(|index| {
                let bucket = &array.buckets[index as usize];
                bucket.tophash.iter().zip(&bucket.slots)
            })
            .find_map(|(&t, slot)| match slot {
                Slot::Live(_, v) if t == top => Some(v),
                _ => None,
            })
    }

    /// The key and value stored for `key` (Go's `mapaccessK`).
    #[inline]
    pub(crate) fn get_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.find_entry(self.hash(key), key).map(|(_, k, v)| (k, v))
    }

    /// The value stored for `key` (Go's `mapaccess1`). Never evacuates.
    #[inline]
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get_key_value(key).map(|(_, v)| v)
    }

    /// Whether the map holds `key`.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let found = self.find(self.hash(key), key);
        #[cfg(feature = "faults")]
        if self.has_fault(Fault::ContainsKeyStopsAtFirstBucket) {
            return found.is_some_and(|at| {
                let array = match (&self.old, at.in_old) {
                    (Some(old), true) => old,
                    _ => &self.buckets,
                };
                (at.bucket as usize) < array.main_buckets()
            });
        }
        found.is_some()
    }

    /// A mutable reference to the value stored for `key`. Never evacuates: the entry stays where
    /// it is, so cursors are unaffected.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let at = self.find(self.hash(key), key)?;
        #[cfg(feature = "faults")]
        if at.in_old && self.has_fault(Fault::GetMutMissesOldArray) {
            return None;
        }
        let array = if at.in_old {
            self.old.as_mut()?
        } else {
            &mut self.buckets
        };
        match &mut array.buckets[at.bucket as usize].slots[at.slot] {
            Slot::Live(_, v) => Some(v),
            _ => None,
        }
    }

    /// Inserts `value` for `key` and returns the value it replaces (Go's `mapassign`).
    ///
    /// Updating a present key keeps its slot (and its key), so a cursor sees the new value. An
    /// insert of a new key starts a growth when the map is over the load factor or has too many
    /// overflow buckets; every insert during a growth first evacuates the key's old bucket and one
    /// more.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let hash = self.hash(&key);
        let top = self.tophash(hash);
        loop {
            let start = hash as usize & self.buckets.mask();
            if self.is_growing() {
                self.grow_work(start);
            }
            if self.fault_is(Fault::GrowOnUpdate) && self.needs_growth() {
                // The fault: the triggers are checked before the lookup, for updates too.
                let bigger = over_load_factor(self.load_count() + 1, self.buckets.b);
                self.hash_grow(!bigger);
                continue;
            }
            // Search the chain for the key, remembering the first empty slot for a new entry.
            let mut insert_at: Option<(u32, usize)> = None;
            let mut index = start as u32;
            let mut chain_len = 1;
            loop {
                let bucket = &mut self.buckets.buckets[index as usize];
                let (found, ends_chain) = bucket.find(top, &key);
                if let Some(slot) = found {
                    if let Slot::Live(_, v) = &mut bucket.slots[slot] {
                        return Some(std::mem::replace(v, value));
                    }
                }
                // The lowest empty slot comes no later than the first emptyRest: it is the one
                // Go's slot-by-slot scan records.
                if insert_at.is_none() {
                    insert_at = bucket.first_empty().map(|slot| (index, slot));
                }
                if ends_chain || bucket.overflow == NO_OVERFLOW {
                    break;
                }
                index = bucket.overflow;
                chain_len += 1;
            }
            // A new key: grow first if needed, then start over in the new array (Go: `goto again`).
            if self.needs_growth() {
                let bigger = over_load_factor(self.load_count() + 1, self.buckets.b);
                self.hash_grow(!bigger);
                continue;
            }
            let (bucket, slot) = match insert_at {
                Some(at) => at,
                None => {
                    self.noverflow += 1;
                    (self.buckets.new_overflow(index, chain_len), 0)
                }
            };
            let target = &mut self.buckets.buckets[bucket as usize];
            target.tophash[slot] = top;
            target.slots[slot] = Slot::Live(key, value);
            self.count += 1;
            self.load_check_deferred = self.is_growing();
            return None;
        }
    }

    /// Removes `key` and returns its value (Go's `mapdelete`).
    ///
    /// During a growth it first evacuates the key's old bucket and one more. The freed slot becomes
    /// `emptyOne`, or `emptyRest` (with the run of empty slots before it) when nothing live
    /// follows it in the chain.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        let start = hash as usize & self.buckets.mask();
        if self.is_growing() {
            self.grow_work(start);
        }
        let top = self.tophash(hash);
        let mut index = start as u32;
        loop {
            let bucket = &mut self.buckets.buckets[index as usize];
            for slot in 0..BUCKET_CNT {
                let t = bucket.tophash[slot];
                if t != top {
                    if t == EMPTY_REST {
                        return None;
                    }
                    continue;
                }
                let matches = matches!(&bucket.slots[slot], Slot::Live(k, _) if k.borrow() == key);
                if !matches {
                    continue;
                }
                let Slot::Live(_, value) = std::mem::replace(&mut bucket.slots[slot], Slot::Empty)
                else {
                    unreachable!("the slot was just matched as live")
                };
                bucket.tophash[slot] = EMPTY_ONE;
                self.mark_empty_rest(start as u32, index, slot);
                #[cfg(feature = "faults")]
                let keep_count =
                    self.has_fault(Fault::RemoveSkipsCountDuringGrow) && self.is_growing();
                #[cfg(not(feature = "faults"))]
                let keep_count = false;
                if !keep_count {
                    self.count -= 1;
                }
                #[cfg(feature = "faults")]
                if self.fault_is(Fault::TombstonesCountTowardLoad) {
                    self.tombstones += 1;
                }
                return Some(value);
            }
            if bucket.overflow == NO_OVERFLOW {
                return None;
            }
            index = bucket.overflow;
        }
    }

    /// After slot `slot` of bucket `index` became `emptyOne`: if no live slot follows it in the
    /// chain, turn it and the run of `emptyOne` slots before it into `emptyRest` (the tail of Go's
    /// `mapdelete`).
    fn mark_empty_rest(&mut self, start: u32, mut index: u32, mut slot: usize) {
        let array = &mut self.buckets;
        let next_is_rest = {
            let bucket = &array.buckets[index as usize];
            if slot == BUCKET_CNT - 1 {
                bucket.overflow == NO_OVERFLOW
                    || array.buckets[bucket.overflow as usize].tophash[0] == EMPTY_REST
            } else {
                bucket.tophash[slot + 1] == EMPTY_REST
            }
        };
        #[cfg(feature = "faults")]
        let next_is_rest = next_is_rest || self.fault == Some(Fault::RemoveBadEmptyRest);
        if !next_is_rest {
            return;
        }
        loop {
            array.buckets[index as usize].tophash[slot] = EMPTY_REST;
            if slot == 0 {
                if index == start {
                    return;
                }
                // Continue at the last slot of the previous bucket of the chain.
                let previous = array
                    .chain(start as usize)
                    .find(|&i| array.buckets[i as usize].overflow == index);
                match previous {
                    Some(previous) => index = previous,
                    None => return,
                }
                slot = BUCKET_CNT - 1;
            } else {
                slot -= 1;
            }
            if array.buckets[index as usize].tophash[slot] != EMPTY_ONE {
                return;
            }
        }
    }

    /// Removes every entry, keeping the bucket count (Go's `mapclear`). Cursors created before
    /// stop: they yield nothing from before the clear.
    pub fn clear(&mut self) {
        if self.count == 0 && !self.is_growing() {
            return;
        }
        #[cfg(feature = "faults")]
        if self.has_fault(Fault::ClearKeepsCursors) {
            self.clear_keeping_cursors();
            return;
        }
        self.clear_seq += 1;
        self.old = None;
        self.retired.clear();
        self.buckets.reset();
        self.reset_counters();
    }

    /// The `ClearKeepsCursors` fault: arrays that cursors walk are set aside untouched instead of
    /// emptied, and cursors are not told.
    #[cfg(feature = "faults")]
    fn clear_keeping_cursors(&mut self) {
        let b = self.buckets.b;
        let fresh = self.new_array(b);
        let current = std::mem::replace(&mut self.buckets, fresh);
        for array in std::iter::once(current).chain(self.old.take()) {
            if array.is_pinned() {
                self.retired.push(array);
            }
        }
        self.reset_counters();
    }

    fn reset_counters(&mut self) {
        self.nevacuate = 0;
        self.same_size = false;
        self.noverflow = 0;
        self.count = 0;
        self.load_check_deferred = false;
        #[cfg(feature = "faults")]
        {
            self.tombstones = 0;
        }
    }

    /// A new, empty array with a fresh id.
    pub(crate) fn new_array(&mut self, b: u8) -> BucketArray<K, V> {
        let id = self.next_array_id;
        self.next_array_id += 1;
        BucketArray::new(id, b)
    }

    /// Drops retired arrays that no cursor walks any more.
    pub(crate) fn prune_retired(&mut self) {
        if !self.retired.is_empty() {
            self.retired.retain(BucketArray::is_pinned);
        }
    }

    /// The array a cursor named by `id`, if the map still keeps it.
    #[inline]
    pub(crate) fn array(&self, id: u64) -> Option<&BucketArray<K, V>> {
        if self.buckets.id == id {
            return Some(&self.buckets);
        }
        if let Some(old) = &self.old {
            if old.id == id {
                return Some(old);
            }
        }
        self.retired.iter().find(|array| array.id == id)
    }
}

impl<K, V, S> Clone for GoMap<K, V, S>
where
    K: Clone,
    V: Clone,
    S: Clone,
{
    /// A copy of the entries, layout and growth state. The copy is another map: cursors of the
    /// original do not work on it, and its random stream continues from the original's position.
    fn clone(&self) -> Self {
        #[cfg_attr(not(feature = "faults"), allow(unused_mut))]
        let mut copy = GoMap {
            hasher: self.hasher.clone(),
            count: self.count,
            buckets: self.buckets.clone(),
            old: self.old.clone(),
            nevacuate: self.nevacuate,
            same_size: self.same_size,
            noverflow: self.noverflow,
            retired: Vec::new(),
            next_array_id: self.next_array_id,
            clear_seq: self.clear_seq,
            rng: AtomicU64::new(self.rng.load(Ordering::Relaxed)),
            identity: Arc::new(()),
            load_check_deferred: self.load_check_deferred,
            grows: self.grows,
            same_size_grows: self.same_size_grows,
            #[cfg(feature = "faults")]
            fault: self.fault,
            #[cfg(feature = "faults")]
            capacity_hint: self.capacity_hint,
            #[cfg(feature = "faults")]
            tombstones: self.tombstones,
        };
        #[cfg(feature = "faults")]
        if self.fault == Some(Fault::CloneDropsOldArray) {
            if let Some(old) = copy.old.take() {
                let lost: usize = old
                    .buckets
                    .iter()
                    .map(|bucket| bucket.live_mask().count_ones() as usize)
                    .sum();
                copy.count -= lost;
                copy.nevacuate = 0;
                copy.same_size = false;
                copy.noverflow = copy.buckets.overflow_buckets();
            }
        }
        copy
    }
}
