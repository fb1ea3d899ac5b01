//! When a growth starts and how it proceeds: the load factor and the capacity hint, forced
//! growths, evacuation in and out of order, the chains it builds, and the growth state clear
//! leaves.

mod common;

use common::{finish_growth, key, placed};
use map_core::GoMap;

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
