//! Rule 8 of shared/docs/semantics.md: the iteration order is unspecified and randomized per
//! cursor, from the map's own seeded generator. These checks are statistical, over many seeds and
//! many cursors; since a seed fixes every draw they are also deterministic: a threshold either
//! always holds or never does. (map-core's scenario tests check single cases; Go's counterparts
//! are `TestMapIterOrder` and `TestMapSparseIterOrder`, issue 8410.)

use std::collections::{BTreeMap, BTreeSet};

use map_core::GoMap;

type Map = GoMap<u64, u64>;

fn map_with_keys(seed: u64, keys: impl IntoIterator<Item = u64>) -> Map {
    let mut map = GoMap::with_seed(seed);
    for k in keys {
        map.insert(k, k);
    }
    map
}

/// The first key a new cursor yields.
fn first_by_cursor(map: &mut Map) -> u64 {
    let mut cursor = map.cursor();
    *cursor.next(map).expect("the map is not empty").0
}

/// The first key a new borrowing iterator yields.
fn first_by_iter(map: &Map) -> u64 {
    *map.iter().next().expect("the map is not empty").0
}

/// The whole order of a new cursor.
fn order(map: &mut Map) -> Vec<u64> {
    let mut cursor = map.cursor();
    let mut keys = Vec::with_capacity(map.len());
    while let Some((&k, _)) = cursor.next(map) {
        keys.push(k);
    }
    keys
}

/// Pearson's chi-square statistic of `counts` against a uniform distribution.
fn chi_square(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    let expected = total as f64 / counts.len() as f64;
    counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum()
}

/// The 0.1% critical value of chi-square with 7 degrees of freedom: a uniform draw exceeds it once
/// in a thousand experiments.
const CHI_SQUARE_7_DF_999: f64 = 24.32;

/// A map of 8 keys is one bucket; a cursor starts at a random slot offset, so each key is the
/// first one yielded equally often: over many cursors of one map, and over many seeds.
#[test]
fn in_one_bucket_every_entry_is_first_equally_often() {
    let samples = 4000;
    let mut map = map_with_keys(1, 0..8);
    assert_eq!(map.stats().buckets, 1);
    let mut by_cursor = [0u64; 8];
    let mut by_iter = [0u64; 8];
    for _ in 0..samples {
        by_cursor[first_by_cursor(&mut map) as usize] += 1;
        by_iter[first_by_iter(&map) as usize] += 1;
    }
    let mut by_seed = [0u64; 8];
    for seed in 0..samples {
        by_seed[first_by_cursor(&mut map_with_keys(seed, 0..8)) as usize] += 1;
    }
    for (what, counts) in [
        ("cursors of one map", by_cursor),
        ("iterators of one map", by_iter),
        ("first cursors of many seeds", by_seed),
    ] {
        let chi = chi_square(&counts);
        assert!(
            chi < CHI_SQUARE_7_DF_999,
            "{what}: first keys {counts:?} are not uniform (chi-square {chi:.1})"
        );
    }
}

/// In bigger maps a cursor starts at a random bucket too: first keys spread over the whole map,
/// before, during and after a growth.
#[test]
fn in_many_buckets_first_entries_spread_over_the_map() {
    let draws = 400;
    for n in [100u64, 1000] {
        let mut settled = map_with_keys(7, 0..n);
        let mut growing = map_with_keys(7, 0..n);
        assert!(growing.force_grow());
        for _ in 0..growing.stats().old_buckets / 2 {
            growing.evacuate_step();
        }
        assert!(growing.is_growing());
        for (what, map) in [("settled", &mut settled), ("half-evacuated", &mut growing)] {
            let firsts: BTreeSet<u64> = (0..draws).map(|_| first_by_cursor(map)).collect();
            // Distinct values of 400 uniform draws from n keys: about 330 for n = 1000, and
            // every bucket's first entries for n = 100 (their count depends on the layout).
            let floor = if n == 100 { 12 } else { 250 };
            assert!(
                firsts.len() >= floor,
                "{n} keys, {what}: only {} distinct first keys in {draws} cursors",
                firsts.len()
            );
        }
    }
}

/// Go's `TestMapIterOrder`: for maps of 3 to 17 entries, some later cursor over the unchanged map
/// takes an order other than the first cursor's. (Three entries in one bucket share an order for
/// 6 of the 8 slot offsets, so it may take a few dozen cursors.)
#[test]
fn a_few_cursors_over_an_unchanged_map_never_all_agree() {
    for n in 3..=17u64 {
        for seed in 0..100 {
            let mut map = map_with_keys(seed, 0..n);
            let first = order(&mut map);
            let mut sorted = first.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..n).collect::<Vec<_>>(), "n {n} seed {seed}");
            assert!(
                (0..64).any(|_| order(&mut map) != first),
                "n {n} seed {seed}: 65 cursors in the same order {first:?}"
            );
        }
    }
}

/// Go issue 8410 (`TestMapSparseIterOrder`): a map grown big and then emptied down to a few
/// entries must not iterate in a constant order.
#[test]
fn a_sparse_map_does_not_iterate_in_a_constant_order() {
    let mut distinct_total = 0;
    let seeds = 50u64;
    for seed in 0..seeds {
        let mut map = map_with_keys(seed, 0..1000);
        for k in 0..992 {
            map.remove(&k);
        }
        assert_eq!(map.len(), 8);
        let firsts: BTreeSet<u64> = (0..64).map(|_| first_by_cursor(&mut map)).collect();
        assert!(
            firsts.len() >= 2,
            "seed {seed}: every cursor starts at {firsts:?}"
        );
        distinct_total += firsts.len();
    }
    // 8 entries scattered over 256 buckets: most are reached first by some of 64 cursors.
    assert!(
        distinct_total as u64 >= seeds * 5,
        "on average only {:.1} of 8 entries start an iteration",
        distinct_total as f64 / seeds as f64
    );
}

/// The order is a function of the map's seed: equal for equal seeds, different across seeds.
#[test]
fn the_seed_fixes_the_order_and_other_seeds_give_other_orders() {
    let mut orders = BTreeMap::new();
    for seed in 0..200u64 {
        let mut a = map_with_keys(seed, 0..50);
        let mut b = map_with_keys(seed, 0..50);
        let first = order(&mut a);
        assert_eq!(first, order(&mut b), "seed {seed}");
        orders.entry(first).or_insert(seed);
    }
    assert!(
        orders.len() >= 195,
        "only {} different orders from 200 seeds",
        orders.len()
    );
}
