//! The shape-checked expression graph that evaluation and differentiation work on.
//!
//! Nodes live in an arena (`Graph::nodes`) in topological order: every operand has a
//! smaller id than the node using it, and the root is the last node. Each variable is a
//! single `Op::Input` node however often it occurs, so `X @ X.T` refers to one `X`.

use super::ast::Span;
use super::shape::Shape;

/// Index of a node in [`Graph::nodes`].
pub type NodeId = usize;

/// Elementwise binary operators (with NumPy broadcasting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*` (Hadamard product)
    Mul,
    /// `/`
    Div,
}

/// Elementwise functions of one argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElemFn {
    /// e^x
    Exp,
    /// natural logarithm
    Log,
    /// square root
    Sqrt,
    /// absolute value
    Abs,
    /// sine
    Sin,
    /// cosine
    Cos,
    /// hyperbolic tangent
    Tanh,
    /// 1 / (1 + e^-x)
    Sigmoid,
    /// max(x, 0)
    Relu,
    /// ln(1 + e^x)
    Softplus,
    /// x²
    Square,
    /// −1, 0 or 1: the sign of x (0 at 0).
    Sign,
}

impl ElemFn {
    /// Every elementwise function, in the order the documentation lists them.
    pub const ALL: [ElemFn; 12] = [
        ElemFn::Exp,
        ElemFn::Log,
        ElemFn::Sqrt,
        ElemFn::Abs,
        ElemFn::Sin,
        ElemFn::Cos,
        ElemFn::Tanh,
        ElemFn::Sigmoid,
        ElemFn::Relu,
        ElemFn::Softplus,
        ElemFn::Square,
        ElemFn::Sign,
    ];

    /// The function's name in the expression language.
    pub fn name(self) -> &'static str {
        match self {
            ElemFn::Exp => "exp",
            ElemFn::Log => "log",
            ElemFn::Sqrt => "sqrt",
            ElemFn::Abs => "abs",
            ElemFn::Sin => "sin",
            ElemFn::Cos => "cos",
            ElemFn::Tanh => "tanh",
            ElemFn::Sigmoid => "sigmoid",
            ElemFn::Relu => "relu",
            ElemFn::Softplus => "softplus",
            ElemFn::Square => "square",
            ElemFn::Sign => "sign",
        }
    }

    /// Looks a function up by its name in the language.
    pub fn from_name(name: &str) -> Option<ElemFn> {
        ElemFn::ALL.into_iter().find(|f| f.name() == name)
    }

    /// f(x).
    pub fn apply(self, x: f64) -> f64 {
        match self {
            ElemFn::Exp => x.exp(),
            ElemFn::Log => x.ln(),
            ElemFn::Sqrt => x.sqrt(),
            ElemFn::Abs => x.abs(),
            ElemFn::Sin => x.sin(),
            ElemFn::Cos => x.cos(),
            ElemFn::Tanh => x.tanh(),
            ElemFn::Sigmoid => {
                if x >= 0.0 {
                    1.0 / (1.0 + (-x).exp())
                } else {
                    let e = x.exp();
                    e / (1.0 + e)
                }
            }
            ElemFn::Relu => x.max(0.0),
            ElemFn::Softplus => {
                if x > 0.0 {
                    x + (-x).exp().ln_1p()
                } else {
                    x.exp().ln_1p()
                }
            }
            ElemFn::Square => x * x,
            ElemFn::Sign => sign(x),
        }
    }

    /// f′(x). At a kink (relu and abs at 0) the derivative is taken as 0, as JAX does; sign′
    /// is 0 everywhere (its jump at 0 is such a kink).
    pub fn derivative(self, x: f64) -> f64 {
        match self {
            ElemFn::Exp => x.exp(),
            ElemFn::Log => 1.0 / x,
            ElemFn::Sqrt => 0.5 / x.sqrt(),
            ElemFn::Abs => sign(x),
            ElemFn::Sin => x.cos(),
            ElemFn::Cos => -x.sin(),
            ElemFn::Tanh => ValueDerivative::Tanh.at(x.tanh()),
            ElemFn::Sigmoid => ValueDerivative::Sigmoid.at(ElemFn::Sigmoid.apply(x)),
            ElemFn::Relu => {
                if x > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            ElemFn::Softplus => ElemFn::Sigmoid.apply(x),
            ElemFn::Square => 2.0 * x,
            ElemFn::Sign => 0.0,
        }
    }
}

