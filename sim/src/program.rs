//! The one case format: a [`Config`] plus a list of [`Op`]s.
//!
//! The simulator's generator, the fuzz targets and the property tests all produce a [`Program`];
//! the executor runs it, the shrinker minimizes it and traces store it.

use std::fmt;

use map_core::Fault;

use crate::op::{Op, OpKind, MAX_CURSORS};

/// The largest initial capacity a config may ask for (keeps every program's memory small).
pub const MAX_INITIAL_CAPACITY: u32 = 1 << 16;

/// The largest key space a config may ask for.
pub const MAX_KEY_SPACE: u64 = 1 << 24;

/// The name of the default target, used by every trace that names none.
pub const DEFAULT_TARGET: &str = "map-core";

/// Whether `name` is a well-formed target name: a base of lowercase letters, digits and `-`,
/// not empty, then optionally `@` and a non-empty spec of printable ASCII without spaces (a
/// toolchain version such as `go@1.26.11`, or a path to one).
///
/// ```
/// use sim::program::is_valid_name;
/// assert!(is_valid_name("std-hash-map") && is_valid_name("go@1.26") && is_valid_name("go@/opt/go/bin/go"));
/// assert!(!is_valid_name("Go") && !is_valid_name("go@") && !is_valid_name("a b"));
/// ```
pub fn is_valid_name(name: &str) -> bool {
    let (base, spec) = match name.split_once('@') {
        Some((base, spec)) => (base, Some(spec)),
        None => (name, None),
    };
    let base_ok = !base.is_empty()
        && base
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let spec_ok = spec.is_none_or(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic()));
    base_ok && spec_ok
}

/// A program: how to build the map and what to do with it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Program {
    /// The map's construction and the generator's parameters.
    pub config: Config,
    /// The ops, applied in order.
    pub ops: Vec<Op>,
}

impl Program {
    /// A program of these ops under this config.
    pub fn new(config: Config, ops: Vec<Op>) -> Self {
        Program { config, ops }
    }
}

/// Which hash function the map gets (see [`crate::hasher`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum HasherMode {
    /// A well-mixed seeded hash.
    Seeded,
    /// The low 8 bits (the bucket index for B <= 8) take one of four values: long overflow chains.
    CollideLowBits,
    /// The top byte (the tophash) takes one of four values, all below minTopHash.
    CollideTophash,
    /// Every key hashes to the same value.
    Constant,
}

impl HasherMode {
    /// Every mode, in declaration order.
    pub const ALL: [HasherMode; 4] = [
        HasherMode::Seeded,
        HasherMode::CollideLowBits,
        HasherMode::CollideTophash,
        HasherMode::Constant,
    ];

