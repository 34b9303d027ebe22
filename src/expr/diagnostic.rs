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
        self.render_excerpt_with(source, escape_char)
    }

    /// [`Self::render`] for `--ascii`: the excerpt of the source has every non-ASCII
    /// character escaped too (`X \u{d7} W`), the caret under the escape. The message and
    /// the hint are left as they are, for the caller to spell in ASCII.
    pub fn render_ascii(&self, source: &str) -> String {
        self.render_excerpt_with(source, |c| {
            if c.is_ascii() {
                escape_char(c)
            } else {
                escape_non_ascii(c)
            }
        })
    }

    /// The rendering, with each character of the excerpt shown as `show` writes it.
    fn render_excerpt_with(&self, source: &str, show: fn(char) -> String) -> String {
        let mut out = format!("error: {}", self.message);
        if let Some(span) = self.span {
            let excerpt = Excerpt::new(source, span, show);
            out.push_str(&format!(
                "\n  {}\n  {}{}",
                excerpt.line,
                " ".repeat(excerpt.caret_column),
                "^".repeat(excerpt.caret_width)
            ));
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("\n  help: {help}"));
        }
        out
    }
}

/// How a character of user text is shown in a terminal: printable characters as they are,
/// control and other invisible characters escaped (`\u{7}`, `\n`, `\u{202e}`), so that
/// echoing hostile text cannot move the cursor or change colours.
pub fn escape_char(c: char) -> String {
    if c == ' ' || c.is_ascii_graphic() {
        c.to_string()
    } else {
        c.escape_debug().to_string()
    }
}

/// How a character is printed where every byte must be ASCII (`--ascii`): an ASCII
/// character as it is, any other escaped (`×` → `\u{d7}`).
pub fn escape_non_ascii(c: char) -> String {
    if c.is_ascii() {
        c.to_string()
    } else {
        c.escape_unicode().to_string()
    }
}

/// User text as a message quotes it: every character as [`escape_char`] shows it.
pub fn escape(text: &str) -> String {
    text.chars().map(escape_char).collect()
}

/// Widest source excerpt shown under a message, in columns.
const EXCERPT_WIDTH: usize = 100;
/// Most columns of context shown before the span in a long source.
const CONTEXT_BEFORE: usize = 30;
/// Most columns of the span itself shown in a long source.
const SPAN_WIDTH: usize = 60;

/// The part of the source shown under a message, escaped for the terminal and cut to
/// about [`EXCERPT_WIDTH`] columns around the span (cuts marked with [`CUT`]), with the
/// caret's position and width in columns.
struct Excerpt {
    line: String,
    caret_column: usize,
    caret_width: usize,
}

impl Excerpt {
    /// The excerpt of `source` around `span`, each character shown as `show` writes it.
    fn new(source: &str, span: Span, show: fn(char) -> String) -> Self {
        let start = char_boundary_at_or_before(source, span.start);
        let end = char_boundary_at_or_before(source, span.end.max(start));
        let mut before = displayed(&source[..start], show);
        let mut inside = displayed(&source[start..end], show);
        let mut after = displayed(&source[end..], show);
        if before.len() + inside.len() + after.len() > EXCERPT_WIDTH {
            before = cut_front(before, CONTEXT_BEFORE);
            inside = cut_back(inside, SPAN_WIDTH);
            let room = EXCERPT_WIDTH.saturating_sub(before.len() + inside.len());
            after = cut_back(after, room.max(1));
        }
        Excerpt {
            line: [before.as_slice(), &inside, &after].concat().concat(),
            caret_column: before.len(),
            caret_width: inside.len().max(1),
        }
    }
}

