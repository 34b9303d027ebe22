//! The catalogue of bad inputs (issue 6, item 2) and the numeric-honesty checks of the CLI
//! (item 4): one test each. A bad input must end with exit code 2 and one clear message on
//! stderr naming the problem; nothing may panic, abort, hang or allocate what it was told;
//! hostile text is echoed escaped, never raw.

use std::io::Write;
use std::time::Duration;

use assert_cmd::Command;
use ndarray::{Array2, arr2};
use serde_json::Value;
use tempfile::TempDir;

#[path = "common/files.rs"]
mod files;
use files::{load_arg, raw_npy, write_file, write_npy};

#[path = "common/run.rs"]
mod run;
use run::{refused, run, succeeds};

/// `(` × depth, `X`, `)` × depth.
fn nested(open: &str, depth: usize, close: &str) -> String {
    format!("{}X{}", open.repeat(depth), close.repeat(depth))
}

const SMALL: [&str; 4] = ["-s", "X=3x4", "-s", "W=5x4"];

fn with_small<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend(SMALL);
    all
}

// ---- expressions ------------------------------------------------------------------------

#[test]
fn empty_expression() {
    refused(&["explain", ""], &["empty expression"]);
    refused(&["explain", " \t\n "], &["empty expression"]);
    refused(&["stats", "()", "-s", "X=2"], &["empty parentheses"]);
}

#[test]
fn expression_of_100_kilobytes() {
    // Valid tokens, but a chain of 50,000 additions nests too deeply to be useful.
    let chain = vec!["X"; 50_001].join("+");
    assert!(chain.len() >= 100_000);
    let message = refused(&["explain", &chain, "-s", "X=2x2"], &["nested too deeply"]);
    assert!(message.len() < 1000, "the excerpt is cut: {message}");
    // One 100,000-letter name: the message quotes it shortened.
    let name = "X".repeat(100_000);
    let message = refused(
        &["explain", &format!("{name} @ W"), "-s", "W=2x2"],
        &["no shape for variable XXXX", "…"],
    );
    assert!(message.len() < 1000, "{message}");
}

#[test]
fn ten_thousand_nested_parentheses() {
    // No stack overflow (that would be a signal, not exit code 2), for every way to nest.
    for text in [
        nested("(", 10_000, ")"),
        nested("exp(", 10_000, ")"),
        format!("1 * {}", nested("-", 10_000, "")),
        nested("", 10_000, ".T"),
        nested("sum(", 10_000, ", axis=0)"),
        nested("X ** ", 10_000, ""),
    ] {
        refused(&["explain", &text, "-s", "X=2x2"], &["nested too deeply"]);
    }
    // Unbalanced nesting is caught too.
    refused(
        &["explain", &"(".repeat(10_000), "-s", "X=2x2"],
        &["nested too deeply"],
    );
    refused(&["explain", "((X)", "-s", "X=2x2"], &["unclosed '('"]);
    refused(
        &["explain", &")".repeat(10_000), "-s", "X=2x2"],
        &["unmatched ')'"],
    );
}

#[test]
fn unknown_variable_has_no_shape() {
    refused(
        &["explain", "Q @ X", "-s", "X=2x2"],
        &["no shape for variable Q", "-s Q="],
    );
    refused(
        &[
            "explain", "X @ W.T", "--wrt", "Z", "-s", "X=2x2", "-s", "W=2x2",
        ],
        &["Z"],
    );
}

#[test]
fn unknown_function() {
    refused(
        &["explain", "relux(X)", "-s", "X=2x2"],
        &["unknown function 'relux'", "relu"],
    );
}

#[test]
fn unknown_keyword() {
    refused(
        &["explain", "sum(X, axes=1)", "-s", "X=2x2"],
        &["unknown keyword 'axes'", "axis"],
    );
    refused(&["explain", "sum(X, axis=7)", "-s", "X=2x2"], &["axis"]);
    refused(&["explain", "X @ W = 3", "-s", "X=2x2"], &["'='"]);
}

