//! The one set of numerical kernels: softmax, logsumexp, power, f″ of the elementwise
//! functions, the accurate sum and mean,
//! centred values, the inverse with its condition estimate, the determinant and the
//! parallel matrix product. Forward evaluation ([`crate::eval`]) and the bound formula
//! ([`crate::jacobian`]) both call these, so a softmax or an inverse is computed the same
//! way, to the bit, wherever it appears.
//!
//! Sums use compensated (Neumaier) summation, so that sums over millions of entries are
//! accurate to a few ulps; this also keeps the finite-difference witness in
//! [`crate::check`] precise.

use nalgebra::DMatrix;
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayD, ArrayView1, ArrayView2, ArrayViewMut1, Axis, Ix2};
use rayon::prelude::*;

use crate::expr::ElemFn;
use crate::progress::Progress;

/// Largest 1-norm condition number `‖A‖₁·‖A⁻¹‖₁` for which `inv(A)` is computed.
pub const MAX_CONDITION: f64 = 1e12;

/// Multiply-adds per piece of a matrix product (about 0.1 s of one core).
const PRODUCT_PIECE: usize = 1 << 30;

/// The matrix product `a · b` on all rayon threads: the rows of the result are cut into
/// pieces, each a matrix product of its own. Advances `progress` by the multiply-adds of
/// each piece as it finishes; `None` if `progress` is cancelled meanwhile.
pub fn matrix_product(
    a: ArrayView2<f64>,
    b: ArrayView2<f64>,
    progress: &Progress,
) -> Option<Array2<f64>> {
    let mut out = Array2::zeros((a.nrows(), b.ncols()));
    let per_row = (a.ncols() * b.ncols()).max(1);
    let per_thread = a.nrows().div_ceil(rayon::current_num_threads()).max(1);
    // Pieces of at least 64 rows keep the cost of packing `b` for each piece small.
    let rows = (PRODUCT_PIECE / per_row).max(64).min(per_thread);
    let pieces: Vec<_> = a
        .axis_chunks_iter(Axis(0), rows)
        .zip(out.axis_chunks_iter_mut(Axis(0), rows))
        .collect();
    pieces.into_par_iter().for_each(|(a_rows, mut out_rows)| {
        if progress.is_cancelled() {
            return;
        }
        general_mat_mul(1.0, &a_rows, &b, 0.0, &mut out_rows);
        progress.advance((a_rows.nrows() * per_row) as u64);
    });
    (!progress.is_cancelled()).then_some(out)
}

/// `a ** p` entrywise; an integer exponent uses repeated multiplication (`powi`) as JAX
/// does, so negative bases give real results.
pub fn power(a: &ArrayD<f64>, p: f64) -> ArrayD<f64> {
    if p.fract() == 0.0 && p.abs() <= f64::from(i32::MAX) {
        let n = p as i32;
        a.mapv(|x| x.powi(n))
    } else {
        a.mapv(|x| x.powf(p))
    }
}

/// Σ x with Neumaier's compensated summation: the error does not grow with the number of
/// terms. Infinities and NaN propagate as in a plain sum.
pub fn accurate_sum(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut compensation) = (0.0f64, 0.0f64);
    for x in values {
        let t = sum + x;
        compensation += if sum.abs() >= x.abs() {
            (sum - t) + x
        } else {
            (x - t) + sum
        };
        sum = t;
    }
    if sum.is_finite() {
        sum + compensation
    } else {
        sum
    }
}

/// The mean of a lane, summed with [`accurate_sum`] (NaN for an empty lane).
pub fn mean(lane: ArrayView1<f64>) -> f64 {
    accurate_sum(lane.iter().copied()) / lane.len() as f64
}

/// `x` minus its [`mean`] over `axis` (over all entries if `None`): the centred values
/// that `var` and `std` square.
pub fn centered(x: &ArrayD<f64>, axis: Option<usize>) -> ArrayD<f64> {
    match axis {
        None => {
            let standard = x.as_standard_layout();
            let all = ArrayView1::from(standard.as_slice().expect("standard layout"));
            let m = mean(all);
            x.mapv(|v| v - m)
        }
        Some(axis) => x - &x.map_axis(Axis(axis), mean).insert_axis(Axis(axis)),
    }
}

/// The largest entry of a lane (−∞ for an empty lane).
fn lane_max(lane: ArrayView1<f64>) -> f64 {
    lane.fold(f64::NEG_INFINITY, |max, &x| max.max(x))
}

