//! Forward-mode differentiation of an expression graph into a raw index formula.
//!
//! D(E)[α] = ∂E[α]/∂X[κ] is built node by node following the derivation table of
//! DESIGN.md ("The engine"). The result is already expanded into a flat sum of terms:
//! products distribute over sums, and every contraction (a matrix product, a reduction, a
//! trace, …) becomes a summation index of the term. Kronecker deltas are *not* eliminated
//! here; simplification (`simplify.rs`) does that.
//!
//! Slots are mapped through NumPy broadcasting (right-aligned): an operand axis of size 1
//! read against a larger output axis is read at `Slot::Fixed(0)`, and output axes the
//! operand lacks are simply not passed to it.

use super::formula::{
    Factor, Formula, IndexId, IndexRole, IndexVar, Slot, TensorDef, Term, intern_tensor,
    name_summations, summation_name,
};
use crate::expr::{BinOp, ElemFn, Graph, NodeId, Op, ReduceKind, Shape};

/// Names of the free indices over Y's axes, by axis.
const OUTPUT_NAMES: [&str; 2] = ["i", "j"];
/// Names of the free indices over X's axes, by axis.
const INPUT_NAMES: [&str; 2] = ["k", "l"];
/// The most terms a raw formula may have before derivation stops ([`raw_formula_within`]).
/// A formula this long is long past reading; expressions reach it by nesting softmax calls,
/// since each one doubles the terms of its argument's derivative.
pub const MAX_TERMS: usize = 4096;

/// The derivative has more terms than the limit allows (see [`MAX_TERMS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the derivative has more than {limit} terms, the limit of jacscope (each softmax nested in \
     another doubles them); differentiate a smaller expression, e.g. with fewer nested softmax calls"
)]
pub struct TooManyTerms {
    /// The limit on the number of terms.
    pub limit: usize,
}

/// The raw Jacobian of `graph`'s root with respect to the input node `wrt`:
/// J[i,j,k,l] = ∂Y[i,j]/∂X[k,l] as the expanded sum of terms the chain rule gives, before
/// any delta is eliminated (for `X @ W.T` wrt X: `Σ_m δ(i,k)·δ(m,l)·W[j,m]`).
///
/// The free indices are named i, j (Y's axes) and k, l (X's axes), a vector using one
/// letter and a scalar none; summation indices are named m, n, p, … in each term by first
/// appearance. Subtrees that do not depend on `wrt` contribute no terms, so an expression
/// that does not use `wrt` gives a formula without terms (J = 0). `wrt` must be an input
/// node of `graph` (see [`Graph::input`]).
pub fn raw_formula(graph: &Graph, wrt: NodeId) -> Formula {
    raw_formula_within(graph, wrt, usize::MAX)
        .unwrap_or_else(|_| unreachable!("no formula has more than usize::MAX terms"))
}

/// [`raw_formula`], stopping as soon as the derivative of some node of the graph has more
/// than `max_terms` terms (checked node by node during the derivation, so a formula that
/// would grow exponentially is refused after about as much work as the limit allows).
pub fn raw_formula_within(
    graph: &Graph,
    wrt: NodeId,
    max_terms: usize,
) -> Result<Formula, TooManyTerms> {
    let mut deriver = Deriver::new(graph, wrt, max_terms);
    let out = deriver.free_indices(
        &graph.node(graph.root).shape,
        OUTPUT_NAMES,
        IndexRole::Output,
    );
    let input = deriver.free_indices(&graph.node(wrt).shape, INPUT_NAMES, IndexRole::Input);
    deriver.input_slots = input.iter().map(|&k| Slot::Index(k)).collect();
    let out_slots: Vec<Slot> = out.iter().map(|&i| Slot::Index(i)).collect();
    let terms = deriver.derive(graph.root, &out_slots)?;
    Ok(name_summations(&Formula {
        indices: deriver.indices,
        out,
        input,
        tensors: deriver.tensors,
        terms,
    }))
}

