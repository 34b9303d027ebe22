//! A [`Figure`] as a PNG: its [`Canvas`] drawn pixel by pixel (blocks, frame, legend
//! samples, and words in the 5 × 7 font at twice its size), written with the `png` crate.

use std::io::{self, Write};

use super::figure::{BACKGROUND, Canvas, Figure};
use super::font;
use super::paint::{self, Rgb};
use crate::calculus::render::to_ascii;

/// Screen pixels per font pixel.
const SCALE: usize = 2;

/// An RGB image, 8 bits per channel, rows top first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Width, pixels.
    pub width: usize,
    /// Height, pixels.
    pub height: usize,
    /// `width × height × 3` bytes.
    pub data: Vec<u8>,
}

impl Image {
    fn new(width: usize, height: usize, rgb: Rgb) -> Image {
        let data = [rgb.0, rgb.1, rgb.2].repeat(width * height);
        Image {
            width,
            height,
            data,
        }
    }

    /// The colour at (x, y).
    pub fn at(&self, x: usize, y: usize) -> Rgb {
        let n = 3 * (y * self.width + x);
        (self.data[n], self.data[n + 1], self.data[n + 2])
    }

    /// Fills a rectangle, clipped to the image.
    fn fill(&mut self, x: usize, y: usize, w: usize, h: usize, rgb: Rgb) {
        for row in y..(y + h).min(self.height) {
            for col in x..(x + w).min(self.width) {
                let n = 3 * (row * self.width + col);
                self.data[n..n + 3].copy_from_slice(&[rgb.0, rgb.1, rgb.2]);
            }
        }
    }

    /// Draws `text` (spelled in ASCII) with its top-left corner at (x, y).
    fn text(&mut self, x: usize, y: usize, text: &str, rgb: Rgb) {
        for (n, c) in to_ascii(text).chars().enumerate() {
            let left = x + n * font::ADVANCE * SCALE;
            for (dy, bits) in font::glyph(c).iter().enumerate() {
                for dx in 0..font::WIDTH {
                    if bits & (1 << (font::WIDTH - 1 - dx)) != 0 {
                        self.fill(left + dx * SCALE, y + dy * SCALE, SCALE, SCALE, rgb);
                    }
                }
            }
        }
    }
}

/// The figure drawn as pixels.
pub fn render(figure: &Figure) -> Image {
    let Canvas {
        width,
        height,
        map,
        frame,
        texts,
        swatches,
    } = figure.layout();
    let mut image = Image::new(width, height, BACKGROUND);
    let (map_w, map_h) = (map.cols * map.cell, map.rows * map.cell);
    // The frame: a one-pixel line just outside the map.
    let (left, top) = (map.x - 1, map.y - 1);
    image.fill(left, top, map_w + 2, 1, frame);
    image.fill(left, map.y + map_h, map_w + 2, 1, frame);
    image.fill(left, top, 1, map_h + 2, frame);
    image.fill(map.x + map_w, top, 1, map_h + 2, frame);
    for y in 0..map.rows {
        for x in 0..map.cols {
            if let Some(rgb) = paint::rgb(figure.paint(y, x)) {
                let (px, py) = (map.x + x * map.cell, map.y + y * map.cell);
                image.fill(px, py, map.cell, map.cell, rgb);
            }
        }
    }
    for swatch in swatches {
        if let Some(rgb) = paint::rgb(swatch.paint) {
            image.fill(swatch.x, swatch.y, swatch.size, swatch.size, rgb);
        }
    }
    for text in texts {
        image.text(text.x, text.y, &text.text, text.rgb);
    }
    image
}

/// Writes the figure as a PNG, with the title (the expression) in an `iTXt` chunk.
pub fn write_png(figure: &Figure, sink: &mut dyn Write) -> io::Result<()> {
    let image = render(figure);
    let dimension = |n: usize| u32::try_from(n).map_err(io::Error::other);
    let mut encoder = png::Encoder::new(sink, dimension(image.width)?, dimension(image.height)?);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .add_itxt_chunk("Title".to_string(), figure.labels.title.clone())
        .map_err(io::Error::other)?;
    let mut writer = encoder.write_header().map_err(io::Error::other)?;
    writer
        .write_image_data(&image.data)
        .map_err(io::Error::other)?;
    writer.finish().map_err(io::Error::other)
}
