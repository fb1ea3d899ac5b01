//! The generator: a seed draws a [`Config`] (swarm testing), then the ops.
//!
//! Everything comes from one `ChaCha8Rng` seeded with the seed, the map's own seed included, so a
//! seed fixes the program exactly on any machine. The draws are biased towards the states where
//! bugs of the Go algorithm live (see [`crate::coverage`]): colliding hashers for overflow chains
//! and same-size growth, bursts of inserts for natural growth, forced growth and slow cursors so
//! that growth happens during iteration, and re-inserts of recently removed keys.

use indexmap::IndexMap;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::op::{CursorId, Op, OpKind, MAX_CURSORS};
use crate::program::{Config, HasherMode, OpWeights, Program};
use crate::target::{Capabilities, TargetInfo, DEFAULT_TARGET};

/// Draws the program of `seed`: its config, then its ops.
pub fn generate(seed: u64) -> Program {
    generate_for(seed, crate::target::default_target())
}

/// Draws the program of `seed` for `target`: the config is drawn as for [`generate`], then the
/// op kinds the target lacks are switched off before the ops are drawn, so a seed gives the same
/// program on every target with the same capabilities.
pub fn generate_for(seed: u64, target: &TargetInfo) -> Program {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut config = draw_config(&mut rng);
    config.seed = Some(seed);
    restrict_to(&mut config, &target.capabilities);
    config.target = target.name.to_string();
    let ops = draw_ops(&config, &mut rng);
    Program::new(config, ops)
}

/// Switches off the op kinds a target lacks (`max-cursors 0` without cursors).
pub fn restrict_to(config: &mut Config, capabilities: &Capabilities) {
    for kind in OpKind::ALL {
        if !capabilities.supports(kind) {
            config.weights.set(kind, 0);
        }
    }
    if !capabilities.cursors {
        config.max_cursors = 0;
    }
}

/// Draws `config.len` ops for a given config from `seed` (for benchmarks and tests that fix the
/// workload, e.g. plain ops only with [`OpWeights::plain`]).
pub fn generate_with(config: &Config, seed: u64) -> Program {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let ops = draw_ops(config, &mut rng);
    Program::new(config.clone(), ops)
}

/// Picks an index with probability proportional to its weight; the weights must not all be 0.
fn weighted(rng: &mut ChaCha8Rng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut roll = rng.gen_range(0..total);
    for (i, &w) in weights.iter().enumerate() {
        if roll < w {
            return i;
        }
        roll -= w;
    }
    unreachable!("roll < total")
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    items[rng.gen_range(0..items.len())]
}

fn draw_config(rng: &mut ChaCha8Rng) -> Config {
    let map_seed = rng.gen();
    let hasher_seed = rng.gen();
    let hasher = HasherMode::ALL[weighted(rng, &[45, 25, 15, 15])];
    // Colliding hashers make every op walk long chains: keep their maps small.
    let key_space: u64 = match hasher {
        HasherMode::Seeded => pick(rng, &[4, 8, 16, 64, 256, 1024, 4096, 16384]),
        HasherMode::CollideLowBits => pick(rng, &[16, 64, 128, 256, 512]),
        HasherMode::CollideTophash => pick(rng, &[8, 16, 32, 64, 128, 512]),
        HasherMode::Constant => pick(rng, &[4, 8, 16, 32, 64]),
    };
    let len = rng.gen_range(100..=400) + rng.gen_range(0..=3 * key_space.min(2000)) as u32;
    let initial_capacity = match rng.gen_range(0..4) {
        0 | 1 => 0,
        2 => 8,
        _ => rng.gen_range(0..=key_space.min(4096)) as u32,
    };
    let max_cursors = [0, 1, 1, 2, 2, 2, 3, 3, 4, 4][rng.gen_range(0..10)];
    // An audit walks the whole map: audit big maps less often.
    let audit_every = pick(rng, &[1, 1, 2, 8]) * (1 + (key_space / 256) as u32);
    let weights = draw_weights(rng, max_cursors);
    Config {
        seed: None,
        map_seed,
        hasher,
        hasher_seed,
        initial_capacity,
        key_space,
        max_cursors,
        audit_every,
        weights,
        len,
        fault: None,
        target: DEFAULT_TARGET.to_string(),
    }
}

