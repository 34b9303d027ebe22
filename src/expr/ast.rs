//! Abstract syntax tree produced by the parser; every node carries its byte span.

/// A half-open byte range `start..end` into the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    /// First byte of the span.
    pub start: usize,
    /// One past the last byte of the span.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (exclusive).
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// A parsed expression with its span in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Where it is in the source text.
    pub span: Span,
}

/// A keyword argument such as `axis=1` or `keepdims=true`.
#[derive(Debug, Clone, PartialEq)]
pub struct KeywordArg {
    /// The keyword (`axis`, `keepdims`, …).
    pub name: String,
    /// Span of the keyword name.
    pub name_span: Span,
    /// The value: an integer (possibly negative) or a boolean.
    pub value: KeywordValue,
    /// Span of the value.
    pub value_span: Span,
}

/// The value of a keyword argument.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KeywordValue {
    /// An integer such as `1` or `-1`.
    Int(i64),
    /// `true`/`True` or `false`/`False`.
    Bool(bool),
}

/// The syntactic forms of the language.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A variable such as `X` or `W1`.
    Var(String),
    /// A numeric literal such as `2`, `0.5` or `1e-3`.
    Number(f64),
    /// Unary minus.
    Neg(Box<Expr>),
    /// A binary operator `+ - * / @ **`.
    Binary {
        /// The operator as written.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// Postfix `.T`.
    Transpose(Box<Expr>),
    /// A function call `name(args…, kw=value…)`.
    Call {
        /// Function name as written.
        name: String,
        /// Span of the function name.
        name_span: Span,
        /// Positional arguments.
        args: Vec<Expr>,
        /// Keyword arguments in source order.
        kwargs: Vec<KeywordArg>,
    },
}

/// Binary operators as they appear in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `@`
    MatMul,
    /// `**`
    Pow,
}

impl BinaryOp {
    /// The operator as written in the source (`+`, `@`, `**`, …).
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::MatMul => "@",
            BinaryOp::Pow => "**",
        }
    }
}

impl Expr {
    /// The sub-expressions directly inside this one, in source order.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Var(_) | ExprKind::Number(_) => vec![],
            ExprKind::Neg(inner) | ExprKind::Transpose(inner) => vec![inner],
            ExprKind::Binary { lhs, rhs, .. } => vec![lhs, rhs],
            ExprKind::Call { args, .. } => args.iter().collect(),
        }
    }

    /// Each variable with the span of its first occurrence, in order of first appearance.
    pub fn variable_occurrences(&self) -> Vec<(&str, Span)> {
        let mut found: Vec<(&str, Span)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut pending = vec![self];
        while let Some(expr) = pending.pop() {
            if let ExprKind::Var(name) = &expr.kind
                && seen.insert(name.as_str())
            {
                found.push((name, expr.span));
            }
            pending.extend(expr.children().into_iter().rev());
        }
        found
    }

    /// The names of the variables, in order of first appearance, each once.
    pub fn variables(&self) -> Vec<String> {
        self.variable_occurrences()
            .into_iter()
            .map(|(name, _)| name.to_string())
            .collect()
    }
}
