//! The Kronecker forms checked against the dense matricized J, entry by entry.

use std::collections::BTreeMap;

use ndarray::{Array1, Array2};

use super::dense::dense_kron;
use super::*;
use crate::jacobian::Jacobian;
use crate::layout::{JacobianDims, Layout};

/// An expression, the shapes of its variables, and the variable to differentiate by.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

/// The Jacobian of `source` by `wrt`, inputs standard normal with seed 0.
fn jacobian(source: &str, shapes: &[(&str, &str)], wrt: &str) -> Jacobian {
    crate::jacobian::test_support::problem(source, shapes, wrt, BTreeMap::new()).0
}

/// The numerator-layout matrix of J in `layout`, entry by entry.
fn matricized(jac: &Jacobian, layout: Layout) -> Array2<f64> {
    let dims = JacobianDims::of(jac);
    let shape = layout.shape(&dims);
    let mut m = Array2::zeros((shape[0], shape[1]));
    let total: usize = jac.shape().iter().product();
    for flat in 0..total {
        let index = VecOrder::RowMajor.unflatten(&jac.shape(), flat);
        let p = layout.position(&dims, &index);
        m[[p[0], p[1]]] = jac.entry(&index);
    }
    m
}

/// The forms of J, each checked against the dense matricized J; panics on a wrong form.
fn verified(source: &str, shapes: &[(&str, &str)], wrt: &str) -> Option<(String, String)> {
    let jac = jacobian(source, shapes, wrt);
    let forms = matrix_forms(&jac)?;
    for (form, layout) in [
        (&forms.colmajor, Layout::NumeratorColMajor),
        (&forms.rowmajor, Layout::NumeratorRowMajor),
    ] {
        let want = matricized(&jac, layout);
        let got = form.to_dense(jac.bound());
        assert_eq!(
            form.dims(),
            want.dim(),
            "{source}: {}",
            form.render(Notation::Unicode)
        );
        let err = (&got - &want).iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let scale = want.iter().fold(1.0f64, |m, x| m.max(x.abs()));
        assert!(
            err <= 1e-12 * scale,
            "{source} wrt {wrt}: {} is off by {err}",
            form.render(Notation::Unicode)
        );
    }
    Some((
        forms.colmajor.render(Notation::Unicode),
        forms.rowmajor.render(Notation::Unicode),
    ))
}

fn pair(col: &str, row: &str) -> Option<(String, String)> {
    Some((col.to_string(), row.to_string()))
}

#[test]
fn the_issue_examples_have_their_textbook_forms() {
    let linear = [("X", "3x4"), ("W", "5x4")];
    assert_eq!(verified("X @ W.T", &linear, "X"), pair("W ⊗ I₃", "I₃ ⊗ W"));
    assert_eq!(
        verified("X @ W.T", &linear, "W"),
        pair("(I₅ ⊗ X)·K", "(X ⊗ I₅)·K′")
    );
    let sandwich = [("A", "2x3"), ("X", "3x4"), ("B", "4x5")];
    assert_eq!(
        verified("A @ X @ B", &sandwich, "X"),
        pair("Bᵀ ⊗ A", "A ⊗ Bᵀ")
    );
    assert_eq!(verified("X.T", &[("X", "2x3")], "X"), pair("K", "K′"));
    assert_eq!(
        verified("relu(X)", &[("X", "2x3")], "X"),
        pair("diag(vec(relu′(X)))", "diag(vec_r(relu′(X)))")
    );
}

