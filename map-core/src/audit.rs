//! The audit: every structural invariant of the algorithm, checked on demand
//! (shared/docs/semantics.md section 3).

use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, Hash};

use crate::bucket::{
    is_evacuation_mark, BucketArray, Slot, BUCKET_CNT, EMPTY_ONE, EMPTY_REST, MIN_TOP_HASH,
    NO_OVERFLOW,
};
use crate::hash::DefaultHashBuilder;
use crate::map::{over_load_factor, GoMap};

/// Which invariant an [`InvariantError`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Invariant {
    /// `len()` equals the live slots of the current array and of the old buckets not yet evacuated.
    Count,
    /// Every live key sits in the chain its hash selects, in the array its growth state selects.
    WrongBucket,
    /// A live slot's tophash is its key's (moved up by `minTopHash` when below it).
    TophashMismatch,
    /// No key is live in two slots.
    DuplicateKey,
    /// After an `emptyRest` slot, nothing in the rest of the chain is live.
    EmptyRest,
    /// Growth bookkeeping: `nevacuate` in range, old buckets below it evacuated, evacuated buckets
    /// holding only evacuation marks, no old array when not growing.
    Evacuation,
    /// The overflow count equals the overflow buckets chained, and each is chained exactly once.
    OverflowCount,
    /// Not growing: `len() <= 6.5 * 2^B` or `len() <= 8`, unless the last new key was inserted
    /// during a growth (Go checks the load factor only when inserting a new key).
    LoadFactor,
    /// A slot's tophash and its contents agree (a marker over an empty slot, a real tophash over
    /// a live one), and links point at overflow buckets.
    SlotState,
}

impl Invariant {
    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Invariant::Count => "count",
            Invariant::WrongBucket => "wrong-bucket",
            Invariant::TophashMismatch => "tophash-mismatch",
            Invariant::DuplicateKey => "duplicate-key",
            Invariant::EmptyRest => "empty-rest",
            Invariant::Evacuation => "evacuation",
            Invariant::OverflowCount => "overflow-count",
            Invariant::LoadFactor => "load-factor",
            Invariant::SlotState => "slot-state",
        }
    }
}

/// Which array a [`Location`] is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArrayKind {
    /// The current bucket array (Go's `buckets`).
    Current,
    /// The array being evacuated (Go's `oldbuckets`).
    Old,
    /// The map as a whole (counters, growth state).
    Map,
}

/// Where an invariant broke: the array, the bucket (an index into the array, overflow buckets
/// after the `2^B` main ones) and the slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    /// The array.
    pub array: ArrayKind,
    /// The bucket index in the array, when the invariant is about a bucket.
    pub bucket: Option<usize>,
    /// The slot (0..8), when the invariant is about a slot.
    pub slot: Option<usize>,
}

/// The first broken invariant [`GoMap::check_invariants`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvariantError {
    /// Which invariant.
    pub invariant: Invariant,
    /// Where.
    pub location: Location,
    /// What was found, in words.
    pub detail: String,
}

impl fmt::Display for InvariantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invariant `{}` broken", self.invariant.name())?;
        match self.location.array {
            ArrayKind::Current => write!(f, " in the current array")?,
            ArrayKind::Old => write!(f, " in the old array")?,
            ArrayKind::Map => {}
        }
        if let Some(bucket) = self.location.bucket {
            write!(f, ", bucket {bucket}")?;
        }
        if let Some(slot) = self.location.slot {
            write!(f, ", slot {slot}")?;
        }
        write!(f, ": {}", self.detail)
    }
}

impl std::error::Error for InvariantError {}

fn broken(
    invariant: Invariant,
    array: ArrayKind,
    bucket: Option<usize>,
    slot: Option<usize>,
    detail: String,
) -> InvariantError {
    InvariantError {
        invariant,
        location: Location {
            array,
            bucket,
            slot,
        },
        detail,
    }
}

