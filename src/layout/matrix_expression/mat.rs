//! [`Mat`]: a matrix expression with shapes, built so that it stays in a canonical form
//! (transposes pushed down to the names, identities dropped from products, numbers folded
//! into one coefficient), and written in the language (ASCII), in Unicode and in LaTeX.

use crate::calculus::render::{self, Notation, Symbols};
use crate::expr::{BinOp, ElemFn, Graph, NodeId, Op};
use crate::numfmt;

/// A matrix expression: a scalar, a vector or a matrix of the language.
#[derive(Debug, Clone, PartialEq)]
pub struct Mat {
    kind: Kind,
    /// The shape: `[]`, `[n]` or `[rows, cols]`.
    shape: Vec<usize>,
}

/// What a [`Mat`] computes.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// An input variable.
    Name(String),
    /// A constant.
    Number(f64),
    /// `eye(n)`.
    Eye,
    /// The transpose of a matrix (a name, an inverse or a function of one).
    Transpose(Box<Mat>),
    /// `inv(A)`.
    Inverse(Box<Mat>),
    /// `A @ B @ …`, at least two factors.
    Product(Vec<Mat>),
    /// `A * B * …` elementwise (scalars among them scale), at least two factors.
    Hadamard(Vec<Mat>),
    /// `A / B` elementwise.
    Quotient(Box<Mat>, Box<Mat>),
    /// `A ** p` elementwise, p > 0 (a negative power is written as a quotient).
    Power(Box<Mat>, f64),
    /// `c * A` with c ≠ 1.
    Scaled(f64, Box<Mat>),
    /// `A + B + …`, at least two terms.
    Sum(Vec<Mat>),
    /// A function of the language: `trace(A)`, `det(A)`, `diag(v)`, `relu(A)`, `sum(A,
    /// axis=0)`; `options` are written after the arguments (`axis=0`).
    Call {
        name: &'static str,
        args: Vec<Mat>,
        options: String,
    },
    /// f′(A) (order 1) or f″(A) (order 2) elementwise: `sigmoid′(A)`, `tanh′′(A)` in
    /// Unicode, its closed form in the language.
    Derivative {
        func: ElemFn,
        order: usize,
        arg: Box<Mat>,
        closed: Box<Mat>,
    },
}

/// How tightly a written expression binds, loosest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Sum,
    Product,
    Unary,
    Power,
    Atom,
}

impl Mat {
    fn new(kind: Kind, shape: Vec<usize>) -> Mat {
        Mat { kind, shape }
    }

    /// The shape: `[]`, `[n]` or `[rows, cols]`.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The constant `c`.
    pub fn number(c: f64) -> Mat {
        Mat::new(Kind::Number(c), Vec::new())
    }

    /// `eye(n)`.
    pub fn eye(n: usize) -> Mat {
        Mat::new(Kind::Eye, vec![n, n])
    }

    /// `inv(a)`.
    pub fn inverse(a: Mat) -> Mat {
        let shape = a.shape.clone();
        Mat::new(Kind::Inverse(Box::new(a)), shape)
    }

    /// `a ** p` elementwise (`a` itself for p = 1), merged with `a`'s own powers; a
    /// negative power is a quotient: a⁻² = `1 / a ** 2`.
    pub fn power(a: Mat, p: f64) -> Mat {
        if p == 1.0 {
            return a;
        }
        let shape = a.shape.clone();
        hadamard(vec![Mat::new(Kind::Power(Box::new(a), p), shape)])
    }

    /// f′(a) elementwise: in closed form where that is as short (exp′(a) = exp(a),
    /// log′(a) = 1 / a, abs′(a) = sign(a), …), else written f′(a) (sigmoid′, tanh′, relu′).
    pub fn derivative(func: ElemFn, a: Mat) -> Mat {
        match func {
            ElemFn::Sigmoid | ElemFn::Tanh | ElemFn::Relu => {
                let closed = closed_form(func, a.clone());
                Mat::primed(func, 1, a, closed)
            }
            _ => closed_form(func, a),
        }
    }

