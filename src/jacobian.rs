//! The Jacobian of one problem: an index formula bound to numbers.
//!
//! [`BoundFormula`] evaluates every tensor the formula refers to (node values, f′, powers,
//! centred values, softmax, inverses) and plans the evaluation of each term: deltas become
//! index comparisons, tensor factors become strided reads, and the factors that share
//! summation indices are grouped into contractions. A contraction over at most two free
//! indices is hoisted: computed once into a small tensor (with a matrix product when it is
//! `Σ_m A[x,m]·B[m,y]`), so that an entry costs O(number of factors). A contraction over
//! more free indices is summed per entry (correct, slower).
//!
//! [`Jacobian`] adds the graph and the variable J differentiates with respect to, and
//! answers the questions the views ask: shape, one entry, a 2-D slice (cost proportional
//! to its structural nonzeros), why an entry is zero, and an entry's term-by-term breakdown.

use std::ops::Range;

use ndarray::{ArrayD, ArrayView2, ArrayViewD, ArrayViewMut1, Axis, IxDyn};
use thiserror::Error;

use crate::calculus::render::{self, Notation};
use crate::calculus::{Factor, Formula, IndexId, Slot, TensorDef, TensorId, Term};
use crate::eval::Values;
use crate::expr::{Graph, NodeId};
use crate::numfmt;
use crate::sparsity::{self, StructuralSupport, SupportPattern};

/// Most index positions (J's axes plus the summation indices of one contraction) a
/// contraction may use.
const MAX_POSITIONS: usize = 16;

/// The components of J's index followed by the summation indices of a contraction.
type Scratch = [usize; MAX_POSITIONS];

/// `index` (J's components) in a scratch index.
fn scratch(index: &[usize]) -> Scratch {
    let mut s = [0; MAX_POSITIONS];
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

/// A row-major tensor of rank 0–2 with its strides.
#[derive(Debug, Clone, PartialEq)]
struct Dense {
    shape: Vec<usize>,
    strides: Vec<usize>,
    data: Vec<f64>,
}

impl Dense {
    /// A row-major copy of `array`.
    fn from_array(array: &ArrayViewD<f64>) -> Dense {
        let shape = array.shape().to_vec();
        Dense::new(shape, array.iter().copied().collect())
    }

    /// A tensor of shape `shape` from its row-major data.
    fn new(shape: Vec<usize>, data: Vec<f64>) -> Dense {
        let mut strides = vec![1; shape.len()];
        for axis in (0..shape.len().saturating_sub(1)).rev() {
            strides[axis] = strides[axis + 1] * shape[axis + 1];
        }
        debug_assert_eq!(data.len(), shape.iter().product::<usize>());
        Dense {
            shape,
            strides,
            data,
        }
    }

    fn view(&self) -> ArrayViewD<'_, f64> {
        ArrayViewD::from_shape(IxDyn(&self.shape), &self.data).expect("shape matches data")
    }

    /// The tensor as a matrix (rank 2 only).
    fn matrix(&self) -> ArrayView2<'_, f64> {
        ArrayView2::from_shape((self.shape[0], self.shape[1]), &self.data)
            .expect("shape matches data")
    }
}

