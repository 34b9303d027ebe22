//! Shared by the `npy` and `npz` targets: writes the input to a scratch file and loads it.

use std::path::PathBuf;

use jacscope::inputs::{self, LoadArg};

/// The memory limit of the loads (1 GiB): a file that declares more is refused unread.
const FUZZ_MEMORY_LIMIT: u64 = 1 << 30;

/// Writes `data` to a per-process scratch file named `name` and loads it (as variable X,
/// or as an archive with variables X and W); a loaded array is at most 2-D and finite.
pub fn load(data: &[u8], name: &str, archive: bool) {
    let path: PathBuf =
        std::env::temp_dir().join(format!("jacscope-fuzz-{}-{name}", std::process::id()));
    std::fs::write(&path, data).expect("scratch file is writable");
    let load = if archive {
        LoadArg::Archive { path }
    } else {
        LoadArg::Named {
            name: "X".to_string(),
            path,
        }
    };
    match inputs::load_arrays(&[load], &["X", "W"], FUZZ_MEMORY_LIMIT) {
        Ok(arrays) => {
            for array in arrays.values() {
                assert!(array.ndim() <= 2);
                assert!(array.iter().all(|x| x.is_finite()));
            }
        }
        Err(error) => {
            let message = error.to_string();
            assert!(!message.chars().any(|c| c.is_control() && c != '\n'));
        }
    }
}
