//! Building the Go driver: its source files for a mode, the overlay of a seeded build, and a
//! cache directory per build identity.
//!
//! A build lives in `<cargo target dir>/sim-drivers/go<version>-<mode>-<key>/`, where the key
//! hashes everything the binary depends on: the driver's sources, the overlay's files, the
//! toolchain's version and GOROOT, and the build flags. Changing Go, the driver or the mode
//! gets a directory of its own and a fresh build. Builds are atomic (a temporary directory
//! renamed into place), because test binaries and worker threads may build at the same time.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::overlay;
use super::toolchain::{clean_go_command, Family, Toolchain};
use crate::target::driver::build_cached;
use crate::target::TargetError;

/// `drivers/go/main.go`: the protocol and the run loop.
pub const MAIN: &str = include_str!("../../../../drivers/go/main.go");
/// `drivers/go/natural.go`: the unmodified runtime's mode.
pub const NATURAL: &str = include_str!("../../../../drivers/go/natural.go");
/// `drivers/go/observe_classic.go`: the classic map's observer.
pub const OBSERVE_CLASSIC: &str = include_str!("../../../../drivers/go/observe_classic.go");
/// `drivers/go/observe_swiss.go`: the swiss map's observer.
pub const OBSERVE_SWISS: &str = include_str!("../../../../drivers/go/observe_swiss.go");
/// `drivers/go/seeded_classic.go`: the seeded mode, Go 1.23 and earlier.
pub const SEEDED_CLASSIC: &str = include_str!("../../../../drivers/go/seeded_classic.go");
/// `drivers/go/seeded_swiss.go`: the seeded mode, Go 1.24 and later.
pub const SEEDED_SWISS: &str = include_str!("../../../../drivers/go/seeded_swiss.go");
/// `drivers/go/sync.go`: the sync.Map mode (`-map=sync`), every release.
pub const SYNC: &str = include_str!("../../../../drivers/go/sync.go");
/// `drivers/go/sync_go119.go`: sync.Map's methods on Go 1.19 (no Swap or Compare*).
pub const SYNC_GO119: &str = include_str!("../../../../drivers/go/sync_go119.go");
/// `drivers/go/sync_go120.go`: sync.Map's methods on Go 1.20 and later.
pub const SYNC_GO120: &str = include_str!("../../../../drivers/go/sync_go120.go");
/// `drivers/go/sync_go122.go`: clear and cursors before Go 1.23 (no Clear, no iter.Pull2).
pub const SYNC_GO122: &str = include_str!("../../../../drivers/go/sync_go122.go");
/// `drivers/go/sync_go123.go`: clear and cursors on Go 1.23 and later.
pub const SYNC_GO123: &str = include_str!("../../../../drivers/go/sync_go123.go");
/// `drivers/go/sync_concurrent.go`: concurrent programs on sync.Map (Go 1.23 and later).
pub const SYNC_CONCURRENT: &str = include_str!("../../../../drivers/go/sync_concurrent.go");
/// `drivers/go/sync_concurrent_none.go`: no concurrent programs (before Go 1.23).
pub const SYNC_CONCURRENT_NONE: &str =
    include_str!("../../../../drivers/go/sync_concurrent_none.go");

/// The name of the built driver binary inside its directory.
const BINARY: &str = "sim-go-driver";

/// The flags every build uses (part of the cache key).
const BUILD_FLAGS: [&str; 1] = ["-trimpath"];

/// How the driver meets Go's randomness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// The runtime's map randomness drawn from each program's seed: deterministic.
    Seeded,
    /// The unmodified runtime, which draws its own.
    Natural,
}

impl Mode {
    /// The mode's name in build directories and reports.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Seeded => "seeded",
            Mode::Natural => "natural",
        }
    }
}

/// The driver's source files for `mode` on `family`, by file name: the protocol, the mode's and
/// the observer's files, then the sync.Map mode's files for Go 1.`minor` (one binary serves
/// both of the driver's maps, `-map=runtime` and `-map=sync`). The Go files carry build tags
/// that say the same, but `go build` of files named one by one ignores build tags, so the list
/// is chosen here.
pub fn sources(mode: Mode, family: Family, minor: u32) -> Vec<(&'static str, &'static str)> {
    let mut files = match (mode, family) {
        (Mode::Natural, _) => vec![
            ("main.go", MAIN),
            ("natural.go", NATURAL),
            ("observe_classic.go", OBSERVE_CLASSIC),
        ],
        (Mode::Seeded, Family::Classic) => vec![
            ("main.go", MAIN),
            ("seeded_classic.go", SEEDED_CLASSIC),
            ("observe_classic.go", OBSERVE_CLASSIC),
        ],
        (Mode::Seeded, Family::Swiss) => vec![
            ("main.go", MAIN),
            ("seeded_swiss.go", SEEDED_SWISS),
            ("observe_swiss.go", OBSERVE_SWISS),
        ],
    };
    files.push(("sync.go", SYNC));
    files.push(if minor >= 20 {
        ("sync_go120.go", SYNC_GO120)
    } else {
        ("sync_go119.go", SYNC_GO119)
    });
    if minor >= 23 {
        files.push(("sync_go123.go", SYNC_GO123));
        files.push(("sync_concurrent.go", SYNC_CONCURRENT));
    } else {
        files.push(("sync_go122.go", SYNC_GO122));
        files.push(("sync_concurrent_none.go", SYNC_CONCURRENT_NONE));
    }
    files
}