#[test]
fn sums_and_products_of_forms() {
    let shapes = [("X", "3x4"), ("W", "4x2")];
    assert_eq!(
        verified("relu(X @ W)", &shapes, "X"),
        pair(
            "diag(vec(relu′(Z1)))·(Wᵀ ⊗ I₃)",
            "diag(vec_r(relu′(Z1)))·(I₃ ⊗ Wᵀ)"
        )
    );
    assert_eq!(
        verified("sigmoid(X) @ W", &shapes, "X"),
        pair(
            "(Wᵀ ⊗ I₃)·diag(vec(sigmoid′(X)))",
            "(I₃ ⊗ Wᵀ)·diag(vec_r(sigmoid′(X)))"
        )
    );
    assert_eq!(
        verified("X @ X", &[("X", "3x3")], "X"),
        pair("Xᵀ ⊗ I₃ + I₃ ⊗ X", "I₃ ⊗ Xᵀ + X ⊗ I₃")
    );
    assert_eq!(
        verified("X @ X.T", &[("X", "2x3")], "X"),
        pair("X ⊗ I₂ + (I₂ ⊗ X)·K", "I₂ ⊗ X + (X ⊗ I₂)·K′")
    );
    assert_eq!(
        verified(
            "3 * (X @ W) - X @ V.T",
            &[("X", "3x3"), ("W", "3x3"), ("V", "3x3")],
            "X"
        ),
        pair("(3·Wᵀ − V) ⊗ I₃", "I₃ ⊗ (3·Wᵀ − V)")
    );
    assert_eq!(
        verified("mean(X) - X", &[("X", "2x3")], "X"),
        pair("(1/6)·𝟏₆𝟏₆ᵀ − I₆", "(1/6)·𝟏₆𝟏₆ᵀ − I₆")
    );
    assert_eq!(
        verified("2 * X * Y2", &[("X", "2x3"), ("Y2", "2x3")], "X"),
        pair("2·diag(vec(Y2))", "2·diag(vec_r(Y2))")
    );
    assert_eq!(
        verified("X / c", &[("X", "2x3"), ("c", "scalar")], "X"),
        pair("c⁻¹·I₆", "c⁻¹·I₆")
    );
    assert_eq!(verified("X - X", &[("X", "2x2")], "X"), pair("0", "0"));
    // a summation over two matrices is their product
    assert_eq!(
        verified("X @ X.T @ X", &[("X", "2x3")], "X"),
        pair(
            "(Xᵀ·X) ⊗ I₂ + (Xᵀ ⊗ X)·K + I₃ ⊗ Z1",
            "I₂ ⊗ (Xᵀ·X) + (X ⊗ Xᵀ)·K′ + Z1 ⊗ I₃"
        )
    );
}

#[test]
fn vectors_and_scalars() {
    let shapes = [("W", "2x3"), ("x", "3")];
    assert_eq!(verified("W @ x", &shapes, "x"), pair("W", "W"));
    assert_eq!(verified("W @ x", &shapes, "W"), pair("xᵀ ⊗ I₂", "I₂ ⊗ xᵀ"));
    assert_eq!(
        verified("x @ W.T", &shapes, "W"),
        pair("xᵀ ⊗ I₂", "I₂ ⊗ xᵀ")
    );
    // The index formula writes tanh′ through Y = tanh(W @ x) and names no Z1, so its
    // argument is written out.
    assert_eq!(
        verified("tanh(W @ x)", &shapes, "x"),
        pair("diag(tanh′(W @ x))·W", "diag(tanh′(W @ x))·W")
    );
    assert_eq!(verified("sum(W)", &shapes, "W"), pair("𝟏₆ᵀ", "𝟏₆ᵀ"));
    assert_eq!(
        verified("sum(W * W)", &shapes, "W"),
        pair("2·vec(W)ᵀ", "2·vec_r(W)ᵀ")
    );
    assert_eq!(
        verified("W * c", &[("W", "2x3"), ("c", "scalar")], "c"),
        pair("vec(W)", "vec_r(W)")
    );
    assert_eq!(verified("c * 2", &[("c", "scalar")], "c"), pair("2", "2"));
    assert_eq!(
        verified("X + b", &[("X", "2x3"), ("b", "3")], "b"),
        pair("I₃ ⊗ 𝟏₂", "𝟏₂ ⊗ I₃")
    );
    assert_eq!(
        verified("X * b", &[("X", "2x3"), ("b", "3")], "X"),
        pair("diag(b) ⊗ I₂", "I₂ ⊗ diag(b)")
    );
    assert_eq!(
        verified("u * v", &[("u", "3"), ("v", "3")], "u"),
        pair("diag(v)", "diag(v)")
    );
    assert_eq!(
        verified("det(X)", &[("X", "3x3")], "X"),
        pair("Y·vec(inv(X)ᵀ)ᵀ", "Y·vec_r(inv(X)ᵀ)ᵀ")
    );
}

