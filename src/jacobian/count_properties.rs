//! The factorized numeric nonzero count against the entry-by-entry count
//! ([`evaluated_nonzeros`], which evaluates J at every entry of its structural support):
//! on random expressions of the language at small random shapes, with inputs full of exact
//! zeros and of magnitudes whose products underflow (1e-200 × 1e-200) or overflow
//! (1e200 × 1e200, then × 0 gives NaN); and on formulas built by hand for the cases the
//! einsum must get right (a cycle of factors, a diagonal read, a pin, overlapping terms).

use std::collections::BTreeMap;

use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use super::factorized::Einsum;
use super::test_support::*;
use super::*;
use crate::calculus::{Factor, Slot, TensorDef, Term};

/// Values of the inputs: exact zeros (often), ordinary numbers, and magnitudes whose
/// products leave the range of f64.
const VALUES: [f64; 14] = [
    0.0, 0.0, 0.0, 1.0, -1.0, 0.5, -2.0, 3.0, 7.25, 1e-200, -1e-200, 1e-160, 1e200, -1e180,
];

/// Expressions over `A`, `B` (d×d), `C` (d×e), `v` (d) and `s` (scalar), a few levels
/// deep; not all of them type-check.
fn expression() -> impl Strategy<Value = String> {
    let leaf = select(&["A", "B", "C", "v", "s", "A", "B"][..]).prop_map(String::from);
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (
                inner.clone(),
                select(&["+", "-", "*", "@", "@", "*"][..]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            inner.clone().prop_map(|a| format!("({a}).T")),
            (
                select(&["relu", "relu", "square", "abs", "exp", "sign"][..]),
                inner.clone()
            )
                .prop_map(|(f, a)| format!("{f}({a})")),
            (select(&["sum", "softmax"][..]), inner.clone())
                .prop_map(|(f, a)| format!("{f}({a}, axis=1)")),
        ]
    })
}

/// A random problem: an expression, the variable to differentiate by, d and e, and a
/// stream of indices into [`VALUES`] for the inputs.
fn random_problem() -> impl Strategy<Value = (String, usize, usize, usize, Vec<usize>)> {
    (
        expression(),
        0..3usize,
        1..=4usize,
        1..=3usize,
        prop::collection::vec(0..VALUES.len(), 64),
    )
}

/// The count, checked against the entry-by-entry count; returns its method.
fn checked_count(jac: &Jacobian, what: &str) -> Result<CountMethod, TestCaseError> {
    let progress = Progress::new();
    let count = count_nonzeros(jac, &progress).unwrap();
    let witness = evaluated_nonzeros(jac, &Progress::new()).unwrap();
    prop_assert_eq!(count.nonzeros, witness, "{} ({:?})", what, count.method);
    prop_assert_eq!(progress.done(), progress.total(), "{}", what);
    Ok(count.method)
}

