//! Concurrent programs run by a driver process (a map in another language): the request that
//! carries the program, and the call log that comes back (docs/driver-protocol.md, "Concurrent
//! programs").
//!
//! The driver runs the threads itself, with a clock of its own shared by them, so its log means
//! what an in-process run's log means ([`super::log`]) and goes to the same checker.

use std::fmt::Write as _;

use super::log::{self, Call, What};
use super::program::{ConcurrentProgram, ReaderOp, WriterOp};
use super::run::RunLog;
use crate::target::driver::DriverKind;

/// The program as protocol text: `concurrent <capacity> <seed> <writers>`, the prefill as `p`
/// lines, each thread's ops as `<thread> <op>` lines in the thread's order, then `end`.
pub fn request(program: &ConcurrentProgram) -> Vec<u8> {
    let mut text = String::with_capacity(program.calls() * 16 + 64);
    let _ = writeln!(
        text,
        "concurrent {} {} {}",
        program.capacity,
        program.hash_seed,
        program.writers.len()
    );
    for &(key, value) in &program.prefill {
        let _ = writeln!(text, "p {key} {value}");
    }
    for (i, ops) in program.writers.iter().enumerate() {
        let thread = i + 1;
        for op in ops {
            let _ = match *op {
                WriterOp::Insert { key, value } => writeln!(text, "{thread} i {key} {value}"),
                WriterOp::Remove { key } => writeln!(text, "{thread} r {key}"),
                WriterOp::Get { key } => writeln!(text, "{thread} g {key}"),
                WriterOp::Clear => writeln!(text, "{thread} x"),
            };
        }
    }
    for op in &program.reader {
        let _ = match *op {
            ReaderOp::CursorNew { cursor } => writeln!(text, "0 n {cursor}"),
            ReaderOp::CursorStep { cursor, steps } => writeln!(text, "0 s {cursor} {steps}"),
            ReaderOp::CursorDrop { cursor } => writeln!(text, "0 d {cursor}"),
            ReaderOp::Get { key } => writeln!(text, "0 g {key}"),
        };
    }
    text.push_str("end\n");
    text.into_bytes()
}

/// Runs `program` on this thread's driver of `kind` and reads back its log. Whatever keeps the
/// log from being whole (the driver died, hung, refused the program or wrote a line out of
/// protocol, or a thread of it threw) is the run's `panic`: a failure of the map's run, with the
/// calls that were logged.
pub fn run(kind: &DriverKind, program: &ConcurrentProgram) -> RunLog {
    let request = request(program);
    let answered = kind.with_driver(|driver| {
        if !driver.hello().concurrent {
            return Err((
                format!(
                    "driver {} does not run concurrent programs (its hello has no `concurrent`)",
                    driver.hello().implementation
                ),
                Vec::new(),
            ));
        }
        driver.exchange_lines(&request)
    });
    let (lines, broke) = match answered {
        Ok(Ok(lines)) => (lines, None),
        Ok(Err((why, lines))) => (lines, Some(why)),
        Err(cannot_start) => (Vec::new(), Some(cannot_start.0)),
    };
    let mut ran = parse(&lines);
    if let Some(why) = broke {
        ran.panic = Some(
            ran.panic
                .map_or(why.clone(), |p| format!("{p}; then {why}")),
        );
    }
    ran
}

/// Reads a driver's answer to a concurrent program (its lines before `done`).
pub fn parse(lines: &[String]) -> RunLog {
    let mut calls = Vec::new();
    let mut contents = Vec::new();
    let mut panic: Option<String> = None;
    // The first thing wrong is the one reported.
    let complain = |panic: &mut Option<String>, why: String| {
        panic.get_or_insert(why);
    };
    let mut entries_left: Option<u64> = None;
    for line in lines {
        if let Some(left) = entries_left.as_mut().filter(|left| **left > 0) {
            match entry(line) {
                Some(e) => {
                    contents.push(e);
                    *left -= 1;
                }
                None => complain(
                    &mut panic,
                    format!("the driver wrote `{line}` where a `<key> <value>` entry was due"),
                ),
            }
            continue;
        }
        if let Some(n) = line.strip_prefix("c ") {
            match n.parse::<u64>() {
                Ok(n) if entries_left.is_none() => entries_left = Some(n),
                _ => complain(
                    &mut panic,
                    format!("the driver wrote a bad `c` line: `{line}`"),
                ),
            }
        } else if let Some(message) = line.strip_prefix("error ") {
            complain(
                &mut panic,
                format!("the driver refused the program: {message}"),
            );
        } else if let Some(thrown) = line.strip_prefix("panic ") {
            let (thread, message) = thrown.split_once(' ').unwrap_or((thrown, ""));
            complain(
                &mut panic,
                format!("thread {thread} of the driver threw: {message}"),
            );
        } else {
            match call(line) {
                Some(c) => calls.push(c),
                None => complain(
                    &mut panic,
                    format!("the driver wrote `{line}` where a logged call was due"),
                ),
            }
        }
    }
    match entries_left {
        None if panic.is_none() => {
            panic = Some("the driver's answer has no contents (`c <n>`)".into());
        }
        Some(left) if left > 0 && panic.is_none() => {
            panic = Some(format!("the driver's contents ended {left} entries short"));
        }
        _ => {}
    }
    RunLog {
        calls: log::sorted(calls),
        contents,
        panic,
    }
}

