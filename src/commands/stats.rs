//! `jacscope stats`: size, structural and numeric nonzeros of J.

use std::io::Write;

use serde_json::json;

use super::{emit, emit_json, json_count};
use crate::calculus::Notation;
use crate::error::Error;
use crate::jacobian::{self, CountTooCostly, NUMERIC_COUNT_LIMIT, NonzeroCount};
use crate::numfmt;
use crate::problem::Problem;

/// Which numeric count `stats` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// None (`--structural-only`).
    Skip,
    /// The count if it costs at most [`NUMERIC_COUNT_LIMIT`] operations (the default).
    WithinLimit,
    /// The count, whatever it costs (`--count-all`).
    All,
}

/// The numeric count as `stats` ran it.
enum Outcome {
    /// Counted.
    Counted(NonzeroCount),
    /// Skipped with `--structural-only`.
    Skipped,
    /// Not started: over the limit.
    TooCostly(CountTooCostly),
}

/// Prints the statistics of `problem`'s Jacobian.
pub fn run(
    problem: &Problem,
    counting: Counting,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let jacobian = &problem.jacobian;
    let overview = problem.overview(Notation::Ascii);
    let outcome = match counting {
        Counting::Skip => Outcome::Skipped,
        Counting::WithinLimit => super::progress::with_progress(|progress| {
            match jacobian::count_nonzeros_within_limit(jacobian, progress) {
                Ok(count) => count.map(Outcome::Counted),
                Err(too_costly) => Some(Outcome::TooCostly(too_costly)),
            }
        })
        .expect("the command line never cancels"),
        Counting::All => Outcome::Counted(
            super::progress::with_progress(|progress| jacobian::count_nonzeros(jacobian, progress))
                .expect("the command line never cancels"),
        ),
    };
    let dense_bytes = overview.entries.saturating_mul(4);
    if json {
        let count = match &outcome {
            Outcome::Counted(count) => Some(count),
            _ => None,
        };
        let not_counted = match &outcome {
            Outcome::Counted(_) => serde_json::Value::Null,
            Outcome::Skipped => json!({ "reason": "structural_only" }),
            Outcome::TooCostly(too_costly) => json!({
                "reason": "over_limit",
                "operations": json_count(too_costly.operations),
                "limit": json_count(NUMERIC_COUNT_LIMIT),
            }),
        };
        let value = json!({
            "shape": overview.shape,
            "entries": json_count(overview.entries),
            "structural_nonzeros": json_count(overview.structural),
            "structural_density": overview.density(),
            "nonzeros": count.map(|c| json_count(c.nonzeros as u128)),
            "nonzeros_method": count.map(|c| c.method.name()),
            "nonzeros_not_counted": not_counted,
            "dense_bytes_f32": json_count(dense_bytes),
        });
        return emit_json(out, &value);
    }
    emit(
        out,
        &format!("shape                {}", overview.shape_text()),
    )?;
    emit(
        out,
        &format!("entries              {}", overview.entries_text()),
    )?;
    emit(
        out,
        &format!("structural nonzeros  {}", overview.structural_text()),
    )?;
    match outcome {
        Outcome::Counted(c) => emit(
            out,
            &format!(
                "numeric nonzeros     {} ({})",
                numfmt::grouped(c.nonzeros as u128),
                c.method.describe()
            ),
        )?,
        Outcome::Skipped => emit(out, "numeric nonzeros     (skipped: --structural-only)")?,
        Outcome::TooCostly(too_costly) => emit(
            out,
            &format!(
                "numeric nonzeros     not counted: {}; --count-all counts anyway",
                too_costly.describe()
            ),
        )?,
    }
    emit(
        out,
        &format!(
            "dense f32 size       {} bytes ({} GiB)",
            numfmt::grouped(dense_bytes),
            numfmt::short(dense_bytes as f64 / (1u64 << 30) as f64)
        ),
    )
}
