//! The terminal while the explorer runs: raw mode, the alternate screen, bracketed paste
//! and (with `--mouse`) mouse capture are set up in one place ([`enter`], and again after a
//! stop), and undone in one place, [`restore`], on every way out: quit, error, panic, and
//! SIGTERM, SIGHUP or SIGINT. SIGTSTP gives the terminal back and stops; SIGCONT takes it
//! again, and the next frame ([`frame_permit`], [`take_redraw_all`]) is drawn whole.
//!
//! A panic on the explorer's thread ends it: the terminal is restored, then the panic is
//! reported on the normal screen. A panic on another thread (a background job, a check)
//! is caught by whoever waits for it and shown in the explorer, which goes on; its report
//! would scribble over the screen, so it is held back and printed once the terminal is
//! restored.

use std::io::{self, Write, stdout};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::{panic, process, thread};

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::cursor::Show;
use ratatui::crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, Event,
};
use ratatui::crossterm::queue;
use ratatui::crossterm::style::force_color_output;
use ratatui::crossterm::terminal::{
    EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode,
    enable_raw_mode,
};
use ratatui::{DefaultTerminal, Terminal};

/// A test hook: set to `1`, this environment variable makes the explorer panic on the
/// first key press; set to `thread`, a thread it starts on each key press panics. The
/// end-to-end tests use it to check what either leaves of the terminal.
pub const TEST_PANIC: &str = "JACSCOPE_TEST_PANIC";

/// True from [`enter`] until [`restore`]: the explorer owns the terminal.
static OWNED: AtomicBool = AtomicBool::new(false);

/// True while the explorer is stopped with the terminal given back (SIGTSTP), to be taken
/// again on SIGCONT.
static SUSPENDED: AtomicBool = AtomicBool::new(false);

/// `--mouse`: mouse capture is part of taking the terminal.
static MOUSE: AtomicBool = AtomicBool::new(false);

/// Set when the terminal was taken again: the next frame is drawn whole.
static REDRAW_ALL: AtomicBool = AtomicBool::new(false);

/// Held while a frame is written and while the terminal changes hands (see
/// [`frame_permit`]).
static FRAME: Mutex<()> = Mutex::new(());

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
/// bracketed paste (a paste arrives as one event), mouse capture if asked. From here on a
/// panic or a terminating signal restores the terminal first, and SIGTSTP / SIGCONT give
/// it back and take it again; on error it is restored before returning.
pub fn enter(mouse: bool) -> io::Result<ExplorerTerminal> {
    MOUSE.store(mouse, Ordering::SeqCst);
    // Colours are written as the theme chose them: crossterm's own reading of NO_COLOR
    // would drop them behind `--color always`, each as an empty SGR that resets bold too.
    force_color_output(true);
    restore_on_signals()?;
    restore_on_panic();
    match take().and_then(|()| Terminal::new(CrosstermBackend::new(stdout()))) {
        Ok(terminal) => Ok(ExplorerTerminal(terminal)),
        Err(error) => {
            restore();
            Err(error)
        }
    }
}

/// Takes the terminal for the explorer: raw mode, the alternate screen, bracketed paste,
/// mouse capture with `--mouse`. Also after a stop, when the shell may have reset the
/// terminal: raw mode is set afresh (crossterm skips it while it thinks it is set).
fn take() -> io::Result<()> {
    OWNED.store(true, Ordering::SeqCst);
    disable_raw_mode()?;
    enable_raw_mode()?;
    let mut commands = Vec::new();
    queue!(commands, EnterAlternateScreen, EnableBracketedPaste)?;
    if MOUSE.load(Ordering::SeqCst) {
        queue!(commands, EnableMouseCapture)?;
    }
    write_to_terminal(&commands)
}

/// The right to write a frame: `None` while the terminal is not the explorer's (stopped,
/// or given back). Held while the frame is written, so that the terminal does not change
/// hands in the middle of one.
pub fn frame_permit() -> Option<MutexGuard<'static, ()>> {
    let permit = FRAME.lock().unwrap_or_else(|e| e.into_inner());
    OWNED.load(Ordering::SeqCst).then_some(permit)
}

