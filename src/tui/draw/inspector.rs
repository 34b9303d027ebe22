//! The inspector: the entry under the cursor, with its value, the finite-difference check,
//! why it is zero, the formula, each term at the index and what the names stand for.
//!
//! The facts it shows have their one writer in the library, so that the inspector reads
//! what `jacscope at` prints: the entry's name (`Jacobian::entry_name`), the term line
//! (`TermBreakdown::line`) and the finite-difference verdict (`check::Verdict`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::calculus::render::Symbols;
use crate::check::Verdict;
use crate::numfmt;
use crate::problem::Overview;
use crate::tui::app::{self, CheckState, Inspection};
use crate::tui::claim::ClaimEntry;
use crate::tui::theme::Theme;

/// Width of the labels in the inspector.
const LABEL_WIDTH: usize = 9;

/// Draws into `area` the `inspection` of the entry named `entry` of the problem
/// `overview`: most important first, the value, the check, the `claim` there if one is
/// set, and why it is zero; then the formula, the terms at the index and the definitions.
pub(super) fn draw(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    overview: &Overview,
    inspection: &Inspection,
    claim: Option<&ClaimEntry>,
    entry: &str,
) {
    let label = |text: &str| Span::styled(format!("{text:<LABEL_WIDTH$}"), theme.label());
    let named: Vec<String> = overview
        .axis_names
        .iter()
        .zip(&inspection.index)
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    let mut lines = vec![
        Line::from(vec![
            Span::styled(entry.to_string(), theme.title()),
            Span::raw(" = "),
            Span::styled(number(inspection.value, 8, theme), theme.value()),
            Span::styled(format!("   {}", named.join(" ")), theme.dim()),
        ]),
        Line::from(vec![label("check"), check_span(theme, inspection)]),
    ];
    if let Some(claim) = claim {
        let (mark, style, word) = if claim.agrees {
            (theme.glyphs.verdict.0, theme.ok(), "equals J")
        } else {
            (theme.glyphs.verdict.1, theme.error(), "differs from J")
        };
        lines.push(Line::from(vec![
            label("claim"),
            Span::styled(number(claim.value, 8, theme), theme.value()),
            Span::styled(format!(" {mark} {word}"), style),
        ]));
        for term in &claim.terms {
            lines.push(Line::from(vec![label(""), Span::raw(term.clone())]));
        }
    }
    if let Some(reasons) = &inspection.zero_reason {
        for (n, reason) in reasons.iter().enumerate() {
            let tag = if n == 0 { "zero" } else { "" };
            lines.push(Line::from(vec![label(tag), Span::raw(reason.clone())]));
        }
    }
    lines.push(Line::from(vec![
        label("formula"),
        Span::raw(overview.formula.clone()),
    ]));
    for (n, term) in inspection.terms.iter().enumerate() {
        let tag = if n == 0 { "here" } else { "" };
        lines.push(Line::from(vec![label(tag), Span::raw(term.line())]));
    }
    for (n, (name, text)) in overview.definitions.iter().enumerate() {
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

/// A number as the inspector writes it: `digits` significant digits, with the minus sign
/// of the explorer's notation.
fn number(value: f64, digits: usize, theme: &Theme) -> String {
    let text = numfmt::significant(value, digits);
    match text.strip_prefix('-') {
        Some(magnitude) => format!("{}{magnitude}", Symbols::of(app::notation(theme)).minus),
        None => text,
    }
}

/// The finite-difference line of the inspector: the estimate, then the one verdict on the
/// `inspection`'s value (`check::Verdict`) with its reason, as `at` gives them.
fn check_span(theme: &Theme, inspection: &Inspection) -> Span<'static> {
    let fd = match &inspection.check {
        CheckState::Waiting | CheckState::Running => {
            return Span::styled("finite difference: checking…".to_string(), theme.dim());
        }
        CheckState::Done(fd) => fd,
    };
    let verdict = Verdict::of(inspection.value, fd.as_ref());
    let (mark, style) = match verdict {
        Verdict::Agrees => (theme.glyphs.verdict.0, theme.ok()),
        _ => (theme.glyphs.verdict.1, theme.error()),
    };
    let mut text = match fd {
        Ok(fd) => format!(
            "finite difference {} {mark} {} (error {})",
            number(fd.value, 8, theme),
            verdict.name(),
            numfmt::short((inspection.value - fd.value).abs())
        ),
        Err(_) => format!("finite difference {mark} {}", verdict.name()),
    };
    if let Some(reason) = verdict.reason() {
        text.push_str(&format!(": {reason}"));
    }
    Span::styled(text, style)
}
