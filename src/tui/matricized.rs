//! The matricized view (`m`): the whole J as one |Y| × |X| matrix in numerator layout,
//! ∂vec(Y)/∂vec(X)ᵀ (rows vec(Y), columns vec(X)), with column- or row-major vec, drawn as a
//! heat map of exact per-block structural counts.
//!
//! The view shares the cursor (a full index of J) with the slice view: [`MatrixView::position`]
//! and [`MatrixView::place`] go between J's index and the matrix's (row, column) through
//! [`Layout::position`] and [`Layout::index_at`]. The blocks are counted from the deltas by
//! [`HeatGrid::of_matrix`], never by visiting entries, so the default example's
//! 32768 × 65536 matrix is drawn as fast as a slice; values are not evaluated.
//!
//! This file holds the view's state and its texts; `draw::map` draws it, where
//! [`geometry`] says.

use crate::jacobian::Jacobian;
use crate::layout::{self, JacobianDims, Layout, ShapeContext, VecOrder};
use crate::sparsity::StructuralSupport;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::conventions::{matrix_shape, plain};
use super::geometry::{self, MatrixAreas};
use super::theme::Theme;
use crate::picture::figure::Labels;
use crate::picture::grid::{HeatGrid, TooLarge, Viewport, matrix_size};

/// The other vec order (the `o` key).
fn other_order(order: VecOrder) -> VecOrder {
    match order {
        VecOrder::ColMajor => VecOrder::RowMajor,
        VecOrder::RowMajor => VecOrder::ColMajor,
    }
}

/// The state of the matricized view: the vec order, the part of the matrix on screen, and
/// its blocks. The cursor is not here: it is the explorer's, shared with the slice view.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixView {
    /// Y's and X's names and axes.
    context: ShapeContext,
    /// Y's and X's shapes.
    dims: JacobianDims,
    /// The vec order of rows and columns.
    order: VecOrder,
    /// The part of the |Y| × |X| matrix on screen. Moving, paging and zooming change it as
    /// they change the slice view's; [`MatrixView::sync`] then brings the grid up to date.
    pub viewport: Viewport,
    /// The blocks `viewport` shows, counted in `grid_order`.
    grid: HeatGrid,
    grid_order: VecOrder,
}

impl MatrixView {
    /// The matrix of `jacobian` with vec order `order`, whole, on a grid of one block until
    /// the first [`MatrixView::sync`] sizes it.
    pub fn new(jacobian: &Jacobian, order: VecOrder) -> Result<MatrixView, TooLarge> {
        let context = ShapeContext::of(jacobian);
        let dims = context.dims();
        let (rows, cols) = matrix_size(&dims)?;
        let viewport = Viewport::fit(rows, cols, 1, 1);
        let grid = HeatGrid::of_matrix(jacobian.support(), dims.out.len(), (order, true), viewport);
        Ok(MatrixView {
            context,
            dims,
            order,
            viewport,
            grid,
            grid_order: order,
        })
    }

    /// The vec order of rows and columns.
    pub fn order(&self) -> VecOrder {
        self.order
    }

    /// The layout the matrix is in: numerator, with this vec order.
    pub fn layout(&self) -> Layout {
        Layout::numerator(self.order)
    }

    /// The blocks on screen, as of the last [`MatrixView::sync`].
    pub fn grid(&self) -> &HeatGrid {
        &self.grid
    }

    /// The matrix's (row, column) of `cursor`, a full index of J.
    pub fn position(&self, cursor: &[usize]) -> (usize, usize) {
        match self.layout().position(&self.dims, cursor)[..] {
            [row, col] => (row, col),
            _ => unreachable!("a matrix layout has two axes"),
        }
    }

    /// The full index of J at (row, column) of the matrix (inverse of [`Self::position`]).
    pub fn place(&self, (row, col): (usize, usize)) -> Vec<usize> {
        self.layout().index_at(&self.dims, &[row, col])
    }

    /// Switches the vec order; the cursor's entry stays under the cursor, at the same zoom.
    pub fn toggle_order(&mut self, support: &StructuralSupport, cursor: &[usize]) {
        self.order = other_order(self.order);
        let position = self.position(cursor);
        self.viewport.set_zoom(self.viewport.zoom, position);
        self.refresh(support);
    }

