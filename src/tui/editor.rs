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
/// are taken from `current`.
pub fn parse_spec_line(line: &str, current: &ProblemSpec) -> Result<ProblemSpec, String> {
    let words: Vec<(usize, &str)> = words_with_offsets(line);
    let first_option = words
        .iter()
        .position(|(_, w)| OPTIONS.contains(w))
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
    let mut rest = words[first_option..].iter().map(|&(_, w)| w);
    while let Some(option) = rest.next() {
        let value = match rest.next() {
            Some(value) if !OPTIONS.contains(&value) => value,
            _ => return Err(format!("{option} needs a value ({})", usage(option))),
        };
        match option {
            "-s" | "--shape" => spec.shapes.push(value.to_string()),
            "--wrt" => spec.wrt = Some(value.to_string()),
            "--seed" => {
                spec.seed = value
                    .parse()
                    .map_err(|_| format!("--seed expects a non-negative integer, got '{value}'"))?
            }
            _ => {
                return Err(format!(
                    "'{option}' is not an option here; use -s NAME=SHAPE, --wrt NAME or --seed N"
                ));
            }
        }
    }
    Ok(spec)
}

/// The options the editor line understands.
const OPTIONS: [&str; 4] = ["-s", "--shape", "--wrt", "--seed"];

fn usage(option: &str) -> &'static str {
    match option {
        "--wrt" => "--wrt NAME",
        "--seed" => "--seed N",
        _ => "-s NAME=SHAPE, e.g. -s X=64x1024",
    }
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
