//! An entry of J in words: its name (`∂Y[0,3]/∂X[0,7]`), why it is zero, and its
//! term-by-term breakdown. [`Jacobian::entry_name`] and [`TermBreakdown::line`] are the one
//! writer of an entry's name and of a term line for every view (`at`, the explorer).

use super::Jacobian;
use super::dense::scratch;
use super::plan::{Part, PartEval, TermPlan};
use crate::calculus::render::{self, Notation};
use crate::calculus::{Factor, Slot, TensorDef, Term};
use crate::expr::NodeId;
use crate::numfmt;

impl Jacobian {
    /// The name of J's entry at `index` in `notation`: `∂Y[0,3]/∂X[0,7]`, in ASCII
    /// `dY[0,3]/dX[0,7]` (a scalar side has no brackets: `∂Y/∂X[2]`); at second order
    /// `∂²Y[0]/∂X[0,7]∂W[1,2]` (ASCII `d^2Y[0]/dX[0,7]dW[1,2]`). The one writer of an
    /// entry's name. `index` must have one component per axis of J.
    pub fn entry_name(&self, index: &[usize], notation: Notation) -> String {
        let out_rank = self.formula().out.len();
        let bracket = |part: &[usize]| {
            if part.is_empty() {
                String::new()
            } else {
                let items: Vec<String> = part.iter().map(|i| i.to_string()).collect();
                format!("[{}]", items.join(","))
            }
        };
        let d = match notation {
            Notation::Ascii => "d",
            Notation::Unicode | Notation::Latex => "∂",
        };
        let a_rank = self.graph.node(self.wrt).shape.rank();
        let (y, rest) = index.split_at(out_rank);
        let (a, b) = rest.split_at(a_rank.min(rest.len()));
        let a_name = self.wrt_text.split(',').next().unwrap_or_default();
        match self.second {
            None => format!("{d}Y{}/{d}{a_name}{}", bracket(y), bracket(a)),
            Some(second) => {
                let squared = match notation {
                    Notation::Ascii => "^2",
                    Notation::Unicode | Notation::Latex => "²",
                };
                format!(
                    "{d}{squared}Y{}/{d}{a_name}{}{d}{}{}",
                    bracket(y),
                    bracket(a),
                    super::input_name(&self.graph, second),
                    bracket(b)
                )
            }
        }
    }

    /// The `--wrt` text of J: the name of the variable it differentiates with respect to
    /// (`X`), or at second order both names (`X,W`).
    pub fn wrt_name(&self) -> &str {
        &self.wrt_text
    }

    /// Why J is zero at `index`, in Unicode: see [`Self::why_zero_in`].
    pub fn why_zero(&self, index: &[usize]) -> Option<Vec<String>> {
        self.why_zero_in(index, Notation::Unicode)
    }

    /// Why J is zero at `index`, written in `notation`: `None` if it is not; otherwise
    /// one line per term naming the factor that vanishes there (`δ(i,k) = 0 since
    /// i = 3 ≠ k = 5`, `relu′(Z1)[3,7] = 0 (Z1[3,7] = −0.41)`, `W[2,5] = 0`), prefixed
    /// with `term n: ` when there are several terms, and a last line if the remaining
    /// terms cancel (`the terms cancel: 0.25 − 0.25`). The index must be valid.
    pub fn why_zero_in(&self, index: &[usize], notation: Notation) -> Option<Vec<String>> {
        if self.entry(index) != 0.0 {
            return None;
        }
        let terms = &self.bound.terms;
        if terms.is_empty() {
            let name = |node| render::node_name(self.formula(), &self.graph, node, notation);
            let (y, wrt) = (name(self.graph.root), name(self.wrt));
            return Some(vec![match self.second {
                None => format!("{y} does not depend on {wrt}"),
                Some(second) => {
                    let d = render::Symbols::of(notation).partial;
                    format!("{d}{y}/{d}{wrt} does not depend on {}", name(second))
                }
            }]);
        }
        let s = scratch(index);
        let mut lines = Vec::new();
        let mut surviving = Vec::new();
        for (n, term) in terms.iter().enumerate() {
            match self.vanishing_factor(term, index, notation) {
                Some(reason) if terms.len() == 1 => lines.push(reason),
                Some(reason) => lines.push(format!("term {}: {reason}", n + 1)),
                None => surviving.push(self.bound.term_value(term, &s)),
            }
        }
        match surviving.as_slice() {
            [] => {}
            [_] => lines.push("the product of the factors underflows to 0".to_string()),
            values => {
                let mut sum = value_text(values[0], notation);
                for &v in &values[1..] {
                    let sign = if v < 0.0 {
                        render::minus(notation)
                    } else {
                        "+"
                    };
                    sum.push_str(&format!(" {sign} {}", value_text(v.abs(), notation)));
                }
                let which = if lines.is_empty() { "the" } else { "the other" };
                lines.push(format!("{which} terms cancel: {sum}"));
            }
        }
        Some(lines)
    }

