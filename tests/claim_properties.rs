//! Properties of `check` on random expressions: J's own printed formula (ASCII and
//! Unicode) holds as a claim; J's formula with one term dropped, or with one tensor
//! factor's two slots swapped, holds exactly when a dense comparison of every entry, in
//! both draws, finds it equal to J (so it fails whenever the change changes a value).

use std::cell::Cell;

use jacscope::calculus::render::{self, Notation};
use jacscope::calculus::{Factor, Formula, Slot};
use jacscope::claim::compare::{self, Draw};
use jacscope::claim::parse::parse_claim;
use jacscope::claim::{Claim, IndexClaim};
use jacscope::eval;
use jacscope::jacobian::Jacobian;
use jacscope::problem::{Problem, ProblemSpec};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// The variables' shapes: square, so that transposes and swapped slots typecheck.
const SHAPES: [&str; 3] = ["X=3x3", "W=3x3", "b=3"];

/// A small expression of the language over X, W and b.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![3 => Just("X".to_string()), 1 => Just("W".to_string()), 1 => Just("b".to_string())];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (
                inner.clone(),
                select(&["+", "-", "*", "@"][..]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            inner.clone().prop_map(|a| format!("({a}).T")),
            (
                select(&["exp", "tanh", "sigmoid", "relu", "square", "sin"][..]),
                inner.clone()
            )
                .prop_map(|(f, a)| format!("{f}({a})")),
            (
                select(&["softmax", "sum", "mean", "logsumexp"][..]),
                inner.clone(),
                select(&["0", "1"][..])
            )
                .prop_map(|(f, a, axis)| format!("{f}({a}, axis={axis})")),
        ]
    })
}

/// The problem `source` differentiated with respect to X, at `seed`.
fn problem(source: &str, seed: u64) -> Option<Problem> {
    Problem::build(ProblemSpec {
        expression: source.to_string(),
        shapes: SHAPES.iter().map(|s| s.to_string()).collect(),
        loads: Vec::new(),
        wrt: Some("X".to_string()),
        seed,
        max_memory: None,
    })
    .ok()
}

/// Every index of a tensor of shape `dims`, in row-major order.
fn every_index(dims: &[usize]) -> Vec<Vec<usize>> {
    let count: usize = dims.iter().product();
    (0..count)
        .map(|mut flat| {
            let mut index = vec![0; dims.len()];
            for (axis, &dim) in dims.iter().enumerate().rev() {
                index[axis] = flat % dim;
                flat /= dim;
            }
            index
        })
        .collect()
}

/// The claim `text` parsed against the first problem's J.
fn index_claim(text: &str, truth: &Jacobian) -> Result<IndexClaim, TestCaseError> {
    match parse_claim(text, truth, None) {
        Ok(Claim::Index(claim)) => Ok(claim),
        Ok(Claim::Shape(_)) => Err(TestCaseError::fail(format!("{text}: read as a shape"))),
        Err(e) => Err(TestCaseError::fail(e.render(text))),
    }
}

/// `check`'s verdict on `text` about the problems' J (both draws), and the verdict of a
/// dense comparison of every entry.
fn verdicts(problems: &[Problem; 2], text: &str) -> Result<(bool, bool), TestCaseError> {
    let truth = &problems[0].jacobian;
    let claim = index_claim(text, truth)?;
    let mut draws = Vec::new();
    let mut dense = true;
    for problem in problems {
        draws.push(Draw::new(truth, &claim, &problem.inputs).unwrap());
        let values = eval::evaluate(&claim.graph, &problem.inputs).unwrap();
        let bound = Jacobian::new(
            claim.graph.clone(),
            truth.wrt(),
            claim.formula.clone(),
            &values,
        )
        .unwrap();
        dense &= every_index(&truth.shape())
            .iter()
            .all(|index| compare::agrees(bound.entry(index), problem.jacobian.entry(index)));
    }
    let found = compare::compare(truth, &claim, &draws, Notation::Unicode).unwrap();
    Ok((found.holds, dense))
}

/// J's formula changed one way: each term dropped in turn (when there are two or more),
/// then each tensor factor with two slots of equal range swapped.
fn changes(formula: &Formula) -> Vec<Formula> {
    let mut out = Vec::new();
    if formula.terms.len() >= 2 {
        for t in 0..formula.terms.len() {
            let mut changed = formula.clone();
            changed.terms.remove(t);
            out.push(changed);
        }
    }
    for (t, term) in formula.terms.iter().enumerate() {
        for (f, factor) in term.factors.iter().enumerate() {
            let Factor::Tensor { slots, .. } = factor else {
                continue;
            };
            for a in 0..slots.len() {
                for b in a + 1..slots.len() {
                    let (Slot::Index(x), Slot::Index(y)) = (slots[a], slots[b]) else {
                        continue;
                    };
                    if x == y || formula.indices[x].dim != formula.indices[y].dim {
                        continue;
                    }
                    let mut changed = formula.clone();
                    if let Factor::Tensor { slots, .. } = &mut changed.terms[t].factors[f] {
                        slots.swap(a, b);
                    }
                    out.push(changed);
                }
            }
        }
    }
    out
}

/// The properties for one expression; false if it is not a problem (no X, a type error).
fn check_expression(source: &str, pick: usize) -> Result<bool, TestCaseError> {
    let (Some(first), Some(second)) = (problem(source, 0), problem(source, 17)) else {
        return Ok(false);
    };
    let problems = [first, second];
    let truth = &problems[0].jacobian;
    let has_nan = |p: &Problem| {
        every_index(&p.jacobian.shape())
            .iter()
            .any(|index| p.jacobian.entry(index).is_nan())
    };
    if problems.iter().any(has_nan) {
        return Ok(false);
    }
    let graph = problems[0].graph();
    for notation in [Notation::Ascii, Notation::Unicode] {
        let text = render::render(truth.formula(), graph, notation);
        let (holds, _) = verdicts(&problems, &text)?;
        prop_assert!(holds, "{source}: J's own formula {text} does not hold");
    }
    let changes = changes(truth.formula());
    if let Some(changed) = changes.get(pick % changes.len().max(1)) {
        let text = render::render(changed, graph, Notation::Ascii);
        let (holds, dense) = verdicts(&problems, &text)?;
        prop_assert_eq!(holds, dense, "{}: changed to {}", source, text);
    }
    Ok(true)
}

#[test]
fn js_formula_holds_and_a_changed_one_holds_only_if_it_is_equal() {
    let config = Config {
        cases: 40,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let checked = Cell::new(0);
    runner
        .run(&(expression(), any::<usize>()), |(source, pick)| {
            if check_expression(&source, pick)? {
                checked.set(checked.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    assert!(
        checked.get() >= 10,
        "only {} of 40 were problems",
        checked.get()
    );
}
