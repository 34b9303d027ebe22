//! `jacscope explain`: the formula, the derivation steps like a worked answer, and the
//! sparsity summary.

use std::io::Write;

use serde_json::json;

use super::{emit, emit_json, json_count};
use crate::calculus::formula::entry_count;
use crate::calculus::render::{Notation, Symbols, definitions, node_name, render};
use crate::emit::{Framework, python};
use crate::error::Error;
use crate::inputs::Inputs;
use crate::layout::matrix_expression::{self, MatrixExpression};
use crate::layout::matrix_form::{self, MatrixForms, matrix_forms};
use crate::numfmt;
use crate::problem::Problem;

/// Prints the explanation of `problem` as text or JSON.
pub fn run(
    problem: &Problem,
    json: bool,
    notation: Notation,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let jacobian = &problem.jacobian;
    let graph = jacobian.graph();
    let formula = jacobian.formula();
    let overview = problem.overview(notation);
    let steps = problem.derivation_steps();
    let forms = matrix_forms(jacobian);
    let forms_checked = matrix_form::checked_at_this_size(graph);
    let shape = jacobian.shape();
    let expression_wanted =
        shape.len() <= 2 && entry_count(shape) <= matrix_expression::MAX_CHECKED_ENTRIES;
    let second = if expression_wanted || (forms.is_some() && forms_checked) {
        problem.second_draw()?
    } else {
        None
    };
    let draws: Vec<&Inputs> = std::iter::once(&problem.inputs).chain(&second).collect();
    let forms = if forms_checked {
        forms.and_then(|f| f.checked(jacobian, &draws))
    } else {
        forms
    };
    let expression = textbook_form(problem, expression_wanted, &draws);

    if json {
        let steps: Vec<_> = steps
            .iter()
            .map(|s| json!({"title": s.title, "unicode": s.unicode, "ascii": s.ascii, "latex": s.latex}))
            .collect();
        let value = json!({
            "expression": graph.source,
            "wrt": problem.wrt_name(),
            "shape": overview.shape,
            "axes": overview.axis_names,
            "entries": json_count(overview.entries),
            "structural_nonzeros": json_count(overview.structural),
            "where_nonzero": overview.support_sentence(),
            "formula": {
                "unicode": render(formula, graph, Notation::Unicode),
                "ascii": render(formula, graph, Notation::Ascii),
                "latex": render(formula, graph, Notation::Latex),
            },
            "definitions": definitions(formula, graph)
                .into_iter()
                .map(|(name, text)| json!({"name": name, "expression": text}))
                .collect::<Vec<_>>(),
            "steps": steps,
            "matrix_form": matrix_form_json(forms.as_ref(), forms_checked, expression.as_ref()),
        });
        return emit_json(out, &value);
    }

    let inputs: Vec<String> = graph
        .variables()
        .iter()
        .map(|name| {
            let shape = &graph
                .node(graph.input(name).expect("variables are inputs"))
                .shape;
            match notation {
                Notation::Ascii => format!("{name} {}", shape.to_ascii()),
                _ => format!("{name} {shape}"),
            }
        })
        .collect();
    emit(
        out,
        &format!(
            "Y = {}   with {}; differentiating with respect to {}",
            graph.source,
            inputs.join(", "),
            problem.wrt_name().replace(',', ", then ")
        ),
    )?;
    emit(
        out,
        &format!(
            "J = {} has shape {} ({}): {} entries",
            j_name(problem, notation),
            overview.shape_text(),
            layout_words(problem),
            overview.entries_text(),
        ),
    )?;
    emit(out, "")?;
    for (number, step) in steps.iter().enumerate() {
        let body = match notation {
            Notation::Ascii => &step.ascii,
            _ => &step.unicode,
        };
        emit(out, &format!("{}. {}", number + 1, step.title))?;
        for line in body.lines() {
            emit(out, &format!("     {line}"))?;
        }
    }
    emit(out, "")?;
    emit(
        out,
        &format!("{} = {}", overview.lhs, render(formula, graph, notation)),
    )?;
    for (name, text) in definitions(formula, graph) {
        emit(out, &format!("  where {name} = {text}"))?;
    }
    emit(
        out,
        &format!(
            "Structural nonzeros: {} of {} ({})",
            numfmt::grouped(overview.structural),
            overview.entries_text(),
            numfmt::percent(overview.density())
        ),
    )?;
    emit(out, &format!("Where: {}", overview.support_sentence()))?;
    emit(out, &matrix_form_line(problem, forms.as_ref(), notation))?;
    for note in forms.iter().flat_map(|f| f.notes(notation)) {
        emit(out, &format!("  where {note}"))?;
    }
    if let Some(f) = &forms {
        for line in form_expression_lines(f, forms_checked) {
            emit(out, &line)?;
        }
    }
    if let Some(found) = &expression {
        for line in expression_lines(problem, found.as_ref(), notation) {
            emit(out, &line)?;
        }
    }
    emit(
        out,
        &format!("ASCII: {}", render(formula, graph, Notation::Ascii)),
    )?;
    emit(
        out,
        &format!("LaTeX: {}", render(formula, graph, Notation::Latex)),
    )
}

