//! `weak-example`: a small, correct, weakly consistent map (semantics.md §7), and the planted
//! faults that prove each of §7's rules can fail.
//!
//! The map is bucketed by the low bits of the hash and doubles when an insert of a new key takes
//! it past [`LOAD`] entries per bucket. A bucket keeps its entries in *split order*, by the
//! reversed hash (then the key), and a cursor walks the buckets in split order too: slot `s` of a
//! table of `2^b` buckets is bucket `reverse_b(s)`, so a bucket's entries are exactly the slot's
//! range of reversed hashes, and a doubling splits slot `s` into slots `2s` and `2s + 1` without
//! moving any entry relative to the walk. A cursor remembers the slot it is in and the last entry
//! it yielded there, and each step goes on from there in the live table, reading the current
//! value: it neither copies the map nor sees it frozen, so it may yield a value stored after its
//! creation (not a snapshot) and may or may not see a key inserted after it, but it yields every
//! key present throughout, never one twice and always ends. It starts at a random slot drawn
//! from the map's seeded generator and wraps around once, ending when it is back at that slot.
//!
//! Two more mechanisms are there because real concurrent maps have them, and the faults live in
//! them: a remove leaves a *tombstone* (the entry marked dead, dropped when its bucket is next
//! rewritten or the table doubles), and cursors share a *copy* of a bucket while the bucket is
//! unchanged (a bucket's version counts its writes; a cursor re-reads a bucket whose version
//! moved), as a lock-free reader reads a published copy instead of the locked live bucket.
//!
//! Two W1 strengths: `weak-example` promises no key twice (`NoRepeat::PerKey`), like Go's
//! `sync.Map`; `weak-example-per-element` orders a key's incarnations by when they began, so a key
//! removed behind the cursor and inserted again is ahead of it and may be yielded again, like
//! Java's `ConcurrentHashMap` (`NoRepeat::PerElement`).
//!
//! The planted faults ([`WeakFault`]) are targets of their own, `weak-example-FAULT` and
//! `weak-example-per-element-FAULT`: a bug is a different map, so a trace that names the target
//! replays the bug. They live in sim itself and cost the other targets nothing, so unlike
//! map-core's faults they need no `faults` feature; `sim targets` does not list them as maps to
//! check, and `sim faults --target weak-example` measures them ([`planted`]).

use std::hash::BuildHasher;
use std::rc::Rc;

use super::{Capabilities, Contract, NoRepeat, Target, TargetInfo};
use crate::coverage::Coverage;
use crate::failure::{FailureKind, WeakRule};
use crate::hasher::SimHasher;
use crate::op::{CursorId, MAX_CURSORS};
use crate::program::Config;

/// Entries per bucket past which an insert of a new key doubles the table. Small, so that a
/// doubling under a live cursor takes a few inserts (a shrunk failure stays short).
pub const LOAD: usize = 2;

/// The largest table (2^20 buckets): a doubling past it is not done (the map only gets slower).
const MAX_LOG2: u32 = 20;

/// A planted bug of the example map: each a plausible mistake, each breaking one rule of §7.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WeakFault {
    /// Buckets kept in key order, and a cursor's place in its bucket is the last key it yielded.
    /// Right until a doubling splits the cursor's bucket: the cursor goes on in the first half
    /// past that key, then walks the second half from its start, so the keys it yielded that
    /// moved there come again (W1: a resize moves entries ahead of the cursor's position).
    ResizeRepeats,
    /// A cursor keeps the table size it was created with, as an iterator caching the table's
    /// length: after a doubling it walks only the buckets the old size numbers, and misses the
    /// keys that moved to the new ones (W2: a resize moves entries out of the cursor's reach).
    ResizeSkips,
    /// An overwrite of a present key does not move its bucket's version (only inserts of new
    /// keys and removes do, as Java's `modCount` counts only structural changes), so a bucket
    /// copy that a cursor shared before the overwrite stays in use: a cursor created after the
    /// overwrite yields the value the key lost before the cursor existed (W3).
    StaleSharedCopy,
    /// A cursor does not skip tombstones: it yields a removed entry, with its last value, even
    /// when the key was removed before the cursor was created (W3: a key never present in the
    /// cursor's window).
    YieldsTombstones,
    /// A cursor ends when it comes back to the first entry it yielded rather than to its start
    /// slot, and wraps around after the last bucket until then: once that entry is removed, it
    /// goes round again and again (W4), stopped only by a step that finds no entry at all.
    WrapsAround,
}