    /// f″(a) elementwise: in closed form where that is as short (exp″(a) = exp(a),
    /// log″(a) = −1 / a², softplus″ = sigmoid′), else written f′′(a) (sigmoid′′, tanh′′);
    /// `None` where f″ is 0 or a constant (relu, abs, sign, square), which the language
    /// cannot write as an array of a's shape.
    pub fn second_derivative(func: ElemFn, a: Mat) -> Option<Mat> {
        let shape = a.shape.clone();
        let f = |name: &'static str, a: Mat| Mat::call(name, vec![a], String::new(), shape.clone());
        Some(match func {
            // sigmoid″(a) = sigmoid′(a)·(1 − 2·sigmoid(a))
            ElemFn::Sigmoid => {
                let one_minus_twice = sum(vec![
                    Mat::number(1.0),
                    Mat::scaled(-2.0, f("sigmoid", a.clone())),
                ]);
                let closed = hadamard(vec![closed_form(func, a.clone()), one_minus_twice]);
                Mat::primed(func, 2, a, closed)
            }
            // tanh″(a) = −2·tanh(a)·tanh′(a)
            ElemFn::Tanh => {
                let closed = hadamard(vec![
                    Mat::scaled(-2.0, f("tanh", a.clone())),
                    closed_form(func, a.clone()),
                ]);
                Mat::primed(func, 2, a, closed)
            }
            ElemFn::Softplus => Mat::derivative(ElemFn::Sigmoid, a),
            ElemFn::Exp => f("exp", a),
            ElemFn::Log => Mat::scaled(-1.0, Mat::power(a, -2.0)),
            ElemFn::Sqrt => Mat::scaled(-0.25, Mat::power(f("sqrt", a), -3.0)),
            ElemFn::Sin => Mat::scaled(-1.0, f("sin", a)),
            ElemFn::Cos => Mat::scaled(-1.0, f("cos", a)),
            ElemFn::Relu | ElemFn::Abs | ElemFn::Sign | ElemFn::Square => return None,
        })
    }

    /// f′ (`order` 1) or f″ (2) of `a`, written with primes in Unicode and LaTeX and as
    /// `closed` in the language.
    fn primed(func: ElemFn, order: usize, a: Mat, closed: Mat) -> Mat {
        let shape = a.shape.clone();
        Mat::new(
            Kind::Derivative {
                func,
                order,
                arg: Box::new(a),
                closed: Box::new(closed),
            },
            shape,
        )
    }

    /// A function of the language with the shape of its result.
    pub fn call(name: &'static str, args: Vec<Mat>, options: String, shape: Vec<usize>) -> Mat {
        Mat::new(
            Kind::Call {
                name,
                args,
                options,
            },
            shape,
        )
    }

    /// The constant factor and the rest: `2 * A` → (2, A).
    fn split_coeff(self) -> (f64, Mat) {
        match self.kind {
            Kind::Scaled(c, a) => (c, *a),
            Kind::Number(c) => (c, Mat::number(1.0)),
            _ => (1.0, self),
        }
    }

    /// True for the constant 1.
    fn is_one(&self) -> bool {
        self.kind == Kind::Number(1.0)
    }

    /// `c * a`, folded into `a`'s own coefficient.
    pub fn scaled(c: f64, a: Mat) -> Mat {
        let (own, rest) = a.split_coeff();
        let c = c * own;
        if rest.is_one() || c == 0.0 {
            Mat::number(c)
        } else if c == 1.0 {
            rest
        } else {
            let shape = rest.shape.clone();
            Mat::new(Kind::Scaled(c, Box::new(rest)), shape)
        }
    }

    /// The transpose, pushed down to the names: (A·B)ᵀ = Bᵀ·Aᵀ, (A + B)ᵀ = Aᵀ + Bᵀ, Iᵀ = I,
    /// diag(v)ᵀ = diag(v); a vector or a scalar is its own transpose.
    pub fn transpose(self) -> Mat {
        if self.shape.len() < 2 {
            return self;
        }
        let shape = vec![self.shape[1], self.shape[0]];
        let kind = match self.kind {
            Kind::Eye => Kind::Eye,
            Kind::Transpose(a) => return *a,
            Kind::Product(factors) if factors.iter().all(|f| f.shape.len() == 2) => {
                return product(factors.into_iter().rev().map(Mat::transpose).collect());
            }
            Kind::Hadamard(factors) => {
                Kind::Hadamard(factors.into_iter().map(Mat::transpose).collect())
            }
            Kind::Sum(terms) => Kind::Sum(terms.into_iter().map(Mat::transpose).collect()),
            Kind::Scaled(c, a) => Kind::Scaled(c, Box::new(a.transpose())),
            Kind::Quotient(a, b) => {
                Kind::Quotient(Box::new(a.transpose()), Box::new(b.transpose()))
            }
            Kind::Power(a, p) => Kind::Power(Box::new(a.transpose()), p),
            Kind::Call {
                name: "diag",
                args,
                options,
            } if args[0].shape.len() == 1 => Kind::Call {
                name: "diag",
                args,
                options,
            },
            Kind::Call {
                name: "outer",
                mut args,
                options,
            } => {
                args.reverse();
                Kind::Call {
                    name: "outer",
                    args,
                    options,
                }
            }
            // the inverse of a symmetric matrix (inv(X.T @ X)) is symmetric
            Kind::Inverse(a) if a.clone().transpose() == *a => Kind::Inverse(a),
            kind => Kind::Transpose(Box::new(Mat::new(kind, self.shape))),
        };
        Mat::new(kind, shape)
    }

