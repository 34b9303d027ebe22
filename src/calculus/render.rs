//! Writing index formulas as text: Unicode (`δ(i,k)·W[j,l]`), ASCII for scripts
//! (`delta(i,k)*W[j,l]`) and LaTeX (`\delta_{ik} W_{jl}`).
//!
//! Tensors are named after the graph: an input by its variable name, the expression's value
//! by `Y`, and every other node a formula (or the derivation steps) needs by `Z1`, `Z2`, …
//! in graph order ([`definitions`] says what each stands for). Derived tensors are written
//! as functions of those names: `relu′(Z1)`, `inv(X)`, `softmax(Z1)`, `centered(Z1)`; an
//! elementwise power is written after the indices it is read at: `Z1[i,j]⁻²`; tanh′ and
//! sigmoid′ through the function's value: `(1 − Y[i,j]²)`, `Y[i,j]·(1 − Y[i,j])`.
//!
//! [`Symbols`] is the one table of the symbols of each notation (minus, times, transpose,
//! ⊗, δ, Σ, ∂, ×, dashes) that every other text writing formulas reads.

use std::collections::BTreeMap;

use super::formula::{Factor, Formula, IndexId, Slot, TensorDef, Term};
use super::same_nodes;
use crate::expr::diagnostic::escape_non_ascii;
use crate::expr::{ElemFn, Graph, NodeId, Op, ReduceKind, ValueDerivative};
use crate::numfmt;

/// How formulas are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Notation {
    /// `∂Y[i,j]/∂X[k,l] = δ(i,k)·W[j,l]`, `Σ_m`, `relu′(Z1)`, `−`.
    Unicode,
    /// Stable plain text for scripts: `dY[i,j]/dX[k,l] = delta(i,k)*W[j,l]`, `sum_m`,
    /// `relu'(Z1)`, `-`.
    Ascii,
    /// LaTeX math: `\frac{\partial Y_{ij}}{\partial X_{kl}} = \delta_{ik} W_{jl}`.
    Latex,
}

/// The right-hand side of `formula`: its terms joined by `+`/`−` (`a − b`, never
/// `a + -1·b`), or `0` for a formula without terms.
pub fn render(formula: &Formula, graph: &Graph, notation: Notation) -> String {
    render_named(formula, &Names::new(formula, graph), notation)
}

/// [`render`] with the given names (those of another formula too, as the derivation steps
/// name the raw formula's nodes as the result names them).
pub(super) fn render_named(formula: &Formula, names: &Names, notation: Notation) -> String {
    let mut out = String::new();
    for (n, term) in formula.terms.iter().enumerate() {
        let negative = term.coeff < 0.0;
        match (n, negative) {
            (0, true) => out.push_str(minus(notation)),
            (0, false) => {}
            (_, true) => out.push_str(&format!(" {} ", minus(notation))),
            (_, false) => out.push_str(" + "),
        }
        out.push_str(&term_body(formula, names, term, notation));
    }
    if out.is_empty() {
        out.push('0');
    }
    out
}

/// One term of `formula`, with its sign if negative: `−Σ_m Y[i,j]·Y[i,m]·W[m,l]`.
pub fn render_term(formula: &Formula, graph: &Graph, term: &Term, notation: Notation) -> String {
    let names = Names::new(formula, graph);
    let sign = if term.coeff < 0.0 {
        minus(notation)
    } else {
        ""
    };
    format!("{sign}{}", term_body(formula, &names, term, notation))
}

/// One factor of a term of `formula`: `δ(i,k)`, `W[j,l]`, `relu′(Z1)[i,j]`.
///
/// With `at` (a value for every index of `formula.indices`, by [`IndexId`]), the indices
/// are replaced by their values: `δ(0,0)`, `W[0,7]`.
pub fn render_factor(
    formula: &Formula,
    graph: &Graph,
    factor: &Factor,
    notation: Notation,
    at: Option<&[usize]>,
) -> String {
    let names = Names::new(formula, graph);
    factor_text(formula, &names, factor, notation, at)
}

/// f′ of the node `arg` written as a function, `tanh′(Z1)` (LaTeX
/// `\operatorname{tanh}'(Z_1)`), with `formula`'s names, a node it does not name as its
/// source text (`tanh′(X @ W.T)`): for matrix forms, where the closed form through f's
/// value that `render` writes (`1 − Y²`) would read as a matrix power.
pub fn derivative_of(
    formula: &Formula,
    graph: &Graph,
    func: ElemFn,
    arg: NodeId,
    notation: Notation,
) -> String {
    let arg = match Names::new(formula, graph).get(arg) {
        Some(name) => base(name, notation),
        None => graph.text(arg).to_string(),
    };
    function(func.name(), &arg, true, notation)
}