    /// The mode's name in traces.
    pub fn name(self) -> &'static str {
        match self {
            HasherMode::Seeded => "seeded",
            HasherMode::CollideLowBits => "collide-low-bits",
            HasherMode::CollideTophash => "collide-tophash",
            HasherMode::Constant => "constant",
        }
    }

    /// The mode named `name` in traces.
    pub fn from_name(name: &str) -> Option<HasherMode> {
        HasherMode::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// The hasher modes a campaign's programs may draw (`sim run --hashers`): all of them unless a
/// user leaves some out, for a map with a known weakness under some of them (papaya never
/// finishes a resize under the colliding ones) whose other behaviour is still worth checking.
///
/// ```
/// use sim::program::{HasherMode, HasherSet};
/// let set = HasherSet::parse("seeded,collide-tophash").unwrap();
/// assert!(set.contains(HasherMode::CollideTophash) && !set.contains(HasherMode::Constant));
/// // A mode left out is replaced by one of the set, chosen by the hasher's seed.
/// assert_eq!(set.allow(HasherMode::Constant, 3), HasherMode::CollideTophash);
/// assert_eq!(HasherSet::ALL.allow(HasherMode::Constant, 3), HasherMode::Constant);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HasherSet(u8);

impl HasherSet {
    /// Every mode: what the generator draws from unless told otherwise.
    pub const ALL: HasherSet = HasherSet((1 << HasherMode::ALL.len()) - 1);

    fn bit(mode: HasherMode) -> u8 {
        1 << HasherMode::ALL
            .iter()
            .position(|&m| m == mode)
            .expect("every mode is in ALL")
    }

    /// Whether `mode` is in the set.
    pub fn contains(self, mode: HasherMode) -> bool {
        self.0 & HasherSet::bit(mode) != 0
    }

    /// The modes of the set, in declaration order.
    pub fn modes(self) -> Vec<HasherMode> {
        HasherMode::ALL
            .into_iter()
            .filter(|&m| self.contains(m))
            .collect()
    }

    /// `drawn` if the set has it, else the set's mode that `hasher_seed` picks: a seed still
    /// decides everything about its program.
    pub fn allow(self, drawn: HasherMode, hasher_seed: u64) -> HasherMode {
        if self.contains(drawn) {
            return drawn;
        }
        let modes = self.modes();
        modes[(hasher_seed % modes.len() as u64) as usize]
    }

    /// Parses a comma-separated list of mode names (`seeded,collide-tophash`), at least one.
    pub fn parse(text: &str) -> Result<HasherSet, String> {
        let mut set = 0;
        for name in text.split(',') {
            let mode = HasherMode::from_name(name.trim()).ok_or_else(|| {
                let known: Vec<&str> = HasherMode::ALL.iter().map(|m| m.name()).collect();
                format!(
                    "unknown hasher mode `{}` (known: {})",
                    name.trim(),
                    known.join(", ")
                )
            })?;
            set |= HasherSet::bit(mode);
        }
        Ok(HasherSet(set))
    }
}

impl fmt::Display for HasherSet {
    /// The modes' names, comma-separated, as [`HasherSet::parse`] reads them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.modes().iter().map(|m| m.name()).collect();
        f.write_str(&names.join(","))
    }
}

/// Relative weights of the op kinds drawn by the generator; 0 disables a kind (swarm testing).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct OpWeights {
    /// Weight of [`Op::Insert`].
    pub insert: u16,
    /// Weight of [`Op::Remove`].
    pub remove: u16,
    /// Weight of [`Op::Get`].
    pub get: u16,
    /// Weight of [`Op::Clear`].
    pub clear: u16,
    /// Weight of [`Op::CursorNew`].
    pub cursor_new: u16,
    /// Weight of [`Op::CursorStep`].
    pub cursor_step: u16,
    /// Weight of [`Op::CursorDrop`].
    pub cursor_drop: u16,
    /// Weight of [`Op::ForceGrow`].
    pub force_grow: u16,
    /// Weight of [`Op::ForceSameSizeGrow`].
    pub force_same_size_grow: u16,
    /// Weight of [`Op::EvacuateStep`].
    pub evacuate_step: u16,
    /// Weight of [`Op::Audit`].
    pub audit: u16,
    /// Weight of [`Op::GetMut`].
    pub get_mut: u16,
    /// Weight of [`Op::ContainsKey`].
    pub contains_key: u16,
    /// Weight of [`Op::Index`].
    pub index: u16,
    /// Weight of [`Op::Iter`].
    pub iter: u16,
    /// Weight of [`Op::Clone`].
    pub clone: u16,
    /// Weight of [`Op::CloneInsert`].
    pub clone_insert: u16,
    /// Weight of [`Op::CloneRemove`].
    pub clone_remove: u16,
    /// Weight of [`Op::Eq`].
    pub eq: u16,
    /// Weight of [`Op::Extend`].
    pub extend: u16,
    /// Weight of [`Op::FromIter`].
    pub from_iter: u16,
}

impl OpWeights {
    /// Plain map operations only (insert, remove, get, clear): no cursors, no forced growth.
    pub fn plain(insert: u16, remove: u16, get: u16, clear: u16) -> Self {
        OpWeights {
            insert,
            remove,
            get,
            clear,
            ..OpWeights::default()
        }
    }

    /// The weight of one kind.
    pub fn get(&self, kind: OpKind) -> u16 {
        *self.slot(kind)
    }

