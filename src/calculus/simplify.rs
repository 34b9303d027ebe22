//! Simplification of a raw index formula: delta elimination, canonical form, like terms.
//!
//! Each term is simplified on its own: deltas on summation indices are eliminated by
//! substitution (Σ_m δ(m,l)·W[j,m] → W[j,l]), summation indices read by no factor become a
//! factor of their range (Σ_m 1 → dim), and the remaining deltas (between free indices and
//! positions) are put in a canonical form. Then summation indices are renamed canonically
//! and like terms are merged. The tensor list is kept as it is, so tensors keep their ids
//! (and their display names) between the raw and the simplified formula.

use std::collections::BTreeSet;

use super::formula::{Factor, Formula, IndexId, Slot, Term, name_summations};

/// Simplifies a formula without changing its value at any index.
///
/// In each term: deltas on summation indices are eliminated by substitution; δ(a,a) → 1;
/// δ between two different positions zeroes the term; a summation index that no factor
/// reads multiplies the coefficient by its range; tensor factors read each free index as
/// the smallest index of its delta class (δ(i,k)·A[k,l] → δ(i,k)·A[i,l]); deltas come
/// first, deduplicated and oriented, then tensors, in a canonical order; summation indices
/// are renamed m, n, p, … by first appearance. Then like terms are merged and zero terms
/// dropped. Free indices keep their ids; unused summation indices are dropped.
pub fn simplify(raw: &Formula) -> Formula {
    let terms = raw
        .terms
        .iter()
        .filter_map(|term| simplify_term(raw, term))
        .collect();
    let named = name_summations(&Formula {
        terms,
        ..raw.clone()
    });
    let merged = merge_like_terms(named.terms);
    // Renaming again drops the summation indices of the terms that cancelled.
    name_summations(&Formula {
        terms: merged,
        ..named
    })
}

/// One term simplified (see [`simplify`]), or `None` if it is identically zero.
fn simplify_term(formula: &Formula, term: &Term) -> Option<Term> {
    let mut coeff = term.coeff;
    let mut sums = term.sums.clone();
    let mut factors = term.factors.clone();

    // Eliminate every delta that has a summation side, or that compares positions.
    let summed =
        |slot: Slot, sums: &[IndexId]| matches!(slot, Slot::Index(id) if sums.contains(&id));
    while let Some(pos) = factors.iter().position(|f| match *f {
        Factor::Delta(a, b) => {
            a == b
                || summed(a, &sums)
                || summed(b, &sums)
                || matches!((a, b), (Slot::Fixed(_), Slot::Fixed(_)))
        }
        Factor::Tensor { .. } => false,
    }) {
        let Factor::Delta(a, b) = factors.remove(pos) else {
            unreachable!("only deltas are selected")
        };
        let (gone, kept) = match (a, b) {
            _ if a == b => continue,
            (Slot::Fixed(_), Slot::Fixed(_)) => return None,
            (Slot::Index(m), other) if sums.contains(&m) => (m, other),
            (other, Slot::Index(m)) => (m, other),
            (Slot::Index(_), Slot::Fixed(_)) => unreachable!("one side is summed"),
        };
        factors = factors
            .iter()
            .map(|f| f.map_slots(|s| if s == Slot::Index(gone) { kept } else { s }))
            .collect();
        sums.retain(|&m| m != gone);
    }

    // Σ_m over an expression that does not read m is dim(m) times the expression.
    let read: BTreeSet<Slot> = factors.iter().flat_map(Factor::slots).collect();
    sums.retain(|&m| {
        let used = read.contains(&Slot::Index(m));
        if !used {
            coeff *= formula.indices[m].dim as f64;
        }
        used
    });

    // The remaining deltas join free indices (and positions) into classes.
    let mut classes: Vec<BTreeSet<Slot>> = Vec::new();
    let (deltas, tensors): (Vec<Factor>, Vec<Factor>) = factors
        .into_iter()
        .partition(|f| matches!(f, Factor::Delta(..)));
    for delta in &deltas {
        let pair: BTreeSet<Slot> = delta.slots().into_iter().collect();
        let (joined, apart): (Vec<_>, Vec<_>) = classes
            .into_iter()
            .partition(|class| !class.is_disjoint(&pair));
        let mut class = pair;
        for other in joined {
            class.extend(other);
        }
        classes = apart;
        classes.push(class);
    }
    classes.sort();
    let mut canonical = Vec::new();
    let mut representative = Vec::new();
    for class in &classes {
        if class.iter().filter(|s| matches!(s, Slot::Fixed(_))).count() > 1 {
            return None; // δ(x,0)·δ(x,1)
        }
        // Index slots sort before fixed ones, and every class has an index slot.
        let mut members = class.iter().copied();
        let rep = members.next().expect("a class has two members");
        for member in members {
            canonical.push(Factor::Delta(rep, member));
            if let Slot::Index(_) = member {
                representative.push((member, rep));
            }
        }
    }
    let to_rep = |s: Slot| match representative.iter().find(|(m, _)| *m == s) {
        Some(&(_, rep)) => rep,
        None => s,
    };
    let mut tensors: Vec<Factor> = tensors.iter().map(|f| f.map_slots(to_rep)).collect();
    // Order tensors ignoring the (not yet canonical) names of summation indices.
    tensors.sort_by_key(|f| {
        f.map_slots(|s| {
            if summed(s, &sums) {
                Slot::Index(IndexId::MAX)
            } else {
                s
            }
        })
    });
    canonical.extend(tensors);
    Some(Term {
        coeff,
        sums,
        factors: canonical,
    })
}

