//! Heat maps of slices that are one tensor times a constant, from tile summaries.
//!
//! Where the 2-D slice of J over `axes` at `at` is, entry by entry, one rank-2 tensor of
//! the bound formula read at the slice's two axes (or transposed) times factors that do not
//! move on the slice ([`Jacobian::slice_tensor`]: the seed's (j,l) slice of `X @ W.T` is
//! `W` itself), the summaries of its blocks follow from summaries of the tensor's tiles
//! ([`TileSummaries`]: per tile its zeros, non-finite entries, least and greatest value),
//! built once per tile size. A heat map's blocks are the tiles of its block size (a
//! viewport's origin is a multiple of its block size), so a screen of blocks then costs
//! the blocks, not the entries ([`SliceTensor::blocks`]), exactly: the constant factor
//! scales every entry the same way, so a negative one swaps least and greatest, zero
//! leaves only the non-finite entries nonzero, and where a product could underflow to
//! zero the tiles are not used.
//!
//! Why tiles of the block size and not a pyramid of power-of-two cells: the blocks of a
//! heat map are rarely powers of two (4096 rows on 100 rows of blocks is 41 a block), and
//! an unaligned block combined exactly from aligned cells needs cells of every width and
//! height down to one entry (about three times the tensor's size in summaries) or reads
//! its raw borders (a large share of the tensor for blocks of 41 × 21). Tiles of the block
//! size take 1/(block size) of the tensor and answer every block of that size in one read.

use std::ops::Range;

use rayon::prelude::*;

use super::Jacobian;
use super::dense::{Cond, Dense, scratch};
use super::slice::{BlockSummary, SliceBlocks};
use crate::progress::Progress;
use crate::sparsity;

/// A 2-D slice of J that is, at every entry, `scale ×` one rank-2 tensor of the bound
/// formula: `tensor[row, col]`, or `tensor[col, row]` if `transposed` (see
/// [`Jacobian::slice_tensor`]). Holds the tensor shared, not copied.
#[derive(Debug, Clone)]
pub struct SliceTensor {
    /// Which of the bound formula's arrays.
    array: usize,
    /// The array (shared with the bound formula).
    tensor: Dense,
    /// True if the slice's rows are the tensor's columns.
    transposed: bool,
    /// The product of the constant factors, as J's evaluation forms it.
    scale: f64,
}

/// The summary of one tile of a tensor: enough to summarise the tile times any constant.
#[derive(Debug, Clone, Copy, PartialEq)]
struct TileStats {
    /// Entries equal to zero.
    zeros: usize,
    /// Entries that are NaN or infinite.
    nonfinite: usize,
    /// The greatest entry that is not NaN (NaN if there is none).
    max: f64,
    /// The least entry that is not NaN (NaN if there is none).
    min: f64,
}

impl TileStats {
    const EMPTY: TileStats = TileStats {
        zeros: 0,
        nonfinite: 0,
        max: f64::NAN,
        min: f64::NAN,
    };

    /// Adds the entries `values`.
    fn add(&mut self, values: &[f64]) {
        for &t in values {
            self.zeros += usize::from(t == 0.0);
            self.nonfinite += usize::from(!t.is_finite());
            // `f64::max` and `f64::min` return the other operand when one is NaN.
            self.max = self.max.max(t);
            self.min = self.min.min(t);
        }
    }

    /// The largest |entry × `scale`| (NaN ignored; 0 if there is none) and the product of
    /// that magnitude, positive if both signs have it.
    fn extreme(&self, scale: f64) -> (f64, f64) {
        // Multiplying by `scale` is monotone, so the greatest and least products (NaN
        // ignored, as the summary ignores it) are `scale` times the greatest and least
        // entries, swapped if `scale` is negative; a NaN product here (∞ × 0, 0 × ∞) stands
        // for entries whose products are all NaN, or for none.
        let products = [scale * self.max, scale * self.min];
        let max_abs = products
            .iter()
            .filter(|p| !p.is_nan())
            .fold(0.0f64, |m, p| m.max(p.abs()));
        let extreme = if max_abs == 0.0 {
            0.0
        } else if products.contains(&max_abs) {
            max_abs
        } else {
            -max_abs
        };
        (max_abs, extreme)
    }

    /// The summary of the `entries` entries of this tile, each times `scale`: what
    /// [`BlockSummary`] gives for the values `scale × t`, provided no product of `scale`
    /// and a nonzero finite entry underflows to zero.
    fn scaled(&self, entries: usize, scale: f64) -> BlockSummary {
        let nonzero = if !scale.is_finite() {
            // ±∞ × 0 and anything × NaN are NaN: nonzero.
            entries
        } else if scale == 0.0 {
            self.nonfinite
        } else {
            entries - self.zeros
        };
        let (max_abs, extreme) = self.extreme(scale);
        BlockSummary {
            entries,
            structural: entries,
            nonzero,
            max_abs,
            extreme,
        }
    }
}

