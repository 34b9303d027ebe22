//! The claim mode: what the user says J is (`C` opens the prompt), compared with J by the
//! claim library, and what the view shows of it: the verdict (the library's
//! [`Comparison`]), the claim beside J at the cursor ([`ClaimEntry`]), the claim map of
//! the slice on screen ([`AgreementGrid`]) and the next difference in reading order.
//!
//! The comparison runs off the UI thread ([`Job`]). The claim map and the differences
//! read the claim bound to the problem's inputs, the way `parse_claim` documents it,
//! entry by entry beside J, with the library's [`compare::agrees`].

use std::sync::Arc;

use crate::calculus::Notation;
use crate::claim::compare::{self, Comparison};
use crate::claim::parse::parse_claim;
use crate::claim::{Claim, IndexClaim};
use crate::eval;
use crate::jacobian::{self, Jacobian};
use crate::layout::Layout;
use crate::problem::Problem;
use crate::progress::Progress;

use super::editor::LineInput;
use super::heatmap::AgreementGrid;
use super::jobs::{Job, JobState};
use super::slices::SliceKey;
use crate::picture::grid::Viewport;
use crate::picture::paint::Agreement;

/// What the prompt says to a shape claim.
const SHAPE_CLAIM: &str = "the explorer checks index formulas such as delta(i,k)*W[j,l]; \
     for a shape, see the header or run jacscope check --claim";

/// A claim compared with J.
pub struct CheckedClaim {
    /// The claim as typed.
    pub text: String,
    /// The library's verdict and diagnosis.
    pub comparison: Comparison,
    /// The claim bound to the problem's inputs.
    pub bound: Jacobian,
}

/// Where the claim that is set stands.
pub enum ClaimState {
    /// Being compared off the UI thread.
    Checking {
        /// The claim as typed.
        text: String,
        /// The comparison.
        job: Job<Result<CheckedClaim, String>>,
    },
    /// Compared.
    Checked(Box<CheckedClaim>),
    /// The comparison could not be made.
    Failed {
        /// The claim as typed.
        text: String,
        /// Why.
        error: String,
    },
}

/// The claim at the entry under the cursor, for the inspector.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimEntry {
    /// The entry's index in J.
    pub index: Vec<usize>,
    /// The claim's value there.
    pub value: f64,
    /// The claim's terms there ([`jacobian::TermBreakdown::line`]).
    pub terms: Vec<String>,
    /// True if the claim's value agrees with J's ([`compare::agrees`]).
    pub agrees: bool,
}

/// The claim prompt and the claim that is set, with what the view shows of it.
#[derive(Default)]
pub struct ClaimMode {
    /// The prompt's line.
    pub input: LineInput,
    /// The last attempt's error, with a caret under the offending part.
    pub error: Option<String>,
    /// The claim, if one is set.
    pub state: Option<ClaimState>,
    /// The claim map of the blocks on screen, while it is the map's mode.
    pub grid: Option<AgreementGrid>,
    /// The slice `grid` was made for.
    grid_slice: Option<SliceKey>,
    /// The claim at the cursor.
    pub entry: Option<ClaimEntry>,
}

impl ClaimMode {
    /// Opens the prompt with the claim that is set, if any.
    pub fn open(&mut self) {
        let text = match &self.state {
            Some(ClaimState::Checking { text, .. } | ClaimState::Failed { text, .. }) => text,
            Some(ClaimState::Checked(claim)) => &claim.text,
            None => "",
        };
        self.input = LineInput::new(text);
        self.error = None;
    }

    /// Enter in the prompt: an empty line clears the claim; a claim that reads (a matrix
    /// claim as J in `layout`, if given) is compared with `problem`'s J off the UI thread; a
    /// bad one keeps its caret error in the prompt. True if the prompt is done.
    pub fn submit(
        &mut self,
        problem: &Arc<Problem>,
        layout: Option<Layout>,
        notation: Notation,
    ) -> bool {
        let text = self.input.text().trim().to_string();
        self.error = None;
        self.grid = None;
        self.entry = None;
        if text.is_empty() {
            self.state = None;
            return true;
        }
        let claim = match parse_claim(&text, &problem.jacobian, layout) {
            Ok(Claim::Index(claim)) => claim,
            Ok(Claim::Shape(_)) => {
                self.error = Some(SHAPE_CLAIM.to_string());
                return false;
            }
            Err(error) => {
                self.error = Some(error.render(&text));
                return false;
            }
        };
        let problem = Arc::clone(problem);
        let job = Job::spawn(format!("checking the claim {text}"), move |progress| {
            check(&problem, &claim, notation, progress)
        });
        self.state = Some(ClaimState::Checking { text, job });
        true
    }

