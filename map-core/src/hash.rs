//! Hashing: the default seeded hasher, the tophash byte, and the map's own random stream.

use std::hash::{BuildHasher, Hasher};

use foldhash::fast::FixedState;

/// The default [`BuildHasher`] of [`GoMap`](crate::GoMap): foldhash's fast hasher with an explicit seed.
///
/// It is fast and of good quality, and, unlike std's `RandomState`, it can be seeded so that a seed
/// replays a map exactly.
///
/// ```
/// use std::hash::BuildHasher;
/// use map_core::DefaultHashBuilder;
/// let a = DefaultHashBuilder::with_seed(7);
/// let b = DefaultHashBuilder::with_seed(7);
/// assert_eq!(a.hash_one(42u64), b.hash_one(42u64));
/// ```
#[derive(Clone, Debug)]
pub struct DefaultHashBuilder {
    state: FixedState,
}

impl DefaultHashBuilder {
    /// A hasher whose every hash is fixed by `seed`.
    pub fn with_seed(seed: u64) -> Self {
        DefaultHashBuilder {
            state: FixedState::with_seed(seed),
        }
    }
}

impl Default for DefaultHashBuilder {
    /// A hasher seeded from the operating system, like std's `RandomState` (and like Go's `hash0`).
    fn default() -> Self {
        DefaultHashBuilder::with_seed(os_seed())
    }
}

impl BuildHasher for DefaultHashBuilder {
    type Hasher = <FixedState as BuildHasher>::Hasher;

    #[inline]
    fn build_hasher(&self) -> Self::Hasher {
        self.state.build_hasher()
    }
}

/// A seed drawn from the operating system, for the constructors that are not given one.
pub(crate) fn os_seed() -> u64 {
    // std's RandomState is the portable way to reach the OS's randomness without a dependency.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x6d61_702d_636f_7265);
    hasher.finish()
}

/// splitmix64's output function: a bijective mixer used to derive independent streams from one seed.
#[inline]
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The increment of splitmix64's counter (the golden ratio), so that consecutive draws are far apart.
pub(crate) const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// Derives the hash seed of the default hasher from the map's seed, independent of the iteration stream.
pub(crate) fn hash_seed_from(seed: u64) -> u64 {
    mix64(seed ^ 0x5eed_0f4a_5400)
}
