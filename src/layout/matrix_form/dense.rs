//! The dense matrices of matrix forms, with the tensors' values from a bound formula: the
//! witness the tests check every form against (small shapes only; never used to print).

use ndarray::{Array1, Array2};

use super::{MatrixForm, TensorMatrix};
use crate::jacobian::BoundFormula;
use crate::layout::VecOrder;

impl TensorMatrix {
    /// The matrix's entries.
    fn to_dense(&self, bound: &BoundFormula) -> Array2<f64> {
        let value = bound.tensor(self.tensor);
        let (r, c) = match value.shape() {
            [] => (1, 1),
            &[n] => (n, 1),
            &[r, c] => (r, c),
            _ => unreachable!("tensors of matrix forms have rank at most 2"),
        };
        let matrix = value
            .to_shape((r, c))
            .expect("a tensor of rank ≤ 2 reshapes to a matrix")
            .into_owned();
        if self.transposed {
            matrix.reversed_axes()
        } else {
            matrix
        }
    }
}

impl MatrixForm {
    /// The dense matrix, with the tensors' values from `bound` (for checking a form
    /// against J; small shapes only).
    pub fn to_dense(&self, bound: &BoundFormula) -> Array2<f64> {
        match self {
            MatrixForm::Zero { rows, cols } => Array2::zeros((*rows, *cols)),
            MatrixForm::Identity(n) => Array2::eye(*n),
            MatrixForm::Ones { rows, cols } => Array2::ones((*rows, *cols)),
            MatrixForm::Commutation { rows, cols, order } => {
                let n = rows * cols;
                let mut p = Array2::zeros((n, n));
                for r in 0..*rows {
                    for c in 0..*cols {
                        let from = order.flatten(&[*rows, *cols], &[r, c]);
                        let to = order.flatten(&[*cols, *rows], &[c, r]);
                        p[[to, from]] = 1.0;
                    }
                }
                p
            }
            MatrixForm::Tensor(t) => t.to_dense(bound),
            MatrixForm::Diag { factors, order } => {
                Array2::from_diag(&Array1::from(vectorize(factors, *order, bound)))
            }
            MatrixForm::Vectorized {
                factors,
                order,
                transposed,
            } => {
                let v = vectorize(factors, *order, bound);
                let n = v.len();
                let shape = if *transposed { (1, n) } else { (n, 1) };
                Array2::from_shape_vec(shape, v).expect("a vector fits its shape")
            }
            MatrixForm::Kron(a, b) => dense_kron(&a.to_dense(bound), &b.to_dense(bound)),
            MatrixForm::Product(parts) => {
                let mut result = parts[0].to_dense(bound);
                for part in &parts[1..] {
                    result = result.dot(&part.to_dense(bound));
                }
                result
            }
            MatrixForm::Scaled {
                coeff,
                scalars,
                form,
                ..
            } => {
                let scale: f64 = scalars
                    .iter()
                    .map(|s| s.to_dense(bound)[[0, 0]])
                    .product::<f64>()
                    * coeff;
                form.to_dense(bound) * scale
            }
            MatrixForm::Sum(terms) => {
                let mut total = terms[0].to_dense(bound);
                for term in &terms[1..] {
                    total += &term.to_dense(bound);
                }
                total
            }
        }
    }
}

/// vec of the Hadamard product of `factors` in `order`.
fn vectorize(factors: &[TensorMatrix], order: VecOrder, bound: &BoundFormula) -> Vec<f64> {
    let mut product = factors[0].to_dense(bound);
    for f in &factors[1..] {
        product = product * f.to_dense(bound);
    }
    let (r, c) = product.dim();
    (0..r * c)
        .map(|p| {
            let ix = order.unflatten(&[r, c], p);
            product[[ix[0], ix[1]]]
        })
        .collect()
}

/// The Kronecker product of two dense matrices.
pub(super) fn dense_kron(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
    let (br, bc) = b.dim();
    Array2::from_shape_fn((a.nrows() * br, a.ncols() * bc), |(r, c)| {
        a[[r / br, c / bc]] * b[[r % br, c % bc]]
    })
}