/// J's name without indices: `∂Y/∂X`, at second order `∂²Y/∂X∂W` (LaTeX
/// `\frac{\partial^2 Y}{\partial X \partial W}`).
fn j_name(problem: &Problem, notation: Notation) -> String {
    let jacobian = &problem.jacobian;
    let name = |node| node_name(jacobian.formula(), jacobian.graph(), node, notation);
    let d = Symbols::of(notation).partial;
    let (y, x) = (name(jacobian.graph().root), name(jacobian.wrt()));
    match (jacobian.second(), notation) {
        (None, Notation::Latex) => format!("\\frac{{{d} {y}}}{{{d} {x}}}"),
        (None, _) => format!("{d}{y}/{d}{x}"),
        (Some(b), Notation::Latex) => {
            format!("\\frac{{{d}^2 {y}}}{{{d} {x} {d} {}}}", name(b))
        }
        (Some(b), Notation::Ascii) => format!("{d}^2{y}/{d}{x}{d}{}", name(b)),
        (Some(b), Notation::Unicode) => format!("{d}²{y}/{d}{x}{d}{}", name(b)),
    }
}

/// How J's axes are laid out: `out.shape + in.shape`, at second order
/// `out.shape + X.shape + W.shape`.
fn layout_words(problem: &Problem) -> String {
    match problem.jacobian.wrt_name().split_once(',') {
        None => "out.shape + in.shape".to_string(),
        Some((a, b)) => format!("out.shape + {a}.shape + {b}.shape"),
    }
}

/// `Matrix form ∂vec(Y)/∂vec(X)ᵀ: W ⊗ I₆₄ (column-major vec), I₆₄ ⊗ W (row-major vec_r)`,
/// or that there is none.
fn matrix_form_line(problem: &Problem, forms: Option<&MatrixForms>, notation: Notation) -> String {
    let jacobian = &problem.jacobian;
    let (formula, graph) = (jacobian.formula(), jacobian.graph());
    let name = |node| node_name(formula, graph, node, notation);
    let symbols = Symbols::of(notation);
    let (d, t) = (symbols.partial, symbols.transpose);
    // At second order the rows are ∂Y/∂A's entries and the columns B's.
    let (y, x) = match jacobian.second() {
        None => (name(graph.root), name(jacobian.wrt())),
        Some(b) => (
            format!("{d}{}/{d}{}", name(graph.root), name(jacobian.wrt())),
            name(b),
        ),
    };
    let head = format!("Matrix form {d}vec({y})/{d}vec({x}){t}");
    match forms {
        Some(f) => format!(
            "{head}: {} (column-major vec), {} (row-major vec_r)",
            f.colmajor.render(notation),
            f.rowmajor.render(notation)
        ),
        None => format!("{head}: no Kronecker form"),
    }
}

/// `  as an expression (column-major: --layout numerator-colmajor): kron(W, eye(64))`, and
/// the row-major one: the Kronecker forms in the language, to paste as a matrix claim; or
/// that they have none.
fn form_expression_lines(forms: &MatrixForms, checked: bool) -> Vec<String> {
    let orders = [
        (
            "column-major",
            "numerator-colmajor",
            &forms.colmajor_expression,
        ),
        (
            "row-major",
            "numerator-rowmajor",
            &forms.rowmajor_expression,
        ),
    ];
    let unchecked = if checked {
        String::new()
    } else {
        format!(
            " (not checked: the expression's values have more than {} entries)",
            numfmt::grouped(matrix_form::MAX_CHECKED_VALUES as u128)
        )
    };
    let lines: Vec<String> = orders
        .iter()
        .filter_map(|(order, layout, text)| {
            let text = text.as_ref()?;
            Some(format!(
                "  as an expression ({order}: --layout {layout}): {text}{unchecked}"
            ))
        })
        .collect();
    if lines.is_empty() {
        vec![
            "  as an expression: none (the language has no commutation matrix, vec or vector \
             of ones, and kron takes matrices only)"
                .to_string(),
        ]
    } else {
        lines
    }
}

