//! The finite-difference witness: one Jacobian entry estimated by central differences
//! on forward evaluation alone, independent of the index calculus it checks.

use crate::eval::{EvalError, evaluate};
use crate::expr::{Graph, Shape};
use crate::inputs::Inputs;

/// Relative tolerance of [`agrees`]: about the square of the step size `h ≈ 6e-6` times a
/// generous factor, far above the truncation error `h²·|f‴|/6` of smooth functions.
pub const RELATIVE_TOLERANCE: f64 = 1e-6;

/// How many ulps of rounding error each of the two evaluations is allowed in the
/// [`FdCheck::noise`] estimate.
const ROUNDING_ULPS: f64 = 32.0;

/// A central-difference estimate of one Jacobian entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FdCheck {
    /// `(f(x+h) − f(x−h)) / 2h`.
    pub value: f64,
    /// The step `h = ∛ε · max(1, |x|)`.
    pub step: f64,
    /// An estimate of the rounding error in `value`: `f(x±h)` are each trusted to a few
    /// ulps of their magnitude, and that error is divided by `2h`. It is large when the
    /// output entry is large compared with its derivative (a sum over many entries).
    pub noise: f64,
}

/// Estimates `J[index]`, where `J` has shape `out.shape + wrt.shape` (a scalar output or
/// input contributes no indices), by central differences on forward evaluation:
/// perturbs the single input entry `wrt[in_index]` by `±h` and evaluates the whole graph
/// twice.
///
/// Fails if `wrt` is not a variable, `index` does not fit J, or an evaluation at `x ± h`
/// fails (an `inv` of a matrix that the step makes singular: the estimate cannot be made
/// although the formula's value can).
pub fn finite_difference(
    graph: &Graph,
    inputs: &Inputs,
    wrt: &str,
    index: &[usize],
) -> Result<FdCheck, EvalError> {
    let input = graph.input(wrt).ok_or_else(|| EvalError::NotAVariable {
        name: wrt.to_string(),
    })?;
    let out_dims = graph.node(graph.root).shape.dims();
    let in_dims = graph.node(input).shape.dims();
    let jacobian_dims = [out_dims, in_dims].concat();
    let fits = index.len() == jacobian_dims.len()
        && index.iter().zip(&jacobian_dims).all(|(&i, &d)| i < d);
    if !fits {
        return Err(EvalError::BadIndex {
            index: index.to_vec(),
            shape: Shape(jacobian_dims),
        });
    }
    let (out_index, in_index) = index.split_at(out_dims.len());
    let x = inputs
        .get(wrt)
        .and_then(|value| value.get(in_index))
        .copied()
        .ok_or_else(|| EvalError::InputMismatch {
            name: wrt.to_string(),
            expected: graph.node(input).shape.clone(),
        })?;
    let step = f64::EPSILON.cbrt() * x.abs().max(1.0);
    let output_at = |x: f64| -> Result<f64, EvalError> {
        let perturbed = inputs
            .with_value(wrt, in_index, x)
            .expect("index checked against the input's shape");
        Ok(evaluate(graph, &perturbed)?.root()[out_index])
    };
    let (x_plus, x_minus) = (x + step, x - step);
    let (f_plus, f_minus) = (output_at(x_plus)?, output_at(x_minus)?);
    // Divide by the difference of the representable points actually evaluated.
    let width = x_plus - x_minus;
    Ok(FdCheck {
        value: (f_plus - f_minus) / width,
        step,
        noise: 2.0 * ROUNDING_ULPS * f64::EPSILON * f_plus.abs().max(f_minus.abs()) / width,
    })
}

/// Whether a formula's value agrees with the finite-difference estimate:
/// `|a − b| ≤ 1e-6 · max(1, |a|, |b|) + noise`.
///
/// The relative part covers the truncation error of central differences (`O(h²)`, about
/// 1e-10 relative for smooth functions) with a wide margin; the `max(1, …)` makes it an
/// absolute 1e-6 for values near zero; `noise` covers rounding in large outputs. The
/// estimate is meaningless within `h` of a kink (`relu`, `abs` at 0), where the two
/// may legitimately disagree.
pub fn agrees(formula_value: f64, fd: &FdCheck) -> bool {
    let scale = 1f64.max(formula_value.abs()).max(fd.value.abs());
    (formula_value - fd.value).abs() <= RELATIVE_TOLERANCE * scale + fd.noise
}

/// What the finite-difference check says about a formula's value: the one judgement both
/// `jacscope at` and the explorer print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Within [`agrees`]'s tolerance.
    Agrees,
    /// Beyond it.
    Disagrees,
    /// The value or the estimate is NaN or infinite.
    NotFinite,
    /// The estimate could not be computed: evaluating the expression next to the point
    /// failed (e.g. `inv` of a matrix that the step makes singular); carries the error.
    NotMade(String),
}

