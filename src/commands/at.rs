//! `jacscope at`: one entry of J, its finite-difference check, and why it is zero.

use std::io::Write;

use serde_json::json;

use super::{emit, emit_json};
use crate::axis_index::Axes;
use crate::calculus::render::{Notation, Symbols};
use crate::check::{self, Verdict};
use crate::error::Error;
use crate::layout::{JacobianDims, Layout, shape_tuple};
use crate::numfmt;
use crate::problem::Problem;

/// Prints entry `index_text` of `problem`'s Jacobian, its finite-difference check (or why
/// the check could not be made), and where it lands in `layout`.
///
/// With `json`, the check is `fd_value`, `fd_abs_error` (`|value − fd_value|`) and
/// `fd_error_estimate` (the estimated error of `fd_value`; all three `null` when it could
/// not be made), `fd_verdict` (`agrees`, `disagrees`, `not finite` or `not made`) and
/// `fd_reason` (why it disagrees, is not finite or was not made; `null` when it agrees).
pub fn run(
    problem: &Problem,
    index_text: &str,
    layout: Option<Layout>,
    json: bool,
    notation: Notation,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let jacobian = &problem.jacobian;
    let (names, dims) = (jacobian.axis_names(), jacobian.shape());
    let index = Axes::new(&names, &dims)
        .index(index_text)
        .map_err(|error| Error::Index {
            flag: "--index",
            error,
        })?;
    let value = jacobian.entry(&index);
    let fd = check::finite_difference(
        jacobian.graph(),
        &problem.inputs,
        problem.wrt_name(),
        &index,
    );
    let verdict = Verdict::of(value, fd.as_ref());
    let zero_reason = jacobian.why_zero_in(&index, notation);
    let dims = JacobianDims::of(jacobian);
    let placed = layout.map(|l| (l, l.position(&dims, &index), l.shape(&dims)));
    if json {
        let fd = fd.as_ref().ok();
        let mut value = json!({
            "index": index,
            "value": value,
            "fd_value": fd.map(|fd| fd.value),
            "fd_abs_error": fd.map(|fd| (value - fd.value).abs()),
            "fd_error_estimate": fd.map(|fd| fd.error_estimate()),
            "fd_verdict": verdict.name(),
            "fd_reason": verdict.reason(),
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
            problem.jacobian.entry_name(&index, notation),
            numfmt::significant(value, 10)
        ),
    )?;
    for term in jacobian.breakdown(&index, notation) {
        emit(out, &format!("  {}", term.line()))?;
    }
    let dash = Symbols::of(notation).em_dash;
    let headline = match &verdict {
        Verdict::Agrees => "agrees".to_string(),
        verdict => format!(
            "{} {dash} {}",
            verdict.name().to_uppercase(),
            verdict.reason().unwrap_or_default()
        ),
    };
    let check_line = match &fd {
        Ok(fd) => format!(
            "finite difference: {} (step {}, abs error {}, error estimate {}) {dash} {headline}",
            numfmt::significant(fd.value, 10),
            numfmt::short(fd.step),
            numfmt::short((value - fd.value).abs()),
            numfmt::short(fd.error_estimate())
        ),
        Err(_) => format!("finite difference: {headline}"),
    };
    emit(out, &check_line)?;
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
