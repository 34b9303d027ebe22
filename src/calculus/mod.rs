//! Index formulas: types, derivation rules, simplification, rendering, derivation steps.
//!
//! The files stand in one order, each using only those before it: [`formula`] (the data
//! types, summation naming, slot helpers), [`render`] (writing a formula in Unicode, ASCII
//! or LaTeX, and the symbols of each notation), [`derive`] (the raw chain-rule formula),
//! [`simplify`] (delta elimination, like terms), [`steps`] (the derivation as a worked
//! answer), [`second`] (second derivatives: the first-order formula differentiated once
//! more). This file holds the pipeline that joins them: [`jacobian_formula`] derives and
//! simplifies ([`jacobian_formula_within`] refuses a formula of more than a given number of
//! terms; [`second_formula_within`] gives ∂/∂B of ∂Y/∂A) and [`jacobian_lhs`] writes the
//! left-hand side of either order.

pub mod derive;
pub mod formula;
pub mod like_terms;
pub mod render;
pub mod same_nodes;
pub mod second;
pub mod simplify;
pub mod steps;
#[cfg(test)]
pub(crate) mod test_support;
pub mod textbook;

pub use derive::{MAX_TERMS, TooManyTerms, raw_formula, raw_formula_within};
pub use formula::{
    Factor, Formula, IndexId, IndexRole, IndexVar, Slot, TensorDef, TensorId, Term, intern_tensor,
};
pub use render::{
    Notation, Symbols, definitions, named_nodes, node_name, render, render_factor, render_term,
    to_ascii,
};
pub use simplify::simplify;
pub use steps::{Step, derivation_steps};

use crate::expr::{Graph, NodeId};

/// The left-hand side of J's formula by the input node `wrt`: `∂Y[i,j]/∂X[k,l]`; at second
/// order (`second` is B) `∂²Y[i,j]/∂X[k,l]∂W[g,h]`.
pub fn jacobian_lhs(
    formula: &Formula,
    graph: &Graph,
    (wrt, second): (NodeId, Option<NodeId>),
    notation: Notation,
) -> String {
    match second {
        None => render::lhs(formula, graph, wrt, notation),
        Some(b) => second::lhs(formula, graph, (wrt, b), notation),
    }
}

/// The simplified Jacobian of `graph`'s root with respect to the input node `wrt`
/// (`simplify(&raw_formula(graph, wrt))`, then rewritten towards the textbook's form by
/// [`textbook::textbook`]): for `X @ W.T` wrt X, `δ(i,k)·W[j,l]`.
pub fn jacobian_formula(graph: &Graph, wrt: NodeId) -> Formula {
    textbook::textbook(graph, &simplify(&raw_formula(graph, wrt)))
}

/// [`jacobian_formula`], refused if the chain rule gives more than `max_terms` terms
/// (see [`raw_formula_within`]); simplification never adds terms.
pub fn jacobian_formula_within(
    graph: &Graph,
    wrt: NodeId,
    max_terms: usize,
) -> Result<Formula, TooManyTerms> {
    Ok(textbook::textbook(
        graph,
        &simplify(&raw_formula_within(graph, wrt, max_terms)?),
    ))
}

/// The simplified second derivative ∂/∂B of ∂Y/∂A of `graph`'s root, A and B being the
/// input nodes `wrt` (`--wrt A,B`; the Hessian when A = B), laid out out.shape + A.shape +
/// B.shape: the first-order formula [`jacobian_formula_within`] differentiated once more
/// (see [`second`]). Refused if either derivative has more than `max_terms` terms.
pub fn second_formula_within(
    graph: &Graph,
    (a, b): (NodeId, NodeId),
    max_terms: usize,
) -> Result<Formula, TooManyTerms> {
    let first = jacobian_formula_within(graph, a, max_terms)?;
    Ok(textbook::textbook(
        graph,
        &simplify(&second::second_derivation(graph, &first, b, max_terms)?.raw),
    ))
}
