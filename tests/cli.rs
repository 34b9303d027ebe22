//! The `jacscope` binary as scripts use it: every subcommand, and every class of bad input
//! (exit code 2, a clear message, a caret where there is an expression, never a panic).

use assert_cmd::Command;
use serde_json::Value;

#[path = "common/files.rs"]
mod files;
use files::{load_arg, write_npy};

fn jacscope() -> Command {
    Command::cargo_bin("jacscope").expect("binary is built")
}

/// Runs jacscope with `args`, expects success, and parses stdout as JSON.
fn json_of(args: &[&str]) -> Value {
    let output = jacscope().args(args).arg("--json").output().unwrap();
    assert!(
        output.status.success(),
        "jacscope {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON document")
}

/// Runs jacscope with `args`, expects exit code 2, and returns stderr.
fn bad_input(args: &[&str]) -> String {
    let output = jacscope().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(
        output.status.code(),
        Some(2),
        "jacscope {args:?} should fail with exit code 2; stderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.trim().is_empty());
    stderr
}

const SMALL: [&str; 4] = ["-s", "X=3x4", "-s", "W=5x4"];

#[test]
fn stats_of_the_default_example() {
    let stats = json_of(&["stats", "--structural-only"]);
    assert_eq!(stats["shape"], serde_json::json!([64, 512, 64, 1024]));
    assert_eq!(stats["entries"], 2147483648u64);
    assert_eq!(stats["structural_nonzeros"], 33554432u64);
    assert_eq!(stats["nonzeros"], Value::Null);
    assert_eq!(stats["nonzeros_method"], Value::Null);
    assert_eq!(stats["dense_bytes_f32"], 8589934592u64);
    assert!((stats["structural_density"].as_f64().unwrap() - 1.0 / 64.0).abs() < 1e-15);
}

#[test]
fn stats_counts_numeric_nonzeros() {
    let stats = json_of(&["stats", "relu(X @ W.T)", "-s", "X=6x4", "-s", "W=5x4"]);
    let structural = stats["structural_nonzeros"].as_u64().unwrap();
    let nonzeros = stats["nonzeros"].as_u64().unwrap();
    assert_eq!(structural, 6 * 5 * 4);
    // δ(i,k)·relu′(Z)[i,j]·W[j,l]: one term, counted from its two factors.
    assert_eq!(stats["nonzeros_method"], "factorized");
    // relu′ vanishes where X @ W.T is negative: about half the rows' entries.
    assert!(
        nonzeros < structural && nonzeros > 0,
        "{nonzeros} of {structural}"
    );
}

#[test]
fn explain_gives_the_worked_answer() {
    let doc = json_of(&["explain"]);
    assert_eq!(doc["expression"], "X @ W.T");
    assert_eq!(doc["wrt"], "X");
    assert_eq!(doc["shape"], serde_json::json!([64, 512, 64, 1024]));
    assert_eq!(doc["entries"], 2147483648u64);
    assert_eq!(doc["structural_nonzeros"], 33554432u64);
    assert_eq!(doc["formula"]["ascii"], "delta(i,k)*W[j,l]");
    assert_eq!(doc["formula"]["unicode"], "δ(i,k)·W[j,l]");
    assert!(doc["steps"].as_array().unwrap().len() >= 3);
    let wrt_w = json_of(&[
        "explain",
        "X @ W.T",
        "--wrt",
        "W",
        "-s",
        "X=64x1024",
        "-s",
        "W=512x1024",
    ]);
    assert_eq!(wrt_w["formula"]["ascii"], "delta(j,k)*X[i,l]");

    let text = jacscope().arg("explain").output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("δ(i,k)·W[j,l]"), "{text}");
    assert!(text.contains("(64, 512, 64, 1024)"), "{text}");
    assert!(
        text.contains(
            "Where: nonzero only where i = k; every other entry is a structural zero \
             (1/64 of J can be nonzero)"
        ),
        "{text}"
    );
    assert_eq!(
        wrt_w["where_nonzero"],
        "nonzero only where j = k; every other entry is a structural zero (1/512 of J can be nonzero)"
    );
}