    /// Set the weight of one kind.
    pub fn set(&mut self, kind: OpKind, weight: u16) {
        *self.slot_mut(kind) = weight;
    }

    /// The sum of all weights.
    pub fn total(&self) -> u32 {
        OpKind::ALL
            .into_iter()
            .map(|k| u32::from(self.get(k)))
            .sum()
    }

    fn slot(&self, kind: OpKind) -> &u16 {
        match kind {
            OpKind::Insert => &self.insert,
            OpKind::Remove => &self.remove,
            OpKind::Get => &self.get,
            OpKind::Clear => &self.clear,
            OpKind::CursorNew => &self.cursor_new,
            OpKind::CursorStep => &self.cursor_step,
            OpKind::CursorDrop => &self.cursor_drop,
            OpKind::ForceGrow => &self.force_grow,
            OpKind::ForceSameSizeGrow => &self.force_same_size_grow,
            OpKind::EvacuateStep => &self.evacuate_step,
            OpKind::Audit => &self.audit,
            OpKind::GetMut => &self.get_mut,
            OpKind::ContainsKey => &self.contains_key,
            OpKind::Index => &self.index,
            OpKind::Iter => &self.iter,
            OpKind::Clone => &self.clone,
            OpKind::CloneInsert => &self.clone_insert,
            OpKind::CloneRemove => &self.clone_remove,
            OpKind::Eq => &self.eq,
            OpKind::Extend => &self.extend,
            OpKind::FromIter => &self.from_iter,
        }
    }

    fn slot_mut(&mut self, kind: OpKind) -> &mut u16 {
        match kind {
            OpKind::Insert => &mut self.insert,
            OpKind::Remove => &mut self.remove,
            OpKind::Get => &mut self.get,
            OpKind::Clear => &mut self.clear,
            OpKind::CursorNew => &mut self.cursor_new,
            OpKind::CursorStep => &mut self.cursor_step,
            OpKind::CursorDrop => &mut self.cursor_drop,
            OpKind::ForceGrow => &mut self.force_grow,
            OpKind::ForceSameSizeGrow => &mut self.force_same_size_grow,
            OpKind::EvacuateStep => &mut self.evacuate_step,
            OpKind::Audit => &mut self.audit,
            OpKind::GetMut => &mut self.get_mut,
            OpKind::ContainsKey => &mut self.contains_key,
            OpKind::Index => &mut self.index,
            OpKind::Iter => &mut self.iter,
            OpKind::Clone => &mut self.clone,
            OpKind::CloneInsert => &mut self.clone_insert,
            OpKind::CloneRemove => &mut self.clone_remove,
            OpKind::Eq => &mut self.eq,
            OpKind::Extend => &mut self.extend,
            OpKind::FromIter => &mut self.from_iter,
        }
    }
}

/// How to build the map, plus the parameters the generator drew the ops with.
///
/// The executor uses the map seed, the hasher, the initial capacity, the audit interval and the
/// fault; the key space, cursor limit, weights and length record how the ops were drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Config {
    /// The generator seed this program was drawn from, if it came from one.
    #[cfg_attr(feature = "arbitrary", arbitrary(value = None))]
    pub seed: Option<u64>,
    /// The map's seed: fixes its iteration randomness.
    pub map_seed: u64,
    /// The hash function.
    pub hasher: HasherMode,
    /// The hash function's seed.
    pub hasher_seed: u64,
    /// The capacity the map is created with, at most [`MAX_INITIAL_CAPACITY`].
    #[cfg_attr(feature = "arbitrary", arbitrary(with = arbitrary_capacity))]
    pub initial_capacity: u32,
    /// Keys are drawn from `0..key_space` (1 ..= [`MAX_KEY_SPACE`]).
    #[cfg_attr(feature = "arbitrary", arbitrary(with = arbitrary_key_space))]
    pub key_space: u64,
    /// How many cursors may be live at once (0 ..= [`MAX_CURSORS`]).
    #[cfg_attr(feature = "arbitrary", arbitrary(with = arbitrary_max_cursors))]
    pub max_cursors: u8,
    /// `check_invariants` runs after every `audit_every`-th op (>= 1), and always at the end.
    #[cfg_attr(feature = "arbitrary", arbitrary(with = arbitrary_audit_every))]
    pub audit_every: u32,
    /// The op weights the ops were drawn with.
    pub weights: OpWeights,
    /// The program length the generator was asked for.
    pub len: u32,
    /// The fault injected into the map (needs the `faults` feature to run).
    #[cfg_attr(feature = "arbitrary", arbitrary(value = None))]
    pub fault: Option<Fault>,
    /// The target the program runs on ([`crate::target`]); traces that name none run on
    /// [`DEFAULT_TARGET`].
    #[cfg_attr(feature = "arbitrary", arbitrary(value = DEFAULT_TARGET.to_string()))]
    pub target: String,
}

