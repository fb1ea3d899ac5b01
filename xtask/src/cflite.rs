//! `cargo xtask cflite-check`: ClusterFuzzLite's build, run here without Docker, and the checks
//! its engine makes of what the build leaves in `$OUT`.
//!
//! The builder image (`.clusterfuzzlite/Dockerfile`) runs `$SRC/build.sh` from `$SRC/map-core`
//! with `SRC`, `OUT`, `WORK`, `FUZZING_LANGUAGE`, `SANITIZER` and `ARCHITECTURE` set, on its
//! nightly toolchain. This command sets up the same layout in a temporary directory (the checkout
//! linked in as `$SRC/map-core`), runs the script, and checks that `$OUT` holds, for every target,
//! what `run_fuzzers` reads: the binary, a seed zip whose files are the committed corpus, the
//! dictionary and an options file naming it. It then runs each binary once over its unzipped
//! seeds (`-runs=0`), as the engine's bad-build check runs a target before fuzzing it.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use sim::fuzz_input::Target;

use crate::libfuzzer::{self, RunSpec};
use crate::process::{human, run_inherit, stdout_of};
use crate::tools::{self, CARGO_FUZZ_VERSION};
use crate::Workspace;

/// The checkout's directory under `$SRC`, as `.clusterfuzzlite/Dockerfile` copies it.
pub const PROJECT_DIR: &str = "map-core";

/// The sanitizer the check builds with: the one the PR and batch workflows fuzz with.
const SANITIZER: &str = "address";

/// The temporary `SRC`, `OUT` and `WORK` of one check. Removed when the check passes; kept, and
/// named, when it does not, so that what the build left can be looked at.
struct Scratch {
    root: PathBuf,
    keep: bool,
}

impl Scratch {
    fn create() -> Result<Scratch, String> {
        let root = std::env::temp_dir().join(format!("cflite-check-{}", std::process::id()));
        if root.exists() {
            fs::remove_dir_all(&root)
                .map_err(|e| format!("cannot clear {}: {e}", root.display()))?;
        }
        for dir in ["src", "out", "work"] {
            fs::create_dir_all(root.join(dir))
                .map_err(|e| format!("cannot create {}: {e}", root.join(dir).display()))?;
        }
        Ok(Scratch { root, keep: true })
    }

    fn src(&self) -> PathBuf {
        self.root.join("src")
    }

    fn out(&self) -> PathBuf {
        self.root.join("out")
    }

    fn work(&self) -> PathBuf {
        self.root.join("work")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("cflite-check: left {} for inspection", self.root.display());
        } else {
            // A leftover temporary directory is harmless; failing to remove it is not a finding.
            let _ = fs::remove_dir_all(&self.root);
        }
    }
}

/// What the check found of one target.
#[derive(Debug)]
struct TargetResult {
    target: &'static str,
    seeds: usize,
    /// Inputs libFuzzer ran over the unzipped seeds, when the run happened.
    executed: Option<u64>,
    problems: Vec<String>,
}

