//! Seed corpora: small inputs made from the simulator's generated programs, chosen so that
//! together they reach every hard state the executor counts ([`crate::coverage`]).

use std::fs;
use std::io;
use std::path::Path;

use super::{check, decode, encode_churn, encode_fill, encode_ops, encode_within, Target};
use crate::coverage::Coverage;
use crate::gen;
use crate::op::{CursorId, Op};

/// File names of generated inputs start with this; regenerating replaces only these files, so
/// inputs added by hand (or by a fuzzer worth keeping) stay.
pub const SEED_PREFIX: &str = "gen-";

/// Candidate programs drawn per input kept.
const CANDIDATES_PER_INPUT: u64 = 8;

/// How many chosen inputs should reach each state before reach stops counting in the choice.
const QUOTA: u64 = 4;

/// The largest input kept, in bytes: the longest input the fuzzer itself makes (`-max_len`), which
/// holds about as many ops as the target reads.
fn max_bytes(target: Target) -> usize {
    target.max_len()
}

struct Candidate {
    seed: u64,
    bytes: Vec<u8>,
    reached: [bool; Coverage::STATES],
}

/// `count` inputs for `target`, named `gen-<seed>`: generated programs, encoded within the size
/// limit, that run clean and between them reach each coverage state (greedily, `QUOTA` times).
/// The same arguments give the same inputs.
pub fn seed_inputs(target: Target, count: usize) -> Vec<(String, Vec<u8>)> {
    let mut candidates: Vec<Candidate> = (0..count as u64 * CANDIDATES_PER_INPUT)
        .filter_map(|seed| {
            let bytes = encode_within(target, &gen::generate(seed), max_bytes(target));
            // The corpus must replay clean, so a program that fails (a map bug) is left out.
            let stats = check(target, &decode(target, &bytes)).ok()?;
            let reached = stats.coverage.entries().map(|(_, events)| events > 0);
            Some(Candidate {
                seed,
                bytes,
                reached,
            })
        })
        .collect();
    let mut reach_counts = [0u64; Coverage::STATES];
    let mut chosen = Vec::new();
    while chosen.len() < count && !candidates.is_empty() {
        // Most states still under quota, then most states, then the smallest, then the first seed.
        let score = |c: &Candidate| {
            let fresh = c
                .reached
                .iter()
                .zip(&reach_counts)
                .filter(|(r, n)| **r && **n < QUOTA)
                .count();
            let all = c.reached.iter().filter(|r| **r).count();
            (fresh, all, usize::MAX - c.bytes.len(), u64::MAX - c.seed)
        };
        let best = (0..candidates.len())
            .max_by_key(|&i| score(&candidates[i]))
            .unwrap_or(0);
        let pick = candidates.swap_remove(best);
        for (n, reached) in reach_counts.iter_mut().zip(pick.reached) {
            *n += u64::from(reached);
        }
        chosen.push(pick);
    }
    chosen.sort_by_key(|c| c.seed);
    chosen
        .into_iter()
        .map(|c| (format!("{SEED_PREFIX}{:05}", c.seed), c.bytes))
        .collect()
}

/// What [`write_seed_corpus`] wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CorpusWritten {
    /// Files written.
    pub files: usize,
    /// Their total size.
    pub bytes: usize,
}

/// Replaces the generated inputs (`gen-*`) in `dir` with [`seed_inputs`]`(target, count)`,
/// leaving every other file there alone.
pub fn write_seed_corpus(target: Target, dir: &Path, count: usize) -> io::Result<CorpusWritten> {
    fs::create_dir_all(dir)?;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(SEED_PREFIX) {
            fs::remove_file(entry.path())?;
        }
    }
    let mut written = CorpusWritten { files: 0, bytes: 0 };
    for (name, bytes) in seed_inputs(target, count) {
        fs::write(dir.join(name), &bytes)?;
        written.files += 1;
        written.bytes += bytes.len();
    }
    Ok(written)
}

