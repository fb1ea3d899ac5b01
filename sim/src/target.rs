//! Targets: the maps the executor can check, behind one interface.
//!
//! A [`Target`] is one map under test, created for one program. The executor ([`crate::exec`]) is
//! the only code that calls it, and the model the only code that judges what it answers; a target
//! only answers. Plain ops (insert, remove, get, clear, len, the full contents) are required;
//! everything else is a [`Capabilities`] flag: cursors, growth controls, a structural audit, a
//! diagram, and internal-state coverage. The generator draws only the ops a target supports
//! ([`crate::gen::generate_for`]), and [`crate::exec::check_runnable`] rejects a program that
//! uses ops its target lacks, so a target's unsupported methods are never called.
//!
//! Every target is named by a [`TargetInfo`]: its name in traces and on the command line, what it
//! supports, and how to create it for a program. [`builtin`] lists the targets shipped with sim;
//! a user's own map gets a `TargetInfo` of its own and runs through the same executor, runner and
//! shrinker (see `sim/examples/user_map.rs`).

pub mod concurrent_maps;
pub mod driver;
pub mod go;
pub mod java;
mod map_core;
mod std_maps;
pub mod striped;
mod timed_reader;
pub mod weak_example;

use std::fmt;

use crate::coverage::Coverage;
use crate::failure::FailureKind;
pub use crate::model::{Contract, NoRepeat};
use crate::op::{CursorId, OpKind};
use crate::program::Program;
use crate::shape::Shape;

pub use self::map_core::{MapCoreTarget, SimMap, MAX_FORCED_BUCKETS};
pub use self::std_maps::{BTreeMapTarget, HashMapTarget};

pub use crate::program::{is_valid_name, DEFAULT_TARGET};

/// What a target supports beyond the plain ops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Capabilities {
    /// `cursor-new`, `cursor-step`, `cursor-drop`: cursors that keep working while the map changes.
    pub cursors: bool,
    /// `force-grow`, `force-same-size-grow`, `evacuate-step`.
    pub growth_controls: bool,
    /// A structural audit ([`Target::audit`]); without it `audit` ops and `audit-every` do nothing.
    pub audit: bool,
    /// A picture of the map's internals for failure reports ([`Target::diagram`]).
    pub diagram: bool,
    /// Internal-state coverage: whether a growth is under way ([`Target::is_growing`]) and the
    /// target's own counts ([`Target::add_coverage`]).
    pub state: bool,
    /// The Rust map API beyond the plain ops: `get_mut`, `contains_key`, `Index`, `iter()` at
    /// any point, `Clone` (with a second map that goes its own way), `PartialEq`, `Extend` and
    /// `FromIterator` ([`Target::get_mut_write`] and the methods after it).
    pub api: bool,
    /// The map reports its [`Shape`] ([`Target::shape`]): bucket count, growth state and the
    /// growths it started, so the executor checks the shape contract (semantics.md §3a: sizing,
    /// growth triggers, the churn bound) after every op.
    pub shape: bool,
    /// Whether the same program always gets the same answers. A target that randomizes by itself
    /// (Go's runtime map) is not: its failures are replayed and shrunk several times, and every
    /// report says how often a failure reproduced.
    pub deterministic: bool,
    /// What its cursors promise, and so which rules the model checks them against: §2
    /// ([`Contract::Strict`]) or weakly consistent iteration, §7 ([`Contract::Weak`], for
    /// concurrent maps).
    pub contract: Contract,
    /// The hasher modes its programs draw from: all of them, unless `sim run --hashers` leaves
    /// some out (for a map with a known weakness under them). A mode left out is replaced by one
    /// of the set ([`crate::program::HasherSet::allow`]).
    pub hashers: crate::program::HasherSet,
}

impl Capabilities {
    /// Plain ops only, deterministic: the smallest target.
    pub const PLAIN: Capabilities = Capabilities {
        cursors: false,
        growth_controls: false,
        audit: false,
        diagram: false,
        state: false,
        api: false,
        shape: false,
        deterministic: true,
        contract: Contract::Strict,
        hashers: crate::program::HasherSet::ALL,
    };

