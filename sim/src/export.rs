//! Standalone reproducers of a trace: a Go program on Go's runtime map, or a Rust test on
//! map-core's public API, each with a small embedded copy of the model's rules.
//!
//! Both judge by the rules of [`crate::model`] (semantics.md §2): every plain op's result and
//! `len` after every op; per cursor and per key incarnation, at most one yield (rule 1), never an
//! absent key (rules 2, 7), the current value (rule 3), every entry present since the cursor's
//! creation before its end (rule 4), new incarnations optional (rule 5); at the end of the program
//! every live cursor is drained (with a step budget, rule 6) and the whole contents compared.
//! They do not pin the yields of today's map: a reproducer must keep judging correctly when the
//! map's iteration order changes.
//!
//! The ops travel as a data table in the trace's own op syntax (a string constant parsed at
//! start-up), not as generated code: a trace of 10^5 ops stays one string literal that compiles
//! at once, where straight-line code would be one huge function for the compiler, and the table
//! reads exactly like the trace it came from. Op `i` of the table is step `i` of sim, so a
//! reproducer's op numbers are the ones `sim replay --verbose` prints.
//!
//! Output is a function of the program alone: the same trace gives the same bytes.

use std::fmt::Write;
use std::hash::BuildHasher;

use crate::hasher::SimHasher;
use crate::op::{Op, OpKind};
use crate::program::{HasherMode, Program};
use crate::target::{DEFAULT_TARGET, MAX_FORCED_BUCKETS};
use crate::trace;

/// The ops a Go map has no equivalent for: they control map-core's internals.
const GO_SKIPPED: [OpKind; 4] = [
    OpKind::ForceGrow,
    OpKind::ForceSameSizeGrow,
    OpKind::EvacuateStep,
    OpKind::Audit,
];

/// The ops of Rust's map API that a Go map can only approximate, with what the program checks
/// instead, for the header of a program that uses them.
const GO_APPROXIMATED: [(OpKind, &str); 2] = [
    (
        OpKind::Index,
        "Rust's map[&k] panics when k is absent; Go's m[k]\n\
         // cannot: it is the zero value. The value is checked when k is present; absence is\n\
         // checked as a comma-ok lookup that reports k absent (and m[k] the zero value), not as\n\
         // a panic.",
    ),
    (
        OpKind::Eq,
        "Go has no == on maps. This checks the Go map's contents\n\
         // entry by entry (mapEqual: the same length, every key with the same value), not an\n\
         // equality operator: m must equal a map of the reference's entries, and m must equal\n\
         // the second map exactly when the two references hold the same entries.",
    ),
];

/// The keys whose hashes the Rust test checks against sim's.
const HASH_PROBES: [u64; 4] = [0, 1, 2, 3];

/// A standalone Go program (one `main.go`, standard library only, Go 1.19 or later) that runs
/// the program's ops on a `map[uint64]uint64` made with `make(map[uint64]uint64, capacity)`
/// and checks every answer and every iterator step by the model's rules.
///
/// Cursors are `reflect.MapIter`s (`reflect.ValueOf(m).MapRange()`), one `Next()` per step;
/// `clear` is Go 1.19's `for k := range m { delete(m, k) }` in a `//go:noinline` function, which
/// compiles to `runtime.mapclear`. Go draws a new hash seed and iteration start for every map, so
/// the program runs the ops `-runs N` times (default 100), each on a new map, reports the first
/// failing run (the op, the rule, expected and found) and how many runs failed, and exits 1 if
/// any did, 0 if none, 2 on bad usage. `force-grow`, `force-same-size-grow`, `evacuate-step` and
/// `audit` have no Go equivalent: they stay in the table as no-ops (so op numbers match sim's)
/// and the file's header counts them.
///
/// The ops of Rust's map API run on the Go map as near as Go allows, with the executor's
/// semantics: `contains` is a comma-ok lookup; `get-mut` assigns only when the key is present;
/// `index` is `m[k]`, checked for the value when the key is present and, since Go's `m[k]` never
/// panics, as a comma-ok lookup that reports it absent otherwise; `iter` is a `range` loop now;
/// `clone` copies the map into a second map, which `clone-insert` and `clone-remove` change, and
/// `from-iter` builds the second map from the entries in order; `extend` assigns the entries in
/// order; `eq` compares entry by entry, for Go has no `==` on maps. The second map's `len` is
/// checked after every op and its contents at the end. The header notes `index` and `eq` when
/// the trace uses them. The trace's map seed and hasher cannot be given to Go's
/// runtime and are not reproduced; nor is its fault, a deliberate bug of map-core's.
pub fn to_go(program: &Program) -> String {
    let c = &program.config;
    let mut out = String::new();
    out.push_str(GO_HEADER);
    for line in trace_header(program) {
        let _ = writeln!(out, "//\t{line}");
    }
    out.push_str("//\n");
    let _ = writeln!(
        out,
        "// Used: capacity ({}) and the ops. Not reproducible on Go's map: map-seed and hasher",
        c.initial_capacity
    );
    out.push_str("// (the runtime draws its own hash seed and iteration start for every map)");
    match c.fault {
        Some(fault) => {
            let _ = write!(
                out,
                ",\n// and fault {fault} (a deliberate bug of map-core's).\n"
            );
        }
        None => out.push_str(".\n"),
    }
    let skipped: Vec<String> = GO_SKIPPED
        .into_iter()
        .filter_map(|kind| {
            let n = program.ops.iter().filter(|op| op.kind() == kind).count();
            (n > 0).then(|| format!("{n} {}", kind.name()))
        })
        .collect();
    if skipped.is_empty() {
        out.push_str("// Skipped ops: none.\n");
    } else {
        let _ = writeln!(
            out,
            "// Skipped ops (Go's map has no equivalent; they stay in the table as no-ops so that\n\
             // op numbers match sim's): {}.",
            skipped.join(", ")
        );
    }
    for (kind, note) in GO_APPROXIMATED {
        let n = program.ops.iter().filter(|op| op.kind() == kind).count();
        if n > 0 {
            let _ = writeln!(out, "// {} ({n} in the table): {note}", kind.name());
        }
    }
    out.push('\n');
    out.push_str(GO_PRELUDE);
    let _ = writeln!(
        out,
        "// capacity is the trace's initial capacity: the map is make(map[uint64]uint64, capacity).\n\
         const capacity = {}\n",
        c.initial_capacity
    );
    out.push_str(
        "// program is the op table, in sim's trace syntax: op i is line i (counting from 0).\n",
    );
    out.push_str("const program = `");
    push_ops(&mut out, &program.ops);
    out.push_str("`\n\n");
    out.push_str(GO_HELPERS);
    out
}

