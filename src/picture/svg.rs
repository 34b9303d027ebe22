//! A [`Figure`] as SVG, written directly: the same [`Canvas`] as the PNG, the map's blocks
//! as `<rect class="block">` elements in block units inside `<g id="map">` (a run of
//! equal blocks along a row is one element), the words as `<text>`.

use std::io::{self, Write};

use super::figure::{BACKGROUND, Canvas, Figure, TEXT_H};
use super::paint::{self, Rgb};

/// Writes the figure as an SVG document.
pub fn write_svg(figure: &Figure, sink: &mut dyn Write) -> io::Result<()> {
    let Canvas {
        width,
        height,
        map,
        frame,
        texts,
        swatches,
    } = figure.layout();
    writeln!(sink, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        sink,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">"#
    )?;
    writeln!(sink, "<title>{}</title>", escaped(&figure.labels.title))?;
    writeln!(
        sink,
        r#"<rect width="{width}" height="{height}" fill="{}"/>"#,
        hex(BACKGROUND)
    )?;
    let (map_w, map_h) = (map.cols * map.cell, map.rows * map.cell);
    writeln!(
        sink,
        r#"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="{}" stroke-width="1"/>"#,
        map.x as f64 - 0.5,
        map.y as f64 - 0.5,
        map_w + 1,
        map_h + 1,
        hex(frame)
    )?;
    writeln!(
        sink,
        r#"<g id="map" transform="translate({} {}) scale({})" shape-rendering="crispEdges">"#,
        map.x, map.y, map.cell
    )?;
    for y in 0..map.rows {
        let mut x = 0;
        while x < map.cols {
            let rgb = paint::rgb(figure.paint(y, x));
            let run = (x..map.cols)
                .take_while(|&end| paint::rgb(figure.paint(y, end)) == rgb)
                .count();
            if let Some(rgb) = rgb {
                writeln!(
                    sink,
                    r#"<rect class="block" x="{x}" y="{y}" width="{run}" height="1" fill="{}"/>"#,
                    hex(rgb)
                )?;
            }
            x += run;
        }
    }
    writeln!(sink, "</g>")?;
    writeln!(sink, r#"<g id="legend" shape-rendering="crispEdges">"#)?;
    for swatch in swatches {
        if let Some(rgb) = paint::rgb(swatch.paint) {
            writeln!(
                sink,
                r#"<rect x="{}" y="{}" width="{size}" height="{size}" fill="{}"/>"#,
                swatch.x,
                swatch.y,
                hex(rgb),
                size = swatch.size
            )?;
        }
    }
    writeln!(sink, "</g>")?;
    writeln!(
        sink,
        r#"<g font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="20" xml:space="preserve">"#
    )?;
    for text in texts {
        writeln!(
            sink,
            r#"<text x="{}" y="{}" fill="{}">{}</text>"#,
            text.x,
            text.y + TEXT_H,
            hex(text.rgb),
            escaped(&text.text)
        )?;
    }
    writeln!(sink, "</g>")?;
    writeln!(sink, "</svg>")
}

/// `#rrggbb`.
fn hex((r, g, b): Rgb) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Text as XML character data: the five special characters escaped, and control
/// characters (which XML 1.0 does not allow) shown as U+FFFD.
fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}