impl WeakFault {
    /// Every fault, in the order of the rules they break.
    pub const ALL: [WeakFault; 5] = [
        WeakFault::ResizeRepeats,
        WeakFault::ResizeSkips,
        WeakFault::StaleSharedCopy,
        WeakFault::YieldsTombstones,
        WeakFault::WrapsAround,
    ];

    /// The fault's name: the suffix of its target's name.
    pub fn name(self) -> &'static str {
        match self {
            WeakFault::ResizeRepeats => "resize-repeats",
            WeakFault::ResizeSkips => "resize-skips",
            WeakFault::StaleSharedCopy => "stale-shared-copy",
            WeakFault::YieldsTombstones => "yields-tombstones",
            WeakFault::WrapsAround => "wraps-around",
        }
    }

    /// The rule of §7 the fault breaks, for a target of this W1 strength.
    pub fn rule(self, no_repeat: NoRepeat) -> WeakRule {
        match self {
            WeakFault::ResizeRepeats => match no_repeat {
                NoRepeat::PerKey => WeakRule::KeyTwice,
                NoRepeat::PerElement => WeakRule::ElementTwice,
            },
            WeakFault::ResizeSkips => WeakRule::MissedPresent,
            WeakFault::StaleSharedCopy => WeakRule::ValueOutsideWindow,
            WeakFault::YieldsTombstones => WeakRule::KeyOutsideWindow,
            WeakFault::WrapsAround => WeakRule::Unending,
        }
    }
}

/// What the example's targets support: cursors and a diagram; growth only by inserts.
const CAPABILITIES: Capabilities = Capabilities {
    cursors: true,
    diagram: true,
    contract: Contract::Weak(NoRepeat::PerKey),
    ..Capabilities::PLAIN
};

/// [`CAPABILITIES`] with W1 per element.
const PER_ELEMENT_CAPABILITIES: Capabilities = Capabilities {
    contract: Contract::Weak(NoRepeat::PerElement),
    ..CAPABILITIES
};

pub(super) const INFO: TargetInfo = TargetInfo {
    name: "weak-example",
    about: "a weakly consistent map (§7, W1 per key): cursors walk the live buckets",
    capabilities: CAPABILITIES,
    create: |p| {
        Ok(Box::new(WeakExampleTarget::new(
            &p.config,
            NoRepeat::PerKey,
            None,
        )))
    },
    check_available: super::always_available,
};

pub(super) const PER_ELEMENT_INFO: TargetInfo = TargetInfo {
    name: "weak-example-per-element",
    about: "weak-example whose cursor may yield a re-inserted key again (§7, W1 per element)",
    capabilities: PER_ELEMENT_CAPABILITIES,
    create: |p| {
        Ok(Box::new(WeakExampleTarget::new(
            &p.config,
            NoRepeat::PerElement,
            None,
        )))
    },
    check_available: super::always_available,
};

/// The target of a planted fault: `weak-example-NAME` (per key) or `weak-example-per-element-NAME`.
macro_rules! planted_info {
    ($name:literal, $caps:expr, $no_repeat:expr, $fault:expr) => {
        TargetInfo {
            name: $name,
            about: "weak-example with a planted fault (sim faults --target weak-example)",
            capabilities: $caps,
            create: |p| {
                Ok(Box::new(WeakExampleTarget::new(
                    &p.config,
                    $no_repeat,
                    Some($fault),
                )))
            },
            check_available: super::always_available,
        }
    };
}

/// One planted fault: the target with the bug, the correct target it is a variant of, and the
/// check it must fail.
#[derive(Clone, Copy, Debug)]
pub struct Planted {
    /// The fault.
    pub fault: WeakFault,
    /// The row's name in `sim faults`: the faulty target's name without `weak-example-`.
    pub name: &'static str,
    /// The faulty target.
    pub target: &'static TargetInfo,
    /// The correct map it is a variant of (its programs are the same for every seed).
    pub healthy: &'static TargetInfo,
    /// The check a program must fail to show the fault: its rule of §7.
    pub check: FailureKind,
}

