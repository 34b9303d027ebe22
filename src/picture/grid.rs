//! The heat-map grid, shared by the explorer and the pictures `slice` and `matrix` write:
//! which part of a 2-D slice (or of J as one matrix) a grid of blocks covers ([`Viewport`]),
//! and the exact summary of every entry into blocks ([`HeatGrid`]).
//!
//! Each block stands for `block.0 × block.1` entries and is summarised over all of them, so
//! a lone nonzero always lights its block (no stride sampling). The summaries come from a
//! dense slice ([`HeatGrid::aggregate`]), from [`Jacobian::slice_blocks`] ([`HeatGrid::of_slice`]),
//! from the tile summaries of a slice that is one tensor times a constant
//! ([`HeatGrid::of_tiled_slice`]), or from structural counts alone ([`HeatGrid::of_matrix`]):
//! never from the dense J.

use std::ops::Range;

use thiserror::Error;

use super::paint::Paint;
use crate::jacobian::{Jacobian, SliceBlocks, SliceTensor, TileSummaries};
use crate::layout::{self, JacobianDims, VecOrder};
use crate::sparsity::StructuralSupport;

/// What the colour of a nonzero block tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MapMode {
    /// Structural zero vs numeric zero vs nonzero; shade = share of nonzero entries.
    #[default]
    Sparsity,
    /// Shade = largest |value| in the block, relative to the slice's largest.
    Magnitude,
    /// Diverging colours: the block's value of largest magnitude, with its sign.
    Signed,
    /// The claim against J: agree, differ, claim only or J only ([`AgreementGrid`]);
    /// only while a claim is set.
    Agreement,
}

impl MapMode {
    /// The next mode (`v`); the claim map comes after the signed one only if `claim` (a
    /// claim is set).
    pub fn next(self, claim: bool) -> MapMode {
        match self {
            MapMode::Sparsity => MapMode::Magnitude,
            MapMode::Magnitude => MapMode::Signed,
            MapMode::Signed if claim => MapMode::Agreement,
            MapMode::Signed | MapMode::Agreement => MapMode::Sparsity,
        }
    }

    /// The mode's name.
    pub fn label(self) -> &'static str {
        match self {
            MapMode::Sparsity => "sparsity",
            MapMode::Magnitude => "|value|",
            MapMode::Signed => "signed value",
            MapMode::Agreement => "claim vs J",
        }
    }
}

/// Which part of a `rows × cols` slice is on screen, and how many entries a block holds.
///
/// The grid is `height` blocks high and `width` blocks wide; zoom level 0 fits the whole
/// slice, each further level halves the block size, down to one entry per block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewport {
    /// Rows of the slice.
    pub rows: usize,
    /// Columns of the slice.
    pub cols: usize,
    /// Blocks on screen, vertically.
    pub height: usize,
    /// Blocks on screen, horizontally.
    pub width: usize,
    /// Zoom level: 0 shows the whole slice.
    pub zoom: u32,
    /// Entries per block: (rows, columns).
    pub block: (usize, usize),
    /// The first entry on screen: (row, column); multiples of the block size.
    pub origin: (usize, usize),
}

impl Viewport {
    /// The whole slice on a grid of `width × height` blocks.
    pub fn fit(rows: usize, cols: usize, width: usize, height: usize) -> Viewport {
        let mut viewport = Viewport {
            rows: rows.max(1),
            cols: cols.max(1),
            height: height.max(1),
            width: width.max(1),
            zoom: 0,
            block: (1, 1),
            origin: (0, 0),
        };
        viewport.block = viewport.block_at(0);
        viewport
    }

    /// Block size at a zoom level.
    fn block_at(&self, zoom: u32) -> (usize, usize) {
        let scale = 1usize << zoom.min(usize::BITS - 1);
        let fit_rows = self.rows.div_ceil(self.height);
        let fit_cols = self.cols.div_ceil(self.width);
        (
            fit_rows.div_ceil(scale).max(1),
            fit_cols.div_ceil(scale).max(1),
        )
    }

    /// The deepest zoom level: one entry per block.
    pub fn max_zoom(&self) -> u32 {
        let mut zoom = 0;
        while self.block_at(zoom) != (1, 1) {
            zoom += 1;
        }
        zoom
    }