/// Swarm testing: each kind is switched off with some probability, so that runs differ in what
/// they stress instead of all averaging the same mix.
fn draw_weights(rng: &mut ChaCha8Rng, max_cursors: u8) -> OpWeights {
    let mut weights = OpWeights::default();
    for kind in OpKind::ALL {
        let (on, low, high) = match kind {
            OpKind::Insert => (1.0, 6, 16),
            OpKind::Remove => (0.85, 1, 10),
            OpKind::Get => (0.7, 1, 6),
            OpKind::Clear => (0.5, 1, 1),
            OpKind::CursorNew | OpKind::CursorDrop => (1.0, 1, 3),
            OpKind::CursorStep => (1.0, 3, 12),
            OpKind::ForceGrow | OpKind::ForceSameSizeGrow => (0.6, 1, 2),
            OpKind::EvacuateStep => (0.7, 1, 6),
            OpKind::Audit => (0.3, 1, 1),
            // The Rust map API: each on in about a third of the programs, rarely heavy.
            OpKind::CloneInsert | OpKind::CloneRemove => (0.35, 1, 4),
            OpKind::GetMut | OpKind::ContainsKey | OpKind::Index | OpKind::Extend => (0.35, 1, 3),
            OpKind::Iter | OpKind::Clone | OpKind::Eq | OpKind::FromIter => (0.35, 1, 1),
        };
        let is_cursor_op = matches!(
            kind,
            OpKind::CursorNew | OpKind::CursorStep | OpKind::CursorDrop
        );
        if (is_cursor_op && max_cursors == 0) || !rng.gen_bool(on) {
            continue;
        }
        weights.set(kind, rng.gen_range(low..=high));
    }
    weights
}

/// The keys a program has made present, and those it removed lately: what the generator aims its
/// ops at (the throughput benchmark's proptest side aims its ops with it too).
///
/// Both lists are in an order that follows the ops alone (an insert appends, a remove moves the
/// last present key into the removed one's place), so a seed picks the same keys on any machine.
#[derive(Clone, Debug)]
pub struct KeyPool {
    present: Vec<u64>,
    position: Positions,
    /// Oldest first.
    removed: Vec<u64>,
}

/// Where each present key is in [`KeyPool::present`].
#[derive(Clone, Debug)]
enum Positions {
    /// Indexed by key (`NOT_PRESENT` or `RECENTLY_REMOVED` for an absent key): the generator
    /// updates it on nearly every op, and an array index is several times cheaper than a hashed
    /// lookup.
    Dense(Vec<u32>),
    /// For key spaces too large to index (lookups only: never iterated).
    Hashed(IndexMap<u64, u32, foldhash::fast::FixedState>),
}

/// In a dense index: an absent key that is not in the removed list.
const NOT_PRESENT: u32 = u32::MAX;
/// In a dense index: an absent key in the removed list, so that an insert looks for it there
/// only then.
const RECENTLY_REMOVED: u32 = u32::MAX - 1;

impl Positions {
    /// Largest key space indexed by key: 256 KiB of positions.
    const DENSE_KEYS: u64 = 1 << 16;

    fn get(&self, key: u64) -> Option<u32> {
        match self {
            Positions::Dense(by_key) => by_key
                .get(key as usize)
                .copied()
                .filter(|&i| i < RECENTLY_REMOVED),
            Positions::Hashed(map) => map.get(&key).copied(),
        }
    }

    /// Sets the position of `key`, which must be in the pool's key space.
    fn set(&mut self, key: u64, position: u32) {
        match self {
            Positions::Dense(by_key) => by_key[key as usize] = position,
            Positions::Hashed(map) => {
                map.insert(key, position);
            }
        }
    }

    /// Marks `key` absent, and whether it is in the removed list.
    fn unset(&mut self, key: u64, in_removed: bool) {
        match self {
            Positions::Dense(by_key) => {
                by_key[key as usize] = if in_removed {
                    RECENTLY_REMOVED
                } else {
                    NOT_PRESENT
                }
            }
            Positions::Hashed(map) => {
                map.swap_remove(&key);
            }
        }
    }