/// A constant coefficient times a product of factors: the value of a node (or of a tensor
/// derived from one) read at some slots.
pub(super) struct Product {
    /// The coefficient.
    pub(super) coeff: f64,
    /// The factors.
    pub(super) factors: Vec<Factor>,
}

impl Product {
    /// The empty product, 1.
    pub(super) fn one() -> Product {
        Product::constant(1.0)
    }

    /// A constant with no factors.
    pub(super) fn constant(coeff: f64) -> Product {
        Product {
            coeff,
            factors: Vec::new(),
        }
    }

    /// The Kronecker delta δ(a, b).
    fn delta(a: Slot, b: Slot) -> Product {
        Product {
            coeff: 1.0,
            factors: vec![Factor::Delta(a, b)],
        }
    }

    /// `self · other`.
    pub(super) fn times(mut self, other: Product) -> Product {
        self.coeff *= other.coeff;
        self.factors.extend(other.factors);
        self
    }
}

/// Multiplies every term of `terms` by `coeff · before · (term) · after` and adds the
/// summation indices `sums` (placed before the term's own).
pub(super) fn attach(
    terms: Vec<Term>,
    coeff: f64,
    sums: &[IndexId],
    before: &Product,
    after: &Product,
) -> Vec<Term> {
    terms
        .into_iter()
        .map(|term| Term {
            coeff: coeff * before.coeff * term.coeff * after.coeff,
            sums: sums.iter().chain(&term.sums).copied().collect(),
            factors: before
                .factors
                .iter()
                .chain(&term.factors)
                .chain(&after.factors)
                .cloned()
                .collect(),
        })
        .collect()
}

/// Multiplies every coefficient of `terms` by `c`.
pub(super) fn scale(terms: Vec<Term>, c: f64) -> Vec<Term> {
    attach(terms, c, &[], &Product::one(), &Product::one())
}

/// The slots of a matrix's two axes swapped; vectors and scalars are unchanged.
fn transposed(slots: &[Slot]) -> Vec<Slot> {
    let mut swapped = slots.to_vec();
    swapped.reverse();
    swapped
}

/// Where an operand of shape `operand` is read when the broadcast result (shape `out`) is
/// read at `slots`: right-aligned, with size-1 axes against larger ones read at `zero`
/// (position 0).
pub(super) fn broadcast<T: Clone>(operand: &Shape, out: &Shape, slots: &[T], zero: T) -> Vec<T> {
    let offset = out.rank() - operand.rank();
    operand
        .dims()
        .iter()
        .enumerate()
        .map(|(axis, &dim)| {
            if dim == 1 && out.dims()[offset + axis] != 1 {
                zero.clone()
            } else {
                slots[offset + axis].clone()
            }
        })
        .collect()
}

/// The state of one differentiation: the index variables and tensors allocated so far.
pub(super) struct Deriver<'g> {
    pub(super) graph: &'g Graph,
    wrt: NodeId,
    /// `depends[n]`: whether node `n`'s value depends on `wrt`.
    depends: Vec<bool>,
    /// The free indices κ over X's axes, as slots.
    input_slots: Vec<Slot>,
    pub(super) indices: Vec<IndexVar>,
    pub(super) tensors: Vec<TensorDef>,
    /// The most terms the derivative of a node may have.
    max_terms: usize,
}

impl<'g> Deriver<'g> {
    /// A differentiation with respect to `wrt` that continues a formula: its index
    /// variables and tensors are `indices` and `tensors`, and X's axes are read at
    /// `input_slots` (second order differentiates a first-order formula this way).
    pub(super) fn continuing(
        graph: &'g Graph,
        wrt: NodeId,
        input_slots: Vec<Slot>,
        (indices, tensors): (Vec<IndexVar>, Vec<TensorDef>),
        max_terms: usize,
    ) -> Self {
        Deriver {
            input_slots,
            indices,
            tensors,
            ..Deriver::new(graph, wrt, max_terms)
        }
    }

