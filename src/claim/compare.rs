//! Comparing a claimed J with the true J: the verdict, the differences and the hints.
//!
//! **Where.** Outside both structural supports both formulas are zero, so the claim and J
//! are compared on the union of the two supports only, read off the deltas of both
//! formulas ([`StructuralSupport`]). When visiting that union costs at most
//! [`EXACT_BUDGET`] entries, every entry of it is compared ([`Method::Exact`]); otherwise
//! the supports are compared structurally (exact counts of the entries only one of them
//! covers) and the values on [`SAMPLES`] random entries of the union plus the boundary
//! entries of every pattern of it, where each class of equal axes sits at its first or its
//! last position ([`Method::Sampled`]).
//!
//! **When.** For every [`Draw`] of the inputs: the problem's own, and an independent second
//! draw of the inputs that were not loaded, so that an identity cannot hold by accident.
//!
//! **How close.** A claimed value `a` agrees with J's value `b` when
//! `|a − b| ≤ 1e-9 · max(1, |a|, |b|)` ([`agrees`]); NaN agrees only with NaN, an infinity
//! only with itself.
//!
//! **Why not.** When the claim does not hold, each hint is a candidate formula built from J
//! (or from the claim) that is compared in turn exactly like the claim: a hint is reported
//! only if its candidate holds, never guessed.

use std::ops::Range;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::IndexClaim;
use crate::calculus::render::{self, Notation, Symbols};
use crate::calculus::{
    Factor, Formula, IndexId, Slot, TensorDef, Term, intern_tensor, named_nodes,
};
use crate::eval::{self, EvalError, Values};
use crate::expr::{Graph, NodeId};
use crate::inputs::Inputs;
use crate::jacobian::{self, Jacobian, JacobianError};
use crate::layout::{JacobianDims, Layout};
use crate::numfmt;
use crate::progress::Progress;
use crate::sparsity::{RunOverlap, StructuralSupport, SupportPattern, free_positions};

/// The most entries an exact comparison visits (summed over the patterns of the union).
pub const EXACT_BUDGET: u128 = 1 << 24;

/// The random entries a sampled comparison checks, besides the boundary entries.
pub const SAMPLES: usize = 4096;

/// The relative tolerance of [`agrees`].
pub const RELATIVE_TOLERANCE: f64 = 1e-9;

/// The random entries a candidate of a hint is checked on before it is compared in full.
const QUICK_SAMPLES: usize = 32;

/// The seed of the random entries of a sampled comparison (fixed: a verdict is
/// reproducible).
const SAMPLE_SEED: u64 = 0x5EED_C1A1;

/// True if a claimed value `a` and J's value `b` agree: `|a − b| ≤ 1e-9 · max(1, |a|, |b|)`;
/// NaN agrees only with NaN, an infinity only with itself.
pub fn agrees(a: f64, b: f64) -> bool {
    if a == b || (a.is_nan() && b.is_nan()) {
        return true;
    }
    a.is_finite()
        && b.is_finite()
        && (a - b).abs() <= RELATIVE_TOLERANCE * 1f64.max(a.abs()).max(b.abs())
}

/// The tolerance of [`agrees`] in words, in `notation`: `|claim − J| ≤ 1e-9·max(1,
/// |claim|, |J|)`.
pub fn tolerance_text(notation: Notation) -> String {
    let s = Symbols::of(notation);
    let at_most = match notation {
        Notation::Unicode => "≤",
        Notation::Ascii => "<=",
        Notation::Latex => "\\le",
    };
    format!(
        "|claim {} J| {at_most} 1e-9{}max(1, |claim|, |J|)",
        s.minus, s.times
    )
}

/// How a comparison chose the entries it compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Every entry of the union of both supports.
    Exact,
    /// [`SAMPLES`] random entries of the union plus its boundary entries; the supports
    /// themselves compared structurally.
    Sampled,
}

impl Method {
    /// `exact` or `sampled`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Exact => "exact",
            Method::Sampled => "sampled",
        }
    }

    /// What was compared, in words.
    pub fn description(self) -> String {
        match self {
            Method::Exact => "every entry of the union of both supports".to_string(),
            Method::Sampled => format!(
                "{SAMPLES} random entries of the union of both supports and its boundary \
                 entries (the union is too large to visit); the supports compared exactly"
            ),
        }
    }
}

/// One draw of the inputs: the forward values that J's formula, the claim and the
/// candidates of the hints are bound to.
pub struct Draw {
    graph: Graph,
    wrt: NodeId,
    values: Values,
}

impl Draw {
    /// Evaluates, at `inputs` (values for J's variables), the nodes of the claim's graph
    /// that J's formula and the claim read.
    pub fn new(truth: &Jacobian, claim: &IndexClaim, inputs: &Inputs) -> Result<Draw, EvalError> {
        let mut wanted = jacobian::needed_nodes(truth.formula());
        wanted.extend(jacobian::needed_nodes(&claim.formula));
        wanted.sort_unstable();
        wanted.dedup();
        let values = eval::evaluate_nodes(&claim.graph, inputs, &wanted, &Progress::new())?
            .expect("nobody can cancel this progress");
        Ok(Draw {
            graph: claim.graph.clone(),
            wrt: truth.wrt(),
            values,
        })
    }

    /// `formula` (over the claim's graph) bound to this draw.
    fn bind(&self, formula: &Formula) -> Result<Jacobian, JacobianError> {
        Jacobian::new(self.graph.clone(), self.wrt, formula.clone(), &self.values)
    }
}

/// The first entry, in reading order, where the claim and J differ.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// The entry (one component per axis of J).
    pub index: Vec<usize>,
    /// The draw of the inputs where they differ there (0: the problem's own inputs).
    pub draw: usize,
    /// The claim's value.
    pub claim_value: f64,
    /// J's value.
    pub true_value: f64,
    /// The claim's terms at the entry ([`jacobian::TermBreakdown::line`]).
    pub claim_terms: Vec<String>,
    /// J's terms at the entry.
    pub true_terms: Vec<String>,
}

