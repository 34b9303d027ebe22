//! Step-and-draw tests of each part of the screen, in the csvlens style: drive the app with
//! actions, draw it on a small `TestBackend` (60×18, the smallest screen the explorer
//! draws in, unless a part needs more), and compare the lines of the part.
//!
//! At 60×18 the header is rows 0–1, the map rows 2–8 (title, ruler, four rows of cells,
//! legend), the inspector rows 9–16 (its top border first) and the footer row 17.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;

use super::*;
use crate::calculus::Notation;
use crate::layout::Layout;
use crate::problem::{Problem, ProblemSpec};
use crate::tui::action::{Action, Direction, TextEdit};
use crate::tui::theme::ColorMode;

/// X @ W.T with X 4×6 and W 5×6: J[i,j,k,l] of shape (4, 5, 4, 6).
fn spec() -> ProblemSpec {
    ProblemSpec::default_example(&["X=4x6".into(), "W=5x6".into()], 0)
}

/// The explorer on [`spec`] on a `width × height` screen, its numeric count finished.
fn small(width: u16, height: u16) -> App {
    let problem = Problem::build(spec()).unwrap();
    let theme = Theme::new(ColorMode::Ansi16, false);
    let mut app = App::new(problem, theme, false, (width, height));
    app.finish_jobs();
    app
}

/// A test terminal of `width × height` cells after drawing with `draw`.
fn drawn(width: u16, height: u16, draw: impl FnOnce(&mut Frame)) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(draw).unwrap();
    terminal
}

/// The rows of the screen as text, without trailing spaces.
fn rows(terminal: &Terminal<TestBackend>) -> Vec<String> {
    let buffer = terminal.backend().buffer();
    let area = buffer.area;
    (area.top()..area.bottom())
        .map(|y| {
            let row: String = (area.left()..area.right())
                .map(|x| buffer[(x, y)].symbol())
                .collect();
            row.trim_end().to_string()
        })
        .collect()
}

/// Applies `actions` to `app`, then draws the whole screen: its rows.
fn step_and_draw(app: &mut App, actions: &[Action]) -> Vec<String> {
    for action in actions {
        app.update(action.clone());
    }
    let (width, height) = app.screen_size();
    rows(&drawn(width, height, |frame| draw(frame, app)))
}

/// The row of `screen` containing `text`.
fn row_with<'a>(screen: &'a [String], text: &str) -> &'a str {
    screen
        .iter()
        .find(|row| row.contains(text))
        .unwrap_or_else(|| panic!("no row contains {text:?}:\n{}", screen.join("\n")))
}

#[test]
fn the_header_names_the_problem_and_counts_j() {
    let mut app = small(60, 18);
    let screen = step_and_draw(&mut app, &[]);
    assert_eq!(screen[0], "Y = X @ W.T · wrt X · J[i,j,k,l] (4, 5, 4, 6)");
    assert_eq!(
        screen[1],
        "480 entries · structural 120 (25%) · numeric 120"
    );
    app.update(Action::CycleWrt);
    app.finish_jobs();
    let screen = step_and_draw(&mut app, &[]);
    assert_eq!(screen[0], "Y = X @ W.T · wrt W · J[i,j,k,l] (4, 5, 5, 6)");
    assert_eq!(
        screen[1],
        "600 entries · structural 120 (20%) · numeric 120"
    );
}

#[test]
fn the_header_says_where_j_can_be_nonzero_when_there_is_room() {
    let mut app = small(100, 18);
    let screen = step_and_draw(&mut app, &[]);
    assert_eq!(
        screen[1],
        "480 entries · structural 120 (25%) · numeric 120 · nonzero only where i = k"
    );
    app.update(Action::CycleWrt);
    app.finish_jobs();
    let screen = step_and_draw(&mut app, &[]);
    assert!(
        screen[1].ends_with(" · nonzero only where j = k"),
        "{}",
        screen[1]
    );
}

