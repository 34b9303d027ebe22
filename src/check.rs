//! The finite-difference witness: one Jacobian entry estimated from forward evaluation
//! alone, independent of the index calculus it checks.
//!
//! # Method
//! For a step `h`, the central differences `D(h) = (f(x+h) − f(x−h)) / 2h` and `D(h/2)`
//! are combined by Richardson extrapolation, `R = (4·D(h/2) − D(h)) / 3`, which cancels the
//! `h²` term of their truncation error. Each difference divides by the distance between
//! the representable points actually evaluated, not by the nominal width.
//!
//! # Error model
//! The estimate carries two error terms; [`agrees`] allows [`ERROR_FACTOR`] times their
//! sum on top of [`RELATIVE_TOLERANCE`].
//! - Truncation: `|D(h) − D(h/2)|`. For smooth f it is `¾·|f‴|·h²/6`, three times the
//!   truncation error of `D(h/2)` and far more than that of `R` (`O(h⁴)`); being measured,
//!   it also carries the rounding noise of both differences. It is large where `h` is not
//!   small against the scale on which f varies, and at a kink.
//! - Rounding: each evaluation of f is trusted to [`ROUNDING_ULPS`] ulps of its magnitude;
//!   that error, divided by each difference's width, is propagated through `R`'s
//!   coefficients. It is large when the output entry is large compared with its derivative
//!   (a sum over many entries) or the step is small.
//!
//! # Step
//! The first step is `h₁ = ∛ε·max(1, |x|)`, which balances truncation (`∝ h²`) against
//! rounding (`∝ 1/h`) when f varies on a scale of `max(1, |x|)`. A function of a small
//! input often varies on the scale `|x|` itself (`log`, `1/x`, `sqrt` near 0), where `h₁`
//! is too coarse, or even crosses 0. So when `0 < |x| < 1` and `h₁`'s estimate is not
//! finite, or is dominated by truncation and not negligible against the tolerance, the
//! step `h₂ = ∛ε·|x|` is tried too (a smaller step only trades truncation for rounding),
//! and the estimate with the smaller error estimate is kept.
//!
//! A check costs 4 forward evaluations of the whole expression (`x ± h₁`, `x ± h₁/2`), or
//! 8 when `h₂` is tried.
//!
//! Within a step of a kink (`relu`, `abs` at 0) the differences measure neither one-sided
//! derivative, and the check may disagree with a formula that is right on one side.
//!
//! # Second order
//! An entry of ∂/∂B of ∂Y/∂A (`--wrt A,B`) is estimated the same way from second
//! differences `(f(+,+) − f(+,−) − f(−,+) + f(−,−)) / (2h)²`, perturbing `A[κ]` and `B[γ]`
//! (the same entry twice on a Hessian's diagonal): forward evaluation only, never the
//! first-order formula. Their truncation error is also `∝ h²`, so the same extrapolation
//! and error model apply, with the step `ε^(1/5)·max(1, |x|)`, which balances truncation
//! against rounding (now `∝ 1/h²`).

use crate::eval::{EvalError, evaluate};
use crate::expr::{Graph, Shape};
use crate::inputs::Inputs;

/// The relative tolerance of [`agrees`], an absolute one for values below 1: the floor
/// under the estimated error, for what the error model leaves out (the rounding of the
/// formula's own value).
pub const RELATIVE_TOLERANCE: f64 = 1e-6;

/// How many times [`FdCheck::error_estimate`] [`agrees`] allows (the `k` of the error
/// model): the estimate is itself estimated, from the leading term of the truncation error
/// and a bound on rounding that is not always attained.
pub const ERROR_FACTOR: f64 = 2.0;

/// How many ulps of its magnitude each evaluation of the output entry is trusted to, in
/// [`FdCheck::rounding`].
pub const ROUNDING_ULPS: f64 = 32.0;

/// An error estimate below this fraction of the tolerance cannot change a verdict much, so
/// a smaller step is not worth its 4 evaluations.
const NEGLIGIBLE: f64 = 0.01;

/// A finite-difference estimate of one Jacobian entry, with its estimated error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FdCheck {
    /// `R = (4·D(h/2) − D(h)) / 3`, the Richardson extrapolation of the central differences
    /// `D(h) = (f(x+h) − f(x−h)) / 2h` and `D(h/2)`.
    pub value: f64,
    /// The step `h`: `∛ε·max(1, |x|)`, or `∛ε·|x|` for a small input (see the module doc).
    pub step: f64,
    /// The estimated truncation error of `value`: `|D(h) − D(h/2)|`.
    pub truncation: f64,
    /// The estimated rounding error of `value`: [`ROUNDING_ULPS`] ulps of each evaluation,
    /// through `R`'s coefficients.
    pub rounding: f64,
}