/// An elementwise function whose derivative the textbooks write through the function's
/// value v = f(x): tanh′ = 1 − v², sigmoid′ = v·(1 − v).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueDerivative {
    /// tanh′(x) = 1 − tanh(x)².
    Tanh,
    /// sigmoid′(x) = σ(x)·(1 − σ(x)).
    Sigmoid,
}

impl ValueDerivative {
    /// The derivative of `func` written through its value, if the textbooks write it so.
    pub fn of(func: ElemFn) -> Option<ValueDerivative> {
        match func {
            ElemFn::Tanh => Some(ValueDerivative::Tanh),
            ElemFn::Sigmoid => Some(ValueDerivative::Sigmoid),
            _ => None,
        }
    }

    /// The function whose derivative this is.
    pub fn func(self) -> ElemFn {
        match self {
            ValueDerivative::Tanh => ElemFn::Tanh,
            ValueDerivative::Sigmoid => ElemFn::Sigmoid,
        }
    }

    /// f′ at the point where f's value is `v`: 1 − v² for tanh, v·(1 − v) for sigmoid.
    pub fn at(self, v: f64) -> f64 {
        match self {
            ValueDerivative::Tanh => 1.0 - v * v,
            ValueDerivative::Sigmoid => v * (1.0 - v),
        }
    }
}

/// −1, 0 or 1 as NumPy's `sign` (0 at ±0, NaN at NaN), unlike `f64::signum`, which gives
/// ±1 at ±0.
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else if x == 0.0 {
        0.0
    } else {
        x
    }
}

/// Reductions over one axis or over everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReduceKind {
    /// Σ
    Sum,
    /// arithmetic mean
    Mean,
    /// population variance
    Var,
    /// population standard deviation
    Std,
}

impl ReduceKind {
    /// The function's name in the expression language.
    pub fn name(self) -> &'static str {
        match self {
            ReduceKind::Sum => "sum",
            ReduceKind::Mean => "mean",
            ReduceKind::Var => "var",
            ReduceKind::Std => "std",
        }
    }
}

/// What a node computes. Axes are already normalised (non-negative, in range).
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// A named input variable.
    Input(String),
    /// A numeric constant (a scalar).
    Number(f64),
    /// Unary minus.
    Neg(NodeId),
    /// Elementwise `+ - * /` with NumPy broadcasting.
    Binary(BinOp, NodeId, NodeId),
    /// `@`: matrix·matrix, matrix·vector, vector·matrix or vector·vector.
    MatMul(NodeId, NodeId),
    /// `A ** p` with a constant exponent.
    Pow(NodeId, f64),
    /// `.T`: swaps the two axes of a matrix; a no-op on scalars and vectors (as in NumPy).
    Transpose(NodeId),
    /// An elementwise function.
    Elementwise(ElemFn, NodeId),
    /// `sum/mean/var/std(A, axis=…, keepdims=…)`; `axis: None` reduces everything.
    Reduce {
        /// Which reduction.
        kind: ReduceKind,
        /// The operand.
        arg: NodeId,
        /// The reduced axis, or `None` for all axes.
        axis: Option<usize>,
        /// Keep the reduced axes with size 1.
        keepdims: bool,
    },
    /// `softmax(A, axis=…)`; the default axis is the last one.
    Softmax {
        /// The operand.
        arg: NodeId,
        /// The normalised axis.
        axis: usize,
    },
    /// `logsumexp(A, axis=…, keepdims=…)`; `axis: None` reduces everything.
    LogSumExp {
        /// The operand.
        arg: NodeId,
        /// The reduced axis, or `None` for all axes.
        axis: Option<usize>,
        /// Keep the reduced axes with size 1.
        keepdims: bool,
    },
    /// `trace(A)` of a square matrix.
    Trace(NodeId),
    /// `inv(A)` of a square matrix.
    Inv(NodeId),
    /// `det(A)` of a square matrix.
    Det(NodeId),
    /// `eye(n)`: the constant n×n identity matrix.
    Eye(usize),
    /// `kron(A, B)`: the Kronecker product of two matrices, (mp)×(nq) for A m×n, B p×q.
    /// Its entries read A and B at r div p and r mod p, which an index formula cannot
    /// write, so no variable under a kron can be differentiated (`check_wrt` refuses).
    Kron(NodeId, NodeId),
    /// `diag(v)` of a vector: the square matrix with v on its diagonal.
    DiagMatrix(NodeId),
    /// `diag(A)` of a square matrix: its diagonal as a vector.
    Diagonal(NodeId),
    /// `outer(a, b)` of two vectors: the matrix a[i]·b[j].
    Outer(NodeId, NodeId),
}