#[test]
fn non_ascii_characters() {
    for (text, shown) in [
        ("X × W", "'×'"),
        ("Xé", "'é'"),
        ("X + 😀", "'😀'"),
        ("X\u{202e} @ W", "\\u{202e}"),
        ("X\u{200b}", "\\u{200b}"),
        ("Ｘ", "'Ｘ'"),
    ] {
        let message = refused(
            &["explain", text, "-s", "X=2x2", "-s", "W=2x2"],
            &["unexpected character", shown],
        );
        // A bidirectional override echoed raw would reorder the rest of the terminal line.
        assert!(!message.contains('\u{202e}'), "{message:?}");
    }
}

#[test]
fn control_characters() {
    for (text, shown) in [
        ("X\u{7}", "\\u{7}"),
        ("X + \u{1b}[31mW", "\\u{1b}"),
        ("X\u{8}\u{8}W", "\\u{8}"),
        ("X\u{7f}", "\\u{7f}"),
        ("X\u{c}W", "\\u{c}"),
    ] {
        let message = refused(
            &["explain", text, "-s", "X=2x2", "-s", "W=2x2"],
            &["unexpected character", shown],
        );
        assert!(
            !message.chars().any(|c| c.is_control() && c != '\n'),
            "raw control characters reach the terminal: {message:?}"
        );
    }
    // Whitespace quoted in a message is shown as one space (found by fuzzing: a raw
    // carriage return from `axis=-\r)`).
    let message = refused(
        &["explain", "sum(X, axis=-\r)", "-s", "X=2x2"],
        &["not '- )'"],
    );
    assert!(!message.contains('\r'), "{message:?}");
    // Newlines and tabs are whitespace; the caret still lines up on one line.
    let message = refused(
        &["explain", "X\n@\tQ", "-s", "X=2x2"],
        &["no shape for variable Q", "\\n"],
    );
    assert_eq!(message.lines().count(), 4, "{message}");
}

// ---- shapes -----------------------------------------------------------------------------

#[test]
fn shape_of_zero() {
    refused(&["stats", "-s", "X=0x3"], &["-s X=0x3", "dimension 0"]);
    refused(&["stats", "sum(X)", "-s", "X=0"], &["dimension 0"]);
}

#[test]
fn negative_shape() {
    refused(&["stats", "-s", "X=-3x3"], &["-s X=-3x3", "positive"]);
}

#[test]
fn non_numeric_shape() {
    for (shape, needle) in [
        ("axb", "'a' is not a dimension"),
        ("2.5", "'2.5' is not a dimension"),
        ("3x", "missing"),
        ("", "empty shape"),
        ("2x3x4", "3 dimensions"),
        ("99999999999999999999999", "too large"),
    ] {
        refused(&["stats", "sum(X)", "-s", &format!("X={shape}")], &[needle]);
    }
    refused(&["stats", "sum(X)", "-s", "X"], &["NAME=SHAPE"]);
    refused(&["stats", "sum(X)", "-s", "=3"], &["no variable name"]);
}

#[test]
fn shape_of_ten_to_the_twelve_squared() {
    // 10²⁴ entries do not fit in 64 bits: refused while parsing the shape.
    refused(
        &[
            "stats",
            "X @ W.T",
            "-s",
            "X=1000000000000x1000000000000",
            "-s",
            "W=2x2",
        ],
        &["more elements than fit in 64 bits"],
    );
    // 10¹² entries per input fit in 64 bits (J would have 10²⁴ entries), but the inputs
    // would need 8 TB each: the memory guard refuses before drawing a single one.
    let message = refused(
        &[
            "stats",
            "X @ W.T",
            "-s",
            "X=1000000x1000000",
            "-s",
            "W=1000000x1000000",
            "--structural-only",
            "--json",
        ],
        &["would need about", "TiB", "memory limit"],
    );
    assert!(message.contains("use smaller shapes"), "{message}");
}

