//! Shape checking: turns a parsed [`Expr`] into a shape-annotated [`Graph`].
//!
//! The rules are NumPy's, restricted to rank ≤ 2: broadcasting for `+ - * /`, the four
//! forms of `@`, constant exponents for `**`, and the functions of the language with their
//! `axis`/`keepdims` keywords. Errors name the operands as written in the source with
//! their shapes, and suggest a transpose when one would fix the expression.

use std::collections::{BTreeMap, HashMap};

use super::ast::{BinaryOp, Expr, ExprKind, KeywordArg, KeywordValue, Span};
use super::diagnostic::{Diagnostic, escape_char};
use super::graph::{BinOp, ElemFn, Graph, Node, NodeId, Op, ReduceKind};
use super::shape::Shape;

mod structure;

/// Checks the shapes of `expr` (parsed from `source`) given the shape of every variable,
/// and builds its graph: nodes in topological order, the root last, one `Input` node per
/// variable, axes normalised to non-negative values.
pub fn build_graph(
    expr: &Expr,
    source: &str,
    shapes: &BTreeMap<String, Shape>,
) -> Result<Graph, Diagnostic> {
    check_every_variable_has_a_shape(expr, shapes)?;
    let mut builder = Builder {
        source,
        shapes,
        nodes: Vec::new(),
        inputs: HashMap::new(),
    };
    let root = builder.build(expr)?;
    debug_assert_eq!(root + 1, builder.nodes.len(), "the root is the last node");
    Ok(Graph {
        source: source.to_string(),
        nodes: builder.nodes,
        root,
    })
}

/// The input node of the variable `wrt` (the `--wrt` option), or an error listing the
/// variables of the expression, or an error at a `kron(…)` whose value depends on `wrt`
/// (its derivative has no index form: see [`Op::Kron`]).
pub fn check_wrt(graph: &Graph, wrt: &str) -> Result<NodeId, Diagnostic> {
    let input = find_wrt(graph, wrt)?;
    structure::refuse_wrt_under_kron(graph, input)?;
    Ok(input)
}

/// The input node of the variable `wrt`, or an error listing the variables.
fn find_wrt(graph: &Graph, wrt: &str) -> Result<NodeId, Diagnostic> {
    graph.input(wrt).ok_or_else(|| {
        let variables = graph.variables();
        let listed = if variables.is_empty() {
            "the expression has no variables".to_string()
        } else {
            format!("variables: {}", variables.join(", "))
        };
        let shown: String = wrt.chars().map(escape_char).collect();
        Diagnostic::whole(format!(
            "--wrt {shown} is not a variable of the expression ({listed})"
        ))
    })
}

/// One diagnostic listing every variable without a shape, pointing at the first of them.
fn check_every_variable_has_a_shape(
    expr: &Expr,
    shapes: &BTreeMap<String, Shape>,
) -> Result<(), Diagnostic> {
    let missing: Vec<(&str, Span)> = expr
        .variable_occurrences()
        .into_iter()
        .filter(|(name, _)| !shapes.contains_key(*name))
        .collect();
    let Some(&(first, span)) = missing.first() else {
        return Ok(());
    };
    // A hostile expression may have thousands of variables: name the first few.
    const LISTED: usize = 8;
    let names: Vec<String> = missing
        .iter()
        .take(LISTED)
        .map(|&(name, _)| shorten(name))
        .collect();
    let more = match missing.len().saturating_sub(LISTED) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    let message = match names.as_slice() {
        [one] => format!("no shape for variable {one}"),
        many => format!("no shape for variables {}{more}", many.join(", ")),
    };
    let help = if Function::from_name(first).is_some() {
        format!("{first} is a function: call it as {first}(…)")
    } else {
        let flags: Vec<String> = names.iter().map(|n| format!("-s {n}=SHAPE")).collect();
        format!("add {} (e.g. -s {}=512)", flags.join(" "), names[0])
    };
    Err(Diagnostic::at(span, message).with_help(help))
}

/// User text for a message: on one line and cut to a readable length.
fn shorten(text: &str) -> String {
    const LONGEST: usize = 40;
    let text = text.split_ascii_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(LONGEST - 1) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// The functions of the language, grouped by how they are checked.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Function {
    Elementwise(ElemFn),
    Reduce(ReduceKind),
    LogSumExp,
    Softmax,
    Trace,
    Inv,
    Det,
    Eye,
    Kron,
    Diag,
    Outer,
}

impl Function {
    /// Every function, in the order the documentation lists them.
    fn all() -> Vec<Function> {
        let reductions = [
            ReduceKind::Sum,
            ReduceKind::Mean,
            ReduceKind::Var,
            ReduceKind::Std,
        ];
        ElemFn::ALL
            .into_iter()
            .map(Function::Elementwise)
            .chain(reductions.into_iter().map(Function::Reduce))
            .chain([
                Function::Softmax,
                Function::LogSumExp,
                Function::Trace,
                Function::Inv,
                Function::Det,
                Function::Eye,
                Function::Kron,
                Function::Diag,
                Function::Outer,
            ])
            .collect()
    }