#[test]
fn no_form_is_claimed_where_there_is_none() {
    let cases: &[Case] = &[
        // summations
        ("softmax(X @ W, axis=1)", &[("X", "2x3"), ("W", "3x2")], "X"),
        (
            "relu(X @ W) @ V",
            &[("X", "2x3"), ("W", "3x2"), ("V", "2x2")],
            "X",
        ),
        // an elementwise power of a matrix would read as a matrix power
        ("X ** 3", &[("X", "2x3")], "X"),
    ];
    for (source, shapes, wrt) in cases {
        let jac = jacobian(source, shapes, wrt);
        let forms = matrix_forms(&jac);
        assert!(
            forms.is_none(),
            "{source}: {:?}",
            forms.map(|f| f.colmajor.render(Notation::Unicode))
        );
    }
}

#[test]
fn every_form_produced_is_right() {
    // A spread of expressions: every form produced must match J numerically.
    let cases: &[Case] = &[
        (
            "relu(X @ W1) @ W2",
            &[("X", "2x3"), ("W1", "3x4"), ("W2", "4x2")],
            "W2",
        ),
        (
            "relu(X @ W1) @ W2",
            &[("X", "2x3"), ("W1", "3x4"), ("W2", "4x2")],
            "X",
        ),
        ("(X @ W).T", &[("X", "2x3"), ("W", "3x4")], "X"),
        ("(X @ W).T", &[("X", "2x3"), ("W", "3x4")], "W"),
        (
            "A @ X.T @ B",
            &[("A", "2x3"), ("X", "4x3"), ("B", "4x5")],
            "X",
        ),
        ("X.T @ A", &[("X", "3x2"), ("A", "3x4")], "X"),
        ("exp(X) * sin(X)", &[("X", "2x3")], "X"),
        ("X * X.T", &[("X", "3x3")], "X"),
        ("X @ b", &[("X", "2x3"), ("b", "3")], "X"),
        ("b @ X", &[("X", "3x2"), ("b", "3")], "X"),
        ("b @ X", &[("X", "3x2"), ("b", "3")], "b"),
        ("u @ v", &[("u", "3"), ("v", "3")], "u"),
        ("sum(X, axis=0)", &[("X", "2x3")], "X"),
        ("mean(X, axis=1)", &[("X", "2x3")], "X"),
        ("X + X.T", &[("X", "3x3")], "X"),
        ("inv(X)", &[("X", "3x3")], "X"),
        ("X @ W + b", &[("X", "2x3"), ("W", "3x4"), ("b", "4")], "b"),
        (
            "c * X @ W",
            &[("X", "2x3"), ("W", "3x4"), ("c", "scalar")],
            "c",
        ),
        ("log(abs(X)) / 2", &[("X", "2x3")], "X"),
        ("X @ W.T", &[("X", "1x4"), ("W", "1x4")], "W"),
        ("softmax(X, axis=1)", &[("X", "2x3")], "X"),
        ("softmax(X, axis=0)", &[("X", "2x3")], "X"),
        ("trace(X @ W) * X", &[("X", "2x3"), ("W", "3x2")], "X"),
        ("logsumexp(X, axis=1)", &[("X", "2x3")], "X"),
        ("var(X, axis=0)", &[("X", "2x3")], "X"),
        ("X * X.T", &[("X", "3x3")], "X"),
    ];
    let mut with_form = 0;
    for (source, shapes, wrt) in cases {
        with_form += usize::from(verified(source, shapes, wrt).is_some());
    }
    assert!(
        with_form >= 15,
        "only {with_form} of {} have forms",
        cases.len()
    );
}

