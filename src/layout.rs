//! Conventions for the shape of ∂Y/∂X: every layout libraries and textbooks use, where an
//! entry of J lands in each, which layouts a claimed shape matches (and what is wrong with
//! it when none does), and structural counts of the matricized J for the heat map.
//!
//! J's own layout is out+in: `J[i,j,k,l] = ∂Y[i,j]/∂X[k,l]`. The matrix layouts flatten Y and
//! X with vec, column-major (`vec`, first axis fastest: MATLAB, Julia, Magnus–Neudecker) or
//! row-major (`vec_r`, last axis fastest: NumPy, PyTorch). The numerator layout is
//! ∂vec(Y)/∂vec(X)ᵀ, rows vec(Y) and columns vec(X); the denominator layout is its
//! transpose. [`matrix_form`] writes the numerator-layout matrix with Kronecker products.

pub mod matrix_expression;
pub mod matrix_form;

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use rayon::prelude::*;
use thiserror::Error;

use crate::calculus::render::{Notation, node_name};
use crate::calculus::{Formula, IndexRole};
use crate::jacobian::Jacobian;
use crate::sparsity::StructuralSupport;

/// The order in which vec flattens a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VecOrder {
    /// Column-major (`vec`): the first axis varies fastest.
    ColMajor,
    /// Row-major (`vec_r`): the last axis varies fastest.
    RowMajor,
}

impl VecOrder {
    /// The position of `index` in the vec of a tensor of shape `dims`.
    pub fn flatten(self, dims: &[usize], index: &[usize]) -> usize {
        debug_assert_eq!(dims.len(), index.len());
        let fold = |acc: usize, (&i, &d): (&usize, &usize)| acc * d + i;
        match self {
            VecOrder::RowMajor => index.iter().zip(dims).fold(0, fold),
            VecOrder::ColMajor => index.iter().zip(dims).rev().fold(0, fold),
        }
    }

    /// The index of a tensor of shape `dims` at `position` of its vec (inverse of
    /// [`Self::flatten`]).
    pub fn unflatten(self, dims: &[usize], position: usize) -> Vec<usize> {
        let mut index = vec![0; dims.len()];
        let mut rest = position;
        let mut take = |axis: usize| {
            index[axis] = rest % dims[axis];
            rest /= dims[axis];
        };
        match self {
            VecOrder::RowMajor => (0..dims.len()).rev().for_each(&mut take),
            VecOrder::ColMajor => (0..dims.len()).for_each(&mut take),
        }
        index
    }

    /// The axes of a tensor of rank `rank` from the slowest to the fastest in this order.
    fn slow_to_fast(self, rank: usize) -> Vec<usize> {
        match self {
            VecOrder::RowMajor => (0..rank).collect(),
            VecOrder::ColMajor => (0..rank).rev().collect(),
        }
    }
}

/// The shapes of Y and X, which fix the shape of J in every layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JacobianDims {
    /// Y's shape (J's output axes).
    pub out: Vec<usize>,
    /// X's shape (J's input axes).
    pub input: Vec<usize>,
}

impl JacobianDims {
    /// The dims of `jacobian`.
    pub fn of(jacobian: &Jacobian) -> JacobianDims {
        let shape = jacobian.shape();
        let out_rank = layout_out_rank(jacobian.formula());
        JacobianDims {
            out: shape[..out_rank].to_vec(),
            input: shape[out_rank..].to_vec(),
        }
    }

    /// |Y|, the number of entries of Y (1 for a scalar).
    pub fn out_len(&self) -> usize {
        self.out.iter().product()
    }

    /// |X|, the number of entries of X (1 for a scalar).
    pub fn input_len(&self) -> usize {
        self.input.iter().product()
    }
}

/// How many of J's leading axes the layouts treat as its output: Y's; and at second order,
/// where J = ∂(∂Y/∂A)/∂B is the Jacobian of ∂Y/∂A with respect to B, Y's and A's (so the
/// Hessian of a scalar in vec form is the |X|×|X| matrix ∂²f/∂vec(X)∂vec(X)ᵀ).
fn layout_out_rank(formula: &Formula) -> usize {
    let second = formula
        .input
        .iter()
        .filter(|&&id| formula.indices[id].role == IndexRole::SecondInput)
        .count();
    match second {
        0 => formula.out.len(),
        _ => formula.out.len() + formula.input.len() - second,
    }
}

/// A layout of J: how libraries and textbooks arrange the entries ∂Y[…]/∂X[…].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// Y's axes then X's axes: J as jacscope, JAX and PyTorch return it.
    OutIn,
    /// X's axes then Y's axes: SymPy's `derive_by_array`.
    InOut,
    /// ∂vec(Y)/∂vec(X)ᵀ with column-major vec: |Y| × |X|.
    NumeratorColMajor,
    /// The out+in array reshaped row-major to |Y| × |X|.
    NumeratorRowMajor,
    /// The transpose of [`Layout::NumeratorColMajor`]: |X| × |Y|.
    DenominatorColMajor,
    /// The transpose of [`Layout::NumeratorRowMajor`]: |X| × |Y|.
    DenominatorRowMajor,
}

/// A layout name that is not one of [`Layout::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown layout '{0}'; the layouts are {names}", names = Layout::names().join(", "))]
pub struct UnknownLayout(pub String);

impl Layout {
    /// Every layout, in the order tables list them.
    pub const ALL: [Layout; 6] = [
        Layout::OutIn,
        Layout::InOut,
        Layout::NumeratorColMajor,
        Layout::NumeratorRowMajor,
        Layout::DenominatorColMajor,
        Layout::DenominatorRowMajor,
    ];

