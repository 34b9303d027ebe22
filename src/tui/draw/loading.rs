//! The loading screen, drawn while the first problem is evaluated: its header, its formula
//! and definitions (known without numbers), and the progress of the evaluation.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::problem::Overview;
use crate::progress::Progress;
use crate::tui::theme::Theme;

use super::footer::progress_line;
use super::header::header_lines;

/// Draws the loading screen of `overview` over the whole frame, with the progress of the
/// evaluation called `label`.
pub(super) fn draw(
    frame: &mut Frame,
    theme: &Theme,
    overview: &Overview,
    label: &str,
    progress: &Progress,
) {
    let area = frame.area();
    let mut lines = header_lines(theme, overview, None, area.width);
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled(format!("{} = ", overview.lhs), theme.label()),
        Span::styled(overview.formula.clone(), theme.value()),
    ]));
    for (name, definition) in &overview.definitions {
        lines.push(Line::styled(
            format!("  {name} = {definition}"),
            theme.dim(),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(progress_line(theme, label, progress, area.width));
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled("q", theme.key()),
        Span::raw(" quits; the explorer opens when the values are ready"),
    ]));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
