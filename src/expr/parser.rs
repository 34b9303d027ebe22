//! TODO(owner): parser
use super::{Diagnostic, Expr};
/// Parses an expression (placeholder until the parser lands).
pub fn parse(_source: &str) -> Result<Expr, Diagnostic> {
    Err(Diagnostic::whole("parser not written yet"))
}
