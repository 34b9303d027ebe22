//! `check --claim` without the dense J: the seed's answer δ(i,k)·W[j,l] and two wrong
//! claims (a missing delta, a factor of 2, each diagnosed with its hints), compared with
//! J of `X @ W.T` at the seed's size and at transformer size (X 2048×4096, W 4096×4096),
//! where J has 2³¹ and 2³⁷ entries. Both draws of the inputs are part of the work timed
//! (the second draw is built inside `Problem::compare_claim`); the problem itself is built
//! once, outside the loop.
//!
//! Names: `claims/<size>/<claim>`.

mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use jacscope::calculus::Notation;
use jacscope::claim::Claim;
use jacscope::claim::parse::parse_claim;

use common::problem;

/// The claims, by name: the answer, a missing delta, a constant factor.
const CLAIMS: [(&str, &str); 3] = [
    ("holds", "delta(i,k)*W[j,l]"),
    ("missing_delta", "W[j,l]"),
    ("factor_2", "2*delta(i,k)*W[j,l]"),
];

fn claims(c: &mut Criterion) {
    for size in ["default", "transformer"] {
        let problem = problem("X @ W.T", size);
        let mut group = c.benchmark_group(format!("claims/{size}"));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(if size == "default" { 5 } else { 30 }));
        for (name, text) in CLAIMS {
            let Ok(Claim::Index(claim)) = parse_claim(text, &problem.jacobian, None) else {
                panic!("{text} is an index claim");
            };
            group.bench_function(name, |b| {
                b.iter(|| black_box(problem.compare_claim(&claim, Notation::Unicode).unwrap()))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, claims);
criterion_main!(benches);
