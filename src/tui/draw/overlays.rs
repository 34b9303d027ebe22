//! What is drawn over the main screen: the help, the example picker, the one-line editors
//! (expression and go-to) and the conventions panel. Each clears its own area first.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::layout::JacobianDims;
use crate::tui::conventions::{self, ConventionsPanel};
use crate::tui::editor::LineInput;
use crate::tui::picker::Example;
use crate::tui::theme::Theme;

use super::text::j_name;

/// A centred rectangle of at most `width × height` inside `area`.
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    )
}

/// The border and title of an overlay.
fn overlay_block(theme: &Theme, title: String) -> Block<'static> {
    Block::bordered()
        .border_style(theme.label())
        .title(Span::styled(title, theme.title()))
}

/// Draws the conventions panel over `area`: every layout of J (with `dims`) and where the
/// entry `cursor`, called `entry`, lands in each.
pub(super) fn draw_conventions(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    dims: &JacobianDims,
    cursor: &[usize],
    entry: &str,
) {
    let rows = conventions::rows(dims, cursor, theme.ascii);
    let panel = ConventionsPanel {
        rows: &rows,
        entry,
        theme,
        block: overlay_block(theme, conventions::TITLE.to_string()),
    };
    let height = panel.height();
    frame.render_widget(panel, centered(area, 100, height));
}

/// Draws the help `lines` over `area`, scrolled down by `scroll` lines; the title says if
/// there is more to scroll to.
pub(super) fn draw_help(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    lines: Vec<Line<'static>>,
    scroll: usize,
) {
    let popup = centered(area, 100, area.height.saturating_sub(2));
    let inner_height = usize::from(popup.height.saturating_sub(2));
    let inner_width = popup.width.saturating_sub(2);
    let total: usize = lines
        .iter()
        .map(|l| l.width().div_ceil(usize::from(inner_width.max(1))).max(1))
        .sum();
    let more = if total > inner_height + scroll {
        " · j k scroll"
    } else {
        ""
    };
    let title = format!(" help · ? or Esc closes{more} ");
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(overlay_block(theme, title))
            .wrap(Wrap { trim: false })
            .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0)),
        popup,
    );
}

/// Draws the example picker over `area`: the list around the `selected` example, then its
/// expression, shapes and note.
pub(super) fn draw_picker(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    examples: &[Example],
    selected: usize,
) {
    let popup = centered(area, 90, area.height.saturating_sub(2));
    let inner_height = usize::from(popup.height.saturating_sub(2));
    let list_height = inner_height.saturating_sub(4).max(1);
    let first = selected.saturating_sub(list_height - 1);
    let mut lines: Vec<Line> = examples
        .iter()
        .enumerate()
        .skip(first)
        .take(list_height)
        .map(|(n, example)| {
            let style = if n == selected {
                theme.selected()
            } else {
                Style::new()
            };
            Line::styled(format!("{:>2} {}", n + 1, example.name), style)
        })
        .collect();
    if let Some(example) = examples.get(selected) {
        lines.push(Line::raw(""));
        lines.push(Line::from(vec![
            Span::styled("Y = ", theme.label()),
            Span::styled(example.expression.clone(), theme.title()),
            Span::styled(format!("  -s {}", example.shapes.join(" -s ")), theme.dim()),
        ]));
        lines.push(Line::raw(example.note.clone()));
    }
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(overlay_block(
                theme,
                " examples · j k choose · Enter open · Esc back ".to_string(),
            ))
            .wrap(Wrap { trim: false }),
        popup,
    );
}