#[test]
fn at_reads_the_entry_of_w_and_checks_it() {
    let mut args = vec!["at", "X @ W.T"];
    args.extend(SMALL);
    args.extend(["--index", "1,3,1,2"]);
    let doc = json_of(&args);
    let value = doc["value"].as_f64().unwrap();
    assert!(value != 0.0);
    assert!(doc["fd_abs_error"].as_f64().unwrap() < 1e-6 * value.abs().max(1.0));
    assert_eq!(doc["fd_verdict"], "agrees");
    assert_eq!(doc["fd_reason"], Value::Null);
    assert_eq!(doc["zero_reason"], Value::Null);

    // The same entry is W[3,2]: the slice of W through `explain`'s own inputs agrees.
    let mut w_args = vec!["at", "W"];
    w_args.extend(["-s", "W=5x4", "-s", "X=3x4", "--index", "3,2,3,2"]);
    let identity = json_of(&w_args);
    assert_eq!(identity["value"].as_f64().unwrap(), 1.0);

    let mut zero = vec!["at", "X @ W.T"];
    zero.extend(SMALL);
    zero.extend(["--index", "0,3,2,1"]);
    let doc = json_of(&zero);
    assert_eq!(doc["value"].as_f64().unwrap(), 0.0);
    let reason = doc["zero_reason"].as_str().unwrap();
    assert!(reason.contains("δ(i,k) = 0"), "{reason}");
}

#[test]
fn at_prints_the_breakdown_with_short_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let x = load_arg(
        "X",
        &write_npy(&dir, "X.npy", &ndarray::arr2(&[[1.0, 2.0]])),
    );
    let w = load_arg(
        "W",
        &write_npy(&dir, "W.npy", &ndarray::arr2(&[[0.25, -0.123456789]])),
    );
    let output = jacscope()
        .args(["at", "X @ W.T", "-l", &x, "-l", &w, "--index", "0,0,0,1"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // The entry to ten significant digits, each factor of its term to five.
    assert_eq!(lines[0], "∂Y[0,0]/∂X[0,1] = -0.123456789");
    assert_eq!(lines[1], "  δ(0,0)·W[0,1] = 1 × −0.12346 = −0.12346");
    assert!(
        lines[2].starts_with("finite difference: -0.123456789"),
        "{text}"
    );
    assert!(lines[2].ends_with("— agrees"), "{text}");
}

#[test]
fn at_says_when_the_check_disagrees_and_why() {
    let dir = tempfile::tempdir().unwrap();
    // X @ W.T = [[1·0 + 0·1]] = 0 exactly: relu has a kink there.
    let x = load_arg(
        "X",
        &write_npy(&dir, "X.npy", &ndarray::arr2(&[[1.0, 0.0]])),
    );
    let w = load_arg(
        "W",
        &write_npy(&dir, "W.npy", &ndarray::arr2(&[[0.0, 1.0]])),
    );
    let doc = json_of(&[
        "at",
        "relu(X @ W.T)",
        "-l",
        &x,
        "-l",
        &w,
        "--index",
        "0,0,0,1",
    ]);
    assert_eq!(doc["value"], 0.0);
    assert_eq!(doc["fd_value"], 0.5);
    assert_eq!(doc["fd_verdict"], "disagrees");
    let reason = doc["fd_reason"].as_str().unwrap();
    assert!(reason.contains("kink"), "{reason}");
}

#[test]
fn at_still_answers_when_the_check_cannot_be_made() {
    // A[0,0] moved by the finite-difference step h = ∛ε makes A exactly singular:
    // [[1 + h, 1 + h], [1, 1]]. A itself is invertible (det −h, condition number ~10⁶).
    let h = f64::EPSILON.cbrt();
    let dir = tempfile::tempdir().unwrap();
    let a = load_arg(
        "A",
        &write_npy(&dir, "A.npy", &ndarray::arr2(&[[1.0, 1.0 + h], [1.0, 1.0]])),
    );
    let args = ["at", "inv(A)", "-l", &a, "--index", "0,0,0,0"];
    // ∂inv(A)[0,0]/∂A[0,0] = −inv(A)[0,0]², with inv(A)[0,0] = 1/det = −1/h.
    let expected = -1.0 / (h * h);
    let doc = json_of(&args);
    let value = doc["value"].as_f64().unwrap();
    assert!((value - expected).abs() < 1e-6 * expected.abs(), "{value}");
    assert_eq!(doc["fd_value"], Value::Null);
    assert_eq!(doc["fd_abs_error"], Value::Null);
    assert_eq!(doc["fd_verdict"], "not made");
    let reason = doc["fd_reason"].as_str().unwrap();
    assert!(
        reason.starts_with("the expression cannot be evaluated next to this point: cannot compute inv(A): the matrix is singular"),
        "{reason}"
    );

    let output = jacscope().args(args).output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("∂Y[0,0]/∂A[0,0] = -2.72"), "{text}");
    assert!(lines[1].starts_with("  −"), "the breakdown: {text}");
    let check = lines.last().unwrap();
    assert!(
        check.starts_with("finite difference: NOT MADE — the expression cannot be evaluated next to this point: cannot compute inv(A)"),
        "{text}"
    );
}

