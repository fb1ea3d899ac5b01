//! Go's own runtime map as a target: `map[uint64]uint64` in a driver process (`drivers/go`),
//! built with a Go toolchain of the user's choice.
//!
//! Names: `go` is the `go` on PATH; `go@1.26` the newest installed 1.26.x, `go@1.26.11` exactly
//! that release, `go@/path/to/bin/go` that binary ([`toolchain`] finds them on PATH and in
//! `/usr/lib/go-*`). A program drawn or run on one records the canonical name, `go@<version>`,
//! so its trace replays on the release it failed on.
//!
//! Two modes (semantics.md §6):
//! - `go[@...]`, seeded: the driver is built against the toolchain's runtime with its map
//!   randomness (each map's hash seed, every iterator's start, the re-seed at clear) drawn from
//!   the program's `map-seed`, and a fixed per-process hash key ([`overlay`]). The map code is
//!   the toolchain's own; the target is deterministic, and a failure replays exactly.
//! - `go-natural[@...]`: the unmodified runtime, which draws its randomness itself; a failure is
//!   reported with how often it reproduced.
//!
//! The same driver binary also runs Go's `sync.Map` (`-map=sync`): `go-sync-map[@...]`, seeded
//! (Go 1.19-1.23's read-only and dirty maps are runtime maps, seeded as above; Go 1.24 and
//! later's hash trie draws its hash seed from the runtime's random source, which the overlay
//! points at the seeded one), and `go-sync-map-natural[@...]`. Its cursors are weakly consistent
//! (semantics.md §7): `Range` promises that "no key will be visited more than once", and may
//! reflect any mapping of a key from any point during the call.

pub mod build;
pub mod overlay;
pub mod toolchain;

use std::process::Command;
use std::sync::Mutex;

use self::build::Mode;
use self::toolchain::Toolchain;
use super::driver::{Driver, DriverKind};
use super::{Capabilities, Contract, NoRepeat, TargetError, TargetInfo};
use crate::program::Program;

/// The base name of the seeded target.
pub const SEEDED: &str = "go";
/// The base name of the natural target.
pub const NATURAL: &str = "go-natural";
/// The base name of the seeded `sync.Map` target.
pub const SYNC_SEEDED: &str = "go-sync-map";
/// The base name of the natural `sync.Map` target.
pub const SYNC_NATURAL: &str = "go-sync-map-natural";

/// Which of Go's maps the driver runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MapKind {
    /// The built-in `map[uint64]uint64` (the driver's `-map=runtime`, its default).
    Runtime,
    /// `sync.Map` (the driver's `-map=sync`).
    Sync,
}

const SEEDED_CAPABILITIES: Capabilities = Capabilities {
    cursors: true,
    growth_controls: false,
    audit: false,
    diagram: true,
    state: true,
    api: false,
    shape: false,
    deterministic: true,
    contract: Contract::Strict,
    hashers: crate::program::HasherSet::ALL,
};

const NATURAL_CAPABILITIES: Capabilities = Capabilities {
    deterministic: false,
    ..SEEDED_CAPABILITIES
};

const SEEDED_ABOUT: &str = "Go's runtime map, its randomness seeded per program (go@VERSION)";
const NATURAL_ABOUT: &str = "Go's unmodified runtime map, which randomizes by itself";

/// `sync.Map`: cursors are `Range` calls, weakly consistent; no growth state to see.
const SYNC_SEEDED_CAPABILITIES: Capabilities = Capabilities {
    cursors: true,
    growth_controls: false,
    audit: false,
    diagram: true,
    state: false,
    api: false,
    shape: false,
    deterministic: true,
    contract: Contract::Weak(NoRepeat::PerKey),
    hashers: crate::program::HasherSet::ALL,
};

const SYNC_NATURAL_CAPABILITIES: Capabilities = Capabilities {
    deterministic: false,
    ..SYNC_SEEDED_CAPABILITIES
};

const SYNC_SEEDED_ABOUT: &str =
    "Go's sync.Map, its randomness seeded per program (go-sync-map@VERSION)";
const SYNC_NATURAL_ABOUT: &str = "Go's sync.Map on the unmodified runtime";

/// `go`: the seeded driver on the `go` on PATH.
pub(super) const INFO: TargetInfo = TargetInfo {
    name: SEEDED,
    about: SEEDED_ABOUT,
    capabilities: SEEDED_CAPABILITIES,
    create,
    check_available,
};

/// `go-natural`: the unmodified runtime on the `go` on PATH.
pub(super) const NATURAL_INFO: TargetInfo = TargetInfo {
    name: NATURAL,
    about: NATURAL_ABOUT,
    capabilities: NATURAL_CAPABILITIES,
    create,
    check_available,
};

/// `go-sync-map`: the seeded driver's `sync.Map` on the `go` on PATH.
pub(super) const SYNC_INFO: TargetInfo = TargetInfo {
    name: SYNC_SEEDED,
    about: SYNC_SEEDED_ABOUT,
    capabilities: SYNC_SEEDED_CAPABILITIES,
    create,
    check_available,
};

