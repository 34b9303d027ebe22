//! Parsing a claim against the problem it is about: [`parse_claim`].
//!
//! **Shape or formula.** A claim is a shape when it has a digit and is made only of digits,
//! `x`, `X`, `×`, commas, whitespace, parentheses and brackets (`64x1024x1024x512`,
//! `(64, 512, 64, 1024)`, and `()` for a scalar); it is then read by
//! [`crate::layout::parse_claim`]. Anything else is an index formula. So `2` is a shape
//! (J has one axis of length 2), never the constant formula 2 — unless J itself is a
//! constant (`sum(X)` by X is `1`, `exp(X - X)` by X is `0`): then a number alone is read
//! as a formula, so that J's printed formula can be pasted back.
//!
//! **Index formulas** are read in the notation jacscope prints, ASCII or Unicode:
//!
//! ```text
//! claim   := sum
//! sum     := product (('+' | '-' | '−') product)*
//! product := unary (('*' | '·') unary | '/' unary)*
//! unary   := ('-' | '−') unary
//!          | ('sum_' | 'Σ_') names product        Σ over the rest of the product
//!          | factor
//! names   := index (',' index)*  |  '{' index (',' index)* '}'
//! factor  := number
//!          | ('delta' | 'δ') '(' slot ',' slot ')'
//!          | '(' sum ')'                           grouping; products of sums expand
//!          | '(' EXPR ')' tensor                   any expression of the language
//!          | FN ("'" | '′'){1,2} '(' EXPR ')' tensor  f′ or f″ of an expression: relu'(Z1)[i,j]
//!          | CALL tensor                           a call of the language: sigmoid(X)[i,j]
//!          | NAME tensor                           a variable, the output Y, an intermediate Z1
//!          | ('(' EXPR ')' | CALL | NAME) '.T'+ tensor   transposed: inv(X).T[k,l], W.T[j,l]
//! tensor  := ('[' slot (',' slot)* ']')? power?    one slot per axis; none for a scalar
//! power   := '^' signed-number | '^(' signed-number ')' | superscripts (⁻², ¹)
//! slot    := index | integer                       an integer is a fixed position
//! ```
//!
//! EXPR is the expression language itself (`X @ W.T + b`), compiled with the shapes of the
//! problem's variables; it may name the output and the intermediates too. Names mean what
//! they mean in `explain`: see [`crate::calculus::named_nodes`]. `softmax(Z1)`,
//! `centered(Z1)` and `inv(Z1)` written with a name J's formula applies them to are the
//! tensors of J's formula (with their axis); otherwise `softmax(…)` and `inv(…)` are calls
//! of the language. Dividing by a number divides the coefficient; dividing by a node's
//! value (or a power of one) multiplies by its power −1 ([`TensorDef::Power`]).
//!
//! Free indices are J's axis names; a summation index ranges over the axis it indexes (or,
//! if only deltas read it, over the range of the index on the other side).

use std::collections::BTreeMap;

use super::{Claim, ClaimKind, IndexClaim};
use crate::calculus::{
    Factor, Formula, IndexId, IndexRole, IndexVar, Slot, TensorDef, Term, intern_tensor,
    named_nodes, simplify,
};
use crate::expr::{self, Diagnostic, ElemFn, Graph, Node, NodeId, Shape, Span};
use crate::jacobian::Jacobian;
use crate::layout::{self, Layout};

/// A claim that cannot be read, with the part of the claim's text to put a caret under.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ClaimError {
    /// What is wrong, in one sentence.
    pub message: String,
    /// The offending part of the claim (byte offsets into its text).
    pub span: Span,
    /// A hint on how to fix it, if there is one.
    pub help: Option<String>,
}

impl ClaimError {
    /// An error pointing at `span`.
    fn at(span: Span, message: impl Into<String>) -> ClaimError {
        ClaimError {
            message: message.into(),
            span,
            help: None,
        }
    }

    /// The same error as an expression diagnostic, for the caret renderers of
    /// [`crate::expr::diagnostic`] (`render`, `render_ascii`).
    pub fn diagnostic(&self) -> Diagnostic {
        Diagnostic {
            message: self.message.clone(),
            span: Some(self.span),
            help: self.help.clone(),
        }
    }

    /// The message, the claim with a caret under the offending part, and the hint.
    pub fn render(&self, text: &str) -> String {
        self.diagnostic().render(text)
    }
}