    /// Plain ops and the Rust map API (std's maps).
    pub const PLAIN_AND_API: Capabilities = Capabilities {
        api: true,
        ..Capabilities::PLAIN
    };

    /// Everything: map-core.
    pub const ALL: Capabilities = Capabilities {
        cursors: true,
        growth_controls: true,
        audit: true,
        diagram: true,
        state: true,
        api: true,
        shape: true,
        deterministic: true,
        contract: Contract::Strict,
        hashers: crate::program::HasherSet::ALL,
    };

    /// Whether a program may contain ops of this kind. `audit` ops are always allowed (they do
    /// nothing on a target without an audit); cursor ops need cursors, growth controls need
    /// growth controls, the API ops need the API.
    pub fn supports(&self, kind: OpKind) -> bool {
        if kind.is_api() {
            return self.api;
        }
        match kind {
            OpKind::CursorNew | OpKind::CursorStep | OpKind::CursorDrop => self.cursors,
            OpKind::ForceGrow | OpKind::ForceSameSizeGrow | OpKind::EvacuateStep => {
                self.growth_controls
            }
            _ => true,
        }
    }

    /// The names of the optional capabilities present, for `sim targets`.
    pub fn names(&self) -> Vec<&'static str> {
        let flags = [
            (self.cursors, "cursors"),
            (self.growth_controls, "growth-controls"),
            (self.audit, "audit"),
            (self.diagram, "diagram"),
            (self.state, "state-coverage"),
            (self.api, "rust-api"),
            (self.shape, "shape"),
        ];
        let mut names: Vec<&'static str> = flags
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect();
        if !self.deterministic {
            names.push("nondeterministic");
        }
        match self.contract {
            Contract::Strict => {}
            Contract::Weak(NoRepeat::PerKey) => names.push("weakly-consistent (§7, W1 per key)"),
            Contract::Weak(NoRepeat::PerElement) => {
                names.push("weakly-consistent (§7, W1 per element)")
            }
        }
        names
    }
}

/// A broken structural invariant, as the target's audit reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditFailure {
    /// The failure kind to report (map-core: [`FailureKind::Invariant`]).
    pub kind: FailureKind,
    /// The audit's own description of what is broken and where.
    pub message: String,
}

/// One map under test, created for one program.
///
/// Keys and values are `u64`. The executor calls the methods in program order and compares each
/// answer with the model; the default bodies of the optional methods are only reached if a
/// target's [`Capabilities`] claim something its impl does not provide, and panic to say so
/// (a panic inside a target is caught and reported as a failure).
// `len` is a checked answer, not a collection's size query: an `is_empty` would be one more
// thing for every target to implement and for the executor to check, and prove nothing new.
#[allow(clippy::len_without_is_empty)]
pub trait Target {
    /// `insert(key, value)`: the previous value of `key`, if any.
    fn insert(&mut self, key: u64, value: u64) -> Option<u64>;
    /// `remove(key)`: the removed value, if any.
    fn remove(&mut self, key: u64) -> Option<u64>;
    /// `get(key)`: the current value, if any.
    fn get(&mut self, key: u64) -> Option<u64>;
    /// `clear()`.
    fn clear(&mut self);
    /// `len()`, checked after every op.
    fn len(&mut self) -> usize;
    /// Every entry, in any order (the executor sorts), read once at the end of the program
    /// through the map's own iteration.
    fn contents(&mut self) -> Vec<(u64, u64)>;

    /// Creates a cursor under `cursor`, dropping the one the handle named before.
    fn cursor_new(&mut self, cursor: CursorId) {
        unsupported("cursors", cursor)
    }
    /// One step of the cursor: the next entry, or `None` at its end. Only called on a cursor
    /// that exists and has not reported its end.
    fn cursor_next(&mut self, cursor: CursorId) -> Option<(u64, u64)> {
        unsupported("cursors", cursor)
    }
    /// Drops the cursor, adding what it reached to `coverage`; a no-op when the handle names none.
    fn cursor_drop(&mut self, cursor: CursorId, coverage: &mut Coverage) {
        let _ = coverage;
        unsupported("cursors", cursor)
    }

