//! `GoMap` against `std::collections::HashMap`, operation by operation.
//!
//! Each operation (insert into an empty map, get-hit, get-miss, remove, full iteration) runs at
//! n = 8, 1Ki, 64Ki and 1Mi `u64` keys against three maps in the same run:
//!
//! - `gomap`: `GoMap<u64, u64>` with `DefaultHashBuilder`;
//! - `std_same_hasher`: std `HashMap` with the very same `DefaultHashBuilder`, so that the ratio
//!   between the two measures the table and not the hash function;
//! - `std_randomstate`: std `HashMap` with its default `RandomState` (SipHash-1-3), the map a
//!   user would otherwise reach for.
//!
//! Full iteration is also measured through `GoMap`'s `Cursor` (`gomap_cursor`), the API that
//! survives mutation, against the same std iterators.
//!
//! Every sample times the whole batch of n operations; criterion reports the time per batch and
//! the throughput in operations per second. When the run ends, a table of the time per operation
//! and of the ratios `GoMap / std` is printed from the estimates criterion wrote in this run, with
//! the goals of the map: get-hit within 1.5x of std with the same hasher, insert within 2x,
//! iteration within 1.5x.
//!
//! Run with `cargo bench -p map-core --bench map` (about three and a half minutes on two cores);
//! `cargo bench -p map-core --bench map -- get_hit` runs a subset and tabulates only that subset.

#[path = "map/report.rs"]
mod report;

use std::collections::HashMap;
use std::hash::RandomState;
use std::time::{Duration, SystemTime};

use criterion::measurement::WallTime;
use criterion::{
    black_box, BatchSize, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use map_core::{DefaultHashBuilder, GoMap};

/// Seed of the hash function shared by `GoMap` and `std_same_hasher`.
const HASH_SEED: u64 = 0x5EED_4A5B;
/// Seed of `GoMap`'s iteration randomness.
const MAP_SEED: u64 = 0x17E2_A71D;
/// Seed of the key sequence.
const KEY_SEED: u64 = 0x6B65_7973;

/// One measured map size with the criterion settings that keep its run short on two cores.
struct Size {
    n: usize,
    label: &'static str,
    samples: usize,
    warm_up: Duration,
    measurement: Duration,
    /// Flat sampling for the large sizes: one batch of n operations already takes milliseconds, so
    /// criterion's linear ramp would only make the run longer.
    sampling: SamplingMode,
    /// How many fresh maps an insert or remove sample prepares at once: about 100-400 KiB of them,
    /// so that a batch neither starts on memory the cache has long evicted nor grows unbounded,
    /// and large maps one at a time.
    batch: BatchSize,
}

const SIZES: [Size; 4] = [
    Size {
        n: 8,
        label: "8",
        samples: 30,
        warm_up: Duration::from_millis(300),
        measurement: Duration::from_secs(2),
        sampling: SamplingMode::Linear,
        batch: BatchSize::NumIterations(256),
    },
    Size {
        n: 1 << 10,
        label: "1K",
        samples: 30,
        warm_up: Duration::from_millis(300),
        measurement: Duration::from_secs(2),
        sampling: SamplingMode::Linear,
        batch: BatchSize::NumIterations(8),
    },
    Size {
        n: 1 << 16,
        label: "64K",
        samples: 10,
        warm_up: Duration::from_millis(500),
        measurement: Duration::from_secs(2),
        sampling: SamplingMode::Flat,
        batch: BatchSize::PerIteration,
    },
    Size {
        n: 1 << 20,
        label: "1M",
        samples: 10,
        warm_up: Duration::from_secs(1),
        measurement: Duration::from_secs(3),
        sampling: SamplingMode::Flat,
        batch: BatchSize::PerIteration,
    },
];

/// The operations a benchmarked map offers, so that one generic routine measures all three maps.
trait BenchMap: Clone {
    /// Criterion function id, also the column key of the ratio table.
    const ID: &'static str;
    fn empty() -> Self;
    fn put(&mut self, k: u64, v: u64);
    fn find(&self, k: &u64) -> Option<&u64>;
    fn take(&mut self, k: &u64) -> Option<u64>;
    fn len(&self) -> usize;
    /// Visits every entry once through the map's std iterator.
    fn fold_entries(&self) -> u64;
}

type GoMapU64 = GoMap<u64, u64, DefaultHashBuilder>;
type StdSameHasher = HashMap<u64, u64, DefaultHashBuilder>;
type StdRandomState = HashMap<u64, u64, RandomState>;

/// Implements [`BenchMap`] for a map type whose own methods are spelled like std's
/// (`insert`, `get`, `remove`, `len`, `iter`); only the id and the empty map differ.
macro_rules! bench_map {
    ($map:ty, $id:expr, $empty:expr) => {
        impl BenchMap for $map {
            const ID: &'static str = $id;
            fn empty() -> Self {
                $empty
            }
            #[inline]
            fn put(&mut self, k: u64, v: u64) {
                self.insert(k, v);
            }
            #[inline]
            fn find(&self, k: &u64) -> Option<&u64> {
                self.get(k)
            }
            #[inline]
            fn take(&mut self, k: &u64) -> Option<u64> {
                self.remove(k)
            }
            fn len(&self) -> usize {
                <$map>::len(self)
            }
            #[inline]
            fn fold_entries(&self) -> u64 {
                let mut acc = 0u64;
                for (k, v) in self.iter() {
                    acc = acc.wrapping_add(k ^ v);
                }
                acc
            }
        }
    };
}

bench_map!(
    GoMapU64,
    report::GOMAP,
    GoMap::with_hasher_and_seed(DefaultHashBuilder::with_seed(HASH_SEED), MAP_SEED)
);
bench_map!(
    StdSameHasher,
    report::STD_SAME,
    HashMap::with_hasher(DefaultHashBuilder::with_seed(HASH_SEED))
);
bench_map!(
    StdRandomState,
    report::STD_RANDOM,
    HashMap::with_hasher(RandomState::new())
);

/// SplitMix64 over a counter: deterministic, well mixed, and a bijection of the counter, so the
/// first `len` outputs are distinct.
fn key_sequence(seed: u64, len: usize) -> Vec<u64> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        })
        .collect()
}

