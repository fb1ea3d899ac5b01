//! The byte format of each target's input, read with `arbitrary::Unstructured` and written back by
//! [`encode`] (for seed corpora).
//!
//! Every byte string is a valid program, so no input is wasted on rejection:
//!
//! ```text
//! header  hasher:u8  map_seed:u64  hasher_seed:u64  capacity:u16       (19 bytes, little endian)
//! op      tag:u8 operands...                          (repeated until the input ends)
//! ```
//!
//! The tag picks an entry of the target's code table (`tag % table length`); the table repeats
//! codes to weight them. Operands: a key is 1 byte (2 for `differential`'s large key space), a
//! value 1 byte, a cursor handle 1 byte (`% 4`), a step count 1 byte (`+ 1`, so 1..=256). The code
//! `fill n base value` expands to `n + 1` inserts of consecutive keys from `base`, so that a short
//! input reaches the sizes where growth happens. The code `churn n base value` (corruption
//! only) expands to `n % 16 + 1` inserts of keys `CLASSES` apart from `base`, then their removes:
//! under the colliding hashers the keys share a chain, which outgrows its bucket and keeps the
//! overflow bucket after the removes, so a few rounds reach Go's overflow threshold (Go #16070;
//! a fuzzer does not find the round by mutation alone). A program keeps only its first
//! [`MAX_FORCED_GROWS`] `force-grow` ops: each doubles the bucket array whatever the map holds, and
//! an audit of a map grown a hundred times over costs milliseconds, not microseconds. A program
//! has at most 128 ops (64 for `differential` under the constant hasher, whose every op scans the
//! whole map; the rest of the input is not read) and is audited at an interval that makes at
//! most 8 audits besides the final one (see `Layout::audit_every`), so that an input runs in a
//! few hundred microseconds even with coverage instrumentation (BENCHMARKS.md, section 4).
//! Integers read past the end of the input are zero (arbitrary's rule), so a truncated op is
//! still an op.

use arbitrary::{Arbitrary, Unstructured};

use super::Target;
use crate::hasher::CLASSES;
use crate::op::{CursorId, Op, OpKind};
use crate::program::{Config, HasherMode, OpWeights, Program};

/// `extend` and `from-iter` take fewer entries than this: enough for repeated keys and a growth.
const MAX_EXTEND: u8 = 64;

/// A round of churn inserts at most this many keys: two buckets' worth, so a round can grow a
/// chain by two overflow buckets.
const MAX_CHURN: u8 = 16;

/// What one tag byte stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Code {
    /// One op of this kind, its operands read after the tag.
    Op(OpKind),
    /// A run of inserts of consecutive keys.
    Fill,
    /// A round of churn in one chain: inserts of keys a hash class apart, then their removes.
    Churn,
}

const INSERT: Code = Code::Op(OpKind::Insert);
const REMOVE: Code = Code::Op(OpKind::Remove);
const GET: Code = Code::Op(OpKind::Get);
const CLEAR: Code = Code::Op(OpKind::Clear);
const NEW: Code = Code::Op(OpKind::CursorNew);
const STEP: Code = Code::Op(OpKind::CursorStep);
const DROP: Code = Code::Op(OpKind::CursorDrop);
const GROW: Code = Code::Op(OpKind::ForceGrow);
const SAME: Code = Code::Op(OpKind::ForceSameSizeGrow);
const EVAC: Code = Code::Op(OpKind::EvacuateStep);
const FILL: Code = Code::Fill;
const CHURN: Code = Code::Churn;
const GET_MUT: Code = Code::Op(OpKind::GetMut);
const CONTAINS: Code = Code::Op(OpKind::ContainsKey);
const INDEX: Code = Code::Op(OpKind::Index);
const ITER: Code = Code::Op(OpKind::Iter);
const CLONE: Code = Code::Op(OpKind::Clone);
const CLONE_INSERT: Code = Code::Op(OpKind::CloneInsert);
const CLONE_REMOVE: Code = Code::Op(OpKind::CloneRemove);
const EQ: Code = Code::Op(OpKind::Eq);
const EXTEND: Code = Code::Op(OpKind::Extend);
const FROM_ITER: Code = Code::Op(OpKind::FromIter);

