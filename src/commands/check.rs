//! `jacscope check`: whether a claimed shape, index formula or matrix expression is J, and
//! where and why not.
//!
//! A shape claim is reported as `shape --claim` reports it. A matrix claim is read as an
//! index claim: in J's own layout for a J of rank ≤ 2, else as J in the layout `--layout`
//! names ([`crate::claim::ClaimKind`]); its kind is reported, and it is compared as one. An index claim is compared with
//! J by [`crate::claim::compare`] for the problem's inputs and an independent second draw
//! of the inputs that were not loaded; this file builds that draw and lays the verdict
//! out. A claim that does not hold ends the run with [`Error::ClaimFails`] (exit code 3).

use std::io::Write;

use serde_json::{Value, json};

use super::{emit, emit_json, json_count, printed, shape};
use crate::calculus::Notation;
use crate::claim::compare::{self, Comparison, Hint, number_text};
use crate::claim::parse::parse_claim;
use crate::claim::{Claim, IndexClaim};
use crate::error::Error;
use crate::expr::diagnostic::escape;
use crate::layout::{self, Layout, ShapeContext};
use crate::numfmt;
use crate::problem::Problem;

/// Checks the claim `text` about `problem`'s J (a matrix claim read as J in `layout`) and
/// prints the verdict.
pub fn run(
    problem: &Problem,
    text: &str,
    layout: Option<Layout>,
    json: bool,
    notation: Notation,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let claim = parse_claim(text, &problem.jacobian, layout).map_err(|error| Error::Claim {
        text: text.to_string(),
        error,
    })?;
    let holds = match claim {
        Claim::Shape(dims) => shape_claim(problem, text, &dims, json, notation, out)?,
        Claim::Index(claim) => index_claim(problem, &claim, json, notation, out)?,
    };
    if holds {
        Ok(())
    } else {
        Err(Error::ClaimFails)
    }
}

/// Reports a shape claim as `shape --claim` does; true if it is J's shape in some layout.
fn shape_claim(
    problem: &Problem,
    text: &str,
    dims: &[usize],
    json: bool,
    notation: Notation,
    out: &mut dyn Write,
) -> Result<bool, Error> {
    let check = layout::check_claim(dims, &ShapeContext::of(&problem.jacobian));
    let holds = !check.matches.is_empty();
    if json {
        let mut doc = json!({"claim": text, "kind": "shape", "holds": holds});
        if let (Value::Object(doc), Value::Object(verdict)) = (&mut doc, shape::claim_json(&check))
        {
            doc.extend(verdict);
        }
        emit_json(out, &doc)?;
    } else {
        shape::run(problem, Some(dims), false, notation, out)?;
    }
    Ok(holds)
}

/// Compares an index claim with J in both draws and reports it; true if it holds.
fn index_claim(
    problem: &Problem,
    claim: &IndexClaim,
    json: bool,
    notation: Notation,
    out: &mut dyn Write,
) -> Result<bool, Error> {
    let comparison = problem.compare_claim(claim, notation)?;
    if json {
        emit_json(out, &comparison_json(problem, claim, &comparison, notation))?;
    } else {
        report(problem, claim, &comparison, notation, out)?;
    }
    Ok(comparison.holds)
}

/// The verdict, the method and the tolerance, then the diagnosis, as text.
fn report(
    problem: &Problem,
    claim: &IndexClaim,
    comparison: &Comparison,
    notation: Notation,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let overview = problem.overview(notation);
    let text = |s: &str| printed(s, notation);
    emit(out, &text(&format!("claim:     {}", escape(&claim.text))))?;
    emit(
        out,
        &format!("J:         {} = {}", overview.lhs, overview.formula),
    )?;
    let verdict = if comparison.holds {
        "the claim holds"
    } else {
        "the claim does not hold"
    };
    emit(out, &format!("verdict:   {verdict}"))?;
    let draws = match comparison.draws {
        1 => "in the one draw of the inputs (all are loaded)".to_string(),
        n => format!("in {n} draws of the inputs (the given ones and an independent redraw)"),
    };
    emit(
        out,
        &format!(
            "checked:   {} entries, {}: {}, {draws}",
            numfmt::grouped(comparison.entries),
            comparison.method.name(),
            comparison.method.description()
        ),
    )?;
    emit(
        out,
        &text(&format!("tolerance: {}", compare::tolerance_text(notation))),
    )?;
    if comparison.holds {
        return Ok(());
    }
    emit(out, "")?;
    emit(
        out,
        &format!(
            "differing entries: {} of {} checked",
            numfmt::grouped(comparison.differing),
            numfmt::grouped(comparison.entries)
        ),
    )?;
    emit(
        out,
        &format!(
            "claim nonzero where J is structurally zero: {} entries",
            numfmt::grouped(comparison.claim_only)
        ),
    )?;
    emit(
        out,
        &format!(
            "J nonzero where the claim is structurally zero: {} entries",
            numfmt::grouped(comparison.true_only)
        ),
    )?;
    if let Some(first) = &comparison.first_difference {
        emit(
            out,
            &format!(
                "first difference: {} (draw {})",
                problem.jacobian.entry_name(&first.index, notation),
                first.draw + 1
            ),
        )?;
        for (who, value, terms) in [
            ("claim", first.claim_value, &first.claim_terms),
            ("true", first.true_value, &first.true_terms),
        ] {
            emit(out, &format!("  {who}: {}", number_text(value, notation)))?;
            for term in terms {
                emit(out, &format!("    {term}"))?;
            }
        }
    }
    let axes = problem.jacobian.axis_names();
    if comparison.hints.is_empty() {
        emit(out, "hints: none checks out")?;
    } else {
        emit(out, "hints:")?;
        for hint in &comparison.hints {
            emit(out, &format!("  - {}", hint.sentence(&axes, notation)))?;
        }
    }
    Ok(())
}