static PLANTED_TARGETS: [TargetInfo; 6] = [
    planted_info!(
        "weak-example-resize-repeats",
        CAPABILITIES,
        NoRepeat::PerKey,
        WeakFault::ResizeRepeats
    ),
    planted_info!(
        "weak-example-per-element-resize-repeats",
        PER_ELEMENT_CAPABILITIES,
        NoRepeat::PerElement,
        WeakFault::ResizeRepeats
    ),
    planted_info!(
        "weak-example-resize-skips",
        CAPABILITIES,
        NoRepeat::PerKey,
        WeakFault::ResizeSkips
    ),
    planted_info!(
        "weak-example-stale-shared-copy",
        CAPABILITIES,
        NoRepeat::PerKey,
        WeakFault::StaleSharedCopy
    ),
    planted_info!(
        "weak-example-yields-tombstones",
        CAPABILITIES,
        NoRepeat::PerKey,
        WeakFault::YieldsTombstones
    ),
    planted_info!(
        "weak-example-wraps-around",
        CAPABILITIES,
        NoRepeat::PerKey,
        WeakFault::WrapsAround
    ),
];

/// The faults of [`PLANTED_TARGETS`], in its order.
const PLANTED_FAULTS: [WeakFault; 6] = [
    WeakFault::ResizeRepeats,
    WeakFault::ResizeRepeats,
    WeakFault::ResizeSkips,
    WeakFault::StaleSharedCopy,
    WeakFault::YieldsTombstones,
    WeakFault::WrapsAround,
];

/// The planted faults of the example named `name` (`weak-example`: all of them, both W1
/// strengths; `weak-example-per-element`: its own), in the order of §7's rules; empty for any
/// other name.
pub fn planted(name: &str) -> Vec<Planted> {
    PLANTED_TARGETS
        .iter()
        .zip(PLANTED_FAULTS)
        .filter_map(|(target, fault)| {
            let no_repeat = match target.capabilities.contract {
                Contract::Weak(no_repeat) => no_repeat,
                Contract::Strict => unreachable!("the example's targets are §7 targets"),
            };
            let healthy = match no_repeat {
                NoRepeat::PerKey => &INFO,
                NoRepeat::PerElement => &PER_ELEMENT_INFO,
            };
            let wanted = name == INFO.name || name == healthy.name;
            wanted.then(|| Planted {
                fault,
                name: target
                    .name
                    .strip_prefix("weak-example-")
                    .expect("planted targets are named weak-example-..."),
                target,
                healthy,
                check: FailureKind::Weak(fault.rule(no_repeat)),
            })
        })
        .collect()
}

/// The planted target named `name`, if it is one.
pub fn lookup(name: &str) -> Option<&'static TargetInfo> {
    PLANTED_TARGETS.iter().find(|t| t.name == name)
}

/// An entry of a bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    key: u64,
    value: u64,
    /// The hash, bit-reversed: the entry's place in split order.
    rh: u64,
    /// When its incarnation began (a counter of inserts of absent keys): orders a key's
    /// incarnations for the per-element cursor.
    seq: u64,
    /// False for a tombstone: removed, kept until its bucket is next rewritten.
    live: bool,
}

/// A bucket: its entries sorted by [`WeakExampleMap::order`], its version and the copy cursors
/// share.
#[derive(Clone, Debug, Default)]
struct Bucket {
    entries: Vec<Entry>,
    /// Moved by every write to the bucket (with [`WeakFault::StaleSharedCopy`]: by every write
    /// but an overwrite).
    version: u64,
    /// The copy of `entries` made at `version`, shared by the cursors that read the bucket.
    copy: Option<(u64, Rc<[Entry]>)>,
}

/// The example map: `u64` keys and values, the program's hasher, cursors by handle.
#[derive(Debug)]
pub struct WeakExampleMap {
    buckets: Vec<Bucket>,
    /// log2 of the bucket count.
    log2: u32,
    len: usize,
    hasher: SimHasher,
    no_repeat: NoRepeat,
    fault: Option<WeakFault>,
    /// Counts inserts of absent keys: [`Entry::seq`].
    next_seq: u64,
    /// Counts tables: moved by every doubling and clear, so that a cursor's bucket copy from an
    /// earlier table is never taken for one of this table.
    epoch: u64,
    /// The splitmix64 state cursors draw their start slot from (seeded by the map's seed).
    rng: u64,
    /// Doublings so far.
    doublings: u64,
}

