//! 2-D slices of J and their block summaries for a heat map.
//!
//! [`Jacobian::slice`] evaluates a slice at a cost proportional to its structural
//! nonzeros; [`Jacobian::slice_row`] and [`Jacobian::next_nonzero_in_slice`] one row at a
//! time; [`Jacobian::slice_blocks`] summarises the blocks of a slice exactly
//! ([`BlockSummary`]) without building it.

use std::ops::Range;

use rayon::prelude::*;

use super::Jacobian;
use crate::sparsity::{self, RunOverlap, SupportPattern};

/// Entries of a run evaluated at a time when summarising a slice.
const RUN_PIECE: usize = 1024;

/// Slices with at least this many structurally nonzero entries are summarised on all
/// rayon threads.
const PARALLEL_SLICE_ENTRIES: u128 = 1 << 16;

/// The summary of one block of a slice, exact over every entry the block holds (see
/// [`Jacobian::slice_blocks`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BlockSummary {
    /// Entries in the block.
    pub entries: usize,
    /// Structurally nonzero entries.
    pub structural: usize,
    /// Numerically nonzero entries (NaN counts as nonzero).
    pub nonzero: usize,
    /// The largest |value| (0 if every entry is zero; NaN is ignored).
    pub max_abs: f64,
    /// The value whose magnitude is `max_abs`, with its sign (positive if both signs
    /// occur; 0 if every entry is zero).
    pub extreme: f64,
}

impl BlockSummary {
    /// Adds structurally nonzero entries with these values.
    fn add_values(&mut self, values: &[f64]) {
        self.structural += values.len();
        let nonzero = values.iter().filter(|&&v| v != 0.0).count();
        // Four independent lanes, so that the comparisons do not wait on each other.
        let mut largest = [0.0f64; 4];
        let mut add = |lane: usize, v: f64| {
            if v.abs() > largest[lane] {
                largest[lane] = v.abs();
            }
        };
        let quads = values.chunks_exact(4);
        for (lane, &v) in quads.remainder().iter().enumerate() {
            add(lane, v);
        }
        for quad in quads {
            for (lane, &v) in quad.iter().enumerate() {
                add(lane, v);
            }
        }
        let max_abs = largest.iter().fold(0.0f64, |m, &x| m.max(x));
        self.nonzero += nonzero;
        if max_abs > 0.0 && max_abs >= self.max_abs {
            // The positive one of ±max_abs if both occur: the same whatever the order.
            let positive = values.contains(&max_abs);
            if max_abs > self.max_abs {
                self.max_abs = max_abs;
                self.extreme = if positive { max_abs } else { -max_abs };
            } else if positive {
                self.extreme = max_abs;
            }
        }
    }
}

/// The summaries of the blocks of a 2-D slice that hold structurally nonzero entries
/// (see [`Jacobian::slice_blocks`]); every other block is structurally zero.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SliceBlocks {
    /// The number of column blocks: block (r, c) has index `r * width + c`.
    pub width: usize,
    /// (index, summary) of every block with a structurally nonzero entry, by index.
    pub blocks: Vec<(usize, BlockSummary)>,
}

impl SliceBlocks {
    /// The summary of block (`row`, `col`), or `None` if it is structurally zero.
    pub fn get(&self, row: usize, col: usize) -> Option<&BlockSummary> {
        let index = row * self.width + col;
        let n = self.blocks.binary_search_by_key(&index, |&(k, _)| k).ok()?;
        Some(&self.blocks[n].1)
    }

    /// The largest |value| in the blocks (0 if there is none).
    pub fn max_abs(&self) -> f64 {
        self.blocks.iter().fold(0.0, |m, (_, b)| m.max(b.max_abs))
    }
}

/// Where the summaries of the blocks of some row blocks are collected: only the blocks
/// that receive entries, found through a table of one slot per block.
struct BlockSink<'a> {
    /// The blocks, with the rows of this sink.
    grid: BlockGrid<'a>,
    /// The index of this sink's first block in the whole slice.
    first_index: usize,
    /// Per block of this sink: its position in `blocks`, or `u32::MAX`.
    slots: &'a mut [u32],
    /// The blocks that received entries: (index in the whole slice, summary).
    blocks: Vec<(usize, BlockSummary)>,
}