#[test]
fn counts_above_u64_are_written_as_strings_of_digits() {
    use jacscope::commands::json_count;
    assert_eq!(json_count(u128::from(u64::MAX)), Value::from(u64::MAX));
    let above = u128::from(u64::MAX) + 1;
    assert_eq!(json_count(above), Value::from("18446744073709551616"));
    assert_eq!(
        json_count(10u128.pow(24)),
        Value::from("1000000000000000000000000")
    );
    // Counts above 2⁵³ stay exact integers (not rounded through f64).
    let stats = succeeds(&[
        "stats",
        "X @ W.T",
        "-s",
        "X=64x1024",
        "-s",
        "W=512x1024",
        "--structural-only",
        "--json",
    ]);
    let doc: Value = serde_json::from_str(&stats.stdout).unwrap();
    assert_eq!(doc["entries"], Value::from(2147483648u64));
}

#[test]
fn an_expression_larger_than_memory_is_refused_with_the_estimate() {
    // The broadcast outer product of two vectors: small inputs, a 10¹²-entry intermediate.
    let message = refused(
        &[
            "stats",
            "sum(a * b)",
            "-s",
            "a=1000000x1",
            "-s",
            "b=1000000",
        ],
        &["would need about", "TiB", "memory limit"],
    );
    assert!(message.contains("use smaller shapes"), "{message}");
}

// ---- inv and det ------------------------------------------------------------------------

#[test]
fn inverse_of_a_singular_matrix() {
    let dir = TempDir::new().unwrap();
    let singular = write_npy(&dir, "a.npy", &arr2(&[[1.0, 2.0], [2.0, 4.0]]));
    refused(
        &[
            "at",
            "inv(A)",
            "-l",
            &load_arg("A", &singular),
            "--index",
            "0,0,0,0",
        ],
        &["cannot compute inv(A)", "singular", "condition number inf"],
    );
    // Nearly singular beyond the limit: refused with the estimated condition number.
    let nearly = write_npy(&dir, "b.npy", &arr2(&[[1.0, 1.0], [1.0, 1.0 + 1e-14]]));
    refused(
        &["stats", "inv(A)", "-l", &load_arg("A", &nearly)],
        &["singular or nearly so", "e14"],
    );
}

#[test]
fn determinant_of_a_singular_matrix() {
    let dir = TempDir::new().unwrap();
    let singular = write_npy(&dir, "a.npy", &arr2(&[[1.0, 2.0], [2.0, 4.0]]));
    // det(A) = 0 is fine, but the derivative det(A)·inv(A)ᵀ needs the inverse.
    refused(
        &[
            "at",
            "det(A)",
            "-l",
            &load_arg("A", &singular),
            "--index",
            "0,0",
        ],
        &["A is singular", "inverse"],
    );
}

#[test]
fn badly_conditioned_matrices_warn_with_the_condition_number() {
    let dir = TempDir::new().unwrap();
    let ill = write_npy(&dir, "a.npy", &arr2(&[[1.0, 1.0], [1.0, 1.0 + 1e-10]]));
    for (expression, index) in [("inv(A)", "0,0,0,1"), ("det(A)", "0,1")] {
        let run = succeeds(&[
            "at",
            expression,
            "-l",
            &load_arg("A", &ill),
            "--index",
            index,
        ]);
        assert!(
            run.stderr.starts_with(&format!(
                "warning: {expression}: the matrix A is badly conditioned (1-norm condition number 4.0e10)"
            )),
            "{}",
            run.stderr
        );
    }
    // A well-conditioned matrix gets no warning.
    let fine = write_npy(&dir, "b.npy", &arr2(&[[2.0, 1.0], [1.0, 3.0]]));
    let run = succeeds(&[
        "at",
        "inv(A)",
        "-l",
        &load_arg("A", &fine),
        "--index",
        "0,0,0,1",
    ]);
    assert_eq!(run.stderr, "");
}

// ---- files ------------------------------------------------------------------------------

