//! Trace files: a program as text a person can read, edit and replay.
//!
//! ```text
//! sim-trace 1
//! seed 42
//! map-seed 8034751160413577052
//! hasher collide-low-bits 1234
//! capacity 0
//! key-space 64
//! max-cursors 2
//! audit-every 1
//! weights insert=10 remove=3 get=2 clear=0 cursor-new=1 cursor-step=5 cursor-drop=1 force-grow=1 force-same-size-grow=0 evacuate-step=2 audit=0
//! length 40
//! fault none
//! ops
//! insert 5 1
//! cursor-new c0
//! cursor-step c0 3
//! ```
//!
//! The first line gives the format version. The header fields follow, each exactly once, in any
//! order (`seed none` when the program was not generated from a seed), and optionally
//! `target NAME` (the map the program runs on; without it, map-core, so every trace written
//! before targets existed replays as it did; it is printed only for other targets); `ops` ends
//! the header and
//! every following line is one op. Blank lines and lines starting with `#` are ignored.
//! `parse(&print(p)) == p` for every valid program.

use std::collections::BTreeMap;
use std::fmt::{self, Write};
use std::str::FromStr;

use map_core::Fault;

use crate::op::{CursorId, Op, OpKind};
use crate::program::{Config, HasherMode, OpWeights, Program};
use crate::target::DEFAULT_TARGET;

/// The format version this module writes and reads.
pub const VERSION: u32 = 1;

const MAGIC: &str = "sim-trace";

/// Why a trace was rejected: the 1-based line and what was expected there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    /// 1-based line number (the last line + 1 when the text ended too early).
    pub line: usize,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for TraceError {}

/// The trace text of a program.
pub fn print(program: &Program) -> String {
    let c = &program.config;
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_trace(&mut out, c, &program.ops);
    out
}

fn write_trace(out: &mut String, c: &Config, ops: &[Op]) -> fmt::Result {
    writeln!(out, "{MAGIC} {VERSION}")?;
    match c.seed {
        Some(seed) => writeln!(out, "seed {seed}")?,
        None => writeln!(out, "seed none")?,
    }
    writeln!(out, "map-seed {}", c.map_seed)?;
    writeln!(out, "hasher {} {}", c.hasher.name(), c.hasher_seed)?;
    writeln!(out, "capacity {}", c.initial_capacity)?;
    writeln!(out, "key-space {}", c.key_space)?;
    writeln!(out, "max-cursors {}", c.max_cursors)?;
    writeln!(out, "audit-every {}", c.audit_every)?;
    write!(out, "weights")?;
    for kind in OpKind::ALL {
        write!(out, " {}={}", kind.name(), c.weights.get(kind))?;
    }
    writeln!(out)?;
    writeln!(out, "length {}", c.len)?;
    match c.fault {
        Some(fault) => writeln!(out, "fault {fault}")?,
        None => writeln!(out, "fault none")?,
    }
    if c.target != DEFAULT_TARGET {
        writeln!(out, "target {}", c.target)?;
    }
    writeln!(out, "ops")?;
    for op in ops {
        writeln!(out, "{op}")?;
    }
    Ok(())
}

/// Parses a trace, rejecting anything malformed with its line number.
pub fn parse(text: &str) -> Result<Program, TraceError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'));
    let end_line = text.lines().count() + 1;

    let (line, first) = lines.next().ok_or_else(|| TraceError {
        line: end_line,
        message: format!("expected `{MAGIC} {VERSION}`, found an empty file"),
    })?;
    let version = first.strip_prefix(MAGIC).map(str::trim);
    match version {
        Some(v) if v == VERSION.to_string() => {}
        Some(v) => {
            return Err(err(
                line,
                format!("unsupported trace version `{v}` (this sim reads version {VERSION})"),
            ))
        }
        None => {
            return Err(err(
                line,
                format!("expected `{MAGIC} {VERSION}`, found `{first}`"),
            ))
        }
    }

    let mut header = Header::default();
    let mut ops_line = None;
    for (line, text) in lines.by_ref() {
        if text == "ops" {
            ops_line = Some(line);
            break;
        }
        header.field(line, text)?;
    }
    let ops_line = ops_line.ok_or_else(|| {
        err(
            end_line,
            "expected the `ops` line ending the header".to_string(),
        )
    })?;
    let config = header.finish(ops_line)?;

    let ops = lines
        .map(|(line, text)| parse_op(text).map_err(|m| err(line, m)))
        .collect::<Result<_, _>>()?;
    Ok(Program::new(config, ops))
}

