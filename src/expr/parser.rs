//! A hand-written Pratt parser from tokens to an [`Expr`] with byte spans.
//!
//! Precedence follows Python, from loosest to tightest: `+ -` (left-associative),
//! `@ * /` (left-associative), unary `-`, `**` (right-associative; its exponent may carry
//! a sign, as in `X ** -1`), postfix `.T`. So `-X**2` is `-(X**2)` and `-X.T` is `-(X.T)`.
//!
//! Nesting is limited to [`MAX_DEPTH`] levels, so that neither the parser nor any later
//! walk over the tree can overflow the stack on hostile input.

use super::ast::{BinaryOp, Expr, ExprKind, KeywordArg, KeywordValue, Span};
use super::diagnostic::Diagnostic;
use super::lexer::{Token, TokenKind, tokenize};

/// The deepest nesting accepted. Every parenthesis pair, operator, unary minus, transpose
/// and call is one level; a chain `a + b + c …` nests to the left, one level per operator.
pub const MAX_DEPTH: usize = 256;

/// Binding power of the operand of unary minus: tighter than `@ * /`, looser than `**`.
const UNARY_BP: u8 = 30;

/// Parses an expression.
pub fn parse(source: &str) -> Result<Expr, Diagnostic> {
    let mut parser = Parser {
        source,
        tokens: tokenize(source)?,
        pos: 0,
    };
    let parsed = parser.expression(0, 0).map_err(|e| *e)?;
    match parser.peek() {
        None => Ok(*parsed.expr),
        Some(token) if token.kind == TokenKind::RParen => Err(unmatched(token)),
        Some(token) => Err(parser.trailing(token)),
    }
}

/// The parser's results box their error so that they stay small: the parser recurses once
/// per nesting level, and small results keep each level's stack frame small.
type ParseResult<T> = Result<T, Box<Diagnostic>>;

/// The operator, left and right binding powers of a binary operator token.
///
/// A right power below the left one makes the operator right-associative.
fn infix(kind: TokenKind) -> Option<(BinaryOp, u8, u8)> {
    Some(match kind {
        TokenKind::Plus => (BinaryOp::Add, 10, 11),
        TokenKind::Minus => (BinaryOp::Sub, 10, 11),
        TokenKind::Star => (BinaryOp::Mul, 20, 21),
        TokenKind::Slash => (BinaryOp::Div, 20, 21),
        TokenKind::At => (BinaryOp::MatMul, 20, 21),
        TokenKind::StarStar => (BinaryOp::Pow, 41, 40),
        _ => return None,
    })
}

/// A parsed sub-expression with what its parent needs to know about it.
struct Parsed {
    /// The expression; its span excludes any parentheses around it. (Boxed to keep the
    /// parser's stack frames small, since the parser recurses once per level.)
    expr: Box<Expr>,
    /// The span including the parentheses around it, if any (used for the parent's span).
    outer: Span,
    /// The number of levels it occupies (1 for a leaf).
    height: usize,
}

