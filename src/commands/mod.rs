//! The subcommands: each turns a checked [`Problem`] into text or one JSON document.
//!
//! Printers only: the numbers come from `jacobian`, `sparsity` and `check`, exactly as the
//! TUI gets them. This is the edge of the library: what fails here is passed on as an
//! [`anyhow::Error`]. Output files (`-o`) are written through
//! [`OutputFile`](crate::output_file::OutputFile): complete or not at all.

mod at;
mod check;
mod dense;
mod explain;
mod forward;
mod inputs;
mod matrix;
mod picture;
pub mod progress;
mod shape;
mod shell;
mod slice;
mod stats;

use std::io::{self, BufWriter, Write};
use std::path::Path;

use ndarray_npy::WriteNpyError;

use crate::calculus::Notation;
use crate::calculus::render::to_ascii;
use crate::cli::{Command, ProblemArgs};
use crate::error::Error;
use crate::expr::diagnostic::escape;
use crate::output_file::{self, OutputFile};
use crate::problem::{Forward, Problem, ProblemSpec};

/// Runs one subcommand, writing its output to `out`.
pub fn run(command: Command, out: &mut dyn Write) -> anyhow::Result<()> {
    let notation = command.output().notation();
    match command {
        Command::Explain {
            problem,
            output,
            emit: None,
        } => explain::run(&build(&problem, notation)?, output.json, notation, out)?,
        Command::Explain {
            problem,
            output,
            emit: Some(framework),
        } => explain::run_emit(&build(&problem, notation)?, framework, output.json, out)?,
        Command::At {
            problem,
            index,
            layout,
            output,
        } => {
            let layout = layout.as_deref().map(parse_layout).transpose()?;
            let problem = build(&problem, notation)?;
            at::run(&problem, &index, layout, output.json, notation, out)?
        }
        Command::Shape {
            problem,
            claim,
            output,
        } => {
            let claim = claim
                .as_deref()
                .map(|text| {
                    crate::layout::parse_claim(text).map_err(|e| Error::Usage(e.to_string()))
                })
                .transpose()?;
            shape::run(
                &build(&problem, notation)?,
                claim.as_deref(),
                output.json,
                notation,
                out,
            )?
        }
        Command::Check {
            problem,
            claim,
            layout,
            output,
        } => {
            let layout = layout.as_deref().map(parse_layout).transpose()?;
            let problem = build(&problem, notation)?;
            check::run(&problem, &claim, layout, output.json, notation, out)?
        }
        Command::Slice {
            problem,
            axes,
            fix,
            format,
            output_file,
            force,
            mode,
            size,
            output,
        } => {
            let request = slice::SliceRequest {
                axes: &axes,
                fix: &fix,
                format,
                output_file: output_file.as_deref(),
                force,
                mode,
                size,
                json: output.json,
                notation,
            };
            // Check the options and the destination before doing any work.
            request.check()?;
            if let Some(path) = &output_file {
                output_file::check_target(path, force).map_err(Error::Output)?;
            }
            slice::run(&build(&problem, notation)?, &request, out)?
        }
        Command::Matrix {
            problem,
            layout,
            format,
            output_file,
            force,
            mode,
            size,
            output,
        } => {
            let request = matrix::MatrixRequest {
                layout: &layout,
                picture: picture::PictureRequest {
                    drawing: matrix::drawing(format),
                    output_file: output_file.as_deref(),
                    force,
                    mode,
                    size,
                },
                json: output.json,
                notation,
            };
            // Check the options and the destination before doing any work.
            request.check()?;
            if let Some(path) = &output_file {
                output_file::check_target(path, force).map_err(Error::Output)?;
            }
            matrix::run(&build(&problem, notation)?, &request, out)?
        }
        Command::Stats {
            problem,
            structural_only,
            count_all,
            output,
        } => {
            let counting = match (structural_only, count_all) {
                (true, _) => stats::Counting::Skip,
                (false, true) => stats::Counting::All,
                (false, false) => stats::Counting::WithinLimit,
            };
            stats::run(&build(&problem, notation)?, counting, output.json, out)?
        }
        Command::Dense {
            problem,
            output_file,
            force,
            max_entries,
            output,
        } => {
            // Check the destination before doing any work.
            output_file::check_target(&output_file, force).map_err(Error::Output)?;
            dense::run(
                &build(&problem, notation)?,
                &output_file,
                force,
                max_entries,
                output.json,
                out,
            )?
        }
        Command::Eval {
            problem,
            output_file,
            force,
            output,
        } => {
            // Check the destination before doing any work.
            output_file::check_target(&output_file, force).map_err(Error::Output)?;
            let forward =
                progress::with_progress(|progress| Forward::build(spec_of(&problem), progress))?
                    .expect("the command line never cancels");
            warn(&forward.warnings(), notation);
            forward::run(&forward, &output_file, force, output.json, notation, out)?
        }
        Command::Inputs { files, output } => inputs::run(&files, output.json, notation, out)?,
        Command::Completions { shell } => shell::completions(shell, out)?,
        Command::Man { subcommand } => shell::man(subcommand.as_deref(), out)?,
    }
    Ok(())
}

