//! Tests of reading claims; the independent witness is J itself: a claim that holds
//! equals J at every entry.
use super::*;
use crate::calculus::{self, Notation};
use crate::eval;
use crate::inputs::Inputs;

/// J of `source` with respect to `wrt`, with the inputs it was evaluated at (seed 0).
fn problem(source: &str, shapes: &[(&str, &str)], wrt: &str) -> (Jacobian, Inputs) {
    crate::jacobian::test_support::problem(source, shapes, wrt, BTreeMap::new())
}

/// The claim bound to the problem's inputs, as a Jacobian of its own.
fn bind(graph: Graph, formula: Formula, truth: &Jacobian, inputs: &Inputs) -> Jacobian {
    let values = eval::evaluate(&graph, inputs).unwrap();
    Jacobian::new(graph, truth.wrt(), formula, &values).unwrap()
}

/// The bound index claim `text` about `truth`.
fn bound(text: &str, truth: &Jacobian, inputs: &Inputs) -> Jacobian {
    match parse_claim(text, truth, None) {
        Ok(Claim::Index(claim)) => bind(claim.graph, claim.formula, truth, inputs),
        Ok(Claim::Shape(shape)) => panic!("{text} read as the shape {shape:?}"),
        Err(e) => panic!("{}", e.render(text)),
    }
}

/// Every index of a tensor of shape `dims`, in row-major order.
fn every_index(dims: &[usize]) -> impl Iterator<Item = Vec<usize>> + '_ {
    let count: usize = dims.iter().product();
    (0..count).map(move |mut flat| {
        let mut index = vec![0; dims.len()];
        for (axis, &dim) in dims.iter().enumerate().rev() {
            index[axis] = flat % dim;
            flat /= dim;
        }
        index
    })
}

