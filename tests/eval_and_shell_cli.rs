//! `jacscope eval` (the forward value, checked against an independent computation),
//! `jacscope completions` (the bash script really completes, in bash) and `jacscope man`
//! (a manual page groff renders without a warning, listing every subcommand).

use std::io::Write;
use std::process::{Command, Stdio};

use jacscope::problem::{Problem, ProblemSpec};
use ndarray::{Array0, Array2, Axis};
use tempfile::TempDir;

#[path = "common/run.rs"]
mod run;
use run::{refused, succeeds};

/// A fixed 3×4 input, written to `x.npy` in `dir`; returns it and its `-l` argument.
fn input(dir: &TempDir) -> (Array2<f64>, String) {
    let x = Array2::from_shape_fn((3, 4), |(i, j)| (i as f64 - 1.0) * 0.7 + (j as f64).sin());
    let path = dir.path().join("x.npy");
    ndarray_npy::write_npy(&path, &x).unwrap();
    (x, format!("X={}", path.display()))
}

#[test]
fn eval_writes_the_forward_value() {
    let dir = TempDir::new().unwrap();
    let (x, load) = input(&dir);
    let out = dir.path().join("y.npy");
    let run = succeeds(&[
        "eval",
        "softmax(X, axis=1) * 2",
        "-l",
        &load,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        run.stdout,
        format!(
            "wrote {} (3×4 f64, the value of softmax(X, axis=1) * 2)\n",
            out.display()
        )
    );
    let y: Array2<f64> = ndarray_npy::read_npy(&out).unwrap();
    // The witness: softmax written out directly, e^x / Σ e^x per row.
    let exp = x.mapv(f64::exp);
    let witness = &exp / &exp.sum_axis(Axis(1)).insert_axis(Axis(1)) * 2.0;
    for (got, want) in y.iter().zip(&witness) {
        assert!((got - want).abs() < 1e-15, "{got} vs {want}");
    }
    // An existing file is kept without --force, and replaced with it.
    refused(
        &["eval", "X", "-l", &load, "-o", out.to_str().unwrap()],
        &["already exists; pass --force"],
    );
    succeeds(&[
        "eval",
        "sum(X)",
        "-l",
        &load,
        "-o",
        out.to_str().unwrap(),
        "--force",
        "--json",
    ]);
    let total: Array0<f64> = ndarray_npy::read_npy(&out).unwrap();
    assert!((total.into_scalar() - x.sum()).abs() < 1e-14);
}

#[test]
fn eval_needs_no_variable_and_no_derivative() {
    // The value needs no Jacobian: an expression without variables, and a variable under
    // a kron (which cannot be differentiated), are evaluated all the same.
    let dir = TempDir::new().unwrap();
    let (x, load) = input(&dir);
    let out = dir.path().join("eye.npy");
    succeeds(&["eval", "2 * eye(3)", "-o", out.to_str().unwrap()]);
    let y: Array2<f64> = ndarray_npy::read_npy(&out).unwrap();
    assert_eq!(y, Array2::from_diag_elem(3, 2.0));
    let out = dir.path().join("kron.npy");
    succeeds(&[
        "eval",
        "kron(eye(2), X)",
        "-l",
        &load,
        "-o",
        out.to_str().unwrap(),
    ]);
    let y: Array2<f64> = ndarray_npy::read_npy(&out).unwrap();
    // The witness: the block-diagonal matrix with X twice.
    let mut witness = Array2::zeros((6, 8));
    witness.slice_mut(ndarray::s![0..3, 0..4]).assign(&x);
    witness.slice_mut(ndarray::s![3..6, 4..8]).assign(&x);
    assert_eq!(y, witness);
}

#[test]
fn eval_of_a_large_problem_computes_the_value_its_jacobian_does_not_need() {
    // ∂(X @ W.T)/∂X needs only W, and a product of 2²⁹ multiply-adds is above the work
    // at which a problem evaluates only what its Jacobian needs: eval must compute the
    // product itself.
    let spec = |loads: Vec<String>| ProblemSpec {
        expression: "X @ W.T".to_string(),
        shapes: vec![],
        loads,
        wrt: None,
        seed: 0,
        max_memory: None,
    };
    let dir = TempDir::new().unwrap();
    let (x_path, w_path, y_path) = (
        dir.path().join("x.npy"),
        dir.path().join("w.npy"),
        dir.path().join("y.npy"),
    );
    let x = Array2::from_shape_fn((1024, 1024), |(i, j)| ((i * 7 + j * 3) % 11) as f64 - 5.0);
    let w = Array2::from_shape_fn((512, 1024), |(i, j)| ((i * 5 + j) % 13) as f64 - 6.0);
    ndarray_npy::write_npy(&x_path, &x).unwrap();
    ndarray_npy::write_npy(&w_path, &w).unwrap();
    let loads = vec![
        format!("X={}", x_path.display()),
        format!("W={}", w_path.display()),
    ];
    let problem = Problem::build(spec(loads.clone())).unwrap();
    let root = problem.graph().root;
    assert!(
        problem.values.shared(root).is_none(),
        "the product must not be evaluated"
    );
    succeeds(&[
        "eval",
        "X @ W.T",
        "-l",
        &loads[0],
        "-l",
        &loads[1],
        "-o",
        y_path.to_str().unwrap(),
    ]);
    let y: Array2<f64> = ndarray_npy::read_npy(&y_path).unwrap();
    assert_eq!(y.dim(), (1024, 512));
    // Small integers: every entry is exact in any order of summation. A row and a column
    // of the witness, summed here entry by entry.
    let entry = |i: usize, j: usize| (0..1024).map(|l| x[[i, l]] * w[[j, l]]).sum::<f64>();
    for j in 0..512 {
        assert_eq!(y[[517, j]], entry(517, j), "[517, {j}]");
    }
    for i in 0..1024 {
        assert_eq!(y[[i, 300]], entry(i, 300), "[{i}, 300]");
    }
}

#[test]
fn eval_refuses_bad_input_with_one_line() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("y.npy");
    let message = refused(
        &[
            "eval",
            "X @ W",
            "-s",
            "X=2x3",
            "-s",
            "W=2x3",
            "-o",
            out.to_str().unwrap(),
        ],
        &["`@` needs the inner dimensions to agree"],
    );
    assert!(message.contains('^'), "{message}");
    assert!(!out.exists());
}

