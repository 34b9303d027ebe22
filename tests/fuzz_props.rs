//! Fuzzing with proptest (issue 6, item 1): the lexer, parser and shape checker on
//! arbitrary strings, token soup and grammar-aware mutations of valid expressions; the
//! whole pipeline (inputs, evaluation, derivation, the Jacobian's questions) on random
//! valid expressions; and `.npy`/`.npz` loading on mutated and truncated bytes of valid
//! files.
//!
//! Properties: nothing panics or aborts; an error is a diagnostic whose span lies in the
//! source, which renders as a few bounded lines without raw control characters; a graph
//! is well formed; a loaded array has at most two dimensions and finite entries.
//!
//! `cargo test` runs a seeded share (the same inputs every run: 40,000 parser inputs, 5,000
//! files, 1,500 end-to-end problems; about 10 s in debug). The long campaign (1,100,000
//! parser inputs, 130,000 files, 100,000 end-to-end problems; about 70 s in release) runs
//! with
//!
//! ```text
//! JACSCOPE_FUZZ_LONG=1 cargo test --release --test fuzz_props -- --nocapture
//! ```
//!
//! and prints, per campaign, how many inputs it tried and how long it took. Set
//! `JACSCOPE_FUZZ_SEED=N` to explore other inputs than the default seed's.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use jacscope::check;
use jacscope::eval::EvalError;
use jacscope::expr::{self, Diagnostic, Graph, Shape};
use jacscope::inputs::{self, LoadArg};
use jacscope::jacobian::numeric_nonzeros;
use jacscope::problem::{Problem, ProblemSpec};
use jacscope::sparsity;
use ndarray::{ArrayD, arr0, arr1, arr2};
use ndarray_npy::{NpzWriter, WriteNpyExt};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

#[path = "common/files.rs"]
mod files;
use files::raw_npy_version;

/// The memory limit of the loads (1 GiB): a file that declares more is refused unread.
const FUZZ_MEMORY_LIMIT: u64 = 1 << 30;

// ---- the harness --------------------------------------------------------------------------

