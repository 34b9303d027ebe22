//! The conventions panel (`c`): J's shape in every layout that libraries and textbooks use,
//! and where the entry under the cursor lands in each.
//!
//! Shapes and positions come from [`crate::layout`]; this module only writes them down.
//! Each layout takes two lines, the second saying who uses it, so that the panel fits an
//! 80-column terminal without cutting the table.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use crate::calculus::render::{Notation, Symbols, to_ascii};
use crate::layout::{JacobianDims, Layout, shape_tuple};

use super::theme::Theme;

/// One row of the panel: a layout, J's shape in it, and where the cursor's entry lands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConventionRow {
    /// The layout.
    pub layout: Layout,
    /// J's shape in the layout: `(64, 512, 64, 1024)`, or `32768 × 65536` for a matrix.
    pub shape: String,
    /// The entry's index in the layout: `[0, 3, 0, 5]`, or `(row 192, col 320)`.
    pub position: String,
    /// Who uses the layout ([`Layout::used_by`]; ASCII stand-ins with `ascii`).
    pub used_by: String,
}

/// The rows of the panel, one per layout in [`Layout::ALL`] order, for J with `dims` and the
/// entry `cursor` (a full index of J, out+in order). `ascii`: no Unicode in the text.
pub fn rows(dims: &JacobianDims, cursor: &[usize], ascii: bool) -> Vec<ConventionRow> {
    Layout::ALL
        .into_iter()
        .map(|layout| {
            let shape = layout.shape(dims);
            let position = layout.position(dims, cursor);
            let (shape, position) = match (layout, &shape[..], &position[..]) {
                (Layout::OutIn | Layout::InOut, _, _) => {
                    (shape_tuple(&shape), index_list(&position))
                }
                (_, &[rows, cols], &[row, col]) => (
                    matrix_shape(rows, cols, ascii),
                    format!("(row {row}, col {col})"),
                ),
                _ => unreachable!("a matrix layout has two axes"),
            };
            ConventionRow {
                layout,
                shape,
                position,
                used_by: plain(layout.used_by(), ascii),
            }
        })
        .collect()
}

/// `[0, 3, 0, 5]`.
fn index_list(index: &[usize]) -> String {
    let parts: Vec<String> = index.iter().map(|i| i.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// The shape of a matrix: `32768 × 65536` (`32768 x 65536` with `ascii`).
pub fn matrix_shape(rows: usize, cols: usize, ascii: bool) -> String {
    let notation = if ascii {
        Notation::Ascii
    } else {
        Notation::Unicode
    };
    format!("{rows} {} {cols}", Symbols::of(notation).by)
}

/// `text` in ASCII when `ascii`, as the ASCII notation spells it (`ᵀ` → `^T`).
pub fn plain(text: &str, ascii: bool) -> String {
    if ascii {
        to_ascii(text)
    } else {
        text.to_string()
    }
}

/// The title of the panel's border.
pub const TITLE: &str = " conventions: every layout of J ";

/// The conventions panel, drawn over the screen like the help: a heading naming the entry,
/// the table of layouts, and a hint line. It clears its area, draws `block` (the overlay's
/// border and title) and the lines inside it.
pub struct ConventionsPanel<'a> {
    /// The rows, from [`rows`].
    pub rows: &'a [ConventionRow],
    /// The entry under the cursor, as the inspector names it: `∂Y[0,3]/∂X[0,5]`.
    pub entry: &'a str,
    /// Colours and glyphs.
    pub theme: &'a Theme,
    /// The overlay's border and title.
    pub block: Block<'a>,
}

/// Lines of the panel that do not belong to a layout: heading, blank, header, blank, hint.
const FIXED_LINES: usize = 5;

impl ConventionsPanel<'_> {
    /// The height the panel needs with a one-cell border: every layout on two lines.
    pub fn height(&self) -> u16 {
        u16::try_from(FIXED_LINES + 2 * self.rows.len() + 2).unwrap_or(u16::MAX)
    }

    /// The panel's lines for an inner area of `width × height` cells. Who uses a layout is
    /// cut at a word to fit `width`, and left out when `height` is too small for it.
    pub fn lines(&self, width: usize, height: usize) -> Vec<Line<'static>> {
        let theme = self.theme;
        let with_users = height >= FIXED_LINES + 2 * self.rows.len();
        let column = |cells: &dyn Fn(&ConventionRow) -> &str, header: &str| {
            self.rows
                .iter()
                .map(|r| cells(r).chars().count())
                .chain([header.chars().count()])
                .max()
                .unwrap_or(0)
        };
        let name_width = column(&|r| r.layout.name(), "layout");
        let shape_width = column(&|r| &r.shape, "shape");
        let cell = |text: &str, width: usize, style: Style| {
            Span::styled(format!("{text:<width$}  "), style)
        };
        let mut lines = vec![
            Line::from(vec![
                Span::styled(plain(self.entry, theme.ascii), theme.title()),
                Span::styled(" in each layout of J", theme.dim()),
            ]),
            Line::raw(""),
            Line::from(vec![
                cell("layout", name_width, theme.label()),
                cell("shape", shape_width, theme.label()),
                Span::styled("the entry is at", theme.label()),
            ]),
        ];
        for row in self.rows {
            lines.push(Line::from(vec![
                cell(row.layout.name(), name_width, Style::new()),
                cell(&row.shape, shape_width, Style::new()),
                Span::styled(row.position.clone(), theme.value()),
            ]));
            if with_users {
                let used_by = cut_at_word(&row.used_by, width.saturating_sub(2), theme.ascii);
                lines.push(Line::styled(format!("  {used_by}"), theme.dim()));
            }
        }
        lines.push(Line::raw(""));
        lines.push(Line::from(vec![
            Span::styled("c", theme.key()),
            Span::styled(" closes", theme.dim()),
        ]));
        lines
    }
}

