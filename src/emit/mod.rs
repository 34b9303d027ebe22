//! The index formula as runnable Python (`jacscope explain --emit numpy|jax|torch`).
//!
//! [`python`] writes one self-contained snippet: its imports, a `_tensors` function that
//! computes every tensor the formula's factors read ([`values`]: the intermediates of the
//! expression graph first, then the derived tensors such as f′ or softmax), `jacobian(X,
//! W, …)` returning the dense J in the layout out.shape + in.shape with one `einsum` per
//! term ([`terms`]), and `entry(index, X, W, …)` computing one entry of J from the formula
//! at that index, without building J. The parameters are the expression's variables, so
//! they can be passed by keyword. Nothing is computed here: the code is written from the
//! formula and the graph alone, and its numbers are checked against `jacscope dense` and
//! `jacscope at` by `scripts/check_emitted_code.py`.
//!
//! [`framework`] holds how NumPy, JAX and PyTorch spell each operation; [`names`] the
//! Python names the code may use.

mod framework;
mod names;
mod terms;
mod values;

pub use framework::Framework;

use crate::calculus::Formula;
use crate::calculus::jacobian_lhs;
use crate::calculus::render::{Notation, definitions, render, render_term};
use crate::expr::{Graph, NodeId};
use names::{Namer, OWN_NAMES, unusable};
use terms::{TermWriter, letters};

/// Why the formula cannot be written as code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    /// A variable's name cannot be a parameter of a Python function.
    #[error(
        "cannot write {framework} code: the variable {name} cannot be a parameter of a Python \
         function ({why}); rename it"
    )]
    Name {
        /// The framework asked for.
        framework: &'static str,
        /// The variable.
        name: String,
        /// Why not.
        why: &'static str,
    },
    /// More indices than einsum has letters.
    #[error("cannot write code: the formula has {count} indices, more than einsum's 52 letters")]
    TooManyIndices {
        /// The number of indices of the formula.
        count: usize,
    },
}

