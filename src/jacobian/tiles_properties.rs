//! Block summaries from tile summaries ([`SliceTensor::blocks`]) against today's path
//! ([`Jacobian::slice_blocks`], which evaluates every entry of the support in view) and
//! against an aggregation of [`Jacobian::entry`] at every entry: on random expressions of
//! the language at small random shapes, and on formulas built by hand whose tensor holds
//! NaN, ±∞, exact zeros, a lone nonzero, equal magnitudes of both signs and magnitudes
//! whose products underflow, times constants that are negative, zero, infinite, NaN or tiny;
//! at random block sizes and random windows of blocks (as a zoomed, scrolled heat map asks).

use std::collections::BTreeMap;
use std::ops::Range;

use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use super::test_support::*;
use super::*;
use crate::calculus::{Factor, Slot, TensorDef};

/// Entries of the tensors: exact zeros (often), ties of both signs, magnitudes whose
/// products leave the range of f64.
const VALUES: [f64; 12] = [
    0.0, 0.0, 1.0, -1.0, 0.5, -2.0, 2.0, 7.25, 1e-200, -1e-170, 1e200, -1e180,
];

/// What a tensor of the hand-built formulas may also hold: NaN and ±∞.
const SPECIAL: [f64; 3] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY];

/// Constant factors: negative, zero, ±∞, NaN, tiny (products underflow), huge.
const SCALES: [f64; 9] = [
    1.0,
    -3.0,
    0.0,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    1e-200,
    -1e-300,
    1e250,
];

/// Coefficients of a term (a term with coefficient 0 is no term).
const COEFFICIENTS: [f64; 5] = [1.0, -3.0, -0.5, 1e-200, 1e250];

/// A window of blocks along an axis of `len` entries in blocks of `size`: `count` blocks
/// from block `first` (as a heat map scrolled there asks, possibly past the end), clipped
/// to the axis as [`Jacobian::slice_blocks`] clips them.
fn window(len: usize, size: usize, first: usize, count: usize) -> Vec<Range<usize>> {
    (first..first + count)
        .map(|b| (b * size).min(len)..((b + 1) * size).min(len))
        .collect()
}

/// The summaries of the blocks by [`Jacobian::entry`] at every entry, every entry of the
/// support counted: what a heat map must show.
fn by_entries(
    jac: &Jacobian,
    axes: (usize, usize),
    at: &[usize],
    rows: &[Range<usize>],
    cols: &[Range<usize>],
) -> SliceBlocks {
    let mut blocks = Vec::new();
    for (r, row_range) in rows.iter().enumerate() {
        for (c, col_range) in cols.iter().enumerate() {
            let mut block = BlockSummary {
                entries: row_range.len() * col_range.len(),
                ..BlockSummary::default()
            };
            for row in row_range.clone() {
                for col in col_range.clone() {
                    let mut index = at.to_vec();
                    index[axes.0] = row;
                    index[axes.1] = col;
                    if !jac.support().contains(&index) {
                        continue;
                    }
                    let v = jac.entry(&index);
                    block.structural += 1;
                    if v != 0.0 {
                        block.nonzero += 1;
                        let m = v.abs();
                        if m > block.max_abs || (m == block.max_abs && v > block.extreme) {
                            block.max_abs = m;
                            block.extreme = v;
                        }
                    }
                }
            }
            if block.structural > 0 {
                blocks.push((r * cols.len() + c, block));
            }
        }
    }
    SliceBlocks {
        width: cols.len(),
        blocks,
    }
}

/// Bit-for-bit equality of two summaries (NaN and the sign of zero included).
fn same(a: &SliceBlocks, b: &SliceBlocks) -> bool {
    let bits = |s: &SliceBlocks| {
        s.blocks
            .iter()
            .map(|(n, b)| {
                let counts = (b.entries, b.structural, b.nonzero);
                (*n, counts, b.max_abs.to_bits(), b.extreme.to_bits())
            })
            .collect::<Vec<_>>()
    };
    a.width == b.width && bits(a) == bits(b)
}