    /// The layout's name on the command line: `out+in`, `numerator-colmajor`, ….
    pub fn name(self) -> &'static str {
        match self {
            Layout::OutIn => "out+in",
            Layout::InOut => "in+out",
            Layout::NumeratorColMajor => "numerator-colmajor",
            Layout::NumeratorRowMajor => "numerator-rowmajor",
            Layout::DenominatorColMajor => "denominator-colmajor",
            Layout::DenominatorRowMajor => "denominator-rowmajor",
        }
    }

    /// The names of every layout, in table order.
    pub fn names() -> Vec<&'static str> {
        Layout::ALL.iter().map(|l| l.name()).collect()
    }

    /// Who uses this layout.
    pub fn used_by(self) -> &'static str {
        match self {
            Layout::OutIn => "JAX jacrev/jacfwd, PyTorch autograd.functional.jacobian, jacscope",
            Layout::InOut => "SymPy derive_by_array",
            Layout::NumeratorColMajor => {
                "∂vec(Y)/∂vec(X)ᵀ, column-major vec: Magnus–Neudecker, MATLAB, Julia"
            }
            Layout::NumeratorRowMajor => "NumPy/PyTorch reshape of out+in to (|Y|, |X|)",
            Layout::DenominatorColMajor => "transpose of numerator-colmajor",
            Layout::DenominatorRowMajor => {
                "transpose of numerator-rowmajor (NumPy reshape of in+out to (|X|, |Y|))"
            }
        }
    }

    /// The matrix layouts' vec order and whether rows are vec(Y) (numerator) or vec(X)
    /// (denominator); `None` for the tensor layouts.
    pub fn matrix(self) -> Option<(VecOrder, bool)> {
        match self {
            Layout::OutIn | Layout::InOut => None,
            Layout::NumeratorColMajor => Some((VecOrder::ColMajor, true)),
            Layout::NumeratorRowMajor => Some((VecOrder::RowMajor, true)),
            Layout::DenominatorColMajor => Some((VecOrder::ColMajor, false)),
            Layout::DenominatorRowMajor => Some((VecOrder::RowMajor, false)),
        }
    }

    /// The numerator layout (∂vec(Y)/∂vec(X)ᵀ) with vec in `order`.
    pub fn numerator(order: VecOrder) -> Layout {
        match order {
            VecOrder::ColMajor => Layout::NumeratorColMajor,
            VecOrder::RowMajor => Layout::NumeratorRowMajor,
        }
    }

    /// Which of J's axes (by position in J's own out+in order) each axis of this layout
    /// combines, slowest first: in `numerator-colmajor`, J of `X @ W.T` by X is the matrix
    /// whose row j·64 + i combines `[1, 0]` (j, i) and whose column l·64 + k combines
    /// `[3, 2]`. A tensor layout's axes are J's axes one by one.
    pub fn combined_axes(self, dims: &JacobianDims) -> Vec<Vec<usize>> {
        let out: Vec<usize> = (0..dims.out.len()).collect();
        let input: Vec<usize> = (dims.out.len()..dims.out.len() + dims.input.len()).collect();
        let singles = |axes: &[usize]| axes.iter().map(|&a| vec![a]).collect::<Vec<_>>();
        match (self, self.matrix()) {
            (Layout::InOut, _) => [singles(&input), singles(&out)].concat(),
            (_, None) => [singles(&out), singles(&input)].concat(),
            (_, Some((order, numerator))) => {
                let slow_to_fast = |axes: &[usize]| -> Vec<usize> {
                    order
                        .slow_to_fast(axes.len())
                        .into_iter()
                        .map(|a| axes[a])
                        .collect()
                };
                let (rows, cols) = (slow_to_fast(&out), slow_to_fast(&input));
                if numerator {
                    vec![rows, cols]
                } else {
                    vec![cols, rows]
                }
            }
        }
    }

    /// J's shape in this layout.
    pub fn shape(self, dims: &JacobianDims) -> Vec<usize> {
        match (self, self.matrix()) {
            (Layout::InOut, _) => [&dims.input[..], &dims.out[..]].concat(),
            (_, None) => [&dims.out[..], &dims.input[..]].concat(),
            (_, Some((_, true))) => vec![dims.out_len(), dims.input_len()],
            (_, Some((_, false))) => vec![dims.input_len(), dims.out_len()],
        }
    }

    /// Where entry `index` of J (in J's own out+in order, e.g. i,j,k,l) lands in this
    /// layout.
    pub fn position(self, dims: &JacobianDims, index: &[usize]) -> Vec<usize> {
        let (y, x) = index.split_at(dims.out.len());
        match (self, self.matrix()) {
            (Layout::InOut, _) => [x, y].concat(),
            (_, None) => index.to_vec(),
            (_, Some((order, numerator))) => {
                let row = order.flatten(&dims.out, y);
                let col = order.flatten(&dims.input, x);
                if numerator {
                    vec![row, col]
                } else {
                    vec![col, row]
                }
            }
        }
    }

    /// The entry of J (out+in order) at `position` of this layout (inverse of
    /// [`Self::position`]).
    pub fn index_at(self, dims: &JacobianDims, position: &[usize]) -> Vec<usize> {
        match (self, self.matrix()) {
            (Layout::InOut, _) => {
                let (x, y) = position.split_at(dims.input.len());
                [y, x].concat()
            }
            (_, None) => position.to_vec(),
            (_, Some((order, numerator))) => {
                let (row, col) = if numerator {
                    (position[0], position[1])
                } else {
                    (position[1], position[0])
                };
                [
                    order.unflatten(&dims.out, row),
                    order.unflatten(&dims.input, col),
                ]
                .concat()
            }
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Layout {
    type Err = UnknownLayout;

    fn from_str(text: &str) -> Result<Layout, UnknownLayout> {
        Layout::ALL
            .into_iter()
            .find(|l| l.name() == text.trim())
            .ok_or_else(|| UnknownLayout(text.to_string()))
    }
}

/// `(64, 512, 64, 1024)`, as Python prints a shape.
pub fn shape_tuple(shape: &[usize]) -> String {
    match shape {
        [single] => format!("({single},)"),
        _ => {
            let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            format!("({})", parts.join(", "))
        }
    }
}

/// A `--claim` that is not a shape.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ShapeClaimError {
    /// Nothing was given.
    #[error("--claim is empty; give a shape such as 64x1024x1024x512 or (64, 1024, 1024, 512)")]
    Empty,
    /// Two separators in a row, or one at an end.
    #[error(
        "--claim '{0}': a dimension is missing (two separators in a row, or one at an end); give a shape such as 64x1024x1024x512 or (64, 1024, 1024, 512)"
    )]
    MissingDimension(String),
    /// A part between separators is not a non-negative integer.
    #[error(
        "--claim '{text}': '{part}' is not a dimension; give a shape such as 64x1024x1024x512 or (64, 1024, 1024, 512)"
    )]
    NotADimension {
        /// The whole claim.
        text: String,
        /// The offending part.
        part: String,
    },
}

