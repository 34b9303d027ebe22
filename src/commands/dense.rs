//! `jacscope dense`: the whole J as an f64 .npy (small shapes only).

use std::io::Write;
use std::path::Path;

use ndarray::{ArrayD, Dimension, IxDyn};
use ndarray_npy::WriteNpyExt;
use serde_json::json;

use super::{emit, emit_json, npy_error, write_file};
use crate::calculus::Notation;
use crate::error::Error;
use crate::numfmt;
use crate::output_file::shown;
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
    write_file(path, force, |sink| dense.write_npy(sink).map_err(npy_error))?;
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
