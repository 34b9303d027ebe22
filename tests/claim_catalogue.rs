//! A curated catalogue of claims across the language, end to end through
//! `jacscope check --json`: wrong claims, each wrong in one known way, get exactly the
//! hints that say so (with the factor, the swapped pair or layout, the missing delta or
//! factor, the missing or extra terms); correct claims, the seed's answer and the Matrix
//! Cookbook classics among them, hold.

use assert_cmd::Command;
use serde_json::{Value, json};

#[path = "common/run.rs"]
mod run;
use run::check_json;

/// The seed's problem: `X @ W.T` with X 64×1024 and W 512×1024.
const SEED: &[&str] = &[];
/// `X @ W.T` with X and W square, so that axes can be permuted and W transposed.
const LINEAR: &[&str] = &["X @ W.T", "-s", "X=4x4", "-s", "W=4x4"];
/// `X @ W` differentiated with respect to W.
const LINEAR_WRT_W: &[&str] = &["X @ W", "-s", "X=4x4", "-s", "W=4x4", "--wrt", "W"];
/// `LINEAR` read as a matrix in the vec layouts, for matrix claims.
const LINEAR_COLMAJOR: &[&str] = &[
    "X @ W.T",
    "-s",
    "X=4x4",
    "-s",
    "W=4x4",
    "--layout",
    "numerator-colmajor",
];
const LINEAR_ROWMAJOR: &[&str] = &[
    "X @ W.T",
    "-s",
    "X=4x4",
    "-s",
    "W=4x4",
    "--layout",
    "numerator-rowmajor",
];
const LINEAR_DENOMINATOR: &[&str] = &[
    "X @ W.T",
    "-s",
    "X=4x4",
    "-s",
    "W=4x4",
    "--layout",
    "denominator-colmajor",
];
/// A dense layer.
const RELU_LAYER: &[&str] = &[
    "relu(X @ W.T + b)",
    "-s",
    "X=3x3",
    "-s",
    "W=3x3",
    "-s",
    "b=3",
];
const TANH_LAYER: &[&str] = &["tanh(X @ W)", "-s", "X=3x3", "-s", "W=3x3"];
const SOFTMAX_ROWS: &[&str] = &["softmax(X, axis=1)", "-s", "X=3x3"];
const SOFTMAX_COLUMNS: &[&str] = &["softmax(X, axis=0)", "-s", "X=3x3"];
const LOGSUMEXP: &[&str] = &["logsumexp(X, axis=1)", "-s", "X=3x3"];
const EXP: &[&str] = &["exp(X)", "-s", "X=3x3"];
const SIGMOID: &[&str] = &["sigmoid(X)", "-s", "X=3x3"];
const SQUARE: &[&str] = &["X * X", "-s", "X=3x3"];
const TRANSPOSE: &[&str] = &["X.T", "-s", "X=3x3"];
const ROW_MEAN: &[&str] = &["mean(X, axis=1)", "-s", "X=3x3"];
const COLUMN_SUM: &[&str] = &["sum(X, axis=0)", "-s", "X=3x3"];
const DET: &[&str] = &["det(X)", "-s", "X=3x3"];
const LOG_DET: &[&str] = &["log(abs(det(X)))", "-s", "X=3x3"];
const NORM_SQUARED: &[&str] = &["x @ x", "-s", "x=3"];
const SUM_OF_SQUARES: &[&str] = &["sum(X * X)", "-s", "X=3x4"];
const QUADRATIC_FORM: &[&str] = &["x @ A @ x", "-s", "x=3", "-s", "A=3x3"];
const MATRIX_VECTOR: &[&str] = &["A @ x", "-s", "x=3", "-s", "A=3x3", "--wrt", "x"];
/// tr(AXB) with everything square, so that a gradient can be off by a transpose.
const TRACE_SQUARE: &[&str] = &[
    "trace(A @ X @ B)",
    "-s",
    "A=3x3",
    "-s",
    "X=3x3",
    "-s",
    "B=3x3",
    "--wrt",
    "X",
];
/// tr(AXB) with no two dims equal but the ones the product needs.
const TRACE: &[&str] = &[
    "trace(A @ X @ B)",
    "-s",
    "A=3x4",
    "-s",
    "X=4x2",
    "-s",
    "B=2x3",
    "--wrt",
    "X",
];

