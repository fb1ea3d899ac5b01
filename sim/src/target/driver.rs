//! A map in another process: the client side of the driver protocol (`docs/driver-protocol.md`).
//!
//! A *driver* is a small program, in the map's own language, that holds the map and runs sim's
//! programs on it. This module starts one (a [`Driver`]), sends it a whole program and reads its
//! whole answer (a [`Transcript`]) in one exchange, then serves the executor's calls from that
//! transcript in order ([`DriverTarget`]). Nothing here is specific to a language: a target for a
//! new map needs only a [`DriverKind`] that says how to start its driver.
//!
//! One exchange per program, not one per op: the harness writes the whole program and flushes,
//! then reads; the driver reads the whole program (up to `end`) before it writes anything. So
//! neither side waits on the other with a full pipe, whatever the program's size, and an op
//! costs no system call. The answers are in exactly the order in which [`crate::exec`] calls the
//! [`Target`] methods; an answer of the wrong kind, a driver `error` or a driver that died is a
//! panic inside the target, which the executor reports as a failure at that op.
//!
//! Each harness worker thread keeps one driver process per kind ([`DriverKind::run`]), started on
//! first use and restarted after it died.
//!
//! A driver that hangs does not hang the harness: every line of its answer is waited for at most
//! [`ANSWER_TIMEOUT`]; then the driver is killed and the program's outcome is that it died (a
//! failure like any other, whose report says so).

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::timed_reader::{ReadLine, TimedReader};
use super::{Target, TargetError};
use crate::coverage::Coverage;
use crate::op::{CursorId, Op, MAX_CURSORS};
use crate::program::Program;

/// The protocol version this client speaks (the third word of `hello`).
pub const PROTOCOL_VERSION: u32 = 1;

/// How much of a driver's stderr is kept for the report when it dies.
const STDERR_KEPT: usize = 16 * 1024;

/// The longest a driver may go without writing the next line of its answer (or its `hello`, or,
/// once its stdin is closed, without exiting) before it is taken to hang and is killed. A
/// program's whole answer takes a driver milliseconds.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// What a driver said about itself in its `hello` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    /// The map and its version, e.g. `go-runtime-map/go1.19.8`.
    pub implementation: String,
    /// Whether the driver can tell if a growth is under way (`state=known`).
    pub state_known: bool,
    /// Whether the map's randomness follows from a seed the program line carries (`seeded`):
    /// the driver is then deterministic.
    pub seeded: bool,
    /// Whether the driver runs concurrent programs too (`concurrent`: writer threads of its own
    /// and a logged clock, for `sim run --threads`).
    pub concurrent: bool,
}

impl Hello {
    /// Parses `hello sim-driver <version> <implementation> state=<known|unknown> [seeded]
    /// [concurrent]`; other later words are ignored, so that a later protocol may add some.
    pub fn parse(line: &str) -> Result<Hello, String> {
        let mut words = line.split(' ');
        if words.next() != Some("hello") || words.next() != Some("sim-driver") {
            return Err(format!(
                "expected `hello sim-driver {PROTOCOL_VERSION} ...`, got `{line}`"
            ));
        }
        match words.next().map(str::parse::<u32>) {
            Some(Ok(PROTOCOL_VERSION)) => {}
            _ => {
                return Err(format!(
                    "the driver speaks another protocol version than {PROTOCOL_VERSION}: `{line}`"
                ))
            }
        }
        let implementation = match words.next() {
            Some(name) if !name.is_empty() => name.to_string(),
            _ => return Err(format!("no implementation name in `{line}`")),
        };
        let state_known = match words.next() {
            Some("state=known") => true,
            Some("state=unknown") => false,
            _ => {
                return Err(format!(
                    "expected `state=known` or `state=unknown` in `{line}`"
                ))
            }
        };
        let later: Vec<&str> = words.collect();
        Ok(Hello {
            implementation,
            state_known,
            seeded: later.contains(&"seeded"),
            concurrent: later.contains(&"concurrent"),
        })
    }
}

/// One answer line of a transcript, except the contents' entry lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `v <value>` or `v -`: the result of an insert, remove or get.
    Value(Option<u64>),
    /// `y <key> <value> <G>`: a cursor step that yielded an entry; `growing` is whether a growth
    /// was under way before the step (`None` for `?`).
    Yield {
        /// The key yielded.
        key: u64,
        /// The value yielded.
        value: u64,
        /// Growth under way before the step.
        growing: Option<bool>,
    },
    /// `e <G>`: a cursor step that reported the end.
    End {
        /// Growth under way before the step.
        growing: Option<bool>,
    },
    /// `l <len>`: `len()` after an op.
    Len(u64),
    /// `c <n>`: the full contents, whose `n` entries follow ([`Transcript::contents`]).
    Contents(u64),
}

impl fmt::Display for Answer {
    /// The answer as its protocol line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = |growing: &Option<bool>| match growing {
            Some(true) => '1',
            Some(false) => '0',
            None => '?',
        };
        match self {
            Answer::Value(Some(v)) => write!(f, "v {v}"),
            Answer::Value(None) => f.write_str("v -"),
            Answer::Yield {
                key,
                value,
                growing,
            } => write!(f, "y {key} {value} {}", g(growing)),
            Answer::End { growing } => write!(f, "e {}", g(growing)),
            Answer::Len(n) => write!(f, "l {n}"),
            Answer::Contents(n) => write!(f, "c {n}"),
        }
    }
}

