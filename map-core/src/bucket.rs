//! Buckets and bucket arrays: Go's `bmap` and the array `makeBucketArray` allocates.
//!
//! A bucket holds 8 slots, a tophash byte per slot, and a link to its overflow bucket. An array
//! keeps its `2^B` main buckets first and appends overflow buckets after them, so an overflow link
//! is an index into the same vector (0 means "none": bucket 0 is always a main bucket).

use std::borrow::Borrow;
use std::sync::Arc;

/// Slots per bucket (Go's `bucketCnt`).
pub(crate) const BUCKET_CNT: usize = 8;
/// This slot is empty, and so is every later slot of the chain (Go's `emptyRest`).
pub(crate) const EMPTY_REST: u8 = 0;
/// This slot is empty (Go's `emptyOne`).
pub(crate) const EMPTY_ONE: u8 = 1;
/// The slot was live and was evacuated to the first half of the new array (Go's `evacuatedX`).
pub(crate) const EVACUATED_X: u8 = 2;
/// The slot was live and was evacuated to the second half of the new array (Go's `evacuatedY`).
pub(crate) const EVACUATED_Y: u8 = 3;
/// The slot was empty when its bucket was evacuated (Go's `evacuatedEmpty`).
pub(crate) const EVACUATED_EMPTY: u8 = 4;
/// The smallest tophash of a live slot (Go's `minTopHash`).
pub(crate) const MIN_TOP_HASH: u8 = 5;
/// The overflow link of the last bucket of a chain.
pub(crate) const NO_OVERFLOW: u32 = 0;

/// Whether a tophash marks an empty slot (Go's `isEmpty`).
#[inline]
pub(crate) fn is_empty(top: u8) -> bool {
    top <= EMPTY_ONE
}

/// Whether a tophash is one of the evacuation marks.
#[inline]
pub(crate) fn is_evacuation_mark(top: u8) -> bool {
    (EVACUATED_X..=EVACUATED_EMPTY).contains(&top)
}

/// What a slot holds. The tophash byte says the same thing in Go's terms; the audit checks that
/// the two agree.
#[derive(Clone, Debug)]
pub(crate) enum Slot<K, V> {
    /// Nothing: an empty slot, or an evacuated one no cursor can ever read.
    Empty,
    /// A live entry.
    Live(K, V),
    /// An evacuated entry's key, kept so that a cursor walking this array can look it up again in
    /// the live map (Go keeps old keys in place while `oldIterator` is set).
    Moved(K),
}

/// Where an evacuated entry was put, recorded only for the `StaleEvacuatedYield` fault.
#[cfg(feature = "faults")]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Forward {
    pub array: u64,
    pub bucket: u32,
    pub slot: u8,
}

/// One bucket: Go's `bmap`.
#[derive(Clone, Debug)]
pub(crate) struct Bucket<K, V> {
    pub tophash: [u8; BUCKET_CNT],
    pub slots: [Slot<K, V>; BUCKET_CNT],
    pub overflow: u32,
    #[cfg(feature = "faults")]
    pub forward: [Forward; BUCKET_CNT],
}

/// A byte of ones, repeated: the low bit of every byte of a word.
const LSB: u64 = 0x0101_0101_0101_0101;
/// The high bit of every byte of a word.
const MSB: u64 = 0x8080_8080_8080_8080;

/// The high bit of each zero byte of `word`. Exact up to and including the lowest zero byte;
/// bytes above it may be over-reported (a borrow ripples), so callers re-check those.
#[inline]
fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(LSB) & !word & MSB
}

/// The slot whose byte carries the high bit at `bit` (a bit index from [`zero_bytes`]).
#[inline]
pub(crate) fn slot_of_bit(bit: u32) -> usize {
    (bit / 8) as usize
}

impl<K, V> Bucket<K, V> {
    pub fn new() -> Self {
        Bucket {
            tophash: [EMPTY_REST; BUCKET_CNT],
            slots: std::array::from_fn(|_| Slot::Empty),
            overflow: NO_OVERFLOW,
            #[cfg(feature = "faults")]
            forward: [Forward::default(); BUCKET_CNT],
        }
    }

