//! The reference: a plain map plus, per cursor, what it must, may and must not yield.
//!
//! This is the only code that decides what the map is allowed to do (semantics.md §2). It works on
//! *incarnations*: the span of a key from the insert that made it present to the remove or clear
//! that made it absent. For each live cursor it knows
//! - the incarnations present at the cursor's creation and still alive: they must be yielded
//!   exactly once before the cursor ends (rules 1, 4);
//! - the incarnations begun after its creation: they may be yielded once (rule 5);
//! - which incarnations it has yielded (rule 1);
//! - everything absent may not be yielded (rules 2, 7), and a yield must carry the current value
//!   (rule 3);
//!
//! Rule 6 (termination) needs no check of its own: a step either ends the cursor or yields, and
//! every allowed yield consumes a distinct live incarnation, so the first step past the cursor's
//! budget (one step per incarnation that existed during its life, plus the end) necessarily
//! repeats an incarnation or yields an absent key, and is reported under rule 1 or 2. This also
//! keeps the executor's loops finite: it drains a cursor only while the model allows its yields.
//!
//! Per-cursor facts about an incarnation are bits in the incarnation itself (one bit per cursor
//! handle), so a yield costs one lookup and creating a cursor one pass over the entries.
//!
//! The model runs once per op of every program, so its plain ops cost one lookup each: an array
//! index for the keys of the program's key space (a `KeyMap` of the crate's private `key_index`
//! module, whose order follows the op history alone, so everything derived from it replays).
//! What only explains a failure (when and how a key's last incarnation ended) is a mark the
//! remove or clear leaves on the absent key in that array (an append-only log for the keys
//! outside it), read back only when a failure is reported.

mod weak;

use indexmap::IndexMap;

pub use self::weak::NoRepeat;
use self::weak::{Present, Verdict, Weak};
use crate::failure::{FailureKind, WeakRule};
use crate::key_index::KeyMap;
use crate::op::{CursorId, MAX_CURSORS};

/// Which rules a target's cursors promise, and so which ones the model checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Contract {
    /// semantics.md §2, Go's for its plain map: each incarnation at most once, never an absent
    /// key, always the current value, every entry present throughout yielded.
    Strict,
    /// semantics.md §7, weakly consistent iteration (concurrent maps): no key (or incarnation)
    /// twice, every key present throughout yielded, each value one the key held during the
    /// cursor's window, an end within as many yields as there were keys.
    Weak(NoRepeat),
}

impl Contract {
    /// How reports name the contract: `§2` or `§7 (W1 per key)`.
    pub fn name(self) -> String {
        match self {
            Contract::Strict => "§2".to_string(),
            Contract::Weak(no_repeat) => format!("§7 (W1 {})", no_repeat.name()),
        }
    }
}

/// A map from keys with a fixed hasher, for the records kept only while a cursor is active.
type HashedKeyMap<V> = IndexMap<u64, V, foldhash::fast::FixedState>;

/// A broken rule, as the model words it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Which rule.
    pub kind: FailureKind,
    /// What the model allowed or required.
    pub expected: String,
    /// What the map did.
    pub found: String,
}

/// Why a yield was allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allowed {
    /// The incarnation was present when the cursor was created: it had to be yielded.
    Required,
    /// The incarnation began after the cursor was created: yielding it was optional.
    Optional,
    /// §7 only: the value is one the key held earlier in the cursor's window (W3), not its
    /// current one.
    Earlier,
}

/// One incarnation of a present key.
#[derive(Clone, Copy, Debug)]
struct Incarnation {
    value: u64,
    /// The step of the insert that began it.
    born: usize,
    /// The step of the insert that stored the current value.
    stored: usize,
    /// Bit c: cursor c was created while this incarnation was present and has not yielded it yet.
    must_yield: u8,
    /// Bit c: cursor c has yielded this incarnation.
    yielded: u8,
}

impl Incarnation {
    /// What the §7 records read of it.
    fn present(&self) -> Present {
        Present {
            value: self.value,
            stored: self.stored,
            yielded: self.yielded,
        }
    }
}

/// How an incarnation ended: by a remove or a clear, at a step.
#[derive(Clone, Copy, Debug)]
struct Ended {
    key: u64,
    step: usize,
    by_clear: bool,
}

