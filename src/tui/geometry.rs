//! Screen geometry: where each part of the explorer goes ([`screen_areas`]), how wide the
//! row labels are ([`gutter_width`]), and the column ruler and row labels that frame a heat
//! map ([`column_ruler`], [`row_labels`]), shared by the slice view and the matricized view.
//!
//! The app asks it where the map's cells are (to size the grid and to place clicks); the
//! drawing asks it where to draw. It knows nothing of the app's state.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::heatmap;
use super::theme::Theme;
use crate::picture::grid::Viewport;

/// Narrowest terminal the explorer draws in.
pub const MIN_WIDTH: u16 = 60;
/// Shortest terminal the explorer draws in.
pub const MIN_HEIGHT: u16 = 18;
/// From this width on, the inspector sits to the right of the map.
const WIDE: u16 = 110;
/// Rows of the inspector below the map (its top border included).
const INSPECTOR_ROWS: u16 = 8;

/// Where each part of the main screen goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenAreas {
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

/// The areas of a screen `area` whose row labels take `gutter` columns, or `None` if the
/// area is too small.
pub fn screen_areas(area: Rect, gutter: u16) -> Option<ScreenAreas> {
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
    Some(ScreenAreas {
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

/// Where each part of the matricized view goes: the slice view's map, with one line of it
/// given to what the rows and columns are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatrixAreas {
    /// The title line: the layout and the matrix's size.
    pub title: Rect,
    /// What the rows and columns are.
    pub axes: Rect,
    /// The column ruler.
    pub ruler: Rect,
    /// The row labels.
    pub gutter: Rect,
    /// The heat-map cells.
    pub cells: Rect,
    /// The legend line.
    pub legend: Rect,
}

impl ScreenAreas {
    /// The matricized view's areas, around the same header, inspector and footer.
    pub fn matrix(&self) -> MatrixAreas {
        let below = |r: Rect| Rect::new(r.x, r.y + 1, r.width, r.height - 1);
        MatrixAreas {
            title: self.title,
            axes: self.ruler,
            ruler: Rect::new(self.ruler.x, self.gutter.y, self.ruler.width, 1),
            gutter: below(self.gutter),
            cells: below(self.cells),
            legend: self.legend,
        }
    }
}

/// Columns of the row labels: the corner label (`k\l`) or the widest row number, plus a
/// marker column and a space.
pub fn gutter_width(corner: &str, rows: usize) -> u16 {
    let digits = (rows.saturating_sub(1)).to_string().len();
    let widest = digits.max(corner.chars().count());
    u16::try_from(widest + 2).unwrap_or(u16::MAX)
}

/// The column ruler of a heat map showing `viewport` with the cursor at `position`:
/// `corner` right-aligned over the row labels, then the first and last column on screen and
/// the cursor's column with a marker. `widths`: the row labels' and the cells' columns.
pub fn column_ruler(
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
pub fn row_labels(
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Below the minimum nothing is laid out; at 60×18 the inspector is under the map, from
    /// 110 columns on beside it; the matricized view gives the map's first row to its axes.
    #[test]
    fn areas_follow_the_screen_size() {
        assert_eq!(screen_areas(Rect::new(0, 0, 59, 18), 5), None);
        assert_eq!(screen_areas(Rect::new(0, 0, 60, 17), 5), None);
        let narrow = screen_areas(Rect::new(0, 0, 60, 18), 5).unwrap();
        assert_eq!(
            narrow,
            ScreenAreas {
                header: Rect::new(0, 0, 60, 2),
                title: Rect::new(0, 2, 60, 1),
                ruler: Rect::new(0, 3, 60, 1),
                gutter: Rect::new(0, 4, 5, 4),
                cells: Rect::new(5, 4, 54, 4),
                legend: Rect::new(0, 8, 60, 1),
                inspector: Rect::new(0, 9, 60, 8),
                footer: Rect::new(0, 17, 60, 1),
            }
        );
        let wide = screen_areas(Rect::new(0, 0, 120, 40), 5).unwrap();
        assert_eq!(wide.inspector, Rect::new(72, 2, 48, 37));
        assert_eq!(wide.cells, Rect::new(5, 4, 66, 34));
        let matrix = narrow.matrix();
        assert_eq!(matrix.axes, narrow.ruler);
        assert_eq!(matrix.ruler, Rect::new(0, 4, 60, 1));
        assert_eq!(matrix.gutter, Rect::new(0, 5, 5, 3));
        assert_eq!(matrix.cells, Rect::new(5, 5, 54, 3));
    }

    #[test]
    fn the_gutter_fits_the_corner_and_the_widest_row() {
        assert_eq!(gutter_width("k\\l", 4), 5);
        assert_eq!(gutter_width("Y\\X", 32768), 7);
    }

    /// Labels are placed only where they neither overlap nor touch one placed earlier.
    #[test]
    fn the_ruler_keeps_labels_apart() {
        let mut ruler = Ruler::new(12);
        ruler.place(3, "▼17");
        ruler.place(0, "0");
        ruler.place(1, "9");
        ruler.place(6, "x");
        ruler.place(10, "23");
        ruler.place(11, "too long");
        assert_eq!(ruler.text(), "0  ▼17    23");
    }
}
