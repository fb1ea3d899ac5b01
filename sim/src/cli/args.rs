//! Parsers for option values shared by the subcommands; each error says what was expected.

use std::str::FromStr;
use std::time::Duration;

use map_core::Fault;
use sim::program::HasherSet;
use sim::target::TargetInfo;

/// `A..B`: seeds `A` up to `B` exclusive, `A < B`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedRange {
    pub start: u64,
    pub end: u64,
}

pub fn seed_range(text: &str) -> Result<SeedRange, String> {
    let expected = "expected `A..B` with integers A < B (B exclusive), e.g. `0..1000`";
    let (a, b) = text
        .split_once("..")
        .ok_or_else(|| format!("{expected}; found `{text}`"))?;
    let parse = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("{expected}; `{s}` is not a seed"))
    };
    let (start, end) = (parse(a)?, parse(b)?);
    if start >= end {
        return Err(format!("{expected}; `{text}` is empty"));
    }
    Ok(SeedRange { start, end })
}

/// `I/N`: the I-th of N shards, `I < N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

pub fn shard(text: &str) -> Result<Shard, String> {
    let expected = "expected `I/N` with integers 0 <= I < N, e.g. `0/4`";
    let (i, n) = text
        .split_once('/')
        .ok_or_else(|| format!("{expected}; found `{text}`"))?;
    let parse = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("{expected}; found `{text}`"))
    };
    let (index, count) = (parse(i)?, parse(n)?);
    if index >= count {
        return Err(format!("{expected}; found `{text}`"));
    }
    Ok(Shard { index, count })
}

/// A duration: `500ms`, `30s`, `5m`, `2h`, or a number of seconds.
pub fn duration(text: &str) -> Result<Duration, String> {
    let expected = "expected a duration such as `500ms`, `30s`, `5m`, `2h` or a number of seconds";
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{expected}; found `{text}`"))?;
    let seconds = |factor: u64| {
        n.checked_mul(factor)
            .map(Duration::from_secs)
            .ok_or_else(|| format!("duration `{text}` is too long"))
    };
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "" | "s" => seconds(1),
        "m" => seconds(60),
        "h" => seconds(3600),
        _ => Err(format!("{expected}; found `{text}`")),
    }
}

/// A positive number of worker threads.
pub fn jobs(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a number of jobs >= 1; found `{text}`")),
    }
}

/// A percentage within `0..=100`, with or without a trailing `%`.
pub fn percent(text: &str) -> Result<f64, String> {
    match text.strip_suffix('%').unwrap_or(text).parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!(
            "expected a percentage from 0 to 100; found `{text}`"
        )),
    }
}

/// A target's name (`sim targets` lists them).
pub fn target(text: &str) -> Result<&'static TargetInfo, String> {
    sim::target::lookup(text)
}

/// A positive number of tries.
pub fn tries(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a number of tries >= 1; found `{text}`")),
    }
}

/// A comma-separated list of hasher modes (`--hashers`).
pub fn hashers(text: &str) -> Result<HasherSet, String> {
    HasherSet::parse(text)
}

/// A fault's kebab-case name.
pub fn fault(text: &str) -> Result<Fault, String> {
    Fault::from_str(text).map_err(|_| {
        let names: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
        let planted = sim::target::weak_example::planted("weak-example");
        // A planted fault of the weak example is a target of its own, not a `--fault`.
        let hint = match planted.iter().find(|p| p.fault.name() == text) {
            Some(p) => format!(
                " (`{text}` is weak-example's: use --target {})",
                p.target.name
            ),
            None => String::new(),
        };
        format!(
            "unknown fault `{text}`{hint}; expected one of map-core's: {}",
            names.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_lie_between_0_and_100() {
        assert_eq!(percent("2"), Ok(2.0));
        assert_eq!(percent("0.5%"), Ok(0.5));
        for bad in ["-1", "101", "x", "", "NaN"] {
            assert!(percent(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn seed_ranges_must_be_non_empty() {
        assert_eq!(seed_range("3..5"), Ok(SeedRange { start: 3, end: 5 }));
        for bad in ["5..3", "4..4", "x..3", "3", "3..", "-1..2"] {
            assert!(seed_range(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn shards_and_durations_parse() {
        assert_eq!(shard("1/4"), Ok(Shard { index: 1, count: 4 }));
        assert!(shard("4/4").is_err() && shard("1/0").is_err() && shard("1").is_err());
        assert_eq!(duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert!(duration("2 weeks").is_err() && duration("s").is_err());
        assert!(jobs("0").is_err());
        assert!(fault("gremlins").unwrap_err().contains("skip-check-bucket"));
    }
}
