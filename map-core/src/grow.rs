//! Incremental growth: starting a growth, evacuating old buckets into the new array (X/Y split),
//! and finishing (Go's `hashGrow`, `growWork`, `evacuate`, `advanceEvacuationMark`).

use std::hash::{BuildHasher, Hash};

use crate::bucket::{
    is_empty, Slot, BUCKET_CNT, EVACUATED_EMPTY, EVACUATED_X, EVACUATED_Y, MIN_TOP_HASH,
    NO_OVERFLOW,
};
use crate::map::GoMap;
use crate::Fault;

/// The largest B a forced growth may reach: bucket indices are `u32`.
const MAX_B: u8 = 31;

/// Where evacuation writes next in one half (X or Y) of the new array (Go's `evacDst`).
struct Destination {
    bucket: u32,
    slot: usize,
    chain_len: usize,
}

impl<K, V, S> GoMap<K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
    /// Starts a growth now unless one is under way: the current array becomes the old one and a
    /// new array of twice the buckets (or the same number, for `same_size`) takes its place
    /// (Go's `hashGrow`). No entry moves yet.
    pub(crate) fn hash_grow(&mut self, same_size: bool) {
        let b = if same_size {
            self.buckets.b
        } else {
            self.buckets.b + 1
        };
        let fresh = self.new_array(b);
        let old = std::mem::replace(&mut self.buckets, fresh);
        self.old = Some(old);
        self.same_size = same_size;
        self.nevacuate = 0;
        self.noverflow = 0;
        // A growth rehashes every entry into a fresh array: no removed slot is carried over.
        #[cfg(feature = "faults")]
        {
            self.tombstones = 0;
        }
        if same_size {
            self.same_size_grows += 1;
        } else {
            self.grows += 1;
        }
        self.prune_retired();
    }

    /// Starts a doubling growth now unless one is under way; returns whether it started. Entries
    /// move later, as inserts, removes and [`evacuate_step`](Self::evacuate_step) evacuate.
    ///
    /// Forcing growth repeatedly doubles the bucket count each time (memory grows with it); the
    /// map refuses to go past `2^31` buckets and returns `false` there.
    pub fn force_grow(&mut self) -> bool {
        if self.is_growing() || self.buckets.b >= MAX_B {
            return false;
        }
        self.hash_grow(false);
        true
    }

    /// Starts a same-size growth now unless one is under way (Go starts one when overflow buckets
    /// pile up: issue 16070); returns whether it started.
    pub fn force_same_size_grow(&mut self) -> bool {
        if self.is_growing() {
            return false;
        }
        self.hash_grow(true);
        true
    }

    /// Evacuates one more old bucket (the next one not yet evacuated, Go's `nevacuate`); returns
    /// `false` when no growth is under way.
    pub fn evacuate_step(&mut self) -> bool {
        if !self.is_growing() {
            return false;
        }
        self.evacuate(self.nevacuate);
        true
    }

    /// The evacuation work of one insert or remove during a growth: the old bucket the key maps
    /// to, and one more (Go's `growWork`).
    pub(crate) fn grow_work(&mut self, bucket: usize) {
        let Some(old) = &self.old else { return };
        let old_bucket = bucket & old.mask();
        self.evacuate(old_bucket);
        if self.is_growing() && !self.fault_is(Fault::GrowWorkSkipsNevacuate) {
            self.evacuate(self.nevacuate);
        }
    }

    /// Moves every live entry of old bucket `old_bucket`'s chain into the new array (Go's
    /// `evacuate`). A doubling growth splits the chain between new buckets `old_bucket` (X) and
    /// `old_bucket + 2^oldB` (Y) by the hash bit `2^oldB`; a same-size growth has no Y. Each old
    /// slot keeps its evacuation mark, and its key while a cursor may read it.
    pub(crate) fn evacuate(&mut self, old_bucket: usize) {
        let keep_keys = self.live_cursors() > 0;
        #[cfg(feature = "faults")]
        let fault = self.fault;
        let Some(old) = self.old.as_mut() else { return };
        if old_bucket >= old.main_buckets() {
            return;
        }
        let newbit = old.main_buckets();
        if !old.buckets[old_bucket].evacuated() {
            let new = &mut self.buckets;
            let same_size = self.same_size;
            #[cfg(feature = "faults")]
            let split = !same_size || fault == Some(Fault::SameSizeGrowSplits);
            #[cfg(not(feature = "faults"))]
            let split = !same_size;
            // With the SameSizeGrowSplits fault, a same-size array has no Y half: the "Y" entries
            // go to the bucket across the middle of the array, where they do not belong.
            let y_bucket = if same_size {
                old_bucket ^ (newbit >> 1)
            } else {
                old_bucket + newbit
            };
            let y_bit = if same_size {
                (newbit >> 1) as u64
            } else {
                newbit as u64
            };
            let mut dest = [
                Destination {
                    bucket: old_bucket as u32,
                    slot: 0,
                    chain_len: 1,
                },
                Destination {
                    bucket: y_bucket as u32,
                    slot: 0,
                    chain_len: 1,
                },
            ];
            let mut index = old_bucket as u32;
            let mut remaining = old.buckets.len();
            loop {
                for slot in 0..BUCKET_CNT {
                    let bucket = &mut old.buckets[index as usize];
                    let top = bucket.tophash[slot];
                    if is_empty(top) || top < MIN_TOP_HASH {
                        // Go throws on a marker in a live bucket ("bad map state"); only an
                        // injected fault gets here, and then the slot is given up, as lost.
                        bucket.tophash[slot] = EVACUATED_EMPTY;
                        bucket.slots[slot] = Slot::Empty;
                        continue;
                    }
                    let Slot::Live(key, value) =
                        std::mem::replace(&mut bucket.slots[slot], Slot::Empty)
                    else {
                        bucket.tophash[slot] = EVACUATED_EMPTY;
                        continue;
                    };
                    let use_y = split && y_bit != 0 && self.hasher.hash_one(&key) & y_bit != 0;
                    bucket.tophash[slot] = if use_y { EVACUATED_Y } else { EVACUATED_X };
                    if keep_keys {
                        bucket.slots[slot] = Slot::Moved(key.clone());
                    }
                    let d = &mut dest[use_y as usize];
                    if d.slot == BUCKET_CNT {
                        d.bucket = new.new_overflow(d.bucket, d.chain_len);
                        d.chain_len += 1;
                        d.slot = 0;
                        self.noverflow += 1;
                    }
                    let target = &mut new.buckets[d.bucket as usize];
                    target.tophash[d.slot] = top;
                    target.slots[d.slot] = Slot::Live(key, value);
                    #[cfg(feature = "faults")]
                    {
                        old.buckets[index as usize].forward[slot] = crate::bucket::Forward {
                            array: new.id,
                            bucket: d.bucket,
                            slot: d.slot as u8,
                        };
                    }
                    d.slot += 1;
                }
                let next = old.buckets[index as usize].overflow;
                #[cfg(feature = "faults")]
                if fault == Some(Fault::EvacuationDropsOverflow) {
                    break;
                }
                remaining -= 1;
                if next == NO_OVERFLOW || remaining == 0 {
                    break;
                }
                index = next;
            }
        }
        if old_bucket == self.nevacuate {
            self.advance_evacuation_mark(newbit);
        }
    }

    /// Moves `nevacuate` past the evacuated old buckets (at most 1024 at a time, like Go) and
    /// finishes the growth when all are done (Go's `advanceEvacuationMark`).
    fn advance_evacuation_mark(&mut self, newbit: usize) {
        self.nevacuate += 1;
        let stop = (self.nevacuate + 1024).min(newbit);
        #[cfg(feature = "faults")]
        let skip_check = self.fault == Some(Fault::NevacuateSkipsBucket);
        #[cfg(not(feature = "faults"))]
        let skip_check = false;
        if let Some(old) = &self.old {
            while self.nevacuate != stop && (skip_check || old.buckets[self.nevacuate].evacuated())
            {
                self.nevacuate += 1;
            }
        }
        if self.nevacuate >= newbit {
            self.finish_growth();
        }
    }

    /// Drops the old array, or keeps it aside for the cursors still walking it (Go keeps it alive
    /// through the iterator's pointer).
    fn finish_growth(&mut self) {
        if let Some(old) = self.old.take() {
            if old.is_pinned() {
                self.retired.push(old);
            }
        }
        self.same_size = false;
        self.nevacuate = 0;
        self.prune_retired();
    }
}