#[test]
fn slice_spy_plot_and_values() {
    let output = jacscope()
        .args(["slice", "--axes", "k,l", "--fix", "i=2,j=3"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    // Only row k = i = 2 of the (k,l) slice is lit.
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.contains('*') || l.ends_with('.'))
        .collect();
    let lit: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains('*'))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(lit.len(), 1, "{text}");

    let mut args = vec!["slice", "X @ W.T"];
    args.extend(SMALL);
    args.extend(["--axes", "i,k", "--fix", "j=1,l=2", "--format", "json"]);
    let output = jacscope().args(&args).output().unwrap();
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    let values = doc["values"].as_array().unwrap();
    assert_eq!(values.len(), 3);
    for (i, row) in values.iter().enumerate() {
        for (k, v) in row.as_array().unwrap().iter().enumerate() {
            assert_eq!(v.as_f64().unwrap() != 0.0, i == k, "diagonal only");
        }
    }
}

#[test]
fn dense_writes_out_shape_plus_in_shape_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("J.npy");
    let path_text = path.to_str().unwrap();
    let mut args = vec!["dense", "X @ W.T"];
    args.extend(SMALL);
    args.extend(["-o", path_text]);
    jacscope().args(&args).assert().success();
    let dense: ndarray::ArrayD<f64> = ndarray_npy::read_npy(&path).unwrap();
    assert_eq!(dense.shape(), &[3, 5, 3, 4]);
    let stderr = bad_input(&args);
    assert!(stderr.contains("--force"), "{stderr}");
    args.push("--force");
    jacscope().args(&args).assert().success();

    let missing = dir.path().join("no/such/dir/J.npy");
    let mut args = vec!["dense", "X @ W.T"];
    args.extend(SMALL);
    args.extend(["-o", missing.to_str().unwrap()]);
    assert!(bad_input(&args).contains("does not exist"));

    let big = dir.path().join("big.npy");
    let stderr = bad_input(&["dense", "-o", big.to_str().unwrap()]);
    assert!(stderr.contains("--max-entries"), "{stderr}");
    assert!(!big.exists());
}

