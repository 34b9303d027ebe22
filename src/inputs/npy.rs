//! Reading `.npy` files and `.npz` archives, header first: an array whose values would not
//! fit in the memory limit, or whose header does not match the bytes that follow, is
//! refused before any of its data is read; every array read is validated (rank ≤ 2,
//! finite) and converted to `f64` in standard layout. [`load_arrays`] loads every `-l`
//! argument, handing `.safetensors` files to [`super::safetensors`].

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use ndarray::{ArrayD, IxDyn, ShapeBuilder};
use ndarray_npy::npy::header::{Header, ReadHeaderError};
use zip::ZipArchive;

use super::safetensors::SafetensorsFile;
use super::store::checked;
use super::{InputError, LoadArg, io_error, printable};
use crate::expr::Shape;
use crate::numfmt;

/// Loads the arrays named by the `-l` arguments, for an expression with `variables`,
/// refusing any array whose values would need more than `limit` bytes.
///
/// From an archive (or a whole `.safetensors` file) only arrays whose name (with or
/// without a `.npy` suffix) is one of `variables` are read; the others are ignored,
/// whatever their dtype. A variable loaded
/// twice (by two `-l NAME=FILE`, or by an archive and another `-l`) is an error
/// ([`InputError::LoadedTwice`]), found before the second array is read.
/// Every array is converted to `f64` in standard (row-major) layout and checked: at most
/// two dimensions, no NaN or infinity. Each array's header is checked before its data is
/// read: its values as `f64` must fit in `limit` bytes ([`InputError::TooLarge`]), and
/// the data it declares must be the bytes that follow it.
pub fn load_arrays(
    loads: &[LoadArg],
    variables: &[&str],
    limit: u64,
) -> Result<BTreeMap<String, ArrayD<f64>>, InputError> {
    let mut arrays = BTreeMap::new();
    // Where each variable was loaded from.
    let mut origins: BTreeMap<String, String> = BTreeMap::new();
    let mut claim = |name: &str, origin: &str| match origins.get(name) {
        Some(first) => Err(InputError::LoadedTwice {
            name: name.to_string(),
            first: first.clone(),
            second: origin.to_string(),
        }),
        None => {
            origins.insert(name.to_string(), origin.to_string());
            Ok(())
        }
    };
    let known = |name: &str, path: &Path| {
        if variables.contains(&name) {
            Ok(())
        } else {
            Err(InputError::UnknownVariable {
                name: name.to_string(),
                path: path.to_path_buf(),
                variables: variables.join(", "),
            })
        }
    };
    for load in loads {
        match load {
            LoadArg::Named { name, path } => {
                known(name, path)?;
                let origin = path.display().to_string();
                claim(name, &origin)?;
                let array =
                    read_npy_file(path, limit).map_err(|e| input_error(e, &origin, ".npy"))?;
                arrays.insert(name.clone(), checked(name, &origin, array)?);
            }
            LoadArg::Archive { path } => {
                let archive_error = |e: zip::result::ZipError| InputError::Invalid {
                    origin: path.display().to_string(),
                    format: ".npz",
                    reason: printable(&e.to_string()),
                };
                let mut zip =
                    ZipArchive::new(BufReader::new(open(path)?)).map_err(archive_error)?;
                for position in 0..zip.len() {
                    let member = zip.by_index(position).map_err(archive_error)?;
                    // Stored as `W.npy` by numpy.savez, loaded as W.
                    let name = member.name();
                    let name = name.strip_suffix(".npy").unwrap_or(name).to_string();
                    if !variables.contains(&name.as_str()) {
                        continue;
                    }
                    let origin = format!("{}:{name}", path.display());
                    claim(&name, &origin)?;
                    let size = Some(member.size());
                    let array = read_npy(member, size, limit)
                        .map_err(|e| input_error(e, &origin, ".npz"))?;
                    arrays.insert(name.clone(), checked(&name, &origin, array)?);
                }
            }
            LoadArg::Tensor { name, path, tensor } => {
                known(name, path)?;
                claim(name, &format!("{}:{tensor}", path.display()))?;
                let array = SafetensorsFile::open(path)?.read(tensor, name, limit)?;
                arrays.insert(name.clone(), array);
            }
            LoadArg::Safetensors { path } => {
                let file = SafetensorsFile::open(path)?;
                for name in variables {
                    if file.info(name).is_some() {
                        claim(name, &format!("{}:{name}", path.display()))?;
                        arrays.insert(name.to_string(), file.read(name, name, limit)?);
                    }
                }
            }
        }
    }
    Ok(arrays)
}