/// Dictionary entries for `target`: the encodings of short op sequences that reach growth with
/// live entries (a run of inserts, then a forced growth, then removes and re-inserts of keys the
/// run inserted) or pile up overflow buckets (rounds of churn in one chain), the states where
/// this map's bugs live. libFuzzer splices them into inputs.
pub fn dictionary(target: Target) -> Vec<Vec<u8>> {
    let c0 = CursorId::ALL[0];
    let sequences: Vec<Vec<Op>> = vec![
        vec![Op::ForceGrow],
        vec![Op::ForceSameSizeGrow],
        vec![Op::EvacuateStep, Op::EvacuateStep],
        vec![Op::Remove { key: 3 }, Op::Insert { key: 3, value: 2 }],
        vec![Op::ForceGrow, Op::Remove { key: 5 }],
        vec![
            Op::ForceGrow,
            Op::Insert { key: 200, value: 1 },
            Op::Remove { key: 1 },
        ],
        vec![Op::Clear, Op::Insert { key: 1, value: 1 }],
        vec![
            Op::Insert { key: 0, value: 0 },
            Op::CursorNew { cursor: c0 },
            Op::Clear,
        ],
        vec![
            Op::CursorNew { cursor: c0 },
            Op::CursorStep {
                cursor: c0,
                steps: 3,
            },
        ],
        vec![
            Op::CursorNew { cursor: c0 },
            Op::ForceGrow,
            Op::CursorStep {
                cursor: c0,
                steps: 256,
            },
        ],
        vec![
            Op::CursorStep {
                cursor: c0,
                steps: 2,
            },
            Op::Remove { key: 2 },
            Op::Insert { key: 2, value: 3 },
        ],
        vec![
            Op::CursorStep {
                cursor: c0,
                steps: 1,
            },
            Op::Clear,
            Op::CursorStep {
                cursor: c0,
                steps: 256,
            },
        ],
    ];
    // Runs of inserts big enough for one, two and three doublings from an empty map.
    let mut entries: Vec<Vec<u8>> = [9, 16, 64]
        .iter()
        .map(|&n| encode_fill(target, n, 0, 1))
        .collect();
    // Rounds of churn one key over a bucket's 8 slots, in each of the four hash classes: a few
    // of them pile up overflow buckets (see `decode`'s `churn`).
    entries.extend((0..4).filter_map(|class| encode_churn(target, 9, class, 1)));
    for mut ops in sequences {
        ops.retain(|op| target_has(target, op));
        let bytes = encode_ops(target, &ops);
        if !ops.is_empty() && !entries.contains(&bytes) {
            entries.push(bytes);
        }
    }
    entries
}

fn target_has(target: Target, op: &Op) -> bool {
    let program = crate::program::Program::new(crate::program::Config::default(), vec![*op]);
    !super::project(target, &program).ops.is_empty()
}

/// [`dictionary`] in libFuzzer's format: one `"..."` entry a line, bytes as `\xNN`.
pub fn dictionary_text(target: Target) -> String {
    let mut text = format!("# {target}: op sequences (see sim::fuzz_input::dictionary); regenerate with `cargo xtask fuzz-corpus`\n");
    for (i, entry) in dictionary(target).iter().enumerate() {
        let escaped: String = entry.iter().map(|b| format!("\\x{b:02x}")).collect();
        text.push_str(&format!("seq{i}=\"{escaped}\"\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_inputs_are_deterministic_small_and_clean() {
        let first = seed_inputs(Target::DuplicateYield, 6);
        assert_eq!(first.len(), 6);
        assert_eq!(first, seed_inputs(Target::DuplicateYield, 6));
        for (name, bytes) in &first {
            assert!(name.starts_with(SEED_PREFIX));
            assert!(
                bytes.len() <= max_bytes(Target::DuplicateYield),
                "{name}: {} bytes",
                bytes.len()
            );
            assert!(check(
                Target::DuplicateYield,
                &decode(Target::DuplicateYield, bytes)
            )
            .is_ok());
        }
    }

    #[test]
    fn seed_inputs_reach_cursor_states_for_the_cursor_target() {
        let mut reached = Coverage::default();
        for (_, bytes) in seed_inputs(Target::DuplicateYield, 8) {
            let stats = check(
                Target::DuplicateYield,
                &decode(Target::DuplicateYield, &bytes),
            )
            .unwrap();
            reached.add(&stats.coverage);
        }
        assert!(
            reached.growth_with_cursor > 0 && reached.relookups > 0,
            "{reached:?}"
        );
    }

    #[test]
    fn dictionary_entries_decode_to_ops_of_the_target() {
        for target in Target::ALL {
            let entries = dictionary(target);
            assert!(entries.len() >= 5, "{target}: {} entries", entries.len());
            for entry in &entries {
                let mut input = vec![0u8; super::super::decode::HEADER_LEN];
                input.extend(entry);
                assert!(!decode(target, &input).ops.is_empty());
            }
            let text = dictionary_text(target);
            assert_eq!(
                text.lines().filter(|l| l.starts_with("seq")).count(),
                entries.len()
            );
        }
    }

    #[test]
    fn regenerating_keeps_files_added_by_hand() {
        let dir = std::env::temp_dir().join(format!("sim-corpus-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("crash-regression"), b"kept").unwrap();
        fs::write(dir.join(format!("{SEED_PREFIX}99999")), b"stale").unwrap();
        let written = write_seed_corpus(Target::Corruption, &dir, 3).unwrap();
        assert_eq!(written.files, 3);
        let mut names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names.len(), 4, "{names:?}");
        assert!(names.contains(&"crash-regression".to_string()));
        assert!(!names.contains(&format!("{SEED_PREFIX}99999")));
        fs::remove_dir_all(dir).unwrap();
    }
}