impl WeakExampleMap {
    /// An empty map sized for `capacity` entries, hashing with `hasher`, its cursors' start slots
    /// drawn from `seed`; `fault` plants a bug.
    pub fn new(
        capacity: usize,
        hasher: SimHasher,
        seed: u64,
        no_repeat: NoRepeat,
        fault: Option<WeakFault>,
    ) -> Self {
        let log2 = (0..MAX_LOG2)
            .find(|&b| capacity <= LOAD << b)
            .unwrap_or(MAX_LOG2);
        WeakExampleMap {
            buckets: vec![Bucket::default(); 1 << log2],
            log2,
            len: 0,
            hasher,
            no_repeat,
            fault,
            next_seq: 0,
            epoch: 0,
            rng: seed,
            doublings: 0,
        }
    }

    /// How many keys are present.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no key is present.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// log2 of the bucket count.
    pub fn log2(&self) -> u32 {
        self.log2
    }

    /// How many times the table doubled.
    pub fn doublings(&self) -> u64 {
        self.doublings
    }

    fn has(&self, fault: WeakFault) -> bool {
        self.fault == Some(fault)
    }

    /// An entry's place in its bucket: split order (reversed hash, then key), or the key alone
    /// under [`WeakFault::ResizeRepeats`].
    fn order(&self, e: &Entry) -> (u64, u64) {
        order_of(e, self.has(WeakFault::ResizeRepeats))
    }

    fn rh(&self, key: u64) -> u64 {
        self.hasher.hash_one(key).reverse_bits()
    }

    /// The bucket of reversed hash `rh`: the low bits of the hash.
    fn bucket_of(&self, rh: u64) -> usize {
        bucket_of_slot(slot_of(rh, self.log2), self.log2)
    }

    /// Where `key` is or would go in its bucket: (bucket, index, whether an entry of the key,
    /// live or not, is there).
    fn find(&self, key: u64) -> (usize, usize, bool) {
        let probe = Entry {
            key,
            value: 0,
            rh: self.rh(key),
            seq: 0,
            live: false,
        };
        let b = self.bucket_of(probe.rh);
        let place = self.order(&probe);
        let entries = &self.buckets[b].entries;
        let i = entries.partition_point(|e| self.order(e) < place);
        let found = entries.get(i).is_some_and(|e| e.key == key);
        (b, i, found)
    }

    /// The current value of `key`.
    pub fn get(&self, key: u64) -> Option<u64> {
        let (b, i, found) = self.find(key);
        let e = &self.buckets[b].entries.get(i)?;
        (found && e.live).then_some(e.value)
    }

    /// Inserts or overwrites; returns the previous value.
    pub fn insert(&mut self, key: u64, value: u64) -> Option<u64> {
        let (b, i, found) = self.find(key);
        if found && self.buckets[b].entries[i].live {
            let structural_only = self.has(WeakFault::StaleSharedCopy);
            let bucket = &mut self.buckets[b];
            let old = std::mem::replace(&mut bucket.entries[i].value, value);
            if !structural_only {
                bucket.version += 1;
            }
            return Some(old);
        }
        if self.len + 1 > LOAD << self.log2 && self.log2 < MAX_LOG2 {
            self.double();
        }
        let rh = self.rh(key);
        let seq = self.next_seq;
        self.next_seq += 1;
        let entry = Entry {
            key,
            value,
            rh,
            seq,
            live: true,
        };
        let b = self.bucket_of(rh);
        let place = self.order(&entry);
        let by_key = self.has(WeakFault::ResizeRepeats);
        // The bucket is rewritten anyway: its tombstones go now (the key's own among them).
        let bucket = &mut self.buckets[b];
        bucket.entries.retain(|e| e.live);
        let i = bucket
            .entries
            .partition_point(|e| order_of(e, by_key) < place);
        bucket.entries.insert(i, entry);
        bucket.version += 1;
        self.len += 1;
        None
    }