/// Whether the long campaign was asked for.
fn long_run() -> bool {
    std::env::var("JACSCOPE_FUZZ_LONG").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The seed of every campaign (`JACSCOPE_FUZZ_SEED`, default 0).
fn base_seed() -> u64 {
    std::env::var("JACSCOPE_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Runs `test` on `short` (or, in the long campaign, `long`) values of `strategy`, from a
/// seed derived from `name`, shrinking and reporting the first failure.
fn campaign<S: Strategy>(
    name: &str,
    strategy: S,
    short: u32,
    long: u32,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let cases = if long_run() { long } else { short };
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&base_seed().to_le_bytes());
    for (slot, byte) in seed[8..].iter_mut().zip(name.bytes()) {
        *slot = byte;
    }
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let start = Instant::now();
    let result = runner.run(&strategy, test);
    println!(
        "fuzz {name}: {cases} inputs in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    if let Err(failure) = result {
        panic!("fuzz {name}: {failure}");
    }
}

// ---- the front end ------------------------------------------------------------------------

/// The shapes every variable gets in one shape-checking attempt: all scalars, all vectors,
/// all square matrices, and a mix decided by the first letter of the name.
fn shape_assignments(variables: &[String]) -> Vec<BTreeMap<String, Shape>> {
    let uniform = |dims: &[usize]| {
        variables
            .iter()
            .map(|v| (v.clone(), Shape(dims.to_vec())))
            .collect()
    };
    let mixed = variables
        .iter()
        .map(|v| {
            let dims = match v.as_bytes()[0] % 4 {
                0 => vec![],
                1 => vec![3],
                2 => vec![2, 3],
                _ => vec![3, 3],
            };
            (v.clone(), Shape(dims))
        })
        .collect();
    vec![uniform(&[]), uniform(&[3]), uniform(&[3, 3]), mixed]
}

/// A diagnostic for `source` points inside it and renders as a few bounded, printable lines.
fn check_diagnostic(source: &str, diagnostic: &Diagnostic) -> Result<(), TestCaseError> {
    prop_assert!(!diagnostic.message.is_empty());
    if let Some(span) = diagnostic.span {
        prop_assert!(
            span.start <= span.end && span.end <= source.len(),
            "span {:?} outside a source of {} bytes: {:?}",
            span,
            source.len(),
            diagnostic
        );
    }
    let rendered = diagnostic.render(source);
    prop_assert!(rendered.starts_with("error: "));
    prop_assert!(
        !rendered.chars().any(|c| c.is_control() && c != '\n'),
        "raw control characters: {rendered:?}"
    );
    prop_assert!(rendered.lines().count() <= 4, "{rendered}");
    for line in rendered.lines() {
        prop_assert!(
            line.chars().count() <= 400,
            "a line of {} characters: {rendered}",
            line.chars().count()
        );
    }
    Ok(())
}

/// A graph is in topological order, its root is a node, its shapes have rank ≤ 2 and
/// every node's span lies in the source.
fn check_graph(graph: &Graph) -> Result<(), TestCaseError> {
    prop_assert!(graph.root < graph.nodes.len());
    for (id, node) in graph.nodes.iter().enumerate() {
        prop_assert!(node.op.operands().iter().all(|&operand| operand < id));
        prop_assert!(node.shape.rank() <= 2);
        prop_assert!(node.span.start <= node.span.end && node.span.end <= graph.source.len());
        let _ = graph.text(id);
    }
    let _ = inputs::estimate_bytes(graph);
    Ok(())
}

/// Parses `source` and shape-checks it under every shape assignment.
fn check_front_end(source: &str) -> Result<(), TestCaseError> {
    let ast = match expr::parse(source) {
        Ok(ast) => ast,
        Err(diagnostic) => return check_diagnostic(source, &diagnostic),
    };
    prop_assert!(ast.span.end <= source.len());
    for shapes in shape_assignments(&ast.variables()) {
        match expr::build_graph(&ast, source, &shapes) {
            Ok(graph) => check_graph(&graph)?,
            Err(diagnostic) => check_diagnostic(source, &diagnostic)?,
        }
    }
    Ok(())
}

/// Pieces of expressions, valid and not, including hostile characters.
const TOKENS: &[&str] = &[
    "X",
    "W",
    "b",
    "c",
    "A",
    "W1",
    "x_2",
    "sum",
    "mean",
    "var",
    "std",
    "exp",
    "log",
    "sqrt",
    "abs",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "relu",
    "softplus",
    "square",
    "softmax",
    "logsumexp",
    "trace",
    "inv",
    "det",
    "axis",
    "keepdims",
    "true",
    "False",
    "(",
    ")",
    ",",
    "=",
    "+",
    "-",
    "*",
    "/",
    "@",
    "**",
    ".T",
    ".",
    "T",
    "0",
    "1",
    "2",
    "-1",
    "0.5",
    ".5",
    "2.",
    "1e-3",
    "1e999",
    "1e",
    "9999999999999999999999",
    " ",
    "  ",
    "\t",
    "\n",
    "é",
    "×",
    "😀",
    "\u{202e}",
    "\u{200b}",
    "\u{0}",
    "\u{1b}[31m",
    "\u{7}",
    "\r",
    "#",
    "[",
    "]",
    "{",
    "$",
    "'",
    "\"",
    "\\",
    "_",
    "axis=0",
    "axis=-1",
    "keepdims=True",
];

/// Token soup: up to 40 tokens in a row.
fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(select(TOKENS), 0..40).prop_map(|tokens| tokens.concat())
}

/// Variables of valid expressions, each with a shape in [`PROBLEM_SHAPES`].
const VARIABLES: &[&str] = &["A", "B", "v", "s"];

/// `A`, `B` square matrices, `v` a vector and `s` a scalar: most compositions type-check.
const PROBLEM_SHAPES: [&str; 4] = ["A=3x3", "B=3x3", "v=3", "s=scalar"];

/// Expressions of the language (not always well typed), up to a few levels deep.
fn valid_expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        4 => select(VARIABLES).prop_map(String::from),
        1 => select(&["2", "0.5", "1e-3", "3"][..]).prop_map(String::from),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        let elementwise = &[
            "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "softplus",
            "square",
        ][..];
        let reductions = &["sum", "mean", "var", "std", "softmax", "logsumexp"][..];
        let options = &[
            "",
            ", axis=0",
            ", axis=1",
            ", axis=-1",
            ", keepdims=true",
            ", axis=1, keepdims=True",
        ][..];
        prop_oneof![
            (
                inner.clone(),
                select(&["+", "-", "*", "/", "@"][..]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            inner.clone().prop_map(|a| format!("({a})")),
            inner.clone().prop_map(|a| format!("-{a}")),
            inner.clone().prop_map(|a| format!("({a}).T")),
            (inner.clone(), select(&["2", "-1", "0.5", "3"][..]))
                .prop_map(|(a, p)| format!("({a}) ** {p}")),
            (select(elementwise), inner.clone()).prop_map(|(f, a)| format!("{f}({a})")),
            (select(reductions), inner.clone(), select(options))
                .prop_map(|(f, a, o)| format!("{f}({a}{o})")),
            (select(&["trace", "inv", "det"][..]), inner.clone())
                .prop_map(|(f, a)| format!("{f}({a})")),
        ]
    })
}