    /// The slots a lookup of `top` must compare keys at, as high bits of a word (see
    /// [`slot_of_bit`]; a reported slot may be a false positive, so re-check its tophash), and
    /// whether the bucket holds an `emptyRest` that ends the chain's search. Only slots before
    /// the first `emptyRest` are reported: exactly the slots Go's sequential scan in
    /// `mapaccess` reaches, found with a few word operations instead of a loop.
    #[inline]
    pub fn candidates(&self, top: u8) -> (u64, bool) {
        let word = u64::from_le_bytes(self.tophash);
        let rest = zero_bytes(word);
        let below_rest = if rest == 0 {
            u64::MAX
        } else {
            (rest & rest.wrapping_neg()) - 1
        };
        (
            zero_bytes(word ^ (LSB * u64::from(top))) & below_rest,
            rest != 0,
        )
    }

    /// The slot holding `key` among those a lookup of `top` reaches (see [`Self::candidates`]),
    /// and whether this bucket ends the chain's search: one bucket of the scan in Go's
    /// `mapaccess` and `mapassign`.
    #[inline]
    pub fn find<Q>(&self, top: u8, key: &Q) -> (Option<usize>, bool)
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let (mut candidates, ends_chain) = self.candidates(top);
        while candidates != 0 {
            let slot = slot_of_bit(candidates.trailing_zeros());
            candidates &= candidates - 1;
            if self.tophash[slot] == top
                && matches!(&self.slots[slot], Slot::Live(k, _) if k.borrow() == key)
            {
                return (Some(slot), ends_chain);
            }
        }
        (None, ends_chain)
    }

    /// The lowest slot marked empty (`emptyOne` or `emptyRest`), found with word operations.
    #[inline]
    pub fn first_empty(&self) -> Option<usize> {
        // emptyRest (0) and emptyOne (1) are the bytes that are zero once their low bit is clear.
        let empties = zero_bytes(u64::from_le_bytes(self.tophash) & !LSB);
        (empties != 0).then(|| slot_of_bit(empties.trailing_zeros()))
    }

    /// The live slots (tophash at least `minTopHash`), bit `s` for slot `s`.
    #[inline]
    pub fn live_mask(&self) -> u8 {
        let word = u64::from_le_bytes(self.tophash);
        // A byte's high bit ends up set when it is at least minTopHash: subtracting from the byte
        // with its high bit forced on cannot borrow from the next byte, and bytes of 0x80 and up
        // keep their own high bit.
        let live = ((word | MSB).wrapping_sub(LSB * u64::from(MIN_TOP_HASH)) | word) & MSB;
        // Gathers the eight high bits into one byte, slot s at bit s.
        ((live >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
    }

    /// Whether this (old) bucket has been evacuated (Go's `evacuated`): the first slot's tophash
    /// is an evacuation mark.
    #[inline]
    pub fn evacuated(&self) -> bool {
        let top = self.tophash[0];
        top > EMPTY_ONE && top < MIN_TOP_HASH
    }
}

/// A bucket array: `2^b` main buckets followed by the overflow buckets chained from them.
#[derive(Debug)]
pub(crate) struct BucketArray<K, V> {
    /// Unique within its map, so a cursor can name the array it walks.
    pub id: u64,
    /// log2 of the number of main buckets (Go's `B`).
    pub b: u8,
    pub buckets: Vec<Bucket<K, V>>,
    /// Length of the longest chain, in buckets (1 when there is no overflow).
    pub max_chain: usize,
    /// Cursors hold clones of this token; while any does, the map keeps the array readable.
    pub pin: Arc<()>,
}

impl<K, V> BucketArray<K, V> {
    /// An array of `2^b` empty buckets (Go's `makeBucketArray`). Go preallocates `2^(b-4)`
    /// overflow buckets for `b >= 4`; here that is reserved capacity.
    pub fn new(id: u64, b: u8) -> Self {
        let main = 1usize << b;
        let spare = if b >= 4 { 1usize << (b - 4) } else { 0 };
        let mut buckets = Vec::with_capacity(main + spare);
        buckets.resize_with(main, Bucket::new);
        BucketArray {
            id,
            b,
            buckets,
            max_chain: 1,
            pin: Arc::new(()),
        }
    }

    /// The number of main buckets, `2^b`.
    #[inline]
    pub fn main_buckets(&self) -> usize {
        1usize << self.b
    }

    /// The mask that selects a main bucket from a hash (Go's `bucketMask`).
    #[inline]
    pub fn mask(&self) -> usize {
        self.main_buckets() - 1
    }

    /// The number of overflow buckets in this array.
    #[inline]
    pub fn overflow_buckets(&self) -> usize {
        self.buckets.len() - self.main_buckets()
    }

    /// Appends an empty overflow bucket after `last` (which must end its chain) and returns its
    /// index (Go's `newoverflow`). `chain_len` is the length of the chain before the new bucket.
    pub fn new_overflow(&mut self, last: u32, chain_len: usize) -> u32 {
        let index = u32::try_from(self.buckets.len())
            .expect("bucket array exceeds u32::MAX buckets; Go's map has the same practical bound");
        self.buckets.push(Bucket::new());
        self.buckets[last as usize].overflow = index;
        self.max_chain = self.max_chain.max(chain_len + 1);
        index
    }

    /// Whether a cursor still holds this array.
    #[inline]
    pub fn is_pinned(&self) -> bool {
        Arc::strong_count(&self.pin) > 1
    }

    /// Empties every bucket in place and drops the overflow buckets, keeping `b` (Go's `mapclear`
    /// re-making the bucket array over the same memory).
    pub fn reset(&mut self) {
        let main = self.main_buckets();
        self.buckets.truncate(main);
        for bucket in &mut self.buckets {
            *bucket = Bucket::new();
        }
        self.max_chain = 1;
    }

    /// The indices of the buckets of the chain that starts at main bucket `start`, guarded
    /// against a corrupted link so that callers never loop forever.
    pub fn chain(&self, start: usize) -> ChainIter<'_, K, V> {
        ChainIter {
            array: self,
            next: Some(start as u32),
            remaining: self.buckets.len(),
        }
    }
}