/// Structure-heavy: inserts and removes against forced growth and evacuation steps, and rounds
/// of churn that pile up overflow buckets. No cursors: this target is about the bucket arrays,
/// audited after every op of a short program and 8 times over a long one.
///
/// A code's first entry is the tag [`encode`] writes, so new codes go in place of a later
/// duplicate: the committed corpora keep their meaning.
const CORRUPTION_CODES: [Code; 32] = [
    INSERT, INSERT, INSERT, INSERT, INSERT, INSERT, INSERT, INSERT, INSERT, INSERT, //
    REMOVE, REMOVE, REMOVE, REMOVE, REMOVE, REMOVE, REMOVE, //
    GET, GET, CLEAR, //
    GROW, GROW, GROW, SAME, SAME, SAME, //
    EVAC, EVAC, EVAC, CHURN, FILL, FILL,
];

/// Cursors stepped between growth, removes, re-inserts and clears.
const DUPLICATE_YIELD_CODES: [Code; 32] = [
    INSERT, INSERT, INSERT, INSERT, INSERT, INSERT, INSERT, //
    REMOVE, REMOVE, REMOVE, REMOVE, REMOVE, CLEAR, //
    NEW, NEW, NEW, STEP, STEP, STEP, STEP, STEP, STEP, STEP, STEP, DROP, //
    GROW, GROW, SAME, EVAC, EVAC, FILL, FILL,
];

/// Plain ops and the map API (lookups, writes through get_mut, clones, equality, extend and
/// collect) over a large key space: growth happens naturally, as in real use.
const DIFFERENTIAL_CODES: [Code; 32] = [
    INSERT,
    INSERT,
    INSERT,
    INSERT,
    INSERT,
    INSERT,
    INSERT,
    INSERT,
    INSERT, //
    REMOVE,
    REMOVE,
    REMOVE,
    REMOVE,
    REMOVE,
    REMOVE,
    GET,
    GET,
    GET,
    CLEAR,
    FILL,
    FILL, //
    GET_MUT,
    CONTAINS,
    INDEX,
    ITER,
    CLONE,
    CLONE_INSERT,
    CLONE_REMOVE,
    EQ,
    EXTEND,
    FROM_ITER, //
    FILL,
];

/// The fixed parts of a target's programs and the shape of its input.
struct Layout {
    codes: &'static [Code],
    /// Bytes per key: keys are `0..256^key_bytes`.
    key_bytes: usize,
    max_capacity: u32,
    /// Audits a program gets at most before its end (see [`Layout::audit_every`]); 0 for none.
    max_audits: u32,
    max_cursors: u8,
    /// Ops per program, at most: a bound on run time whatever the fills expand to.
    max_ops: usize,
    /// Ops per program under the constant hasher, at most: every key is then in one chain, which
    /// every op scans, so a program's cost grows with the square of its length.
    max_ops_constant_hash: usize,
}

impl Layout {
    fn of(target: Target) -> Layout {
        match target {
            Target::Corruption => Layout {
                codes: &CORRUPTION_CODES,
                key_bytes: 1,
                max_capacity: 256,
                max_audits: 8,
                max_cursors: 0,
                max_ops: 128,
                max_ops_constant_hash: 128,
            },
            Target::DuplicateYield => Layout {
                codes: &DUPLICATE_YIELD_CODES,
                key_bytes: 1,
                max_capacity: 256,
                max_audits: 8,
                max_cursors: MAX_HANDLES,
                max_ops: 128,
                max_ops_constant_hash: 128,
            },
            Target::Differential => Layout {
                codes: &DIFFERENTIAL_CODES,
                key_bytes: 2,
                // Room for twice the entries a program can insert: presized maps that never grow
                // are covered, and no input spends its time allocating and auditing an array of
                // a thousand empty buckets.
                max_capacity: 256,
                // The audit is the corruption target's job; here it would dominate the run time,
                // so a program is audited only at its end (by the executor).
                max_audits: 0,
                max_cursors: 0,
                max_ops: 128,
                // Four maps (executor and model, oracle and std) apply every op, and this
                // target's time went mostly to its constant-hash inputs; 64 ops still grow the
                // map four times.
                max_ops_constant_hash: 64,
            },
        }
    }

