//! The values the formula's factors read, as Python: the intermediates of the expression
//! graph (`Z1 = X @ W.T + b`, written from the graph's operations, not from its text) and
//! the derived tensors (`relu_prime_Z1 = (Z1 > 0).astype(np.float64)`).
//!
//! A node with a name (an input, `Y`, `Z1`, … as the formula is rendered) that the factors
//! need, directly or through an operand, gets a line of its own, in graph order; a node
//! without a name is written inline in its user's line, with the parentheses Python's
//! precedence needs (which is the expression language's precedence).

use std::collections::{BTreeMap, BTreeSet};

use super::framework::{Framework, atom, derivative_of_value};
use super::names::Namer;
use crate::calculus::render::named_nodes;
use crate::calculus::{Factor, Formula, TensorDef, TensorId};
use crate::expr::{BinOp, Graph, NodeId, Op};

/// Python code with its binding strength, to know when an operand needs parentheses.
struct Code {
    text: String,
    prec: u8,
}

/// `+ -`
const ADD: u8 = 1;
/// `* / @`
const MUL: u8 = 2;
/// unary `-`
const UNARY: u8 = 3;
/// `**`
const POW: u8 = 4;
/// A name, a number, a call, an attribute or a subscript.
const ATOM: u8 = 5;

impl Code {
    fn atom(text: String) -> Code {
        Code { text, prec: ATOM }
    }

    /// The text, in parentheses if it binds less tightly than `prec`.
    fn at(&self, prec: u8) -> String {
        if self.prec < prec {
            format!("({})", self.text)
        } else {
            self.text.clone()
        }
    }
}

/// The lines that compute every tensor the formula's terms read, and the Python name of
/// each such tensor.
pub(super) struct Values {
    /// `name = code` lines, in the order they run.
    pub(super) lines: Vec<(String, String)>,
    /// The Python name of each tensor of the formula that a term reads, by tensor id.
    pub(super) tensors: BTreeMap<TensorId, String>,
    /// Whether the code calls softmax (NumPy needs a helper for it).
    pub(super) softmax: bool,
    /// Whether the code calls logsumexp (NumPy needs a helper for it).
    pub(super) logsumexp: bool,
}

/// The values `formula`'s terms read, written for `framework`; the names are taken from
/// `namer` (the inputs keep their variable names, which the caller has reserved).
pub(super) fn values(
    formula: &Formula,
    graph: &Graph,
    framework: Framework,
    namer: &mut Namer,
) -> Values {
    let read: BTreeSet<TensorId> = formula
        .terms
        .iter()
        .flat_map(|term| &term.factors)
        .filter_map(|factor| match factor {
            Factor::Tensor { tensor, .. } => Some(*tensor),
            Factor::Delta(..) => None,
        })
        .collect();
    let rendered: BTreeMap<NodeId, String> = named_nodes(formula, graph)
        .into_iter()
        .map(|(name, node)| (node, name))
        .collect();
    // Every node the read tensors depend on; the named ones among them get a line.
    let mut needed = BTreeSet::new();
    let mut stack: Vec<NodeId> = read.iter().map(|&t| formula.tensors[t].node()).collect();
    while let Some(node) = stack.pop() {
        if needed.insert(node) {
            stack.extend(graph.node(node).op.operands());
        }
    }
    let mut writer = Writer {
        graph,
        framework,
        names: BTreeMap::new(),
        softmax: false,
        logsumexp: false,
    };
    let mut lines = Vec::new();
    for node in needed {
        let Some(rendered) = rendered.get(&node) else {
            continue;
        };
        if matches!(graph.node(node).op, Op::Input(_)) {
            writer.names.insert(node, rendered.clone());
            continue;
        }
        let code = writer.node(node);
        let name = namer.fresh(rendered);
        lines.push((name.clone(), code.text));
        writer.names.insert(node, name);
    }
    let mut tensors = BTreeMap::new();
    for &tensor in &read {
        let def = &formula.tensors[tensor];
        let arg = writer.names[&def.node()].clone();
        let name = match def {
            TensorDef::Node(_) => arg,
            derived => {
                let (name, code) = writer.derived(derived, &arg);
                let name = namer.fresh(&name);
                lines.push((name.clone(), code));
                name
            }
        };
        tensors.insert(tensor, name);
    }
    Values {
        lines,
        tensors,
        softmax: writer.softmax,
        logsumexp: writer.logsumexp,
    }
}

/// Writes nodes and derived tensors as Python code.
struct Writer<'a> {
    graph: &'a Graph,
    framework: Framework,
    /// The Python names of the nodes computed so far (and of the inputs).
    names: BTreeMap<NodeId, String>,
    softmax: bool,
    logsumexp: bool,
}

