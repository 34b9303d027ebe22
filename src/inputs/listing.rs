//! What the arrays of a `.npy`, `.npz` or `.safetensors` file are, from their headers
//! alone, and whether each can be loaded as an input (and if not, why): what
//! `jacscope inputs` prints.

use std::path::{Path, PathBuf};

use super::InputError;
use super::args::is_identifier;
use super::npy::read_headers;
use super::safetensors::{SafetensorsFile, is_readable};

/// The arrays of one file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileListing {
    /// The file.
    pub path: PathBuf,
    /// `npy`, `npz` or `safetensors`.
    pub format: &'static str,
    /// Its arrays, in the order they are stored.
    pub arrays: Vec<ArrayInfo>,
}

/// One array of a file, as its header describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrayInfo {
    /// Its name in the file; `None` for the one array of a `.npy` file.
    pub name: Option<String>,
    /// Its dtype as the file names it (`<f4`, `BF16`), escaped.
    pub dtype: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Bytes of its data in the file.
    pub data_bytes: u64,
    /// Why it cannot be loaded as an input; `None` if it can.
    pub unusable: Option<String>,
}

impl ArrayInfo {
    /// The array's entries (the product of its shape), saturating.
    pub fn entries(&self) -> u64 {
        self.shape
            .iter()
            .fold(1u64, |count, &dim| count.saturating_mul(dim as u64))
    }
}

/// The arrays of the file at `path` (`.npy`, `.npz` or `.safetensors`, by its extension),
/// read from headers only.
pub fn list_arrays(path: &Path) -> Result<FileListing, InputError> {
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let (format, arrays) = match extension.as_deref() {
        Some(format @ ("npy" | "npz")) => {
            let archive = format == "npz";
            let arrays = read_headers(path, archive)?
                .into_iter()
                .map(|header| {
                    // An archive's members are loaded by their names, as variables.
                    let unnamed = archive && !header.name.as_deref().is_some_and(is_identifier);
                    let reason = unnamed.then_some(
                        "its name is not a variable name, and -l FILE.npz loads members by name",
                    );
                    ArrayInfo {
                        unusable: unusable(header.readable, &header.dtype, &header.shape, reason),
                        name: header.name,
                        dtype: header.dtype,
                        shape: header.shape,
                        data_bytes: header.data_bytes,
                    }
                })
                .collect();
            (if archive { "npz" } else { "npy" }, arrays)
        }
        Some("safetensors") => {
            let file = SafetensorsFile::open(path)?;
            let arrays = file
                .names()
                .into_iter()
                .map(|name| {
                    let info = file.info(&name).expect("a name of the file");
                    let dtype = info.dtype.to_string();
                    let (start, end) = info.data_offsets;
                    ArrayInfo {
                        unusable: unusable(is_readable(info.dtype), &dtype, &info.shape, None),
                        name: Some(name),
                        dtype,
                        shape: info.shape.clone(),
                        data_bytes: (end - start) as u64,
                    }
                })
                .collect();
            ("safetensors", arrays)
        }
        _ => {
            return Err(InputError::Invalid {
                origin: path.display().to_string(),
                format: "input",
                reason: "jacscope reads .npy, .npz and .safetensors files (by extension)"
                    .to_string(),
            });
        }
    };
    Ok(FileListing {
        path: path.to_path_buf(),
        format,
        arrays,
    })
}

/// Why an array cannot be an input: a dtype jacscope does not read, more than two
/// dimensions, or `other` (a reason of its format).
fn unusable(readable: bool, dtype: &str, shape: &[usize], other: Option<&str>) -> Option<String> {
    if !readable {
        Some(format!("jacscope does not read {dtype}"))
    } else if shape.len() > 2 {
        Some(format!(
            "{} dimensions (jacscope handles at most 2)",
            shape.len()
        ))
    } else {
        other.map(str::to_string)
    }
}
