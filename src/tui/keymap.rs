//! The keymap: one table per mode turns key presses into [`Action`]s, and the same tables
//! write the footer hints (`draw::footer`) and the help screen ([`super::help`]), so they
//! cannot drift from behaviour.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::{Action, Direction, Mode, TextEdit};

/// A key as written in the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A character key (an upper-case letter may come with Shift).
    Char(char),
    /// Ctrl + a letter.
    Ctrl(char),
    /// A named key without modifiers.
    Code(KeyCode),
    /// Shift + a named key.
    Shift(KeyCode),
}

impl Key {
    /// True if `event` is this key.
    pub fn matches(self, event: &KeyEvent) -> bool {
        let mods = event.modifiers;
        let plain = !mods.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        match self {
            Key::Char(c) => event.code == KeyCode::Char(c) && plain,
            Key::Ctrl(c) => event.code == KeyCode::Char(c) && mods.contains(KeyModifiers::CONTROL),
            // Shift+Tab arrives as BackTab with Shift held.
            Key::Code(code) => {
                event.code == code
                    && plain
                    && (!mods.contains(KeyModifiers::SHIFT) || code == KeyCode::BackTab)
            }
            Key::Shift(code) => event.code == code && plain && mods.contains(KeyModifiers::SHIFT),
        }
    }

    /// How the key is written in the help (`ascii`: without arrows).
    pub fn label(self, ascii: bool) -> String {
        match self {
            Key::Char(' ') => "Space".to_string(),
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Key::Code(code) => code_label(code, ascii),
            Key::Shift(code) => format!("S-{}", code_label(code, ascii)),
        }
    }
}

fn code_label(code: KeyCode, ascii: bool) -> String {
    let arrow = |unicode: &str, plain: &str| if ascii { plain } else { unicode }.to_string();
    match code {
        KeyCode::Left => arrow("←", "Left"),
        KeyCode::Right => arrow("→", "Right"),
        KeyCode::Up => arrow("↑", "Up"),
        KeyCode::Down => arrow("↓", "Down"),
        KeyCode::Tab => "Tab".to_string(),
        KeyCode::BackTab => "S-Tab".to_string(),
        KeyCode::Esc => "Esc".to_string(),
        KeyCode::Enter => "Enter".to_string(),
        KeyCode::PageUp => "PgUp".to_string(),
        KeyCode::PageDown => "PgDn".to_string(),
        KeyCode::Home => "Home".to_string(),
        KeyCode::End => "End".to_string(),
        KeyCode::Backspace => "Backspace".to_string(),
        KeyCode::Delete => "Del".to_string(),
        other => format!("{other:?}"),
    }
}

/// One line of the help: keys and the actions they trigger, what they do, and a short
/// footer hint.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// Each key with the action it triggers.
    pub keys: &'static [(Key, Action)],
    /// What the keys do, for the help screen.
    pub help: &'static str,
    /// Footer hint: the keys as shown there, and one or two words.
    pub footer: Option<(&'static str, &'static str)>,
}

impl Binding {
    /// The keys as listed in the help: runs of digits shortened (`1–6`), the four arrow
    /// keys written `arrows` (`S-arrows` with Shift).
    pub fn keys_label(&self, ascii: bool) -> String {
        let keys: Vec<Key> = self.keys.iter().map(|(k, _)| *k).collect();
        let mut labels: Vec<String> = Vec::new();
        let mut n = 0;
        while n < keys.len() {
            match arrows_at(&keys[n..]) {
                Some(label) => {
                    labels.push(label.to_string());
                    n += ARROWS.len();
                }
                None => {
                    labels.push(keys[n].label(ascii));
                    n += 1;
                }
            }
        }
        let digits: Vec<&String> = labels
            .iter()
            .filter(|l| l.len() == 1 && l.chars().all(|c| c.is_ascii_digit()))
            .collect();
        if digits.len() > 2 {
            let run = format!(
                "{}{}{}",
                digits[0],
                if ascii { "-" } else { "–" },
                digits[digits.len() - 1]
            );
            let mut out: Vec<String> = Vec::new();
            for label in &labels {
                if label == digits[0] {
                    out.push(run.clone());
                } else if !digits.contains(&label) {
                    out.push(label.clone());
                }
            }
            out.join(" ")
        } else {
            labels.join(" ")
        }
    }
}

