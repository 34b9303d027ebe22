//! `jacscope slice`: a 2-D slice of J as a spy plot, CSV, JSON or .npy.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use ndarray::Array2;
use ndarray_npy::WriteNpyExt;
use serde_json::json;

use super::{check_output_path, create_file, output_error};
use crate::axis_index::Axes;
use crate::calculus::render::{Notation, Symbols};
use crate::cli::SliceFormat;
use crate::error::Error;
use crate::jacobian::Jacobian;
use crate::problem::Problem;

/// What `slice` was asked to do.
pub struct SliceRequest<'a> {
    /// `--axes`, e.g. `k,l`.
    pub axes: &'a str,
    /// `--fix`, e.g. `i=0,j=3`.
    pub fix: &'a str,
    /// `--format`.
    pub format: SliceFormat,
    /// `-o`.
    pub output_file: Option<&'a Path>,
    /// `--force`.
    pub force: bool,
    /// Spy plot width in characters.
    pub width: usize,
    /// Spy plot height in lines.
    pub height: usize,
    /// `--json` (same as `--format json`).
    pub json: bool,
    /// The notation of the text printed (`--ascii`).
    pub notation: Notation,
}

/// Prints or writes the requested slice of `problem`'s Jacobian.
pub fn run(problem: &Problem, request: &SliceRequest, out: &mut dyn Write) -> anyhow::Result<()> {
    let jacobian = &problem.jacobian;
    let (names, shape) = (jacobian.axis_names(), jacobian.shape());
    let j_axes = Axes::new(&names, &shape);
    let axes = parse_axes(request.axes, &j_axes)?;
    let at = parse_fix(request.fix, &j_axes, axes)?;
    let format = if request.json {
        SliceFormat::Json
    } else {
        request.format
    };
    if let Some(path) = request.output_file {
        check_output_path(path, request.force)?;
    } else if format == SliceFormat::Npy {
        return Err(Error::Usage(
            "--format npy writes a binary file; give it a name with -o FILE.npy".to_string(),
        )
        .into());
    }
    // The values, their structural flags and a copy of the values.
    let entries = shape[axes.0] as u128 * shape[axes.1] as u128;
    let by = Symbols::of(request.notation).by;
    let what = format!("this {}{by}{} slice", shape[axes.0], shape[axes.1]);
    super::check_allocation(problem, &what, entries, 17)?;
    let slice = jacobian.slice(axes, &at);
    let values = Array2::from_shape_vec((slice.rows, slice.cols), slice.values.clone())
        .map_err(|e| Error::Internal(format!("slice has the wrong size: {e}")))?;
    let write = |sink: &mut dyn Write| -> io::Result<()> {
        match format {
            SliceFormat::Npy => values.write_npy(sink).map_err(io::Error::other),
            SliceFormat::Csv => {
                for row in values.rows() {
                    let items: Vec<String> = row.iter().map(|v| format!("{v:e}")).collect();
                    writeln!(sink, "{}", items.join(","))?;
                }
                Ok(())
            }
            SliceFormat::Json => {
                let document = json!({
                    "axes": [names[axes.0], names[axes.1]],
                    "fixed": fixed_description(&names, axes, &at),
                    "shape": [slice.rows, slice.cols],
                    "values": values.rows().into_iter().map(|r| r.to_vec()).collect::<Vec<_>>(),
                });
                serde_json::to_writer_pretty(&mut *sink, &document)?;
                writeln!(sink)
            }
            SliceFormat::Text => {
                let (width, height) = (request.width, request.height);
                let text = spy_plot(jacobian, &slice, axes, &at, width, height, by);
                writeln!(sink, "{text}")
            }
        }
    };
    match request.output_file {
        Some(path) => {
            // Flushed here: a BufWriter dropped unflushed would lose a failed write.
            let mut file = BufWriter::new(create_file(path)?);
            write(&mut file)
                .and_then(|()| file.flush())
                .with_context(|| format!("writing {}", path.display()))
        }
        None => Ok(write(out).map_err(output_error)?),
    }
}