impl FdCheck {
    /// The estimated error of `value`: `truncation + rounding`.
    pub fn error_estimate(&self) -> f64 {
        self.truncation + self.rounding
    }

    /// Whether a smaller step may give a better estimate: the error estimate is not finite,
    /// or truncation dominates it and it is not negligible against the tolerance.
    fn worth_a_smaller_step(&self) -> bool {
        let error = self.error_estimate();
        let negligible = NEGLIGIBLE * RELATIVE_TOLERANCE * self.value.abs().max(1.0);
        !error.is_finite() || (self.truncation > self.rounding && error > negligible)
    }

    /// The error estimate for ranking candidates: NaN counts as infinite.
    fn rank(&self) -> f64 {
        let error = self.error_estimate();
        if error.is_nan() { f64::INFINITY } else { error }
    }
}

/// The variables of a `--wrt` text: one name (`X`), or two separated by a comma for a
/// second derivative (`X,W` = ∂/∂W of ∂Y/∂X), each trimmed.
pub fn wrt_names(wrt: &str) -> Vec<&str> {
    wrt.split(',').map(str::trim).collect()
}

/// Estimates `J[index]` by Richardson-extrapolated differences on forward evaluation
/// alone, where `wrt` is the `--wrt` text (see [`wrt_names`]):
/// - one variable: `J` has shape `out.shape + wrt.shape` (a scalar output or input
///   contributes no indices); central differences perturbing the single input entry
///   `wrt[in_index]`: 4 evaluations of the whole graph, or 8 when a small input calls for
///   a second, smaller step (see the module doc);
/// - two variables `A,B`: `J = ∂/∂B of ∂Y/∂A` has shape `out.shape + A.shape + B.shape`;
///   second differences `(f(+,+) − f(+,−) − f(−,+) + f(−,−)) / (2h)²` perturbing `A[κ]`
///   and `B[γ]` (the same entry twice for a diagonal entry of a Hessian), with the step
///   `ε^(1/5)·max(1, |x|)` that balances their `h²` truncation against rounding `∝ 1/h²`:
///   8 evaluations, or 16. The first-order formula is never used.
///
/// Fails if a name of `wrt` is not a variable (or there are more than two), `index` does
/// not fit J, or an evaluation with the first step fails (an `inv` of a matrix that the
/// step makes singular: the estimate cannot be made although the formula's value can). A
/// second step that fails to evaluate leaves the first estimate standing.
pub fn finite_difference(
    graph: &Graph,
    inputs: &Inputs,
    wrt: &str,
    index: &[usize],
) -> Result<FdCheck, EvalError> {
    let names = wrt_names(wrt);
    if names.len() > 2 {
        return Err(EvalError::NotAVariable {
            name: wrt.to_string(),
        });
    }
    let out_dims = graph.node(graph.root).shape.dims();
    let mut jacobian_dims = out_dims.to_vec();
    for name in &names {
        let input = graph.input(name).ok_or_else(|| EvalError::NotAVariable {
            name: name.to_string(),
        })?;
        jacobian_dims.extend_from_slice(graph.node(input).shape.dims());
    }
    let fits = index.len() == jacobian_dims.len()
        && index.iter().zip(&jacobian_dims).all(|(&i, &d)| i < d);
    if !fits {
        return Err(EvalError::BadIndex {
            index: index.to_vec(),
            shape: Shape(jacobian_dims),
        });
    }
    let (out_index, mut rest) = index.split_at(out_dims.len());
    let mut entries = Vec::new();
    for name in &names {
        let rank = graph.node(graph.input(name).expect("checked")).shape.rank();
        let (at, after) = rest.split_at(rank);
        let x = inputs
            .get(name)
            .and_then(|value| value.get(at))
            .copied()
            .ok_or_else(|| EvalError::InputMismatch {
                name: name.to_string(),
                expected: graph
                    .node(graph.input(name).expect("checked"))
                    .shape
                    .clone(),
            })?;
        entries.push((*name, at, x));
        rest = after;
    }
    // The output entry with each perturbed input entry moved by its step (added to the
    // entry's current value, so that the same entry perturbed twice moves by both).
    let output_at = |steps: &[f64]| -> Result<f64, EvalError> {
        let mut perturbed = inputs.clone();
        for (&(name, at, _), &step) in entries.iter().zip(steps) {
            let current = perturbed.get(name).expect("checked")[at];
            perturbed = perturbed
                .with_value(name, at, current + step)
                .expect("index checked against the input's shape");
        }
        Ok(evaluate(graph, &perturbed)?.root()[out_index])
    };
    let scale = entries.iter().map(|&(_, _, x)| x.abs()).fold(0.0, f64::max);
    let (root, difference): (f64, &dyn Fn(f64) -> Result<Difference, EvalError>) = match entries[..]
    {
        [(_, _, x)] => (f64::EPSILON.cbrt(), &move |h| central(output_at, x, h)),
        [(_, _, xa), (_, _, xb)] => (f64::EPSILON.powf(0.2), &move |h| {
            second_central(output_at, (xa, xb), h)
        }),
        _ => unreachable!("one or two variables, checked above"),
    };
    let first = extrapolated(difference, root * scale.max(1.0))?;
    let small_input = scale != 0.0 && scale < 1.0;
    if !small_input || !first.worth_a_smaller_step() {
        return Ok(first);
    }
    match extrapolated(difference, root * scale) {
        Ok(second) if second.rank() < first.rank() => Ok(second),
        _ => Ok(first),
    }
}