#[test]
fn nan_or_inf_in_a_loaded_file() {
    let dir = TempDir::new().unwrap();
    for (value, shown) in [
        (f64::NAN, "NaN"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
    ] {
        let path = write_npy(&dir, "x.npy", &arr2(&[[1.0, 2.0], [3.0, value]]));
        refused(
            &["stats", "sum(X)", "-l", &load_arg("X", &path)],
            &[&format!("contains {shown} at index [1, 1]")],
        );
        let npz = dir.path().join("p.npz");
        let mut writer = ndarray_npy::NpzWriter::new(std::fs::File::create(&npz).unwrap());
        writer.add_array("X", &arr2(&[[value]])).unwrap();
        writer.finish().unwrap();
        refused(
            &["stats", "sum(X)", "-l", npz.to_str().unwrap()],
            &["p.npz:X", &format!("contains {shown} at index [0, 0]")],
        );
    }
}

#[test]
fn truncated_or_corrupt_npy() {
    let dir = TempDir::new().unwrap();
    let valid = raw_npy("'<f8'", "(2, 2)", &[0; 32]);
    // Cut inside the magic string, the header length, the header and the data.
    for cut in [0, 3, 8, 9, 40, valid.len() - 32, valid.len() - 1] {
        let path = write_file(&dir, "t.npy", &valid[..cut]);
        refused(
            &["stats", "sum(X)", "-l", &load_arg("X", &path)],
            &["is not a valid .npy file"],
        );
    }
    let cases: [(&[u8], &str); 5] = [
        (b"this is not numpy at all", "is not a valid .npy file"),
        (&raw_npy("'<f8'", "(2, 2)", &[0; 40]), "extra bytes"),
        (
            &raw_npy("'<f8'", "[2, 'a']", &[0; 32]),
            "is not a valid .npy file",
        ),
        (
            &raw_npy("'<f8'", "(-2, 2)", &[0; 32]),
            "is not a valid .npy file",
        ),
        (
            &raw_npy("'<f8'", "(2, 2)", &[0; 32])[..60],
            "is not a valid .npy file",
        ),
    ];
    for (bytes, needle) in cases {
        let path = write_file(&dir, "c.npy", bytes);
        refused(&["stats", "sum(X)", "-l", &load_arg("X", &path)], &[needle]);
    }
    // A 100-byte file declaring 10¹⁵ doubles (8 PB) is truncated, not an allocation.
    let huge = write_file(
        &dir,
        "h.npy",
        &raw_npy("'<f8'", "(1000000000000000,)", &[0; 8]),
    );
    refused(
        &["stats", "sum(X)", "-l", &load_arg("X", &huge)],
        &["ends before all of the data"],
    );
    // A header that quotes terminal escapes and runs on for 60 kB: shown escaped and cut.
    let hostile = format!("'\x1b[2J\x1b]0;pwned\x07{}'", "A".repeat(60_000));
    let path = write_file(&dir, "e.npy", &raw_npy(&hostile, "(1,)", &[0; 8]));
    let message = refused(
        &["stats", "sum(X)", "-l", &load_arg("X", &path)],
        &["unsupported dtype \\u{1b}[2J"],
    );
    assert!(message.len() < 500, "{message}");
    let path = write_file(&dir, "d.npy", &raw_npy("'<f8'", &"(".repeat(30_000), &[]));
    let message = refused(
        &["stats", "sum(X)", "-l", &load_arg("X", &path)],
        &["is not a valid .npy file"],
    );
    assert!(message.len() < 2000, "{message}");
    // A corrupt archive.
    let npz = write_file(&dir, "p.npz", b"PK\x03\x04 not really a zip");
    refused(
        &["stats", "sum(X)", "-l", npz.to_str().unwrap()],
        &["is not a valid .npz file"],
    );
}

#[test]
fn npz_lacking_a_variable() {
    let dir = TempDir::new().unwrap();
    let npz = dir.path().join("params.npz");
    let mut writer = ndarray_npy::NpzWriter::new(std::fs::File::create(&npz).unwrap());
    writer.add_array("X", &arr2(&[[1.0, 2.0]])).unwrap();
    writer.add_array("unused", &arr2(&[[1.0]])).unwrap();
    writer.finish().unwrap();
    refused(
        &["stats", "X @ W.T", "-l", npz.to_str().unwrap()],
        &["no shape for variable W", "-s W="],
    );
    // With the shape given, W is drawn at random and X comes from the archive.
    succeeds(&[
        "stats",
        "X @ W.T",
        "-l",
        npz.to_str().unwrap(),
        "-s",
        "W=3x2",
    ]);
}

#[test]
fn complex_string_and_object_dtypes() {
    let dir = TempDir::new().unwrap();
    for (descr, kind) in [
        ("<c16", "complex"),
        ("<c8", "complex"),
        ("<U3", "string"),
        ("|S3", "string"),
        ("|O", "object"),
        ("<M8[s]", "date/time"),
        ("<f2", "float of unsupported width"),
    ] {
        let literal = format!("'{descr}'");
        let path = write_file(&dir, "x.npy", &raw_npy(&literal, "(1,)", &[0; 16]));
        refused(
            &["stats", "sum(X)", "-l", &load_arg("X", &path)],
            &[&format!("unsupported dtype {descr} ({kind})")],
        );
    }
    let structured = write_file(&dir, "s.npy", &raw_npy("[('a', '<f8')]", "(1,)", &[0; 8]));
    refused(
        &["stats", "sum(X)", "-l", &load_arg("X", &structured)],
        &["unsupported dtype"],
    );
}

#[test]
fn shape_flag_disagreeing_with_a_loaded_shape() {
    let dir = TempDir::new().unwrap();
    let w = write_npy(&dir, "w.npy", &Array2::zeros((3, 2)));
    refused(
        &[
            "stats",
            "X @ W.T",
            "-s",
            "X=4x2",
            "-s",
            "W=2x2",
            "-l",
            &load_arg("W", &w),
        ],
        &["-s W=2x2 disagrees with the loaded W, which is 3×2"],
    );
}

#[test]
fn loading_what_is_not_there() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("missing.npy");
    refused(
        &["stats", "sum(X)", "-l", &load_arg("X", &missing)],
        &["no such file"],
    );
    refused(
        &["stats", "sum(X)", "-l", &load_arg("X", dir.path())],
        &[&dir.path().display().to_string()],
    );
    refused(
        &["stats", "sum(X)", "-l", "x.npy"],
        &["expected NAME=FILE.npy, FILE.npz, NAME=FILE.safetensors:TENSOR or FILE.safetensors"],
    );
    let x = write_npy(&dir, "x.npy", &Array2::zeros((2, 2)));
    refused(
        &["stats", "sum(X)", "-l", &load_arg("Q", &x)],
        &["Q is not a variable of the expression"],
    );
    let cube = write_file(&dir, "c.npy", &raw_npy("'<f8'", "(1, 1, 1)", &[0; 8]));
    refused(
        &["stats", "sum(X)", "-l", &load_arg("X", &cube)],
        &["3 dimensions"],
    );
    let empty = write_file(&dir, "e.npy", &raw_npy("'<f8'", "(0, 3)", &[]));
    refused(
        &["stats", "sum(X)", "-l", &load_arg("X", &empty)],
        &["at least 1"],
    );
}