/// Opens a file, telling a missing file apart from other I/O errors.
fn open(path: &Path) -> Result<File, InputError> {
    File::open(path).map_err(|e| io_error(path, e))
}

/// Why reading one array failed.
enum ReadError {
    /// The file could not be opened.
    Open(InputError),
    /// The stored dtype is not a real number type (carries the stored dtype).
    WrongDescriptor(String),
    /// The file is not a valid `.npy`/`.npz` file.
    Invalid(String),
    /// The array's values would need more than `limit` bytes.
    TooLarge {
        /// The shape the header declares.
        shape: Vec<usize>,
        /// The dtype the header declares.
        dtype: String,
        /// Bytes of the values as `f64`, `None` if that overflows `u64`.
        needed: Option<u64>,
        /// The memory limit in bytes.
        limit: u64,
    },
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Invalid(format!("reading it failed: {e}"))
    }
}

/// Reads the `.npy` file at `path` (see [`read_npy`]); its size is known unless it is not
/// a regular file (e.g. a pipe).
fn read_npy_file(path: &Path, limit: u64) -> Result<ArrayD<f64>, ReadError> {
    let file = open(path).map_err(ReadError::Open)?;
    let metadata = file
        .metadata()
        .map_err(|e| ReadError::Open(io_error(path, e)))?;
    let size = metadata.is_file().then_some(metadata.len());
    read_npy(BufReader::new(file), size, limit)
}

/// Reads one `.npy` stream of `size` bytes (`None` if unknown) as `f64`, header first.
///
/// Before any data is read, the header must declare exactly the bytes that follow it (when
/// `size` is known) and values that fit in `limit` bytes as `f64`. Reading never trusts a
/// declared length: it takes at most the bytes that are there, so a header claiming 10¹⁵
/// entries, or a 4 GiB header, costs no memory.
fn read_npy<R: Read>(
    mut reader: R,
    size: Option<u64>,
    limit: u64,
) -> Result<ArrayD<f64>, ReadError> {
    let Declaration {
        header,
        descr,
        dtype,
        entries,
        ..
    } = read_declaration(&mut reader, size)?;
    let dtype = dtype.ok_or(ReadError::WrongDescriptor(descr.clone()))?;
    let needed = entries.and_then(|count| count.checked_mul(8));
    let fitting = match (entries, needed) {
        (Some(count), Some(bytes)) if bytes <= limit => usize::try_from(count).ok(),
        _ => None,
    };
    let Some(entries) = fitting else {
        return Err(ReadError::TooLarge {
            shape: header.shape,
            dtype: descr,
            needed,
            limit,
        });
    };
    let values = read_values(&mut reader, dtype, entries)?;
    let shape = IxDyn(&header.shape).set_f(header.layout.is_fortran());
    Ok(ArrayD::from_shape_vec(shape, values).expect("one value per entry of the shape"))
}

/// What a `.npy` header declares.
struct Declaration {
    /// The header.
    header: Header,
    /// Its dtype descriptor as written (see [`descriptor_text`]).
    descr: String,
    /// The dtype, if it is one jacscope reads.
    dtype: Option<RealDtype>,
    /// Entries its shape declares; `None` if that overflows `u64`.
    entries: Option<u64>,
    /// The length of the header in bytes.
    header_bytes: u64,
}

