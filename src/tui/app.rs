//! The explorer's state and the one place it changes: [`App::update`].
//!
//! No terminal here: the event loop turns keys into [`Action`]s (through `keymap`), feeds
//! them to `update`, and `draw` draws the state. Everything `draw` needs (the slice,
//! its aggregated heat-map blocks or the matricized view's, the inspected entry) is
//! computed here, once per change; results of background work arrive through
//! [`App::poll_jobs`].

use std::path::Path;
use std::sync::Arc;

use ratatui::layout::Rect;

use crate::axis_index::Axes;
use crate::calculus::Notation;
use crate::check::{self, FdCheck};
use crate::error::Error;
use crate::jacobian::{CountTooCostly, TermBreakdown, count_nonzeros_within_limit};
use crate::layout::{Layout, VecOrder};
use crate::output_file;
use crate::picture::figure::{Figure, Labels};
use crate::picture::grid::{HeatGrid, MapMode, Viewport};
use crate::picture::paint::Paint;
use crate::problem::{Overview, PreparedProblem, Problem, ProblemSpec};
use crate::progress::Progress;

use super::action::{Action, Direction, Mode};
use super::claim::{self, ClaimMode};
use super::editor::{self, LineInput};
use super::geometry;
use super::heatmap;
use super::help::{self, HelpFacts};
use super::jobs::{Job, JobState};
use super::matricized::MatrixView;
use super::picker::{self, Example};
use super::save;
use super::slices::{SliceAxes, SliceCache, SliceData, SliceKey};
use super::theme::Theme;

/// A one-line message in the footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The message.
    pub text: String,
    /// True for an error.
    pub error: bool,
}

/// Where the finite-difference check of the inspected entry stands.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckState {
    /// The cursor has moved; the check starts when it rests.
    Waiting,
    /// Running off the UI thread.
    Running,
    /// Finished: the estimate, or why it could not be made.
    Done(Result<FdCheck, String>),
}

/// A finite-difference check to run off the UI thread.
pub struct CheckRequest {
    problem: Arc<Problem>,
    index: Vec<usize>,
    generation: u64,
}

impl CheckRequest {
    /// Runs the check (slow for big inputs: two forward evaluations).
    pub fn run(self) -> CheckReport {
        let problem = &self.problem;
        let result = check::finite_difference(
            problem.graph(),
            &problem.inputs,
            problem.wrt_name(),
            &self.index,
        )
        .map_err(|e| e.to_string());
        CheckReport {
            index: self.index,
            generation: self.generation,
            result,
        }
    }
}

/// The result of a [`CheckRequest`].
pub struct CheckReport {
    index: Vec<usize>,
    generation: u64,
    result: Result<FdCheck, String>,
}

/// What the inspector shows about the entry under the cursor.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    /// The entry's index in J.
    pub index: Vec<usize>,
    /// J at the index.
    pub value: f64,
    /// Each term at the index, factor by factor.
    pub terms: Vec<TermBreakdown>,
    /// Why the entry is zero, if it is.
    pub zero_reason: Option<Vec<String>>,
    /// The finite-difference check.
    pub check: CheckState,
}

impl Inspection {
    fn of(problem: &Problem, index: &[usize], notation: Notation) -> Inspection {
        let jacobian = &problem.jacobian;
        Inspection {
            index: index.to_vec(),
            value: jacobian.entry(index),
            terms: jacobian.breakdown(index, notation),
            zero_reason: jacobian.why_zero_in(index, notation),
            check: CheckState::Waiting,
        }
    }
}

/// The explorer's whole state.
pub struct App {
    pub(super) theme: Theme,
    pub(super) mouse: bool,
    pub(super) problem: Arc<Problem>,
    pub(super) overview: Overview,
    /// Every pair of axes a slice can show.
    pub(super) pairs: Vec<SliceAxes>,
    /// Counts problem changes, so that a late check result of an old problem is dropped.
    generation: u64,
    /// The full index of J under the cursor.
    pub(super) cursor: Vec<usize>,
    /// Which of [`App::pairs`] the slice shows.
    pub(super) pair: usize,
    /// Which of the fixed axes `+`/`-` change (position in `fixed_axes`).
    pub(super) fixed_choice: usize,
    pub(super) map_mode: MapMode,
    pub(super) viewport: Viewport,
    pub(super) slice_key: SliceKey,
    pub(super) slice: Arc<SliceData>,
    pub(super) grid: HeatGrid,
    /// The slice `grid` was aggregated from.
    grid_slice: SliceKey,
    cache: SliceCache,
    pub(super) inspection: Inspection,
    pub(super) mode: Mode,
    /// The main screen under the overlays: [`Mode::Normal`] or [`Mode::Matrix`].
    pub(super) main: Mode,
    /// The matricized view, once it has been opened for this problem.
    pub(super) matrix: Option<MatrixView>,
    /// The vec order of the matricized view (kept across problems).
    vec_order: VecOrder,
    pub(super) status: Option<Status>,
    /// What the user should know about the numbers ([`Problem::warnings`]): the first shows
    /// in the footer when the problem opens, all of them in the help.
    pub(super) warnings: Vec<String>,
    pub(super) screen: (u16, u16),
    pub(super) editor: LineInput,
    pub(super) editor_error: Option<String>,
    pub(super) goto: LineInput,
    pub(super) goto_error: Option<String>,
    pub(super) examples: Vec<Example>,
    pub(super) picker: usize,
    pub(super) help_scroll: usize,
    /// A new problem being evaluated off the UI thread; the current one stays on screen.
    pub(super) loading: Option<Loading>,
    /// The count of J's numerically nonzero entries.
    pub(super) numeric: NumericCount,
    /// The claim prompt and the claim compared with J.
    pub(super) claim: ClaimMode,
    quit: bool,
}

/// A problem being evaluated off the UI thread, to replace the one on screen.
pub struct Loading {
    /// The evaluation.
    pub job: Job<Result<Option<Problem>, Error>>,
    /// The footer message once it is shown.
    message: String,
}

/// Where the count of J's numerically nonzero entries stands.
pub enum NumericCount {
    /// Counting off the UI thread (`Ok(None)` comes back if it was stopped, an error if
    /// the count was too costly to start).
    Counting(Job<Result<Option<u64>, CountTooCostly>>),
    /// The count.
    Done(u64),
    /// Not counted: it would cost more than the limit.
    TooCostly(CountTooCostly),
    /// Stopped with Esc.
    Stopped,
    /// The counting thread failed.
    Failed,
}

