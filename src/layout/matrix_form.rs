//! Kronecker forms of J: the numerator-layout matrix ∂vec(Y)/∂vec(X)ᵀ written with ⊗,
//! identities, commutation matrices and diagonal matrices, for both vec orders.
//!
//! The form is read off the simplified formula, term by term. In a term, a tensor read at
//! Y's indices (through the deltas, e.g. `relu′(Z1)[i,j]`) is a diagonal matrix on the left,
//! diag(vec(relu′(Z1))); one read at X's indices is a diagonal matrix on the right. The
//! remaining factors must split into two groups: those over Y's and X's slow axes and those
//! over their fast axes (column-major vec: j with l, i with k), or, with X's axes swapped
//! and a commutation matrix K on the right, j with k and i with l. Each group must be one
//! matrix: an identity (a delta), a tensor or its transpose, a column times a row, or a
//! diagonal of vectors. Then the term is diag · (A ⊗ B) · K · diag (K only when X's axes
//! are swapped), and the row-major form swaps the Kronecker factors (B ⊗ A). Anything else
//! has no form here: a term with a summation (softmax(X @ W)), a Hadamard product inside a
//! group, a broadcast read, an elementwise power of a matrix. The forms are checked
//! numerically against the dense matricized J in the tests (`dense.rs`, test-only).

use super::VecOrder;
use crate::calculus::render::{Notation, Symbols, render_factor, render_term};
use crate::calculus::{Factor, Formula, IndexId, Slot, TensorDef, TensorId, Term};
use crate::expr::{Graph, NodeId};

/// A text in each notation: Unicode, ASCII, LaTeX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Texts([String; 3]);

impl Texts {
    /// The text in `notation`.
    pub fn get(&self, notation: Notation) -> &str {
        &self.0[notation_slot(notation)]
    }

    /// The three texts made by `f`.
    pub(super) fn new(f: impl Fn(Notation) -> String) -> Texts {
        Texts([f(Notation::Unicode), f(Notation::Ascii), f(Notation::Latex)])
    }
}

fn notation_slot(notation: Notation) -> usize {
    match notation {
        Notation::Unicode => 0,
        Notation::Ascii => 1,
        Notation::Latex => 2,
    }
}

/// A tensor of the formula used as a matrix: a matrix as it is, a vector as a column, a
/// scalar as 1×1; optionally transposed.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorMatrix {
    /// The tensor, in the formula's tensors (and the bound formula's arrays).
    pub tensor: TensorId,
    /// True for the transpose.
    pub transposed: bool,
    /// Rows, after transposition.
    pub rows: usize,
    /// Columns, after transposition.
    pub cols: usize,
    /// The tensor's name: `W`, `relu′(Z1)`.
    pub name: Texts,
}

impl TensorMatrix {
    /// `W`, `Wᵀ`.
    fn render(&self, notation: Notation) -> String {
        let name = self.name.get(notation);
        if self.transposed {
            format!("{name}{}", Symbols::of(notation).transpose)
        } else {
            name.to_string()
        }
    }
}

