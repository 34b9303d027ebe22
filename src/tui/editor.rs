//! The one-line editors: the expression editor (`e`) and the go-to prompt (`g`).
//!
//! The expression editor holds the expression and its options on one line, as on the
//! command line: `relu(X @ W.T + b) -s X=64x1024 -s W=512x1024 -s b=512 --wrt X`. The
//! expression is everything before the first word that is `-s`, `--shape`, `--wrt` or
//! `--seed`; loaded files (`-l`) are kept from the problem being edited.

use crate::problem::ProblemSpec;

use super::action::TextEdit;

/// A line of text being edited, with a cursor (in characters).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineInput {
    text: String,
    cursor: usize,
}

impl LineInput {
    /// A line holding `text`, the cursor at its end.
    pub fn new(text: impl Into<String>) -> LineInput {
        let text = text.into();
        let cursor = text.chars().count();
        LineInput { text, cursor }
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The cursor's position, in characters from the start.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Applies one edit.
    pub fn apply(&mut self, edit: TextEdit) {
        let len = self.text.chars().count();
        match edit {
            TextEdit::Insert(c) => {
                let at = self.byte_at(self.cursor);
                self.text.insert(at, c);
                self.cursor += 1;
            }
            TextEdit::Paste(pasted) => {
                let pasted = one_line(&pasted);
                let at = self.byte_at(self.cursor);
                self.text.insert_str(at, &pasted);
                self.cursor += pasted.chars().count();
            }
            TextEdit::Backspace => {
                if self.cursor > 0 {
                    self.cursor -= 1;
                    let at = self.byte_at(self.cursor);
                    self.text.remove(at);
                }
            }
            TextEdit::Delete => {
                if self.cursor < len {
                    let at = self.byte_at(self.cursor);
                    self.text.remove(at);
                }
            }
            TextEdit::Left => self.cursor = self.cursor.saturating_sub(1),
            TextEdit::Right => self.cursor = (self.cursor + 1).min(len),
            TextEdit::Home => self.cursor = 0,
            TextEdit::End => self.cursor = len,
            TextEdit::Clear => *self = LineInput::default(),
        }
    }

    fn byte_at(&self, chars: usize) -> usize {
        self.text
            .char_indices()
            .nth(chars)
            .map_or(self.text.len(), |(i, _)| i)
    }
}

/// Pasted text as one line: line breaks and tabs become spaces, other control characters
/// are dropped.
fn one_line(pasted: &str) -> String {
    pasted
        .chars()
        .filter_map(|c| match c {
            '\n' | '\r' | '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

/// The editor line of a problem: `EXPR -s NAME=SHAPE … [--wrt NAME]`. Of several `-s`
/// for one name only the last (the one in effect) is written, where the first was.
pub fn spec_line(spec: &ProblemSpec) -> String {
    let name = |arg: &str| {
        arg.split_once('=')
            .map_or(arg, |(n, _)| n)
            .trim()
            .to_string()
    };
    let mut shapes: Vec<(String, &str)> = Vec::new();
    for arg in &spec.shapes {
        match shapes.iter_mut().find(|(n, _)| *n == name(arg)) {
            Some(entry) => entry.1 = arg,
            None => shapes.push((name(arg), arg)),
        }
    }
    let mut line = spec.expression.clone();
    for (_, shape) in shapes {
        line.push_str(&format!(" -s {shape}"));
    }
    if let Some(wrt) = &spec.wrt {
        line.push_str(&format!(" --wrt {wrt}"));
    }
    line
}

/// The problem an editor line describes; `-l` files and the seed (unless `--seed` is given)
/// are taken from `current`. As on the command line, a long option may carry its value
/// after `=` (`--wrt=W`).
pub fn parse_spec_line(line: &str, current: &ProblemSpec) -> Result<ProblemSpec, String> {
    let words: Vec<(usize, &str)> = words_with_offsets(line);
    let first_option = words
        .iter()
        .position(|&(_, w)| option_name(w).is_some())
        .unwrap_or(words.len());
    let expression = match words.get(first_option) {
        Some(&(offset, _)) => &line[..offset],
        None => line,
    }
    .trim();
    if expression.is_empty() {
        return Err("type an expression first, e.g. relu(X @ W.T + b) -s b=512".to_string());
    }
    let mut spec = ProblemSpec {
        expression: expression.to_string(),
        shapes: Vec::new(),
        loads: current.loads.clone(),
        wrt: None,
        seed: current.seed,
        max_memory: current.max_memory,
    };
    let mut rest = words[first_option..].iter().map(|&(_, w)| w).peekable();
    while let Some(word) = rest.next() {
        let (option, attached) = match word.split_once('=') {
            Some((option, value)) if option.starts_with("--") => (option, Some(value)),
            _ => (word, None),
        };
        let Some(&(_, usage)) = OPTIONS.iter().find(|(name, _)| *name == option) else {
            return Err(format!(
                "unknown option '{option}'; the editor knows {KNOWN_OPTIONS}"
            ));
        };
        let value = match attached {
            Some(value) => value,
            None => rest.next_if(|w| option_name(w).is_none()).unwrap_or(""),
        };
        if value.is_empty() {
            return Err(format!("{option} needs a value ({option} {usage})"));
        }
        match option {
            "-s" | "--shape" => spec.shapes.push(value.to_string()),
            "--wrt" => spec.wrt = Some(value.to_string()),
            _ => {
                spec.seed = value
                    .parse()
                    .map_err(|_| format!("--seed expects a non-negative integer, got '{value}'"))?
            }
        }
    }
    Ok(spec)
}

/// The options the editor line understands, each with what its value is.
const OPTIONS: [(&str, &str); 4] = [
    ("-s", "NAME=SHAPE, e.g. -s X=64x1024"),
    ("--shape", "NAME=SHAPE, e.g. --shape X=64x1024"),
    ("--wrt", "NAME"),
    ("--seed", "N"),
];

/// [`OPTIONS`] in words, for the message about an unknown one.
const KNOWN_OPTIONS: &str = "-s NAME=SHAPE (or --shape), --wrt NAME and --seed N";

/// The option a word of the line is, if it is one: a known option, or any word that
/// starts with `--` and a letter (`--bogus`, `--wrt=W`), which no expression does.
fn option_name(word: &str) -> Option<&str> {
    let name = word.split_once('=').map_or(word, |(name, _)| name);
    let long = name
        .strip_prefix("--")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_alphabetic()));
    (long || OPTIONS.iter().any(|(known, _)| *known == word)).then_some(name)
}

/// The whitespace-separated words of `line` with their byte offsets.
fn words_with_offsets(line: &str) -> Vec<(usize, &str)> {
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                words.push((s, &line[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push((s, &line[s..]));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current() -> ProblemSpec {
        ProblemSpec {
            loads: vec!["W=w.npy".to_string()],
            seed: 7,
            ..ProblemSpec::default_example(&[], 0)
        }
    }

    #[test]
    fn editing_moves_and_changes_the_line() {
        let mut line = LineInput::new("X@W");
        line.apply(TextEdit::Left);
        line.apply(TextEdit::Insert(' '));
        line.apply(TextEdit::Home);
        line.apply(TextEdit::Insert('δ'));
        line.apply(TextEdit::Delete);
        assert_eq!(line.text(), "δ@ W");
        line.apply(TextEdit::End);
        line.apply(TextEdit::Backspace);
        assert_eq!(line.text(), "δ@ ");
        assert_eq!(line.cursor(), 3);
        line.apply(TextEdit::Clear);
        assert_eq!(line, LineInput::default());
    }

    #[test]
    fn a_paste_is_one_edit_on_one_line() {
        let mut line = LineInput::new("X@");
        line.apply(TextEdit::Left);
        line.apply(TextEdit::Paste("W.T\r\n+\tδ\x1b[31m".to_string()));
        assert_eq!(line.text(), "XW.T  + δ[31m@");
        assert_eq!(line.cursor(), 13);
    }

    /// Issue 11, item 17: `--wrt=W` is `--wrt W`, as clap reads it; an unknown option is
    /// named as such, with the known ones; only a missing value "needs a value".
    #[test]
    fn each_wrong_option_says_what_is_wrong() {
        let spec = parse_spec_line("X @ W.T --wrt=W --shape=X=3x4 --seed=5", &current()).unwrap();
        assert_eq!(spec.expression, "X @ W.T");
        assert_eq!(spec.wrt.as_deref(), Some("W"));
        assert_eq!(spec.shapes, ["X=3x4"]);
        assert_eq!(spec.seed, 5);

        for line in [
            "X @ W.T --bogus",
            "X @ W.T -s X=3x4 --bogus 1",
            "X --bogus=1",
        ] {
            let error = parse_spec_line(line, &current()).unwrap_err();
            assert!(error.contains("unknown option '--bogus"), "{line}: {error}");
            assert!(!error.contains("needs a value"), "{line}: {error}");
            for known in ["-s NAME=SHAPE", "--shape", "--wrt NAME", "--seed N"] {
                assert!(error.contains(known), "{line}: {error}");
            }
        }
        for (line, option) in [
            ("X -s", "-s"),
            ("X --wrt", "--wrt"),
            ("X --wrt= -s X=3", "--wrt"),
        ] {
            let error = parse_spec_line(line, &current()).unwrap_err();
            assert!(
                error.starts_with(&format!("{option} needs a value")),
                "{line}: {error}"
            );
        }
    }

    #[test]
    fn the_line_round_trips_a_spec() {
        let spec = current();
        let line = spec_line(&spec);
        assert_eq!(line, "X @ W.T -s X=64x1024 -s W=512x1024");
        assert_eq!(parse_spec_line(&line, &spec).unwrap(), spec);
        let overridden = ProblemSpec::default_example(&["W=8x1024".to_string()], 0);
        assert_eq!(spec_line(&overridden), "X @ W.T -s X=64x1024 -s W=8x1024");
    }

    #[test]
    fn options_follow_the_expression() {
        let spec = parse_spec_line(
            "relu(X @ W.T + b)  -s X=64x1024 --shape b=512 --wrt W --seed 3",
            &current(),
        )
        .unwrap();
        assert_eq!(spec.expression, "relu(X @ W.T + b)");
        assert_eq!(spec.shapes, ["X=64x1024", "b=512"]);
        assert_eq!(spec.wrt.as_deref(), Some("W"));
        assert_eq!(spec.seed, 3);
        assert_eq!(spec.loads, ["W=w.npy"]);
        assert!(parse_spec_line("X -s", &current()).is_err());
        assert!(parse_spec_line("  -s X=3", &current()).is_err());
        assert!(parse_spec_line("X --seed x", &current()).is_err());
    }
}
