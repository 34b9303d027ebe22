//! The evaluation primitives of a bound formula: row-major tensors of rank 0–2 shared with
//! the node values, deltas as index comparisons, strided reads, and contractions summed
//! over their summation indices for given components of J's index.

use std::sync::Arc;

use ndarray::{ArrayD, ArrayView2, ArrayViewD, IxDyn};

/// Most axes J can have: two of Y's and two of X's, and at second order (`--wrt A,B`) two
/// of B's.
pub(super) const MAX_AXES: usize = 6;

/// The components of J's index.
pub(super) type Scratch = [usize; MAX_AXES];

/// `index` (J's components) in a scratch index.
pub(super) fn scratch(index: &[usize]) -> Scratch {
    let mut s = [0; MAX_AXES];
    s[..index.len()].copy_from_slice(index);
    s
}

/// A row-major tensor of rank 0–2 with its strides; node values are shared, not copied.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Dense {
    /// The shape.
    pub(super) shape: Vec<usize>,
    /// The row-major strides, in entries.
    pub(super) strides: Vec<usize>,
    array: Arc<ArrayD<f64>>,
}

impl Dense {
    /// `array` itself if it is in standard layout (every value [`eval`](crate::eval)
    /// computes is), else a row-major copy.
    pub(super) fn shared(array: Arc<ArrayD<f64>>) -> Dense {
        let array = if array.is_standard_layout() {
            array
        } else {
            Arc::new(array.as_standard_layout().into_owned())
        };
        let shape = array.shape().to_vec();
        let mut strides = vec![1; shape.len()];
        for axis in (0..shape.len().saturating_sub(1)).rev() {
            strides[axis] = strides[axis + 1] * shape[axis + 1];
        }
        Dense {
            shape,
            strides,
            array,
        }
    }

    /// A tensor of shape `shape` from its row-major data.
    pub(super) fn new(shape: Vec<usize>, data: Vec<f64>) -> Dense {
        let array = ArrayD::from_shape_vec(IxDyn(&shape), data).expect("shape matches data");
        Dense::shared(Arc::new(array))
    }

    /// The row-major data.
    pub(super) fn data(&self) -> &[f64] {
        self.array.as_slice().expect("standard layout")
    }

    /// The tensor as an array view.
    pub(super) fn view(&self) -> ArrayViewD<'_, f64> {
        self.array.view()
    }

    /// The tensor as a matrix (rank 2 only).
    pub(super) fn matrix(&self) -> ArrayView2<'_, f64> {
        ArrayView2::from_shape((self.shape[0], self.shape[1]), self.data())
            .expect("shape matches data")
    }
}

/// A delta as an index comparison; positions index J's components followed by the
/// summation indices of a contraction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Cond {
    /// The components at two positions are equal.
    Equal(usize, usize),
    /// The component at a position equals a constant.
    Pin(usize, usize),
    /// A delta between two fixed positions.
    Const(bool),
}

impl Cond {
    /// True if the delta holds at the components `s`.
    pub(super) fn holds(self, s: &[usize]) -> bool {
        match self {
            Cond::Equal(p, q) => s[p] == s[q],
            Cond::Pin(p, c) => s[p] == c,
            Cond::Const(b) => b,
        }
    }
}

/// A strided read of one of the plan's arrays (rank at most 2).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Read {
    /// Which of the bound formula's arrays.
    pub(super) array: usize,
    /// Offset contributed by fixed slots.
    pub(super) base: usize,
    /// (position, stride) per slot that is an index; (0, 0) for the unused ones.
    pub(super) axes: [(usize, usize); 2],
}

impl Read {
    /// The offset of the entry read at the components `s`.
    pub(super) fn offset(&self, s: &[usize]) -> usize {
        let [(p, sp), (q, sq)] = self.axes;
        self.base + s[p] * sp + s[q] * sq
    }

    /// The entry read at the components `s`.
    pub(super) fn value(&self, arrays: &[Dense], s: &[usize]) -> f64 {
        arrays[self.array].data()[self.offset(s)]
    }
}

/// Σ over summation indices of a product of factors, evaluated for given free components.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Contraction {
    /// Position of the first summation index (= J's number of axes).
    pub(super) first_sum: usize,
    /// Ranges of the summation indices.
    pub(super) sum_dims: Vec<usize>,
    /// Deltas inside the sum.
    pub(super) conds: Vec<Cond>,
    /// Tensor factors inside the sum.
    pub(super) reads: Vec<Read>,
}

impl Contraction {
    /// The sum for J's components in `free`.
    pub(super) fn value(&self, arrays: &[Dense], free: &Scratch) -> f64 {
        if self.sum_dims.contains(&0) {
            return 0.0;
        }
        // J's components, then the summation indices (as many as the contraction has).
        let mut s = free[..self.first_sum].to_vec();
        s.resize(self.first_sum + self.sum_dims.len(), 0);
        let data: Vec<&[f64]> = self.reads.iter().map(|r| arrays[r.array].data()).collect();
        let mut total = 0.0;
        loop {
            if self.conds.iter().all(|c| c.holds(&s)) {
                total += self
                    .reads
                    .iter()
                    .zip(&data)
                    .map(|(r, data)| data[r.offset(&s)])
                    .product::<f64>();
            }
            let mut k = self.sum_dims.len();
            loop {
                if k == 0 {
                    return total;
                }
                k -= 1;
                let p = self.first_sum + k;
                s[p] += 1;
                if s[p] < self.sum_dims[k] {
                    break;
                }
                s[p] = 0;
            }
        }
    }
}
