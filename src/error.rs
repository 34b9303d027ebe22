//! The errors a user can cause, and how each is shown. Everything here is exit code 2
//! ("bad input"); a bug is an [`Error::Internal`], exit code 1; a well-formed claim that
//! does not hold is [`Error::ClaimFails`], exit code 3. The command layer passes
//! these on in an [`anyhow::Error`]; [`exit_code_of`] and [`message_of`] say how the
//! binary ends.
//!
//! Every message is one line of the terminal whatever user text it quotes (a path, a `-s`
//! or `-l` argument, a name): its control characters are escaped where the message is
//! shown, here, so a file name cannot clear the screen or forge a line of output.

use crate::axis_index::IndexError;
use crate::calculus::TooManyTerms;
use crate::calculus::render::to_ascii;
use crate::claim::parse::ClaimError;
use crate::eval::EvalError;
use crate::expr::Diagnostic;
use crate::expr::diagnostic::escape;
use crate::inputs::InputError;
use crate::jacobian::JacobianError;
use crate::numfmt;
use crate::output_file::OutputError;

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
    #[error("error: {}", one_line(.0))]
    Input(#[from] InputError),
    /// Forward evaluation failed (e.g. inverse of a singular matrix).
    #[error("error: {}", one_line(.0))]
    Eval(#[from] EvalError),
    /// A bad index or axis for the Jacobian.
    #[error("error: {}", one_line(.0))]
    Jacobian(#[from] JacobianError),
    /// The derivative has more terms than jacscope works with.
    #[error("error: {}", one_line(.0))]
    TooManyTerms(#[from] TooManyTerms),
    /// A typed index of J that does not fit it: `--index`, `--fix`, `--axes`.
    #[error("error: {flag}: {}", one_line(error))]
    Index {
        /// The flag that was given the index.
        flag: &'static str,
        /// What does not fit.
        error: IndexError,
    },
    /// A bad flag value or combination.
    #[error("error: {}", one_line(.0))]
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
    #[error("error: {}", one_line(.0))]
    Io(String),
    /// An output file (`-o`) was refused or could not be written; the file is untouched.
    #[error("error: {}", one_line(.0))]
    Output(#[from] OutputError),
    /// Whoever read our output stopped reading (e.g. `| head`); not worth a message.
    #[error("")]
    OutputClosed,
    /// A `--claim` that does not parse, shown with a caret under the offending part.
    #[error("{}", error.render(text))]
    Claim {
        /// The claim as typed.
        text: String,
        /// What is wrong and where.
        error: ClaimError,
    },
    /// A well-formed claim that does not hold (exit code 3); the verdict is the output, so
    /// there is no message.
    #[error("")]
    ClaimFails,
    /// A bug in jacscope.
    #[error("internal error: {}", one_line(.0))]
    Internal(String),
}

/// A message as one line of the terminal: the control characters of the user text it
/// quotes escaped.
fn one_line(message: &impl std::fmt::Display) -> String {
    escape(&message.to_string())
}

impl Error {
    /// The process exit code: 2 for bad input, 1 for an internal error, 3 for a claim
    /// that does not hold.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Internal(_) => 1,
            Error::OutputClosed => 0,
            Error::ClaimFails => 3,
            _ => 2,
        }
    }
}

/// The exit code of a command that failed with `error`: a typed [`Error`]'s own code
/// (0 when the reader of the output left), 2 for a failed read or write of a file, 1 for
/// anything else (a bug).
pub fn exit_code_of(error: &anyhow::Error) -> u8 {
    if let Some(typed) = error.downcast_ref::<Error>() {
        return typed.exit_code() as u8;
    }
    if error.chain().any(|cause| cause.is::<std::io::Error>()) {
        2
    } else {
        1
    }
}

/// The one message the binary prints for `error`: a typed [`Error`] as it shows itself;
/// otherwise `error: ` and the chain of what was being done down to the cause
/// (`error: writing J.npy: No space left on device (os error 28)`), leaving out a cause
/// that only repeats its own source under a label (`I/O error: …`).
pub fn message_of(error: &anyhow::Error) -> String {
    if let Some(typed) = error.downcast_ref::<Error>() {
        return typed.to_string();
    }
    let causes: Vec<String> = error.chain().map(ToString::to_string).collect();
    let kept: Vec<&str> = causes
        .iter()
        .enumerate()
        .filter(|(n, cause)| {
            causes
                .get(n + 1)
                .is_none_or(|source| !cause.ends_with(source.as_str()))
        })
        .map(|(_, cause)| cause.as_str())
        .collect();
    format!("error: {}", one_line(&kept.join(": ")))
}

/// [`message_of`] under `--ascii`, every byte ASCII: the excerpt of an expression escaped
/// character by character so that its caret stays in place
/// ([`Diagnostic::render_ascii`]), then everything through [`to_ascii`]: jacscope's symbols
/// spelled in ASCII (`64×1024` → `64x1024`, `…` → `...`) and every other non-ASCII
/// character, which only quoted user text has, escaped (`données.npy` → `donn\u{e9}es.npy`),
/// never dropped. (A user character that is itself one of the symbols, such as a `×` in a
/// file name, is spelled like the symbol.)
pub fn ascii_message_of(error: &anyhow::Error) -> String {
    let message = match error.downcast_ref::<Error>() {
        Some(Error::Expression { text, diagnostic }) => diagnostic.render_ascii(text),
        _ => message_of(error),
    };
    to_ascii(&message)
}

#[cfg(test)]
mod tests {
    use anyhow::Context;

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

    #[test]
    fn a_message_quoting_user_text_stays_one_line() {
        let usage = Error::Usage("-s X=a\u{1b}[2J\nwrote fake.npy: not a shape".to_string());
        assert_eq!(
            usage.to_string(),
            "error: -s X=a\\u{1b}[2J\\nwrote fake.npy: not a shape"
        );
    }

    #[test]
    fn a_typed_error_keeps_its_message_and_code() {
        let usage = anyhow::Error::new(Error::Usage("--layout: no such layout".to_string()));
        assert_eq!(message_of(&usage), "error: --layout: no such layout");
        assert_eq!(exit_code_of(&usage), 2);
        let bug = anyhow::Error::new(Error::Internal("a slice of the wrong size".to_string()));
        assert_eq!(
            message_of(&bug),
            "internal error: a slice of the wrong size"
        );
        assert_eq!(exit_code_of(&bug), 1);
        assert_eq!(exit_code_of(&anyhow::Error::new(Error::OutputClosed)), 0);
        let fails = anyhow::Error::new(Error::ClaimFails);
        assert_eq!(
            (exit_code_of(&fails), message_of(&fails)),
            (3, String::new())
        );
    }

    #[test]
    fn a_failed_write_names_the_file_and_the_cause_once() {
        let full = || std::io::Error::from_raw_os_error(28);
        let plain: anyhow::Result<()> = Err(full()).context("writing J.npy");
        let plain = plain.unwrap_err();
        assert_eq!(
            message_of(&plain),
            format!("error: writing J.npy: {}", full())
        );
        assert_eq!(exit_code_of(&plain), 2);
        // ndarray-npy labels the I/O error it wraps: the label adds nothing.
        let npy = ndarray_npy::WriteNpyError::Io(full());
        let npy = anyhow::Error::new(npy).context("writing J.npy");
        assert_eq!(
            message_of(&npy),
            format!("error: writing J.npy: {}", full())
        );
        assert_eq!(exit_code_of(&npy), 2);
    }

    #[test]
    fn an_ascii_message_is_ascii_and_keeps_user_text() {
        let expression = anyhow::Error::new(Error::Expression {
            text: "X × W".to_string(),
            diagnostic: Diagnostic::at(crate::expr::Span::new(2, 4), "X is 64×1024"),
        });
        assert_eq!(
            ascii_message_of(&expression),
            "error: X is 64x1024\n  X \\u{d7} W\n    ^^^^^^"
        );
        let file = anyhow::Error::new(Error::Io("données.npy… is a directory".to_string()));
        assert_eq!(
            ascii_message_of(&file),
            "error: donn\\u{e9}es.npy... is a directory"
        );
    }

    #[test]
    fn an_untyped_error_that_is_not_io_is_a_bug() {
        let odd = anyhow::anyhow!("a state the command layer cannot be in");
        assert_eq!(exit_code_of(&odd), 1);
        assert_eq!(
            message_of(&odd),
            "error: a state the command layer cannot be in"
        );
    }
}
