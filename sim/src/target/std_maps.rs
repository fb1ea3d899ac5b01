//! std's maps as targets: plain ops only, the smallest adapters there are.
//!
//! Both use fixed hashing (or none), so a program's answers depend on the program alone.

use std::collections::{BTreeMap, HashMap};

use super::{Capabilities, Target, TargetInfo};

pub(super) const HASH_MAP_INFO: TargetInfo = TargetInfo {
    name: "std-hash-map",
    about: "std::collections::HashMap with a fixed hasher: plain ops",
    capabilities: Capabilities::PLAIN,
    create: |program| {
        Ok(Box::new(HashMapTarget(HashMap::with_capacity_and_hasher(
            program.config.initial_capacity as usize,
            foldhash::fast::FixedState::with_seed(program.config.hasher_seed),
        ))))
    },
    check_available: super::always_available,
};

pub(super) const BTREE_MAP_INFO: TargetInfo = TargetInfo {
    name: "std-btree-map",
    about: "std::collections::BTreeMap: plain ops",
    capabilities: Capabilities::PLAIN,
    create: |_| Ok(Box::new(BTreeMapTarget(BTreeMap::new()))),
    check_available: super::always_available,
};

/// std's `HashMap`, hashed by foldhash with the program's hasher seed.
pub struct HashMapTarget(pub HashMap<u64, u64, foldhash::fast::FixedState>);

/// std's `BTreeMap`.
pub struct BTreeMapTarget(pub BTreeMap<u64, u64>);

/// The plain ops of a std map: the two maps share their API for everything a target needs.
macro_rules! plain_target {
    ($target:ty) => {
        impl Target for $target {
            fn insert(&mut self, key: u64, value: u64) -> Option<u64> {
                self.0.insert(key, value)
            }

            fn remove(&mut self, key: u64) -> Option<u64> {
                self.0.remove(&key)
            }

            fn get(&mut self, key: u64) -> Option<u64> {
                self.0.get(&key).copied()
            }

            fn clear(&mut self) {
                self.0.clear();
            }

            fn len(&mut self) -> usize {
                self.0.len()
            }

            fn contents(&mut self) -> Vec<(u64, u64)> {
                self.0.iter().map(|(&k, &v)| (k, v)).collect()
            }
        }
    };
}

plain_target!(HashMapTarget);
plain_target!(BTreeMapTarget);
