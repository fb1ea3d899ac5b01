//! A watchdog for seeds that never finish: a map that hangs inside a call (an in-process map
//! cannot be interrupted) would otherwise stop a campaign with nothing reported.
//!
//! Workers mark the seed they run ([`watch`]); a watchdog thread ([`start`]) looks at the marks
//! once a second and, when a seed has run longer than the deadline, hands it to a callback that
//! saves what is needed to run the seed again and ends the process. The clock decides only when
//! to give up on a seed, never what a seed does, so it changes nothing a seed replays.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The seeds being run now, with when each started.
static RUNNING: Mutex<Vec<(u64, Instant)>> = Mutex::new(Vec::new());

/// A seed marked as running until this is dropped.
#[must_use = "the seed counts as running only while the mark lives"]
pub struct Mark {
    seed: u64,
}

/// Marks `seed` as running on this thread until the returned mark is dropped.
pub fn watch(seed: u64) -> Mark {
    lock().push((seed, Instant::now()));
    Mark { seed }
}

impl Drop for Mark {
    fn drop(&mut self) {
        let mut running = lock();
        if let Some(at) = running.iter().position(|&(s, _)| s == self.seed) {
            running.swap_remove(at);
        }
    }
}

fn lock() -> std::sync::MutexGuard<'static, Vec<(u64, Instant)>> {
    RUNNING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The seed that has run longest, if it has run longer than `deadline`.
pub fn overdue(deadline: Duration) -> Option<(u64, Duration)> {
    let running = lock();
    running
        .iter()
        .map(|&(seed, started)| (seed, started.elapsed()))
        .filter(|&(_, ran)| ran > deadline)
        .max_by_key(|&(_, ran)| ran)
}

/// Starts the watchdog: once a seed has run longer than `deadline`, `on_hang` gets it and how
/// long it ran (it is expected to save the seed and end the process; the watchdog stops after
/// calling it).
pub fn start(deadline: Duration, on_hang: impl FnOnce(u64, Duration) + Send + 'static) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_secs(1).min(deadline));
        if let Some((seed, ran)) = overdue(deadline) {
            on_hang(seed, ran);
            return;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_is_overdue_only_while_marked_and_past_the_deadline() {
        let seed = u64::MAX - 7;
        let mark = watch(seed);
        std::thread::sleep(Duration::from_millis(20));
        assert!(overdue(Duration::from_millis(10)).is_some_and(|(s, _)| s == seed));
        assert!(overdue(Duration::from_secs(3600)).is_none());
        drop(mark);
        assert!(overdue(Duration::from_millis(10)).is_none_or(|(s, _)| s != seed));
    }
}