/// How a transcript ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// With `done`, after the contents.
    Complete,
    /// The driver answered `error <message>`: it found the program malformed.
    Rejected(String),
    /// The driver's stdout ended (or writing to it failed) before `done`: exit status and stderr.
    Died(String),
    /// A line that is no answer of the protocol.
    Garbled(String),
}

/// Everything a driver answered to one program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transcript {
    /// The driver's `hello`.
    pub hello: Hello,
    answers: Vec<Answer>,
    contents: Vec<(u64, u64)>,
    counts: Vec<(String, u64)>,
    outcome: Outcome,
}

impl Transcript {
    /// The answers in order (the contents' entries are in [`Transcript::contents`]).
    pub fn answers(&self) -> &[Answer] {
        &self.answers
    }

    /// The entries after the `c` line, in the order the driver's iteration produced them.
    pub fn contents(&self) -> &[(u64, u64)] {
        &self.contents
    }

    /// How the transcript ended.
    pub fn outcome(&self) -> &Outcome {
        &self.outcome
    }

    /// The driver's state counts (its `s name=count ...` line), in its order.
    pub fn counts(&self) -> &[(String, u64)] {
        &self.counts
    }
}

/// A running driver process.
pub struct Driver {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: TimedReader,
    stderr: Arc<Mutex<Vec<u8>>>,
    /// Says when the stderr thread has read everything (the pipe closed).
    stderr_done: Receiver<()>,
    /// How long a line of the answer is waited for ([`ANSWER_TIMEOUT`] unless set).
    timeout: Duration,
    /// Set when the driver was killed for not answering in time.
    timed_out: bool,
    hello: Hello,
    /// The program being written, kept to reuse its allocation.
    request: Vec<u8>,
    /// Set once the process died or spoke out of protocol: it must be replaced.
    dead: bool,
}

impl Driver {
    /// Starts `command` with piped stdin, stdout and stderr and reads its `hello` line.
    pub fn spawn(command: Command) -> Result<Driver, TargetError> {
        Driver::spawn_with_timeout(command, ANSWER_TIMEOUT)
    }

