//! The Jacobian of one problem: an index formula bound to numbers.
//!
//! [`Jacobian`] holds the formula bound to the inputs' values ([`BoundFormula`]), the
//! graph, the variable J differentiates with respect to and J's structural support, and
//! answers the questions the views ask. One file per job:
//!
//! - `dense.rs`: the evaluation primitives (tensors, deltas as comparisons, strided reads,
//!   contractions);
//! - `plan.rs`: how each term is evaluated, contractions hoisted; what binding costs;
//! - `chain.rs`: contractions that are chains of matrices, computed as matrix products;
//! - `bound.rs`: [`BoundFormula`], the derived tensors and entries and runs of entries;
//! - `slice.rs`: 2-D slices and their block summaries for a heat map;
//! - `tiles.rs`: block summaries of slices that are one tensor times a constant, from
//!   summaries of the tensor's tiles;
//! - `explain.rs`: an entry's name, why it is zero, its term-by-term breakdown;
//! - `count.rs`: the numeric nonzero count;
//! - `factorized.rs`: a product term's nonzero count from its factors' nonzeros.

mod bound;
mod chain;
mod count;
#[cfg(test)]
mod count_properties;
mod dense;
mod explain;
mod factorized;
mod plan;
mod slice;
#[cfg(test)]
pub(crate) mod test_support;
mod tiles;
#[cfg(test)]
mod tiles_properties;

use ndarray::ArrayD;
use thiserror::Error;

use crate::axis_index::{Axes, IndexError};
use crate::calculus::Formula;
use crate::eval::{MAX_CONDITION, Values};
use crate::expr::{Graph, NodeId, Op};
use crate::progress::Progress;
use crate::sparsity::StructuralSupport;

pub use bound::BoundFormula;
pub use count::{
    CountMethod, CountTooCostly, NUMERIC_COUNT_LIMIT, NonzeroCount, count_nonzeros,
    count_nonzeros_within_limit, count_operations, evaluated_nonzeros, numeric_nonzeros,
    numeric_nonzeros_with_progress,
};
pub use explain::{FactorValue, TermBreakdown};
pub use plan::{BindingCost, binding_cost, needed_nodes};
pub use slice::{BlockSummary, Slice, SliceBlocks};
pub use tiles::{SliceTensor, TileSummaries};

/// What can go wrong when binding a formula or addressing J.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum JacobianError {
    /// An index that does not address an entry of J.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// Slice axes that are not two different axes of J.
    #[error("a slice needs two different axes of J ({axes}); got axes {rows} and {cols}")]
    SliceAxes {
        /// Axis position of the rows.
        rows: usize,
        /// Axis position of the columns.
        cols: usize,
        /// J's axis names.
        axes: String,
    },
    /// A matrix whose inverse the formula needs is singular or nearly so (see
    /// [`crate::eval::kernels::inverse`]).
    #[error(
        "{what} is singular or nearly so (1-norm condition number {condition:.1e}, limit \
         {MAX_CONDITION:.0e}), so its inverse (needed by the derivative) is not computed"
    )]
    Singular {
        /// The source text of the matrix.
        what: String,
        /// Its estimated 1-norm condition number (infinite if exactly singular).
        condition: f64,
    },
    /// The formula does not fit the graph or breaks an invariant of formulas (a bug).
    #[error("malformed formula: {0}")]
    Malformed(String),
}

/// J = ∂Y/∂X for one expression and one variable X: the formula bound to the inputs'
/// values, with the structural support read off its deltas.
#[derive(Debug, Clone)]
pub struct Jacobian {
    graph: Graph,
    wrt: NodeId,
    /// At second order (`--wrt A,B`), B: J is ∂/∂B of ∂Y/∂A (`wrt`).
    second: Option<NodeId>,
    /// The `--wrt` text of J: `X`, or `X,W` at second order.
    wrt_text: String,
    /// J's shape (out.shape + in.shape).
    shape: Vec<usize>,
    bound: BoundFormula,
    support: StructuralSupport,
}

impl Jacobian {
    /// Binds `formula` (∂ of `graph`'s root with respect to input node `wrt`) to the
    /// forward values `values` of `graph`, sharing them. `values` must hold at least the
    /// [`needed_nodes`] of `formula`.
    pub fn new(
        graph: Graph,
        wrt: NodeId,
        formula: Formula,
        values: &Values,
    ) -> Result<Jacobian, JacobianError> {
        let jacobian = Jacobian::with_progress(graph, wrt, formula, values, &Progress::new())?;
        Ok(jacobian.expect("nobody can cancel this progress"))
    }

