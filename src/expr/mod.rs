//! The expression language: text → tokens → AST with byte spans → shape-checked graph.
//!
//! [`parse`] turns text into an [`ast::Expr`]; [`build_graph`] checks shapes (NumPy
//! broadcasting up to rank 2) and produces the typed node graph that evaluation and
//! differentiation work on; [`compile`] does both. Every error is a [`Diagnostic`]
//! carrying the span of the offending text so it can be shown with a caret.

pub mod ast;
pub mod diagnostic;
pub mod graph;
pub mod lexer;
pub mod parser;
pub mod shape;
pub mod typecheck;

pub use ast::{Expr, ExprKind, Span};
pub use diagnostic::Diagnostic;
pub use graph::{BinOp, ElemFn, Graph, Node, NodeId, Op, ReduceKind, ValueDerivative};
pub use parser::parse;
pub use shape::{Shape, parse_shape};
pub use typecheck::{build_graph, check_wrt};

use std::collections::BTreeMap;

/// Parses `source` and checks its shapes given the shape of every variable.
pub fn compile(source: &str, shapes: &BTreeMap<String, Shape>) -> Result<Graph, Diagnostic> {
    let expr = parse(source)?;
    build_graph(&expr, source, shapes)
}