#[test]
fn the_slice_map_follows_the_cursor() {
    let mut app = small(60, 18);
    let moves = [
        Action::Move(Direction::Right),
        Action::Move(Direction::Right),
        Action::Move(Direction::Right),
        Action::Move(Direction::Down),
        Action::Move(Direction::Down),
    ];
    let screen = step_and_draw(&mut app, &moves);
    assert_eq!(screen[2], "slice k,l (pair 6/6) fixed i=0 j=0");
    // The corner label, then across the 54 columns of cells: the first column, the cursor's
    // with its marker, the last.
    assert_eq!(screen[3], format!(" k\\l {:<53}5", "0  ▼3"));
    // Two rows of entries per cell row: k = 0, 1 then k = 2 (the cursor's), 3.
    assert_eq!(&screen[4][..5], "  0  ");
    assert_eq!(&screen[5][..7], "  2▶ ");
    assert!(screen[8].starts_with("sparsity"), "{}", screen[8]);

    // The selected fixed axis is highlighted; + changes it.
    let screen = step_and_draw(
        &mut app,
        &[
            Action::SelectFixed(Direction::Right),
            Action::ChangeFixed(1),
        ],
    );
    assert_eq!(screen[2], "slice k,l (pair 6/6) fixed i=0 j=1");
    let terminal = drawn(60, 18, |frame| draw(frame, &app));
    let title = &terminal.backend().buffer();
    let reversed = |x: u16| title[(x, 2)].modifier.contains(Modifier::REVERSED);
    let at = |text: &str| u16::try_from(screen[2].chars().count() - text.len()).unwrap();
    assert!(reversed(at("j=1")) && !reversed(at("i=0 j=1")));
}

#[test]
fn the_matricized_view_takes_the_maps_place() {
    let mut app = small(60, 18);
    let screen = step_and_draw(&mut app, &[Action::ToggleMatrix]);
    assert_eq!(screen[2], "numerator-rowmajor: ∂vec(Y)/∂vec(X)ᵀ, 20 × 24");
    assert!(
        screen[3].starts_with("rows vec(Y), cols vec(X), row-major (j, l fastest)"),
        "{}",
        screen[3]
    );
    assert_eq!(screen[4], format!(" Y\\X {:<52}23", "▼0"));
    assert!(screen[5].starts_with("  0▶ "), "{}", screen[5]);
    assert!(screen[8].starts_with("structure"), "{}", screen[8]);
    let screen = step_and_draw(&mut app, &[Action::ToggleVecOrder]);
    assert_eq!(screen[2], "numerator-colmajor: ∂vec(Y)/∂vec(X)ᵀ, 20 × 24");
}

#[test]
fn the_inspector_says_why_an_entry_is_zero_and_what_the_check_found() {
    let mut app = small(60, 18);
    let screen = step_and_draw(&mut app, &[Action::Move(Direction::Down)]);
    assert!(screen[9].starts_with(" entry ─"), "{}", screen[9]);
    assert_eq!(
        screen[10..15],
        [
            "∂Y[0,0]/∂X[1,0] = 0   i=0 j=0 k=1 l=0",
            "check    finite difference: checking…",
            "zero     δ(i,k) = 0 since i = 0 ≠ k = 1",
            "formula  δ(i,k)·W[j,l]",
            "here     δ(0,1)·W[0,0] = 0 × 0.69996 = 0",
        ]
    );
    app.check_now();
    let screen = step_and_draw(&mut app, &[]);
    assert_eq!(
        screen[11],
        "check    finite difference 0 ✓ agrees (error 0)"
    );
}

#[test]
fn the_footer_puts_the_status_first_and_keeps_help_and_quit() {
    let mut app = small(60, 18);
    let screen = step_and_draw(&mut app, &[]);
    assert_eq!(
        screen[17],
        "hjkl move  HJKL page  Tab axes  g go to  ? help  q quit"
    );
    let screen = step_and_draw(&mut app, &[Action::NextPair]);
    assert_eq!(
        screen[17],
        " slice i,j  hjkl move  HJKL page  Tab axes  ? help  q quit"
    );
}

#[test]
fn the_footer_shows_the_progress_of_a_loading_problem() {
    let theme = Theme::new(ColorMode::Ansi16, false);
    let progress = Progress::new();
    let terminal = drawn(60, 1, |frame| {
        footer::draw_progress(frame, frame.area(), &theme, "evaluating", &progress)
    });
    assert_eq!(
        rows(&terminal),
        [format!(" evaluating {}   0% Esc stops", "·".repeat(20))]
    );
}

