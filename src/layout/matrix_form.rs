//! Kronecker forms of J: the numerator-layout matrix ∂vec(Y)/∂vec(X)ᵀ written with ⊗,
//! identities, commutation matrices and diagonal matrices, for both vec orders. At second
//! order J = ∂(∂Y/∂A)/∂B is the Jacobian of ∂Y/∂A by B, as the layouts see it: its rows
//! are Y's and A's axes, its columns B's, so the Hessian of a scalar is the |X|×|X| matrix
//! ∂²f/∂vec(X)∂vec(X)ᵀ (∂²tr(XᵀAX)/∂X² = I ⊗ (A + Aᵀ)). Below, "Y" stands for the rows and
//! "X" for the columns.
//!
//! The form is read off the simplified formula, term by term. In a term, a tensor read at
//! Y's indices (through the deltas, e.g. `relu′(Z1)[i,j]`) is a diagonal matrix on the left,
//! diag(vec(relu′(Z1))); one read at X's indices is a diagonal matrix on the right. Two
//! matrices that share a summation index and nothing else are their product
//! (Σ_m A[m,k]·A[m,g] is AᵀA). The remaining factors must split into two groups: those
//! over Y's and X's slow axes and those over their fast axes (column-major vec: j with l,
//! i with k), or, with X's axes swapped and a commutation matrix K on the right, j with k
//! and i with l. Each group must be one matrix: an identity (a delta), a tensor or its
//! transpose, a product of two, a column times a row, or a diagonal of vectors. Then the
//! term is diag · (A ⊗ B) · K · diag (K only when X's axes are swapped), and the row-major
//! form swaps the Kronecker factors (B ⊗ A); terms sharing a Kronecker factor are summed
//! inside the other one. Anything else has no form here: any other summation
//! (softmax(X @ W)), a Hadamard product inside a group, a broadcast read, an elementwise
//! power of a matrix. The forms are checked numerically against the dense matricized J
//! and, for second derivatives, against second differences of forward evaluation in the
//! tests (`dense.rs`, test-only); their expressions in the language ([`language`]) are
//! checked as claims by [`MatrixForms::checked`] before `explain` prints them.

mod checked;
mod language;

use super::{VecOrder, layout_out_rank};
use crate::calculus::render::{Notation, Symbols, derivative_of, render_factor, render_term};
use crate::calculus::{Factor, Formula, IndexId, Slot, TensorDef, TensorId, Term};
use crate::expr::Graph;
use crate::jacobian::Jacobian;
use crate::numfmt;

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
            // kron's operands are function arguments in ASCII
            _ if ascii && role == Role::Kron => false,
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
            Notation::Unicode => numfmt::subscript(n),
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
    /// The column-major form as an expression of the language (`kron(W, eye(64))`), which
    /// `check --claim … --layout numerator-colmajor` reads; `None` for a form with no
    /// spelling in the language (K, diag(vec(…)), 𝟏, a vector in a Kronecker product).
    pub colmajor_expression: Option<String>,
    /// The row-major form as an expression of the language, read in
    /// `numerator-rowmajor`; `None` where it has no spelling.
    pub rowmajor_expression: Option<String>,
    /// X's name (at second order B's), for the note on K.
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

/// The most entries of the expression's values (inputs and intermediates together) at
/// which `explain` checks the forms' expressions ([`MatrixForms::checked`]): the check
/// evaluates the expression at two draws of the inputs, which at transformer size costs
/// seconds. Above it the forms are printed as derived (the derivation is tested against
/// the dense J and, for Hessians, against second differences).
pub const MAX_CHECKED_VALUES: usize = 1 << 22;

/// True if the forms of an expression with graph `graph` are checked before they are
/// printed: its values have at most [`MAX_CHECKED_VALUES`] entries.
pub fn checked_at_this_size(graph: &Graph) -> bool {
    let values: usize = graph
        .nodes
        .iter()
        .map(|node| node.shape.dims().iter().product::<usize>())
        .sum();
    values <= MAX_CHECKED_VALUES
}

