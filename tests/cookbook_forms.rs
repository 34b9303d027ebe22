//! Gradients and Jacobians of the Matrix Cookbook (Petersen & Pedersen, sections 2.2–2.6)
//! and of the usual losses, with the matrix expression `jacscope explain` prints for each:
//! in Unicode as the textbook writes it (up to obvious rewriting: `(B + Bᵀ)·x` for
//! Bx + Bᵀx) and in the language. Each printed expression is pasted back into
//! `jacscope check --claim`, which compares it with J entry by entry in two draws of the
//! inputs, so that what the catalogue lists is what holds, not only what is printed.

#[path = "common/run.rs"]
mod run;
use run::{check_json, succeeds};

/// (expression, shapes, wrt, Unicode form, form in the language)
type Entry = (
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static str,
    &'static str,
);

const CATALOGUE: &[Entry] = &[
    ("x @ a", &["x=3", "a=3"], "x", "a", "a"),
    ("a @ x", &["x=3", "a=3"], "x", "a", "a"),
    (
        "a @ X @ b",
        &["a=3", "X=3x4", "b=4"],
        "X",
        "a·bᵀ",
        "outer(a, b)",
    ),
    (
        "a @ X.T @ b",
        &["a=4", "X=3x4", "b=3"],
        "X",
        "b·aᵀ",
        "outer(b, a)",
    ),
    ("a @ X @ a", &["a=3", "X=3x3"], "X", "a·aᵀ", "outer(a, a)"),
    (
        "b @ X.T @ X @ c",
        &["b=4", "X=3x4", "c=4"],
        "X",
        "(X·c)·bᵀ + (X·b)·cᵀ",
        "outer(X @ c, b) + outer(X @ b, c)",
    ),
    (
        "x @ B @ x",
        &["x=3", "B=3x3"],
        "x",
        "(B + Bᵀ)·x",
        "(B + B.T) @ x",
    ),
    (
        "(B @ x + b) @ C @ (D @ x + d)",
        &["B=3x4", "x=4", "b=3", "C=3x2", "D=2x4", "d=2"],
        "x",
        "Bᵀ·C·(D·x + d) + Dᵀ·Cᵀ·(B·x + b)",
        "B.T @ C @ (D @ x + d) + D.T @ C.T @ (B @ x + b)",
    ),
    ("x @ x", &["x=3"], "x", "2·x", "2 * x"),
    (
        "sqrt(x @ x)",
        &["x=3"],
        "x",
        // d‖x‖ = x/‖x‖
        "x / sqrt(xᵀ·x)",
        "x / sqrt(x @ x)",
    ),
    (
        "(x - a) @ (x - a)",
        &["x=3", "a=3"],
        "x",
        "2·(x − a)",
        "2 * (x - a)",
    ),
    (
        "sqrt((x - a) @ (x - a))",
        &["x=3", "a=3"],
        "x",
        "(x − a) / sqrt((x − a)ᵀ·(x − a))",
        "(x - a) / sqrt((x - a) @ (x - a))",
    ),
    ("trace(X)", &["X=3x3"], "X", "I₃", "eye(3)"),
    ("trace(X @ A)", &["X=3x4", "A=4x3"], "X", "Aᵀ", "A.T"),
    (
        "trace(A @ X @ B)",
        &["A=3x4", "X=4x5", "B=5x3"],
        "X",
        "Aᵀ·Bᵀ",
        "A.T @ B.T",
    ),
    (
        "trace(A @ X.T @ B)",
        &["A=3x5", "X=4x5", "B=4x3"],
        "X",
        "B·A",
        "B @ A",
    ),
    ("trace(X.T @ A)", &["X=3x4", "A=3x4"], "X", "A", "A"),
    ("trace(A @ X.T)", &["X=3x4", "A=3x4"], "X", "A", "A"),
    ("trace(X @ X)", &["X=3x3"], "X", "2·Xᵀ", "2 * X.T"),
    (
        "trace(X @ X @ B)",
        &["X=3x3", "B=3x3"],
        "X",
        "Bᵀ·Xᵀ + Xᵀ·Bᵀ",
        "B.T @ X.T + X.T @ B.T",
    ),
    (
        "trace(X.T @ B @ X)",
        &["X=3x4", "B=3x3"],
        "X",
        "(B + Bᵀ)·X",
        "(B + B.T) @ X",
    ),
    (
        "trace(X @ B @ X.T)",
        &["X=3x4", "B=4x4"],
        "X",
        "X·(B + Bᵀ)",
        "X @ (B + B.T)",
    ),
    (
        "trace(A @ X @ B @ X)",
        &["A=3x3", "X=3x3", "B=3x3"],
        "X",
        "Aᵀ·Xᵀ·Bᵀ + Bᵀ·Xᵀ·Aᵀ",
        "A.T @ X.T @ B.T + B.T @ X.T @ A.T",
    ),
    ("trace(X.T @ X)", &["X=3x4"], "X", "2·X", "2 * X"),
    (
        "trace(B @ X @ X.T)",
        &["B=3x3", "X=3x4"],
        "X",
        "(B + Bᵀ)·X",
        "(B + B.T) @ X",
    ),
    (
        "trace(X.T @ B @ X @ C)",
        &["X=3x4", "B=3x3", "C=4x4"],
        "X",
        "B·X·C + Bᵀ·X·Cᵀ",
        "B @ X @ C + B.T @ X @ C.T",
    ),
    (
        "trace(A @ X @ B @ X.T @ C)",
        &["A=2x3", "X=3x4", "B=4x4", "C=3x2"],
        "X",
        "Aᵀ·Cᵀ·X·Bᵀ + C·A·X·B",
        "A.T @ C.T @ X @ B.T + C @ A @ X @ B",
    ),
    (
        "trace((A @ X @ B + C) @ (A @ X @ B + C).T)",
        &["A=2x3", "X=3x4", "B=4x5", "C=2x5"],
        "X",
        "2·Aᵀ·(A·X·B + C)·Bᵀ",
        "2 * A.T @ (A @ X @ B + C) @ B.T",
    ),
    (
        "trace(X @ X @ X)",
        &["X=3x3"],
        "X",
        "3·(X²)ᵀ",
        "3 * X.T @ X.T",
    ),
    (
        "trace(X @ X @ X @ X)",
        &["X=3x3"],
        "X",
        "4·(X³)ᵀ",
        "4 * X.T @ X.T @ X.T",
    ),
    (
        "trace(inv(X))",
        &["X=3x3"],
        "X",
        "−(X⁻²)ᵀ",
        "-inv(X).T @ inv(X).T",
    ),
    (
        "trace(A @ inv(X) @ B)",
        &["A=2x3", "X=3x3", "B=3x2"],
        "X",
        "−X⁻ᵀ·Aᵀ·Bᵀ·X⁻ᵀ",
        "-inv(X).T @ A.T @ B.T @ inv(X).T",
    ),
    ("det(X)", &["X=3x3"], "X", "det(X)·X⁻ᵀ", "det(X) * inv(X).T"),
    ("log(abs(det(X)))", &["X=3x3"], "X", "X⁻ᵀ", "inv(X).T"),
    ("log(det(X))", &["X=3x3"], "X", "X⁻ᵀ", "inv(X).T"),
    (
        "det(A @ X @ B)",
        &["A=3x3", "X=3x3", "B=3x3"],
        "X",
        "det(A·X·B)·Aᵀ·(A·X·B)⁻ᵀ·Bᵀ",
        "det(A @ X @ B) * A.T @ inv(A @ X @ B).T @ B.T",
    ),
    (
        "det(X.T @ X)",
        &["X=4x3"],
        "X",
        "2·det(Xᵀ·X)·X·(Xᵀ·X)⁻¹",
        "2 * det(X.T @ X) * X @ inv(X.T @ X)",
    ),
    (
        "log(det(X.T @ X))",
        &["X=4x3"],
        "X",
        "2·X·(Xᵀ·X)⁻¹",
        "2 * X @ inv(X.T @ X)",
    ),
    (
        "det(X @ X)",
        &["X=3x3"],
        "X",
        "det(X²)·(X²)⁻ᵀ·Xᵀ + det(X²)·Xᵀ·(X²)⁻ᵀ",
        "det(X @ X) * inv(X @ X).T @ X.T + det(X @ X) * X.T @ inv(X @ X).T",
    ),
    (
        "a @ inv(X) @ b",
        &["a=3", "X=3x3", "b=3"],
        "X",
        "−(X⁻ᵀ·a)·(X⁻¹·b)ᵀ",
        "-outer(inv(X).T @ a, inv(X) @ b)",
    ),
    (
        "(X @ b + c) @ D @ (X @ b + c)",
        &["X=3x4", "b=4", "c=3", "D=3x3"],
        "X",
        "((D + Dᵀ)·(X·b + c))·bᵀ",
        "outer((D + D.T) @ (X @ b + c), b)",
    ),
    (
        "b @ X.T @ D @ X @ c",
        &["b=4", "X=3x4", "D=3x3", "c=4"],
        "X",
        "(D·X·c)·bᵀ + (Dᵀ·X·b)·cᵀ",
        "outer(D @ X @ c, b) + outer(D.T @ X @ b, c)",
    ),
    ("sum(X * X)", &["X=3x4"], "X", "2·X", "2 * X"),
    (
        "sqrt(sum(X * X))",
        &["X=3x4"],
        "X",
        "X / sqrt(sum(X ⊙ X))",
        "X / sqrt(sum(X * X))",
    ),
    ("sum(X)", &["X=3x4"], "X", "1", "1"),
    ("A @ x", &["A=3x4", "x=4"], "x", "A", "A"),
    ("x @ A", &["A=3x4", "x=3"], "x", "Aᵀ", "A.T"),
    (
        "softmax(x, axis=0)",
        &["x=4"],
        "x",
        "diag(softmax(x)) − softmax(x)·softmax(x)ᵀ",
        "diag(softmax(x, axis=0)) - outer(softmax(x, axis=0), softmax(x, axis=0))",
    ),
    (
        "sigmoid(x)",
        &["x=4"],
        "x",
        "diag(sigmoid′(x))",
        "diag(sigmoid(x) * (1 - sigmoid(x)))",
    ),
    ("x * a", &["x=4", "a=4"], "x", "diag(a)", "diag(a)"),
    ("exp(x)", &["x=4"], "x", "diag(exp(x))", "diag(exp(x))"),
    ("log(x)", &["x=4"], "x", "diag(1 / x)", "diag(1 / x)"),
    (
        "tanh(x)",
        &["x=4"],
        "x",
        "diag(tanh′(x))",
        "diag(1 - tanh(x) ** 2)",
    ),
    (
        "logsumexp(x)",
        &["x=4"],
        "x",
        "softmax(x)",
        "softmax(x, axis=0)",
    ),
    (
        "A @ relu(W @ x)",
        &["A=2x3", "W=3x4", "x=4"],
        "x",
        "A·diag(relu′(W·x))·W",
        "A @ diag(relu(sign(W @ x))) @ W",
    ),
    (
        "(A @ x - b) @ (A @ x - b)",
        &["A=3x4", "x=4", "b=3"],
        "x",
        "2·Aᵀ·(A·x − b)",
        "2 * A.T @ (A @ x - b)",
    ),
    (
        "sum(square(X @ w - y))",
        &["X=5x3", "w=3", "y=5"],
        "w",
        "2·Xᵀ·(X·w − y)",
        "2 * X.T @ (X @ w - y)",
    ),
    (
        "sum(softplus(X @ w))",
        &["X=5x3", "w=3"],
        "w",
        "Xᵀ·sigmoid(X·w)",
        "X.T @ sigmoid(X @ w)",
    ),
    (
        "(a @ x) * (b @ x)",
        &["a=3", "b=3", "x=3"],
        "x",
        "(xᵀ·b)·a + (xᵀ·a)·b",
        "(x @ b) * a + (x @ a) * b",
    ),
    ("trace(X @ X.T)", &["X=3x4"], "X", "2·X", "2 * X"),
    ("sum(exp(X))", &["X=3x4"], "X", "exp(X)", "exp(X)"),
    ("sum(log(X * X))", &["X=3x4"], "X", "2 / X", "2 / X"),
    (
        "x @ x / (x @ x + 1)",
        &["x=3"],
        "x",
        "2·x / (xᵀ·x + 1) − 2·(xᵀ·x)·x / (xᵀ·x + 1)²",
        "2 * x / (x @ x + 1) - 2 * (x @ x) * x / (x @ x + 1) ** 2",
    ),
    (
        "trace(X) * trace(X)",
        &["X=3x3"],
        "X",
        "2·tr(X)·I₃",
        "2 * trace(X) * eye(3)",
    ),
    (
        "sum(sigmoid(X @ w))",
        &["X=5x3", "w=3"],
        "w",
        "Xᵀ·sigmoid′(X·w)",
        "X.T @ (sigmoid(X @ w) * (1 - sigmoid(X @ w)))",
    ),
    (
        "x.T @ inv(A) @ x",
        &["x=3", "A=3x3"],
        "x",
        "(A⁻¹ + A⁻ᵀ)·x",
        "(inv(A) + inv(A).T) @ x",
    ),
    (
        "x.T @ inv(A) @ x",
        &["x=3", "A=3x3"],
        "A",
        "−(A⁻ᵀ·x)·(A⁻¹·x)ᵀ",
        "-outer(inv(A).T @ x, inv(A) @ x)",
    ),
    (
        "trace(A @ X) * trace(B @ X)",
        &["A=3x3", "X=3x3", "B=3x3"],
        "X",
        "tr(B·X)·Aᵀ + tr(A·X)·Bᵀ",
        "trace(B @ X) * A.T + trace(A @ X) * B.T",
    ),
    (
        "sum(relu(X @ W.T + b))",
        &["X=4x3", "W=2x3", "b=2"],
        "W",
        "relu′(X·Wᵀ + b)ᵀ·X",
        "relu(sign(X @ W.T + b)).T @ X",
    ),
    (
        "sum(relu(X @ W.T + b))",
        &["X=4x3", "W=2x3", "b=2"],
        "b",
        "sum(relu′(X·Wᵀ + b), axis=0)",
        "sum(relu(sign(X @ W.T + b)), axis=0)",
    ),
    (
        "mean(X @ w)",
        &["X=5x3", "w=3"],
        "w",
        "(1/5)·sum(X, axis=0)",
        "(1/5) * sum(X, axis=0)",
    ),
    ("c * x", &["c=scalar", "x=3"], "c", "x", "x"),
    ("c * X", &["c=scalar", "X=2x3"], "c", "X", "X"),
    ("W @ x + b", &["W=2x3", "x=3", "b=2"], "b", "I₂", "eye(2)"),
    (
        "logsumexp(X @ w)",
        &["X=5x3", "w=3"],
        "w",
        "Xᵀ·softmax(X·w)",
        "X.T @ softmax(X @ w, axis=0)",
    ),
];

