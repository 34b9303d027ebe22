//! `jacscope inputs`: the arrays of `.npy`, `.npz` and `.safetensors` files, from their
//! headers, and whether each can be loaded with `-l`.

use std::io::Write;
use std::path::PathBuf;

use serde_json::json;

use super::{emit, emit_json, printed};
use crate::calculus::Notation;
use crate::error::Error;
use crate::expr::Shape;
use crate::expr::diagnostic::escape;
use crate::inputs::{FileListing, list_arrays};
use crate::numfmt;
use crate::output_file::shown;

/// Lists the arrays of every file in `files`, as a table per file or one JSON document.
pub fn run(
    files: &[PathBuf],
    json: bool,
    notation: Notation,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let listings = files
        .iter()
        .map(|path| list_arrays(path))
        .collect::<Result<Vec<_>, _>>()?;
    if json {
        let files: Vec<serde_json::Value> = listings.iter().map(file_json).collect();
        return emit_json(out, &json!({ "files": files }));
    }
    for (position, listing) in listings.iter().enumerate() {
        if position > 0 {
            emit(out, "")?;
        }
        for line in table(listing, notation) {
            emit(out, &line)?;
        }
    }
    Ok(())
}

/// One file as JSON: its path, format and arrays.
fn file_json(listing: &FileListing) -> serde_json::Value {
    let arrays: Vec<serde_json::Value> = listing
        .arrays
        .iter()
        .map(|array| {
            json!({
                "name": array.name,
                "dtype": array.dtype,
                "shape": array.shape,
                "entries": array.entries(),
                "bytes": array.data_bytes,
                "usable": array.unusable.is_none(),
                "why_not": array.unusable,
            })
        })
        .collect();
    json!({
        "path": listing.path.to_string_lossy(),
        "format": listing.format,
        "arrays": arrays,
        "load": load_hint(listing),
    })
}

/// The lines printed for one file: a title, a table of its arrays, how to load them.
fn table(listing: &FileListing, notation: Notation) -> Vec<String> {
    let count = listing.arrays.len();
    let mut lines = vec![format!(
        "{} ({}): {count} arra{}",
        shown(&listing.path),
        listing.format,
        if count == 1 { "y" } else { "ys" }
    )];
    let mut rows = vec![[
        "name".to_string(),
        "dtype".to_string(),
        "shape".to_string(),
        "size".to_string(),
        "usable".to_string(),
    ]];
    for array in &listing.arrays {
        let shape = Shape(array.shape.clone());
        rows.push([
            array.name.as_deref().map_or("-".to_string(), escape),
            array.dtype.clone(),
            printed(&shape.to_string(), notation),
            numfmt::bytes(Some(array.data_bytes)),
            match &array.unusable {
                None => "yes".to_string(),
                Some(reason) => format!("no: {reason}"),
            },
        ]);
    }
    let widths: Vec<usize> = (0..5)
        .map(|column| {
            rows.iter()
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &width)| format!("{cell:<width$}"))
            .collect();
        lines.push(format!("  {}", cells.join("  ").trim_end()));
    }
    lines.push(format!("  load with {}", escape(&load_hint(listing))));
    lines
}

/// How the arrays of a file are loaded with `-l`.
fn load_hint(listing: &FileListing) -> String {
    let path = listing.path.display();
    match listing.format {
        "npy" => format!("-l NAME={path}"),
        "npz" => format!("-l {path} (each array named like a variable of EXPR)"),
        _ => format!(
            "-l NAME={path}:TENSOR (one tensor), or -l {path} (each tensor named like a variable of EXPR)"
        ),
    }
}