#[test]
fn every_form_of_many_combinations_is_right() {
    // Pairs of building blocks under +, * and @, and wrapped in functions: whatever
    // form is produced must match J numerically (square shapes let everything compose;
    // the rectangular cases above catch mixed-up dimensions).
    let blocks = [
        "X", "X.T", "W", "W.T", "relu(X)", "X @ W", "W @ X", "2 * X", "X * W", "sin(X)", "X @ X",
        "V",
    ];
    let shapes = [("X", "3x3"), ("W", "3x3"), ("V", "3x3")];
    let mut expressions: Vec<String> = Vec::new();
    for a in blocks {
        for wrap in [
            "relu({})",
            "({}).T",
            "tanh({}) * W",
            "sum({}, axis=0)",
            "{} / 2",
        ] {
            expressions.push(wrap.replace("{}", a));
        }
        for b in blocks {
            for op in ["+", "-", "*", "@"] {
                expressions.push(format!("({a}) {op} ({b})"));
            }
        }
    }
    let (mut checked, mut with_form) = (0, 0);
    for source in &expressions {
        for wrt in ["X", "W"] {
            if source.contains(wrt) {
                checked += 1;
                with_form += usize::from(verified(source, &shapes, wrt).is_some());
            }
        }
    }
    // About 93% have one; the rest have summations (e.g. relu(X @ W) @ V).
    assert!(
        with_form * 10 > checked * 8,
        "{with_form} forms of {checked}"
    );
}

#[test]
fn ascii_and_latex_and_notes() {
    let jac = jacobian("X @ W.T", &[("X", "3x4"), ("W", "5x4")], "W");
    let forms = matrix_forms(&jac).unwrap();
    assert_eq!(forms.colmajor.render(Notation::Ascii), "kron(I_5, X) @ K");
    assert_eq!(forms.rowmajor.render(Notation::Ascii), "kron(X, I_5) @ K'");
    assert_eq!(
        forms.colmajor.render(Notation::Latex),
        "(I_{5} \\otimes X) \\cdot K"
    );
    assert_eq!(
        forms.notes(Notation::Unicode),
        [
            "K and K′ are the commutation matrices with K·vec(W) = vec(Wᵀ) and K′·vec_r(W) = vec_r(Wᵀ)"
        ]
    );
    assert_eq!(
        forms.notes(Notation::Ascii),
        [
            "K and K' are the commutation matrices with K*vec(W) = vec(W^T) and K'*vec_r(W) = vec_r(W^T)"
        ]
    );
    let jac = jacobian("X @ W.T", &[("X", "3x4"), ("W", "5x4")], "X");
    let forms = matrix_forms(&jac).unwrap();
    assert!(forms.notes(Notation::Unicode).is_empty());
}

#[test]
fn commutation_and_kronecker_follow_their_definitions() {
    // K·vec(A) = vec(Aᵀ) for a 2×3 A, in both orders, straight from the definition.
    let a = Array2::from_shape_fn((2, 3), |(r, c)| (10 * r + c) as f64);
    let at = a.t().to_owned();
    for order in [VecOrder::ColMajor, VecOrder::RowMajor] {
        let vec_of = |m: &Array2<f64>| -> Array1<f64> {
            let (r, c) = m.dim();
            (0..r * c)
                .map(|p| {
                    let ix = order.unflatten(&[r, c], p);
                    m[[ix[0], ix[1]]]
                })
                .collect()
        };
        let k = MatrixForm::Commutation {
            rows: 2,
            cols: 3,
            order,
        };
        let jac = jacobian("X", &[("X", "1x1")], "X");
        assert_eq!(k.to_dense(jac.bound()).dot(&vec_of(&a)), vec_of(&at));
    }
    // (A ⊗ B)[(r1·rB + r2), (c1·cB + c2)] = A[r1,c1]·B[r2,c2]
    let a = Array2::from_shape_fn((2, 2), |(r, c)| (1 + r * 2 + c) as f64);
    let b = Array2::from_shape_fn((1, 3), |(_, c)| (c + 5) as f64);
    let k = dense_kron(&a, &b);
    assert_eq!(k.dim(), (2, 6));
    assert_eq!(k[[1, 4]], a[[1, 1]] * b[[0, 1]]);
}

/// The expressions in the language of the forms of `source` by `wrt`.
fn expressions(
    source: &str,
    shapes: &[(&str, &str)],
    wrt: &str,
) -> (Option<String>, Option<String>) {
    let jac = jacobian(source, shapes, wrt);
    let forms = matrix_forms(&jac).expect("a form");
    (forms.colmajor_expression, forms.rowmajor_expression)
}

fn some_pair(col: &str, row: &str) -> (Option<String>, Option<String>) {
    (Some(col.to_string()), Some(row.to_string()))
}

