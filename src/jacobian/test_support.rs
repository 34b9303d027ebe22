//! Formulas, graphs, values and whole problems built for the tests of [`crate::jacobian`].

use std::collections::BTreeMap;

use ndarray::{ArrayD, IxDyn};

use super::Jacobian;
pub(super) use crate::calculus::test_support::formula_over_ijkl;
use crate::calculus::{self, Factor, Formula, IndexId, Slot, TensorDef, TensorId, Term};
use crate::eval;
use crate::expr::{self, Graph, Node, Op, Shape, Span};
use crate::inputs::Inputs;

pub(super) const I: Slot = Slot::Index(0);
pub(super) const J: Slot = Slot::Index(1);
pub(super) const K: Slot = Slot::Index(2);
pub(super) const L: Slot = Slot::Index(3);
pub(super) const M: Slot = Slot::Index(4);
pub(super) const N: Slot = Slot::Index(5);

/// A graph whose nodes are the given input variables (the last one is the root).
pub(super) fn graph(inputs: &[(&str, &[usize])]) -> Graph {
    let source = inputs.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(" ");
    let mut start = 0;
    let nodes = inputs
        .iter()
        .map(|(name, dims)| {
            let span = Span::new(start, start + name.len());
            start += name.len() + 1;
            Node {
                op: Op::Input(name.to_string()),
                shape: Shape(dims.to_vec()),
                span,
            }
        })
        .collect::<Vec<_>>();
    Graph {
        source,
        root: nodes.len() - 1,
        nodes,
    }
}

/// Deterministic values in [-1, 1) for a tensor of shape `dims`.
pub(super) fn filled(dims: &[usize], seed: u64) -> ArrayD<f64> {
    let n: usize = dims.iter().product();
    let data = (0..n as u64)
        .map(|k| {
            let x = ((k + 1) * 2654435761 + seed * 40503) % 1000;
            x as f64 / 500.0 - 1.0
        })
        .collect();
    ArrayD::from_shape_vec(IxDyn(dims), data).unwrap()
}

pub(super) fn term(coeff: f64, sums: &[IndexId], factors: Vec<Factor>) -> Term {
    Term {
        coeff,
        sums: sums.to_vec(),
        factors,
    }
}

pub(super) fn tensor(tensor: TensorId, slots: &[Slot]) -> Factor {
    Factor::Tensor {
        tensor,
        slots: slots.to_vec(),
    }
}

/// J by direct summation over every summation index, from the tensors' values:
/// independent of the plan and of hoisting.
pub(super) fn naive_entry(f: &Formula, tensors: &[ArrayD<f64>], index: &[usize]) -> f64 {
    fn term_value(
        f: &Formula,
        tensors: &[ArrayD<f64>],
        t: &Term,
        values: &mut Vec<usize>,
        k: usize,
    ) -> f64 {
        if k == t.sums.len() {
            let at = |s: &Slot, values: &[usize]| match *s {
                Slot::Index(id) => values[id],
                Slot::Fixed(c) => c,
            };
            return t.factors.iter().fold(t.coeff, |v, factor| {
                v * match factor {
                    Factor::Delta(a, b) => f64::from(u8::from(at(a, values) == at(b, values))),
                    Factor::Tensor { tensor, slots } => {
                        let ix: Vec<usize> = slots.iter().map(|s| at(s, values)).collect();
                        tensors[*tensor][IxDyn(&ix)]
                    }
                }
            });
        }
        let s = t.sums[k];
        (0..f.indices[s].dim)
            .map(|v| {
                values[s] = v;
                term_value(f, tensors, t, values, k + 1)
            })
            .sum()
    }
    let mut values = vec![0; f.indices.len()];
    for (p, id) in f.free().into_iter().enumerate() {
        values[id] = index[p];
    }
    f.terms
        .iter()
        .map(|t| term_value(f, tensors, t, &mut values, 0))
        .sum()
}

pub(super) fn all_indices(dims: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![vec![]];
    for &d in dims {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                (0..d).map(move |v| {
                    let mut next: Vec<usize> = prefix.clone();
                    next.push(v);
                    next
                })
            })
            .collect();
    }
    out
}

/// Jacobian of a formula whose tensors are the graph's input nodes, with values.
pub(super) fn jacobian(inputs: &[(&str, &[usize])], f: Formula) -> (Jacobian, Vec<ArrayD<f64>>) {
    let g = graph(inputs);
    let values: Vec<ArrayD<f64>> = inputs
        .iter()
        .enumerate()
        .map(|(n, (_, dims))| filled(dims, n as u64))
        .collect();
    let jac = Jacobian::from_node_values(g, 0, f, |id| &values[id]).unwrap();
    (jac, values)
}

