//! proptest strategies that produce the simulator's [`Program`]: a [`Config`] strategy (swarm:
//! each op kind switched on or off, a hasher mode, a key space, cursors, an audit interval), then
//! an op-list strategy drawn from that config. proptest shrinks a failing program by removing ops
//! and lowering keys, values and weights, and [`run`] reports it as a trace `sim replay` runs.
//!
//! The strategy mirrors `sim::gen`'s biases with proptest's own randomness: bursts of inserts for
//! natural growth, slow cursors so that the map grows under them, colliding hashers for overflow
//! chains, markers and same-size growth.

use map_core::Fault;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::Union;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence, TestCaseError};
use sim::exec::{self, RunStats};
use sim::hasher::CLASSES;
use sim::op::{CursorId, Op, OpKind};
use sim::program::{Config, HasherMode, OpWeights, Program};
use sim::target::{self, TargetInfo};
use sim::trace;

/// The most op groups (an op, or a burst of inserts) a program is drawn with.
pub const MAX_GROUPS: usize = 160;

/// The longest burst of inserts drawn as one group.
const MAX_BURST: usize = 16;

/// Cases per property when `PROPTEST_CASES` is not set: proptest's own default, which takes
/// about a second in a debug build. The nightly job raises it.
pub const DEFAULT_CASES: u32 = 256;

/// The proptest configuration of the property tests: `PROPTEST_CASES` cases, else `default_cases`;
/// failures saved to `tests/proptest-regressions/<file>.txt` and replayed first on later runs
/// (commit that file). Other `PROPTEST_*` variables (e.g. `PROPTEST_RNG_SEED`) apply as usual.
pub fn proptest_config(default_cases: u32, persistence: &'static str) -> ProptestConfig {
    // `ProptestConfig::default()` reads the `PROPTEST_*` environment variables.
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = default_cases;
    }
    config.failure_persistence = Some(Box::new(FileFailurePersistence::Direct(persistence)));
    config
}

/// Runs `program` through the simulator's executor. On a failure the message holds the failure
/// (step, check, expected and found, the map's diagram), the program as a trace, and how to
/// replay and keep it.
pub fn run(program: &Program) -> Result<RunStats, TestCaseError> {
    exec::run(program).map_err(|failure| {
        TestCaseError::fail(format!(
            "{failure}\nthe program as a trace (save it as tests/regressions/NAME.trace, then \
             `cargo run -p sim -- replay FILE` or `sim shrink FILE`):\n{}",
            trace::print(program)
        ))
    })
}

/// A hasher mode, weighted towards the well-spread hash.
pub fn hasher_mode() -> impl Strategy<Value = HasherMode> {
    prop_oneof![
        4 => Just(HasherMode::Seeded),
        2 => Just(HasherMode::CollideLowBits),
        2 => Just(HasherMode::CollideTophash),
        1 => Just(HasherMode::Constant),
    ]
}

/// A key space suited to the hasher: colliding hashers walk long chains on every op, so their
/// maps stay small.
fn key_space(hasher: HasherMode) -> BoxedStrategy<u64> {
    let spaces: &[u64] = match hasher {
        HasherMode::Seeded => &[4, 8, 16, 64, 256, 1024],
        HasherMode::CollideLowBits => &[16, 64, 128, 256],
        HasherMode::CollideTophash => &[8, 16, 64, 128],
        HasherMode::Constant => &[4, 8, 16, 32],
    };
    select(spaces).boxed()
}

/// One op kind's weight: off (0) with probability `1 - on`, else in `low..=high`.
fn weight(on: f64, low: u16, high: u16) -> BoxedStrategy<u16> {
    // Swarm testing: whole kinds are switched off, so that cases differ in what they stress.
    let on_weight = (on * 100.0) as u32;
    if on_weight == 0 {
        return Just(0u16).boxed();
    }
    if on_weight >= 100 {
        return (low..=high).boxed();
    }
    prop_oneof![
        100 - on_weight => Just(0u16),
        on_weight => low..=high,
    ]
    .boxed()
}

