//! `jacscope check` with index claims, end to end: the seed's answer holds in both draws,
//! wrong claims say where and why they fail, and a claim that does not parse is bad input
//! with a caret.

use assert_cmd::Command;
use serde_json::Value;

#[path = "common/run.rs"]
mod run;
use run::check_json;

/// The kinds of the hints of a document.
fn kinds(doc: &Value) -> Vec<String> {
    doc["hints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap().to_string())
        .collect()
}

/// X and W square, so that axes can be permuted and W transposed.
const SQUARE: [&str; 5] = ["X @ W.T", "-s", "X=4x4", "-s", "W=4x4"];

#[test]
fn the_seeds_answer_holds_in_both_draws() {
    let (code, doc) = check_json(&[], "delta(i,k)*W[j,l]");
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["kind"], "index");
    assert_eq!(doc["holds"], true);
    assert_eq!(doc["checked"]["draws"], 2);
    // 2^25 structural nonzeros: more than an exact visit allows.
    assert_eq!(doc["checked"]["method"], "sampled");
    for key in [
        "claim",
        "differing_entries",
        "claim_only_support",
        "true_only_support",
        "first_difference",
        "hints",
    ] {
        assert!(doc.get(key).is_some(), "{key} in {doc}");
    }
    let (code, doc) = check_json(&SQUARE, "δ(i,k)·W[j,l]");
    assert_eq!(
        (code, &doc["checked"]["method"]),
        (Some(0), &Value::from("exact"))
    );
}

#[test]
fn each_wrong_claim_says_where_and_why() {
    for (claim, hint) in [
        ("2*delta(i,k)*W[j,l]", "scale"),
        ("-delta(i,k)*W[j,l]", "scale"),
        ("delta(j,k)*W[i,l]", "permutation"),
        ("W[j,l]", "missing_delta"),
        ("delta(i,k)*W[l,j]", "transposed_factor"),
    ] {
        let (code, doc) = check_json(&SQUARE, claim);
        assert_eq!(code, Some(3), "{claim}: {doc}");
        assert_eq!(doc["holds"], false);
        assert!(kinds(&doc).contains(&hint.to_string()), "{claim}: {doc}");
        let first = &doc["first_difference"];
        assert_eq!(first["index"].as_array().unwrap().len(), 4, "{claim}");
        assert!(
            !first["true_terms"].as_array().unwrap().is_empty(),
            "{claim}"
        );
        assert!(doc["differing_entries"].as_u64().unwrap() > 0);
    }
    let (_, doc) = check_json(&SQUARE, "W[j,l]");
    assert_eq!(doc["claim_only_support"], 4 * 4 * 4 * 4 - 4 * 4 * 4);
}

