//! The numeric nonzero count of J: the number of entries of J whose value is nonzero (NaN
//! counts as nonzero), exactly as evaluating every entry of the structural support would
//! find it, but without visiting the entries where that is not needed.
//!
//! Where only one term of J can be nonzero (outside every overlap of the terms' supports,
//! read off the deltas) and that term's value is nonzero exactly where each of its
//! factors is ([`super::factorized::exact_by_factors`]), its nonzeros are counted from
//! its factors ([`Einsum`]): the term's count on its support minus, by
//! inclusion–exclusion, its count on the part that is evaluated instead. Only the
//! overlaps and the terms that do not factorize are evaluated, entry by entry, in
//! parallel, with progress and cancellation. [`CountMethod`] says which way was taken.
//!
//! What a count costs is known before it starts ([`count_operations`]); a count costing more
//! than [`NUMERIC_COUNT_LIMIT`] is only started when asked for
//! ([`count_nonzeros_within_limit`] says what it would cost instead).

use rayon::prelude::*;

use super::factorized::{Einsum, MagnitudeCache, exact_by_factors};
use super::{BoundFormula, Jacobian};
use crate::numfmt;
use crate::progress::Progress;
use crate::sparsity::{self, RunOverlap, SupportPattern};

/// Entries per unit of parallel work (and per progress update).
const CHUNK: u128 = 1 << 16;

/// The most operations (multiply-adds, see [`count_operations`]) a numeric count runs
/// without being asked to count anyway. A 2-core machine evaluates about 2.8e8 of them a
/// second where each entry sums a contraction (the sigmoid Hessian
/// `Σ_m δ(k,g)·X[m,l]·X[m,h]·sigmoid″(Z1)[m,k]`, X 128×256, W 256×256: 2.1e9 operations in
/// 7.6 s) and about 3.4e9 where it does not (softmax at transformer size: 6.9e10 in 21 s),
/// so the limit is at most about six minutes of the slow kind and keeps every count of the
/// transformer-sized layers that finishes in seconds.
pub const NUMERIC_COUNT_LIMIT: u128 = 100_000_000_000;

/// A numeric count that was not started: it would cost more than [`NUMERIC_COUNT_LIMIT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountTooCostly {
    /// The count's estimated cost in operations ([`count_operations`]).
    pub operations: u128,
}

impl CountTooCostly {
    /// The estimated cost in words: `about 1.4e14 operations`.
    pub fn estimate(self) -> String {
        format!(
            "about {} operations",
            numfmt::significant(self.operations as f64, 2)
        )
    }

    /// The estimated cost and the limit: `about 1.4e14 operations (the limit is 1e11)`.
    pub fn describe(self) -> String {
        format!(
            "{} (the limit is {})",
            self.estimate(),
            numfmt::significant(NUMERIC_COUNT_LIMIT as f64, 2)
        )
    }
}

/// How a numeric nonzero count was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountMethod {
    /// Every term counted from its factors' nonzeros; no entry of J evaluated.
    Factorized,
    /// Every entry of the structural support evaluated.
    Evaluated,
    /// Terms counted from their factors where no other term can be nonzero, the rest
    /// (overlaps of terms, terms that do not factorize) evaluated.
    Mixed,
}

impl CountMethod {
    /// The method's name, as `stats --json` prints it: `factorized`, `evaluated` or `mixed`.
    pub fn name(self) -> &'static str {
        match self {
            CountMethod::Factorized => "factorized",
            CountMethod::Evaluated => "evaluated",
            CountMethod::Mixed => "mixed",
        }
    }

    /// The method in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            CountMethod::Factorized => "counted from the factors' nonzeros",
            CountMethod::Evaluated => "evaluated entry by entry",
            CountMethod::Mixed => "from the factors' nonzeros, overlaps evaluated",
        }
    }
}

/// A numeric nonzero count of J and how it was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonzeroCount {
    /// The number of entries of J whose value is nonzero (NaN counts as nonzero).
    pub nonzeros: u64,
    /// How it was counted.
    pub method: CountMethod,
}

