//! Second derivatives: the first-order formula differentiated once more.
//!
//! `--wrt A,B` asks for J[out…, κ…, γ…] = ∂/∂B[γ] of ∂Y[out…]/∂A[κ], laid out
//! out.shape + A.shape + B.shape like `jax.jacrev(jax.jacrev(f, argnums=A), argnums=B)`;
//! `--wrt X,X` is the Hessian. The first-order formula (as the engine derives and
//! simplifies it, before any display-only rewrite) is differentiated term by term with the
//! product rule: deltas are constants, and every tensor a factor reads has its rule —
//!
//! | tensor T[α] | ∂T[α]/∂B[γ] |
//! |---|---|
//! | a node's value N | D(N)[α], by the first-order rules of `derive.rs` |
//! | f′(N) | f″(N)[α]·D(N)[α] (none for relu, abs, sign: f″ = 0; 2·D(N) for square) |
//! | f′(N) written through f(N) (`(1 − Y²)`) | the same: f″(N)[α]·D(N)[α], one term |
//! | N^p | p·N[α]^(p−1)·D(N)[α] |
//! | centered(N) over an axis | D(N)[α] − (1/n)·Σ_m D(N)[α with m on the axis] |
//! | softmax(N) = S over an axis | S[α]·D(N)[α] − S[α]·Σ_m S[α′]·D(N)[α′], α′ = α with m on the axis |
//! | inv(N) = V | −Σ_{m,n} V[a,m]·D(N)[m,n]·V[n,b] |
//!
//! (an axis `None` means every axis, each with its own summation index). The result is
//! simplified like any formula.
//!
//! Index names: Y's axes are i, j and A's k, l as at first order; B's axes are g, h
//! ([`SECOND_INPUT_NAMES`]), letters that are neither free nor summation names (m, n, p, q,
//! r, s, t, u, v, m1, …), so no name in a second-order formula has two meanings.

use super::derive::{Deriver, Product, TooManyTerms, attach, scale};
use super::formula::{
    Factor, Formula, IndexId, IndexRole, IndexVar, Slot, TensorDef, Term, name_summations,
};
use super::jacobian_formula;
use super::render::{Names, Notation, Symbols, definitions, indexed, node_name, render_named};
use super::steps::{Step, step_lines, where_lines};
use crate::expr::{ElemFn, Graph, NodeId};

/// Names of the free indices over the second variable's axes, by axis.
pub const SECOND_INPUT_NAMES: [&str; 2] = ["g", "h"];

/// The second derivative before simplification, and the first-order formula it
/// differentiates, written over the same index variables and tensors (so that both, and
/// the simplified result, name every intermediate alike).
pub struct SecondDerivation {
    /// ∂Y/∂A as given, its indices renumbered to make room for B's axes.
    pub first: Formula,
    /// ∂/∂B of `first` by the product rule and the rules of the module doc, unsimplified.
    pub raw: Formula,
}

/// Differentiates the first-order Jacobian `first` (∂Y/∂A of `graph`'s root, as
/// [`super::jacobian_formula`] gives it) with respect to the input node `wrt` (B): J[out…,
/// κ…, γ…], with B's axes appended to `input` (role [`IndexRole::SecondInput`]). Refused if
/// it has more than `max_terms` terms; [`super::second_formula_within`] simplifies it.
pub fn second_derivation(
    graph: &Graph,
    first: &Formula,
    wrt: NodeId,
    max_terms: usize,
) -> Result<SecondDerivation, TooManyTerms> {
    let (formula, second) = with_second_axes(first, graph, wrt);
    let input_slots = second.iter().map(|&g| Slot::Index(g)).collect();
    let mut deriver = Deriver::continuing(
        graph,
        wrt,
        input_slots,
        (formula.indices.clone(), formula.tensors.clone()),
        max_terms,
    );
    let mut terms = Vec::new();
    for term in &formula.terms {
        for (n, factor) in term.factors.iter().enumerate() {
            let Factor::Tensor { tensor, slots } = factor else {
                continue;
            };
            let def = deriver.tensors[*tensor].clone();
            let derivative = derive_tensor(&mut deriver, &def, slots)?;
            let before = Product {
                coeff: 1.0,
                factors: term.factors[..n].to_vec(),
            };
            let after = Product {
                coeff: 1.0,
                factors: term.factors[n + 1..].to_vec(),
            };
            terms.extend(attach(derivative, term.coeff, &term.sums, &before, &after));
            if terms.len() > max_terms {
                return Err(TooManyTerms { limit: max_terms });
            }
        }
    }
    let mut input = formula.input.clone();
    input.extend(second);
    let raw = name_summations(&Formula {
        indices: deriver.indices,
        out: formula.out.clone(),
        input,
        tensors: deriver.tensors,
        terms,
    });
    // Its own summation names: `raw` renumbers its summations term by term, so its index
    // list does not fit `first`'s terms (nor exists when every term vanishes: relu″ = 0).
    let first = name_summations(&formula);
    Ok(SecondDerivation { first, raw })
}

