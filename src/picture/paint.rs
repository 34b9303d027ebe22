//! What a block of a heat map looks like, apart from any screen or file format: its kind
//! ([`Paint`]: blank, numeric zero, a level, a signed value, a claim map's verdict) and the
//! colour maps that turn it into RGB. The explorer's theme and the pictures (`svg.rs`,
//! `raster.rs`) draw from these, so a picture has the explorer's colours.

use colorgrad::Gradient;

/// An sRGB colour.
pub type Rgb = (u8, u8, u8);

/// What one block of the heat map holds, reduced to what is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Paint {
    /// Every entry is structurally zero (or the block lies outside the slice): background.
    Blank,
    /// Structurally nonzero entries, all numerically zero: a dim mark.
    NumericZero,
    /// Nonzero, with an intensity in (0, 1].
    Level(f64),
    /// Nonzero, with a signed intensity in [-1, 1] (diverging map).
    Signed(f64),
    /// How the claim compares with J in the block (the claim map).
    Agreement(Agreement),
}

/// How a block of the claim map compares the claim with J, over every entry it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agreement {
    /// Some entry is nonzero, and the claim equals J at every entry.
    Agree,
    /// They differ at some entry where both are nonzero, or in more than one way.
    Differ,
    /// They differ only where the claim is nonzero and J is zero.
    ClaimOnly,
    /// They differ only where J is nonzero and the claim is zero.
    TrueOnly,
}

impl Agreement {
    /// Every kind, in the order of the legend.
    pub const ALL: [Agreement; 4] = [
        Agreement::Agree,
        Agreement::Differ,
        Agreement::ClaimOnly,
        Agreement::TrueOnly,
    ];

    /// What the kind means, for the legend.
    pub fn label(self) -> &'static str {
        match self {
            Agreement::Agree => "agree",
            Agreement::Differ => "differ",
            Agreement::ClaimOnly => "claim only",
            Agreement::TrueOnly => "J only",
        }
    }
}

/// Number of distinct shades of nonzero blocks in the glyph ramps and the 16-colour mode.
pub const SHADES: usize = 4;

/// The shade (1..=SHADES) of an intensity in (0, 1].
pub fn shade(intensity: f64) -> usize {
    ((intensity.abs() * SHADES as f64).ceil() as usize).clamp(1, SHADES)
}

/// A sequential colour for an intensity in (0, 1], bright enough to show on a dark
/// background even at the low end.
pub fn sequential_rgb(t: f64) -> Rgb {
    let color = colorgrad::preset::plasma().at((0.25 + 0.75 * t.clamp(0.0, 1.0)) as f32);
    let [r, g, b, _] = color.to_rgba8();
    (r, g, b)
}

/// A diverging colour for a signed intensity in [-1, 1]: blue for negative, red for
/// positive; the near-white middle is skipped so that small values stay visible.
pub fn diverging_rgb(t: f64) -> Rgb {
    let t = t.clamp(-1.0, 1.0);
    let magnitude = 0.2 + 0.8 * t.abs();
    let position = if t < 0.0 {
        0.5 + 0.5 * magnitude
    } else {
        0.5 - 0.5 * magnitude
    };
    let [r, g, b, _] = colorgrad::preset::rd_bu().at(position as f32).to_rgba8();
    (r, g, b)
}

/// A structurally nonzero block whose entries are all zero: dark grey.
pub const NUMERIC_ZERO: Rgb = (88, 88, 88);

/// The colour of a claim map's verdict in a picture (the terminal uses the palette's green,
/// red, yellow and blue for the same kinds).
pub fn agreement_rgb(agreement: Agreement) -> Rgb {
    match agreement {
        Agreement::Agree => (78, 186, 84),
        Agreement::Differ => (222, 56, 43),
        Agreement::ClaimOnly => (230, 200, 40),
        Agreement::TrueOnly => (60, 110, 230),
    }
}

/// The colour of `paint`, or `None` for the background (a blank block).
pub fn rgb(paint: Paint) -> Option<Rgb> {
    match paint {
        Paint::Blank => None,
        Paint::NumericZero => Some(NUMERIC_ZERO),
        Paint::Level(t) => Some(sequential_rgb(t)),
        Paint::Signed(t) => Some(diverging_rgb(t)),
        Paint::Agreement(agreement) => Some(agreement_rgb(agreement)),
    }
}
