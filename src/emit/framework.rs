//! How each framework spells what the emitted code needs: its imports, float64 arrays,
//! `eye`, `ones`, a one-hot vector, `einsum`, and every operation of the expression graph
//! and every derived tensor a formula factor reads (f′, centred values, softmax, …).
//!
//! Every function here takes Python code for its operands and returns Python code; the
//! operands are atoms (a name or a call) or are wrapped by the caller (see
//! [`super::values`]), so the spelling never has to think about precedence.

use crate::expr::{ElemFn, ReduceKind, ValueDerivative};

/// A Python array framework the code is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framework {
    /// NumPy (`import numpy as np`).
    Numpy,
    /// JAX with 64-bit floats enabled (`import jax.numpy as jnp`).
    Jax,
    /// PyTorch on float64 tensors (`import torch`).
    Torch,
}

impl Framework {
    /// Every framework, in the order `--emit` lists them.
    pub const ALL: [Framework; 3] = [Framework::Numpy, Framework::Jax, Framework::Torch];

    /// The framework's name on the command line: `numpy`, `jax`, `torch`.
    pub fn name(self) -> &'static str {
        match self {
            Framework::Numpy => "numpy",
            Framework::Jax => "jax",
            Framework::Torch => "torch",
        }
    }

    /// The import lines the code starts with (JAX also switches on float64).
    pub(super) fn imports(self) -> &'static [&'static str] {
        match self {
            Framework::Numpy => &["import numpy as np"],
            Framework::Jax => &[
                "import jax",
                "import jax.numpy as jnp",
                "",
                "jax.config.update(\"jax_enable_x64\", True)",
            ],
            Framework::Torch => &["import torch"],
        }
    }

    /// The names the imports bind, which no variable of the expression may take.
    pub(super) fn module_names(self) -> &'static [&'static str] {
        match self {
            Framework::Numpy => &["np"],
            Framework::Jax => &["jax", "jnp"],
            Framework::Torch => &["torch"],
        }
    }

    /// The array module: `np`, `jnp`, `torch`.
    fn module(self) -> &'static str {
        match self {
            Framework::Numpy => "np",
            Framework::Jax => "jnp",
            Framework::Torch => "torch",
        }
    }

    /// `module.name`: `np.exp`.
    fn f(self, name: &str) -> String {
        format!("{}.{name}", self.module())
    }

    /// The float64 dtype: `np.float64`.
    fn float64(self) -> String {
        self.f("float64")
    }

    /// The keyword argument that makes a torch constructor float64, for the frameworks that
    /// need it (NumPy and JAX with x64 make float64 by default).
    fn dtype_arg(self) -> String {
        match self {
            Framework::Torch => format!(", dtype={}", self.float64()),
            Framework::Numpy | Framework::Jax => String::new(),
        }
    }

    /// `X` as a float64 array of the framework: `np.asarray(X, dtype=np.float64)`.
    pub(super) fn as_array(self, name: &str) -> String {
        let f = match self {
            Framework::Numpy | Framework::Jax => self.f("asarray"),
            Framework::Torch => self.f("as_tensor"),
        };
        format!("{f}({name}, dtype={})", self.float64())
    }

    /// A float64 scalar constant: `np.asarray(2.0)`.
    pub(super) fn scalar(self, value: &str) -> String {
        match self {
            Framework::Numpy | Framework::Jax => format!("{}({value})", self.f("asarray")),
            Framework::Torch => format!("{}({value}{})", self.f("tensor"), self.dtype_arg()),
        }
    }

    /// The n×m identity (δ between indices of ranges n and m): `np.eye(3)`, `np.eye(3, 4)`.
    pub(super) fn eye(self, n: usize, m: usize) -> String {
        let dims = if n == m {
            n.to_string()
        } else {
            format!("{n}, {m}")
        };
        format!("{}({dims}{})", self.f("eye"), self.dtype_arg())
    }

    /// Ones of the given shape (a delta-free index a term does not read): `np.ones(3)`.
    pub(super) fn ones(self, dims: &[usize]) -> String {
        format!("{}({}{})", self.f("ones"), tuple(dims), self.dtype_arg())
    }

    /// Zeros of the given shape (J with no terms): `np.zeros((2, 3))`.
    pub(super) fn zeros(self, dims: &[usize]) -> String {
        format!("{}({}{})", self.f("zeros"), tuple(dims), self.dtype_arg())
    }

    /// The vector of length n that is 1 at `at` (code for an int) and 0 elsewhere: δ
    /// between an index and a position.
    pub(super) fn one_hot(self, n: usize, at: &str) -> String {
        let hit = format!("({}({n}) == {at})", self.f("arange"));
        self.to_float(&hit)
    }

    /// A boolean array as float64 zeros and ones.
    fn to_float(self, boolean: &str) -> String {
        match self {
            Framework::Numpy | Framework::Jax => format!("{boolean}.astype({})", self.float64()),
            Framework::Torch => format!("{boolean}.to({})", self.float64()),
        }
    }

    /// `np.einsum("ik,jl->ijkl", a, b)`.
    pub(super) fn einsum(self, subscripts: &str, operands: &[String]) -> String {
        format!(
            "{}(\"{subscripts}\", {})",
            self.f("einsum"),
            operands.join(", ")
        )
    }

    /// The helper functions the code defines before its own, for the operations the
    /// framework has no single call for (NumPy's softmax and logsumexp), if `used`.
    pub(super) fn helpers(self, softmax: bool, logsumexp: bool) -> Vec<&'static str> {
        let mut helpers = Vec::new();
        if self == Framework::Numpy && softmax {
            helpers.push(NUMPY_SOFTMAX);
        }
        if self == Framework::Numpy && logsumexp {
            helpers.push(NUMPY_LOGSUMEXP);
        }
        helpers
    }

    /// f(a) elementwise.
    pub(super) fn elementwise(self, func: ElemFn, a: &str) -> String {
        let m = self.module();
        match (func, self) {
            (ElemFn::Sigmoid, Framework::Numpy) => format!("1 / (1 + np.exp(-{}))", atom(a)),
            (ElemFn::Sigmoid, Framework::Jax) => format!("jax.nn.sigmoid({a})"),
            (ElemFn::Relu, Framework::Numpy | Framework::Jax) => format!("{m}.maximum({a}, 0.0)"),
            (ElemFn::Softplus, Framework::Numpy | Framework::Jax) => {
                format!("{m}.logaddexp(0.0, {a})")
            }
            // torch.nn.functional.softplus returns x itself above x = 20: off by up to 1e-9.
            (ElemFn::Softplus, Framework::Torch) => {
                format!("torch.logaddexp({a}, torch.zeros_like({a}))")
            }
            (func, _) => format!("{m}.{}({a})", func.name()),
        }
    }

    /// f′(a) elementwise (at a kink 0, as jacscope takes it); `a` is a name, read more than
    /// once by some derivatives.
    pub(super) fn derivative(self, func: ElemFn, a: &str) -> String {
        let m = self.module();
        let a = &atom(a);
        match func {
            ElemFn::Exp => format!("{m}.exp({a})"),
            ElemFn::Log => format!("1 / {a}"),
            ElemFn::Sqrt => format!("0.5 / {m}.sqrt({a})"),
            ElemFn::Abs => format!("{m}.sign({a})"),
            ElemFn::Sin => format!("{m}.cos({a})"),
            ElemFn::Cos => format!("-{m}.sin({a})"),
            ElemFn::Tanh => derivative_of_value(ValueDerivative::Tanh, &format!("{m}.tanh({a})")),
            ElemFn::Sigmoid => {
                let s = self.elementwise(ElemFn::Sigmoid, a);
                derivative_of_value(ValueDerivative::Sigmoid, &format!("({s})"))
            }
            ElemFn::Relu => self.to_float(&format!("({a} > 0)")),
            ElemFn::Softplus => self.elementwise(ElemFn::Sigmoid, a),
            ElemFn::Square => format!("2 * {a}"),
            ElemFn::Sign => format!("{m}.zeros_like({a})"),
        }
    }

    /// f″ applied elementwise to the array named `a`, in closed form.
    pub(super) fn second_derivative(self, func: ElemFn, a: &str) -> String {
        let m = self.module();
        let a = &atom(a);
        let zeros = format!("{m}.zeros_like({a})");
        match func {
            ElemFn::Exp => format!("{m}.exp({a})"),
            ElemFn::Log => format!("-1 / {a} ** 2"),
            ElemFn::Sqrt => format!("-0.25 / {m}.sqrt({a}) ** 3"),
            ElemFn::Sin => format!("-{m}.sin({a})"),
            ElemFn::Cos => format!("-{m}.cos({a})"),
            ElemFn::Tanh => {
                let t = format!("{m}.tanh({a})");
                format!("-2 * {t} * (1 - {t} ** 2)")
            }
            ElemFn::Sigmoid => {
                let s = self.elementwise(ElemFn::Sigmoid, a);
                format!("({s}) * (1 - ({s})) * (1 - 2 * ({s}))")
            }
            ElemFn::Softplus => {
                let s = self.elementwise(ElemFn::Sigmoid, a);
                format!("({s}) * (1 - ({s}))")
            }
            ElemFn::Square => format!("2 + {zeros}"),
            ElemFn::Abs | ElemFn::Relu | ElemFn::Sign => zeros,
        }
    }

    /// `sum/mean/var/std(a, axis, keepdims)` (population var and std), for a result of
    /// rank `rank`.
    pub(super) fn reduce(
        self,
        kind: ReduceKind,
        a: &str,
        axis: Option<usize>,
        keepdims: bool,
        rank: usize,
    ) -> String {
        let f = self.f(kind.name());
        match self {
            Framework::Numpy | Framework::Jax => {
                format!("{f}({a}{})", numpy_axis_args(axis, keepdims))
            }
            Framework::Torch => {
                let correction = match kind {
                    ReduceKind::Var | ReduceKind::Std => ", correction=0",
                    ReduceKind::Sum | ReduceKind::Mean => "",
                };
                torch_reduce(&f, a, correction, axis, keepdims, rank)
            }
        }
    }

    /// `logsumexp(a, axis, keepdims)`, for a result of rank `rank`.
    pub(super) fn logsumexp(
        self,
        a: &str,
        axis: Option<usize>,
        keepdims: bool,
        rank: usize,
    ) -> String {
        match self {
            Framework::Numpy => {
                format!("_logsumexp({a}, {}, {})", py_axis(axis), py_bool(keepdims))
            }
            Framework::Jax => format!("jax.nn.logsumexp({a}{})", numpy_axis_args(axis, keepdims)),
            Framework::Torch => torch_reduce("torch.logsumexp", a, "", axis, keepdims, rank),
        }
    }

    /// softmax over `axis` (over all entries if `None`).
    pub(super) fn softmax(self, a: &str, axis: Option<usize>) -> String {
        match (self, axis) {
            (Framework::Numpy, _) => format!("_softmax({a}, {})", py_axis(axis)),
            (Framework::Jax, _) => format!("jax.nn.softmax({a}, axis={})", py_axis(axis)),
            (Framework::Torch, Some(axis)) => format!("torch.softmax({a}, dim={axis})"),
            (Framework::Torch, None) => {
                let a = atom(a);
                format!("torch.softmax({a}.reshape(-1), dim=0).reshape({a}.shape)")
            }
        }
    }

    /// `a` minus its mean over `axis` (over all entries if `None`).
    pub(super) fn centered(self, a: &str, axis: Option<usize>) -> String {
        let a = &atom(a);
        let mean = self.reduce(ReduceKind::Mean, a, axis, axis.is_some(), 0);
        format!("{a} - {mean}")
    }

    /// A function of the framework applied to `args`: `np.trace(A)`, `np.linalg.inv(A)`.
    pub(super) fn call(self, name: &str, args: &[&str]) -> String {
        format!("{}({})", self.f(name), args.join(", "))
    }

    /// The n×n identity as a value of the expression (`eye(n)`).
    pub(super) fn identity(self, n: usize) -> String {
        self.eye(n, n)
    }
}