/// The largest character boundary of `text` not after `index`.
fn char_boundary_at_or_before(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// The mark of a cut in an excerpt, one column per character: ASCII, so that it reads the
/// same under `--ascii`.
const CUT: [&str; 3] = [".", ".", "."];

/// The columns `text` occupies once each character is shown as `show` writes it: one
/// entry per column.
fn displayed(text: &str, show: fn(char) -> String) -> Vec<String> {
    text.chars()
        .flat_map(|c| show(c).chars().collect::<Vec<_>>())
        .map(String::from)
        .collect()
}

/// At most the last `width` columns of `columns`, the first ones replaced by [`CUT`] if
/// cut.
fn cut_front(mut columns: Vec<String>, width: usize) -> Vec<String> {
    if columns.len() > width {
        columns.drain(..columns.len() - width);
        for (column, mark) in columns.iter_mut().zip(CUT) {
            *column = mark.to_string();
        }
    }
    columns
}

/// At most the first `width` columns of `columns`, the last ones replaced by [`CUT`] if
/// cut.
fn cut_back(mut columns: Vec<String>, width: usize) -> Vec<String> {
    if columns.len() > width {
        columns.truncate(width);
        for (column, mark) in columns.iter_mut().rev().zip(CUT) {
            *column = mark.to_string();
        }
    }
    columns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_message_source_caret_and_help() {
        let diagnostic = Diagnostic::at(Span::new(0, 5), "`@` needs the inner dimensions to agree")
            .with_help("did you mean W.T?");
        assert_eq!(
            diagnostic.render("X @ W"),
            "error: `@` needs the inner dimensions to agree\n  X @ W\n  ^^^^^\n  help: did you mean W.T?"
        );
        assert_eq!(
            Diagnostic::whole("empty expression").render(""),
            "error: empty expression"
        );
    }

    #[test]
    fn caret_counts_characters_not_bytes() {
        let rendered = Diagnostic::at(Span::new(2, 4), "x").render("X × W");
        assert_eq!(rendered, "error: x\n  X × W\n    ^");
    }

    #[test]
    fn the_ascii_excerpt_escapes_non_ascii_and_keeps_the_caret_under_it() {
        let diagnostic = Diagnostic::at(Span::new(2, 4), "unexpected").with_help("use *");
        assert_eq!(
            diagnostic.render_ascii("X × W\u{7}"),
            "error: unexpected\n  X \\u{d7} W\\u{7}\n    ^^^^^^\n  help: use *"
        );
        assert_eq!(escape_non_ascii('é'), "\\u{e9}");
        assert_eq!(escape_non_ascii('\n'), "\n");
    }

    #[test]
    fn control_characters_are_escaped_and_the_caret_stays_aligned() {
        let source = "X\u{1b}[2J + \u{7}";
        let rendered =
            Diagnostic::at(Span::new(8, 9), "unexpected character '\\u{7}'").render(source);
        let lines: Vec<&str> = rendered.lines().collect();
        assert_eq!(lines[1], "  X\\u{1b}[2J + \\u{7}");
        assert_eq!(lines[2], format!("{}^^^^^", " ".repeat(15)));
        assert!(!rendered.chars().any(|c| c.is_control() && c != '\n'));

        let rendered = Diagnostic::at(Span::new(2, 3), "x").render("a\nb c");
        assert_eq!(rendered, "error: x\n  a\\nb c\n     ^");
    }

    #[test]
    fn long_sources_are_cut_around_the_span() {
        let source = format!("{} + W + {}", "X + ".repeat(1000), "b + ".repeat(1000));
        let start = source.find('W').unwrap();
        let rendered = Diagnostic::at(Span::new(start, start + 1), "here").render(&source);
        let lines: Vec<&str> = rendered.lines().collect();
        assert!(
            lines[1].chars().count() <= 2 + EXCERPT_WIDTH,
            "{}",
            lines[1]
        );
        assert!(lines[1].starts_with("  ...") && lines[1].ends_with("..."));
        let caret = lines[2].find('^').unwrap();
        assert_eq!(lines[1].chars().nth(caret), Some('W'));
        assert_eq!(lines[2].trim(), "^");
        let ascii = Diagnostic::at(Span::new(start, start + 1), "here").render_ascii(&source);
        assert_eq!(ascii, rendered);

        let rendered = Diagnostic::at(Span::new(0, source.len()), "all").render(&source);
        let carets = rendered.lines().nth(2).unwrap().trim();
        assert_eq!(carets.len(), SPAN_WIDTH);
    }

    #[test]
    fn sources_that_fit_are_not_cut() {
        let source = format!("{} + W", "X + ".repeat(20));
        let start = source.len() - 1;
        let rendered = Diagnostic::at(Span::new(start, start + 1), "here").render(&source);
        assert_eq!(
            rendered.lines().nth(1),
            Some(format!("  {source}").as_str())
        );
    }

    #[test]
    fn spans_past_the_end_or_inside_a_character_do_not_panic() {
        let rendered = Diagnostic::at(Span::new(3, 9), "end").render("X ×");
        assert!(rendered.ends_with('^'));
        let rendered = Diagnostic::at(Span::new(10, 12), "past").render("X");
        assert_eq!(rendered, "error: past\n  X\n   ^");
    }
}
