//! The numeric nonzero count of one product term, from its factors alone.
//!
//! On a region of a term's support (a [`SupportPattern`]: J's axes in classes of equal
//! components, some pinned), the term is `coeff × Π reads`, each read a tensor of rank
//! ≤ 2 at some of the classes. Where its value is nonzero exactly where every read is
//! ([`exact_by_factors`]), the number of nonzero entries is the einsum of the reads'
//! nonzero indicators over the classes: a sum over classes of products of 0/1 tensors,
//! computed by summing out one class at a time, the cheapest first ([`Einsum`]), in time
//! about the size of the factors instead of the number of entries. For
//! δ(i,k)·relu′(Z)[i,j]·W[j,l] that is Σ_j (nonzeros of column j of relu′(Z)) × (nonzeros
//! of row j of W).

use rayon::prelude::*;

use super::BoundFormula;
use super::plan::TermPlan;
use crate::progress::Progress;
use crate::sparsity::SupportPattern;

/// The most entries of one intermediate of an [`Einsum`] (128 MiB of counts).
const MAX_INTERMEDIATE: u128 = 1 << 24;

/// Units of work per piece of parallel work in an elimination.
const PIECE_WORK: usize = 1 << 16;

/// The smallest and largest base-2 exponent any partial product of a term may reach for
/// its nonzero pattern to be the product of its factors' (normal doubles span 2^-1022 to
/// 2^1024; the margin absorbs rounding).
const EXPONENT_RANGE: (f64, f64) = (-1000.0, 1000.0);

/// What an exactness check needs to know of one array's values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Magnitudes {
    /// Every value is finite.
    finite: bool,
    /// log2 of the smallest nonzero |value| and of the largest |value| (0 and 0 if every
    /// value is zero).
    log2_range: (f64, f64),
}

impl Magnitudes {
    /// The magnitudes of `values`.
    pub(super) fn of(values: &[f64]) -> Magnitudes {
        let (finite, min, max) = values
            .par_iter()
            .fold(
                || (true, f64::INFINITY, 0.0f64),
                |(finite, min, max), &v| {
                    let a = v.abs();
                    let min = if a > 0.0 { min.min(a) } else { min };
                    (finite && v.is_finite(), min, max.max(a))
                },
            )
            .reduce(
                || (true, f64::INFINITY, 0.0),
                |a, b| (a.0 && b.0, a.1.min(b.1), a.2.max(b.2)),
            );
        let log2_range = if max > 0.0 {
            (min.log2(), max.log2())
        } else {
            (0.0, 0.0)
        };
        Magnitudes { finite, log2_range }
    }
}

/// The [`Magnitudes`] of a bound formula's arrays, each computed when first asked for.
pub(super) struct MagnitudeCache<'a> {
    bound: &'a BoundFormula,
    known: Vec<Option<Magnitudes>>,
}

impl<'a> MagnitudeCache<'a> {
    /// An empty cache for `bound`'s arrays.
    pub(super) fn new(bound: &'a BoundFormula) -> MagnitudeCache<'a> {
        MagnitudeCache {
            bound,
            known: vec![None; bound.arrays.len()],
        }
    }

    /// The magnitudes of array `array`.
    pub(super) fn get(&mut self, array: usize) -> Magnitudes {
        *self.known[array].get_or_insert_with(|| Magnitudes::of(self.bound.arrays[array].data()))
    }

    /// True if every value `term` reads is finite and it has no contraction summed per
    /// entry (whose values are not known ahead).
    pub(super) fn reads_only_finite(&mut self, term: &TermPlan) -> bool {
        term.contractions.is_empty() && term.reads.iter().all(|r| self.get(r.array).finite)
    }
}

/// True if, at every entry of its support, `term`'s value is nonzero exactly where each of
/// its reads is: no per-entry contraction, a finite nonzero coefficient, finite values
/// (so no ∞·0 and no NaN), and magnitude ranges under which no partial product of nonzero
/// values, in any order, underflows to zero or overflows to infinity.
pub(super) fn exact_by_factors(term: &TermPlan, magnitudes: &mut MagnitudeCache) -> bool {
    if !magnitudes.reads_only_finite(term) || !term.coeff.is_finite() || term.coeff == 0.0 {
        return false;
    }
    let coeff = term.coeff.abs().log2();
    let (mut low, mut high) = (coeff.min(0.0), coeff.max(0.0));
    for read in &term.reads {
        let (lo, hi) = magnitudes.get(read.array).log2_range;
        low += lo.min(0.0);
        high += hi.max(0.0);
    }
    low >= EXPONENT_RANGE.0 && high <= EXPONENT_RANGE.1
}

/// Where an operand's values come from.
enum Source<'a> {
    /// A factor's values, read as 1 where nonzero and 0 where zero.
    Values(&'a [f64]),
    /// Counts computed by summing out classes.
    Counts(Vec<u64>),
}

/// One operand of an einsum: values at `base + Σ component × stride` over its classes.
struct Operand<'a> {
    source: Source<'a>,
    base: usize,
    /// (class, stride), one per class, in increasing class order.
    classes: Vec<(usize, usize)>,
}