/// The left-hand side `∂Y[i,j]/∂X[k,l]` of `formula`, the Jacobian with respect to the
/// input node `wrt` (ASCII `dY[i,j]/dX[k,l]`, LaTeX
/// `\frac{\partial Y_{ij}}{\partial X_{kl}}`).
pub fn lhs(formula: &Formula, graph: &Graph, wrt: NodeId, notation: Notation) -> String {
    let names = Names::new(formula, graph);
    let index_names = |ids: &[IndexId]| -> Vec<String> {
        ids.iter()
            .map(|&id| formula.indices[id].name.clone())
            .collect()
    };
    let y = indexed(
        &base(&names.root, notation),
        &index_names(&formula.out),
        notation,
    );
    let x = indexed(
        &names.written(wrt, notation),
        &index_names(&formula.input),
        notation,
    );
    let d = Symbols::of(notation).partial;
    match notation {
        Notation::Unicode | Notation::Ascii => format!("{d}{y}/{d}{x}"),
        Notation::Latex => format!("\\frac{{{d} {y}}}{{{d} {x}}}"),
    }
}

/// What each intermediate name in `formula`'s terms stands for: `("Z1", "X @ W.T + b")`,
/// in numbering order, using the node's source text. Inputs and the expression itself
/// (`Y`) are not listed.
pub fn definitions(formula: &Formula, graph: &Graph) -> Vec<(String, String)> {
    let names = Names::new(formula, graph);
    let used: Vec<&str> = formula
        .terms
        .iter()
        .flat_map(|term| &term.factors)
        .filter_map(|factor| match factor {
            Factor::Tensor { tensor, .. } => names.get(formula.tensors[*tensor].node()),
            Factor::Delta(..) => None,
        })
        .collect();
    names
        .intermediates()
        .filter(|(_, name)| used.contains(name))
        .map(|(node, name)| (name.to_string(), graph.text(node).to_string()))
        .collect()
}

/// The name of a node as `render` writes it (`X`, `Y`, `Z1`; LaTeX `Z_1`), for callers that
/// show a node's value next to a formula, e.g. "relu′(Z1)[3,7] = 0 since Z1[3,7] = −0.41".
///
/// A node that has no name of its own is written as its source text in parentheses.
pub fn node_name(formula: &Formula, graph: &Graph, node: NodeId, notation: Notation) -> String {
    match Names::new(formula, graph).get(node) {
        Some(name) => base(name, notation),
        None => source_text(graph, node),
    }
}

/// Every node that [`render`] names when it writes `formula`, with its name, in graph
/// order: the inputs (`W`), the expression's value (`Y`) and the intermediates (`Z1`, …,
/// as [`definitions`] defines them), so that a formula written in this notation can be
/// read back.
pub fn named_nodes(formula: &Formula, graph: &Graph) -> Vec<(String, NodeId)> {
    Names::new(formula, graph)
        .by_node
        .into_iter()
        .map(|(node, name)| (name, node))
        .collect()
}

/// The display names of the nodes a formula (and its derivation steps) refer to.
///
/// Nodes that compute the same value (two `trace(X)` in `trace(X) * trace(X)`, see
/// [`super::same_nodes`]) share one name. Intermediates are numbered without gaps: first
/// the nodes of the formula's tensors in graph order (J's formula lists exactly the
/// tensors its terms read), then the other operands the derivation steps write in function
/// form. A node appended to a graph after its root (an
/// expression a claim reads that J's graph does not compute) has no name: it is written
/// as its source text, `(B @ A)`, so that it never takes a name J gives another node.
pub(super) struct Names {
    /// Name of the expression's value (`Y`, or another letter if a variable is called Y).
    pub(super) root: String,
    /// Names of the nodes named: inputs, the root, and intermediates `Z1`, `Z2`, ….
    by_node: BTreeMap<NodeId, String>,
    /// How the nodes without a name are written: their source text.
    unnamed: BTreeMap<NodeId, String>,
    /// Intermediates (representatives) in numbering order.
    intermediates: Vec<NodeId>,
}

impl Names {
    /// Names for the nodes `formula`'s tensors refer to, plus the non-input operands of the
    /// operations the derivation steps write in function form (softmax, logsumexp, var,
    /// std, inv, det), so that a node has the same name in the formula and in the steps.
    pub(super) fn new(formula: &Formula, graph: &Graph) -> Names {
        Names::of(&[formula], graph)
    }