#[test]
fn a_claim_that_does_not_parse_is_bad_input_with_a_caret() {
    let output = Command::cargo_bin("jacscope")
        .unwrap()
        .args(["check", "--claim", "delta(i,z)*W[j,l]"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.contains('^'),
        "{stderr}"
    );
}

#[test]
fn the_text_report_gives_verdict_method_tolerance_and_hints() {
    let output = Command::cargo_bin("jacscope")
        .unwrap()
        .arg("check")
        .args(SQUARE)
        .args(["--claim", "2*delta(i,k)*W[j,l]", "--ascii"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.is_ascii(), "{stdout}");
    for part in [
        "verdict:   the claim does not hold",
        "exact",
        "tolerance: |claim - J| <= 1e-9*max(1, |claim|, |J|)",
        "first difference: dY[",
        "the claim is 2 * J",
    ] {
        assert!(stdout.contains(part), "{part} in:\n{stdout}");
    }
}

/// The lines of the first difference's breakdown, claim's then J's (`  claim: …`, its
/// terms, `  true: …`, its terms), as `check` prints them.
fn breakdown(args: &[&str]) -> (String, String) {
    let out = run::run(args);
    assert_eq!(out.code, Some(3), "{}{}", out.stdout, out.stderr);
    let text = out.stdout;
    let claim = text.split("  claim:").nth(1).expect("a claim breakdown");
    let (claim, truth) = claim.split_once("  true:").expect("J's breakdown");
    let truth = truth.split("hints:").next().unwrap_or(truth);
    (claim.to_string(), truth.to_string())
}

/// The claim's terms name the nodes of J's graph as J does, and its own expressions by
/// their text, so that one name never means two nodes.
#[test]
fn the_claims_breakdown_names_nodes_as_j_does() {
    let (claim, truth) = breakdown(&[
        "check",
        "softplus(relu(X @ W.T) @ V)",
        "-s",
        "X=2x3",
        "-s",
        "W=3x3",
        "-s",
        "V=3x2",
        "--claim",
        "delta(i,k)*softplus'(Z2)[i,j]*V[0,j]*W[0,l]",
    ]);
    assert!(claim.contains("softplus′(Z2)[0,0]"), "{claim}");
    assert!(truth.contains("softplus′(Z2)[0,0]"), "{truth}");

    let (claim, truth) = breakdown(&[
        "check",
        "kron(A, B) @ x",
        "-s",
        "A=2x3",
        "-s",
        "B=3x2",
        "-s",
        "x=6",
        "--wrt",
        "x",
        "--claim",
        "kron(B, A)",
    ]);
    assert!(claim.contains("kron(B, A)[0,1]"), "{claim}");
    assert!(!claim.contains("Z1"), "{claim}");
    assert!(truth.contains("Z1[0,1]"), "{truth}");
}

/// tanh′ and sigmoid′ are printed in closed form through the layer's value
/// (`(1 - Y[i,j]^2)`, `Y[i,j]*(1 - Y[i,j])`, a non-root value named in the where list); the
/// printed formula, pasted back as a claim, holds, at first and at second order (where
/// f″ stays `sigmoid''(Z1)`).
#[test]
fn printed_closed_forms_of_tanh_and_sigmoid_hold_as_claims() {
    let shapes = ["-s", "X=3x4", "-s", "W=2x4", "-s", "b=2"];
    // (expression, wrt, the formula as printed, or a part of it)
    let cases = [
        ("tanh(X @ W.T)", "X", "delta(i,k)*(1 - Y[i,j]^2)*W[j,l]"),
        (
            "sigmoid(X @ W.T)",
            "X",
            "delta(i,k)*Y[i,j]*(1 - Y[i,j])*W[j,l]",
        ),
        (
            "sum(tanh(X @ W.T + b))",
            "W",
            "sum_m (1 - Z1[m,k]^2)*X[m,l]",
        ),
        ("sigmoid(X @ W.T + b) @ W", "X", "Z1[i,m]*(1 - Z1[i,m])"),
        ("tanh(X @ W.T)", "X,W", "(1 - Y[i,j]^2)"),
        ("sum(tanh(X @ W.T + b))", "X,W", "(1 - Z2[k,g]^2)"),
        ("sum(sigmoid(X @ W.T + b))", "X,X", "sigmoid''(Z1)[k,m]"),
    ];
    for (expression, wrt, printed) in cases {
        let mut problem = vec![expression];
        problem.extend(shapes);
        problem.extend(["--wrt", wrt]);
        let mut explain = vec!["explain", "--json"];
        explain.extend(&problem);
        let doc: Value = serde_json::from_str(&run::succeeds(&explain).stdout).unwrap();
        let formula = doc["formula"]["ascii"].as_str().unwrap();
        assert!(
            formula.contains(printed),
            "{expression} wrt {wrt}: {formula}"
        );
        let (code, verdict) = check_json(&problem, formula);
        assert_eq!(
            code,
            Some(0),
            "{expression} wrt {wrt}: {formula}: {verdict}"
        );
        assert_eq!(verdict["holds"], true);
    }
}
