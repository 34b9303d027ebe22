//! Forward evaluation of every node of a graph, in `f64`, with NumPy/JAX semantics.
//!
//! [`evaluate`] keeps every intermediate value ([`Values`]); [`evaluate_nodes`] computes
//! only the values an index formula refers to (e.g. `softmax(...)[i,j]`) and what they
//! depend on, so that `X @ W.T` differentiated with respect to X needs no product at all.
//! Matrix products run on all rayon threads and report progress.
//!
//! The numbers themselves (softmax, logsumexp, powers, accurate sums, the inverse and its
//! condition, the matrix product) come from [`kernels`], the kernels the bound formula in
//! [`crate::jacobian`] uses too.

pub mod kernels;
#[cfg(test)]
pub(crate) mod testing;

use std::sync::Arc;

use ndarray::{Array2, ArrayD, ArrayView1, ArrayView2, ArrayViewD, Axis, Ix1, Ix2, IxDyn};

use crate::expr::{BinOp, Graph, NodeId, Op, ReduceKind, Shape, Span};
use crate::inputs::{Inputs, first_non_finite, standard_layout};
use crate::progress::Progress;
pub use kernels::{MAX_CONDITION, condition_number};

/// An error while evaluating a graph (or checking one of its derivatives).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// `inv(A)` of a singular or badly conditioned matrix.
    #[error(
        "cannot compute {text}: the matrix is singular or nearly so \
         (1-norm condition number {condition:.1e}, limit {MAX_CONDITION:.0e})"
    )]
    Singular {
        /// The span of the `inv(...)` node.
        span: Span,
        /// Its source text.
        text: String,
        /// The estimated condition number (infinite if exactly singular).
        condition: f64,
    },
    /// The inputs lack a variable of the graph or give it another shape.
    #[error("no value of shape {expected} for input {name}")]
    InputMismatch {
        /// The variable.
        name: String,
        /// The shape the graph needs.
        expected: Shape,
    },
    /// A derivative was asked with respect to a name that is not a variable.
    #[error("{name} is not a variable of the expression")]
    NotAVariable {
        /// The name asked for.
        name: String,
    },
    /// A Jacobian index of the wrong length or out of range.
    #[error("index {index:?} does not fit the Jacobian's shape {shape}")]
    BadIndex {
        /// The index given.
        index: Vec<usize>,
        /// The Jacobian's shape (output shape followed by input shape).
        shape: Shape,
    },
}

/// The values of the evaluated nodes of a graph, indexed by [`NodeId`].
///
/// [`evaluate`] computes every node; [`evaluate_nodes`] only the nodes asked for (and
/// drops the intermediates it needed on the way). Every value is in standard (row-major,
/// contiguous) layout. Values are shared with the [`Inputs`] they were computed from, so
/// input arrays are not copied.
#[derive(Debug, Clone)]
pub struct Values {
    values: Vec<Option<Arc<ArrayD<f64>>>>,
    root: NodeId,
}

impl Values {
    /// The value of node `id`. Panics if the node was not evaluated (see
    /// [`Self::shared`] for a fallible look-up).
    pub fn get(&self, id: NodeId) -> &ArrayD<f64> {
        self.shared(id)
            .unwrap_or_else(|| panic!("node {id} was not evaluated"))
    }

    /// The value of node `id`, shared, if it was evaluated.
    pub fn shared(&self, id: NodeId) -> Option<&Arc<ArrayD<f64>>> {
        self.values.get(id)?.as_ref()
    }

    /// The value of the whole expression. Panics if the root was not evaluated.
    pub fn root(&self) -> &ArrayD<f64> {
        self.get(self.root)
    }

    /// The first evaluated node (in topological order) with a NaN or infinite entry, and
    /// the first such index in row-major order, so a caller can say "log(X) produced NaN
    /// at [0, 3]".
    pub fn first_non_finite(&self) -> Option<(NodeId, Vec<usize>)> {
        self.values.iter().enumerate().find_map(|(id, value)| {
            let value = value.as_ref()?;
            // A quick pass over the data first: finding the index is slower.
            let finite = value
                .as_slice()
                .is_some_and(|data| data.iter().all(|x| x.is_finite()));
            Some((
                id,
                if finite {
                    None
                } else {
                    first_non_finite(value)
                }?,
            ))
        })
    }
}

/// Evaluates every node of `graph` at `inputs`, keeping every value.
///
/// NaN and infinities are not errors here (`log` of a negative entry may be worth
/// inspecting); see [`Values::first_non_finite`]. The only errors are inputs that do
/// not match the graph and `inv` of a (nearly) singular matrix.
pub fn evaluate(graph: &Graph, inputs: &Inputs) -> Result<Values, EvalError> {
    let every: Vec<NodeId> = (0..graph.nodes.len()).collect();
    let values = evaluate_nodes(graph, inputs, &every, &Progress::new())?;
    Ok(values.expect("nobody can cancel this progress"))
}