impl Ended {
    fn new(key: u64, step: usize, by_clear: bool) -> Self {
        Ended {
            key,
            step,
            by_clear,
        }
    }

    /// The mark an ending leaves on its key in the entries ([`KeyMap::mark`]); a step too large
    /// for one gives a mark past [`KeyMap::MAX_MARK`], which is left in the log instead.
    #[inline]
    fn mark(step: usize, by_clear: bool) -> u32 {
        u32::try_from(step)
            .ok()
            .and_then(|s| s.checked_mul(2))
            .map_or(u32::MAX, |s| s | u32::from(by_clear))
    }

    fn from_mark(key: u64, mark: u32) -> Self {
        Ended::new(key, (mark >> 1) as usize, mark & 1 == 1)
    }
}

/// A live cursor's obligations.
#[derive(Clone, Copy, Debug)]
struct CursorState {
    created: usize,
    steps: u64,
    /// Required incarnations not yet yielded and still alive.
    pending: usize,
    ended: bool,
}

/// The reference map and every live cursor's obligations.
#[derive(Clone, Debug, Default)]
pub struct Model {
    entries: KeyMap<Incarnation>,
    /// How incarnations ended, oldest first, for the keys that cannot carry the mark of their
    /// ending in `entries` (keys outside the key space, or steps too large for a mark): read only
    /// to explain an absent key's yield.
    ended: Vec<Ended>,
    /// Bit c: active cursor c had yielded the key's last incarnation before it ended. Kept only
    /// for the re-insert coverage count, and only while such a cursor is active.
    yielded_then_ended: HashedKeyMap<u8>,
    cursors: [Option<CursorState>; MAX_CURSORS],
    /// Bit c: cursor c exists and has not reported its end.
    active: u8,
    reinserted_yielded: u64,
    /// The §7 records, for a target that promises §7 ([`Contract::Weak`]).
    weak: Option<Box<Weak>>,
}

fn bit(c: CursorId) -> u8 {
    1 << c.index()
}

fn show(v: Option<u64>) -> String {
    match v {
        Some(v) => format!("Some({v})"),
        None => "None".to_string(),
    }
}

impl Model {
    /// An empty map with no cursors. Every key is looked up hashed: for programs, prefer
    /// [`Model::for_key_space`].
    pub fn new() -> Self {
        Model::default()
    }

    /// An empty map with no cursors, whose keys `0..key_space` (a program's key space) are
    /// looked up by array index; other keys still work, hashed.
    pub fn for_key_space(key_space: u64) -> Self {
        Model {
            entries: KeyMap::new(key_space),
            ..Model::default()
        }
    }

    /// Like [`Model::for_key_space`], for cursors that promise `contract`.
    pub fn with_contract(key_space: u64, contract: Contract) -> Self {
        let weak = match contract {
            Contract::Strict => None,
            Contract::Weak(no_repeat) => Some(Box::new(Weak::new(no_repeat))),
        };
        Model {
            weak,
            ..Model::for_key_space(key_space)
        }
    }

    /// The rules this model checks cursors against.
    pub fn contract(&self) -> Contract {
        self.weak
            .as_ref()
            .map_or(Contract::Strict, |w| Contract::Weak(w.no_repeat))
    }

    /// §7: how many cursors, ended or dropped, yielded a value stored after their creation (a
    /// snapshot never would); 0 under §2.
    pub fn fresh_value_cursors(&self) -> u64 {
        self.weak.as_ref().map_or(0, |w| w.fresh_value_cursors)
    }

    /// A model holding `entries`, applied in order as inserts at `step` (a later entry for a key
    /// replaces an earlier one), with keys `0..key_space` looked up by array index.
    pub fn from_entries(entries: &[(u64, u64)], step: usize, key_space: u64) -> Self {
        let mut model = Model::for_key_space(key_space);
        for &(key, value) in entries {
            model.insert(key, value, step);
        }
        model
    }

    /// The number of present keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key is present.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every present key with its value, in the order of the op history (not sorted: for
    /// copying the model, where order does not matter).
    pub fn unsorted_entries(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.entries.iter().map(|(k, e)| (k, e.value))
    }

    /// Whether `other` holds exactly the same keys with the same values.
    pub fn same_entries(&self, other: &Model) -> bool {
        self.len() == other.len()
            && self
                .entries
                .iter()
                .all(|(k, e)| other.entries.get(k).is_some_and(|o| o.value == e.value))
    }