    /// The value of a node of `graph`, written in the language's own terms.
    pub fn of_node(graph: &Graph, node: NodeId) -> Mat {
        let shape = graph.node(node).shape.dims().to_vec();
        let of = |n: NodeId| Mat::of_node(graph, n);
        let call =
            |name, args: Vec<Mat>, options: String| Mat::call(name, args, options, shape.clone());
        match graph.node(node).op {
            Op::Input(ref name) => Mat::new(Kind::Name(name.clone()), shape),
            Op::Number(c) => Mat::number(c),
            Op::Neg(a) => Mat::scaled(-1.0, of(a)),
            Op::Binary(op, a, b) => match op {
                BinOp::Add => sum(vec![of(a), of(b)]),
                BinOp::Sub => sum(vec![of(a), Mat::scaled(-1.0, of(b))]),
                // u * u as written (‖X‖ = sqrt(sum(X * X))), not as u ** 2
                BinOp::Mul if a == b => Mat::new(Kind::Hadamard(vec![of(a), of(b)]), shape),
                BinOp::Mul => hadamard(vec![of(a), of(b)]),
                BinOp::Div => Mat::new(Kind::Quotient(Box::new(of(a)), Box::new(of(b))), shape),
            },
            Op::MatMul(a, b) => product(vec![of(a), of(b)]),
            Op::Pow(a, p) => Mat::power(of(a), p),
            Op::Transpose(a) => of(a).transpose(),
            Op::Elementwise(func, a) => call(func.name(), vec![of(a)], String::new()),
            Op::Reduce {
                kind,
                arg,
                axis,
                keepdims,
            } => call(kind.name(), vec![of(arg)], axis_options(axis, keepdims)),
            Op::Softmax { arg, axis } => call("softmax", vec![of(arg)], format!("axis={axis}")),
            Op::LogSumExp {
                arg,
                axis,
                keepdims,
            } => call("logsumexp", vec![of(arg)], axis_options(axis, keepdims)),
            Op::Trace(a) => call("trace", vec![of(a)], String::new()),
            Op::Inv(a) => Mat::inverse(of(a)),
            Op::Det(a) => call("det", vec![of(a)], String::new()),
            Op::Eye(n) => Mat::eye(n),
            Op::Kron(a, b) => call("kron", vec![of(a), of(b)], String::new()),
            Op::DiagMatrix(a) | Op::Diagonal(a) => call("diag", vec![of(a)], String::new()),
            Op::Outer(a, b) => call("outer", vec![of(a), of(b)], String::new()),
        }
    }

    /// The text in `notation`; the ASCII text is an expression of the language.
    pub fn render(&self, notation: Notation) -> String {
        self.write(notation).0
    }

    /// The text as an operand that must bind at least as tightly as `at_least`.
    fn operand(&self, notation: Notation, at_least: Prec) -> String {
        let (text, prec) = self.write(notation);
        if prec < at_least {
            match notation {
                Notation::Latex => format!("\\left({text}\\right)"),
                _ => format!("({text})"),
            }
        } else {
            text
        }
    }

