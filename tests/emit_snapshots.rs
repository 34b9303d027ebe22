//! `jacscope explain --emit numpy|jax|torch`: the code written for every expression of
//! tests/fixtures/emit_cases.json, kept as insta snapshots so that CI sees any change of it
//! without Python (scripts/check_emitted_code.py runs the same code against `dense` and
//! `at`), and the names the code refuses.

use serde_json::Value;

#[path = "common/run.rs"]
mod run;
use run::{refused, succeeds};

const FRAMEWORKS: [&str; 3] = ["numpy", "jax", "torch"];

/// The cases: name and the command-line arguments of the problem.
fn cases() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/emit_cases.json"
    ))
    .unwrap();
    let cases: Value = serde_json::from_str(&text).unwrap();
    cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| {
            let mut args = vec![case["expr"].as_str().unwrap().to_string()];
            for shape in case["shapes"].as_array().unwrap() {
                args.extend(["-s".to_string(), shape.as_str().unwrap().to_string()]);
            }
            if let Some(wrt) = case["wrt"].as_str() {
                args.extend(["--wrt".to_string(), wrt.to_string()]);
            }
            (case["name"].as_str().unwrap().to_string(), args)
        })
        .collect()
}

#[test]
fn emitted_code_of_every_case_in_every_framework() {
    let cases = cases();
    assert!(cases.len() >= 30, "the catalogue covers the language");
    for (name, problem) in cases {
        for framework in FRAMEWORKS {
            let mut args = vec!["explain"];
            args.extend(problem.iter().map(String::as_str));
            args.extend(["--emit", framework]);
            let code = succeeds(&args).stdout;
            assert!(code.is_ascii(), "{name} {framework}: the code is ASCII");
            insta::assert_snapshot!(format!("{name}_{framework}"), code);
        }
    }
}

#[test]
fn json_holds_the_same_code() {
    let args = [
        "explain", "X @ W.T", "-s", "X=2x3", "-s", "W=4x3", "--emit", "jax",
    ];
    let text = succeeds(&args).stdout;
    let json = succeeds(&[&args[..], &["--json"]].concat()).stdout;
    let document: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(document["framework"], "jax");
    assert_eq!(
        document["code"].as_str().unwrap().trim_end(),
        text.trim_end()
    );
}

#[test]
fn names_python_cannot_take_are_refused() {
    refused(
        &[
            "explain",
            "lambda * X",
            "-s",
            "lambda=scalar",
            "-s",
            "X=2x2",
            "--wrt",
            "X",
            "--emit",
            "torch",
        ],
        &["variable lambda", "Python keyword", "rename it"],
    );
    refused(
        &[
            "explain", "np @ X", "-s", "np=2x2", "-s", "X=2x2", "--emit", "numpy",
        ],
        &["variable np", "imports a module"],
    );
    // The same name is fine where nothing else is called np.
    succeeds(&[
        "explain", "np @ X", "-s", "np=2x2", "-s", "X=2x2", "--emit", "torch",
    ]);
    refused(
        &["explain", "X", "-s", "X=2", "--emit", "pandas"],
        &["invalid value 'pandas'", "numpy, jax, torch"],
    );
}
