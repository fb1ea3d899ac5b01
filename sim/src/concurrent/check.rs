//! The concurrent form of §7 (semantics.md §7, "Concurrent mode"), checked over a call log.
//!
//! With calls overlapping, "a value the key held at some moment of the window" means: consistent
//! with some order of the calls that respects their moments. Values are unique per store, so a
//! yielded value names its store `s`, and per key no search is needed: `v` may be yielded by a
//! step that returned at `t` when `s` began before `t` and no other write of the key (store,
//! remove or clear) both began after `s` returned and returned before the cursor was created.
//! The same test judges every plain answer that names a value (`get`, and the old value an
//! `insert` or `remove` returns) with the call's own interval as the window; answers of `None`
//! are not judged (that would need a search over orders). At the end, each key's value must be
//! the result of a write that no other write of the key followed.
//!
//! A yield's checks are lookups and binary searches over per-key lists sorted once (a repeat
//! per element also counts the key's removals); a cursor's end reads every key's writes once,
//! for W2. A log is thus checked in time linear in its length per cursor, and no order of calls
//! is ever searched.

use foldhash::fast::FixedState;
use indexmap::IndexMap;

use super::log::{Call, What};
use super::ConcurrentStats;
use crate::failure::{FailureKind, WeakRule};
use crate::model::{NoRepeat, Violation};

type Keyed<V> = IndexMap<u64, V, FixedState>;

/// A write of one key: a store of a value, or a removal (a remove or a clear).
#[derive(Clone, Copy, Debug)]
struct Write {
    began: u64,
    returned: u64,
    stored: Option<u64>,
}

/// The writes of one key (clears included), with what the queries need precomputed.
#[derive(Clone, Debug, Default)]
struct KeyWrites {
    /// Sorted by `returned`.
    by_return: Vec<Write>,
    /// `latest_began[i]`: the largest `began` among `by_return[..=i]`.
    latest_began: Vec<u64>,
}

impl KeyWrites {
    fn seal(&mut self) {
        self.by_return
            .sort_unstable_by_key(|w| (w.returned, w.began));
        let mut latest = 0;
        self.latest_began = self
            .by_return
            .iter()
            .map(|w| {
                latest = latest.max(w.began);
                latest
            })
            .collect();
    }

    /// The largest `began` of a write that returned before `moment`, if any.
    fn latest_began_returned_before(&self, moment: u64) -> Option<u64> {
        let n = self.by_return.partition_point(|w| w.returned < moment);
        n.checked_sub(1).map(|i| self.latest_began[i])
    }
}

/// A store, found by the value it stored.
#[derive(Clone, Copy, Debug)]
struct Store {
    key: u64,
    began: u64,
    returned: u64,
}

/// One live cursor's record.
#[derive(Clone, Debug, Default)]
struct CursorRecord {
    created: u64,
    yields: u64,
    per_key: Keyed<u16>,
    /// It yielded a value whose store began after its creation.
    fresh: bool,
}

/// Everything the checks look up, built once from the log.
struct Index {
    writes: Keyed<KeyWrites>,
    stores: Keyed<Store>,
    /// When each key's first store began.
    first_store: Keyed<u64>,
    /// The same moments, sorted: how many keys had been stored by a moment.
    first_stores: Vec<u64>,
    /// When each store began, sorted.
    store_begins: Vec<u64>,
}