#[test]
fn npz_decompressing_beyond_the_memory_limit() {
    let dir = TempDir::new().unwrap();
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    // A real bomb, scaled down: 16 MiB of zeros deflate to about 16 kB. Refused from its
    // header, naming the member, rather than read and then refused by the memory guard.
    let bomb = dir.path().join("bomb.npz");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&bomb).unwrap());
    writer.start_file("X.npy", deflated).unwrap();
    writer
        .write_all(&raw_npy("'<f8'", "(2048, 1024)", &[]))
        .unwrap();
    for _ in 0..16 {
        writer.write_all(&[0; 1 << 20]).unwrap();
    }
    writer.finish().unwrap();
    assert!(std::fs::metadata(&bomb).unwrap().len() < 100_000);
    refused(
        &[
            "stats",
            "sum(X)",
            "-l",
            bomb.to_str().unwrap(),
            "--max-memory",
            "1M",
        ],
        &[
            "bomb.npz:X holds a 2048×1024 array of <f8",
            "16.0 MiB",
            "memory limit of 1.0 MiB",
            "--max-memory",
        ],
    );
    // An archive of a few hundred bytes whose member declares almost 2³² one-byte entries,
    // 32 GiB as f64, above any default limit (at most 8 GiB). Only the header is stored; the
    // member's size in the zip headers (patched below) claims the rest: only the header tells.
    let header = raw_npy("'|u1'", "(4194303, 1024)", &[]);
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer.start_file("X.npy", deflated).unwrap();
    writer.write_all(&header).unwrap();
    let mut bytes = writer.finish().unwrap().into_inner();
    let claimed = u32::try_from(header.len() + 4_194_303 * 1024).unwrap();
    // The uncompressed size: byte 22 of the local file header, 24 of the central one.
    for (signature, offset) in [(b"PK\x03\x04", 22), (b"PK\x01\x02", 24)] {
        let start = bytes.windows(4).position(|w| w == signature).unwrap();
        bytes[start + offset..start + offset + 4].copy_from_slice(&claimed.to_le_bytes());
    }
    let small = write_file(&dir, "small.npz", &bytes);
    assert!(bytes.len() < 400, "{}", bytes.len());
    let started = std::time::Instant::now();
    refused(
        &["stats", "sum(X)", "-l", small.to_str().unwrap()],
        &[
            "small.npz:X holds a 4194303×1024 array of |u1",
            "32.0 GiB",
            "memory limit",
            "--max-memory",
        ],
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

// ---- flags ------------------------------------------------------------------------------

#[test]
fn index_out_of_range() {
    refused(
        &with_small(&["at", "X @ W.T", "--index", "0,5,0,0"]),
        &["j = 5 is out of range 0..5"],
    );
    refused(
        &with_small(&["at", "X @ W.T", "--index", "0,0,0,18446744073709551615"]),
        &["out of range"],
    );
    refused(
        &with_small(&["at", "X @ W.T", "--index", "0,0,0,99999999999999999999999"]),
        &["integers"],
    );
    refused(
        &with_small(&["at", "X @ W.T", "--index", "0,-1,0,0"]),
        &["integers"],
    );
}

#[test]
fn index_of_the_wrong_length() {
    refused(
        &with_small(&["at", "X @ W.T", "--index", "0,0,0"]),
        &["3 components", "4 axes"],
    );
    refused(
        &with_small(&["at", "X @ W.T", "--index", "0,0,0,0,0"]),
        &["5 components"],
    );
    refused(
        &with_small(&["at", "X @ W.T", "--index", ""]),
        &["0 components"],
    );
    refused(
        &with_small(&["at", "X @ W.T", "--index", "0,,0,0"]),
        &["integers"],
    );
}

#[test]
fn fix_naming_an_unknown_axis() {
    refused(
        &with_small(&["slice", "X @ W.T", "--axes", "k,l", "--fix", "z=1"]),
        &["no axis 'z'", "i,j,k,l"],
    );
    refused(
        &with_small(&["slice", "X @ W.T", "--axes", "k,l", "--fix", "i=3"]),
        &["--fix: i = 3 is out of range 0..3"],
    );
    refused(
        &with_small(&["slice", "X @ W.T", "--axes", "k,l", "--fix", "i=0,j=1,i=2"]),
        &["--fix: axis i is given twice"],
    );
    refused(
        &with_small(&["slice", "X @ W.T", "--axes", "k,l", "--fix", "k=1"]),
        &["one of the slice's axes"],
    );
    refused(
        &with_small(&["slice", "X @ W.T", "--axes", "k,q"]),
        &["no axis 'q'"],
    );
    refused(
        &with_small(&["slice", "X @ W.T", "--axes", "k,k"]),
        &["twice"],
    );
}

#[test]
fn output_into_a_missing_directory() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("no/such/dir/J.npy");
    let path = path.to_str().unwrap();
    refused(
        &with_small(&["dense", "X @ W.T", "-o", path]),
        &["does not exist"],
    );
    refused(
        &with_small(&[
            "slice", "X @ W.T", "--axes", "k,l", "--format", "npy", "-o", path,
        ]),
        &["does not exist"],
    );
    refused(
        &with_small(&["dense", "X @ W.T", "-o", dir.path().to_str().unwrap()]),
        &["is a directory"],
    );
}

