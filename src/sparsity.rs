//! Structural support of a Jacobian, read off its Kronecker deltas alone.
//!
//! After simplification every delta of a term relates two free indices of J or a free
//! index and a fixed position, so a term can be nonzero only on a [`SupportPattern`]: the
//! free axes fall into classes of axes that must be equal, and a class may be pinned to one
//! position. J's structural support is the union of its terms' patterns.
//!
//! [`StructuralSupport`] counts that union exactly without visiting entries: the indicator
//! of a union is a signed sum of indicators of intersections of patterns
//! (inclusion–exclusion), an intersection of patterns is again a pattern, and the number of
//! entries of a pattern inside any box of J is a product over its classes. Equal
//! intersections are merged as they arise and empty ones dropped, so the work and the
//! size of the signed sum are bounded by the number of *distinct nonempty* intersections,
//! not by 2^(number of patterns): J has at most four axes, so an intersection is one of 15
//! partitions of the axes with a pin per class drawn from the few positions the deltas
//! name (usually none, or 0 from broadcasting). That bound is what makes a cut-off on the
//! number of patterns unnecessary; the count is always exact. The same signed sum counts
//! the support inside each block of a slice for the heat map, so a lone nonzero in a block
//! always counts.
//!
//! This module knows deltas alone, no numbers: the numeric nonzero count, which evaluates J
//! on the support, lives with the Jacobian (`jacobian/count.rs`).

use std::collections::BTreeMap;
use std::ops::Range;

use crate::calculus::{Factor, Formula, Slot, Term};

/// Where one term of a formula can be nonzero: a set of equalities between J's axes and
/// pins of axes to positions, read from the term's deltas.
///
/// Axes ("positions") are numbered as J's index: output axes then input axes. The
/// representation is canonical, so equal supports compare equal: every axis records the
/// smallest axis of its class and the pin of its class, and any pattern without entries is
/// the single empty pattern of its dims.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SupportPattern {
    /// J's shape.
    dims: Vec<usize>,
    /// For each axis, the smallest axis of its class.
    class: Vec<usize>,
    /// For each axis, the position its class is pinned to, if any.
    pin: Vec<Option<usize>>,
    /// True if the constraints admit no entry of J.
    empty: bool,
}

impl SupportPattern {
    /// The unconstrained pattern: every entry of a J of shape `dims`.
    pub fn full(dims: Vec<usize>) -> SupportPattern {
        let n = dims.len();
        let mut pattern = SupportPattern {
            dims,
            class: (0..n).collect(),
            pin: vec![None; n],
            empty: false,
        };
        pattern.normalize();
        pattern
    }

    /// The support of one term of `formula`, from its deltas.
    ///
    /// A delta that involves a summation index (none remain after simplification) is
    /// ignored, which can only make the pattern larger, so it stays a sound support. A term
    /// with a zero coefficient has the empty pattern.
    pub fn of_term(formula: &Formula, term: &Term) -> SupportPattern {
        let positions = free_positions(formula);
        let mut pattern = SupportPattern::full(formula.shape());
        if term.coeff == 0.0 {
            pattern.make_empty();
            return pattern;
        }
        for factor in &term.factors {
            let Factor::Delta(a, b) = factor else {
                continue;
            };
            let side = |slot: &Slot| match *slot {
                Slot::Index(id) => positions[id].map(Side::Axis),
                Slot::Fixed(c) => Some(Side::Fixed(c)),
            };
            match (side(a), side(b)) {
                (Some(Side::Axis(p)), Some(Side::Axis(q))) => pattern.equate(p, q),
                (Some(Side::Axis(p)), Some(Side::Fixed(c)))
                | (Some(Side::Fixed(c)), Some(Side::Axis(p))) => pattern.pin_axis(p, c),
                (Some(Side::Fixed(c)), Some(Side::Fixed(d))) if c != d => pattern.make_empty(),
                _ => {}
            }
        }
        pattern.normalize();
        pattern
    }

    /// J's shape.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// True if the pattern has no entries.
    pub fn is_empty(&self) -> bool {
        self.empty
    }

    /// The entries in both patterns (the union of their constraints).
    pub fn intersect(&self, other: &SupportPattern) -> SupportPattern {
        assert_eq!(self.dims, other.dims, "patterns of different Jacobians");
        let mut out = self.clone();
        if other.empty {
            out.make_empty();
            return out;
        }
        for p in 0..self.dims.len() {
            out.equate(p, other.class[p]);
            if let Some(c) = other.pin[p] {
                out.pin_axis(p, c);
            }
        }
        out.normalize();
        out
    }

    /// True if every entry of `self` is in `other`.
    pub fn is_subset_of(&self, other: &SupportPattern) -> bool {
        self.intersect(other) == *self
    }