/// One difference quotient: `(f(x+h) − f(x−h)) / width` or a second difference.
struct Difference {
    /// The difference quotient.
    value: f64,
    /// A bound on its rounding error: [`ROUNDING_ULPS`] ulps of each evaluation, over the
    /// width.
    rounding: f64,
}

/// The central difference of `output_at` (one perturbed entry) at `x` with step `step`,
/// over the distance between the representable points actually evaluated.
fn central(
    output_at: impl Fn(&[f64]) -> Result<f64, EvalError>,
    x: f64,
    step: f64,
) -> Result<Difference, EvalError> {
    let (x_plus, x_minus) = (x + step, x - step);
    let (f_plus, f_minus) = (output_at(&[step])?, output_at(&[-step])?);
    let width = x_plus - x_minus;
    let trusted = ROUNDING_ULPS * f64::EPSILON * f_plus.abs().max(f_minus.abs());
    Ok(Difference {
        value: (f_plus - f_minus) / width,
        rounding: 2.0 * trusted / width,
    })
}

/// The second difference of `output_at` (two perturbed entries, at `xa` and `xb`) with
/// step `step`: `(f(+,+) − f(+,−) − f(−,+) + f(−,−))` over the product of the distances
/// between the representable points of each entry.
fn second_central(
    output_at: impl Fn(&[f64]) -> Result<f64, EvalError>,
    (xa, xb): (f64, f64),
    step: f64,
) -> Result<Difference, EvalError> {
    let width = |x: f64| (x + step) - (x - step);
    let corners = [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)];
    let mut sum = 0.0;
    let mut largest: f64 = 0.0;
    for (sa, sb) in corners {
        let f = output_at(&[sa * step, sb * step])?;
        sum += sa * sb * f;
        largest = largest.max(f.abs());
    }
    let area = width(xa) * width(xb);
    let trusted = ROUNDING_ULPS * f64::EPSILON * largest;
    Ok(Difference {
        value: sum / area,
        rounding: 4.0 * trusted / area,
    })
}

/// The Richardson extrapolation of `difference` with steps `step` and `step / 2`, with
/// its error estimate (both orders' differences have an `h²` leading error term).
fn extrapolated(
    difference: impl Fn(f64) -> Result<Difference, EvalError>,
    step: f64,
) -> Result<FdCheck, EvalError> {
    let wide = difference(step)?;
    let narrow = difference(step / 2.0)?;
    Ok(FdCheck {
        value: (4.0 * narrow.value - wide.value) / 3.0,
        step,
        truncation: (wide.value - narrow.value).abs(),
        rounding: (4.0 * narrow.rounding + wide.rounding) / 3.0,
    })
}

