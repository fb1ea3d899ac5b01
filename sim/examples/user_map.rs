//! What it takes to check your own map with sim: implement [`Target`] for it, describe it with a
//! [`TargetInfo`], and hand that to the same runner, executor, model and shrinker that check
//! map-core.
//!
//! The map here, [`SlotMap`], was written for this example: entries live in a vector in insertion
//! order, a remove leaves a hole, and the vector is compacted when holes outnumber entries. Its
//! cursors are positions in that vector, so compaction must move every live cursor back by the
//! holes before it; `--buggy` forgets to, which is the kind of bug the harness exists to find.
//!
//! ```sh
//! cargo run --release -p sim --example user_map                 # 20000 seeds, clean
//! cargo run --release -p sim --example user_map -- --buggy      # found, shrunk, printed
//! ```

use std::collections::HashMap;

use sim::coverage::Coverage;
use sim::op::{CursorId, MAX_CURSORS};
use sim::program::Program;
use sim::runner::{run_campaign, Campaign, Problem, SeedSet};
use sim::shrink::shrink_on;
use sim::target::{Capabilities, Target, TargetError, TargetInfo};
use sim::trace;

/// A map from `u64` to `u64` with cursors that survive inserts, removes and clears.
#[derive(Default)]
pub struct SlotMap {
    /// Entries in insertion order; `None` is the hole a remove left.
    slots: Vec<Option<(u64, u64)>>,
    /// Where each present key's entry is in `slots`.
    index: HashMap<u64, usize, foldhash::fast::FixedState>,
    /// Per cursor handle: the next position to look at, if the cursor exists.
    cursors: [Option<usize>; MAX_CURSORS],
    /// Forget to move cursors when compacting (the example's deliberate bug).
    buggy: bool,
}

impl SlotMap {
    fn compact(&mut self) {
        if !self.buggy {
            // A cursor stays between the same entries: its new position is the number of
            // entries before its old one.
            for at in self.cursors.iter_mut().flatten() {
                *at = self.slots[..*at].iter().flatten().count();
            }
        }
        self.slots.retain(Option::is_some);
        for (position, slot) in self.slots.iter().enumerate() {
            let (key, _) = slot.expect("holes were dropped");
            self.index.insert(key, position);
        }
    }
}

impl Target for SlotMap {
    fn insert(&mut self, key: u64, value: u64) -> Option<u64> {
        if let Some(&at) = self.index.get(&key) {
            let slot = self.slots[at].as_mut().expect("indexed slots hold entries");
            return Some(std::mem::replace(&mut slot.1, value));
        }
        self.index.insert(key, self.slots.len());
        self.slots.push(Some((key, value)));
        None
    }

    fn remove(&mut self, key: u64) -> Option<u64> {
        let at = self.index.remove(&key)?;
        let (_, value) = self.slots[at].take().expect("indexed slots hold entries");
        if self.slots.len() > 2 * self.index.len() + 8 {
            self.compact();
        }
        Some(value)
    }

    fn get(&mut self, key: u64) -> Option<u64> {
        self.index
            .get(&key)
            .and_then(|&at| self.slots[at])
            .map(|(_, v)| v)
    }

    fn clear(&mut self) {
        self.slots.clear();
        self.index.clear();
        // Every cursor is past everything that was there.
        for at in self.cursors.iter_mut().flatten() {
            *at = 0;
        }
    }

    fn len(&mut self) -> usize {
        self.index.len()
    }

    fn contents(&mut self) -> Vec<(u64, u64)> {
        self.slots.iter().flatten().copied().collect()
    }

    fn cursor_new(&mut self, cursor: CursorId) {
        self.cursors[cursor.index()] = Some(0);
    }

    fn cursor_next(&mut self, cursor: CursorId) -> Option<(u64, u64)> {
        let at = self.cursors[cursor.index()].as_mut()?;
        while *at < self.slots.len() {
            *at += 1;
            if let Some(entry) = self.slots[*at - 1] {
                return Some(entry);
            }
        }
        None
    }

    fn cursor_drop(&mut self, cursor: CursorId, _coverage: &mut Coverage) {
        self.cursors[cursor.index()] = None;
    }
}

fn create(program: &Program, buggy: bool) -> Result<Box<dyn Target>, TargetError> {
    let mut map = SlotMap {
        buggy,
        ..SlotMap::default()
    };
    map.slots.reserve(program.config.initial_capacity as usize);
    Ok(Box::new(map))
}

/// The example's map as a target.
pub const SLOT_MAP: TargetInfo = TargetInfo {
    name: "slot-map",
    about: "the user_map example's insertion-ordered map",
    capabilities: Capabilities {
        cursors: true,
        ..Capabilities::PLAIN
    },
    create: |program| create(program, false),
    check_available: sim::target::always_available,
};

/// The same map with its compaction bug.
pub const BUGGY_SLOT_MAP: TargetInfo = TargetInfo {
    name: "slot-map-buggy",
    about: "the user_map example's map, compaction forgetting its cursors",
    create: |program| create(program, true),
    ..SLOT_MAP
};

/// Runs `seeds` on `target`; on a failure, shrinks it and returns the shrunk trace.
pub fn check(target: TargetInfo, seeds: SeedSet) -> Result<u64, String> {
    let campaign = Campaign {
        target,
        seeds,
        jobs: 2,
        time_limit: None,
        fault: None,
        check_determinism: false,
        keep_going: false,
    };
    let report = run_campaign(&campaign, &|| {});
    let Some(failure) = report.failure else {
        return Ok(report.stats.ops);
    };
    let Problem::Check(check) = &failure.problem else {
        return Err(format!("seed {}: {:?}", failure.seed, failure.problem));
    };
    let shrunk = shrink_on(&failure.program, check, &target);
    Err(format!(
        "seed {} failed; shrunk to {} ops:\n{}{}",
        failure.seed,
        shrunk.after_len,
        shrunk.failure,
        trace::print(&shrunk.program)
    ))
}

#[allow(dead_code)] // Also compiled into sim's tests, which call `check` instead.
fn main() {
    let buggy = std::env::args().any(|a| a == "--buggy");
    let target = if buggy { BUGGY_SLOT_MAP } else { SLOT_MAP };
    match check(target, SeedSet::range(0, 20_000)) {
        Ok(ops) => println!("{}: 20000 seeds, {ops} ops checked, clean", target.name),
        Err(report) => {
            println!("{}: {report}", target.name);
            std::process::exit(1);
        }
    }
}
