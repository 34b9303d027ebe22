//! Drawing: a pure function of the [`App`] state, never changing it.
//!
//! The screen is a header (expression, wrt, J's shape, counts), the heat map of the current
//! slice with its title, rulers and legend (or the matricized view, drawn by
//! [`matricized::draw`] in the same place), an inspector for the entry under the cursor,
//! and a footer of key hints generated from the keymap, or the progress of a problem
//! loading. Overlays: help, editor, go-to, the example picker and the conventions panel.
//! Before the first problem is evaluated, [`draw_loading`] draws its formula and progress.
//! Below [`MIN_WIDTH`]×[`MIN_HEIGHT`] only a message is drawn.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::check;
use crate::numfmt;

use super::action::Mode;
use super::app::{App, CheckState, NumericCount, Summary};
use super::conventions::{self, ConventionsPanel};
use super::editor::LineInput;
use super::heatmap::{self, HeatMap, Viewport};
use super::keymap;
use super::matricized;
use super::theme::{self, Theme};
use crate::jacobian::TermBreakdown;
use crate::layout::JacobianDims;
use crate::progress::Progress;

/// Narrowest terminal the explorer draws in.
pub const MIN_WIDTH: u16 = 60;
/// Shortest terminal the explorer draws in.
pub const MIN_HEIGHT: u16 = 18;
/// From this width on, the inspector sits to the right of the map.
const WIDE: u16 = 110;
/// Rows of the inspector below the map (its top border included).
const INSPECTOR_ROWS: u16 = 8;
/// Width of the labels in the inspector.
const LABEL_WIDTH: usize = 9;

/// Where each part of the screen goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Two header lines.
    pub header: Rect,
    /// The slice's title line.
    pub title: Rect,
    /// The column ruler above the map.
    pub ruler: Rect,
    /// The row labels left of the map.
    pub gutter: Rect,
    /// The heat-map cells.
    pub cells: Rect,
    /// The legend line under the map.
    pub legend: Rect,
    /// The inspector.
    pub inspector: Rect,
    /// The key hints.
    pub footer: Rect,
}

/// The layout of a screen `area` whose row labels take `gutter` columns, or `None` if the
/// area is too small.
pub fn layout(area: Rect, gutter: u16) -> Option<Layout> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let header = Rect::new(area.x, area.y, area.width, 2);
    let footer = Rect::new(area.x, area.bottom() - 1, area.width, 1);
    let body_top = header.bottom();
    let body_height = footer.y - body_top;
    let (map, inspector) = if area.width >= WIDE {
        let inspector_width = (area.width * 2 / 5).clamp(44, 64);
        let map_width = area.width - inspector_width;
        (
            Rect::new(area.x, body_top, map_width, body_height),
            Rect::new(area.x + map_width, body_top, inspector_width, body_height),
        )
    } else {
        let map_height = body_height - INSPECTOR_ROWS;
        (
            Rect::new(area.x, body_top, area.width, map_height),
            Rect::new(area.x, body_top + map_height, area.width, INSPECTOR_ROWS),
        )
    };
    let cells_height = map.height.checked_sub(3)?;
    let cells_width = map.width.checked_sub(gutter + 1)?;
    if cells_height < 3 || cells_width < 8 {
        return None;
    }
    Some(Layout {
        header,
        title: Rect::new(map.x, map.y, map.width, 1),
        ruler: Rect::new(map.x, map.y + 1, map.width, 1),
        gutter: Rect::new(map.x, map.y + 2, gutter, cells_height),
        cells: Rect::new(map.x + gutter, map.y + 2, cells_width, cells_height),
        legend: Rect::new(map.x, map.y + 2 + cells_height, map.width, 1),
        inspector,
        footer,
    })
}

