//! `jacscope explain`: the formula, the derivation steps like a worked answer, and the
//! sparsity summary.

use std::io::Write;

use serde_json::json;

use super::{emit, emit_json, json_count};
use crate::calculus::render::{Notation, Symbols, definitions, lhs, node_name, render};
use crate::calculus::steps::derivation_steps;
use crate::emit::{Framework, python};
use crate::error::Error;
use crate::layout::matrix_form::{MatrixForms, matrix_forms};
use crate::numfmt;
use crate::problem::Problem;

/// Prints the explanation of `problem` as text or JSON.
pub fn run(
    problem: &Problem,
    json: bool,
    notation: Notation,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let jacobian = &problem.jacobian;
    let graph = jacobian.graph();
    let formula = jacobian.formula();
    let wrt = jacobian.wrt();
    let overview = problem.overview(notation);
    let steps = derivation_steps(graph, wrt, formula);
    let forms = matrix_forms(formula, graph, wrt);

    if json {
        let steps: Vec<_> = steps
            .iter()
            .map(|s| json!({"title": s.title, "unicode": s.unicode, "ascii": s.ascii, "latex": s.latex}))
            .collect();
        let value = json!({
            "expression": graph.source,
            "wrt": problem.wrt_name(),
            "shape": overview.shape,
            "axes": overview.axis_names,
            "entries": json_count(overview.entries),
            "structural_nonzeros": json_count(overview.structural),
            "where_nonzero": overview.support_sentence(),
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
            "matrix_form": forms.as_ref().map(|f| json!({
                "colmajor": f.colmajor.render(Notation::Unicode),
                "rowmajor": f.rowmajor.render(Notation::Unicode),
                "notes": f.notes(Notation::Unicode),
            })),
        });
        return emit_json(out, &value);
    }

    let inputs: Vec<String> = graph
        .variables()
        .iter()
        .map(|name| {
            let shape = &graph
                .node(graph.input(name).expect("variables are inputs"))
                .shape;
            match notation {
                Notation::Ascii => format!("{name} {}", shape.to_ascii()),
                _ => format!("{name} {shape}"),
            }
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
            "J = {d}Y/{d}{} has shape {} (out.shape + in.shape): {} entries",
            problem.wrt_name(),
            overview.shape_text(),
            overview.entries_text(),
            d = Symbols::of(notation).partial,
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
    emit(
        out,
        &format!(
            "Structural nonzeros: {} of {} ({})",
            numfmt::grouped(overview.structural),
            overview.entries_text(),
            numfmt::percent(overview.density())
        ),
    )?;
    emit(out, &format!("Where: {}", overview.support_sentence()))?;
    emit(out, &matrix_form_line(problem, forms.as_ref(), notation))?;
    for note in forms.iter().flat_map(|f| f.notes(notation)) {
        emit(out, &format!("  where {note}"))?;
    }
    emit(
        out,
        &format!("ASCII: {}", render(formula, graph, Notation::Ascii)),
    )?;
    emit(
        out,
        &format!("LaTeX: {}", render(formula, graph, Notation::Latex)),
    )
}

/// `Matrix form ∂vec(Y)/∂vec(X)ᵀ: W ⊗ I₆₄ (column-major vec), I₆₄ ⊗ W (row-major vec_r)`,
/// or that there is none.
fn matrix_form_line(problem: &Problem, forms: Option<&MatrixForms>, notation: Notation) -> String {
    let jacobian = &problem.jacobian;
    let (formula, graph) = (jacobian.formula(), jacobian.graph());
    let y = node_name(formula, graph, graph.root, notation);
    let x = node_name(formula, graph, jacobian.wrt(), notation);
    let symbols = Symbols::of(notation);
    let (d, t) = (symbols.partial, symbols.transpose);
    let head = format!("Matrix form {d}vec({y})/{d}vec({x}){t}");
    match forms {
        Some(f) => format!(
            "{head}: {} (column-major vec), {} (row-major vec_r)",
            f.colmajor.render(notation),
            f.rowmajor.render(notation)
        ),
        None => format!("{head}: no Kronecker form"),
    }
}

/// Prints the formula of `problem` as a Python snippet for `framework` (`--emit`), or with
/// `json` one document holding it.
pub fn run_emit(
    problem: &Problem,
    framework: Framework,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let jacobian = &problem.jacobian;
    let code = python(
        jacobian.formula(),
        jacobian.graph(),
        jacobian.wrt(),
        framework,
    )
    .map_err(|e| Error::Usage(e.to_string()))?;
    if json {
        return emit_json(out, &json!({"framework": framework.name(), "code": code}));
    }
    emit(out, code.trim_end())
}
