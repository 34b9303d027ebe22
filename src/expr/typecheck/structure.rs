//! Shape checking of the constants and structural functions of the language: `eye(n)`,
//! `kron(A, B)`, `diag(v)` / `diag(A)` and `outer(a, b)`.

use super::{Builder, shape_phrase, shorten};
use crate::expr::ast::{Expr, ExprKind, Span};
use crate::expr::diagnostic::Diagnostic;
use crate::expr::graph::{Graph, NodeId, Op};
use crate::expr::shape::Shape;

impl Builder<'_> {
    /// `eye(n)`: the n×n identity, for a positive integer literal n.
    pub(super) fn eye(&mut self, [size]: &[Expr; 1], span: Span) -> Result<NodeId, Diagnostic> {
        let n = match size.kind {
            ExprKind::Number(n) if n >= 1.0 && n.fract() == 0.0 && n <= u32::MAX as f64 => {
                n as usize
            }
            _ => {
                return Err(Diagnostic::at(
                    size.span,
                    format!(
                        "eye needs a positive integer literal such as eye(3), not {}",
                        self.text(size.span)
                    ),
                ));
            }
        };
        self.push(Op::Eye(n), Shape(vec![n, n]), span)
    }

    /// `kron(A, B)` of two matrices: (mp)×(nq) for A m×n and B p×q.
    pub(super) fn kron(&mut self, [a, b]: &[Expr; 2], span: Span) -> Result<NodeId, Diagnostic> {
        let (na, nb) = (self.build(a)?, self.build(b)?);
        self.refuse_unless_rank("kron needs two matrices", 2, [a, b], [na, nb])?;
        let (sa, sb) = (self.shape(na).dims(), self.shape(nb).dims());
        let dims = [sa[0].checked_mul(sb[0]), sa[1].checked_mul(sb[1])];
        let [Some(rows), Some(cols)] = dims else {
            return Err(Diagnostic::at(
                span,
                format!(
                    "{} would have more elements than fit in 64 bits",
                    self.text(span)
                ),
            ));
        };
        self.push(Op::Kron(na, nb), Shape(vec![rows, cols]), span)
    }

    /// `outer(a, b)` of two vectors: the m×n matrix a[i]·b[j].
    pub(super) fn outer(&mut self, [a, b]: &[Expr; 2], span: Span) -> Result<NodeId, Diagnostic> {
        let (na, nb) = (self.build(a)?, self.build(b)?);
        self.refuse_unless_rank("outer needs two vectors", 1, [a, b], [na, nb])?;
        let shape = Shape(vec![self.shape(na).dims()[0], self.shape(nb).dims()[0]]);
        self.push(Op::Outer(na, nb), shape, span)
    }

    /// `diag(v)` of a vector (the square matrix with v on its diagonal) or `diag(A)` of a
    /// square matrix (its diagonal as a vector).
    pub(super) fn diag(&mut self, [arg]: &[Expr; 1], span: Span) -> Result<NodeId, Diagnostic> {
        let a = self.build(arg)?;
        let (op, shape) = match *self.shape(a).dims() {
            [n] => (Op::DiagMatrix(a), Shape(vec![n, n])),
            [rows, cols] if rows == cols => (Op::Diagonal(a), Shape(vec![rows])),
            _ => {
                return Err(Diagnostic::at(
                    arg.span,
                    format!(
                        "diag needs a vector or a square matrix, but {} is {}",
                        self.operand(arg),
                        shape_phrase(self.shape(a))
                    ),
                ));
            }
        };
        self.push(op, shape, span)
    }

    /// An error at the first of `args` whose node is not of rank `rank`:
    /// "`need`, but b is a vector of length 512".
    fn refuse_unless_rank(
        &self,
        need: &str,
        rank: usize,
        args: [&Expr; 2],
        nodes: [NodeId; 2],
    ) -> Result<(), Diagnostic> {
        match args
            .into_iter()
            .zip(nodes)
            .find(|&(_, node)| self.shape(node).rank() != rank)
        {
            None => Ok(()),
            Some((arg, node)) => Err(Diagnostic::at(
                arg.span,
                format!(
                    "{need}, but {} is {}",
                    self.operand(arg),
                    shape_phrase(self.shape(node))
                ),
            )),
        }
    }
}