/// The Python snippet computing `formula`, the Jacobian of `graph`'s value with respect
/// to the input node `wrt.0` (then `wrt.1` at second order), with `framework`.
pub fn python(
    formula: &Formula,
    graph: &Graph,
    wrt: (NodeId, Option<NodeId>),
    framework: Framework,
) -> Result<String, EmitError> {
    let variables = graph.variables();
    for &name in &variables {
        if let Some(why) = unusable(name, framework.module_names()) {
            return Err(EmitError::Name {
                framework: framework.name(),
                name: name.to_string(),
                why,
            });
        }
    }
    let letters = letters(formula)?;
    let mut namer = Namer::new(
        variables
            .iter()
            .copied()
            .chain(framework.module_names().iter().copied())
            .chain(OWN_NAMES)
            .chain(["_tensors", "_softmax", "_logsumexp"]),
    );
    let values = values::values(formula, graph, framework, &mut namer);
    let params = variables.join(", ");
    let head = jacobian_lhs(formula, graph, wrt, Notation::Ascii);
    let axes = formula.axis_names().join(",");
    let shape = framework::tuple(&formula.shape());
    let shape = if formula.shape().len() == 1 {
        format!("({shape},)")
    } else {
        shape
    };

    let mut out = Vec::new();
    out.push(format!(
        "\"\"\"{head} = {}",
        render(formula, graph, Notation::Ascii)
    ));
    for (name, text) in definitions(formula, graph) {
        out.push(format!("  where {name} = {text}"));
    }
    out.push(String::new());
    let inputs: Vec<String> = variables
        .iter()
        .map(|&name| {
            let node = graph.input(name).expect("variables are inputs");
            format!("{name} {}", graph.node(node).shape.to_ascii())
        })
        .collect();
    out.push(format!(
        "Y = {} with {}. Written by `jacscope explain --emit {}`.",
        graph.source,
        inputs.join(", "),
        framework.name()
    ));
    out.push("\"\"\"".to_string());
    out.extend(framework.imports().iter().map(|line| line.to_string()));
    for helper in framework.helpers(values.softmax, values.logsumexp) {
        out.extend(["".to_string(), "".to_string(), helper.to_string()]);
    }

    // The tensors the terms read, computed once per call of jacobian or entry.
    let read: Vec<&str> = values.tensors.values().map(String::as_str).collect();
    let unpack = match read.as_slice() {
        [] => None,
        [one] => Some(format!("    ({one},) = _tensors({params})")),
        many => Some(format!("    {} = _tensors({params})", many.join(", "))),
    };
    if unpack.is_some() {
        out.extend(["".to_string(), "".to_string()]);
        out.push(format!("def _tensors({params}):"));
        out.push("    \"\"\"The tensors the formula's factors read.\"\"\"".to_string());
        for &name in &variables {
            out.push(format!("    {name} = {}", framework.as_array(name)));
        }
        for (name, code) in &values.lines {
            out.push(format!("    {name} = {code}"));
        }
        match read.as_slice() {
            [one] => out.push(format!("    return ({one},)")),
            many => out.push(format!("    return {}", many.join(", "))),
        }
    }

    let term_text = |term| render_term(formula, graph, term, Notation::Ascii).replace('"', "'");
    let j = namer.fresh("J");
    out.extend(["".to_string(), "".to_string()]);
    out.push(format!("def jacobian({params}):"));
    out.push(format!(
        "    \"\"\"J[{axes}] = {head} as a dense array of shape {shape} (out.shape + in.shape).\"\"\""
    ));
    out.extend(unpack.clone());
    let dense = TermWriter::dense(formula, framework, &values.tensors, &letters);
    let mut first = true;
    for term in &formula.terms {
        out.push(format!("    # {}", term_text(term)));
        let Some((negative, body)) = dense.term(term) else {
            out.push("    # (zero: a delta between two different fixed positions)".to_string());
            continue;
        };
        out.push(accumulate(&j, first, negative, &body));
        first = false;
    }
    if first {
        out.push(format!("    {j} = {}", framework.zeros(&formula.shape())));
    }
    out.push(format!("    return {j}"));

    let index_names: Vec<String> = formula
        .free()
        .iter()
        .map(|&id| namer.fresh(&formula.indices[id].name))
        .collect();
    let e = namer.fresh("e");
    out.extend(["".to_string(), "".to_string()]);
    out.push(format!("def entry(index, {params}):"));
    out.push(format!(
        "    \"\"\"J[{axes}] at index = ({axes}), from the formula, without building J.\"\"\""
    ));
    out.extend(unpack);
    match index_names.as_slice() {
        [] => {}
        [one] => out.push(format!("    ({one},) = index")),
        many => out.push(format!("    {} = index", many.join(", "))),
    }
    let one = TermWriter::entry(formula, framework, &values.tensors, &letters, &index_names);
    let mut first = true;
    for term in &formula.terms {
        out.push(format!("    # {}", term_text(term)));
        if let Some((negative, body)) = one.term(term) {
            out.push(accumulate(&e, first, negative, &body));
            first = false;
        }
    }
    if first {
        out.push("    return 0.0".to_string());
    } else {
        out.push(format!("    return float({e})"));
    }
    let mut text = out.join("\n");
    text.push('\n');
    Ok(text)
}