/// NumPy's missing softmax, shifted by the maximum as jacscope computes it.
const NUMPY_SOFTMAX: &str = "\
def _softmax(a, axis):
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)";

/// NumPy's missing logsumexp, shifted by the maximum as jacscope computes it.
const NUMPY_LOGSUMEXP: &str = "\
def _logsumexp(a, axis, keepdims):
    top = np.max(a, axis=axis, keepdims=True)
    s = np.log(np.sum(np.exp(a - top), axis=axis, keepdims=True)) + top
    return s if keepdims else np.squeeze(s, axis=axis)";

/// f′ written through f's value, the array `v` (an atom): `1 - v ** 2` for tanh,
/// `v * (1 - v)` for sigmoid.
pub(super) fn derivative_of_value(func: ValueDerivative, v: &str) -> String {
    match func {
        ValueDerivative::Tanh => format!("1 - {v} ** 2"),
        ValueDerivative::Sigmoid => format!("{v} * (1 - {v})"),
    }
}

/// `code` as an operand of an operator or a method call: itself if it is a name, a number
/// or a call (`np.exp(a)`, `Z1[0, :]`), else in parentheses.
pub(super) fn atom(code: &str) -> String {
    let head = code
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(code.len());
    let rest = &code[head..];
    let closed_at_end = |open: char, close: char| {
        rest.starts_with(open) && {
            let mut depth = 0usize;
            rest.char_indices().all(|(at, c)| {
                if c == open {
                    depth += 1;
                } else if c == close {
                    depth -= 1;
                }
                depth > 0 || at + c.len_utf8() == rest.len()
            })
        }
    };
    if rest.is_empty() || (head > 0 && (closed_at_end('(', ')') || closed_at_end('[', ']'))) {
        code.to_string()
    } else {
        format!("({code})")
    }
}

