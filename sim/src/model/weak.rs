//! What a weakly consistent cursor may yield (semantics.md §7): the records the model keeps only
//! for a target that promises §7, and only while one of its cursors is active.
//!
//! §2's records (per incarnation: owed by which cursor, yielded by which) stay in [`super::Model`];
//! §7 needs three more facts, all about a cursor's *window* (its creation up to now):
//! - which values a key held during the window (W3): the current value, plus every value it lost
//!   (by an overwrite, a remove or a clear) after the cursor was created;
//! - how often a cursor yielded a key, and how many of the key's incarnations overlapped the
//!   window (W1, per key or per element);
//! - how many distinct keys and incarnations were present during the cursor's life (W4).
//!
//! A key gets a [`History`] the first time it loses a value while a cursor is active; until then
//! its one incarnation's `yielded` bit in the model says all there is. Everything here is
//! forgotten once no cursor is active.

use super::{bit, HashedKeyMap};
use crate::op::{CursorId, MAX_CURSORS};

/// W1's strength: what a target's documentation promises about repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NoRepeat {
    /// No key twice over the cursor's whole life, whatever happened to the key in between (Go's
    /// `sync.Map.Range`).
    PerKey,
    /// No incarnation twice: a key removed and re-inserted during the cursor's life may be
    /// yielded again (Java's weakly consistent iterators).
    PerElement,
}

impl NoRepeat {
    /// The strength as reports name it.
    pub fn name(self) -> &'static str {
        match self {
            NoRepeat::PerKey => "per key",
            NoRepeat::PerElement => "per element",
        }
    }
}

/// A value a key lost while a cursor was active.
#[derive(Clone, Copy, Debug)]
struct Lost {
    value: u64,
    /// The step that stored the value.
    stored: usize,
    /// The step that overwrote, removed or cleared it.
    lost: usize,
}

/// What the model knows of one key beyond its present incarnation, for the active cursors.
#[derive(Clone, Debug, Default)]
struct History {
    /// Bit c: an incarnation of the key ended during cursor c's window.
    ended_in_window: u8,
    /// Per cursor: incarnations of the key that ended during its window.
    ended: [u16; MAX_CURSORS],
    /// Per cursor: its yields of the key (authoritative once the key has a history).
    yields: [u16; MAX_CURSORS],
    /// Values the key lost while a cursor was active, oldest first.
    lost: Vec<Lost>,
}

/// One cursor's §7 counts.
#[derive(Clone, Copy, Debug, Default)]
struct WeakCursor {
    yields: u64,
    /// Distinct keys present at some moment of its life so far.
    keys: u64,
    /// Incarnations present at some moment of its life so far.
    incarnations: u64,
    /// It yielded a value stored after its creation.
    yielded_fresh: bool,
}

/// The key's present incarnation, as the model hands it over: what §7 reads of it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Present {
    pub value: u64,
    /// The step that stored the current value.
    pub stored: usize,
    /// Bit c: cursor c has yielded this incarnation.
    pub yielded: u8,
}

/// How a §7 yield went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Allowed: the value is the key's current one.
    Current,
    /// Allowed: a value the key held earlier in the window.
    Earlier,
    /// W4: more yields than keys (or incarnations) in the cursor's life.
    Unending { yields: u64, bound: u64 },
    /// W1: the key (or every incarnation of it in the window) was yielded before.
    Repeat { yields: u16, incarnations: u16 },
    /// W3: the key was present during the window, but never with this value.
    ValueOutsideWindow,
    /// W3: the key was never present during the window.
    KeyOutsideWindow,
}

/// The §7 records for every active cursor.
#[derive(Clone, Debug)]
pub(super) struct Weak {
    pub no_repeat: NoRepeat,
    keys: HashedKeyMap<History>,
    cursors: [WeakCursor; MAX_CURSORS],
    /// Cursors, ended or dropped, that yielded a value stored after their creation.
    pub fresh_value_cursors: u64,
}

impl Weak {
    pub fn new(no_repeat: NoRepeat) -> Self {
        Weak {
            no_repeat,
            keys: HashedKeyMap::default(),
            cursors: [WeakCursor::default(); MAX_CURSORS],
            fresh_value_cursors: 0,
        }
    }

    /// Cursor `c` was created with `present` keys in the map.
    pub fn cursor_new(&mut self, c: CursorId, present: usize) {
        let i = c.index();
        let b = bit(c);
        for history in self.keys.values_mut() {
            history.ended_in_window &= !b;
            history.ended[i] = 0;
            history.yields[i] = 0;
        }
        self.cursors[i] = WeakCursor {
            yields: 0,
            keys: present as u64,
            incarnations: present as u64,
            yielded_fresh: false,
        };
    }

    /// Cursor `c` can yield no more: count what it showed.
    pub fn cursor_done(&mut self, c: CursorId) {
        let cursor = &mut self.cursors[c.index()];
        self.fresh_value_cursors += u64::from(std::mem::take(&mut cursor.yielded_fresh));
    }