/// The arrow keys in the order the tables list them.
const ARROWS: [KeyCode; 4] = [KeyCode::Left, KeyCode::Down, KeyCode::Up, KeyCode::Right];

/// `arrows` or `S-arrows` if `keys` starts with the four arrow keys.
fn arrows_at(keys: &[Key]) -> Option<&'static str> {
    let plain = ARROWS.map(Key::Code);
    let shifted = ARROWS.map(Key::Shift);
    if keys.starts_with(&plain) {
        Some("arrows")
    } else if keys.starts_with(&shifted) {
        Some("S-arrows")
    } else {
        None
    }
}

use Action as A;
use Direction as D;

/// Moves the cursor one entry.
const MOVE: Binding = Binding {
    keys: &[
        (Key::Char('h'), A::Move(D::Left)),
        (Key::Char('j'), A::Move(D::Down)),
        (Key::Char('k'), A::Move(D::Up)),
        (Key::Char('l'), A::Move(D::Right)),
        (Key::Code(KeyCode::Left), A::Move(D::Left)),
        (Key::Code(KeyCode::Down), A::Move(D::Down)),
        (Key::Code(KeyCode::Up), A::Move(D::Up)),
        (Key::Code(KeyCode::Right), A::Move(D::Right)),
    ],
    help: "move the cursor one entry",
    footer: Some(("hjkl", "move")),
};

/// Moves half a screen.
const PAGE: Binding = Binding {
    keys: &[
        (Key::Char('H'), A::Page(D::Left)),
        (Key::Char('J'), A::Page(D::Down)),
        (Key::Char('K'), A::Page(D::Up)),
        (Key::Char('L'), A::Page(D::Right)),
        (Key::Shift(KeyCode::Left), A::Page(D::Left)),
        (Key::Shift(KeyCode::Down), A::Page(D::Down)),
        (Key::Shift(KeyCode::Up), A::Page(D::Up)),
        (Key::Shift(KeyCode::Right), A::Page(D::Right)),
        (Key::Code(KeyCode::PageUp), A::Page(D::Up)),
        (Key::Code(KeyCode::PageDown), A::Page(D::Down)),
    ],
    help: "move half a screen",
    footer: Some(("HJKL", "page")),
};

/// Chooses the slice's pair of axes.
const PAIRS: Binding = Binding {
    keys: &[
        (Key::Code(KeyCode::Tab), A::NextPair),
        (Key::Code(KeyCode::BackTab), A::PrevPair),
        (Key::Char('1'), A::SelectPair(0)),
        (Key::Char('2'), A::SelectPair(1)),
        (Key::Char('3'), A::SelectPair(2)),
        (Key::Char('4'), A::SelectPair(3)),
        (Key::Char('5'), A::SelectPair(4)),
        (Key::Char('6'), A::SelectPair(5)),
    ],
    help: "slice axes: next, previous, pair n",
    footer: Some(("Tab", "axes")),
};

/// Selects a fixed axis.
const FIXED_AXIS: Binding = Binding {
    keys: &[
        (Key::Char('['), A::SelectFixed(D::Left)),
        (Key::Char(']'), A::SelectFixed(D::Right)),
    ],
    help: "select a fixed axis (one not in the slice)",
    footer: Some(("[]", "fixed axis")),
};

/// Changes the selected fixed index.
const FIXED_INDEX: Binding = Binding {
    keys: &[
        (Key::Char('+'), A::ChangeFixed(1)),
        (Key::Char('='), A::ChangeFixed(1)),
        (Key::Char('-'), A::ChangeFixed(-1)),
        (Key::Char('_'), A::ChangeFixed(-1)),
    ],
    help: "change the selected fixed index",
    footer: Some(("+-", "fixed index")),
};

