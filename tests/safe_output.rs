//! A file jacscope writes is either the complete new file or untouched, and nothing it
//! prints can be forged by user text (issue 11, items 1–5, 7, 10, 18): the real binary,
//! interrupted, pointed at full devices, symbolic links and hostile file names.

use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

#[path = "common/pty.rs"]
mod pty;
#[path = "common/run.rs"]
mod run;
use run::{refused, run, succeeds};

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The arguments of a `dense` run that takes a few seconds (64 MiB of J).
const SLOW_DENSE: [&str; 6] = ["dense", "X @ W.T", "-s", "X=32x128", "-s", "W=64x128"];

/// A quick `dense` run writing to `target` (with `--force` if asked).
fn small_dense(target: &Path, force: bool) -> Vec<String> {
    let mut args: Vec<String> = ["dense", "X @ W.T", "-s", "X=2x3", "-s", "W=4x3", "-o"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(target.to_str().unwrap().to_string());
    if force {
        args.push("--force".to_string());
    }
    args
}

/// `args` as the `&str` slice `run` takes.
fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_dense_force_leaves_the_old_file_intact() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("good.npy");
    std::fs::write(&target, b"the old, valid file").unwrap();
    let mut child = Process::new(assert_cmd::cargo::cargo_bin("jacscope"))
        .args(SLOW_DENSE)
        .arg("-o")
        .arg(&target)
        .arg("--force")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the run has started writing: a file other than the target has bytes,
    // or the target itself changed.
    let started = Instant::now();
    loop {
        let writing = std::fs::read_dir(dir.path()).unwrap().any(|e| {
            let e = e.unwrap();
            e.path() != target && e.metadata().unwrap().len() > 0
        });
        let touched = std::fs::read(&target).map_or(true, |b| b != b"the old, valid file");
        if writing || touched {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was interrupted"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the run never wrote"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert!(!status.success(), "the run was interrupted");
    let now = std::fs::read(&target).unwrap();
    assert!(
        now == b"the old, valid file",
        "the old file was replaced by {} bytes",
        now.len()
    );
    assert_eq!(
        names(dir.path()),
        ["good.npy"],
        "no fragment is left behind"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_write_error_on_slice_output_is_exit_2_with_the_path_and_reason() {
    for format in ["csv", "json", "text", "npy"] {
        refused(
            &[
                "slice",
                "X @ W.T",
                "-s",
                "X=8x16",
                "-s",
                "W=8x16",
                "--axes",
                "k,l",
                "--fix",
                "i=0,j=0",
                "--format",
                format,
                "-o",
                "/dev/full",
                "--force",
            ],
            &["/dev/full", "No space left"],
        );
    }
}

#[test]
fn an_existing_target_without_force_is_refused_and_kept() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("J.npy");
    std::fs::write(&target, b"keep me").unwrap();
    refused(&strs(&small_dense(&target, false)), &["already exists"]);
    assert_eq!(std::fs::read(&target).unwrap(), b"keep me");
}

#[cfg(unix)]
#[test]
fn a_dangling_symlink_target_is_refused_and_with_force_replaced() {
    let dir = TempDir::new().unwrap();
    let link = dir.path().join("J.npy");
    let aim = dir.path().join("elsewhere.npy");
    std::os::unix::fs::symlink(&aim, &link).unwrap();
    refused(&strs(&small_dense(&link, false)), &["symbolic link"]);
    assert!(!aim.exists(), "nothing is written through the link");
    succeeds(&strs(&small_dense(&link, true)));
    assert!(!aim.exists(), "the link's target is never written");
    assert!(std::fs::symlink_metadata(&link).unwrap().is_file());
}

#[test]
fn a_file_name_with_control_characters_cannot_forge_output() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("x\nwrote fake.npy\u{1b}]0;title\u{7}");
    let done = succeeds(&strs(&small_dense(&target, false)));
    assert_eq!(done.stdout.lines().count(), 1, "{:?}", done.stdout);
    assert!(!done.stdout.contains('\u{1b}'), "{:?}", done.stdout);
    assert!(target.exists(), "the file itself has the name asked for");
    let error = run(&strs(&small_dense(&target, false)));
    assert_eq!(error.stderr.lines().count(), 1, "{:?}", error.stderr);
}

#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_to_stderr_does_not_panic() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let status = Process::new(assert_cmd::cargo::cargo_bin("jacscope"))
        .args(["explain", "X @", "-s", "X=2x2"])
        .stdout(Stdio::null())
        .stderr(full)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1), "not the 101 of a panic");
}

/// User text that would clear the screen and start a forged line if echoed raw.
const HOSTILE: &str = "a\u{1b}[2J\nwrote fake.npy";

/// [`HOSTILE`] as a message quotes it.
const HOSTILE_SHOWN: &str = "a\\u{1b}[2J\\nwrote fake.npy";