/// One edit of an expression's text; positions are taken modulo its length.
#[derive(Debug, Clone)]
enum Mutation {
    /// Remove `len` bytes at `at`.
    Delete { at: usize, len: usize },
    /// Insert `text` at `at`.
    Insert { at: usize, text: &'static str },
    /// Replace `len` bytes at `at` with `text`.
    Replace {
        at: usize,
        len: usize,
        text: &'static str,
    },
    /// Copy `len` bytes at `from` to `to`.
    Duplicate { from: usize, len: usize, to: usize },
    /// Keep only the first `at` bytes.
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        (at, 1..8usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (at, select(TOKENS)).prop_map(|(at, text)| Mutation::Insert { at, text }),
        (at, 1..4usize, select(TOKENS)).prop_map(|(at, len, text)| Mutation::Replace {
            at,
            len,
            text
        }),
        (at, 1..16usize, any::<usize>()).prop_map(|(from, len, to)| Mutation::Duplicate {
            from,
            len,
            to
        }),
        at.prop_map(|at| Mutation::Truncate { at }),
    ]
}

/// The largest character boundary of `text` at or before `at % (len + 1)`.
fn boundary(text: &str, at: usize) -> usize {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// `text` with `mutation` applied (always valid UTF-8).
fn mutate(text: &str, mutation: &Mutation) -> String {
    let range = |at: usize, len: usize| {
        let start = boundary(text, at);
        (start, boundary(text, start + len.min(text.len() - start)))
    };
    match *mutation {
        Mutation::Delete { at, len } => {
            let (start, end) = range(at, len);
            [&text[..start], &text[end..]].concat()
        }
        Mutation::Insert { at, text: insert } => {
            let at = boundary(text, at);
            [&text[..at], insert, &text[at..]].concat()
        }
        Mutation::Replace {
            at,
            len,
            text: insert,
        } => {
            let (start, end) = range(at, len);
            [&text[..start], insert, &text[end..]].concat()
        }
        Mutation::Duplicate { from, len, to } => {
            let (start, end) = range(from, len);
            let to = boundary(text, to);
            [&text[..to], &text[start..end], &text[to..]].concat()
        }
        Mutation::Truncate { at } => text[..boundary(text, at)].to_string(),
    }
}

/// A valid expression with one to four edits.
fn mutated_expression() -> impl Strategy<Value = String> {
    (valid_expression(), prop::collection::vec(mutation(), 1..5)).prop_map(|(text, mutations)| {
        mutations
            .iter()
            .fold(text, |text, mutation| mutate(&text, mutation))
    })
}

#[test]
fn fuzz_front_end_on_arbitrary_strings() {
    campaign(
        "arbitrary strings",
        any::<String>(),
        8_000,
        250_000,
        |source| check_front_end(&source),
    );
    campaign(
        "arbitrary bytes",
        prop::collection::vec(any::<u8>(), 0..256),
        4_000,
        100_000,
        |bytes| check_front_end(&String::from_utf8_lossy(&bytes)),
    );
}

#[test]
fn fuzz_front_end_on_token_soup() {
    campaign("token soup", token_soup(), 12_000, 300_000, |source| {
        check_front_end(&source)
    });
}

#[test]
fn fuzz_front_end_on_valid_expressions_and_their_mutations() {
    campaign(
        "valid expressions",
        valid_expression(),
        4_000,
        100_000,
        |source| {
            // A generated expression always parses; only its shapes may be wrong.
            prop_assert!(expr::parse(&source).is_ok(), "{source}");
            check_front_end(&source)
        },
    );
    campaign(
        "mutated expressions",
        mutated_expression(),
        12_000,
        350_000,
        |source| check_front_end(&source),
    );
}

#[test]
fn mutations_keep_utf8_and_stay_near_the_original() {
    let text = "é(X) @ W😀";
    for at in 0..=text.len() + 3 {
        for mutation in [
            Mutation::Delete { at, len: 2 },
            Mutation::Insert { at, text: "×" },
            Mutation::Replace {
                at,
                len: 3,
                text: "",
            },
            Mutation::Duplicate {
                from: at,
                len: 5,
                to: at * 7,
            },
            Mutation::Truncate { at },
        ] {
            let mutated = mutate(text, &mutation);
            assert!(mutated.len() <= text.len() + 5, "{mutation:?}: {mutated}");
        }
    }
    assert_eq!(mutate("abc", &Mutation::Truncate { at: 2 }), "ab");
    assert_eq!(mutate("abc", &Mutation::Delete { at: 1, len: 1 }), "ac");
    assert_eq!(
        mutate("abc", &Mutation::Insert { at: 7, text: "X" }),
        "abcX"
    );
}

// ---- the whole pipeline -------------------------------------------------------------------

/// Builds the problem of `source` with [`PROBLEM_SHAPES`] and asks it every question the
/// views ask at the first, the last and a random entry (chosen by `pick`): its value, its
/// finite-difference check, why it is zero, its breakdown; then a slice,
/// the structural and numeric nonzero counts, the warnings. `Ok(false)` if the problem
/// is refused (an ill-typed expression, a singular matrix, …).
fn check_problem(source: &str, wrt: Option<&str>, pick: u64) -> Result<bool, TestCaseError> {
    let spec = ProblemSpec {
        expression: source.to_string(),
        shapes: PROBLEM_SHAPES.iter().map(|s| s.to_string()).collect(),
        wrt: wrt.map(String::from),
        ..ProblemSpec::default_example(&[], 0)
    };
    let Ok(problem) = Problem::build(spec) else {
        return Ok(false);
    };
    let _ = problem.warnings();
    let jacobian = &problem.jacobian;
    let shape = jacobian.shape();
    prop_assert_eq!(jacobian.axis_names().len(), shape.len());
    let random: Vec<usize> = shape
        .iter()
        .enumerate()
        .map(|(axis, &d)| (pick >> (8 * axis)) as usize % d)
        .collect();
    for index in [
        vec![0; shape.len()],
        shape.iter().map(|d| d - 1).collect::<Vec<_>>(),
        random,
    ] {
        jacobian
            .check_index(&index)
            .map_err(|e| TestCaseError::fail(format!("{source}: index {index:?} refused: {e}")))?;
        let value = jacobian.entry(&index);
        let _ = jacobian.why_zero(&index);
        let _ = jacobian.breakdown(&index, jacscope::calculus::render::Notation::Ascii);
        let fd = check::finite_difference(
            jacobian.graph(),
            &problem.inputs,
            problem.wrt_name(),
            &index,
        );
        // The only error allowed: a perturbed matrix too close to singular to invert.
        prop_assert!(
            !matches!(fd, Err(ref e) if !matches!(e, EvalError::Singular { .. })),
            "{source} at {index:?}: {fd:?}"
        );
        if !jacobian.support().contains(&index) {
            prop_assert_eq!(value, 0.0, "{} at {:?}: structural zero", source, index);
        }
    }
    if shape.len() >= 2 {
        let slice = jacobian.slice((0, shape.len() - 1), &vec![0; shape.len()]);
        prop_assert_eq!(slice.values.len(), slice.rows * slice.cols);
    }
    let structural = sparsity::structural_count(jacobian.formula());
    let entries: u128 = shape.iter().map(|&d| d as u128).product();
    prop_assert!(structural <= entries);
    prop_assert!(u128::from(numeric_nonzeros(jacobian)) <= structural);
    Ok(true)
}

#[test]
fn fuzz_whole_pipeline_on_valid_expressions() {
    let built = AtomicUsize::new(0);
    campaign(
        "end-to-end problems",
        (
            valid_expression(),
            prop::option::of(select(VARIABLES)),
            any::<u64>(),
        ),
        1_500,
        100_000,
        |(source, wrt, pick)| {
            if check_problem(&source, wrt, pick)? {
                built.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        },
    );
    let built = built.into_inner();
    println!("fuzz end-to-end problems: {built} of them built and were asked every question");
    assert!(built > 0);
}

// ---- files --------------------------------------------------------------------------------

/// Valid files to mutate: `.npy` of every real dtype, both byte orders, Fortran order,
/// scalar/vector/matrix, format versions 1 and 2; `.npz` stored and deflated.
struct Corpus {
    npy: Vec<Vec<u8>>,
    npz: Vec<Vec<u8>>,
}

fn npy_bytes(array: &ArrayD<f64>) -> Vec<u8> {
    let mut bytes = Vec::new();
    array.write_npy(&mut bytes).unwrap();
    bytes
}

fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let matrix = arr2(&[[1.5, -2.0, 0.0], [3.25, 4.0, -0.5]]).into_dyn();
        let mut npy = vec![
            npy_bytes(&matrix),
            npy_bytes(&arr1(&[1.0, 2.0, 3.0]).into_dyn()),
            npy_bytes(&arr0(7.0).into_dyn()),
            npy_bytes(&matrix.t().to_owned()),
            raw_npy_version(
                1,
                "'>f8'",
                false,
                "(2,)",
                &[&1.5f64.to_be_bytes()[..], &2.0f64.to_be_bytes()].concat(),
            ),
            raw_npy_version(
                1,
                "'<f4'",
                true,
                "(2, 1)",
                &[&1.5f32.to_le_bytes()[..], &(-3.0f32).to_le_bytes()].concat(),
            ),
            raw_npy_version(
                2,
                "'<i8'",
                false,
                "(1, 2)",
                &[&(-5i64).to_le_bytes()[..], &9i64.to_le_bytes()].concat(),
            ),
            raw_npy_version(1, "'<i4'", false, "(3,)", &[0u8; 12]),
            raw_npy_version(1, "'>i2'", false, "(2, 2)", &[0, 1, 255, 254, 0, 3, 128, 0]),
            raw_npy_version(1, "'|i1'", false, "(4,)", &[1, 255, 127, 128]),
            raw_npy_version(1, "'|u1'", false, "()", &[200]),
            raw_npy_version(1, "'<u2'", false, "(1,)", &[1, 2]),
            raw_npy_version(1, "'>u4'", false, "(1,)", &[0, 0, 1, 2]),
            raw_npy_version(1, "'<u8'", false, "(1,)", &[0xff; 8]),
            raw_npy_version(1, "'|b1'", false, "(2, 2)", &[0, 1, 1, 0]),
            raw_npy_version(1, "'<c16'", false, "(1,)", &[0; 16]),
            raw_npy_version(1, "'<U2'", false, "(1,)", &[65, 0, 0, 0, 66, 0, 0, 0]),
        ];
        npy.push(raw_npy_version(
            1,
            "'<f8'",
            false,
            "(1000000000000000,)",
            &[0; 8],
        ));
        let mut npz = Vec::new();
        for compressed in [false, true] {
            let mut bytes = std::io::Cursor::new(Vec::new());
            {
                let mut writer = if compressed {
                    NpzWriter::new_compressed(&mut bytes)
                } else {
                    NpzWriter::new(&mut bytes)
                };
                writer.add_array("X", &matrix).unwrap();
                writer.add_array("W", &arr1(&[1i32, -2, 3])).unwrap();
                writer.add_array("other", &arr1(&[1u8])).unwrap();
                writer.finish().unwrap();
            }
            npz.push(bytes.into_inner());
        }
        Corpus { npy, npz }
    })
}

