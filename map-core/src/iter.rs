//! The borrowing iterator and the std traits built on it.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::iter::FusedIterator;
use std::ops::Index;

use crate::bucket::{Bucket, BucketArray, Slot, BUCKET_CNT, NO_OVERFLOW};
use crate::cursor::{CursorStats, Walk};
use crate::hash::os_seed;
use crate::map::GoMap;

/// An iterator over a [`GoMap`]'s entries in the same randomized order a [`Cursor`](crate::Cursor)
/// would take. It borrows the map, so the map cannot change while it runs; use a cursor for that.
pub struct Iter<'a, K, V, S> {
    map: &'a GoMap<K, V, S>,
    order: Order<'a, K, V>,
    remaining: usize,
}

/// How an [`Iter`] walks: straight over the bucket array when no growth is under way (every
/// entry is live where it sits), or the cursor's general walk during a growth.
enum Order<'a, K, V> {
    Flat(FlatWalk<'a, K, V>),
    General(Walk, CursorStats),
}

/// The walk over one array with no growth under way, in the cursor's order: main buckets from
/// the random start, each chain in order, slots rotated by the random offset.
struct FlatWalk<'a, K, V> {
    array: &'a BucketArray<K, V>,
    bucket: &'a Bucket<K, V>,
    /// Live slots of `bucket` not yet yielded, rotated so that bit `i` is slot `(i + offset) % 8`.
    live: u8,
    offset: usize,
    /// The main bucket whose chain is being walked, and how many main buckets are left after it.
    main: usize,
    mains_left: usize,
}

impl<'a, K, V> FlatWalk<'a, K, V> {
    fn new(array: &'a BucketArray<K, V>, start: usize, offset: usize) -> Self {
        let bucket = &array.buckets[start];
        FlatWalk {
            array,
            bucket,
            live: bucket.live_mask().rotate_right(offset as u32),
            offset,
            main: start,
            mains_left: array.main_buckets() - 1,
        }
    }

    #[inline]
    fn next(&mut self) -> Option<(&'a K, &'a V)> {
        loop {
            while self.live != 0 {
                let slot = (self.live.trailing_zeros() as usize + self.offset) & (BUCKET_CNT - 1);
                self.live &= self.live - 1;
                if let Slot::Live(k, v) = &self.bucket.slots[slot] {
                    return Some((k, v));
                }
            }
            if self.bucket.overflow != NO_OVERFLOW {
                self.bucket = &self.array.buckets[self.bucket.overflow as usize];
            } else if self.mains_left > 0 {
                self.mains_left -= 1;
                self.main = (self.main + 1) & self.array.mask();
                self.bucket = &self.array.buckets[self.main];
            } else {
                return None;
            }
            self.live = self.bucket.live_mask().rotate_right(self.offset as u32);
        }
    }
}

impl<'a, K, V, S> Iterator for Iter<'a, K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
    type Item = (&'a K, &'a V);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let entry = match &mut self.order {
            Order::Flat(flat) => flat.next(),
            Order::General(walk, stats) => walk.next(self.map, stats),
        };
        match entry {
            Some(entry) => {
                self.remaining -= 1;
                Some(entry)
            }
            None => {
                self.remaining = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K, V, S> ExactSizeIterator for Iter<'_, K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
}

impl<K, V, S> FusedIterator for Iter<'_, K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
}

impl<K, V, S> GoMap<K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
    /// An iterator over the entries, from a random start drawn from the map's seeded stream, so
    /// two iterations of an unchanged map usually differ in order, and a seed fixes both.
    ///
    /// ```
    /// use map_core::GoMap;
    /// let map: GoMap<u64, u64> = (0..10).map(|k| (k, k * k)).collect();
    /// let mut keys: Vec<u64> = map.iter().map(|(k, _)| *k).collect();
    /// keys.sort();
    /// assert_eq!(keys, (0..10).collect::<Vec<_>>());
    /// ```
    pub fn iter(&self) -> Iter<'_, K, V, S> {
        let walk = Walk::new(self);
        let (start, offset) = walk.start();
        // With a fault injected, the iterator takes the cursor's code path, so it shows the
        // cursor's faults too.
        #[cfg(feature = "faults")]
        let general = self.is_growing() || walk.is_finished() || self.fault.is_some();
        #[cfg(not(feature = "faults"))]
        let general = self.is_growing() || walk.is_finished();
        let order = if general {
            Order::General(walk, CursorStats::default())
        } else {
            Order::Flat(FlatWalk::new(&self.buckets, start, offset))
        };
        #[cfg(feature = "faults")]
        let count = if self.has_fault(crate::Fault::IterCountsCurrentArray) {
            self.buckets
                .buckets
                .iter()
                .map(|bucket| bucket.live_mask().count_ones() as usize)
                .sum()
        } else {
            self.count
        };
        #[cfg(not(feature = "faults"))]
        let count = self.count;
        Iter {
            map: self,
            order,
            remaining: count,
        }
    }
}

