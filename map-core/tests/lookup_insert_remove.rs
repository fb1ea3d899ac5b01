//! Lookup, insert and remove on the bucket layout: lookups during a growth, overflow chains, and
//! the `emptyRest` markers removes leave behind.

mod common;

use common::{finish_growth, key, placed, Map};

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