impl Operand<'_> {
    /// The operand's value at `offset`: a 0/1 indicator or a count.
    fn at(&self, offset: usize) -> u64 {
        match &self.source {
            Source::Values(data) => u64::from(data[offset] != 0.0),
            Source::Counts(data) => data[offset],
        }
    }

    /// The stride of `class` in this operand, if it reads it.
    fn stride_of(&self, class: usize) -> Option<usize> {
        self.classes
            .iter()
            .find(|&&(c, _)| c == class)
            .map(|&(_, s)| s)
    }
}

/// The count of a term's nonzero entries on a region of its support, as an einsum over its
/// reads' nonzero indicators, with the order in which classes are summed out.
pub(super) struct Einsum<'a> {
    /// The number of positions of each class (by its smallest axis; 1 for other axes).
    lens: Vec<usize>,
    operands: Vec<Operand<'a>>,
    /// The classes to sum out, in order.
    order: Vec<usize>,
    /// Units of work of all the eliminations (entries of the result × positions summed).
    work: u128,
}

impl<'a> Einsum<'a> {
    /// The einsum counting `term`'s nonzero entries on `region` (part of the term's
    /// support): its classes summed out greedily, the cheapest elimination first. `None`
    /// if the region has more entries than a `u64` holds, or an intermediate would
    /// exceed [`MAX_INTERMEDIATE`] entries.
    pub(super) fn plan(
        bound: &'a BoundFormula,
        term: &TermPlan,
        region: &SupportPattern,
    ) -> Option<Einsum<'a>> {
        debug_assert!(
            region.is_subset_of(&term.pattern),
            "a region of the support"
        );
        if region.is_empty() || u64::try_from(region.count()).is_err() {
            return None;
        }
        let rank = region.dims().len();
        let ranges: Vec<_> = (0..rank).map(|p| region.class_positions(p)).collect();
        let lens: Vec<usize> = (0..rank)
            .map(|p| {
                if region.class_of(p) == p {
                    ranges[p].len()
                } else {
                    1
                }
            })
            .collect();
        let operands: Vec<Operand> = term
            .reads
            .iter()
            .map(|read| {
                let mut base = read.base;
                let mut classes: Vec<(usize, usize)> = Vec::new();
                for &(p, stride) in read.axes.iter().filter(|&&(_, s)| s > 0) {
                    let class = region.class_of(p);
                    base += ranges[p].start * stride;
                    if lens[class] == 1 {
                        continue;
                    }
                    match classes.iter_mut().find(|(c, _)| *c == class) {
                        Some((_, s)) => *s += stride,
                        None => classes.push((class, stride)),
                    }
                }
                classes.sort_unstable();
                Operand {
                    source: Source::Values(bound.arrays[read.array].data()),
                    base,
                    classes,
                }
            })
            .collect();
        let mut remaining: Vec<Vec<usize>> = operands
            .iter()
            .map(|o| o.classes.iter().map(|&(c, _)| c).collect())
            .collect();
        let mut free: Vec<usize> = (0..rank).filter(|&p| lens[p] > 1).collect();
        let mut order = Vec::new();
        let mut work = 0u128;
        while !free.is_empty() {
            let (n, out, step) = free
                .iter()
                .enumerate()
                .map(|(n, &class)| {
                    let out = neighbours(&remaining, class);
                    let size: u128 = out.iter().map(|&c| lens[c] as u128).product();
                    (n, out, size * lens[class] as u128)
                })
                .min_by_key(|(_, _, step)| *step)
                .expect("a class is left");
            let class = free.remove(n);
            let size: u128 = out.iter().map(|&c| lens[c] as u128).product();
            if size > MAX_INTERMEDIATE {
                return None;
            }
            remaining.retain(|classes| !classes.contains(&class));
            remaining.push(out);
            order.push(class);
            work += step;
        }
        Some(Einsum {
            lens,
            operands,
            order,
            work,
        })
    }

    /// Units of work of the count ([`Self::count`] advances a progress by them).
    pub(super) fn work(&self) -> u128 {
        self.work
    }

    /// The number of entries of the region where every read is nonzero, summing out the
    /// classes in the planned order on the rayon pool; `progress` advances by the work of
    /// each elimination. `None` soon after `progress` is cancelled.
    pub(super) fn count(self, progress: &Progress) -> Option<u64> {
        let Einsum {
            lens,
            mut operands,
            order,
            ..
        } = self;
        for class in order {
            let (touching, rest): (Vec<Operand>, Vec<Operand>) = operands
                .into_iter()
                .partition(|o| o.stride_of(class).is_some());
            operands = rest;
            operands.push(eliminate(&touching, class, &lens, progress)?);
        }
        // Every class is summed out: the operands are scalars.
        let total = operands
            .iter()
            .fold(1u128, |n, o| n * u128::from(o.at(o.base)));
        Some(u64::try_from(total).expect("at most the region's entries"))
    }
}