/// One edit of a file's bytes; positions are taken modulo its length.
#[derive(Debug, Clone)]
enum ByteMutation {
    /// Flip bit `bit` of the byte at `at`.
    FlipBit { at: usize, bit: u8 },
    /// Set the byte at `at`.
    Set { at: usize, value: u8 },
    /// Keep only the first `at` bytes.
    Truncate { at: usize },
    /// Insert `bytes` at `at`.
    Insert { at: usize, bytes: Vec<u8> },
    /// Remove `len` bytes at `at`.
    Delete { at: usize, len: usize },
    /// Replace the first occurrence of `from` with `to` (edits the header's text).
    Rewrite {
        from: &'static str,
        to: &'static str,
    },
}

/// Header texts worth swapping in: other dtypes, orders and shapes, big and broken ones.
const HEADER_EDITS: &[(&str, &str)] = &[
    ("<f8", "<f4"),
    ("<f8", ">f8"),
    ("<f8", "<c16"),
    ("<f8", "|O"),
    ("<f8", "<f2"),
    ("<i4", "<u4"),
    ("False", "True"),
    ("True", "False"),
    ("(2, 3)", "(3, 2)"),
    ("(2, 3)", "(6,)"),
    ("(2, 3)", "(2, 3, 1)"),
    ("(2, 3)", "(99999999999, 99999999999)"),
    ("(2, 3)", "(18446744073709551615,)"),
    ("(2, 3)", "(-1, 6)"),
    ("(2, 3)", "(0, 3)"),
    ("(2, 3)", "()"),
    ("(3,)", "(3000000000000,)"),
    ("'shape'", "'shap'"),
    ("'descr'", "'dtype'"),
    ("{", "{{"),
    ("}", ""),
    ("\n", "\u{1b}[2J\n"),
    ("NUMPY", "NUMPX"),
    ("X.npy", "W.npy"),
];

