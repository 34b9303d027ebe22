//! The adapter between the Jacobian and the heat map: which 2-D slices J has, what is kept
//! of a slice (its size and largest |value|), caching recent ones, and summarising the
//! visible part into a [`HeatGrid`] through [`Jacobian::slice_blocks`], which costs the
//! structural support on screen, never the slice's size. A large view of a slice that is
//! one tensor times a constant ([`Jacobian::slice_tensor`], the seed's (j,l) slice) is
//! answered from the summaries of the tensor's tiles of the view's block size once they
//! are built ([`TileStore`]): built off the UI thread the first time that view is shown,
//! shared by every slice reading the tensor.
//!
//! Nothing here differentiates: values and structure come from `jacobian` and `sparsity`.

use std::sync::{Arc, Mutex, OnceLock};

use super::jobs::{Job, JobState};
use crate::jacobian::{Jacobian, SliceTensor, TileSummaries};

use crate::picture::grid::{self, HeatGrid, Viewport};

/// How many recent slices are kept.
const CACHE_SIZE: usize = 8;

/// Views with fewer entries than this are summarised entry by entry (about a millisecond),
/// not from tiles.
const TILED_ENTRIES: usize = 1 << 20;

/// Blocks of fewer entries than this are not summarised as tiles: the summaries would be
/// about as large as the tensor.
const MIN_TILE_ENTRIES: usize = 16;

/// How many tile summaries are kept (one per tensor and block size).
const KEPT_TILES: usize = 6;

/// The tile summaries of one tensor at one tile size: being built, or built.
#[derive(Debug)]
enum Tiles {
    /// Being built off the UI thread.
    Building(Job<Option<TileSummaries>>),
    /// Built.
    Ready(Arc<TileSummaries>),
    /// The build failed or was stopped: the view keeps the entry-by-entry path.
    Failed,
}

/// Which tile summaries: (the tensor, the tile size).
type TilesKey = (usize, (usize, usize));

/// The tile summaries of the tensors the slices of one problem read, by (tensor, tile
/// size), most recently used first.
#[derive(Debug, Default)]
pub struct TileStore {
    levels: Mutex<Vec<(TilesKey, Tiles)>>,
}

impl TileStore {
    /// The tile summaries of `tensor` for blocks of `block` entries of its slice, if they
    /// are built; the first time they are asked for, starts building them off the UI
    /// thread.
    pub fn get(&self, tensor: &SliceTensor, block: (usize, usize)) -> Option<Arc<TileSummaries>> {
        let key = (tensor.tensor(), tensor.tile_for(block));
        let mut levels = self.levels.lock().ok()?;
        let (_, mut tiles) = match levels.iter().position(|(k, _)| *k == key) {
            Some(n) => levels.remove(n),
            None => {
                let tensor = tensor.clone();
                let job = Job::spawn("summarising tiles", move |progress| {
                    tensor.summarize(block, progress)
                });
                (key, Tiles::Building(job))
            }
        };
        if let Tiles::Building(job) = &tiles {
            match job.poll() {
                JobState::Running => {}
                JobState::Finished(Some(built)) => tiles = Tiles::Ready(Arc::new(built)),
                JobState::Finished(None) | JobState::Failed => tiles = Tiles::Failed,
            }
        }
        let ready = match &tiles {
            Tiles::Ready(built) => Some(Arc::clone(built)),
            _ => None,
        };
        levels.insert(0, (key, tiles));
        levels.truncate(KEPT_TILES);
        ready
    }
}

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

/// What is kept of a slice between frames.
#[derive(Debug)]
pub enum SliceData {
    /// A slice over two axes: summarised block by block on demand.
    Matrix {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
        /// The largest |value| of the whole slice, once known.
        max_abs: OnceLock<f64>,
        /// The slice as one tensor times a constant, if it is one.
        tensor: Option<SliceTensor>,
        /// The tile summaries of the problem's tensors.
        tiles: Arc<TileStore>,
    },
    /// The single row of a J of rank 0 or 1, every value evaluated.
    Row {
        /// The values.
        values: Vec<f64>,
        /// Structural support.
        structural: Vec<bool>,
        /// The largest |value|.
        max_abs: f64,
    },
}

impl SliceData {
    /// What is kept of the slice `key` of `jacobian`: a matrix slice costs nothing until it
    /// is drawn (its tile summaries, if it has any, come from `tiles`); the row of a J of
    /// rank 0 or 1 is evaluated entry by entry.
    pub fn fetch(jacobian: &Jacobian, key: &SliceKey, tiles: &Arc<TileStore>) -> SliceData {
        let (rows, cols) = key.axes.dims(&jacobian.shape());
        if key.axes.rows.is_some() {
            return SliceData::Matrix {
                rows,
                cols,
                max_abs: OnceLock::new(),
                tensor: jacobian.slice_tensor(matrix_axes(key), &key.at),
                tiles: Arc::clone(tiles),
            };
        }
        let mut index = key.at.clone();
        let (values, structural): (Vec<f64>, Vec<bool>) = (0..cols)
            .map(|col| {
                key.axes.place(&mut index, (0, col));
                (jacobian.entry(&index), jacobian.support().contains(&index))
            })
            .unzip();
        let max_abs = grid::max_abs(&values);
        SliceData::Row {
            values,
            structural,
            max_abs,
        }
    }

