//! A summary of the map's shape, for tests, coverage reports and people.

use std::hash::{BuildHasher, Hash};

use crate::map::GoMap;

/// The map's shape at one moment; see [`GoMap::stats`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapStats {
    /// Entries (Go's `count`).
    pub len: usize,
    /// log2 of the main bucket count (Go's `B`).
    pub b: u8,
    /// Main buckets of the current array: `2^b`.
    pub buckets: usize,
    /// Overflow buckets of the current array.
    pub overflow_buckets: usize,
    /// Main buckets of the old array; 0 when not growing.
    pub old_buckets: usize,
    /// Old buckets evacuated so far (Go's `nevacuate`); 0 when not growing.
    pub evacuated: usize,
    /// A growth is under way.
    pub growing: bool,
    /// The growth under way keeps the bucket count.
    pub same_size: bool,
    /// The longest bucket chain, in buckets (1 = no overflow), across the current and old arrays.
    pub max_chain_len: usize,
    /// Doubling growths started over the map's life.
    pub grows: u64,
    /// Same-size growths started over the map's life.
    pub same_size_grows: u64,
    /// Cursors that may still yield.
    pub live_cursors: usize,
    /// Old arrays kept only because a cursor still walks them.
    pub retired_arrays: usize,
}

impl<K, V, S> GoMap<K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
    /// The map's shape: bucket counts, growth progress and counters. Cheap: O(1).
    pub fn stats(&self) -> MapStats {
        let old = self.old.as_ref();
        MapStats {
            len: self.count,
            b: self.buckets.b,
            buckets: self.buckets.main_buckets(),
            overflow_buckets: self.buckets.overflow_buckets(),
            old_buckets: old.map_or(0, |o| o.main_buckets()),
            evacuated: if old.is_some() { self.nevacuate } else { 0 },
            growing: old.is_some(),
            same_size: self.same_size,
            max_chain_len: self.buckets.max_chain.max(old.map_or(1, |o| o.max_chain)),
            grows: self.grows,
            same_size_grows: self.same_size_grows,
            live_cursors: self.live_cursors(),
            retired_arrays: self.retired.len(),
        }
    }
}

/// The few numbers that say how big the map is and which growths it started: what a harness
/// reads after every operation to check the shape contract (sizing, growth triggers, bounded
/// buckets under churn), so it is smaller and cheaper than [`MapStats`]; see [`GoMap::shape`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapShape {
    /// Entries (Go's `count`).
    pub len: usize,
    /// log2 of the main bucket count of the current array (Go's `B`; during a doubling growth,
    /// the new array's).
    pub b: u8,
    /// Overflow buckets chained in the current array (Go's `noverflow`, which map-core counts
    /// exactly).
    pub overflow_buckets: usize,
    /// A growth is under way.
    pub growing: bool,
    /// The growth under way keeps the bucket count.
    pub same_size: bool,
    /// Doubling growths started over the map's life, forced ones included.
    pub grows: u64,
    /// Same-size growths started over the map's life, forced ones included.
    pub same_size_grows: u64,
}

impl<K, V, S> GoMap<K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
    /// The map's [`MapShape`]: a handful of field reads, no walk of the buckets.
    #[inline]
    pub fn shape(&self) -> MapShape {
        MapShape {
            len: self.count,
            b: self.buckets.b,
            overflow_buckets: self.buckets.overflow_buckets(),
            growing: self.old.is_some(),
            same_size: self.same_size,
            grows: self.grows,
            same_size_grows: self.same_size_grows,
        }
    }
}
