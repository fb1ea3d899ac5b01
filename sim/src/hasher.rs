//! Seeded hash functions for the map under test, from well spread to fully colliding.
//!
//! The colliding modes put keys into a few *hash classes* (`key % CLASSES`) that share the bits the
//! map uses for placement, so that overflow chains, tophash markers and same-size growth are
//! reached with small programs. The shrinker keeps a key in its class when it lowers it.

use std::hash::{BuildHasher, Hasher};

use crate::program::HasherMode;

/// How many hash classes the colliding modes use.
pub const CLASSES: u64 = 4;

/// A `BuildHasher` for [`HasherMode`]: the map's `S` parameter in the simulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimHasher {
    mode: HasherMode,
    seed: u64,
}

impl SimHasher {
    /// A hasher of this mode; `seed` varies the hash values (never the classes).
    pub fn new(mode: HasherMode, seed: u64) -> Self {
        SimHasher { mode, seed }
    }

    /// The mode this hasher implements.
    pub fn mode(&self) -> HasherMode {
        self.mode
    }
}

/// The well-mixed hash with seed 0: what `FromIterator` builds maps with.
impl Default for SimHasher {
    fn default() -> Self {
        SimHasher::new(HasherMode::Seeded, 0)
    }
}

impl BuildHasher for SimHasher {
    type Hasher = SimHash;

    fn build_hasher(&self) -> SimHash {
        SimHash {
            mode: self.mode,
            seed: self.seed,
            raw: 0,
        }
    }
}

/// The hashing state of [`SimHasher`]: it folds the written words, then shapes the result by mode.
#[derive(Clone, Debug)]
pub struct SimHash {
    mode: HasherMode,
    seed: u64,
    // For a `u64` key this is the key itself, so the class is `key % CLASSES`.
    raw: u64,
}

impl Hasher for SimHash {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.raw = self.raw.rotate_left(29) ^ word;
    }

    fn finish(&self) -> u64 {
        let class = self.raw % CLASSES;
        let spread = mix(self.raw ^ self.seed);
        match self.mode {
            HasherMode::Seeded => spread,
            // Bucket index = low B bits: for B <= 8 every key of a class lands in one bucket.
            HasherMode::CollideLowBits => (spread & !0xFF) | class,
            // Top byte below minTopHash (5): every tophash must be moved up, and few distinct ones.
            HasherMode::CollideTophash => (spread & !(0xFF << 56)) | (class << 56),
            HasherMode::Constant => mix(self.seed),
        }
    }
}

/// A bijective 64-bit finalizer (splitmix64's), so distinct inputs keep distinct hashes.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl HasherMode {
    /// Whether replacing key `a` by `b` keeps the hash bits this mode fixes: the shrinker lowers
    /// keys only within a class, so a collision that matters survives.
    pub fn same_class(self, a: u64, b: u64) -> bool {
        match self {
            HasherMode::Seeded | HasherMode::Constant => true,
            HasherMode::CollideLowBits | HasherMode::CollideTophash => a % CLASSES == b % CLASSES,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(mode: HasherMode, seed: u64, key: u64) -> u64 {
        SimHasher::new(mode, seed).hash_one(key)
    }

    #[test]
    fn colliding_modes_fix_the_bits_they_promise() {
        for key in 0..1000u64 {
            assert_eq!(
                hash(HasherMode::CollideLowBits, 7, key) & 0xFF,
                key % CLASSES
            );
            assert_eq!(
                hash(HasherMode::CollideTophash, 7, key) >> 56,
                key % CLASSES
            );
            assert_eq!(
                hash(HasherMode::Constant, 7, key),
                hash(HasherMode::Constant, 7, 0)
            );
        }
    }

    #[test]
    fn seeded_mode_spreads_and_depends_on_the_seed() {
        let buckets: std::collections::BTreeSet<u64> = (0..64u64)
            .map(|k| hash(HasherMode::Seeded, 1, k) & 0xF)
            .collect();
        assert!(
            buckets.len() >= 12,
            "64 keys hit only {} of 16 buckets",
            buckets.len()
        );
        assert_ne!(
            hash(HasherMode::Seeded, 1, 5),
            hash(HasherMode::Seeded, 2, 5)
        );
    }
}
