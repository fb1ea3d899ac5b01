//! A second, independent oracle for the `differential` target: the program's plain ops applied in
//! lockstep to map-core and to `std::collections::HashMap`.
//!
//! The executor already compares every result with the sim's model. This check does not trust the
//! model: a bug shared by the model and the map, or one in the parts of the map's API the executor
//! never calls (`iter`, `contains_key`, `Clone`, `PartialEq`), shows up here. The std map is only
//! ever compared by lookups and collected into a `BTreeMap`, so nothing depends on its order.

use std::collections::{BTreeMap, HashMap};
use std::panic::{self, AssertUnwindSafe};

use crate::exec::{self, Failure, FailureKind, SimMap, Stage};
use crate::op::Op;
use crate::program::Program;

/// Runs the plain ops of `program` on map-core and on std's `HashMap`, comparing every result,
/// `len()` after every op, and at the end the entries `iter()` yields, `contains_key` of every key
/// the program used, and a clone's equality. Cursor ops are skipped; growth controls go to the
/// map alone (they must not change any result).
pub fn check_against_std(program: &Program) -> Result<(), Failure> {
    let mut map = exec::catch_creation(|| exec::create_map(&program.config))?;
    // A fixed hasher: nothing a program replays may depend on a random seed, even where (as
    // here) only lookups and a sorted copy are read.
    let mut std_map = StdMap::default();
    let mut step = 0;
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        run_ops(program, &mut map, &mut std_map, &mut step)?;
        step = program.ops.len();
        compare_contents(program, &map, &std_map)
    }));
    let (kind, expected, found) = match outcome {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(mismatch)) => mismatch,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(non-string payload)".to_string());
            (
                FailureKind::Panic,
                "no panic".to_string(),
                format!("the map panicked: {message}"),
            )
        }
    };
    Err(Failure {
        step,
        stage: Stage::at(&program.ops, step),
        kind,
        expected: format!("{expected} (std HashMap)"),
        found,
        diagram: map.diagram().to_string(),
    })
}

type Mismatch = (FailureKind, String, String);

/// The peer map: std's `HashMap`.
type StdMap = HashMap<u64, u64, foldhash::fast::FixedState>;

fn run_ops(
    program: &Program,
    map: &mut SimMap,
    std_map: &mut StdMap,
    step: &mut usize,
) -> Result<(), Mismatch> {
    for (i, op) in program.ops.iter().enumerate() {
        *step = i;
        let (ours, theirs) = match *op {
            Op::Insert { key, value } => (map.insert(key, value), std_map.insert(key, value)),
            Op::Remove { key } => (map.remove(&key), std_map.remove(&key)),
            Op::Get { key } => (map.get(&key).copied(), std_map.get(&key).copied()),
            Op::Clear => {
                map.clear();
                std_map.clear();
                (None, None)
            }
            Op::ForceGrow => {
                map.force_grow();
                (None, None)
            }
            Op::ForceSameSizeGrow => {
                map.force_same_size_grow();
                (None, None)
            }
            Op::EvacuateStep => {
                map.evacuate_step();
                (None, None)
            }
            // The oracle compares plain ops; the API ops are the executor's (and exec runs the
            // std map as a target for them).
            _ => (None, None),
        };
        if ours != theirs {
            return Err((
                FailureKind::WrongResult,
                format!("{theirs:?}"),
                format!("{ours:?}"),
            ));
        }
        if map.len() != std_map.len() {
            return Err((
                FailureKind::WrongLen,
                format!("len {}", std_map.len()),
                format!("len {}", map.len()),
            ));
        }
    }
    Ok(())
}