    fn write(&self, n: Notation) -> (String, Prec) {
        let ascii = n == Notation::Ascii;
        let latex = n == Notation::Latex;
        let t = Symbols::of(n).transpose;
        match &self.kind {
            Kind::Name(name) => (name_text(name, n), Prec::Atom),
            Kind::Number(c) if *c < 0.0 => (
                format!("{}{}", Symbols::of(n).minus, number_text(-c, n)),
                Prec::Unary,
            ),
            Kind::Number(c) => (number_text(*c, n), Prec::Atom),
            Kind::Eye => match n {
                Notation::Ascii => (format!("eye({})", self.shape[0]), Prec::Atom),
                Notation::Unicode => (format!("I{}", numfmt::subscript(self.shape[0])), Prec::Atom),
                Notation::Latex => (format!("I_{{{}}}", self.shape[0]), Prec::Atom),
            },
            Kind::Transpose(a) => match (&a.kind, n) {
                (Kind::Inverse(inner), Notation::Unicode) => {
                    (format!("{}⁻ᵀ", inner.operand(n, Prec::Atom)), Prec::Power)
                }
                (Kind::Inverse(inner), Notation::Latex) => (
                    format!("{}^{{-\\top}}", inner.operand(n, Prec::Atom)),
                    Prec::Power,
                ),
                _ if ascii => (format!("{}.T", a.operand(n, Prec::Atom)), Prec::Atom),
                _ => (format!("{}{t}", a.operand(n, Prec::Atom)), Prec::Power),
            },
            Kind::Inverse(a) => match n {
                Notation::Ascii => (format!("inv({})", a.render(n)), Prec::Atom),
                Notation::Unicode => (format!("{}⁻¹", a.operand(n, Prec::Atom)), Prec::Power),
                Notation::Latex => (format!("{}^{{-1}}", a.operand(n, Prec::Atom)), Prec::Power),
            },
            Kind::Product(factors) => (self.product_text(factors, n), Prec::Product),
            Kind::Hadamard(factors) => {
                let (scalars, arrays): (Vec<&Mat>, Vec<&Mat>) =
                    factors.iter().partition(|f| f.shape.is_empty());
                let mut parts: Vec<String> =
                    scalars.iter().map(|f| f.operand(n, Prec::Unary)).collect();
                let odot = match n {
                    Notation::Ascii => " * ",
                    Notation::Unicode => " ⊙ ",
                    Notation::Latex => " \\odot ",
                };
                let at_least = if arrays.len() == 1 {
                    Prec::Product
                } else {
                    Prec::Unary
                };
                let arrays: Vec<String> = arrays.iter().map(|f| f.operand(n, at_least)).collect();
                if !arrays.is_empty() {
                    parts.push(arrays.join(odot));
                }
                let times = match n {
                    Notation::Ascii => " * ",
                    _ => Symbols::of(n).times,
                };
                (parts.join(times), Prec::Product)
            }
            Kind::Quotient(a, b) if latex => (
                format!("\\frac{{{}}}{{{}}}", a.render(n), b.render(n)),
                Prec::Atom,
            ),
            Kind::Quotient(a, b) => (
                format!(
                    "{} / {}",
                    a.operand(n, Prec::Product),
                    b.operand(n, Prec::Unary)
                ),
                Prec::Product,
            ),
            Kind::Power(a, p) => {
                let base = a.operand(n, Prec::Atom);
                let elementwise = !a.shape.is_empty();
                let text = match n {
                    Notation::Ascii => format!("{base} ** {}", exponent_ascii(*p)),
                    Notation::Unicode if elementwise => {
                        format!("{base}^∘{}", render::exponent(*p, Notation::Unicode))
                    }
                    Notation::Unicode => {
                        format!("{base}{}", render::exponent(*p, Notation::Unicode))
                    }
                    Notation::Latex if elementwise => format!("{base}^{{\\circ {p}}}"),
                    Notation::Latex => format!("{base}^{{{p}}}"),
                };
                (text, Prec::Power)
            }
            Kind::Scaled(c, a) if matches!(a.kind, Kind::Quotient(..)) => {
                scaled_quotient(*c, a, n).unwrap_or_else(|| a.scaled_text(*c, n))
            }
            Kind::Scaled(c, a) => a.scaled_text(*c, n),
            Kind::Sum(terms) => {
                let minus = Symbols::of(n).minus;
                let mut out = String::new();
                for (k, term) in terms.iter().enumerate() {
                    let (c, rest) = term.clone().split_coeff();
                    let text = Mat::scaled(c.abs(), rest).operand(n, Prec::Product);
                    match (k, c < 0.0) {
                        (0, true) => out.push_str(&format!("{minus}{text}")),
                        (0, false) => out.push_str(&text),
                        (_, true) => out.push_str(&format!(" {minus} {text}")),
                        (_, false) => out.push_str(&format!(" + {text}")),
                    }
                }
                (out, Prec::Sum)
            }
            Kind::Call {
                name,
                args,
                options,
            } => (call_text(name, args, options, n), Prec::Atom),
            Kind::Derivative { closed, .. } if ascii => closed.write(n),
            Kind::Derivative {
                func, order, arg, ..
            } => {
                let primes = Symbols::of(n).prime.repeat(*order);
                let name = if latex {
                    format!("\\operatorname{{{}}}{primes}", func.name())
                } else {
                    format!("{}{primes}", func.name())
                };
                (format!("{name}({})", arg.render(n)), Prec::Atom)
            }
        }
    }

    /// `c·self`: `2·X`, `−X`, `(1/5)·X`.
    fn scaled_text(&self, c: f64, n: Notation) -> (String, Prec) {
        let minus = Symbols::of(n).minus;
        let sign = if c < 0.0 { minus } else { "" };
        if c.abs() == 1.0 {
            return (
                format!("{sign}{}", self.operand(n, Prec::Product)),
                Prec::Unary,
            );
        }
        let coeff = number_text(c.abs(), n);
        let coeff = if coeff.contains('/') && n != Notation::Latex {
            format!("({coeff})")
        } else {
            coeff
        };
        let times = match n {
            Notation::Ascii => " * ",
            _ => Symbols::of(n).times,
        };
        (
            format!("{sign}{coeff}{times}{}", self.operand(n, Prec::Product)),
            Prec::Product,
        )
    }

