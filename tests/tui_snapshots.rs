//! Snapshots of the explorer's screen, drawn in-process with ratatui's `TestBackend`:
//! the default example and a relu example at 80×24 and 120×40, after navigation, the help
//! overlay, an editor error, and monochrome / ASCII modes.
//!
//! Background work and the finite-difference check finish before drawing, and the numbers of its
//! line (which depend on the floating-point rounding of the machine) are redacted, so the
//! snapshots are deterministic.

use insta::assert_snapshot;
use jacscope::calculus::Notation;
use jacscope::problem::{Problem, ProblemSpec};
use jacscope::progress::Progress;
use jacscope::tui::action::{Action, Direction, Mode, TextEdit};
use jacscope::tui::{App, ColorMode, Theme, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

fn app_for(spec: ProblemSpec, mode: ColorMode, ascii: bool, size: (u16, u16)) -> App {
    let problem = Problem::build(spec).expect("the problem builds");
    App::new(problem, Theme::new(mode, ascii), false, size)
}

fn default_app(size: (u16, u16)) -> App {
    app_for(
        ProblemSpec::default_example(&[], 0),
        ColorMode::Ansi16,
        false,
        size,
    )
}

fn relu_app(size: (u16, u16)) -> App {
    let spec = ProblemSpec {
        expression: "relu(X @ W.T + b)".to_string(),
        shapes: ["X=32x64", "W=48x64", "b=48"].map(String::from).to_vec(),
        loads: Vec::new(),
        wrt: None,
        seed: 0,
        max_memory: None,
    };
    app_for(spec, ColorMode::Ansi16, false, size)
}

/// The screen as text, after the background work (the numeric count) and the pending check
/// have finished; the check line's numbers redacted.
fn screen(app: &mut App) -> String {
    app.finish_jobs();
    app.check_now();
    let (width, height) = (app.screen_size().0, app.screen_size().1);
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| draw::draw(frame, app)).unwrap();
    redact_check(&terminal.backend().to_string())
}

