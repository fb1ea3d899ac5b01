//! The calls of a failing log that show its violation: a log cut down to one key the violation
//! is about, checked again to fail the same way.
//!
//! A concurrent failure rarely fails again (real threads), so it cannot be shrunk by running
//! smaller programs; but its log is evidence that the checker judges alone, and the checker's
//! rules are per key: a yield, an answer or a key's end state is judged by the writes of its own
//! key, every clear, and the life of the cursor that yielded it. Cutting the log to those calls
//! leaves the judgement of that key unchanged, and [`calls_that_show`] checks that it does: the
//! cut log must break the same rule at the same call, or no cut is offered. A cursor that missed
//! several keys is shown missing the first of them.

use super::check::{check, LogViolation};
use super::log::{Call, What};
use crate::model::NoRepeat;

/// The value a call's answer names: what it yielded, found, or replaced.
fn value_named(what: &What) -> Option<u64> {
    match *what {
        What::Yield { value, .. } => Some(value),
        What::Get { found, .. } => found,
        What::Insert { old, .. } | What::Remove { old, .. } => old,
        _ => None,
    }
}

/// A failing log cut down to the calls that show its violation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Focus {
    /// The key the cut keeps.
    pub key: u64,
    /// The calls kept, in the order they began.
    pub calls: Vec<Call>,
    /// What [`check`] says of them alone: the whole log's rule at the whole log's call, in words
    /// about `key` only.
    pub violation: LogViolation,
    /// Writes of other keys that another thread had in progress at a moment a kept call began or
    /// returned, in the order they began: not needed by the check, but what a reader looks for
    /// in a race (an insert that was copying a resize when the clear began, say). Writes that
    /// began and returned within one kept call are left out: a long clear overlaps dozens.
    pub meanwhile: Vec<Call>,
}

impl Focus {
    /// The kept calls and the writes in progress meanwhile, in the order they began, each with
    /// whether it is one of the latter.
    pub fn interleaved(&self) -> Vec<(Call, bool)> {
        let mut all: Vec<(Call, bool)> = self.calls.iter().map(|&c| (c, false)).collect();
        all.extend(self.meanwhile.iter().map(|&c| (c, true)));
        all.sort_unstable_by_key(|(c, _)| (c.began, c.thread));
        all
    }
}

/// The writes of other keys in `calls` that a thread other than the caller's had in progress
/// when one of `kept` began or returned.
fn in_progress_meanwhile(calls: &[Call], kept: &[Call], key: u64) -> Vec<Call> {
    calls
        .iter()
        .filter(|c| {
            matches!(c.what, What::Insert { .. } | What::Remove { .. }) && c.what.key() != Some(key)
        })
        .filter(|c| {
            let spans = |moment: u64| c.began < moment && moment < c.returned;
            kept.iter()
                .any(|k| k.thread != c.thread && (spans(k.began) || spans(k.returned)))
        })
        .copied()
        .collect()
}