    /// The audit interval of a program of `ops` ops: every op while that makes at most
    /// `max_audits` audits, then evenly spaced so that there are no more. An audit walks every
    /// bucket, and the map holds up to as many entries as there were ops, so auditing after every
    /// op of a long program costs the square of its length; this keeps the audits' total cost
    /// bounded, while the short programs that find bugs are still audited after every op (and
    /// every program at its end, by the executor).
    fn audit_every(&self, ops: usize) -> u32 {
        let ops = u32::try_from(ops).unwrap_or(u32::MAX);
        if self.max_audits == 0 {
            // Past the last op: the interval never comes round.
            return ops.saturating_add(1);
        }
        ops.div_ceil(self.max_audits).max(1)
    }

    /// The op limit of a program hashed by `hasher`.
    fn op_limit(&self, hasher: HasherMode) -> usize {
        match hasher {
            HasherMode::Constant => self.max_ops_constant_hash,
            _ => self.max_ops,
        }
    }

    fn key_space(&self) -> u64 {
        1 << (8 * self.key_bytes)
    }

    fn has(&self, kind: OpKind) -> bool {
        self.codes.contains(&Code::Op(kind))
    }

    /// The tag that stands for `code`: its first entry in the table.
    fn tag(&self, code: Code) -> u8 {
        let index = self.codes.iter().position(|&c| c == code);
        // Tables are at most 256 long, so the index fits the tag byte.
        index.map_or(0, |i| i as u8)
    }

    /// The table's weights, as the trace header shows them (a fill counts as an insert, a round
    /// of churn as an insert and a remove).
    fn weights(&self) -> OpWeights {
        let mut weights = OpWeights::default();
        for code in self.codes {
            let kinds: &[OpKind] = match code {
                Code::Op(kind) => std::slice::from_ref(kind),
                Code::Fill => &[OpKind::Insert],
                Code::Churn => &[OpKind::Insert, OpKind::Remove],
            };
            for &kind in kinds {
                weights.set(kind, weights.get(kind) + 1);
            }
        }
        weights
    }

    fn config(&self, hasher: HasherMode, map_seed: u64, hasher_seed: u64, capacity: u32) -> Config {
        Config {
            seed: None,
            map_seed,
            hasher,
            hasher_seed,
            initial_capacity: capacity,
            key_space: self.key_space(),
            max_cursors: self.max_cursors,
            // Set from the program's length once its ops are known.
            audit_every: 1,
            weights: self.weights(),
            len: 0,
            fault: None,
            target: crate::target::DEFAULT_TARGET.to_string(),
        }
    }
}

const MAX_HANDLES: u8 = CursorId::ALL.len() as u8;

/// Bytes of the header: hasher, map seed, hasher seed, capacity.
pub const HEADER_LEN: usize = 1 + 8 + 8 + 2;

/// `force-grow` ops kept per program; later ones are dropped (decoded, then left out). Two allow
/// a growth to start while a cursor is still walking the array of the one before; each doubles
/// the bucket array whatever the map holds, and every audit walks the whole array.
pub const MAX_FORCED_GROWS: usize = 2;

/// Integers never fail to decode: arbitrary reads an exhausted input as zeros.
fn int<'a, T: Arbitrary<'a> + Default>(u: &mut Unstructured<'a>) -> T {
    T::arbitrary(u).unwrap_or_default()
}

fn key(u: &mut Unstructured<'_>, layout: &Layout) -> u64 {
    match layout.key_bytes {
        1 => u64::from(int::<u8>(u)),
        _ => u64::from(int::<u16>(u)),
    }
}

fn cursor(u: &mut Unstructured<'_>) -> CursorId {
    CursorId::ALL[usize::from(int::<u8>(u) % MAX_HANDLES)]
}