/// A Rust integration test for `map-core/tests/` on map-core's public API alone (map-core must
/// not depend on sim), with one `#[test] fn test_name()`.
///
/// It builds the map as the trace's config says (capacity, map seed, and sim's `SimHasher` for
/// the trace's mode and seed, reproduced in the file as a small `BuildHasher` and cross-checked
/// against hashes sim computed at export), runs every op (growth controls included, through
/// map-core's public `force_grow`, `force_same_size_grow` and `evacuate_step`), audits every
/// `audit-every` ops, and checks every result and every cursor yield by the model's rules, then
/// drains every live cursor, audits and compares the contents. The ops of the Rust map API run
/// as the executor runs them: `get-mut` writes through `get_mut`, `contains` is `contains_key`,
/// `index` is `map[&k]` under `catch_unwind` (a panic is the answer for an absent key), `iter` a
/// full `iter()`, `eq` is `==` with a map built from the reference's entries and with the second
/// map, `extend` is `Extend`; `clone` and `from-iter` (`FromIterator`, with the reproduced
/// hasher's `Default`, sim's `SimHasher::default()`) make the second map, whose `len` is checked
/// after every op, audited with the map and whose contents are compared at the end. It injects
/// no fault: faults are sim's. Its output is rustfmt-clean and clippy-clean as generated.
pub fn to_rust(program: &Program, test_name: &str) -> String {
    rust_export(program, test_name, None)
}

/// [`to_rust`]'s test with the checker (everything after `fn shape`) not written out but
/// included: `include!(checker_path)`, a path from the test's own directory to the file sim
/// keeps the checker in, `sim/src/export/rust_checker.rs`. This is for a test kept inside this
/// workspace, such as map-core's committed one: it compiles the one copy of the checker that
/// every standalone export carries, instead of a second copy that could drift from it. Written
/// out in place of that line, the checker's text makes it exactly [`to_rust`]'s test.
pub fn to_rust_including_checker(program: &Program, test_name: &str, checker_path: &str) -> String {
    rust_export(program, test_name, Some(checker_path))
}