    /// Removes `key`, leaving a tombstone; returns its value.
    pub fn remove(&mut self, key: u64) -> Option<u64> {
        let (b, i, found) = self.find(key);
        let bucket = &mut self.buckets[b];
        let e = bucket.entries.get_mut(i).filter(|e| found && e.live)?;
        e.live = false;
        bucket.version += 1;
        self.len -= 1;
        Some(e.value)
    }

    /// Removes every entry, keeping the table's size.
    pub fn clear(&mut self) {
        for bucket in &mut self.buckets {
            *bucket = Bucket::default();
        }
        self.len = 0;
        self.epoch += 1;
    }

    /// Every live entry, in split order of the table.
    pub fn entries(&self) -> Vec<(u64, u64)> {
        (0..self.buckets.len())
            .flat_map(|slot| &self.buckets[bucket_of_slot(slot, self.log2)].entries)
            .filter(|e| e.live)
            .map(|e| (e.key, e.value))
            .collect()
    }

    /// Doubles the table: bucket `i` splits into `i` and `i + 2^b` by the next hash bit, each
    /// keeping the order it had, and the tombstones go.
    fn double(&mut self) {
        let log2 = self.log2 + 1;
        let mut buckets = vec![Bucket::default(); 1 << log2];
        for bucket in std::mem::take(&mut self.buckets) {
            for e in bucket.entries.into_iter().filter(|e| e.live) {
                buckets[bucket_of_slot(slot_of(e.rh, log2), log2)]
                    .entries
                    .push(e);
            }
        }
        self.buckets = buckets;
        self.log2 = log2;
        self.epoch += 1;
        self.doublings += 1;
    }

    /// A new cursor, starting at a random slot.
    pub fn cursor(&mut self) -> WeakCursor {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let slot = (splitmix(self.rng) as usize) & mask(self.log2);
        WeakCursor {
            slot,
            slot_log2: self.log2,
            start: slot,
            start_log2: self.log2,
            within: None,
            wrapped: false,
            first: None,
            done: false,
            batch: None,
            created_log2: self.log2,
            doublings_at_creation: self.doublings,
        }
    }

    /// The copy of bucket `b` at its current version, made now if no cursor made it yet.
    fn shared_copy(&mut self, b: usize) -> Rc<[Entry]> {
        let bucket = &mut self.buckets[b];
        match &bucket.copy {
            Some((version, copy)) if *version == bucket.version => Rc::clone(copy),
            _ => {
                let copy: Rc<[Entry]> = bucket.entries.as_slice().into();
                bucket.copy = Some((bucket.version, Rc::clone(&copy)));
                copy
            }
        }
    }

    /// A text picture of the buckets, in split order, for a failure report.
    pub fn diagram(&self) -> String {
        let mut out = format!(
            "weak-example: len {} buckets 2^{} doublings {}{}\n",
            self.len,
            self.log2,
            self.doublings,
            self.fault
                .map_or(String::new(), |f| format!(" fault {}", f.name()))
        );
        for slot in 0..self.buckets.len() {
            let b = bucket_of_slot(slot, self.log2);
            let bucket = &self.buckets[b];
            if bucket.entries.is_empty() {
                continue;
            }
            let entries: Vec<String> = bucket
                .entries
                .iter()
                .map(|e| {
                    let dead = if e.live { "" } else { " (tombstone)" };
                    format!("{}={}{dead}", e.key, e.value)
                })
                .collect();
            out += &format!(
                "  slot {slot} bucket {b} v{}: {}\n",
                bucket.version,
                entries.join(" ")
            );
        }
        out
    }
}

/// An entry's place in its bucket: (reversed hash, key), or `(0, key)` in key order.
fn order_of(e: &Entry, by_key: bool) -> (u64, u64) {
    if by_key {
        (0, e.key)
    } else {
        (e.rh, e.key)
    }
}

/// The top `log2` bits of `rh`: its slot in a table of `2^log2` buckets.
fn slot_of(rh: u64, log2: u32) -> usize {
    if log2 == 0 {
        0
    } else {
        (rh >> (64 - log2)) as usize
    }
}