fn byte_mutation() -> impl Strategy<Value = ByteMutation> {
    let at = any::<usize>();
    prop_oneof![
        3 => (at, 0..8u8).prop_map(|(at, bit)| ByteMutation::FlipBit { at, bit }),
        2 => (at, any::<u8>()).prop_map(|(at, value)| ByteMutation::Set { at, value }),
        2 => at.prop_map(|at| ByteMutation::Truncate { at }),
        1 => (at, prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| ByteMutation::Insert { at, bytes }),
        1 => (at, 1..32usize).prop_map(|(at, len)| ByteMutation::Delete { at, len }),
        3 => select(HEADER_EDITS).prop_map(|(from, to)| ByteMutation::Rewrite { from, to }),
    ]
}

/// `bytes` with `mutation` applied.
fn mutate_bytes(mut bytes: Vec<u8>, mutation: &ByteMutation) -> Vec<u8> {
    let position = |at: usize, len: usize| at % (len + 1);
    match mutation {
        ByteMutation::FlipBit { at, bit } if !bytes.is_empty() => {
            let at = at % bytes.len();
            bytes[at] ^= 1 << bit;
        }
        ByteMutation::Set { at, value } if !bytes.is_empty() => {
            let at = at % bytes.len();
            bytes[at] = *value;
        }
        ByteMutation::Truncate { at } => bytes.truncate(position(*at, bytes.len())),
        ByteMutation::Insert { at, bytes: insert } => {
            let at = position(*at, bytes.len());
            bytes.splice(at..at, insert.iter().copied());
        }
        ByteMutation::Delete { at, len } => {
            let start = position(*at, bytes.len());
            let end = (start + len).min(bytes.len());
            bytes.drain(start..end);
        }
        ByteMutation::Rewrite { from, to } => {
            let found = bytes
                .windows(from.len())
                .position(|window| window == from.as_bytes());
            if let Some(at) = found {
                bytes.splice(at..at + from.len(), to.bytes());
            }
        }
        _ => {}
    }
    bytes
}

