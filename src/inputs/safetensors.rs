//! Reading tensors from `.safetensors` files (Hugging Face's format), header first.
//!
//! The file is memory-mapped, not read whole: its JSON header is parsed and checked against
//! the file's length first, and a tensor's bytes are touched only when that tensor is
//! converted, after its dtype, rank and size have passed (an array whose values as `f64`
//! would not fit in the memory limit is refused before any of its data is read). F64, F32,
//! F16, BF16 and integer tensors become `f64`; the bytes are little-endian and row-major,
//! as the format prescribes.

use std::fs::File;
use std::path::{Path, PathBuf};

use ::safetensors::SafeTensors;
use ::safetensors::tensor::{Dtype, Metadata, TensorInfo};
use half::{bf16, f16};
use memmap2::Mmap;
use ndarray::{ArrayD, IxDyn};

use super::store::checked;
use super::{InputError, io_error, printable};
use crate::expr::Shape;
use crate::expr::typecheck::edit_distance;

/// How many of the closest tensor names a [`InputError::TensorNotFound`] lists.
const CLOSEST_NAMES: usize = 5;

/// An open `.safetensors` file: its memory map and its parsed, validated header.
pub struct SafetensorsFile {
    path: PathBuf,
    map: Mmap,
    /// Bytes before the data: the 8-byte length and the JSON header.
    data_start: usize,
    metadata: Metadata,
}

impl SafetensorsFile {
    /// Maps the file at `path` and reads its header: every tensor's dtype, shape and byte
    /// range, checked to tile the data exactly up to the end of the file. No tensor data
    /// is read.
    pub fn open(path: &Path) -> Result<SafetensorsFile, InputError> {
        let file = File::open(path).map_err(|e| io_error(path, e))?;
        let metadata = file.metadata().map_err(|e| io_error(path, e))?;
        if !metadata.is_file() {
            return Err(InputError::Io {
                path: path.to_path_buf(),
                message: "not a regular file (a .safetensors file is memory-mapped)".to_string(),
            });
        }
        // SAFETY: the map is only read, and copied from before this function's callers
        // return. Like every reader of a memory-mapped file (the safetensors reference
        // implementation included), this assumes no other process truncates the file
        // while it is being read.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| io_error(path, e))?;
        let (header_len, metadata) =
            SafeTensors::read_metadata(&map).map_err(|e| InputError::Invalid {
                origin: path.display().to_string(),
                format: ".safetensors",
                reason: printable(&e.to_string()),
            })?;
        Ok(SafetensorsFile {
            path: path.to_path_buf(),
            map,
            data_start: 8 + header_len,
            metadata,
        })
    }

    /// The tensor names in the order of their data in the file.
    pub fn names(&self) -> Vec<String> {
        self.metadata.offset_keys()
    }

    /// What the header says about tensor `name`, if the file has it.
    pub fn info(&self, name: &str) -> Option<&TensorInfo> {
        self.metadata.info(name)
    }

    /// Tensor `tensor` as `f64` in standard layout, for variable `variable`.
    ///
    /// Refused before any of its data is read: a name the file does not have (the error
    /// lists the closest names), a dtype jacscope does not convert, more than two
    /// dimensions, values as `f64` above `limit` bytes. A NaN or infinite entry is found
    /// after conversion.
    pub fn read(
        &self,
        tensor: &str,
        variable: &str,
        limit: u64,
    ) -> Result<ArrayD<f64>, InputError> {
        let Some(info) = self.info(tensor) else {
            return Err(self.not_found(tensor));
        };
        let origin = format!("{}:{tensor}", self.path.display());
        let Some(decode) = decoder(info.dtype) else {
            return Err(InputError::UnsupportedTensorDtype {
                origin,
                dtype: info.dtype.to_string(),
            });
        };
        if info.shape.len() > 2 {
            return Err(InputError::TooManyDimensions {
                origin,
                ndim: info.shape.len(),
            });
        }
        let shape = Shape(info.shape.clone());
        let needed = shape.numel().and_then(|count| count.checked_mul(8));
        if needed.is_none_or(|bytes| bytes > limit) {
            return Err(InputError::TooLarge {
                origin,
                shape,
                dtype: info.dtype.to_string(),
                needed,
                limit,
            });
        }
        let (start, end) = info.data_offsets;
        // `read_metadata` checked that the ranges tile the data up to the end of the file.
        let bytes = &self.map[self.data_start + start..self.data_start + end];
        let array = ArrayD::from_shape_vec(IxDyn(&info.shape), decode(bytes))
            .expect("the header's byte range holds one value per entry of its shape");
        checked(variable, &origin, array)
    }

