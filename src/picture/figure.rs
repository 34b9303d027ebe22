//! A heat-map picture: what it shows ([`Figure`]: the painted blocks, the title, the axes
//! and the legend) and where each part goes in pixels ([`Figure::layout`]). The SVG and PNG
//! writers draw the same [`Canvas`], so the two formats agree to the pixel.

use std::ops::RangeInclusive;

use super::grid::{HeatGrid, MapMode, Viewport};
use super::paint::{Agreement, Paint, Rgb, SHADES};
use crate::layout::Layout;

/// One piece of a legend, left to right.
#[derive(Debug, Clone, PartialEq)]
pub enum LegendItem {
    /// What the colours mean (`sparsity`, `|value|`, `structure`, …).
    Label(String),
    /// A sample of a block's look.
    Swatch(Paint),
    /// Words between the samples.
    Text(String),
}

/// The legend of a map of `grid` in `mode`: what the colours mean and the block size, with
/// `dot` between items and `times` in the block size (`block 4×18`). A grid of structural
/// counts alone (values unknown) is shaded by its share of structurally nonzero entries and
/// has no "zero value" colour.
pub fn legend(grid: &HeatGrid, mode: MapMode, dot: &str, times: &str) -> Vec<LegendItem> {
    let text = |s: String| LegendItem::Text(s);
    let block = grid.viewport.block;
    let block = format!("block {}{times}{}", block.0, block.1);
    // The claim map is made of values of its own, known or not in `grid`.
    let own_values = grid.values_known || mode == MapMode::Agreement;
    let mode = if own_values { mode } else { MapMode::Sparsity };
    let label = if own_values {
        mode.label()
    } else {
        "structure"
    };
    let mut items = vec![LegendItem::Label(format!("{label} "))];
    match mode {
        MapMode::Sparsity | MapMode::Magnitude => {
            items.extend(
                (1..=SHADES).map(|s| LegendItem::Swatch(Paint::Level(s as f64 / SHADES as f64))),
            );
            items.push(text(" nonzero ".to_string()));
        }
        MapMode::Signed => {
            items.push(LegendItem::Swatch(Paint::Signed(-1.0)));
            items.push(LegendItem::Swatch(Paint::Signed(-0.25)));
            items.push(text(" < 0 < ".to_string()));
            items.push(LegendItem::Swatch(Paint::Signed(0.25)));
            items.push(LegendItem::Swatch(Paint::Signed(1.0)));
            items.push(text(" ".to_string()));
        }
        MapMode::Agreement => {
            for agreement in Agreement::ALL {
                items.push(LegendItem::Swatch(Paint::Agreement(agreement)));
                items.push(text(format!(" {} ", agreement.label())));
            }
            items.push(text(format!("{dot} blank: both 0 {dot} {block}")));
            return items;
        }
    }
    if grid.values_known {
        items.push(LegendItem::Swatch(Paint::NumericZero));
        items.push(text(format!(" zero value {dot} ")));
    } else {
        items.push(text(format!("{dot} ")));
    }
    items.push(text(format!("blank: structural 0 {dot} {block}")));
    items
}

/// The words around a map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    /// The title: the expression.
    pub title: String,
    /// What the map is: `slice J[i,j,k,l] at i=2, j=3` or the matrix layout.
    pub subtitle: String,
    /// The name of the rows' axis (`k`, `vec(Y)`).
    pub rows: String,
    /// The name of the columns' axis (`l`, `vec(X)`).
    pub cols: String,
}

impl Labels {
    /// The words of a slice of J (axes `names`) through `at` along `rows` and `cols` (none
    /// for the single row of a J of rank 1, or the single entry of rank 0), under the title
    /// `title`: `slice J[i,j,k,l] with i=2, j=3`.
    pub fn slice(
        title: &str,
        names: &[String],
        (rows, cols): (Option<usize>, Option<usize>),
        at: &[usize],
    ) -> Labels {
        let fixed: Vec<String> = names
            .iter()
            .enumerate()
            .filter(|(axis, _)| Some(*axis) != rows && Some(*axis) != cols)
            .map(|(axis, name)| format!("{name}={}", at[axis]))
            .collect();
        let fixed = if fixed.is_empty() {
            "nothing fixed".to_string()
        } else {
            fixed.join(", ")
        };
        let name = |axis: Option<usize>| axis.map_or(String::new(), |a| names[a].clone());
        Labels {
            title: title.to_string(),
            subtitle: format!("slice J[{}] with {fixed}", names.join(",")),
            rows: name(rows),
            cols: name(cols),
        }
    }

