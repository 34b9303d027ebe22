//! The errors a user can cause, and how each is shown. Everything here is exit code 2
//! ("bad input"); a bug is an [`Error::Internal`], exit code 1.

use crate::axis_index::IndexError;
use crate::calculus::TooManyTerms;
use crate::eval::EvalError;
use crate::expr::Diagnostic;
use crate::inputs::InputError;
use crate::jacobian::JacobianError;
use crate::numfmt;

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
    /// A typed index of J that does not fit it: `--index`, `--fix`, `--axes`.
    #[error("error: {flag}: {error}")]
    Index {
        /// The flag that was given the index.
        flag: &'static str,
        /// What does not fit.
        error: IndexError,
    },
    /// A bad flag value or combination.
    #[error("error: {0}")]
    Usage(String),
    /// The request would need more memory than the limit allows.
    #[error(
        "error: {what} would need about {}, more than the memory limit of {}; use smaller shapes",
        numfmt::bytes(*needed),
        numfmt::bytes(Some(*limit))
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

#[cfg(test)]
mod tests {
    use super::*;

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
