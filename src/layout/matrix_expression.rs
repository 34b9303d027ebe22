//! The matrix expression of a J of rank ≤ 2, as textbooks write it: ∂tr(AXB)/∂X = `A.T @ B.T`
//! (Unicode `Aᵀ·Bᵀ`, LaTeX `A^\top B^\top`), ∂(xᵀAx)/∂x = `(A + A.T) @ x`, ∂det(X)/∂X =
//! `det(X) * inv(X).T`.
//!
//! The expression is read off the index formula term by term ([`contract`]): the factors of
//! a term are chained from J's first free index to its second through the summation
//! indices into matrix products with transposes; a factor read twice at one summed index is
//! a trace, factors over the same indices multiply elementwise, a delta between the free
//! indices is the identity. The terms are then summed, like terms merged and a common
//! first or last factor taken out. The ASCII text is an expression of the language, so it
//! can be pasted back as an expression or as `jacscope check --claim`; [`verified`] checks
//! it exactly as `check` would (every entry, two draws of the inputs) before anything is
//! printed, and gives nothing when it does not hold.

mod contract;
mod mat;

pub(super) use contract::tensor_mat;
pub use mat::Mat;
pub(super) use mat::{hadamard, product, sum};

use super::matrix_form::Texts;
use crate::calculus::render::Notation;
use crate::claim::Claim;
use crate::claim::compare::{Draw, compare};
use crate::claim::parse::parse_claim;
use crate::inputs::Inputs;
use crate::jacobian::Jacobian;
use crate::layout::Layout;

/// A J of rank ≤ 2 written as a matrix expression, in each notation; the ASCII text is an
/// expression of the language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixExpression {
    texts: Texts,
}

impl MatrixExpression {
    /// The expression in `notation`: Unicode `Aᵀ·Bᵀ`, ASCII (the language) `A.T @ B.T`,
    /// LaTeX `A^\top B^\top`.
    pub fn get(&self, notation: Notation) -> &str {
        self.texts.get(notation)
    }
}

/// The matrix expression of `jacobian`'s J, read off its formula, before any check: `None`
/// for a J of rank above 2 or a term that does not reduce to products, sums, transposes,
/// traces and diagonals of matrices.
pub fn candidate(jacobian: &Jacobian) -> Option<Mat> {
    contract::matrix_of(jacobian.formula(), jacobian.graph())
}

/// The most entries of J whose matrix expression is looked for: checking it evaluates the
/// expression and compares every entry, as `check` does, which at transformer size would
/// take longer than the rest of `explain`.
pub const MAX_CHECKED_ENTRIES: u128 = 1 << 22;

/// The matrix expression of `jacobian`'s J, if one is found and it equals J, checked as
/// `jacscope check --claim` checks a matrix claim: at every draw of the inputs in `draws`
/// (the problem's own first), on the union of both structural supports.
pub fn verified(jacobian: &Jacobian, draws: &[&Inputs]) -> Option<MatrixExpression> {
    let mat = candidate(jacobian)?;
    let texts = Texts::new(|notation| mat.render(notation));
    holds(jacobian, texts.get(Notation::Ascii), None, draws).then_some(MatrixExpression { texts })
}

/// True if the expression `ascii` of the language, read as a claim (J in `layout` if one
/// is given, as `check --layout` reads it), equals J at every entry compared in every draw.
pub(super) fn holds(
    jacobian: &Jacobian,
    ascii: &str,
    layout: Option<Layout>,
    draws: &[&Inputs],
) -> bool {
    let Ok(Claim::Index(claim)) = parse_claim(ascii, jacobian, layout) else {
        return false;
    };
    let Ok(draws) = draws
        .iter()
        .map(|inputs| Draw::new(jacobian, &claim, inputs))
        .collect::<Result<Vec<_>, _>>()
    else {
        return false;
    };
    compare(jacobian, &claim, &draws, Notation::Ascii).is_ok_and(|c| c.holds)
}

#[cfg(test)]
mod tests;
