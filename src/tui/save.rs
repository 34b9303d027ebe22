//! Saving the view on screen as an SVG picture (`p`): the same blocks, mode and zoom as the
//! heat map, without the cursor, through [`crate::picture`]'s writer and [`OutputFile`],
//! to a new file in the current directory named after the expression and the view
//! (`jacscope-X_W.T-kl-i0-j0.svg`); an existing file is never replaced: `-1`, `-2`, … are
//! tried instead.

use std::io;
use std::path::{Path, PathBuf};

use crate::output_file::{OutputError, OutputFile};
use crate::picture::figure::Figure;
use crate::picture::svg;

/// How many numbered names are tried before giving up.
const ATTEMPTS: usize = 1000;

/// The longest the expression's part of a file name may be.
const MAX_EXPRESSION: usize = 60;

/// The file name (without `.svg`) of a picture of `expression` showing `view`: letters,
/// digits and dots kept, every other run of characters one `_`.
pub fn file_stem(expression: &str, view: &str) -> String {
    let mut name = String::new();
    for c in expression.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            name.push(c);
        } else if !name.ends_with('_') {
            name.push('_');
        }
    }
    let name: String = name
        .trim_matches('_')
        .chars()
        .take(MAX_EXPRESSION)
        .collect();
    let name = if name.is_empty() { "J" } else { &name };
    format!("jacscope-{name}-{view}")
}

/// Writes `figure` as SVG to `dir/stem.svg`, or `dir/stem-1.svg`, … whichever does not
/// exist yet; returns the path written.
pub fn save(figure: &Figure, dir: &Path, stem: &str) -> Result<PathBuf, OutputError> {
    let mut last = None;
    for n in 0..ATTEMPTS {
        let name = match n {
            0 => format!("{stem}.svg"),
            n => format!("{stem}-{n}.svg"),
        };
        let path = dir.join(name);
        if std::fs::symlink_metadata(&path).is_ok() {
            continue;
        }
        let mut file = OutputFile::create(&path, false)?;
        let written = svg::write_svg(figure, file.writer());
        written.map_err(|e| file.error(e))?;
        match file.commit() {
            // Another program took the name meanwhile: try the next one.
            Err(error @ OutputError::Exists { .. }) => last = Some(error),
            Err(error) => return Err(error),
            Ok(()) => return Ok(path),
        }
    }
    Err(last.unwrap_or_else(|| OutputError::Io {
        path: dir.join(format!("{stem}.svg")),
        source: io::Error::other(format!("{ATTEMPTS} pictures of this view exist already")),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::picture::figure::Labels;
    use crate::picture::grid::{HeatGrid, MapMode, Viewport};

    #[test]
    fn names_keep_the_expression_readable_and_safe() {
        assert_eq!(file_stem("X @ W.T", "kl-i0-j0"), "jacscope-X_W.T-kl-i0-j0");
        assert_eq!(
            file_stem("softmax(X @ W.T, axis=1)", "m"),
            "jacscope-softmax_X_W.T_axis_1-m"
        );
        assert_eq!(
            file_stem("../../etc/passwd", "v"),
            "jacscope-.._.._etc_passwd-v"
        );
        assert_eq!(file_stem("∂∂", "v"), "jacscope-J-v");
        assert!(file_stem(&"A+".repeat(100), "v").len() < 80);
    }

    /// Saving twice writes two files; the first is not touched.
    #[test]
    fn an_existing_picture_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let values = [1.0, 0.0, 0.0, 2.0];
        let structural = [true, false, false, true];
        let grid = HeatGrid::aggregate(&values, &structural, Viewport::fit(2, 2, 2, 2), 2.0);
        let labels = Labels::slice("X", &["i".into(), "k".into()], (Some(0), Some(1)), &[0, 0]);
        let figure = Figure::new(&grid, MapMode::Sparsity, labels, false);
        let stem = file_stem("X", "ik");
        std::fs::write(dir.path().join("jacscope-X-ik.svg"), "mine").unwrap();
        let first = save(&figure, dir.path(), &stem).unwrap();
        let second = save(&figure, dir.path(), &stem).unwrap();
        assert_eq!(first, dir.path().join("jacscope-X-ik-1.svg"));
        assert_eq!(second, dir.path().join("jacscope-X-ik-2.svg"));
        let mine = std::fs::read_to_string(dir.path().join("jacscope-X-ik.svg")).unwrap();
        assert_eq!(mine, "mine");
        let text = std::fs::read_to_string(first).unwrap();
        roxmltree::Document::parse(&text).expect("well-formed");
        assert_eq!(text.matches(r#"class="block""#).count(), 2, "{text}");
    }
}