impl BlockSink<'_> {
    /// The summary of block (`row`, `col`) of this sink's rows, created on first use.
    fn block(&mut self, row: usize, col: usize) -> &mut BlockSummary {
        let local = row * self.grid.cols.len() + col;
        if self.slots[local] == u32::MAX {
            self.slots[local] = u32::try_from(self.blocks.len()).expect("fewer than 2^32 blocks");
            let entries = self.grid.rows[row].len() * self.grid.cols[col].len();
            let summary = BlockSummary {
                entries,
                ..BlockSummary::default()
            };
            self.blocks.push((self.first_index + local, summary));
        }
        &mut self.blocks[self.slots[local] as usize].1
    }

    /// The collected blocks, by index.
    fn finish(mut self) -> Vec<(usize, BlockSummary)> {
        self.blocks.sort_unstable_by_key(|&(index, _)| index);
        self.blocks
    }
}

/// A run of entries of J: `index` with every axis in `axes` set to `first + d`.
struct Run<'a> {
    index: &'a [usize],
    axes: &'a [usize],
    first: usize,
}

impl Run<'_> {
    /// Component `axis` of entry `d`.
    fn along(&self, axis: usize, d: usize) -> usize {
        if self.axes.contains(&axis) {
            self.first + d
        } else {
            self.index[axis]
        }
    }
}

/// The blocks of a slice: row blocks along `axes.0`, column blocks along `axes.1`.
#[derive(Clone, Copy)]
struct BlockGrid<'a> {
    axes: (usize, usize),
    rows: &'a [Range<usize>],
    cols: &'a [Range<usize>],
}

/// The range from the first block's start to the last block's end (empty for no blocks).
fn span(blocks: &[Range<usize>]) -> Range<usize> {
    match (blocks.first(), blocks.last()) {
        (Some(first), Some(last)) if first.start < last.end => first.start..last.end,
        _ => 0..0,
    }
}

impl BlockGrid<'_> {
    /// The block of ascending, disjoint `blocks` that holds `position`, if any.
    fn block_of(blocks: &[Range<usize>], position: usize) -> Option<usize> {
        let n = blocks.partition_point(|b| b.end <= position);
        blocks.get(n).filter(|b| b.contains(&position)).map(|_| n)
    }

    /// Folds the values of a run into the blocks of `sink`, leaving out the entries that
    /// lie in one of the `earlier` patterns (already counted).
    fn fold(&self, run: &Run, values: &[f64], earlier: &[SupportPattern], sink: &mut BlockSink) {
        let len = values.len();
        let mut repeated: Vec<usize> = Vec::new();
        for pattern in earlier {
            match pattern.run_overlap(run.index, run.axes, run.first, len) {
                RunOverlap::All => return,
                RunOverlap::One(d) => repeated.push(d),
                RunOverlap::None => {}
            }
        }
        let rows_move = run.axes.contains(&self.axes.0);
        let cols_move = run.axes.contains(&self.axes.1);
        if !repeated.is_empty() || rows_move == cols_move {
            // Entry by entry: a diagonal run, or one with entries counted before.
            for (d, value) in values.iter().enumerate() {
                let row = Self::block_of(self.rows, run.along(self.axes.0, d));
                let col = Self::block_of(self.cols, run.along(self.axes.1, d));
                if let (Some(r), Some(c), false) = (row, col, repeated.contains(&d)) {
                    sink.block(r, c).add_values(std::slice::from_ref(value));
                }
            }
            return;
        }
        // Along one axis of the slice: the run crosses the blocks of that axis in order.
        let (fixed, moving) = if cols_move {
            (Self::block_of(self.rows, run.index[self.axes.0]), self.cols)
        } else {
            (Self::block_of(self.cols, run.index[self.axes.1]), self.rows)
        };
        let Some(fixed) = fixed else {
            return;
        };
        let end = run.first + len;
        let start = moving.partition_point(|b| b.end <= run.first);
        for (n, block) in moving.iter().enumerate().skip(start) {
            if block.start >= end {
                break;
            }
            let from = block.start.max(run.first) - run.first;
            let to = block.end.min(end) - run.first;
            let (row, col) = if cols_move { (fixed, n) } else { (n, fixed) };
            sink.block(row, col).add_values(&values[from..to]);
        }
    }
}