/// Reads a `.npy` header from a stream of `size` bytes (`None` if unknown) and, for a
/// dtype jacscope reads and a known size, checks that it declares exactly the bytes that
/// follow it. Reads nothing after the header.
fn read_declaration<R: Read + ?Sized>(
    reader: &mut R,
    size: Option<u64>,
) -> Result<Declaration, ReadError> {
    let (header, header_bytes) = read_header(reader, size)?;
    let descr = descriptor_text(&header.type_descriptor);
    let dtype = header
        .type_descriptor
        .as_string()
        .and_then(|text| RealDtype::parse(text));
    let entries = header
        .shape
        .iter()
        .try_fold(1u64, |count, &dim| count.checked_mul(dim as u64));
    if let (Some(dtype), Some(size)) = (dtype, size) {
        let data_bytes = entries.and_then(|count| count.checked_mul(dtype.width as u64));
        let follow = size.saturating_sub(header_bytes);
        match data_bytes {
            Some(declared) if declared == follow => {}
            Some(declared) if declared < follow => {
                return Err(ReadError::Invalid(format!(
                    "it has {} extra bytes after the {} of data its header declares",
                    follow - declared,
                    numfmt::bytes(Some(declared))
                )));
            }
            _ => {
                return Err(ReadError::Invalid(format!(
                    "it ends before all of the data (truncated?): its header declares {}, {} follow",
                    numfmt::bytes(data_bytes),
                    numfmt::bytes(Some(follow))
                )));
            }
        }
    }
    Ok(Declaration {
        header,
        descr,
        dtype,
        entries,
        header_bytes,
    })
}

/// What the header of one array of a `.npy` file or `.npz` archive says, for listings.
pub(super) struct NpyHeader {
    /// The member's name without `.npy` (`None` for a `.npy` file).
    pub name: Option<String>,
    /// The dtype descriptor, escaped and with its kind spelled out if jacscope does not
    /// read it (`<c16 (complex)`).
    pub dtype: String,
    /// Whether jacscope reads this dtype.
    pub readable: bool,
    /// The declared shape.
    pub shape: Vec<usize>,
    /// Bytes of data after the header.
    pub data_bytes: u64,
}

/// The headers of the arrays in the `.npy` file (`archive` false) or `.npz` archive at
/// `path`; no array data is read (a compressed member is inflated only as far as its
/// header). A header that does not match the data after it is an error.
pub(super) fn read_headers(path: &Path, archive: bool) -> Result<Vec<NpyHeader>, InputError> {
    let summary = |name: Option<String>, reader: &mut dyn Read, size: u64| {
        let origin = match &name {
            Some(member) => format!("{}:{member}", path.display()),
            None => path.display().to_string(),
        };
        let format = if archive { ".npz" } else { ".npy" };
        let declaration =
            read_declaration(reader, Some(size)).map_err(|e| input_error(e, &origin, format))?;
        Ok(NpyHeader {
            name,
            dtype: match declaration.dtype {
                Some(_) => printable(&declaration.descr),
                None => describe_dtype(&printable(&declaration.descr)),
            },
            readable: declaration.dtype.is_some(),
            shape: declaration.header.shape,
            data_bytes: size.saturating_sub(declaration.header_bytes),
        })
    };
    let file = open(path)?;
    if !archive {
        let size = file.metadata().map_err(|e| io_error(path, e))?.len();
        return Ok(vec![summary(None, &mut BufReader::new(file), size)?]);
    }
    let archive_error = |e: zip::result::ZipError| InputError::Invalid {
        origin: path.display().to_string(),
        format: ".npz",
        reason: printable(&e.to_string()),
    };
    let mut zip = ZipArchive::new(BufReader::new(file)).map_err(archive_error)?;
    let mut headers = Vec::with_capacity(zip.len());
    for position in 0..zip.len() {
        let mut member = zip.by_index(position).map_err(archive_error)?;
        let name = member.name();
        let name = name.strip_suffix(".npy").unwrap_or(name).to_string();
        let size = member.size();
        headers.push(summary(Some(name), &mut member, size)?);
    }
    Ok(headers)
}

/// Reads a `.npy` header; returns it and its length in bytes.
///
/// ndarray-npy would allocate the declared header length (up to 4 GiB) before reading it;
/// here a length running past `size` is refused, and at most the bytes that are there are
/// read before ndarray-npy parses them.
fn read_header<R: Read + ?Sized>(
    reader: &mut R,
    size: Option<u64>,
) -> Result<(Header, u64), ReadError> {
    // The magic string `\x93NUMPY`, the version, then the header length: 2 bytes in
    // version 1, 4 in versions 2 and 3.
    let mut bytes = Vec::new();
    reader.take(8).read_to_end(&mut bytes)?;
    let length_width = match bytes.get(6) {
        Some(1) => 2,
        Some(2 | 3) => 4,
        _ => 0,
    };
    reader.take(length_width).read_to_end(&mut bytes)?;
    if length_width > 0 && bytes.len() == 8 + length_width as usize {
        let header_len = bytes[8..]
            .iter()
            .rev()
            .fold(0u64, |len, &byte| len << 8 | u64::from(byte));
        if let Some(size) = size
            && 8 + length_width + header_len > size
        {
            return Err(ReadError::Invalid(format!(
                "its header length is {header_len} bytes but the whole file is {size} (truncated?)"
            )));
        }
        reader.take(header_len).read_to_end(&mut bytes)?;
    }
    let header = Header::from_reader(&mut bytes.as_slice()).map_err(|e| match e {
        ReadHeaderError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            ReadError::Invalid("it ends inside the header (truncated?)".to_string())
        }
        other => ReadError::Invalid(other.to_string()),
    })?;
    Ok((header, bytes.len() as u64))
}

