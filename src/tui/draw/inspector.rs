//! The inspector: the entry under the cursor, with its value, the finite-difference check,
//! why it is zero, the formula, each term at the index and what the names stand for.
//!
//! The last section of this file writes facts the library will write (issue 10): the
//! finite-difference verdict, the term line, the entry's name and the inspector's numbers.
//! They are kept together here, unchanged, until the inspector switches to
//! `check::Verdict`, `jacobian::TermBreakdown::line` and the one entry name.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::check;
use crate::jacobian::TermBreakdown;
use crate::numfmt;
use crate::tui::app::{CheckState, Inspection, Summary};
use crate::tui::theme::Theme;

/// Width of the labels in the inspector.
const LABEL_WIDTH: usize = 9;

/// Draws into `area` the `inspection` of an entry of the problem `summary` (Y of rank
/// `out_rank`): most important first, the value, the check and why it is zero; then the
/// formula, the terms at the index and the definitions.
pub(super) fn draw(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    summary: &Summary,
    inspection: &Inspection,
    out_rank: usize,
) {
    let label = |text: &str| Span::styled(format!("{text:<LABEL_WIDTH$}"), theme.label());
    let named: Vec<String> = summary
        .names
        .iter()
        .zip(&inspection.index)
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    let name = entry_name(theme, &summary.wrt, out_rank, &inspection.index);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(name, theme.title()),
            Span::raw(" = "),
            Span::styled(number(inspection.value, 8, theme), theme.value()),
            Span::styled(format!("   {}", named.join(" ")), theme.dim()),
        ]),
        Line::from(vec![label("check"), check_span(theme, inspection)]),
    ];
    if let Some(reasons) = &inspection.zero_reason {
        for (n, reason) in reasons.iter().enumerate() {
            let tag = if n == 0 { "zero" } else { "" };
            lines.push(Line::from(vec![label(tag), Span::raw(reason.clone())]));
        }
    }
    lines.push(Line::from(vec![
        label("formula"),
        Span::raw(summary.formula.clone()),
    ]));
    for (n, term) in inspection.terms.iter().enumerate() {
        let tag = if n == 0 { "here" } else { "" };
        lines.push(Line::from(vec![
            label(tag),
            Span::raw(term_line(term, theme)),
        ]));
    }
    for (n, (name, text)) in summary.definitions.iter().enumerate() {
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

// ---------------------------------------------------------------------------------------
// Facts the library will write (issue 10). Until the inspector switches to them, the
// explorer writes here, and only here: the entry's name (to be the one of
// `jacobian/explain.rs`), the finite-difference verdict (to be `check::Verdict`, with its
// name and reason), the term line (to be `jacobian::TermBreakdown::line`) and the way the
// inspector writes a number.
// ---------------------------------------------------------------------------------------

/// `∂Y[0,3]/∂X[0,7]` for an `index` of J, with respect to `wrt`, Y of rank `out_rank`.
pub(super) fn entry_name(theme: &Theme, wrt: &str, out_rank: usize, index: &[usize]) -> String {
    let bracket = |part: &[usize]| {
        if part.is_empty() {
            String::new()
        } else {
            let items: Vec<String> = part.iter().map(|i| i.to_string()).collect();
            format!("[{}]", items.join(","))
        }
    };
    let d = theme.glyphs.partial;
    format!(
        "{d}Y{}/{d}{}{}",
        bracket(&index[..out_rank]),
        wrt,
        bracket(&index[out_rank..])
    )
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

/// The finite-difference line of the inspector: the verdict on the `inspection`'s value.
fn check_span(theme: &Theme, inspection: &Inspection) -> Span<'static> {
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
