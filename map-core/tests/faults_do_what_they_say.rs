//! The fault catalog: each fault has a description of its own and, injected, does what the
//! description says, seen through the public API, with the audit reporting the broken invariant
//! where it broke. The harness's self-test relies on both.
//!
//! Injecting a fault needs the `faults` feature, which the mutation run enables.

mod common;

#[test]
fn every_fault_has_its_own_description() {
    let mut seen = std::collections::BTreeSet::new();
    for fault in map_core::Fault::ALL {
        let text = fault.description();
        assert!(text.len() > 20, "{fault}: {text:?}");
        assert!(seen.insert(text), "{fault} shares its description");
    }
}

#[cfg(feature = "faults")]
mod injected {
    use map_core::{ArrayKind, Fault, Invariant, InvariantError, Location};

    use super::common::{drain, finish_growth, key, placed, Map};

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
        for (fault, b, grows) in [(None, 0, 0), (Some(Fault::TombstonesCountTowardLoad), 5, 5)] {
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
            // With the fault, 7 entries and the removes since the last growth count as the load:
            // the map doubles after 1, 6, 19, 45 and 97 more removes (passing 8, then 6.5 * 2^B),
            // so the 192 removes reach B 5. Without it, 8 entries fit one bucket.
            let s = map.stats();
            assert_eq!((s.b, s.grows), (b, grows), "{fault:?}");
            assert_eq!(s.same_size_grows, 0);
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

    #[test]
    fn contains_key_stops_at_first_bucket_misses_keys_in_overflow_buckets() {
        for fault in [None, Some(Fault::ContainsKeyStopsAtFirstBucket)] {
            // 9 keys of bucket 0 of 2: 8 in main bucket 0, the ninth in overflow bucket 2.
            let mut map = placed(9);
            if let Some(fault) = fault {
                map.inject(fault);
            }
            for k in 0..9 {
                map.insert(key(9, k << 1), k);
            }
            assert_eq!(map.stats().max_chain_len, 2);
            let (in_main, in_overflow) = (key(9, 0), key(9, 8 << 1));
            // During the growth the chain is read where it is, in the old array, whose overflow
            // bucket 2 is past its 2 main buckets but not past the new array's 4.
            for growing in [false, true] {
                if growing {
                    assert!(map.force_grow());
                    assert_eq!(map.stats().evacuated, 0);
                }
                assert!(map.contains_key(&in_main), "{fault:?}, growing {growing}");
                assert_eq!(
                    map.contains_key(&in_overflow),
                    fault.is_none(),
                    "{fault:?}, growing {growing}"
                );
                assert_eq!(map.get(&in_overflow), Some(&8), "get is not affected");
            }
            assert_eq!(map.check_invariants(), Ok(()));
        }
    }

    #[test]
    fn index_skips_key_compare_returns_the_first_value_with_the_tophash() {
        // In bucket 0 of 2: `c` (another tophash), then `a` and `b`, which share tophash 9 and
        // stay in one chain when the array doubles (bits 0 and 1 clear).
        let (c, a, b) = (key(10, 0), key(9, 0), key(9, 4));
        for fault in [None, Some(Fault::IndexSkipsKeyCompare)] {
            let mut map = placed(9);
            if let Some(fault) = fault {
                map.inject(fault);
            }
            map.insert(c, 100);
            map.insert(a, 1);
            map.insert(b, 2);
            let b_reads = if fault.is_some() { 1 } else { 2 };
            // Before a growth, during one in the old chain (not yet evacuated), and during one in
            // the new chain (old bucket 0 evacuated, old bucket 1 not).
            for stage in ["not growing", "old chain", "new chain"] {
                match stage {
                    "old chain" => assert!(map.force_grow()),
                    "new chain" => {
                        assert!(map.evacuate_step());
                        assert!(map.is_growing());
                    }
                    _ => {}
                }
                assert_eq!(map[&b], b_reads, "{fault:?}, {stage}");
                assert_eq!((map[&a], map[&c]), (1, 100), "{fault:?}, {stage}");
                assert_eq!(map.get(&b), Some(&2), "get compares keys");
            }
        }
    }

    #[test]
    fn clone_drops_old_array_loses_the_entries_not_yet_evacuated() {
        for fault in [None, Some(Fault::CloneDropsOldArray)] {
            let mut map = placed(9);
            if let Some(fault) = fault {
                map.inject(fault);
            }
            // Three keys in old bucket 0, one in old bucket 1; only bucket 0 is evacuated.
            for k in [0, 2, 4, 1] {
                map.insert(key(9, k), k);
            }
            assert!(map.force_grow());
            assert!(map.evacuate_step());
            let copy = map.clone();
            assert_eq!(map.len(), 4);
            assert_eq!(map.get(&key(9, 1)), Some(&1));
            if fault.is_some() {
                // A consistent map, only without the entry of old bucket 1: the audit of the
                // copy alone cannot see it.
                assert_eq!(copy.len(), 3);
                assert!(!copy.is_growing());
                assert_eq!(copy.get(&key(9, 1)), None);
                assert_eq!(copy.iter().count(), 3);
            } else {
                assert_eq!(copy.len(), 4);
                assert!(copy.is_growing());
                assert_eq!(copy.get(&key(9, 1)), Some(&1));
            }
            assert_eq!(copy.check_invariants(), Ok(()));
        }
        // Cloned when no growth is under way, the fault loses nothing.
        let mut map = faulty(0, Fault::CloneDropsOldArray);
        map.insert(key(9, 0), 0);
        assert_eq!(map.clone().len(), 1);
    }

    #[test]
    fn get_mut_misses_old_array_reads_unevacuated_keys_as_absent() {
        for fault in [None, Some(Fault::GetMutMissesOldArray)] {
            let mut map = placed(9);
            if let Some(fault) = fault {
                map.inject(fault);
            }
            map.insert(key(9, 0), 0);
            map.insert(key(9, 1), 1);
            assert!(map.force_grow());
            // Old bucket 0 is evacuated, old bucket 1 is not.
            assert!(map.evacuate_step());
            *map.get_mut(&key(9, 0)).expect("in the new array") += 10;
            assert_eq!(
                map.get_mut(&key(9, 1)).is_some(),
                fault.is_none(),
                "{fault:?}"
            );
            assert_eq!(map.get(&key(9, 1)), Some(&1), "get is not affected");
            finish_growth(&mut map);
            *map.get_mut(&key(9, 1))
                .expect("evacuated: in the new array") += 10;
            assert_eq!((map[&key(9, 0)], map[&key(9, 1)]), (10, 11));
        }
    }

    #[test]
    fn iter_counts_current_array_stops_before_the_entries_not_yet_evacuated() {
        for fault in [None, Some(Fault::IterCountsCurrentArray)] {
            let mut map = placed(9);
            if let Some(fault) = fault {
                map.inject(fault);
            }
            for k in [0, 2, 4, 1, 3] {
                map.insert(key(9, k), k);
            }
            assert!(map.force_grow());
            // Old bucket 0 (3 keys) is evacuated, old bucket 1 (2 keys) is not.
            assert!(map.evacuate_step());
            let expected = if fault.is_some() { 3 } else { 5 };
            assert_eq!(map.iter().len(), expected, "{fault:?}");
            assert_eq!(map.iter().count(), expected, "{fault:?}");
            finish_growth(&mut map);
            assert_eq!(
                map.iter().count(),
                5,
                "{fault:?}: no growth, nothing missed"
            );
        }
    }

    #[test]
    fn eq_ignores_values_compares_only_the_keys() {
        let build = |fault: Option<Fault>, entries: &[(u64, u64)]| {
            let mut map = placed(0);
            if let Some(fault) = fault {
                map.inject(fault);
            }
            for &(k, v) in entries {
                map.insert(k, v);
            }
            map
        };
        for fault in [None, Some(Fault::EqIgnoresValues)] {
            let a = build(fault, &[(1, 10), (2, 20)]);
            let other_values = build(None, &[(1, 11), (2, 21)]);
            let more_keys = build(None, &[(1, 10), (2, 20), (3, 30)]);
            let same = build(None, &[(2, 20), (1, 10)]);
            // The fault is in the map on the left of `==`.
            assert_eq!(a == other_values, fault.is_some(), "{fault:?}");
            assert!(a == same, "{fault:?}");
            assert!(
                a != more_keys,
                "{fault:?}: a's keys are all in it, but it has one more"
            );
            assert!(
                a != build(None, &[(1, 10), (4, 20)]),
                "{fault:?}: another key"
            );
        }
    }

    #[test]
    fn extend_keeps_first_keeps_the_first_value_of_a_key_given_twice() {
        for fault in [None, Some(Fault::ExtendKeepsFirst)] {
            let mut map = placed(0);
            if let Some(fault) = fault {
                map.inject(fault);
            }
            map.insert(3, 30);
            map.extend([(1, 10), (2, 20), (1, 11), (3, 31)]);
            let expected = if fault.is_some() {
                [10, 20, 30]
            } else {
                [11, 20, 31]
            };
            assert_eq!([map[&1], map[&2], map[&3]], expected, "{fault:?}");
            assert_eq!(map.len(), 3);
        }
    }

    #[test]
    fn from_iter_keeps_first_keeps_the_first_value_of_a_key_given_twice() {
        let entries = [(1u64, 10u64), (2, 20), (1, 11)];
        let map: Map = Map::from_iter_with_fault(entries, 7, Fault::FromIterKeepsFirst);
        assert_eq!((map[&1], map[&2], map.len()), (10, 20, 2));
        assert_eq!(map.injected(), Some(Fault::FromIterKeepsFirst));
        // Another fault collects as `from_iter_with_seed` does: the last value wins.
        let map: Map = Map::from_iter_with_fault(entries, 7, Fault::ExtendKeepsFirst);
        assert_eq!((map[&1], map[&2], map.len()), (11, 20, 2));
        assert_eq!(map, Map::from_iter_with_seed(entries, 7));
        // The fault is injected before the map is filled: a fault of `makemap` sizes it.
        let map: Map =
            Map::from_iter_with_fault((0..15).map(|k| (k, k)), 7, Fault::CapacityHintBySlots);
        assert_eq!(
            map.stats().grows,
            1,
            "sized for 16 slots, not 15 entries at 6.5"
        );
    }

    #[test]
    fn no_same_size_growth_lets_overflow_buckets_pile_up() {
        for fault in [None, Some(Fault::NoSameSizeGrowth)] {
            let mut map = placed(9);
            if let Some(fault) = fault {
                map.inject(fault);
            }
            // 9 keys in the chain of bucket 0, then, removed, 9 in that of bucket 1: 9 entries in
            // 2 buckets (under the load factor) and 2 overflow buckets, which is too many.
            for k in 0..9 {
                map.insert(key(9, k << 1), k);
            }
            for k in 0..9 {
                map.remove(&key(9, k << 1));
                map.insert(key(9, (k << 1) | 1), k);
            }
            let s = map.stats();
            assert_eq!((s.len, s.buckets, s.overflow_buckets), (9, 2, 2));
            assert_eq!(s.same_size_grows, 0);
            // The next new key starts a same-size growth, unless the fault hides the trigger.
            map.insert(key(9, 100), 100);
            let s = map.stats();
            // (The growth packs bucket 1's 9 keys into a chain of 2 buckets: 1 overflow bucket.)
            let expected = if fault.is_some() { (0, 2) } else { (1, 1) };
            assert_eq!(
                (s.same_size_grows, s.overflow_buckets),
                expected,
                "{fault:?}"
            );
            assert_eq!(s.grows, 0);
            assert_eq!(map.check_invariants(), Ok(()));
        }
    }

    #[test]
    fn capacity_hint_by_slots_fills_each_bucket_to_eight() {
        // The faulty makemap's B: the smallest whose 8 slots per bucket hold the hint.
        for (hint, b) in [(0, 0), (8, 0), (9, 1), (16, 1), (17, 2), (32, 2), (33, 3)] {
            assert_eq!(
                faulty(hint, Fault::CapacityHintBySlots).stats().b,
                b,
                "hint {hint}"
            );
        }
    }

    #[test]
    fn a_fault_of_makemap_re_sizes_only_a_map_never_used() {
        // A map for 15 entries has B 2; the faulty makemap would give it B 1.
        let fresh = || placed(15);
        let mut untouched = fresh();
        untouched.inject(Fault::CapacityHintBySlots);
        assert_eq!(untouched.stats().b, 1);
        // Other faults re-size nothing.
        let mut other = fresh();
        other.inject(Fault::SkipCheckBucket);
        assert_eq!(other.stats().b, 2);
        // Each way of having been used keeps the map's B. Each is alone, but for a growth under
        // way, which has started a growth.
        let mut holds_an_entry = fresh();
        holds_an_entry.insert(key(9, 0), 0);
        let mut growing = fresh();
        assert!(growing.force_grow());
        let mut grew_once = fresh();
        assert!(grew_once.force_grow());
        finish_growth(&mut grew_once);
        let mut grew_same_size = fresh();
        assert!(grew_same_size.force_same_size_grow());
        finish_growth(&mut grew_same_size);
        // 9 keys of bucket 0 chain an overflow bucket, which stays when they are removed.
        let mut has_overflow = fresh();
        for k in 0..9 {
            has_overflow.insert(key(9, k << 2), k);
        }
        for k in 0..9 {
            has_overflow.remove(&key(9, k << 2));
        }
        let mut has_a_cursor = fresh();
        has_a_cursor.insert(key(9, 0), 0);
        let cursor = has_a_cursor.cursor();
        has_a_cursor.remove(&key(9, 0));
        for (used, mut map, ways) in [
            ("holds an entry", holds_an_entry, 1),
            ("growing", growing, 2),
            ("grew once", grew_once, 1),
            ("grew same-size", grew_same_size, 1),
            ("has an overflow bucket", has_overflow, 1),
            ("has a cursor", has_a_cursor, 1),
        ] {
            let s = map.stats();
            let before = s.b;
            let uses = [
                s.len > 0,
                s.growing,
                s.grows > 0,
                s.same_size_grows > 0,
                s.overflow_buckets > 0,
                s.live_cursors > 0,
            ];
            assert_eq!(uses.iter().filter(|&&u| u).count(), ways, "{used}: {s:?}");
            map.inject(Fault::CapacityHintBySlots);
            assert_eq!(map.stats().b, before, "{used}");
        }
        drop(cursor);
    }
}
