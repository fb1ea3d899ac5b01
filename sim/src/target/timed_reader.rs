//! A child process's output, read with a deadline: a driver that hangs must not hang the harness.
//!
//! A thread of its own reads the pipe in chunks and hands them over a channel; the caller takes
//! lines from them, waiting at most until a deadline for the next chunk. The thread ends when the
//! pipe closes (the process exited or was killed) or the reader is dropped.

use std::io::Read;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How much the reading thread takes from the pipe at once.
const CHUNK: usize = 1 << 16;

/// What [`TimedReader::read_line`] got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadLine {
    /// A line, with its newline (without one if it was the last bytes before the pipe closed).
    Line,
    /// The pipe closed with nothing more to read.
    Closed,
    /// Nothing completed a line before the deadline.
    TimedOut,
}

/// Lines of a pipe, each waited for until a deadline.
pub struct TimedReader {
    chunks: Receiver<Vec<u8>>,
    buffer: Vec<u8>,
    /// Where the unread part of `buffer` starts.
    start: usize,
    /// A line that [`TimedReader::next_line`] had to put together from more than one chunk.
    spill: Vec<u8>,
}

impl TimedReader {
    /// Starts reading `source` on a thread of its own.
    pub fn new(mut source: impl Read + Send + 'static) -> TimedReader {
        let (sender, chunks) = mpsc::channel();
        std::thread::spawn(move || {
            // One buffer for the reads; each chunk sent is a copy of what was read, no more.
            let mut read = vec![0u8; CHUNK];
            loop {
                match source.read(&mut read) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if sender.send(read[..n].to_vec()).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        TimedReader {
            chunks,
            buffer: Vec::new(),
            start: 0,
            spill: Vec::new(),
        }
    }

    /// What has arrived and not been read yet (without waiting for more).
    pub fn unread(&self) -> &[u8] {
        &self.buffer[self.start..]
    }

    /// Marks the first `n` bytes of [`TimedReader::unread`] as read.
    pub fn consume(&mut self, n: usize) {
        self.start += n.min(self.buffer.len() - self.start);
    }

    /// The next line, as [`TimedReader::read_line`] reads it, lent from the reader's own buffer
    /// until the next call: a line that arrived whole in one chunk (nearly all of them) is not
    /// copied. `Err` is [`ReadLine::Closed`] or [`ReadLine::TimedOut`].
    pub fn next_line(&mut self, timeout: Duration) -> Result<&[u8], ReadLine> {
        let unread = &self.buffer[self.start..];
        if let Some(end) = unread.iter().position(|&b| b == b'\n') {
            let start = self.start;
            self.start += end + 1;
            return Ok(&self.buffer[start..=start + end]);
        }
        let mut spill = std::mem::take(&mut self.spill);
        spill.clear();
        let read = self.read_line(&mut spill, timeout);
        self.spill = spill;
        match read {
            ReadLine::Line => Ok(&self.spill),
            ended => Err(ended),
        }
    }

    /// Appends the next line to `line`, waiting for it at most `timeout` once what is buffered
    /// runs out. The clock is read only then: most lines are already in the buffer, and a clock
    /// read per line was a tenth of a fast driver target's time.
    pub fn read_line(&mut self, line: &mut Vec<u8>, timeout: Duration) -> ReadLine {
        let mut deadline: Option<Instant> = None;
        loop {
            let unread = &self.buffer[self.start..];
            if let Some(end) = unread.iter().position(|&b| b == b'\n') {
                line.extend_from_slice(&unread[..=end]);
                self.start += end + 1;
                return ReadLine::Line;
            }
            line.extend_from_slice(unread);
            self.start = self.buffer.len();
            let wait = match deadline {
                None => {
                    deadline = Some(Instant::now() + timeout);
                    timeout
                }
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
            };
            match self.chunks.recv_timeout(wait) {
                Ok(chunk) => {
                    self.buffer = chunk;
                    self.start = 0;
                }
                Err(RecvTimeoutError::Timeout) => return ReadLine::TimedOut,
                Err(RecvTimeoutError::Disconnected) if line.is_empty() => return ReadLine::Closed,
                Err(RecvTimeoutError::Disconnected) => return ReadLine::Line,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn later() -> Duration {
        Duration::from_secs(5)
    }

    /// A reader whose chunks the test sends itself, split where it likes.
    fn fed_by_hand() -> (mpsc::Sender<Vec<u8>>, TimedReader) {
        let (sender, chunks) = mpsc::channel();
        let reader = TimedReader {
            chunks,
            buffer: Vec::new(),
            start: 0,
            spill: Vec::new(),
        };
        (sender, reader)
    }

    #[test]
    fn lent_lines_are_the_lines_read_across_chunk_boundaries_too() {
        let (sender, mut reader) = fed_by_hand();
        for chunk in [&b"one\ntw"[..], b"", b"o\nthr", b"ee\nfour"] {
            sender.send(chunk.to_vec()).unwrap();
        }
        drop(sender);
        for want in [&b"one\n"[..], b"two\n", b"three\n", b"four"] {
            assert_eq!(reader.next_line(later()), Ok(want));
        }
        assert_eq!(reader.next_line(later()), Err(ReadLine::Closed));
    }

    #[test]
    fn a_lent_line_that_never_ends_times_out() {
        let (sender, mut reader) = fed_by_hand();
        sender.send(b"half a li".to_vec()).unwrap();
        assert_eq!(
            reader.next_line(Duration::from_millis(20)),
            Err(ReadLine::TimedOut)
        );
        drop(sender);
    }

    #[test]
    fn lines_come_whole_and_the_end_is_told_apart() {
        let mut reader = TimedReader::new(Cursor::new(b"one\ntwo\nthree".to_vec()));
        let mut line = Vec::new();
        for want in [&b"one\n"[..], b"two\n", b"three"] {
            line.clear();
            assert_eq!(reader.read_line(&mut line, later()), ReadLine::Line);
            assert_eq!(line, want);
        }
        line.clear();
        assert_eq!(reader.read_line(&mut line, later()), ReadLine::Closed);
    }

    /// A source that never answers, like a hung driver's pipe.
    struct Silent;

    impl Read for Silent {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            std::thread::sleep(Duration::from_secs(3600));
            Ok(0)
        }
    }

    #[test]
    fn a_silent_source_times_out_at_the_deadline() {
        let mut reader = TimedReader::new(Silent);
        let started = Instant::now();
        let mut line = Vec::new();
        let timeout = Duration::from_millis(100);
        assert_eq!(reader.read_line(&mut line, timeout), ReadLine::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(100));
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