/// The left-hand side `∂²Y[i,j]/∂X[k,l]∂W[g,h]` of a second-order `formula` with respect to
/// the input nodes `a` then `b` (ASCII `d^2Y[i,j]/dX[k,l]dW[g,h]`, LaTeX
/// `\frac{\partial^2 Y_{ij}}{\partial X_{kl} \partial W_{gh}}`).
pub fn lhs(
    formula: &Formula,
    graph: &Graph,
    (a, b): (NodeId, NodeId),
    notation: Notation,
) -> String {
    let names = |role: IndexRole| -> Vec<String> {
        formula
            .input
            .iter()
            .chain(&formula.out)
            .map(|&id| &formula.indices[id])
            .filter(|v| v.role == role)
            .map(|v| v.name.clone())
            .collect()
    };
    let at = |node: NodeId, role: IndexRole| {
        indexed(
            &node_name(formula, graph, node, notation),
            &names(role),
            notation,
        )
    };
    let y = at(graph.root, IndexRole::Output);
    let (x, w) = (at(a, IndexRole::Input), at(b, IndexRole::SecondInput));
    let d = Symbols::of(notation).partial;
    match notation {
        Notation::Unicode => format!("{d}²{y}/{d}{x}{d}{w}"),
        Notation::Ascii => format!("{d}^2{y}/{d}{x}{d}{w}"),
        Notation::Latex => format!("\\frac{{{d}^2 {y}}}{{{d} {x} {d} {w}}}"),
    }
}

/// The derivation of the second-order `formula` (∂/∂B of ∂Y/∂A, A and B the input nodes
/// `a`, `b`) as a worked answer: the first-order formula, each of its factors differentiated
/// with respect to B, and the result simplified.
pub fn derivation_steps(graph: &Graph, (a, b): (NodeId, NodeId), formula: &Formula) -> Vec<Step> {
    let first = jacobian_formula(graph, a);
    let derivation = second_derivation(graph, &first, b, usize::MAX)
        .unwrap_or_else(|_| unreachable!("no formula has more than usize::MAX terms"));
    let step = |title: String, write: &dyn Fn(Notation) -> String| Step {
        title,
        unicode: write(Notation::Unicode),
        ascii: write(Notation::Ascii),
        latex: write(Notation::Latex),
    };
    // One set of names for every step, numbered from the result's, so that a name means
    // one node throughout (the first-order formula can read nodes the result does not).
    let names = Names::of(&[formula, &derivation.first, &derivation.raw], graph);
    let b_name = |notation| node_name(formula, graph, b, notation);
    // The intermediates the steps read that the result's `where` list does not define.
    let defined: Vec<String> = definitions(formula, graph)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let read: Vec<&str> = [&derivation.first, &derivation.raw]
        .into_iter()
        .flat_map(|f| {
            f.terms
                .iter()
                .flat_map(|term| &term.factors)
                .filter_map(|factor| match factor {
                    Factor::Tensor { tensor, .. } => names.get(f.tensors[*tensor].node()),
                    Factor::Delta(..) => None,
                })
        })
        .collect();
    let undefined = names
        .intermediates()
        .filter(|(_, name)| read.contains(name) && !defined.iter().any(|d| d == name));
    let undefined: Vec<(NodeId, &str)> = undefined.collect();
    vec![
        step(
            "Differentiate once (the first-order formula)".to_string(),
            &|notation| {
                let mut lines = vec![format!(
                    "{} = {}",
                    super::render::lhs(&derivation.first, graph, a, notation),
                    render_named(&derivation.first, &names, notation)
                )];
                lines.extend(where_lines(graph, &names, undefined.clone(), notation));
                step_lines(&lines, notation)
            },
        ),
        step(
            format!(
                "Differentiate each factor with respect to {} (product rule; f{p} gives f{p}{p})",
                b_name(Notation::Unicode),
                p = Symbols::of(Notation::Unicode).prime
            ),
            &|notation| {
                format!(
                    "{} = {}",
                    lhs(&derivation.raw, graph, (a, b), notation),
                    render_named(&derivation.raw, &names, notation)
                )
            },
        ),
        step(
            "Eliminate the deltas over summation indices and simplify".to_string(),
            &|notation| {
                format!(
                    "{} = {}",
                    lhs(formula, graph, (a, b), notation),
                    render_named(formula, &names, notation)
                )
            },
        ),
    ]
}

