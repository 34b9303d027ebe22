//! Weights from `.safetensors` files, as a new user meets them: `jacscope inputs` lists the
//! tensors of a small model, `-l NAME=FILE.safetensors:TENSOR` and `-l FILE.safetensors`
//! load them, and every tensor jacscope cannot use is refused with one line and exit 2.
//!
//! The model, tests/fixtures/safetensors/model.safetensors, was written by the reference
//! implementation (the `safetensors` Python package) and its readable tensors converted to
//! float64 by NumPy (float16) and ml_dtypes (bfloat16) into expected.npz, both by
//! scripts/make_safetensors_fixture.py: the independent witness of every value here.

use std::fs::File;

use ndarray::{Array2, ArrayD, Ix2};
use ndarray_npy::NpzReader;
use tempfile::TempDir;

#[path = "common/files.rs"]
mod files;
#[path = "common/run.rs"]
mod run;
use run::{refused, succeeds};

const MODEL: &str = "tests/fixtures/safetensors/model.safetensors";

/// A tensor of the model as float64, converted by NumPy / ml_dtypes (see the module doc).
fn expected(tensor: &str) -> ArrayD<f64> {
    let file = File::open("tests/fixtures/safetensors/expected.npz").unwrap();
    let mut npz = NpzReader::new(file).unwrap();
    npz.by_name(&tensor.replace('.', "_")).unwrap()
}

/// J[0, :, 0, :] of ∂(X @ W.T)/∂X with W loaded by `-l load`: W itself, as jacscope read it
/// (through a .npy file: a JSON parser may round the last bit).
fn loaded_weight(load: &str) -> Array2<f64> {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("slice.npy");
    succeeds(&[
        "slice",
        "X @ W.T",
        "-l",
        load,
        "-s",
        "X=8x16",
        "--axes",
        "j,l",
        "--fix",
        "i=0,k=0",
        "--format",
        "npy",
        "-o",
        path.to_str().unwrap(),
    ]);
    ndarray_npy::read_npy(&path).unwrap()
}

