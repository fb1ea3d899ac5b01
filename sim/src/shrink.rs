//! The shrinker: deterministic delta debugging of a failing program.
//!
//! A candidate (a smaller or simpler program) is kept only if it still fails with the same
//! [`FailureKind`](crate::exec::FailureKind). Passes, repeated until none makes progress:
//! 1. cut everything after the failing op;
//! 2. remove chunks of ops, halving the chunk size down to single ops;
//! 3. remove a cursor with all its ops, and a key with all its ops;
//! 4. lower keys (within their hash class under a colliding hasher), renumber and zero values,
//!    lower cursor step counts;
//! 5. simplify the config: seeded hasher, zero seeds, capacity 0, audit after every op.
//!
//! Every candidate is judged by running it on the program's target, so for a deterministic target
//! the result depends only on the input program. A nondeterministic target (Go's runtime map)
//! may answer differently each time: there each candidate gets up to [`NONDETERMINISTIC_TRIES`]
//! runs and counts as failing once enough of them fail the same way: at least half as many as
//! the original program failed in as many runs (and at least one). Counting a candidate failing
//! on any single run would drift, candidate by candidate, to programs that fail once in a
//! hundred runs; holding each to the original's rate keeps the shrunk program one that
//! reproduces. Candidates that use ops the target lacks are never tried.
//!
//! A program on which the map never returns from a call cannot be judged in this process (an
//! in-process map cannot be interrupted): [`shrink_hang`] takes the judge as a function, which
//! `sim shrink --hang-after` makes by running each candidate in a child process and killing it
//! at the deadline. Such candidates are shrunk by the same passes but the config trials (each
//! hanging candidate costs the whole deadline).

use std::collections::BTreeSet;

use crate::exec::{self, Failure};
use crate::op::{CursorId, Op};
use crate::program::{HasherMode, Program};
use crate::target::{self, TargetInfo};

/// How many candidate runs one shrink may spend; plenty for generated programs.
pub const MAX_RUNS: usize = 20_000;

/// How many times a candidate runs, at most, on a nondeterministic target.
pub const NONDETERMINISTIC_TRIES: usize = 8;

/// A shrunk program and its failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shrunk {
    /// The smallest failing program found.
    pub program: Program,
    /// Its failure (same kind as the original's).
    pub failure: Failure,
    /// Ops before shrinking.
    pub before_len: usize,
    /// Ops after shrinking.
    pub after_len: usize,
    /// Candidate programs run.
    pub runs: usize,
}

/// Shrinks `program`, which fails with `failure` on the target its config names, to a smaller
/// program failing the same way.
///
/// # Panics
/// If the program names a target that is not built in (use [`shrink_on`] for a user's target).
pub fn shrink(program: &Program, failure: &Failure) -> Shrunk {
    let target = target::lookup(&program.config.target)
        .unwrap_or_else(|why| panic!("cannot shrink this program: {why}"));
    shrink_on(program, failure, target)
}

/// A shrunk program on which the map hangs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShrunkHang {
    /// The smallest program found that still hangs.
    pub program: Program,
    /// Ops before shrinking.
    pub before_len: usize,
    /// Ops after shrinking.
    pub after_len: usize,
    /// Candidate programs judged.
    pub runs: usize,
}

/// Shrinks `program`, on which the map of `target` hangs, to a smaller program for which
/// `hangs` still says so; `hangs` is called once per candidate and decides alone (it runs the
/// candidate where it can be stopped: `sim shrink --hang-after` runs it in a child process).
pub fn shrink_hang(
    program: &Program,
    target: &TargetInfo,
    hangs: &dyn Fn(&Program) -> bool,
) -> ShrunkHang {
    let mut s = Shrinker {
        target,
        judge: Judge::Hangs(hangs),
        best: program.clone(),
        runs: 0,
    };
    s.run_passes();
    ShrunkHang {
        before_len: program.ops.len(),
        after_len: s.best.ops.len(),
        program: s.best,
        runs: s.runs,
    }
}