fn err(line: usize, message: String) -> TraceError {
    TraceError { line, message }
}

/// The header fields seen so far, with the line each came from.
#[derive(Default)]
struct Header {
    seed: Option<Option<u64>>,
    map_seed: Option<u64>,
    hasher: Option<(HasherMode, u64)>,
    capacity: Option<u32>,
    key_space: Option<u64>,
    max_cursors: Option<u8>,
    audit_every: Option<u32>,
    weights: Option<OpWeights>,
    len: Option<u32>,
    fault: Option<Option<Fault>>,
    target: Option<String>,
    lines: BTreeMap<&'static str, usize>,
}

/// Every header field and its syntax; all but `target` are required.
const FIELDS: [(&str, &str); 11] = [
    ("seed", "seed <u64 | none>"),
    ("map-seed", "map-seed <u64>"),
    (
        "hasher",
        "hasher <seeded | collide-low-bits | collide-tophash | constant> <u64 seed>",
    ),
    ("capacity", "capacity <u32>"),
    ("key-space", "key-space <u64>"),
    ("max-cursors", "max-cursors <0..=4>"),
    ("audit-every", "audit-every <u32 >= 1>"),
    (
        "weights",
        "weights insert=<u16> remove=<u16> ... from-iter=<u16> (every op kind, in op order)",
    ),
    ("length", "length <u32>"),
    ("fault", "fault <none | fault name>"),
    ("target", "target <name: lowercase letters, digits, `-`>"),
];

