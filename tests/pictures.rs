//! Pictures of the heat map (issue 14, item 3): `slice --format svg|png` and `matrix`,
//! checked by decoding the PNG and parsing the SVG, block by block, against what J is:
//! for the seed, ∂Y[i,j]/∂X[k,l] = δ(i,k)·W[j,l], so the (k,l) slice at i has the single
//! lit row k = i, and J in numerator-rowmajor layout is I₆₄ ⊗ W.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use jacscope::picture::figure::BACKGROUND;
use tempfile::TempDir;

#[path = "common/run.rs"]
mod run;

use run::{refused, run, succeeds};

/// A decoded RGB PNG.
struct Png {
    width: usize,
    height: usize,
    data: Vec<u8>,
}

impl Png {
    fn read(path: &Path) -> Png {
        let decoder = png::Decoder::new(std::io::BufReader::new(fs::File::open(path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut data = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut data).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        data.truncate(info.buffer_size());
        Png {
            width: info.width as usize,
            height: info.height as usize,
            data,
        }
    }

    fn at(&self, x: usize, y: usize) -> (u8, u8, u8) {
        let n = 3 * (y * self.width + x);
        (self.data[n], self.data[n + 1], self.data[n + 2])
    }

    /// The inside of the map: the largest rectangle drawn with a one-pixel frame of one
    /// colour that is not the background, found by scanning (independent of the layout
    /// code): (left, top, width, height) of the inside.
    fn map(&self) -> (usize, usize, usize, usize) {
        let mut best = (0, 0, 0, 0);
        for y in 0..self.height {
            let mut x = 0;
            while x < self.width {
                let colour = self.at(x, y);
                let run = (x..self.width)
                    .take_while(|&e| self.at(e, y) == colour)
                    .count();
                if colour != BACKGROUND && run > 40 && run > best.2 {
                    // A top edge: the same colour runs down both ends.
                    let down = (y..self.height)
                        .take_while(|&d| {
                            self.at(x, d) == colour && self.at(x + run - 1, d) == colour
                        })
                        .count();
                    if down > 4 && (0..run).all(|e| self.at(x + e, y + down - 1) == colour) {
                        best = (x + 1, y + 1, run - 2, down - 2);
                    }
                }
                x += run;
            }
        }
        assert!(best.2 > 0, "no framed map found");
        best
    }
}

fn write(dir: &TempDir, name: &str, args: &[&str]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["-o", path.to_str().unwrap()]);
    succeeds(&all);
    path
}

/// The `<rect class="block">` elements of an SVG (which must parse as XML): (x, y, width)
/// in blocks, and the fill.
fn svg_blocks(path: &Path) -> Vec<(usize, usize, usize, String)> {
    let text = fs::read_to_string(path).unwrap();
    let document = roxmltree::Document::parse(&text).expect("the SVG is well-formed XML");
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    let number = |node: roxmltree::Node, name: &str| -> usize {
        node.attribute(name).unwrap().parse().unwrap()
    };
    document
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("class") == Some("block"))
        .map(|n| {
            assert_eq!(n.attribute("height"), Some("1"));
            (
                number(n, "x"),
                number(n, "y"),
                number(n, "width"),
                n.attribute("fill").unwrap().to_string(),
            )
        })
        .collect()
}

/// Every (y, x) block a list of SVG runs lights.
fn lit_blocks(blocks: &[(usize, usize, usize, String)]) -> BTreeSet<(usize, usize)> {
    blocks
        .iter()
        .flat_map(|(x, y, width, _)| (*x..x + width).map(move |x| (*y, x)))
        .collect()
}

/// The seed's (k,l) slice at i = 5, j = 3 as a PNG: exactly the pixel rows of entry row
/// k = 5 are lit, all across, and every other pixel of the map is background.
#[test]
fn the_png_of_the_seeds_slice_lights_exactly_row_k_equals_i() {
    let dir = TempDir::new().unwrap();
    for mode in ["sparsity", "abs", "signed"] {
        let name = format!("slice-{mode}.png");
        let args = [
            "slice", "--axes", "k,l", "--fix", "i=5,j=3", "--format", "png", "--mode", mode,
        ];
        let png = Png::read(&write(&dir, &name, &args));
        let (left, top, width, height) = png.map();
        assert_eq!(height % 64, 0, "{mode}: 64 rows k, {height} pixels");
        let per_row = height / 64;
        for y in 0..height {
            let lit = (0..width)
                .filter(|&x| png.at(left + x, top + y) != BACKGROUND)
                .count();
            let expected = if y / per_row == 5 { width } else { 0 };
            assert_eq!(lit, expected, "{mode}: pixel row {y} (k = {})", y / per_row);
        }
    }
}

