//! Shapes of values: rank 0 (scalar), 1 (vector) or 2 (matrix).

use std::fmt;

/// The shape of a value, NumPy style: `[]` is a scalar, `[n]` a vector, `[r, c]` a matrix.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Shape(pub Vec<usize>);

impl Shape {
    /// The scalar shape `()`.
    pub fn scalar() -> Self {
        Shape(Vec::new())
    }

    /// Number of axes.
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// The dimensions as a slice.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    /// Number of elements, or `None` if it overflows `u64`.
    pub fn numel(&self) -> Option<u64> {
        self.0
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
    }

    /// ASCII form used on the command line: `64x1024`, `512`, `scalar`.
    pub fn to_ascii(&self) -> String {
        if self.0.is_empty() {
            "scalar".to_string()
        } else {
            self.0
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("x")
        }
    }
}

impl fmt::Display for Shape {
    /// Human form used in messages: `64×1024`, `512`, `scalar`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            write!(f, "scalar")
        } else {
            let parts: Vec<String> = self.0.iter().map(|d| d.to_string()).collect();
            write!(f, "{}", parts.join("×"))
        }
    }
}

/// Parses a shape as given on the command line: `64x1024` (also `64X1024`, `64×1024`,
/// `64,1024`, `(64, 1024)`), a vector `512` (also `(512,)`), or a scalar `scalar` / `()`.
///
/// Every dimension must be a positive integer, there are at most two, and the number of
/// elements must fit in a `u64`. The error is one sentence saying what is wrong.
pub fn parse_shape(text: &str) -> Result<Shape, String> {
    let trimmed = text.trim();
    if trimmed.eq_ignore_ascii_case("scalar") || trimmed == "()" {
        return Ok(Shape::scalar());
    }
    let inner = trimmed
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(trimmed);
    // A trailing comma makes a one-element tuple, as in Python: `(512,)`.
    let inner = inner.strip_suffix(',').unwrap_or(inner);
    if inner.trim().is_empty() {
        return Err(format!(
            "empty shape '{text}' (write e.g. 64x1024, 512 or scalar)"
        ));
    }
    let dims = inner
        .split(['x', 'X', '×', ','])
        .map(|part| parse_dimension(part.trim(), text))
        .collect::<Result<Vec<usize>, String>>()?;
    if dims.len() > 2 {
        return Err(format!(
            "shape '{text}' has {} dimensions, but only scalars, vectors and matrices (at most 2) are supported",
            dims.len()
        ));
    }
    let shape = Shape(dims);
    if shape.numel().is_none() {
        return Err(format!(
            "shape '{text}' has more elements than fit in 64 bits"
        ));
    }
    Ok(shape)
}

/// One dimension of the shape `whole`: a positive integer.
fn parse_dimension(part: &str, whole: &str) -> Result<usize, String> {
    if part.is_empty() {
        return Err(format!("a dimension is missing in shape '{whole}'"));
    }
    if !part.bytes().all(|b| b.is_ascii_digit()) {
        let reason = if part.starts_with('-') && part[1..].bytes().all(|b| b.is_ascii_digit()) {
            "dimensions must be positive"
        } else {
            "expected e.g. 64x1024, 512 or scalar"
        };
        return Err(format!(
            "'{part}' is not a dimension in shape '{whole}' ({reason})"
        ));
    }
    match part.parse::<usize>() {
        Ok(0) => Err(format!(
            "shape '{whole}' has a dimension 0; dimensions must be at least 1"
        )),
        Ok(dim) => Ok(dim),
        Err(_) => Err(format!("dimension {part} in shape '{whole}' is too large")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_spelling() {
        let matrix = Shape(vec![64, 1024]);
        for text in [
            "64x1024",
            "64X1024",
            "64×1024",
            "64,1024",
            "(64, 1024)",
            " 64 x 1024 ",
        ] {
            assert_eq!(parse_shape(text), Ok(matrix.clone()), "{text}");
        }
        assert_eq!(parse_shape("512"), Ok(Shape(vec![512])));
        assert_eq!(parse_shape("(512,)"), Ok(Shape(vec![512])));
        assert_eq!(parse_shape("scalar"), Ok(Shape::scalar()));
        assert_eq!(parse_shape("()"), Ok(Shape::scalar()));
        assert_eq!(parse_shape("1x1"), Ok(Shape(vec![1, 1])));
    }

    #[test]
    fn round_trips_through_ascii() {
        for shape in [Shape(vec![3, 4]), Shape(vec![7]), Shape::scalar()] {
            assert_eq!(parse_shape(&shape.to_ascii()), Ok(shape));
        }
    }

    #[test]
    fn rejects_bad_shapes_with_clear_messages() {
        let cases = [
            ("0", "has a dimension 0"),
            ("64x0", "has a dimension 0"),
            ("-3", "dimensions must be positive"),
            ("64x-3", "dimensions must be positive"),
            ("abc", "'abc' is not a dimension"),
            ("2.5", "'2.5' is not a dimension"),
            ("2x3x4", "has 3 dimensions"),
            ("", "empty shape"),
            ("64xx3", "a dimension is missing"),
            ("64x", "a dimension is missing"),
            ("99999999999999999999999", "is too large"),
            ("4294967296x4294967296", "more elements than fit in 64 bits"),
        ];
        for (text, expected) in cases {
            let err = parse_shape(text).expect_err(text);
            assert!(err.contains(expected), "{text}: {err}");
        }
    }
}
