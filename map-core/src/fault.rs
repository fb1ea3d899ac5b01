//! The fault catalog: deliberate deviations from Go's algorithm that the harness must catch.
//!
//! The enum is always available (so tools can name faults in files and flags); injecting one
//! needs the `faults` cargo feature ([`GoMap::inject`](crate::GoMap)). With the feature off, every
//! fault check compiles to `false`.

use std::fmt;
use std::str::FromStr;

/// One deliberate bug, modelled on a real bug class of hash maps with live iterators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// The cursor skips the `checkBucket` filter while walking a not-yet-evacuated old bucket, so
    /// each old bucket's keys are yielded for both of its new buckets: duplicate yields during growth.
    SkipCheckBucket,
    /// An evacuated slot is yielded from where evacuation put it (the stale key with whatever value
    /// now sits at its destination) instead of re-looking the key up in the live map: removed
    /// keys are produced with another key's value, and entries that moved again (a second
    /// growth) are missed (cockroachdb/swiss #39).
    StaleEvacuatedYield,
    /// `clear` does not stop existing cursors: it swaps in fresh arrays and leaves the arrays that
    /// cursors walk as they were, so they go on yielding pre-clear entries (Go #59411, #70189).
    ClearKeepsCursors,
    /// Evacuation moves only the first bucket of an old chain and drops its overflow buckets'
    /// entries: entries are lost.
    EvacuationDropsOverflow,
    /// `nevacuate` advances past old buckets without checking that they were evacuated, so growth
    /// can finish with live entries left behind in the old array.
    NevacuateSkipsBucket,
    /// `remove` marks `emptyRest` even when live slots follow in the chain: later lookups stop early
    /// and miss live keys.
    RemoveBadEmptyRest,
    /// A `remove` during growth does not decrement the count.
    RemoveSkipsCountDuringGrow,
    /// Same-size growth applies the X/Y split as if the array doubled, so keys land in the wrong bucket.
    SameSizeGrowSplits,
    /// The cursor's wrap-around test ends one bucket early: the last bucket is never visited.
    CursorWrapEndsEarly,
    /// The tophash is not moved up by `minTopHash`, so a key whose top hash byte is below 5 reads as
    /// a marker (empty or evacuated).
    TophashNoMinOffset,
    /// `get_mut` during a growth looks only in the current array: keys whose old bucket is not yet
    /// evacuated read as absent, and a write through them is lost.
    GetMutMissesOldArray,
    /// `contains_key` searches only the first bucket of the key's chain: keys in overflow buckets
    /// read as absent.
    ContainsKeyStopsAtFirstBucket,
    /// `map[&key]` returns the first live slot of the chain whose tophash matches, without
    /// comparing keys: under tophash collisions it returns another key's value.
    IndexSkipsKeyCompare,
    /// `iter()` during a growth takes its length from the current array's entries alone and stops
    /// there: entries not yet evacuated are never yielded.
    IterCountsCurrentArray,
    /// `clone()` during a growth copies the current array only: the clone loses every entry not
    /// yet evacuated.
    CloneDropsOldArray,
    /// `==` compares keys only: maps with the same keys and other values are equal.
    EqIgnoresValues,
    /// `Extend` keeps the first value of a key given twice (an `or_insert`), not the last.
    ExtendKeepsFirst,
    /// `FromIterator` keeps the first value of a key given twice, not the last.
    FromIterKeepsFirst,
    /// `makemap` sizes the array for the capacity hint by slots (8 per bucket) instead of by the
    /// load factor (6.5 per bucket): for hints in `(6.5 * 2^B, 8 * 2^B]` the map starts with B one
    /// too small and doubles before it holds the hint. The rounding people reach for
    /// (`nextPowOf2(hint / entriesPerBucket)`, as proposed in puzpuzpuz/xsync #85), and the class
    /// of Go #15880 (a map literal's hint lost, so the map grows while it is built).
    CapacityHintBySlots,
    /// `insert` checks the growth triggers before it looks the key up, so an update of a present
    /// key in a full map starts a growth. Go's `mapassign` checks only after the search found no
    /// mapping ("Did not find mapping for key. Allocate new cell & add entry."); maps that reserve
    /// room before the lookup grow on updates.
    GrowOnUpdate,
    /// Removed slots are counted against the load factor until the next growth, so a map under
    /// delete/insert churn at constant size doubles again and again (Go #70886: Swiss-table maps
    /// counted tombstones toward the load and doubled repeatedly).
    TombstonesCountTowardLoad,
    /// `growWork` evacuates only the old bucket the key maps to, not bucket `nevacuate` as well,
    /// so a growth advances only where keys land and may never finish: the old array stays
    /// allocated and no new growth can start (Go's growWork evacuates "one more oldbucket to make
    /// progress on growing"; Redis added `activerehashing` because its incremental rehash, done
    /// only on access, could stall).
    GrowWorkSkipsNevacuate,
    /// The `tooManyOverflowBuckets` trigger is never checked, so a map never grows same-size:
    /// under insert/remove churn at constant size, or keys that collide, overflow buckets pile up
    /// without bound and lookups walk ever longer chains (the leak of Go #16070, which the
    /// same-size growth was added to fix).
    NoSameSizeGrowth,
}