/// Columns of the row labels: the corner label (`k\l`) or the widest row number, plus a
/// marker column and a space.
pub fn gutter_width(corner: &str, rows: usize) -> u16 {
    let digits = (rows.saturating_sub(1)).to_string().len();
    let widest = digits.max(corner.chars().count());
    u16::try_from(widest + 2).unwrap_or(u16::MAX)
}

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let rows = app.viewport().rows;
    let Some(layout) = layout(area, gutter_width(&app.corner_label(), rows)) else {
        draw_too_small(frame, area, &app.theme);
        return;
    };
    draw_header(frame, app, layout.header);
    match app.shown_matrix() {
        Some(matrix) => match matrix.parts(area) {
            Some(parts) => matricized::draw(frame, &parts, matrix, app.cursor(), &app.theme),
            None => {
                draw_too_small(frame, area, &app.theme);
                return;
            }
        },
        None => draw_map(frame, app, &layout),
    }
    draw_inspector(frame, app, layout.inspector);
    draw_footer(frame, app, layout.footer);
    match app.mode() {
        Mode::Normal | Mode::Matrix => {}
        Mode::Conventions => draw_conventions(frame, app, area),
        Mode::Help => draw_help(frame, app, area),
        Mode::Picker => draw_picker(frame, app, area),
        Mode::Editor => draw_line_editor(
            frame,
            app,
            area,
            &app.editor,
            app.editor_error.as_deref(),
            LineKind::Expression,
        ),
        Mode::Goto => draw_line_editor(
            frame,
            app,
            area,
            &app.goto,
            app.goto_error.as_deref(),
            LineKind::Goto,
        ),
    }
    if app.theme.ascii {
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

/// `(64, 512, 64, 1024)`.
fn shape_text(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("({})", dims.join(", "))
}

/// `J[i,j,k,l]`.
fn j_name(names: &[String]) -> String {
    if names.is_empty() {
        "J".to_string()
    } else {
        format!("J[{}]", names.join(","))
    }
}

fn draw_header(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme;
    let numeric = match &app.numeric {
        NumericCount::Done(count) => format!("numeric {}", numfmt::grouped(u128::from(*count))),
        NumericCount::Counting(job) => format!(
            "numeric: counting {:.0}% (Esc stops)",
            job.progress().fraction() * 100.0
        ),
        NumericCount::Stopped => "numeric: stopped".to_string(),
        NumericCount::Failed => "numeric: the count failed".to_string(),
    };
    let lines = header_lines(theme, &app.summary, Some(numeric), area.width);
    frame.render_widget(Paragraph::new(lines), area);
}

/// The two header lines: the expression, wrt and J's shape; then J's entry count, its
/// structural nonzeros and, if known, `numeric` (the numeric count or its progress).
fn header_lines(
    theme: &Theme,
    s: &Summary,
    numeric: Option<String>,
    width: u16,
) -> Vec<Line<'static>> {
    let dot = format!(" {} ", theme.glyphs.dot);
    // J's shape always shows: a long expression is cut instead.
    let tail = vec![
        Span::styled(dot.clone(), theme.dim()),
        Span::styled("wrt ", theme.label()),
        Span::styled(s.wrt.clone(), theme.title()),
        Span::styled(dot.clone(), theme.dim()),
        Span::raw(format!("{} {}", j_name(&s.names), shape_text(&s.shape))),
    ];
    let tail_width: usize = tail.iter().map(Span::width).sum();
    let room = usize::from(width).saturating_sub(tail_width + 4);
    let expression = shortened(&s.expression, room);
    let mut first = Line::from(vec![
        Span::styled("Y = ", theme.label()),
        Span::styled(expression, theme.title()),
    ]);
    first.spans.extend(tail);
    let density = if s.entries == 0 {
        0.0
    } else {
        s.structural as f64 / s.entries as f64
    };
    let mut second = Line::from(vec![
        Span::raw(format!("{} entries", numfmt::grouped(s.entries))),
        Span::styled(dot.clone(), theme.dim()),
        Span::raw(format!(
            "structural {} ({})",
            numfmt::grouped(s.structural),
            numfmt::percent(density)
        )),
    ]);
    if let Some(numeric) = numeric {
        second.spans.push(Span::styled(dot, theme.dim()));
        second.spans.push(Span::raw(numeric));
    }
    vec![first, second]
}

/// `text` cut to at most `room` characters, the last of them `…` if it was cut.
fn shortened(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_string();
    }
    let kept: String = text.chars().take(room.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// One line of progress for `width` cells: `label: stage ████····  45%  Esc stops`.
fn progress_line(theme: &Theme, label: &str, progress: &Progress, width: u16) -> Line<'static> {
    const BAR: usize = 20;
    let fraction = progress.fraction();
    let filled = (fraction * BAR as f64).round() as usize;
    let bar = format!(
        "{}{}",
        theme.glyphs.ramp[theme::SHADES - 1].repeat(filled),
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

/// The screen while the first problem is evaluated: its header, formula and structure
/// (known without numbers) and the progress of the evaluation.
pub fn draw_loading(
    frame: &mut Frame,
    theme: &Theme,
    summary: &Summary,
    label: &str,
    progress: &Progress,
) {
    let area = frame.area();
    let mut lines = header_lines(theme, summary, None, area.width);
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled(format!("{} = ", summary.lhs), theme.label()),
        Span::styled(summary.formula.clone(), theme.value()),
    ]));
    for (name, definition) in &summary.definitions {
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
    if theme.ascii {
        to_ascii(frame);
    }
}