    /// Whether `node`'s value depends on `wrt`.
    pub(super) fn depends_on(&self, node: NodeId) -> bool {
        self.depends[node]
    }

    fn new(graph: &'g Graph, wrt: NodeId, max_terms: usize) -> Self {
        let mut depends = vec![false; graph.nodes.len()];
        for (id, node) in graph.nodes.iter().enumerate() {
            depends[id] = id == wrt || node.op.operands().iter().any(|&a| depends[a]);
        }
        Deriver {
            graph,
            wrt,
            depends,
            input_slots: Vec::new(),
            indices: Vec::new(),
            tensors: Vec::new(),
            max_terms,
        }
    }

    /// Allocates one free index per axis of `shape`, named from `names`.
    fn free_indices(&mut self, shape: &Shape, names: [&str; 2], role: IndexRole) -> Vec<IndexId> {
        shape
            .dims()
            .iter()
            .zip(names)
            .map(|(&dim, name)| self.index(name.to_string(), dim, role))
            .collect()
    }

    fn index(&mut self, name: String, dim: usize, role: IndexRole) -> IndexId {
        self.indices.push(IndexVar { name, dim, role });
        self.indices.len() - 1
    }

    /// A fresh summation index running over `0..dim` (renamed per term at the end).
    pub(super) fn fresh(&mut self, dim: usize) -> IndexId {
        self.index(summation_name(0), dim, IndexRole::Summation)
    }

    /// A tensor factor, reusing an identical tensor definition if there is one.
    pub(super) fn tensor(&mut self, def: TensorDef, slots: Vec<Slot>) -> Product {
        let tensor = intern_tensor(&mut self.tensors, def);
        Product {
            coeff: 1.0,
            factors: vec![Factor::Tensor { tensor, slots }],
        }
    }

    /// The value of a node that is a number, possibly negated.
    fn constant(&self, node: NodeId) -> Option<f64> {
        match self.graph.node(node).op {
            Op::Number(c) => Some(c),
            Op::Neg(a) => self.constant(a).map(|c| -c),
            _ => None,
        }
    }

    /// The value of `node` at `slots`. Numbers become coefficients, and negations,
    /// transposes and the structural functions are looked through, so `W.T` is read as
    /// `W[j,m]` rather than named, `eye(n)[a,b]` as `δ(a,b)`, `diag(v)[a,b]` as
    /// `δ(a,b)·v[a]`, `diag(A)[a]` as `A[a,a]` and `outer(u, v)[a,b]` as `u[a]·v[b]`.
    pub(super) fn value(&mut self, node: NodeId, slots: &[Slot]) -> Product {
        match self.graph.node(node).op {
            Op::Number(c) => Product::constant(c),
            Op::Neg(a) => {
                let mut p = self.value(a, slots);
                p.coeff = -p.coeff;
                p
            }
            Op::Transpose(a) => self.value(a, &transposed(slots)),
            Op::Eye(_) => Product::delta(slots[0], slots[1]),
            Op::DiagMatrix(v) => {
                Product::delta(slots[0], slots[1]).times(self.value(v, &slots[..1]))
            }
            Op::Diagonal(a) => self.value(a, &[slots[0], slots[0]]),
            Op::Outer(a, b) => {
                let va = self.value(a, &slots[..1]);
                va.times(self.value(b, &slots[1..]))
            }
            _ => self.tensor(TensorDef::Node(node), slots.to_vec()),
        }
    }

    /// A tensor defined elementwise from a node (`make(node)`) at `slots`, looking through
    /// transposes of the node (f′(A.T)[a,b] = f′(A)[b,a]; likewise powers and inverses).
    fn through_transposes(
        &mut self,
        node: NodeId,
        slots: &[Slot],
        make: impl Fn(NodeId) -> TensorDef,
    ) -> Product {
        match self.graph.node(node).op {
            Op::Transpose(a) => self.through_transposes(a, &transposed(slots), make),
            _ => self.tensor(make(node), slots.to_vec()),
        }
    }

