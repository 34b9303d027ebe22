//! Contractions that are products of matrices along a path (`Σ A[x,m]·B[m,n]·…·C[p,y]`),
//! recognised in a term and computed as matrix products on all rayon threads.

use std::sync::Arc;

use super::dense::Dense;
use crate::calculus::{Factor, Formula, IndexId, Slot, TensorId};
use crate::eval::kernels;
use crate::progress::Progress;

/// A contraction that is a product of matrices along a path,
/// `Σ A1[x,m1]·A2[m1,m2]·…·An[m(n−1),y]` with x and y two different free indices of J and
/// each matrix read in either orientation: computed as n − 1 matrix products, however
/// long the path (a loop over every summation index at once would cost the product of
/// their ranges).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Chain {
    /// The matrices in path order from x (the earlier axis of J) to y, each with whether it
    /// is read transposed.
    links: Vec<(TensorId, bool)>,
    /// The ranges along the path: x's, each summation index's, y's.
    dims: Vec<usize>,
}

impl Chain {
    /// `factors` summed over `sums` as a chain, or `None` if they are not one.
    /// `positions` gives the axis of J of every free index of `formula`.
    pub(super) fn of(
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
    pub(super) fn work(&self) -> u128 {
        let rows = self.dims[0] as u128;
        self.dims[1..]
            .windows(2)
            .map(|w| rows * w[0] as u128 * w[1] as u128)
            .fold(0u128, u128::saturating_add)
    }

    /// The product over (x, y) on all rayon threads, or `None` if `progress` is cancelled
    /// meanwhile (it advances by [`Self::work`]).
    pub(super) fn product(&self, arrays: &[Dense], progress: &Progress) -> Option<Dense> {
        let matrix = |&(tensor, transposed): &(TensorId, bool)| {
            let m = arrays[tensor].matrix();
            if transposed { m.reversed_axes() } else { m }
        };
        let [first, second, rest @ ..] = self.links.as_slice() else {
            unreachable!("a chain has a summation index, so two matrices")
        };
        let mut product = kernels::matrix_product(matrix(first), matrix(second), progress)?;
        for link in rest {
            product = kernels::matrix_product(product.view(), matrix(link), progress)?;
        }
        Some(Dense::shared(Arc::new(product.into_dyn())))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::test_support::*;
    use super::*;
    use crate::calculus::TensorDef;
    use crate::jacobian::binding_cost;

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
            let f = formula_over_ijkl(
                &[3, 4, 3, 5, 2, 3],
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
        let f = formula_over_ijkl(&[3, 4, 3, 5, 3, 3], Vec::new(), Vec::new());
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
}
