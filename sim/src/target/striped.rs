//! An example concurrent map, weakly consistent (semantics.md §7), in two builds: a correct one
//! and one with a race that only overlapping calls can show.
//!
//! The map is a table of buckets, each behind its own mutex, and the table behind a read-write
//! lock: every call holds the read lock for its whole duration, and a resize (when the map holds
//! more than two entries per bucket) takes the write lock, copies every entry into a table of
//! twice the buckets and publishes it. The old table is never written again, so a cursor, which
//! keeps the table it was created on and copies one bucket at a time, yields every key present
//! throughout, each once, with a value the key held during its window: §7 with W1 per key.
//!
//! The racy build publishes the new table *before* filling it and copies the entries in after
//! releasing the write lock, a bucket at a time. A call that runs during the copy sees a
//! half-filled table: a cursor created then misses keys that were present all along, a remove of
//! a key not yet copied finds nothing and the copy brings the key back. Run on one thread, every
//! resize finishes inside the call that starts it and the map is correct: only `sim run
//! --threads N` shows the bug.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use super::{Capabilities, Contract, NoRepeat, Target, TargetInfo};
use crate::concurrent::ConcurrentMap;
use crate::coverage::Coverage;
use crate::hasher::SimHasher;
use crate::op::{CursorId, MAX_CURSORS};
use crate::program::{Config, HasherMode};

const CAPABILITIES: Capabilities = Capabilities {
    cursors: true,
    contract: Contract::Weak(NoRepeat::PerKey),
    ..Capabilities::PLAIN
};

/// `striped`: the correct build.
pub(super) const INFO: TargetInfo = TargetInfo {
    name: "striped",
    about: "example concurrent map: bucket locks, resizes under a table lock",
    capabilities: CAPABILITIES,
    create: |program| Ok(Box::new(StripedTarget::new(&program.config, false))),
    check_available: super::always_available,
};

/// `striped-racy`: the build whose resize publishes a half-filled table.
pub(super) const RACY_INFO: TargetInfo = TargetInfo {
    name: "striped-racy",
    about: "the striped example whose resize publishes a half-filled table",
    capabilities: CAPABILITIES,
    create: |program| Ok(Box::new(StripedTarget::new(&program.config, true))),
    check_available: super::always_available,
};

/// Buckets a table starts with.
const FIRST_BUCKETS: usize = 4;

/// One table: buckets of entries, each behind its own lock.
#[derive(Debug)]
struct Table {
    buckets: Vec<Mutex<Vec<(u64, u64)>>>,
}

impl Table {
    fn new(buckets: usize) -> Table {
        Table {
            buckets: (0..buckets).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }
}

/// A bucket's lock, even if a panicking call poisoned it: a panic is reported as the failure it
/// is, and the entries stay as the call left them.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The example concurrent map.
#[derive(Debug)]
pub struct StripedMap {
    table: RwLock<Arc<Table>>,
    len: AtomicUsize,
    hasher: SimHasher,
    /// The planted race: publish a resized table before filling it.
    racy: bool,
}

impl StripedMap {
    /// An empty map hashed by `hasher`, with room for `capacity` entries before its first
    /// resize; `racy` plants the race.
    pub fn new(capacity: usize, hasher: SimHasher, racy: bool) -> StripedMap {
        let buckets = (capacity / 2).max(FIRST_BUCKETS).next_power_of_two();
        StripedMap {
            table: RwLock::new(Arc::new(Table::new(buckets))),
            len: AtomicUsize::new(0),
            hasher,
            racy,
        }
    }

    fn bucket_of(&self, table: &Table, key: u64) -> usize {
        (self.hasher.hash_one(key) as usize) & (table.buckets.len() - 1)
    }

    /// Runs `f` on `key`'s bucket in the current table, under the table's read lock.
    fn with_bucket<T>(&self, key: u64, f: impl FnOnce(&mut Vec<(u64, u64)>) -> T) -> T {
        let table = self.table.read().unwrap_or_else(|p| p.into_inner());
        let mut bucket = lock(&table.buckets[self.bucket_of(&table, key)]);
        f(&mut bucket)
    }

    /// Doubles the table once it holds more than two entries per bucket.
    fn grow_if_full(&self) {
        let buckets = self
            .table
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .buckets
            .len();
        if self.len.load(Ordering::SeqCst) <= 2 * buckets {
            return;
        }
        let mut current = self.table.write().unwrap_or_else(|p| p.into_inner());
        if current.buckets.len() != buckets {
            return; // another call resized it meanwhile
        }
        let old = Arc::clone(&current);
        let new = Arc::new(Table::new(2 * buckets));
        if !self.racy {
            self.copy(&old, &new);
            *current = new;
            return;
        }
        *current = Arc::clone(&new);
        drop(current);
        self.copy(&old, &new);
    }

    /// Copies every entry of `old` into `new`, a bucket at a time, leaving alone keys that `new`
    /// already holds (written since it was published).
    fn copy(&self, old: &Table, new: &Table) {
        for bucket in &old.buckets {
            let entries = lock(bucket).clone();
            for (key, value) in entries {
                let mut target = lock(&new.buckets[self.bucket_of(new, key)]);
                if !target.iter().any(|&(k, _)| k == key) {
                    target.push((key, value));
                }
            }
        }
    }

