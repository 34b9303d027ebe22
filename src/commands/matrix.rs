//! `jacscope matrix`: J as one matrix in a vec layout (the explorer's matricized view), as
//! a spy plot, an SVG or a PNG picture, or (`--json`) its block counts. The blocks are
//! counted exactly from the deltas ([`HeatGrid::of_matrix`]); J's values are not evaluated.

use std::io::Write;

use serde_json::json;

use super::picture::{Drawing, PictureRequest};
use super::{emit_json, parse_layout};
use crate::calculus::render::{Notation, Symbols};
use crate::cli::{HeatMode, MatrixFormat};
use crate::error::Error;
use crate::layout::{Layout, ShapeContext, VecOrder};
use crate::picture::figure::Labels;
use crate::picture::grid::{HeatGrid, Viewport, matrix_size};
use crate::problem::Problem;

/// What `matrix` was asked to do.
pub struct MatrixRequest<'a> {
    /// `--layout`.
    pub layout: &'a str,
    /// `--format`, `-o`, `--force`, `--mode`, `--width`, `--height`.
    pub picture: PictureRequest<'a>,
    /// `--json`: the block counts as one document instead of the spy plot.
    pub json: bool,
    /// The notation of the text printed (`--ascii`).
    pub notation: Notation,
}

/// The drawing of `--format`.
pub fn drawing(format: MatrixFormat) -> Drawing {
    match format {
        MatrixFormat::Text => Drawing::Text,
        MatrixFormat::Svg => Drawing::Svg,
        MatrixFormat::Png => Drawing::Png,
    }
}

impl MatrixRequest<'_> {
    /// Refuses what cannot be drawn, before any work is done; returns the layout and its
    /// vec order and orientation ([`Layout::matrix`]).
    pub fn check(&self) -> Result<(Layout, (VecOrder, bool)), Error> {
        let layout = parse_layout(self.layout)?;
        let Some(matrix) = layout.matrix() else {
            return Err(Error::Usage(format!(
                "--layout {} is not a matrix; J as one matrix is numerator-colmajor, numerator-rowmajor, denominator-colmajor or denominator-rowmajor",
                layout.name()
            )));
        };
        if let Some(mode @ (HeatMode::Abs | HeatMode::Signed)) = self.picture.mode {
            let name = if mode == HeatMode::Abs {
                "abs"
            } else {
                "signed"
            };
            return Err(Error::Usage(format!(
                "--mode {name}: J as one matrix is drawn from its structure alone (its values are not evaluated); use --mode sparsity, or `slice --mode {name}` for values"
            )));
        }
        self.picture.check()?;
        Ok((layout, matrix))
    }
}

/// Prints or writes J of `problem` as one matrix.
pub fn run(problem: &Problem, request: &MatrixRequest, out: &mut dyn Write) -> Result<(), Error> {
    let (layout, (order, numerator)) = request.check()?;
    let jacobian = &problem.jacobian;
    let context = ShapeContext::of(jacobian);
    let dims = context.dims();
    let (out_len, in_len) = matrix_size(&dims).map_err(|e| Error::Usage(e.to_string()))?;
    let names = jacobian.axis_names();
    let title = &problem.spec.expression;
    let labels = Labels::matrix(title, &names, layout, &context.y_name, &context.x_name);
    let (rows, cols) = if numerator {
        (out_len, in_len)
    } else {
        (in_len, out_len)
    };
    let (width, height) = request.picture.size();
    let viewport = Viewport::fit(rows, cols, width, height);
    let grid = HeatGrid::of_matrix(
        jacobian.support(),
        dims.out.len(),
        (order, numerator),
        viewport,
    );
    if request.json {
        let counts: Vec<Vec<usize>> = (0..viewport.height)
            .map(|y| {
                (0..viewport.width)
                    .map_while(|x| grid.block(y, x).map(|b| b.structural))
                    .collect()
            })
            .filter(|row: &Vec<usize>| !row.is_empty())
            .collect();
        emit_json(
            out,
            &json!({
                "layout": layout.name(),
                "shape": [rows, cols],
                "rows": labels.rows,
                "columns": labels.cols,
                "block": [viewport.block.0, viewport.block.1],
                "structural": counts,
            }),
        )?;
    }
    let figure = request.picture.figure(&grid, labels, request.notation);
    match (request.json, request.picture.output_file) {
        (true, None) => Ok(()),
        _ => request
            .picture
            .deliver(&figure, Symbols::of(request.notation).by, out),
    }
}
