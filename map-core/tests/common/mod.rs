//! What the behaviour tests of map-core share: a hasher that places keys by hand, and helpers to
//! drain a cursor and finish a growth.
//!
//! The [`Placed`] hasher hashes a `u64` key to itself, so the low bits of a key choose its bucket
//! and its top byte its tophash.

// Each test file compiles this module on its own and uses only some of it.
#![allow(dead_code)]

use std::hash::{BuildHasher, Hasher};

use map_core::{Cursor, GoMap};

/// A hasher under which a `u64` key's hash is the key itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct Placed;

/// The state of [`Placed`]: the last word written.
pub struct PlacedHash(u64);

impl Hasher for PlacedHash {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl BuildHasher for Placed {
    type Hasher = PlacedHash;

    fn build_hasher(&self) -> PlacedHash {
        PlacedHash(0)
    }
}

/// A map of `u64` keys placed by hand.
pub type Map = GoMap<u64, u64, Placed>;

/// An empty map sized for `capacity` entries (0 -> 1 bucket, 9..=13 -> 2, 14..=26 -> 4, ...).
pub fn placed(capacity: usize) -> Map {
    GoMap::with_capacity_hasher_and_seed(capacity, Placed, 1)
}

/// The key whose hash has top byte `top` and low bits `low`: main bucket `low & mask` of any array.
pub fn key(top: u8, low: u64) -> u64 {
    (u64::from(top) << 56) | low
}

/// Every key the cursor yields until it ends.
pub fn drain(map: &Map, cursor: &mut Cursor<u64, u64>) -> Vec<u64> {
    let mut keys = Vec::new();
    while let Some((&k, _)) = cursor.next(map) {
        keys.push(k);
        assert!(
            keys.len() <= 10 * map.len() + 100,
            "the cursor does not end"
        );
    }
    keys
}

/// Evacuates until the growth under way is finished.
pub fn finish_growth(map: &mut Map) {
    while map.evacuate_step() {}
    assert!(!map.is_growing());
}
