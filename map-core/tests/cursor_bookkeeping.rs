//! What a cursor keeps and counts: the arrays it holds on to and when it lets go, the map's count
//! of live cursors, the key copies kept for them, its step statistics, and the end a clear puts
//! to it.

mod common;

use common::{drain, finish_growth, key, placed, Placed};
use map_core::GoMap;

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