    /// True if `index` (one component per axis of J) lies in the pattern.
    pub fn contains(&self, index: &[usize]) -> bool {
        !self.empty
            && (0..self.dims.len()).all(|p| {
                index[p] < self.dims[p]
                    && index[p] == index[self.class[p]]
                    && self.pin[p].is_none_or(|c| index[p] == c)
            })
    }

    /// The number of entries of J in the pattern.
    pub fn count(&self) -> u128 {
        let full: Vec<Range<usize>> = self.dims.iter().map(|&d| 0..d).collect();
        self.count_in_box(&full)
    }

    /// The number of entries of the pattern inside the box `ranges` (one range per axis).
    pub fn count_in_box(&self, ranges: &[Range<usize>]) -> u128 {
        if self.empty {
            return 0;
        }
        let mut count = 1u128;
        for rep in self.representatives() {
            let (_, len) = self.class_span(rep, ranges);
            count *= len as u128;
            if count == 0 {
                break;
            }
        }
        count
    }

    /// Calls `f` with every entry of the pattern inside the box `ranges`, in row-major order
    /// of the classes (the class of the last axis varies fastest).
    pub fn for_each_in_box(&self, ranges: &[Range<usize>], f: impl FnMut(&[usize])) {
        if let Some(odometer) = Odometer::new(self, ranges) {
            let mut index = vec![0; self.dims.len()];
            odometer.entries(0, odometer.len(), &mut index, f);
        }
    }

    /// The entries of the pattern inside the box `ranges` as runs along its innermost
    /// class that takes more than one position in the box: calls `f(index, axes, first,
    /// len)` for each run, whose entries are `index` with every axis in `axes` set to
    /// `first + d` for `d` in `0..len`.
    pub fn for_each_run_in_box(
        &self,
        ranges: &[Range<usize>],
        mut f: impl FnMut(&[usize], &[usize], usize, usize),
    ) {
        if let Some(odometer) = Odometer::new(self, ranges) {
            let mut index = vec![0; self.dims.len()];
            odometer.runs(0, odometer.len(), &mut index, |index, axes, first, len| {
                f(index, axes, first, len)
            });
        }
    }

    /// [`Self::for_each_run_in_box`] for the entries `start .. start + count` of the
    /// pattern inside the box (in the same order), so that the runs can be cut into pieces
    /// for parallel work; [`Self::count_in_box`] gives the number of entries.
    pub fn for_each_run_in_box_part(
        &self,
        ranges: &[Range<usize>],
        start: u128,
        count: u128,
        mut f: impl FnMut(&[usize], &[usize], usize, usize),
    ) {
        if let Some(odometer) = Odometer::new(self, ranges) {
            let count = count.min(odometer.len().saturating_sub(start));
            let mut index = vec![0; self.dims.len()];
            odometer.runs(start, count, &mut index, |index, axes, first, len| {
                f(index, axes, first, len)
            });
        }
    }

    /// Which entries of a run lie in the pattern: the run's entries are `index` with every
    /// axis in `axes` set to `first + d` for `d` in `0..len` (the run must lie inside J).
    /// Along a run every constraint of a pattern holds everywhere, nowhere or at one
    /// entry, so the answer is all, none or one of them.
    pub fn run_overlap(
        &self,
        index: &[usize],
        axes: &[usize],
        first: usize,
        len: usize,
    ) -> RunOverlap {
        if self.empty || len == 0 {
            return RunOverlap::None;
        }
        let (mut lo, mut hi) = (0usize, len);
        // Narrows the run to the entry where the moving component equals `value`.
        let mut at = |value: usize| match value.checked_sub(first) {
            Some(d) => {
                lo = lo.max(d);
                hi = hi.min(d + 1);
            }
            None => hi = 0,
        };
        let moves = |p: usize| axes.contains(&p);
        for p in 0..self.dims.len() {
            let rep = self.class[p];
            match (moves(p), moves(rep)) {
                (false, false) if index[p] != index[rep] => return RunOverlap::None,
                (true, false) => at(index[rep]),
                (false, true) => at(index[p]),
                _ => {}
            }
            match self.pin[p] {
                Some(c) if moves(p) => at(c),
                Some(c) if index[p] != c => return RunOverlap::None,
                _ => {}
            }
        }
        if lo >= hi {
            RunOverlap::None
        } else if hi - lo == len {
            RunOverlap::All
        } else {
            RunOverlap::One(lo)
        }
    }

    /// The smallest axis of the class of axis `p`: on the pattern, axes of one class are
    /// equal.
    pub fn class_of(&self, p: usize) -> usize {
        self.class[p]
    }

