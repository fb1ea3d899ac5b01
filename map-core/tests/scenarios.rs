//! Scenario tests written from shared/docs/semantics.md: cursors across growth, clear, deletes and
//! re-inserts, each step checked against a small reference and the audit run after every step.

use std::collections::{BTreeMap, BTreeSet};

use map_core::{Cursor, GoMap};

/// A map driven in lockstep with a reference, tracking key incarnations so cursor yields can be
/// judged by the rules of semantics.md section 2.
struct Checked {
    map: GoMap<u64, u64>,
    /// key -> (value, incarnation)
    model: BTreeMap<u64, (u64, u64)>,
    next_incarnation: u64,
}

/// A cursor with what it owes and what it has yielded.
struct Watched {
    cursor: Cursor<u64, u64>,
    /// Incarnations present at creation: each must be yielded exactly once if it survives.
    required: BTreeMap<u64, u64>,
    yielded: BTreeSet<(u64, u64)>,
    done: bool,
}

impl Checked {
    fn new(seed: u64) -> Self {
        Checked {
            map: GoMap::with_seed(seed),
            model: BTreeMap::new(),
            next_incarnation: 0,
        }
    }

    fn audit(&self) {
        if let Err(e) = self.map.check_invariants() {
            panic!("{e}\n{}", self.map.diagram());
        }
        assert_eq!(self.map.len(), self.model.len());
    }

    fn insert(&mut self, key: u64, value: u64) {
        let previous = self.map.insert(key, value);
        let expected = match self.model.get_mut(&key) {
            Some((v, _)) => Some(std::mem::replace(v, value)),
            None => {
                self.model.insert(key, (value, self.next_incarnation));
                self.next_incarnation += 1;
                None
            }
        };
        assert_eq!(previous, expected, "insert({key}, {value})");
        self.audit();
    }

    fn remove(&mut self, key: u64) {
        let removed = self.map.remove(&key);
        assert_eq!(
            removed,
            self.model.remove(&key).map(|(v, _)| v),
            "remove({key})"
        );
        self.audit();
    }

    fn clear(&mut self) {
        self.map.clear();
        self.model.clear();
        self.audit();
    }

    fn force_grow(&mut self) {
        self.map.force_grow();
        self.audit();
    }

    fn evacuate_step(&mut self) {
        self.map.evacuate_step();
        self.audit();
    }

    fn cursor(&mut self) -> Watched {
        Watched {
            cursor: self.map.cursor(),
            required: self.model.iter().map(|(&k, &(_, inc))| (k, inc)).collect(),
            yielded: BTreeSet::new(),
            done: false,
        }
    }

    /// One step; returns the yielded key. Checks rules 1-4 on the spot.
    fn step(&mut self, watched: &mut Watched) -> Option<u64> {
        let entry = watched.cursor.next(&self.map).map(|(k, v)| (*k, *v));
        self.audit();
        match entry {
            Some((key, value)) => {
                assert!(!watched.done, "yield after the end");
                let Some(&(current, incarnation)) = self.model.get(&key) else {
                    panic!("yielded removed key {key}");
                };
                assert_eq!(value, current, "stale value for key {key}");
                assert!(
                    watched.yielded.insert((key, incarnation)),
                    "key {key} yielded twice in one incarnation"
                );
                Some(key)
            }
            None => {
                watched.done = true;
                for (&key, &incarnation) in &watched.required {
                    if self.model.get(&key).map(|&(_, inc)| inc) == Some(incarnation) {
                        assert!(
                            watched.yielded.contains(&(key, incarnation)),
                            "surviving key {key} never yielded"
                        );
                    }
                }
                None
            }
        }
    }

    /// Steps to the end with `between` run after every yield; returns the keys yielded in order.
    fn drain(
        &mut self,
        watched: &mut Watched,
        mut between: impl FnMut(&mut Self, u64),
    ) -> Vec<u64> {
        let mut keys = Vec::new();
        let budget = 10 * (self.next_incarnation as usize + 10);
        for _ in 0..budget {
            match self.step(watched) {
                Some(key) => {
                    keys.push(key);
                    between(self, key);
                }
                None => return keys,
            }
        }
        panic!("cursor did not end within {budget} steps");
    }
}

#[test]
fn cursor_started_before_growth_sees_every_entry_once() {
    for seed in 0..20 {
        let mut m = Checked::new(seed);
        for k in 0..50 {
            m.insert(k, k);
        }
        let mut c = m.cursor();
        let keys = m.drain(&mut c, |m, k| m.insert(1000 + k, k));
        assert!(keys.len() >= 50);
        assert!(
            c.cursor.stats().growths_seen >= 1,
            "seed {seed}: inserts should have grown the map"
        );
    }
}