/// Chains of up to this many buckets are checked for duplicate keys slot against slot. Longer
/// ones, which only a hasher that sends many keys to one bucket builds, go through a set, so that
/// the audit stays O(entries) however long a chain grows.
const SHORT_CHAIN_BUCKETS: usize = 8;

/// Words of the inline bitset of [`LinkedOverflow`]: arrays with up to 256 overflow buckets, all
/// but large maps, are audited without allocating.
const INLINE_OVERFLOW_WORDS: usize = 4;

/// The state one audit pass carries across arrays.
struct Audit<'m, K> {
    live: usize,
    /// The keys seen so far in the long chain being audited. Empty, and so not allocated, until
    /// the audit meets a chain longer than [`SHORT_CHAIN_BUCKETS`].
    long_chain_keys: HashSet<&'m K, DefaultHashBuilder>,
}

impl<'m, K: Hash + Eq> Audit<'m, K> {
    /// Switches the duplicate check of the chain that starts at `start` to the set, filling it
    /// with the keys of the chain's first [`SHORT_CHAIN_BUCKETS`] buckets (already audited, so
    /// distinct).
    fn begin_long_chain<V>(&mut self, array: &'m BucketArray<K, V>, start: usize) {
        self.long_chain_keys.clear();
        // Room for every slot of the chain, so that the set never rehashes.
        let chain_slots = array.chain(start).count() * BUCKET_CNT;
        self.long_chain_keys.reserve(chain_slots);
        for index in array.chain(start).take(SHORT_CHAIN_BUCKETS) {
            for slot in &array.buckets[index as usize].slots {
                if let Slot::Live(key, _) = slot {
                    self.long_chain_keys.insert(key);
                }
            }
        }
    }
}

/// Whether `key`, live at `slot` of bucket `index` with tophash `top`, is also live in an earlier
/// slot of the chain that starts at `start`. Equal keys have equal tophashes (both slots passed
/// the tophash check), so only slots with tophash `top` are compared by key.
fn live_earlier_in_chain<K: Eq, V>(
    array: &BucketArray<K, V>,
    start: usize,
    index: usize,
    slot: usize,
    top: u8,
    key: &K,
) -> bool {
    for earlier_index in array.chain(start) {
        let earlier_index = earlier_index as usize;
        let earlier = &array.buckets[earlier_index];
        let earlier_slots = if earlier_index == index {
            slot
        } else {
            BUCKET_CNT
        };
        let found = (0..earlier_slots).any(|earlier_slot| {
            earlier.tophash[earlier_slot] == top
                && matches!(&earlier.slots[earlier_slot], Slot::Live(other, _) if other == key)
        });
        if found {
            return true;
        }
        if earlier_index == index {
            break;
        }
    }
    false
}

/// The tophash values of the live slots seen so far in one chain: a key whose tophash is not in
/// it cannot be live earlier in the chain, so most slots need no key comparison at all.
#[derive(Default)]
struct TophashSet([u64; 4]);

impl TophashSet {
    /// Adds `top`; `false` if it was already in.
    fn insert(&mut self, top: u8) -> bool {
        let word = &mut self.0[usize::from(top / 64)];
        let mask = 1u64 << (top % 64);
        let added = *word & mask == 0;
        *word |= mask;
        added
    }
}

/// The overflow buckets of one array that some chain links to, a bit each. Arrays with up to
/// `64 * INLINE_OVERFLOW_WORDS` overflow buckets keep the bits inline; larger ones allocate.
struct LinkedOverflow {
    /// The index of the first overflow bucket (the number of main buckets).
    first: usize,
    /// The number of overflow buckets.
    count: usize,
    bits: OverflowBits,
}

enum OverflowBits {
    Inline([u64; INLINE_OVERFLOW_WORDS]),
    Spilled(Vec<u64>),
}

impl LinkedOverflow {
    fn new<K, V>(array: &BucketArray<K, V>) -> Self {
        let count = array.overflow_buckets();
        let bits = if count <= 64 * INLINE_OVERFLOW_WORDS {
            OverflowBits::Inline([0; INLINE_OVERFLOW_WORDS])
        } else {
            OverflowBits::Spilled(vec![0; count.div_ceil(64)])
        };
        LinkedOverflow {
            first: array.main_buckets(),
            count,
            bits,
        }
    }