    /// The positions the class of axis `p` takes on the pattern: its pin alone, or every
    /// position all of its axes have.
    pub fn class_positions(&self, p: usize) -> Range<usize> {
        let full: Vec<Range<usize>> = self.dims.iter().map(|&d| 0..d).collect();
        let (start, len) = self.class_span(self.class[p], &full);
        start..start + len
    }

    /// The constraints in words, with J's axis names: `i = k`, `i = k = 0, j = 2`,
    /// `everywhere`, `nowhere`.
    pub fn describe(&self, names: &[String]) -> String {
        if self.empty {
            return "nowhere".to_string();
        }
        let mut parts = Vec::new();
        for rep in self.representatives() {
            let mut members: Vec<String> = self.members(rep).map(|p| names[p].clone()).collect();
            if let Some(c) = self.pin[rep] {
                members.push(c.to_string());
            }
            if members.len() > 1 {
                parts.push(members.join(" = "));
            }
        }
        if parts.is_empty() {
            "everywhere".to_string()
        } else {
            parts.join(", ")
        }
    }

    /// The axes that represent a class (the smallest axis of each class).
    fn representatives(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.dims.len()).filter(|&p| self.class[p] == p)
    }

    /// The axes of the class represented by `rep`.
    fn members(&self, rep: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.dims.len()).filter(move |&p| self.class[p] == rep)
    }

    /// The positions the class of `rep` can take inside `ranges`: a start and a length.
    fn class_span(&self, rep: usize, ranges: &[Range<usize>]) -> (usize, usize) {
        let (mut lo, mut hi) = match self.pin[rep] {
            Some(c) => (c, c + 1),
            None => (0, usize::MAX),
        };
        for p in self.members(rep) {
            lo = lo.max(ranges[p].start);
            hi = hi.min(ranges[p].end).min(self.dims[p]);
        }
        (lo, hi.saturating_sub(lo))
    }

    /// Puts axes `p` and `q` in one class (before [`Self::normalize`]).
    fn equate(&mut self, p: usize, q: usize) {
        let (a, b) = (self.class[p], self.class[q]);
        if a == b {
            return;
        }
        let (keep, gone) = (a.min(b), a.max(b));
        let pin = match (self.pin[keep], self.pin[gone]) {
            (Some(x), Some(y)) if x != y => {
                self.make_empty();
                return;
            }
            (x, y) => x.or(y),
        };
        for r in 0..self.dims.len() {
            if self.class[r] == gone || self.class[r] == keep {
                self.class[r] = keep;
                self.pin[r] = pin;
            }
        }
    }

    /// Pins the class of axis `p` to position `c` (before [`Self::normalize`]).
    fn pin_axis(&mut self, p: usize, c: usize) {
        let rep = self.class[p];
        if self.pin[rep].is_some_and(|old| old != c) {
            self.make_empty();
            return;
        }
        for r in 0..self.dims.len() {
            if self.class[r] == rep {
                self.pin[r] = Some(c);
            }
        }
    }

    /// Marks the pattern as having no entries.
    fn make_empty(&mut self) {
        self.empty = true;
    }

    /// Brings the pattern to canonical form: empty if any class has no possible position.
    fn normalize(&mut self) {
        let full: Vec<Range<usize>> = self.dims.iter().map(|&d| 0..d).collect();
        if !self.empty {
            let unreachable = self
                .representatives()
                .any(|rep| self.class_span(rep, &full).1 == 0);
            self.empty = unreachable;
        }
        if self.empty {
            let n = self.dims.len();
            self.class = (0..n).collect();
            self.pin = vec![None; n];
        }
    }
}

/// Which entries of a run lie in a pattern ([`SupportPattern::run_overlap`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOverlap {
    /// None of them.
    None,
    /// Every one.
    All,
    /// Only entry `d` of the run.
    One(usize),
}

impl RunOverlap {
    /// True if entry `d` of the run lies in the pattern.
    pub fn contains(self, d: usize) -> bool {
        match self {
            RunOverlap::None => false,
            RunOverlap::All => true,
            RunOverlap::One(e) => d == e,
        }
    }
}

/// One side of a delta, as far as the support is concerned.
enum Side {
    /// J's axis at this position.
    Axis(usize),
    /// A fixed position.
    Fixed(usize),
}

/// For every index variable of `formula`, its position in J's index if it is free.
pub fn free_positions(formula: &Formula) -> Vec<Option<usize>> {
    let mut positions = vec![None; formula.indices.len()];
    for (p, id) in formula.free().into_iter().enumerate() {
        positions[id] = Some(p);
    }
    positions
}

/// The distinct nonempty supports of `formula`'s terms, in order of first appearance.
pub fn term_patterns(formula: &Formula) -> Vec<SupportPattern> {
    let mut patterns: Vec<SupportPattern> = Vec::new();
    for term in &formula.terms {
        let pattern = SupportPattern::of_term(formula, term);
        if !pattern.is_empty() && !patterns.contains(&pattern) {
            patterns.push(pattern);
        }
    }
    patterns
}