    /// Sets the zoom level (clamped to `0..=max_zoom`) and centres on `cursor`.
    pub fn set_zoom(&mut self, zoom: u32, cursor: (usize, usize)) {
        self.zoom = zoom.min(self.max_zoom());
        self.block = self.block_at(self.zoom);
        self.center(cursor);
    }

    /// The same zoom level on a grid of another size, still showing `cursor`.
    pub fn resized(&self, width: usize, height: usize, cursor: (usize, usize)) -> Viewport {
        let mut viewport = Viewport::fit(self.rows, self.cols, width, height);
        viewport.set_zoom(self.zoom, cursor);
        viewport
    }

    /// Entries on screen: (rows, columns).
    pub fn span(&self) -> (usize, usize) {
        (self.height * self.block.0, self.width * self.block.1)
    }

    /// Puts `cursor` as near the middle as the slice's edges allow.
    pub fn center(&mut self, cursor: (usize, usize)) {
        let (span_rows, span_cols) = self.span();
        self.origin = (
            centered_origin(cursor.0, span_rows, self.rows, self.block.0),
            centered_origin(cursor.1, span_cols, self.cols, self.block.1),
        );
    }

    /// Scrolls as little as needed for `cursor` to be on screen.
    pub fn follow(&mut self, cursor: (usize, usize)) {
        let (span_rows, span_cols) = self.span();
        self.origin = (
            followed_origin(self.origin.0, cursor.0, span_rows, self.block.0),
            followed_origin(self.origin.1, cursor.1, span_cols, self.block.1),
        );
    }

    /// The block (y, x) on screen that holds entry (row, col), if it is on screen.
    pub fn block_of(&self, (row, col): (usize, usize)) -> Option<(usize, usize)> {
        let y = row.checked_sub(self.origin.0)? / self.block.0;
        let x = col.checked_sub(self.origin.1)? / self.block.1;
        (y < self.height && x < self.width && row < self.rows && col < self.cols).then_some((y, x))
    }

    /// The first entry of block (y, x), if the block lies inside the slice.
    pub fn entry_of(&self, (y, x): (usize, usize)) -> Option<(usize, usize)> {
        let row = self.origin.0 + y * self.block.0;
        let col = self.origin.1 + x * self.block.1;
        (y < self.height && x < self.width && row < self.rows && col < self.cols)
            .then_some((row, col))
    }

    /// The last row and column on screen (inclusive).
    pub fn last_visible(&self) -> (usize, usize) {
        let (span_rows, span_cols) = self.span();
        (
            (self.origin.0 + span_rows).min(self.rows) - 1,
            (self.origin.1 + span_cols).min(self.cols) - 1,
        )
    }
}

/// The largest origin that still fills the screen, rounded up to a block boundary.
fn last_origin(span: usize, len: usize, block: usize) -> usize {
    len.saturating_sub(span).div_ceil(block) * block
}

fn centered_origin(cursor: usize, span: usize, len: usize, block: usize) -> usize {
    let wanted = cursor.saturating_sub(span / 2) / block * block;
    wanted.min(last_origin(span, len, block))
}

fn followed_origin(origin: usize, cursor: usize, span: usize, block: usize) -> usize {
    let cursor_block = cursor / block * block;
    if cursor_block < origin {
        cursor_block
    } else if cursor_block >= origin + span {
        cursor_block + block - span
    } else {
        origin
    }
}

/// The summary of one block: exact counts over every entry it holds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BlockStats {
    /// Entries in the block (fewer at the slice's edges).
    pub entries: usize,
    /// Structurally nonzero entries.
    pub structural: usize,
    /// Numerically nonzero entries.
    pub nonzero: usize,
    /// Largest |value|.
    pub max_abs: f64,
    /// The value of largest magnitude, with its sign (positive if both signs occur).
    pub extreme: f64,
}

impl BlockStats {
    /// Adds one entry.
    fn add(&mut self, value: f64, structural: bool) {
        self.entries += 1;
        if structural || value != 0.0 {
            self.structural += 1;
        }
        if value != 0.0 {
            self.nonzero += 1;
            let magnitude = value.abs();
            if magnitude > self.max_abs || (magnitude == self.max_abs && value > self.extreme) {
                self.max_abs = magnitude;
                self.extreme = value;
            }
        }
    }