/// Op weights; inserts always on, cursor ops only when cursors are allowed.
pub fn weights(max_cursors: u8) -> impl Strategy<Value = OpWeights> {
    let cursors = if max_cursors == 0 { 0.0 } else { 1.0 };
    (
        (weight(1.0, 6, 16), weight(0.85, 1, 10), weight(0.7, 1, 6)),
        (
            weight(0.5, 1, 1),
            weight(cursors, 1, 3),
            weight(cursors, 3, 12),
        ),
        (weight(cursors, 1, 3), weight(0.6, 1, 2), weight(0.6, 1, 2)),
        (weight(0.7, 1, 6), weight(0.3, 1, 1)),
        // The Rust map API, each kind on in about a third of the cases.
        (
            (weight(0.35, 1, 3), weight(0.35, 1, 3), weight(0.35, 1, 3)),
            (weight(0.35, 1, 1), weight(0.35, 1, 1), weight(0.35, 1, 4)),
            (weight(0.35, 1, 4), weight(0.35, 1, 1), weight(0.35, 1, 3)),
            weight(0.35, 1, 1),
        ),
    )
        .prop_map(
            |(
                (insert, remove, get),
                (clear, cursor_new, cursor_step),
                (cursor_drop, force_grow, force_same_size_grow),
                (evacuate_step, audit),
                (
                    (get_mut, contains_key, index),
                    (iter, clone, clone_insert),
                    (clone_remove, eq, extend),
                    from_iter,
                ),
            )| OpWeights {
                insert,
                remove,
                get,
                clear,
                cursor_new,
                cursor_step,
                cursor_drop,
                force_grow,
                force_same_size_grow,
                evacuate_step,
                audit,
                get_mut,
                contains_key,
                index,
                iter,
                clone,
                clone_insert,
                clone_remove,
                eq,
                extend,
                from_iter,
            },
        )
}

/// A config with no fault; `len` is 0 until [`program`] sets it to the number of ops drawn.
pub fn config() -> impl Strategy<Value = Config> {
    (hasher_mode(), 0u8..=4)
        .prop_flat_map(|(hasher, max_cursors)| {
            let capacity_and_space = key_space(hasher).prop_flat_map(|key_space| {
                let capacity = prop_oneof![
                    2 => Just(0u32),
                    1 => Just(8u32),
                    1 => 0..=key_space as u32,
                ];
                (Just(key_space), capacity)
            });
            (
                any::<u64>(),
                Just(hasher),
                any::<u64>(),
                capacity_and_space,
                Just(max_cursors),
                select(&[1u32, 1, 1, 2, 8][..]),
                weights(max_cursors),
            )
        })
        .prop_map(
            |(
                map_seed,
                hasher,
                hasher_seed,
                (key_space, initial_capacity),
                max_cursors,
                audit_every,
                weights,
            )| Config {
                seed: None,
                map_seed,
                hasher,
                hasher_seed,
                initial_capacity,
                key_space,
                max_cursors,
                audit_every,
                weights,
                len: 0,
                fault: None,
                target: target::DEFAULT_TARGET.to_string(),
            },
        )
}

/// A config for `target`: as [`config`], with the op kinds the target lacks switched off (as
/// `sim::gen::generate_for` does) and the target named.
pub fn config_for(target: &'static TargetInfo) -> impl Strategy<Value = Config> {
    config().prop_map(move |mut config| {
        sim::gen::restrict_to(&mut config, &target.capabilities);
        config.target = target.name.to_string();
        config
    })
}

/// The environment variable that names the target the property tests check
/// (`SIM_TARGET=go cargo test -p tests --test property`); map-core when unset.
pub const TARGET_ENV: &str = "SIM_TARGET";

/// The target named by [`TARGET_ENV`], or map-core.
///
/// # Panics
/// If the variable names no target, listing the names there are, or the target cannot run here.
pub fn target_from_env() -> &'static TargetInfo {
    let target = match std::env::var(TARGET_ENV) {
        Ok(name) => target::lookup(&name).unwrap_or_else(|e| panic!("{TARGET_ENV}: {e}")),
        Err(_) => target::default_target(),
    };
    if let Err(e) = (target.check_available)(target) {
        panic!(
            "{TARGET_ENV}: target `{}` cannot run here: {e}",
            target.name
        );
    }
    target
}

/// How many steps one `cursor-step` takes: mostly slow cursors, so the map changes and grows under
/// them; sometimes a drain to the end.
fn cursor_steps() -> impl Strategy<Value = u16> {
    prop_oneof![
        15 => 1u16..=3,
        4 => 4u16..=32,
        1 => Just(1000u16),
    ]
}