/// The same slice as SVG: one row of blocks, y = 5, covering every column.
#[test]
fn the_svg_of_the_seeds_slice_lights_exactly_row_k_equals_i() {
    let dir = TempDir::new().unwrap();
    let path = write(
        &dir,
        "slice.svg",
        &[
            "slice", "--axes", "k,l", "--fix", "i=5,j=3", "--format", "svg",
        ],
    );
    let blocks = svg_blocks(&path);
    let lit = lit_blocks(&blocks);
    // 64 × 1024 on the default 256 × 128 blocks: one row of k per block row, 4 columns of l
    // per block.
    let expected: BTreeSet<(usize, usize)> = (0..256).map(|x| (5, x)).collect();
    assert_eq!(lit, expected);
    let text = fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("<title>X @ W.T</title>"),
        "the expression is the title"
    );
    for words in [
        "k=0",
        "l=0",
        "1023",
        "63",
        "sparsity",
        "block 1×4",
        "slice J[i,j,k,l] with i=5, j=3",
    ] {
        assert!(text.contains(words), "{words} in the SVG");
    }
}

/// J of the seed in numerator-rowmajor layout is I₆₄ ⊗ W: 64 diagonal blocks of 512 × 1024.
/// On 64 × 64 blocks each is one block, on the diagonal; on the default 256 × 128 blocks
/// (256 × 256 entries each) block (y, x) is lit exactly when x / 4 = y / 2 (same i).
#[test]
fn the_svg_of_the_seeds_matrix_shows_64_diagonal_blocks() {
    let dir = TempDir::new().unwrap();
    let args = [
        "matrix",
        "--layout",
        "numerator-rowmajor",
        "--format",
        "svg",
        "--width",
        "64",
        "--height",
        "64",
    ];
    let blocks = svg_blocks(&write(&dir, "square.svg", &args));
    assert_eq!(blocks.len(), 64, "{blocks:?}");
    let lit = lit_blocks(&blocks);
    assert_eq!(lit, (0..64).map(|i| (i, i)).collect());
    // Every block is full: one colour, the densest.
    let fills: BTreeSet<&String> = blocks.iter().map(|b| &b.3).collect();
    assert_eq!(fills.len(), 1);

    let args = [
        "matrix",
        "--layout",
        "numerator-rowmajor",
        "--format",
        "svg",
    ];
    let lit = lit_blocks(&svg_blocks(&write(&dir, "default.svg", &args)));
    let expected: BTreeSet<(usize, usize)> = (0..128)
        .flat_map(|y| (0..256).map(move |x| (y, x)))
        .filter(|(y, x)| x / 4 == y / 2)
        .collect();
    assert_eq!(lit, expected);

    // Column-major, J is W ⊗ I₆₄: an identity in every 64 × 64 tile, so every block holds
    // some nonzero.
    let args = [
        "matrix",
        "--layout",
        "numerator-colmajor",
        "--format",
        "svg",
        "--width",
        "32",
        "--height",
        "16",
    ];
    let lit = lit_blocks(&svg_blocks(&write(&dir, "colmajor.svg", &args)));
    assert_eq!(lit.len(), 16 * 32);
    // The denominator layouts are the transposes.
    let args = [
        "matrix",
        "--layout",
        "denominator-rowmajor",
        "--format",
        "svg",
        "--width",
        "64",
        "--height",
        "64",
    ];
    let lit = lit_blocks(&svg_blocks(&write(&dir, "denominator.svg", &args)));
    assert_eq!(lit, (0..64).map(|i| (i, i)).collect());
}