/// Parses a claimed shape: `64x1024x1024x512`, `64×1024`, `64,1024`, `(64, 1024, 1024, 512)`,
/// `[64, 1024]`, `(5,)`; `()` is the shape of a scalar.
pub fn parse_claim(text: &str) -> Result<Vec<usize>, ShapeClaimError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(ShapeClaimError::Empty);
    }
    let bracketed = [('(', ')'), ('[', ']')]
        .into_iter()
        .find_map(|(open, close)| trimmed.strip_prefix(open)?.strip_suffix(close));
    let inner = bracketed.unwrap_or(trimmed).trim();
    if inner.is_empty() && bracketed.is_some() {
        return Ok(Vec::new());
    }
    // A Python 1-tuple keeps a trailing comma: (5,).
    let inner = match bracketed {
        Some(_) => inner.strip_suffix(',').unwrap_or(inner),
        None => inner,
    };
    let bad = |part: &str| ShapeClaimError::NotADimension {
        text: text.to_string(),
        part: part.to_string(),
    };
    let mut dims = Vec::new();
    for piece in inner.split([',', 'x', 'X', '×']) {
        let words: Vec<&str> = piece.split_whitespace().collect();
        if words.is_empty() {
            return Err(ShapeClaimError::MissingDimension(text.to_string()));
        }
        for word in words {
            dims.push(word.parse::<usize>().map_err(|_| bad(word))?);
        }
    }
    Ok(dims)
}

/// One axis of J: its index name and length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Axis {
    /// The index name (`i`, `k`, …).
    pub name: String,
    /// The axis length.
    pub dim: usize,
}

/// What a claim is checked against: J's axes with the names of Y and X, and the shapes of
/// the expression's other variables (a claimed dimension may come from one of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeContext {
    /// Y's display name (`Y`).
    pub y_name: String,
    /// X's name (the variable J differentiates by).
    pub x_name: String,
    /// Y's axes.
    pub out: Vec<Axis>,
    /// X's axes.
    pub input: Vec<Axis>,
    /// The other variables and their shapes, in order of appearance.
    pub others: Vec<(String, Vec<usize>)>,
}

impl ShapeContext {
    /// The context of `jacobian`.
    pub fn of(jacobian: &Jacobian) -> ShapeContext {
        let graph = jacobian.graph();
        let formula = jacobian.formula();
        let axes = |ids: &[usize]| -> Vec<Axis> {
            ids.iter()
                .map(|&id| Axis {
                    name: formula.indices[id].name.clone(),
                    dim: formula.indices[id].dim,
                })
                .collect()
        };
        // At second order J is the Jacobian of ∂Y/∂A with respect to B.
        let out_rank = layout_out_rank(formula);
        let free = formula.free();
        let x_node = jacobian.second().unwrap_or(jacobian.wrt());
        let x_name = node_name(formula, graph, x_node, Notation::Unicode);
        let y_name = node_name(formula, graph, graph.root, Notation::Unicode);
        let y_name = match jacobian.second() {
            Some(_) => {
                let a = node_name(formula, graph, jacobian.wrt(), Notation::Unicode);
                format!("∂{y_name}/∂{a}")
            }
            None => y_name,
        };
        let others = graph
            .variables()
            .into_iter()
            .filter(|&name| name != x_name)
            .map(|name| {
                let id = graph.input(name).expect("variables are inputs");
                (name.to_string(), graph.node(id).shape.dims().to_vec())
            })
            .collect();
        ShapeContext {
            y_name,
            x_name,
            out: axes(&free[..out_rank]),
            input: axes(&free[out_rank..]),
            others,
        }
    }

    /// The dims of Y and X.
    pub fn dims(&self) -> JacobianDims {
        JacobianDims {
            out: self.out.iter().map(|a| a.dim).collect(),
            input: self.input.iter().map(|a| a.dim).collect(),
        }
    }

