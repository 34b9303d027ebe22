//! The Jacobian of one problem: an index formula bound to numbers.
//!
//! [`BoundFormula`] evaluates every tensor the formula refers to (node values, f′, powers,
//! centred values, softmax, inverses) and plans the evaluation of each term: deltas become
//! index comparisons, tensor factors become strided reads, and the factors that share
//! summation indices are grouped into contractions. A contraction over at most two free
//! indices is hoisted: computed once into a small tensor (with matrix products when it is a
//! chain `Σ A[x,m]·B[m,n]·…·C[p,y]`), so that an entry costs O(number of factors). A
//! contraction over more free indices is summed per entry (correct, slower). A contraction
//! may have any number of summation indices.
//!
//! Node values are shared, not copied, and hoisted matrix products run on all rayon
//! threads with progress ([`BoundFormula::with_progress`]). Along a run of entries (one
//! index moving) every delta holds everywhere, nowhere or at one entry and every factor
//! is a strided read, so runs are evaluated in tight loops ([`BoundFormula::add_run`]).
//!
//! [`Jacobian`] adds the graph and the variable J differentiates with respect to, and
//! answers the questions the views ask: shape, one entry, a 2-D slice (cost proportional
//! to its structural nonzeros), the block summaries of a slice for a heat map without
//! building the slice ([`Jacobian::slice_blocks`]), why an entry is zero, and an entry's
//! term-by-term breakdown.

use std::ops::Range;
use std::sync::Arc;

use rayon::prelude::*;

use ndarray::{ArrayD, ArrayView2, ArrayViewD, ArrayViewMut1, Axis, IxDyn};
use thiserror::Error;

use crate::calculus::formula::entry_count;
use crate::calculus::render::{self, Notation};
use crate::calculus::{Factor, Formula, IndexId, Slot, TensorDef, TensorId, Term};
use crate::eval::{self, Values};
use crate::expr::{Graph, NodeId};
use crate::numfmt;
use crate::progress::Progress;
use crate::sparsity::{self, RunOverlap, StructuralSupport, SupportPattern};

/// Most axes J can have: two of Y's and two of X's.
const MAX_AXES: usize = 4;

/// Multiply-adds per piece of parallel work when hoisting a contraction with a loop.
const PIECE_WORK: usize = 1 << 16;

/// Most tensor factors of a term that move along a run and are read without index
/// arithmetic (a term with more is evaluated entry by entry).
const MAX_MOVING: usize = 4;

/// Most terms of a formula whose runs are combined in shared passes (see
/// [`BoundFormula::add_run`]); further terms are added one by one.
const MAX_STREAMS: usize = 8;

/// The components of J's index.
type Scratch = [usize; MAX_AXES];

/// `index` (J's components) in a scratch index.
fn scratch(index: &[usize]) -> Scratch {
    let mut s = [0; MAX_AXES];
    s[..index.len()].copy_from_slice(index);
    s
}

/// What can go wrong when binding a formula or addressing J.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum JacobianError {
    /// An index with the wrong number of components.
    #[error("index has {}, J has {} ({axes})", counted(*got, "component", "components"), counted(*expected, "axis", "axes"))]
    IndexLength {
        /// Components given.
        got: usize,
        /// J's number of axes.
        expected: usize,
        /// J's axis names, comma separated, or "a scalar".
        axes: String,
    },
    /// An index component outside its axis.
    #[error("{name} = {value} is out of range 0..{dim}")]
    IndexRange {
        /// The axis name.
        name: String,
        /// The component given.
        value: usize,
        /// The axis length.
        dim: usize,
    },
    /// Slice axes that are not two different axes of J.
    #[error("a slice needs two different axes of J ({axes}); got axes {rows} and {cols}")]
    SliceAxes {
        /// Axis position of the rows.
        rows: usize,
        /// Axis position of the columns.
        cols: usize,
        /// J's axis names.
        axes: String,
    },
    /// A matrix whose inverse the formula needs is singular.
    #[error("{what} is singular, so its inverse (needed by the derivative) does not exist")]
    Singular {
        /// The source text of the matrix.
        what: String,
    },
    /// The formula does not fit the graph or breaks an invariant of formulas (a bug).
    #[error("malformed formula: {0}")]
    Malformed(String),
}

/// `1 component`, `3 components`.
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A row-major tensor of rank 0–2 with its strides; node values are shared, not copied.
#[derive(Debug, Clone, PartialEq)]
struct Dense {
    shape: Vec<usize>,
    strides: Vec<usize>,
    array: Arc<ArrayD<f64>>,
}

impl Dense {
    /// `array` itself if it is in standard layout (every value [`eval`](crate::eval)
    /// computes is), else a row-major copy.
    fn shared(array: Arc<ArrayD<f64>>) -> Dense {
        let array = if array.is_standard_layout() {
            array
        } else {
            Arc::new(array.as_standard_layout().into_owned())
        };
        let shape = array.shape().to_vec();
        let mut strides = vec![1; shape.len()];
        for axis in (0..shape.len().saturating_sub(1)).rev() {
            strides[axis] = strides[axis + 1] * shape[axis + 1];
        }
        Dense {
            shape,
            strides,
            array,
        }
    }

    /// A tensor of shape `shape` from its row-major data.
    fn new(shape: Vec<usize>, data: Vec<f64>) -> Dense {
        let array = ArrayD::from_shape_vec(IxDyn(&shape), data).expect("shape matches data");
        Dense::shared(Arc::new(array))
    }

    /// The row-major data.
    fn data(&self) -> &[f64] {
        self.array.as_slice().expect("standard layout")
    }

    fn view(&self) -> ArrayViewD<'_, f64> {
        self.array.view()
    }

    /// The tensor as a matrix (rank 2 only).
    fn matrix(&self) -> ArrayView2<'_, f64> {
        ArrayView2::from_shape((self.shape[0], self.shape[1]), self.data())
            .expect("shape matches data")
    }
}

/// A delta as an index comparison; positions index J's components followed by the
/// summation indices of a contraction.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cond {
    /// The components at two positions are equal.
    Equal(usize, usize),
    /// The component at a position equals a constant.
    Pin(usize, usize),
    /// A delta between two fixed positions.
    Const(bool),
}

impl Cond {
    fn holds(self, s: &[usize]) -> bool {
        match self {
            Cond::Equal(p, q) => s[p] == s[q],
            Cond::Pin(p, c) => s[p] == c,
            Cond::Const(b) => b,
        }
    }
}

/// A strided read of one of the plan's arrays (rank at most 2).
#[derive(Debug, Clone, PartialEq)]
struct Read {
    /// Which array of [`BoundFormula::arrays`].
    array: usize,
    /// Offset contributed by fixed slots.
    base: usize,
    /// (position, stride) per slot that is an index; (0, 0) for the unused ones.
    axes: [(usize, usize); 2],
}

impl Read {
    fn offset(&self, s: &[usize]) -> usize {
        let [(p, sp), (q, sq)] = self.axes;
        self.base + s[p] * sp + s[q] * sq
    }

    fn value(&self, arrays: &[Dense], s: &[usize]) -> f64 {
        arrays[self.array].data()[self.offset(s)]
    }
}

/// Σ over summation indices of a product of factors, evaluated for given free components.
#[derive(Debug, Clone, PartialEq)]
struct Contraction {
    /// Position of the first summation index (= J's number of axes).
    first_sum: usize,
    /// Ranges of the summation indices.
    sum_dims: Vec<usize>,
    /// Deltas inside the sum.
    conds: Vec<Cond>,
    /// Tensor factors inside the sum.
    reads: Vec<Read>,
}

impl Contraction {
    /// The sum for J's components in `free`.
    fn value(&self, arrays: &[Dense], free: &Scratch) -> f64 {
        if self.sum_dims.contains(&0) {
            return 0.0;
        }
        // J's components, then the summation indices (as many as the contraction has).
        let mut s = free[..self.first_sum].to_vec();
        s.resize(self.first_sum + self.sum_dims.len(), 0);
        let data: Vec<&[f64]> = self.reads.iter().map(|r| arrays[r.array].data()).collect();
        let mut total = 0.0;
        loop {
            if self.conds.iter().all(|c| c.holds(&s)) {
                total += self
                    .reads
                    .iter()
                    .zip(&data)
                    .map(|(r, data)| data[r.offset(&s)])
                    .product::<f64>();
            }
            let mut k = self.sum_dims.len();
            loop {
                if k == 0 {
                    return total;
                }
                k -= 1;
                let p = self.first_sum + k;
                s[p] += 1;
                if s[p] < self.sum_dims[k] {
                    break;
                }
                s[p] = 0;
            }
        }
    }
}

/// How one displayed part of a term is evaluated: an index into the term's lists.
#[derive(Debug, Clone, Copy, PartialEq)]
enum PartEval {
    /// A delta: `TermPlan::conds[n]`.
    Delta(usize),
    /// A tensor factor without summation indices, or a hoisted contraction:
    /// `TermPlan::reads[n]`.
    Read(usize),
    /// A contraction summed per entry: `TermPlan::contractions[n]`.
    PerEntry(usize),
}

/// One displayed part of a term: a delta, a tensor factor, or a contraction (several
/// factors summed over their summation indices).
#[derive(Debug, Clone, PartialEq)]
struct Part {
    /// The factors, in term order.
    factors: Vec<Factor>,
    /// The summation indices of a contraction (empty otherwise).
    sums: Vec<IndexId>,
    eval: PartEval,
}

/// The evaluation plan of one term.
#[derive(Debug, Clone, PartialEq)]
struct TermPlan {
    /// The coefficient, times the range of every summation index no factor uses.
    coeff: f64,
    /// The top-level deltas, checked first.
    conds: Vec<Cond>,
    /// The tensor factors without summation indices and the hoisted contractions.
    reads: Vec<Read>,
    /// The contractions summed per entry.
    contractions: Vec<Contraction>,
    /// The parts in the order of the term's factors, for display.
    parts: Vec<Part>,
    /// Where the term can be nonzero.
    pattern: SupportPattern,
}

/// A formula bound to numbers: its tensors evaluated and every term planned for fast
/// evaluation, contractions over at most two free indices hoisted.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundFormula {
    formula: Formula,
    /// For every index variable, its position in J's index if it is free.
    positions: Vec<Option<usize>>,
    /// The formula's tensors (by [`TensorId`]), then the hoisted contractions.
    arrays: Vec<Dense>,
    /// For `ElemDeriv` tensors, the value of the argument f is applied to.
    args: Vec<Option<Dense>>,
    terms: Vec<TermPlan>,
}

