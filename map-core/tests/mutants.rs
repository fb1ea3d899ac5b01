//! Behaviours that mutation testing (cargo-mutants, configured in .cargo/mutants.toml) showed the
//! other tests leave open. Each test states one behaviour through the public API.
//!
//! Keys are placed by hand: the [`Placed`] hasher hashes a `u64` key to itself, so the low bits
//! of a key choose its bucket and its top byte its tophash. Some behaviours are only visible with
//! a deliberate bug injected (the audit's reports, the faults themselves); those tests need the
//! `faults` feature, which the mutation run enables.

use std::hash::{BuildHasher, Hasher};

use map_core::{Cursor, GoMap};

/// A hasher under which a `u64` key's hash is the key itself.
#[derive(Clone, Copy, Debug, Default)]
struct Placed;

/// The state of [`Placed`]: the last word written.
struct PlacedHash(u64);

impl Hasher for PlacedHash {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl BuildHasher for Placed {
    type Hasher = PlacedHash;

    fn build_hasher(&self) -> PlacedHash {
        PlacedHash(0)
    }
}

type Map = GoMap<u64, u64, Placed>;

/// An empty map sized for `capacity` entries (0 -> 1 bucket, 9..=13 -> 2, 14..=26 -> 4, ...).
fn placed(capacity: usize) -> Map {
    GoMap::with_capacity_hasher_and_seed(capacity, Placed, 1)
}

/// The key whose hash has top byte `top` and low bits `low`: main bucket `low & mask` of any array.
fn key(top: u8, low: u64) -> u64 {
    (u64::from(top) << 56) | low
}

/// Every key the cursor yields until it ends.
fn drain(map: &Map, cursor: &mut Cursor<u64, u64>) -> Vec<u64> {
    let mut keys = Vec::new();
    while let Some((&k, _)) = cursor.next(map) {
        keys.push(k);
        assert!(
            keys.len() <= 10 * map.len() + 100,
            "the cursor does not end"
        );
    }
    keys
}

/// Evacuates until the growth under way is finished.
fn finish_growth(map: &mut Map) {
    while map.evacuate_step() {}
    assert!(!map.is_growing());
}

#[test]
fn a_finished_cursor_says_so_and_lets_go_of_the_old_array() {
    let mut map = placed(0);
    for k in 0..8 {
        map.insert(key(9, k), k);
    }
    let mut cursor = map.cursor();
    assert!(cursor.next(&map).is_some());
    assert!(map.force_grow());
    finish_growth(&mut map);
    // The cursor still walks the array the growth finished with: the map keeps it for the cursor.
    assert_eq!(map.stats().retired_arrays, 1);
    assert!(!cursor.is_finished());
    assert_eq!(drain(&map, &mut cursor).len(), 7);
    assert!(cursor.is_finished());
    assert!(cursor.next(&map).is_none());
    // A finished cursor, even one not dropped, holds no array: the next chance to prune does.
    let _other = map.cursor();
    assert_eq!(map.stats().retired_arrays, 0);
}

#[test]
fn without_cursors_a_finished_growth_keeps_no_old_array() {
    let mut map = placed(0);
    for k in 0..8 {
        map.insert(key(9, k), k);
    }
    assert!(map.force_grow());
    finish_growth(&mut map);
    assert_eq!(map.stats().retired_arrays, 0);
    assert!(map.force_same_size_grow());
    finish_growth(&mut map);
    assert_eq!(map.stats().retired_arrays, 0);
    assert_eq!(map.stats().live_cursors, 0);
}

#[test]
fn cursor_stats_count_steps_yields_and_relookups() {
    let mut map = placed(0);
    for k in 0..6 {
        map.insert(key(9, k), k);
    }
    let mut cursor = map.cursor();
    assert_eq!(cursor.stats(), Default::default());
    cursor.next(&map);
    cursor.next(&map);
    // The rest of the walk happens after a growth moved every entry: each is looked up again.
    assert!(map.force_grow());
    finish_growth(&mut map);
    map.remove(&key(9, 5));
    map.remove(&key(9, 4));
    let rest = drain(&map, &mut cursor);
    let s = cursor.stats();
    assert_eq!(s.steps, 2 + rest.len() as u64 + 1);
    assert_eq!(s.yields, 2 + rest.len() as u64);
    assert_eq!(s.relookups, 4, "the four entries after the first two");
    assert_eq!(s.relookups - s.relookup_misses, rest.len() as u64);
    assert_eq!(s.old_bucket_walks, 0, "the cursor began before the growth");
    assert_eq!(s.growths_seen, 1);
}

#[test]
fn forcing_a_growth_says_whether_one_started() {
    let mut map = placed(0);
    map.insert(key(9, 0), 0);
    assert!(map.force_same_size_grow());
    assert!(!map.force_same_size_grow(), "one is under way");
    assert!(!map.force_grow(), "one is under way");
    finish_growth(&mut map);
    assert!(map.force_grow());
    assert!(!map.force_same_size_grow());
    assert!(!map.force_grow());
    let s = map.stats();
    assert_eq!((s.grows, s.same_size_grows), (1, 1));
}

#[test]
fn every_fault_has_its_own_description() {
    let mut seen = std::collections::BTreeSet::new();
    for fault in map_core::Fault::ALL {
        let text = fault.description();
        assert!(text.len() > 20, "{fault}: {text:?}");
        assert!(seen.insert(text), "{fault} shares its description");
    }
}

#[test]
fn a_cursor_counts_the_growths_since_it_began() {
    let mut map = placed(0);
    for k in 0..20 {
        map.insert(key(9, k), k);
    }
    assert!(map.force_grow());
    finish_growth(&mut map);
    let before = map.stats().grows + map.stats().same_size_grows;
    assert!(
        before >= 2,
        "20 inserts and a forced growth: {before} growths"
    );
    let mut cursor = map.cursor();
    cursor.next(&map);
    assert_eq!(cursor.stats().growths_seen, 0);
    assert!(map.force_grow());
    cursor.next(&map);
    assert_eq!(cursor.stats().growths_seen, 1);
    finish_growth(&mut map);
    assert!(map.force_same_size_grow());
    cursor.next(&map);
    assert_eq!(cursor.stats().growths_seen, 2);
}

/// A key that counts its clones, to check when the map clones keys.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Counted(u64);

thread_local! {
    static CLONES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

impl Clone for Counted {
    fn clone(&self) -> Self {
        CLONES.with(|c| c.set(c.get() + 1));
        Counted(self.0)
    }
}

#[test]
fn keys_are_cloned_only_for_live_cursors() {
    let clones = || CLONES.with(std::cell::Cell::get);
    let mut map: GoMap<Counted, u64, Placed> = GoMap::with_hasher_and_seed(Placed, 1);
    for k in 0..20 {
        map.insert(Counted(key(9, k)), k);
    }
    assert!(map.force_grow());
    while map.evacuate_step() {}
    assert_eq!(
        clones(),
        0,
        "no cursor: evacuation moves keys without a copy"
    );
    // A cursor may still read the old array: each evacuated slot keeps a copy of its key.
    let mut cursor = map.cursor();
    assert!(cursor.next(&map).is_some());
    assert!(map.force_grow());
    while map.evacuate_step() {}
    assert_eq!(clones(), 20);
}

#[test]
fn evacuation_builds_overflow_chains_in_the_new_array() {
    let mut map = placed(0);
    // 20 keys of one new bucket: a chain of 3 buckets wherever they go.
    for k in 0..20 {
        map.insert(key(9, k << 8), k);
    }
    for grow in [GoMap::force_grow, GoMap::force_same_size_grow] {
        assert!(grow(&mut map));
        finish_growth(&mut map);
        let s = map.stats();
        assert_eq!((s.max_chain_len, s.overflow_buckets), (3, 2), "{s:?}");
        assert_eq!(map.check_invariants(), Ok(()));
    }
}

#[test]
fn the_evacuation_mark_skips_buckets_evacuated_out_of_order() {
    let mut map = placed(26);
    for k in 0..26 {
        map.insert(key(9, k), k);
    }
    assert!(map.force_grow());
    // Removing a key of old bucket 1 evacuates it, then old bucket 0 (the mark): the mark then
    // passes bucket 1 too, as Go's advanceEvacuationMark does.
    map.remove(&key(9, 1));
    assert_eq!(map.stats().evacuated, 2);
    // Old bucket 3, then the mark's bucket 2: all four done, the growth is over.
    map.remove(&key(9, 3));
    assert!(!map.is_growing());
}

/// A map seed fixes the iteration order in every version, not only within one: saved traces
/// name a map seed and must replay exactly. If this fails after a deliberate change to the
/// map's random stream, old traces no longer replay: say so in the change and update the values.
#[test]
fn a_seed_means_the_same_order_in_every_version() {
    let order_hash = |map: &mut Map| {
        let mut cursor = map.cursor();
        std::iter::from_fn(|| cursor.next(map).map(|(&k, _)| k))
            .fold(0u64, |h, k| h.rotate_left(5) ^ (k & 0xff))
    };
    let mut hashes = Vec::new();
    for seed in [0u64, 1, 42] {
        let mut map: Map = GoMap::with_capacity_hasher_and_seed(0, Placed, seed);
        for k in 0..100 {
            map.insert(key(9, k), k);
        }
        hashes.push(order_hash(&mut map));
        hashes.push(order_hash(&mut map));
    }
    assert_eq!(hashes, GOLDEN_ORDERS, "{hashes:#x?}");
    // The default hasher's seed derives from the map seed too (through foldhash, pinned in
    // Cargo.lock: a foldhash release that changes its output changes these values).
    // (A seed with bits in common with the mixer's constant, so that `^` is not `|` for it.)
    let mut map: GoMap<u64, u64> = GoMap::with_seed(0xffff);
    for k in 0..100 {
        map.insert(k, k);
    }
    let mut cursor = map.cursor();
    let first: Vec<u64> = std::iter::from_fn(|| cursor.next(&map).map(|(&k, _)| k))
        .take(8)
        .collect();
    assert_eq!(first, GOLDEN_DEFAULT_HASHER_FIRST, "{first:?}");
}

const GOLDEN_ORDERS: [u64; 6] = [
    0x01e1_ddd1_663a_5872,
    0xe0f4_95ba_2519_4a41,
    0x862b_e8fc_2455_9a4f,
    0x8cbe_2bdc_de99_9258,
    0x7805_0c11_c40d_f303,
    0xb2c2_2dc8_c637_aac2,
];
const GOLDEN_DEFAULT_HASHER_FIRST: [u64; 8] = [42, 83, 88, 84, 13, 22, 33, 59];

#[test]
fn unseeded_maps_draw_their_seeds_from_the_os() {
    use map_core::DefaultHashBuilder;
    // Equal by chance with probability 2^-64.
    let (a, b) = (DefaultHashBuilder::default(), DefaultHashBuilder::default());
    assert_ne!(a.hash_one(1u64), b.hash_one(1u64));
    let orders: std::collections::BTreeSet<Vec<u64>> = (0..8)
        .map(|_| {
            let map: GoMap<u64, u64> = (0..100).map(|k| (k, k)).collect();
            map.iter().map(|(&k, _)| k).collect()
        })
        .collect();
    assert!(orders.len() > 1, "8 unseeded maps iterate alike");
    let fresh: GoMap<u64, u64> = GoMap::new();
    let other: GoMap<u64, u64> = GoMap::default();
    assert_ne!(fresh.hasher().hash_one(1u64), other.hasher().hash_one(1u64));
}

#[test]
fn growth_starts_past_eight_entries_and_six_and_a_half_per_bucket() {
    // Go's overLoadFactor: count > 8 && count > 6.5 * 2^B, checked for each new key.
    let mut map = placed(0);
    for k in 0..8 {
        map.insert(key(9, k), k);
    }
    assert_eq!((map.stats().buckets, map.stats().grows), (1, 0));
    // The ninth doubles (and, with one old bucket, the same insert finishes the growth).
    map.insert(key(9, 8), 8);
    assert_eq!((map.stats().buckets, map.stats().grows), (2, 1));
    // A map built for a capacity holds that many entries without growing, in the fewest buckets.
    for (capacity, buckets) in [
        (0, 1),
        (8, 1),
        (9, 2),
        (13, 2),
        (14, 4),
        (26, 4),
        (27, 8),
        (104, 16),
        (105, 32),
    ] {
        let mut map = placed(capacity);
        assert_eq!(map.stats().buckets, buckets, "capacity {capacity}");
        // It fills up to the load factor without growing; one entry more doubles it.
        let most = if buckets == 1 { 8 } else { 13 * buckets / 2 };
        for k in 0..most as u64 {
            map.insert(key(9, k), k);
        }
        let s = map.stats();
        assert_eq!((s.grows, s.same_size_grows), (0, 0), "capacity {capacity}");
        map.insert(key(9, most as u64), 0);
        assert_eq!(map.stats().grows, 1, "capacity {capacity}");
    }
}

#[test]
fn the_std_traits_see_the_entries() {
    let mut a = placed(0);
    let mut b: Map = GoMap::with_capacity_hasher_and_seed(64, Placed, 2);
    for k in [3u64, 1, 2] {
        a.insert(k, k * 10);
    }
    for k in [1u64, 2, 3] {
        b.insert(k, k * 10);
    }
    // Equal entries, different layout, order and seed.
    assert_eq!(a, b);
    b.insert(3, 31);
    assert_ne!(a, b, "a value differs");
    b.insert(3, 30);
    b.insert(4, 40);
    assert_ne!(a, b, "b has one more");
    assert_ne!(b, a, "a has one fewer");
    b.remove(&4);
    b.remove(&1);
    b.insert(5, 10);
    assert_ne!(a, b, "same length, another key");

    let mut iter = a.iter();
    assert_eq!(iter.size_hint(), (3, Some(3)));
    iter.next();
    assert_eq!(iter.len(), 2);
    iter.by_ref().for_each(drop);
    assert_eq!(iter.size_hint(), (0, Some(0)));

    let one: Map = {
        let mut m = placed(0);
        m.insert(7, 70);
        m
    };
    assert_eq!(format!("{one:?}"), "{7: 70}");
    assert_eq!(format!("{:?}", placed(0)), "{}");
}

#[test]
fn the_map_counts_its_live_cursors() {
    let mut map = placed(0);
    assert!(map.is_empty());
    let mut on_empty = map.cursor();
    assert_eq!(on_empty.next(&map), None);
    assert_eq!(
        map.stats().live_cursors,
        0,
        "a cursor of an empty map is over at once"
    );
    map.insert(key(9, 0), 0);
    map.insert(key(9, 1), 1);
    assert!(!map.is_empty());
    let mut a = map.cursor();
    let b = map.cursor();
    assert_eq!(map.stats().live_cursors, 2);
    drop(b);
    assert_eq!(map.stats().live_cursors, 1);
    assert_eq!(drain(&map, &mut a).len(), 2);
    assert_eq!(
        map.stats().live_cursors,
        0,
        "a finished cursor no longer counts"
    );
}

#[test]
fn lookups_and_updates_in_place_see_the_old_array_during_growth() {
    let mut map = placed(26);
    for k in 0..20 {
        map.insert(key(9, k), k);
    }
    // A full bucket has no emptyRest to stop a lookup: it ends at the end of the chain.
    let mut full = placed(0);
    for k in 0..8 {
        full.insert(key(9, k), k);
    }
    assert_eq!(full.get(&key(9, 8)), None);
    assert!(!full.contains_key(&key(10, 0)));
    assert!(map.contains_key(&key(9, 3)));
    assert!(!map.contains_key(&key(9, 20)));
    assert_eq!(map.get_mut(&key(9, 20)), None);
    *map.get_mut(&key(9, 3)).expect("present") += 100;
    assert_eq!(map.get(&key(9, 3)), Some(&103));
    // During a growth an entry of an old bucket not yet evacuated is read and updated where it is.
    assert!(map.force_grow());
    assert!(map.contains_key(&key(9, 2)));
    *map.get_mut(&key(9, 2)).expect("present in the old array") += 100;
    assert_eq!(
        map.stats().evacuated,
        0,
        "reads and updates in place never evacuate"
    );
    finish_growth(&mut map);
    assert_eq!(map.get(&key(9, 2)), Some(&102));
    assert_eq!(map[&key(9, 3)], 103);
}

#[test]
fn inserts_chain_overflow_buckets() {
    // 17 keys of bucket 0 of 16: a chain of 3 buckets, too few overflow buckets to grow.
    let mut map = placed(104);
    for k in 0..17 {
        map.insert(key(9, k << 4), k);
    }
    let s = map.stats();
    assert_eq!((s.buckets, s.max_chain_len, s.overflow_buckets), (16, 3, 2));
    assert!(!s.growing);
}

/// The slot markers of one bucket of the current array, as the diagram draws them (`__`
/// emptyRest, `..` emptyOne, a live slot's tophash in hex); `name` is `b<index>` for a main
/// bucket, `+ovf <index>` for an overflow bucket.
fn markers(map: &Map, name: &str) -> Vec<String> {
    let text = map.diagram().to_string();
    let current = text.split("old array").next().unwrap_or_default();
    let line = current
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no line for {name} in:\n{text}"));
    line[name.len() + 1..]
        .split_whitespace()
        .take(8)
        .map(str::to_string)
        .collect()
}

/// `emptyRest` marks "nothing live from here to the end of the chain", so lookups stop early;
/// a remove turns its slot and the run of `emptyOne` slots before it into `emptyRest` when
/// nothing live follows (the tail of Go's mapdelete), across bucket boundaries too.
#[test]
fn removes_extend_empty_rest_back_over_empty_slots() {
    let mut map = placed(0);
    for k in 0..4 {
        map.insert(key(9, k), k);
    }
    let (live, one, rest) = ("09", "..", "__");
    map.remove(&key(9, 1));
    assert_eq!(markers(&map, "b0")[..5], [live, one, live, live, rest]);
    map.remove(&key(9, 3));
    assert_eq!(markers(&map, "b0")[..5], [live, one, live, rest, rest]);
    map.remove(&key(9, 2));
    assert_eq!(markers(&map, "b0")[..4], [live, rest, rest, rest]);

    // A chain of three buckets from main bucket 2 of 4: 8 + 8 + 1 keys.
    let mut map = placed(26);
    let chained: Vec<u64> = (0..17).map(|i| key(9, (i << 2) | 2)).collect();
    for &k in &chained {
        map.insert(k, 0);
    }
    assert_eq!(map.stats().max_chain_len, 3);
    // The middle bucket's slots become emptyOne: a live slot follows in the last bucket ...
    for &k in &chained[8..16] {
        map.remove(&k);
    }
    assert_eq!(markers(&map, "+ovf 4"), [one; 8]);
    // ... until that one goes: then emptyRest runs back through the middle bucket to the first.
    map.remove(&chained[16]);
    assert_eq!(markers(&map, "+ovf 5")[0], rest);
    assert_eq!(markers(&map, "+ovf 4"), [rest; 8]);
    assert_eq!(markers(&map, "b2"), [live; 8]);
    // Emptying the last slot of the first bucket continues into nothing: the chain is empty after.
    map.remove(&chained[7]);
    assert_eq!(markers(&map, "b2")[6..], [live, rest]);
    assert_eq!(map.check_invariants(), Ok(()));
}

/// `iter()` takes the order a cursor would take: a clone continues the map's random stream from
/// the same point, so an iterator of the map and a cursor of the clone start at the same bucket
/// and slot. This holds on the iterator's fast path (no growth under way) and during a growth.
#[test]
fn iter_takes_the_order_of_a_cursor() {
    let cursor_order = |map: &mut Map| {
        let mut cursor = map.cursor();
        drain(map, &mut cursor)
    };
    // Sizes from one bucket to many, a chain of overflow buckets, slots emptied by removes.
    for (n, spread) in [(5u64, 1u64), (8, 1), (40, 1), (40, 16), (300, 1), (300, 64)] {
        let mut map = placed(0);
        for k in 0..n {
            map.insert(key(9, k * spread), k);
        }
        for k in (0..n).step_by(3) {
            map.remove(&key(9, k * spread));
        }
        for growing in [false, true] {
            if growing {
                map.force_grow();
                map.evacuate_step();
            }
            for _ in 0..8 {
                let mut copy = map.clone();
                let by_iter: Vec<u64> = map.iter().map(|(&k, _)| k).collect();
                // The cursor of the copy draws the same start; the map's stream moves on.
                assert_eq!(
                    by_iter,
                    cursor_order(&mut copy),
                    "{n} keys, growing {growing}"
                );
                assert_eq!(by_iter.len(), map.len());
                let _ = cursor_order(&mut map);
            }
        }
    }
}

#[test]
fn clear_stops_the_cursors_created_before_it() {
    let mut map = placed(0);
    for k in 0..20 {
        map.insert(key(9, k), k);
    }
    let mut cursor = map.cursor();
    assert!(cursor.next(&map).is_some());
    map.clear();
    for k in 100..120 {
        map.insert(key(9, k), k);
    }
    // The contract would allow yielding the new entries; this map documents that it stops.
    assert_eq!(cursor.next(&map), None);
    assert!(cursor.is_finished());
}

#[test]
fn clear_resets_the_map_even_when_only_a_growth_is_left() {
    let mut map = placed(26);
    for k in [0, 4] {
        map.insert(key(9, k), k);
    }
    assert!(map.force_grow());
    map.remove(&key(9, 0));
    map.remove(&key(9, 4));
    assert!(map.is_empty() && map.is_growing());
    map.clear();
    assert!(!map.is_growing(), "clear ends the growth");
    assert_eq!(map.stats().old_buckets, 0);
    assert_eq!(map.check_invariants(), Ok(()));
}

#[test]
fn a_same_size_growth_may_end_over_the_load_factor_until_the_next_new_key() {
    // 26 entries in 4 buckets is the most before a doubling (6.5 per bucket).
    let mut map = placed(26);
    for k in 0..26 {
        map.insert(key(9, k), k);
    }
    assert_eq!(map.stats().buckets, 4);
    assert!(map.force_same_size_grow());
    // A new key during a growth starts no other growth (Go checks only when not growing); its
    // insert evacuates two of the four old buckets, so the growth goes on ...
    map.insert(key(9, 26), 26);
    assert!(map.is_growing());
    finish_growth(&mut map);
    // ... and ends over the load factor, which the audit accepts until the next new key.
    assert_eq!((map.len(), map.stats().buckets), (27, 4));
    assert_eq!(map.check_invariants(), Ok(()));
    map.insert(key(9, 27), 27);
    assert!(map.is_growing() && !map.stats().same_size);
    assert_eq!(map.check_invariants(), Ok(()));
}

/// Each fault does what its description says, seen through the public API, and the audit reports
/// the broken invariant where it broke. The harness's self-test relies on both.
#[cfg(feature = "faults")]
mod faults {
    use map_core::{ArrayKind, Fault, Invariant, InvariantError, Location};

    use super::{drain, finish_growth, key, placed, Map};

    fn faulty(capacity: usize, fault: Fault) -> Map {
        let mut map = placed(capacity);
        assert_eq!(map.injected(), None);
        map.inject(fault);
        assert_eq!(map.injected(), Some(fault));
        map
    }

    fn broken(map: &Map) -> InvariantError {
        map.check_invariants()
            .expect_err("the audit finds nothing wrong")
    }

    fn at(array: ArrayKind, bucket: Option<usize>, slot: Option<usize>) -> Location {
        Location {
            array,
            bucket,
            slot,
        }
    }

    #[test]
    fn inject_replaces_the_fault_injected_before() {
        let mut map = faulty(0, Fault::SkipCheckBucket);
        map.inject(Fault::TophashNoMinOffset);
        assert_eq!(map.injected(), Some(Fault::TophashNoMinOffset));
    }

    #[test]
    fn tophash_no_min_offset_stores_a_marker_as_the_tophash() {
        // Top byte 2 is the evacuatedX marker: Go moves it up to 7.
        let mut healthy = placed(0);
        healthy.insert(key(2, 0), 1);
        assert_eq!(healthy.check_invariants(), Ok(()));
        let mut map = faulty(0, Fault::TophashNoMinOffset);
        map.insert(key(2, 0), 1);
        let e = broken(&map);
        assert_eq!(e.invariant, Invariant::SlotState);
        assert_eq!(e.location, at(ArrayKind::Current, Some(0), Some(0)));
        assert_eq!(
            e.to_string(),
            "invariant `slot-state` broken in the current array, bucket 0, slot 0: \
             evacuation mark 2 in a bucket that is not evacuated"
        );
        // Top byte 0 is emptyRest: the slot reads as empty although it holds the entry.
        let mut map = faulty(0, Fault::TophashNoMinOffset);
        map.insert(key(0, 0), 1);
        let e = broken(&map);
        assert_eq!(e.invariant, Invariant::SlotState);
        assert!(e.detail.contains("marked empty (0) holds an entry"), "{e}");
        // Evacuation gives up a slot whose tophash reads as a marker (Go would throw): lost.
        // (In slot 0 the marker would make the whole bucket read as evacuated.)
        let mut map = faulty(0, Fault::TophashNoMinOffset);
        map.insert(key(9, 0), 0);
        map.insert(key(3, 1), 1);
        assert!(map.force_grow());
        finish_growth(&mut map);
        assert_eq!(map.get(&key(9, 0)), Some(&0));
        assert_eq!((map.len(), map.get(&key(3, 1))), (2, None));
        // Iteration reads the markers too: an entry whose tophash reads as empty (0) or as
        // evacuatedEmpty (4) is skipped, so it is missed.
        for top in [0, 4] {
            let mut map = faulty(0, Fault::TophashNoMinOffset);
            map.insert(key(top, 0), 1);
            map.insert(key(9, 1), 2);
            assert_eq!(map.len(), 2);
            let mut cursor = map.cursor();
            assert_eq!(drain(&map, &mut cursor), vec![key(9, 1)], "top byte {top}");
            assert_eq!(map.iter().count(), 1);
        }
    }

    #[test]
    fn remove_bad_empty_rest_hides_the_entries_after_it() {
        let mut map = faulty(0, Fault::RemoveBadEmptyRest);
        map.insert(key(9, 0), 0);
        map.insert(key(9, 1), 1);
        map.insert(key(9, 2), 2);
        assert_eq!(map.remove(&key(9, 0)), Some(0));
        assert_eq!(map.get(&key(9, 1)), None, "a lookup stops at the emptyRest");
        assert_eq!(map.len(), 2);
        let e = broken(&map);
        assert_eq!(e.invariant, Invariant::EmptyRest);
        assert_eq!(e.location, at(ArrayKind::Current, Some(0), Some(1)));
        assert_eq!(
            e.to_string(),
            "invariant `empty-rest` broken in the current array, bucket 0, slot 1: \
             live slot after an emptyRest marker in the chain of bucket 0"
        );
        // The lookup stops at the bucket holding the emptyRest: the overflow bucket after it is
        // hidden too.
        let mut map = faulty(9, Fault::RemoveBadEmptyRest);
        for k in 0..9 {
            map.insert(key(9, k << 1), k);
        }
        assert_eq!(map.stats().max_chain_len, 2);
        assert_eq!(map.remove(&key(9, 0)), Some(0));
        assert_eq!(
            map.get(&key(9, 8 << 1)),
            None,
            "the ninth key, in the overflow bucket"
        );
    }

    #[test]
    fn remove_skips_count_during_grow_leaves_len_too_high() {
        let mut map = faulty(26, Fault::RemoveSkipsCountDuringGrow);
        assert_eq!(map.stats().buckets, 4);
        for k in [3, 7, 11] {
            map.insert(key(9, k), k);
        }
        assert_eq!(map.remove(&key(9, 3)), Some(3));
        assert_eq!(map.len(), 2, "not growing: counted");
        assert!(map.force_grow());
        // The remove evacuates old buckets 3 and 0 of 4: the growth goes on, uncounted.
        assert_eq!(map.remove(&key(9, 7)), Some(7));
        assert!(map.is_growing());
        assert_eq!(map.len(), 2);
        let e = broken(&map);
        assert_eq!(e.invariant, Invariant::Count);
        assert_eq!(e.location, at(ArrayKind::Map, None, None));
        assert_eq!(
            e.to_string(),
            "invariant `count` broken: len() is 2 but 1 slots are live"
        );
    }

    #[test]
    fn same_size_grow_splits_puts_keys_in_the_wrong_bucket() {
        let mut map = faulty(9, Fault::SameSizeGrowSplits);
        assert_eq!(map.stats().buckets, 2);
        // Bucket 1 of 2: the bit a doubling would split on is set.
        map.insert(key(9, 1), 1);
        assert!(map.force_same_size_grow());
        finish_growth(&mut map);
        assert_eq!(map.get(&key(9, 1)), None, "the key moved to bucket 0");
        let e = broken(&map);
        assert_eq!(e.invariant, Invariant::WrongBucket);
        assert_eq!(e.location, at(ArrayKind::Current, Some(0), Some(0)));
        assert!(
            e.detail
                .contains("hashes to bucket 1 but sits in the chain of bucket 0"),
            "{e}"
        );
        // A key whose split bit is clear stays where it belongs.
        let mut map = faulty(9, Fault::SameSizeGrowSplits);
        map.insert(key(9, 0), 0);
        assert!(map.force_same_size_grow());
        finish_growth(&mut map);
        assert_eq!(map.get(&key(9, 0)), Some(&0));
        assert_eq!(map.check_invariants(), Ok(()));
    }

    #[test]
    fn evacuation_drops_overflow_loses_the_overflow_entries() {
        let mut map = faulty(0, Fault::EvacuationDropsOverflow);
        for k in 0..9 {
            map.insert(key(9, k << 1), k);
        }
        // 9 keys in one bucket of 2: 8 in it, 1 in its overflow bucket.
        assert!(map.force_grow());
        finish_growth(&mut map);
        assert_eq!(map.len(), 9);
        let found = (0..9)
            .filter(|&k| map.get(&key(9, k << 1)).is_some())
            .count();
        assert_eq!(found, 8);
        let e = broken(&map);
        assert_eq!(e.invariant, Invariant::Count);
        assert!(e.detail.contains("len() is 9 but 8 slots are live"), "{e}");
    }

    #[test]
    fn nevacuate_skips_bucket_finishes_growth_with_entries_left_behind() {
        let mut map = faulty(9, Fault::NevacuateSkipsBucket);
        map.insert(key(9, 0), 0);
        map.insert(key(9, 1), 1);
        assert!(map.force_grow());
        // Evacuating old bucket 0 moves the mark past bucket 1 unchecked, which ends the growth.
        assert!(map.evacuate_step());
        assert!(!map.is_growing());
        assert_eq!(map.get(&key(9, 1)), None);
        assert_eq!(map.get(&key(9, 0)), Some(&0));
        assert_eq!(broken(&map).invariant, Invariant::Count);
    }

    #[test]
    fn nevacuate_skips_bucket_is_seen_mid_growth() {
        // The evacuation mark moves at most 1024 buckets at a time: with 2048 old buckets the
        // growth is still under way after the mark skipped buckets 1..=1024.
        let mut map = faulty(13 * 1024, Fault::NevacuateSkipsBucket);
        assert_eq!(map.stats().buckets, 2048);
        map.insert(key(9, 1), 1);
        assert!(map.force_grow());
        assert!(map.evacuate_step());
        assert!(map.is_growing());
        assert_eq!(map.stats().evacuated, 1025);
        let e = broken(&map);
        assert_eq!(e.invariant, Invariant::Evacuation);
        assert_eq!(e.location, at(ArrayKind::Old, Some(1), None));
        assert_eq!(
            e.to_string(),
            "invariant `evacuation` broken in the old array, bucket 1: \
             old bucket 1 is below nevacuate (1025) but not evacuated"
        );
    }

    #[test]
    fn skip_check_bucket_yields_an_old_bucket_twice() {
        for (fault, expected) in [(None, 1), (Some(Fault::SkipCheckBucket), 2)] {
            let mut map = placed(0);
            if let Some(fault) = fault {
                map.inject(fault);
            }
            map.insert(key(9, 0), 0);
            assert!(map.force_grow());
            // The cursor starts on the new array of 2 buckets; both map to the old bucket 0.
            let mut cursor = map.cursor();
            assert_eq!(
                drain(&map, &mut cursor),
                vec![key(9, 0); expected],
                "{fault:?}"
            );
            assert_eq!(cursor.stats().old_bucket_walks, 2);
        }
    }

    #[test]
    fn stale_evacuated_yield_produces_a_removed_key() {
        for fault in [None, Some(Fault::StaleEvacuatedYield)] {
            let mut map = placed(0);
            if let Some(fault) = fault {
                map.inject(fault);
            }
            let (a, b) = (key(9, 0), key(9, 2));
            map.insert(a, 1);
            let mut cursor = map.cursor();
            assert!(map.force_grow());
            finish_growth(&mut map);
            // `a` is removed and `b` takes its slot in the new array.
            assert_eq!(map.remove(&a), Some(1));
            map.insert(b, 2);
            let yielded: Vec<(u64, u64)> = std::iter::from_fn(|| cursor.next(&map))
                .map(|(&k, &v)| (k, v))
                .collect();
            if fault.is_some() {
                assert_eq!(yielded, vec![(a, 2)], "the removed key, with b's value");
            } else {
                assert_eq!(yielded, vec![], "a is gone and b is new: nothing is owed");
            }
            assert_eq!(cursor.stats().relookups, 1);
            assert_eq!(cursor.stats().yields, yielded.len() as u64);
            assert_eq!(
                cursor.stats().relookup_misses,
                u64::from(fault.is_none()),
                "{fault:?}"
            );
        }
    }

    #[test]
    fn clear_keeps_cursors_lets_a_cursor_yield_from_before_the_clear() {
        for (fault, expected) in [(None, 0), (Some(Fault::ClearKeepsCursors), 3)] {
            let mut map = placed(0);
            if let Some(fault) = fault {
                map.inject(fault);
            }
            for k in 0..3 {
                map.insert(key(9, k), k);
            }
            let mut cursor = map.cursor();
            map.clear();
            assert_eq!(map.len(), 0);
            assert_eq!(drain(&map, &mut cursor).len(), expected, "{fault:?}");
            assert_eq!(map.check_invariants(), Ok(()));
        }
    }

    #[test]
    fn cursor_wrap_ends_early_never_visits_the_bucket_before_the_start() {
        // One key in each of 4 buckets: a cursor's first key names its start bucket.
        let mut map = faulty(26, Fault::CursorWrapEndsEarly);
        for b in 0..4 {
            map.insert(key(9, b), b);
        }
        let mut starts = [0; 4];
        for _ in 0..64 {
            let mut cursor = map.cursor();
            let keys = drain(&map, &mut cursor);
            assert_eq!(keys.len(), 3, "{keys:?}");
            let start = keys[0] & 3;
            starts[start as usize] += 1;
            let expected: Vec<u64> = (0..3).map(|i| key(9, (start + i) & 3)).collect();
            assert_eq!(keys, expected, "from bucket {start}");
        }
        assert!(starts.iter().all(|&n| n > 0), "starts {starts:?}");
        // With a single bucket, the wrap-around ends before the only bucket.
        let mut map = faulty(0, Fault::CursorWrapEndsEarly);
        map.insert(key(9, 0), 0);
        let mut cursor = map.cursor();
        assert_eq!(drain(&map, &mut cursor), vec![]);
        // With a fault injected, iter() takes the cursor's path, so it shows the cursor's faults.
        assert_eq!(map.iter().count(), 0);
    }

    #[test]
    fn capacity_hint_by_slots_starts_one_b_too_small_and_doubles_before_the_hint() {
        // 15 entries need B 2 at 6.5 per bucket; 2 buckets have 16 slots, so the fault picks B 1.
        for (fault, b, grows) in [(None, 2, 0), (Some(Fault::CapacityHintBySlots), 1, 1)] {
            let mut map = placed(15);
            if let Some(fault) = fault {
                map.inject(fault);
            }
            assert_eq!(map.stats().b, b, "{fault:?}");
            for k in 0..15 {
                map.insert(key(9, k), k);
            }
            assert_eq!(map.stats().grows, grows, "{fault:?}");
            assert_eq!(map.check_invariants(), Ok(()));
        }
        // Hints up to 6.5 per bucket are sized right either way.
        assert_eq!(faulty(13, Fault::CapacityHintBySlots).stats().b, 1);
        // Injected into a map already in use, it re-sizes nothing.
        let mut map = placed(15);
        map.insert(key(9, 0), 0);
        map.inject(Fault::CapacityHintBySlots);
        assert_eq!(map.stats().b, 2);
    }

    #[test]
    fn grow_on_update_starts_a_growth_when_a_full_map_updates_a_key() {
        for (fault, grows) in [(None, 0), (Some(Fault::GrowOnUpdate), 1)] {
            let mut map = placed(0);
            if let Some(fault) = fault {
                map.inject(fault);
            }
            // 8 entries fill B 0 to its limit: only a ninth key may start a growth.
            for k in 0..8 {
                map.insert(key(9, k), k);
            }
            assert_eq!(map.insert(key(9, 0), 100), Some(0));
            assert_eq!(map.stats().grows, grows, "{fault:?}");
            assert_eq!(map.get(&key(9, 0)), Some(&100));
            assert_eq!(map.check_invariants(), Ok(()));
        }
    }

    #[test]
    fn tombstones_count_toward_load_doubles_again_and_again_under_churn() {
        for (fault, max_b) in [(None, 0), (Some(Fault::TombstonesCountTowardLoad), 4)] {
            let mut map = placed(0);
            if let Some(fault) = fault {
                map.inject(fault);
            }
            for k in 0..8 {
                map.insert(key(9, k), k);
            }
            // Remove the oldest key, insert a new one: always 7 or 8 entries.
            for k in 8..200 {
                assert_eq!(map.remove(&key(9, k - 8)), Some(k - 8));
                map.insert(key(9, k), k);
                assert_eq!(map.len(), 8);
            }
            let b = map.stats().b;
            if fault.is_some() {
                assert!(b >= max_b, "B {b}: the map kept doubling at 8 entries");
            } else {
                assert_eq!(b, max_b, "8 entries fit one bucket");
            }
            assert_eq!(map.check_invariants(), Ok(()));
        }
    }

    #[test]
    fn grow_work_skips_nevacuate_leaves_a_growth_unfinished() {
        for fault in [None, Some(Fault::GrowWorkSkipsNevacuate)] {
            let mut map = placed(26);
            if let Some(fault) = fault {
                map.inject(fault);
            }
            assert_eq!(map.stats().buckets, 4);
            assert!(map.force_grow());
            // Every key maps to old bucket 0: only bucket nevacuate's evacuation reaches the rest.
            for k in 0..20 {
                map.insert(key(9, k << 3), k);
                map.remove(&key(9, k << 3));
            }
            assert_eq!(map.is_growing(), fault.is_some(), "{fault:?}");
            assert_eq!(map.check_invariants(), Ok(()));
        }
    }
}
