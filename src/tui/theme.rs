//! Colours and glyphs: which colour mode the terminal gets, and how each kind of heat-map
//! cell and each part of the screen is drawn in it.
//!
//! ratatui does not downgrade colours, so the mode is chosen here from `--color`,
//! `NO_COLOR`, `COLORTERM` and `TERM` ([`ColorMode::detect`] has the rules), and every
//! colour is produced for that mode only (crossterm writes them as they are, see
//! `terminal.rs`).
//! The 16-colour mode uses the named ANSI colours, so it follows the user's palette.

use ratatui::style::{Color, Modifier, Style};

use crate::picture::paint::{self, Agreement, Paint, SHADES, diverging_rgb, sequential_rgb, shade};

/// `--color`: when to use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    /// Colour when the terminal supports it and `NO_COLOR` is not set.
    #[default]
    Auto,
    /// Colour even when `NO_COLOR` is set or `TERM` names a terminal without colour.
    Always,
    /// Never colour: the monochrome glyph ramp.
    Never,
}

/// How many colours the screen is drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    /// 24-bit colour (`COLORTERM=truecolor` or `24bit`).
    TrueColor,
    /// The xterm 256-colour palette (`TERM` containing `256color`).
    Ansi256,
    /// The 16 named ANSI colours.
    Ansi16,
    /// No colour: shades drawn with the glyph ramp ` ░▒▓█` (or ASCII).
    Monochrome,
}

impl ColorMode {
    /// Picks the colour mode from `--color` and the environment (`env` looks a variable up).
    /// The rules, first match wins:
    ///
    /// | `--color` | environment                                             | mode          |
    /// |-----------|---------------------------------------------------------|---------------|
    /// | `never`   | anything                                                | monochrome    |
    /// | `always`  | anything: it wins over `NO_COLOR` and `TERM`            | [`depth`]     |
    /// | `auto`    | `NO_COLOR` set and not empty                            | monochrome    |
    /// | `auto`    | `TERM` a terminal without colour ([`colourless_term`])  | monochrome    |
    /// | `auto`    | otherwise                                               | [`depth`]     |
    ///
    /// [`depth`]: ColorMode::depth
    pub fn detect(choice: ColorChoice, env: impl Fn(&str) -> Option<String>) -> ColorMode {
        let term = env("TERM").unwrap_or_default();
        let no_color = env("NO_COLOR").is_some_and(|value| !value.is_empty());
        match choice {
            ColorChoice::Never => ColorMode::Monochrome,
            ColorChoice::Always => ColorMode::depth(&env),
            ColorChoice::Auto if no_color || colourless_term(&term) => ColorMode::Monochrome,
            ColorChoice::Auto => ColorMode::depth(&env),
        }
    }

    /// The most colours the terminal reports: 24-bit with `COLORTERM=truecolor` or `24bit`,
    /// 256 with a `TERM` containing `256color`, else the 16 named colours.
    fn depth(env: impl Fn(&str) -> Option<String>) -> ColorMode {
        let colorterm = env("COLORTERM").unwrap_or_default().to_ascii_lowercase();
        if colorterm == "truecolor" || colorterm == "24bit" {
            ColorMode::TrueColor
        } else if env("TERM").unwrap_or_default().contains("256color") {
            ColorMode::Ansi256
        } else {
            ColorMode::Ansi16
        }
    }

    /// The colour mode of this process's environment.
    pub fn from_env(choice: ColorChoice) -> ColorMode {
        ColorMode::detect(choice, |name| std::env::var(name).ok())
    }

    /// A short name for the help screen.
    pub fn label(self) -> &'static str {
        match self {
            ColorMode::TrueColor => "truecolor",
            ColorMode::Ansi256 => "256 colours",
            ColorMode::Ansi16 => "16 colours",
            ColorMode::Monochrome => "monochrome",
        }
    }
}

/// True for a `TERM` without colour: `dumb`, the DEC terminals (`vt52`, `vt100`, `vt220`,
/// …) and the monochrome variants that terminfo names `…-mono` or `…-m` (`xterm-mono`,
/// `linux-m`).
fn colourless_term(term: &str) -> bool {
    let dec = term
        .strip_prefix("vt")
        .is_some_and(|model| model.starts_with(|c: char| c.is_ascii_digit()));
    term == "dumb" || dec || term.ends_with("-mono") || term.ends_with("-m")
}

