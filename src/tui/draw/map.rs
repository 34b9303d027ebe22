//! The map in the middle of the screen: the heat map of the current slice with its title
//! (axes and fixed indices), or the matricized view with its title and axes line; both
//! framed by a column ruler, row labels and a legend.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::picture::grid::{HeatGrid, MapMode, Viewport};
use crate::tui::geometry::{MatrixAreas, ScreenAreas, column_ruler, row_labels};
use crate::tui::heatmap::{self, AgreementGrid, HeatMap};
use crate::tui::matricized::MatrixView;
use crate::tui::slices::SliceAxes;
use crate::tui::theme::Theme;

/// What the slice view shows.
pub(super) struct SliceMap<'a> {
    /// J's axis names.
    pub names: &'a [String],
    /// The axes the slice shows.
    pub axes: SliceAxes,
    /// Which pair of axes this is (0-based), of how many.
    pub pair: (usize, usize),
    /// The full index of J under the cursor.
    pub cursor: &'a [usize],
    /// The fixed axis `+` and `-` change, highlighted in the title.
    pub selected_fixed: Option<usize>,
    /// The text above the row labels: `k\l`.
    pub corner: String,
    /// The part of the slice on screen.
    pub viewport: &'a Viewport,
    /// The blocks on screen.
    pub grid: &'a HeatGrid,
    /// How the blocks are coloured.
    pub mode: MapMode,
    /// The claim map, while it is the mode.
    pub agreement: Option<&'a AgreementGrid>,
}

/// Draws the slice view into its `areas`: the title, then the framed heat map.
pub(super) fn draw_slice(frame: &mut Frame, areas: &ScreenAreas, map: &SliceMap, theme: &Theme) {
    frame.render_widget(Paragraph::new(slice_title(map, theme)), areas.title);
    let framed = Framed {
        viewport: map.viewport,
        grid: map.grid,
        mode: map.mode,
        agreement: map.agreement,
        position: map.axes.position(map.cursor),
        corner: &map.corner,
    };
    framed.draw(
        frame,
        (areas.ruler, areas.gutter, areas.cells, areas.legend),
        theme,
    );
}

/// The slice's title: its axes, which pair, and the fixed indices (the selected one
/// highlighted).
fn slice_title(map: &SliceMap, theme: &Theme) -> Line<'static> {
    let (pair, pairs) = map.pair;
    let mut title = vec![
        Span::styled("slice ", theme.label()),
        Span::styled(map.axes.label(map.names), theme.title()),
        Span::styled(format!(" (pair {}/{}) ", pair + 1, pairs), theme.dim()),
    ];
    let fixed = map.axes.fixed_axes(map.cursor.len());
    if fixed.is_empty() {
        title.push(Span::styled("nothing fixed", theme.dim()));
    } else {
        title.push(Span::styled("fixed ", theme.label()));
        for axis in fixed {
            let text = format!("{}={}", map.names[axis], map.cursor[axis]);
            let style = if Some(axis) == map.selected_fixed {
                theme.selected()
            } else {
                Style::new()
            };
            title.push(Span::styled(text, style));
            title.push(Span::raw(" "));
        }
    }
    Line::from(title)
}

/// Draws the matricized view `view` into its `areas`, with the cursor (a full index of J)
/// marked: the title, the axes line, then the framed heat map of structure.
pub(super) fn draw_matrix(
    frame: &mut Frame,
    areas: &MatrixAreas,
    view: &MatrixView,
    cursor: &[usize],
    theme: &Theme,
) {
    frame.render_widget(Paragraph::new(view.title(theme)), areas.title);
    frame.render_widget(Paragraph::new(view.axes_line(theme)), areas.axes);
    let framed = Framed {
        viewport: &view.viewport,
        grid: view.grid(),
        mode: MapMode::Sparsity,
        agreement: None,
        position: view.position(cursor),
        corner: &view.corner_label(),
    };
    framed.draw(
        frame,
        (areas.ruler, areas.gutter, areas.cells, areas.legend),
        theme,
    );
}

/// A heat map with what frames it, the same in both views.
struct Framed<'a> {
    viewport: &'a Viewport,
    grid: &'a HeatGrid,
    mode: MapMode,
    agreement: Option<&'a AgreementGrid>,
    /// The cursor's (row, column) on the map.
    position: (usize, usize),
    corner: &'a str,
}

impl Framed<'_> {
    /// Draws the column ruler, the row labels, the cells and the legend into their areas.
    fn draw(
        &self,
        frame: &mut Frame,
        (ruler, gutter, cells, legend): (Rect, Rect, Rect, Rect),
        theme: &Theme,
    ) {
        let line = column_ruler(
            self.viewport,
            self.position,
            self.corner,
            (gutter.width, cells.width),
            theme,
        );
        frame.render_widget(Paragraph::new(line), ruler);
        let labels = row_labels(
            self.viewport,
            self.position,
            gutter.width,
            cells.height,
            theme,
        );
        frame.render_widget(Paragraph::new(labels), gutter);
        frame.render_widget(
            HeatMap {
                grid: self.grid,
                theme,
                mode: self.mode,
                cursor: self.position,
                agreement: self.agreement,
            },
            cells,
        );
        let line = heatmap::legend(theme, self.grid, self.mode);
        frame.render_widget(Paragraph::new(line), legend);
    }
}