/// `go-sync-map-natural`: `sync.Map` on the unmodified runtime of the `go` on PATH.
pub(super) const SYNC_NATURAL_INFO: TargetInfo = TargetInfo {
    name: SYNC_NATURAL,
    about: SYNC_NATURAL_ABOUT,
    capabilities: SYNC_NATURAL_CAPABILITIES,
    create,
    check_available,
};

/// A Go target name resolved to a toolchain.
#[derive(Debug)]
pub struct Resolved {
    /// The target, named canonically: `go@1.26.11`, `go-natural@1.19.8`.
    pub info: TargetInfo,
    /// The toolchain it builds with.
    pub toolchain: Toolchain,
    /// Seeded or natural.
    pub mode: Mode,
    /// The runtime map or `sync.Map`.
    pub map: MapKind,
}

impl Resolved {
    /// The driver processes of this target.
    pub fn kind(&'static self) -> DriverKind {
        DriverKind {
            name: self.info.name,
            spawn,
        }
    }
}

/// Splits the name of a target on Go's runtime map (`go`, `go-natural`) into its mode and
/// toolchain spec; `None` for other targets, `sync.Map`'s included (see [`parse`]).
pub fn parse_name(name: &str) -> Option<(Mode, Option<&str>)> {
    match parse(name)? {
        (MapKind::Runtime, mode, spec) => Some((mode, spec)),
        (MapKind::Sync, ..) => None,
    }
}

/// Splits any Go target name into its map, mode and toolchain spec; `None` for other targets.
pub fn parse(name: &str) -> Option<(MapKind, Mode, Option<&str>)> {
    let (base, spec) = match name.split_once('@') {
        Some((base, spec)) => (base, Some(spec)),
        None => (name, None),
    };
    match base {
        SEEDED => Some((MapKind::Runtime, Mode::Seeded, spec)),
        NATURAL => Some((MapKind::Runtime, Mode::Natural, spec)),
        SYNC_SEEDED => Some((MapKind::Sync, Mode::Seeded, spec)),
        SYNC_NATURAL => Some((MapKind::Sync, Mode::Natural, spec)),
        _ => None,
    }
}

/// The canonical name of the runtime-map target in `mode` on `toolchain`.
pub fn canonical_name(mode: Mode, toolchain: &Toolchain) -> String {
    canonical_name_of(MapKind::Runtime, mode, toolchain)
}

/// The canonical name of the target on `map` in `mode` on `toolchain`: `go-sync-map@1.27.4`.
pub fn canonical_name_of(map: MapKind, mode: Mode, toolchain: &Toolchain) -> String {
    let base = match (map, mode) {
        (MapKind::Runtime, Mode::Seeded) => SEEDED,
        (MapKind::Runtime, Mode::Natural) => NATURAL,
        (MapKind::Sync, Mode::Seeded) => SYNC_SEEDED,
        (MapKind::Sync, Mode::Natural) => SYNC_NATURAL,
    };
    format!("{base}@{}", toolchain.number())
}

type Entry = (String, Result<&'static Resolved, String>);

/// Every name resolved so far (requested and canonical), with its answer; a process resolves a
/// name once, and the same toolchain and mode always give the same `&'static Resolved`.
static RESOLVED: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

/// Resolves a Go target name; `None` when `name` is no Go target's.
pub fn resolve(name: &str) -> Option<Result<&'static Resolved, String>> {
    let (map, mode, spec) = parse(name)?;
    let mut resolved = RESOLVED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, answer)) = resolved.iter().find(|(n, _)| n == name) {
        return Some(answer.clone());
    }
    let answer = toolchain::resolve(spec).and_then(|toolchain| {
        toolchain.family()?;
        let canonical = canonical_name_of(map, mode, &toolchain);
        let existing = resolved.iter().find_map(|(n, a)| match a {
            Ok(r) if *n == canonical => Some(*r),
            _ => None,
        });
        Ok(existing.unwrap_or_else(|| {
            let (base_info, about) = match (map, mode) {
                (MapKind::Runtime, Mode::Seeded) => (INFO, SEEDED_ABOUT),
                (MapKind::Runtime, Mode::Natural) => (NATURAL_INFO, NATURAL_ABOUT),
                (MapKind::Sync, Mode::Seeded) => (SYNC_INFO, SYNC_SEEDED_ABOUT),
                (MapKind::Sync, Mode::Natural) => (SYNC_NATURAL_INFO, SYNC_NATURAL_ABOUT),
            };
            let r: &'static Resolved = Box::leak(Box::new(Resolved {
                info: TargetInfo {
                    name: Box::leak(canonical.clone().into_boxed_str()),
                    about,
                    ..base_info
                },
                toolchain,
                mode,
                map,
            }));
            resolved.push((canonical, Ok(r)));
            r
        }))
    });
    resolved.push((name.to_string(), answer.clone()));
    Some(answer)
}

