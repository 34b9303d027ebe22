//! Matrix claims: an expression of the language, read as J in a layout.
//!
//! In a layout, every axis of J combines some of J's axes: in `numerator-colmajor`, J of
//! `X @ W.T` by X (X 64×1024, W 512×1024) is the 32768×65536 matrix ∂vec(Y)/∂vec(X)ᵀ whose
//! row j·64 + i combines (j, i) and whose column l·64 + k combines (l, k)
//! ([`Layout::combined_axes`]). A claim such as `kron(W, eye(64))` is read as an index
//! formula over J's axes by taking each operation apart at those combined indices:
//!
//! ```text
//! kron(A, B)[(r₁,r₂), (c₁,c₂)] = A[r₁,c₁]·B[r₂,c₂]    r₂, c₂ spanning B's rows and columns
//! eye(n)[(a,b), (c,d)]         = δ(a,c)·δ(b,d)
//! (A @ B)[r, c]                = Σ_m A[r,m]·B[m,c]     m combined as A's columns are
//! outer(a, b)[r, c]            = a[r]·b[c]
//! A.T[r, c] = A[c, r];  + − * / and unary − distribute over the entries
//! ```
//!
//! What reads no combined index (a variable, or any expression whose every axis is one of
//! J's axes) is a tensor of the claim, evaluated as in an index claim; a number is a
//! coefficient and `eye` is a delta. So the claim never becomes a dense |Y|×|X| matrix,
//! and its structural zeros are read off its deltas, as J's are.

use super::{ClaimError, Reader, Terms, constant, multiplied, negated};
use crate::calculus::{Factor, Formula, IndexId, IndexRole, IndexVar, Slot, TensorDef, Term};
use crate::expr::{BinOp, Graph, NodeId, Op, Shape, Span};
use crate::jacobian::Jacobian;
use crate::layout::{JacobianDims, Layout};

/// One axis of J in a layout: the indices it combines, slowest first, each with its range.
/// Indices of range 1 are left out (they are always 0), so an axis of length 1 combines none.
type Combined = Vec<(IndexId, usize)>;

/// A matrix claim: the expression `text` of the language, read as J in `layout` (J's own
/// layout if none is given and J has rank ≤ 2), with the graph its tensors read.
pub(super) fn read_matrix(
    text: &str,
    jacobian: &Jacobian,
    layout: Option<Layout>,
) -> Result<(Graph, Formula), ClaimError> {
    let whole = Span::new(0, text.len());
    let shape = jacobian.shape();
    let layout = match layout {
        Some(layout) => layout,
        None if shape.len() <= 2 => Layout::OutIn,
        None => {
            let matrices: Vec<&str> = Layout::ALL
                .into_iter()
                .filter(|l| l.combined_axes(&JacobianDims::of(jacobian)).len() == 2)
                .map(Layout::name)
                .collect();
            return Err(ClaimError::at(
                whole,
                format!(
                    "J has rank {}, so a matrix claim is J in a matrix layout: give --layout \
                     ({})",
                    shape.len(),
                    matrices.join(", ")
                ),
            ));
        }
    };
    let dims = JacobianDims::of(jacobian);
    let mut reader = Reader::new(text, jacobian);
    let sub = reader.compiled(whole)?;
    let claimed = &sub.node(sub.root).shape;
    let want = layout.shape(&dims);
    if claimed.dims() != want.as_slice() {
        let of_j = if layout == Layout::OutIn {
            "J has".to_string()
        } else {
            format!("J in layout {layout} has")
        };
        return Err(ClaimError::at(
            whole,
            format!(
                "the matrix claim has shape {claimed} but {of_j} shape {}",
                Shape(want)
            ),
        ));
    }
    let nodes = reader.graft(&sub);
    let free = reader.truth.free();
    let axes: Vec<Combined> = layout
        .combined_axes(&dims)
        .iter()
        .map(|combined| {
            combined
                .iter()
                .map(|&axis| (free[axis], shape[axis]))
                .filter(|&(_, range)| range != 1)
                .collect()
        })
        .collect();
    let terms = MatrixReader {
        reader: &mut reader,
        sub: &sub,
        nodes: &nodes,
        layout,
    }
    .read(sub.root, &axes)?;
    reader.finish(terms)
}

/// Reads the nodes of a compiled claim (`sub`) at combined indices.
struct MatrixReader<'r, 'a> {
    reader: &'r mut Reader<'a>,
    /// The claim compiled on its own: its spans are the claim's.
    sub: &'r Graph,
    /// The node of the reader's graph each node of `sub` became.
    nodes: &'r [NodeId],
    /// The layout the claim is read in, for messages.
    layout: Layout,
}

