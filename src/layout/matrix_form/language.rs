//! Kronecker forms written in the expression language, so that they can be pasted back as
//! `jacscope check --claim … --layout numerator-colmajor` (or `numerator-rowmajor` for the
//! row-major form): `W ⊗ I₆₄` is `kron(W, eye(64))`, `I₃ ⊗ (A + Aᵀ)` is
//! `kron(eye(3), A + A.T)`, `diag(b) ⊗ I₂` is `kron(diag(b), eye(2))`, a column times a row
//! `outer(a, b)`. The language has no commutation matrix, no vec and no vector of ones, and
//! its `kron` takes matrices only, so a form with K, diag(vec(…)), vec(…), 𝟏 or a vector
//! inside a Kronecker product has no spelling; nor has a tensor the language cannot write
//! (a constant f″ of a node: square″ = 2).

use super::{MatrixForm, TensorMatrix};
use crate::calculus::Formula;
use crate::expr::Graph;
use crate::layout::matrix_expression::{Mat, hadamard, product, sum, tensor_mat};

impl TensorMatrix {
    /// The tensor in the language, transposed if it is; `None` unless it is a matrix (a
    /// vector or a scalar has no place in `kron` or `@` between matrices).
    fn language(&self, formula: &Formula, graph: &Graph) -> Option<Mat> {
        let mat = tensor_mat(graph, &formula.tensors[self.tensor])?;
        if mat.shape().len() != 2 {
            return None;
        }
        Some(if self.transposed {
            mat.transpose()
        } else {
            mat
        })
    }

    /// The tensor as a vector of the language, if it is one.
    fn vector(&self, formula: &Formula, graph: &Graph) -> Option<Mat> {
        let mat = tensor_mat(graph, &formula.tensors[self.tensor])?;
        (mat.shape().len() == 1).then_some(mat)
    }
}

impl MatrixForm {
    /// The form as an expression of the language, `None` where it has no spelling.
    pub(super) fn language(&self, formula: &Formula, graph: &Graph) -> Option<Mat> {
        let of = |form: &MatrixForm| form.language(formula, graph);
        match self {
            MatrixForm::Identity(n) => Some(Mat::eye(*n)),
            MatrixForm::Tensor(t) => t.language(formula, graph),
            MatrixForm::Diag { factors, .. } => {
                let vectors = factors
                    .iter()
                    .map(|f| f.vector(formula, graph))
                    .collect::<Option<Vec<Mat>>>()?;
                let n = vectors[0].shape()[0];
                Some(Mat::call(
                    "diag",
                    vec![hadamard(vectors)],
                    String::new(),
                    vec![n, n],
                ))
            }
            MatrixForm::Kron(a, b) => {
                let (a, b) = (of(a)?, of(b)?);
                let shape = vec![a.shape()[0] * b.shape()[0], a.shape()[1] * b.shape()[1]];
                Some(Mat::call("kron", vec![a, b], String::new(), shape))
            }
            MatrixForm::Product(parts) => match &parts[..] {
                // a column times a row: outer(a, b)
                [MatrixForm::Tensor(column), MatrixForm::Tensor(row)]
                    if column.cols == 1 && row.rows == 1 =>
                {
                    let (a, b) = (column.vector(formula, graph)?, row.vector(formula, graph)?);
                    let shape = vec![a.shape()[0], b.shape()[0]];
                    Some(Mat::call("outer", vec![a, b], String::new(), shape))
                }
                _ => Some(product(parts.iter().map(of).collect::<Option<_>>()?)),
            },
            MatrixForm::Scaled {
                coeff,
                scalars,
                form,
                ..
            } => {
                let mut factors = scalars
                    .iter()
                    .map(|s| tensor_mat(graph, &formula.tensors[s.tensor]))
                    .collect::<Option<Vec<Mat>>>()?;
                factors.push(of(form)?);
                Some(Mat::scaled(*coeff, hadamard(factors)))
            }
            MatrixForm::Sum(terms) => Some(sum(terms.iter().map(of).collect::<Option<_>>()?)),
            MatrixForm::Zero { .. }
            | MatrixForm::Ones { .. }
            | MatrixForm::Commutation { .. }
            | MatrixForm::Vectorized { .. } => None,
        }
    }
}
