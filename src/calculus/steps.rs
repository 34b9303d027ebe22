//! The derivation of a Jacobian written out like a worked answer:
//! (1) the expression in index notation, (2) the chain rule, (3) the simplified result.
//!
//! For `X @ W.T` with respect to X:
//! `Y[i,j] = Σ_m X[i,m]·W[j,m]`; `∂Y[i,j]/∂X[k,l] = Σ_m δ(i,k)·δ(m,l)·W[j,m]`;
//! `∂Y[i,j]/∂X[k,l] = δ(i,k)·W[j,l]`.

use super::derive::{broadcast, raw_formula};
use super::formula::{Formula, summation_name};
use super::render::{
    Names, Notation, base, delta, exponent, function, indexed, lhs, minus, number, render,
    render_named, sigma, times,
};
use super::simplify::simplify;
use super::textbook::Rewrite;
use crate::expr::{BinOp, Graph, NodeId, Op, ReduceKind};

/// One step of a derivation, written in each notation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What the step does, e.g. "Differentiate (chain rule)".
    pub title: String,
    /// The step in Unicode notation (may span several lines).
    pub unicode: String,
    /// The step in ASCII notation.
    pub ascii: String,
    /// The step in LaTeX (lines separated by `\\`).
    pub latex: String,
}

/// The derivation of ∂Y/∂X for the input node `wrt` as steps: Y in index notation (with a
/// `where Z1[i,j] = …` line for each intermediate the formulas name), the raw chain-rule
/// formula, the formula simplified, then one step for each rewrite towards the textbook's
/// form that changes it ([`Rewrite`]), the last giving `formula`, the Jacobian the caller
/// already holds (as `jacobian_formula` gives it).
pub fn derivation_steps(graph: &Graph, wrt: NodeId, formula: &Formula) -> Vec<Step> {
    let raw = raw_formula(graph, wrt);
    let mut stages: Vec<(String, Formula)> = vec![(
        "Eliminate the deltas over summation indices and simplify".to_string(),
        simplify(&raw),
    )];
    for rewrite in Rewrite::ALL {
        let before = &stages[stages.len() - 1].1;
        let after = rewrite.apply(graph, before);
        if render(&after, graph, Notation::Ascii) != render(before, graph, Notation::Ascii) {
            stages.push((rewrite.title().to_string(), after));
        }
    }
    let mut named: Vec<&Formula> = vec![formula, &raw];
    named.extend(stages.iter().map(|(_, f)| f));
    let names = Names::of(&named, graph);
    let step = |title: String, write: &dyn Fn(Notation) -> String| Step {
        title,
        unicode: write(Notation::Unicode),
        ascii: write(Notation::Ascii),
        latex: write(Notation::Latex),
    };
    let mut steps = vec![
        step(
            format!("Write {} in index notation", names.root),
            &|notation| index_form(graph, &names, notation),
        ),
        step("Differentiate (chain rule)".to_string(), &|notation| {
            format!(
                "{} = {}",
                lhs(&raw, graph, wrt, notation),
                render_named(&raw, &names, notation)
            )
        }),
    ];
    for (title, stage) in &stages {
        steps.push(step(title.clone(), &|notation| {
            format!(
                "{} = {}",
                lhs(formula, graph, wrt, notation),
                render_named(stage, &names, notation)
            )
        }));
    }
    steps
}

/// `Y[i,j] = …` followed by `where Z1[i,j] = …` for each named intermediate.
fn index_form(graph: &Graph, names: &Names, notation: Notation) -> String {
    let mut lines = vec![definition(graph, names, graph.root, &names.root, notation)];
    lines.extend(where_lines(graph, names, names.intermediates(), notation));
    step_lines(&lines, notation)
}

/// `where Z1[i,j] = …` and the lines under it, one for each of `nodes` (named by `names`),
/// each node written in index notation.
pub(super) fn where_lines<'a>(
    graph: &Graph,
    names: &Names,
    nodes: impl IntoIterator<Item = (NodeId, &'a str)>,
    notation: Notation,
) -> Vec<String> {
    nodes
        .into_iter()
        .enumerate()
        .map(|(n, (node, name))| {
            let lead = match (n, notation) {
                (0, Notation::Latex) => "\\text{where } ",
                (_, Notation::Latex) => "\\phantom{\\text{where }} ",
                (0, _) => "where ",
                (_, _) => "      ",
            };
            format!("{lead}{}", definition(graph, names, node, name, notation))
        })
        .collect()
}