impl BoundFormula {
    /// Evaluates `formula`'s tensors from the node values `node_value` gives for `graph`,
    /// and plans its terms. The values are copied; [`Self::with_progress`] shares them.
    pub fn new<'a>(
        formula: Formula,
        graph: &Graph,
        node_value: impl Fn(NodeId) -> &'a ArrayD<f64>,
    ) -> Result<BoundFormula, JacobianError> {
        let copied = |id| Some(Arc::new(node_value(id).clone()));
        let bound = BoundFormula::with_progress(formula, graph, copied, &Progress::new())?;
        Ok(bound.expect("nobody can cancel this progress"))
    }

    /// [`Self::new`] with shared node values (`None` for a node that was not evaluated,
    /// an error if the formula needs it), hoisted contractions computed on all rayon
    /// threads. Advances `progress` in the units of [`BindingCost::work`] (the caller
    /// starts it) and returns `Ok(None)` soon after `progress` is cancelled.
    pub fn with_progress(
        formula: Formula,
        graph: &Graph,
        node_value: impl Fn(NodeId) -> Option<Arc<ArrayD<f64>>>,
        progress: &Progress,
    ) -> Result<Option<BoundFormula>, JacobianError> {
        let axes = formula.free().len();
        if axes > MAX_AXES {
            return Err(JacobianError::Malformed(format!(
                "J has {axes} axes, more than {MAX_AXES}"
            )));
        }
        let mut arrays = Vec::with_capacity(formula.tensors.len());
        let mut args = Vec::with_capacity(formula.tensors.len());
        for def in &formula.tensors {
            if progress.is_cancelled() {
                return Ok(None);
            }
            let (value, arg) = evaluate_tensor(def, graph, &node_value, progress)?;
            arrays.push(value);
            args.push(arg);
        }
        let mut planner = Planner {
            formula: &formula,
            graph,
            positions: sparsity::free_positions(&formula),
            arrays,
            hoisted: Vec::new(),
            progress,
        };
        let terms = formula
            .terms
            .iter()
            .map(|term| planner.plan_term(term))
            .collect::<Result<Vec<_>, Stop>>();
        let terms = match terms {
            Ok(terms) => terms,
            Err(Stop::Cancelled) => return Ok(None),
            Err(Stop::Failed(error)) => return Err(error),
        };
        let (arrays, positions) = (planner.arrays, planner.positions);
        Ok(Some(BoundFormula {
            formula,
            positions,
            arrays,
            args,
            terms,
        }))
    }

    /// The formula.
    pub fn formula(&self) -> &Formula {
        &self.formula
    }

    /// The value of tensor `id` of the formula.
    pub fn tensor(&self, id: TensorId) -> ArrayViewD<'_, f64> {
        self.arrays[id].view()
    }

    /// J at `index` (one component per axis, each in range; not checked).
    pub fn entry(&self, index: &[usize]) -> f64 {
        let s = scratch(index);
        self.terms.iter().map(|t| self.term_value(t, &s)).sum()
    }

    /// Adds J along a run of entries to `out`: entry `d` of the run is `index` with every
    /// axis in `run_axes` set to `first + d` (the components of `index` on those axes are
    /// ignored). Along a run each delta holds everywhere, nowhere or at one entry, and
    /// each tensor read advances by a fixed stride, so a run costs O(number of factors)
    /// per entry without index arithmetic.
    pub fn add_run(&self, index: &[usize], run_axes: &[usize], first: usize, out: &mut [f64]) {
        self.run(index, run_axes, first, out, false);
    }

    /// [`Self::add_run`] writing J into `out` instead of adding it (one pass less).
    pub fn write_run(&self, index: &[usize], run_axes: &[usize], first: usize, out: &mut [f64]) {
        self.run(index, run_axes, first, out, true);
    }

    /// J along a run added to `out`, or written over it if `overwrite`. Terms that are
    /// `scale × a[d]` over the whole run go first, two at a time in one pass over `out`;
    /// the other terms are added after them.
    fn run(
        &self,
        index: &[usize],
        run_axes: &[usize],
        first: usize,
        out: &mut [f64],
        mut overwrite: bool,
    ) {
        let mut streams: [(f64, &[f64]); MAX_STREAMS] = [(0.0, &[]); MAX_STREAMS];
        let mut n_streams = 0;
        let mut is_stream = [false; MAX_STREAMS];
        for (t, term) in self.terms.iter().enumerate().take(MAX_STREAMS) {
            if let TermRun::Stream(scale, a) =
                self.term_run(term, index, run_axes, first, out.len())
            {
                streams[n_streams] = (scale, a);
                n_streams += 1;
                is_stream[t] = true;
            }
        }
        for pair in streams[..n_streams].chunks(2) {
            match (pair, overwrite) {
                ([(s0, a0), (s1, a1)], true) => {
                    for ((o, &x0), &x1) in out.iter_mut().zip(*a0).zip(*a1) {
                        *o = s0 * x0 + s1 * x1;
                    }
                }
                ([(s0, a0), (s1, a1)], false) => {
                    for ((o, &x0), &x1) in out.iter_mut().zip(*a0).zip(*a1) {
                        *o += s0 * x0 + s1 * x1;
                    }
                }
                ([(s, a)], true) => {
                    for (o, &x) in out.iter_mut().zip(*a) {
                        *o = s * x;
                    }
                }
                ([(s, a)], false) => {
                    for (o, &x) in out.iter_mut().zip(*a) {
                        *o += s * x;
                    }
                }
                _ => unreachable!("chunks of one or two streams"),
            }
            overwrite = false;
        }
        if overwrite {
            out.fill(0.0);
        }
        for (t, term) in self.terms.iter().enumerate() {
            if t >= MAX_STREAMS || !is_stream[t] {
                let plan = self.term_run(term, index, run_axes, first, out.len());
                self.apply_term_run(term, plan, index, run_axes, first, out);
            }
        }
    }

    /// How one term is added along a run of `len` entries (see [`Self::add_run`]).
    fn term_run(
        &self,
        term: &TermPlan,
        index: &[usize],
        run_axes: &[usize],
        first: usize,
        len: usize,
    ) -> TermRun<'_> {
        let mut s = scratch(index);
        for &p in run_axes {
            s[p] = first;
        }
        let in_run = |p: usize| run_axes.contains(&p);
        // The entries d in lo..hi where every delta holds.
        let (mut lo, mut hi) = (0, len);
        for &cond in &term.conds {
            let single = match cond {
                Cond::Equal(p, q) if in_run(p) && !in_run(q) => Some(s[q]),
                Cond::Equal(p, q) if in_run(q) && !in_run(p) => Some(s[p]),
                Cond::Pin(p, c) if in_run(p) => Some(c),
                _ => None,
            };
            match single {
                Some(value) if value >= first => {
                    lo = lo.max(value - first);
                    hi = hi.min(value - first + 1);
                }
                Some(_) => return TermRun::Nothing,
                None if !cond.holds(&s) => return TermRun::Nothing,
                None => {}
            }
        }
        if lo >= hi {
            return TermRun::Nothing;
        }
        if !term.contractions.is_empty() {
            return TermRun::PerEntry(lo..hi);
        }
        // Reads that stay put along the run fold into one factor; the others are
        // (data from the entry at d = 0, stride along the run).
        let mut scale = term.coeff;
        let mut moving: [(&[f64], usize); MAX_MOVING] = [(&[], 0); MAX_MOVING];
        let mut n_moving = 0;
        for r in &term.reads {
            let data = &self.arrays[r.array].data()[r.offset(&s)..];
            let step: usize = r
                .axes
                .iter()
                .filter(|&&(p, _)| in_run(p))
                .map(|&(_, stride)| stride)
                .sum();
            match step {
                0 => scale *= data[0],
                _ if n_moving < MAX_MOVING => {
                    moving[n_moving] = (data, step);
                    n_moving += 1;
                }
                _ => return TermRun::PerEntry(lo..hi),
            }
        }
        match moving[..n_moving] {
            [(a, 1)] if (lo, hi) == (0, len) => TermRun::Stream(scale, &a[..len]),
            _ => TermRun::Reads {
                entries: lo..hi,
                scale,
                moving,
                count: n_moving,
            },
        }
    }

    /// Adds one term of J along a run to `out` (see [`Self::add_run`]).
    fn add_term_run(
        &self,
        term: &TermPlan,
        index: &[usize],
        run_axes: &[usize],
        first: usize,
        out: &mut [f64],
    ) {
        let plan = self.term_run(term, index, run_axes, first, out.len());
        self.apply_term_run(term, plan, index, run_axes, first, out);
    }

    /// Adds one term along a run to `out`, as planned by [`Self::term_run`].
    fn apply_term_run(
        &self,
        term: &TermPlan,
        plan: TermRun,
        index: &[usize],
        run_axes: &[usize],
        first: usize,
        out: &mut [f64],
    ) {
        match plan {
            TermRun::Nothing => {}
            TermRun::PerEntry(entries) => {
                let mut s = scratch(index);
                self.add_term_run_per_entry(term, &mut s, run_axes, first, entries, out);
            }
            TermRun::Stream(scale, a) => {
                for (o, &x) in out.iter_mut().zip(a) {
                    *o += scale * x;
                }
            }
            TermRun::Reads {
                entries,
                scale,
                moving,
                count,
            } => {
                let lo = entries.start;
                let out = &mut out[entries];
                match moving[..count] {
                    [] => out.iter_mut().for_each(|o| *o += scale),
                    [(a, 1)] => {
                        for (o, &x) in out.iter_mut().zip(&a[lo..]) {
                            *o += scale * x;
                        }
                    }
                    [(a, 1), (b, 1)] => {
                        for ((o, &x), &y) in out.iter_mut().zip(&a[lo..]).zip(&b[lo..]) {
                            *o += scale * x * y;
                        }
                    }
                    ref reads => {
                        for (d, o) in out.iter_mut().enumerate() {
                            *o += reads
                                .iter()
                                .fold(scale, |v, &(data, step)| v * data[(lo + d) * step]);
                        }
                    }
                }
            }
        }
    }

    /// [`Self::add_term_run`] entry by entry over `entries` of the run, for a term with
    /// contractions summed per entry or many factors that move along the run.
    fn add_term_run_per_entry(
        &self,
        term: &TermPlan,
        s: &mut Scratch,
        run_axes: &[usize],
        first: usize,
        entries: Range<usize>,
        out: &mut [f64],
    ) {
        for d in entries {
            for &p in run_axes {
                s[p] = first + d;
            }
            out[d] += self.term_value(term, s);
        }
    }

    /// The value of one term at the index in `s`.
    fn term_value(&self, term: &TermPlan, s: &Scratch) -> f64 {
        if !term.conds.iter().all(|c| c.holds(s)) {
            return 0.0;
        }
        let reads = term
            .reads
            .iter()
            .fold(term.coeff, |v, r| v * r.value(&self.arrays, s));
        term.contractions
            .iter()
            .fold(reads, |v, c| v * c.value(&self.arrays, s))
    }

    /// The value of one part of a term at the index in `s`.
    fn part_value(&self, term: &TermPlan, part: &Part, s: &Scratch) -> f64 {
        match part.eval {
            PartEval::Delta(n) => f64::from(u8::from(term.conds[n].holds(s))),
            PartEval::Read(n) => term.reads[n].value(&self.arrays, s),
            PartEval::PerEntry(n) => term.contractions[n].value(&self.arrays, s),
        }
    }
}

/// How one term is added along a run (see [`BoundFormula::add_run`]).
enum TermRun<'a> {
    /// Zero along the whole run.
    Nothing,
    /// Entry by entry over these entries (per-entry contractions, many moving factors).
    PerEntry(Range<usize>),
    /// `scale × a[d]` over the whole run.
    Stream(f64, &'a [f64]),
    /// `scale × Π data[d·step]` over `entries`, for the first `count` of `moving`
    /// (data from entry 0 of the run, step along it).
    Reads {
        entries: Range<usize>,
        scale: f64,
        moving: [(&'a [f64], usize); MAX_MOVING],
        count: usize,
    },
}

/// The node a tensor definition is computed from.
fn tensor_arg(def: &TensorDef) -> NodeId {
    match *def {
        TensorDef::Node(arg)
        | TensorDef::ElemDeriv { arg, .. }
        | TensorDef::Power { arg, .. }
        | TensorDef::Centered { arg, .. }
        | TensorDef::Softmax { arg, .. }
        | TensorDef::Inverse { arg } => arg,
    }
}

/// The nodes whose values binding `formula` needs (its tensors' arguments), each once, in
/// increasing order: evaluate these with [`crate::eval::evaluate_nodes`].
pub fn needed_nodes(formula: &Formula) -> Vec<NodeId> {
    let mut nodes: Vec<NodeId> = formula.tensors.iter().map(tensor_arg).collect();
    nodes.sort_unstable();
    nodes.dedup();
    nodes
}

/// What binding a formula ([`BoundFormula::with_progress`]) costs beyond the node values
/// it reads, known before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindingCost {
    /// Units of work: entries of derived tensors (f′, powers, …) plus multiply-adds of
    /// hoisted contractions.
    pub work: u64,
    /// Bytes of derived tensors and hoisted contractions.
    pub bytes: u128,
}

/// The cost of binding `formula` over `graph` (see [`BindingCost`]).
pub fn binding_cost(formula: &Formula, graph: &Graph) -> BindingCost {
    let mut cost = BindingCost { work: 0, bytes: 0 };
    let mut add = |entries: u128, work: u128| {
        cost.bytes = cost.bytes.saturating_add(entries.saturating_mul(8));
        cost.work = cost
            .work
            .saturating_add(u64::try_from(work).unwrap_or(u64::MAX));
    };
    for def in &formula.tensors {
        let arg = tensor_arg(def);
        if matches!(def, TensorDef::Node(_)) || arg >= graph.nodes.len() {
            continue;
        }
        let entries = entry_count(graph.node(arg).shape.dims().iter().copied());
        add(entries, entries);
    }
    let positions = sparsity::free_positions(formula);
    let dims = formula.shape();
    let mut seen: Vec<(Vec<Factor>, Vec<IndexId>)> = Vec::new();
    for term in &formula.terms {
        for (members, sums) in factor_groups(term) {
            let factors: Vec<Factor> = members.iter().map(|&f| term.factors[f].clone()).collect();
            let externals = external_positions(&factors, &positions);
            if sums.is_empty()
                || externals.len() > 2
                || seen.contains(&(factors.clone(), sums.clone()))
            {
                continue;
            }
            let entries = entry_count(externals.iter().map(|&p| dims[p]));
            let work = match Chain::of(&factors, &sums, formula, &positions) {
                Some(chain) => chain.work(),
                None => entries.saturating_mul(entry_count(
                    sums.iter()
                        .map(|&s| formula.indices.get(s).map_or(1, |i| i.dim)),
                )),
            };
            add(entries, work);
            seen.push((factors, sums));
        }
    }
    cost
}

/// A term's factors grouped for evaluation, in the order of each group's first factor:
/// a factor without summation indices alone (with no sums), and factors connected through
/// shared summation indices together, with those summation indices.
fn factor_groups(term: &Term) -> Vec<(Vec<usize>, Vec<IndexId>)> {
    let sums_of: Vec<Vec<IndexId>> = term
        .factors
        .iter()
        .map(|f| {
            let slots = slots_of(f);
            term.sums
                .iter()
                .copied()
                .filter(|&s| slots.contains(&Slot::Index(s)))
                .collect()
        })
        .collect();
    // Group factors connected through shared summation indices.
    let mut group: Vec<usize> = (0..term.factors.len()).collect();
    for &s in &term.sums {
        let touching: Vec<usize> = (0..term.factors.len())
            .filter(|&f| sums_of[f].contains(&s))
            .collect();
        if let Some(target) = touching.iter().map(|&f| group[f]).min() {
            let merged: Vec<usize> = touching.iter().map(|&f| group[f]).collect();
            for g in group.iter_mut() {
                if merged.contains(g) {
                    *g = target;
                }
            }
        }
    }
    let mut groups = Vec::new();
    for f in 0..term.factors.len() {
        if sums_of[f].is_empty() {
            groups.push((vec![f], Vec::new()));
        } else if group[..f].iter().all(|&g| g != group[f]) {
            let members: Vec<usize> = (f..term.factors.len())
                .filter(|&h| group[h] == group[f])
                .collect();
            let sums: Vec<IndexId> = term
                .sums
                .iter()
                .copied()
                .filter(|s| members.iter().any(|&h| sums_of[h].contains(s)))
                .collect();
            groups.push((members, sums));
        }
    }
    groups
}

/// J's axes (positions) that `factors` read, in increasing order.
fn external_positions(factors: &[Factor], positions: &[Option<usize>]) -> Vec<usize> {
    let mut externals: Vec<usize> = factors
        .iter()
        .flat_map(slots_of)
        .filter_map(|slot| match slot {
            Slot::Index(id) => positions.get(id).copied().flatten(),
            Slot::Fixed(_) => None,
        })
        .collect();
    externals.sort_unstable();
    externals.dedup();
    externals
}

/// Evaluates one tensor definition; for `ElemDeriv` also returns the argument's value.
/// Advances `progress` by the entries of a derived tensor.
fn evaluate_tensor(
    def: &TensorDef,
    graph: &Graph,
    node_value: &impl Fn(NodeId) -> Option<Arc<ArrayD<f64>>>,
    progress: &Progress,
) -> Result<(Dense, Option<Dense>), JacobianError> {
    let arg = tensor_arg(def);
    if arg >= graph.nodes.len() {
        return Err(JacobianError::Malformed(format!(
            "tensor refers to node {arg}, the graph has {} nodes",
            graph.nodes.len()
        )));
    }
    let x = node_value(arg).ok_or_else(|| {
        JacobianError::Malformed(format!(
            "the value of `{}` was not evaluated",
            graph.text(arg)
        ))
    })?;
    if x.shape() != graph.node(arg).shape.dims() {
        return Err(JacobianError::Malformed(format!(
            "the value of `{}` has shape {:?}, its node has shape {}",
            graph.text(arg),
            x.shape(),
            graph.node(arg).shape
        )));
    }
    let axis_ok = |axis: Option<usize>| axis.is_none_or(|a| a < x.ndim());
    let fits = match *def {
        TensorDef::Centered { axis, .. } | TensorDef::Softmax { axis, .. } => axis_ok(axis),
        TensorDef::Inverse { .. } => x.ndim() == 2 && x.shape()[0] == x.shape()[1],
        _ => true,
    };
    if !fits {
        return Err(JacobianError::Malformed(format!(
            "{def:?} does not fit the value of `{}`, of shape {}",
            graph.text(arg),
            graph.node(arg).shape
        )));
    }
    let value = match *def {
        TensorDef::Node(_) => return Ok((Dense::shared(x), None)),
        TensorDef::ElemDeriv { func, .. } => x.mapv(|v| func.derivative(v)),
        TensorDef::Power { exponent, .. } => {
            if exponent.fract() == 0.0 && exponent.abs() <= f64::from(i32::MAX) {
                x.mapv(|v| v.powi(exponent as i32))
            } else {
                x.mapv(|v| v.powf(exponent))
            }
        }
        TensorDef::Centered { axis, .. } => centered(&x, axis),
        TensorDef::Softmax { axis, .. } => softmax(&x, axis),
        TensorDef::Inverse { .. } => inverse(&x).ok_or_else(|| JacobianError::Singular {
            what: graph.text(arg).to_string(),
        })?,
    };
    progress.advance(x.len() as u64);
    let arg_value = matches!(def, TensorDef::ElemDeriv { .. }).then(|| Dense::shared(x));
    Ok((Dense::shared(Arc::new(value)), arg_value))
}

/// `x` minus its mean over `axis` (all axes if `None`).
fn centered(x: &ArrayD<f64>, axis: Option<usize>) -> ArrayD<f64> {
    match axis {
        None => match x.mean() {
            Some(mean) => x.mapv(|v| v - mean),
            None => x.clone(),
        },
        Some(axis) => match x.mean_axis(Axis(axis)) {
            Some(mean) => x - &mean.insert_axis(Axis(axis)),
            None => x.clone(),
        },
    }
}

/// softmax of `x` over `axis` (all elements if `None`), with the maximum subtracted.
fn softmax(x: &ArrayD<f64>, axis: Option<usize>) -> ArrayD<f64> {
    let mut out = x.as_standard_layout().into_owned();
    match axis {
        None => {
            let data = out.as_slice_mut().expect("standard layout");
            softmax_in_place(ArrayViewMut1::from(data));
        }
        Some(axis) => {
            for lane in out.lanes_mut(Axis(axis)) {
                softmax_in_place(lane);
            }
        }
    }
    out
}

fn softmax_in_place(mut lane: ArrayViewMut1<f64>) {
    let max = lane.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    lane.mapv_inplace(|v| (v - max).exp());
    let total = lane.sum();
    lane.mapv_inplace(|v| v / total);
}

/// The inverse of a square matrix, or `None` if it is singular.
fn inverse(x: &ArrayD<f64>) -> Option<ArrayD<f64>> {
    let n = x.shape()[0];
    let standard = x.as_standard_layout();
    let m = nalgebra::DMatrix::from_row_slice(n, n, standard.as_slice().expect("standard layout"));
    let inv = m.try_inverse()?;
    let data: Vec<f64> = (0..n * n).map(|k| inv[(k / n, k % n)]).collect();
    Some(ArrayD::from_shape_vec(IxDyn(&[n, n]), data).expect("n×n"))
}

/// The slots a factor reads: the two sides of a delta, or a tensor's slots.
fn slots_of(factor: &Factor) -> Vec<Slot> {
    match factor {
        Factor::Delta(a, b) => vec![*a, *b],
        Factor::Tensor { slots, .. } => slots.clone(),
    }
}

/// A contraction as planned: hoisted into an array, or summed per entry.
enum Planned {
    /// Read from a hoisted array.
    Hoisted(Read),
    /// Summed per entry.
    PerEntry(Contraction),
}

/// Why planning stopped: an error, or a cancelled progress.
enum Stop {
    /// The formula is malformed.
    Failed(JacobianError),
    /// The progress was cancelled while hoisting.
    Cancelled,
}

impl From<JacobianError> for Stop {
    fn from(error: JacobianError) -> Stop {
        Stop::Failed(error)
    }
}

/// Builds term plans, hoisting contractions into `arrays`.
struct Planner<'f> {
    formula: &'f Formula,
    graph: &'f Graph,
    /// For every index variable, its position in J's index if it is free.
    positions: Vec<Option<usize>>,
    /// The formula's tensors, then the hoisted contractions.
    arrays: Vec<Dense>,
    /// Hoisted contractions so far: (factors, summation indices) → array.
    hoisted: Vec<(Vec<Factor>, Vec<IndexId>, usize)>,
    /// Advanced by each hoisted contraction's multiply-adds.
    progress: &'f Progress,
}

