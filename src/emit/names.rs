//! Python names in the emitted code: which names a variable of the expression may not take
//! (Python's keywords, the imported modules, the functions the code defines), and fresh
//! names for everything the code introduces, so that nothing shadows a parameter.

use std::collections::BTreeSet;

/// Python's keywords (which cannot name a parameter).
const KEYWORDS: [&str; 35] = [
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// The names the emitted code itself uses at module level or as a builtin: its functions,
/// their first parameter, and `float`.
pub(super) const OWN_NAMES: [&str; 4] = ["jacobian", "entry", "index", "float"];

/// Why a variable of the expression cannot be a parameter of the emitted code, if it
/// cannot: it is a Python keyword or a name the code needs for itself.
pub(super) fn unusable(variable: &str, modules: &[&str]) -> Option<&'static str> {
    if KEYWORDS.contains(&variable) {
        Some("it is a Python keyword")
    } else if modules.contains(&variable) {
        Some("the code imports a module under that name")
    } else if OWN_NAMES.contains(&variable) {
        Some("the code uses that name itself")
    } else {
        None
    }
}

/// Hands out names that are valid Python identifiers and distinct from every name taken
/// before.
#[derive(Debug, Clone)]
pub(super) struct Namer {
    taken: BTreeSet<String>,
}

impl Namer {
    /// A namer with `taken` already in use.
    pub(super) fn new<'a>(taken: impl IntoIterator<Item = &'a str>) -> Namer {
        Namer {
            taken: taken.into_iter().map(str::to_string).collect(),
        }
    }

    /// `wanted` made an identifier (other characters become `_`), with `_` appended until
    /// it is free; the name is then taken.
    pub(super) fn fresh(&mut self, wanted: &str) -> String {
        let mut name: String = wanted
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            name.insert(0, '_');
        }
        while self.taken.contains(&name) || KEYWORDS.contains(&name.as_str()) {
            name.push('_');
        }
        self.taken.insert(name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_names_never_repeat_and_are_identifiers() {
        let mut namer = Namer::new(["J", "np"]);
        assert_eq!(namer.fresh("J"), "J_");
        assert_eq!(namer.fresh("J"), "J__");
        assert_eq!(namer.fresh("k′"), "k_");
        assert_eq!(namer.fresh("in"), "in_");
        assert_eq!(namer.fresh("2x"), "_2x");
    }

    #[test]
    fn keywords_and_module_names_are_not_parameters() {
        assert!(unusable("lambda", &["np"]).is_some());
        assert!(unusable("np", &["np"]).is_some());
        assert!(unusable("entry", &["np"]).is_some());
        assert_eq!(unusable("X", &["np"]), None);
    }
}