/// A matrix expression: a Kronecker form of J or a part of one.
#[derive(Debug, Clone, PartialEq)]
pub enum MatrixForm {
    /// The zero matrix (J identically zero).
    Zero {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// Iₙ.
    Identity(usize),
    /// The all-ones matrix: 𝟏ₙ (a column), 𝟏ₙᵀ (a row), 𝟏ₘ𝟏ₙᵀ.
    Ones {
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// The commutation matrix P with P·vec(A) = vec(Aᵀ) for A of shape rows × cols, with vec
    /// in `order` (written K for column-major, K′ for row-major).
    Commutation {
        /// Rows of A.
        rows: usize,
        /// Columns of A.
        cols: usize,
        /// The vec order.
        order: VecOrder,
    },
    /// A tensor as a matrix.
    Tensor(TensorMatrix),
    /// diag(vec(F₁ ⊙ F₂ ⊙ …)) with vec in `order`; the factors have one shape.
    Diag {
        /// The factors of the Hadamard product (at least one).
        factors: Vec<TensorMatrix>,
        /// The vec order.
        order: VecOrder,
    },
    /// vec(F₁ ⊙ F₂ ⊙ …) as a column, or its transpose as a row.
    Vectorized {
        /// The factors of the Hadamard product (at least one).
        factors: Vec<TensorMatrix>,
        /// The vec order.
        order: VecOrder,
        /// True for the row vec(…)ᵀ.
        transposed: bool,
    },
    /// A ⊗ B.
    Kron(Box<MatrixForm>, Box<MatrixForm>),
    /// A·B·…, at least two factors.
    Product(Vec<MatrixForm>),
    /// coeff · (scalar tensors) · form.
    Scaled {
        /// The constant.
        coeff: f64,
        /// |coeff| as written in each notation (`2`, `1/64`).
        coeff_text: Texts,
        /// Scalar (rank-0) tensor factors.
        scalars: Vec<TensorMatrix>,
        /// The matrix.
        form: Box<MatrixForm>,
    },
    /// A sum of at least two forms.
    Sum(Vec<MatrixForm>),
}

impl MatrixForm {
    /// The matrix's rows and columns.
    pub fn dims(&self) -> (usize, usize) {
        match self {
            MatrixForm::Zero { rows, cols } | MatrixForm::Ones { rows, cols } => (*rows, *cols),
            MatrixForm::Identity(n) => (*n, *n),
            MatrixForm::Commutation { rows, cols, .. } => (rows * cols, rows * cols),
            MatrixForm::Tensor(t) => (t.rows, t.cols),
            MatrixForm::Diag { factors, .. } => {
                let n = factors[0].rows * factors[0].cols;
                (n, n)
            }
            MatrixForm::Vectorized {
                factors,
                transposed,
                ..
            } => {
                let n = factors[0].rows * factors[0].cols;
                if *transposed { (1, n) } else { (n, 1) }
            }
            MatrixForm::Kron(a, b) => {
                let ((ar, ac), (br, bc)) = (a.dims(), b.dims());
                (ar * br, ac * bc)
            }
            MatrixForm::Product(parts) => (parts[0].dims().0, parts[parts.len() - 1].dims().1),
            MatrixForm::Scaled { form, .. } => form.dims(),
            MatrixForm::Sum(terms) => terms[0].dims(),
        }
    }

    /// True if `pred` holds for this form or any part of it.
    pub fn any(&self, pred: &dyn Fn(&MatrixForm) -> bool) -> bool {
        pred(self)
            || match self {
                MatrixForm::Kron(a, b) => a.any(pred) || b.any(pred),
                MatrixForm::Product(parts) | MatrixForm::Sum(parts) => {
                    parts.iter().any(|p| p.any(pred))
                }
                MatrixForm::Scaled { form, .. } => form.any(pred),
                _ => false,
            }
    }

    /// The form as text: `W ⊗ I₆₄`, `(I₅₁₂ ⊗ X)·K`, `diag(vec_r(relu′(Z1)))·(I₂ ⊗ Wᵀ)`;
    /// ASCII `kron(W, I_64)`, `kron(I_512, X) @ K`; LaTeX `W \otimes I_{64}`.
    pub fn render(&self, notation: Notation) -> String {
        let g = glyphs(notation);
        match self {
            MatrixForm::Zero { .. } => "0".to_string(),
            MatrixForm::Identity(n) => format!("I{}", g.subscript(*n)),
            MatrixForm::Ones { rows, cols } => match (*rows, *cols) {
                (n, 1) => format!("{}{}", g.ones, g.subscript(n)),
                (1, n) => format!("{}{}{}", g.ones, g.subscript(n), g.symbols.transpose),
                (m, n) => format!(
                    "{}{}{}{}{}{}",
                    g.ones,
                    g.subscript(m),
                    g.juxtapose,
                    g.ones,
                    g.subscript(n),
                    g.symbols.transpose
                ),
            },
            MatrixForm::Commutation { order, .. } => match order {
                VecOrder::ColMajor => "K".to_string(),
                VecOrder::RowMajor => format!("K{}", g.symbols.prime),
            },
            MatrixForm::Tensor(t) => t.render(notation),
            MatrixForm::Diag { factors, order } => {
                let inner = hadamard_text(factors, notation);
                if factors[0].rows == 1 || factors[0].cols == 1 {
                    format!("{}({inner})", g.diag)
                } else {
                    format!("{}({}({inner}))", g.diag, g.vec(*order))
                }
            }
            MatrixForm::Vectorized {
                factors,
                order,
                transposed,
            } => {
                let inner = hadamard_text(factors, notation);
                let t = if *transposed { g.symbols.transpose } else { "" };
                format!("{}({inner}){t}", g.vec(*order))
            }
            MatrixForm::Kron(a, b) => {
                let (a, b) = (
                    a.operand(notation, Role::Kron),
                    b.operand(notation, Role::Kron),
                );
                match notation {
                    Notation::Ascii => format!("{}({a}, {b})", g.symbols.kron),
                    _ => format!("{a} {} {b}", g.symbols.kron),
                }
            }
            MatrixForm::Product(parts) => parts
                .iter()
                .map(|p| p.operand(notation, Role::Product))
                .collect::<Vec<_>>()
                .join(g.product),
            MatrixForm::Scaled {
                coeff,
                coeff_text,
                scalars,
                form,
            } => {
                let mut parts = Vec::new();
                if coeff.abs() != 1.0 {
                    let text = coeff_text.get(notation);
                    parts.push(if text.contains('/') && notation != Notation::Latex {
                        format!("({text})")
                    } else {
                        text.to_string()
                    });
                }
                parts.extend(scalars.iter().map(|s| s.render(notation)));
                match **form {
                    // a 1×1 form: the scalar alone
                    MatrixForm::Identity(1) if parts.is_empty() => parts.push("1".to_string()),
                    MatrixForm::Identity(1) => {}
                    // a sign alone binds looser than ⊗ and ·: −W ⊗ I = −(W ⊗ I)
                    MatrixForm::Kron(..) | MatrixForm::Product(_) if parts.is_empty() => {
                        parts.push(form.render(notation))
                    }
                    _ => parts.push(form.operand(notation, Role::Scaled)),
                }
                let sign = if *coeff < 0.0 { g.symbols.minus } else { "" };
                format!("{sign}{}", parts.join(g.symbols.times))
            }
            MatrixForm::Sum(terms) => {
                let mut out = String::new();
                for (n, term) in terms.iter().enumerate() {
                    let text = term.render(notation);
                    match (n, text.strip_prefix(g.symbols.minus)) {
                        (0, _) => out.push_str(&text),
                        (_, Some(rest)) => out.push_str(&format!(" {} {rest}", g.symbols.minus)),
                        (_, None) => out.push_str(&format!(" + {text}")),
                    }
                }
                out
            }
        }
    }

    /// The form written as an operand of `role`, in parentheses where needed.
    fn operand(&self, notation: Notation, role: Role) -> String {
        let text = self.render(notation);
        let ascii = notation == Notation::Ascii;
        let wrap = match self {
            MatrixForm::Sum(_) | MatrixForm::Scaled { .. } => true,
            MatrixForm::Kron(..) => !ascii && role != Role::Kron,
            MatrixForm::Product(_) => !ascii && role == Role::Kron,
            MatrixForm::Ones { rows, cols } => *rows > 1 && *cols > 1 && role == Role::Kron,
            _ => false,
        };
        if wrap { format!("({text})") } else { text }
    }
}

/// Where a form is written as an operand, for parenthesizing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// After a scalar factor.
    Scaled,
    /// A factor of a matrix product.
    Product,
    /// An operand of ⊗.
    Kron,
}

/// `relu′(Z1) ⊙ Y2`.
fn hadamard_text(factors: &[TensorMatrix], notation: Notation) -> String {
    factors
        .iter()
        .map(|f| f.render(notation))
        .collect::<Vec<_>>()
        .join(glyphs(notation).hadamard)
}

/// The symbols of matrix forms in a notation: those of formulas ([`Symbols`]) and those of
/// matrices alone.
struct Glyphs {
    /// The symbols shared with formulas: minus, times (after a scalar), ⊗, ᵀ, ′.
    symbols: &'static Symbols,
    product: &'static str,
    hadamard: &'static str,
    ones: &'static str,
    juxtapose: &'static str,
    diag: &'static str,
    notation: Notation,
}

impl Glyphs {
    /// `₆₄`, `_64`, `_{64}`.
    fn subscript(&self, n: usize) -> String {
        match self.notation {
            Notation::Unicode => n
                .to_string()
                .chars()
                .map(|d| {
                    "₀₁₂₃₄₅₆₇₈₉"
                        .chars()
                        .nth(d.to_digit(10).expect("a digit") as usize)
                        .expect("ten subscripts")
                })
                .collect(),
            Notation::Ascii => format!("_{n}"),
            Notation::Latex => format!("_{{{n}}}"),
        }
    }

