//! The help screen's lines: the key table of the main screen, written from the keymap
//! ([`keymap::table`]) so that help cannot drift from behaviour, then the slice pairs and
//! how each part of the screen reads.
//!
//! It takes the few facts it shows ([`HelpFacts`]), not the app: the app counts the lines
//! to bound scrolling, and the help overlay draws them.

use ratatui::text::{Line, Span};

use super::action::Mode;
use super::keymap;
use super::slices::SliceAxes;
use super::theme::Theme;

/// What the help says besides the keys.
#[derive(Debug, Clone, Copy)]
pub struct HelpFacts<'a> {
    /// The main screen whose keys are listed: [`Mode::Normal`] or [`Mode::Matrix`].
    pub main: Mode,
    /// J's axis names.
    pub names: &'a [String],
    /// Every pair of axes a slice can show.
    pub pairs: &'a [SliceAxes],
    /// True if mouse capture is on (`--mouse`).
    pub mouse: bool,
    /// What the user should know about the numbers, one line each.
    pub warnings: &'a [String],
}

/// The lines of the help screen: the key table, the slice pairs and how the parts of the
/// screen read.
pub fn help_lines(theme: &Theme, facts: &HelpFacts) -> Vec<Line<'static>> {
    let ascii = theme.ascii;
    let mut lines = Vec::new();
    let table = keymap::table(facts.main);
    let keys_width = table
        .iter()
        .map(|b| b.keys_label(ascii).chars().count())
        .max()
        .unwrap_or(0);
    for binding in table {
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:<keys_width$}  ", binding.keys_label(ascii)),
                theme.key(),
            ),
            Span::raw(binding.help),
        ]));
    }
    lines.push(Line::raw(""));
    let pairs: Vec<String> = facts
        .pairs
        .iter()
        .enumerate()
        .map(|(n, p)| format!("{} {}", n + 1, p.label(facts.names)))
        .collect();
    let notes = [
        ("pairs", pairs.join("  ")),
        (
            "fixed",
            "axes not in the slice stay at the cursor's index; [ ] picks one (highlighted in \
             the slice title), + - changes it"
                .to_string(),
        ),
        (
            "map",
            "blank: structurally zero (a δ vanishes) · dim: numerically zero (e.g. relu′ = 0) \
             · coloured: nonzero; each block aggregates every entry it covers"
                .to_string(),
        ),
        (
            "matrix",
            "m shows all of J as one matrix, rows vec(Y) and columns vec(X) (numerator \
             layout); o switches the vec order: column-major (Magnus–Neudecker, MATLAB) or \
             row-major (NumPy reshape). Blocks are shaded by their share of structurally \
             nonzero entries; `jacscope explain` prints the Kronecker form"
                .to_string(),
        ),
        (
            "layouts",
            "c lists every layout of J (JAX, SymPy, textbooks) and where the cursor's \
             entry lands in each"
                .to_string(),
        ),
        (
            "edit",
            "one line as on the command line: EXPR -s NAME=SHAPE … [--wrt NAME] [--seed N]; \
             Enter applies, Esc cancels; an error keeps the current view"
                .to_string(),
        ),
        (
            "check",
            "the finite-difference check runs in the background when the cursor rests".to_string(),
        ),
        (
            "display",
            format!(
                "{}{}; --color auto|always|never, NO_COLOR, --ascii, --mouse{}",
                theme.mode.label(),
                if ascii { ", ASCII" } else { "" },
                if facts.mouse {
                    " (on: click moves, wheel scrolls)"
                } else {
                    ""
                }
            ),
        ),
    ];
    for (tag, text) in notes {
        lines.push(Line::from(vec![
            Span::styled(format!("{tag:<8}"), theme.label()),
            Span::raw(text),
        ]));
    }
    for warning in facts.warnings {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<8}", "warning"), theme.error()),
            Span::raw(warning.clone()),
        ]));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::theme::ColorMode;

    fn lines(theme: &Theme, facts: &HelpFacts) -> Vec<String> {
        help_lines(theme, facts)
            .iter()
            .map(|line| line.to_string())
            .collect()
    }

    /// Every binding of the main screen's table has its line, in table order, followed by
    /// the pairs, the display and the warnings; no app is needed.
    #[test]
    fn the_help_is_the_keymap_and_the_facts_given() {
        let names: Vec<String> = ["i", "j", "k", "l"].map(String::from).to_vec();
        let pairs = SliceAxes::all(4);
        let warnings = ["log(X) evaluates to NaN".to_string()];
        let facts = HelpFacts {
            main: Mode::Normal,
            names: &names,
            pairs: &pairs,
            mouse: true,
            warnings: &warnings,
        };
        let theme = Theme::new(ColorMode::Ansi16, false);
        let lines = lines(&theme, &facts);
        let table = keymap::table(Mode::Normal);
        for (line, binding) in lines.iter().zip(table) {
            assert!(line.starts_with(&binding.keys_label(false)), "{line}");
            assert!(line.ends_with(binding.help), "{line}");
        }
        assert_eq!(lines[table.len()], "");
        assert_eq!(
            lines[table.len() + 1],
            "pairs   1 i,j  2 i,k  3 i,l  4 j,k  5 j,l  6 k,l"
        );
        let display = lines.iter().find(|l| l.starts_with("display")).unwrap();
        assert!(
            display.ends_with("(on: click moves, wheel scrolls)"),
            "{display}"
        );
        assert_eq!(lines.last().unwrap(), "warning log(X) evaluates to NaN");
    }

    /// The matricized view lists its own keys; `--ascii` writes arrows as words.
    #[test]
    fn the_table_follows_the_main_screen_and_ascii() {
        let facts = HelpFacts {
            main: Mode::Matrix,
            names: &[],
            pairs: &SliceAxes::all(0),
            mouse: false,
            warnings: &[],
        };
        let ascii = Theme::new(ColorMode::Monochrome, true);
        let lines = lines(&ascii, &facts);
        assert_eq!(
            lines.len(),
            keymap::table(Mode::Matrix).len() + 1 + 8,
            "{lines:#?}"
        );
        assert!(lines.iter().all(|l| !l.contains('←')));
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("display") && l.contains("ASCII"))
        );
    }
}