/// A file of the corpus with up to four edits.
fn mutated_file(archive: bool) -> impl Strategy<Value = Vec<u8>> {
    let count = if archive {
        corpus().npz.len()
    } else {
        corpus().npy.len()
    };
    (0..count, prop::collection::vec(byte_mutation(), 0..5)).prop_map(move |(which, mutations)| {
        let files = if archive {
            &corpus().npz
        } else {
            &corpus().npy
        };
        mutations.iter().fold(files[which].clone(), mutate_bytes)
    })
}

/// A scratch file per campaign, rewritten for every input.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jacscope-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Loads `bytes` from `path` as variable X (a `.npy`) or as an archive; a result is at
/// most 2-D and finite, an error is a short printable message.
fn check_load(path: &Path, bytes: &[u8], archive: bool) -> Result<(), TestCaseError> {
    std::fs::File::create(path)
        .and_then(|mut file| file.write_all(bytes))
        .expect("scratch file is writable");
    let load = if archive {
        LoadArg::Archive {
            path: path.to_path_buf(),
        }
    } else {
        LoadArg::Named {
            name: "X".to_string(),
            path: path.to_path_buf(),
        }
    };
    match inputs::load_arrays(&[load], &["X", "W"], FUZZ_MEMORY_LIMIT) {
        Ok(arrays) => {
            for array in arrays.values() {
                prop_assert!(array.ndim() <= 2);
                prop_assert!(array.iter().all(|x| x.is_finite()));
                prop_assert!(array.is_standard_layout());
            }
        }
        Err(error) => {
            let message = error.to_string();
            prop_assert!(!message.is_empty());
            prop_assert!(
                !message.chars().any(|c| c.is_control() && c != '\n'),
                "raw control characters: {message:?}"
            );
            prop_assert!(message.len() < 2_000, "{message}");
        }
    }
    Ok(())
}

