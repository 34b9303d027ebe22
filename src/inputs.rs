//! The numbers an expression is evaluated at: arrays loaded from `.npy`/`.npz` files,
//! and seeded standard-normal values for every variable that was not loaded.
//!
//! Loading validates everything a user can get wrong (missing or corrupt files,
//! unsupported dtypes, more than two dimensions, NaN/inf entries, names that are not
//! variables of the expression, shapes that contradict `-s`) and reports it as one
//! [`InputError`] naming the file and the variable.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndarray::{ArrayD, Dimension, IxDyn, OwnedRepr};
use ndarray_npy::{
    NpzReader, ReadDataError, ReadNpyError, ReadNpyExt, ReadNpzError, ReadableElement,
};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::expr::diagnostic::escape_char;
use crate::expr::{Graph, Op, Shape};

/// An error in the inputs: a `-l` argument, a file, its contents, or a shape.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    /// A `-l` argument that is neither `NAME=FILE.npy` nor `FILE.npz`.
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
    /// The file is not a valid `.npy` or `.npz` file (truncated, corrupt, not NumPy).
    #[error("{origin} is not a valid {format} file: {reason}")]
    Invalid {
        /// The file, or `archive.npz:member` for an array inside an archive.
        origin: String,
        /// `.npy` or `.npz`.
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

/// One `-l` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadArg {
    /// `NAME=FILE.npy`: the array in FILE is the value of variable NAME.
    Named {
        /// The variable.
        name: String,
        /// The `.npy` file.
        path: PathBuf,
    },
    /// `FILE.npz`: every array in the archive whose name is a variable.
    Archive {
        /// The `.npz` file.
        path: PathBuf,
    },
}

/// Parses a `-l` argument: `NAME=FILE.npy` or `FILE.npz`.
pub fn parse_load_arg(text: &str) -> Result<LoadArg, InputError> {
    let bad = |reason: &str| InputError::BadLoadArg {
        text: text.to_string(),
        reason: reason.to_string(),
    };
    let is_npz = |path: &str| path.to_ascii_lowercase().ends_with(".npz");
    if let Some((name, path)) = text.split_once('=')
        && is_identifier(name)
    {
        if path.is_empty() {
            return Err(bad("missing file name after ="));
        }
        if is_npz(path) {
            return Err(bad(&format!(
                "a .npz archive is loaded without a name: -l {path}"
            )));
        }
        return Ok(LoadArg::Named {
            name: name.to_string(),
            path: PathBuf::from(path),
        });
    }
    if is_npz(text) {
        Ok(LoadArg::Archive {
            path: PathBuf::from(text),
        })
    } else {
        Err(bad("expected NAME=FILE.npy or FILE.npz"))
    }
}

/// Whether `text` is a variable name of the expression language: `[A-Za-z][A-Za-z0-9_]*`.
fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Loads the arrays named by the `-l` arguments, for an expression with `variables`.
///
/// From an archive only arrays whose name (with or without a `.npy` suffix) is one of
/// `variables` are read; the others are ignored, whatever their dtype. Arguments are
/// applied in order, so a later one overrides an earlier one for the same variable.
/// Every array is converted to `f64` in standard (row-major) layout and checked: at most
/// two dimensions, no NaN or infinity.
pub fn load_arrays(
    loads: &[LoadArg],
    variables: &[&str],
) -> Result<BTreeMap<String, ArrayD<f64>>, InputError> {
    let mut arrays = BTreeMap::new();
    for load in loads {
        match load {
            LoadArg::Named { name, path } => {
                if !variables.contains(&name.as_str()) {
                    return Err(InputError::UnknownVariable {
                        name: name.clone(),
                        path: path.clone(),
                        variables: variables.join(", "),
                    });
                }
                let origin = path.display().to_string();
                let array = read_array(read_npy_file(path), &origin, ".npy")?;
                arrays.insert(name.clone(), checked(name, &origin, array)?);
            }
            LoadArg::Archive { path } => {
                let file = open(path)?;
                let mut npz = NpzReader::new(BufReader::new(file))
                    .map_err(|e| invalid_npz(&path.display().to_string(), e))?;
                let members = npz
                    .names()
                    .map_err(|e| invalid_npz(&path.display().to_string(), e))?;
                for member in members {
                    if !variables.contains(&member.as_str()) {
                        continue;
                    }
                    let origin = format!("{}:{member}", path.display());
                    let read = read_npz_member(&mut npz, &member);
                    let array = read_array(read, &origin, ".npz")?;
                    arrays.insert(member.clone(), checked(&member, &origin, array)?);
                }
            }
        }
    }
    Ok(arrays)
}