    /// The error for a tensor name the file does not have: its closest names, by edit
    /// distance (then alphabetically), closest first.
    fn not_found(&self, tensor: &str) -> InputError {
        let mut names = self.names();
        names.sort_by_cached_key(|name| (edit_distance(tensor, name), name.clone()));
        let count = names.len();
        names.truncate(CLOSEST_NAMES);
        InputError::TensorNotFound {
            path: self.path.clone(),
            tensor: tensor.to_string(),
            closest: names,
            count,
        }
    }
}

/// Whether jacscope converts tensors of `dtype` to `f64`.
pub fn is_readable(dtype: Dtype) -> bool {
    decoder(dtype).is_some()
}

/// Converts the little-endian bytes of a tensor's entries to `f64` values.
type Decoder = fn(&[u8]) -> Vec<f64>;

/// The conversion of little-endian entries of `dtype` to `f64`; `None` for a dtype
/// jacscope does not read (bool, 8-bit and smaller floats, anything newer).
fn decoder(dtype: Dtype) -> Option<Decoder> {
    Some(match dtype {
        Dtype::F64 => |bytes| convert(bytes, f64::from_le_bytes),
        Dtype::F32 => |bytes| convert(bytes, |b| f64::from(f32::from_le_bytes(b))),
        Dtype::F16 => |bytes| convert(bytes, |b| f16::from_le_bytes(b).to_f64()),
        Dtype::BF16 => |bytes| convert(bytes, |b| bf16::from_le_bytes(b).to_f64()),
        Dtype::I8 => |bytes| convert(bytes, |b| f64::from(i8::from_le_bytes(b))),
        Dtype::U8 => |bytes| convert(bytes, |b| f64::from(u8::from_le_bytes(b))),
        Dtype::I16 => |bytes| convert(bytes, |b| f64::from(i16::from_le_bytes(b))),
        Dtype::U16 => |bytes| convert(bytes, |b| f64::from(u16::from_le_bytes(b))),
        Dtype::I32 => |bytes| convert(bytes, |b| f64::from(i32::from_le_bytes(b))),
        Dtype::U32 => |bytes| convert(bytes, |b| f64::from(u32::from_le_bytes(b))),
        Dtype::I64 => |bytes| convert(bytes, |b| i64::from_le_bytes(b) as f64),
        Dtype::U64 => |bytes| convert(bytes, |b| u64::from_le_bytes(b) as f64),
        _ => return None,
    })
}

