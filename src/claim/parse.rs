//! Parsing a claim against the problem it is about.
//!
//! TEMPORARY: replaced by the parser branch (claimparse). This stand-in reads shape claims
//! only, so that `jacscope check` compiles and works for shapes until the index-formula
//! parser merges; every other claim is refused with a message that says so.

use super::Claim;
use crate::expr::Span;
use crate::jacobian::Jacobian;
use crate::layout;

/// A claim that does not parse: what is wrong, and where in the claim's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimError {
    /// What is wrong.
    pub message: String,
    /// Where, in bytes of the claim's text.
    pub span: Span,
}

impl ClaimError {
    /// The message with the claim's text and a caret line under the offending part.
    pub fn render(&self, text: &str) -> String {
        let start = text[..self.span.start.min(text.len())].chars().count();
        let width = text
            .get(self.span.start..self.span.end)
            .map_or(1, |part| part.chars().count().max(1));
        format!(
            "error: {}\n  {text}\n  {}{}",
            self.message,
            " ".repeat(start),
            "^".repeat(width)
        )
    }
}

/// Parses `text` as a claim about `jacobian`: here, a shape only.
pub fn parse_claim(text: &str, _jacobian: &Jacobian) -> Result<Claim, ClaimError> {
    layout::parse_claim(text)
        .map(Claim::Shape)
        .map_err(|error| ClaimError {
            message: format!("{error} (index claims need the claim parser)"),
            span: Span::new(0, text.len()),
        })
}
