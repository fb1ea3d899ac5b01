//! Counts of the map's hard internal states reached by a run: the states where bugs of this
//! algorithm live (semantics.md §5). The generator is biased to reach each of them often.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Events per state in one run (or summed over runs). In a results file (docs/results-schema.md)
/// each count appears under its field's name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coverage {
    /// Cursor steps taken while a growth was under way.
    pub growth_with_cursor: u64,
    /// Not-yet-evacuated old buckets walked by a cursor under the checkBucket filter
    /// (`CursorStats::old_bucket_walks`).
    pub old_bucket_walks: u64,
    /// Evacuated slots whose key a cursor looked up again in the live map
    /// (`CursorStats::relookups`).
    pub relookups: u64,
    /// Cursors during whose life two or more growths started (`CursorStats::growths_seen >= 2`).
    pub multi_growth_cursors: u64,
    /// Clears while a cursor was live and had not ended.
    pub clear_during_iteration: u64,
    /// Incarnations begun for a key that a live cursor had yielded before it was removed or
    /// cleared: the case where rule 1 allows the key to be yielded again.
    pub reinsert_yielded: u64,
    /// Audits that saw an overflow chain of two or more overflow buckets
    /// (`MapStats::max_chain_len >= 3`).
    pub deep_chains: u64,
    /// Same-size growths started, forced or by the map's own overflow rule
    /// (`MapStats::same_size_grows`).
    pub same_size_grows: u64,
    /// Cursors that took at least one step while a growth was under way: cursors that lived
    /// through a growth.
    pub cursors_through_growth: u64,
    /// Swiss-table map (Go 1.24 and later): a table grown in place (rehashed into one of twice
    /// the capacity).
    pub table_grows: u64,
    /// Swiss-table map: a table split in two (a full table of the largest size).
    pub table_splits: u64,
    /// Swiss-table map: the directory doubled (its global depth grew).
    pub directory_grows: u64,
    /// Swiss-table map: the map outgrew its single small group and got a directory of tables.
    pub outgrew_group: u64,
    /// Swiss-table map: cursor steps taken on a table the map had replaced (grown or split) since
    /// the cursor started it, or from a small group the map outgrew.
    pub replaced_table_steps: u64,
    /// Swiss-table map: entries a cursor found in a replaced table and looked up again in the
    /// live map before yielding.
    pub replaced_table_relookups: u64,
    /// Swiss-table map: writes after which a table held more tombstones than before.
    pub tombstones: u64,
    /// §7 targets: cursors that yielded a value stored after their creation (a snapshot never
    /// would); 0 for §2 targets.
    pub fresh_value_cursors: u64,
    /// Cursor steps for which the target could not tell whether a growth was under way (a target
    /// without state coverage, or a driver that cannot read its map's header).
    pub growth_state_unknown: u64,
}

impl Coverage {
    /// How many states are counted.
    pub const STATES: usize = 16;

    /// The first of the swiss-table map's states in [`Coverage::entries`]; they are shown only
    /// for runs that reached one of them (targets on Go 1.24 and later).
    pub const SWISS_FROM: usize = 9;

    /// The field a driver's count named `name` (its `s` line) adds to; `None` for a count this
    /// harness does not know, which a newer driver may report.
    pub fn driver_count(&mut self, name: &str) -> Option<&mut u64> {
        Some(match name {
            "same-size-grow" => &mut self.same_size_grows,
            "multi-growth-cursor" => &mut self.multi_growth_cursors,
            "table-grow" => &mut self.table_grows,
            "table-split" => &mut self.table_splits,
            "directory-grow" => &mut self.directory_grows,
            "outgrew-group" => &mut self.outgrew_group,
            "replaced-table-step" => &mut self.replaced_table_steps,
            "replaced-table-relookup" => &mut self.replaced_table_relookups,
            "tombstone" => &mut self.tombstones,
            "cursor-through-growth" => &mut self.cursors_through_growth,
            _ => return None,
        })
    }