/// A wrong claim: the problem, the claim, and its hints in order, each a kind with the
/// fields it must have (a subset of the hint's fields).
struct Wrong {
    problem: &'static [&'static str],
    claim: &'static str,
    hints: Vec<(&'static str, Value)>,
}

/// Shorthand for a catalogue entry.
fn wrong(
    problem: &'static [&'static str],
    claim: &'static str,
    hints: Vec<(&'static str, Value)>,
) -> Wrong {
    Wrong {
        problem,
        claim,
        hints,
    }
}

/// The swapped-pair permutation hint.
fn swapped(a: &str, b: &str) -> (&'static str, Value) {
    ("permutation", json!({"swapped": [a, b], "layout": null}))
}

/// The transposed-factor hint.
fn transposed(written: &str, meant: &str) -> (&'static str, Value) {
    (
        "transposed_factor",
        json!({"written": written, "meant": meant}),
    )
}

/// The constant-factor hint.
fn scale(factor: f64) -> (&'static str, Value) {
    ("scale", json!({ "factor": factor }))
}

/// The missing-delta hint.
fn missing_delta(delta: &str, condition: &str) -> (&'static str, Value) {
    (
        "missing_delta",
        json!({"delta": delta, "condition": condition}),
    )
}

/// The catalogue of wrong claims.
fn catalogue() -> Vec<Wrong> {
    vec![
        // Kronecker forms in vec layouts: the factors in the wrong order (I ⊗ W where
        // column-major vec needs W ⊗ I) read J with i↔j and k↔l; the numerator's form
        // claimed in the denominator layout is W transposed; a sign.
        wrong(
            LINEAR_COLMAJOR,
            "kron(eye(4), W)",
            vec![(
                "permutation",
                json!({"reads": ["j", "i", "l", "k"], "layout": null}),
            )],
        ),
        wrong(
            LINEAR_DENOMINATOR,
            "kron(W, eye(4))",
            vec![swapped("j", "l"), transposed("W[l,j]", "W[j,l]")],
        ),
        wrong(LINEAR_ROWMAJOR, "-kron(eye(4), W)", vec![scale(-1.0)]),
        wrong(LINEAR, "-delta(i,k)*W[j,l]", vec![scale(-1.0)]),
        wrong(LINEAR, "2*delta(i,k)*W[j,l]", vec![scale(2.0)]),
        wrong(SEED, "2*delta(i,k)*W[j,l]", vec![scale(2.0)]),
        wrong(SQUARE, "delta(i,k)*delta(j,l)*X[i,j]", vec![scale(0.5)]),
        wrong(NORM_SQUARED, "x[k]", vec![scale(0.5)]),
        wrong(SUM_OF_SQUARES, "-2*X", vec![scale(-1.0)]),
        wrong(SUM_OF_SQUARES, "X", vec![scale(0.5)]),
        wrong(DET, "-Y*inv(X)[l,k]", vec![scale(-1.0)]),
        // The coefficient of a mean: 1/n forgotten.
        wrong(ROW_MEAN, "delta(i,k)", vec![scale(3.0)]),
        // Transposed factors (a square W read as W[l,j]).
        wrong(
            LINEAR,
            "delta(i,k)*W[l,j]",
            vec![swapped("j", "l"), transposed("W[l,j]", "W[j,l]")],
        ),
        wrong(
            RELU_LAYER,
            "delta(i,k)*relu'(X @ W.T + b)[i,j]*W[l,j]",
            vec![transposed("W[l,j]", "W[j,l]")],
        ),
        wrong(
            TANH_LAYER,
            "delta(i,k)*tanh'(X @ W)[i,j]*W[j,l]",
            vec![transposed("W[j,l]", "W[l,j]")],
        ),
        wrong(
            LINEAR_WRT_W,
            "delta(j,l)*X[k,i]",
            vec![swapped("i", "k"), transposed("X[k,i]", "X[i,k]")],
        ),
        // Swapped axes and layouts.
        wrong(LINEAR, "delta(j,k)*W[i,l]", vec![swapped("i", "j")]),
        wrong(TRANSPOSE, "delta(i,k)*delta(j,l)", vec![swapped("k", "l")]),
        wrong(COLUMN_SUM, "delta(i,k)", vec![swapped("k", "l")]),
        wrong(ROW_MEAN, "(1/3)*delta(i,l)", vec![swapped("k", "l")]),
        wrong(
            MATRIX_VECTOR,
            "A.T",
            vec![
                (
                    "permutation",
                    json!({"layout": "in+out", "swapped": ["i", "k"]}),
                ),
                transposed("(A.T)[i,k]", "(A.T)[k,i]"),
            ],
        ),
        // Missing deltas.
        wrong(LINEAR, "W[j,l]", vec![missing_delta("δ(i,k)", "i ≠ k")]),
        wrong(SEED, "W[j,l]", vec![missing_delta("δ(i,k)", "i ≠ k")]),
        wrong(
            SIGMOID,
            "delta(i,k)*sigmoid'(X)[i,j]",
            vec![missing_delta("δ(j,l)", "j ≠ l")],
        ),
        wrong(
            SIGMOID,
            "delta(j,l)*sigmoid'(X)[i,j]",
            vec![missing_delta("δ(i,k)", "i ≠ k")],
        ),
        // A link of the chain rule forgotten.
        wrong(
            RELU_LAYER,
            "delta(i,k)*W[j,l]",
            vec![("missing_factor", json!({"factor": "relu′(Z1)[i,j]"}))],
        ),
        wrong(
            DET,
            "inv(X)[l,k]",
            vec![("missing_factor", json!({"factor": "Y"}))],
        ),
        // Missing and extra terms.
        wrong(
            SOFTMAX_ROWS,
            "delta(i,k)*delta(j,l)*Y[i,j]",
            vec![("missing_terms", json!({"terms": ["−δ(i,k)·Y[i,j]·Y[i,l]"]}))],
        ),
        wrong(
            SOFTMAX_ROWS,
            "delta(i,k)*delta(j,l)*Y[i,j] + delta(i,k)*Y[i,j]*Y[i,l]",
            vec![
                ("missing_terms", json!({"terms": ["−δ(i,k)·Y[i,j]·Y[i,l]"]})),
                ("extra_terms", json!({"terms": ["δ(i,k)·Y[i,j]·Y[i,l]"]})),
            ],
        ),
        // The softmax Jacobian of the other axis.
        wrong(
            SOFTMAX_COLUMNS,
            "delta(i,k)*delta(j,l)*Y[i,j] - delta(i,k)*Y[i,j]*Y[i,l]",
            vec![
                ("missing_terms", json!({"terms": ["−δ(j,l)·Y[i,j]·Y[k,j]"]})),
                ("extra_terms", json!({"terms": ["−δ(i,k)·Y[i,j]·Y[i,l]"]})),
            ],
        ),
        wrong(
            EXP,
            "delta(i,k)*delta(j,l)*Y[i,j] + delta(i,k)*delta(j,l)",
            vec![("extra_terms", json!({"terms": ["δ(i,k)·δ(j,l)"]}))],
        ),
        wrong(
            QUADRATIC_FORM,
            "(A @ x)[k]",
            vec![("missing_terms", json!({}))],
        ),
        // Gradients off by a transpose.
        wrong(
            TRACE_SQUARE,
            "(B @ A)[k,l]",
            vec![
                swapped("k", "l"),
                transposed("(B @ A)[k,l]", "(B @ A)[l,k]"),
            ],
        ),
        wrong(
            TRACE_SQUARE,
            "B @ A",
            vec![
                swapped("k", "l"),
                transposed("(B @ A)[k,l]", "(B @ A)[l,k]"),
            ],
        ),
        wrong(
            DET,
            "Y*inv(X)[k,l]",
            vec![swapped("k", "l"), transposed("inv(X)[k,l]", "inv(X)[l,k]")],
        ),
        wrong(
            LOG_DET,
            "inv(X)[k,l]",
            vec![swapped("k", "l"), transposed("inv(X)[k,l]", "inv(X)[l,k]")],
        ),
        wrong(
            LOGSUMEXP,
            "delta(i,k)*softmax(X, axis=1)[l,i]",
            vec![transposed(
                "softmax(X, axis=1)[l,i]",
                "softmax(X, axis=1)[i,l]",
            )],
        ),
    ]
}

