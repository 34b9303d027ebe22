//! Running the real binary in the command-line tests: what it printed and how it ended,
//! with the checks every run must pass (no panic, no abort, no raw control characters in
//! an error).

// Each test binary that includes this module uses a different part of it.
#![allow(dead_code)]

use std::time::Duration;

use assert_cmd::Command;

/// Every run is cut off after this long: a hang is a failure, not a stuck test suite.
pub const TIMEOUT: Duration = Duration::from_secs(120);

/// What a run printed.
pub struct Run {
    /// The exit code (`None` if a signal ended it).
    pub code: Option<i32>,
    /// What it printed on stdout.
    pub stdout: String,
    /// What it printed on stderr.
    pub stderr: String,
}

/// Runs jacscope with `args`; fails the test on a panic or an abort.
pub fn run(args: &[&str]) -> Run {
    let output = Command::cargo_bin("jacscope")
        .expect("binary is built")
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .timeout(TIMEOUT)
        .output()
        .expect("jacscope runs");
    let run = Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    for text in [&run.stdout, &run.stderr] {
        for sign in ["panicked", "stack backtrace", "memory allocation of"] {
            assert!(!text.contains(sign), "jacscope {args:?}: {sign}: {text}");
        }
    }
    run
}

/// Runs jacscope, expects it to refuse with exit code 2 and a message on stderr that
/// contains every one of `needles`; returns the message.
pub fn refused(args: &[&str], needles: &[&str]) -> String {
    let run = run(args);
    assert_eq!(
        run.code,
        Some(2),
        "jacscope {args:?} should refuse with exit code 2; stderr: {}",
        run.stderr
    );
    assert!(
        run.stderr.starts_with("error: "),
        "{args:?}: {}",
        run.stderr
    );
    assert!(
        !run.stderr.chars().any(|c| c.is_control() && c != '\n'),
        "raw control characters reach the terminal: {:?}",
        run.stderr
    );
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "jacscope {args:?}: expected {needle:?} in: {}",
            run.stderr
        );
    }
    run.stderr
}

/// Runs jacscope and expects success; returns what it printed.
pub fn succeeds(args: &[&str]) -> Run {
    let run = run(args);
    assert_eq!(run.code, Some(0), "jacscope {args:?}: {}", run.stderr);
    run
}

/// Runs `jacscope check PROBLEM --claim CLAIM --json`; returns the exit code and the
/// document.
pub fn check_json(problem: &[&str], claim: &str) -> (Option<i32>, serde_json::Value) {
    let output = Command::cargo_bin("jacscope")
        .unwrap()
        .arg("check")
        .args(problem)
        .args(["--claim", claim, "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let doc = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("{claim}: no JSON; stderr: {stderr}"));
    (output.status.code(), doc)
}