#[test]
fn cursor_started_during_growth_walks_old_buckets_with_the_check_filter() {
    let mut walked_old = 0;
    for seed in 0..20 {
        let mut m = Checked::new(seed);
        for k in 0..200 {
            m.insert(k, k);
        }
        m.force_grow();
        assert!(m.map.is_growing());
        let mut c = m.cursor();
        m.drain(&mut c, |m, k| {
            if k % 3 == 0 {
                m.evacuate_step();
            }
        });
        walked_old += c.cursor.stats().old_bucket_walks;
    }
    assert!(walked_old > 0);
}

#[test]
fn cursor_started_during_growth_survives_its_completion() {
    for seed in 0..20 {
        let mut m = Checked::new(seed);
        for k in 0..100 {
            m.insert(k, k);
        }
        m.force_grow();
        let mut c = m.cursor();
        // Finish the growth after a few steps.
        let mut steps = 0;
        m.drain(&mut c, |m, _| {
            steps += 1;
            if steps == 5 {
                while m.map.is_growing() {
                    m.evacuate_step();
                }
            }
        });
    }
}

#[test]
fn cursor_started_after_growth() {
    let mut m = Checked::new(7);
    for k in 0..500 {
        m.insert(k, k);
    }
    m.force_grow();
    while m.map.is_growing() {
        m.evacuate_step();
    }
    let mut c = m.cursor();
    let keys = m.drain(&mut c, |_, _| {});
    assert_eq!(keys.len(), 500);
}

#[test]
fn two_growths_in_one_cursor_life() {
    let mut relookups = 0;
    for seed in 0..20 {
        let mut m = Checked::new(seed);
        for k in 0..40 {
            m.insert(k, k);
        }
        let mut c = m.cursor();
        let mut step = 0;
        m.drain(&mut c, |m, k| {
            step += 1;
            if step == 2 || step == 10 {
                m.force_grow();
                for _ in 0..3 {
                    m.evacuate_step();
                }
            }
            if step == 6 {
                while m.map.is_growing() {
                    m.evacuate_step();
                }
            }
            if step % 4 == 0 {
                m.remove(k);
            }
        });
        assert!(c.cursor.stats().growths_seen >= 2);
        relookups += c.cursor.stats().relookups;
    }
    assert!(
        relookups > 0,
        "cursors on an old array re-look evacuated keys up"
    );
}

#[test]
fn clear_mid_iteration_yields_nothing_from_before() {
    for seed in 0..10 {
        let mut m = Checked::new(seed);
        for k in 0..64 {
            m.insert(k, k);
        }
        m.force_grow();
        let mut c = m.cursor();
        let mut cleared = false;
        let keys = m.drain(&mut c, |m, _| {
            if !cleared {
                cleared = true;
                m.clear();
                for k in 100..110 {
                    m.insert(k, k);
                }
            }
        });
        // The first yield came before the clear; the rest can only be post-clear keys.
        assert!(keys[1..].iter().all(|&k| k >= 100));
    }
}

#[test]
fn delete_and_reinsert_of_a_yielded_key() {
    for seed in 0..20 {
        let mut m = Checked::new(seed);
        for k in 0..30 {
            m.insert(k, k);
        }
        let mut c = m.cursor();
        m.drain(&mut c, |m, k| {
            if k < 30 {
                m.remove(k);
                m.insert(k, k + 1);
            }
        });
    }
}

#[test]
fn removing_every_odd_key_while_growing() {
    for seed in 0..10 {
        let mut m = Checked::new(seed);
        for k in 0..300 {
            m.insert(k, k);
        }
        m.force_grow();
        let mut c = m.cursor();
        let mut removed_odd = false;
        m.drain(&mut c, |m, _| {
            if !removed_odd {
                removed_odd = true;
                for k in (1..300).step_by(2) {
                    m.remove(k);
                }
            }
        });
        assert!(m.model.keys().all(|k| k % 2 == 0));
    }
}

