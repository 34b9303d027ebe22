//! The explorer's files import one another in one direction only: no file under `src/tui/`
//! reaches a file that reaches it back, directly or around a loop.
//!
//! A file refers to another through `super::…`, `crate::tui::…` or the name of a module it
//! declares (`header::draw`); this test reads every such path (in `use` lines and in code,
//! tests included, comments and strings left out), resolves it to the file that defines the
//! module, and looks for strongly connected components of more than one file. Run with
//! `--nocapture` to see the graph.

use std::collections::BTreeMap;
use std::path::Path;

/// A module under `tui` as the path of names below it: `["draw", "header"]`; `[]` is `tui`.
type ModPath = Vec<String>;

/// Every file under `src/tui/`: its module and its source.
fn tui_files() -> BTreeMap<ModPath, String> {
    fn walk(dir: &Path, module: &ModPath, files: &mut BTreeMap<ModPath, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            let mut child = module.clone();
            if path.is_dir() {
                child.push(name);
                walk(&path, &child, files);
            } else if path.extension().is_some_and(|e| e == "rs") {
                if name != "mod" {
                    child.push(name);
                }
                files.insert(child, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tui"),
        &Vec::new(),
        &mut files,
    );
    files
}

/// `source` with comments, string literals and character literals blanked out.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut n = 0;
    while n < chars.len() {
        let rest = &chars[n..];
        if rest.starts_with(&['/', '/']) {
            while n < chars.len() && chars[n] != '\n' {
                n += 1;
            }
        } else if rest.starts_with(&['/', '*']) {
            while n < chars.len() && !chars[n..].starts_with(&['*', '/']) {
                n += 1;
            }
            n += 2;
        } else if chars[n] == 'r' && rest.get(1).is_some_and(|&c| c == '"' || c == '#') {
            // A raw string: r"…" or r#"…"#.
            let hashes = rest[1..].iter().take_while(|&&c| c == '#').count();
            let close: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            n += 2 + hashes;
            while n < chars.len() && !chars[n..].starts_with(&close) {
                n += 1;
            }
            n += close.len();
            out.push_str("\"\"");
        } else if chars[n] == '"' {
            n += 1;
            while n < chars.len() && chars[n] != '"' {
                n += if chars[n] == '\\' { 2 } else { 1 };
            }
            n += 1;
            out.push_str("\"\"");
        } else if chars[n] == '\'' && (rest.get(2) == Some(&'\'') || rest.get(1) == Some(&'\\')) {
            // A character literal ('x' or '\n'), not a lifetime.
            n += 1;
            while n < chars.len() && chars[n] != '\'' {
                n += if chars[n] == '\\' { 2 } else { 1 };
            }
            n += 1;
            out.push_str("' '");
        } else {
            out.push(chars[n]);
            n += 1;
        }
    }
    out
}

/// The identifiers a path reaches after its prefix: `x` in `x::…`, or each item of a group
/// `{a, b::c, self}` (`self` and `*` reach the prefix itself, written as an empty name).
fn reached_names(after: &str) -> Vec<String> {
    let first = |text: &str| -> String {
        let name: String = text
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name == "self" { String::new() } else { name }
    };
    match after.trim_start().strip_prefix('{') {
        Some(group) => {
            let mut depth = 0;
            let mut items = vec![String::new()];
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        items.push(String::new());
                        continue;
                    }
                    _ => {}
                }
                items.last_mut().unwrap().push(c);
            }
            items.iter().map(|item| first(item)).collect()
        }
        None => vec![first(after)],
    }
}

/// How paths start: from `tui`, one module up, this module.
const CRATE_TUI: &str = "crate::tui::";
const SUPER: &str = "super::";
const SELF: &str = "self::";

