//! `jacscope eval`: the forward value of the expression as an f64 .npy. (Named `forward`
//! here so as not to be read as the `eval` module, which computes the value.)

use std::io::Write;
use std::path::Path;

use ndarray_npy::WriteNpyExt;
use serde_json::json;

use super::{emit, emit_json, npy_error, printed, write_file};
use crate::calculus::Notation;
use crate::error::Error;
use crate::eval;
use crate::expr::Shape;
use crate::output_file::shown;
use crate::problem::Problem;
use crate::progress::Progress;

/// Writes the value of `problem`'s expression at its inputs to `path` (replacing an
/// existing file only with `force`), then says so on `out` in `notation`.
pub fn run(
    problem: &Problem,
    path: &Path,
    force: bool,
    json: bool,
    notation: Notation,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let graph = problem.graph();
    // A large problem evaluates only what its Jacobian needs, which may not be the root.
    let value = match problem.values.shared(graph.root) {
        Some(value) => value.clone(),
        None => {
            let values =
                eval::evaluate_nodes(graph, &problem.inputs, &[graph.root], &Progress::new())?
                    .expect("nobody can cancel this progress");
            values
                .shared(graph.root)
                .expect("the root was asked for")
                .clone()
        }
    };
    write_file(path, force, |sink| value.write_npy(sink).map_err(npy_error))?;
    let shape = Shape(value.shape().to_vec());
    if json {
        return emit_json(
            out,
            &json!({"path": path.to_string_lossy(), "shape": shape.dims(), "expression": problem.spec.expression}),
        );
    }
    let text = format!(
        "wrote {} ({shape} f64, the value of {})",
        shown(path),
        crate::expr::diagnostic::escape(&problem.spec.expression)
    );
    emit(out, &printed(&text, notation))
}
