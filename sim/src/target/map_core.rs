//! The default target: map-core's `GoMap`, in process, with every capability.

use map_core::{Cursor, GoMap};

use super::{AuditFailure, Capabilities, Target, TargetError, TargetInfo};
use crate::coverage::Coverage;
use crate::failure::FailureKind;
use crate::hasher::SimHasher;
use crate::op::{CursorId, MAX_CURSORS};
use crate::program::{Config, Program};
use crate::shape::Shape;

/// [`crate::op::Op::ForceGrow`] is skipped once the map has this many buckets: every forced
/// doubling costs memory however few entries the map holds, and no program may exhaust memory.
pub const MAX_FORCED_BUCKETS: usize = 1 << 12;

/// The map type under test.
pub type SimMap = GoMap<u64, u64, SimHasher>;

pub(super) const INFO: TargetInfo = TargetInfo {
    name: "map-core",
    about: "map-core's GoMap in process: Go's algorithm in safe Rust (the default)",
    capabilities: Capabilities::ALL,
    create: |program| Ok(Box::new(MapCoreTarget::new(&program.config))),
    check_available: super::always_available,
};

/// map-core's [`GoMap`] and the program's cursors on it.
pub struct MapCoreTarget {
    map: SimMap,
    cursors: [Option<Cursor<u64, u64>>; MAX_CURSORS],
    /// The program's second map, once a `clone` or `from-iter` made one.
    second: Option<SimMap>,
    /// The seed of the maps `from-iter` collects: derived from the program's map seed.
    collect_seed: u64,
    #[cfg(feature = "faults")]
    fault: Option<map_core::Fault>,
}

impl MapCoreTarget {
    /// The program's map: its capacity, hasher and seed, and its fault when one is injected.
    pub fn new(config: &Config) -> Self {
        MapCoreTarget {
            map: create_map(config),
            cursors: Default::default(),
            second: None,
            collect_seed: config.map_seed ^ 0x636f_6c6c_6563_7421,
            #[cfg(feature = "faults")]
            fault: config.fault,
        }
    }

    /// For [`TargetInfo::create`] signatures that take the whole program.
    pub fn for_program(program: &Program) -> Result<Self, TargetError> {
        Ok(MapCoreTarget::new(&program.config))
    }

    /// The map.
    pub fn map(&self) -> &SimMap {
        &self.map
    }
}

/// The program's map: its capacity, hasher and seed, and its fault when one is injected.
fn create_map(config: &Config) -> SimMap {
    let hasher = SimHasher::new(config.hasher, config.hasher_seed);
    #[cfg_attr(not(feature = "faults"), allow(unused_mut))]
    let mut map = GoMap::with_capacity_hasher_and_seed(
        config.initial_capacity as usize,
        hasher,
        config.map_seed,
    );
    #[cfg(feature = "faults")]
    if let Some(fault) = config.fault {
        map.inject(fault);
    }
    map
}

impl Target for MapCoreTarget {
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

    fn cursor_new(&mut self, cursor: CursorId) {
        self.cursors[cursor.index()] = Some(self.map.cursor());
    }

    fn cursor_next(&mut self, cursor: CursorId) -> Option<(u64, u64)> {
        let c = self.cursors[cursor.index()]
            .as_mut()
            .expect("the executor steps only cursors that exist");
        c.next(&self.map).map(|(&k, &v)| (k, v))
    }

    fn cursor_drop(&mut self, cursor: CursorId, coverage: &mut Coverage) {
        if let Some(c) = self.cursors[cursor.index()].take() {
            let s = c.stats();
            coverage.old_bucket_walks += s.old_bucket_walks;
            coverage.relookups += s.relookups;
            coverage.multi_growth_cursors += u64::from(s.growths_seen >= 2);
        }
    }

    fn force_grow(&mut self) {
        if self.map.stats().buckets < MAX_FORCED_BUCKETS {
            self.map.force_grow();
        }
    }

    fn force_same_size_grow(&mut self) {
        self.map.force_same_size_grow();
    }

    fn evacuate_step(&mut self) -> bool {
        self.map.evacuate_step()
    }

    fn audit(&mut self, coverage: &mut Coverage) -> Result<(), AuditFailure> {
        self.map.check_invariants().map_err(|e| AuditFailure {
            kind: FailureKind::Invariant(e.invariant),
            message: e.to_string(),
        })?;
        if self.map.stats().max_chain_len >= 3 {
            coverage.deep_chains += 1;
        }
        Ok(())
    }

    fn is_growing(&mut self) -> Option<bool> {
        Some(self.map.is_growing())
    }

    #[inline]
    fn shape(&mut self) -> Option<Shape> {
        let s = self.map.shape();
        Some(Shape {
            len: s.len,
            b: s.b,
            overflow_buckets: s.overflow_buckets,
            growing: s.growing,
            same_size: s.same_size,
            doubling_growths: s.grows,
            same_size_growths: s.same_size_grows,
        })
    }

    fn state_line(&mut self) -> Option<String> {
        let s = self.map.stats();
        let growth = if s.growing {
            let kind = if s.same_size { "same-size" } else { "doubling" };
            format!(
                ", {kind} growth {}/{} evacuated",
                s.evacuated, s.old_buckets
            )
        } else {
            String::new()
        };
        Some(format!("[len {} B {}{growth}]", s.len, s.b))
    }

    fn diagram(&mut self) -> String {
        self.map.diagram().to_string()
    }

    fn add_coverage(&mut self, coverage: &mut Coverage) {
        coverage.same_size_grows = self.map.stats().same_size_grows;
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
        // `FromIterator` itself draws the new map's seed from the OS: collect as it does, with
        // a seed from the program, so that the run replays.
        let seed = self.collect_seed;
        #[cfg(feature = "faults")]
        if let Some(fault) = self.fault {
            self.second = Some(SimMap::from_iter_with_fault(
                entries.iter().copied(),
                seed,
                fault,
            ));
            return;
        }
        self.second = Some(SimMap::from_iter_with_seed(entries.iter().copied(), seed));
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

    fn second_audit(&mut self, _coverage: &mut Coverage) -> Result<(), AuditFailure> {
        self.second_map()
            .check_invariants()
            .map_err(|e| AuditFailure {
                kind: FailureKind::Invariant(e.invariant),
                message: format!("the second map: {e}"),
            })
    }

    fn eq_second(&mut self) -> bool {
        let second = self
            .second
            .as_ref()
            .expect("the executor compares only with a second map");
        self.map == *second
    }

    fn eq_entries(&mut self, entries: &[(u64, u64)]) -> bool {
        let mut built = GoMap::with_hasher_and_seed(*self.map.hasher(), 0);
        for &(k, v) in entries {
            built.insert(k, v);
        }
        self.map == built
    }
}

impl MapCoreTarget {
    fn second_map(&mut self) -> &mut SimMap {
        self.second
            .as_mut()
            .expect("the executor uses the second map only once there is one")
    }
}