impl Index {
    fn new(calls: &[Call]) -> Index {
        let mut writes: Keyed<KeyWrites> = Keyed::default();
        let mut stores: Keyed<Store> = Keyed::default();
        let mut clears = Vec::new();
        let mut first: Keyed<u64> = Keyed::default();
        for call in calls {
            let (key, stored) = match call.what {
                What::Insert { key, value, .. } => (key, Some(value)),
                What::Remove { key, .. } => (key, None),
                What::Clear => {
                    clears.push(*call);
                    continue;
                }
                _ => continue,
            };
            writes.entry(key).or_default().by_return.push(Write {
                began: call.began,
                returned: call.returned,
                stored,
            });
            if let Some(value) = stored {
                stores.insert(
                    value,
                    Store {
                        key,
                        began: call.began,
                        returned: call.returned,
                    },
                );
                let began = first.entry(key).or_insert(call.began);
                *began = (*began).min(call.began);
            }
        }
        for key_writes in writes.values_mut() {
            key_writes.by_return.extend(clears.iter().map(|c| Write {
                began: c.began,
                returned: c.returned,
                stored: None,
            }));
            key_writes.seal();
        }
        let mut first_stores: Vec<u64> = first.values().copied().collect();
        first_stores.sort_unstable();
        let mut store_begins: Vec<u64> = stores.values().map(|s| s.began).collect();
        store_begins.sort_unstable();
        Index {
            writes,
            stores,
            first_store: first,
            first_stores,
            store_begins,
        }
    }

    /// Why `value` cannot be `key`'s at any moment from `window_start` to `until`, if it cannot.
    fn outside_window(
        &self,
        key: u64,
        value: u64,
        window_start: u64,
        until: u64,
    ) -> Option<String> {
        let Some(store) = self.stores.get(&value).filter(|s| s.key == key) else {
            return Some(format!("no call stored {value} to key {key}"));
        };
        if store.began >= until {
            return Some(format!(
                "{value} was stored to key {key} by a call that began at {}, after {until}",
                store.began
            ));
        }
        let latest = self
            .writes
            .get(&key)?
            .latest_began_returned_before(window_start)?;
        (latest > store.returned).then(|| {
            format!(
                "{value}, stored to key {key} at {}..{}, was replaced by a write that began at \
                 {latest} and returned before {window_start}",
                store.began, store.returned
            )
        })
    }

    /// Whether any call stored `key` before `moment`.
    fn stored_before(&self, key: u64, moment: u64) -> bool {
        self.first_store
            .get(&key)
            .is_some_and(|&began| began < moment)
    }

    /// Removals of `key` (removes and clears) that may have taken effect between `from` and
    /// `until`.
    fn removals_between(&self, key: u64, from: u64, until: u64) -> u64 {
        self.writes.get(&key).map_or(0, |w| {
            w.by_return
                .iter()
                .filter(|w| w.stored.is_none() && w.returned > from && w.began < until)
                .count() as u64
        })
    }

    /// The keys a cursor created at `created` and ended at `ended` must have yielded: those a
    /// store that returned before the creation left in place, with no other write of the key
    /// that began before the end but after that store began.
    fn owed(&self, created: u64, ended: u64) -> Vec<u64> {
        let mut owed: Vec<u64> = self
            .writes
            .iter()
            .filter(|(_, w)| {
                let before_end = w.by_return.iter().filter(|w| w.began < ended);
                let Some(last) = before_end.clone().max_by_key(|w| w.began) else {
                    return false;
                };
                last.stored.is_some()
                    && last.returned < created
                    && before_end
                        .filter(|w| w.began != last.began)
                        .all(|w| w.returned < last.began)
            })
            .map(|(&k, _)| k)
            .collect();
        owed.sort_unstable();
        owed
    }
}

/// What a check of a log found: the first broken rule, with the calls that show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogViolation {
    /// The rule and its words.
    pub violation: Violation,
    /// The call at which it broke (the yield, the end, the answer; `None` for the end-of-run
    /// contents).
    pub at: Option<Call>,
    /// The keys it is about, sorted: the yielded or answered key, the keys a cursor missed, the
    /// key the map holds wrongly; none for a cursor that yields too often (its bound counts the
    /// stores of every key) or a panic.
    pub keys: Vec<u64>,
}