/// The program a target runs for `data`.
pub fn decode(target: Target, data: &[u8]) -> Program {
    let layout = Layout::of(target);
    let mut u = Unstructured::new(data);
    let hasher = HasherMode::ALL[usize::from(int::<u8>(&mut u)) % HasherMode::ALL.len()];
    let map_seed = int::<u64>(&mut u);
    let hasher_seed = int::<u64>(&mut u);
    let capacity = u32::from(int::<u16>(&mut u)) % (layout.max_capacity + 1);
    let mut config = layout.config(hasher, map_seed, hasher_seed, capacity);
    let max_ops = layout.op_limit(hasher);
    let mut ops = Vec::new();
    let mut forced_grows = 0;
    while !u.is_empty() && ops.len() < max_ops {
        let code = layout.codes[usize::from(int::<u8>(&mut u)) % layout.codes.len()];
        match code {
            Code::Fill => {
                let count = u64::from(int::<u8>(&mut u)) + 1;
                let base = key(&mut u, &layout);
                let value = u64::from(int::<u8>(&mut u));
                let room = (max_ops - ops.len()) as u64;
                for i in 0..count.min(room) {
                    // Wrapping within the key space keeps every key decodable by this layout.
                    let key = (base + i) % layout.key_space();
                    ops.push(Op::Insert { key, value });
                }
            }
            Code::Churn => {
                let count = u64::from(int::<u8>(&mut u) % MAX_CHURN) + 1;
                let base = key(&mut u, &layout);
                let value = u64::from(int::<u8>(&mut u));
                // The key space is a multiple of CLASSES, so wrapping keeps the class.
                let keys: Vec<u64> = (0..count)
                    .map(|i| (base + i * CLASSES) % layout.key_space())
                    .collect();
                let room = max_ops - ops.len();
                let inserts = keys.iter().map(|&key| Op::Insert { key, value });
                let removes = keys.iter().map(|&key| Op::Remove { key });
                ops.extend(inserts.chain(removes).take(room));
            }
            Code::Op(kind) => ops.push(match kind {
                OpKind::Insert => {
                    let key = key(&mut u, &layout);
                    Op::Insert {
                        key,
                        value: u64::from(int::<u8>(&mut u)),
                    }
                }
                OpKind::Remove => Op::Remove {
                    key: key(&mut u, &layout),
                },
                OpKind::Get => Op::Get {
                    key: key(&mut u, &layout),
                },
                OpKind::Clear => Op::Clear,
                OpKind::CursorNew => Op::CursorNew {
                    cursor: cursor(&mut u),
                },
                OpKind::CursorStep => {
                    let cursor = cursor(&mut u);
                    Op::CursorStep {
                        cursor,
                        steps: u16::from(int::<u8>(&mut u)) + 1,
                    }
                }
                OpKind::CursorDrop => Op::CursorDrop {
                    cursor: cursor(&mut u),
                },
                OpKind::ForceGrow => {
                    forced_grows += 1;
                    if forced_grows > MAX_FORCED_GROWS {
                        continue;
                    }
                    Op::ForceGrow
                }
                OpKind::ForceSameSizeGrow => Op::ForceSameSizeGrow,
                OpKind::EvacuateStep => Op::EvacuateStep,
                OpKind::Audit => Op::Audit,
                OpKind::GetMut => {
                    let key = key(&mut u, &layout);
                    Op::GetMut {
                        key,
                        value: u64::from(int::<u8>(&mut u)),
                    }
                }
                OpKind::ContainsKey => Op::ContainsKey {
                    key: key(&mut u, &layout),
                },
                OpKind::Index => Op::Index {
                    key: key(&mut u, &layout),
                },
                OpKind::Iter => Op::Iter,
                OpKind::Clone => Op::Clone,
                OpKind::CloneInsert => {
                    let key = key(&mut u, &layout);
                    Op::CloneInsert {
                        key,
                        value: u64::from(int::<u8>(&mut u)),
                    }
                }
                OpKind::CloneRemove => Op::CloneRemove {
                    key: key(&mut u, &layout),
                },
                OpKind::Eq => Op::Eq,
                OpKind::Extend | OpKind::FromIter => {
                    let count = int::<u8>(&mut u) % MAX_EXTEND;
                    let first = key(&mut u, &layout);
                    let value = u64::from(int::<u8>(&mut u));
                    // Keys that would leave the key space wrap to its start, like a fill's.
                    let first = first.min(layout.key_space() - u64::from(count).div_ceil(2).max(1));
                    if kind == OpKind::Extend {
                        Op::Extend {
                            key: first,
                            count,
                            value,
                        }
                    } else {
                        Op::FromIter {
                            key: first,
                            count,
                            value,
                        }
                    }
                }
            }),
        }
    }
    config.len = ops.len() as u32;
    config.audit_every = layout.audit_every(ops.len());
    Program::new(config, ops)
}