/// What explains a claim that does not hold; each one checked by comparing a candidate.
#[derive(Debug, Clone, PartialEq)]
pub enum Hint {
    /// The claim is `factor` × J.
    Scale {
        /// The constant factor.
        factor: f64,
    },
    /// The claim is J with its axes permuted: claim[i,j,k,l] = J[`reads`].
    Permutation {
        /// J's axis names in the order the claim reads them (`k, l, i, j`).
        reads: Vec<String>,
        /// The layout that is this permutation, if one is.
        layout: Option<Layout>,
        /// The two axes swapped, if the permutation swaps two axes only.
        swapped: Option<(String, String)>,
    },
    /// A tensor of the claim is read with two axes swapped: with `meant` for `written`, the
    /// claim holds.
    TransposedFactor {
        /// The factor as the claim writes it: `W[l,j]`.
        written: String,
        /// The factor that makes the claim hold: `W[j,l]`.
        meant: String,
    },
    /// Terms of J the claim lacks (in J's notation); with them (and without the claim's
    /// extra terms) the claim holds.
    MissingTerms {
        /// The terms, as J writes them.
        terms: Vec<String>,
    },
    /// Terms of the claim J does not have; without them (and with the missing ones) the
    /// claim holds.
    ExtraTerms {
        /// The terms, as the claim writes them.
        terms: Vec<String>,
    },
    /// The claim is J without a delta: it is nonzero where the delta is 0.
    MissingDelta {
        /// The delta: `δ(i,k)`.
        delta: String,
        /// Where the claim is nonzero but J is zero: `i ≠ k`.
        condition: String,
    },
    /// The claim is J without one of its tensor factors (a link of the chain rule
    /// forgotten: `relu′(Z1)[i,j]`), taken out of every term that has it.
    MissingFactor {
        /// The factor, as J writes it.
        factor: String,
    },
}

impl Hint {
    /// The kind, as JSON names it: `scale`, `permutation`, `transposed_factor`,
    /// `missing_terms`, `extra_terms`, `missing_delta`, `missing_factor`.
    pub fn kind(&self) -> &'static str {
        match self {
            Hint::Scale { .. } => "scale",
            Hint::Permutation { .. } => "permutation",
            Hint::TransposedFactor { .. } => "transposed_factor",
            Hint::MissingTerms { .. } => "missing_terms",
            Hint::ExtraTerms { .. } => "extra_terms",
            Hint::MissingDelta { .. } => "missing_delta",
            Hint::MissingFactor { .. } => "missing_factor",
        }
    }

    /// The hint as one sentence in `notation`, about a J with axes `axes` (`i, j, k, l`).
    pub fn sentence(&self, axes: &[String], notation: Notation) -> String {
        let s = Symbols::of(notation);
        let swap = match notation {
            Notation::Unicode => "↔",
            Notation::Ascii | Notation::Latex => "<->",
        };
        let claim_at = format!("claim[{}]", axes.join(","));
        match self {
            Hint::Scale { factor } => {
                let cross = match notation {
                    Notation::Unicode => "×",
                    Notation::Ascii | Notation::Latex => "*",
                };
                format!(
                    "the claim is {} {cross} J: a constant factor",
                    number_text(*factor, notation)
                )
            }
            Hint::Permutation {
                reads,
                layout,
                swapped,
            } => {
                let how = match (layout, swapped) {
                    (Some(layout), _) => format!("J in layout {layout}"),
                    (None, Some((a, b))) => format!("J with axes {a}{swap}{b} swapped"),
                    (None, None) => "J with its axes permuted".to_string(),
                };
                format!("the claim is {how}: {claim_at} = J[{}]", reads.join(","))
            }
            Hint::TransposedFactor { written, meant } => {
                format!("a tensor used transposed: with {meant} for {written} the claim holds")
            }
            Hint::MissingTerms { terms } => {
                format!("the claim lacks J's terms {}", terms.join(", "))
            }
            Hint::ExtraTerms { terms } => {
                format!("the claim has terms J does not have: {}", terms.join(", "))
            }
            Hint::MissingDelta { delta, condition } => format!(
                "the claim is J without {delta}: your formula is nonzero for {condition}, \
                 where J is 0 {} J needs {delta}",
                s.em_dash
            ),
            Hint::MissingFactor { factor } => {
                format!("the claim is J without the factor {factor}: J has it")
            }
        }
    }
}

/// The verdict on an index claim, with the diagnosis when it does not hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// True if the claim equals J at every entry compared, in every draw.
    pub holds: bool,
    /// How the entries compared were chosen.
    pub method: Method,
    /// The number of distinct entries compared (in each draw).
    pub entries: u128,
    /// The number of draws of the inputs compared.
    pub draws: usize,
    /// Entries compared where the claim and J differ in some draw.
    pub differing: u128,
    /// Entries where the claim can be nonzero but J is structurally zero (exact).
    pub claim_only: u128,
    /// Entries where J can be nonzero but the claim is structurally zero (exact).
    pub true_only: u128,
    /// The first difference in reading order, if any.
    pub first_difference: Option<Difference>,
    /// The checked hints (empty when the claim holds).
    pub hints: Vec<Hint>,
}

/// Compares `claim` with the true J (`truth`) in every draw, and diagnoses a claim that
/// does not hold; texts (term lines, hints) are written in `notation`. The claim must
/// have J's shape, and every draw be made with [`Draw::new`] for this claim.
pub fn compare(
    truth: &Jacobian,
    claim: &IndexClaim,
    draws: &[Draw],
    notation: Notation,
) -> Result<Comparison, JacobianError> {
    if claim.formula.shape() != truth.shape() {
        return Err(JacobianError::Malformed(format!(
            "the claim has shape {:?}, J has {:?}",
            claim.formula.shape(),
            truth.shape()
        )));
    }
    let truth_bound = bind_all(draws, truth.formula())?;
    let claim_bound = bind_all(draws, &claim.formula)?;
    let union = union_support(&[truth.formula(), &claim.formula]);
    let plan = Plan::new(&union);
    let tally = plan.tally(&truth_bound, &claim_bound);
    let everywhere = union.count();
    let mut comparison = Comparison {
        holds: tally.differing == 0,
        method: plan.method(),
        entries: tally.entries,
        draws: draws.len(),
        differing: tally.differing,
        claim_only: everywhere - truth.support().count(),
        true_only: everywhere - StructuralSupport::new(&claim.formula).count(),
        first_difference: None,
        hints: Vec::new(),
    };
    if let Some(index) = &tally.first {
        comparison.first_difference = Some(difference(index, &claim_bound, &truth_bound, notation));
        let diagnosis = Diagnosis {
            truth: truth.formula(),
            claim,
            draws,
            truth_bound: &truth_bound,
            claim_bound: &claim_bound,
            notation,
        };
        comparison.hints = diagnosis.hints(&comparison, tally.largest.as_deref())?;
    }
    Ok(comparison)
}

/// `formula` bound to every draw.
fn bind_all(draws: &[Draw], formula: &Formula) -> Result<Vec<Jacobian>, JacobianError> {
    draws.iter().map(|draw| draw.bind(formula)).collect()
}