/// Checks a run's log (every call, sorted by [`super::log::sorted`]) and the map's contents
/// after every thread finished; counts its cursors and yields (not its calls).
pub fn check(
    calls: &[Call],
    contents: &[(u64, u64)],
    no_repeat: NoRepeat,
) -> Result<ConcurrentStats, Box<LogViolation>> {
    let index = Index::new(calls);
    let mut cursors: Vec<Option<CursorRecord>> = Vec::new();
    let mut stats = ConcurrentStats::default();
    let retire = |record: Option<CursorRecord>, stats: &mut ConcurrentStats| {
        stats.fresh_value_cursors += u64::from(record.is_some_and(|r| r.fresh));
    };
    for call in calls {
        let fail = |kind, keys: Vec<u64>, expected: String, found: String| {
            Box::new(LogViolation {
                violation: Violation {
                    kind,
                    expected,
                    found,
                },
                at: Some(*call),
                keys,
            })
        };
        match call.what {
            What::Insert {
                key, old: Some(v), ..
            }
            | What::Remove { key, old: Some(v) }
            | What::Get {
                key,
                found: Some(v),
            } => {
                if let Some(why) = index.outside_window(key, v, call.began, call.returned) {
                    return Err(fail(
                        FailureKind::WrongResult,
                        vec![key],
                        format!("an answer {key} held during the call: {why}"),
                        format!("{call}"),
                    ));
                }
            }
            What::CursorNew { cursor } => {
                let i = usize::from(cursor);
                if cursors.len() <= i {
                    cursors.resize(i + 1, None);
                }
                stats.cursors += 1;
                let replaced = cursors[i].replace(CursorRecord {
                    created: call.began,
                    ..CursorRecord::default()
                });
                retire(replaced, &mut stats);
            }
            What::Drop { cursor } => {
                if let Some(c) = cursors.get_mut(usize::from(cursor)) {
                    retire(c.take(), &mut stats);
                }
            }
            What::Yield { cursor, key, value } => {
                let Some(Some(record)) = cursors.get_mut(usize::from(cursor)) else {
                    continue;
                };
                stats.yields += 1;
                let bound = match no_repeat {
                    NoRepeat::PerKey => index.first_stores.partition_point(|&b| b < call.returned),
                    NoRepeat::PerElement => {
                        index.store_begins.partition_point(|&b| b < call.returned)
                    }
                } as u64;
                record.yields += 1;
                if record.yields > bound {
                    return Err(fail(
                        FailureKind::Weak(WeakRule::Unending),
                        Vec::new(),
                        format!(
                            "c{cursor} yields at most {bound} times: the stores that began before \
                             this step returned"
                        ),
                        format!("{call}, its yield number {}", record.yields),
                    ));
                }
                if !index.stored_before(key, call.returned) {
                    return Err(fail(
                        FailureKind::Weak(WeakRule::KeyOutsideWindow),
                        vec![key],
                        format!(
                            "no yield of key {key}: no call stored it before this step returned"
                        ),
                        format!("{call}"),
                    ));
                }
                if let Some(why) = index.outside_window(key, value, record.created, call.returned) {
                    return Err(fail(
                        FailureKind::Weak(WeakRule::ValueOutsideWindow),
                        vec![key],
                        format!(
                            "key {key} yielded with a value it may have held since c{cursor} was \
                             created at {}: {why}",
                            record.created
                        ),
                        format!("{call}"),
                    ));
                }
                let seen = record.per_key.entry(key).or_insert(0);
                *seen += 1;
                // Only a repeat needs the removals counted.
                let allowed = match no_repeat {
                    _ if *seen == 1 => 1,
                    NoRepeat::PerKey => 1,
                    NoRepeat::PerElement => {
                        1 + index.removals_between(key, record.created, call.returned)
                    }
                };
                record.fresh |= index
                    .stores
                    .get(&value)
                    .is_some_and(|s| s.began > record.created);
                if u64::from(*seen) > allowed {
                    let (rule, strength) = match no_repeat {
                        NoRepeat::PerKey => (WeakRule::KeyTwice, "per key"),
                        NoRepeat::PerElement => (WeakRule::ElementTwice, "per element"),
                    };
                    return Err(fail(
                        FailureKind::Weak(rule),
                        vec![key],
                        format!(
                            "key {key} yielded at most {allowed} times by c{cursor} (W1 {strength})"
                        ),
                        format!("{call}, its yield number {seen} of the key"),
                    ));
                }
            }
            What::End { cursor } => {
                let Some(Some(record)) = cursors.get_mut(usize::from(cursor)).map(Option::take)
                else {
                    continue;
                };
                let missed: Vec<u64> = index
                    .owed(record.created, call.returned)
                    .into_iter()
                    .filter(|k| !record.per_key.contains_key(k))
                    .collect();
                if !missed.is_empty() {
                    let shown: Vec<String> = missed.iter().take(8).map(u64::to_string).collect();
                    return Err(fail(
                        FailureKind::Weak(WeakRule::MissedPresent),
                        missed.clone(),
                        format!(
                            "before ending, c{cursor} (created at {}) yields every key stored \
                             before it and not written again before its end: {}{}",
                            record.created,
                            shown.join(", "),
                            if missed.len() > 8 { ", ..." } else { "" }
                        ),
                        format!("{call} without {} of them", missed.len()),
                    ));
                }
                retire(Some(record), &mut stats);
            }
            _ => {}
        }
    }
    for record in cursors {
        retire(record, &mut stats);
    }
    check_contents(&index, contents)?;
    Ok(stats)
}

