//! Conventions: every layout checked against an independent reshape of the dense J, the
//! in+out layout against SymPy's `derive_by_array` (fixtures made by
//! scripts/make_sympy_fixtures.py), and the `shape`, `at --layout` and `explain` matrix-form
//! output of the binary.

use std::collections::BTreeMap;

use assert_cmd::Command;
use ndarray::{ArrayD, Dimension, IxDyn, Order};
use serde_json::{Value, json};

use jacscope::calculus::jacobian_formula;
use jacscope::eval;
use jacscope::expr::{self, Shape};
use jacscope::inputs::Inputs;
use jacscope::jacobian::Jacobian;
use jacscope::layout::{JacobianDims, Layout, VecOrder};

/// An expression, the shapes of its variables, and the variable to differentiate by.
type Case<'a> = (&'a str, &'a [(&'a str, &'a [usize])], &'a str);

/// The Jacobian of `source` by `wrt`; inputs from `loaded`, the rest standard normal.
fn jacobian(
    source: &str,
    shapes: &[(&str, &[usize])],
    wrt: &str,
    loaded: BTreeMap<String, ArrayD<f64>>,
) -> Jacobian {
    let shapes: BTreeMap<String, Shape> = shapes
        .iter()
        .map(|(n, s)| (n.to_string(), Shape(s.to_vec())))
        .collect();
    let graph = expr::compile(source, &shapes).unwrap();
    let wrt = graph.input(wrt).unwrap();
    let inputs = Inputs::new(&graph, loaded, 0).unwrap();
    let values = eval::evaluate(&graph, &inputs).unwrap();
    let formula = jacobian_formula(&graph, wrt);
    Jacobian::new(graph, wrt, formula, &values).unwrap()
}

/// J as a dense out+in array, entry by entry.
fn dense(jac: &Jacobian) -> ArrayD<f64> {
    ArrayD::from_shape_fn(IxDyn(&jac.shape()), |ix| jac.entry(ix.slice()))
}

/// Every index of an array of shape `dims`.
fn all_indices(dims: &[usize]) -> Vec<Vec<usize>> {
    let n: usize = dims.iter().product();
    (0..n)
        .map(|p| VecOrder::RowMajor.unflatten(dims, p))
        .collect()
}

#[test]
fn every_layout_is_a_reshape_or_transpose_of_the_dense_jacobian() {
    let cases: &[Case] = &[
        ("X @ W.T", &[("X", &[2, 3]), ("W", &[4, 3])], "X"),
        ("X @ W.T", &[("X", &[2, 3]), ("W", &[4, 3])], "W"),
        ("W @ x", &[("W", &[3, 2]), ("x", &[2])], "W"),
        ("W @ x", &[("W", &[3, 2]), ("x", &[2])], "x"),
        ("sum(X * X)", &[("X", &[2, 3])], "X"),
        ("X * c", &[("X", &[2, 3]), ("c", &[])], "c"),
        ("c * c", &[("c", &[])], "c"),
    ];
    for (source, shapes, wrt) in cases {
        let jac = jacobian(source, shapes, wrt, BTreeMap::new());
        let dims = JacobianDims::of(&jac);
        let j = dense(&jac);
        let (y_rank, x_rank) = (dims.out.len(), dims.input.len());
        let (y_len, x_len) = (dims.out_len(), dims.input_len());
        // What NumPy (row-major) and MATLAB/Julia (column-major) reshapes give.
        let in_out_axes: Vec<usize> = (y_rank..y_rank + x_rank).chain(0..y_rank).collect();
        let in_out = j.clone().permuted_axes(IxDyn(&in_out_axes));
        let numerator_row = j.to_shape(((y_len, x_len), Order::RowMajor)).unwrap();
        let numerator_col = j.to_shape(((y_len, x_len), Order::ColumnMajor)).unwrap();
        let witnesses: [(Layout, ArrayD<f64>); 6] = [
            (Layout::OutIn, j.clone()),
            (Layout::InOut, in_out.to_owned()),
            (
                Layout::NumeratorColMajor,
                numerator_col.to_owned().into_dyn(),
            ),
            (
                Layout::NumeratorRowMajor,
                numerator_row.to_owned().into_dyn(),
            ),
            (
                Layout::DenominatorColMajor,
                numerator_col.t().to_owned().into_dyn(),
            ),
            (
                Layout::DenominatorRowMajor,
                numerator_row.t().to_owned().into_dyn(),
            ),
        ];
        for (layout, witness) in witnesses {
            assert_eq!(layout.shape(&dims), witness.shape(), "{source} {layout}");
            for index in all_indices(&jac.shape()) {
                let position = layout.position(&dims, &index);
                assert_eq!(
                    witness[IxDyn(&position)],
                    j[IxDyn(&index)],
                    "{source} wrt {wrt}: {layout} at {index:?}"
                );
                assert_eq!(layout.index_at(&dims, &position), index);
            }
        }
    }
}

