//! The Go toolchains sim can build the driver with: the `go` on PATH and every
//! `/usr/lib/go-*/bin/go` (Debian's side-by-side packages), each identified by its own
//! `go env GOVERSION GOROOT`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Where Debian installs its side-by-side Go packages (`golang-1.NN-go`).
const SIDE_BY_SIDE: &str = "/usr/lib";

/// One Go toolchain: its `go` binary and what that binary says it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toolchain {
    /// The `go` binary.
    pub go: PathBuf,
    /// Its `GOVERSION`, such as `go1.19.8`.
    pub version: String,
    /// Its `GOROOT`: the runtime sources a seeded build overlays.
    pub goroot: PathBuf,
}

/// The two implementations of Go's map that the driver knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `runtime/map.go`: buckets, overflow chains, incremental evacuation (Go 1.23 and earlier).
    Classic,
    /// `internal/runtime/maps`: swiss tables, a directory of tables (Go 1.24 and later).
    Swiss,
}

impl Toolchain {
    /// Asks the `go` binary at `go` what it is. Its GOROOT is its own: a user's GOROOT,
    /// GOTOOLCHAIN or GOFLAGS are kept out, so the answer is the binary's.
    pub fn probe(go: &Path) -> Result<Toolchain, String> {
        let output = clean_go_command(go)
            .args(["env", "GOVERSION", "GOROOT"])
            .output()
            .map_err(|e| format!("cannot run `{} env`: {e}", go.display()))?;
        if !output.status.success() {
            return Err(format!(
                "`{} env GOVERSION GOROOT` failed ({}): {}",
                go.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let mut lines = text.lines();
        match (lines.next(), lines.next()) {
            (Some(version), Some(goroot)) if version.starts_with("go") && !goroot.is_empty() => {
                Ok(Toolchain {
                    go: go.to_path_buf(),
                    version: version.trim().to_string(),
                    goroot: PathBuf::from(goroot.trim()),
                })
            }
            _ => Err(format!(
                "`{} env GOVERSION GOROOT` printed `{}`, not a version and a GOROOT",
                go.display(),
                text.trim()
            )),
        }
    }

    /// The version without `go`: `1.19.8`.
    pub fn number(&self) -> &str {
        self.version.trim_start_matches("go")
    }

    /// (major, minor, patch) of a release version; a pre-release (`go1.24rc1`) has patch 0.
    pub fn release(&self) -> Option<(u32, u32, u32)> {
        parse_release(self.number())
    }

    /// Which map implementation this toolchain's runtime has, or why the driver cannot run on
    /// it.
    pub fn family(&self) -> Result<Family, String> {
        match self.release() {
            Some((1, minor, _)) if (19..=23).contains(&minor) => Ok(Family::Classic),
            Some((1, minor, _)) if minor >= 24 => Ok(Family::Swiss),
            _ => Err(format!(
                "Go {} at {} is not supported: the driver needs Go 1.19 or later",
                self.version,
                self.go.display()
            )),
        }
    }

    /// Whether `spec` names this toolchain: `1.26` matches every 1.26.x, `1.26.11` only itself.
    pub fn matches(&self, spec: &str) -> bool {
        let number = self.number();
        number == spec
            || (number.len() > spec.len()
                && number.starts_with(spec)
                && !number.as_bytes()[spec.len()].is_ascii_digit())
    }
}

/// A `go` command with the environment that would make it another toolchain, or build another
/// way, removed.
pub fn clean_go_command(go: &Path) -> Command {
    let mut command = Command::new(go);
    command
        .env_remove("GOROOT")
        .env_remove("GOEXPERIMENT")
        .env("GOFLAGS", "")
        .env("GOTOOLCHAIN", "local")
        .env("GO111MODULE", "on");
    command
}

fn parse_release(number: &str) -> Option<(u32, u32, u32)> {
    let mut parts = number.splitn(3, '.');
    let major = parts.next()?.parse().ok()?;
    let minor_text = parts.next()?;
    let digits = minor_text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(minor_text.len());
    let minor = minor_text[..digits].parse().ok()?;
    let patch = match parts.next() {
        Some(p) => p.parse().ok()?,
        None => 0,
    };
    Some((major, minor, patch))
}

/// The `go` on PATH, if there is one.
pub fn on_path() -> Result<Toolchain, String> {
    static ON_PATH: OnceLock<Result<Toolchain, String>> = OnceLock::new();
    ON_PATH
        .get_or_init(|| {
            let path = std::env::var_os("PATH").unwrap_or_default();
            std::env::split_paths(&path)
                .map(|dir| dir.join("go"))
                .find(|go| go.is_file())
                .ok_or_else(|| {
                    "there is no `go` on PATH; install Go (apt-get install golang-go, or \
                     golang-1.NN-go for one release), or name an installed toolchain with \
                     `--target go@1.NN` (`sim targets` lists them)"
                        .to_string()
                })
                .and_then(|go| Toolchain::probe(&go))
        })
        .clone()
}

/// Every toolchain found: the one on PATH and Debian's `/usr/lib/go-*`, one per GOROOT, oldest
/// release first.
pub fn installed() -> &'static [Toolchain] {
    static INSTALLED: OnceLock<Vec<Toolchain>> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let mut found: Vec<Toolchain> = on_path().into_iter().collect();
        let mut side_by_side: Vec<PathBuf> = std::fs::read_dir(SIDE_BY_SIDE)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("go-"))
            .map(|e| e.path().join("bin").join("go"))
            .filter(|go| go.is_file())
            .collect();
        side_by_side.sort();
        for go in side_by_side {
            if let Ok(t) = Toolchain::probe(&go) {
                if !found.iter().any(|f| same_root(f, &t)) {
                    found.push(t);
                }
            }
        }
        found.sort_by_key(|t| t.release());
        found
    })
}

