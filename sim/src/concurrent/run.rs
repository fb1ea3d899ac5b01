//! Runs a concurrent program on real threads and logs every call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Barrier;

use super::log::{self, Call, What};
use super::program::{ConcurrentProgram, ReaderOp, WriterOp, READER_CURSORS};
use super::ConcurrentMap;
use crate::exec::catch_quietly;

/// What one run of a concurrent program did.
#[derive(Debug)]
pub struct RunLog {
    /// Every call, sorted by when it began.
    pub calls: Vec<Call>,
    /// The map's contents once every thread returned.
    pub contents: Vec<(u64, u64)>,
    /// A thread's panic, if one panicked (the map's bug, reported as a failure).
    pub panic: Option<String>,
}

/// The shared clock: one tick per moment, so every moment is distinct.
struct Clock(AtomicU64);

impl Clock {
    fn tick(&self) -> u64 {
        self.0.fetch_add(1, Ordering::SeqCst)
    }

    /// Runs `f` as `thread`'s call, logging it with the answer `what` makes of its result.
    fn call<T>(
        &self,
        log: &mut Vec<Call>,
        thread: u16,
        f: impl FnOnce() -> T,
        what: impl FnOnce(&T) -> What,
    ) -> T {
        let began = self.tick();
        let answer = f();
        let returned = self.tick();
        log.push(Call {
            thread,
            began,
            returned,
            what: what(&answer),
        });
        answer
    }
}

/// Runs `program` on `map` with one thread per writer and the reader on this one, all started
/// together once the prefill is in.
pub fn run(program: &ConcurrentProgram, map: &dyn ConcurrentMap) -> RunLog {
    let clock = Clock(AtomicU64::new(0));
    let mut calls = Vec::with_capacity(program.calls() + 64);
    let setup = catch_quietly(|| {
        for &(key, value) in &program.prefill {
            clock.call(
                &mut calls,
                0,
                || map.insert(key, value),
                |&old| What::Insert { key, value, old },
            );
        }
    });
    if let Err(panic) = setup {
        return RunLog {
            calls: log::sorted(calls),
            contents: Vec::new(),
            panic: Some(panic),
        };
    }
    let start = Barrier::new(program.writers.len() + 1);
    let budget = program.stores() + 1;
    let (writer_logs, reader) = std::thread::scope(|scope| {
        let writers: Vec<_> = program
            .writers
            .iter()
            .enumerate()
            .map(|(i, ops)| {
                let (clock, start) = (&clock, &start);
                scope.spawn(move || {
                    let thread = i as u16 + 1;
                    let mut log = Vec::with_capacity(ops.len());
                    start.wait();
                    let done = catch_quietly(|| {
                        for &op in ops {
                            write(clock, &mut log, thread, map, op);
                        }
                    });
                    (log, done.err())
                })
            })
            .collect();
        let mut log = Vec::with_capacity(program.reader.len() * 8);
        start.wait();
        let read = catch_quietly(|| read(&clock, &mut log, map, &program.reader, budget));
        let reader = (log, read.err());
        let writers: Vec<_> = writers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| (Vec::new(), Some("a writer thread died".to_string())))
            })
            .collect();
        (writers, reader)
    });
    let mut panic = reader.1;
    calls.extend(reader.0);
    for (log, died) in writer_logs {
        calls.extend(log);
        panic = panic.or(died);
    }
    let contents = match catch_quietly(|| map.contents()) {
        Ok(contents) => contents,
        Err(died) => {
            panic = panic.or(Some(died));
            Vec::new()
        }
    };
    RunLog {
        calls: log::sorted(calls),
        contents,
        panic,
    }
}

fn write(clock: &Clock, log: &mut Vec<Call>, thread: u16, map: &dyn ConcurrentMap, op: WriterOp) {
    match op {
        WriterOp::Insert { key, value } => {
            clock.call(
                log,
                thread,
                || map.insert(key, value),
                |&old| What::Insert { key, value, old },
            );
        }
        WriterOp::Remove { key } => {
            clock.call(
                log,
                thread,
                || map.remove(key),
                |&old| What::Remove { key, old },
            );
        }
        WriterOp::Get { key } => {
            clock.call(
                log,
                thread,
                || map.get(key),
                |&found| What::Get { key, found },
            );
        }
        WriterOp::Clear => clock.call(log, thread, || map.clear(), |_| What::Clear),
    }
}

/// A live cursor of the reader and how often it yielded.
type LiveCursor<'m> = Option<(Box<dyn Iterator<Item = (u64, u64)> + 'm>, u64)>;

/// The reader: cursors stepped while the writers run. A cursor that yields more than `budget`
/// times is stopped there (its last yield then breaks W4 in the check), so a cursor that never
/// ends cannot hang the run.
fn read(
    clock: &Clock,
    log: &mut Vec<Call>,
    map: &dyn ConcurrentMap,
    ops: &[ReaderOp],
    budget: u64,
) {
    let mut cursors: Vec<LiveCursor<'_>> = (0..READER_CURSORS).map(|_| None).collect();
    for &op in ops {
        match op {
            ReaderOp::CursorNew { cursor } => {
                let made = clock.call(log, 0, || map.cursor(), |_| What::CursorNew { cursor });
                cursors[usize::from(cursor)] = Some((made, 0));
            }
            ReaderOp::CursorStep { cursor, steps } => {
                for _ in 0..steps {
                    if !step(clock, log, &mut cursors, cursor, budget) {
                        break;
                    }
                }
            }
            ReaderOp::CursorDrop { cursor } => {
                if cursors[usize::from(cursor)].take().is_some() {
                    clock.call(log, 0, || (), |_| What::Drop { cursor });
                }
            }
            ReaderOp::Get { key } => {
                clock.call(log, 0, || map.get(key), |&found| What::Get { key, found });
            }
        }
    }
    // Cursors still live are run to their end, so that they too are judged by W2.
    for cursor in 0..READER_CURSORS {
        while step(clock, log, &mut cursors, cursor, budget) {}
    }
}

/// One step of cursor `cursor`, logged; whether it may step again (it exists, has not ended and
/// is within `budget` yields).
fn step(
    clock: &Clock,
    log: &mut Vec<Call>,
    cursors: &mut [LiveCursor<'_>],
    cursor: u8,
    budget: u64,
) -> bool {
    let slot = &mut cursors[usize::from(cursor)];
    let Some((live, yields)) = slot else {
        return false;
    };
    if *yields > budget {
        return false;
    }
    let next = clock.call(
        log,
        0,
        || live.next(),
        |next| match *next {
            Some((key, value)) => What::Yield { cursor, key, value },
            None => What::End { cursor },
        },
    );
    match next {
        Some(_) => {
            *yields += 1;
            true
        }
        None => {
            *slot = None;
            false
        }
    }
}
