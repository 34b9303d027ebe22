//! Hostile terminals: the explorer in a 20×5 terminal and through a storm of resizes; a
//! seeded monkey of 1,000 random keys (through the editor, the go-to prompt and the
//! picker) checking invariants as it goes, in a pseudo-terminal and in-process; Ctrl-C,
//! SIGTERM, SIGHUP and a forced panic each leave the terminal restored; SIGTSTP gives it
//! back and SIGCONT takes it again; a paste of more than 1 KiB arrives whole; TERM=dumb is
//! refused before the terminal is touched; NO_COLOR holds on every overlay.
#![cfg(unix)]

#[path = "common/pty.rs"]
mod pty;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use jacscope::problem::{Problem, ProblemSpec};
use jacscope::tui::action::{Action, Direction, Mode};
use jacscope::tui::keymap::{self, Key};
use jacscope::tui::{App, ColorMode, Theme, draw};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use pty::Session;

/// The default example on small shapes, fast in a debug build: J has shape (6, 5, 6, 8).
const SMALL: [&str; 4] = ["-s", "X=6x8", "-s", "W=5x8"];
/// The header's end for [`SMALL`].
const SMALL_SHAPE: &str = "(6, 5, 6, 8)";
/// Every program here runs without colour, so that its screen is the in-process one.
const NO_COLOR: [(&str, Option<&str>); 1] = [("NO_COLOR", Some("1"))];

/// The explorer on [`SMALL`], as the program in the pseudo-terminal shows it.
fn small_app(size: (u16, u16)) -> App {
    let spec = ProblemSpec::default_example(&["X=6x8".into(), "W=5x8".into()], 0);
    let problem = Problem::build(spec).expect("the small example builds");
    App::new(
        problem,
        Theme::new(ColorMode::Monochrome, false),
        false,
        size,
    )
}

/// The rows of `app` drawn into a `TestBackend` of its size (the drawing must not panic).
fn draw(app: &App) -> Vec<String> {
    let (width, height) = app.screen_size();
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| draw::draw(frame, app)).unwrap();
    let buffer = terminal.backend().buffer();
    (0..height)
        .map(|y| (0..width).map(|x| buffer[(x, y)].symbol()).collect())
        .collect()
}

/// The rows of the terminal's screen.
fn rows(screen: &vt100::Screen) -> Vec<String> {
    let (_, cols) = screen.size();
    screen.rows(0, cols).collect()
}

/// The overlay a mode draws, by the start of its title; the main screens have none.
fn overlay_title(mode: Mode) -> Option<&'static str> {
    match mode {
        Mode::Normal | Mode::Matrix => None,
        Mode::Conventions => Some("┌ conventions"),
        Mode::Help => Some("┌ help"),
        Mode::Picker => Some("┌ examples"),
        Mode::Editor => Some("┌ edit"),
        Mode::Goto => Some("┌ go to"),
        Mode::Claim => Some("┌ claim"),
    }
}

/// The title of the overlay a screen shows, if any.
fn shown_overlay(rows: &[String]) -> Option<&'static str> {
    Mode::ALL
        .into_iter()
        .filter_map(overlay_title)
        .find(|title| rows.iter().any(|row| row.contains(title)))
}

/// The numbers in `text`, in order (`(6, 5, 6, 8)` → 6 5 6 8).
fn numbers(text: &str) -> Vec<usize> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty())
        .map(|part| part.parse().unwrap())
        .collect()
}

/// J's shape as the header writes it: the last parenthesis of the first row.
fn shown_shape(rows: &[String]) -> Vec<usize> {
    let header = rows[0].trim_end();
    let open = header.rfind('(').expect("the header ends with J's shape");
    numbers(&header[open..])
}

/// The index of J under the cursor as the inspector names it: `∂Y[0,1]/∂X[2,3]` below
/// the line ` entry ───`.
fn shown_index(rows: &[String]) -> Vec<usize> {
    let title = rows
        .iter()
        .position(|row| row.starts_with(" entry "))
        .expect("the inspector is on screen");
    let entry = &rows[title + 1];
    let name = entry.split(" = ").next().unwrap();
    assert!(name.starts_with('∂'), "not an entry: {entry}");
    let brackets = name.split('[').skip(1);
    brackets
        .flat_map(|part| numbers(part.split(']').next().unwrap()))
        .collect()
}

