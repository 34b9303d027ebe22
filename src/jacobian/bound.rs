//! [`BoundFormula`]: a formula bound to numbers.
//!
//! Binding evaluates every tensor the formula refers to (node values, shared, not copied;
//! f′, powers, centred values, softmax and inverses through the one set of kernels in
//! [`crate::eval::kernels`]) and plans each term ([`super::plan`]). Along a run of entries
//! (one index moving) every delta holds everywhere, nowhere or at one entry and every
//! factor is a strided read, so runs are evaluated in tight loops
//! ([`BoundFormula::add_run`]).

use std::ops::Range;
use std::sync::Arc;

use ndarray::{ArrayD, ArrayViewD};

use super::JacobianError;
use super::dense::{Cond, Dense, MAX_AXES, Scratch, scratch};
use super::plan::{self, Part, PartEval, TermPlan};
use crate::calculus::{Formula, TensorDef, TensorId};
use crate::eval::kernels;
use crate::expr::{Graph, NodeId};
use crate::progress::Progress;
use crate::sparsity;

/// Most tensor factors of a term that move along a run and are read without index
/// arithmetic (a term with more is evaluated entry by entry).
const MAX_MOVING: usize = 4;

/// Most terms of a formula whose runs are combined in shared passes (see
/// [`BoundFormula::add_run`]); further terms are added one by one.
const MAX_STREAMS: usize = 8;

/// A formula bound to numbers: its tensors evaluated and every term planned for fast
/// evaluation, contractions over at most two free indices hoisted.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundFormula {
    formula: Formula,
    /// For every index variable, its position in J's index if it is free.
    pub(super) positions: Vec<Option<usize>>,
    /// The formula's tensors (by [`TensorId`]), then the hoisted contractions.
    pub(super) arrays: Vec<Dense>,
    /// For `ElemDeriv` and `ElemSecondDeriv` tensors, the value of the argument f is applied
    /// to; for `ElemDerivOfValue`, the value f′ is computed from.
    pub(super) args: Vec<Option<Dense>>,
    /// The plan of each term.
    pub(super) terms: Vec<TermPlan>,
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
    /// threads. Advances `progress` in the units of [`super::BindingCost::work`] (the caller
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
        let Some(terms) = plan::plan_terms(&formula, graph, &mut arrays, progress)? else {
            return Ok(None);
        };
        let positions = sparsity::free_positions(&formula);
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
    pub(super) fn add_term_run(
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
    pub(super) fn term_value(&self, term: &TermPlan, s: &Scratch) -> f64 {
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
    pub(super) fn part_value(&self, term: &TermPlan, part: &Part, s: &Scratch) -> f64 {
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

/// Evaluates one tensor definition; for `ElemDeriv`, `ElemDerivOfValue` and
/// `ElemSecondDeriv` also returns the value it is computed from.
/// Advances `progress` by the entries of a derived tensor.
fn evaluate_tensor(
    def: &TensorDef,
    graph: &Graph,
    node_value: &impl Fn(NodeId) -> Option<Arc<ArrayD<f64>>>,
    progress: &Progress,
) -> Result<(Dense, Option<Dense>), JacobianError> {
    let arg = def.node();
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
        TensorDef::ElemDerivOfValue { func, .. } => x.mapv(|v| func.at(v)),
        TensorDef::ElemSecondDeriv { func, .. } => x.mapv(|v| kernels::second_derivative(func, v)),
        TensorDef::Power { exponent, .. } => kernels::power(&x, exponent),
        TensorDef::Centered { axis, .. } => kernels::centered(&x, axis),
        TensorDef::Softmax { axis, .. } => kernels::softmax(&x, axis),
        TensorDef::Inverse { .. } => {
            kernels::inverse(&x).map_err(|condition| JacobianError::Singular {
                what: graph.text(arg).to_string(),
                condition,
            })?
        }
    };
    progress.advance(x.len() as u64);
    let arg_value = matches!(
        def,
        TensorDef::ElemDeriv { .. }
            | TensorDef::ElemDerivOfValue { .. }
            | TensorDef::ElemSecondDeriv { .. }
    )
    .then(|| Dense::shared(x));
    Ok((Dense::shared(Arc::new(value)), arg_value))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use ndarray::IxDyn;

    use super::super::test_support::*;
    use super::*;
    use crate::eval;
    use crate::expr::{self, ElemFn};

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
        let f = formula_over_ijkl(&[2, 2, 2, 2, 1, 1], tensors, vec![]);
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
        let f = formula_over_ijkl(
            &[2, 2, 2, 2, 1, 1],
            vec![TensorDef::Inverse { arg: 0 }],
            vec![],
        );
        let err = BoundFormula::new(f.clone(), &g, |_| &a).unwrap_err();
        assert_eq!(
            err,
            JacobianError::Singular {
                what: "A".to_string(),
                condition: f64::INFINITY
            }
        );
        assert!(err.to_string().starts_with("A is singular or nearly so"));
        // Nearly singular beyond the limit of `inv` in forward evaluation: refused alike.
        let nearly = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1.0, 1.0, 1.0, 1.0 + 1e-14]);
        let err = BoundFormula::new(f, &g, |_| nearly.as_ref().unwrap()).unwrap_err();
        assert!(
            matches!(err, JacobianError::Singular { condition, .. } if condition > 1e14),
            "{err:?}"
        );
    }

    #[test]
    fn derived_tensors_are_the_values_forward_evaluation_computes_to_the_bit() {
        // logsumexp's derivative reads softmax(X, axis=1), det's reads inv(X): the bound
        // formula computes them with the kernels that evaluate those nodes.
        let shapes = [("X", "3x3")];
        for (derived, node) in [
            ("logsumexp(X, axis=1)", "softmax(X, axis=1)"),
            ("det(X)", "inv(X)"),
        ] {
            let (jac, inputs) = problem(derived, &shapes, "X", BTreeMap::new());
            let id = jac
                .formula()
                .tensors
                .iter()
                .position(|def| {
                    matches!(def, TensorDef::Softmax { .. } | TensorDef::Inverse { .. })
                })
                .expect("the derivative reads a softmax or an inverse");
            let shapes = [("X".to_string(), expr::parse_shape("3x3").unwrap())].into();
            let graph = expr::compile(node, &shapes).unwrap();
            let value = eval::evaluate(&graph, &inputs).unwrap().root().clone();
            let bits = |a: ArrayViewD<f64>| a.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(value.shape(), jac.bound().tensor(id).shape(), "{node}");
            assert_eq!(bits(value.view()), bits(jac.bound().tensor(id)), "{node}");
        }
    }
}