/// The target for a Go name: resolved to its toolchain, or, for plain `go` and `go-natural`
/// without a `go` on PATH, the unresolved target, whose [`TargetInfo::check_available`] says
/// what is missing (so `sim targets` and the tests can list it and skip).
pub fn lookup(name: &str) -> Option<Result<&'static TargetInfo, String>> {
    let answer = resolve(name)?;
    Some(match answer {
        Ok(r) => Ok(&r.info),
        Err(e) => super::find(name).ok_or_else(|| format!("target `{name}`: {e}")),
    })
}

fn resolved(name: &str) -> Result<&'static Resolved, TargetError> {
    match resolve(name) {
        Some(answer) => answer.map_err(|e| TargetError(format!("target `{name}`: {e}"))),
        None => Err(TargetError(format!("`{name}` is not a Go target"))),
    }
}

fn create(program: &Program) -> Result<Box<dyn super::Target>, TargetError> {
    resolved(&program.config.target)?.kind().target(program)
}

/// Builds the driver for the target named `name` if needed, and starts it.
pub fn spawn(name: &'static str) -> Result<Driver, TargetError> {
    let r = resolved(name)?;
    let binary = build::build(&r.toolchain, r.mode)?;
    let mut command = Command::new(binary);
    command.arg(match r.map {
        MapKind::Runtime => "-map=runtime",
        MapKind::Sync => "-map=sync",
    });
    // The driver runs one goroutine; a single P keeps the runtime's own threads (GC workers)
    // from competing with the harness for the cores. A user's GOMAXPROCS wins.
    if std::env::var_os("GOMAXPROCS").is_none() {
        command.env("GOMAXPROCS", "1");
    }
    let driver = Driver::spawn(command)?;
    let seeded = r.mode == Mode::Seeded;
    if driver.hello().seeded != seeded {
        return Err(TargetError(format!(
            "the Go driver for {name} says `{}` seeded, but was built {}",
            if driver.hello().seeded {
                "is"
            } else {
                "is not"
            },
            r.mode.name()
        )));
    }
    Ok(driver)
}

/// What the name of a driver kind that runs concurrent programs ends with.
const CONCURRENT_KIND: &str = " --threads";

/// The first Go release whose driver runs concurrent programs (sync.Map's `Clear`).
pub const CONCURRENT_SINCE: u32 = 23;

/// The canonical name of the `sync.Map` target named `name`, and the driver processes that run
/// its concurrent programs (`sim run --threads N`): `None` when `name` is no `sync.Map` target, an error when it cannot
/// resolve or its Go is older than 1.[`CONCURRENT_SINCE`]. They are the natural build of its
/// toolchain, seeded or not: real threads do not replay, and the seeded runtime's random source
/// is meant for one goroutine. GOMAXPROCS is the runtime's own (every core) unless set.
pub fn concurrent_kind(name: &str) -> Option<Result<(&'static str, DriverKind), String>> {
    let (MapKind::Sync, _, _) = parse(name)? else {
        return None;
    };
    Some(resolved(name).map_err(|e| e.0).and_then(|r| {
        let minor = r.toolchain.release().map_or(0, |(_, minor, _)| minor);
        if minor < CONCURRENT_SINCE {
            return Err(format!(
                "{} cannot run concurrent programs: sync.Map has Clear only from Go 1.{CONCURRENT_SINCE} \
                 (this is {}), and a clear made of Range and deletes is no single step",
                r.info.name,
                r.toolchain.number()
            ));
        }
        let kind = DriverKind {
            name: Box::leak(format!("{}{CONCURRENT_KIND}", r.info.name).into_boxed_str()),
            spawn: spawn_concurrent,
        };
        Ok((r.info.name, kind))
    }))
}

fn spawn_concurrent(kind: &'static str) -> Result<Driver, TargetError> {
    let name = kind.strip_suffix(CONCURRENT_KIND).unwrap_or(kind);
    let r = resolved(name)?;
    let binary = build::build(&r.toolchain, Mode::Natural)?;
    let mut command = Command::new(binary);
    command.arg("-map=sync");
    // Whether it runs concurrent programs is checked where they are sent
    // (concurrent::driver::run), as for every driver.
    Driver::spawn(command)
}

/// Builds and starts the driver once, so that a missing or unsupported Go is one clear error.
pub fn check_available(info: &TargetInfo) -> Result<(), TargetError> {
    let r = resolved(info.name)?;
    spawn(r.info.name).map(drop)
}

/// The natural-mode target on the same toolchain and map as the Go target named `name`.
pub fn natural_twin(name: &str) -> Option<&'static TargetInfo> {
    let r = resolve(name)?.ok()?;
    let twin = canonical_name_of(r.map, Mode::Natural, &r.toolchain);
    Some(&resolve(&twin)?.ok()?.info)
}

/// Whether `go` runs at all, with the install hint when it does not.
pub fn check_go() -> Result<Toolchain, TargetError> {
    toolchain::on_path().map_err(TargetError)
}