    fn words(&self) -> &[u64] {
        match &self.bits {
            OverflowBits::Inline(words) => words,
            OverflowBits::Spilled(words) => words,
        }
    }

    fn words_mut(&mut self) -> &mut [u64] {
        match &mut self.bits {
            OverflowBits::Inline(words) => words,
            OverflowBits::Spilled(words) => words,
        }
    }

    /// Records a link to overflow bucket `index`; `false` if another link already reached it.
    fn link(&mut self, index: usize) -> bool {
        let bit = index - self.first;
        let word = &mut self.words_mut()[bit / 64];
        let mask = 1u64 << (bit % 64);
        let first_link = *word & mask == 0;
        *word |= mask;
        first_link
    }

    /// The first overflow bucket no link reaches.
    fn first_unlinked(&self) -> Option<usize> {
        let words = self.words();
        (0..self.count.div_ceil(64)).find_map(|word| {
            let buckets_in_word = (self.count - word * 64).min(64);
            let unlinked = !words[word] & (u64::MAX >> (64 - buckets_in_word));
            (unlinked != 0).then(|| self.first + word * 64 + unlinked.trailing_zeros() as usize)
        })
    }
}

impl<K, V, S> GoMap<K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
    /// Checks every structural invariant (see [`Invariant`]) and reports the first broken one
    /// with its array, bucket and slot. O(entries + buckets). It allocates nothing unless a chain
    /// is longer than 8 buckets (its keys go into a set) or an array has more than 256 overflow
    /// buckets (a bitset of them).
    pub fn check_invariants(&self) -> Result<(), InvariantError> {
        let mut audit = Audit {
            live: 0,
            long_chain_keys: HashSet::with_hasher(DefaultHashBuilder::with_seed(0)),
        };
        self.audit_growth_state()?;
        self.audit_array(&self.buckets, ArrayKind::Current, &mut audit)?;
        if let Some(old) = &self.old {
            self.audit_array(old, ArrayKind::Old, &mut audit)?;
        }
        if audit.live != self.count {
            return Err(broken(
                Invariant::Count,
                ArrayKind::Map,
                None,
                None,
                format!("len() is {} but {} slots are live", self.count, audit.live),
            ));
        }
        let overflow = self.buckets.overflow_buckets();
        if overflow != self.noverflow {
            return Err(broken(
                Invariant::OverflowCount,
                ArrayKind::Current,
                None,
                None,
                format!(
                    "overflow count is {} but the array chains {overflow} overflow buckets",
                    self.noverflow
                ),
            ));
        }
        if !self.is_growing()
            && !self.load_check_deferred
            && over_load_factor(self.count, self.buckets.b)
        {
            return Err(broken(
                Invariant::LoadFactor,
                ArrayKind::Map,
                None,
                None,
                format!(
                    "{} entries in {} buckets is over the load factor 6.5 and no growth is under way",
                    self.count,
                    self.buckets.main_buckets()
                ),
            ));
        }
        Ok(())
    }

    fn audit_growth_state(&self) -> Result<(), InvariantError> {
        let map_error = |detail: String| {
            Err(broken(
                Invariant::Evacuation,
                ArrayKind::Map,
                None,
                None,
                detail,
            ))
        };
        match &self.old {
            None if self.same_size => {
                map_error("the same-size flag is set but no growth is under way".into())
            }
            None if self.nevacuate != 0 => map_error(format!(
                "nevacuate is {} but no growth is under way",
                self.nevacuate
            )),
            Some(old) if self.nevacuate > old.main_buckets() => map_error(format!(
                "nevacuate is {} but the old array has {} buckets",
                self.nevacuate,
                old.main_buckets()
            )),
            Some(old) if old.b + u8::from(!self.same_size) != self.buckets.b => map_error(format!(
                "a {} growth from B {} to B {}",
                if self.same_size {
                    "same-size"
                } else {
                    "doubling"
                },
                old.b,
                self.buckets.b
            )),
            _ => Ok(()),
        }
    }

    fn audit_array<'m>(
        &'m self,
        array: &'m BucketArray<K, V>,
        kind: ArrayKind,
        audit: &mut Audit<'m, K>,
    ) -> Result<(), InvariantError> {
        let main = array.main_buckets();
        let mut linked_overflow = LinkedOverflow::new(array);
        for start in 0..main {
            let evacuated = kind == ArrayKind::Old && array.buckets[start].evacuated();
            if kind == ArrayKind::Old && start < self.nevacuate && !evacuated {
                return Err(broken(
                    Invariant::Evacuation,
                    kind,
                    Some(start),
                    None,
                    format!(
                        "old bucket {start} is below nevacuate ({}) but not evacuated",
                        self.nevacuate
                    ),
                ));
            }
            let mut index = start;
            let mut chain_position = 0;
            let mut chain_tophashes = TophashSet::default();
            let mut after_empty_rest = false;
            loop {
                if chain_position == SHORT_CHAIN_BUCKETS && !evacuated {
                    audit.begin_long_chain(array, start);
                }
                let bucket = &array.buckets[index];
                for slot in 0..BUCKET_CNT {
                    let top = bucket.tophash[slot];
                    let at = |invariant, detail| {
                        Err(broken(invariant, kind, Some(index), Some(slot), detail))
                    };
                    if evacuated {
                        if !is_evacuation_mark(top) {
                            return at(
                                Invariant::Evacuation,
                                format!("old bucket {start} is evacuated but this slot's tophash is {top:#04x}, not an evacuation mark"),
                            );
                        }
                        if matches!(bucket.slots[slot], Slot::Live(..)) {
                            return at(
                                Invariant::SlotState,
                                "an evacuated slot still holds a live entry".into(),
                            );
                        }
                        continue;
                    }
                    if top < MIN_TOP_HASH {
                        if top != EMPTY_REST && top != EMPTY_ONE {
                            return at(
                                Invariant::SlotState,
                                format!("evacuation mark {top} in a bucket that is not evacuated"),
                            );
                        }
                        if !matches!(bucket.slots[slot], Slot::Empty) {
                            return at(
                                Invariant::SlotState,
                                format!("slot marked empty ({top}) holds an entry"),
                            );
                        }
                        after_empty_rest |= top == EMPTY_REST;
                        continue;
                    }
                    let Slot::Live(key, _) = &bucket.slots[slot] else {
                        return at(
                            Invariant::SlotState,
                            format!("tophash {top:#04x} over a slot with no live entry"),
                        );
                    };
                    if after_empty_rest {
                        return at(Invariant::EmptyRest, format!("live slot after an emptyRest marker in the chain of bucket {start}"));
                    }
                    let hash = self.hash(key);
                    if hash as usize & array.mask() != start {
                        return at(
                            Invariant::WrongBucket,
                            format!(
                                "key hashes to bucket {} but sits in the chain of bucket {start}",
                                hash as usize & array.mask()
                            ),
                        );
                    }
                    if kind == ArrayKind::Current {
                        if let Some(old) = &self.old {
                            let old_bucket = hash as usize & old.mask();
                            if !old.buckets[old_bucket].evacuated() {
                                return at(
                                    Invariant::WrongBucket,
                                    format!("key is in the current array but its old bucket {old_bucket} is not evacuated"),
                                );
                            }
                        }
                    }
                    let raw = (hash >> 56) as u8;
                    let proper = if raw < MIN_TOP_HASH {
                        raw + MIN_TOP_HASH
                    } else {
                        raw
                    };
                    if top != proper {
                        return at(
                            Invariant::TophashMismatch,
                            format!("tophash is {top:#04x} but the key's hash gives {proper:#04x}"),
                        );
                    }
                    // Only this chain's earlier slots can hold the same key: of two slots holding
                    // it in different chains, or in both arrays, the later one in audit order has
                    // failed a check above. A key passes the bucket check only in the chain its hash
                    // selects, and is live in the current array only once its old bucket is
                    // evacuated, when that old chain may hold no live entry.
                    let duplicate = if chain_position < SHORT_CHAIN_BUCKETS {
                        !chain_tophashes.insert(top)
                            && live_earlier_in_chain(array, start, index, slot, top, key)
                    } else {
                        !audit.long_chain_keys.insert(key)
                    };
                    if duplicate {
                        return at(
                            Invariant::DuplicateKey,
                            "the same key is live in another slot".into(),
                        );
                    }
                    audit.live += 1;
                }
                let next = bucket.overflow;
                if next == NO_OVERFLOW {
                    break;
                }
                let next = next as usize;
                if next < main || next >= array.buckets.len() || !linked_overflow.link(next) {
                    return Err(broken(
                        Invariant::SlotState,
                        kind,
                        Some(index),
                        None,
                        format!("overflow link to bucket {next}, which is not an unchained overflow bucket"),
                    ));
                }
                index = next;
                chain_position += 1;
            }
        }
        if let Some(unchained) = linked_overflow.first_unlinked() {
            return Err(broken(
                Invariant::OverflowCount,
                kind,
                Some(unchained),
                None,
                "overflow bucket is in no chain".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, Hasher};

    use super::*;

    /// Hashes a `u64` key to itself, so that a test picks each key's chain and tophash.
    #[derive(Clone, Default)]
    struct IdentityHash;

    struct IdentityHasher(u64);

    impl Hasher for IdentityHasher {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, _: &[u8]) {
            unreachable!("only u64 keys")
        }
        fn write_u64(&mut self, key: u64) {
            self.0 = key;
        }
    }

    impl BuildHasher for IdentityHash {
        type Hasher = IdentityHasher;
        fn build_hasher(&self) -> IdentityHasher {
            IdentityHasher(0)
        }
    }

    type Map = GoMap<u64, u64, IdentityHash>;

    /// A key of the chain of main bucket 0 at any size, with a tophash of its own among 200.
    fn chain_zero_key(i: u64) -> u64 {
        ((i % 200 + 8) << 56) | (i << 16)
    }

    /// `entries` keys, all in the chain of main bucket 0, growth finished.
    fn one_chain(entries: u64) -> Map {
        let mut map = Map::with_hasher_and_seed(IdentityHash, 1);
        for i in 0..entries {
            map.insert(chain_zero_key(i), i);
        }
        while map.evacuate_step() {}
        assert_eq!(map.check_invariants(), Ok(()));
        map
    }

    fn chain_zero(map: &Map) -> Vec<usize> {
        map.buckets.chain(0).map(|index| index as usize).collect()
    }

    /// Copies the entry at `from` into the first empty slot of bucket `to`, tophash and all, and
    /// returns that slot.
    fn duplicate(map: &mut Map, from: (usize, usize), to: usize) -> usize {
        let (bucket, slot) = from;
        let top = map.buckets.buckets[bucket].tophash[slot];
        let entry = map.buckets.buckets[bucket].slots[slot].clone();
        assert!(matches!(entry, Slot::Live(..)));
        let target = &mut map.buckets.buckets[to];
        let free = target
            .tophash
            .iter()
            .position(|&t| t == EMPTY_REST)
            .unwrap();
        target.tophash[free] = top;
        target.slots[free] = entry;
        map.count += 1;
        free
    }

    fn duplicate_at(bucket: usize, slot: usize) -> Result<(), InvariantError> {
        Err(broken(
            Invariant::DuplicateKey,
            ArrayKind::Current,
            Some(bucket),
            Some(slot),
            "the same key is live in another slot".into(),
        ))
    }

    #[test]
    fn a_duplicate_in_the_same_bucket_is_found() {
        let mut map = one_chain(3);
        let slot = duplicate(&mut map, (0, 1), 0);
        assert_eq!(map.check_invariants(), duplicate_at(0, slot));
        // The only tophash of its range of 64 values in the chain.
        let mut map = one_chain(1);
        let slot = duplicate(&mut map, (0, 0), 0);
        assert_eq!(map.check_invariants(), duplicate_at(0, slot));
    }

    #[test]
    fn a_duplicate_further_down_a_short_chain_is_found() {
        let map = one_chain(30);
        let chain = chain_zero(&map);
        assert_eq!(chain.len(), 4);
        for from in [chain[0], chain[1], chain[2]] {
            let mut map = one_chain(30);
            let slot = duplicate(&mut map, (from, 7), chain[3]);
            assert_eq!(map.check_invariants(), duplicate_at(chain[3], slot));
        }
    }

    #[test]
    fn distinct_keys_with_one_tophash_in_one_chain_are_no_duplicates() {
        // Keys `i` and `i + 200` share a tophash: 30 keys in chain 0, then their twins, which land
        // both in the same buckets as the originals and in buckets after them.
        let mut map = one_chain(30);
        for i in 0..30 {
            map.insert(chain_zero_key(i + 200), i);
        }
        assert!(chain_zero(&map).len() <= SHORT_CHAIN_BUCKETS);
        assert_eq!(map.check_invariants(), Ok(()));
    }

    #[test]
    fn duplicates_in_a_long_chain_are_found_on_both_sides_of_the_switch_to_a_set() {
        let map = one_chain(100);
        let chain = chain_zero(&map);
        assert_eq!(chain.len(), 13);
        let last = chain[12];
        for from in [
            chain[2],
            chain[SHORT_CHAIN_BUCKETS - 1],
            chain[SHORT_CHAIN_BUCKETS],
            chain[9],
        ] {
            let mut map = one_chain(100);
            let slot = duplicate(&mut map, (from, 5), last);
            assert_eq!(map.check_invariants(), duplicate_at(last, slot));
        }
    }

    #[test]
    fn a_duplicate_in_another_chain_is_in_the_wrong_bucket() {
        let mut map = Map::with_capacity_hasher_and_seed(16, IdentityHash, 1);
        map.insert(0x8000_0000_0000_0000, 0);
        map.insert(0x8000_0000_0000_0001, 1);
        let slot = duplicate(&mut map, (0, 0), 1);
        let error = map.check_invariants().unwrap_err();
        assert_eq!(error.invariant, Invariant::WrongBucket);
        assert_eq!(error.location.bucket, Some(1));
        assert_eq!(error.location.slot, Some(slot));
    }

    #[test]
    fn unlinked_overflow_buckets_are_found_past_the_inline_bitset() {
        let map = one_chain(2600);
        let chain = chain_zero(&map);
        let main = map.buckets.main_buckets();
        assert!(map.buckets.overflow_buckets() > 64 * INLINE_OVERFLOW_WORDS);

        let mut cut = one_chain(2600);
        cut.buckets.buckets[chain[300]].overflow = NO_OVERFLOW;
        let error = cut.check_invariants().unwrap_err();
        assert_eq!(
            (error.invariant, error.location.bucket),
            (Invariant::OverflowCount, Some(chain[301]))
        );

        let mut extra = one_chain(2600);
        extra.buckets.buckets.push(crate::bucket::Bucket::new());
        let error = extra.check_invariants().unwrap_err();
        assert_eq!(
            (error.invariant, error.location.bucket),
            (Invariant::OverflowCount, Some(main + chain.len() - 1))
        );

        let mut linked_twice = one_chain(2600);
        let end = *chain.last().unwrap();
        linked_twice.buckets.buckets[end].overflow = chain[280] as u32;
        let error = linked_twice.check_invariants().unwrap_err();
        assert_eq!(
            (error.invariant, error.location.bucket),
            (Invariant::SlotState, Some(end))
        );
    }

    fn growth_state_error(detail: &str) -> Result<(), InvariantError> {
        Err(broken(
            Invariant::Evacuation,
            ArrayKind::Map,
            None,
            None,
            detail.into(),
        ))
    }

    /// A map of 9 entries in 2 buckets (B 1), in both chains, growth finished.
    fn two_buckets() -> Map {
        let mut map = Map::with_capacity_hasher_and_seed(9, IdentityHash, 1);
        for i in 0..9 {
            map.insert(((i + 8) << 56) | i, i);
        }
        assert_eq!((map.buckets.b, map.check_invariants()), (1, Ok(())));
        map
    }

    // No call sequence leaves the growth state inconsistent (the growth's start and finish set
    // and reset it together), so these states are made by hand.

    #[test]
    fn growth_flags_left_set_without_a_growth_are_found() {
        let mut map = two_buckets();
        map.same_size = true;
        assert_eq!(
            map.check_invariants(),
            growth_state_error("the same-size flag is set but no growth is under way")
        );
        let mut map = two_buckets();
        map.nevacuate = 1;
        assert_eq!(
            map.check_invariants(),
            growth_state_error("nevacuate is 1 but no growth is under way")
        );
    }

    #[test]
    fn nevacuate_may_reach_the_old_array_s_end_but_not_pass_it() {
        let mut map = two_buckets();
        assert!(map.force_grow());
        // Every old bucket evacuated and the mark at the end, the growth not yet finished (a
        // bucket evacuated away from the mark does not move it).
        map.evacuate(1);
        map.nevacuate = 1;
        map.evacuate(0);
        map.nevacuate = 2;
        assert!(map.is_growing());
        assert_eq!(map.check_invariants(), Ok(()));
        map.nevacuate = 3;
        assert_eq!(
            map.check_invariants(),
            growth_state_error("nevacuate is 3 but the old array has 2 buckets")
        );
    }

    #[test]
    fn a_growth_of_the_wrong_size_is_found() {
        let mut map = two_buckets();
        assert!(map.force_grow());
        map.same_size = true;
        assert_eq!(
            map.check_invariants(),
            growth_state_error("a same-size growth from B 1 to B 2")
        );
        let mut map = two_buckets();
        assert!(map.force_same_size_grow());
        map.same_size = false;
        assert_eq!(
            map.check_invariants(),
            growth_state_error("a doubling growth from B 1 to B 1")
        );
    }

    #[test]
    fn a_map_over_the_load_factor_with_no_growth_or_new_key_to_come_is_found() {
        // 27 entries in 4 buckets after a same-size growth: over the load factor, which is
        // allowed until the next new key starts a growth ...
        let mut map = Map::with_capacity_hasher_and_seed(26, IdentityHash, 1);
        for i in 0..26 {
            map.insert((9 << 56) | i, i);
        }
        assert!(map.force_same_size_grow());
        map.insert((9 << 56) | 26, 26);
        while map.evacuate_step() {}
        assert_eq!((map.count, map.buckets.b), (27, 2));
        assert_eq!(map.check_invariants(), Ok(()));
        // ... but not once that check is no longer pending.
        map.load_check_deferred = false;
        assert_eq!(
            map.check_invariants(),
            Err(broken(
                Invariant::LoadFactor,
                ArrayKind::Map,
                None,
                None,
                "27 entries in 4 buckets is over the load factor 6.5 and no growth is under way"
                    .into(),
            ))
        );
    }

    #[test]
    fn overflow_links_to_a_main_bucket_or_past_the_array_are_found() {
        let map = one_chain(30);
        let end = *chain_zero(&map).last().unwrap();
        let len = map.buckets.buckets.len();
        for target in [1, len, len + 100] {
            let mut bad = one_chain(30);
            bad.buckets.buckets[end].overflow = target as u32;
            assert_eq!(
                bad.check_invariants(),
                Err(broken(
                    Invariant::SlotState,
                    ArrayKind::Current,
                    Some(end),
                    None,
                    format!("overflow link to bucket {target}, which is not an unchained overflow bucket"),
                )),
                "link to {target}"
            );
        }
    }
}