/// Parses `--axes a,b` into two distinct axis positions of J.
fn parse_axes(text: &str, axes: &Axes) -> Result<(usize, usize), Error> {
    let names = axes.names();
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let known = names.join(",");
    if names.len() < 2 {
        return Err(Error::Usage(format!(
            "J has {} axes ({}), so it has no 2-D slices; use `at` instead",
            names.len(),
            if known.is_empty() { "none" } else { &known }
        )));
    }
    if parts.len() != 2 {
        return Err(Error::Usage(format!(
            "--axes expects two axis names such as {},{}; J's axes are {known}",
            names[0], names[1]
        )));
    }
    let find = |name: &str| {
        axes.axis(name).map_err(|error| Error::Index {
            flag: "--axes",
            error,
        })
    };
    let (a, b) = (find(parts[0])?, find(parts[1])?);
    if a == b {
        return Err(Error::Usage(format!(
            "--axes names axis '{}' twice; pick two different axes of {known}",
            parts[0]
        )));
    }
    Ok((a, b))
}

/// Parses `--fix i=0,j=3` into a full index of J: the named axes at their components,
/// the others at 0 (the slice's own axes cannot be named).
fn parse_fix(text: &str, axes: &Axes, slice_axes: (usize, usize)) -> Result<Vec<usize>, Error> {
    let names = axes.names();
    let assigned = axes.assignment(text).map_err(|error| Error::Index {
        flag: "--fix",
        error,
    })?;
    let mut at = vec![0; names.len()];
    for (axis, value) in assigned {
        if axis == slice_axes.0 || axis == slice_axes.1 {
            return Err(Error::Usage(format!(
                "--fix names '{}', which is one of the slice's axes",
                names[axis]
            )));
        }
        at[axis] = value;
    }
    Ok(at)
}

fn fixed_description(names: &[String], axes: (usize, usize), at: &[usize]) -> serde_json::Value {
    let mut fixed = serde_json::Map::new();
    for (axis, name) in names.iter().enumerate() {
        if axis != axes.0 && axis != axes.1 {
            fixed.insert(name.clone(), json!(at[axis]));
        }
    }
    serde_json::Value::Object(fixed)
}

/// A spy plot: the slice downsampled to at most `width`×`height` characters, `*` where any
/// entry of the block is nonzero, `.` elsewhere, with the axis ranges around it (a block's
/// size written with `by`, the sign between sizes).
fn spy_plot(
    jacobian: &Jacobian,
    slice: &crate::jacobian::Slice,
    axes: (usize, usize),
    at: &[usize],
    width: usize,
    height: usize,
    by: &str,
) -> String {
    let names = jacobian.axis_names();
    let width = width.clamp(1, slice.cols.max(1));
    let height = height.clamp(1, slice.rows.max(1));
    let mut lit = vec![false; width * height];
    for r in 0..slice.rows {
        let line = r * height / slice.rows;
        for c in 0..slice.cols {
            if slice.values[r * slice.cols + c] != 0.0 {
                lit[line * width + c * width / slice.cols] = true;
            }
        }
    }
    let fixed: Vec<String> = names
        .iter()
        .enumerate()
        .filter(|(axis, _)| *axis != axes.0 && *axis != axes.1)
        .map(|(axis, name)| format!("{name}={}", at[axis]))
        .collect();
    let (row_name, col_name) = (&names[axes.0], &names[axes.1]);
    let mut text = format!(
        "slice J[{}] with {}: rows {row_name} = 0..{}, columns {col_name} = 0..{}; each character is {}{by}{} entries\n",
        names.join(","),
        if fixed.is_empty() {
            "nothing fixed".to_string()
        } else {
            fixed.join(", ")
        },
        slice.rows,
        slice.cols,
        slice.rows.div_ceil(height),
        slice.cols.div_ceil(width),
    );
    let label_width = (slice.rows - 1).to_string().len().max(row_name.len() + 2);
    text.push_str(&format!(
        "{:>label_width$} {col_name}=0{}{}\n",
        "",
        " ".repeat(width.saturating_sub(2 + col_name.len() + slice.cols.to_string().len())),
        slice.cols - 1
    ));
    for line in 0..height {
        let label = if line == 0 {
            format!("{row_name}=0")
        } else if line == height - 1 {
            (slice.rows - 1).to_string()
        } else {
            String::new()
        };
        let row: String = (0..width)
            .map(|c| if lit[line * width + c] { '*' } else { '.' })
            .collect();
        text.push_str(&format!("{label:>label_width$} {row}\n"));
    }
    text.pop();
    text
}