/// The distinct nonempty patterns among `patterns` that are not contained in another one,
/// in order of first appearance: their union is the union of `patterns`.
pub fn maximal_patterns(patterns: &[SupportPattern]) -> Vec<SupportPattern> {
    let mut distinct: Vec<&SupportPattern> = Vec::new();
    for p in patterns {
        if !p.is_empty() && !distinct.contains(&p) {
            distinct.push(p);
        }
    }
    distinct
        .iter()
        .enumerate()
        .filter(|&(i, p)| {
            !distinct
                .iter()
                .enumerate()
                .any(|(j, q)| j != i && p.is_subset_of(q))
        })
        .map(|(_, p)| (*p).clone())
        .collect()
}

/// The indicator of the union of `patterns` as a signed sum of pattern indicators
/// (inclusion–exclusion), equal intersections merged and empty ones dropped.
pub fn signed_union(patterns: &[SupportPattern]) -> Vec<(SupportPattern, i128)> {
    let mut signed: BTreeMap<SupportPattern, i128> = BTreeMap::new();
    for p in patterns.iter().filter(|p| !p.is_empty()) {
        let mut updates = vec![(p.clone(), 1i128)];
        for (q, &c) in &signed {
            let both = q.intersect(p);
            if !both.is_empty() {
                updates.push((both, -c));
            }
        }
        for (q, c) in updates {
            *signed.entry(q).or_insert(0) += c;
        }
        signed.retain(|_, c| *c != 0);
    }
    signed.into_iter().collect()
}

/// The exact number of structurally nonzero entries of J (the size of the union of the
/// terms' supports), without visiting entries.
pub fn structural_count(formula: &Formula) -> u128 {
    StructuralSupport::new(formula).count()
}

/// Exact structural nonzero counts of the blocks of a 2-D slice of J (see
/// [`StructuralSupport::block_counts`]).
pub fn block_counts(
    formula: &Formula,
    axes: (usize, usize),
    at: &[usize],
    row_blocks: &[Range<usize>],
    col_blocks: &[Range<usize>],
) -> Vec<u64> {
    StructuralSupport::new(formula).block_counts(axes, at, row_blocks, col_blocks)
}

/// J's structural support: the union of its terms' patterns, ready to count in any box.
#[derive(Debug, Clone, PartialEq)]
pub struct StructuralSupport {
    /// J's shape.
    dims: Vec<usize>,
    /// The distinct term patterns that are not contained in another one, in term order.
    patterns: Vec<SupportPattern>,
    /// The union's indicator as a signed sum of pattern indicators (inclusion–exclusion).
    signed: Vec<(SupportPattern, i128)>,
}

impl StructuralSupport {
    /// The support of `formula`.
    pub fn new(formula: &Formula) -> StructuralSupport {
        let patterns = maximal_patterns(&term_patterns(formula));
        StructuralSupport {
            dims: formula.shape(),
            signed: signed_union(&patterns),
            patterns,
        }
    }

    /// J's shape.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// Where J can be nonzero, in words, with J's axis names: `nonzero only where i = k`,
    /// `nonzero only where i = k or where j = l` (one clause per distinct term pattern),
    /// `nonzero anywhere: no delta constrains it`, `zero everywhere`.
    pub fn describe(&self, names: &[String]) -> String {
        let clauses: Vec<String> = self.patterns.iter().map(|p| p.describe(names)).collect();
        if clauses.is_empty() {
            "zero everywhere".to_string()
        } else if clauses.iter().any(|c| c == "everywhere") {
            "nonzero anywhere: no delta constrains it".to_string()
        } else {
            format!("nonzero only where {}", clauses.join(" or where "))
        }
    }

    /// The distinct term patterns not contained in another one; their union is the support.
    pub fn patterns(&self) -> &[SupportPattern] {
        &self.patterns
    }

    /// True if `index` is structurally nonzero.
    pub fn contains(&self, index: &[usize]) -> bool {
        self.patterns.iter().any(|p| p.contains(index))
    }

    /// The number of structurally nonzero entries of J.
    pub fn count(&self) -> u128 {
        let full: Vec<Range<usize>> = self.dims.iter().map(|&d| 0..d).collect();
        self.count_in_box(&full)
    }