/// Goes to an index.
const GOTO: Binding = Binding {
    keys: &[(Key::Char('g'), A::Open(Mode::Goto))],
    help: "go to an index: 0,3,0,7 or l=7",
    footer: Some(("g", "go to")),
};

/// Jumps between nonzeros of the slice.
const NONZERO: Binding = Binding {
    keys: &[
        (Key::Char('n'), A::NextNonzero),
        (Key::Char('N'), A::PrevNonzero),
    ],
    help: "next / previous nonzero (or claim difference)",
    footer: Some(("nN", "nonzero")),
};

/// Zooms.
const ZOOM: Binding = Binding {
    keys: &[(Key::Char('z'), A::ZoomIn), (Key::Char('Z'), A::ZoomOut)],
    help: "zoom in / out around the cursor",
    footer: Some(("zZ", "zoom")),
};

/// Cycles the map mode.
const MAP_MODE: Binding = Binding {
    keys: &[(Key::Char('v'), A::CycleMapMode)],
    help: "map: sparsity, |value|, signed, claim vs J",
    footer: Some(("v", "mode")),
};

/// Saves the view as a picture.
const SAVE: Binding = Binding {
    keys: &[(Key::Char('p'), A::SavePicture)],
    help: "save the view as SVG in the current directory",
    footer: None,
};

/// Opens the claim prompt.
const CLAIM: Binding = Binding {
    keys: &[(Key::Char('C'), A::Open(Mode::Claim))],
    help: "check a claim: index formula or matrix form",
    footer: Some(("C", "claim")),
};

/// Opens the editor.
const EDIT: Binding = Binding {
    keys: &[(Key::Char('e'), A::Open(Mode::Editor))],
    help: "edit the expression and shapes",
    footer: Some(("e", "edit")),
};

/// Cycles the variable.
const WRT: Binding = Binding {
    keys: &[(Key::Char('w'), A::CycleWrt)],
    help: "differentiate with respect to the next variable",
    footer: Some(("w", "wrt")),
};

/// Opens the examples.
const EXAMPLES: Binding = Binding {
    keys: &[(Key::Char('x'), A::Open(Mode::Picker))],
    help: "curated examples",
    footer: Some(("x", "examples")),
};

/// Opens the help.
const HELP_KEY: Binding = Binding {
    keys: &[(Key::Char('?'), A::Open(Mode::Help))],
    help: "this help",
    footer: Some(("?", "help")),
};

/// Quits.
const QUIT: Binding = Binding {
    keys: &[(Key::Char('q'), A::Quit), (Key::Ctrl('c'), A::Quit)],
    help: "quit",
    footer: Some(("q", "quit")),
};

/// Stops background work, or quits.
const BACK: Binding = Binding {
    keys: &[(Key::Code(KeyCode::Esc), A::Back)],
    help: "stop background work; with none, quit",
    footer: None,
};

/// Opens the matricized view (from the slice view).
const MATRIX_VIEW: Binding = Binding {
    keys: &[(Key::Char('m'), A::ToggleMatrix)],
    help: "the whole J as one matrix (numerator layout)",
    footer: Some(("m", "matrix")),
};

/// Back to the slice view (from the matricized view).
const SLICE_VIEW: Binding = Binding {
    keys: &[(Key::Char('m'), A::ToggleMatrix)],
    help: "back to the slice view",
    footer: Some(("m", "slices")),
};

/// Switches the vec order of the matricized view.
const VEC_ORDER: Binding = Binding {
    keys: &[(Key::Char('o'), A::ToggleVecOrder)],
    help: "vec order: column-major (Magnus–Neudecker) or row-major (NumPy)",
    footer: Some(("o", "order")),
};

/// Opens the conventions panel.
const CONVENTIONS: Binding = Binding {
    keys: &[(Key::Char('c'), A::Open(Mode::Conventions))],
    help: "every layout of J, and where this entry lands in each",
    footer: Some(("c", "layouts")),
};

/// The slice view.
pub const NORMAL: &[Binding] = &[
    MOVE,
    PAGE,
    PAIRS,
    FIXED_AXIS,
    FIXED_INDEX,
    GOTO,
    NONZERO,
    ZOOM,
    MAP_MODE,
    SAVE,
    MATRIX_VIEW,
    CONVENTIONS,
    CLAIM,
    EDIT,
    WRT,
    EXAMPLES,
    HELP_KEY,
    QUIT,
    BACK,
];