#[test]
fn hessians_have_their_textbook_forms() {
    // Rows: vec(∂Y/∂A) (Y's and A's axes), columns: vec(B), as the layouts see them.
    let quadratic = [("X", "4x3"), ("A", "4x4")];
    assert_eq!(
        verified("trace(X.T @ A @ X)", &quadratic, "X,X"),
        pair("I₃ ⊗ (A + Aᵀ)", "(A + Aᵀ) ⊗ I₃")
    );
    assert_eq!(
        verified("sum(X * X)", &[("X", "2x3")], "X,X"),
        pair("2·I₆", "2·I₆")
    );
    assert_eq!(
        verified("sum(sigmoid(X @ w))", &[("X", "5x3"), ("w", "3")], "X,X"),
        pair(
            "(w·wᵀ) ⊗ diag(sigmoid′′(Z1))",
            "diag(sigmoid′′(Z1)) ⊗ (w·wᵀ)"
        )
    );
    // least squares: ∂²‖AX − B‖²/2 = I ⊗ AᵀA
    assert_eq!(
        verified(
            "0.5 * sum((A @ X - B) ** 2)",
            &[("A", "4x3"), ("X", "3x2"), ("B", "4x2")],
            "X,X"
        ),
        pair("I₂ ⊗ (Aᵀ·A)", "(Aᵀ·A) ⊗ I₂")
    );
    // ∂²tr(XW)/∂vec(X)∂vec(W)ᵀ is the commutation matrix
    assert_eq!(
        verified("trace(X @ W)", &[("X", "2x3"), ("W", "3x2")], "X,W"),
        pair("K", "K′")
    );
    // a vector by a matrix: rows (i, k), columns W's
    assert_eq!(
        verified("W @ x", &[("W", "2x3"), ("x", "3")], "x,W"),
        pair("I₆", "I₆")
    );
    // rank 6 has no matrix form
    let jac = jacobian("X @ W.T", &[("X", "2x3"), ("W", "4x3")], "X,W");
    assert!(matrix_forms(&jac).is_none());
}

/// J of `source` by `wrt` (`A,B`) in `layout`, entry by entry from second differences of
/// forward evaluation alone (never the formula), each checked to agree with the form's
/// entry there; returns how many entries were compared.
fn agrees_with_second_differences(
    source: &str,
    shapes: &[(&str, &str)],
    wrt: &str,
    loaded: BTreeMap<String, ndarray::ArrayD<f64>>,
) -> usize {
    let (jac, inputs) = crate::jacobian::test_support::problem(source, shapes, wrt, loaded);
    let forms = matrix_forms(&jac).unwrap_or_else(|| panic!("{source}: no form"));
    let dims = JacobianDims::of(&jac);
    let mut compared = 0;
    for (form, layout) in [
        (&forms.colmajor, Layout::NumeratorColMajor),
        (&forms.rowmajor, Layout::NumeratorRowMajor),
    ] {
        let dense = form.to_dense(jac.bound());
        let total: usize = jac.shape().iter().product();
        for flat in 0..total {
            let index = VecOrder::RowMajor.unflatten(&jac.shape(), flat);
            let p = layout.position(&dims, &index);
            let fd = crate::check::finite_difference(jac.graph(), &inputs, wrt, &index)
                .expect("forward evaluation");
            assert!(
                crate::check::agrees(dense[[p[0], p[1]]], &fd),
                "{source} wrt {wrt}: {} is {} at {index:?}, second differences give {}",
                form.render(Notation::Unicode),
                dense[[p[0], p[1]]],
                fd.value
            );
            compared += 1;
        }
    }
    compared
}

