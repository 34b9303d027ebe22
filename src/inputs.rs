//! The numbers an expression is evaluated at: arrays loaded from `.npy`/`.npz` files,
//! and seeded standard-normal values for every variable that was not loaded.
//!
//! Loading validates everything a user can get wrong (missing or corrupt files,
//! unsupported dtypes, more than two dimensions, NaN/inf entries, names that are not
//! variables of the expression, shapes that contradict `-s`) and reports it as one
//! [`InputError`] naming the file and the variable.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndarray::{ArrayD, Dimension, IxDyn, OwnedRepr};
use ndarray_npy::{NpzReader, ReadNpyError, ReadNpyExt, ReadNpzError, ReadableElement};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

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
                let array = read_array(&mut NpyFile(path), &origin, ".npy")?;
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
                    let mut source = NpzMember {
                        npz: &mut npz,
                        name: &member,
                    };
                    let array = read_array(&mut source, &origin, ".npz")?;
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

/// Somewhere an array of any supported element type can be read from.
trait ArraySource {
    /// Reads the array with element type `T`; fails with `WrongDescriptor` if the
    /// stored dtype is not `T`.
    fn read<T: ReadableElement>(&mut self) -> Result<ArrayD<T>, ReadError>;
}

/// Why reading one array failed.
enum ReadError {
    /// The file could not be opened.
    Open(InputError),
    /// The stored dtype is not the one asked for (carries the stored dtype).
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

/// A `.npy` file on disk.
struct NpyFile<'a>(&'a Path);

impl ArraySource for NpyFile<'_> {
    fn read<T: ReadableElement>(&mut self) -> Result<ArrayD<T>, ReadError> {
        let file = open(self.0).map_err(ReadError::Open)?;
        Ok(ArrayD::<T>::read_npy(BufReader::new(file))?)
    }
}

/// One array inside an open `.npz` archive.
struct NpzMember<'a, R: io::Read + io::Seek> {
    npz: &'a mut NpzReader<R>,
    name: &'a str,
}

impl<R: io::Read + io::Seek> ArraySource for NpzMember<'_, R> {
    fn read<T: ReadableElement>(&mut self) -> Result<ArrayD<T>, ReadError> {
        match self.npz.by_name::<OwnedRepr<T>, IxDyn>(self.name) {
            Ok(array) => Ok(array),
            Err(ReadNpzError::Npy(e)) => Err(e.into()),
            Err(ReadNpzError::Zip(e)) => Err(ReadError::Invalid(e.to_string())),
        }
    }
}

/// An element type jacscope accepts, with its conversion to `f64`.
trait Element: ReadableElement + Copy {
    /// The value as `f64` (integers beyond 2⁵³ are rounded).
    fn to_f64(self) -> f64;
}

macro_rules! numeric_element {
    ($($t:ty),*) => {
        $(impl Element for $t {
            fn to_f64(self) -> f64 {
                self as f64
            }
        })*
    };
}
numeric_element!(f64, f32, i8, i16, i32, i64, u8, u16, u32, u64);

impl Element for bool {
    fn to_f64(self) -> f64 {
        if self { 1.0 } else { 0.0 }
    }
}

/// Reads as `T` and converts to `f64`.
fn read_as<T: Element, S: ArraySource>(source: &mut S) -> Result<ArrayD<f64>, ReadError> {
    source.read::<T>().map(|array| array.mapv(T::to_f64))
}

/// One way of reading an array: as one particular element type.
type ReadAttempt<S> = fn(&mut S) -> Result<ArrayD<f64>, ReadError>;

/// Reads an array of any supported dtype as `f64`, trying each element type in turn.
fn read_array<S: ArraySource>(
    source: &mut S,
    origin: &str,
    format: &'static str,
) -> Result<ArrayD<f64>, InputError> {
    let attempts: [ReadAttempt<S>; 11] = [
        read_as::<f64, S>,
        read_as::<f32, S>,
        read_as::<i64, S>,
        read_as::<i32, S>,
        read_as::<i16, S>,
        read_as::<i8, S>,
        read_as::<u64, S>,
        read_as::<u32, S>,
        read_as::<u16, S>,
        read_as::<u8, S>,
        read_as::<bool, S>,
    ];
    let mut result = Err(ReadError::WrongDescriptor(String::new()));
    for attempt in attempts {
        result = attempt(source);
        if !matches!(result, Err(ReadError::WrongDescriptor(_))) {
            break;
        }
    }
    result.map_err(|e| match e {
        ReadError::Open(e) => e,
        ReadError::WrongDescriptor(dtype) => InputError::UnsupportedDtype {
            origin: origin.to_string(),
            dtype: describe_dtype(&dtype),
        },
        ReadError::Invalid(reason) => InputError::Invalid {
            origin: origin.to_string(),
            format,
            reason,
        },
    })
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