/// Which one-line editor is open.
#[derive(Clone, Copy)]
pub(super) enum Prompt<'a> {
    /// The expression editor.
    Expression,
    /// The go-to prompt, for J with these axis names.
    Goto(&'a [String]),
    /// The claim prompt, for J with this formula.
    Claim(&'a str),
}

/// Draws the one-line editor `prompt` near the bottom of `area`: a hint, the line being
/// edited with its cursor, and the `error` of the last attempt, if any.
pub(super) fn draw_line_editor(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    prompt: Prompt,
    input: &LineInput,
    error: Option<&str>,
) {
    let (title, hint) = match prompt {
        Prompt::Expression => (
            " edit · Enter apply · Esc cancel ",
            "EXPR -s NAME=SHAPE … [--wrt NAME] [--seed N]".to_string(),
        ),
        Prompt::Goto(names) => (
            " go to · Enter go · Esc cancel ",
            format!(
                "{} as {} (e.g. {}), or by name: {}=3",
                j_name(names),
                names.join(","),
                vec!["0"; names.len()].join(","),
                names.last().map_or("i", String::as_str)
            ),
        ),
        Prompt::Claim(formula) => (
            " claim · Enter check · Esc cancel ",
            format!("J in index notation, like J = {formula} (empty: no claim)"),
        ),
    };
    let width = area.width.saturating_sub(4);
    let inner_width = usize::from(width.saturating_sub(2));
    let error_rows: Vec<String> = error.map_or(Vec::new(), |error| {
        error
            .lines()
            .flat_map(|line| wrapped(line, inner_width))
            .collect()
    });
    let height = u16::try_from(4 + error_rows.len())
        .unwrap_or(u16::MAX)
        .min(area.height);
    let popup = Rect::new(
        area.x + 2,
        area.bottom().saturating_sub(height + 2).max(area.y),
        width,
        height,
    );
    let (visible, cursor_column) = visible_window(input, inner_width);
    let mut lines = vec![Line::styled(hint, theme.dim()), Line::raw(visible)];
    lines.extend(
        error_rows
            .into_iter()
            .map(|row| Line::styled(row, theme.error())),
    );
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(Text::from(lines)).block(overlay_block(theme, title.to_string())),
        popup,
    );
    let cursor = Position::new(
        popup.x + 1 + u16::try_from(cursor_column).unwrap_or(0),
        popup.y + 2,
    );
    if let Some(cell) = frame.buffer_mut().cell_mut(cursor) {
        cell.set_style(theme.selected());
    }
    frame.set_cursor_position(cursor);
}

/// The columns `text` takes on screen (a wide character, CJK or emoji, takes two).
fn columns(text: &str) -> usize {
    Span::raw(text).width()
}

/// The columns `c` takes on screen.
fn char_columns(c: char) -> usize {
    columns(c.encode_utf8(&mut [0; 4]))
}

/// The part of the line that fits in `width` columns around the cursor, and the cursor's
/// column in it; the character at the cursor (or the cell after the end) is in it too.
fn visible_window(input: &LineInput, width: usize) -> (String, usize) {
    let chars: Vec<(char, usize)> = input.text().chars().map(|c| (c, char_columns(c))).collect();
    let cursor = input.cursor();
    let caret = chars.get(cursor).map_or(1, |&(_, w)| w.max(1));
    let (mut start, mut before) = (cursor, 0);
    while start > 0 && before + chars[start - 1].1 + caret <= width {
        start -= 1;
        before += chars[start].1;
    }
    let mut used = 0;
    let text = chars[start..]
        .iter()
        .take_while(|&&(_, w)| {
            used += w;
            used <= width
        })
        .map(|&(c, _)| c)
        .collect();
    (text, before)
}

/// `line` in rows of at most `width` columns, broken after a word where there is one (the
/// line's indentation kept on its first row), else inside it.
fn wrapped(line: &str, width: usize) -> Vec<String> {
    let width = width.max(2);
    let mut rows = Vec::new();
    let mut row: Vec<char> = Vec::new();
    let mut used = 0;
    for c in line.chars() {
        row.push(c);
        used += char_columns(c);
        if used <= width {
            continue;
        }
        let indent = row.iter().take_while(|&&c| c == ' ').count();
        let rest = match row
            .iter()
            .rposition(|&c| c == ' ')
            .filter(|&at| at > indent)
        {
            Some(space) => {
                let rest = row.split_off(space + 1);
                row.pop();
                rest
            }
            None => row.split_off(row.len() - 1),
        };
        rows.push(row.into_iter().collect());
        used = rest.iter().map(|&c| char_columns(c)).sum();
        row = rest;
    }
    if !row.is_empty() || rows.is_empty() {
        rows.push(row.into_iter().collect());
    }
    rows
}