    /// `A·B`, `Aᵀ·x`, `X³` (equal factors in a row as a power) in Unicode and LaTeX.
    fn product_text(&self, factors: &[Mat], n: Notation) -> String {
        if n == Notation::Ascii {
            return factors
                .iter()
                .map(|f| f.operand(n, Prec::Unary))
                .collect::<Vec<_>>()
                .join(" @ ");
        }
        let mut runs: Vec<(&Mat, usize)> = Vec::new();
        for f in factors {
            match runs.last_mut() {
                Some((last, count)) if *last == f && f.shape.len() == 2 => *count += 1,
                _ => runs.push((f, 1)),
            }
        }
        let last = runs.len() - 1;
        let parts: Vec<String> = runs
            .iter()
            .enumerate()
            .map(|(k, (f, count))| {
                // a vector first in a product of two vectors is a row: xᵀ·y
                let row = k == 0
                    && f.shape.len() == 1
                    && factors[factors.len() - 1].shape.len() == 1
                    && last > 0;
                let text = if *count > 1 && f.shape.len() == 2 {
                    // (Xᵀ)³ is written (X³)ᵀ, (X⁻¹)² is X⁻²
                    let t = Symbols::of(n).transpose;
                    let c = *count as f64;
                    let (base, p, t) = match &f.kind {
                        Kind::Transpose(a) => match &a.kind {
                            Kind::Inverse(b) => (b.operand(n, Prec::Atom), -c, t),
                            _ => (a.operand(n, Prec::Atom), c, t),
                        },
                        Kind::Inverse(b) => (b.operand(n, Prec::Atom), -c, ""),
                        _ => (f.operand(n, Prec::Atom), c, ""),
                    };
                    let power = match n {
                        Notation::Latex => format!("{base}^{{{p}}}"),
                        _ => format!("{base}{}", render::exponent(p, Notation::Unicode)),
                    };
                    if t.is_empty() {
                        power
                    } else {
                        format!("({power}){t}")
                    }
                } else {
                    f.operand(n, Prec::Unary)
                };
                if row {
                    format!("{text}{}", Symbols::of(n).transpose)
                } else {
                    text
                }
            })
            .collect();
        match n {
            Notation::Latex => parts.join(" "),
            _ => parts.join("·"),
        }
    }
}

/// `A @ B`, simplified: nested products flattened, identities dropped, numbers taken out
/// as a coefficient.
pub fn product(factors: Vec<Mat>) -> Mat {
    let mut coeff = 1.0;
    let mut chain: Vec<Mat> = Vec::new();
    let mut shape: Option<Vec<usize>> = None;
    for f in factors {
        let (c, f) = f.split_coeff();
        coeff *= c;
        let parts = match f.kind {
            Kind::Product(inner) => inner,
            _ => vec![f],
        };
        for part in parts {
            shape = Some(match shape {
                None => {
                    chain.push(part.clone());
                    part.shape
                }
                Some(acc) => {
                    let next = product_shape(&[acc.clone(), part.shape.clone()]);
                    // A vector so far (`… @ v`) times `part` is written with the vector
                    // last, as textbooks do: v @ A = A.T @ v, and v @ w = w @ v.
                    if acc.len() == 1 {
                        chain.insert(0, part.transpose());
                    } else {
                        chain.push(part);
                    }
                    next
                }
            });
        }
    }
    let shape = shape.unwrap_or_default();
    let mut kept: Vec<Mat> = chain
        .into_iter()
        .filter(|f| !(f.kind == Kind::Eye || f.is_one()))
        .collect();
    let mat = match kept.len() {
        0 => Mat::eye(shape[0]),
        1 => kept.pop().expect("one factor"),
        _ => Mat::new(Kind::Product(kept), shape),
    };
    Mat::scaled(coeff, mat)
}

/// The shape of a product `@` of factors of these shapes (matrices and vectors).
fn product_shape(shapes: &[Vec<usize>]) -> Vec<usize> {
    let mut shapes = shapes.iter();
    let first = shapes.next().cloned().unwrap_or_default();
    shapes.fold(first, |a, b| {
        let keep_a = &a[..a.len().saturating_sub(1)];
        let keep_b = if b.is_empty() { &b[..] } else { &b[1..] };
        keep_a.iter().chain(keep_b).copied().collect()
    })
}