/// Evaluates the nodes `wanted` of `graph` at `inputs`, and only what they depend on; the
/// result holds the values of `wanted` (and of the inputs) only. Intermediates are dropped
/// as soon as nothing left to compute reads them, and a transposed matrix that only feeds
/// a matrix product is read through a transposed view instead of being copied. Matrix
/// products run on all rayon threads.
///
/// Reports progress in `progress` in the units of [`EvaluationCost::work`] (it only
/// advances: the caller starts it) and returns `Ok(None)` soon after `progress` is
/// cancelled. Errors as [`evaluate`].
pub fn evaluate_nodes(
    graph: &Graph,
    inputs: &Inputs,
    wanted: &[NodeId],
    progress: &Progress,
) -> Result<Option<Values>, EvalError> {
    let plan = Plan::new(graph, wanted);
    let mut values: Vec<Option<Arc<ArrayD<f64>>>> = vec![None; graph.nodes.len()];
    for (id, node) in graph.nodes.iter().enumerate() {
        if !plan.compute[id] {
            continue;
        }
        if progress.is_cancelled() {
            return Ok(None);
        }
        if !matches!(node.op, Op::Input(_)) {
            progress.set_stage(format!("computing {}", graph.text(id)));
        }
        let value = match compute_node(graph, id, inputs, &values, &plan, progress)? {
            Some(value) => value,
            None => return Ok(None),
        };
        if !matches!(node.op, Op::MatMul(..)) || node.shape.rank() < 2 {
            progress.advance(node_work(graph, id));
        }
        values[id] = Some(value);
        for operand in plan.reads(graph, id) {
            if plan.last_use[operand] == Some(id) && !plan.keep[operand] {
                values[operand] = None;
            }
        }
    }
    Ok(Some(Values {
        values,
        root: graph.root,
    }))
}

/// What an [`evaluate_nodes`] call costs, known before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvaluationCost {
    /// Units of work: multiply-adds for matrix products, entries for everything else.
    pub work: u64,
    /// The largest number of bytes the computed values (inputs excluded) hold at once.
    pub peak_bytes: u128,
    /// The bytes of the computed values kept in the result (inputs excluded).
    pub kept_bytes: u128,
}

/// The cost of evaluating the nodes `wanted` of `graph` with [`evaluate_nodes`].
pub fn evaluation_cost(graph: &Graph, wanted: &[NodeId]) -> EvaluationCost {
    let plan = Plan::new(graph, wanted);
    let mut cost = EvaluationCost {
        work: 0,
        peak_bytes: 0,
        kept_bytes: 0,
    };
    let mut live = 0u128;
    for id in (0..graph.nodes.len()).filter(|&id| plan.compute[id]) {
        cost.work = cost.work.saturating_add(node_work(graph, id));
        let bytes = new_bytes(graph, id);
        live += bytes;
        cost.peak_bytes = cost.peak_bytes.max(live);
        if plan.keep[id] {
            cost.kept_bytes += bytes;
        }
        for operand in plan.reads(graph, id) {
            if plan.last_use[operand] == Some(id) && !plan.keep[operand] {
                live -= new_bytes(graph, operand);
            }
        }
    }
    cost
}

/// Bytes a node's value allocates when computed (inputs and vector "transposes" share
/// their operand's value).
fn new_bytes(graph: &Graph, id: NodeId) -> u128 {
    let node = graph.node(id);
    match node.op {
        Op::Input(_) => 0,
        Op::Transpose(_) if node.shape.rank() < 2 => 0,
        _ => value_bytes(&node.shape),
    }
}

/// Bytes of an `f64` array of shape `shape`.
pub fn value_bytes(shape: &Shape) -> u128 {
    shape
        .dims()
        .iter()
        .fold(8u128, |acc, &d| acc.saturating_mul(d as u128))
}

/// Units of work of computing one node: multiply-adds of a matrix product, entries read
/// or written otherwise, none for values that are shared.
fn node_work(graph: &Graph, id: NodeId) -> u64 {
    let node = graph.node(id);
    let numel = |shape: &Shape| shape.numel().unwrap_or(u64::MAX).max(1);
    match node.op {
        Op::Input(_) => 0,
        Op::Transpose(_) if node.shape.rank() < 2 => 0,
        Op::MatMul(a, _) => {
            let inner = *graph.node(a).shape.dims().last().unwrap_or(&1) as u64;
            numel(&node.shape).saturating_mul(inner)
        }
        _ => node
            .op
            .operands()
            .iter()
            .map(|&o| numel(&graph.node(o).shape))
            .fold(numel(&node.shape), u64::saturating_add),
    }
}

/// Which nodes an evaluation computes, which it keeps, and when each value is read last.
struct Plan {
    /// Nodes whose values are computed.
    compute: Vec<bool>,
    /// Nodes whose values are kept in the result: the wanted ones and the inputs.
    keep: Vec<bool>,
    /// The last computed node that reads each value.
    last_use: Vec<Option<NodeId>>,
}

impl Plan {
    fn new(graph: &Graph, wanted: &[NodeId]) -> Plan {
        let n = graph.nodes.len();
        let mut keep = vec![false; n];
        for &id in wanted {
            keep[id] = true;
        }
        for (id, node) in graph.nodes.iter().enumerate() {
            if matches!(node.op, Op::Input(_)) {
                keep[id] = true;
            }
        }
        let mut plan = Plan {
            compute: vec![false; n],
            keep,
            last_use: vec![None; n],
        };
        // Users come after their operands: a backward sweep sees every user of a node
        // before the node itself.
        for id in (0..n).rev() {
            if !(plan.compute[id] || wanted.contains(&id)) {
                continue;
            }
            plan.compute[id] = true;
            for operand in plan.reads(graph, id) {
                plan.compute[operand] = true;
                plan.last_use[operand] = plan.last_use[operand].max(Some(id));
            }
        }
        plan
    }

