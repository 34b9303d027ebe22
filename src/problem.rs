//! A problem: an expression with its inputs bound and its Jacobian derived, built from the
//! options shared by every subcommand and the interactive view.
//!
//! This is the one place where text, shapes, files and seed become a [`Jacobian`]; the CLI
//! printers and the TUI both start here, so they always show the same numbers.

use std::collections::BTreeMap;

use ndarray::{ArrayD, IxDyn};

use crate::calculus::{self, Formula, Notation};
use crate::check;
use crate::claim::IndexClaim;
use crate::claim::compare::{self, Comparison, Draw};
use crate::error::Error;
use crate::eval::{self, Values};
use crate::expr::diagnostic::escape_char;
use crate::expr::{self, Graph, NodeId, Op, Shape};
use crate::inputs::{self, Inputs, LoadArg};
use crate::jacobian::{self, Jacobian};
use crate::layout;
use crate::numfmt;
use crate::progress::Progress;
use crate::sparsity::StructuralSupport;

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
    /// `--wrt NAME`, or `--wrt A,B` for the second derivative ∂/∂B of ∂Y/∂A, if given.
    pub wrt: Option<String>,
    /// `--seed N`.
    pub seed: u64,
    /// `--max-memory SIZE` in bytes; `None` for [`default_memory_limit`].
    pub max_memory: Option<u64>,
}

impl ProblemSpec {
    /// The spec of the default example; `extra_shapes` come after its own shapes and
    /// replace those of the same names.
    pub fn default_example(extra_shapes: &[String], seed: u64) -> Self {
        let overridden: Vec<&str> = extra_shapes
            .iter()
            .filter_map(|arg| split_shape_arg(arg).map(|(name, _)| name))
            .collect();
        let mut shapes: Vec<String> = DEFAULT_SHAPES
            .iter()
            .filter(|(name, _)| !overridden.contains(name))
            .map(|(name, shape)| format!("{name}={shape}"))
            .collect();
        shapes.extend_from_slice(extra_shapes);
        ProblemSpec {
            expression: DEFAULT_EXPRESSION.to_string(),
            shapes,
            loads: Vec::new(),
            wrt: None,
            seed,
            max_memory: None,
        }
    }
}

impl ProblemSpec {
    /// This spec asking for the Hessian with respect to the default variable (`--order 2`):
    /// `wrt` becomes `V,V`, V being the first variable of the expression. An expression
    /// that does not parse is left as it is, for [`Problem::prepare`] to point at its error.
    pub fn second_order(self) -> ProblemSpec {
        let first = expr::parse(&self.expression)
            .ok()
            .and_then(|ast| ast.variables().into_iter().next());
        ProblemSpec {
            wrt: first.map(|v| format!("{v},{v}")),
            ..self
        }
    }
}

/// A checked problem: graph, inputs, forward values and the Jacobian with respect to `wrt`.
pub struct Problem {
    /// What was asked.
    pub spec: ProblemSpec,
    /// The values of the input variables.
    pub inputs: Inputs,
    /// The forward values of the evaluated nodes: every node of a small problem, only what
    /// the Jacobian needs of a large one (see [`nodes_to_evaluate`]).
    pub values: Values,
    /// The Jacobian ∂Y/∂wrt, ready to evaluate.
    pub jacobian: Jacobian,
}

impl Problem {
    /// Parses, shape-checks, derives, checks the memory it will need, loads or draws the
    /// inputs, evaluates what the Jacobian needs, and binds it: [`Self::prepare`], then
    /// [`PreparedProblem::evaluate`].
    pub fn build(spec: ProblemSpec) -> Result<Problem, Error> {
        let problem = Problem::build_with_progress(spec, &Progress::new())?;
        Ok(problem.expect("nobody can cancel this progress"))
    }

    /// [`Self::build`] reporting its progress in `progress` and returning `Ok(None)` soon
    /// after `progress` is cancelled; run it off the UI thread and poll `progress` to draw
    /// a bar.
    pub fn build_with_progress(
        spec: ProblemSpec,
        progress: &Progress,
    ) -> Result<Option<Problem>, Error> {
        Problem::prepare(spec)?.evaluate(progress)
    }

