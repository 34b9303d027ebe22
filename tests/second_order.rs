//! Second derivatives (issue 13, item 1): `--wrt A,B` is ∂/∂B of ∂Y/∂A laid out
//! out.shape + A.shape + B.shape, `--order 2` the Hessian with respect to the default
//! variable. Entries are checked against Hessians in closed form from the literature
//! (computed here from the inputs, not by jacscope) and against second differences of
//! forward evaluation alone; `dense` against the same witness; the errors exit with 2.

use tempfile::TempDir;

use jacscope::check;
use jacscope::layout::VecOrder;
use jacscope::problem::{Problem, ProblemSpec};

#[path = "common/run.rs"]
mod run;
use run::{check_json, refused, succeeds};

/// The problem of `expression` with these shapes and `--wrt wrt`, seed 0.
fn problem(expression: &str, shapes: &[&str], wrt: &str) -> Problem {
    Problem::build(ProblemSpec {
        expression: expression.to_string(),
        shapes: shapes.iter().map(|s| s.to_string()).collect(),
        loads: Vec::new(),
        wrt: Some(wrt.to_string()),
        seed: 0,
        max_memory: None,
    })
    .unwrap_or_else(|e| panic!("{expression}: {e}"))
}

/// Every index of an array of shape `dims`, in row-major order.
fn all_indices(dims: &[usize]) -> Vec<Vec<usize>> {
    let count: usize = dims.iter().product();
    (0..count)
        .map(|flat| VecOrder::RowMajor.unflatten(dims, flat))
        .collect()
}

/// Asserts that J equals `expected` at every index, to 1e-10 relative.
fn assert_entries(p: &Problem, expected: impl Fn(&[usize]) -> f64) {
    let j = &p.jacobian;
    for index in all_indices(&j.shape()) {
        let (got, want) = (j.entry(&index), expected(&index));
        assert!(
            (got - want).abs() <= 1e-10 * want.abs().max(1.0),
            "{} wrt {} at {index:?}: {got} vs {want}",
            p.spec.expression,
            j.wrt_name()
        );
    }
}

/// The value of variable `name` of `p` at `index`.
fn input(p: &Problem, name: &str, index: &[usize]) -> f64 {
    p.inputs.get(name).unwrap()[index]
}

#[test]
fn hessian_of_a_quadratic_trace_form_is_identity_kron_a_plus_a_transposed() {
    // ∂²tr(XᵀAX)/∂X[k,l]∂X[g,h] = δ(l,h)·(A + Aᵀ)[k,g]: in vec form I ⊗ (A + Aᵀ).
    let p = problem("trace(X.T @ A @ X)", &["X=4x3", "A=4x4"], "X,X");
    assert_eq!(p.jacobian.shape(), [4, 3, 4, 3]);
    assert_entries(&p, |ix| {
        let (k, l, g, h) = (ix[0], ix[1], ix[2], ix[3]);
        if l == h {
            input(&p, "A", &[k, g]) + input(&p, "A", &[g, k])
        } else {
            0.0
        }
    });
    assert_eq!(p.jacobian.support().count(), 3 * 4 * 4);
}

#[test]
fn hessian_of_least_squares_is_a_transposed_a() {
    let p = problem(
        "0.5 * sum(square(A @ x - b))",
        &["A=5x3", "x=3", "b=5"],
        "x,x",
    );
    assert_eq!(p.jacobian.shape(), [3, 3]);
    assert_entries(&p, |ix| {
        (0..5)
            .map(|m| input(&p, "A", &[m, ix[0]]) * input(&p, "A", &[m, ix[1]]))
            .sum()
    });
}

#[test]
fn hessian_of_logsumexp_is_diag_p_minus_p_p_transposed() {
    let p = problem("logsumexp(v, axis=0)", &["v=4"], "v,v");
    let e: Vec<f64> = (0..4).map(|k| input(&p, "v", &[k]).exp()).collect();
    let total: f64 = e.iter().sum();
    let prob: Vec<f64> = e.iter().map(|x| x / total).collect();
    assert_entries(&p, |ix| {
        let diagonal = if ix[0] == ix[1] { prob[ix[0]] } else { 0.0 };
        diagonal - prob[ix[0]] * prob[ix[1]]
    });
}