    /// Whether absent `key` may be in the removed list.
    fn maybe_in_removed(&self, key: u64) -> bool {
        match self {
            Positions::Dense(by_key) => by_key[key as usize] == RECENTLY_REMOVED,
            Positions::Hashed(_) => true,
        }
    }
}

impl KeyPool {
    /// How many recently removed keys are kept for re-inserts.
    pub const REMOVED_KEPT: usize = 16;

    /// An empty pool for keys in `0..key_space`.
    pub fn new(key_space: u64) -> KeyPool {
        let position = if key_space <= Positions::DENSE_KEYS {
            Positions::Dense(vec![NOT_PRESENT; key_space as usize])
        } else {
            Positions::Hashed(IndexMap::default())
        };
        KeyPool {
            present: Vec::new(),
            position,
            removed: Vec::new(),
        }
    }

    /// Records an insert of `key` (in the pool's key space); returns whether it was absent.
    pub fn insert(&mut self, key: u64) -> bool {
        if self.position.get(key).is_some() {
            return false;
        }
        let in_removed = self.position.maybe_in_removed(key);
        self.position.set(key, self.present.len() as u32);
        self.present.push(key);
        // A key is in `removed` only while absent, and at most once.
        if in_removed {
            if let Some(i) = self.removed.iter().position(|&k| k == key) {
                self.removed.remove(i);
            }
        }
        true
    }

    /// Records a remove of `key`.
    pub fn remove(&mut self, key: u64) {
        let Some(i) = self.position.get(key) else {
            return;
        };
        self.present.swap_remove(i as usize);
        if let Some(&moved) = self.present.get(i as usize) {
            self.position.set(moved, i);
        }
        self.push_removed(key);
    }

    /// Records a clear: every present key becomes a removed one.
    pub fn clear(&mut self) {
        // Only the last keys pushed stay in `removed`: push just those.
        let pushed = self.present.len().saturating_sub(Self::REMOVED_KEPT);
        for i in 0..pushed {
            let key = self.present[i];
            self.position.unset(key, false);
        }
        for i in pushed..self.present.len() {
            self.push_removed(self.present[i]);
        }
        self.present.clear();
    }

    /// Appends absent `key` to the removed list, dropping the oldest when full.
    fn push_removed(&mut self, key: u64) {
        if self.removed.len() == Self::REMOVED_KEPT {
            let dropped = self.removed.remove(0);
            self.position.unset(dropped, false);
        }
        self.removed.push(key);
        self.position.unset(key, true);
    }

    /// How many keys are present.
    pub fn len(&self) -> usize {
        self.present.len()
    }

    /// Whether no key is present.
    pub fn is_empty(&self) -> bool {
        self.present.is_empty()
    }

    /// The present key at `index` (`0..len()`).
    pub fn present(&self, index: usize) -> u64 {
        self.present[index]
    }

    /// How many keys removed or cleared lately and not inserted since are kept (at most
    /// [`Self::REMOVED_KEPT`]).
    pub fn removed_len(&self) -> usize {
        self.removed.len()
    }

    /// The kept removed key at `index` (`0..removed_len()`), oldest first.
    pub fn removed(&self, index: usize) -> u64 {
        self.removed[index]
    }
}

/// The generator's view of the program so far, to aim ops at present keys and live cursors.
struct State {
    keys: KeyPool,
    live: [bool; MAX_CURSORS],
    next_value: u64,
    /// An estimate of the map's B (log2 of its bucket count), to keep forced growth from
    /// inflating a small map: the map's memory grows with every forced doubling.
    log_buckets: u32,
}

impl State {
    fn add_present(&mut self, key: u64) {
        if self.keys.insert(key) && over_load_factor(self.keys.len() as u64, self.log_buckets) {
            self.log_buckets += 1;
        }
    }
}