/// `first` with free indices for the axes of the input node `wrt` (named g, h) placed right
/// after its own free indices, before the summation indices (which `name_summations`
/// expects), and the ids of those new indices.
fn with_second_axes(first: &Formula, graph: &Graph, wrt: NodeId) -> (Formula, Vec<IndexId>) {
    let free = first.free().len();
    debug_assert!(
        first.free().iter().all(|&id| id < free),
        "free indices come first"
    );
    let dims = graph.node(wrt).shape.dims();
    let new_id = |id: IndexId| if id < free { id } else { id + dims.len() };
    let second: Vec<IndexId> = (free..free + dims.len()).collect();
    let mut indices = first.indices[..free].to_vec();
    indices.extend(
        dims.iter()
            .zip(SECOND_INPUT_NAMES)
            .map(|(&dim, name)| IndexVar {
                name: name.to_string(),
                dim,
                role: IndexRole::SecondInput,
            }),
    );
    indices.extend_from_slice(&first.indices[free..]);
    let slot = |s: Slot| match s {
        Slot::Index(id) => Slot::Index(new_id(id)),
        Slot::Fixed(_) => s,
    };
    let terms = first
        .terms
        .iter()
        .map(|term| Term {
            coeff: term.coeff,
            sums: term.sums.iter().map(|&id| new_id(id)).collect(),
            factors: term.factors.iter().map(|f| f.map_slots(slot)).collect(),
        })
        .collect();
    let formula = Formula {
        indices,
        out: first.out.iter().map(|&id| new_id(id)).collect(),
        input: first.input.iter().map(|&id| new_id(id)).collect(),
        tensors: first.tensors.clone(),
        terms,
    };
    (formula, second)
}

/// What f″ is, for the rule of f′(N).
enum SecondDerivative {
    /// f″ = 0 (relu, abs, sign: f′ is constant away from the kink).
    Zero,
    /// f″ is a constant (2 for square).
    Constant(f64),
    /// f″ is a function of N: a tensor of its own.
    Tensor,
}

impl SecondDerivative {
    /// f″ of `func`, as the derivation uses it.
    fn of(func: ElemFn) -> SecondDerivative {
        match func {
            ElemFn::Relu | ElemFn::Abs | ElemFn::Sign => SecondDerivative::Zero,
            ElemFn::Square => SecondDerivative::Constant(2.0),
            ElemFn::Exp
            | ElemFn::Log
            | ElemFn::Sqrt
            | ElemFn::Sin
            | ElemFn::Cos
            | ElemFn::Tanh
            | ElemFn::Sigmoid
            | ElemFn::Softplus => SecondDerivative::Tensor,
        }
    }
}

/// ∂T[slots]/∂B[γ] for the tensor `def` of the formula being differentiated, by the rules
/// of the module doc.
fn derive_tensor(
    deriver: &mut Deriver,
    def: &TensorDef,
    slots: &[Slot],
) -> Result<Vec<Term>, TooManyTerms> {
    let node = def.node();
    if !deriver.depends_on(node) {
        return Ok(Vec::new());
    }
    let one = Product::one();
    Ok(match *def {
        TensorDef::Node(node) => deriver.derive(node, slots)?,
        TensorDef::ElemDeriv { func, arg } => derive_elem_deriv(deriver, func, arg, slots)?,
        // The same tensor f′(arg), written through f(arg): the same rule, one term.
        TensorDef::ElemDerivOfValue { func, arg, .. } => {
            derive_elem_deriv(deriver, func.func(), arg, slots)?
        }
        TensorDef::ElemSecondDeriv { .. } => unreachable!(
            "a first-order formula has no f″ tensors; third derivatives are not derived"
        ),
        TensorDef::Power { arg, exponent } => {
            let power = deriver.power(arg, exponent - 1.0, slots);
            attach(deriver.derive(arg, slots)?, exponent, &[], &power, &one)
        }
        TensorDef::Centered { arg, axis } => {
            let (along, sums, n) = along_axes(deriver, arg, axis, slots);
            let mut terms = deriver.derive(arg, slots)?;
            let mean = deriver.derive(arg, &along)?;
            terms.extend(attach(mean, -1.0 / n as f64, &sums, &one, &one));
            terms
        }
        TensorDef::Softmax { arg, axis } => {
            let softmax = |deriver: &mut Deriver, at: &[Slot]| {
                deriver.tensor(TensorDef::Softmax { arg, axis }, at.to_vec())
            };
            let s = softmax(deriver, slots);
            let (along, sums, _) = along_axes(deriver, arg, axis, slots);
            let s_s = softmax(deriver, slots).times(softmax(deriver, &along));
            let mut terms = attach(deriver.derive(arg, slots)?, 1.0, &[], &s, &one);
            let inner = deriver.derive(arg, &along)?;
            terms.extend(attach(inner, -1.0, &sums, &s_s, &one));
            terms
        }
        TensorDef::Inverse { arg } => {
            let n = deriver.graph.node(arg).shape.dims()[0];
            let (m, p) = (deriver.fresh(n), deriver.fresh(n));
            let inverse = TensorDef::Inverse { arg };
            let before = deriver.tensor(inverse.clone(), vec![slots[0], Slot::Index(m)]);
            let after = deriver.tensor(inverse, vec![Slot::Index(p), slots[1]]);
            let inner = deriver.derive(arg, &[Slot::Index(m), Slot::Index(p)])?;
            attach(inner, -1.0, &[m, p], &before, &after)
        }
    })
}