/// `program` within what `target` can express: ops of other kinds dropped, keys and values
/// reduced into the target's ranges (keys keep their hash class, see [`crate::hasher::CLASSES`]),
/// long cursor steps split, the config's fixed fields set as the target sets them.
///
/// `decode(target, &encode(target, p)) == project(target, p)` for every program `p`.
pub fn project(target: Target, program: &Program) -> Program {
    let layout = Layout::of(target);
    let c = &program.config;
    let capacity = c.initial_capacity.min(layout.max_capacity);
    let mut config = layout.config(c.hasher, c.map_seed, c.hasher_seed, capacity);
    let mut ops = Vec::new();
    let mut forced_grows = 0;
    for &op in &program.ops {
        if !layout.has(op.kind()) {
            continue;
        }
        if op == Op::ForceGrow {
            forced_grows += 1;
            if forced_grows > MAX_FORCED_GROWS {
                continue;
            }
        }
        match op {
            Op::Insert { key, value } => {
                ops.push(Op::Insert {
                    key: key % layout.key_space(),
                    value: value % 256,
                });
            }
            Op::Remove { key } => ops.push(Op::Remove {
                key: key % layout.key_space(),
            }),
            Op::Get { key } => ops.push(Op::Get {
                key: key % layout.key_space(),
            }),
            Op::GetMut { key, value } => ops.push(Op::GetMut {
                key: key % layout.key_space(),
                value: value % 256,
            }),
            Op::CloneInsert { key, value } => ops.push(Op::CloneInsert {
                key: key % layout.key_space(),
                value: value % 256,
            }),
            Op::ContainsKey { key } | Op::Index { key } | Op::CloneRemove { key } => {
                ops.push(op.with_key(key % layout.key_space()))
            }
            Op::Extend { key, count, value } | Op::FromIter { key, count, value } => {
                let count = count % MAX_EXTEND;
                let key = (key % layout.key_space())
                    .min(layout.key_space() - u64::from(count).div_ceil(2).max(1));
                let value = value % 256;
                ops.push(if matches!(op, Op::Extend { .. }) {
                    Op::Extend { key, count, value }
                } else {
                    Op::FromIter { key, count, value }
                });
            }
            Op::CursorStep { cursor, mut steps } => {
                // `steps` calls in a row are the same as several ops of at most 256 calls each.
                while steps > 0 {
                    let now = steps.min(256);
                    ops.push(Op::CursorStep { cursor, steps: now });
                    steps -= now;
                }
            }
            other => ops.push(other),
        }
    }
    ops.truncate(layout.op_limit(c.hasher));
    config.len = ops.len() as u32;
    config.audit_every = layout.audit_every(ops.len());
    Program::new(config, ops)
}

/// The bytes of `ops` alone, as they appear after the header (for dictionary entries).
pub fn encode_ops(target: Target, ops: &[Op]) -> Vec<u8> {
    let program = Program::new(Config::default(), ops.to_vec());
    encode(target, &program).split_off(HEADER_LEN)
}

/// The bytes of a `fill`: `count` (1..=256) inserts of consecutive keys from `base`, all with
/// `value` (for dictionary entries; [`encode`] writes single inserts).
pub fn encode_fill(target: Target, count: u16, base: u64, value: u8) -> Vec<u8> {
    let layout = Layout::of(target);
    let mut out = vec![layout.tag(Code::Fill), (count.clamp(1, 256) - 1) as u8];
    out.extend(&base.to_le_bytes()[..layout.key_bytes]);
    out.push(value);
    out
}