    /// Each term of J at `index`: its coefficient, its factors written at the index (a
    /// contraction as one factor, e.g. `Σ_m S[0,m]·W[m,7]`) with their values, and the
    /// term's value. The index must be valid.
    pub fn breakdown(&self, index: &[usize], notation: Notation) -> Vec<TermBreakdown> {
        let s = scratch(index);
        self.bound
            .terms
            .iter()
            .map(|term| TermBreakdown {
                coeff: term.coeff,
                factors: term
                    .parts
                    .iter()
                    .map(|part| FactorValue {
                        text: self.part_text(part, index, notation),
                        value: self.bound.part_value(term, part, &s),
                    })
                    .collect(),
                value: self.bound.term_value(term, &s),
                notation,
            })
            .collect()
    }

    /// Why `term` vanishes at `index`, or `None` if none of its factors does: a delta that
    /// does not hold comes first, then the first factor whose value is 0.
    fn vanishing_factor(
        &self,
        term: &TermPlan,
        index: &[usize],
        notation: Notation,
    ) -> Option<String> {
        if term.coeff == 0.0 {
            return Some("its coefficient is 0".to_string());
        }
        let s = scratch(index);
        let failed_delta =
            term.parts
                .iter()
                .find_map(|part| match (part.eval, part.factors.as_slice()) {
                    (PartEval::Delta(n), [Factor::Delta(a, b)]) if !term.conds[n].holds(&s) => {
                        Some((*a, *b, part))
                    }
                    _ => None,
                });
        if let Some((a, b, part)) = failed_delta {
            let formula = self.formula();
            let symbolic =
                render::render_factor(formula, &self.graph, &part.factors[0], notation, None);
            let side = |slot: Slot| match slot {
                Slot::Index(id) => {
                    let p = self.bound.positions[id].expect("top-level deltas relate free indices");
                    format!("{} = {}", formula.indices[id].name, index[p])
                }
                Slot::Fixed(c) => c.to_string(),
            };
            let differ = match notation {
                Notation::Unicode => "≠",
                Notation::Ascii => "!=",
                Notation::Latex => "\\neq",
            };
            return Some(format!(
                "{symbolic} = 0 since {} {differ} {}",
                side(a),
                side(b)
            ));
        }
        let part = term
            .parts
            .iter()
            .find(|part| self.bound.part_value(term, part, &s) == 0.0)?;
        let text = self.part_text(part, index, notation);
        let argument = match (part.eval, part.factors.as_slice()) {
            (PartEval::Read(n), [Factor::Tensor { tensor, slots }]) => {
                self.bound.args[*tensor].as_ref().map(|arg| {
                    // Only f′ and f″ tensors keep their argument.
                    let node = self.formula().tensors[*tensor].node();
                    let value = arg.data()[term.reads[n].offset(&s)];
                    format!(
                        " ({} = {})",
                        self.node_at(node, slots, index, notation),
                        value_text(value, notation)
                    )
                })
            }
            _ => None,
        };
        Some(format!("{text} = 0{}", argument.unwrap_or_default()))
    }