    /// The words of J (axes `names`, of Y = `y` by X = `x`) as one matrix in `layout`:
    /// `J[i,j,k,l] as one numerator-rowmajor matrix`, rows vec(Y) and columns vec(X) (the
    /// other way round in a denominator layout).
    pub fn matrix(title: &str, names: &[String], layout: Layout, y: &str, x: &str) -> Labels {
        let (y, x) = (format!("vec({y})"), format!("vec({x})"));
        let numerator = layout.matrix().is_none_or(|(_, numerator)| numerator);
        let (rows, cols) = if numerator { (y, x) } else { (x, y) };
        Labels {
            title: title.to_string(),
            subtitle: format!("J[{}] as one {} matrix", names.join(","), layout.name()),
            rows,
            cols,
        }
    }
}

/// A picture of a heat map: its blocks as painted, without a cursor, and its words.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The words around the map.
    pub labels: Labels,
    /// The part of the slice or matrix the map covers.
    pub viewport: Viewport,
    /// The blocks inside the slice, row-major: `rows × cols` of [`Figure::blocks`].
    pub paints: Vec<Paint>,
    /// The legend under the map.
    pub legend: Vec<LegendItem>,
}

impl Figure {
    /// The picture of `grid` in `mode`; with `ascii`, the legend's words are ASCII.
    pub fn new(grid: &HeatGrid, mode: MapMode, labels: Labels, ascii: bool) -> Figure {
        let viewport = grid.viewport;
        let (rows, cols) = blocks_inside(&viewport);
        let paints = (0..rows * cols)
            .map(|n| grid.paint(n / cols, n % cols, mode))
            .collect();
        Figure {
            labels,
            viewport,
            paints,
            legend: if ascii {
                legend(grid, mode, "|", "x")
            } else {
                legend(grid, mode, "·", "×")
            },
        }
    }

    /// The blocks drawn: (rows, columns) of blocks that hold entries.
    pub fn blocks(&self) -> (usize, usize) {
        blocks_inside(&self.viewport)
    }

    /// The paint of block (y, x).
    pub fn paint(&self, y: usize, x: usize) -> Paint {
        let (_, cols) = self.blocks();
        self.paints[y * cols + x]
    }

    /// The entries the map shows: rows, columns (inclusive ranges).
    pub fn ranges(&self) -> (RangeInclusive<usize>, RangeInclusive<usize>) {
        let (origin, last) = (self.viewport.origin, self.viewport.last_visible());
        (origin.0..=last.0, origin.1..=last.1)
    }

    /// Where everything goes, in pixels.
    pub fn layout(&self) -> Canvas {
        let (rows, cols) = self.blocks();
        let cell = (MAP_TARGET / rows.max(cols).max(1)).clamp(1, MAX_CELL);
        let (row_range, col_range) = self.ranges();
        let row_names = [
            format!("{}={}", self.labels.rows, row_range.start()),
            row_range.end().to_string(),
        ];
        let gutter = row_names.iter().map(|n| text_width(n)).max().unwrap_or(0) + CHAR_W;
        let map = MapArea {
            x: MARGIN + gutter,
            y: MARGIN + 3 * LINE_H,
            cell,
            rows,
            cols,
        };
        let (map_w, map_h) = (cols * cell, rows * cell);
        let mut texts = vec![
            Text::new(MARGIN, MARGIN, &self.labels.title, TITLE),
            Text::new(MARGIN, MARGIN + LINE_H, &self.labels.subtitle, DIM),
        ];
        // Column axis: its name and first index at the left, its last index at the right.
        let col_first = format!("{}={}", self.labels.cols, col_range.start());
        let col_last = col_range.end().to_string();
        let col_y = MARGIN + 2 * LINE_H;
        texts.push(Text::new(map.x, col_y, &col_first, LABEL));
        let last_x = (map.x + map_w)
            .saturating_sub(text_width(&col_last))
            .max(map.x + text_width(&col_first) + CHAR_W);
        texts.push(Text::new(last_x, col_y, &col_last, LABEL));
        // Row axis: its name and first index at the top, its last index at the bottom.
        let right = |text: &str| map.x - CHAR_W / 2 - text_width(text);
        texts.push(Text::new(right(&row_names[0]), map.y, &row_names[0], LABEL));
        let bottom = (map.y + map_h).saturating_sub(TEXT_H).max(map.y + LINE_H);
        texts.push(Text::new(
            right(&row_names[1]),
            bottom,
            &row_names[1],
            LABEL,
        ));
        // The legend under the map.
        let legend_y = map.y + map_h.max(2 * LINE_H) + LINE_H / 2;
        let mut swatches = Vec::new();
        let mut x = MARGIN;
        for item in &self.legend {
            match item {
                LegendItem::Label(words) => {
                    texts.push(Text::new(x, legend_y, words, LABEL));
                    x += text_width(words);
                }
                LegendItem::Text(words) => {
                    texts.push(Text::new(x, legend_y, words, DIM));
                    x += text_width(words);
                }
                LegendItem::Swatch(paint) => {
                    swatches.push(Swatch {
                        x,
                        y: legend_y,
                        size: SWATCH,
                        paint: *paint,
                    });
                    x += SWATCH + 2;
                }
            }
        }
        let widest = texts.iter().map(|t| t.x + text_width(&t.text)).max();
        let width = (map.x + map_w).max(x).max(widest.unwrap_or(0)) + MARGIN;
        Canvas {
            width,
            height: legend_y + LINE_H + MARGIN,
            map,
            frame: FRAME,
            texts,
            swatches,
        }
    }
}

