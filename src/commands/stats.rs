//! `jacscope stats`: size, structural and numeric nonzeros of J.

use std::io::Write;

use serde_json::json;

use super::explain::{entry_count, shape_tuple};
use super::{emit, emit_json, json_count};
use crate::error::Error;
use crate::numfmt;
use crate::problem::Problem;
use crate::sparsity;

/// Prints the statistics of `problem`'s Jacobian.
pub fn run(
    problem: &Problem,
    structural_only: bool,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let jacobian = &problem.jacobian;
    let shape = jacobian.shape();
    let entries = entry_count(&shape);
    let structural = sparsity::structural_count(jacobian.formula());
    let density = if entries == 0 {
        0.0
    } else {
        structural as f64 / entries as f64
    };
    let nonzeros = (!structural_only).then(|| {
        super::progress::with_progress(|progress| {
            crate::jacobian::numeric_nonzeros_with_progress(jacobian, progress)
        })
        .expect("the command line never cancels")
    });
    let dense_bytes = entries.saturating_mul(4);
    if json {
        let value = json!({
            "shape": shape,
            "entries": json_count(entries),
            "structural_nonzeros": json_count(structural),
            "structural_density": density,
            "nonzeros": nonzeros.map(|n| json_count(n as u128)),
            "dense_bytes_f32": json_count(dense_bytes),
        });
        return emit_json(out, &value);
    }
    emit(
        out,
        &format!("shape                {}", shape_tuple(&shape)),
    )?;
    emit(
        out,
        &format!("entries              {}", numfmt::grouped(entries)),
    )?;
    emit(
        out,
        &format!(
            "structural nonzeros  {} ({})",
            numfmt::grouped(structural),
            numfmt::percent(density)
        ),
    )?;
    match nonzeros {
        Some(n) => emit(
            out,
            &format!("numeric nonzeros     {}", numfmt::grouped(n as u128)),
        )?,
        None => emit(out, "numeric nonzeros     (skipped: --structural-only)")?,
    }
    emit(
        out,
        &format!(
            "dense f32 size       {} bytes ({} GiB)",
            numfmt::grouped(dense_bytes),
            numfmt::short(dense_bytes as f64 / (1u64 << 30) as f64)
        ),
    )
}