    /// Names for the nodes of several formulas' tensors, numbered in the order of the
    /// formulas (so that the first keeps the names it has alone), then the function-form
    /// operands (see [`Names::new`]).
    pub(super) fn of(formulas: &[&Formula], graph: &Graph) -> Names {
        let rep = same_nodes::representatives(graph);
        let own = |node: NodeId| node <= graph.root;
        let mut order: Vec<NodeId> = Vec::new();
        for formula in formulas {
            let mut nodes: Vec<NodeId> =
                formula.tensors.iter().map(|def| rep[def.node()]).collect();
            nodes.sort();
            order.extend(nodes);
        }
        order.extend(
            graph
                .nodes
                .iter()
                .take(graph.root + 1)
                .filter_map(|node| match node.op {
                    Op::Softmax { arg, .. }
                    | Op::LogSumExp { arg, .. }
                    | Op::Inv(arg)
                    | Op::Det(arg)
                    | Op::Reduce {
                        kind: ReduceKind::Var | ReduceKind::Std,
                        arg,
                        ..
                    } => Some(arg),
                    _ => None,
                }),
        );
        let mut named: Vec<NodeId> = Vec::new();
        for node in order {
            let node = rep[node];
            let input = matches!(graph.node(node).op, Op::Input(_));
            if own(node) && !input && node != graph.root && !named.contains(&node) {
                named.push(node);
            }
        }
        let variables = graph.variables();
        let free = |name: &str| !variables.contains(&name);
        let root = ["Y", "F", "Out"]
            .into_iter()
            .find(|n| free(n))
            .unwrap_or("Y")
            .to_string();
        let prefix = ["Z", "T", "U", "V"]
            .into_iter()
            .find(|p| (1..=named.len()).all(|n| free(&format!("{p}{n}"))))
            .unwrap_or("Z");
        let mut by_node = BTreeMap::new();
        let mut unnamed = BTreeMap::new();
        for (node, &r) in rep.iter().enumerate() {
            let name = match &graph.node(r).op {
                Op::Input(name) => name.clone(),
                _ if r == graph.root => root.clone(),
                _ => match named.iter().position(|&n| n == r) {
                    Some(n) => format!("{prefix}{}", n + 1),
                    None => {
                        unnamed.insert(node, source_text(graph, r));
                        continue;
                    }
                },
            };
            by_node.insert(node, name);
        }
        Names {
            root,
            by_node,
            unnamed,
            intermediates: named,
        }
    }

    /// The ASCII name of `node`, if it has one (an input, the root or an intermediate).
    pub(super) fn get(&self, node: NodeId) -> Option<&str> {
        self.by_node.get(&node).map(String::as_str)
    }

    /// `node` as a formula writes it in `notation`: its name, or its source text.
    fn written(&self, node: NodeId, notation: Notation) -> String {
        match (self.get(node), self.unnamed.get(&node)) {
            (Some(name), _) => base(name, notation),
            (None, Some(text)) => text.clone(),
            (None, None) => unreachable!("every node of the graph is named or written"),
        }
    }

    /// The intermediates and their names, in numbering order.
    pub(super) fn intermediates(&self) -> impl Iterator<Item = (NodeId, &str)> {
        self.intermediates
            .iter()
            .map(|&node| (node, self.by_node[&node].as_str()))
    }
}

/// A node's source text as a formula writes it when it has no name: a call as it is
/// (`kron(B, A)`), a name or number as it is, anything else in parentheses (`(B @ A)`).
pub fn source_text(graph: &Graph, node: NodeId) -> String {
    let text = graph.text(node);
    let atom = text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if atom || is_call(text) {
        text.to_string()
    } else {
        format!("({text})")
    }
}

/// Whether `text` is one call of the language, `softmax(X, axis=1)`: a name, then
/// parentheses that close at the end (so it can be indexed without more parentheses).
pub fn is_call(text: &str) -> bool {
    let Some(open) = text.find('(') else {
        return false;
    };
    let name = &text[..open];
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return false;
    }
    let mut depth = 0;
    for (at, c) in text.char_indices().skip(open) {
        depth += match c {
            '(' => 1,
            ')' => -1,
            _ => 0,
        };
        if depth == 0 {
            return at == text.len() - 1;
        }
    }
    false
}

/// The symbols of one notation, shared by every text that writes formulas, matrix forms or
/// the words around them, so that each symbol and its ASCII form are written once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Symbols {
    /// The minus sign: `−`, `-`, `-`.
    pub minus: &'static str,
    /// Multiplication between factors: `·`, `*`, a space in LaTeX.
    pub times: &'static str,
    /// The transpose, written after a matrix: `ᵀ`, `^T`, `^\top`.
    pub transpose: &'static str,
    /// The Kronecker product: `⊗`, `kron` (written as a function in ASCII), `\otimes`.
    pub kron: &'static str,
    /// The Kronecker delta: `δ`, `delta`, `\delta`.
    pub delta: &'static str,
    /// A sum, written before its indices: `Σ_`, `sum_`, `\sum_`.
    pub sum: &'static str,
    /// The partial derivative: `∂`, `d`, `\partial`.
    pub partial: &'static str,
    /// The sign between the sizes of a shape (`3×4`): `×`, `x`, `\times`.
    pub by: &'static str,
    /// The mark of a derivative (`relu′`): `′`, `'`, `'`.
    pub prime: &'static str,
    /// The dash between clauses: `—`, `--`, `---`.
    pub em_dash: &'static str,
    /// The dash between names or numbers (`Magnus–Neudecker`): `–`, `-`, `--`.
    pub en_dash: &'static str,
    /// The mark of text left out (`exp(…)`, a shortened name): `…`, `...`, `\ldots`.
    pub ellipsis: &'static str,
}