impl Widget for ConventionsPanel<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let inner = self.block.inner(area);
        let lines = self.lines(usize::from(inner.width), usize::from(inner.height));
        Clear.render(area, buf);
        Paragraph::new(lines).block(self.block).render(area, buf);
    }
}

/// `text` cut to at most `width` characters at the end of a word, with an ellipsis.
fn cut_at_word(text: &str, width: usize, ascii: bool) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let ellipsis = if ascii { "..." } else { "…" };
    let room = width.saturating_sub(ellipsis.chars().count());
    let kept: String = text.chars().take(room).collect();
    // Keep whole words: unless the cut falls between two words, go back to the last space
    // or comma that fits, if there is one.
    let between_words = text.chars().nth(room).is_some_and(|c| c == ' ' || c == ',');
    let at_word = match kept.rfind([' ', ',']) {
        Some(end) if !between_words => &kept[..end],
        _ => kept.as_str(),
    };
    format!("{}{ellipsis}", at_word.trim_end_matches([' ', ',']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::theme::ColorMode;

    fn default_dims() -> JacobianDims {
        JacobianDims {
            out: vec![64, 512],
            input: vec![64, 1024],
        }
    }

    #[test]
    fn rows_give_every_layout_its_shape_and_the_entry_position() {
        let rows = rows(&default_dims(), &[0, 3, 0, 5], false);
        let table: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|r| (r.layout.name(), r.shape.as_str(), r.position.as_str()))
            .collect();
        // col-major vec: j·64 + i and l·64 + k; row-major: i·512 + j and k·1024 + l.
        assert_eq!(
            table,
            [
                ("out+in", "(64, 512, 64, 1024)", "[0, 3, 0, 5]"),
                ("in+out", "(64, 1024, 64, 512)", "[0, 5, 0, 3]"),
                ("numerator-colmajor", "32768 × 65536", "(row 192, col 320)"),
                ("numerator-rowmajor", "32768 × 65536", "(row 3, col 5)"),
                (
                    "denominator-colmajor",
                    "65536 × 32768",
                    "(row 320, col 192)"
                ),
                ("denominator-rowmajor", "65536 × 32768", "(row 5, col 3)"),
            ]
        );
        assert_eq!(rows[1].used_by, "SymPy derive_by_array");
    }

    /// Every position the rows print is the one `Layout::index_at` maps back to the cursor.
    #[test]
    fn positions_follow_the_cursor() {
        let dims = default_dims();
        let cursor = [63, 511, 7, 1000];
        let rows = rows(&dims, &cursor, false);
        let want = [
            "[63, 511, 7, 1000]".to_string(),
            "[7, 1000, 63, 511]".to_string(),
            format!("(row {}, col {})", 63 + 64 * 511, 7 + 64 * 1000),
            format!("(row {}, col {})", 63 * 512 + 511, 7 * 1024 + 1000),
            format!("(row {}, col {})", 7 + 64 * 1000, 63 + 64 * 511),
            format!("(row {}, col {})", 7 * 1024 + 1000, 63 * 512 + 511),
        ];
        for (row, want) in rows.iter().zip(want) {
            assert_eq!(row.position, want, "{}", row.layout);
        }
    }

    #[test]
    fn scalars_and_vectors_have_short_indices() {
        let dims = JacobianDims {
            out: vec![],
            input: vec![5],
        };
        let rows = rows(&dims, &[2], true);
        assert_eq!(rows[0].shape, "(5,)");
        assert_eq!(rows[0].position, "[2]");
        assert_eq!(rows[2].shape, "1 x 5");
        assert_eq!(rows[2].position, "(row 0, col 2)");
        let scalar = JacobianDims {
            out: vec![],
            input: vec![],
        };
        let rows = super::rows(&scalar, &[], false);
        assert_eq!(
            (rows[1].shape.as_str(), rows[1].position.as_str()),
            ("()", "[]")
        );
    }

    #[test]
    fn ascii_rows_have_no_unicode() {
        for row in rows(&default_dims(), &[0, 3, 0, 5], true) {
            for text in [&row.shape, &row.position, &row.used_by] {
                assert!(text.is_ascii(), "{text}");
            }
        }
        assert_eq!(
            plain("∂vec(Y)/∂vec(X)ᵀ, Magnus–Neudecker", true),
            "dvec(Y)/dvec(X)^T, Magnus-Neudecker"
        );
    }

    #[test]
    fn long_users_are_cut_at_a_word() {
        let text = "JAX jacrev/jacfwd, PyTorch autograd.functional.jacobian, jacscope";
        assert_eq!(cut_at_word(text, 80, false), text);
        assert_eq!(cut_at_word(text, 30, false), "JAX jacrev/jacfwd, PyTorch…");
        assert_eq!(cut_at_word(text, 30, true), "JAX jacrev/jacfwd, PyTorch...");
        assert!(cut_at_word(text, 30, false).chars().count() <= 30);
        // A single word longer than the room is cut inside it.
        assert_eq!(cut_at_word("autograd.functional", 8, false), "autogra…");
        // A cut just before a space keeps the last word.
        assert_eq!(cut_at_word("SymPy derive_by_array", 6, false), "SymPy…");
    }

    #[test]
    fn users_are_left_out_when_the_panel_is_short() {
        let theme = Theme::new(ColorMode::Ansi16, false);
        let rows = rows(&default_dims(), &[0, 3, 0, 5], false);
        let panel = ConventionsPanel {
            rows: &rows,
            entry: "∂Y[0,3]/∂X[0,5]",
            theme: &theme,
            block: Block::bordered(),
        };
        let inner = usize::from(panel.height()) - 2;
        let full = panel.lines(78, inner);
        assert_eq!(full.len(), inner);
        let short = panel.lines(78, inner - 1);
        assert_eq!(short.len(), inner - rows.len());
        let text = |lines: &[Line]| lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
        assert!(text(&full).iter().any(|l| l.contains("SymPy")));
        assert!(!text(&short).iter().any(|l| l.contains("SymPy")));
        assert_eq!(text(&short).last().unwrap(), "c closes");
    }
}