#[test]
fn in_plus_out_is_sympys_derive_by_array() {
    let text = std::fs::read_to_string("tests/fixtures/sympy/derive_by_array.json").unwrap();
    let fixtures: Value = serde_json::from_str(&text).unwrap();
    let cases = fixtures["cases"].as_array().unwrap();
    assert!(cases.len() >= 8);
    let numbers = |v: &Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let shape_of = |v: &Value| -> Vec<usize> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect()
    };
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let mut shapes: Vec<(String, Vec<usize>)> = Vec::new();
        let mut loaded = BTreeMap::new();
        for (variable, input) in case["inputs"].as_object().unwrap() {
            let shape = shape_of(&input["shape"]);
            let array = ArrayD::from_shape_vec(IxDyn(&shape), numbers(&input["data"])).unwrap();
            loaded.insert(variable.clone(), array);
            shapes.push((variable.clone(), shape));
        }
        let shapes: Vec<(&str, &[usize])> = shapes
            .iter()
            .map(|(n, s)| (n.as_str(), s.as_slice()))
            .collect();
        let jac = jacobian(
            case["expression"].as_str().unwrap(),
            &shapes,
            case["wrt"].as_str().unwrap(),
            loaded,
        );
        let dims = JacobianDims::of(&jac);
        let sympy_shape = shape_of(&case["derivative"]["shape"]);
        let sympy =
            ArrayD::from_shape_vec(IxDyn(&sympy_shape), numbers(&case["derivative"]["data"]))
                .unwrap();
        assert_eq!(Layout::InOut.shape(&dims), sympy_shape, "{name}");
        for index in all_indices(&jac.shape()) {
            let ours = jac.entry(&index);
            let theirs = sympy[IxDyn(&Layout::InOut.position(&dims, &index))];
            assert!(
                (ours - theirs).abs() <= 1e-12 * (1.0 + theirs.abs()),
                "{name} at {index:?}: {ours} vs SymPy's {theirs}"
            );
        }
    }
}

fn jacscope() -> Command {
    Command::cargo_bin("jacscope").expect("binary is built")
}

/// Runs jacscope with `args` and `--json`, expects success, parses stdout.
fn json_of(args: &[&str]) -> Value {
    let output = jacscope().args(args).arg("--json").output().unwrap();
    assert!(
        output.status.success(),
        "jacscope {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON document")
}

/// Runs jacscope with `args`, expects success, returns stdout.
fn text_of(args: &[&str]) -> String {
    let output = jacscope().args(args).output().unwrap();
    assert!(output.status.success(), "jacscope {args:?} failed");
    String::from_utf8(output.stdout).unwrap()
}