#[test]
fn expression_errors_have_a_caret() {
    let cases: [(&[&str], &str); 9] = [
        (
            &["explain", "X $ W", "-s", "X=2x2", "-s", "W=2x2"],
            "unexpected character",
        ),
        (&["explain", "(X @ W", "-s", "X=2x2", "-s", "W=2x2"], "("),
        (&["explain", "X W", "-s", "X=2x2", "-s", "W=2x2"], "after"),
        (&["explain", "relux(X)", "-s", "X=2x2"], "unknown function"),
        (&["explain", "sum(X, X)", "-s", "X=2x2"], "argument"),
        (&["explain", "sum(X, axes=1)", "-s", "X=2x2"], "keyword"),
        (
            &["explain", "X @ W", "-s", "X=64x1024", "-s", "W=512x1024"],
            "W.T",
        ),
        (&["explain", "inv(X)", "-s", "X=3x4"], "square"),
        (&["explain", "X @ W + b", "-s", "X=2x2"], "-s"),
    ];
    for (args, needle) in cases {
        let stderr = bad_input(args);
        assert!(stderr.contains('^'), "no caret for {args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    let stderr = bad_input(&["explain", "X @ W + b", "-s", "X=2x2"]);
    assert!(
        stderr.contains("W") && stderr.contains("b"),
        "lists every missing shape: {stderr}"
    );
    let stderr = bad_input(&[
        "explain", "X @ W.T", "--wrt", "Z", "-s", "X=2x2", "-s", "W=2x2",
    ]);
    assert!(stderr.contains("Z"), "{stderr}");
}

#[test]
fn bad_flags_are_clear_errors() {
    assert!(bad_input(&["at", "--index", "0,0,0"]).contains("axes"));
    assert!(bad_input(&["at", "--index", "0,0,64,0"]).contains("out of range"));
    assert!(bad_input(&["at", "--index", "a,b"]).contains("integers"));
    assert!(bad_input(&["slice", "--axes", "k,q"]).contains("no axis 'q'"));
    assert!(bad_input(&["slice", "--axes", "k,l", "--fix", "z=1"]).contains("no axis 'z'"));
    assert!(bad_input(&["stats", "-s", "X=0x3"]).contains("X"));
    assert!(bad_input(&["stats", "-s", "X=-3x3"]).contains("X"));
    assert!(bad_input(&["stats", "-s", "X=axb"]).contains("X"));
}

#[test]
fn loaded_inputs_are_used_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let w = ndarray::arr2(&[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    let load = load_arg("W", &write_npy(&dir, "W.npy", &w));
    let doc = json_of(&[
        "at", "X @ W.T", "-s", "X=4x2", "-l", &load, "--index", "1,2,1,1",
    ]);
    assert_eq!(
        doc["value"].as_f64().unwrap(),
        6.0,
        "∂Y[1,2]/∂X[1,1] = W[2,1]"
    );

    let stderr = bad_input(&[
        "at", "X @ W.T", "-s", "X=4x2", "-s", "W=2x2", "-l", &load, "--index", "0,0,0,0",
    ]);
    assert!(stderr.contains("W"), "{stderr}");

    let nan = ndarray::arr2(&[[1.0, f64::NAN]]);
    let load = load_arg("X", &write_npy(&dir, "nan.npy", &nan));
    let stderr = bad_input(&["stats", "sum(X)", "-l", &load]);
    assert!(
        stderr.contains("NaN") && stderr.contains("[0, 1]"),
        "{stderr}"
    );

    let corrupt = dir.path().join("corrupt.npy");
    std::fs::write(&corrupt, b"\x93NUMPY garbage").unwrap();
    let load = format!("X={}", corrupt.display());
    bad_input(&["stats", "sum(X)", "-l", &load]);
}

#[test]
fn the_same_seed_gives_the_same_numbers() {
    let args = [
        "at", "X @ W.T", "-s", "X=3x4", "-s", "W=5x4", "--index", "0,1,0,2", "--seed", "7",
    ];
    let a = json_of(&args);
    let b = json_of(&args);
    assert_eq!(a["value"], b["value"]);
    let mut other = args.to_vec();
    other[9] = "8";
    assert_ne!(json_of(&other)["value"], a["value"]);
}