impl Header {
    fn field(&mut self, line: usize, text: &str) -> Result<(), TraceError> {
        let (name, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        let rest = rest.trim();
        let Some(&(name, syntax)) = FIELDS.iter().find(|(n, _)| *n == name) else {
            let known: Vec<&str> = FIELDS.iter().map(|(n, _)| *n).collect();
            return Err(err(
                line,
                format!(
                    "expected a header field ({}) or `ops`, found `{text}`",
                    known.join(", ")
                ),
            ));
        };
        if let Some(first) = self.lines.insert(name, line) {
            return Err(err(
                line,
                format!("`{name}` given twice (first on line {first})"),
            ));
        }
        let bad = || err(line, format!("expected `{syntax}`, found `{text}`"));
        match name {
            "seed" => {
                self.seed = Some(if rest == "none" {
                    None
                } else {
                    Some(number(rest).ok_or_else(bad)?)
                })
            }
            "map-seed" => self.map_seed = Some(number(rest).ok_or_else(bad)?),
            "hasher" => {
                let mut words = rest.split_whitespace();
                let mode = words
                    .next()
                    .and_then(HasherMode::from_name)
                    .ok_or_else(bad)?;
                let seed = words.next().and_then(number).ok_or_else(bad)?;
                if words.next().is_some() {
                    return Err(bad());
                }
                self.hasher = Some((mode, seed));
            }
            "capacity" => self.capacity = Some(number(rest).ok_or_else(bad)?),
            "key-space" => self.key_space = Some(number(rest).ok_or_else(bad)?),
            "max-cursors" => self.max_cursors = Some(number(rest).ok_or_else(bad)?),
            "audit-every" => self.audit_every = Some(number(rest).ok_or_else(bad)?),
            "weights" => self.weights = Some(parse_weights(rest).map_err(|m| err(line, m))?),
            "length" => self.len = Some(number(rest).ok_or_else(bad)?),
            "fault" => {
                let fault = match rest {
                    "none" => None,
                    name => Some(Fault::from_str(name).map_err(|_| {
                        let names: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
                        err(
                            line,
                            format!(
                                "unknown fault `{name}`; expected `none` or one of: {}",
                                names.join(", ")
                            ),
                        )
                    })?),
                };
                self.fault = Some(fault);
            }
            "target" => {
                if !crate::target::is_valid_name(rest) {
                    return Err(bad());
                }
                self.target = Some(rest.to_string());
            }
            _ => unreachable!("every name in FIELDS is handled"),
        }
        Ok(())
    }

    fn finish(self, ops_line: usize) -> Result<Config, TraceError> {
        let missing = |name: &str| {
            let syntax = FIELDS
                .iter()
                .find(|(n, _)| *n == name)
                .map_or("", |(_, s)| s);
            err(
                ops_line,
                format!("header field `{name}` missing before `ops` (expected `{syntax}`)"),
            )
        };
        let (hasher, hasher_seed) = self.hasher.ok_or_else(|| missing("hasher"))?;
        let config = Config {
            seed: self.seed.ok_or_else(|| missing("seed"))?,
            map_seed: self.map_seed.ok_or_else(|| missing("map-seed"))?,
            hasher,
            hasher_seed,
            initial_capacity: self.capacity.ok_or_else(|| missing("capacity"))?,
            key_space: self.key_space.ok_or_else(|| missing("key-space"))?,
            max_cursors: self.max_cursors.ok_or_else(|| missing("max-cursors"))?,
            audit_every: self.audit_every.ok_or_else(|| missing("audit-every"))?,
            weights: self.weights.ok_or_else(|| missing("weights"))?,
            len: self.len.ok_or_else(|| missing("length"))?,
            fault: self.fault.ok_or_else(|| missing("fault"))?,
            target: self.target.unwrap_or_else(|| DEFAULT_TARGET.to_string()),
        };
        // Validation messages start with the field's name: point at that field's line.
        config.validate().map_err(|message| {
            let field = message.split_whitespace().next().unwrap_or("");
            let line = self.lines.get(field).copied().unwrap_or(ops_line);
            err(line, message)
        })?;
        Ok(config)
    }
}

fn number<T: FromStr>(text: &str) -> Option<T> {
    // `FromStr` for integers accepts a leading `+`; the format does not.
    if text.starts_with('+') {
        return None;
    }
    text.parse().ok()
}

/// How many op kinds existed before the Rust-API ops: traces written then list only these.
const KINDS_BEFORE_API_OPS: usize = 11;

/// `kind=<u16>` for every op kind, in op order; a trace written before the Rust-API ops existed
/// lists only the first [`KINDS_BEFORE_API_OPS`] kinds, and those weigh 0 for it (it never drew
/// them).
fn parse_weights(text: &str) -> Result<OpWeights, String> {
    let mut weights = OpWeights::default();
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() != OpKind::ALL.len() && words.len() != KINDS_BEFORE_API_OPS {
        return Err(format!(
            "expected `weights` with {} entries `kind=<u16>` (one per op kind, in op order; traces \
             written before the map-API ops have the first {KINDS_BEFORE_API_OPS}), found {}",
            OpKind::ALL.len(),
            words.len()
        ));
    }
    for (kind, word) in OpKind::ALL.into_iter().zip(words) {
        let weight = word
            .strip_prefix(kind.name())
            .and_then(|w| w.strip_prefix('='))
            .and_then(number)
            .ok_or_else(|| {
                format!(
                    "expected `{}=<u16>` in `weights`, found `{word}`",
                    kind.name()
                )
            })?;
        weights.set(kind, weight);
    }
    Ok(weights)
}

fn parse_op(text: &str) -> Result<Op, String> {
    let mut words = text.split_whitespace();
    let name = words.next().unwrap_or("");
    let Some(kind) = OpKind::from_name(name) else {
        let names: Vec<&str> = OpKind::ALL.iter().map(|k| k.name()).collect();
        return Err(format!(
            "expected an op ({}), found `{text}`",
            names.join(", ")
        ));
    };
    let args: Vec<&str> = words.collect();
    let syntax = match kind {
        OpKind::Insert => "insert <key> <value>",
        OpKind::Remove => "remove <key>",
        OpKind::Get => "get <key>",
        OpKind::CursorNew => "cursor-new <c0..c3>",
        OpKind::CursorStep => "cursor-step <c0..c3> <steps: u16>",
        OpKind::CursorDrop => "cursor-drop <c0..c3>",
        OpKind::GetMut => "get-mut <key> <value>",
        OpKind::ContainsKey => "contains <key>",
        OpKind::Index => "index <key>",
        OpKind::CloneInsert => "clone-insert <key> <value>",
        OpKind::CloneRemove => "clone-remove <key>",
        OpKind::Extend => "extend <first key> <count: u8> <first value>",
        OpKind::FromIter => "from-iter <first key> <count: u8> <first value>",
        OpKind::Clear
        | OpKind::ForceGrow
        | OpKind::ForceSameSizeGrow
        | OpKind::EvacuateStep
        | OpKind::Audit
        | OpKind::Iter
        | OpKind::Clone
        | OpKind::Eq => kind.name(),
    };
    let bad = || format!("expected `{syntax}`, found `{text}`");
    let op = match (kind, args.as_slice()) {
        (OpKind::Insert, [key, value]) => Op::Insert {
            key: number(key).ok_or_else(bad)?,
            value: number(value).ok_or_else(bad)?,
        },
        (OpKind::Remove, [key]) => Op::Remove {
            key: number(key).ok_or_else(bad)?,
        },
        (OpKind::Get, [key]) => Op::Get {
            key: number(key).ok_or_else(bad)?,
        },
        (OpKind::CursorNew, [c]) => Op::CursorNew {
            cursor: cursor(c).ok_or_else(bad)?,
        },
        (OpKind::CursorStep, [c, steps]) => Op::CursorStep {
            cursor: cursor(c).ok_or_else(bad)?,
            steps: number(steps).ok_or_else(bad)?,
        },
        (OpKind::CursorDrop, [c]) => Op::CursorDrop {
            cursor: cursor(c).ok_or_else(bad)?,
        },
        (OpKind::Clear, []) => Op::Clear,
        (OpKind::ForceGrow, []) => Op::ForceGrow,
        (OpKind::ForceSameSizeGrow, []) => Op::ForceSameSizeGrow,
        (OpKind::EvacuateStep, []) => Op::EvacuateStep,
        (OpKind::Audit, []) => Op::Audit,
        (OpKind::GetMut, [key, value]) => Op::GetMut {
            key: number(key).ok_or_else(bad)?,
            value: number(value).ok_or_else(bad)?,
        },
        (OpKind::ContainsKey, [key]) => Op::ContainsKey {
            key: number(key).ok_or_else(bad)?,
        },
        (OpKind::Index, [key]) => Op::Index {
            key: number(key).ok_or_else(bad)?,
        },
        (OpKind::Iter, []) => Op::Iter,
        (OpKind::Clone, []) => Op::Clone,
        (OpKind::CloneInsert, [key, value]) => Op::CloneInsert {
            key: number(key).ok_or_else(bad)?,
            value: number(value).ok_or_else(bad)?,
        },
        (OpKind::CloneRemove, [key]) => Op::CloneRemove {
            key: number(key).ok_or_else(bad)?,
        },
        (OpKind::Eq, []) => Op::Eq,
        (OpKind::Extend, [key, count, value]) => Op::Extend {
            key: number(key).ok_or_else(bad)?,
            count: number(count).ok_or_else(bad)?,
            value: number(value).ok_or_else(bad)?,
        },
        (OpKind::FromIter, [key, count, value]) => Op::FromIter {
            key: number(key).ok_or_else(bad)?,
            count: number(count).ok_or_else(bad)?,
            value: number(value).ok_or_else(bad)?,
        },
        _ => return Err(bad()),
    };
    Ok(op)
}

fn cursor(text: &str) -> Option<CursorId> {
    text.strip_prefix('c')
        .and_then(number)
        .and_then(CursorId::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::generate;

    #[test]
    fn generated_programs_round_trip() {
        for seed in 0..200 {
            let program = generate(seed);
            let text = print(&program);
            assert_eq!(parse(&text), Ok(program), "seed {seed}:\n{text}");
        }
    }

    #[test]
    fn every_op_kind_and_a_fault_round_trip() {
        let c = CursorId::ALL[3];
        let ops = vec![
            Op::Insert {
                key: u64::MAX,
                value: 0,
            },
            Op::Remove { key: 1 },
            Op::Get { key: 2 },
            Op::Clear,
            Op::CursorNew { cursor: c },
            Op::CursorStep {
                cursor: c,
                steps: u16::MAX,
            },
            Op::CursorDrop { cursor: c },
            Op::ForceGrow,
            Op::ForceSameSizeGrow,
            Op::EvacuateStep,
            Op::Audit,
            Op::GetMut { key: 3, value: 4 },
            Op::ContainsKey { key: 5 },
            Op::Index { key: 6 },
            Op::Iter,
            Op::Clone,
            Op::CloneInsert { key: 7, value: 8 },
            Op::CloneRemove { key: 9 },
            Op::Eq,
            Op::Extend {
                key: 10,
                count: 255,
                value: 11,
            },
            Op::FromIter {
                key: 12,
                count: 0,
                value: 13,
            },
        ];
        assert_eq!(ops.iter().map(Op::kind).collect::<Vec<_>>(), OpKind::ALL);
        for fault in Fault::ALL {
            let config = Config {
                fault: Some(fault),
                hasher: HasherMode::Constant,
                ..Config::default()
            };
            let program = Program::new(config, ops.clone());
            assert_eq!(parse(&print(&program)), Ok(program));
        }
    }

    #[test]
    fn a_trace_names_its_target_unless_it_is_the_default() {
        let program = generate(5);
        assert!(!print(&program).contains("\ntarget "));
        let mut on_go = program.clone();
        on_go.config.target = "go".to_string();
        let text = print(&on_go);
        assert!(text.contains("\ntarget go\nops\n"), "{text}");
        assert_eq!(parse(&text), Ok(on_go));
        let bad = text.replace("target go", "target Go!");
        assert!(rejection(&bad).message.contains("target <name"));
    }

    #[test]
    fn weights_lines_of_older_traces_leave_newer_kinds_at_zero() {
        let text = valid().replace(
            valid().lines().find(|l| l.starts_with("weights")).unwrap(),
            "weights insert=3 remove=2 get=1 clear=0 cursor-new=0 cursor-step=0 cursor-drop=0 \
             force-grow=0 force-same-size-grow=0 evacuate-step=0 audit=0",
        );
        let weights = parse(&text)
            .expect("an older weights line parses")
            .config
            .weights;
        assert_eq!(weights, OpWeights::plain(3, 2, 1, 0));
    }

    #[test]
    fn comments_and_blank_lines_are_ignored() {
        let program = generate(3);
        let text = print(&program).replace("\nops\n", "\n# a note\n\nops\n\n");
        assert_eq!(parse(&text), Ok(program));
    }

    fn rejection(text: &str) -> TraceError {
        parse(text).expect_err("malformed trace accepted")
    }

    fn valid() -> String {
        print(&Program::new(
            Config::default(),
            vec![Op::Insert { key: 1, value: 2 }, Op::Clear],
        ))
    }

    #[test]
    fn malformed_traces_are_rejected_with_their_line() {
        let cases: [(String, usize, &str); 14] = [
            (String::new(), 1, "empty file"),
            ("trace 1\n".to_string(), 1, "expected `sim-trace 1`"),
            (
                valid().replace("sim-trace 1", "sim-trace 9"),
                1,
                "unsupported trace version",
            ),
            (
                valid().replace("map-seed 0", "map-seed -1"),
                3,
                "map-seed <u64>",
            ),
            (
                valid().replace("hasher seeded", "hasher fancy"),
                4,
                "hasher <seeded",
            ),
            (
                valid().replace("key-space 64", "key-space 0"),
                6,
                "key-space 0 is not in",
            ),
            (
                valid().replace("max-cursors 2", "max-cursors 9"),
                7,
                "max-cursors 9 is above",
            ),
            (valid().replace("get=1", "gte=1"), 9, "expected `get=<u16>`"),
            (valid().replace("get=1", "get=x"), 9, "expected `get=<u16>`"),
            (
                valid().replace(" eq=1", ""),
                9,
                "expected `weights` with 21 entries",
            ),
            (
                valid().replace("fault none", "fault gremlins"),
                11,
                "unknown fault `gremlins`",
            ),
            (valid().replace("length 100\n", ""), 11, "`length` missing"),
            (
                valid().replace("insert 1 2", "insert 1"),
                13,
                "expected `insert <key> <value>`",
            ),
            (
                valid().replace("\nclear\n", "\ncursor-step c4 1\n"),
                14,
                "cursor-step <c0..c3>",
            ),
        ];
        for (text, line, message) in cases {
            let e = rejection(&text);
            assert_eq!(e.line, line, "{e} for:\n{text}");
            assert!(e.message.contains(message), "{e:?} lacks {message:?}");
        }
    }

    #[test]
    fn duplicate_unknown_and_missing_parts_are_named() {
        let twice = valid().replace("length 100\n", "length 100\nlength 5\n");
        assert!(rejection(&twice)
            .message
            .contains("given twice (first on line 10)"));
        let unknown = valid().replace("length 100\n", "colour blue\n");
        assert!(rejection(&unknown).message.contains("found `colour blue`"));
        let no_ops = valid().split("ops\n").next().unwrap().to_string();
        assert!(rejection(&no_ops).message.contains("`ops`"));
        assert!(rejection(&valid().replace("\nclear\n", "\njump\n"))
            .message
            .contains("expected an op"));
        assert!(rejection(&valid().replace("\nclear\n", "\nclear now\n"))
            .message
            .contains("expected `clear`"));
        assert!(rejection(&valid().replace("insert 1 2", "insert +1 2"))
            .message
            .contains("insert <key>"));
    }
}