/// Hessians (`--wrt x,x`) and mixed second derivatives (`--wrt x,y`) with respect to
/// vectors: rank-2 J's, with their textbook matrix expressions, checked like the gradients.
const SECOND_ORDER: &[Entry] = &[
    ("x @ A @ x", &["x=3", "A=3x3"], "x,x", "A + Aᵀ", "A + A.T"),
    ("x @ x", &["x=3"], "x,x", "2·I₃", "2 * eye(3)"),
    (
        "sum(square(A @ x - b))",
        &["A=4x3", "x=3", "b=4"],
        "x,x",
        "2·Aᵀ·A",
        "2 * A.T @ A",
    ),
    (
        "0.5 * sum((A @ x - b) ** 2)",
        &["A=4x3", "x=3", "b=4"],
        "x,x",
        "Aᵀ·A",
        "A.T @ A",
    ),
    (
        "x @ inv(A) @ x",
        &["x=3", "A=3x3"],
        "x,x",
        "A⁻¹ + A⁻ᵀ",
        "inv(A) + inv(A).T",
    ),
    (
        "(a @ x) * (b @ x)",
        &["a=3", "b=3", "x=3"],
        "x,x",
        "a·bᵀ + b·aᵀ",
        "outer(a, b) + outer(b, a)",
    ),
    (
        "logsumexp(x)",
        &["x=4"],
        "x,x",
        "diag(softmax(x)) − softmax(x)·softmax(x)ᵀ",
        "diag(softmax(x, axis=0)) - outer(softmax(x, axis=0), softmax(x, axis=0))",
    ),
    (
        // the logistic loss: Xᵀ·diag(σ′(X·w))·X
        "sum(softplus(X @ w)) - y @ (X @ w)",
        &["X=5x3", "w=3", "y=5"],
        "w,w",
        "Xᵀ·diag(sigmoid′(X·w))·X",
        "X.T @ diag(sigmoid(X @ w) * (1 - sigmoid(X @ w))) @ X",
    ),
    (
        "sum(sigmoid(X @ w))",
        &["X=5x3", "w=3"],
        "w,w",
        "Xᵀ·diag(sigmoid′′(X·w))·X",
        "X.T @ diag(sigmoid(X @ w) * (1 - sigmoid(X @ w)) * (1 - 2 * sigmoid(X @ w))) @ X",
    ),
    (
        "sum(log(x))",
        &["x=4"],
        "x,x",
        "−diag(1 / x^∘²)",
        "-diag(1 / x ** 2)",
    ),
    (
        "sum(exp(x))",
        &["x=3"],
        "x,x",
        "diag(exp(x))",
        "diag(exp(x))",
    ),
    (
        "sum(tanh(x))",
        &["x=3"],
        "x,x",
        "diag(tanh′′(x))",
        "diag(-2 * tanh(x) * (1 - tanh(x) ** 2))",
    ),
    (
        "sum(x * x * x)",
        &["x=3"],
        "x,x",
        "6·diag(x)",
        "6 * diag(x)",
    ),
    (
        // ∂²‖x‖ = (I − x·xᵀ/‖x‖²)/‖x‖
        "sqrt(x @ x)",
        &["x=3"],
        "x,x",
        "I₃ / sqrt(xᵀ·x) − x·xᵀ / sqrt(xᵀ·x)³",
        "eye(3) / sqrt(x @ x) - outer(x, x) / sqrt(x @ x) ** 3",
    ),
    ("x @ A @ y", &["x=3", "A=3x4", "y=4"], "x,y", "A", "A"),
    ("x @ y", &["x=3", "y=3"], "x,y", "I₃", "eye(3)"),
    (
        "(A @ x) @ (B @ y)",
        &["A=4x3", "x=3", "B=4x2", "y=2"],
        "x,y",
        "Aᵀ·B",
        "A.T @ B",
    ),
    (
        "(x @ a) * (y @ b)",
        &["x=3", "a=3", "y=2", "b=2"],
        "x,y",
        "a·bᵀ",
        "outer(a, b)",
    ),
    (
        "sum(square(A @ x - b))",
        &["A=4x3", "x=3", "b=4"],
        "x,b",
        "−2·Aᵀ",
        "-2 * A.T",
    ),
];

