//! The adapter between the Jacobian and the heat map: which 2-D slices J has, fetching a
//! slice (through [`Jacobian::slice`]), caching recent ones, and aggregating the visible
//! part into a [`HeatGrid`].
//!
//! Nothing here differentiates: values and structure come from `jacobian` and `sparsity`.

use std::sync::Arc;

use crate::jacobian::Jacobian;

use super::heatmap::{HeatGrid, Viewport};

/// Slices with more entries than this are not evaluated: their heat map is drawn from exact
/// structural block counts alone.
pub const DENSE_LIMIT: usize = 1 << 22;

/// How many recent slices are kept.
const CACHE_SIZE: usize = 8;

/// The axes of J a slice spans. A J of rank 0 or 1 has a single "slice" with one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SliceAxes {
    /// The axis along the rows, if any.
    pub rows: Option<usize>,
    /// The axis along the columns, if any.
    pub cols: Option<usize>,
}

impl SliceAxes {
    /// Every pair of J's axes (rows before columns in axis order), for a J of `rank` axes.
    pub fn all(rank: usize) -> Vec<SliceAxes> {
        match rank {
            0 => vec![SliceAxes {
                rows: None,
                cols: None,
            }],
            1 => vec![SliceAxes {
                rows: None,
                cols: Some(0),
            }],
            _ => (0..rank)
                .flat_map(|a| {
                    (a + 1..rank).map(move |b| SliceAxes {
                        rows: Some(a),
                        cols: Some(b),
                    })
                })
                .collect(),
        }
    }

    /// The pair shown first: J's last two axes (for `∂Y[i,j]/∂X[k,l]`, the (k,l) slice: what
    /// one output entry depends on).
    pub fn default_index(rank: usize) -> usize {
        SliceAxes::all(rank).len() - 1
    }

    /// True if `axis` is one of the slice's axes.
    pub fn spans(&self, axis: usize) -> bool {
        self.rows == Some(axis) || self.cols == Some(axis)
    }

    /// The slice's size: (rows, columns).
    pub fn dims(&self, shape: &[usize]) -> (usize, usize) {
        (
            self.rows.map_or(1, |a| shape[a]),
            self.cols.map_or(1, |a| shape[a]),
        )
    }

    /// Where `index` lies in the slice: (row, column).
    pub fn position(&self, index: &[usize]) -> (usize, usize) {
        (
            self.rows.map_or(0, |a| index[a]),
            self.cols.map_or(0, |a| index[a]),
        )
    }

    /// `index` moved to (row, column) of the slice.
    pub fn place(&self, index: &mut [usize], (row, col): (usize, usize)) {
        if let Some(a) = self.rows {
            index[a] = row;
        }
        if let Some(a) = self.cols {
            index[a] = col;
        }
    }

    /// The axes not in the slice, in axis order.
    pub fn fixed_axes(&self, rank: usize) -> Vec<usize> {
        (0..rank).filter(|&a| !self.spans(a)).collect()
    }

    /// `k,l` for the help and the title.
    pub fn label(&self, names: &[String]) -> String {
        match (self.rows, self.cols) {
            (Some(a), Some(b)) => format!("{},{}", names[a], names[b]),
            (None, Some(b)) => names[b].clone(),
            _ => "the single entry".to_string(),
        }
    }
}

/// Which slice: its axes, and the index of every other axis (slice axes set to 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceKey {
    /// The slice's axes.
    pub axes: SliceAxes,
    /// A full index of J with the slice's own axes at 0.
    pub at: Vec<usize>,
}

impl SliceKey {
    /// The slice through `index` along `axes`.
    pub fn through(axes: SliceAxes, index: &[usize]) -> SliceKey {
        let mut at = index.to_vec();
        axes.place(&mut at, (0, 0));
        SliceKey { axes, at }
    }
}

/// What is known about a slice.
#[derive(Debug, Clone, PartialEq)]
pub enum SliceData {
    /// Every value, and where J is structurally nonzero (row-major).
    Dense {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
        /// The values.
        values: Vec<f64>,
        /// Structural support.
        structural: Vec<bool>,
        /// The largest |value|.
        max_abs: f64,
    },
    /// Too large to evaluate: the heat map uses exact structural counts.
    StructureOnly {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
}

impl SliceData {
    /// Fetches the slice `key` of `jacobian`.
    pub fn fetch(jacobian: &Jacobian, key: &SliceKey) -> SliceData {
        let (rows, cols) = key.axes.dims(&jacobian.shape());
        if rows.saturating_mul(cols) > DENSE_LIMIT {
            return SliceData::StructureOnly { rows, cols };
        }
        let (values, structural) = match (key.axes.rows, key.axes.cols) {
            (Some(a), Some(b)) => {
                let slice = jacobian.slice((a, b), &key.at);
                (slice.values, slice.structural)
            }
            // J of rank 0 or 1: one row, read entry by entry.
            _ => {
                let mut index = key.at.clone();
                (0..cols)
                    .map(|col| {
                        key.axes.place(&mut index, (0, col));
                        (jacobian.entry(&index), jacobian.support().contains(&index))
                    })
                    .unzip()
            }
        };
        let max_abs = super::heatmap::max_abs(&values);
        SliceData::Dense {
            rows,
            cols,
            values,
            structural,
            max_abs,
        }
    }

    /// The slice's size: (rows, columns).
    pub fn dims(&self) -> (usize, usize) {
        match self {
            SliceData::Dense { rows, cols, .. } | SliceData::StructureOnly { rows, cols } => {
                (*rows, *cols)
            }
        }
    }

