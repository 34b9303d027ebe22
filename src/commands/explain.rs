//! `jacscope explain`: the formula, the derivation steps like a worked answer, and the
//! sparsity summary.

use std::io::Write;

use serde_json::json;

use super::{emit, emit_json, json_count};
use crate::calculus::render::{Notation, definitions, lhs, render};
use crate::calculus::steps::derivation_steps;
use crate::error::Error;
use crate::numfmt;
use crate::problem::Problem;
use crate::sparsity;

/// Prints the explanation of `problem` as text or JSON.
pub fn run(problem: &Problem, json: bool, ascii: bool, out: &mut dyn Write) -> Result<(), Error> {
    let jacobian = &problem.jacobian;
    let graph = jacobian.graph();
    let formula = jacobian.formula();
    let wrt = jacobian.wrt();
    let shape = jacobian.shape();
    let entries = entry_count(&shape);
    let structural = sparsity::structural_count(formula);
    let steps = derivation_steps(graph, wrt);

    if json {
        let steps: Vec<_> = steps
            .iter()
            .map(|s| json!({"title": s.title, "unicode": s.unicode, "ascii": s.ascii, "latex": s.latex}))
            .collect();
        let value = json!({
            "expression": graph.source,
            "wrt": problem.wrt_name(),
            "shape": shape,
            "axes": jacobian.axis_names(),
            "entries": json_count(entries),
            "structural_nonzeros": json_count(structural),
            "formula": {
                "unicode": render(formula, graph, Notation::Unicode),
                "ascii": render(formula, graph, Notation::Ascii),
                "latex": render(formula, graph, Notation::Latex),
            },
            "definitions": definitions(formula, graph)
                .into_iter()
                .map(|(name, text)| json!({"name": name, "expression": text}))
                .collect::<Vec<_>>(),
            "steps": steps,
        });
        return emit_json(out, &value);
    }

    let notation = if ascii {
        Notation::Ascii
    } else {
        Notation::Unicode
    };
    let inputs: Vec<String> = graph
        .variables()
        .iter()
        .map(|name| {
            let id = graph.input(name).expect("variables are inputs");
            format!("{name} {}", graph.node(id).shape)
        })
        .collect();
    emit(
        out,
        &format!(
            "Y = {}   with {}; differentiating with respect to {}",
            graph.source,
            inputs.join(", "),
            problem.wrt_name()
        ),
    )?;
    emit(
        out,
        &format!(
            "J = ∂Y/∂{} has shape {} (out.shape + in.shape): {} entries",
            problem.wrt_name(),
            shape_tuple(&shape),
            numfmt::grouped(entries)
        ),
    )?;
    emit(out, "")?;
    for (number, step) in steps.iter().enumerate() {
        let body = match notation {
            Notation::Ascii => &step.ascii,
            _ => &step.unicode,
        };
        emit(out, &format!("{}. {}", number + 1, step.title))?;
        for line in body.lines() {
            emit(out, &format!("     {line}"))?;
        }
    }
    emit(out, "")?;
    emit(
        out,
        &format!(
            "{} = {}",
            lhs(formula, graph, wrt, notation),
            render(formula, graph, notation)
        ),
    )?;
    for (name, text) in definitions(formula, graph) {
        emit(out, &format!("  where {name} = {text}"))?;
    }
    let density = if entries == 0 {
        0.0
    } else {
        structural as f64 / entries as f64
    };
    emit(
        out,
        &format!(
            "Structural nonzeros: {} of {} ({})",
            numfmt::grouped(structural),
            numfmt::grouped(entries),
            numfmt::percent(density)
        ),
    )?;
    emit(
        out,
        &format!("ASCII: {}", render(formula, graph, Notation::Ascii)),
    )?;
    emit(
        out,
        &format!("LaTeX: {}", render(formula, graph, Notation::Latex)),
    )
}

/// The number of entries of a tensor of this shape (exact; may exceed 2^64).
pub fn entry_count(shape: &[usize]) -> u128 {
    shape
        .iter()
        .try_fold(1u128, |acc, &d| acc.checked_mul(d as u128))
        .unwrap_or(u128::MAX)
}

/// `(64, 512, 64, 1024)`, as Python prints a shape.
pub fn shape_tuple(shape: &[usize]) -> String {
    match shape {
        [] => "()".to_string(),
        [single] => format!("({single},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
