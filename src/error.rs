//! The errors a user can cause, and how each is shown. Everything here is exit code 2
//! ("bad input"); a bug is an [`Error::Internal`], exit code 1.

use crate::calculus::TooManyTerms;
use crate::eval::EvalError;
use crate::expr::Diagnostic;
use crate::inputs::InputError;
use crate::jacobian::JacobianError;

/// Everything that can go wrong between the command line and the numbers.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A problem in the expression text, shown with a caret under the offending part.
    #[error("{}", diagnostic.render(text))]
    Expression {
        /// The expression text.
        text: String,
        /// What is wrong and where.
        diagnostic: Diagnostic,
    },
    /// A bad `-l` file, a shape that disagrees with a file, …
    #[error("error: {0}")]
    Input(#[from] InputError),
    /// Forward evaluation failed (e.g. inverse of a singular matrix).
    #[error("error: {0}")]
    Eval(#[from] EvalError),
    /// A bad index or axis for the Jacobian.
    #[error("error: {0}")]
    Jacobian(#[from] JacobianError),
    /// The derivative has more terms than jacscope works with.
    #[error("error: {0}")]
    TooManyTerms(#[from] TooManyTerms),
    /// A bad flag value or combination.
    #[error("error: {0}")]
    Usage(String),
    /// The request would need more memory than the limit allows.
    #[error(
        "error: {what} would need about {}, more than the memory limit of {}; use smaller shapes",
        bytes(*needed),
        bytes(Some(*limit))
    )]
    TooLarge {
        /// What would need the memory, e.g. "the values of this expression".
        what: String,
        /// The estimate in bytes, `None` if it overflows `u64`.
        needed: Option<u64>,
        /// The limit in bytes.
        limit: u64,
    },
    /// Reading or writing a file failed.
    #[error("error: {0}")]
    Io(String),
    /// Whoever read our output stopped reading (e.g. `| head`); not worth a message.
    #[error("")]
    OutputClosed,
    /// A bug in jacscope.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The process exit code: 2 for bad input, 1 for an internal error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Internal(_) => 1,
            Error::OutputClosed => 0,
            _ => 2,
        }
    }
}

/// A byte count for people: `512 bytes`, `1.5 GiB`, `7.3 EiB`; `None` (an overflow) is
/// "more than 16 EiB".
fn bytes(count: Option<u64>) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let Some(count) = count else {
        return "more than 16 EiB".to_string();
    };
    if count < 1024 {
        return format!("{count} bytes");
    }
    let mut value = count as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_read_naturally() {
        assert_eq!(bytes(Some(512)), "512 bytes");
        assert_eq!(bytes(Some(1536)), "1.5 KiB");
        assert_eq!(bytes(Some(8 << 30)), "8.0 GiB");
        assert_eq!(bytes(Some(u64::MAX)), "16.0 EiB");
        assert_eq!(bytes(None), "more than 16 EiB");
    }

    #[test]
    fn too_large_names_the_estimate_and_the_limit() {
        let error = Error::TooLarge {
            what: "the values of this expression".to_string(),
            needed: Some(3 << 40),
            limit: 8 << 30,
        };
        assert_eq!(
            error.to_string(),
            "error: the values of this expression would need about 3.0 TiB, more than the memory limit of 8.0 GiB; use smaller shapes"
        );
        assert_eq!(error.exit_code(), 2);
    }
}