    /// Each state's description and count, in a fixed order.
    pub fn entries(&self) -> [(&'static str, u64); Coverage::STATES] {
        [
            (
                "growth under way while a cursor is live (steps)",
                self.growth_with_cursor,
            ),
            (
                "cursor walks a not-yet-evacuated old bucket",
                self.old_bucket_walks,
            ),
            ("evacuated entry re-looked up by a cursor", self.relookups),
            (
                "two growths within one cursor's life (cursors)",
                self.multi_growth_cursors,
            ),
            ("clear during iteration", self.clear_during_iteration),
            (
                "delete and re-insert of a yielded key",
                self.reinsert_yielded,
            ),
            (
                "overflow chain of >= 2 overflow buckets (audits)",
                self.deep_chains,
            ),
            ("same-size growth", self.same_size_grows),
            (
                "cursor lived through a growth (cursors)",
                self.cursors_through_growth,
            ),
            ("swiss: table grown in place", self.table_grows),
            ("swiss: table split", self.table_splits),
            ("swiss: directory doubled", self.directory_grows),
            ("swiss: map outgrew its single group", self.outgrew_group),
            (
                "swiss: cursor step on a replaced table (steps)",
                self.replaced_table_steps,
            ),
            (
                "swiss: entry re-looked up from a replaced table",
                self.replaced_table_relookups,
            ),
            (
                "swiss: tombstones left by deletes (writes)",
                self.tombstones,
            ),
        ]
    }

    /// The states of Go's classic map (and map-core, which follows it): the first
    /// [`Coverage::SWISS_FROM`] of [`Coverage::entries`].
    pub fn classic_entries(&self) -> impl Iterator<Item = (&'static str, u64)> {
        self.entries().into_iter().take(Coverage::SWISS_FROM)
    }

    /// Adds another run's counts to these.
    pub fn add(&mut self, other: &Coverage) {
        self.growth_with_cursor += other.growth_with_cursor;
        self.old_bucket_walks += other.old_bucket_walks;
        self.relookups += other.relookups;
        self.multi_growth_cursors += other.multi_growth_cursors;
        self.clear_during_iteration += other.clear_during_iteration;
        self.reinsert_yielded += other.reinsert_yielded;
        self.deep_chains += other.deep_chains;
        self.same_size_grows += other.same_size_grows;
        self.cursors_through_growth += other.cursors_through_growth;
        self.table_grows += other.table_grows;
        self.table_splits += other.table_splits;
        self.directory_grows += other.directory_grows;
        self.outgrew_group += other.outgrew_group;
        self.replaced_table_steps += other.replaced_table_steps;
        self.replaced_table_relookups += other.replaced_table_relookups;
        self.tombstones += other.tombstones;
        self.growth_state_unknown += other.growth_state_unknown;
        self.fresh_value_cursors += other.fresh_value_cursors;
    }

    /// 1 for every state with at least one event, 0 for the others: one run's contribution to
    /// [`CoverageSummary::runs_reaching`].
    pub fn reached(&self) -> Coverage {
        let once = |count: u64| u64::from(count > 0);
        Coverage {
            growth_with_cursor: once(self.growth_with_cursor),
            old_bucket_walks: once(self.old_bucket_walks),
            relookups: once(self.relookups),
            multi_growth_cursors: once(self.multi_growth_cursors),
            clear_during_iteration: once(self.clear_during_iteration),
            reinsert_yielded: once(self.reinsert_yielded),
            deep_chains: once(self.deep_chains),
            same_size_grows: once(self.same_size_grows),
            cursors_through_growth: once(self.cursors_through_growth),
            table_grows: once(self.table_grows),
            table_splits: once(self.table_splits),
            directory_grows: once(self.directory_grows),
            outgrew_group: once(self.outgrew_group),
            replaced_table_steps: once(self.replaced_table_steps),
            replaced_table_relookups: once(self.replaced_table_relookups),
            tombstones: once(self.tombstones),
            growth_state_unknown: once(self.growth_state_unknown),
            fresh_value_cursors: once(self.fresh_value_cursors),
        }
    }
}

/// Coverage over many runs: per state, how many runs reached it and the events in total.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverageSummary {
    /// Runs added.
    pub runs: u64,
    /// Per state, the runs with at least one event (each field counts runs, not events).
    pub runs_reaching: Coverage,
    /// Events summed over runs.
    pub total: Coverage,
}

impl CoverageSummary {
    /// Adds one run.
    pub fn add(&mut self, run: &Coverage) {
        self.runs += 1;
        self.runs_reaching.add(&run.reached());
        self.total.add(run);
    }

    /// Adds another summary's runs to these (shards of one campaign, or workers of one run).
    pub fn merge(&mut self, other: &CoverageSummary) {
        self.runs += other.runs;
        self.runs_reaching.add(&other.runs_reaching);
        self.total.add(&other.total);
    }
}

/// A table: one line per state with the runs reaching it and the events.
impl fmt::Display for CoverageSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "state coverage (seeds reaching it / events):")?;
        let reaching = self.runs_reaching.entries();
        let swiss = reaching[Coverage::SWISS_FROM..].iter().any(|&(_, r)| r > 0);
        let shown = if swiss {
            Coverage::STATES
        } else {
            Coverage::SWISS_FROM
        };
        let rows = self.total.entries().into_iter().zip(reaching);
        for ((name, events), (_, reached)) in rows.take(shown) {
            let share = if self.runs == 0 {
                0.0
            } else {
                100.0 * reached as f64 / self.runs as f64
            };
            writeln!(f, "  {name:<50} {reached:>7} ({share:5.1}%) {events:>12}")?;
        }
        if self.total.growth_state_unknown > 0 {
            writeln!(
                f,
                "  (the target could not tell whether a growth was under way at {} cursor steps: \
                 the growth states above count only the steps it could)",
                self.total.growth_state_unknown
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_runs_reaching_each_state() {
        let mut summary = CoverageSummary::default();
        summary.add(&Coverage {
            relookups: 3,
            ..Coverage::default()
        });
        summary.add(&Coverage {
            relookups: 2,
            deep_chains: 1,
            ..Coverage::default()
        });
        assert_eq!(summary.runs, 2);
        assert_eq!(summary.runs_reaching.relookups, 2);
        assert_eq!(summary.runs_reaching.deep_chains, 1);
        assert_eq!(summary.runs_reaching.same_size_grows, 0);
        assert_eq!(summary.total.relookups, 5);
        assert!(summary.to_string().contains("re-looked up"));
    }
}