struct Parser<'a> {
    source: &'a str,
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<Token> {
        self.tokens.get(self.pos).copied()
    }

    fn peek_kind(&self, offset: usize) -> Option<TokenKind> {
        self.tokens.get(self.pos + offset).map(|t| t.kind)
    }

    fn advance(&mut self) -> Option<Token> {
        let token = self.peek();
        self.pos += usize::from(token.is_some());
        token
    }

    fn text(&self, span: Span) -> &str {
        &self.source[span.start..span.end]
    }

    /// A token's text in quotes for a message, shortened if it is long.
    fn quoted(&self, token: Token) -> String {
        quote(self.text(token.span))
    }

    /// The span of the current token, or the empty span at the end of the source.
    fn here(&self) -> Span {
        self.peek()
            .map_or(Span::new(self.source.len(), self.source.len()), |t| t.span)
    }

    /// Parses an expression whose operators bind at least as tightly as `min_bp`, nested
    /// `depth` levels deep.
    fn expression(&mut self, min_bp: u8, depth: usize) -> ParseResult<Parsed> {
        check_depth(depth + 1, self.here())?;
        let mut lhs = self.operand(depth)?;
        while let Some(token) = self.peek() {
            if token.kind == TokenKind::DotT {
                // The postfix transpose binds tighter than every operator.
                self.pos += 1;
                let span = lhs.outer.to(token.span);
                let kind = ExprKind::Transpose(lhs.expr);
                lhs = build(kind, span, lhs.height + 1, depth, token.span)?;
                continue;
            }
            let Some((op, left_bp, right_bp)) = infix(token.kind) else {
                break;
            };
            if left_bp < min_bp {
                break;
            }
            self.pos += 1;
            let rhs = self.expression(right_bp, depth + 1)?;
            let span = lhs.outer.to(rhs.outer);
            let height = lhs.height.max(rhs.height) + 1;
            let kind = ExprKind::Binary {
                op,
                lhs: lhs.expr,
                rhs: rhs.expr,
            };
            lhs = build(kind, span, height, depth, token.span)?;
        }
        Ok(lhs)
    }

    /// Parses what may start an expression: a number, a variable, a call, unary minus or a
    /// parenthesised expression.
    fn operand(&mut self, depth: usize) -> ParseResult<Parsed> {
        let Some(token) = self.peek() else {
            return Err(self.missing_operand(None).into());
        };
        match token.kind {
            TokenKind::Number(value) => {
                self.pos += 1;
                build(ExprKind::Number(value), token.span, 1, depth, token.span)
            }
            TokenKind::Ident => {
                self.pos += 1;
                if self.peek_kind(0) == Some(TokenKind::LParen) {
                    return self.call(token, depth);
                }
                let name = self.text(token.span);
                if bool_literal(name).is_some() {
                    return Err(misplaced_bool(name, token.span));
                }
                build(
                    ExprKind::Var(name.to_string()),
                    token.span,
                    1,
                    depth,
                    token.span,
                )
            }
            TokenKind::Minus => {
                self.pos += 1;
                let inner = self.expression(UNARY_BP, depth + 1)?;
                let span = token.span.to(inner.outer);
                let kind = ExprKind::Neg(inner.expr);
                build(kind, span, inner.height + 1, depth, token.span)
            }
            TokenKind::LParen => {
                self.pos += 1;
                self.group(token, depth)
            }
            _ => Err(self.missing_operand(Some(token)).into()),
        }
    }

    /// Parses the rest of `( expr )` after the opening parenthesis `open`.
    fn group(&mut self, open: Token, depth: usize) -> ParseResult<Parsed> {
        let inner = self.expression(0, depth + 1)?;
        match self.advance() {
            Some(close) if close.kind == TokenKind::RParen => Ok(Parsed {
                outer: open.span.to(close.span),
                height: inner.height + 1,
                expr: inner.expr,
            }),
            Some(other) => Err(self.unexpected(other, "an operator or ')'")),
            None => Err(unclosed(open).into()),
        }
    }

    /// Parses the rest of a call `name(arg, …, keyword=value, …)` after its name.
    fn call(&mut self, name: Token, depth: usize) -> ParseResult<Parsed> {
        let open = self.advance().expect("the caller saw the '('");
        let mut args = Vec::new();
        let mut kwargs: Vec<KeywordArg> = Vec::new();
        let mut height = 1;
        let close = loop {
            if args.is_empty() && kwargs.is_empty() && self.peek_kind(0) == Some(TokenKind::RParen)
            {
                break self.advance().expect("just peeked");
            }
            if self.peek().is_none() {
                return Err(unclosed(open).into());
            }
            if self.peek_kind(0) == Some(TokenKind::Ident)
                && self.peek_kind(1) == Some(TokenKind::Equals)
            {
                let keyword = self.keyword_arg(&kwargs)?;
                kwargs.push(keyword);
            } else {
                let arg = self.expression(0, depth + 1)?;
                if let Some(keyword) = kwargs.first() {
                    return Err(positional_after_keyword(arg.outer, keyword));
                }
                height = height.max(arg.height + 1);
                args.push(*arg.expr);
            }
            match self.advance() {
                Some(token) if token.kind == TokenKind::RParen => break token,
                Some(comma) if comma.kind == TokenKind::Comma => {
                    if self.peek_kind(0) == Some(TokenKind::RParen) {
                        return Err(
                            Diagnostic::at(comma.span, "expected an argument after ','").into()
                        );
                    }
                }
                Some(other) => return Err(self.unexpected(other, "',' or ')'")),
                None => return Err(unclosed(open).into()),
            }
        };
        let kind = ExprKind::Call {
            name: self.text(name.span).to_string(),
            name_span: name.span,
            args,
            kwargs,
        };
        build(kind, name.span.to(close.span), height, depth, name.span)
    }

    /// Parses `keyword=value`; the value is an integer (possibly negative) or a boolean.
    fn keyword_arg(&mut self, earlier: &[KeywordArg]) -> Result<KeywordArg, Box<Diagnostic>> {
        let name_token = self.advance().expect("the caller saw the keyword");
        let equals = self.advance().expect("the caller saw the '='");
        let name = self.text(name_token.span).to_string();
        if earlier.iter().any(|k| k.name == name) {
            return Err(Diagnostic::at(
                name_token.span,
                format!("keyword argument '{name}' given twice"),
            )
            .into());
        }
        let Some(first) = self.advance() else {
            return Err(
                Diagnostic::at(equals.span, format!("expected a value after '{name}='")).into(),
            );
        };
        let negative = first.kind == TokenKind::Minus;
        let last = if negative {
            self.advance().unwrap_or(first)
        } else {
            first
        };
        let value_span = first.span.to(last.span);
        let value = match last.kind {
            TokenKind::Ident => bool_literal(self.text(last.span)).map(KeywordValue::Bool),
            TokenKind::Number(_) => {
                let digits = self.text(last.span);
                let signed = if negative {
                    format!("-{digits}")
                } else {
                    digits.to_string()
                };
                signed.parse().ok().map(KeywordValue::Int)
            }
            _ => None,
        };
        let Some(value) = value.filter(|v| !(negative && matches!(v, KeywordValue::Bool(_))))
        else {
            return Err(Diagnostic::at(
                value_span,
                format!(
                    "the value of {name} must be an integer or true/false, not {}",
                    quote(self.text(value_span))
                ),
            )
            .into());
        };
        Ok(KeywordArg {
            name,
            name_span: name_token.span,
            value,
            value_span,
        })
    }

    /// The diagnostic when `expected` was expected but `found` came instead.
    fn unexpected(&self, found: Token, expected: &str) -> Box<Diagnostic> {
        let message = format!("expected {expected}, found {}", self.quoted(found));
        Diagnostic::at(found.span, message).into()
    }

    /// The diagnostic when an operand was expected but `found` (or the end) came instead.
    fn missing_operand(&self, found: Option<Token>) -> Diagnostic {
        let previous = self.pos.checked_sub(1).map(|i| self.tokens[i]);
        let after_open = previous.is_some_and(|p| p.kind == TokenKind::LParen);
        match (previous, found) {
            (None, None) => Diagnostic::whole("empty expression")
                .with_help("write an expression such as X @ W.T"),
            (Some(open), None) if after_open => unclosed(open),
            (Some(previous), None) => Diagnostic::at(
                previous.span,
                format!("expected an operand after {}", self.quoted(previous)),
            ),
            (Some(open), Some(close)) if after_open && close.kind == TokenKind::RParen => {
                Diagnostic::at(open.span.to(close.span), "empty parentheses")
                    .with_help("put an expression between them")
            }
            (None, Some(close)) if close.kind == TokenKind::RParen => unmatched(close),
            (Some(previous), Some(found)) => Diagnostic::at(
                found.span,
                format!(
                    "expected an operand after {}, found {}",
                    self.quoted(previous),
                    self.quoted(found)
                ),
            ),
            (None, Some(found)) => Diagnostic::at(
                found.span,
                format!(
                    "expected an operand at the start of the expression, found {}",
                    self.quoted(found)
                ),
            ),
        }
    }

    /// The diagnostic for a token left over after a complete expression.
    fn trailing(&self, token: Token) -> Diagnostic {
        let diagnostic = Diagnostic::at(
            token.span,
            format!(
                "unexpected {} after the end of the expression",
                self.quoted(token)
            ),
        );
        match token.kind {
            TokenKind::Ident | TokenKind::Number(_) | TokenKind::LParen => {
                diagnostic.with_help(format!(
                    "is an operator (such as * or @) missing before {}?",
                    self.quoted(token)
                ))
            }
            TokenKind::Equals => {
                diagnostic.with_help("'=' only gives keyword arguments, as in sum(X, axis=0)")
            }
            _ => diagnostic,
        }
    }
}