/// The Kronecker forms of `jacobian`'s J in the numerator layouts (rows: Y's axes, and at
/// second order A's; columns: X's or B's, as [`super::layout_out_rank`] splits them), with
/// their expressions in the language; `None` if some term has no form this module can
/// vouch for. The forms are as derived: [`MatrixForms::checked`] checks them.
pub fn matrix_forms(jacobian: &Jacobian) -> Option<MatrixForms> {
    let (formula, graph) = (jacobian.formula(), jacobian.graph());
    let free = formula.free();
    let (rows, cols) = free.split_at(layout_out_rank(formula));
    if rows.len() > 2 || cols.len() > 2 {
        return None;
    }
    let analyzer = Analyzer {
        formula,
        graph,
        rows,
        cols,
    };
    let terms = formula
        .terms
        .iter()
        .map(|t| analyzer.term(t))
        .collect::<Option<Vec<TermForm>>>()?;
    let len = |ids: &[IndexId]| -> usize { ids.iter().map(|&i| formula.indices[i].dim).product() };
    let (out_len, in_len) = (len(rows), len(cols));
    let build = |order: VecOrder| -> MatrixForm {
        let forms = factored(terms.iter().map(|t| t.form(order)).collect());
        match forms.len() {
            0 => MatrixForm::Zero {
                rows: out_len,
                cols: in_len,
            },
            1 => forms.into_iter().next().expect("one form"),
            _ => MatrixForm::Sum(forms),
        }
    };
    let (colmajor, rowmajor) = (build(VecOrder::ColMajor), build(VecOrder::RowMajor));
    let spell = |form: &MatrixForm| {
        form.language(formula, graph)
            .map(|m| m.render(Notation::Ascii))
    };
    let x = jacobian.second().unwrap_or(jacobian.wrt());
    Some(MatrixForms {
        colmajor_expression: spell(&colmajor),
        rowmajor_expression: spell(&rowmajor),
        colmajor,
        rowmajor,
        x_name: Texts::new(|n| crate::calculus::render::node_name(formula, graph, x, n)),
    })
}

/// The terms' forms with Kronecker products that share a factor taken together:
/// I ⊗ A + I ⊗ Aᵀ = I ⊗ (A + Aᵀ), c·(A ⊗ B) + A ⊗ C = A ⊗ (c·B + C).
fn factored(forms: Vec<MatrixForm>) -> Vec<MatrixForm> {
    /// A form kept as it is, or Kronecker products sharing `common` on the left (`left`)
    /// or on the right, summed over their other factors.
    enum Entry {
        Plain(MatrixForm),
        Shared {
            common: MatrixForm,
            left: bool,
            varying: Vec<MatrixForm>,
        },
    }
    let mut entries: Vec<Entry> = Vec::new();
    for form in forms {
        let Some(parts) = KronParts::of(&form) else {
            entries.push(Entry::Plain(form));
            continue;
        };
        let found = entries.iter_mut().find_map(|entry| match entry {
            Entry::Shared {
                common,
                left,
                varying,
            } => {
                if *left && *common == parts.a {
                    varying.push(parts.scaled(&parts.b));
                } else if !*left && *common == parts.b {
                    varying.push(parts.scaled(&parts.a));
                } else {
                    return None;
                }
                Some(())
            }
            Entry::Plain(kept) => {
                let kept = KronParts::of(kept)?;
                *entry = if kept.a == parts.a {
                    Entry::Shared {
                        common: parts.a.clone(),
                        left: true,
                        varying: vec![kept.scaled(&kept.b), parts.scaled(&parts.b)],
                    }
                } else if kept.b == parts.b {
                    Entry::Shared {
                        common: parts.b.clone(),
                        left: false,
                        varying: vec![kept.scaled(&kept.a), parts.scaled(&parts.a)],
                    }
                } else {
                    return None;
                };
                Some(())
            }
        });
        if found.is_none() {
            entries.push(Entry::Plain(form));
        }
    }
    entries
        .into_iter()
        .map(|entry| match entry {
            Entry::Plain(form) => form,
            Entry::Shared {
                common,
                left: true,
                varying,
            } => MatrixForm::Kron(Box::new(common), Box::new(MatrixForm::Sum(varying))),
            Entry::Shared {
                common, varying, ..
            } => MatrixForm::Kron(Box::new(MatrixForm::Sum(varying)), Box::new(common)),
        })
        .collect()
}

/// A form that is one Kronecker product, scale · (a ⊗ b).
struct KronParts {
    a: MatrixForm,
    b: MatrixForm,
    /// The constant, its text and the scalar tensors, if the product is scaled.
    scale: Option<(f64, Texts, Vec<TensorMatrix>)>,
}

impl KronParts {
    fn of(form: &MatrixForm) -> Option<KronParts> {
        match form {
            MatrixForm::Kron(a, b) => Some(KronParts {
                a: (**a).clone(),
                b: (**b).clone(),
                scale: None,
            }),
            MatrixForm::Scaled {
                coeff,
                coeff_text,
                scalars,
                form,
            } => match &**form {
                MatrixForm::Kron(a, b) => Some(KronParts {
                    a: (**a).clone(),
                    b: (**b).clone(),
                    scale: Some((*coeff, coeff_text.clone(), scalars.clone())),
                }),
                _ => None,
            },
            _ => None,
        }
    }