/// `log Σ exp(x)` of one lane, shifted by the maximum as JAX does (the shift is 0 when
/// the maximum is infinite, so a lane of −∞ gives −∞ and a lane containing +∞ gives +∞).
pub fn logsumexp(lane: ArrayView1<f64>) -> f64 {
    let max = lane_max(lane);
    let shift = if max.is_finite() { max } else { 0.0 };
    accurate_sum(lane.iter().map(|x| (x - shift).exp())).ln() + shift
}

/// `exp(x − max) / Σ exp(x − max)` along each lane of `axis` (over all entries as one
/// lane if `None`), the sum taken with [`accurate_sum`]. The result is in standard
/// layout.
pub fn softmax(a: &ArrayD<f64>, axis: Option<usize>) -> ArrayD<f64> {
    let normalize = |mut lane: ArrayViewMut1<f64>| {
        let max = lane_max(lane.view());
        lane.mapv_inplace(|x| (x - max).exp());
        let total = accurate_sum(lane.iter().copied());
        lane.mapv_inplace(|e| e / total);
    };
    let mut out = a.as_standard_layout().into_owned();
    match axis {
        None => normalize(ArrayViewMut1::from(
            out.as_slice_mut().expect("standard layout"),
        )),
        Some(axis) => out.lanes_mut(Axis(axis)).into_iter().for_each(normalize),
    }
    out
}

/// `A⁻¹` of a square matrix via LU, or the estimated condition number `‖A‖₁·‖A⁻¹‖₁` if
/// it exceeds [`MAX_CONDITION`] (infinite for an exactly singular matrix). A matrix with
/// NaN or infinite entries has an all-NaN inverse, as in NumPy.
pub fn inverse(a: &ArrayD<f64>) -> Result<ArrayD<f64>, f64> {
    if a.iter().any(|x| !x.is_finite()) {
        return Ok(a.mapv(|_| f64::NAN));
    }
    let (inverse, condition) = lu_inverse(a).ok_or(f64::INFINITY)?;
    if condition.is_nan() || condition > MAX_CONDITION {
        return Err(condition);
    }
    Ok(inverse.into_dyn())
}

/// The 1-norm condition number `‖A‖₁·‖A⁻¹‖₁` of a square matrix: infinite if it is
/// singular, NaN if it has a NaN entry. About `log₁₀` of it significant digits are lost
/// in `inv(A)`, `det(A)` and their derivatives.
pub fn condition_number(a: &ArrayD<f64>) -> f64 {
    lu_inverse(a).map_or(f64::INFINITY, |(_, condition)| condition)
}

/// The determinant of a square matrix, via LU.
pub fn determinant(a: &ArrayD<f64>) -> f64 {
    to_nalgebra(a).determinant()
}

/// The inverse of a square matrix and its 1-norm condition number, or `None` if it is
/// singular: LU finds it so, or the inverse or its condition estimate is not finite (a
/// matrix of tiny entries can pass LU and still overflow: `full((3,3), 1e-300)`).
fn lu_inverse(a: &ArrayD<f64>) -> Option<(Array2<f64>, f64)> {
    let inverse = to_nalgebra(a).lu().try_inverse()?;
    let inverse = Array2::from_shape_fn(inverse.shape(), |(i, j)| inverse[(i, j)]);
    let condition = norm1(matrix(a)) * norm1(inverse.view());
    (condition.is_finite() && inverse.iter().all(|x| x.is_finite())).then_some((inverse, condition))
}

/// A rank-2 value as a matrix view. Panics for another rank.
fn matrix(a: &ArrayD<f64>) -> ArrayView2<'_, f64> {
    a.view()
        .into_dimensionality::<Ix2>()
        .expect("a matrix kernel is given a matrix")
}

/// A matrix value as a nalgebra matrix.
fn to_nalgebra(a: &ArrayD<f64>) -> DMatrix<f64> {
    let a = matrix(a);
    DMatrix::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]])
}

/// The matrix 1-norm: the largest column sum of absolute values.
fn norm1(a: ArrayView2<f64>) -> f64 {
    a.columns()
        .into_iter()
        .map(|column| column.iter().map(|x| x.abs()).sum::<f64>())
        .fold(0.0, f64::max)
}