impl Planner<'_> {
    fn free_count(&self) -> usize {
        self.formula.out.len() + self.formula.input.len()
    }

    /// Plans one term: its top-level deltas and reads, and its contractions (factors
    /// connected through shared summation indices), hoisted where possible.
    fn plan_term(&mut self, term: &Term) -> Result<TermPlan, Stop> {
        self.check_term_indices(term)?;
        let groups = factor_groups(term);
        let mut coeff = term.coeff;
        for &s in &term.sums {
            if groups.iter().all(|(_, sums)| !sums.contains(&s)) {
                coeff *= self.formula.indices[s].dim as f64;
            }
        }
        let mut conds = Vec::new();
        let mut reads = Vec::new();
        let mut contractions = Vec::new();
        let mut parts = Vec::new();
        for (members, sums) in groups {
            let factors: Vec<Factor> = members.iter().map(|&f| term.factors[f].clone()).collect();
            let eval = match (factors.as_slice(), sums.is_empty()) {
                ([Factor::Delta(a, b)], true) => {
                    conds.push(self.cond(*a, *b, &[]));
                    PartEval::Delta(conds.len() - 1)
                }
                ([Factor::Tensor { tensor, slots }], true) => {
                    reads.push(self.read(*tensor, slots, &[])?);
                    PartEval::Read(reads.len() - 1)
                }
                _ => match self.contraction(&factors, &sums)? {
                    Planned::Hoisted(read) => {
                        reads.push(read);
                        PartEval::Read(reads.len() - 1)
                    }
                    Planned::PerEntry(contraction) => {
                        contractions.push(contraction);
                        PartEval::PerEntry(contractions.len() - 1)
                    }
                },
            };
            parts.push(Part {
                factors,
                sums,
                eval,
            });
        }
        Ok(TermPlan {
            coeff,
            conds,
            reads,
            contractions,
            parts,
            pattern: SupportPattern::of_term(self.formula, term),
        })
    }

    /// Checks that every index a term uses is free or one of its summation indices.
    fn check_term_indices(&self, term: &Term) -> Result<(), JacobianError> {
        let n = self.formula.indices.len();
        for (k, &s) in term.sums.iter().enumerate() {
            if s >= n || self.positions[s].is_some() || term.sums[..k].contains(&s) {
                return Err(JacobianError::Malformed(format!(
                    "summation index {s} is not a summation index of the formula, or repeated"
                )));
            }
        }
        for factor in &term.factors {
            for slot in slots_of(factor) {
                if let Slot::Index(id) = slot
                    && (id >= n || (self.positions[id].is_none() && !term.sums.contains(&id)))
                {
                    return Err(JacobianError::Malformed(format!(
                        "index {id} is neither free nor summed in its term"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The scratch position of a slot's index: J's axis, or `free_count + k` for the k-th
    /// of `sums`.
    fn position(&self, id: IndexId, sums: &[IndexId]) -> usize {
        match self.positions[id] {
            Some(p) => p,
            None => {
                let k = sums.iter().position(|&s| s == id).expect("checked index");
                self.free_count() + k
            }
        }
    }

    fn cond(&self, a: Slot, b: Slot, sums: &[IndexId]) -> Cond {
        match (a, b) {
            (Slot::Index(x), Slot::Index(y)) => {
                Cond::Equal(self.position(x, sums), self.position(y, sums))
            }
            (Slot::Index(x), Slot::Fixed(c)) | (Slot::Fixed(c), Slot::Index(x)) => {
                Cond::Pin(self.position(x, sums), c)
            }
            (Slot::Fixed(c), Slot::Fixed(d)) => Cond::Const(c == d),
        }
    }

    fn read(
        &self,
        tensor: TensorId,
        slots: &[Slot],
        sums: &[IndexId],
    ) -> Result<Read, JacobianError> {
        let Some(array) = self
            .arrays
            .get(tensor)
            .filter(|_| tensor < self.formula.tensors.len())
        else {
            return Err(JacobianError::Malformed(format!("no tensor {tensor}")));
        };
        if slots.len() != array.shape.len() || slots.len() > 2 {
            return Err(JacobianError::Malformed(format!(
                "tensor {tensor} has {} axes, read with {} slots",
                array.shape.len(),
                slots.len()
            )));
        }
        let mut base = 0;
        let mut axes = [(0, 0); 2];
        for (axis, slot) in slots.iter().enumerate() {
            let (dim, stride) = (array.shape[axis], array.strides[axis]);
            match *slot {
                Slot::Fixed(c) if c < dim => base += c * stride,
                Slot::Index(id) if self.formula.indices[id].dim == dim => {
                    axes[axis] = (self.position(id, sums), stride);
                }
                _ => {
                    return Err(JacobianError::Malformed(format!(
                        "tensor {tensor} axis {axis} (length {dim}) read at {slot:?}"
                    )));
                }
            }
        }
        Ok(Read {
            array: tensor,
            base,
            axes,
        })
    }

    /// Plans a contraction of `factors` over `sums`: hoisted into an array if it has at
    /// most two free indices, summed per entry otherwise.
    fn contraction(&mut self, factors: &[Factor], sums: &[IndexId]) -> Result<Planned, Stop> {
        let nfree = self.free_count();
        let mut conds = Vec::new();
        let mut reads = Vec::new();
        for factor in factors {
            match factor {
                Factor::Delta(a, b) => conds.push(self.cond(*a, *b, sums)),
                Factor::Tensor { tensor, slots } => reads.push(self.read(*tensor, slots, sums)?),
            }
        }
        let externals = external_positions(factors, &self.positions);
        let contraction = Contraction {
            first_sum: nfree,
            sum_dims: sums.iter().map(|&s| self.formula.indices[s].dim).collect(),
            conds,
            reads,
        };
        if externals.len() > 2 {
            return Ok(Planned::PerEntry(contraction));
        }
        let key = (factors.to_vec(), sums.to_vec());
        let array = match self
            .hoisted
            .iter()
            .find(|(f, s, _)| (f, s) == (&key.0, &key.1))
        {
            Some(&(_, _, array)) => array,
            None => {
                let dense = self
                    .hoist(factors, sums, &contraction, &externals)
                    .ok_or(Stop::Cancelled)?;
                self.arrays.push(dense);
                let array = self.arrays.len() - 1;
                self.hoisted.push((key.0, key.1, array));
                array
            }
        };
        let mut axes = [(0, 0); 2];
        for (k, (&p, &stride)) in externals
            .iter()
            .zip(&self.arrays[array].strides)
            .enumerate()
        {
            axes[k] = (p, stride);
        }
        Ok(Planned::Hoisted(Read {
            array,
            base: 0,
            axes,
        }))
    }

    /// Computes a contraction for every value of its free indices `externals` (J's axes, in
    /// increasing order), on all rayon threads: matrix products for a [`Chain`], a loop
    /// otherwise. `None` if the progress is cancelled meanwhile.
    fn hoist(
        &self,
        factors: &[Factor],
        sums: &[IndexId],
        contraction: &Contraction,
        externals: &[usize],
    ) -> Option<Dense> {
        let term = Term {
            coeff: 1.0,
            sums: sums.to_vec(),
            factors: factors.to_vec(),
        };
        let text = render::render_term(self.formula, self.graph, &term, Notation::Unicode);
        self.progress.set_stage(format!("computing {text}"));
        if let Some(chain) = Chain::of(factors, sums, self.formula, &self.positions) {
            return chain.product(&self.arrays, self.progress);
        }
        let dims = self.formula.shape();
        let shape: Vec<usize> = externals.iter().map(|&p| dims[p]).collect();
        let count: usize = shape.iter().product();
        let per_entry: usize = contraction.sum_dims.iter().product();
        let mut data = vec![0.0; count];
        let piece = (PIECE_WORK / per_entry.max(1)).max(1);
        data.par_chunks_mut(piece)
            .enumerate()
            .for_each(|(n, values)| {
                if self.progress.is_cancelled() {
                    return;
                }
                let mut free = [0; MAX_AXES];
                for (d, value) in values.iter_mut().enumerate() {
                    let mut rest = n * piece + d;
                    for (k, &p) in externals.iter().enumerate().rev() {
                        free[p] = rest % shape[k];
                        rest /= shape[k];
                    }
                    *value = contraction.value(&self.arrays, &free);
                }
                self.progress.advance((values.len() * per_entry) as u64);
            });
        (!self.progress.is_cancelled()).then(|| Dense::new(shape, data))
    }
}

/// A contraction that is a product of matrices along a path,
/// `Σ A1[x,m1]·A2[m1,m2]·…·An[m(n−1),y]` with x and y two different free indices of J and
/// each matrix read in either orientation: computed as n − 1 matrix products, however
/// long the path (a loop over every summation index at once would cost the product of
/// their ranges).
#[derive(Debug, Clone, PartialEq)]
struct Chain {
    /// The matrices in path order from x (the earlier axis of J) to y, each with whether it
    /// is read transposed.
    links: Vec<(TensorId, bool)>,
    /// The ranges along the path: x's, each summation index's, y's.
    dims: Vec<usize>,
}

impl Chain {
    /// `factors` summed over `sums` as a chain, or `None` if they are not one.
    /// `positions` gives the axis of J of every free index of `formula`.
    fn of(
        factors: &[Factor],
        sums: &[IndexId],
        formula: &Formula,
        positions: &[Option<usize>],
    ) -> Option<Chain> {
        // Every factor a matrix read at two different indices, one more factor than sums.
        let matrices: Vec<(TensorId, IndexId, IndexId)> = factors
            .iter()
            .map(|factor| match factor {
                Factor::Tensor { tensor, slots } => match slots.as_slice() {
                    [Slot::Index(a), Slot::Index(b)] if a != b => Some((*tensor, *a, *b)),
                    _ => None,
                },
                Factor::Delta(..) => None,
            })
            .collect::<Option<_>>()?;
        if matrices.len() != sums.len() + 1 {
            return None;
        }
        let position = |id: IndexId| positions.get(id).copied().flatten();
        let dim = |id: IndexId| formula.indices.get(id).map(|v| v.dim);
        // The path starts at the free index on the earlier axis of J.
        let start = matrices
            .iter()
            .flat_map(|&(_, a, b)| [a, b])
            .filter(|id| !sums.contains(id))
            .min_by_key(|&id| position(id))?;
        position(start)?;
        let mut used = vec![false; matrices.len()];
        let mut passed: Vec<IndexId> = Vec::new();
        let mut links = Vec::with_capacity(matrices.len());
        let mut dims = vec![dim(start)?];
        let mut at = start;
        for step in 0..matrices.len() {
            let f = (0..matrices.len())
                .find(|&f| !used[f] && (matrices[f].1 == at || matrices[f].2 == at))?;
            used[f] = true;
            let (tensor, a, b) = matrices[f];
            let (transposed, next) = if a == at { (false, b) } else { (true, a) };
            // Inside the path every summation index is passed once (so it is read by
            // exactly two matrices); the path ends at the other free index.
            let inside = sums.contains(&next) && !passed.contains(&next);
            if inside == (step + 1 == matrices.len()) {
                return None;
            }
            passed.push(next);
            links.push((tensor, transposed));
            dims.push(dim(next)?);
            at = next;
        }
        (position(at)? != position(start)?).then_some(Chain { links, dims })
    }

    /// Multiply-adds of the products, left to right.
    fn work(&self) -> u128 {
        let rows = self.dims[0] as u128;
        self.dims[1..]
            .windows(2)
            .map(|w| rows * w[0] as u128 * w[1] as u128)
            .fold(0u128, u128::saturating_add)
    }

    /// The product over (x, y) on all rayon threads, or `None` if `progress` is cancelled
    /// meanwhile (it advances by [`Self::work`]).
    fn product(&self, arrays: &[Dense], progress: &Progress) -> Option<Dense> {
        let matrix = |&(tensor, transposed): &(TensorId, bool)| {
            let m = arrays[tensor].matrix();
            if transposed { m.reversed_axes() } else { m }
        };
        let [first, second, rest @ ..] = self.links.as_slice() else {
            unreachable!("a chain has a summation index, so two matrices")
        };
        let mut product = eval::matrix_product(matrix(first), matrix(second), progress)?;
        for link in rest {
            product = eval::matrix_product(product.view(), matrix(link), progress)?;
        }
        Some(Dense::shared(Arc::new(product.into_dyn())))
    }
}

/// Entries of a run evaluated at a time when summarising a slice.
const RUN_PIECE: usize = 1024;

/// Slices with at least this many structurally nonzero entries are summarised on all
/// rayon threads.
const PARALLEL_SLICE_ENTRIES: u128 = 1 << 16;

/// The summary of one block of a slice, exact over every entry the block holds (see
/// [`Jacobian::slice_blocks`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BlockSummary {
    /// Entries in the block.
    pub entries: usize,
    /// Structurally nonzero entries.
    pub structural: usize,
    /// Numerically nonzero entries (NaN counts as nonzero).
    pub nonzero: usize,
    /// The largest |value| (0 if every entry is zero; NaN is ignored).
    pub max_abs: f64,
    /// The value whose magnitude is `max_abs`, with its sign.
    pub extreme: f64,
}

impl BlockSummary {
    /// Adds structurally nonzero entries with these values.
    fn add_values(&mut self, values: &[f64]) {
        self.structural += values.len();
        let nonzero = values.iter().filter(|&&v| v != 0.0).count();
        // Four independent lanes, so that the comparisons do not wait on each other.
        let mut largest = [0.0f64; 4];
        let mut add = |lane: usize, v: f64| {
            if v.abs() > largest[lane] {
                largest[lane] = v.abs();
            }
        };
        let quads = values.chunks_exact(4);
        for (lane, &v) in quads.remainder().iter().enumerate() {
            add(lane, v);
        }
        for quad in quads {
            for (lane, &v) in quad.iter().enumerate() {
                add(lane, v);
            }
        }
        let max_abs = largest.iter().fold(0.0f64, |m, &x| m.max(x));
        self.nonzero += nonzero;
        if max_abs > self.max_abs {
            self.max_abs = max_abs;
            self.extreme = values
                .iter()
                .copied()
                .find(|v| v.abs() == max_abs)
                .expect("the largest magnitude is one of the values");
        }
    }
}

/// The summaries of the blocks of a 2-D slice that hold structurally nonzero entries
/// (see [`Jacobian::slice_blocks`]); every other block is structurally zero.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SliceBlocks {
    /// The number of column blocks: block (r, c) has index `r * width + c`.
    pub width: usize,
    /// (index, summary) of every block with a structurally nonzero entry, by index.
    pub blocks: Vec<(usize, BlockSummary)>,
}

impl SliceBlocks {
    /// The summary of block (`row`, `col`), or `None` if it is structurally zero.
    pub fn get(&self, row: usize, col: usize) -> Option<&BlockSummary> {
        let index = row * self.width + col;
        let n = self.blocks.binary_search_by_key(&index, |&(k, _)| k).ok()?;
        Some(&self.blocks[n].1)
    }

    /// The largest |value| in the blocks (0 if there is none).
    pub fn max_abs(&self) -> f64 {
        self.blocks.iter().fold(0.0, |m, (_, b)| m.max(b.max_abs))
    }
}

/// Where the summaries of the blocks of some row blocks are collected: only the blocks
/// that receive entries, found through a table of one slot per block.
struct BlockSink<'a> {
    /// The blocks, with the rows of this sink.
    grid: BlockGrid<'a>,
    /// The index of this sink's first block in the whole slice.
    first_index: usize,
    /// Per block of this sink: its position in `blocks`, or `u32::MAX`.
    slots: &'a mut [u32],
    /// The blocks that received entries: (index in the whole slice, summary).
    blocks: Vec<(usize, BlockSummary)>,
}

impl BlockSink<'_> {
    /// The summary of block (`row`, `col`) of this sink's rows, created on first use.
    fn block(&mut self, row: usize, col: usize) -> &mut BlockSummary {
        let local = row * self.grid.cols.len() + col;
        if self.slots[local] == u32::MAX {
            self.slots[local] = u32::try_from(self.blocks.len()).expect("fewer than 2^32 blocks");
            let entries = self.grid.rows[row].len() * self.grid.cols[col].len();
            let summary = BlockSummary {
                entries,
                ..BlockSummary::default()
            };
            self.blocks.push((self.first_index + local, summary));
        }
        &mut self.blocks[self.slots[local] as usize].1
    }

    /// The collected blocks, by index.
    fn finish(mut self) -> Vec<(usize, BlockSummary)> {
        self.blocks.sort_unstable_by_key(|&(index, _)| index);
        self.blocks
    }
}

/// A run of entries of J: `index` with every axis in `axes` set to `first + d`.
struct Run<'a> {
    index: &'a [usize],
    axes: &'a [usize],
    first: usize,
}

impl Run<'_> {
    /// Component `axis` of entry `d`.
    fn along(&self, axis: usize, d: usize) -> usize {
        if self.axes.contains(&axis) {
            self.first + d
        } else {
            self.index[axis]
        }
    }
}

