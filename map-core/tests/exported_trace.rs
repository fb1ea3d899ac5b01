//! Exported by `sim export --lang rust` from a sim trace: export it again rather than edit it.
//!
//! It runs the trace's ops on map-core's `GoMap` through its public API and checks every result,
//! every cursor step (by the rules of semantics.md section 2, not by pinned yields) and the
//! structural audit (of the second map too, once `clone` or `from-iter` made one), then drains
//! every live cursor and compares the whole contents of both maps.
//!
//! The checker (everything after `fn shape`) is included from
//! `../../sim/src/export/rust_checker.rs`: the one copy of it, which every export writes out.
//!
//! The trace's header:
//!
//! ```text
//! sim-trace 1
//! seed none
//! map-seed 3
//! hasher seeded 0
//! capacity 0
//! key-space 64
//! max-cursors 2
//! audit-every 1
//! weights insert=1 remove=1 get=1 clear=1 cursor-new=1 cursor-step=1 cursor-drop=1 force-grow=1 force-same-size-grow=1 evacuate-step=1 audit=1 get-mut=0 contains=0 index=0 iter=0 clone=0 clone-insert=0 clone-remove=0 eq=0 extend=0 from-iter=0
//! length 66
//! fault none
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher};
use std::panic::{self, AssertUnwindSafe};

use map_core::{Cursor, GoMap};

/// The capacity the map is made with.
const CAPACITY: usize = 0;
/// The map's seed: it fixes the iteration order, so the test replays exactly.
const MAP_SEED: u64 = 3;
/// The seed of the trace's hasher (`seeded`).
const HASHER_SEED: u64 = 0;
/// The map is audited after every `AUDIT_EVERY`-th op, after an `audit` op and at the end.
const AUDIT_EVERY: u32 = 1;
/// `force-grow` does nothing once the map has this many buckets, as in sim.
const MAX_FORCED_BUCKETS: usize = 4096;
/// Hashes by sim's `SimHasher`, computed by sim at export: the reproduced hasher must agree.
const SIM_HASHES: [(u64, u64); 4] = [
    (0, 0xe220a8397b1dcdaf),
    (1, 0x910a2dec89025cc1),
    (2, 0x975835de1c9756ce),
    (3, 0x1d0b14e4db018fed),
];
/// Hashes by `SimHasher::default()`, which `FromIterator` builds maps with in sim.
const SIM_DEFAULT_HASHES: [(u64, u64); 4] = [
    (0, 0xe220a8397b1dcdaf),
    (1, 0x910a2dec89025cc1),
    (2, 0x975835de1c9756ce),
    (3, 0x1d0b14e4db018fed),
];
/// The ops in sim's trace syntax, one per line: op `i` is line `i` (counting from 0).
const OPS: &str = "\
insert 0 1
insert 1 2
insert 2 3
insert 3 4
insert 4 5
insert 5 6
insert 6 7
insert 7 8
cursor-new c0
cursor-step c0 2
insert 8 9
insert 9 10
insert 10 11
insert 11 12
insert 12 13
insert 13 14
insert 14 15
insert 15 16
cursor-step c0 2
remove 1
remove 2
insert 1 17
insert 2 18
cursor-step c0 1
evacuate-step
cursor-step c0 1
evacuate-step
cursor-step c0 2
insert 16 19
insert 17 20
insert 18 21
insert 19 22
insert 20 23
insert 21 24
insert 22 25
insert 23 26
insert 24 27
insert 25 28
insert 26 29
insert 27 30
insert 28 31
insert 29 32
insert 30 33
insert 31 34
insert 32 35
insert 33 36
insert 34 37
insert 35 38
insert 36 39
insert 37 40
insert 38 41
insert 39 42
cursor-step c0 3
cursor-new c1
cursor-step c1 1
force-grow
cursor-step c0 2
cursor-step c1 2
remove 5
remove 30
insert 5 43
insert 30 44
insert 41 45
evacuate-step
cursor-step c0 1000
cursor-step c1 1000
";

#[test]
fn clean_cursors_across_two_growths() {
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

/// The trace's hasher, `seeded`: a well-mixed seeded hash.
fn shape(raw: u64) -> u64 {
    mix(raw ^ HASHER_SEED)
}

include!("../../sim/src/export/rust_checker.rs");