/// The modules under `tui` that `source`, the file of module `file`, refers to.
fn references(file: &ModPath, source: &str) -> Vec<ModPath> {
    let code = code_only(source);
    let declared: Vec<&str> = code
        .lines()
        .filter_map(|line| {
            let line = line.trim().strip_prefix("pub ").unwrap_or(line.trim());
            line.strip_prefix("mod ")?.strip_suffix(';')
        })
        .collect();
    // The inline modules (`mod tests { … }`) open at each point, with the depth they opened at.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    let mut at = 0;
    while at < code.len() {
        let rest = &code[at..];
        let starts_word = at == 0 || {
            let before = bytes[at - 1];
            !(before.is_ascii_alphanumeric() || before == b'_' || before == b':')
        };
        let here = || -> ModPath {
            let inner = inline.iter().map(|(name, _)| name.clone());
            file.iter().cloned().chain(inner).collect()
        };
        let ups = rest
            .as_bytes()
            .chunks(SUPER.len())
            .take_while(|chunk| *chunk == SUPER.as_bytes())
            .count();
        let (base, skip) = if !starts_word {
            (None, 0)
        } else if rest.starts_with(CRATE_TUI) {
            (Some(Vec::new()), CRATE_TUI.len())
        } else if ups > 0 {
            let here = here();
            (Some(here[..here.len() - ups].to_vec()), ups * SUPER.len())
        } else if rest.starts_with(SELF) {
            (Some(here()), SELF.len())
        } else if declared.iter().any(|d| rest.starts_with(&format!("{d}::"))) {
            // A module this file declares, by its name: the name is what is reached.
            (Some(file.clone()), 0)
        } else {
            if let Some(after) = rest.strip_prefix("mod ") {
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if after[name.len()..].trim_start().starts_with('{') {
                    inline.push((name, depth));
                }
            }
            (None, 0)
        };
        if let Some(base) = base {
            for name in reached_names(&rest[skip..]) {
                let mut path = base.clone();
                if !name.is_empty() {
                    path.push(name);
                }
                found.push(path);
            }
            at += skip.max(1);
            continue;
        }
        match bytes[at] {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if inline.last().is_some_and(|&(_, opened)| opened == depth) {
                    inline.pop();
                }
            }
            _ => {}
        }
        at += rest.chars().next().map_or(1, char::len_utf8);
    }
    found
}

/// The file a module path lands in: the longest prefix of it that is a file.
fn file_of<'a>(path: &ModPath, files: &'a BTreeMap<ModPath, String>) -> &'a ModPath {
    (0..=path.len())
        .rev()
        .find_map(|len| files.get_key_value(&path[..len]).map(|(key, _)| key))
        .expect("tui/mod.rs is a file")
}

/// `tui/draw/header.rs` for `["draw", "header"]`.
fn file_name(path: &ModPath, files: &BTreeMap<ModPath, String>) -> String {
    let is_dir = files
        .keys()
        .any(|other| other.len() > path.len() && other.starts_with(path));
    let mut name = String::from("tui");
    for part in path {
        name.push('/');
        name.push_str(part);
    }
    name + if is_dir { "/mod.rs" } else { ".rs" }
}

/// The strongly connected components of the graph with more than one node (Tarjan).
fn cycles(graph: &BTreeMap<String, Vec<String>>) -> Vec<Vec<String>> {
    struct Search<'a> {
        graph: &'a BTreeMap<String, Vec<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Search<'a> {
        fn visit(&mut self, node: &'a str) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            for next in &self.graph[node] {
                if !self.index.contains_key(next.as_str()) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next.as_str()]);
                    self.low.insert(node, low);
                } else if self.stack.contains(&next.as_str()) {
                    let low = self.low[node].min(self.index[next.as_str()]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let at = self.stack.iter().position(|&s| s == node).unwrap();
                let component: Vec<String> = self.stack.drain(at..).map(String::from).collect();
                if component.len() > 1 {
                    self.found.push(component);
                }
            }
        }
    }
    let mut search = Search {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !search.index.contains_key(node.as_str()) {
            search.visit(node);
        }
    }
    search.found
}

#[test]
fn no_two_tui_files_import_each_other() {
    let files = tui_files();
    let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (module, source) in &files {
        let from = file_name(module, &files);
        let mut to: Vec<String> = references(module, source)
            .iter()
            .map(|path| file_name(file_of(path, &files), &files))
            .filter(|to| *to != from)
            .collect();
        to.sort();
        to.dedup();
        println!("{from} -> {}", to.join(", "));
        graph.insert(from, to);
    }
    let found = cycles(&graph);
    println!("cycles: {found:?}");
    assert!(found.is_empty(), "files importing each other: {found:?}");
}

/// The reader sees what it should: paths in `use` lines and code, groups, `super` from an
/// inline test module, and nothing inside comments or strings.
#[test]
fn references_are_read_as_rust_resolves_them() {
    let source = r#"
        //! [`super::app`] in a comment
        mod part;
        use super::{action::Mode, help::{self, HelpFacts}};
        use crate::tui::theme::Theme;
        fn f() { part::draw(); let s = "super::keymap"; let c = '{'; }
        #[cfg(test)]
        mod tests {
            use super::*;
            use super::super::slices::SliceAxes;
        }
    "#;
    let file = vec!["draw".to_string()];
    let path = |parts: &[&str]| parts.iter().map(|p| p.to_string()).collect::<ModPath>();
    assert_eq!(
        references(&file, source),
        [
            path(&["action"]),
            path(&["help"]),
            path(&["theme"]),
            path(&["draw", "part"]),
            path(&["draw"]),
            path(&["slices"]),
        ]
    );
}
