//! A file jacscope writes (`dense -o`, `slice -o`): either the complete new file or
//! untouched.
//!
//! The data goes to a temporary file in the target's directory, which is flushed, synced
//! and then renamed over the target; until then the target is untouched, and on any error
//! (a full disk, a failed write) or a terminating signal (Ctrl-C, `kill`) the temporary
//! file is removed. Without `--force` an existing target is refused atomically: the
//! temporary file is linked to the final name only if nothing is there, so of two runs
//! racing for one name exactly one writes it. A symbolic link is never written through:
//! without `--force` it is refused, with `--force` the link itself is replaced. A target
//! that exists and is not a regular file (`/dev/null`, `/dev/full`, a pipe) is written
//! directly, with `--force`, and its write errors are reported like any other.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::expr::diagnostic::escape;
#[cfg(unix)]
use crate::signal_exit::OnSignal;

/// Why an output file could not be written. Every message names the path (escaped, so a
/// file name cannot move the cursor or forge a line) and the reason.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The target exists and `--force` was not given.
    #[error("{} already exists; pass --force to overwrite it", shown(.path))]
    Exists {
        /// The target.
        path: PathBuf,
    },
    /// The target is a symbolic link and `--force` was not given.
    #[error(
        "{} is a symbolic link; pass --force to replace the link itself (its target is never written)",
        shown(.path)
    )]
    Symlink {
        /// The target.
        path: PathBuf,
    },
    /// The target is a directory.
    #[error("{} is a directory", shown(.path))]
    Directory {
        /// The target.
        path: PathBuf,
    },
    /// The target's directory does not exist.
    #[error("cannot write {}: directory {} does not exist", shown(.path), shown(.dir))]
    NoDirectory {
        /// The target.
        path: PathBuf,
        /// Its missing directory.
        dir: PathBuf,
    },
    /// The operating system refused an operation.
    #[error("cannot write {}: {source}", shown(.path))]
    Io {
        /// The target.
        path: PathBuf,
        /// The OS reason.
        source: io::Error,
    },
}

/// A path as messages quote it: control and invisible characters escaped.
pub fn shown(path: &Path) -> String {
    escape(&path.to_string_lossy())
}

/// Checks what can be checked before any work is done: the directory exists, the target
/// is not a directory, and (without `force`) neither an existing file nor a symbolic link.
/// [`OutputFile::commit`] checks again, atomically.
pub fn check_target(path: &Path, force: bool) -> Result<(), OutputError> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = parent
        && !dir.is_dir()
    {
        return Err(OutputError::NoDirectory {
            path: path.to_path_buf(),
            dir: dir.to_path_buf(),
        });
    }
    match std::fs::symlink_metadata(path) {
        Err(_) => Ok(()),
        Ok(meta) if meta.file_type().is_symlink() && !force => Err(OutputError::Symlink {
            path: path.to_path_buf(),
        }),
        Ok(meta) if meta.is_dir() => Err(OutputError::Directory {
            path: path.to_path_buf(),
        }),
        Ok(_) if !force => Err(OutputError::Exists {
            path: path.to_path_buf(),
        }),
        Ok(_) => Ok(()),
    }
}

/// A file being written: [`OutputFile::writer`] takes the data, [`OutputFile::commit`]
/// puts it in place. Dropped without a commit, it leaves the target untouched.
pub struct OutputFile {
    target: PathBuf,
    force: bool,
    sink: Sink,
}

/// Where the bytes go until the commit.
enum Sink {
    /// A temporary file beside the target, removed on error or signal.
    Temporary {
        writer: BufWriter<NamedTempFile>,
        #[cfg(unix)]
        _cleanup: Option<OnSignal>,
    },
    /// An existing special file (a device or a pipe), written in place.
    Direct(BufWriter<File>),
}

impl OutputFile {
    /// Starts writing `path` (after the checks of [`check_target`]).
    pub fn create(path: &Path, force: bool) -> Result<OutputFile, OutputError> {
        check_target(path, force)?;
        let io = |source| OutputError::Io {
            path: path.to_path_buf(),
            source,
        };
        let special = std::fs::symlink_metadata(path)
            .is_ok_and(|meta| !meta.is_file() && !meta.file_type().is_symlink());
        let sink = if special {
            Sink::Direct(BufWriter::new(
                OpenOptions::new().write(true).open(path).map_err(io)?,
            ))
        } else {
            let dir = match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => Path::new("."),
            };
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let prefix = format!(".{name}.");
            let mut builder = tempfile::Builder::new();
            builder.prefix(&prefix).suffix(".partial");
            // The mode of any new file (0666 less the umask), not a temporary file's 0600.
            #[cfg(unix)]
            builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
            let temp = builder.tempfile_in(dir).map_err(io)?;
            Sink::Temporary {
                #[cfg(unix)]
                _cleanup: remove_on_signal(temp.path()),
                writer: BufWriter::new(temp),
            }
        };
        Ok(OutputFile {
            target: path.to_path_buf(),
            force,
            sink,
        })
    }

    /// Where to write the data.
    pub fn writer(&mut self) -> &mut dyn Write {
        match &mut self.sink {
            Sink::Temporary { writer, .. } => writer,
            Sink::Direct(writer) => writer,
        }
    }

    /// The error of a failed write to this file (for a writer's `io::Error`).
    pub fn error(&self, source: io::Error) -> OutputError {
        OutputError::Io {
            path: self.target.clone(),
            source,
        }
    }

    /// Flushes, syncs and puts the file in place: renamed over the target with `--force`,
    /// linked only if the name is free without it. On any error the target is untouched
    /// and the temporary file removed.
    pub fn commit(self) -> Result<(), OutputError> {
        let target = self.target;
        let io = |source| OutputError::Io {
            path: target.clone(),
            source,
        };
        match self.sink {
            Sink::Direct(writer) => {
                let file = writer.into_inner().map_err(|e| io(e.into_error()))?;
                // A device may not support fsync; only the flush is required of it.
                let _ = file.sync_all();
                Ok(())
            }
            Sink::Temporary { writer, .. } => {
                let temp = writer.into_inner().map_err(|e| io(e.into_error()))?;
                temp.as_file().sync_all().map_err(io)?;
                let placed = if self.force {
                    temp.persist(&target)
                } else {
                    temp.persist_noclobber(&target)
                };
                match placed {
                    Ok(_) => Ok(()),
                    Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => {
                        Err(OutputError::Exists { path: target })
                    }
                    Err(e) => Err(io(e.error)),
                }
            }
        }
    }
}

