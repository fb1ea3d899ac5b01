//! The operations a program applies to the map, one at a time.
//!
//! Every op stays meaningful wherever it lands in a program, so the shrinker may delete any op:
//! stepping or dropping a cursor that does not exist is a no-op, creating a cursor on a handle in
//! use replaces the old cursor, and growth controls do nothing when they cannot apply.

use std::fmt;

/// Where a generator puts the ops it draws, in order: a program's op list, or an executor that
/// applies and checks each op as it arrives (`exec::run_streamed`), so that a seed's program runs
/// without being stored.
pub trait OpSink {
    /// Takes the next op.
    fn push(&mut self, op: Op);

    /// Ops taken so far.
    fn len(&self) -> usize;

    /// Whether no op was taken yet.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl OpSink for Vec<Op> {
    #[inline]
    fn push(&mut self, op: Op) {
        Vec::push(self, op);
    }

    #[inline]
    fn len(&self) -> usize {
        Vec::len(self)
    }
}

impl<S: OpSink + ?Sized> OpSink for &mut S {
    #[inline(always)]
    fn push(&mut self, op: Op) {
        (**self).push(op);
    }

    #[inline]
    fn len(&self) -> usize {
        (**self).len()
    }
}

/// Ops to be drawn into a sink: a generator's program before its ops exist
/// (`gen::Drawing`).
pub trait OpSource {
    /// Draws every op, in order, into `sink`, which starts empty (the source counts its ops by
    /// the sink's length).
    fn draw_into<S: OpSink>(self, sink: &mut S);
}

/// How many cursors a program can name at once: handles are `0..MAX_CURSORS`.
pub const MAX_CURSORS: usize = 4;

/// A small handle naming one of a program's cursors (`c0`..`c3` in traces).
///
/// Handles, not positions in a list, name cursors so that a program keeps its meaning when the
/// shrinker deletes the ops that created other cursors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CursorId(u8);

impl CursorId {
    /// All handles, in order.
    pub const ALL: [CursorId; MAX_CURSORS] = [CursorId(0), CursorId(1), CursorId(2), CursorId(3)];

    /// The handle with this index, if it is below [`MAX_CURSORS`].
    pub fn new(index: u8) -> Option<CursorId> {
        (usize::from(index) < MAX_CURSORS).then_some(CursorId(index))
    }

    /// The handle's index, `0..MAX_CURSORS`.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

impl fmt::Display for CursorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", self.0)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for CursorId {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        // Decoded into range rather than rejected, so every byte string is a valid program.
        Ok(CursorId(u.int_in_range(0..=(MAX_CURSORS - 1) as u8)?))
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (1, Some(1))
    }
}