/// The blocks of a slice: row blocks along `axes.0`, column blocks along `axes.1`.
#[derive(Clone, Copy)]
struct BlockGrid<'a> {
    axes: (usize, usize),
    rows: &'a [Range<usize>],
    cols: &'a [Range<usize>],
}

/// The range from the first block's start to the last block's end (empty for no blocks).
fn span(blocks: &[Range<usize>]) -> Range<usize> {
    match (blocks.first(), blocks.last()) {
        (Some(first), Some(last)) if first.start < last.end => first.start..last.end,
        _ => 0..0,
    }
}

impl BlockGrid<'_> {
    /// The block of ascending, disjoint `blocks` that holds `position`, if any.
    fn block_of(blocks: &[Range<usize>], position: usize) -> Option<usize> {
        let n = blocks.partition_point(|b| b.end <= position);
        blocks.get(n).filter(|b| b.contains(&position)).map(|_| n)
    }

    /// Folds the values of a run into the blocks of `sink`, leaving out the entries that
    /// lie in one of the `earlier` patterns (already counted).
    fn fold(&self, run: &Run, values: &[f64], earlier: &[SupportPattern], sink: &mut BlockSink) {
        let len = values.len();
        let mut repeated: Vec<usize> = Vec::new();
        for pattern in earlier {
            match pattern.run_overlap(run.index, run.axes, run.first, len) {
                RunOverlap::All => return,
                RunOverlap::One(d) => repeated.push(d),
                RunOverlap::None => {}
            }
        }
        let rows_move = run.axes.contains(&self.axes.0);
        let cols_move = run.axes.contains(&self.axes.1);
        if !repeated.is_empty() || rows_move == cols_move {
            // Entry by entry: a diagonal run, or one with entries counted before.
            for (d, value) in values.iter().enumerate() {
                let row = Self::block_of(self.rows, run.along(self.axes.0, d));
                let col = Self::block_of(self.cols, run.along(self.axes.1, d));
                if let (Some(r), Some(c), false) = (row, col, repeated.contains(&d)) {
                    sink.block(r, c).add_values(std::slice::from_ref(value));
                }
            }
            return;
        }
        // Along one axis of the slice: the run crosses the blocks of that axis in order.
        let (fixed, moving) = if cols_move {
            (Self::block_of(self.rows, run.index[self.axes.0]), self.cols)
        } else {
            (Self::block_of(self.cols, run.index[self.axes.1]), self.rows)
        };
        let Some(fixed) = fixed else {
            return;
        };
        let end = run.first + len;
        let start = moving.partition_point(|b| b.end <= run.first);
        for (n, block) in moving.iter().enumerate().skip(start) {
            if block.start >= end {
                break;
            }
            let from = block.start.max(run.first) - run.first;
            let to = block.end.min(end) - run.first;
            let (row, col) = if cols_move { (fixed, n) } else { (n, fixed) };
            sink.block(row, col).add_values(&values[from..to]);
        }
    }
}

/// A 2-D slice of J: rows along one axis, columns along another, every other axis fixed.
#[derive(Debug, Clone, PartialEq)]
pub struct Slice {
    /// Number of rows (the length of the rows' axis).
    pub rows: usize,
    /// Number of columns (the length of the columns' axis).
    pub cols: usize,
    /// The values, row-major.
    pub values: Vec<f64>,
    /// Row-major: true where the entry is structurally nonzero (in some term's support).
    pub structural: Vec<bool>,
}

/// J = ∂Y/∂X for one expression and one variable X: the formula bound to the inputs'
/// values, with the structural support read off its deltas.
#[derive(Debug, Clone)]
pub struct Jacobian {
    graph: Graph,
    wrt: NodeId,
    /// J's shape (out.shape + in.shape).
    shape: Vec<usize>,
    bound: BoundFormula,
    support: StructuralSupport,
}

impl Jacobian {
    /// Binds `formula` (∂ of `graph`'s root with respect to input node `wrt`) to the
    /// forward values `values` of `graph`, sharing them. `values` must hold at least the
    /// [`needed_nodes`] of `formula`.
    pub fn new(
        graph: Graph,
        wrt: NodeId,
        formula: Formula,
        values: &Values,
    ) -> Result<Jacobian, JacobianError> {
        let jacobian = Jacobian::with_progress(graph, wrt, formula, values, &Progress::new())?;
        Ok(jacobian.expect("nobody can cancel this progress"))
    }

    /// [`Self::new`], advancing `progress` in the units of [`BindingCost::work`] (the caller
    /// starts it); `Ok(None)` soon after `progress` is cancelled.
    pub fn with_progress(
        graph: Graph,
        wrt: NodeId,
        formula: Formula,
        values: &Values,
        progress: &Progress,
    ) -> Result<Option<Jacobian>, JacobianError> {
        let support = StructuralSupport::new(&formula);
        let shape = formula.shape();
        let node_value = |id| values.shared(id).cloned();
        let Some(bound) = BoundFormula::with_progress(formula, &graph, node_value, progress)?
        else {
            return Ok(None);
        };
        Ok(Some(Jacobian {
            graph,
            wrt,
            shape,
            bound,
            support,
        }))
    }