/// Exact summaries of every tile of one rank-2 tensor, for one tile size: the tiles start
/// at multiples of the tile size (those at the far edges are cut short).
#[derive(Debug, Clone, PartialEq)]
pub struct TileSummaries {
    /// Which of the bound formula's arrays.
    array: usize,
    /// The tensor's shape.
    shape: (usize, usize),
    /// Entries per tile: (rows, columns) of the tensor.
    tile: (usize, usize),
    /// Tiles per row of tiles.
    across: usize,
    /// The tiles, row-major.
    tiles: Vec<TileStats>,
    /// The least |entry| over the finite nonzero entries (∞ if there is none).
    least_nonzero: f64,
}

impl TileSummaries {
    /// The tensor's tile size: (rows, columns).
    pub fn tile(&self) -> (usize, usize) {
        self.tile
    }

    /// Bytes the summaries take.
    pub fn bytes(&self) -> usize {
        self.tiles.len() * std::mem::size_of::<TileStats>()
    }
}

impl SliceTensor {
    /// Which tensor of the bound formula the slice reads: slices of one problem with the
    /// same tensor share its [`TileSummaries`].
    pub fn tensor(&self) -> usize {
        self.array
    }

    /// The product of the constant factors.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The tensor's tile size for blocks of `block` entries of the slice (rows, columns).
    pub fn tile_for(&self, block: (usize, usize)) -> (usize, usize) {
        if self.transposed {
            (block.1, block.0)
        } else {
            block
        }
    }

    /// Summarises every tile of the tensor for blocks of `block` entries of the slice, on
    /// all rayon threads; advances `progress` by the entries read (after starting it at the
    /// tensor's size) and returns `None` soon after it is cancelled.
    pub fn summarize(&self, block: (usize, usize), progress: &Progress) -> Option<TileSummaries> {
        let (rows, cols) = (self.tensor.shape[0], self.tensor.shape[1]);
        let (tile_rows, tile_cols) = self.tile_for(block);
        assert!(tile_rows > 0 && tile_cols > 0, "tiles hold entries");
        progress.start((rows * cols) as u64);
        let across = cols.div_ceil(tile_cols);
        let data = self.tensor.data();
        let pieces: Option<Vec<(Vec<TileStats>, f64)>> = (0..rows.div_ceil(tile_rows))
            .into_par_iter()
            .map(|y| {
                if progress.is_cancelled() {
                    return None;
                }
                let mut tiles = vec![TileStats::EMPTY; across];
                let mut least = f64::INFINITY;
                for row in y * tile_rows..((y + 1) * tile_rows).min(rows) {
                    let values = &data[row * cols..(row + 1) * cols];
                    for (tile, chunk) in tiles.iter_mut().zip(values.chunks(tile_cols)) {
                        tile.add(chunk);
                    }
                    least = values
                        .iter()
                        .filter(|t| t.is_finite() && **t != 0.0)
                        .fold(least, |m, t| m.min(t.abs()));
                }
                progress.advance((tile_rows.min(rows - y * tile_rows) * cols) as u64);
                Some((tiles, least))
            })
            .collect();
        let pieces = pieces?;
        let least_nonzero = pieces.iter().fold(f64::INFINITY, |m, p| m.min(p.1));
        Some(TileSummaries {
            array: self.array,
            shape: (rows, cols),
            tile: (tile_rows, tile_cols),
            across,
            tiles: pieces.into_iter().flat_map(|p| p.0).collect(),
            least_nonzero,
        })
    }

    /// True if `tiles` summarise this slice's tensor and no product of the scale and a
    /// nonzero entry underflows to zero (the count of nonzeros then follows the tensor's).
    fn fits(&self, tiles: &TileSummaries) -> bool {
        let underflows = self.scale.is_finite()
            && self.scale != 0.0
            && self.scale.abs() * tiles.least_nonzero == 0.0;
        tiles.array == self.array
            && tiles.shape == (self.tensor.shape[0], self.tensor.shape[1])
            && !underflows
    }