/// The lines of one step joined as the step's text in `notation`.
pub(super) fn step_lines(lines: &[String], notation: Notation) -> String {
    let separator = match notation {
        Notation::Latex => " \\\\\n",
        Notation::Unicode | Notation::Ascii => "\n",
    };
    lines.join(separator)
}

/// `Z1[i,j] = …`: the node `node`, called `name`, in index notation.
fn definition(
    graph: &Graph,
    names: &Names,
    node: NodeId,
    name: &str,
    notation: Notation,
) -> String {
    let indices: Vec<String> = ["i", "j"][..graph.node(node).shape.rank()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut writer = Forward {
        graph,
        names,
        notation,
        defining: node,
        next_sum: 0,
    };
    let (rhs, _) = writer.write(node, &indices);
    format!(
        "{} = {rhs}",
        indexed(&base(name, notation), &indices, notation)
    )
}

/// How tightly an index-form expression binds, loosest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    /// `a + b`, `a − b`, `−a`
    Sum,
    /// `Σ_m …` (extends to the right)
    Sigma,
    /// `a·b`, `a / b`
    Product,
    /// `a²`
    Power,
    /// `X[i,j]`, `f(…)`, a number
    Atom,
}

/// Writes nodes in index notation, one line at a time.
struct Forward<'a> {
    graph: &'a Graph,
    names: &'a Names,
    notation: Notation,
    /// The node this line defines: written out even though it has a name.
    defining: NodeId,
    /// Summation indices used so far on this line.
    next_sum: usize,
}