fn draw_map(frame: &mut Frame, app: &App, layout: &Layout) {
    let theme = &app.theme;
    let s = &app.summary;
    let axes = app.axes();
    let viewport = app.viewport();
    let position = app.position();

    // Title: the slice's axes and the fixed indices (the selected one highlighted).
    let mut title = vec![
        Span::styled("slice ", theme.label()),
        Span::styled(axes.label(&s.names), theme.title()),
        Span::styled(
            format!(" (pair {}/{}) ", app.pair + 1, s.pairs.len()),
            theme.dim(),
        ),
    ];
    let fixed = axes.fixed_axes(s.shape.len());
    if fixed.is_empty() {
        title.push(Span::styled("nothing fixed", theme.dim()));
    } else {
        title.push(Span::styled("fixed ", theme.label()));
        let selected = app.selected_fixed_axis();
        for axis in fixed {
            let text = format!("{}={}", s.names[axis], app.cursor()[axis]);
            let style = if Some(axis) == selected {
                theme.selected()
            } else {
                Style::new()
            };
            title.push(Span::styled(text, style));
            title.push(Span::raw(" "));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(title)), layout.title);

    let ruler = column_ruler(
        viewport,
        position,
        &app.corner_label(),
        (layout.gutter.width, layout.cells.width),
        theme,
    );
    frame.render_widget(Paragraph::new(ruler), layout.ruler);
    let labels = row_labels(
        viewport,
        position,
        layout.gutter.width,
        layout.cells.height,
        theme,
    );
    frame.render_widget(Paragraph::new(labels), layout.gutter);

    frame.render_widget(
        HeatMap {
            grid: &app.grid,
            theme,
            mode: app.map_mode(),
            cursor: position,
        },
        layout.cells,
    );
    let legend = heatmap::legend(theme, &app.grid, app.map_mode());
    frame.render_widget(Paragraph::new(legend), layout.legend);
}

/// The column ruler of a heat map showing `viewport` with the cursor at `position`:
/// `corner` right-aligned over the row labels, then the first and last column on screen and
/// the cursor's column with a marker. `widths`: the row labels' and the cells' columns.
pub(super) fn column_ruler(
    viewport: &Viewport,
    position: (usize, usize),
    corner: &str,
    (gutter_width, cells_width): (u16, u16),
    theme: &Theme,
) -> Line<'static> {
    let width = usize::from(cells_width);
    let mut ruler = Ruler::new(width);
    if let Some((_, x)) = viewport.block_of(position) {
        ruler.place(x, &format!("{}{}", theme.glyphs.markers.0, position.1));
    }
    ruler.place(0, &viewport.origin.1.to_string());
    let last = viewport.last_visible().1.to_string();
    ruler.place(width.saturating_sub(last.chars().count()), &last);
    let corner_width = usize::from(gutter_width).saturating_sub(1);
    Line::from(vec![
        Span::styled(format!("{corner:>corner_width$} "), theme.label()),
        Span::styled(ruler.text(), theme.dim()),
    ])
}

/// The row labels of a heat map showing `viewport` with the cursor at `position`, for a
/// gutter `gutter_width` wide next to `cells_height` rows of cells: the first and last row
/// on screen, and the cursor's row with a marker.
pub(super) fn row_labels(
    viewport: &Viewport,
    position: (usize, usize),
    gutter_width: u16,
    cells_height: u16,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let per_cell = if theme.glyphs.half_blocks { 2 } else { 1 };
    let cell_rows = heatmap::cell_rows(viewport.height, theme).min(usize::from(cells_height));
    let cell_row = |entry: (usize, usize)| viewport.block_of(entry).map(|(y, _)| y / per_cell);
    let cursor_row = cell_row(position);
    let (last_row, _) = viewport.last_visible();
    let last_cell_row = cell_row((last_row, viewport.origin.1));
    let label_width = usize::from(gutter_width).saturating_sub(2);
    (0..cell_rows)
        .map(|cy| {
            let (label, marker, style) = if Some(cy) == cursor_row {
                (position.0.to_string(), theme.glyphs.markers.1, theme.key())
            } else if cy == 0 {
                (viewport.origin.0.to_string(), " ", theme.dim())
            } else if Some(cy) == last_cell_row {
                (last_row.to_string(), " ", theme.dim())
            } else {
                (String::new(), " ", theme.dim())
            };
            Line::from(vec![
                Span::styled(format!("{label:>label_width$}"), style),
                Span::styled(format!("{marker} "), theme.key()),
            ])
        })
        .collect()
}