    /// The compared claim, if there is one.
    pub fn checked(&self) -> Option<&CheckedClaim> {
        match &self.state {
            Some(ClaimState::Checked(claim)) => Some(claim),
            _ => None,
        }
    }

    /// True while the claim is being compared.
    pub fn busy(&self) -> bool {
        matches!(self.state, Some(ClaimState::Checking { .. }))
    }

    /// Takes the comparison if it has finished; true if it did.
    pub fn poll(&mut self) -> bool {
        let Some(ClaimState::Checking { job, .. }) = &self.state else {
            return false;
        };
        let state = job.poll();
        self.finished(state)
    }

    /// Waits for the comparison to finish and takes it (for tests and tools).
    pub fn finish(&mut self) {
        if let Some(ClaimState::Checking { job, .. }) = &self.state {
            let state = job.wait().map_or(JobState::Failed, JobState::Finished);
            self.finished(state);
        }
    }

    /// Sets the claim's state once its comparison is in `state`; true unless it still runs.
    fn finished(&mut self, state: JobState<Result<CheckedClaim, String>>) -> bool {
        let Some(ClaimState::Checking { text, .. }) = &self.state else {
            return false;
        };
        let text = text.clone();
        self.state = Some(match state {
            JobState::Running => return false,
            JobState::Finished(Ok(claim)) => ClaimState::Checked(Box::new(claim)),
            JobState::Finished(Err(error)) => ClaimState::Failed { text, error },
            JobState::Failed => ClaimState::Failed {
                text,
                error: "the comparison failed unexpectedly".to_string(),
            },
        });
        true
    }

    /// Brings the claim at the cursor and, if `map_shown`, the claim map of the slice
    /// `key` on `viewport` up to date with J (`truth`).
    pub fn sync(
        &mut self,
        truth: &Jacobian,
        cursor: &[usize],
        slice: Option<(&SliceKey, &Viewport)>,
        notation: Notation,
    ) {
        let Some(ClaimState::Checked(claim)) = &self.state else {
            self.entry = None;
            self.grid = None;
            return;
        };
        if self
            .entry
            .as_ref()
            .is_none_or(|entry| entry.index != cursor)
        {
            let value = claim.bound.entry(cursor);
            let terms = claim.bound.breakdown(cursor, notation);
            self.entry = Some(ClaimEntry {
                index: cursor.to_vec(),
                value,
                terms: terms.iter().map(|term| term.line()).collect(),
                agrees: compare::agrees(value, truth.entry(cursor)),
            });
        }
        let Some((key, viewport)) = slice else {
            self.grid = None;
            return;
        };
        let stale = self.grid.as_ref().is_none_or(|g| g.viewport != *viewport)
            || self.grid_slice.as_ref() != Some(key);
        if stale {
            let grid = agreement_grid(truth, &claim.bound, key, *viewport);
            self.grid = Some(grid);
            self.grid_slice = Some(key.clone());
        }
    }
}

/// Compares `claim` with `problem`'s J at the problem's inputs and an independent second
/// draw (as `jacscope check` does), and binds the claim to the problem's inputs;
/// `progress` can stop the binding's evaluation.
fn check(
    problem: &Problem,
    claim: &IndexClaim,
    notation: Notation,
    progress: &Progress,
) -> Result<CheckedClaim, String> {
    let truth = &problem.jacobian;
    let comparison = problem
        .compare_claim(claim, notation)
        .map_err(|e| e.to_string())?;
    let wanted = jacobian::needed_nodes(&claim.formula);
    let values = eval::evaluate_nodes(&claim.graph, &problem.inputs, &wanted, progress)
        .map_err(|e| e.to_string())?
        .ok_or("stopped")?;
    let bound = Jacobian::new(
        claim.graph.clone(),
        truth.wrt(),
        claim.formula.clone(),
        &values,
    )
    .map_err(|e| e.to_string())?;
    Ok(CheckedClaim {
        text: claim.text.clone(),
        comparison,
        bound,
    })
}