    /// One factor with the scale moved into it: scale · (a ⊗ b) = a ⊗ (scale · b).
    fn scaled(&self, factor: &MatrixForm) -> MatrixForm {
        match &self.scale {
            None => factor.clone(),
            Some((coeff, coeff_text, scalars)) => MatrixForm::Scaled {
                coeff: *coeff,
                coeff_text: coeff_text.clone(),
                scalars: scalars.clone(),
                form: Box::new(factor.clone()),
            },
        }
    }
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

/// A·B·…, simplified: identities dropped, 𝟏ₘ·𝟏ₙᵀ = 𝟏ₘ𝟏ₙᵀ, diag(v)·𝟏 = v, 𝟏ᵀ·diag(v) = vᵀ
/// (so diag(v)·𝟏𝟏ᵀ·diag(u) = v·uᵀ).
fn product(parts: Vec<MatrixForm>) -> MatrixForm {
    let rows = parts[0].dims().0;
    let mut kept: Vec<MatrixForm> = Vec::new();
    // 𝟏ₘ𝟏ₙᵀ as the column 𝟏ₘ times the row 𝟏ₙᵀ, so that each side can meet a diagonal
    let parts = parts.into_iter().flat_map(|part| match part {
        MatrixForm::Ones { rows, cols } if rows > 1 && cols > 1 => {
            vec![ones(rows, 1), ones(1, cols)]
        }
        part => vec![part],
    });
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
    /// The free indices on the matrix's rows (Y's, and at second order A's too).
    rows: &'a [IndexId],
    /// The free indices on its columns (X's, or at second order B's).
    cols: &'a [IndexId],
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
        let slots = |factor: &Factor| match factor {
            Factor::Delta(a, b) => vec![*a, *b],
            Factor::Tensor { slots, .. } => slots.clone(),
        };
        if term.factors.iter().flat_map(slots).any(|slot| {
            !matches!(slot, Slot::Index(id) if free.contains(&id) || term.sums.contains(&id))
        }) {
            return None;
        }
        let (contracted, used) = self.contractions(term, &free)?;
        let factors: Vec<&Factor> = (term.factors.iter().zip(&used))
            .filter(|(_, used)| !**used)
            .map(|(factor, _)| factor)
            .collect();
        // Every other slot a free index; deltas join two different indices of one length.
        let mut class: Vec<IndexId> = (0..f.indices.len()).collect();
        for &factor in &factors {
            if factor_ids(factor).iter().any(|id| !free.contains(id)) {
                return None;
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
        let mut rest: Vec<Piece> = contracted;
        for &factor in &factors {
            let Factor::Tensor { tensor, slots } = factor else {
                rest.push(Piece::Factor(factor));
                continue;
            };
            let ids: Vec<IndexId> = slots.iter().map(|s| slot_id(*s)).collect();
            if ids.is_empty() {
                scalars.push(self.tensor_matrix(*tensor, &ids, false)?);
            } else if let Some(transposed) = read_at(&ids, self.rows, &same) {
                left.push(self.tensor_matrix(*tensor, &ids, transposed)?);
            } else if let Some(transposed) = read_at(&ids, self.cols, &same) {
                right.push(self.tensor_matrix(*tensor, &ids, transposed)?);
            } else {
                rest.push(Piece::Factor(factor));
            }
        }
        let kron = self.kron_part(&rest)?;
        let out_len: usize = self.rows.iter().map(|&i| f.indices[i].dim).product();
        let in_len: usize = self.cols.iter().map(|&i| f.indices[i].dim).product();
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

    /// The pairs of factors a term contracts, Σ_m A[m,a]·B[m,b] (each summation index read
    /// by exactly two matrices, each at it and at one free index), and which factors they
    /// use; `None` if a summation index is read otherwise.
    fn contractions(&self, term: &Term, free: &[IndexId]) -> Option<(Vec<Piece<'_>>, Vec<bool>)> {
        let mut used = vec![false; term.factors.len()];
        let mut pieces = Vec::new();
        for &m in &term.sums {
            let readers: Vec<usize> = (0..term.factors.len())
                .filter(|&at| factor_ids(&term.factors[at]).contains(&m))
                .collect();
            let &[first, second] = &readers[..] else {
                return None;
            };
            let matrix = |at: usize| -> Option<(TensorId, [IndexId; 2])> {
                let Factor::Tensor { tensor, .. } = term.factors[at] else {
                    return None;
                };
                let ids = factor_ids(&term.factors[at]);
                let &[x, y] = &ids[..] else {
                    return None;
                };
                let other = if x == m { y } else { x };
                (!used[at] && other != m && free.contains(&other)).then_some((tensor, [x, y]))
            };
            let (a, b) = (matrix(first)?, matrix(second)?);
            used[first] = true;
            used[second] = true;
            pieces.push(Piece::Contracted { a, b, m });
        }
        Some((pieces, used))
    }

    /// Σ_m A[…]·B[…] as the matrix over rows `axes.0` and columns `axes.1`: Aᵀ·B, A·Bᵀ, …
    /// with each factor turned so that m is the inner index.
    fn contracted_matrix(
        &self,
        a: (TensorId, [IndexId; 2]),
        b: (TensorId, [IndexId; 2]),
        m: IndexId,
        axes: MatrixAxes,
    ) -> Option<MatrixForm> {
        let outer = |(_, ids): (TensorId, [IndexId; 2])| if ids[0] == m { ids[1] } else { ids[0] };
        let (a, b) = if Some(outer(a)) == axes.0 && Some(outer(b)) == axes.1 {
            (a, b)
        } else if Some(outer(b)) == axes.0 && Some(outer(a)) == axes.1 {
            (b, a)
        } else {
            return None;
        };
        // A with m on its columns, B with m on its rows
        let left = self.tensor_matrix(a.0, &a.1, a.1[0] == m)?;
        let right = self.tensor_matrix(b.0, &b.1, b.1[0] != m)?;
        Some(MatrixForm::Product(vec![
            MatrixForm::Tensor(left),
            MatrixForm::Tensor(right),
        ]))
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
            name: Texts::new(|n| match self.formula.tensors[tensor] {
                TensorDef::ElemDerivOfValue { func, arg, .. } => {
                    derivative_of(self.formula, self.graph, func.func(), arg, n)
                }
                _ => render_factor(self.formula, self.graph, &bare, n, None),
            }),
        })
    }

    /// Splits `factors` into the Kronecker factors over the slow and the fast axes of
    /// column-major vec, trying each way of seeing Y and X as matrices (X's axes swapped
    /// last: that needs a commutation matrix).
    fn kron_part(&self, factors: &[Piece]) -> Option<KronPart> {
        let y_options: Vec<MatrixAxes> = match *self.rows {
            [] => vec![(None, None)],
            [i] => vec![(Some(i), None), (None, Some(i))],
            [i, j] => vec![(Some(i), Some(j))],
            _ => return None,
        };
        let x_options: Vec<(MatrixAxes, bool)> = match *self.cols {
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
        factors: &[Piece],
        slow: MatrixAxes,
        fast: MatrixAxes,
    ) -> Option<(MatrixForm, MatrixForm)> {
        let covers = |axes: MatrixAxes, id: IndexId| axes.0 == Some(id) || axes.1 == Some(id);
        let mut slow_group = Vec::new();
        let mut fast_group = Vec::new();
        for &factor in factors {
            let ids = factor.ids();
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

    /// The matrix M[r,c] = product of `pieces` over rows `axes.0` and columns `axes.1`:
    /// an identity (δ), a diagonal of vectors (δ·v), a tensor or its transpose, a column
    /// times a row (either may be all ones), or a contraction alone (Aᵀ·B).
    fn group_matrix(&self, pieces: &[Piece], axes: MatrixAxes) -> Option<MatrixForm> {
        let mut factors: Vec<&Factor> = Vec::new();
        for piece in pieces {
            match *piece {
                Piece::Factor(factor) => factors.push(factor),
                Piece::Contracted { a, b, m } if pieces.len() == 1 => {
                    return self.contracted_matrix(a, b, m, axes);
                }
                Piece::Contracted { .. } => return None,
            }
        }
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

/// A factor of a term, or two factors contracted over a summation index.
#[derive(Debug, Clone, Copy)]
enum Piece<'f> {
    /// A factor read at free indices.
    Factor(&'f Factor),
    /// Σ_m A[…]·B[…]: each tensor with the indices it reads, one of them m.
    Contracted {
        a: (TensorId, [IndexId; 2]),
        b: (TensorId, [IndexId; 2]),
        m: IndexId,
    },
}

impl Piece<'_> {
    /// The free indices the piece reads.
    fn ids(&self) -> Vec<IndexId> {
        match *self {
            Piece::Factor(factor) => factor_ids(factor),
            Piece::Contracted { a, b, m } => [a.1, b.1]
                .iter()
                .map(|ids| if ids[0] == m { ids[1] } else { ids[0] })
                .collect(),
        }
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
mod tests;