/// The invariants of every screen of the explorer in `mode`, with the terminal large
/// enough to draw it: the header first, a footer last, the mode's overlay (or none), and
/// on a main screen an inspected index inside J's shape.
fn check_screen(rows: &[String], mode: Mode, context: &str) {
    let screen = rows.join("\n");
    assert!(
        rows[0].starts_with("Y = "),
        "{context}: no header:\n{screen}"
    );
    assert!(
        !rows.last().unwrap().trim().is_empty(),
        "{context}: no footer:\n{screen}"
    );
    assert_eq!(
        shown_overlay(rows),
        overlay_title(mode),
        "{context}: the overlay of {mode:?}:\n{screen}"
    );
    if overlay_title(mode).is_none() {
        let (index, shape) = (shown_index(rows), shown_shape(rows));
        let inside = index.len() == shape.len() && index.iter().zip(&shape).all(|(i, d)| i < d);
        assert!(
            inside,
            "{context}: {index:?} is not in {shape:?}:\n{screen}"
        );
    }
}

/// The invariants of the explorer's state: it runs, and the cursor is an index of J, the
/// one inspected, and (on the slice view) on screen in the heat map.
fn check_state(app: &App, context: &str) {
    assert!(!app.should_quit(), "{context}: the explorer quit");
    let (cursor, shape) = (app.cursor(), app.problem().jacobian.shape());
    let inside = cursor.len() == shape.len() && cursor.iter().zip(&shape).all(|(i, d)| i < d);
    assert!(inside, "{context}: cursor {cursor:?} outside {shape:?}");
    assert_eq!(app.inspection().index, cursor, "{context}");
    if app.mode() == Mode::Normal {
        let position = app.axes().position(cursor);
        assert!(
            app.viewport().block_of(position).is_some(),
            "{context}: the cursor {position:?} is off the map"
        );
    }
}

/// A key as the terminal sends it and as crossterm reads it back.
struct TestKey {
    bytes: String,
    event: KeyEvent,
}

impl TestKey {
    /// The bytes a terminal sends for `key` of the keymap. A named key the monkey does
    /// not know fails the test: teach it the key's bytes.
    fn of(key: Key) -> TestKey {
        let (bytes, event) = match key {
            Key::Char(c) => {
                let shift = if c.is_uppercase() {
                    KeyModifiers::SHIFT
                } else {
                    KeyModifiers::NONE
                };
                (c.to_string(), KeyEvent::new(KeyCode::Char(c), shift))
            }
            Key::Ctrl(c) => {
                let byte = char::from(c as u8 - b'a' + 1);
                let event = KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
                (byte.to_string(), event)
            }
            Key::Code(code) => {
                let bytes = match code {
                    KeyCode::Left => "\x1b[D",
                    KeyCode::Down => "\x1b[B",
                    KeyCode::Up => "\x1b[A",
                    KeyCode::Right => "\x1b[C",
                    KeyCode::Home => "\x1b[H",
                    KeyCode::End => "\x1b[F",
                    KeyCode::PageUp => "\x1b[5~",
                    KeyCode::PageDown => "\x1b[6~",
                    KeyCode::Delete => "\x1b[3~",
                    KeyCode::Tab => "\t",
                    KeyCode::BackTab => "\x1b[Z",
                    KeyCode::Enter => "\r",
                    KeyCode::Backspace => "\x7f",
                    // A lone ESC followed at once by another key reads as Alt+that key;
                    // crossterm reads ESC ESC as one Esc, whatever follows.
                    KeyCode::Esc => "\x1b\x1b",
                    other => panic!("the monkey does not know the bytes of {other:?}"),
                };
                // Terminals send Shift+Tab as BackTab, and crossterm adds the Shift.
                let modifiers = if code == KeyCode::BackTab {
                    KeyModifiers::SHIFT
                } else {
                    KeyModifiers::NONE
                };
                (bytes.to_string(), KeyEvent::new(code, modifiers))
            }
            Key::Shift(code) => {
                let last = match code {
                    KeyCode::Left => 'D',
                    KeyCode::Down => 'B',
                    KeyCode::Up => 'A',
                    KeyCode::Right => 'C',
                    other => panic!("the monkey does not know the bytes of Shift+{other:?}"),
                };
                let event = KeyEvent::new(code, KeyModifiers::SHIFT);
                (format!("\x1b[1;2{last}"), event)
            }
        };
        TestKey { bytes, event }
    }
}

