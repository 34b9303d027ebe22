//! `jacscope dense`: the whole J as an f64 .npy (small shapes only).

use std::io::Write;
use std::path::Path;

use ndarray::{ArrayD, Dimension, IxDyn};
use ndarray_npy::WriteNpyExt;
use serde_json::json;

use super::{emit, emit_json, npy_error};
use crate::calculus::Notation;
use crate::error::Error;
use crate::numfmt;
use crate::output_file::{OutputFile, shown};
use crate::problem::Problem;

/// Writes the dense Jacobian of `problem` to `path` (replacing an existing file only with
/// `force`), then says so on `out`.
pub fn run(
    problem: &Problem,
    path: &Path,
    force: bool,
    max_entries: u64,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let jacobian = &problem.jacobian;
    let overview = problem.overview(Notation::Ascii);
    let (shape, entries) = (&overview.shape, overview.entries);
    if entries > max_entries as u128 {
        return Err(Error::Usage(format!(
            "J has {} entries, more than the bound of {} for dense output; raise it with --max-entries if you really want this",
            numfmt::grouped(entries),
            numfmt::grouped(max_entries as u128)
        )));
    }
    super::check_allocation(problem, "the dense Jacobian", entries, 8)?;
    let dense = ArrayD::from_shape_fn(IxDyn(shape), |index| jacobian.entry(index.slice()));
    let mut file = OutputFile::create(path, force)?;
    let written = dense.write_npy(file.writer()).map_err(npy_error);
    written.map_err(|e| file.error(e))?;
    file.commit()?;
    if json {
        return emit_json(
            out,
            &json!({"path": path.to_string_lossy(), "shape": shape, "entries": entries as u64}),
        );
    }
    emit(
        out,
        &format!(
            "wrote {} ({} f64, out.shape + in.shape)",
            shown(path),
            overview.shape_text()
        ),
    )
}