/// A write the device refuses (`/dev/full` has no space left) names the file and its
/// cause once and ends with exit code 2, whatever the format; none may report success.
#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_names_the_file() {
    let slice = [
        "slice",
        "X @ W.T",
        "--axes",
        "k,l",
        "-o",
        "/dev/full",
        "--force",
    ];
    for format in ["csv", "json", "text", "npy"] {
        let args = [&slice[..], &["--format", format]].concat();
        let message = refused(
            &with_small(&args),
            &["error: cannot write /dev/full: No space left on device"],
        );
        assert_eq!(message.matches("No space").count(), 1, "{message}");
    }
    refused(
        &with_small(&["dense", "X @ W.T", "-o", "/dev/full", "--force"]),
        &["error: cannot write /dev/full: No space left on device"],
    );
}

#[test]
fn output_onto_an_existing_file_without_force() {
    let dir = TempDir::new().unwrap();
    let path = write_file(&dir, "precious.npy", b"do not overwrite");
    let path_text = path.to_str().unwrap();
    refused(
        &with_small(&["dense", "X @ W.T", "-o", path_text]),
        &["--force"],
    );
    refused(
        &with_small(&[
            "slice", "X @ W.T", "--axes", "k,l", "--format", "csv", "-o", path_text,
        ]),
        &["already exists", "--force"],
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"do not overwrite");
    succeeds(&with_small(&[
        "dense", "X @ W.T", "-o", path_text, "--force",
    ]));
    let dense: ndarray::ArrayD<f64> = ndarray_npy::read_npy(&path).unwrap();
    assert_eq!(dense.shape(), &[3, 5, 3, 4]);
}