/// Characters typed into the editor and the go-to prompt, besides the keymap's.
const TYPED: &str = "0123456789,.=@*()+- XWTsbx";

/// The monkey's keys: every key of every mode's table but Ctrl-C (it quits everywhere),
/// and characters that make expressions, shapes and indices.
fn alphabet() -> Vec<TestKey> {
    let mut keys: Vec<Key> = Vec::new();
    let bound = Mode::ALL
        .into_iter()
        .flat_map(keymap::table)
        .flat_map(|binding| binding.keys.iter().map(|&(key, _)| key));
    for key in bound.chain(TYPED.chars().map(Key::Char)) {
        if key != Key::Ctrl('c') && !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.into_iter().map(TestKey::of).collect()
}

/// The action of `key` in the explorer's mode.
fn action(app: &App, key: &TestKey) -> Option<Action> {
    keymap::action_for(app.mode(), &key.event)
}

/// The seeded monkey: random keys that never end the explorer (`q` and Esc are drawn but
/// skipped where they would quit) and never save a picture (`p` writes a file where the
/// tests run; `src/tui/draw/tests.rs` tests it in a directory of its own).
struct Monkey {
    rng: ChaCha8Rng,
    keys: Vec<TestKey>,
}

impl Monkey {
    fn new(seed: u64) -> Monkey {
        Monkey {
            rng: ChaCha8Rng::seed_from_u64(seed),
            keys: alphabet(),
        }
    }

    /// The next key for `app`.
    fn next(&mut self, app: &App) -> &TestKey {
        loop {
            let n = self.rng.random_range(0..self.keys.len());
            if !matches!(
                action(app, &self.keys[n]),
                Some(Action::Quit | Action::Back | Action::SavePicture)
            ) {
                return &self.keys[n];
            }
        }
    }
}

const MONKEY_SEED: u64 = 24;
const MONKEY_KEYS: usize = 1000;
const MONKEY_SIZE: (u16, u16) = (80, 24);

/// Applies `key` to `app`.
fn apply(app: &mut App, key: &TestKey) {
    if let Some(action) = action(app, key) {
        app.update(action);
    }
}

/// The monkey in-process: after every key the state keeps its invariants and its frame
/// keeps the screen's, drawn while the work the key started may still run, and after.
#[test]
fn a_thousand_random_keys_in_process() {
    let mut app = small_app(MONKEY_SIZE);
    let mut monkey = Monkey::new(MONKEY_SEED);
    let mut modes = HashSet::new();
    let mut problems = 0;
    for n in 0..MONKEY_KEYS {
        let key = monkey.next(&app);
        let context = format!("key {n} ({:?})", key.event.code);
        let before: *const Problem = app.problem();
        apply(&mut app, key);
        check_state(&app, &context);
        check_screen(&draw(&app), app.mode(), &context);
        app.finish_jobs();
        check_state(&app, &context);
        check_screen(&draw(&app), app.mode(), &context);
        modes.insert(format!("{:?}", app.mode()));
        problems += usize::from(!std::ptr::eq(before, app.problem()));
    }
    // The seed takes the monkey everywhere: every mode, and several new problems.
    assert_eq!(modes.len(), Mode::ALL.len(), "modes visited: {modes:?}");
    assert!(problems >= 2, "only {problems} new problems opened");
}

/// Fails if any cell of `screen` has a colour.
fn assert_no_colour(screen: &vt100::Screen, context: &str) {
    let (rows, cols) = screen.size();
    for row in 0..rows {
        for col in 0..cols {
            let cell = screen.cell(row, col).unwrap();
            assert!(
                cell.fgcolor() == vt100::Color::Default && cell.bgcolor() == vt100::Color::Default,
                "{context}: NO_COLOR, yet ({row},{col}) has a colour:\n{}",
                screen.contents()
            );
        }
    }
}

/// Waits until the program's screen is the model's, then checks the screen's invariants
/// and that it has no colour.
fn settle(session: &mut Session, model: &mut App, context: &str) {
    let expected = view(model);
    let what = format!("{context}: the model's screen,\n{}", expected.join("\n"));
    let screen = session.wait_until(&what, |screen| trimmed(&rows(screen)) == expected);
    check_screen(&rows(&screen), model.mode(), context);
    assert_no_colour(&screen, context);
}

/// How often the monkey in the terminal stops to look at the screen.
const LOOK_EVERY: usize = 25;

/// The same monkey in the real program, with the in-process explorer as its model: the
/// model says which keys would quit (they are not sent), and the program's screen must
/// be the model's when the monkey stops to look, every [`LOOK_EVERY`] keys and after each
/// new problem (so that a problem evaluated in the background is there before the next
/// key). At the end, Esc closes any overlay, q quits, and the terminal is as it was.
#[test]
fn a_thousand_random_keys_in_a_terminal() {
    let mut session = Session::start(&SMALL, MONKEY_SIZE, &NO_COLOR);
    let mut model = small_app(MONKEY_SIZE);
    let mut monkey = Monkey::new(MONKEY_SEED);
    settle(&mut session, &mut model, "the start");
    for n in 0..MONKEY_KEYS {
        let key = monkey.next(&model);
        session.press(&key.bytes);
        let before: *const Problem = model.problem();
        apply(&mut model, key);
        model.finish_jobs();
        let opened = !std::ptr::eq(before, model.problem());
        if opened || n % LOOK_EVERY == LOOK_EVERY - 1 {
            let context = format!("key {n} ({:?})", key.event.code);
            settle(&mut session, &mut model, &context);
        }
    }
    if overlay_title(model.mode()).is_some() {
        session.press("\x1b\x1b");
        model.update(Action::Close);
        settle(&mut session, &mut model, "Esc");
    }
    session.press("q");
    let status = session.wait_status();
    assert!(status.success(), "{status:?}");
    assert_restored(&session);
}

/// Fails unless the terminal is as the shell left it: the normal screen, a visible
/// cursor, no mouse reporting, no bracketed paste, and the line discipline out of raw mode.
fn assert_restored(session: &Session) {
    let screen = session.contents();
    assert!(
        !session.in_alternate_screen(),
        "the alternate screen is still on:\n{screen}"
    );
    assert!(
        !session.screen(vt100::Screen::hide_cursor),
        "the cursor is hidden"
    );
    assert_eq!(
        session.screen(vt100::Screen::mouse_protocol_mode),
        vt100::MouseProtocolMode::None,
        "the mouse is still captured"
    );
    assert!(
        !session.screen(vt100::Screen::bracketed_paste),
        "bracketed paste is still on"
    );
    assert!(session.cooked(), "the terminal is still in raw mode");
}

/// The screen of `model` once its background work and its check are done, as
/// [`trimmed`] writes it.
fn view(model: &mut App) -> Vec<String> {
    model.finish_jobs();
    model.check_now();
    trimmed(&draw(model))
}

/// The rows of a screen without their trailing blanks.
fn trimmed(rows: &[String]) -> Vec<String> {
    rows.iter().map(|row| row.trim_end().to_string()).collect()
}

/// A 20×5 terminal gets the too-small message and nothing else; keys still work there
/// (seen once the terminal is large again). Then 200 resizes between 1×1 and 200×60: the
/// explorer then shows exactly its normal view at the final size, answers keys, shows the
/// message again at 20×5, and q quits there with the terminal restored.
#[test]
fn a_20x5_terminal_and_a_storm_of_resizes() {
    const TINY: (u16, u16) = (20, 5);
    let mut session = Session::start(&SMALL, TINY, &NO_COLOR);
    let message = trimmed(&draw(&small_app(TINY)));
    assert!(
        message.join(" ").contains("enlarge the terminal"),
        "{message:?}"
    );
    session.wait_until("the message at 20×5", |screen| {
        trimmed(&rows(screen)) == message
    });
    session.press("lll");

    const ODD: [(u16, u16); 6] = [(1, 1), (3, 2), (20, 5), (200, 60), (59, 18), (60, 17)];
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for n in 0..200 {
        let size = if n % 2 == 0 {
            ODD[rng.random_range(0..ODD.len())]
        } else {
            (rng.random_range(1..=200), rng.random_range(1..=60))
        };
        session.resize(size);
    }
    let last = (90, 28);
    session.resize(last);
    let mut model = small_app(last);
    for _ in 0..3 {
        model.update(Action::Move(Direction::Right));
    }
    let expected = view(&mut model);
    session.wait_until("the normal view at 90×28 on [0, 0, 0, 3]", |screen| {
        trimmed(&rows(screen)) == expected
    });
    session.press("j");
    model.update(Action::Move(Direction::Down));
    let expected = view(&mut model);
    session.wait_until("the normal view at 90×28 on [0, 0, 1, 3]", |screen| {
        trimmed(&rows(screen)) == expected
    });
    session.resize(TINY);
    session.wait_until("the message at 20×5 again", |screen| {
        trimmed(&rows(screen)) == message
    });
    session.press("q");
    let status = session.wait_status();
    assert!(status.success(), "{status:?}");
    assert_restored(&session);
}

/// How long a screen that needs no further key may take to come.
const SOON: Duration = Duration::from_secs(10);

/// Issue 11, item 13: more than 1 KiB of input at once reaches the editor whole, without
/// another key after it: a bracketed paste (one event) and a raw burst of plain keys alike.
#[test]
fn a_paste_of_more_than_a_kib_shows_without_another_key() {
    let mut session = Session::start(&SMALL, MONKEY_SIZE, &NO_COLOR);
    session.wait_for(SMALL_SHAPE);
    session.press("e");
    session.wait_for(" edit ");

    let pasted = format!("{}PASTED", " + X".repeat(300));
    session.press(&format!("\x1b[200~{pasted}\x1b[201~"));
    session.wait_until_within(SOON, "the end of the bracketed paste", |screen| {
        screen.contents().contains("+ X + XPASTED")
    });

    session.press("\x15");
    session.wait_without("PASTED");
    let burst = format!("{}TYPED", "ab".repeat(600));
    session.press(&burst);
    session.wait_until_within(SOON, "the end of the burst of keys", |screen| {
        screen.contents().contains("ababTYPED")
    });

    session.press("\x1b");
    session.wait_without(" edit ");
    session.press("q");
    let status = session.wait_status();
    assert!(status.success(), "{status:?}");
    assert_restored(&session);
}

/// The explorer on the small example with mouse capture, once it is drawn; the terminal
/// is then in its hands (so that the checks of [`assert_restored`] can fail).
fn explorer_running(env: &[(&str, Option<&str>)]) -> Session {
    let mut args = SMALL.to_vec();
    args.push("--mouse");
    let mut session = Session::start(&args, MONKEY_SIZE, env);
    session.wait_for(SMALL_SHAPE);
    assert!(session.in_alternate_screen());
    assert!(session.screen(vt100::Screen::hide_cursor));
    assert_ne!(
        session.screen(vt100::Screen::mouse_protocol_mode),
        vt100::MouseProtocolMode::None
    );
    assert!(session.screen(vt100::Screen::bracketed_paste));
    assert!(!session.cooked(), "the explorer runs in raw mode");
    session
}

#[test]
fn ctrl_c_restores_the_terminal() {
    let mut session = explorer_running(&[]);
    session.press("\x03");
    let status = session.wait_status();
    assert!(status.success(), "{status:?}");
    assert_restored(&session);
}

/// `signal` makes the explorer restore the terminal and exit at once with 128 + signal.
fn restores_the_terminal_on(signal: libc::c_int) {
    let mut session = explorer_running(&[]);
    let sent = Instant::now();
    // SAFETY: kill(2) with the id of a child process this test started and still owns.
    assert_eq!(unsafe { libc::kill(session.pid(), signal) }, 0);
    let status = session.wait_status();
    assert!(
        sent.elapsed() < Duration::from_secs(10),
        "took {:?} to exit",
        sent.elapsed()
    );
    let code = 128 + u32::try_from(signal).unwrap();
    assert_eq!(
        (status.exit_code(), status.signal()),
        (code, None),
        "{status:?}"
    );
    assert_restored(&session);
}

#[test]
fn sigterm_restores_the_terminal() {
    restores_the_terminal_on(libc::SIGTERM);
}

#[test]
fn sighup_restores_the_terminal() {
    restores_the_terminal_on(libc::SIGHUP);
}

/// Issue 11, item 14: SIGTSTP gives the terminal back as the shell left it and stops the
/// explorer; SIGCONT takes the terminal again (raw mode, the alternate screen) and redraws
/// all of it; keys then work, and q quits with the terminal restored.
#[test]
fn sigtstp_gives_the_terminal_back_and_sigcont_takes_it_again() {
    let mut session = explorer_running(&NO_COLOR);
    // SAFETY: kill(2) with the id of a child process this test started and still owns.
    assert_eq!(unsafe { libc::kill(session.pid(), libc::SIGTSTP) }, 0);
    session.wait_for_state(SOON, "the explorer to stop", Session::is_stopped);
    assert_restored(&session);

    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(session.pid(), libc::SIGCONT) }, 0);
    session.wait_for_state(SOON, "the explorer to take the terminal again", |s| {
        s.in_alternate_screen() && !s.cooked() && s.contents().contains(SMALL_SHAPE)
    });
    assert!(!session.is_stopped());
    assert!(session.screen(vt100::Screen::bracketed_paste));
    assert_ne!(
        session.screen(vt100::Screen::mouse_protocol_mode),
        vt100::MouseProtocolMode::None
    );
    session.press("?");
    session.wait_for("move the cursor one entry");
    session.press("q");
    session.press("q");
    let status = session.wait_status();
    assert!(status.success(), "{status:?}");
    assert_restored(&session);
}