/// The verdict as one JSON document.
fn comparison_json(
    problem: &Problem,
    claim: &IndexClaim,
    comparison: &Comparison,
    notation: Notation,
) -> Value {
    let axes = problem.jacobian.axis_names();
    let first = comparison.first_difference.as_ref().map(|first| {
        json!({
            "index": first.index,
            "draw": first.draw + 1,
            "claim_value": first.claim_value,
            "true_value": first.true_value,
            "claim_terms": first.claim_terms,
            "true_terms": first.true_terms,
        })
    });
    let hints: Vec<Value> = comparison
        .hints
        .iter()
        .map(|hint| {
            let mut doc = hint_fields(hint);
            doc["kind"] = json!(hint.kind());
            doc["text"] = json!(hint.sentence(&axes, notation));
            doc
        })
        .collect();
    json!({
        "claim": claim.text,
        "kind": claim.kind.name(),
        "holds": comparison.holds,
        "checked": {
            "entries": json_count(comparison.entries),
            "method": comparison.method.name(),
            "draws": comparison.draws,
            "tolerance": printed(&compare::tolerance_text(notation), notation),
        },
        "differing_entries": json_count(comparison.differing),
        "claim_only_support": json_count(comparison.claim_only),
        "true_only_support": json_count(comparison.true_only),
        "first_difference": first,
        "hints": hints,
    })
}

/// The fields particular to each kind of hint.
fn hint_fields(hint: &Hint) -> Value {
    match hint {
        Hint::Scale { factor } => json!({"factor": factor}),
        Hint::Permutation {
            reads,
            layout,
            swapped,
        } => json!({
            "reads": reads,
            "layout": layout.map(|l| l.name()),
            "swapped": swapped.as_ref().map(|(a, b)| [a, b]),
        }),
        Hint::TransposedFactor { written, meant } => json!({"written": written, "meant": meant}),
        Hint::MissingTerms { terms } | Hint::ExtraTerms { terms } => json!({"terms": terms}),
        Hint::MissingDelta { delta, condition } => {
            json!({"delta": delta, "condition": condition})
        }
        Hint::MissingFactor { factor } => json!({"factor": factor}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claim::ClaimKind;
    use crate::problem::ProblemSpec;

    /// The report of `claim` (J's formula with its coefficient times `factor`) for
    /// `X @ W.T` with X 3×4 and W 2×4, in `notation`, as JSON or text.
    fn reported(factor: f64, json: bool, notation: Notation) -> (bool, String) {
        let problem = Problem::build(ProblemSpec {
            expression: "X @ W.T".to_string(),
            shapes: vec!["X=3x4".to_string(), "W=2x4".to_string()],
            loads: Vec::new(),
            wrt: None,
            seed: 0,
            max_memory: None,
        })
        .unwrap();
        let mut formula = problem.jacobian.formula().clone();
        formula.terms[0].coeff *= factor;
        let claim = IndexClaim {
            kind: ClaimKind::Index,
            text: "a claim".to_string(),
            graph: problem.graph().clone(),
            formula,
        };
        let mut out = Vec::new();
        let holds = index_claim(&problem, &claim, json, notation, &mut out).unwrap();
        (holds, String::from_utf8(out).unwrap())
    }

    #[test]
    fn an_index_claim_is_reported_with_verdict_method_tolerance_and_diagnosis() {
        let (holds, text) = reported(1.0, false, Notation::Unicode);
        assert!(holds);
        assert!(text.contains("verdict:   the claim holds"), "{text}");
        assert!(text.contains("checked:   24 entries, exact"), "{text}");
        assert!(text.contains("in 2 draws"), "{text}");
        assert!(!text.contains("hints"), "{text}");

        let (holds, text) = reported(-1.0, false, Notation::Ascii);
        assert!(!holds);
        assert!(text.is_ascii(), "{text}");
        for part in [
            "J:         dY[i,j]/dX[k,l] = delta(i,k)*W[j,l]",
            "verdict:   the claim does not hold",
            "tolerance: |claim - J| <= 1e-9*max(1, |claim|, |J|)",
            "differing entries: 24 of 24 checked",
            "first difference: dY[0,0]/dX[0,0] (draw 1)",
            "    -delta(0,0)*W[0,0] = ",
            "  - the claim is -1 * J: a constant factor",
        ] {
            assert!(text.contains(part), "{part} in:\n{text}");
        }
    }

    #[test]
    fn an_index_claim_as_json() {
        let (_, text) = reported(2.0, true, Notation::Unicode);
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["claim"], "a claim");
        assert_eq!(doc["kind"], "index");
        assert_eq!(doc["holds"], false);
        assert_eq!(doc["checked"]["entries"], 24);
        assert_eq!(doc["checked"]["method"], "exact");
        assert_eq!(doc["checked"]["draws"], 2);
        assert_eq!(doc["differing_entries"], 24);
        assert_eq!(doc["claim_only_support"], 0);
        assert_eq!(doc["true_only_support"], 0);
        let first = &doc["first_difference"];
        assert_eq!(first["index"], json!([0, 0, 0, 0]));
        assert_eq!(
            first["claim_value"].as_f64().unwrap(),
            2.0 * first["true_value"].as_f64().unwrap()
        );
        assert!(
            first["claim_terms"][0]
                .as_str()
                .unwrap()
                .starts_with("2·δ(0,0)·W[0,0]")
        );
        assert_eq!(doc["hints"][0]["kind"], "scale");
        assert_eq!(doc["hints"][0]["factor"], 2.0);
        assert_eq!(
            doc["hints"][0]["text"],
            "the claim is 2 × J: a constant factor"
        );
    }
}