    /// No cursor is active: nothing recorded can matter again.
    pub fn forget(&mut self) {
        self.keys.clear();
    }

    /// `key`, absent, began an incarnation while the cursors in `active` were active.
    pub fn began(&mut self, key: u64, active: u8) {
        let ended_before = self.keys.get(&key).map_or(0, |h| h.ended_in_window);
        for c in CursorId::ALL.into_iter().filter(|&c| active & bit(c) != 0) {
            let cursor = &mut self.cursors[c.index()];
            cursor.incarnations += 1;
            if ended_before & bit(c) == 0 {
                cursor.keys += 1;
            }
        }
    }

    /// `key` lost `old` (stored at `stored`) at `step` to an overwrite, while cursors were
    /// active; its incarnation goes on.
    pub fn overwritten(&mut self, key: u64, old: Present, step: usize) {
        self.history(key, old.yielded).lost.push(Lost {
            value: old.value,
            stored: old.stored,
            lost: step,
        });
    }

    /// `key`'s incarnation, holding `old`, ended at `step` (a remove or a clear) while the
    /// cursors in `active` were active.
    pub fn ended(&mut self, key: u64, old: Present, step: usize, active: u8) {
        let history = self.history(key, old.yielded);
        history.lost.push(Lost {
            value: old.value,
            stored: old.stored,
            lost: step,
        });
        history.ended_in_window |= active;
        for c in CursorId::ALL.into_iter().filter(|&c| active & bit(c) != 0) {
            history.ended[c.index()] += 1;
        }
    }

    /// The key's history, made from its present incarnation's yield bits if it has none yet.
    fn history(&mut self, key: u64, yielded: u8) -> &mut History {
        self.keys.entry(key).or_insert_with(|| {
            let mut history = History::default();
            for c in CursorId::ALL {
                history.yields[c.index()] = u16::from(yielded & bit(c) != 0);
            }
            history
        })
    }

    /// Judges cursor `c`'s yield of `(key, value)`, `present` being the key's incarnation if it
    /// has one now, and records it when it is allowed.
    pub fn on_yield(
        &mut self,
        c: CursorId,
        created: usize,
        key: u64,
        value: u64,
        present: Option<Present>,
    ) -> Verdict {
        let i = c.index();
        let b = bit(c);
        let no_repeat = self.no_repeat;
        let cursor = self.cursors[i];
        let bound = match no_repeat {
            NoRepeat::PerKey => cursor.keys,
            NoRepeat::PerElement => cursor.incarnations,
        };
        if cursor.yields >= bound {
            return Verdict::Unending {
                yields: cursor.yields + 1,
                bound,
            };
        }
        let history = self.keys.get_mut(&key);
        let (yields, ended) = match &history {
            Some(h) => (h.yields[i], h.ended[i]),
            None => (u16::from(present.is_some_and(|p| p.yielded & b != 0)), 0),
        };
        let incarnations = ended + u16::from(present.is_some());
        let repeat = match no_repeat {
            NoRepeat::PerKey => yields >= 1,
            NoRepeat::PerElement => yields >= incarnations,
        };
        // A key never present in the window breaks W3 whatever else it breaks: that is what
        // such a yield is. A key that lost a value after the cursor's creation was present then.
        let in_window = present.is_some()
            || history
                .as_ref()
                .is_some_and(|h| h.lost.iter().any(|l| l.lost > created));
        if !in_window {
            return Verdict::KeyOutsideWindow;
        }
        if repeat {
            return Verdict::Repeat {
                yields: yields + 1,
                incarnations,
            };
        }
        let current = present.filter(|p| p.value == value);
        let earlier = history.as_ref().map_or(&[][..], |h| &h.lost[..]);
        let mut matches = earlier
            .iter()
            .filter(|l| l.value == value && l.lost > created)
            .map(|l| l.stored)
            .chain(current.map(|p| p.stored))
            .peekable();
        if matches.peek().is_none() {
            return Verdict::ValueOutsideWindow;
        }
        let fresh = matches.all(|stored| stored > created);
        let cursor = &mut self.cursors[i];
        cursor.yields += 1;
        cursor.yielded_fresh |= fresh;
        if let Some(h) = history {
            h.yields[i] += 1;
        }
        if current.is_some() {
            Verdict::Current
        } else {
            Verdict::Earlier
        }
    }

    /// Values `key` held during the window of a cursor created at `created`, for a report: the
    /// lost ones, oldest first.
    pub fn window_values(&self, created: usize, key: u64) -> Vec<u64> {
        self.keys.get(&key).map_or_else(Vec::new, |h| {
            h.lost
                .iter()
                .filter(|l| l.lost > created)
                .map(|l| l.value)
                .collect()
        })
    }
}