/// A reduction in torch, which has no `dim=None, keepdim=True`: over all entries it reduces
/// to a scalar and reshapes to `rank` ones if `keepdims`.
fn torch_reduce(
    f: &str,
    a: &str,
    extra: &str,
    axis: Option<usize>,
    keepdims: bool,
    rank: usize,
) -> String {
    match axis {
        Some(axis) => {
            let keep = if keepdims { ", keepdim=True" } else { "" };
            format!("{f}({a}, dim={axis}{extra}{keep})")
        }
        None if f == "torch.logsumexp" => {
            let all = format!("{f}({}.reshape(-1), dim=0)", atom(a));
            keep_all(all, keepdims, rank)
        }
        None => keep_all(format!("{f}({a}{extra})"), keepdims, rank),
    }
}

/// A scalar reshaped to `rank` axes of length 1 if `keepdims`.
fn keep_all(scalar: String, keepdims: bool, rank: usize) -> String {
    if keepdims {
        format!("{scalar}.reshape({})", tuple(&vec![1; rank]))
    } else {
        scalar
    }
}

/// `, axis=1, keepdims=True` as NumPy and JAX take them (defaults left out).
fn numpy_axis_args(axis: Option<usize>, keepdims: bool) -> String {
    let mut args = String::new();
    if let Some(axis) = axis {
        args.push_str(&format!(", axis={axis}"));
    }
    if keepdims {
        args.push_str(", keepdims=True");
    }
    args
}

/// An axis as a Python value: `1` or `None`.
fn py_axis(axis: Option<usize>) -> String {
    axis.map_or("None".to_string(), |a| a.to_string())
}

/// `True` or `False`.
fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// A shape as a Python tuple or int: `()`, `3`, `(2, 3)`.
pub(super) fn tuple(dims: &[usize]) -> String {
    match dims {
        [] => "()".to_string(),
        [n] => n.to_string(),
        _ => format!(
            "({})",
            dims.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