/// Source text in quotes for a message: on one line (a carriage return or newline echoed
/// raw would garble the terminal) and shortened if it is long.
fn quote(text: &str) -> String {
    const LONGEST: usize = 20;
    let text = text.split_ascii_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(LONGEST - 1) {
        Some((cut, _)) if text.len() > LONGEST => format!("'{}…'", &text[..cut]),
        _ => format!("'{text}'"),
    }
}

/// A finished node, if `levels` of nesting below `depth` are within [`MAX_DEPTH`].
fn build(kind: ExprKind, span: Span, height: usize, depth: usize, at: Span) -> ParseResult<Parsed> {
    check_depth(depth + height, at)?;
    Ok(Parsed {
        expr: Box::new(Expr { kind, span }),
        outer: span,
        height,
    })
}

/// Refuses nesting deeper than [`MAX_DEPTH`], pointing at `at`.
fn check_depth(levels: usize, at: Span) -> ParseResult<()> {
    if levels > MAX_DEPTH {
        let message = format!("expression nested too deeply (more than {MAX_DEPTH} levels)");
        let help = "every parenthesis, operator and call is a level; a + b + c … nests one level per operator";
        Err(Diagnostic::at(at, message).with_help(help).into())
    } else {
        Ok(())
    }
}

/// `true`/`True` and `false`/`False`.
fn bool_literal(text: &str) -> Option<bool> {
    match text {
        "true" | "True" => Some(true),
        "false" | "False" => Some(false),
        _ => None,
    }
}

