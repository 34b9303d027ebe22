//! jacscope's Jacobians against reference Jacobians computed by JAX (`jax.jacrev` in f64),
//! an independent implementation. The fixtures and the script that made them:
//! `tests/fixtures/`, `scripts/make_fixtures.py`.

use std::fs::File;
use std::path::PathBuf;

use jacscope::problem::{Problem, ProblemSpec};
use ndarray::{ArrayD, Dimension};
use ndarray_npy::NpzReader;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

#[test]
fn every_fixture_matches_jax_to_1e_10() {
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("manifest.json")).expect("manifest"),
    )
    .expect("manifest is JSON");
    let cases = manifest.as_array().expect("a list of cases");
    assert!(cases.len() >= 30, "the fixture set is complete");
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let path = fixtures().join(case["file"].as_str().unwrap());
        let spec = ProblemSpec {
            expression: case["expression"].as_str().unwrap().to_string(),
            shapes: Vec::new(),
            loads: vec![path.display().to_string()],
            wrt: Some(case["wrt"].as_str().unwrap().to_string()),
            seed: 0,
            max_memory: None,
        };
        let problem = Problem::build(spec).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut npz = NpzReader::new(File::open(&path).unwrap()).unwrap();
        let expected: ArrayD<f64> = npz.by_name("J.npy").unwrap();
        assert_eq!(
            problem.jacobian.shape(),
            expected.shape(),
            "{name}: shape out.shape + in.shape"
        );
        for (index, &want) in expected.indexed_iter() {
            let got = problem.jacobian.entry(index.slice());
            let tolerance = 1e-10 * want.abs().max(1.0);
            assert!(
                (got - want).abs() <= tolerance,
                "{name}: J{:?} = {got}, JAX says {want}",
                index.slice()
            );
        }
    }
}