/// Checks every slice of `jac` that is one tensor times a constant, with tiles of
/// `block` and the window of blocks from `first` (`count` blocks each way): the tiles give
/// today's summaries and the entries' summaries, bit for bit, unless a product
/// underflows (then the tiles are not used). Returns how many slices were checked.
fn check_tensor_slices(
    jac: &Jacobian,
    block: (usize, usize),
    first: (usize, usize),
    count: (usize, usize),
    what: &str,
) -> Result<usize, TestCaseError> {
    let shape = jac.shape();
    let mut checked = 0;
    for a in 0..shape.len() {
        for b in (0..shape.len()).filter(|&b| b != a) {
            for at in all_indices(&shape) {
                if at[a] != 0 || at[b] != 0 {
                    continue;
                }
                let Some(tensor) = jac.slice_tensor((a, b), &at) else {
                    continue;
                };
                let tiles = tensor.summarize(block, &Progress::new()).unwrap();
                let rows = window(shape[a], block.0, first.0, count.0);
                let cols = window(shape[b], block.1, first.1, count.1);
                let today = jac.slice_blocks((a, b), &at, &rows, &cols);
                let entries = by_entries(jac, (a, b), &at, &rows, &cols);
                let what = format!("{what}: ({a},{b}) at {at:?}, blocks {block:?}");
                prop_assert!(same(&today, &entries), "{}: today {:?}", what, today);
                match tensor.blocks(&tiles, &rows, &cols) {
                    Some(tiled) => {
                        prop_assert!(same(&tiled, &today), "{}: {:?} vs {:?}", what, tiled, today);
                        let whole: [Range<usize>; 2] = [0..shape[a], 0..shape[b]];
                        let whole = jac.slice_blocks((a, b), &at, &whole[..1], &whole[1..]);
                        prop_assert_eq!(
                            tensor.max_abs(&tiles).map(f64::to_bits),
                            Some(whole.max_abs().to_bits()),
                            "{}",
                            what
                        );
                        checked += 1;
                    }
                    None => {
                        // Only where a product of the scale and an entry underflows.
                        let s = tensor.scale();
                        let values = jac.bound.arrays[tensor.tensor()].data();
                        prop_assert!(
                            values.iter().any(|t| t.is_finite()
                                && *t != 0.0
                                && s.is_finite()
                                && s * t == 0.0),
                            "{}: tiles refused",
                            what
                        );
                    }
                }
                // A window that does not start on a tile is refused.
                let shifted: Vec<Range<usize>> =
                    rows.iter().map(|r| r.start + 1..r.end + 1).collect();
                if block.0 > 1 && shifted.iter().any(|r| r.start < shape[a]) {
                    prop_assert!(tensor.blocks(&tiles, &shifted, &cols).is_none(), "{}", what);
                }
            }
        }
    }
    Ok(checked)
}

/// Expressions whose Jacobians have slices that are one tensor times a constant (and
/// others that do not), over `A`, `B` (d×d), `C` (d×e) and `s` (scalar).
fn expression() -> impl Strategy<Value = String> {
    select(
        &[
            "A @ B.T",
            "A @ C",
            "C.T @ A",
            "s * (A @ B)",
            "(A @ B) * s - A",
            "-(B @ A.T)",
            "relu(A @ C)",
            "A * s",
            "sum(A @ C, axis=1)",
            "(A @ B) / s",
            "A @ B + B @ A",
            "softmax(A @ C, axis=1)",
        ][..],
    )
    .prop_map(String::from)
}

fn runner(cases: u32) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
}

#[test]
fn tiles_summarise_like_every_entry_on_random_problems() {
    let problems = (
        expression(),
        0..3usize,
        1..=5usize,
        1..=6usize,
        prop::collection::vec(0..VALUES.len(), 64),
    );
    let views = (
        (1..=4usize, 1..=4usize),
        (0..3usize, 0..3usize),
        (1..=4usize, 1..=4usize),
    );
    let checked = std::sync::atomic::AtomicUsize::new(0);
    runner(500)
        .run(
            &(problems, views),
            |((source, wrt, d, e, picks), (block, first, count))| {
                let Some(jac) = problem_from_picks(&source, wrt, (d, e), &VALUES, &picks) else {
                    return Ok(());
                };
                let what = format!("{source} (d={d}, e={e}, wrt {wrt})");
                let n = check_tensor_slices(&jac, block, first, count, &what)?;
                checked.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            },
        )
        .unwrap();
    let checked = checked.into_inner();
    assert!(checked >= 800, "only {checked} slices answered from tiles");
}

/// J = c · C[i,k] · δ(i,k) · T[j,l] (or T[l,j]) + δ(i,0)·δ(k,1)·δ(j,l)·C[i,k] over i, k
/// of 2 and j, l of T's shape: its (j,l) and (l,j) slices at i = k are `c · C[i,i]` times
/// T (or Tᵀ); at i = 0, k = 1 they are diagonal.
fn hand_built(t: &ArrayD<f64>, constants: &ArrayD<f64>, coeff: f64, transposed: bool) -> Jacobian {
    let (rows, cols) = (t.shape()[0], t.shape()[1]);
    let (j, l) = if transposed {
        (cols, rows)
    } else {
        (rows, cols)
    };
    let read = if transposed { [L, J] } else { [J, L] };
    let terms = vec![
        term(
            coeff,
            &[],
            vec![Factor::Delta(I, K), tensor(1, &[I, K]), tensor(0, &read)],
        ),
        term(
            1.0,
            &[],
            vec![
                Factor::Delta(I, Slot::Fixed(0)),
                Factor::Delta(K, Slot::Fixed(1)),
                Factor::Delta(J, L),
                tensor(1, &[I, K]),
            ],
        ),
    ];
    let tensors = vec![TensorDef::Node(0), TensorDef::Node(1)];
    let f = formula_over_ijkl(&[2, j, 2, l, 1, 1], tensors, terms);
    let values = [t, constants];
    let g = graph(&[("T", &[rows, cols]), ("C", &[2, 2])]);
    Jacobian::from_node_values(g, 0, f, |id| values[id]).unwrap()
}