/// Removes `path` if a terminating signal ends the program while the returned value is
/// alive (nothing if the path cannot be passed to the OS).
#[cfg(unix)]
fn remove_on_signal(path: &Path) -> Option<OnSignal> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: the action calls only unlink(2), async-signal-safe, on the path it owns.
    Some(unsafe {
        OnSignal::run(move || {
            libc::unlink(path.as_ptr());
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, force: bool, data: &[u8]) -> Result<(), OutputError> {
        let mut file = OutputFile::create(path, force)?;
        let written = file.writer().write_all(data);
        written.map_err(|e| file.error(e))?;
        file.commit()
    }

    /// The names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_new_file_appears_complete_and_nothing_else_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("J.npy");
        let mut file = OutputFile::create(&path, false).unwrap();
        file.writer().write_all(b"complete").unwrap();
        assert!(!path.exists(), "the target appears only at the commit");
        file.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"complete");
        assert_eq!(names(dir.path()), ["J.npy"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_new_file_gets_the_permissions_of_any_created_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("J.npy");
        write(&path, false, b"new").unwrap();
        let plain = dir.path().join("plain");
        File::create(&plain).unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(
            format!("{:o}", mode(&path)),
            format!("{:o}", mode(&plain)),
            "the umask decides, not the temporary file's private mode"
        );
    }

    #[test]
    fn an_abandoned_write_leaves_the_old_file_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("J.npy");
        std::fs::write(&path, b"old").unwrap();
        let mut file = OutputFile::create(&path, true).unwrap();
        file.writer().write_all(b"half of the new").unwrap();
        drop(file);
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["J.npy"]);
    }

    #[test]
    fn an_existing_file_is_replaced_only_with_force() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("J.npy");
        std::fs::write(&path, b"old").unwrap();
        let error = write(&path, false, b"new").unwrap_err();
        assert!(matches!(error, OutputError::Exists { .. }), "{error}");
        write(&path, true, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn of_two_writers_racing_for_a_name_only_the_first_commit_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("J.npy");
        let mut first = OutputFile::create(&path, false).unwrap();
        let mut second = OutputFile::create(&path, false).unwrap();
        first.writer().write_all(b"first").unwrap();
        second.writer().write_all(b"second").unwrap();
        first.commit().unwrap();
        let error = second.commit().unwrap_err();
        assert!(matches!(error, OutputError::Exists { .. }), "{error}");
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        assert_eq!(names(dir.path()), ["J.npy"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_refused_and_with_force_replaced_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link.npy");
        let aim = dir.path().join("elsewhere.npy");
        std::os::unix::fs::symlink(&aim, &link).unwrap();
        let error = write(&link, false, b"new").unwrap_err();
        assert!(matches!(error, OutputError::Symlink { .. }), "{error}");
        assert!(!aim.exists(), "a dangling link is not followed");
        write(&link, true, b"new").unwrap();
        assert!(!aim.exists(), "the link's target is never written");
        let meta = std::fs::symlink_metadata(&link).unwrap();
        assert!(meta.is_file(), "the link itself is replaced by the file");
        assert_eq!(std::fs::read(&link).unwrap(), b"new");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_device_is_a_write_error_not_a_success() {
        let path = Path::new("/dev/full");
        let error = write(path, true, &[0u8; 100_000]).unwrap_err();
        assert!(
            error.to_string().starts_with("cannot write /dev/full: "),
            "{error}"
        );
    }

    #[test]
    fn a_missing_directory_or_a_directory_target_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nowhere").join("J.npy");
        assert!(matches!(
            check_target(&missing, true),
            Err(OutputError::NoDirectory { .. })
        ));
        assert!(matches!(
            check_target(dir.path(), true),
            Err(OutputError::Directory { .. })
        ));
    }

    #[test]
    fn paths_in_messages_are_escaped() {
        let error = OutputError::Exists {
            path: PathBuf::from("x\nwrote fake.npy\u{1b}[2J"),
        };
        let message = error.to_string();
        assert!(
            !message.contains('\n') && !message.contains('\u{1b}'),
            "{message}"
        );
        assert!(message.starts_with("x\\nwrote fake.npy\\u{1b}[2J already exists"));
    }
}