/// The Rust export, with the checker written out (`None`) or included from a path.
fn rust_export(program: &Program, test_name: &str, checker_path: Option<&str>) -> String {
    let c = &program.config;
    let mut out = String::new();
    out.push_str(RUST_HEADER);
    if let Some(path) = checker_path {
        let _ = writeln!(
            out,
            "//!\n//! The checker (everything after `fn shape`) is included from\n\
             //! `{path}`: the one copy of it, which every export writes out."
        );
    }
    if let Some(fault) = c.fault {
        let _ = writeln!(
            out,
            "//!\n//! The trace injects fault `{fault}` into sim's map; this test injects nothing."
        );
    }
    if c.target != DEFAULT_TARGET {
        let _ = writeln!(
            out,
            "//!\n//! The trace runs on target `{}`; this test runs it on map-core.",
            c.target
        );
    }
    out.push_str("//!\n//! The trace's header:\n//!\n//! ```text\n");
    for line in trace_header(program) {
        let _ = writeln!(out, "//! {line}");
    }
    out.push_str("//! ```\n\n");
    out.push_str(RUST_IMPORTS);
    let _ = write!(
        out,
        "/// The capacity the map is made with.\n\
         const CAPACITY: usize = {};\n\
         /// The map's seed: it fixes the iteration order, so the test replays exactly.\n\
         const MAP_SEED: u64 = {};\n\
         /// The seed of the trace's hasher (`{}`).\n\
         const HASHER_SEED: u64 = {};\n\
         /// The map is audited after every `AUDIT_EVERY`-th op, after an `audit` op and at the end.\n\
         const AUDIT_EVERY: u32 = {};\n\
         /// `force-grow` does nothing once the map has this many buckets, as in sim.\n\
         const MAX_FORCED_BUCKETS: usize = {};\n",
        c.initial_capacity,
        c.map_seed,
        c.hasher.name(),
        c.hasher_seed,
        c.audit_every,
        MAX_FORCED_BUCKETS
    );
    let hasher = SimHasher::new(c.hasher, c.hasher_seed);
    let _ = writeln!(
        out,
        "/// Hashes by sim's `SimHasher`, computed by sim at export: the reproduced hasher must agree.\n\
         const SIM_HASHES: [(u64, u64); {}] = [",
        HASH_PROBES.len()
    );
    for key in HASH_PROBES {
        let _ = writeln!(out, "    ({key}, {:#018x}),", hasher.hash_one(key));
    }
    out.push_str("];\n");
    let _ = writeln!(
        out,
        "/// Hashes by `SimHasher::default()`, which `FromIterator` builds maps with in sim.\n\
         const SIM_DEFAULT_HASHES: [(u64, u64); {}] = [",
        HASH_PROBES.len()
    );
    for key in HASH_PROBES {
        let _ = writeln!(
            out,
            "    ({key}, {:#018x}),",
            SimHasher::default().hash_one(key)
        );
    }
    out.push_str("];\n");
    out.push_str(
        "/// The ops in sim's trace syntax, one per line: op `i` is line `i` (counting from 0).\n",
    );
    if program.ops.is_empty() {
        out.push_str("const OPS: &str = \"\";\n");
    } else {
        // A `\` at the end of the first line drops its newline, so op 0 is the first line.
        out.push_str("const OPS: &str = \"\\\n");
        push_ops(&mut out, &program.ops);
        out.push_str("\";\n");
    }
    out.push_str(&RUST_TEST.replace("TEST_NAME", test_name));
    out.push_str(shape_fn(c.hasher));
    out.push('\n');
    match checker_path {
        None => out.push_str(RUST_CHECKER),
        Some(path) => {
            let _ = writeln!(out, "include!({path:?});");
        }
    }
    out
}

/// `SimHash::finish` for one mode, as the Rust source of `fn shape`.
fn shape_fn(mode: HasherMode) -> &'static str {
    match mode {
        HasherMode::Seeded => {
            "/// The trace's hasher, `seeded`: a well-mixed seeded hash.\n\
             fn shape(raw: u64) -> u64 {\n    mix(raw ^ HASHER_SEED)\n}\n"
        }
        HasherMode::CollideLowBits => {
            "/// The trace's hasher, `collide-low-bits`: the low byte is the key's class (key % 4).\n\
             fn shape(raw: u64) -> u64 {\n    (mix(raw ^ HASHER_SEED) & !0xFF) | (raw % 4)\n}\n"
        }
        HasherMode::CollideTophash => {
            "/// The trace's hasher, `collide-tophash`: the top byte is the key's class (key % 4).\n\
             fn shape(raw: u64) -> u64 {\n    (mix(raw ^ HASHER_SEED) & !(0xFF << 56)) | ((raw % 4) << 56)\n}\n"
        }
        HasherMode::Constant => {
            "/// The trace's hasher, `constant`: every key hashes alike.\n\
             fn shape(_raw: u64) -> u64 {\n    mix(HASHER_SEED)\n}\n"
        }
    }
}

/// The trace's header lines (up to, not including, `ops`), for the reproducer's comments.
fn trace_header(program: &Program) -> Vec<String> {
    let empty = Program::new(program.config.clone(), Vec::new());
    trace::print(&empty)
        .lines()
        .take_while(|line| *line != "ops")
        .map(str::to_string)
        .collect()
}

/// The ops, one per line in trace syntax, each line ending in a newline.
fn push_ops(out: &mut String, ops: &[Op]) {
    for op in ops {
        let _ = writeln!(out, "{op}");
    }
}

const GO_HEADER: &str = "\
// Code generated by `sim export --lang go` from a sim trace. DO NOT EDIT.

// A standalone reproducer: it runs the trace's ops on a Go map[uint64]uint64 and checks every
// answer and every iterator step by the rules of sim's model (semantics.md section 2): results
// and len(m) after every op; per iterator and per incarnation of a key (from the insert that
// made it present to the delete or clear that made it absent), at most one yield (rule 1), never
// an absent key (rules 2, 7), the current value (rule 3), every entry present since the
// iterator's creation before it ends (rule 4); entries inserted after its creation are optional
// (rule 5). At the end it drains every live iterator and compares the whole contents. The ops
// of Rust's map API run as near as a Go map allows (the driver functions map*): clone and
// from-iter make a second map, whose len is checked after every op and contents at the end.
//
// Go draws a new hash seed and iteration start for every map, so it runs the ops -runs times
// (default 100), each on a new map, and prints the first failing run and how many failed.
// Exit code 0: every run kept every rule; 1: some run broke one; 2: bad usage.
//
//\tgo run main.go [-runs N] [-v]
//
// The trace's header:
//
";