    /// Everything that needs no numbers, which is quick at any size: parses, loads the
    /// `-l` files, shape-checks, derives the formula and checks the memory the rest will
    /// need. A view can show the formula, J's shape and its structural sparsity at once
    /// while [`PreparedProblem::evaluate`] runs on another thread.
    pub fn prepare(spec: ProblemSpec) -> Result<PreparedProblem, Error> {
        let (graph, loaded) = typed(&spec)?;
        let limit = spec.max_memory.unwrap_or_else(default_memory_limit);
        let expression_error = |diagnostic| Error::Expression {
            text: spec.expression.clone(),
            diagnostic,
        };
        let (wrt, second) = wrt_nodes(&graph, spec.wrt.as_deref()).map_err(expression_error)?;
        let formula = match second {
            None => calculus::jacobian_formula_within(&graph, wrt, calculus::MAX_TERMS)?,
            Some(b) => calculus::second_formula_within(&graph, (wrt, b), calculus::MAX_TERMS)?,
        };
        check_memory(&graph, wrt, &formula, limit)?;
        Ok(PreparedProblem {
            spec,
            graph,
            wrt,
            second,
            formula,
            loaded,
        })
    }

    /// The expression's graph.
    pub fn graph(&self) -> &Graph {
        self.jacobian.graph()
    }

    /// What the user should know about the numbers although nothing failed (see
    /// [`value_warnings`]).
    pub fn warnings(&self) -> Vec<String> {
        value_warnings(self.graph(), &self.values)
    }

    /// The `-s` arguments for names that are not variables of the expression (see
    /// [`unused_shape_warnings`]).
    pub fn unused_shape_warnings(&self) -> Vec<String> {
        unused_shape_warnings(&self.spec, self.graph())
    }

    /// The facts about this problem that every view prints, with the formula in
    /// `notation`.
    pub fn overview(&self, notation: Notation) -> Overview {
        let jacobian = &self.jacobian;
        let wrt = (jacobian.wrt(), jacobian.second());
        Overview::new(self.graph(), wrt, jacobian.formula(), notation)
    }

    /// The derivation of J as a worked answer (see [`calculus::derivation_steps`] and, at
    /// second order, [`calculus::second::derivation_steps`]).
    pub fn derivation_steps(&self) -> Vec<calculus::Step> {
        let jacobian = &self.jacobian;
        let (graph, formula) = (jacobian.graph(), jacobian.formula());
        match jacobian.second() {
            None => calculus::derivation_steps(graph, jacobian.wrt(), formula),
            Some(b) => calculus::second::derivation_steps(graph, (jacobian.wrt(), b), formula),
        }
    }

    /// The inputs of an independent second draw, for checking a claim (an identity must not
    /// hold by accident): the loaded inputs kept, the others drawn with another seed;
    /// `None` if every input is loaded (the draw would repeat the first).
    pub fn second_draw(&self) -> Result<Option<Inputs>, Error> {
        let spec = ProblemSpec {
            seed: self.spec.seed ^ SECOND_DRAW,
            ..self.spec.clone()
        };
        let other = Problem::build(spec)?;
        let repeated = self
            .graph()
            .variables()
            .iter()
            .all(|name| other.inputs.get(name) == self.inputs.get(name));
        Ok((!repeated).then_some(other.inputs))
    }

    /// Compares `claim` with J at the problem's inputs and at an independent second draw
    /// ([`Self::second_draw`]): the verdict of `jacscope check` and of the explorer's claim
    /// prompt.
    pub fn compare_claim(
        &self,
        claim: &IndexClaim,
        notation: Notation,
    ) -> Result<Comparison, Error> {
        let truth = &self.jacobian;
        let mut draws = vec![Draw::new(truth, claim, &self.inputs)?];
        if let Some(inputs) = self.second_draw()? {
            draws.push(Draw::new(truth, claim, &inputs)?);
        }
        Ok(compare::compare(truth, claim, &draws, notation)?)
    }

    /// The name of the variable J differentiates with respect to.
    pub fn wrt_name(&self) -> &str {
        self.jacobian.wrt_name()
    }
}

/// A problem checked and derived, before any number is computed (see [`Problem::prepare`]).
pub struct PreparedProblem {
    /// What was asked.
    pub spec: ProblemSpec,
    /// The expression's graph.
    pub graph: Graph,
    /// The input node J differentiates with respect to (A of `--wrt A,B`).
    pub wrt: NodeId,
    /// At second order (`--wrt A,B`), the input node B: J is ∂/∂B of ∂Y/∂A.
    pub second: Option<NodeId>,
    /// The formula of J.
    pub formula: Formula,
    /// The arrays loaded from `-l` files.
    loaded: BTreeMap<String, ArrayD<f64>>,
}

impl PreparedProblem {
    /// J's structural support, from the formula alone (exact counts per block of any
    /// slice without numbers).
    pub fn support(&self) -> StructuralSupport {
        StructuralSupport::new(&self.formula)
    }