impl<'a, K, V, S> IntoIterator for &'a GoMap<K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V, S>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<K, V, S> Extend<(K, V)> for GoMap<K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, entries: I) {
        for (k, v) in entries {
            #[cfg(feature = "faults")]
            if self.has_fault(crate::Fault::ExtendKeepsFirst) && self.contains_key(&k) {
                continue;
            }
            self.insert(k, v);
        }
    }
}

impl<K, V, S> FromIterator<(K, V)> for GoMap<K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher + Default,
{
    /// Collects into a map with `S::default()` and an OS-drawn iteration seed, like a Go map
    /// literal. Build with [`GoMap::with_hasher_and_seed`] and [`Extend`] to replay.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
        Self::collect_entries(entries, os_seed(), None)
    }
}

impl<K, V, S> GoMap<K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher + Default,
{
    /// What `FromIterator` does, with the map's seed given instead of drawn from the OS, so that
    /// a collected map's iteration order replays.
    ///
    /// ```
    /// use map_core::GoMap;
    /// let map: GoMap<u64, u64> = GoMap::from_iter_with_seed([(1, 10), (2, 20), (1, 11)], 7);
    /// assert_eq!(map.get(&1), Some(&11));
    /// ```
    pub fn from_iter_with_seed<I: IntoIterator<Item = (K, V)>>(entries: I, seed: u64) -> Self {
        Self::collect_entries(entries, seed, None)
    }

    /// [`GoMap::from_iter_with_seed`] with `fault` injected into the new map before it is
    /// filled, so that the faults of collecting can be injected at all (the harness's only way
    /// in).
    #[cfg(feature = "faults")]
    pub fn from_iter_with_fault<I: IntoIterator<Item = (K, V)>>(
        entries: I,
        seed: u64,
        fault: crate::Fault,
    ) -> Self {
        Self::collect_entries(entries, seed, Some(fault))
    }

    fn collect_entries<I: IntoIterator<Item = (K, V)>>(
        entries: I,
        seed: u64,
        #[cfg_attr(not(feature = "faults"), allow(unused_variables))] fault: Option<crate::Fault>,
    ) -> Self {
        let entries = entries.into_iter();
        let mut map =
            GoMap::with_capacity_hasher_and_seed(entries.size_hint().0, S::default(), seed);
        #[cfg(feature = "faults")]
        if let Some(fault) = fault {
            map.inject(fault);
            if fault == crate::Fault::FromIterKeepsFirst {
                for (k, v) in entries {
                    if map.get(&k).is_none() {
                        map.insert(k, v);
                    }
                }
                return map;
            }
        }
        for (k, v) in entries {
            map.insert(k, v);
        }
        map
    }
}

impl<K, V, S> fmt::Debug for GoMap<K, V, S>
where
    K: Hash + Eq + Clone + fmt::Debug,
    V: fmt::Debug,
    S: BuildHasher,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K, V, S> PartialEq for GoMap<K, V, S>
where
    K: Hash + Eq + Clone,
    V: PartialEq,
    S: BuildHasher,
{
    /// Maps are equal when they hold the same entries, whatever their hashers, layout or growth state.
    fn eq(&self, other: &Self) -> bool {
        #[cfg(feature = "faults")]
        if self.has_fault(crate::Fault::EqIgnoresValues) {
            return self.len() == other.len() && self.iter().all(|(k, _)| other.contains_key(k));
        }
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl<K, V, S> Eq for GoMap<K, V, S>
where
    K: Hash + Eq + Clone,
    V: Eq,
    S: BuildHasher,
{
}

impl<K, Q, V, S> Index<&Q> for GoMap<K, V, S>
where
    K: Hash + Eq + Clone + Borrow<Q>,
    Q: Hash + Eq + ?Sized,
    S: BuildHasher,
{
    type Output = V;

    /// # Panics
    ///
    /// If the key is not in the map, like std's `HashMap`.
    fn index(&self, key: &Q) -> &V {
        #[cfg(feature = "faults")]
        if self.has_fault(crate::Fault::IndexSkipsKeyCompare) {
            if let Some(v) = self.first_with_tophash(self.hash(key)) {
                return v;
            }
        }
        self.get(key).expect("key not found in GoMap")
    }
}