impl Writer<'_> {
    /// The code of node `id`: its name if it has one, else its operation on its operands.
    fn operand(&mut self, id: NodeId) -> Code {
        match self.names.get(&id) {
            Some(name) => Code::atom(name.clone()),
            None => self.node(id),
        }
    }

    /// The code computing node `id` from its operands.
    fn node(&mut self, id: NodeId) -> Code {
        let fw = self.framework;
        let node = self.graph.node(id);
        let rank = node.shape.rank();
        match node.op {
            Op::Input(ref name) => Code::atom(name.clone()),
            Op::Number(c) => {
                // A bare literal next to an array; a framework scalar where a function
                // will be applied to it or nothing else makes it an array.
                let literal = number(c);
                let beside_array = self.graph.nodes.iter().any(|user| match user.op {
                    Op::Binary(_, a, b) => {
                        (a == id && !self.is_number(b)) || (b == id && !self.is_number(a))
                    }
                    _ => false,
                });
                if beside_array {
                    let prec = if c < 0.0 { UNARY } else { ATOM };
                    Code {
                        text: literal,
                        prec,
                    }
                } else {
                    Code::atom(fw.scalar(&literal))
                }
            }
            Op::Neg(a) => Code {
                text: format!("-{}", self.operand(a).at(UNARY)),
                prec: UNARY,
            },
            Op::Binary(op, a, b) => {
                let (symbol, prec) = match op {
                    BinOp::Add => ("+", ADD),
                    BinOp::Sub => ("-", ADD),
                    BinOp::Mul => ("*", MUL),
                    BinOp::Div => ("/", MUL),
                };
                self.binary(a, symbol, b, prec)
            }
            Op::MatMul(a, b) => self.binary(a, "@", b, MUL),
            Op::Pow(a, p) => Code {
                text: format!("{} ** {}", self.operand(a).at(ATOM), exponent(p)),
                prec: POW,
            },
            Op::Transpose(a) if rank == 2 => Code::atom(format!("{}.T", self.operand(a).at(ATOM))),
            Op::Transpose(a) => self.operand(a),
            Op::Elementwise(func, a) => {
                let a = self.operand(a).text;
                let text = fw.elementwise(func, &a);
                // NumPy's sigmoid is written as a quotient.
                let prec = if text.starts_with("1 / ") { MUL } else { ATOM };
                Code { text, prec }
            }
            Op::Reduce {
                kind,
                arg,
                axis,
                keepdims,
            } => {
                let a = self.operand(arg).text;
                Code::atom(fw.reduce(kind, &a, axis, keepdims, rank))
            }
            Op::Softmax { arg, axis } => {
                self.softmax = true;
                let a = self.operand(arg).text;
                Code::atom(fw.softmax(&a, Some(axis)))
            }
            Op::LogSumExp {
                arg,
                axis,
                keepdims,
            } => {
                self.logsumexp = true;
                let a = self.operand(arg).text;
                Code::atom(fw.logsumexp(&a, axis, keepdims, rank))
            }
            Op::Trace(a) => self.call("trace", &[a]),
            Op::Inv(a) => self.call("linalg.inv", &[a]),
            Op::Det(a) => self.call("linalg.det", &[a]),
            Op::Eye(n) => Code::atom(fw.identity(n)),
            Op::Kron(a, b) => self.call("kron", &[a, b]),
            Op::DiagMatrix(a) | Op::Diagonal(a) => self.call("diag", &[a]),
            Op::Outer(a, b) => self.call("outer", &[a, b]),
        }
    }

    /// Whether node `id` is a number.
    fn is_number(&self, id: NodeId) -> bool {
        matches!(self.graph.node(id).op, Op::Number(_))
    }

    /// `a symbol b`, left-associative at `prec`.
    fn binary(&mut self, a: NodeId, symbol: &str, b: NodeId, prec: u8) -> Code {
        let left = self.operand(a).at(prec);
        let right = self.operand(b).at(prec + 1);
        Code {
            text: format!("{left} {symbol} {right}"),
            prec,
        }
    }

    /// A function of the framework applied to nodes.
    fn call(&mut self, name: &str, args: &[NodeId]) -> Code {
        let args: Vec<String> = args.iter().map(|&a| self.operand(a).text).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Code::atom(self.framework.call(name, &args))
    }

    /// A derived tensor of the node named `arg`: its preferred Python name and its code.
    fn derived(&mut self, def: &TensorDef, arg: &str) -> (String, String) {
        let fw = self.framework;
        match *def {
            TensorDef::Node(_) => (arg.to_string(), arg.to_string()),
            TensorDef::ElemDeriv { func, .. } => (
                format!("{}_prime_{arg}", func.name()),
                fw.derivative(func, arg),
            ),
            TensorDef::ElemDerivOfValue { func, .. } => (
                format!("{}_prime_via_{arg}", func.func().name()),
                derivative_of_value(func, &atom(arg)),
            ),
            TensorDef::ElemSecondDeriv { func, .. } => (
                format!("{}_second_{arg}", func.name()),
                fw.second_derivative(func, arg),
            ),
            TensorDef::Power { exponent: p, .. } => {
                let suffix = exponent(p).replace('-', "m").replace('.', "p");
                (
                    format!("{arg}_pow_{suffix}"),
                    format!("{} ** {}", atom(arg), exponent(p)),
                )
            }
            TensorDef::Centered { axis, .. } => (format!("centered_{arg}"), fw.centered(arg, axis)),
            TensorDef::Softmax { axis, .. } => {
                self.softmax = true;
                (format!("softmax_{arg}"), fw.softmax(arg, axis))
            }
            TensorDef::Inverse { .. } => (format!("inv_{arg}"), fw.call("linalg.inv", &[arg])),
        }
    }
}

/// A float as a Python literal that reads back as the same f64: `2.0`, `0.001`, `1e-12`.
pub(super) fn number(c: f64) -> String {
    format!("{c:?}")
}

/// An exponent: an integer without a decimal point (`2`, `-1`), else a float literal.
fn exponent(p: f64) -> String {
    if p.fract() == 0.0 && p.abs() < 1e15 {
        format!("{}", p as i64)
    } else {
        number(p)
    }
}