/// The groups of ops `config`'s weights allow: each a single op, except inserts, which sometimes
/// come as a burst that drives the map over its load factor.
fn op_group(config: &Config) -> BoxedStrategy<Vec<Op>> {
    let keys = 0..config.key_space;
    let values = 0u64..1_000_000;
    let handles = config.max_cursors.max(1);
    let cursor = (0..handles).prop_map(|i| CursorId::new(i).expect("handles are below 4"));
    let insert = (keys.clone(), values.clone()).prop_map(|(key, value)| Op::Insert { key, value });
    let mut options: Vec<(u32, BoxedStrategy<Vec<Op>>)> = Vec::new();
    for kind in OpKind::ALL {
        let w = u32::from(config.weights.get(kind));
        if w == 0 || (config.max_cursors == 0 && op_names_cursor(kind)) {
            continue;
        }
        let group: BoxedStrategy<Vec<Op>> = match kind {
            OpKind::Insert if overflow_can_pile_up(config) => prop_oneof![
                17 => insert.clone().prop_map(|op| vec![op]),
                3 => proptest::collection::vec(insert.clone(), 2..=MAX_BURST),
                1 => overflow_pile_up(config.key_space),
            ]
            .boxed(),
            OpKind::Insert => prop_oneof![
                17 => insert.clone().prop_map(|op| vec![op]),
                3 => proptest::collection::vec(insert.clone(), 2..=MAX_BURST),
            ]
            .boxed(),
            OpKind::Remove => keys
                .clone()
                .prop_map(|key| vec![Op::Remove { key }])
                .boxed(),
            OpKind::Get => keys.clone().prop_map(|key| vec![Op::Get { key }]).boxed(),
            OpKind::Clear => Just(vec![Op::Clear]).boxed(),
            OpKind::CursorNew => cursor
                .clone()
                .prop_map(|cursor| vec![Op::CursorNew { cursor }])
                .boxed(),
            OpKind::CursorStep => (cursor.clone(), cursor_steps())
                .prop_map(|(cursor, steps)| vec![Op::CursorStep { cursor, steps }])
                .boxed(),
            OpKind::CursorDrop => cursor
                .clone()
                .prop_map(|cursor| vec![Op::CursorDrop { cursor }])
                .boxed(),
            OpKind::ForceGrow => Just(vec![Op::ForceGrow]).boxed(),
            OpKind::ForceSameSizeGrow => Just(vec![Op::ForceSameSizeGrow]).boxed(),
            OpKind::EvacuateStep => Just(vec![Op::EvacuateStep]).boxed(),
            OpKind::Audit => Just(vec![Op::Audit]).boxed(),
            OpKind::GetMut => (keys.clone(), values.clone())
                .prop_map(|(key, value)| vec![Op::GetMut { key, value }])
                .boxed(),
            OpKind::ContainsKey => keys
                .clone()
                .prop_map(|key| vec![Op::ContainsKey { key }])
                .boxed(),
            OpKind::Index => keys.clone().prop_map(|key| vec![Op::Index { key }]).boxed(),
            OpKind::Iter => Just(vec![Op::Iter]).boxed(),
            OpKind::Clone => Just(vec![Op::Clone]).boxed(),
            OpKind::CloneInsert => (keys.clone(), values.clone())
                .prop_map(|(key, value)| vec![Op::CloneInsert { key, value }])
                .boxed(),
            OpKind::CloneRemove => keys
                .clone()
                .prop_map(|key| vec![Op::CloneRemove { key }])
                .boxed(),
            OpKind::Eq => Just(vec![Op::Eq]).boxed(),
            OpKind::Extend | OpKind::FromIter => {
                let space = config.key_space;
                (1u8..=40, 0..space, values.clone())
                    .prop_map(move |(count, key, value)| {
                        // The run of keys stays in the key space.
                        let count = count.min((2 * space).min(255) as u8);
                        let key = key.min(space - u64::from(count).div_ceil(2));
                        let op = if kind == OpKind::Extend {
                            Op::Extend { key, count, value }
                        } else {
                            Op::FromIter { key, count, value }
                        };
                        vec![op]
                    })
                    .boxed()
            }
        };
        options.push((w, group));
    }
    if options.is_empty() {
        // Every kind switched off: only inserts remain (the generator never switches them off).
        options.push((1, insert.prop_map(|op| vec![op]).boxed()));
    }
    Union::new_weighted(options).boxed()
}