/// A line of text with labels placed at columns, later labels only where they fit.
struct Ruler {
    chars: Vec<char>,
    taken: Vec<bool>,
}

impl Ruler {
    fn new(width: usize) -> Ruler {
        Ruler {
            chars: vec![' '; width],
            taken: vec![false; width],
        }
    }

    /// Writes `label` from column `at` unless it would overlap or touch a placed label.
    fn place(&mut self, at: usize, label: &str) {
        let end = at + label.chars().count();
        if end > self.chars.len() {
            return;
        }
        let (from, to) = (at.saturating_sub(1), (end + 1).min(self.chars.len()));
        if self.taken[from..to].iter().any(|&t| t) {
            return;
        }
        for (n, c) in label.chars().enumerate() {
            self.chars[at + n] = c;
            self.taken[at + n] = true;
        }
    }

    fn text(&self) -> String {
        self.chars.iter().collect()
    }
}

/// `∂Y[0,3]/∂X[0,7]` for an index of J.
fn entry_name(app: &App, index: &[usize]) -> String {
    let out_rank = app.problem().jacobian.formula().out.len();
    let bracket = |part: &[usize]| {
        if part.is_empty() {
            String::new()
        } else {
            let items: Vec<String> = part.iter().map(|i| i.to_string()).collect();
            format!("[{}]", items.join(","))
        }
    };
    let d = app.theme.glyphs.partial;
    format!(
        "{d}Y{}/{d}{}{}",
        bracket(&index[..out_rank]),
        app.summary.wrt,
        bracket(&index[out_rank..])
    )
}

fn draw_inspector(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme;
    let inspection = app.inspection();
    let s = &app.summary;
    let label = |text: &str| Span::styled(format!("{text:<LABEL_WIDTH$}"), theme.label());
    let named: Vec<String> = s
        .names
        .iter()
        .zip(&inspection.index)
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    // Most important first: the value, the check, why it is zero; then the formula.
    let mut lines = vec![
        Line::from(vec![
            Span::styled(entry_name(app, &inspection.index), theme.title()),
            Span::raw(" = "),
            Span::styled(number(inspection.value, 8, theme), theme.value()),
            Span::styled(format!("   {}", named.join(" ")), theme.dim()),
        ]),
        Line::from(vec![label("check"), check_span(app)]),
    ];
    if let Some(reasons) = &inspection.zero_reason {
        for (n, reason) in reasons.iter().enumerate() {
            let tag = if n == 0 { "zero" } else { "" };
            lines.push(Line::from(vec![label(tag), Span::raw(reason.clone())]));
        }
    }
    lines.push(Line::from(vec![
        label("formula"),
        Span::raw(s.formula.clone()),
    ]));
    for (n, term) in inspection.terms.iter().enumerate() {
        let tag = if n == 0 { "here" } else { "" };
        lines.push(Line::from(vec![
            label(tag),
            Span::raw(term_line(term, theme)),
        ]));
    }
    for (n, (name, text)) in s.definitions.iter().enumerate() {
        let tag = if n == 0 { "where" } else { "" };
        lines.push(Line::from(vec![
            label(tag),
            Span::styled(format!("{name} = {text}"), theme.dim()),
        ]));
    }
    let borders = if area.x == 0 {
        Borders::TOP
    } else {
        Borders::LEFT
    };
    let block = Block::new()
        .borders(borders)
        .border_style(theme.dim())
        .title(Span::styled(" entry ", theme.label()));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// A number as the inspector writes it: `digits` significant digits, with a Unicode minus
/// unless `--ascii`.
fn number(value: f64, digits: usize, theme: &Theme) -> String {
    let text = numfmt::significant(value, digits);
    match text.strip_prefix('-') {
        Some(magnitude) if !theme.ascii => format!("−{magnitude}"),
        _ => text,
    }
}

/// A term at the cursor with short numbers: `δ(0,0)·W[0,7] = 1 × 0.41231`.
fn term_line(term: &TermBreakdown, theme: &Theme) -> String {
    let (dot, times) = if theme.ascii {
        ("*", " * ")
    } else {
        ("·", " × ")
    };
    let short = |v: f64| number(v, 5, theme);
    let mut texts = Vec::new();
    let mut values = Vec::new();
    if term.coeff != 1.0 || term.factors.is_empty() {
        texts.push(short(term.coeff));
        values.push(short(term.coeff));
    }
    for factor in &term.factors {
        texts.push(factor.text.clone());
        values.push(short(factor.value));
    }
    let mut line = texts.join(dot);
    if !term.factors.is_empty() {
        line.push_str(&format!(" = {}", values.join(times)));
        if values.len() > 1 {
            line.push_str(&format!(" = {}", short(term.value)));
        }
    }
    line
}

/// The finite-difference line of the inspector.
fn check_span(app: &App) -> Span<'static> {
    let theme = &app.theme;
    let inspection = app.inspection();
    match &inspection.check {
        CheckState::Waiting | CheckState::Running => {
            Span::styled("finite difference: checking…".to_string(), theme.dim())
        }
        CheckState::Done(Err(message)) => Span::styled(
            format!("finite difference failed: {message}"),
            theme.error(),
        ),
        CheckState::Done(Ok(fd)) => {
            let error = (inspection.value - fd.value).abs();
            let agrees = check::agrees(inspection.value, fd);
            let (mark, verdict, style) = if agrees {
                (theme.glyphs.verdict.0, "agrees", theme.ok())
            } else {
                (
                    theme.glyphs.verdict.1,
                    "disagrees (a kink, or a noisy difference)",
                    theme.error(),
                )
            };
            Span::styled(
                format!(
                    "finite difference {} {mark} {verdict} (error {})",
                    number(fd.value, 8, theme),
                    numfmt::short(error),
                ),
                style,
            )
        }
    }
}

