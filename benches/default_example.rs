//! The performance targets at the default example's size (X 64×1024, W 512×1024, b 512)
//! for `X @ W.T`, `relu(X @ W.T + b)` and `softmax(X @ W.T, axis=1)` with respect to X.
//!
//! Names say what is measured: `default/<what>/<expression>[/<slice axes>]`.

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jacscope::jacobian::{evaluated_nonzeros, numeric_nonzeros};
use jacscope::layout::VecOrder;
use jacscope::picture::grid::{HeatGrid, Viewport};
use jacscope::progress::Progress;
use jacscope::sparsity;

use common::{AT, EXPRESSIONS, MAP, axis_pairs, blocks, problem};

/// Building the problem and summarising the slice the TUI opens on (k,l) for a
/// 100×200-block map: the work before the first frame.
fn first_frame(c: &mut Criterion) {
    let mut group = c.benchmark_group("default/build_and_first_map");
    for (name, expression) in EXPRESSIONS {
        group.bench_function(name, |b| {
            b.iter(|| {
                let problem = problem(expression, "default");
                let jacobian = &problem.jacobian;
                let shape = jacobian.shape();
                let grid = jacobian.slice_blocks(
                    (2, 3),
                    &AT,
                    &blocks(shape[2], MAP.0),
                    &blocks(shape[3], MAP.1),
                );
                black_box(grid)
            })
        });
    }
    group.finish();
}

/// Computing one 2-D slice and summarising it into 100×200 blocks, for every pair of
/// J's axes, through the diagonal i = k where the slices are fullest.
fn slices(c: &mut Criterion) {
    for (name, expression) in EXPRESSIONS {
        let problem = problem(expression, "default");
        let jacobian = &problem.jacobian;
        let shape = jacobian.shape();
        let mut group = c.benchmark_group(format!("default/slice_to_100x200_map/{name}"));
        for (axes, label) in axis_pairs(&jacobian.axis_names()) {
            let rows = blocks(shape[axes.0], MAP.0);
            let cols = blocks(shape[axes.1], MAP.1);
            group.bench_function(label, |b| {
                b.iter(|| black_box(jacobian.slice_blocks(axes, &AT, &rows, &cols)))
            });
        }
        group.finish();
    }
}

/// Counting J's structural nonzeros (from the deltas) and numeric nonzeros: counted from
/// the factors where that is exact (`numeric_count`), and by evaluating the whole
/// structural support, 2^25 entries (`numeric_count_evaluated`, the witness).
fn whole_tensor(c: &mut Criterion) {
    let mut structural = c.benchmark_group("default/structural_count");
    for (name, expression) in EXPRESSIONS {
        let problem = problem(expression, "default");
        structural.bench_function(name, |b| {
            b.iter(|| black_box(sparsity::structural_count(problem.jacobian.formula())))
        });
    }
    structural.finish();
    let mut numeric = c.benchmark_group("default/numeric_count");
    numeric.sample_size(10);
    for (name, expression) in EXPRESSIONS {
        let problem = problem(expression, "default");
        numeric.bench_function(name, |b| {
            b.iter(|| black_box(numeric_nonzeros(&problem.jacobian)))
        });
    }
    numeric.finish();
    let mut evaluated = c.benchmark_group("default/numeric_count_evaluated");
    evaluated.sample_size(10);
    for (name, expression) in EXPRESSIONS {
        let problem = problem(expression, "default");
        evaluated.bench_function(name, |b| {
            b.iter(|| black_box(evaluated_nonzeros(&problem.jacobian, &Progress::new())))
        });
    }
    evaluated.finish();
}

/// The grid of a full screen of the matricized view (200 × 100 blocks at zoom 0, the whole
/// 32768 × 65536 matrix) in each vec order: exact structural counts from the support.
fn matricized_view_full_screen_counts(c: &mut Criterion) {
    let problem = problem(EXPRESSIONS[0].1, "default");
    let support = problem.jacobian.support();
    let shape = problem.jacobian.shape();
    let viewport = Viewport::fit(shape[0] * shape[1], shape[2] * shape[3], 200, 100);
    let mut group = c.benchmark_group("default/matricized_view_full_screen_counts");
    for (name, order) in [
        ("colmajor", VecOrder::ColMajor),
        ("rowmajor", VecOrder::RowMajor),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| black_box(HeatGrid::of_matrix(support, 2, (order, true), viewport)))
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    first_frame,
    slices,
    whole_tensor,
    matricized_view_full_screen_counts
);
criterion_main!(benches);