    /// J's axes with their owner (Y's name or X's name), in out+in order.
    fn owned_axes(&self) -> Vec<(&str, &Axis)> {
        let y = self.out.iter().map(|a| (self.y_name.as_str(), a));
        let x = self.input.iter().map(|a| (self.x_name.as_str(), a));
        y.chain(x).collect()
    }
}

/// The verdict on a claimed shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimCheck {
    /// The claimed shape.
    pub claimed: Vec<usize>,
    /// The layouts whose shape is the claimed one.
    pub matches: Vec<Layout>,
    /// One paragraph: which layouts match, or why none does and which claimed dimension
    /// belongs to which variable.
    pub note: String,
}

/// Checks a claimed shape of J against every layout.
pub fn check_claim(claimed: &[usize], context: &ShapeContext) -> ClaimCheck {
    let dims = context.dims();
    let matches: Vec<Layout> = Layout::ALL
        .into_iter()
        .filter(|l| l.shape(&dims) == claimed)
        .collect();
    let claim = shape_tuple(claimed);
    let note = if matches.is_empty() {
        mismatch_note(claimed, context)
    } else {
        let names: Vec<String> = matches
            .iter()
            .map(|l| format!("{} ({})", l.name(), l.used_by()))
            .collect();
        format!("{claim} is J in layout {}.", names.join("; and in layout "))
    };
    ClaimCheck {
        claimed: claimed.to_vec(),
        matches,
        note,
    }
}

/// Why `claimed` matches no layout: how it differs from out+in (or from the matrix
/// layouts), then each claimed dimension read against J's axes.
fn mismatch_note(claimed: &[usize], context: &ShapeContext) -> String {
    let dims = context.dims();
    let out_in = Layout::OutIn.shape(&dims);
    let claim = shape_tuple(claimed);
    let mut sentences = vec![format!("{claim} matches no layout of J.")];
    let mut sorted_claim = claimed.to_vec();
    sorted_claim.sort_unstable();
    let mut sorted_j = out_in.clone();
    sorted_j.sort_unstable();
    let numerator = Layout::NumeratorColMajor.shape(&dims);
    let matrix_claim = claimed.len() == 2 && out_in.len() != 2;
    if sorted_claim == sorted_j {
        sentences.push(format!(
            "It has J's dimensions in an order no layout uses: out+in is {}, in+out is {}.",
            shape_tuple(&out_in),
            shape_tuple(&Layout::InOut.shape(&dims))
        ));
    } else if matrix_claim {
        let entries = claimed.iter().map(|&d| d as u128).product::<u128>();
        let j_entries = (dims.out_len() as u128) * (dims.input_len() as u128);
        let matrices = format!(
            "the matrix layouts are |{}| × |{}| = {} (numerator) and {} (denominator).",
            context.y_name,
            context.x_name,
            shape_tuple(&numerator),
            shape_tuple(&[numerator[1], numerator[0]]),
        );
        sentences.push(if entries == j_entries {
            format!("It has as many entries as J, but {matrices}")
        } else {
            format!("J has {j_entries} entries; {matrices}")
        });
    } else if claimed.len() == out_in.len() {
        sentences.push(format!(
            "It is not a permutation of out+in's {}.",
            shape_tuple(&out_in)
        ));
    } else {
        let axes = |n: usize| format!("{n} {}", if n == 1 { "axis" } else { "axes" });
        sentences.push(format!(
            "J has {} (out+in is {}); the claim has {}.",
            axes(out_in.len()),
            shape_tuple(&out_in),
            axes(claimed.len())
        ));
    }
    if !matrix_claim && !claimed.is_empty() && !out_in.is_empty() {
        sentences.push(attribution(claimed, context));
    }
    if let Some(reading) = two_shapes_reading(claimed, context) {
        sentences.push(reading);
    }
    sentences.join(" ")
}

/// Each claimed dimension read against J's axes: `64 is Y's axis i`, `1024 is not an axis
/// of Y or X (it is W's axis 1)`; then the axes of J the claim leaves out.
fn attribution(claimed: &[usize], context: &ShapeContext) -> String {
    let axes = context.owned_axes();
    let names: Vec<String> = axes
        .iter()
        .map(|(owner, a)| format!("{owner}'s {} ({})", a.name, a.dim))
        .collect();
    let mut used = vec![false; axes.len()];
    let mut parts = Vec::new();
    for (position, &d) in claimed.iter().enumerate() {
        // Prefer J's axis at the same position in out+in, then the first free one.
        let pick = std::iter::once(position)
            .chain(0..axes.len())
            .find(|&p| p < axes.len() && !used[p] && axes[p].1.dim == d);
        let text = match pick {
            Some(p) => {
                used[p] = true;
                let (owner, axis) = axes[p];
                format!("{d} is {owner}'s axis {}", axis.name)
            }
            None => {
                let of_j = axes.iter().filter(|(_, a)| a.dim == d).count();
                let why = if of_j == 0 {
                    format!(
                        "{d} is not an axis of {} or {}",
                        context.y_name, context.x_name
                    )
                } else {
                    format!(
                        "{d} again, but J has only {of_j} axis{} of length {d}",
                        if of_j == 1 { "" } else { "es" }
                    )
                };
                match other_axes_of_length(d, context) {
                    Some(others) => format!("{why} ({others})"),
                    None => why,
                }
            }
        };
        parts.push(text);
    }
    let missing: Vec<String> = (0..axes.len())
        .filter(|&p| !used[p])
        .map(|p| names[p].clone())
        .collect();
    let mut text = format!(
        "J's axes are {}. In the claim, {}",
        names.join(", "),
        parts.join("; ")
    );
    if missing.is_empty() {
        text.push('.');
    } else {
        text.push_str(&format!("; missing: {}.", missing.join(", ")));
    }
    text
}

