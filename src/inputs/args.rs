//! The command-line side of the inputs: `-l` arguments, and the `-s` shapes combined with
//! the shapes of the loaded arrays.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ndarray::ArrayD;

use super::InputError;
use crate::expr::Shape;

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
    /// `NAME=FILE.safetensors:TENSOR`: one tensor of a safetensors file, by its name, is
    /// the value of variable NAME.
    Tensor {
        /// The variable.
        name: String,
        /// The `.safetensors` file.
        path: PathBuf,
        /// The tensor's name in the file (it may contain dots and colons).
        tensor: String,
    },
    /// `FILE.safetensors`: every tensor of the file whose name is a variable.
    Safetensors {
        /// The `.safetensors` file.
        path: PathBuf,
    },
}

/// Parses a `-l` argument: `NAME=FILE.npy`, `FILE.npz`, `NAME=FILE.safetensors:TENSOR`
/// or `FILE.safetensors`.
///
/// In `NAME=FILE.safetensors:TENSOR` the file is everything up to the first
/// `.safetensors:` (any case), the tensor everything after it, so both the path and the
/// tensor name may contain colons (`C:\m.safetensors:a:b` is tensor `a:b` of
/// `C:\m.safetensors`) and the tensor name dots.
pub fn parse_load_arg(text: &str) -> Result<LoadArg, InputError> {
    const EXPECTED: &str =
        "expected NAME=FILE.npy, FILE.npz, NAME=FILE.safetensors:TENSOR or FILE.safetensors";
    let bad = |reason: &str| InputError::BadLoadArg {
        text: text.to_string(),
        reason: reason.to_string(),
    };
    let lower = text.to_ascii_lowercase();
    let has_suffix = |path: &str, suffix: &str| path.to_ascii_lowercase().ends_with(suffix);
    if let Some((name, path)) = text.split_once('=')
        && is_identifier(name)
    {
        if path.is_empty() {
            return Err(bad("missing file name after ="));
        }
        if has_suffix(path, ".npz") {
            return Err(bad(&format!(
                "a .npz archive is loaded without a name: -l {path}"
            )));
        }
        if has_suffix(path, ".safetensors") {
            return Err(bad(&format!(
                "name the tensor: -l {name}={path}:TENSOR (jacscope inputs {path} lists them), or load the tensors named like variables with -l {path}"
            )));
        }
        // Byte offsets in `lower` are those in `text`: lowercasing keeps ASCII widths.
        let marker = ".safetensors:";
        if let Some(at) = lower[name.len() + 1..].find(marker) {
            let split = name.len() + 1 + at + marker.len() - 1;
            let tensor = &text[split + 1..];
            if tensor.is_empty() {
                return Err(bad("missing tensor name after the colon"));
            }
            return Ok(LoadArg::Tensor {
                name: name.to_string(),
                path: PathBuf::from(&text[name.len() + 1..split]),
                tensor: tensor.to_string(),
            });
        }
        return Ok(LoadArg::Named {
            name: name.to_string(),
            path: PathBuf::from(path),
        });
    }
    if has_suffix(text, ".npz") {
        Ok(LoadArg::Archive {
            path: PathBuf::from(text),
        })
    } else if has_suffix(text, ".safetensors") {
        Ok(LoadArg::Safetensors {
            path: PathBuf::from(text),
        })
    } else {
        Err(bad(EXPECTED))
    }
}

/// Whether `text` is a variable name of the expression language: `[A-Za-z][A-Za-z0-9_]*`.
pub(super) fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
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

#[cfg(test)]
mod tests {
    use ndarray::IxDyn;

    use super::*;

    #[test]
    fn load_args_are_name_equals_npy_or_an_npz() {
        assert_eq!(
            parse_load_arg("W1=weights/w.npy").unwrap(),
            LoadArg::Named {
                name: "W1".to_string(),
                path: PathBuf::from("weights/w.npy"),
            }
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
            (
                "x.npy",
                "-l x.npy: expected NAME=FILE.npy, FILE.npz, NAME=FILE.safetensors:TENSOR or FILE.safetensors",
            ),
            ("X=", "-l X=: missing file name after ="),
            (
                "X=p.npz",
                "-l X=p.npz: a .npz archive is loaded without a name: -l p.npz",
            ),
            (
                "1X=x.npy",
                "-l 1X=x.npy: expected NAME=FILE.npy, FILE.npz, NAME=FILE.safetensors:TENSOR or FILE.safetensors",
            ),
        ] {
            assert_eq!(parse_load_arg(text).unwrap_err().to_string(), message);
        }
    }

    #[test]
    fn safetensors_load_args_split_at_the_extension() {
        let tensor = |name: &str, path: &str, tensor: &str| LoadArg::Tensor {
            name: name.to_string(),
            path: PathBuf::from(path),
            tensor: tensor.to_string(),
        };
        assert_eq!(
            parse_load_arg("W=model.safetensors:model.layers.0.self_attn.q_proj.weight").unwrap(),
            tensor(
                "W",
                "model.safetensors",
                "model.layers.0.self_attn.q_proj.weight"
            )
        );
        // Colons in the path and in the tensor name, `=` in the path, any case.
        assert_eq!(
            parse_load_arg(r"Q=C:\runs\a=1\M.SafeTensors:blocks:0.w").unwrap(),
            tensor("Q", r"C:\runs\a=1\M.SafeTensors", "blocks:0.w")
        );
        assert_eq!(
            parse_load_arg("./run=3/model.safetensors").unwrap(),
            LoadArg::Safetensors {
                path: PathBuf::from("./run=3/model.safetensors")
            }
        );
        for (text, message) in [
            (
                "W=m.safetensors:",
                "-l W=m.safetensors:: missing tensor name after the colon",
            ),
            (
                "W=m.safetensors",
                "-l W=m.safetensors: name the tensor: -l W=m.safetensors:TENSOR (jacscope inputs m.safetensors lists them), or load the tensors named like variables with -l m.safetensors",
            ),
        ] {
            assert_eq!(parse_load_arg(text).unwrap_err().to_string(), message);
        }
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
}
