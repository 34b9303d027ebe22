//! `jacscope slice`: a 2-D slice of J as a spy plot, CSV, JSON or .npy.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use ndarray::ArrayView2;
use ndarray_npy::WriteNpyExt;
use serde::{Serialize, Serializer};
use serde_json::json;

use super::{npy_error, output_error};
use crate::axis_index::Axes;
use crate::calculus::render::{Notation, Symbols};
use crate::cli::SliceFormat;
use crate::error::Error;
use crate::jacobian::{Jacobian, Slice};
use crate::output_file::OutputFile;
use crate::problem::Problem;

/// Bytes a slice holds per entry while it is written: its value (`f64`) and its
/// structural flag (`bool`). Every format is written from these as it goes (no copy of
/// the values, no JSON or CSV text held whole), so this is the whole of its peak.
const BYTES_PER_ENTRY: u64 = 9;

/// What `slice` was asked to do.
pub struct SliceRequest<'a> {
    /// `--axes`, e.g. `k,l`.
    pub axes: &'a str,
    /// `--fix`, e.g. `i=0,j=3`.
    pub fix: &'a str,
    /// `--format`.
    pub format: SliceFormat,
    /// `-o` (already checked by the caller).
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
pub fn run(problem: &Problem, request: &SliceRequest, out: &mut dyn Write) -> Result<(), Error> {
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
    if request.output_file.is_none() && format == SliceFormat::Npy {
        return Err(Error::Usage(
            "--format npy writes a binary file; give it a name with -o FILE.npy".to_string(),
        ));
    }
    let entries = shape[axes.0] as u128 * shape[axes.1] as u128;
    let by = Symbols::of(request.notation).by;
    let what = format!("this {}{by}{} slice", shape[axes.0], shape[axes.1]);
    super::check_allocation(problem, &what, entries, BYTES_PER_ENTRY)?;
    let slice = jacobian.slice(axes, &at);
    let write = |sink: &mut dyn Write| -> io::Result<()> {
        match format {
            SliceFormat::Npy => write_npy(&slice, sink),
            SliceFormat::Csv => write_csv(&slice, sink),
            SliceFormat::Json => {
                let document = SliceDocument {
                    axes: [&names[axes.0], &names[axes.1]],
                    fixed: fixed_description(&names, axes, &at),
                    shape: [slice.rows, slice.cols],
                    values: Rows(&slice),
                };
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
            let mut file = OutputFile::create(path, request.force)?;
            let written = write(file.writer());
            written.map_err(|e| file.error(e))?;
            Ok(file.commit()?)
        }
        None => {
            let mut buffered = BufWriter::new(out);
            write(&mut buffered)
                .and_then(|()| buffered.flush())
                .map_err(output_error)
        }
    }
}

/// The slice as a `.npy` array of f64, rows × columns.
fn write_npy(slice: &Slice, sink: &mut dyn Write) -> io::Result<()> {
    let values = ArrayView2::from_shape((slice.rows, slice.cols), &slice.values)
        .map_err(io::Error::other)?;
    values.write_npy(sink).map_err(npy_error)
}

/// The slice as CSV: one line per row, values in scientific notation.
fn write_csv(slice: &Slice, sink: &mut dyn Write) -> io::Result<()> {
    for row in slice.values.chunks(slice.cols) {
        for (n, value) in row.iter().enumerate() {
            if n > 0 {
                sink.write_all(b",")?;
            }
            write!(sink, "{value:e}")?;
        }
        writeln!(sink)?;
    }
    Ok(())
}

/// The JSON document of `slice --format json`.
#[derive(Serialize)]
struct SliceDocument<'a> {
    /// The names of the rows' and the columns' axes.
    axes: [&'a str; 2],
    /// The other axes at their fixed components.
    fixed: serde_json::Value,
    /// Rows × columns.
    shape: [usize; 2],
    /// The values, row by row.
    values: Rows<'a>,
}

/// The values of a slice as a JSON array of rows, serialized straight from the slice.
struct Rows<'a>(&'a Slice);

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.values.chunks(self.0.cols))
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
    slice: &Slice,
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