/// Every `N`-byte entry of `bytes` converted by `value`.
fn convert<const N: usize>(bytes: &[u8], value: impl Fn([u8; N]) -> f64) -> Vec<f64> {
    bytes
        .chunks_exact(N)
        .map(|entry| value(entry.try_into().expect("chunks of N bytes")))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use ::safetensors::tensor::TensorView;
    use tempfile::TempDir;

    use super::*;

    /// Writes a safetensors file of `(name, dtype, shape, bytes)` tensors with the crate's
    /// own writer.
    fn write(dir: &TempDir, tensors: &[(&str, Dtype, &[usize], Vec<u8>)]) -> PathBuf {
        let views: HashMap<String, TensorView> = tensors
            .iter()
            .map(|(name, dtype, shape, bytes)| {
                let view = TensorView::new(*dtype, shape.to_vec(), bytes).unwrap();
                (name.to_string(), view)
            })
            .collect();
        let path = dir.path().join("m.safetensors");
        ::safetensors::serialize_to_file(views, None, &path).unwrap();
        path
    }

    fn le<T: Copy, const N: usize>(values: &[T], bytes: fn(T) -> [u8; N]) -> Vec<u8> {
        values.iter().flat_map(|&v| bytes(v)).collect()
    }

    #[test]
    fn every_readable_dtype_converts_exactly() {
        let dir = TempDir::new().unwrap();
        // Values exactly representable in every dtype, so the witness is the literal.
        let path = write(
            &dir,
            &[
                (
                    "f64",
                    Dtype::F64,
                    &[2],
                    le(&[1.5f64, -2.25], f64::to_le_bytes),
                ),
                (
                    "f32",
                    Dtype::F32,
                    &[2],
                    le(&[1.5f32, -2.25], f32::to_le_bytes),
                ),
                ("f16", Dtype::F16, &[2], vec![0x00, 0x3e, 0x80, 0xc0]),
                ("bf16", Dtype::BF16, &[2], vec![0xc0, 0x3f, 0x10, 0xc0]),
                ("i8", Dtype::I8, &[2], vec![0xff, 0x7f]),
                ("u8", Dtype::U8, &[2], vec![0xff, 0x01]),
                ("i16", Dtype::I16, &[2], le(&[-300i16, 7], i16::to_le_bytes)),
                (
                    "u16",
                    Dtype::U16,
                    &[2],
                    le(&[65535u16, 7], u16::to_le_bytes),
                ),
                (
                    "i32",
                    Dtype::I32,
                    &[2],
                    le(&[-70000i32, 7], i32::to_le_bytes),
                ),
                (
                    "u32",
                    Dtype::U32,
                    &[2],
                    le(&[u32::MAX, 7], u32::to_le_bytes),
                ),
                (
                    "i64",
                    Dtype::I64,
                    &[2],
                    le(&[-(1i64 << 40), 7], i64::to_le_bytes),
                ),
                (
                    "u64",
                    Dtype::U64,
                    &[2],
                    le(&[1u64 << 53, 7], u64::to_le_bytes),
                ),
            ],
        );
        let file = SafetensorsFile::open(&path).unwrap();
        let read = |name: &str| {
            file.read(name, "X", u64::MAX)
                .unwrap()
                .into_raw_vec_and_offset()
                .0
        };
        // f16 0x3e00 = 1.5, 0xc080 = -2.25; bf16 0x3fc0 = 1.5, 0xc010 = -2.25.
        for name in ["f64", "f32", "f16", "bf16"] {
            assert_eq!(read(name), [1.5, -2.25], "{name}");
        }
        assert_eq!(read("i8"), [-1.0, 127.0]);
        assert_eq!(read("u8"), [255.0, 1.0]);
        assert_eq!(read("i16"), [-300.0, 7.0]);
        assert_eq!(read("u16"), [65535.0, 7.0]);
        assert_eq!(read("i32"), [-70000.0, 7.0]);
        assert_eq!(read("u32"), [f64::from(u32::MAX), 7.0]);
        assert_eq!(read("i64"), [-(2f64.powi(40)), 7.0]);
        assert_eq!(read("u64"), [2f64.powi(53), 7.0]);
    }

    #[test]
    fn a_tensor_is_refused_from_its_header() {
        let dir = TempDir::new().unwrap();
        let path = write(
            &dir,
            &[
                ("mask", Dtype::BOOL, &[2], vec![0, 1]),
                (
                    "cube",
                    Dtype::F32,
                    &[1, 1, 2],
                    le(&[1f32, 2.0], f32::to_le_bytes),
                ),
                ("w", Dtype::F16, &[4, 4], vec![0; 32]),
            ],
        );
        let file = SafetensorsFile::open(&path).unwrap();
        let origin = |tensor: &str| format!("{}:{tensor}", path.display());
        assert_eq!(
            file.read("mask", "X", u64::MAX).unwrap_err(),
            InputError::UnsupportedTensorDtype {
                origin: origin("mask"),
                dtype: "BOOL".to_string()
            }
        );
        assert_eq!(
            file.read("cube", "X", u64::MAX).unwrap_err(),
            InputError::TooManyDimensions {
                origin: origin("cube"),
                ndim: 3
            }
        );
        // 16 entries need 128 bytes as f64, although the file holds 32.
        assert_eq!(file.read("w", "X", 128).unwrap().len(), 16);
        assert_eq!(
            file.read("w", "X", 127).unwrap_err(),
            InputError::TooLarge {
                origin: origin("w"),
                shape: Shape(vec![4, 4]),
                dtype: "F16".to_string(),
                needed: Some(128),
                limit: 127,
            }
        );
    }

    #[test]
    fn a_missing_tensor_lists_the_closest_names() {
        let dir = TempDir::new().unwrap();
        let names = [
            "proj.weight",
            "proj.bias",
            "embed.weight",
            "norm.weight",
            "head.weight",
            "z",
            "y",
        ];
        let tensors: Vec<(&str, Dtype, &[usize], Vec<u8>)> = names
            .iter()
            .map(|name| (*name, Dtype::U8, &[1usize][..], vec![1]))
            .collect();
        let path = write(&dir, &tensors);
        let file = SafetensorsFile::open(&path).unwrap();
        let InputError::TensorNotFound { closest, count, .. } =
            file.read("proj.weigth", "W", u64::MAX).unwrap_err()
        else {
            panic!("a missing name must be TensorNotFound");
        };
        assert_eq!(count, 7);
        assert_eq!(closest.len(), CLOSEST_NAMES);
        assert_eq!(closest[0], "proj.weight");
        assert!(!closest.contains(&"z".to_string()), "{closest:?}");
    }

    #[test]
    fn broken_files_are_reported_as_such() {
        let dir = TempDir::new().unwrap();
        let path = write(&dir, &[("w", Dtype::F32, &[2], vec![0; 8])]);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.pop();
        std::fs::write(&path, &bytes).unwrap();
        let error = SafetensorsFile::open(&path).err().unwrap();
        assert!(
            matches!(
                &error,
                InputError::Invalid {
                    format: ".safetensors",
                    ..
                }
            ),
            "{error}"
        );
        let missing = dir.path().join("missing.safetensors");
        assert_eq!(
            SafetensorsFile::open(&missing).err().unwrap(),
            InputError::NotFound { path: missing }
        );
        std::fs::write(&path, b"").unwrap();
        assert!(matches!(
            SafetensorsFile::open(&path).err().unwrap(),
            InputError::Invalid { .. }
        ));
    }
}
