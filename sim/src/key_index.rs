//! Keyed lookups for the simulator's own bookkeeping (the model's entries, the generator's key
//! pool), which run on nearly every op of every program.
//!
//! [`KeyIndex`] maps a key to a `u32` (a position in a list): by an array indexed by key for the
//! keys of the program's key space (up to [`KeyIndex::DENSE_KEYS`] of them), by a hashed map with
//! a fixed hasher for any other key. An array index is several times cheaper than a hashed lookup,
//! and the programs the generator draws use key spaces of at most 16,384 keys.
//!
//! [`KeyMap`] is an insertion-ordered map on top of it, ordered as an `IndexMap` with
//! `swap_remove` is: an insert appends, a remove moves the last entry into the removed one's
//! place. Its order follows the op history alone, so everything derived from it replays.

use indexmap::IndexMap;

/// A key's `u32`, found through an array for small keys and a hashed map for the rest.
#[derive(Clone, Debug, Default)]
pub(crate) struct KeyIndex {
    /// Indexed by key, for keys below its length; [`KeyIndex::ABSENT`] where a key has none.
    dense: Vec<u32>,
    /// Keys at or above `dense.len()` (only looked up, never iterated).
    hashed: IndexMap<u64, u32, foldhash::fast::FixedState>,
}

impl KeyIndex {
    /// The largest key space indexed by key: 256 KiB of `u32`s.
    pub const DENSE_KEYS: u64 = 1 << 16;
    /// What the array holds for a key with no value; not a value one may set.
    pub const ABSENT: u32 = u32::MAX;

    /// An empty index, with an array for keys `0..min(key_space, DENSE_KEYS)`.
    pub fn new(key_space: u64) -> KeyIndex {
        KeyIndex {
            dense: vec![Self::ABSENT; key_space.min(Self::DENSE_KEYS) as usize],
            hashed: IndexMap::default(),
        }
    }

    /// The value of `key`, if it has one.
    #[inline]
    pub fn get(&self, key: u64) -> Option<u32> {
        match self.dense.get(key as usize) {
            Some(&value) => (value != Self::ABSENT).then_some(value),
            None => self.hashed_get(key),
        }
    }

    /// Sets the value of `key` (which must not be [`KeyIndex::ABSENT`]).
    #[inline]
    pub fn set(&mut self, key: u64, value: u32) {
        debug_assert_ne!(value, Self::ABSENT);
        match self.dense.get_mut(key as usize) {
            Some(slot) => *slot = value,
            None => {
                self.hashed.insert(key, value);
            }
        }
    }

    /// Takes the value of `key` away.
    #[inline]
    pub fn unset(&mut self, key: u64) {
        match self.dense.get_mut(key as usize) {
            Some(slot) => *slot = Self::ABSENT,
            None => {
                self.hashed.swap_remove(&key);
            }
        }
    }

    #[cold]
    fn hashed_get(&self, key: u64) -> Option<u32> {
        self.hashed.get(&key).copied()
    }
}

/// An insertion-ordered map from keys, ordered as an `IndexMap` with `swap_remove` is, looked up
/// through a [`KeyIndex`].
#[derive(Clone, Debug)]
pub(crate) struct KeyMap<V> {
    entries: Vec<(u64, V)>,
    positions: KeyIndex,
}

/// An empty map whose every key is looked up hashed.
impl<V> Default for KeyMap<V> {
    fn default() -> Self {
        KeyMap::new(0)
    }
}

impl<V> KeyMap<V> {
    /// An empty map whose keys `0..key_space` are looked up by array index.
    pub fn new(key_space: u64) -> Self {
        KeyMap {
            entries: Vec::new(),
            positions: KeyIndex::new(key_space),
        }
    }

    /// Entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `key`.
    #[inline]
    pub fn get(&self, key: u64) -> Option<&V> {
        let position = self.positions.get(key)?;
        Some(&self.entries[position as usize].1)
    }

    /// The value of `key`, to change it.
    #[inline]
    pub fn get_mut(&mut self, key: u64) -> Option<&mut V> {
        let position = self.positions.get(key)?;
        Some(&mut self.entries[position as usize].1)
    }

    /// Appends `key`, which must be absent.
    #[inline]
    pub fn insert_absent(&mut self, key: u64, value: V) {
        debug_assert!(self.positions.get(key).is_none());
        let position = u32::try_from(self.entries.len())
            .ok()
            .filter(|&p| p != KeyIndex::ABSENT)
            .expect("a key map holds fewer than u32::MAX entries");
        self.positions.set(key, position);
        self.entries.push((key, value));
    }

    /// Removes `key`, moving the last entry into its place; returns its value.
    #[inline]
    pub fn swap_remove(&mut self, key: u64) -> Option<V> {
        let position = self.positions.get(key)? as usize;
        self.positions.unset(key);
        let (_, value) = self.entries.swap_remove(position);
        if let Some(&(moved, _)) = self.entries.get(position) {
            self.positions.set(moved, position as u32);
        }
        Some(value)
    }

    /// Every entry, in the map's order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &V)> + '_ {
        self.entries.iter().map(|(k, v)| (*k, v))
    }

    /// Every value, in the map's order, to change them.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> + '_ {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    /// Removes every entry, handing each to `ended` in the map's order; keeps the allocations.
    pub fn clear_with(&mut self, mut ended: impl FnMut(u64, &V)) {
        for (key, value) in &self.entries {
            self.positions.unset(*key);
            ended(*key, value);
        }
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_inside_and_outside_the_array_behave_alike() {
        let mut index = KeyIndex::new(8);
        for key in [3, 8, u64::MAX] {
            assert_eq!(index.get(key), None);
            index.set(key, 7);
            assert_eq!(index.get(key), Some(7));
            index.unset(key);
            assert_eq!(index.get(key), None);
        }
    }

    #[test]
    fn key_maps_keep_the_order_of_an_index_map_with_swap_remove() {
        let mut ours: KeyMap<u64> = KeyMap::new(16);
        let mut theirs: IndexMap<u64, u64, foldhash::fast::FixedState> = IndexMap::default();
        let mut x: u64 = 1;
        for step in 0..4000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // Keys on both sides of the array's end.
            let key = (x >> 33) % 24;
            match (x >> 20) % 4 {
                0 | 1 => {
                    if ours.get(key).is_none() {
                        ours.insert_absent(key, step);
                        theirs.insert(key, step);
                    } else {
                        *ours.get_mut(key).expect("present") = step;
                        theirs.insert(key, step);
                    }
                }
                2 => assert_eq!(ours.swap_remove(key), theirs.swap_remove(&key)),
                _ if step % 97 == 0 => {
                    let mut ended = Vec::new();
                    ours.clear_with(|k, &v| ended.push((k, v)));
                    let expected: Vec<(u64, u64)> = theirs.drain(..).collect();
                    assert_eq!(ended, expected);
                }
                _ => {}
            }
            let expected: Vec<(u64, u64)> = theirs.iter().map(|(&k, &v)| (k, v)).collect();
            let found: Vec<(u64, u64)> = ours.iter().map(|(k, &v)| (k, v)).collect();
            assert_eq!(found, expected, "step {step}");
            assert_eq!(ours.len(), theirs.len());
        }
    }
}