    /// A part of a term written at `index`: free indices replaced by their values,
    /// summation indices kept (`Σ_m S[0,m]·W[m,7]`).
    fn part_text(&self, part: &Part, index: &[usize], notation: Notation) -> String {
        let factors: Vec<Factor> = part
            .factors
            .iter()
            .map(|f| self.at_index(f, index))
            .collect();
        if part.sums.is_empty() {
            render::render_factor(self.formula(), &self.graph, &factors[0], notation, None)
        } else {
            let term = Term {
                coeff: 1.0,
                sums: part.sums.clone(),
                factors,
            };
            render::render_term(self.formula(), &self.graph, &term, notation)
        }
    }

    /// The value of node `node` written at `slots` evaluated at `index`: `Z1[3,7]`.
    fn node_at(&self, node: NodeId, slots: &[Slot], index: &[usize], notation: Notation) -> String {
        let mut formula = self.formula().clone();
        formula.tensors.push(TensorDef::Node(node));
        let factor = Factor::Tensor {
            tensor: formula.tensors.len() - 1,
            slots: slots.to_vec(),
        };
        let factor = self.at_index(&factor, index);
        render::render_factor(&formula, &self.graph, &factor, notation, None)
    }

    /// `factor` with every free index replaced by its component of `index`.
    fn at_index(&self, factor: &Factor, index: &[usize]) -> Factor {
        let fix = |slot: &Slot| match *slot {
            Slot::Index(id) => match self.bound.positions[id] {
                Some(p) => Slot::Fixed(index[p]),
                None => *slot,
            },
            Slot::Fixed(c) => Slot::Fixed(c),
        };
        match factor {
            Factor::Delta(a, b) => Factor::Delta(fix(a), fix(b)),
            Factor::Tensor { tensor, slots } => Factor::Tensor {
                tensor: *tensor,
                slots: slots.iter().map(fix).collect(),
            },
        }
    }
}

/// One factor of a term at an index: as written there, and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct FactorValue {
    /// The factor at the index: `δ(0,0)`, `W[0,7]`, `Σ_m S[0,m]·W[m,7]`.
    pub text: String,
    /// Its value there.
    pub value: f64,
}

/// One term of J at an index, factor by factor.
#[derive(Debug, Clone, PartialEq)]
pub struct TermBreakdown {
    /// The term's constant coefficient.
    pub coeff: f64,
    /// Its factors, in formula order (a contraction counts as one).
    pub factors: Vec<FactorValue>,
    /// The term's value: the coefficient times the factors.
    pub value: f64,
    notation: Notation,
}

impl TermBreakdown {
    /// The term as one line, in the notation of its breakdown ([`Jacobian::breakdown`]):
    /// `δ(0,0)·W[0,7] = 1 × 0.4123 = 0.4123`; a coefficient other than 1 is written first
    /// (`−2·S[0,3] = −2 × 0.5 = −1`), a coefficient of −1 as a sign (`−S[0,3] = −1 × 0.5 =
    /// −0.5`). The one writer of a term line: `at` and the explorer both print this.
    pub fn line(&self) -> String {
        let n = self.notation;
        let dot = render::times(n);
        let cross = match n {
            Notation::Unicode => " × ",
            Notation::Ascii => " * ",
            Notation::Latex => " \\times ",
        };
        let mut texts = Vec::new();
        let mut values = Vec::new();
        if self.coeff != 1.0 || self.factors.is_empty() {
            values.push(value_text(self.coeff, n));
            if self.coeff != -1.0 || self.factors.is_empty() {
                texts.push(value_text(self.coeff, n));
            }
        }
        for factor in &self.factors {
            texts.push(factor.text.clone());
            values.push(value_text(factor.value, n));
        }
        let sign = if self.coeff == -1.0 && !self.factors.is_empty() {
            render::minus(n)
        } else {
            ""
        };
        let mut line = format!("{sign}{}", texts.join(dot));
        if !self.factors.is_empty() {
            line.push_str(&format!(" = {}", values.join(cross)));
            if values.len() > 1 {
                line.push_str(&format!(" = {}", value_text(self.value, n)));
            }
        }
        line
    }
}