    /// The number of structurally nonzero entries inside the box `ranges` (one range per
    /// axis of J).
    pub fn count_in_box(&self, ranges: &[Range<usize>]) -> u128 {
        let total: i128 = self
            .signed
            .iter()
            .map(|(p, c)| {
                let n = i128::try_from(p.count_in_box(ranges)).expect("J has < 2^127 entries");
                c.checked_mul(n).expect("J has < 2^127 entries")
            })
            .fold(0i128, |acc, x| {
                acc.checked_add(x).expect("J has < 2^127 entries")
            });
        u128::try_from(total).expect("inclusion–exclusion gives a non-negative count")
    }

    /// Exact structural nonzero counts of the blocks of the 2-D slice of J over `axes`
    /// (rows along `axes.0`, columns along `axes.1`) with every other axis at its
    /// component of `at`: one count per (row block, column block), row-major. Computed from
    /// the patterns, not by visiting entries. Panics if the two axes are equal.
    pub fn block_counts(
        &self,
        axes: (usize, usize),
        at: &[usize],
        row_blocks: &[Range<usize>],
        col_blocks: &[Range<usize>],
    ) -> Vec<u64> {
        assert_ne!(axes.0, axes.1, "a slice needs two different axes");
        let mut ranges = slice_box(&self.dims, axes, at);
        let in_slice: Vec<&(SupportPattern, i128)> = self
            .signed
            .iter()
            .filter(|(p, _)| p.count_in_box(&ranges) > 0)
            .collect();
        let mut counts = Vec::with_capacity(row_blocks.len() * col_blocks.len());
        for rows in row_blocks {
            for cols in col_blocks {
                ranges[axes.0] = rows.clone();
                ranges[axes.1] = cols.clone();
                let total: i128 = in_slice
                    .iter()
                    .map(|(p, c)| c * p.count_in_box(&ranges) as i128)
                    .sum();
                counts.push(u64::try_from(total).expect("a block count is non-negative"));
            }
        }
        counts
    }
}

/// The box of the 2-D slice over `axes` at `at`: the two axes in full, every other axis at
/// its component of `at`.
pub fn slice_box(dims: &[usize], axes: (usize, usize), at: &[usize]) -> Vec<Range<usize>> {
    (0..dims.len())
        .map(|p| {
            if p == axes.0 || p == axes.1 {
                0..dims[p]
            } else {
                at[p]..at[p] + 1
            }
        })
        .collect()
}

/// Enumerates a pattern's entries inside a box: one digit per class that takes more than
/// one position there (so that runs go along the innermost class that moves).
struct Odometer {
    /// Per class with more than one position: first position, number of positions, axes
    /// of the class.
    classes: Vec<(usize, usize, Vec<usize>)>,
    /// Per class with one position: that position, axes of the class.
    fixed: Vec<(usize, Vec<usize>)>,
}

impl Odometer {
    /// The enumeration of `pattern` inside `ranges`, or `None` if there is nothing in it.
    fn new(pattern: &SupportPattern, ranges: &[Range<usize>]) -> Option<Odometer> {
        if pattern.is_empty() {
            return None;
        }
        let mut classes = Vec::new();
        let mut fixed = Vec::new();
        for rep in pattern.representatives() {
            let members = pattern.members(rep).collect();
            match pattern.class_span(rep, ranges) {
                (_, 0) => return None,
                (start, 1) => fixed.push((start, members)),
                (start, len) => classes.push((start, len, members)),
            }
        }
        Some(Odometer { classes, fixed })
    }

    /// Number of entries enumerated.
    fn len(&self) -> u128 {
        self.classes
            .iter()
            .map(|&(_, len, _)| len as u128)
            .product()
    }

    /// Enumerates entries `start .. start + count` as runs along the innermost class that
    /// moves:
    /// calls `f(index, axes, first, len)` where the run's entries are `index` with every
    /// axis in `axes` set to `first + d` for `d` in `0..len` (`index` already holds
    /// `first` there; `f` may change those components).
    fn runs(
        &self,
        start: u128,
        count: u128,
        index: &mut [usize],
        mut f: impl FnMut(&mut [usize], &[usize], usize, usize),
    ) {
        for (position, members) in &self.fixed {
            for &p in members {
                index[p] = *position;
            }
        }
        let Some(((inner_first, inner_len, inner_members), outer)) = self.classes.split_last()
        else {
            // Every class is fixed: one entry.
            if count > 0 {
                f(index, &[], 0, 1);
            }
            return;
        };
        let mut digits = vec![0usize; self.classes.len()];
        let mut rest = start;
        for (c, (first, len, members)) in self.classes.iter().enumerate().rev() {
            digits[c] = (rest % *len as u128) as usize;
            rest /= *len as u128;
            for &p in members {
                index[p] = first + digits[c];
            }
        }
        let mut remaining = count;
        let mut from = digits[outer.len()];
        loop {
            let run = remaining.min((inner_len - from) as u128) as usize;
            for &p in inner_members {
                index[p] = inner_first + from;
            }
            f(index, inner_members, inner_first + from, run);
            remaining -= run as u128;
            if remaining == 0 {
                return;
            }
            from = 0;
            for (c, (first, len, members)) in outer.iter().enumerate().rev() {
                digits[c] += 1;
                let wrapped = digits[c] == *len;
                if wrapped {
                    digits[c] = 0;
                }
                for &p in members {
                    index[p] = first + digits[c];
                }
                if !wrapped {
                    break;
                }
            }
        }
    }