    /// `insert(key, value)`: the previous value.
    pub fn insert(&self, key: u64, value: u64) -> Option<u64> {
        let old = self.with_bucket(key, |bucket| {
            match bucket.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => Some(std::mem::replace(v, value)),
                None => {
                    bucket.push((key, value));
                    None
                }
            }
        });
        if old.is_none() {
            self.len.fetch_add(1, Ordering::SeqCst);
            self.grow_if_full();
        }
        old
    }

    /// `remove(key)`: the removed value.
    pub fn remove(&self, key: u64) -> Option<u64> {
        let old = self.with_bucket(key, |bucket| {
            let at = bucket.iter().position(|&(k, _)| k == key)?;
            Some(bucket.swap_remove(at).1)
        });
        if old.is_some() {
            self.len.fetch_sub(1, Ordering::SeqCst);
        }
        old
    }

    /// `get(key)`.
    pub fn get(&self, key: u64) -> Option<u64> {
        self.with_bucket(key, |bucket| {
            bucket.iter().find(|&&(k, _)| k == key).map(|&(_, v)| v)
        })
    }

    /// `clear()`: every bucket emptied, one at a time.
    pub fn clear(&self) {
        let table = self.table.read().unwrap_or_else(|p| p.into_inner());
        for bucket in &table.buckets {
            let mut bucket = lock(bucket);
            self.len.fetch_sub(bucket.len(), Ordering::SeqCst);
            bucket.clear();
        }
    }

    /// Every entry, bucket by bucket.
    pub fn contents(&self) -> Vec<(u64, u64)> {
        let table = self.table.read().unwrap_or_else(|p| p.into_inner());
        table.buckets.iter().flat_map(|b| lock(b).clone()).collect()
    }

    /// A cursor on the current table.
    pub fn cursor(&self) -> StripedCursor {
        StripedCursor {
            table: Arc::clone(&self.table.read().unwrap_or_else(|p| p.into_inner())),
            next_bucket: 0,
            copied: Vec::new(),
        }
    }
}

/// A cursor: the table it was created on, and the entries of the bucket it is walking.
#[derive(Debug)]
pub struct StripedCursor {
    table: Arc<Table>,
    next_bucket: usize,
    /// What is left of the bucket last copied, in reverse.
    copied: Vec<(u64, u64)>,
}

impl Iterator for StripedCursor {
    type Item = (u64, u64);

    fn next(&mut self) -> Option<(u64, u64)> {
        loop {
            if let Some(entry) = self.copied.pop() {
                return Some(entry);
            }
            let bucket = self.table.buckets.get(self.next_bucket)?;
            self.next_bucket += 1;
            self.copied = lock(bucket).iter().rev().copied().collect();
        }
    }
}

impl ConcurrentMap for StripedMap {
    fn insert(&self, key: u64, value: u64) -> Option<u64> {
        StripedMap::insert(self, key, value)
    }
    fn remove(&self, key: u64) -> Option<u64> {
        StripedMap::remove(self, key)
    }
    fn get(&self, key: u64) -> Option<u64> {
        StripedMap::get(self, key)
    }
    fn clear(&self) {
        StripedMap::clear(self)
    }
    fn contents(&self) -> Vec<(u64, u64)> {
        StripedMap::contents(self)
    }
    fn cursor(&self) -> Box<dyn Iterator<Item = (u64, u64)> + '_> {
        Box::new(StripedMap::cursor(self))
    }
}

/// The map as a single-threaded target.
struct StripedTarget {
    map: StripedMap,
    cursors: [Option<StripedCursor>; MAX_CURSORS],
}

impl StripedTarget {
    fn new(config: &Config, racy: bool) -> StripedTarget {
        let hasher = SimHasher::new(config.hasher, config.hasher_seed);
        StripedTarget {
            map: StripedMap::new(config.initial_capacity as usize, hasher, racy),
            cursors: Default::default(),
        }
    }
}

impl Target for StripedTarget {
    fn insert(&mut self, key: u64, value: u64) -> Option<u64> {
        self.map.insert(key, value)
    }
    fn remove(&mut self, key: u64) -> Option<u64> {
        self.map.remove(key)
    }
    fn get(&mut self, key: u64) -> Option<u64> {
        self.map.get(key)
    }
    fn clear(&mut self) {
        self.map.clear()
    }
    fn len(&mut self) -> usize {
        self.map.len.load(Ordering::SeqCst)
    }
    fn contents(&mut self) -> Vec<(u64, u64)> {
        self.map.contents()
    }
    fn cursor_new(&mut self, cursor: CursorId) {
        self.cursors[cursor.index()] = Some(self.map.cursor());
    }
    fn cursor_next(&mut self, cursor: CursorId) -> Option<(u64, u64)> {
        self.cursors[cursor.index()].as_mut()?.next()
    }
    fn cursor_drop(&mut self, cursor: CursorId, _: &mut Coverage) {
        self.cursors[cursor.index()] = None;
    }
}

/// The map for a concurrent program: `racy` plants the race.
pub fn for_concurrent(capacity: u64, hasher: HasherMode, hash_seed: u64, racy: bool) -> StripedMap {
    StripedMap::new(capacity as usize, SimHasher::new(hasher, hash_seed), racy)
}