impl NumericCount {
    /// Where the count stands once its job is in `state`; `None` while it runs.
    fn after(state: JobState<Result<Option<u64>, CountTooCostly>>) -> Option<NumericCount> {
        match state {
            JobState::Running => None,
            JobState::Finished(Ok(Some(count))) => Some(NumericCount::Done(count)),
            JobState::Finished(Ok(None)) => Some(NumericCount::Stopped),
            JobState::Finished(Err(too_costly)) => Some(NumericCount::TooCostly(too_costly)),
            JobState::Failed => Some(NumericCount::Failed),
        }
    }
}

/// Waits for `job` to end: how it ended.
fn finished<T>(job: &Job<T>) -> JobState<T> {
    job.wait().map_or(JobState::Failed, JobState::Finished)
}

/// Problems needing at most this many units of work (products and elementwise operations,
/// see [`PreparedProblem::work`], plus the input entries to draw) are evaluated on the UI
/// thread: a few milliseconds, less than a frame. Larger ones are evaluated off it.
const QUICK_WORK: u64 = 1 << 22;

/// True if `prepared` evaluates within a frame.
fn evaluates_quickly(prepared: &PreparedProblem) -> bool {
    prepared.work().saturating_add(prepared.drawn_entries()) <= QUICK_WORK
}

/// Evaluates `prepared` off the UI thread.
pub fn evaluate_in_background(prepared: PreparedProblem) -> Job<Result<Option<Problem>, Error>> {
    let label = format!("evaluating {}", prepared.spec.expression);
    Job::spawn(label, move |progress| prepared.evaluate(progress))
}

impl App {
    /// The explorer on `problem`, for a terminal of `width × height` cells.
    pub fn new(problem: Problem, theme: Theme, mouse: bool, (width, height): (u16, u16)) -> App {
        let problem = Arc::new(problem);
        let notation = notation(&theme);
        let overview = problem.overview(notation);
        let rank = overview.shape.len();
        let pairs = SliceAxes::all(rank);
        let pair = SliceAxes::default_index(rank);
        let cursor = vec![0; rank];
        let slice_key = SliceKey::through(pairs[pair], &cursor);
        let mut cache = SliceCache::default();
        let slice = cache.get(&problem.jacobian, &slice_key);
        let (rows, cols) = slice.dims();
        let viewport = Viewport::fit(rows, cols, 1, 1);
        let grid = slice.grid(&problem.jacobian, &slice_key, viewport);
        let inspection = Inspection::of(&problem, &cursor, notation);
        let warnings = problem.warnings();
        let status = warnings.first().map(|warning| Status {
            text: warning.clone(),
            error: true,
        });
        let grid_slice = slice_key.clone();
        let mut app = App {
            theme,
            mouse,
            overview,
            pairs,
            generation: 0,
            cursor,
            pair,
            fixed_choice: 0,
            map_mode: MapMode::default(),
            viewport,
            slice_key,
            slice,
            grid,
            grid_slice,
            cache,
            inspection,
            mode: Mode::Normal,
            main: Mode::Normal,
            matrix: None,
            // Row-major shows the block diagonal I ⊗ W of a linear layer at a glance.
            vec_order: VecOrder::RowMajor,
            status,
            warnings,
            screen: (width, height),
            editor: LineInput::default(),
            editor_error: None,
            goto: LineInput::default(),
            goto_error: None,
            examples: picker::examples(),
            picker: 0,
            help_scroll: 0,
            loading: None,
            numeric: NumericCount::Stopped,
            claim: ClaimMode::default(),
            quit: false,
            problem,
        };
        app.start_count();
        app.sync();
        app
    }

    /// Counts J's numerically nonzero entries off the UI thread, unless the count would
    /// cost more than [`crate::jacobian::NUMERIC_COUNT_LIMIT`] operations.
    fn start_count(&mut self) {
        let problem = Arc::clone(&self.problem);
        self.numeric = NumericCount::Counting(Job::spawn("counting numeric nonzeros", move |p| {
            count_nonzeros_within_limit(&problem.jacobian, p).map(|c| c.map(|c| c.nonzeros))
        }));
    }

    /// True while work runs off the UI thread (the event loop then redraws its progress).
    pub fn busy(&self) -> bool {
        self.loading.is_some()
            || matches!(self.numeric, NumericCount::Counting(_))
            || self.claim.busy()
    }

    /// Takes the results of finished background work; returns true if anything did finish.
    pub fn poll_jobs(&mut self) -> bool {
        let mut changed = false;
        if let NumericCount::Counting(job) = &self.numeric
            && let Some(next) = NumericCount::after(job.poll())
        {
            self.count_ended(next);
            changed = true;
        }
        if self.claim.poll() {
            self.sync();
            changed = true;
        }
        if let Some(loading) = &self.loading {
            let state = loading.job.poll();
            if !matches!(state, JobState::Running) {
                let loading = self.loading.take().expect("a problem is loading");
                self.loaded(state, loading.message);
                changed = true;
            }
        }
        changed
    }

    /// Waits for all background work to finish and takes its results (for tests and tools).
    pub fn finish_jobs(&mut self) {
        if let Some(loading) = self.loading.take() {
            let state = finished(&loading.job);
            self.loaded(state, loading.message);
        }
        if let NumericCount::Counting(job) = &self.numeric
            && let Some(next) = NumericCount::after(finished(job))
        {
            self.count_ended(next);
        }
        self.claim.finish();
        self.sync();
    }

    /// Takes the numeric count's outcome; a count too costly to start says so, and how to
    /// count anyway.
    fn count_ended(&mut self, next: NumericCount) {
        if let NumericCount::TooCostly(too_costly) = &next {
            self.say(format!(
                "numeric nonzeros not counted: {}; `jacscope stats --count-all` counts anyway",
                too_costly.describe()
            ));
        }
        self.numeric = next;
    }

    /// Shows the outcome of a background evaluation.
    fn loaded(&mut self, state: JobState<Result<Option<Problem>, Error>>, message: String) {
        match state {
            JobState::Finished(Ok(Some(problem))) => self.show_problem(problem, message),
            JobState::Finished(Ok(None)) => self.say("stopped: the view is unchanged"),
            JobState::Finished(Err(error)) => self.say_error(error.to_string()),
            JobState::Failed | JobState::Running => {
                self.say_error("the evaluation failed unexpectedly; the view is unchanged")
            }
        }
    }

    /// Esc: stops the background work if there is any (a new problem first), else quits.
    fn back(&mut self) {
        if let Some(loading) = self.loading.take() {
            loading.job.cancel();
            self.say("stopped: the view is unchanged");
        } else if let NumericCount::Counting(job) = &self.numeric {
            job.cancel();
            self.numeric = NumericCount::Stopped;
            self.say("stopped counting numeric nonzeros");
        } else {
            self.quit = true;
        }
    }

