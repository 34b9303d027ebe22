//! Every Kronecker form `jacscope explain` prints with an expression of the language holds
//! when pasted back as `jacscope check --claim EXPR --layout numerator-colmajor` (the
//! column-major form) or `numerator-rowmajor` (the row-major one): linear layers by either
//! variable, elementwise functions, transposes, traces, the seed, and Hessians. The check
//! compares the claim with J entry by entry, in two draws of the inputs, so what `explain`
//! prints is what holds, not only what it derives.

#[path = "common/run.rs"]
mod run;
use run::{check_json, succeeds};

/// (expression, shapes, wrt): the problem's arguments.
type Case = (&'static str, &'static [&'static str], &'static str);

/// Problems whose Kronecker forms have expressions in the language.
const WITH_EXPRESSIONS: &[Case] = &[
    // the seed: X @ W.T by X at 64×1024 and 512×1024
    ("", &[], ""),
    ("X @ W.T", &["X=3x4", "W=5x4"], "X"),
    ("X @ W + b", &["X=3x4", "W=4x5", "b=5"], "W"),
    ("X @ W + b", &["X=3x4", "W=4x5", "b=5"], "X"),
    ("tanh(X) @ W", &["X=3x4", "W=4x2"], "W"),
    ("relu(X @ W1) @ W2", &["X=3x4", "W1=4x5", "W2=5x2"], "W2"),
    ("exp(b) * X", &["X=3x4", "b=4"], "X"),
    ("X * b", &["X=3x4", "b=4"], "X"),
    ("A @ X @ B", &["A=2x3", "X=3x4", "B=4x5"], "X"),
    ("X @ X", &["X=3x3"], "X"),
    ("3 * (X @ W) - X @ V.T", &["X=3x3", "W=3x3", "V=3x3"], "X"),
    ("X / c", &["X=2x3", "c=scalar"], "X"),
    ("(X @ W.T).T", &["X=3x4", "W=5x4"], "W"),
    // Hessians and a mixed second derivative
    ("trace(X.T @ A @ X)", &["X=4x3", "A=4x4"], "X,X"),
    ("trace(X @ X.T @ A)", &["X=3x2", "A=3x3"], "X,X"),
    ("sum(X * X)", &["X=2x3"], "X,X"),
    ("trace(X.T @ X)", &["X=3x2"], "X,X"),
    ("sum((X @ w) ** 2)", &["X=3x2", "w=2"], "X,X"),
    ("W @ x", &["W=2x3", "x=3"], "x,W"),
    // least squares: I ⊗ AᵀA, and by the other factor W·Wᵀ ⊗ I
    (
        "0.5 * sum((A @ X - B) ** 2)",
        &["A=4x3", "X=3x2", "B=4x2"],
        "X,X",
    ),
    ("sum((X @ W - T) ** 2)", &["X=4x3", "W=3x2", "T=4x2"], "X,X"),
    ("sum((X @ W) * (X @ W))", &["X=2x3", "W=3x3"], "W,W"),
    ("trace(X @ W @ X.T)", &["X=2x3", "W=3x3"], "X,X"),
    // f″ in closed form: sigmoid″(u) = sigmoid′(u)·(1 − 2·sigmoid(u))
    ("sum(sigmoid(X @ w))", &["X=3x2", "w=2"], "X,X"),
];

/// Problems whose Kronecker forms need a commutation matrix or vec: no expression.
const WITHOUT: &[Case] = &[
    ("X @ W.T", &["X=3x4", "W=5x4"], "W"),
    ("X.T", &["X=3x4"], "X"),
    ("relu(X)", &["X=2x3"], "X"),
    ("trace(X @ W)", &["X=2x3", "W=3x2"], "X,W"),
];

/// The problem's arguments: the expression, `-s` for each shape, `--wrt`.
fn problem(case: &Case) -> Vec<&'static str> {
    let (source, shapes, wrt) = *case;
    let mut args = Vec::new();
    if !source.is_empty() {
        args.push(source);
    }
    for shape in shapes {
        args.extend(["-s", shape]);
    }
    if !wrt.is_empty() {
        args.extend(["--wrt", wrt]);
    }
    args
}

/// `explain --json`'s `matrix_form` for the problem.
fn matrix_form(args: &[&str]) -> serde_json::Value {
    let run = succeeds(&[&["explain", "--json"], args].concat());
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    doc["matrix_form"].clone()
}