    /// [`Self::new`] with the node values given by a function, however they were obtained
    /// (they are copied).
    pub fn from_node_values<'a>(
        graph: Graph,
        wrt: NodeId,
        formula: Formula,
        node_value: impl Fn(NodeId) -> &'a ArrayD<f64>,
    ) -> Result<Jacobian, JacobianError> {
        let support = StructuralSupport::new(&formula);
        let shape = formula.shape();
        let bound = BoundFormula::new(formula, &graph, node_value)?;
        Ok(Jacobian {
            graph,
            wrt,
            shape,
            bound,
            support,
        })
    }

    /// J's shape: Y's shape followed by X's shape.
    pub fn shape(&self) -> Vec<usize> {
        self.shape.clone()
    }

    /// J's axis names, as in the formula (`i, j, k, l`).
    pub fn axis_names(&self) -> Vec<String> {
        self.formula().axis_names()
    }

    /// The formula of J (the readable form, before hoisting).
    pub fn formula(&self) -> &Formula {
        self.bound.formula()
    }

    /// The expression's graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The input node J differentiates with respect to.
    pub fn wrt(&self) -> NodeId {
        self.wrt
    }

    /// The formula bound to numbers.
    pub fn bound(&self) -> &BoundFormula {
        &self.bound
    }

    /// J's structural support.
    pub fn support(&self) -> &StructuralSupport {
        &self.support
    }

    /// Checks that `index` addresses an entry of J.
    pub fn check_index(&self, index: &[usize]) -> Result<(), JacobianError> {
        let names = self.axis_names();
        let shape = self.shape();
        if index.len() != shape.len() {
            return Err(JacobianError::IndexLength {
                got: index.len(),
                expected: shape.len(),
                axes: axes_text(&names),
            });
        }
        for ((&value, &dim), name) in index.iter().zip(&shape).zip(&names) {
            if value >= dim {
                return Err(JacobianError::IndexRange {
                    name: name.clone(),
                    value,
                    dim,
                });
            }
        }
        Ok(())
    }

    /// J at `index`. The index must be valid (see [`Self::check_index`]).
    pub fn entry(&self, index: &[usize]) -> f64 {
        debug_assert!(
            index.len() == self.shape.len() && index.iter().zip(&self.shape).all(|(i, d)| i < d),
            "index {index:?} outside J's shape {:?}",
            self.shape
        );
        self.bound.entry(index)
    }

    /// Checks that `axes` are two different axes of J and `at` a valid index (its
    /// components on `axes` are ignored).
    pub fn check_slice(&self, axes: (usize, usize), at: &[usize]) -> Result<(), JacobianError> {
        let n = self.shape().len();
        if axes.0 == axes.1 || axes.0 >= n || axes.1 >= n {
            return Err(JacobianError::SliceAxes {
                rows: axes.0,
                cols: axes.1,
                axes: axes_text(&self.axis_names()),
            });
        }
        let mut index = at.to_vec();
        if index.len() == n {
            index[axes.0] = 0;
            index[axes.1] = 0;
        }
        self.check_index(&index)
    }

    /// The 2-D slice of J with rows along `axes.0` and columns along `axes.1`, every other
    /// axis at its component of `at`. Only the structural support inside the slice is
    /// evaluated. Panics unless [`Self::check_slice`] accepts the arguments.
    pub fn slice(&self, axes: (usize, usize), at: &[usize]) -> Slice {
        if let Err(e) = self.check_slice(axes, at) {
            panic!("invalid slice: {e}");
        }
        let shape = self.shape();
        let (rows, cols) = (shape[axes.0], shape[axes.1]);
        let mut values = vec![0.0; rows * cols];
        let mut structural = vec![false; rows * cols];
        let ranges: Vec<Range<usize>> = sparsity::slice_box(&shape, axes, at);
        let mut run_values = vec![0.0; rows.max(cols)];
        for term in &self.bound.terms {
            term.pattern
                .for_each_run_in_box(&ranges, |index, run_axes, first, len| {
                    let run_values = &mut run_values[..len];
                    run_values.fill(0.0);
                    self.bound
                        .add_term_run(term, index, run_axes, first, run_values);
                    let along = |axis: usize, d: usize| {
                        if run_axes.contains(&axis) {
                            first + d
                        } else {
                            index[axis]
                        }
                    };
                    for (d, &v) in run_values.iter().enumerate() {
                        let cell = along(axes.0, d) * cols + along(axes.1, d);
                        structural[cell] = true;
                        values[cell] += v;
                    }
                });
        }
        Slice {
            rows,
            cols,
            values,
            structural,
        }
    }

    /// Exact summaries of the blocks of the 2-D slice of J with rows along `axes.0` and
    /// columns along `axes.1` (every other axis at its component of `at`), for a heat
    /// map: a [`BlockSummary`] for each (row block, column block) that holds a
    /// structurally nonzero entry; the other blocks are structurally zero.
    ///
    /// `row_blocks` and `col_blocks` must be ascending and disjoint (gaps are allowed;
    /// parts beyond the axis are ignored); only entries inside them are evaluated, so a
    /// zoomed-in view costs what it shows. The cost follows the structural support, not
    /// the slice or the grid: the support is visited in runs, each evaluated in pieces of
    /// at most 1024 entries and folded into its blocks, on all rayon threads when
    /// the slice is large; only a table of one `u32` per block is allocated besides the
    /// result. Every structurally nonzero entry counts once, so a lone nonzero always
    /// shows. The slice's largest |value| is [`SliceBlocks::max_abs`] of a call whose
    /// blocks cover it. Panics unless [`Self::check_slice`] accepts `axes` and `at`.
    pub fn slice_blocks(
        &self,
        axes: (usize, usize),
        at: &[usize],
        row_blocks: &[Range<usize>],
        col_blocks: &[Range<usize>],
    ) -> SliceBlocks {
        if let Err(e) = self.check_slice(axes, at) {
            panic!("invalid slice: {e}");
        }
        let clip = |blocks: &[Range<usize>], n: usize| -> Vec<Range<usize>> {
            blocks
                .iter()
                .map(|b| b.start.min(n)..b.end.min(n))
                .collect()
        };
        let row_blocks = clip(row_blocks, self.shape[axes.0]);
        let col_blocks = clip(col_blocks, self.shape[axes.1]);
        let width = col_blocks.len();
        let slice_box = sparsity::slice_box(&self.shape, axes, at);
        let patterns = self.support.patterns();
        // The summaries of the blocks of the row blocks `rows`, the first of which has
        // index `first_index`; `slots` has one entry per block of those rows.
        let fold_rows = |rows: &[Range<usize>], first_index: usize, slots: &mut [u32]| {
            let grid = BlockGrid {
                axes,
                rows,
                cols: &col_blocks,
            };
            let mut sink = BlockSink {
                grid,
                first_index,
                slots,
                blocks: Vec::new(),
            };
            let mut ranges = slice_box.clone();
            ranges[axes.0] = span(rows);
            ranges[axes.1] = span(&col_blocks);
            let mut values = vec![0.0; RUN_PIECE];
            for (n, pattern) in patterns.iter().enumerate() {
                pattern.for_each_run_in_box(&ranges, |index, run_axes, first, len| {
                    for from in (0..len).step_by(RUN_PIECE) {
                        let values = &mut values[..RUN_PIECE.min(len - from)];
                        let first = first + from;
                        self.bound.write_run(index, run_axes, first, values);
                        let run = Run {
                            index,
                            axes: run_axes,
                            first,
                        };
                        grid.fold(&run, values, &patterns[..n], &mut sink);
                    }
                });
            }
            sink.finish()
        };
        let mut slots = vec![u32::MAX; row_blocks.len() * width];
        let mut ranges = slice_box.clone();
        ranges[axes.0] = span(&row_blocks);
        ranges[axes.1] = span(&col_blocks);
        let work: u128 = patterns.iter().map(|p| p.count_in_box(&ranges)).sum();
        let blocks = if width == 0 || work == 0 {
            Vec::new()
        } else if work < PARALLEL_SLICE_ENTRIES {
            fold_rows(&row_blocks, 0, &mut slots)
        } else {
            // Pieces of whole rows of blocks, in order: each collects its own blocks.
            let per_piece = row_blocks.len().div_ceil(4 * rayon::current_num_threads());
            let pieces: Vec<Vec<(usize, BlockSummary)>> = slots
                .par_chunks_mut(per_piece * width)
                .zip(row_blocks.par_chunks(per_piece))
                .enumerate()
                .map(|(k, (slots, rows))| fold_rows(rows, k * per_piece * width, slots))
                .collect();
            pieces.concat()
        };
        SliceBlocks { width, blocks }
    }

    /// Row `row` of the 2-D slice over `axes` at `at` (see [`Self::slice`]) into `out`
    /// (one value per column, zero outside the structural support); returns false if the
    /// row has no structurally nonzero entry. Costs the row's structural support. Panics
    /// unless [`Self::check_slice`] accepts `axes` and `at`, `row` is in range and `out`
    /// has one entry per column.
    pub fn slice_row(
        &self,
        axes: (usize, usize),
        at: &[usize],
        row: usize,
        out: &mut [f64],
    ) -> bool {
        if let Err(e) = self.check_slice(axes, at) {
            panic!("invalid slice: {e}");
        }
        assert!(row < self.shape[axes.0] && out.len() == self.shape[axes.1]);
        out.fill(0.0);
        let mut ranges = sparsity::slice_box(&self.shape, axes, at);
        ranges[axes.0] = row..row + 1;
        let mut any = false;
        for term in &self.bound.terms {
            term.pattern
                .for_each_run_in_box(&ranges, |index, run_axes, first, len| {
                    any = true;
                    let start = if run_axes.contains(&axes.1) {
                        first
                    } else {
                        index[axes.1]
                    };
                    self.bound.add_term_run(
                        term,
                        index,
                        run_axes,
                        first,
                        &mut out[start..start + len],
                    );
                });
        }
        any
    }

    /// The next (or, if not `forward`, the previous) numerically nonzero entry of the 2-D
    /// slice over `axes` at `at` after `from` (row, column) in reading order, wrapping
    /// around (so `from` itself comes last); `None` if the slice has none. Evaluates one
    /// row at a time, skipping rows without structural support, with a buffer of one row.
    /// Panics as [`Self::slice_row`].
    pub fn next_nonzero_in_slice(
        &self,
        axes: (usize, usize),
        at: &[usize],
        from: (usize, usize),
        forward: bool,
    ) -> Option<(usize, usize)> {
        let (rows, cols) = (self.shape[axes.0], self.shape[axes.1]);
        let mut row_values = vec![0.0; cols];
        for k in 0..=rows {
            let row = if forward {
                (from.0 + k) % rows
            } else {
                (from.0 + rows - k % rows) % rows
            };
            if !self.slice_row(axes, at, row, &mut row_values) {
                continue;
            }
            let candidates = match (k, forward) {
                (0, true) => from.1 + 1..cols,
                (0, false) => 0..from.1,
                (_, true) if k == rows => 0..from.1 + 1,
                (_, false) if k == rows => from.1..cols,
                _ => 0..cols,
            };
            let nonzero = |&c: &usize| row_values[c] != 0.0;
            let found = if forward {
                candidates.clone().find(nonzero)
            } else {
                candidates.clone().rev().find(nonzero)
            };
            if let Some(col) = found {
                return Some((row, col));
            }
        }
        None
    }

    /// Why J is zero at `index`, in Unicode: see [`Self::why_zero_in`].
    pub fn why_zero(&self, index: &[usize]) -> Option<Vec<String>> {
        self.why_zero_in(index, Notation::Unicode)
    }

    /// Why J is zero at `index`, written in `notation`: `None` if it is not; otherwise
    /// one line per term naming the factor that vanishes there ("δ(i,k) = 0 since
    /// i = 3 ≠ k = 5", "relu′(Z1)[3,7] = 0 (Z1[3,7] = −0.41)", "W[2,5] = 0"), prefixed
    /// with "term n: " when there are several terms, and a last line if the remaining
    /// terms cancel ("the terms cancel: 0.25 − 0.25"). The index must be valid.
    pub fn why_zero_in(&self, index: &[usize], notation: Notation) -> Option<Vec<String>> {
        if self.entry(index) != 0.0 {
            return None;
        }
        let terms = &self.bound.terms;
        if terms.is_empty() {
            let name = |node| render::node_name(self.formula(), &self.graph, node, notation);
            return Some(vec![format!(
                "{} does not depend on {}",
                name(self.graph.root),
                name(self.wrt)
            )]);
        }
        let s = scratch(index);
        let mut lines = Vec::new();
        let mut surviving = Vec::new();
        for (n, term) in terms.iter().enumerate() {
            match self.vanishing_factor(term, index, notation) {
                Some(reason) if terms.len() == 1 => lines.push(reason),
                Some(reason) => lines.push(format!("term {}: {reason}", n + 1)),
                None => surviving.push(self.bound.term_value(term, &s)),
            }
        }
        match surviving.as_slice() {
            [] => {}
            [_] => lines.push("the product of the factors underflows to 0".to_string()),
            values => {
                let mut sum = value_text(values[0], notation);
                for &v in &values[1..] {
                    let sign = if v < 0.0 { render_minus(notation) } else { "+" };
                    sum.push_str(&format!(" {sign} {}", value_text(v.abs(), notation)));
                }
                let which = if lines.is_empty() { "the" } else { "the other" };
                lines.push(format!("{which} terms cancel: {sum}"));
            }
        }
        Some(lines)
    }

    /// Each term of J at `index`: its coefficient, its factors written at the index (a
    /// contraction as one factor, e.g. `Σ_m S[0,m]·W[m,7]`) with their values, and the
    /// term's value. The index must be valid.
    pub fn breakdown(&self, index: &[usize], notation: Notation) -> Vec<TermBreakdown> {
        let s = scratch(index);
        self.bound
            .terms
            .iter()
            .map(|term| TermBreakdown {
                coeff: term.coeff,
                factors: term
                    .parts
                    .iter()
                    .map(|part| FactorValue {
                        text: self.part_text(part, index, notation),
                        value: self.bound.part_value(term, part, &s),
                    })
                    .collect(),
                value: self.bound.term_value(term, &s),
                notation,
            })
            .collect()
    }

    /// Why `term` vanishes at `index`, or `None` if none of its factors does: a delta that
    /// does not hold comes first, then the first factor whose value is 0.
    fn vanishing_factor(
        &self,
        term: &TermPlan,
        index: &[usize],
        notation: Notation,
    ) -> Option<String> {
        if term.coeff == 0.0 {
            return Some("its coefficient is 0".to_string());
        }
        let s = scratch(index);
        let failed_delta =
            term.parts
                .iter()
                .find_map(|part| match (part.eval, part.factors.as_slice()) {
                    (PartEval::Delta(n), [Factor::Delta(a, b)]) if !term.conds[n].holds(&s) => {
                        Some((*a, *b, part))
                    }
                    _ => None,
                });
        if let Some((a, b, part)) = failed_delta {
            let formula = self.formula();
            let symbolic =
                render::render_factor(formula, &self.graph, &part.factors[0], notation, None);
            let side = |slot: Slot| match slot {
                Slot::Index(id) => {
                    let p = self.bound.positions[id].expect("top-level deltas relate free indices");
                    format!("{} = {}", formula.indices[id].name, index[p])
                }
                Slot::Fixed(c) => c.to_string(),
            };
            let differ = match notation {
                Notation::Unicode => "≠",
                Notation::Ascii => "!=",
                Notation::Latex => "\\neq",
            };
            return Some(format!(
                "{symbolic} = 0 since {} {differ} {}",
                side(a),
                side(b)
            ));
        }
        let part = term
            .parts
            .iter()
            .find(|part| self.bound.part_value(term, part, &s) == 0.0)?;
        let text = self.part_text(part, index, notation);
        let argument = match (part.eval, part.factors.as_slice()) {
            (PartEval::Read(n), [Factor::Tensor { tensor, slots }]) => {
                self.bound.args[*tensor].as_ref().map(|arg| {
                    let TensorDef::ElemDeriv { arg: node, .. } = self.formula().tensors[*tensor]
                    else {
                        unreachable!("only f′ tensors keep their argument")
                    };
                    let value = arg.data()[term.reads[n].offset(&s)];
                    format!(
                        " ({} = {})",
                        self.node_at(node, slots, index, notation),
                        value_text(value, notation)
                    )
                })
            }
            _ => None,
        };
        Some(format!("{text} = 0{}", argument.unwrap_or_default()))
    }

    /// A part of a term written at `index`: free indices replaced by their values,
    /// summation indices kept (`Σ_m S[0,m]·W[m,7]`).
    fn part_text(&self, part: &Part, index: &[usize], notation: Notation) -> String {
        let factors: Vec<Factor> = part
            .factors
            .iter()
            .map(|f| self.at_index(f, index))
            .collect();
        if part.sums.is_empty() {
            render::render_factor(self.formula(), &self.graph, &factors[0], notation, None)
        } else {
            let term = Term {
                coeff: 1.0,
                sums: part.sums.clone(),
                factors,
            };
            render::render_term(self.formula(), &self.graph, &term, notation)
        }
    }

    /// The value of node `node` written at `slots` evaluated at `index`: `Z1[3,7]`.
    fn node_at(&self, node: NodeId, slots: &[Slot], index: &[usize], notation: Notation) -> String {
        let mut formula = self.formula().clone();
        formula.tensors.push(TensorDef::Node(node));
        let factor = Factor::Tensor {
            tensor: formula.tensors.len() - 1,
            slots: slots.to_vec(),
        };
        let factor = self.at_index(&factor, index);
        render::render_factor(&formula, &self.graph, &factor, notation, None)
    }

    /// `factor` with every free index replaced by its component of `index`.
    fn at_index(&self, factor: &Factor, index: &[usize]) -> Factor {
        let fix = |slot: &Slot| match *slot {
            Slot::Index(id) => match self.bound.positions[id] {
                Some(p) => Slot::Fixed(index[p]),
                None => *slot,
            },
            Slot::Fixed(c) => Slot::Fixed(c),
        };
        match factor {
            Factor::Delta(a, b) => Factor::Delta(fix(a), fix(b)),
            Factor::Tensor { tensor, slots } => Factor::Tensor {
                tensor: *tensor,
                slots: slots.iter().map(fix).collect(),
            },
        }
    }
}

