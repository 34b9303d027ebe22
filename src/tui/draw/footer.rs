//! The footer: a status message and as many key hints of the current mode as fit, written
//! from the keymap; or, while a new problem loads, the progress of its evaluation.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::picture::paint;
use crate::progress::Progress;
use crate::tui::action::{Action, Mode};
use crate::tui::app::Status;
use crate::tui::keymap;
use crate::tui::theme::Theme;

use super::text::shortened;

/// Draws into `area` the `status` message, if any, then as many key hints of `mode` as fit
/// (help and quit first); while a claim is set, n/N say they jump to its differences.
pub(super) fn draw_hints(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    status: Option<&Status>,
    mode: Mode,
    claim_set: bool,
) {
    let mut spans = Vec::new();
    let mut room = usize::from(area.width);
    if let Some(status) = status {
        let style = if status.error {
            theme.error()
        } else {
            theme.selected()
        };
        let text = format!(" {} ", status.text);
        room = room.saturating_sub(text.chars().count() + 1);
        spans.push(Span::styled(text, style));
        spans.push(Span::raw(" "));
    }
    let jumps = |b: &keymap::Binding| b.keys.iter().any(|(_, a)| *a == Action::NextNonzero);
    let hints: Vec<(&str, &str)> = keymap::table(mode)
        .iter()
        .filter_map(|b| match b.footer {
            Some((keys, _)) if claim_set && jumps(b) => Some((keys, "difference")),
            footer => footer,
        })
        .collect();
    let essential = |keys: &str| keys == "?" || keys == "q";
    let width = |(keys, word): (&str, &str)| keys.chars().count() + word.chars().count() + 3;
    let mut shown = vec![false; hints.len()];
    for pass in [true, false] {
        for (n, &hint) in hints.iter().enumerate() {
            if essential(hint.0) == pass && !shown[n] && width(hint) <= room {
                shown[n] = true;
                room -= width(hint);
            }
        }
    }
    for (n, (keys, word)) in hints.iter().enumerate() {
        if shown[n] {
            spans.push(Span::styled(keys.to_string(), theme.key()));
            spans.push(Span::raw(format!(" {word}  ")));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Draws into `area` the progress of work called `label`.
pub(super) fn draw_progress(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    label: &str,
    progress: &Progress,
) {
    let line = progress_line(theme, label, progress, area.width);
    frame.render_widget(Paragraph::new(line), area);
}

/// One line of progress for `width` cells: `label: stage ████····  45%  Esc stops`.
pub(super) fn progress_line(
    theme: &Theme,
    label: &str,
    progress: &Progress,
    width: u16,
) -> Line<'static> {
    const BAR: usize = 20;
    let fraction = progress.fraction();
    let filled = (fraction * BAR as f64).round() as usize;
    let bar = format!(
        "{}{}",
        theme.glyphs.ramp[paint::SHADES - 1].repeat(filled),
        theme.glyphs.numeric_zero.repeat(BAR - filled)
    );
    let stage = progress.stage();
    let percent = format!(" {:>3.0}% ", fraction * 100.0);
    let fixed = BAR + percent.chars().count() + " Esc stops".len() + 2;
    let words = if stage.is_empty() {
        label.to_string()
    } else {
        format!("{label}: {stage}")
    };
    let words = shortened(&words, usize::from(width).saturating_sub(fixed));
    Line::from(vec![
        Span::styled(format!(" {words} "), theme.selected()),
        Span::styled(bar, theme.value()),
        Span::raw(percent),
        Span::styled("Esc", theme.key()),
        Span::raw(" stops"),
    ])
}