    /// `node` raised elementwise to the constant `exponent`, at `slots`.
    pub(super) fn power(&mut self, node: NodeId, exponent: f64, slots: &[Slot]) -> Product {
        if exponent == 0.0 {
            Product::one()
        } else if exponent == 1.0 {
            self.value(node, slots)
        } else if let Some(c) = self.constant(node) {
            Product::constant(c.powf(exponent))
        } else {
            self.through_transposes(node, slots, |arg| TensorDef::Power { arg, exponent })
        }
    }

    /// The slots of a reduction's operand and the summation indices that read the reduced
    /// axes, given the reduction result read at `slots`; also the number of reduced entries.
    fn reduced(
        &mut self,
        arg: NodeId,
        axis: Option<usize>,
        keepdims: bool,
        slots: &[Slot],
    ) -> (Vec<Slot>, Vec<IndexId>, usize) {
        let dims = self.graph.node(arg).shape.dims().to_vec();
        match axis {
            None => {
                let sums: Vec<IndexId> = dims.iter().map(|&d| self.fresh(d)).collect();
                let arg_slots = sums.iter().map(|&m| Slot::Index(m)).collect();
                (arg_slots, sums, dims.iter().product())
            }
            Some(axis) => {
                let m = self.fresh(dims[axis]);
                let mut arg_slots = slots.to_vec();
                if keepdims {
                    arg_slots.remove(axis);
                }
                arg_slots.insert(axis, Slot::Index(m));
                (arg_slots, vec![m], dims[axis])
            }
        }
    }

    /// D(node) read at `slots` (one slot per axis of the node), as a sum of terms, or an
    /// error if it has more than `max_terms` terms.
    pub(super) fn derive(
        &mut self,
        node: NodeId,
        slots: &[Slot],
    ) -> Result<Vec<Term>, TooManyTerms> {
        let terms = self.derive_node(node, slots)?;
        if terms.len() > self.max_terms {
            return Err(TooManyTerms {
                limit: self.max_terms,
            });
        }
        Ok(terms)
    }