/// f″(x), the second derivative of an elementwise function (f′ is [`ElemFn::derivative`]).
/// relu″, abs″ and sign″ are 0: their first derivatives are constant away from their kink,
/// and taken as constant at it, as JAX does.
pub fn second_derivative(func: ElemFn, x: f64) -> f64 {
    match func {
        ElemFn::Exp => x.exp(),
        ElemFn::Log => -1.0 / (x * x),
        ElemFn::Sqrt => -0.25 / (x * x.sqrt()),
        ElemFn::Abs | ElemFn::Relu | ElemFn::Sign => 0.0,
        ElemFn::Sin => -x.sin(),
        ElemFn::Cos => -x.cos(),
        ElemFn::Tanh => {
            let t = x.tanh();
            -2.0 * t * (1.0 - t * t)
        }
        ElemFn::Sigmoid => {
            let s = ElemFn::Sigmoid.apply(x);
            s * (1.0 - s) * (1.0 - 2.0 * s)
        }
        ElemFn::Softplus => ElemFn::Sigmoid.derivative(x),
        ElemFn::Square => 2.0,
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, array};

    use super::*;

    #[test]
    fn condition_number_is_the_one_norm_product() {
        // A = [[2, 0], [0, 0.5]]: ‖A‖₁ = 2, ‖A⁻¹‖₁ = 2.
        assert_eq!(
            condition_number(&array![[2.0, 0.0], [0.0, 0.5]].into_dyn()),
            4.0
        );
        // A = [[1, 1], [1, 1 + ε]]: A⁻¹ = [[1 + ε, −1], [−1, 1]] / ε, so κ₁ ≈ 2 · (2 + ε)/ε.
        let eps = 1e-8;
        let kappa = condition_number(&array![[1.0, 1.0], [1.0, 1.0 + eps]].into_dyn());
        assert!(
            (kappa / (2.0 * (2.0 + eps) / eps) - 1.0).abs() < 1e-6,
            "{kappa}"
        );
        let singular = array![[1.0, 2.0], [2.0, 4.0]].into_dyn();
        assert_eq!(condition_number(&singular), f64::INFINITY);
    }

    #[test]
    fn an_exactly_singular_matrix_of_tiny_entries_is_singular() {
        for tiny in [1e-300, 1e-250, 1e-320] {
            let a = ArrayD::from_elem(ndarray::IxDyn(&[3, 3]), tiny);
            assert_eq!(condition_number(&a), f64::INFINITY, "{tiny}");
            assert_eq!(inverse(&a), Err(f64::INFINITY), "{tiny}");
        }
    }

    #[test]
    fn compensated_sum_is_exact_where_a_plain_sum_is_not() {
        assert_eq!(accurate_sum([1e16, 1.0, -1e16].into_iter()), 1.0);
        assert_eq!(accurate_sum(std::iter::repeat_n(0.1, 1_000_000)), 100_000.0);
        assert_eq!(
            accurate_sum([1.0, f64::INFINITY, 1.0].into_iter()),
            f64::INFINITY
        );
        assert!(accurate_sum([f64::INFINITY, f64::NEG_INFINITY].into_iter()).is_nan());
    }

    #[test]
    fn a_product_cut_into_pieces_matches_the_definition() {
        // 300 rows: several pieces per thread, the last one shorter.
        let a = Array2::from_shape_fn((300, 7), |(i, m)| ((i * 7 + m) % 11) as f64 - 5.0);
        let b = Array2::from_shape_fn((7, 9), |(m, j)| ((m + 3 * j) % 5) as f64 - 2.0);
        let progress = Progress::new();
        let product = matrix_product(a.view(), b.t().t(), &progress).unwrap();
        let expected = Array2::from_shape_fn((300, 9), |(i, j)| {
            (0..7).map(|m| a[[i, m]] * b[[m, j]]).sum::<f64>()
        });
        assert_eq!(product, expected);
        assert_eq!(progress.done(), 300 * 7 * 9);
    }

    #[test]
    fn second_derivatives_are_differences_of_first_derivatives() {
        for func in ElemFn::ALL {
            for x in [-1.3, -0.4, 0.35, 0.9, 2.2] {
                if matches!(func, ElemFn::Log | ElemFn::Sqrt) && x < 0.0 {
                    continue;
                }
                let h = 1e-6;
                let fd = (func.derivative(x + h) - func.derivative(x - h)) / (2.0 * h);
                let exact = second_derivative(func, x);
                assert!(
                    (fd - exact).abs() < 1e-6 * exact.abs().max(1.0),
                    "{}'' at {x}: {exact} vs {fd}",
                    func.name()
                );
            }
        }
    }
}