/// The footer: a status message, then as many key hints of the current mode as fit
/// (help and quit first).
fn draw_footer(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme;
    if let Some(loading) = &app.loading {
        let line = progress_line(
            theme,
            &loading.job.label,
            loading.job.progress(),
            area.width,
        );
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    let mut spans = Vec::new();
    let mut room = usize::from(area.width);
    if let Some(status) = app.status() {
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
    let hints: Vec<(&str, &str)> = keymap::table(app.mode())
        .iter()
        .filter_map(|b| b.footer)
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

/// The lines of the help screen: the key table, the slice pairs and how the parts of the
/// screen read.
pub fn help_lines(app: &App) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let ascii = theme.ascii;
    let s = &app.summary;
    let mut lines = Vec::new();
    let table = keymap::table(app.main);
    let keys_width = table
        .iter()
        .map(|b| b.keys_label(ascii).chars().count())
        .max()
        .unwrap_or(0);
    for binding in table {
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:<keys_width$}  ", binding.keys_label(ascii)),
                theme.key(),
            ),
            Span::raw(binding.help),
        ]));
    }
    lines.push(Line::raw(""));
    let pairs: Vec<String> = s
        .pairs
        .iter()
        .enumerate()
        .map(|(n, p)| format!("{} {}", n + 1, p.label(&s.names)))
        .collect();
    let notes = [
        ("pairs", pairs.join("  ")),
        (
            "fixed",
            "axes not in the slice stay at the cursor's index; [ ] picks one (highlighted in \
             the slice title), + - changes it"
                .to_string(),
        ),
        (
            "map",
            "blank: structurally zero (a δ vanishes) · dim: numerically zero (e.g. relu′ = 0) \
             · coloured: nonzero; each block aggregates every entry it covers"
                .to_string(),
        ),
        (
            "matrix",
            "m shows all of J as one matrix, rows vec(Y) and columns vec(X) (numerator \
             layout); o switches the vec order: column-major (Magnus–Neudecker, MATLAB) or \
             row-major (NumPy reshape). Blocks are shaded by their share of structurally \
             nonzero entries; `jacscope explain` prints the Kronecker form"
                .to_string(),
        ),
        (
            "layouts",
            "c lists every layout of J (JAX, SymPy, textbooks) and where the cursor's \
             entry lands in each"
                .to_string(),
        ),
        (
            "edit",
            "one line as on the command line: EXPR -s NAME=SHAPE … [--wrt NAME] [--seed N]; \
             Enter applies, Esc cancels; an error keeps the current view"
                .to_string(),
        ),
        (
            "check",
            "the finite-difference check runs in the background when the cursor rests".to_string(),
        ),
        (
            "display",
            format!(
                "{}{}; --color auto|always|never, NO_COLOR, --ascii, --mouse{}",
                theme.mode.label(),
                if ascii { ", ASCII" } else { "" },
                if app.mouse() {
                    " (on: click moves, wheel scrolls)"
                } else {
                    ""
                }
            ),
        ),
    ];
    for (tag, text) in notes {
        lines.push(Line::from(vec![
            Span::styled(format!("{tag:<8}"), theme.label()),
            Span::raw(text),
        ]));
    }
    for warning in &app.warnings {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<8}", "warning"), theme.error()),
            Span::raw(warning.clone()),
        ]));
    }
    lines
}

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