/// One operation of a program. Keys and values are `u64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Op {
    /// `insert(key, value)`; the previous value must match the model's.
    Insert {
        /// The key.
        key: u64,
        /// The new value.
        value: u64,
    },
    /// `remove(key)`; the removed value must match the model's.
    Remove {
        /// The key.
        key: u64,
    },
    /// `get(key)`; the value must match the model's.
    Get {
        /// The key.
        key: u64,
    },
    /// `clear()`: ends every incarnation.
    Clear,
    /// Create a cursor under this handle, dropping the one it named before, if any.
    CursorNew {
        /// The handle.
        cursor: CursorId,
    },
    /// Advance the cursor up to `steps` times, checking every yield; stops early at its end.
    /// A no-op when the handle names no cursor or the cursor has ended.
    CursorStep {
        /// The handle.
        cursor: CursorId,
        /// How many times to call `next`.
        steps: u16,
    },
    /// Drop the cursor; a no-op when the handle names none.
    CursorDrop {
        /// The handle.
        cursor: CursorId,
    },
    /// `force_grow()`: start a doubling growth unless one is under way. Skipped when the map
    /// already has [`crate::exec::MAX_FORCED_BUCKETS`] buckets, so that no program exhausts memory.
    ForceGrow,
    /// `force_same_size_grow()`: start a same-size growth unless one is under way.
    ForceSameSizeGrow,
    /// `evacuate_step()`: evacuate one more old bucket; must report whether a growth was under way.
    EvacuateStep,
    /// `check_invariants()` now, whatever the audit interval.
    Audit,
    /// `*get_mut(key) = value` when the key is present: an update, not a new incarnation; the
    /// value it replaced must match the model's.
    GetMut {
        /// The key.
        key: u64,
        /// The value written.
        value: u64,
    },
    /// `contains_key(key)`; must match whether the model holds the key.
    ContainsKey {
        /// The key.
        key: u64,
    },
    /// `map[&key]`: the model's value when the key is present, a panic when it is absent.
    Index {
        /// The key.
        key: u64,
    },
    /// A full `iter()` now, growth under way or not: exactly the model's entries, each once.
    Iter,
    /// `clone()`: the program's second map becomes a clone of the map; the two then go their
    /// own ways (the second map takes `clone-insert` and `clone-remove`), each checked against
    /// its own model, audited, and compared with `eq`.
    Clone,
    /// `insert(key, value)` on the second map; a no-op when there is none.
    CloneInsert {
        /// The key.
        key: u64,
        /// The new value.
        value: u64,
    },
    /// `remove(key)` on the second map; a no-op when there is none.
    CloneRemove {
        /// The key.
        key: u64,
    },
    /// `map == second` must hold exactly when their models hold the same entries, and the map
    /// must equal a map built from its model's entries.
    Eq,
    /// `extend(entries)` with [`Op::entries`]`(key, count, value)`: keys repeat, the last value wins.
    Extend {
        /// The first key.
        key: u64,
        /// How many entries.
        count: u8,
        /// The first value.
        value: u64,
    },
    /// The second map becomes `FromIterator::from_iter` of [`Op::entries`]`(key, count, value)`:
    /// keys repeat, the last value wins.
    FromIter {
        /// The first key.
        key: u64,
        /// How many entries.
        count: u8,
        /// The first value.
        value: u64,
    },
}

/// The kinds of [`Op`], for counting and weighting without the operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpKind {
    /// [`Op::Insert`]
    Insert,
    /// [`Op::Remove`]
    Remove,
    /// [`Op::Get`]
    Get,
    /// [`Op::Clear`]
    Clear,
    /// [`Op::CursorNew`]
    CursorNew,
    /// [`Op::CursorStep`]
    CursorStep,
    /// [`Op::CursorDrop`]
    CursorDrop,
    /// [`Op::ForceGrow`]
    ForceGrow,
    /// [`Op::ForceSameSizeGrow`]
    ForceSameSizeGrow,
    /// [`Op::EvacuateStep`]
    EvacuateStep,
    /// [`Op::Audit`]
    Audit,
    /// [`Op::GetMut`]
    GetMut,
    /// [`Op::ContainsKey`]
    ContainsKey,
    /// [`Op::Index`]
    Index,
    /// [`Op::Iter`]
    Iter,
    /// [`Op::Clone`]
    Clone,
    /// [`Op::CloneInsert`]
    CloneInsert,
    /// [`Op::CloneRemove`]
    CloneRemove,
    /// [`Op::Eq`]
    Eq,
    /// [`Op::Extend`]
    Extend,
    /// [`Op::FromIter`]
    FromIter,
}

impl OpKind {
    /// Every kind, in declaration order (the order of [`OpKind::index`]).
    pub const ALL: [OpKind; 21] = [
        OpKind::Insert,
        OpKind::Remove,
        OpKind::Get,
        OpKind::Clear,
        OpKind::CursorNew,
        OpKind::CursorStep,
        OpKind::CursorDrop,
        OpKind::ForceGrow,
        OpKind::ForceSameSizeGrow,
        OpKind::EvacuateStep,
        OpKind::Audit,
        OpKind::GetMut,
        OpKind::ContainsKey,
        OpKind::Index,
        OpKind::Iter,
        OpKind::Clone,
        OpKind::CloneInsert,
        OpKind::CloneRemove,
        OpKind::Eq,
        OpKind::Extend,
        OpKind::FromIter,
    ];