#[test]
fn every_wrong_claim_fails_with_exactly_the_hints_that_say_why() {
    let catalogue = catalogue();
    assert!(catalogue.len() >= 25, "{} wrong claims", catalogue.len());
    for case in &catalogue {
        let (code, doc) = check_json(case.problem, case.claim);
        let what = format!("{} about {:?}", case.claim, case.problem);
        assert_eq!(code, Some(3), "{what}: {doc}");
        assert_eq!(doc["holds"], false, "{what}");
        let hints = doc["hints"].as_array().unwrap();
        let kinds: Vec<&str> = hints.iter().map(|h| h["kind"].as_str().unwrap()).collect();
        let expected: Vec<&str> = case.hints.iter().map(|(kind, _)| *kind).collect();
        assert_eq!(kinds, expected, "{what}: {doc}");
        for (hint, (_, fields)) in hints.iter().zip(&case.hints) {
            for (key, value) in fields.as_object().unwrap() {
                assert_eq!(&hint[key], value, "{what}: {key} of {hint}");
            }
        }
    }
}

/// A wrong claim no hint explains is answered honestly: the counts and the first
/// difference, and no hint (here: the log-sum-exp's gradient written with the softmax of
/// the other axis; no checked candidate changes a tensor's axis).
#[test]
fn a_claim_no_hint_explains_says_so() {
    let (code, doc) = check_json(LOGSUMEXP, "delta(i,k)*softmax(X, axis=0)[i,l]");
    assert_eq!(code, Some(3), "{doc}");
    assert_eq!(doc["hints"], json!([]));
    assert!(doc["differing_entries"].as_u64().unwrap() > 0, "{doc}");
    assert!(doc["first_difference"].is_object(), "{doc}");
}

