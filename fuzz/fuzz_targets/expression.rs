//! Fuzzes the lexer, parser and shape checker: any UTF-8 text either compiles to a graph
//! or yields a diagnostic whose span lies in the text and which renders without panicking.

#![no_main]

use std::collections::BTreeMap;

use jacscope::expr::{self, Shape};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let ast = match expr::parse(source) {
        Ok(ast) => ast,
        Err(diagnostic) => {
            check_span(source, diagnostic.span);
            let _ = diagnostic.render(source);
            return;
        }
    };
    // Every variable a scalar, a vector, a square matrix, or a shape by its first letter.
    let variables = ast.variables();
    let shapes_by = |dims: &dyn Fn(&str) -> Vec<usize>| -> BTreeMap<String, Shape> {
        variables
            .iter()
            .map(|name| (name.clone(), Shape(dims(name))))
            .collect()
    };
    let assignments = [
        shapes_by(&|_| vec![]),
        shapes_by(&|_| vec![3]),
        shapes_by(&|_| vec![3, 3]),
        shapes_by(&|name| match name.as_bytes()[0] % 4 {
            0 => vec![],
            1 => vec![3],
            2 => vec![2, 3],
            _ => vec![3, 3],
        }),
    ];
    for shapes in &assignments {
        match expr::build_graph(&ast, source, shapes) {
            Ok(graph) => {
                for (id, node) in graph.nodes.iter().enumerate() {
                    assert!(node.op.operands().iter().all(|&operand| operand < id));
                    assert!(node.shape.rank() <= 2);
                    let _ = graph.text(id);
                }
            }
            Err(diagnostic) => {
                check_span(source, diagnostic.span);
                let _ = diagnostic.render(source);
            }
        }
    }
});

/// A diagnostic's span lies in the source.
fn check_span(source: &str, span: Option<expr::Span>) {
    if let Some(span) = span {
        assert!(
            span.start <= span.end && span.end <= source.len(),
            "{span:?}"
        );
    }
}
