//! The regression corpus: every program that ever found a bug, as a trace file in
//! `tests/regressions/`, replayed by `cargo test`.
//!
//! To add one, copy the trace `sim run` saved (`sim-failures/seed-N.trace`, already shrunk), a
//! trace a fuzz crash was imported to, or a proptest failure's printed trace into that directory
//! with a name that says what it shows. A trace with a `fault` line records a fault the harness
//! must keep detecting; one with `fault none` records a program the map must keep passing.
//!
//! A line `# expect: <check>` (a comment to the trace parser) names the check a fault trace must
//! fail, as `sim` prints it after `check:` (e.g. `# expect: duplicate yield (rule 1)`).
//!
//! A trace on another target (`target go`) with an `# expect:` line is a *finding* on that map:
//! a bug of the map, not of map-core, that must keep failing there (in at least one of
//! [`FINDING_TRIES`] runs, on a target that randomizes by itself). A finding pins the versions
//! it is known on: `# fails-on: go@1.25 go@1.26` names more targets it must keep failing on, and
//! `# passes-on: go@1.21` the targets where it is fixed (or the code it lives in is gone), which
//! must run it clean; a target not installed here is skipped with a message saying so.

use std::fs;
use std::path::{Path, PathBuf};

use sim::program::Program;
use sim::trace;

/// The comment naming the check a fault trace fails.
pub const EXPECT_PREFIX: &str = "# expect:";

/// The comment naming more targets a finding must fail on.
pub const FAILS_ON_PREFIX: &str = "# fails-on:";

/// The comment naming the targets a finding must pass on.
pub const PASSES_ON_PREFIX: &str = "# passes-on:";

/// Runs a finding on a nondeterministic target gets before it counts as no longer failing: the
/// rarest finding of the corpus fails in about 1 run of 17, so 500 runs miss it with a
/// probability below 10^-12.
pub const FINDING_TRIES: usize = 500;

/// One trace of the corpus.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The file.
    pub path: PathBuf,
    /// Its program.
    pub program: Program,
    /// The check it must fail (from `# expect:`), if the file names one.
    pub expect: Option<String>,
    /// Targets besides its own that it must fail on (from `# fails-on:`).
    pub fails_on: Vec<String>,
    /// Targets it must run clean on (from `# passes-on:`).
    pub passes_on: Vec<String>,
}

impl Entry {
    /// The file name, for messages.
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    }

    /// Whether this is a finding on a target other than map-core: it names a check to fail and
    /// injects no fault.
    pub fn is_finding(&self) -> bool {
        self.program.config.target != sim::target::DEFAULT_TARGET
            && self.program.config.fault.is_none()
            && self.expect.is_some()
    }

    /// The program with its fault (if any) removed: what the healthy map must pass.
    pub fn healthy(&self) -> Program {
        let mut program = self.program.clone();
        program.config.fault = None;
        program
    }
}

/// `tests/regressions/`.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions")
}

/// Every `*.trace` file of `dir`, parsed, in file-name order. A file that cannot be read or
/// parsed is an error naming it (and, for a parse error, its line).
pub fn load(dir: &Path) -> Result<Vec<Entry>, String> {
    let listing = fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut paths = Vec::new();
    for entry in listing {
        let path = entry
            .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
            .path();
        if path.extension().is_some_and(|ext| ext == "trace") {
            paths.push(path);
        }
    }
    paths.sort();
    paths.into_iter().map(|path| load_one(&path)).collect()
}

/// One trace file.
pub fn load_one(path: &Path) -> Result<Entry, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let program = trace::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let expect = text
        .lines()
        .find_map(|line| line.trim().strip_prefix(EXPECT_PREFIX))
        .map(|check| check.trim().to_string());
    let targets = |prefix: &str| -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        for line in text.lines().filter_map(|l| l.trim().strip_prefix(prefix)) {
            for name in line.split_whitespace() {
                if !sim::program::is_valid_name(name) {
                    return Err(format!(
                        "{}: `{prefix}` names `{name}`, which is not a target name",
                        path.display()
                    ));
                }
                names.push(name.to_string());
            }
        }
        Ok(names)
    };
    let (fails_on, passes_on) = (targets(FAILS_ON_PREFIX)?, targets(PASSES_ON_PREFIX)?);
    if (!fails_on.is_empty() || !passes_on.is_empty()) && expect.is_none() {
        return Err(format!(
            "{}: `{FAILS_ON_PREFIX}` and `{PASSES_ON_PREFIX}` pin a finding, which needs an \
             `{EXPECT_PREFIX}` line",
            path.display()
        ));
    }
    Ok(Entry {
        path: path.to_path_buf(),
        program,
        expect,
        fails_on,
        passes_on,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_with_an_expectation_is_read_with_it() {
        let dir = std::env::temp_dir().join(format!("tests-corpus-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let text = "sim-trace 1\n# expect: wrong len\nseed none\nmap-seed 1\nhasher seeded 0\n\
                    capacity 0\nkey-space 8\nmax-cursors 0\naudit-every 1\nweights insert=1 \
                    remove=0 get=0 clear=0 cursor-new=0 cursor-step=0 cursor-drop=0 force-grow=0 \
                    force-same-size-grow=0 evacuate-step=0 audit=0\nlength 1\nfault none\nops\n\
                    insert 1 2\n";
        fs::write(dir.join("b.trace"), text).unwrap();
        fs::write(
            dir.join("a.trace"),
            text.replace("# expect: wrong len\n", ""),
        )
        .unwrap();
        fs::write(dir.join("notes.txt"), "not a trace").unwrap();
        let entries = load(&dir).unwrap();
        assert_eq!(
            entries.iter().map(Entry::name).collect::<Vec<_>>(),
            ["a.trace", "b.trace"]
        );
        assert_eq!(entries[0].expect, None);
        assert_eq!(entries[1].expect.as_deref(), Some("wrong len"));
        fs::write(
            dir.join("c.trace"),
            text.replace("map-seed 1", "map-seed one"),
        )
        .unwrap();
        let err = load(&dir).unwrap_err();
        assert!(err.contains("c.trace: line 4"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_finding_pins_the_targets_it_fails_and_passes_on() {
        let dir = std::env::temp_dir().join(format!("tests-corpus-pins-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let text = "# expect: wrong len\n# fails-on: go@1.25 go@1.26\n# passes-on: go@1.21\n\
                    sim-trace 1\nseed none\nmap-seed 1\nhasher seeded 0\ncapacity 0\n\
                    key-space 8\nmax-cursors 0\naudit-every 1\nweights insert=1 remove=0 get=0 \
                    clear=0 cursor-new=0 cursor-step=0 cursor-drop=0 force-grow=0 \
                    force-same-size-grow=0 evacuate-step=0 audit=0\nlength 1\nfault none\nops\n\
                    insert 1 2\n";
        let path = dir.join("pinned.trace");
        fs::write(&path, text).unwrap();
        let entry = load_one(&path).unwrap();
        assert_eq!(entry.fails_on, ["go@1.25", "go@1.26"]);
        assert_eq!(entry.passes_on, ["go@1.21"]);
        fs::write(&path, text.replace("go@1.21", "Go 1.21")).unwrap();
        let err = load_one(&path).unwrap_err();
        assert!(err.contains("`Go`"), "{err}");
        fs::write(&path, text.replace("# expect: wrong len\n", "")).unwrap();
        let err = load_one(&path).unwrap_err();
        assert!(err.contains("needs an"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
