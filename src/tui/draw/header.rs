//! The header: two lines naming the problem (the expression, wrt, J's name and shape) and
//! counting J's entries (all of them, the structurally nonzero, the numerically nonzero).
//! The loading screen starts with the same lines. While a claim is set, the second line
//! is its verdict and first hint instead, as the claim library states them.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::claim::compare::{Comparison, Method};
use crate::numfmt;
use crate::problem::Overview;
use crate::tui::app::{self, NumericCount};
use crate::tui::claim::ClaimState;
use crate::tui::theme::Theme;

use super::text::{j_name, shortened};

/// Draws the header of `overview` into `area`, with the numeric count where it stands,
/// or the verdict on the `claim` if one is set.
pub(super) fn draw(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    overview: &Overview,
    numeric: &NumericCount,
    claim: Option<&ClaimState>,
) {
    let mut lines = header_lines(theme, overview, Some(numeric_text(numeric)), area.width);
    if let Some(claim) = claim {
        lines[1] = claim_line(theme, overview, claim, area.width);
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// The verdict on `claim` and its first hint, cut to `width` cells.
fn claim_line(theme: &Theme, overview: &Overview, claim: &ClaimState, width: u16) -> Line<'static> {
    let room = usize::from(width);
    let dot = format!(" {} ", theme.glyphs.dot);
    let (verdict, style, rest) = match claim {
        ClaimState::Checking { text, .. } => (
            format!("claim {text}: checking…"),
            theme.dim(),
            String::new(),
        ),
        ClaimState::Failed { text, error } => (
            format!("claim {text}: {error}"),
            theme.error(),
            String::new(),
        ),
        ClaimState::Checked(claim) => {
            let comparison = &claim.comparison;
            let style = if comparison.holds {
                theme.ok()
            } else {
                theme.error()
            };
            let hint = comparison.hints.first().map_or_else(
                || "no hint checks out".to_string(),
                |hint| hint.sentence(&overview.axis_names, app::notation(theme)),
            );
            let rest = if comparison.holds {
                String::new()
            } else {
                format!("{dot}{hint}")
            };
            (verdict_text(comparison), style, rest)
        }
    };
    let verdict = shortened(&verdict, room);
    let rest = shortened(&rest, room.saturating_sub(verdict.chars().count()));
    Line::from(vec![Span::styled(verdict, style), Span::raw(rest)])
}

/// `claim holds (exact: 480 entries)`, `claim fails: 360 entries differ`, or how many of
/// the sampled entries differ.
fn verdict_text(comparison: &Comparison) -> String {
    let entries = numfmt::grouped(comparison.entries);
    let method = comparison.method.name();
    if comparison.holds {
        return format!("claim holds ({method}: {entries} entries)");
    }
    let differing = numfmt::grouped(comparison.differing);
    match comparison.method {
        Method::Exact => format!("claim fails: {differing} entries differ"),
        Method::Sampled => format!("claim fails: {differing} of {entries} sampled entries differ"),
    }
}

/// The numeric count, or how its counting stands.
fn numeric_text(numeric: &NumericCount) -> String {
    match numeric {
        NumericCount::Done(count) => format!("numeric {}", numfmt::grouped(u128::from(*count))),
        NumericCount::Counting(job) => format!(
            "numeric: counting {:.0}% (Esc stops)",
            job.progress().fraction() * 100.0
        ),
        NumericCount::TooCostly(too_costly) => {
            format!("numeric: not counted ({})", too_costly.estimate())
        }
        NumericCount::Stopped => "numeric: stopped".to_string(),
        NumericCount::Failed => "numeric: the count failed".to_string(),
    }
}

/// The two header lines for `width` cells: the expression, wrt and J's shape; then J's
/// entry count, its structural nonzeros, if known `numeric` (the numeric count or its
/// progress), and where J can be nonzero if the line has room.
pub(super) fn header_lines(
    theme: &Theme,
    s: &Overview,
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
        Span::raw(format!("{} {}", j_name(&s.axis_names), s.shape_text())),
    ];
    let tail_width: usize = tail.iter().map(Span::width).sum();
    let room = usize::from(width).saturating_sub(tail_width + 4);
    let expression = shortened(&s.expression, room);
    let mut first = Line::from(vec![
        Span::styled("Y = ", theme.label()),
        Span::styled(expression, theme.title()),
    ]);
    first.spans.extend(tail);
    let mut second = Line::from(vec![
        Span::raw(format!("{} entries", s.entries_text())),
        Span::styled(dot.clone(), theme.dim()),
        Span::raw(format!("structural {}", s.structural_text())),
    ]);
    if let Some(numeric) = numeric {
        second.spans.push(Span::styled(dot.clone(), theme.dim()));
        second.spans.push(Span::raw(numeric));
    }
    // Where J can be nonzero, read off the deltas, when the line has room for it.
    let place = vec![
        Span::styled(dot, theme.dim()),
        Span::raw(s.where_nonzero.clone()),
    ];
    let place_width: usize = place.iter().map(Span::width).sum();
    if second.width() + place_width <= usize::from(width) {
        second.spans.extend(place);
    }
    vec![first, second]
}
