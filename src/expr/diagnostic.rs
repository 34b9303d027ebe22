//! Errors in an expression, with the span to put a caret under.

use super::ast::Span;

/// An error found in an expression (lexing, parsing or shape checking).
///
/// `message` is one clear sentence; `span` (if any) points at the offending text;
/// `help` is an optional hint such as "did you mean W.T?" or "add -s b=512".
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct Diagnostic {
    /// What is wrong, in one sentence.
    pub message: String,
    /// The offending part of the source, if there is one.
    pub span: Option<Span>,
    /// A hint on how to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic pointing at `span`.
    pub fn at(span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            span: Some(span),
            help: None,
        }
    }

    /// A diagnostic about the expression as a whole (no caret).
    pub fn whole(message: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            span: None,
            help: None,
        }
    }

    /// Adds a hint.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Renders the diagnostic against its source: the message, the source line, a caret
    /// line (`^^^` under the span) and the hint, e.g.
    ///
    /// ```text
    /// error: `@` needs the inner dimensions to agree: X is 64×1024, W is 512×1024
    ///   X @ W
    ///   ^^^^^
    ///   help: did you mean W.T?
    /// ```
    pub fn render(&self, source: &str) -> String {
        let mut out = format!("error: {}", self.message);
        if let Some(span) = self.span {
            let start = span.start.min(source.len());
            let end = span.end.clamp(start, source.len());
            let caret_col = source[..start].chars().count();
            let width = source[start..end].chars().count().max(1);
            out.push_str(&format!(
                "\n  {}\n  {}{}",
                source,
                " ".repeat(caret_col),
                "^".repeat(width)
            ));
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("\n  help: {help}"));
        }
        out
    }
}
