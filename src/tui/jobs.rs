//! Long work off the UI thread: evaluating a large problem, counting numeric nonzeros.
//!
//! A [`Job`] runs a closure on its own thread with a shared [`Progress`]; the explorer polls
//! it once per frame ([`Job::poll`]) to draw a bar, and cancels it on Esc or when it is no
//! longer wanted (dropping a job cancels it).

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::thread;

use crate::progress::Progress;

/// Long work on another thread, with its progress and, once finished, its result.
#[derive(Debug)]
pub struct Job<T> {
    /// What the job does, in words ("counting numeric nonzeros").
    pub label: String,
    progress: Arc<Progress>,
    result: Receiver<T>,
}

/// Where a job stands after [`Job::poll`].
#[derive(Debug, PartialEq)]
pub enum JobState<T> {
    /// Still working.
    Running,
    /// Finished with this result.
    Finished(T),
    /// The thread ended without a result (it panicked).
    Failed,
}

impl<T: Send + 'static> Job<T> {
    /// Starts `work` on a new thread; it reports into, and should stop early when asked
    /// by, the progress it is given.
    pub fn spawn(
        label: impl Into<String>,
        work: impl FnOnce(&Progress) -> T + Send + 'static,
    ) -> Job<T> {
        let progress = Arc::new(Progress::new());
        let (sender, result) = mpsc::channel();
        let shared = Arc::clone(&progress);
        thread::spawn(move || {
            // The receiver is gone if the job was dropped: nobody wants the result.
            let _ = sender.send(work(&shared));
        });
        Job {
            label: label.into(),
            progress,
            result,
        }
    }
}

impl<T> Job<T> {
    /// The job's progress.
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// Asks the job to stop; it then finishes soon, with whatever its work returns when
    /// cancelled.
    pub fn cancel(&self) {
        self.progress.cancel();
    }

    /// Where the job stands, without waiting.
    pub fn poll(&self) -> JobState<T> {
        match self.result.try_recv() {
            Ok(result) => JobState::Finished(result),
            Err(TryRecvError::Empty) => JobState::Running,
            Err(TryRecvError::Disconnected) => JobState::Failed,
        }
    }

    /// Waits for the job to end (for tests and tools); `None` if its thread panicked.
    pub fn wait(&self) -> Option<T> {
        self.result.recv().ok()
    }
}

impl<T> Drop for Job<T> {
    fn drop(&mut self) {
        self.progress.cancel();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_job_reports_its_result() {
        let job = Job::spawn("adding", |_| 2 + 2);
        assert_eq!(job.wait(), Some(4));
    }

    #[test]
    fn a_cancelled_job_stops_early() {
        let job = Job::spawn("waiting for cancel", |progress| {
            progress.start(1);
            while !progress.is_cancelled() {
                thread::sleep(Duration::from_millis(1));
            }
            "stopped"
        });
        thread::sleep(Duration::from_millis(20));
        assert_eq!(job.poll(), JobState::Running);
        job.cancel();
        assert_eq!(job.wait(), Some("stopped"));
    }

    #[test]
    fn a_panicking_job_fails() {
        let job: Job<()> = Job::spawn("panicking", |_| panic!("on purpose"));
        assert_eq!(job.wait(), None);
        assert_eq!(job.poll(), JobState::Failed);
    }
}
