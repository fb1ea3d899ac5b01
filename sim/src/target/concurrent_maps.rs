//! Concurrent maps from crates.io as in-process targets: papaya's and flurry's `HashMap`, each
//! with its own iterator as the cursor, kept across steps while the map changes between them.
//!
//! Both promise weakly consistent iteration (semantics.md §7), not Go's rules (§2): each
//! target's doc quotes its crate's documentation and names the W1 strength it declares.
//!
//! They are behind sim's `concurrent-maps` feature, because they add dependencies to the build.
//! Without it their names are still known: `sim targets` lists them with how to enable them, and
//! `--target papaya` is an error (exit 2) naming the feature, not "unknown target".
//!
//! Two ownership problems are solved the same way in both, with no `unsafe` of ours: an iterator
//! borrows a guard, which borrows the map, and a cursor outlives the call that made it. The map
//! sits in an `Arc` that the target and every cursor share; a cursor is a [`self_cell`] whose
//! owner is a smaller cell (the `Arc`'d map and its guard, the guard borrowing the map) and whose
//! dependent is the iterator borrowing both. The target's own ops pin the map afresh each time,
//! so the map changes "through other pins" between a cursor's steps, as it would in a program
//! with several threads.

/// `Shared`, the map of a concurrent run (`sim run --threads N`), for a module whose `Map` has
/// papaya's and flurry's common API (`pin()`, then `insert`, `remove`, `get`, `clear`, `iter`)
/// and whose `Cursor` is an owned iterator (`Cursor::over`, `Cursor::next`).
#[cfg(feature = "concurrent-maps")]
macro_rules! shared_map {
    () => {
        /// The map for a concurrent run (`sim run --threads N`): every thread calls it through
        /// pins of its own, and each cursor is an owned iterator, stepped by the thread that made it.
        pub struct Shared(Arc<Map>);

        impl Shared {
            /// A map with the program's capacity hint and seeded hasher.
            pub fn new(capacity: u64, hasher: SimHasher) -> Self {
                Shared(Arc::new(Map::with_capacity_and_hasher(
                    capacity as usize,
                    hasher,
                )))
            }
        }

        /// The cursor as the reader thread steps it.
        struct Stepped(Cursor);

        impl Iterator for Stepped {
            type Item = (u64, u64);

            fn next(&mut self) -> Option<(u64, u64)> {
                self.0.next()
            }
        }

        impl ConcurrentMap for Shared {
            fn insert(&self, key: u64, value: u64) -> Option<u64> {
                self.0.pin().insert(key, value).copied()
            }
            fn remove(&self, key: u64) -> Option<u64> {
                self.0.pin().remove(&key).copied()
            }
            fn get(&self, key: u64) -> Option<u64> {
                self.0.pin().get(&key).copied()
            }
            fn clear(&self) {
                self.0.pin().clear();
            }
            fn contents(&self) -> Vec<(u64, u64)> {
                self.0.pin().iter().map(|(&k, &v)| (k, v)).collect()
            }
            fn cursor(&self) -> Box<dyn Iterator<Item = (u64, u64)> + '_> {
                Box::new(Stepped(Cursor::over(&self.0)))
            }
        }
    };
}

