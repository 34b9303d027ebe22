//! `jacscope at`: one entry of J, its finite-difference check, and why it is zero.

use std::io::Write;

use serde_json::json;

use super::{emit, emit_json, parse_index};
use crate::calculus::render::Notation;
use crate::check;
use crate::error::Error;
use crate::layout::{JacobianDims, Layout, shape_tuple};
use crate::numfmt;
use crate::problem::Problem;

/// Prints entry `index_text` of `problem`'s Jacobian, and where it lands in `layout`.
pub fn run(
    problem: &Problem,
    index_text: &str,
    layout: Option<Layout>,
    json: bool,
    ascii: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let jacobian = &problem.jacobian;
    let index = parse_index(index_text)?;
    jacobian.check_index(&index)?;
    let value = jacobian.entry(&index);
    let fd = check::finite_difference(
        jacobian.graph(),
        &problem.inputs,
        problem.wrt_name(),
        &index,
    )?;
    let fd_error = (value - fd.value).abs();
    let notation = if ascii {
        Notation::Ascii
    } else {
        Notation::Unicode
    };
    let zero_reason = jacobian.why_zero_in(&index, notation);
    let dims = JacobianDims::of(jacobian);
    let placed = layout.map(|l| (l, l.position(&dims, &index), l.shape(&dims)));
    if json {
        let mut value = json!({
            "index": index,
            "value": value,
            "fd_value": fd.value,
            "fd_abs_error": fd_error,
            "zero_reason": zero_reason.as_ref().map(|lines| lines.join("; ")),
        });
        if let Some((layout, position, shape)) = &placed {
            value["layout"] = json!({"name": layout.name(), "position": position, "shape": shape});
        }
        return emit_json(out, &value);
    }
    emit(
        out,
        &format!(
            "{} = {}",
            entry_name(problem, &index, notation),
            numfmt::significant(value, 10)
        ),
    )?;
    for term in jacobian.breakdown(&index, notation) {
        emit(out, &format!("  {}", term.line()))?;
    }
    let verdict = if !value.is_finite() || !fd.value.is_finite() {
        "NOT FINITE — the expression produces NaN or an infinity at or next to this point"
    } else if check::agrees(value, &fd) {
        "agrees"
    } else {
        "DISAGREES — the function may not be differentiable here (a kink) or the difference is too noisy"
    };
    emit(
        out,
        &format!(
            "finite difference: {} (step {}, abs error {}) — {verdict}",
            numfmt::significant(fd.value, 10),
            numfmt::short(fd.step),
            numfmt::short(fd_error)
        ),
    )?;
    if let Some(lines) = zero_reason {
        emit(out, "zero because:")?;
        for line in lines {
            emit(out, &format!("  {line}"))?;
        }
    }
    if let Some((layout, position, shape)) = placed {
        emit(
            out,
            &format!(
                "in layout {layout} (shape {}) this entry is at {}",
                shape_tuple(&shape),
                shape_tuple(&position)
            ),
        )?;
    }
    Ok(())
}

/// `∂Y[0,3]/∂X[0,7]` (ASCII `dY[0,3]/dX[0,7]`) for an index of J.
fn entry_name(problem: &Problem, index: &[usize], notation: Notation) -> String {
    let out_rank = problem.jacobian.formula().out.len();
    let bracket = |part: &[usize]| {
        if part.is_empty() {
            String::new()
        } else {
            let items: Vec<String> = part.iter().map(|i| i.to_string()).collect();
            format!("[{}]", items.join(","))
        }
    };
    let d = if notation == Notation::Ascii {
        "d"
    } else {
        "∂"
    };
    format!(
        "{d}Y{}/{d}{}{}",
        bracket(&index[..out_rank]),
        problem.wrt_name(),
        bracket(&index[out_rank..])
    )
}
