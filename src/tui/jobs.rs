//! Long work off the UI thread: evaluating a large problem, counting numeric nonzeros,
//! checking an entry by finite differences; each on a thread pool of its own
//! ([`in_own_pool`]), so that the UI's own parallel work is never queued behind it.
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
            let result = in_own_pool(|| work(&shared));
            // The receiver is gone if the job was dropped: nobody wants the result.
            let _ = sender.send(result);
        });
        Job {
            label: label.into(),
            progress,
            result,
        }
    }
}

/// Runs `work` with its parallel parts (rayon) on a thread pool of its own, as large as the
/// global one. Background work must not fill the global pool: rayon's workers finish their
/// own queued pieces before they take new work, so a keypress that summarises a slice on
/// the global pool would wait for a long count to end. With a pool each, the operating
/// system shares the cores between the UI and the background.
pub fn in_own_pool<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(rayon::current_num_threads())
        .thread_name(|n| format!("jacscope-background-{n}"))
        .build();
    match pool {
        Ok(pool) => pool.install(work),
        // No threads to spare: the work shares the global pool.
        Err(_) => work(),
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

    /// A job that keeps all its threads busy does not hold up parallel work on the global
    /// pool (a keypress summarising a large slice).
    #[test]
    fn background_work_leaves_the_global_pool_free() {
        use rayon::prelude::*;
        let job = Job::spawn("keeping every thread busy", |progress| {
            (0..rayon::current_num_threads() * 4)
                .into_par_iter()
                .for_each(|_| {
                    while !progress.is_cancelled() {
                        thread::sleep(Duration::from_millis(1));
                    }
                });
        });
        thread::sleep(Duration::from_millis(50));
        let (done, finished) = mpsc::channel();
        thread::spawn(move || {
            let sum: u64 = (0..1000u64).into_par_iter().sum();
            let _ = done.send(sum);
        });
        let sum = finished.recv_timeout(Duration::from_secs(20));
        job.cancel();
        assert_eq!(sum, Ok(499_500));
    }

    #[test]
    fn a_panicking_job_fails() {
        let job: Job<()> = Job::spawn("panicking", |_| panic!("on purpose"));
        assert_eq!(job.wait(), None);
        assert_eq!(job.poll(), JobState::Failed);
    }
}