    /// Starts a doubling growth unless one is under way (or the map is at its size limit).
    fn force_grow(&mut self) {
        unsupported("growth controls", "force-grow")
    }
    /// Starts a same-size growth unless one is under way.
    fn force_same_size_grow(&mut self) {
        unsupported("growth controls", "force-same-size-grow")
    }
    /// Evacuates one old bucket; returns whether a growth was under way.
    fn evacuate_step(&mut self) -> bool {
        unsupported("growth controls", "evacuate-step")
    }

    /// Checks the map's structural invariants; may add what it saw to `coverage`.
    fn audit(&mut self, coverage: &mut Coverage) -> Result<(), AuditFailure> {
        let _ = coverage;
        Ok(())
    }

    /// Whether a growth is under way, if the target can tell; asked before every cursor step
    /// (for coverage) and by the verbose log.
    fn is_growing(&mut self) -> Option<bool> {
        None
    }

    /// The map's size and growth counters, if it reports them ([`Capabilities::shape`]); read
    /// once after creation and after every op, so it must be cheap (a few field reads).
    fn shape(&mut self) -> Option<Shape> {
        None
    }

    /// A short description of the map's internal state for the verbose log (`[len 3 B 0]`).
    fn state_line(&mut self) -> Option<String> {
        None
    }

    /// A picture of the map (or of what the target answered) for a failure report.
    fn diagram(&mut self) -> String {
        "(this target draws no diagram)".to_string()
    }

    /// Adds the target's own end-of-program counts to `coverage`.
    fn add_coverage(&mut self, coverage: &mut Coverage) {
        let _ = coverage;
    }

    /// `*get_mut(key) = value` if the key is present: the value it replaced, if any.
    fn get_mut_write(&mut self, key: u64, value: u64) -> Option<u64> {
        let _ = value;
        unsupported("Rust map API", format!("get_mut({key})"))
    }
    /// `contains_key(key)`.
    fn contains_key(&mut self, key: u64) -> bool {
        unsupported("Rust map API", format!("contains_key({key})"))
    }
    /// `map[&key]`, which panics when the key is absent.
    fn index(&mut self, key: u64) -> u64 {
        unsupported("Rust map API", format!("map[&{key}]"))
    }
    /// `iter()` now, collected in the order it yields.
    fn iter_now(&mut self) -> Vec<(u64, u64)> {
        unsupported("Rust map API", "iter()")
    }
    /// Makes the second map a `clone()` of the map.
    fn clone_to_second(&mut self) {
        unsupported("Rust map API", "clone()")
    }
    /// Makes the second map `FromIterator::from_iter(entries)`.
    fn collect_to_second(&mut self, entries: &[(u64, u64)]) {
        let _ = entries;
        unsupported("Rust map API", "from_iter")
    }
    /// `extend(entries)` on the map.
    fn extend(&mut self, entries: &[(u64, u64)]) {
        let _ = entries;
        unsupported("Rust map API", "extend")
    }
    /// `insert` on the second map; only called once there is one.
    fn second_insert(&mut self, key: u64, value: u64) -> Option<u64> {
        let _ = (key, value);
        unsupported("Rust map API", "a second map")
    }
    /// `remove` on the second map; only called once there is one.
    fn second_remove(&mut self, key: u64) -> Option<u64> {
        let _ = key;
        unsupported("Rust map API", "a second map")
    }
    /// `len()` of the second map.
    fn second_len(&mut self) -> usize {
        unsupported("Rust map API", "a second map")
    }
    /// Every entry of the second map, through its own iteration.
    fn second_contents(&mut self) -> Vec<(u64, u64)> {
        unsupported("Rust map API", "a second map")
    }
    /// The audit of the second map (where the target has an audit).
    fn second_audit(&mut self, coverage: &mut Coverage) -> Result<(), AuditFailure> {
        let _ = coverage;
        Ok(())
    }
    /// `map == second`.
    fn eq_second(&mut self) -> bool {
        unsupported("Rust map API", "==")
    }
    /// `map == m`, for `m` a new map (the program's hasher, no growth) holding `entries`.
    fn eq_entries(&mut self, entries: &[(u64, u64)]) -> bool {
        let _ = entries;
        unsupported("Rust map API", "==")
    }
}

