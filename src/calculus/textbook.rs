//! Rewriting a simplified formula towards the textbook's form, without changing its value.
//!
//! [`textbook`] applies, in order:
//! 1. **one tensor per value**: tensors of nodes that compute the same value (the two
//!    `trace(X)` of `trace(X) * trace(X)`, see [`super::same_nodes`]) become one tensor;
//! 2. **closed forms of f′** where they are simpler: log′(u) = u⁻¹, exp′(u) = exp(u) (the
//!    node exp(u) itself), sqrt′(u) = ½·sqrt(u)⁻¹, square′(u) = 2u, tanh′(u) = 1 − tanh(u)²
//!    and sigmoid′(u) = σ(u)·(1 − σ(u)) (through the node tanh(u) or σ(u): one factor,
//!    [`TensorDef::ElemDerivOfValue`], so that no term splits in two), and sign(u)·u = |u|
//!    (abs′(u) read at the same entry as u; abs′ alone is written sign(u) by `render`);
//! 3. **powers of one tensor merged**: Z⁻¹·Z = 1, Z·Z = Z², Z⁻²·Z = Z⁻¹ (node values and
//!    their powers read at the same entry);
//! 4. **like terms through intermediates**: terms equal up to renaming of summation indices
//!    once their product intermediates are inlined are merged, and products are folded back
//!    into the named intermediates they are (see [`super::like_terms`]), so that ∂tr(X⁴)/∂X
//!    is one term, 4·(X³)ᵀ;
//!
//! and after each, like terms are merged again ([`simplify`]), and the tensor list is cut down to the
//!    tensors the terms read, so that the intermediates are named Z1, Z2, … without gaps
//!    (see `render::Names`).
//!
//! Each rewrite is one [`Rewrite`], so that the derivation steps can show them one by one.

use super::formula::{Factor, Formula, Slot, TensorDef, TensorId, Term, intern_tensor};
use super::like_terms;
use super::same_nodes;
use super::simplify::simplify;
use crate::expr::{ElemFn, Graph, NodeId, Op, ValueDerivative};

/// One rewrite towards the textbook's form, as the derivation steps name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rewrite {
    /// Equal subexpressions become one tensor, and like terms are merged.
    SameValues,
    /// f′ in closed form where it is simpler (log′, exp′, sqrt′, square′, tanh′, sigmoid′,
    /// sign(u)·u = |u|).
    ClosedForms,
    /// Powers of one tensor at one entry merged.
    Powers,
    /// Terms equal up to renaming of summation indices through intermediates merged, and
    /// products written as the named intermediates they are.
    LikeTerms,
}

impl Rewrite {
    /// Every rewrite, in the order [`textbook`] applies them.
    pub const ALL: [Rewrite; 4] = [
        Rewrite::SameValues,
        Rewrite::ClosedForms,
        Rewrite::Powers,
        Rewrite::LikeTerms,
    ];

