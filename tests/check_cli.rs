//! `jacscope check` with shape claims: exit codes 0 (holds), 3 (does not hold) and 2 (does
//! not parse), the report `shape --claim` gives, and the JSON keys.

use assert_cmd::Command;
use serde_json::{Value, json};

fn jacscope() -> Command {
    Command::cargo_bin("jacscope").expect("binary is built")
}

/// Runs jacscope with `args`; returns the exit code, stdout and stderr.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let output = jacscope().args(args).output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

#[test]
fn a_shape_that_is_j_in_some_layout_holds() {
    let (code, stdout, stderr) = run(&["check", "--claim", "64x512x64x1024"]);
    assert_eq!(code, Some(0), "{stderr}");
    // Reported exactly as `shape --claim` reports it.
    let (_, shape, _) = run(&["shape", "--claim", "64x512x64x1024"]);
    assert_eq!(stdout, shape);
    assert!(stdout.contains("is J in layout out+in"), "{stdout}");
}

#[test]
fn a_wrong_shape_exits_with_3_and_says_why_on_stdout() {
    let (code, stdout, stderr) = run(&["check", "--claim", "64x1024x1024x512"]);
    assert_eq!(code, Some(3));
    assert!(stderr.is_empty(), "no error message: {stderr}");
    let (_, shape, _) = run(&["shape", "--claim", "64x1024x1024x512"]);
    assert_eq!(stdout, shape);
    let (code, _, _) = run(&[
        "check", "X @ W.T", "-s", "X=3x4", "-s", "W=5x4", "--claim", "3x4x5x3",
    ]);
    assert_eq!(code, Some(3));
}

#[test]
fn a_malformed_claim_is_bad_input_with_a_caret() {
    for claim in ["64xx1024", "", "delta(i,k"] {
        let (code, stdout, stderr) = run(&["check", "--claim", claim]);
        assert_eq!(code, Some(2), "{claim}: {stderr}");
        assert!(stdout.is_empty());
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.contains('^'), "a caret under the claim: {stderr}");
        assert!(!stderr.contains("panicked"));
    }
    // --claim is required.
    let (code, _, _) = run(&["check"]);
    assert_eq!(code, Some(2));
}

#[test]
fn a_claim_may_begin_with_a_minus_sign() {
    // Read as the claim, not as an option: clap would otherwise exit 2 with a usage error
    // about an unexpected argument.
    let (code, _, stderr) = run(&["check", "--claim", "-64x512"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("-64x512"), "{stderr}");
    assert!(!stderr.contains("unexpected argument"), "{stderr}");
}

#[test]
fn the_json_of_a_shape_claim() {
    let output = jacscope()
        .args(["check", "--claim", "(64, 1024, 64, 512)", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["claim"], "(64, 1024, 64, 512)");
    assert_eq!(doc["kind"], "shape");
    assert_eq!(doc["holds"], true);
    assert_eq!(doc["shape"], json!([64, 1024, 64, 512]));
    assert_eq!(doc["matches"], json!(["in+out"]));
    assert!(doc["note"].as_str().unwrap().contains("in+out"));

    let output = jacscope()
        .args(["check", "--claim", "64x1024x1024x512", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (doc["kind"].as_str(), doc["holds"].as_bool()),
        (Some("shape"), Some(false))
    );
    assert_eq!(doc["matches"], json!([]));
}

#[test]
fn ascii_output_is_ascii() {
    let (code, stdout, _) = run(&["check", "--claim", "64x512x64x1024", "--ascii"]);
    assert_eq!(code, Some(0));
    assert!(stdout.is_ascii(), "{stdout}");
}