/// Shrinks `program`, which fails with `failure` on `target`.
pub fn shrink_on(program: &Program, failure: &Failure, target: &TargetInfo) -> Shrunk {
    let (tries, need) = if target.capabilities.deterministic {
        (1, 1)
    } else {
        let failed = (0..NONDETERMINISTIC_TRIES)
            .filter(|_| exec::run_on(program, target, None).is_err_and(|f| f.kind == failure.kind))
            .count();
        (NONDETERMINISTIC_TRIES, failed.div_ceil(2).max(1))
    };
    let mut s = Shrinker {
        target,
        judge: Judge::Runs {
            tries,
            need,
            failure: failure.clone(),
        },
        best: program.clone(),
        runs: 0,
    };
    s.cut_after_failure();
    s.run_passes();
    s.try_other_configs();
    Shrunk {
        before_len: program.ops.len(),
        after_len: s.best.ops.len(),
        program: s.best,
        failure: match s.judge {
            Judge::Runs { failure, .. } => failure,
            Judge::Hangs(_) => failure.clone(),
        },
        runs: s.runs,
    }
}

/// How a candidate is judged.
#[derive(Clone)]
enum Judge<'t> {
    /// Run here up to `tries` times; it fails when `need` of them fail like `failure`, the best
    /// program's failure so far.
    Runs {
        tries: usize,
        need: usize,
        failure: Failure,
    },
    /// The caller's function decides ([`shrink_hang`]).
    Hangs(&'t dyn Fn(&Program) -> bool),
}

struct Shrinker<'t> {
    target: &'t TargetInfo,
    judge: Judge<'t>,
    best: Program,
    runs: usize,
}