impl MatrixReader<'_, '_> {
    /// The terms of `node` read at `axes` (one combined index per axis of the node).
    fn read(&mut self, node: NodeId, axes: &[Combined]) -> Result<Terms, ClaimError> {
        let op = self.sub.node(node).op.clone();
        let atomic = axes.iter().all(|combined| combined.len() <= 1);
        match op {
            Op::Number(value) => Ok(constant(value)),
            Op::Eye(_) => self.eye(node, axes),
            Op::Neg(a) => Ok(negated(self.read(a, axes)?)),
            _ if atomic => Ok(vec![self.tensor(node, axes)]),
            Op::Transpose(a) => {
                let swapped: Vec<Combined> = axes.iter().rev().cloned().collect();
                self.read(a, &swapped)
            }
            Op::Kron(a, b) => {
                let (mut outer, mut inner) = (Vec::new(), Vec::new());
                for (axis, combined) in axes.iter().enumerate() {
                    let range = self.dims(b)[axis];
                    let Some((front, back)) = split(combined, range) else {
                        return Err(self.cannot_split(node, combined, range));
                    };
                    outer.push(front);
                    inner.push(back);
                }
                Ok(multiplied(&self.read(a, &outer)?, &self.read(b, &inner)?))
            }
            Op::Outer(a, b) => Ok(multiplied(
                &self.read(a, &axes[..1])?,
                &self.read(b, &axes[1..])?,
            )),
            Op::MatMul(a, b) => self.product(a, b, axes),
            Op::Binary(op, a, b) => {
                let left = self.read(a, &self.operand_axes(node, a, axes))?;
                let right = self.read(b, &self.operand_axes(node, b, axes))?;
                Ok(match op {
                    BinOp::Add => [left, right].concat(),
                    BinOp::Sub => [left, negated(right)].concat(),
                    BinOp::Mul => multiplied(&left, &right),
                    BinOp::Div => {
                        let span = self.sub.node(b).span;
                        multiplied(&left, &self.reader.reciprocal(right, span)?)
                    }
                })
            }
            _ => Err(self.cannot_take_apart(node, axes)),
        }
    }

    /// The node as one tensor of the claim, read at `axes` (each of at most one index).
    fn tensor(&mut self, node: NodeId, axes: &[Combined]) -> Term {
        let slots = axes
            .iter()
            .map(|combined| match combined[..] {
                [(index, _)] => Slot::Index(index),
                _ => Slot::Fixed(0),
            })
            .collect();
        let tensor = self.reader.tensor_id(TensorDef::Node(self.nodes[node]));
        Term {
            coeff: 1.0,
            sums: vec![],
            factors: vec![Factor::Tensor { tensor, slots }],
        }
    }

    /// `eye(n)` read at `[rows, cols]`: a delta between each pair of combined indices,
    /// which needs the rows and columns combined alike.
    fn eye(&mut self, node: NodeId, axes: &[Combined]) -> Result<Terms, ClaimError> {
        let [rows, cols] = axes else {
            unreachable!("eye(n) is a matrix")
        };
        let ranges = |c: &Combined| c.iter().map(|&(_, range)| range).collect::<Vec<_>>();
        if ranges(rows) != ranges(cols) {
            return Err(ClaimError::at(
                self.sub.node(node).span,
                format!(
                    "this identity is read at rows {} and columns {} of J in layout {}, which \
                     combine different ranges, so it is no product of deltas",
                    self.names(rows),
                    self.names(cols),
                    self.layout
                ),
            ));
        }
        let factors = rows
            .iter()
            .zip(cols)
            .map(|(&(r, _), &(c, _))| Factor::Delta(Slot::Index(r), Slot::Index(c)))
            .collect();
        Ok(vec![Term {
            coeff: 1.0,
            sums: vec![],
            factors,
        }])
    }

    /// `a @ b` read at `axes`: Σ over a new summation index (combined as the finer of a's
    /// columns and b's rows) of a times b.
    fn product(&mut self, a: NodeId, b: NodeId, axes: &[Combined]) -> Result<Terms, ClaimError> {
        let a_rank = self.dims(a).len();
        let (a_parts, b_parts) = (self.parts(a, a_rank - 1), self.parts(b, 0));
        let parts = if a_parts.len() >= b_parts.len() {
            a_parts
        } else {
            b_parts
        };
        let inner: Combined = parts
            .into_iter()
            .map(|range| (self.summation_index(range), range))
            .collect();
        let a_axes = [&axes[..a_rank - 1], std::slice::from_ref(&inner)].concat();
        let b_axes = [std::slice::from_ref(&inner), &axes[a_rank - 1..]].concat();
        let mut terms = multiplied(&self.read(a, &a_axes)?, &self.read(b, &b_axes)?);
        for term in &mut terms {
            term.sums.extend(inner.iter().map(|&(index, _)| index));
        }
        Ok(terms)
    }