/// `A * B` elementwise, simplified: nested products and quotients flattened, numbers
/// taken out as a coefficient, powers of the same factor merged (u ⊙ (u ⊙ u)⁻¹ = u⁻¹,
/// u⁻¹ ⊙ u = 1), sign(u) ⊙ u = abs(u), and the factors with a negative power written as
/// a quotient: s⁻¹ ⊙ M = `M / s`, s⁻² ⊙ M = `M / s ** 2`.
pub fn hadamard(factors: Vec<Mat>) -> Mat {
    let mut coeff = 1.0;
    // Each factor as a base and its power, in the order they come.
    let mut powers: Vec<Raised> = Vec::new();
    let mut work: Vec<Raised> = factors.into_iter().rev().map(|f| (f, 1.0)).collect();
    while let Some((f, p)) = work.pop() {
        // (u ⊙ v)ᵖ = uᵖ ⊙ vᵖ and (c·u)ᵖ = cᵖ·uᵖ only for a whole p (u, v may be negative).
        let whole = p.fract() == 0.0;
        match f.kind {
            Kind::Power(base, q) => work.push((*base, p * q)),
            Kind::Scaled(c, a) if whole => {
                coeff *= c.powf(p);
                work.push((*a, p));
            }
            Kind::Number(c) if whole => coeff *= c.powf(p),
            Kind::Hadamard(inner) if whole => work.extend(inner.into_iter().rev().map(|g| (g, p))),
            Kind::Quotient(top, bottom) if whole => {
                work.push((*bottom, -p));
                work.push((*top, p));
            }
            kind => {
                let f = Mat::new(kind, f.shape);
                match powers.iter_mut().find(|(base, _)| *base == f) {
                    Some((_, total)) => *total += p,
                    None => powers.push((f, p)),
                }
            }
        }
    }
    powers.retain(|(_, p)| *p != 0.0);
    // sign(u) · u = abs(u)
    loop {
        let found = powers
            .iter()
            .enumerate()
            .find_map(|(at, (f, p))| match &f.kind {
                Kind::Call {
                    name: "sign", args, ..
                } if *p == 1.0 => powers
                    .iter()
                    .position(|(g, q)| *g == args[0] && *q == 1.0)
                    .map(|u| (at, u)),
                _ => None,
            });
        let Some((sign_at, u_at)) = found else {
            break;
        };
        let (u, _) = powers.remove(u_at);
        powers.remove(if sign_at > u_at { sign_at - 1 } else { sign_at });
        let shape = u.shape.clone();
        powers.push((Mat::call("abs", vec![u], String::new(), shape), 1.0));
    }
    let (top, bottom): (Vec<Raised>, Vec<Raised>) = powers.into_iter().partition(|(_, p)| *p > 0.0);
    let top = elementwise_product(top.into_iter().map(|(f, p)| raised(f, p)).collect());
    let mat = if bottom.is_empty() {
        top
    } else {
        let bottom = elementwise_product(bottom.into_iter().map(|(f, p)| raised(f, -p)).collect());
        let shape = wider(&top.shape, &bottom.shape);
        Mat::new(Kind::Quotient(Box::new(top), Box::new(bottom)), shape)
    };
    Mat::scaled(coeff, mat)
}

/// A factor of an elementwise product and the power it is raised to.
type Raised = (Mat, f64);

/// `a ** p` for p > 0 as it is (no merging: [`hadamard`] has done that).
fn raised(a: Mat, p: f64) -> Mat {
    if p == 1.0 {
        return a;
    }
    let shape = a.shape.clone();
    Mat::new(Kind::Power(Box::new(a), p), shape)
}

/// `f₁ * f₂ * …` of simplified factors: 1 for none, the factor for one.
fn elementwise_product(mut factors: Vec<Mat>) -> Mat {
    match factors.len() {
        0 => Mat::number(1.0),
        1 => factors.pop().expect("one factor"),
        _ => {
            let shape = factors
                .iter()
                .map(|f| f.shape.clone())
                .max_by_key(Vec::len)
                .unwrap_or_default();
            Mat::new(Kind::Hadamard(factors), shape)
        }
    }
}

/// The shape of an elementwise result of operands of shapes `a` and `b` (a scalar
/// broadcasts).
fn wider(a: &[usize], b: &[usize]) -> Vec<usize> {
    if a.len() >= b.len() { a } else { b }.to_vec()
}