/// A 2-D slice of J: rows along one axis, columns along another, every other axis fixed.
#[derive(Debug, Clone, PartialEq)]
pub struct Slice {
    /// Number of rows (the length of the rows' axis).
    pub rows: usize,
    /// Number of columns (the length of the columns' axis).
    pub cols: usize,
    /// The values, row-major.
    pub values: Vec<f64>,
    /// Row-major: true where the entry is structurally nonzero (in some term's support).
    pub structural: Vec<bool>,
}

impl Jacobian {
    /// The 2-D slice of J with rows along `axes.0` and columns along `axes.1`, every other
    /// axis at its component of `at`. Only the structural support inside the slice is
    /// evaluated. Panics unless [`Self::check_slice`] accepts the arguments.
    pub fn slice(&self, axes: (usize, usize), at: &[usize]) -> Slice {
        if let Err(e) = self.check_slice(axes, at) {
            panic!("invalid slice: {e}");
        }
        let shape = self.shape();
        let (rows, cols) = (shape[axes.0], shape[axes.1]);
        let mut values = vec![0.0; rows * cols];
        let mut structural = vec![false; rows * cols];
        let ranges: Vec<Range<usize>> = sparsity::slice_box(&shape, axes, at);
        let mut run_values = vec![0.0; rows.max(cols)];
        for term in &self.bound.terms {
            term.pattern
                .for_each_run_in_box(&ranges, |index, run_axes, first, len| {
                    let run_values = &mut run_values[..len];
                    run_values.fill(0.0);
                    self.bound
                        .add_term_run(term, index, run_axes, first, run_values);
                    let along = |axis: usize, d: usize| {
                        if run_axes.contains(&axis) {
                            first + d
                        } else {
                            index[axis]
                        }
                    };
                    for (d, &v) in run_values.iter().enumerate() {
                        let cell = along(axes.0, d) * cols + along(axes.1, d);
                        structural[cell] = true;
                        values[cell] += v;
                    }
                });
        }
        Slice {
            rows,
            cols,
            values,
            structural,
        }
    }

    /// Exact summaries of the blocks of the 2-D slice of J with rows along `axes.0` and
    /// columns along `axes.1` (every other axis at its component of `at`), for a heat
    /// map: a [`BlockSummary`] for each (row block, column block) that holds a
    /// structurally nonzero entry; the other blocks are structurally zero.
    ///
    /// `row_blocks` and `col_blocks` must be ascending and disjoint (gaps are allowed;
    /// parts beyond the axis are ignored); only entries inside them are evaluated, so a
    /// zoomed-in view costs what it shows. The cost follows the structural support, not
    /// the slice or the grid: the support is visited in runs, each evaluated in pieces of
    /// at most 1024 entries and folded into its blocks, on all rayon threads when
    /// the slice is large; only a table of one `u32` per block is allocated besides the
    /// result. Every structurally nonzero entry counts once, so a lone nonzero always
    /// shows. The slice's largest |value| is [`SliceBlocks::max_abs`] of a call whose
    /// blocks cover it. Panics unless [`Self::check_slice`] accepts `axes` and `at`.
    pub fn slice_blocks(
        &self,
        axes: (usize, usize),
        at: &[usize],
        row_blocks: &[Range<usize>],
        col_blocks: &[Range<usize>],
    ) -> SliceBlocks {
        if let Err(e) = self.check_slice(axes, at) {
            panic!("invalid slice: {e}");
        }
        let clip = |blocks: &[Range<usize>], n: usize| -> Vec<Range<usize>> {
            blocks
                .iter()
                .map(|b| b.start.min(n)..b.end.min(n))
                .collect()
        };
        let row_blocks = clip(row_blocks, self.shape[axes.0]);
        let col_blocks = clip(col_blocks, self.shape[axes.1]);
        let width = col_blocks.len();
        let slice_box = sparsity::slice_box(&self.shape, axes, at);
        let patterns = self.support.patterns();
        // The summaries of the blocks of the row blocks `rows`, the first of which has
        // index `first_index`; `slots` has one entry per block of those rows.
        let fold_rows = |rows: &[Range<usize>], first_index: usize, slots: &mut [u32]| {
            let grid = BlockGrid {
                axes,
                rows,
                cols: &col_blocks,
            };
            let mut sink = BlockSink {
                grid,
                first_index,
                slots,
                blocks: Vec::new(),
            };
            let mut ranges = slice_box.clone();
            ranges[axes.0] = span(rows);
            ranges[axes.1] = span(&col_blocks);
            let mut values = vec![0.0; RUN_PIECE];
            for (n, pattern) in patterns.iter().enumerate() {
                pattern.for_each_run_in_box(&ranges, |index, run_axes, first, len| {
                    for from in (0..len).step_by(RUN_PIECE) {
                        let values = &mut values[..RUN_PIECE.min(len - from)];
                        let first = first + from;
                        self.bound.write_run(index, run_axes, first, values);
                        let run = Run {
                            index,
                            axes: run_axes,
                            first,
                        };
                        grid.fold(&run, values, &patterns[..n], &mut sink);
                    }
                });
            }
            sink.finish()
        };
        let mut slots = vec![u32::MAX; row_blocks.len() * width];
        let mut ranges = slice_box.clone();
        ranges[axes.0] = span(&row_blocks);
        ranges[axes.1] = span(&col_blocks);
        let work: u128 = patterns.iter().map(|p| p.count_in_box(&ranges)).sum();
        let blocks = if width == 0 || work == 0 {
            Vec::new()
        } else if work < PARALLEL_SLICE_ENTRIES {
            fold_rows(&row_blocks, 0, &mut slots)
        } else {
            // Pieces of whole rows of blocks, in order: each collects its own blocks.
            let per_piece = row_blocks.len().div_ceil(4 * rayon::current_num_threads());
            let pieces: Vec<Vec<(usize, BlockSummary)>> = slots
                .par_chunks_mut(per_piece * width)
                .zip(row_blocks.par_chunks(per_piece))
                .enumerate()
                .map(|(k, (slots, rows))| fold_rows(rows, k * per_piece * width, slots))
                .collect();
            pieces.concat()
        };
        SliceBlocks { width, blocks }
    }

