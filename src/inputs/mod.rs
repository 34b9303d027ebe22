//! The numbers an expression is evaluated at: arrays loaded from `.npy`/`.npz`/`.safetensors` files,
//! and seeded standard-normal values for every variable that was not loaded.
//!
//! Loading validates everything a user can get wrong (missing or corrupt files,
//! unsupported dtypes, more than two dimensions, NaN/inf entries, names that are not
//! variables of the expression, a variable loaded twice, shapes that contradict `-s`) and reports it as one
//! [`InputError`] naming the file and the variable. An array's header is read first: an
//! array whose values would not fit in the memory limit, or whose header does not match
//! the bytes that follow, is refused before any of its data is read (a small `.npz` may
//! decompress to gigabytes).
//!
//! One job per file: [`args`] parses the `-l` arguments and combines them with the `-s`
//! shapes, [`npy`] reads `.npy` and `.npz` files header first, [`safetensors`] reads
//! tensors from memory-mapped `.safetensors` files header first, [`listing`] describes
//! the arrays of any of these files from their headers alone, [`store`] holds the value of
//! every variable (loaded or drawn from the seed).

mod args;
mod listing;
mod npy;
mod safetensors;
mod store;

use std::path::{Path, PathBuf};

use std::io;

use crate::expr::Shape;
use crate::expr::diagnostic::escape_char;
use crate::numfmt;

pub use args::{LoadArg, merge_shapes, parse_load_arg};
pub use listing::{ArrayInfo, FileListing, list_arrays};
pub use npy::load_arrays;
pub use store::{Inputs, estimate_bytes, first_non_finite, standard_layout};

/// An error in the inputs: a `-l` argument, a file, its contents, or a shape.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    /// A `-l` argument that is none of `NAME=FILE.npy`, `FILE.npz`,
    /// `NAME=FILE.safetensors:TENSOR` and `FILE.safetensors`.
    #[error("-l {text}: {reason}")]
    BadLoadArg {
        /// The argument as given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The file does not exist.
    #[error("{path}: no such file")]
    NotFound {
        /// The file.
        path: PathBuf,
    },
    /// The file exists but could not be read.
    #[error("cannot read {path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's explanation.
        message: String,
    },
    /// The file is not a valid `.npy`, `.npz` or `.safetensors` file (truncated, corrupt,
    /// another format).
    #[error("{origin} is not a valid {format} file: {reason}")]
    Invalid {
        /// The file, or `archive.npz:member` for an array inside an archive.
        origin: String,
        /// `.npy`, `.npz` or `.safetensors`.
        format: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The array's element type is not a real number type.
    #[error(
        "{origin} has unsupported dtype {dtype}; jacscope reads float, integer and bool arrays"
    )]
    UnsupportedDtype {
        /// The file, or `archive.npz:member`.
        origin: String,
        /// The dtype as written in the file header, with its kind (e.g. `<c16 (complex)`).
        dtype: String,
    },
    /// The tensor's element type is not one jacscope converts to `f64`.
    #[error(
        "{origin} has unsupported dtype {dtype}; jacscope reads F64, F32, F16, BF16 and integer tensors"
    )]
    UnsupportedTensorDtype {
        /// `file.safetensors:tensor`.
        origin: String,
        /// The dtype as the header names it (e.g. `F8_E4M3`).
        dtype: String,
    },
    /// `-l NAME=FILE.safetensors:TENSOR` where the file has no tensor of that name.
    #[error(
        "{path} has no tensor named {tensor}; {}",
        other_names(.path, .closest, *.count),
        path = .path.display()
    )]
    TensorNotFound {
        /// The file.
        path: PathBuf,
        /// The tensor name given.
        tensor: String,
        /// The file's tensor names closest to it (edit distance), closest first.
        closest: Vec<String>,
        /// How many tensors the file holds.
        count: usize,
    },
    /// The array's values would need more memory than the limit allows.
    #[error(
        "{origin} holds a {shape} array of {dtype}, which would need about {}, more than the memory limit of {}; load a smaller array or raise the limit with --max-memory",
        numfmt::bytes(*needed),
        numfmt::bytes(Some(*limit))
    )]
    TooLarge {
        /// The file, or `archive.npz:member`.
        origin: String,
        /// The shape its header declares.
        shape: Shape,
        /// The dtype its header declares, e.g. `<f8`.
        dtype: String,
        /// Bytes of its values as `f64`; `None` if that overflows `u64`.
        needed: Option<u64>,
        /// The memory limit in bytes.
        limit: u64,
    },
    /// The array has more than two dimensions.
    #[error("{origin} has {ndim} dimensions; jacscope handles scalars, vectors and matrices")]
    TooManyDimensions {
        /// The file, or `archive.npz:member`.
        origin: String,
        /// Its number of dimensions.
        ndim: usize,
    },
    /// The array contains NaN or an infinity.
    #[error("{name} ({origin}) contains {what} at index {index:?}")]
    NonFinite {
        /// The variable.
        name: String,
        /// The file, or `archive.npz:member`.
        origin: String,
        /// `NaN`, `inf` or `-inf`.
        what: String,
        /// The first offending index in row-major order.
        index: Vec<usize>,
    },
    /// `-l NAME=FILE` where NAME is not a variable of the expression.
    #[error(
        "-l {name}={path}: {name} is not a variable of the expression (its variables: {variables})"
    )]
    UnknownVariable {
        /// The name given.
        name: String,
        /// The file given.
        path: PathBuf,
        /// The expression's variables, comma-separated.
        variables: String,
    },
    /// Two `-l` arguments load the same variable (two files, or an archive and a file).
    #[error("-l {name} is given twice ({first}, then {second}); load each variable once")]
    LoadedTwice {
        /// The variable.
        name: String,
        /// Where the first `-l` loads it from: a file, or `archive.npz:member`.
        first: String,
        /// Where the second one does.
        second: String,
    },
    /// A `-s` shape disagrees with the shape of the loaded array.
    #[error("-s {name}={explicit} disagrees with the loaded {name}, which is {loaded}")]
    ShapeConflict {
        /// The variable.
        name: String,
        /// The shape given with `-s` (ASCII form, as typed).
        explicit: String,
        /// The shape of the loaded array.
        loaded: Shape,
    },
    /// A loaded array does not have the shape the expression was checked with.
    #[error("the loaded {name} is {found} but the expression needs {expected}")]
    ShapeMismatch {
        /// The variable.
        name: String,
        /// The shape of the input node.
        expected: Shape,
        /// The shape of the loaded array.
        found: Shape,
    },
}

