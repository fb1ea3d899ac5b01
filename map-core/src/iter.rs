//! The borrowing iterator and the std traits built on it.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::iter::FusedIterator;
use std::ops::Index;

use crate::cursor::{CursorStats, Walk};
use crate::hash::os_seed;
use crate::map::GoMap;

/// An iterator over a [`GoMap`]'s entries in the same randomized order a [`Cursor`](crate::Cursor)
/// would take. It borrows the map, so the map cannot change while it runs; use a cursor for that.
pub struct Iter<'a, K, V, S> {
    map: &'a GoMap<K, V, S>,
    walk: Walk,
    stats: CursorStats,
    remaining: usize,
}

impl<'a, K, V, S> Iterator for Iter<'a, K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        let entry = self.walk.next(self.map, &mut self.stats)?;
        self.remaining = self.remaining.saturating_sub(1);
        Some(entry)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K, V, S> ExactSizeIterator for Iter<'_, K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
}

impl<K, V, S> FusedIterator for Iter<'_, K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
}

impl<K, V, S> GoMap<K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
    /// An iterator over the entries, from a random start drawn from the map's seeded stream, so
    /// two iterations of an unchanged map usually differ in order, and a seed fixes both.
    ///
    /// ```
    /// use map_core::GoMap;
    /// let map: GoMap<u64, u64> = (0..10).map(|k| (k, k * k)).collect();
    /// let mut keys: Vec<u64> = map.iter().map(|(k, _)| *k).collect();
    /// keys.sort();
    /// assert_eq!(keys, (0..10).collect::<Vec<_>>());
    /// ```
    pub fn iter(&self) -> Iter<'_, K, V, S> {
        Iter {
            map: self,
            walk: Walk::new(self),
            stats: CursorStats::default(),
            remaining: self.count,
        }
    }
}

impl<'a, K, V, S> IntoIterator for &'a GoMap<K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V, S>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<K, V, S> Extend<(K, V)> for GoMap<K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, entries: I) {
        for (k, v) in entries {
            self.insert(k, v);
        }
    }
}

impl<K, V, S> FromIterator<(K, V)> for GoMap<K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher + Default,
{
    /// Collects into a map with `S::default()` and an OS-drawn iteration seed, like a Go map
    /// literal. Build with [`GoMap::with_hasher_and_seed`] and [`Extend`] to replay.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
        let entries = entries.into_iter();
        let mut map =
            GoMap::with_capacity_hasher_and_seed(entries.size_hint().0, S::default(), os_seed());
        map.extend(entries);
        map
    }
}

impl<K, V, S> fmt::Debug for GoMap<K, V, S>
where
    K: Hash + Eq + Clone + fmt::Debug,
    V: fmt::Debug,
    S: BuildHasher,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K, V, S> PartialEq for GoMap<K, V, S>
where
    K: Hash + Eq + Clone,
    V: PartialEq,
    S: BuildHasher,
{
    /// Maps are equal when they hold the same entries, whatever their hashers, layout or growth state.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl<K, V, S> Eq for GoMap<K, V, S>
where
    K: Hash + Eq + Clone,
    V: Eq,
    S: BuildHasher,
{
}

impl<K, Q, V, S> Index<&Q> for GoMap<K, V, S>
where
    K: Hash + Eq + Clone + Borrow<Q>,
    Q: Hash + Eq + ?Sized,
    S: BuildHasher,
{
    type Output = V;

    /// # Panics
    ///
    /// If the key is not in the map, like std's `HashMap`.
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("key not found in GoMap")
    }
}