#[test]
fn every_kronecker_form_explain_prints_in_the_language_holds_as_a_claim() {
    let mut checked = 0;
    for case in WITH_EXPRESSIONS {
        let args = problem(case);
        let form = matrix_form(&args);
        assert_eq!(form["checked"], true, "{case:?}: {form}");
        for (key, layout) in [
            ("colmajor_expression", "numerator-colmajor"),
            ("rowmajor_expression", "numerator-rowmajor"),
        ] {
            let claim = form[key]
                .as_str()
                .unwrap_or_else(|| panic!("{case:?}: no {key}: {form}"));
            let with_layout = [&args[..], &["--layout", layout]].concat();
            let (code, verdict) = check_json(&with_layout, claim);
            assert_eq!(code, Some(0), "{case:?}: {claim} in {layout}: {verdict}");
            assert_eq!(verdict["holds"], true, "{case:?}: {claim}: {verdict}");
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * WITH_EXPRESSIONS.len());
}

#[test]
fn a_form_read_in_the_other_vec_order_does_not_hold() {
    // The check is not vacuous: the column-major form of X @ W.T, read row-major, is J
    // with its axes permuted, and check says so with exit 3.
    let args = problem(&("X @ W.T", &["X=3x3", "W=3x3"], "X"));
    let form = matrix_form(&args);
    let claim = form["colmajor_expression"].as_str().unwrap();
    let with_layout = [&args[..], &["--layout", "numerator-rowmajor"]].concat();
    let (code, verdict) = check_json(&with_layout, claim);
    assert_eq!(code, Some(3), "{claim}: {verdict}");
    assert_eq!(verdict["holds"], false);
}

#[test]
fn forms_without_a_spelling_have_null_expressions_and_say_so() {
    for case in WITHOUT {
        let args = problem(case);
        let form = matrix_form(&args);
        assert!(form["colmajor"].is_string(), "{case:?}: {form}");
        assert_eq!(
            form["colmajor_expression"],
            serde_json::Value::Null,
            "{case:?}"
        );
        assert_eq!(
            form["rowmajor_expression"],
            serde_json::Value::Null,
            "{case:?}"
        );
        let text = succeeds(&[&["explain"], &args[..]].concat()).stdout;
        assert!(
            text.contains("\n  as an expression: none ("),
            "{case:?}: {text}"
        );
    }
}

#[test]
fn explain_prints_the_hessian_of_a_quadratic_form_as_i_kron_a_plus_a_transposed() {
    let text = succeeds(&[
        "explain",
        "trace(X.T @ A @ X)",
        "-s",
        "X=4x3",
        "-s",
        "A=4x4",
        "--wrt",
        "X,X",
    ])
    .stdout;
    for line in [
        "\nMatrix form ∂vec(∂Y/∂X)/∂vec(X)ᵀ: I₃ ⊗ (A + Aᵀ) (column-major vec), (A + Aᵀ) ⊗ I₃ (row-major vec_r)\n",
        "\n  as an expression (column-major: --layout numerator-colmajor): kron(eye(3), A + A.T)\n",
        "\n  as an expression (row-major: --layout numerator-rowmajor): kron(A + A.T, eye(3))\n",
    ] {
        assert!(text.contains(line), "{line:?} not in:\n{text}");
    }
    // a Hessian with no Kronecker form says so (Σ_m X[g,m] sums one matrix's row)
    let text = succeeds(&["explain", "sum(X @ X.T @ X)", "-s", "X=2x2", "--wrt", "X,X"]).stdout;
    assert!(
        text.contains("\nMatrix form ∂vec(∂Y/∂X)/∂vec(X)ᵀ: no Kronecker form\n"),
        "{text}"
    );
}

#[test]
fn forms_too_large_to_check_say_so() {
    // X @ W.T with W 2048×2048: the values have 10,485,760 entries, more than explain
    // evaluates twice to check a form.
    let args = ["X @ W.T", "-s", "X=512x2048", "-s", "W=2048x2048"];
    let form = matrix_form(&args);
    assert_eq!(form["checked"], false, "{form}");
    assert_eq!(form["colmajor_expression"], "kron(W, eye(512))");
    let text = succeeds(&[&["explain"], &args[..]].concat()).stdout;
    assert!(
        text.contains(
            "\n  as an expression (column-major: --layout numerator-colmajor): kron(W, eye(512)) \
             (not checked: the expression's values have more than 4,194,304 entries)\n"
        ),
        "{text}"
    );
}