    /// The facts about this problem that every view prints, with the formula in
    /// `notation`: all known before any number is computed.
    pub fn overview(&self, notation: Notation) -> Overview {
        Overview::new(
            &self.graph,
            (self.wrt, self.second),
            &self.formula,
            notation,
        )
    }

    /// Entries of the input variables [`Self::evaluate`] draws at random (those not loaded).
    pub fn drawn_entries(&self) -> u64 {
        self.graph
            .nodes
            .iter()
            .filter(|node| matches!(&node.op, Op::Input(name) if !self.loaded.contains_key(name)))
            .map(|node| node.shape.numel().unwrap_or(u64::MAX))
            .fold(0, u64::saturating_add)
    }

    /// Units of work [`Self::evaluate`] reports in its progress.
    pub fn work(&self) -> u64 {
        let wanted = nodes_to_evaluate(&self.graph, &self.formula);
        eval::evaluation_cost(&self.graph, &wanted)
            .work
            .saturating_add(jacobian::binding_cost(&self.formula, &self.graph).work)
    }

    /// Draws the inputs that were not loaded, evaluates the node values the Jacobian
    /// needs (matrix products on all threads) and binds it, reporting progress in
    /// `progress` (its total is [`Self::work`]); `Ok(None)` soon after `progress` is
    /// cancelled.
    pub fn evaluate(self, progress: &Progress) -> Result<Option<Problem>, Error> {
        progress.start(self.work());
        let PreparedProblem {
            spec,
            graph,
            wrt,
            second,
            formula,
            loaded,
        } = self;
        let wanted = nodes_to_evaluate(&graph, &formula);
        progress.set_stage("drawing the inputs");
        let inputs = Inputs::new(&graph, loaded, spec.seed)?;
        let Some(values) = eval::evaluate_nodes(&graph, &inputs, &wanted, progress)? else {
            return Ok(None);
        };
        let Some(mut jacobian) = Jacobian::with_progress(graph, wrt, formula, &values, progress)?
        else {
            return Ok(None);
        };
        if let Some(b) = second {
            jacobian = jacobian.with_second(b);
        }
        Ok(Some(Problem {
            spec,
            inputs,
            values,
            jacobian,
        }))
    }
}

/// What the user should know about the numbers although nothing failed, one sentence
/// each: the first NaN or infinity produced during evaluation, naming the node that
/// produced it, and every `inv`/`det` of a badly conditioned matrix, with its
/// condition number.
pub fn value_warnings(graph: &Graph, values: &Values) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some((id, index)) = values.first_non_finite() {
        let value = values.get(id)[IxDyn(&index)];
        let at = if index.is_empty() {
            String::new()
        } else {
            format!(" at {index:?}")
        };
        warnings.push(format!(
                "{} evaluates to {value}{at}; every value computed from it, and the entries of J that depend on it, may be {value} too",
                graph.text(id)
            ));
    }
    for (id, node) in graph.nodes.iter().enumerate() {
        let (Op::Inv(arg) | Op::Det(arg)) = node.op else {
            continue;
        };
        let condition = eval::condition_number(values.get(arg));
        if condition > WARN_CONDITION {
            warnings.push(format!(
                    "{}: the matrix {} is badly conditioned (1-norm condition number {condition:.1e}), so about {:.0} of the 16 significant digits of {} and of its derivative may be lost",
                    graph.text(id),
                    graph.text(arg),
                    condition.log10().min(16.0),
                    graph.text(id)
                ));
        }
    }
    warnings
}

/// The `-s` arguments for names that are not variables of the expression, one
/// warning each: `-s Q=3x3: Q is not a variable of the expression (its variables: X)`.
/// Such a shape is not used, so it is worth a warning but not an error (a `-l` of such
/// a name is an error: its file would be read for nothing).
pub fn unused_shape_warnings(spec: &ProblemSpec, graph: &Graph) -> Vec<String> {
    let variables = graph.variables();
    let shown = |text: &str| -> String { text.chars().map(escape_char).collect() };
    spec.shapes
        .iter()
        .filter_map(|arg| split_shape_arg(arg).map(|(name, _)| (arg, name)))
        .filter(|(_, name)| !variables.contains(name))
        .map(|(arg, name)| {
            format!(
                "-s {}: {} is not a variable of the expression (its variables: {})",
                shown(arg),
                shown(name),
                variables.join(", ")
            )
        })
        .collect()
}

/// An expression's value at its inputs, without a Jacobian: what `jacscope eval` writes.
/// Unlike a [`Problem`], it needs no variable and derives nothing.
#[derive(Debug, Clone)]
pub struct Forward {
    /// What was asked for.
    pub spec: ProblemSpec,
    /// The expression's graph.
    pub graph: Graph,
    /// The values of the expression's nodes that were computed: the root and what it
    /// needs.
    pub values: Values,
}