    /// `vec` / `vec_r`.
    fn vec(&self, order: VecOrder) -> &'static str {
        match (self.notation, order) {
            (Notation::Latex, VecOrder::ColMajor) => "\\operatorname{vec}",
            (Notation::Latex, VecOrder::RowMajor) => "\\operatorname{vec}_r",
            (_, VecOrder::ColMajor) => "vec",
            (_, VecOrder::RowMajor) => "vec_r",
        }
    }
}

fn glyphs(notation: Notation) -> Glyphs {
    match notation {
        Notation::Unicode => Glyphs {
            symbols: Symbols::of(notation),
            product: "·",
            hadamard: " ⊙ ",
            ones: "𝟏",
            juxtapose: "",
            diag: "diag",
            notation,
        },
        Notation::Ascii => Glyphs {
            symbols: Symbols::of(notation),
            product: " @ ",
            hadamard: " * ",
            ones: "ones",
            juxtapose: " @ ",
            diag: "diag",
            notation,
        },
        Notation::Latex => Glyphs {
            symbols: Symbols::of(notation),
            product: " \\cdot ",
            hadamard: " \\odot ",
            ones: "\\mathbf{1}",
            juxtapose: " ",
            diag: "\\operatorname{diag}",
            notation,
        },
    }
}

/// The Kronecker forms of J in both vec orders, with the names their notes need.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixForms {
    /// ∂vec(Y)/∂vec(X)ᵀ with column-major vec.
    pub colmajor: MatrixForm,
    /// ∂vec_r(Y)/∂vec_r(X)ᵀ with row-major vec.
    pub rowmajor: MatrixForm,
    /// X's name, for the note on K.
    x_name: Texts,
}

impl MatrixForms {
    /// What the symbols of the forms mean, one sentence each, only for the symbols used.
    pub fn notes(&self, notation: Notation) -> Vec<String> {
        let g = glyphs(notation);
        let x = self.x_name.get(notation);
        let mut notes = Vec::new();
        let uses = |f: &dyn Fn(&MatrixForm) -> bool| self.colmajor.any(f) || self.rowmajor.any(f);
        if uses(&|f| matches!(f, MatrixForm::Commutation { .. })) {
            let (vec, vec_r) = (g.vec(VecOrder::ColMajor), g.vec(VecOrder::RowMajor));
            let (t, p, dot) = (g.symbols.transpose, g.symbols.prime, g.symbols.times);
            notes.push(format!(
                "K and K{p} are the commutation matrices with K{dot}{vec}({x}) = {vec}({x}{t}) and K{p}{dot}{vec_r}({x}) = {vec_r}({x}{t})"
            ));
        }
        if uses(&|f| matches!(f, MatrixForm::Ones { .. })) {
            notes.push(format!(
                "{}{} is the column of n ones",
                g.ones,
                match notation {
                    Notation::Unicode => "ₙ",
                    Notation::Ascii => "_n",
                    Notation::Latex => "_n",
                }
            ));
        }
        notes
    }
}

/// The Kronecker forms of `formula` (∂ of `graph`'s root by the input node `wrt`), or
/// `None` if some term has no form this module can vouch for.
pub fn matrix_forms(formula: &Formula, graph: &Graph, wrt: NodeId) -> Option<MatrixForms> {
    if formula.out.len() > 2 || formula.input.len() > 2 {
        return None;
    }
    let analyzer = Analyzer { formula, graph };
    let terms = formula
        .terms
        .iter()
        .map(|t| analyzer.term(t))
        .collect::<Option<Vec<TermForm>>>()?;
    let out_len: usize = formula
        .out
        .iter()
        .map(|&i| formula.indices[i].dim)
        .product();
    let in_len: usize = formula
        .input
        .iter()
        .map(|&i| formula.indices[i].dim)
        .product();
    let build = |order: VecOrder| -> MatrixForm {
        let forms: Vec<MatrixForm> = terms.iter().map(|t| t.form(order)).collect();
        match forms.len() {
            0 => MatrixForm::Zero {
                rows: out_len,
                cols: in_len,
            },
            1 => forms.into_iter().next().expect("one form"),
            _ => MatrixForm::Sum(forms),
        }
    };
    Some(MatrixForms {
        colmajor: build(VecOrder::ColMajor),
        rowmajor: build(VecOrder::RowMajor),
        x_name: Texts::new(|n| crate::calculus::render::node_name(formula, graph, wrt, n)),
    })
}

/// One term's structure, independent of the vec order: coeff · scalars · diag(left) ·
/// (slow ⊗ fast) · [K] · diag(right) in column-major order.
struct TermForm {
    coeff: f64,
    coeff_text: Texts,
    scalars: Vec<TensorMatrix>,
    /// Tensors read at Y's indices, Y's shape as a matrix.
    left: Vec<TensorMatrix>,
    /// Tensors read at X's indices, X's shape as a matrix.
    right: Vec<TensorMatrix>,
    /// The Kronecker part between the diagonals.
    kron: KronPart,
    /// |Y| and |X|.
    lens: (usize, usize),
}

/// The Kronecker part of a term: slow ⊗ fast in column-major order, then a commutation
/// matrix if X's axes had to be swapped.
struct KronPart {
    /// The factor over the slow axes of column-major vec.
    slow: MatrixForm,
    /// The factor over the fast axes of column-major vec.
    fast: MatrixForm,
    /// X's shape, if X's axes are swapped (then K·vec(X) = vec(Xᵀ) comes first).
    commute: Option<(usize, usize)>,
}