/// A dtype descriptor as written in a header: the string itself (`<c16`), or the Python
/// literal of a structured dtype.
fn descriptor_text(descr: &py_literal::Value) -> String {
    descr
        .as_string()
        .cloned()
        .unwrap_or_else(|| descr.to_string())
}

/// Reads exactly `entries` entries of `dtype` and converts them to `f64`, a block at a
/// time (so only the `f64` values are held); fails if the stream ends early or goes on.
fn read_values<R: Read>(
    reader: &mut R,
    dtype: RealDtype,
    entries: usize,
) -> Result<Vec<f64>, ReadError> {
    const BLOCK_ENTRIES: usize = 1 << 13;
    // Grown as the data arrives: `entries` is not trusted before it is there.
    let mut values = Vec::with_capacity(entries.min(BLOCK_ENTRIES));
    let mut block = vec![0u8; BLOCK_ENTRIES * dtype.width];
    while values.len() < entries {
        let count = (entries - values.len()).min(BLOCK_ENTRIES);
        let bytes = &mut block[..count * dtype.width];
        reader.read_exact(bytes).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => {
                ReadError::Invalid("it ends before all of the data (truncated?)".to_string())
            }
            _ => e.into(),
        })?;
        for entry in bytes.chunks_exact(dtype.width) {
            values.push(dtype.decode(entry)?);
        }
    }
    if reader.read(&mut [0u8])? > 0 {
        return Err(ReadError::Invalid(
            "it has extra bytes after the data its header declares".to_string(),
        ));
    }
    Ok(values)
}

/// A real NumPy dtype: bool, signed or unsigned integer, or float, with its width in bytes
/// and byte order.
#[derive(Debug, Clone, Copy, PartialEq)]
struct RealDtype {
    /// `b'b'` (bool), `b'i'`, `b'u'` or `b'f'`.
    kind: u8,
    /// Bytes per entry.
    width: usize,
    /// Whether the bytes are most significant first.
    big_endian: bool,
}

impl RealDtype {
    /// Parses a descriptor such as `<f8`, `>i4`, `|u1`, `|b1` (also the one-letter `b`, `B`
    /// and `?`); `None` for any other dtype.
    fn parse(descr: &str) -> Option<RealDtype> {
        let dtype = |kind, width, big_endian| RealDtype {
            kind,
            width,
            big_endian,
        };
        match descr {
            "b" => return Some(dtype(b'i', 1, false)),
            "B" => return Some(dtype(b'u', 1, false)),
            "?" => return Some(dtype(b'b', 1, false)),
            _ => {}
        }
        let (order, rest) = match descr.as_bytes().first()? {
            b'<' | b'>' | b'|' | b'=' => (Some(descr.as_bytes()[0]), &descr[1..]),
            _ => (None, descr),
        };
        let kind = *rest.as_bytes().first()?;
        let width: usize = rest[1..].parse().ok()?;
        let known = matches!(
            (kind, width),
            (b'b', 1) | (b'i' | b'u', 1 | 2 | 4 | 8) | (b'f', 4 | 8)
        );
        // A byte order is required for multi-byte entries, and `|` means "not applicable".
        let ordered = match order {
            None | Some(b'|') => width == 1,
            _ => true,
        };
        let big_endian = match order {
            Some(b'>') => true,
            Some(b'=') => cfg!(target_endian = "big"),
            _ => false,
        };
        (known && ordered).then(|| dtype(kind, width, big_endian))
    }