impl Forward<'_> {
    /// A fresh summation index name for this line.
    fn fresh(&mut self) -> String {
        self.next_sum += 1;
        summation_name(self.next_sum - 1)
    }

    /// The name of a node written whole (an operand of a function form such as `inv(X)`).
    fn whole(&self, node: NodeId) -> String {
        let name = self
            .names
            .get(node)
            .expect("operands of function forms are named");
        base(name, self.notation)
    }

    /// The name of a node if it has one, else its source text (`eye(2)` in `kron(A, eye(2))`).
    fn whole_or_text(&self, node: NodeId) -> String {
        match self.names.get(node) {
            Some(name) => base(name, self.notation),
            None => self.graph.text(node).to_string(),
        }
    }

    /// `node` written at `indices`, and how tightly the text binds.
    fn write(&mut self, node: NodeId, indices: &[String]) -> (String, Prec) {
        let notation = self.notation;
        if node != self.defining
            && let Some(name) = self.names.get(node)
        {
            return (
                indexed(&base(name, notation), indices, notation),
                Prec::Atom,
            );
        }
        let graph = self.graph;
        let shape = &graph.node(node).shape;
        match graph.node(node).op {
            Op::Input(ref name) => (
                indexed(&base(name, notation), indices, notation),
                Prec::Atom,
            ),
            Op::Number(c) => (format!("{c}"), Prec::Atom),
            Op::Neg(a) => {
                let a = self.operand(a, indices, Prec::Product);
                (format!("{}{a}", minus(notation)), Prec::Sum)
            }
            Op::Binary(op, a, b) => {
                let ia = broadcast(&graph.node(a).shape, shape, indices, "0".to_string());
                let ib = broadcast(&graph.node(b).shape, shape, indices, "0".to_string());
                match op {
                    BinOp::Add | BinOp::Sub => {
                        let sign = if op == BinOp::Add {
                            "+"
                        } else {
                            minus(notation)
                        };
                        let a = self.operand(a, &ia, Prec::Sum);
                        let b = self.operand(b, &ib, Prec::Sigma);
                        (format!("{a} {sign} {b}"), Prec::Sum)
                    }
                    BinOp::Mul => self.product((a, &ia), (b, &ib)),
                    BinOp::Div if notation == Notation::Latex => {
                        let (a, _) = self.write(a, &ia);
                        let (b, _) = self.write(b, &ib);
                        (format!("\\frac{{{a}}}{{{b}}}"), Prec::Atom)
                    }
                    BinOp::Div => {
                        let a = self.operand(a, &ia, Prec::Product);
                        let b = self.operand(b, &ib, Prec::Power);
                        (format!("{a} / {b}"), Prec::Product)
                    }
                }
            }
            Op::MatMul(a, b) => {
                let rank_a = graph.node(a).shape.rank();
                let m = self.fresh();
                let ia: Vec<String> = indices[..rank_a - 1]
                    .iter()
                    .cloned()
                    .chain([m.clone()])
                    .collect();
                let ib: Vec<String> = [m.clone()]
                    .into_iter()
                    .chain(indices[rank_a - 1..].iter().cloned())
                    .collect();
                let (body, _) = self.product((a, &ia), (b, &ib));
                (format!("{}{body}", sigma(&[m], notation)), Prec::Sigma)
            }
            Op::Pow(a, p) => {
                let a = self.operand(a, indices, Prec::Atom);
                (format!("{a}{}", exponent(p, notation)), Prec::Power)
            }
            Op::Transpose(a) => {
                let swapped: Vec<String> = indices.iter().rev().cloned().collect();
                self.write(a, &swapped)
            }
            Op::Elementwise(func, a) => {
                let (a, _) = self.write(a, indices);
                (function(func.name(), &a, false, notation), Prec::Atom)
            }
            Op::Reduce {
                kind,
                arg,
                axis,
                keepdims,
            } => match kind {
                ReduceKind::Sum | ReduceKind::Mean => {
                    let (arg_indices, sums) = self.reduced(arg, axis, keepdims, indices);
                    let body = self.operand(arg, &arg_indices, Prec::Sigma);
                    let sum = format!("{}{body}", sigma(&sums, notation));
                    if kind == ReduceKind::Sum {
                        return (sum, Prec::Sigma);
                    }
                    let n: usize = match axis {
                        Some(axis) => graph.node(arg).shape.dims()[axis],
                        None => graph.node(arg).shape.dims().iter().product(),
                    };
                    let coeff = match (notation, number(1.0 / n as f64, notation)) {
                        (Notation::Latex, c) => format!("{c} "),
                        (_, c) if c.contains('/') => format!("({c}){}", times(notation)),
                        (_, c) => format!("{c}{}", times(notation)),
                    };
                    (format!("{coeff}{sum}"), Prec::Sigma)
                }
                ReduceKind::Var | ReduceKind::Std => {
                    let mut args = self.whole(arg);
                    if let Some(axis) = axis {
                        args.push_str(&format!(", axis={axis}"));
                    }
                    if keepdims {
                        args.push_str(", keepdims=true");
                    }
                    let f = function(kind.name(), &args, false, notation);
                    (indexed(&f, indices, notation), Prec::Atom)
                }
            },
            Op::Softmax { arg, axis } => {
                let n = self.fresh();
                let mut along = indices.to_vec();
                along[axis] = n.clone();
                let (top, _) = self.write(arg, indices);
                let (each, _) = self.write(arg, &along);
                let top = function("exp", &top, false, notation);
                let bottom = format!(
                    "{}{}",
                    sigma(&[n], notation),
                    function("exp", &each, false, notation)
                );
                match notation {
                    Notation::Latex => (format!("\\frac{{{top}}}{{{bottom}}}"), Prec::Atom),
                    Notation::Unicode | Notation::Ascii => {
                        (format!("{top} / ({bottom})"), Prec::Product)
                    }
                }
            }
            Op::LogSumExp {
                arg,
                axis,
                keepdims,
            } => {
                let (arg_indices, sums) = self.reduced(arg, axis, keepdims, indices);
                let (each, _) = self.write(arg, &arg_indices);
                let inner = format!(
                    "{}{}",
                    sigma(&sums, notation),
                    function("exp", &each, false, notation)
                );
                (function("log", &inner, false, notation), Prec::Atom)
            }
            Op::Trace(a) => {
                let m = self.fresh();
                let body = self.operand(a, &[m.clone(), m.clone()], Prec::Sigma);
                (format!("{}{body}", sigma(&[m], notation)), Prec::Sigma)
            }
            Op::Inv(a) => {
                let inv = match notation {
                    Notation::Latex => format!("({}^{{-1}})", self.whole(a)),
                    Notation::Unicode | Notation::Ascii => {
                        function("inv", &self.whole(a), false, notation)
                    }
                };
                (indexed(&inv, indices, notation), Prec::Atom)
            }
            Op::Det(a) => (function("det", &self.whole(a), false, notation), Prec::Atom),
            Op::Eye(_) => (
                delta(indices[0].clone(), indices[1].clone(), notation),
                Prec::Atom,
            ),
            Op::DiagMatrix(v) => {
                let delta = delta(indices[0].clone(), indices[1].clone(), notation);
                let v = self.operand(v, &indices[..1], Prec::Product);
                (format!("{delta}{}{v}", times(notation)), Prec::Product)
            }
            Op::Diagonal(a) => self.write(a, &[indices[0].clone(), indices[0].clone()]),
            Op::Outer(a, b) => self.product((a, &indices[..1]), (b, &indices[1..])),
            Op::Kron(a, b) => {
                let args = format!("{}, {}", self.whole_or_text(a), self.whole_or_text(b));
                let kron = function("kron", &args, false, notation);
                (indexed(&kron, indices, notation), Prec::Atom)
            }
        }
    }

    /// `node` at `indices`, in parentheses if it binds more loosely than `at_least`.
    fn operand(&mut self, node: NodeId, indices: &[String], at_least: Prec) -> String {
        let (text, prec) = self.write(node, indices);
        if prec < at_least {
            format!("({text})")
        } else {
            text
        }
    }

    /// `a·b`; a sum on the right needs no parentheses but makes the whole a sum.
    fn product(
        &mut self,
        (a, ia): (NodeId, &[String]),
        (b, ib): (NodeId, &[String]),
    ) -> (String, Prec) {
        let a = self.operand(a, ia, Prec::Product);
        let (b, prec_b) = self.write(b, ib);
        let (b, prec) = match prec_b {
            Prec::Sum => (format!("({b})"), Prec::Product),
            Prec::Sigma => (b, Prec::Sigma),
            _ => (b, Prec::Product),
        };
        (format!("{a}{}{b}", times(self.notation)), prec)
    }

    /// The indices of a reduction's operand (fresh summation indices on the reduced axes)
    /// and the summation index names, given the reduction's result indices.
    fn reduced(
        &mut self,
        arg: NodeId,
        axis: Option<usize>,
        keepdims: bool,
        indices: &[String],
    ) -> (Vec<String>, Vec<String>) {
        match axis {
            None => {
                let sums: Vec<String> = (0..self.graph.node(arg).shape.rank())
                    .map(|_| self.fresh())
                    .collect();
                (sums.clone(), sums)
            }
            Some(axis) => {
                let m = self.fresh();
                let mut arg_indices = indices.to_vec();
                if keepdims {
                    arg_indices.remove(axis);
                }
                arg_indices.insert(axis, m.clone());
                (arg_indices, vec![m])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calculus::jacobian_formula;
    use crate::calculus::test_support::{LINEAR, graph};

    fn steps(source: &str, shapes: &[(&str, &str)], wrt: &str) -> Vec<Step> {
        let g = graph(source, shapes);
        let wrt = g.input(wrt).unwrap();
        derivation_steps(&g, wrt, &jacobian_formula(&g, wrt))
    }

    #[test]
    fn linear_layer_reads_like_a_worked_answer() {
        let s = steps("X @ W.T", LINEAR, "X");
        let titles: Vec<&str> = s.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "Write Y in index notation",
                "Differentiate (chain rule)",
                "Eliminate the deltas over summation indices and simplify"
            ]
        );
        let unicode: Vec<&str> = s.iter().map(|s| s.unicode.as_str()).collect();
        assert_eq!(
            unicode,
            [
                "Y[i,j] = Σ_m X[i,m]·W[j,m]",
                "∂Y[i,j]/∂X[k,l] = Σ_m δ(i,k)·δ(m,l)·W[j,m]",
                "∂Y[i,j]/∂X[k,l] = δ(i,k)·W[j,l]",
            ]
        );
        let ascii: Vec<&str> = s.iter().map(|s| s.ascii.as_str()).collect();
        assert_eq!(
            ascii,
            [
                "Y[i,j] = sum_m X[i,m]*W[j,m]",
                "dY[i,j]/dX[k,l] = sum_m delta(i,k)*delta(m,l)*W[j,m]",
                "dY[i,j]/dX[k,l] = delta(i,k)*W[j,l]",
            ]
        );
        assert_eq!(s[0].latex, r"Y_{ij} = \sum_{m} X_{im} W_{jm}");
        assert_eq!(
            s[2].latex,
            r"\frac{\partial Y_{ij}}{\partial X_{kl}} = \delta_{ik} W_{jl}"
        );
    }

    #[test]
    fn intermediates_get_where_lines() {
        let s = steps("relu(X @ W.T + b)", LINEAR, "W");
        assert_eq!(
            s[0].unicode,
            "Y[i,j] = relu(Z1[i,j])\nwhere Z1[i,j] = Σ_m X[i,m]·W[j,m] + b[j]"
        );
        assert_eq!(
            s[0].latex,
            "Y_{ij} = \\operatorname{relu}({Z_1}_{ij}) \\\\\n\\text{where } {Z_1}_{ij} = \\sum_{m} X_{im} W_{jm} + b_{j}"
        );
        assert_eq!(
            s[1].ascii,
            "dY[i,j]/dW[k,l] = sum_m relu'(Z1)[i,j]*X[i,m]*delta(j,k)*delta(m,l)"
        );
        assert_eq!(
            s[2].ascii,
            "dY[i,j]/dW[k,l] = delta(j,k)*relu'(Z1)[i,j]*X[i,l]"
        );
    }

    #[test]
    fn index_forms_of_the_other_operations() {
        let first = |source: &str, shapes: &[(&str, &str)]| {
            let wrt = shapes[0].0;
            steps(source, shapes, wrt).remove(0).unicode
        };
        let x = &[("X", "3x4")][..];
        assert_eq!(
            first("softmax(X @ W.T, axis=1)", LINEAR),
            "Y[i,j] = exp(Z1[i,j]) / (Σ_m exp(Z1[i,m]))\nwhere Z1[i,j] = Σ_m X[i,m]·W[j,m]"
        );
        assert_eq!(
            first("logsumexp(X, axis=1)", x),
            "Y[i] = log(Σ_m exp(X[i,m]))"
        );
        assert_eq!(first("mean(X, axis=0)", x), "Y[i] = (1/3)·Σ_m X[m,i]");
        assert_eq!(
            first("sum(X, axis=0, keepdims=true)", x),
            "Y[i,j] = Σ_m X[m,j]"
        );
        assert_eq!(
            first("var(X.T, axis=1)", x),
            "Y[i] = var(Z1, axis=1)[i]\nwhere Z1[i,j] = X[j,i]"
        );
        assert_eq!(first("trace(X @ X.T)", x), "Y = Σ_m Σ_n X[m,n]·X[m,n]");
        // det's value is a factor of its derivative, so it is named too.
        assert_eq!(
            first("det(X @ X.T) + 2", x),
            "Y = Z2 + 2\nwhere Z1[i,j] = Σ_m X[i,m]·X[j,m]\n      Z2 = det(Z1)"
        );
        assert_eq!(first("inv(X)", &[("X", "3x3")]), "Y[i,j] = inv(X)[i,j]");
        let xr = &[("X", "3x4"), ("r", "1x4")][..];
        assert_eq!(
            first("(X - r) * r / 2", xr),
            "Y[i,j] = (X[i,j] − r[0,j])·r[0,j] / 2"
        );
        // Every node the formula refers to is named and defined.
        assert_eq!(
            first("(X - r) / (X * r) ** 2", xr),
            "Y[i,j] = Z1[i,j] / Z3[i,j]\nwhere Z1[i,j] = X[i,j] − r[0,j]\n      \
             Z2[i,j] = X[i,j]·r[0,j]\n      Z3[i,j] = Z2[i,j]²"
        );
        let xwv = &[("X", "3x4"), ("W", "4x4"), ("V", "4x2")][..];
        assert_eq!(first("-X @ W", xwv), "Y[i,j] = Σ_m (−X[i,m])·W[m,j]");
        assert_eq!(
            first("(X @ W) @ V", xwv),
            "Y[i,j] = Σ_m (Σ_n X[i,n]·W[n,m])·V[m,j]"
        );
        assert_eq!(
            first("X @ (W @ V)", xwv),
            "Y[i,j] = Σ_m X[i,m]·Z1[m,j]\nwhere Z1[i,j] = Σ_m W[i,m]·V[m,j]"
        );
        assert_eq!(
            first("X @ W + (X @ W) * 2", xwv),
            "Y[i,j] = Σ_m X[i,m]·W[m,j] + (Σ_n X[i,n]·W[n,j])·2"
        );
    }
}
