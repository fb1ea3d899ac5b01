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

/// The state one audit pass carries across arrays.
struct Audit<'m, K> {
    seen: HashSet<&'m K, DefaultHashBuilder>,
    live: usize,
}

impl<K, V, S> GoMap<K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
    /// Checks every structural invariant (see [`Invariant`]) and reports the first broken one
    /// with its array, bucket and slot. O(entries + buckets); it allocates a set of the keys.
    pub fn check_invariants(&self) -> Result<(), InvariantError> {
        let mut audit = Audit {
            seen: HashSet::with_capacity_and_hasher(self.count, DefaultHashBuilder::with_seed(0)),
            live: 0,
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
        let mut chained = vec![false; array.buckets.len()];
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
            let mut after_empty_rest = false;
            loop {
                chained[index] = true;
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
                    if !audit.seen.insert(key) {
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
                if next < main || next >= array.buckets.len() || chained[next] {
                    return Err(broken(
                        Invariant::SlotState,
                        kind,
                        Some(index),
                        None,
                        format!("overflow link to bucket {next}, which is not an unchained overflow bucket"),
                    ));
                }
                index = next;
            }
        }
        if let Some(unchained) = chained.iter().position(|&c| !c) {
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