/// Replaces the digits of the finite-difference result (from "finite difference " to the
/// closing parenthesis, which may be on the next line) by `#`.
fn redact_check(text: &str) -> String {
    const START: &str = "finite difference ";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(START) {
        out.push_str(&rest[..at + START.len()]);
        rest = &rest[at + START.len()..];
        let end = rest.find(')').map_or(rest.len(), |e| e + 1);
        out.extend(
            rest[..end]
                .chars()
                .map(|c| if c.is_ascii_digit() { '#' } else { c }),
        );
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn run(app: &mut App, actions: &[Action]) {
    for action in actions {
        app.update(action.clone());
    }
}

#[test]
fn default_example_80x24() {
    let mut app = default_app((80, 24));
    let text = screen(&mut app);
    assert!(text.contains("(64, 512, 64, 1024)"));
    assert!(text.contains("δ(i,k)·W[j,l]"));
    assert!(text.contains("agrees"));
    assert_snapshot!(text);
}

#[test]
fn default_example_120x40() {
    let mut app = default_app((120, 40));
    assert_snapshot!(screen(&mut app));
}

#[test]
fn relu_example_80x24() {
    let mut app = relu_app((80, 24));
    assert_snapshot!(screen(&mut app));
}

#[test]
fn relu_example_120x40() {
    let mut app = relu_app((120, 40));
    assert_snapshot!(screen(&mut app));
}

/// Onto a structural zero of the (k,l) slice, then to the (i,k) slice: the diagonal.
#[test]
fn after_navigation_80x24() {
    let mut app = default_app((80, 24));
    run(&mut app, &vec![Action::Move(Direction::Right); 7]);
    run(&mut app, &vec![Action::Move(Direction::Down); 3]);
    let on_zero = screen(&mut app);
    assert!(
        on_zero.contains("δ(i,k) = 0 since i = 0 ≠ k = 3"),
        "{on_zero}"
    );
    assert_snapshot!("after_navigation_on_a_zero_80x24", on_zero);
    app.update(Action::SelectPair(1));
    run(&mut app, &vec![Action::ZoomIn; 2]);
    assert_snapshot!("after_navigation_diagonal_80x24", screen(&mut app));
}

#[test]
fn help_overlay_80x24() {
    let mut app = default_app((80, 24));
    app.update(Action::Open(Mode::Help));
    let text = screen(&mut app);
    assert!(text.contains("move the cursor one entry"));
    assert_snapshot!(text);
}

#[test]
fn editor_error_80x24() {
    let mut app = default_app((80, 24));
    app.update(Action::Open(Mode::Editor));
    app.update(Action::Text(TextEdit::Clear));
    for c in "relu(X @ W.T + b) -s X=64x1024 -s W=512x1024".chars() {
        app.update(Action::Text(TextEdit::Insert(c)));
    }
    app.update(Action::Submit);
    let text = screen(&mut app);
    assert!(text.contains("^"), "{text}");
    assert!(text.contains("Y = X @ W.T"), "the view stays: {text}");
    assert_snapshot!(text);
}

#[test]
fn example_picker_80x24() {
    let mut app = default_app((80, 24));
    app.update(Action::Open(Mode::Picker));
    run(&mut app, &vec![Action::ListDown; 2]);
    assert_snapshot!(screen(&mut app));
}

#[test]
fn monochrome_80x24() {
    let mut app = relu_app((80, 24));
    let mono = app_for(
        app.problem().spec.clone(),
        ColorMode::Monochrome,
        false,
        (80, 24),
    );
    app = mono;
    app.update(Action::SelectPair(1));
    let text = screen(&mut app);
    assert!(!text.contains('▀'), "no half blocks without colour");
    assert_snapshot!(text);
}

#[test]
fn ascii_monochrome_80x24() {
    let mut app = app_for(
        ProblemSpec::default_example(&[], 0),
        ColorMode::Monochrome,
        true,
        (80, 24),
    );
    run(&mut app, &vec![Action::Move(Direction::Right); 7]);
    let text = screen(&mut app);
    assert!(text.is_ascii(), "{text}");
    assert_snapshot!(text);
}

#[test]
fn too_small_terminal() {
    let mut app = default_app((40, 10));
    assert_snapshot!(screen(&mut app));
}

/// With colours, the three kinds of entry get three different looks on screen: the lit
/// row of the (k,l) slice is coloured, structural zeros keep the background, and a
/// numerically zero row of the relu example is dark grey.
#[test]
fn colours_tell_structural_from_numeric_zeros() {
    let mut app = relu_app((80, 24));
    app.check_now();
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|frame| draw::draw(frame, &app)).unwrap();
    let buffer = terminal.backend().buffer().clone();
    let cells = app.map_cells().expect("80×24 has room for the map");
    // At i = 0, j = 0, relu′(Z)[0,0] decides whether row k = 0 is numeric zero or nonzero.
    let lit = app.inspection().value != 0.0;
    let first = &buffer[(cells.x + 1, cells.y)];
    if lit {
        assert!(
            !matches!(first.fg, Color::DarkGray | Color::Reset),
            "{first:?}"
        );
    } else {
        assert_eq!(first.fg, Color::DarkGray, "{first:?}");
    }
    // Row k = 2 (lower half of the second cell row) is structurally zero.
    let empty = &buffer[(cells.x + 1, cells.y + 1)];
    assert_eq!(empty.bg, Color::Reset);
    app.update(Action::NextNonzero);
    assert!(app.inspection().value != 0.0);
}

/// Every curated example opens from the picker and draws at 80×24 with its shape shown.
#[test]
fn every_example_draws() {
    let mut app = default_app((80, 24));
    let count = jacscope::tui::picker::examples().len();
    for n in 0..count {
        app.update(Action::Open(Mode::Picker));
        while app.picker_selection() != n {
            app.update(Action::ListDown);
        }
        app.update(Action::Submit);
        assert_eq!(app.mode(), Mode::Normal);
        let text = screen(&mut app);
        let shape = format!("{:?}", app.problem().jacobian.shape())
            .replace('[', "(")
            .replace(']', ")");
        assert!(text.contains(&shape), "example {n}: {shape} not in\n{text}");
        assert!(text.contains("agrees"), "example {n}:\n{text}");
    }
}

/// The screen while a large problem is first evaluated: its header, formula and progress.
#[test]
fn loading_screen() {
    let spec = ProblemSpec {
        expression: "relu(X @ W.T + b)".to_string(),
        shapes: ["X=2048x4096", "W=4096x4096", "b=4096"]
            .map(String::from)
            .to_vec(),
        loads: Vec::new(),
        wrt: None,
        seed: 0,
        max_memory: None,
    };
    let prepared = Problem::prepare(spec).expect("the problem is checked");
    let theme = Theme::new(ColorMode::Ansi16, false);
    let overview = prepared.overview(Notation::Unicode);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let progress = Progress::new();
    terminal
        .draw(|frame| draw::draw_loading(frame, &theme, &overview, "evaluating", &progress))
        .unwrap();
    assert_snapshot!(terminal.backend().to_string());
}

/// The seed with the claim `W[j,l]` (J without its delta): the verdict and hint in the
/// header, the claim map, and the cursor on the first difference with the claim beside J.
#[test]
fn claim_mode_80x24() {
    let mut app = default_app((80, 24));
    app.update(Action::Open(Mode::Claim));
    for c in "W[j,l]".chars() {
        app.update(Action::Text(TextEdit::Insert(c)));
    }
    app.update(Action::Submit);
    app.finish_jobs();
    run(&mut app, &vec![Action::CycleMapMode; 3]);
    app.update(Action::NextNonzero);
    let text = screen(&mut app);
    assert!(text.contains("claim fails"), "{text}");
    assert!(text.contains("claim vs J"), "{text}");
    assert!(text.contains("differs from J"), "{text}");
    assert_snapshot!(text);
}

/// A numeric count that would take hours is not started: the header says what it would
/// cost instead of counting forever (Σ_m δ(k,g)·X[m,l]·X[m,h]·sigmoid″(Z1)[m,k] sums 64
/// rows at each of 16384·128·128 entries: 1.7e10 operations, over the limit).
#[test]
fn a_count_over_the_limit_is_not_started() {
    let spec = ProblemSpec {
        expression: "sum(sigmoid(X @ W.T + b))".to_string(),
        shapes: ["X=16x2048", "W=2048x2048", "b=2048"]
            .map(String::from)
            .to_vec(),
        loads: Vec::new(),
        wrt: Some("W,W".to_string()),
        seed: 0,
        max_memory: None,
    };
    let mut app = app_for(spec, ColorMode::Ansi16, false, (120, 30));
    let text = screen(&mut app);
    assert!(!app.busy());
    assert!(
        text.contains("numeric: not counted (about 1.4e11 operations)"),
        "{text}"
    );
    let status = app.status().expect("the count said why it did not start");
    assert_eq!(
        status.text,
        "numeric nonzeros not counted: about 1.4e11 operations (the limit is 1e11); \
         `jacscope stats --count-all` counts anyway"
    );
    assert_snapshot!(text);
}