    fn name(self) -> &'static str {
        match self {
            Function::Elementwise(f) => f.name(),
            Function::Reduce(kind) => kind.name(),
            Function::LogSumExp => "logsumexp",
            Function::Softmax => "softmax",
            Function::Trace => "trace",
            Function::Inv => "inv",
            Function::Det => "det",
            Function::Eye => "eye",
            Function::Kron => "kron",
            Function::Diag => "diag",
            Function::Outer => "outer",
        }
    }

    fn from_name(name: &str) -> Option<Function> {
        Function::all().into_iter().find(|f| f.name() == name)
    }

    /// The keyword arguments the function accepts.
    fn keywords(self) -> &'static [&'static str] {
        match self {
            Function::Reduce(_) | Function::LogSumExp => &["axis", "keepdims"],
            Function::Softmax => &["axis"],
            Function::Elementwise(_)
            | Function::Trace
            | Function::Inv
            | Function::Det
            | Function::Eye
            | Function::Kron
            | Function::Diag
            | Function::Outer => &[],
        }
    }
}

/// The diagnostic for a call of an unknown function, with the close names as a hint.
fn unknown_function(name: &str, span: Span) -> Diagnostic {
    let names: Vec<&str> = Function::all().into_iter().map(Function::name).collect();
    let close: Vec<&str> = names
        .iter()
        .copied()
        .filter(|known| is_close(name, known))
        .collect();
    let help = if close.is_empty() {
        format!("the functions are {}", names.join(", "))
    } else {
        format!("did you mean {}?", close.join(" or "))
    };
    Diagnostic::at(span, format!("unknown function '{}'", shorten(name))).with_help(help)
}

/// Whether `typed` looks like a misspelling of `known`: a case difference, a prefix of it,
/// or within a small edit distance.
fn is_close(typed: &str, known: &str) -> bool {
    let typed = typed.to_ascii_lowercase();
    let allowed = if known.len() <= 3 { 1 } else { 2 };
    typed.len() < 32
        && (known.starts_with(&typed) && typed.len() >= 2
            || typed.starts_with(known)
            || edit_distance(&typed, known) <= allowed)
}

/// Levenshtein distance between two strings, byte by byte (exact for ASCII); also ranks
/// the tensor names of a file by closeness to a mistyped one.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut current = vec![i + 1];
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// How a shape reads after "X is …": `64×1024`, `a vector of length 512`, `a scalar`.
fn shape_phrase(shape: &Shape) -> String {
    match shape.dims() {
        [] => "a scalar".to_string(),
        [n] => format!("a vector of length {n}"),
        _ => shape.to_string(),
    }
}

/// The shape of `a ⊙ b` under NumPy broadcasting, if the shapes are compatible.
fn broadcast(a: &Shape, b: &Shape) -> Option<Shape> {
    let rank = a.rank().max(b.rank());
    // The dimension `from_right` places from the last axis, 1 where the shape is shorter.
    let dim = |shape: &Shape, from_right: usize| {
        shape
            .rank()
            .checked_sub(from_right + 1)
            .map_or(1, |axis| shape.dims()[axis])
    };
    let mut dims = vec![0; rank];
    for from_right in 0..rank {
        let (x, y) = (dim(a, from_right), dim(b, from_right));
        dims[rank - 1 - from_right] = match (x, y) {
            _ if x == y || y == 1 => x,
            (1, _) => y,
            _ => return None,
        };
    }
    Some(Shape(dims))
}

/// The shape of `a @ b` for non-scalar operands, if the inner dimensions agree.
fn matmul(a: &Shape, b: &Shape) -> Option<Shape> {
    match (a.dims(), b.dims()) {
        ([n], [m]) if n == m => Some(Shape::scalar()),
        ([rows, n], [m]) if n == m => Some(Shape(vec![*rows])),
        ([n], [m, cols]) if n == m => Some(Shape(vec![*cols])),
        ([rows, n], [m, cols]) if n == m => Some(Shape(vec![*rows, *cols])),
        _ => None,
    }
}

/// The shape of `A.T`: the axes of a matrix swapped, anything else unchanged.
fn transposed(shape: &Shape) -> Shape {
    Shape(shape.dims().iter().rev().copied().collect())
}

/// The shape left by reducing `axis` (or every axis) of `shape`.
fn reduced(shape: &Shape, axis: Option<usize>, keepdims: bool) -> Shape {
    match (axis, keepdims) {
        (None, false) => Shape::scalar(),
        (None, true) => Shape(vec![1; shape.rank()]),
        (Some(axis), false) => {
            let mut dims = shape.0.clone();
            dims.remove(axis);
            Shape(dims)
        }
        (Some(axis), true) => {
            let mut dims = shape.0.clone();
            dims[axis] = 1;
            Shape(dims)
        }
    }
}

/// The value of a constant exponent: a number, possibly negated.
fn constant(expr: &Expr) -> Option<f64> {
    match &expr.kind {
        ExprKind::Number(value) => Some(*value),
        ExprKind::Neg(inner) => constant(inner).map(|v| -v),
        _ => None,
    }
}

/// Builds the graph node by node, in evaluation order.
struct Builder<'a> {
    source: &'a str,
    shapes: &'a BTreeMap<String, Shape>,
    nodes: Vec<Node>,
    inputs: HashMap<String, NodeId>,
}

