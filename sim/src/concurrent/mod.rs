//! Concurrent mode (`sim run --threads N`): writer threads on their own op streams while a reader
//! steps cursors, every call logged with when it began and returned, and the log checked
//! against the concurrent form of §7 (semantics.md §7).
//!
//! A seed fixes the calls each thread makes ([`program`]); real threads decide how they
//! interleave, so a run does not replay byte for byte. A failure is therefore reported with how
//! often the same seed failed again ([`reproduction_rate`]) and saved with the interleaving it
//! saw ([`log`]).
//!
//! Only maps that can be called from several threads at once take part, named by a
//! [`ConcurrentInfo`] ([`builtin`]): in this process a [`ConcurrentMap`] called from threads of
//! this process ([`run`]), or in a driver process that runs the threads itself and answers with
//! the log ([`driver`]).

pub mod check;
pub mod driver;
pub mod focus;
pub mod log;
pub mod program;
pub mod run;

use crate::failure::FailureKind;
#[cfg(feature = "concurrent-maps")]
use crate::hasher::SimHasher;
use crate::model::NoRepeat;
use crate::program::HasherSet;
#[cfg(feature = "concurrent-maps")]
use crate::target::concurrent_maps;
use crate::target::driver::DriverKind;
use crate::target::{go, java, striped};
use std::sync::Mutex;

pub use self::check::LogViolation;
pub use self::program::ConcurrentProgram;

/// A map that several threads may call at once; `cursor` is only ever stepped by the thread
/// that created it.
pub trait ConcurrentMap: Send + Sync {
    /// `insert(key, value)`: the previous value.
    fn insert(&self, key: u64, value: u64) -> Option<u64>;
    /// `remove(key)`: the removed value.
    fn remove(&self, key: u64) -> Option<u64>;
    /// `get(key)`.
    fn get(&self, key: u64) -> Option<u64>;
    /// `clear()`.
    fn clear(&self);
    /// Every entry, read once every thread has returned.
    fn contents(&self) -> Vec<(u64, u64)>;
    /// A cursor: the map's own iterator, stepped while other threads change the map.
    fn cursor(&self) -> Box<dyn Iterator<Item = (u64, u64)> + '_>;
}

/// How concurrent mode runs a map's programs.
#[derive(Clone, Copy)]
pub enum Runner {
    /// In this process: a new map per program, from this function, called from threads of
    /// this process.
    InProcess(fn(&ConcurrentProgram) -> Box<dyn ConcurrentMap>),
    /// In a driver process of this kind, which runs the program's threads itself and answers
    /// with their log.
    Driver(&'static DriverKind),
}

/// A map that concurrent mode can run: its name (the same as its single-threaded target's), its
/// W1 strength, and how to run a program on it.
#[derive(Clone, Copy)]
pub struct ConcurrentInfo {
    /// The target's name.
    pub name: &'static str,
    /// What its cursors promise about repeats (§7 W1).
    pub no_repeat: NoRepeat,
    /// Where the program's threads run.
    pub runner: Runner,
}

impl std::fmt::Debug for ConcurrentInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConcurrentInfo")
            .field("name", &self.name)
            .field("no_repeat", &self.no_repeat)
            .finish_non_exhaustive()
    }
}

/// The striped example map for a program, with or without its planted race.
fn striped_for(p: &ConcurrentProgram, racy: bool) -> Box<dyn ConcurrentMap> {
    Box::new(striped::for_concurrent(
        p.capacity,
        p.hasher,
        p.hash_seed,
        racy,
    ))
}

static BUILTIN: &[ConcurrentInfo] = &[
    ConcurrentInfo {
        name: "striped",
        no_repeat: NoRepeat::PerKey,
        runner: Runner::InProcess(|p| striped_for(p, false)),
    },
    ConcurrentInfo {
        name: "striped-racy",
        no_repeat: NoRepeat::PerKey,
        runner: Runner::InProcess(|p| striped_for(p, true)),
    },
    #[cfg(feature = "concurrent-maps")]
    ConcurrentInfo {
        name: "papaya",
        no_repeat: NoRepeat::PerElement,
        runner: Runner::InProcess(|p| {
            Box::new(concurrent_maps::SharedPapaya::new(
                p.capacity,
                SimHasher::new(p.hasher, p.hash_seed),
            ))
        }),
    },
    #[cfg(feature = "concurrent-maps")]
    ConcurrentInfo {
        name: "flurry",
        no_repeat: NoRepeat::PerElement,
        runner: Runner::InProcess(|p| {
            Box::new(concurrent_maps::SharedFlurry::new(
                p.capacity,
                SimHasher::new(p.hasher, p.hash_seed),
            ))
        }),
    },
    ConcurrentInfo {
        name: java::NAME,
        no_repeat: NoRepeat::PerElement,
        runner: Runner::Driver(&java::KIND),
    },
];

/// The maps concurrent mode can run.
pub fn builtin() -> &'static [ConcurrentInfo] {
    BUILTIN
}