/// One factor of a term at an index: as written there, and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct FactorValue {
    /// The factor at the index: `δ(0,0)`, `W[0,7]`, `Σ_m S[0,m]·W[m,7]`.
    pub text: String,
    /// Its value there.
    pub value: f64,
}

/// One term of J at an index, factor by factor.
#[derive(Debug, Clone, PartialEq)]
pub struct TermBreakdown {
    /// The term's constant coefficient.
    pub coeff: f64,
    /// Its factors, in formula order (a contraction counts as one).
    pub factors: Vec<FactorValue>,
    /// The term's value: the coefficient times the factors.
    pub value: f64,
    notation: Notation,
}

impl TermBreakdown {
    /// The term as one line: `δ(0,0)·W[0,7] = 1 × 0.4123 = 0.4123`; a coefficient other
    /// than 1 is written first (`−2·S[0,3] = −2 × 0.5 = −1`, `−S[0,3] = −1 × 0.5 = −0.5`).
    pub fn line(&self) -> String {
        let n = self.notation;
        let (dot, cross) = match n {
            Notation::Unicode => ("·", " × "),
            Notation::Ascii => ("*", " * "),
            Notation::Latex => (" ", " \\times "),
        };
        let mut texts = Vec::new();
        let mut values = Vec::new();
        if self.coeff != 1.0 || self.factors.is_empty() {
            values.push(value_text(self.coeff, n));
            if self.coeff != -1.0 || self.factors.is_empty() {
                texts.push(value_text(self.coeff, n));
            }
        }
        for factor in &self.factors {
            texts.push(factor.text.clone());
            values.push(value_text(factor.value, n));
        }
        let sign = if self.coeff == -1.0 && !self.factors.is_empty() {
            render_minus(n)
        } else {
            ""
        };
        let mut line = format!("{sign}{}", texts.join(dot));
        if !self.factors.is_empty() {
            line.push_str(&format!(" = {}", values.join(cross)));
            if values.len() > 1 {
                line.push_str(&format!(" = {}", value_text(self.value, n)));
            }
        }
        line
    }
}

/// The minus sign of `notation`.
fn render_minus(notation: Notation) -> &'static str {
    match notation {
        Notation::Unicode => "−",
        Notation::Ascii | Notation::Latex => "-",
    }
}

/// A value for people (five significant digits), with the minus sign of `notation`:
/// `0.41235`, `−1.5e-7`.
fn value_text(x: f64, notation: Notation) -> String {
    let text = numfmt::short(x);
    match text.strip_prefix('-') {
        Some(magnitude) => format!("{}{magnitude}", render_minus(notation)),
        None => text,
    }
}