impl Forward {
    /// Parses, loads the `-l` files, shape-checks, draws the other inputs (from the seed,
    /// as a [`Problem`] does) and evaluates the expression, reporting progress in
    /// `progress`; `Ok(None)` soon after `progress` is cancelled.
    pub fn build(spec: ProblemSpec, progress: &Progress) -> Result<Option<Forward>, Error> {
        let (graph, loaded) = typed(&spec)?;
        let inputs = Inputs::new(&graph, loaded, spec.seed)?;
        let values = eval::evaluate_nodes(&graph, &inputs, &[graph.root], progress)?;
        Ok(values.map(|values| Forward {
            spec,
            graph,
            values,
        }))
    }

    /// The expression's value.
    pub fn value(&self) -> &ArrayD<f64> {
        self.values.get(self.graph.root)
    }

    /// What the user should know about the numbers (see [`value_warnings`]) and the unused
    /// `-s` arguments (see [`unused_shape_warnings`]).
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = unused_shape_warnings(&self.spec, &self.graph);
        warnings.extend(value_warnings(&self.graph, &self.values));
        warnings
    }
}

/// Parses `spec`'s expression, loads its `-l` files and shape-checks it: the graph and the
/// loaded arrays, the first steps of both a [`Problem`] and a [`Forward`].
fn typed(spec: &ProblemSpec) -> Result<(Graph, BTreeMap<String, ArrayD<f64>>), Error> {
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
    let limit = spec.max_memory.unwrap_or_else(default_memory_limit);
    let loaded = inputs::load_arrays(&loads, &variable_names, limit)?;
    let shapes = inputs::merge_shapes(&explicit, &loaded)?;
    let graph = expr::typecheck::build_graph(&ast, source, &shapes).map_err(expression_error)?;
    Ok((graph, loaded))
}

/// The facts about a problem that both views print, each written here once: the
/// expression, J's shape and its text, its entries, structural nonzeros and density, the
/// formula and its definitions. None needs a number, so a problem still being evaluated
/// has its overview at once.
#[derive(Debug, Clone, PartialEq)]
pub struct Overview {
    /// The expression text.
    pub expression: String,
    /// The variable J differentiates with respect to (`X`), or both variables of a second
    /// derivative (`X,W`).
    pub wrt: String,
    /// The expression's variables, in order.
    pub variables: Vec<String>,
    /// J's axis names (`i`, `j`, `k`, `l`).
    pub axis_names: Vec<String>,
    /// J's shape: out.shape + in.shape (out.shape + A.shape + B.shape at second order).
    pub shape: Vec<usize>,
    /// J's number of entries (exact; may exceed 2^64).
    pub entries: u128,
    /// J's structurally nonzero entries.
    pub structural: u128,
    /// Where J can be nonzero, read off the deltas: `nonzero only where i = k`.
    pub where_nonzero: String,
    /// The left-hand side of the formula: `∂Y[i,j]/∂X[k,l]`, at second order
    /// `∂²Y[i,j]/∂X[k,l]∂W[g,h]`.
    pub lhs: String,
    /// The simplified formula.
    pub formula: String,
    /// What the intermediate names of the formula stand for (`Z1`, `X @ W.T + b`).
    pub definitions: Vec<(String, String)>,
}

impl Overview {
    /// The overview of the Jacobian `formula` of `graph` with respect to its input node
    /// `wrt.0` (at second order, ∂/∂B of it, B = `wrt.1`), the formula rendered in
    /// `notation`.
    pub fn new(
        graph: &Graph,
        wrt: (NodeId, Option<NodeId>),
        formula: &Formula,
        notation: Notation,
    ) -> Overview {
        let shape = formula.shape();
        let axis_names = formula.axis_names();
        let support = StructuralSupport::new(formula);
        let (a, second) = wrt;
        let lhs = calculus::jacobian_lhs(formula, graph, (a, second), notation);
        let wrt = match second {
            None => graph.text(a).to_string(),
            Some(b) => format!("{},{}", graph.text(a), graph.text(b)),
        };
        Overview {
            expression: graph.source.clone(),
            wrt,
            variables: graph.variables().iter().map(|v| v.to_string()).collect(),
            entries: calculus::formula::entry_count(shape.iter().copied()),
            structural: support.count(),
            where_nonzero: support.describe(&axis_names),
            axis_names,
            lhs,
            formula: calculus::render(formula, graph, notation),
            definitions: calculus::definitions(formula, graph),
            shape,
        }
    }