#[test]
fn dense_above_its_bound() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("J.npy");
    let path_text = path.to_str().unwrap();
    refused(
        &with_small(&["dense", "X @ W.T", "-o", path_text, "--max-entries", "100"]),
        &["J has 180 entries", "bound of 100", "--max-entries"],
    );
    // Raising the bound does not lift the memory limit: 2³¹ f64 are 16 GiB.
    refused(
        &["dense", "-o", path_text, "--max-entries", "100000000000"],
        &["the dense Jacobian", "16.0 GiB", "memory limit"],
    );
    assert!(!path.exists());
}

#[test]
fn slice_above_the_memory_limit() {
    // sum(X, axis=1) for a 10⁵×1 X: J is 10⁵×10⁵×1, so its (i,k) slice has 10¹⁰ entries.
    // Its values are refused; its spy plot is drawn from the blocks (no dense slice).
    refused(
        &[
            "slice",
            "sum(X, axis=1)",
            "-s",
            "X=100000x1",
            "--axes",
            "i,k",
            "--format",
            "csv",
        ],
        &["this 100000×100000 slice", "memory limit"],
    );
    // The same guard follows --max-memory: a 1000×1000 slice needs 8.6 MiB (a value and
    // a structural flag per entry).
    refused(
        &[
            "slice",
            "sum(X, axis=1)",
            "-s",
            "X=1000x1",
            "--axes",
            "i,k",
            "--max-memory",
            "1M",
            "--format",
            "json",
        ],
        &["this 1000×1000 slice", "8.6 MiB", "memory limit of 1.0 MiB"],
    );
    let plot = succeeds(&[
        "slice",
        "sum(X, axis=1)",
        "-s",
        "X=100000x1",
        "--axes",
        "i,k",
    ]);
    // J of sum(X, axis=1) by X is δ(i,k): the spy plot's diagonal.
    let rows: Vec<&str> = plot.stdout.lines().skip(2).collect();
    assert_eq!(rows.len(), 16, "{}", plot.stdout);
    for (n, row) in rows.iter().enumerate() {
        let cells = row.rsplit(' ').next().unwrap();
        let lit: Vec<usize> = cells.match_indices('*').map(|(x, _)| x).collect();
        assert!(lit.contains(&(n * 4)), "row {n}: {}", plot.stdout);
    }
}

// ---- numeric honesty --------------------------------------------------------------------