/// Opens a file, telling a missing file apart from other I/O errors.
fn open(path: &Path) -> Result<File, InputError> {
    File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => InputError::NotFound {
            path: path.to_path_buf(),
        },
        _ => InputError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        },
    })
}

/// The error for an archive that is not a valid zip/`.npz` file.
fn invalid_npz(origin: &str, e: ReadNpzError) -> InputError {
    InputError::Invalid {
        origin: origin.to_string(),
        format: ".npz",
        reason: e.to_string(),
    }
}

/// Why reading one array failed.
enum ReadError {
    /// The file could not be opened.
    Open(InputError),
    /// The stored dtype is not a real number type (carries the stored dtype).
    WrongDescriptor(String),
    /// The file is not a valid `.npy`/`.npz` file.
    Invalid(String),
}

impl From<ReadNpyError> for ReadError {
    fn from(e: ReadNpyError) -> Self {
        match e {
            ReadNpyError::WrongDescriptor(desc) => ReadError::WrongDescriptor(
                desc.as_string()
                    .cloned()
                    .unwrap_or_else(|| desc.to_string()),
            ),
            ReadNpyError::MissingData => {
                ReadError::Invalid("it ends before all of the data (truncated?)".to_string())
            }
            ReadNpyError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                ReadError::Invalid("it ends inside the header (truncated?)".to_string())
            }
            other => ReadError::Invalid(other.to_string()),
        }
    }
}

/// Reads the `.npy` file at `path`.
fn read_npy_file(path: &Path) -> Result<ArrayD<Real>, ReadError> {
    let mut file = open(path).map_err(ReadError::Open)?;
    let io_error = |e: io::Error| {
        ReadError::Open(InputError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    };
    if let Some(reason) = header_overrun(&mut file).map_err(io_error)? {
        return Err(ReadError::Invalid(reason));
    }
    Ok(ArrayD::<Real>::read_npy(BufReader::new(file))?)
}

/// Why a format 2 or 3 `.npy` file cannot be read: its 4-byte header length runs past the
/// end of the file (ndarray-npy would allocate that length, up to 4 GiB, to read the
/// header); `None` if that is not the case. Leaves the file at its start.
fn header_overrun(file: &mut File) -> io::Result<Option<String>> {
    let mut prefix = Vec::with_capacity(12);
    (&mut *file).take(12).read_to_end(&mut prefix)?;
    file.seek(io::SeekFrom::Start(0))?;
    let long_header =
        prefix.len() == 12 && prefix.starts_with(b"\x93NUMPY") && matches!(prefix[6], 2 | 3);
    if !long_header {
        return Ok(None);
    }
    let header_len = u32::from_le_bytes([prefix[8], prefix[9], prefix[10], prefix[11]]);
    let file_len = file.metadata()?.len();
    Ok((12 + u64::from(header_len) > file_len).then(|| {
        format!(
            "its header length is {header_len} bytes but the whole file is {file_len} (truncated?)"
        )
    }))
}

/// Reads the array `name` of an open `.npz` archive.
fn read_npz_member<R: io::Read + io::Seek>(
    npz: &mut NpzReader<R>,
    name: &str,
) -> Result<ArrayD<Real>, ReadError> {
    match npz.by_name::<OwnedRepr<Real>, IxDyn>(name) {
        Ok(array) => Ok(array),
        Err(ReadNpzError::Npy(e)) => Err(e.into()),
        Err(ReadNpzError::Zip(e)) => Err(ReadError::Invalid(e.to_string())),
    }
}

/// An entry of an array of any real dtype, converted to `f64` as it is read.
///
/// Reading goes through this one element type rather than through ndarray-npy's own
/// (`f64`, `i32`, …) because those allocate the whole array the header declares before
/// reading any data: a 100-byte file claiming 10¹⁵ entries would abort the process.
/// This one reads only the bytes that are there, then checks that they are all there.
#[derive(Debug, Clone, Copy)]
struct Real(f64);

impl ReadableElement for Real {
    fn read_to_end_exact_vec<R: io::Read>(
        mut reader: R,
        type_desc: &py_literal::Value,
        len: usize,
    ) -> Result<Vec<Real>, ReadDataError> {
        let dtype = type_desc
            .as_string()
            .and_then(|descr| RealDtype::parse(descr))
            .ok_or_else(|| ReadDataError::WrongDescriptor(type_desc.clone()))?;
        // ndarray-npy has checked that `len` entries of 8 bytes fit in memory addresses.
        let byte_len = len * dtype.width;
        let mut bytes = Vec::new();
        (&mut reader)
            .take(byte_len as u64)
            .read_to_end(&mut bytes)?;
        if bytes.len() < byte_len {
            return Err(ReadDataError::MissingData);
        }
        let extra = io::copy(&mut reader, &mut io::sink())?;
        if extra > 0 {
            return Err(ReadDataError::ExtraBytes(
                usize::try_from(extra).unwrap_or(usize::MAX),
            ));
        }
        bytes
            .chunks_exact(dtype.width)
            .map(|entry| dtype.decode(entry).map(Real))
            .collect()
    }
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
    fn decode(self, entry: &[u8]) -> Result<f64, ReadDataError> {
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
                    return Err(ReadDataError::ParseData(message.into()));
                }
            },
        })
    }
}