/// The first difference at `index`: the values and term lines of the first draw where the
/// claim and J differ there.
fn difference(
    index: &[usize],
    claim: &[Jacobian],
    truth: &[Jacobian],
    notation: Notation,
) -> Difference {
    let draw = (0..claim.len())
        .find(|&d| !agrees(claim[d].entry(index), truth[d].entry(index)))
        .expect("a difference is a difference in some draw");
    let lines = |jac: &Jacobian| {
        jac.breakdown(index, notation)
            .iter()
            .map(|term| term.line())
            .collect()
    };
    Difference {
        index: index.to_vec(),
        draw,
        claim_value: claim[draw].entry(index),
        true_value: truth[draw].entry(index),
        claim_terms: lines(&claim[draw]),
        true_terms: lines(&truth[draw]),
    }
}

/// The support of all `formulas` together (each with J's free indices first, in J's
/// order): the union of their terms' patterns. A delta that reads a summation index is
/// left out, which can only make a pattern larger.
fn union_support(formulas: &[&Formula]) -> StructuralSupport {
    let base = formulas[0];
    let free = base.free();
    let mut terms = Vec::new();
    for formula in formulas {
        let positions = free_positions(formula);
        let slot = |slot: &Slot| match *slot {
            Slot::Index(id) => positions[id].map(|p| Slot::Index(free[p])),
            Slot::Fixed(c) => Some(Slot::Fixed(c)),
        };
        for term in &formula.terms {
            let factors = term
                .factors
                .iter()
                .filter_map(|factor| match factor {
                    Factor::Delta(a, b) => Some(Factor::Delta(slot(a)?, slot(b)?)),
                    Factor::Tensor { .. } => None,
                })
                .collect();
            terms.push(Term {
                coeff: term.coeff,
                sums: Vec::new(),
                factors,
            });
        }
    }
    StructuralSupport::new(&Formula {
        tensors: Vec::new(),
        terms,
        ..base.clone()
    })
}

/// The entries a comparison visits.
enum Plan {
    /// Every entry of the union.
    Every(StructuralSupport),
    /// These entries, in reading order.
    Listed(Vec<Vec<usize>>),
}

/// What comparing two bound formulas on the entries of a [`Plan`] found.
struct Tally {
    /// Distinct entries compared.
    entries: u128,
    /// Entries where the two differ in some draw.
    differing: u128,
    /// The first of them in reading order.
    first: Option<Vec<usize>>,
    /// An entry where `a`'s first draw is largest in magnitude (nonzero), if any.
    largest: Option<Vec<usize>>,
    /// That magnitude.
    largest_value: f64,
}

impl Tally {
    /// Records entry `index` with the values `a[d]`, `b[d]` of each draw.
    fn record(
        &mut self,
        index: &[usize],
        a: impl Fn(usize) -> f64,
        b: impl Fn(usize) -> f64,
        draws: usize,
    ) {
        self.entries += 1;
        if (0..draws).any(|d| !agrees(b(d), a(d))) {
            self.differing += 1;
            if self.first.as_deref().is_none_or(|first| index < first) {
                self.first = Some(index.to_vec());
            }
        }
        let size = a(0).abs();
        if size > self.largest_value {
            self.largest_value = size;
            self.largest = Some(index.to_vec());
        }
    }
}

impl Plan {
    /// The exact plan if the union is small enough, else the sampled one.
    fn new(union: &StructuralSupport) -> Plan {
        let work: u128 = union.patterns().iter().map(SupportPattern::count).sum();
        if work <= EXACT_BUDGET {
            Plan::Every(union.clone())
        } else {
            Plan::Listed(sampled_entries(union, SAMPLES))
        }
    }

    /// The method of this plan.
    fn method(&self) -> Method {
        match self {
            Plan::Every(_) => Method::Exact,
            Plan::Listed(_) => Method::Sampled,
        }
    }

    /// Compares `a` and `b` (one binding per draw) on the plan's entries.
    fn tally(&self, a: &[Jacobian], b: &[Jacobian]) -> Tally {
        let mut tally = Tally {
            entries: 0,
            differing: 0,
            first: None,
            largest: None,
            largest_value: 0.0,
        };
        let draws = a.len();
        match self {
            Plan::Listed(entries) => {
                for index in entries {
                    let (va, vb): (Vec<f64>, Vec<f64>) = (0..draws)
                        .map(|d| (a[d].entry(index), b[d].entry(index)))
                        .unzip();
                    tally.record(index, |d| va[d], |d| vb[d], draws);
                }
            }
            Plan::Every(union) => {
                let full: Vec<Range<usize>> = union.dims().iter().map(|&d| 0..d).collect();
                let patterns = union.patterns();
                let mut va = vec![Vec::new(); draws];
                let mut vb = vec![Vec::new(); draws];
                for (n, pattern) in patterns.iter().enumerate() {
                    let earlier = &patterns[..n];
                    pattern.for_each_run_in_box(&full, |index, axes, first, len| {
                        let overlaps: Vec<RunOverlap> = earlier
                            .iter()
                            .map(|p| p.run_overlap(index, axes, first, len))
                            .collect();
                        if overlaps.contains(&RunOverlap::All) {
                            return;
                        }
                        for d in 0..draws {
                            va[d].resize(len, 0.0);
                            vb[d].resize(len, 0.0);
                            a[d].bound().write_run(index, axes, first, &mut va[d]);
                            b[d].bound().write_run(index, axes, first, &mut vb[d]);
                        }
                        let mut entry = index.to_vec();
                        for e in 0..len {
                            if overlaps.iter().any(|o| o.contains(e)) {
                                continue;
                            }
                            for &p in axes {
                                entry[p] = first + e;
                            }
                            tally.record(&entry, |d| va[d][e], |d| vb[d][e], draws);
                        }
                    });
                }
            }
        }
        tally
    }
}

/// The boundary entries of every pattern of `union` (each class of equal axes at its first
/// or its last position) and `samples` random entries of it (a pattern drawn in proportion
/// to its size, then an entry of it), without repeats, in reading order.
fn sampled_entries(union: &StructuralSupport, samples: usize) -> Vec<Vec<usize>> {
    let full: Vec<Range<usize>> = union.dims().iter().map(|&d| 0..d).collect();
    let patterns = union.patterns();
    let mut entries = Vec::new();
    for pattern in patterns {
        let count = pattern.count();
        let (lo, hi) = (
            entry_at(pattern, &full, 0),
            entry_at(pattern, &full, count - 1),
        );
        for corner in 0..1usize << full.len() {
            let ranges: Vec<Range<usize>> = (0..full.len())
                .map(|p| {
                    let at = if corner >> p & 1 == 1 { hi[p] } else { lo[p] };
                    at..at + 1
                })
                .collect();
            pattern.for_each_in_box(&ranges, |index| entries.push(index.to_vec()));
        }
    }
    let total: u128 = patterns.iter().map(SupportPattern::count).sum();
    let mut rng = ChaCha8Rng::seed_from_u64(SAMPLE_SEED);
    for _ in 0..samples {
        let mut offset = rng.random_range(0..total);
        for pattern in patterns {
            let count = pattern.count();
            if offset < count {
                entries.push(entry_at(pattern, &full, offset));
                break;
            }
            offset -= count;
        }
    }
    entries.sort_unstable();
    entries.dedup();
    entries
}

