//! Splits expression text into tokens, each with its byte span.
//!
//! The lexer knows identifiers, numbers (`2`, `0.5`, `.5`, `2.`, `1e-3`, `2E+4`), the
//! operators `+ - * / @ **`, the punctuation `( ) , =` and the postfix transpose `.T`.
//! Whitespace (ASCII space, tab, newline, carriage return) separates tokens; any other
//! character is an error pointing at it.

use super::ast::Span;
use super::diagnostic::{Diagnostic, escape_char};

/// What a token is. Identifier names are read back from the source through the span.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TokenKind {
    /// A name such as `X`, `W1` or `sum`.
    Ident,
    /// A numeric literal (always finite and non-negative).
    Number(f64),
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `@`
    At,
    /// `**`
    StarStar,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `,`
    Comma,
    /// `=`
    Equals,
    /// `.T`, the postfix transpose.
    DotT,
}

/// One token and where it is in the source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Its bytes in the source text.
    pub span: Span,
}

/// Splits `source` into tokens, or reports the first character that cannot start one.
pub fn tokenize(source: &str) -> Result<Vec<Token>, Diagnostic> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let start = pos;
        let byte = bytes[pos];
        let kind = match byte {
            b' ' | b'\t' | b'\n' | b'\r' => {
                pos += 1;
                continue;
            }
            b'A'..=b'Z' | b'a'..=b'z' => {
                pos = ident_end(bytes, pos);
                TokenKind::Ident
            }
            b'0'..=b'9' => {
                pos = number_end(bytes, pos);
                number(source, Span::new(start, pos))?
            }
            b'.' if bytes.get(pos + 1).is_some_and(u8::is_ascii_digit) => {
                pos = number_end(bytes, pos);
                number(source, Span::new(start, pos))?
            }
            b'.' if is_transpose_at(bytes, pos) => {
                pos += 2;
                TokenKind::DotT
            }
            b'*' if bytes.get(pos + 1) == Some(&b'*') => {
                pos += 2;
                TokenKind::StarStar
            }
            _ => {
                let Some(kind) = punctuation(byte) else {
                    return Err(unexpected_character(source, pos));
                };
                pos += 1;
                kind
            }
        };
        tokens.push(Token {
            kind,
            span: Span::new(start, pos),
        });
    }
    Ok(tokens)
}

/// The single-byte operators and punctuation.
fn punctuation(byte: u8) -> Option<TokenKind> {
    Some(match byte {
        b'+' => TokenKind::Plus,
        b'-' => TokenKind::Minus,
        b'*' => TokenKind::Star,
        b'/' => TokenKind::Slash,
        b'@' => TokenKind::At,
        b'(' => TokenKind::LParen,
        b')' => TokenKind::RParen,
        b',' => TokenKind::Comma,
        b'=' => TokenKind::Equals,
        _ => return None,
    })
}

/// Whether `byte` may continue an identifier.
fn is_ident_continue(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// The end of the identifier starting at `pos`.
fn ident_end(bytes: &[u8], pos: usize) -> usize {
    pos + bytes[pos..]
        .iter()
        .take_while(|&&b| is_ident_continue(b))
        .count()
}

/// The end of the run of decimal digits starting at `pos`.
fn digits_end(bytes: &[u8], pos: usize) -> usize {
    pos + bytes[pos..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count()
}

/// Whether a `.T` transpose (not followed by more identifier characters) starts at `pos`.
fn is_transpose_at(bytes: &[u8], pos: usize) -> bool {
    bytes.get(pos) == Some(&b'.')
        && bytes.get(pos + 1) == Some(&b'T')
        && !bytes.get(pos + 2).copied().is_some_and(is_ident_continue)
}

/// The end of the numeric literal starting at `pos` (at a digit, or at a `.` before one).
///
/// Also takes any identifier characters glued to the number (`2x`, `1e`), so that
/// [`number`] can reject the whole run as one malformed literal.
fn number_end(bytes: &[u8], pos: usize) -> usize {
    let mut end = digits_end(bytes, pos);
    // `2.T` is the number 2 transposed, not the number `2.` followed by `T`.
    if bytes.get(end) == Some(&b'.') && !is_transpose_at(bytes, end) {
        end = digits_end(bytes, end + 1);
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(end + 1), Some(b'+' | b'-')));
        if bytes.get(end + 1 + sign).is_some_and(u8::is_ascii_digit) {
            end = digits_end(bytes, end + 1 + sign);
        }
    }
    if bytes.get(end).copied().is_some_and(is_ident_continue) {
        end = ident_end(bytes, end);
    }
    end
}

/// The value of the literal at `span`, or a diagnostic if it is malformed or too large.
fn number(source: &str, span: Span) -> Result<TokenKind, Diagnostic> {
    let text = &source[span.start..span.end];
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(TokenKind::Number(value)),
        Ok(_) => Err(Diagnostic::at(
            span,
            format!("the number {text} is too large"),
        )),
        Err(_) => Err(
            Diagnostic::at(span, format!("invalid number '{text}'")).with_help(
                "numbers look like 2, 0.5, .5 or 1e-3; put an operator between a number and a name (2 * X)",
            ),
        ),
    }
}