    /// [`Self::new`], advancing `progress` in the units of [`BindingCost::work`] (the caller
    /// starts it); `Ok(None)` soon after `progress` is cancelled.
    pub fn with_progress(
        graph: Graph,
        wrt: NodeId,
        formula: Formula,
        values: &Values,
        progress: &Progress,
    ) -> Result<Option<Jacobian>, JacobianError> {
        let support = StructuralSupport::new(&formula);
        let shape = formula.shape();
        let node_value = |id| values.shared(id).cloned();
        let Some(bound) = BoundFormula::with_progress(formula, &graph, node_value, progress)?
        else {
            return Ok(None);
        };
        Ok(Some(Jacobian {
            wrt_text: input_name(&graph, wrt).to_string(),
            graph,
            wrt,
            second: None,
            shape,
            bound,
            support,
        }))
    }

    /// [`Self::new`] with the node values given by a function, however they were obtained
    /// (they are copied).
    pub fn from_node_values<'a>(
        graph: Graph,
        wrt: NodeId,
        formula: Formula,
        node_value: impl Fn(NodeId) -> &'a ArrayD<f64>,
    ) -> Result<Jacobian, JacobianError> {
        let support = StructuralSupport::new(&formula);
        let shape = formula.shape();
        let bound = BoundFormula::new(formula, &graph, node_value)?;
        Ok(Jacobian {
            wrt_text: input_name(&graph, wrt).to_string(),
            graph,
            wrt,
            second: None,
            shape,
            bound,
            support,
        })
    }

    /// J's shape: Y's shape followed by X's shape.
    pub fn shape(&self) -> Vec<usize> {
        self.shape.clone()
    }

    /// J's axis names, as in the formula (`i, j, k, l`).
    pub fn axis_names(&self) -> Vec<String> {
        self.formula().axis_names()
    }

    /// The formula of J (the readable form, before hoisting).
    pub fn formula(&self) -> &Formula {
        self.bound.formula()
    }

    /// The expression's graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The input node J differentiates with respect to.
    pub fn wrt(&self) -> NodeId {
        self.wrt
    }

    /// This Jacobian as the second derivative ∂/∂B of ∂Y/∂A, A being [`Self::wrt`] and B
    /// the input node `second`: its formula must be the second-order one
    /// ([`crate::calculus::second_formula_within`]).
    pub fn with_second(mut self, second: NodeId) -> Jacobian {
        self.wrt_text = format!("{},{}", self.wrt_text, input_name(&self.graph, second));
        self.second = Some(second);
        self
    }

    /// At second order, the input node B of ∂/∂B of ∂Y/∂A; `None` at first order.
    pub fn second(&self) -> Option<NodeId> {
        self.second
    }

    /// The formula bound to numbers.
    pub fn bound(&self) -> &BoundFormula {
        &self.bound
    }

    /// J's structural support.
    pub fn support(&self) -> &StructuralSupport {
        &self.support
    }

    /// Checks that `index` addresses an entry of J.
    pub fn check_index(&self, index: &[usize]) -> Result<(), JacobianError> {
        let names = self.axis_names();
        let shape = self.shape();
        Ok(Axes::new(&names, &shape).check_index(index)?)
    }

    /// J at `index`. The index must be valid (see [`Self::check_index`]).
    pub fn entry(&self, index: &[usize]) -> f64 {
        debug_assert!(
            index.len() == self.shape.len() && index.iter().zip(&self.shape).all(|(i, d)| i < d),
            "index {index:?} outside J's shape {:?}",
            self.shape
        );
        self.bound.entry(index)
    }

    /// Checks that `axes` are two different axes of J and `at` a valid index (its
    /// components on `axes` are ignored).
    pub fn check_slice(&self, axes: (usize, usize), at: &[usize]) -> Result<(), JacobianError> {
        let n = self.shape().len();
        if axes.0 == axes.1 || axes.0 >= n || axes.1 >= n {
            return Err(JacobianError::SliceAxes {
                rows: axes.0,
                cols: axes.1,
                axes: axes_text(&self.axis_names()),
            });
        }
        let mut index = at.to_vec();
        if index.len() == n {
            index[axes.0] = 0;
            index[axes.1] = 0;
        }
        self.check_index(&index)
    }
}

/// The variable name of the input node `node`.
fn input_name(graph: &Graph, node: NodeId) -> &str {
    match &graph.node(node).op {
        Op::Input(name) => name,
        _ => unreachable!("J differentiates with respect to an input node"),
    }
}

