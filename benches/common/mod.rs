//! What the benchmarks and the `bench_timings` example share: the three layers of the
//! performance targets at their sizes, and the blocks of a heat map.

#![allow(dead_code)]

use std::ops::Range;

use jacscope::problem::{Problem, ProblemSpec};

/// The expressions of the targets: a linear layer, with relu and bias, with softmax.
pub const EXPRESSIONS: [(&str, &str); 3] = [
    ("linear", "X @ W.T"),
    ("relu", "relu(X @ W.T + b)"),
    ("softmax", "softmax(X @ W.T, axis=1)"),
];

/// Problem sizes: (name, batch, features out, features in).
pub const SIZES: [(&str, usize, usize, usize); 3] = [
    ("quick", 16, 128, 256),
    ("default", 64, 512, 1024),
    ("transformer", 2048, 4096, 4096),
];

/// Row and column blocks of the heat map the targets name: 100 rows × 200 columns.
pub const MAP: (usize, usize) = (100, 200);

/// The spec of `expression` at size `size` (X batch×in, W out×in, b out), seed 0.
pub fn spec(expression: &str, size: &str) -> ProblemSpec {
    let (_, batch, out, input) = *SIZES
        .iter()
        .find(|s| s.0 == size)
        .unwrap_or_else(|| panic!("unknown size {size}"));
    ProblemSpec {
        expression: expression.to_string(),
        shapes: vec![
            format!("X={batch}x{input}"),
            format!("W={out}x{input}"),
            format!("b={out}"),
        ],
        loads: Vec::new(),
        wrt: Some("X".to_string()),
        seed: 0,
        max_memory: None,
    }
}

/// The Hessian of the targets: a squared-error loss of the linear layer, by X then X.
/// Its formula is 2·δ(k,g)·(WᵀW)[l,h], so building it computes WᵀW (4096³
/// multiply-adds at transformer size) and its (l,h) slice at k = g is that product times 2.
pub const HESSIAN: (&str, &str, &str) = ("squared_error", "sum((X @ W.T) ** 2)", "X,X");

/// The spec of the Hessian [`HESSIAN`] at size `size`.
pub fn hessian_spec(size: &str) -> ProblemSpec {
    ProblemSpec {
        wrt: Some(HESSIAN.2.to_string()),
        ..spec(HESSIAN.1, size)
    }
}

/// Builds `expression` at size `size`.
pub fn problem(expression: &str, size: &str) -> Problem {
    Problem::build(spec(expression, size)).expect("the benchmark problems build")
}

/// `0..n` in blocks of equal size (the last one shorter) fitting in `count` blocks, as a
/// heat map that shows the whole axis cuts it.
pub fn blocks(n: usize, count: usize) -> Vec<Range<usize>> {
    let size = n.div_ceil(count.max(1)).max(1);
    (0..n.div_ceil(size))
        .map(|b| b * size..((b + 1) * size).min(n))
        .collect()
}

/// Every pair of J's axes, named (`i,j`, …), rows before columns.
pub fn axis_pairs(names: &[String]) -> Vec<((usize, usize), String)> {
    let rank = names.len();
    (0..rank)
        .flat_map(|a| (a + 1..rank).map(move |b| (a, b)))
        .map(|(a, b)| ((a, b), format!("{}{}", names[a], names[b])))
        .collect()
}

/// The index slices pass through: on the diagonal i = k, where the support of these
/// layers lies, so every slice is as full as it can be (for the Hessian, k = g).
pub const AT: [usize; 4] = [1, 3, 1, 7];

/// The blocks of a 100×200 map of the slice of `problem` over `axes`.
pub fn map_blocks(shape: &[usize], axes: (usize, usize)) -> (Vec<Range<usize>>, Vec<Range<usize>>) {
    (blocks(shape[axes.0], MAP.0), blocks(shape[axes.1], MAP.1))
}