#[test]
fn hessians_of_sigmoid_and_relu_layer_losses() {
    // sum(σ(Xw)) has Hessian Σ_m X[m,k]·X[m,g]·σ″(z_m), σ″ = σ(1−σ)(1−2σ), z = Xw.
    let p = problem("sum(sigmoid(X @ w))", &["X=5x3", "w=3"], "w,w");
    let z: Vec<f64> = (0..5)
        .map(|m| {
            (0..3)
                .map(|k| input(&p, "X", &[m, k]) * input(&p, "w", &[k]))
                .sum()
        })
        .collect();
    let second = |z: f64| {
        let s = 1.0 / (1.0 + (-z).exp());
        s * (1.0 - s) * (1.0 - 2.0 * s)
    };
    assert_entries(&p, |ix| {
        (0..5)
            .map(|m| input(&p, "X", &[m, ix[0]]) * input(&p, "X", &[m, ix[1]]) * second(z[m]))
            .sum()
    });
    // A relu layer is piecewise linear in W: its Hessian is structurally zero.
    let p = problem("sum(relu(X @ W.T + b))", &["X=4x3", "W=2x3", "b=2"], "W,W");
    assert_eq!(p.jacobian.shape(), [2, 3, 2, 3]);
    assert_eq!(p.jacobian.support().count(), 0);
    assert_entries(&p, |_| 0.0);
}

#[test]
fn mixed_second_derivative_of_a_linear_layer_is_a_product_of_deltas() {
    // Y[i,j] = Σ_m X[i,m]·W[j,m]: ∂²Y[i,j]/∂X[k,l]∂W[g,h] = δ(i,k)·δ(j,g)·δ(l,h).
    let p = problem("X @ W.T", &["X=3x4", "W=2x4"], "X,W");
    assert_eq!(p.jacobian.shape(), [3, 2, 3, 4, 2, 4]);
    assert_eq!(p.jacobian.axis_names(), ["i", "j", "k", "l", "g", "h"]);
    assert_entries(&p, |ix| {
        f64::from(u8::from(ix[0] == ix[2] && ix[1] == ix[4] && ix[3] == ix[5]))
    });
    assert_eq!(p.jacobian.support().count(), 3 * 2 * 4);
}

/// Random compositions over the language's elementwise functions and operations: every
/// entry of every second derivative agrees with second differences of forward evaluation.
#[test]
fn entries_agree_with_second_differences_on_random_expressions() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    let functions = [
        "exp", "sin", "cos", "tanh", "sigmoid", "softplus", "square", "relu", "abs",
    ];
    let unary = prop::sample::select(functions.to_vec());
    let strategy = (unary.clone(), unary, 0usize..6, 0u64..1000);
    let config = Config {
        cases: 24,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    runner
        .run(&strategy, |(f, g, shape, seed)| {
            let expression = [
                format!("sum({f}(X @ W.T) * {g}(X @ W.T))"),
                format!("{f}(X) @ {g}(W).T"),
                format!("softmax({f}(X @ W.T), axis=1)"),
                format!("logsumexp({g}(X) * X, axis=1)"),
                format!("var({f}(X), axis=1) / (square(sum(W)) + 1)"),
                format!("det({f}(X @ X.T) + 3 * eye(2))"),
            ][shape]
                .clone();
            for wrt in ["X,X", "X,W", "W,X"] {
                let p = Problem::build(ProblemSpec {
                    expression: expression.clone(),
                    shapes: vec!["X=2x3".into(), "W=2x3".into()],
                    loads: Vec::new(),
                    wrt: Some(wrt.to_string()),
                    seed,
                    max_memory: None,
                });
                let Ok(p) = p else {
                    continue; // e.g. W not in the expression
                };
                let j = &p.jacobian;
                for index in all_indices(&j.shape()) {
                    let value = j.entry(&index);
                    let fd = check::finite_difference(j.graph(), &p.inputs, wrt, &index)
                        .expect("forward evaluation works here");
                    prop_assert!(
                        check::agrees(value, &fd),
                        "{expression} wrt {wrt} at {index:?}: {value} vs {}",
                        fd.value
                    );
                }
            }
            Ok(())
        })
        .unwrap();
}

/// The values of a little-endian f64 `.npy` file written by `jacscope dense`, and its
/// shape, read with no help from jacscope.
fn read_npy(path: &std::path::Path) -> (Vec<usize>, Vec<f64>) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        _ => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
    };
    let header = std::str::from_utf8(&bytes[start..start + header_len]).unwrap();
    assert!(header.contains("'descr': '<f8'"), "{header}");
    assert!(header.contains("'fortran_order': False"), "{header}");
    let shape_text = header.split("'shape': (").nth(1).unwrap();
    let shape: Vec<usize> = shape_text[..shape_text.find(')').unwrap()]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let data = bytes[start + header_len..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    (shape, data)
}

