//! Like terms up to renaming of summation indices, seen through intermediates.
//!
//! ∂tr(X⁴)/∂X[k,l] simplifies to three terms, `2·Σ_m,n X[l,m]·X[n,k]·X[m,n]`,
//! `Σ_m X[l,m]·Z1[m,k]` and `Z2[l,k]` (Z1 = X @ X, Z2 = X @ X @ X), that are all
//! (X³)[l,k]. [`merged`] writes each term with its product intermediates inlined (a matrix
//! product as a sum over a new index, a transpose as swapped slots, `outer`, `trace`, `-`
//! and `*` of equal shapes as what they compute), merges the terms whose inlined forms are
//! equal up to a renaming of their summation indices and the order of their factors, and
//! drops the groups whose coefficients cancel. Each group is then written back with the
//! graph's product nodes folded in, the largest first, wherever a part of the product
//! (with summation indices of its own) is one: the three terms above become `4·Z2[l,k]`.

use super::formula::{Factor, Formula, IndexRole, IndexVar, Slot, TensorDef, Term, intern_tensor};
use super::same_nodes;
use crate::expr::{BinOp, Graph, NodeId, Op};

/// `formula` with like terms merged up to renaming of summation indices through
/// intermediates (see the module doc). Not simplified again: the caller does that.
pub fn merged(graph: &Graph, formula: &Formula) -> Formula {
    let rep = same_nodes::representatives(graph);
    let inliner = Inliner { graph, rep: &rep };
    let expanded: Vec<Expanded> = formula
        .terms
        .iter()
        .map(|term| inliner.term(formula, term))
        .collect();
    // Groups of like terms, as positions in `formula.terms`, in order of first appearance.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (n, form) in expanded.iter().enumerate() {
        match groups
            .iter_mut()
            .find(|group| same_product(&expanded[group[0]], form))
        {
            Some(group) => group.push(n),
            None => groups.push(vec![n]),
        }
    }
    let products = inliner.product_nodes();
    let mut result = Formula {
        terms: Vec::new(),
        ..formula.clone()
    };
    for group in groups {
        // Each term's value is its coefficient × its inlining's multiplier × one product.
        let scaled = |n: usize| formula.terms[n].coeff * expanded[n].multiplier;
        let total: f64 = group.iter().map(|&n| scaled(n)).sum();
        let magnitude: f64 = group.iter().map(|&n| scaled(n).abs()).sum();
        if total.abs() <= 1e-12 * magnitude {
            continue;
        }
        let mut form = expanded[group[0]].clone();
        for (node, pattern) in &products {
            while fold(&mut form, *node, pattern) {}
        }
        let term = written_back(&mut result, form, total);
        result.terms.push(term);
    }
    result
}

/// Where an inlined factor reads an axis: a free index of J, a fixed position, the `n`-th
/// summation index of the inlined term, or (in the inlined form of a node, a pattern to
/// fold) the node's `n`-th axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Free(usize),
    Fixed(usize),
    Summed(usize),
    Axis(usize),
}

/// What an inlined factor is: a Kronecker delta or a tensor no further inlined (its node
/// mapped to the node's representative).
#[derive(Debug, Clone, PartialEq)]
enum Leaf {
    Delta,
    Tensor(TensorDef),
}

/// A product with its product intermediates inlined: `multiplier` × Π factors, summed
/// over the indices `Label::Summed(0..dims.len())`, the `n`-th running over `0..dims[n]`.
#[derive(Debug, Clone, PartialEq)]
struct Expanded {
    multiplier: f64,
    dims: Vec<usize>,
    factors: Vec<(Leaf, Vec<Label>)>,
}

impl Expanded {
    /// A new summation index over `0..dim`.
    fn fresh(&mut self, dim: usize) -> Label {
        self.dims.push(dim);
        Label::Summed(self.dims.len() - 1)
    }
}

/// More inlined factors than this and a node is kept as it is: comparing two products
/// searches over pairings of their factors.
const MAX_FACTORS: usize = 24;

/// Inlines the product intermediates of a graph.
struct Inliner<'a> {
    graph: &'a Graph,
    rep: &'a [NodeId],
}

