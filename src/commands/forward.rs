//! `jacscope eval`: the forward value of the expression as an f64 .npy. (Named `forward`
//! here so as not to be read as the `eval` module, which computes the value.)

use std::io::Write;
use std::path::Path;

use ndarray_npy::WriteNpyExt;
use serde_json::json;

use super::{emit, emit_json, npy_error, printed, write_file};
use crate::calculus::Notation;
use crate::error::Error;
use crate::expr::Shape;
use crate::output_file::shown;
use crate::problem::Forward;

/// Writes the value of the expression at its inputs (`forward`) to `path` (replacing an
/// existing file only with `force`), then says so on `out` in `notation`.
pub fn run(
    forward: &Forward,
    path: &Path,
    force: bool,
    json: bool,
    notation: Notation,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let value = forward.value();
    write_file(path, force, |sink| value.write_npy(sink).map_err(npy_error))?;
    let shape = Shape(value.shape().to_vec());
    if json {
        return emit_json(
            out,
            &json!({"path": path.to_string_lossy(), "shape": shape.dims(), "expression": forward.spec.expression}),
        );
    }
    let text = format!(
        "wrote {} ({shape} f64, the value of {})",
        shown(path),
        crate::expr::diagnostic::escape(&forward.spec.expression)
    );
    emit(out, &printed(&text, notation))
}
