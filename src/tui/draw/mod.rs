//! Drawing: a pure function of the [`App`] state, never changing it.
//!
//! The screen is a header (`header`: expression, wrt, J's shape, counts), the map
//! (`map`: the heat map of the current slice with its title, rulers and legend, or the
//! matricized view in the same place), an inspector for the entry under the cursor
//! (`inspector`), and a footer (`footer`) of key hints from the keymap, or the progress
//! of a problem loading. Over it go the overlays (`overlays`): help, editor, go-to, the
//! example picker and the conventions panel. Before the first problem is evaluated,
//! [`draw_loading`] draws the loading screen (`loading`). Below
//! [`MIN_WIDTH`]×[`MIN_HEIGHT`] only a message is drawn.
//!
//! This file is the one place that reads the app: it picks what each part shows and hands
//! the part only that. Where each part goes is [`crate::tui::geometry`]'s.

mod footer;
mod header;
mod inspector;
mod loading;
mod map;
mod overlays;
#[cfg(test)]
mod tests;
mod text;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::layout::JacobianDims;
use crate::problem::Overview;
use crate::progress::Progress;
use crate::tui::action::Mode;
use crate::tui::app::{self, App};
use crate::tui::geometry::{MIN_HEIGHT, MIN_WIDTH, gutter_width, screen_areas};
use crate::tui::help::help_lines;
use crate::tui::theme::{self, Theme};

use map::SliceMap;
use overlays::Prompt;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let theme = &app.theme;
    let rows = app.viewport().rows;
    let Some(areas) = screen_areas(area, gutter_width(&app.corner_label(), rows)) else {
        draw_too_small(frame, area, theme);
        return;
    };
    let claim = app.claim.state.as_ref();
    header::draw(
        frame,
        areas.header,
        theme,
        &app.overview,
        &app.numeric,
        claim,
    );
    match app.shown_matrix() {
        Some(matrix) => match matrix.parts(area) {
            Some(parts) => map::draw_matrix(frame, &parts, matrix, app.cursor(), theme),
            None => {
                draw_too_small(frame, area, theme);
                return;
            }
        },
        None => map::draw_slice(frame, &areas, &slice_map(app), theme),
    }
    let entry = app
        .problem()
        .jacobian
        .entry_name(app.cursor(), app::notation(theme));
    inspector::draw(
        frame,
        areas.inspector,
        theme,
        &app.overview,
        app.inspection(),
        app.claim.entry.as_ref(),
        &entry,
    );
    match &app.loading {
        Some(loading) => footer::draw_progress(
            frame,
            areas.footer,
            theme,
            &loading.job.label,
            loading.job.progress(),
        ),
        None => footer::draw_hints(
            frame,
            areas.footer,
            theme,
            app.status(),
            app.mode(),
            app.claim.checked().is_some(),
        ),
    }
    match app.mode() {
        Mode::Normal | Mode::Matrix => {}
        Mode::Conventions => {
            let dims = JacobianDims::of(&app.problem().jacobian);
            overlays::draw_conventions(frame, area, theme, &dims, app.cursor(), &entry);
        }
        Mode::Help => {
            let lines = help_lines(theme, &app.help_facts());
            overlays::draw_help(frame, area, theme, lines, app.help_scroll);
        }
        Mode::Picker => overlays::draw_picker(frame, area, theme, &app.examples, app.picker),
        Mode::Editor => overlays::draw_line_editor(
            frame,
            area,
            theme,
            Prompt::Expression,
            &app.editor,
            app.editor_error.as_deref(),
        ),
        Mode::Goto => overlays::draw_line_editor(
            frame,
            area,
            theme,
            Prompt::Goto(&app.overview.axis_names),
            &app.goto,
            app.goto_error.as_deref(),
        ),
        Mode::Claim => overlays::draw_line_editor(
            frame,
            area,
            theme,
            Prompt::Claim(&app.overview.formula),
            &app.claim.input,
            app.claim.error.as_deref(),
        ),
    }
    if theme.ascii {
        to_ascii(frame);
    }
}

/// What the slice view shows of `app`.
fn slice_map(app: &App) -> SliceMap<'_> {
    SliceMap {
        names: &app.overview.axis_names,
        axes: app.axes(),
        pair: (app.pair, app.pairs.len()),
        cursor: app.cursor(),
        selected_fixed: app.selected_fixed_axis(),
        corner: app.corner_label(),
        viewport: app.viewport(),
        grid: &app.grid,
        mode: app.map_mode(),
        agreement: app.claim.grid.as_ref(),
    }
}

/// The screen while the first problem is evaluated: its header, formula and structure
/// (known without numbers) and the progress of the evaluation called `label`.
pub fn draw_loading(
    frame: &mut Frame,
    theme: &Theme,
    overview: &Overview,
    label: &str,
    progress: &Progress,
) {
    loading::draw(frame, theme, overview, label, progress);
    if theme.ascii {
        to_ascii(frame);
    }
}

/// Replaces every non-ASCII symbol on screen by its ASCII stand-in (`--ascii`).
fn to_ascii(frame: &mut Frame) {
    for cell in &mut frame.buffer_mut().content {
        if !cell.symbol().is_ascii() {
            cell.set_symbol(theme::ascii_symbol(cell.symbol()));
        }
    }
}

/// The message drawn instead of the explorer on a screen `area` that is too small.
fn draw_too_small(frame: &mut Frame, area: Rect, theme: &Theme) {
    let text = vec![
        Line::styled("enlarge the terminal", theme.error()),
        Line::raw(format!(
            "jacscope needs at least {MIN_WIDTH}×{MIN_HEIGHT}; this one is {}×{}",
            area.width, area.height
        )),
        Line::raw("(q quits)"),
    ];
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
}