    /// Every present key with its value, in key order.
    pub fn entries(&self) -> Vec<(u64, u64)> {
        let mut entries: Vec<(u64, u64)> = self.entries.iter().map(|(k, e)| (k, e.value)).collect();
        entries.sort_unstable();
        entries
    }

    /// The current value of `key`.
    pub fn get(&self, key: u64) -> Option<u64> {
        self.entries.get(key).map(|e| e.value)
    }

    /// Inserts at `step`; returns the previous value. A key that was absent begins an incarnation.
    pub fn insert(&mut self, key: u64, value: u64, step: usize) -> Option<u64> {
        let fresh = || Incarnation {
            value,
            born: step,
            stored: step,
            must_yield: 0,
            yielded: 0,
        };
        let old = self.entries.upsert(key, fresh, |old| Incarnation {
            value,
            stored: step,
            ..old
        });
        if !self.yielded_then_ended.is_empty() && old.is_none() {
            self.note_reinsert(key);
        }
        if self.active != 0 {
            if let Some(weak) = &mut self.weak {
                match &old {
                    Some(old) => weak.overwritten(key, old.present(), step),
                    None => weak.began(key, self.active),
                }
            }
        }
        old.map(|o| o.value)
    }

    /// A key began a new incarnation while the re-insert coverage count follows yielded keys.
    #[cold]
    fn note_reinsert(&mut self, key: u64) {
        if let Some(yielded) = self.yielded_then_ended.swap_remove(&key) {
            if yielded & self.active != 0 {
                self.reinserted_yielded += 1;
            }
        }
    }

    /// Removes at `step`; returns the removed value. Ends the key's incarnation.
    pub fn remove(&mut self, key: u64, step: usize) -> Option<u64> {
        let mark = Ended::mark(step, false);
        let (entry, marked) = self.entries.swap_remove_marking(key, mark)?;
        if !marked {
            self.ended.push(Ended::new(key, step, false));
        }
        self.end_incarnation(key, &entry, step);
        Some(entry.value)
    }

    /// Removes every key at `step`: every incarnation ends.
    pub fn clear(&mut self, step: usize) {
        let mark = Ended::mark(step, true);
        if self.active == 0 {
            // No cursor is owed anything: only how each key ended is left to record.
            let ended = &mut self.ended;
            self.entries
                .clear_leaving_mark(mark, |key| ended.push(Ended::new(key, step, true)));
            return;
        }
        let mut entries = std::mem::take(&mut self.entries);
        entries.clear_marking(mark, |key, entry, marked| {
            if !marked {
                self.ended.push(Ended::new(key, step, true));
            }
            self.end_incarnation(key, entry, step);
        });
        self.entries = entries;
    }

    /// How `key`'s last incarnation ended, if it had one: from the mark its remove or clear left,
    /// else from the log.
    fn how_ended(&self, key: u64) -> Option<Ended> {
        match self.entries.mark(key) {
            Some(mark) => Some(Ended::from_mark(key, mark)),
            None => self.ended.iter().rev().find(|e| e.key == key).copied(),
        }
    }

    /// What an ended incarnation owes the active cursors.
    #[inline]
    fn end_incarnation(&mut self, key: u64, entry: &Incarnation, step: usize) {
        if self.active == 0 {
            return;
        }
        if let Some(weak) = &mut self.weak {
            weak.ended(key, entry.present(), step, self.active);
        }
        let owed = entry.must_yield & self.active;
        for c in CursorId::ALL.into_iter().filter(|&c| owed & bit(c) != 0) {
            if let Some(state) = &mut self.cursors[c.index()] {
                state.pending -= 1;
            }
        }
        let yielded = entry.yielded & self.active;
        if yielded != 0 {
            self.yielded_then_ended.insert(key, yielded);
        }
    }

    /// A cursor created at `step` under handle `c`; the caller has dropped any previous one.
    pub fn cursor_new(&mut self, c: CursorId, step: usize) {
        let b = bit(c);
        for entry in self.entries.values_mut() {
            entry.must_yield |= b;
            entry.yielded &= !b;
        }
        self.yielded_then_ended.retain(|_, yielded| {
            *yielded &= !b;
            *yielded != 0
        });
        let present = self.entries.len();
        if let Some(weak) = &mut self.weak {
            weak.cursor_new(c, present);
        }
        self.cursors[c.index()] = Some(CursorState {
            created: step,
            steps: 0,
            pending: present,
            ended: false,
        });
        self.active |= b;
    }