    /// True once the user asked to quit.
    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// The mode that has the keyboard.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The full index of J under the cursor.
    pub fn cursor(&self) -> &[usize] {
        &self.cursor
    }

    /// The axes the slice shows.
    pub fn axes(&self) -> SliceAxes {
        self.pairs[self.pair]
    }

    /// The problem on screen.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    /// The entry under the cursor, as shown in the inspector.
    pub fn inspection(&self) -> &Inspection {
        &self.inspection
    }

    /// The footer message, if any.
    pub fn status(&self) -> Option<&Status> {
        self.status.as_ref()
    }

    /// The visible part of the slice.
    pub fn viewport(&self) -> &Viewport {
        &self.viewport
    }

    /// The heat map's mode.
    pub fn map_mode(&self) -> MapMode {
        self.map_mode
    }

    /// The example selected in the picker (0-based).
    pub fn picker_selection(&self) -> usize {
        self.picker
    }

    /// True if mouse capture was asked for.
    pub fn mouse(&self) -> bool {
        self.mouse
    }

    /// Applies one action.
    pub fn update(&mut self, action: Action) {
        if !matches!(action, Action::Resize { .. }) {
            self.status = None;
        }
        match action {
            Action::Move(direction) => self.move_cursor(direction, 1),
            Action::Page(direction) => {
                let viewport = self.map_viewport();
                let (rows, cols) = viewport.span();
                let half = match direction {
                    Direction::Up | Direction::Down => rows.min(viewport.rows) / 2,
                    Direction::Left | Direction::Right => cols.min(viewport.cols) / 2,
                };
                self.move_cursor(direction, half.max(1));
            }
            Action::Scroll(direction) => {
                let block = self.map_viewport().block;
                let step = match direction {
                    Direction::Up | Direction::Down => block.0,
                    Direction::Left | Direction::Right => block.1,
                };
                self.move_cursor(direction, step);
            }
            Action::NextPair => self.select_pair((self.pair + 1) % self.pairs.len()),
            Action::PrevPair => {
                let n = self.pairs.len();
                self.select_pair((self.pair + n - 1) % n);
            }
            Action::SelectPair(n) => self.select_pair(n),
            Action::SelectFixed(direction) => self.select_fixed(direction),
            Action::ChangeFixed(delta) => self.change_fixed(delta),
            Action::NextNonzero => self.jump_to_nonzero(true),
            Action::PrevNonzero => self.jump_to_nonzero(false),
            Action::ZoomIn => self.zoom(true),
            Action::ZoomOut => self.zoom(false),
            Action::CycleMapMode => {
                self.map_mode = self.map_mode.next(self.claim.checked().is_some());
            }
            Action::ToggleMatrix => self.toggle_matrix(),
            Action::ToggleVecOrder => self.toggle_vec_order(),
            Action::CycleWrt => self.cycle_wrt(),
            Action::SavePicture => self.save_picture_in(Path::new(".")),
            Action::Open(mode) => self.open(mode),
            Action::Close => self.mode = self.main,
            Action::Submit => self.submit(),
            Action::ListUp | Action::ListDown => self.list_step(action == Action::ListDown),
            Action::Text(edit) => match self.mode {
                Mode::Editor => self.editor.apply(edit),
                Mode::Goto => self.goto.apply(edit),
                Mode::Claim => self.claim.input.apply(edit),
                _ => {}
            },
            Action::Back => self.back(),
            Action::Quit => self.quit = true,
            Action::Resize { width, height } => self.screen = (width, height),
            Action::Click { column, row } => self.click(column, row),
        }
        self.sync();
    }

    /// The next finite-difference check to run, if the inspected entry needs one; it is
    /// then marked as running.
    pub fn check_request(&mut self) -> Option<CheckRequest> {
        if self.inspection.check != CheckState::Waiting {
            return None;
        }
        self.inspection.check = CheckState::Running;
        Some(CheckRequest {
            problem: Arc::clone(&self.problem),
            index: self.inspection.index.clone(),
            generation: self.generation,
        })
    }

    /// Takes a finished check; a stale one (the cursor or problem has changed) is dropped.
    pub fn check_finished(&mut self, report: CheckReport) {
        if report.generation == self.generation && report.index == self.inspection.index {
            self.inspection.check = CheckState::Done(report.result);
        }
    }

    /// Runs the pending check on this thread (for tests and tools).
    pub fn check_now(&mut self) {
        if let Some(request) = self.check_request() {
            let report = request.run();
            self.check_finished(report);
        }
    }

    /// Saves the view on screen (slice or matrix, as zoomed, in its mode) as an SVG file
    /// in `dir` (the current directory for the `p` key), and says where.
    pub(super) fn save_picture_in(&mut self, dir: &Path) {
        let title = &self.problem.spec.expression;
        let names = self.problem.jacobian.axis_names();
        let (figure, view) = match (&self.matrix, self.main) {
            (Some(matrix), Mode::Matrix) => {
                let labels = matrix.labels(title, &names);
                let figure = Figure::new(matrix.grid(), MapMode::Sparsity, labels, false);
                (figure, matrix.layout().name().to_string())
            }
            _ => {
                let axes = self.axes();
                let labels = Labels::slice(title, &names, (axes.rows, axes.cols), &self.cursor);
                let mut figure = Figure::new(&self.grid, self.map_mode, labels, false);
                if let (MapMode::Agreement, Some(claim)) = (self.map_mode, &self.claim.grid) {
                    let (_, cols) = figure.blocks();
                    for (n, paint) in figure.paints.iter_mut().enumerate() {
                        let agreement = claim.block(n / cols, n % cols);
                        *paint = agreement.map_or(Paint::Blank, Paint::Agreement);
                    }
                }
                let spanned = [axes.rows, axes.cols].map(|a| a.map_or("", |a| &names[a][..]));
                let fixed = axes.fixed_axes(names.len()).into_iter();
                let fixed = fixed.map(|a| format!("-{}{}", names[a], self.cursor[a]));
                (figure, spanned.concat() + &fixed.collect::<String>())
            }
        };
        let stem = save::file_stem(title, &view);
        match save::save(&figure, dir, &stem) {
            Ok(path) => {
                let relative = path.strip_prefix(".").unwrap_or(&path);
                let shown = std::env::current_dir().map_or(path.clone(), |dir| dir.join(relative));
                self.say(format!("saved the view to {}", output_file::shown(&shown)));
            }
            Err(error) => self.say_error(format!("cannot save the view: {error}")),
        }
    }

