//! Test helpers for the calculus: compiling expressions and a naive, brute-force
//! evaluation of index formulas (every summation index looped over, every tensor built
//! from node values by its definition), independent of the production binding.

use std::collections::BTreeMap;

use nalgebra::DMatrix;
use ndarray::{ArrayD, Axis, IxDyn};

use super::formula::{Factor, Formula, IndexRole, IndexVar, Slot, TensorDef, Term};
use crate::eval::Values;
use crate::expr::{Graph, Shape, compile, parse_shape};

/// The formula of `source` (variables of the given shapes) by `wrt` (`A,B` at second
/// order) in ASCII, with the names it defines (`Z1 = X @ W`).
pub fn explained(source: &str, shapes: &[(&str, &str)], wrt: &str) -> (String, Vec<String>) {
    let g = graph(source, shapes);
    let f = match wrt.split_once(',') {
        None => super::jacobian_formula(&g, g.input(wrt).unwrap()),
        Some((a, b)) => {
            let pair = (g.input(a).unwrap(), g.input(b).unwrap());
            super::second_formula_within(&g, pair, super::MAX_TERMS).unwrap()
        }
    };
    let names = super::render::definitions(&f, &g)
        .into_iter()
        .map(|(name, text)| format!("{name} = {text}"))
        .collect();
    (super::render(&f, &g, super::Notation::Ascii), names)
}

/// The shapes of the linear layer the tests use: X 3×4, W 2×4, b of length 2.
pub const LINEAR: &[(&str, &str)] = &[("X", "3x4"), ("W", "2x4"), ("b", "2")];

/// A formula over J[i,j,k,l] (outputs i, j; inputs k, l) with the given dims; dims past
/// the fourth are summation indices m, n, p, … .
pub fn formula_over_ijkl(dims: &[usize], tensors: Vec<TensorDef>, terms: Vec<Term>) -> Formula {
    let names = ["i", "j", "k", "l", "m", "n", "p", "q"];
    let roles = [
        IndexRole::Output,
        IndexRole::Output,
        IndexRole::Input,
        IndexRole::Input,
    ];
    Formula {
        indices: dims
            .iter()
            .enumerate()
            .map(|(p, &dim)| IndexVar {
                name: names[p].to_string(),
                dim,
                role: roles.get(p).copied().unwrap_or(IndexRole::Summation),
            })
            .collect(),
        out: vec![0, 1],
        input: vec![2, 3],
        tensors,
        terms,
    }
}

/// Compiles `source` with the given variable shapes (`("X", "3x4")`), panicking on errors.
pub fn graph(source: &str, shapes: &[(&str, &str)]) -> Graph {
    let shapes: BTreeMap<String, Shape> = shapes
        .iter()
        .map(|(name, shape)| (name.to_string(), parse_shape(shape).unwrap()))
        .collect();
    compile(source, &shapes).unwrap_or_else(|e| panic!("{source}: {}", e.render(source)))
}

/// Every tensor of `formula`, computed from the node values by its definition.
pub fn tensors(formula: &Formula, values: &Values) -> Vec<ArrayD<f64>> {
    formula
        .tensors
        .iter()
        .map(|def| match *def {
            TensorDef::Node(node) => values.get(node).clone(),
            TensorDef::ElemDeriv { func, arg } => values.get(arg).mapv(|x| func.derivative(x)),
            TensorDef::ElemDerivOfValue { func, value, .. } => {
                values.get(value).mapv(|v| func.at(v))
            }
            TensorDef::ElemSecondDeriv { func, arg } => values
                .get(arg)
                .mapv(|x| crate::eval::kernels::second_derivative(func, x)),
            TensorDef::Power { arg, exponent } => values.get(arg).mapv(|x| x.powf(exponent)),
            TensorDef::Centered { arg, axis } => {
                let x = values.get(arg);
                match axis {
                    None => {
                        let mean = x.mean().unwrap();
                        x.mapv(|v| v - mean)
                    }
                    Some(axis) => x - &x.mean_axis(Axis(axis)).unwrap().insert_axis(Axis(axis)),
                }
            }
            TensorDef::Softmax { arg, axis } => {
                let e = values.get(arg).mapv(f64::exp);
                match axis {
                    None => {
                        let total = e.sum();
                        e / total
                    }
                    Some(axis) => &e / &e.sum_axis(Axis(axis)).insert_axis(Axis(axis)),
                }
            }
            TensorDef::Inverse { arg } => {
                let x = values.get(arg);
                let n = x.shape()[0];
                let m = DMatrix::from_fn(n, n, |r, c| x[[r, c]]);
                let inv = m.try_inverse().expect("invertible test matrix");
                ArrayD::from_shape_fn(IxDyn(&[n, n]), |ix| inv[(ix[0], ix[1])])
            }
        })
        .collect()
}

/// J at the free index `at` (output indices then input indices), by brute force: every
/// term's summation indices are looped over and its factors multiplied.
pub fn value_at(formula: &Formula, tensors: &[ArrayD<f64>], at: &[usize]) -> f64 {
    let mut assignment = vec![0; formula.indices.len()];
    for (&id, &v) in formula.free().iter().zip(at) {
        assignment[id] = v;
    }
    let mut total = 0.0;
    for term in &formula.terms {
        let dims: Vec<usize> = term.sums.iter().map(|&m| formula.indices[m].dim).collect();
        let count: usize = dims.iter().product();
        let mut sum = 0.0;
        for flat in 0..count {
            let mut rest = flat;
            for (&m, &d) in term.sums.iter().zip(&dims).rev() {
                assignment[m] = rest % d;
                rest /= d;
            }
            let slot = |s: &Slot| match *s {
                Slot::Index(id) => assignment[id],
                Slot::Fixed(v) => v,
            };
            let product: f64 = term
                .factors
                .iter()
                .map(|f| match f {
                    Factor::Delta(a, b) => f64::from(u8::from(slot(a) == slot(b))),
                    Factor::Tensor { tensor, slots } => {
                        let ix: Vec<usize> = slots.iter().map(slot).collect();
                        tensors[*tensor][IxDyn(&ix)]
                    }
                })
                .product();
            sum += product;
        }
        total += term.coeff * sum;
    }
    total
}

/// Every index of an array of shape `dims`, in row-major order.
pub fn all_indices(dims: &[usize]) -> Vec<Vec<usize>> {
    let count: usize = dims.iter().product();
    (0..count)
        .map(|flat| {
            let mut rest = flat;
            let mut ix = vec![0; dims.len()];
            for (slot, &d) in ix.iter_mut().zip(dims).rev() {
                *slot = rest % d;
                rest /= d;
            }
            ix
        })
        .collect()
}