    /// Forgets cursor `c` (no-op if there is none).
    pub fn cursor_drop(&mut self, c: CursorId) {
        self.cursors[c.index()] = None;
        self.deactivate(c);
    }

    /// Cursor `c` can yield no more: once no cursor can, no re-insert can count as one of a
    /// yielded key, so the record of yielded keys goes.
    fn deactivate(&mut self, c: CursorId) {
        let was_active = self.active & bit(c) != 0;
        self.active &= !bit(c);
        if let Some(weak) = &mut self.weak {
            if was_active {
                weak.cursor_done(c);
            }
            if self.active == 0 {
                weak.forget();
            }
        }
        if self.active == 0 {
            self.yielded_then_ended.clear();
        }
    }

    /// Whether cursor `c` exists and has not reported its end.
    pub fn is_active(&self, c: CursorId) -> bool {
        self.active & bit(c) != 0
    }

    /// Whether any cursor exists and has not reported its end.
    pub fn has_active_cursors(&self) -> bool {
        self.active != 0
    }

    /// How many times an incarnation began for a key that an active cursor had yielded before it
    /// was removed or cleared (the case where rule 1 lets the key be yielded again).
    pub fn reinserted_yielded(&self) -> u64 {
        self.reinserted_yielded
    }

    /// Checks that active cursor `c` may yield `(key, value)` now, and records the yield.
    ///
    /// # Panics
    /// If `c` is not active (the executor never steps an ended or missing cursor).
    pub fn on_yield(&mut self, c: CursorId, key: u64, value: u64) -> Result<Allowed, Violation> {
        if self.weak.is_some() {
            return self.on_weak_yield(c, key, value);
        }
        let b = bit(c);
        let state = self.cursors[c.index()]
            .as_mut()
            .expect("yield from an inactive cursor");
        assert!(!state.ended, "yield from an ended cursor");
        state.steps += 1;
        let Some(entry) = self.entries.get_mut(key) else {
            let why = self.why_absent(key);
            return Err(Violation {
                kind: FailureKind::AbsentYield,
                expected: format!("no yield of key {key}: it is absent ({why})"),
                found: format!("{c} yielded ({key}, {value})"),
            });
        };
        if entry.yielded & b != 0 {
            return Err(Violation {
                kind: FailureKind::DuplicateYield,
                expected: format!(
                    "key {key} (incarnation inserted at step {}) yielded at most once by {c}",
                    entry.born
                ),
                found: format!("{c} yielded ({key}, {value}) a second time"),
            });
        }
        if entry.value != value {
            return Err(Violation {
                kind: FailureKind::StaleValue,
                expected: format!("key {key} yielded with its current value {}", entry.value),
                found: format!("{c} yielded ({key}, {value})"),
            });
        }
        entry.yielded |= b;
        if entry.must_yield & b != 0 {
            entry.must_yield &= !b;
            state.pending -= 1;
            Ok(Allowed::Required)
        } else {
            Ok(Allowed::Optional)
        }
    }

    /// How an absent key came to be absent, for a report.
    fn why_absent(&self, key: u64) -> String {
        match self.how_ended(key) {
            Some(Ended {
                step,
                by_clear: true,
                ..
            }) => format!("cleared at step {step}"),
            Some(Ended {
                step,
                by_clear: false,
                ..
            }) => format!("removed at step {step}"),
            None => "never inserted".to_string(),
        }
    }

