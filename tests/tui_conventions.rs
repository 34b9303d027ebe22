//! Snapshots of the conventions panel (`c`) and the matricized view (`m`, `o` for the vec
//! order) of the explorer on the default example (X 64×1024, W 512×1024, J of shape
//! (64, 512, 64, 1024)), driven through the keys' actions and drawn in-process into
//! ratatui's `TestBackend` at 80×24 and 120×40. No finite-difference check runs, so the
//! inspector's check line reads "checking…" and the screens are deterministic.

use insta::assert_snapshot;
use jacscope::problem::{Problem, ProblemSpec};
use jacscope::tui::action::{Action, Direction, Mode, TextEdit};
use jacscope::tui::{App, ColorMode, Theme, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// The explorer on the default example, its numeric count finished, with the cursor at
/// `cursor` (typed into the go-to prompt) and then `actions` applied.
fn app_at(theme: Theme, size: (u16, u16), cursor: &str, actions: &[Action]) -> App {
    let problem = Problem::build(ProblemSpec::default_example(&[], 0)).expect("it builds");
    let mut app = App::new(problem, theme, false, size);
    app.finish_jobs();
    app.update(Action::Open(Mode::Goto));
    for c in cursor.chars() {
        app.update(Action::Text(TextEdit::Insert(c)));
    }
    app.update(Action::Submit);
    for action in actions {
        app.update(action.clone());
    }
    app
}

fn screen(app: &App) -> String {
    let (width, height) = app.screen_size();
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| draw::draw(frame, app)).unwrap();
    terminal.backend().to_string()
}

fn color() -> Theme {
    Theme::new(ColorMode::Ansi16, false)
}

fn ascii() -> Theme {
    Theme::new(ColorMode::Monochrome, true)
}

const CURSOR: &str = "0,3,0,5";
/// Inside the sixth diagonal block of the row-major matrix (i = k = 5).
const DIAGONAL: &str = "5,300,5,900";

#[test]
fn conventions_panel_80x24() {
    let app = app_at(
        color(),
        (80, 24),
        CURSOR,
        &[Action::Open(Mode::Conventions)],
    );
    let text = screen(&app);
    assert!(text.contains("∂Y[0,3]/∂X[0,5]"), "{text}");
    assert!(text.contains("(row 192, col 320)"), "{text}");
    assert!(text.contains("c closes"), "{text}");
    assert_snapshot!(text);
}

/// The table follows the cursor while the panel is open.
#[test]
fn conventions_panel_follows_the_cursor_120x40() {
    let moves = [
        Action::Open(Mode::Conventions),
        Action::Move(Direction::Right),
    ];
    let app = app_at(color(), (120, 40), DIAGONAL, &moves);
    assert_eq!(app.cursor(), [5, 300, 5, 901]);
    let text = screen(&app);
    assert!(text.contains("[5, 901, 5, 300]"), "{text}");
    assert_snapshot!(text);
}

#[test]
fn conventions_panel_ascii_80x24() {
    let app = app_at(
        ascii(),
        (80, 24),
        CURSOR,
        &[Action::Open(Mode::Conventions)],
    );
    let text = screen(&app);
    assert!(text.is_ascii(), "{text}");
    assert!(text.contains("dY[0,3]/dX[0,5]"), "{text}");
    assert_snapshot!(text);
}

#[test]
fn matricized_rowmajor_80x24() {
    let app = app_at(color(), (80, 24), DIAGONAL, &[Action::ToggleMatrix]);
    assert_eq!(app.mode(), Mode::Matrix);
    let text = screen(&app);
    assert!(text.contains("numerator-rowmajor: ∂vec(Y)/∂vec(X)ᵀ, 32768 × 65536"));
    assert_snapshot!(text);
}

#[test]
fn matricized_colmajor_80x24() {
    let actions = [Action::ToggleMatrix, Action::ToggleVecOrder];
    let app = app_at(color(), (80, 24), DIAGONAL, &actions);
    let text = screen(&app);
    assert!(text.contains("numerator-colmajor: ∂vec(Y)/∂vec(X)ᵀ, 32768 × 65536"));
    assert_snapshot!(text);
}

#[test]
fn matricized_rowmajor_120x40() {
    let app = app_at(color(), (120, 40), DIAGONAL, &[Action::ToggleMatrix]);
    assert_snapshot!(screen(&app));
}

#[test]
fn matricized_colmajor_120x40() {
    let actions = [Action::ToggleMatrix, Action::ToggleVecOrder];
    let app = app_at(color(), (120, 40), DIAGONAL, &actions);
    assert_snapshot!(screen(&app));
}

#[test]
fn matricized_ascii_80x24() {
    let app = app_at(ascii(), (80, 24), DIAGONAL, &[Action::ToggleMatrix]);
    let text = screen(&app);
    assert!(text.is_ascii(), "{text}");
    assert_snapshot!(text);
}

/// Moving in the matricized view moves the shared cursor: one row down is the next j in
/// row-major order and the next i in column-major order; back in the slice view the cursor
/// is where the matrix left it.
#[test]
fn the_cursor_is_shared_between_the_views() {
    let down = [Action::ToggleMatrix, Action::Move(Direction::Down)];
    let mut app = app_at(color(), (80, 24), DIAGONAL, &down);
    assert_eq!(app.cursor(), [5, 301, 5, 900]);
    app.update(Action::ToggleVecOrder);
    app.update(Action::Move(Direction::Down));
    assert_eq!(app.cursor(), [6, 301, 5, 900]);
    app.update(Action::ToggleMatrix);
    assert_eq!(app.mode(), Mode::Normal);
    assert_eq!(app.cursor(), [6, 301, 5, 900]);
    assert!(screen(&app).contains("∂Y[6,301]/∂X[5,900]"));
}