/// FNV-1a, 64 bits: a stable hash (std's hashers may change between releases).
pub fn fnv(h: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(h, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// FNV-1a's offset basis.
pub const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// The cargo target directory: `CARGO_TARGET_DIR` when set at run time, else the workspace's
/// `target/` as known when sim was compiled.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("target"),
    }
}

/// Everything one build is made of.
struct Plan {
    sources: Vec<(&'static str, &'static str)>,
    overlay: Vec<overlay::OverlayFile>,
    key: u64,
}

fn plan(toolchain: &Toolchain, mode: Mode) -> Result<Plan, TargetError> {
    let family = toolchain.family().map_err(TargetError)?;
    let (_, minor, _) = toolchain
        .release()
        .ok_or_else(|| TargetError(format!("cannot read the release of {}", toolchain.version)))?;
    let sources = sources(mode, family, minor);
    let overlay = match mode {
        Mode::Seeded => overlay::plan(toolchain).map_err(TargetError)?,
        Mode::Natural => Vec::new(),
    };
    // Each part is length-prefixed, so no two different plans hash the same bytes.
    let mut key = FNV_START;
    let mut part = |bytes: &[u8]| {
        key = fnv(key, &(bytes.len() as u64).to_le_bytes());
        key = fnv(key, bytes);
    };
    part(mode.name().as_bytes());
    part(toolchain.version.as_bytes());
    part(toolchain.goroot.to_string_lossy().as_bytes());
    for flag in BUILD_FLAGS {
        part(flag.as_bytes());
    }
    for (name, text) in &sources {
        part(name.as_bytes());
        part(text.as_bytes());
    }
    for f in &overlay {
        part(f.path.to_string_lossy().as_bytes());
        part(f.text.as_bytes());
    }
    Ok(Plan {
        sources,
        overlay,
        key,
    })
}

/// The directory a build of the driver for `toolchain` in `mode` lives in.
pub fn driver_dir(toolchain: &Toolchain, mode: Mode) -> Result<PathBuf, TargetError> {
    let plan = plan(toolchain, mode)?;
    Ok(dir_of(toolchain, mode, plan.key))
}

fn dir_of(toolchain: &Toolchain, mode: Mode, key: u64) -> PathBuf {
    target_dir().join("sim-drivers").join(format!(
        "{}-{}-{key:016x}",
        toolchain.version,
        mode.name()
    ))
}

/// The built driver for `toolchain` in `mode`, building it if it is not in the cache
/// (concurrent processes race harmlessly: each builds in a directory of its own and the first
/// rename wins).
pub fn build(toolchain: &Toolchain, mode: Mode) -> Result<PathBuf, TargetError> {
    let plan = plan(toolchain, mode)?;
    let dir = dir_of(toolchain, mode, plan.key);
    let binary = dir.join(BINARY);
    build_cached(&dir, &binary, "Go driver", |tmp| {
        build_in(toolchain, &plan, tmp)
    })?;
    Ok(binary)
}

fn build_in(toolchain: &Toolchain, plan: &Plan, tmp: &Path) -> Result<(), TargetError> {
    let io = |what: &Path, e: std::io::Error| {
        TargetError(format!(
            "cannot write {} for the Go driver: {e}",
            what.display()
        ))
    };
    let src = tmp.join("src");
    std::fs::create_dir_all(&src).map_err(|e| io(&src, e))?;
    for (name, text) in &plan.sources {
        let path = src.join(name);
        std::fs::write(&path, text).map_err(|e| io(&path, e))?;
    }
    let mut command = clean_go_command(&toolchain.go);
    command.arg("build").args(BUILD_FLAGS);
    if !plan.overlay.is_empty() {
        let dir = tmp.join("overlay");
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let mut entries = Vec::new();
        for (i, f) in plan.overlay.iter().enumerate() {
            let name = f.path.file_name().map_or_else(
                || format!("{i}.go"),
                |n| format!("{i}-{}", n.to_string_lossy()),
            );
            let disk = dir.join(name);
            std::fs::write(&disk, &f.text).map_err(|e| io(&disk, e))?;
            entries.push((f.path.clone(), disk));
        }
        let json = tmp.join("overlay.json");
        std::fs::write(&json, overlay::overlay_json(&entries)).map_err(|e| io(&json, e))?;
        command.arg(format!("-overlay={}", json.display()));
    }
    command
        .arg("-o")
        .arg(tmp.join(BINARY))
        .args(plan.sources.iter().map(|(name, _)| *name))
        .current_dir(&src);
    set_cache(&mut command);
    let output = command.output().map_err(|e| {
        TargetError(format!(
            "cannot run `{} build`: {e}",
            toolchain.go.display()
        ))
    })?;
    if !output.status.success() {
        return Err(TargetError(format!(
            "`go build` of the Go driver with {} ({}) failed ({}):\n{}",
            toolchain.version,
            toolchain.go.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(())
}

/// `go` needs a build cache; without HOME (some CI sandboxes) it has none.
pub fn set_cache(command: &mut Command) {
    if std::env::var_os("GOCACHE").is_none()
        && std::env::var_os("XDG_CACHE_HOME").is_none()
        && std::env::var_os("HOME").is_none()
    {
        command.env("GOCACHE", target_dir().join("sim-drivers").join("go-cache"));
    }
}
