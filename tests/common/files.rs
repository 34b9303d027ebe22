//! Input files for the command-line tests: `.npy` files written by ndarray-npy or byte by
//! byte (for dtypes and headers ndarray-npy cannot write), and the `-l` argument naming them.

// Each test binary that includes this module uses a different part of it.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use tempfile::TempDir;

/// A `.npy` file written byte by byte: header `version` 1 or 2, `descr` a Python literal
/// (`'<f8'` with its quotes, or a structured dtype `[('a', '<f8')]`), `shape` a Python
/// tuple as text, then `data` as given (which need not match the header).
pub fn raw_npy_version(
    version: u8,
    descr: &str,
    fortran: bool,
    shape: &str,
    data: &[u8],
) -> Vec<u8> {
    let order = if fortran { "True" } else { "False" };
    let mut header = format!("{{'descr': {descr}, 'fortran_order': {order}, 'shape': {shape}, }}");
    let prefix = if version == 1 { 10 } else { 12 };
    while (prefix + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY".to_vec();
    bytes.extend([version, 0]);
    if version == 1 {
        bytes.extend((header.len() as u16).to_le_bytes());
    } else {
        bytes.extend((header.len() as u32).to_le_bytes());
    }
    bytes.extend(header.as_bytes());
    bytes.extend(data);
    bytes
}

/// [`raw_npy_version`] with a version 1 header in C order.
pub fn raw_npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    raw_npy_version(1, descr, false, shape, data)
}

/// Writes `bytes` to `name` in `dir`; returns its path.
pub fn write_file(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    path
}

/// Writes `value` as a `.npy` file `name` in `dir`; returns its path.
pub fn write_npy(dir: &TempDir, name: &str, value: &Array2<f64>) -> PathBuf {
    let path = dir.path().join(name);
    ndarray_npy::write_npy(&path, value).unwrap();
    path
}

/// `NAME=PATH`, the argument of `-l`.
pub fn load_arg(name: &str, path: &Path) -> String {
    format!("{name}={}", path.display())
}