const RUST_HEADER: &str = "\
//! Exported by `sim export --lang rust` from a sim trace: export it again rather than edit it.
//!
//! It runs the trace's ops on map-core's `GoMap` through its public API and checks every result,
//! every cursor step (by the rules of semantics.md section 2, not by pinned yields) and the
//! structural audit (of the second map too, once `clone` or `from-iter` made one), then drains
//! every live cursor and compares the whole contents of both maps.
";

const RUST_IMPORTS: &str = "\
use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher};
use std::panic::{self, AssertUnwindSafe};

use map_core::{Cursor, GoMap};

";

const RUST_TEST: &str = r#"
#[test]
fn TEST_NAME() {
    for (key, hash) in SIM_HASHES {
        assert_eq!(
            TRACE_HASHER.hash_one(key),
            hash,
            "the hasher differs from sim's"
        );
    }
    for (key, hash) in SIM_DEFAULT_HASHES {
        assert_eq!(
            TraceHasher::default().hash_one(key),
            hash,
            "the default hasher differs from sim's"
        );
    }
    let ops: Vec<(Op, &str)> = OPS.lines().map(|line| (parse_op(line), line)).collect();
    let mut run = Run::new();
    if let Err(failure) = run.all(&ops) {
        panic!("{failure}\nmap at the failure:\n{}", run.map.diagram());
    }
}

"#;

const GO_PRELUDE: &str = r#"package main

