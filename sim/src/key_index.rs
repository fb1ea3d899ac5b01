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
//! place. Its order follows the op history alone, so everything derived from it replays. An
//! absent key of the array can carry a mark, left by the remove or clear that took it away, for
//! what the model remembers of how a key's last incarnation ended: it costs a remove or a clear
//! no more than taking the key away does.

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
    /// Room made at the start for the entries of a list indexed by this: a program's map
    /// holds up to a few hundred keys at a time, and growing a list from empty to that size
    /// reallocates it six times in every program.
    pub const INITIAL_ENTRIES: u64 = 256;

    /// The room to make at the start for the entries of a list of keys from `0..key_space`.
    pub fn initial_entries(key_space: u64) -> usize {
        key_space.min(Self::INITIAL_ENTRIES) as usize
    }

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
    /// An empty map whose keys `0..key_space` are looked up by array index, with room for
    /// [`KeyIndex::INITIAL_ENTRIES`] entries (or the whole key space, if smaller).
    pub fn new(key_space: u64) -> Self {
        KeyMap {
            entries: Vec::with_capacity(KeyIndex::initial_entries(key_space)),
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

    /// The largest mark an absent key can carry ([`KeyMap::swap_remove_marking`]).
    pub const MAX_MARK: u32 = KeyIndex::ABSENT - 1 - Self::MARKED;
    /// Positions are below this, marks are stored from it on.
    const MARKED: u32 = 1 << 31;

    /// The position of `key`, if it is present.
    #[inline]
    fn position(&self, key: u64) -> Option<usize> {
        let position = self.positions.get(key).filter(|&p| p < Self::MARKED)?;
        Some(position as usize)
    }

    /// The value of `key`.
    #[inline]
    pub fn get(&self, key: u64) -> Option<&V> {
        let position = self.position(key)?;
        Some(&self.entries[position].1)
    }

    /// The value of `key`, to change it.
    #[inline]
    pub fn get_mut(&mut self, key: u64) -> Option<&mut V> {
        let position = self.position(key)?;
        Some(&mut self.entries[position].1)
    }

    /// The mark absent `key` carries: the one its last remove or clear left, if that one could
    /// leave a mark (a key of the array and a mark up to [`Self::MAX_MARK`]).
    pub fn mark(&self, key: u64) -> Option<u32> {
        let value = self.positions.get(key).filter(|&v| v >= Self::MARKED)?;
        Some(value - Self::MARKED)
    }

    /// Whether a remove of `key` with `mark` leaves that mark ([`Self::mark`]).
    #[inline]
    pub fn can_mark(&self, key: u64, mark: u32) -> bool {
        key < self.positions.dense.len() as u64 && mark <= Self::MAX_MARK
    }

    /// Takes `key` away, leaving `mark` if it [can](Self::can_mark), else no mark; returns
    /// whether it left the mark.
    #[inline]
    fn unset_marking(&mut self, key: u64, mark: u32) -> bool {
        let marked = self.can_mark(key, mark);
        if marked {
            self.positions.set(key, Self::MARKED + mark);
        } else {
            self.positions.unset(key);
        }
        marked
    }

    /// Appends `key`, which must be absent.
    #[inline]
    pub fn insert_absent(&mut self, key: u64, value: V) {
        debug_assert!(self.position(key).is_none());
        let position = u32::try_from(self.entries.len())
            .ok()
            .filter(|&p| p < Self::MARKED)
            .expect("a key map holds fewer than 2^31 entries");
        self.positions.set(key, position);
        self.entries.push((key, value));
    }

    /// Sets `key`'s value to `merge(old)`, where `old` is its present value or, for an absent
    /// key (which is appended), `fresh()`; returns the present value, if any.
    ///
    /// For a key of the array this does not branch on whether the key was present: the model
    /// calls it on every insert of a program, and whether a key is present is random. The entry
    /// is always pushed, and dropped again when the key was present.
    #[inline(always)]
    pub fn upsert(
        &mut self,
        key: u64,
        fresh: impl FnOnce() -> V,
        merge: impl FnOnce(V) -> V,
    ) -> Option<V>
    where
        V: Copy,
    {
        let Some(&slot) = self.positions.dense.get(key as usize) else {
            return self.upsert_hashed(key, fresh, merge);
        };
        let len = self.entries.len();
        assert!(
            len < Self::MARKED as usize,
            "a key map holds fewer than 2^31 entries"
        );
        let present = slot < Self::MARKED;
        let position = std::hint::select_unpredictable(present, slot as usize, len);
        // (The fresh value is built here, in place: built by the caller and passed in, it went
        // through the stack in pieces and was read back whole, which stalls the store.)
        self.entries.push((key, fresh()));
        let old = self.entries[position].1;
        self.entries[position].1 = merge(old);
        self.entries.truncate(len + usize::from(!present));
        self.positions.dense[key as usize] = position as u32;
        present.then_some(old)
    }

    #[cold]
    fn upsert_hashed(
        &mut self,
        key: u64,
        fresh: impl FnOnce() -> V,
        merge: impl FnOnce(V) -> V,
    ) -> Option<V>
    where
        V: Copy,
    {
        match self.get_mut(key) {
            Some(value) => {
                let old = *value;
                *value = merge(old);
                Some(old)
            }
            None => {
                self.insert_absent(key, merge(fresh()));
                None
            }
        }
    }

    /// Removes `key`, moving the last entry into its place, and leaves `mark` on the key if it
    /// [can](Self::can_mark) carry it; returns its value and whether it left the mark.
    #[inline]
    pub fn swap_remove_marking(&mut self, key: u64, mark: u32) -> Option<(V, bool)> {
        let position = self.position(key)?;
        let marked = self.unset_marking(key, mark);
        Some((self.take_entry(position), marked))
    }

    #[inline]
    fn take_entry(&mut self, position: usize) -> V {
        let (_, value) = self.entries.swap_remove(position);
        if let Some(&(moved, _)) = self.entries.get(position) {
            self.positions.set(moved, position as u32);
        }
        value
    }

    /// Every entry, in the map's order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &V)> + '_ {
        self.entries.iter().map(|(k, v)| (*k, v))
    }

    /// Every value, in the map's order, to change them.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> + '_ {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    /// Removes every entry, leaving `mark` on each key that [can](Self::can_mark) carry it, and
    /// hands each to `ended` in the map's order, with whether it carries the mark; keeps the
    /// allocations.
    pub fn clear_marking(&mut self, mark: u32, mut ended: impl FnMut(u64, &V, bool)) {
        let mut entries = std::mem::take(&mut self.entries);
        for (key, value) in &entries {
            let marked = self.unset_marking(*key, mark);
            ended(*key, value, marked);
        }
        entries.clear();
        self.entries = entries;
    }

    /// [`Self::clear_marking`] for a caller that needs only the keys left without the mark: hands
    /// those to `unmarked`, in the map's order. (A clear with no cursor active needs no more, and
    /// its loop is then a store per key.)
    pub fn clear_leaving_mark(&mut self, mark: u32, mut unmarked: impl FnMut(u64)) {
        if mark > Self::MAX_MARK {
            return self.clear_marking(mark, |key, _, _| unmarked(key));
        }
        for &(key, _) in &self.entries {
            match self.positions.dense.get_mut(key as usize) {
                Some(slot) => *slot = Self::MARKED + mark,
                None => {
                    self.positions.hashed.swap_remove(&key);
                    unmarked(key);
                }
            }
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
    fn key_maps_keep_the_order_and_values_of_an_index_map_with_swap_remove() {
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
                2 => assert_eq!(
                    ours.swap_remove_marking(key, 5).map(|(v, _)| v),
                    theirs.swap_remove(&key)
                ),
                3 if step % 2 == 0 => {
                    // An upsert keeps a present value's high half and writes the low one.
                    let expected = theirs.get(&key).copied();
                    let merged = |old: u64| (old & !0xFFFF) | (step & 0xFFFF);
                    theirs.insert(key, merged(expected.unwrap_or(step << 16)));
                    assert_eq!(ours.upsert(key, || step << 16, merged), expected);
                }
                _ if step % 97 == 0 => {
                    let mut ended = Vec::new();
                    ours.clear_marking(0, |k, &v, _| ended.push((k, v)));
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

    #[test]
    fn an_absent_key_of_the_array_keeps_the_mark_of_its_last_remove() {
        let mut map: KeyMap<u64> = KeyMap::new(8);
        assert_eq!(map.mark(3), None, "never present");
        map.insert_absent(3, 30);
        map.insert_absent(4, 40);
        map.insert_absent(9, 90);
        assert_eq!(map.swap_remove_marking(3, 7), Some((30, true)));
        assert_eq!((map.mark(3), map.get(3)), (Some(7), None));
        map.insert_absent(3, 31);
        assert_eq!(
            (map.mark(3), map.get(3)),
            (None, Some(&31)),
            "present again"
        );
        let mut marked = Vec::new();
        map.clear_marking(KeyMap::<u64>::MAX_MARK, |k, _, m| marked.push((k, m)));
        assert_eq!(marked, vec![(9, false), (4, true), (3, true)]);
        assert_eq!(map.mark(3), Some(KeyMap::<u64>::MAX_MARK));
        assert_eq!(map.mark(4), Some(KeyMap::<u64>::MAX_MARK));
        assert_eq!(map.mark(9), None, "outside the array: no mark");
        assert!(!map.can_mark(9, 0) && !map.can_mark(3, KeyMap::<u64>::MAX_MARK + 1));
        assert_eq!(map.swap_remove_marking(3, 1), None, "already absent");
        map.insert_absent(9, 91);
        assert_eq!(
            map.swap_remove_marking(9, 1),
            Some((91, false)),
            "outside the array"
        );
    }

    #[test]
    fn a_clear_that_only_leaves_marks_ends_every_key_as_a_clear_that_hands_them_over_does() {
        for mark in [0, 5, KeyMap::<u64>::MAX_MARK, KeyMap::<u64>::MAX_MARK + 1] {
            let mut handing: KeyMap<u64> = KeyMap::new(8);
            for key in [3, 12, 0, 7, 40, 5] {
                handing.insert_absent(key, key * 10);
            }
            assert_eq!(handing.swap_remove_marking(0, 2), Some((0, true)));
            let mut leaving = handing.clone();
            let mut unmarked_handed = Vec::new();
            handing.clear_marking(mark, |key, _, marked| {
                if !marked {
                    unmarked_handed.push(key);
                }
            });
            let mut unmarked_left = Vec::new();
            leaving.clear_leaving_mark(mark, |key| unmarked_left.push(key));
            assert_eq!(unmarked_left, unmarked_handed, "mark {mark}");
            assert!(leaving.is_empty());
            for key in 0..64 {
                assert_eq!(
                    leaving.mark(key),
                    handing.mark(key),
                    "key {key}, mark {mark}"
                );
                assert_eq!(leaving.get(key), None);
            }
            // The keys outside the array are gone from the hashed side too.
            leaving.insert_absent(40, 1);
            assert_eq!(leaving.get(40), Some(&1));
        }
    }
}