impl Verdict {
    /// The verdict on the formula's `value` given the estimate `fd`, or the error that
    /// kept it from being made (an [`EvalError`] from [`finite_difference`], or its text).
    pub fn of(value: f64, fd: Result<&FdCheck, impl std::fmt::Display>) -> Verdict {
        match fd {
            Err(error) => Verdict::NotMade(error.to_string()),
            Ok(fd) if !value.is_finite() || !fd.value.is_finite() => Verdict::NotFinite,
            Ok(fd) if agrees(value, fd) => Verdict::Agrees,
            Ok(_) => Verdict::Disagrees,
        }
    }

    /// `agrees`, `disagrees`, `not finite` or `not made`.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Agrees => "agrees",
            Verdict::Disagrees => "disagrees",
            Verdict::NotFinite => "not finite",
            Verdict::NotMade(_) => "not made",
        }
    }

    /// Why the check disagrees, is not finite or was not made, in one plain sentence;
    /// `None` when it agrees.
    pub fn reason(&self) -> Option<String> {
        match self {
            Verdict::Agrees => None,
            Verdict::Disagrees => Some(
                "the function may not be differentiable here (a kink) or the difference is too noisy"
                    .to_string(),
            ),
            Verdict::NotFinite => Some(
                "the expression produces NaN or an infinity at or next to this point".to_string(),
            ),
            Verdict::NotMade(error) => Some(format!(
                "the expression cannot be evaluated next to this point: {error}"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use ndarray::{ArrayD, Dimension, IxDyn, array};

    use super::*;
    use crate::eval::testing::inputs;
    use crate::expr::compile;

    /// The graph of `source` with the given variable shapes.
    fn graph(source: &str, shapes: &[(&str, &[usize])]) -> Graph {
        let shapes: BTreeMap<String, Shape> = shapes
            .iter()
            .map(|(name, dims)| (name.to_string(), Shape(dims.to_vec())))
            .collect();
        compile(source, &shapes).expect("valid test expression")
    }

    /// Deterministic, irregular test values in [−2, 2].
    fn sample(dims: &[usize], offset: f64) -> ArrayD<f64> {
        ArrayD::from_shape_fn(IxDyn(dims), |i| {
            let k = i.slice().iter().fold(0, |acc, &d| acc * 7 + d) as f64;
            (k * 0.37 + offset).sin() * 2.0
        })
    }

    #[test]
    fn gradient_of_sum_of_squares_is_twice_x() {
        let graph = graph("sum(X * X)", &[("X", &[2, 3])]);
        let x = sample(&[2, 3], 0.1);
        let inputs = inputs(&graph, &[("X", x.clone())]);
        for (index, &xkl) in x.indexed_iter() {
            let fd = finite_difference(&graph, &inputs, "X", index.slice()).unwrap();
            assert!(agrees(2.0 * xkl, &fd), "{index:?}: {} vs {fd:?}", 2.0 * xkl);
            assert_eq!(fd.step, f64::EPSILON.cbrt() * xkl.abs().max(1.0));
        }
    }

    #[test]
    fn linear_layer_jacobian_is_delta_times_w() {
        // ∂(X @ W.T)[i,j]/∂X[k,l] = δ(i,k)·W[j,l]
        let graph = graph("X @ W.T", &[("X", &[2, 3]), ("W", &[4, 3])]);
        let w = sample(&[4, 3], 0.5);
        let inputs = inputs(&graph, &[("X", sample(&[2, 3], 0.2)), ("W", w.clone())]);
        for (i, j, k, l) in ndarray::indices([2, 4, 2, 3]) {
            let exact = if i == k { w[[j, l]] } else { 0.0 };
            let fd = finite_difference(&graph, &inputs, "X", &[i, j, k, l]).unwrap();
            assert!(
                agrees(exact, &fd),
                "[{i}, {j}, {k}, {l}]: {exact} vs {fd:?}"
            );
            assert!(!agrees(exact + 1e-4, &fd), "the check has teeth");
        }
    }

    #[test]
    fn scalar_inputs_and_outputs_contribute_no_indices() {
        // ∂(c * x)[i]/∂c = x[i]
        let graph = graph("c * x", &[("c", &[]), ("x", &[3])]);
        let x = array![0.5, -2.0, 3.0].into_dyn();
        let c = ArrayD::from_elem(IxDyn(&[]), 1.5);
        let inputs = inputs(&graph, &[("c", c), ("x", x.clone())]);
        for i in 0..3 {
            let fd = finite_difference(&graph, &inputs, "c", &[i]).unwrap();
            assert!(agrees(x[[i]], &fd), "{i}: {fd:?}");
        }
    }

    #[test]
    fn determinant_gradient_is_det_times_inverse_transpose() {
        // ∂det(A)/∂A[k,l] = det(A)·inv(A)[l,k]; A = [[2,1],[1,3]]: det 5, inv [[3,-1],[-1,2]]/5
        let graph = graph("det(A)", &[("A", &[2, 2])]);
        let inputs = inputs(&graph, &[("A", array![[2.0, 1.0], [1.0, 3.0]].into_dyn())]);
        let expected = [[3.0, -1.0], [-1.0, 2.0]];
        for (k, l) in ndarray::indices([2, 2]) {
            let fd = finite_difference(&graph, &inputs, "A", &[k, l]).unwrap();
            assert!(agrees(expected[l][k], &fd), "[{k}, {l}]: {fd:?}");
        }
    }

    #[test]
    fn logsumexp_gradient_is_softmax() {
        let graph = graph("logsumexp(x)", &[("x", &[4])]);
        let x = array![0.5, -1.0, 2.0, 30.0].into_dyn();
        let inputs = inputs(&graph, &[("x", x.clone())]);
        let total: f64 = x.iter().map(|v| v.exp()).sum();
        for k in 0..4 {
            let fd = finite_difference(&graph, &inputs, "x", &[k]).unwrap();
            assert!(agrees(x[[k]].exp() / total, &fd), "{k}: {fd:?}");
        }
    }

    #[test]
    fn large_sums_stay_within_the_documented_tolerance() {
        // 65 536 entries, as many as the 64×1024 example.
        let graph = graph("sum(X * X)", &[("X", &[256, 256])]);
        let x = sample(&[256, 256], 0.3);
        let inputs = inputs(&graph, &[("X", x.clone())]);
        for index in [[0, 0], [17, 200], [255, 255]] {
            let fd = finite_difference(&graph, &inputs, "X", &index).unwrap();
            let exact = 2.0 * x[IxDyn(&index)];
            assert!(agrees(exact, &fd), "{index:?}: {exact} vs {fd:?}");
            assert!(fd.noise < 1e-3, "{fd:?}");
        }
    }

    #[test]
    fn bad_indices_and_names_are_errors() {
        let graph = graph("sum(X * X)", &[("X", &[2, 3])]);
        let inputs = inputs(&graph, &[("X", sample(&[2, 3], 0.0))]);
        let error = finite_difference(&graph, &inputs, "X", &[0]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "index [0] does not fit the Jacobian's shape 2×3"
        );
        let error = finite_difference(&graph, &inputs, "X", &[2, 0]).unwrap_err();
        let shape = Shape(vec![2, 3]);
        assert_eq!(
            error,
            EvalError::BadIndex {
                index: vec![2, 0],
                shape
            }
        );
        let error = finite_difference(&graph, &inputs, "W", &[0, 0]).unwrap_err();
        assert_eq!(error.to_string(), "W is not a variable of the expression");
    }

    /// An estimate of `value` with the usual step and no rounding noise.
    fn estimate(value: f64) -> FdCheck {
        FdCheck {
            value,
            step: 6e-6,
            noise: 0.0,
        }
    }

    #[test]
    fn the_verdict_agrees_within_the_tolerance_and_disagrees_beyond_it() {
        let fd = estimate(2.0);
        let agreed = Verdict::of(2.0 + 1e-7, Ok::<_, EvalError>(&fd));
        assert_eq!(agreed, Verdict::Agrees);
        assert_eq!((agreed.name(), agreed.reason()), ("agrees", None));
        let disagreed = Verdict::of(2.1, Ok::<_, EvalError>(&fd));
        assert_eq!(disagreed, Verdict::Disagrees);
        assert_eq!(disagreed.name(), "disagrees");
        assert!(disagreed.reason().unwrap().contains("a kink"));
    }

    #[test]
    fn nan_or_an_infinity_on_either_side_is_not_finite_never_a_disagreement() {
        let cases = [
            (f64::NAN, estimate(1.0)),
            (1.0, estimate(f64::NAN)),
            (f64::INFINITY, estimate(1.0)),
            (1.0, estimate(f64::NEG_INFINITY)),
            (f64::INFINITY, estimate(f64::INFINITY)),
        ];
        for (value, fd) in cases {
            let verdict = Verdict::of(value, Ok::<_, String>(&fd));
            assert_eq!(verdict, Verdict::NotFinite, "{value} vs {fd:?}");
            assert_eq!(verdict.name(), "not finite");
            assert_eq!(
                verdict.reason().unwrap(),
                "the expression produces NaN or an infinity at or next to this point"
            );
        }
    }

    #[test]
    fn an_estimate_that_could_not_be_made_carries_its_error() {
        let error = EvalError::NotAVariable {
            name: "W".to_string(),
        };
        let from_the_error = Verdict::of(1.0, Err::<&FdCheck, _>(&error));
        // The explorer keeps only the error's text; it reads the same.
        let from_its_text = Verdict::of(1.0, Err::<&FdCheck, _>(error.to_string()));
        assert_eq!(from_the_error, from_its_text);
        assert_eq!(from_the_error.name(), "not made");
        assert_eq!(
            from_the_error.reason().unwrap(),
            "the expression cannot be evaluated next to this point: W is not a variable of the expression"
        );
    }
}