    /// Brings the view up to date with the cursor and a grid of `width × height` blocks:
    /// keeps the zoom, scrolls as little as needed to show the cursor, recounts the blocks
    /// if what is on screen changed.
    pub fn sync(
        &mut self,
        support: &StructuralSupport,
        cursor: &[usize],
        (width, height): (usize, usize),
    ) {
        let position = self.position(cursor);
        if (self.viewport.width, self.viewport.height) != (width.max(1), height.max(1)) {
            self.viewport = self.viewport.resized(width, height, position);
        }
        self.viewport.follow(position);
        self.refresh(support);
    }

    fn refresh(&mut self, support: &StructuralSupport) {
        debug_assert_eq!(
            support.dims(),
            [&self.dims.out[..], &self.dims.input[..]].concat(),
            "the support of another Jacobian"
        );
        if self.grid.viewport != self.viewport || self.grid_order != self.order {
            let out_rank = self.dims.out.len();
            self.grid = HeatGrid::of_matrix(support, out_rank, (self.order, true), self.viewport);
            self.grid_order = self.order;
        }
    }

    /// The words of a picture of the view, titled `title`, J's axes being `names`.
    pub fn labels(&self, title: &str, names: &[String]) -> Labels {
        let (y, x) = (&self.context.y_name, &self.context.x_name);
        Labels::matrix(title, names, self.layout(), y, x)
    }

    /// The text above the row labels: the row and column variables, `Y\X`.
    pub fn corner_label(&self) -> String {
        format!("{}\\{}", self.context.y_name, self.context.x_name)
    }

    /// Where the parts of the view go on a screen `area`, around the same header, inspector
    /// and footer as the slice view ([`geometry::screen_areas`]); `None` if the screen is too
    /// small.
    pub fn parts(&self, area: Rect) -> Option<MatrixAreas> {
        let gutter = geometry::gutter_width(&self.corner_label(), self.viewport.rows);
        geometry::screen_areas(area, gutter).map(|screen| screen.matrix())
    }

    /// The title: `numerator-rowmajor: ∂vec(Y)/∂vec(X)ᵀ, 32768 × 65536`.
    pub fn title(&self, theme: &Theme) -> Line<'static> {
        let (y, x) = (&self.context.y_name, &self.context.x_name);
        let derivative = format!("∂vec({y})/∂vec({x})ᵀ");
        Line::from(vec![
            Span::styled(self.layout().name(), theme.title()),
            Span::raw(format!(
                ": {}, {}",
                plain(&derivative, theme.ascii),
                matrix_shape(self.viewport.rows, self.viewport.cols, theme.ascii)
            )),
        ])
    }

    /// What the axes are: `rows vec(Y), cols vec(X), row-major (j, l fastest) · structure
    /// only`.
    pub fn axes_line(&self, theme: &Theme) -> Line<'static> {
        let order = match self.order {
            VecOrder::ColMajor => "column-major",
            VecOrder::RowMajor => "row-major",
        };
        // The axis that varies fastest along the rows (of Y) and the columns (of X).
        let fastest = |axes: &[layout::Axis]| {
            let axis = match self.order {
                VecOrder::ColMajor => axes.first(),
                VecOrder::RowMajor => axes.last(),
            };
            axis.filter(|_| axes.len() > 1).map(|a| a.name.clone())
        };
        let fast: Vec<String> = [fastest(&self.context.out), fastest(&self.context.input)]
            .into_iter()
            .flatten()
            .collect();
        let fast = if fast.is_empty() {
            String::new()
        } else {
            format!(" ({} fastest)", fast.join(", "))
        };
        let (y, x) = (&self.context.y_name, &self.context.x_name);
        Line::from(vec![
            Span::styled("rows ", theme.label()),
            Span::raw(format!("vec({y})")),
            Span::styled(", cols ", theme.label()),
            Span::raw(format!("vec({x})")),
            Span::styled(", ", theme.label()),
            Span::raw(format!("{order}{fast}")),
            Span::styled(format!(" {} structure only", theme.glyphs.dot), theme.dim()),
        ])
    }
}