/// The symbols of [`Notation::Unicode`].
const UNICODE: Symbols = Symbols {
    minus: "−",
    times: "·",
    transpose: "ᵀ",
    kron: "⊗",
    delta: "δ",
    sum: "Σ_",
    partial: "∂",
    by: "×",
    prime: "′",
    em_dash: "—",
    en_dash: "–",
    ellipsis: "…",
};

/// The symbols of [`Notation::Ascii`].
const ASCII: Symbols = Symbols {
    minus: "-",
    times: "*",
    transpose: "^T",
    kron: "kron",
    delta: "delta",
    sum: "sum_",
    partial: "d",
    by: "x",
    prime: "'",
    em_dash: "--",
    en_dash: "-",
    ellipsis: "...",
};

/// The symbols of [`Notation::Latex`].
const LATEX: Symbols = Symbols {
    minus: "-",
    times: " ",
    transpose: "^\\top",
    kron: "\\otimes",
    delta: "\\delta",
    sum: "\\sum_",
    partial: "\\partial",
    by: "\\times",
    prime: "'",
    em_dash: "---",
    en_dash: "--",
    ellipsis: "\\ldots",
};

impl Symbols {
    /// The symbols of `notation`.
    pub fn of(notation: Notation) -> &'static Symbols {
        match notation {
            Notation::Unicode => &UNICODE,
            Notation::Ascii => &ASCII,
            Notation::Latex => &LATEX,
        }
    }

    /// Every symbol, in one fixed order (for spelling one notation's symbols in another).
    fn all(&self) -> [&'static str; 12] {
        [
            self.minus,
            self.times,
            self.transpose,
            self.kron,
            self.delta,
            self.sum,
            self.partial,
            self.by,
            self.prime,
            self.em_dash,
            self.en_dash,
            self.ellipsis,
        ]
    }
}

/// `text`, written with the Unicode symbols, in ASCII only: each symbol spelled in ASCII
/// (`∂vec(Y)/∂vec(X)ᵀ, Magnus–Neudecker` → `dvec(Y)/dvec(X)^T, Magnus-Neudecker`) and
/// any other non-ASCII character, which only user text quoted in it can have (a file
/// name, a `--wrt`), escaped: `données.npy` → `donn\u{e9}es.npy`.
pub fn to_ascii(text: &str) -> String {
    UNICODE
        .all()
        .into_iter()
        .zip(ASCII.all())
        .fold(text.to_string(), |text, (unicode, ascii)| {
            text.replace(unicode, ascii)
        })
        .chars()
        .map(escape_non_ascii)
        .collect()
}

/// The minus sign of `notation` (see [`Symbols::minus`]).
pub fn minus(notation: Notation) -> &'static str {
    Symbols::of(notation).minus
}

/// The multiplication sign between factors in `notation` (see [`Symbols::times`]).
pub fn times(notation: Notation) -> &'static str {
    Symbols::of(notation).times
}

/// `Σ_m,n ` / `sum_m,n ` / `\sum_{m,n} ` over the given index names.
pub(super) fn sigma(names: &[String], notation: Notation) -> String {
    let sum = Symbols::of(notation).sum;
    match notation {
        Notation::Unicode | Notation::Ascii => format!("{sum}{} ", names.join(",")),
        Notation::Latex => {
            let names: Vec<String> = names.iter().map(|n| latex_index(n)).collect();
            format!("{sum}{{{}}} ", names.join(","))
        }
    }
}

/// A name as written in `notation`: unchanged except in LaTeX, where `Z1` is `Z_1`, `W12`
/// is `W_{12}` and longer names are upright (`\mathrm{bias}`).
pub fn base(name: &str, notation: Notation) -> String {
    if notation != Notation::Latex {
        return name.to_string();
    }
    let letters = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = &name[letters.len()..];
    let head = if letters.chars().count() == 1 {
        letters.to_string()
    } else {
        format!("\\mathrm{{{}}}", letters.replace('_', "\\_"))
    };
    match digits.len() {
        0 => head,
        1 => format!("{head}_{digits}"),
        _ => format!("{head}_{{{digits}}}"),
    }
}

/// An index name in LaTeX: `m1` → `m_1`.
fn latex_index(name: &str) -> String {
    let letters = name.trim_end_matches(|c: char| c.is_ascii_digit());
    match &name[letters.len()..] {
        "" => name.to_string(),
        digits if letters.is_empty() => digits.to_string(),
        digits => format!("{letters}_{digits}"),
    }
}

