//! A concurrent program: what each thread calls, drawn from one seed.
//!
//! Writer threads each run their own stream of plain ops; one reader thread creates and steps
//! cursors (and looks keys up) while they run. Everything here derives from the seed, so the same
//! seed gives the same calls on every run; only their interleaving, which real threads decide,
//! differs.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::program::{HasherMode, HasherSet};

/// An op of a writer thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriterOp {
    /// `insert(key, value)`.
    Insert { key: u64, value: u64 },
    /// `remove(key)`.
    Remove { key: u64 },
    /// `get(key)`.
    Get { key: u64 },
    /// `clear()`.
    Clear,
}

/// An op of the reader thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReaderOp {
    /// Create a cursor on handle `cursor`, dropping the one it named.
    CursorNew { cursor: u8 },
    /// Advance cursor `cursor` up to `steps` times, stopping at its end.
    CursorStep { cursor: u8, steps: u16 },
    /// Drop cursor `cursor`.
    CursorDrop { cursor: u8 },
    /// `get(key)`.
    Get { key: u64 },
}

/// How many cursor handles the reader uses.
pub const READER_CURSORS: u8 = 2;

/// One seed's concurrent program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConcurrentProgram {
    /// The seed it was drawn from.
    pub seed: u64,
    /// The capacity hint the map is created with.
    pub capacity: u64,
    /// The hasher mode and seed of the map (for targets that take a hasher).
    pub hasher: HasherMode,
    /// Seed of the map's hasher.
    pub hash_seed: u64,
    /// Entries inserted, in order, before any thread starts.
    pub prefill: Vec<(u64, u64)>,
    /// Per writer thread, its ops in order.
    pub writers: Vec<Vec<WriterOp>>,
    /// The reader thread's ops in order.
    pub reader: Vec<ReaderOp>,
}

/// Values are unique over a program: the thread (0 for the prefill, 1.. for writers) in the high
/// bits, a counter below. A yielded value then names the one store that stored it.
fn value_of(thread: usize, counter: u64) -> u64 {
    ((thread as u64 + 1) << 40) | counter
}

impl ConcurrentProgram {
    /// Replaces the program's hasher mode by one of `hashers` if it is not one of them, as
    /// [`HasherSet::allow`] picks it.
    pub fn restrict_hashers(&mut self, hashers: HasherSet) {
        self.hasher = hashers.allow(self.hasher, self.hash_seed);
    }

    /// The program of `seed` with `threads` writer threads.
    ///
    /// Writers mostly insert keys no one has inserted yet, so the map keeps growing (a concurrent
    /// map's hardest moments are its resizes) while the prefilled keys stay put for the reader's
    /// cursors to owe; some ops update, remove or look up keys at random, and a rare one clears.
    pub fn generate(seed: u64, threads: usize) -> ConcurrentProgram {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x636f_6e63_7572_7265);
        let prefill_len = rng.gen_range(0..64u64);
        let ops_per_writer = rng.gen_range(64..1500usize);
        let capacity = if rng.gen_bool(0.5) {
            0
        } else {
            rng.gen_range(0..64)
        };
        let hasher = match rng.gen_range(0..8) {
            0 => HasherMode::CollideLowBits,
            _ => HasherMode::Seeded,
        };
        let hash_seed = rng.gen();
        let prefill: Vec<(u64, u64)> = (0..prefill_len).map(|k| (k, value_of(0, k))).collect();
        let clear_per_mille = if rng.gen_bool(0.2) { 2 } else { 0 };
        let mut writers = Vec::with_capacity(threads);
        for thread in 0..threads {
            // Each writer has its own range of fresh keys, above the prefill.
            let mut fresh = 1_000_000 * (thread as u64 + 1);
            let mut ops = Vec::with_capacity(ops_per_writer);
            for counter in 0..ops_per_writer as u64 {
                let known = prefill_len + 64;
                let op = match rng.gen_range(0..1000u32) {
                    n if n < clear_per_mille => WriterOp::Clear,
                    n if n < 550 => {
                        fresh += 1;
                        WriterOp::Insert {
                            key: fresh,
                            value: value_of(thread + 1, counter),
                        }
                    }
                    n if n < 700 => WriterOp::Insert {
                        key: rng.gen_range(0..known),
                        value: value_of(thread + 1, counter),
                    },
                    n if n < 850 => WriterOp::Remove {
                        key: if rng.gen_bool(0.5) {
                            rng.gen_range(0..known)
                        } else {
                            rng.gen_range(1_000_000 * (thread as u64 + 1)..=fresh)
                        },
                    },
                    _ => WriterOp::Get {
                        key: rng.gen_range(0..known),
                    },
                };
                ops.push(op);
            }
            writers.push(ops);
        }
        let reader_len = rng.gen_range(16..256usize);
        let reader = (0..reader_len)
            .map(|_| {
                let cursor = rng.gen_range(0..READER_CURSORS);
                match rng.gen_range(0..100u32) {
                    0..=19 => ReaderOp::CursorNew { cursor },
                    20..=84 => ReaderOp::CursorStep {
                        cursor,
                        steps: rng.gen_range(1..64),
                    },
                    85..=89 => ReaderOp::CursorDrop { cursor },
                    _ => ReaderOp::Get {
                        key: rng.gen_range(0..prefill_len + 64),
                    },
                }
            })
            .collect();
        ConcurrentProgram {
            seed,
            capacity,
            hasher,
            hash_seed,
            prefill,
            writers,
            reader,
        }
    }

    /// Stores in the program, prefill included: a bound on what any cursor can yield.
    pub fn stores(&self) -> u64 {
        let writes = self
            .writers
            .iter()
            .flatten()
            .filter(|op| matches!(op, WriterOp::Insert { .. }))
            .count();
        (self.prefill.len() + writes) as u64
    }

    /// Calls in the program, prefill and the end included: what the log will hold at most,
    /// cursor steps aside.
    pub fn calls(&self) -> usize {
        self.prefill.len() + self.writers.iter().map(Vec::len).sum::<usize>() + self.reader.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricting_the_hashers_changes_only_a_hasher_outside_the_set() {
        let seeded = HasherSet::parse("seeded").unwrap();
        let colliding = (0..200)
            .map(|seed| ConcurrentProgram::generate(seed, 2))
            .find(|p| p.hasher == HasherMode::CollideLowBits)
            .expect("one in eight programs collides");
        let mut restricted = colliding.clone();
        restricted.restrict_hashers(seeded);
        assert_eq!(restricted.hasher, HasherMode::Seeded);
        assert_eq!(
            ConcurrentProgram {
                hasher: HasherMode::Seeded,
                ..colliding.clone()
            },
            restricted
        );
        let mut all = colliding.clone();
        all.restrict_hashers(HasherSet::ALL);
        assert_eq!(all, colliding);
    }

    #[test]
    fn a_seed_gives_one_program_with_unique_values() {
        let a = ConcurrentProgram::generate(7, 2);
        assert_eq!(a, ConcurrentProgram::generate(7, 2));
        assert_ne!(a, ConcurrentProgram::generate(8, 2));
        assert_eq!(a.writers.len(), 2);
        let mut values: Vec<u64> = a.prefill.iter().map(|&(_, v)| v).collect();
        for op in a.writers.iter().flatten() {
            if let WriterOp::Insert { value, .. } = op {
                values.push(*value);
            }
        }
        let all = values.len();
        values.sort_unstable();
        values.dedup();
        assert_eq!(values.len(), all, "every store stores a value of its own");
    }
}
