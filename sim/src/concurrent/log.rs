//! The call log of a concurrent run: every call with the moment it began and the moment it
//! returned, on one logical clock that all threads share.
//!
//! A moment is a tick of an atomic counter taken just before the call and just after it returns,
//! so two calls whose intervals do not overlap really did run one after the other; calls whose
//! intervals overlap may have taken effect in either order. That is all the checker
//! ([`super::check`]) assumes.

use std::fmt;

/// What a call was and what it answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    /// `insert(key, value)` answered `old`.
    Insert {
        key: u64,
        value: u64,
        old: Option<u64>,
    },
    /// `remove(key)` answered `old`.
    Remove { key: u64, old: Option<u64> },
    /// `get(key)` answered `found`.
    Get { key: u64, found: Option<u64> },
    /// `clear()`.
    Clear,
    /// A cursor was created on handle `cursor`.
    CursorNew { cursor: u8 },
    /// Cursor `cursor` yielded `(key, value)`.
    Yield { cursor: u8, key: u64, value: u64 },
    /// Cursor `cursor` reported its end.
    End { cursor: u8 },
    /// Cursor `cursor` was dropped before its end.
    Drop { cursor: u8 },
}

impl What {
    /// The key the call reads or writes, if it touches one key (a clear touches them all).
    pub fn key(&self) -> Option<u64> {
        match *self {
            What::Insert { key, .. }
            | What::Remove { key, .. }
            | What::Get { key, .. }
            | What::Yield { key, .. } => Some(key),
            What::Clear | What::CursorNew { .. } | What::End { .. } | What::Drop { .. } => None,
        }
    }

    /// The cursor handle of a cursor call.
    pub fn cursor(&self) -> Option<u8> {
        match *self {
            What::CursorNew { cursor }
            | What::Yield { cursor, .. }
            | What::End { cursor }
            | What::Drop { cursor } => Some(cursor),
            What::Insert { .. } | What::Remove { .. } | What::Get { .. } | What::Clear => None,
        }
    }
}

/// One logged call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    /// 0 for the prefill and the reader, 1.. for the writers.
    pub thread: u16,
    /// The clock just before the call.
    pub began: u64,
    /// The clock just after it returned.
    pub returned: u64,
    /// The call and its answer.
    pub what: What,
}

fn show(v: Option<u64>) -> String {
    v.map_or_else(|| "None".to_string(), |v| format!("Some({v})"))
}

/// One line: `t<thread> <began>..<returned> <call> -> <answer>`.
impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t{} {}..{} ", self.thread, self.began, self.returned)?;
        match self.what {
            What::Insert { key, value, old } => write!(f, "insert {key} {value} -> {}", show(old)),
            What::Remove { key, old } => write!(f, "remove {key} -> {}", show(old)),
            What::Get { key, found } => write!(f, "get {key} -> {}", show(found)),
            What::Clear => write!(f, "clear"),
            What::CursorNew { cursor } => write!(f, "cursor-new c{cursor}"),
            What::Yield { cursor, key, value } => {
                write!(f, "cursor-step c{cursor} -> ({key}, {value})")
            }
            What::End { cursor } => write!(f, "cursor-step c{cursor} -> end"),
            What::Drop { cursor } => write!(f, "cursor-drop c{cursor}"),
        }
    }
}

/// Every call of a run, in the order they began.
pub fn sorted(mut calls: Vec<Call>) -> Vec<Call> {
    calls.sort_unstable_by_key(|c| (c.began, c.thread));
    calls
}

/// Calls and answers written out by hand, for the checker's and the focus's tests.
#[cfg(test)]
pub(crate) mod examples {
    use super::{Call, What};

    /// `what`, called by `thread` from `began` to `returned`.
    pub fn call(thread: u16, began: u64, returned: u64, what: What) -> Call {
        Call {
            thread,
            began,
            returned,
            what,
        }
    }

    /// `insert(key, value)` of a key that had no value.
    pub fn insert(key: u64, value: u64) -> What {
        What::Insert {
            key,
            value,
            old: None,
        }
    }
}
