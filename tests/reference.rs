//! jacscope's Jacobians against reference Jacobians computed by JAX (`jax.jacrev` in f64),
//! an independent implementation, and its second derivatives (`--wrt A,B`) against
//! `jax.hessian` / nested `jax.jacrev` in f64 (issue 13, item 4). The fixtures and the
//! script that made them: `tests/fixtures/`, `scripts/make_fixtures.py`.

use std::fs::File;
use std::path::PathBuf;

use jacscope::problem::{Problem, ProblemSpec};
use ndarray::{ArrayD, Dimension};
use ndarray_npy::NpzReader;
use tempfile::TempDir;

#[path = "common/run.rs"]
mod run;
use run::succeeds;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// One entry of `tests/fixtures/manifest.json`.
struct Case {
    name: String,
    expression: String,
    /// `X`, or `A,B` for ∂/∂B of ∂Y/∂A.
    wrt: String,
    /// The `.npz` file holding the inputs and JAX's `J`.
    path: PathBuf,
}

impl Case {
    fn is_second_order(&self) -> bool {
        self.wrt.contains(',')
    }

    /// JAX's J, laid out out.shape + A.shape (+ B.shape).
    fn expected(&self) -> ArrayD<f64> {
        let mut npz = NpzReader::new(File::open(&self.path).unwrap()).unwrap();
        npz.by_name("J.npy").unwrap()
    }
}

fn cases() -> Vec<Case> {
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("manifest.json")).expect("manifest"),
    )
    .expect("manifest is JSON");
    let field = |case: &serde_json::Value, key: &str| case[key].as_str().unwrap().to_string();
    manifest
        .as_array()
        .expect("a list of cases")
        .iter()
        .map(|case| Case {
            name: field(case, "name"),
            expression: field(case, "expression"),
            wrt: field(case, "wrt"),
            path: fixtures().join(field(case, "file")),
        })
        .collect()
}

/// Asserts `got` has JAX's shape and every entry within 1e-10 (relative above 1).
fn assert_matches(name: &str, shape: &[usize], got: impl Fn(&[usize]) -> f64, want: &ArrayD<f64>) {
    assert_eq!(shape, want.shape(), "{name}: shape out.shape + wrt shapes");
    for (index, &want) in want.indexed_iter() {
        let got = got(index.slice());
        let tolerance = 1e-10 * want.abs().max(1.0);
        assert!(
            (got - want).abs() <= tolerance,
            "{name}: J{:?} = {got}, JAX says {want}",
            index.slice()
        );
    }
}

#[test]
fn every_fixture_matches_jax_to_1e_10() {
    let cases = cases();
    let second = cases.iter().filter(|c| c.is_second_order()).count();
    assert!(
        cases.len() - second >= 30,
        "the first-order set is complete"
    );
    assert!(second >= 30, "the second-order set is complete");
    for case in &cases {
        let name = &case.name;
        let spec = ProblemSpec {
            expression: case.expression.clone(),
            shapes: Vec::new(),
            loads: vec![case.path.display().to_string()],
            wrt: Some(case.wrt.clone()),
            seed: 0,
            max_memory: None,
        };
        let problem = Problem::build(spec).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_matches(
            name,
            &problem.jacobian.shape(),
            |index| problem.jacobian.entry(index),
            &case.expected(),
        );
    }
}

/// Issue 13, item 4: `jacscope dense EXPR -l FIXTURE.npz --wrt A,B -o H.npy`, the real
/// binary, writes JAX's second derivative to 1e-10.
#[test]
fn hessians_match_jax_to_1e_10() {
    let dir = TempDir::new().unwrap();
    for case in cases().iter().filter(|c| c.is_second_order()) {
        let output = dir.path().join(format!("{}.npy", case.name));
        let fixture = case.path.display().to_string();
        let output_text = output.display().to_string();
        succeeds(&[
            "dense",
            &case.expression,
            "-l",
            &fixture,
            "--wrt",
            &case.wrt,
            "-o",
            &output_text,
        ]);
        let written: ArrayD<f64> = ndarray_npy::read_npy(&output).unwrap();
        assert_matches(
            &case.name,
            written.shape(),
            |index| written[index],
            &case.expected(),
        );
    }
}