/// The bucket that slot `slot` of a table of `2^log2` buckets walks: `slot`'s `log2` bits
/// reversed.
fn bucket_of_slot(slot: usize, log2: u32) -> usize {
    if log2 == 0 {
        0
    } else {
        slot.reverse_bits() >> (usize::BITS - log2)
    }
}

fn mask(log2: u32) -> usize {
    (1usize << log2) - 1
}

/// splitmix64's output function.
fn splitmix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A cursor of [`WeakExampleMap`]: where it is in the walk, nothing of the map's contents.
#[derive(Clone, Debug)]
pub struct WeakCursor {
    /// The slot it is in, numbered in a table of `2^slot_log2` buckets.
    slot: usize,
    slot_log2: u32,
    /// The slot it started in (and ends at, after wrapping), numbered in `2^start_log2`.
    start: usize,
    start_log2: u32,
    /// The last entry it yielded in its slot: its key, place in the bucket and incarnation.
    within: Option<Entry>,
    /// Whether it has wrapped around after the last slot.
    wrapped: bool,
    /// [`WeakFault::WrapsAround`]: the first entry it yielded, where it means to end.
    first: Option<u64>,
    done: bool,
    /// The bucket copy it reads: (epoch, bucket, version, copy).
    batch: Option<(u64, usize, u64, Rc<[Entry]>)>,
    /// [`WeakFault::ResizeSkips`]: the table's size when it was created.
    created_log2: u32,
    doublings_at_creation: u64,
}

impl WeakCursor {
    /// Whether the map doubled during the cursor's life.
    pub fn saw_doubling(&self, map: &WeakExampleMap) -> bool {
        map.doublings > self.doublings_at_creation
    }

    /// The next entry, or `None` at the end (and ever after).
    pub fn next(&mut self, map: &mut WeakExampleMap) -> Option<(u64, u64)> {
        if self.done {
            return None;
        }
        // The walk's table size: the map's, or the one it was created with (the fault).
        let log2 = if map.has(WeakFault::ResizeSkips) {
            self.created_log2
        } else {
            map.log2
        };
        self.renumber(map, log2);
        let slots = 1usize << log2;
        // A step that has walked every slot without an entry ends: what stops an unending
        // cursor (the fault) on an empty map.
        let mut walked = 0;
        loop {
            if self.wrapped && !map.has(WeakFault::WrapsAround) && self.slot == self.start {
                self.done = true;
                return None;
            }
            let b = if map.has(WeakFault::ResizeSkips) {
                // Numbered for the old size, used in the new table: only its low buckets.
                bucket_of_slot(self.slot, log2)
            } else {
                bucket_of_slot(self.slot, map.log2)
            };
            if let Some(e) = self.next_in(map, b) {
                if map.has(WeakFault::WrapsAround) {
                    if self.wrapped && self.first == Some(e.key) {
                        self.done = true;
                        return None;
                    }
                    self.first.get_or_insert(e.key);
                }
                self.within = Some(e);
                return Some((e.key, e.value));
            }
            self.within = None;
            self.slot += 1;
            walked += 1;
            if self.slot == slots {
                self.slot = 0;
                self.wrapped = true;
            }
            if walked > slots {
                self.done = true;
                return None;
            }
        }
    }

    /// Renumbers the slots for a table that doubled since the last step: slot `s` of `2^b`
    /// buckets is slots `s << d ..` of `2^(b + d)`, and the cursor goes on in the one that holds
    /// the entry it yielded last (the first one, if none). Under [`WeakFault::ResizeRepeats`]
    /// the place in a bucket is a key, which says nothing of the half it went to: the cursor
    /// goes on in the first half.
    fn renumber(&mut self, map: &WeakExampleMap, log2: u32) {
        if log2 != self.slot_log2 {
            let d = log2 - self.slot_log2;
            self.slot = match self.within {
                Some(e) if !map.has(WeakFault::ResizeRepeats) => slot_of(e.rh, log2),
                _ => self.slot << d,
            };
            self.slot_log2 = log2;
        }
        if log2 != self.start_log2 {
            self.start <<= log2 - self.start_log2;
            self.start_log2 = log2;
        }
    }