    fn say(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            error: false,
        });
    }

    fn say_error(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            error: true,
        });
    }

    fn notation(&self) -> Notation {
        notation(&self.theme)
    }

    /// The cursor's position in the slice.
    pub(super) fn position(&self) -> (usize, usize) {
        self.axes().position(&self.cursor)
    }

    /// The matricized view, if it is the main screen.
    pub(super) fn shown_matrix(&self) -> Option<&MatrixView> {
        self.matrix.as_ref().filter(|_| self.main == Mode::Matrix)
    }

    /// The part of the main screen's map on screen: the slice's or the matricized view's.
    pub(super) fn map_viewport(&self) -> &Viewport {
        self.shown_matrix()
            .map_or(&self.viewport, |matrix| &matrix.viewport)
    }

    fn map_viewport_mut(&mut self) -> &mut Viewport {
        if self.main == Mode::Matrix
            && let Some(matrix) = &mut self.matrix
        {
            return &mut matrix.viewport;
        }
        &mut self.viewport
    }

    /// The cursor's (row, column) on the main screen's map.
    pub(super) fn map_position(&self) -> (usize, usize) {
        self.shown_matrix()
            .map_or_else(|| self.position(), |matrix| matrix.position(&self.cursor))
    }

    /// Moves the cursor to (row, column) of the main screen's map.
    fn place_on_map(&mut self, to: (usize, usize)) {
        match self.shown_matrix() {
            Some(matrix) => self.cursor = matrix.place(to),
            None => {
                let axes = self.axes();
                axes.place(&mut self.cursor, to);
            }
        }
    }

    fn move_cursor(&mut self, direction: Direction, steps: usize) {
        let (rows, cols) = (self.map_viewport().rows, self.map_viewport().cols);
        let (row, col) = self.map_position();
        let to = match direction {
            Direction::Left => (row, col.saturating_sub(steps)),
            Direction::Right => (row, (col + steps).min(cols - 1)),
            Direction::Up => (row.saturating_sub(steps), col),
            Direction::Down => ((row + steps).min(rows - 1), col),
        };
        self.place_on_map(to);
    }

    /// `m`: the matricized view, built the first time; back to the slice view.
    fn toggle_matrix(&mut self) {
        if self.main == Mode::Matrix {
            self.main = Mode::Normal;
            self.mode = Mode::Normal;
            self.say("slice view");
            return;
        }
        if self.matrix.is_none() {
            match MatrixView::new(&self.problem.jacobian, self.vec_order) {
                Ok(matrix) => self.matrix = Some(matrix),
                Err(too_large) => {
                    self.say_error(too_large.to_string());
                    return;
                }
            }
        }
        self.main = Mode::Matrix;
        self.mode = Mode::Matrix;
        let layout = self
            .matrix
            .as_ref()
            .map(|m| m.layout().name())
            .unwrap_or("");
        self.say(format!(
            "matricized view, {layout}: o switches the vec order"
        ));
    }

    /// `o`: the other vec order of the matricized view.
    fn toggle_vec_order(&mut self) {
        let Some(matrix) = &mut self.matrix else {
            return;
        };
        matrix.toggle_order(self.problem.jacobian.support(), &self.cursor);
        self.vec_order = matrix.order();
        let layout = matrix.layout();
        self.say(format!("{}: {}", layout.name(), layout.used_by()));
    }

    fn select_pair(&mut self, n: usize) {
        let count = self.pairs.len();
        if n >= count {
            self.say_error(format!(
                "J has {} axes, so there {} only {} pair{} of axes (1–{})",
                self.overview.shape.len(),
                if count == 1 { "is" } else { "are" },
                count,
                if count == 1 { "" } else { "s" },
                count
            ));
            return;
        }
        if n != self.pair {
            self.pair = n;
            self.fixed_choice = 0;
            // A new pair starts with its whole slice on screen.
            let (rows, cols) = self.axes().dims(&self.overview.shape);
            let (width, height) = (self.viewport.width, self.viewport.height);
            self.viewport = viewport_for(rows, cols, width, height, 0, self.position());
        }
        let label = self.axes().label(&self.overview.axis_names);
        self.say(format!("slice {label}"));
    }

    fn fixed_axes(&self) -> Vec<usize> {
        self.axes().fixed_axes(self.overview.shape.len())
    }

    /// The fixed axis `+` and `-` change, if J has one.
    pub(super) fn selected_fixed_axis(&self) -> Option<usize> {
        let fixed = self.fixed_axes();
        fixed
            .get(self.fixed_choice.min(fixed.len().saturating_sub(1)))
            .copied()
    }

    fn select_fixed(&mut self, direction: Direction) {
        let count = self.fixed_axes().len();
        if count == 0 {
            self.say_error("no axis is fixed: the slice shows all of J");
            return;
        }
        self.fixed_choice = match direction {
            Direction::Left | Direction::Up => (self.fixed_choice + count - 1) % count,
            Direction::Right | Direction::Down => (self.fixed_choice + 1) % count,
        };
    }

    fn change_fixed(&mut self, delta: i8) {
        let Some(axis) = self.selected_fixed_axis() else {
            self.say_error("no axis is fixed: the slice shows all of J");
            return;
        };
        let axes = Axes::new(&self.overview.axis_names, &self.overview.shape);
        match axes.step(&self.cursor, axis, isize::from(delta)) {
            Ok(moved) => self.cursor[axis] = moved,
            Err(error) => self.say_error(error.to_string()),
        }
    }

    /// `n`/`N`: the next nonzero, or the next difference from the claim if one is set.
    fn jump_to_nonzero(&mut self, forward: bool) {
        let (truth, key, from) = (&self.problem.jacobian, &self.slice_key, self.position());
        let (found, none) = match self.claim.checked() {
            Some(c) => (
                claim::next_difference(truth, &c.bound, key, self.slice.dims(), from, forward),
                "the claim equals J on this slice",
            ),
            None => (
                self.slice.next_nonzero(truth, key, from, forward),
                "this slice has no nonzero entry",
            ),
        };
        match found {
            Some(to) => {
                let from = self.position();
                let axes = self.axes();
                axes.place(&mut self.cursor, to);
                let wrapped = if forward { to <= from } else { to >= from };
                if wrapped {
                    self.say("wrapped around the slice");
                }
            }
            None => self.say(none),
        }
    }

    fn zoom(&mut self, deeper: bool) {
        let current = self.map_viewport().zoom;
        let max = self.map_viewport().max_zoom();
        let target = match (deeper, current) {
            (true, z) if z < max => z + 1,
            (true, _) => {
                self.say("zoomed in all the way: one entry per block");
                return;
            }
            (false, 0) => {
                self.say("zoomed out all the way: everything is on screen");
                return;
            }
            (false, z) => z - 1,
        };
        let position = self.map_position();
        self.map_viewport_mut().set_zoom(target, position);
    }

    fn cycle_wrt(&mut self) {
        let variables = &self.overview.variables;
        let Some(now) = variables.iter().position(|v| *v == self.overview.wrt) else {
            return;
        };
        if variables.len() < 2 {
            self.say_error(format!("{} is the only variable", self.overview.wrt));
            return;
        }
        let next = variables[(now + 1) % variables.len()].clone();
        let spec = ProblemSpec {
            wrt: Some(next),
            ..self.problem.spec.clone()
        };
        if let Err(message) = self.open_problem(spec, None) {
            self.say_error(message);
        }
    }

    /// Opens a new problem, saying `message` once it is shown: checked and derived at
    /// once (an error leaves the current problem on screen), then evaluated here if that
    /// is quick, else off the UI thread while the current problem stays interactive.
    fn open_problem(&mut self, spec: ProblemSpec, message: Option<String>) -> Result<(), String> {
        let prepared = Problem::prepare(spec).map_err(|e| e.to_string())?;
        let message = message.unwrap_or_else(|| {
            let overview = prepared.overview(self.notation());
            format!("{} = {}", overview.lhs, overview.formula)
        });
        if evaluates_quickly(&prepared) {
            let problem = prepared
                .evaluate(&Progress::new())
                .map_err(|e| e.to_string())?
                .expect("nobody can cancel this progress");
            self.show_problem(problem, message);
        } else {
            self.loading = Some(Loading {
                job: evaluate_in_background(prepared),
                message,
            });
        }
        Ok(())
    }

    /// Replaces the problem on screen, keeping what the user chose about the view.
    fn show_problem(&mut self, problem: Problem, message: String) {
        let replacement = App::new(problem, self.theme, self.mouse, self.screen);
        let generation = self.generation + 1;
        let map_mode = self.map_mode;
        let picker = self.picker;
        let (mode, main) = (self.mode, self.main);
        let vec_order = self.vec_order;
        *self = App {
            generation,
            map_mode,
            picker,
            vec_order,
            ..replacement
        };
        if main == Mode::Matrix {
            self.toggle_matrix();
        }
        if mode != main {
            self.mode = mode;
        }
        self.sync();
        match self.warnings.first() {
            Some(warning) => self.say_error(warning.clone()),
            None => self.say(message),
        }
    }

    fn open(&mut self, mode: Mode) {
        match mode {
            Mode::Editor => {
                self.editor = LineInput::new(editor::spec_line(&self.problem.spec));
                self.editor_error = None;
            }
            Mode::Goto => {
                if self.cursor.is_empty() {
                    self.say_error("J is a scalar: it has a single entry");
                    return;
                }
                self.goto = LineInput::default();
                self.goto_error = None;
            }
            Mode::Help => self.help_scroll = 0,
            Mode::Claim => self.claim.open(),
            Mode::Picker | Mode::Conventions | Mode::Normal | Mode::Matrix => {}
        }
        self.mode = mode;
    }

    fn submit(&mut self) {
        match self.mode {
            Mode::Editor => {
                let result = editor::parse_spec_line(self.editor.text(), &self.problem.spec)
                    .and_then(|spec| self.open_problem(spec, None));
                match result {
                    Ok(()) => self.mode = self.main,
                    Err(message) => self.editor_error = Some(message),
                }
            }
            Mode::Goto => {
                let axes = Axes::new(&self.overview.axis_names, &self.overview.shape);
                let parsed = axes.index_from(self.goto.text(), &self.cursor);
                match parsed {
                    Ok(index) => {
                        self.cursor = index;
                        self.mode = self.main;
                    }
                    Err(error) => self.goto_error = Some(error.to_string()),
                }
            }
            Mode::Claim => {
                // A matrix claim about a J of rank > 2 is J in the numerator layout of the
                // matricized view's vec order (o switches it).
                let layout = (self.problem.jacobian.shape().len() > 2)
                    .then(|| Layout::numerator(self.vec_order));
                if self.claim.submit(&self.problem, layout, self.notation()) {
                    self.mode = self.main;
                }
            }
            Mode::Picker => {
                let Some(example) = self.examples.get(self.picker).cloned() else {
                    return;
                };
                let message = format!("{}: {}", example.name, example.note);
                let spec = example.spec(self.problem.spec.seed);
                match self.open_problem(spec, Some(message)) {
                    Ok(()) => self.mode = self.main,
                    Err(message) => self.say_error(message),
                }
            }
            Mode::Normal | Mode::Matrix | Mode::Conventions | Mode::Help => {}
        }
    }

    fn list_step(&mut self, down: bool) {
        match self.mode {
            Mode::Picker => {
                let n = self.examples.len();
                self.picker = if down {
                    (self.picker + 1) % n
                } else {
                    (self.picker + n - 1) % n
                };
            }
            Mode::Help => {
                let lines = help::help_lines(&self.theme, &self.help_facts()).len();
                self.help_scroll = if down {
                    (self.help_scroll + 1).min(lines.saturating_sub(1))
                } else {
                    self.help_scroll.saturating_sub(1)
                };
            }
            _ => {}
        }
    }

    fn click(&mut self, column: u16, row: u16) {
        if self.mode != self.main {
            return;
        }
        let Some(cells) = self.map_cells() else {
            return;
        };
        if !cells.contains((column, row).into()) {
            return;
        }
        let per_cell = if self.theme.glyphs.half_blocks { 2 } else { 1 };
        let block = (
            usize::from(row - cells.y) * per_cell,
            usize::from(column - cells.x),
        );
        if let Some(entry) = self.map_viewport().entry_of(block) {
            self.place_on_map(entry);
        }
    }

    /// The terminal's size: (columns, rows).
    pub fn screen_size(&self) -> (u16, u16) {
        self.screen
    }

    /// Where the heat-map cells of the main screen are, if the terminal is large enough.
    pub fn map_cells(&self) -> Option<Rect> {
        let area = Rect::new(0, 0, self.screen.0, self.screen.1);
        if let Some(matrix) = self.shown_matrix() {
            return matrix.parts(area).map(|parts| parts.cells);
        }
        let (rows, _) = self.slice.dims();
        let gutter = geometry::gutter_width(&self.corner_label(), rows);
        geometry::screen_areas(area, gutter).map(|areas| areas.cells)
    }

    /// The size of the map's grid in blocks: (wide, high).
    fn map_blocks(&self) -> (usize, usize) {
        self.map_cells().map_or((1, 1), |cells| {
            (
                usize::from(cells.width),
                heatmap::blocks_high(usize::from(cells.height), &self.theme),
            )
        })
    }

    /// What the help says besides the keys, for this problem and main screen.
    pub(super) fn help_facts(&self) -> HelpFacts<'_> {
        HelpFacts {
            main: self.main,
            names: &self.overview.axis_names,
            pairs: &self.pairs,
            mouse: self.mouse,
            warnings: &self.warnings,
        }
    }

    /// The text above the slice's row labels: the row and column axes, `k\l`.
    pub(super) fn corner_label(&self) -> String {
        let names = &self.overview.axis_names;
        let axes = self.axes();
        let name = |axis: Option<usize>| axis.map_or("-", |a| names[a].as_str()).to_string();
        format!("{}\\{}", name(axes.rows), name(axes.cols))
    }

    /// Brings everything derived from the cursor, the pair and the screen up to date: the
    /// slice (from the cache), the viewport, the aggregated blocks, the inspected entry.
    fn sync(&mut self) {
        if self.inspection.index != self.cursor {
            self.inspection = Inspection::of(&self.problem, &self.cursor, self.notation());
        }
        if self.claim.checked().is_none() && self.map_mode == MapMode::Agreement {
            self.map_mode = MapMode::Sparsity;
        }
        if self.main == Mode::Matrix {
            let notation = self.notation();
            self.claim
                .sync(&self.problem.jacobian, &self.cursor, None, notation);
            let blocks = self.map_blocks();
            if let Some(matrix) = &mut self.matrix {
                matrix.sync(self.problem.jacobian.support(), &self.cursor, blocks);
            }
            return;
        }
        let axes = self.axes();
        let key = SliceKey::through(axes, &self.cursor);
        if key != self.slice_key {
            self.slice = self.cache.get(&self.problem.jacobian, &key);
            self.slice_key = key;
        }
        let (rows, cols) = self.slice.dims();
        let (width, height) = self.map_blocks();
        let position = self.position();
        let viewport = &mut self.viewport;
        if (viewport.rows, viewport.cols) != (rows, cols)
            || (viewport.width, viewport.height) != (width, height)
        {
            *viewport = viewport_for(rows, cols, width, height, viewport.zoom, position);
        }
        viewport.follow(position);
        if self.grid.viewport != *viewport || self.grid_slice != self.slice_key {
            self.grid = self
                .slice
                .grid(&self.problem.jacobian, &self.slice_key, *viewport);
            self.grid_slice = self.slice_key.clone();
        }
        let map = (self.map_mode == MapMode::Agreement).then_some((&self.slice_key, &*viewport));
        let notation = notation(&self.theme);
        self.claim
            .sync(&self.problem.jacobian, &self.cursor, map, notation);
    }
}