/// A tensor written at indices: `W[j,l]`, `W_{jl}` (`{Z_1}_{ij}` when the base already
/// has a subscript, `W_{j,10}` when an index is longer than one character). A scalar is
/// its name alone. `name` is already in `notation`.
pub(super) fn indexed(name: &str, indices: &[String], notation: Notation) -> String {
    if indices.is_empty() {
        return name.to_string();
    }
    match notation {
        Notation::Unicode | Notation::Ascii => format!("{name}[{}]", indices.join(",")),
        Notation::Latex => {
            let parts: Vec<String> = indices.iter().map(|i| latex_index(i)).collect();
            let sub = if parts.iter().all(|p| p.chars().count() == 1) {
                parts.concat()
            } else {
                parts.join(",")
            };
            // `W`, `\delta` and `f(…)` take a subscript directly; `Z_1` needs braces.
            let command = name.strip_prefix('\\').unwrap_or(name);
            let simple = command.chars().all(|c| c.is_ascii_alphabetic()) || name.ends_with(')');
            if simple {
                format!("{name}_{{{sub}}}")
            } else {
                format!("{{{name}}}_{{{sub}}}")
            }
        }
    }
}

/// The Kronecker delta δ(a,b) (LaTeX `\delta_{ab}`).
pub(super) fn delta(a: String, b: String, notation: Notation) -> String {
    let delta = Symbols::of(notation).delta;
    match notation {
        Notation::Unicode | Notation::Ascii => format!("{delta}({a},{b})"),
        Notation::Latex => indexed(delta, &[a, b], notation),
    }
}

/// `f(arg)` in `notation`: `relu(Z1)`, LaTeX `\operatorname{relu}(Z_1)`; `prime` adds the
/// derivative mark (`relu′(Z1)`, `relu'(Z1)`).
pub(super) fn function(func: &str, arg: &str, prime: bool, notation: Notation) -> String {
    let mark = if prime {
        Symbols::of(notation).prime
    } else {
        ""
    };
    match notation {
        Notation::Latex => format!("\\operatorname{{{func}}}{mark}({arg})"),
        Notation::Unicode | Notation::Ascii => format!("{func}{mark}({arg})"),
    }
}

/// An exponent written after what it applies to: `⁻²` / `^-2` / `^{-2}`; Unicode falls
/// back to `^(-0.5)` for exponents that are not integers.
pub fn exponent(p: f64, notation: Notation) -> String {
    let integer = p.fract() == 0.0 && p.abs() < 1e9;
    match notation {
        Notation::Unicode if integer => numfmt::superscript(p as i64),
        Notation::Unicode => format!("^({p})"),
        Notation::Ascii => format!("^{p}"),
        Notation::Latex => format!("^{{{p}}}"),
    }
}

/// A positive constant: an integer (`2`), an exact small fraction (`1/64`) unless its
/// denominator is a power of ten, else a short decimal (`0.37`, `3.141593`).
pub fn number(x: f64, notation: Notation) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    if let Some((p, q)) = fraction(x) {
        let power_of_ten = (q as f64).log10().fract() == 0.0;
        if !power_of_ten {
            return match notation {
                Notation::Latex => format!("\\frac{{{p}}}{{{q}}}"),
                Notation::Unicode | Notation::Ascii => format!("{p}/{q}"),
            };
        }
    }
    let shortest = format!("{x}");
    if shortest.len() <= 8 {
        shortest
    } else if (1e-4..1e6).contains(&x.abs()) {
        format!("{x:.6}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        format!("{x:.4e}")
    }
}

/// `x` as p/q in lowest terms with q ≤ 10⁶, if it is one (to a few ulps).
fn fraction(x: f64) -> Option<(u64, u64)> {
    // Continued-fraction convergents of x.
    let (mut p0, mut q0, mut p1, mut q1) = (0u64, 1u64, 1u64, 0u64);
    let mut rest = x;
    for _ in 0..40 {
        let a = rest.floor();
        if a > 1e15 {
            return None;
        }
        let a = a as u64;
        let (p2, q2) = (
            a.checked_mul(p1)?.checked_add(p0)?,
            a.checked_mul(q1)?.checked_add(q0)?,
        );
        if q2 > 1_000_000 {
            return None;
        }
        if ((p2 as f64 / q2 as f64) - x).abs() <= 8.0 * f64::EPSILON * x.abs() {
            return Some((p2, q2));
        }
        (p0, q0, p1, q1) = (p1, q1, p2, q2);
        let frac = rest - a as f64;
        if frac == 0.0 {
            return None;
        }
        rest = 1.0 / frac;
    }
    None
}

/// A term without its sign: `2·Σ_m Y[i,m]·W[m,l]`.
fn term_body(formula: &Formula, names: &Names, term: &Term, notation: Notation) -> String {
    let magnitude = term.coeff.abs();
    let mut factors: Vec<String> = term
        .factors
        .iter()
        .map(|f| factor_text(formula, names, f, notation, None))
        .collect();
    let sum = if term.sums.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = term
            .sums
            .iter()
            .map(|&m| formula.indices[m].name.clone())
            .collect();
        sigma(&names, notation)
    };
    if factors.is_empty() {
        factors.push(number(magnitude, notation));
        if sum.is_empty() {
            return factors.remove(0);
        }
    } else if magnitude != 1.0 {
        let c = number(magnitude, notation);
        let c = match notation {
            Notation::Unicode | Notation::Ascii if c.contains('/') => format!("({c})"),
            _ => c,
        };
        return format!(
            "{c}{}{sum}{}",
            times(notation),
            factors.join(times(notation))
        );
    }
    format!("{sum}{}", factors.join(times(notation)))
}