/// `it is W's axis 1` / `it is W's axis 0 and b's axis 0` for a length that other
/// variables have.
fn other_axes_of_length(d: usize, context: &ShapeContext) -> Option<String> {
    let hits: Vec<String> = context
        .others
        .iter()
        .flat_map(|(name, shape)| {
            shape
                .iter()
                .enumerate()
                .filter(move |&(_, &len)| len == d)
                .map(move |(axis, _)| format!("{name}'s axis {axis}"))
        })
        .collect();
    (!hits.is_empty()).then(|| format!("it is {}", hits.join(" and ")))
}

/// If the claim is one variable's shape followed by another's (or a transpose's), says so:
/// the usual origin of a wrong guess such as X.shape + Wᵀ.shape.
fn two_shapes_reading(claimed: &[usize], context: &ShapeContext) -> Option<String> {
    let dims = context.dims();
    let mut shapes: Vec<(String, Vec<usize>)> = vec![
        (context.y_name.clone(), dims.out.clone()),
        (context.x_name.clone(), dims.input.clone()),
    ];
    shapes.extend(context.others.iter().cloned());
    let transposes: Vec<(String, Vec<usize>)> = shapes
        .iter()
        .filter(|(_, s)| s.len() == 2 && s[0] != s[1])
        .map(|(name, s)| (format!("{name}ᵀ"), vec![s[1], s[0]]))
        .collect();
    shapes.extend(transposes);
    let named = |part: &[usize]| {
        shapes
            .iter()
            .find(|(_, s)| !s.is_empty() && s == part)
            .map(|(name, _)| name.clone())
    };
    (1..claimed.len()).find_map(|split| {
        let (a, b) = claimed.split_at(split);
        let (first, second) = (named(a)?, named(b)?);
        Some(format!(
            "It reads as {first}'s shape {} followed by {second}'s shape {}.",
            shape_tuple(a),
            shape_tuple(b)
        ))
    })
}

/// Splits positions `range` of the vec (in `order`) of a tensor of shape `dims` into boxes
/// of the tensor (one range per axis): at most 2·rank − 1 of them.
fn vec_range_boxes(dims: &[usize], order: VecOrder, range: Range<usize>) -> Vec<Vec<Range<usize>>> {
    let axes = order.slow_to_fast(dims.len());
    let slow_dims: Vec<usize> = axes.iter().map(|&a| dims[a]).collect();
    let mut boxes = Vec::new();
    split_range(&slow_dims, range, &mut Vec::new(), &mut boxes);
    // Reorder each box from slow-to-fast to the tensor's axis order.
    boxes
        .into_iter()
        .map(|b| {
            let mut ranges = vec![0..0; dims.len()];
            for (k, &axis) in axes.iter().enumerate() {
                ranges[axis] = b[k].clone();
            }
            ranges
        })
        .collect()
}

/// [`vec_range_boxes`] over axes listed slowest first: appends to `out` the boxes (with
/// `prefix` for the slower axes already fixed) covering positions `range`.
fn split_range(
    dims: &[usize],
    range: Range<usize>,
    prefix: &mut Vec<Range<usize>>,
    out: &mut Vec<Vec<Range<usize>>>,
) {
    if range.is_empty() {
        return;
    }
    let Some((&slow, rest)) = dims.split_first() else {
        out.push(prefix.clone());
        return;
    };
    let inner: usize = rest.iter().product();
    let full = |from: usize, to: usize, prefix: &mut Vec<Range<usize>>, out: &mut Vec<_>| {
        if from < to {
            let mut b = prefix.clone();
            b.push(from..to);
            b.extend(rest.iter().map(|&d| 0..d));
            out.push(b);
        }
    };
    let (first, last) = (range.start / inner, (range.end - 1) / inner);
    debug_assert!(last < slow, "range beyond the tensor");
    if first == last {
        prefix.push(first..first + 1);
        let offset = first * inner;
        split_range(rest, range.start - offset..range.end - offset, prefix, out);
        prefix.pop();
        return;
    }
    // A partial head, whole slices in the middle, a partial tail.
    let head_full = range.start.is_multiple_of(inner);
    let tail_full = range.end.is_multiple_of(inner);
    let middle_start = if head_full { first } else { first + 1 };
    let middle_end = if tail_full { last + 1 } else { last };
    if !head_full {
        prefix.push(first..first + 1);
        split_range(rest, range.start % inner..inner, prefix, out);
        prefix.pop();
    }
    full(middle_start, middle_end, prefix, out);
    if !tail_full {
        prefix.push(last..last + 1);
        split_range(rest, 0..range.end % inner, prefix, out);
        prefix.pop();
    }
}