#[test]
fn the_help_overlay_lists_the_keys_and_scrolls() {
    let mut app = small(60, 18);
    let screen = step_and_draw(&mut app, &[Action::Open(Mode::Help)]);
    assert!(
        screen[1].starts_with("┌ help · ? or Esc closes · j k scroll ─"),
        "{}",
        screen[1]
    );
    assert!(
        screen[2].starts_with("│h j k l arrows              move the cursor one entry"),
        "{}",
        screen[2]
    );
    let screen = step_and_draw(&mut app, &[Action::ListDown]);
    assert!(
        screen[2].starts_with("│H J K L S-arrows PgUp PgDn  move half a screen"),
        "{}",
        screen[2]
    );
}

#[test]
fn the_picker_shows_the_chosen_example() {
    let mut app = small(60, 18);
    let screen = step_and_draw(&mut app, &[Action::Open(Mode::Picker), Action::ListDown]);
    let example = &app.examples[1];
    row_with(&screen, " examples · j k choose · Enter open · Esc back ");
    row_with(&screen, &format!("│ 2 {}", example.name));
    row_with(&screen, &format!("Y = {}  -s", example.expression));
}

#[test]
fn the_editor_shows_the_line_and_the_error() {
    let mut app = small(60, 18);
    let screen = step_and_draw(&mut app, &[Action::Open(Mode::Editor)]);
    row_with(&screen, "┌ edit · Enter apply · Esc cancel ─");
    row_with(&screen, "│EXPR -s NAME=SHAPE … [--wrt NAME] [--seed N]");
    row_with(&screen, "│X @ W.T -s X=4x6 -s W=5x6");
    let mut typing = vec![Action::Text(TextEdit::Home)];
    typing.extend("relu(".chars().map(|c| Action::Text(TextEdit::Insert(c))));
    typing.push(Action::Submit);
    let screen = step_and_draw(&mut app, &typing);
    row_with(&screen, "│relu(X @ W.T -s X=4x6 -s W=5x6");
    row_with(&screen, "^");
}

/// The actions that type `text` into the open line.
fn typed(text: &str) -> Vec<Action> {
    text.chars()
        .map(|c| Action::Text(TextEdit::Insert(c)))
        .collect()
}

/// Issue 11, item 17: an error longer than the popup is wide wraps, the popup growing to
/// show all of it, every row inside the box.
#[test]
fn the_editors_errors_wrap_inside_the_popup() {
    let mut app = small(80, 24);
    let mut typing = vec![Action::Open(Mode::Editor), Action::Text(TextEdit::Clear)];
    typing.extend(typed("X @ W.T + 1 -s X=4x6 -s W=5x6 --bogus"));
    typing.push(Action::Submit);
    let screen = step_and_draw(&mut app, &typing);
    let error = app.editor_error.clone().expect("an error");
    assert!(
        error.lines().any(|line| line.chars().count() > 76),
        "{error}"
    );
    let inside: Vec<String> = screen
        .iter()
        .filter_map(|row| {
            let rest: String = row.chars().skip(2).collect();
            rest.strip_prefix('│').map(str::to_string)
        })
        .collect();
    let shown = inside.join(" ");
    for word in error.split_whitespace() {
        assert!(
            shown.contains(word),
            "{word:?} is not shown:\n{}",
            screen.join("\n")
        );
    }
}

/// Issue 11, item 17: wide characters (CJK, emoji) are measured in columns: the line and
/// its caret stay inside the editor's box, the caret on the character at the cursor.
#[test]
fn wide_characters_stay_inside_the_editor_box() {
    let mut app = small(80, 24);
    let mut typing = vec![Action::Open(Mode::Editor), Action::Text(TextEdit::Clear)];
    typing.extend(typed(&format!("{}🙂端", "漢字".repeat(40))));
    for action in typing {
        app.update(action);
    }
    let check = |app: &App, at_caret: &str| {
        let mut terminal = drawn(80, 24, |frame| draw(frame, app));
        let caret = terminal.get_cursor_position().unwrap();
        let buffer = terminal.backend().buffer();
        assert!((3..77).contains(&caret.x), "the caret at {caret:?}");
        assert_eq!(buffer[(2, caret.y)].symbol(), "│");
        assert_eq!(buffer[(77, caret.y)].symbol(), "│", "{:?}", rows(&terminal));
        assert_eq!(buffer[(caret.x, caret.y)].symbol(), at_caret);
        buffer[(caret.x - 2, caret.y)].symbol().to_string()
    };
    // At the end: the caret after the last character.
    assert_eq!(check(&app, " "), "端");
    app.update(Action::Text(TextEdit::Home));
    for _ in 0..3 {
        app.update(Action::Text(TextEdit::Right));
    }
    assert_eq!(check(&app, "字"), "漢");
}

