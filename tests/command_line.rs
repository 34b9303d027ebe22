//! The command line says what is wrong (issue 11, items 6, 8, 9, 11): an expression that
//! starts with a minus, ASCII-only output under `--ascii`, conflicting or unused names,
//! and singular matrices however small their entries.

use ndarray::arr2;
use tempfile::TempDir;

#[path = "common/files.rs"]
mod files;
use files::{load_arg, write_npy};

#[path = "common/run.rs"]
mod run;
use run::{refused, run, succeeds};

#[test]
fn an_expression_that_starts_with_a_minus_is_an_expression() {
    for expression in ["-sum(X)", "-trace(X)", "-X"] {
        let done = succeeds(&["explain", expression, "-s", "X=3x3"]);
        assert!(
            done.stdout.starts_with(&format!("Y = {expression} ")),
            "{}",
            done.stdout
        );
    }
    succeeds(&["shape", "-s", "X=3x3", "--", "-X"]);
}

#[test]
fn ascii_output_is_ascii_on_stdout_and_stderr() {
    let dir = TempDir::new().unwrap();
    let dense = dir.path().join("J.npy").display().to_string();
    let shapes = ["-s", "X=2x3", "-s", "W=4x3"];
    let mut runs: Vec<Vec<&str>> = vec![
        vec!["explain", "softmax(X @ W.T, axis=1)"],
        vec!["at", "X @ W.T", "--index", "0,1,0,2"],
        vec!["at", "relu(X @ W.T)", "--index", "0,1,1,2"],
        vec!["at", "log(X)", "--index", "0,1,0,1"],
        vec!["slice", "X @ W.T", "--axes", "k,l", "--fix", "i=0,j=1"],
        vec!["shape", "X @ W.T", "--claim", "2x4x3x2"],
        vec!["stats", "X @ W.T"],
        vec!["dense", "X @ W.T", "-o", &dense, "--force"],
        // Errors and warnings: a shape error, a caret under a non-ASCII character, an
        // index out of range, the memory limit, NaN in the values, an unused -s.
        vec!["explain", "X @ W"],
        vec!["explain", "X × W"],
        vec!["at", "X @ W.T", "--index", "9,9,9,9"],
        vec!["slice", "X @ W.T", "--axes", "k,l", "--max-memory", "10"],
        vec!["stats", "log(X)"],
        vec!["stats", "X", "-s", "Q=3"],
    ];
    for args in &mut runs {
        args.extend(shapes);
        args.push("--ascii");
        let done = run(args);
        for (stream, text) in [("stdout", &done.stdout), ("stderr", &done.stderr)] {
            let bad: String = text.chars().filter(|c| !c.is_ascii()).collect();
            assert!(bad.is_empty(), "{args:?} {stream} has {bad:?}:\n{text}");
        }
    }
    // User text that is not ASCII is escaped, not dropped, and the caret stays under it.
    let message = refused(&["explain", "X × W", "-s", "X=2x2", "--ascii"], &[]);
    assert!(message.contains("  X \\u{d7} W\n    ^^^^^^\n"), "{message}");
    refused(
        &["stats", "X", "-l", "X=données.npy", "--ascii"],
        &["donn\\u{e9}es.npy"],
    );
    // The explorer's --ascii holds for the errors it prints before it starts.
    refused(&["X @", "--ascii"], &[]);
}

#[test]
fn conflicting_or_unused_names_are_errors_or_warnings() {
    refused(
        &["stats", "X", "-s", "X=2x2", "-s", "X=3x3"],
        &["-s X", "twice"],
    );

    let dir = TempDir::new().unwrap();
    let a = load_arg("X", &write_npy(&dir, "a.npy", &arr2(&[[1.0]])));
    let b = load_arg("X", &write_npy(&dir, "b.npy", &arr2(&[[2.0]])));
    refused(&["stats", "X", "-l", &a, "-l", &b], &["-l X", "twice"]);

    let slice = [
        "slice", "X @ W.T", "-s", "X=2x3", "-s", "W=4x3", "--axes", "k,l",
    ];
    refused(
        &[&slice[..], &["--fix", "i=0,j=1,i=1"]].concat(),
        &["twice"],
    );
    refused(
        &[&slice[..], &["--fix", "i=0,j=1", "--width", "0"]].concat(),
        &["--width"],
    );

    let done = succeeds(&["stats", "X", "-s", "X=2x2", "-s", "Q=3x3"]);
    assert_eq!(
        done.stderr,
        "warning: -s Q=3x3: Q is not a variable of the expression (its variables: X)\n"
    );
    // The default example's own shapes give way to those given.
    succeeds(&["stats", "-s", "X=2x8", "-s", "W=3x8"]);
    // An archive that holds X, and another -l for X.
    let npz = dir.path().join("p.npz");
    let mut archive = ndarray_npy::NpzWriter::new(std::fs::File::create(&npz).unwrap());
    archive.add_array("X", &arr2(&[[3.0]])).unwrap();
    archive.finish().unwrap();
    let npz = npz.display().to_string();
    refused(&["stats", "X", "-l", &npz, "-l", &a], &["-l X", "twice"]);
    refused(
        &[&slice[..], &["--fix", "i=0,j=1", "--height", "0"]].concat(),
        &["--height"],
    );
}

#[test]
fn an_exactly_singular_matrix_of_tiny_entries_is_singular() {
    let dir = TempDir::new().unwrap();
    for tiny in [1e-300, 1e-250] {
        let a = load_arg("A", &write_npy(&dir, "a.npy", &arr2(&[[tiny; 3]; 3])));
        refused(&["stats", "inv(A)", "-l", &a], &["singular"]);
    }
}
