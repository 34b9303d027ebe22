//! End-to-end tests of the real binary in a pseudo-terminal: start the explorer on the
//! default example, read the screen through a vt100 parser (fed by a thread that drains the
//! output, so the program never blocks on writing), press keys, and quit.

use jacscope::problem::{Problem, ProblemSpec};

#[path = "common/pty.rs"]
mod pty;

use pty::Session;

/// W of the default example, from the library: the independent witness of the values shown.
fn default_w(j: usize, l: usize) -> f64 {
    let problem = Problem::build(ProblemSpec::default_example(&[], 0)).unwrap();
    problem.inputs.get("W").unwrap()[[j, l].as_slice()]
}

/// The value after `= ` on the line that shows `entry`, e.g. `∂Y[0,0]/∂X[0,7] = 0.99291598`.
fn shown_value(screen: &str, entry: &str) -> f64 {
    let line = screen
        .lines()
        .find(|l| l.contains(entry))
        .unwrap_or_else(|| panic!("no line with {entry} in:\n{screen}"));
    let after = line.split(" = ").nth(1).expect("a value after '='");
    let number = after.split_whitespace().next().unwrap().replace('−', "-");
    number
        .parse()
        .unwrap_or_else(|_| panic!("'{number}' is not a number"))
}

/// The tour of the issue: shape and formula on screen, a value checked against W, the
/// (i,k) slice, help open and closed, quit with the terminal restored.
fn tour(size: (u16, u16), env: &[(&str, Option<&str>)]) -> Session {
    let mut session = Session::start(&[], size, env);
    let screen = session.wait_for("agrees");
    assert!(screen.contains("(64, 512, 64, 1024)"), "{screen}");
    assert!(screen.contains("δ(i,k)·W[j,l]"), "{screen}");
    assert!(session.in_alternate_screen());

    session.press("lllllll");
    let screen = session.wait_for("∂Y[0,0]/∂X[0,7]");
    let shown = shown_value(&screen, "∂Y[0,0]/∂X[0,7]");
    let expected = default_w(0, 7);
    assert!(
        (shown - expected).abs() <= 1e-7 * expected.abs().max(1.0),
        "shown {shown}, W[0,7] = {expected}"
    );

    session.press("jjj");
    let screen = session.wait_for("δ(i,k) = 0 since i = 0 ≠ k = 3");
    assert_eq!(shown_value(&screen, "∂Y[0,0]/∂X[3,7]"), 0.0);

    session.press("2");
    session.wait_for("slice i,k");

    session.press("?");
    session.wait_for("move the cursor one entry");
    session.press("?");
    session.wait_without("move the cursor one entry");

    session.press("q");
    assert!(session.wait_exit(), "jacscope exited with an error");
    assert!(
        !session.in_alternate_screen(),
        "the alternate screen was not left"
    );
    session
}

#[test]
fn tour_of_the_default_example_in_colour() {
    let mut session = Session::start(
        &[],
        (100, 30),
        &[("NO_COLOR", None), ("COLORTERM", Some("truecolor"))],
    );
    session.wait_for("agrees");
    {
        let parser = session.parser.lock().unwrap();
        let vt = parser.screen();
        let truecolor = (0..30)
            .flat_map(|row| (0..100).map(move |col| (row, col)))
            .any(|(row, col)| {
                matches!(vt.cell(row, col).unwrap().fgcolor(), vt100::Color::Rgb(..))
            });
        assert!(
            truecolor,
            "COLORTERM=truecolor draws the map in 24-bit colour"
        );
    }
    session.press("q");
    assert!(session.wait_exit());
    drop(session);
    tour(
        (100, 30),
        &[("NO_COLOR", None), ("COLORTERM", Some("truecolor"))],
    );
}

#[test]
fn tour_without_colour_at_80x24() {
    let mut session = Session::start(&[], (80, 24), &[("NO_COLOR", Some("1"))]);
    let screen = session.wait_for("agrees");
    // The lit row of the (k,l) slice uses the glyph ramp and no colour at all.
    {
        let parser = session.parser.lock().unwrap();
        let vt = parser.screen();
        for row in 0..24 {
            for col in 0..80 {
                let cell = vt.cell(row, col).unwrap();
                assert_eq!(cell.fgcolor(), vt100::Color::Default, "({row},{col})");
                assert_eq!(cell.bgcolor(), vt100::Color::Default, "({row},{col})");
            }
        }
    }
    assert!(!screen.contains('▀'), "{screen}");
    session.press("q");
    assert!(session.wait_exit());
    drop(session);
    tour((80, 24), &[("NO_COLOR", Some("1"))]);
}

/// The small example, for a quick look at its first screen.
const SMALL: [&str; 5] = ["X @ W.T", "-s", "X=6x8", "-s", "W=5x8"];

/// The first screen of the explorer on [`SMALL`] with `--color choice` and `env`: how many
/// cells have a colour, and how many are bold. Quits and checks the exit.
fn colour_and_bold(choice: &str, env: &[(&str, Option<&str>)]) -> (usize, usize) {
    let mut args = SMALL.to_vec();
    args.extend(["--color", choice]);
    let mut session = Session::start(&args, (80, 24), env);
    session.wait_for("agrees");
    let counts = session.screen(|vt| {
        let cells: Vec<_> = (0..24)
            .flat_map(|row| (0..80).map(move |col| (row, col)))
            .filter_map(|(row, col)| vt.cell(row, col))
            .collect();
        let coloured = cells
            .iter()
            .filter(|cell| {
                cell.fgcolor() != vt100::Color::Default || cell.bgcolor() != vt100::Color::Default
            })
            .count();
        (coloured, cells.iter().filter(|cell| cell.bold()).count())
    });
    session.press("q");
    assert!(session.wait_exit());
    counts
}