    /// The first entry of bucket `b` after the cursor's place, from the bucket's shared copy.
    fn next_in(&mut self, map: &mut WeakExampleMap, b: usize) -> Option<Entry> {
        let version = map.buckets[b].version;
        let fresh = matches!(&self.batch, Some((epoch, bucket, v, _))
            if *epoch == map.epoch && *bucket == b && *v == version);
        if !fresh {
            self.batch = Some((map.epoch, b, version, map.shared_copy(b)));
        }
        let copy = &self.batch.as_ref().expect("just set").3;
        let start = match &self.within {
            None => 0,
            Some(w) => {
                let place = map.order(w);
                let i = copy.partition_point(|e| map.order(e) < place);
                // The entry it yielded last (same key), unless it is a later incarnation that
                // the per-element cursor owes.
                let past_it = copy.get(i).is_some_and(|e| {
                    e.key == w.key && !(map.no_repeat == NoRepeat::PerElement && e.seq > w.seq)
                });
                i + usize::from(past_it)
            }
        };
        let yields_tombstones = map.has(WeakFault::YieldsTombstones);
        copy[start..]
            .iter()
            .find(|e| e.live || yields_tombstones)
            .copied()
    }
}

/// The example map as a target: the map and the program's cursors.
pub struct WeakExampleTarget {
    map: WeakExampleMap,
    cursors: [Option<WeakCursor>; MAX_CURSORS],
}

impl WeakExampleTarget {
    /// The program's map: its capacity, hasher and seed.
    pub fn new(config: &Config, no_repeat: NoRepeat, fault: Option<WeakFault>) -> Self {
        WeakExampleTarget {
            map: WeakExampleMap::new(
                config.initial_capacity as usize,
                SimHasher::new(config.hasher, config.hasher_seed),
                config.map_seed,
                no_repeat,
                fault,
            ),
            cursors: Default::default(),
        }
    }
}