/// The calls of `calls` (a whole failing log, in the order the calls began) that show `found`:
/// for the first key it is about, every call on that key, every clear, and every call of each
/// cursor that yielded the key or at which the rule broke, up to the call at which it broke.
/// With `contents` cut to the same key, they must break [`check`]'s same rule at the same call
/// as the whole log did, in the same words where the whole log's violation is about one key.
/// `None` when the violation names no key (a cursor that yields too often, a panic), when the
/// cut log does not fail the same way, or when it would keep every call.
pub fn calls_that_show(
    calls: &[Call],
    contents: &[(u64, u64)],
    no_repeat: NoRepeat,
    found: &LogViolation,
) -> Option<Focus> {
    let &focus_key = found.keys.first()?;
    let about = |key: u64| key == focus_key;
    // A handle is reused by the next cursor created on it: each creation starts a new life,
    // and a life is kept whole or not at all.
    let mut life_of_handle: Vec<Option<usize>> = Vec::new();
    let mut life_of_call: Vec<Option<usize>> = Vec::with_capacity(calls.len());
    let mut kept_lives: Vec<bool> = Vec::new();
    for call in calls {
        let Some(handle) = call.what.cursor().map(usize::from) else {
            life_of_call.push(None);
            continue;
        };
        if life_of_handle.len() <= handle {
            life_of_handle.resize(handle + 1, None);
        }
        if matches!(call.what, What::CursorNew { .. }) {
            life_of_handle[handle] = Some(kept_lives.len());
            kept_lives.push(false);
        }
        let life = life_of_handle[handle];
        if let Some(life) = life {
            let shows = found.at == Some(*call)
                || matches!(call.what, What::Yield { key, .. } if about(key));
            kept_lives[life] |= shows;
        }
        life_of_call.push(life);
    }
    let named = found.at.and_then(|at| value_named(&at.what));
    // The store of the value the failing call names, which the checker looks up.
    let stores_named = |call: &Call| match call.what {
        What::Insert { value, .. } => Some(value) == named,
        _ => false,
    };
    let cut: Vec<Call> = calls
        .iter()
        .zip(&life_of_call)
        .filter(|(call, life)| match (&call.what, life) {
            (What::Clear, _) => true,
            (What::Yield { key, .. }, Some(life)) => kept_lives[*life] && about(*key),
            (_, Some(life)) => kept_lives[*life],
            (what, None) => what.key().is_some_and(about),
        })
        .map(|(call, _)| *call)
        // The checker judges a call by the calls that began before it returned, and by the
        // store of the value it names (which may have begun later); nothing after matters.
        .filter(|call| match found.at {
            None => true,
            Some(at) => call.began < at.returned || stores_named(call),
        })
        .collect();
    if cut.len() == calls.len() {
        return None;
    }
    let cut_contents: Vec<(u64, u64)> = contents
        .iter()
        .copied()
        .filter(|&(k, _)| about(k))
        .collect();
    match check(&cut, &cut_contents, no_repeat) {
        // One key: the same words. Several (a cursor that missed them): the same rule at the
        // same call, about the first.
        Err(again)
            if again.violation.kind == found.violation.kind
                && again.at == found.at
                && again.keys == [focus_key]
                && (found.keys.len() > 1 || *again == *found) =>
        {
            Some(Focus {
                key: focus_key,
                meanwhile: in_progress_meanwhile(calls, &cut, focus_key),
                calls: cut,
                violation: *again,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::{FailureKind, WeakRule};

    use crate::concurrent::log::examples::{self, insert};

    /// `what`, called by `thread` at `began` and returned at the next tick.
    fn call(thread: u16, began: u64, what: What) -> Call {
        examples::call(thread, began, began + 1, what)
    }

    /// Key 1 is yielded with the value that a store before the cursor replaced; keys 2 and 3
    /// and a second cursor are beside the point.
    fn stale_yield_among_others() -> (Vec<Call>, Vec<(u64, u64)>) {
        let calls = vec![
            call(0, 0, insert(1, 10)),
            call(0, 2, insert(2, 20)),
            call(1, 4, insert(1, 11)),
            call(1, 6, insert(3, 30)),
            call(0, 8, What::CursorNew { cursor: 0 }),
            call(0, 10, What::CursorNew { cursor: 1 }),
            call(
                0,
                12,
                What::Yield {
                    cursor: 1,
                    key: 2,
                    value: 20,
                },
            ),
            call(
                0,
                14,
                What::Yield {
                    cursor: 0,
                    key: 3,
                    value: 30,
                },
            ),
            Call {
                thread: 2,
                began: 15,
                returned: 30,
                what: insert(4, 40),
            },
            call(1, 16, What::Clear),
            call(
                0,
                18,
                What::Yield {
                    cursor: 0,
                    key: 1,
                    value: 10,
                },
            ),
            call(1, 20, insert(1, 12)),
            call(0, 22, What::End { cursor: 0 }),
        ];
        (calls, vec![(1, 12), (2, 20), (3, 30), (4, 40)])
    }

    #[test]
    fn the_cut_keeps_the_key_its_cursor_and_the_clears_and_fails_alike() {
        let (calls, contents) = stale_yield_among_others();
        let found = check(&calls, &contents, NoRepeat::PerKey).unwrap_err();
        assert_eq!(
            found.violation.kind,
            FailureKind::Weak(WeakRule::ValueOutsideWindow)
        );
        assert_eq!(found.keys, vec![1]);
        let focus = calls_that_show(&calls, &contents, NoRepeat::PerKey, &found).unwrap();
        let kept: Vec<u64> = focus.calls.iter().map(|c| c.began).collect();
        // Both stores of key 1 before the yield, cursor 0's creation and its yield of key 1,
        // and the clear; cursor 1, keys 2 and 3, and the calls after the yield are gone.
        assert_eq!(kept, vec![0, 4, 8, 16, 18]);
        assert_eq!(focus.violation, *found);
        assert_eq!(
            check(&focus.calls, &[(1, 12)], NoRepeat::PerKey).unwrap_err(),
            found
        );
        // Thread 2's insert of key 4 was in progress during the clear and the yield.
        let meanwhile: Vec<u64> = focus.meanwhile.iter().map(|c| c.began).collect();
        assert_eq!(meanwhile, vec![15]);
        let order: Vec<(u64, bool)> = focus
            .interleaved()
            .iter()
            .map(|(c, m)| (c.began, *m))
            .collect();
        assert_eq!(
            order,
            vec![
                (0, false),
                (4, false),
                (8, false),
                (15, true),
                (16, false),
                (18, false)
            ]
        );
    }

    #[test]
    fn writes_in_progress_when_a_kept_call_began_or_returned_are_shown_and_those_within_it_not() {
        let span = examples::call;
        let calls = vec![
            span(0, 0, 1, insert(1, 10)),
            span(1, 2, 20, What::Clear),
            span(2, 4, 6, insert(5, 50)),
            span(2, 10, 25, insert(6, 60)),
            span(
                0,
                30,
                31,
                What::Get {
                    key: 1,
                    found: Some(10),
                },
            ),
        ];
        let contents = [(1, 10), (5, 50), (6, 60)];
        let found = check(&calls, &contents, NoRepeat::PerKey).unwrap_err();
        assert_eq!(found.violation.kind, FailureKind::WrongResult);
        let focus = calls_that_show(&calls, &contents, NoRepeat::PerKey, &found).unwrap();
        let kept: Vec<u64> = focus.calls.iter().map(|c| c.began).collect();
        assert_eq!(kept, vec![0, 2, 30]);
        let meanwhile: Vec<u64> = focus.meanwhile.iter().map(|c| c.began).collect();
        assert_eq!(
            meanwhile,
            vec![10],
            "the insert inside the clear is left out"
        );
    }

    #[test]
    fn a_cursor_that_missed_keys_is_shown_missing_the_first_with_its_end() {
        let calls = vec![
            call(0, 0, insert(1, 10)),
            call(0, 2, insert(2, 20)),
            call(0, 4, insert(3, 30)),
            call(0, 6, What::CursorNew { cursor: 0 }),
            call(
                0,
                8,
                What::Yield {
                    cursor: 0,
                    key: 2,
                    value: 20,
                },
            ),
            call(0, 10, What::End { cursor: 0 }),
        ];
        let contents = [(1, 10), (2, 20), (3, 30)];
        let found = check(&calls, &contents, NoRepeat::PerKey).unwrap_err();
        assert_eq!(
            found.violation.kind,
            FailureKind::Weak(WeakRule::MissedPresent)
        );
        assert_eq!(found.keys, vec![1, 3]);
        let focus = calls_that_show(&calls, &contents, NoRepeat::PerKey, &found).unwrap();
        let kept: Vec<u64> = focus.calls.iter().map(|c| c.began).collect();
        assert_eq!(kept, vec![0, 6, 10]);
        assert_eq!(focus.key, 1);
        assert_eq!(focus.violation.at, found.at);
        assert!(focus.violation.violation.expected.ends_with(": 1"));
    }

    #[test]
    fn an_end_state_is_shown_by_the_writes_of_its_key() {
        let calls = vec![
            call(0, 0, insert(1, 10)),
            call(1, 2, insert(2, 20)),
            call(1, 4, What::Clear),
            call(0, 6, insert(2, 21)),
        ];
        // Key 1 outlived the clear.
        let contents = [(1, 10), (2, 21)];
        let found = check(&calls, &contents, NoRepeat::PerKey).unwrap_err();
        assert_eq!(found.violation.kind, FailureKind::WrongContents);
        let focus = calls_that_show(&calls, &contents, NoRepeat::PerKey, &found).unwrap();
        let kept: Vec<u64> = focus.calls.iter().map(|c| c.began).collect();
        assert_eq!(kept, vec![0, 4]);
        assert_eq!(focus.violation, *found);
    }

    #[test]
    fn a_violation_about_no_key_or_a_log_that_cannot_shrink_gets_no_cut() {
        let (calls, contents) = stale_yield_among_others();
        let mut found = check(&calls, &contents, NoRepeat::PerKey).unwrap_err();
        let only_key_one: Vec<Call> = calls
            .iter()
            .copied()
            .filter(|c| c.what.key().is_none_or(|k| k == 1) && c.what.cursor() != Some(1))
            .take_while(|c| c.began <= 18)
            .collect();
        let again = check(&only_key_one, &contents, NoRepeat::PerKey).unwrap_err();
        assert_eq!(
            calls_that_show(&only_key_one, &contents, NoRepeat::PerKey, &again),
            None
        );
        found.keys.clear();
        assert_eq!(
            calls_that_show(&calls, &contents, NoRepeat::PerKey, &found),
            None
        );
    }

    #[test]
    fn a_cut_that_would_judge_otherwise_is_not_offered() {
        let (calls, contents) = stale_yield_among_others();
        let mut found = check(&calls, &contents, NoRepeat::PerKey).unwrap_err();
        // A rule the cut log does not break: the cut is refused rather than shown.
        found.violation.kind = FailureKind::Weak(WeakRule::KeyOutsideWindow);
        assert_eq!(
            calls_that_show(&calls, &contents, NoRepeat::PerKey, &found),
            None
        );
    }
}