/// The diagnostic for a character that cannot start a token.
fn unexpected_character(source: &str, pos: usize) -> Diagnostic {
    let c = source[pos..]
        .chars()
        .next()
        .expect("pos is a character boundary inside the source");
    let span = Span::new(pos, pos + c.len_utf8());
    let diagnostic = Diagnostic::at(span, format!("unexpected character '{}'", escape_char(c)));
    let help = match c {
        '×' | '·' | '⋅' => "use * for the elementwise product or @ for the matrix product",
        '−' | '–' => "use the ASCII minus sign '-'",
        '^' => "use ** for powers (X ** 2)",
        '.' => "'.' only appears in numbers (0.5) and in the transpose X.T",
        '_' => "names start with a letter",
        _ => return diagnostic,
    };
    diagnostic.with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kinds and texts of the tokens of `source`.
    fn lex(source: &str) -> Vec<(TokenKind, &str)> {
        tokenize(source)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, &source[t.span.start..t.span.end]))
            .collect()
    }

    #[test]
    fn identifiers() {
        assert_eq!(
            lex("X W1 a_b2 sum"),
            vec![
                (TokenKind::Ident, "X"),
                (TokenKind::Ident, "W1"),
                (TokenKind::Ident, "a_b2"),
                (TokenKind::Ident, "sum"),
            ]
        );
    }

    #[test]
    fn numbers_in_every_form() {
        for (text, value) in [
            ("2", 2.0),
            ("0.5", 0.5),
            (".5", 0.5),
            ("2.", 2.0),
            ("1e-3", 1e-3),
            ("2E+4", 2e4),
            ("1.5e2", 150.0),
        ] {
            assert_eq!(lex(text), vec![(TokenKind::Number(value), text)], "{text}");
        }
    }

    #[test]
    fn operators_and_punctuation() {
        let kinds: Vec<TokenKind> = lex("+ - * / @ ** ( ) , =")
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            kinds,
            vec![
                TokenKind::Plus,
                TokenKind::Minus,
                TokenKind::Star,
                TokenKind::Slash,
                TokenKind::At,
                TokenKind::StarStar,
                TokenKind::LParen,
                TokenKind::RParen,
                TokenKind::Comma,
                TokenKind::Equals,
            ]
        );
    }

    #[test]
    fn transpose_is_distinguished_from_decimal_point() {
        assert_eq!(
            lex("X.T"),
            vec![(TokenKind::Ident, "X"), (TokenKind::DotT, ".T")]
        );
        assert_eq!(
            lex("2.T"),
            vec![(TokenKind::Number(2.0), "2"), (TokenKind::DotT, ".T")]
        );
        assert_eq!(
            lex("X*.5"),
            vec![
                (TokenKind::Ident, "X"),
                (TokenKind::Star, "*"),
                (TokenKind::Number(0.5), ".5")
            ]
        );
        assert_eq!(
            lex("(A).T.T"),
            vec![
                (TokenKind::LParen, "("),
                (TokenKind::Ident, "A"),
                (TokenKind::RParen, ")"),
                (TokenKind::DotT, ".T"),
                (TokenKind::DotT, ".T"),
            ]
        );
    }

    #[test]
    fn spans_are_byte_ranges_and_whitespace_is_skipped() {
        let tokens = tokenize(" X\t**\n2 ").unwrap();
        let spans: Vec<(usize, usize)> =
            tokens.iter().map(|t| (t.span.start, t.span.end)).collect();
        assert_eq!(spans, vec![(1, 2), (3, 5), (6, 7)]);
    }

    #[test]
    fn unexpected_characters_point_at_the_character() {
        let err = tokenize("X $ W").unwrap_err();
        assert_eq!(err.message, "unexpected character '$'");
        assert_eq!(err.span, Some(Span::new(2, 3)));

        let err = tokenize("X × W").unwrap_err();
        assert_eq!(err.message, "unexpected character '×'");
        assert_eq!(err.span, Some(Span::new(2, 4)), "a multi-byte character");
        assert!(err.help.unwrap().contains('@'));

        let err = tokenize("X\u{7}").unwrap_err();
        assert_eq!(err.message, "unexpected character '\\u{7}'");
        assert_eq!(err.span, Some(Span::new(1, 2)));

        let err = tokenize("X . T").unwrap_err();
        assert_eq!(err.message, "unexpected character '.'");
        assert_eq!(err.span, Some(Span::new(2, 3)));

        let err = tokenize("X.Tx").unwrap_err();
        assert_eq!(err.message, "unexpected character '.'");
    }

    #[test]
    fn malformed_and_huge_numbers_are_rejected() {
        let err = tokenize("2X").unwrap_err();
        assert_eq!(err.message, "invalid number '2X'");
        assert_eq!(err.span, Some(Span::new(0, 2)));

        let err = tokenize("1 + 1e").unwrap_err();
        assert_eq!(err.message, "invalid number '1e'");
        assert_eq!(err.span, Some(Span::new(4, 6)));

        let err = tokenize("1e999").unwrap_err();
        assert_eq!(err.message, "the number 1e999 is too large");
    }
}