    /// What the block looks like in `mode`; `slice_max_abs` is the largest |value| of the
    /// whole slice (so colours do not shift while scrolling).
    pub fn paint(&self, mode: MapMode, slice_max_abs: f64) -> Paint {
        if self.nonzero == 0 {
            return if self.structural == 0 {
                Paint::Blank
            } else {
                Paint::NumericZero
            };
        }
        let relative = |v: f64| {
            if slice_max_abs > 0.0 && slice_max_abs.is_finite() {
                v / slice_max_abs
            } else {
                1.0
            }
        };
        match mode {
            MapMode::Sparsity | MapMode::Agreement => {
                Paint::Level(density_intensity(self.nonzero as f64 / self.entries as f64))
            }
            MapMode::Magnitude => Paint::Level(relative(self.max_abs).clamp(1e-9, 1.0)),
            MapMode::Signed => {
                let t = relative(self.extreme).clamp(-1.0, 1.0);
                Paint::Signed(if t == 0.0 {
                    self.extreme.signum() * 1e-9
                } else {
                    t
                })
            }
        }
    }
}

/// The share of nonzero entries in a block on a log scale: 1 when all are nonzero, the
/// weakest shade at 1/64 or less (so a lone nonzero is visible but dim).
fn density_intensity(density: f64) -> f64 {
    (1.0 + density.ln() / 64f64.ln()).clamp(0.01, 1.0)
}

/// The blocks on screen, each summarised exactly over its entries.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatGrid {
    /// The part of the slice the grid covers.
    pub viewport: Viewport,
    /// `height × width` blocks, row-major; `None` for blocks outside the slice.
    pub blocks: Vec<Option<BlockStats>>,
    /// Largest |value| in the whole slice.
    pub slice_max_abs: f64,
    /// False when only structural counts are known (a slice too large to evaluate): every
    /// structurally nonzero block is then drawn as nonzero, shaded by its share.
    pub values_known: bool,
}

impl HeatGrid {
    /// Aggregates the on-screen part of a dense slice (`values` and `structural` are
    /// row-major, `viewport.rows × viewport.cols`).
    pub fn aggregate(
        values: &[f64],
        structural: &[bool],
        viewport: Viewport,
        slice_max_abs: f64,
    ) -> HeatGrid {
        let Viewport {
            rows,
            cols,
            height,
            width,
            block,
            origin,
            ..
        } = viewport;
        let mut blocks = vec![None; height * width];
        let (last_row, last_col) = viewport.last_visible();
        for row in origin.0..=last_row {
            let y = (row - origin.0) / block.0;
            for col in origin.1..=last_col {
                let x = (col - origin.1) / block.1;
                let at = row * cols + col;
                blocks[y * width + x]
                    .get_or_insert_with(BlockStats::default)
                    .add(values[at], structural[at]);
            }
        }
        debug_assert_eq!(values.len(), rows * cols);
        HeatGrid {
            viewport,
            blocks,
            slice_max_abs,
            values_known: true,
        }
    }

    /// A grid from the block summaries of [`Jacobian::slice_blocks`] over the viewport's
    /// [`HeatGrid::block_ranges`]; blocks it does not list are structurally zero.
    ///
    /// [`Jacobian::slice_blocks`]: crate::jacobian::Jacobian::slice_blocks
    pub fn from_slice_blocks(
        summaries: &SliceBlocks,
        viewport: Viewport,
        slice_max_abs: f64,
    ) -> HeatGrid {
        let blocks = (0..viewport.height * viewport.width)
            .map(|n| {
                let (y, x) = (n / viewport.width, n % viewport.width);
                let (row, col) = viewport.entry_of((y, x))?;
                let entries = viewport.block.0.min(viewport.rows - row)
                    * viewport.block.1.min(viewport.cols - col);
                let summary = summaries.get(y, x).copied().unwrap_or_default();
                Some(BlockStats {
                    entries,
                    structural: summary.structural,
                    nonzero: summary.nonzero,
                    max_abs: summary.max_abs,
                    extreme: summary.extreme,
                })
            })
            .collect();
        HeatGrid {
            viewport,
            blocks,
            slice_max_abs,
            values_known: true,
        }
    }