impl TermForm {
    /// The term's form with vec in `order`.
    fn form(&self, order: VecOrder) -> MatrixForm {
        let (slow, fast) = (self.kron.slow.clone(), self.kron.fast.clone());
        let kron_part = match order {
            VecOrder::ColMajor => kron(slow, fast),
            VecOrder::RowMajor => kron(fast, slow),
        };
        let mut parts = vec![diag(self.left.clone(), order, self.lens.0), kron_part];
        if let Some((rows, cols)) = self.kron.commute {
            parts.push(MatrixForm::Commutation { rows, cols, order });
        }
        parts.push(diag(self.right.clone(), order, self.lens.1));
        let form = product(parts);
        if self.coeff == 1.0 && self.scalars.is_empty() {
            form
        } else {
            MatrixForm::Scaled {
                coeff: self.coeff,
                coeff_text: self.coeff_text.clone(),
                scalars: self.scalars.clone(),
                form: Box::new(form),
            }
        }
    }
}

/// A ⊗ B, simplified: I₁ ⊗ B = B, Iₘ ⊗ Iₙ = Iₘₙ, 𝟏 ⊗ 𝟏 = 𝟏.
fn kron(a: MatrixForm, b: MatrixForm) -> MatrixForm {
    match (a, b) {
        (MatrixForm::Identity(1), b) => b,
        (a, MatrixForm::Identity(1)) => a,
        (MatrixForm::Identity(m), MatrixForm::Identity(n)) => MatrixForm::Identity(m * n),
        (MatrixForm::Ones { rows: r1, cols: c1 }, MatrixForm::Ones { rows: r2, cols: c2 }) => {
            ones(r1 * r2, c1 * c2)
        }
        (a, b) => MatrixForm::Kron(Box::new(a), Box::new(b)),
    }
}

/// The all-ones matrix, I₁ when it is 1×1.
fn ones(rows: usize, cols: usize) -> MatrixForm {
    if rows == 1 && cols == 1 {
        MatrixForm::Identity(1)
    } else {
        MatrixForm::Ones { rows, cols }
    }
}

/// diag(vec(F₁ ⊙ …)) of an n × n result, Iₙ without factors.
fn diag(factors: Vec<TensorMatrix>, order: VecOrder, n: usize) -> MatrixForm {
    if factors.is_empty() {
        MatrixForm::Identity(n)
    } else {
        MatrixForm::Diag { factors, order }
    }
}

/// A·B·…, simplified: identities dropped, 𝟏ₘ·𝟏ₙᵀ = 𝟏ₘ𝟏ₙᵀ, diag(v)·𝟏 = v, 𝟏ᵀ·diag(v) = vᵀ.
fn product(parts: Vec<MatrixForm>) -> MatrixForm {
    let rows = parts[0].dims().0;
    let mut kept: Vec<MatrixForm> = Vec::new();
    for part in parts {
        if matches!(part, MatrixForm::Identity(_)) {
            continue;
        }
        let merged = match (kept.last(), &part) {
            (
                Some(MatrixForm::Ones { rows: r, cols: 1 }),
                MatrixForm::Ones { rows: 1, cols: c },
            ) => Some(ones(*r, *c)),
            (Some(MatrixForm::Diag { factors, order }), MatrixForm::Ones { cols: 1, .. }) => {
                Some(MatrixForm::Vectorized {
                    factors: factors.clone(),
                    order: *order,
                    transposed: false,
                })
            }
            (Some(MatrixForm::Ones { rows: 1, .. }), MatrixForm::Diag { factors, order }) => {
                Some(MatrixForm::Vectorized {
                    factors: factors.clone(),
                    order: *order,
                    transposed: true,
                })
            }
            _ => None,
        };
        match merged {
            Some(m) => {
                kept.pop();
                if !matches!(m, MatrixForm::Identity(_)) {
                    kept.push(m);
                }
            }
            None => kept.push(part),
        }
    }
    match kept.len() {
        0 => MatrixForm::Identity(rows),
        1 => kept.pop().expect("one part"),
        _ => MatrixForm::Product(kept),
    }
}

/// Reads term structure off a formula.
struct Analyzer<'a> {
    formula: &'a Formula,
    graph: &'a Graph,
}

/// How Y (or X) is seen as a matrix: the index on its rows and on its columns (`None` for
/// an axis of length 1 that the tensor does not have).
type MatrixAxes = (Option<IndexId>, Option<IndexId>);