/// The classes other than `class` that the operands reading `class` read, in increasing
/// order.
fn neighbours(operands: &[Vec<usize>], class: usize) -> Vec<usize> {
    let mut out: Vec<usize> = operands
        .iter()
        .filter(|classes| classes.contains(&class))
        .flatten()
        .copied()
        .filter(|&c| c != class)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Sums `class` out of the product of `touching` (the operands that read it): a counts
/// operand over the other classes they read (with no operands, the scalar number of
/// positions of `class`).
fn eliminate<'a>(
    touching: &[Operand<'a>],
    class: usize,
    lens: &[usize],
    progress: &Progress,
) -> Option<Operand<'a>> {
    let out = neighbours(
        &touching
            .iter()
            .map(|o| o.classes.iter().map(|&(c, _)| c).collect::<Vec<_>>())
            .collect::<Vec<_>>(),
        class,
    );
    let out_lens: Vec<usize> = out.iter().map(|&c| lens[c]).collect();
    let size: usize = out_lens.iter().product();
    let len = lens[class];
    let steps: Vec<usize> = touching
        .iter()
        .map(|o| o.stride_of(class).expect("reads the class"))
        .collect();
    let mut data = vec![0u64; size];
    let piece = (PIECE_WORK / len.max(1)).max(1);
    data.par_chunks_mut(piece)
        .enumerate()
        .for_each(|(n, values)| {
            if progress.is_cancelled() {
                return;
            }
            let mut position = vec![0usize; lens.len()];
            let mut offsets = vec![0usize; touching.len()];
            for (d, value) in values.iter_mut().enumerate() {
                let mut rest = n * piece + d;
                for (k, &c) in out.iter().enumerate().rev() {
                    position[c] = rest % out_lens[k];
                    rest /= out_lens[k];
                }
                for (offset, o) in offsets.iter_mut().zip(touching) {
                    *offset = o.base
                        + o.classes
                            .iter()
                            .filter(|&&(c, _)| c != class)
                            .map(|&(c, s)| position[c] * s)
                            .sum::<usize>();
                }
                *value = match (touching, &offsets[..], &steps[..]) {
                    ([o], &[offset], &[step]) => (0..len).map(|x| o.at(offset + x * step)).sum(),
                    _ => (0..len)
                        .map(|x| {
                            touching
                                .iter()
                                .zip(&offsets)
                                .zip(&steps)
                                .map(|((o, &offset), &step)| o.at(offset + x * step))
                                .product::<u64>()
                        })
                        .sum(),
                };
            }
            progress.advance((values.len() * len) as u64);
        });
    if progress.is_cancelled() {
        return None;
    }
    let mut classes: Vec<(usize, usize)> = Vec::with_capacity(out.len());
    let mut stride = 1;
    for (k, &c) in out.iter().enumerate().rev() {
        classes.push((c, stride));
        stride *= out_lens[k];
    }
    classes.reverse();
    Some(Operand {
        source: Source::Counts(data),
        base: 0,
        classes,
    })
}