    /// [`Model::on_yield`] for a §7 target.
    fn on_weak_yield(&mut self, c: CursorId, key: u64, value: u64) -> Result<Allowed, Violation> {
        let b = bit(c);
        let state = self.cursors[c.index()]
            .as_mut()
            .expect("yield from an inactive cursor");
        assert!(!state.ended, "yield from an ended cursor");
        state.steps += 1;
        let created = state.created;
        let weak = self.weak.as_mut().expect("a §7 model");
        let no_repeat = weak.no_repeat;
        let present = self.entries.get(key).map(Incarnation::present);
        // Formatted only for a violation: an allowed yield, nearly every one, allocates nothing.
        let found = || format!("{c} yielded ({key}, {value})");
        let violation = |rule, expected: String, found: String| {
            Err(Violation {
                kind: FailureKind::Weak(rule),
                expected,
                found,
            })
        };
        match weak.on_yield(c, created, key, value, present) {
            verdict @ (Verdict::Current | Verdict::Earlier) => {
                let entry = self.entries.get_mut(key);
                let owed = entry.is_some_and(|entry| {
                    entry.yielded |= b;
                    let owed = entry.must_yield & b != 0;
                    entry.must_yield &= !b;
                    owed
                });
                if owed {
                    if let Some(state) = &mut self.cursors[c.index()] {
                        state.pending -= 1;
                    }
                }
                Ok(match verdict {
                    Verdict::Earlier => Allowed::Earlier,
                    _ if owed => Allowed::Required,
                    _ => Allowed::Optional,
                })
            }
            Verdict::Unending { yields, bound } => {
                let counted = match no_repeat {
                    NoRepeat::PerKey => "keys",
                    NoRepeat::PerElement => "incarnations",
                };
                violation(
                    WeakRule::Unending,
                    format!(
                        "{c} (created at step {created}) yields at most {bound} times: the {counted}                          present during its life"
                    ),
                    format!("{}, its yield number {yields}", found()),
                )
            }
            Verdict::Repeat {
                yields,
                incarnations,
            } => match no_repeat {
                NoRepeat::PerKey => violation(
                    WeakRule::KeyTwice,
                    format!("key {key} yielded at most once by {c} (W1 per key)"),
                    format!("{} a second time", found()),
                ),
                NoRepeat::PerElement => violation(
                    WeakRule::ElementTwice,
                    format!(
                        "key {key} yielded at most {incarnations} times by {c}: once per                          incarnation in its window since step {created} (W1 per element)"
                    ),
                    format!("{}, its yield number {yields} of the key", found()),
                ),
            },
            Verdict::ValueOutsideWindow => {
                let mut held = weak.window_values(created, key);
                held.extend(present.map(|p| p.value));
                let held: Vec<String> = held.iter().map(u64::to_string).collect();
                violation(
                    WeakRule::ValueOutsideWindow,
                    format!(
                        "key {key} yielded with a value it held since {c} was created at step                          {created}: one of {}",
                        held.join(", ")
                    ),
                    found(),
                )
            }
            Verdict::KeyOutsideWindow => {
                let why = self.why_absent(key);
                violation(
                    WeakRule::KeyOutsideWindow,
                    format!(
                        "no yield of key {key}: it was not present since {c} was created at step                          {created} ({why})"
                    ),
                    found(),
                )
            }
        }
    }

    /// Checks that active cursor `c` may report its end now (rule 4), and marks it ended.
    ///
    /// # Panics
    /// If `c` is not active.
    pub fn on_end(&mut self, c: CursorId) -> Result<(), Violation> {
        let b = bit(c);
        let state = self.cursors[c.index()]
            .as_mut()
            .expect("end of an inactive cursor");
        state.steps += 1;
        state.ended = true;
        let state = *state;
        self.deactivate(c);
        if state.pending == 0 {
            return Ok(());
        }
        const SHOWN: usize = 8;
        let mut owed: Vec<(u64, &Incarnation)> = self
            .entries
            .iter()
            .filter(|(_, e)| e.must_yield & b != 0)
            .collect();
        owed.sort_unstable_by_key(|&(k, _)| k);
        let missed: Vec<String> = owed
            .into_iter()
            .take(SHOWN)
            .map(|(k, e)| format!("{k} (inserted at step {}, value {})", e.born, e.value))
            .collect();
        let more = state.pending.saturating_sub(missed.len());
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        let kind = match self.weak {
            Some(_) => FailureKind::Weak(WeakRule::MissedPresent),
            None => FailureKind::MissedEntry,
        };
        Err(Violation {
            kind,
            expected: format!(
                "before ending, {c} (created at step {}) yields every key present since then: {}{more}",
                state.created,
                missed.join(", ")
            ),
            found: format!(
                "{c} ended after {} steps without yielding {} of the entries it owed",
                state.steps, state.pending
            ),
        })
    }