impl Builder<'_> {
    fn shape(&self, id: NodeId) -> &Shape {
        &self.nodes[id].shape
    }

    /// Appends a node, refusing values too large to index.
    fn push(&mut self, op: Op, shape: Shape, span: Span) -> Result<NodeId, Diagnostic> {
        if shape.numel().is_none() {
            return Err(Diagnostic::at(
                span,
                format!(
                    "{} would be {shape}, more elements than fit in 64 bits",
                    self.text(span)
                ),
            ));
        }
        self.nodes.push(Node { op, shape, span });
        Ok(self.nodes.len() - 1)
    }

    /// The source text at `span`, on one line and shortened if long.
    fn text(&self, span: Span) -> String {
        shorten(self.source.get(span.start..span.end).unwrap_or("?"))
    }

    /// An operand as written, parenthesised where needed to read as one unit.
    fn operand(&self, expr: &Expr) -> String {
        match expr.kind {
            ExprKind::Binary { .. } | ExprKind::Neg(_) => format!("({})", self.text(expr.span)),
            _ => self.text(expr.span),
        }
    }

    /// An operand transposed, as the user would write it (`W.T`, or `W` for `W.T`).
    fn operand_transposed(&self, expr: &Expr) -> String {
        match &expr.kind {
            ExprKind::Transpose(inner) => self.operand(inner),
            _ => format!("{}.T", self.operand(expr)),
        }
    }

    fn build(&mut self, expr: &Expr) -> Result<NodeId, Diagnostic> {
        let span = expr.span;
        match &expr.kind {
            ExprKind::Var(name) => self.input(name, span),
            ExprKind::Number(value) => self.push(Op::Number(*value), Shape::scalar(), span),
            ExprKind::Neg(inner) => {
                let a = self.build(inner)?;
                self.push(Op::Neg(a), self.shape(a).clone(), span)
            }
            ExprKind::Transpose(inner) => {
                let a = self.build(inner)?;
                self.push(Op::Transpose(a), transposed(self.shape(a)), span)
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, span),
            ExprKind::Call {
                name,
                name_span,
                args,
                kwargs,
            } => {
                let function =
                    Function::from_name(name).ok_or_else(|| unknown_function(name, *name_span))?;
                self.call(function, args, kwargs, span)
            }
        }
    }

    /// The input node of a variable, created at its first occurrence.
    fn input(&mut self, name: &str, span: Span) -> Result<NodeId, Diagnostic> {
        if let Some(&id) = self.inputs.get(name) {
            return Ok(id);
        }
        // Every variable has a shape: `check_every_variable_has_a_shape` ran first.
        let shape = self.shapes[name].clone();
        let shown = shorten(name);
        if shape.rank() > 2 {
            return Err(Diagnostic::at(
                span,
                format!(
                    "{shown} has shape {shape}, but only scalars, vectors and matrices are supported"
                ),
            ));
        }
        if shape.dims().contains(&0) {
            return Err(Diagnostic::at(
                span,
                format!("{shown} has shape {shape}, but every dimension must be at least 1"),
            ));
        }
        let id = self.push(Op::Input(name.to_string()), shape, span)?;
        self.inputs.insert(name.to_string(), id);
        Ok(id)
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        lhs: &Expr,
        rhs: &Expr,
        span: Span,
    ) -> Result<NodeId, Diagnostic> {
        let a = self.build(lhs)?;
        let elementwise = match op {
            BinaryOp::Add => BinOp::Add,
            BinaryOp::Sub => BinOp::Sub,
            BinaryOp::Mul => BinOp::Mul,
            BinaryOp::Div => BinOp::Div,
            BinaryOp::Pow => return self.power(a, rhs, span),
            BinaryOp::MatMul => {
                let b = self.build(rhs)?;
                let (sa, sb) = (self.shape(a), self.shape(b));
                let shape = self.matmul_shape(lhs, sa, rhs, sb, span)?;
                return self.push(Op::MatMul(a, b), shape, span);
            }
        };
        let b = self.build(rhs)?;
        let (sa, sb) = (self.shape(a), self.shape(b));
        let shape = broadcast(sa, sb).ok_or_else(|| {
            let message = format!(
                "cannot broadcast {} ({sa}) with {} ({sb}) for `{}`",
                self.operand(lhs),
                self.operand(rhs),
                op.symbol()
            );
            let diagnostic = Diagnostic::at(span, message);
            match self.transpose_hint(lhs, sa, rhs, sb, broadcast) {
                Some(help) => diagnostic.with_help(help),
                None => diagnostic,
            }
        })?;
        self.push(Op::Binary(elementwise, a, b), shape, span)
    }

    /// `A ** p`: the exponent must be a constant.
    fn power(&mut self, a: NodeId, exponent: &Expr, span: Span) -> Result<NodeId, Diagnostic> {
        let Some(p) = constant(exponent) else {
            return Err(Diagnostic::at(
                exponent.span,
                format!(
                    "the exponent of `**` must be a number such as 2, -1 or 0.5, not {}",
                    self.operand(exponent)
                ),
            ));
        };
        self.push(Op::Pow(a, p), self.shape(a).clone(), span)
    }

    fn matmul_shape(
        &self,
        lhs: &Expr,
        sa: &Shape,
        rhs: &Expr,
        sb: &Shape,
        span: Span,
    ) -> Result<Shape, Diagnostic> {
        if let Some(scalar) = [(lhs, sa), (rhs, sb)]
            .into_iter()
            .find_map(|(e, s)| (s.rank() == 0).then_some(e))
        {
            return Err(Diagnostic::at(
                span,
                format!(
                    "`@` does not take scalars, but {} is a scalar",
                    self.operand(scalar)
                ),
            )
            .with_help("use * to multiply by a scalar"));
        }
        matmul(sa, sb).ok_or_else(|| {
            let message = format!(
                "`@` needs the inner dimensions to agree: {} is {}, {} is {}",
                self.operand(lhs),
                shape_phrase(sa),
                self.operand(rhs),
                shape_phrase(sb)
            );
            let diagnostic = Diagnostic::at(span, message);
            match self.transpose_hint(lhs, sa, rhs, sb, matmul) {
                Some(help) => diagnostic.with_help(help),
                None => diagnostic,
            }
        })
    }

    /// "did you mean W.T?" if transposing the right operand, else the left, else both,
    /// makes `combine` accept the shapes.
    fn transpose_hint(
        &self,
        lhs: &Expr,
        sa: &Shape,
        rhs: &Expr,
        sb: &Shape,
        combine: fn(&Shape, &Shape) -> Option<Shape>,
    ) -> Option<String> {
        let (ta, tb) = (transposed(sa), transposed(sb));
        let fixes = |a: &Shape, b: &Shape| combine(a, b).is_some();
        let suggestion = if sb.rank() == 2 && fixes(sa, &tb) {
            self.operand_transposed(rhs)
        } else if sa.rank() == 2 && fixes(&ta, sb) {
            self.operand_transposed(lhs)
        } else if sa.rank() == 2 && sb.rank() == 2 && fixes(&ta, &tb) {
            format!(
                "{} and {}",
                self.operand_transposed(lhs),
                self.operand_transposed(rhs)
            )
        } else {
            return None;
        };
        Some(format!("did you mean {suggestion}?"))
    }

    fn call(
        &mut self,
        function: Function,
        args: &[Expr],
        kwargs: &[KeywordArg],
        span: Span,
    ) -> Result<NodeId, Diagnostic> {
        let name = function.name();
        let allowed = function.keywords();
        if let Some(unknown) = kwargs.iter().find(|k| !allowed.contains(&k.name.as_str())) {
            let expected = if allowed.is_empty() {
                format!("{name} takes no keywords")
            } else {
                format!("expected {}", allowed.join(", "))
            };
            return Err(Diagnostic::at(
                unknown.name_span,
                format!("unknown keyword '{}' for {name} ({expected})", unknown.name),
            ));
        }
        match function {
            Function::Eye => return self.eye(arguments(name, args, span)?, span),
            Function::Kron => return self.kron(arguments(name, args, span)?, span),
            Function::Diag => return self.diag(arguments(name, args, span)?, span),
            Function::Outer => return self.outer(arguments(name, args, span)?, span),
            _ => {}
        }
        let [arg] = arguments(name, args, span)?;
        let a = self.build(arg)?;
        let shape = self.shape(a).clone();
        let axis = self.axis(kwargs, arg, &shape)?;
        let keepdims = keepdims(kwargs)?;
        let (op, result) = match function {
            Function::Elementwise(f) => (Op::Elementwise(f, a), shape.clone()),
            Function::Reduce(kind) => (
                Op::Reduce {
                    kind,
                    arg: a,
                    axis,
                    keepdims,
                },
                reduced(&shape, axis, keepdims),
            ),
            Function::LogSumExp => (
                Op::LogSumExp {
                    arg: a,
                    axis,
                    keepdims,
                },
                reduced(&shape, axis, keepdims),
            ),
            Function::Softmax => {
                let Some(last) = shape.rank().checked_sub(1) else {
                    return Err(Diagnostic::at(
                        arg.span,
                        format!(
                            "softmax needs a vector or a matrix, but {} is a scalar",
                            self.operand(arg)
                        ),
                    ));
                };
                let axis = axis.unwrap_or(last);
                (Op::Softmax { arg: a, axis }, shape.clone())
            }
            Function::Trace => {
                self.check_square(name, arg, &shape)?;
                (Op::Trace(a), Shape::scalar())
            }
            Function::Inv => {
                self.check_square(name, arg, &shape)?;
                (Op::Inv(a), shape.clone())
            }
            Function::Det => {
                self.check_square(name, arg, &shape)?;
                (Op::Det(a), Shape::scalar())
            }
            Function::Eye | Function::Kron | Function::Diag | Function::Outer => {
                unreachable!("{name} is built above")
            }
        };
        self.push(op, result, span)
    }

    /// The `axis` keyword, normalised to a non-negative axis of `shape`.
    fn axis(
        &self,
        kwargs: &[KeywordArg],
        arg: &Expr,
        shape: &Shape,
    ) -> Result<Option<usize>, Diagnostic> {
        let Some(keyword) = kwargs.iter().find(|k| k.name == "axis") else {
            return Ok(None);
        };
        let KeywordValue::Int(axis) = keyword.value else {
            return Err(Diagnostic::at(
                keyword.value_span,
                format!(
                    "axis must be an integer, not {}",
                    self.text(keyword.value_span)
                ),
            ));
        };
        let rank = shape.rank() as i64;
        if (-rank..rank).contains(&axis) {
            return Ok(Some(axis.rem_euclid(rank) as usize));
        }
        let help = match shape.rank() {
            0 => "a scalar has no axes; leave out axis",
            1 => "a vector has the axis 0 (or -1)",
            _ => "a matrix has the axes 0 and 1 (or -2 and -1)",
        };
        Err(Diagnostic::at(
            keyword.value_span,
            format!(
                "axis {axis} is out of range for {}, which is {}",
                self.operand(arg),
                shape_phrase(shape)
            ),
        )
        .with_help(help))
    }

    /// Refuses anything but a square matrix for `trace`, `inv` and `det`.
    fn check_square(&self, name: &str, arg: &Expr, shape: &Shape) -> Result<(), Diagnostic> {
        match shape.dims() {
            [rows, cols] if rows == cols => Ok(()),
            _ => Err(Diagnostic::at(
                arg.span,
                format!(
                    "{name} needs a square matrix, but {} is {}",
                    self.operand(arg),
                    shape_phrase(shape)
                ),
            )),
        }
    }
}