/// `cargo xtask cflite-check`. Returns whether `$OUT` held everything and every seed ran clean.
pub fn check_command(ws: &Workspace) -> Result<bool, crate::Error> {
    let started = Instant::now();
    tools::ensure_cargo_tool("fuzz", "cargo-fuzz", CARGO_FUZZ_VERSION)
        .map_err(crate::Error::Failed)?;
    if !tools::nightly_installed() {
        return Err(crate::Error::Failed(
            "cflite-check needs a nightly toolchain, as the builder image has: \
             AddressSanitizer is nightly-only"
                .to_string(),
        ));
    }
    for tool in ["bash", "zip", "unzip"] {
        if stdout_of(Command::new("sh").args(["-c", &format!("command -v {tool}")])).is_none() {
            return Err(crate::Error::Failed(format!(
                "cflite-check needs `{tool}` on PATH (the builder image has it)"
            )));
        }
    }
    let mut scratch = Scratch::create().map_err(crate::Error::Failed)?;
    let project = scratch.src().join(PROJECT_DIR);
    std::os::unix::fs::symlink(&ws.root, &project)
        .map_err(|e| crate::Error::Failed(format!("cannot link {}: {e}", project.display())))?;
    // The Dockerfile copies the script to $SRC/, where the image's `compile` runs it.
    let script = scratch.src().join("build.sh");
    fs::copy(ws.root.join(".clusterfuzzlite/build.sh"), &script)
        .map_err(|e| crate::Error::Failed(format!("cannot copy .clusterfuzzlite/build.sh: {e}")))?;

    let fuzz_target_dir = ws
        .target_dir
        .join("fuzz")
        .join(format!("cflite-{SANITIZER}"));
    let mut cmd = Command::new("bash");
    cmd.arg(&script).current_dir(&project);
    cmd.env("SRC", scratch.src())
        .env("OUT", scratch.out())
        .env("WORK", scratch.work())
        .env("FUZZING_ENGINE", "libfuzzer")
        .env("FUZZING_LANGUAGE", "rust")
        .env("SANITIZER", SANITIZER)
        .env("ARCHITECTURE", "x86_64")
        // The image's default toolchain is nightly; here it is asked for by name.
        .env("RUSTUP_TOOLCHAIN", "nightly")
        // Kept between runs, so that a second check rebuilds nothing.
        .env("CARGO_TARGET_DIR", &fuzz_target_dir);
    let build_started = Instant::now();
    let status =
        run_inherit(&mut cmd).map_err(|e| crate::Error::Failed(format!("cannot run bash: {e}")))?;
    if !status.success() {
        return Err(crate::Error::Failed(format!(
            ".clusterfuzzlite/build.sh exited with {status}"
        )));
    }
    let build_time = build_started.elapsed();

    let out = scratch.out();
    let mut results = Vec::new();
    for target in Target::ALL {
        results.push(check_target(ws, &out, &scratch.work(), target.name()));
    }
    let mut problems: Vec<String> = results
        .iter()
        .flat_map(|r| r.problems.iter().map(move |p| format!("{}: {p}", r.target)))
        .collect();
    problems.extend(unexpected_files(&out));

    println!("cflite-check summary (SANITIZER={SANITIZER}):");
    println!("{:<16} {:>6} {:>10}  verdict", "target", "seeds", "ran");
    for r in &results {
        let ran = r.executed.map_or("-".to_string(), |n| n.to_string());
        let verdict = if r.problems.is_empty() {
            "ok"
        } else {
            "FAILED"
        };
        println!("{:<16} {:>6} {:>10}  {verdict}", r.target, r.seeds, ran);
    }
    println!(
        "build.sh {}, whole check {}",
        human(build_time),
        human(started.elapsed())
    );
    if problems.is_empty() {
        scratch.keep = false;
        return Ok(true);
    }
    for p in &problems {
        eprintln!("cflite-check: {p}");
    }
    Ok(false)
}

/// Checks what `$OUT` holds for `target`, then runs its binary over its unzipped seeds.
fn check_target(ws: &Workspace, out: &Path, work: &Path, target: &'static str) -> TargetResult {
    let corpus = ws.committed_corpus(target);
    let expected = match file_names(&corpus) {
        Ok(names) => names,
        Err(why) => {
            return TargetResult {
                target,
                seeds: 0,
                executed: None,
                problems: vec![why],
            }
        }
    };
    let mut result = TargetResult {
        target,
        seeds: expected.len(),
        executed: None,
        problems: Vec::new(),
    };
    let problems = &mut result.problems;

    let binary = out.join(target);
    if !is_executable(&binary) {
        problems.push(format!("no executable {}", binary.display()));
    }

    let zip = out.join(format!("{target}_seed_corpus.zip"));
    match zip_listing(&zip) {
        Err(why) => problems.push(why),
        Ok(listed) if listed.is_empty() => problems.push(format!("{} is empty", zip.display())),
        Ok(listed) if listed != expected => {
            let missing: Vec<_> = expected.difference(&listed).collect();
            let extra: Vec<_> = listed.difference(&expected).collect();
            problems.push(format!(
                "{} does not hold the files of {}: missing {missing:?}, extra {extra:?}",
                zip.display(),
                corpus.display()
            ));
        }
        Ok(_) => {}
    }

    let dict = out.join(format!("{target}.dict"));
    let source_dict = ws.fuzz_dir().join("dicts").join(format!("{target}.dict"));
    match (fs::read(&dict), fs::read(&source_dict)) {
        (Ok(got), Ok(want)) if got == want => {}
        (Ok(_), Ok(_)) => problems.push(format!(
            "{} differs from {}",
            dict.display(),
            source_dict.display()
        )),
        (Err(e), _) => problems.push(format!("cannot read {}: {e}", dict.display())),
        (_, Err(e)) => problems.push(format!("cannot read {}: {e}", source_dict.display())),
    }

    let options = out.join(format!("{target}.options"));
    match fs::read_to_string(&options) {
        Err(e) => problems.push(format!("cannot read {}: {e}", options.display())),
        Ok(text) => {
            if let Err(why) = check_options(&text, target) {
                problems.push(format!("{}: {why}", options.display()));
            }
        }
    }

    if !problems.is_empty() {
        return result;
    }
    // The engine unpacks the seed zip into a corpus directory and runs the target over it.
    let seeds = work.join("seeds").join(target);
    let unzipped = fs::create_dir_all(&seeds)
        .map_err(|e| format!("cannot create {}: {e}", seeds.display()))
        .and_then(|()| {
            let status = Command::new("unzip")
                .arg("-q")
                .arg(&zip)
                .arg("-d")
                .arg(&seeds)
                .status()
                .map_err(|e| format!("cannot run unzip: {e}"))?;
            if status.success() {
                Ok(())
            } else {
                Err(format!("unzip of {} exited with {status}", zip.display()))
            }
        });
    if let Err(why) = unzipped {
        problems.push(why);
        return result;
    }
    let spec = RunSpec {
        corpora: vec![seeds],
        artifacts: work.join("artifacts").join(target),
        runs: Some(0),
        // As the engine passes it from the options file: a malformed dictionary fails the run.
        dict: Some(dict),
        ..RunSpec::default()
    };
    match libfuzzer::run(
        &binary,
        &spec,
        &work.join("logs").join(format!("{target}.log")),
    ) {
        Err(why) => problems.push(why),
        Ok(outcome) => {
            result.executed = outcome.executions;
            if !outcome.clean {
                let what = outcome
                    .panic_text
                    .unwrap_or_else(|| format!("libFuzzer exited with {:?}", outcome.exit_code));
                problems.push(format!(
                    "a seed fails under the ClusterFuzzLite build ({}): {what}",
                    outcome.log.display()
                ));
            } else if outcome.executions.unwrap_or(0) < result.seeds as u64 {
                problems.push(format!(
                    "libFuzzer ran {} inputs of {} seeds ({})",
                    outcome.executions.unwrap_or(0),
                    result.seeds,
                    outcome.log.display()
                ));
            }
        }
    }
    result
}