import (
	"flag"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

"#;

const GO_HELPERS: &str = r#"// maxCursors is how many iterator handles (c0..c3) a trace can name.
const maxCursors = 4

// mapInsert is the driver's insert. A Go map has no insert-and-return, so it reads the previous
// value first: the answer checked is that read.
func mapInsert(m map[uint64]uint64, k, v uint64) (uint64, bool) {
	prev, ok := m[k]
	m[k] = v
	return prev, ok
}

// mapRemove is the driver's remove: the value read just before the delete.
func mapRemove(m map[uint64]uint64, k uint64) (uint64, bool) {
	prev, ok := m[k]
	delete(m, k)
	return prev, ok
}

// mapClear is Go 1.19's clear idiom, which the compiler turns into one runtime.mapclear call;
// it is kept out of line so that the call is what runs, as in a user's program.
//
//go:noinline
func mapClear(m map[uint64]uint64) {
	for k := range m {
		delete(m, k)
	}
}

// mapGetMut is get-mut, Rust's `*get_mut(k) = v` when k is present. Go has no reference into a
// map: it is a comma-ok read and, only when the key is present, an assignment. The answer
// checked is the value it replaced.
func mapGetMut(m map[uint64]uint64, k, v uint64) (uint64, bool) {
	prev, ok := m[k]
	if ok {
		m[k] = v
	}
	return prev, ok
}

// mapContains is contains, Rust's contains_key: a comma-ok lookup.
func mapContains(m map[uint64]uint64, k uint64) bool {
	_, ok := m[k]
	return ok
}

// mapIndex is index, Rust's map[&k], which panics when k is absent. Go's index expression m[k]
// never panics: for an absent key it is the zero value. So it answers m[k] and, apart, whether a
// comma-ok lookup finds k: the value is checked when k is present, and absence as a comma-ok
// lookup that reports absent (with m[k] the zero value), not as a panic.
func mapIndex(m map[uint64]uint64, k uint64) (v uint64, present bool) {
	v = m[k]
	_, present = m[k]
	return v, present
}

// mapIter is iter, a full iter() in Rust: one range loop over m, now.
func mapIter(m map[uint64]uint64) []entry {
	var es []entry
	for k, v := range m {
		es = append(es, entry{k, v})
	}
	return es
}

// mapClone is clone: a new map with every entry of m, copied by a range loop.
func mapClone(m map[uint64]uint64) map[uint64]uint64 {
	c := make(map[uint64]uint64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// mapEqual is eq. Go has no == on maps (they compare only with nil), so this compares their
// contents: the same length, and every key of a present in b with the same value. It checks
// the maps' contents, not an equality operator of Go's.
func mapEqual(a, b map[uint64]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// mapExtend is extend: the entries assigned in order, so the last value given for a key stays.
func mapExtend(m map[uint64]uint64, es []entry) {
	for _, e := range es {
		m[e.k] = e.v
	}
}

// mapFromIter is from-iter, Rust's FromIterator: a new map, the entries assigned in order.
func mapFromIter(es []entry) map[uint64]uint64 {
	c := make(map[uint64]uint64)
	for _, e := range es {
		c[e.k] = e.v
	}
	return c
}

// opEntries are the entries of extend K N V and from-iter K N V, as sim's Op::entries: N
// entries over ceil(N/2) keys from K on, so that most keys come twice, with values V, V+1, ...
// (wrapping, as uint64 does); the last value given for a key is the one that must stay.
func opEntries(k, n, v uint64) []entry {
	keys := (n + 1) / 2
	if keys == 0 {
		keys = 1
	}
	es := make([]entry, 0, n)
	for i := uint64(0); i < n; i++ {
		es = append(es, entry{k + i%keys, v + i})
	}
	return es
}

// mapNext is one step of an iterator: the next entry, or ok == false at its end. The
// reflect.MapIter drives the runtime's own iterator (mapiterinit at the first Next, then
// mapiternext), so it sees the map exactly as a range loop would, one entry per step.
func mapNext(it *reflect.MapIter) (k, v uint64, ok bool) {
	if !it.Next() {
		return 0, 0, false
	}
	return it.Key().Uint(), it.Value().Uint(), true
}

// The rules, worded as sim's model words them (semantics.md section 2).
const (
	ruleResult   = "result: an op answers as the reference map does"
	ruleLen      = "len: len(m) equals the reference map's"
	ruleContents = "contents: ranging over m (and the second map) at the end gives exactly the reference's entries"
	ruleIter     = "iter: ranging over m gives exactly the reference map's entries, each once"
	ruleIndex    = "index: m[k] is k's value when k is present; when it is absent (where Rust's map[&k] panics) a comma-ok lookup reports it absent and m[k] is the zero value"
	ruleEq       = "eq: m holds the same entries as another map exactly when their references do"
	rule1        = "rule 1: an iterator yields each incarnation of a key at most once"
	rule2        = "rule 2: an iterator never yields a key that is absent"
	rule3        = "rule 3: an iterator yields a key with its current value"
	rule4        = "rule 4: before it ends, an iterator yields every entry present since its creation"
	rule6        = "rule 6: an iterator ends after at most one step per incarnation it could see"
	rule7        = "rule 7: after a clear, an iterator yields nothing from before the clear"
)

type opKind int

const (
	opInsert opKind = iota
	opRemove
	opGet
	opClear
	opCursorNew
	opCursorStep
	opCursorDrop
	opGetMut
	opContains
	opIndex
	opIter
	opClone
	opCloneInsert
	opCloneRemove
	opEq
	opExtend
	opFromIter
	// opSkipped is force-grow, force-same-size-grow, evacuate-step and audit: they drive
	// map-core's internals, Go's map has no equivalent, so they do nothing here.
	opSkipped
)

// op is one line of the op table.
type op struct {
	kind   opKind
	key    uint64
	value  uint64
	cursor int
	steps  int
	// count is the number of entries of extend and from-iter.
	count uint64
	text  string
}

func parseOps(text string) ([]op, error) {
	var ops []op
	if text == "" {
		return ops, nil
	}
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		o, err := parseOp(line)
		if err != nil {
			return nil, fmt.Errorf("op %d `%s`: %v", i, line, err)
		}
		ops = append(ops, o)
	}
	return ops, nil
}

func parseOp(line string) (op, error) {
	f := strings.Fields(line)
	o := op{text: line}
	if len(f) == 0 {
		return o, fmt.Errorf("empty line")
	}
	operands := 0
	switch f[0] {
	case "insert":
		o.kind, operands = opInsert, 2
	case "remove":
		o.kind, operands = opRemove, 1
	case "get":
		o.kind, operands = opGet, 1
	case "clear":
		o.kind = opClear
	case "cursor-new":
		o.kind, operands = opCursorNew, 1
	case "cursor-step":
		o.kind, operands = opCursorStep, 2
	case "cursor-drop":
		o.kind, operands = opCursorDrop, 1
	case "get-mut":
		o.kind, operands = opGetMut, 2
	case "contains":
		o.kind, operands = opContains, 1
	case "index":
		o.kind, operands = opIndex, 1
	case "iter":
		o.kind = opIter
	case "clone":
		o.kind = opClone
	case "clone-insert":
		o.kind, operands = opCloneInsert, 2
	case "clone-remove":
		o.kind, operands = opCloneRemove, 1
	case "eq":
		o.kind = opEq
	case "extend":
		o.kind, operands = opExtend, 3
	case "from-iter":
		o.kind, operands = opFromIter, 3
	case "force-grow", "force-same-size-grow", "evacuate-step", "audit":
		o.kind = opSkipped
	default:
		return o, fmt.Errorf("unknown op %q", f[0])
	}
	if len(f) != operands+1 {
		return o, fmt.Errorf("%s takes %d operands", f[0], operands)
	}
	isCursorOp := o.kind == opCursorNew || o.kind == opCursorStep || o.kind == opCursorDrop
	var n [3]uint64
	for i, s := range f[1:] {
		if isCursorOp && i == 0 {
			if !strings.HasPrefix(s, "c") {
				return o, fmt.Errorf("expected a cursor c0..c%d, found %q", maxCursors-1, s)
			}
			s = s[1:]
		}
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return o, err
		}
		n[i] = v
	}
	o.key, o.value = n[0], n[1]
	if o.kind == opExtend || o.kind == opFromIter {
		if n[1] > 255 {
			return o, fmt.Errorf("%s takes at most 255 entries, not %d", f[0], n[1])
		}
		o.count, o.value = n[1], n[2]
	}
	if isCursorOp {
		if n[0] >= maxCursors {
			return o, fmt.Errorf("no cursor c%d: handles are c0..c%d", n[0], maxCursors-1)
		}
		o.cursor, o.steps = int(n[0]), int(n[1])
	}
	return o, nil
}

// incarnation is one span of a key's presence, from the insert that made it present to the
// delete or clear that made it absent. Updating a present key's value keeps the incarnation.
type incarnation struct {
	value uint64
	// born is the op that began it.
	born int
	// Bit c of mustYield: iterator c was created while this incarnation was present and has
	// not yielded it yet (rule 4). Bit c of yielded: iterator c has yielded it (rule 1).
	mustYield, yielded uint8
}

// ending is how a key's last incarnation ended, to explain a yield of an absent key.
type ending struct {
	op      int
	byClear bool
}

// cursor is a live iterator and what it owes.
type cursor struct {
	iter    *reflect.MapIter
	created int
	steps   int
	// pending counts the incarnations present at its creation, still present, not yet yielded.
	pending int
	// budget counts the incarnations that existed during its life: it must end within
	// budget+1 steps (rule 6), a bound that keeps the final drain finite whatever the map does.
	budget int
}

// violation is a broken rule: which one, what the rules allowed, what the map did.
type violation struct {
	rule, expected, found string
}

// checker runs the program on one map and judges every answer by sim's rules. The reference is
// itself a Go map, but it is only ever inserted into, looked up and deleted from, and ranged
// over while nothing changes it: the plain operations the checker trusts.
type checker struct {
	m       map[uint64]uint64
	entries map[uint64]*incarnation
	ends    map[uint64]ending
	// cursors[c] is nil when handle c names no iterator or its iterator has ended: ops on it
	// are no-ops, as in sim.
	cursors [maxCursors]*cursor
	// second is the program's second map, made by clone or from-iter, and secondRef its
	// reference (it has no iterators, so a plain map): both nil until then, and clone-insert
	// and clone-remove are no-ops, as in sim.
	second, secondRef map[uint64]uint64
	op                int
}

func newChecker() *checker {
	return &checker{
		m:       make(map[uint64]uint64, capacity),
		entries: map[uint64]*incarnation{},
		ends:    map[uint64]ending{},
	}
}

func show(v uint64, ok bool) string {
	if !ok {
		return "absent"
	}
	return strconv.FormatUint(v, 10)
}

func compare(what string, ev uint64, eok bool, fv uint64, fok bool) *violation {
	if ev == fv && eok == fok {
		return nil
	}
	return &violation{ruleResult, what + " is " + show(ev, eok), what + " was " + show(fv, fok)}
}

func (c *checker) apply(o op) *violation {
	switch o.kind {
	case opInsert:
		fv, fok := mapInsert(c.m, o.key, o.value)
		ev, eok := c.insert(o.key, o.value)
		return compare(fmt.Sprintf("m[%d] before the assignment", o.key), ev, eok, fv, fok)
	case opRemove:
		fv, fok := mapRemove(c.m, o.key)
		ev, eok := c.remove(o.key)
		return compare(fmt.Sprintf("m[%d] before the delete", o.key), ev, eok, fv, fok)
	case opGet:
		fv, fok := c.m[o.key]
		var ev uint64
		e := c.entries[o.key]
		if e != nil {
			ev = e.value
		}
		return compare(fmt.Sprintf("m[%d]", o.key), ev, e != nil, fv, fok)
	case opClear:
		mapClear(c.m)
		for k, e := range c.entries {
			c.end(k, e, true)
		}
		c.entries = map[uint64]*incarnation{}
	case opCursorNew:
		b := uint8(1) << o.cursor
		for _, e := range c.entries {
			e.mustYield |= b
			e.yielded &^= b
		}
		c.cursors[o.cursor] = &cursor{
			iter:    reflect.ValueOf(c.m).MapRange(),
			created: c.op,
			pending: len(c.entries),
			budget:  len(c.entries),
		}
	case opCursorStep:
		for i := 0; i < o.steps && c.cursors[o.cursor] != nil; i++ {
			if v := c.step(o.cursor); v != nil {
				return v
			}
		}
	case opCursorDrop:
		c.cursors[o.cursor] = nil
	default:
		return c.applyAPI(o)
	}
	return nil
}

// value is the reference's value of k (0 when absent) and whether k is present.
func (c *checker) value(k uint64) (uint64, bool) {
	if e := c.entries[k]; e != nil {
		return e.value, true
	}
	return 0, false
}

// reference is the reference's entries as a plain map.
func (c *checker) reference() map[uint64]uint64 {
	want := make(map[uint64]uint64, len(c.entries))
	for k, e := range c.entries {
		want[k] = e.value
	}
	return want
}

// applyAPI applies the ops of Rust's map API that are not plain ops, as near as a Go map allows.
func (c *checker) applyAPI(o op) *violation {
	switch o.kind {
	case opGetMut:
		fv, fok := mapGetMut(c.m, o.key, o.value)
		ev, eok := c.value(o.key)
		if eok {
			c.insert(o.key, o.value)
		}
		return compare(fmt.Sprintf("m[%d] before the get-mut write", o.key), ev, eok, fv, fok)
	case opContains:
		_, eok := c.value(o.key)
		if fok := mapContains(c.m, o.key); fok != eok {
			return &violation{ruleResult, fmt.Sprintf("key %d is present: %v", o.key, eok),
				fmt.Sprintf("key %d was present: %v", o.key, fok)}
		}
	case opIndex:
		fv, fok := mapIndex(c.m, o.key)
		ev, eok := c.value(o.key)
		if fv != ev || fok != eok {
			index := func(v uint64, present bool) string {
				if present {
					return fmt.Sprintf("m[%d] == %d, present", o.key, v)
				}
				return fmt.Sprintf("m[%d] == %d, absent", o.key, v)
			}
			return &violation{ruleIndex, index(ev, eok), index(fv, fok)}
		}
	case opIter:
		if v := compareEntries("ranging over m", entrySort(mapIter(c.m)), sorted(c.reference())); v != nil {
			v.rule = ruleIter
			return v
		}
	case opClone:
		c.second = mapClone(c.m)
		c.secondRef = c.reference()
	case opCloneInsert:
		if c.secondRef != nil {
			fv, fok := mapInsert(c.second, o.key, o.value)
			ev, eok := c.secondRef[o.key]
			c.secondRef[o.key] = o.value
			return compare(fmt.Sprintf("second[%d] before the assignment", o.key), ev, eok, fv, fok)
		}
	case opCloneRemove:
		if c.secondRef != nil {
			fv, fok := mapRemove(c.second, o.key)
			ev, eok := c.secondRef[o.key]
			delete(c.secondRef, o.key)
			return compare(fmt.Sprintf("second[%d] before the delete", o.key), ev, eok, fv, fok)
		}
	case opEq:
		want := c.reference()
		if !mapEqual(c.m, want) {
			return &violation{ruleEq, "m equals a map of the reference's entries",
				"mapEqual(m, a map of the reference's entries) was false"}
		}
		if c.secondRef != nil {
			ev := sameEntries(sorted(want), sorted(c.secondRef))
			if fv := mapEqual(c.m, c.second); fv != ev {
				return &violation{ruleEq, fmt.Sprintf("mapEqual(m, second) is %v", ev),
					fmt.Sprintf("mapEqual(m, second) was %v", fv)}
			}
		}
	case opExtend:
		es := opEntries(o.key, o.count, o.value)
		mapExtend(c.m, es)
		for _, e := range es {
			c.insert(e.k, e.v)
		}
	case opFromIter:
		es := opEntries(o.key, o.count, o.value)
		c.second = mapFromIter(es)
		c.secondRef = map[uint64]uint64{}
		for _, e := range es {
			c.secondRef[e.k] = e.v
		}
	}
	return nil
}

func (c *checker) insert(k, v uint64) (uint64, bool) {
	if e := c.entries[k]; e != nil {
		prev := e.value
		e.value = v
		return prev, true
	}
	c.entries[k] = &incarnation{value: v, born: c.op}
	for _, cur := range c.cursors {
		if cur != nil {
			cur.budget++
		}
	}
	return 0, false
}

func (c *checker) remove(k uint64) (uint64, bool) {
	e := c.entries[k]
	if e == nil {
		return 0, false
	}
	c.end(k, e, false)
	delete(c.entries, k)
	return e.value, true
}

// end ends an incarnation: no iterator owes it any more.
func (c *checker) end(k uint64, e *incarnation, byClear bool) {
	c.ends[k] = ending{c.op, byClear}
	for h, cur := range c.cursors {
		if cur != nil && e.mustYield&(1<<h) != 0 {
			cur.pending--
		}
	}
}

// step advances live iterator h once and judges what it did.
func (c *checker) step(h int) *violation {
	cur := c.cursors[h]
	if cur.steps > cur.budget {
		return &violation{rule6,
			fmt.Sprintf("c%d (created at op %d) ends within %d steps", h, cur.created, cur.budget+1),
			fmt.Sprintf("c%d had not ended after %d steps", h, cur.steps)}
	}
	cur.steps++
	k, v, ok := mapNext(cur.iter)
	if !ok {
		return c.onEnd(h)
	}
	b := uint8(1) << h
	e := c.entries[k]
	found := fmt.Sprintf("c%d yielded (%d, %d)", h, k, v)
	if e == nil {
		rule, why := rule2, "never inserted"
		if end, ok := c.ends[k]; ok && end.byClear {
			rule, why = rule7, fmt.Sprintf("cleared at op %d", end.op)
		} else if ok {
			why = fmt.Sprintf("deleted at op %d", end.op)
		}
		return &violation{rule, fmt.Sprintf("no yield of key %d: it is absent (%s)", k, why), found}
	}
	if e.yielded&b != 0 {
		return &violation{rule1,
			fmt.Sprintf("key %d (incarnation inserted at op %d) yielded at most once by c%d", k, e.born, h),
			found + " a second time"}
	}
	if e.value != v {
		return &violation{rule3, fmt.Sprintf("key %d yielded with its current value %d", k, e.value), found}
	}
	e.yielded |= b
	if e.mustYield&b != 0 {
		e.mustYield &^= b
		cur.pending--
	}
	return nil
}

// onEnd judges the end of iterator h: it must have yielded everything it owed (rule 4).
func (c *checker) onEnd(h int) *violation {
	cur := c.cursors[h]
	c.cursors[h] = nil
	if cur.pending == 0 {
		return nil
	}
	var owed []uint64
	for k, e := range c.entries {
		if e.mustYield&(1<<h) != 0 {
			owed = append(owed, k)
		}
	}
	sort.Slice(owed, func(i, j int) bool { return owed[i] < owed[j] })
	const shown = 8
	var missed []string
	for _, k := range owed {
		if len(missed) == shown {
			missed = append(missed, fmt.Sprintf("and %d more", len(owed)-shown))
			break
		}
		e := c.entries[k]
		missed = append(missed, fmt.Sprintf("%d (inserted at op %d, value %d)", k, e.born, e.value))
	}
	return &violation{rule4,
		fmt.Sprintf("before ending, c%d (created at op %d) yields every key present since then: %s",
			h, cur.created, strings.Join(missed, ", ")),
		fmt.Sprintf("c%d ended after %d steps without yielding %d of the entries it owed",
			h, cur.steps, cur.pending)}
}

type entry struct{ k, v uint64 }

// sorted is the entries of a map in key order.
func sorted(m map[uint64]uint64) []entry {
	var es []entry
	for k, v := range m {
		es = append(es, entry{k, v})
	}
	return entrySort(es)
}

// entrySort sorts entries in key order (and a repeated key by value, so that repeats sit
// together).
func entrySort(es []entry) []entry {
	sort.Slice(es, func(i, j int) bool {
		return es[i].k < es[j].k || es[i].k == es[j].k && es[i].v < es[j].v
	})
	return es
}

func sameEntries(a, b []entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// compareEntries judges what ranging over a map found against the entries wanted, both in key
// order: the first difference, under the contents rule.
func compareEntries(what string, found, want []entry) *violation {
	for i := 0; i < len(want) || i < len(found); i++ {
		if i < len(want) && i < len(found) && want[i] == found[i] {
			continue
		}
		at := func(es []entry) string {
			if i < len(es) {
				return fmt.Sprintf("(%d, %d)", es[i].k, es[i].v)
			}
			return "nothing"
		}
		return &violation{ruleContents,
			fmt.Sprintf("%s gives %d entries; in key order, entry %d is %s", what, len(want), i, at(want)),
			fmt.Sprintf("%s gave %d entries; in key order, entry %d is %s", what, len(found), i, at(found))}
	}
	return nil
}

// run applies every op, then drains every live iterator and compares the contents; it returns
// the op of the first violation (len(ops) for the end-of-program checks), or a nil violation.
func (c *checker) run(ops []op) (int, *violation) {
	for i, o := range ops {
		c.op = i
		if v := c.apply(o); v != nil {
			return i, v
		}
		if len(c.m) != len(c.entries) {
			return i, &violation{ruleLen, fmt.Sprintf("len(m) == %d", len(c.entries)),
				fmt.Sprintf("len(m) == %d", len(c.m))}
		}
		if c.secondRef != nil && len(c.second) != len(c.secondRef) {
			return i, &violation{ruleLen, fmt.Sprintf("len(second) == %d", len(c.secondRef)),
				fmt.Sprintf("len(second) == %d", len(c.second))}
		}
	}
	c.op = len(ops)
	for h := range c.cursors {
		for c.cursors[h] != nil {
			if v := c.step(h); v != nil {
				return c.op, v
			}
		}
	}
	if v := compareEntries("ranging over m", sorted(c.m), sorted(c.reference())); v != nil {
		return c.op, v
	}
	if c.secondRef != nil {
		if v := compareEntries("ranging over the second map", sorted(c.second), sorted(c.secondRef)); v != nil {
			return c.op, v
		}
	}
	return 0, nil
}

func report(run, at int, ops []op, v *violation) {
	where := "the end of the program (draining every live iterator, then ranging over m and the second map)"
	if at < len(ops) {
		where = fmt.Sprintf("op %d `%s`", at, ops[at].text)
	}
	fmt.Printf("run %d: broke %s\n  at:       %s\n  expected: %s\n  found:    %s\n",
		run, v.rule, where, v.expected, v.found)
}

func main() {
	runs := flag.Int("runs", 100, "how many times to run the program, each time on a new map "+
		"(Go draws a new hash seed and iteration start for every map)")
	all := flag.Bool("v", false, "report every failing run, not only the first")
	flag.Parse()
	if *runs < 1 {
		fmt.Fprintln(os.Stderr, "-runs must be at least 1")
		os.Exit(2)
	}
	ops, err := parseOps(program)
	if err != nil {
		fmt.Fprintf(os.Stderr, "the op table is malformed: %v\n", err)
		os.Exit(2)
	}
	failed := 0
	for run := 1; run <= *runs; run++ {
		at, v := newChecker().run(ops)
		if v == nil {
			continue
		}
		failed++
		if failed == 1 || *all {
			report(run, at, ops, v)
		}
	}
	platform := fmt.Sprintf("%s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if failed > 0 {
		fmt.Printf("FAIL: %d of %d runs broke a rule (%s)\n", failed, *runs, platform)
		os.Exit(1)
	}
	fmt.Printf("ok: all %d runs kept every rule (%s)\n", *runs, platform)
}
"#;

/// The checker every Rust export carries after its generated constants: the op parser, the
/// reproduced hasher, the model and its rules. It is kept as a file of its own, not a string
/// here, so that map-core's committed exported test `include!`s this one copy and compiles it,
/// rather than holding a second one.
const RUST_CHECKER: &str = include_str!("export/rust_checker.rs");
