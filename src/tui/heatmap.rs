//! The heat map on screen: the widget that paints a [`HeatGrid`] ([`HeatMap`]), the claim
//! map ([`AgreementGrid`]) and the legend. The grid itself, the exact summary of every
//! entry into blocks, is [`crate::picture::grid`]'s, shared with the pictures. With colours, a character
//! cell shows two blocks as a half block `▀` (foreground = upper, background = lower);
//! without colours or with `--ascii`, one block per cell drawn with a glyph ramp.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::theme::Theme;
use crate::picture::figure::{self, LegendItem};
use crate::picture::grid::{HeatGrid, MapMode, Viewport};
use crate::picture::paint::{Agreement, Paint};

/// The claim map of the blocks on screen: how the claim compares with J in each block,
/// over every entry it holds (see [`Agreement`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AgreementGrid {
    /// The part of the slice the grid covers.
    pub viewport: Viewport,
    /// `height × width` blocks, row-major; `None` where the claim and J are both zero at
    /// every entry, and for blocks outside the slice.
    pub blocks: Vec<Option<Agreement>>,
}

impl AgreementGrid {
    /// The block at (y, x).
    pub fn block(&self, y: usize, x: usize) -> Option<Agreement> {
        if y >= self.viewport.height || x >= self.viewport.width {
            return None;
        }
        self.blocks[y * self.viewport.width + x]
    }
}

/// Character cells needed for a grid of `blocks_high` blocks.
pub fn cell_rows(blocks_high: usize, theme: &Theme) -> usize {
    if theme.glyphs.half_blocks {
        blocks_high.div_ceil(2)
    } else {
        blocks_high
    }
}

/// Blocks that fit vertically in `cell_rows` character rows.
pub fn blocks_high(cell_rows: usize, theme: &Theme) -> usize {
    if theme.glyphs.half_blocks {
        cell_rows * 2
    } else {
        cell_rows
    }
}

/// The heat-map cells with the cursor and its cross-hair. Draws `viewport.width` columns
/// and [`cell_rows`] rows from the area's top-left corner.
pub struct HeatMap<'a> {
    /// The aggregated blocks.
    pub grid: &'a HeatGrid,
    /// Colours and glyphs.
    pub theme: &'a Theme,
    /// What colours mean.
    pub mode: MapMode,
    /// The cursor's entry in the slice.
    pub cursor: (usize, usize),
    /// The claim map, drawn instead of `grid` in [`MapMode::Agreement`].
    pub agreement: Option<&'a AgreementGrid>,
}

impl Widget for HeatMap<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let viewport = self.grid.viewport;
        let half = self.theme.glyphs.half_blocks;
        let per_cell = if half { 2 } else { 1 };
        let cursor_block = viewport.block_of(self.cursor);
        let cursor_cell = cursor_block.map(|(y, x)| (y / per_cell, x));
        let rows = cell_rows(viewport.height, self.theme).min(usize::from(area.height));
        let cols = viewport.width.min(usize::from(area.width));
        for cy in 0..rows {
            for cx in 0..cols {
                let (symbol, mut style) = if half {
                    self.half_block_cell(cy, cx, cursor_block)
                } else {
                    let paint = self.paint(cy, cx);
                    let style = self
                        .theme
                        .color(paint)
                        .map_or(Style::new(), |c| Style::new().fg(c));
                    (self.theme.glyph(paint), style)
                };
                let mut symbol = symbol;
                if !half && cursor_cell == Some((cy, cx)) {
                    symbol = self.theme.glyphs.cursor;
                    style = self.theme.cursor();
                } else if symbol == " "
                    && let (Some((crow, ccol)), Some((h, v))) =
                        (cursor_cell, self.theme.glyphs.crosshair)
                {
                    if cy == crow {
                        symbol = h;
                        style = self.theme.crosshair();
                    } else if cx == ccol {
                        symbol = v;
                        style = self.theme.crosshair();
                    }
                }
                let position = (area.x + cx as u16, area.y + cy as u16);
                if let Some(cell) = buf.cell_mut(position) {
                    cell.set_symbol(symbol).set_style(style);
                }
            }
        }
    }
}

impl HeatMap<'_> {
    /// What block (y, x) looks like: from the claim map in its mode, else from the grid.
    fn paint(&self, y: usize, x: usize) -> Paint {
        match (self.mode, self.agreement) {
            (MapMode::Agreement, Some(agreement)) => {
                agreement.block(y, x).map_or(Paint::Blank, Paint::Agreement)
            }
            _ => self.grid.paint(y, x, self.mode),
        }
    }

    /// A cell showing two blocks as a half block; the cursor's block is painted in the
    /// cursor colour.
    fn half_block_cell(
        &self,
        cy: usize,
        cx: usize,
        cursor_block: Option<(usize, usize)>,
    ) -> (&'static str, Style) {
        let color = |y: usize| -> Option<Color> {
            if cursor_block == Some((y, cx)) {
                self.theme.cursor().bg
            } else {
                self.theme.color(self.paint(y, cx))
            }
        };
        let glyphs = &self.theme.glyphs;
        match (color(2 * cy), color(2 * cy + 1)) {
            (None, None) => (" ", Style::new()),
            (Some(upper), None) => (glyphs.upper, Style::new().fg(upper)),
            (None, Some(lower)) => (glyphs.lower, Style::new().fg(lower)),
            (Some(upper), Some(lower)) => (glyphs.upper, Style::new().fg(upper).bg(lower)),
        }
    }
}

/// The legend under a map of `grid` in `mode` ([`figure::legend`]), in the theme's colours
/// and glyphs.
pub fn legend(theme: &Theme, grid: &HeatGrid, mode: MapMode) -> Line<'static> {
    let times = if theme.ascii { "x" } else { "×" };
    let spans = figure::legend(grid, mode, theme.glyphs.dot, times)
        .into_iter()
        .map(|item| match item {
            LegendItem::Label(words) => Span::styled(words, theme.label()),
            LegendItem::Text(words) => Span::styled(words, theme.dim()),
            LegendItem::Swatch(paint) => match theme.color(paint) {
                Some(color) if theme.glyphs.half_blocks => {
                    Span::styled("█", Style::new().fg(color))
                }
                Some(color) => Span::styled(theme.glyph(paint), Style::new().fg(color)),
                None => Span::raw(theme.glyph(paint)),
            },
        });
    Line::from(spans.collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::theme::ColorMode;

    #[test]
    fn half_blocks_paint_upper_and_lower_blocks() {
        let theme = Theme::new(ColorMode::Ansi16, false);
        // 2×3 slice, 1 entry per block: upper row nonzero at col 0, lower at col 1.
        let values = vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        let structural = vec![true, false, false, false, true, false];
        let v = Viewport::fit(2, 3, 3, 2);
        let grid = HeatGrid::aggregate(&values, &structural, v, 1.0);
        let mut buf = Buffer::empty(Rect::new(0, 0, 3, 1));
        HeatMap {
            grid: &grid,
            theme: &theme,
            mode: MapMode::Sparsity,
            cursor: (0, 2),
            agreement: None,
        }
        .render(buf.area, &mut buf);
        assert_eq!(buf[(0, 0)].symbol(), "▀");
        assert_eq!(buf[(1, 0)].symbol(), "▄");
        // The cursor's block (upper half of the third cell) in the cursor colour.
        assert_eq!(buf[(2, 0)].symbol(), "▀");
        assert_eq!(buf[(2, 0)].fg, theme.cursor().bg.unwrap());
    }
}