    /// The value of one entry, given its `width` bytes.
    fn decode(self, entry: &[u8]) -> Result<f64, ReadError> {
        let mut little = [0u8; 8];
        little[..self.width].copy_from_slice(entry);
        if self.big_endian {
            little[..self.width].reverse();
        }
        let bits = u64::from_le_bytes(little);
        // Sign-extends an integer of `width` bytes.
        let shift = 64 - 8 * self.width as u32;
        Ok(match (self.kind, self.width) {
            (b'f', 4) => f64::from(f32::from_bits(bits as u32)),
            (b'f', _) => f64::from_bits(bits),
            (b'i', _) => ((bits << shift) as i64 >> shift) as f64,
            (b'u', _) => bits as f64,
            _ => match bits {
                0 => 0.0,
                1 => 1.0,
                _ => {
                    let message = format!("a bool entry holds the byte {bits}, not 0 or 1");
                    return Err(ReadError::Invalid(message));
                }
            },
        })
    }
}

/// The error for an array of `origin` (a `format` file) that could not be read.
fn input_error(e: ReadError, origin: &str, format: &'static str) -> InputError {
    match e {
        ReadError::Open(e) => e,
        ReadError::WrongDescriptor(dtype) => InputError::UnsupportedDtype {
            origin: origin.to_string(),
            dtype: describe_dtype(&printable(&dtype)),
        },
        ReadError::Invalid(reason) => InputError::Invalid {
            origin: origin.to_string(),
            format,
            reason: printable(&reason),
        },
        ReadError::TooLarge {
            shape,
            dtype,
            needed,
            limit,
        } => InputError::TooLarge {
            origin: origin.to_string(),
            shape: Shape(shape),
            dtype,
            needed,
            limit,
        },
    }
}