    /// The slice's size: (rows, columns).
    pub fn dims(&self) -> (usize, usize) {
        match self {
            SliceData::Matrix { rows, cols, .. } => (*rows, *cols),
            SliceData::Row { values, .. } => (1, values.len()),
        }
    }

    /// The on-screen blocks of this slice, each summarised over every entry it holds. The
    /// colours are relative to the whole slice's largest |value|, found the first time a
    /// zoomed-in grid needs it (at zoom 0 the grid itself covers the slice). A large view
    /// of a slice that is one tensor times a constant comes from tile summaries once they
    /// are built (asking for them starts their build).
    pub fn grid(&self, jacobian: &Jacobian, key: &SliceKey, viewport: Viewport) -> HeatGrid {
        let (max_abs, tensor, tiles) = match self {
            SliceData::Row {
                values,
                structural,
                max_abs,
            } => return HeatGrid::aggregate(values, structural, viewport, *max_abs),
            SliceData::Matrix {
                max_abs,
                tensor,
                tiles,
                ..
            } => (max_abs, tensor, tiles),
        };
        let (span_rows, span_cols) = viewport.span();
        let shown = span_rows.min(viewport.rows) * span_cols.min(viewport.cols);
        let block = viewport.block;
        if let Some(tensor) = tensor
            && shown >= TILED_ENTRIES
            && block.0 * block.1 >= MIN_TILE_ENTRIES
            && let Some(built) = tiles.get(tensor, block)
            && let Some(grid) =
                HeatGrid::of_tiled_slice(tensor, &built, viewport, max_abs.get().copied())
        {
            max_abs.get_or_init(|| grid.slice_max_abs);
            return grid;
        }
        let grid = HeatGrid::of_slice(
            jacobian,
            matrix_axes(key),
            &key.at,
            viewport,
            max_abs.get().copied(),
        );
        max_abs.get_or_init(|| grid.slice_max_abs);
        grid
    }

    /// The next (or previous) numerically nonzero entry after `from` in reading order,
    /// wrapping around; `None` if the slice has none.
    pub fn next_nonzero(
        &self,
        jacobian: &Jacobian,
        key: &SliceKey,
        from: (usize, usize),
        forward: bool,
    ) -> Option<(usize, usize)> {
        let values = match self {
            SliceData::Matrix { .. } => {
                return jacobian.next_nonzero_in_slice(matrix_axes(key), &key.at, from, forward);
            }
            SliceData::Row { values, .. } => values,
        };
        let len = values.len();
        (1..=len)
            .map(|step| {
                if forward {
                    (from.1 + step) % len
                } else {
                    (from.1 + len - step % len) % len
                }
            })
            .find(|&at| values[at] != 0.0)
            .map(|at| (0, at))
    }
}

/// The two axes of a matrix slice.
fn matrix_axes(key: &SliceKey) -> (usize, usize) {
    match (key.axes.rows, key.axes.cols) {
        (Some(rows), Some(cols)) => (rows, cols),
        _ => unreachable!("a matrix slice has two axes"),
    }
}

/// The most recently used slices of one problem.
#[derive(Debug, Default)]
pub struct SliceCache {
    recent: Vec<(SliceKey, Arc<SliceData>)>,
    /// The tile summaries the slices share.
    tiles: Arc<TileStore>,
}

