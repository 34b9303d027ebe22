//! `jacscope stats`: size, structural and numeric nonzeros of J.

use std::io::Write;

use serde_json::json;

use super::{emit, emit_json, json_count};
use crate::calculus::Notation;
use crate::error::Error;
use crate::numfmt;
use crate::problem::Problem;

/// Prints the statistics of `problem`'s Jacobian.
pub fn run(
    problem: &Problem,
    structural_only: bool,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let jacobian = &problem.jacobian;
    let overview = problem.overview(Notation::Ascii);
    let count = (!structural_only).then(|| {
        super::progress::with_progress(|progress| {
            crate::jacobian::count_nonzeros(jacobian, progress)
        })
        .expect("the command line never cancels")
    });
    let dense_bytes = overview.entries.saturating_mul(4);
    if json {
        let value = json!({
            "shape": overview.shape,
            "entries": json_count(overview.entries),
            "structural_nonzeros": json_count(overview.structural),
            "structural_density": overview.density(),
            "nonzeros": count.map(|c| json_count(c.nonzeros as u128)),
            "nonzeros_method": count.map(|c| c.method.name()),
            "dense_bytes_f32": json_count(dense_bytes),
        });
        return emit_json(out, &value);
    }
    emit(
        out,
        &format!("shape                {}", overview.shape_text()),
    )?;
    emit(
        out,
        &format!("entries              {}", overview.entries_text()),
    )?;
    emit(
        out,
        &format!("structural nonzeros  {}", overview.structural_text()),
    )?;
    match count {
        Some(c) => emit(
            out,
            &format!(
                "numeric nonzeros     {} ({})",
                numfmt::grouped(c.nonzeros as u128),
                c.method.describe()
            ),
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