#[test]
fn factorized_counts_equal_entry_by_entry_counts_on_random_problems() {
    let config = Config {
        cases: 1500,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let methods = std::sync::Mutex::new(BTreeMap::<&str, usize>::new());
    runner
        .run(&random_problem(), |(source, wrt, d, e, picks)| {
            let Some(jac) = problem_from_picks(&source, wrt, (d, e), &VALUES, &picks) else {
                return Ok(());
            };
            let method = checked_count(&jac, &format!("{source} (d={d}, e={e}, wrt {wrt})"))?;
            *methods.lock().unwrap().entry(method.name()).or_default() += 1;
            Ok(())
        })
        .unwrap();
    // Every way of counting was taken, many times.
    let methods = methods.into_inner().unwrap();
    for method in ["factorized", "evaluated", "mixed"] {
        let n = methods.get(method).copied().unwrap_or(0);
        assert!(n >= 20, "{method} taken {n} times: {methods:?}");
    }
}

/// `filled` values with every third entry set to zero.
fn with_zeros(dims: &[usize], seed: u64) -> ArrayD<f64> {
    let mut a = filled(dims, seed);
    for (n, v) in a.iter_mut().enumerate() {
        if (n + seed as usize).is_multiple_of(3) {
            *v = 0.0;
        }
    }
    a
}

/// The Jacobian of `terms` over i, j, k, l (3, 4, 3, 5; m 2, n 3) whose tensors are the
/// inputs `values` (their shapes given).
fn hand_built(values: &[ArrayD<f64>], terms: Vec<Term>) -> Jacobian {
    let names = ["A", "B", "C", "D"];
    let shapes: Vec<(&str, &[usize])> = values
        .iter()
        .zip(names)
        .map(|(v, n)| (n, v.shape()))
        .collect();
    let tensors = (0..values.len()).map(TensorDef::Node).collect();
    let f = formula_over_ijkl(&[3, 4, 3, 5, 2, 3], tensors, terms);
    Jacobian::from_node_values(graph(&shapes), 0, f, |id| &values[id]).unwrap()
}

/// Counts nonzero entries of J with [`Jacobian::entry`] at every index.
fn brute(jac: &Jacobian) -> u64 {
    all_indices(&jac.shape())
        .iter()
        .filter(|ix| jac.entry(ix) != 0.0)
        .count() as u64
}

#[test]
fn a_cycle_of_factors_a_diagonal_read_and_a_pin_count_from_the_factors() {
    // δ(i,k)·A[i,j]·B[j,l]·C[k,l]: the classes {i,k}, j, l form a cycle, so summing one
    // out leaves counts over the other two (no cheaper than evaluating, so the count
    // evaluates it; the einsum is checked directly). D[i,k] is read on its diagonal.
    // δ(j,1)·A[i,1]·C[k,l] pins j.
    let values = vec![
        with_zeros(&[3, 4], 1),
        with_zeros(&[4, 5], 2),
        with_zeros(&[3, 5], 3),
        with_zeros(&[3, 3], 4),
    ];
    for terms in [
        vec![term(
            2.0,
            &[],
            vec![
                Factor::Delta(I, K),
                tensor(0, &[I, J]),
                tensor(1, &[J, L]),
                tensor(2, &[K, L]),
            ],
        )],
        vec![term(
            1.0,
            &[],
            vec![Factor::Delta(I, K), tensor(3, &[I, K]), tensor(1, &[J, L])],
        )],
        vec![term(
            -1.0,
            &[],
            vec![
                Factor::Delta(J, Slot::Fixed(1)),
                tensor(0, &[I, Slot::Fixed(1)]),
                tensor(2, &[K, L]),
            ],
        )],
    ] {
        let jac = hand_built(&values, terms);
        let expected = brute(&jac);
        assert!(expected > 0);
        let plan = &jac.bound().terms[0];
        let einsum = Einsum::plan(jac.bound(), plan, &plan.pattern).unwrap();
        assert_eq!(einsum.count(&Progress::new()), Some(expected));
        assert_eq!(numeric_nonzeros(&jac), expected);
    }
}

#[test]
fn overlapping_terms_are_evaluated_on_the_overlap_only() {
    // δ(i,k)·B[j,l] + δ(j,2)·A[i,1]·C[k,l]: they overlap where i = k and j = 2.
    let values = vec![
        with_zeros(&[3, 4], 1),
        with_zeros(&[4, 5], 2),
        with_zeros(&[3, 5], 3),
    ];
    let terms = vec![
        term(1.0, &[], vec![Factor::Delta(I, K), tensor(1, &[J, L])]),
        term(
            3.0,
            &[],
            vec![
                Factor::Delta(J, Slot::Fixed(2)),
                tensor(0, &[I, Slot::Fixed(1)]),
                tensor(2, &[K, L]),
            ],
        ),
    ];
    let jac = hand_built(&values, terms);
    let count = count_nonzeros(&jac, &Progress::new()).unwrap();
    assert_eq!(count.method, CountMethod::Mixed);
    assert_eq!(count.nonzeros, brute(&jac));
}

#[test]
fn products_that_underflow_overflow_or_meet_nan_are_evaluated() {
    // δ(i,k)·A[i,j]·B[j,l]·C[i,0]
    let term = || {
        vec![term(
            1.0,
            &[],
            vec![
                Factor::Delta(I, K),
                tensor(0, &[I, J]),
                tensor(1, &[J, L]),
                tensor(2, &[I, Slot::Fixed(0)]),
            ],
        )]
    };
    let ones = |dims: &[usize], v: f64| ArrayD::from_elem(IxDyn(dims), v);
    // 1e-200 × 1e-200 × 1 underflows to 0 everywhere: no nonzero although no factor is 0.
    let tiny = vec![
        ones(&[3, 4], 1e-200),
        ones(&[4, 5], 1e-200),
        ones(&[3, 5], 1.0),
    ];
    // NaN × 0 is NaN: every entry is nonzero although B is 0.
    let nan = vec![
        ones(&[3, 4], f64::NAN),
        ones(&[4, 5], 0.0),
        ones(&[3, 5], 1.0),
    ];
    // 1e200 × 1e200 = ∞, and ∞ × 0 is NaN: whether an entry is nonzero depends on the
    // order of the products, so only evaluation can tell.
    let huge = vec![
        ones(&[3, 4], 1e200),
        ones(&[4, 5], 1e200),
        ones(&[3, 5], 0.0),
    ];
    for (values, expected) in [(tiny, Some(0)), (nan, Some(3 * 4 * 5)), (huge, None)] {
        let jac = hand_built(&values, term());
        let count = count_nonzeros(&jac, &Progress::new()).unwrap();
        assert_eq!(count.method, CountMethod::Evaluated);
        assert_eq!(
            Some(count.nonzeros),
            evaluated_nonzeros(&jac, &Progress::new())
        );
        if let Some(expected) = expected {
            assert_eq!(count.nonzeros, expected);
            assert_eq!(count.nonzeros, brute(&jac));
        }
    }
    // Within range (1e-100 cubed is 1e-300), the same term is counted from its factors.
    let fine = vec![
        ones(&[3, 4], 1e-100),
        ones(&[4, 5], -1e-100),
        ones(&[3, 5], 1e-100),
    ];
    let jac = hand_built(&fine, term());
    let count = count_nonzeros(&jac, &Progress::new()).unwrap();
    assert_eq!(count.method, CountMethod::Factorized);
    assert_eq!(count.nonzeros, 3 * 4 * 5);
}

#[test]
fn a_relu_layer_is_counted_from_its_factors() {
    let (jac, _) = problem(
        "relu(X @ W.T + b)",
        &[("X", "16x64"), ("W", "32x64"), ("b", "32")],
        "X",
        BTreeMap::new(),
    );
    let count = count_nonzeros(&jac, &Progress::new()).unwrap();
    assert_eq!(count.method, CountMethod::Factorized);
    assert_eq!(
        Some(count.nonzeros),
        evaluated_nonzeros(&jac, &Progress::new())
    );
    assert!(count.nonzeros > 0 && u128::from(count.nonzeros) < jac.support().count());
}