/// Reads `text` as a claim about `jacobian`: a shape, or an index formula over J's free
/// indices whose tensors are nodes of J's graph or nodes appended to a copy of it (see
/// [`IndexClaim`]). The formula binds like J's own:
/// `Jacobian::new(claim.graph, jacobian.wrt(), claim.formula, &values)`, with `values`
/// the forward evaluation of `claim.graph` at the problem's inputs.
pub fn parse_claim(
    text: &str,
    jacobian: &Jacobian,
    layout: Option<Layout>,
) -> Result<Claim, ClaimError> {
    if is_shape(text) && !is_constant(text, jacobian) {
        return layout::parse_claim(text)
            .map(Claim::Shape)
            .map_err(|e| ClaimError::at(Span::new(0, text.len()), e.to_string()));
    }
    let kind = if is_matrix(text, jacobian) {
        ClaimKind::Matrix
    } else {
        ClaimKind::Index
    };
    let (graph, raw) = match kind {
        ClaimKind::Matrix => matrix::read_matrix(text, jacobian, layout)?,
        ClaimKind::Index => read_formula(text, jacobian)?,
    };
    Ok(Claim::Index(IndexClaim {
        text: text.to_string(),
        kind,
        graph,
        formula: simplify(&raw),
    }))
}

/// Whether `text` (not a shape) is a matrix claim about `jacobian`: J has axes, and the
/// claim names something (a number alone is the index formula `0`), indexes nothing (no
/// `[`), has no delta and is an expression of the language (so `exp'(Z1)`, the index
/// formula of a gradient, is not one). An index formula of a J with axes needs an index
/// somewhere, so no index formula is read otherwise.
fn is_matrix(text: &str, jacobian: &Jacobian) -> bool {
    !jacobian.shape().is_empty()
        && text.contains(|c: char| c.is_ascii_alphabetic())
        && !text.contains('[')
        && !text.contains('δ')
        && !text.contains("delta")
        && expr::parse(text).is_ok()
}

/// Whether `text` is a number alone and J a constant (no term of its formula has a
/// factor): then the number is a formula, as J's own is printed.
fn is_constant(text: &str, jacobian: &Jacobian) -> bool {
    text.trim().parse::<f64>().is_ok()
        && jacobian
            .formula()
            .terms
            .iter()
            .all(|t| t.factors.is_empty())
}

/// Whether `text` is a shape claim (see the module documentation).
fn is_shape(text: &str) -> bool {
    let alphabet = |c: char| c.is_ascii_digit() || c.is_whitespace() || "xX×,()[]".contains(c);
    let trimmed = text.trim();
    let empty_brackets = ["()", "[]"].contains(&trimmed.replace(' ', "").as_str());
    text.chars().all(alphabet) && (text.chars().any(|c| c.is_ascii_digit()) || empty_brackets)
}

/// The claim as a formula before simplification, with the graph its tensors read.
fn read_formula(text: &str, jacobian: &Jacobian) -> Result<(Graph, Formula), ClaimError> {
    let mut reader = Reader::new(text, jacobian);
    reader.skip_space();
    if reader.at_end() {
        return Err(ClaimError::at(
            Span::new(0, text.len()),
            "the claim is empty; give a formula such as delta(i,k)*W[j,l] or a shape",
        ));
    }
    let terms = reader.sum()?;
    reader.skip_space();
    if reader.peek() == Some(')') {
        return Err(ClaimError::at(
            reader.char_span(),
            "this ')' has no matching '('",
        ));
    }
    if !reader.at_end() {
        return Err(reader.unexpected("an operator (+ - * /) or the end of the claim"));
    }
    reader.finish(terms)
}

/// A sum of terms as the grammar builds it (a formula's terms over the reader's indices).
type Terms = Vec<Term>;