#[test]
fn dense_hessian_and_mixed_derivative_agree_with_second_differences() {
    let dir = TempDir::new().unwrap();
    let cases = [
        ("sum(tanh(X @ W.T) * (X @ W.T))", "X,X"),
        ("softmax(X @ W.T, axis=1)", "X,W"),
    ];
    for (expression, wrt) in cases {
        let path = dir.path().join("H.npy");
        let path_text = path.to_str().unwrap();
        let args = [
            "dense", expression, "-s", "X=2x3", "-s", "W=2x3", "--wrt", wrt, "-o", path_text,
            "--force",
        ];
        succeeds(&args);
        let (shape, data) = read_npy(&path);
        let p = problem(expression, &["X=2x3", "W=2x3"], wrt);
        assert_eq!(shape, p.jacobian.shape(), "{expression} wrt {wrt}");
        for (index, value) in all_indices(&shape).iter().zip(&data) {
            let fd = check::finite_difference(p.graph(), &p.inputs, wrt, index).unwrap();
            assert!(
                check::agrees(*value, &fd),
                "{expression} wrt {wrt} at {index:?}: dense {value}, second difference {}",
                fd.value
            );
        }
    }
}

#[test]
fn the_cli_takes_wrt_a_comma_b_and_order_2() {
    let shapes = ["-s", "X=3x2", "-s", "w=2"];
    let expression = "sum(sigmoid(X @ w))";
    let with = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["explain", expression];
        args.extend_from_slice(&shapes);
        args.extend_from_slice(extra);
        args.push("--json");
        serde_json::from_str(&succeeds(&args).stdout).unwrap()
    };
    let hessian = with(&["--wrt", "w,w"]);
    assert_eq!(hessian["wrt"], "w,w");
    assert_eq!(hessian["shape"], serde_json::json!([2, 2]));
    assert_eq!(hessian["axes"], serde_json::json!(["k", "g"]));
    assert_eq!(
        hessian["formula"]["ascii"],
        "sum_m X[m,k]*X[m,g]*sigmoid''(Z1)[m]"
    );
    // --order 2 is --wrt V,V with the first variable, X.
    let order = with(&["--order", "2"]);
    assert_eq!(order["wrt"], "X,X");
    assert_eq!(order, with(&["--wrt", "X,X"]));
    let mixed = with(&["--wrt", "X,w"]);
    assert_eq!(mixed["shape"], serde_json::json!([3, 2, 2]));
    assert_eq!(mixed["axes"], serde_json::json!(["k", "l", "g"]));

    // at: the entry's name, and the finite-difference check made from forward evaluation.
    let run = succeeds(&[
        "at", expression, "-s", "X=3x2", "-s", "w=2", "--wrt", "X,w", "--index", "1,0,1",
    ]);
    assert!(
        run.stdout.starts_with("∂²Y/∂X[1,0]∂w[1] = "),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("— agrees"), "{}", run.stdout);
}

#[test]
fn bad_wrt_and_order_are_refused_with_exit_code_2() {
    let base = ["explain", "X @ W.T", "-s", "X=3x4", "-s", "W=2x4"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        base.iter().chain(extra).copied().collect()
    };
    refused(
        &with(&["--wrt", "X,Q"]),
        &["--wrt Q is not a variable of the expression (variables: X, W)"],
    );
    refused(
        &with(&["--wrt", "X,W,X"]),
        &["--wrt X,W,X names 3 variables; give one (X) or two"],
    );
    refused(&with(&["--order", "3"]), &["3 is not in 1..=2"]);
    refused(
        &with(&["--order", "2", "--wrt", "W"]),
        &["'--order <N>' cannot be used with '--wrt"],
    );
}

