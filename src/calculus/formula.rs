//! The data types of index formulas.
//!
//! A [`Formula`] is J[out…, in…] = Σ over terms; a [`Term`] is a coefficient times a product
//! of [`Factor`]s, summed over its summation indices. A factor is a Kronecker delta between
//! two [`Slot`]s or a tensor (see [`TensorDef`]) indexed by slots. A slot is an index
//! variable or a fixed position (a broadcast axis of size 1 is always read at position 0).
//!
//! Next to the types: [`Factor::slots`] and [`Factor::map_slots`], which read and rewrite
//! the slots of a factor, and the naming of summation indices (`summation_name`,
//! `name_summations`), so that the derivation and the simplification name them alike.

use crate::expr::{ElemFn, NodeId, ValueDerivative};

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
    /// At second order (`--wrt A,B`), an axis of the second variable B (named g, h): J is
    /// ∂/∂B of ∂Y/∂A.
    SecondInput,
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

impl Factor {
    /// The slots this factor reads, in order: the two sides of a delta, or a tensor's slots.
    pub fn slots(&self) -> Vec<Slot> {
        match self {
            Factor::Delta(a, b) => vec![*a, *b],
            Factor::Tensor { slots, .. } => slots.clone(),
        }
    }

    /// This factor with every slot passed through `f`.
    pub fn map_slots(&self, f: impl Fn(Slot) -> Slot) -> Factor {
        match self {
            Factor::Delta(a, b) => Factor::Delta(f(*a), f(*b)),
            Factor::Tensor { tensor, slots } => Factor::Tensor {
                tensor: *tensor,
                slots: slots.iter().map(|&s| f(s)).collect(),
            },
        }
    }
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
    /// f′(arg) written through the node `value` = f(arg), as the textbooks write it:
    /// `(1 − Y[i,j]²)` for tanh, `Y[i,j]·(1 − Y[i,j])` for sigmoid. The closed form of
    /// [`TensorDef::ElemDeriv`] that the textbook rewrite gives where the graph computes f(arg).
    ElemDerivOfValue {
        /// The elementwise function whose derivative this is.
        func: ValueDerivative,
        /// The node f is applied to.
        arg: NodeId,
        /// The node f(arg), which the tensor is computed from.
        value: NodeId,
    },
    /// f″ applied elementwise to the value of a node: `tanh′′(Z1)` (second order only).
    ElemSecondDeriv {
        /// The elementwise function whose second derivative this is.
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

impl TensorDef {
    /// The node the tensor is computed from (its value, or the argument of f′, a power,
    /// centring, softmax or an inverse; for f′ written through f's value, that value).
    pub fn node(&self) -> NodeId {
        match *self {
            TensorDef::Node(node)
            | TensorDef::ElemDeriv { arg: node, .. }
            | TensorDef::ElemDerivOfValue { value: node, .. }
            | TensorDef::ElemSecondDeriv { arg: node, .. }
            | TensorDef::Power { arg: node, .. }
            | TensorDef::Centered { arg: node, .. }
            | TensorDef::Softmax { arg: node, .. }
            | TensorDef::Inverse { arg: node } => node,
        }
    }
}

/// The Jacobian J[out…, in…] = ∂Y[out…]/∂X[in…] as a sum of terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    /// Every index variable used (free and summation).
    pub indices: Vec<IndexVar>,
    /// The free indices over Y's axes (i, j), in axis order.
    pub out: Vec<IndexId>,
    /// The free indices over X's axes (k, l), in axis order; at second order (`--wrt A,B`)
    /// A's axes (k, l, role [`IndexRole::Input`]) then B's (g, h, role
    /// [`IndexRole::SecondInput`]), so that J is laid out out.shape + A.shape + B.shape.
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

/// The id of `def` in `tensors`, added if new: every formula refers to one tensor
/// definition by one id.
pub fn intern_tensor(tensors: &mut Vec<TensorDef>, def: TensorDef) -> TensorId {
    match tensors.iter().position(|d| *d == def) {
        Some(id) => id,
        None => {
            tensors.push(def);
            tensors.len() - 1
        }
    }
}

/// Names of the first summation indices of a term; later ones are `m1`, `m2`, ….
const SUMMATION_NAMES: [&str; 9] = ["m", "n", "p", "q", "r", "s", "t", "u", "v"];

/// The display name of the `n`-th summation index of a term (0-based): m, n, p, q, r, s,
/// t, u, v, then m1, m2, ….
pub(super) fn summation_name(n: usize) -> String {
    match SUMMATION_NAMES.get(n) {
        Some(name) => (*name).to_string(),
        None => format!("m{}", n + 1 - SUMMATION_NAMES.len()),
    }
}

/// Renames the summation indices of every term m, n, p, … by first appearance in its
/// factors (then in `sums` order for those no factor reads), so that two terms with the
/// same structure use the same index ids. A summation index is identified by its name and
/// range; free indices keep their ids, and summation indices no term uses are dropped.
pub(super) fn name_summations(formula: &Formula) -> Formula {
    let mut indices: Vec<IndexVar> = formula
        .indices
        .iter()
        .filter(|v| v.role != IndexRole::Summation)
        .cloned()
        .collect();
    debug_assert!(
        formula.free().iter().all(|&id| id < indices.len()),
        "free indices come before summation indices"
    );
    let terms = formula
        .terms
        .iter()
        .map(|term| {
            let mut order: Vec<IndexId> = Vec::new();
            let read = term
                .factors
                .iter()
                .flat_map(Factor::slots)
                .filter_map(|slot| match slot {
                    Slot::Index(id) if term.sums.contains(&id) => Some(id),
                    _ => None,
                });
            for id in read.chain(term.sums.iter().copied()) {
                if !order.contains(&id) {
                    order.push(id);
                }
            }
            let renamed: Vec<(IndexId, IndexId)> = order
                .iter()
                .enumerate()
                .map(|(n, &old)| {
                    let var = IndexVar {
                        name: summation_name(n),
                        dim: formula.indices[old].dim,
                        role: IndexRole::Summation,
                    };
                    let new = match indices.iter().position(|v| *v == var) {
                        Some(id) => id,
                        None => {
                            indices.push(var);
                            indices.len() - 1
                        }
                    };
                    (old, new)
                })
                .collect();
            let rename = |slot: Slot| match slot {
                Slot::Index(id) => match renamed.iter().find(|(old, _)| *old == id) {
                    Some(&(_, new)) => Slot::Index(new),
                    None => slot,
                },
                Slot::Fixed(_) => slot,
            };
            Term {
                coeff: term.coeff,
                sums: renamed.iter().map(|&(_, new)| new).collect(),
                factors: term.factors.iter().map(|f| f.map_slots(rename)).collect(),
            }
        })
        .collect();
    Formula {
        indices,
        terms,
        ..formula.clone()
    }
}

/// The number of entries of a tensor with these dimensions, exact in u128 (saturating at
/// `u128::MAX`, far beyond any shape the language can describe).
pub fn entry_count(dims: impl IntoIterator<Item = usize>) -> u128 {
    dims.into_iter()
        .fold(1u128, |n, d| n.saturating_mul(d as u128))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summation_names_continue_with_numbered_m() {
        let names: Vec<String> = (0..12).map(summation_name).collect();
        assert_eq!(
            names,
            [
                "m", "n", "p", "q", "r", "s", "t", "u", "v", "m1", "m2", "m3"
            ]
        );
    }
}