/// A panic (forced by the test hook on the first key) restores the terminal, then prints
/// its message on the normal screen, line by line as a cooked terminal shows it; the exit
/// status is Rust's for a panic, 101.
#[test]
fn a_panic_restores_the_terminal_then_reports() {
    let mut session = explorer_running(&[
        ("JACSCOPE_TEST_PANIC", Some("1")),
        ("RUST_BACKTRACE", Some("0")),
    ]);
    session.press("l");
    let status = session.wait_status();
    assert_eq!(status.exit_code(), 101, "{status:?}");
    assert_restored(&session);
    let screen = session.contents();
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .position(|line| line.starts_with("thread 'main'") && line.contains("panicked at"))
        .unwrap_or_else(|| panic!("no panic message on the normal screen:\n{screen}"));
    assert!(
        lines[at + 1].starts_with("JACSCOPE_TEST_PANIC=1: a panic on the first key press"),
        "{screen}"
    );
}

/// `TERM=dumb` cannot move the cursor: the explorer says so in one line, names the
/// subcommands, and exits with 2 without writing a single escape sequence.
#[test]
fn term_dumb_is_refused_before_the_terminal_is_touched() {
    let mut session = Session::start(&SMALL, MONKEY_SIZE, &[("TERM", Some("dumb"))]);
    let status = session.wait_status();
    assert_eq!(status.exit_code(), 2, "{status:?}");
    let output = String::from_utf8(session.output()).expect("UTF-8 output");
    assert!(!output.contains('\x1b'), "escape sequences: {output:?}");
    assert_eq!(output.trim_end().lines().count(), 1, "{output:?}");
    assert!(output.contains("TERM=dumb"), "{output:?}");
    assert!(
        output.contains("explain, shape, at, slice, stats"),
        "{output:?}"
    );
    assert!(session.cooked());
}

