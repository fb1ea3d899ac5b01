//! A picture of the map's buckets for a person debugging a failure.

use std::fmt;
use std::hash::{BuildHasher, Hash};

use crate::bucket::{
    BucketArray, BUCKET_CNT, EMPTY_ONE, EMPTY_REST, EVACUATED_EMPTY, EVACUATED_X, EVACUATED_Y,
    NO_OVERFLOW,
};
use crate::map::GoMap;

/// At most this many bucket lines per array; the rest is summarized.
const MAX_LINES_PER_ARRAY: usize = 256;

/// The map's layout, one line per bucket; see [`GoMap::diagram`].
///
/// Each slot shows its tophash in hex, or a marker: `__` emptyRest, `..` emptyOne, `eX`/`eY`
/// evacuated to the X or Y half, `e_` evacuatedEmpty. An overflow bucket follows its main bucket,
/// indented, with its index. Runs of empty buckets are folded into one line.
pub struct Diagram<'m, K, V, S> {
    map: &'m GoMap<K, V, S>,
}

impl<K, V, S> GoMap<K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
    /// A [`Display`](fmt::Display)able picture of the buckets, chains, old buckets and evacuation
    /// progress.
    ///
    /// ```
    /// use map_core::GoMap;
    /// let mut map = GoMap::with_seed(3);
    /// for k in 0..20u64 {
    ///     map.insert(k, k);
    /// }
    /// let text = map.diagram().to_string();
    /// assert!(text.starts_with("GoMap len 20"));
    /// ```
    pub fn diagram(&self) -> Diagram<'_, K, V, S> {
        Diagram { map: self }
    }
}

fn marker(top: u8) -> String {
    match top {
        EMPTY_REST => "__".into(),
        EMPTY_ONE => "..".into(),
        EVACUATED_X => "eX".into(),
        EVACUATED_Y => "eY".into(),
        EVACUATED_EMPTY => "e_".into(),
        top => format!("{top:02x}"),
    }
}

fn write_array<K, V>(
    f: &mut fmt::Formatter<'_>,
    array: &BucketArray<K, V>,
    nevacuate: Option<usize>,
) -> fmt::Result {
    let mut lines = 0;
    let mut empty_run: Option<(usize, usize)> = None;
    let flush = |f: &mut fmt::Formatter<'_>, run: &mut Option<(usize, usize)>| -> fmt::Result {
        if let Some((from, to)) = run.take() {
            if from == to {
                writeln!(f, "  b{from}: empty")?;
            } else {
                writeln!(f, "  b{from}..b{to}: empty")?;
            }
        }
        Ok(())
    };
    for start in 0..array.main_buckets() {
        let bucket = &array.buckets[start];
        if bucket.overflow == NO_OVERFLOW
            && bucket.tophash == [EMPTY_REST; BUCKET_CNT]
            && nevacuate != Some(start)
        {
            empty_run = Some(empty_run.map_or((start, start), |(from, _)| (from, start)));
            continue;
        }
        flush(f, &mut empty_run)?;
        if lines == MAX_LINES_PER_ARRAY {
            writeln!(f, "  ... (buckets b{start}.. not shown)")?;
            return Ok(());
        }
        for (depth, index) in array.chain(start).enumerate() {
            let bucket = &array.buckets[index as usize];
            let slots: Vec<String> = bucket.tophash.iter().map(|&t| marker(t)).collect();
            let name = if depth == 0 {
                format!("b{start}")
            } else {
                format!("  +ovf {index}")
            };
            let state = match nevacuate {
                Some(_) if depth == 0 && bucket.evacuated() => "  (evacuated)",
                Some(n) if depth == 0 && start == n => "  <- nevacuate",
                _ => "",
            };
            writeln!(f, "  {name}: {}{state}", slots.join(" "))?;
            lines += 1;
        }
    }
    flush(f, &mut empty_run)
}

impl<K, V, S> fmt::Display for Diagram<'_, K, V, S>
where
    K: Hash + Eq + Clone,
    S: BuildHasher,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let map = self.map;
        let stats = map.stats();
        write!(
            f,
            "GoMap len {}, B {} ({} buckets, {} overflow), clear_seq {}, {} live cursor(s)",
            stats.len,
            stats.b,
            stats.buckets,
            stats.overflow_buckets,
            map.clear_seq,
            stats.live_cursors
        )?;
        if let Some(old) = &map.old {
            write!(
                f,
                ", growing ({} from B {}): {}/{} old buckets evacuated",
                if map.same_size {
                    "same-size"
                } else {
                    "doubling"
                },
                old.b,
                map.nevacuate,
                old.main_buckets()
            )?;
        }
        writeln!(f)?;
        writeln!(f, "current array #{}:", map.buckets.id)?;
        write_array(f, &map.buckets, None)?;
        if let Some(old) = &map.old {
            writeln!(f, "old array #{} (B {}):", old.id, old.b)?;
            write_array(f, old, Some(map.nevacuate))?;
        }
        for array in &map.retired {
            writeln!(
                f,
                "retired array #{} (B {}), kept for cursors:",
                array.id, array.b
            )?;
            write_array(f, array, None)?;
        }
        Ok(())
    }
}