#[test]
fn the_goto_prompt_names_the_axes() {
    let mut app = small(60, 18);
    let mut typing = vec![Action::Open(Mode::Goto)];
    typing.extend("0,3".chars().map(|c| Action::Text(TextEdit::Insert(c))));
    let screen = step_and_draw(&mut app, &typing);
    row_with(&screen, "┌ go to · Enter go · Esc cancel ─");
    row_with(
        &screen,
        "│J[i,j,k,l] as i,j,k,l (e.g. 0,0,0,0), or by name: l=3 │",
    );
    row_with(&screen, "│0,3 ");
}

#[test]
fn the_conventions_panel_places_the_cursors_entry() {
    let mut app = small(80, 24);
    let moves = [
        Action::Move(Direction::Right),
        Action::Open(Mode::Conventions),
    ];
    let screen = step_and_draw(&mut app, &moves);
    row_with(&screen, "∂Y[0,0]/∂X[0,1] in each layout of J");
    let first = row_with(&screen, Layout::ALL[0].name());
    assert!(first.contains("(4, 5, 4, 6)"), "{first}");
    assert!(first.contains("[0, 0, 0, 1]"), "{first}");
}

#[test]
fn the_loading_screen_shows_the_formula_before_the_numbers() {
    let theme = Theme::new(ColorMode::Ansi16, false);
    let prepared = Problem::prepare(spec()).unwrap();
    let overview = prepared.overview(Notation::Unicode);
    let progress = Progress::new();
    let terminal = drawn(60, 9, |frame| {
        draw_loading(frame, &theme, &overview, "evaluating", &progress)
    });
    assert_eq!(
        rows(&terminal),
        [
            "Y = X @ W.T · wrt X · J[i,j,k,l] (4, 5, 4, 6)".to_string(),
            "480 entries · structural 120 (25%)".to_string(),
            String::new(),
            "∂Y[i,j]/∂X[k,l] = δ(i,k)·W[j,l]".to_string(),
            String::new(),
            format!(" evaluating {}   0% Esc stops", "·".repeat(20)),
            String::new(),
            "q quits; the explorer opens when the values are ready".to_string(),
            String::new(),
        ]
    );
}

#[test]
fn a_screen_too_small_says_so() {
    let mut app = small(40, 10);
    let screen = step_and_draw(&mut app, &[]);
    assert_eq!(screen[0], "enlarge the terminal");
    assert!(
        screen[1].starts_with("jacscope needs at least 60×18;"),
        "{}",
        screen[1]
    );
}

/// `app` after setting the claim `text` with the claim prompt, its comparison finished.
fn with_claim(app: &mut App, text: &str) -> Vec<String> {
    let mut typing = vec![Action::Open(Mode::Claim), Action::Text(TextEdit::Clear)];
    typing.extend(text.chars().map(|c| Action::Text(TextEdit::Insert(c))));
    typing.push(Action::Submit);
    step_and_draw(app, &typing);
    app.finish_jobs();
    step_and_draw(app, &[])
}

#[test]
fn a_bad_claim_shows_its_caret_and_keeps_the_view() {
    let mut app = small(60, 18);
    let before = step_and_draw(&mut app, &[]);
    let screen = with_claim(&mut app, "delta(i,q)*W[j,l]");
    assert_eq!(app.mode(), Mode::Claim);
    row_with(&screen, "┌ claim · Enter check · Esc cancel");
    row_with(&screen, "index q is neither one of J's axes");
    let caret = row_with(&screen, "^");
    let typed = row_with(&screen, "  delta(i,q)*W[j,l]");
    assert_eq!(caret.find('^'), typed.find('q'), "{}", screen.join("\n"));
    assert_eq!(screen[1], before[1]);
    let screen = step_and_draw(&mut app, &[Action::Close]);
    assert_eq!(screen, before);
}

