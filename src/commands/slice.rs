//! `jacscope slice`: a 2-D slice of J as a spy plot, a picture (SVG, PNG), CSV, JSON or
//! .npy.

use std::io::{self, Write};
use std::path::Path;

use ndarray::ArrayView2;
use ndarray_npy::WriteNpyExt;
use serde::{Serialize, Serializer};
use serde_json::json;

use super::picture::{Drawing, PictureRequest};
use super::{deliver, npy_error};
use crate::axis_index::Axes;
use crate::calculus::render::{Notation, Symbols};
use crate::cli::{HeatMode, MapSize, SliceFormat};
use crate::error::Error;
use crate::jacobian::Slice;
use crate::picture::figure::Labels;
use crate::picture::grid::{HeatGrid, Viewport};
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
    /// `--mode` (pictures only).
    pub mode: Option<HeatMode>,
    /// `--width`, `--height`.
    pub size: MapSize,
    /// `--json` (same as `--format json`).
    pub json: bool,
    /// The notation of the text printed (`--ascii`).
    pub notation: Notation,
}

impl SliceRequest<'_> {
    /// The format asked for (`--json` is `--format json`).
    fn format(&self) -> SliceFormat {
        if self.json {
            SliceFormat::Json
        } else {
            self.format
        }
    }

    /// The map asked for, if the format draws one.
    fn picture(&self) -> Option<PictureRequest<'_>> {
        let drawing = match self.format() {
            SliceFormat::Text => Drawing::Text,
            SliceFormat::Svg => Drawing::Svg,
            SliceFormat::Png => Drawing::Png,
            SliceFormat::Csv | SliceFormat::Json | SliceFormat::Npy => return None,
        };
        Some(PictureRequest {
            drawing,
            output_file: self.output_file,
            force: self.force,
            mode: self.mode,
            size: self.size,
        })
    }

    /// Refuses options that do not go together, before any work is done.
    pub fn check(&self) -> Result<(), Error> {
        let format = self.format();
        if self.output_file.is_none() && format == SliceFormat::Npy {
            return Err(Error::Usage(
                "--format npy writes a binary file; give it a name with -o FILE.npy".to_string(),
            ));
        }
        let picture = matches!(format, SliceFormat::Svg | SliceFormat::Png);
        if self.mode.is_some() && !picture {
            return Err(Error::Usage(
                "--mode is for pictures: --format svg or --format png".to_string(),
            ));
        }
        self.picture().map_or(Ok(()), |picture| picture.check())
    }
}

/// Prints or writes the requested slice of `problem`'s Jacobian.
pub fn run(problem: &Problem, request: &SliceRequest, out: &mut dyn Write) -> Result<(), Error> {
    request.check()?;
    let jacobian = &problem.jacobian;
    let (names, shape) = (jacobian.axis_names(), jacobian.shape());
    let j_axes = Axes::new(&names, &shape);
    let axes = parse_axes(request.axes, &j_axes)?;
    let at = parse_fix(request.fix, &j_axes, axes)?;
    let format = request.format();
    let by = Symbols::of(request.notation).by;
    if let Some(picture) = request.picture() {
        let (width, height) = picture.size();
        let viewport = Viewport::fit(shape[axes.0], shape[axes.1], width, height);
        let grid = HeatGrid::of_slice(jacobian, axes, &at, viewport, None);
        let title = &problem.spec.expression;
        let labels = Labels::slice(title, &names, (Some(axes.0), Some(axes.1)), &at);
        let figure = picture.figure(&grid, labels, request.notation);
        return picture.deliver(&figure, by, out);
    }
    let entries = shape[axes.0] as u128 * shape[axes.1] as u128;
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
            SliceFormat::Text | SliceFormat::Svg | SliceFormat::Png => {
                unreachable!("maps are drawn above")
            }
        }
    };
    deliver(request.output_file, request.force, out, write)
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
