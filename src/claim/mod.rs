//! Claims about J (`jacscope check`): what a person says J is — a shape, or an index formula
//! in the notation jacscope prints — parsed against the problem ([`parse`]) and compared
//! with J ([`compare`]).
//!
//! An index claim becomes a formula of the same kind as J's own: it is bound to numbers the
//! same way (a [`crate::jacobian::Jacobian`] of its own), and its structural support is read
//! off its deltas exactly as J's is. So the comparison needs no dense tensor.

pub mod compare;
pub mod parse;

use crate::calculus::Formula;
use crate::expr::Graph;

/// What a person claims J is.
#[derive(Debug, Clone)]
pub enum Claim {
    /// A shape: `64x1024x1024x512` (checked against every layout, as `shape --claim`).
    Shape(Vec<usize>),
    /// An index formula, `delta(i,k)*W[j,l]`, or a matrix expression read as one (see
    /// [`ClaimKind`]).
    Index(IndexClaim),
}

/// How a formula claim was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimKind {
    /// An index formula: `delta(i,k)*W[j,l]`.
    Index,
    /// A matrix expression of the language with no index brackets: `A.T @ B.T`, read in
    /// J's own layout as the index claim `(A.T @ B.T)[k,l]`, or `kron(W, eye(64))`, read as
    /// J in a matrix layout by taking it apart at the layout's combined indices
    /// (`parse::matrix`).
    Matrix,
}

impl ClaimKind {
    /// The kind as JSON names it: `index` or `matrix`.
    pub fn name(self) -> &'static str {
        match self {
            ClaimKind::Index => "index",
            ClaimKind::Matrix => "matrix",
        }
    }
}

/// A claimed index formula, ready to be bound to numbers like J's own formula.
#[derive(Debug, Clone)]
pub struct IndexClaim {
    /// The claim as typed.
    pub text: String,
    /// Whether it was written as an index formula or as a matrix expression.
    pub kind: ClaimKind,
    /// J's graph, with a node appended for each expression the claim reads that J's graph
    /// does not have (`(X @ W.T + b)[i,j]`); the claim's tensors read these nodes. The
    /// root stays J's root (so it is not the last node once nodes are appended), and the
    /// source is J's followed by the text of each appended expression on a line of its own,
    /// so that every node's span reads its own text.
    pub graph: Graph,
    /// The claim as a formula over `graph`: J's free indices first, with the names, roles,
    /// order and dims of J's formula; then the claim's summation indices.
    pub formula: Formula,
}