    /// A grid from exact structural counts, one per on-screen block (row-major), when the
    /// values are not evaluated.
    pub fn from_structural_counts(counts: &[u64], viewport: Viewport) -> HeatGrid {
        let blocks = (0..viewport.height * viewport.width)
            .map(|n| {
                let (y, x) = (n / viewport.width, n % viewport.width);
                let (row, col) = viewport.entry_of((y, x))?;
                let rows = viewport.block.0.min(viewport.rows - row);
                let cols = viewport.block.1.min(viewport.cols - col);
                let count = usize::try_from(*counts.get(n)?).unwrap_or(usize::MAX);
                Some(BlockStats {
                    entries: rows * cols,
                    structural: count,
                    nonzero: count,
                    max_abs: f64::NAN,
                    extreme: f64::NAN,
                })
            })
            .collect();
        HeatGrid {
            viewport,
            blocks,
            slice_max_abs: f64::NAN,
            values_known: false,
        }
    }

    /// The blocks `viewport` shows of the matrix slice of `jacobian` over `axes` through
    /// `at` (a full index of J; the slice's own axes are ignored), summarised by
    /// [`Jacobian::slice_blocks`] at the cost of the structural support in view. Colours are
    /// relative to the whole slice's largest |value|: `whole_max_abs` if it is known, else
    /// found here (from the grid itself when it covers the slice); the grid's
    /// `slice_max_abs` says what it was, for the caller to keep.
    pub fn of_slice(
        jacobian: &Jacobian,
        axes: (usize, usize),
        at: &[usize],
        viewport: Viewport,
        whole_max_abs: Option<f64>,
    ) -> HeatGrid {
        let (row_blocks, col_blocks) = HeatGrid::block_ranges(&viewport);
        let blocks = jacobian.slice_blocks(axes, at, &row_blocks, &col_blocks);
        let covers_slice = viewport.origin == (0, 0) && {
            let (span_rows, span_cols) = viewport.span();
            span_rows >= viewport.rows && span_cols >= viewport.cols
        };
        let slice_max_abs = whole_max_abs.unwrap_or_else(|| {
            if covers_slice {
                blocks.max_abs()
            } else {
                let whole: [Range<usize>; 2] = [0..viewport.rows, 0..viewport.cols];
                jacobian
                    .slice_blocks(axes, at, &whole[..1], &whole[1..])
                    .max_abs()
            }
        });
        HeatGrid::from_slice_blocks(&blocks, viewport, slice_max_abs)
    }

    /// [`HeatGrid::of_slice`] for a slice that is one tensor times a constant, answered from
    /// the summaries of the tensor's tiles at one read per block, if the viewport's blocks
    /// are those tiles and the tiles fit the slice ([`SliceTensor::blocks`]); `None`
    /// otherwise. Colours are relative to `whole_max_abs` if it is known, else to the
    /// largest |value| the tiles give for the whole slice.
    pub fn of_tiled_slice(
        tensor: &SliceTensor,
        tiles: &TileSummaries,
        viewport: Viewport,
        whole_max_abs: Option<f64>,
    ) -> Option<HeatGrid> {
        let (row_blocks, col_blocks) = HeatGrid::block_ranges(&viewport);
        let blocks = tensor.blocks(tiles, &row_blocks, &col_blocks)?;
        let slice_max_abs = whole_max_abs.or_else(|| tensor.max_abs(tiles))?;
        Some(HeatGrid::from_slice_blocks(
            &blocks,
            viewport,
            slice_max_abs,
        ))
    }

    /// Exact structural counts of the blocks `viewport` shows of J as one matrix, in the
    /// matrix layout `(order, numerator)` (see [`Layout::matrix`]): |Y| × |X| with vec order
    /// `order` if `numerator`, else its transpose |X| × |Y|. J's support is `support` and Y
    /// has rank `out_rank`. The counts come from the deltas
    /// ([`layout::matricized_block_counts`]), never from visiting entries: a grid of
    /// structure only.
    ///
    /// [`Layout::matrix`]: crate::layout::Layout::matrix
    pub fn of_matrix(
        support: &StructuralSupport,
        out_rank: usize,
        (order, numerator): (VecOrder, bool),
        viewport: Viewport,
    ) -> HeatGrid {
        let (row_blocks, col_blocks) = HeatGrid::block_ranges(&viewport);
        let counts = if numerator {
            layout::matricized_block_counts(support, out_rank, order, &row_blocks, &col_blocks)
        } else {
            // The numerator matrix's blocks over the transposed ranges, transposed back.
            let (height, width) = (row_blocks.len(), col_blocks.len());
            let transposed =
                layout::matricized_block_counts(support, out_rank, order, &col_blocks, &row_blocks);
            (0..height * width)
                .map(|n| transposed[(n % width) * height + n / width])
                .collect()
        };
        HeatGrid::from_structural_counts(&counts, viewport)
    }