fn overlay_block(theme: &Theme, title: String) -> Block<'static> {
    Block::bordered()
        .border_style(theme.label())
        .title(Span::styled(title, theme.title()))
}

/// The conventions panel: every layout of J and where the cursor's entry lands in each.
fn draw_conventions(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme;
    let dims = JacobianDims::of(&app.problem().jacobian);
    let rows = conventions::rows(&dims, app.cursor(), theme.ascii);
    let entry = entry_name(app, app.cursor());
    let panel = ConventionsPanel {
        rows: &rows,
        entry: &entry,
        theme,
        block: overlay_block(theme, conventions::TITLE.to_string()),
    };
    let height = panel.height();
    frame.render_widget(panel, centered(area, 100, height));
}

fn draw_help(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme;
    let popup = centered(area, 100, area.height.saturating_sub(2));
    let lines = help_lines(app);
    let inner_height = usize::from(popup.height.saturating_sub(2));
    let inner_width = popup.width.saturating_sub(2);
    let total: usize = lines
        .iter()
        .map(|l| l.width().div_ceil(usize::from(inner_width.max(1))).max(1))
        .sum();
    let more = if total > inner_height + app.help_scroll {
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
            .scroll((u16::try_from(app.help_scroll).unwrap_or(u16::MAX), 0)),
        popup,
    );
}

fn draw_picker(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme;
    let popup = centered(area, 90, area.height.saturating_sub(2));
    let inner_height = usize::from(popup.height.saturating_sub(2));
    let list_height = inner_height.saturating_sub(4).max(1);
    let first = app.picker.saturating_sub(list_height - 1);
    let mut lines: Vec<Line> = app
        .examples
        .iter()
        .enumerate()
        .skip(first)
        .take(list_height)
        .map(|(n, example)| {
            let style = if n == app.picker {
                theme.selected()
            } else {
                Style::new()
            };
            Line::styled(format!("{:>2} {}", n + 1, example.name), style)
        })
        .collect();
    if let Some(example) = app.examples.get(app.picker) {
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
enum LineKind {
    Expression,
    Goto,
}

fn draw_line_editor(
    frame: &mut Frame,
    app: &App,
    area: Rect,
    input: &LineInput,
    error: Option<&str>,
    kind: LineKind,
) {
    let theme = &app.theme;
    let (title, hint) = match kind {
        LineKind::Expression => (
            " edit · Enter apply · Esc cancel ",
            "EXPR -s NAME=SHAPE … [--wrt NAME] [--seed N]".to_string(),
        ),
        LineKind::Goto => (
            " go to · Enter go · Esc cancel ",
            format!(
                "{} as {} (e.g. {}), or by name: {}=3",
                j_name(&app.summary.names),
                app.summary.names.join(","),
                vec!["0"; app.summary.names.len()].join(","),
                app.summary.names.last().map_or("i", String::as_str)
            ),
        ),
    };
    let error_lines: Vec<&str> = error.map_or(Vec::new(), |e| e.lines().collect());
    let height = 4 + u16::try_from(error_lines.len()).unwrap_or(0);
    let width = area.width.saturating_sub(4);
    let popup = Rect::new(
        area.x + 2,
        area.bottom().saturating_sub(height + 2),
        width,
        height.min(area.height),
    );
    let inner_width = usize::from(width.saturating_sub(2));
    let (visible, cursor_column) = visible_window(input, inner_width);
    let mut lines = vec![Line::styled(hint, theme.dim()), Line::raw(visible)];
    lines.extend(
        error_lines
            .iter()
            .map(|l| Line::styled(l.to_string(), theme.error())),
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

/// The part of the line that fits in `width` columns around the cursor, and the cursor's
/// column in it.
fn visible_window(input: &LineInput, width: usize) -> (String, usize) {
    let chars: Vec<char> = input.text().chars().collect();
    let width = width.max(2);
    let start = (input.cursor() + 1).saturating_sub(width);
    let text: String = chars.iter().skip(start).take(width).collect();
    (text, input.cursor() - start)
}