impl Target for WeakExampleTarget {
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
        self.map.clear();
    }

    fn len(&mut self) -> usize {
        self.map.len()
    }

    fn contents(&mut self) -> Vec<(u64, u64)> {
        self.map.entries()
    }

    fn cursor_new(&mut self, cursor: CursorId) {
        self.cursors[cursor.index()] = Some(self.map.cursor());
    }

    fn cursor_next(&mut self, cursor: CursorId) -> Option<(u64, u64)> {
        self.cursors[cursor.index()]
            .as_mut()
            .expect("the executor steps only live cursors")
            .next(&mut self.map)
    }

    fn cursor_drop(&mut self, cursor: CursorId, coverage: &mut Coverage) {
        if let Some(c) = self.cursors[cursor.index()].take() {
            coverage.cursors_through_growth += u64::from(c.saw_doubling(&self.map));
        }
    }

    fn diagram(&mut self) -> String {
        self.map.diagram()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::HasherMode;

    fn map(no_repeat: NoRepeat, fault: Option<WeakFault>) -> WeakExampleMap {
        WeakExampleMap::new(
            0,
            SimHasher::new(HasherMode::Seeded, 7),
            11,
            no_repeat,
            fault,
        )
    }

    /// Steps `cursor` to its end (at most `limit` yields), collecting what it yielded.
    fn drain(cursor: &mut WeakCursor, m: &mut WeakExampleMap, limit: usize) -> Vec<(u64, u64)> {
        std::iter::from_fn(|| cursor.next(m)).take(limit).collect()
    }

    fn sorted_keys(yields: &[(u64, u64)]) -> Vec<u64> {
        let mut keys: Vec<u64> = yields.iter().map(|&(k, _)| k).collect();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn inserts_double_the_table_past_two_entries_per_bucket() {
        let mut m = map(NoRepeat::PerKey, None);
        for key in 0..64 {
            assert_eq!(m.insert(key, key * 10), None);
        }
        assert_eq!(m.insert(5, 1), Some(50));
        assert_eq!((m.len(), m.log2()), (64, 5));
        assert_eq!(m.remove(5), Some(1));
        assert_eq!((m.get(5), m.get(6), m.len()), (None, Some(60), 63));
        // A tombstone is neither counted, nor listed, nor found.
        assert_eq!(m.remove(5), None);
        assert_eq!(m.entries().len(), 63);
        m.clear();
        assert!(m.is_empty() && m.entries().is_empty());
    }

    #[test]
    fn a_cursor_over_an_unchanged_map_yields_every_key_once() {
        let mut m = map(NoRepeat::PerKey, None);
        for key in 0..40 {
            m.insert(key, key);
        }
        let mut starts = std::collections::BTreeSet::new();
        for _ in 0..8 {
            let mut c = m.cursor();
            let yields = drain(&mut c, &mut m, 1000);
            assert_eq!(sorted_keys(&yields), (0..40).collect::<Vec<_>>());
            starts.insert(yields[0].0);
            assert_eq!(c.next(&mut m), None, "it stays ended");
        }
        // The start slot is drawn per cursor.
        assert!(starts.len() > 1, "{starts:?}");
    }

    #[test]
    fn a_cursor_keeps_its_place_while_the_table_doubles_under_it() {
        let mut m = map(NoRepeat::PerKey, None);
        for key in 0..8 {
            m.insert(key, key);
        }
        let mut c = m.cursor();
        let mut yields = drain(&mut c, &mut m, 3);
        let before = m.log2();
        for key in 100..164 {
            m.insert(key, key);
        }
        assert!(m.log2() > before + 2);
        // A value stored after the cursor's creation is what it yields (it is not a snapshot).
        for key in 0..8 {
            m.insert(key, key + 1000);
        }
        yields.extend(drain(&mut c, &mut m, 1000));
        let old: Vec<u64> = sorted_keys(&yields)
            .into_iter()
            .filter(|&k| k < 8)
            .collect();
        assert_eq!(old, (0..8).collect::<Vec<_>>(), "each old key exactly once");
        assert!(yields.iter().any(|&(k, v)| k < 8 && v == k + 1000));
        let all = sorted_keys(&yields);
        let mut unique = all.clone();
        unique.dedup();
        assert_eq!(all, unique, "no key twice");
    }

    #[test]
    fn only_the_per_element_cursor_yields_a_reinserted_key_again() {
        for (no_repeat, again) in [(NoRepeat::PerKey, false), (NoRepeat::PerElement, true)] {
            let mut m = map(no_repeat, None);
            m.insert(1, 10);
            m.insert(2, 20);
            let mut c = m.cursor();
            let (key, _) = c.next(&mut m).expect("two keys");
            m.remove(key);
            m.insert(key, 30);
            let rest = drain(&mut c, &mut m, 10);
            assert_eq!(rest.contains(&(key, 30)), again, "{no_repeat:?}: {rest:?}");
        }
    }

    #[test]
    fn cursors_share_a_bucket_copy_only_while_the_bucket_is_unchanged() {
        for (fault, stale) in [(None, false), (Some(WeakFault::StaleSharedCopy), true)] {
            let mut m = map(NoRepeat::PerKey, fault);
            m.insert(1, 10);
            let mut first = m.cursor();
            assert_eq!(first.next(&mut m), Some((1, 10)));
            m.insert(1, 11);
            let mut second = m.cursor();
            let expected = if stale { (1, 10) } else { (1, 11) };
            assert_eq!(second.next(&mut m), Some(expected), "{fault:?}");
        }
    }

    #[test]
    fn each_fault_is_a_variant_target_named_after_it() {
        for p in planted("weak-example") {
            assert!(p.target.name.ends_with(p.fault.name()), "{}", p.target.name);
            assert_eq!(lookup(p.target.name), Some(p.target));
            assert!(crate::program::is_valid_name(p.target.name));
        }
        assert_eq!(lookup("weak-example"), None);
    }

    #[test]
    fn the_wrapping_cursor_goes_round_again_once_its_first_entry_is_gone() {
        let mut m = map(NoRepeat::PerKey, Some(WeakFault::WrapsAround));
        m.insert(1, 10);
        m.insert(2, 20);
        let mut c = m.cursor();
        let (first, _) = c.next(&mut m).expect("two keys");
        m.remove(first);
        let rest = drain(&mut c, &mut m, 5);
        assert_eq!(rest.len(), 5, "it does not end: {rest:?}");
        // Emptied, a step finds nothing in a whole lap and ends.
        m.clear();
        assert_eq!(c.next(&mut m), None);
    }
}