    /// The row ranges and column ranges of the on-screen blocks inside the slice.
    pub fn block_ranges(viewport: &Viewport) -> (Vec<Range<usize>>, Vec<Range<usize>>) {
        let ranges = |origin: usize, block: usize, count: usize, len: usize| {
            (0..count)
                .map(|n| origin + n * block)
                .map(|start| start.min(len)..(start + block).min(len))
                .collect()
        };
        (
            ranges(
                viewport.origin.0,
                viewport.block.0,
                viewport.height,
                viewport.rows,
            ),
            ranges(
                viewport.origin.1,
                viewport.block.1,
                viewport.width,
                viewport.cols,
            ),
        )
    }

    /// The block at (y, x).
    pub fn block(&self, y: usize, x: usize) -> Option<&BlockStats> {
        if y >= self.viewport.height || x >= self.viewport.width {
            return None;
        }
        self.blocks[y * self.viewport.width + x].as_ref()
    }

    /// What block (y, x) looks like in `mode` (in [`MapMode::Sparsity`] when only the
    /// structure is known); blank outside the grid.
    pub fn paint(&self, y: usize, x: usize, mode: MapMode) -> Paint {
        let mode = if self.values_known {
            mode
        } else {
            MapMode::Sparsity
        };
        self.block(y, x)
            .map_or(Paint::Blank, |b| b.paint(mode, self.slice_max_abs))
    }
}

/// J is too large to be one matrix: |Y| × |X| cannot be indexed on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("J cannot be shown as one matrix: its |Y| × |X| entries are too many to index here")]
pub struct TooLarge;

/// The size of J as one matrix, (|Y|, |X|), if |Y| · |X| fits in a `usize` (so every block
/// count does).
pub fn matrix_size(dims: &JacobianDims) -> Result<(usize, usize), TooLarge> {
    let len = |shape: &[usize]| shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    let (rows, cols) = (
        len(&dims.out).ok_or(TooLarge)?,
        len(&dims.input).ok_or(TooLarge)?,
    );
    rows.checked_mul(cols).ok_or(TooLarge)?;
    Ok((rows, cols))
}