/// The recursive-descent reader of an index formula, with everything it builds.
struct Reader<'a> {
    text: &'a str,
    pos: usize,
    /// J's formula (its free indices and the tensors it names).
    truth: &'a Formula,
    /// A copy of J's graph, extended with the claim's sub-expressions.
    graph: Graph,
    /// The names the claim may use for nodes (inputs, output, intermediates), as `explain`.
    names: Vec<(String, NodeId)>,
    /// J's free indices, then one per summation the claim writes.
    indices: Vec<IndexVar>,
    /// The range `0..dim` of each index, once known.
    ranges: Vec<Option<usize>>,
    /// Where each summation index is bound (for an index whose range stays unknown).
    bound_at: BTreeMap<IndexId, Span>,
    /// The summation indices in scope, innermost last.
    scope: Vec<(String, IndexId)>,
    /// Every delta read, to learn the range of a summation index only deltas read.
    deltas: Vec<(Slot, Slot)>,
    /// The tensors the claim's factors refer to.
    tensors: Vec<TensorDef>,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str, jacobian: &'a Jacobian) -> Reader<'a> {
        let truth = jacobian.formula();
        let indices: Vec<IndexVar> = truth
            .indices
            .iter()
            .filter(|v| v.role != IndexRole::Summation)
            .cloned()
            .collect();
        let ranges = indices.iter().map(|v| Some(v.dim)).collect();
        Reader {
            text,
            pos: 0,
            truth,
            graph: jacobian.graph().clone(),
            names: named_nodes(truth, jacobian.graph()),
            indices,
            ranges,
            bound_at: BTreeMap::new(),
            scope: Vec::new(),
            deltas: Vec::new(),
            // J's tensors come first, so that the claim's formula names the nodes of J's
            // graph as J's does (its intermediates are numbered from the tensors' nodes).
            tensors: truth.tensors.clone(),
        }
    }

    // ----- the text -----

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// Skips whitespace, then eats `symbol` if it comes next.
    fn eat(&mut self, symbol: &str) -> bool {
        self.skip_space();
        let found = self.rest().starts_with(symbol);
        if found {
            self.pos += symbol.len();
        }
        found
    }

    /// Skips whitespace, then eats whichever of `symbols` comes next.
    fn eat_any(&mut self, symbols: &[&str]) -> bool {
        symbols.iter().any(|s| self.eat(s))
    }

    /// The span of the character at the cursor (empty at the end).
    fn char_span(&self) -> Span {
        let len = self.peek().map_or(0, char::len_utf8);
        Span::new(self.pos, self.pos + len)
    }

    /// Eats `symbol` or fails with an error saying it was expected `after` something.
    fn expect(&mut self, symbol: &str, after: &str) -> Result<(), ClaimError> {
        if self.eat(symbol) {
            return Ok(());
        }
        Err(self.unexpected(&format!("'{symbol}' {after}")))
    }

    /// The error at the cursor when `expected` should come next: "expected `expected`,
    /// found 'W'" or "…, but the claim ends".
    fn unexpected(&self, expected: &str) -> ClaimError {
        let found = match self.peek() {
            Some(c) => format!("found '{}'", expr::diagnostic::escape_char(c)),
            None => "but the claim ends".to_string(),
        };
        ClaimError::at(self.char_span(), format!("expected {expected}, {found}"))
    }

    /// A name at the cursor (`[A-Za-z][A-Za-z0-9_]*`), eaten, with its span.
    fn name(&mut self) -> Option<(&'a str, Span)> {
        self.skip_space();
        let rest = self.rest();
        if !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return None;
        }
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let span = Span::new(self.pos, self.pos + len);
        self.pos += len;
        Some((&rest[..len], span))
    }

    /// An unsigned number at the cursor (`2`, `0.5`, `.5`, `1e-3`), eaten.
    fn number(&mut self) -> Result<Option<(f64, Span)>, ClaimError> {
        self.skip_space();
        let bytes = self.rest().as_bytes();
        let digits = |from: usize| {
            from + bytes[from.min(bytes.len())..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count()
        };
        let mut end = digits(0);
        if bytes.get(end) == Some(&b'.') {
            end = digits(end + 1);
        }
        if end == 0 || (end == 1 && bytes[0] == b'.') {
            return Ok(None);
        }
        if matches!(bytes.get(end), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(bytes.get(end + 1), Some(b'+' | b'-')));
            if bytes.get(end + 1 + sign).is_some_and(u8::is_ascii_digit) {
                end = digits(end + 1 + sign);
            }
        }
        let span = Span::new(self.pos, self.pos + end);
        let text = &self.text[span.start..span.end];
        self.pos += end;
        match text.parse::<f64>() {
            Ok(value) if value.is_finite() => Ok(Some((value, span))),
            _ => Err(ClaimError::at(span, format!("invalid number '{text}'"))),
        }
    }

    /// The byte offset of the `)` matching the `(` at `open`, if there is one.
    fn matching_paren(&self, open: usize) -> Option<usize> {
        let mut depth = 0usize;
        for (offset, c) in self.text[open..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(open + offset);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// The span of the text inside the parentheses starting at the cursor (which must be
    /// at `(`), eaten with them.
    fn parenthesised(&mut self) -> Result<Span, ClaimError> {
        let open = self.pos;
        let close = self
            .matching_paren(open)
            .ok_or_else(|| ClaimError::at(Span::new(open, open + 1), "this '(' is never closed"))?;
        self.pos = close + 1;
        Ok(Span::new(open + 1, close))
    }

    // ----- the grammar -----

    /// `sum := product (('+' | '-' | '−') product)*`
    fn sum(&mut self) -> Result<Terms, ClaimError> {
        let mut terms = self.product()?;
        loop {
            if self.eat("+") {
                terms.extend(self.product()?);
            } else if self.eat_any(&["-", "−"]) {
                terms.extend(negated(self.product()?));
            } else {
                return Ok(terms);
            }
        }
    }

    /// `product := unary (('*' | '·') unary | '/' unary)*`
    fn product(&mut self) -> Result<Terms, ClaimError> {
        let mut terms = self.unary()?;
        loop {
            if self.eat_any(&["*", "·"]) {
                terms = multiplied(&terms, &self.unary()?);
            } else if self.eat("/") {
                self.skip_space();
                let start = self.pos;
                let divisor = self.unary()?;
                let span = Span::new(start, self.pos);
                terms = multiplied(&terms, &self.reciprocal(divisor, span)?);
            } else {
                return Ok(terms);
            }
        }
    }

    /// `unary := ('-' | '−') unary | ('sum_' | 'Σ_') names product | factor`
    fn unary(&mut self) -> Result<Terms, ClaimError> {
        if self.eat_any(&["-", "−"]) {
            return Ok(negated(self.unary()?));
        }
        if self.eat_any(&["sum_", "Σ_"]) {
            let bound = self.summation_names()?;
            let depth = self.scope.len();
            self.scope.extend(bound.iter().cloned());
            let body = self.product();
            self.scope.truncate(depth);
            let ids: Vec<IndexId> = bound.into_iter().map(|(_, id)| id).collect();
            return Ok(body?
                .into_iter()
                .map(|term| Term {
                    sums: [ids.clone(), term.sums].concat(),
                    ..term
                })
                .collect());
        }
        self.factor()
    }

    /// The indices after `sum_`: `m`, `m,n`, `{m,n}`; each a new summation index.
    fn summation_names(&mut self) -> Result<Vec<(String, IndexId)>, ClaimError> {
        let braced = self.rest().starts_with('{');
        self.pos += usize::from(braced);
        let mut bound = Vec::new();
        loop {
            let Some((name, span)) = self.name() else {
                return Err(ClaimError::at(
                    self.char_span(),
                    "expected the name of a summation index after sum_ (sum_m, sum_m,n)",
                ));
            };
            if let Some(free) = self.indices.iter().position(|v| v.name == name)
                && free < self.truth.free().len()
            {
                return Err(ClaimError::at(
                    span,
                    format!(
                        "{name} is one of J's axes ({}); sum over another name",
                        self.axes()
                    ),
                ));
            }
            self.indices.push(IndexVar {
                name: name.to_string(),
                dim: 0,
                role: IndexRole::Summation,
            });
            self.ranges.push(None);
            let id = self.indices.len() - 1;
            self.bound_at.insert(id, span);
            bound.push((name.to_string(), id));
            // A comma continues the list only if a name follows it.
            let save = self.pos;
            if !(self.eat(",")
                && self
                    .rest()
                    .trim_start()
                    .starts_with(|c: char| c.is_ascii_alphabetic()))
            {
                self.pos = save;
                break;
            }
        }
        if braced {
            self.expect("}", "after the summation indices")?;
        }
        Ok(bound)
    }

    /// A number, a delta, a parenthesised group or expression, or a tensor.
    fn factor(&mut self) -> Result<Terms, ClaimError> {
        if let Some((value, _)) = self.number()? {
            return Ok(constant(value));
        }
        self.skip_space();
        let start = self.pos;
        if self.rest().starts_with('(') {
            let inner = self.parenthesised()?;
            if self.transposes() {
                let node = self.subexpression(Span::new(start, self.pos))?;
                return self.tensor(TensorDef::Node(node), Span::new(start, self.pos));
            }
            self.skip_space();
            if self.rest().starts_with('[') {
                let node = self.subexpression(inner)?;
                return self.tensor(TensorDef::Node(node), Span::new(start, self.pos));
            }
            return self.group(inner);
        }
        if self.eat("δ") {
            return self.delta();
        }
        let Some((name, span)) = self.name() else {
            return Err(self.unexpected("a factor (a number, a delta, a tensor or '(')"));
        };
        if self.rest().starts_with(['\'', '′']) {
            self.pos += self.peek().map_or(0, char::len_utf8);
            return self.derivative(name, span);
        }
        let call = self.rest().trim_start().starts_with('(');
        if name == "delta" && call {
            return self.delta();
        }
        let args = if call {
            self.skip_space();
            Some(self.parenthesised()?)
        } else {
            None
        };
        let def = if self.transposes() {
            TensorDef::Node(self.subexpression(Span::new(start, self.pos))?)
        } else if let Some(args) = args {
            self.call(name, span, args)?
        } else {
            TensorDef::Node(self.node_named(name, span)?)
        };
        self.tensor(def, Span::new(start, self.pos))
    }

    /// Eats every `.T` that comes next (`inv(X).T`, `W.T.T`); true if there was one. The
    /// transposed tensor is then an expression of the language, up to the last `.T`.
    fn transposes(&mut self) -> bool {
        let mut found = false;
        while let Some(after) = self.rest().strip_prefix(".T") {
            if after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                break;
            }
            self.pos += 2;
            found = true;
        }
        found
    }

    /// The rest of `(sum)` once its inside is known: the inside read as a claim.
    fn group(&mut self, inner: Span) -> Result<Terms, ClaimError> {
        let after = self.pos;
        self.pos = inner.start;
        let terms = self.sum()?;
        self.skip_space();
        if self.pos != inner.end {
            return Err(self.unexpected("an operator (+ - * /) or ')'"));
        }
        self.pos = after;
        Ok(terms)
    }

    /// The rest of `delta(a,b)` / `δ(a,b)` after the name.
    fn delta(&mut self) -> Result<Terms, ClaimError> {
        self.expect("(", "after delta")?;
        let a = self.slot(None)?;
        self.expect(",", "between the two indices of a delta")?;
        let b = self.slot(None)?;
        self.expect(")", "after the two indices of a delta")?;
        self.deltas.push((a, b));
        Ok(vec![Term {
            coeff: 1.0,
            sums: vec![],
            factors: vec![Factor::Delta(a, b)],
        }])
    }

    /// The rest of `f′(EXPR)[…]` or `f′′(EXPR)[…]` after `f` and the first prime: f′ (or
    /// f″) of the expression's value.
    fn derivative(&mut self, name: &str, span: Span) -> Result<Terms, ClaimError> {
        let second = self.rest().starts_with(['\'', '′']);
        if second {
            self.pos += self.peek().map_or(0, char::len_utf8);
        }
        let func = ElemFn::from_name(name).ok_or_else(|| {
            let known: Vec<&str> = ElemFn::ALL.iter().map(|f| f.name()).collect();
            ClaimError::at(
                span,
                format!(
                    "{name}′ is not the derivative of an elementwise function ({})",
                    known.join(", ")
                ),
            )
        })?;
        self.skip_space();
        if !self.rest().starts_with('(') {
            return Err(self.unexpected(&format!("'(' after {name}′, as in {name}'(Z1)[i,j]")));
        }
        let inner = self.parenthesised()?;
        let arg = self.subexpression(inner)?;
        let def = match second {
            false => TensorDef::ElemDeriv { func, arg },
            true => TensorDef::ElemSecondDeriv { func, arg },
        };
        self.tensor(def, Span::new(span.start, self.pos))
    }

    /// The tensor a call `name(args)` stands for: a derived tensor of J's formula
    /// (`softmax(Z1)`, `centered(X)`, `inv(X)` as J's formula uses them), else the value
    /// of the call in the language.
    fn call(&mut self, name: &str, name_span: Span, args: Span) -> Result<TensorDef, ClaimError> {
        let whole = Span::new(name_span.start, args.end + 1);
        let derived = ["softmax", "centered", "inv"].contains(&name)
            && !self.text[args.start..args.end].contains(',');
        if derived {
            let arg = self.subexpression(args)?;
            let mut known: Vec<&TensorDef> = Vec::new();
            for def in &self.truth.tensors {
                let same = match *def {
                    TensorDef::Softmax { arg: a, .. } => name == "softmax" && a == arg,
                    TensorDef::Centered { arg: a, .. } => name == "centered" && a == arg,
                    TensorDef::Inverse { arg: a } => name == "inv" && a == arg,
                    _ => false,
                };
                if same && !known.contains(&def) {
                    known.push(def);
                }
            }
            match known[..] {
                [def] => return Ok(def.clone()),
                [] => {}
                _ => {
                    return Err(ClaimError::at(
                        whole,
                        format!(
                            "{} is ambiguous: J's formula takes it over different axes; \
                             write the expression instead",
                            &self.text[whole.start..whole.end]
                        ),
                    ));
                }
            }
            if name == "centered" {
                return Err(ClaimError::at(
                    whole,
                    "centered(…) is only known as J's formula uses it; write the expression \
                     instead, e.g. (X - mean(X, axis=0))",
                ));
            }
        }
        Ok(TensorDef::Node(self.subexpression(whole)?))
    }

    /// `tensor := ('[' slot (',' slot)* ']')? power?` after a tensor's name: checks the
    /// number of axes and each index's range.
    fn tensor(&mut self, def: TensorDef, name: Span) -> Result<Terms, ClaimError> {
        let shape = self.graph.node(def.node()).shape.clone();
        let text = self.text;
        let mut slots = Vec::new();
        self.skip_space();
        let start = self.pos;
        if self.rest().starts_with('[') {
            self.pos += 1;
            loop {
                let axis = slots.len();
                let dim = shape.dims().get(axis).copied();
                slots.push(self.slot(dim.map(|d| (d, &text[name.start..name.end], axis)))?);
                if !self.eat(",") {
                    break;
                }
            }
            self.expect("]", "after the indices of a tensor")?;
        }
        if slots.len() != shape.rank() {
            let text = &self.text[name.start..name.end];
            let span = if slots.is_empty() {
                name
            } else {
                Span::new(start, self.pos)
            };
            return Err(ClaimError::at(
                span,
                format!(
                    "{text} has {} ({shape}) but is read at {} {}",
                    axes_phrase(shape.rank()),
                    slots.len(),
                    if slots.len() == 1 { "index" } else { "indices" }
                ),
            ));
        }
        let def = self.power(def, Span::new(name.start, self.pos))?;
        let tensor = self.tensor_id(def);
        Ok(vec![Term {
            coeff: 1.0,
            sums: vec![],
            factors: vec![Factor::Tensor { tensor, slots }],
        }])
    }

    /// `power := '^' signed-number | '^(' signed-number ')' | superscripts`, if present:
    /// `def` (a node's value) raised to it.
    fn power(&mut self, def: TensorDef, tensor: Span) -> Result<TensorDef, ClaimError> {
        let exponent = if self.eat("^") {
            let parenthesised = self.eat("(");
            let negative = self.eat_any(&["-", "−"]);
            let Some((value, _)) = self.number()? else {
                return Err(self.unexpected("a number after '^', as in Z1[i,j]^-2"));
            };
            if parenthesised {
                self.expect(")", "after the exponent")?;
            }
            if negative { -value } else { value }
        } else {
            match self.superscripts() {
                Some(value) => value,
                None => return Ok(def),
            }
        };
        let span = Span::new(tensor.start, self.pos);
        raised(def, exponent).ok_or_else(|| {
            ClaimError::at(
                span,
                "only a node's value can be raised to a power (Z1[i,j]⁻², W[j,l]^2)",
            )
        })
    }

    /// An exponent written in superscripts (`⁻²`, `¹`), eaten, if one comes next.
    fn superscripts(&mut self) -> Option<f64> {
        const DIGITS: &str = "⁰¹²³⁴⁵⁶⁷⁸⁹";
        let rest = self.rest();
        let negative = rest.starts_with('⁻');
        let body = if negative {
            &rest['⁻'.len_utf8()..]
        } else {
            rest
        };
        let mut value = 0.0;
        let mut len = 0;
        for c in body.chars() {
            let Some(digit) = DIGITS.chars().position(|d| d == c) else {
                break;
            };
            value = value * 10.0 + digit as f64;
            len += c.len_utf8();
        }
        if len == 0 {
            return None;
        }
        self.pos += len + if negative { '⁻'.len_utf8() } else { 0 };
        Some(if negative { -value } else { value })
    }

    /// `slot := index | integer`. With `axis` (its range, the tensor's text and the axis
    /// number), the slot indexes that axis of a tensor: its range is checked or learnt.
    fn slot(&mut self, axis: Option<(usize, &str, usize)>) -> Result<Slot, ClaimError> {
        if let Some((value, span)) = self.number()? {
            if value.fract() != 0.0 || value < 0.0 {
                return Err(ClaimError::at(span, "a fixed position is a whole number"));
            }
            let position = value as usize;
            if let Some((dim, tensor, n)) = axis
                && position >= dim
            {
                return Err(ClaimError::at(
                    span,
                    format!(
                        "position {position} is out of range: axis {n} of {tensor} has {dim} entries"
                    ),
                ));
            }
            return Ok(Slot::Fixed(position));
        }
        let Some((name, span)) = self.name() else {
            return Err(self.unexpected("an index"));
        };
        let id = self.index(name, span)?;
        if let Some((dim, tensor, n)) = axis {
            self.learn_range(id, dim, span, tensor, n)?;
        }
        Ok(Slot::Index(id))
    }

    /// The index variable `name` stands for: the innermost summation of that name, else
    /// one of J's axes.
    fn index(&self, name: &str, span: Span) -> Result<IndexId, ClaimError> {
        let bound = self.scope.iter().rev().find(|(n, _)| n == name);
        let free = self.truth.free().len();
        let axis = self.indices[..free].iter().position(|v| v.name == name);
        bound.map(|&(_, id)| id).or(axis).ok_or_else(|| ClaimError {
            message: format!(
                "index {name} is neither one of J's axes ({}) nor summed",
                self.axes()
            ),
            span,
            help: Some(format!(
                "sum over it with sum_{name} (Σ_{name}) before the term"
            )),
        })
    }

    /// Records that index `id`, read at `span`, indexes axis `n` of `tensor` (of range
    /// `dim`); an error if it is known to range over something else.
    fn learn_range(
        &mut self,
        id: IndexId,
        dim: usize,
        span: Span,
        tensor: &str,
        n: usize,
    ) -> Result<(), ClaimError> {
        let known = match self.ranges[id] {
            None => {
                self.ranges[id] = Some(dim);
                return Ok(());
            }
            Some(known) if known == dim => return Ok(()),
            Some(known) => known,
        };
        let name = &self.indices[id].name;
        let earlier = if id < self.truth.free().len() {
            format!("{name} is an axis of J of range {known}")
        } else {
            format!("{name} already ranges over {known} in this claim")
        };
        Err(ClaimError::at(
            span,
            format!("{earlier}, but axis {n} of {tensor} has {dim} entries"),
        ))
    }

    /// The node a name stands for, or an error listing the names the claim may use.
    fn node_named(&self, name: &str, span: Span) -> Result<NodeId, ClaimError> {
        if let Some((_, node)) = self.names.iter().find(|(n, _)| n == name) {
            return Ok(*node);
        }
        let mut known = Vec::new();
        for (n, node) in &self.names {
            let text = match self.graph.node(*node).op {
                expr::Op::Input(_) => n.clone(),
                _ if *node == self.graph.root => format!("{n} (the output)"),
                _ => format!("{n} = {}", self.graph.text(*node)),
            };
            known.push(text);
        }
        Err(ClaimError::at(
            span,
            format!(
                "unknown name {name}: the claim can use {}",
                known.join(", ")
            ),
        ))
    }

    /// J's axis names, for messages: `i, j, k, l`.
    fn axes(&self) -> String {
        let names = self.truth.axis_names();
        if names.is_empty() {
            "none: J is a scalar".to_string()
        } else {
            names.join(", ")
        }
    }

    /// The node of the expression of the language at `span` of the claim, compiled with
    /// the shapes of the nodes the claim may name and appended to the graph (an existing
    /// node with the same operation is reused).
    fn subexpression(&mut self, span: Span) -> Result<NodeId, ClaimError> {
        let sub = self.compiled(span)?;
        Ok(self.graft(&sub)[sub.root])
    }

    /// The expression of the language at `span` of the claim, compiled with the shapes of
    /// the nodes the claim may name, on its own (its spans count from `span.start`).
    fn compiled(&mut self, span: Span) -> Result<Graph, ClaimError> {
        let source = &self.text[span.start..span.end];
        let shift = |s: Span| Span::new(s.start + span.start, s.end + span.start);
        let located = |d: Diagnostic| ClaimError {
            message: d.message,
            span: d.span.map_or(span, shift),
            help: d.help,
        };
        let parsed = expr::parse(source).map_err(located)?;
        for (name, at) in parsed.variable_occurrences() {
            self.node_named(name, shift(at))?;
        }
        let shapes: BTreeMap<String, Shape> = self
            .names
            .iter()
            .map(|(name, node)| (name.clone(), self.graph.node(*node).shape.clone()))
            .collect();
        expr::build_graph(&parsed, source, &shapes).map_err(located)
    }

    /// Appends the nodes of `sub` to the graph, its inputs read as the named nodes, each
    /// node reusing an existing one with the same operation and shape; returns the node each
    /// node of `sub` became. The appended nodes' spans read `sub`'s text, appended to the
    /// graph's source on a line of its own.
    fn graft(&mut self, sub: &Graph) -> Vec<NodeId> {
        let mut ids: Vec<NodeId> = Vec::with_capacity(sub.nodes.len());
        let mut offset = None;
        for node in &sub.nodes {
            let id = match &node.op {
                expr::Op::Input(name) => {
                    let (_, id) = self
                        .names
                        .iter()
                        .find(|(n, _)| n == name)
                        .expect("every name was checked");
                    *id
                }
                op => {
                    let op = op.map_operands(|operand| ids[operand]);
                    let existing = self
                        .graph
                        .nodes
                        .iter()
                        .position(|n| n.op == op && n.shape == node.shape);
                    existing.unwrap_or_else(|| {
                        let offset = *offset.get_or_insert_with(|| {
                            self.graph.source.push('\n');
                            let at = self.graph.source.len();
                            self.graph.source.push_str(&sub.source);
                            at
                        });
                        self.graph.nodes.push(Node {
                            op,
                            shape: node.shape.clone(),
                            span: Span::new(node.span.start + offset, node.span.end + offset),
                        });
                        self.graph.nodes.len() - 1
                    })
                }
            };
            ids.push(id);
        }
        ids
    }

    /// `1 / divisor` for a divisor of one term without sums and deltas: the reciprocal of
    /// its coefficient times each of its tensors to the power −1.
    fn reciprocal(&mut self, divisor: Terms, span: Span) -> Result<Terms, ClaimError> {
        let error = |message: &str| ClaimError::at(span, message);
        let [term] = &divisor[..] else {
            return Err(error("divide by a number or a tensor, not by a sum"));
        };
        if !term.sums.is_empty() {
            return Err(error("divide by a number or a tensor, not by a summation"));
        }
        if term.coeff == 0.0 {
            return Err(error("division by zero"));
        }
        let mut factors = Vec::new();
        for factor in &term.factors {
            let Factor::Tensor { tensor, slots } = factor else {
                return Err(error(
                    "do not divide by a delta: it is zero off its diagonal",
                ));
            };
            let def = raised(self.tensors[*tensor].clone(), -1.0).ok_or_else(|| {
                error("divide only by a node's value (W[j,l], Z1[i,j]) or a power of one")
            })?;
            factors.push(Factor::Tensor {
                tensor: self.tensor_id(def),
                slots: slots.clone(),
            });
        }
        Ok(vec![Term {
            coeff: 1.0 / term.coeff,
            sums: vec![],
            factors,
        }])
    }

    /// The id of `def` among the claim's tensors, added if new.
    fn tensor_id(&mut self, def: TensorDef) -> usize {
        intern_tensor(&mut self.tensors, def)
    }

    /// The claim's graph and formula from its terms: J's free indices, then the summation
    /// indices with their ranges learnt from the tensors or, failing that, from the deltas.
    fn finish(mut self, terms: Terms) -> Result<(Graph, Formula), ClaimError> {
        let mut learnt = true;
        while learnt {
            learnt = false;
            for &(a, b) in &self.deltas {
                let (Slot::Index(x), Slot::Index(y)) = (a, b) else {
                    continue;
                };
                match (self.ranges[x], self.ranges[y]) {
                    (None, Some(range)) => self.ranges[x] = Some(range),
                    (Some(range), None) => self.ranges[y] = Some(range),
                    _ => continue,
                }
                learnt = true;
            }
        }
        for (id, var) in self.indices.iter_mut().enumerate() {
            let Some(range) = self.ranges[id] else {
                return Err(ClaimError::at(
                    self.bound_at[&id],
                    format!(
                        "the range of {} is not known: read a tensor at it",
                        var.name
                    ),
                ));
            };
            var.dim = range;
        }
        debug_assert!(
            self.truth
                .free()
                .iter()
                .all(|&id| id < self.truth.free().len()),
            "J's free indices come first"
        );
        let formula = Formula {
            indices: self.indices,
            out: self.truth.out.clone(),
            input: self.truth.input.clone(),
            tensors: self.tensors,
            terms,
        };
        Ok((self.graph, formula))
    }
}