/// A boxed target is a target: how the executor runs every target but map-core.
impl Target for Box<dyn Target> {
    fn insert(&mut self, key: u64, value: u64) -> Option<u64> {
        (**self).insert(key, value)
    }
    fn remove(&mut self, key: u64) -> Option<u64> {
        (**self).remove(key)
    }
    fn get(&mut self, key: u64) -> Option<u64> {
        (**self).get(key)
    }
    fn clear(&mut self) {
        (**self).clear()
    }
    fn len(&mut self) -> usize {
        (**self).len()
    }
    fn contents(&mut self) -> Vec<(u64, u64)> {
        (**self).contents()
    }
    fn cursor_new(&mut self, cursor: CursorId) {
        (**self).cursor_new(cursor)
    }
    fn cursor_next(&mut self, cursor: CursorId) -> Option<(u64, u64)> {
        (**self).cursor_next(cursor)
    }
    fn cursor_drop(&mut self, cursor: CursorId, coverage: &mut Coverage) {
        (**self).cursor_drop(cursor, coverage)
    }
    fn force_grow(&mut self) {
        (**self).force_grow()
    }
    fn force_same_size_grow(&mut self) {
        (**self).force_same_size_grow()
    }
    fn evacuate_step(&mut self) -> bool {
        (**self).evacuate_step()
    }
    fn audit(&mut self, coverage: &mut Coverage) -> Result<(), AuditFailure> {
        (**self).audit(coverage)
    }
    fn is_growing(&mut self) -> Option<bool> {
        (**self).is_growing()
    }
    fn shape(&mut self) -> Option<Shape> {
        (**self).shape()
    }
    fn state_line(&mut self) -> Option<String> {
        (**self).state_line()
    }
    fn diagram(&mut self) -> String {
        (**self).diagram()
    }
    fn add_coverage(&mut self, coverage: &mut Coverage) {
        (**self).add_coverage(coverage)
    }
    fn get_mut_write(&mut self, key: u64, value: u64) -> Option<u64> {
        (**self).get_mut_write(key, value)
    }
    fn contains_key(&mut self, key: u64) -> bool {
        (**self).contains_key(key)
    }
    fn index(&mut self, key: u64) -> u64 {
        (**self).index(key)
    }
    fn iter_now(&mut self) -> Vec<(u64, u64)> {
        (**self).iter_now()
    }
    fn clone_to_second(&mut self) {
        (**self).clone_to_second()
    }
    fn collect_to_second(&mut self, entries: &[(u64, u64)]) {
        (**self).collect_to_second(entries)
    }
    fn extend(&mut self, entries: &[(u64, u64)]) {
        (**self).extend(entries)
    }
    fn second_insert(&mut self, key: u64, value: u64) -> Option<u64> {
        (**self).second_insert(key, value)
    }
    fn second_remove(&mut self, key: u64) -> Option<u64> {
        (**self).second_remove(key)
    }
    fn second_len(&mut self) -> usize {
        (**self).second_len()
    }
    fn second_contents(&mut self) -> Vec<(u64, u64)> {
        (**self).second_contents()
    }
    fn second_audit(&mut self, coverage: &mut Coverage) -> Result<(), AuditFailure> {
        (**self).second_audit(coverage)
    }
    fn eq_second(&mut self) -> bool {
        (**self).eq_second()
    }
    fn eq_entries(&mut self, entries: &[(u64, u64)]) -> bool {
        (**self).eq_entries(entries)
    }
}

fn unsupported(capability: &str, what: impl fmt::Display) -> ! {
    panic!("this target has no {capability}, yet the executor asked for {what}")
}

/// Why a target could not be created: its tools are missing, its driver did not build or start.
/// Not a bug of the map: `sim` exits 2 on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetError(pub String);

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TargetError {}

/// A target's name, what it supports, and how to make one for a program.
#[derive(Clone, Copy)]
pub struct TargetInfo {
    /// The name in traces (`target NAME`) and on the command line (`--target NAME`).
    pub name: &'static str,
    /// One line for `sim targets`.
    pub about: &'static str,
    /// What it supports.
    pub capabilities: Capabilities,
    /// Creates the map for a program (its config: capacity, hasher, seeds, fault; a target that
    /// runs the whole program elsewhere, such as a driver process, also reads its ops). An
    /// `Err` means the target cannot run here at all.
    pub create: fn(&Program) -> Result<Box<dyn Target>, TargetError>,
    /// Checks, once before a campaign, that the target can run here (builds and starts a driver,
    /// for instance), so that a missing tool is one clear error rather than a failure per seed.
    /// It is handed its own info, so that one function serves targets of many names (Go's, one
    /// per toolchain).
    pub check_available: fn(&TargetInfo) -> Result<(), TargetError>,
}