/// `i,j,k,l`, or `a scalar` for no axes.
fn axes_text(names: &[String]) -> String {
    if names.is_empty() {
        "a scalar".to_string()
    } else {
        names.join(",")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::test_support::*;
    use super::*;
    use crate::calculus::Notation;
    use crate::{calculus, check, sparsity};

    #[test]
    fn bad_indices_are_explained() {
        let (inputs, f) = mixed();
        let (jac, _) = jacobian(&inputs, f);
        assert_eq!(jac.axis_names(), ["i", "j", "k", "l"]);
        assert_eq!(
            jac.check_index(&[0, 1, 2]).unwrap_err().to_string(),
            "index has 3 components, J has 4 axes (i,j,k,l)"
        );
        assert_eq!(
            jac.check_index(&[0, 1, 3, 0]).unwrap_err().to_string(),
            "k = 3 is out of range 0..3"
        );
        assert!(jac.check_index(&[2, 3, 2, 4]).is_ok());
        assert!(jac.check_slice((1, 1), &[0, 0, 0, 0]).is_err());
        assert!(jac.check_slice((1, 4), &[0, 0, 0, 0]).is_err());
        assert!(jac.check_slice((1, 2), &[0, 0, 0, 9]).is_err());
    }

    #[test]
    fn linear_layer_entries_are_delta_times_w() {
        let (jac, inputs) = problem(
            "X @ W.T",
            &[("X", "3x5"), ("W", "4x5")],
            "X",
            BTreeMap::new(),
        );
        assert_eq!(jac.shape(), [3, 4, 3, 5]);
        assert_eq!(
            calculus::render(jac.formula(), jac.graph(), Notation::Unicode),
            "δ(i,k)·W[j,l]"
        );
        let w = inputs.get("W").unwrap();
        for index in all_indices(&jac.shape()) {
            let [i, j, k, l] = index[..] else {
                unreachable!()
            };
            let expected = if i == k { w[[j, l]] } else { 0.0 };
            assert_eq!(jac.entry(&index), expected);
        }
        assert_eq!(sparsity::structural_count(jac.formula()), 3 * 4 * 5);
        assert_eq!(numeric_nonzeros(&jac), 3 * 4 * 5);
    }

    #[test]
    fn entries_agree_with_finite_differences() {
        // (expression, shapes, wrt)
        let cases: &[Case] = &[
            ("softmax(X, axis=1)", &[("X", "2x3")], "X"),
            ("softmax(X @ W, axis=0)", &[("X", "2x3"), ("W", "3x2")], "W"),
            (
                "relu(X @ W1) @ W2",
                &[("X", "2x3"), ("W1", "3x4"), ("W2", "4x2")],
                "X",
            ),
            (
                "tanh(X @ W1) @ W2",
                &[("X", "2x3"), ("W1", "3x4"), ("W2", "4x2")],
                "W1",
            ),
            ("inv(X)", &[("X", "3x3")], "X"),
            ("det(X @ X.T)", &[("X", "2x3")], "X"),
            ("logsumexp(X, axis=1)", &[("X", "2x3")], "X"),
            ("var(X, axis=0) + std(X)", &[("X", "3x2")], "X"),
            ("sum(X * X, axis=1) / b", &[("X", "2x3"), ("b", "2")], "X"),
            ("trace(X @ W) * X", &[("X", "2x3"), ("W", "3x2")], "X"),
        ];
        for (source, shapes, wrt) in cases {
            let (jac, inputs) = problem(source, shapes, wrt, BTreeMap::new());
            for index in all_indices(&jac.shape()) {
                let value = jac.entry(&index);
                let fd = check::finite_difference(jac.graph(), &inputs, wrt, &index).unwrap();
                assert!(
                    check::agrees(value, &fd),
                    "{source} at {index:?}: {value} vs {}",
                    fd.value
                );
            }
            // every structural zero is a zero, and slices agree with entries
            let shape = jac.shape();
            for index in all_indices(&shape) {
                if !jac.support().contains(&index) {
                    assert_eq!(jac.entry(&index), 0.0, "{source} at {index:?}");
                }
            }
            if shape.len() >= 2 {
                let at = vec![0; shape.len()];
                let slice = jac.slice((0, shape.len() - 1), &at);
                for r in 0..slice.rows {
                    for c in 0..slice.cols {
                        let mut index = at.clone();
                        index[0] = r;
                        index[shape.len() - 1] = c;
                        assert!(
                            (slice.values[r * slice.cols + c] - jac.entry(&index)).abs() < 1e-12
                        );
                    }
                }
            }
            let brute = all_indices(&shape)
                .iter()
                .filter(|ix| jac.entry(ix) != 0.0)
                .count();
            assert_eq!(numeric_nonzeros(&jac), brute as u64, "{source}");
        }
    }
}