impl<K: Clone, V: Clone> Clone for BucketArray<K, V> {
    /// A copy with a pin of its own: cursors of the original do not hold the copy.
    fn clone(&self) -> Self {
        BucketArray {
            id: self.id,
            b: self.b,
            buckets: self.buckets.clone(),
            max_chain: self.max_chain,
            pin: Arc::new(()),
        }
    }
}

/// The bucket indices of one chain; see [`BucketArray::chain`].
pub(crate) struct ChainIter<'a, K, V> {
    array: &'a BucketArray<K, V>,
    next: Option<u32>,
    remaining: usize,
}

impl<K, V> Iterator for ChainIter<'_, K, V> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let index = self.next?;
        let bucket = self.array.buckets.get(index as usize)?;
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        self.next = (bucket.overflow != NO_OVERFLOW).then_some(bucket.overflow);
        Some(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_empty_slot_is_the_lowest_marked_empty() {
        let mut bucket: Bucket<u64, u64> = Bucket::new();
        assert_eq!(bucket.first_empty(), Some(0));
        bucket.tophash = [
            MIN_TOP_HASH,
            0xff,
            EVACUATED_EMPTY,
            EMPTY_ONE,
            7,
            EMPTY_REST,
            2,
            9,
        ];
        assert_eq!(bucket.first_empty(), Some(3));
        bucket.tophash = [0xfe; BUCKET_CNT];
        assert_eq!(bucket.first_empty(), None);
        for slot in 0..BUCKET_CNT {
            for mark in [EMPTY_ONE, EMPTY_REST] {
                let mut tophash = [MIN_TOP_HASH + 1; BUCKET_CNT];
                tophash[slot] = mark;
                // Empty bytes above the first may be over-reported by the word trick: harmless.
                tophash[BUCKET_CNT - 1] = EMPTY_ONE;
                bucket.tophash = tophash;
                assert_eq!(bucket.first_empty(), Some(slot));
            }
        }
    }

    #[test]
    fn markers_are_classified_like_go() {
        assert!(is_empty(EMPTY_REST) && is_empty(EMPTY_ONE));
        assert!(!is_empty(EVACUATED_X) && !is_empty(MIN_TOP_HASH));
        for mark in [EVACUATED_X, EVACUATED_Y, EVACUATED_EMPTY] {
            assert!(is_evacuation_mark(mark));
        }
        assert!(!is_evacuation_mark(EMPTY_ONE) && !is_evacuation_mark(MIN_TOP_HASH));
    }

    #[test]
    fn overflow_buckets_chain_after_the_main_ones() {
        let mut array: BucketArray<u64, u64> = BucketArray::new(1, 2);
        assert_eq!(array.main_buckets(), 4);
        let first = array.new_overflow(1, 1);
        let second = array.new_overflow(first, 2);
        assert_eq!((first, second), (4, 5));
        assert_eq!(array.chain(1).collect::<Vec<_>>(), vec![1, 4, 5]);
        assert_eq!(array.overflow_buckets(), 2);
        assert_eq!(array.max_chain, 3);
        array.reset();
        assert_eq!(array.overflow_buckets(), 0);
        assert_eq!(array.chain(1).collect::<Vec<_>>(), vec![1]);
    }

    #[test]
    fn a_corrupted_cycle_does_not_hang_the_chain_walk() {
        let mut array: BucketArray<u64, u64> = BucketArray::new(1, 0);
        let first = array.new_overflow(0, 1);
        array.buckets[first as usize].overflow = first;
        assert!(array.chain(0).count() <= array.buckets.len());
    }

    #[test]
    fn candidates_match_a_sequential_scan() {
        let mut state = 0x1234_5678_9abc_def0u64;
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mut bucket: Bucket<u64, u64> = Bucket::new();
            for slot in 0..BUCKET_CNT {
                // Few distinct values, so matches, markers and emptyRest all show up.
                bucket.tophash[slot] =
                    [EMPTY_REST, EMPTY_ONE, 5, 6, 0x80, 0xff][((state >> (slot * 5)) % 6) as usize];
            }
            for top in [5u8, 6, 0x80, 0xff] {
                let mut expected = Vec::new();
                let mut ends = false;
                for slot in 0..BUCKET_CNT {
                    if bucket.tophash[slot] == EMPTY_REST {
                        ends = true;
                        break;
                    }
                    if bucket.tophash[slot] == top {
                        expected.push(slot);
                    }
                }
                let (mut bits, found_ends) = bucket.candidates(top);
                let mut found = Vec::new();
                while bits != 0 {
                    let slot = slot_of_bit(bits.trailing_zeros());
                    bits &= bits - 1;
                    if bucket.tophash[slot] == top {
                        found.push(slot);
                    }
                }
                assert_eq!(
                    (found, found_ends),
                    (expected, ends),
                    "tophash {:?} top {top}",
                    bucket.tophash
                );
            }
        }
    }

    #[test]
    fn live_mask_agrees_with_a_byte_by_byte_scan() {
        let mut bucket: Bucket<u64, u64> = Bucket::new();
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for round in 0..20_000u64 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut bytes = state.to_le_bytes();
            // Markers and the values around minTopHash, in every slot, often.
            bytes[(round % 8) as usize] = (round % 8) as u8;
            bucket.tophash = bytes;
            let expected = (0..BUCKET_CNT)
                .filter(|&s| bytes[s] >= MIN_TOP_HASH)
                .fold(0u8, |mask, s| mask | 1 << s);
            assert_eq!(bucket.live_mask(), expected, "{bytes:?}");
        }
        for top in 0..=u8::MAX {
            bucket.tophash = [top; BUCKET_CNT];
            let expected = if top >= MIN_TOP_HASH { u8::MAX } else { 0 };
            assert_eq!(bucket.live_mask(), expected, "{top}");
        }
    }

    #[test]
    fn live_mask_marks_real_tophashes() {
        let mut bucket: Bucket<u64, u64> = Bucket::new();
        bucket.tophash = [0, 1, 2, 3, 4, 5, 0x80, 0xff];
        assert_eq!(bucket.live_mask(), 0b1110_0000);
    }

    #[test]
    fn evacuated_reads_the_first_tophash() {
        let mut bucket: Bucket<u64, u64> = Bucket::new();
        assert!(!bucket.evacuated());
        bucket.tophash[0] = EVACUATED_EMPTY;
        assert!(bucket.evacuated());
        bucket.tophash[0] = MIN_TOP_HASH;
        assert!(!bucket.evacuated());
    }
}