fn entry(line: &str) -> Option<(u64, u64)> {
    let (key, value) = line.split_once(' ')?;
    Some((key.parse().ok()?, value.parse().ok()?))
}

/// `none` for `-`, else the number.
fn answer(word: &str) -> Option<Option<u64>> {
    if word == "-" {
        Some(None)
    } else {
        word.parse().ok().map(Some)
    }
}

/// One logged call: `<thread> <began> <returned> <op> <operands...> [<answer>]`.
fn call(line: &str) -> Option<Call> {
    let mut words = line.split(' ');
    let thread: u16 = words.next()?.parse().ok()?;
    let began: u64 = words.next()?.parse().ok()?;
    let returned: u64 = words.next()?.parse().ok()?;
    let op = words.next()?;
    let rest: Vec<&str> = words.collect();
    let num = |i: usize| rest.get(i).and_then(|w| w.parse::<u64>().ok());
    let handle = |i: usize| rest.get(i).and_then(|w| w.parse::<u8>().ok());
    let what = match (op, rest.len()) {
        ("i", 3) => What::Insert {
            key: num(0)?,
            value: num(1)?,
            old: answer(rest[2])?,
        },
        ("r", 2) => What::Remove {
            key: num(0)?,
            old: answer(rest[1])?,
        },
        ("g", 2) => What::Get {
            key: num(0)?,
            found: answer(rest[1])?,
        },
        ("x", 0) => What::Clear,
        ("n", 1) => What::CursorNew { cursor: handle(0)? },
        ("y", 3) => What::Yield {
            cursor: handle(0)?,
            key: num(1)?,
            value: num(2)?,
        },
        ("e", 1) => What::End { cursor: handle(0)? },
        ("d", 1) => What::Drop { cursor: handle(0)? },
        _ => return None,
    };
    (began < returned).then_some(Call {
        thread,
        began,
        returned,
        what,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn a_request_names_every_call_of_every_thread() {
        let program = ConcurrentProgram::generate(3, 2);
        let text = String::from_utf8(request(&program)).unwrap();
        let mut rows = text.lines();
        assert_eq!(
            rows.next().unwrap(),
            format!("concurrent {} {} 2", program.capacity, program.hash_seed)
        );
        assert_eq!(text.lines().count(), program.calls() + 2);
        assert!(text.ends_with("\nend\n"));
        let writer_2 = text.lines().filter(|l| l.starts_with("2 ")).count();
        assert_eq!(writer_2, program.writers[1].len());
    }

    #[test]
    fn a_log_is_read_back_sorted_with_its_contents() {
        let ran = parse(&lines(
            "0 0 1 i 1 10 -\n1 4 5 r 1 10\n0 2 3 n 0\n0 6 7 y 0 2 20\n0 8 9 e 0\n1 10 11 x\n\
             1 12 13 g 5 -\n0 14 15 d 1\nc 1\n2 20",
        ));
        assert_eq!(ran.panic, None);
        assert_eq!(ran.contents, vec![(2, 20)]);
        let began: Vec<u64> = ran.calls.iter().map(|c| c.began).collect();
        assert_eq!(began, [0, 2, 4, 6, 8, 10, 12, 14]);
        assert_eq!(
            ran.calls[2].what,
            What::Remove {
                key: 1,
                old: Some(10)
            }
        );
        assert_eq!(
            ran.calls[3].what,
            What::Yield {
                cursor: 0,
                key: 2,
                value: 20
            }
        );
    }

    #[test]
    fn a_broken_answer_is_the_runs_failure_never_a_clean_log() {
        for (answer, says) in [
            ("0 0 1 i 1 10 -", "no contents"),
            ("c 2\n1 10", "1 entries short"),
            ("0 0 1 i 1 10\nc 0", "where a logged call was due"),
            ("0 1 1 x\nc 0", "where a logged call was due"),
            ("0 0 1 q\nc 0", "where a logged call was due"),
            ("error program line 2: bad\nc 0", "refused the program"),
            (
                "panic 1 java.lang.IllegalStateException: x\nc 0",
                "thread 1 of the driver threw",
            ),
            ("c 1\nten 10", "entry was due"),
        ] {
            let ran = parse(&lines(answer));
            let panic = ran.panic.unwrap_or_default();
            assert!(panic.contains(says), "{answer:?}: {panic}");
        }
    }
}