    /// The summaries of the blocks of the slice (`row_blocks` × `col_blocks`, as
    /// [`Jacobian::slice_blocks`] takes them and gives them back) from `tiles`, if every
    /// block is a whole tile of `tiles` (after clipping to the slice) and the tiles fit
    /// this slice; `None` otherwise. Costs one tile per block.
    pub fn blocks(
        &self,
        tiles: &TileSummaries,
        row_blocks: &[Range<usize>],
        col_blocks: &[Range<usize>],
    ) -> Option<SliceBlocks> {
        if !self.fits(tiles) {
            return None;
        }
        let (rows, cols) = self.tile_for(tiles.shape);
        let (tile_rows, tile_cols) = self.tile_for(tiles.tile);
        // The tile of each block along one axis (`None` for a block beyond the axis).
        let tiles_of = |blocks: &[Range<usize>], len: usize, size: usize| {
            blocks
                .iter()
                .map(|b| {
                    let (start, end) = (b.start.min(len), b.end.min(len));
                    if start == end {
                        Some(None)
                    } else {
                        let whole = start % size == 0 && end == (start + size).min(len);
                        whole.then_some(Some(start / size))
                    }
                })
                .collect::<Option<Vec<Option<usize>>>>()
        };
        let row_tiles = tiles_of(row_blocks, rows, tile_rows)?;
        let col_tiles = tiles_of(col_blocks, cols, tile_cols)?;
        let width = col_blocks.len();
        let mut blocks = Vec::new();
        for (r, row_tile) in row_tiles.iter().enumerate() {
            let Some(y) = row_tile else { continue };
            for (c, col_tile) in col_tiles.iter().enumerate() {
                let Some(x) = col_tile else { continue };
                let (ty, tx) = self.tile_for((*y, *x));
                let entries = tile_len(ty, tiles.tile.0, tiles.shape.0)
                    * tile_len(tx, tiles.tile.1, tiles.shape.1);
                let summary = tiles.tiles[ty * tiles.across + tx].scaled(entries, self.scale);
                blocks.push((r * width + c, summary));
            }
        }
        Some(SliceBlocks { width, blocks })
    }

    /// The largest |value| of the whole slice from `tiles`, if they fit this slice.
    pub fn max_abs(&self, tiles: &TileSummaries) -> Option<f64> {
        self.fits(tiles).then(|| {
            tiles
                .tiles
                .iter()
                .fold(0.0f64, |m, t| m.max(t.extreme(self.scale).0))
        })
    }
}

/// Entries of tile `n` along an axis of `len` entries cut in tiles of `size`.
fn tile_len(n: usize, size: usize, len: usize) -> usize {
    ((n + 1) * size).min(len) - n * size
}

impl Jacobian {
    /// The slice over `axes` at `at` as one tensor times a constant, if it is one: exactly
    /// one term of the formula is present on the slice, its deltas do not involve the
    /// slice's axes (so it is structurally nonzero everywhere on it), and of its factors
    /// one rank-2 tensor reads the two axes and every other factor neither. Other slices
    /// (and slices where no term is present) give `None`. Costs the number of factors.
    /// Panics unless [`Self::check_slice`] accepts the arguments.
    pub fn slice_tensor(&self, axes: (usize, usize), at: &[usize]) -> Option<SliceTensor> {
        if let Err(e) = self.check_slice(axes, at) {
            panic!("invalid slice: {e}");
        }
        let on_slice = |p: usize| p == axes.0 || p == axes.1;
        let s = scratch(at);
        let mut present = self.bound.terms.iter().filter(|term| {
            term.conds.iter().all(|&cond| match cond {
                Cond::Equal(p, q) if on_slice(p) || on_slice(q) => true,
                Cond::Pin(p, _) if on_slice(p) => true,
                _ => cond.holds(&s),
            })
        });
        let term = present.next()?;
        if present.next().is_some() || !term.contractions.is_empty() {
            return None;
        }
        let moves = |&(p, stride): &(usize, usize)| stride != 0 && on_slice(p);
        if term.conds.iter().any(|&cond| match cond {
            Cond::Equal(p, q) => on_slice(p) || on_slice(q),
            Cond::Pin(p, _) => on_slice(p),
            Cond::Const(_) => false,
        }) {
            return None;
        }
        let mut scale = term.coeff;
        let mut reading = None;
        for read in &term.reads {
            if !read.axes.iter().any(moves) {
                // As the evaluation of a run forms it: the coefficient times the reads
                // that stay put, in order.
                scale *= read.value(&self.bound.arrays, &s);
            } else if reading.replace(read).is_some() {
                return None;
            }
        }
        let read = reading?;
        let tensor = &self.bound.arrays[read.array];
        let [(p, row_stride), (q, col_stride)] = read.axes;
        let (rows, cols) = (self.shape[axes.0], self.shape[axes.1]);
        let transposed = match (&tensor.shape[..], read.base) {
            (&[r, c], 0) if (p, q) == axes && (r, c) == (rows, cols) => false,
            (&[r, c], 0) if (q, p) == axes && (r, c) == (cols, rows) => true,
            _ => return None,
        };
        if (row_stride, col_stride) != (tensor.strides[0], tensor.strides[1]) {
            return None;
        }
        // Every entry of the slice lies in the support (the term is present everywhere).
        let slice_box = sparsity::slice_box(&self.shape, axes, at);
        if self.support.count_in_box(&slice_box) != (rows * cols) as u128 {
            return None;
        }
        Some(SliceTensor {
            array: read.array,
            tensor: tensor.clone(),
            transposed,
            scale,
        })
    }
}