/// `def` raised to `exponent`, if `def` is a node's value or a power of one.
fn raised(def: TensorDef, exponent: f64) -> Option<TensorDef> {
    match def {
        TensorDef::Node(arg) => Some(TensorDef::Power { arg, exponent }),
        TensorDef::Power { arg, exponent: p } => Some(TensorDef::Power {
            arg,
            exponent: p * exponent,
        }),
        _ => None,
    }
}

/// "2 axes", "1 axis", "no axes".
fn axes_phrase(rank: usize) -> String {
    match rank {
        0 => "no axes".to_string(),
        1 => "1 axis".to_string(),
        n => format!("{n} axes"),
    }
}

/// The constant `value` as a sum of one term.
fn constant(value: f64) -> Terms {
    vec![Term {
        coeff: value,
        sums: vec![],
        factors: vec![],
    }]
}

/// `−terms`.
fn negated(terms: Terms) -> Terms {
    terms
        .into_iter()
        .map(|term| Term {
            coeff: -term.coeff,
            ..term
        })
        .collect()
}

/// The product of two sums, expanded: every term of `a` times every term of `b`.
fn multiplied(a: &[Term], b: &[Term]) -> Terms {
    a.iter()
        .flat_map(|x| {
            b.iter().map(move |y| Term {
                coeff: x.coeff * y.coeff,
                sums: [x.sums.clone(), y.sums.clone()].concat(),
                factors: [x.factors.clone(), y.factors.clone()].concat(),
            })
        })
        .collect()
}

mod matrix;

#[cfg(test)]
mod tests;