    /// The kinds that exercise the Rust map API beyond the plain ops (targets with
    /// `Capabilities::api`).
    pub fn is_api(self) -> bool {
        matches!(
            self,
            OpKind::GetMut
                | OpKind::ContainsKey
                | OpKind::Index
                | OpKind::Iter
                | OpKind::Clone
                | OpKind::CloneInsert
                | OpKind::CloneRemove
                | OpKind::Eq
                | OpKind::Extend
                | OpKind::FromIter
        )
    }

    /// Position in [`OpKind::ALL`], for per-kind tables.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The op's name in traces (kebab case).
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Insert => "insert",
            OpKind::Remove => "remove",
            OpKind::Get => "get",
            OpKind::Clear => "clear",
            OpKind::CursorNew => "cursor-new",
            OpKind::CursorStep => "cursor-step",
            OpKind::CursorDrop => "cursor-drop",
            OpKind::ForceGrow => "force-grow",
            OpKind::ForceSameSizeGrow => "force-same-size-grow",
            OpKind::EvacuateStep => "evacuate-step",
            OpKind::Audit => "audit",
            OpKind::GetMut => "get-mut",
            OpKind::ContainsKey => "contains",
            OpKind::Index => "index",
            OpKind::Iter => "iter",
            OpKind::Clone => "clone",
            OpKind::CloneInsert => "clone-insert",
            OpKind::CloneRemove => "clone-remove",
            OpKind::Eq => "eq",
            OpKind::Extend => "extend",
            OpKind::FromIter => "from-iter",
        }
    }

    /// The kind named `name` in traces.
    pub fn from_name(name: &str) -> Option<OpKind> {
        OpKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl Op {
    /// This op's kind.
    pub fn kind(&self) -> OpKind {
        match self {
            Op::Insert { .. } => OpKind::Insert,
            Op::Remove { .. } => OpKind::Remove,
            Op::Get { .. } => OpKind::Get,
            Op::Clear => OpKind::Clear,
            Op::CursorNew { .. } => OpKind::CursorNew,
            Op::CursorStep { .. } => OpKind::CursorStep,
            Op::CursorDrop { .. } => OpKind::CursorDrop,
            Op::ForceGrow => OpKind::ForceGrow,
            Op::ForceSameSizeGrow => OpKind::ForceSameSizeGrow,
            Op::EvacuateStep => OpKind::EvacuateStep,
            Op::Audit => OpKind::Audit,
            Op::GetMut { .. } => OpKind::GetMut,
            Op::ContainsKey { .. } => OpKind::ContainsKey,
            Op::Index { .. } => OpKind::Index,
            Op::Iter => OpKind::Iter,
            Op::Clone => OpKind::Clone,
            Op::CloneInsert { .. } => OpKind::CloneInsert,
            Op::CloneRemove { .. } => OpKind::CloneRemove,
            Op::Eq => OpKind::Eq,
            Op::Extend { .. } => OpKind::Extend,
            Op::FromIter { .. } => OpKind::FromIter,
        }
    }

    /// The cursor this op names, if any.
    pub fn cursor(&self) -> Option<CursorId> {
        match *self {
            Op::CursorNew { cursor }
            | Op::CursorStep { cursor, .. }
            | Op::CursorDrop { cursor } => Some(cursor),
            _ => None,
        }
    }

    /// The key this op names, if any (the first key of `extend` and `from-iter`).
    pub fn key(&self) -> Option<u64> {
        match *self {
            Op::Insert { key, .. }
            | Op::Remove { key }
            | Op::Get { key }
            | Op::GetMut { key, .. }
            | Op::ContainsKey { key }
            | Op::Index { key }
            | Op::CloneInsert { key, .. }
            | Op::CloneRemove { key }
            | Op::Extend { key, .. }
            | Op::FromIter { key, .. } => Some(key),
            _ => None,
        }
    }

    /// This op with its key replaced by `key` (ops without a key are returned unchanged).
    pub fn with_key(self, new: u64) -> Op {
        match self {
            Op::Insert { value, .. } => Op::Insert { key: new, value },
            Op::Remove { .. } => Op::Remove { key: new },
            Op::Get { .. } => Op::Get { key: new },
            Op::GetMut { value, .. } => Op::GetMut { key: new, value },
            Op::ContainsKey { .. } => Op::ContainsKey { key: new },
            Op::Index { .. } => Op::Index { key: new },
            Op::CloneInsert { value, .. } => Op::CloneInsert { key: new, value },
            Op::CloneRemove { .. } => Op::CloneRemove { key: new },
            Op::Extend { count, value, .. } => Op::Extend {
                key: new,
                count,
                value,
            },
            Op::FromIter { count, value, .. } => Op::FromIter {
                key: new,
                count,
                value,
            },
            other => other,
        }
    }

    /// The entries of `extend K N V` and `from-iter K N V`: `N` entries over `ceil(N / 2)` keys
    /// from `K` on, so that most keys come twice, with values `V, V + 1, ...`; the last value
    /// given for a key is the one that must stay.
    pub fn entries(key: u64, count: u8, value: u64) -> impl Iterator<Item = (u64, u64)> {
        let keys = u64::from(count).div_ceil(2).max(1);
        (0..u64::from(count)).map(move |i| (key.wrapping_add(i % keys), value.wrapping_add(i)))
    }
}

/// The trace syntax: `insert 5 7`, `cursor-step c1 3`, `clear`.
impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.kind().name();
        match *self {
            Op::Insert { key, value } => write!(f, "{name} {key} {value}"),
            Op::Remove { key } | Op::Get { key } => write!(f, "{name} {key}"),
            Op::CursorNew { cursor } | Op::CursorDrop { cursor } => write!(f, "{name} {cursor}"),
            Op::CursorStep { cursor, steps } => write!(f, "{name} {cursor} {steps}"),
            Op::GetMut { key, value } | Op::CloneInsert { key, value } => {
                write!(f, "{name} {key} {value}")
            }
            Op::ContainsKey { key } | Op::Index { key } | Op::CloneRemove { key } => {
                write!(f, "{name} {key}")
            }
            Op::Extend { key, count, value } | Op::FromIter { key, count, value } => {
                write!(f, "{name} {key} {count} {value}")
            }
            Op::Clear
            | Op::ForceGrow
            | Op::ForceSameSizeGrow
            | Op::EvacuateStep
            | Op::Audit
            | Op::Iter
            | Op::Clone
            | Op::Eq => f.write_str(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_indexed_in_declaration_order() {
        for (i, kind) in OpKind::ALL.into_iter().enumerate() {
            assert_eq!(kind.index(), i);
            assert_eq!(OpKind::from_name(kind.name()), Some(kind));
        }
    }

    #[test]
    fn extend_entries_repeat_keys_and_the_last_value_is_latest() {
        let entries: Vec<_> = Op::entries(10, 5, 100).collect();
        assert_eq!(
            entries,
            vec![(10, 100), (11, 101), (12, 102), (10, 103), (11, 104)]
        );
        assert_eq!(Op::entries(0, 0, 0).count(), 0);
        assert_eq!(Op::entries(7, 1, 3).collect::<Vec<_>>(), vec![(7, 3)]);
    }

    #[test]
    fn with_key_replaces_exactly_the_key() {
        let op = Op::Extend {
            key: 4,
            count: 3,
            value: 9,
        };
        assert_eq!(op.with_key(1).key(), Some(1));
        assert_eq!(Op::Iter.with_key(1), Op::Iter);
    }

    #[test]
    fn cursor_ids_are_bounded() {
        assert_eq!(CursorId::new(3).map(CursorId::index), Some(3));
        assert_eq!(CursorId::new(4), None);
    }
}