/// Rows and columns of `viewport`'s blocks that hold entries of the slice.
fn blocks_inside(viewport: &Viewport) -> (usize, usize) {
    let (last_row, last_col) = viewport.last_visible();
    (
        (last_row - viewport.origin.0) / viewport.block.0 + 1,
        (last_col - viewport.origin.1) / viewport.block.1 + 1,
    )
}

/// The background of a picture: the explorer's colour maps are made for a dark one.
pub const BACKGROUND: Rgb = (18, 18, 18);
/// The title's colour.
const TITLE: Rgb = (235, 235, 235);
/// Axis names and the legend's label.
const LABEL: Rgb = (130, 170, 255);
/// Secondary text.
const DIM: Rgb = (160, 160, 160);
/// The line around the map, so that a blank map still shows its extent.
const FRAME: Rgb = (70, 70, 70);

/// Advance of one character, in pixels (a monospace font: 12 px at 20 px size; the PNG
/// font's 6-pixel cells at scale 2).
pub const CHAR_W: usize = 12;
/// Height of a line of text, caps, in pixels.
pub const TEXT_H: usize = 14;
/// Distance between lines of text.
const LINE_H: usize = 24;
/// Space around everything.
const MARGIN: usize = 16;
/// The side of a legend sample.
const SWATCH: usize = 16;
/// The map aims at this many pixels along its longer side.
const MAP_TARGET: usize = 1024;
/// The largest side of one block, in pixels.
const MAX_CELL: usize = 16;

/// The width of `text` in pixels.
fn text_width(text: &str) -> usize {
    text.chars().count() * CHAR_W
}

/// Where the map goes: its top-left corner, the side of a block, and its blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapArea {
    /// Left edge, pixels.
    pub x: usize,
    /// Top edge, pixels.
    pub y: usize,
    /// The side of one block, pixels.
    pub cell: usize,
    /// Blocks down.
    pub rows: usize,
    /// Blocks across.
    pub cols: usize,
}

/// A line of text; `y` is the top of its capitals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// Left edge, pixels.
    pub x: usize,
    /// Top edge, pixels.
    pub y: usize,
    /// The words.
    pub text: String,
    /// Their colour.
    pub rgb: Rgb,
}

impl Text {
    fn new(x: usize, y: usize, text: &str, rgb: Rgb) -> Text {
        Text {
            x,
            y,
            text: text.to_string(),
            rgb,
        }
    }
}

/// A legend sample: a square of a paint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Swatch {
    /// Left edge, pixels.
    pub x: usize,
    /// Top edge, pixels.
    pub y: usize,
    /// Side, pixels.
    pub size: usize,
    /// What it shows.
    pub paint: Paint,
}

/// A figure laid out in pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Canvas {
    /// Width, pixels.
    pub width: usize,
    /// Height, pixels.
    pub height: usize,
    /// The map.
    pub map: MapArea,
    /// The colour of the one-pixel line just outside the map.
    pub frame: Rgb,
    /// The words.
    pub texts: Vec<Text>,
    /// The legend's samples.
    pub swatches: Vec<Swatch>,
}