    /// Row `row` of the 2-D slice over `axes` at `at` (see [`Self::slice`]) into `out`
    /// (one value per column, zero outside the structural support); returns false if the
    /// row has no structurally nonzero entry. Costs the row's structural support. Panics
    /// unless [`Self::check_slice`] accepts `axes` and `at`, `row` is in range and `out`
    /// has one entry per column.
    pub fn slice_row(
        &self,
        axes: (usize, usize),
        at: &[usize],
        row: usize,
        out: &mut [f64],
    ) -> bool {
        if let Err(e) = self.check_slice(axes, at) {
            panic!("invalid slice: {e}");
        }
        assert!(row < self.shape[axes.0] && out.len() == self.shape[axes.1]);
        out.fill(0.0);
        let mut ranges = sparsity::slice_box(&self.shape, axes, at);
        ranges[axes.0] = row..row + 1;
        let mut any = false;
        for term in &self.bound.terms {
            term.pattern
                .for_each_run_in_box(&ranges, |index, run_axes, first, len| {
                    any = true;
                    let start = if run_axes.contains(&axes.1) {
                        first
                    } else {
                        index[axes.1]
                    };
                    self.bound.add_term_run(
                        term,
                        index,
                        run_axes,
                        first,
                        &mut out[start..start + len],
                    );
                });
        }
        any
    }