/// The `N` arguments of a call of `name`, or an error counting them.
fn arguments<'e, const N: usize>(
    name: &str,
    args: &'e [Expr],
    span: Span,
) -> Result<&'e [Expr; N], Diagnostic> {
    args.try_into().map_err(|_| {
        let plural = if N == 1 { "" } else { "s" };
        let message = format!("{name} takes {N} argument{plural}, got {}", args.len());
        Diagnostic::at(span, message)
    })
}

/// The `keepdims` keyword (false if absent).
fn keepdims(kwargs: &[KeywordArg]) -> Result<bool, Diagnostic> {
    match kwargs.iter().find(|k| k.name == "keepdims") {
        None => Ok(false),
        Some(KeywordArg {
            value: KeywordValue::Bool(keep),
            ..
        }) => Ok(*keep),
        Some(KeywordArg {
            value: KeywordValue::Int(value),
            value_span,
            ..
        }) => Err(Diagnostic::at(
            *value_span,
            format!("keepdims must be true or false, not {value}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{compile, parse_shape};

    /// The shapes of the variables used in the tests.
    fn shapes() -> BTreeMap<String, Shape> {
        [
            ("X", "64x1024"),
            ("W", "512x1024"),
            ("b", "512"),
            ("v", "1024"),
            ("c", "scalar"),
            ("A", "3x4"),
            ("B", "4x5"),
            ("S", "6x6"),
            ("R", "3x1"),
            ("C", "1x4"),
            ("Q", "4x3"),
        ]
        .into_iter()
        .map(|(name, shape)| (name.to_string(), parse_shape(shape).unwrap()))
        .collect()
    }

    fn shape_of(source: &str) -> String {
        let graph = compile(source, &shapes()).unwrap_or_else(|e| panic!("{}", e.render(source)));
        graph.node(graph.root).shape.to_ascii()
    }

    fn error(source: &str) -> Diagnostic {
        compile(source, &shapes()).expect_err(source)
    }

    fn caret<'a>(source: &'a str, diagnostic: &Diagnostic) -> &'a str {
        let span = diagnostic.span.expect("a span");
        &source[span.start..span.end]
    }

    #[test]
    fn leaves_and_unary_operators() {
        assert_eq!(shape_of("X"), "64x1024");
        assert_eq!(shape_of("2.5"), "scalar");
        assert_eq!(shape_of("-X"), "64x1024");
        assert_eq!(shape_of("X.T"), "1024x64");
        assert_eq!(shape_of("b.T"), "512");
        assert_eq!(shape_of("c.T"), "scalar");
        assert_eq!(shape_of("X ** 2"), "64x1024");
        assert_eq!(shape_of("X ** -1"), "64x1024");
        assert_eq!(shape_of("X ** (-0.5)"), "64x1024");
    }

    #[test]
    fn broadcasting() {
        assert_eq!(shape_of("X + X"), "64x1024");
        assert_eq!(shape_of("X @ W.T + b"), "64x512");
        assert_eq!(shape_of("X * v"), "64x1024");
        assert_eq!(shape_of("v / X"), "64x1024");
        assert_eq!(shape_of("X - c"), "64x1024");
        assert_eq!(shape_of("2 * X"), "64x1024");
        assert_eq!(shape_of("R + C"), "3x4");
        assert_eq!(shape_of("R * v"), "3x1024");
        assert_eq!(shape_of("A + C"), "3x4");
        assert_eq!(shape_of("A + R"), "3x4");
        assert_eq!(shape_of("c + b"), "512");
    }

    #[test]
    fn broadcast_errors_name_both_operands() {
        let source = "X + b";
        let err = error(source);
        assert_eq!(
            err.message,
            "cannot broadcast X (64×1024) with b (512) for `+`"
        );
        assert_eq!(caret(source, &err), "X + b");
        assert_eq!(err.help, None);

        let err = error("A * Q");
        assert_eq!(err.message, "cannot broadcast A (3×4) with Q (4×3) for `*`");
        assert_eq!(err.help.as_deref(), Some("did you mean Q.T?"));

        let err = error("(A @ B) - B");
        assert_eq!(
            err.message,
            "cannot broadcast (A @ B) (3×5) with B (4×5) for `-`"
        );
        assert_eq!(err.help, None);

        let err = error("v + X.T");
        assert_eq!(err.help.as_deref(), Some("did you mean X?"));
    }

    #[test]
    fn matmul_in_all_four_forms() {
        assert_eq!(shape_of("X @ W.T"), "64x512");
        assert_eq!(shape_of("X @ v"), "64");
        assert_eq!(shape_of("b @ W"), "1024");
        assert_eq!(shape_of("v @ v"), "scalar");
        assert_eq!(shape_of("A @ B @ B.T"), "3x4");
    }

    #[test]
    fn matmul_errors_suggest_a_transpose() {
        let source = "X @ W";
        let err = error(source);
        assert_eq!(
            err.message,
            "`@` needs the inner dimensions to agree: X is 64×1024, W is 512×1024"
        );
        assert_eq!(err.help.as_deref(), Some("did you mean W.T?"));
        assert_eq!(caret(source, &err), "X @ W");

        let err = error("W @ b");
        assert_eq!(
            err.message,
            "`@` needs the inner dimensions to agree: W is 512×1024, b is a vector of length 512"
        );
        assert_eq!(err.help.as_deref(), Some("did you mean W.T?"));

        let err = error("B @ A");
        assert_eq!(err.help.as_deref(), Some("did you mean B.T and A.T?"));

        let err = error("(X + X) @ (X - X)");
        assert_eq!(
            err.message,
            "`@` needs the inner dimensions to agree: (X + X) is 64×1024, (X - X) is 64×1024"
        );
        assert_eq!(err.help.as_deref(), Some("did you mean (X - X).T?"));

        assert_eq!(error("S @ A").help, None);
    }

    #[test]
    fn matmul_refuses_scalars() {
        let source = "X @ 2";
        let err = error(source);
        assert_eq!(err.message, "`@` does not take scalars, but 2 is a scalar");
        assert!(err.help.unwrap().contains('*'));
        assert_eq!(
            error("c @ X").message,
            "`@` does not take scalars, but c is a scalar"
        );
    }

    #[test]
    fn power_needs_a_number_exponent() {
        let source = "X ** W";
        let err = error(source);
        assert_eq!(
            err.message,
            "the exponent of `**` must be a number such as 2, -1 or 0.5, not W"
        );
        assert_eq!(caret(source, &err), "W");
        assert!(error("X ** (1 + 1)").message.ends_with("not (1 + 1)"));
    }

    #[test]
    fn elementwise_functions() {
        for f in ElemFn::ALL {
            assert_eq!(shape_of(&format!("{}(X @ W.T)", f.name())), "64x512");
        }
        let source = "exp(X, W)";
        let err = error(source);
        assert_eq!(err.message, "exp takes 1 argument, got 2");
        assert_eq!(caret(source, &err), source);
        assert_eq!(error("relu()").message, "relu takes 1 argument, got 0");

        let source = "tanh(X, axis=0)";
        let err = error(source);
        assert_eq!(
            err.message,
            "unknown keyword 'axis' for tanh (tanh takes no keywords)"
        );
        assert_eq!(caret(source, &err), "axis");
    }

    #[test]
    fn reductions_with_axis_and_keepdims() {
        for f in ["sum", "mean", "var", "std", "logsumexp"] {
            assert_eq!(shape_of(&format!("{f}(X)")), "scalar", "{f}");
            assert_eq!(shape_of(&format!("{f}(X, keepdims=true)")), "1x1", "{f}");
            assert_eq!(shape_of(&format!("{f}(X, axis=0)")), "1024", "{f}");
            assert_eq!(shape_of(&format!("{f}(X, axis=1)")), "64", "{f}");
            assert_eq!(shape_of(&format!("{f}(X, axis=-1)")), "64", "{f}");
            assert_eq!(shape_of(&format!("{f}(X, axis=-2)")), "1024", "{f}");
            assert_eq!(
                shape_of(&format!("{f}(X, axis=0, keepdims=True)")),
                "1x1024"
            );
            assert_eq!(shape_of(&format!("{f}(X, keepdims=False, axis=1)")), "64");
            assert_eq!(shape_of(&format!("{f}(b, axis=0)")), "scalar");
            assert_eq!(shape_of(&format!("{f}(b, keepdims=true)")), "1");
            assert_eq!(shape_of(&format!("{f}(c)")), "scalar");
        }
    }

    #[test]
    fn axes_are_normalised_in_the_graph() {
        let graph = compile("sum(X, axis=-1)", &shapes()).unwrap();
        assert_eq!(
            graph.node(graph.root).op,
            Op::Reduce {
                kind: ReduceKind::Sum,
                arg: 0,
                axis: Some(1),
                keepdims: false
            }
        );
        let graph = compile("softmax(X)", &shapes()).unwrap();
        assert_eq!(graph.node(graph.root).op, Op::Softmax { arg: 0, axis: 1 });
        let graph = compile("softmax(X, axis=-2)", &shapes()).unwrap();
        assert_eq!(graph.node(graph.root).op, Op::Softmax { arg: 0, axis: 0 });
        let graph = compile("softmax(b)", &shapes()).unwrap();
        assert_eq!(graph.node(graph.root).op, Op::Softmax { arg: 0, axis: 0 });
        let graph = compile("logsumexp(X, axis=-1, keepdims=true)", &shapes()).unwrap();
        assert_eq!(
            graph.node(graph.root).op,
            Op::LogSumExp {
                arg: 0,
                axis: Some(1),
                keepdims: true
            }
        );
    }

    #[test]
    fn softmax_keeps_the_shape_and_refuses_keepdims() {
        assert_eq!(shape_of("softmax(X @ W.T, axis=1)"), "64x512");
        assert_eq!(shape_of("softmax(b)"), "512");
        let source = "softmax(X, keepdims=true)";
        let err = error(source);
        assert_eq!(
            err.message,
            "unknown keyword 'keepdims' for softmax (expected axis)"
        );
        assert_eq!(caret(source, &err), "keepdims");
        assert_eq!(
            error("softmax(c)").message,
            "softmax needs a vector or a matrix, but c is a scalar"
        );
    }

    #[test]
    fn keyword_errors() {
        let source = "sum(X, axes=1)";
        let err = error(source);
        assert_eq!(
            err.message,
            "unknown keyword 'axes' for sum (expected axis, keepdims)"
        );
        assert_eq!(caret(source, &err), "axes");

        let source = "sum(X, axis=2)";
        let err = error(source);
        assert_eq!(
            err.message,
            "axis 2 is out of range for X, which is 64×1024"
        );
        assert_eq!(caret(source, &err), "2");
        assert!(err.help.unwrap().contains("0 and 1"));
        assert_eq!(
            error("mean(b, axis=-2)").message,
            "axis -2 is out of range for b, which is a vector of length 512"
        );
        assert_eq!(
            error("sum(c, axis=0)").message,
            "axis 0 is out of range for c, which is a scalar"
        );
        assert_eq!(
            error("sum(X, axis=true)").message,
            "axis must be an integer, not true"
        );
        assert_eq!(
            error("sum(X, keepdims=1)").message,
            "keepdims must be true or false, not 1"
        );
        assert_eq!(error("sum(X, X)").message, "sum takes 1 argument, got 2");
    }

    #[test]
    fn square_matrix_functions() {
        assert_eq!(shape_of("trace(S)"), "scalar");
        assert_eq!(shape_of("det(S)"), "scalar");
        assert_eq!(shape_of("inv(S)"), "6x6");
        assert_eq!(shape_of("inv(A @ A.T)"), "3x3");
        let source = "2 * inv(A)";
        let err = error(source);
        assert_eq!(err.message, "inv needs a square matrix, but A is 3×4");
        assert_eq!(caret(source, &err), "A");
        assert_eq!(
            error("det(b)").message,
            "det needs a square matrix, but b is a vector of length 512"
        );
        assert_eq!(
            error("trace(c)").message,
            "trace needs a square matrix, but c is a scalar"
        );
    }

    #[test]
    fn unknown_functions_get_a_hint() {
        let source = "relux(X)";
        let err = error(source);
        assert_eq!(err.message, "unknown function 'relux'");
        assert_eq!(caret(source, &err), "relux");
        assert_eq!(err.help.as_deref(), Some("did you mean relu?"));
        assert_eq!(
            error("Softmax(X)").help.as_deref(),
            Some("did you mean softmax?")
        );
        assert_eq!(
            error("sigm(X)").help.as_deref(),
            Some("did you mean sigmoid or sign?")
        );
        let help = error("frobnicate(X)").help.unwrap();
        assert!(help.starts_with("the functions are exp, log,"), "{help}");
        assert!(
            help.ends_with("trace, inv, det, eye, kron, diag, outer"),
            "{help}"
        );
    }

    #[test]
    fn missing_shapes_are_listed_together() {
        let source = "X @ W.T + b2 * c2 - b2";
        let err = error(source);
        assert_eq!(err.message, "no shape for variables b2, c2");
        assert_eq!(
            err.help.as_deref(),
            Some("add -s b2=SHAPE -s c2=SHAPE (e.g. -s b2=512)")
        );
        assert_eq!(err.span, Some(Span::new(10, 12)));

        let err = error("Z + X");
        assert_eq!(err.message, "no shape for variable Z");
        assert_eq!(err.help.as_deref(), Some("add -s Z=SHAPE (e.g. -s Z=512)"));

        let err = error("X + exp");
        assert_eq!(err.message, "no shape for variable exp");
        assert_eq!(
            err.help.as_deref(),
            Some("exp is a function: call it as exp(…)")
        );

        let many: Vec<String> = (0..1000).map(|i| format!("v{i}")).collect();
        let err = error(&format!("f({})", many.join(", ")));
        assert!(err.message.starts_with("no shape for variables v0, v1,"));
        assert!(err.message.ends_with("v7 and 992 more"), "{}", err.message);
    }

    #[test]
    fn input_shapes_beyond_rank_two_or_empty_are_refused() {
        let mut shapes = shapes();
        shapes.insert("T3".into(), Shape(vec![2, 3, 4]));
        shapes.insert("E".into(), Shape(vec![0, 3]));
        let err = compile("X + T3", &shapes).unwrap_err();
        assert_eq!(
            err.message,
            "T3 has shape 2×3×4, but only scalars, vectors and matrices are supported"
        );
        let err = compile("E", &shapes).unwrap_err();
        assert!(err.message.contains("at least 1"));
    }

    #[test]
    fn values_too_large_to_index_are_refused() {
        let mut shapes = shapes();
        shapes.insert("U".into(), Shape(vec![1 << 33, 1]));
        shapes.insert("V".into(), Shape(vec![1, 1 << 33]));
        let err = compile("U @ V", &shapes).unwrap_err();
        assert!(err.message.contains("more elements than fit in 64 bits"));
    }

    #[test]
    fn graph_is_topological_with_one_input_per_variable() {
        let source = "X @ X.T + 2 * sum(X, axis=1, keepdims=true)";
        let graph = compile(source, &shapes()).unwrap();
        assert_eq!(graph.root, graph.nodes.len() - 1);
        for (id, node) in graph.nodes.iter().enumerate() {
            assert!(node.op.operands().iter().all(|&operand| operand < id));
        }
        let inputs: Vec<&Op> = graph
            .nodes
            .iter()
            .map(|n| &n.op)
            .filter(|op| matches!(op, Op::Input(_)))
            .collect();
        assert_eq!(inputs, vec![&Op::Input("X".into())]);
        assert_eq!(graph.text(graph.input("X").unwrap()), "X");
        assert!(graph.nodes.iter().any(|n| n.op == Op::Number(2.0)));
        assert_eq!(graph.text(graph.root), source);
        assert_eq!(graph.node(graph.root).shape, Shape(vec![64, 64]));
    }

    #[test]
    fn a_100_kb_expression_is_refused_quickly() {
        let start = std::time::Instant::now();
        let source = format!("sum({}X)", "X, ".repeat(34_000));
        assert!(source.len() > 100_000);
        assert_eq!(error(&source).message, "sum takes 1 argument, got 34001");
        assert!(start.elapsed().as_secs_f64() < 0.5, "{:?}", start.elapsed());
    }

    #[test]
    fn long_names_are_kept_whole_in_the_graph() {
        let name = "a_rather_long_variable_name_for_the_weights_of_layer_1";
        let mut shapes = shapes();
        shapes.insert(name.to_string(), Shape(vec![2, 2]));
        let graph = compile(&format!("inv({name})"), &shapes).unwrap();
        assert_eq!(graph.variables(), vec![name]);
        assert_eq!(check_wrt(&graph, name), Ok(0));
    }

    #[test]
    fn wrt_must_be_a_variable() {
        let graph = compile("X @ W.T", &shapes()).unwrap();
        assert_eq!(check_wrt(&graph, "W"), Ok(graph.input("W").unwrap()));
        let err = check_wrt(&graph, "Z").unwrap_err();
        assert_eq!(
            err.message,
            "--wrt Z is not a variable of the expression (variables: X, W)"
        );
        let err = check_wrt(&graph, "Z\u{1b}[31m").unwrap_err();
        assert!(err.message.starts_with("--wrt Z\\u{1b}[31m is not"));
        let constant = compile("2 * 3", &shapes()).unwrap();
        assert!(
            check_wrt(&constant, "X")
                .unwrap_err()
                .message
                .ends_with("(the expression has no variables)")
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Strings of the language's tokens with known and unknown names.
        fn token_soup() -> impl Strategy<Value = String> {
            let token = prop_oneof![
                Just("X"),
                Just("W"),
                Just("b"),
                Just("c"),
                Just("S"),
                Just("Z"),
                Just("sum("),
                Just("softmax("),
                Just("inv("),
                Just("exp("),
                Just("relux("),
                Just("axis="),
                Just("keepdims="),
                Just("-1"),
                Just("2"),
                Just("true"),
                Just(" + "),
                Just(" - "),
                Just(" * "),
                Just(" ** "),
                Just(" / "),
                Just(" @ "),
                Just("("),
                Just(")"),
                Just(", "),
                Just(".T"),
            ];
            proptest::collection::vec(token, 0..20).prop_map(|tokens| tokens.concat())
        }

        proptest! {
            #[test]
            fn compile_never_panics(source in token_soup()) {
                let mut shapes = shapes();
                shapes.insert("Z".into(), Shape(vec![1, 1 << 40]));
                match compile(&source, &shapes) {
                    Ok(graph) => {
                        prop_assert_eq!(graph.root, graph.nodes.len() - 1);
                        for (id, node) in graph.nodes.iter().enumerate() {
                            prop_assert!(node.op.operands().iter().all(|&o| o < id));
                        }
                    }
                    Err(diagnostic) => {
                        diagnostic.render(&source);
                    }
                }
            }

            #[test]
            fn arbitrary_strings_never_panic(source in any::<String>()) {
                let _ = compile(&source, &shapes());
            }
        }
    }
}