#[test]
fn iteration_order_differs_between_cursors_on_an_unchanged_map() {
    // Go's TestMapIterOrder: small maps must not iterate in a fixed order (Go #8410).
    for n in [3u64, 7, 9, 15] {
        let mut map = GoMap::with_seed(n);
        for k in 0..n {
            map.insert(k, k);
        }
        let first: Vec<u64> = map.iter().map(|(k, _)| *k).collect();
        let differs = (0..100).any(|_| map.iter().map(|(k, _)| *k).collect::<Vec<_>>() != first);
        assert!(differs, "n = {n}: 100 iterations all in the same order");
        let mut cursor_orders = BTreeSet::new();
        for _ in 0..100 {
            let mut cursor = map.cursor();
            let mut order = Vec::new();
            while let Some((k, _)) = cursor.next(&map) {
                order.push(*k);
            }
            cursor_orders.insert(order);
        }
        assert!(
            cursor_orders.len() > 1,
            "n = {n}: cursors all start at the same entry"
        );
    }
}

#[test]
fn same_seed_same_order() {
    let build = || {
        let mut map = GoMap::with_seed(99);
        for k in 0..1000u64 {
            map.insert(k, k);
        }
        map
    };
    let (a, b) = (build(), build());
    for _ in 0..3 {
        let left: Vec<_> = a.iter().map(|(k, _)| *k).collect();
        let right: Vec<_> = b.iter().map(|(k, _)| *k).collect();
        assert_eq!(left, right);
    }
}

#[test]
fn churn_at_constant_size_keeps_buckets_bounded() {
    // Go #16070: deletes and inserts at a constant size must not pile up overflow buckets forever;
    // same-size growth compacts them.
    let mut map = GoMap::with_seed(5);
    let live = 100u64;
    for k in 0..live {
        map.insert(k, k);
    }
    for k in live..200_000 {
        map.remove(&(k - live));
        map.insert(k, k);
    }
    let stats = map.stats();
    assert_eq!(stats.len, live as usize);
    assert!(
        stats.buckets <= 64,
        "bucket count grew to {} under churn",
        stats.buckets
    );
    assert!(
        stats.overflow_buckets <= stats.buckets,
        "{} overflow buckets for {} buckets",
        stats.overflow_buckets,
        stats.buckets
    );
    assert!(
        stats.same_size_grows > 0,
        "churn should have triggered a same-size growth"
    );
    map.check_invariants().unwrap();
}

#[test]
fn several_cursors_interleaved_with_random_ops() {
    // A small seeded mixture; the simulator runs the big one.
    for seed in 0..30u64 {
        let mut m = Checked::new(seed);
        let mut rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut cursors: Vec<Watched> = Vec::new();
        for _ in 0..2000 {
            let r = next();
            let key = next() % 64;
            match r % 16 {
                0..=5 => m.insert(key, next() % 1000),
                6..=8 => m.remove(key),
                9 => {
                    if cursors.len() < 3 {
                        let c = m.cursor();
                        cursors.push(c);
                    }
                }
                10..=13 => {
                    if !cursors.is_empty() {
                        let i = (next() as usize) % cursors.len();
                        let mut c = cursors.swap_remove(i);
                        if m.step(&mut c).is_some() || !c.done {
                            cursors.push(c);
                        }
                    }
                }
                14 => {
                    if r % 64 == 14 {
                        m.clear();
                    } else if m.map.stats().buckets < 1024 {
                        // Clear keeps B, so unbounded forced growth would double forever.
                        m.force_grow();
                    }
                }
                _ => {
                    if r % 3 == 0 {
                        m.map.force_same_size_grow();
                        m.audit();
                    } else {
                        m.evacuate_step();
                    }
                }
            }
        }
        for mut c in cursors {
            m.drain(&mut c, |_, _| {});
        }
    }
}

#[test]
#[should_panic(expected = "did not come from")]
fn a_cursor_used_with_another_map_panics() {
    let mut a: GoMap<u64, u64> = GoMap::with_seed(1);
    a.insert(1, 1);
    let b = a.clone();
    let mut cursor = a.cursor();
    cursor.next(&b);
}

#[test]
fn iter_takes_the_order_a_cursor_takes() {
    for n in [0u64, 1, 7, 100, 5000] {
        let mut map = GoMap::with_seed(n + 11);
        for k in 0..n {
            map.insert(k, k);
        }
        for growing in [false, true] {
            if growing {
                map.force_grow();
                map.evacuate_step();
            }
            // A clone continues the same random stream, so its cursor draws the start the
            // original's iterator draws.
            let mut twin = map.clone();
            let by_iter: Vec<u64> = map.iter().map(|(k, _)| *k).collect();
            let mut cursor = twin.cursor();
            let mut by_cursor = Vec::new();
            while let Some((k, _)) = cursor.next(&twin) {
                by_cursor.push(*k);
            }
            assert_eq!(by_iter, by_cursor, "n = {n}, growing = {growing}");
            assert_eq!(by_iter.len() as u64, n);
        }
    }
}