    /// A new summation index over `0..range`, named after the first letter from m on that
    /// no index of the claim uses yet.
    fn summation_index(&mut self, range: usize) -> IndexId {
        let taken = |name: &str| self.reader.indices.iter().any(|v| v.name == name);
        let name = ('m'..='z')
            .map(String::from)
            .chain((1..).map(|n| format!("m{n}")))
            .find(|name| !taken(name))
            .expect("an unbounded list of names");
        self.reader.indices.push(IndexVar {
            name,
            dim: range,
            role: IndexRole::Summation,
        });
        self.reader.ranges.push(Some(range));
        self.reader.indices.len() - 1
    }

    /// The combined indices an operand of the elementwise `node` is read at (NumPy
    /// broadcasting: axes aligned from the right; an axis of length 1 reads position 0).
    fn operand_axes(&self, node: NodeId, operand: NodeId, axes: &[Combined]) -> Vec<Combined> {
        let offset = self.dims(node).len() - self.dims(operand).len();
        self.dims(operand)
            .iter()
            .enumerate()
            .map(|(axis, &range)| {
                if range == 1 {
                    Vec::new()
                } else {
                    axes[axis + offset].clone()
                }
            })
            .collect()
    }

    /// The ranges `node`'s axis naturally splits into, slowest first: a kron's axis splits
    /// into its operands' parts; every other axis is one part (parts of length 1 left out).
    fn parts(&self, node: NodeId, axis: usize) -> Vec<usize> {
        let dims = self.dims(node);
        let parts = match self.sub.node(node).op {
            Op::Kron(a, b) => [self.parts(a, axis), self.parts(b, axis)].concat(),
            Op::Transpose(a) if dims.len() == 2 => self.parts(a, 1 - axis),
            Op::Neg(a) => self.parts(a, axis),
            Op::MatMul(a, b) => {
                let a_rank = self.dims(a).len();
                if axis < a_rank - 1 {
                    self.parts(a, axis)
                } else {
                    self.parts(b, axis + 2 - a_rank)
                }
            }
            Op::Outer(a, b) => self.parts([a, b][axis], 0),
            Op::Binary(_, a, b) => {
                let of = |operand: NodeId| {
                    let offset = dims.len() - self.dims(operand).len();
                    match axis.checked_sub(offset) {
                        Some(at) if self.dims(operand)[at] == dims[axis] => self.parts(operand, at),
                        _ => Vec::new(),
                    }
                };
                let (left, right) = (of(a), of(b));
                if left.len() >= right.len() {
                    left
                } else {
                    right
                }
            }
            _ => vec![dims[axis]],
        };
        parts.into_iter().filter(|&range| range != 1).collect()
    }

    /// The dims of a node of the claim.
    fn dims(&self, node: NodeId) -> &[usize] {
        self.sub.node(node).shape.dims()
    }

    /// `(j, i)`: the names of the indices `combined` combines.
    fn names(&self, combined: &Combined) -> String {
        let names: Vec<&str> = combined
            .iter()
            .map(|&(index, _)| self.reader.indices[index].name.as_str())
            .collect();
        format!("({})", names.join(", "))
    }

    /// The error for a kron whose second operand's `range` does not end `combined`.
    fn cannot_split(&self, node: NodeId, combined: &Combined, range: usize) -> ClaimError {
        let ranges: Vec<String> = combined.iter().map(|&(_, r)| r.to_string()).collect();
        ClaimError::at(
            self.sub.node(node).span,
            format!(
                "this kron reads its second operand over the last {range} positions of the \
                 combined index {} = {} of J in layout {}, which no split of it gives",
                self.names(combined),
                ranges.join("×"),
                self.layout
            ),
        )
    }

    /// The error for an operation that cannot be read at a combined index.
    fn cannot_take_apart(&self, node: NodeId, axes: &[Combined]) -> ClaimError {
        let combined = axes
            .iter()
            .find(|combined| combined.len() > 1)
            .expect("some axis combines indices");
        ClaimError::at(
            self.sub.node(node).span,
            format!(
                "this is read at the combined index {} of J in layout {}, which only kron, \
                 eye, outer, @, .T, + - * / take apart",
                self.names(combined),
                self.layout
            ),
        )
    }
}

/// `combined` split into its slower indices and the faster ones spanning `range`
/// positions, if its indices end on that boundary.
fn split(combined: &Combined, range: usize) -> Option<(Combined, Combined)> {
    let mut spanned = 1;
    let mut at = combined.len();
    while spanned < range && at > 0 {
        at -= 1;
        spanned *= combined[at].1;
    }
    (spanned == range).then(|| (combined[..at].to_vec(), combined[at..].to_vec()))
}
