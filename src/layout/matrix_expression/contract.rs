//! Reading the terms of an index formula as matrix expressions.
//!
//! A term's factors become pieces, each a [`Mat`] read at at most two indices. Pieces are
//! combined until only J's free indices are left, by these rules, first applicable first:
//! a piece read twice at one index is a trace (the index summed and read nowhere else) or
//! a diagonal; pieces over the same indices multiply elementwise; an index summed in one
//! piece only is a sum over that axis; an index summed in two pieces is a matrix product
//! (each piece transposed as needed so that the index is inner); a vector over an index
//! that more pieces read is a diagonal matrix `diag(v)` multiplied in; two vectors over the
//! two free indices are an outer product. Whatever is left over must be one piece over J's
//! free indices (transposed if read the other way round) times scalars.

use super::mat::{Mat, hadamard, product, sum};
use crate::calculus::{Factor, Formula, IndexId, Slot, TensorDef, Term};
use crate::expr::{Graph, ReduceKind};

/// The matrix expression of `formula` (a J of rank ≤ 2), or `None` if some term does not
/// reduce to one.
pub(super) fn matrix_of(formula: &Formula, graph: &Graph) -> Option<Mat> {
    if formula.free().len() > 2 {
        return None;
    }
    let terms = formula
        .terms
        .iter()
        .map(|term| Reader { formula, graph }.term(term))
        .collect::<Option<Vec<Mat>>>()?;
    Some(sum(terms))
}

/// A matrix expression read at indices: `mat[idx[0], idx[1]]` (a vector at one index, a
/// scalar at none).
#[derive(Debug, Clone)]
struct Piece {
    mat: Mat,
    idx: Vec<IndexId>,
}

impl Piece {
    fn reads(&self, id: IndexId) -> bool {
        self.idx.contains(&id)
    }

    /// The piece with `first` as its row index (transposed if needed).
    fn with_first(self, first: IndexId) -> Piece {
        if self.idx.len() == 2 && self.idx[0] != first {
            Piece {
                mat: self.mat.transpose(),
                idx: vec![self.idx[1], self.idx[0]],
            }
        } else {
            self
        }
    }

    /// The index other than `id` of a two-index piece.
    fn other(&self, id: IndexId) -> IndexId {
        if self.idx[0] == id {
            self.idx[1]
        } else {
            self.idx[0]
        }
    }
}

/// Reads the terms of one formula.
struct Reader<'a> {
    formula: &'a Formula,
    graph: &'a Graph,
}

