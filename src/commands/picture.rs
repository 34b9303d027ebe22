//! What `slice` and `matrix` share for their maps: the size and mode options, the checks
//! made before any work, and writing a [`Figure`] as a spy plot, SVG or PNG.

use std::io::{self, Write};
use std::path::Path;

use super::deliver;
use crate::calculus::render::Notation;
use crate::cli::{HeatMode, MapSize};
use crate::error::Error;
use crate::picture::figure::{Figure, Labels};
use crate::picture::grid::{HeatGrid, MapMode};
use crate::picture::{raster, svg, text};

/// The most blocks a picture may have along each side.
const MAX_BLOCKS: usize = 4096;

/// How a map is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drawing {
    /// A text spy plot.
    Text,
    /// An SVG picture.
    Svg,
    /// A PNG picture.
    Png,
}

impl Drawing {
    fn name(self) -> &'static str {
        match self {
            Drawing::Text => "text",
            Drawing::Svg => "svg",
            Drawing::Png => "png",
        }
    }
}

/// How a map was asked for: checked by [`PictureRequest::check`] before any work.
pub struct PictureRequest<'a> {
    /// The drawing.
    pub drawing: Drawing,
    /// `-o`.
    pub output_file: Option<&'a Path>,
    /// `--force`.
    pub force: bool,
    /// `--mode`.
    pub mode: Option<HeatMode>,
    /// `--width`, `--height`.
    pub size: MapSize,
}

impl PictureRequest<'_> {
    /// Refuses what cannot be drawn before any work is done: a picture without `-o`, a
    /// picture larger than [`MAX_BLOCKS`] on a side.
    pub fn check(&self) -> Result<(), Error> {
        if self.drawing != Drawing::Text && self.output_file.is_none() {
            let name = self.drawing.name();
            return Err(Error::Usage(format!(
                "--format {name} writes a picture; give it a file name with -o FILE.{name}"
            )));
        }
        if self.drawing != Drawing::Text {
            for (flag, value) in [("--width", self.size.width), ("--height", self.size.height)] {
                if value.is_some_and(|blocks| blocks > MAX_BLOCKS) {
                    return Err(Error::Usage(format!(
                        "{flag} of a picture is at most {MAX_BLOCKS} blocks"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The map's size: characters of a spy plot (64 × 16) or blocks of a picture
    /// (256 × 128) unless given.
    pub fn size(&self) -> (usize, usize) {
        let (width, height) = match self.drawing {
            Drawing::Text => (64, 16),
            Drawing::Svg | Drawing::Png => (256, 128),
        };
        (
            self.size.width.unwrap_or(width),
            self.size.height.unwrap_or(height),
        )
    }

    /// The map mode of `--mode` (sparsity by default).
    pub fn map_mode(&self) -> MapMode {
        match self.mode {
            None | Some(HeatMode::Sparsity) => MapMode::Sparsity,
            Some(HeatMode::Abs) => MapMode::Magnitude,
            Some(HeatMode::Signed) => MapMode::Signed,
        }
    }

    /// The figure of `grid` in the mode asked for; its legend in ASCII with `--ascii` and
    /// in a PNG (whose font has only ASCII).
    pub fn figure(&self, grid: &HeatGrid, labels: Labels, notation: Notation) -> Figure {
        let ascii = notation == Notation::Ascii || self.drawing == Drawing::Png;
        Figure::new(grid, self.map_mode(), labels, ascii)
    }

    /// Writes `figure` to `-o` or `out`; `by` is the sign between sizes in a spy plot.
    pub fn deliver(&self, figure: &Figure, by: &str, out: &mut dyn Write) -> Result<(), Error> {
        let write = |sink: &mut dyn Write| -> io::Result<()> {
            match self.drawing {
                Drawing::Text => writeln!(sink, "{}", text::spy_plot(figure, by)),
                Drawing::Svg => svg::write_svg(figure, sink),
                Drawing::Png => raster::write_png(figure, sink),
            }
        };
        deliver(self.output_file, self.force, out, write)
    }
}