/// The matricized view.
pub const MATRIX: &[Binding] = &[
    MOVE,
    PAGE,
    GOTO,
    ZOOM,
    VEC_ORDER,
    SAVE,
    SLICE_VIEW,
    CONVENTIONS,
    EDIT,
    WRT,
    EXAMPLES,
    HELP_KEY,
    QUIT,
    BACK,
];

/// The conventions panel: the cursor still moves, so the table follows it.
pub const CONVENTIONS_PANEL: &[Binding] = &[
    MOVE,
    Binding {
        keys: &[
            (Key::Char('c'), A::Close),
            (Key::Code(KeyCode::Esc), A::Close),
        ],
        help: "close the panel",
        footer: Some(("c", "close")),
    },
    Binding {
        keys: &[(Key::Char('q'), A::Quit), (Key::Ctrl('c'), A::Quit)],
        help: "quit",
        footer: Some(("q", "quit")),
    },
];

/// The help screen.
pub const HELP: &[Binding] = &[
    Binding {
        keys: &[
            (Key::Char('j'), A::ListDown),
            (Key::Char('k'), A::ListUp),
            (Key::Code(KeyCode::Down), A::ListDown),
            (Key::Code(KeyCode::Up), A::ListUp),
        ],
        help: "scroll",
        footer: Some(("jk", "scroll")),
    },
    Binding {
        keys: &[
            (Key::Char('?'), A::Close),
            (Key::Char('q'), A::Close),
            (Key::Code(KeyCode::Esc), A::Close),
        ],
        help: "close the help",
        footer: Some(("?", "close")),
    },
    CTRL_C_QUITS,
];

/// The example picker.
pub const PICKER: &[Binding] = &[
    Binding {
        keys: &[
            (Key::Char('j'), A::ListDown),
            (Key::Char('k'), A::ListUp),
            (Key::Code(KeyCode::Down), A::ListDown),
            (Key::Code(KeyCode::Up), A::ListUp),
        ],
        help: "choose an example",
        footer: Some(("jk", "choose")),
    },
    Binding {
        keys: &[(Key::Code(KeyCode::Enter), A::Submit)],
        help: "open it",
        footer: Some(("Enter", "open")),
    },
    Binding {
        keys: &[
            (Key::Char('q'), A::Close),
            (Key::Code(KeyCode::Esc), A::Close),
        ],
        help: "back",
        footer: Some(("Esc", "back")),
    },
    CTRL_C_QUITS,
];

/// The expression editor, the go-to and the claim prompt (other keys edit the text).
pub const TEXT: &[Binding] = &[
    Binding {
        keys: &[(Key::Code(KeyCode::Enter), A::Submit)],
        help: "apply",
        footer: Some(("Enter", "apply")),
    },
    Binding {
        keys: &[(Key::Code(KeyCode::Esc), A::Close)],
        help: "cancel (the view stays as it was)",
        footer: Some(("Esc", "cancel")),
    },
    Binding {
        keys: &[
            (Key::Code(KeyCode::Left), A::Text(TextEdit::Left)),
            (Key::Code(KeyCode::Right), A::Text(TextEdit::Right)),
            (Key::Code(KeyCode::Home), A::Text(TextEdit::Home)),
            (Key::Code(KeyCode::End), A::Text(TextEdit::End)),
            (Key::Ctrl('a'), A::Text(TextEdit::Home)),
            (Key::Ctrl('e'), A::Text(TextEdit::End)),
            (Key::Code(KeyCode::Backspace), A::Text(TextEdit::Backspace)),
            (Key::Code(KeyCode::Delete), A::Text(TextEdit::Delete)),
            (Key::Ctrl('u'), A::Text(TextEdit::Clear)),
        ],
        help: "move in and edit the line; Ctrl-U clears it",
        footer: None,
    },
    CTRL_C_QUITS,
];