/// Whether `claim` equals `truth` at every entry (to a relative 1e-9; NaN where J is
/// NaN, as `sqrt` of a negative input gives).
fn agrees(claim: &Jacobian, truth: &Jacobian) -> bool {
    every_index(&truth.shape()).all(|index| {
        let (a, b) = (claim.entry(&index), truth.entry(&index));
        (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
    })
}

/// Whether claim `text` holds for `source` differentiated by `wrt`.
fn holds(text: &str, source: &str, shapes: &[(&str, &str)], wrt: &str) -> bool {
    let (truth, inputs) = problem(source, shapes, wrt);
    agrees(&bound(text, &truth, &inputs), &truth)
}

/// The error of claim `text` about `source` differentiated by `wrt`, with the text its
/// span covers.
fn error(text: &str, source: &str, shapes: &[(&str, &str)], wrt: &str) -> (String, String) {
    let (truth, _) = problem(source, shapes, wrt);
    let e = parse_claim(text, &truth, None).expect_err(text);
    (
        e.message.clone(),
        text[e.span.start..e.span.end].to_string(),
    )
}

/// An expression, the shapes of its variables, and the variable J differentiates by.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

const LINEAR: &[(&str, &str)] = &[("X", "3x4"), ("W", "2x4"), ("b", "2")];

#[test]
fn the_seed_answer_holds_in_both_notations() {
    for text in ["delta(i,k)*W[j,l]", "δ(i,k)·W[j,l]", " δ(i, k) · W[j, l] "] {
        assert!(holds(text, "X @ W.T", LINEAR, "X"), "{text}");
    }
}

/// (expression, shapes, wrt) across the language.
const ROUND_TRIP: &[Case] = &[
    ("X @ W.T", LINEAR, "X"),
    ("X @ W.T", LINEAR, "W"),
    ("relu(X @ W.T + b)", LINEAR, "X"),
    ("relu(X @ W.T + b)", LINEAR, "b"),
    ("softmax(X @ W.T, axis=1)", LINEAR, "X"),
    ("softmax(X, axis=0)", &[("X", "3x2")], "X"),
    ("logsumexp(X @ W.T, axis=1)", LINEAR, "W"),
    ("logsumexp(X)", &[("X", "2x3")], "X"),
    (
        "trace(A @ X @ B)",
        &[("A", "2x3"), ("X", "3x3"), ("B", "3x2")],
        "X",
    ),
    ("inv(X)", &[("X", "3x3")], "X"),
    ("det(X @ X.T)", &[("X", "2x3")], "X"),
    ("sum(X * X, axis=1) / b", &[("X", "2x3"), ("b", "2")], "X"),
    ("mean(X, axis=0) - 3 * sum(X)", &[("X", "2x3")], "X"),
    ("X / (square(W) + 1)", &[("X", "2x3"), ("W", "2x3")], "W"),
    ("sqrt(X) ** 1.5", &[("X", "2x2")], "X"),
    (
        "log(sqrt(exp(X) + 1) + X) * sigmoid(X)",
        &[("X", "2x2")],
        "X",
    ),
    (
        "tanh(X @ W1) @ W2",
        &[("X", "2x3"), ("W1", "3x4"), ("W2", "4x2")],
        "W1",
    ),
    ("X @ v", &[("X", "3x4"), ("v", "4")], "v"),
    ("sum(x * x) * c", &[("x", "3"), ("c", "scalar")], "x"),
    ("var(X, axis=0)", &[("X", "3x2")], "X"),
    ("std(X) * X", &[("X", "3x2")], "X"),
    ("X + b", &[("X", "3x4"), ("b", "1x4")], "b"),
    ("relu(Y @ Z1)", &[("Y", "2x2"), ("Z1", "2x2")], "Y"),
    (
        "softplus(abs(X)) ** -2 + cos(X) * sin(X)",
        &[("X", "2x2")],
        "X",
    ),
];

#[test]
fn j_printed_in_either_notation_reads_back_as_j() {
    for &(source, shapes, wrt) in ROUND_TRIP {
        let (truth, inputs) = problem(source, shapes, wrt);
        for notation in [Notation::Unicode, Notation::Ascii] {
            let text = calculus::render(truth.formula(), truth.graph(), notation);
            let claim = bound(&text, &truth, &inputs);
            assert!(agrees(&claim, &truth), "{source} wrt {wrt}: {text}");
        }
    }
}

#[test]
fn sub_expressions_derivatives_and_intermediates() {
    let relu = "relu(X @ W.T + b)";
    for text in [
        "relu'(X @ W.T + b)[i,j]*delta(i,k)*W[j,l]",
        "relu′(Z1)[i,j]·δ(i,k)·W[j,l]",
        "δ(i,k)·relu'(Z1)[i,j]*(W)[j,l]",
    ] {
        assert!(holds(text, relu, LINEAR, "X"), "{text}");
    }
    // The sub-expression is J's own node, not a copy.
    let (truth, _) = problem(relu, LINEAR, "X");
    let Ok(Claim::Index(claim)) =
        parse_claim("relu'(X @ W.T + b)[i,j]*delta(i,k)*W[j,l]", &truth, None)
    else {
        panic!("not an index claim")
    };
    assert_eq!(claim.graph.nodes.len(), truth.graph().nodes.len());
    // A new expression is appended, and its nodes read their own text.
    let Ok(Claim::Index(claim)) = parse_claim("(X @ W.T)[i,j] * 0", &truth, None) else {
        panic!("not an index claim")
    };
    assert_eq!(claim.graph.nodes.len(), truth.graph().nodes.len());
    let Ok(Claim::Index(claim)) = parse_claim("sigmoid(X @ W.T)[i,j]*delta(i,k)", &truth, None)
    else {
        panic!("not an index claim")
    };
    let added = claim.graph.nodes.len() - 1;
    assert_eq!(claim.graph.text(added), "sigmoid(X @ W.T)");
    assert_eq!(claim.graph.root, truth.graph().root);

    // (expression)[i,j] as a factor: Y = tanh(Z) has J = (1 − Y²)·δ·δ.
    let square = &[("X", "2x3")];
    for text in [
        "(1 - tanh(X)**2)[i,j]*delta(i,k)*delta(j,l)",
        "δ(i,k)·δ(j,l) − (tanh(X))[i,j]^2·δ(i,k)·δ(j,l)",
        "delta(i,k)*delta(j,l)*(1 - Y[i,j]*Y[i,j])",
        "delta(i,k)*delta(j,l) - delta(i,k)*delta(j,l)*Y[i,j]²",
    ] {
        assert!(holds(text, "tanh(X)", square, "X"), "{text}");
    }
    // Division by a number and by a tensor; a leading minus; sums written by hand.
    let pair = &[("X", "2x3"), ("W", "2x3")];
    assert!(holds("delta(i,k)*delta(j,l)/W[i,j]", "X / W", pair, "X"));
    assert!(holds(
        "-delta(i,k)*delta(j,l)*X[i,j]/W[i,j]/W[i,j]",
        "X / W",
        pair,
        "W"
    ));
    assert!(holds("-δ(i,k)·δ(j,l)·X[i,j]·W[i,j]⁻²", "X / W", pair, "W"));
    assert!(holds("delta(i,k)/3", "mean(X, axis=1)", square, "X"));
    assert!(holds("-delta(i,k)*W[j,l]", "-(X @ W.T)", LINEAR, "X"));
    assert!(holds(
        "sum_m delta(i,k)*delta(m,l)*W[j,m]",
        "X @ W.T",
        LINEAR,
        "X"
    ));
    assert!(holds(
        "Σ_m,n δ(i,m)·δ(k,m)·δ(n,l)·W[j,n]",
        "X @ W.T",
        LINEAR,
        "X"
    ));
    assert!(holds(
        "sum_{m} delta(m,k)*delta(i,l)",
        "sum(X, axis=0)",
        square,
        "X"
    ));
    // Products of sums expand.
    assert!(holds(
        "(delta(i,k) + 0) * (W[j,l] + W[j,l]) / 2",
        "X @ W.T",
        LINEAR,
        "X"
    ));
}

#[test]
fn simplification_keeps_the_claims_meaning() {
    let (truth, inputs) = problem("softmax(X @ W.T, axis=1)", LINEAR, "X");
    for text in [
        "sum_m delta(i,k)*delta(m,l)*W[j,m]*Y[i,j] - sum_n,m delta(i,k)*Y[i,j]*Y[i,n]*W[n,m]*delta(m,l)",
        "(Y[i,j] - Y[i,j]*Y[i,j]) * delta(i,k) * W[j,l] + 2*delta(i,k) - 2*delta(k,i)",
    ] {
        let (graph, raw) = read_formula(text, &truth).unwrap();
        let raw_claim = bind(graph, raw, &truth, &inputs);
        let simplified = bound(text, &truth, &inputs);
        assert!(agrees(&raw_claim, &simplified), "{text}");
    }
    assert!(agrees(
        &bound(
            "sum_m delta(i,k)*delta(m,l)*W[j,m]*Y[i,j] - sum_n,m delta(i,k)*Y[i,j]*Y[i,n]*W[n,m]*delta(m,l)",
            &truth,
            &inputs
        ),
        &truth
    ));
}

#[test]
fn wrong_claims_parse_bind_and_differ() {
    let square = &[("X", "3x3"), ("W", "3x3")];
    for text in [
        "delta(j,k)*W[i,l]",
        "W[j,l]",
        "2*delta(i,k)*W[j,l]",
        "delta(i,k)*W[l,j]",
        "-delta(i,k)*W[j,l]",
        "δ(i,k)·W[j,l] + δ(j,k)",
    ] {
        assert!(!holds(text, "X @ W.T", square, "X"), "{text}");
    }
    assert!(!holds(
        "relu'(X @ W.T)[i,j]*delta(i,k)*W[j,l]",
        "relu(X @ W.T + b)",
        LINEAR,
        "X"
    ));
}

#[test]
fn shapes_are_shape_claims() {
    let (truth, _) = problem("X @ W.T", LINEAR, "X");
    for (text, shape) in [
        ("3x2x3x4", vec![3, 2, 3, 4]),
        ("(3, 2, 3, 4)", vec![3, 2, 3, 4]),
        ("[3, 2]", vec![3, 2]),
        ("()", vec![]),
    ] {
        match parse_claim(text, &truth, None) {
            Ok(Claim::Shape(read)) => assert_eq!(read, shape, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    let e = parse_claim("3x2x", &truth, None).unwrap_err();
    assert!(e.message.contains("dimension is missing"), "{}", e.message);
    assert!(matches!(
        parse_claim("x", &problem("x * 2", &[("x", "scalar")], "x").0, None),
        Ok(Claim::Index(_))
    ));
}

#[test]
fn every_error_points_at_its_cause() {
    let cases: &[(&str, &str, &str)] = &[
        // (claim, message fragment, the text under the caret)
        (
            "delta(i,k)*V[j,l]",
            "unknown name V: the claim can use",
            "V",
        ),
        ("delta(i,k)*(X @ V)[j,l]", "unknown name V", "V"),
        (
            "delta(i,k)*W[j]",
            "W has 2 axes (2×4) but is read at 1 index",
            "[j]",
        ),
        ("delta(i,k)*W", "W has 2 axes", "W"),
        (
            "delta(i,k)*W[j,q]",
            "index q is neither one of J's axes (i, j, k, l) nor summed",
            "q",
        ),
        (
            "sum_m W[m,l]*X[m,l]",
            "m already ranges over 2 in this claim, but axis 0 of X has 3 entries",
            "m",
        ),
        (
            "delta(i,k)*W[i,l]",
            "i is an axis of J of range 3, but axis 0 of W has 2 entries",
            "i",
        ),
        (
            "delta(i,k)*W[j,l] +",
            "expected a factor (a number, a delta, a tensor or '('), but the claim ends",
            "",
        ),
        ("delta(i,k)*W[j,l])", "this ')' has no matching '('", ")"),
        (
            "delta(i,k) W[j,l]",
            "expected an operator (+ - * /) or the end of the claim, found 'W'",
            "W",
        ),
        ("(delta(i,k)*W[j,l]", "this '(' is never closed", "("),
        (
            "delta(i k)",
            "expected ',' between the two indices of a delta",
            "k",
        ),
        (
            "relu'(X @ W)[i,j]",
            "`@` needs the inner dimensions to agree",
            "X @ W",
        ),
        (
            "foo'(X)[i,j]",
            "foo′ is not the derivative of an elementwise function",
            "foo",
        ),
        ("sum_i W[i,l]", "i is one of J's axes", "i"),
        ("sum_m delta(i,k)", "the range of m is not known", "m"),
        (
            "W[j,l]/delta(i,k)",
            "do not divide by a delta",
            "delta(i,k)",
        ),
        (
            "W[j,5]",
            "position 5 is out of range: axis 1 of W has 4 entries",
            "5",
        ),
        ("relu'(Z1)[i,j]^x", "expected a number after '^'", "x"),
        ("", "the claim is empty", ""),
        (
            "X @ W.T",
            "J has rank 4, so a matrix claim is J in a matrix layout: give --layout",
            "X @ W.T",
        ),
    ];
    let source = "relu(X @ W.T + b)";
    for &(text, message, caret) in cases {
        let (found, under) = error(text, source, LINEAR, "X");
        assert!(found.contains(message), "{text}: {found}");
        assert_eq!(under, caret, "{text}: {found}");
    }
    let (message, under) = error(
        "centered(X)[k,i]",
        "var(X, axis=0) + std(X)",
        &[("X", "3x2")],
        "X",
    );
    assert!(message.contains("ambiguous"), "{message}");
    assert_eq!(under, "centered(X)");
    // The caret is drawn by the expression diagnostic's renderer.
    let (truth, _) = problem(source, LINEAR, "X");
    let e = parse_claim("δ(i,k)·V[j,l]", &truth, None).unwrap_err();
    assert_eq!(e.render("δ(i,k)·V[j,l]").lines().nth(2), Some("         ^"));
}

#[test]
fn a_matrix_claim_is_read_in_js_own_layout_for_a_rank_2_j() {
    let shapes: &[(&str, &str)] = &[("A", "3x4"), ("X", "4x2"), ("B", "2x3")];
    let (truth, inputs) = problem("trace(A @ X @ B)", shapes, "X");
    for text in [
        "A.T @ B.T",
        "(A.T @ B.T)[k,l]",
        "(B @ A).T[k,l]",
        "(B @ A)[l,k]",
    ] {
        let Ok(Claim::Index(claim)) = parse_claim(text, &truth, None) else {
            panic!("{text} is not read as a formula");
        };
        let kind = if text.contains('[') {
            ClaimKind::Index
        } else {
            ClaimKind::Matrix
        };
        assert_eq!(claim.kind, kind, "{text}");
        let claimed = bind(claim.graph, claim.formula, &truth, &inputs);
        assert!(agrees(&claimed, &truth), "{text}");
    }
    assert!(holds(
        "inv(X).T[k,l]",
        "log(abs(det(X)))",
        &[("X", "3x3")],
        "X"
    ));
    assert!(holds("delta(i,k)*W.T[l,j]", "X @ W.T", LINEAR, "X"));
    // The printed formula of a constant J: a number alone, read as a formula.
    assert!(holds("0", "exp(X - X)", LINEAR, "X"));
    assert!(holds("1", "sum(X)", LINEAR, "X"));
    // A gradient's formula without brackets is still an index formula.
    assert!(holds("exp'(sum(X))", "exp(sum(X))", LINEAR, "X"));
    let (message, under) = error("B @ A", "trace(A @ X @ B)", shapes, "X");
    assert!(
        message.contains("the matrix claim has shape 2×4 but J has shape 4×2"),
        "{message}"
    );
    assert_eq!(under, "B @ A");
}