/// The number of entries of J whose value is nonzero (NaN counts as nonzero).
pub fn numeric_nonzeros(jacobian: &Jacobian) -> u64 {
    numeric_nonzeros_with_progress(jacobian, &Progress::new())
        .expect("a count nobody can cancel finishes")
}

/// [`numeric_nonzeros`] reporting progress in `progress` and stopping early, returning
/// `None`, once `progress` is cancelled.
pub fn numeric_nonzeros_with_progress(jacobian: &Jacobian, progress: &Progress) -> Option<u64> {
    count_nonzeros(jacobian, progress).map(|count| count.nonzeros)
}

/// The numeric nonzero count of J and its method (see the module's documentation),
/// reporting progress in `progress`; `None` soon after `progress` is cancelled.
pub fn count_nonzeros(jacobian: &Jacobian, progress: &Progress) -> Option<NonzeroCount> {
    CountPlan::new(jacobian).run(progress)
}

/// [`count_nonzeros`] if it costs at most [`NUMERIC_COUNT_LIMIT`] operations (`Ok(None)` if
/// `progress` is cancelled); otherwise, without counting, what it would cost.
pub fn count_nonzeros_within_limit(
    jacobian: &Jacobian,
    progress: &Progress,
) -> Result<Option<NonzeroCount>, CountTooCostly> {
    let plan = CountPlan::new(jacobian);
    let operations = plan.operations();
    if operations > NUMERIC_COUNT_LIMIT {
        return Err(CountTooCostly { operations });
    }
    Ok(plan.run(progress))
}

/// The estimated cost of [`count_nonzeros`] in operations (multiply-adds): for the terms
/// counted from their factors, their einsums' work; where J or a term is evaluated, its
/// entries times the multiply-adds an entry costs there (each term that can be nonzero
/// there: the positions of the contractions it sums per entry, at least 1).
pub fn count_operations(jacobian: &Jacobian) -> u128 {
    CountPlan::new(jacobian).operations()
}

/// The numeric nonzero count of J evaluating every entry of the structural support (what
/// [`numeric_nonzeros`] finds, by the slow way: the witness of the factorized count).
pub fn evaluated_nonzeros(jacobian: &Jacobian, progress: &Progress) -> Option<u64> {
    let patterns = jacobian.support().patterns();
    let bound = jacobian.bound();
    let entries: Vec<u128> = patterns.iter().map(SupportPattern::count).collect();
    progress.start(u64::try_from(entries.iter().sum::<u128>()).unwrap_or(u64::MAX));
    progress.set_stage("counting numeric nonzeros");
    evaluated_count(patterns, &entries, progress, |index, axes, first, out| {
        bound.write_run(index, axes, first, out)
    })
}

/// One piece of a factorized count.
enum Piece<'a> {
    /// A sign times a term's nonzero count on a region, from its factors.
    Factorized(i128, Einsum<'a>),
    /// A sign times the nonzero count of term `.1` alone on a region, evaluated.
    TermEvaluated(i128, usize, SupportPattern),
}

/// How J's numeric nonzeros are counted: J's count is the sum of the pieces plus J's
/// count, evaluated, on the union of `evaluated`.
struct CountPlan<'a> {
    bound: &'a BoundFormula,
    pieces: Vec<Piece<'a>>,
    /// Where J is evaluated: the overlaps of the terms' supports and the supports of the
    /// terms that do not factorize.
    evaluated: Vec<SupportPattern>,
    method: CountMethod,
}