impl Shrinker<'_> {
    /// Runs per candidate, at most.
    fn tries(&self) -> usize {
        match self.judge {
            Judge::Runs { tries, .. } => tries,
            Judge::Hangs(_) => 1,
        }
    }

    /// Runs every pass until none makes progress.
    fn run_passes(&mut self) {
        loop {
            let before = self.best.clone();
            self.remove_chunks();
            self.halve_segments();
            self.remove_segment_runs();
            self.remove_windows();
            self.remove_cursors();
            self.remove_keys();
            self.lower_keys();
            self.lower_values();
            self.lower_steps();
            self.lower_counts();
            self.simplify_config();
            if self.best == before || self.out_of_runs() {
                break;
            }
        }
    }

    /// Some ops only build a state that a config or a forced growth reaches directly: a bigger
    /// initial capacity replaces the inserts that grow the map, a colliding hasher the keys that
    /// fill one bucket, a `force-grow` the inserts that push the map over its load factor. Each
    /// such config (and pair of them), with and without a `force-grow` inserted before each op, is
    /// tried and shrunk under, and kept if that ends shorter.
    fn try_other_configs(&mut self) {
        const MIN_LEN: usize = 4;
        let capacities = [None, Some(16), Some(64)];
        let hashers = [
            None,
            Some(HasherMode::Constant),
            Some(HasherMode::CollideLowBits),
            Some(HasherMode::CollideTophash),
        ];
        for grow_at in std::iter::once(None).chain((0..self.best.ops.len()).map(Some)) {
            for capacity in capacities {
                for hasher in hashers {
                    if self.best.ops.len() < MIN_LEN || self.out_of_runs() {
                        return;
                    }
                    let mut candidate = self.best.clone();
                    if let Some(capacity) = capacity {
                        candidate.config.initial_capacity = capacity;
                    }
                    if let Some(hasher) = hasher {
                        candidate.config.hasher = hasher;
                    }
                    if let Some(at) = grow_at {
                        if at >= candidate.ops.len() {
                            continue;
                        }
                        candidate.ops.insert(at, Op::ForceGrow);
                    }
                    self.shrink_from(candidate);
                }
            }
        }
    }

    /// Shrinks from `start` (if it fails the same way) and keeps the result if it is shorter.
    fn shrink_from(&mut self, start: Program) {
        let mut other = Shrinker {
            target: self.target,
            judge: self.judge.clone(),
            best: self.best.clone(),
            runs: self.runs,
        };
        if other.try_keep(start) {
            other.run_passes();
        }
        self.runs = other.runs;
        if other.best.ops.len() < self.best.ops.len() {
            self.best = other.best;
            self.judge = other.judge;
        }
    }

    fn out_of_runs(&self) -> bool {
        self.runs >= MAX_RUNS
    }

    /// Runs `candidate`; keeps it if it fails the same way. Returns whether it was kept.
    fn try_keep(&mut self, candidate: Program) -> bool {
        if self.out_of_runs()
            || candidate == self.best
            || exec::check_runnable_on(&candidate, self.target).is_err()
        {
            return false;
        }
        let (tries, need, kind) = match &self.judge {
            Judge::Hangs(hangs) => {
                let kept = hangs(&candidate);
                self.runs += 1;
                if kept {
                    self.best = candidate;
                }
                return kept;
            }
            Judge::Runs {
                tries,
                need,
                failure,
            } => (*tries, *need, failure.kind),
        };
        let mut failed = 0;
        let mut first_failure = None;
        for tried in 0..tries {
            // Stop as soon as the outcome is decided either way.
            if failed >= need || failed + (tries - tried) < need {
                break;
            }
            self.runs += 1;
            if let Err(failure) = exec::run_on(&candidate, self.target, None) {
                if failure.kind == kind {
                    failed += 1;
                    first_failure.get_or_insert(failure);
                }
            }
            if self.out_of_runs() {
                break;
            }
        }
        match first_failure {
            Some(failure) if failed >= need => {
                self.best = candidate;
                self.judge = Judge::Runs {
                    tries,
                    need,
                    failure,
                };
                self.cut_after_failure();
                true
            }
            _ => false,
        }
    }

    /// Ops after the failing one never ran: drop them (the run is deterministic).
    fn cut_after_failure(&mut self) {
        if let Judge::Runs { failure, .. } = &self.judge {
            self.best.ops.truncate(failure.step + 1);
        }
    }

    fn with_ops(&self, ops: Vec<Op>) -> Program {
        Program::new(self.best.config.clone(), ops)
    }

    fn remove_chunks(&mut self) {
        let mut size = (self.best.ops.len() / 2).max(1);
        loop {
            // From the end, so that a removal does not move the ops still to be tried.
            let mut end = self.best.ops.len();
            while end > 0 && !self.out_of_runs() {
                let start = end.saturating_sub(size);
                let mut ops = self.best.ops.clone();
                ops.drain(start..end);
                self.try_keep(self.with_ops(ops));
                end = start.min(self.best.ops.len());
            }
            if size == 1 {
                break;
            }
            size /= 2;
        }
    }

    /// Halves every segment at once (its first or last half, rounded down or up): a failure
    /// that needs a map grown to a threshold while a cursor started at another keeps its shape
    /// when all the runs of keyed ops shrink by the same factor, since the thresholds double
    /// (833 keys with a cursor begun at 416 fail like 417 with one begun at 208), while removing
    /// any one run alone moves one count off its threshold.
    fn halve_segments(&mut self) {
        loop {
            let before = self.best.ops.len();
            for (from_start, round_up) in
                [(true, false), (true, true), (false, false), (false, true)]
            {
                let mut ops = Vec::with_capacity(self.best.ops.len());
                let mut segment: Vec<Op> = Vec::new();
                let flush = |segment: &mut Vec<Op>, ops: &mut Vec<Op>| {
                    let cut = if round_up {
                        segment.len().div_ceil(2)
                    } else {
                        segment.len() / 2
                    };
                    if from_start {
                        ops.extend_from_slice(&segment[cut..]);
                    } else {
                        ops.extend_from_slice(&segment[..segment.len() - cut]);
                    }
                    segment.clear();
                };
                for &op in &self.best.ops {
                    if op.key().is_some() {
                        segment.push(op);
                    } else {
                        flush(&mut segment, &mut ops);
                        ops.push(op);
                    }
                }
                flush(&mut segment, &mut ops);
                if ops.len() < self.best.ops.len() && self.try_keep(self.with_ops(ops)) {
                    break;
                }
            }
            if self.best.ops.len() == before || self.out_of_runs() {
                return;
            }
        }
    }

    /// Removes, from the start of each segment (a run of keyed ops: inserts, removes, gets,
    /// between the ops on cursors, clears and the like), a run of every length, longest first, keeping the first that still fails. Like
    /// [`Self::remove_windows`] it finds removals of an exact number of ops (a map that grows at
    /// 833 keys fails as well at 417, 209, ... when the cursor and the clear around the growth
    /// stay), which aligned chunks miss; at a cost linear in the program's length, so it runs on
    /// programs far too long for that pass.
    fn remove_segment_runs(&mut self) {
        let mut start = 0;
        while start < self.best.ops.len() && !self.out_of_runs() {
            let end = self.best.ops[start..]
                .iter()
                .position(|op| op.key().is_none())
                .map_or(self.best.ops.len(), |i| start + i);
            for len in (1..=end - start).rev() {
                let mut ops = self.best.ops.clone();
                ops.drain(start..start + len);
                if self.try_keep(self.with_ops(ops)) || self.out_of_runs() {
                    break;
                }
            }
            // Past the segment (as it now stands) and its boundary op.
            let boundary = self.best.ops[start..]
                .iter()
                .position(|op| op.key().is_none())
                .map_or(self.best.ops.len(), |i| start + i);
            start = boundary + 1;
        }
    }

    /// Removes runs of ops of every length at every offset, longest first, in a program short
    /// enough to afford it. [`Self::remove_chunks`] removes only aligned halves, quarters, and so
    /// on, and stalls when the failure needs an exact count of ops (inserts up to a load-factor
    /// threshold: 52 keys fail at B 3, 26 at B 2, 13 at B 1, 8 at B 0, and no aligned chunk takes
    /// 52 to 26 while keeping the key the last op updates).
    fn remove_windows(&mut self) {
        // The pass costs about len^2 / 2 candidates, each run `tries` times at most.
        let max_len = if self.tries() == 1 { 64 } else { 16 };
        if self.best.ops.len() > max_len {
            return;
        }
        let mut size = self.best.ops.len().saturating_sub(1);
        while size > 0 && !self.out_of_runs() {
            // From the end, so that a removal does not move the ops still to be tried.
            let mut start = self.best.ops.len().saturating_sub(size);
            loop {
                if start + size <= self.best.ops.len() {
                    let mut ops = self.best.ops.clone();
                    ops.drain(start..start + size);
                    self.try_keep(self.with_ops(ops));
                }
                if start == 0 || self.out_of_runs() {
                    break;
                }
                start -= 1;
            }
            size = size.min(self.best.ops.len()).saturating_sub(1);
        }
    }

    fn remove_cursors(&mut self) {
        for c in CursorId::ALL {
            let ops: Vec<Op> = self
                .best
                .ops
                .iter()
                .copied()
                .filter(|op| op.cursor() != Some(c))
                .collect();
            if ops.len() < self.best.ops.len() {
                self.try_keep(self.with_ops(ops));
            }
        }
    }

    fn keys(&self) -> BTreeSet<u64> {
        self.best.ops.iter().filter_map(Op::key).collect()
    }

    fn remove_keys(&mut self) {
        for key in self.keys() {
            let ops: Vec<Op> = self
                .best
                .ops
                .iter()
                .copied()
                .filter(|op| op.key() != Some(key))
                .collect();
            self.try_keep(self.with_ops(ops));
        }
    }

    /// Replaces each key by the smallest unused key of its hash class, if smaller.
    fn lower_keys(&mut self) {
        for key in self.keys() {
            let used = self.keys();
            let mode = self.best.config.hasher;
            let Some(lower) = (0..key).find(|&k| !used.contains(&k) && mode.same_class(k, key))
            else {
                continue;
            };
            let ops = self
                .best
                .ops
                .iter()
                .map(|op| replace_key(*op, key, lower))
                .collect();
            self.try_keep(self.with_ops(ops));
        }
    }

    /// Renumbers values 1, 2, ... in order of first use, then tries each insert's value at 0.
    fn lower_values(&mut self) {
        let mut seen: Vec<u64> = Vec::new();
        let renumbered = self
            .best
            .ops
            .iter()
            .map(|op| match *op {
                Op::Insert { key, value } => {
                    let index = seen.iter().position(|&v| v == value).unwrap_or_else(|| {
                        seen.push(value);
                        seen.len() - 1
                    });
                    Op::Insert {
                        key,
                        value: index as u64 + 1,
                    }
                }
                other => other,
            })
            .collect();
        self.try_keep(self.with_ops(renumbered));
        for i in 0..self.best.ops.len() {
            if let Op::Insert { key, value } = self.best.ops[i] {
                if value != 0 {
                    let mut ops = self.best.ops.clone();
                    ops[i] = Op::Insert { key, value: 0 };
                    self.try_keep(self.with_ops(ops));
                }
            }
        }
    }

    /// Binary-searches the fewest entries each `extend` and `from-iter` needs.
    fn lower_counts(&mut self) {
        for i in 0..self.best.ops.len() {
            let Some((count, with_count)) = self.best.ops.get(i).copied().and_then(entry_count)
            else {
                continue;
            };
            let (mut low, mut high) = (0, count);
            while low < high && !self.out_of_runs() {
                let mid = low + (high - low) / 2;
                let mut ops = self.best.ops.clone();
                ops[i] = with_count(mid);
                if self.try_keep(self.with_ops(ops)) {
                    high = mid;
                } else {
                    low = mid + 1;
                }
                if i >= self.best.ops.len() {
                    break;
                }
            }
        }
    }

    /// Binary-searches the fewest steps each cursor-step op needs.
    fn lower_steps(&mut self) {
        for i in 0..self.best.ops.len() {
            let Some(Op::CursorStep { cursor, steps }) = self.best.ops.get(i).copied() else {
                continue;
            };
            let (mut low, mut high) = (1, steps);
            while low < high && !self.out_of_runs() {
                let mid = low + (high - low) / 2;
                let mut ops = self.best.ops.clone();
                ops[i] = Op::CursorStep { cursor, steps: mid };
                if self.try_keep(self.with_ops(ops)) {
                    high = mid;
                } else {
                    low = mid + 1;
                }
                // A kept candidate may have been cut before op i.
                if i >= self.best.ops.len() {
                    break;
                }
            }
        }
    }

    fn simplify_config(&mut self) {
        let edits: [fn(&mut Program); 5] = [
            |p| p.config.hasher = HasherMode::Seeded,
            |p| p.config.hasher_seed = 0,
            |p| p.config.map_seed = 0,
            |p| p.config.initial_capacity = 0,
            |p| p.config.audit_every = 1,
        ];
        for edit in edits {
            let mut candidate = self.best.clone();
            edit(&mut candidate);
            self.try_keep(candidate);
        }
    }
}