impl Analyzer<'_> {
    fn dim(&self, id: Option<IndexId>) -> usize {
        id.map_or(1, |id| self.formula.indices[id].dim)
    }

    /// The term's structure, or `None` if it has no form here.
    fn term(&self, term: &Term) -> Option<TermForm> {
        let f = self.formula;
        let free = f.free();
        if !term.sums.is_empty() {
            return None;
        }
        // Every slot a free index; deltas join two different indices of one length.
        let mut class: Vec<IndexId> = (0..f.indices.len()).collect();
        for factor in &term.factors {
            let slots = match factor {
                Factor::Delta(a, b) => vec![*a, *b],
                Factor::Tensor { slots, .. } => slots.clone(),
            };
            for slot in slots {
                match slot {
                    Slot::Index(id) if free.contains(&id) => {}
                    _ => return None,
                }
            }
            if let Factor::Delta(Slot::Index(a), Slot::Index(b)) = *factor {
                if a == b || f.indices[a].dim != f.indices[b].dim {
                    return None;
                }
                let (ra, rb) = (find(&class, a), find(&class, b));
                class[ra.max(rb)] = ra.min(rb);
            }
        }
        let same = |a: IndexId, b: IndexId| find(&class, a) == find(&class, b);

        let mut scalars = Vec::new();
        let mut left = Vec::new();
        let mut right = Vec::new();
        let mut rest: Vec<&Factor> = Vec::new();
        for factor in &term.factors {
            let Factor::Tensor { tensor, slots } = factor else {
                rest.push(factor);
                continue;
            };
            let ids: Vec<IndexId> = slots.iter().map(|s| slot_id(*s)).collect();
            if ids.is_empty() {
                scalars.push(self.tensor_matrix(*tensor, &ids, false)?);
            } else if let Some(transposed) = read_at(&ids, &f.out, &same) {
                left.push(self.tensor_matrix(*tensor, &ids, transposed)?);
            } else if let Some(transposed) = read_at(&ids, &f.input, &same) {
                right.push(self.tensor_matrix(*tensor, &ids, transposed)?);
            } else {
                rest.push(factor);
            }
        }
        let kron = self.kron_part(&rest)?;
        let out_len: usize = f.out.iter().map(|&i| f.indices[i].dim).product();
        let in_len: usize = f.input.iter().map(|&i| f.indices[i].dim).product();
        Some(TermForm {
            coeff: term.coeff,
            coeff_text: Texts::new(|n| {
                let magnitude = Term {
                    coeff: term.coeff.abs(),
                    sums: Vec::new(),
                    factors: Vec::new(),
                };
                render_term(f, self.graph, &magnitude, n)
            }),
            scalars,
            left,
            right,
            kron,
            lens: (out_len, in_len),
        })
    }

    /// Tensor `tensor` read at `ids` as a matrix (a vector as a column), transposed if
    /// asked; `None` for a tensor whose name would mislead as a matrix (an elementwise
    /// power of a matrix, `Z1⁻²`, reads like a matrix power).
    fn tensor_matrix(
        &self,
        tensor: TensorId,
        ids: &[IndexId],
        transposed: bool,
    ) -> Option<TensorMatrix> {
        if !ids.is_empty() && matches!(self.formula.tensors[tensor], TensorDef::Power { .. }) {
            return None;
        }
        let (rows, cols) = match ids {
            [] => (1, 1),
            [a] => (self.dim(Some(*a)), 1),
            [a, b] => (self.dim(Some(*a)), self.dim(Some(*b))),
            _ => return None,
        };
        let (rows, cols) = if transposed {
            (cols, rows)
        } else {
            (rows, cols)
        };
        let bare = Factor::Tensor {
            tensor,
            slots: Vec::new(),
        };
        Some(TensorMatrix {
            tensor,
            transposed,
            rows,
            cols,
            name: Texts::new(|n| render_factor(self.formula, self.graph, &bare, n, None)),
        })
    }

    /// Splits `factors` into the Kronecker factors over the slow and the fast axes of
    /// column-major vec, trying each way of seeing Y and X as matrices (X's axes swapped
    /// last: that needs a commutation matrix).
    fn kron_part(&self, factors: &[&Factor]) -> Option<KronPart> {
        let f = self.formula;
        let y_options: Vec<MatrixAxes> = match f.out[..] {
            [] => vec![(None, None)],
            [i] => vec![(Some(i), None), (None, Some(i))],
            [i, j] => vec![(Some(i), Some(j))],
            _ => return None,
        };
        let x_options: Vec<(MatrixAxes, bool)> = match f.input[..] {
            [] => vec![((None, None), false)],
            [k] => vec![((Some(k), None), false), ((None, Some(k)), false)],
            [k, l] => vec![((Some(k), Some(l)), false), ((Some(l), Some(k)), true)],
            _ => return None,
        };
        for &(x_axes, swapped) in &x_options {
            for &y_axes in &y_options {
                let (yr, yc) = y_axes;
                let (xr, xc) = x_axes;
                let Some((slow, fast)) = self.split(factors, (yc, xc), (yr, xr)) else {
                    continue;
                };
                let commute = swapped.then(|| (self.dim(xc), self.dim(xr)));
                return Some(KronPart {
                    slow,
                    fast,
                    commute,
                });
            }
        }
        None
    }

    /// Puts each factor in the group whose two indices cover its own, and makes each
    /// group a matrix (rows the first index, columns the second).
    fn split(
        &self,
        factors: &[&Factor],
        slow: MatrixAxes,
        fast: MatrixAxes,
    ) -> Option<(MatrixForm, MatrixForm)> {
        let covers = |axes: MatrixAxes, id: IndexId| axes.0 == Some(id) || axes.1 == Some(id);
        let mut slow_group = Vec::new();
        let mut fast_group = Vec::new();
        for &factor in factors {
            let ids = factor_ids(factor);
            if ids.iter().all(|&id| covers(slow, id)) {
                slow_group.push(factor);
            } else if ids.iter().all(|&id| covers(fast, id)) {
                fast_group.push(factor);
            } else {
                return None;
            }
        }
        Some((
            self.group_matrix(&slow_group, slow)?,
            self.group_matrix(&fast_group, fast)?,
        ))
    }

    /// The matrix M[r,c] = product of `factors` over rows `axes.0` and columns `axes.1`:
    /// an identity (δ), a diagonal of vectors (δ·v), a tensor or its transpose, or a column
    /// times a row (either may be all ones).
    fn group_matrix(&self, factors: &[&Factor], axes: MatrixAxes) -> Option<MatrixForm> {
        let (rows, cols) = (self.dim(axes.0), self.dim(axes.1));
        let has_delta = factors.iter().any(|f| matches!(f, Factor::Delta(..)));
        let tensors: Vec<(TensorId, Vec<IndexId>)> = factors
            .iter()
            .filter_map(|f| match f {
                Factor::Tensor { tensor, slots } => {
                    Some((*tensor, slots.iter().map(|s| slot_id(*s)).collect()))
                }
                Factor::Delta(..) => None,
            })
            .collect();
        if has_delta {
            // Every delta is δ(row, col); the tensors must be vectors along the diagonal.
            if rows != cols {
                return None;
            }
            let vectors = tensors
                .iter()
                .map(|(t, ids)| match ids[..] {
                    [_] => self.tensor_matrix(*t, ids, false),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            return Some(diag(vectors, VecOrder::ColMajor, rows));
        }
        let matrices: Vec<_> = tensors.iter().filter(|(_, ids)| ids.len() == 2).collect();
        if let [(t, ids)] = matrices[..] {
            if tensors.len() != 1 || ids[0] == ids[1] {
                return None;
            }
            let transposed = Some(ids[0]) != axes.0;
            return self
                .tensor_matrix(*t, ids, transposed)
                .map(MatrixForm::Tensor);
        }
        if !matrices.is_empty() {
            return None;
        }
        // Vectors: at most one along the rows (a column) and one along the columns (a row).
        let along = |axis: Option<IndexId>| -> Vec<TensorId> {
            tensors
                .iter()
                .filter(|(_, ids)| Some(ids[0]) == axis)
                .map(|(t, _)| *t)
                .collect()
        };
        let (column, row) = (along(axes.0), along(axes.1));
        if column.len() > 1 || row.len() > 1 {
            return None;
        }
        let column = match column[..] {
            [t] => MatrixForm::Tensor(self.tensor_matrix(t, &[axes.0?], false)?),
            _ => ones(rows, 1),
        };
        let row = match row[..] {
            [t] => MatrixForm::Tensor(self.tensor_matrix(t, &[axes.1?], true)?),
            _ => ones(1, cols),
        };
        Some(product(vec![column, row]))
    }
}

/// If a tensor read at `ids` is, through the deltas (`same`), read at exactly the indices
/// `axes` (Y's or X's): `Some(false)` in order, `Some(true)` with two axes swapped.
fn read_at(
    ids: &[IndexId],
    axes: &[IndexId],
    same: &dyn Fn(IndexId, IndexId) -> bool,
) -> Option<bool> {
    if ids.is_empty() || ids.len() != axes.len() {
        return None;
    }
    if ids.iter().zip(axes).all(|(&a, &b)| same(a, b)) {
        Some(false)
    } else if ids.len() == 2 && same(ids[0], axes[1]) && same(ids[1], axes[0]) {
        Some(true)
    } else {
        None
    }
}

/// The index of a slot known to be an index.
fn slot_id(slot: Slot) -> IndexId {
    match slot {
        Slot::Index(id) => id,
        Slot::Fixed(_) => unreachable!("fixed slots are rejected before"),
    }
}

/// The indices a factor reads.
fn factor_ids(factor: &Factor) -> Vec<IndexId> {
    match factor {
        Factor::Delta(a, b) => vec![slot_id(*a), slot_id(*b)],
        Factor::Tensor { slots, .. } => slots.iter().map(|s| slot_id(*s)).collect(),
    }
}

/// The representative of `id`'s class.
fn find(class: &[IndexId], mut id: IndexId) -> IndexId {
    while class[id] != id {
        id = class[id];
    }
    id
}

#[cfg(test)]
mod dense;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use ndarray::{Array1, Array2};

    use super::dense::dense_kron;
    use super::*;
    use crate::jacobian::Jacobian;
    use crate::layout::{JacobianDims, Layout};

    /// An expression, the shapes of its variables, and the variable to differentiate by.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

    /// The Jacobian of `source` by `wrt`, inputs standard normal with seed 0.
    fn jacobian(source: &str, shapes: &[(&str, &str)], wrt: &str) -> Jacobian {
        crate::jacobian::test_support::problem(source, shapes, wrt, BTreeMap::new()).0
    }

    /// The numerator-layout matrix of J in `layout`, entry by entry.
    fn matricized(jac: &Jacobian, layout: Layout) -> Array2<f64> {
        let dims = JacobianDims::of(jac);
        let shape = layout.shape(&dims);
        let mut m = Array2::zeros((shape[0], shape[1]));
        let total: usize = jac.shape().iter().product();
        for flat in 0..total {
            let index = VecOrder::RowMajor.unflatten(&jac.shape(), flat);
            let p = layout.position(&dims, &index);
            m[[p[0], p[1]]] = jac.entry(&index);
        }
        m
    }

    /// The forms of J, each checked against the dense matricized J; panics on a wrong form.
    fn verified(source: &str, shapes: &[(&str, &str)], wrt: &str) -> Option<(String, String)> {
        let jac = jacobian(source, shapes, wrt);
        let forms = matrix_forms(jac.formula(), jac.graph(), jac.wrt())?;
        for (form, layout) in [
            (&forms.colmajor, Layout::NumeratorColMajor),
            (&forms.rowmajor, Layout::NumeratorRowMajor),
        ] {
            let want = matricized(&jac, layout);
            let got = form.to_dense(jac.bound());
            assert_eq!(
                form.dims(),
                want.dim(),
                "{source}: {}",
                form.render(Notation::Unicode)
            );
            let err = (&got - &want).iter().fold(0.0f64, |m, x| m.max(x.abs()));
            let scale = want.iter().fold(1.0f64, |m, x| m.max(x.abs()));
            assert!(
                err <= 1e-12 * scale,
                "{source} wrt {wrt}: {} is off by {err}",
                form.render(Notation::Unicode)
            );
        }
        Some((
            forms.colmajor.render(Notation::Unicode),
            forms.rowmajor.render(Notation::Unicode),
        ))
    }

    fn pair(col: &str, row: &str) -> Option<(String, String)> {
        Some((col.to_string(), row.to_string()))
    }

    #[test]
    fn the_issue_examples_have_their_textbook_forms() {
        let linear = [("X", "3x4"), ("W", "5x4")];
        assert_eq!(verified("X @ W.T", &linear, "X"), pair("W ⊗ I₃", "I₃ ⊗ W"));
        assert_eq!(
            verified("X @ W.T", &linear, "W"),
            pair("(I₅ ⊗ X)·K", "(X ⊗ I₅)·K′")
        );
        let sandwich = [("A", "2x3"), ("X", "3x4"), ("B", "4x5")];
        assert_eq!(
            verified("A @ X @ B", &sandwich, "X"),
            pair("Bᵀ ⊗ A", "A ⊗ Bᵀ")
        );
        assert_eq!(verified("X.T", &[("X", "2x3")], "X"), pair("K", "K′"));
        assert_eq!(
            verified("relu(X)", &[("X", "2x3")], "X"),
            pair("diag(vec(relu′(X)))", "diag(vec_r(relu′(X)))")
        );
    }

    #[test]
    fn sums_and_products_of_forms() {
        let shapes = [("X", "3x4"), ("W", "4x2")];
        assert_eq!(
            verified("relu(X @ W)", &shapes, "X"),
            pair(
                "diag(vec(relu′(Z1)))·(Wᵀ ⊗ I₃)",
                "diag(vec_r(relu′(Z1)))·(I₃ ⊗ Wᵀ)"
            )
        );
        assert_eq!(
            verified("sigmoid(X) @ W", &shapes, "X"),
            pair(
                "(Wᵀ ⊗ I₃)·diag(vec(sigmoid′(X)))",
                "(I₃ ⊗ Wᵀ)·diag(vec_r(sigmoid′(X)))"
            )
        );
        assert_eq!(
            verified("X @ X", &[("X", "3x3")], "X"),
            pair("Xᵀ ⊗ I₃ + I₃ ⊗ X", "I₃ ⊗ Xᵀ + X ⊗ I₃")
        );
        assert_eq!(
            verified("X @ X.T", &[("X", "2x3")], "X"),
            pair("X ⊗ I₂ + (I₂ ⊗ X)·K", "I₂ ⊗ X + (X ⊗ I₂)·K′")
        );
        assert_eq!(
            verified(
                "3 * (X @ W) - X @ V.T",
                &[("X", "3x3"), ("W", "3x3"), ("V", "3x3")],
                "X"
            ),
            pair("3·(Wᵀ ⊗ I₃) − V ⊗ I₃", "3·(I₃ ⊗ Wᵀ) − I₃ ⊗ V")
        );
        assert_eq!(
            verified("mean(X) - X", &[("X", "2x3")], "X"),
            pair("(1/6)·𝟏₆𝟏₆ᵀ − I₆", "(1/6)·𝟏₆𝟏₆ᵀ − I₆")
        );
        assert_eq!(
            verified("2 * X * Y2", &[("X", "2x3"), ("Y2", "2x3")], "X"),
            pair("2·diag(vec(Y2))", "2·diag(vec_r(Y2))")
        );
        assert_eq!(
            verified("X / c", &[("X", "2x3"), ("c", "scalar")], "X"),
            pair("c⁻¹·I₆", "c⁻¹·I₆")
        );
        assert_eq!(verified("X - X", &[("X", "2x2")], "X"), pair("0", "0"));
    }

    #[test]
    fn vectors_and_scalars() {
        let shapes = [("W", "2x3"), ("x", "3")];
        assert_eq!(verified("W @ x", &shapes, "x"), pair("W", "W"));
        assert_eq!(verified("W @ x", &shapes, "W"), pair("xᵀ ⊗ I₂", "I₂ ⊗ xᵀ"));
        assert_eq!(
            verified("x @ W.T", &shapes, "W"),
            pair("xᵀ ⊗ I₂", "I₂ ⊗ xᵀ")
        );
        assert_eq!(
            verified("tanh(W @ x)", &shapes, "x"),
            pair("diag(tanh′(Z1))·W", "diag(tanh′(Z1))·W")
        );
        assert_eq!(verified("sum(W)", &shapes, "W"), pair("𝟏₆ᵀ", "𝟏₆ᵀ"));
        assert_eq!(
            verified("sum(W * W)", &shapes, "W"),
            pair("2·vec(W)ᵀ", "2·vec_r(W)ᵀ")
        );
        assert_eq!(
            verified("W * c", &[("W", "2x3"), ("c", "scalar")], "c"),
            pair("vec(W)", "vec_r(W)")
        );
        assert_eq!(verified("c * 2", &[("c", "scalar")], "c"), pair("2", "2"));
        assert_eq!(
            verified("X + b", &[("X", "2x3"), ("b", "3")], "b"),
            pair("I₃ ⊗ 𝟏₂", "𝟏₂ ⊗ I₃")
        );
        assert_eq!(
            verified("X * b", &[("X", "2x3"), ("b", "3")], "X"),
            pair("diag(b) ⊗ I₂", "I₂ ⊗ diag(b)")
        );
        assert_eq!(
            verified("u * v", &[("u", "3"), ("v", "3")], "u"),
            pair("diag(v)", "diag(v)")
        );
        assert_eq!(
            verified("det(X)", &[("X", "3x3")], "X"),
            pair("Y·vec(inv(X)ᵀ)ᵀ", "Y·vec_r(inv(X)ᵀ)ᵀ")
        );
    }

    #[test]
    fn no_form_is_claimed_where_there_is_none() {
        let cases: &[Case] = &[
            // summations
            ("softmax(X @ W, axis=1)", &[("X", "2x3"), ("W", "3x2")], "X"),
            ("X @ X.T @ X", &[("X", "2x2")], "X"),
            // an elementwise power of a matrix would read as a matrix power
            ("X ** 3", &[("X", "2x3")], "X"),
        ];
        for (source, shapes, wrt) in cases {
            let jac = jacobian(source, shapes, wrt);
            let forms = matrix_forms(jac.formula(), jac.graph(), jac.wrt());
            assert!(
                forms.is_none(),
                "{source}: {:?}",
                forms.map(|f| f.colmajor.render(Notation::Unicode))
            );
        }
    }

    #[test]
    fn every_form_produced_is_right() {
        // A spread of expressions: every form produced must match J numerically.
        let cases: &[Case] = &[
            (
                "relu(X @ W1) @ W2",
                &[("X", "2x3"), ("W1", "3x4"), ("W2", "4x2")],
                "W2",
            ),
            (
                "relu(X @ W1) @ W2",
                &[("X", "2x3"), ("W1", "3x4"), ("W2", "4x2")],
                "X",
            ),
            ("(X @ W).T", &[("X", "2x3"), ("W", "3x4")], "X"),
            ("(X @ W).T", &[("X", "2x3"), ("W", "3x4")], "W"),
            (
                "A @ X.T @ B",
                &[("A", "2x3"), ("X", "4x3"), ("B", "4x5")],
                "X",
            ),
            ("X.T @ A", &[("X", "3x2"), ("A", "3x4")], "X"),
            ("exp(X) * sin(X)", &[("X", "2x3")], "X"),
            ("X * X.T", &[("X", "3x3")], "X"),
            ("X @ b", &[("X", "2x3"), ("b", "3")], "X"),
            ("b @ X", &[("X", "3x2"), ("b", "3")], "X"),
            ("b @ X", &[("X", "3x2"), ("b", "3")], "b"),
            ("u @ v", &[("u", "3"), ("v", "3")], "u"),
            ("sum(X, axis=0)", &[("X", "2x3")], "X"),
            ("mean(X, axis=1)", &[("X", "2x3")], "X"),
            ("X + X.T", &[("X", "3x3")], "X"),
            ("inv(X)", &[("X", "3x3")], "X"),
            ("X @ W + b", &[("X", "2x3"), ("W", "3x4"), ("b", "4")], "b"),
            (
                "c * X @ W",
                &[("X", "2x3"), ("W", "3x4"), ("c", "scalar")],
                "c",
            ),
            ("log(abs(X)) / 2", &[("X", "2x3")], "X"),
            ("X @ W.T", &[("X", "1x4"), ("W", "1x4")], "W"),
            ("softmax(X, axis=1)", &[("X", "2x3")], "X"),
            ("softmax(X, axis=0)", &[("X", "2x3")], "X"),
            ("trace(X @ W) * X", &[("X", "2x3"), ("W", "3x2")], "X"),
            ("logsumexp(X, axis=1)", &[("X", "2x3")], "X"),
            ("var(X, axis=0)", &[("X", "2x3")], "X"),
            ("X * X.T", &[("X", "3x3")], "X"),
        ];
        let mut with_form = 0;
        for (source, shapes, wrt) in cases {
            with_form += usize::from(verified(source, shapes, wrt).is_some());
        }
        assert!(
            with_form >= 15,
            "only {with_form} of {} have forms",
            cases.len()
        );
    }

    #[test]
    fn every_form_of_many_combinations_is_right() {
        // Pairs of building blocks under +, * and @, and wrapped in functions: whatever
        // form is produced must match J numerically (square shapes let everything compose;
        // the rectangular cases above catch mixed-up dimensions).
        let blocks = [
            "X", "X.T", "W", "W.T", "relu(X)", "X @ W", "W @ X", "2 * X", "X * W", "sin(X)",
            "X @ X", "V",
        ];
        let shapes = [("X", "3x3"), ("W", "3x3"), ("V", "3x3")];
        let mut expressions: Vec<String> = Vec::new();
        for a in blocks {
            for wrap in [
                "relu({})",
                "({}).T",
                "tanh({}) * W",
                "sum({}, axis=0)",
                "{} / 2",
            ] {
                expressions.push(wrap.replace("{}", a));
            }
            for b in blocks {
                for op in ["+", "-", "*", "@"] {
                    expressions.push(format!("({a}) {op} ({b})"));
                }
            }
        }
        let (mut checked, mut with_form) = (0, 0);
        for source in &expressions {
            for wrt in ["X", "W"] {
                if source.contains(wrt) {
                    checked += 1;
                    with_form += usize::from(verified(source, &shapes, wrt).is_some());
                }
            }
        }
        // About 93% have one; the rest have summations (e.g. relu(X @ W) @ V).
        assert!(
            with_form * 10 > checked * 8,
            "{with_form} forms of {checked}"
        );
    }

    #[test]
    fn ascii_and_latex_and_notes() {
        let jac = jacobian("X @ W.T", &[("X", "3x4"), ("W", "5x4")], "W");
        let forms = matrix_forms(jac.formula(), jac.graph(), jac.wrt()).unwrap();
        assert_eq!(forms.colmajor.render(Notation::Ascii), "kron(I_5, X) @ K");
        assert_eq!(forms.rowmajor.render(Notation::Ascii), "kron(X, I_5) @ K'");
        assert_eq!(
            forms.colmajor.render(Notation::Latex),
            "(I_{5} \\otimes X) \\cdot K"
        );
        assert_eq!(
            forms.notes(Notation::Unicode),
            [
                "K and K′ are the commutation matrices with K·vec(W) = vec(Wᵀ) and K′·vec_r(W) = vec_r(Wᵀ)"
            ]
        );
        assert_eq!(
            forms.notes(Notation::Ascii),
            [
                "K and K' are the commutation matrices with K*vec(W) = vec(W^T) and K'*vec_r(W) = vec_r(W^T)"
            ]
        );
        let jac = jacobian("X @ W.T", &[("X", "3x4"), ("W", "5x4")], "X");
        let forms = matrix_forms(jac.formula(), jac.graph(), jac.wrt()).unwrap();
        assert!(forms.notes(Notation::Unicode).is_empty());
    }

    #[test]
    fn commutation_and_kronecker_follow_their_definitions() {
        // K·vec(A) = vec(Aᵀ) for a 2×3 A, in both orders, straight from the definition.
        let a = Array2::from_shape_fn((2, 3), |(r, c)| (10 * r + c) as f64);
        let at = a.t().to_owned();
        for order in [VecOrder::ColMajor, VecOrder::RowMajor] {
            let vec_of = |m: &Array2<f64>| -> Array1<f64> {
                let (r, c) = m.dim();
                (0..r * c)
                    .map(|p| {
                        let ix = order.unflatten(&[r, c], p);
                        m[[ix[0], ix[1]]]
                    })
                    .collect()
            };
            let k = MatrixForm::Commutation {
                rows: 2,
                cols: 3,
                order,
            };
            let jac = jacobian("X", &[("X", "1x1")], "X");
            assert_eq!(k.to_dense(jac.bound()).dot(&vec_of(&a)), vec_of(&at));
        }
        // (A ⊗ B)[(r1·rB + r2), (c1·cB + c2)] = A[r1,c1]·B[r2,c2]
        let a = Array2::from_shape_fn((2, 2), |(r, c)| (1 + r * 2 + c) as f64);
        let b = Array2::from_shape_fn((1, 3), |(_, c)| (c + 5) as f64);
        let k = dense_kron(&a, &b);
        assert_eq!(k.dim(), (2, 6));
        assert_eq!(k[[1, 4]], a[[1, 1]] * b[[0, 1]]);
    }
}