/// An error at the first `kron(…)` of `graph` whose value depends on the input node `wrt`:
/// kron(A, B)[r,c] reads A and B at r div p, c div q and r mod p, c mod q, which an index
/// formula (tensors and deltas over index variables) cannot write.
pub(super) fn refuse_wrt_under_kron(graph: &Graph, wrt: NodeId) -> Result<(), Diagnostic> {
    let mut depends = vec![false; graph.nodes.len()];
    for (id, node) in graph.nodes.iter().enumerate() {
        depends[id] = id == wrt || node.op.operands().iter().any(|&a| depends[a]);
        if depends[id] && matches!(node.op, Op::Kron(..)) {
            return Err(Diagnostic::at(
                node.span,
                format!(
                    "the derivative through kron(…) is not supported yet: {} depends on {}",
                    shorten(graph.text(id)),
                    shorten(graph.text(wrt))
                ),
            )
            .with_help("differentiate with respect to a variable outside kron(…)"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::expr::typecheck::check_wrt;
    use crate::expr::{Diagnostic, Graph, Shape, compile, parse_shape};

    fn compiled(source: &str) -> Result<Graph, Diagnostic> {
        let shapes: BTreeMap<String, Shape> = [
            ("A", "3x4"),
            ("B", "2x5"),
            ("S", "6x6"),
            ("u", "3"),
            ("v", "4"),
            ("c", "scalar"),
        ]
        .into_iter()
        .map(|(name, shape)| (name.to_string(), parse_shape(shape).unwrap()))
        .collect();
        compile(source, &shapes)
    }

    fn shape_of(source: &str) -> String {
        let graph = compiled(source).unwrap_or_else(|e| panic!("{}", e.render(source)));
        graph.node(graph.root).shape.to_ascii()
    }

    /// The message of the error and the text under its caret.
    fn error(source: &str) -> (String, &str) {
        let err = compiled(source).expect_err(source);
        let span = err.span.expect("a span");
        (err.message, &source[span.start..span.end])
    }

    #[test]
    fn shapes_of_the_structural_functions() {
        assert_eq!(shape_of("eye(3)"), "3x3");
        assert_eq!(shape_of("eye(1e1)"), "10x10");
        assert_eq!(shape_of("kron(A, B)"), "6x20");
        assert_eq!(shape_of("kron(A, eye(2)) @ eye(8)"), "6x8");
        assert_eq!(shape_of("diag(u)"), "3x3");
        assert_eq!(shape_of("diag(S)"), "6");
        assert_eq!(shape_of("diag(diag(u))"), "3");
        assert_eq!(shape_of("outer(u, v)"), "3x4");
        assert_eq!(shape_of("sign(A)"), "3x4");
    }

    #[test]
    fn shape_errors_name_the_argument() {
        assert_eq!(
            error("2 * eye(c)"),
            (
                "eye needs a positive integer literal such as eye(3), not c".into(),
                "c"
            )
        );
        for bad in ["0", "2.5", "-3", "1 + 2"] {
            let source = format!("eye({bad})");
            let (message, caret) = error(&source);
            assert!(message.ends_with(&format!("not {bad}")), "{message}");
            assert_eq!(caret, bad);
        }
        assert_eq!(
            error("kron(A, v)"),
            (
                "kron needs two matrices, but v is a vector of length 4".into(),
                "v"
            )
        );
        assert_eq!(
            error("kron(c, B)"),
            ("kron needs two matrices, but c is a scalar".into(), "c")
        );
        assert_eq!(
            error("outer(u, A + 1)"),
            (
                "outer needs two vectors, but (A + 1) is 3×4".into(),
                "A + 1"
            )
        );
        assert_eq!(
            error("diag(A)"),
            (
                "diag needs a vector or a square matrix, but A is 3×4".into(),
                "A"
            )
        );
        assert_eq!(
            error("diag(c)"),
            (
                "diag needs a vector or a square matrix, but c is a scalar".into(),
                "c"
            )
        );
        assert_eq!(
            error("kron(A)"),
            ("kron takes 2 arguments, got 1".into(), "kron(A)")
        );
        assert_eq!(error("eye()").0, "eye takes 1 argument, got 0");
        assert_eq!(error("outer(u, v, u)").0, "outer takes 2 arguments, got 3");
        assert_eq!(
            error("diag(S, axis=0)").0,
            "unknown keyword 'axis' for diag (diag takes no keywords)"
        );
    }

    #[test]
    fn no_variable_under_a_kron_is_differentiated() {
        let source = "sum(kron(A, eye(2))) + sum(kron(B.T, A.T)) + sum(B)";
        let graph = compiled(source).unwrap();
        let err = check_wrt(&graph, "B").unwrap_err();
        assert_eq!(
            err.message,
            "the derivative through kron(…) is not supported yet: kron(B.T, A.T) depends on B"
        );
        let span = err.span.unwrap();
        assert_eq!(&source[span.start..span.end], "kron(B.T, A.T)");
        assert!(
            check_wrt(&graph, "A")
                .unwrap_err()
                .message
                .contains("kron(A, eye(2))")
        );
        let graph = compiled("sum(kron(A, eye(2))) * outer(c * u, u)").unwrap();
        assert!(check_wrt(&graph, "c").is_ok());
    }
}