fn replace_key(op: Op, from: u64, to: u64) -> Op {
    match op.key() {
        Some(key) if key == from => op.with_key(to),
        _ => op,
    }
}

/// The entry count of an `extend` or `from-iter`, and the op with another count.
fn entry_count(op: Op) -> Option<(u8, impl Fn(u8) -> Op)> {
    match op {
        Op::Extend { key, count, value } => Some((
            count,
            Box::new(move |count| Op::Extend { key, count, value }) as Box<dyn Fn(u8) -> Op>,
        )),
        Op::FromIter { key, count, value } => Some((
            count,
            Box::new(move |count| Op::FromIter { key, count, value }) as Box<dyn Fn(u8) -> Op>,
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::{FailureKind, Stage};
    use crate::gen::generate_with;
    use crate::program::Config;

    #[test]
    fn a_clean_program_is_never_accepted_as_a_candidate() {
        // A failure the map cannot produce: every candidate runs clean and is rejected.
        let config = Config {
            len: 40,
            ..Config::default()
        };
        let program = generate_with(&config, 1);
        let failure = Failure {
            step: program.ops.len() - 1,
            stage: Stage::at(&program.ops, program.ops.len() - 1),
            kind: FailureKind::Panic,
            expected: String::new(),
            found: String::new(),
            diagram: String::new(),
        };
        let shrunk = shrink(&program, &failure);
        assert_eq!(shrunk.program, program);
        assert_eq!(shrunk.after_len, shrunk.before_len);
        assert!(shrunk.runs > 0);
    }

    #[test]
    fn a_hang_is_shrunk_by_its_judge_alone_to_the_ops_it_needs() {
        // A stand-in for a map that never returns: it "hangs" once a cursor is made over a map
        // that has held at least 20 distinct keys. The judge is all the shrinker asks.
        let config = Config {
            len: 400,
            ..Config::default()
        };
        let program = generate_with(&config, 3);
        let hangs = |p: &Program| {
            let mut keys = BTreeSet::new();
            p.ops.iter().any(|op| match *op {
                Op::Insert { key, .. } => {
                    keys.insert(key);
                    false
                }
                Op::CursorNew { .. } => keys.len() >= 20,
                _ => false,
            })
        };
        assert!(hangs(&program), "the generated program is one that hangs");
        let target = target::lookup("map-core").unwrap();
        let shrunk = shrink_hang(&program, target, &hangs);
        assert!(hangs(&shrunk.program));
        assert_eq!(
            shrunk.after_len, 21,
            "20 inserts and the cursor: {:?}",
            shrunk.program.ops
        );
        assert_eq!(shrunk.before_len, program.ops.len());
        assert!(shrunk.runs > 0);
    }

    #[test]
    fn keys_are_lowered_within_their_class() {
        let config = Config {
            hasher: HasherMode::CollideLowBits,
            ..Config::default()
        };
        let p = Program::new(
            config,
            vec![Op::Insert { key: 13, value: 5 }, Op::Remove { key: 13 }],
        );
        let lowered: Vec<Op> = p.ops.iter().map(|op| replace_key(*op, 13, 1)).collect();
        assert_eq!(
            lowered,
            vec![Op::Insert { key: 1, value: 5 }, Op::Remove { key: 1 }]
        );
        assert!(HasherMode::CollideLowBits.same_class(13, 1));
        assert!(!HasherMode::CollideLowBits.same_class(13, 2));
    }
}