/// The `[libfuzzer]` section of a ClusterFuzzLite options file must name the target's dictionary.
fn check_options(text: &str, target: &str) -> Result<(), String> {
    let mut section = None;
    let mut dict = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(name.trim().to_string());
        } else if let Some((key, value)) = line.split_once('=') {
            if section.as_deref() == Some("libfuzzer") && key.trim() == "dict" {
                dict = Some(value.trim().to_string());
            }
        } else {
            return Err(format!("not an INI line: {line:?}"));
        }
    }
    let want = format!("{target}.dict");
    match dict {
        Some(d) if d == want => Ok(()),
        Some(d) => Err(format!("[libfuzzer] dict is {d:?}, not {want:?}")),
        None => Err(format!("no `dict = {want}` in a [libfuzzer] section")),
    }
}

/// The names of the regular files in `dir`.
fn file_names(dir: &Path) -> Result<BTreeSet<String>, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut names = BTreeSet::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            names.insert(entry.file_name().to_string_lossy().into_owned());
        }
    }
    Ok(names)
}

/// The file entries of a zip archive (`unzip -Z1`), directories left out.
fn zip_listing(zip: &Path) -> Result<BTreeSet<String>, String> {
    if !zip.is_file() {
        return Err(format!("no seed corpus {}", zip.display()));
    }
    let listing = stdout_of(Command::new("unzip").arg("-Z1").arg(zip))
        .ok_or_else(|| format!("`unzip -Z1 {}` failed: not a zip archive?", zip.display()))?;
    Ok(listing
        .lines()
        .filter(|l| !l.is_empty() && !l.ends_with('/'))
        .map(str::to_string)
        .collect())
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Files in `$OUT` that belong to no target: the engine would treat a stray executable (the
/// `baseline` of `fuzz-speed`, say) as one more target to fuzz.
fn unexpected_files(out: &Path) -> Vec<String> {
    let names = match file_names(out) {
        Ok(names) => names,
        Err(why) => return vec![why],
    };
    names
        .into_iter()
        .filter(|name| !Target::ALL.iter().any(|t| owned_by(name, t.name())))
        .map(|name| format!("{} belongs to no fuzz target", out.join(name).display()))
        .collect()
}

/// Whether `name` is one of the files build.sh writes for `target`.
fn owned_by(name: &str, target: &str) -> bool {
    [
        target.to_string(),
        format!("{target}_seed_corpus.zip"),
        format!("{target}.dict"),
        format!("{target}.options"),
    ]
    .iter()
    .any(|n| n == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_must_name_the_targets_dictionary_in_the_libfuzzer_section() {
        assert_eq!(
            check_options("[libfuzzer]\ndict = corruption.dict\n", "corruption"),
            Ok(())
        );
        assert!(check_options("[libfuzzer]\ndict = other.dict\n", "corruption").is_err());
        assert!(check_options("[afl]\ndict = corruption.dict\n", "corruption").is_err());
        assert!(check_options("[libfuzzer]\nmax_len = 320\n", "corruption").is_err());
        assert!(check_options("dict corruption.dict\n", "corruption").is_err());
    }

    #[test]
    fn only_the_four_files_of_a_target_belong_to_it() {
        for name in [
            "corruption",
            "corruption_seed_corpus.zip",
            "corruption.dict",
            "corruption.options",
        ] {
            assert!(owned_by(name, "corruption"), "{name}");
        }
        assert!(!owned_by("baseline", "corruption"));
        assert!(!owned_by("corruption.zip", "corruption"));
    }
}
