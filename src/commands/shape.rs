//! `jacscope shape`: J's shape in every layout, and the verdict on a claimed shape.

use std::io::Write;

use serde_json::json;

use super::{emit, emit_json, printed};
use crate::calculus::Notation;
use crate::calculus::render::node_name;
use crate::error::Error;
use crate::layout::{self, ClaimCheck, Layout, ShapeContext, shape_tuple};
use crate::problem::Problem;

/// Prints the layouts of `problem`'s Jacobian and, with `claim`, which of them match it.
pub fn run(
    problem: &Problem,
    claim: Option<&[usize]>,
    json: bool,
    notation: Notation,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let context = ShapeContext::of(&problem.jacobian);
    let dims = context.dims();
    let check = claim.map(|c| layout::check_claim(c, &context));
    if json {
        let layouts: Vec<_> = Layout::ALL
            .iter()
            .map(|l| json!({"name": l.name(), "used_by": l.used_by(), "shape": l.shape(&dims)}))
            .collect();
        let claim = check.as_ref().map(claim_json);
        return emit_json(out, &json!({"layouts": layouts, "claim": claim}));
    }
    let text = |s: &str| printed(s, notation);
    let tensor = |name: &str, shape: &[usize]| match shape {
        [] => format!("{name} is a scalar"),
        _ => format!("{name} is {}", shape_tuple(shape)),
    };
    // At second order J differentiates ∂Y/∂A: written ∂(∂Y/∂A)/∂B.
    let differentiated = match context.y_name.contains('/') {
        true => format!("({})", context.y_name),
        false => context.y_name.clone(),
    };
    let graph = problem.graph();
    let root = node_name(
        problem.jacobian.formula(),
        graph,
        graph.root,
        Notation::Unicode,
    );
    emit(
        out,
        &text(&format!(
            "J = ∂{differentiated}/∂{x} for {root} = {}: {}, {}",
            graph.source,
            tensor(&context.y_name, &dims.out),
            tensor(&context.x_name, &dims.input),
            x = context.x_name,
        )),
    )?;
    let rows: Vec<[String; 3]> = Layout::ALL
        .iter()
        .map(|l| {
            [
                l.name().to_string(),
                shape_tuple(&l.shape(&dims)),
                text(l.used_by()),
            ]
        })
        .collect();
    let header = ["layout", "shape", "used by"].map(String::from);
    let width = |column: usize| {
        std::iter::once(&header)
            .chain(&rows)
            .map(|r| r[column].chars().count())
            .max()
            .unwrap_or(0)
    };
    let (w0, w1) = (width(0), width(1));
    for row in std::iter::once(&header).chain(&rows) {
        emit(
            out,
            format!("{:<w0$}  {:<w1$}  {}", row[0], row[1], row[2]).trim_end(),
        )?;
    }
    if let Some(check) = check {
        emit(out, "")?;
        for line in wrap(&text(&format!("Claim: {}", check.note)), 90) {
            emit(out, &line)?;
        }
    }
    Ok(())
}

/// The verdict on a claimed shape as JSON: `{"shape", "matches", "note"}`.
pub(super) fn claim_json(check: &ClaimCheck) -> serde_json::Value {
    json!({
        "shape": check.claimed,
        "matches": check.matches.iter().map(|l| l.name()).collect::<Vec<_>>(),
        "note": check.note,
    })
}

/// `text` broken into lines of at most `width` characters at spaces (a longer word gets a
/// line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}