fn build<M: BenchMap>(keys: &[u64]) -> M {
    let mut map = M::empty();
    for &k in keys {
        map.put(k, k);
    }
    map
}

/// Checks that a prebuilt map holds exactly the hit keys, so that get-hit, get-miss and remove
/// measure what their names say.
fn verify<M: BenchMap>(map: &M, hits: &[u64], misses: &[u64]) {
    assert_eq!(map.len(), hits.len(), "{}: wrong len after building", M::ID);
    assert!(
        hits.iter().all(|k| map.find(k) == Some(k)),
        "{}: a hit key is missing or has the wrong value",
        M::ID
    );
    assert!(
        misses.iter().all(|k| map.find(k).is_none()),
        "{}: a miss key is present",
        M::ID
    );
}

/// Keys and the three maps prebuilt from them, for the operations that need a full map.
struct Fixture {
    hits: Vec<u64>,
    misses: Vec<u64>,
    gomap: GoMapU64,
    std_same: StdSameHasher,
    std_random: StdRandomState,
}

impl Fixture {
    fn new(n: usize) -> Self {
        // One sequence split in two: distinct counters give distinct keys, so no miss key is a hit key.
        let mut hits = key_sequence(KEY_SEED, 2 * n);
        let misses = hits.split_off(n);
        let gomap: GoMapU64 = build(&hits);
        let std_same: StdSameHasher = build(&hits);
        let std_random: StdRandomState = build(&hits);
        verify(&gomap, &hits, &misses);
        verify(&std_same, &hits, &misses);
        verify(&std_random, &hits, &misses);
        Fixture {
            hits,
            misses,
            gomap,
            std_same,
            std_random,
        }
    }
}

fn group<'c>(c: &'c mut Criterion, op: &str, size: &Size) -> BenchmarkGroup<'c, WallTime> {
    let mut g = c.benchmark_group(op);
    g.sample_size(size.samples)
        .warm_up_time(size.warm_up)
        .measurement_time(size.measurement)
        .sampling_mode(size.sampling)
        .throughput(Throughput::Elements(size.n as u64));
    g
}

fn id(function: &str, size: &Size) -> BenchmarkId {
    BenchmarkId::new(function, size.n)
}

/// Builds an n-key map from empty; creating the empty map and dropping the full one are not timed.
fn insert<M: BenchMap>(g: &mut BenchmarkGroup<WallTime>, size: &Size, keys: &[u64]) {
    g.bench_function(id(M::ID, size), |b| {
        b.iter_batched(
            M::empty,
            |mut map| {
                for &k in keys {
                    map.put(k, k);
                }
                map
            },
            size.batch,
        )
    });
}