/// `A + B`, simplified: nested sums flattened, like terms (equal up to their coefficient)
/// merged, zero terms dropped; a common first or last factor of matrix products taken out
/// (`A @ x + A.T @ x` → `(A + A.T) @ x`).
pub fn sum(terms: Vec<Mat>) -> Mat {
    let mut merged: Vec<(f64, Mat)> = Vec::new();
    let mut shape = Vec::new();
    for term in terms {
        if term.shape.len() > shape.len() {
            shape = term.shape.clone();
        }
        let parts = match term.kind {
            Kind::Sum(inner) => inner,
            _ => vec![term],
        };
        for part in parts {
            let (c, rest) = part.split_coeff();
            match merged.iter_mut().find(|(_, m)| *m == rest) {
                Some((total, _)) => *total += c,
                None => merged.push((c, rest)),
            }
        }
    }
    let mut kept: Vec<Mat> = merged
        .into_iter()
        .filter(|(c, _)| c.abs() > 1e-12)
        .map(|(c, m)| Mat::scaled(c, m))
        .collect();
    // A term before its transpose, as textbooks write them: B + Bᵀ, not Bᵀ + B.
    for at in 0..kept.len() {
        if let Kind::Transpose(inner) = &kept[at].kind
            && let Some(later) = (at + 1..kept.len()).find(|&j| kept[j] == **inner)
        {
            let term = kept.remove(later);
            kept.insert(at, term);
        }
    }
    match kept.len() {
        0 => Mat::number(0.0),
        1 => kept.pop().expect("one term"),
        _ => factor_out(kept).unwrap_or_else(|kept| Mat::new(Kind::Sum(kept), shape)),
    }
}

/// A term `c · outer(p, q)` taken apart: c, p, q and the matrix's shape.
type OuterTerm = (f64, Mat, Mat, Vec<usize>);

/// `c₁·P₁·F + c₂·P₂·F` → `(c₁·P₁ + c₂·P₂)·F` for a factor F that every term ends with
/// (likewise one every term starts with; likewise `outer(p₁, q) + outer(p₂, q)` →
/// `outer(p₁ + p₂, q)`), or the terms back if there is none.
fn factor_out(terms: Vec<Mat>) -> Result<Mat, Vec<Mat>> {
    let outers: Option<Vec<OuterTerm>> = terms
        .iter()
        .map(|t| {
            let (c, rest) = t.clone().split_coeff();
            match rest.kind {
                Kind::Call {
                    name: "outer",
                    args,
                    ..
                } => Some((c, args[0].clone(), args[1].clone(), rest.shape)),
                _ => None,
            }
        })
        .collect();
    if let Some(outers) = outers {
        let (_, p0, q0, shape) = &outers[0];
        let outer = |p: Mat, q: Mat| Mat::call("outer", vec![p, q], String::new(), shape.clone());
        if outers.iter().all(|(_, _, q, _)| q == q0) {
            let ps = outers
                .iter()
                .map(|(c, p, _, _)| Mat::scaled(*c, p.clone()))
                .collect();
            return Ok(outer(sum(ps), q0.clone()));
        }
        if outers.iter().all(|(_, p, _, _)| p == p0) {
            let qs = outers
                .iter()
                .map(|(c, _, q, _)| Mat::scaled(*c, q.clone()))
                .collect();
            return Ok(outer(p0.clone(), sum(qs)));
        }
    }
    let split: Vec<(f64, Vec<Mat>)> = terms
        .iter()
        .map(|t| {
            let (c, rest) = t.clone().split_coeff();
            match rest.kind {
                Kind::Product(factors) => (c, factors),
                _ => (c, vec![rest]),
            }
        })
        .collect();
    for last in [true, false] {
        let end = |fs: &Vec<Mat>| {
            if last {
                fs.last().cloned()
            } else {
                fs.first().cloned()
            }
        };
        let Some(common) = end(&split[0].1) else {
            continue;
        };
        if split
            .iter()
            .all(|(_, fs)| fs.len() >= 2 && end(fs).as_ref() == Some(&common))
        {
            let rests: Vec<Mat> = split
                .iter()
                .map(|(c, fs)| {
                    let rest = if last {
                        fs[..fs.len() - 1].to_vec()
                    } else {
                        fs[1..].to_vec()
                    };
                    Mat::scaled(*c, product(rest))
                })
                .collect();
            let inner = sum(rests);
            return Ok(if last {
                product(vec![inner, common])
            } else {
                product(vec![common, inner])
            });
        }
    }
    Err(terms)
}