/// A panic on another thread (forced by the test hook on each key; a background job that
/// fails is one) leaves the explorer drawing and answering, unscribbled; its report is
/// printed once the explorer has quit and the terminal is restored.
#[test]
fn a_panic_on_another_thread_is_reported_after_quitting() {
    let env = [
        NO_COLOR[0],
        ("JACSCOPE_TEST_PANIC", Some("thread")),
        ("RUST_BACKTRACE", Some("0")),
    ];
    let mut session = Session::start(&SMALL, MONKEY_SIZE, &env);
    let mut model = small_app(MONKEY_SIZE);
    model.update(Action::Move(Direction::Right));
    let expected = view(&mut model);
    session.wait_for(SMALL_SHAPE);
    session.press("l");
    session.wait_until("the explorer on [0, 0, 0, 1], unharmed", |screen| {
        trimmed(&rows(screen)) == expected
    });
    session.press("q");
    let status = session.wait_status();
    assert!(status.success(), "{status:?}");
    assert_restored(&session);
    let screen = session.contents();
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .position(|line| line.contains("panicked at"))
        .unwrap_or_else(|| panic!("no panic report after quitting:\n{screen}"));
    assert!(
        lines[at + 1].starts_with("JACSCOPE_TEST_PANIC=thread: a panic on another thread"),
        "{screen}"
    );
}