/// Runs jacscope with `args`, expects exit code 2, returns stderr.
fn bad_input(args: &[&str]) -> String {
    let output = jacscope().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn shape_lists_every_layout_of_the_default_example() {
    let doc = json_of(&["shape"]);
    assert_eq!(doc["claim"], Value::Null);
    let layouts = doc["layouts"].as_array().unwrap();
    let got: Vec<(&str, Value)> = layouts
        .iter()
        .map(|l| (l["name"].as_str().unwrap(), l["shape"].clone()))
        .collect();
    assert_eq!(
        got,
        [
            ("out+in", json!([64, 512, 64, 1024])),
            ("in+out", json!([64, 1024, 64, 512])),
            ("numerator-colmajor", json!([32768, 65536])),
            ("numerator-rowmajor", json!([32768, 65536])),
            ("denominator-colmajor", json!([65536, 32768])),
            ("denominator-rowmajor", json!([65536, 32768])),
        ]
    );
    assert!(layouts[0]["used_by"].as_str().unwrap().contains("JAX"));
    assert!(layouts[1]["used_by"].as_str().unwrap().contains("SymPy"));
    let text = text_of(&["shape"]);
    assert!(text.starts_with("J = ∂Y/∂X for Y = X @ W.T: Y is (64, 512), X is (64, 1024)\n"));
    assert!(text.contains("\nnumerator-colmajor    (32768, 65536)       ∂vec(Y)/∂vec(X)ᵀ"));
    assert!(!text.is_ascii() && text_of(&["shape", "--ascii"]).is_ascii());
}

#[test]
fn shape_answers_is_it_64x1024x1024x512() {
    for spelling in [
        "64x1024x1024x512",
        "(64, 1024, 1024, 512)",
        "64,1024,1024,512",
    ] {
        let doc = json_of(&["shape", "--claim", spelling]);
        let claim = &doc["claim"];
        assert_eq!(claim["shape"], json!([64, 1024, 1024, 512]));
        assert_eq!(claim["matches"], json!([]));
        let note = claim["note"].as_str().unwrap();
        assert!(
            note.contains("not a permutation of out+in's (64, 512, 64, 1024)"),
            "{note}"
        );
        assert!(note.contains("1024 is X's axis l"), "{note}");
        assert!(note.contains("missing: X's k (64)"), "{note}");
    }
    let text = text_of(&["shape", "--claim", "64x1024x1024x512"]);
    assert!(text.contains("\nClaim: (64, 1024, 1024, 512) matches no layout of J."));

    let doc = json_of(&["shape", "--claim", "(64, 512, 64, 1024)"]);
    assert_eq!(doc["claim"]["matches"], json!(["out+in"]));
    let doc = json_of(&["shape", "--claim", "32768x65536"]);
    assert_eq!(
        doc["claim"]["matches"],
        json!(["numerator-colmajor", "numerator-rowmajor"])
    );
    let doc = json_of(&[
        "shape", "X @ W.T", "--wrt", "W", "-s", "X=3x4", "-s", "W=5x4", "--claim", "5x4x3x5",
    ]);
    assert_eq!(doc["claim"]["matches"], json!(["in+out"]));
}

#[test]
fn malformed_claims_and_unknown_layouts_are_usage_errors() {
    for claim in ["64xx1024", "abc", "64x1024x", "", "1.5"] {
        let stderr = bad_input(&["shape", "--claim", claim]);
        assert!(stderr.starts_with("error: --claim"), "{claim}: {stderr}");
        assert!(stderr.contains("64x1024x1024x512"), "{stderr}");
    }
    let stderr = bad_input(&["at", "--index", "0,0,0,0", "--layout", "colmajor"]);
    assert_eq!(
        stderr.trim(),
        "error: --layout: unknown layout 'colmajor'; the layouts are out+in, in+out, \
         numerator-colmajor, numerator-rowmajor, denominator-colmajor, denominator-rowmajor"
    );
}

#[test]
fn at_says_where_the_entry_lands() {
    // X 3×4, W 5×4: Y is 3×5
    let index = ["at", "--index", "1,3,2,2", "-s", "X=3x4", "-s", "W=5x4"];
    let cases = [
        ("out+in", json!([1, 3, 2, 2]), json!([3, 5, 3, 4])),
        ("in+out", json!([2, 2, 1, 3]), json!([3, 4, 3, 5])),
        // column-major: i + 3·j, k + 3·l
        (
            "numerator-colmajor",
            json!([1 + 3 * 3, 2 + 3 * 2]),
            json!([15, 12]),
        ),
        // row-major: 5·i + j, 4·k + l
        ("numerator-rowmajor", json!([5 + 3, 8 + 2]), json!([15, 12])),
        (
            "denominator-colmajor",
            json!([2 + 3 * 2, 1 + 3 * 3]),
            json!([12, 15]),
        ),
        (
            "denominator-rowmajor",
            json!([8 + 2, 5 + 3]),
            json!([12, 15]),
        ),
    ];
    for (name, position, shape) in cases {
        let doc = json_of(&[&index[..], &["--layout", name]].concat());
        assert_eq!(
            doc["layout"],
            json!({"name": name, "position": position, "shape": shape})
        );
    }
    assert!(json_of(&index).get("layout").is_none());
    let default = ["at", "--index", "1,3,1,7", "--layout", "numerator-colmajor"];
    let text = text_of(&default);
    assert!(text.ends_with(
        "in layout numerator-colmajor (shape (32768, 65536)) this entry is at (193, 449)\n"
    ));
}

#[test]
fn explain_gives_the_matrix_form_in_both_vec_orders() {
    let doc = json_of(&["explain"]);
    assert_eq!(
        doc["matrix_form"],
        json!({
            "colmajor": "W ⊗ I₆₄",
            "rowmajor": "I₆₄ ⊗ W",
            "notes": [],
            "colmajor_expression": "kron(W, eye(64))",
            "rowmajor_expression": "kron(eye(64), W)",
            "checked": true
        })
    );
    let text = text_of(&["explain"]);
    assert!(text.contains(
        "\nMatrix form ∂vec(Y)/∂vec(X)ᵀ: W ⊗ I₆₄ (column-major vec), I₆₄ ⊗ W (row-major vec_r)\n"
    ));
    let ascii = text_of(&["explain", "--ascii"]);
    assert!(ascii.contains(
        "\nMatrix form dvec(Y)/dvec(X)^T: kron(W, I_64) (column-major vec), kron(I_64, W) (row-major vec_r)\n"
    ));

    let doc = json_of(&["explain", "--wrt", "W"]);
    assert_eq!(doc["matrix_form"]["colmajor"], "(I₅₁₂ ⊗ X)·K");
    assert_eq!(doc["matrix_form"]["rowmajor"], "(X ⊗ I₅₁₂)·K′");
    assert_eq!(
        doc["matrix_form"]["notes"],
        json!([
            "K and K′ are the commutation matrices with K·vec(W) = vec(Wᵀ) and K′·vec_r(W) = vec_r(Wᵀ)"
        ])
    );
    let text = text_of(&["explain", "--wrt", "W"]);
    assert!(text.contains("\n  where K and K′ are the commutation matrices"));

    let none = [
        "explain",
        "softmax(X @ W, axis=1)",
        "-s",
        "X=2x3",
        "-s",
        "W=3x4",
    ];
    assert_eq!(json_of(&none)["matrix_form"], Value::Null);
    assert!(text_of(&none).contains("\nMatrix form ∂vec(Y)/∂vec(X)ᵀ: no Kronecker form\n"));
}