    /// Describes a plain-op mismatch: `what` returned `expected` in the model, `found` in the map.
    pub fn mismatch(what: &str, expected: Option<u64>, found: Option<u64>) -> Violation {
        Violation {
            kind: FailureKind::WrongResult,
            expected: format!("{what} returns {}", show(expected)),
            found: format!("{what} returned {}", show(found)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C0: CursorId = CursorId::ALL[0];
    const C1: CursorId = CursorId::ALL[1];

    fn model_with(keys: &[u64]) -> Model {
        let mut m = Model::new();
        for (step, &k) in keys.iter().enumerate() {
            m.insert(k, k * 10, step);
        }
        m
    }

    fn kind(r: Result<impl Sized, Violation>) -> Option<FailureKind> {
        r.err().map(|v| v.kind)
    }

    #[test]
    fn plain_ops_follow_a_map() {
        let mut m = Model::new();
        assert_eq!(m.insert(1, 10, 0), None);
        assert_eq!(m.insert(1, 11, 1), Some(10));
        assert_eq!(m.get(1), Some(11));
        assert_eq!(m.remove(1, 2), Some(11));
        assert_eq!(m.remove(1, 3), None);
        m.insert(2, 20, 4);
        m.clear(5);
        assert!(m.is_empty());
    }

    #[test]
    fn every_present_key_must_be_yielded_once() {
        let mut m = model_with(&[1, 2]);
        m.cursor_new(C0, 2);
        assert_eq!(m.on_yield(C0, 1, 10), Ok(Allowed::Required));
        assert_eq!(
            kind(m.on_yield(C0, 1, 10)),
            Some(FailureKind::DuplicateYield)
        );
        let err = m.on_end(C0).unwrap_err();
        assert_eq!(err.kind, FailureKind::MissedEntry);
        assert!(
            err.expected.contains("2 (inserted at step 1"),
            "{}",
            err.expected
        );
    }

    #[test]
    fn removed_keys_are_owed_nothing_and_may_not_be_yielded() {
        let mut m = model_with(&[1, 2]);
        m.cursor_new(C0, 2);
        m.remove(2, 3);
        assert_eq!(kind(m.on_yield(C0, 2, 20)), Some(FailureKind::AbsentYield));
        assert_eq!(m.on_yield(C0, 1, 10), Ok(Allowed::Required));
        assert_eq!(m.on_end(C0), Ok(()));
        assert!(!m.is_active(C0));
    }

    #[test]
    fn a_reinserted_key_is_a_new_optional_incarnation() {
        let mut m = model_with(&[1]);
        m.cursor_new(C0, 1);
        assert_eq!(m.on_yield(C0, 1, 10), Ok(Allowed::Required));
        m.remove(1, 2);
        m.insert(1, 12, 3);
        assert_eq!(m.reinserted_yielded(), 1);
        assert_eq!(m.on_yield(C0, 1, 12), Ok(Allowed::Optional));
        assert_eq!(
            kind(m.on_yield(C0, 1, 12)),
            Some(FailureKind::DuplicateYield)
        );
    }

    #[test]
    fn a_reinsert_counts_only_while_a_cursor_that_yielded_the_key_is_active() {
        let mut m = model_with(&[1, 2]);
        m.cursor_new(C0, 2);
        assert_eq!(m.on_yield(C0, 1, 10), Ok(Allowed::Required));
        m.remove(1, 3);
        m.remove(2, 4);
        m.insert(2, 22, 5);
        assert_eq!(m.reinserted_yielded(), 0, "c0 never yielded key 2");
        m.cursor_drop(C0);
        m.insert(1, 11, 6);
        assert_eq!(m.reinserted_yielded(), 0, "no cursor is active any more");
        // A new cursor on the same handle has yielded nothing yet.
        m.cursor_new(C0, 7);
        m.remove(1, 8);
        m.insert(1, 12, 9);
        assert_eq!(m.reinserted_yielded(), 0);
    }

    #[test]
    fn an_absent_yield_says_how_the_key_last_ended() {
        let mut m = model_with(&[1, 2, 3]);
        m.remove(1, 3);
        m.clear(4);
        m.insert(2, 21, 5);
        m.remove(2, 6);
        m.cursor_new(C0, 7);
        let why = |m: &mut Model, key| m.on_yield(C0, key, 0).unwrap_err().expected;
        assert!(why(&mut m, 1).contains("removed at step 3"));
        assert!(why(&mut m, 2).contains("removed at step 6"));
        assert!(why(&mut m, 3).contains("cleared at step 4"));
        assert!(why(&mut m, 4).contains("never inserted"));
    }

    #[test]
    fn a_yield_carries_the_current_value() {
        let mut m = model_with(&[1]);
        m.cursor_new(C0, 1);
        m.insert(1, 99, 2);
        assert_eq!(kind(m.on_yield(C0, 1, 10)), Some(FailureKind::StaleValue));
        assert_eq!(m.on_yield(C0, 1, 99), Ok(Allowed::Required));
    }

    #[test]
    fn clear_ends_every_incarnation_for_every_cursor() {
        let mut m = model_with(&[1, 2, 3]);
        m.cursor_new(C0, 3);
        m.cursor_new(C1, 4);
        m.clear(5);
        let err = m.on_yield(C1, 2, 20).unwrap_err();
        assert_eq!(err.kind, FailureKind::AbsentYield);
        assert!(
            err.expected.contains("cleared at step 5"),
            "{}",
            err.expected
        );
        m.insert(2, 21, 6);
        assert_eq!(m.on_yield(C0, 2, 21), Ok(Allowed::Optional));
        assert_eq!(m.on_end(C0), Ok(()));
    }

    #[test]
    fn a_new_cursor_on_a_handle_starts_fresh() {
        let mut m = model_with(&[1]);
        m.cursor_new(C0, 1);
        assert_eq!(m.on_yield(C0, 1, 10), Ok(Allowed::Required));
        m.cursor_drop(C0);
        m.cursor_new(C0, 2);
        assert_eq!(m.on_yield(C0, 1, 10), Ok(Allowed::Required));
        assert_eq!(m.on_end(C0), Ok(()));
    }

    fn weak_model_with(no_repeat: NoRepeat, keys: &[u64]) -> Model {
        let mut m = Model::with_contract(16, Contract::Weak(no_repeat));
        for (step, &k) in keys.iter().enumerate() {
            m.insert(k, k * 10, step);
        }
        m
    }

    fn weak_kind(r: Result<impl Sized, Violation>) -> Option<WeakRule> {
        match kind(r) {
            Some(FailureKind::Weak(rule)) => Some(rule),
            None => None,
            Some(other) => panic!("a §7 model reported {other:?}"),
        }
    }

    #[test]
    fn weak_cursors_may_yield_any_value_of_the_window_but_none_from_before() {
        let mut m = weak_model_with(NoRepeat::PerKey, &[1, 2]);
        m.insert(1, 11, 2);
        m.cursor_new(C0, 3);
        m.insert(1, 12, 4);
        m.remove(2, 5);
        // 11 was the value at creation, 12 is current: both are in the window; 10 is not.
        assert_eq!(
            weak_kind(m.on_yield(C0, 1, 10)),
            Some(WeakRule::ValueOutsideWindow)
        );
        assert_eq!(m.on_yield(C0, 1, 11), Ok(Allowed::Earlier));
        // A key removed during the window may still be yielded with the value it had then.
        assert_eq!(m.on_yield(C0, 2, 20), Ok(Allowed::Earlier));
        assert_eq!(m.on_end(C0), Ok(()));
        assert_eq!(m.fresh_value_cursors(), 0);
    }

    #[test]
    fn weak_cursors_count_a_value_stored_after_their_creation() {
        let mut m = weak_model_with(NoRepeat::PerKey, &[1]);
        m.cursor_new(C0, 1);
        m.insert(1, 11, 2);
        assert_eq!(m.on_yield(C0, 1, 11), Ok(Allowed::Required));
        m.cursor_new(C1, 3);
        assert_eq!(m.on_yield(C1, 1, 11), Ok(Allowed::Required));
        m.cursor_drop(C0);
        m.cursor_drop(C1);
        assert_eq!(
            m.fresh_value_cursors(),
            1,
            "only c0 saw a value newer than itself"
        );
    }

    #[test]
    fn weak_cursors_never_yield_a_key_absent_throughout_their_window() {
        let mut m = weak_model_with(NoRepeat::PerKey, &[1, 2]);
        m.remove(2, 2);
        m.cursor_new(C0, 3);
        let err = m.on_yield(C0, 2, 20).unwrap_err();
        assert_eq!(err.kind, FailureKind::Weak(WeakRule::KeyOutsideWindow));
        assert!(
            err.expected.contains("removed at step 2"),
            "{}",
            err.expected
        );
        assert_eq!(
            weak_kind(m.on_yield(C0, 3, 30)),
            Some(WeakRule::KeyOutsideWindow)
        );
    }

    #[test]
    fn weak_per_key_forbids_a_second_yield_even_of_a_new_incarnation() {
        let mut m = weak_model_with(NoRepeat::PerKey, &[1, 2]);
        m.cursor_new(C0, 2);
        assert_eq!(m.on_yield(C0, 1, 10), Ok(Allowed::Required));
        m.remove(1, 3);
        m.insert(1, 13, 4);
        assert_eq!(weak_kind(m.on_yield(C0, 1, 13)), Some(WeakRule::KeyTwice));
    }

    #[test]
    fn weak_per_element_allows_one_yield_per_incarnation_in_the_window() {
        let mut m = weak_model_with(NoRepeat::PerElement, &[1, 2]);
        m.cursor_new(C0, 2);
        assert_eq!(m.on_yield(C0, 1, 10), Ok(Allowed::Required));
        assert_eq!(
            weak_kind(m.on_yield(C0, 1, 10)),
            Some(WeakRule::ElementTwice)
        );
        m.remove(1, 3);
        m.insert(1, 13, 4);
        assert_eq!(m.on_yield(C0, 1, 13), Ok(Allowed::Optional));
        assert_eq!(
            weak_kind(m.on_yield(C0, 1, 13)),
            Some(WeakRule::ElementTwice)
        );
    }

    #[test]
    fn weak_cursors_owe_every_key_present_throughout() {
        let mut m = weak_model_with(NoRepeat::PerKey, &[1, 2, 3]);
        m.cursor_new(C0, 3);
        m.insert(1, 11, 4);
        m.remove(3, 5);
        assert_eq!(m.on_yield(C0, 2, 20), Ok(Allowed::Required));
        let err = m.on_end(C0).unwrap_err();
        assert_eq!(err.kind, FailureKind::Weak(WeakRule::MissedPresent));
        assert!(
            err.expected.contains("1 (inserted at step 0"),
            "{}",
            err.expected
        );
        assert!(
            !err.expected.contains(" 3 ("),
            "key 3 left: {}",
            err.expected
        );
    }

    #[test]
    fn a_weak_cursor_past_its_keys_is_unending() {
        let mut m = weak_model_with(NoRepeat::PerElement, &[1, 2]);
        m.cursor_new(C0, 2);
        assert_eq!(m.on_yield(C0, 1, 10), Ok(Allowed::Required));
        assert_eq!(m.on_yield(C0, 2, 20), Ok(Allowed::Required));
        let err = m.on_yield(C0, 1, 10).unwrap_err();
        assert_eq!(err.kind, FailureKind::Weak(WeakRule::Unending));
        assert!(err.found.contains("yield number 3"), "{}", err.found);
    }

    #[test]
    fn a_weak_clear_leaves_the_cleared_values_in_the_window() {
        let mut m = weak_model_with(NoRepeat::PerKey, &[1, 2]);
        m.cursor_new(C0, 2);
        m.clear(3);
        m.insert(2, 23, 4);
        assert_eq!(m.on_yield(C0, 1, 10), Ok(Allowed::Earlier));
        assert_eq!(m.on_yield(C0, 2, 23), Ok(Allowed::Optional));
        assert_eq!(m.on_end(C0), Ok(()));
        assert_eq!(m.fresh_value_cursors(), 1);
    }

    #[test]
    fn a_cursor_that_does_not_end_is_caught_past_its_incarnations() {
        let mut m = model_with(&[1]);
        m.cursor_new(C0, 1);
        m.insert(2, 20, 2);
        assert_eq!(m.on_yield(C0, 1, 10), Ok(Allowed::Required));
        assert_eq!(m.on_yield(C0, 2, 20), Ok(Allowed::Optional));
        // Both incarnations of its life are used up: any further yield breaks rule 1 or 2.
        assert_eq!(
            kind(m.on_yield(C0, 2, 20)),
            Some(FailureKind::DuplicateYield)
        );
        assert_eq!(kind(m.on_yield(C0, 3, 30)), Some(FailureKind::AbsentYield));
    }
}
