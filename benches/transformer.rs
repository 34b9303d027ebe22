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
//!
//! Slices that are one tensor times a constant (the linear layer's (j,l) slice is W) are
//! also timed from the summaries of the tensor's tiles (`tiled_slice_to_100x200_map`), with
//! the time to build those summaries (`tile_summaries`); and every slice of the Hessian of
//! a squared-error loss, `sum((X @ W.T) ** 2)` by X then X (`hessian_slice_to_100x200_map`).

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

use common::{
    AT, EXPRESSIONS, HESSIAN, MAP, axis_pairs, blocks, hessian_spec, map_blocks, problem, spec,
};

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

/// The slices of `problem` that are one tensor times a constant, on a 100×200 map: built
/// once into tile summaries of the map's block size (`<group>/tile_summaries/<pair>`), then
/// answered from them (`<group>/tiled_slice_to_100x200_map/<pair>`, finding that the slice
/// is one tensor included).
fn tiled(c: &mut Criterion, group: &str, problem: &Problem) {
    let jacobian = &problem.jacobian;
    let shape = jacobian.shape();
    for (axes, label) in axis_pairs(&jacobian.axis_names()) {
        let Some(tensor) = jacobian.slice_tensor(axes, &AT) else {
            continue;
        };
        let (rows, cols) = map_blocks(&shape, axes);
        let block = (rows[0].len(), cols[0].len());
        let mut build = c.benchmark_group(format!("{group}/tile_summaries"));
        build.sample_size(10);
        build.bench_function(&label, |b| {
            b.iter(|| black_box(tensor.summarize(block, &Progress::new())))
        });
        build.finish();
        let tiles = tensor
            .summarize(block, &Progress::new())
            .expect("not cancelled");
        assert!(tensor.blocks(&tiles, &rows, &cols).is_some(), "{label}");
        c.bench_function(
            &format!("{group}/tiled_slice_to_100x200_map/{label}"),
            |b| {
                b.iter(|| {
                    let tensor = jacobian.slice_tensor(axes, &AT).expect("one tensor");
                    black_box(tensor.blocks(&tiles, &rows, &cols))
                })
            },
        );
    }
}

/// The linear layer's (j,l) slice (W) from tile summaries.
fn tiled_slices(c: &mut Criterion) {
    let problem = problem(EXPRESSIONS[0].1, "transformer");
    tiled(c, "transformer/linear", &problem);
}

/// Every slice of the Hessian of `sum((X @ W.T) ** 2)` by X, X (2·δ(k,g)·(WᵀW)[l,h]) on a
/// 100×200 map, entry by entry; its (l,h) slice also from tile summaries.
fn hessian_slices(c: &mut Criterion) {
    let problem = Problem::build(hessian_spec("transformer")).expect("the Hessian builds");
    let jacobian = &problem.jacobian;
    let shape = jacobian.shape();
    let name = HESSIAN.0;
    let mut group = c.benchmark_group(format!("transformer/hessian_slice_to_100x200_map/{name}"));
    group.sample_size(20);
    for (axes, label) in axis_pairs(&jacobian.axis_names()) {
        let (rows, cols) = map_blocks(&shape, axes);
        group.bench_function(label, |b| {
            b.iter(|| black_box(jacobian.slice_blocks(axes, &AT, &rows, &cols)))
        });
    }
    group.finish();
    tiled(c, &format!("transformer/hessian/{name}"), &problem);
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
    tiled_slices,
    hessian_slices,
    matricized_view_full_screen_counts,
    numeric_count,
    build
);
criterion_main!(benches);