#[test]
fn the_header_gives_the_verdict_of_the_library() {
    let mut app = small(60, 18);
    let screen = with_claim(&mut app, "delta(i,k)*W[j,l]");
    assert_eq!(app.mode(), Mode::Normal);
    assert_eq!(screen[1], "claim holds (exact: 120 entries)");

    let screen = with_claim(&mut app, "W[j,l]");
    let comparison = &app.claim.checked().unwrap().comparison;
    assert_eq!(comparison.differing, 360);
    assert!(
        screen[1].starts_with("claim fails: 360 entries differ · "),
        "{}",
        screen[1]
    );
    let hint = comparison.hints[0].sentence(&app.overview.axis_names, Notation::Unicode);
    assert!(hint.starts_with(
        screen[1]["claim fails: 360 entries differ · ".len()..].trim_end_matches('…')
    ));

    // An empty claim clears it: the counts are back.
    let screen = with_claim(&mut app, "");
    assert_eq!(
        screen[1],
        "480 entries · structural 120 (25%) · numeric 120"
    );
}

#[test]
fn while_a_claim_is_set_the_footer_offers_its_differences() {
    let mut app = small(120, 18);
    let screen = step_and_draw(&mut app, &[]);
    assert!(screen[17].contains("nN nonzero"), "{}", screen[17]);
    let screen = with_claim(&mut app, "W[j,l]");
    assert!(screen[17].contains("nN difference"), "{}", screen[17]);
    let screen = with_claim(&mut app, "");
    assert!(screen[17].contains("nN nonzero"), "{}", screen[17]);
}

#[test]
fn a_matrix_claim_is_j_in_the_vec_order_of_the_matricized_view() {
    // Row-major vec first (the explorer's default): I₄ ⊗ W holds, W ⊗ I₄ cannot even be
    // split that way.
    let mut app = small(60, 18);
    let screen = with_claim(&mut app, "kron(eye(4), W)");
    assert_eq!(app.mode(), Mode::Normal, "{}", screen.join("\n"));
    assert!(screen[1].starts_with("claim holds"), "{}", screen[1]);
    let screen = with_claim(&mut app, "kron(W, eye(4))");
    assert_eq!(app.mode(), Mode::Claim);
    row_with(&screen, "which no split of it");
    // o in the matricized view switches to column-major vec, where W ⊗ I₄ is J.
    step_and_draw(
        &mut app,
        &[Action::Close, Action::ToggleMatrix, Action::ToggleVecOrder],
    );
    let screen = with_claim(&mut app, "kron(W, eye(4))");
    assert!(screen[1].starts_with("claim holds"), "{}", screen[1]);
}

#[test]
fn the_inspector_shows_the_claim_beside_j() {
    let mut app = small(80, 24);
    let screen = with_claim(&mut app, "W[j,l]");
    let claim = row_with(&screen, "claim    ");
    assert!(claim.contains("equals J"), "{claim}");
    // k = 1 ≠ i = 0: J is 0 there, the claim is W[0,0].
    let screen = step_and_draw(&mut app, &[Action::Move(Direction::Down)]);
    let claim = row_with(&screen, "claim    ");
    assert!(claim.contains("differs from J"), "{claim}");
    let w = app.problem().jacobian.entry(&[0, 0, 0, 0]);
    assert_eq!(app.claim.entry.as_ref().unwrap().value, w);
    let terms = &app.claim.entry.as_ref().unwrap().terms;
    assert!(terms[0].starts_with("W[0,0] = "), "{terms:?}");
    row_with(&screen, &terms[0]);
}

#[test]
fn the_claim_map_paints_every_block_that_holds_a_difference() {
    use crate::picture::grid::MapMode;
    use crate::picture::paint::Agreement;
    let mut app = small(60, 18);
    with_claim(&mut app, "W[j,l]");
    let cycle = [(); 3].map(|()| Action::CycleMapMode);
    step_and_draw(&mut app, &cycle);
    assert_eq!(app.map_mode(), MapMode::Agreement);
    for zoom in [None, Some(Action::ZoomIn), Some(Action::ZoomIn)] {
        let screen = step_and_draw(&mut app, zoom.as_slice());
        row_with(&screen, "claim vs J");
        let grid = app.claim.grid.as_ref().unwrap();
        let viewport = grid.viewport;
        let (truth, claim) = (&app.problem().jacobian, &app.claim.checked().unwrap().bound);
        for y in 0..viewport.height {
            for x in 0..viewport.width {
                // Brute force: every entry of the block, J beside the claim.
                let (mut differs, mut nonzero) = (false, false);
                if let Some((row, col)) = viewport.entry_of((y, x)) {
                    for r in row..(row + viewport.block.0).min(viewport.rows) {
                        for c in col..(col + viewport.block.1).min(viewport.cols) {
                            let mut index = app.cursor().to_vec();
                            app.axes().place(&mut index, (r, c));
                            let (t, a) = (truth.entry(&index), claim.entry(&index));
                            differs |= !crate::claim::compare::agrees(a, t);
                            nonzero |= t != 0.0 || a != 0.0;
                        }
                    }
                }
                // J is δ(i,k)·W[j,l]: the claim differs only where J is zero.
                let expected = match (differs, nonzero) {
                    (true, _) => Some(Agreement::ClaimOnly),
                    (false, true) => Some(Agreement::Agree),
                    (false, false) => None,
                };
                assert_eq!(
                    grid.block(y, x),
                    expected,
                    "block ({y}, {x}) of {viewport:?}"
                );
            }
        }
    }
    // Clearing the claim leaves the claim map.
    with_claim(&mut app, "");
    assert_eq!(app.map_mode(), MapMode::Sparsity);
}