/// Exact structural nonzero counts of the blocks of the numerator-layout matrix of J
/// (rows vec(Y), columns vec(X), both in `order`): one count per (row block, column
/// block), row-major, for a heat map of the matricized J.
///
/// `support` is J's structural support and `out_rank` Y's rank. No entry is visited: the
/// count of the leading r rows and c columns, F(r, c), is a handful of box counts of the
/// support (the first r positions of a vec are at most rank boxes), F is computed at every
/// block edge, and a block's count is F(r₁,c₁) − F(r₀,c₁) − F(r₁,c₀) + F(r₀,c₀).
pub fn matricized_block_counts(
    support: &StructuralSupport,
    out_rank: usize,
    order: VecOrder,
    row_blocks: &[Range<usize>],
    col_blocks: &[Range<usize>],
) -> Vec<u64> {
    let (out, input) = support.dims().split_at(out_rank);
    let edges = |blocks: &[Range<usize>]| -> Vec<usize> {
        let mut edges: Vec<usize> = blocks.iter().flat_map(|b| [b.start, b.end]).collect();
        edges.sort_unstable();
        edges.dedup();
        edges
    };
    let (row_edges, col_edges) = (edges(row_blocks), edges(col_blocks));
    let col_prefixes: Vec<_> = col_edges
        .iter()
        .map(|&c| vec_range_boxes(input, order, 0..c))
        .collect();
    // leading[r][c] = F(row_edges[r], col_edges[c])
    let leading: Vec<Vec<u128>> = row_edges
        .par_iter()
        .map(|&r| {
            let row_prefix = vec_range_boxes(out, order, 0..r);
            let mut ranges: Vec<Range<usize>> = vec![0..0; support.dims().len()];
            col_prefixes
                .iter()
                .map(|col_prefix| {
                    let mut total = 0u128;
                    for rows in &row_prefix {
                        ranges[..out_rank].clone_from_slice(rows);
                        for cols in col_prefix {
                            ranges[out_rank..].clone_from_slice(cols);
                            total += support.count_in_box(&ranges);
                        }
                    }
                    total
                })
                .collect()
        })
        .collect();
    let at = |edges: &[usize], e: usize| edges.binary_search(&e).expect("an edge of a block");
    let mut counts = Vec::with_capacity(row_blocks.len() * col_blocks.len());
    for rows in row_blocks {
        let (r0, r1) = (at(&row_edges, rows.start), at(&row_edges, rows.end));
        for cols in col_blocks {
            let (c0, c1) = (at(&col_edges, cols.start), at(&col_edges, cols.end));
            let count = leading[r1][c1] + leading[r0][c0] - leading[r0][c1] - leading[r1][c0];
            counts.push(u64::try_from(count).expect("a block has fewer than 2^64 entries"));
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::calculus;
    use crate::expr::{self, Shape};

    /// An expression, the shapes of its variables, and the variable to differentiate by.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

    /// Every index of an array of shape `dims`, row-major.
    fn all_indices(dims: &[usize]) -> Vec<Vec<usize>> {
        let count: usize = dims.iter().product();
        (0..count)
            .map(|flat| VecOrder::RowMajor.unflatten(dims, flat))
            .collect()
    }

    fn dims(out: &[usize], input: &[usize]) -> JacobianDims {
        JacobianDims {
            out: out.to_vec(),
            input: input.to_vec(),
        }
    }

    #[test]
    fn combined_axes_flatten_to_the_layout_positions() {
        // Reading an entry's position off the combined axes (slowest first, row-major over
        // their ranges) must give what `position` gives, in every layout.
        for dims in [dims(&[3, 4], &[2, 5]), dims(&[], &[2, 3]), dims(&[4], &[3])] {
            let shape = [&dims.out[..], &dims.input[..]].concat();
            for layout in Layout::ALL {
                let combined = layout.combined_axes(&dims);
                for index in all_indices(&shape) {
                    let read: Vec<usize> = combined
                        .iter()
                        .map(|axes| {
                            let ranges: Vec<usize> = axes.iter().map(|&a| shape[a]).collect();
                            let at: Vec<usize> = axes.iter().map(|&a| index[a]).collect();
                            VecOrder::RowMajor.flatten(&ranges, &at)
                        })
                        .collect();
                    assert_eq!(read, layout.position(&dims, &index), "{layout} {index:?}");
                }
            }
        }
    }

    fn support(source: &str, shapes: &[(&str, &str)], wrt: &str) -> (StructuralSupport, usize) {
        let shapes: BTreeMap<String, Shape> = shapes
            .iter()
            .map(|(n, s)| (n.to_string(), expr::parse_shape(s).unwrap()))
            .collect();
        let graph = expr::compile(source, &shapes).unwrap();
        let formula = calculus::jacobian_formula(&graph, graph.input(wrt).unwrap());
        (StructuralSupport::new(&formula), formula.out.len())
    }

    fn linear_context() -> ShapeContext {
        let axis = |name: &str, dim| Axis {
            name: name.to_string(),
            dim,
        };
        ShapeContext {
            y_name: "Y".into(),
            x_name: "X".into(),
            out: vec![axis("i", 64), axis("j", 512)],
            input: vec![axis("k", 64), axis("l", 1024)],
            others: vec![("W".into(), vec![512, 1024])],
        }
    }

    #[test]
    fn vec_orders_flatten_and_unflatten() {
        // a 2×3 matrix: column-major position i + 2j, row-major 3i + j
        assert_eq!(VecOrder::ColMajor.flatten(&[2, 3], &[1, 2]), 5);
        assert_eq!(VecOrder::RowMajor.flatten(&[2, 3], &[1, 2]), 5);
        assert_eq!(VecOrder::ColMajor.flatten(&[2, 3], &[1, 0]), 1);
        assert_eq!(VecOrder::RowMajor.flatten(&[2, 3], &[1, 0]), 3);
        assert_eq!(VecOrder::ColMajor.flatten(&[], &[]), 0);
        for order in [VecOrder::ColMajor, VecOrder::RowMajor] {
            for dims in [vec![2, 3], vec![4], vec![], vec![2, 1, 3]] {
                let n: usize = dims.iter().product();
                let positions: Vec<usize> = all_indices(&dims)
                    .iter()
                    .map(|ix| order.flatten(&dims, ix))
                    .collect();
                let mut sorted = positions.clone();
                sorted.sort_unstable();
                assert_eq!(sorted, (0..n).collect::<Vec<_>>());
                for p in 0..n {
                    assert_eq!(order.flatten(&dims, &order.unflatten(&dims, p)), p);
                }
            }
        }
    }

    #[test]
    fn layout_shapes_of_the_default_example() {
        let d = dims(&[64, 512], &[64, 1024]);
        let shapes: Vec<Vec<usize>> = Layout::ALL.iter().map(|l| l.shape(&d)).collect();
        assert_eq!(
            shapes,
            [
                vec![64, 512, 64, 1024],
                vec![64, 1024, 64, 512],
                vec![32768, 65536],
                vec![32768, 65536],
                vec![65536, 32768],
                vec![65536, 32768],
            ]
        );
        // scalars count as one entry
        let d = dims(&[], &[3]);
        assert_eq!(Layout::OutIn.shape(&d), [3]);
        assert_eq!(Layout::NumeratorColMajor.shape(&d), [1, 3]);
        assert_eq!(Layout::DenominatorRowMajor.shape(&d), [3, 1]);
        let d = dims(&[], &[]);
        assert_eq!(Layout::InOut.shape(&d), Vec::<usize>::new());
        assert_eq!(Layout::NumeratorRowMajor.shape(&d), [1, 1]);
    }

    #[test]
    fn positions_are_inverted_by_index_at() {
        for d in [
            dims(&[2, 3], &[4, 5]),
            dims(&[3], &[2, 2]),
            dims(&[], &[2, 3]),
            dims(&[4], &[]),
            dims(&[], &[]),
        ] {
            let shape = Layout::OutIn.shape(&d);
            for layout in Layout::ALL {
                let target = layout.shape(&d);
                let mut seen = std::collections::BTreeSet::new();
                for index in all_indices(&shape) {
                    let position = layout.position(&d, &index);
                    assert!(position.iter().zip(&target).all(|(p, n)| p < n));
                    assert_eq!(layout.index_at(&d, &position), index, "{layout}");
                    assert!(seen.insert(position));
                }
            }
        }
    }

    #[test]
    fn layout_names_parse_and_unknown_names_are_listed() {
        for layout in Layout::ALL {
            assert_eq!(layout.name().parse::<Layout>(), Ok(layout));
        }
        let err = "colmajor".parse::<Layout>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown layout 'colmajor'; the layouts are out+in, in+out, numerator-colmajor, \
             numerator-rowmajor, denominator-colmajor, denominator-rowmajor"
        );
    }

    #[test]
    fn claims_parse_in_every_spelling() {
        let want = vec![64, 1024, 1024, 512];
        for text in [
            "64x1024x1024x512",
            "64×1024×1024×512",
            "(64, 1024, 1024, 512)",
            "64,1024,1024,512",
            " [64, 1024, 1024, 512] ",
            "64 x 1024 X 1024 x 512",
        ] {
            assert_eq!(parse_claim(text), Ok(want.clone()), "{text}");
        }
        assert_eq!(parse_claim("(5,)"), Ok(vec![5]));
        assert_eq!(parse_claim("()"), Ok(vec![]));
        assert_eq!(parse_claim("  "), Err(ShapeClaimError::Empty));
        for text in ["64xx1024", "64x1024x", ",3", "(,)"] {
            assert_eq!(
                parse_claim(text),
                Err(ShapeClaimError::MissingDimension(text.into())),
                "{text}"
            );
        }
        for (text, part) in [
            ("64x-1", "-1"),
            ("(64, 1024", "(64"),
            ("shape", "shape"),
            ("1.5x2", "1.5"),
        ] {
            assert_eq!(
                parse_claim(text),
                Err(ShapeClaimError::NotADimension {
                    text: text.into(),
                    part: part.into()
                }),
                "{text}"
            );
        }
    }

    #[test]
    fn a_right_claim_names_its_layouts() {
        let context = linear_context();
        let check = check_claim(&[64, 512, 64, 1024], &context);
        assert_eq!(check.matches, [Layout::OutIn]);
        assert!(
            check
                .note
                .starts_with("(64, 512, 64, 1024) is J in layout out+in (JAX")
        );
        let check = check_claim(&[65536, 32768], &context);
        assert_eq!(
            check.matches,
            [Layout::DenominatorColMajor, Layout::DenominatorRowMajor]
        );
    }

    #[test]
    fn a_wrong_claim_is_read_against_the_axes() {
        let context = linear_context();
        let check = check_claim(&[64, 1024, 1024, 512], &context);
        assert!(check.matches.is_empty());
        assert_eq!(
            check.note,
            "(64, 1024, 1024, 512) matches no layout of J. \
             It is not a permutation of out+in's (64, 512, 64, 1024). \
             J's axes are Y's i (64), Y's j (512), X's k (64), X's l (1024). \
             In the claim, 64 is Y's axis i; 1024 is X's axis l; \
             1024 again, but J has only 1 axis of length 1024 (it is W's axis 1); \
             512 is Y's axis j; missing: X's k (64). \
             It reads as X's shape (64, 1024) followed by Wᵀ's shape (1024, 512)."
        );
        let check = check_claim(&[64, 1024, 64, 512], &context);
        assert_eq!(check.matches, [Layout::InOut]);
        let check = check_claim(&[512, 64, 1024, 64], &context);
        assert!(
            check
                .note
                .contains("It has J's dimensions in an order no layout uses")
        );
        let check = check_claim(&[64, 7, 64, 1024], &context);
        assert!(
            check.note.contains("7 is not an axis of Y or X; "),
            "{}",
            check.note
        );
        let check = check_claim(&[65536, 65536], &context);
        assert!(check.note.contains(
            "J has 2147483648 entries; the matrix layouts are |Y| × |X| = (32768, 65536) \
             (numerator) and (65536, 32768) (denominator)."
        ));
        let check = check_claim(&[32768, 1024, 64], &context);
        assert!(
            check
                .note
                .contains("J has 4 axes (out+in is (64, 512, 64, 1024)); the claim has 3 axes."),
            "{}",
            check.note
        );
    }

    #[test]
    fn vec_ranges_split_into_few_boxes() {
        for order in [VecOrder::ColMajor, VecOrder::RowMajor] {
            for shape in [vec![3, 4], vec![5], vec![], vec![2, 3, 2]] {
                let n: usize = shape.iter().product();
                for start in 0..=n {
                    for end in start..=n {
                        let boxes = vec_range_boxes(&shape, order, start..end);
                        assert!(boxes.len() < (2 * shape.len()).max(2));
                        let mut covered: Vec<usize> = boxes
                            .iter()
                            .flat_map(|b| {
                                all_indices(&shape)
                                    .into_iter()
                                    .filter(|ix| ix.iter().zip(b).all(|(i, r)| r.contains(i)))
                                    .map(|ix| order.flatten(&shape, &ix))
                                    .collect::<Vec<_>>()
                            })
                            .collect();
                        covered.sort_unstable();
                        assert_eq!(covered, (start..end).collect::<Vec<_>>());
                    }
                }
            }
        }
    }

    /// Splits `0..n` into `parts` uneven ranges.
    fn blocks(n: usize, parts: usize) -> Vec<Range<usize>> {
        let mut edges: Vec<usize> = (0..=parts).map(|p| p * n / parts).collect();
        edges.dedup();
        edges.windows(2).map(|w| w[0]..w[1]).collect()
    }

    #[test]
    fn matricized_block_counts_agree_with_brute_force() {
        let cases: &[Case] = &[
            ("X @ W.T", &[("X", "3x4"), ("W", "5x4")], "X"),
            ("X @ W.T", &[("X", "3x4"), ("W", "5x4")], "W"),
            ("X.T + X @ X", &[("X", "3x3")], "X"),
            ("softmax(X, axis=1)", &[("X", "3x4")], "X"),
            ("sum(X, axis=0) + b", &[("X", "3x4"), ("b", "4")], "b"),
            ("W @ x", &[("W", "3x4"), ("x", "4")], "W"),
            ("relu(X) * 2", &[("X", "4x3")], "X"),
            ("trace(X)", &[("X", "3x3")], "X"),
        ];
        for (source, shapes, wrt) in cases {
            let (support, out_rank) = support(source, shapes, wrt);
            let d = JacobianDims {
                out: support.dims()[..out_rank].to_vec(),
                input: support.dims()[out_rank..].to_vec(),
            };
            for (order, layout) in [
                (VecOrder::ColMajor, Layout::NumeratorColMajor),
                (VecOrder::RowMajor, Layout::NumeratorRowMajor),
            ] {
                let [rows, cols] = layout.shape(&d)[..] else {
                    unreachable!()
                };
                for (row_parts, col_parts) in [(1, 1), (2, 3), (rows, cols), (5, 7)] {
                    let row_blocks = blocks(rows, row_parts.min(rows));
                    let col_blocks = blocks(cols, col_parts.min(cols));
                    let counts = matricized_block_counts(
                        &support,
                        out_rank,
                        order,
                        &row_blocks,
                        &col_blocks,
                    );
                    let mut brute = vec![0u64; row_blocks.len() * col_blocks.len()];
                    for index in all_indices(support.dims()) {
                        if support.contains(&index) {
                            let p = layout.position(&d, &index);
                            let r = row_blocks.iter().position(|b| b.contains(&p[0])).unwrap();
                            let c = col_blocks.iter().position(|b| b.contains(&p[1])).unwrap();
                            brute[r * col_blocks.len() + c] += 1;
                        }
                    }
                    assert_eq!(counts, brute, "{source} wrt {wrt}, {order:?}");
                }
            }
        }
    }

    #[test]
    fn matricized_block_counts_of_the_default_example_are_fast() {
        let (support, out_rank) = support("X @ W.T", &[("X", "64x1024"), ("W", "512x1024")], "X");
        let row_blocks = blocks(32768, 200);
        let col_blocks = blocks(65536, 100);
        for order in [VecOrder::ColMajor, VecOrder::RowMajor] {
            let start = std::time::Instant::now();
            let counts =
                matricized_block_counts(&support, out_rank, order, &row_blocks, &col_blocks);
            let elapsed = start.elapsed();
            // About 50 ms unoptimized on two cores, a few ms optimized; allow for a
            // loaded test machine when unoptimized.
            let limit = if cfg!(debug_assertions) { 500 } else { 100 };
            assert!(elapsed.as_millis() < limit, "{order:?}: {elapsed:?}");
            assert_eq!(counts.iter().sum::<u64>(), 33_554_432);
            if order == VecOrder::RowMajor {
                // row-major: I₆₄ ⊗ W, 64 dense diagonal blocks of 512 × 1024
                let nonempty = counts.iter().filter(|&&c| c > 0).count();
                assert!(nonempty < counts.len() / 10, "{nonempty}");
            }
        }
    }
}
