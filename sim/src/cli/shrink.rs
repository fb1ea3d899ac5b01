//! `sim shrink`: minimize a saved failing trace, or one on which the map hangs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sim::program::Program;
use sim::{exec, shrink, target, trace};

use super::{args, report, Outcome, UsageError, EXIT_CODES};

/// Shrink a saved failing trace and save the result.
#[derive(clap::Args, Debug)]
#[command(after_help = EXIT_CODES)]
pub struct Args {
    /// The failing trace.
    file: PathBuf,
    /// Where to save the shrunk trace (default: FILE with `.shrunk.trace` in place of `.trace`).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// The trace is one on which the map never returns (`sim run` saved it as
    /// `seed-S.hang.trace`): judge each candidate in a child process, a hang if it is still
    /// running after this long (`5s`). The default for a `.hang.trace` file.
    #[arg(long, value_parser = args::duration, value_name = "DURATION")]
    hang_after: Option<Duration>,
}

/// How long a candidate of a `.hang.trace` may run before it counts as hanging, unless
/// `--hang-after` says otherwise: a generated program finishes in milliseconds.
const DEFAULT_HANG_AFTER: Duration = Duration::from_secs(5);

pub fn run(args: Args) -> Result<Outcome, UsageError> {
    let program = report::load(&args.file)?;
    let target = target::lookup(&program.config.target).map_err(UsageError)?;
    let out = args.out.clone().unwrap_or_else(|| {
        let name = args
            .file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let stem = name.strip_suffix(".trace").unwrap_or(&name);
        args.file.with_file_name(format!("{stem}.shrunk.trace"))
    });
    let is_hang_trace = args.file.to_string_lossy().ends_with(".hang.trace");
    if let Some(deadline) = args
        .hang_after
        .or(is_hang_trace.then_some(DEFAULT_HANG_AFTER))
    {
        return shrink_hang(&args.file, &program, target, deadline, &out);
    }
    let failure = match exec::run_on(&program, target, None) {
        Ok(_) => {
            println!("{} runs clean: nothing to shrink", args.file.display());
            return Ok(Outcome::Clean);
        }
        Err(failure) => failure,
    };
    let shrunk = shrink::shrink_on(&program, &failure, target);
    // A target that randomizes by itself may not fail every time: say how often it did.
    let rate = (!target.capabilities.deterministic).then(|| {
        report::reproduce(
            &shrunk.program,
            target,
            shrunk.failure.kind,
            report::REPRODUCTION_RUNS,
        )
    });
    let saved = report::save_with_rate(&out, &shrunk.program, rate, None);
    report::print_shrunk(&shrunk, saved.as_deref());
    if let Some(rate) = rate {
        println!("on target {}, the shrunk program {rate}", target.name);
    }
    Ok(Outcome::BugFound)
}

/// Shrinks a program on which the map hangs, each candidate replayed by a child `sim` that is
/// killed at `deadline`.
fn shrink_hang(
    file: &Path,
    program: &Program,
    target: &'static target::TargetInfo,
    deadline: Duration,
    out: &Path,
) -> Result<Outcome, UsageError> {
    let exe = std::env::current_exe().map_err(|e| {
        UsageError(format!(
            "cannot find this sim binary to run candidates: {e}"
        ))
    })?;
    let scratch =
        std::env::temp_dir().join(format!("sim-hang-candidate-{}.trace", std::process::id()));
    let hangs = |candidate: &Program| hangs_in_child(&exe, &scratch, candidate, deadline);
    let started = Instant::now();
    let first = hangs(program);
    if !first {
        let _ = std::fs::remove_file(&scratch);
        println!(
            "{} finished within {deadline:?}: not a hang (`sim shrink` without --hang-after \
             shrinks a failure; `sim replay` runs it)",
            file.display()
        );
        return Ok(Outcome::Clean);
    }
    println!(
        "{} hangs (still running after {deadline:?}); shrinking, each candidate in a child \
         process...",
        file.display()
    );
    let shrunk = shrink::shrink_hang(program, target, &hangs);
    let confirmed = hangs(&shrunk.program);
    let _ = std::fs::remove_file(&scratch);
    println!(
        "shrunk the hang from {} to {} ops ({} candidates judged, {:.0} s){}",
        shrunk.before_len,
        shrunk.after_len,
        shrunk.runs + 2,
        started.elapsed().as_secs_f64(),
        if confirmed {
            ""
        } else {
            "; the shrunk program did not hang again when run once more: the map may hang only \
             sometimes, or the deadline is too short"
        }
    );
    if let Some(path) = report::save(out, &shrunk.program) {
        println!("saved {}", path.display());
        println!(
            "it hangs on: {} (stop it with Ctrl-C)",
            report::replay_command(&path, &shrunk.program)
        );
    }
    Ok(Outcome::BugFound)
}

/// Whether `sim replay` of `candidate` (written to `scratch`) is still running after
/// `deadline`; the child is killed then. A candidate that cannot be written or run counts as
/// not hanging, so it is never kept.
fn hangs_in_child(exe: &Path, scratch: &Path, candidate: &Program, deadline: Duration) -> bool {
    if let Err(e) = std::fs::write(scratch, trace::print(candidate)) {
        eprintln!("cannot write a candidate to {}: {e}", scratch.display());
        return false;
    }
    let child = Command::new(exe)
        .arg("replay")
        .arg(scratch)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            eprintln!("cannot run {}: {e}", exe.display());
            return false;
        }
    };
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return false,
            Ok(None) if started.elapsed() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return true;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A stand-in for `sim` that runs `body` (a shell script) whatever its arguments.
    fn fake_sim(name: &str, body: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sim-fake-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let exe = dir.join("sim");
        std::fs::write(&exe, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        exe
    }

    #[test]
    fn a_child_still_running_at_the_deadline_is_a_hang_and_is_killed() {
        let program = Program::new(Default::default(), Vec::new());
        let sleeps = fake_sim("sleeps", "exec sleep 30");
        let scratch = sleeps.with_file_name("candidate.trace");
        let started = Instant::now();
        assert!(hangs_in_child(
            &sleeps,
            &scratch,
            &program,
            Duration::from_millis(200)
        ));
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "killed, not waited for"
        );
        assert!(std::fs::read_to_string(&scratch)
            .unwrap()
            .starts_with("sim-trace"));
        for (name, body) in [("passes", "exit 0"), ("fails", "exit 1")] {
            let finishes = fake_sim(name, body);
            assert!(!hangs_in_child(
                &finishes,
                &scratch,
                &program,
                Duration::from_secs(5)
            ));
        }
        assert!(!hangs_in_child(
            Path::new("/nonexistent/sim"),
            &scratch,
            &program,
            Duration::from_secs(1)
        ));
    }
}
