//! The event loop: terminal events in, actions to the app, frames out.
//!
//! It redraws only after events (no ticking while idle), handles a burst of events before
//! drawing once (a run of resizes counts as the last one; a paste is one event), wraps each
//! frame in a
//! synchronized update, and runs the finite-difference check on a worker thread once the
//! cursor has rested for a moment (`REST`). While work runs in the background (see
//! [`App::busy`]) it wakes every `PROGRESS_TICK` to take results and redraw progress.

use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{
    self, Event, KeyEventKind, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use ratatui::layout::{Position, Rect};
use ratatui::{DefaultTerminal, Frame};

use super::action::{Action, Direction, Mode, TextEdit};
use super::app::{self, App, CheckReport, CheckRequest, CheckState};
use super::draw;
use super::jobs::{JobState, in_own_pool};
use super::keymap;
use super::terminal;
use super::theme::Theme;
use crate::error::Error;
use crate::problem::{PreparedProblem, Problem};

/// How long the cursor must rest before its finite-difference check starts.
const REST: Duration = Duration::from_millis(150);
/// How often a running check is looked at.
const CHECK_POLL: Duration = Duration::from_millis(40);
/// How long the first problem may take before its progress is drawn.
const FIRST_FRAME: Duration = Duration::from_millis(50);
/// How often the first evaluation is looked at while it runs.
const LOAD_POLL: Duration = Duration::from_millis(5);
/// How often the progress of background work is redrawn.
const PROGRESS_TICK: Duration = Duration::from_millis(100);
/// Most events handled before a frame is drawn.
const MAX_BATCH: usize = 256;
/// How long [`event_waiting`] looks for input already there.
const WAITING: Duration = Duration::from_millis(1);

/// Runs `app` in `terminal` until it quits.
pub fn run(terminal: &mut DefaultTerminal, app: &mut App) -> io::Result<()> {
    let worker = CheckWorker::spawn();
    let mut dirty = true;
    loop {
        if dirty {
            draw(terminal, app)?;
            dirty = false;
        }
        if app.should_quit() {
            return Ok(());
        }
        let check_timeout = match app.inspection().check {
            CheckState::Waiting => Some(REST),
            CheckState::Running => Some(CHECK_POLL),
            CheckState::Done(_) => None,
        };
        let timeout = match (check_timeout, app.busy()) {
            (Some(check), true) => Some(check.min(PROGRESS_TICK)),
            (None, true) => Some(PROGRESS_TICK),
            (check, false) => check,
        };
        let event_ready = match timeout {
            Some(timeout) => event::poll(timeout)?,
            None => true,
        };
        if event_ready {
            dirty |= handle_burst(app)?;
        } else {
            if let Some(request) = app.check_request() {
                worker.send(request);
            }
            // A progress bar moves between events.
            dirty |= app.busy();
        }
        dirty |= app.poll_jobs();
        while let Some(report) = worker.try_receive() {
            app.check_finished(report);
            dirty = true;
        }
    }
}

/// Draws one frame of `app` inside a synchronized update.
fn draw(terminal: &mut DefaultTerminal, app: &App) -> io::Result<()> {
    draw_with(terminal, |frame| draw::draw(frame, app))
}

/// Draws one frame with `render` inside a synchronized update; the whole screen if the
/// terminal was taken again after a stop, nothing while it is given back (see
/// [`terminal::frame_permit`]).
fn draw_with(terminal: &mut DefaultTerminal, render: impl FnOnce(&mut Frame)) -> io::Result<()> {
    let Some(_permit) = terminal::frame_permit() else {
        return Ok(());
    };
    if terminal::take_redraw_all() {
        // Clears the screen and forgets the last frame, without `clear`'s cursor query.
        let size = terminal.size()?;
        terminal.resize(Rect::from((Position::ORIGIN, size)))?;
    }
    execute!(terminal.backend_mut(), BeginSynchronizedUpdate)?;
    terminal.draw(render)?;
    execute!(terminal.backend_mut(), EndSynchronizedUpdate)?;
    terminal.backend_mut().flush()
}

/// Evaluates the first problem off the UI thread. If that takes longer than
/// `FIRST_FRAME`, its header, formula and a progress bar are drawn meanwhile; q, Esc or
/// Ctrl-C stop it. Returns the problem, or `None` if the user stopped.
pub fn load(
    terminal: &mut DefaultTerminal,
    theme: &Theme,
    prepared: PreparedProblem,
) -> Result<Option<Problem>, Error> {
    let overview = prepared.overview(app::notation(theme));
    let job = app::evaluate_in_background(prepared);
    let started = Instant::now();
    let mut drawn: Option<Instant> = None;
    let terminal_error = |e: io::Error| Error::Io(format!("terminal: {e}"));
    loop {
        match job.poll() {
            JobState::Finished(result) => return result,
            JobState::Failed => {
                return Err(Error::Internal(
                    "the evaluation stopped unexpectedly".into(),
                ));
            }
            JobState::Running => {}
        }
        let due = match drawn {
            None => started.elapsed() >= FIRST_FRAME,
            Some(at) => at.elapsed() >= PROGRESS_TICK,
        };
        if due {
            draw_with(terminal, |frame| {
                draw::draw_loading(frame, theme, &overview, &job.label, job.progress())
            })
            .map_err(terminal_error)?;
            drawn = Some(Instant::now());
        }
        // Short waits, so that the explorer opens as soon as the values are ready.
        if event::poll(LOAD_POLL).map_err(terminal_error)? {
            let stop = matches!(
                event::read().map_err(terminal_error)?,
                Event::Key(key) if key.kind == KeyEventKind::Press
                    && keymap::action_for(Mode::Normal, &key)
                        .is_some_and(|a| matches!(a, Action::Quit | Action::Back))
            );
            if stop {
                job.cancel();
                return Ok(None);
            }
        }
    }
}

/// Reads the next event and every event already waiting (up to [`MAX_BATCH`]), applying
/// them in order; of a run of resizes only the last is applied. Returns true if anything
/// may have changed on screen.
fn handle_burst(app: &mut App) -> io::Result<bool> {
    let mut changed = false;
    let mut resize = None;
    for _ in 0..MAX_BATCH {
        match event::read()? {
            Event::Resize(width, height) => resize = Some(Action::Resize { width, height }),
            other => {
                if let Some(action) = resize.take() {
                    app.update(action);
                }
                // Test hook: JACSCOPE_TEST_PANIC panics here (tests/tui_hostile.rs).
                terminal::panic_on_key_if_asked(&other);
                if let Some(action) = action_of(app, other) {
                    app.update(action);
                    changed = true;
                }
            }
        }
        if app.should_quit() || !event_waiting()? {
            break;
        }
    }
    if let Some(action) = resize {
        app.update(action);
        changed = true;
    }
    Ok(changed)
}

/// True if another event is already waiting. crossterm's terminal source (see Cargo.toml)
/// reads nothing in a poll without time left, so this gives it [`WAITING`]; a burst read
/// 1 KiB at a time is thus handled to its end before the next frame.
fn event_waiting() -> io::Result<bool> {
    event::poll(WAITING)
}

/// The action of a terminal event, if it has one. A paste is typed into the open editor or
/// go-to prompt as one edit; elsewhere it does nothing.
fn action_of(app: &App, event: Event) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind == KeyEventKind::Press => keymap::action_for(app.mode(), &key),
        Event::Mouse(mouse) if app.mouse() => mouse_action(&mouse),
        Event::Paste(text) if matches!(app.mode(), Mode::Editor | Mode::Goto | Mode::Claim) => {
            Some(Action::Text(TextEdit::Paste(text)))
        }
        _ => None,
    }
}