impl Inliner<'_> {
    /// `term` of `formula` with its product intermediates inlined (its coefficient left out).
    fn term(&self, formula: &Formula, term: &Term) -> Expanded {
        let label = |slot: Slot| match slot {
            Slot::Fixed(p) => Label::Fixed(p),
            Slot::Index(id) => match term.sums.iter().position(|&m| m == id) {
                Some(n) => Label::Summed(n),
                None => Label::Free(id),
            },
        };
        let mut form = Expanded {
            multiplier: 1.0,
            dims: term.sums.iter().map(|&m| formula.indices[m].dim).collect(),
            factors: Vec::new(),
        };
        for factor in &term.factors {
            let labels: Vec<Label> = factor.slots().into_iter().map(label).collect();
            match factor {
                Factor::Delta(..) => form.factors.push((Leaf::Delta, labels)),
                Factor::Tensor { tensor, .. } => match formula.tensors[*tensor] {
                    TensorDef::Node(node) => self.inline(node, labels, &mut form),
                    ref def => form.factors.push((Leaf::Tensor(def.clone()), labels)),
                },
            }
        }
        form
    }

    /// The graph's product nodes (their representatives) with their inlined forms read at
    /// their own axes, largest first: the patterns [`fold`] looks for. A node qualifies if
    /// its inlined form has more than one factor or a summation index (`trace(X)`), and no
    /// multiplier (`-Z` folds as Z).
    fn product_nodes(&self) -> Vec<(NodeId, Expanded)> {
        let mut products: Vec<(NodeId, Expanded)> = (0..self.graph.nodes.len())
            .filter(|&node| self.rep[node] == node)
            .map(|node| {
                let mut form = Expanded {
                    multiplier: 1.0,
                    dims: Vec::new(),
                    factors: Vec::new(),
                };
                let axes = (0..self.graph.node(node).shape.dims().len()).map(Label::Axis);
                self.inline(node, axes.collect(), &mut form);
                (node, form)
            })
            .filter(|(_, form)| {
                (form.factors.len() > 1 || !form.dims.is_empty()) && form.multiplier == 1.0
            })
            .collect();
        products.sort_by_key(|(node, form)| std::cmp::Reverse((form.factors.len(), *node)));
        products
    }

    /// Appends the value of `node` read at `labels` to `form`, inlined where it is a
    /// product of its operands.
    fn inline(&self, node: NodeId, labels: Vec<Label>, form: &mut Expanded) {
        let node = self.rep[node];
        let dims = |n: NodeId| self.graph.node(n).shape.dims();
        if form.factors.len() >= MAX_FACTORS {
            form.factors
                .push((Leaf::Tensor(TensorDef::Node(node)), labels));
            return;
        }
        match self.graph.node(node).op {
            Op::Transpose(a) if dims(a).len() == 2 => {
                self.inline(a, vec![labels[1], labels[0]], form)
            }
            Op::Transpose(a) => self.inline(a, labels, form),
            Op::Neg(a) => {
                form.multiplier = -form.multiplier;
                self.inline(a, labels, form);
            }
            Op::MatMul(a, b) => {
                let m = form.fresh(dims(b)[0]);
                let (left, right) = match (dims(a).len(), dims(b).len()) {
                    (2, 2) => (vec![labels[0], m], vec![m, labels[1]]),
                    (2, _) => (vec![labels[0], m], vec![m]),
                    (_, 2) => (vec![m], vec![m, labels[0]]),
                    _ => (vec![m], vec![m]),
                };
                self.inline(a, left, form);
                self.inline(b, right, form);
            }
            Op::Outer(a, b) => {
                self.inline(a, vec![labels[0]], form);
                self.inline(b, vec![labels[1]], form);
            }
            Op::Trace(a) => {
                let m = form.fresh(dims(a)[0]);
                self.inline(a, vec![m, m], form);
            }
            Op::Binary(BinOp::Mul, a, b) if dims(a) == dims(node) && dims(b) == dims(node) => {
                self.inline(a, labels.clone(), form);
                self.inline(b, labels, form);
            }
            _ => form
                .factors
                .push((Leaf::Tensor(TensorDef::Node(node)), labels)),
        }
    }
}

/// Whether two inlined products are the same up to a renaming of their summation indices
/// and the order of their factors (a delta read either way round); multipliers aside.
fn same_product(a: &Expanded, b: &Expanded) -> bool {
    a.dims.len() == b.dims.len()
        && a.factors.len() == b.factors.len()
        && Pairing::new(a, b).pair_from(0)
}