#[test]
fn correct_claims_hold() {
    let cases: &[(&[&str], &str, &str)] = &[
        // The seed's answer, in ASCII and Unicode.
        (SEED, "delta(i,k)*W[j,l]", "index"),
        (LINEAR, "δ(i,k)·W[j,l]", "index"),
        // ∂tr(AXB)/∂X = AᵀBᵀ.
        (TRACE, "(A.T @ B.T)[k,l]", "index"),
        (TRACE, "A.T @ B.T", "matrix"),
        (TRACE, "(B @ A)[l,k]", "index"),
        // ∂xᵀAx/∂x = (A + Aᵀ)x.
        (QUADRATIC_FORM, "((A + A.T) @ x)[k]", "index"),
        (QUADRATIC_FORM, "(A + A.T) @ x", "matrix"),
        // ∂log|det X|/∂X = X⁻ᵀ.
        (LOG_DET, "inv(X).T[k,l]", "index"),
        (LOG_DET, "inv(X)[l,k]", "index"),
        (LOG_DET, "inv(X).T", "matrix"),
        // ∂det X/∂X = det(X) X⁻ᵀ.
        (DET, "Y*inv(X)[l,k]", "index"),
        (
            RELU_LAYER,
            "delta(i,k)*relu'(X @ W.T + b)[i,j]*W[j,l]",
            "index",
        ),
        (
            SOFTMAX_ROWS,
            "delta(i,k)*delta(j,l)*Y[i,j] - delta(i,k)*Y[i,j]*Y[i,l]",
            "index",
        ),
        (LOGSUMEXP, "delta(i,k)*softmax(X, axis=1)[i,l]", "index"),
        (ROW_MEAN, "(1/3)*delta(i,k)", "index"),
        (SUM_OF_SQUARES, "2*X", "matrix"),
        (NORM_SQUARED, "2*x", "matrix"),
        (MATRIX_VECTOR, "A", "matrix"),
    ];
    for &(problem, claim, kind) in cases {
        let (code, doc) = check_json(problem, claim);
        assert_eq!(code, Some(0), "{claim} about {problem:?}: {doc}");
        assert_eq!(doc["holds"], true, "{claim}");
        assert_eq!(doc["kind"], kind, "{claim}");
        assert_eq!(doc["hints"], json!([]), "{claim}");
    }
}

