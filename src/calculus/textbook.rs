//! Rewriting a simplified formula towards the textbook's form, without changing its value.
//!
//! [`textbook`] applies, in order:
//! 1. **one tensor per value**: tensors of nodes that compute the same value (the two
//!    `trace(X)` of `trace(X) * trace(X)`, see [`super::same_nodes`]) become one tensor;
//! 2. then like terms are merged again ([`simplify`]), and the tensor list is cut down to the
//!    tensors the terms read, so that the intermediates are named Z1, Z2, … without gaps
//!    (see `render::Names`).
//!
//! Each rewrite is one [`Rewrite`], so that the derivation steps can show them one by one.

use super::formula::{Factor, Formula, TensorDef, TensorId};
use super::same_nodes;
use super::simplify::simplify;
use crate::expr::Graph;

/// One rewrite towards the textbook's form, as the derivation steps name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rewrite {
    /// Equal subexpressions become one tensor, and like terms are merged.
    SameValues,
}

impl Rewrite {
    /// Every rewrite, in the order [`textbook`] applies them.
    pub const ALL: [Rewrite; 1] = [Rewrite::SameValues];

    /// What the rewrite does, as a step title.
    pub fn title(self) -> &'static str {
        match self {
            Rewrite::SameValues => "Name equal subexpressions once and merge like terms",
        }
    }

    /// `formula` with this rewrite applied (and simplified again).
    pub fn apply(self, graph: &Graph, formula: &Formula) -> Formula {
        let rewritten = match self {
            Rewrite::SameValues => same_values(graph, formula),
        };
        tidy(&simplify(&rewritten))
    }
}

/// `formula` (simplified) with every rewrite applied, in order.
pub fn textbook(graph: &Graph, formula: &Formula) -> Formula {
    Rewrite::ALL
        .into_iter()
        .fold(tidy(formula), |f, rewrite| rewrite.apply(graph, &f))
}

/// Every tensor's node replaced by its representative, and equal tensors by the first.
fn same_values(graph: &Graph, formula: &Formula) -> Formula {
    let rep = same_nodes::representatives(graph);
    let tensors: Vec<TensorDef> = formula
        .tensors
        .iter()
        .map(|def| with_node(def, rep[def.node()]))
        .collect();
    let first: Vec<TensorId> = tensors
        .iter()
        .map(|def| tensors.iter().position(|d| d == def).expect("itself"))
        .collect();
    with_tensor_ids(formula, tensors, |id| first[id])
}

/// `def` computed from `node` instead of its own node.
fn with_node(def: &TensorDef, node: crate::expr::NodeId) -> TensorDef {
    match *def {
        TensorDef::Node(_) => TensorDef::Node(node),
        TensorDef::ElemDeriv { func, .. } => TensorDef::ElemDeriv { func, arg: node },
        TensorDef::ElemSecondDeriv { func, .. } => TensorDef::ElemSecondDeriv { func, arg: node },
        TensorDef::Power { exponent, .. } => TensorDef::Power {
            arg: node,
            exponent,
        },
        TensorDef::Centered { axis, .. } => TensorDef::Centered { arg: node, axis },
        TensorDef::Softmax { axis, .. } => TensorDef::Softmax { arg: node, axis },
        TensorDef::Inverse { .. } => TensorDef::Inverse { arg: node },
    }
}

/// `formula` over the tensor list `tensors`, each factor's tensor id passed through `map`.
fn with_tensor_ids(
    formula: &Formula,
    tensors: Vec<TensorDef>,
    map: impl Fn(TensorId) -> TensorId,
) -> Formula {
    let terms = formula
        .terms
        .iter()
        .map(|term| {
            let mut term = term.clone();
            for factor in &mut term.factors {
                if let Factor::Tensor { tensor, .. } = factor {
                    *tensor = map(*tensor);
                }
            }
            term
        })
        .collect();
    Formula {
        tensors,
        terms,
        ..formula.clone()
    }
}

/// `formula` with only the tensors its terms read (in their order), so that the nodes it
/// names are those it reads, numbered without gaps (see `render::Names`).
fn tidy(formula: &Formula) -> Formula {
    let mut used: Vec<TensorId> = Vec::new();
    for factor in formula.terms.iter().flat_map(|t| &t.factors) {
        if let Factor::Tensor { tensor, .. } = factor
            && !used.contains(tensor)
        {
            used.push(*tensor);
        }
    }
    used.sort();
    let tensors = used.iter().map(|&id| formula.tensors[id].clone()).collect();
    with_tensor_ids(formula, tensors, |old| {
        used.iter()
            .position(|&id| id == old)
            .expect("a used tensor")
    })
}

#[cfg(test)]
mod tests {
    use crate::calculus::jacobian_formula;
    use crate::calculus::render::{Notation, definitions, render};
    use crate::calculus::test_support::graph;

    fn explained(source: &str, shapes: &[(&str, &str)], wrt: &str) -> (String, Vec<String>) {
        let g = graph(source, shapes);
        let f = jacobian_formula(&g, g.input(wrt).unwrap());
        let names = definitions(&f, &g)
            .into_iter()
            .map(|(name, text)| format!("{name} = {text}"))
            .collect();
        (render(&f, &g, Notation::Ascii), names)
    }

    #[test]
    fn one_name_per_distinct_subexpression() {
        let (formula, names) = explained("trace(X) * trace(X)", &[("X", "3x3")], "X");
        assert_eq!(formula, "2*delta(k,l)*Z1");
        assert_eq!(names, ["Z1 = trace(X)"]);
        let (formula, names) = explained(
            "logsumexp(X @ W, axis=1) * relu(X @ W)",
            &[("X", "3x3"), ("W", "3x3")],
            "X",
        );
        assert!(!formula.contains("Z4"), "{formula}");
        assert_eq!(
            names,
            [
                "Z1 = X @ W",
                "Z2 = logsumexp(X @ W, axis=1)",
                "Z3 = relu(X @ W)"
            ]
        );
    }

    #[test]
    fn names_are_numbered_without_gaps() {
        // inv(X @ W) is named in the derivation steps (inv(Z1)) but not in the formula.
        let (_, names) = explained("relu(inv(X @ W) @ X)", &[("X", "3x3"), ("W", "3x3")], "X");
        assert_eq!(names, ["Z1 = inv(X @ W)", "Z2 = inv(X @ W) @ X"]);
    }
}
