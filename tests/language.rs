//! The structural functions of the language end to end (issue 12): `eye`, `kron`, `diag`,
//! `sign` and `outer` are parsed, evaluated, differentiated and printed by the binary, and
//! their derivatives agree with the finite-difference witness; bad calls are refused with
//! a caret.

#[path = "common/run.rs"]
mod run;
use run::{refused, succeeds};

/// The `at --json` document of `expression` at `index`.
fn at(expression: &str, shapes: &[&str], wrt: &str, index: &str) -> serde_json::Value {
    let mut args = vec!["at", expression, "--wrt", wrt, "--index", index, "--json"];
    for shape in shapes {
        args.extend(["-s", shape]);
    }
    serde_json::from_str(&succeeds(&args).stdout).expect("one JSON document")
}

#[test]
fn explain_differentiates_through_a_product_with_a_kronecker_constant() {
    let args = [
        "explain",
        "trace(kron(A, eye(2)) @ X)",
        "-s",
        "A=2x2",
        "-s",
        "X=4x4",
        "--wrt",
        "X",
    ];
    let text = succeeds(&args).stdout;
    assert!(text.contains("∂Y/∂X[k,l] = Z1[l,k]"), "{text}");
    assert!(text.contains("where Z1 = kron(A, eye(2))"), "{text}");
    let ascii = succeeds(&[&args[..], &["--ascii"]].concat()).stdout;
    assert!(ascii.contains("Z1[i,j] = kron(A, eye(2))[i,j]"), "{ascii}");
}

#[test]
fn entries_of_the_new_functions_agree_with_finite_differences() {
    let cases: &[(&str, &[&str], &str, &[&str])] = &[
        (
            "diag(x) @ W",
            &["x=3", "W=3x4"],
            "x",
            &["1,2,1", "1,2,0", "0,3,0"],
        ),
        (
            "diag(x) @ W",
            &["x=3", "W=3x4"],
            "W",
            &["2,1,2,1", "2,1,0,1"],
        ),
        (
            "outer(x, W @ x)",
            &["x=3", "W=4x3"],
            "x",
            &["0,1,0", "2,3,1"],
        ),
        (
            "diag(A @ A.T) * sign(A @ v)",
            &["A=3x3", "v=3"],
            "A",
            &["1,1,2", "0,2,1"],
        ),
        (
            "inv(A + 3 * eye(3))",
            &["A=3x3"],
            "A",
            &["0,1,1,2", "2,2,2,2"],
        ),
        (
            "kron(B, eye(2)) @ x",
            &["B=2x3", "x=6"],
            "x",
            &["3,5", "0,0", "1,0"],
        ),
    ];
    for (expression, shapes, wrt, indices) in cases {
        for index in *indices {
            let doc = at(expression, shapes, wrt, index);
            assert_eq!(doc["fd_verdict"], "agrees", "{expression} wrt {wrt}: {doc}");
        }
    }
    // a structural zero of diag: δ(i,k) with i = 1 ≠ k = 0
    let doc = at("diag(x) @ W", &["x=3", "W=3x4"], "x", "1,2,0");
    assert_eq!(doc["value"], 0.0, "{doc}");
}

#[test]
fn bad_calls_are_refused_with_a_caret() {
    let stderr = refused(
        &["explain", "kron(A, x)", "-s", "A=2x2", "-s", "x=3"],
        &[
            "kron needs two matrices, but x is a vector of length 3",
            "^",
        ],
    );
    assert!(stderr.contains("  kron(A, x)\n          ^\n"), "{stderr}");
    refused(
        &["explain", "eye(n) @ x", "-s", "x=3", "-s", "n=scalar"],
        &["eye needs a positive integer literal such as eye(3), not n"],
    );
    refused(
        &["explain", "outer(A, x)", "-s", "A=2x2", "-s", "x=3"],
        &["outer needs two vectors, but A is 2×2"],
    );
    refused(
        &["explain", "diag(A)", "-s", "A=2x3"],
        &["diag needs a vector or a square matrix, but A is 2×3"],
    );
    refused(
        &[
            "explain",
            "kron(A, X)",
            "-s",
            "A=2x2",
            "-s",
            "X=2x2",
            "--wrt",
            "X",
        ],
        &["the derivative through kron(…) is not supported yet: kron(A, X) depends on X"],
    );
}