/// Reads an array of any supported dtype as `f64`.
fn read_array(
    read: Result<ArrayD<Real>, ReadError>,
    origin: &str,
    format: &'static str,
) -> Result<ArrayD<f64>, InputError> {
    read.map(|array| array.mapv(|Real(x)| x))
        .map_err(|e| match e {
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
        })
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

/// Validates a freshly read array (rank ≤ 2, finite) and puts it in standard layout.
fn checked(name: &str, origin: &str, array: ArrayD<f64>) -> Result<ArrayD<f64>, InputError> {
    if array.ndim() > 2 {
        return Err(InputError::TooManyDimensions {
            origin: origin.to_string(),
            ndim: array.ndim(),
        });
    }
    if let Some(index) = first_non_finite(&array) {
        let value = array[IxDyn(&index)];
        return Err(InputError::NonFinite {
            name: name.to_string(),
            origin: origin.to_string(),
            what: value.to_string(),
            index,
        });
    }
    Ok(standard_layout(array))
}

/// The first index (in row-major order) of a NaN or infinite entry, if there is one.
pub fn first_non_finite(array: &ArrayD<f64>) -> Option<Vec<usize>> {
    array
        .indexed_iter()
        .find(|(_, x)| !x.is_finite())
        .map(|(index, _)| index.slice().to_vec())
}

/// The array in standard (row-major, contiguous) layout, copying only if needed.
pub fn standard_layout(array: ArrayD<f64>) -> ArrayD<f64> {
    if array.is_standard_layout() {
        array
    } else {
        array.as_standard_layout().into_owned()
    }
}

/// Combines the `-s` shapes with the shapes of the loaded arrays.
///
/// `explicit` maps names to shapes given with `-s`. A name in both must have the same
/// shape in both, otherwise [`InputError::ShapeConflict`] names the two shapes.
pub fn merge_shapes(
    explicit: &BTreeMap<String, Shape>,
    loaded: &BTreeMap<String, ArrayD<f64>>,
) -> Result<BTreeMap<String, Shape>, InputError> {
    let mut shapes = explicit.clone();
    for (name, array) in loaded {
        let shape = Shape(array.shape().to_vec());
        match explicit.get(name) {
            Some(given) if *given != shape => {
                return Err(InputError::ShapeConflict {
                    name: name.clone(),
                    explicit: given.to_ascii(),
                    loaded: shape,
                });
            }
            _ => {
                shapes.insert(name.clone(), shape);
            }
        }
    }
    Ok(shapes)
}

/// Bytes needed to hold the value of every node of `graph` as `f64`, or `None` if that
/// overflows `u64`. Used to refuse expressions whose values would not fit in memory.
pub fn estimate_bytes(graph: &Graph) -> Option<u64> {
    graph.nodes.iter().try_fold(0u64, |total, node| {
        node.shape.numel()?.checked_mul(8)?.checked_add(total)
    })
}

/// The value of every input variable of a graph.
///
/// Values are shared (`Arc`), so cloning `Inputs` or perturbing one entry with
/// [`Inputs::with_value`] copies only the array that changes. Every array is in standard
/// (row-major) layout.
#[derive(Debug, Clone)]
pub struct Inputs {
    values: BTreeMap<String, Arc<ArrayD<f64>>>,
}

impl Inputs {
    /// The inputs of `graph`: the `loaded` arrays, and random values for the rest.
    ///
    /// **Random values (a user-facing contract; `--seed` reproduces them):** one
    /// `ChaCha8Rng::seed_from_u64(seed)` stream draws standard normal values
    /// (`rand_distr::StandardNormal`) for every variable that is not loaded. The
    /// variables are visited in ascending order of name, compared byte by byte (so
    /// uppercase before lowercase: `W`, `X`, `b`), and each is filled in row-major order.
    /// Loaded variables draw nothing, so loading a variable changes the random values of
    /// the variables that sort after it.
    ///
    /// Arrays in `loaded` that are not variables of `graph` are ignored; a loaded array
    /// whose shape differs from the graph's is an [`InputError::ShapeMismatch`].
    pub fn new(
        graph: &Graph,
        mut loaded: BTreeMap<String, ArrayD<f64>>,
        seed: u64,
    ) -> Result<Inputs, InputError> {
        let shapes: BTreeMap<&str, &Shape> = graph
            .nodes
            .iter()
            .filter_map(|node| match &node.op {
                Op::Input(name) => Some((name.as_str(), &node.shape)),
                _ => None,
            })
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut values = BTreeMap::new();
        for (name, shape) in shapes {
            let value = match loaded.remove(name) {
                Some(array) => {
                    let found = Shape(array.shape().to_vec());
                    if found != *shape {
                        return Err(InputError::ShapeMismatch {
                            name: name.to_string(),
                            expected: shape.clone(),
                            found,
                        });
                    }
                    standard_layout(array)
                }
                None => {
                    let numel = shape.dims().iter().product();
                    let draws: Vec<f64> = (0..numel).map(|_| rng.sample(StandardNormal)).collect();
                    ArrayD::from_shape_vec(IxDyn(shape.dims()), draws)
                        .expect("one draw per element")
                }
            };
            values.insert(name.to_string(), Arc::new(value));
        }
        Ok(Inputs { values })
    }

    /// The value of variable `name`.
    pub fn get(&self, name: &str) -> Option<&ArrayD<f64>> {
        self.values.get(name).map(|value| &**value)
    }

    /// The shared value of variable `name` (for evaluation without copying).
    pub(crate) fn shared(&self, name: &str) -> Option<&Arc<ArrayD<f64>>> {
        self.values.get(name)
    }

    /// A copy of these inputs with one entry changed: `name[index] = value`.
    ///
    /// Only the changed array is copied. `None` if `name` is not an input or `index`
    /// does not fit its shape.
    pub fn with_value(&self, name: &str, index: &[usize], value: f64) -> Option<Inputs> {
        let mut array = ArrayD::clone(self.values.get(name)?);
        *array.get_mut(IxDyn(index))? = value;
        let mut values = self.values.clone();
        values.insert(name.to_string(), Arc::new(array));
        Some(Inputs { values })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use ndarray::{Array2, ArrayD, IxDyn, arr0, array};
    use ndarray_npy::{NpzWriter, write_npy};
    use rand::{RngExt, SeedableRng};
    use tempfile::TempDir;

    use super::*;
    use crate::eval::testing::GraphBuilder;

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
        load_arrays(&[named("X", path)], &["X"]).map(|mut arrays| arrays.remove("X").unwrap())
    }

    #[test]
    fn load_args_are_name_equals_npy_or_an_npz() {
        assert_eq!(
            parse_load_arg("W1=weights/w.npy").unwrap(),
            named("W1", Path::new("weights/w.npy"))
        );
        assert_eq!(
            parse_load_arg("./run=3/params.npz").unwrap(),
            LoadArg::Archive {
                path: PathBuf::from("./run=3/params.npz")
            }
        );
        assert_eq!(
            parse_load_arg("params.NPZ").unwrap(),
            LoadArg::Archive {
                path: PathBuf::from("params.NPZ")
            }
        );
        for (text, message) in [
            ("x.npy", "-l x.npy: expected NAME=FILE.npy or FILE.npz"),
            ("X=", "-l X=: missing file name after ="),
            (
                "X=p.npz",
                "-l X=p.npz: a .npz archive is loaded without a name: -l p.npz",
            ),
            (
                "1X=x.npy",
                "-l 1X=x.npy: expected NAME=FILE.npy or FILE.npz",
            ),
        ] {
            assert_eq!(parse_load_arg(text).unwrap_err().to_string(), message);
        }
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
        let arrays = load_arrays(std::slice::from_ref(&archive), &["X", "W", "b"]).unwrap();
        assert_eq!(arrays.keys().collect::<Vec<_>>(), ["W", "b"]);
        assert_eq!(arrays["W"], array![[1.0, 2.0]].into_dyn());
        assert_eq!(arrays["b"], array![3.0].into_dyn());
        assert!(load_arrays(&[archive], &["Z"]).unwrap().is_empty());
    }

    #[test]
    fn a_later_load_overrides_an_earlier_one() {
        let dir = TempDir::new().unwrap();
        let (a, b) = (dir.path().join("a.npy"), dir.path().join("b.npy"));
        write_npy(&a, &array![1.0]).unwrap();
        write_npy(&b, &array![2.0]).unwrap();
        let arrays = load_arrays(&[named("X", &a), named("X", &b)], &["X"]).unwrap();
        assert_eq!(arrays["X"], array![2.0].into_dyn());
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
                "{} is not a valid .npy file: it ends before all of the data (truncated?)",
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
        let error = load_arrays(&[LoadArg::Archive { path: not_zip }], &["X"]).unwrap_err();
        assert!(
            matches!(error, InputError::Invalid { format: ".npz", .. }),
            "{error}"
        );
    }

    #[test]
    fn a_header_claiming_more_than_the_file_holds_is_truncated_not_allocated() {
        let dir = TempDir::new().unwrap();
        // 10¹⁵ doubles would be 8 PB: reading must fail on the missing data, not abort
        // trying to allocate the declared size.
        for descr in ["<f8", "|u1", "<i2"] {
            let bytes = raw_npy(descr, "(1000000000000000,)", &[0; 16]);
            let path = write_bytes(&dir, "huge.npy", &bytes);
            let error = load_one(&path).unwrap_err().to_string();
            assert!(
                error.ends_with("it ends before all of the data (truncated?)"),
                "{error}"
            );
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
        let extra = write_bytes(&dir, "extra.npy", &raw_npy("<f8", "(1,)", &[0; 9]));
        assert!(matches!(
            load_one(&extra).unwrap_err(),
            InputError::Invalid { format: ".npy", .. }
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
        assert_eq!(printable(&many_lines).lines().count(), PRINTABLE_LINES + 1);
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
        let error = load_arrays(&[named("Q", Path::new("q.npy"))], &["X", "W"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "-l Q=q.npy: Q is not a variable of the expression (its variables: X, W)"
        );
    }

    #[test]
    fn merged_shapes_are_the_union_and_conflicts_name_both() {
        let explicit = BTreeMap::from([
            ("X".to_string(), Shape(vec![2, 3])),
            ("b".to_string(), Shape(vec![3])),
        ]);
        let mut loaded = BTreeMap::from([
            ("X".to_string(), ArrayD::zeros(IxDyn(&[2, 3]))),
            ("W".to_string(), ArrayD::zeros(IxDyn(&[4, 3]))),
        ]);
        let merged = merge_shapes(&explicit, &loaded).unwrap();
        assert_eq!(merged.len(), 3);
        assert_eq!(merged["W"], Shape(vec![4, 3]));
        loaded.insert("b".to_string(), ArrayD::zeros(IxDyn(&[4])));
        assert_eq!(
            merge_shapes(&explicit, &loaded).unwrap_err().to_string(),
            "-s b=3 disagrees with the loaded b, which is 4"
        );
    }

    fn two_input_graph() -> Graph {
        let mut builder = GraphBuilder::new("X + W");
        builder.input("X", &[2, 2]);
        builder.input("W", &[3]);
        builder.build()
    }

    #[test]
    fn random_inputs_follow_the_documented_stream() {
        let graph = two_input_graph();
        let inputs = Inputs::new(&graph, BTreeMap::new(), 7).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let draws: Vec<f64> = (0..7).map(|_| rng.sample(StandardNormal)).collect();
        // W sorts before X: W takes the first three draws, X the next four, row-major.
        assert_eq!(inputs.get("W").unwrap().as_slice().unwrap(), &draws[..3]);
        assert_eq!(inputs.get("X").unwrap().as_slice().unwrap(), &draws[3..]);
        let again = Inputs::new(&graph, BTreeMap::new(), 7).unwrap();
        assert_eq!(again.get("X"), inputs.get("X"));
        let other_seed = Inputs::new(&graph, BTreeMap::new(), 8).unwrap();
        assert_ne!(other_seed.get("X"), inputs.get("X"));
    }

    #[test]
    fn loaded_variables_draw_nothing() {
        let graph = two_input_graph();
        let w = array![1.0, 2.0, 3.0].into_dyn();
        let loaded = BTreeMap::from([("W".to_string(), w.clone())]);
        let inputs = Inputs::new(&graph, loaded, 7).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let draws: Vec<f64> = (0..4).map(|_| rng.sample(StandardNormal)).collect();
        assert_eq!(inputs.get("W"), Some(&w));
        assert_eq!(inputs.get("X").unwrap().as_slice().unwrap(), &draws[..]);
    }

    #[test]
    fn loaded_arrays_must_have_the_graph_shape() {
        let loaded = BTreeMap::from([("W".to_string(), ArrayD::zeros(IxDyn(&[4])))]);
        let error = Inputs::new(&two_input_graph(), loaded, 0).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the loaded W is 4 but the expression needs 3"
        );
    }

    #[test]
    fn with_value_changes_one_entry_and_shares_the_rest() {
        let inputs = Inputs::new(&two_input_graph(), BTreeMap::new(), 0).unwrap();
        let changed = inputs.with_value("X", &[1, 0], 42.0).unwrap();
        assert_eq!(changed.get("X").unwrap()[[1, 0]], 42.0);
        assert_ne!(inputs.get("X").unwrap()[[1, 0]], 42.0);
        assert_eq!(
            changed.get("X").unwrap()[[0, 1]],
            inputs.get("X").unwrap()[[0, 1]]
        );
        assert!(std::ptr::eq(
            changed.get("W").unwrap(),
            inputs.get("W").unwrap()
        ));
        assert!(inputs.with_value("X", &[2, 0], 1.0).is_none());
        assert!(inputs.with_value("X", &[0], 1.0).is_none());
        assert!(inputs.with_value("Y", &[0, 0], 1.0).is_none());
    }

    #[test]
    fn estimated_bytes_count_every_node() {
        let mut builder = GraphBuilder::new("X @ W");
        let x = builder.input("X", &[64, 1024]);
        let w = builder.input("W", &[1024, 512]);
        builder.push(Op::MatMul(x, w), &[64, 512]);
        assert_eq!(
            estimate_bytes(&builder.build()),
            Some(8 * (64 * 1024 + 1024 * 512 + 64 * 512))
        );
        let mut huge = GraphBuilder::new("X");
        huge.input("X", &[usize::MAX, 2]);
        assert_eq!(estimate_bytes(&huge.build()), None);
    }
}