#[test]
fn fuzz_npy_loading_on_mutated_files() {
    let path = scratch("X.npy");
    campaign(
        "mutated .npy files",
        mutated_file(false),
        4_000,
        100_000,
        |bytes| check_load(&path, &bytes, false),
    );
    let _ = std::fs::remove_file(&path);
}

#[test]
fn fuzz_npz_loading_on_mutated_archives() {
    let path = scratch("p.npz");
    campaign(
        "mutated .npz archives",
        mutated_file(true),
        1_000,
        30_000,
        |bytes| check_load(&path, &bytes, true),
    );
    let _ = std::fs::remove_file(&path);
}

#[test]
fn the_corpus_loads_as_written() {
    let path = scratch("corpus.npy");
    let corpus = corpus();
    let mut loaded = 0;
    for bytes in &corpus.npy {
        std::fs::write(&path, bytes).unwrap();
        let load = LoadArg::Named {
            name: "X".to_string(),
            path: path.clone(),
        };
        loaded += usize::from(inputs::load_arrays(&[load], &["X"], FUZZ_MEMORY_LIMIT).is_ok());
    }
    // All but the complex, the string and the 8 PB files are valid.
    assert_eq!(loaded, corpus.npy.len() - 3);
    let archive = scratch("corpus.npz");
    for bytes in &corpus.npz {
        std::fs::write(&archive, bytes).unwrap();
        let load = LoadArg::Archive {
            path: archive.clone(),
        };
        let arrays = inputs::load_arrays(&[load], &["X", "W"], FUZZ_MEMORY_LIMIT).unwrap();
        assert_eq!(arrays["X"].shape(), &[2, 3]);
        assert_eq!(arrays["W"], arr1(&[1.0, -2.0, 3.0]).into_dyn());
    }
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(&archive);
}