    /// The on-screen blocks of this slice.
    pub fn grid(&self, jacobian: &Jacobian, key: &SliceKey, viewport: Viewport) -> HeatGrid {
        match self {
            SliceData::Dense {
                values,
                structural,
                max_abs,
                ..
            } => HeatGrid::aggregate(values, structural, viewport, *max_abs),
            SliceData::StructureOnly { .. } => {
                let (row_blocks, col_blocks) = HeatGrid::block_ranges(&viewport);
                let axes = (
                    key.axes.rows.expect("only 2-D slices are this large"),
                    key.axes.cols.expect("only 2-D slices are this large"),
                );
                let counts =
                    jacobian
                        .support()
                        .block_counts(axes, &key.at, &row_blocks, &col_blocks);
                HeatGrid::from_structural_counts(&counts, viewport)
            }
        }
    }

    /// The next (or previous) numerically nonzero entry after `from` in reading order,
    /// wrapping around; `None` if the slice has none or is not evaluated.
    pub fn next_nonzero(&self, from: (usize, usize), forward: bool) -> Option<(usize, usize)> {
        let SliceData::Dense { cols, values, .. } = self else {
            return None;
        };
        let len = values.len();
        let start = from.0 * cols + from.1;
        (1..=len)
            .map(|step| {
                if forward {
                    (start + step) % len
                } else {
                    (start + len - step % len) % len
                }
            })
            .find(|&at| values[at] != 0.0)
            .map(|at| (at / cols, at % cols))
    }
}

/// The most recently used slices of one problem.
#[derive(Debug, Default)]
pub struct SliceCache {
    recent: Vec<(SliceKey, Arc<SliceData>)>,
}

impl SliceCache {
    /// The slice `key`, fetched if it is not cached.
    pub fn get(&mut self, jacobian: &Jacobian, key: &SliceKey) -> Arc<SliceData> {
        let data = match self.recent.iter().position(|(k, _)| k == key) {
            Some(n) => self.recent.remove(n).1,
            None => Arc::new(SliceData::fetch(jacobian, key)),
        };
        self.recent.insert(0, (key.clone(), Arc::clone(&data)));
        self.recent.truncate(CACHE_SIZE);
        data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pair_for_every_rank() {
        assert_eq!(SliceAxes::all(0).len(), 1);
        assert_eq!(SliceAxes::all(1).len(), 1);
        assert_eq!(SliceAxes::all(2).len(), 1);
        assert_eq!(SliceAxes::all(3).len(), 3);
        let four = SliceAxes::all(4);
        assert_eq!(four.len(), 6);
        let default = four[SliceAxes::default_index(4)];
        assert_eq!((default.rows, default.cols), (Some(2), Some(3)));
        assert_eq!(default.fixed_axes(4), [0, 1]);
        let names: Vec<String> = ["i", "j", "k", "l"].map(String::from).to_vec();
        assert_eq!(four[1].label(&names), "i,k");
    }

    #[test]
    fn keys_ignore_the_position_inside_the_slice() {
        let axes = SliceAxes::all(4)[5];
        assert_eq!(
            SliceKey::through(axes, &[1, 2, 3, 4]),
            SliceKey::through(axes, &[1, 2, 0, 9])
        );
        assert_ne!(
            SliceKey::through(axes, &[1, 2, 3, 4]),
            SliceKey::through(axes, &[0, 2, 3, 4])
        );
    }

    /// The structure-only grid of a slice too large to evaluate counts the same structural
    /// entries per block as the evaluated slice.
    #[test]
    fn structure_only_grids_count_like_dense_ones() {
        use crate::problem::{Problem, ProblemSpec};
        let spec = ProblemSpec::default_example(&["X=6x8".into(), "W=5x8".into()], 0);
        let jacobian = Problem::build(spec).unwrap().jacobian;
        for (pair, at) in [(1, [2, 3, 0, 5]), (5, [1, 0, 0, 0]), (0, [0, 0, 4, 4])] {
            let axes = SliceAxes::all(4)[pair];
            let key = SliceKey::through(axes, &at);
            let dense = SliceData::fetch(&jacobian, &key);
            let (rows, cols) = dense.dims();
            let structure = SliceData::StructureOnly { rows, cols };
            let viewport = Viewport::fit(rows, cols, 3, 2);
            let a = dense.grid(&jacobian, &key, viewport);
            let b = structure.grid(&jacobian, &key, viewport);
            assert!(!b.values_known);
            let counts = |g: &HeatGrid| -> Vec<Option<(usize, usize)>> {
                g.blocks
                    .iter()
                    .map(|b| b.map(|b| (b.entries, b.structural)))
                    .collect()
            };
            assert_eq!(counts(&a), counts(&b), "pair {pair} at {at:?}");
        }
    }

    #[test]
    fn next_nonzero_in_reading_order_wraps() {
        let data = SliceData::Dense {
            rows: 2,
            cols: 3,
            values: vec![0.0, 1.0, 0.0, 0.0, 0.0, 2.0],
            structural: vec![true; 6],
            max_abs: 2.0,
        };
        assert_eq!(data.next_nonzero((0, 1), true), Some((1, 2)));
        assert_eq!(data.next_nonzero((1, 2), true), Some((0, 1)));
        assert_eq!(data.next_nonzero((0, 1), false), Some((1, 2)));
        assert_eq!(data.next_nonzero((1, 0), false), Some((0, 1)));
        let zeros = SliceData::Dense {
            rows: 1,
            cols: 2,
            values: vec![0.0; 2],
            structural: vec![false; 2],
            max_abs: 0.0,
        };
        assert_eq!(zeros.next_nonzero((0, 0), true), None);
    }
}