/// `J = body`, `J = -body`, `J = J + body` or `J = J - body`.
fn accumulate(total: &str, first: bool, negative: bool, body: &str) -> String {
    match (first, negative) {
        (true, false) => format!("    {total} = {body}"),
        (true, true) => format!("    {total} = -{body}"),
        (false, false) => format!("    {total} = {total} + {body}"),
        (false, true) => format!("    {total} = {total} - {body}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calculus::test_support::graph;
    use crate::calculus::{Slot, jacobian_formula};

    /// The emitted NumPy code of `source` by its first variable, with the formula.
    fn emitted(source: &str, shapes: &[(&str, &str)]) -> (String, Formula) {
        let graph = graph(source, shapes);
        let wrt = graph.input(graph.variables()[0]).unwrap();
        let formula = jacobian_formula(&graph, wrt);
        let code = python(&formula, &graph, (wrt, None), Framework::Numpy).unwrap();
        (code, formula)
    }

    /// The einsum subscripts of jacobian()'s lines, one per einsum, in order.
    fn dense_subscripts(code: &str) -> Vec<String> {
        let body = &code[code.find("def jacobian").unwrap()..code.find("def entry").unwrap()];
        body.match_indices("einsum(\"")
            .map(|(at, m)| {
                let rest = &body[at + m.len()..];
                rest[..rest.find('"').unwrap()].to_string()
            })
            .collect()
    }

    #[test]
    fn the_seed_is_one_einsum_of_a_delta_and_w() {
        let (code, _) = emitted("X @ W.T", &[("X", "64x1024"), ("W", "512x1024")]);
        assert!(code.contains("import numpy as np\n"));
        assert!(code.contains("def jacobian(X, W):\n"));
        assert!(code.contains("    J = np.einsum(\"ik,jl->ijkl\", np.eye(64), W)\n"));
        assert!(code.contains("def entry(index, X, W):\n"));
        assert!(code.contains("    i, j, k, l = index\n"));
        assert!(code.contains("    e = float(i == k) * W[j, l]\n"));
        assert!(code.contains("shape (64, 512, 64, 1024) (out.shape + in.shape)"));
    }

    /// Every term is one einsum whose output is J's axes in order and whose inputs are
    /// the factors' indices (a delta's two, a tensor's own), then one letter for each
    /// index of J or of the sum that no factor reads.
    #[test]
    fn each_einsum_reads_its_terms_factors_at_the_formulas_indices() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            (
                "relu(X @ W.T + b)",
                &[("X", "2x3"), ("W", "4x3"), ("b", "4")],
            ),
            ("softmax(X @ W, axis=1)", &[("X", "2x3"), ("W", "3x4")]),
            ("trace(X @ W)", &[("X", "3x4"), ("W", "4x3")]),
            ("inv(X)", &[("X", "3x3")]),
            (
                "sum(X, axis=0, keepdims=true) * W",
                &[("X", "2x3"), ("W", "3")],
            ),
            ("X @ W + X * 2 - exp(X) / 3", &[("X", "3x3"), ("W", "3x3")]),
            ("sum(X)", &[("X", "2x3")]),
        ];
        for (source, shapes) in cases {
            let (code, formula) = emitted(source, shapes);
            let got = dense_subscripts(&code);
            let name = |slot: &Slot| match slot {
                Slot::Index(id) => formula.indices[*id].name.clone(),
                Slot::Fixed(_) => String::new(),
            };
            let axes = formula.axis_names().concat();
            let expected: Vec<String> = formula
                .terms
                .iter()
                .map(|term| {
                    let mut inputs: Vec<String> = term
                        .factors
                        .iter()
                        .map(|f| f.slots().iter().map(name).collect::<String>())
                        .filter(|s| !s.is_empty())
                        .collect();
                    let read = inputs.concat();
                    let all = axes.chars().chain(
                        term.sums
                            .iter()
                            .flat_map(|&id| formula.indices[id].name.chars()),
                    );
                    inputs.extend(all.filter(|c| !read.contains(*c)).map(String::from));
                    format!("{}->{axes}", inputs.join(","))
                })
                .collect();
            assert_eq!(got, expected, "{source}:\n{code}");
        }
    }

    #[test]
    fn intermediates_come_first_then_the_derived_tensors() {
        let (code, _) = emitted(
            "relu(X @ W.T + b)",
            &[("X", "2x3"), ("W", "4x3"), ("b", "4")],
        );
        let z1 = code
            .find("    Z1 = X @ W.T + b\n")
            .expect("Z1 from the graph");
        let relu = code
            .find("    relu_prime_Z1 = (Z1 > 0).astype(np.float64)\n")
            .expect("relu' of Z1");
        assert!(z1 < relu);
        assert!(code.contains("np.einsum(\"ik,ij,jl->ijkl\", np.eye(2), relu_prime_Z1, W)"));
    }

    #[test]
    fn operands_get_the_parentheses_python_needs() {
        let (code, _) = emitted("softmax(-(X.T @ X) / 2, axis=1)", &[("X", "3x2")]);
        assert!(code.contains("    Z1 = -(X.T @ X) / 2.0\n"), "{code}");
        let (code, _) = emitted(
            "softmax(X @ (-(W - 1) ** 2 + W.T), axis=1)",
            &[("X", "2x2"), ("W", "2x2")],
        );
        assert!(code.contains("    Z1 = -(W - 1.0) ** 2 + W.T\n"), "{code}");
    }
}