#[test]
fn hessian_forms_agree_with_second_differences() {
    let cases: &[Case] = &[
        ("trace(X.T @ A @ X)", &[("X", "3x2"), ("A", "3x3")], "X,X"),
        ("sum(X * X)", &[("X", "2x3")], "X,X"),
        ("sum(sigmoid(X @ w))", &[("X", "3x2"), ("w", "2")], "X,X"),
        ("sum((X @ w) ** 2)", &[("X", "3x2"), ("w", "2")], "X,w"),
        ("trace(X @ W)", &[("X", "2x3"), ("W", "3x2")], "X,W"),
        (
            "trace(A @ X @ B @ X)",
            &[("X", "2x2"), ("A", "2x2"), ("B", "2x2")],
            "X,X",
        ),
        ("sum((X @ w) ** 2)", &[("X", "3x2"), ("w", "2")], "X,X"),
        ("W @ x", &[("W", "2x3"), ("x", "3")], "x,W"),
        ("sum(exp(X))", &[("X", "2x2")], "X,X"),
        ("trace(X @ X @ X)", &[("X", "2x2")], "X,X"),
        (
            "sum((X @ W - T) ** 2)",
            &[("X", "3x2"), ("W", "2x2"), ("T", "3x2")],
            "W,W",
        ),
        (
            "sum((X @ W - T) ** 2)",
            &[("X", "3x2"), ("W", "2x2"), ("T", "3x2")],
            "X,W",
        ),
    ];
    for (source, shapes, wrt) in cases {
        assert!(agrees_with_second_differences(source, shapes, wrt, BTreeMap::new()) > 0);
    }
}

/// The 2×2 inverse by the adjugate, apart from the engine's kernels.
fn inverse_2x2(x: &Array2<f64>) -> Array2<f64> {
    let det = x[[0, 0]] * x[[1, 1]] - x[[0, 1]] * x[[1, 0]];
    ndarray::arr2(&[[x[[1, 1]], -x[[0, 1]]], [-x[[1, 0]], x[[0, 0]]]]) / det
}

/// The commutation matrix K of an m×n matrix in column-major vec, from its definition
/// K·vec(A) = vec(Aᵀ): vec(A)[r + c·m] lands at vec(Aᵀ)[c + r·n].
fn commutation(m: usize, n: usize) -> Array2<f64> {
    let mut k = Array2::zeros((m * n, m * n));
    for r in 0..m {
        for c in 0..n {
            k[[c + r * n, r + c * m]] = 1.0;
        }
    }
    k
}

#[test]
fn hessian_forms_equal_the_closed_forms_of_magnus_and_neudecker() {
    // Magnus & Neudecker (Matrix Differential Calculus, ch. 10), Hessians in column-major
    // vec: tr(XᵀAX) gives I ⊗ (A + Aᵀ); log|X| gives −K(X⁻ᵀ ⊗ X⁻¹); tr(AXBX), whose second
    // differential is 2·tr(A dX B dX), gives K(Aᵀ ⊗ B) + K(Bᵀ ⊗ A); least squares ½‖AX − B‖²
    // gives I ⊗ AᵀA. X has a positive determinant and its inverse is taken by the
    // adjugate, apart from the engine.
    let x = ndarray::arr2(&[[2.0, 0.5], [-0.3, 1.5]]);
    let a = ndarray::arr2(&[[0.7, -1.2], [0.4, 0.9]]);
    let b = ndarray::arr2(&[[1.1, 0.2], [-0.6, 0.3]]);
    let loaded: BTreeMap<String, ndarray::ArrayD<f64>> = [("X", &x), ("A", &a), ("B", &b)]
        .into_iter()
        .map(|(name, m)| (name.to_string(), m.clone().into_dyn()))
        .collect();
    let shapes = [("X", "2x2"), ("A", "2x2"), ("B", "2x2")];
    let form_of = |source: &str| -> Array2<f64> {
        let (jac, _) =
            crate::jacobian::test_support::problem(source, &shapes, "X,X", loaded.clone());
        let forms = matrix_forms(&jac).unwrap_or_else(|| panic!("{source}: no form"));
        forms.colmajor.to_dense(jac.bound())
    };
    let close = |got: &Array2<f64>, want: &Array2<f64>, what: &str| {
        let err = (got - want).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(err < 1e-12, "{what}: off by {err}\n{got}\n{want}");
    };
    let eye = Array2::<f64>::eye(2);
    close(
        &form_of("trace(X.T @ A @ X)"),
        &dense_kron(&eye, &(&a + &a.t())),
        "I ⊗ (A + Aᵀ)",
    );
    let inv = inverse_2x2(&x);
    let k = commutation(2, 2);
    close(
        &form_of("log(det(X))"),
        &(-k.dot(&dense_kron(&inv.t().to_owned(), &inv))),
        "−K(X⁻ᵀ ⊗ X⁻¹)",
    );
    close(
        &form_of("trace(A @ X @ B @ X)"),
        &(k.dot(&dense_kron(&a.t().to_owned(), &b)) + k.dot(&dense_kron(&b.t().to_owned(), &a))),
        "K(Aᵀ ⊗ B) + K(Bᵀ ⊗ A)",
    );
    close(
        &form_of("0.5 * sum((A @ X - B) ** 2)"),
        &dense_kron(&eye, &a.t().dot(&a)),
        "I ⊗ AᵀA",
    );
}