#[cfg(test)]
mod tests {
    use std::ops::Range;

    use super::*;
    use crate::problem::{Problem, ProblemSpec};

    fn problem(shapes: &[&str]) -> Problem {
        let shapes: Vec<String> = shapes.iter().map(|s| s.to_string()).collect();
        Problem::build(ProblemSpec::default_example(&shapes, 0)).unwrap()
    }

    fn view(problem: &Problem, order: VecOrder, size: (usize, usize)) -> MatrixView {
        let jacobian = &problem.jacobian;
        let mut view = MatrixView::new(jacobian, order).unwrap();
        view.sync(jacobian.support(), &vec![0; jacobian.shape().len()], size);
        view
    }

    #[test]
    fn sizes_that_overflow_cannot_be_shown() {
        let dims = |out: Vec<usize>, input: Vec<usize>| JacobianDims { out, input };
        assert_eq!(
            matrix_size(&dims(vec![64, 512], vec![64, 1024])),
            Ok((32768, 65536))
        );
        assert_eq!(matrix_size(&dims(vec![], vec![])), Ok((1, 1)));
        let huge = usize::MAX / 2 + 1;
        assert_eq!(matrix_size(&dims(vec![huge, 2], vec![1])), Err(TooLarge));
        assert_eq!(matrix_size(&dims(vec![1 << 20], vec![huge])), Err(TooLarge));
        let half = 1usize << (usize::BITS / 2);
        assert_eq!(matrix_size(&dims(vec![half], vec![half])), Err(TooLarge));
    }

    /// Position and place invert each other, agree with the numerator layouts, and move
    /// along vec(Y) in each order.
    #[test]
    fn the_cursor_is_shared_with_j() {
        let problem = problem(&["X=4x6", "W=5x6"]);
        let dims = JacobianDims::of(&problem.jacobian);
        for order in [VecOrder::ColMajor, VecOrder::RowMajor] {
            let view = view(&problem, order, (10, 10));
            let (rows, cols) = (view.viewport.rows, view.viewport.cols);
            assert_eq!((rows, cols), (20, 24));
            for row in 0..rows {
                for col in 0..cols {
                    let index = view.place((row, col));
                    assert_eq!(view.position(&index), (row, col));
                    let want = view.layout().position(&dims, &index);
                    assert_eq!(want, [row, col]);
                }
            }
        }
        let col_major = view(&problem, VecOrder::ColMajor, (10, 10));
        let row_major = view(&problem, VecOrder::RowMajor, (10, 10));
        let cursor = [0, 3, 0, 5];
        assert_eq!(col_major.position(&cursor), (12, 20));
        assert_eq!(row_major.position(&cursor), (3, 5));
        // One row down: i moves in column-major vec(Y), j in row-major.
        assert_eq!(col_major.place((13, 20)), [1, 3, 0, 5]);
        assert_eq!(row_major.place((4, 5)), [0, 4, 0, 5]);
    }

    #[test]
    fn toggling_the_order_keeps_the_entry_on_screen_at_the_same_zoom() {
        let problem = problem(&["X=64x1024", "W=512x1024"]);
        let support = problem.jacobian.support();
        let mut view = view(&problem, VecOrder::RowMajor, (60, 40));
        let cursor = [5, 300, 5, 900];
        view.viewport.set_zoom(4, view.position(&cursor));
        view.sync(support, &cursor, (60, 40));
        assert!(view.viewport.block_of(view.position(&cursor)).is_some());
        view.toggle_order(support, &cursor);
        assert_eq!(view.order(), VecOrder::ColMajor);
        assert_eq!(view.viewport.zoom, 4);
        let position = view.position(&cursor);
        assert_eq!(position, (5 + 64 * 300, 5 + 64 * 900));
        assert!(view.viewport.block_of(position).is_some());
        assert_eq!(view.grid().viewport, view.viewport);
        assert_eq!(view.place(position), cursor);
    }