impl<'a> CountPlan<'a> {
    /// The plan for `jacobian`'s count.
    fn new(jacobian: &'a Jacobian) -> CountPlan<'a> {
        let bound: &'a BoundFormula = jacobian.bound();
        let terms = &bound.terms;
        let mut magnitudes = MagnitudeCache::new(bound);
        // A term with a zero coefficient adds ±0 wherever its deltas hold, unless it
        // multiplies zero by ∞ or NaN.
        if terms
            .iter()
            .any(|t| t.coeff == 0.0 && !magnitudes.reads_only_finite(t))
        {
            return CountPlan {
                bound,
                pieces: Vec::new(),
                evaluated: jacobian.support().patterns().to_vec(),
                method: CountMethod::Evaluated,
            };
        }
        let mut factorized = Vec::new();
        let mut evaluated = Vec::new();
        for (t, term) in terms.iter().enumerate() {
            if term.pattern.is_empty() {
                continue;
            }
            let einsum = exact_by_factors(term, &mut magnitudes)
                .then(|| Einsum::plan(bound, term, &term.pattern))
                .flatten()
                .filter(|einsum| einsum.work() <= term.pattern.count());
            match einsum {
                Some(einsum) => factorized.push((t, einsum)),
                None => evaluated.push(term.pattern.clone()),
            }
            for earlier in &terms[..t] {
                evaluated.push(earlier.pattern.intersect(&term.pattern));
            }
        }
        let evaluated = sparsity::maximal_patterns(&evaluated);
        let mut pieces = Vec::new();
        for (t, einsum) in factorized {
            let term = &terms[t];
            let inside: Vec<SupportPattern> = evaluated
                .iter()
                .map(|region| term.pattern.intersect(region))
                .collect();
            if inside.contains(&term.pattern) {
                continue;
            }
            pieces.push(Piece::Factorized(1, einsum));
            for (region, sign) in sparsity::signed_union(&inside) {
                match Einsum::plan(bound, term, &region).filter(|e| e.work() <= region.count()) {
                    Some(einsum) => pieces.push(Piece::Factorized(-sign, einsum)),
                    None => pieces.push(Piece::TermEvaluated(-sign, t, region)),
                }
            }
        }
        let method = if evaluated.is_empty() {
            CountMethod::Factorized
        } else if pieces.is_empty() {
            CountMethod::Evaluated
        } else {
            CountMethod::Mixed
        };
        CountPlan {
            bound,
            pieces,
            evaluated,
            method,
        }
    }

    /// The count's cost in operations (see [`count_operations`]), and the units its
    /// progress advances by.
    fn operations(&self) -> u128 {
        let pieces: u128 = self
            .pieces
            .iter()
            .map(|piece| match piece {
                Piece::Factorized(_, einsum) => einsum.work(),
                Piece::TermEvaluated(_, t, region) => {
                    region.count() * self.bound.terms[*t].entry_operations()
                }
            })
            .sum();
        pieces + self.evaluated_operations().iter().sum::<u128>()
    }

    /// The operations evaluating J on each region of `evaluated` costs: the entries of
    /// each term's support in the region, times the term's cost per entry.
    fn evaluated_operations(&self) -> Vec<u128> {
        self.evaluated
            .iter()
            .map(|region| {
                self.bound
                    .terms
                    .iter()
                    .map(|term| term.pattern.intersect(region).count() * term.entry_operations())
                    .sum()
            })
            .collect()
    }

    /// Counts J's numeric nonzeros as planned, advancing `progress` by the operations done;
    /// `None` soon after `progress` is cancelled.
    fn run(self, progress: &Progress) -> Option<NonzeroCount> {
        let bound = self.bound;
        progress.start(u64::try_from(self.operations()).unwrap_or(u64::MAX));
        progress.set_stage("counting numeric nonzeros");
        let evaluated_operations = self.evaluated_operations();
        let mut nonzeros = 0i128;
        for piece in self.pieces {
            nonzeros += match piece {
                Piece::Factorized(sign, einsum) => sign * i128::from(einsum.count(progress)?),
                Piece::TermEvaluated(sign, t, region) => {
                    let term = &bound.terms[t];
                    let operations = region.count() * term.entry_operations();
                    let count = evaluated_count(
                        &[region],
                        &[operations],
                        progress,
                        |index, axes, first, out| {
                            out.fill(0.0);
                            bound.add_term_run(term, index, axes, first, out);
                        },
                    )?;
                    sign * i128::from(count)
                }
            };
        }
        nonzeros += i128::from(evaluated_count(
            &self.evaluated,
            &evaluated_operations,
            progress,
            |index, axes, first, out| bound.write_run(index, axes, first, out),
        )?);
        Some(NonzeroCount {
            nonzeros: u64::try_from(nonzeros).expect("a count of entries"),
            method: self.method,
        })
    }
}

/// The number of nonzero values `write_run` gives on the union of `patterns`, each entry
/// once. `write_run(index, axes, first, out)` writes the values along a run of entries
/// (see [`BoundFormula::write_run`]). Each pattern is enumerated in chunks on the rayon
/// pool, advancing `progress` by the chunk's share of the pattern's `units` (its units of
/// work); an entry of a pattern is skipped if an earlier pattern contains it. `None` once
/// `progress` is cancelled.
fn evaluated_count(
    patterns: &[SupportPattern],
    units: &[u128],
    progress: &Progress,
    write_run: impl Fn(&[usize], &[usize], usize, &mut [f64]) + Sync,
) -> Option<u64> {
    let mut nonzeros = 0u64;
    for (n, (pattern, &units)) in patterns.iter().zip(units).enumerate() {
        let earlier = &patterns[..n];
        let full: Vec<std::ops::Range<usize>> = pattern.dims().iter().map(|&d| 0..d).collect();
        let len = pattern.count();
        let chunks = u64::try_from(len.div_ceil(CHUNK)).ok()?;
        let count: Option<u64> = (0..chunks)
            .into_par_iter()
            .map_init(Vec::new, |values: &mut Vec<f64>, chunk| {
                if progress.is_cancelled() {
                    return None;
                }
                let start = chunk as u128 * CHUNK;
                let count = CHUNK.min(len - start);
                let mut nonzeros = 0u64;
                pattern.for_each_run_in_box_part(&full, start, count, |index, axes, first, len| {
                    if values.len() < len {
                        values.resize(len, 0.0);
                    }
                    let values = &mut values[..len];
                    write_run(index, axes, first, values);
                    let overlaps: Vec<RunOverlap> = earlier
                        .iter()
                        .map(|p| p.run_overlap(index, axes, first, len))
                        .filter(|&o| o != RunOverlap::None)
                        .collect();
                    if overlaps.contains(&RunOverlap::All) {
                        return;
                    }
                    let counted = values.iter().filter(|&&v| v != 0.0).count();
                    // Nonzero entries an earlier pattern already counted.
                    let mut repeated: Vec<usize> = overlaps
                        .iter()
                        .filter_map(|&o| match o {
                            RunOverlap::One(d) if values[d] != 0.0 => Some(d),
                            _ => None,
                        })
                        .collect();
                    repeated.sort_unstable();
                    repeated.dedup();
                    nonzeros += (counted - repeated.len()) as u64;
                });
                // The units done before this chunk and after it, so that the chunks'
                // shares add up to the pattern's units exactly.
                let share = |entries: u128| units * entries / len;
                progress.advance((share(start + count) - share(start)) as u64);
                Some(nonzeros)
            })
            .sum();
        nonzeros += count?;
    }
    Some(nonzeros)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::test_support::*;
    use super::*;
    use crate::calculus::{Factor, TensorDef};
    use crate::sparsity;

    #[test]
    fn numeric_nonzeros_count_each_entry_once() {
        // δ(i,k)·X[j,l] + δ(j,k)·X[i,l] with some zeros in X and a cancellation: the
        // patterns overlap where i = j = k.
        let inputs: Vec<(&str, &[usize])> = vec![("X", &[3, 4])];
        let terms = vec![
            term(1.0, &[], vec![Factor::Delta(I, K), tensor(0, &[J, L])]),
            term(-1.0, &[], vec![Factor::Delta(J, K), tensor(0, &[I, L])]),
        ];
        let f = formula_over_ijkl(&[3, 3, 3, 4, 1, 1], vec![TensorDef::Node(0)], terms);
        let g = graph(&inputs);
        let mut x = filled(&[3, 4], 7);
        x[[1, 2]] = 0.0;
        x[[2, 0]] = 0.0;
        let jac = Jacobian::from_node_values(g, 0, f, |_| &x).unwrap();
        let brute = all_indices(&jac.shape())
            .iter()
            .filter(|ix| jac.entry(ix) != 0.0)
            .count() as u64;
        assert_eq!(numeric_nonzeros(&jac), brute);
        assert_eq!(evaluated_nonzeros(&jac, &Progress::new()), Some(brute));
        assert!(brute < sparsity::structural_count(jac.formula()) as u64);
        let progress = Progress::new();
        progress.cancel();
        assert_eq!(numeric_nonzeros_with_progress(&jac, &progress), None);
        assert_eq!(evaluated_nonzeros(&jac, &progress), None);
    }

    #[test]
    fn a_count_costs_its_entries_times_the_sums_left_per_entry() {
        // Σ_m δ(k,g)·X[m,l]·X[m,h]·sigmoid″(Z1)[m,k] reads three free indices, so its sum
        // over m (4 rows of X) stays per entry: 4 multiply-adds at each of the 5·3·3
        // entries where k = g, and no term counted from its factors.
        let shapes = [("X", "4x3"), ("W", "5x3"), ("b", "5")];
        let (jac, _) = problem("sum(sigmoid(X @ W.T + b))", &shapes, "W,W", BTreeMap::new());
        assert_eq!(sparsity::structural_count(jac.formula()), 45);
        assert_eq!(count_operations(&jac), 45 * 4);
        // The progress of the count goes through the same operations.
        let progress = Progress::new();
        let count = count_nonzeros(&jac, &progress).unwrap();
        assert_eq!(count.method, CountMethod::Evaluated);
        assert_eq!((progress.total(), progress.done()), (180, 180));
        assert_eq!(
            count_nonzeros_within_limit(&jac, &progress),
            Ok(Some(count))
        );
        // δ(i,k)·Y[i,j]·W[j,l] − Σ_m δ(i,k)·Y[i,j]·Y[i,m]·W[m,l]: the sum over m reads
        // two free indices (i, l) and is hoisted into (Y @ W)[i,l], so each term costs 1
        // at each of the 4·5·3 entries where i = k, where both terms are evaluated.
        let (jac, _) = problem(
            "softmax(X @ W.T, axis=1)",
            &shapes[..2],
            "X",
            BTreeMap::new(),
        );
        assert_eq!(sparsity::structural_count(jac.formula()), 60);
        assert_eq!(count_operations(&jac), 2 * 60);
    }

    #[test]
    fn the_cost_over_the_limit_is_said_in_a_few_digits() {
        let too_costly = CountTooCostly {
            operations: 140_737_488_355_328,
        };
        assert_eq!(
            too_costly.describe(),
            "about 1.4e14 operations (the limit is 1e11)"
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
        let f = formula_over_ijkl(&[9, 9, 9, 1000, 1, 1], vec![TensorDef::Node(0)], terms);
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
        // Entry by entry, both patterns are visited in full.
        let progress = Progress::new();
        assert_eq!(evaluated_nonzeros(&jac, &progress), Some(expected));
        assert_eq!(progress.total(), 162_000);
        assert_eq!(progress.done(), 162_000);
        // Evaluating J there costs one operation per term at each entry of a pattern
        // where the term can be nonzero: 81,000 + 9,000 in each pattern.
        // Factorized, only the overlap i = j = k (9000 entries) is evaluated: J there (two
        // terms), and each term alone to take it out of the term's count; the rest is
        // about 10,000 units per term.
        let progress = Progress::new();
        let count = count_nonzeros(&jac, &progress).unwrap();
        assert_eq!(count.nonzeros, expected);
        assert_eq!(count.method, CountMethod::Mixed);
        assert_eq!(progress.done(), progress.total());
        assert_eq!(u128::from(progress.total()), count_operations(&jac));
        assert!(progress.total() < 180_000 / 3, "{}", progress.total());
    }
}