/// Entry number `offset` of `pattern` (in its enumeration order).
fn entry_at(pattern: &SupportPattern, full: &[Range<usize>], offset: u128) -> Vec<usize> {
    let mut entry = Vec::new();
    pattern.for_each_run_in_box_part(full, offset, 1, |index, _, _, _| entry = index.to_vec());
    entry
}

/// What the hints are checked with: both formulas, the draws and both bindings.
struct Diagnosis<'a> {
    truth: &'a Formula,
    claim: &'a IndexClaim,
    draws: &'a [Draw],
    truth_bound: &'a [Jacobian],
    claim_bound: &'a [Jacobian],
    notation: Notation,
}

/// Which bindings a candidate is compared with.
#[derive(Clone, Copy)]
enum Target {
    /// J.
    Truth,
    /// The claim.
    Claim,
}

impl Diagnosis<'_> {
    /// Every hint whose candidate holds: a constant factor, a permutation of the axes, a
    /// transposed tensor, a missing delta, a missing factor; missing and extra terms only
    /// when none of those explains the claim.
    fn hints(
        &self,
        comparison: &Comparison,
        largest: Option<&[usize]>,
    ) -> Result<Vec<Hint>, JacobianError> {
        let mut hints = Vec::new();
        let same_support = comparison.claim_only == 0 && comparison.true_only == 0;
        if let (true, Some(index)) = (same_support, largest) {
            hints.extend(self.scale(index)?);
        }
        hints.extend(self.permutation()?);
        hints.extend(self.transposed_factors()?);
        hints.extend(self.missing_deltas()?);
        hints.extend(self.missing_factors()?);
        if hints.is_empty() {
            hints.extend(self.terms()?);
        }
        Ok(hints)
    }

    /// True if `candidate` (a formula over the claim's graph) equals the target in every
    /// draw: checked on a few entries first, then like the claim itself.
    fn holds(&self, candidate: &Formula, target: Target) -> Result<bool, JacobianError> {
        let (target_formula, target_bound) = match target {
            Target::Truth => (self.truth, self.truth_bound),
            Target::Claim => (&self.claim.formula, self.claim_bound),
        };
        let bound = bind_all(self.draws, candidate)?;
        let union = union_support(&[target_formula, candidate]);
        let quick = Plan::Listed(sampled_entries(&union, QUICK_SAMPLES));
        if quick.tally(target_bound, &bound).differing > 0 {
            return Ok(false);
        }
        Ok(Plan::new(&union).tally(target_bound, &bound).differing == 0)
    }

    /// The claim as c × J, c read at the entry where J is largest.
    fn scale(&self, index: &[usize]) -> Result<Option<Hint>, JacobianError> {
        let ratio = self.claim_bound[0].entry(index) / self.truth_bound[0].entry(index);
        let factor = simple_number(ratio);
        if !factor.is_finite() || factor == 0.0 || agrees(factor, 1.0) {
            return Ok(None);
        }
        let mut candidate = self.truth.clone();
        for term in &mut candidate.terms {
            term.coeff *= factor;
        }
        Ok(self
            .holds(&candidate, Target::Claim)?
            .then_some(Hint::Scale { factor }))
    }

    /// The claim as J with its axes permuted (axes of equal dims only): the first
    /// permutation, fewest axes moved first, whose support is the claim's and whose
    /// candidate holds (on J's support, several permutations can read the same entries).
    fn permutation(&self) -> Result<Option<Hint>, JacobianError> {
        let free = self.truth.free();
        let dims = self.truth.shape();
        let names = self.truth.axis_names();
        let claim_count = StructuralSupport::new(&self.claim.formula).count();
        for sigma in permutations(&dims) {
            let rename = |slot: Slot| match slot {
                Slot::Index(id) => match free.iter().position(|&f| f == id) {
                    Some(p) => Slot::Index(free[sigma[p]]),
                    None => slot,
                },
                Slot::Fixed(_) => slot,
            };
            let candidate = with_factors(self.truth, |_, factor| factor.map_slots(rename));
            let union = union_support(&[&candidate, &self.claim.formula]).count();
            if union != claim_count || union != StructuralSupport::new(&candidate).count() {
                continue;
            }
            if !self.holds(&candidate, Target::Claim)? {
                continue;
            }
            let moved: Vec<usize> = (0..sigma.len()).filter(|&p| sigma[p] != p).collect();
            return Ok(Some(Hint::Permutation {
                reads: sigma.iter().map(|&q| names[q].clone()).collect(),
                layout: layout_of(&self.truth_bound[0], &sigma),
                swapped: match moved[..] {
                    [a, b] => Some((names[a].clone(), names[b].clone())),
                    _ => None,
                },
            }));
        }
        Ok(None)
    }

    /// The claim with one tensor factor read with two of its slots swapped, compared with
    /// J (slots of index variables of equal dims only).
    fn transposed_factors(&self) -> Result<Vec<Hint>, JacobianError> {
        let claim = &self.claim.formula;
        let mut hints = Vec::new();
        for (t, term) in claim.terms.iter().enumerate() {
            for (f, factor) in term.factors.iter().enumerate() {
                let Factor::Tensor { tensor, slots } = factor else {
                    continue;
                };
                for a in 0..slots.len() {
                    for b in a + 1..slots.len() {
                        let (Slot::Index(x), Slot::Index(y)) = (slots[a], slots[b]) else {
                            continue;
                        };
                        if x == y || claim.indices[x].dim != claim.indices[y].dim {
                            continue;
                        }
                        let mut swapped = slots.clone();
                        swapped.swap(a, b);
                        let meant = Factor::Tensor {
                            tensor: *tensor,
                            slots: swapped,
                        };
                        let candidate = with_factors(claim, |at, old| {
                            if at == (t, f) {
                                meant.clone()
                            } else {
                                old.clone()
                            }
                        });
                        if self.holds(&candidate, Target::Truth)? {
                            hints.push(Hint::TransposedFactor {
                                written: self.claim_factor_text(factor),
                                meant: self.claim_factor_text(&meant),
                            });
                        }
                    }
                }
            }
        }
        Ok(hints)
    }

    /// A tensor factor of the claim as a hint writes it: in J's notation, except that a
    /// tensor the claim reads from an expression of its own (none of `explain`'s names) is
    /// written as that expression, `(B @ A)[l,k]`, not with a name the claim never used.
    fn claim_factor_text(&self, factor: &Factor) -> String {
        let (claim, graph) = (&self.claim.formula, &self.claim.graph);
        let text = render::render_factor(claim, graph, factor, self.notation, None);
        let Factor::Tensor { tensor, .. } = factor else {
            return text;
        };
        let TensorDef::Node(node) = claim.tensors[*tensor] else {
            return text;
        };
        if named_nodes(self.truth, graph)
            .iter()
            .any(|&(_, n)| n == node)
        {
            return text;
        }
        let slots = text.find('[').map_or("", |at| &text[at..]);
        format!("{}{slots}", render::source_text(graph, node))
    }

    /// J without one of its deltas between free indices (or a free index and a
    /// position), taken out of every term that has it, compared with the claim.
    fn missing_deltas(&self) -> Result<Vec<Hint>, JacobianError> {
        let positions = free_positions(self.truth);
        let is_free = |slot: &Slot| match *slot {
            Slot::Index(id) => positions[id].is_some(),
            Slot::Fixed(_) => true,
        };
        let mut deltas: Vec<(Slot, Slot)> = Vec::new();
        for factor in self.truth.terms.iter().flat_map(|t| &t.factors) {
            if let Factor::Delta(a, b) = factor {
                let pair = (*a.min(b), *a.max(b));
                if is_free(a) && is_free(b) && !deltas.contains(&pair) {
                    deltas.push(pair);
                }
            }
        }
        let mut hints = Vec::new();
        for (a, b) in deltas {
            let mut candidate = self.truth.clone();
            for term in &mut candidate.terms {
                term.factors.retain(|factor| {
                    *factor != Factor::Delta(a, b) && *factor != Factor::Delta(b, a)
                });
            }
            if self.holds(&candidate, Target::Claim)? {
                let side = |slot: Slot| match slot {
                    Slot::Index(id) => self.truth.indices[id].name.clone(),
                    Slot::Fixed(c) => c.to_string(),
                };
                let differ = match self.notation {
                    Notation::Unicode => "≠",
                    Notation::Ascii => "!=",
                    Notation::Latex => "\\neq",
                };
                let delta = Factor::Delta(a, b);
                hints.push(Hint::MissingDelta {
                    delta: render::render_factor(
                        self.truth,
                        &self.claim.graph,
                        &delta,
                        self.notation,
                        None,
                    ),
                    condition: format!("{} {differ} {}", side(a), side(b)),
                });
            }
        }
        Ok(hints)
    }

    /// J without one of its tensor factors, taken out of every term that has it, compared
    /// with the claim.
    fn missing_factors(&self) -> Result<Vec<Hint>, JacobianError> {
        let mut factors: Vec<&Factor> = Vec::new();
        for factor in self.truth.terms.iter().flat_map(|t| &t.factors) {
            if matches!(factor, Factor::Tensor { .. }) && !factors.contains(&factor) {
                factors.push(factor);
            }
        }
        let mut hints = Vec::new();
        for factor in factors {
            let mut candidate = self.truth.clone();
            for term in &mut candidate.terms {
                term.factors.retain(|f| f != factor);
            }
            if self.holds(&candidate, Target::Claim)? {
                hints.push(Hint::MissingFactor {
                    factor: render::render_factor(
                        self.truth,
                        &self.claim.graph,
                        factor,
                        self.notation,
                        None,
                    ),
                });
            }
        }
        Ok(hints)
    }

    /// Terms of J missing from the claim and terms of the claim J lacks: the terms of the
    /// two are paired where they are equal one by one, and the hint holds if J without its
    /// unpaired terms, plus the claim's unpaired terms, is the claim. Nothing when no term
    /// pairs (then every term differs, which a hint would not help with).
    fn terms(&self) -> Result<Vec<Hint>, JacobianError> {
        let claim = &self.claim.formula;
        let single = |formula: &Formula, term: &Term| Formula {
            terms: vec![term.clone()],
            ..formula.clone()
        };
        let mut paired = vec![false; self.truth.terms.len()];
        let mut extra = Vec::new();
        for term in &claim.terms {
            let one = single(claim, term);
            let mut found = None;
            for (n, candidate) in self.truth.terms.iter().enumerate() {
                if !paired[n] && self.terms_equal(&one, &single(self.truth, candidate))? {
                    found = Some(n);
                    break;
                }
            }
            match found {
                Some(n) => paired[n] = true,
                None => extra.push(term),
            }
        }
        if !paired.contains(&true) {
            return Ok(Vec::new());
        }
        let missing: Vec<&Term> = self
            .truth
            .terms
            .iter()
            .zip(&paired)
            .filter(|(_, p)| !**p)
            .map(|(term, _)| term)
            .collect();
        let mut candidate = Formula {
            terms: self
                .truth
                .terms
                .iter()
                .zip(&paired)
                .filter(|(_, p)| **p)
                .map(|(term, _)| term.clone())
                .collect(),
            ..self.truth.clone()
        };
        for term in &extra {
            append_term(&mut candidate, claim, term);
        }
        if !self.holds(&candidate, Target::Claim)? {
            return Ok(Vec::new());
        }
        let graph = &self.claim.graph;
        let names = |formula: &Formula, terms: &[&Term]| -> Vec<String> {
            terms
                .iter()
                .map(|term| render::render_term(formula, graph, term, self.notation))
                .collect()
        };
        let mut hints = Vec::new();
        if !missing.is_empty() {
            hints.push(Hint::MissingTerms {
                terms: names(self.truth, &missing),
            });
        }
        if !extra.is_empty() {
            hints.push(Hint::ExtraTerms {
                terms: names(claim, &extra),
            });
        }
        Ok(hints)
    }

    /// True if two one-term formulas (of the claim and of J) are equal in every draw.
    fn terms_equal(
        &self,
        claim_term: &Formula,
        truth_term: &Formula,
    ) -> Result<bool, JacobianError> {
        let a = bind_all(self.draws, truth_term)?;
        let b = bind_all(self.draws, claim_term)?;
        let union = union_support(&[truth_term, claim_term]);
        let quick = Plan::Listed(sampled_entries(&union, QUICK_SAMPLES));
        if quick.tally(&a, &b).differing > 0 {
            return Ok(false);
        }
        Ok(Plan::new(&union).tally(&a, &b).differing == 0)
    }
}

