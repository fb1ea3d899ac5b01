//! Java's `java.util.concurrent.ConcurrentHashMap<Long, Long>` as the target `java-chm`, in a
//! driver process (`drivers/java/SimDriver.java`) run by the `java` on PATH.
//!
//! The driver is compiled with the `javac` on PATH on first use into
//! `<cargo target dir>/sim-drivers/java-<key>/`, where the key hashes the source, `javac
//! -version` and the compiler flags: a changed driver or JDK gets a directory of its own and a
//! fresh build. Builds are atomic (a temporary directory renamed into place), because test
//! binaries and worker threads may build at the same time.
//!
//! ConcurrentHashMap promises weakly consistent iteration (semantics.md §7, per element: "they
//! are guaranteed to traverse elements as they existed upon construction exactly once, and may
//! (but are not guaranteed to) reflect any modifications subsequent to construction"). Its layout
//! follows from the ops alone (`Long.hashCode`, no random seed), so the target is deterministic;
//! the driver still says `seeded`, because it picks each insert's API path (`put`,
//! `putIfAbsent` or `replace`) from the program's map-seed and the op's index.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::driver::{build_cached, Driver, DriverKind};
use super::go::build::{fnv, target_dir, FNV_START};
use super::{Capabilities, Contract, NoRepeat, Target, TargetError, TargetInfo};
use crate::program::Program;

/// The target's name.
pub const NAME: &str = "java-chm";

/// `drivers/java/SimDriver.java`: the whole driver.
pub const SOURCE: &str = include_str!("../../../drivers/java/SimDriver.java");

/// The driver's source file name (javac wants it to match the public class).
const SOURCE_FILE: &str = "SimDriver.java";

/// The driver's main class.
const MAIN_CLASS: &str = "SimDriver";

/// The flags `javac` compiles with (part of the cache key). `--release 17`: the class files run
/// on any JDK from 17 on, whichever compiled them.
pub const JAVAC_FLAGS: [&str; 3] = ["--release", "17", "-Xlint:all"];

/// The flags `java` runs the driver with. `--add-opens` lets the driver read the map's private
/// `table` to count resizes (without it, it reports no counts and runs as well). The serial
/// collector keeps the JVM's own GC threads from competing with the harness for the cores.
pub const JAVA_FLAGS: [&str; 4] = [
    "--add-opens",
    "java.base/java.util.concurrent=ALL-UNNAMED",
    "-XX:+UseSerialGC",
    "-Xss8m",
];

/// What the driver's `hello` names the map as (the word before the `/` and the version).
const IMPLEMENTATION: &str = "java-concurrent-hash-map/";

const CAPABILITIES: Capabilities = Capabilities {
    cursors: true,
    growth_controls: false,
    audit: false,
    diagram: true,
    state: true,
    api: false,
    shape: false,
    deterministic: true,
    contract: Contract::Weak(NoRepeat::PerElement),
    hashers: crate::program::HasherSet::ALL,
};

/// `java-chm`: ConcurrentHashMap behind the Java driver.
pub(super) const INFO: TargetInfo = TargetInfo {
    name: NAME,
    about: "Java's ConcurrentHashMap<Long, Long>: weakly consistent cursors",
    capabilities: CAPABILITIES,
    create,
    check_available,
};

/// The driver processes of the target.
pub const KIND: DriverKind = DriverKind { name: NAME, spawn };

fn create(program: &Program) -> Result<Box<dyn Target>, TargetError> {
    KIND.target(program)
}

/// Compiles (if needed) and starts the driver once, so that a missing JDK is one clear error.
pub fn check_available(_: &TargetInfo) -> Result<(), TargetError> {
    spawn(NAME).map(drop)
}

/// Runs `tool -version` and returns what it printed (javac 17 prints to stdout, older ones to
/// stderr), or why it cannot be run.
fn version_of(tool: &str) -> Result<String, TargetError> {
    let output = Command::new(tool).arg("-version").output().map_err(|e| {
        TargetError(format!(
            "target {NAME} needs a JDK (17 or later): `{tool}` cannot be run ({e}); install one \
             (Debian: apt-get install openjdk-17-jdk-headless) and put `{tool}` on PATH"
        ))
    })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = text.trim().to_string();
    if !output.status.success() || text.is_empty() {
        return Err(TargetError(format!(
            "target {NAME}: `{tool} -version` failed ({}): {text}",
            output.status
        )));
    }
    Ok(text)
}