/// The end of [`InputError::TensorNotFound`]'s message: the closest names and where to
/// find the others.
fn other_names(path: &Path, closest: &[String], count: usize) -> String {
    match count {
        0 => "it holds no tensors".to_string(),
        _ if closest.len() == count => format!("its tensors: {}", closest.join(", ")),
        _ => format!(
            "the closest of its {count} names: {} (jacscope inputs {} lists them all)",
            closest.join(", "),
            path.display()
        ),
    }
}

/// An I/O error on `path`, telling a missing file apart from the others.
fn io_error(path: &Path, e: io::Error) -> InputError {
    match e.kind() {
        io::ErrorKind::NotFound => InputError::NotFound {
            path: path.to_path_buf(),
        },
        _ => InputError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        },
    }
}

/// Text read from a file, made safe to print in a message: control and invisible
/// characters escaped (so a hostile header cannot move the cursor or change colours), at
/// most [`PRINTABLE_LINES`] lines of at most [`PRINTABLE_WIDTH`] characters each, cuts
/// marked with `…`. (A parser's message may quote a 4 GB header line.)
fn printable(text: &str) -> String {
    let mut lines: Vec<String> = text
        .lines()
        .take(PRINTABLE_LINES + 1)
        .map(|line| {
            let escaped: Vec<String> = line.chars().map(escape_char).collect();
            let mut shown = escaped
                .iter()
                .take(PRINTABLE_WIDTH)
                .cloned()
                .collect::<String>();
            if escaped.len() > PRINTABLE_WIDTH {
                shown.push('…');
            }
            shown
        })
        .collect();
    if lines.len() > PRINTABLE_LINES {
        lines[PRINTABLE_LINES] = "…".to_string();
    }
    lines.join("\n")
}

/// Most lines of file-derived text in a message.
const PRINTABLE_LINES: usize = 8;
/// Most characters per line of file-derived text in a message.
const PRINTABLE_WIDTH: usize = 100;
