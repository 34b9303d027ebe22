//! How each term of a formula is evaluated, planned once when the formula is bound.
//!
//! Deltas become index comparisons, tensor factors strided reads, and the factors that
//! share summation indices are grouped into contractions. A contraction over at most two
//! free indices is hoisted: computed once into a small array (with matrix products when it
//! is a [`Chain`]), so that an entry costs O(number of factors); a contraction over more
//! free indices is summed per entry. Also what binding a formula costs before it runs
//! ([`binding_cost`]) and which node values it reads ([`needed_nodes`]).

use rayon::prelude::*;

use super::JacobianError;
use super::chain::Chain;
use super::dense::{Cond, Contraction, Dense, MAX_AXES, Read};
use crate::calculus::formula::entry_count;
use crate::calculus::render::{self, Notation};
use crate::calculus::{Factor, Formula, IndexId, Slot, TensorDef, TensorId, Term};
use crate::expr::{Graph, NodeId};
use crate::progress::Progress;
use crate::sparsity::{self, SupportPattern};

/// Multiply-adds per piece of parallel work when hoisting a contraction with a loop.
const PIECE_WORK: usize = 1 << 16;

/// How one displayed part of a term is evaluated: an index into the term's lists.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum PartEval {
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
pub(super) struct Part {
    /// The factors, in term order.
    pub(super) factors: Vec<Factor>,
    /// The summation indices of a contraction (empty otherwise).
    pub(super) sums: Vec<IndexId>,
    /// How the part is evaluated.
    pub(super) eval: PartEval,
}

/// The evaluation plan of one term.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TermPlan {
    /// The coefficient, times the range of every summation index no factor uses.
    pub(super) coeff: f64,
    /// The top-level deltas, checked first.
    pub(super) conds: Vec<Cond>,
    /// The tensor factors without summation indices and the hoisted contractions.
    pub(super) reads: Vec<Read>,
    /// The contractions summed per entry.
    pub(super) contractions: Vec<Contraction>,
    /// The parts in the order of the term's factors, for display.
    pub(super) parts: Vec<Part>,
    /// Where the term can be nonzero.
    pub(super) pattern: SupportPattern,
}

impl TermPlan {
    /// Multiply-adds evaluating this term costs at one entry: the positions of every
    /// contraction summed per entry (a hoisted contraction is one read and costs nothing
    /// more), and at least 1 for the product of the term's reads.
    pub(super) fn entry_operations(&self) -> u128 {
        let summed: u128 = self
            .contractions
            .iter()
            .map(|c| c.sum_dims.iter().map(|&d| d as u128).product::<u128>())
            .sum();
        summed.max(1)
    }
}

/// The nodes whose values binding `formula` needs (its tensors' arguments), each once, in
/// increasing order: evaluate these with [`crate::eval::evaluate_nodes`].
pub fn needed_nodes(formula: &Formula) -> Vec<NodeId> {
    let mut nodes: Vec<NodeId> = formula.tensors.iter().map(TensorDef::node).collect();
    nodes.sort_unstable();
    nodes.dedup();
    nodes
}

/// What binding a formula ([`super::BoundFormula::with_progress`]) costs beyond the node values
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
        let arg = def.node();
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

/// The plans of `formula`'s terms, whose tensors' values are `arrays` (by [`TensorId`]).
/// Hoisted contractions are appended to `arrays`, computed on all rayon threads while
/// `progress` advances by their multiply-adds; `Ok(None)` soon after `progress` is
/// cancelled.
pub(super) fn plan_terms(
    formula: &Formula,
    graph: &Graph,
    arrays: &mut Vec<Dense>,
    progress: &Progress,
) -> Result<Option<Vec<TermPlan>>, JacobianError> {
    let mut planner = Planner {
        formula,
        graph,
        positions: sparsity::free_positions(formula),
        arrays: std::mem::take(arrays),
        hoisted: Vec::new(),
        progress,
    };
    let terms = formula
        .terms
        .iter()
        .map(|term| planner.plan_term(term))
        .collect::<Result<Vec<_>, Stop>>();
    *arrays = planner.arrays;
    match terms {
        Ok(terms) => Ok(Some(terms)),
        Err(Stop::Cancelled) => Ok(None),
        Err(Stop::Failed(error)) => Err(error),
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

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::jacobian::{BoundFormula, JacobianError};

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
            let f = formula_over_ijkl(&[3, 4, 3, 5, 2, 3], tensors.clone(), terms);
            let (jac, values) = jacobian(&inputs, f.clone());
            assert_eq!(jac.bound().arrays.len(), 3);
            for index in all_indices(&jac.shape()) {
                assert!((jac.entry(&index) - naive_entry(&f, &values, &index)).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn malformed_formulas_are_rejected() {
        let g = graph(&[("A", &[3, 2])]);
        let a = filled(&[3, 2], 0);
        // A[i,m] read with m free of its term
        let f = formula_over_ijkl(
            &[3, 4, 3, 5, 2, 3],
            vec![TensorDef::Node(0)],
            vec![term(1.0, &[], vec![tensor(0, &[I, M])])],
        );
        assert!(matches!(
            BoundFormula::new(f, &g, |_| &a),
            Err(JacobianError::Malformed(_))
        ));
        // A[i,j]: j runs over 4, A's axis over 2
        let f = formula_over_ijkl(
            &[3, 4, 3, 5, 2, 3],
            vec![TensorDef::Node(0)],
            vec![term(1.0, &[], vec![tensor(0, &[I, J])])],
        );
        assert!(matches!(
            BoundFormula::new(f, &g, |_| &a),
            Err(JacobianError::Malformed(_))
        ));
    }
}