/// A dtype descriptor with its kind spelled out, e.g. `<c16 (complex)`.
fn describe_dtype(descr: &str) -> String {
    let kind = match descr
        .trim_start_matches(['<', '>', '|', '='])
        .chars()
        .next()
    {
        Some('c') => "complex",
        Some('U' | 'S' | 'a') => "string",
        Some('O') => "object",
        Some('M' | 'm') => "date/time",
        Some('f') => "float of unsupported width",
        Some('V') => "structured",
        _ => return descr.to_string(),
    };
    format!("{descr} ({kind})")
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::PathBuf;

    use ndarray::{Array2, ArrayD, IxDyn, arr0, array};
    use ndarray_npy::{NpzWriter, write_npy};
    use tempfile::TempDir;

    use super::*;

    /// A `.npy` file written byte by byte, for dtypes and headers ndarray-npy cannot write.
    fn raw_npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend((header.len() as u16).to_le_bytes());
        bytes.extend(header.as_bytes());
        bytes.extend(data);
        bytes
    }

    fn write_bytes(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::File::create(&path)
            .unwrap()
            .write_all(bytes)
            .unwrap();
        path
    }

    fn named(name: &str, path: &Path) -> LoadArg {
        LoadArg::Named {
            name: name.to_string(),
            path: path.to_path_buf(),
        }
    }

    fn load_one(path: &Path) -> Result<ArrayD<f64>, InputError> {
        load_arrays(&[named("X", path)], &["X"], u64::MAX)
            .map(|mut arrays| arrays.remove("X").unwrap())
    }

    #[test]
    fn npy_files_of_every_real_dtype_load_as_f64() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("x.npy");
        write_npy(&path, &array![[1.5f64, -2.0], [3.0, 4.0]]).unwrap();
        assert_eq!(
            load_one(&path).unwrap(),
            array![[1.5, -2.0], [3.0, 4.0]].into_dyn()
        );
        write_npy(&path, &array![1.5f32, -2.0]).unwrap();
        assert_eq!(load_one(&path).unwrap(), array![1.5, -2.0].into_dyn());
        write_npy(&path, &array![-7i32, 9]).unwrap();
        assert_eq!(load_one(&path).unwrap(), array![-7.0, 9.0].into_dyn());
        write_npy(&path, &array![[200u8]]).unwrap();
        assert_eq!(load_one(&path).unwrap(), array![[200.0]].into_dyn());
        write_npy(&path, &array![-3i64]).unwrap();
        assert_eq!(load_one(&path).unwrap(), array![-3.0].into_dyn());
        write_npy(&path, &arr0(true)).unwrap();
        assert_eq!(load_one(&path).unwrap(), arr0(1.0).into_dyn());
    }

    #[test]
    fn fortran_order_arrays_load_in_standard_layout() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("x.npy");
        let value = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        write_npy(&path, &value.t()).unwrap();
        let loaded = load_one(&path).unwrap();
        assert_eq!(loaded, value.t().into_dyn());
        assert!(loaded.is_standard_layout());
    }

    #[test]
    fn npz_archives_load_only_the_variables() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("p.npz");
        let mut npz = NpzWriter::new(std::fs::File::create(&path).unwrap());
        // Stored as members W.npy, b.npy and unused.npy, as numpy.savez does.
        npz.add_array("W", &array![[1.0, 2.0]]).unwrap();
        npz.add_array("b", &array![3i32]).unwrap();
        npz.add_array("unused", &array![[[1u8]]]).unwrap();
        npz.finish().unwrap();
        let archive = LoadArg::Archive { path: path.clone() };
        let arrays =
            load_arrays(std::slice::from_ref(&archive), &["X", "W", "b"], u64::MAX).unwrap();
        assert_eq!(arrays.keys().collect::<Vec<_>>(), ["W", "b"]);
        assert_eq!(arrays["W"], array![[1.0, 2.0]].into_dyn());
        assert_eq!(arrays["b"], array![3.0].into_dyn());
        assert!(
            load_arrays(&[archive], &["Z"], u64::MAX)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_variable_loaded_twice_is_an_error() {
        let dir = TempDir::new().unwrap();
        let (a, b) = (dir.path().join("a.npy"), dir.path().join("b.npy"));
        write_npy(&a, &array![1.0]).unwrap();
        write_npy(&b, &array![2.0]).unwrap();
        let error = load_arrays(&[named("X", &a), named("X", &b)], &["X"], u64::MAX).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "-l X is given twice ({}, then {}); load each variable once",
                a.display(),
                b.display()
            )
        );
        // An archive that holds X, and another -l for X.
        let npz = dir.path().join("p.npz");
        let mut writer = NpzWriter::new(std::fs::File::create(&npz).unwrap());
        writer.add_array("X", &array![3.0]).unwrap();
        writer.finish().unwrap();
        let archive = LoadArg::Archive { path: npz.clone() };
        let error = load_arrays(&[archive, named("X", &a)], &["X"], u64::MAX).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "-l X is given twice ({}:X, then {}); load each variable once",
                npz.display(),
                a.display()
            )
        );
    }

    #[test]
    fn unsupported_dtypes_are_named() {
        let dir = TempDir::new().unwrap();
        let complex = write_bytes(&dir, "c.npy", &raw_npy("<c16", "(1,)", &[0; 16]));
        assert_eq!(
            load_one(&complex).unwrap_err().to_string(),
            format!(
                "{} has unsupported dtype <c16 (complex); jacscope reads float, integer and bool arrays",
                complex.display()
            )
        );
        let string = write_bytes(&dir, "s.npy", &raw_npy("<U2", "(1,)", &[0; 8]));
        let error = load_one(&string).unwrap_err();
        assert!(
            matches!(&error, InputError::UnsupportedDtype { dtype, .. } if dtype == "<U2 (string)"),
            "{error}"
        );
    }

    #[test]
    fn broken_files_are_reported_as_such() {
        let dir = TempDir::new().unwrap();
        let missing = dir.path().join("missing.npy");
        assert_eq!(
            load_one(&missing).unwrap_err(),
            InputError::NotFound {
                path: missing.clone()
            }
        );
        let truncated = write_bytes(&dir, "t.npy", &raw_npy("<f8", "(4,)", &[0; 20]));
        let error = load_one(&truncated).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{} is not a valid .npy file: it ends before all of the data (truncated?): its header declares 32 bytes, 20 bytes follow",
                truncated.display()
            )
        );
        let garbage = write_bytes(&dir, "g.npy", b"this is not numpy");
        assert!(matches!(
            load_one(&garbage).unwrap_err(),
            InputError::Invalid { format: ".npy", .. }
        ));
        let short = write_bytes(&dir, "h.npy", b"\x93NUMPY");
        assert!(matches!(
            load_one(&short).unwrap_err(),
            InputError::Invalid { format: ".npy", .. }
        ));
        let not_zip = write_bytes(&dir, "n.npz", b"not a zip archive");
        let error =
            load_arrays(&[LoadArg::Archive { path: not_zip }], &["X"], u64::MAX).unwrap_err();
        assert!(
            matches!(error, InputError::Invalid { format: ".npz", .. }),
            "{error}"
        );
    }

    #[test]
    fn a_header_claiming_more_than_the_file_holds_is_truncated_not_allocated() {
        let dir = TempDir::new().unwrap();
        // 10¹⁵ doubles would be 8 PB: reading must fail on the missing data, not abort
        // trying to allocate the declared size, whether the size of the file is known or
        // not (a pipe).
        for (descr, declared) in [("<f8", "7.1 PiB"), ("|u1", "909.5 TiB"), ("<i2", "1.8 PiB")] {
            let bytes = raw_npy(descr, "(1000000000000000,)", &[0; 16]);
            let path = write_bytes(&dir, "huge.npy", &bytes);
            let error = load_one(&path).unwrap_err().to_string();
            assert!(
                error.ends_with(&format!(
                    "it ends before all of the data (truncated?): its header declares {declared}, 16 bytes follow"
                )),
                "{error}"
            );
            let Err(ReadError::Invalid(reason)) = read_npy(bytes.as_slice(), None, u64::MAX) else {
                panic!("{descr}: a stream declaring 10¹⁵ entries must be truncated");
            };
            assert_eq!(reason, "it ends before all of the data (truncated?)");
        }
        // A format 3 header claiming 3.6 GB (found by cargo-fuzz): refused from the file size.
        let mut long = b"\x93NUMPY\x03\x00".to_vec();
        long.extend(0xd927_2c27u32.to_le_bytes());
        long.extend(b"{'descr': '<f8'");
        let path = write_bytes(&dir, "long.npy", &long);
        assert_eq!(
            load_one(&path).unwrap_err().to_string(),
            format!(
                "{} is not a valid .npy file: its header length is 3643223079 bytes but the whole file is 27 (truncated?)",
                path.display()
            )
        );
        let extra_bytes = raw_npy("<f8", "(1,)", &[0; 9]);
        let Err(ReadError::Invalid(reason)) = read_npy(extra_bytes.as_slice(), None, u64::MAX)
        else {
            panic!("a stream with a byte after its data must be refused");
        };
        assert_eq!(
            reason,
            "it has extra bytes after the data its header declares"
        );
        let extra = write_bytes(&dir, "extra.npy", &extra_bytes);
        assert!(matches!(
            load_one(&extra).unwrap_err(),
            InputError::Invalid { format: ".npy", .. }
        ));
    }

    #[test]
    fn an_array_above_the_memory_limit_is_refused_from_its_header() {
        let dir = TempDir::new().unwrap();
        // 4×4 f32 entries hold 64 bytes of data and need 128 as f64.
        let path = dir.path().join("x.npy");
        write_npy(&path, &Array2::<f32>::ones((4, 4))).unwrap();
        let load = [named("X", &path)];
        assert_eq!(load_arrays(&load, &["X"], 128).unwrap()["X"].sum(), 16.0);
        let error = load_arrays(&load, &["X"], 127).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{} holds a 4×4 array of <f4, which would need about 128 bytes, more than the memory limit of 127 bytes; load a smaller array or raise the limit with --max-memory",
                path.display()
            )
        );
        // The same for a compressed archive member, named as archive:member; 9000 entries
        // are read in two blocks.
        let npz = dir.path().join("p.npz");
        let ramp = Array2::from_shape_fn((100, 90), |(i, j)| (90 * i + j) as f64);
        let mut writer = NpzWriter::new_compressed(std::fs::File::create(&npz).unwrap());
        writer.add_array("X", &ramp).unwrap();
        writer.finish().unwrap();
        let archive = [LoadArg::Archive { path: npz.clone() }];
        let loaded = load_arrays(&archive, &["X"], 72_000).unwrap();
        assert_eq!(loaded["X"], ramp.into_dyn());
        assert_eq!(
            load_arrays(&archive, &["X"], 71_999).unwrap_err(),
            InputError::TooLarge {
                origin: format!("{}:X", npz.display()),
                shape: Shape(vec![100, 90]),
                dtype: "<f8".to_string(),
                needed: Some(72_000),
                limit: 71_999,
            }
        );
        // A count of entries beyond u64 is too large for any limit, not an overflow.
        let overflow = raw_npy("<f8", "(4294967296, 4294967296, 4294967296)", &[]);
        assert!(matches!(
            read_npy(overflow.as_slice(), None, u64::MAX),
            Err(ReadError::TooLarge { needed: None, .. })
        ));
    }

    #[test]
    fn file_text_in_messages_is_escaped_and_bounded() {
        let dir = TempDir::new().unwrap();
        let hostile = format!("\x1b[2J{}", "A".repeat(5000));
        let path = write_bytes(&dir, "x.npy", &raw_npy(&hostile, "(1,)", &[0; 8]));
        let error = load_one(&path).unwrap_err().to_string();
        assert!(!error.contains('\x1b'), "{error:?}");
        assert!(error.contains("unsupported dtype \\u{1b}[2JAAA"), "{error}");
        assert!(error.len() < 300, "{error}");
        let many_lines = format!("{}x", "line\n".repeat(100));
        assert_eq!(
            printable(&many_lines).lines().count(),
            super::super::PRINTABLE_LINES + 1
        );
        assert_eq!(printable("a\u{7}b\nc"), "a\\u{7}b\nc");
    }

    #[test]
    fn every_byte_order_and_width_decodes() {
        let dir = TempDir::new().unwrap();
        let cases: [(&str, &[u8], f64); 9] = [
            (">f8", &1.5f64.to_be_bytes(), 1.5),
            (">f4", &(-2.25f32).to_be_bytes(), -2.25),
            ("<i2", &(-300i16).to_le_bytes(), -300.0),
            (">i4", &(-70000i32).to_be_bytes(), -70000.0),
            ("|i1", &[0xff], -1.0),
            ("b", &[0x80], -128.0),
            (">u2", &[0x01, 0x02], 258.0),
            ("<u8", &u64::MAX.to_le_bytes(), u64::MAX as f64),
            ("|b1", &[1], 1.0),
        ];
        for (descr, data, expected) in cases {
            let path = write_bytes(&dir, "x.npy", &raw_npy(descr, "(1,)", data));
            assert_eq!(
                load_one(&path).unwrap(),
                array![expected].into_dyn(),
                "{descr}"
            );
        }
        let bad_bool = write_bytes(&dir, "b.npy", &raw_npy("|b1", "(1,)", &[7]));
        let error = load_one(&bad_bool).unwrap_err().to_string();
        assert!(error.contains("not 0 or 1"), "{error}");
        let half = write_bytes(&dir, "h.npy", &raw_npy("<f2", "(1,)", &[0, 0]));
        assert!(matches!(
            load_one(&half).unwrap_err(),
            InputError::UnsupportedDtype { dtype, .. } if dtype == "<f2 (float of unsupported width)"
        ));
    }

    #[test]
    fn more_than_two_dimensions_is_an_error() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("X.npy");
        write_npy(&path, &ArrayD::<f64>::zeros(IxDyn(&[2, 2, 2]))).unwrap();
        assert_eq!(
            load_one(&path).unwrap_err().to_string(),
            format!(
                "{} has 3 dimensions; jacscope handles scalars, vectors and matrices",
                path.display()
            )
        );
    }

    #[test]
    fn non_finite_entries_are_reported_at_the_first_row_major_index() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("x.npy");
        let mut value = Array2::<f64>::zeros((3, 3));
        value[[1, 0]] = f64::NAN;
        value[[0, 2]] = f64::NEG_INFINITY;
        // Stored in Fortran order, [1, 0] comes before [0, 2] in memory but not row-major.
        write_npy(&path, &value.t().to_owned().reversed_axes()).unwrap();
        let error = load_one(&path).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("X ({}) contains -inf at index [0, 2]", path.display())
        );
        value[[0, 2]] = 0.0;
        write_npy(&path, &value).unwrap();
        let error = load_one(&path).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("X ({}) contains NaN at index [1, 0]", path.display())
        );
    }

    #[test]
    fn naming_a_non_variable_is_an_error() {
        let error =
            load_arrays(&[named("Q", Path::new("q.npy"))], &["X", "W"], u64::MAX).unwrap_err();
        assert_eq!(
            error.to_string(),
            "-l Q=q.npy: Q is not a variable of the expression (its variables: X, W)"
        );
    }
}