/// A formula exercising every kind of part: a delta with a tensor, a matrix-product
/// hoist, a vector contraction, a per-entry contraction over three free indices, a
/// double sum, a pin, and a summation index no factor uses.
pub(super) fn mixed() -> (Vec<(&'static str, &'static [usize])>, Formula) {
    // dims: i 3, j 4, k 3, l 5, m 2, n 3
    let inputs: Vec<(&str, &[usize])> = vec![
        ("A", &[3, 2]), // A[i,m]
        ("B", &[5, 2]), // B[l,m]
        ("C", &[2]),    // C[m]
        ("D", &[4, 5]), // D[j,l]
        ("E", &[4, 2]), // E[j,m]
        ("F", &[2, 3]), // F[m,n]
    ];
    let tensors = (0..6).map(TensorDef::Node).collect();
    let terms = vec![
        term(1.0, &[], vec![Factor::Delta(I, K), tensor(3, &[J, L])]),
        term(
            -2.0,
            &[4],
            vec![
                Factor::Delta(J, Slot::Fixed(1)),
                tensor(0, &[I, M]),
                tensor(1, &[L, M]),
            ],
        ),
        term(
            0.5,
            &[4],
            vec![tensor(0, &[I, M]), tensor(2, &[M]), tensor(3, &[J, L])],
        ),
        term(
            1.5,
            &[4],
            vec![tensor(0, &[K, M]), tensor(4, &[J, M]), tensor(1, &[L, M])],
        ),
        term(
            1.0,
            &[4, 5],
            vec![tensor(0, &[I, M]), tensor(5, &[M, N]), Factor::Delta(K, N)],
        ),
        term(
            0.25,
            &[5],
            vec![
                tensor(0, &[I, Slot::Fixed(1)]),
                Factor::Delta(L, Slot::Fixed(4)),
            ],
        ),
    ];
    (
        inputs,
        formula_over_ijkl(&[3, 4, 3, 5, 2, 3], tensors, terms),
    )
}

/// An expression, the shapes of its variables, and the variable to differentiate by.
pub(super) type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

/// The Jacobian of `source` with respect to `wrt` (`A,B` for the second derivative ∂/∂B of
/// ∂Y/∂A), inputs drawn with seed 0 unless given in `loaded`.
pub(crate) fn problem(
    source: &str,
    shapes: &[(&str, &str)],
    wrt: &str,
    loaded: BTreeMap<String, ArrayD<f64>>,
) -> (Jacobian, Inputs) {
    let shapes: BTreeMap<String, Shape> = shapes
        .iter()
        .map(|(n, s)| (n.to_string(), expr::parse_shape(s).unwrap()))
        .collect();
    let graph = expr::compile(source, &shapes).unwrap();
    let inputs = Inputs::new(&graph, loaded, 0).unwrap();
    let values = eval::evaluate(&graph, &inputs).unwrap();
    let (a, second) = match wrt.split_once(',') {
        Some((a, b)) => (graph.input(a).unwrap(), Some(graph.input(b).unwrap())),
        None => (graph.input(wrt).unwrap(), None),
    };
    let formula = match second {
        None => calculus::jacobian_formula(&graph, a),
        Some(b) => calculus::second_formula_within(&graph, (a, b), calculus::MAX_TERMS).unwrap(),
    };
    let jacobian = Jacobian::new(graph, a, formula, &values).unwrap();
    let jacobian = match second {
        Some(b) => jacobian.with_second(b),
        None => jacobian,
    };
    (jacobian, inputs)
}

/// The Jacobian of `source` with respect to variable `wrt` (0: A, 1: B, 2: C) of the
/// variables A, B (d×d), C (d×e), v (d) and s (scalar), their entries drawn from `values`
/// in the order `picks` cycles through, or `None` if the expression is ill-typed or cannot
/// be evaluated: the random problems of the property tests of the counts and the tiles.
pub(super) fn problem_from_picks(
    source: &str,
    wrt: usize,
    (d, e): (usize, usize),
    values: &[f64],
    picks: &[usize],
) -> Option<Jacobian> {
    let shapes: BTreeMap<String, Shape> = [
        ("A", vec![d, d]),
        ("B", vec![d, d]),
        ("C", vec![d, e]),
        ("v", vec![d]),
        ("s", vec![]),
    ]
    .into_iter()
    .map(|(n, dims)| (n.to_string(), Shape(dims)))
    .collect();
    let graph = expr::compile(source, &shapes).ok()?;
    let wrt = graph.input(["A", "B", "C"][wrt])?;
    let mut next = picks.iter().cycle();
    let loaded: BTreeMap<String, ArrayD<f64>> = shapes
        .iter()
        .filter(|(name, _)| graph.input(name).is_some())
        .map(|(name, shape)| {
            let n: usize = shape.0.iter().product();
            let data = (0..n).map(|_| values[*next.next().unwrap()]).collect();
            let array = ArrayD::from_shape_vec(IxDyn(&shape.0), data).unwrap();
            (name.clone(), array)
        })
        .collect();
    let inputs = Inputs::new(&graph, loaded, 0).ok()?;
    let values = eval::evaluate(&graph, &inputs).ok()?;
    let formula = calculus::jacobian_formula(&graph, wrt);
    Jacobian::new(graph, wrt, formula, &values).ok()
}