/// `formula` with every factor replaced by `f((term, factor), factor)`.
fn with_factors(formula: &Formula, f: impl Fn((usize, usize), &Factor) -> Factor) -> Formula {
    let terms = formula
        .terms
        .iter()
        .enumerate()
        .map(|(t, term)| Term {
            factors: term
                .factors
                .iter()
                .enumerate()
                .map(|(n, factor)| f((t, n), factor))
                .collect(),
            ..term.clone()
        })
        .collect();
    Formula {
        terms,
        ..formula.clone()
    }
}

/// Appends `term` of `from` to `formula`: free indices matched by position, summation
/// indices and tensors carried over.
fn append_term(formula: &mut Formula, from: &Formula, term: &Term) {
    let free = formula.free();
    let positions = free_positions(from);
    let mut index_map: Vec<Option<IndexId>> =
        positions.iter().map(|p| p.map(|p| free[p])).collect();
    for &sum in &term.sums {
        formula.indices.push(from.indices[sum].clone());
        index_map[sum] = Some(formula.indices.len() - 1);
    }
    let map_slot = |slot: Slot| match slot {
        Slot::Index(id) => Slot::Index(index_map[id].expect("a term reads its own indices")),
        Slot::Fixed(_) => slot,
    };
    let mut factors = Vec::new();
    for factor in &term.factors {
        let factor = match factor.map_slots(map_slot) {
            Factor::Tensor { tensor, slots } => {
                let def = from.tensors[tensor].clone();
                let tensor = intern_tensor(&mut formula.tensors, def);
                Factor::Tensor { tensor, slots }
            }
            delta => delta,
        };
        factors.push(factor);
    }
    formula.terms.push(Term {
        coeff: term.coeff,
        sums: term.sums.iter().map(|&s| index_map[s].unwrap()).collect(),
        factors,
    });
}