impl Fault {
    /// Every fault, in catalog order.
    pub const ALL: [Fault; 23] = [
        Fault::SkipCheckBucket,
        Fault::StaleEvacuatedYield,
        Fault::ClearKeepsCursors,
        Fault::EvacuationDropsOverflow,
        Fault::NevacuateSkipsBucket,
        Fault::RemoveBadEmptyRest,
        Fault::RemoveSkipsCountDuringGrow,
        Fault::SameSizeGrowSplits,
        Fault::CursorWrapEndsEarly,
        Fault::TophashNoMinOffset,
        Fault::GetMutMissesOldArray,
        Fault::ContainsKeyStopsAtFirstBucket,
        Fault::IndexSkipsKeyCompare,
        Fault::IterCountsCurrentArray,
        Fault::CloneDropsOldArray,
        Fault::EqIgnoresValues,
        Fault::ExtendKeepsFirst,
        Fault::FromIterKeepsFirst,
        Fault::CapacityHintBySlots,
        Fault::GrowOnUpdate,
        Fault::TombstonesCountTowardLoad,
        Fault::GrowWorkSkipsNevacuate,
        Fault::NoSameSizeGrowth,
    ];

    /// The fault's kebab-case name, as used on command lines and in trace files.
    pub fn name(self) -> &'static str {
        match self {
            Fault::SkipCheckBucket => "skip-check-bucket",
            Fault::StaleEvacuatedYield => "stale-evacuated-yield",
            Fault::ClearKeepsCursors => "clear-keeps-cursors",
            Fault::EvacuationDropsOverflow => "evacuation-drops-overflow",
            Fault::NevacuateSkipsBucket => "nevacuate-skips-bucket",
            Fault::RemoveBadEmptyRest => "remove-bad-empty-rest",
            Fault::RemoveSkipsCountDuringGrow => "remove-skips-count-during-grow",
            Fault::SameSizeGrowSplits => "same-size-grow-splits",
            Fault::CursorWrapEndsEarly => "cursor-wrap-ends-early",
            Fault::TophashNoMinOffset => "tophash-no-min-offset",
            Fault::GetMutMissesOldArray => "get-mut-misses-old-array",
            Fault::ContainsKeyStopsAtFirstBucket => "contains-key-stops-at-first-bucket",
            Fault::IndexSkipsKeyCompare => "index-skips-key-compare",
            Fault::IterCountsCurrentArray => "iter-counts-current-array",
            Fault::CloneDropsOldArray => "clone-drops-old-array",
            Fault::EqIgnoresValues => "eq-ignores-values",
            Fault::ExtendKeepsFirst => "extend-keeps-first",
            Fault::FromIterKeepsFirst => "from-iter-keeps-first",
            Fault::CapacityHintBySlots => "capacity-hint-by-slots",
            Fault::GrowOnUpdate => "grow-on-update",
            Fault::TombstonesCountTowardLoad => "tombstones-count-toward-load",
            Fault::GrowWorkSkipsNevacuate => "grow-work-skips-nevacuate",
            Fault::NoSameSizeGrowth => "no-same-size-growth",
        }
    }

    /// One line on what the fault does and which real bug it models.
    pub fn description(self) -> &'static str {
        match self {
            Fault::SkipCheckBucket => "cursor skips the checkBucket filter: duplicate yields during growth",
            Fault::StaleEvacuatedYield => {
                "evacuated entry yielded from its old destination without re-lookup: removed keys produced, moved entries missed (cockroachdb/swiss #39)"
            }
            Fault::ClearKeepsCursors => "clear does not stop existing cursors (Go #59411, #70189)",
            Fault::EvacuationDropsOverflow => "evacuation drops an old bucket's overflow chain: entries lost",
            Fault::NevacuateSkipsBucket => "nevacuate advances past a bucket that was not evacuated",
            Fault::RemoveBadEmptyRest => "remove leaves a wrong emptyRest marker: later lookups miss live keys",
            Fault::RemoveSkipsCountDuringGrow => "the count is not updated by a remove during growth",
            Fault::SameSizeGrowSplits => "same-size growth applies the X/Y split: keys in the wrong bucket",
            Fault::CursorWrapEndsEarly => "the cursor's wrap-around ends one bucket early: entries missed",
            Fault::TophashNoMinOffset => "tophash not moved up by minTopHash: a key's tophash reads as a marker",
            Fault::GetMutMissesOldArray => "get_mut ignores the old array during growth: writes lost",
            Fault::ContainsKeyStopsAtFirstBucket => "contains_key ignores overflow buckets",
            Fault::IndexSkipsKeyCompare => "map[&k] matches on tophash alone: another key's value",
            Fault::IterCountsCurrentArray => "iter() during growth stops after the current array's count",
            Fault::CloneDropsOldArray => "clone() during growth loses the entries not yet evacuated",
            Fault::EqIgnoresValues => "== compares keys only",
            Fault::ExtendKeepsFirst => "Extend keeps the first value of a duplicated key",
            Fault::FromIterKeepsFirst => "FromIterator keeps the first value of a duplicated key",
            Fault::CapacityHintBySlots => {
                "makemap sizes the hint by 8 slots per bucket, not the 6.5 load factor: B one too small (Go #15880 class)"
            }
            Fault::GrowOnUpdate => "the growth triggers are checked before the key lookup: an update of a present key starts a growth",
            Fault::TombstonesCountTowardLoad => {
                "removed slots count toward the load factor: the map doubles under churn at constant size (Go #70886)"
            }
            Fault::GrowWorkSkipsNevacuate => {
                "growWork skips bucket nevacuate: a growth advances only where keys land and may never finish"
            }
            Fault::NoSameSizeGrowth => {
                "tooManyOverflowBuckets is never checked: overflow buckets pile up instead of a same-size growth (Go #16070)"
            }
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a [`Fault`] name that is not in the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownFault(pub String);

impl fmt::Display for UnknownFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown fault `{}`; known faults:", self.0)?;
        for fault in Fault::ALL {
            write!(f, " {}", fault.name())?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownFault {}

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fault::ALL
            .into_iter()
            .find(|fault| fault.name() == s)
            .ok_or_else(|| UnknownFault(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for fault in Fault::ALL {
            assert_eq!(fault.name().parse::<Fault>(), Ok(fault));
            assert_eq!(fault.to_string(), fault.name());
        }
        let mut names: Vec<_> = Fault::ALL.iter().map(|f| f.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Fault::ALL.len());
    }

    #[test]
    fn unknown_name_lists_the_catalog() {
        let err = "no-such-fault".parse::<Fault>().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("no-such-fault"));
        assert!(text.contains("skip-check-bucket"));
    }
}
