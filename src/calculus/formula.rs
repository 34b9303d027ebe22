//! The data types of index formulas.
//!
//! A [`Formula`] is J[out…, in…] = Σ over terms; a [`Term`] is a coefficient times a product
//! of [`Factor`]s, summed over its summation indices. A factor is a Kronecker delta between
//! two [`Slot`]s or a tensor (see [`TensorDef`]) indexed by slots. A slot is an index
//! variable or a fixed position (a broadcast axis of size 1 is always read at position 0).

use crate::expr::{ElemFn, NodeId};

/// Index of an index variable in [`Formula::indices`].
pub type IndexId = usize;

/// Index of a tensor in [`Formula::tensors`].
pub type TensorId = usize;

/// What an index variable stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexRole {
    /// An axis of the output Y (named i, j).
    Output,
    /// An axis of the wrt input X (named k, l).
    Input,
    /// A summation index (named m, n, p, q, …).
    Summation,
}

/// An index variable: its display name, its range `0..dim`, and its role.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IndexVar {
    /// Display name (`i`, `k`, `m`, …).
    pub name: String,
    /// The index runs over `0..dim`.
    pub dim: usize,
    /// Output, input or summation.
    pub role: IndexRole,
}

/// Where a tensor axis or a delta side is read: at an index variable or at a fixed position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    /// The value of an index variable.
    Index(IndexId),
    /// A fixed position (0 for a broadcast axis of size 1).
    Fixed(usize),
}

/// One factor of a term.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Factor {
    /// δ(a, b): 1 where the two slots are equal, 0 elsewhere.
    Delta(Slot, Slot),
    /// A tensor read at the given slots (one per axis of the tensor).
    Tensor {
        /// Which tensor, in [`Formula::tensors`].
        tensor: TensorId,
        /// One slot per axis of the tensor.
        slots: Vec<Slot>,
    },
}

/// coeff × Π factors, summed over `sums`.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// A constant coefficient.
    pub coeff: f64,
    /// Summation indices of this term.
    pub sums: Vec<IndexId>,
    /// The product of these factors.
    pub factors: Vec<Factor>,
}

/// A tensor that factors refer to, defined in terms of the values of graph nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum TensorDef {
    /// The value of a node: an input variable (`W`) or an intermediate (`Z1`, shown with
    /// its definition).
    Node(NodeId),
    /// f′ applied elementwise to the value of a node: `relu′(Z1)`.
    ElemDeriv {
        /// The elementwise function whose derivative this is.
        func: ElemFn,
        /// The node f is applied to.
        arg: NodeId,
    },
    /// The value of a node raised elementwise to a constant power: `Z1^-2`.
    Power {
        /// The node.
        arg: NodeId,
        /// The exponent.
        exponent: f64,
    },
    /// A node's value minus its mean over `axis` (all axes if `None`), same shape as the
    /// node: used by `var` and `std`.
    Centered {
        /// The node.
        arg: NodeId,
        /// The axis the mean is taken over, or all axes.
        axis: Option<usize>,
    },
    /// softmax of a node's value over `axis` (all axes if `None`), same shape as the node:
    /// used by `logsumexp`.
    Softmax {
        /// The node.
        arg: NodeId,
        /// The axis, or all axes.
        axis: Option<usize>,
    },
    /// The matrix inverse of a node's value: used by `det`.
    Inverse {
        /// The node (a square matrix).
        arg: NodeId,
    },
}

/// The Jacobian J[out…, in…] = ∂Y[out…]/∂X[in…] as a sum of terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    /// Every index variable used (free and summation).
    pub indices: Vec<IndexVar>,
    /// The free indices over Y's axes (i, j), in axis order.
    pub out: Vec<IndexId>,
    /// The free indices over X's axes (k, l), in axis order.
    pub input: Vec<IndexId>,
    /// The tensors that factors refer to.
    pub tensors: Vec<TensorDef>,
    /// The terms; an empty list means J is identically zero.
    pub terms: Vec<Term>,
}

impl Formula {
    /// J's free indices: output axes then input axes (the layout out.shape + in.shape).
    pub fn free(&self) -> Vec<IndexId> {
        self.out.iter().chain(self.input.iter()).copied().collect()
    }

    /// J's axis names, in axis order (`i, j, k, l`).
    pub fn axis_names(&self) -> Vec<String> {
        self.free()
            .into_iter()
            .map(|id| self.indices[id].name.clone())
            .collect()
    }

    /// J's shape: out.shape + in.shape.
    pub fn shape(&self) -> Vec<usize> {
        self.free().iter().map(|&i| self.indices[i].dim).collect()
    }
}

/// The number of entries of a tensor with these dimensions, exact in u128 (saturating at
/// `u128::MAX`, far beyond any shape the language can describe).
pub fn entry_count(dims: impl IntoIterator<Item = usize>) -> u128 {
    dims.into_iter()
        .fold(1u128, |n, d| n.saturating_mul(d as u128))
}
