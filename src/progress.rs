//! Progress and cancellation of long work (building a large problem, counting numeric
//! nonzeros), shared between the thread doing the work and a view on another thread.
//!
//! The work sets a total once, then advances; a view polls [`Progress::done`],
//! [`Progress::total`] and [`Progress::stage`] and may call [`Progress::cancel`], after which
//! the work stops at its next checkpoint (within a fraction of a second) and returns `None`.
//! The library never draws anything: the TUI draws a bar, the CLI a line on stderr.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Progress and cancellation of one piece of long work.
#[derive(Debug, Default)]
pub struct Progress {
    /// Units of work in all.
    total: AtomicU64,
    /// Units of work done so far.
    done: AtomicU64,
    /// Set to stop the work early.
    cancelled: AtomicBool,
    /// What is being done now, in words ("computing X @ W.T").
    stage: Mutex<String>,
}

impl Progress {
    /// A fresh, uncancelled progress record.
    pub fn new() -> Progress {
        Progress::default()
    }

    /// Units of work done so far.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Units of work in all (0 until the work has started).
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// The share of the work done, in `0.0..=1.0` (0 until the work has started).
    pub fn fraction(&self) -> f64 {
        let total = self.total();
        if total == 0 {
            0.0
        } else {
            (self.done() as f64 / total as f64).min(1.0)
        }
    }

    /// What is being done now, in words (empty if the work did not say).
    pub fn stage(&self) -> String {
        self.stage.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Asks the work to stop as soon as possible.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// True once [`Self::cancel`] has been called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Starts the work: `total` units, none done yet.
    pub(crate) fn start(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
    }

    /// Records `units` more units of work as done.
    pub(crate) fn advance(&self, units: u64) {
        self.done.fetch_add(units, Ordering::Relaxed);
    }

    /// Says what is being done now.
    pub(crate) fn set_stage(&self, stage: impl Into<String>) {
        if let Ok(mut s) = self.stage.lock() {
            *s = stage.into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fraction_follows_the_work_and_cancel_sticks() {
        let progress = Progress::new();
        assert_eq!(progress.fraction(), 0.0);
        progress.start(8);
        progress.set_stage("counting");
        progress.advance(2);
        assert_eq!((progress.done(), progress.total()), (2, 8));
        assert_eq!(progress.fraction(), 0.25);
        assert_eq!(progress.stage(), "counting");
        assert!(!progress.is_cancelled());
        progress.cancel();
        assert!(progress.is_cancelled());
    }
}
