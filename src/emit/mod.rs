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
use crate::calculus::render::{Notation, definitions, lhs, render, render_term};
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
/// to the input node `wrt`, with `framework`.
pub fn python(
    formula: &Formula,
    graph: &Graph,
    wrt: NodeId,
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
    let head = lhs(formula, graph, wrt, Notation::Ascii);
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