fn draw_ops(config: &Config, rng: &mut ChaCha8Rng) -> Vec<Op> {
    let len = config.len as usize;
    let kinds: Vec<u32> = OpKind::ALL
        .iter()
        .map(|&k| u32::from(config.weights.get(k)))
        .collect();
    if kinds.iter().all(|&w| w == 0) {
        return Vec::new();
    }
    let mut state = State {
        keys: KeyPool::new(config.key_space),
        live: [false; MAX_CURSORS],
        next_value: 1,
        log_buckets: (0..)
            .find(|&b| !over_load_factor(u64::from(config.initial_capacity), b))
            .unwrap_or(0),
    };
    let handles = usize::from(config.max_cursors).min(MAX_CURSORS);
    let mut ops = Vec::with_capacity(len);
    while ops.len() < len {
        let kind = OpKind::ALL[weighted(rng, &kinds)];
        match kind {
            OpKind::Insert => {
                // Bursts of inserts drive the map over its load factor: natural growth.
                let burst = if rng.gen_bool(0.15) {
                    rng.gen_range(2..=16)
                } else {
                    1
                };
                for _ in 0..burst.min(len - ops.len()) {
                    let removed = state.keys.removed_len();
                    let key = if removed > 0 && rng.gen_bool(0.25) {
                        state.keys.removed(rng.gen_range(0..removed))
                    } else {
                        rng.gen_range(0..config.key_space)
                    };
                    state.add_present(key);
                    ops.push(Op::Insert {
                        key,
                        value: state.next_value,
                    });
                    state.next_value += 1;
                }
            }
            OpKind::Remove => {
                let key = present_or_any(rng, &state, config.key_space, 0.8);
                state.keys.remove(key);
                ops.push(Op::Remove { key });
            }
            OpKind::Get => ops.push(Op::Get {
                key: present_or_any(rng, &state, config.key_space, 0.5),
            }),
            OpKind::Clear => {
                state.keys.clear();
                ops.push(Op::Clear);
            }
            OpKind::CursorNew if handles > 0 => {
                let free: Vec<usize> = (0..handles).filter(|&c| !state.live[c]).collect();
                let c = if free.is_empty() {
                    rng.gen_range(0..handles)
                } else {
                    pick(rng, &free)
                };
                state.live[c] = true;
                ops.push(Op::CursorNew {
                    cursor: CursorId::ALL[c],
                });
            }
            OpKind::CursorStep if handles > 0 => {
                let c = live_or_any(rng, &state, handles);
                // Mostly slow cursors, so the map changes and grows under them; sometimes a drain.
                let steps = match rng.gen_range(0..20) {
                    0 => 1000,
                    1..=4 => rng.gen_range(4..=32),
                    _ => rng.gen_range(1..=3),
                };
                ops.push(Op::CursorStep {
                    cursor: CursorId::ALL[c],
                    steps,
                });
            }
            OpKind::CursorDrop if handles > 0 => {
                let c = live_or_any(rng, &state, handles);
                state.live[c] = false;
                ops.push(Op::CursorDrop {
                    cursor: CursorId::ALL[c],
                });
            }
            OpKind::CursorNew | OpKind::CursorStep | OpKind::CursorDrop => {}
            OpKind::ForceGrow => {
                // Doubling a map that has a bucket per entry already only costs memory.
                if 1u64 << state.log_buckets.min(63) <= (state.keys.len() as u64).max(8) {
                    state.log_buckets += 1;
                    ops.push(Op::ForceGrow);
                }
            }
            OpKind::ForceSameSizeGrow => ops.push(Op::ForceSameSizeGrow),
            OpKind::EvacuateStep => ops.push(Op::EvacuateStep),
            OpKind::Audit => ops.push(Op::Audit),
            _ => ops.push(draw_api_op(kind, rng, &mut state, config.key_space)),
        }
    }
    ops
}