/// A delta as an index comparison; positions index the scratch index (J's axes, then the
/// summation indices of a contraction).
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
    fn holds(self, s: &Scratch) -> bool {
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
    fn offset(&self, s: &Scratch) -> usize {
        let [(p, sp), (q, sq)] = self.axes;
        self.base + s[p] * sp + s[q] * sq
    }

    fn value(&self, arrays: &[Dense], s: &Scratch) -> f64 {
        arrays[self.array].data[self.offset(s)]
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
        let mut s = *free;
        s[self.first_sum..].fill(0);
        let mut total = 0.0;
        loop {
            if self.conds.iter().all(|c| c.holds(&s)) {
                total += self
                    .reads
                    .iter()
                    .map(|r| r.value(arrays, &s))
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
    /// and plans its terms.
    pub fn new<'a>(
        formula: Formula,
        graph: &Graph,
        node_value: impl Fn(NodeId) -> &'a ArrayD<f64>,
    ) -> Result<BoundFormula, JacobianError> {
        let mut arrays = Vec::with_capacity(formula.tensors.len());
        let mut args = Vec::with_capacity(formula.tensors.len());
        for def in &formula.tensors {
            let (value, arg) = evaluate_tensor(def, graph, &node_value)?;
            arrays.push(value);
            args.push(arg);
        }
        let mut planner = Planner {
            formula: &formula,
            positions: sparsity::free_positions(&formula),
            arrays,
            hoisted: Vec::new(),
        };
        let terms = formula
            .terms
            .iter()
            .map(|term| planner.plan_term(term))
            .collect::<Result<Vec<_>, _>>()?;
        let (arrays, positions) = (planner.arrays, planner.positions);
        Ok(BoundFormula {
            formula,
            positions,
            arrays,
            args,
            terms,
        })
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
        for term in &self.terms {
            self.add_term_run(term, index, run_axes, first, out);
        }
    }

    /// [`Self::add_run`] for one term.
    fn add_term_run(
        &self,
        term: &TermPlan,
        index: &[usize],
        run_axes: &[usize],
        first: usize,
        out: &mut [f64],
    ) {
        let mut s = scratch(index);
        for &p in run_axes {
            s[p] = first;
        }
        let in_run = |p: usize| run_axes.contains(&p);
        // The entries d in lo..hi where every delta holds.
        let (mut lo, mut hi) = (0, out.len());
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
                Some(_) => return,
                None if !cond.holds(&s) => return,
                None => {}
            }
        }
        if lo >= hi {
            return;
        }
        // (data, offset at d = 0, stride along the run) per read
        let reads: Vec<(&[f64], usize, usize)> = term
            .reads
            .iter()
            .map(|r| {
                let step = r
                    .axes
                    .iter()
                    .filter(|&&(p, _)| in_run(p))
                    .map(|&(_, stride)| stride)
                    .sum();
                (self.arrays[r.array].data.as_slice(), r.offset(&s), step)
            })
            .collect();
        for (d, slot) in out.iter_mut().enumerate().take(hi).skip(lo) {
            let mut v = reads.iter().fold(term.coeff, |v, &(data, offset, step)| {
                v * data[offset + d * step]
            });
            if !term.contractions.is_empty() {
                for &p in run_axes {
                    s[p] = first + d;
                }
                v = term
                    .contractions
                    .iter()
                    .fold(v, |v, c| v * c.value(&self.arrays, &s));
            }
            *slot += v;
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

/// Evaluates one tensor definition; for `ElemDeriv` also returns the argument's value.
fn evaluate_tensor<'a>(
    def: &TensorDef,
    graph: &Graph,
    node_value: &impl Fn(NodeId) -> &'a ArrayD<f64>,
) -> Result<(Dense, Option<Dense>), JacobianError> {
    let arg = match *def {
        TensorDef::Node(arg)
        | TensorDef::ElemDeriv { arg, .. }
        | TensorDef::Power { arg, .. }
        | TensorDef::Centered { arg, .. }
        | TensorDef::Softmax { arg, .. }
        | TensorDef::Inverse { arg } => arg,
    };
    if arg >= graph.nodes.len() {
        return Err(JacobianError::Malformed(format!(
            "tensor refers to node {arg}, the graph has {} nodes",
            graph.nodes.len()
        )));
    }
    let x = node_value(arg);
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
        TensorDef::Node(_) => return Ok((Dense::from_array(&x.view()), None)),
        TensorDef::ElemDeriv { func, .. } => x.mapv(|v| func.derivative(v)),
        TensorDef::Power { exponent, .. } => {
            if exponent.fract() == 0.0 && exponent.abs() <= f64::from(i32::MAX) {
                x.mapv(|v| v.powi(exponent as i32))
            } else {
                x.mapv(|v| v.powf(exponent))
            }
        }
        TensorDef::Centered { axis, .. } => centered(x, axis),
        TensorDef::Softmax { axis, .. } => softmax(x, axis),
        TensorDef::Inverse { .. } => inverse(x).ok_or_else(|| JacobianError::Singular {
            what: graph.text(arg).to_string(),
        })?,
    };
    let arg_value =
        matches!(def, TensorDef::ElemDeriv { .. }).then(|| Dense::from_array(&x.view()));
    Ok((Dense::from_array(&value.view()), arg_value))
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

/// Builds term plans, hoisting contractions into `arrays`.
struct Planner<'f> {
    formula: &'f Formula,
    /// For every index variable, its position in J's index if it is free.
    positions: Vec<Option<usize>>,
    /// The formula's tensors, then the hoisted contractions.
    arrays: Vec<Dense>,
    /// Hoisted contractions so far: (factors, summation indices) → array.
    hoisted: Vec<(Vec<Factor>, Vec<IndexId>, usize)>,
}

impl Planner<'_> {
    fn free_count(&self) -> usize {
        self.formula.out.len() + self.formula.input.len()
    }

    /// Plans one term: its top-level deltas and reads, and its contractions (factors
    /// connected through shared summation indices), hoisted where possible.
    fn plan_term(&mut self, term: &Term) -> Result<TermPlan, JacobianError> {
        self.check_term_indices(term)?;
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
        let mut coeff = term.coeff;
        for &s in &term.sums {
            if sums_of.iter().all(|sums| !sums.contains(&s)) {
                coeff *= self.formula.indices[s].dim as f64;
            }
        }
        let mut conds = Vec::new();
        let mut reads = Vec::new();
        let mut contractions = Vec::new();
        let mut parts = Vec::new();
        for (f, factor) in term.factors.iter().enumerate() {
            if sums_of[f].is_empty() {
                let eval = match factor {
                    Factor::Delta(a, b) => {
                        conds.push(self.cond(*a, *b, &[]));
                        PartEval::Delta(conds.len() - 1)
                    }
                    Factor::Tensor { tensor, slots } => {
                        reads.push(self.read(*tensor, slots, &[])?);
                        PartEval::Read(reads.len() - 1)
                    }
                };
                parts.push(Part {
                    factors: vec![factor.clone()],
                    sums: Vec::new(),
                    eval,
                });
            } else if group[..f].iter().all(|&g| g != group[f]) {
                let members: Vec<usize> = (f..term.factors.len())
                    .filter(|&h| group[h] == group[f])
                    .collect();
                let factors: Vec<Factor> =
                    members.iter().map(|&h| term.factors[h].clone()).collect();
                let sums: Vec<IndexId> = term
                    .sums
                    .iter()
                    .copied()
                    .filter(|s| members.iter().any(|&h| sums_of[h].contains(s)))
                    .collect();
                let eval = match self.contraction(&factors, &sums)? {
                    Planned::Hoisted(read) => {
                        reads.push(read);
                        PartEval::Read(reads.len() - 1)
                    }
                    Planned::PerEntry(contraction) => {
                        contractions.push(contraction);
                        PartEval::PerEntry(contractions.len() - 1)
                    }
                };
                parts.push(Part {
                    factors,
                    sums,
                    eval,
                });
            }
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
    fn contraction(
        &mut self,
        factors: &[Factor],
        sums: &[IndexId],
    ) -> Result<Planned, JacobianError> {
        let nfree = self.free_count();
        if nfree + sums.len() > MAX_POSITIONS {
            return Err(JacobianError::Malformed(format!(
                "a contraction over {} summation indices is too large",
                sums.len()
            )));
        }
        let mut conds = Vec::new();
        let mut reads = Vec::new();
        let mut externals: Vec<usize> = Vec::new();
        for factor in factors {
            match factor {
                Factor::Delta(a, b) => conds.push(self.cond(*a, *b, sums)),
                Factor::Tensor { tensor, slots } => reads.push(self.read(*tensor, slots, sums)?),
            }
            for slot in slots_of(factor) {
                if let Slot::Index(id) = slot
                    && let Some(p) = self.positions[id]
                    && !externals.contains(&p)
                {
                    externals.push(p);
                }
            }
        }
        externals.sort_unstable();
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
                let dense = self.hoist(factors, sums, &contraction, &externals);
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
    /// increasing order): a matrix product for `Σ_m A[x,m]·B[m,y]`, a loop otherwise.
    fn hoist(
        &self,
        factors: &[Factor],
        sums: &[IndexId],
        contraction: &Contraction,
        externals: &[usize],
    ) -> Dense {
        if let Some(product) = self.matrix_product(factors, sums) {
            return product;
        }
        let dims = self.formula.shape();
        let shape: Vec<usize> = externals.iter().map(|&p| dims[p]).collect();
        let mut free = [0; MAX_POSITIONS];
        let count: usize = shape.iter().product();
        let mut data = Vec::with_capacity(count);
        for flat in 0..count {
            let mut rest = flat;
            for (k, &p) in externals.iter().enumerate().rev() {
                free[p] = rest % shape[k];
                rest /= shape[k];
            }
            data.push(contraction.value(&self.arrays, &free));
        }
        Dense::new(shape, data)
    }

    /// `Σ_m A[x,m]·B[m,y]` (either factor in either orientation, x and y different free
    /// indices) as a matrix product over (x, y) in J's axis order, or `None` for any other
    /// contraction.
    fn matrix_product(&self, factors: &[Factor], sums: &[IndexId]) -> Option<Dense> {
        let ([a, b], [m]) = (factors, sums) else {
            return None;
        };
        // (tensor, whether the summation index is its first axis, position of the other)
        let side = |factor: &Factor| match factor {
            Factor::Tensor { tensor, slots } => match slots.as_slice() {
                [Slot::Index(s), Slot::Index(x)] if s == m && x != m => {
                    Some((*tensor, true, self.positions[*x]?))
                }
                [Slot::Index(x), Slot::Index(s)] if s == m && x != m => {
                    Some((*tensor, false, self.positions[*x]?))
                }
                _ => None,
            },
            Factor::Delta(..) => None,
        };
        let ((ta, a_sum_first, x), (tb, b_sum_first, y)) = (side(a)?, side(b)?);
        if x == y {
            return None;
        }
        let left = self.arrays[ta].matrix();
        let right = self.arrays[tb].matrix();
        let left = if a_sum_first {
            left.reversed_axes()
        } else {
            left
        };
        let right = if b_sum_first {
            right
        } else {
            right.reversed_axes()
        };
        let product = left.dot(&right);
        let product = if x < y {
            product
        } else {
            product.reversed_axes()
        };
        Some(Dense::from_array(&product.into_dyn().view()))
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
    /// forward values `values` of `graph`.
    pub fn new(
        graph: Graph,
        wrt: NodeId,
        formula: Formula,
        values: &Values,
    ) -> Result<Jacobian, JacobianError> {
        Jacobian::from_node_values(graph, wrt, formula, |id| values.get(id))
    }

    /// [`Self::new`] with the node values given by a function, however they were obtained.
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
        let formula = self.formula();
        formula
            .free()
            .into_iter()
            .map(|id| formula.indices[id].name.clone())
            .collect()
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
                    let value = arg.data[term.reads[n].offset(&s)];
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