impl SliceCache {
    /// The slice `key`, fetched if it is not cached.
    pub fn get(&mut self, jacobian: &Jacobian, key: &SliceKey) -> Arc<SliceData> {
        let data = match self.recent.iter().position(|(k, _)| k == key) {
            Some(n) => self.recent.remove(n).1,
            None => Arc::new(SliceData::fetch(jacobian, key, &self.tiles)),
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

    /// The block summaries of a matrix slice count the same entries, with the same largest
    /// values, as the dense slice from `Jacobian::slice`.
    #[test]
    fn grids_count_like_the_dense_slice() {
        use crate::problem::{Problem, ProblemSpec};
        let spec = ProblemSpec {
            expression: "relu(X @ W.T)".into(),
            shapes: vec!["X=6x8".into(), "W=5x8".into()],
            loads: Vec::new(),
            wrt: None,
            seed: 3,
            max_memory: None,
        };
        let jacobian = Problem::build(spec).unwrap().jacobian;
        for (pair, at) in [(1, [2, 3, 0, 5]), (5, [1, 0, 0, 0]), (0, [0, 0, 4, 4])] {
            let axes = SliceAxes::all(4)[pair];
            let key = SliceKey::through(axes, &at);
            let (a, b) = (axes.rows.unwrap(), axes.cols.unwrap());
            let dense = jacobian.slice((a, b), &key.at);
            let data = SliceData::fetch(&jacobian, &key, &Arc::default());
            let (rows, cols) = data.dims();
            let viewport = Viewport::fit(rows, cols, 3, 2);
            let expected = HeatGrid::aggregate(
                &dense.values,
                &dense.structural,
                viewport,
                grid::max_abs(&dense.values),
            );
            assert_eq!(
                data.grid(&jacobian, &key, viewport),
                expected,
                "{pair} {at:?}"
            );
        }
    }

    /// A large view of the seed layer's (j,l) slice (W itself) is answered from tiles once
    /// they are built, at every zoom and scroll, with the grid the entry-by-entry path
    /// gives; other slices keep that path.
    #[test]
    fn large_views_of_one_tensor_come_from_tiles_alike() {
        use crate::problem::{Problem, ProblemSpec};
        let spec = ProblemSpec::default_example(&["X=3x1024".into(), "W=1024x1024".into()], 5);
        let jacobian = Problem::build(spec).unwrap().jacobian;
        let mut cache = SliceCache::default();
        let key = SliceKey::through(SliceAxes::all(4)[4], &[2, 0, 2, 0]);
        assert_eq!(key.axes.label(&jacobian.axis_names()), "j,l");
        let data = cache.get(&jacobian, &key);
        let SliceData::Matrix {
            tensor: Some(tensor),
            tiles,
            ..
        } = &*data
        else {
            panic!("the (j,l) slice at i = k is W")
        };
        let fit = Viewport::fit(1024, 1024, 60, 25);
        let mut zoomed = fit;
        zoomed.set_zoom(1, (700, 300));
        for viewport in [fit, zoomed] {
            let expected = HeatGrid::of_slice(&jacobian, (1, 3), &key.at, viewport, None);
            // The first view starts the build and is summarised entry by entry.
            assert_eq!(data.grid(&jacobian, &key, viewport), expected);
            let start = std::time::Instant::now();
            let built = loop {
                if let Some(built) = tiles.get(tensor, viewport.block) {
                    break built;
                }
                assert!(start.elapsed().as_secs() < 120, "the tiles are built");
                std::thread::sleep(std::time::Duration::from_millis(10));
            };
            let tiled = HeatGrid::of_tiled_slice(tensor, &built, viewport, None);
            assert_eq!(tiled.as_ref(), Some(&expected), "the tiles answer the view");
            assert_eq!(data.grid(&jacobian, &key, viewport), expected);
        }
        // Through i ≠ k the slice is empty: not one tensor.
        let empty = SliceKey::through(SliceAxes::all(4)[4], &[2, 0, 1, 0]);
        let data = cache.get(&jacobian, &empty);
        assert!(matches!(&*data, SliceData::Matrix { tensor: None, .. }));
        let grid = data.grid(&jacobian, &empty, fit);
        assert!(grid.blocks.iter().flatten().all(|b| b.structural == 0));
    }

    /// Zoomed in, the colours stay relative to the whole slice's largest |value|.
    #[test]
    fn zoomed_grids_know_the_whole_slices_largest_value() {
        use crate::problem::{Problem, ProblemSpec};
        let spec = ProblemSpec::default_example(&["X=6x8".into(), "W=5x8".into()], 0);
        let jacobian = Problem::build(spec).unwrap().jacobian;
        let key = SliceKey::through(SliceAxes::all(4)[5], &[0, 0, 0, 0]);
        let dense = jacobian.slice((2, 3), &key.at);
        let data = SliceData::fetch(&jacobian, &key, &Arc::default());
        let mut viewport = Viewport::fit(6, 8, 2, 2);
        viewport.set_zoom(2, (0, 0));
        let grid = data.grid(&jacobian, &key, viewport);
        assert_eq!(grid.slice_max_abs, grid::max_abs(&dense.values));
    }

    #[test]
    fn next_nonzero_in_a_row_wraps() {
        use crate::problem::{Problem, ProblemSpec};
        let spec = ProblemSpec {
            expression: "sum(relu(x) * x)".into(),
            shapes: vec!["x=6".into()],
            loads: Vec::new(),
            wrt: None,
            seed: 0,
            max_memory: None,
        };
        let problem = Problem::build(spec).unwrap();
        let x = problem.inputs.get("x").unwrap().clone();
        let jacobian = problem.jacobian;
        let key = SliceKey::through(SliceAxes::all(1)[0], &[0]);
        let data = SliceData::fetch(&jacobian, &key, &Arc::default());
        let positive: Vec<usize> = (0..6).filter(|&n| x[[n].as_slice()] > 0.0).collect();
        assert!(!positive.is_empty() && positive.len() < 6, "{x}");
        let first = positive[0];
        let last = *positive.last().unwrap();
        assert_eq!(
            data.next_nonzero(&jacobian, &key, (0, last), true),
            Some((0, first))
        );
        assert_eq!(
            data.next_nonzero(&jacobian, &key, (0, first), false),
            Some((0, last))
        );
    }
}
