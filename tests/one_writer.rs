//! Every fact both views print has one writer (issue 10): the explorer's inspector and
//! `jacscope at` show the same entry name, the same term lines, character for character, and
//! the same finite-difference verdict with the same reason, a NaN included.

use assert_cmd::Command;
use jacscope::problem::{Problem, ProblemSpec};
use jacscope::tui::action::{Action, Mode, TextEdit};
use jacscope::tui::{App, ColorMode, Theme, draw};
use ndarray::arr2;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tempfile::TempDir;

#[path = "common/files.rs"]
mod files;
use files::{load_arg, write_npy};

/// The problem `expression` with these `-s` shapes and `-l` loads, seed 0.
fn spec(expression: &str, shapes: &[&str], loads: &[String]) -> ProblemSpec {
    ProblemSpec {
        expression: expression.to_string(),
        shapes: shapes.iter().map(|s| s.to_string()).collect(),
        loads: loads.to_vec(),
        wrt: None,
        seed: 0,
        max_memory: None,
    }
}

/// What `jacscope at` prints for `spec` at `index` (text, Unicode).
fn at_output(spec: &ProblemSpec, index: &str) -> String {
    let mut args = vec!["at".to_string(), spec.expression.clone()];
    for shape in &spec.shapes {
        args.extend(["-s".to_string(), shape.clone()]);
    }
    for load in &spec.loads {
        args.extend(["-l".to_string(), load.clone()]);
    }
    args.extend(["--index".to_string(), index.to_string()]);
    let output = Command::cargo_bin("jacscope")
        .unwrap()
        .args(&args)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// The text of the explorer's inspector, its wrapped lines joined and runs of spaces made
/// one, with the cursor at `index`, after the finite-difference check has run.
fn inspector_text(spec: ProblemSpec, index: &str) -> String {
    let problem = Problem::build(spec).unwrap();
    let mut app = App::new(
        problem,
        Theme::new(ColorMode::Ansi16, false),
        false,
        (240, 50),
    );
    app.update(Action::Open(Mode::Goto));
    app.update(Action::Text(TextEdit::Clear));
    for c in index.chars() {
        app.update(Action::Text(TextEdit::Insert(c)));
    }
    app.update(Action::Submit);
    app.finish_jobs();
    app.check_now();
    let mut terminal = Terminal::new(TestBackend::new(240, 50)).unwrap();
    terminal.draw(|frame| draw::draw(frame, &app)).unwrap();
    let buffer = terminal.backend().buffer();
    let inspector: String = (0..buffer.area.height)
        .map(|y| {
            let row: String = (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect();
            row.rsplit('│').next().unwrap_or_default().to_string()
        })
        .collect();
    words(&inspector)
}

/// `text` with every run of white space made one space.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_explorer_writes_the_entry_name_and_term_lines_of_at() {
    // Softmax: a term with coefficient −1, which the two views once wrote differently
    // (`−S[0,3]` in `at`, `−1·S[0,3]` in the explorer).
    let spec = spec("softmax(X @ W.T, axis=1)", &["X=2x3", "W=4x3"], &[]);
    let at = at_output(&spec, "0,1,0,2");
    let inspector = inspector_text(spec, "0,1,0,2");
    let mut lines = at.lines();
    let first = lines.next().unwrap();
    let name = first.split(" = ").next().unwrap();
    assert_eq!(name, "∂Y[0,1]/∂X[0,2]");
    assert!(inspector.contains(name), "{inspector}");
    let terms: Vec<&str> = lines
        .take_while(|l| l.starts_with("  "))
        .map(str::trim)
        .collect();
    assert!(terms.len() >= 2, "{at}");
    assert!(terms.iter().any(|t| t.starts_with('−')), "{at}");
    for term in terms {
        assert!(
            inspector.contains(&words(term)),
            "the explorer lacks `{term}`:\n{inspector}"
        );
    }
}

#[test]
fn a_nan_finite_difference_reads_the_same_in_both_views() {
    // sqrt at 0: the formula's value is infinite and the difference is NaN.
    let dir = TempDir::new().unwrap();
    let load = load_arg("X", &write_npy(&dir, "x.npy", &arr2(&[[0.0, 1.0]])));
    let spec = spec("sqrt(X)", &[], &[load]);
    let at = at_output(&spec, "0,0,0,0");
    assert!(at.contains("NOT FINITE"), "{at}");
    let reason = at.rsplit(" — ").next().unwrap().trim();
    let inspector = inspector_text(spec, "0,0,0,0");
    assert!(
        inspector.contains("not finite") && inspector.contains(reason),
        "the explorer does not say `not finite: {reason}`:\n{inspector}"
    );
    assert!(!inspector.contains("disagrees"), "{inspector}");
}
