//! The terminal while the explorer runs: raw mode, the alternate screen, bracketed paste
//! and (with `--mouse`) mouse capture are set up in one place, [`enter`], and undone in one place,
//! [`restore`], on every way out: quit, error, panic, and SIGTERM, SIGHUP or SIGINT.
//!
//! A panic on the explorer's thread ends it: the terminal is restored, then the panic is
//! reported on the normal screen. A panic on another thread (a background job, a check)
//! is caught by whoever waits for it and shown in the explorer, which goes on; its report
//! would scribble over the screen, so it is held back and printed once the terminal is
//! restored.

use std::io::{self, Write, stdout};
use std::ops::{Deref, DerefMut};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::{panic, process, thread};

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::cursor::Show;
use ratatui::crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, Event,
};
use ratatui::crossterm::terminal::{
    EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode,
    enable_raw_mode,
};
use ratatui::crossterm::{execute, queue};
use ratatui::{DefaultTerminal, Terminal};

/// A test hook: set to `1`, this environment variable makes the explorer panic on the
/// first key press; set to `thread`, a thread it starts on each key press panics. The
/// end-to-end tests use it to check what either leaves of the terminal.
pub const TEST_PANIC: &str = "JACSCOPE_TEST_PANIC";

/// True from [`enter`] until [`restore`]: the explorer owns the terminal.
static OWNED: AtomicBool = AtomicBool::new(false);

/// Reports of panics on other threads, held back while the explorer owns the terminal.
static HELD_REPORTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The terminal in the explorer's hands; dropping it gives the terminal back
/// ([`restore`]), also when a panic unwinds through it.
pub struct ExplorerTerminal(DefaultTerminal);

impl Deref for ExplorerTerminal {
    type Target = DefaultTerminal;

    fn deref(&self) -> &DefaultTerminal {
        &self.0
    }
}

impl DerefMut for ExplorerTerminal {
    fn deref_mut(&mut self) -> &mut DefaultTerminal {
        &mut self.0
    }
}

impl Drop for ExplorerTerminal {
    fn drop(&mut self) {
        restore();
    }
}

/// Sets the terminal up for the explorer on this thread: raw mode, the alternate screen,
/// bracketed paste (a paste arrives as one event), mouse capture if asked. From here on a panic or a terminating signal restores the
/// terminal first; on error it is restored before returning.
pub fn enter(mouse: bool) -> io::Result<ExplorerTerminal> {
    restore_on_signals()?;
    restore_on_panic();
    OWNED.store(true, Ordering::SeqCst);
    let setup = || {
        enable_raw_mode()?;
        execute!(stdout(), EnterAlternateScreen, EnableBracketedPaste)?;
        if mouse {
            execute!(stdout(), EnableMouseCapture)?;
        }
        Terminal::new(CrosstermBackend::new(stdout()))
    };
    match setup() {
        Ok(terminal) => Ok(ExplorerTerminal(terminal)),
        Err(error) => {
            restore();
            Err(error)
        }
    }
}

/// Gives the terminal back as it was, once: ends a frame cut short, ends bracketed paste,
/// releases the mouse, leaves the alternate screen, shows the cursor and turns raw mode
/// off; then prints the held panic reports. Errors are ignored: a terminal that cannot be written to cannot be
/// repaired either.
pub fn restore() {
    if !OWNED.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = disable_raw_mode();
    let mut commands = Vec::new();
    let _ = queue!(
        commands,
        EndSynchronizedUpdate,
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        Show
    );
    write_to_terminal(&commands);
    let held = std::mem::take(&mut *HELD_REPORTS.lock().unwrap_or_else(|e| e.into_inner()));
    for report in held {
        eprintln!("{report}");
    }
}

/// Writes `bytes` straight to the terminal in one write, not through `Stdout`: its lock may
/// be held by another thread (main.rs holds it for the whole run) and its buffer may hold
/// half a frame.
#[cfg(unix)]
fn write_to_terminal(bytes: &[u8]) {
    use std::fs::File;
    use std::os::fd::AsFd;
    if let Ok(terminal) = stdout().as_fd().try_clone_to_owned() {
        let _ = File::from(terminal).write_all(bytes);
    }
}

/// Writes `bytes` to the terminal through `Stdout` (no duplicate handle to write through
/// on this platform).
#[cfg(not(unix))]
fn write_to_terminal(bytes: &[u8]) {
    let mut out = stdout();
    let _ = out.write_all(bytes);
    let _ = out.flush();
}

/// The test hook of [`TEST_PANIC`], on a key press.
pub fn panic_on_key_if_asked(event: &Event) {
    if !matches!(event, Event::Key(_)) {
        return;
    }
    match std::env::var(TEST_PANIC).as_deref() {
        Ok("1") => panic!("{TEST_PANIC}=1: a panic on the first key press, as asked"),
        Ok("thread") => {
            // Like a background job that fails: whoever waits for it sees the failure.
            let failed = thread::spawn(|| {
                panic!("{TEST_PANIC}=thread: a panic on another thread, as asked")
            });
            let _ = failed.join();
        }
        _ => {}
    }
}

/// On this thread, a panic restores the terminal before it is reported, so that the
/// report lands on the normal screen, readable; on other threads it is held back while
/// the explorer owns the terminal (see the module's documentation).
fn restore_on_panic() {
    let explorer = thread::current().id();
    let report = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let current = thread::current();
        if current.id() == explorer {
            restore();
        } else {
            // Under the lock, so that `restore` either prints this report or comes after.
            let mut held = HELD_REPORTS.lock().unwrap_or_else(|e| e.into_inner());
            if OWNED.load(Ordering::SeqCst) {
                let name = current.name().unwrap_or("<unnamed>");
                held.push(format!("thread '{name}' {info}"));
                return;
            }
        }
        report(info);
    }));
}

/// Starts a thread that, on SIGTERM, SIGHUP or SIGINT (sent by `kill`, a closing terminal
/// or a lost SSH connection; Ctrl-C is a key in raw mode), restores the terminal and exits
/// with status 128 + the signal's number, as the shell does for a process it killed.
#[cfg(unix)]
fn restore_on_signals() -> io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;
    let mut signals = Signals::new([SIGTERM, SIGHUP, SIGINT])?;
    thread::Builder::new()
        .name("signals".to_string())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                restore();
                process::exit(128 + signal);
            }
        })?;
    Ok(())
}

/// Terminating signals are a Unix matter; elsewhere the explorer restores the terminal on
/// quit, error and panic only.
#[cfg(not(unix))]
fn restore_on_signals() -> io::Result<()> {
    Ok(())
}