/// The spec of the problem the common options describe (the default example if no
/// expression is given).
pub fn spec_of(args: &ProblemArgs) -> ProblemSpec {
    let spec = match &args.expr {
        Some(expression) => ProblemSpec {
            expression: expression.clone(),
            shapes: args.shapes.clone(),
            loads: args.loads.clone(),
            wrt: args.wrt.clone(),
            seed: args.seed,
            max_memory: args.max_memory,
        },
        None => ProblemSpec {
            loads: args.loads.clone(),
            wrt: args.wrt.clone(),
            max_memory: args.max_memory,
            ..ProblemSpec::default_example(&args.shapes, args.seed)
        },
    };
    match args.order {
        2 => spec.second_order(),
        _ => spec,
    }
}

/// Builds the problem, and tells on stderr, in `notation`, what the user should know
/// without failing: `-s` shapes of names the expression does not have, NaN produced
/// during evaluation, badly conditioned matrices.
fn build(args: &ProblemArgs, notation: Notation) -> Result<Problem, Error> {
    let problem =
        progress::with_progress(|progress| Problem::build_with_progress(spec_of(args), progress))?
            .expect("the command line never cancels");
    let mut warnings = problem.unused_shape_warnings();
    warnings.extend(problem.warnings());
    warn(&warnings, notation);
    Ok(problem)
}

/// Prints each warning on stderr as `warning: …`, in `notation`.
fn warn(warnings: &[String], notation: Notation) {
    for warning in warnings {
        // A warning that cannot be shown (stderr closed or full) does not stop the work.
        let warning = printed(&format!("warning: {}", escape(warning)), notation);
        let _ = writeln!(io::stderr(), "{warning}");
    }
}

/// Text written with the Unicode symbols as it is printed in `notation`: spelled in
/// ASCII ([`to_ascii`]) under `--ascii`.
fn printed(text: &str, notation: Notation) -> String {
    match notation {
        Notation::Ascii => to_ascii(text),
        Notation::Unicode | Notation::Latex => text.to_string(),
    }
}

/// Refuses to allocate `entries` values of `bytes_each` bytes for `what` above the
/// problem's memory limit (`--max-memory`, or the default).
pub fn check_allocation(
    problem: &Problem,
    what: &str,
    entries: u128,
    bytes_each: u64,
) -> Result<(), Error> {
    let limit = problem
        .spec
        .max_memory
        .unwrap_or_else(crate::problem::default_memory_limit);
    let needed = entries
        .checked_mul(u128::from(bytes_each))
        .and_then(|bytes| u64::try_from(bytes).ok());
    match needed {
        Some(bytes) if bytes <= limit => Ok(()),
        _ => Err(Error::TooLarge {
            what: what.to_string(),
            needed,
            limit,
        }),
    }
}

/// Parses `--layout NAME`.
fn parse_layout(name: &str) -> Result<crate::layout::Layout, Error> {
    name.parse()
        .map_err(|e: crate::layout::UnknownLayout| Error::Usage(format!("--layout: {e}")))
}

/// The I/O error under a failed `.npy` write (ndarray-npy wraps it), or the failure as one.
fn npy_error(error: WriteNpyError) -> io::Error {
    match error {
        WriteNpyError::Io(error) => error,
        other => io::Error::other(other),
    }
}

/// Writes a line to the output.
pub fn emit(out: &mut dyn Write, text: &str) -> Result<(), Error> {
    writeln!(out, "{text}").map_err(output_error)
}

/// Writes with `write` to the file `path`, which ends up complete or untouched
/// ([`OutputFile`]).
fn write_file(
    path: &Path,
    force: bool,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), Error> {
    let mut file = OutputFile::create(path, force)?;
    let written = write(file.writer());
    written.map_err(|e| file.error(e))?;
    Ok(file.commit()?)
}

/// Writes with `write` to the file `path` if one is given ([`write_file`]), else to `out`,
/// buffered.
fn deliver(
    path: Option<&Path>,
    force: bool,
    out: &mut dyn Write,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), Error> {
    match path {
        Some(path) => write_file(path, force, write),
        None => {
            let mut buffered = BufWriter::new(out);
            write(&mut buffered)
                .and_then(|()| buffered.flush())
                .map_err(output_error)
        }
    }
}

/// A failed write to the output: not worth a message when whoever read it stopped
/// reading (`| head`).
fn output_error(error: io::Error) -> Error {
    match error.kind() {
        io::ErrorKind::BrokenPipe => Error::OutputClosed,
        _ => Error::Io(format!("writing the output: {error}")),
    }
}

/// Writes one JSON document.
pub fn emit_json(out: &mut dyn Write, value: &serde_json::Value) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::Internal(format!("cannot encode JSON: {e}")))?;
    emit(out, &text)
}

/// A count as JSON: a number when it fits in u64, else its decimal digits as a string
/// (J's entry count can exceed 2^64).
pub fn json_count(count: u128) -> serde_json::Value {
    match u64::try_from(count) {
        Ok(small) => serde_json::Value::from(small),
        Err(_) => serde_json::Value::from(count.to_string()),
    }
}

/// Plain `jacscope`: opens the interactive explorer on the problem.
pub fn run_interactive(
    problem: &ProblemArgs,
    display: &crate::cli::DisplayArgs,
) -> anyhow::Result<()> {
    let color = match display.color {
        crate::cli::ColorChoice::Auto => crate::tui::ColorChoice::Auto,
        crate::cli::ColorChoice::Always => crate::tui::ColorChoice::Always,
        crate::cli::ColorChoice::Never => crate::tui::ColorChoice::Never,
    };
    let options = crate::tui::TuiOptions {
        color,
        ascii: display.ascii,
        mouse: display.mouse,
    };
    Ok(crate::tui::run(spec_of(problem), options)?)
}