fn mouse_action(mouse: &MouseEvent) -> Option<Action> {
    match mouse.kind {
        MouseEventKind::Down(MouseButton::Left) => Some(Action::Click {
            column: mouse.column,
            row: mouse.row,
        }),
        MouseEventKind::ScrollUp => Some(Action::Scroll(Direction::Up)),
        MouseEventKind::ScrollDown => Some(Action::Scroll(Direction::Down)),
        MouseEventKind::ScrollLeft => Some(Action::Scroll(Direction::Left)),
        MouseEventKind::ScrollRight => Some(Action::Scroll(Direction::Right)),
        _ => None,
    }
}

/// A thread that runs finite-difference checks, always the most recent request first and
/// dropping older ones still queued.
struct CheckWorker {
    requests: Sender<CheckRequest>,
    reports: Receiver<CheckReport>,
}

impl CheckWorker {
    fn spawn() -> CheckWorker {
        let (requests, inbox) = mpsc::channel::<CheckRequest>();
        let (outbox, reports) = mpsc::channel();
        thread::spawn(move || {
            in_own_pool(move || {
                while let Ok(mut request) = inbox.recv() {
                    while let Ok(newer) = inbox.try_recv() {
                        request = newer;
                    }
                    if outbox.send(request.run()).is_err() {
                        return;
                    }
                }
            })
        });
        CheckWorker { requests, reports }
    }

    fn send(&self, request: CheckRequest) {
        // If the worker has died, the check shows "checking…" and navigation goes on.
        let _ = self.requests.send(request);
    }

    fn try_receive(&self) -> Option<CheckReport> {
        self.reports.try_recv().ok()
    }
}