/// The concurrent forms of `sync.Map` targets made so far, by the name asked for: each is made
/// once per process.
static GO_SYNC_MAPS: Mutex<Vec<(String, &'static ConcurrentInfo)>> = Mutex::new(Vec::new());

/// The concurrent form of the target named `name`: a built-in one, or `go-sync-map@VERSION` on
/// Go 1.23 and later; else why there is none.
pub fn lookup(name: &str) -> Result<&'static ConcurrentInfo, String> {
    if let Some(info) = builtin().iter().find(|info| info.name == name) {
        return Ok(info);
    }
    let mut made = GO_SYNC_MAPS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, info)) = made.iter().find(|(n, _)| n == name) {
        return Ok(info);
    }
    match go::concurrent_kind(name) {
        Some(Ok((canonical, kind))) => {
            let info: &'static ConcurrentInfo = Box::leak(Box::new(ConcurrentInfo {
                name: canonical,
                no_repeat: NoRepeat::PerKey,
                runner: Runner::Driver(Box::leak(Box::new(kind))),
            }));
            made.push((name.to_string(), info));
            Ok(info)
        }
        Some(Err(why)) => Err(why),
        None => {
            let names: Vec<&str> = builtin().iter().map(|i| i.name).collect();
            Err(format!(
                "target `{name}` cannot run with --threads: only maps that several threads may \
                 call at once can ({}, and go-sync-map@VERSION on Go 1.{} and later)",
                names.join(", "),
                go::CONCURRENT_SINCE
            ))
        }
    }
}

/// What one clean concurrent run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConcurrentStats {
    /// Calls logged (cursor steps included).
    pub calls: u64,
    /// Cursor steps that yielded.
    pub yields: u64,
    /// Cursors created.
    pub cursors: u64,
    /// Cursors that yielded a value stored after their creation.
    pub fresh_value_cursors: u64,
}

impl ConcurrentStats {
    /// Adds another run's counts.
    pub fn add(&mut self, other: &ConcurrentStats) {
        self.calls += other.calls;
        self.yields += other.yields;
        self.cursors += other.cursors;
        self.fresh_value_cursors += other.fresh_value_cursors;
    }
}

/// A failing concurrent run: what broke, and the log that shows it.
#[derive(Clone, Debug)]
pub struct ConcurrentFailure {
    /// The broken rule, or a panic in the map.
    pub violation: LogViolation,
    /// Every call of the run, in the order they began.
    pub log: Vec<log::Call>,
    /// The calls of `log` that show the violation by themselves ([`focus::calls_that_show`]),
    /// if it can be cut down.
    pub focus: Option<focus::Focus>,
}

impl ConcurrentFailure {
    /// The check that failed.
    pub fn kind(&self) -> FailureKind {
        self.violation.violation.kind
    }
}

/// Runs the program of `seed` with `threads` writers on a new map of `info` and checks its log;
/// the program's hasher is one of `hashers` (`sim run --hashers`).
pub fn run_seed(
    info: &ConcurrentInfo,
    seed: u64,
    threads: usize,
    hashers: HasherSet,
) -> Result<ConcurrentStats, Box<ConcurrentFailure>> {
    run_and_check(info, seed, threads, hashers).map_err(|(violation, ran)| {
        Box::new(ConcurrentFailure {
            focus: focus::calls_that_show(&ran.calls, &ran.contents, info.no_repeat, &violation),
            violation: *violation,
            log: ran.calls,
        })
    })
}

/// [`run_seed`] without the report: a failure is its violation and the run's log.
fn run_and_check(
    info: &ConcurrentInfo,
    seed: u64,
    threads: usize,
    hashers: HasherSet,
) -> Result<ConcurrentStats, (Box<LogViolation>, run::RunLog)> {
    let mut program = ConcurrentProgram::generate(seed, threads);
    program.restrict_hashers(hashers);
    let ran = match info.runner {
        Runner::InProcess(create) => run::run(&program, create(&program).as_ref()),
        Runner::Driver(kind) => driver::run(kind, &program),
    };
    let checked = match &ran.panic {
        Some(panic) => Err(Box::new(LogViolation {
            violation: crate::model::Violation {
                kind: FailureKind::Panic,
                expected: "no panic".to_string(),
                found: format!("the map panicked: {panic}"),
            },
            at: None,
            keys: Vec::new(),
        })),
        None => check::check(&ran.calls, &ran.contents, info.no_repeat),
    };
    match checked {
        Ok(counts) => Ok(ConcurrentStats {
            calls: ran.calls.len() as u64,
            ..counts
        }),
        Err(violation) => Err((violation, ran)),
    }
}

/// How many of `runs` further runs of `seed` failed with the same check as `kind` (only the
/// check is compared, so no failure of these runs is cut down to a focus).
pub fn reproduction_rate(
    info: &ConcurrentInfo,
    seed: u64,
    threads: usize,
    hashers: HasherSet,
    kind: FailureKind,
    runs: u32,
) -> u32 {
    (0..runs)
        .filter(|_| {
            matches!(run_and_check(info, seed, threads, hashers),
                     Err((violation, _)) if violation.violation.kind == kind)
        })
        .count() as u32
}