    /// [`Self::derive`] by the rule of `node`'s operation.
    fn derive_node(&mut self, node: NodeId, slots: &[Slot]) -> Result<Vec<Term>, TooManyTerms> {
        if !self.depends[node] {
            return Ok(Vec::new());
        }
        if node == self.wrt {
            let factors = slots
                .iter()
                .zip(&self.input_slots)
                .map(|(&a, &k)| Factor::Delta(a, k))
                .collect();
            return Ok(vec![Term {
                coeff: 1.0,
                sums: Vec::new(),
                factors,
            }]);
        }
        let graph = self.graph;
        let one = Product::one();
        Ok(match graph.node(node).op {
            // Inputs other than wrt and constants do not depend on wrt: handled above.
            Op::Input(_) | Op::Number(_) | Op::Eye(_) => Vec::new(),
            Op::Neg(a) => scale(self.derive(a, slots)?, -1.0),
            Op::Binary(op, a, b) => {
                let out = &graph.node(node).shape;
                let sa = broadcast(&graph.node(a).shape, out, slots, Slot::Fixed(0));
                let sb = broadcast(&graph.node(b).shape, out, slots, Slot::Fixed(0));
                self.derive_binary(op, (a, &sa), (b, &sb))?
            }
            Op::MatMul(a, b) => {
                let rank_a = graph.node(a).shape.rank();
                let inner = graph.node(a).shape.dims()[rank_a - 1];
                let m_id = self.fresh(inner);
                let m = Slot::Index(m_id);
                let sa: Vec<Slot> = slots[..rank_a - 1].iter().copied().chain([m]).collect();
                let sb: Vec<Slot> = [m]
                    .into_iter()
                    .chain(slots[rank_a - 1..].iter().copied())
                    .collect();
                let mut terms = Vec::new();
                if self.depends[a] {
                    let vb = self.value(b, &sb);
                    terms.extend(attach(self.derive(a, &sa)?, 1.0, &[m_id], &one, &vb));
                }
                if self.depends[b] {
                    let va = self.value(a, &sa);
                    terms.extend(attach(self.derive(b, &sb)?, 1.0, &[m_id], &va, &one));
                }
                terms
            }
            Op::Pow(a, p) => {
                let factor = self.power(a, p - 1.0, slots);
                attach(self.derive(a, slots)?, p, &[], &factor, &one)
            }
            Op::Transpose(a) => self.derive(a, &transposed(slots))?,
            // sign′ = 0 wherever sign is differentiable, and 0 at its jump too, as relu′
            // and abs′ are at their kinks: no terms.
            Op::Elementwise(ElemFn::Sign, _) => Vec::new(),
            Op::Elementwise(func, a) => {
                let factor =
                    self.through_transposes(a, slots, |arg| TensorDef::ElemDeriv { func, arg });
                attach(self.derive(a, slots)?, 1.0, &[], &factor, &one)
            }
            Op::Reduce {
                kind,
                arg,
                axis,
                keepdims,
            } => {
                let (arg_slots, sums, n) = self.reduced(arg, axis, keepdims, slots);
                let n = n as f64;
                let (coeff, factor) = match kind {
                    ReduceKind::Sum => (1.0, Product::one()),
                    ReduceKind::Mean => (1.0 / n, Product::one()),
                    ReduceKind::Var => {
                        let centered =
                            self.tensor(TensorDef::Centered { arg, axis }, arg_slots.clone());
                        (2.0 / n, centered)
                    }
                    ReduceKind::Std => {
                        let mut centered =
                            self.tensor(TensorDef::Centered { arg, axis }, arg_slots.clone());
                        let inverse_std = self.power(node, -1.0, slots);
                        centered.factors.extend(inverse_std.factors);
                        (1.0 / n, centered)
                    }
                };
                attach(self.derive(arg, &arg_slots)?, coeff, &sums, &factor, &one)
            }
            Op::Softmax { arg, axis } => {
                let s_ab = self.value(node, slots);
                let m = self.fresh(graph.node(arg).shape.dims()[axis]);
                let mut along = slots.to_vec();
                along[axis] = Slot::Index(m);
                let mut s_ab_s_am = self.value(node, slots);
                s_ab_s_am.factors.extend(self.value(node, &along).factors);
                let mut terms = attach(self.derive(arg, slots)?, 1.0, &[], &s_ab, &one);
                terms.extend(attach(
                    self.derive(arg, &along)?,
                    -1.0,
                    &[m],
                    &s_ab_s_am,
                    &one,
                ));
                terms
            }
            Op::LogSumExp {
                arg,
                axis,
                keepdims,
            } => {
                let (arg_slots, sums, _) = self.reduced(arg, axis, keepdims, slots);
                let softmax = self.tensor(TensorDef::Softmax { arg, axis }, arg_slots.clone());
                attach(self.derive(arg, &arg_slots)?, 1.0, &sums, &softmax, &one)
            }
            Op::Trace(a) => {
                let m = self.fresh(graph.node(a).shape.dims()[0]);
                attach(self.derive(a, &[Slot::Index(m); 2])?, 1.0, &[m], &one, &one)
            }
            Op::Inv(a) => {
                let n = graph.node(a).shape.dims()[0];
                let (m, p) = (self.fresh(n), self.fresh(n));
                let before = self.value(node, &[slots[0], Slot::Index(m)]);
                let after = self.value(node, &[Slot::Index(p), slots[1]]);
                let inner = self.derive(a, &[Slot::Index(m), Slot::Index(p)])?;
                attach(inner, -1.0, &[m, p], &before, &after)
            }
            Op::Det(a) => {
                let n = graph.node(a).shape.dims()[0];
                let (m, p) = (self.fresh(n), self.fresh(n));
                let mut before = self.value(node, &[]);
                let inverse =
                    self.through_transposes(a, &[Slot::Index(p), Slot::Index(m)], |arg| {
                        TensorDef::Inverse { arg }
                    });
                before.factors.extend(inverse.factors);
                let inner = self.derive(a, &[Slot::Index(m), Slot::Index(p)])?;
                attach(inner, 1.0, &[m, p], &before, &one)
            }
            Op::DiagMatrix(v) => {
                let delta = Product::delta(slots[0], slots[1]);
                attach(self.derive(v, &slots[..1])?, 1.0, &[], &delta, &one)
            }
            Op::Diagonal(a) => self.derive(a, &[slots[0], slots[0]])?,
            // outer(a, b)[i,j] = a[i]·b[j]: the product rule of `*`.
            Op::Outer(a, b) => {
                self.derive_binary(BinOp::Mul, (a, &slots[..1]), (b, &slots[1..]))?
            }
            Op::Kron(..) => unreachable!(
                "check_wrt refuses a variable under kron; its derivative has no index form yet"
            ),
        })
    }