/// The largest |value| of a slice.
pub fn max_abs(values: &[f64]) -> f64 {
    values
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0, |m, v| m.max(v.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_shows_the_whole_slice_and_zoom_reaches_single_entries() {
        let mut v = Viewport::fit(64, 1024, 60, 20);
        assert_eq!(v.block, (4, 18));
        assert_eq!(v.origin, (0, 0));
        let (rows, cols) = v.span();
        assert!(rows >= 64 && cols >= 1024);
        let max = v.max_zoom();
        v.set_zoom(max, (10, 700));
        assert_eq!(v.block, (1, 1));
        assert!(v.block_of((10, 700)).is_some());
        v.set_zoom(max + 5, (10, 700));
        assert_eq!(v.zoom, max);
    }

    #[test]
    fn follow_keeps_the_cursor_on_screen_with_minimal_scrolling() {
        let mut v = Viewport::fit(100, 100, 10, 10);
        v.set_zoom(v.max_zoom(), (0, 0));
        assert_eq!(v.origin, (0, 0));
        v.follow((10, 3));
        assert_eq!(v.origin, (1, 0));
        assert_eq!(v.block_of((10, 3)), Some((9, 3)));
        v.follow((0, 99));
        assert_eq!(v.origin, (0, 90));
        // The end of the slice: never scrolls past the last entry.
        v.center((99, 99));
        assert_eq!(v.origin, (90, 90));
        assert_eq!(v.last_visible(), (99, 99));
    }

    /// A lone nonzero lights its block at every zoom level (no stride sampling).
    #[test]
    fn a_lone_nonzero_lights_its_block_at_every_zoom() {
        let (rows, cols) = (37, 1000);
        let mut values = vec![0.0; rows * cols];
        let structural = vec![false; rows * cols];
        let lone = (23, 617);
        values[lone.0 * cols + lone.1] = 1e-12;
        let mut v = Viewport::fit(rows, cols, 50, 14);
        for zoom in 0..=v.max_zoom() {
            v.set_zoom(zoom, lone);
            let grid = HeatGrid::aggregate(&values, &structural, v, max_abs(&values));
            let mut lit = Vec::new();
            for y in 0..v.height {
                for x in 0..v.width {
                    if let Some(b) = grid.block(y, x)
                        && b.paint(MapMode::Sparsity, grid.slice_max_abs) != Paint::Blank
                    {
                        lit.push((y, x));
                    }
                }
            }
            assert_eq!(lit, vec![v.block_of(lone).unwrap()], "zoom {zoom}");
        }
    }

    proptest::proptest! {
        /// Every nonzero lands in a lit block, and every blank block holds only structural
        /// zeros, at every size and zoom.
        #[test]
        fn every_nonzero_lights_its_block(
            rows in 1usize..60,
            cols in 1usize..300,
            width in 1usize..40,
            height in 1usize..20,
            zoom in 0u32..8,
            seeds in proptest::collection::vec(0usize..18000, 0..12),
        ) {
            let n = rows * cols;
            let mut values = vec![0.0; n];
            let mut structural = vec![false; n];
            for (k, seed) in seeds.iter().enumerate() {
                let at = seed % n;
                structural[at] = true;
                values[at] = if k % 3 == 0 { 0.0 } else { (k as f64) - 5.5 };
            }
            let mut v = Viewport::fit(rows, cols, width, height);
            v.set_zoom(zoom, (rows / 2, cols / 2));
            let grid = HeatGrid::aggregate(&values, &structural, v, max_abs(&values));
            for mode in [MapMode::Sparsity, MapMode::Magnitude, MapMode::Signed] {
                for row in 0..rows {
                    for col in 0..cols {
                        let Some((y, x)) = v.block_of((row, col)) else { continue };
                        let paint = grid.paint(y, x, mode);
                        let at = row * cols + col;
                        if values[at] != 0.0 {
                            proptest::prop_assert!(matches!(paint, Paint::Level(_) | Paint::Signed(_)));
                        }
                        if structural[at] {
                            proptest::prop_assert!(paint != Paint::Blank);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn blocks_count_every_entry_exactly() {
        let (rows, cols) = (5, 7);
        let values: Vec<f64> = (0..35)
            .map(|i| if i % 3 == 0 { 0.0 } else { i as f64 })
            .collect();
        let structural: Vec<bool> = (0..35).map(|i| i % 2 == 0).collect();
        let v = Viewport::fit(rows, cols, 2, 2);
        assert_eq!(v.block, (3, 4));
        let grid = HeatGrid::aggregate(&values, &structural, v, max_abs(&values));
        let total: usize = grid.blocks.iter().flatten().map(|b| b.entries).sum();
        assert_eq!(total, 35);
        let nonzero: usize = grid.blocks.iter().flatten().map(|b| b.nonzero).sum();
        assert_eq!(nonzero, values.iter().filter(|v| **v != 0.0).count());
        let bottom_right = grid.block(1, 1).unwrap();
        assert_eq!(bottom_right.entries, 2 * 3);
        assert_eq!(bottom_right.extreme, 34.0);
    }

    #[test]
    fn paints_distinguish_structural_and_numeric_zeros() {
        let mut b = BlockStats::default();
        b.add(0.0, false);
        assert_eq!(b.paint(MapMode::Sparsity, 1.0), Paint::Blank);
        b.add(0.0, true);
        assert_eq!(b.paint(MapMode::Sparsity, 1.0), Paint::NumericZero);
        b.add(-2.0, true);
        assert_eq!(b.paint(MapMode::Signed, 4.0), Paint::Signed(-0.5));
        assert_eq!(b.paint(MapMode::Magnitude, 4.0), Paint::Level(0.5));
        let Paint::Level(t) = b.paint(MapMode::Sparsity, 4.0) else {
            panic!("nonzero block must have a level")
        };
        assert!(t > 0.0 && t < 1.0);
    }
}