impl Op {
    /// The operands of this node, in order.
    pub fn operands(&self) -> Vec<NodeId> {
        self.clone()
            .operands_mut()
            .into_iter()
            .map(|a| *a)
            .collect()
    }

    /// This operation with every operand passed through `f` (the same operation on other
    /// nodes), for copying a node from one graph into another.
    pub fn map_operands(&self, f: impl Fn(NodeId) -> NodeId) -> Op {
        let mut op = self.clone();
        for a in op.operands_mut() {
            *a = f(*a);
        }
        op
    }

    /// The operands of this node, in order, to change in place.
    fn operands_mut(&mut self) -> Vec<&mut NodeId> {
        match self {
            Op::Input(_) | Op::Number(_) | Op::Eye(_) => vec![],
            Op::Neg(a)
            | Op::Pow(a, _)
            | Op::Transpose(a)
            | Op::Elementwise(_, a)
            | Op::Reduce { arg: a, .. }
            | Op::Softmax { arg: a, .. }
            | Op::LogSumExp { arg: a, .. }
            | Op::Trace(a)
            | Op::Inv(a)
            | Op::Det(a)
            | Op::DiagMatrix(a)
            | Op::Diagonal(a) => vec![a],
            Op::Binary(_, a, b) | Op::MatMul(a, b) | Op::Kron(a, b) | Op::Outer(a, b) => {
                vec![a, b]
            }
        }
    }
}

/// One node of the graph: what it computes, its shape, and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The operation.
    pub op: Op,
    /// The shape of its value.
    pub shape: Shape,
    /// The span of the source text it was built from (the first occurrence, for inputs).
    pub span: Span,
}

/// A shape-checked expression: an arena of nodes in topological order.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    /// The source text the graph was built from.
    pub source: String,
    /// All nodes; operands come before their users.
    pub nodes: Vec<Node>,
    /// The node whose value is the expression's value (the last node).
    pub root: NodeId,
}

impl Graph {
    /// The node with id `id`.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// Names of the input variables in order of first appearance in the source.
    pub fn variables(&self) -> Vec<&str> {
        let mut inputs: Vec<(usize, &str)> = self
            .nodes
            .iter()
            .filter_map(|n| match &n.op {
                Op::Input(name) => Some((n.span.start, name.as_str())),
                _ => None,
            })
            .collect();
        inputs.sort();
        inputs.into_iter().map(|(_, name)| name).collect()
    }

    /// The node of input variable `name`, if the expression uses it.
    pub fn input(&self, name: &str) -> Option<NodeId> {
        self.nodes
            .iter()
            .position(|n| matches!(&n.op, Op::Input(v) if v == name))
    }

    /// The source text of a node (the text its span covers).
    pub fn text(&self, id: NodeId) -> &str {
        let span = self.nodes[id].span;
        &self.source[span.start..span.end]
    }
}
