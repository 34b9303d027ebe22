//! A problem: an expression with its inputs bound and its Jacobian derived, built from the
//! options shared by every subcommand and the interactive view.
//!
//! This is the one place where text, shapes, files and seed become a [`Jacobian`]; the CLI
//! printers and the TUI both start here, so they always show the same numbers.

use std::collections::BTreeMap;

use crate::calculus;
use crate::error::Error;
use crate::eval::{self, Values};
use crate::expr::{self, Graph, NodeId, Shape};
use crate::inputs::{self, Inputs, LoadArg};
use crate::jacobian::Jacobian;

/// The expression opened when none is given: a linear layer on a batch of 64.
pub const DEFAULT_EXPRESSION: &str = "X @ W.T";

/// The shapes of [`DEFAULT_EXPRESSION`]'s inputs.
pub const DEFAULT_SHAPES: [(&str, &str); 2] = [("X", "64x1024"), ("W", "512x1024")];

/// What the user asked for, before anything is checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ProblemSpec {
    /// The expression text.
    pub expression: String,
    /// `-s NAME=SHAPE` arguments, as typed.
    pub shapes: Vec<String>,
    /// `-l NAME=FILE.npy` / `-l FILE.npz` arguments, as typed.
    pub loads: Vec<String>,
    /// `--wrt NAME`, if given.
    pub wrt: Option<String>,
    /// `--seed N`.
    pub seed: u64,
}

impl ProblemSpec {
    /// The spec of the default example; `extra_shapes` are added after its own shapes, so
    /// they override them.
    pub fn default_example(extra_shapes: &[String], seed: u64) -> Self {
        let mut shapes: Vec<String> = DEFAULT_SHAPES
            .iter()
            .map(|(name, shape)| format!("{name}={shape}"))
            .collect();
        shapes.extend_from_slice(extra_shapes);
        ProblemSpec {
            expression: DEFAULT_EXPRESSION.to_string(),
            shapes,
            loads: Vec::new(),
            wrt: None,
            seed,
        }
    }
}

/// A checked problem: graph, inputs, forward values and the Jacobian with respect to `wrt`.
pub struct Problem {
    /// What was asked.
    pub spec: ProblemSpec,
    /// The values of the input variables.
    pub inputs: Inputs,
    /// The forward value of every node.
    pub values: Values,
    /// The Jacobian ∂Y/∂wrt, ready to evaluate.
    pub jacobian: Jacobian,
}

impl Problem {
    /// Parses, shape-checks, loads or draws the inputs, evaluates, and derives.
    pub fn build(spec: ProblemSpec) -> Result<Problem, Error> {
        let source = spec.expression.as_str();
        let expression_error = |diagnostic| Error::Expression {
            text: source.to_string(),
            diagnostic,
        };
        let ast = expr::parse(source).map_err(expression_error)?;
        let variables = ast.variables();
        let variable_names: Vec<&str> = variables.iter().map(String::as_str).collect();

        let explicit = parse_shape_args(&spec.shapes)?;
        let loads = spec
            .loads
            .iter()
            .map(|text| inputs::parse_load_arg(text))
            .collect::<Result<Vec<LoadArg>, _>>()?;
        let loaded = inputs::load_arrays(&loads, &variable_names)?;
        let shapes = inputs::merge_shapes(&explicit, &loaded)?;

        let graph =
            expr::typecheck::build_graph(&ast, source, &shapes).map_err(expression_error)?;
        let wrt = match &spec.wrt {
            Some(name) => expr::typecheck::check_wrt(&graph, name).map_err(expression_error)?,
            None => first_variable(&graph).map_err(expression_error)?,
        };
        let inputs = Inputs::new(&graph, loaded, spec.seed)?;
        let values = eval::evaluate(&graph, &inputs)?;
        let formula = calculus::jacobian_formula(&graph, wrt);
        let jacobian = Jacobian::new(graph, wrt, formula, &values)?;
        Ok(Problem {
            spec,
            inputs,
            values,
            jacobian,
        })
    }

    /// The expression's graph.
    pub fn graph(&self) -> &Graph {
        self.jacobian.graph()
    }

    /// The name of the variable J differentiates with respect to.
    pub fn wrt_name(&self) -> &str {
        match &self.graph().node(self.jacobian.wrt()).op {
            expr::Op::Input(name) => name,
            _ => unreachable!("wrt is always an input node"),
        }
    }
}

/// The first variable of the expression (the default `--wrt`).
fn first_variable(graph: &Graph) -> Result<NodeId, expr::Diagnostic> {
    let first = graph.variables().first().map(|name| name.to_string());
    match first {
        Some(name) => expr::typecheck::check_wrt(graph, &name),
        None => Err(expr::Diagnostic::whole(
            "the expression has no variables, so there is nothing to differentiate",
        )),
    }
}

/// Parses `-s NAME=SHAPE` arguments; a later one for the same name wins.
pub fn parse_shape_args(args: &[String]) -> Result<BTreeMap<String, Shape>, Error> {
    let mut shapes = BTreeMap::new();
    for arg in args {
        let (name, shape) = arg.split_once('=').ok_or_else(|| {
            Error::Usage(format!(
                "-s expects NAME=SHAPE (e.g. -s X=64x1024), got '{arg}'"
            ))
        })?;
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::Usage(format!("-s '{arg}' has no variable name")));
        }
        let shape = expr::shape::parse_shape(shape)
            .map_err(|why| Error::Usage(format!("-s {arg}: {why}")))?;
        shapes.insert(name.to_string(), shape);
    }
    Ok(shapes)
}