    /// Where operand `operand` of node `id` is read from: a matrix product reads a
    /// transposed matrix that is not kept through a view of the matrix it transposes.
    /// Returns the node and whether to transpose its value.
    fn source(&self, graph: &Graph, id: NodeId, operand: NodeId) -> (NodeId, bool) {
        match (&graph.node(id).op, &graph.node(operand).op) {
            (Op::MatMul(..), &Op::Transpose(inner))
                if graph.node(operand).shape.rank() == 2 && !self.keep[operand] =>
            {
                (inner, true)
            }
            _ => (operand, false),
        }
    }

    /// The nodes whose values computing node `id` reads.
    fn reads(&self, graph: &Graph, id: NodeId) -> Vec<NodeId> {
        graph
            .node(id)
            .op
            .operands()
            .into_iter()
            .map(|operand| self.source(graph, id, operand).0)
            .collect()
    }
}

/// Computes node `id` from the values of its operands; `Ok(None)` if cancelled.
fn compute_node(
    graph: &Graph,
    id: NodeId,
    inputs: &Inputs,
    values: &[Option<Arc<ArrayD<f64>>>],
    plan: &Plan,
    progress: &Progress,
) -> Result<Option<Arc<ArrayD<f64>>>, EvalError> {
    let node = graph.node(id);
    let shared = |operand: NodeId| {
        values[operand]
            .as_ref()
            .expect("operands are computed before their users and dropped after")
    };
    let v = |operand: NodeId| &**shared(operand);
    let value = match node.op {
        Op::Input(ref name) => match inputs.shared(name) {
            Some(value) if value.shape() == node.shape.dims() => Arc::clone(value),
            _ => {
                return Err(EvalError::InputMismatch {
                    name: name.clone(),
                    expected: node.shape.clone(),
                });
            }
        },
        Op::Transpose(a) if v(a).ndim() < 2 => Arc::clone(shared(a)),
        Op::Transpose(a) => Arc::new(v(a).t().as_standard_layout().into_owned()),
        Op::Number(c) => new(ArrayD::from_elem(IxDyn(&[]), c)),
        Op::Neg(a) => new(-v(a)),
        Op::Binary(op, a, b) => new(match op {
            BinOp::Add => v(a) + v(b),
            BinOp::Sub => v(a) - v(b),
            BinOp::Mul => v(a) * v(b),
            BinOp::Div => v(a) / v(b),
        }),
        Op::MatMul(a, b) => {
            let operand = |o: NodeId| {
                let (source, transposed) = plan.source(graph, id, o);
                let view = v(source).view();
                if transposed {
                    view.reversed_axes()
                } else {
                    view
                }
            };
            match matmul(operand(a), operand(b), progress) {
                Some(product) => new(product),
                None => return Ok(None),
            }
        }
        Op::Pow(a, p) => new(kernels::power(v(a), p)),
        Op::Elementwise(f, a) => new(v(a).mapv(|x| f.apply(x))),
        Op::Reduce {
            kind,
            arg,
            axis,
            keepdims,
        } => new(reduce(v(arg), axis, keepdims, |lane| {
            reduce_lane(kind, lane)
        })),
        Op::Softmax { arg, axis } => new(kernels::softmax(v(arg), Some(axis))),
        Op::LogSumExp {
            arg,
            axis,
            keepdims,
        } => new(reduce(v(arg), axis, keepdims, kernels::logsumexp)),
        Op::Trace(a) => new(ArrayD::from_elem(
            IxDyn(&[]),
            kernels::accurate_sum(matrix(v(a)).diag().iter().copied()),
        )),
        Op::Inv(a) => new(
            kernels::inverse(v(a)).map_err(|condition| EvalError::Singular {
                span: node.span,
                text: graph.text(id).to_string(),
                condition,
            })?,
        ),
        Op::Det(a) => new(ArrayD::from_elem(IxDyn(&[]), kernels::determinant(v(a)))),
        Op::Eye(n) => new(Array2::eye(n).into_dyn()),
        Op::Kron(a, b) => new(kron(matrix(v(a)), matrix(v(b))).into_dyn()),
        Op::DiagMatrix(a) => new(Array2::from_diag(&vector(v(a))).into_dyn()),
        Op::Diagonal(a) => new(matrix(v(a)).diag().to_owned().into_dyn()),
        Op::Outer(a, b) => {
            let (a, b) = (vector(v(a)), vector(v(b)));
            new(Array2::from_shape_fn((a.len(), b.len()), |(i, j)| a[i] * b[j]).into_dyn())
        }
    };
    Ok(Some(value))
}

/// A freshly computed value, shared and in standard layout.
fn new(value: ArrayD<f64>) -> Arc<ArrayD<f64>> {
    Arc::new(standard_layout(value))
}

/// A rank-2 value as a matrix view (the graph is shape-checked, so this cannot fail).
fn matrix(a: &ArrayD<f64>) -> ArrayView2<'_, f64> {
    as_matrix(a.view())
}

/// A rank-1 value as a vector view (the graph is shape-checked, so this cannot fail).
fn vector(a: &ArrayD<f64>) -> ArrayView1<'_, f64> {
    as_vector(a.view())
}

/// The Kronecker product: `kron(a, b)[r, c] = a[r / p, c / q] · b[r % p, c % q]` for `b`
/// of shape p×q.
fn kron(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    let (p, q) = b.dim();
    Array2::from_shape_fn((a.nrows() * p, a.ncols() * q), |(r, c)| {
        a[[r / p, c / q]] * b[[r % p, c % q]]
    })
}