    /// D(A op B) for the elementwise binary operators, each operand with its broadcast slots.
    fn derive_binary(
        &mut self,
        op: BinOp,
        (a, sa): (NodeId, &[Slot]),
        (b, sb): (NodeId, &[Slot]),
    ) -> Result<Vec<Term>, TooManyTerms> {
        let one = Product::one();
        let mut terms = Vec::new();
        match op {
            BinOp::Add => {
                terms.extend(self.derive(a, sa)?);
                terms.extend(self.derive(b, sb)?);
            }
            BinOp::Sub => {
                terms.extend(self.derive(a, sa)?);
                terms.extend(scale(self.derive(b, sb)?, -1.0));
            }
            BinOp::Mul => {
                if self.depends[a] {
                    let vb = self.value(b, sb);
                    terms.extend(attach(self.derive(a, sa)?, 1.0, &[], &one, &vb));
                }
                if self.depends[b] {
                    let va = self.value(a, sa);
                    terms.extend(attach(self.derive(b, sb)?, 1.0, &[], &va, &one));
                }
            }
            BinOp::Div => {
                // D(A)/B − A·D(B)/B²
                if self.depends[a] {
                    let reciprocal = self.power(b, -1.0, sb);
                    terms.extend(attach(self.derive(a, sa)?, 1.0, &[], &one, &reciprocal));
                }
                if self.depends[b] {
                    let va = self.value(a, sa);
                    let inverse_square = self.power(b, -2.0, sb);
                    terms.extend(attach(self.derive(b, sb)?, -1.0, &[], &va, &inverse_square));
                }
            }
        }
        Ok(terms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calculus::render::{Notation, render};
    use crate::calculus::test_support::{LINEAR, graph};

    fn raw(source: &str, shapes: &[(&str, &str)], wrt: &str) -> (Graph, Formula) {
        let g = graph(source, shapes);
        let f = raw_formula(&g, g.input(wrt).unwrap());
        (g, f)
    }

    fn ascii(source: &str, shapes: &[(&str, &str)], wrt: &str) -> String {
        let (g, f) = raw(source, shapes, wrt);
        render(&f, &g, Notation::Ascii)
    }

    #[test]
    fn linear_layer_chain_rule() {
        let (g, f) = raw("X @ W.T", LINEAR, "X");
        let names: Vec<(&str, usize, IndexRole)> = f
            .indices
            .iter()
            .map(|v| (v.name.as_str(), v.dim, v.role))
            .collect();
        assert_eq!(
            names,
            [
                ("i", 3, IndexRole::Output),
                ("j", 2, IndexRole::Output),
                ("k", 3, IndexRole::Input),
                ("l", 4, IndexRole::Input),
                ("m", 4, IndexRole::Summation),
            ]
        );
        assert_eq!((f.out.clone(), f.input.clone()), (vec![0, 1], vec![2, 3]));
        assert_eq!(f.tensors, vec![TensorDef::Node(g.input("W").unwrap())]);
        let s = Slot::Index;
        let (i, j, k, l, m) = (s(0), s(1), s(2), s(3), s(4));
        assert_eq!(
            f.terms,
            vec![Term {
                coeff: 1.0,
                sums: vec![4],
                factors: vec![
                    Factor::Delta(i, k),
                    Factor::Delta(m, l),
                    Factor::Tensor {
                        tensor: 0,
                        slots: vec![j, m]
                    },
                ],
            }]
        );
    }

    #[test]
    fn product_rule_and_quotient_rule() {
        assert_eq!(
            ascii("X @ X.T", &[("X", "3x4")], "X"),
            "sum_m delta(i,k)*delta(m,l)*X[j,m] + sum_m X[i,m]*delta(j,k)*delta(m,l)"
        );
        assert_eq!(
            ascii("X / W", &[("X", "3x4"), ("W", "3x4")], "W"),
            "-X[i,j]*delta(i,k)*delta(j,l)*W[i,j]^-2"
        );
        assert_eq!(
            ascii("X / W", &[("X", "3x4"), ("W", "3x4")], "X"),
            "delta(i,k)*delta(j,l)*W[i,j]^-1"
        );
    }

    #[test]
    fn numbers_negations_and_transposes_are_looked_through() {
        let (g, f) = raw("-(2 * X) / 4 + X ** 2", &[("X", "3x4")], "X");
        assert_eq!(
            render(&f, &g, Notation::Ascii),
            "-(1/2)*delta(i,k)*delta(j,l) + 2*X[i,j]*delta(i,k)*delta(j,l)"
        );
        assert_eq!(f.tensors, vec![TensorDef::Node(g.input("X").unwrap())]);
        assert_eq!(
            ascii("relu(X.T) * W.T", &[("X", "3x4"), ("W", "3x4")], "X"),
            "relu'(X)[j,i]*delta(j,k)*delta(i,l)*W[j,i]"
        );
        assert_eq!(
            ascii("X ** 1", &[("X", "3x4")], "X"),
            "delta(i,k)*delta(j,l)"
        );
        assert_eq!(
            ascii("X / -(2)", &[("X", "3x4")], "X"),
            "-(1/2)*delta(i,k)*delta(j,l)"
        );
    }

    #[test]
    fn identical_tensors_are_shared_and_constant_subtrees_skipped() {
        let (g, f) = raw("softmax(X @ W.T, axis=1)", LINEAR, "X");
        assert_eq!(
            f.tensors,
            vec![
                TensorDef::Node(g.root),
                TensorDef::Node(g.input("W").unwrap())
            ]
        );
        assert_eq!(f.terms.len(), 2);
        let (_, f) = raw("X @ W.T + sum(relu(W))", LINEAR, "X");
        assert_eq!(f.terms.len(), 1);
        assert_eq!(f.tensors.len(), 1);
    }

    #[test]
    fn broadcast_axes_of_size_one_are_read_at_zero() {
        assert_eq!(
            ascii("X + b", &[("X", "3x4"), ("b", "1x4")], "b"),
            "delta(0,k)*delta(j,l)"
        );
        assert_eq!(
            ascii("X * s", &[("X", "3x4"), ("s", "3x1")], "s"),
            "X[i,j]*delta(i,k)*delta(0,l)"
        );
        assert_eq!(
            ascii("X * c", &[("X", "3x4"), ("c", "scalar")], "c"),
            "X[i,j]"
        );
        assert_eq!(
            ascii("X + b", &[("X", "3x4"), ("b", "4")], "b"),
            "delta(j,k)"
        );
    }

    #[test]
    fn reductions_and_matrix_functions() {
        let x = &[("X", "3x4")][..];
        assert_eq!(
            ascii("mean(X, axis=0)", x, "X"),
            "(1/3)*sum_m delta(m,k)*delta(i,l)"
        );
        assert_eq!(
            ascii("sum(X, axis=1, keepdims=true)", x, "X"),
            "sum_m delta(i,k)*delta(m,l)"
        );
        assert_eq!(
            ascii("var(X)", x, "X"),
            "(1/6)*sum_m,n centered(X)[m,n]*delta(m,k)*delta(n,l)"
        );
        assert_eq!(
            ascii("logsumexp(X, axis=0)", x, "X"),
            "sum_m softmax(X)[m,i]*delta(m,k)*delta(i,l)"
        );
        let a = &[("A", "3x3")][..];
        assert_eq!(ascii("trace(A)", a, "A"), "sum_m delta(m,k)*delta(m,l)");
        assert_eq!(
            ascii("inv(A)", a, "A"),
            "-sum_m,n Y[i,m]*delta(m,k)*delta(n,l)*Y[n,j]"
        );
        assert_eq!(
            ascii("det(A)", a, "A"),
            "sum_m,n Y*inv(A)[m,n]*delta(n,k)*delta(m,l)"
        );
        assert_eq!(
            ascii("softmax(v, axis=0)", &[("v", "4")], "v"),
            "Y[i]*delta(i,k) - sum_m Y[i]*Y[m]*delta(m,k)"
        );
    }

    #[test]
    fn structural_functions_as_deltas_and_products() {
        let (u, v) = (("u", "3"), ("v", "4"));
        assert_eq!(ascii("outer(u, v)", &[u, v], "u"), "delta(i,k)*v[j]");
        assert_eq!(ascii("outer(u, v)", &[u, v], "v"), "u[i]*delta(j,k)");
        assert_eq!(ascii("diag(u)", &[u], "u"), "delta(i,j)*delta(i,k)");
        let a = ("A", "3x3");
        assert_eq!(ascii("diag(A)", &[a], "A"), "delta(i,k)*delta(i,l)");
        assert_eq!(
            ascii("diag(u) @ A", &[u, a], "A"),
            "sum_m delta(i,m)*u[i]*delta(m,k)*delta(j,l)"
        );
        assert_eq!(
            ascii("eye(3) @ A", &[a], "A"),
            "sum_m delta(i,m)*delta(m,k)*delta(j,l)"
        );
        assert_eq!(
            ascii("sign(A) * A", &[a], "A"),
            "Z1[i,j]*delta(i,k)*delta(j,l)"
        );
        assert_eq!(ascii("sign(A)", &[a], "A"), "0");
        assert_eq!(
            ascii(
                "trace(kron(B, eye(2)) @ A)",
                &[("A", "4x4"), ("B", "2x2")],
                "A"
            ),
            "sum_m,n Z1[m,n]*delta(n,k)*delta(m,l)"
        );
    }

    /// `softmax(softmax(…(X)…))`, `depth` calls along axis 1.
    fn nested_softmax(depth: usize) -> String {
        format!("{}X{}", "softmax(".repeat(depth), ", axis=1)".repeat(depth))
    }

    #[test]
    fn each_nested_softmax_doubles_the_terms() {
        for depth in 1..=5 {
            let (_, f) = raw(&nested_softmax(depth), &[("X", "3x4")], "X");
            assert_eq!(f.terms.len(), 1 << depth, "depth {depth}");
        }
    }

    #[test]
    fn derivation_stops_past_the_term_limit() {
        let g = graph(&nested_softmax(4), &[("X", "3x4")]);
        let x = g.input("X").unwrap();
        assert_eq!(raw_formula_within(&g, x, 16), Ok(raw_formula(&g, x)));
        assert_eq!(
            raw_formula_within(&g, x, 15),
            Err(TooManyTerms { limit: 15 })
        );
        // 2^40 terms in full: the derivation stops at the level that crosses the limit.
        let g = graph(&nested_softmax(40), &[("X", "3x4")]);
        assert_eq!(
            raw_formula_within(&g, g.input("X").unwrap(), MAX_TERMS),
            Err(TooManyTerms { limit: MAX_TERMS })
        );
        assert_eq!(
            TooManyTerms { limit: 4096 }.to_string(),
            "the derivative has more than 4096 terms, the limit of jacscope (each softmax nested \
             in another doubles them); differentiate a smaller expression, e.g. with fewer \
             nested softmax calls"
        );
    }
}