    #[test]
    fn the_grid_follows_the_viewport() {
        let problem = problem(&["X=4x6", "W=5x6"]);
        let support = problem.jacobian.support();
        let mut view = view(&problem, VecOrder::ColMajor, (6, 4));
        let before = view.grid().clone();
        view.viewport.set_zoom(view.viewport.max_zoom(), (19, 23));
        let cursor = view.place((19, 23));
        view.sync(support, &cursor, (6, 4));
        assert_eq!(view.grid().viewport, view.viewport);
        assert_ne!(view.grid(), &before);
        // One entry per block: the cursor's block is structurally nonzero (i = k there).
        let (y, x) = view.viewport.block_of((19, 23)).unwrap();
        assert_eq!(view.grid().block(y, x).unwrap().structural, 1);
    }

    /// The entries of `range` congruent to `residue` modulo `modulus`.
    fn congruent(range: &Range<usize>, modulus: usize, residue: usize) -> usize {
        let below = |n: usize| (n + modulus - 1 - residue) / modulus;
        below(range.end) - below(range.start)
    }

    fn overlap(a: &Range<usize>, b: &Range<usize>) -> usize {
        a.end.min(b.end).saturating_sub(a.start.max(b.start))
    }

    /// The default example at zoom 0 on 100 × 50 blocks. Row-major, J is I₆₄ ⊗ W: dense
    /// 512 × 1024 blocks on the diagonal, so only the blocks they touch light up. Column-
    /// major, J is W ⊗ I₆₄: a 64 × 64 identity in every tile, so entry (r, c) is nonzero iff
    /// r ≡ c (mod 64) and every block holds some. Each block's count is checked against
    /// these closed forms.
    #[test]
    fn the_default_example_shows_its_kronecker_structure_at_zoom_0() {
        let problem = problem(&["X=64x1024", "W=512x1024"]);
        for order in [VecOrder::RowMajor, VecOrder::ColMajor] {
            let view = view(&problem, order, (100, 50));
            let viewport = view.viewport;
            assert_eq!(viewport.zoom, 0);
            let (row_blocks, col_blocks) = HeatGrid::block_ranges(&viewport);
            let mut lit = 0;
            for (y, rows) in row_blocks.iter().enumerate() {
                for (x, cols) in col_blocks.iter().enumerate() {
                    let want: usize = match order {
                        VecOrder::RowMajor => (0..64)
                            .map(|i| {
                                overlap(rows, &(512 * i..512 * (i + 1)))
                                    * overlap(cols, &(1024 * i..1024 * (i + 1)))
                            })
                            .sum(),
                        VecOrder::ColMajor => (0..64)
                            .map(|a| congruent(rows, 64, a) * congruent(cols, 64, a))
                            .sum(),
                    };
                    let got = view.grid().block(y, x).map_or(0, |b| b.structural);
                    assert_eq!(got, want, "{order:?} block ({y}, {x})");
                    lit += usize::from(got > 0);
                }
            }
            let blocks_in_matrix = view.grid().blocks.iter().flatten().count();
            match order {
                // Each diagonal block touches at most 2 block rows and 3 block columns.
                VecOrder::RowMajor => assert!(
                    lit <= 64 * 2 * 3 && lit * 10 < blocks_in_matrix,
                    "{lit} of {blocks_in_matrix}"
                ),
                VecOrder::ColMajor => assert_eq!(lit, blocks_in_matrix),
            }
        }
    }

    #[test]
    fn titles_name_the_layout_and_the_axes() {
        use crate::tui::theme::ColorMode;
        let problem = problem(&["X=64x1024", "W=512x1024"]);
        let view = view(&problem, VecOrder::ColMajor, (10, 10));
        let unicode = Theme::new(ColorMode::Ansi16, false);
        assert_eq!(
            view.title(&unicode).to_string(),
            "numerator-colmajor: ∂vec(Y)/∂vec(X)ᵀ, 32768 × 65536"
        );
        assert_eq!(
            view.axes_line(&unicode).to_string(),
            "rows vec(Y), cols vec(X), column-major (i, k fastest) · structure only"
        );
        let ascii = Theme::new(ColorMode::Ansi16, true);
        let title = view.title(&ascii).to_string();
        assert_eq!(
            title,
            "numerator-colmajor: dvec(Y)/dvec(X)^T, 32768 x 65536"
        );
        assert!(view.axes_line(&ascii).to_string().is_ascii());
    }
}
