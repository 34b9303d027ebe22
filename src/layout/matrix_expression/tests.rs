use std::collections::BTreeMap;

use super::*;
use crate::expr;

/// The verified matrix expression of J = ∂`source`/∂`wrt` in Unicode and ASCII, checked
/// against J at the problem's inputs and a second draw; `None` if there is none.
fn form(source: &str, shapes: &[(&str, &str)], wrt: &str) -> Option<(String, String)> {
    let (jac, inputs) =
        crate::jacobian::test_support::problem(source, shapes, wrt, BTreeMap::new());
    let graph = jac.graph().clone();
    let second = Inputs::new(&graph, BTreeMap::new(), 1).unwrap();
    let found = verified(&jac, &[&inputs, &second]);
    if let Some(m) = &found {
        // The ASCII text is an expression of the language.
        expr::parse(m.get(Notation::Ascii)).unwrap();
    }
    found.map(|m| {
        (
            m.get(Notation::Unicode).to_string(),
            m.get(Notation::Ascii).to_string(),
        )
    })
}

fn pair(unicode: &str, ascii: &str) -> Option<(String, String)> {
    Some((unicode.to_string(), ascii.to_string()))
}

#[test]
fn the_issue_examples() {
    let s = [("A", "3x4"), ("X", "4x5"), ("B", "5x3")];
    assert_eq!(
        form("trace(A @ X @ B)", &s, "X"),
        pair("Aᵀ·Bᵀ", "A.T @ B.T")
    );
    assert_eq!(
        form("x @ A @ x", &[("x", "3"), ("A", "3x3")], "x"),
        pair("(A + Aᵀ)·x", "(A + A.T) @ x")
    );
    assert_eq!(form("trace(X)", &[("X", "3x3")], "X"), pair("I₃", "eye(3)"));
    assert_eq!(
        form("det(X)", &[("X", "3x3")], "X"),
        pair("det(X)·X⁻ᵀ", "det(X) * inv(X).T")
    );
    assert_eq!(
        form("sum(X * X)", &[("X", "3x4")], "X"),
        pair("2·X", "2 * X")
    );
    assert_eq!(
        form("sigmoid(z)", &[("z", "3")], "z"),
        pair("diag(sigmoid′(z))", "diag(sigmoid(z) * (1 - sigmoid(z)))")
    );
}

/// The value of `source` (with x a vector of 3) written as a matrix expression in ASCII.
fn written(source: &str) -> String {
    let (jac, _) =
        crate::jacobian::test_support::problem(source, &[("x", "3")], "x", BTreeMap::new());
    let graph = jac.graph();
    Mat::of_node(graph, graph.root).render(Notation::Ascii)
}

#[test]
fn powers_of_one_factor_merge_and_negative_ones_are_quotients() {
    assert_eq!(written("x * (x * x) ** (-1)"), "1 / x");
    assert_eq!(written("2 * x ** (-2) * x"), "2 / x");
    assert_eq!(written("(x @ x) ** (-1) * x"), "x / (x @ x)");
    assert_eq!(written("x ** 3 * x ** (-1)"), "x ** 2");
    // (−x)^½ is not (−1)^½·x^½: a coefficient is taken out of whole powers only
    assert_eq!(written("(-x) ** 0.5"), "(-x) ** 0.5");
}
