//! Running child processes: showing the command, keeping its output in a log, timing it.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// A child process that ran to its end.
#[derive(Debug)]
pub struct Finished {
    /// How it exited.
    pub status: ExitStatus,
    /// Wall-clock time from spawn to exit.
    pub elapsed: Duration,
    /// Its stdout and stderr, merged line by line in arrival order.
    pub output: String,
}

/// The command line of `cmd` as a person would type it, with the environment it sets.
pub fn describe(cmd: &Command) -> String {
    let mut words: Vec<String> = cmd
        .get_envs()
        .filter_map(|(k, v)| v.map(|v| format!("{}={}", k.to_string_lossy(), v.to_string_lossy())))
        .collect();
    words.push(cmd.get_program().to_string_lossy().into_owned());
    words.extend(cmd.get_args().map(|a| quote(&a.to_string_lossy())));
    words.join(" ")
}

fn quote(word: &str) -> String {
    let plain = word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=:+,@%".contains(c));
    if plain && !word.is_empty() {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Runs `cmd` with the terminal as its stdout and stderr, after printing it.
pub fn run_inherit(cmd: &mut Command) -> io::Result<ExitStatus> {
    eprintln!("$ {}", describe(cmd));
    cmd.status()
}

/// Runs `cmd` and returns its stdout if it exits successfully; `None` if it cannot be run or fails.
pub fn stdout_of(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `cmd` with its stdout and stderr merged into the file `log`, and echoed to our stderr
/// when `echo` is set.
///
/// The output is also returned, so callers can read a tool's report without parsing the file.
pub fn run_logged(cmd: &mut Command, log: &Path, echo: bool) -> io::Result<Finished> {
    run_logged_limited(cmd, log, echo, None, GRACE).map(|limited| limited.finished)
}

/// A run stopped at a time limit, or not.
#[derive(Debug)]
pub struct Limited {
    /// How it ended.
    pub finished: Finished,
    /// Whether it was interrupted at the limit.
    pub timed_out: bool,
}

/// How long an interrupted child gets to stop its own children and exit before it is killed.
const GRACE: Duration = Duration::from_secs(60);

/// Like [`run_logged`], but stops the child once `limit` has passed: SIGINT first, as Ctrl-C
/// would, so that it can stop its own children; SIGTERM a sixth of [`GRACE`] later, for a child
/// that ignores SIGINT (as commands started in the background by a shell do); SIGKILL after
/// [`GRACE`].
pub fn run_logged_until(
    cmd: &mut Command,
    log: &Path,
    echo: bool,
    limit: Duration,
) -> io::Result<Limited> {
    run_logged_limited(cmd, log, echo, Some(limit), GRACE)
}

/// [`run_logged`] without a limit (it then returns once the child has closed its output), or
/// [`run_logged_until`] with this `grace`.
fn run_logged_limited(
    cmd: &mut Command,
    log: &Path,
    echo: bool,
    limit: Option<Duration>,
    grace: Duration,
) -> io::Result<Limited> {
    if let Some(dir) = log.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut file = File::create(log)?;
    writeln!(file, "$ {}", describe(cmd))?;
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let (tx, rx) = mpsc::channel::<String>();
    let readers = [
        forward(
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            tx.clone(),
        ),
        forward(
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            tx,
        ),
    ];
    let mut output = String::new();
    let mut timed_out = false;
    let mut terminated = false;
    let mut killed = false;
    let mut readers_done = false;
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                if echo {
                    eprintln!("{line}");
                }
                writeln!(file, "{line}")?;
                output.push_str(&line);
                output.push('\n');
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                readers_done = true;
                break;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        let Some(limit) = limit else {
            continue;
        };
        let elapsed = start.elapsed();
        // The child is ours: its id came from our own spawn.
        let signal = |name: &str| {
            let _ = Command::new("kill")
                .args([name, &child.id().to_string()])
                .status();
        };
        if !timed_out && elapsed >= limit {
            timed_out = true;
            writeln!(file, "(interrupted at the time limit of {})", human(limit))?;
            signal("-INT");
        } else if timed_out && !terminated && elapsed >= limit + grace / 6 {
            terminated = true;
            signal("-TERM");
        } else if timed_out && !killed && elapsed >= limit + grace {
            killed = true;
            let _ = child.kill();
        }
        // After an interrupt, a grandchild may still hold the pipes open: stop at the child's exit.
        if timed_out && child.try_wait()?.is_some() {
            break;
        }
    }
    if readers_done {
        for reader in readers.into_iter().flatten() {
            let _ = reader.join();
        }
    }
    let status = child.wait()?;
    Ok(Limited {
        finished: Finished {
            status,
            elapsed: start.elapsed(),
            output,
        },
        timed_out,
    })
}

fn forward(
    stream: Option<Box<dyn Read + Send>>,
    tx: mpsc::Sender<String>,
) -> Option<thread::JoinHandle<()>> {
    let stream = stream?;
    Some(thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    if tx
                        .send(line.trim_end_matches(['\n', '\r']).to_string())
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    }))
}

/// A duration as whole seconds, or minutes and seconds past a minute.
pub fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 60 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{}m{:02}s", secs / 60, secs % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_quotes_what_a_shell_would_split() {
        let mut cmd = Command::new("cargo");
        cmd.args(["fuzz", "run", "a b", "it's"])
            .env("FUZZ_FAULT", "skip-check-bucket");
        assert_eq!(
            describe(&cmd),
            r"FUZZ_FAULT=skip-check-bucket cargo fuzz run 'a b' 'it'\''s'"
        );
    }

    #[test]
    fn run_logged_merges_both_streams_into_the_log() {
        let dir = std::env::temp_dir().join(format!("xtask-process-{}", std::process::id()));
        let log = dir.join("out.log");
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo one; echo two >&2; exit 3"]);
        let done = run_logged(&mut cmd, &log, false).unwrap();
        assert_eq!(done.status.code(), Some(3));
        assert!(
            done.output.contains("one\n") && done.output.contains("two\n"),
            "{}",
            done.output
        );
        let logged = fs::read_to_string(&log).unwrap();
        assert!(
            logged.starts_with("$ sh -c") && logged.contains("two"),
            "{logged}"
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn run_logged_until_interrupts_at_the_limit() {
        let dir = std::env::temp_dir().join(format!("xtask-limit-{}", std::process::id()));
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo started; sleep 30; echo never"]);
        let limit = Duration::from_millis(300);
        let log = dir.join("out.log");
        let done =
            run_logged_limited(&mut cmd, &log, false, Some(limit), Duration::from_secs(3)).unwrap();
        assert!(done.timed_out);
        assert!(
            done.finished.elapsed < Duration::from_secs(10),
            "{:?}",
            done.finished.elapsed
        );
        assert!(
            done.finished.output.contains("started") && !done.finished.output.contains("never")
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(human(Duration::from_secs(125)), "2m05s");
    }
}