impl Reader<'_> {
    /// The term as a matrix expression over J's free indices, or `None`.
    fn term(&self, term: &Term) -> Option<Mat> {
        let free = self.formula.free();
        let mut sums = term.sums.clone();
        let mut pieces = Vec::new();
        for factor in &term.factors {
            pieces.push(self.piece(factor, &free)?);
        }
        while self.step(&mut pieces, &mut sums)? {}
        if !sums.is_empty() {
            return None;
        }
        let (scalars, mut arrays): (Vec<Piece>, Vec<Piece>) =
            pieces.into_iter().partition(|p| p.idx.is_empty());
        let mut factors: Vec<Mat> = scalars.into_iter().map(|p| p.mat).collect();
        match (arrays.len(), free.len()) {
            (0, 0) => {}
            // A constant term: a number broadcasts in a sum, and alone it is J's constant.
            (0, _) if factors.is_empty() => {}
            (1, _) => {
                let piece = arrays.pop().expect("one piece");
                let mut sorted = piece.idx.clone();
                sorted.sort_unstable();
                let mut want = free.clone();
                want.sort_unstable();
                if sorted != want || piece.idx.len() != free.len() {
                    return None;
                }
                factors.push(piece.with_first(free[0]).mat);
            }
            _ => return None,
        }
        Some(Mat::scaled(term.coeff, hadamard(factors)))
    }

    /// A factor as a piece: a delta between J's two free indices is the identity; a tensor
    /// read at indices is its matrix expression.
    fn piece(&self, factor: &Factor, free: &[IndexId]) -> Option<Piece> {
        match *factor {
            Factor::Delta(Slot::Index(a), Slot::Index(b))
                if a != b && free.contains(&a) && free.contains(&b) =>
            {
                Some(Piece {
                    mat: Mat::eye(self.formula.indices[a].dim),
                    idx: vec![a, b],
                })
            }
            Factor::Delta(..) => None,
            Factor::Tensor { tensor, ref slots } => {
                let idx = slots
                    .iter()
                    .map(|s| match s {
                        Slot::Index(id) => Some(*id),
                        Slot::Fixed(_) => None,
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some(Piece {
                    mat: tensor_mat(self.graph, &self.formula.tensors[tensor])?,
                    idx,
                })
            }
        }
    }

    /// One combination of pieces (see the module documentation): `Some(true)` if one was
    /// made, `Some(false)` if none applies, `None` if the term has no matrix form.
    fn step(&self, pieces: &mut Vec<Piece>, sums: &mut Vec<IndexId>) -> Option<bool> {
        let count = |pieces: &[Piece], id: IndexId| pieces.iter().filter(|p| p.reads(id)).count();
        // A piece read twice at one index: a trace or a diagonal.
        if let Some(at) = pieces
            .iter()
            .position(|p| p.idx.len() == 2 && p.idx[0] == p.idx[1])
        {
            let piece = pieces.remove(at);
            let a = piece.idx[0];
            let dim = self.formula.indices[a].dim;
            let alone = count(pieces, a) == 0;
            pieces.push(if sums.contains(&a) && alone {
                sums.retain(|&m| m != a);
                Piece {
                    mat: Mat::call("trace", vec![piece.mat], String::new(), vec![]),
                    idx: vec![],
                }
            } else {
                Piece {
                    mat: Mat::call("diag", vec![piece.mat], String::new(), vec![dim]),
                    idx: vec![a],
                }
            });
            return Some(true);
        }
        // Pieces over the same indices: an elementwise product.
        for p in 0..pieces.len() {
            for q in p + 1..pieces.len() {
                let (mut a, mut b) = (pieces[p].idx.clone(), pieces[q].idx.clone());
                a.sort_unstable();
                b.sort_unstable();
                if a == b {
                    let second = pieces.remove(q);
                    let first = pieces.remove(p);
                    let aligned = match first.idx.first() {
                        Some(&row) => second.with_first(row),
                        None => second,
                    };
                    pieces.push(Piece {
                        mat: hadamard(vec![first.mat, aligned.mat]),
                        idx: first.idx,
                    });
                    return Some(true);
                }
            }
        }
        // An index summed in one piece: a sum over that axis; in two: a matrix product.
        for &m in sums.iter() {
            let readers: Vec<usize> = (0..pieces.len()).filter(|&p| pieces[p].reads(m)).collect();
            match readers[..] {
                [p] => {
                    let piece = pieces.remove(p);
                    pieces.push(reduce(piece, m));
                }
                [p, q] => {
                    let second = pieces.remove(q);
                    let first = pieces.remove(p);
                    pieces.push(contract(first, second, m));
                }
                _ => continue,
            }
            sums.retain(|&s| s != m);
            return Some(true);
        }
        // A vector over an index that more pieces read: diag(v) multiplied into a matrix.
        let shared = |id: IndexId| sums.contains(&id) || count(pieces, id) > 1;
        if let Some(v) = pieces
            .iter()
            .position(|p| p.idx.len() == 1 && shared(p.idx[0]))
        {
            let x = pieces[v].idx[0];
            if let Some(target) = (0..pieces.len())
                .find(|&p| p != v && pieces[p].idx.len() == 2 && pieces[p].reads(x))
            {
                let (vector, matrix) = if v < target {
                    let matrix = pieces.remove(target);
                    (pieces.remove(v), matrix)
                } else {
                    let vector = pieces.remove(v);
                    (vector, pieces.remove(target))
                };
                let matrix = matrix.with_first(x);
                let dim = self.formula.indices[x].dim;
                let diag = Mat::call("diag", vec![vector.mat], String::new(), vec![dim, dim]);
                pieces.push(Piece {
                    mat: product(vec![diag, matrix.mat]),
                    idx: matrix.idx,
                });
                return Some(true);
            }
        }
        if !sums.is_empty() {
            return None;
        }
        // Two vectors over the two free indices: an outer product.
        let vectors: Vec<usize> = (0..pieces.len())
            .filter(|&p| pieces[p].idx.len() == 1)
            .collect();
        if let [p, q] = vectors[..] {
            let second = pieces.remove(q);
            let first = pieces.remove(p);
            let shape = vec![first.mat.shape()[0], second.mat.shape()[0]];
            pieces.push(Piece {
                mat: Mat::call("outer", vec![first.mat, second.mat], String::new(), shape),
                idx: vec![first.idx[0], second.idx[0]],
            });
            return Some(true);
        }
        Some(false)
    }
}

/// Σ_m piece: `sum(v)` of a vector at m, `sum(A, axis=…)` of a matrix read at m on one axis.
fn reduce(piece: Piece, m: IndexId) -> Piece {
    match piece.idx[..] {
        [_] => Piece {
            mat: Mat::call("sum", vec![piece.mat], String::new(), vec![]),
            idx: vec![],
        },
        _ => {
            let axis = usize::from(piece.idx[1] == m);
            let kept = piece.other(m);
            let dim = piece.mat.shape()[1 - axis];
            Piece {
                mat: Mat::call("sum", vec![piece.mat], format!("axis={axis}"), vec![dim]),
                idx: vec![kept],
            }
        }
    }
}

/// Σ_m first·second, both read at m: a matrix product with m inner (`A @ B`, `A @ x`,
/// `x @ y`), a vector on the right.
fn contract(first: Piece, second: Piece, m: IndexId) -> Piece {
    let (first, second) = if first.idx.len() == 1 && second.idx.len() == 2 {
        (second, first)
    } else {
        (first, second)
    };
    let left = if first.idx.len() == 2 {
        first.clone().with_first(first.other(m))
    } else {
        first
    };
    let right = second.with_first(m);
    let idx: Vec<IndexId> = left.idx[..left.idx.len() - 1]
        .iter()
        .chain(&right.idx[1..])
        .copied()
        .collect();
    Piece {
        mat: product(vec![left.mat, right.mat]),
        idx,
    }
}

/// A tensor of the formula as a matrix expression of the language; `None` for a constant
/// f″ (relu″ = 0, square″ = 2), which the language cannot write as an array.
pub(in crate::layout) fn tensor_mat(graph: &Graph, def: &TensorDef) -> Option<Mat> {
    let node = |n| Mat::of_node(graph, n);
    Some(match *def {
        TensorDef::ElemSecondDeriv { func, arg } => Mat::second_derivative(func, node(arg))?,
        TensorDef::Node(n) => node(n),
        TensorDef::ElemDeriv { func, arg } => Mat::derivative(func, node(arg)),
        TensorDef::ElemDerivOfValue { func, arg, .. } => Mat::derivative(func.func(), node(arg)),
        TensorDef::Power { arg, exponent } => Mat::power(node(arg), exponent),
        TensorDef::Inverse { arg } => Mat::inverse(node(arg)),
        TensorDef::Centered { arg, axis } => {
            let a = node(arg);
            let shape = match axis {
                Some(axis) => {
                    let mut s = a.shape().to_vec();
                    s[axis] = 1;
                    s
                }
                None => Vec::new(),
            };
            let options = match axis {
                Some(axis) => format!("axis={axis}, keepdims=true"),
                None => String::new(),
            };
            let mean = Mat::call(ReduceKind::Mean.name(), vec![a.clone()], options, shape);
            sum(vec![a, Mat::scaled(-1.0, mean)])
        }
        TensorDef::Softmax { arg, axis } => {
            let a = node(arg);
            let shape = a.shape().to_vec();
            // A vector's softmax over all its entries is the one over axis 0.
            match axis.or((shape.len() == 1).then_some(0)) {
                Some(axis) => Mat::call("softmax", vec![a], format!("axis={axis}"), shape),
                None => {
                    let lse = Mat::call("logsumexp", vec![a.clone()], String::new(), vec![]);
                    Mat::call(
                        "exp",
                        vec![sum(vec![a, Mat::scaled(-1.0, lse)])],
                        String::new(),
                        shape,
                    )
                }
            }
        }
    })
}