    /// Calls `f` with entries `start .. start + count` of the enumeration, writing each
    /// into `index` (one component per axis of J).
    fn entries(&self, start: u128, count: u128, index: &mut [usize], mut f: impl FnMut(&[usize])) {
        self.runs(start, count, index, |index, axes, first, len| {
            for value in first..first + len {
                for &p in axes {
                    index[p] = value;
                }
                f(index);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calculus::TensorDef;
    use crate::calculus::test_support::formula_over_ijkl;
    use proptest::prelude::*;

    const I: Slot = Slot::Index(0);
    const J: Slot = Slot::Index(1);
    const K: Slot = Slot::Index(2);
    const L: Slot = Slot::Index(3);

    /// A formula J[i,j,k,l] with the given dims and, per term, its deltas (times a tensor
    /// factor, which the support ignores).
    fn formula(dims: [usize; 4], terms: Vec<Vec<(Slot, Slot)>>) -> Formula {
        let terms = terms
            .into_iter()
            .map(|deltas| Term {
                coeff: 1.0,
                sums: vec![],
                factors: deltas
                    .into_iter()
                    .map(|(a, b)| Factor::Delta(a, b))
                    .chain([Factor::Tensor {
                        tensor: 0,
                        slots: vec![J, L],
                    }])
                    .collect(),
            })
            .collect();
        formula_over_ijkl(&dims, vec![TensorDef::Node(0)], terms)
    }

    /// Every index of a shape, row-major.
    fn all_indices(dims: &[usize]) -> Vec<Vec<usize>> {
        let mut out = vec![vec![]];
        for &d in dims {
            out = out
                .into_iter()
                .flat_map(|prefix| {
                    (0..d).map(move |v| {
                        let mut next = prefix.clone();
                        next.push(v);
                        next
                    })
                })
                .collect();
        }
        out
    }

    /// Brute force, independent of `SupportPattern`: does some term's every delta hold?
    fn structurally_nonzero(formula: &Formula, index: &[usize]) -> bool {
        let value = |s: &Slot| match *s {
            Slot::Index(id) => index[id],
            Slot::Fixed(c) => c,
        };
        formula.terms.iter().any(|term| {
            term.factors.iter().all(|f| match f {
                Factor::Delta(a, b) => value(a) == value(b),
                Factor::Tensor { .. } => true,
            })
        })
    }

    fn brute_count(formula: &Formula) -> u128 {
        all_indices(&formula.shape())
            .iter()
            .filter(|ix| structurally_nonzero(formula, ix))
            .count() as u128
    }

    #[test]
    fn one_delta_gives_the_product_of_the_other_axes() {
        // ∂(X Wᵀ)/∂X = δ(i,k)·W[j,l]
        let f = formula([3, 4, 3, 5], vec![vec![(I, K)]]);
        assert_eq!(structural_count(&f), 3 * 4 * 5);
        // unequal dims: i and k meet on min(3, 2) positions
        let f = formula([3, 4, 2, 5], vec![vec![(I, K)]]);
        assert_eq!(structural_count(&f), 2 * 4 * 5);
        assert_eq!(structural_count(&f), brute_count(&f));
    }

    #[test]
    fn the_default_example_is_counted_without_visiting_entries() {
        let f = formula([64, 512, 64, 1024], vec![vec![(I, K)]]);
        let start = std::time::Instant::now();
        assert_eq!(structural_count(&f), 33_554_432);
        assert!(start.elapsed().as_millis() < 50);
    }

    #[test]
    fn overlapping_patterns_are_counted_once() {
        let f = formula([3, 3, 3, 2], vec![vec![(I, K)], vec![(J, K)]]);
        // |i=k| + |j=k| − |i=j=k| = 3·3·2 + 3·3·2 − 3·2
        assert_eq!(structural_count(&f), 18 + 18 - 6);
        assert_eq!(structural_count(&f), brute_count(&f));
        assert_eq!(term_patterns(&f).len(), 2);
    }

    #[test]
    fn a_pattern_inside_another_is_dropped_from_the_union() {
        let f = formula(
            [3, 3, 3, 2],
            vec![vec![(I, K), (J, K)], vec![(I, K)], vec![(I, K)]],
        );
        let support = StructuralSupport::new(&f);
        assert_eq!(term_patterns(&f).len(), 2);
        assert_eq!(support.patterns().len(), 1);
        assert_eq!(support.count(), 3 * 3 * 2);
    }

    #[test]
    fn pins_and_fixed_deltas() {
        let f = formula([3, 4, 3, 5], vec![vec![(I, Slot::Fixed(1))]]);
        assert_eq!(structural_count(&f), 4 * 3 * 5);
        // pinned outside the axis: no entries
        let f = formula([3, 4, 3, 5], vec![vec![(I, Slot::Fixed(3))]]);
        assert_eq!(structural_count(&f), 0);
        assert!(term_patterns(&f).is_empty());
        // two different pins through a chain of equalities
        let f = formula(
            [3, 4, 3, 5],
            vec![vec![(I, Slot::Fixed(0)), (I, K), (K, Slot::Fixed(2))]],
        );
        assert_eq!(structural_count(&f), 0);
        let f = formula([3, 4, 3, 5], vec![vec![(Slot::Fixed(0), Slot::Fixed(1))]]);
        assert_eq!(structural_count(&f), 0);
        let f = formula([3, 4, 3, 5], vec![vec![(Slot::Fixed(1), Slot::Fixed(1))]]);
        assert_eq!(structural_count(&f), 3 * 4 * 3 * 5);
    }

    #[test]
    fn patterns_describe_themselves() {
        let names: Vec<String> = ["i", "j", "k", "l"].map(String::from).to_vec();
        let f = formula([3, 4, 3, 5], vec![vec![(K, I), (L, Slot::Fixed(2))]]);
        assert_eq!(term_patterns(&f)[0].describe(&names), "i = k, l = 2");
        let f = formula([3, 4, 3, 5], vec![vec![]]);
        assert_eq!(term_patterns(&f)[0].describe(&names), "everywhere");
    }

    #[test]
    fn the_support_says_where_j_can_be_nonzero() {
        let names: Vec<String> = ["i", "j", "k", "l"].map(String::from).to_vec();
        let support =
            |terms| StructuralSupport::new(&formula([3, 4, 3, 5], terms)).describe(&names);
        assert_eq!(support(vec![vec![(I, K)]]), "nonzero only where i = k");
        assert_eq!(
            support(vec![vec![(I, K)], vec![(J, L)], vec![(I, K), (J, L)]]),
            "nonzero only where i = k or where j = l"
        );
        assert_eq!(
            support(vec![vec![(I, K)], vec![]]),
            "nonzero anywhere: no delta constrains it"
        );
        assert_eq!(support(vec![]), "zero everywhere");
    }

    #[test]
    fn support_in_a_slice_is_a_diagonal_a_line_or_a_point() {
        let f = formula([3, 4, 3, 5], vec![vec![(I, K)]]);
        let p = &term_patterns(&f)[0];
        let cells = |axes: (usize, usize), at: &[usize]| {
            let mut cells = Vec::new();
            let ranges = slice_box(p.dims(), axes, at);
            p.for_each_in_box(&ranges, |ix| cells.push((ix[axes.0], ix[axes.1])));
            cells
        };
        assert_eq!(cells((0, 2), &[0, 1, 0, 2]), [(0, 0), (1, 1), (2, 2)]);
        assert_eq!(
            cells((2, 3), &[1, 1, 0, 0]),
            (0..5).map(|c| (1, c)).collect::<Vec<_>>()
        );
        assert!(cells((1, 3), &[1, 0, 2, 0]).is_empty());
    }

    #[test]
    fn a_lone_nonzero_counts_in_its_block() {
        // J[i,j,k,l] nonzero only at i = 0, j = 3, k = 2, l = 4
        let f = formula(
            [3, 4, 3, 5],
            vec![vec![
                (I, Slot::Fixed(0)),
                (J, Slot::Fixed(3)),
                (K, Slot::Fixed(2)),
                (L, Slot::Fixed(4)),
            ]],
        );
        let counts = block_counts(&f, (1, 3), &[0, 0, 2, 0], &[0..2, 2..4], &[0..3, 3..5]);
        assert_eq!(counts, vec![0, 0, 0, 1]);
    }

    /// A random small formula: dims 1..=3 per axis, 1..=4 terms of up to 3 deltas each.
    fn random_formula() -> impl Strategy<Value = Formula> {
        let slot = prop_oneof![
            (0usize..4).prop_map(Slot::Index),
            (0usize..3).prop_map(Slot::Fixed),
        ];
        let term = prop::collection::vec((slot.clone(), slot), 0..=3);
        (
            [1usize..=3, 1usize..=3, 1usize..=3, 1usize..=3],
            prop::collection::vec(term, 1..=4),
        )
            .prop_map(|(dims, terms)| formula(dims, terms))
    }

    /// Blocks that cover 0..n: cut at the given points.
    fn blocks(n: usize, cut: usize) -> Vec<Range<usize>> {
        let cut = cut % (n + 1);
        [0..cut, cut..n]
            .into_iter()
            .filter(|r| !r.is_empty())
            .collect()
    }

    proptest! {
        #[test]
        fn structural_count_matches_brute_force(f in random_formula()) {
            prop_assert_eq!(structural_count(&f), brute_count(&f));
            let support = StructuralSupport::new(&f);
            for index in all_indices(&f.shape()) {
                prop_assert_eq!(support.contains(&index), structurally_nonzero(&f, &index));
            }
        }

        #[test]
        fn block_counts_match_brute_force(
            f in random_formula(),
            rows in 0usize..4,
            cols in 0usize..4,
            at in [0usize..3, 0usize..3, 0usize..3, 0usize..3],
            cuts in (0usize..4, 0usize..4),
        ) {
            prop_assume!(rows != cols);
            let dims = f.shape();
            let at: Vec<usize> = (0..4).map(|p| at[p] % dims[p]).collect();
            let row_blocks = blocks(dims[rows], cuts.0);
            let col_blocks = blocks(dims[cols], cuts.1);
            let counts = block_counts(&f, (rows, cols), &at, &row_blocks, &col_blocks);
            let mut expected = Vec::new();
            for rb in &row_blocks {
                for cb in &col_blocks {
                    let mut n = 0u64;
                    for r in rb.clone() {
                        for c in cb.clone() {
                            let mut index = at.clone();
                            index[rows] = r;
                            index[cols] = c;
                            n += u64::from(structurally_nonzero(&f, &index));
                        }
                    }
                    expected.push(n);
                }
            }
            prop_assert_eq!(counts, expected);
        }

        #[test]
        fn chunks_of_an_enumeration_are_its_pieces(
            f in random_formula(),
            start in 0u128..100,
            count in 0u128..100,
        ) {
            let full: Vec<Range<usize>> = f.shape().iter().map(|&d| 0..d).collect();
            for p in term_patterns(&f) {
                let odometer = Odometer::new(&p, &full).unwrap();
                let len = odometer.len();
                prop_assert_eq!(len, p.count());
                let mut index = vec![0; 4];
                let mut all = Vec::new();
                odometer.entries(0, len, &mut index, |ix| all.push(ix.to_vec()));
                prop_assert_eq!(all.len() as u128, len);
                prop_assert!(all.iter().all(|ix| p.contains(ix)));
                prop_assert!(all.windows(2).all(|w| w[0] < w[1]), "distinct, in order");
                let start = start.min(len);
                let count = count.min(len - start);
                let mut piece = Vec::new();
                odometer.entries(start, count, &mut index, |ix| piece.push(ix.to_vec()));
                prop_assert_eq!(&piece[..], &all[start as usize..(start + count) as usize]);
            }
        }

        #[test]
        fn run_overlaps_agree_with_membership(f in random_formula()) {
            // Every run of every pattern, tested against every pattern.
            let full: Vec<Range<usize>> = f.shape().iter().map(|&d| 0..d).collect();
            let patterns = term_patterns(&f);
            for p in &patterns {
                p.for_each_run_in_box(&full, |index, axes, first, len| {
                    for q in &patterns {
                        let overlap = q.run_overlap(index, axes, first, len);
                        let mut entry = index.to_vec();
                        for d in 0..len {
                            for &a in axes {
                                entry[a] = first + d;
                            }
                            assert_eq!(overlap.contains(d), q.contains(&entry), "{overlap:?}");
                        }
                    }
                });
            }
        }

        #[test]
        fn slice_enumeration_matches_brute_force(
            f in random_formula(),
            rows in 0usize..4,
            cols in 0usize..4,
            at in [0usize..3, 0usize..3, 0usize..3, 0usize..3],
        ) {
            prop_assume!(rows != cols);
            let dims = f.shape();
            let at: Vec<usize> = (0..4).map(|p| at[p] % dims[p]).collect();
            let mut seen = std::collections::BTreeSet::new();
            let ranges = slice_box(&dims, (rows, cols), &at);
            for p in term_patterns(&f) {
                p.for_each_in_box(&ranges, |ix| { seen.insert((ix[rows], ix[cols])); });
            }
            let mut expected = std::collections::BTreeSet::new();
            for r in 0..dims[rows] {
                for c in 0..dims[cols] {
                    let mut index = at.clone();
                    index[rows] = r;
                    index[cols] = c;
                    if structurally_nonzero(&f, &index) {
                        expected.insert((r, c));
                    }
                }
            }
            prop_assert_eq!(seen, expected);
        }
    }
}
