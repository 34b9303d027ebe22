//! The interactive explorer: move through the index space of J = ∂Y/∂X with the keyboard,
//! read the value, formula and finite-difference check at the cursor, and see the sparsity
//! of each 2-D slice as a heat map, or of all of J as one matrix ([`matricized`]), with
//! every layout convention a panel away ([`conventions`]).
//!
//! Long work (evaluating a large problem, the numeric count, the finite-difference check)
//! runs off the UI thread ([`jobs`]) with its progress on screen; [`terminal`] owns the
//! terminal's setup and its restoration on every way out.
//!
//! Keys become [`action::Action`]s through one table per mode ([`keymap`]), which also writes
//! the footer and the help ([`help`]); [`app::App::update`] is the only place state changes;
//! [`draw`] draws it part by part without changing it, where [`geometry`] says;
//! [`event_loop`] connects them to the terminal.
//! The explorer never differentiates anything: values, structure and reasons come from
//! `jacobian`, `sparsity` and `check`, exactly as for the subcommands.

pub mod action;
pub mod app;
pub mod claim;
pub mod conventions;
pub mod draw;
pub mod editor;
pub mod event_loop;
pub mod geometry;
pub mod heatmap;
pub mod help;
pub mod jobs;
pub mod keymap;
pub mod matricized;
pub mod picker;
pub mod save;
pub mod slices;
pub mod terminal;
pub mod theme;

use std::io::{IsTerminal, stdout};

use crate::error::Error;
use crate::problem::{Problem, ProblemSpec};

pub use app::App;
pub use theme::{ColorChoice, ColorMode, Theme};

/// How the explorer is displayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TuiOptions {
    /// `--color`.
    pub color: ColorChoice,
    /// `--ascii`: no Unicode glyphs.
    pub ascii: bool,
    /// `--mouse`: click to move, wheel to scroll.
    pub mouse: bool,
}

/// What to do instead of the interactive view, when it cannot run.
const USE_A_SUBCOMMAND: &str =
    "use a subcommand instead: explain, shape, at, slice, stats or dense (see jacscope --help)";

/// Checks that stdout is a terminal that can move its cursor (`TERM` is not `dumb`);
/// otherwise says to use the subcommands (exit code 2), before anything is written to it.
pub fn require_terminal() -> Result<(), Error> {
    let refusal = if !stdout().is_terminal() {
        "the interactive view needs a terminal, and stdout is not one"
    } else if std::env::var_os("TERM").is_some_and(|term| term == "dumb") {
        "the interactive view needs a terminal that can move its cursor, and TERM=dumb cannot"
    } else {
        return Ok(());
    };
    Err(Error::Usage(format!("{refusal}; {USE_A_SUBCOMMAND}")))
}

/// Checks and derives the problem, then runs the explorer on it until the user quits
/// (evaluating it off the UI thread, with progress, see [`event_loop::load`]). The terminal
/// is restored on quit, on error, on panic and on SIGTERM, SIGHUP or SIGINT
/// ([`terminal`]).
pub fn run(spec: ProblemSpec, options: TuiOptions) -> Result<(), Error> {
    require_terminal()?;
    let prepared = Problem::prepare(spec)?;
    let theme = Theme::new(ColorMode::from_env(options.color), options.ascii);
    let io_error = |e: std::io::Error| Error::Io(format!("terminal: {e}"));

    let mut terminal = terminal::enter(options.mouse).map_err(io_error)?;
    let result = event_loop::load(&mut terminal, &theme, prepared).and_then(|loaded| {
        let Some(problem) = loaded else {
            return Ok(());
        };
        terminal
            .size()
            .map(|size| App::new(problem, theme, options.mouse, (size.width, size.height)))
            .and_then(|mut app| event_loop::run(&mut terminal, &mut app))
            .map_err(io_error)
    });
    // Dropping `terminal` gives the terminal back.
    drop(terminal);
    result
}