/// Adds the coefficients of terms with the same summation indices and factors, and drops
/// terms whose coefficients cancel (to rounding).
fn merge_like_terms(terms: Vec<Term>) -> Vec<Term> {
    let mut merged: Vec<(Term, f64)> = Vec::new();
    for term in terms {
        match merged
            .iter_mut()
            .find(|(t, _)| t.sums == term.sums && t.factors == term.factors)
        {
            Some((t, magnitude)) => {
                t.coeff += term.coeff;
                *magnitude += term.coeff.abs();
            }
            None => {
                let magnitude = term.coeff.abs();
                merged.push((term, magnitude));
            }
        }
    }
    merged
        .into_iter()
        .filter(|(t, magnitude)| t.coeff.abs() > 1e-12 * magnitude)
        .map(|(t, _)| t)
        .collect()
}
#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::calculus::formula::{IndexRole, IndexVar, TensorDef};
    use crate::calculus::render::{Notation, render};
    use crate::calculus::test_support::{LINEAR, all_indices, graph, tensors, value_at};
    use crate::calculus::{jacobian_formula, raw_formula};
    use crate::check::{agrees, finite_difference};
    use crate::eval::evaluate;
    use crate::expr::check_wrt;
    use crate::inputs::Inputs;

    /// The simplified formula of `source` wrt `wrt`, in ASCII.
    fn ascii(source: &str, shapes: &[(&str, &str)], wrt: &str) -> String {
        let g = graph(source, shapes);
        let f = jacobian_formula(&g, g.input(wrt).unwrap());
        render(&f, &g, Notation::Ascii)
    }

    #[test]
    fn linear_layer_wrt_x_is_delta_times_w() {
        let g = graph("X @ W.T", LINEAR);
        let f = jacobian_formula(&g, g.input("X").unwrap());
        assert_eq!(render(&f, &g, Notation::Ascii), "delta(i,k)*W[j,l]");
        assert_eq!(render(&f, &g, Notation::Unicode), "δ(i,k)·W[j,l]");
        assert_eq!(render(&f, &g, Notation::Latex), r"\delta_{ik} W_{jl}");
        assert_eq!(f.shape(), vec![3, 2, 3, 4]);
        // Only the four free indices remain.
        assert_eq!(f.indices.len(), 4);
    }

    #[test]
    fn linear_layer_wrt_w_is_delta_times_x() {
        let g = graph("X @ W.T", LINEAR);
        let f = jacobian_formula(&g, g.input("W").unwrap());
        assert_eq!(render(&f, &g, Notation::Ascii), "delta(j,k)*X[i,l]");
        assert_eq!(render(&f, &g, Notation::Unicode), "δ(j,k)·X[i,l]");
        assert_eq!(render(&f, &g, Notation::Latex), r"\delta_{jk} X_{il}");
    }

    #[test]
    fn closed_forms_of_the_usual_examples() {
        // (expression, variable shapes, wrt, expected ASCII formula)
        type Case = (
            &'static str,
            &'static [(&'static str, &'static str)],
            &'static str,
            &'static str,
        );
        let cases: &[Case] = &[
            (
                "X @ X.T",
                &[("X", "3x4")],
                "X",
                "delta(i,k)*X[j,l] + delta(j,k)*X[i,l]",
            ),
            (
                "relu(X @ W.T + b)",
                LINEAR,
                "X",
                "delta(i,k)*relu'(Z1)[i,j]*W[j,l]",
            ),
            (
                "relu(X @ W.T + b)",
                LINEAR,
                "W",
                "delta(j,k)*relu'(Z1)[i,j]*X[i,l]",
            ),
            (
                "relu(X @ W.T + b)",
                LINEAR,
                "b",
                "delta(j,k)*relu'(Z1)[i,j]",
            ),
            (
                "softmax(X @ W.T, axis=1)",
                LINEAR,
                "X",
                "delta(i,k)*Y[i,j]*W[j,l] - sum_m delta(i,k)*Y[i,j]*Y[i,m]*W[m,l]",
            ),
            // d inv(X) = −inv(X)·dX·inv(X): −B[i,k]·B[l,j] with B = Y = inv(X).
            ("inv(X)", &[("X", "3x3")], "X", "-Y[i,k]*Y[l,j]"),
            ("det(X)", &[("X", "3x3")], "X", "Y*inv(X)[l,k]"),
            ("trace(X @ W)", &[("X", "3x4"), ("W", "4x3")], "X", "W[l,k]"),
            ("sum(X)", &[("X", "3x4")], "X", "1"),
            ("mean(X)", &[("X", "2x4")], "X", "1/8"),
            ("mean(X, axis=0)", &[("X", "3x4")], "X", "(1/3)*delta(i,l)"),
            (
                "X * W",
                &[("X", "3x4"), ("W", "3x4")],
                "X",
                "delta(i,k)*delta(j,l)*W[i,j]",
            ),
            (
                "X * X",
                &[("X", "3x4")],
                "X",
                "2*delta(i,k)*delta(j,l)*X[i,j]",
            ),
            (
                "X + b",
                &[("X", "3x4"), ("b", "1x4")],
                "b",
                "delta(j,l)*delta(k,0)",
            ),
            ("X + b", &[("X", "3x4"), ("b", "4")], "b", "delta(j,k)"),
            ("X + c", &[("X", "3x4"), ("c", "scalar")], "c", "1"),
            (
                "sum(X + b, axis=0)",
                &[("X", "3x4"), ("b", "4")],
                "b",
                "3*delta(i,k)",
            ),
            (
                "sum(X, axis=1, keepdims=true)",
                &[("X", "3x4")],
                "X",
                "delta(i,k)",
            ),
            (
                "sum(X, axis=0, keepdims=true)",
                &[("X", "3x4")],
                "X",
                "delta(j,l)",
            ),
            ("X @ v", &[("X", "3x4"), ("v", "4")], "v", "X[i,k]"),
            ("v @ v", &[("v", "4")], "v", "2*v[k]"),
            (
                "logsumexp(X, axis=1)",
                &[("X", "3x4")],
                "X",
                "delta(i,k)*softmax(X)[i,l]",
            ),
            (
                "var(X, axis=1)",
                &[("X", "3x4")],
                "X",
                "(1/2)*delta(i,k)*centered(X)[i,l]",
            ),
            ("X - X", &[("X", "3x4")], "X", "0"),
            (
                "W @ W.T",
                &[("X", "3x4"), ("W", "2x4")],
                "W",
                "delta(i,k)*W[j,l] + delta(j,k)*W[i,l]",
            ),
        ];
        for (source, shapes, wrt, expected) in cases {
            assert_eq!(ascii(source, shapes, wrt), *expected, "{source} wrt {wrt}");
        }
    }

    #[test]
    fn an_expression_without_the_variable_has_no_terms() {
        let g = graph("X @ W.T + b", LINEAR);
        let f = jacobian_formula(&g, g.input("b").unwrap());
        assert_eq!(render(&f, &g, Notation::Ascii), "delta(j,k)");
        let g = graph("sum(W) + X", &[("X", "3x4"), ("W", "2x4")]);
        let f = jacobian_formula(&g, g.input("W").unwrap());
        assert_eq!(render(&f, &g, Notation::Ascii), "1");
        let f = jacobian_formula(&g, g.input("X").unwrap());
        assert_eq!(render(&f, &g, Notation::Ascii), "delta(i,k)*delta(j,l)");
    }

    /// A hand-made formula J[i,k] (i, k of range 3) with one summation index m of range 5.
    fn formula_with(terms: Vec<Term>) -> Formula {
        let var = |name: &str, dim, role| IndexVar {
            name: name.to_string(),
            dim,
            role,
        };
        Formula {
            indices: vec![
                var("i", 3, IndexRole::Output),
                var("k", 3, IndexRole::Input),
                var("m", 5, IndexRole::Summation),
            ],
            out: vec![0],
            input: vec![1],
            tensors: vec![TensorDef::Node(0)],
            terms,
        }
    }

    const I: Slot = Slot::Index(0);
    const K: Slot = Slot::Index(1);
    const M: Slot = Slot::Index(2);

    fn term(coeff: f64, sums: Vec<IndexId>, factors: Vec<Factor>) -> Term {
        Term {
            coeff,
            sums,
            factors,
        }
    }

    #[test]
    fn deltas_between_positions_and_repeated_indices() {
        let raw = formula_with(vec![
            term(
                1.0,
                vec![],
                vec![Factor::Delta(Slot::Fixed(0), Slot::Fixed(1))],
            ),
            term(
                2.0,
                vec![],
                vec![
                    Factor::Delta(Slot::Fixed(1), Slot::Fixed(1)),
                    Factor::Delta(K, I),
                ],
            ),
            term(
                1.0,
                vec![],
                vec![
                    Factor::Delta(I, Slot::Fixed(0)),
                    Factor::Delta(I, Slot::Fixed(2)),
                ],
            ),
        ]);
        let f = simplify(&raw);
        assert_eq!(f.terms, vec![term(2.0, vec![], vec![Factor::Delta(I, K)])]);
        assert_eq!(f.indices.len(), 2, "the unused summation index is dropped");
    }

    #[test]
    fn a_summation_index_no_factor_reads_counts_its_range() {
        // Σ_m δ(m,m)·δ(i,k) = 5·δ(i,k)
        let raw = formula_with(vec![term(
            1.0,
            vec![2],
            vec![Factor::Delta(M, M), Factor::Delta(I, K)],
        )]);
        assert_eq!(
            simplify(&raw).terms,
            vec![term(5.0, vec![], vec![Factor::Delta(I, K)])]
        );
    }

    #[test]
    fn free_indices_in_tensors_take_the_smallest_of_their_delta_class() {
        // δ(k,i)·A[k] + Σ_m δ(m,i)·δ(m,k)·A[m]  →  2·δ(i,k)·A[i]
        let a = |slot| Factor::Tensor {
            tensor: 0,
            slots: vec![slot],
        };
        let raw = formula_with(vec![
            term(1.0, vec![], vec![a(K), Factor::Delta(K, I)]),
            term(
                1.0,
                vec![2],
                vec![Factor::Delta(M, I), a(M), Factor::Delta(M, K)],
            ),
        ]);
        assert_eq!(
            simplify(&raw).terms,
            vec![term(2.0, vec![], vec![Factor::Delta(I, K), a(I)])]
        );
    }

    #[test]
    fn like_terms_merge_and_cancel() {
        let a = |slot| Factor::Tensor {
            tensor: 0,
            slots: vec![slot],
        };
        let raw = formula_with(vec![
            term(0.1, vec![2], vec![a(M), a(I)]),
            term(0.2, vec![2], vec![a(I), a(M)]),
            term(-0.3, vec![2], vec![a(M), a(I)]),
        ]);
        let f = simplify(&raw);
        assert!(f.terms.is_empty(), "{:?}", f.terms);
        assert_eq!(f.indices.len(), 2);
    }

    /// Expressions covering every operation, with the shapes of their variables.
    pub(crate) const SHAPES: &[(&str, &str)] = &[
        ("X", "3x4"),
        ("V", "3x4"),
        ("W", "2x4"),
        ("b", "2"),
        ("A", "3x3"),
        ("B", "3x3"),
        ("v", "4"),
        ("u", "3"),
        ("c", "scalar"),
        ("r", "1x4"),
        ("s", "3x1"),
    ];

    pub(crate) const EXPRESSIONS: &[&str] = &[
        "X @ W.T",
        "X @ X.T",
        "relu(X @ W.T + b)",
        "softmax(X @ W.T, axis=1)",
        "softmax(X, axis=0)",
        "softmax(v, axis=0)",
        "inv(A)",
        "det(A)",
        "trace(A @ B)",
        "trace(A)",
        "sum(X)",
        "mean(X, axis=0)",
        "mean(X, keepdims=true)",
        "sum(X, axis=1, keepdims=true)",
        "var(X, axis=1)",
        "var(X)",
        "std(X, axis=0, keepdims=true)",
        "std(X)",
        "logsumexp(X, axis=1)",
        "logsumexp(X)",
        "logsumexp(X, axis=0, keepdims=true)",
        "X * V",
        "X / (square(V) + 1)",
        "1 / (square(X) + 1)",
        "-X + 2 * X - X / 4",
        "exp(X) + log(square(X) + 1) + sqrt(exp(X)) + abs(X) + sin(X) + cos(X)",
        "tanh(X) + sigmoid(X) + relu(X) + softplus(X) + square(X)",
        "exp(X) ** 1.5",
        "X ** 3",
        "X @ v",
        "u @ X",
        "v @ v",
        "c * X",
        "X + c",
        "X + r",
        "(X + r) * s",
        "X * v",
        "inv(A.T) @ A",
        "relu(X.T) @ X",
        "det(A.T)",
        "(X.T ** 2).T",
        "inv(A) @ inv(A)",
        "sigmoid(X.T) * V.T",
        "sum(softmax(X @ W.T, axis=1) * log(softmax(X @ W.T, axis=1)))",
        "mean(sigmoid(X @ W.T + b) ** 2, axis=0)",
        "v.T @ v",
        "std(X @ W.T, axis=1) / (c * c + 1)",
        "det(A @ A.T + B)",
        "trace(inv(A) @ B)",
        "-(X - V) * -c",
        "X - X",
        "softmax(softmax(softmax(X, axis=1), axis=0), axis=1)",
        "softmax(softmax(softmax(softmax(X @ W.T, axis=1), axis=1), axis=0), axis=1)",
        "sign(X) * X + sign(X @ W.T) @ W",
        "sign(sign(X) + sign(V))",
        "outer(u, v)",
        "outer(X @ v, v) * V",
        "outer(v, v) @ X.T",
        "diag(u) @ X",
        "diag(v) @ X.T",
        "diag(A)",
        "diag(A @ B) * u",
        "diag(diag(A)) @ inv(A)",
        "trace(diag(X @ v)) * diag(A.T)",
        "eye(3) @ X",
        "(A + eye(3)) @ X",
        "inv(A + 2 * eye(3)) * sum(eye(4) @ X.T)",
        "kron(s, r) * X",
        "trace(kron(c * eye(1), A) @ B)",
        "log(abs(det(A)))",
        "sqrt(sum(square(X - V)))",
        "1 / det(A)",
        "trace(A @ A @ A @ A)",
        "trace(A @ A.T @ A @ A.T) + sum((A.T @ A) * (A.T @ A))",
        "trace(A @ A @ A) - trace(A.T @ A.T @ A.T)",
        "softmax(X @ W.T / 2, axis=1) @ W",
        "trace(A) * trace(A)",
        "exp(X) * log(square(X) + 1) * sqrt(abs(X) + 1)",
        "abs(X) * sign(X) * X",
        "tanh(X @ W.T) * sigmoid(X @ W.T)",
    ];

    /// For every expression and every variable it uses (but those under a `kron`, which
    /// `check_wrt` refuses), at every index of J: the raw and the simplified formula agree
    /// (simplification preserves values), and both agree with central finite differences
    /// of the forward pass.
    #[test]
    fn formulas_match_finite_differences_for_every_operation() {
        for source in EXPRESSIONS {
            let g = graph(source, SHAPES);
            let inputs = Inputs::new(&g, BTreeMap::new(), 3).unwrap();
            let values = evaluate(&g, &inputs).unwrap();
            for name in g.variables() {
                let wrt = match check_wrt(&g, name) {
                    Ok(wrt) => wrt,
                    Err(refused) if refused.message.contains("kron") => continue,
                    Err(refused) => panic!("{source} wrt {name}: {}", refused.message),
                };
                let raw = raw_formula(&g, wrt);
                let simple = simplify(&raw);
                let raw_tensors = tensors(&raw, &values);
                let simple_tensors = tensors(&simple, &values);
                for at in all_indices(&raw.shape()) {
                    let r = value_at(&raw, &raw_tensors, &at);
                    let s = value_at(&simple, &simple_tensors, &at);
                    let context = format!("{source} wrt {name} at {at:?}");
                    assert!(
                        (r - s).abs() <= 1e-10 * r.abs().max(1.0),
                        "{context}: raw {r}, simplified {s}"
                    );
                    let fd = finite_difference(&g, &inputs, name, &at).unwrap();
                    assert!(
                        agrees(s, &fd),
                        "{context}: formula {s}, finite difference {}",
                        fd.value
                    );
                }
            }
        }
    }
}