const CTRL_C_QUITS: Binding = Binding {
    keys: &[(Key::Ctrl('c'), A::Quit)],
    help: "quit",
    footer: None,
};

/// The table of a mode.
pub fn table(mode: Mode) -> &'static [Binding] {
    match mode {
        Mode::Normal => NORMAL,
        Mode::Matrix => MATRIX,
        Mode::Conventions => CONVENTIONS_PANEL,
        Mode::Help => HELP,
        Mode::Picker => PICKER,
        Mode::Editor | Mode::Goto | Mode::Claim => TEXT,
    }
}

/// The action a key press triggers in `mode`, if any. In the text modes a printable
/// character not in the table is typed.
pub fn action_for(mode: Mode, event: &KeyEvent) -> Option<Action> {
    let bound = table(mode)
        .iter()
        .flat_map(|binding| binding.keys.iter())
        .find(|(key, _)| key.matches(event))
        .map(|(_, action)| action.clone());
    if bound.is_some() {
        return bound;
    }
    match (mode, event.code) {
        (Mode::Editor | Mode::Goto | Mode::Claim, KeyCode::Char(c))
            if !event
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            Some(A::Text(TextEdit::Insert(c)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn keys_map_to_actions() {
        let none = KeyModifiers::NONE;
        let normal = |code, mods| action_for(Mode::Normal, &press(code, mods));
        assert_eq!(normal(KeyCode::Char('l'), none), Some(A::Move(D::Right)));
        assert_eq!(normal(KeyCode::Right, none), Some(A::Move(D::Right)));
        assert_eq!(
            normal(KeyCode::Char('L'), KeyModifiers::SHIFT),
            Some(A::Page(D::Right))
        );
        assert_eq!(
            normal(KeyCode::Right, KeyModifiers::SHIFT),
            Some(A::Page(D::Right))
        );
        assert_eq!(normal(KeyCode::Char('4'), none), Some(A::SelectPair(3)));
        assert_eq!(
            normal(KeyCode::Char('c'), KeyModifiers::CONTROL),
            Some(A::Quit)
        );
        assert_eq!(
            normal(KeyCode::Char('c'), none),
            Some(A::Open(Mode::Conventions))
        );
        assert_eq!(
            action_for(Mode::Editor, &press(KeyCode::Char('q'), none)),
            Some(A::Text(TextEdit::Insert('q')))
        );
        assert_eq!(
            action_for(Mode::Goto, &press(KeyCode::Esc, none)),
            Some(A::Close)
        );
        assert_eq!(
            action_for(
                Mode::Help,
                &press(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(A::Quit)
        );
    }

    /// Footer hints are written by hand; each character of their key text must be a key of
    /// the same binding (or name one, like "Tab").
    #[test]
    fn footer_hints_name_keys_of_their_binding() {
        for mode in Mode::ALL {
            for binding in table(mode) {
                let Some((keys, _)) = binding.footer else {
                    continue;
                };
                let labels: Vec<String> =
                    binding.keys.iter().map(|(k, _)| k.label(false)).collect();
                let named = labels.iter().any(|l| l == keys);
                let each_char = keys.chars().all(|c| labels.contains(&c.to_string()));
                assert!(named || each_char, "footer '{keys}' vs keys {labels:?}");
            }
        }
    }

    #[test]
    fn no_key_is_bound_twice_in_a_mode() {
        for mode in Mode::ALL {
            let keys: Vec<Key> = table(mode)
                .iter()
                .flat_map(|b| b.keys.iter().map(|(k, _)| *k))
                .collect();
            for (n, key) in keys.iter().enumerate() {
                assert!(
                    !keys[n + 1..].contains(key),
                    "{mode:?}: {key:?} bound twice"
                );
            }
        }
    }

    #[test]
    fn labels_shorten_digit_runs() {
        let pairs = &PAIRS;
        assert_eq!(pairs.keys_label(false), "Tab S-Tab 1–6");
        assert_eq!(NORMAL[0].keys_label(true), "h j k l arrows");
        assert_eq!(NORMAL[1].keys_label(false), "H J K L S-arrows PgUp PgDn");
    }
}