/// Issue 11, item 15: an explicit `--color always` wins over NO_COLOR: the map is in
/// colour and the titles are bold, exactly as without NO_COLOR.
#[test]
fn color_always_wins_over_no_color() {
    let with_no_color = colour_and_bold("always", &[("NO_COLOR", Some("1"))]);
    let without = colour_and_bold("always", &[("NO_COLOR", None)]);
    assert!(
        with_no_color.0 > 0 && with_no_color.1 > 0,
        "{with_no_color:?}"
    );
    assert_eq!(with_no_color, without);
}

/// Issue 11, item 15: `--color auto` on a terminal without colour (`TERM=xterm-mono`,
/// `TERM=vt100`) draws in monochrome.
#[test]
fn color_auto_on_a_monochrome_term_has_no_colour() {
    for term in ["xterm-mono", "vt100"] {
        let env = [("NO_COLOR", None), ("TERM", Some(term))];
        assert_eq!(colour_and_bold("auto", &env).0, 0, "TERM={term}");
    }
}

#[test]
fn ctrl_c_quits_and_restores_the_terminal() {
    let mut session = Session::start(&["X * W", "-s", "X=3x4", "-s", "W=3x4"], (80, 24), &[]);
    session.wait_for("(3, 4, 3, 4)");
    session.press("\u{3}");
    assert!(session.wait_exit());
    assert!(!session.in_alternate_screen());
}

/// The layouts of J as a person reaches them: `m` for the matricized view (row-major first,
/// `o` for column-major), a step down that moves the shared cursor, `c` for the panel with
/// the entry's position in every layout, `m` back to the slices where the cursor stayed.
#[test]
fn matricized_view_and_conventions_panel() {
    let mut session = Session::start(&["-s", "X=6x8", "-s", "W=5x8"], (100, 30), &[]);
    session.wait_for("(6, 5, 6, 8)");
    session.press("m");
    session.wait_for("numerator-rowmajor: ∂vec(Y)/∂vec(X)ᵀ, 30 × 48");
    session.press("o");
    session.wait_for("numerator-colmajor: ∂vec(Y)/∂vec(X)ᵀ, 30 × 48");
    // One row down in column-major vec(Y) is the next i.
    session.press("j");
    session.wait_for("∂Y[1,0]/∂X[0,0]");
    session.press("c");
    let screen = session.wait_for("in each layout of J");
    assert!(screen.contains("(6, 8, 6, 5)"), "{screen}");
    assert!(screen.contains("(row 1, col 0)"), "{screen}");
    session.press("c");
    session.wait_without("in each layout of J");
    session.press("m");
    session.wait_for("slice k,l");
    assert!(session.contents().contains("∂Y[1,0]/∂X[0,0]"));
    session.press("q");
    assert!(session.wait_exit());
    assert!(!session.in_alternate_screen());
}

/// The claim mode as a person reaches it: `C` opens the prompt, a failing claim (J
/// without its delta) is typed and checked, the header gives the verdict; `n` jumps to the
/// first difference, where the inspector shows the claim beside J.
#[test]
fn a_failing_claim_shows_its_verdict_in_the_header() {
    let mut session = Session::start(&["-s", "X=6x8", "-s", "W=5x8"], (100, 30), &[]);
    session.wait_for("(6, 5, 6, 8)");
    session.press("C");
    session.wait_for("claim · Enter check · Esc cancel");
    session.press("W[j,l]\r");
    let screen = session.wait_for("claim fails: 1,200 entries differ");
    assert!(screen.contains("the claim is J without δ(i,k)"), "{screen}");
    session.press("n");
    let screen = session.wait_for("∂Y[0,0]/∂X[1,0]");
    assert!(screen.contains("differs from J"), "{screen}");
    session.press("q");
    assert!(session.wait_exit());
    assert!(!session.in_alternate_screen());
}

/// A problem that takes a while opens on the loading screen (formula and progress); q stops
/// it, exits cleanly and gives the terminal back.
#[test]
fn a_slow_problem_shows_its_progress_and_q_stops_it() {
    let args = [
        "relu(X @ W.T + b)",
        "-s",
        "X=1024x2048",
        "-s",
        "W=2048x2048",
        "-s",
        "b=2048",
    ];
    let mut session = Session::start(&args, (100, 30), &[]);
    // The bar moves, so the screen need not settle: wait for the text alone.
    let started = std::time::Instant::now();
    let screen = loop {
        let screen = session.contents();
        if screen.contains("Esc stops") {
            break screen;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "no loading screen:\n{screen}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(screen.contains("δ(i,k)·relu′(Z1)[i,j]·W[j,l]"), "{screen}");
    assert!(screen.contains("evaluating relu(X @ W.T + b)"), "{screen}");
    session.press("q");
    assert!(session.wait_exit(), "jacscope exited with an error");
    assert!(!session.in_alternate_screen());
}