/// A viewport of the given size at zoom level `zoom` (clamped), showing `position`.
fn viewport_for(
    rows: usize,
    cols: usize,
    width: usize,
    height: usize,
    zoom: u32,
    position: (usize, usize),
) -> Viewport {
    let mut viewport = Viewport::fit(rows, cols, width, height);
    viewport.set_zoom(zoom, position);
    viewport
}

/// The notation of formulas for a theme: ASCII with `--ascii`.
pub(super) fn notation(theme: &Theme) -> Notation {
    if theme.ascii {
        Notation::Ascii
    } else {
        Notation::Unicode
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::action::TextEdit;
    use crate::tui::theme::ColorMode;

    /// X @ W.T with X 4×6 and W 5×6: J[i,j,k,l] of shape (4, 5, 4, 6).
    fn small() -> App {
        let spec = ProblemSpec::default_example(&["X=4x6".into(), "W=5x6".into()], 0);
        let problem = Problem::build(spec).unwrap();
        App::new(
            problem,
            Theme::new(ColorMode::Ansi16, false),
            false,
            (80, 24),
        )
    }

    fn w(app: &App, j: usize, l: usize) -> f64 {
        app.problem().inputs.get("W").unwrap()[[j, l].as_slice()]
    }

    fn run(app: &mut App, actions: &[Action]) {
        for action in actions {
            app.update(action.clone());
        }
    }

    #[test]
    fn starts_on_the_input_slice_at_the_origin() {
        let app = small();
        assert_eq!(app.overview.shape, [4, 5, 4, 6]);
        assert_eq!(app.axes().label(&app.overview.axis_names), "k,l");
        assert_eq!(app.cursor(), [0, 0, 0, 0]);
        assert_eq!(app.inspection().value, w(&app, 0, 0));
        assert_eq!(app.inspection().check, CheckState::Waiting);
    }

    #[test]
    fn moves_stay_inside_the_slice() {
        let mut app = small();
        run(&mut app, &vec![Action::Move(Direction::Right); 3]);
        run(&mut app, &[Action::Move(Direction::Down)]);
        assert_eq!(app.cursor(), [0, 0, 1, 3]);
        // ∂Y[0,0]/∂X[1,3] = δ(0,1)·W[0,3] = 0, and the reason names the delta.
        assert_eq!(app.inspection().value, 0.0);
        let reason = app.inspection().zero_reason.clone().unwrap().join(" ");
        assert!(reason.contains("δ(i,k)"), "{reason}");
        run(&mut app, &vec![Action::Page(Direction::Right); 10]);
        run(&mut app, &vec![Action::Page(Direction::Down); 10]);
        assert_eq!(app.cursor(), [0, 0, 3, 5]);
        run(&mut app, &vec![Action::Move(Direction::Left); 20]);
        run(&mut app, &vec![Action::Move(Direction::Up); 20]);
        assert_eq!(app.cursor(), [0, 0, 0, 0]);
    }

    #[test]
    fn pairs_cycle_and_keep_the_index() {
        let mut app = small();
        run(&mut app, &vec![Action::Move(Direction::Right); 2]);
        app.update(Action::NextPair);
        assert_eq!(app.axes().label(&app.overview.axis_names), "i,j");
        app.update(Action::SelectPair(1));
        assert_eq!(app.axes().label(&app.overview.axis_names), "i,k");
        assert_eq!(app.cursor(), [0, 0, 0, 2]);
        // The (i,k) slice of δ(i,k)·W[j,l] is a diagonal.
        assert_eq!(app.grid.viewport.block, (1, 1));
        let nonzero: Vec<(usize, usize)> = (0..4)
            .flat_map(|y| (0..4).map(move |x| (y, x)))
            .filter(|&(y, x)| app.grid.block(y, x).unwrap().nonzero > 0)
            .collect();
        assert_eq!(nonzero, [(0, 0), (1, 1), (2, 2), (3, 3)]);
        assert_eq!(app.grid.block(2, 2).unwrap().extreme, w(&app, 0, 2));
        app.update(Action::PrevPair);
        assert_eq!(app.axes().label(&app.overview.axis_names), "i,j");
        app.update(Action::SelectPair(6));
        assert!(app.status().unwrap().error);
        assert_eq!(app.axes().label(&app.overview.axis_names), "i,j");
    }

    #[test]
    fn fixed_indices_are_selected_and_changed() {
        let mut app = small();
        app.update(Action::ChangeFixed(1));
        assert_eq!(app.cursor(), [1, 0, 0, 0]);
        app.update(Action::SelectFixed(Direction::Right));
        run(&mut app, &vec![Action::ChangeFixed(1); 2]);
        assert_eq!(app.cursor(), [1, 2, 0, 0]);
        run(&mut app, &vec![Action::ChangeFixed(1); 9]);
        assert_eq!(app.cursor(), [1, 4, 0, 0]);
        assert!(app.status().unwrap().error);
        app.update(Action::SelectFixed(Direction::Right));
        app.update(Action::ChangeFixed(-1));
        assert_eq!(app.cursor(), [0, 4, 0, 0]);
    }

    #[test]
    fn next_nonzero_follows_reading_order() {
        let mut app = small();
        // Row k = 2 of the (k,l) slice at i = 0 is structurally zero.
        run(&mut app, &vec![Action::Move(Direction::Down); 2]);
        app.update(Action::NextNonzero);
        assert_eq!(app.cursor(), [0, 0, 0, 0]);
        assert_eq!(app.status().unwrap().text, "wrapped around the slice");
        app.update(Action::NextNonzero);
        assert_eq!(app.cursor(), [0, 0, 0, 1]);
        app.update(Action::PrevNonzero);
        app.update(Action::PrevNonzero);
        assert_eq!(app.cursor(), [0, 0, 0, 5]);
    }

    #[test]
    fn zoom_goes_from_the_whole_slice_to_single_entries() {
        let spec = ProblemSpec::default_example(&["X=64x1024".into(), "W=8x1024".into()], 0);
        let problem = Problem::build(spec).unwrap();
        let mut app = App::new(
            problem,
            Theme::new(ColorMode::Ansi16, false),
            false,
            (80, 24),
        );
        assert_eq!(app.viewport().zoom, 0);
        let (rows, cols) = app.viewport().span();
        assert!(rows >= 64 && cols >= 1024);
        app.update(Action::ZoomOut);
        assert!(app.status().is_some());
        for _ in 0..20 {
            app.update(Action::ZoomIn);
        }
        assert_eq!(app.viewport().block, (1, 1));
        assert!(app.status().unwrap().text.contains("all the way"));
        run(&mut app, &vec![Action::Page(Direction::Right); 30]);
        assert_eq!(app.cursor()[3], 1023);
        assert!(app.viewport().block_of(app.position()).is_some());
    }

    #[test]
    fn a_bad_edit_keeps_the_view_and_shows_the_caret() {
        let mut app = small();
        run(&mut app, &vec![Action::Move(Direction::Right); 2]);
        app.update(Action::Open(Mode::Editor));
        assert_eq!(app.editor.text(), "X @ W.T -s X=4x6 -s W=5x6");
        app.update(Action::Text(TextEdit::Home));
        for c in "relu(".chars() {
            app.update(Action::Text(TextEdit::Insert(c)));
        }
        app.update(Action::Submit);
        let error = app.editor_error.clone().unwrap();
        assert!(error.contains('^'), "{error}");
        assert_eq!(app.mode(), Mode::Editor);
        assert_eq!(app.problem().spec.expression, "X @ W.T");
        assert_eq!(app.cursor(), [0, 0, 0, 2]);
        app.update(Action::Close);
        assert_eq!(app.mode(), Mode::Normal);
        assert_eq!(app.cursor(), [0, 0, 0, 2]);
    }

    #[test]
    fn a_good_edit_opens_the_new_problem() {
        let mut app = small();
        app.update(Action::Open(Mode::Editor));
        app.update(Action::Text(TextEdit::Clear));
        for c in "relu(X @ W.T + b) -s X=4x6 -s W=5x6 -s b=5".chars() {
            app.update(Action::Text(TextEdit::Insert(c)));
        }
        app.update(Action::Submit);
        assert_eq!(app.mode(), Mode::Normal, "{:?}", app.editor_error);
        assert_eq!(app.problem().spec.expression, "relu(X @ W.T + b)");
        assert!(app.overview.formula.contains("relu′"));
        assert_eq!(app.cursor(), [0, 0, 0, 0]);
    }

    #[test]
    fn goto_moves_to_the_typed_index() {
        let mut app = small();
        app.update(Action::Open(Mode::Goto));
        for c in "0,3,0,5".chars() {
            app.update(Action::Text(TextEdit::Insert(c)));
        }
        app.update(Action::Submit);
        assert_eq!(app.cursor(), [0, 3, 0, 5]);
        assert_eq!(app.inspection().value, w(&app, 3, 5));
        app.update(Action::Open(Mode::Goto));
        for c in "9,9".chars() {
            app.update(Action::Text(TextEdit::Insert(c)));
        }
        app.update(Action::Submit);
        assert_eq!(app.mode(), Mode::Goto);
        assert!(app.goto_error.is_some());
    }

    #[test]
    fn wrt_cycles_through_the_variables() {
        let mut app = small();
        app.update(Action::CycleWrt);
        assert_eq!(app.overview.wrt, "W");
        assert_eq!(app.overview.shape, [4, 5, 5, 6]);
        app.update(Action::CycleWrt);
        assert_eq!(app.overview.wrt, "X");
    }

    #[test]
    fn the_check_agrees_and_stale_results_are_dropped() {
        let mut app = small();
        run(&mut app, &vec![Action::Move(Direction::Right); 3]);
        app.check_now();
        let CheckState::Done(Ok(fd)) = app.inspection().check.clone() else {
            panic!("check did not finish: {:?}", app.inspection().check);
        };
        assert!(check::agrees(app.inspection().value, &fd));
        // A check that finishes after the cursor has moved on is dropped.
        app.update(Action::Move(Direction::Right));
        let request = app.check_request().unwrap();
        app.update(Action::Move(Direction::Right));
        app.check_finished(request.run());
        assert_eq!(app.inspection().check, CheckState::Waiting);
    }

    #[test]
    fn the_picker_opens_an_example() {
        let mut app = small();
        app.update(Action::Open(Mode::Picker));
        app.update(Action::ListDown);
        app.update(Action::Submit);
        assert_eq!(app.mode(), Mode::Normal);
        // The linear layer at the seed's size by W needs no product, only its inputs: it
        // evaluates within the frame (a larger problem loads in the background:
        // `esc_stops_a_loading_problem_and_keeps_the_view`).
        assert!(app.loading.is_none());
        assert_eq!(app.overview.wrt, "W");
        assert!(
            app.status()
                .unwrap()
                .text
                .starts_with("linear layer, wrt W")
        );
    }

    #[test]
    fn clicks_move_the_cursor_to_the_block() {
        let mut app = small();
        let cells = app.map_cells().unwrap();
        app.update(Action::Click {
            column: cells.x + 4,
            row: cells.y + 1,
        });
        // One entry per half-cell: cell row 1 holds rows 2 and 3; the click picks the upper.
        assert_eq!(app.cursor(), [0, 0, 2, 4]);
        app.update(Action::Click { column: 0, row: 0 });
        assert_eq!(app.cursor(), [0, 0, 2, 4]);
    }

    fn app_of(expression: &str, shapes: &[&str], wrt: Option<&str>) -> App {
        let spec = ProblemSpec {
            expression: expression.to_string(),
            shapes: shapes.iter().map(|s| s.to_string()).collect(),
            loads: Vec::new(),
            wrt: wrt.map(String::from),
            seed: 0,
            max_memory: None,
        };
        let problem = Problem::build(spec).unwrap();
        App::new(
            problem,
            Theme::new(ColorMode::Ansi16, false),
            false,
            (80, 24),
        )
    }

    /// J of rank 0, 1 and 3: one "pair" for ranks 0 and 1, three for rank 3; moving and
    /// jumping work in each.
    #[test]
    fn every_rank_of_j_has_its_slices() {
        let mut scalar = app_of("c * c", &["c=scalar"], None);
        assert_eq!(scalar.pairs.len(), 1);
        run(
            &mut scalar,
            &[Action::Move(Direction::Right), Action::NextPair],
        );
        assert!(scalar.cursor().is_empty());
        let c = scalar.problem().inputs.get("c").unwrap()[[].as_slice()];
        assert!((scalar.inspection().value - 2.0 * c).abs() < 1e-12);

        let mut vector = app_of("sum(x * x)", &["x=5"], None);
        assert_eq!(vector.overview.shape, [5]);
        run(&mut vector, &vec![Action::Move(Direction::Right); 2]);
        assert_eq!(vector.cursor(), [2]);
        let x = vector.problem().inputs.get("x").unwrap()[[2].as_slice()];
        assert!((vector.inspection().value - 2.0 * x).abs() < 1e-12);
        vector.update(Action::NextNonzero);
        assert_eq!(vector.cursor(), [3]);

        let mut three = app_of("A @ x", &["A=4x3", "x=3"], Some("A"));
        assert_eq!(three.overview.shape, [4, 4, 3]);
        assert_eq!(three.pairs.len(), 3);
        assert_eq!(three.axes().label(&three.overview.axis_names), "k,l");
        three.update(Action::ChangeFixed(1));
        assert_eq!(three.cursor(), [1, 0, 0]);
        three.update(Action::SelectPair(3));
        assert!(three.status().unwrap().error);
    }

    /// A problem too large to evaluate within a frame loads in the background; Esc stops
    /// it and the current problem stays, still interactive.
    #[test]
    fn esc_stops_a_loading_problem_and_keeps_the_view() {
        let mut app = small();
        app.update(Action::Open(Mode::Editor));
        app.update(Action::Text(TextEdit::Clear));
        for c in "relu(X @ W.T) -s X=1024x2048 -s W=2048x2048".chars() {
            app.update(Action::Text(TextEdit::Insert(c)));
        }
        app.update(Action::Submit);
        assert_eq!(app.mode(), Mode::Normal, "{:?}", app.editor_error);
        assert!(app.busy() && app.loading.is_some());
        app.update(Action::Move(Direction::Right));
        assert_eq!(app.cursor(), [0, 0, 0, 1]);
        app.update(Action::Back);
        assert!(app.loading.is_none());
        assert!(!app.should_quit());
        assert_eq!(app.problem().spec.expression, "X @ W.T");
        assert!(app.status().unwrap().text.starts_with("stopped"));
    }

    /// Esc stops the numeric count first, and quits only when nothing runs.
    #[test]
    fn esc_stops_counting_before_it_quits() {
        let mut app = small();
        app.numeric = NumericCount::Counting(Job::spawn("counting until stopped", |p| {
            while !p.is_cancelled() {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Ok(None)
        }));
        assert!(app.busy());
        app.update(Action::Back);
        assert!(matches!(app.numeric, NumericCount::Stopped));
        assert!(!app.should_quit() && !app.busy());
        app.update(Action::Back);
        assert!(app.should_quit());
    }

    /// The count of numeric nonzeros in the header agrees with reading every entry.
    #[test]
    fn the_numeric_count_agrees_with_every_entry() {
        let mut app = app_of("relu(X @ W.T + b)", &["X=4x6", "W=5x6", "b=5"], None);
        app.finish_jobs();
        let NumericCount::Done(count) = app.numeric else {
            panic!("the count did not finish");
        };
        let shape = app.overview.shape.clone();
        let total: usize = shape.iter().product();
        let jacobian = &app.problem().jacobian;
        let nonzero = (0..total)
            .map(|flat| crate::layout::VecOrder::RowMajor.unflatten(&shape, flat))
            .filter(|index| jacobian.entry(index) != 0.0)
            .count();
        assert_eq!(count, nonzero as u64);
        assert!(nonzero > 0 && (nonzero as u128) < app.overview.structural);
    }

    /// NaN produced during evaluation is said when the problem opens, naming the node,
    /// and listed in the help.
    #[test]
    fn evaluation_warnings_show_when_a_problem_opens() {
        let app = app_of("log(X) @ W", &["X=3x4", "W=4x2"], None);
        let x = app.problem().inputs.get("X").unwrap();
        assert!(
            x.iter().any(|&v| v < 0.0),
            "the seed draws a negative entry"
        );
        let status = app.status().expect("a warning in the footer");
        assert!(status.error, "{status:?}");
        assert!(
            status.text.starts_with("log(X) evaluates to NaN"),
            "{}",
            status.text
        );
        let help: Vec<String> = help::help_lines(&app.theme, &app.help_facts())
            .iter()
            .map(|line| line.to_string())
            .collect();
        assert!(
            help.iter()
                .any(|l| l.starts_with("warning") && l.contains("NaN"))
        );
        let clean = small();
        assert!(clean.status().is_none() && clean.warnings.is_empty());
    }

    #[test]
    fn a_tiny_terminal_has_no_map_but_keeps_working() {
        let mut app = small();
        app.update(Action::Resize {
            width: 20,
            height: 5,
        });
        assert!(app.map_cells().is_none());
        app.update(Action::Move(Direction::Right));
        assert_eq!(app.cursor(), [0, 0, 0, 1]);
    }
}