/// The matrix as text: the same spy plot as `slice` prints, lit on the block diagonal.
#[test]
fn the_matrix_spy_plot_shows_the_block_diagonal() {
    let out = succeeds(&[
        "matrix",
        "--layout",
        "numerator-rowmajor",
        "--width",
        "32",
        "--height",
        "8",
    ])
    .stdout;
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].contains("rows vec(Y) = 0..32768, columns vec(X) = 0..65536"),
        "{out}"
    );
    assert!(
        lines[0].contains("each character is 4096×2048 entries"),
        "{out}"
    );
    let rows: Vec<&str> = lines[2..]
        .iter()
        .map(|l| l.rsplit(' ').next().unwrap())
        .collect();
    assert_eq!(rows.len(), 8);
    for (y, row) in rows.iter().enumerate() {
        let lit: Vec<usize> = row
            .char_indices()
            .filter(|(_, c)| *c == '*')
            .map(|(x, _)| x)
            .collect();
        assert_eq!(lit, (4 * y..4 * y + 4).collect::<Vec<_>>(), "{out}");
    }
    let json: serde_json::Value = serde_json::from_str(
        &succeeds(&[
            "matrix",
            "--layout",
            "numerator-rowmajor",
            "--width",
            "64",
            "--height",
            "64",
            "--json",
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(json["block"], serde_json::json!([512, 1024]));
    let counts = json["structural"].as_array().unwrap();
    for (y, row) in counts.iter().enumerate() {
        for (x, count) in row.as_array().unwrap().iter().enumerate() {
            let want = if x == y { 512 * 1024 } else { 0 };
            assert_eq!(count.as_u64(), Some(want), "block ({y}, {x})");
        }
    }
}

/// A lone nonzero in a block of 10 × 30 entries lights its block, in every mode: J of
/// X * W has δ(i,k)·δ(j,l)·W[i,j], so the (i,j) slice at k = 17, l = 211 has one nonzero.
#[test]
fn a_lone_nonzero_in_a_big_block_shows() {
    let dir = TempDir::new().unwrap();
    for mode in ["sparsity", "abs", "signed"] {
        let args = [
            "slice",
            "X * W",
            "-s",
            "X=40x300",
            "-s",
            "W=40x300",
            "--axes",
            "i,j",
            "--fix",
            "k=17,l=211",
            "--width",
            "10",
            "--height",
            "4",
            "--mode",
            mode,
            "--format",
        ];
        let mut svg = args.to_vec();
        svg.push("svg");
        let lit = lit_blocks(&svg_blocks(&write(&dir, &format!("lone-{mode}.svg"), &svg)));
        assert_eq!(lit, BTreeSet::from([(1, 7)]), "{mode}");
        let mut png_args = args.to_vec();
        png_args.push("png");
        let png = Png::read(&write(&dir, &format!("lone-{mode}.png"), &png_args));
        let (left, top, width, height) = png.map();
        let (cell_w, cell_h) = (width / 10, height / 4);
        assert_eq!(cell_w, cell_h, "square blocks");
        for y in 0..height {
            for x in 0..width {
                let lit = png.at(left + x, top + y) != BACKGROUND;
                assert_eq!(
                    lit,
                    (y / cell_h, x / cell_w) == (1, 7),
                    "{mode}: pixel ({x}, {y})"
                );
            }
        }
    }
}

/// Bad options: exit code 2 and a message, before any work; an existing file is kept.
#[test]
fn bad_picture_options_are_refused() {
    let dir = TempDir::new().unwrap();
    let slice = ["slice", "--axes", "k,l", "--fix", "i=2,j=3"];
    fn with<'a>(slice: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
        slice.iter().chain(extra).copied().collect()
    }
    // clap's own message for a value it does not know: its first line names the value.
    for (flag, value) in [("--format", "gif"), ("--mode", "loud")] {
        let run = run(&with(&slice, &[flag, value]));
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        let first = run.stderr.lines().next().unwrap();
        assert!(
            first.starts_with("error: invalid value") && first.contains(value),
            "{}",
            run.stderr
        );
    }
    for format in ["svg", "png"] {
        let message = refused(&with(&slice, &["--format", format]), &["-o FILE.", format]);
        assert_eq!(message.lines().count(), 1, "{message}");
        let matrix = [
            "matrix",
            "--layout",
            "numerator-rowmajor",
            "--format",
            format,
        ];
        assert_eq!(refused(&matrix, &["-o"]).lines().count(), 1);
    }
    let existing = dir.path().join("kept.svg");
    fs::write(&existing, "mine").unwrap();
    let path = existing.to_str().unwrap();
    let message = refused(
        &with(&slice, &["--format", "svg", "-o", path]),
        &["already exists", "--force"],
    );
    assert_eq!(message.lines().count(), 1, "{message}");
    let matrix = [
        "matrix",
        "--layout",
        "numerator-colmajor",
        "--format",
        "png",
        "-o",
        path,
    ];
    assert_eq!(refused(&matrix, &["already exists"]).lines().count(), 1);
    assert_eq!(fs::read_to_string(&existing).unwrap(), "mine");
    let mut forced = with(&slice, &["--format", "svg", "-o", path]);
    forced.push("--force");
    succeeds(&forced);
    assert!(fs::read_to_string(&existing).unwrap().starts_with("<?xml"));

    let one_line = |args: &[&str], needles: &[&str]| {
        assert_eq!(refused(args, needles).lines().count(), 1);
    };
    one_line(
        &with(&slice, &["--mode", "abs"]),
        &["--mode is for pictures"],
    );
    one_line(
        &with(&slice, &["--format", "csv", "--mode", "signed"]),
        &["--mode is for pictures"],
    );
    one_line(
        &with(
            &slice,
            &["--format", "png", "--width", "5000", "-o", "x.png"],
        ),
        &["at most 4096"],
    );
    one_line(
        &["matrix", "--layout", "numerator-rowmajor", "--mode", "abs"],
        &["structure alone", "--mode sparsity"],
    );
    one_line(&["matrix", "--layout", "out+in"], &["not a matrix"]);
    one_line(&["matrix", "--layout", "sideways"], &["unknown layout"]);
    assert!(!Path::new("x.png").exists());
}

/// The whole SVG of a small matrix, for review: I₃ ⊗ W with X 3×4 and W 5×4 (15 × 12).
#[test]
fn a_small_matrix_svg() {
    let dir = TempDir::new().unwrap();
    let args = [
        "matrix",
        "X @ W.T",
        "-s",
        "X=3x4",
        "-s",
        "W=5x4",
        "--layout",
        "numerator-rowmajor",
        "--format",
        "svg",
        "--width",
        "12",
        "--height",
        "15",
    ];
    let text = fs::read_to_string(write(&dir, "small.svg", &args)).unwrap();
    insta::assert_snapshot!(text);
}