/// The diagnostic for `true`/`false` used as an operand.
fn misplaced_bool(name: &str, span: Span) -> Box<Diagnostic> {
    let message =
        format!("'{name}' can only be the value of a keyword argument, as in keepdims={name}");
    Diagnostic::at(span, message).into()
}

/// The diagnostic for a positional argument (at `span`) after a keyword argument.
fn positional_after_keyword(span: Span, keyword: &KeywordArg) -> Box<Diagnostic> {
    let message = format!(
        "positional argument after the keyword argument '{}'",
        keyword.name
    );
    Diagnostic::at(span, message)
        .with_help("put the positional arguments first")
        .into()
}

/// The diagnostic for an opening parenthesis that is never closed.
fn unclosed(open: Token) -> Diagnostic {
    Diagnostic::at(open.span, "unclosed '('").with_help("add a ')' to close it")
}

/// The diagnostic for a closing parenthesis without an opening one.
fn unmatched(close: Token) -> Diagnostic {
    Diagnostic::at(close.span, "unmatched ')'").with_help("remove it, or add a '(' before it")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree as an S-expression, without spans.
    fn sexp(expr: &Expr) -> String {
        match &expr.kind {
            ExprKind::Var(name) => name.clone(),
            ExprKind::Number(value) => value.to_string(),
            ExprKind::Neg(inner) => format!("(- {})", sexp(inner)),
            ExprKind::Transpose(inner) => format!("(T {})", sexp(inner)),
            ExprKind::Binary { op, lhs, rhs } => {
                format!("({} {} {})", op.symbol(), sexp(lhs), sexp(rhs))
            }
            ExprKind::Call {
                name, args, kwargs, ..
            } => {
                let mut parts = vec![name.clone()];
                parts.extend(args.iter().map(sexp));
                parts.extend(kwargs.iter().map(|k| match k.value {
                    KeywordValue::Int(v) => format!("{}={v}", k.name),
                    KeywordValue::Bool(v) => format!("{}={v}", k.name),
                }));
                format!("({})", parts.join(" "))
            }
        }
    }

    fn parsed(source: &str) -> String {
        sexp(&parse(source).unwrap_or_else(|e| panic!("{source}: {}", e.render(source))))
    }

    fn error(source: &str) -> Diagnostic {
        parse(source).expect_err(source)
    }

    fn text(source: &str, span: Option<Span>) -> &str {
        let span = span.expect("a span");
        &source[span.start..span.end]
    }

    #[test]
    fn precedence_follows_python() {
        assert_eq!(parsed("-X**2"), "(- (** X 2))");
        assert_eq!(parsed("A @ B + C * D"), "(+ (@ A B) (* C D))");
        assert_eq!(parsed("A + B @ C"), "(+ A (@ B C))");
        assert_eq!(parsed("A - B - C"), "(- (- A B) C)");
        assert_eq!(parsed("A / B * C @ D"), "(@ (* (/ A B) C) D)");
        assert_eq!(parsed("a ** b ** c"), "(** a (** b c))");
        assert_eq!(parsed("-a * b"), "(* (- a) b)");
        assert_eq!(parsed("a * -b"), "(* a (- b))");
        assert_eq!(parsed("--a"), "(- (- a))");
        assert_eq!(parsed("(-a) ** 2"), "(** (- a) 2)");
        assert_eq!(parsed("(A + B) * C"), "(* (+ A B) C)");
    }

    #[test]
    fn exponent_may_carry_a_sign() {
        assert_eq!(parsed("X ** -1"), "(** X (- 1))");
        assert_eq!(parsed("2 ** -1 * 3"), "(* (** 2 (- 1)) 3)");
        assert_eq!(parsed("x ** -y ** 2"), "(** x (- (** y 2)))");
    }

    #[test]
    fn transpose_binds_tightest() {
        assert_eq!(parsed("X @ W.T"), "(@ X (T W))");
        assert_eq!(parsed("-X.T"), "(- (T X))");
        assert_eq!(parsed("X ** 2.T"), "(** X (T 2))");
        assert_eq!(parsed("(A @ B).T.T"), "(T (T (@ A B)))");
        assert_eq!(parsed("sum(X).T"), "(T (sum X))");
    }

    #[test]
    fn calls_with_positional_and_keyword_arguments() {
        assert_eq!(parsed("exp(X)"), "(exp X)");
        assert_eq!(
            parsed("sum(X @ W, axis=-1, keepdims=True)"),
            "(sum (@ X W) axis=-1 keepdims=true)"
        );
        assert_eq!(parsed("mean(X, keepdims=false)"), "(mean X keepdims=false)");
        assert_eq!(parsed("f()"), "(f)");
        assert_eq!(parsed("f(a, b)"), "(f a b)");
        assert_eq!(parsed("f(g(a), -b)"), "(f (g a) (- b))");
    }

    #[test]
    fn spans_cover_what_was_written() {
        let source = "(A + B) @ W.T";
        let expr = parse(source).unwrap();
        assert_eq!(expr.span, Span::new(0, source.len()));
        let ExprKind::Binary { lhs, rhs, .. } = &expr.kind else {
            panic!("{expr:?}");
        };
        assert_eq!(text(source, Some(lhs.span)), "A + B");
        assert_eq!(text(source, Some(rhs.span)), "W.T");

        let source = "sum(X, axis = -1)";
        let ExprKind::Call {
            name_span, kwargs, ..
        } = parse(source).unwrap().kind
        else {
            panic!()
        };
        assert_eq!(text(source, Some(name_span)), "sum");
        assert_eq!(text(source, Some(kwargs[0].name_span)), "axis");
        assert_eq!(text(source, Some(kwargs[0].value_span)), "-1");
    }

    #[test]
    fn variables_are_listed_once_in_order_of_appearance() {
        let expr = parse("sum(W * X) + X @ b - W").unwrap();
        assert_eq!(expr.variables(), vec!["W", "X", "b"]);
    }

    #[test]
    fn unexpected_character_is_reported_by_the_parser() {
        let source = "X # W";
        let err = error(source);
        assert_eq!(err.message, "unexpected character '#'");
        assert_eq!(text(source, err.span), "#");
    }

    #[test]
    fn unbalanced_parentheses() {
        let source = "(X @ (W + b)";
        let err = error(source);
        assert_eq!(err.message, "unclosed '('");
        assert_eq!(err.span, Some(Span::new(0, 1)));

        let source = "sum(X, axis=1";
        let err = error(source);
        assert_eq!(err.message, "unclosed '('");
        assert_eq!(err.span, Some(Span::new(3, 4)));

        let source = "(";
        assert_eq!(error(source).message, "unclosed '('");

        let source = "X + b)";
        let err = error(source);
        assert_eq!(err.message, "unmatched ')'");
        assert_eq!(err.span, Some(Span::new(5, 6)));

        assert_eq!(error(")X").message, "unmatched ')'");

        let err = error("X * ()");
        assert_eq!(err.message, "empty parentheses");
        assert_eq!(err.span, Some(Span::new(4, 6)));
    }

    #[test]
    fn trailing_input() {
        let source = "X W";
        let err = error(source);
        assert_eq!(
            err.message,
            "unexpected 'W' after the end of the expression"
        );
        assert_eq!(text(source, err.span), "W");
        assert!(err.help.unwrap().contains("operator"));

        let err = error("X = 1");
        assert_eq!(
            err.message,
            "unexpected '=' after the end of the expression"
        );

        let err = error("(X W)");
        assert_eq!(err.message, "expected an operator or ')', found 'W'");
    }

    #[test]
    fn empty_expression() {
        for source in ["", "   ", "\n\t"] {
            let err = error(source);
            assert_eq!(err.message, "empty expression");
            assert_eq!(err.span, None);
        }
    }

    #[test]
    fn missing_operand() {
        let source = "X +";
        let err = error(source);
        assert_eq!(err.message, "expected an operand after '+'");
        assert_eq!(text(source, err.span), "+");

        let source = "X + * W";
        let err = error(source);
        assert_eq!(err.message, "expected an operand after '+', found '*'");
        assert_eq!(text(source, err.span), "*");

        let source = "X ** ";
        assert_eq!(error(source).message, "expected an operand after '**'");

        let source = "* X";
        let err = error(source);
        assert_eq!(
            err.message,
            "expected an operand at the start of the expression, found '*'"
        );
        assert_eq!(err.span, Some(Span::new(0, 1)));

        assert_eq!(
            error(".T").message,
            "expected an operand at the start of the expression, found '.T'"
        );
    }

    #[test]
    fn malformed_calls() {
        let source = "sum(axis=0, X)";
        let err = error(source);
        assert_eq!(
            err.message,
            "positional argument after the keyword argument 'axis'"
        );
        assert_eq!(text(source, err.span), "X");

        let source = "sum(X, axis=0, axis=1)";
        let err = error(source);
        assert_eq!(err.message, "keyword argument 'axis' given twice");
        assert_eq!(err.span, Some(Span::new(15, 19)));

        let source = "sum(X, axis=1.5)";
        let err = error(source);
        assert_eq!(
            err.message,
            "the value of axis must be an integer or true/false, not '1.5'"
        );
        assert_eq!(text(source, err.span), "1.5");

        assert!(error("sum(X, axis=-true)").message.contains("'-true'"));
        assert!(error("sum(X, axis=W)").message.contains("not 'W'"));
        // Whitespace inside the quoted value is shown as one space, never raw.
        assert_eq!(
            error("sum(X, axis=-\r\n)").message,
            "the value of axis must be an integer or true/false, not '- )'"
        );
        let long = format!("sum(X, axis={})", "w".repeat(1000));
        assert!(
            error(&long)
                .message
                .ends_with(&format!("not '{}…'", "w".repeat(19)))
        );
        assert_eq!(
            error("sum(X, axis=)").message,
            "the value of axis must be an integer or true/false, not ')'"
        );
        assert_eq!(error("sum(X,)").message, "expected an argument after ','");
        assert_eq!(error("sum(X W)").message, "expected ',' or ')', found 'W'");
        assert_eq!(
            error("X + true").message,
            "'true' can only be the value of a keyword argument, as in keepdims=true"
        );
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let depth = 10_000;
        let source = format!("{}X{}", "(".repeat(depth), ")".repeat(depth));
        let err = error(&source);
        assert_eq!(
            err.message,
            "expression nested too deeply (more than 256 levels)"
        );
        assert_eq!(text(&source, err.span), "(");

        for source in [
            "-".repeat(depth) + "X",
            "X".to_string() + &" ** X".repeat(depth),
            "X".to_string() + &" + X".repeat(depth),
            "X".to_string() + &".T".repeat(depth),
            "f(".repeat(depth) + "X" + &")".repeat(depth),
        ] {
            assert!(error(&source).message.contains("nested too deeply"));
        }
    }

    #[test]
    fn nesting_up_to_the_limit_is_accepted() {
        // The variable is one level and each pair of parentheses another.
        let inside = MAX_DEPTH - 1;
        let source = format!("{}X{}", "(".repeat(inside), ")".repeat(inside));
        assert_eq!(parsed(&source), "X");
        let source = format!("({source})");
        assert!(error(&source).message.contains("nested too deeply"));
    }

    #[test]
    fn a_100_kb_expression_is_handled_quickly() {
        let start = std::time::Instant::now();
        let wide = format!("f({}X)", "X, ".repeat(34_000));
        assert!(wide.len() > 100_000);
        assert!(parse(&wide).is_ok());
        let long = "X".to_string() + &" + X".repeat(25_000);
        assert!(parse(&long).is_err());
        let name = "X".repeat(100_000);
        assert!(parse(&name).is_ok());
        assert!(start.elapsed().as_secs_f64() < 0.5, "{:?}", start.elapsed());
    }

    /// Binding strength of an expression's outermost construct, as the printer sees it.
    fn precedence(expr: &Expr) -> u8 {
        match &expr.kind {
            ExprKind::Binary { op, .. } => match op {
                BinaryOp::Add | BinaryOp::Sub => 1,
                BinaryOp::Mul | BinaryOp::Div | BinaryOp::MatMul => 2,
                BinaryOp::Pow => 4,
            },
            ExprKind::Neg(_) => 3,
            _ => 5,
        }
    }

    /// Prints an expression with the fewest parentheses the precedence rules allow.
    fn print(expr: &Expr) -> String {
        let wrap = |inner: &Expr, needed: u8| {
            if precedence(inner) < needed {
                format!("({})", print(inner))
            } else {
                print(inner)
            }
        };
        match &expr.kind {
            ExprKind::Var(name) => name.clone(),
            ExprKind::Number(value) => value.to_string(),
            ExprKind::Neg(inner) => format!("-{}", wrap(inner, 3)),
            ExprKind::Transpose(inner) => format!("{}.T", wrap(inner, 5)),
            ExprKind::Binary { op, lhs, rhs } => {
                let (left, right) = match precedence(expr) {
                    4 => (5, 3),
                    p => (p, p + 1),
                };
                format!("{} {} {}", wrap(lhs, left), op.symbol(), wrap(rhs, right))
            }
            ExprKind::Call {
                name, args, kwargs, ..
            } => {
                let mut parts: Vec<String> = args.iter().map(print).collect();
                parts.extend(kwargs.iter().map(|k| match k.value {
                    KeywordValue::Int(v) => format!("{}={v}", k.name),
                    KeywordValue::Bool(v) => format!("{}={v}", k.name),
                }));
                format!("{name}({})", parts.join(", "))
            }
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use proptest::sample::subsequence;

        fn node(kind: ExprKind) -> Expr {
            Expr {
                kind,
                span: Span::new(0, 0),
            }
        }

        /// Random well-formed expressions (spans are not meaningful).
        fn expressions() -> impl Strategy<Value = Expr> {
            let variable = "[A-Za-z][A-Za-z0-9_]{0,3}"
                .prop_filter("not a boolean", |name| bool_literal(name).is_none())
                .prop_map(|name| node(ExprKind::Var(name)));
            let number = (0u32..100_000, 0i32..4)
                .prop_map(|(m, e)| node(ExprKind::Number(f64::from(m) / 10f64.powi(e))));
            let operator = prop_oneof![
                Just(BinaryOp::Add),
                Just(BinaryOp::Sub),
                Just(BinaryOp::Mul),
                Just(BinaryOp::Div),
                Just(BinaryOp::MatMul),
                Just(BinaryOp::Pow),
            ];
            let keyword_value = prop_oneof![
                (-3i64..3).prop_map(KeywordValue::Int),
                any::<bool>().prop_map(KeywordValue::Bool),
            ];
            prop_oneof![variable, number].prop_recursive(6, 48, 3, move |inner| {
                let keywords = subsequence(vec!["axis", "keepdims"], 0..=2).prop_flat_map({
                    let keyword_value = keyword_value.clone();
                    move |names| {
                        let count = names.len();
                        (
                            Just(names),
                            proptest::collection::vec(keyword_value.clone(), count),
                        )
                    }
                });
                prop_oneof![
                    inner.clone().prop_map(|e| node(ExprKind::Neg(Box::new(e)))),
                    inner
                        .clone()
                        .prop_map(|e| node(ExprKind::Transpose(Box::new(e)))),
                    (operator.clone(), inner.clone(), inner.clone()).prop_map(|(op, l, r)| {
                        node(ExprKind::Binary {
                            op,
                            lhs: Box::new(l),
                            rhs: Box::new(r),
                        })
                    }),
                    (
                        "[a-z]{1,8}",
                        proptest::collection::vec(inner, 0..3),
                        keywords
                    )
                        .prop_map(|(name, args, (names, values))| {
                            let kwargs = names
                                .into_iter()
                                .zip(values)
                                .map(|(name, value)| KeywordArg {
                                    name: name.to_string(),
                                    name_span: Span::new(0, 0),
                                    value,
                                    value_span: Span::new(0, 0),
                                })
                                .collect();
                            node(ExprKind::Call {
                                name,
                                name_span: Span::new(0, 0),
                                args,
                                kwargs,
                            })
                        }),
                ]
            })
        }

        /// Strings made of the language's tokens, mostly ill-formed.
        fn token_soup() -> impl Strategy<Value = String> {
            let token = prop_oneof![
                Just("X"),
                Just("W"),
                Just("sum"),
                Just("axis"),
                Just("true"),
                Just("2"),
                Just(".5"),
                Just("1e-3"),
                Just("+"),
                Just("-"),
                Just("*"),
                Just("**"),
                Just("/"),
                Just("@"),
                Just("("),
                Just(")"),
                Just(","),
                Just("="),
                Just(".T"),
                Just(" "),
                Just("."),
                Just("\u{7}"),
                Just("é"),
            ];
            proptest::collection::vec(token, 0..24).prop_map(|tokens| tokens.concat())
        }

        /// Parses without panicking; any error span lies on character boundaries.
        fn parse_checked(source: &str) {
            if let Err(diagnostic) = parse(source) {
                if let Some(span) = diagnostic.span {
                    assert!(span.start <= span.end && span.end <= source.len());
                    assert!(source.is_char_boundary(span.start));
                    assert!(source.is_char_boundary(span.end));
                }
                let rendered = diagnostic.render(source);
                assert!(!rendered.chars().any(|c| c.is_control() && c != '\n'));
            }
        }

        proptest! {
            #[test]
            fn arbitrary_strings_never_panic(source in any::<String>()) {
                parse_checked(&source);
            }

            #[test]
            fn token_soup_never_panics(source in token_soup()) {
                parse_checked(&source);
            }

            #[test]
            fn printed_expressions_parse_back_to_the_same_tree(expr in expressions()) {
                let printed = print(&expr);
                let reparsed = parse(&printed)
                    .map_err(|e| TestCaseError::fail(e.render(&printed)))?;
                prop_assert_eq!(sexp(&reparsed), sexp(&expr), "printed as {}", printed);
                prop_assert_eq!(reparsed.span, Span::new(0, printed.len()));
            }
        }
    }
}