/// At the end every thread has returned: each key holds what a last write of it left.
fn check_contents(index: &Index, contents: &[(u64, u64)]) -> Result<(), Box<LogViolation>> {
    let fail = |key: u64, expected: String, found: String| {
        Box::new(LogViolation {
            violation: Violation {
                kind: FailureKind::WrongContents,
                expected,
                found,
            },
            at: None,
            keys: vec![key],
        })
    };
    let present: Keyed<u64> = contents.iter().copied().collect();
    for (&key, &value) in &present {
        let Some(store) = index.stores.get(&value).filter(|s| s.key == key) else {
            return Err(fail(
                key,
                format!("key {key} holds a value some call stored to it"),
                format!("the map holds ({key}, {value}), which no call stored"),
            ));
        };
        let writes = &index.writes[&key];
        if let Some(later) = writes.by_return.iter().find(|w| w.began > store.returned) {
            return Err(fail(
                key,
                format!(
                    "key {key} holds what a last write left: not {value} (stored at {}..{}), \
                     which a write at {}..{} followed",
                    store.began, store.returned, later.began, later.returned
                ),
                format!("the map holds ({key}, {value})"),
            ));
        }
    }
    for (&key, writes) in &index.writes {
        if present.contains_key(&key) {
            continue;
        }
        let last_began = writes.by_return.iter().map(|w| w.began).max();
        let can_be_absent =
            writes.by_return.iter().any(|w| {
                w.stored.is_none() && !writes.by_return.iter().any(|o| o.began > w.returned)
            }) || last_began.is_none();
        if !can_be_absent {
            return Err(fail(
                key,
                format!("key {key} is present: no removal of it is among its last writes"),
                format!("the map does not hold key {key}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::concurrent::log::examples::{call, insert};

    fn yielded(cursor: u8, key: u64, value: u64) -> What {
        What::Yield { cursor, key, value }
    }

    fn rule(r: Result<ConcurrentStats, Box<LogViolation>>) -> Option<FailureKind> {
        r.err().map(|v| v.violation.kind)
    }

    #[test]
    fn a_yield_may_show_a_store_that_overlaps_the_window() {
        let calls = [
            call(0, 0, 1, insert(1, 10)),
            call(0, 2, 3, What::CursorNew { cursor: 0 }),
            call(1, 4, 9, insert(1, 11)),
            // Both 10 (before the overlapping store) and 11 (stored during the step) are fine.
            call(0, 5, 6, yielded(0, 1, 11)),
            call(0, 7, 8, What::End { cursor: 0 }),
        ];
        assert_eq!(
            check(&calls, &[(1, 11)], NoRepeat::PerKey).map(|_| ()),
            Ok(())
        );
    }

    #[test]
    fn a_yield_of_a_value_replaced_before_the_cursor_is_outside_its_window() {
        let calls = [
            call(0, 0, 1, insert(1, 10)),
            call(1, 2, 3, insert(1, 11)),
            call(0, 4, 5, What::CursorNew { cursor: 0 }),
            call(0, 6, 7, yielded(0, 1, 10)),
        ];
        assert_eq!(
            rule(check(&calls, &[(1, 11)], NoRepeat::PerKey)),
            Some(FailureKind::Weak(WeakRule::ValueOutsideWindow))
        );
    }

    #[test]
    fn a_key_stored_before_and_left_alone_is_owed() {
        let calls = [
            call(0, 0, 1, insert(1, 10)),
            call(0, 2, 3, insert(2, 20)),
            call(0, 4, 5, What::CursorNew { cursor: 0 }),
            call(
                1,
                6,
                9,
                What::Remove {
                    key: 2,
                    old: Some(20),
                },
            ),
            call(0, 7, 8, What::End { cursor: 0 }),
        ];
        let err = check(&calls, &[(1, 10)], NoRepeat::PerKey).unwrap_err();
        assert_eq!(
            err.violation.kind,
            FailureKind::Weak(WeakRule::MissedPresent)
        );
        assert!(
            err.violation.expected.ends_with(": 1"),
            "{}",
            err.violation.expected
        );
    }

    #[test]
    fn per_key_cursors_never_repeat_but_per_element_ones_may_after_a_removal() {
        // Key 2 is there so that the repeat stays within W4's bound of two keys.
        let calls = [
            call(0, 0, 1, insert(1, 10)),
            call(0, 2, 3, insert(2, 20)),
            call(0, 4, 5, What::CursorNew { cursor: 0 }),
            call(0, 6, 7, yielded(0, 1, 10)),
            call(
                1,
                8,
                9,
                What::Remove {
                    key: 1,
                    old: Some(10),
                },
            ),
            call(1, 10, 11, insert(1, 11)),
            call(0, 12, 13, yielded(0, 1, 11)),
        ];
        let end = [(1, 11), (2, 20)];
        assert_eq!(
            rule(check(&calls, &end, NoRepeat::PerKey)),
            Some(FailureKind::Weak(WeakRule::KeyTwice))
        );
        assert_eq!(
            check(&calls, &end, NoRepeat::PerElement).map(|_| ()),
            Ok(())
        );
    }

    #[test]
    fn the_end_state_is_a_last_write_of_each_key() {
        let calls = [
            call(1, 0, 3, insert(1, 10)),
            call(2, 1, 2, insert(1, 11)),
            call(1, 4, 5, insert(2, 20)),
            call(
                2,
                6,
                7,
                What::Remove {
                    key: 2,
                    old: Some(20),
                },
            ),
        ];
        // The two stores of key 1 overlap: either may be last.
        assert_eq!(
            check(&calls, &[(1, 10)], NoRepeat::PerKey).map(|_| ()),
            Ok(())
        );
        assert_eq!(
            check(&calls, &[(1, 11)], NoRepeat::PerKey).map(|_| ()),
            Ok(())
        );
        assert_eq!(
            rule(check(&calls, &[(1, 11), (2, 20)], NoRepeat::PerKey)),
            Some(FailureKind::WrongContents)
        );
        assert_eq!(
            rule(check(&calls, &[], NoRepeat::PerKey)),
            Some(FailureKind::WrongContents)
        );
    }

    #[test]
    fn an_answer_must_be_a_value_of_its_call() {
        let calls = [
            call(0, 0, 1, insert(1, 10)),
            call(0, 2, 3, insert(1, 11)),
            call(
                0,
                4,
                5,
                What::Get {
                    key: 1,
                    found: Some(10),
                },
            ),
        ];
        assert_eq!(
            rule(check(&calls, &[(1, 11)], NoRepeat::PerKey)),
            Some(FailureKind::WrongResult)
        );
    }
}
