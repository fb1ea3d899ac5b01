//! std's maps as targets: plain ops only, the smallest adapters there are.
//!
//! Both use fixed hashing (or none), so a program's answers depend on the program alone.

use std::collections::{BTreeMap, HashMap};

use super::{Capabilities, Target, TargetInfo};

pub(super) const HASH_MAP_INFO: TargetInfo = TargetInfo {
    name: "std-hash-map",
    about: "std::collections::HashMap with a fixed hasher: plain ops and the map API",
    capabilities: Capabilities::PLAIN_AND_API,
    create: |program| {
        Ok(Box::new(HashMapTarget {
            map: HashMap::with_capacity_and_hasher(
                program.config.initial_capacity as usize,
                foldhash::fast::FixedState::with_seed(program.config.hasher_seed),
            ),
            second: None,
        }))
    },
    check_available: super::always_available,
};

pub(super) const BTREE_MAP_INFO: TargetInfo = TargetInfo {
    name: "std-btree-map",
    about: "std::collections::BTreeMap: plain ops and the map API",
    capabilities: Capabilities::PLAIN_AND_API,
    create: |_| {
        Ok(Box::new(BTreeMapTarget {
            map: BTreeMap::new(),
            second: None,
        }))
    },
    check_available: super::always_available,
};

type StdHashMap = HashMap<u64, u64, foldhash::fast::FixedState>;

/// std's `HashMap`, hashed by foldhash with the program's hasher seed.
pub struct HashMapTarget {
    /// The map.
    pub map: StdHashMap,
    /// The program's second map, once a `clone` or `from-iter` made one.
    pub second: Option<StdHashMap>,
}

/// std's `BTreeMap`.
pub struct BTreeMapTarget {
    /// The map.
    pub map: BTreeMap<u64, u64>,
    /// The program's second map, once a `clone` or `from-iter` made one.
    pub second: Option<BTreeMap<u64, u64>>,
}

/// The ops of a std map: the two maps share their API for everything a target needs.
macro_rules! std_target {
    ($target:ty, $map:ty) => {
        impl $target {
            fn second_map(&mut self) -> &mut $map {
                self.second
                    .as_mut()
                    .expect("the executor uses the second map only once there is one")
            }

            fn built(&self, entries: &[(u64, u64)]) -> $map {
                let mut built = self.map.clone();
                built.clear();
                built.extend(entries.iter().copied());
                built
            }
        }

        impl Target for $target {
            fn insert(&mut self, key: u64, value: u64) -> Option<u64> {
                self.map.insert(key, value)
            }

            fn remove(&mut self, key: u64) -> Option<u64> {
                self.map.remove(&key)
            }

            fn get(&mut self, key: u64) -> Option<u64> {
                self.map.get(&key).copied()
            }

            fn clear(&mut self) {
                self.map.clear();
            }

            fn len(&mut self) -> usize {
                self.map.len()
            }

            fn contents(&mut self) -> Vec<(u64, u64)> {
                self.map.iter().map(|(&k, &v)| (k, v)).collect()
            }

            fn get_mut_write(&mut self, key: u64, value: u64) -> Option<u64> {
                self.map
                    .get_mut(&key)
                    .map(|slot| std::mem::replace(slot, value))
            }

            fn contains_key(&mut self, key: u64) -> bool {
                self.map.contains_key(&key)
            }

            fn index(&mut self, key: u64) -> u64 {
                self.map[&key]
            }

            fn iter_now(&mut self) -> Vec<(u64, u64)> {
                self.contents()
            }

            fn clone_to_second(&mut self) {
                self.second = Some(self.map.clone());
            }

            fn collect_to_second(&mut self, entries: &[(u64, u64)]) {
                self.second = Some(entries.iter().copied().collect());
            }

            fn extend(&mut self, entries: &[(u64, u64)]) {
                self.map.extend(entries.iter().copied());
            }

            fn second_insert(&mut self, key: u64, value: u64) -> Option<u64> {
                self.second_map().insert(key, value)
            }

            fn second_remove(&mut self, key: u64) -> Option<u64> {
                self.second_map().remove(&key)
            }

            fn second_len(&mut self) -> usize {
                self.second_map().len()
            }

            fn second_contents(&mut self) -> Vec<(u64, u64)> {
                self.second_map().iter().map(|(&k, &v)| (k, v)).collect()
            }

            fn eq_second(&mut self) -> bool {
                Some(&self.map) == self.second.as_ref()
            }

            fn eq_entries(&mut self, entries: &[(u64, u64)]) -> bool {
                self.map == self.built(entries)
            }
        }
    };
}

std_target!(HashMapTarget, StdHashMap);
std_target!(BTreeMapTarget, BTreeMap<u64, u64>);