/// Looks up every key of `keys` in `map`, summing what it finds.
fn get<M: BenchMap>(g: &mut BenchmarkGroup<WallTime>, size: &Size, map: &M, keys: &[u64]) {
    g.bench_function(id(M::ID, size), |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for k in keys {
                if let Some(v) = map.find(k) {
                    acc = acc.wrapping_add(*v);
                }
            }
            acc
        })
    });
}

/// Removes every key from a copy of the full map; the copy and the drop of the emptied map are not timed.
fn remove<M: BenchMap>(g: &mut BenchmarkGroup<WallTime>, size: &Size, full: &M, keys: &[u64]) {
    g.bench_function(id(M::ID, size), |b| {
        b.iter_batched(
            || full.clone(),
            |mut map| {
                let mut acc = 0u64;
                for k in keys {
                    acc = acc.wrapping_add(map.take(k).unwrap_or(0));
                }
                (map, acc)
            },
            size.batch,
        )
    });
}

fn iterate<M: BenchMap>(g: &mut BenchmarkGroup<WallTime>, size: &Size, map: &M) {
    g.bench_function(id(M::ID, size), |b| b.iter(|| map.fold_entries()));
}

/// Full iteration through a `Cursor`, the API that survives mutation between steps.
fn iterate_cursor(g: &mut BenchmarkGroup<WallTime>, size: &Size, map: &mut GoMapU64) {
    g.bench_function(id(report::GOMAP_CURSOR, size), |b| {
        b.iter(|| {
            let mut cursor = map.cursor();
            let mut acc = 0u64;
            while let Some((k, v)) = cursor.next(black_box(&*map)) {
                acc = acc.wrapping_add(k ^ v);
            }
            acc
        })
    });
}

fn bench_size(c: &mut Criterion, size: &Size, fx: &mut Fixture) {
    let mut g = group(c, report::INSERT, size);
    insert::<GoMapU64>(&mut g, size, &fx.hits);
    insert::<StdSameHasher>(&mut g, size, &fx.hits);
    insert::<StdRandomState>(&mut g, size, &fx.hits);
    g.finish();

    let mut g = group(c, report::GET_HIT, size);
    get(&mut g, size, &fx.gomap, &fx.hits);
    get(&mut g, size, &fx.std_same, &fx.hits);
    get(&mut g, size, &fx.std_random, &fx.hits);
    g.finish();

    let mut g = group(c, report::GET_MISS, size);
    get(&mut g, size, &fx.gomap, &fx.misses);
    get(&mut g, size, &fx.std_same, &fx.misses);
    get(&mut g, size, &fx.std_random, &fx.misses);
    g.finish();

    let mut g = group(c, report::REMOVE, size);
    remove(&mut g, size, &fx.gomap, &fx.hits);
    remove(&mut g, size, &fx.std_same, &fx.hits);
    remove(&mut g, size, &fx.std_random, &fx.hits);
    g.finish();

    let mut g = group(c, report::ITER, size);
    iterate(&mut g, size, &fx.gomap);
    iterate_cursor(&mut g, size, &mut fx.gomap);
    iterate(&mut g, size, &fx.std_same);
    iterate(&mut g, size, &fx.std_random);
    g.finish();
}

/// How criterion will run, read from the flags it reads itself.
struct RunMode {
    /// `cargo test --benches` (the binary runs without `--bench`) or `--test`: every routine
    /// runs once, to prove it works.
    test: bool,
    /// Whether this run writes estimates to tabulate (not a test, `--list` or `--profile-time`).
    estimates: bool,
}

fn run_mode() -> RunMode {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    let test = !has("--bench") || has("--test");
    let estimates =
        !test && !has("--list") && !args.iter().any(|a| a.starts_with("--profile-time"));
    RunMode { test, estimates }
}

fn main() {
    let mode = run_mode();
    let started = SystemTime::now();
    let out_dir = report::criterion_dir();
    let mut c = Criterion::default()
        .nresamples(10_000)
        .without_plots()
        .output_directory(&out_dir)
        .configure_from_args();

    // A test run only proves every routine works; the small sizes do that in a fraction of the time.
    let sizes = if mode.test { &SIZES[..2] } else { &SIZES[..] };
    let mut shapes = Vec::new();
    for size in sizes {
        let mut fx = Fixture::new(size.n);
        shapes.push((size.label, fx.gomap.stats()));
        bench_size(&mut c, size, &mut fx);
    }
    c.final_summary();

    if mode.estimates {
        let labels: Vec<(usize, &str)> = sizes.iter().map(|s| (s.n, s.label)).collect();
        report::print(&out_dir, started, &labels, &shapes);
    }
}