/// True, once, after the terminal was taken again (SIGCONT): nothing of the explorer's
/// screen is left on it, so the next frame must be drawn whole.
pub fn take_redraw_all() -> bool {
    REDRAW_ALL.swap(false, Ordering::SeqCst)
}

/// On SIGTSTP (`kill -TSTP`, or Ctrl-Z in a cooked terminal): gives the terminal back
/// ([`restore`]), then stops the process as SIGTSTP's default action would.
#[cfg(unix)]
fn suspend() {
    {
        let _no_frame = FRAME.lock().unwrap_or_else(|e| e.into_inner());
        if OWNED.load(Ordering::SeqCst) {
            restore();
            SUSPENDED.store(true, Ordering::SeqCst);
        }
    }
    let _ = signal_hook::low_level::emulate_default_handler(signal_hook::consts::SIGTSTP);
}

/// On SIGCONT: takes the terminal again if the explorer had it when it stopped, asks for
/// the whole screen to be redrawn, and wakes the event loop with SIGWINCH (crossterm then
/// reports the terminal's size, which may have changed meanwhile).
#[cfg(unix)]
fn resume() {
    {
        let _no_frame = FRAME.lock().unwrap_or_else(|e| e.into_inner());
        let ours = SUSPENDED.swap(false, Ordering::SeqCst) || OWNED.load(Ordering::SeqCst);
        if !ours || take().is_err() {
            return;
        }
        REDRAW_ALL.store(true, Ordering::SeqCst);
    }
    let _ = signal_hook::low_level::raise(signal_hook::consts::SIGWINCH);
}

/// Gives the terminal back as it was, once: ends a frame cut short, ends bracketed paste,
/// releases the mouse, leaves the alternate screen, shows the cursor and turns raw mode
/// off; then prints the held panic reports. Errors are ignored: a terminal that cannot be
/// written to cannot be repaired either.
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
    let _ = write_to_terminal(&commands);
    let held = std::mem::take(&mut *HELD_REPORTS.lock().unwrap_or_else(|e| e.into_inner()));
    for report in held {
        // Not `eprintln!`: a closed stderr must not turn the report into a second panic.
        let _ = writeln!(io::stderr(), "{report}");
    }
}

/// Writes `bytes` straight to the terminal in one write, not through `Stdout`: its lock may
/// be held by another thread (main.rs holds it for the whole run) and its buffer may hold
/// half a frame.
#[cfg(unix)]
fn write_to_terminal(bytes: &[u8]) -> io::Result<()> {
    use std::fs::File;
    use std::os::fd::AsFd;
    let terminal = stdout().as_fd().try_clone_to_owned()?;
    File::from(terminal).write_all(bytes)
}

/// Writes `bytes` to the terminal through `Stdout` (no duplicate handle to write through
/// on this platform).
#[cfg(not(unix))]
fn write_to_terminal(bytes: &[u8]) -> io::Result<()> {
    let mut out = stdout();
    out.write_all(bytes)?;
    out.flush()
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
/// with status 128 + the signal's number, as the shell does for a process it killed; and
/// that gives the terminal back on SIGTSTP and takes it again on SIGCONT ([`suspend`],
/// [`resume`]). The handlers only note the signal; this thread does the work.
#[cfg(unix)]
fn restore_on_signals() -> io::Result<()> {
    use signal_hook::consts::{SIGCONT, SIGHUP, SIGINT, SIGTERM, SIGTSTP};
    use signal_hook::iterator::Signals;
    let mut signals = Signals::new([SIGTERM, SIGHUP, SIGINT, SIGTSTP, SIGCONT])?;
    thread::Builder::new()
        .name("signals".to_string())
        .spawn(move || {
            for signal in signals.forever() {
                match signal {
                    SIGTSTP => suspend(),
                    SIGCONT => resume(),
                    _ => {
                        restore();
                        process::exit(128 + signal);
                    }
                }
            }
        })?;
    Ok(())
}

/// Signals are a Unix matter; elsewhere the explorer restores the terminal on quit, error
/// and panic only.
#[cfg(not(unix))]
fn restore_on_signals() -> io::Result<()> {
    Ok(())
}