    /// The next (or, if not `forward`, the previous) numerically nonzero entry of the 2-D
    /// slice over `axes` at `at` after `from` (row, column) in reading order, wrapping
    /// around (so `from` itself comes last); `None` if the slice has none. Evaluates one
    /// row at a time, skipping rows without structural support, with a buffer of one row.
    /// Panics as [`Self::slice_row`].
    pub fn next_nonzero_in_slice(
        &self,
        axes: (usize, usize),
        at: &[usize],
        from: (usize, usize),
        forward: bool,
    ) -> Option<(usize, usize)> {
        let (rows, cols) = (self.shape[axes.0], self.shape[axes.1]);
        let mut row_values = vec![0.0; cols];
        for k in 0..=rows {
            let row = if forward {
                (from.0 + k) % rows
            } else {
                (from.0 + rows - k % rows) % rows
            };
            if !self.slice_row(axes, at, row, &mut row_values) {
                continue;
            }
            let candidates = match (k, forward) {
                (0, true) => from.1 + 1..cols,
                (0, false) => 0..from.1,
                (_, true) if k == rows => 0..from.1 + 1,
                (_, false) if k == rows => from.1..cols,
                _ => 0..cols,
            };
            let nonzero = |&c: &usize| row_values[c] != 0.0;
            let found = if forward {
                candidates.clone().find(nonzero)
            } else {
                candidates.clone().rev().find(nonzero)
            };
            if let Some(col) = found {
                return Some((row, col));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::test_support::*;
    use super::*;
    use crate::calculus::{Factor, TensorDef};
    use crate::jacobian::Jacobian;

    #[test]
    fn every_slice_agrees_with_entries() {
        let (inputs, f) = mixed();
        let (jac, _) = jacobian(&inputs, f);
        let shape = jac.shape();
        for rows in 0..4 {
            for cols in 0..4 {
                if rows == cols {
                    continue;
                }
                for at in all_indices(&shape) {
                    let slice = jac.slice((rows, cols), &at);
                    assert_eq!((slice.rows, slice.cols), (shape[rows], shape[cols]));
                    for r in 0..slice.rows {
                        for c in 0..slice.cols {
                            let mut index = at.clone();
                            index[rows] = r;
                            index[cols] = c;
                            let cell = r * slice.cols + c;
                            assert!((slice.values[cell] - jac.entry(&index)).abs() < 1e-12);
                            assert_eq!(slice.structural[cell], jac.support().contains(&index));
                            if !slice.structural[cell] {
                                assert_eq!(slice.values[cell], 0.0);
                            }
                        }
                    }
                }
            }
        }
    }

    /// The block summaries of a slice computed from the dense slice, entry by entry.
    fn dense_blocks(
        jac: &Jacobian,
        axes: (usize, usize),
        at: &[usize],
        row_blocks: &[Range<usize>],
        col_blocks: &[Range<usize>],
    ) -> Vec<BlockSummary> {
        let slice = jac.slice(axes, at);
        let mut out = Vec::new();
        for rows in row_blocks {
            for cols in col_blocks {
                let mut block = BlockSummary {
                    entries: rows.len() * cols.len(),
                    ..BlockSummary::default()
                };
                for r in rows.clone() {
                    for c in cols.clone() {
                        let cell = r * slice.cols + c;
                        if slice.structural[cell] {
                            block.add_values(&[slice.values[cell]]);
                        }
                    }
                }
                out.push(block);
            }
        }
        out
    }

    /// Ascending, disjoint blocks over 0..n: cut at `cuts`, every `skip`-th block left out
    /// (a gap), the last one running past the end.
    fn some_blocks(n: usize, cuts: &[usize], skip: usize) -> Vec<Range<usize>> {
        let mut edges: Vec<usize> = cuts.iter().map(|c| c % (n + 1)).collect();
        edges.extend([0, n + 2]);
        edges.sort_unstable();
        edges.dedup();
        edges
            .windows(2)
            .enumerate()
            .filter(|(k, _)| skip == 0 || k % skip != skip - 1)
            .map(|(_, w)| w[0]..w[1])
            .collect()
    }

    /// Every block of `blocks` (row-major), the structurally zero ones included.
    fn densify(
        blocks: &SliceBlocks,
        rows: &[Range<usize>],
        cols: &[Range<usize>],
    ) -> Vec<BlockSummary> {
        assert_eq!(blocks.width, cols.len());
        let mut out = Vec::new();
        for (r, row) in rows.iter().enumerate() {
            for (c, col) in cols.iter().enumerate() {
                let empty = BlockSummary {
                    entries: row.len() * col.len(),
                    ..BlockSummary::default()
                };
                out.push(blocks.get(r, c).copied().unwrap_or(empty));
            }
        }
        assert_eq!(
            blocks.blocks.len(),
            out.iter().filter(|b| b.structural > 0).count(),
            "exactly the structurally nonzero blocks are listed"
        );
        out
    }

    fn assert_same_blocks(got: &[BlockSummary], expected: &[BlockSummary], what: &str) {
        assert_eq!(got.len(), expected.len(), "{what}");
        for (n, (g, e)) in got.iter().zip(expected).enumerate() {
            let counts = |b: &BlockSummary| (b.entries, b.structural, b.nonzero);
            assert_eq!(counts(g), counts(e), "{what}: block {n}");
            assert!(
                (g.max_abs - e.max_abs).abs() <= 1e-12 * e.max_abs,
                "{what}: block {n}"
            );
            assert!(
                (g.extreme.abs() - e.extreme.abs()).abs() <= 1e-12 * e.max_abs,
                "{what}"
            );
        }
    }

    #[test]
    fn slice_blocks_agree_with_the_dense_slice() {
        let (inputs, mut f) = mixed();
        // A second pattern overlapping the first (i = k and j = k): entries counted once.
        f.terms.push(term(
            3.0,
            &[],
            vec![Factor::Delta(J, K), tensor(3, &[J, L])],
        ));
        let (jac, _) = jacobian(&inputs, f);
        let shape = jac.shape();
        for rows in 0..4 {
            for cols in 0..4 {
                if rows == cols {
                    continue;
                }
                for at in all_indices(&shape) {
                    for (cuts, skip) in [(vec![], 0), (vec![1, 2], 0), (vec![1, 3, 4], 2)] {
                        let row_blocks = some_blocks(shape[rows], &cuts, skip);
                        let col_blocks = some_blocks(shape[cols], &cuts, skip + 1);
                        let got = jac.slice_blocks((rows, cols), &at, &row_blocks, &col_blocks);
                        let clip = |b: &[Range<usize>], n: usize| -> Vec<Range<usize>> {
                            b.iter().map(|r| r.start.min(n)..r.end.min(n)).collect()
                        };
                        let (row_blocks, col_blocks) = (
                            clip(&row_blocks, shape[rows]),
                            clip(&col_blocks, shape[cols]),
                        );
                        let got = densify(&got, &row_blocks, &col_blocks);
                        let expected =
                            dense_blocks(&jac, (rows, cols), &at, &row_blocks, &col_blocks);
                        assert_same_blocks(&got, &expected, &format!("{rows},{cols} at {at:?}"));
                    }
                }
            }
        }
    }

    #[test]
    fn rows_and_next_nonzeros_agree_with_the_dense_slice() {
        let (inputs, mut f) = mixed();
        f.terms.push(term(
            3.0,
            &[],
            vec![Factor::Delta(J, K), tensor(3, &[J, L])],
        ));
        let (jac, _) = jacobian(&inputs, f);
        for (rows, cols) in [(0, 1), (1, 3), (2, 3), (3, 0), (0, 2)] {
            for at in [[0, 0, 0, 0], [1, 2, 1, 4], [2, 1, 0, 3]] {
                let slice = jac.slice((rows, cols), &at);
                let mut row_values = vec![0.0; slice.cols];
                for r in 0..slice.rows {
                    let any = jac.slice_row((rows, cols), &at, r, &mut row_values);
                    let dense = &slice.values[r * slice.cols..(r + 1) * slice.cols];
                    let structural = &slice.structural[r * slice.cols..(r + 1) * slice.cols];
                    assert_eq!(any, structural.contains(&true));
                    for (got, expected) in row_values.iter().zip(dense) {
                        assert!((got - expected).abs() < 1e-12);
                    }
                }
                let len = slice.values.len();
                for from in [(0, 0), (1, 2), (slice.rows - 1, slice.cols - 1)] {
                    for forward in [true, false] {
                        let start = from.0 * slice.cols + from.1;
                        let expected = (1..=len)
                            .map(|step| {
                                if forward {
                                    (start + step) % len
                                } else {
                                    (start + len - step % len) % len
                                }
                            })
                            .find(|&n| slice.values[n] != 0.0)
                            .map(|n| (n / slice.cols, n % slice.cols));
                        let got = jac.next_nonzero_in_slice((rows, cols), &at, from, forward);
                        assert_eq!(got, expected, "{rows},{cols} at {at:?} from {from:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn runs_longer_than_a_piece_are_summarised_exactly() {
        // δ(i,k)·X[j,l] − δ(j,k)·X[i,l] with l of 2500: runs cross the evaluation pieces.
        let terms = vec![
            term(1.0, &[], vec![Factor::Delta(I, K), tensor(0, &[J, L])]),
            term(-1.0, &[], vec![Factor::Delta(J, K), tensor(0, &[I, L])]),
        ];
        let f = formula_over_ijkl(&[3, 3, 3, 2500, 1, 1], vec![TensorDef::Node(0)], terms);
        let mut x = filled(&[3, 2500], 9);
        x[[1, 1500]] = 0.0;
        let jac = Jacobian::from_node_values(graph(&[("X", &[3, 2500])]), 0, f, |_| &x).unwrap();
        let cols: Vec<Range<usize>> = (0..7).map(|b| 400 * b..400 * b + 357).collect();
        for at in [[1, 0, 1, 0], [0, 0, 2, 0], [2, 2, 2, 0]] {
            for axes in [(1, 3), (0, 3), (2, 3)] {
                let rows = some_blocks(3, &[1], 0);
                let got = jac.slice_blocks(axes, &at, &rows, &cols);
                let clipped: Vec<Range<usize>> = cols
                    .iter()
                    .map(|c| c.start.min(2500)..c.end.min(2500))
                    .collect();
                let got = densify(&got, &[0..1, 1..3], &clipped);
                let expected = dense_blocks(&jac, axes, &at, &[0..1, 1..3], &clipped);
                assert_same_blocks(&got, &expected, &format!("{axes:?} at {at:?}"));
            }
        }
    }

    #[test]
    fn large_slices_are_summarised_in_parallel_pieces_exactly() {
        // δ(i,k)·X[j,l] + 2·δ(j,k)·X[i,l] with a (j,l) slice of 300×1000 entries: above the
        // parallel threshold, with a lone nonzero in an otherwise zero block.
        let terms = vec![
            term(1.0, &[], vec![Factor::Delta(I, K), tensor(0, &[J, L])]),
            term(2.0, &[], vec![Factor::Delta(J, K), tensor(0, &[I, L])]),
        ];
        let f = formula_over_ijkl(
            &[300, 300, 300, 1000, 1, 1],
            vec![TensorDef::Node(0)],
            terms,
        );
        let mut x = filled(&[300, 1000], 5);
        for row in 6..9 {
            x.index_axis_mut(ndarray::Axis(0), row).fill(0.0);
        }
        x[[7, 999]] = -5.0;
        let jac = Jacobian::from_node_values(graph(&[("X", &[300, 1000])]), 0, f, |_| &x).unwrap();
        let row_blocks: Vec<Range<usize>> = (0..100).map(|b| 3 * b..3 * b + 3).collect();
        let col_blocks: Vec<Range<usize>> = (0..200).map(|b| 5 * b..5 * b + 5).collect();
        for at in [[4, 0, 4, 0], [4, 0, 9, 0]] {
            let got = jac.slice_blocks((1, 3), &at, &row_blocks, &col_blocks);
            let got = densify(&got, &row_blocks, &col_blocks);
            let expected = dense_blocks(&jac, (1, 3), &at, &row_blocks, &col_blocks);
            assert_same_blocks(&got, &expected, &format!("at {at:?}"));
        }
        let lone = jac.slice_blocks((1, 3), &[4, 0, 4, 0], &row_blocks, &col_blocks);
        let block = lone.get(2, 199).unwrap();
        assert_eq!((block.nonzero, block.extreme), (1, -5.0));
        // |X| < 1 elsewhere, and 3·|X[4,l]| < 3 where both terms meet.
        assert_eq!(lone.max_abs(), 5.0);
    }

    #[test]
    fn the_default_example_is_instant() {
        let (jac, _) = problem(
            "X @ W.T",
            &[("X", "64x1024"), ("W", "512x1024")],
            "X",
            BTreeMap::new(),
        );
        let start = std::time::Instant::now();
        assert_eq!(sparsity::structural_count(jac.formula()), 33_554_432);
        assert!(start.elapsed().as_millis() < 20);
        let slice = jac.slice((2, 3), &[5, 7, 0, 0]);
        assert_eq!(slice.structural.iter().filter(|&&s| s).count(), 1024);
        assert!(slice.structural[5 * 1024..6 * 1024].iter().all(|&s| s));
    }
}