    /// What the rewrite does, as a step title.
    pub fn title(self) -> &'static str {
        match self {
            Rewrite::SameValues => "Name equal subexpressions once and merge like terms",
            Rewrite::ClosedForms => "Write the derivatives of elementwise functions in closed form",
            Rewrite::Powers => "Merge powers of the same tensor",
            Rewrite::LikeTerms => "Fold products into named intermediates and merge like terms",
        }
    }

    /// `formula` with this rewrite applied (and simplified again).
    pub fn apply(self, graph: &Graph, formula: &Formula) -> Formula {
        let rewritten = match self {
            Rewrite::SameValues => same_values(graph, formula),
            Rewrite::ClosedForms => closed_forms(graph, formula),
            Rewrite::Powers => merged_powers(formula),
            Rewrite::LikeTerms => like_terms::merged(graph, formula),
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
        .map(|def| with_nodes(def, &rep))
        .collect();
    let first: Vec<TensorId> = tensors
        .iter()
        .map(|def| tensors.iter().position(|d| d == def).expect("itself"))
        .collect();
    with_tensor_ids(formula, tensors, |id| first[id])
}

/// The closed forms of f′ (see the module doc), where the graph has the node they name.
fn closed_forms(graph: &Graph, formula: &Formula) -> Formula {
    let rep = same_nodes::representatives(graph);
    let node_of = |func: ElemFn, arg: NodeId| {
        same_nodes::find(graph, &rep, &Op::Elementwise(func, arg), graph.root + 1)
    };
    let mut tensors = formula.tensors.clone();
    let mut terms = Vec::new();
    for term in &formula.terms {
        let mut term = term.clone();
        let mut n = 0;
        while n < term.factors.len() {
            let Factor::Tensor { tensor, slots } = term.factors[n].clone() else {
                n += 1;
                continue;
            };
            let TensorDef::ElemDeriv { func, arg } = tensors[tensor] else {
                n += 1;
                continue;
            };
            let at = |def: TensorDef, tensors: &mut Vec<TensorDef>| Factor::Tensor {
                tensor: intern_tensor(tensors, def),
                slots: slots.clone(),
            };
            match func {
                ElemFn::Log => {
                    term.factors[n] = at(
                        TensorDef::Power {
                            arg,
                            exponent: -1.0,
                        },
                        &mut tensors,
                    );
                }
                ElemFn::Square => {
                    term.factors[n] = at(TensorDef::Node(arg), &mut tensors);
                    term.coeff *= 2.0;
                }
                ElemFn::Exp => {
                    if let Some(e) = node_of(ElemFn::Exp, arg) {
                        term.factors[n] = at(TensorDef::Node(e), &mut tensors);
                    }
                }
                ElemFn::Sqrt => {
                    if let Some(root) = node_of(ElemFn::Sqrt, arg) {
                        let inverse = TensorDef::Power {
                            arg: root,
                            exponent: -1.0,
                        };
                        term.factors[n] = at(inverse, &mut tensors);
                        term.coeff *= 0.5;
                    }
                }
                ElemFn::Tanh | ElemFn::Sigmoid => {
                    if let (Some(closed), Some(value)) =
                        (ValueDerivative::of(func), node_of(func, arg))
                    {
                        let def = TensorDef::ElemDerivOfValue {
                            func: closed,
                            arg,
                            value,
                        };
                        // In f′'s place in the tensor list, so that the factor keeps its
                        // place in the term (every f′(arg) is rewritten alike).
                        if !tensors.contains(&def) {
                            tensors[tensor] = def.clone();
                        }
                        term.factors[n] = at(def, &mut tensors);
                    }
                }
                ElemFn::Abs => {
                    let value = Factor::Tensor {
                        tensor: intern_tensor(&mut tensors, TensorDef::Node(arg)),
                        slots: slots.clone(),
                    };
                    if let (Some(abs), Some(u)) = (
                        node_of(ElemFn::Abs, arg),
                        term.factors.iter().position(|f| *f == value),
                    ) {
                        term.factors[n] = at(TensorDef::Node(abs), &mut tensors);
                        term.factors.remove(u);
                        continue;
                    }
                }
                _ => {}
            }
            n += 1;
        }
        terms.push(term);
    }
    Formula {
        tensors,
        terms,
        ..formula.clone()
    }
}

/// Node values and powers of one node read at the same slots merged into one power (none
/// if the exponents cancel, the value itself at exponent 1).
fn merged_powers(formula: &Formula) -> Formula {
    let mut tensors = formula.tensors.clone();
    let power_of = |factor: &Factor| match factor {
        Factor::Tensor { tensor, slots } => match formula.tensors[*tensor] {
            TensorDef::Node(node) => Some((node, slots.clone(), 1.0)),
            TensorDef::Power { arg, exponent } => Some((arg, slots.clone(), exponent)),
            _ => None,
        },
        Factor::Delta(..) => None,
    };
    let mut terms = Vec::new();
    for term in &formula.terms {
        let mut factors: Vec<Factor> = Vec::new();
        // (node, slots, exponent, position in `factors`)
        let mut powers: Vec<(NodeId, Vec<Slot>, f64, usize)> = Vec::new();
        for factor in &term.factors {
            match power_of(factor) {
                Some((node, slots, p)) => {
                    match powers
                        .iter_mut()
                        .find(|(n, s, ..)| *n == node && *s == slots)
                    {
                        Some(entry) => entry.2 += p,
                        None => {
                            powers.push((node, slots, p, factors.len()));
                            factors.push(factor.clone());
                        }
                    }
                }
                None => factors.push(factor.clone()),
            }
        }
        let mut keep = vec![true; factors.len()];
        for (node, slots, p, at) in powers {
            let def = match p {
                0.0 => {
                    keep[at] = false;
                    continue;
                }
                1.0 => TensorDef::Node(node),
                exponent => TensorDef::Power {
                    arg: node,
                    exponent,
                },
            };
            let tensor = intern_tensor(&mut tensors, def);
            factors[at] = Factor::Tensor { tensor, slots };
        }
        let factors = factors
            .into_iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(f, _)| f)
            .collect();
        terms.push(Term {
            factors,
            ..term.clone()
        });
    }
    Formula {
        tensors,
        terms,
        ..formula.clone()
    }
}