/// A value for people (five significant digits), with the minus sign of `notation`:
/// `0.41235`, `−1.5e-7`.
fn value_text(x: f64, notation: Notation) -> String {
    let text = numfmt::short(x);
    match text.strip_prefix('-') {
        Some(magnitude) => format!("{}{magnitude}", render::minus(notation)),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use ndarray::{ArrayD, IxDyn};

    use super::super::test_support::*;
    use super::*;
    use crate::calculus::{Formula, IndexRole, IndexVar};
    use crate::eval;

    #[test]
    fn zeros_are_explained() {
        let mut loaded = BTreeMap::new();
        let mut w = filled(&[4, 5], 3);
        w[[2, 1]] = 0.0;
        loaded.insert("W".to_string(), w);
        let (jac, _) = problem("X @ W.T", &[("X", "3x5"), ("W", "4x5")], "X", loaded);
        assert_eq!(
            jac.why_zero(&[0, 2, 1, 3]).unwrap(),
            ["δ(i,k) = 0 since i = 0 ≠ k = 1"]
        );
        assert_eq!(
            jac.why_zero_in(&[0, 2, 1, 3], Notation::Ascii).unwrap(),
            ["delta(i,k) = 0 since i = 0 != k = 1"]
        );
        assert_eq!(jac.why_zero(&[1, 2, 1, 1]).unwrap(), ["W[2,1] = 0"]);
        assert_eq!(jac.why_zero(&[1, 2, 1, 2]), None);

        let (jac, _) = problem(
            "relu(X @ W)",
            &[("X", "3x4"), ("W", "4x5")],
            "X",
            BTreeMap::new(),
        );
        let z = jac
            .bound()
            .args
            .iter()
            .flatten()
            .next()
            .unwrap()
            .view()
            .to_owned();
        let (i, j) = z
            .indexed_iter()
            .find(|(_, v)| **v < 0.0)
            .map(|(ix, _)| (ix[0], ix[1]))
            .unwrap();
        let lines = jac.why_zero(&[i, j, i, 0]).unwrap();
        let expected = format!(
            "relu′(Z1)[{i},{j}] = 0 (Z1[{i},{j}] = {})",
            value_text(z[[i, j]], Notation::Unicode)
        );
        assert_eq!(lines, [expected]);

        let (jac, _) = problem("W * 2", &[("X", "2"), ("W", "2")], "W", BTreeMap::new());
        assert_eq!(
            jac.why_zero(&[0, 1]).unwrap(),
            ["δ(i,k) = 0 since i = 0 ≠ k = 1"]
        );
    }

    #[test]
    fn a_formula_without_terms_does_not_depend_on_x() {
        let g = graph(&[("X", &[2]), ("W", &[2])]);
        let f = Formula {
            indices: vec![
                IndexVar {
                    name: "i".into(),
                    dim: 2,
                    role: IndexRole::Output,
                },
                IndexVar {
                    name: "k".into(),
                    dim: 2,
                    role: IndexRole::Input,
                },
            ],
            out: vec![0],
            input: vec![1],
            tensors: vec![],
            terms: vec![],
        };
        let x = filled(&[2], 0);
        let jac = Jacobian::from_node_values(g, 0, f, |_| &x).unwrap();
        assert_eq!(jac.why_zero(&[0, 1]).unwrap(), ["W does not depend on X"]);
    }

    #[test]
    fn cancelling_terms_are_named() {
        // δ(i,k)·A[j,l] − δ(i,k)·A[j,l] + δ(j,l)·A[i,k], at an index where only the first
        // two hold
        let inputs: Vec<(&str, &[usize])> = vec![("A", &[2, 2])];
        let terms = vec![
            term(1.0, &[], vec![Factor::Delta(I, K), tensor(0, &[J, L])]),
            term(-1.0, &[], vec![Factor::Delta(I, K), tensor(0, &[J, L])]),
            term(1.0, &[], vec![Factor::Delta(J, L), tensor(0, &[I, K])]),
        ];
        let f = formula_over_ijkl(&[2, 2, 2, 2, 1, 1], vec![TensorDef::Node(0)], terms);
        let a = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1.0, 2.0, 0.25, 3.0]).unwrap();
        let jac = Jacobian::from_node_values(graph(&inputs), 0, f, |_| &a).unwrap();
        assert_eq!(
            jac.why_zero(&[0, 1, 0, 0]).unwrap(),
            [
                "term 3: δ(j,l) = 0 since j = 1 ≠ l = 0",
                "the other terms cancel: 0.25 − 0.25"
            ]
        );
    }

    #[test]
    fn breakdown_shows_each_factor_at_the_index() {
        let (jac, inputs) = problem(
            "X @ W.T",
            &[("X", "3x5"), ("W", "4x5")],
            "X",
            BTreeMap::new(),
        );
        let w = inputs.get("W").unwrap()[[2, 4]];
        let terms = jac.breakdown(&[1, 2, 1, 4], Notation::Unicode);
        assert_eq!(terms.len(), 1);
        assert_eq!(terms[0].value, w);
        let w = value_text(w, Notation::Unicode);
        assert_eq!(terms[0].line(), format!("δ(1,1)·W[2,4] = 1 × {w} = {w}"));

        // a hoisted contraction is one factor, its summation index kept:
        // softmax(X W) = Y, ∂Y/∂X = δ(i,k)·Y[i,j]·W[l,j] − Σ_m δ(i,k)·Y[i,j]·Y[i,m]·W[l,m]
        let shapes = [("X", "2x3"), ("W", "3x4")];
        let (jac, inputs) = problem("softmax(X @ W, axis=1)", &shapes, "X", BTreeMap::new());
        let y = eval::evaluate(jac.graph(), &inputs).unwrap().root().clone();
        let w = inputs.get("W").unwrap();
        let terms = jac.breakdown(&[0, 1, 0, 2], Notation::Unicode);
        let texts: Vec<Vec<&str>> = terms
            .iter()
            .map(|t| t.factors.iter().map(|f| f.text.as_str()).collect())
            .collect();
        assert_eq!(
            texts,
            [
                vec!["δ(0,0)", "Y[0,1]", "W[2,1]"],
                vec!["δ(0,0)", "Y[0,1]", "Σ_m Y[0,m]·W[2,m]"]
            ]
        );
        let sum: f64 = (0..4).map(|m| y[[0, m]] * w[[2, m]]).sum();
        assert!((terms[1].factors[2].value - sum).abs() < 1e-12);
        assert_eq!(terms[1].coeff, -1.0);
        assert!(
            terms[1]
                .line()
                .starts_with("−δ(0,0)·Y[0,1]·Σ_m Y[0,m]·W[2,m] = −1 × 1 × ")
        );
        let total: f64 = terms.iter().map(|t| t.value).sum();
        assert!((total - jac.entry(&[0, 1, 0, 2])).abs() < 1e-15);
        // In ASCII too, a coefficient of −1 is a sign, not a factor.
        let ascii = jac.breakdown(&[0, 1, 0, 2], Notation::Ascii);
        assert!(
            ascii[1]
                .line()
                .starts_with("-delta(0,0)*Y[0,1]*sum_m Y[0,m]*W[2,m] = -1 * 1 * "),
            "{}",
            ascii[1].line()
        );
    }

    #[test]
    fn entries_are_named_in_each_notation() {
        let shapes = [("X", "3x5"), ("W", "4x5")];
        let (jac, _) = problem("X @ W.T", &shapes, "X", BTreeMap::new());
        assert_eq!(jac.wrt_name(), "X");
        assert_eq!(
            jac.entry_name(&[0, 3, 0, 4], Notation::Unicode),
            "∂Y[0,3]/∂X[0,4]"
        );
        assert_eq!(
            jac.entry_name(&[0, 3, 0, 4], Notation::Ascii),
            "dY[0,3]/dX[0,4]"
        );
        let (jac, _) = problem("sum(X @ W.T)", &shapes, "W", BTreeMap::new());
        assert_eq!(jac.entry_name(&[2, 1], Notation::Unicode), "∂Y/∂W[2,1]");
    }
}