/// Every permutation σ of J's axes other than the identity that keeps each axis's
/// dimension (`dims[σ[p]] == dims[p]`): claim[α] = J[α_σ(0), α_σ(1), …]; those that
/// move fewer axes first.
fn permutations(dims: &[usize]) -> Vec<Vec<usize>> {
    fn extend(dims: &[usize], prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        let p = prefix.len();
        if p == dims.len() {
            if prefix.iter().enumerate().any(|(p, &q)| p != q) {
                out.push(prefix.clone());
            }
            return;
        }
        for q in 0..dims.len() {
            if dims[q] == dims[p] && !prefix.contains(&q) {
                prefix.push(q);
                extend(dims, prefix, out);
                prefix.pop();
            }
        }
    }
    let mut out = Vec::new();
    extend(dims, &mut Vec::new(), &mut out);
    out.sort_by_key(|sigma| sigma.iter().enumerate().filter(|&(p, &q)| p != q).count());
    out
}

/// The layout of J (`in+out`) that reads J's entries as the permutation `sigma` does, if
/// one does: claim[α] = J[α_σ(0), …] is J in layout L when L puts entry x of J at α.
fn layout_of(truth: &Jacobian, sigma: &[usize]) -> Option<Layout> {
    let dims = JacobianDims::of(truth);
    let shape = truth.shape();
    Layout::ALL.into_iter().find(|layout| {
        layout.shape(&dims) == shape
            && *layout != Layout::OutIn
            && corner_indices(&shape).iter().all(|alpha| {
                let x: Vec<usize> = sigma.iter().map(|&q| alpha[q]).collect();
                layout.position(&dims, &x) == *alpha
            })
    })
}

/// Indices of J that tell permutations apart: each axis at its last position alone, and
/// every axis at a distinct position where the dims allow.
fn corner_indices(shape: &[usize]) -> Vec<Vec<usize>> {
    let mut indices: Vec<Vec<usize>> = (0..shape.len())
        .map(|p| {
            let mut index = vec![0; shape.len()];
            index[p] = shape[p] - 1;
            index
        })
        .collect();
    indices.push((0..shape.len()).map(|p| p % shape[p]).collect());
    indices
}

/// `x` as a simple fraction with a denominator up to 12 if it is one (up to the
/// tolerance): 2, −1, 0.5; else `x`.
fn simple_number(x: f64) -> f64 {
    (1..=12)
        .map(|d| (x * d as f64).round() / d as f64)
        .find(|&q| agrees(q, x))
        .unwrap_or(x)
}

