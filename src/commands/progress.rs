//! Progress of long work on stderr: one line redrawn in place while the work runs, erased
//! when it ends or a terminating signal (Ctrl-C, `kill`) ends the program, shown only when
//! stderr is a terminal and the work lasts more than a moment. Pipes, files and tests see
//! nothing.

use std::io::{IsTerminal, Write, stderr};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use crate::progress::Progress;

/// Work shorter than this shows no progress line.
const QUIET_FOR: Duration = Duration::from_millis(300);

/// How often the line is redrawn.
const REDRAW_EVERY: Duration = Duration::from_millis(100);

/// Back to the start of the line, and erase it.
const ERASE_LINE: &[u8] = b"\r\x1b[2K";

/// Runs `work` with a fresh [`Progress`], drawing it on stderr meanwhile if stderr is a
/// terminal.
pub fn with_progress<T>(work: impl FnOnce(&Progress) -> T) -> T {
    let progress = Progress::new();
    if !stderr().is_terminal() {
        return work(&progress);
    }
    let (finished, wait) = channel::<()>();
    std::thread::scope(|scope| {
        let progress = &progress;
        scope.spawn(move || {
            let start = Instant::now();
            let mut drawn = false;
            #[cfg(unix)]
            let mut erase_on_signal = None;
            while let Err(RecvTimeoutError::Timeout) = wait.recv_timeout(REDRAW_EVERY) {
                let elapsed = start.elapsed();
                if elapsed >= QUIET_FOR {
                    #[cfg(unix)]
                    if erase_on_signal.is_none() {
                        erase_on_signal = Some(erase_line_on_signal());
                    }
                    let line = progress_line(&progress.stage(), progress.fraction(), elapsed);
                    // One write, so a signal finds the line whole, not half drawn.
                    let _ = stderr().write_all(&[ERASE_LINE, line.as_bytes()].concat());
                    drawn = true;
                }
            }
            if drawn {
                let _ = stderr().write_all(ERASE_LINE);
            }
        });
        let result = work(progress);
        drop(finished);
        result
    })
}

/// Erases the progress line if a terminating signal ends the program while the returned
/// value is alive.
#[cfg(unix)]
fn erase_line_on_signal() -> crate::signal_exit::OnSignal {
    // SAFETY: the action calls only write(2) on stderr, async-signal-safe, with a static
    // buffer.
    unsafe {
        crate::signal_exit::OnSignal::run(|| {
            libc::write(2, ERASE_LINE.as_ptr().cast(), ERASE_LINE.len());
        })
    }
}

/// The progress line: what is being done, how far, and for how long.
fn progress_line(stage: &str, fraction: f64, elapsed: Duration) -> String {
    const WIDTH: usize = 20;
    let stage: String = if stage.chars().count() > 50 {
        stage.chars().take(49).chain(['…']).collect()
    } else {
        stage.to_string()
    };
    let filled = ((fraction * WIDTH as f64).round() as usize).min(WIDTH);
    format!(
        "{stage} [{}{}] {:3.0}% {:.1} s",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled),
        fraction * 100.0,
        elapsed.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_what_how_far_and_how_long() {
        assert_eq!(
            progress_line("computing X @ W.T", 0.25, Duration::from_millis(1500)),
            "computing X @ W.T [#####---------------]  25% 1.5 s"
        );
        let long = "computing ".to_string() + &"Σ".repeat(60);
        let line = progress_line(&long, 1.0, Duration::ZERO);
        assert!(line.starts_with(&"computing ΣΣ".to_string()), "{line}");
        assert!(line.contains("…"), "{line}");
        assert!(
            line.ends_with("[####################] 100% 0.0 s"),
            "{line}"
        );
    }

    #[test]
    fn without_a_terminal_the_work_just_runs() {
        // Test harnesses capture stderr, so it is not a terminal.
        let answer = with_progress(|progress| {
            progress.start(2);
            progress.advance(2);
            progress.fraction()
        });
        assert_eq!(answer, 1.0);
    }
}