fn compare_contents(program: &Program, map: &SimMap, std_map: &StdMap) -> Result<(), Mismatch> {
    let expected: BTreeMap<u64, u64> = std_map.iter().map(|(&k, &v)| (k, v)).collect();
    let mut yielded = BTreeMap::new();
    for (&k, &v) in map.iter() {
        if yielded.insert(k, v).is_some() {
            return Err((
                FailureKind::DuplicateYield,
                "each key once from iter()".to_string(),
                format!("key {k} twice"),
            ));
        }
    }
    if yielded != expected {
        let missing: Vec<_> = expected
            .iter()
            .filter(|(k, _)| !yielded.contains_key(k))
            .take(8)
            .collect();
        let extra: Vec<_> = yielded
            .iter()
            .filter(|(k, v)| expected.get(k) != Some(v))
            .take(8)
            .collect();
        return Err((
            FailureKind::WrongResult,
            format!("iter() yields the {} entries", expected.len()),
            format!(
                "iter() yielded {} entries; missing {missing:?}; wrong or extra {extra:?}",
                yielded.len()
            ),
        ));
    }
    for key in program.ops.iter().filter_map(Op::key) {
        if map.contains_key(&key) != std_map.contains_key(&key) {
            return Err((
                FailureKind::WrongResult,
                format!("contains_key({key}) == {}", std_map.contains_key(&key)),
                format!("contains_key({key}) == {}", map.contains_key(&key)),
            ));
        }
    }
    if map.clone() != *map {
        return Err((
            FailureKind::WrongResult,
            "a clone equal to the map".to_string(),
            "a clone that differs".to_string(),
        ));
    }
    Ok(())
}

/// Deletes chunks of ops (halving the chunk size down to single ops) while `check_against_std`
/// still fails with the same kind; returns the smallest program, its failure and the runs spent.
///
/// `sim::shrink` judges candidates with the executor, which cannot see a failure only this
/// oracle reports, so such failures are shrunk here.
pub fn shrink_against_std(program: &Program, failure: &Failure) -> (Program, Failure, usize) {
    let mut best = program.clone();
    let mut best_failure = failure.clone();
    let mut runs = 0;
    let mut chunk = best.ops.len().max(1);
    while chunk >= 1 {
        let mut start = 0;
        while start < best.ops.len() {
            let mut candidate = best.clone();
            let end = (start + chunk).min(candidate.ops.len());
            candidate.ops.drain(start..end);
            candidate.config.len = candidate.ops.len() as u32;
            runs += 1;
            match check_against_std(&candidate) {
                Err(f) if f.kind == failure.kind => {
                    best = candidate;
                    best_failure = f;
                }
                _ => start += chunk,
            }
        }
        if chunk == 1 {
            break;
        }
        chunk /= 2;
    }
    (best, best_failure, runs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::Config;

    fn program(ops: Vec<Op>) -> Program {
        Program::new(Config::default(), ops)
    }

    #[test]
    fn plain_programs_agree_with_std() {
        let ops = (0..300u64)
            .flat_map(|k| {
                [
                    Op::Insert {
                        key: k % 97,
                        value: k,
                    },
                    Op::Remove { key: k % 13 },
                    Op::Get { key: k % 50 },
                ]
            })
            .chain([
                Op::ForceGrow,
                Op::EvacuateStep,
                Op::Clear,
                Op::Insert { key: 1, value: 2 },
            ])
            .collect();
        assert_eq!(check_against_std(&program(ops)), Ok(()));
    }

    #[cfg(feature = "faults")]
    #[test]
    fn a_lost_entry_is_found_and_shrunk() {
        use crate::program::HasherMode;
        use map_core::Fault;
        // One hash class under colliding low bits: long chains, then a doubling growth whose
        // evacuation drops the overflow buckets.
        let mut ops: Vec<Op> = (0..64u64)
            .map(|i| Op::Insert {
                key: i * 4,
                value: i,
            })
            .collect();
        ops.push(Op::ForceGrow);
        ops.extend((0..64u64).map(|i| Op::Insert {
            key: 1000 + i * 4,
            value: i,
        }));
        ops.extend((0..64u64).map(|i| Op::Get { key: i * 4 }));
        let mut p = program(ops);
        p.config.hasher = HasherMode::CollideLowBits;
        p.config.fault = Some(Fault::EvacuationDropsOverflow);
        let failure = check_against_std(&p).expect_err("the fault loses entries");
        let (shrunk, shrunk_failure, runs) = shrink_against_std(&p, &failure);
        assert_eq!(shrunk_failure.kind, failure.kind);
        assert!(
            shrunk.ops.len() < p.ops.len(),
            "{} ops after {runs} runs",
            shrunk.ops.len()
        );
        assert!(check_against_std(&shrunk).is_err());
    }
}