    /// J's shape as Python prints it: `(64, 512, 64, 1024)`, `(512,)`, `()`.
    pub fn shape_text(&self) -> String {
        layout::shape_tuple(&self.shape)
    }

    /// J's number of entries with grouped digits: `2,147,483,648`.
    pub fn entries_text(&self) -> String {
        numfmt::grouped(self.entries)
    }

    /// The fraction of J's entries that are structurally nonzero (0 for an empty J).
    pub fn density(&self) -> f64 {
        if self.entries == 0 {
            0.0
        } else {
            self.structural as f64 / self.entries as f64
        }
    }

    /// The structural nonzeros and their density: `33,554,432 (1.5625%)`.
    pub fn structural_text(&self) -> String {
        format!(
            "{} ({})",
            numfmt::grouped(self.structural),
            numfmt::percent(self.density())
        )
    }

    /// Which elements of J can be nonzero, in one sentence: `nonzero only where i = k;
    /// every other entry is a structural zero (1/64 of J can be nonzero)`.
    pub fn support_sentence(&self) -> String {
        if self.structural == 0 || self.structural == self.entries {
            return self.where_nonzero.clone();
        }
        let share = if self.entries.is_multiple_of(self.structural) {
            format!("1/{}", numfmt::grouped(self.entries / self.structural))
        } else {
            numfmt::percent(self.density())
        };
        format!(
            "{}; every other entry is a structural zero ({share} of J can be nonzero)",
            self.where_nonzero
        )
    }
}

/// The second draw's seed is the problem's seed with these bits flipped, so that the
/// second draw of `--seed 0` is not the first draw of `--seed 1`.
const SECOND_DRAW: u64 = 0x9E37_79B9_7F4A_7C15;

/// The 1-norm condition number above which [`Problem::warnings`] warns about `inv` and
/// `det`: about half of the 16 significant digits of `f64` are lost.
pub const WARN_CONDITION: f64 = 1e8;

/// Above this many units of work ([`eval::EvaluationCost::work`], a few milliseconds) a
/// problem evaluates only the node values its Jacobian needs (so `X @ W.T` differentiated
/// with respect to X computes no product, already at the seed's size, where that product
/// would be most of the time `stats` takes); below it every node is evaluated, so that
/// [`Problem::warnings`] can name any node that produced NaN.
pub const FULL_EVALUATION_WORK: u64 = 1 << 24;

/// The nodes a problem evaluates: every node when that costs at most
/// [`FULL_EVALUATION_WORK`], else the nodes `formula` needs and the operands of `inv` and
/// `det` (whose condition numbers [`Problem::warnings`] reports).
pub fn nodes_to_evaluate(graph: &Graph, formula: &Formula) -> Vec<NodeId> {
    let every: Vec<NodeId> = (0..graph.nodes.len()).collect();
    if eval::evaluation_cost(graph, &every).work <= FULL_EVALUATION_WORK {
        return every;
    }
    let mut wanted = jacobian::needed_nodes(formula);
    for node in &graph.nodes {
        if let Op::Inv(arg) | Op::Det(arg) = node.op {
            wanted.push(arg);
        }
    }
    wanted.sort_unstable();
    wanted.dedup();
    wanted
}

/// The bytes a problem needs, in parts, estimated from shapes before anything is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// The input variables.
    pub inputs: u128,
    /// The node values evaluated for the Jacobian, at their peak, or (if more) the values
    /// kept plus the Jacobian's derived tensors and hoisted contractions.
    pub evaluation: u128,
    /// One finite-difference check (the TUI runs them in the background): a perturbed copy
    /// of the variable J differentiates by, and a forward evaluation of every node.
    pub check: u128,
}

impl MemoryEstimate {
    /// The estimate for the Jacobian `formula` of `graph` with respect to input node `wrt`.
    pub fn new(graph: &Graph, wrt: NodeId, formula: &Formula) -> MemoryEstimate {
        let bytes = |id: NodeId| eval::value_bytes(&graph.node(id).shape);
        let inputs = (0..graph.nodes.len())
            .filter(|&id| matches!(graph.node(id).op, Op::Input(_)))
            .map(bytes)
            .fold(0u128, u128::saturating_add);
        let lazy = eval::evaluation_cost(graph, &nodes_to_evaluate(graph, formula));
        let bound = jacobian::binding_cost(formula, graph);
        let every: Vec<NodeId> = (0..graph.nodes.len()).collect();
        let full = eval::evaluation_cost(graph, &every);
        MemoryEstimate {
            inputs,
            evaluation: lazy
                .peak_bytes
                .max(lazy.kept_bytes.saturating_add(bound.bytes)),
            check: full.peak_bytes.saturating_add(bytes(wrt)),
        }
    }