/// A matrix claim must have J's shape in its layout, a J of rank > 2 needs a matrix
/// layout, and a kron must split the combined indices of that layout: each is bad input.
#[test]
fn a_matrix_claim_of_the_wrong_shape_or_layout_is_bad_input() {
    let refused = |problem: &[&str], claim: &str, layout: Option<&str>| {
        let output = Command::cargo_bin("jacscope")
            .unwrap()
            .arg("check")
            .args(problem)
            .args(["--claim", claim])
            .args(layout.map(|l| ["--layout", l]).iter().flatten())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{claim}");
        assert!(output.stdout.is_empty(), "{claim}");
        String::from_utf8(output.stderr).unwrap()
    };
    let message = refused(TRACE, "B @ A", None);
    assert!(
        message.contains("the matrix claim has shape 2×4 but J has shape 4×2"),
        "{message}"
    );
    assert!(message.contains("\n  B @ A\n  ^^^^^"), "{message}");
    let message = refused(SEED, "kron(W, eye(64))", None);
    assert!(
        message.contains(
            "J has rank 4, so a matrix claim is J in a matrix layout: give --layout \
             (numerator-colmajor, numerator-rowmajor, denominator-colmajor, denominator-rowmajor)"
        ),
        "{message}"
    );
    let message = refused(SEED, "kron(W, eye(64))", Some("denominator-colmajor"));
    assert!(
        message.contains(
            "the matrix claim has shape 32768×65536 but J in layout denominator-colmajor has \
             shape 65536×32768"
        ),
        "{message}"
    );
    // Column-major vec(Y) runs i fastest, so its rows split as (j, i) = 512×64: W ⊗ I₆₄,
    // never I₆₄ ⊗ W, which would need i slowest.
    let message = refused(SEED, "kron(eye(64), W)", Some("numerator-colmajor"));
    assert!(
        message.contains(
            "this kron reads its second operand over the last 512 positions of the combined \
             index (j, i) = 512×64 of J in layout numerator-colmajor, which no split of it gives"
        ),
        "{message}"
    );
    let message = refused(SEED, "relu(kron(W, eye(64)))", Some("numerator-colmajor"));
    assert!(
        message.contains(
            "this is read at the combined index (j, i) of J in layout numerator-colmajor, which \
             only kron, eye, outer, @, .T, + - * / take apart"
        ),
        "{message}"
    );
}

/// The seed's J in each matrix layout, written as the textbooks write it (Magnus &
/// Neudecker: ∂vec(XWᵀ)/∂vec(X)ᵀ = W ⊗ I), holds; compared without the dense 2³¹-entry
/// matrix, on the structural supports read off the claim's deltas.
#[test]
fn the_seed_in_each_matrix_layout_holds() {
    for (layout, claim) in [
        ("numerator-colmajor", "kron(W, eye(64))"),
        ("numerator-rowmajor", "kron(eye(64), W)"),
        ("denominator-colmajor", "kron(W.T, eye(64))"),
        ("denominator-rowmajor", "kron(eye(64), W.T)"),
        // A product with a combined inner index, and a sum.
        (
            "numerator-colmajor",
            "kron(W, eye(64)) @ kron(eye(1024), eye(64))",
        ),
        (
            "numerator-colmajor",
            "2 * kron(W, eye(64)) - kron(W.T.T, eye(64))",
        ),
    ] {
        let (code, doc) = check_json(&[SEED, &["--layout", layout]].concat(), claim);
        assert_eq!(code, Some(0), "{layout} {claim}: {doc}");
        assert_eq!(doc["kind"], "matrix");
        assert_eq!(doc["claim_only_support"], 0, "{layout} {claim}");
        assert_eq!(doc["true_only_support"], 0, "{layout} {claim}");
    }
}