/// Whether [`overflow_pile_up`] can bring a small map to Go's overflow threshold: keys that
/// collide in their low hash bits, enough keys of each hash class, and removes switched on.
fn overflow_can_pile_up(config: &Config) -> bool {
    config.hasher == HasherMode::CollideLowBits
        && config.key_space >= 16 * CLASSES
        && config.weights.get(OpKind::Remove) > 0
}

/// The generator's overflow pile-up (Go #16070), as a group: for each of the four hash classes
/// (four buckets), 9 inserts of keys of the class, one more than a bucket holds, then their
/// removes, which leave the overflow bucket behind; then one insert, which in a map of at most 4
/// buckets must start a same-size growth.
fn overflow_pile_up(key_space: u64) -> BoxedStrategy<Vec<Op>> {
    let per_class: Vec<u64> = (0..key_space / CLASSES).collect();
    let round = proptest::sample::subsequence(per_class, 9);
    (
        proptest::collection::vec(round, CLASSES as usize),
        0..key_space,
    )
        .prop_map(|(rounds, last)| {
            let mut ops = Vec::new();
            for (class, multiples) in (0..CLASSES).zip(rounds) {
                let keys: Vec<u64> = multiples.iter().map(|j| class + CLASSES * j).collect();
                ops.extend(keys.iter().map(|&key| Op::Insert { key, value: key }));
                ops.extend(keys.iter().map(|&key| Op::Remove { key }));
            }
            ops.push(Op::Insert {
                key: last,
                value: last,
            });
            ops
        })
        .boxed()
}

fn op_names_cursor(kind: OpKind) -> bool {
    matches!(
        kind,
        OpKind::CursorNew | OpKind::CursorStep | OpKind::CursorDrop
    )
}

/// Ops drawn from `config`: up to `max_groups` groups, flattened.
pub fn ops(config: &Config, max_groups: usize) -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(op_group(config), 0..=max_groups)
        .prop_map(|groups| groups.into_iter().flatten().collect())
}

/// A whole program: a config, then ops drawn from it; `config.len` records how many.
pub fn program() -> impl Strategy<Value = Program> {
    program_of(config(), MAX_GROUPS)
}

/// A whole program for `target`: only the ops it supports.
pub fn program_on(target: &'static TargetInfo) -> impl Strategy<Value = Program> {
    program_of(config_for(target), MAX_GROUPS)
}

/// A program with `fault` injected into the map (running it needs the `faults` feature).
pub fn program_with_fault(fault: Fault) -> impl Strategy<Value = Program> {
    program_of(
        config().prop_map(move |mut config| {
            config.fault = Some(fault);
            config
        }),
        MAX_GROUPS,
    )
}

fn program_of(
    configs: impl Strategy<Value = Config>,
    max_groups: usize,
) -> impl Strategy<Value = Program> {
    configs
        .prop_flat_map(move |config| (ops(&config, max_groups), Just(config)))
        .prop_map(|(ops, mut config)| {
            config.len = u32::try_from(ops.len()).expect("programs are short");
            Program::new(config, ops)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    #[test]
    fn programs_for_a_plain_target_hold_only_plain_ops() {
        let mut runner = TestRunner::deterministic();
        let on_std = target::lookup("std-btree-map").unwrap();
        let strategy = program_on(on_std);
        for _ in 0..100 {
            let p = strategy.new_tree(&mut runner).unwrap().current();
            assert_eq!(p.config.target, "std-btree-map");
            assert!(p
                .ops
                .iter()
                .all(|op| on_std.capabilities.supports(op.kind())));
            assert_eq!(exec::check_runnable(&p), Ok(()));
        }
    }

    #[test]
    fn drawn_programs_are_valid_and_follow_their_config() {
        let mut runner = TestRunner::deterministic();
        let strategy = program();
        for _ in 0..200 {
            let p = strategy.new_tree(&mut runner).unwrap().current();
            assert_eq!(p.config.validate(), Ok(()));
            assert_eq!(p.config.len as usize, p.ops.len());
            for op in &p.ops {
                assert!(
                    p.config.weights.get(op.kind()) > 0 || op.kind() == OpKind::Insert,
                    "{op} drawn with weight 0"
                );
                if let Some(key) = op.key() {
                    assert!(key < p.config.key_space, "{op} outside the key space");
                }
                if let Some(c) = op.cursor() {
                    assert!(c.index() < usize::from(p.config.max_cursors), "{op}");
                }
            }
        }
    }
}