    /// All parts together.
    pub fn total(&self) -> u128 {
        self.inputs
            .saturating_add(self.evaluation)
            .saturating_add(self.check)
    }
}

/// The memory limit when none is given: the lesser of 8 GiB and half of the memory the
/// system reports as available (`MemAvailable` in `/proc/meminfo`; 8 GiB where that
/// cannot be read).
pub fn default_memory_limit() -> u64 {
    const CEILING: u64 = 8 << 30;
    let available = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| mem_available(&text));
    available.map_or(CEILING, |bytes| CEILING.min(bytes / 2))
}

/// `MemAvailable` in bytes, from the text of `/proc/meminfo`.
fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemAvailable:"))?;
    let kib: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    kib.checked_mul(1024)
}

/// Refuses a problem (the Jacobian `formula` of `graph` with respect to input node `wrt`)
/// whose [`MemoryEstimate`] exceeds `limit` bytes, before anything is allocated.
pub fn check_memory(
    graph: &Graph,
    wrt: NodeId,
    formula: &Formula,
    limit: u64,
) -> Result<(), Error> {
    let estimate = MemoryEstimate::new(graph, wrt, formula);
    let needed = u64::try_from(estimate.total()).ok();
    match needed {
        Some(bytes) if bytes <= limit => Ok(()),
        _ => Err(Error::TooLarge {
            what: format!(
                "this problem (inputs {}, evaluation {}, a finite-difference check {})",
                size_text(estimate.inputs),
                size_text(estimate.evaluation),
                size_text(estimate.check)
            ),
            needed,
            limit,
        }),
    }
}

/// A size in MiB below 1 GiB, in GiB above: `0.5 MiB`, `12.3 GiB`.
fn size_text(bytes: u128) -> String {
    let mib = bytes as f64 / f64::from(1 << 20);
    if mib < 1024.0 {
        format!("{mib:.1} MiB")
    } else {
        format!("{:.1} GiB", mib / 1024.0)
    }
}

