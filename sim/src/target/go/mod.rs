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

pub mod build;
pub mod overlay;
pub mod toolchain;

use std::process::Command;
use std::sync::Mutex;

use self::build::Mode;
use self::toolchain::Toolchain;
use super::driver::{Driver, DriverKind};
use super::{Capabilities, Contract, TargetError, TargetInfo};
use crate::program::Program;

/// The base name of the seeded target.
pub const SEEDED: &str = "go";
/// The base name of the natural target.
pub const NATURAL: &str = "go-natural";

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
};

const NATURAL_CAPABILITIES: Capabilities = Capabilities {
    deterministic: false,
    ..SEEDED_CAPABILITIES
};

const SEEDED_ABOUT: &str = "Go's runtime map, its randomness seeded per program (go@VERSION)";
const NATURAL_ABOUT: &str = "Go's unmodified runtime map, which randomizes by itself";

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

/// A Go target name resolved to a toolchain.
#[derive(Debug)]
pub struct Resolved {
    /// The target, named canonically: `go@1.26.11`, `go-natural@1.19.8`.
    pub info: TargetInfo,
    /// The toolchain it builds with.
    pub toolchain: Toolchain,
    /// Seeded or natural.
    pub mode: Mode,
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

/// Splits a Go target name into its mode and toolchain spec; `None` for other targets.
pub fn parse_name(name: &str) -> Option<(Mode, Option<&str>)> {
    let (base, spec) = match name.split_once('@') {
        Some((base, spec)) => (base, Some(spec)),
        None => (name, None),
    };
    match base {
        SEEDED => Some((Mode::Seeded, spec)),
        NATURAL => Some((Mode::Natural, spec)),
        _ => None,
    }
}

/// The canonical name of the target in `mode` on `toolchain`.
pub fn canonical_name(mode: Mode, toolchain: &Toolchain) -> String {
    let base = match mode {
        Mode::Seeded => SEEDED,
        Mode::Natural => NATURAL,
    };
    format!("{base}@{}", toolchain.number())
}

type Entry = (String, Result<&'static Resolved, String>);

/// Every name resolved so far (requested and canonical), with its answer; a process resolves a
/// name once, and the same toolchain and mode always give the same `&'static Resolved`.
static RESOLVED: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

/// Resolves a Go target name; `None` when `name` is no Go target's.
pub fn resolve(name: &str) -> Option<Result<&'static Resolved, String>> {
    let (mode, spec) = parse_name(name)?;
    let mut resolved = RESOLVED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, answer)) = resolved.iter().find(|(n, _)| n == name) {
        return Some(answer.clone());
    }
    let answer = toolchain::resolve(spec).and_then(|toolchain| {
        toolchain.family()?;
        let canonical = canonical_name(mode, &toolchain);
        let existing = resolved.iter().find_map(|(n, a)| match a {
            Ok(r) if *n == canonical => Some(*r),
            _ => None,
        });
        Ok(existing.unwrap_or_else(|| {
            let (base_info, about) = match mode {
                Mode::Seeded => (INFO, SEEDED_ABOUT),
                Mode::Natural => (NATURAL_INFO, NATURAL_ABOUT),
            };
            let r: &'static Resolved = Box::leak(Box::new(Resolved {
                info: TargetInfo {
                    name: Box::leak(canonical.clone().into_boxed_str()),
                    about,
                    ..base_info
                },
                toolchain,
                mode,
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

/// Builds and starts the driver once, so that a missing or unsupported Go is one clear error.
pub fn check_available(info: &TargetInfo) -> Result<(), TargetError> {
    let r = resolved(info.name)?;
    spawn(r.info.name).map(drop)
}

/// The natural-mode target on the same toolchain as the Go target named `name`.
pub fn natural_twin(name: &str) -> Option<&'static TargetInfo> {
    let r = resolve(name)?.ok()?;
    let twin = canonical_name(Mode::Natural, &r.toolchain);
    Some(&resolve(&twin)?.ok()?.info)
}

/// Whether `go` runs at all, with the install hint when it does not.
pub fn check_go() -> Result<Toolchain, TargetError> {
    toolchain::on_path().map_err(TargetError)
}
