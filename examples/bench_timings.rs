//! Criterion-free timings of jacscope's side of `scripts/bench_vs_jax.py`, printed as one
//! JSON object: preparing a problem (formula and structure, what a view can show at once),
//! building it, summarising each 2-D slice into a 100×200-block map, for the slices that
//! are one tensor times a constant building the tile summaries of that map (once) and
//! summarising the map from them, the structural count,
//! with `--numeric` the numeric nonzero count (median of the repeats, and how it was
//! counted) and with `--evaluated` the same count by evaluating every entry of the support
//! (once; tens of seconds at transformer size).
//!
//! ```text
//! cargo run --release --example bench_timings -- --expr relu --size default [--numeric] [--evaluated] [--repeat 20]
//! ```
//! `--expr` is linear, relu, softmax or squared_error (the Hessian of
//! `sum((X @ W.T) ** 2)` by X, X); `--size` is quick, default or transformer.

#[path = "../benches/common/mod.rs"]
mod common;

use std::time::Instant;

use jacscope::jacobian::{count_nonzeros, evaluated_nonzeros};
use jacscope::problem::Problem;
use jacscope::progress::Progress;
use jacscope::sparsity;
use serde_json::json;

use common::{AT, EXPRESSIONS, HESSIAN, axis_pairs, hessian_spec, map_blocks};

/// The median of `repeat` timings of `f`, in milliseconds.
fn median_ms(repeat: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..repeat.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|n| args.get(n + 1))
            .cloned()
    };
    let name = value("--expr").unwrap_or_else(|| "linear".to_string());
    let size = value("--size").unwrap_or_else(|| "default".to_string());
    let repeat: usize = value("--repeat").map_or(11, |r| r.parse().expect("--repeat N"));
    let numeric = args.iter().any(|a| a == "--numeric");
    let evaluated = args.iter().any(|a| a == "--evaluated");
    let spec = if name == HESSIAN.0 {
        hessian_spec(&size)
    } else {
        let expression = EXPRESSIONS
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("unknown --expr {name}"))
            .1;
        common::spec(expression, &size)
    };

    let start = Instant::now();
    let prepared = Problem::prepare(spec.clone()).expect("the problems build");
    let structure = prepared.support().count();
    let prepare_ms = start.elapsed().as_secs_f64() * 1e3;
    std::hint::black_box(structure);
    let start = Instant::now();
    let problem = Problem::build(spec).expect("the problems build");
    let build_s = start.elapsed().as_secs_f64();
    let jacobian = &problem.jacobian;
    let shape = jacobian.shape();
    let mut slices = serde_json::Map::new();
    let mut tiles_build = serde_json::Map::new();
    let mut tiled_slices = serde_json::Map::new();
    for (axes, label) in axis_pairs(&jacobian.axis_names()) {
        let (rows, cols) = map_blocks(&shape, axes);
        let ms = median_ms(repeat, || {
            std::hint::black_box(jacobian.slice_blocks(axes, &AT, &rows, &cols));
        });
        slices.insert(label.clone(), json!(ms));
        let Some(tensor) = jacobian.slice_tensor(axes, &AT) else {
            continue;
        };
        let start = Instant::now();
        let tiles = tensor
            .summarize((rows[0].len(), cols[0].len()), &Progress::new())
            .expect("not cancelled");
        tiles_build.insert(label.clone(), json!(start.elapsed().as_secs_f64() * 1e3));
        let ms = median_ms(repeat, || {
            let tensor = jacobian.slice_tensor(axes, &AT).expect("one tensor");
            let blocks = tensor
                .blocks(&tiles, &rows, &cols)
                .expect("the map's tiles");
            std::hint::black_box(blocks);
        });
        tiled_slices.insert(label, json!(ms));
    }
    let structural_ms = median_ms(repeat, || {
        std::hint::black_box(sparsity::structural_count(jacobian.formula()));
    });
    let (numeric_ms, count) = if numeric {
        let progress = Progress::new();
        let count = count_nonzeros(jacobian, &progress);
        let ms = median_ms(repeat, || {
            std::hint::black_box(count_nonzeros(jacobian, &progress));
        });
        (Some(ms), count)
    } else {
        (None, None)
    };
    let (evaluated_s, evaluated) = if evaluated {
        let start = Instant::now();
        let nonzeros = evaluated_nonzeros(jacobian, &Progress::new());
        (Some(start.elapsed().as_secs_f64()), nonzeros)
    } else {
        (None, None)
    };
    let report = json!({
        "expr": name,
        "size": size,
        "shape": shape,
        "prepare_ms": prepare_ms,
        "build_s": build_s,
        "slice_ms": slices,
        "tiles_build_ms": tiles_build,
        "tiled_slice_ms": tiled_slices,
        "structural_count_ms": structural_ms,
        "structural_nonzeros": sparsity::structural_count(jacobian.formula()).to_string(),
        "numeric_count_ms": numeric_ms,
        "nonzeros": count.map(|c| c.nonzeros),
        "nonzeros_method": count.map(|c| c.method.name()),
        "evaluated_count_s": evaluated_s,
        "evaluated_nonzeros": evaluated,
    });
    println!("{report}");
}