/// A number for people (five significant digits), with the minus sign of `notation`:
/// `2`, `−1`, `0.5`.
pub fn number_text(x: f64, notation: Notation) -> String {
    let text = numfmt::short(x);
    match text.strip_prefix('-') {
        Some(magnitude) => format!("{}{magnitude}", Symbols::of(notation).minus),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claim::ClaimKind;
    use crate::problem::{Problem, ProblemSpec};

    /// The problem `source` with `shapes`, differentiated by `wrt`, at seed 0 and seed 1.
    fn problems(source: &str, shapes: &[&str], wrt: &str) -> (Problem, Problem) {
        let spec = ProblemSpec {
            expression: source.to_string(),
            shapes: shapes.iter().map(|s| s.to_string()).collect(),
            loads: Vec::new(),
            wrt: Some(wrt.to_string()),
            seed: 0,
            max_memory: None,
        };
        let other = Problem::build(ProblemSpec {
            seed: 1,
            ..spec.clone()
        })
        .unwrap();
        (Problem::build(spec).unwrap(), other)
    }

    /// A claim of `formula` over J's own graph.
    fn claim_of(problem: &Problem, formula: Formula) -> IndexClaim {
        IndexClaim {
            kind: ClaimKind::Index,
            text: String::new(),
            graph: problem.graph().clone(),
            formula,
        }
    }

    /// `claim` compared with J in both draws.
    fn compared(problems: &(Problem, Problem), claim: &IndexClaim) -> Comparison {
        let truth = &problems.0.jacobian;
        let draws = [
            Draw::new(truth, claim, &problems.0.inputs).unwrap(),
            Draw::new(truth, claim, &problems.1.inputs).unwrap(),
        ];
        compare(truth, claim, &draws, Notation::Unicode).unwrap()
    }

    /// Every index of a shape, row-major.
    fn all_indices(dims: &[usize]) -> Vec<Vec<usize>> {
        dims.iter().fold(vec![vec![]], |prefixes, &d| {
            prefixes
                .into_iter()
                .flat_map(|prefix| (0..d).map(move |v| [prefix.clone(), vec![v]].concat()))
                .collect()
        })
    }

    /// True if some term of `formula` has every delta between free indices or positions
    /// holding at `index`: a brute-force structural support, apart from `sparsity`.
    fn brute_nonzero(formula: &Formula, index: &[usize]) -> bool {
        let free = formula.free();
        let value = |slot: &Slot| match *slot {
            Slot::Index(id) => free.iter().position(|&f| f == id).map(|p| index[p]),
            Slot::Fixed(c) => Some(c),
        };
        formula.terms.iter().any(|term| {
            term.factors.iter().all(|factor| match factor {
                Factor::Delta(a, b) => match (value(a), value(b)) {
                    (Some(x), Some(y)) => x == y,
                    _ => true,
                },
                Factor::Tensor { .. } => true,
            })
        })
    }

    /// The comparison's counts checked against a dense comparison of every entry.
    fn assert_counts_match_brute_force(
        problems: &(Problem, Problem),
        claim: &IndexClaim,
        found: &Comparison,
    ) {
        assert_eq!(found.method, Method::Exact);
        let truth = &problems.0.jacobian;
        let bind = |p: &Problem, formula: &Formula| {
            let draw = Draw::new(truth, claim, &p.inputs).unwrap();
            draw.bind(formula).unwrap()
        };
        let pairs: Vec<(Jacobian, Jacobian)> = [&problems.0, &problems.1]
            .iter()
            .map(|p| (bind(p, truth.formula()), bind(p, &claim.formula)))
            .collect();
        let (mut differing, mut claim_only, mut true_only) = (0u128, 0u128, 0u128);
        let mut first = None;
        for index in all_indices(&truth.shape()) {
            if pairs
                .iter()
                .any(|(t, c)| !agrees(c.entry(&index), t.entry(&index)))
            {
                differing += 1;
                first.get_or_insert(index.clone());
            }
            let (in_truth, in_claim) = (
                brute_nonzero(truth.formula(), &index),
                brute_nonzero(&claim.formula, &index),
            );
            claim_only += u128::from(in_claim && !in_truth);
            true_only += u128::from(in_truth && !in_claim);
        }
        assert_eq!(found.differing, differing);
        assert_eq!((found.claim_only, found.true_only), (claim_only, true_only));
        assert_eq!(
            found.first_difference.as_ref().map(|d| d.index.clone()),
            first
        );
    }

    /// The kinds of the hints.
    fn kinds(found: &Comparison) -> Vec<&'static str> {
        found.hints.iter().map(Hint::kind).collect()
    }

    #[test]
    fn j_holds_against_itself_in_both_draws() {
        for (source, shapes, wrt) in [
            ("X @ W.T", &["X=3x5", "W=4x5"][..], "X"),
            ("softmax(X @ W, axis=1)", &["X=2x3", "W=3x4"], "X"),
            ("relu(X @ W1) @ W2", &["X=2x3", "W1=3x4", "W2=4x2"], "W1"),
        ] {
            let problems = problems(source, shapes, wrt);
            let claim = claim_of(&problems.0, problems.0.jacobian.formula().clone());
            let found = compared(&problems, &claim);
            assert!(found.holds, "{source}: {found:?}");
            assert_eq!((found.draws, found.method), (2, Method::Exact));
            assert_eq!(found.entries, problems.0.jacobian.support().count());
            assert_eq!(
                (found.differing, found.claim_only, found.true_only),
                (0, 0, 0)
            );
            assert!(found.hints.is_empty() && found.first_difference.is_none());
        }
    }

    #[test]
    fn a_constant_factor_is_named() {
        let problems = problems("X @ W.T", &["X=3x5", "W=4x5"], "X");
        for factor in [2.0, -1.0, 0.5] {
            let mut formula = problems.0.jacobian.formula().clone();
            formula.terms[0].coeff *= factor;
            let claim = claim_of(&problems.0, formula);
            let found = compared(&problems, &claim);
            assert!(!found.holds);
            assert_eq!(found.hints, [Hint::Scale { factor }]);
            assert_counts_match_brute_force(&problems, &claim, &found);
        }
        let hint = Hint::Scale { factor: -1.0 };
        let axes: Vec<String> = ["i", "j", "k", "l"].map(String::from).to_vec();
        assert_eq!(
            hint.sentence(&axes, Notation::Unicode),
            "the claim is −1 × J: a constant factor"
        );
        assert_eq!(
            hint.sentence(&axes, Notation::Ascii),
            "the claim is -1 * J: a constant factor"
        );
    }

    /// J's formula with its free indices read through `sigma` (claim[α] = J[α_σ(0), …]).
    fn permuted(formula: &Formula, sigma: &[usize]) -> Formula {
        let free = formula.free();
        with_factors(formula, |_, factor| {
            factor.map_slots(|slot| match slot {
                Slot::Index(id) => match free.iter().position(|&f| f == id) {
                    Some(p) => Slot::Index(free[sigma[p]]),
                    None => slot,
                },
                Slot::Fixed(_) => slot,
            })
        })
    }

    #[test]
    fn a_permutation_of_the_axes_is_named_by_layout_or_swapped_pair() {
        // A·X·B: J = A[i,k]·B[l,j]; in+out reads J[k,l,i,j] = A[k,i]·B[j,l].
        let problems = problems("A @ X @ B", &["A=3x3", "X=3x3", "B=3x3"], "X");
        let claim = claim_of(
            &problems.0,
            permuted(problems.0.jacobian.formula(), &[2, 3, 0, 1]),
        );
        let found = compared(&problems, &claim);
        assert_eq!(kinds(&found), ["permutation"]);
        let axes = problems.0.jacobian.axis_names();
        assert_eq!(
            found.hints[0].sentence(&axes, Notation::Unicode),
            "the claim is J in layout in+out: claim[i,j,k,l] = J[k,l,i,j]"
        );
        assert_counts_match_brute_force(&problems, &claim, &found);

        // X·Wᵀ with i and j swapped: δ(j,k)·W[i,l].
        let problems = self::problems("X @ W.T", &["X=3x4", "W=3x4"], "X");
        let claim = claim_of(
            &problems.0,
            permuted(problems.0.jacobian.formula(), &[1, 0, 2, 3]),
        );
        let found = compared(&problems, &claim);
        assert_eq!(kinds(&found), ["permutation"]);
        assert_eq!(
            found.hints[0].sentence(&axes, Notation::Ascii),
            "the claim is J with axes i<->j swapped: claim[i,j,k,l] = J[j,i,k,l]"
        );
        assert_counts_match_brute_force(&problems, &claim, &found);
    }

    /// `formula` with the slots `a`, `b` of factor `f` of term `t` swapped.
    fn transposed(formula: &Formula, t: usize, f: usize, (a, b): (usize, usize)) -> Formula {
        with_factors(formula, |at, factor| match factor {
            Factor::Tensor { tensor, slots } if at == (t, f) => {
                let mut slots = slots.clone();
                slots.swap(a, b);
                Factor::Tensor {
                    tensor: *tensor,
                    slots,
                }
            }
            _ => factor.clone(),
        })
    }

    #[test]
    fn a_tensor_used_transposed_is_named() {
        // (X·W)∘W by X: J = δ(i,k)·W[l,j]·W[i,j]; the claim reads the first W transposed.
        let problems = problems("(X @ W) * W", &["X=4x4", "W=4x4"], "X");
        let formula = problems.0.jacobian.formula();
        let (t, f) = formula
            .terms
            .iter()
            .enumerate()
            .find_map(|(t, term)| {
                term.factors
                    .iter()
                    .position(|f| matches!(f, Factor::Tensor { .. }))
                    .map(|f| (t, f))
            })
            .unwrap();
        let claim = claim_of(&problems.0, transposed(formula, t, f, (0, 1)));
        let found = compared(&problems, &claim);
        assert_eq!(kinds(&found), ["transposed_factor"], "{found:?}");
        let Hint::TransposedFactor { written, meant } = &found.hints[0] else {
            unreachable!()
        };
        assert_eq!(
            written.replace(['[', ']', ','], "").len(),
            meant.replace(['[', ']', ','], "").len()
        );
        assert_ne!(written, meant);
        assert_counts_match_brute_force(&problems, &claim, &found);
    }

    #[test]
    fn a_missing_delta_is_named_with_where_the_claim_is_wrongly_nonzero() {
        let problems = problems("X @ W.T", &["X=3x5", "W=4x5"], "X");
        let mut formula = problems.0.jacobian.formula().clone();
        formula.terms[0]
            .factors
            .retain(|f| !matches!(f, Factor::Delta(..)));
        let claim = claim_of(&problems.0, formula);
        let found = compared(&problems, &claim);
        assert_eq!(
            found.hints,
            [Hint::MissingDelta {
                delta: "δ(i,k)".to_string(),
                condition: "i ≠ k".to_string()
            }]
        );
        assert_eq!(found.claim_only, 3 * 4 * 3 * 5 - 3 * 4 * 5);
        assert_counts_match_brute_force(&problems, &claim, &found);
        let difference = found.first_difference.unwrap();
        assert_eq!(difference.index, [0, 0, 1, 0]);
        assert_eq!(difference.true_value, 0.0);
        assert!(difference.true_terms[0].starts_with("δ(0,1)·W[0,0] = 0 × "));
        assert!(difference.claim_terms[0].starts_with("W[0,0] = "));
    }

    #[test]
    fn a_missing_factor_of_the_chain_rule_is_named() {
        let problems = problems("relu(X @ W.T + b)", &["X=3x5", "W=4x5", "b=4"], "X");
        let mut formula = problems.0.jacobian.formula().clone();
        formula.terms[0].factors.retain(|f| {
            !matches!(f, Factor::Tensor { tensor, .. }
                if matches!(formula.tensors[*tensor], crate::calculus::TensorDef::ElemDeriv { .. }))
        });
        let claim = claim_of(&problems.0, formula);
        let found = compared(&problems, &claim);
        assert_eq!(
            found.hints,
            [Hint::MissingFactor {
                factor: "relu′(Z1)[i,j]".to_string()
            }]
        );
        assert_counts_match_brute_force(&problems, &claim, &found);
    }

    #[test]
    fn missing_and_extra_terms_are_named_in_js_notation() {
        let problems = problems("softmax(X @ W, axis=1)", &["X=2x3", "W=3x4"], "X");
        let truth = problems.0.jacobian.formula();
        assert_eq!(truth.terms.len(), 2);
        let names = |terms: &[Term]| -> Vec<String> {
            terms
                .iter()
                .map(|t| render::render_term(truth, problems.0.graph(), t, Notation::Unicode))
                .collect()
        };
        // A term dropped.
        let dropped = Formula {
            terms: vec![truth.terms[0].clone()],
            ..truth.clone()
        };
        let claim = claim_of(&problems.0, dropped);
        let found = compared(&problems, &claim);
        assert_eq!(
            found.hints,
            [Hint::MissingTerms {
                terms: names(&truth.terms[1..])
            }]
        );
        assert_counts_match_brute_force(&problems, &claim, &found);
        // A term too many: the first term again, doubled.
        let mut extra_term = truth.terms[0].clone();
        extra_term.coeff = 2.0;
        let mut more = truth.clone();
        more.terms.push(extra_term.clone());
        let claim = claim_of(&problems.0, more);
        let found = compared(&problems, &claim);
        assert_eq!(
            found.hints,
            [Hint::ExtraTerms {
                terms: names(&[extra_term])
            }]
        );
        assert_counts_match_brute_force(&problems, &claim, &found);
    }

    #[test]
    fn a_large_union_is_sampled_and_says_so() {
        // X 512×1024, W 1024×1024: J = δ(i,k)·W[j,l] has 2^29 structural nonzeros.
        let problems = problems("X @ W.T", &["X=512x1024", "W=1024x1024"], "X");
        let truth = problems.0.jacobian.formula().clone();
        let found = compared(&problems, &claim_of(&problems.0, truth.clone()));
        assert!(found.holds);
        assert_eq!(found.method, Method::Sampled);
        assert!(found.entries > SAMPLES as u128 / 2 && found.entries <= SAMPLES as u128 + 64);
        let mut doubled = truth;
        doubled.terms[0].coeff = 2.0;
        let found = compared(&problems, &claim_of(&problems.0, doubled));
        assert!(!found.holds);
        assert_eq!(found.method, Method::Sampled);
        assert_eq!(found.hints, [Hint::Scale { factor: 2.0 }]);
    }

    #[test]
    fn values_agree_relative_to_their_scale() {
        assert!(agrees(1.0, 1.0 + 1e-12));
        assert!(agrees(1e6, 1e6 * (1.0 + 5e-10)));
        assert!(!agrees(1e6, 1e6 * (1.0 + 2e-9)));
        assert!(agrees(0.0, 1e-10));
        assert!(!agrees(0.0, 1e-8));
        assert!(agrees(f64::NAN, f64::NAN) && !agrees(f64::NAN, 0.0));
        assert!(agrees(f64::INFINITY, f64::INFINITY) && !agrees(f64::INFINITY, 1e300));
        assert_eq!(simple_number(-0.99999999999), -1.0);
        assert_eq!(simple_number(0.3333333333333), 1.0 / 3.0);
    }
}