#[test]
fn forms_are_written_in_the_language() {
    let linear = [("X", "3x4"), ("W", "5x4")];
    assert_eq!(
        expressions("X @ W.T", &linear, "X"),
        some_pair("kron(W, eye(3))", "kron(eye(3), W)")
    );
    // K has no spelling
    assert_eq!(expressions("X @ W.T", &linear, "W"), (None, None));
    let sandwich = [("A", "2x3"), ("X", "3x4"), ("B", "4x5")];
    assert_eq!(
        expressions("A @ X @ B", &sandwich, "X"),
        some_pair("kron(B.T, A)", "kron(A, B.T)")
    );
    assert_eq!(
        expressions("X * b", &[("X", "2x3"), ("b", "3")], "X"),
        some_pair("kron(diag(b), eye(2))", "kron(eye(2), diag(b))")
    );
    // diag(vec(…)) of a matrix and a vector in a Kronecker product have none
    assert_eq!(expressions("relu(X)", &[("X", "2x3")], "X"), (None, None));
    assert_eq!(
        expressions("W @ x", &[("W", "2x3"), ("x", "3")], "W"),
        (None, None)
    );
    let quadratic = [("X", "4x3"), ("A", "4x4")];
    assert_eq!(
        expressions("trace(X.T @ A @ X)", &quadratic, "X,X"),
        some_pair("kron(eye(3), A + A.T)", "kron(A + A.T, eye(3))")
    );
    assert_eq!(
        expressions("sum((X @ w) ** 2)", &[("X", "3x2"), ("w", "2")], "X,X"),
        some_pair(
            "2 * kron(outer(w, w), eye(3))",
            "2 * kron(eye(3), outer(w, w))"
        )
    );
    // f′′ in closed form, and it holds as a claim
    let s = "sigmoid(X @ w) * (1 - sigmoid(X @ w)) * (1 - 2 * sigmoid(X @ w))";
    assert_eq!(
        expressions("sum(sigmoid(X @ w))", &[("X", "3x2"), ("w", "2")], "X,X"),
        some_pair(
            &format!("kron(outer(w, w), diag({s}))"),
            &format!("kron(diag({s}), outer(w, w))")
        )
    );
    let (jac, inputs) = crate::jacobian::test_support::problem(
        "sum(sigmoid(X @ w))",
        &[("X", "3x2"), ("w", "2")],
        "X,X",
        BTreeMap::new(),
    );
    let forms = matrix_forms(&jac).unwrap();
    let checked = forms.checked(&jac, &[&inputs]).unwrap();
    assert!(checked.colmajor_expression.is_some() && checked.rowmajor_expression.is_some());
}

#[test]
fn a_form_whose_expression_does_not_hold_is_not_kept() {
    let (jac, inputs) = crate::jacobian::test_support::problem(
        "trace(X.T @ A @ X)",
        &[("X", "4x3"), ("A", "4x4")],
        "X,X",
        BTreeMap::new(),
    );
    let forms = matrix_forms(&jac).unwrap();
    assert!(forms.clone().checked(&jac, &[&inputs]).is_some());
    let wrong = MatrixForms {
        colmajor_expression: Some("kron(eye(3), A)".to_string()),
        ..forms.clone()
    };
    assert!(wrong.checked(&jac, &[&inputs]).is_none());
    // nor one read in the other vec order
    let swapped = MatrixForms {
        rowmajor_expression: forms.colmajor_expression.clone(),
        ..forms
    };
    assert!(swapped.checked(&jac, &[&inputs]).is_none());
}