/// `def` with each node it names replaced by its representative in `rep`.
fn with_nodes(def: &TensorDef, rep: &[NodeId]) -> TensorDef {
    let node = rep[def.node()];
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
        TensorDef::ElemDerivOfValue { func, arg, .. } => TensorDef::ElemDerivOfValue {
            func,
            arg: rep[arg],
            value: node,
        },
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
    use std::collections::BTreeMap;

    use super::*;
    use crate::calculus::jacobian_formula;
    use crate::calculus::simplify::tests::{EXPRESSIONS, SHAPES};
    use crate::calculus::test_support::{all_indices, tensors, value_at};
    use crate::calculus::test_support::{explained, graph};
    use crate::calculus::{raw_formula, simplify};
    use crate::check::{agrees, finite_difference};
    use crate::eval::evaluate;
    use crate::expr::check_wrt;
    use crate::inputs::Inputs;

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

    /// For every expression of the simplification tests and every variable it uses, at
    /// every index of J: the formula after each rewrite equals the raw chain-rule formula,
    /// and the final one agrees with central finite differences of the forward pass.
    #[test]
    fn every_rewrite_keeps_every_entry() {
        for source in EXPRESSIONS {
            let g = graph(source, SHAPES);
            let inputs = Inputs::new(&g, BTreeMap::new(), 5).unwrap();
            let values = evaluate(&g, &inputs).unwrap();
            for name in g.variables() {
                let Ok(wrt) = check_wrt(&g, name) else {
                    continue;
                };
                let raw = raw_formula(&g, wrt);
                let raw_tensors = tensors(&raw, &values);
                let mut formula = simplify(&raw);
                for rewrite in Rewrite::ALL {
                    formula = rewrite.apply(&g, &formula);
                    let rewritten = tensors(&formula, &values);
                    for at in all_indices(&raw.shape()) {
                        let r = value_at(&raw, &raw_tensors, &at);
                        let t = value_at(&formula, &rewritten, &at);
                        let context = format!("{source} wrt {name} after {rewrite:?} at {at:?}");
                        if r.is_nan() {
                            continue; // log of a negative entry: NaN either way
                        }
                        assert!(
                            (r - t).abs() <= 1e-9 * r.abs().max(1.0),
                            "{context}: raw {r}, rewritten {t}"
                        );
                        if Some(&rewrite) == Rewrite::ALL.last() {
                            let fd = finite_difference(&g, &inputs, name, &at).unwrap();
                            assert!(agrees(t, &fd), "{context}: {t} vs {}", fd.value);
                        }
                    }
                }
                assert_eq!(formula, jacobian_formula(&g, wrt), "{source} wrt {name}");
            }
        }
    }

    /// The closed forms of the examples (ASCII, as `explain` prints them).
    #[test]
    fn closed_forms_of_elementwise_derivatives() {
        let square = &[("X", "3x3")];
        type Case = (
            &'static str,
            &'static [(&'static str, &'static str)],
            &'static str,
        );
        let cases: &[Case] = &[
            // d log|det X| = (X⁻¹)ᵀ: no log′·abs′ chain left.
            ("log(abs(det(X)))", square, "inv(X)[l,k]"),
            // d‖x − a‖ = (x − a)/‖x − a‖
            (
                "sqrt(sum(square(x - a)))",
                &[("x", "3"), ("a", "3")],
                "Y^-1*Z1[k]",
            ),
            // d(1/det X) = −(X⁻¹)ᵀ/det X: Z1⁻²·Z1 merged.
            ("1 / det(X)", square, "-inv(X)[l,k]*Z1^-1"),
            ("exp(X)", square, "delta(i,k)*delta(j,l)*Y[i,j]"),
            ("log(X)", square, "delta(i,k)*delta(j,l)*X[i,j]^-1"),
            ("sqrt(X)", square, "(1/2)*delta(i,k)*delta(j,l)*Y[i,j]^-1"),
            ("abs(X)", square, "delta(i,k)*delta(j,l)*sign(X)[i,j]"),
            // sign(X)·X + |X| = 2·|X|
            ("abs(X) * X", square, "2*delta(i,k)*delta(j,l)*Z1[i,j]"),
            // tanh′(u) = 1 − tanh(u)², σ′(u) = σ(u)·(1 − σ(u)): one factor, through the
            // node tanh(u) or σ(u) (here the root, Y; elsewhere named in the where list).
            (
                "tanh(X @ W.T)",
                &[("X", "3x4"), ("W", "2x4")],
                "delta(i,k)*(1 - Y[i,j]^2)*W[j,l]",
            ),
            (
                "sigmoid(X @ W.T)",
                &[("X", "3x4"), ("W", "2x4")],
                "delta(i,k)*Y[i,j]*(1 - Y[i,j])*W[j,l]",
            ),
            (
                "sum(tanh(X) * X)",
                square,
                "X[k,l]*(1 - Z1[k,l]^2) + Z1[k,l]",
            ),
        ];
        for (source, shapes, expected) in cases {
            assert_eq!(
                explained(source, shapes, shapes[0].0).0,
                *expected,
                "{source}"
            );
        }
    }
}