/// Whether a formula's value agrees with the finite-difference estimate:
/// `|a − R| ≤ RELATIVE_TOLERANCE · max(1, |a|, |R|) + ERROR_FACTOR · error_estimate`.
///
/// The estimated error covers truncation and rounding at the step taken, whatever the
/// scale of the input or of the output; the relative part is a floor under it. Within a
/// step of a kink (`relu`, `abs` at 0) the two may legitimately disagree.
pub fn agrees(formula_value: f64, fd: &FdCheck) -> bool {
    let scale = 1f64.max(formula_value.abs()).max(fd.value.abs());
    (formula_value - fd.value).abs()
        <= RELATIVE_TOLERANCE * scale + ERROR_FACTOR * fd.error_estimate()
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
            assert!(fd.rounding < 1e-3, "{fd:?}");
        }
    }

    /// Checks `source` (one variable `p` of shape `dims` at `value`) at J's entry `index`
    /// against `exact`, the derivative worked out by hand: the check agrees with it, and
    /// disagrees with a value 1.0001 times it. Returns the estimate.
    fn agrees_with_exact_and_has_teeth(
        source: &str,
        value: ArrayD<f64>,
        index: &[usize],
        exact: f64,
    ) -> FdCheck {
        let graph = graph(source, &[("p", value.shape())]);
        let inputs = inputs(&graph, &[("p", value)]);
        let fd = finite_difference(&graph, &inputs, "p", index).unwrap();
        assert!(agrees(exact, &fd), "{source}: exact {exact} vs {fd:?}");
        assert!(!agrees(exact * 1.0001, &fd), "{source}: teeth: {fd:?}");
        fd
    }

    /// `p` as a scalar input.
    fn scalar(p: f64) -> ArrayD<f64> {
        ArrayD::from_elem(IxDyn(&[]), p)
    }

    // Issue 11, item 12: smooth functions of small or large inputs, where a step of ∛ε
    // regardless of the input's scale made the check disagree.

    #[test]
    fn log_at_a_thousandth_agrees() {
        agrees_with_exact_and_has_teeth("log(p)", scalar(1e-3), &[], 1e3);
    }

    #[test]
    fn reciprocal_at_a_thousandth_agrees() {
        agrees_with_exact_and_has_teeth("1 / p", scalar(1e-3), &[], -1e6);
    }

    #[test]
    fn sqrt_at_a_thousandth_agrees() {
        agrees_with_exact_and_has_teeth("sqrt(p)", scalar(1e-3), &[], 0.5 / 1e-3f64.sqrt());
    }

    #[test]
    fn sin_at_a_thousand_agrees() {
        agrees_with_exact_and_has_teeth("sin(p)", scalar(1000.0), &[], 1000f64.cos());
    }

    #[test]
    fn sum_of_logs_at_five_ten_thousandths_agrees_and_catches_a_one_percent_error() {
        // ∂sum(log(p))/∂p[0] = 1/p[0] = 2000; the check said 2000.098.
        let p = array![5e-4, 0.7, 3.0].into_dyn();
        let fd = agrees_with_exact_and_has_teeth("sum(log(p))", p, &[0], 2000.0);
        assert!(!agrees(2000.0 * 1.01, &fd), "{fd:?}");
        // The step follows the input's magnitude.
        assert_eq!(fd.step, f64::EPSILON.cbrt() * 5e-4);
    }

    #[test]
    fn log_below_the_unscaled_step_is_finite_and_agrees() {
        // x − ∛ε < 0: the unscaled step alone evaluates log of a negative number.
        agrees_with_exact_and_has_teeth("log(p)", scalar(1e-6), &[], 1e6);
    }

    #[test]
    fn a_small_input_keeps_the_first_step_when_rounding_dominates() {
        // 65 536 entries summed: rounding, not truncation, limits the estimate, and a
        // smaller step would only add to it.
        let graph = graph("sum(X * X)", &[("X", &[256, 256])]);
        let mut x = sample(&[256, 256], 0.3);
        x[[3, 4]] = 1e-3;
        let inputs = inputs(&graph, &[("X", x)]);
        let fd = finite_difference(&graph, &inputs, "X", &[3, 4]).unwrap();
        assert!(agrees(2e-3, &fd), "{fd:?}");
        assert!(fd.rounding > fd.truncation, "{fd:?}");
        assert_eq!(fd.step, f64::EPSILON.cbrt());
    }

    #[test]
    fn relu_at_its_kink_still_disagrees() {
        // relu(p) at p = 0: the central differences are ½ at every step; the formula's
        // one-sided derivative 0 (or 1) is caught.
        let graph = graph("relu(p)", &[("p", &[])]);
        let inputs = inputs(&graph, &[("p", scalar(0.0))]);
        let fd = finite_difference(&graph, &inputs, "p", &[]).unwrap();
        assert_eq!((fd.value, fd.truncation), (0.5, 0.0));
        assert!(!agrees(0.0, &fd) && !agrees(1.0, &fd), "{fd:?}");
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

    /// An estimate of `value` with the usual step and no estimated error.
    fn estimate(value: f64) -> FdCheck {
        FdCheck {
            value,
            step: 6e-6,
            truncation: 0.0,
            rounding: 0.0,
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
