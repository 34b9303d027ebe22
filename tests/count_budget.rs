//! The numeric count that would take hours says so instead of running: `stats` does not
//! start a count estimated over the limit (and says what it would cost), `--count-all`
//! counts regardless, and on small problems every way of counting agrees with the
//! nonzero entries of the dense J.

use serde_json::Value;
use tempfile::TempDir;

#[path = "common/run.rs"]
mod run;
use run::succeeds;

/// The Hessian of a sigmoid layer's sum with respect to W, W 16×4096 and a batch of 512:
/// Σ_m δ(k,g)·X[m,l]·X[m,h]·sigmoid″(Z1)[m,k] does not factorize and sums the 512 rows
/// of X at each of its 16·4096·4096 structurally nonzero entries.
const SIGMOID_HESSIAN: [&str; 9] = [
    "sum(sigmoid(X @ W.T + b))",
    "-s",
    "X=512x4096",
    "-s",
    "W=16x4096",
    "-s",
    "b=16",
    "--wrt",
    "W,W",
];

/// Its count's cost, worked out by hand: entries where k = g, times the rows summed.
const SIGMOID_HESSIAN_OPERATIONS: u64 = 16 * 4096 * 4096 * 512;

fn stats(problem: &[&str], extra: &[&str]) -> String {
    let mut args = vec!["stats"];
    args.extend_from_slice(problem);
    args.extend_from_slice(extra);
    succeeds(&args).stdout
}

fn stats_json(problem: &[&str], extra: &[&str]) -> Value {
    let mut extra = extra.to_vec();
    extra.push("--json");
    serde_json::from_str(&stats(problem, &extra)).expect("stats --json prints JSON")
}

#[test]
fn a_count_over_the_limit_is_not_started_and_says_what_it_would_cost() {
    let text = stats(&SIGMOID_HESSIAN, &[]);
    let line = text
        .lines()
        .find(|line| line.starts_with("numeric nonzeros"))
        .expect("a numeric nonzeros line");
    assert_eq!(
        line,
        "numeric nonzeros     not counted: about 1.4e11 operations (the limit is 1e11); \
         --count-all counts anyway"
    );
    assert!(text.contains("structural nonzeros  268,435,456 "), "{text}");

    let doc = stats_json(&SIGMOID_HESSIAN, &[]);
    assert_eq!(doc["nonzeros"], Value::Null);
    assert_eq!(doc["nonzeros_method"], Value::Null);
    let why = &doc["nonzeros_not_counted"];
    assert_eq!(why["reason"], "over_limit");
    assert_eq!(why["operations"], SIGMOID_HESSIAN_OPERATIONS);
    assert_eq!(why["limit"], 100_000_000_000u64);
    assert_eq!(doc["structural_nonzeros"], 16 * 4096 * 4096u64);
}

#[test]
fn structural_only_still_skips_the_count() {
    for extra in [
        &["--structural-only"][..],
        &["--structural-only", "--count-all"],
    ] {
        let doc = stats_json(&SIGMOID_HESSIAN, extra);
        assert_eq!(doc["nonzeros"], Value::Null);
        assert_eq!(doc["nonzeros_not_counted"]["reason"], "structural_only");
    }
}

/// The nonzero entries of J as `jacscope dense` writes it.
fn dense_nonzeros(problem: &[&str]) -> u64 {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("J.npy");
    let mut args = vec!["dense"];
    args.extend_from_slice(problem);
    args.extend(["-o", path.to_str().unwrap()]);
    succeeds(&args);
    let dense: ndarray::ArrayD<f64> = ndarray_npy::read_npy(&path).unwrap();
    dense.iter().filter(|&&v| v != 0.0).count() as u64
}

#[test]
fn count_all_counts_what_the_dense_jacobian_holds() {
    // Evaluated entry by entry (the sigmoid Hessian), and from the factors (relu′ is 0 on
    // about half of X @ W.T + b).
    let sigmoid: [&str; 9] = [
        SIGMOID_HESSIAN[0],
        "-s",
        "X=6x3",
        "-s",
        "W=4x3",
        "-s",
        "b=4",
        "--wrt",
        "W,W",
    ];
    let relu = [
        "relu(X @ W.T + b)",
        "-s",
        "X=6x3",
        "-s",
        "W=4x3",
        "-s",
        "b=4",
    ];
    for (problem, method) in [(&sigmoid[..], "evaluated"), (&relu[..], "factorized")] {
        let expected = dense_nonzeros(problem);
        let all = stats_json(problem, &["--count-all"]);
        assert_eq!(all["nonzeros"], expected, "{problem:?}");
        assert_eq!(all["nonzeros_method"], method, "{problem:?}");
        assert_eq!(all["nonzeros_not_counted"], Value::Null);
        let within = stats_json(problem, &[]);
        assert_eq!(within["nonzeros"], expected, "{problem:?}");
    }
    // The relu case has numerical zeros: its count is less than the structural one.
    let structural = stats_json(&relu, &[])["structural_nonzeros"]
        .as_u64()
        .unwrap();
    assert!(dense_nonzeros(&relu) < structural);
}
