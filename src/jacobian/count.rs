//! The numeric nonzero count of J: J evaluated on its structural support only
//! ([`crate::sparsity`] says where that is), each entry once, in parallel, with progress
//! and cancellation.

use std::ops::Range;

use rayon::prelude::*;

use super::Jacobian;
use crate::progress::Progress;
use crate::sparsity::{RunOverlap, SupportPattern};

/// Entries per unit of parallel work (and per progress update).
const CHUNK: u128 = 1 << 16;

/// The number of entries of J whose value is nonzero (NaN counts as nonzero), evaluating J
/// only on its structural support.
pub fn numeric_nonzeros(jacobian: &Jacobian) -> u64 {
    numeric_nonzeros_with_progress(jacobian, &Progress::new())
        .expect("a count nobody can cancel finishes")
}

/// [`numeric_nonzeros`] reporting progress in `progress` and stopping early, returning
/// `None`, once `progress` is cancelled.
///
/// Each structural pattern is enumerated in chunks on the rayon pool; an entry of a
/// pattern is skipped if an earlier pattern contains it, so every entry counts once.
pub fn numeric_nonzeros_with_progress(jacobian: &Jacobian, progress: &Progress) -> Option<u64> {
    let support = jacobian.support();
    let patterns = support.patterns();
    let full: Vec<Range<usize>> = support.dims().iter().map(|&d| 0..d).collect();
    let work: u128 = patterns.iter().map(SupportPattern::count).sum();
    progress.start(u64::try_from(work).unwrap_or(u64::MAX));
    progress.set_stage("counting numeric nonzeros");
    let mut nonzeros = 0u64;
    for (n, pattern) in patterns.iter().enumerate() {
        let earlier = &patterns[..n];
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
                    jacobian.bound().write_run(index, axes, first, values);
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
                progress.advance(count as u64);
                Some(nonzeros)
            })
            .sum();
        nonzeros += count?;
    }
    Some(nonzeros)
}

#[cfg(test)]
mod tests {
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
        assert!(brute < sparsity::structural_count(jac.formula()) as u64);
        let progress = Progress::new();
        progress.cancel();
        assert_eq!(numeric_nonzeros_with_progress(&jac, &progress), None);
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
        let progress = Progress::new();
        assert_eq!(
            numeric_nonzeros_with_progress(&jac, &progress),
            Some(expected)
        );
        assert_eq!(progress.total(), 162_000);
        assert_eq!(progress.done(), 162_000);
    }
}