/// `i,j,k,l`, or `a scalar` for no axes.
fn axes_text(names: &[String]) -> String {
    if names.is_empty() {
        "a scalar".to_string()
    } else {
        names.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calculus::{IndexRole, IndexVar};
    use crate::expr::{ElemFn, Node, Op, Shape, Span};
    use crate::sparsity;

    const I: Slot = Slot::Index(0);
    const J: Slot = Slot::Index(1);
    const K: Slot = Slot::Index(2);
    const L: Slot = Slot::Index(3);
    const M: Slot = Slot::Index(4);
    const N: Slot = Slot::Index(5);

    /// A graph whose nodes are the given input variables (the last one is the root).
    fn graph(inputs: &[(&str, &[usize])]) -> Graph {
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
    fn filled(dims: &[usize], seed: u64) -> ArrayD<f64> {
        let n: usize = dims.iter().product();
        let data = (0..n as u64)
            .map(|k| {
                let x = ((k + 1) * 2654435761 + seed * 40503) % 1000;
                x as f64 / 500.0 - 1.0
            })
            .collect();
        ArrayD::from_shape_vec(IxDyn(dims), data).unwrap()
    }

    /// A formula over J[i,j,k,l] with extra summation indices m, n of the given dims.
    fn formula(dims: [usize; 6], tensors: Vec<TensorDef>, terms: Vec<Term>) -> Formula {
        let names = ["i", "j", "k", "l", "m", "n"];
        let roles = [
            IndexRole::Output,
            IndexRole::Output,
            IndexRole::Input,
            IndexRole::Input,
            IndexRole::Summation,
            IndexRole::Summation,
        ];
        Formula {
            indices: (0..6)
                .map(|p| IndexVar {
                    name: names[p].to_string(),
                    dim: dims[p],
                    role: roles[p],
                })
                .collect(),
            out: vec![0, 1],
            input: vec![2, 3],
            tensors,
            terms,
        }
    }

    fn term(coeff: f64, sums: &[IndexId], factors: Vec<Factor>) -> Term {
        Term {
            coeff,
            sums: sums.to_vec(),
            factors,
        }
    }

    fn tensor(tensor: TensorId, slots: &[Slot]) -> Factor {
        Factor::Tensor {
            tensor,
            slots: slots.to_vec(),
        }
    }

    /// J by direct summation over every summation index, from the tensors' values:
    /// independent of the plan and of hoisting.
    fn naive_entry(f: &Formula, tensors: &[ArrayD<f64>], index: &[usize]) -> f64 {
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

    fn all_indices(dims: &[usize]) -> Vec<Vec<usize>> {
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
    fn jacobian(inputs: &[(&str, &[usize])], f: Formula) -> (Jacobian, Vec<ArrayD<f64>>) {
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
    fn mixed() -> (Vec<(&'static str, &'static [usize])>, Formula) {
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
        (inputs, formula([3, 4, 3, 5, 2, 3], tensors, terms))
    }

    #[test]
    fn entries_equal_direct_summation() {
        let (inputs, f) = mixed();
        let (jac, values) = jacobian(&inputs, f.clone());
        for index in all_indices(&jac.shape()) {
            let expected = naive_entry(&f, &values, &index);
            let got = jac.entry(&index);
            assert!(
                (got - expected).abs() < 1e-12,
                "{index:?}: {got} vs {expected}"
            );
        }
    }

    #[test]
    fn contractions_over_two_free_indices_are_hoisted_once() {
        let (inputs, f) = mixed();
        let mut doubled = f.clone();
        doubled.terms.push(doubled.terms[1].clone());
        let (jac, _) = jacobian(&inputs, doubled);
        let bound = jac.bound();
        // 6 tensors; hoisted: Σ_m A·B (term 2, shared with its copy), Σ_m A·C (term 3),
        // Σ_mn A·F·δ (term 5); term 4 has three free indices and is summed per entry.
        assert_eq!(bound.arrays.len(), 6 + 3);
        let per_entry = bound.terms[3]
            .parts
            .iter()
            .filter(|p| matches!(p.eval, PartEval::PerEntry(_)))
            .count();
        assert_eq!(per_entry, 1);
        // the unused summation index n of term 6 multiplies its coefficient by 3
        assert_eq!(bound.terms[5].coeff, 0.75);
    }

    #[test]
    fn the_matrix_product_hoist_agrees_with_the_loop() {
        // Σ_m A[m,i]·B[l,m] in both orientations, with the free indices in either order
        let inputs: Vec<(&str, &[usize])> = vec![("A", &[2, 3]), ("B", &[5, 2])];
        let tensors = vec![TensorDef::Node(0), TensorDef::Node(1)];
        for terms in [
            vec![term(
                1.0,
                &[4],
                vec![tensor(0, &[M, I]), tensor(1, &[L, M])],
            )],
            vec![term(
                1.0,
                &[4],
                vec![tensor(1, &[L, M]), tensor(0, &[M, K])],
            )],
        ] {
            let f = formula([3, 4, 3, 5, 2, 3], tensors.clone(), terms);
            let (jac, values) = jacobian(&inputs, f.clone());
            assert_eq!(jac.bound().arrays.len(), 3);
            for index in all_indices(&jac.shape()) {
                assert!((jac.entry(&index) - naive_entry(&f, &values, &index)).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn a_chain_of_matrices_is_hoisted_as_products() {
        // Σ_m,n A[i,m]·B[n,m]·C[n,l]: a path from i through m and n to l, B read
        // transposed, with the factors in any order.
        let inputs: Vec<(&str, &[usize])> = vec![("A", &[3, 2]), ("B", &[3, 2]), ("C", &[3, 5])];
        let tensors: Vec<TensorDef> = (0..3).map(TensorDef::Node).collect();
        let (a, b, c) = (tensor(0, &[I, M]), tensor(1, &[N, M]), tensor(2, &[N, L]));
        for factors in [
            vec![a.clone(), b.clone(), c.clone()],
            vec![c.clone(), a.clone(), b.clone()],
        ] {
            let f = formula(
                [3, 4, 3, 5, 2, 3],
                tensors.clone(),
                vec![term(1.0, &[4, 5], factors)],
            );
            // (3×2)·(2×3) then (3×3)·(3×5)
            assert_eq!(
                binding_cost(&f, &graph(&inputs)).work,
                3 * 2 * 3 + 3 * 3 * 5
            );
            let (jac, values) = jacobian(&inputs, f.clone());
            assert_eq!(jac.bound().arrays.len(), 3 + 1);
            for index in all_indices(&jac.shape()) {
                let expected = naive_entry(&f, &values, &index);
                assert!((jac.entry(&index) - expected).abs() < 1e-12, "{index:?}");
            }
        }
    }

    #[test]
    fn contractions_that_are_not_chains_are_summed_over_every_index() {
        let positions = vec![Some(0), Some(1), Some(2), Some(3), None, None];
        let f = formula([3, 4, 3, 5, 3, 3], Vec::new(), Vec::new());
        let chain = |factors: &[Factor]| Chain::of(factors, &[4, 5], &f, &positions);
        // A[i,m]·B[m,n]·C[n,l] is one; δ inside, a vector end, a summation index read
        // by three factors, a cycle or both ends at one free index are not.
        let path = [tensor(0, &[I, M]), tensor(1, &[M, N]), tensor(2, &[N, L])];
        assert_eq!(chain(&path).map(|c| c.dims), Some(vec![3, 3, 3, 5]));
        for factors in [
            vec![Factor::Delta(I, M), tensor(1, &[M, N]), tensor(2, &[N, L])],
            vec![tensor(0, &[M]), tensor(1, &[M, N]), tensor(2, &[N, L])],
            vec![tensor(0, &[I, M]), tensor(1, &[M, N]), tensor(2, &[M, L])],
            vec![tensor(0, &[M, N]), tensor(1, &[N, M]), tensor(2, &[I, L])],
            vec![tensor(0, &[I, M]), tensor(1, &[M, N]), tensor(2, &[N, I])],
        ] {
            assert_eq!(chain(&factors), None, "{factors:?}");
        }
    }

    #[test]
    fn every_slice_agrees_with_entries() {
        let (inputs, f) = mixed();
        let (jac, _) = jacobian(&inputs, f);
        let shape = jac.shape();
        for rows in 0..4 {
            for cols in 0..4 {
                if rows == cols {
                    continue;
                }
                for at in all_indices(&shape) {
                    let slice = jac.slice((rows, cols), &at);
                    assert_eq!((slice.rows, slice.cols), (shape[rows], shape[cols]));
                    for r in 0..slice.rows {
                        for c in 0..slice.cols {
                            let mut index = at.clone();
                            index[rows] = r;
                            index[cols] = c;
                            let cell = r * slice.cols + c;
                            assert!((slice.values[cell] - jac.entry(&index)).abs() < 1e-12);
                            assert_eq!(slice.structural[cell], jac.support().contains(&index));
                            if !slice.structural[cell] {
                                assert_eq!(slice.values[cell], 0.0);
                            }
                        }
                    }
                }
            }
        }
    }

    /// The block summaries of a slice computed from the dense slice, entry by entry.
    fn dense_blocks(
        jac: &Jacobian,
        axes: (usize, usize),
        at: &[usize],
        row_blocks: &[Range<usize>],
        col_blocks: &[Range<usize>],
    ) -> Vec<BlockSummary> {
        let slice = jac.slice(axes, at);
        let mut out = Vec::new();
        for rows in row_blocks {
            for cols in col_blocks {
                let mut block = BlockSummary {
                    entries: rows.len() * cols.len(),
                    ..BlockSummary::default()
                };
                for r in rows.clone() {
                    for c in cols.clone() {
                        let cell = r * slice.cols + c;
                        if slice.structural[cell] {
                            block.add_values(&[slice.values[cell]]);
                        }
                    }
                }
                out.push(block);
            }
        }
        out
    }

    /// Ascending, disjoint blocks over 0..n: cut at `cuts`, every `skip`-th block left out
    /// (a gap), the last one running past the end.
    fn some_blocks(n: usize, cuts: &[usize], skip: usize) -> Vec<Range<usize>> {
        let mut edges: Vec<usize> = cuts.iter().map(|c| c % (n + 1)).collect();
        edges.extend([0, n + 2]);
        edges.sort_unstable();
        edges.dedup();
        edges
            .windows(2)
            .enumerate()
            .filter(|(k, _)| skip == 0 || k % skip != skip - 1)
            .map(|(_, w)| w[0]..w[1])
            .collect()
    }

    /// Every block of `blocks` (row-major), the structurally zero ones included.
    fn densify(
        blocks: &SliceBlocks,
        rows: &[Range<usize>],
        cols: &[Range<usize>],
    ) -> Vec<BlockSummary> {
        assert_eq!(blocks.width, cols.len());
        let mut out = Vec::new();
        for (r, row) in rows.iter().enumerate() {
            for (c, col) in cols.iter().enumerate() {
                let empty = BlockSummary {
                    entries: row.len() * col.len(),
                    ..BlockSummary::default()
                };
                out.push(blocks.get(r, c).copied().unwrap_or(empty));
            }
        }
        assert_eq!(
            blocks.blocks.len(),
            out.iter().filter(|b| b.structural > 0).count(),
            "exactly the structurally nonzero blocks are listed"
        );
        out
    }

    fn assert_same_blocks(got: &[BlockSummary], expected: &[BlockSummary], what: &str) {
        assert_eq!(got.len(), expected.len(), "{what}");
        for (n, (g, e)) in got.iter().zip(expected).enumerate() {
            let counts = |b: &BlockSummary| (b.entries, b.structural, b.nonzero);
            assert_eq!(counts(g), counts(e), "{what}: block {n}");
            assert!(
                (g.max_abs - e.max_abs).abs() <= 1e-12 * e.max_abs,
                "{what}: block {n}"
            );
            assert!(
                (g.extreme.abs() - e.extreme.abs()).abs() <= 1e-12 * e.max_abs,
                "{what}"
            );
        }
    }

    #[test]
    fn slice_blocks_agree_with_the_dense_slice() {
        let (inputs, mut f) = mixed();
        // A second pattern overlapping the first (i = k and j = k): entries counted once.
        f.terms.push(term(
            3.0,
            &[],
            vec![Factor::Delta(J, K), tensor(3, &[J, L])],
        ));
        let (jac, _) = jacobian(&inputs, f);
        let shape = jac.shape();
        for rows in 0..4 {
            for cols in 0..4 {
                if rows == cols {
                    continue;
                }
                for at in all_indices(&shape) {
                    for (cuts, skip) in [(vec![], 0), (vec![1, 2], 0), (vec![1, 3, 4], 2)] {
                        let row_blocks = some_blocks(shape[rows], &cuts, skip);
                        let col_blocks = some_blocks(shape[cols], &cuts, skip + 1);
                        let got = jac.slice_blocks((rows, cols), &at, &row_blocks, &col_blocks);
                        let clip = |b: &[Range<usize>], n: usize| -> Vec<Range<usize>> {
                            b.iter().map(|r| r.start.min(n)..r.end.min(n)).collect()
                        };
                        let (row_blocks, col_blocks) = (
                            clip(&row_blocks, shape[rows]),
                            clip(&col_blocks, shape[cols]),
                        );
                        let got = densify(&got, &row_blocks, &col_blocks);
                        let expected =
                            dense_blocks(&jac, (rows, cols), &at, &row_blocks, &col_blocks);
                        assert_same_blocks(&got, &expected, &format!("{rows},{cols} at {at:?}"));
                    }
                }
            }
        }
    }

    #[test]
    fn rows_and_next_nonzeros_agree_with_the_dense_slice() {
        let (inputs, mut f) = mixed();
        f.terms.push(term(
            3.0,
            &[],
            vec![Factor::Delta(J, K), tensor(3, &[J, L])],
        ));
        let (jac, _) = jacobian(&inputs, f);
        for (rows, cols) in [(0, 1), (1, 3), (2, 3), (3, 0), (0, 2)] {
            for at in [[0, 0, 0, 0], [1, 2, 1, 4], [2, 1, 0, 3]] {
                let slice = jac.slice((rows, cols), &at);
                let mut row_values = vec![0.0; slice.cols];
                for r in 0..slice.rows {
                    let any = jac.slice_row((rows, cols), &at, r, &mut row_values);
                    let dense = &slice.values[r * slice.cols..(r + 1) * slice.cols];
                    let structural = &slice.structural[r * slice.cols..(r + 1) * slice.cols];
                    assert_eq!(any, structural.contains(&true));
                    for (got, expected) in row_values.iter().zip(dense) {
                        assert!((got - expected).abs() < 1e-12);
                    }
                }
                let len = slice.values.len();
                for from in [(0, 0), (1, 2), (slice.rows - 1, slice.cols - 1)] {
                    for forward in [true, false] {
                        let start = from.0 * slice.cols + from.1;
                        let expected = (1..=len)
                            .map(|step| {
                                if forward {
                                    (start + step) % len
                                } else {
                                    (start + len - step % len) % len
                                }
                            })
                            .find(|&n| slice.values[n] != 0.0)
                            .map(|n| (n / slice.cols, n % slice.cols));
                        let got = jac.next_nonzero_in_slice((rows, cols), &at, from, forward);
                        assert_eq!(got, expected, "{rows},{cols} at {at:?} from {from:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn runs_longer_than_a_piece_are_summarised_exactly() {
        // δ(i,k)·X[j,l] − δ(j,k)·X[i,l] with l of 2500: runs cross the evaluation pieces.
        let terms = vec![
            term(1.0, &[], vec![Factor::Delta(I, K), tensor(0, &[J, L])]),
            term(-1.0, &[], vec![Factor::Delta(J, K), tensor(0, &[I, L])]),
        ];
        let f = formula([3, 3, 3, 2500, 1, 1], vec![TensorDef::Node(0)], terms);
        let mut x = filled(&[3, 2500], 9);
        x[[1, 1500]] = 0.0;
        let jac = Jacobian::from_node_values(graph(&[("X", &[3, 2500])]), 0, f, |_| &x).unwrap();
        let cols: Vec<Range<usize>> = (0..7).map(|b| 400 * b..400 * b + 357).collect();
        for at in [[1, 0, 1, 0], [0, 0, 2, 0], [2, 2, 2, 0]] {
            for axes in [(1, 3), (0, 3), (2, 3)] {
                let rows = some_blocks(3, &[1], 0);
                let got = jac.slice_blocks(axes, &at, &rows, &cols);
                let clipped: Vec<Range<usize>> = cols
                    .iter()
                    .map(|c| c.start.min(2500)..c.end.min(2500))
                    .collect();
                let got = densify(&got, &[0..1, 1..3], &clipped);
                let expected = dense_blocks(&jac, axes, &at, &[0..1, 1..3], &clipped);
                assert_same_blocks(&got, &expected, &format!("{axes:?} at {at:?}"));
            }
        }
    }

    #[test]
    fn large_slices_are_summarised_in_parallel_pieces_exactly() {
        // δ(i,k)·X[j,l] + 2·δ(j,k)·X[i,l] with a (j,l) slice of 300×1000 entries: above the
        // parallel threshold, with a lone nonzero in an otherwise zero block.
        let terms = vec![
            term(1.0, &[], vec![Factor::Delta(I, K), tensor(0, &[J, L])]),
            term(2.0, &[], vec![Factor::Delta(J, K), tensor(0, &[I, L])]),
        ];
        let f = formula([300, 300, 300, 1000, 1, 1], vec![TensorDef::Node(0)], terms);
        let mut x = filled(&[300, 1000], 5);
        for row in 6..9 {
            x.index_axis_mut(ndarray::Axis(0), row).fill(0.0);
        }
        x[[7, 999]] = -5.0;
        let jac = Jacobian::from_node_values(graph(&[("X", &[300, 1000])]), 0, f, |_| &x).unwrap();
        let row_blocks: Vec<Range<usize>> = (0..100).map(|b| 3 * b..3 * b + 3).collect();
        let col_blocks: Vec<Range<usize>> = (0..200).map(|b| 5 * b..5 * b + 5).collect();
        for at in [[4, 0, 4, 0], [4, 0, 9, 0]] {
            let got = jac.slice_blocks((1, 3), &at, &row_blocks, &col_blocks);
            let got = densify(&got, &row_blocks, &col_blocks);
            let expected = dense_blocks(&jac, (1, 3), &at, &row_blocks, &col_blocks);
            assert_same_blocks(&got, &expected, &format!("at {at:?}"));
        }
        let lone = jac.slice_blocks((1, 3), &[4, 0, 4, 0], &row_blocks, &col_blocks);
        let block = lone.get(2, 199).unwrap();
        assert_eq!((block.nonzero, block.extreme), (1, -5.0));
        // |X| < 1 elsewhere, and 3·|X[4,l]| < 3 where both terms meet.
        assert_eq!(lone.max_abs(), 5.0);
    }

    #[test]
    fn numeric_nonzeros_count_each_entry_once() {
        // δ(i,k)·X[j,l] + δ(j,k)·X[i,l] with some zeros in X and a cancellation: the
        // patterns overlap where i = j = k.
        let inputs: Vec<(&str, &[usize])> = vec![("X", &[3, 4])];
        let terms = vec![
            term(1.0, &[], vec![Factor::Delta(I, K), tensor(0, &[J, L])]),
            term(-1.0, &[], vec![Factor::Delta(J, K), tensor(0, &[I, L])]),
        ];
        let f = formula([3, 3, 3, 4, 1, 1], vec![TensorDef::Node(0)], terms);
        let g = graph(&inputs);
        let mut x = filled(&[3, 4], 7);
        x[[1, 2]] = 0.0;
        x[[2, 0]] = 0.0;
        let jac = Jacobian::from_node_values(g, 0, f, |_| &x).unwrap();
        let brute = all_indices(&jac.shape())
            .iter()
            .filter(|ix| jac.entry(ix) != 0.0)
            .count() as u64;
        assert_eq!(sparsity::numeric_nonzeros(&jac), brute);
        assert!(brute < sparsity::structural_count(jac.formula()) as u64);
        let progress = sparsity::Progress::new();
        progress.cancel();
        assert_eq!(
            sparsity::numeric_nonzeros_with_progress(&jac, &progress),
            None
        );
    }

    #[test]
    fn numeric_nonzeros_over_many_chunks_match_an_explicit_count() {
        // δ(i,k)·X[j,l] + 2·δ(j,k)·X[i,l] over 9×9×9×1000: 162000 − 9000 structural
        // entries, more than two chunks; X has a zero column and zeros on a diagonal.
        let terms = vec![
            term(1.0, &[], vec![Factor::Delta(I, K), tensor(0, &[J, L])]),
            term(2.0, &[], vec![Factor::Delta(J, K), tensor(0, &[I, L])]),
        ];
        let f = formula([9, 9, 9, 1000, 1, 1], vec![TensorDef::Node(0)], terms);
        let mut x = filled(&[9, 1000], 3);
        for r in 0..9 {
            x[[r, 17]] = 0.0;
            x[[r, r]] = 0.0;
        }
        let jac = Jacobian::from_node_values(graph(&[("X", &[9, 1000])]), 0, f, |_| &x).unwrap();
        assert_eq!(sparsity::structural_count(jac.formula()), 162_000 - 9_000);
        let mut expected = 0u64;
        for i in 0..9 {
            for j in 0..9 {
                for l in 0..1000 {
                    // k = i, and k = j when j ≠ i; the value is written out independently
                    let on_i = x[[j, l]] + if i == j { 2.0 * x[[i, l]] } else { 0.0 };
                    expected += u64::from(on_i != 0.0);
                    if j != i {
                        expected += u64::from(2.0 * x[[i, l]] != 0.0);
                    }
                }
            }
        }
        let progress = sparsity::Progress::new();
        assert_eq!(
            sparsity::numeric_nonzeros_with_progress(&jac, &progress),
            Some(expected)
        );
        assert_eq!(progress.total(), 162_000);
        assert_eq!(progress.done(), 162_000);
    }

    #[test]
    fn derived_tensors_have_their_closed_forms() {
        let inputs: Vec<(&str, &[usize])> = vec![("A", &[2, 2])];
        let g = graph(&inputs);
        let a = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![-1.0, 2.0, 0.5, 4.0]).unwrap();
        let tensors = vec![
            TensorDef::ElemDeriv {
                func: ElemFn::Relu,
                arg: 0,
            },
            TensorDef::Power {
                arg: 0,
                exponent: -2.0,
            },
            TensorDef::Centered {
                arg: 0,
                axis: Some(0),
            },
            TensorDef::Centered { arg: 0, axis: None },
            TensorDef::Softmax {
                arg: 0,
                axis: Some(1),
            },
            TensorDef::Softmax { arg: 0, axis: None },
            TensorDef::Inverse { arg: 0 },
        ];
        let f = formula([2, 2, 2, 2, 1, 1], tensors, vec![]);
        let bound = BoundFormula::new(f, &g, |_| &a).unwrap();
        let t = |id: TensorId| bound.tensor(id).iter().copied().collect::<Vec<f64>>();
        let close = |x: &[f64], y: &[f64]| x.iter().zip(y).all(|(a, b)| (a - b).abs() < 1e-12);
        assert_eq!(t(0), vec![0.0, 1.0, 1.0, 1.0]);
        assert!(close(&t(1), &[1.0, 0.25, 4.0, 1.0 / 16.0]));
        assert!(close(&t(2), &[-0.75, -1.0, 0.75, 1.0]));
        assert!(close(&t(3), &[-2.375, 0.625, -0.875, 2.625]));
        let row = |x: f64, y: f64| [x.exp() / (x.exp() + y.exp()), y.exp() / (x.exp() + y.exp())];
        assert!(close(&t(4), &[row(-1.0, 2.0), row(0.5, 4.0)].concat()));
        let total: f64 = [-1.0f64, 2.0, 0.5, 4.0].iter().map(|v| v.exp()).sum();
        assert!(close(
            &t(5),
            &[-1.0f64, 2.0, 0.5, 4.0].map(|v| v.exp() / total)
        ));
        // [[a,b],[c,d]]⁻¹ = [[d,−b],[−c,a]] / (ad − bc), ad − bc = −5
        assert!(close(
            &t(6),
            &[4.0 / -5.0, -2.0 / -5.0, -0.5 / -5.0, -1.0 / -5.0]
        ));
    }

    #[test]
    fn a_singular_inverse_is_an_error() {
        let g = graph(&[("A", &[2, 2])]);
        let a = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1.0, 2.0, 2.0, 4.0]).unwrap();
        let f = formula(
            [2, 2, 2, 2, 1, 1],
            vec![TensorDef::Inverse { arg: 0 }],
            vec![],
        );
        let err = BoundFormula::new(f, &g, |_| &a).unwrap_err();
        assert_eq!(
            err,
            JacobianError::Singular {
                what: "A".to_string()
            }
        );
    }

    #[test]
    fn bad_indices_are_explained() {
        let (inputs, f) = mixed();
        let (jac, _) = jacobian(&inputs, f);
        assert_eq!(jac.axis_names(), ["i", "j", "k", "l"]);
        assert_eq!(
            jac.check_index(&[0, 1, 2]).unwrap_err().to_string(),
            "index has 3 components, J has 4 axes (i,j,k,l)"
        );
        assert_eq!(
            jac.check_index(&[0, 1, 3, 0]).unwrap_err().to_string(),
            "k = 3 is out of range 0..3"
        );
        assert!(jac.check_index(&[2, 3, 2, 4]).is_ok());
        assert!(jac.check_slice((1, 1), &[0, 0, 0, 0]).is_err());
        assert!(jac.check_slice((1, 4), &[0, 0, 0, 0]).is_err());
        assert!(jac.check_slice((1, 2), &[0, 0, 0, 9]).is_err());
    }

    #[test]
    fn malformed_formulas_are_rejected() {
        let g = graph(&[("A", &[3, 2])]);
        let a = filled(&[3, 2], 0);
        // A[i,m] read with m free of its term
        let f = formula(
            [3, 4, 3, 5, 2, 3],
            vec![TensorDef::Node(0)],
            vec![term(1.0, &[], vec![tensor(0, &[I, M])])],
        );
        assert!(matches!(
            BoundFormula::new(f, &g, |_| &a),
            Err(JacobianError::Malformed(_))
        ));
        // A[i,j]: j runs over 4, A's axis over 2
        let f = formula(
            [3, 4, 3, 5, 2, 3],
            vec![TensorDef::Node(0)],
            vec![term(1.0, &[], vec![tensor(0, &[I, J])])],
        );
        assert!(matches!(
            BoundFormula::new(f, &g, |_| &a),
            Err(JacobianError::Malformed(_))
        ));
    }

    mod end_to_end {
        use std::collections::BTreeMap;

        use super::*;
        use crate::calculus;
        use crate::check;
        use crate::eval;
        use crate::expr::{self, Shape};
        use crate::inputs::Inputs;

        /// An expression, the shapes of its variables, and the variable to differentiate by.
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

        /// The Jacobian of `source` with respect to `wrt`, inputs drawn with seed 0 unless
        /// given in `loaded`.
        fn problem(
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
            let wrt = graph.input(wrt).unwrap();
            let inputs = Inputs::new(&graph, loaded, 0).unwrap();
            let values = eval::evaluate(&graph, &inputs).unwrap();
            let formula = calculus::jacobian_formula(&graph, wrt);
            (Jacobian::new(graph, wrt, formula, &values).unwrap(), inputs)
        }

        #[test]
        fn linear_layer_entries_are_delta_times_w() {
            let (jac, inputs) = problem(
                "X @ W.T",
                &[("X", "3x5"), ("W", "4x5")],
                "X",
                BTreeMap::new(),
            );
            assert_eq!(jac.shape(), [3, 4, 3, 5]);
            assert_eq!(
                calculus::render(jac.formula(), jac.graph(), Notation::Unicode),
                "δ(i,k)·W[j,l]"
            );
            let w = inputs.get("W").unwrap();
            for index in all_indices(&jac.shape()) {
                let [i, j, k, l] = index[..] else {
                    unreachable!()
                };
                let expected = if i == k { w[[j, l]] } else { 0.0 };
                assert_eq!(jac.entry(&index), expected);
            }
            assert_eq!(sparsity::structural_count(jac.formula()), 3 * 4 * 5);
            assert_eq!(sparsity::numeric_nonzeros(&jac), 3 * 4 * 5);
        }

        #[test]
        fn entries_agree_with_finite_differences() {
            // (expression, shapes, wrt)
            let cases: &[Case] = &[
                ("softmax(X, axis=1)", &[("X", "2x3")], "X"),
                ("softmax(X @ W, axis=0)", &[("X", "2x3"), ("W", "3x2")], "W"),
                (
                    "relu(X @ W1) @ W2",
                    &[("X", "2x3"), ("W1", "3x4"), ("W2", "4x2")],
                    "X",
                ),
                (
                    "tanh(X @ W1) @ W2",
                    &[("X", "2x3"), ("W1", "3x4"), ("W2", "4x2")],
                    "W1",
                ),
                ("inv(X)", &[("X", "3x3")], "X"),
                ("det(X @ X.T)", &[("X", "2x3")], "X"),
                ("logsumexp(X, axis=1)", &[("X", "2x3")], "X"),
                ("var(X, axis=0) + std(X)", &[("X", "3x2")], "X"),
                ("sum(X * X, axis=1) / b", &[("X", "2x3"), ("b", "2")], "X"),
                ("trace(X @ W) * X", &[("X", "2x3"), ("W", "3x2")], "X"),
            ];
            for (source, shapes, wrt) in cases {
                let (jac, inputs) = problem(source, shapes, wrt, BTreeMap::new());
                for index in all_indices(&jac.shape()) {
                    let value = jac.entry(&index);
                    let fd = check::finite_difference(jac.graph(), &inputs, wrt, &index).unwrap();
                    assert!(
                        check::agrees(value, &fd),
                        "{source} at {index:?}: {value} vs {}",
                        fd.value
                    );
                }
                // every structural zero is a zero, and slices agree with entries
                let shape = jac.shape();
                for index in all_indices(&shape) {
                    if !jac.support().contains(&index) {
                        assert_eq!(jac.entry(&index), 0.0, "{source} at {index:?}");
                    }
                }
                if shape.len() >= 2 {
                    let at = vec![0; shape.len()];
                    let slice = jac.slice((0, shape.len() - 1), &at);
                    for r in 0..slice.rows {
                        for c in 0..slice.cols {
                            let mut index = at.clone();
                            index[0] = r;
                            index[shape.len() - 1] = c;
                            assert!(
                                (slice.values[r * slice.cols + c] - jac.entry(&index)).abs()
                                    < 1e-12
                            );
                        }
                    }
                }
                let brute = all_indices(&shape)
                    .iter()
                    .filter(|ix| jac.entry(ix) != 0.0)
                    .count();
                assert_eq!(sparsity::numeric_nonzeros(&jac), brute as u64, "{source}");
            }
        }

        #[test]
        fn a_long_matrix_power_matches_the_power_computed_directly() {
            // d(A¹⁷)[i,j]/dA[k,l] = Σ_p (A^p)[i,k]·(A^(16−p))[l,j]; the longest chains of
            // its terms have 15 summation indices.
            let source = vec!["A"; 17].join(" @ ");
            let (jac, inputs) = problem(&source, &[("A", "3x3")], "A", BTreeMap::new());
            let a = inputs
                .get("A")
                .unwrap()
                .clone()
                .into_dimensionality::<ndarray::Ix2>()
                .unwrap();
            let mut powers = vec![ndarray::Array2::eye(3)];
            for p in 1..17 {
                powers.push(powers[p - 1].dot(&a));
            }
            for index in all_indices(&jac.shape()) {
                let [i, j, k, l] = index[..] else {
                    unreachable!()
                };
                let expected: f64 = (0..17)
                    .map(|p| powers[p][[i, k]] * powers[16 - p][[l, j]])
                    .sum();
                let got = jac.entry(&index);
                assert!(
                    (got - expected).abs() <= 1e-12 * expected.abs().max(1.0),
                    "{index:?}: {got} vs {expected}"
                );
            }
        }

        #[test]
        fn the_default_example_is_instant() {
            let (jac, _) = problem(
                "X @ W.T",
                &[("X", "64x1024"), ("W", "512x1024")],
                "X",
                BTreeMap::new(),
            );
            let start = std::time::Instant::now();
            assert_eq!(sparsity::structural_count(jac.formula()), 33_554_432);
            assert!(start.elapsed().as_millis() < 20);
            let slice = jac.slice((2, 3), &[5, 7, 0, 0]);
            assert_eq!(slice.structural.iter().filter(|&&s| s).count(), 1024);
            assert!(slice.structural[5 * 1024..6 * 1024].iter().all(|&s| s));
        }

        #[test]
        fn zeros_are_explained() {
            let mut loaded = BTreeMap::new();
            let mut w = filled(&[4, 5], 3);
            w[[2, 1]] = 0.0;
            loaded.insert("W".to_string(), w);
            let (jac, _) = problem("X @ W.T", &[("X", "3x5"), ("W", "4x5")], "X", loaded);
            assert_eq!(
                jac.why_zero(&[0, 2, 1, 3]).unwrap(),
                ["δ(i,k) = 0 since i = 0 ≠ k = 1"]
            );
            assert_eq!(
                jac.why_zero_in(&[0, 2, 1, 3], Notation::Ascii).unwrap(),
                ["delta(i,k) = 0 since i = 0 != k = 1"]
            );
            assert_eq!(jac.why_zero(&[1, 2, 1, 1]).unwrap(), ["W[2,1] = 0"]);
            assert_eq!(jac.why_zero(&[1, 2, 1, 2]), None);

            let (jac, _) = problem(
                "relu(X @ W)",
                &[("X", "3x4"), ("W", "4x5")],
                "X",
                BTreeMap::new(),
            );
            let z = jac
                .bound()
                .args
                .iter()
                .flatten()
                .next()
                .unwrap()
                .view()
                .to_owned();
            let (i, j) = z
                .indexed_iter()
                .find(|(_, v)| **v < 0.0)
                .map(|(ix, _)| (ix[0], ix[1]))
                .unwrap();
            let lines = jac.why_zero(&[i, j, i, 0]).unwrap();
            let expected = format!(
                "relu′(Z1)[{i},{j}] = 0 (Z1[{i},{j}] = {})",
                value_text(z[[i, j]], Notation::Unicode)
            );
            assert_eq!(lines, [expected]);

            let (jac, _) = problem("W * 2", &[("X", "2"), ("W", "2")], "W", BTreeMap::new());
            assert_eq!(
                jac.why_zero(&[0, 1]).unwrap(),
                ["δ(i,k) = 0 since i = 0 ≠ k = 1"]
            );
        }

        #[test]
        fn a_formula_without_terms_does_not_depend_on_x() {
            let g = graph(&[("X", &[2]), ("W", &[2])]);
            let f = Formula {
                indices: vec![
                    IndexVar {
                        name: "i".into(),
                        dim: 2,
                        role: IndexRole::Output,
                    },
                    IndexVar {
                        name: "k".into(),
                        dim: 2,
                        role: IndexRole::Input,
                    },
                ],
                out: vec![0],
                input: vec![1],
                tensors: vec![],
                terms: vec![],
            };
            let x = filled(&[2], 0);
            let jac = Jacobian::from_node_values(g, 0, f, |_| &x).unwrap();
            assert_eq!(jac.why_zero(&[0, 1]).unwrap(), ["W does not depend on X"]);
        }

        #[test]
        fn cancelling_terms_are_named() {
            // δ(i,k)·A[j,l] − δ(i,k)·A[j,l] + δ(j,l)·A[i,k], at an index where only the first
            // two hold
            let inputs: Vec<(&str, &[usize])> = vec![("A", &[2, 2])];
            let terms = vec![
                term(1.0, &[], vec![Factor::Delta(I, K), tensor(0, &[J, L])]),
                term(-1.0, &[], vec![Factor::Delta(I, K), tensor(0, &[J, L])]),
                term(1.0, &[], vec![Factor::Delta(J, L), tensor(0, &[I, K])]),
            ];
            let f = formula([2, 2, 2, 2, 1, 1], vec![TensorDef::Node(0)], terms);
            let a = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1.0, 2.0, 0.25, 3.0]).unwrap();
            let jac = Jacobian::from_node_values(graph(&inputs), 0, f, |_| &a).unwrap();
            assert_eq!(
                jac.why_zero(&[0, 1, 0, 0]).unwrap(),
                [
                    "term 3: δ(j,l) = 0 since j = 1 ≠ l = 0",
                    "the other terms cancel: 0.25 − 0.25"
                ]
            );
        }

        #[test]
        fn breakdown_shows_each_factor_at_the_index() {
            let (jac, inputs) = problem(
                "X @ W.T",
                &[("X", "3x5"), ("W", "4x5")],
                "X",
                BTreeMap::new(),
            );
            let w = inputs.get("W").unwrap()[[2, 4]];
            let terms = jac.breakdown(&[1, 2, 1, 4], Notation::Unicode);
            assert_eq!(terms.len(), 1);
            assert_eq!(terms[0].value, w);
            let w = value_text(w, Notation::Unicode);
            assert_eq!(terms[0].line(), format!("δ(1,1)·W[2,4] = 1 × {w} = {w}"));

            // a hoisted contraction is one factor, its summation index kept:
            // softmax(X W) = Y, ∂Y/∂X = δ(i,k)·Y[i,j]·W[l,j] − Σ_m δ(i,k)·Y[i,j]·Y[i,m]·W[l,m]
            let shapes = [("X", "2x3"), ("W", "3x4")];
            let (jac, inputs) = problem("softmax(X @ W, axis=1)", &shapes, "X", BTreeMap::new());
            let y = eval::evaluate(jac.graph(), &inputs).unwrap().root().clone();
            let w = inputs.get("W").unwrap();
            let terms = jac.breakdown(&[0, 1, 0, 2], Notation::Unicode);
            let texts: Vec<Vec<&str>> = terms
                .iter()
                .map(|t| t.factors.iter().map(|f| f.text.as_str()).collect())
                .collect();
            assert_eq!(
                texts,
                [
                    vec!["δ(0,0)", "Y[0,1]", "W[2,1]"],
                    vec!["δ(0,0)", "Y[0,1]", "Σ_m Y[0,m]·W[2,m]"]
                ]
            );
            let sum: f64 = (0..4).map(|m| y[[0, m]] * w[[2, m]]).sum();
            assert!((terms[1].factors[2].value - sum).abs() < 1e-12);
            assert_eq!(terms[1].coeff, -1.0);
            assert!(
                terms[1]
                    .line()
                    .starts_with("−δ(0,0)·Y[0,1]·Σ_m Y[0,m]·W[2,m] = −1 × 1 × ")
            );
            let total: f64 = terms.iter().map(|t| t.value).sum();
            assert!((total - jac.entry(&[0, 1, 0, 2])).abs() < 1e-15);
        }
    }
}