/// An op of the Rust map API ([`OpKind::is_api`]), aimed like the plain ops: lookups and writes
/// mostly at present keys, `extend` and `from-iter` over a run of keys that repeat.
fn draw_api_op(kind: OpKind, rng: &mut ChaCha8Rng, state: &mut State, key_space: u64) -> Op {
    let value = state.next_value;
    state.next_value += 1;
    match kind {
        OpKind::GetMut => Op::GetMut {
            key: present_or_any(rng, state, key_space, 0.8),
            value,
        },
        OpKind::ContainsKey => Op::ContainsKey {
            key: present_or_any(rng, state, key_space, 0.6),
        },
        OpKind::Index => Op::Index {
            key: present_or_any(rng, state, key_space, 0.8),
        },
        OpKind::CloneInsert => Op::CloneInsert {
            key: present_or_any(rng, state, key_space, 0.5),
            value,
        },
        OpKind::CloneRemove => Op::CloneRemove {
            key: present_or_any(rng, state, key_space, 0.7),
        },
        OpKind::Extend | OpKind::FromIter => {
            // Every key of the run stays in the key space (the key pool indexes only those).
            let count = rng.gen_range(1..=40.min(2 * key_space) as u8);
            let keys = u64::from(count).div_ceil(2);
            let key = rng.gen_range(0..key_space.saturating_sub(keys).max(1));
            state.next_value += u64::from(count);
            if kind == OpKind::FromIter {
                return Op::FromIter { key, count, value };
            }
            for (k, _) in Op::entries(key, count, value) {
                state.add_present(k);
            }
            Op::Extend { key, count, value }
        }
        OpKind::Iter => Op::Iter,
        OpKind::Clone => Op::Clone,
        OpKind::Eq => Op::Eq,
        _ => unreachable!("draw_ops draws the other kinds itself"),
    }
}

/// Go's `overLoadFactor`: more than 8 entries and more than 6.5 per bucket.
fn over_load_factor(count: u64, log_buckets: u32) -> bool {
    count > 8 && count.saturating_mul(2) > 13u64.saturating_mul(1u64 << log_buckets.min(58))
}

fn present_or_any(rng: &mut ChaCha8Rng, state: &State, key_space: u64, p_present: f64) -> u64 {
    if !state.keys.is_empty() && rng.gen_bool(p_present) {
        state.keys.present(rng.gen_range(0..state.keys.len()))
    } else {
        rng.gen_range(0..key_space)
    }
}

fn live_or_any(rng: &mut ChaCha8Rng, state: &State, handles: usize) -> usize {
    let live: Vec<usize> = (0..handles).filter(|&c| state.live[c]).collect();
    if live.is_empty() {
        rng.gen_range(0..handles)
    } else {
        pick(rng, &live)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_fixes_the_program() {
        for seed in 0..20 {
            assert_eq!(generate(seed), generate(seed));
        }
        assert_ne!(generate(1), generate(2));
    }

    #[test]
    fn programs_have_their_configured_length_and_valid_configs() {
        for seed in 0..50 {
            let p = generate(seed);
            assert_eq!(p.ops.len(), p.config.len as usize, "seed {seed}");
            assert_eq!(p.config.validate(), Ok(()), "seed {seed}");
            assert_eq!(p.config.seed, Some(seed));
        }
    }

    #[test]
    fn key_pools_keep_the_same_lists_whether_indexed_by_key_or_hashed() {
        let mut dense = KeyPool::new(64);
        let mut hashed = KeyPool::new(Positions::DENSE_KEYS + 1);
        assert!(matches!(dense.position, Positions::Dense(_)));
        assert!(matches!(hashed.position, Positions::Hashed(_)));
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..5000 {
            let key = rng.gen_range(0..64);
            match rng.gen_range(0..20) {
                0 => {
                    dense.clear();
                    hashed.clear();
                }
                1..=11 => assert_eq!(dense.insert(key), hashed.insert(key)),
                _ => {
                    dense.remove(key);
                    hashed.remove(key);
                }
            }
            assert_eq!(dense.present, hashed.present);
            assert_eq!(dense.removed, hashed.removed);
            for (i, &key) in dense.present.iter().enumerate() {
                assert_eq!(dense.position.get(key), Some(i as u32));
            }
            for key in 0..64 {
                let in_removed = dense.removed.contains(&key);
                assert_eq!(
                    dense.position.maybe_in_removed(key),
                    in_removed,
                    "key {key}"
                );
                assert!(!in_removed || dense.position.get(key).is_none());
            }
            assert!(dense.removed.len() <= KeyPool::REMOVED_KEPT);
        }
    }

    #[test]
    fn generate_with_respects_the_weights() {
        let config = Config {
            weights: OpWeights::plain(3, 2, 1, 0),
            len: 500,
            ..Config::default()
        };
        let p = generate_with(&config, 9);
        assert_eq!(p.ops.len(), 500);
        assert!(p
            .ops
            .iter()
            .all(|op| matches!(op, Op::Insert { .. } | Op::Remove { .. } | Op::Get { .. })));
    }
}