/// The glyphs the screen is drawn with: Unicode or plain ASCII.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Glyphs {
    /// True when the heat map uses half blocks (two blocks per character cell).
    pub half_blocks: bool,
    /// Upper half block.
    pub upper: &'static str,
    /// Lower half block.
    pub lower: &'static str,
    /// A structurally nonzero block whose entries are all zero.
    pub numeric_zero: &'static str,
    /// Shades of nonzero blocks, weakest first.
    pub ramp: [&'static str; SHADES],
    /// Negative blocks in the signed map without colour, weak then strong.
    pub negative: [&'static str; 2],
    /// Positive blocks in the signed map without colour, weak then strong.
    pub positive: [&'static str; 2],
    /// The cursor's cell.
    pub cursor: &'static str,
    /// Cross-hair through empty cells: horizontal, vertical.
    pub crosshair: Option<(&'static str, &'static str)>,
    /// Marker of the cursor's column (above the map) and row (left of it).
    pub markers: (&'static str, &'static str),
    /// "agrees" and "disagrees" marks of the finite-difference check.
    pub verdict: (&'static str, &'static str),
    /// Separator between header items.
    pub dot: &'static str,
    /// Partial derivative sign.
    pub partial: &'static str,
}

impl Glyphs {
    /// Unicode glyphs.
    pub const UNICODE: Glyphs = Glyphs {
        half_blocks: true,
        upper: "▀",
        lower: "▄",
        numeric_zero: "·",
        ramp: ["░", "▒", "▓", "█"],
        negative: ["-", "="],
        positive: ["+", "#"],
        cursor: "┼",
        crosshair: Some(("─", "│")),
        markers: ("▼", "▶"),
        verdict: ("✓", "✗"),
        dot: "·",
        partial: "∂",
    };

    /// ASCII glyphs (`--ascii`).
    pub const ASCII: Glyphs = Glyphs {
        half_blocks: false,
        upper: "",
        lower: "",
        numeric_zero: ".",
        ramp: [":", "*", "#", "@"],
        negative: ["-", "="],
        positive: ["+", "#"],
        cursor: "X",
        crosshair: None,
        markers: ("v", ">"),
        verdict: ("ok", "MISMATCH"),
        dot: "|",
        partial: "d",
    };
}

/// Colours and glyphs for one colour mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// The colour mode.
    pub mode: ColorMode,
    /// The glyph set.
    pub glyphs: Glyphs,
    /// True with `--ascii`: no Unicode anywhere (formulas in ASCII notation too).
    pub ascii: bool,
}

impl Theme {
    /// The theme for a colour mode, with Unicode or ASCII glyphs.
    pub fn new(mode: ColorMode, ascii: bool) -> Theme {
        let mut glyphs = if ascii {
            Glyphs::ASCII
        } else {
            Glyphs::UNICODE
        };
        if mode == ColorMode::Monochrome {
            // Half blocks need two colours per cell; without colour each cell is one glyph.
            glyphs.half_blocks = false;
        }
        Theme {
            mode,
            glyphs,
            ascii,
        }
    }

    /// True when colours are used.
    pub fn colored(&self) -> bool {
        self.mode != ColorMode::Monochrome
    }

    fn fg(&self, color: Color) -> Style {
        if self.colored() {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    /// Titles and the expression.
    pub fn title(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Labels in front of values.
    pub fn label(&self) -> Style {
        self.fg(Color::Blue).add_modifier(Modifier::BOLD)
    }

    /// Key names in the footer and help.
    pub fn key(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    /// Secondary text.
    pub fn dim(&self) -> Style {
        if self.colored() {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    /// The value at the cursor.
    pub fn value(&self) -> Style {
        self.fg(Color::LightYellow).add_modifier(Modifier::BOLD)
    }

    /// Errors.
    pub fn error(&self) -> Style {
        self.fg(Color::LightRed).add_modifier(Modifier::BOLD)
    }

    /// A passed check.
    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }

    /// The selected line of a list, the selected fixed axis, a status message.
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// The cursor's cell in the heat map.
    pub fn cursor(&self) -> Style {
        if self.colored() {
            Style::new()
                .fg(Color::Black)
                .bg(Color::LightMagenta)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }

    /// The cross-hair through empty cells.
    pub fn crosshair(&self) -> Style {
        self.fg(Color::Magenta)
    }

    /// The colour of a heat-map block, or `None` for the terminal's background.
    /// Monochrome has no colours: see [`Theme::glyph`].
    pub fn color(&self, paint: Paint) -> Option<Color> {
        if !self.colored() {
            return None;
        }
        match paint {
            Paint::Blank => None,
            Paint::NumericZero => Some(match self.mode {
                ColorMode::TrueColor => {
                    let (r, g, b) = paint::NUMERIC_ZERO;
                    Color::Rgb(r, g, b)
                }
                ColorMode::Ansi256 => Color::Indexed(240),
                _ => Color::DarkGray,
            }),
            Paint::Level(t) => Some(match self.mode {
                ColorMode::Ansi16 => SEQUENTIAL_16[shade(t) - 1],
                _ => self.rgb(sequential_rgb(t)),
            }),
            Paint::Signed(t) => Some(match self.mode {
                ColorMode::Ansi16 => {
                    let strong = usize::from(t.abs() > 0.5);
                    if t < 0.0 {
                        NEGATIVE_16[strong]
                    } else {
                        POSITIVE_16[strong]
                    }
                }
                _ => self.rgb(diverging_rgb(t)),
            }),
            Paint::Agreement(agreement) => Some(match agreement {
                Agreement::Agree => Color::Green,
                Agreement::Differ => Color::Red,
                Agreement::ClaimOnly => Color::Yellow,
                Agreement::TrueOnly => Color::Blue,
            }),
        }
    }

    /// The glyph of a cell showing one block, when cells are not split in half blocks
    /// (monochrome or ASCII): the shade is in the glyph.
    pub fn glyph(&self, paint: Paint) -> &'static str {
        let g = &self.glyphs;
        match paint {
            Paint::Blank => " ",
            Paint::NumericZero => g.numeric_zero,
            Paint::Level(t) => g.ramp[shade(t) - 1],
            Paint::Signed(t) => {
                let strong = usize::from(t.abs() > 0.5);
                if t < 0.0 {
                    g.negative[strong]
                } else {
                    g.positive[strong]
                }
            }
            Paint::Agreement(agreement) => match agreement {
                Agreement::Agree => "=",
                Agreement::Differ => "#",
                Agreement::ClaimOnly => "+",
                Agreement::TrueOnly => "-",
            },
        }
    }

    fn rgb(&self, (r, g, b): (u8, u8, u8)) -> Color {
        match self.mode {
            ColorMode::Ansi256 => Color::Indexed(xterm_index(r, g, b)),
            _ => Color::Rgb(r, g, b),
        }
    }
}

/// The ASCII stand-in of a one-column symbol, for `--ascii`: the screen is drawn as usual,
/// then every cell that is not ASCII goes through this (text from formulas, examples and
/// borders alike), so no Unicode glyph can slip through.
pub fn ascii_symbol(symbol: &str) -> &'static str {
    match symbol {
        "δ" => "d",
        "∂" => "d",
        "Σ" => "S",
        "σ" => "s",
        "′" => "'",
        "·" => "*",
        "×" => "x",
        "…" => "~",
        "–" | "−" | "─" | "⁻" => "-",
        "│" => "|",
        "┌" | "┐" | "└" | "┘" | "┼" | "├" | "┤" | "┬" | "┴" => "+",
        "≠" => "#",
        "ᵀ" => "T",
        "¹" => "1",
        "²" => "2",
        "≈" => "~",
        "▼" => "v",
        "▶" => ">",
        "✓" => "v",
        "✗" => "x",
        _ => "?",
    }
}

/// Nonzero shades in the 16-colour mode, weakest first.
const SEQUENTIAL_16: [Color; SHADES] = [Color::Blue, Color::Cyan, Color::Yellow, Color::White];
/// Negative values in the 16-colour mode: weak, strong.
const NEGATIVE_16: [Color; 2] = [Color::Blue, Color::LightBlue];
/// Positive values in the 16-colour mode: weak, strong.
const POSITIVE_16: [Color; 2] = [Color::Red, Color::LightRed];

/// The nearest colour of the xterm 6×6×6 cube (indices 16..=231).
fn xterm_index(r: u8, g: u8, b: u8) -> u8 {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    let nearest = |v: u8| {
        (0..6u8)
            .min_by_key(|&i| (i16::from(LEVELS[usize::from(i)]) - i16::from(v)).abs())
            .unwrap_or(0)
    };
    16 + 36 * nearest(r) + 6 * nearest(g) + nearest(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    /// Issue 11, item 15: every rule of [`ColorMode::detect`], as a table of `--color` ×
    /// environment → mode.
    #[test]
    fn color_mode_follows_flag_and_environment() {
        use ColorChoice::{Always, Auto, Never};
        use ColorMode::{Ansi16, Ansi256, Monochrome, TrueColor};
        /// `--color`, the environment, and the mode they give.
        type Row = (
            ColorChoice,
            &'static [(&'static str, &'static str)],
            ColorMode,
        );
        let table: [Row; 19] = [
            (Auto, &[("COLORTERM", "truecolor")], TrueColor),
            (
                Auto,
                &[("COLORTERM", "24bit"), ("TERM", "xterm")],
                TrueColor,
            ),
            (Auto, &[("TERM", "xterm-256color")], Ansi256),
            (Auto, &[("TERM", "xterm")], Ansi16),
            (Auto, &[], Ansi16),
            (
                Auto,
                &[("NO_COLOR", "1"), ("COLORTERM", "truecolor")],
                Monochrome,
            ),
            // An empty NO_COLOR does not count.
            (Auto, &[("NO_COLOR", ""), ("TERM", "xterm")], Ansi16),
            (Auto, &[("TERM", "dumb")], Monochrome),
            (Auto, &[("TERM", "xterm-mono")], Monochrome),
            (Auto, &[("TERM", "vt100")], Monochrome),
            (Auto, &[("TERM", "vt220")], Monochrome),
            (Auto, &[("TERM", "linux-m")], Monochrome),
            (Auto, &[("TERM", "vte-256color")], Ansi256),
            // An explicit --color always wins over NO_COLOR and a colourless TERM.
            (
                Always,
                &[("NO_COLOR", "1"), ("TERM", "xterm-256color")],
                Ansi256,
            ),
            (
                Always,
                &[("NO_COLOR", "1"), ("COLORTERM", "truecolor")],
                TrueColor,
            ),
            (Always, &[("NO_COLOR", "1"), ("TERM", "dumb")], Ansi16),
            (Always, &[("TERM", "xterm-mono")], Ansi16),
            (Never, &[("COLORTERM", "truecolor")], Monochrome),
            (Never, &[("TERM", "xterm-256color")], Monochrome),
        ];
        for (choice, vars, mode) in table {
            assert_eq!(
                ColorMode::detect(choice, env(vars)),
                mode,
                "--color {choice:?} with {vars:?}"
            );
        }
    }

    /// Structural zero, numeric zero and nonzero must look different in every mode.
    #[test]
    fn the_three_kinds_of_block_differ_in_every_mode() {
        let modes = [
            ColorMode::TrueColor,
            ColorMode::Ansi256,
            ColorMode::Ansi16,
            ColorMode::Monochrome,
        ];
        for mode in modes {
            for ascii in [false, true] {
                let theme = Theme::new(mode, ascii);
                let looks = |paint| (theme.color(paint), theme.glyph(paint));
                let kinds = [
                    looks(Paint::Blank),
                    looks(Paint::NumericZero),
                    looks(Paint::Level(0.01)),
                    looks(Paint::Level(1.0)),
                    looks(Paint::Signed(-1.0)),
                    looks(Paint::Signed(1.0)),
                ];
                for a in 0..kinds.len() {
                    for b in a + 1..kinds.len() {
                        assert_ne!(kinds[a], kinds[b], "{mode:?} ascii={ascii}: {a} vs {b}");
                    }
                }
                if ascii {
                    let all = [theme.glyph(Paint::Level(0.3)), theme.glyphs.cursor];
                    assert!(all.iter().all(|g| g.is_ascii()));
                }
            }
        }
    }

    #[test]
    fn ascii_stand_ins_are_ascii() {
        for symbol in ["δ", "─", "┌", "×", "…", "≠", "unknown ☃"] {
            assert!(ascii_symbol(symbol).is_ascii());
        }
    }

    #[test]
    fn shades_cover_the_ramp() {
        assert_eq!(shade(1e-9), 1);
        assert_eq!(shade(0.25), 1);
        assert_eq!(shade(0.26), 2);
        assert_eq!(shade(1.0), SHADES);
        assert_eq!(xterm_index(0, 0, 0), 16);
        assert_eq!(xterm_index(255, 255, 255), 231);
        assert_eq!(xterm_index(255, 0, 0), 196);
    }
}