impl Default for Config {
    /// A small seeded map, audited after every op, all op kinds enabled.
    fn default() -> Self {
        let mut weights = OpWeights::default();
        for kind in OpKind::ALL {
            weights.set(kind, 1);
        }
        Config {
            seed: None,
            map_seed: 0,
            hasher: HasherMode::Seeded,
            hasher_seed: 0,
            initial_capacity: 0,
            key_space: 64,
            max_cursors: 2,
            audit_every: 1,
            weights,
            len: 100,
            fault: None,
            target: DEFAULT_TARGET.to_string(),
        }
    }
}

impl Config {
    /// Checks every field is within its documented range; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.initial_capacity > MAX_INITIAL_CAPACITY {
            return Err(format!(
                "capacity {} is above the maximum {MAX_INITIAL_CAPACITY}",
                self.initial_capacity
            ));
        }
        if !(1..=MAX_KEY_SPACE).contains(&self.key_space) {
            return Err(format!(
                "key-space {} is not in 1..={MAX_KEY_SPACE}",
                self.key_space
            ));
        }
        if usize::from(self.max_cursors) > MAX_CURSORS {
            return Err(format!(
                "max-cursors {} is above {MAX_CURSORS}",
                self.max_cursors
            ));
        }
        if self.audit_every == 0 {
            return Err("audit-every must be at least 1".to_string());
        }
        if !is_valid_name(&self.target) {
            return Err(format!(
                "target `{}` is not a target name (lowercase letters, digits and `-`, then optionally `@` and a version or path)",
                self.target
            ));
        }
        Ok(())
    }
}

#[cfg(feature = "arbitrary")]
fn arbitrary_capacity(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<u32> {
    u.int_in_range(0..=1024)
}

#[cfg(feature = "arbitrary")]
fn arbitrary_key_space(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<u64> {
    u.int_in_range(1..=1 << 16)
}

#[cfg(feature = "arbitrary")]
fn arbitrary_max_cursors(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<u8> {
    u.int_in_range(0..=MAX_CURSORS as u8)
}

#[cfg(feature = "arbitrary")]
fn arbitrary_audit_every(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<u32> {
    u.int_in_range(1..=64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid() {
        assert_eq!(Config::default().validate(), Ok(()));
    }

    #[test]
    fn out_of_range_fields_are_named() {
        type Break = fn(&mut Config);
        let cases: [(Break, &str); 4] = [
            (
                |c| c.initial_capacity = MAX_INITIAL_CAPACITY + 1,
                "capacity",
            ),
            (|c| c.key_space = 0, "key-space"),
            (|c| c.max_cursors = 5, "max-cursors"),
            (|c| c.audit_every = 0, "audit-every"),
        ];
        for (break_it, field) in cases {
            let mut config = Config::default();
            break_it(&mut config);
            let err = config.validate().unwrap_err();
            assert!(err.contains(field), "{err:?} does not name {field}");
        }
    }

    #[test]
    fn weights_are_addressed_by_kind() {
        let mut w = OpWeights::plain(4, 3, 2, 1);
        assert_eq!(w.total(), 10);
        w.set(OpKind::Audit, 5);
        assert_eq!(w.get(OpKind::Audit), 5);
        assert_eq!(w.audit, 5);
    }
}