/// The input nodes a `--wrt` text names: A, and B at second order (`--wrt A,B`); the
/// first variable of the expression without `--wrt`.
fn wrt_nodes(
    graph: &Graph,
    wrt: Option<&str>,
) -> Result<(NodeId, Option<NodeId>), expr::Diagnostic> {
    let Some(text) = wrt else {
        return Ok((first_variable(graph)?, None));
    };
    let check = |name: &str| expr::typecheck::check_wrt(graph, name);
    match check::wrt_names(text)[..] {
        [a] => Ok((check(a)?, None)),
        [a, b] => Ok((check(a)?, Some(check(b)?))),
        ref names => {
            let shown: String = text.chars().map(escape_char).collect();
            Err(expr::Diagnostic::whole(format!(
                "--wrt {shown} names {} variables; give one (X) or two for a second derivative (X,W = d/dW of dY/dX)",
                names.len()
            )))
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

/// Parses `-s NAME=SHAPE` arguments; a name given twice is an error (even with the same
/// shape), so that no shape is silently dropped.
pub fn parse_shape_args(args: &[String]) -> Result<BTreeMap<String, Shape>, Error> {
    let mut shapes = BTreeMap::new();
    let mut given: BTreeMap<&str, &str> = BTreeMap::new();
    for arg in args {
        let (name, shape) = split_shape_arg(arg).ok_or_else(|| {
            Error::Usage(format!(
                "-s expects NAME=SHAPE (e.g. -s X=64x1024), got '{arg}'"
            ))
        })?;
        if name.is_empty() {
            return Err(Error::Usage(format!("-s '{arg}' has no variable name")));
        }
        if let Some(first) = given.insert(name, arg) {
            return Err(Error::Usage(format!(
                "-s {name} is given twice ({first}, then {arg}); give each shape once"
            )));
        }
        let shape = expr::shape::parse_shape(shape)
            .map_err(|why| Error::Usage(format!("-s {arg}: {why}")))?;
        shapes.insert(name.to_string(), shape);
    }
    Ok(shapes)
}

/// A `-s NAME=SHAPE` argument split at its `=`: the name (trimmed; empty if none) and
/// the shape text; `None` without an `=`.
fn split_shape_arg(arg: &str) -> Option<(&str, &str)> {
    arg.split_once('=')
        .map(|(name, shape)| (name.trim(), shape))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(expression: &str, shapes: &[&str]) -> ProblemSpec {
        ProblemSpec {
            expression: expression.to_string(),
            shapes: shapes.iter().map(|s| s.to_string()).collect(),
            loads: Vec::new(),
            wrt: None,
            seed: 0,
            max_memory: None,
        }
    }

    #[test]
    fn a_shape_given_twice_is_an_error() {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let error = parse_shape_args(&args(&["X=2x2", "W=3", "X = 3x3"])).unwrap_err();
        assert_eq!(
            error.to_string(),
            "error: -s X is given twice (X=2x2, then X = 3x3); give each shape once"
        );
        // Even the same shape twice: one of them is a typo for another name.
        assert!(parse_shape_args(&args(&["b=3", "b=3"])).is_err());
        assert_eq!(parse_shape_args(&args(&["X=2x2", "W=3"])).unwrap().len(), 2);
    }

    #[test]
    fn shapes_given_for_the_default_example_replace_its_own() {
        let extra = ["W=8x1024".to_string(), "b=8".to_string()];
        let spec = ProblemSpec::default_example(&extra, 0);
        assert_eq!(spec.shapes, ["X=64x1024", "W=8x1024", "b=8"]);
        assert!(parse_shape_args(&spec.shapes).is_ok());
    }

    #[test]
    fn a_shape_for_a_name_not_in_the_expression_is_a_warning() {
        let problem = Problem::build(spec("X * 2", &["X=2x2", "Q=3x3", "W=4"])).unwrap();
        assert_eq!(
            problem.unused_shape_warnings(),
            [
                "-s Q=3x3: Q is not a variable of the expression (its variables: X)",
                "-s W=4: W is not a variable of the expression (its variables: X)",
            ]
        );
        let used = Problem::build(spec("X @ W", &["X=2x2", "W=2x2"])).unwrap();
        assert!(used.unused_shape_warnings().is_empty());
    }

    #[test]
    fn mem_available_is_read_in_bytes() {
        let meminfo = "MemTotal:       24731708 kB\nMemFree:  1 kB\nMemAvailable:   23938408 kB\n";
        assert_eq!(mem_available(meminfo), Some(23938408 * 1024));
        assert_eq!(mem_available("MemTotal: 5 kB\n"), None);
        assert!(default_memory_limit() <= 8 << 30);
        assert!(default_memory_limit() > 0);
    }

    #[test]
    fn the_memory_guard_counts_inputs_evaluation_and_check() {
        let shapes = BTreeMap::from([("X".to_string(), Shape(vec![10, 20]))]);
        let graph = expr::compile("exp(X)", &shapes).unwrap();
        let formula = calculus::jacobian_formula(&graph, 0);
        // 200 f64 = 1600 bytes each: X; exp(X) (J = δ·δ·exp(X) reads the node itself,
        // exp′(X) = exp(X)); a copy of X and exp(X).
        let estimate = MemoryEstimate::new(&graph, 0, &formula);
        assert_eq!(
            estimate,
            MemoryEstimate {
                inputs: 1600,
                evaluation: 1600,
                check: 3200,
            }
        );
        assert!(check_memory(&graph, 0, &formula, 6400).is_ok());
        let error = check_memory(&graph, 0, &formula, 6399).unwrap_err();
        assert!(
            matches!(
                error,
                Error::TooLarge {
                    needed: Some(6400),
                    limit: 6399,
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn a_large_linear_layer_needs_no_product_for_its_jacobian() {
        // X @ W.T with respect to X at transformer size: J = δ(i,k)·W[j,l] reads W only.
        let shapes = BTreeMap::from([
            ("X".to_string(), Shape(vec![2048, 4096])),
            ("W".to_string(), Shape(vec![4096, 4096])),
        ]);
        let graph = expr::compile("X @ W.T", &shapes).unwrap();
        let formula = calculus::jacobian_formula(&graph, 0);
        let wanted = nodes_to_evaluate(&graph, &formula);
        assert_eq!(wanted, [graph.input("W").unwrap()]);
        assert_eq!(eval::evaluation_cost(&graph, &wanted).work, 0);
        let estimate = MemoryEstimate::new(&graph, 0, &formula);
        assert_eq!(estimate.inputs, (2048 + 4096) * 4096 * 8);
        assert_eq!(estimate.evaluation, 0);
    }

    #[test]
    fn an_expression_too_large_for_memory_is_refused_before_allocating() {
        let huge = spec("X @ W.T", &["X=1000000x1000000", "W=1000000x1000000"]);
        let Err(error) = Problem::build(huge) else {
            panic!("10¹² entries per input must be refused");
        };
        assert!(matches!(error, Error::TooLarge { .. }), "{error:?}");
        assert!(error.to_string().contains("TiB"), "{error}");
    }

    #[test]
    fn max_memory_overrides_the_default_limit_and_the_error_gives_the_estimate() {
        let mut small = spec("relu(X @ W.T + b)", &["X=64x1024", "W=512x1024", "b=512"]);
        small.max_memory = Some(1 << 20);
        let Err(error) = Problem::build(small.clone()) else {
            panic!("a 1 MiB limit must refuse the default example");
        };
        let text = error.to_string();
        // Inputs: (64 + 512)·1024 + 512 f64 = 4.5 MiB.
        assert!(text.contains("inputs 4.5 MiB"), "{text}");
        assert!(text.contains("memory limit of 1.0 MiB"), "{text}");
        small.max_memory = Some(1 << 30);
        assert!(Problem::build(small).is_ok());
    }

    #[test]
    fn a_prepared_problem_knows_its_structure_and_reports_the_evaluation() {
        let prepared =
            Problem::prepare(spec("softmax(X @ W.T, axis=1)", &["X=70x30", "W=40x30"])).unwrap();
        assert_eq!(prepared.formula.shape(), [70, 40, 70, 30]);
        assert_eq!(prepared.support().count(), 70 * 40 * 30);
        // Small enough to evaluate every node: the product, the softmax, then the hoisted
        // Σ_m Y[i,m]·W[m,l] (70·40·30 multiply-adds each).
        let every: Vec<NodeId> = (0..prepared.graph.nodes.len()).collect();
        let work = prepared.work();
        assert_eq!(
            work,
            eval::evaluation_cost(&prepared.graph, &every).work + 70 * 40 * 30
        );
        let progress = Progress::new();
        let problem = prepared.evaluate(&progress).unwrap().unwrap();
        assert_eq!((progress.done(), progress.total()), (work, work));
        assert_eq!(problem.jacobian.shape(), [70, 40, 70, 30]);
        let cancelled = Progress::new();
        cancelled.cancel();
        let spec = spec("relu(X @ W.T)", &["X=70x30", "W=40x30"]);
        assert!(
            Problem::build_with_progress(spec, &cancelled)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn warnings_name_the_node_that_produced_nan() {
        // log of the negative entries of a seed-0 standard normal X.
        let problem = Problem::build(spec("sum(log(X) * 2)", &["X=3x4"])).unwrap();
        let warnings = problem.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let first_negative = problem
            .inputs
            .get("X")
            .unwrap()
            .indexed_iter()
            .find(|(_, x)| **x < 0.0)
            .map(|(index, _)| vec![index[0], index[1]])
            .unwrap();
        assert!(
            warnings[0].starts_with(&format!("log(X) evaluates to NaN at {first_negative:?}")),
            "{warnings:?}"
        );
        let clean = Problem::build(spec("sum(exp(X))", &["X=3x4"])).unwrap();
        assert!(clean.warnings().is_empty());
    }

    #[test]
    fn the_overview_writes_the_shape_as_python_does_and_the_density() {
        let problem = Problem::build(spec("X @ W.T", &["X=4x6", "W=5x6"])).unwrap();
        let overview = problem.overview(Notation::Unicode);
        assert_eq!(overview.shape_text(), "(4, 5, 4, 6)");
        assert_eq!(overview.axis_names, ["i", "j", "k", "l"]);
        assert_eq!((overview.entries, overview.structural), (480, 120));
        assert_eq!(overview.entries_text(), "480");
        assert_eq!(overview.density(), 0.25);
        assert_eq!(overview.structural_text(), "120 (25%)");
        assert_eq!(
            format!("{} = {}", overview.lhs, overview.formula),
            "∂Y[i,j]/∂X[k,l] = δ(i,k)·W[j,l]"
        );
        assert_eq!((overview.wrt.as_str(), overview.variables.len()), ("X", 2));
        // Known before any number: the prepared problem has the same overview.
        let prepared = Problem::prepare(problem.spec.clone()).unwrap();
        assert_eq!(prepared.overview(Notation::Unicode), overview);
    }

    #[test]
    fn a_vector_jacobian_is_a_one_tuple_and_a_scalar_one_the_empty_tuple() {
        // J of sum(x) by x: one axis, (512,) as NumPy and JAX print it, never (512).
        let vector = Problem::prepare(spec("sum(x)", &["x=512"])).unwrap();
        assert_eq!(vector.overview(Notation::Ascii).shape_text(), "(512,)");
        let scalar = Problem::prepare(spec("c * 2", &["c=scalar"])).unwrap();
        let overview = scalar.overview(Notation::Ascii);
        assert_eq!(
            (overview.shape_text(), overview.entries),
            ("()".to_string(), 1)
        );
    }
}
