//! `jacscope dense`: the whole J as an f64 .npy (small shapes only).

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use ndarray::{ArrayD, Dimension, IxDyn};
use ndarray_npy::WriteNpyExt;
use serde_json::json;

use super::{create_file, emit, emit_json};
use crate::calculus::Notation;
use crate::error::Error;
use crate::numfmt;
use crate::problem::Problem;

/// Writes the dense Jacobian of `problem` to `path` (already checked by the caller).
pub fn run(
    problem: &Problem,
    path: &Path,
    max_entries: u64,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let jacobian = &problem.jacobian;
    let overview = problem.overview(Notation::Ascii);
    let (shape, entries) = (&overview.shape, overview.entries);
    if entries > max_entries as u128 {
        return Err(Error::Usage(format!(
            "J has {} entries, more than the bound of {} for dense output; raise it with --max-entries if you really want this",
            numfmt::grouped(entries),
            numfmt::grouped(max_entries as u128)
        ))
        .into());
    }
    super::check_allocation(problem, "the dense Jacobian", entries, 8)?;
    let dense = ArrayD::from_shape_fn(IxDyn(shape), |index| jacobian.entry(index.slice()));
    let file = create_file(path)?;
    dense
        .write_npy(std::io::BufWriter::new(file))
        .with_context(|| format!("writing {}", path.display()))?;
    if json {
        return Ok(emit_json(
            out,
            &json!({"path": path.display().to_string(), "shape": shape, "entries": entries as u64}),
        )?);
    }
    emit(
        out,
        &format!(
            "wrote {} ({} f64, out.shape + in.shape)",
            path.display(),
            overview.shape_text()
        ),
    )?;
    Ok(())
}
