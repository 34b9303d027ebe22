//! The interactive explorer: move through the index space of J = ∂Y/∂X with the keyboard,
//! read the value, formula and finite-difference check at the cursor, and see the sparsity
//! of each 2-D slice as a heat map.
//!
//! Keys become [`app::Action`]s through one table per mode ([`keymap`]), which also writes
//! the footer and the help; [`app::App::update`] is the only place state changes;
//! [`render`] draws it without changing it; [`event_loop`] connects them to the terminal.
//! The explorer never differentiates anything: values, structure and reasons come from
//! `jacobian`, `sparsity` and `check`, exactly as for the subcommands.

pub mod app;
pub mod editor;
pub mod event_loop;
pub mod heatmap;
pub mod keymap;
pub mod picker;
pub mod render;
pub mod slices;
pub mod theme;

use std::io::{IsTerminal, stdout};

use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::execute;

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

/// Checks that stdout is a terminal; otherwise says to use the subcommands (exit code 2).
pub fn require_terminal() -> Result<(), Error> {
    if stdout().is_terminal() {
        Ok(())
    } else {
        Err(Error::Usage(
            "the interactive view needs a terminal, and stdout is not one; use a subcommand \
             instead: explain, shape, at, slice, stats or dense (see jacscope --help)"
                .to_string(),
        ))
    }
}

/// Builds the problem and runs the explorer on it until the user quits. The terminal is
/// restored on quit, on error and on panic.
pub fn run(spec: ProblemSpec, options: TuiOptions) -> Result<(), Error> {
    require_terminal()?;
    let problem = Problem::build(spec)?;
    let theme = Theme::new(ColorMode::from_env(options.color), options.ascii);
    let io_error = |e: std::io::Error| Error::Io(format!("terminal: {e}"));

    let mut terminal = ratatui::try_init().map_err(io_error)?;
    if options.mouse {
        // ratatui's panic hook restores raw mode and the screen; release the mouse too.
        let restore_screen = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = execute!(stdout(), DisableMouseCapture);
            restore_screen(info);
        }));
        if let Err(e) = execute!(stdout(), EnableMouseCapture) {
            ratatui::restore();
            return Err(io_error(e));
        }
    }
    let result = terminal
        .size()
        .map(|size| App::new(problem, theme, options.mouse, (size.width, size.height)))
        .and_then(|mut app| event_loop::run(&mut terminal, &mut app));
    if options.mouse {
        let _ = execute!(stdout(), DisableMouseCapture);
    }
    ratatui::restore();
    result.map_err(io_error)
}