/// For a J of rank ≤ 2, its matrix expression if one is found and holds (checked as
/// `check --claim` checks one, at each of `draws`), else `Some(None)` (also when it is not
/// `wanted`: J has too many entries to check it); `None` for a J of higher rank.
fn textbook_form(
    problem: &Problem,
    wanted: bool,
    draws: &[&Inputs],
) -> Option<Option<MatrixExpression>> {
    if problem.jacobian.shape().len() > 2 {
        return None;
    }
    Some(
        wanted
            .then(|| matrix_expression::verified(&problem.jacobian, draws))
            .flatten(),
    )
}

/// The `matrix_form` object of the JSON document: the Kronecker forms (`colmajor`,
/// `rowmajor`, `notes`, the forms in the language `colmajor_expression` and
/// `rowmajor_expression`, null where there is none, and whether these were `checked` as
/// claims before they were printed) where there are some, and for a J of rank ≤ 2 its
/// matrix expression (`expression` in the language, `unicode`, `latex`; null where none was
/// found); null when neither applies.
fn matrix_form_json(
    forms: Option<&MatrixForms>,
    forms_checked: bool,
    expression: Option<&Option<MatrixExpression>>,
) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    if let Some(f) = forms {
        object.insert(
            "colmajor".into(),
            json!(f.colmajor.render(Notation::Unicode)),
        );
        object.insert(
            "rowmajor".into(),
            json!(f.rowmajor.render(Notation::Unicode)),
        );
        object.insert("notes".into(), json!(f.notes(Notation::Unicode)));
        object.insert("colmajor_expression".into(), json!(f.colmajor_expression));
        object.insert("rowmajor_expression".into(), json!(f.rowmajor_expression));
        object.insert("checked".into(), json!(forms_checked));
    }
    if let Some(found) = expression {
        let text = |n| found.as_ref().map(|m| m.get(n).to_string());
        object.insert("expression".into(), json!(text(Notation::Ascii)));
        object.insert("unicode".into(), json!(text(Notation::Unicode)));
        object.insert("latex".into(), json!(text(Notation::Latex)));
    }
    if object.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::Value::Object(object)
    }
}

/// `Matrix expression ∂Y/∂X = Aᵀ·Bᵀ`, then the expression in the language and in LaTeX;
/// or that none was found.
fn expression_lines(
    problem: &Problem,
    found: Option<&MatrixExpression>,
    notation: Notation,
) -> Vec<String> {
    let jacobian = &problem.jacobian;
    let head = format!("Matrix expression {}", j_name(problem, notation));
    match found {
        Some(m) => vec![
            format!("{head} = {}", m.get(notation)),
            format!("  as an expression: {}", m.get(Notation::Ascii)),
            format!(
                "  LaTeX: {} = {}",
                j_name(problem, Notation::Latex),
                m.get(Notation::Latex)
            ),
        ],
        None if entry_count(jacobian.shape()) > matrix_expression::MAX_CHECKED_ENTRIES => {
            vec![format!(
                "{head}: not looked for (J has more than {} entries, the most whose matrix \
                 expression is checked before it is printed)",
                numfmt::grouped(matrix_expression::MAX_CHECKED_ENTRIES)
            )]
        }
        None => vec![format!(
            "{head}: none found (a term does not reduce to sums, products, transposes, \
             inverses, traces and diagonals of matrices)"
        )],
    }
}

/// Prints the formula of `problem` as a Python snippet for `framework` (`--emit`), or with
/// `json` one document holding it.
pub fn run_emit(
    problem: &Problem,
    framework: Framework,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let jacobian = &problem.jacobian;
    let code = python(
        jacobian.formula(),
        jacobian.graph(),
        (jacobian.wrt(), jacobian.second()),
        framework,
    )
    .map_err(|e| Error::Usage(e.to_string()))?;
    if json {
        return emit_json(out, &json!({"framework": framework.name(), "code": code}));
    }
    emit(out, code.trim_end())
}
