//! The performance targets at transformer size (X 2048×4096, W 4096×4096, b 4096) for
//! `X @ W.T`, `relu(X @ W.T + b)` and `softmax(X @ W.T, axis=1)` with respect to X.
//!
//! Names say what is measured: `transformer/<what>/<expression>[/<slice axes>]`. Building
//! a problem takes seconds (the relu layer needs one 34-GFLOP product, softmax two), so
//! each is built once outside the timed loops, and the build itself is timed with the
//! smallest sample criterion allows. The numeric nonzero count is timed where it is
//! counted from the factors (linear and relu); softmax's second term multiplies softmax
//! values whose products can underflow, so its count evaluates the 2^35-entry support and
//! is timed by `examples/bench_timings.rs` (once: it takes tens of seconds).

mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use jacscope::jacobian::{CountMethod, count_nonzeros};
use jacscope::layout::VecOrder;
use jacscope::picture::grid::{HeatGrid, Viewport};
use jacscope::problem::Problem;
use jacscope::progress::Progress;
use jacscope::sparsity;

use common::{AT, EXPRESSIONS, MAP, axis_pairs, blocks, problem, spec};

/// Building the problem: drawing the inputs, the products the formula needs, hoisted
/// contractions.
fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("transformer/build");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for (name, expression) in EXPRESSIONS {
        group.bench_function(name, |b| {
            b.iter(|| black_box(problem(expression, "transformer")))
        });
    }
    group.finish();
}

/// One slice summarised into 100×200 blocks, for every pair of J's axes (the (j,l) slice
/// through i = k is 4096 × 4096, all structurally nonzero); and the structural count.
fn slices_and_structure(c: &mut Criterion) {
    for (name, expression) in EXPRESSIONS {
        let problem = problem(expression, "transformer");
        let jacobian = &problem.jacobian;
        let shape = jacobian.shape();
        let mut group = c.benchmark_group(format!("transformer/slice_to_100x200_map/{name}"));
        group.sample_size(20);
        for (axes, label) in axis_pairs(&jacobian.axis_names()) {
            let rows = blocks(shape[axes.0], MAP.0);
            let cols = blocks(shape[axes.1], MAP.1);
            group.bench_function(label, |b| {
                b.iter(|| black_box(jacobian.slice_blocks(axes, &AT, &rows, &cols)))
            });
        }
        group.finish();
        c.bench_function(&format!("transformer/structural_count/{name}"), |b| {
            b.iter(|| black_box(sparsity::structural_count(jacobian.formula())))
        });
    }
}

/// The numeric nonzero count counted from the factors (for relu: Σ_j nonzeros of column j
/// of relu′(Z) × nonzeros of row j of W), for the layers whose count factorizes.
fn numeric_count(c: &mut Criterion) {
    let mut group = c.benchmark_group("transformer/numeric_count");
    group.sample_size(10);
    for (name, expression) in &EXPRESSIONS[..2] {
        let problem = problem(expression, "transformer");
        let progress = Progress::new();
        let method = count_nonzeros(&problem.jacobian, &progress).map(|c| c.method);
        assert_eq!(method, Some(CountMethod::Factorized), "{name}");
        group.bench_function(*name, |b| {
            b.iter(|| black_box(count_nonzeros(&problem.jacobian, &progress)))
        });
    }
    group.finish();
}

/// A full screen of the matricized view (200 × 100 blocks over the whole 8388608 × 8388608
/// matrix) in each vec order: exact structural counts from the deltas, no values needed.
fn matricized_view_full_screen_counts(c: &mut Criterion) {
    let mut group = c.benchmark_group("transformer/matricized_view_full_screen_counts");
    for (name, expression) in EXPRESSIONS {
        let prepared = Problem::prepare(spec(expression, "transformer")).expect("it is checked");
        let support = prepared.support();
        let shape = prepared.formula.shape();
        let viewport = Viewport::fit(shape[0] * shape[1], shape[2] * shape[3], 200, 100);
        for (order_name, order) in [
            ("colmajor", VecOrder::ColMajor),
            ("rowmajor", VecOrder::RowMajor),
        ] {
            group.bench_function(format!("{name}/{order_name}"), |b| {
                b.iter(|| black_box(HeatGrid::of_matrix(&support, 2, (order, true), viewport)))
            });
        }
    }
    group.finish();
}

criterion_group!(
    benches,
    slices_and_structure,
    matricized_view_full_screen_counts,
    numeric_count,
    build
);
criterion_main!(benches);