/// The lines of `text` with each run of spaces made one, trimmed.
fn rows(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn f16_and_bf16_weights_load_with_the_values_numpy_gives() {
    for tensor in ["proj.weight", "gate.weight"] {
        let witness = expected(tensor).into_dimensionality::<Ix2>().unwrap();
        // Both conversions are exact, so the values must be equal, not merely close.
        assert_eq!(
            loaded_weight(&format!("W={MODEL}:{tensor}")),
            witness,
            "{tensor}"
        );
    }
}

#[test]
fn stats_uses_the_loaded_weights() {
    let run = succeeds(&[
        "stats",
        "X @ W.T",
        "-l",
        &format!("W={MODEL}:proj.weight"),
        "-s",
        "X=8x16",
        "--json",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    // ∂Y[i,j]/∂X[k,l] = δ(i,k)·W[j,l]: 8 copies of W's nonzero entries, and proj.weight
    // has exact zeros (random weights would have none).
    let weight_nonzeros = expected("proj.weight")
        .iter()
        .filter(|&&w| w != 0.0)
        .count();
    assert!(weight_nonzeros < 96, "the fixture's weight has zeros");
    assert_eq!(doc["nonzeros"], 8 * weight_nonzeros);
    assert_eq!(doc["shape"], serde_json::json!([8, 6, 8, 16]));
}

#[test]
fn a_whole_file_loads_the_tensors_named_like_variables() {
    // W (F32) and b (F16) are variables of the expression; the model's other tensors are
    // ignored, even those jacscope cannot read. X comes from a .npy file.
    let dir = TempDir::new().unwrap();
    let x = Array2::from_shape_fn((8, 16), |(i, l)| (i as f64 - 3.5) * 0.25 + l as f64 / 16.0);
    let x_path = dir.path().join("x.npy");
    ndarray_npy::write_npy(&x_path, &x).unwrap();
    let y_path = dir.path().join("y.npy");
    let x_load = format!("X={}", x_path.display());
    succeeds(&[
        "eval",
        "X @ W.T + b",
        "-l",
        MODEL,
        "-l",
        &x_load,
        "-o",
        y_path.to_str().unwrap(),
    ]);
    let y: Array2<f64> = ndarray_npy::read_npy(&y_path).unwrap();
    // The witness: X Wᵀ + b by ndarray, with W and b as NumPy converted them.
    let w = expected("W").into_dimensionality::<Ix2>().unwrap();
    let b = expected("b").into_dimensionality::<ndarray::Ix1>().unwrap();
    let witness = x.dot(&w.t()) + &b;
    assert_eq!(y.dim(), (8, 6));
    for (got, want) in y.iter().zip(&witness) {
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
            "{got} vs {want}"
        );
    }
    assert_eq!(loaded_weight(MODEL), w);
}

#[test]
fn a_path_with_colons_and_a_tensor_name_with_dots_split_at_the_extension() {
    let dir = TempDir::new().unwrap();
    let folder = dir.path().join("run:1=a");
    std::fs::create_dir(&folder).unwrap();
    let copy = folder.join("model.safetensors");
    std::fs::copy(MODEL, &copy).unwrap();
    let load = format!("W={}:proj.weight", copy.display());
    assert_eq!(
        loaded_weight(&load),
        expected("proj.weight")
            .into_dimensionality::<Ix2>()
            .unwrap()
    );
}

/// The stats of `X @ W.T` with W loaded by `-l load` must be refused with one line holding
/// every one of `needles`.
fn refuses_weight(load: &str, needles: &[&str]) {
    let message = refused(&["stats", "X @ W.T", "-l", load, "-s", "X=8x16"], needles);
    assert_eq!(message.lines().count(), 1, "{message}");
}

#[test]
fn a_mistyped_tensor_name_gets_the_closest_names() {
    refuses_weight(
        &format!("W={MODEL}:proj.weigth"),
        &[
            "has no tensor named proj.weigth",
            "the closest of its 12 names: proj.weight, proj.bias,",
            "jacscope inputs tests/fixtures/safetensors/model.safetensors lists them all",
        ],
    );
}

#[test]
fn tensors_jacscope_cannot_use_are_refused_with_one_line() {
    refuses_weight(
        &format!("W={MODEL}:mask"),
        &[
            "model.safetensors:mask has unsupported dtype BOOL; jacscope reads F64, F32, F16, BF16 and integer tensors",
        ],
    );
    refuses_weight(
        &format!("W={MODEL}:scale.fp8"),
        &["model.safetensors:scale.fp8 has unsupported dtype F8_E4M3"],
    );
    refuses_weight(
        &format!("W={MODEL}:overflow.weight"),
        &[
            "W (tests/fixtures/safetensors/model.safetensors:overflow.weight) contains inf at index [1, 0]",
        ],
    );
    refuses_weight(
        &format!("W={MODEL}:conv.weight"),
        &["model.safetensors:conv.weight has 3 dimensions"],
    );
    refuses_weight(
        &format!("W={MODEL}"),
        &["name the tensor: -l W=tests/fixtures/safetensors/model.safetensors:TENSOR"],
    );
    refuses_weight(
        "W=missing.safetensors:w",
        &["missing.safetensors: no such file"],
    );
}

/// A safetensors file whose header declares one F32 tensor `w` of `shape`, its data a
/// hole in a sparse file: as large as declared on paper, nothing on disk.
fn sparse_model(dir: &TempDir, shape: [u64; 2]) -> std::path::PathBuf {
    let bytes = shape[0] * shape[1] * 4;
    let mut header = format!(
        r#"{{"w":{{"dtype":"F32","shape":[{},{}],"data_offsets":[0,{bytes}]}}}}"#,
        shape[0], shape[1]
    );
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let path = dir.path().join("huge.safetensors");
    let mut contents = (header.len() as u64).to_le_bytes().to_vec();
    contents.extend(header.as_bytes());
    std::fs::write(&path, &contents).unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(contents.len() as u64 + bytes).unwrap();
    path
}

#[test]
fn the_memory_guard_refuses_a_huge_tensor_before_reading_its_data() {
    let dir = TempDir::new().unwrap();
    // 65536×65536 F32: 16 GiB in the file, 32 GiB as f64. Reading the data would take
    // minutes and more memory than the machine has; the header alone refuses it.
    let path = sparse_model(&dir, [65536, 65536]);
    let load = format!("W={}:w", path.display());
    let message = refused(
        &[
            "stats",
            "X @ W.T",
            "-l",
            &load,
            "-s",
            "X=2x65536",
            "--max-memory",
            "1G",
        ],
        &[
            "huge.safetensors:w holds a 65536×65536 array of F32, which would need about 32.0 GiB, more than the memory limit of 1.0 GiB",
        ],
    );
    assert_eq!(message.lines().count(), 1, "{message}");
    // The listing reads the header alone too.
    let run = succeeds(&["inputs", path.to_str().unwrap()]);
    assert!(
        rows(&run.stdout).contains(&"w F32 65536×65536 16.0 GiB yes".to_string()),
        "{}",
        run.stdout
    );
}

#[test]
fn inputs_lists_every_tensor_with_why_it_is_not_usable() {
    let run = succeeds(&["inputs", MODEL]);
    let lines = rows(&run.stdout);
    assert_eq!(lines[0], format!("{MODEL} (safetensors): 12 arrays"));
    for row in [
        "proj.weight F16 6×16 192 bytes yes",
        "gate.weight BF16 6×16 192 bytes yes",
        "conv.weight F32 2×2×2 32 bytes no: 3 dimensions (jacscope handles at most 2)",
        "scale.fp8 F8_E4M3 2×2 4 bytes no: jacscope does not read F8_E4M3",
        "mask BOOL 4 4 bytes no: jacscope does not read BOOL",
    ] {
        assert!(
            lines.contains(&row.to_string()),
            "no row {row:?} in:\n{}",
            run.stdout
        );
    }
    assert!(
        run.stdout
            .contains(&format!("load with -l NAME={MODEL}:TENSOR (one tensor)"))
    );
}

#[test]
fn inputs_as_json_matches_the_witness() {
    let npz = "tests/fixtures/safetensors/expected.npz";
    let run = succeeds(&["inputs", MODEL, npz, "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["format"], "safetensors");
    let arrays = files[0]["arrays"].as_array().unwrap();
    assert_eq!(arrays.len(), 12);
    let usable: Vec<&str> = arrays
        .iter()
        .filter(|a| a["usable"] == true)
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    // Every readable tensor of the witness is listed as usable with its shape, and the
    // overflow weight too (its infinity is in the data, which a listing does not read).
    let mut reader = NpzReader::new(File::open(npz).unwrap()).unwrap();
    let witness_names = reader.names().unwrap();
    assert_eq!(usable.len(), witness_names.len() + 1, "{usable:?}");
    for array in arrays.iter().filter(|a| a["usable"] == true) {
        let name = array["name"].as_str().unwrap();
        if name == "overflow.weight" {
            continue;
        }
        let value: ArrayD<f64> = reader.by_name(&name.replace('.', "_")).unwrap();
        assert_eq!(array["shape"], serde_json::json!(value.shape()), "{name}");
        assert_eq!(array["entries"], value.len(), "{name}");
        assert!(array["why_not"].is_null());
    }
    let mask = arrays.iter().find(|a| a["name"] == "mask").unwrap();
    assert_eq!(mask["why_not"], "jacscope does not read BOOL");
    assert_eq!(files[1]["format"], "npz");
    assert_eq!(files[1]["arrays"].as_array().unwrap().len(), 8);
    assert_eq!(files[1]["arrays"][0]["dtype"], "<f8");
}

#[test]
fn inputs_refuses_what_it_cannot_list() {
    refused(
        &["inputs", "missing.safetensors"],
        &["missing.safetensors: no such file"],
    );
    let dir = TempDir::new().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    refused(
        &["inputs", text.to_str().unwrap()],
        &["jacscope reads .npy, .npz and .safetensors files"],
    );
    let broken = dir.path().join("broken.safetensors");
    std::fs::write(&broken, b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}      ").unwrap();
    refused(
        &["inputs", broken.to_str().unwrap()],
        &["is not a valid .safetensors file"],
    );
}

#[test]
fn inputs_tells_why_npz_and_npy_arrays_are_not_usable() {
    let dir = TempDir::new().unwrap();
    let npz = dir.path().join("params.npz");
    let mut writer = ndarray_npy::NpzWriter::new(File::create(&npz).unwrap());
    writer
        .add_array("W", &Array2::<f32>::zeros((2, 3)))
        .unwrap();
    writer
        .add_array("layer.0", &Array2::<f64>::zeros((2, 2)))
        .unwrap();
    writer.finish().unwrap();
    let complex = files::write_file(&dir, "c.npy", &files::raw_npy("'<c16'", "(2,)", &[0; 32]));
    let run = succeeds(&["inputs", npz.to_str().unwrap(), complex.to_str().unwrap()]);
    let lines = rows(&run.stdout);
    for row in [
        "W <f4 2×3 24 bytes yes",
        "layer.0 <f8 2×2 32 bytes no: its name is not a variable name, and -l FILE.npz loads members by name",
        "- <c16 (complex) 2 32 bytes no: jacscope does not read <c16 (complex)",
    ] {
        assert!(
            lines.contains(&row.to_string()),
            "no row {row:?} in:\n{}",
            run.stdout
        );
    }
    // A header that does not match the data after it is an error, as when loading.
    let truncated = files::write_file(&dir, "t.npy", &files::raw_npy("'<f8'", "(4,)", &[0; 20]));
    refused(
        &["inputs", truncated.to_str().unwrap()],
        &["is not a valid .npy file: it ends before all of the data (truncated?)"],
    );
}