/// One factor, at its index names or (with `at`) at index values.
fn factor_text(
    formula: &Formula,
    names: &Names,
    factor: &Factor,
    notation: Notation,
    at: Option<&[usize]>,
) -> String {
    let slot = |s: &Slot| match (*s, at) {
        (Slot::Fixed(v), _) => v.to_string(),
        (Slot::Index(id), Some(values)) => values[id].to_string(),
        (Slot::Index(id), None) => formula.indices[id].name.clone(),
    };
    match factor {
        Factor::Delta(a, b) => delta(slot(a), slot(b), notation),
        Factor::Tensor { tensor, slots } => {
            let indices: Vec<String> = slots.iter().map(slot).collect();
            tensor_text(names, &formula.tensors[*tensor], &indices, notation)
        }
    }
}

/// A tensor definition read at `indices`.
fn tensor_text(names: &Names, def: &TensorDef, indices: &[String], notation: Notation) -> String {
    let node = |n: NodeId| names.written(n, notation);
    match *def {
        TensorDef::Node(n) => indexed(&node(n), indices, notation),
        // abs′(u) in closed form: sign(u), as a claim reads it back.
        TensorDef::ElemDeriv {
            func: ElemFn::Abs,
            arg,
        } => indexed(
            &function(ElemFn::Sign.name(), &node(arg), false, notation),
            indices,
            notation,
        ),
        TensorDef::ElemDeriv { func, arg } => indexed(
            &function(func.name(), &node(arg), true, notation),
            indices,
            notation,
        ),
        // f′ through f's value v, as a claim reads it back: (1 − v²), v·(1 − v).
        TensorDef::ElemDerivOfValue { func, value, .. } => {
            let v = indexed(&node(value), indices, notation);
            let minus = minus(notation);
            match func {
                ValueDerivative::Tanh => format!("(1 {minus} {v}{})", exponent(2.0, notation)),
                ValueDerivative::Sigmoid => format!("{v}{}(1 {minus} {v})", times(notation)),
            }
        }
        TensorDef::ElemSecondDeriv { func, arg } => {
            let prime = Symbols::of(notation).prime;
            let f = match notation {
                Notation::Latex => format!("\\operatorname{{{}}}{prime}{prime}", func.name()),
                Notation::Unicode | Notation::Ascii => format!("{}{prime}{prime}", func.name()),
            };
            indexed(&format!("{f}({})", node(arg)), indices, notation)
        }
        TensorDef::Power { arg, exponent: p } => {
            let at = indexed(&node(arg), indices, notation);
            format!("{at}{}", exponent(p, notation))
        }
        TensorDef::Centered { arg, .. } => indexed(
            &function("centered", &node(arg), false, notation),
            indices,
            notation,
        ),
        TensorDef::Softmax { arg, .. } => indexed(
            &function("softmax", &node(arg), false, notation),
            indices,
            notation,
        ),
        TensorDef::Inverse { arg } => {
            let inv = match notation {
                Notation::Latex => format!("({}^{{-1}})", node(arg)),
                Notation::Unicode | Notation::Ascii => function("inv", &node(arg), false, notation),
            };
            indexed(&inv, indices, notation)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calculus::jacobian_formula;
    use crate::calculus::test_support::{LINEAR, graph};

    fn formula(source: &str, shapes: &[(&str, &str)], wrt: &str) -> (Graph, Formula) {
        let g = graph(source, shapes);
        let f = jacobian_formula(&g, g.input(wrt).unwrap());
        (g, f)
    }

    #[test]
    fn one_table_of_symbols_per_notation() {
        for notation in [Notation::Ascii, Notation::Latex] {
            let all = Symbols::of(notation).all();
            assert!(all.iter().all(|s| s.is_ascii()), "{all:?}");
        }
        assert_eq!(minus(Notation::Unicode), "−");
        assert_eq!(times(Notation::Ascii), "*");
        assert_eq!(
            to_ascii("∂vec(Y)/∂vec(X)ᵀ: 3×4, Magnus–Neudecker — relu′ −δ Σ_m a·b ⊗ c, exp(…)"),
            "dvec(Y)/dvec(X)^T: 3x4, Magnus-Neudecker -- relu' -delta sum_m a*b kron c, exp(...)"
        );
        assert_eq!(to_ascii("données.npy ✓"), "donn\\u{e9}es.npy \\u{2713}");
    }

    #[test]
    fn numbers_are_integers_small_fractions_or_short_decimals() {
        let unicode = |x| number(x, Notation::Unicode);
        assert_eq!(unicode(2.0), "2");
        assert_eq!(unicode(1.0 / 64.0), "1/64");
        assert_eq!(unicode(2.0 / 3.0), "2/3");
        assert_eq!(unicode(1.0 / 1_000_000.0 * 7.0), "0.000007");
        assert_eq!(unicode(0.37), "0.37");
        assert_eq!(unicode(std::f64::consts::PI), "3.141593");
        assert_eq!(unicode(std::f64::consts::PI * 1e-7), "3.1416e-7");
        assert_eq!(unicode(1e20), "1.0000e20");
        assert_eq!(unicode(1.0 / 1_048_576.0 * 3.0), "2.8610e-6");
        assert_eq!(number(1.0 / 64.0, Notation::Latex), r"\frac{1}{64}");
    }

    #[test]
    fn coefficients_and_signs() {
        let (g, f) = formula(
            "mean(X, axis=1) - 3 * sum(X * X, axis=1)",
            &[("X", "3x64")],
            "X",
        );
        assert_eq!(
            render(&f, &g, Notation::Unicode),
            "(1/64)·δ(i,k) − 6·δ(i,k)·X[i,l]"
        );
        let (g, f) = formula(
            "mean(X, axis=1) - 3 * sum(X, axis=1)",
            &[("X", "3x64")],
            "X",
        );
        assert_eq!(render(&f, &g, Notation::Unicode), "−(191/64)·δ(i,k)");
        let (g, f) = formula("mean(X) - X", &[("X", "8x8")], "X");
        assert_eq!(render(&f, &g, Notation::Unicode), "1/64 − δ(i,k)·δ(j,l)");
        assert_eq!(
            render(&f, &g, Notation::Ascii),
            "1/64 - delta(i,k)*delta(j,l)"
        );
        assert_eq!(
            render(&f, &g, Notation::Latex),
            r"\frac{1}{64} - \delta_{ik} \delta_{jl}"
        );
        let (g, f) = formula("-(X @ W.T) + b", LINEAR, "X");
        assert_eq!(render(&f, &g, Notation::Unicode), "−δ(i,k)·W[j,l]");
        assert_eq!(
            render_term(&f, &g, &f.terms[0], Notation::Ascii),
            "-delta(i,k)*W[j,l]"
        );
        let (g, f) = formula("X - X", LINEAR, "X");
        assert_eq!(render(&f, &g, Notation::Unicode), "0");
    }

    #[test]
    fn sums_in_each_notation() {
        let (g, f) = formula("softmax(X @ W.T, axis=1)", LINEAR, "X");
        let second = &f.terms[1];
        assert_eq!(
            render_term(&f, &g, second, Notation::Unicode),
            "−Σ_m δ(i,k)·Y[i,j]·Y[i,m]·W[m,l]"
        );
        assert_eq!(
            render_term(&f, &g, second, Notation::Ascii),
            "-sum_m delta(i,k)*Y[i,j]*Y[i,m]*W[m,l]"
        );
        assert_eq!(
            render_term(&f, &g, second, Notation::Latex),
            r"-\sum_{m} \delta_{ik} Y_{ij} Y_{im} W_{ml}"
        );
        let (g, raw) = {
            let g = graph("sum(X)", &[("X", "3x4")]);
            let raw = crate::calculus::derive::raw_formula(&g, g.input("X").unwrap());
            (g, raw)
        };
        assert_eq!(
            render(&raw, &g, Notation::Ascii),
            "sum_m,n delta(m,k)*delta(n,l)"
        );
        assert_eq!(
            render(&raw, &g, Notation::Latex),
            r"\sum_{m,n} \delta_{mk} \delta_{nl}"
        );
    }

    #[test]
    fn derived_tensors_are_named_after_their_nodes() {
        let (g, f) = formula("relu(X @ W.T + b)", LINEAR, "X");
        assert_eq!(
            render(&f, &g, Notation::Unicode),
            "δ(i,k)·relu′(Z1)[i,j]·W[j,l]"
        );
        assert_eq!(
            render(&f, &g, Notation::Latex),
            r"\delta_{ik} \operatorname{relu}'(Z_1)_{ij} W_{jl}"
        );
        assert_eq!(
            definitions(&f, &g),
            vec![("Z1".to_string(), "X @ W.T + b".to_string())]
        );
        assert_eq!(node_name(&f, &g, g.root, Notation::Ascii), "Y");

        let (g, f) = formula("X / (square(W) + 1)", &[("X", "3x4"), ("W", "3x4")], "X");
        assert_eq!(render(&f, &g, Notation::Unicode), "δ(i,k)·δ(j,l)·Z1[i,j]⁻¹");
        assert_eq!(
            render(&f, &g, Notation::Ascii),
            "delta(i,k)*delta(j,l)*Z1[i,j]^-1"
        );
        assert_eq!(
            render(&f, &g, Notation::Latex),
            r"\delta_{ik} \delta_{jl} {Z_1}_{ij}^{-1}"
        );

        let (g, f) = formula("sqrt(X) ** 1.5", &[("X", "2x2")], "X");
        assert_eq!(
            render(&f, &g, Notation::Unicode),
            "(3/4)·δ(i,k)·δ(j,l)·Z1[i,j]^(-0.5)"
        );

        let (g, f) = formula("det(X.T)", &[("X", "3x3")], "X");
        assert_eq!(render(&f, &g, Notation::Unicode), "Y·inv(X)[l,k]");
        assert_eq!(render(&f, &g, Notation::Latex), r"Y (X^{-1})_{lk}");

        let (g, f) = formula("std(X)", &[("X", "2x2")], "X");
        assert_eq!(
            render(&f, &g, Notation::Ascii),
            "(1/4)*centered(X)[k,l]*Y^-1"
        );
    }

    #[test]
    fn names_avoid_the_variables() {
        let (g, f) = formula("relu(Y @ Z1)", &[("Y", "2x2"), ("Z1", "2x2")], "Y");
        assert_eq!(
            render(&f, &g, Notation::Ascii),
            "delta(i,k)*relu'(T1)[i,j]*Z1[l,j]"
        );
        assert_eq!(
            lhs(&f, &g, g.input("Y").unwrap(), Notation::Ascii),
            "dF[i,j]/dY[k,l]"
        );
        assert_eq!(
            definitions(&f, &g),
            vec![("T1".to_string(), "Y @ Z1".to_string())]
        );
    }

    #[test]
    fn latex_names_of_longer_variables() {
        assert_eq!(base("W1", Notation::Latex), "W_1");
        assert_eq!(base("W12", Notation::Latex), "W_{12}");
        assert_eq!(base("bias", Notation::Latex), r"\mathrm{bias}");
        assert_eq!(base("w_in", Notation::Latex), r"\mathrm{w\_in}");
        assert_eq!(base("w_in", Notation::Ascii), "w_in");
        let (g, f) = formula("X @ W1.T", &[("X", "3x4"), ("W1", "2x4")], "X");
        assert_eq!(render(&f, &g, Notation::Latex), r"\delta_{ik} {W_1}_{jl}");
        assert_eq!(
            lhs(&f, &g, g.input("X").unwrap(), Notation::Latex),
            r"\frac{\partial Y_{ij}}{\partial X_{kl}}"
        );
    }

    #[test]
    fn left_hand_sides() {
        let (g, f) = formula("X @ W.T", LINEAR, "X");
        let x = g.input("X").unwrap();
        assert_eq!(lhs(&f, &g, x, Notation::Unicode), "∂Y[i,j]/∂X[k,l]");
        assert_eq!(lhs(&f, &g, x, Notation::Ascii), "dY[i,j]/dX[k,l]");
        let (g, f) = formula("sum(X) * c", &[("X", "3x4"), ("c", "scalar")], "c");
        assert_eq!(
            lhs(&f, &g, g.input("c").unwrap(), Notation::Unicode),
            "∂Y/∂c"
        );
        assert_eq!(
            lhs(&f, &g, g.input("c").unwrap(), Notation::Latex),
            r"\frac{\partial Y}{\partial c}"
        );
        let (g, f) = formula("X @ v", &[("X", "3x4"), ("v", "4")], "v");
        assert_eq!(
            lhs(&f, &g, g.input("v").unwrap(), Notation::Ascii),
            "dY[i]/dv[k]"
        );
    }

    #[test]
    fn factors_at_index_values() {
        let (g, f) = formula("X @ W.T", LINEAR, "X");
        let at = [0, 1, 0, 3]; // i, j, k, l
        let factors = &f.terms[0].factors;
        assert_eq!(
            render_factor(&f, &g, &factors[0], Notation::Unicode, Some(&at)),
            "δ(0,0)"
        );
        assert_eq!(
            render_factor(&f, &g, &factors[1], Notation::Unicode, Some(&at)),
            "W[1,3]"
        );
        assert_eq!(
            render_factor(&f, &g, &factors[1], Notation::Ascii, None),
            "W[j,l]"
        );
        assert_eq!(
            render_factor(&f, &g, &factors[1], Notation::Latex, Some(&[0, 1, 0, 13])),
            "W_{1,13}"
        );
        let (g, f) = formula("X + b", &[("X", "3x4"), ("b", "1x4")], "b");
        assert_eq!(
            render_factor(
                &f,
                &g,
                &f.terms[0].factors[1],
                Notation::Ascii,
                Some(&[2, 3, 0, 3])
            ),
            "delta(0,0)"
        );
        assert_eq!(
            render_factor(&f, &g, &f.terms[0].factors[1], Notation::Ascii, None),
            "delta(k,0)"
        );
    }
}