/// The closed form of f′(a) in the language: exp′(a) = exp(a), log′(a) = 1 / a,
/// sigmoid′(a) = sigmoid(a) * (1 - sigmoid(a)), relu′(a) = relu(sign(a)), ….
fn closed_form(func: ElemFn, a: Mat) -> Mat {
    let shape = a.shape.clone();
    let f = |name: &'static str, a: Mat| Mat::call(name, vec![a], String::new(), shape.clone());
    let one_minus = |m: Mat| sum(vec![Mat::number(1.0), Mat::scaled(-1.0, m)]);
    match func {
        ElemFn::Exp => f("exp", a),
        ElemFn::Log => Mat::new(
            Kind::Quotient(Box::new(Mat::number(1.0)), Box::new(a)),
            shape.clone(),
        ),
        ElemFn::Sqrt => Mat::scaled(
            0.5,
            Mat::new(
                Kind::Quotient(Box::new(Mat::number(1.0)), Box::new(f("sqrt", a))),
                shape.clone(),
            ),
        ),
        ElemFn::Abs | ElemFn::Sign => f("sign", a),
        ElemFn::Sin => f("cos", a),
        ElemFn::Cos => Mat::scaled(-1.0, f("sin", a)),
        ElemFn::Tanh => one_minus(Mat::power(f("tanh", a), 2.0)),
        ElemFn::Sigmoid => {
            let s = f("sigmoid", a);
            hadamard(vec![s.clone(), one_minus(s)])
        }
        ElemFn::Relu => f("relu", f("sign", a)),
        ElemFn::Softplus => f("sigmoid", a),
        ElemFn::Square => Mat::scaled(2.0, a),
    }
}

/// `trace(A)`, `tr(A)`, `\operatorname{tr}(A)`; `outer(a, b)` as `a·bᵀ`; the rest as
/// `name(args, options)`.
fn call_text(name: &str, args: &[Mat], options: &str, n: Notation) -> String {
    if n != Notation::Ascii && name == "outer" {
        let t = Symbols::of(n).transpose;
        let sep = if n == Notation::Latex { " " } else { "·" };
        return format!(
            "{}{sep}{}{t}",
            args[0].operand(n, Prec::Power),
            args[1].operand(n, Prec::Atom)
        );
    }
    let shown = match (n, name) {
        (Notation::Ascii, _) => name.to_string(),
        (Notation::Unicode, "trace") => "tr".to_string(),
        (Notation::Unicode, _) => name.to_string(),
        (Notation::Latex, "trace") => "\\operatorname{tr}".to_string(),
        (Notation::Latex, "det" | "exp" | "log" | "sin" | "cos" | "tanh") => format!("\\{name}"),
        (Notation::Latex, _) => format!("\\operatorname{{{name}}}"),
    };
    let mut inner: Vec<String> = args.iter().map(|a| a.render(n)).collect();
    // A vector has one axis: textbooks write softmax(x).
    let implied = n != Notation::Ascii && name == "softmax" && args[0].shape.len() == 1;
    if !options.is_empty() && !implied {
        inner.push(options.to_string());
    }
    format!("{shown}({})", inner.join(", "))
}

/// `axis=0, keepdims=true` as the language writes them (empty for all axes).
fn axis_options(axis: Option<usize>, keepdims: bool) -> String {
    let mut options = Vec::new();
    if let Some(axis) = axis {
        options.push(format!("axis={axis}"));
    }
    if keepdims {
        options.push("keepdims=true".to_string());
    }
    options.join(", ")
}

/// A variable's name in `notation` (LaTeX `W_1`, `\mathrm{bias}`).
fn name_text(name: &str, n: Notation) -> String {
    render::base(name, n)
}

/// A positive constant as formulas write it (`2`, `1/3`, `0.5`); the language reads
/// `1/3` as a division.
fn number_text(c: f64, n: Notation) -> String {
    render::number(c, n)
}

/// An exponent in the language: `2`, `-1`, `0.5` (negative ones in parentheses).
fn exponent_ascii(p: f64) -> String {
    if p < 0.0 {
        format!("({p})")
    } else {
        format!("{p}")
    }
}

/// `c·top / bottom` as a textbook writes it: `2 / X` (c an integer, top 1), `x / (4·u)`
/// (c = 1/4), with c's sign in front; `None` for other coefficients.
fn scaled_quotient(c: f64, quotient: &Mat, n: Notation) -> Option<(String, Prec)> {
    let Kind::Quotient(top, bottom) = &quotient.kind else {
        return None;
    };
    let (top, bottom) = if top.is_one() && c.fract() == 0.0 {
        (Mat::number(c.abs()), (**bottom).clone())
    } else if (1.0 / c).fract() == 0.0 {
        (
            (**top).clone(),
            Mat::scaled(1.0 / c.abs(), (**bottom).clone()),
        )
    } else {
        return None;
    };
    let written = Mat::new(
        Kind::Quotient(Box::new(top), Box::new(bottom)),
        quotient.shape.clone(),
    );
    Some(if c < 0.0 {
        (
            format!(
                "{}{}",
                Symbols::of(n).minus,
                written.operand(n, Prec::Product)
            ),
            Prec::Unary,
        )
    } else {
        written.write(n)
    })
}