/// The screen of `app` at 120×30, one string per row.
fn screen(app: &jacscope::tui::App) -> Vec<String> {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let mut terminal = Terminal::new(TestBackend::new(120, 30)).unwrap();
    terminal
        .draw(|frame| jacscope::tui::draw::draw(frame, app))
        .unwrap();
    let buffer = terminal.backend().buffer();
    (0..buffer.area.height)
        .map(|y| {
            (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect()
        })
        .collect()
}

#[test]
fn the_explorer_offers_every_axis_pair_of_a_rank_6_second_derivative() {
    use jacscope::tui::action::Action;
    use jacscope::tui::{App, ColorMode, Theme};
    let p = problem("X @ X", &["X=3x3"], "X,X");
    let mut app = App::new(p, Theme::new(ColorMode::Ansi16, false), false, (120, 30));
    app.finish_jobs();
    let first = screen(&app);
    assert!(
        first
            .iter()
            .any(|row| row.contains("∂²Y[0,0]/∂X[0,0]∂X[0,0]")),
        "{}",
        first.join("\n")
    );
    // The pair shown, as the slice header names it: `slice g,h (pair 15/15)`.
    let pair = |rows: &[String]| -> String {
        let row = rows
            .iter()
            .find(|r| r.contains("(pair "))
            .expect("a slice header");
        let from = row.find("slice ").unwrap() + "slice ".len();
        row[from..row.find(" (pair ").unwrap()].to_string()
    };
    let mut seen = Vec::new();
    for _ in 0..15 {
        app.update(Action::NextPair);
        app.finish_jobs();
        seen.push(pair(&screen(&app)));
    }
    seen.sort();
    let axes = ["i", "j", "k", "l", "g", "h"];
    let mut every: Vec<String> = (0..6)
        .flat_map(|a| (a + 1..6).map(move |b| format!("{},{}", axes[a], axes[b])))
        .collect();
    every.sort();
    assert_eq!(seen, every);
}

/// Claims at second order: J's own printed formula, in ASCII and in Unicode (f′′ included),
/// pasted back as `check --claim`, holds; so do the Hessians of the textbooks as matrix
/// claims (∂²(xᵀAx)/∂x² = A + Aᵀ; ∂²tr(XᵀAX)/∂X² = I ⊗ (A + Aᵀ) in column-major vec).
#[test]
fn second_order_formulas_and_hessians_hold_as_claims() {
    let problems: &[&[&str]] = &[
        &[
            "sum(sigmoid(X @ w))",
            "-s",
            "X=4x3",
            "-s",
            "w=3",
            "--order",
            "2",
        ],
        &["sum(tanh(x) * log(x * x + 1))", "-s", "x=3", "--order", "2"],
        &[
            "sigmoid(X @ W.T)",
            "-s",
            "X=2x3",
            "-s",
            "W=2x3",
            "--wrt",
            "X,W",
        ],
        &[
            "trace(X.T @ A @ X)",
            "-s",
            "X=3x2",
            "-s",
            "A=3x3",
            "--wrt",
            "X,X",
        ],
    ];
    for problem in problems {
        let explained = succeeds(&[&["explain", "--json"], *problem].concat());
        let doc: serde_json::Value = serde_json::from_str(&explained.stdout).unwrap();
        for notation in ["ascii", "unicode"] {
            let formula = doc["formula"][notation].as_str().unwrap();
            let (code, verdict) = check_json(problem, formula);
            assert_eq!(code, Some(0), "{formula} about {problem:?}: {verdict}");
        }
    }
    let quadratic = ["x @ A @ x", "-s", "x=3", "-s", "A=3x3", "--order", "2"];
    assert_eq!(check_json(&quadratic, "A + A.T").0, Some(0));
    let trace = [
        "trace(X.T @ A @ X)",
        "-s",
        "X=3x2",
        "-s",
        "A=3x3",
        "--wrt",
        "X,X",
        "--layout",
        "numerator-colmajor",
    ];
    assert_eq!(check_json(&trace, "kron(eye(2), A + A.T)").0, Some(0));
    // The factors in the other order: with X square it reads, and does not hold.
    let square = [&trace[..2], &["X=3x3"], &trace[3..]].concat();
    assert_eq!(check_json(&square, "kron(eye(3), A + A.T)").0, Some(0));
    assert_eq!(check_json(&square, "kron(A + A.T, eye(3))").0, Some(3));
}

/// `explain` of a second derivative whose first-order formula sums over an index (the
/// relu layer's, whose Hessians vanish term by term, while its mixed derivative is
/// δ(l,h)·relu′(Z1)[k,g]) writes its steps instead of
/// panicking on the renumbered summations.
#[test]
fn explain_writes_the_steps_of_a_vanishing_hessian() {
    for (wrt, vanishes) in [("W,W", true), ("X,X", true), ("X,W", false)] {
        let run = succeeds(&[
            "explain",
            "sum(relu(X @ W.T + b))",
            "-s",
            "X=4x6",
            "-s",
            "W=5x6",
            "-s",
            "b=5",
            "--wrt",
            wrt,
        ]);
        assert!(
            run.stdout.contains("1. Differentiate once"),
            "{}",
            run.stdout
        );
        let none = run.stdout.contains("Structural nonzeros: 0 of");
        assert_eq!(none, vanishes, "{wrt}: {}", run.stdout);
    }
}