/// Runs jacscope, expects a refusal on one line that quotes the hostile text escaped.
fn refused_with_hostile_text_escaped(args: &[&str]) {
    let message = refused(args, &[HOSTILE_SHOWN]);
    assert_eq!(message.lines().count(), 1, "{message:?}");
}

#[test]
fn a_loaded_file_name_with_control_characters_is_escaped() {
    let load = format!("X={HOSTILE}.npy");
    refused_with_hostile_text_escaped(&["explain", "X", "-l", &load]);
}

#[test]
fn a_load_argument_with_control_characters_is_escaped() {
    refused_with_hostile_text_escaped(&["explain", "X", "-l", HOSTILE]);
}

#[test]
fn a_shape_argument_with_control_characters_is_escaped() {
    let shape = format!("X={HOSTILE}");
    refused_with_hostile_text_escaped(&["explain", "X", "-s", &shape]);
}

#[test]
fn a_layout_name_with_control_characters_is_escaped() {
    refused_with_hostile_text_escaped(&[
        "at", "X", "-s", "X=2x2", "--index", "0,0,0,0", "--layout", HOSTILE,
    ]);
}

#[test]
fn a_claimed_shape_with_control_characters_is_escaped() {
    refused_with_hostile_text_escaped(&["shape", "X", "-s", "X=2x2", "--claim", HOSTILE]);
}

/// Issue 11, item 10: the memory guard counts what a slice holds (a value and a flag per
/// entry), and the JSON text is written as it is made, never held whole: a slice whose
/// values fit in `--max-memory` but whose text would not is written, and correctly.
#[test]
fn slice_json_whose_text_exceeds_the_memory_limit_is_streamed_not_refused() {
    let dir = TempDir::new().unwrap();
    let (json, npy) = (dir.path().join("s.json"), dir.path().join("s.npy"));
    let slice = |format: &str, path: &Path| {
        succeeds(&[
            "slice",
            "exp(X)",
            "-s",
            "X=330x1",
            "--axes",
            "i,k",
            "--format",
            format,
            "-o",
            path.to_str().unwrap(),
            "--max-memory",
            "1M",
        ])
    };
    slice("json", &json);
    slice("npy", &npy);
    let text = std::fs::read(&json).unwrap();
    assert!(text.len() > 1 << 20, "the text alone exceeds the limit");
    let document: serde_json::Value = serde_json::from_slice(&text).unwrap();
    let values: ndarray::Array2<f64> = ndarray_npy::read_npy(&npy).unwrap();
    assert_eq!(document["shape"], serde_json::json!([330, 330]));
    let rows = document["values"].as_array().unwrap();
    assert_eq!(rows.len(), 330);
    for (i, row) in rows.iter().enumerate() {
        let row = row.as_array().unwrap();
        assert_eq!(row.len(), 330);
        for (k, value) in row.iter().enumerate() {
            // serde_json reads a float to within an ulp of the shortest text written.
            let (read, expected) = (value.as_f64().unwrap(), values[[i, k]]);
            assert!(
                (read - expected).abs() <= 1e-15 * expected.abs(),
                "[{i},{k}]: {read} vs {expected}"
            );
        }
    }
}

/// Issue 11, item 18: Ctrl-C while `stats` shows its progress line erases the line, then
/// ends the run as the signal would.
#[cfg(unix)]
#[test]
fn ctrl_c_during_stats_clears_the_progress_line() {
    let mut session = pty::Session::start(
        &[
            "stats",
            "relu(X @ W.T + b)",
            "-s",
            "X=2048x4096",
            "-s",
            "W=4096x4096",
            "-s",
            "b=4096",
        ],
        (100, 10),
        &[("NO_COLOR", Some("1"))],
    );
    // The line changes every 100 ms, so wait for it to show, not to settle.
    let started = Instant::now();
    while !session.contents().contains("% ") {
        assert!(
            session.is_running(),
            "stats ended before its progress line showed"
        );
        assert!(
            started.elapsed() < pty::PATIENCE,
            "no progress line: {}",
            session.contents()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill(2) with the id of a child process this test started and still owns.
    assert_eq!(unsafe { libc::kill(session.pid(), libc::SIGINT) }, 0);
    let status = session.wait_status();
    assert!(!status.success(), "the run was interrupted");
    let screen = session.contents();
    assert!(
        !screen.contains("% "),
        "the progress line is still on screen:\n{screen}"
    );
}

#[test]
fn a_command_line_argument_with_control_characters_is_escaped() {
    let flag = format!("--{HOSTILE}");
    let message = refused(&["explain", "X", &flag], &[HOSTILE_SHOWN]);
    assert!(!message.contains("\nwrote fake"), "{message:?}");
    let value = refused(&["explain", "X", "--seed", HOSTILE], &[HOSTILE_SHOWN]);
    assert!(!value.contains("\nwrote fake"), "{value:?}");
}