fn same_root(a: &Toolchain, b: &Toolchain) -> bool {
    a.version == b.version
        && (a.goroot == b.goroot
            || std::fs::canonicalize(&a.goroot).ok() == std::fs::canonicalize(&b.goroot).ok())
}

/// The toolchain `spec` names: `None` for the `go` on PATH, a path to a `go` binary, or a
/// version (`1.26` for the newest installed 1.26.x, `1.26.11` for exactly that one).
pub fn resolve(spec: Option<&str>) -> Result<Toolchain, String> {
    let Some(spec) = spec else {
        return on_path();
    };
    if spec.contains('/') {
        return Toolchain::probe(Path::new(spec));
    }
    if parse_release(spec).is_none() {
        return Err(format!(
            "`{spec}` is neither a Go version (such as 1.26 or 1.26.11) nor a path to a `go` binary"
        ));
    }
    installed()
        .iter()
        .rev()
        .find(|t| t.matches(spec))
        .cloned()
        .ok_or_else(|| {
            let list: Vec<String> = installed()
                .iter()
                .map(|t| format!("{} ({})", t.version, t.go.display()))
                .collect();
            let have = if list.is_empty() {
                "none".to_string()
            } else {
                list.join(", ")
            };
            format!(
                "Go {spec} is not installed (installed: {have}); install it (Debian: \
                 golang-{}-go), or run on another with --target go@VERSION",
                spec.splitn(3, '.').take(2).collect::<Vec<_>>().join(".")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toolchain(version: &str) -> Toolchain {
        Toolchain {
            go: PathBuf::from("/x/bin/go"),
            version: version.to_string(),
            goroot: PathBuf::from("/x"),
        }
    }

    #[test]
    fn versions_name_their_family_and_match_specs_by_whole_components() {
        assert_eq!(toolchain("go1.19.8").family(), Ok(Family::Classic));
        assert_eq!(toolchain("go1.23.5").family(), Ok(Family::Classic));
        assert_eq!(toolchain("go1.24rc1").family(), Ok(Family::Swiss));
        assert_eq!(toolchain("go1.27.4").family(), Ok(Family::Swiss));
        assert!(toolchain("go1.18.10").family().is_err());
        let t = toolchain("go1.26.11");
        assert!(t.matches("1.26") && t.matches("1.26.11"));
        assert!(!t.matches("1.2") && !t.matches("1.26.1") && !t.matches("1.27"));
        assert_eq!(t.release(), Some((1, 26, 11)));
    }

    #[test]
    fn a_spec_that_is_no_version_is_refused_with_what_was_expected() {
        let e = resolve(Some("latest")).unwrap_err();
        assert!(e.contains("neither a Go version"), "{e}");
    }
}