/// Row `row` of the slice `key` of `jacobian` into `out` (one value per column).
fn slice_row(jacobian: &Jacobian, key: &SliceKey, row: usize, out: &mut [f64]) {
    if let (Some(rows), Some(cols)) = (key.axes.rows, key.axes.cols) {
        jacobian.slice_row((rows, cols), &key.at, row, out);
        return;
    }
    let mut index = key.at.clone();
    for (col, value) in out.iter_mut().enumerate() {
        key.axes.place(&mut index, (row, col));
        *value = jacobian.entry(&index);
    }
}

/// How the claim's value compares with J's at one entry; `None` where both are zero.
fn classify(claim: f64, truth: f64) -> Option<Agreement> {
    if claim == 0.0 && truth == 0.0 {
        None
    } else if compare::agrees(claim, truth) {
        Some(Agreement::Agree)
    } else if truth == 0.0 {
        Some(Agreement::ClaimOnly)
    } else if claim == 0.0 {
        Some(Agreement::TrueOnly)
    } else {
        Some(Agreement::Differ)
    }
}

/// A block that is `block` so far, with one more entry that is `entry`: any difference
/// outweighs agreement, and differences of two kinds make [`Agreement::Differ`].
fn merge(block: Option<Agreement>, entry: Option<Agreement>) -> Option<Agreement> {
    match (block, entry) {
        (block, None) => block,
        (None, entry) => entry,
        (Some(Agreement::Agree), entry) => entry,
        (block, Some(Agreement::Agree)) => block,
        (block, entry) if block == entry => block,
        _ => Some(Agreement::Differ),
    }
}

/// The claim map of the blocks of `viewport` on the slice `key`: every entry on screen of
/// the claim (`claim`, bound) and J (`truth`) compared, row by row.
pub fn agreement_grid(
    truth: &Jacobian,
    claim: &Jacobian,
    key: &SliceKey,
    viewport: Viewport,
) -> AgreementGrid {
    let mut blocks = vec![None; viewport.height * viewport.width];
    let (last_row, last_col) = viewport.last_visible();
    let (mut truth_row, mut claim_row) = (vec![0.0; viewport.cols], vec![0.0; viewport.cols]);
    for row in viewport.origin.0..=last_row {
        slice_row(truth, key, row, &mut truth_row);
        slice_row(claim, key, row, &mut claim_row);
        let y = (row - viewport.origin.0) / viewport.block.0;
        for col in viewport.origin.1..=last_col {
            let x = (col - viewport.origin.1) / viewport.block.1;
            let block = &mut blocks[y * viewport.width + x];
            *block = merge(*block, classify(claim_row[col], truth_row[col]));
        }
    }
    AgreementGrid { viewport, blocks }
}

/// The next (or, if not `forward`, the previous) entry of the slice `key` (`dims`: rows,
/// columns) after `from` in reading order where the claim and J differ, wrapping around
/// (so `from` comes last); `None` if they agree on the whole slice.
pub fn next_difference(
    truth: &Jacobian,
    claim: &Jacobian,
    key: &SliceKey,
    (rows, cols): (usize, usize),
    from: (usize, usize),
    forward: bool,
) -> Option<(usize, usize)> {
    let total = rows * cols;
    let start = from.0 * cols + from.1;
    let (mut truth_row, mut claim_row) = (vec![0.0; cols], vec![0.0; cols]);
    let mut loaded = None;
    for step in 1..=total {
        let at = if forward {
            (start + step) % total
        } else {
            (start + total - step % total) % total
        };
        let (row, col) = (at / cols, at % cols);
        if loaded != Some(row) {
            slice_row(truth, key, row, &mut truth_row);
            slice_row(claim, key, row, &mut claim_row);
            loaded = Some(row);
        }
        if !compare::agrees(claim_row[col], truth_row[col]) {
            return Some((row, col));
        }
    }
    None
}