/// The single-threaded target `$target` (named `$name`, described by `TARGETS[$about]`) for a
/// module with the same `Map` and `Cursor` as [`shared_map`]'s: each op pins the map afresh, the
/// program's cursors are owned iterators kept across the ops between their steps.
#[cfg(feature = "concurrent-maps")]
macro_rules! target_map {
    ($target:ident, $name:literal, $about:literal) => {
        pub(crate) const INFO: TargetInfo = TargetInfo {
            name: $name,
            about: super::TARGETS[$about].1,
            capabilities: Capabilities {
                cursors: true,
                contract: Contract::Weak(NoRepeat::PerElement),
                ..Capabilities::PLAIN
            },
            create: |program| Ok(Box::new($target::new(program))),
            check_available: crate::target::always_available,
        };

        #[doc = concat!("`", $name, "`'s `HashMap`, hashed by the program's hasher, and the program's cursors on it.")]
        pub struct $target {
            map: Arc<Map>,
            cursors: [Option<Cursor>; MAX_CURSORS],
        }

        impl $target {
            /// The program's map: its capacity hint and its seeded hasher.
            pub fn new(program: &Program) -> Self {
                let config = &program.config;
                $target {
                    map: Arc::new(Map::with_capacity_and_hasher(
                        config.initial_capacity as usize,
                        SimHasher::new(config.hasher, config.hasher_seed),
                    )),
                    cursors: Default::default(),
                }
            }
        }

        impl Target for $target {
            fn insert(&mut self, key: u64, value: u64) -> Option<u64> {
                self.map.pin().insert(key, value).copied()
            }

            fn remove(&mut self, key: u64) -> Option<u64> {
                self.map.pin().remove(&key).copied()
            }

            fn get(&mut self, key: u64) -> Option<u64> {
                self.map.pin().get(&key).copied()
            }

            fn clear(&mut self) {
                self.map.pin().clear();
            }

            fn len(&mut self) -> usize {
                self.map.len()
            }

            fn contents(&mut self) -> Vec<(u64, u64)> {
                self.map.pin().iter().map(|(&k, &v)| (k, v)).collect()
            }

            fn cursor_new(&mut self, cursor: CursorId) {
                // The old cursor goes first, so that its guard is not held while the new one pins.
                self.cursors[cursor.index()] = None;
                self.cursors[cursor.index()] = Some(Cursor::over(&self.map));
            }

            fn cursor_next(&mut self, cursor: CursorId) -> Option<(u64, u64)> {
                self.cursors[cursor.index()]
                    .as_mut()
                    .expect("the executor steps only cursors that exist")
                    .next()
            }

            fn cursor_drop(&mut self, cursor: CursorId, _coverage: &mut crate::coverage::Coverage) {
                self.cursors[cursor.index()] = None;
            }
        }
    };
}

#[cfg(feature = "concurrent-maps")]
mod flurry;
#[cfg(feature = "concurrent-maps")]
mod papaya;

#[cfg(feature = "concurrent-maps")]
pub(super) use self::flurry::INFO as FLURRY_INFO;
#[cfg(feature = "concurrent-maps")]
pub(super) use self::papaya::INFO as PAPAYA_INFO;
#[cfg(feature = "concurrent-maps")]
pub use self::{flurry::FlurryTarget, papaya::PapayaTarget};
#[cfg(feature = "concurrent-maps")]
pub use self::{flurry::Shared as SharedFlurry, papaya::Shared as SharedPapaya};

/// The cargo feature of sim that builds these targets in.
pub const FEATURE: &str = "concurrent-maps";

/// The targets this feature adds, with the line `sim targets` prints for each.
pub const TARGETS: [(&str, &str); 2] = [
    (
        "papaya",
        "papaya::HashMap (crates.io) in process, its iterator as the cursor: §7, W1 per element",
    ),
    (
        "flurry",
        "flurry::HashMap (crates.io; Java's ConcurrentHashMap) in process: §7, W1 per element",
    ),
];

/// Whether sim was built with [`FEATURE`].
pub const BUILT: bool = cfg!(feature = "concurrent-maps");

/// Why target `name` cannot be had in this build, if it is one of [`TARGETS`] and the feature is
/// off: the error `--target NAME` reports.
pub fn not_built(name: &str) -> Option<String> {
    (!BUILT && TARGETS.iter().any(|&(n, _)| n == name)).then(|| {
        format!(
            "target `{name}` is not built into this sim: it needs sim's `{FEATURE}` feature \
             (cargo run --release -p sim --features {FEATURE} -- ...)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_built_names_the_feature_only_for_these_targets_and_only_without_it() {
        for (name, _) in TARGETS {
            let why = not_built(name);
            assert_eq!(why.is_some(), !BUILT, "{name}");
            if let Some(why) = why {
                assert!(why.contains(FEATURE) && why.contains(name), "{why}");
            }
        }
        assert_eq!(not_built("map-core"), None);
        assert_eq!(not_built("nope"), None);
    }
}