/// `a @ b` as in NumPy: matrix·matrix, matrix·vector, vector·matrix, vector·vector;
/// `None` if `progress` is cancelled during a matrix·matrix product.
fn matmul(a: ArrayViewD<f64>, b: ArrayViewD<f64>, progress: &Progress) -> Option<ArrayD<f64>> {
    Some(match (a.ndim(), b.ndim()) {
        (2, 2) => kernels::matrix_product(as_matrix(a), as_matrix(b), progress)?.into_dyn(),
        (2, 1) => as_matrix(a).dot(&as_vector(b)).into_dyn(),
        (1, 2) => as_vector(a).dot(&as_matrix(b)).into_dyn(),
        _ => ArrayD::from_elem(IxDyn(&[]), as_vector(a).dot(&as_vector(b))),
    })
}

/// A rank-2 view as a matrix view (the graph is shape-checked, so this cannot fail).
fn as_matrix(x: ArrayViewD<'_, f64>) -> ArrayView2<'_, f64> {
    x.into_dimensionality::<Ix2>()
        .expect("shape-checked graph: operand is a matrix")
}

/// A rank-1 view as a vector view.
fn as_vector(x: ArrayViewD<'_, f64>) -> ArrayView1<'_, f64> {
    x.into_dimensionality::<Ix1>()
        .expect("shape-checked graph: operand is a vector")
}

/// Applies `f` to every lane along `axis` (or to all entries if `axis` is `None`),
/// keeping the reduced axes with length 1 if `keepdims`.
fn reduce(
    a: &ArrayD<f64>,
    axis: Option<usize>,
    keepdims: bool,
    f: impl Fn(ArrayView1<f64>) -> f64,
) -> ArrayD<f64> {
    match axis {
        None => {
            let all = a
                .view()
                .into_shape_with_order(a.len())
                .expect("values are in standard layout");
            let dims = if keepdims { vec![1; a.ndim()] } else { vec![] };
            ArrayD::from_elem(IxDyn(&dims), f(all))
        }
        Some(axis) => {
            let reduced = a.map_axis(Axis(axis), f);
            if keepdims {
                reduced.insert_axis(Axis(axis))
            } else {
                reduced
            }
        }
    }
}

/// Sum, mean, population variance or population standard deviation of one lane.
fn reduce_lane(kind: ReduceKind, lane: ArrayView1<f64>) -> f64 {
    let variance = || {
        let mean = kernels::mean(lane);
        kernels::accurate_sum(lane.iter().map(|x| (x - mean) * (x - mean))) / lane.len() as f64
    };
    match kind {
        ReduceKind::Sum => kernels::accurate_sum(lane.iter().copied()),
        ReduceKind::Mean => kernels::mean(lane),
        ReduceKind::Var => variance(),
        ReduceKind::Std => variance().sqrt(),
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn, arr0, array};

    use super::testing::{GraphBuilder, inputs};
    use super::*;
    use crate::expr::{ElemFn, Node};

    /// Evaluates one operation on inputs named A, B, … with the given values; `op` gets
    /// their node ids, `out` is the result's shape.
    fn apply(
        args: &[&ArrayD<f64>],
        op: impl FnOnce(&[NodeId]) -> Op,
        out: &[usize],
    ) -> ArrayD<f64> {
        let names = ["A", "B", "C"];
        let mut builder = GraphBuilder::new("expr");
        let ids: Vec<NodeId> = args
            .iter()
            .zip(names)
            .map(|(value, name)| builder.input(name, value.shape()))
            .collect();
        builder.push(op(&ids), out);
        let graph = builder.build();
        let named: Vec<(&str, ArrayD<f64>)> = names
            .into_iter()
            .zip(args.iter().map(|&value| value.clone()))
            .collect();
        let values = evaluate(&graph, &inputs(&graph, &named)).expect("evaluates");
        let root = values.root().clone();
        assert_eq!(root.shape(), out, "result shape");
        assert!(root.is_standard_layout());
        root
    }

    fn close(a: &ArrayD<f64>, b: &ArrayD<f64>) -> bool {
        a.shape() == b.shape()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (x - y).abs() <= 1e-12 * (1.0 + y.abs()))
    }

    fn m() -> ArrayD<f64> {
        array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]].into_dyn()
    }

    #[test]
    fn binary_ops_broadcast_like_numpy() {
        let row = array![10.0, 20.0, 30.0].into_dyn();
        let column = array![[100.0], [200.0]].into_dyn();
        let sum = apply(
            &[&m(), &row],
            |n| Op::Binary(BinOp::Add, n[0], n[1]),
            &[2, 3],
        );
        assert_eq!(
            sum,
            array![[11.0, 22.0, 33.0], [14.0, 25.0, 36.0]].into_dyn()
        );
        let diff = apply(
            &[&row, &column],
            |n| Op::Binary(BinOp::Sub, n[0], n[1]),
            &[2, 3],
        );
        assert_eq!(
            diff,
            array![[-90.0, -80.0, -70.0], [-190.0, -180.0, -170.0]].into_dyn()
        );
        let product = apply(
            &[&m(), &column],
            |n| Op::Binary(BinOp::Mul, n[0], n[1]),
            &[2, 3],
        );
        assert_eq!(
            product,
            array![[100.0, 200.0, 300.0], [800.0, 1000.0, 1200.0]].into_dyn()
        );
        let quotient = apply(
            &[&m(), &arr0(2.0).into_dyn()],
            |n| Op::Binary(BinOp::Div, n[0], n[1]),
            &[2, 3],
        );
        assert_eq!(
            quotient,
            array![[0.5, 1.0, 1.5], [2.0, 2.5, 3.0]].into_dyn()
        );
    }

    #[test]
    fn numbers_and_negation() {
        let mut builder = GraphBuilder::new("-(A * 2)");
        let a = builder.input("A", &[2]);
        let two = builder.push(Op::Number(2.0), &[]);
        let product = builder.push(Op::Binary(BinOp::Mul, a, two), &[2]);
        builder.push(Op::Neg(product), &[2]);
        let graph = builder.build();
        let values = evaluate(
            &graph,
            &inputs(&graph, &[("A", array![1.5, -3.0].into_dyn())]),
        )
        .unwrap();
        assert_eq!(values.get(two), &arr0(2.0).into_dyn());
        assert_eq!(values.root(), &array![-3.0, 6.0].into_dyn());
    }

    #[test]
    fn matmul_covers_all_rank_combinations() {
        let b = array![[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]].into_dyn();
        let mm = apply(&[&m(), &b], |n| Op::MatMul(n[0], n[1]), &[2, 2]);
        assert_eq!(mm, array![[7.0, -1.0], [16.0, -1.0]].into_dyn());
        let v3 = array![1.0, -1.0, 2.0].into_dyn();
        let mv = apply(&[&m(), &v3], |n| Op::MatMul(n[0], n[1]), &[2]);
        assert_eq!(mv, array![5.0, 11.0].into_dyn());
        let v2 = array![1.0, -1.0].into_dyn();
        let vm = apply(&[&v2, &m()], |n| Op::MatMul(n[0], n[1]), &[3]);
        assert_eq!(vm, array![-3.0, -3.0, -3.0].into_dyn());
        let vv = apply(&[&v3, &v3], |n| Op::MatMul(n[0], n[1]), &[]);
        assert_eq!(vv, arr0(6.0).into_dyn());
    }

    #[test]
    fn large_matmul_matches_the_definition() {
        // 37 rows: not a multiple of the number of threads, so the row blocks are uneven.
        let a = ArrayD::from_shape_fn(IxDyn(&[37, 11]), |i| (i[0] * 3 + i[1]) as f64 % 7.0 - 3.0);
        let b = ArrayD::from_shape_fn(IxDyn(&[11, 5]), |i| (i[0] + 2 * i[1]) as f64 % 5.0 - 2.0);
        let product = apply(&[&a, &b], |n| Op::MatMul(n[0], n[1]), &[37, 5]);
        let expected = ArrayD::from_shape_fn(IxDyn(&[37, 5]), |i| {
            (0..11).map(|m| a[[i[0], m]] * b[[m, i[1]]]).sum::<f64>()
        });
        assert_eq!(product, expected);
    }

    #[test]
    fn pow_uses_integer_powers_for_integer_exponents() {
        let x = array![-2.0, 4.0, 0.5].into_dyn();
        assert_eq!(
            apply(&[&x], |n| Op::Pow(n[0], 3.0), &[3]),
            array![-8.0, 64.0, 0.125].into_dyn()
        );
        assert_eq!(
            apply(&[&x], |n| Op::Pow(n[0], -1.0), &[3]),
            array![-0.5, 0.25, 2.0].into_dyn()
        );
        let root = apply(&[&x], |n| Op::Pow(n[0], 0.5), &[3]);
        assert!(root[[0]].is_nan());
        assert_eq!(root[[1]], 2.0);
    }

    #[test]
    fn transpose_swaps_matrix_axes_and_leaves_vectors_alone() {
        let t = apply(&[&m()], |n| Op::Transpose(n[0]), &[3, 2]);
        assert_eq!(t, array![[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]].into_dyn());
        let v = array![1.0, 2.0].into_dyn();
        assert_eq!(apply(&[&v], |n| Op::Transpose(n[0]), &[2]), v);
    }

    #[test]
    fn elementwise_functions_apply_entrywise() {
        let x = array![[0.0, 1.0], [-1.0, 2.0]].into_dyn();
        let y = apply(&[&x], |n| Op::Elementwise(ElemFn::Exp, n[0]), &[2, 2]);
        assert!(close(&y, &x.mapv(f64::exp)));
        let r = apply(&[&x], |n| Op::Elementwise(ElemFn::Relu, n[0]), &[2, 2]);
        assert_eq!(r, array![[0.0, 1.0], [0.0, 2.0]].into_dyn());
    }

    fn reduce_op(
        kind: ReduceKind,
        axis: Option<usize>,
        keepdims: bool,
    ) -> impl FnOnce(&[NodeId]) -> Op {
        move |n| Op::Reduce {
            kind,
            arg: n[0],
            axis,
            keepdims,
        }
    }

    #[test]
    fn sum_over_an_axis_or_everything_with_and_without_keepdims() {
        use ReduceKind::Sum;
        assert_eq!(
            apply(&[&m()], reduce_op(Sum, None, false), &[]),
            arr0(21.0).into_dyn()
        );
        assert_eq!(
            apply(&[&m()], reduce_op(Sum, None, true), &[1, 1]),
            array![[21.0]].into_dyn()
        );
        assert_eq!(
            apply(&[&m()], reduce_op(Sum, Some(0), false), &[3]),
            array![5.0, 7.0, 9.0].into_dyn()
        );
        assert_eq!(
            apply(&[&m()], reduce_op(Sum, Some(0), true), &[1, 3]),
            array![[5.0, 7.0, 9.0]].into_dyn()
        );
        assert_eq!(
            apply(&[&m()], reduce_op(Sum, Some(1), false), &[2]),
            array![6.0, 15.0].into_dyn()
        );
        assert_eq!(
            apply(&[&m()], reduce_op(Sum, Some(1), true), &[2, 1]),
            array![[6.0], [15.0]].into_dyn()
        );
    }

    #[test]
    fn mean_var_std_are_population_statistics() {
        use ReduceKind::{Mean, Std, Var};
        assert_eq!(
            apply(&[&m()], reduce_op(Mean, None, false), &[]),
            arr0(3.5).into_dyn()
        );
        assert_eq!(
            apply(&[&m()], reduce_op(Mean, Some(1), false), &[2]),
            array![2.0, 5.0].into_dyn()
        );
        // Σ(x − 3.5)² / 6 = 17.5 / 6
        let var = apply(&[&m()], reduce_op(Var, None, false), &[]);
        assert!(close(&var, &arr0(17.5 / 6.0).into_dyn()));
        // columns are {a, a+3}: variance 2.25
        let var0 = apply(&[&m()], reduce_op(Var, Some(0), false), &[3]);
        assert_eq!(var0, array![2.25, 2.25, 2.25].into_dyn());
        let std1 = apply(&[&m()], reduce_op(Std, Some(1), true), &[2, 1]);
        let expected = (2.0f64 / 3.0).sqrt();
        assert!(close(&std1, &array![[expected], [expected]].into_dyn()));
    }

    #[test]
    fn rows_of_a_softmax_sum_to_one_and_match_the_closed_form() {
        let x = array![[0.0, 2f64.ln(), 3f64.ln()], [1000.0, 1000.0, 1000.0]].into_dyn();
        let s = apply(&[&x], |n| Op::Softmax { arg: n[0], axis: 1 }, &[2, 3]);
        let third = 1.0 / 3.0;
        assert!(close(
            &s,
            &array![[1.0 / 6.0, third, 0.5], [third, third, third]].into_dyn()
        ));
        let columns = apply(&[&x], |n| Op::Softmax { arg: n[0], axis: 0 }, &[2, 3]);
        for column in columns.lanes(Axis(0)) {
            assert!((column.sum() - 1.0).abs() < 1e-15);
        }
        assert_eq!(
            columns[[1, 0]],
            1.0,
            "exp(-1000) underflows to 0, no overflow"
        );
    }

    #[test]
    fn logsumexp_matches_the_naive_formula_and_survives_large_values() {
        let x = array![[0.5, -1.0, 2.0], [1000.0, 1000.0, 999.0]].into_dyn();
        let lse = |axis, keepdims, dims: &[usize]| {
            apply(
                &[&x],
                |n| Op::LogSumExp {
                    arg: n[0],
                    axis,
                    keepdims,
                },
                dims,
            )
        };
        let row0 = (0.5f64.exp() + (-1f64).exp() + 2f64.exp()).ln();
        let row1 = 1000.0 + (2.0 + (-1f64).exp()).ln();
        assert!(close(
            &lse(Some(1), false, &[2]),
            &array![row0, row1].into_dyn()
        ));
        assert!(close(
            &lse(Some(1), true, &[2, 1]),
            &array![[row0], [row1]].into_dyn()
        ));
        let col2 = (2f64.exp() + 999f64.exp().min(f64::MAX)).ln();
        assert!(col2.is_finite());
        let all = lse(None, false, &[]);
        assert!(close(
            &all,
            &arr0(row1 + (1.0 + (row0 - row1).exp()).ln()).into_dyn()
        ));
        let minus_inf = array![f64::NEG_INFINITY, f64::NEG_INFINITY].into_dyn();
        let out = apply(
            &[&minus_inf],
            |n| Op::LogSumExp {
                arg: n[0],
                axis: None,
                keepdims: false,
            },
            &[],
        );
        assert_eq!(out[[]], f64::NEG_INFINITY);
    }

    #[test]
    fn structural_functions_of_known_values() {
        let a = array![[1.0, 2.0], [3.0, 4.0]].into_dyn();
        let b = array![[0.0, 5.0], [6.0, 7.0]].into_dyn();
        assert_eq!(
            apply(&[&a, &b], |n| Op::Kron(n[0], n[1]), &[4, 4]),
            array![
                [0.0, 5.0, 0.0, 10.0],
                [6.0, 7.0, 12.0, 14.0],
                [0.0, 15.0, 0.0, 20.0],
                [18.0, 21.0, 24.0, 28.0]
            ]
            .into_dyn()
        );
        let row = array![[1.0, -2.0, 3.0]].into_dyn();
        let column = array![[2.0], [-1.0]].into_dyn();
        assert_eq!(
            apply(&[&row, &column], |n| Op::Kron(n[0], n[1]), &[2, 3]),
            array![[2.0, -4.0, 6.0], [-1.0, 2.0, -3.0]].into_dyn()
        );
        assert_eq!(
            apply(&[], |_| Op::Eye(3), &[3, 3]),
            array![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]].into_dyn()
        );
        let v = array![2.0, -3.0].into_dyn();
        assert_eq!(
            apply(&[&v], |n| Op::DiagMatrix(n[0]), &[2, 2]),
            array![[2.0, 0.0], [0.0, -3.0]].into_dyn()
        );
        assert_eq!(
            apply(&[&a], |n| Op::Diagonal(n[0]), &[2]),
            array![1.0, 4.0].into_dyn()
        );
        let u = array![1.0, 2.0, 3.0].into_dyn();
        assert_eq!(
            apply(&[&u, &v], |n| Op::Outer(n[0], n[1]), &[3, 2]),
            array![[2.0, -3.0], [4.0, -6.0], [6.0, -9.0]].into_dyn()
        );
        let x = array![[-2.5, 0.0], [-0.0, 7.0]].into_dyn();
        assert_eq!(
            apply(&[&x], |n| Op::Elementwise(ElemFn::Sign, n[0]), &[2, 2]),
            array![[-1.0, 0.0], [0.0, 1.0]].into_dyn()
        );
        assert!(ElemFn::Sign.apply(f64::NAN).is_nan());
        assert_eq!(ElemFn::Sign.derivative(-2.0), 0.0);
    }

    #[test]
    fn trace_and_det_of_known_matrices() {
        let a = array![[1.0, 2.0], [3.0, 4.0]].into_dyn();
        assert_eq!(apply(&[&a], |n| Op::Trace(n[0]), &[]), arr0(5.0).into_dyn());
        assert!(close(
            &apply(&[&a], |n| Op::Det(n[0]), &[]),
            &arr0(-2.0).into_dyn()
        ));
        let b = array![[2.0, 0.0, 1.0], [1.0, 3.0, 2.0], [1.0, 1.0, 1.0]].into_dyn();
        // 2·(3−2) − 0 + 1·(1−3) = 0
        assert!(apply(&[&b], |n| Op::Det(n[0]), &[])[[]].abs() < 1e-14);
        let c = array![[4.0, 3.0, 0.0], [3.0, 4.0, -1.0], [0.0, -1.0, 4.0]].into_dyn();
        // 4·(16−1) − 3·12 = 24
        assert!(close(
            &apply(&[&c], |n| Op::Det(n[0]), &[]),
            &arr0(24.0).into_dyn()
        ));
    }

    #[test]
    fn a_matrix_times_its_inverse_is_identity() {
        let a = ArrayD::from_shape_fn(IxDyn(&[5, 5]), |i| {
            if i[0] == i[1] {
                4.0
            } else {
                1.0 / (1.0 + i[0] as f64 + 2.0 * i[1] as f64)
            }
        });
        let inv = apply(&[&a], |n| Op::Inv(n[0]), &[5, 5]);
        let product = matrix(&inv).dot(&matrix(&a)).into_dyn();
        assert!(close(
            &product,
            &ArrayD::from_shape_fn(IxDyn(&[5, 5]), |i| f64::from(i[0] == i[1]))
        ));
    }

    fn inv_error(a: ArrayD<f64>) -> EvalError {
        let mut builder = GraphBuilder::new("inv(A)");
        let id = builder.input("A", a.shape());
        builder.push(Op::Inv(id), a.shape());
        let graph = builder.build();
        evaluate(&graph, &inputs(&graph, &[("A", a)])).unwrap_err()
    }

    #[test]
    fn the_inverse_of_a_singular_or_badly_conditioned_matrix_is_an_error() {
        let error = inv_error(array![[1.0, 2.0], [2.0, 4.0]].into_dyn());
        let EvalError::Singular {
            text, condition, ..
        } = &error
        else {
            panic!("{error:?}")
        };
        assert_eq!(text, "inv(A)");
        assert!(*condition > MAX_CONDITION);
        assert!(
            error
                .to_string()
                .starts_with("cannot compute inv(A): the matrix is singular"),
            "{error}"
        );
        // κ₁ = ‖A‖₁·‖A⁻¹‖₁ ≈ 2 · 2e14 = 4e14
        let error = inv_error(array![[1.0, 1.0], [1.0, 1.0 + 1e-14]].into_dyn());
        let EvalError::Singular { condition, .. } = error else {
            panic!("{error:?}")
        };
        assert!((1e14..1e15).contains(&condition), "{condition}");
    }

    #[test]
    fn det_of_singular_matrix_is_zero() {
        let det = apply(
            &[&array![[1.0, 2.0], [2.0, 4.0]].into_dyn()],
            |n| Op::Det(n[0]),
            &[],
        );
        assert_eq!(det[[]], 0.0);
    }

    #[test]
    fn non_finite_values_are_reported_not_raised() {
        let mut builder = GraphBuilder::new("sum(log(A))");
        let a = builder.input("A", &[2, 2]);
        let log = builder.push(Op::Elementwise(ElemFn::Log, a), &[2, 2]);
        builder.push(reduce_op(ReduceKind::Sum, None, false)(&[log]), &[]);
        let graph = builder.build();
        let x = array![[1.0, 2.0], [-1.0, -2.0]].into_dyn();
        let values = evaluate(&graph, &inputs(&graph, &[("A", x)])).unwrap();
        assert_eq!(values.first_non_finite(), Some((log, vec![1, 0])));
    }

    /// `relu(X @ W.T + b)` built by hand: (graph, X, W.T, X @ W.T, Z1 = X @ W.T + b, root).
    fn layer(n: usize, m: usize, d: usize) -> (Graph, [NodeId; 5]) {
        let mut builder = GraphBuilder::new("relu(X @ W.T + b)");
        let x = builder.input("X", &[n, d]);
        let w = builder.input("W", &[m, d]);
        let b = builder.input("b", &[m]);
        let wt = builder.push(Op::Transpose(w), &[d, m]);
        let product = builder.push(Op::MatMul(x, wt), &[n, m]);
        let z1 = builder.push(Op::Binary(BinOp::Add, product, b), &[n, m]);
        builder.push(Op::Elementwise(ElemFn::Relu, z1), &[n, m]);
        (builder.build(), [x, wt, product, z1, w])
    }

    fn layer_inputs(graph: &Graph, n: usize, m: usize, d: usize) -> Inputs {
        let wave = |shape: &[usize], k: f64| {
            ArrayD::from_shape_fn(IxDyn(shape), |i| {
                (ndarray::Dimension::slice(&i).iter().sum::<usize>() as f64 * k).sin()
            })
        };
        inputs(
            graph,
            &[
                ("X", wave(&[n, d], 0.7)),
                ("W", wave(&[m, d], 1.3)),
                ("b", wave(&[m], 0.1)),
            ],
        )
    }

    #[test]
    fn only_the_wanted_nodes_and_their_operands_are_computed() {
        let (graph, [x, wt, product, z1, w]) = layer(5, 3, 4);
        let inputs = layer_inputs(&graph, 5, 3, 4);
        let all = evaluate(&graph, &inputs).unwrap();
        // Only W: nothing to compute.
        let just_w = evaluate_nodes(&graph, &inputs, &[w], &Progress::new())
            .unwrap()
            .unwrap();
        assert!(std::ptr::eq(just_w.get(w), inputs.get("W").unwrap()));
        for id in [wt, product, z1, graph.root] {
            assert!(just_w.shared(id).is_none(), "node {id} computed");
        }
        assert_eq!(evaluation_cost(&graph, &[w]).work, 0);
        // Z1: the product is computed (reading W through a transposed view) and dropped.
        let lazy = evaluate_nodes(&graph, &inputs, &[z1], &Progress::new())
            .unwrap()
            .unwrap();
        assert_eq!(lazy.get(z1), all.get(z1));
        for id in [wt, product, graph.root] {
            assert!(lazy.shared(id).is_none(), "node {id} kept");
        }
        assert!(lazy.shared(x).is_some(), "inputs are always kept");
    }

    #[test]
    fn the_cost_counts_products_and_the_values_alive_at_once() {
        let (graph, [_, _, _, z1, _]) = layer(5, 3, 4);
        let cost = evaluation_cost(&graph, &[z1]);
        // X @ W.T: 5·3·4 multiply-adds; + b: reads 15 + 3 entries, writes 15.
        assert_eq!(cost.work, 5 * 3 * 4 + (15 + 3 + 15));
        // The product and Z1 (15 entries each) are alive together; only Z1 is kept.
        assert_eq!(cost.peak_bytes, 2 * 15 * 8);
        assert_eq!(cost.kept_bytes, 15 * 8);
        // Evaluating everything keeps W.T (12 entries), the product, Z1 and the root.
        let every: Vec<NodeId> = (0..graph.nodes.len()).collect();
        let cost = evaluation_cost(&graph, &every);
        assert_eq!(cost.kept_bytes, (12 + 15 + 15 + 15) * 8);
        assert_eq!(cost.peak_bytes, cost.kept_bytes);
    }

    #[test]
    fn progress_reaches_the_work_and_cancelling_stops_the_evaluation() {
        let (graph, [_, _, _, z1, _]) = layer(300, 70, 50);
        let inputs = layer_inputs(&graph, 300, 70, 50);
        let progress = Progress::new();
        let values = evaluate_nodes(&graph, &inputs, &[z1], &progress).unwrap();
        assert!(values.is_some());
        assert_eq!(progress.done(), evaluation_cost(&graph, &[z1]).work);
        assert!(
            progress.stage().starts_with("computing "),
            "{}",
            progress.stage()
        );
        let cancelled = Progress::new();
        cancelled.cancel();
        assert!(
            evaluate_nodes(&graph, &inputs, &[z1], &cancelled)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn input_values_are_shared_not_copied() {
        let mut builder = GraphBuilder::new("A.T");
        let a = builder.input("A", &[3]);
        builder.push(Op::Transpose(a), &[3]);
        let graph = builder.build();
        let inputs = inputs(&graph, &[("A", array![1.0, 2.0, 3.0].into_dyn())]);
        let values = evaluate(&graph, &inputs).unwrap();
        assert!(std::ptr::eq(values.get(a), inputs.get("A").unwrap()));
        assert!(std::ptr::eq(values.root(), inputs.get("A").unwrap()));
    }

    #[test]
    fn inputs_of_another_graph_are_refused() {
        let mut builder = GraphBuilder::new("A");
        builder.input("A", &[3]);
        let graph = builder.build();
        let mut other = graph.clone();
        other.nodes[0] = Node {
            shape: Shape(vec![4]),
            ..graph.nodes[0].clone()
        };
        let wrong = inputs(&other, &[("A", ArrayD::zeros(IxDyn(&[4])))]);
        let error = evaluate(&graph, &wrong).unwrap_err();
        assert_eq!(error.to_string(), "no value of shape 3 for input A");
    }
}