/// The bytes of a round of churn: `count` (1..=16) inserts of keys `base`, `base + CLASSES`, ...
/// (one hash class, so one chain under the colliding hashers), all with `value`, then their
/// removes. `None` when `target` has no such code (for dictionary entries).
pub fn encode_churn(target: Target, count: u8, base: u64, value: u8) -> Option<Vec<u8>> {
    let layout = Layout::of(target);
    if !layout.codes.contains(&Code::Churn) {
        return None;
    }
    let mut out = vec![layout.tag(Code::Churn), count.clamp(1, MAX_CHURN) - 1];
    out.extend(&base.to_le_bytes()[..layout.key_bytes]);
    out.push(value);
    Some(out)
}

/// The input that `target` decodes into `project(target, program)`.
pub fn encode(target: Target, program: &Program) -> Vec<u8> {
    encode_within(target, program, usize::MAX)
}

/// Like [`encode`], keeping only the ops that fit in `max_bytes` (the header always fits).
pub fn encode_within(target: Target, program: &Program, max_bytes: usize) -> Vec<u8> {
    let layout = Layout::of(target);
    let p = project(target, program);
    let c = &p.config;
    let hasher_index = HasherMode::ALL
        .iter()
        .position(|&m| m == c.hasher)
        .unwrap_or(0);
    let mut out = vec![hasher_index as u8];
    out.extend(c.map_seed.to_le_bytes());
    out.extend(c.hasher_seed.to_le_bytes());
    // Capacities above the layout's maximum were clamped by `project`, so they fit in 16 bits.
    out.extend((c.initial_capacity as u16).to_le_bytes());
    let mut op_bytes = Vec::new();
    for op in &p.ops {
        op_bytes.clear();
        op_bytes.push(layout.tag(Code::Op(op.kind())));
        let key_bytes = |key: u64| key.to_le_bytes()[..layout.key_bytes].to_vec();
        match *op {
            Op::Insert { key, value } => {
                op_bytes.extend(key_bytes(key));
                op_bytes.push(value as u8);
            }
            Op::Remove { key } | Op::Get { key } => op_bytes.extend(key_bytes(key)),
            Op::CursorNew { cursor } | Op::CursorDrop { cursor } => {
                op_bytes.push(cursor.index() as u8)
            }
            Op::CursorStep { cursor, steps } => {
                op_bytes.push(cursor.index() as u8);
                op_bytes.push((steps - 1) as u8);
            }
            Op::GetMut { key, value } | Op::CloneInsert { key, value } => {
                op_bytes.extend(key_bytes(key));
                op_bytes.push(value as u8);
            }
            Op::ContainsKey { key } | Op::Index { key } | Op::CloneRemove { key } => {
                op_bytes.extend(key_bytes(key))
            }
            Op::Extend { key, count, value } | Op::FromIter { key, count, value } => {
                op_bytes.push(count);
                op_bytes.extend(key_bytes(key));
                op_bytes.push(value as u8);
            }
            Op::Clear
            | Op::ForceGrow
            | Op::ForceSameSizeGrow
            | Op::EvacuateStep
            | Op::Audit
            | Op::Iter
            | Op::Clone
            | Op::Eq => {}
        }
        if out.len() + op_bytes.len() > max_bytes {
            break;
        }
        out.extend_from_slice(&op_bytes);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen;

    #[test]
    fn every_byte_string_decodes_to_a_valid_program() {
        for target in Target::ALL {
            for data in [&[][..], &[0xFF; 3], &[7; 64], &[0x1E; 600]] {
                let p = decode(target, data);
                assert_eq!(p.config.validate(), Ok(()), "{target} {data:?}");
                assert_eq!(p.config.len as usize, p.ops.len());
                let layout = Layout::of(target);
                assert!(
                    p.ops.iter().all(|op| layout.has(op.kind())),
                    "{target}: {:?}",
                    p.ops
                );
                assert!(p
                    .ops
                    .iter()
                    .all(|op| op.key().is_none_or(|k| k < layout.key_space())));
            }
        }
    }

    #[test]
    fn encoding_a_generated_program_decodes_to_its_projection() {
        for target in Target::ALL {
            for seed in 0..40 {
                let program = gen::generate(seed);
                let projected = project(target, &program);
                assert_eq!(
                    decode(target, &encode(target, &program)),
                    projected,
                    "{target} seed {seed}"
                );
                assert_eq!(
                    project(target, &projected),
                    projected,
                    "projection is idempotent"
                );
            }
        }
    }

    #[test]
    fn the_header_is_read_as_documented() {
        let mut data = vec![1u8];
        data.extend(5u64.to_le_bytes());
        data.extend(9u64.to_le_bytes());
        data.extend(300u16.to_le_bytes());
        let p = decode(Target::Corruption, &data);
        assert_eq!(p.config.hasher, HasherMode::CollideLowBits);
        assert_eq!((p.config.map_seed, p.config.hasher_seed), (5, 9));
        assert_eq!(p.config.initial_capacity, 300 % 257);
        assert!(p.ops.is_empty());
    }

    #[test]
    fn a_fill_expands_to_consecutive_inserts_within_the_key_space() {
        let mut data = vec![0u8; HEADER_LEN];
        let fill = Layout::of(Target::Corruption).tag(Code::Fill);
        data.extend([fill, 3, 254, 7]);
        let p = decode(Target::Corruption, &data);
        let keys: Vec<u64> = p.ops.iter().filter_map(Op::key).collect();
        assert_eq!(keys, [254, 255, 0, 1]);
        assert!(p
            .ops
            .iter()
            .all(|op| matches!(op, Op::Insert { value: 7, .. })));
    }

    #[test]
    fn a_round_of_churn_inserts_keys_of_one_class_then_removes_them() {
        let mut data = vec![0u8; HEADER_LEN];
        data.extend(encode_churn(Target::Corruption, 3, 253, 7).expect("corruption has churn"));
        let p = decode(Target::Corruption, &data);
        let keys = [253, 1, 5];
        assert!(keys.iter().all(|k| k % CLASSES == 253 % CLASSES));
        let inserts = keys.iter().map(|&key| Op::Insert { key, value: 7 });
        let removes = keys.iter().map(|&key| Op::Remove { key });
        assert_eq!(p.ops, inserts.chain(removes).collect::<Vec<_>>());
        assert_eq!(encode_churn(Target::Differential, 3, 0, 0), None);
    }

    #[test]
    fn rounds_of_churn_reach_the_same_size_growth_of_the_overflow_threshold() {
        let collide = HasherMode::ALL
            .iter()
            .position(|&m| m == HasherMode::CollideLowBits)
            .unwrap();
        let mut data = vec![0u8; HEADER_LEN];
        data[0] = collide as u8;
        for class in 0..2 {
            data.extend(encode_churn(Target::Corruption, 9, class, 1).unwrap());
        }
        data.extend(encode_ops(
            Target::Corruption,
            &[Op::Insert { key: 2, value: 0 }],
        ));
        let p = decode(Target::Corruption, &data);
        assert_eq!(p.ops.len(), 2 * 2 * 9 + 1);
        let stats = crate::exec::run(&p).expect("a correct map runs clean");
        assert!(stats.coverage.same_size_grows > 0, "{:?}", stats.coverage);
    }

    #[test]
    fn long_cursor_steps_are_split_and_foreign_ops_dropped() {
        let c0 = CursorId::ALL[0];
        let ops = vec![
            Op::CursorStep {
                cursor: c0,
                steps: 600,
            },
            Op::CursorStep {
                cursor: c0,
                steps: 0,
            },
            Op::Audit,
        ];
        let p = project(
            Target::DuplicateYield,
            &Program::new(Config::default(), ops.clone()),
        );
        let steps: Vec<u16> = p
            .ops
            .iter()
            .map(|op| match op {
                Op::CursorStep { steps, .. } => *steps,
                other => panic!("unexpected {other}"),
            })
            .collect();
        assert_eq!(steps, [256, 256, 88]);
        assert!(
            project(Target::Differential, &Program::new(Config::default(), ops))
                .ops
                .is_empty()
        );
    }

    #[test]
    fn encode_within_stops_at_an_op_boundary() {
        let program = gen::generate(3);
        let full = encode(Target::Corruption, &program);
        let cut = encode_within(Target::Corruption, &program, 100);
        assert!(cut.len() <= 100 && full.starts_with(&cut));
        let decoded = decode(Target::Corruption, &cut);
        let projected = project(Target::Corruption, &program);
        assert_eq!(decoded.ops[..], projected.ops[..decoded.ops.len()]);
    }

    #[test]
    fn header_len_matches_the_encoder() {
        let empty = Program::new(Config::default(), Vec::new());
        assert_eq!(encode(Target::Differential, &empty).len(), HEADER_LEN);
        assert_eq!(
            encode_ops(Target::Corruption, &[Op::Clear]),
            [Layout::of(Target::Corruption).tag(CLEAR)]
        );
    }

    #[test]
    fn an_encoded_fill_decodes_to_its_inserts() {
        let mut input = vec![0u8; HEADER_LEN];
        input.extend(encode_fill(Target::Differential, 3, 0x1234, 9));
        let p = decode(Target::Differential, &input);
        let expected: Vec<Op> = (0x1234..0x1237)
            .map(|key| Op::Insert { key, value: 9 })
            .collect();
        assert_eq!(p.ops, expected);
    }

    #[test]
    fn forced_growth_is_bounded() {
        let grow = Layout::of(Target::Corruption).tag(GROW);
        let mut data = vec![0u8; HEADER_LEN];
        data.extend([grow; 10]);
        let p = decode(Target::Corruption, &data);
        assert_eq!(p.ops, vec![Op::ForceGrow; MAX_FORCED_GROWS]);
        let ten = Program::new(Config::default(), vec![Op::ForceGrow; 10]);
        assert_eq!(
            project(Target::Corruption, &ten).ops.len(),
            MAX_FORCED_GROWS
        );
    }

    #[test]
    fn short_programs_are_audited_after_every_op_and_long_ones_a_bounded_number_of_times() {
        for target in Target::ALL {
            let layout = Layout::of(target);
            let insert = layout.tag(INSERT);
            for ops in [
                1,
                2,
                layout.max_audits as usize,
                layout.max_ops / 2,
                layout.max_ops,
            ] {
                let mut data = vec![0u8; HEADER_LEN];
                for i in 0..ops {
                    data.extend([insert, i as u8, 0]);
                    if layout.key_bytes == 2 {
                        data.push(0);
                    }
                }
                let p = decode(target, &data);
                assert_eq!(p.ops.len(), ops, "{target}");
                if ops <= layout.max_audits as usize {
                    assert_eq!(p.config.audit_every, 1, "{target}, {ops} ops");
                }
                let stats = crate::exec::run(&p).expect("a correct map runs clean");
                // The interval's audits, plus the executor's own at the end.
                assert!(
                    stats.audits <= u64::from(layout.max_audits) + 1,
                    "{target}, {ops} ops: {} audits",
                    stats.audits
                );
                assert_eq!(
                    project(target, &p),
                    p,
                    "{target}: encode keeps the interval"
                );
            }
        }
    }

    #[test]
    fn differential_programs_under_the_constant_hasher_are_shorter() {
        let layout = Layout::of(Target::Differential);
        let fill = layout.tag(Code::Fill);
        for (index, hasher) in HasherMode::ALL.into_iter().enumerate() {
            let mut data = vec![0u8; HEADER_LEN];
            data[0] = index as u8;
            data.extend([fill, 255, 0, 0, 0]);
            let p = decode(Target::Differential, &data);
            assert_eq!(p.ops.len(), layout.op_limit(hasher), "{hasher:?}");
            assert_eq!(project(Target::Differential, &p), p, "{hasher:?}");
        }
        assert!(layout.op_limit(HasherMode::Constant) < layout.op_limit(HasherMode::Seeded));
    }

    #[test]
    fn fills_are_bounded_by_the_op_limit() {
        let fill = Layout::of(Target::Corruption).tag(Code::Fill);
        let mut data = vec![0u8; HEADER_LEN];
        for _ in 0..100 {
            data.extend([fill, 255, 0, 0]);
        }
        assert_eq!(
            decode(Target::Corruption, &data).ops.len(),
            Layout::of(Target::Corruption).max_ops
        );
    }
}