/// ∂f′(arg)[slots]/∂B[γ] = f″(arg)[slots]·D(arg)[slots] (none where f″ = 0).
fn derive_elem_deriv(
    deriver: &mut Deriver,
    func: ElemFn,
    arg: NodeId,
    slots: &[Slot],
) -> Result<Vec<Term>, TooManyTerms> {
    Ok(match SecondDerivative::of(func) {
        SecondDerivative::Zero => Vec::new(),
        SecondDerivative::Constant(c) => scale(deriver.derive(arg, slots)?, c),
        SecondDerivative::Tensor => {
            let f2 = deriver.tensor(TensorDef::ElemSecondDeriv { func, arg }, slots.to_vec());
            attach(deriver.derive(arg, slots)?, 1.0, &[], &f2, &Product::one())
        }
    })
}

/// The slots of `arg` read along the reduced axes (`axis`, or every axis for `None`) by
/// fresh summation indices, the other axes at `slots`; the summation indices; the number
/// of entries summed over.
fn along_axes(
    deriver: &mut Deriver,
    arg: NodeId,
    axis: Option<usize>,
    slots: &[Slot],
) -> (Vec<Slot>, Vec<IndexId>, usize) {
    let dims = deriver.graph.node(arg).shape.dims().to_vec();
    let reduced: Vec<usize> = match axis {
        Some(axis) => vec![axis],
        None => (0..dims.len()).collect(),
    };
    let mut along = slots.to_vec();
    let mut sums = Vec::new();
    for &a in &reduced {
        let m = deriver.fresh(dims[a]);
        along[a] = Slot::Index(m);
        sums.push(m);
    }
    let n = reduced.iter().map(|&a| dims[a]).product();
    (along, sums, n)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::calculus::render::{Notation, render};
    use crate::calculus::test_support::{all_indices, graph, tensors, value_at};
    use crate::check::{agrees, finite_difference};
    use crate::eval::evaluate;
    use crate::expr::typecheck::check_wrt;
    use crate::inputs::Inputs;

    /// Small shapes, so that every entry of every second derivative is checked.
    const SHAPES: &[(&str, &str)] = &[
        ("X", "2x3"),
        ("W", "2x3"),
        ("b", "2"),
        ("A", "2x2"),
        ("v", "3"),
        ("c", "scalar"),
        ("r", "1x3"),
    ];

    /// Every operation and every elementwise function of the language, composed so that
    /// each tensor of a first-order formula (a node, f′, a power, centred values, softmax,
    /// an inverse) depends on the variables again.
    const EXPRESSIONS: &[&str] = &[
        "X @ W.T",
        "sum(X * X)",
        "trace(X.T @ A @ X)",
        "sum(exp(X) + log(square(X) + 1) + sqrt(exp(X)) + sin(X) + cos(X))",
        "tanh(X) + sigmoid(X) * softplus(X) + relu(X) * X + abs(X) * X + sign(X) * X",
        "sum(sigmoid(X @ W.T + b))",
        "softmax(X @ W.T, axis=1)",
        "softmax(X, axis=0) * X",
        "logsumexp(X, axis=1)",
        "logsumexp(X)",
        "var(X, axis=1) + std(X)",
        "var(X) * c",
        "std(X, axis=0, keepdims=true) + mean(X, axis=1, keepdims=true)",
        "inv(A) @ A",
        "det(A) * inv(A.T)",
        "log(abs(det(A)))",
        "X / (square(W) + 1)",
        "(X ** 3) * W + sqrt(square(X) + 1) ** -0.5",
        "exp(X) ** 1.5",
        "c * X * X + r * X",
        "X @ v * c",
        "outer(X @ v, v)",
        "diag(A @ A) * b",
        "sum(diag(X @ X.T))",
        "-(X - W) * -c / 2",
    ];

    /// For every expression and every ordered pair of its variables, at every index of J:
    /// the second-order formula agrees with second differences of forward evaluation (an
    /// independent witness), and its rendering names B's axes g, h.
    #[test]
    fn second_derivatives_match_second_differences_for_every_operation() {
        let mut checked = 0;
        for source in EXPRESSIONS {
            let g = graph(source, SHAPES);
            let inputs = Inputs::new(&g, BTreeMap::new(), 5).unwrap();
            let values = evaluate(&g, &inputs).unwrap();
            for a_name in g.variables() {
                for b_name in g.variables() {
                    let (a, b) = (
                        check_wrt(&g, a_name).unwrap(),
                        check_wrt(&g, b_name).unwrap(),
                    );
                    let f = crate::calculus::second_formula_within(&g, (a, b), usize::MAX).unwrap();
                    let expected_shape: Vec<usize> = [a, b]
                        .iter()
                        .flat_map(|&n| g.node(n).shape.dims().to_vec())
                        .fold(g.node(g.root).shape.dims().to_vec(), |mut s, d| {
                            s.push(d);
                            s
                        });
                    assert_eq!(f.shape(), expected_shape, "{source} wrt {a_name},{b_name}");
                    let t = tensors(&f, &values);
                    let wrt = format!("{a_name},{b_name}");
                    for at in all_indices(&f.shape()) {
                        let value = value_at(&f, &t, &at);
                        let fd = finite_difference(&g, &inputs, &wrt, &at).unwrap();
                        assert!(
                            agrees(value, &fd),
                            "{source} wrt {wrt} at {at:?}: formula {value}, second difference {} ({})",
                            fd.value,
                            render(&f, &g, Notation::Ascii)
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 5000, "{checked} entries checked");
    }

    fn ascii(source: &str, shapes: &[(&str, &str)], wrt: (&str, &str)) -> String {
        let g = graph(source, shapes);
        let (a, b) = (g.input(wrt.0).unwrap(), g.input(wrt.1).unwrap());
        let f = crate::calculus::second_formula_within(&g, (a, b), usize::MAX).unwrap();
        render(&f, &g, Notation::Ascii)
    }

    #[test]
    fn second_variable_axes_are_g_and_h() {
        assert_eq!(
            ascii("X @ W.T", &[("X", "3x4"), ("W", "2x4")], ("X", "W")),
            "delta(i,k)*delta(j,g)*delta(l,h)"
        );
        assert_eq!(
            ascii("X @ W.T", &[("X", "3x4"), ("W", "2x4")], ("X", "X")),
            "0"
        );
        assert_eq!(
            ascii("sum(tanh(v))", &[("v", "3")], ("v", "v")),
            "delta(k,g)*tanh''(v)[k]"
        );
        assert_eq!(
            ascii("sum(relu(v) + square(v))", &[("v", "3")], ("v", "v")),
            "2*delta(k,g)"
        );
    }

    /// Every intermediate a second-order derivation step reads (`Z2` of `Z2[k]`) is defined,
    /// by a `where` line of the steps or by the result's `where` list.
    #[test]
    fn every_name_the_steps_read_is_defined() {
        for source in EXPRESSIONS {
            let g = graph(source, SHAPES);
            for name in g.variables() {
                let a = check_wrt(&g, name).unwrap();
                let f = crate::calculus::second_formula_within(&g, (a, a), usize::MAX).unwrap();
                let steps = super::derivation_steps(&g, (a, a), &f);
                let text: Vec<&str> = steps.iter().map(|step| step.ascii.as_str()).collect();
                let text = text.join("\n");
                let mut defined: Vec<String> = crate::calculus::render::definitions(&f, &g)
                    .into_iter()
                    .map(|(name, _)| name)
                    .collect();
                defined.extend(text.lines().filter_map(|line| {
                    let line = line.trim_start().trim_start_matches("where ");
                    line.starts_with('Z')
                        .then(|| line.split(['[', ' ']).next().unwrap().to_string())
                }));
                let read = text
                    .match_indices('Z')
                    .map(|(at, _)| {
                        let digits: String = text[at + 1..]
                            .chars()
                            .take_while(char::is_ascii_digit)
                            .collect();
                        format!("Z{digits}")
                    })
                    .filter(|name| name.len() > 1);
                for name in read {
                    assert!(
                        defined.contains(&name),
                        "{source} by {name}: {name} is read but not defined in\n{text}\n{defined:?}"
                    );
                }
            }
        }
    }
}