/// The build key: the source, the compiler's version and the flags, each length-prefixed so that
/// no two different builds hash the same bytes.
pub fn build_key(source: &str, javac_version: &str) -> u64 {
    let mut key = FNV_START;
    let mut part = |bytes: &[u8]| {
        key = fnv(key, &(bytes.len() as u64).to_le_bytes());
        key = fnv(key, bytes);
    };
    part(javac_version.as_bytes());
    for flag in JAVAC_FLAGS {
        part(flag.as_bytes());
    }
    part(SOURCE_FILE.as_bytes());
    part(source.as_bytes());
    key
}

/// The directory the build of `source` with the `javac` on PATH lives in.
pub fn driver_dir_for(source: &str) -> Result<PathBuf, TargetError> {
    let version = version_of("javac")?;
    Ok(dir_of(build_key(source, &version)))
}

fn dir_of(key: u64) -> PathBuf {
    target_dir()
        .join("sim-drivers")
        .join(format!("java-{key:016x}"))
}

/// The directory holding the compiled driver `source`, compiling it if it is not in the cache
/// (concurrent builders race harmlessly: each compiles in a directory of its own and the first
/// rename wins).
pub fn build(source: &str) -> Result<PathBuf, TargetError> {
    let version = version_of("javac")?;
    let dir = dir_of(build_key(source, &version));
    let class = dir.join(format!("{MAIN_CLASS}.class"));
    build_cached(&dir, &class, "Java driver", |tmp| {
        compile_in(source, &version, tmp)
    })?;
    Ok(dir)
}

fn compile_in(source: &str, version: &str, tmp: &Path) -> Result<(), TargetError> {
    let io = |what: &Path, e: std::io::Error| {
        TargetError(format!(
            "cannot write {} for the Java driver: {e}",
            what.display()
        ))
    };
    let src = tmp.join("src");
    std::fs::create_dir_all(&src).map_err(|e| io(&src, e))?;
    let file = src.join(SOURCE_FILE);
    std::fs::write(&file, source).map_err(|e| io(&file, e))?;
    let output = Command::new("javac")
        .args(JAVAC_FLAGS)
        .arg("-d")
        .arg(tmp)
        .arg(&file)
        .output()
        .map_err(|e| TargetError(format!("cannot run `javac`: {e}")))?;
    if !output.status.success() {
        return Err(TargetError(format!(
            "`javac` ({version}) of the Java driver failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    // The sources were only the compiler's input; the cache holds the classes.
    let _ = std::fs::remove_dir_all(&src);
    Ok(())
}

/// Starts the driver compiled into `dir` and checks its `hello`.
pub fn spawn_from(dir: &Path) -> Result<Driver, TargetError> {
    version_of("java")?;
    let mut command = Command::new("java");
    command.args(JAVA_FLAGS).arg("-cp").arg(dir).arg(MAIN_CLASS);
    let driver = Driver::spawn(command)?;
    let hello = driver.hello();
    if !hello.implementation.starts_with(IMPLEMENTATION) || !hello.seeded {
        return Err(TargetError(format!(
            "the Java driver in {} introduced itself as `{}`{}, not as a seeded `{IMPLEMENTATION}...`",
            dir.display(),
            hello.implementation,
            if hello.seeded { " (seeded)" } else { "" }
        )));
    }
    Ok(driver)
}

/// Compiles the driver if needed and starts it.
pub fn spawn(_name: &'static str) -> Result<Driver, TargetError> {
    spawn_from(&build(SOURCE)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_key_covers_the_source_and_the_compiler() {
        let key = build_key("class A {}", "javac 17.0.15");
        assert_eq!(key, build_key("class A {}", "javac 17.0.15"));
        assert_ne!(key, build_key("class A { }", "javac 17.0.15"));
        assert_ne!(key, build_key("class A {}", "javac 21.0.1"));
    }
}