/// Replaces one part of `form` that is the product node `node` (inlined as `pattern`) by
/// the node, if `form` has such a part whose summation indices are its own; whether it did.
fn fold(form: &mut Expanded, node: NodeId, pattern: &Expanded) -> bool {
    let mut search = Pairing::new(pattern, form);
    search.private = true;
    if !search.pair_from(0) {
        return false;
    }
    let axes = search.axes.iter().map(|a| a.expect("every axis is read"));
    let folded = (Leaf::Tensor(TensorDef::Node(node)), axes.collect());
    let mut factors: Vec<(Leaf, Vec<Label>)> = form
        .factors
        .iter()
        .zip(&search.used)
        .filter(|(_, used)| !**used)
        .map(|(factor, _)| factor.clone())
        .collect();
    factors.push(folded);
    form.factors = factors;
    true
}

/// The term `coeff` × `form` in `formula`'s terms: its summation indices added to
/// `formula.indices` (named by the caller's simplification), its tensors to
/// `formula.tensors`.
fn written_back(formula: &mut Formula, form: Expanded, coeff: f64) -> Term {
    let mut sums = vec![None; form.dims.len()];
    let mut slot = |label: Label, formula: &mut Formula| match label {
        Label::Free(id) => Slot::Index(id),
        Label::Fixed(p) => Slot::Fixed(p),
        Label::Summed(n) => *sums[n].get_or_insert_with(|| {
            formula.indices.push(IndexVar {
                name: "m".to_string(),
                dim: form.dims[n],
                role: IndexRole::Summation,
            });
            Slot::Index(formula.indices.len() - 1)
        }),
        Label::Axis(_) => unreachable!("a term's labels are no pattern's axes"),
    };
    let mut factors = Vec::new();
    for (leaf, labels) in form.factors {
        let slots: Vec<Slot> = labels.into_iter().map(|l| slot(l, formula)).collect();
        factors.push(match leaf {
            Leaf::Delta => Factor::Delta(slots[0], slots[1]),
            Leaf::Tensor(def) => {
                let tensor = intern_tensor(&mut formula.tensors, def);
                Factor::Tensor { tensor, slots }
            }
        });
    }
    Term {
        coeff: coeff / form.multiplier,
        sums: sums
            .into_iter()
            .flatten()
            .map(|slot| match slot {
                Slot::Index(id) => id,
                Slot::Fixed(_) => unreachable!("a summation index is an index"),
            })
            .collect(),
        factors,
    }
}

/// A depth-first search for a pairing of the factors of `pattern` with distinct factors of
/// `target` under one renaming of the pattern's summation indices (and, for a node's
/// pattern, one reading of its axes).
struct Pairing<'a> {
    pattern: &'a Expanded,
    target: &'a Expanded,
    /// Which factors of `target` are paired already.
    used: Vec<bool>,
    /// The summation index of `target` each summation index of `pattern` is renamed to.
    renaming: Vec<Option<usize>>,
    /// The label of `target` each axis of the pattern is read at.
    axes: Vec<Option<Label>>,
    /// Whether the renamed summation indices must be read by no unpaired factor of
    /// `target` and by no axis (folding a part of a product) — otherwise every factor of
    /// `target` must be paired (comparing two products).
    private: bool,
    /// Pairings left to try: a search that runs out answers "no pairing".
    budget: usize,
}