#[test]
fn nan_infinities_lone_nonzeros_and_every_kind_of_constant_summarise_exactly() {
    let entries = prop::collection::vec(0..VALUES.len() + SPECIAL.len() + 6, 1..=48);
    let cases = (
        (1..=6usize, 1..=8usize, entries),
        (
            select(&COEFFICIENTS[..]),
            select(&SCALES[..]),
            any::<bool>(),
        ),
        (
            (1..=3usize, 1..=3usize),
            (0..2usize, 0..2usize),
            (1..=4usize, 1..=4usize),
        ),
    );
    runner(400)
        .run(
            &cases,
            |((rows, cols, picks), (coeff, constant, transposed), (block, first, count))| {
                // Mostly zeros, so that lone nonzeros and all-zero blocks occur.
                let data = (0..rows * cols)
                    .map(|n| match picks[n % picks.len()] {
                        p if p < VALUES.len() => VALUES[p],
                        p if p < VALUES.len() + SPECIAL.len() => SPECIAL[p - VALUES.len()],
                        _ => 0.0,
                    })
                    .collect();
                let t = ArrayD::from_shape_vec(IxDyn(&[rows, cols]), data).unwrap();
                let c =
                    ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![constant, 9.0, 9.0, -1.0]).unwrap();
                let jac = hand_built(&t, &c, coeff, transposed);
                let what =
                    format!("T {t:?} × {coeff} × C[i,i] ({constant}), transposed {transposed}");
                let n = check_tensor_slices(&jac, block, first, count, &what)?;
                // The (j,l) and (l,j) slices at i = k = 0 and i = k = 1.
                prop_assert_eq!(n + refused(&jac), 4, "{}", what);
                Ok(())
            },
        )
        .unwrap();
}

/// How many (j,l) or (l,j) slices at i = k of `jac` refuse tiles (a product underflows).
fn refused(jac: &Jacobian) -> usize {
    let mut n = 0;
    for axes in [(1, 3), (3, 1)] {
        for i in 0..2 {
            let tensor = jac
                .slice_tensor(axes, &[i, 0, i, 0])
                .expect("T times a constant");
            let tiles = tensor.summarize((1, 1), &Progress::new()).unwrap();
            let first: [Range<usize>; 2] = [0..1, 0..1];
            n += usize::from(tensor.blocks(&tiles, &first[..1], &first[1..]).is_none());
        }
    }
    n
}

#[test]
fn slices_that_are_not_one_tensor_keep_todays_path() {
    let t = filled(&[3, 4], 1);
    let c = filled(&[2, 2], 2);
    let jac = hand_built(&t, &c, 2.0, false);
    // i = 0, k = 1: only the diagonal term δ(j,l). i = 1, k = 0: no term. (i,k): the
    // delta δ(i,k) moves. (k,l) at i = 1: δ(i,k) moves.
    assert!(jac.slice_tensor((1, 3), &[0, 0, 1, 0]).is_none());
    assert!(jac.slice_tensor((1, 3), &[1, 0, 0, 0]).is_none());
    assert!(jac.slice_tensor((0, 2), &[0, 1, 0, 2]).is_none());
    assert!(jac.slice_tensor((2, 3), &[1, 1, 0, 0]).is_none());
    assert!(jac.slice_tensor((1, 3), &[1, 0, 1, 0]).is_some());
    // The seed's layer: the (j,l) slice at i = k is W, the (k,l) slice is not one tensor.
    let (jac, inputs) = problem(
        "X @ W.T",
        &[("X", "3x5"), ("W", "4x5")],
        "X",
        BTreeMap::new(),
    );
    let tensor = jac.slice_tensor((1, 3), &[2, 0, 2, 0]).unwrap();
    assert_eq!(tensor.scale(), 1.0);
    let w = inputs.get("W").unwrap();
    assert_eq!(jac.bound.arrays[tensor.tensor()].view(), w.view());
    assert!(jac.slice_tensor((2, 3), &[2, 1, 0, 0]).is_none());
    // relu′(Z)[i,j] moves with j on the (j,l) slice.
    let (jac, _) = problem(
        "relu(X @ W.T)",
        &[("X", "3x5"), ("W", "4x5")],
        "X",
        BTreeMap::new(),
    );
    assert!(jac.slice_tensor((1, 3), &[2, 0, 2, 0]).is_none());
}