#[test]
fn bash_completion_completes_the_subcommands_and_options() {
    let script = succeeds(&["completions", "bash"]).stdout;
    // Source the script in bash and ask it to complete `jacscope in` and `jacscope eval --f`.
    let complete = |words: &str, cword: usize| {
        let program = format!(
            "{script}\nCOMP_WORDS=({words}); COMP_CWORD={cword}; _jacscope jacscope \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\""
        );
        let mut bash = Command::new("bash")
            .arg("--norc")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        bash.stdin
            .take()
            .unwrap()
            .write_all(program.as_bytes())
            .unwrap();
        let output = bash.wait_with_output().unwrap();
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap()
    };
    let subcommands = complete("jacscope in", 1);
    assert_eq!(
        subcommands.split_whitespace().collect::<Vec<_>>(),
        ["inputs"]
    );
    let options = complete("jacscope eval --fo", 2);
    assert_eq!(options.split_whitespace().collect::<Vec<_>>(), ["--force"]);
}

#[test]
fn zsh_and_fish_completions_name_every_subcommand() {
    let zsh = succeeds(&["completions", "zsh"]).stdout;
    assert!(zsh.starts_with("#compdef jacscope"), "{zsh}");
    let fish = succeeds(&["completions", "fish"]).stdout;
    for name in ["explain", "eval", "inputs", "completions", "man"] {
        assert!(zsh.contains(&format!("'{name}:")), "zsh lacks {name}");
        assert!(
            fish.contains(&format!("-a \"{name}\"")),
            "fish lacks {name}"
        );
    }
    refused(&["completions", "tcsh"], &["invalid value 'tcsh'"]);
}

/// Renders a roff page with groff, failing on any warning; the text as a reader sees it,
/// each run of spaces made one.
fn rendered(roff: &str) -> String {
    let mut groff = Command::new("groff")
        .args(["-k", "-man", "-Tutf8", "-ww", "-P", "-cbou"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("groff renders manual pages");
    groff
        .stdin
        .take()
        .unwrap()
        .write_all(roff.as_bytes())
        .unwrap();
    let output = groff.wait_with_output().unwrap();
    let warnings = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && warnings.is_empty(), "{warnings}");
    let text = String::from_utf8(output.stdout).unwrap();
    text.split(' ')
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn the_manual_page_documents_every_subcommand() {
    let page = rendered(&succeeds(&["man"]).stdout);
    assert!(page.contains("jacscope - Explore the Jacobian"), "{page}");
    for name in [
        "explain",
        "at",
        "shape",
        "check",
        "slice",
        "stats",
        "dense",
        "eval",
        "inputs",
        "completions",
    ] {
        assert!(
            page.contains(&format!("jacscope-{name}(1)")),
            "no {name} in:\n{page}"
        );
    }
    let eval = rendered(&succeeds(&["man", "eval"]).stdout);
    assert!(
        eval.contains("jacscope-eval - The forward value of the expression"),
        "{eval}"
    );
    assert!(eval.contains("--output-file"), "{eval}");
    refused(
        &["man", "nope"],
        &["man: jacscope has no subcommand nope; its subcommands: explain,"],
    );
}