impl<'a> Pairing<'a> {
    fn new(pattern: &'a Expanded, target: &'a Expanded) -> Self {
        let axes = pattern
            .factors
            .iter()
            .flat_map(|(_, labels)| labels)
            .filter_map(|label| match label {
                Label::Axis(a) => Some(a + 1),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        Pairing {
            pattern,
            target,
            used: vec![false; target.factors.len()],
            renaming: vec![None; pattern.dims.len()],
            axes: vec![None; axes],
            private: false,
            budget: 100_000,
        }
    }

    /// Whether factors `n..` of the pattern pair with unused factors of the target.
    fn pair_from(&mut self, n: usize) -> bool {
        let Some((leaf, labels)) = self.pattern.factors.get(n) else {
            return self.complete();
        };
        for m in 0..self.target.factors.len() {
            let (other_leaf, other_labels) = &self.target.factors[m];
            if self.used[m] || other_leaf != leaf || other_labels.len() != labels.len() {
                continue;
            }
            let mut orders = vec![other_labels.clone()];
            if *leaf == Leaf::Delta {
                orders.push(vec![other_labels[1], other_labels[0]]);
            }
            for order in orders {
                if self.budget == 0 {
                    return false;
                }
                self.budget -= 1;
                let saved = (self.renaming.clone(), self.axes.clone());
                if self.bind(labels, &order) {
                    self.used[m] = true;
                    if self.pair_from(n + 1) {
                        return true;
                    }
                    self.used[m] = false;
                }
                (self.renaming, self.axes) = saved;
            }
        }
        false
    }

    /// Extends the renaming and the axes so that `labels` (of the pattern) read as `other`
    /// (of the target), if they can.
    fn bind(&mut self, labels: &[Label], other: &[Label]) -> bool {
        labels.iter().zip(other).all(|(&x, &y)| match (x, y) {
            (Label::Summed(s), Label::Summed(t)) => match self.renaming[s] {
                Some(bound) => bound == t,
                None if self.renaming.contains(&Some(t)) => false,
                None => {
                    self.renaming[s] = Some(t);
                    true
                }
            },
            (Label::Summed(_), _) => false,
            (Label::Axis(a), y) => *self.axes[a].get_or_insert(y) == y,
            _ => x == y,
        })
    }

    /// Whether a full pairing of the pattern is acceptable (see `private`).
    fn complete(&self) -> bool {
        if !self.private {
            return self.used.iter().all(|&u| u);
        }
        let own =
            |label: &Label| matches!(label, Label::Summed(t) if self.renaming.contains(&Some(*t)));
        let read_outside = self
            .target
            .factors
            .iter()
            .zip(&self.used)
            .filter(|(_, used)| !**used)
            .any(|((_, labels), _)| labels.iter().any(own));
        !read_outside && !self.axes.iter().flatten().any(own)
    }
}

#[cfg(test)]
mod tests {
    use crate::calculus::test_support::explained;

    #[test]
    fn the_derivative_of_trace_x_to_the_fourth_is_one_term() {
        let (formula, names) = explained("trace(X @ X @ X @ X)", &[("X", "3x3")], "X");
        assert_eq!(formula, "4*Z1[l,k]");
        assert_eq!(names, ["Z1 = X @ X @ X"]);
    }

    #[test]
    fn like_terms_through_transposes_and_products_merge() {
        // (expression, wrt, formula): the terms are equal up to renaming summation indices.
        let cases: &[(&str, &str, &str)] = &[
            ("trace(X @ X @ X)", "X", "3*Z1[l,k]"),
            // tr((X Xᵀ)⁸): sixteen terms of 15 factors each, all ((X Xᵀ)⁷ X)[k,l].
            (
                "trace(X @ X.T @ X @ X.T @ X @ X.T @ X @ X.T @ X @ X.T @ X @ X.T @ X @ X.T @ X @ X.T)",
                "X",
                "16*Z1[k,l]",
            ),
            // tr(X Xᵀ X Xᵀ): four terms, all (X Xᵀ X)[k,l].
            ("trace(X @ X.T @ X @ X.T)", "X", "4*Z1[k,l]"),
            // ‖XᵀX‖² by X: 4·X XᵀX, whichever product the chain rule went through.
            ("sum((X.T @ X) * (X.T @ X))", "X", "4*sum_m Z1[l,m]*X[k,m]"),
            // Second order: ∂²tr(X⁴)/∂X[k,l]∂X[g,h] = 4·(δ(l,g)·(X²)[h,k] + δ(k,h)·(X²)[l,g]
            // + X[l,g]·X[h,k]); five terms before.
            (
                "trace(X @ X @ X @ X)",
                "X,X",
                "4*delta(l,g)*Z1[h,k] + 4*X[l,g]*X[h,k] + 4*delta(k,h)*Z1[l,g]",
            ),
        ];
        for (source, wrt, expected) in cases {
            let (formula, _) = explained(source, &[("X", "3x3")], wrt);
            assert_eq!(formula, *expected, "{source} wrt {wrt}");
        }
    }

    #[test]
    fn terms_equal_through_intermediates_cancel() {
        // tr(X³) − tr((Xᵀ)³) is identically zero.
        let (formula, names) = explained(
            "trace(X @ X @ X) - trace(X.T @ X.T @ X.T)",
            &[("X", "3x3")],
            "X",
        );
        assert_eq!(formula, "0");
        assert!(names.is_empty(), "{names:?}");
    }

    #[test]
    fn different_products_stay_apart() {
        // X·Xᵀ and Xᵀ·X read at the same free indices are different matrices.
        let (formula, _) = explained(
            "sum((X @ X.T) * A) + sum((X.T @ X) * A)",
            &[("X", "3x3"), ("A", "3x3")],
            "A",
        );
        assert_eq!(formula, "Z1[k,l] + Z2[k,l]");
    }
}