impl fmt::Debug for TargetInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TargetInfo")
            .field("name", &self.name)
            .field("capabilities", &self.capabilities)
            .finish_non_exhaustive()
    }
}

impl PartialEq for TargetInfo {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for TargetInfo {}

/// For targets that need nothing outside the process.
pub fn always_available(_: &TargetInfo) -> Result<(), TargetError> {
    Ok(())
}

/// The targets shipped with sim, the default first.
pub fn builtin() -> &'static [TargetInfo] {
    BUILTIN
}

static BUILTIN: &[TargetInfo] = &[
    map_core::INFO,
    std_maps::HASH_MAP_INFO,
    std_maps::BTREE_MAP_INFO,
    go::INFO,
    go::NATURAL_INFO,
    go::SYNC_INFO,
    go::SYNC_NATURAL_INFO,
    java::INFO,
    striped::INFO,
    striped::RACY_INFO,
    weak_example::INFO,
    weak_example::PER_ELEMENT_INFO,
    #[cfg(feature = "concurrent-maps")]
    concurrent_maps::PAPAYA_INFO,
    #[cfg(feature = "concurrent-maps")]
    concurrent_maps::FLURRY_INFO,
];

/// The built-in target named exactly `name` (for Go, the entry that stands for every
/// toolchain; [`lookup`] resolves a Go name to its toolchain).
pub fn find(name: &str) -> Option<&'static TargetInfo> {
    builtin().iter().find(|t| t.name == name)
}

/// The target named `name`, or an error: for a Go name (`go`, `go@1.26`, `go-natural@1.19.8`,
/// `go@/path/to/go`) the target on that toolchain, or why it cannot be had (not installed: the
/// error lists the installed ones); a planted fault of the weak example
/// (`weak-example-wraps-around`, [`weak_example::planted`]); otherwise the built-in target, or
/// an error listing them.
pub fn lookup(name: &str) -> Result<&'static TargetInfo, String> {
    if let Some(answer) = go::lookup(name) {
        return answer;
    }
    if let Some(planted) = weak_example::lookup(name) {
        return Ok(planted);
    }
    if let Some(why) = concurrent_maps::not_built(name) {
        return Err(why);
    }
    find(name).ok_or_else(|| {
        let names: Vec<&str> = builtin().iter().map(|t| t.name).collect();
        format!(
            "unknown target `{name}`; expected one of: {} (Go's with @VERSION or @PATH)",
            names.join(", ")
        )
    })
}

/// The default target, map-core.
pub fn default_target() -> &'static TargetInfo {
    &builtin()[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_names_are_unique_valid_and_the_default_comes_first() {
        assert_eq!(default_target().name, DEFAULT_TARGET);
        for (i, t) in builtin().iter().enumerate() {
            assert!(is_valid_name(t.name), "{}", t.name);
            assert!(builtin()[..i].iter().all(|u| u.name != t.name));
            assert_eq!(find(t.name), Some(t));
        }
        assert!(lookup("nope").unwrap_err().contains("map-core"));
    }

    #[test]
    fn capabilities_gate_op_kinds() {
        for kind in OpKind::ALL {
            assert!(Capabilities::ALL.supports(kind));
        }
        assert!(!Capabilities::PLAIN.supports(OpKind::CursorStep));
        assert!(!Capabilities::PLAIN.supports(OpKind::EvacuateStep));
        assert!(Capabilities::PLAIN.supports(OpKind::Audit));
        assert_eq!(Capabilities::PLAIN.names(), Vec::<&str>::new());
    }

    #[test]
    fn target_names_are_checked() {
        assert!(is_valid_name("go") && is_valid_name("std-hash-map") && is_valid_name("m2"));
        assert!(!is_valid_name("") && !is_valid_name("Go") && !is_valid_name("a b"));
    }
}
