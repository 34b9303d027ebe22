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
