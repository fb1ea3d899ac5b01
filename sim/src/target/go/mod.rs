//! Go's own runtime map as a target: `map[uint64]uint64` in a driver process (`drivers/go`).
//!
//! The driver's source is embedded in sim, written out and built with the `go` on PATH on first
//! use, into `<cargo target dir>/sim-drivers/go-<hash of the source>/`, so a changed source gets
//! a new directory and a fresh build. Builds are atomic (a temporary directory renamed into
//! place), because test binaries and worker threads may build at the same time.
//!
//! Go draws its hash seed and each iterator's start position at random, per map, and nothing
//! outside the runtime can fix them: the target is not deterministic, and a failure on it is
//! reported with how often it reproduced (semantics.md §6).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::driver::{Driver, DriverKind};
use super::{Capabilities, TargetError, TargetInfo};

/// The driver's source, `drivers/go/main.go`.
pub const SOURCE: &str = include_str!("../../../drivers/go/main.go");

/// The name of the built driver binary inside its directory.
const BINARY: &str = "sim-go-driver";

pub(super) const INFO: TargetInfo = TargetInfo {
    name: "go",
    about: "Go's runtime map (map[uint64]uint64) in a driver process; needs `go` on PATH",
    capabilities: Capabilities {
        cursors: true,
        growth_controls: false,
        audit: false,
        diagram: true,
        state: true,
        api: false,
        shape: false,
        deterministic: false,
    },
    create: |program| KIND.target(program),
    check_available,
};

/// The Go driver: one process per harness thread.
pub const KIND: DriverKind = DriverKind { name: "go", spawn };

/// Builds the driver if needed and starts it.
pub fn spawn() -> Result<Driver, TargetError> {
    let binary = driver_binary()?;
    let mut command = Command::new(binary);
    // The driver runs one goroutine; a single P keeps the runtime's own threads (GC workers)
    // from competing with the harness for the cores. A user's GOMAXPROCS wins.
    if std::env::var_os("GOMAXPROCS").is_none() {
        command.env("GOMAXPROCS", "1");
    }
    Driver::spawn(command)
}

/// Builds and starts the driver once, so that a missing `go` is one clear error.
pub fn check_available() -> Result<(), TargetError> {
    let driver = spawn()?;
    let _ = driver.hello();
    Ok(())
}

/// FNV-1a, 64 bits: a stable hash of the source (std's hashers may change between releases).
fn source_hash(source: &str) -> u64 {
    source.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The cargo target directory: `CARGO_TARGET_DIR` when set at run time, else the workspace's
/// `target/` as known when sim was compiled.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("target"),
    }
}

/// The directory of the driver built from the embedded source.
pub fn driver_dir() -> PathBuf {
    target_dir()
        .join("sim-drivers")
        .join(format!("go-{:016x}", source_hash(SOURCE)))
}

/// The built driver, building it on first use (once per process; concurrent processes race
/// harmlessly, since each builds in a directory of its own and the first rename wins).
pub fn driver_binary() -> Result<PathBuf, TargetError> {
    static BUILT: OnceLock<Result<PathBuf, TargetError>> = OnceLock::new();
    BUILT.get_or_init(build).clone()
}

fn build() -> Result<PathBuf, TargetError> {
    let dir = driver_dir();
    let binary = dir.join(BINARY);
    if binary.is_file() {
        return Ok(binary);
    }
    check_go()?;
    let parent = dir.parent().expect("the driver directory has a parent");
    std::fs::create_dir_all(parent).map_err(|e| {
        TargetError(format!(
            "cannot create {} for the Go driver: {e}",
            parent.display()
        ))
    })?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = parent.join(format!(
        ".{}.tmp-{}-{nanos}",
        dir.file_name()
            .expect("the driver directory has a name")
            .to_string_lossy(),
        std::process::id()
    ));
    let result = build_in(&tmp);
    let outcome = result.and_then(|()| match std::fs::rename(&tmp, &dir) {
        Ok(()) => Ok(()),
        // Another process finished first: its build is of the same source.
        Err(_) if binary.is_file() => Ok(()),
        Err(e) => Err(TargetError(format!(
            "cannot move the built Go driver to {}: {e}",
            dir.display()
        ))),
    });
    let _ = std::fs::remove_dir_all(&tmp);
    outcome.map(|()| binary)
}

fn build_in(tmp: &Path) -> Result<(), TargetError> {
    let io = |e: std::io::Error| {
        TargetError(format!(
            "cannot write the Go driver's source to {}: {e}",
            tmp.display()
        ))
    };
    std::fs::create_dir_all(tmp).map_err(io)?;
    std::fs::write(tmp.join("main.go"), SOURCE).map_err(io)?;
    let mut command = Command::new("go");
    command
        .args(["build", "-trimpath", "-o", BINARY, "main.go"])
        .current_dir(tmp)
        // A file list builds without a module; keep a user's GOFLAGS (e.g. -mod) out of it.
        .env("GOFLAGS", "")
        .env("GO111MODULE", "on");
    // `go` needs a build cache; without HOME (some CI sandboxes) it has none.
    if std::env::var_os("GOCACHE").is_none()
        && std::env::var_os("XDG_CACHE_HOME").is_none()
        && std::env::var_os("HOME").is_none()
    {
        command.env("GOCACHE", target_dir().join("sim-drivers").join("go-cache"));
    }
    let output = command
        .output()
        .map_err(|e| TargetError(format!("cannot run `go build`: {e}")))?;
    if !output.status.success() {
        return Err(TargetError(format!(
            "`go build` of the Go driver failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(())
}

/// Whether `go` runs at all, with the install hint when it does not.
pub fn check_go() -> Result<(), TargetError> {
    match Command::new("go").arg("version").output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(TargetError(format!(
            "target `go` needs the Go toolchain, but `go version` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))),
        Err(e) => Err(TargetError(format!(
            "target `go` needs the Go toolchain on PATH, and `go` cannot be run ({e}); \
             install Go: apt-get install golang-go"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_hash_is_stable_and_names_the_build_directory() {
        // FNV-1a's published test vectors.
        assert_eq!(source_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(source_hash("a"), 0xaf63_dc4c_8601_ec8c);
        let name = driver_dir()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert_eq!(name, format!("go-{:016x}", source_hash(SOURCE)));
    }
}