    /// [`Driver::spawn`], waiting at most `timeout` for each line of an answer instead of
    /// [`ANSWER_TIMEOUT`].
    pub fn spawn_with_timeout(
        mut command: Command,
        timeout: Duration,
    ) -> Result<Driver, TargetError> {
        let shown = format!("{command:?}");
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| TargetError(format!("cannot start driver {shown}: {e}")))?;
        let (Some(stdin), Some(stdout), Some(mut child_stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            unreachable!("all three streams were asked to be piped")
        };
        // Stderr is read all along by a thread of its own, so that a driver that writes much to
        // it never blocks, and what it wrote last is there for the report when it dies.
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&stderr);
        let (stderr_finished, stderr_done) = mpsc::channel();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = child_stderr.read(&mut chunk) {
                let mut kept = sink.lock().unwrap_or_else(|e| e.into_inner());
                kept.extend_from_slice(&chunk[..n]);
                if kept.len() > 2 * STDERR_KEPT {
                    let cut = kept.len() - STDERR_KEPT;
                    kept.drain(..cut);
                }
            }
            let _ = stderr_finished.send(());
        });
        let mut driver = Driver {
            child,
            stdin: Some(stdin),
            stdout: TimedReader::new(stdout),
            stderr,
            stderr_done,
            timeout,
            timed_out: false,
            hello: Hello {
                implementation: String::new(),
                state_known: false,
                seeded: false,
                concurrent: false,
            },
            request: Vec::new(),
            dead: false,
        };
        let line = match driver.stdout.next_line(driver.timeout) {
            Ok(line) => String::from_utf8_lossy(trim_newline(line)).into_owned(),
            Err(read) => {
                driver.no_line(read);
                return Err(TargetError(format!(
                    "driver {shown} did not say hello: {}",
                    driver.death()
                )));
            }
        };
        driver.hello = Hello::parse(&line).map_err(|why| {
            driver.dead = true;
            TargetError(format!("driver {shown}: {why}"))
        })?;
        Ok(driver)
    }

    /// What the driver said in its `hello`.
    pub fn hello(&self) -> &Hello {
        &self.hello
    }

    /// Whether the process died or broke the protocol, so that it must be replaced.
    pub fn is_dead(&self) -> bool {
        self.dead
    }

    /// Sends `program` and reads the whole answer. Ops the protocol has no line for (growth
    /// controls) are an error: [`crate::exec::check_runnable_on`] keeps them from targets without
    /// growth controls, so they only arrive here through a misdeclared target.
    pub fn run(&mut self, program: &Program) -> Result<Transcript, TargetError> {
        let mut request = std::mem::take(&mut self.request);
        let seed = self.hello.seeded.then_some(program.config.map_seed);
        let written = write_program(program, seed, &mut request);
        let transcript = written.map(|()| self.exchange(&request));
        self.request = request;
        transcript
    }

    /// Sends raw protocol text (which must end with `end\n` for the driver to answer) and reads
    /// the answer up to `done`: for tests of a driver's handling of malformed programs.
    pub fn run_raw(&mut self, request: &[u8]) -> Transcript {
        self.exchange(request)
    }

    /// Sends `request`, a whole message ending with `end\n` (a concurrent program, say), and
    /// returns every line of the answer before `done`; or, when the driver gave no whole answer
    /// (it died, hung or broke off), why, with the lines it did write.
    pub fn exchange_lines(&mut self, request: &[u8]) -> Result<Vec<String>, (String, Vec<String>)> {
        if self.dead {
            return Err(("the driver had died before this program".into(), Vec::new()));
        }
        let sent = match self.stdin.as_mut() {
            Some(stdin) => stdin.write_all(request).and_then(|()| stdin.flush()),
            None => Err(std::io::Error::other("stdin closed")),
        };
        if let Err(e) = sent {
            let why = format!("writing the program failed ({e}); {}", self.death());
            return Err((why, Vec::new()));
        }
        let mut lines = Vec::new();
        loop {
            let line = match self.stdout.next_line(self.timeout) {
                Ok(line) => trim_newline(line),
                Err(read) => {
                    self.no_line(read);
                    return Err((self.death(), lines));
                }
            };
            if line == b"done" {
                return Ok(lines);
            }
            lines.push(String::from_utf8_lossy(line).into_owned());
        }
    }

    fn exchange(&mut self, request: &[u8]) -> Transcript {
        let mut transcript = Transcript {
            hello: self.hello.clone(),
            answers: Vec::new(),
            contents: Vec::new(),
            counts: Vec::new(),
            outcome: Outcome::Complete,
        };
        if self.dead {
            transcript.outcome = Outcome::Died("the driver had died before this program".into());
            return transcript;
        }
        let sent = match self.stdin.as_mut() {
            Some(stdin) => stdin.write_all(request).and_then(|()| stdin.flush()),
            None => Err(std::io::Error::other("stdin closed")),
        };
        if let Err(e) = sent {
            // Whatever the driver wrote before it went away is still worth reading.
            self.read_answers(&mut transcript);
            if transcript.outcome == Outcome::Complete {
                transcript.outcome = Outcome::Died(format!(
                    "writing the program failed ({e}); {}",
                    self.death()
                ));
            }
            self.dead = true;
            return transcript;
        }
        self.read_answers(&mut transcript);
        transcript
    }

    /// Reads answer lines up to `done` into `transcript`.
    fn read_answers(&mut self, transcript: &mut Transcript) {
        let mut entries_left = 0u64;
        loop {
            // Nearly every line is a whole answer already in the reader's buffer: parse it
            // there. Anything else (another kind of line, a line not all read yet, a garbled
            // one) takes the line-by-line way below.
            if entries_left > 0 {
                if let Some((entry, used)) = parse_entry_at(self.stdout.unread()) {
                    self.stdout.consume(used);
                    transcript.contents.push(entry);
                    entries_left -= 1;
                    continue;
                }
            } else if let Some((answer, used)) = parse_answer_at(self.stdout.unread()) {
                self.stdout.consume(used);
                if let Answer::Contents(n) = answer {
                    entries_left = n;
                }
                transcript.answers.push(answer);
                continue;
            }
            let line = match self.stdout.next_line(self.timeout) {
                Ok(line) => trim_newline(line),
                Err(read) => {
                    self.no_line(read);
                    transcript.outcome = Outcome::Died(self.death());
                    return;
                }
            };
            if entries_left > 0 {
                match parse_entry(line) {
                    Some(entry) => {
                        transcript.contents.push(entry);
                        entries_left -= 1;
                        continue;
                    }
                    None => {
                        let line = String::from_utf8_lossy(line).into_owned();
                        return self.garbled(transcript, &line, "a `<key> <value>` entry line");
                    }
                }
            }
            if line == b"done" {
                return;
            }
            if let Some(counts) = line.strip_prefix(b"s ") {
                match parse_counts(counts) {
                    Some(counts) => {
                        transcript.counts = counts;
                        continue;
                    }
                    None => {
                        let line = String::from_utf8_lossy(line).into_owned();
                        return self.garbled(transcript, &line, "`s name=count ...`");
                    }
                }
            }
            if let Some(message) = line.strip_prefix(b"error ") {
                // The driver still ends with `done`; keep reading to stay in step.
                transcript.outcome =
                    Outcome::Rejected(String::from_utf8_lossy(message).into_owned());
                continue;
            }
            match parse_answer(line) {
                Some(answer) => {
                    if let Answer::Contents(n) = answer {
                        entries_left = n;
                    }
                    transcript.answers.push(answer);
                }
                None => {
                    let line = String::from_utf8_lossy(line).into_owned();
                    return self.garbled(transcript, &line, "an answer line");
                }
            }
        }
    }

    fn garbled(&mut self, transcript: &mut Transcript, line: &str, wanted: &str) {
        // Out of step with the driver: it cannot be trusted with the next program.
        self.dead = true;
        transcript.outcome = Outcome::Garbled(format!(
            "after {} answers the driver wrote `{}` where {wanted} was due",
            transcript.answers.len(),
            clip(line)
        ));
    }

    /// Takes note that no line came (`read`: the pipe closed or the timeout passed): the driver
    /// is dead, and one that sent nothing in time is killed (and [`Self::death`] says so).
    fn no_line(&mut self, read: ReadLine) {
        self.dead = true;
        if read == ReadLine::TimedOut {
            self.timed_out = true;
            let _ = self.child.kill();
        }
    }

    /// Why the process is gone: its exit status and the end of its stderr.
    fn death(&mut self) -> String {
        self.dead = true;
        // Closing stdin lets a driver still waiting for input exit; one that does not is killed.
        self.stdin = None;
        let _ = self.child.kill();
        let status = match self.child.wait() {
            Ok(status) => status.to_string(),
            Err(e) => format!("unknown exit status ({e})"),
        };
        // The stderr pipe closes with the process, unless a process it started still holds it:
        // wait a little for the last of it, not for ever.
        let _ = self.stderr_done.recv_timeout(Duration::from_secs(1));
        let stderr = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        let text = String::from_utf8_lossy(&stderr);
        let text = text.trim();
        let hung = if self.timed_out {
            format!(
                "the driver wrote nothing for {} s (it hangs) and was killed; ",
                self.timeout.as_secs_f64()
            )
        } else {
            String::new()
        };
        if text.is_empty() {
            format!("{hung}the driver exited ({status}) and wrote nothing to stderr")
        } else {
            format!("{hung}the driver exited ({status}); its stderr:\n{text}")
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // EOF on stdin is the driver's signal to exit 0; wait for it so no zombie is left, but
        // kill a driver that already broke the protocol rather than trust it to exit, and one
        // that has not exited within the timeout.
        self.stdin = None;
        if self.dead {
            let _ = self.child.kill();
        }
        let deadline = Instant::now() + self.timeout;
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Fills the driver cache directory `dir` unless `built` (a file inside it) is there already:
/// `build` fills a fresh directory beside `dir`, which is then renamed into place, so concurrent
/// builders race harmlessly (each builds in a directory of its own and the first rename wins).
/// `what` names the driver in errors (`Go driver`).
pub fn build_cached(
    dir: &Path,
    built: &Path,
    what: &str,
    build: impl FnOnce(&Path) -> Result<(), TargetError>,
) -> Result<(), TargetError> {
    if built.is_file() {
        return Ok(());
    }
    let parent = dir.parent().expect("the driver directory has a parent");
    std::fs::create_dir_all(parent).map_err(|e| {
        TargetError(format!(
            "cannot create {} for the {what}: {e}",
            parent.display()
        ))
    })?;
    // Unique per process and thread: the name only has to differ from other builders'.
    let tmp = parent.join(format!(
        ".{}.tmp-{}-{:?}",
        dir.file_name()
            .expect("the driver directory has a name")
            .to_string_lossy(),
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    let outcome = build(&tmp).and_then(|()| match std::fs::rename(&tmp, dir) {
        Ok(()) => Ok(()),
        // Another builder finished first: its build is of the same inputs.
        Err(_) if built.is_file() => Ok(()),
        Err(e) => Err(TargetError(format!(
            "cannot move the built {what} to {}: {e}",
            dir.display()
        ))),
    });
    let _ = std::fs::remove_dir_all(&tmp);
    outcome
}

fn trim_newline(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").unwrap_or(line)
}

fn clip(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

/// Appends `n` in decimal: the program writer's hot path, without `fmt`.
fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Writes `program` as protocol text: `program <capacity>` (with ` <seed>` for a seeded
/// driver), one line per op, `end`.
pub fn write_program(
    program: &Program,
    seed: Option<u64>,
    out: &mut Vec<u8>,
) -> Result<(), TargetError> {
    out.clear();
    out.reserve(program.ops.len() * 12 + 32);
    out.extend_from_slice(b"program ");
    push_u64(out, u64::from(program.config.initial_capacity));
    if let Some(seed) = seed {
        out.push(b' ');
        push_u64(out, seed);
    }
    out.push(b'\n');
    for op in &program.ops {
        match *op {
            Op::Insert { key, value } => {
                out.extend_from_slice(b"i ");
                push_u64(out, key);
                out.push(b' ');
                push_u64(out, value);
            }
            Op::Remove { key } => {
                out.extend_from_slice(b"r ");
                push_u64(out, key);
            }
            Op::Get { key } => {
                out.extend_from_slice(b"g ");
                push_u64(out, key);
            }
            Op::Clear => out.push(b'x'),
            Op::Audit => out.push(b'a'),
            Op::CursorNew { cursor } => {
                out.extend_from_slice(b"n ");
                push_u64(out, cursor.index() as u64);
            }
            Op::CursorStep { cursor, steps } => {
                out.extend_from_slice(b"s ");
                push_u64(out, cursor.index() as u64);
                out.push(b' ');
                push_u64(out, u64::from(steps));
            }
            Op::CursorDrop { cursor } => {
                out.extend_from_slice(b"d ");
                push_u64(out, cursor.index() as u64);
            }
            Op::ForceGrow | Op::ForceSameSizeGrow | Op::EvacuateStep => {
                return Err(TargetError(format!(
                    "the driver protocol has no line for `{op}` (no growth controls)"
                )))
            }
            _ => {
                return Err(TargetError(format!(
                    "the driver protocol has no line for `{op}` (no Rust map API)"
                )))
            }
        }
        out.push(b'\n');
    }
    out.extend_from_slice(b"end\n");
    Ok(())
}

/// The decimal number that starts at `buf[at]`: its value and the index after its last digit.
/// `None` without a digit, or past 20 digits or `u64::MAX`.
fn digits_at(buf: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut n: u64 = 0;
    let mut i = at;
    while let Some(digit) = buf.get(i).map(|b| b.wrapping_sub(b'0')).filter(|&d| d <= 9) {
        let digit = u64::from(digit);
        // No number of 19 digits overflows a u64: only a 20th digit needs checked arithmetic.
        n = match i - at {
            0..=18 => n * 10 + digit,
            19 => n.checked_mul(10)?.checked_add(digit)?,
            _ => return None,
        };
        i += 1;
    }
    (i > at).then_some((n, i))
}

/// The index after `byte` if `buf[at]` is `byte`.
fn expect_at(buf: &[u8], at: usize, byte: u8) -> Option<usize> {
    (buf.get(at) == Some(&byte)).then_some(at + 1)
}

/// Parses a decimal u64 that is the whole of `digits`.
fn parse_u64(digits: &[u8]) -> Option<u64> {
    digits_at(digits, 0).and_then(|(n, end)| (end == digits.len()).then_some(n))
}

/// A growth flag (`1`, `0` or `?`) at `buf[at]`, and the index after it.
fn growing_at(buf: &[u8], at: usize) -> Option<(Option<bool>, usize)> {
    let growing = match buf.get(at)? {
        b'1' => Some(true),
        b'0' => Some(false),
        b'?' => None,
        _ => return None,
    };
    Some((growing, at + 1))
}

/// Parses the answer line (not an entry line, `done`, `s` or `error`) at the start of `buf`,
/// newline included: the answer and the length of its line. `None` when `buf` does not start
/// with a whole answer line, whether it is something else or not all there yet.
fn parse_answer_at(buf: &[u8]) -> Option<(Answer, usize)> {
    let tag = *buf.first()?;
    let at = expect_at(buf, 1, b' ')?;
    let (answer, at) = match tag {
        b'v' => match expect_at(buf, at, b'-') {
            Some(at) => (Answer::Value(None), at),
            None => {
                let (value, at) = digits_at(buf, at)?;
                (Answer::Value(Some(value)), at)
            }
        },
        b'l' => {
            let (len, at) = digits_at(buf, at)?;
            (Answer::Len(len), at)
        }
        b'c' => {
            let (entries, at) = digits_at(buf, at)?;
            (Answer::Contents(entries), at)
        }
        b'e' => {
            let (growing, at) = growing_at(buf, at)?;
            (Answer::End { growing }, at)
        }
        b'y' => {
            let (key, at) = digits_at(buf, at)?;
            let (value, at) = digits_at(buf, expect_at(buf, at, b' ')?)?;
            let (growing, at) = growing_at(buf, expect_at(buf, at, b' ')?)?;
            (
                Answer::Yield {
                    key,
                    value,
                    growing,
                },
                at,
            )
        }
        _ => return None,
    };
    Some((answer, expect_at(buf, at, b'\n')?))
}

/// Parses the entry line (`<key> <value>`) at the start of `buf`, newline included.
fn parse_entry_at(buf: &[u8]) -> Option<((u64, u64), usize)> {
    let (key, at) = digits_at(buf, 0)?;
    let (value, at) = digits_at(buf, expect_at(buf, at, b' ')?)?;
    Some(((key, value), expect_at(buf, at, b'\n')?))
}

/// Applies a parser of whole lines at the start of a buffer to one line without its newline.
fn parse_line<T>(line: &[u8], parse_at: fn(&[u8]) -> Option<(T, usize)>) -> Option<T> {
    let mut whole = Vec::with_capacity(line.len() + 1);
    whole.extend_from_slice(line);
    whole.push(b'\n');
    parse_at(&whole).and_then(|(parsed, used)| (used == whole.len()).then_some(parsed))
}

fn parse_entry(line: &[u8]) -> Option<(u64, u64)> {
    parse_line(line, parse_entry_at)
}

/// Parses the words of an `s` line: `name=count` each, the name of letters, digits and `-`.
fn parse_counts(words: &[u8]) -> Option<Vec<(String, u64)>> {
    words
        .split(|&b| b == b' ')
        .map(|w| {
            let eq = w.iter().position(|&b| b == b'=')?;
            let (name, count) = (&w[..eq], &w[eq + 1..]);
            let ok = !name.is_empty()
                && name
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
            ok.then_some(())?;
            Some((
                String::from_utf8_lossy(name).into_owned(),
                parse_u64(count)?,
            ))
        })
        .collect()
}

/// Parses one answer line without its newline (not an entry line, `done`, `s` or `error`).
fn parse_answer(line: &[u8]) -> Option<Answer> {
    parse_line(line, parse_answer_at)
}

/// One kind of driver: how to start it. The process itself lives in a per-thread slot.
#[derive(Clone, Copy, Debug)]
pub struct DriverKind {
    /// Names the per-thread slot (the target's name will do).
    pub name: &'static str,
    /// Builds (if needed) and starts a driver process; it is handed [`DriverKind::name`].
    pub spawn: fn(&'static str) -> Result<Driver, TargetError>,
}

thread_local! {
    /// This thread's driver processes, by kind name: one per worker thread and kind, started on
    /// first use and kept for the thread's life.
    static DRIVERS: RefCell<Vec<(&'static str, Driver)>> = const { RefCell::new(Vec::new()) };
}

impl DriverKind {
    /// Runs `program` on this thread's driver of this kind, starting one if there is none (or
    /// the last one died), and returns its transcript. A driver that dies during the program is
    /// replaced for the next one; the transcript says how it died.
    pub fn run(&self, program: &Program) -> Result<Transcript, TargetError> {
        self.with_driver(|driver| driver.run(program))?
    }

    /// Calls `f` with this thread's driver of this kind, starting one if there is none (or the
    /// last one died).
    pub fn with_driver<T>(&self, f: impl FnOnce(&mut Driver) -> T) -> Result<T, TargetError> {
        DRIVERS.with(|drivers| {
            let mut drivers = drivers.borrow_mut();
            drivers.retain(|(name, d)| *name != self.name || !d.is_dead());
            let index = match drivers.iter().position(|(name, _)| *name == self.name) {
                Some(i) => i,
                None => {
                    drivers.push((self.name, (self.spawn)(self.name)?));
                    drivers.len() - 1
                }
            };
            Ok(f(&mut drivers[index].1))
        })
    }

    /// A target for `program`: runs it on the driver, then serves the executor from the
    /// transcript.
    pub fn target(&self, program: &Program) -> Result<Box<dyn Target>, TargetError> {
        Ok(Box::new(DriverTarget::new(self.run(program)?)))
    }
}

/// A [`Target`] served from a driver's transcript: each call takes the next answer and checks it
/// is of the kind the call needs.
pub struct DriverTarget {
    transcript: Transcript,
    /// The next answer to hand out.
    next: usize,
    /// Per cursor handle: the answers index where it was created and what it yielded since.
    yields: [Vec<(u64, u64)>; MAX_CURSORS],
}

impl DriverTarget {
    /// Serves `transcript`.
    pub fn new(transcript: Transcript) -> Self {
        DriverTarget {
            transcript,
            next: 0,
            yields: Default::default(),
        }
    }

    fn take(&mut self, call: &str) -> Answer {
        match self.transcript.answers.get(self.next) {
            Some(&answer) => {
                self.next += 1;
                answer
            }
            None => panic!("{}", self.missing(call)),
        }
    }

    fn missing(&self, call: &str) -> String {
        let who = &self.transcript.hello.implementation;
        let n = self.transcript.answers.len();
        match &self.transcript.outcome {
            Outcome::Rejected(message) => {
                format!("driver {who} rejected the program: {message}")
            }
            Outcome::Died(why) => {
                format!("driver {who} died after {n} answers, before the answer to {call}: {why}")
            }
            Outcome::Garbled(why) => format!("driver {who} broke the protocol: {why}"),
            Outcome::Complete => format!(
                "driver {who} is out of step: its {n} answers are used up, yet the executor \
                 asked for {call}"
            ),
        }
    }

    fn out_of_step(&self, call: &str, answer: Answer) -> ! {
        panic!(
            "driver {} is out of step: answer {} is `{answer}`, not an answer to {call}",
            self.transcript.hello.implementation, self.next
        )
    }
}

impl Target for DriverTarget {
    fn insert(&mut self, key: u64, value: u64) -> Option<u64> {
        match self.take("insert") {
            Answer::Value(v) => v,
            other => self.out_of_step(&format!("insert {key} {value}"), other),
        }
    }

    fn remove(&mut self, key: u64) -> Option<u64> {
        match self.take("remove") {
            Answer::Value(v) => v,
            other => self.out_of_step(&format!("remove {key}"), other),
        }
    }

    fn get(&mut self, key: u64) -> Option<u64> {
        match self.take("get") {
            Answer::Value(v) => v,
            other => self.out_of_step(&format!("get {key}"), other),
        }
    }

    fn clear(&mut self) {
        // Clear has no answer line; `len()` after it checks it.
    }

    fn len(&mut self) -> usize {
        match self.take("len") {
            Answer::Len(n) => usize::try_from(n).unwrap_or(usize::MAX),
            other => self.out_of_step("len", other),
        }
    }

    fn contents(&mut self) -> Vec<(u64, u64)> {
        match self.take("the contents") {
            Answer::Contents(_) => self.transcript.contents.clone(),
            other => self.out_of_step("the contents", other),
        }
    }

    fn cursor_new(&mut self, cursor: CursorId) {
        self.yields[cursor.index()].clear();
    }

    fn cursor_next(&mut self, cursor: CursorId) -> Option<(u64, u64)> {
        match self.take("a cursor step") {
            Answer::Yield { key, value, .. } => {
                self.yields[cursor.index()].push((key, value));
                Some((key, value))
            }
            Answer::End { .. } => None,
            other => self.out_of_step(&format!("a step of {cursor}"), other),
        }
    }

    fn cursor_drop(&mut self, cursor: CursorId, coverage: &mut Coverage) {
        // The executor counts the growth states from `is_growing`; the driver's own counts come
        // once, at the end (`add_coverage`).
        let _ = (cursor, coverage);
    }

    fn add_coverage(&mut self, coverage: &mut Coverage) {
        for (name, count) in &self.transcript.counts {
            if let Some(field) = coverage.driver_count(name) {
                *field += count;
            }
        }
    }

    fn is_growing(&mut self) -> Option<bool> {
        // Asked right before each step: the growth flag of the step answer due next.
        match self.transcript.answers.get(self.next) {
            Some(Answer::Yield { growing, .. } | Answer::End { growing }) => *growing,
            _ => None,
        }
    }

    fn diagram(&mut self) -> String {
        let t = &self.transcript;
        let mut out = String::new();
        let state = match (t.hello.state_known, t.hello.seeded) {
            (true, true) => "growth state known, seeded",
            (true, false) => "growth state known",
            (false, true) => "growth state unknown, seeded",
            (false, false) => "growth state unknown",
        };
        let _ = writeln!(
            out,
            "driver {} ({state}): {} of its {} answers used",
            t.hello.implementation,
            self.next,
            t.answers.len()
        );
        if t.outcome != Outcome::Complete {
            let _ = writeln!(out, "  the transcript ended early: {:?}", t.outcome);
        }
        for (c, yields) in CursorId::ALL.iter().zip(&self.yields) {
            if yields.is_empty() {
                continue;
            }
            const SHOWN: usize = 48;
            let _ = write!(out, "  {c} yielded {} since created:", yields.len());
            let skipped = yields.len().saturating_sub(SHOWN);
            if skipped > 0 {
                let _ = write!(out, " ({skipped} earlier not shown)");
            }
            for (k, v) in &yields[skipped..] {
                let _ = write!(out, " ({k}, {v})");
            }
            out.push('\n');
        }
        let from = self.next.saturating_sub(12);
        let _ = writeln!(out, "  the last answers used, oldest first:");
        for (i, answer) in t.answers.iter().enumerate().take(self.next).skip(from) {
            let _ = writeln!(out, "    #{i:<6} {answer}");
        }
        let ahead: Vec<String> = t.answers[self.next..]
            .iter()
            .take(6)
            .map(Answer::to_string)
            .collect();
        if !ahead.is_empty() {
            let _ = writeln!(out, "  not yet used: {}", ahead.join(" | "));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::Config;

    #[test]
    fn count_lines_are_parsed_and_malformed_ones_refused() {
        assert_eq!(
            parse_counts(b"table-split=3 tombstone=0"),
            Some(vec![
                ("table-split".to_string(), 3),
                ("tombstone".to_string(), 0)
            ])
        );
        for bad in [
            &b"table-split"[..],
            b"=3",
            b"a=",
            b"a=x",
            b"A=1",
            b"a=1  b=2",
        ] {
            assert_eq!(parse_counts(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn hello_lines_are_parsed_and_checked() {
        let h = Hello::parse("hello sim-driver 1 go-runtime-map/go1.19.8 state=known").unwrap();
        assert_eq!(h.implementation, "go-runtime-map/go1.19.8");
        assert!(h.state_known);
        assert!(!h.seeded);
        let h = Hello::parse("hello sim-driver 1 x state=unknown later-field").unwrap();
        assert!(!h.state_known && !h.seeded);
        let h = Hello::parse("hello sim-driver 1 x state=known seeded").unwrap();
        assert!(h.state_known && h.seeded && !h.concurrent);
        let h = Hello::parse("hello sim-driver 1 x state=unknown seeded concurrent").unwrap();
        assert!(h.seeded && h.concurrent);
        assert!(Hello::parse("hello sim-driver 2 x state=known").is_err());
        assert!(Hello::parse("hi").is_err());
        assert!(Hello::parse("hello sim-driver 1 x state=maybe").is_err());
    }

    #[test]
    fn an_answer_is_parsed_in_the_buffer_only_once_its_whole_line_is_there() {
        let lines = b"y 12 345 0\nv -\nl 18446744073709551615\ne ?\nc 1\n";
        let mut at = 0;
        let mut parsed = Vec::new();
        while at < lines.len() {
            let end = at + lines[at..].iter().position(|&b| b == b'\n').unwrap() + 1;
            for cut in at..end {
                assert_eq!(parse_answer_at(&lines[at..cut]), None, "{cut}");
            }
            let (answer, used) = parse_answer_at(&lines[at..]).expect("a whole line");
            assert_eq!(at + used, end);
            parsed.push(answer.to_string());
            at = end;
        }
        assert_eq!(
            parsed,
            ["y 12 345 0", "v -", "l 18446744073709551615", "e ?", "c 1"]
        );
        for other in [
            &b"done\n"[..],
            b"s a=1\n",
            b"error x\n",
            b"5 6\n",
            b"v 1 \n",
        ] {
            assert_eq!(parse_answer_at(other), None);
        }
        assert_eq!(parse_entry_at(b"5 6\nv 1\n"), Some(((5, 6), 4)));
        assert_eq!(parse_entry_at(b"5 6"), None);
    }

    #[test]
    fn answer_lines_parse_and_print_back() {
        for line in [
            "v 7",
            "v -",
            "y 1 18446744073709551615 1",
            "y 0 0 ?",
            "e 0",
            "l 12",
            "c 3",
        ] {
            let answer = parse_answer(line.as_bytes()).unwrap_or_else(|| panic!("{line}"));
            assert_eq!(answer.to_string(), line);
        }
        for bad in [
            "",
            "v",
            "v x",
            "y 1 2",
            "y 1 2 3",
            "e",
            "l -1",
            "q 1",
            "v 18446744073709551616",
            "v 99999999999999999999",
            "v 1x",
            "v 1234567890123456789/",
            "v 000000000000000000000",
        ] {
            assert_eq!(parse_answer(bad.as_bytes()), None, "{bad:?}");
        }
        assert_eq!(
            parse_u64(b"9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
        assert_eq!(
            parse_u64(b"10000000000000000000"),
            Some(10_000_000_000_000_000_000)
        );
        assert_eq!(parse_u64(b"00000000000000000007"), Some(7));
        assert_eq!(parse_entry(b"5 6"), Some((5, 6)));
        assert_eq!(parse_entry(b"5"), None);
    }

    #[test]
    fn programs_are_written_one_line_per_op() {
        let c1 = CursorId::ALL[1];
        let config = Config {
            initial_capacity: 9,
            ..Config::default()
        };
        let program = Program::new(
            config,
            vec![
                Op::Insert {
                    key: u64::MAX,
                    value: 0,
                },
                Op::Remove { key: 3 },
                Op::Get { key: 4 },
                Op::Clear,
                Op::Audit,
                Op::CursorNew { cursor: c1 },
                Op::CursorStep {
                    cursor: c1,
                    steps: 65535,
                },
                Op::CursorDrop { cursor: c1 },
            ],
        );
        let mut out = Vec::new();
        write_program(&program, None, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "program 9\ni 18446744073709551615 0\nr 3\ng 4\nx\na\nn 1\ns 1 65535\nd 1\nend\n"
        );
        let mut out = Vec::new();
        write_program(&program, Some(77), &mut out).unwrap();
        assert!(String::from_utf8(out)
            .unwrap()
            .starts_with("program 9 77\ni "));
        let grow = Program::new(Config::default(), vec![Op::ForceGrow]);
        assert!(write_program(&grow, None, &mut Vec::new()).is_err());
    }

    fn transcript(answers: Vec<Answer>, outcome: Outcome) -> Transcript {
        Transcript {
            hello: Hello {
                implementation: "test/1".into(),
                state_known: true,
                seeded: false,
                concurrent: false,
            },
            answers,
            contents: vec![],
            counts: vec![],
            outcome,
        }
    }

    fn panic_text(f: impl FnOnce()) -> String {
        let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_err();
        payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn an_answer_of_the_wrong_kind_panics_naming_both() {
        let mut t = DriverTarget::new(transcript(vec![Answer::Len(0)], Outcome::Complete));
        let text = panic_text(|| {
            t.insert(1, 2);
        });
        assert!(
            text.contains("out of step") && text.contains("l 0"),
            "{text}"
        );
    }

    #[test]
    fn a_dead_or_rejecting_driver_panics_with_its_reason() {
        let mut t = DriverTarget::new(transcript(vec![], Outcome::Died("exit 2: boom".into())));
        let text = panic_text(|| {
            t.len();
        });
        assert!(text.contains("died") && text.contains("boom"), "{text}");
        let mut t = DriverTarget::new(transcript(vec![], Outcome::Rejected("bad op".into())));
        let text = panic_text(|| {
            t.len();
        });
        assert!(
            text.contains("rejected") && text.contains("bad op"),
            "{text}"
        );
    }

    #[test]
    fn the_growth_flag_is_that_of_the_step_due_next() {
        let mut t = DriverTarget::new(transcript(
            vec![
                Answer::Yield {
                    key: 1,
                    value: 2,
                    growing: Some(true),
                },
                Answer::End { growing: None },
            ],
            Outcome::Complete,
        ));
        let c0 = CursorId::ALL[0];
        assert_eq!(t.is_growing(), Some(true));
        assert_eq!(t.cursor_next(c0), Some((1, 2)));
        assert_eq!(t.is_growing(), None);
        assert_eq!(t.cursor_next(c0), None);
        assert!(t.diagram().contains("c0 yielded 1 since created: (1, 2)"));
    }
}
