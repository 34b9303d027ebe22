//! The finite-difference check does not cry wolf (issue 11, item 12): on smooth functions
//! it agrees at any scale of the input, and it still catches a wrong value.

use ndarray::arr2;
use tempfile::TempDir;

#[path = "common/files.rs"]
mod files;
use files::{load_arg, write_npy};

#[path = "common/run.rs"]
mod run;
use run::succeeds;

#[test]
fn the_finite_difference_check_agrees_on_smooth_functions_at_any_scale() {
    let dir = TempDir::new().unwrap();
    let cases = [
        ("sum(log(P))", 5e-4),
        ("log(P)", 1e-3),
        ("1 / P", 1e-3),
        ("sqrt(P)", 1e-3),
        ("sin(P)", 1000.0),
        ("exp(P)", 30.0),
    ];
    for (expression, p) in cases {
        let load = load_arg("P", &write_npy(&dir, "p.npy", &arr2(&[[p]])));
        let index = if expression.starts_with("sum") {
            "0,0"
        } else {
            "0,0,0,0"
        };
        let done = succeeds(&["at", expression, "-l", &load, "--index", index, "--json"]);
        let doc: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
        assert_eq!(doc["fd_verdict"], "agrees", "{expression} at {p}: {doc}");
    }
}

#[test]
fn at_reports_the_estimated_error_of_the_finite_difference() {
    let dir = TempDir::new().unwrap();
    let load = load_arg("P", &write_npy(&dir, "p.npy", &arr2(&[[5e-4]])));
    let args = ["at", "log(P)", "-l", &load, "--index", "0,0,0,0"];
    let doc: serde_json::Value =
        serde_json::from_str(&succeeds(&[&args[..], &["--json"]].concat()).stdout).unwrap();
    let estimate = doc["fd_error_estimate"].as_f64().expect("a number");
    // log's derivative at 5e-4 is 2000; the estimate bounds the error, far below 1%.
    assert!(estimate > 0.0 && estimate < 1e-3, "{doc}");
    let abs_error = doc["fd_abs_error"].as_f64().unwrap();
    assert!(abs_error <= estimate, "{doc}");
    let text = succeeds(&args).stdout;
    assert!(text.contains(", error estimate "), "{text}");
}