#[test]
fn at_says_when_the_finite_difference_disagrees_at_a_relu_kink() {
    let dir = TempDir::new().unwrap();
    // X @ W.T = [[1·0 + 0·1]] = 0 exactly: relu is not differentiable there.
    let x = write_npy(&dir, "x.npy", &arr2(&[[1.0, 0.0]]));
    let w = write_npy(&dir, "w.npy", &arr2(&[[0.0, 1.0]]));
    let args = [
        "at",
        "relu(X @ W.T)",
        "-l",
        &load_arg("X", &x),
        "-l",
        &load_arg("W", &w),
        "--index",
        "0,0,0,1",
    ];
    let run = succeeds(&args);
    assert!(
        run.stdout.contains("finite difference: 0.5") && run.stdout.contains("DISAGREES"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("kink"), "{}", run.stdout);
    let doc: Value = serde_json::from_str(&succeeds(&[&args[..], &["--json"]].concat()).stdout)
        .expect("one JSON document");
    assert_eq!(doc["fd_value"], 0.5);
    assert_eq!(doc["fd_abs_error"], 0.5);
}

#[test]
fn nan_produced_during_evaluation_is_reported_with_its_node() {
    // Seed 0 draws a negative X[0,1]; log gives NaN there. A warning, not an error: the
    // formula and the other entries are still worth reading.
    let expected = "warning: log(X) evaluates to NaN at [0, 1]";
    for command in ["explain", "stats"] {
        let run = succeeds(&[command, "sum(log(X))", "-s", "X=3x4"]);
        assert!(
            run.stderr.starts_with(expected),
            "{command}: {}",
            run.stderr
        );
    }
    let run = succeeds(&["at", "sum(log(X))", "-s", "X=3x4", "--index", "0,1"]);
    assert!(run.stderr.starts_with(expected), "{}", run.stderr);
    assert!(run.stdout.contains("NOT FINITE"), "{}", run.stdout);
    // JSON output stays one document on stdout; the warning goes to stderr.
    let run = succeeds(&["stats", "sum(log(X))", "-s", "X=3x4", "--json"]);
    serde_json::from_str::<Value>(&run.stdout).expect("one JSON document");
    assert!(run.stderr.starts_with(expected), "{}", run.stderr);
}

#[test]
fn overflow_during_evaluation_is_reported_with_its_node() {
    let run = succeeds(&[
        "stats",
        "exp(X * X + 1000) / 2",
        "-s",
        "X=2x2",
        "--seed",
        "1",
    ]);
    assert!(
        run.stderr
            .starts_with("warning: exp(X * X + 1000) evaluates to inf at [0, 0]"),
        "{}",
        run.stderr
    );
    let run = succeeds(&["explain", "X - X / 0", "-s", "X=2"]);
    assert!(
        run.stderr.starts_with("warning: X / 0 evaluates to"),
        "{}",
        run.stderr
    );
}

// ---- found by this catalogue, fixed in the engine -----------------------------------------

#[test]
fn deeply_nested_softmax_is_answered_or_refused_quickly() {
    // The chain rule doubles the terms at each nested softmax: 2^16 terms here.
    let text = format!("{}X{}", "softmax(".repeat(16), ", axis=1)".repeat(16));
    let output = Command::cargo_bin("jacscope")
        .unwrap()
        .args(["stats", &text, "-s", "X=3x3", "--structural-only"])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    match output.status.code() {
        Some(0) => {}
        Some(2) => assert!(
            stderr.starts_with("error: the derivative has more than")
                && stderr.contains("terms")
                && stderr.trim_end().lines().count() == 1,
            "{stderr}"
        ),
        _ => panic!(
            "neither an answer nor a refusal within 20 s: {:?} {stderr}",
            output.status
        ),
    }
}

/// A product of 17 matrices: each term contracts over 15 summation indices, computed as a
/// chain of matrix products; the answer agrees with the finite-difference check.
#[test]
fn a_long_matrix_power_is_answered() {
    let power = vec!["A"; 17].join(" @ ");
    let run = run(&["at", &power, "-s", "A=2x2", "--index", "0,0,0,0"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("— agrees"), "{}", run.stdout);
}