#[test]
fn n_jumps_to_the_next_difference() {
    let mut app = small(60, 18);
    with_claim(&mut app, "W[j,l]");
    // Row k = 0 = i agrees; the first difference in reading order is (k, l) = (1, 0).
    step_and_draw(&mut app, &[Action::NextNonzero]);
    assert_eq!(app.cursor(), [0, 0, 1, 0]);
    step_and_draw(&mut app, &[Action::NextNonzero]);
    assert_eq!(app.cursor(), [0, 0, 1, 1]);
    // Back past row 0, which agrees: wrapped to the last entry.
    step_and_draw(&mut app, &[Action::PrevNonzero, Action::PrevNonzero]);
    assert_eq!(app.cursor(), [0, 0, 3, 5]);
    let screen = with_claim(&mut app, "delta(i,k)*W[j,l]");
    assert!(screen[1].starts_with("claim holds"));
    let screen = step_and_draw(&mut app, &[Action::NextNonzero]);
    row_with(&screen, "the claim equals J on this slice");
}

/// The `p` key's picture: the view on screen as SVG, named after the expression and the
/// slice, never over an existing file, its blocks those of the grid on screen; in the
/// matricized view, J as one matrix.
#[test]
fn saving_the_view_writes_what_is_on_screen() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = small(60, 18);
    step_and_draw(&mut app, &[]);
    // The (k,l) slice at i = 0, j = 0: only row k = 0 is lit.
    app.save_picture_in(dir.path());
    let first = dir.path().join("jacscope-X_W.T-kl-i0-j0.svg");
    let status = app.status().unwrap();
    assert!(
        !status.error && status.text.contains("jacscope-X_W.T-kl-i0-j0.svg"),
        "{status:?}"
    );
    let lit = |path: &std::path::Path| -> Vec<(String, String)> {
        let text = std::fs::read_to_string(path).unwrap();
        let document = roxmltree::Document::parse(&text).unwrap();
        document
            .descendants()
            .filter(|n| n.attribute("class") == Some("block"))
            .map(|n| {
                (
                    n.attribute("y").unwrap().into(),
                    n.attribute("width").unwrap().into(),
                )
            })
            .collect()
    };
    let (_, cols) = (app.viewport().rows, app.viewport().cols);
    let block_cols = cols.div_ceil(app.viewport().block.1);
    assert_eq!(lit(&first), [("0".to_string(), block_cols.to_string())]);
    app.save_picture_in(dir.path());
    assert!(dir.path().join("jacscope-X_W.T-kl-i0-j0-1.svg").exists());
    assert!(app.status().unwrap().text.contains("-1.svg"));

    step_and_draw(&mut app, &[Action::ToggleMatrix]);
    app.save_picture_in(dir.path());
    let name = format!(
        "jacscope-X_W.T-{}.svg",
        app.matrix.as_ref().unwrap().layout().name()
    );
    // I₄ ⊗ W or W ⊗ I₄: some blocks lit, each of them structurally nonzero in the view's grid.
    let blocks = lit(&dir.path().join(name));
    assert!(!blocks.is_empty());
    let grid = app.matrix.as_ref().unwrap().grid();
    let lit_in_grid = grid
        .blocks
        .iter()
        .flatten()
        .filter(|b| b.structural > 0)
        .count();
    let lit_in_svg: usize = blocks
        .iter()
        .map(|(_, w)| w.parse::<usize>().unwrap())
        .sum();
    assert_eq!(lit_in_svg, lit_in_grid);
}