/// The problem's arguments: the expression, `-s` for each shape, `--wrt`.
fn problem(entry: &Entry) -> Vec<&'static str> {
    let (source, shapes, wrt, _, _) = *entry;
    let mut args = vec![source];
    for shape in shapes {
        args.extend(["-s", shape]);
    }
    args.extend(["--wrt", wrt]);
    args
}

#[test]
fn the_catalogue_has_forty_gradients_and_hessians_at_least() {
    assert!(CATALOGUE.len() + SECOND_ORDER.len() >= 40);
    assert!(SECOND_ORDER.len() >= 12);
}

#[test]
fn every_entry_prints_its_textbook_form_and_it_holds() {
    // Every entry is run, and every mismatch reported at once.
    let mut wrong = Vec::new();
    for entry in CATALOGUE.iter().chain(SECOND_ORDER) {
        let (source, _, wrt, unicode, ascii) = *entry;
        let args = problem(entry);
        let run = succeeds(&[&["explain", "--json"], &args[..]].concat());
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let form = &doc["matrix_form"];
        if form["unicode"] != unicode || form["expression"] != ascii {
            wrong.push(format!(
                "{source} wrt {wrt}: printed {} / {}, expected {unicode:?} / {ascii:?}",
                form["unicode"], form["expression"]
            ));
            continue;
        }
        assert!(form["latex"].is_string(), "{source} wrt {wrt}");
        let (code, verdict) = check_json(&args, ascii);
        assert_eq!(code, Some(0), "{source} wrt {wrt}: {verdict}");
        assert_eq!(verdict["holds"], true, "{source} wrt {wrt}: {verdict}");
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_form_that_does_not_hold_is_not_printed() {
    // ∂sum(X @ W)/∂X = 𝟏𝟏ᵀWᵀ is constant along X's rows: the language has no vector of
    // ones to write it with, and explain says so rather than print something else.
    let run = succeeds(&["explain", "sum(X @ W)", "-s", "X=2x3", "-s", "W=3x4"]);
    assert!(
        run.stdout.contains("Matrix expression ∂Y/∂X: none found"),
        "{}",
        run.stdout
    );
    let run = succeeds(&[
        "explain",
        "--json",
        "sum(X @ W)",
        "-s",
        "X=2x3",
        "-s",
        "W=3x4",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["matrix_form"]["expression"], serde_json::Value::Null);
}

#[test]
fn a_second_derivative_is_labelled_as_one() {
    let run = succeeds(&[
        "explain",
        "x @ A @ x",
        "-s",
        "x=3",
        "-s",
        "A=3x3",
        "--order",
        "2",
    ]);
    assert!(
        run.stdout.contains("Matrix expression ∂²Y/∂x∂x = A + Aᵀ\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("  LaTeX: \\frac{\\partial^2 Y}{\\partial x \\partial x} = A + A^\\top\n"),
        "{}",
        run.stdout
    );
    let run = succeeds(&[
        "explain",
        "--ascii",
        "x @ A @ y",
        "-s",
        "x=3",
        "-s",
        "A=3x4",
        "-s",
        "y=4",
        "--wrt",
        "x,y",
    ]);
    assert!(
        run.stdout.contains("Matrix expression d^2Y/dxdy = A\n"),
        "{}",
        run.stdout
    );
    let run = succeeds(&["explain", "x @ A @ x", "-s", "x=3", "-s", "A=3x3"]);
    assert!(
        run.stdout
            .contains("  LaTeX: \\frac{\\partial Y}{\\partial x} = \\left(A + A^\\top\\right) x\n"),
        "{}",
        run.stdout
    );
}
