//! The rules of the house (DESIGN.md, "Architecture: data flows one way"), checked on the
//! source itself: no two files under `src/` import each other, directly or around a loop;
//! no module imports one that stands above it in the order text → expr → inputs/eval →
//! calculus → sparsity → jacobian → layout/claim → picture → problem → commands/tui; no file is
//! longer than 1,500 lines including its tests.
//!
//! An import is any path `crate::…` or `super::…` written outside comments and outside the
//! file's test module, resolved to the file of the longest module prefix it names (so
//! `crate::expr::Graph` is an import of `src/expr/mod.rs`, which re-exports it).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The longest a file under `src/` may be, tests included.
const MAX_LINES: usize = 1500;

/// The top-level modules in the order data flows through them; a module may import only
/// modules of its own rank or below. Helpers used everywhere rank lowest; the binary's
/// entry points rank highest.
const RANKS: &[(&str, u32)] = &[
    ("numfmt", 0),
    ("progress", 0),
    ("signal_exit", 0),
    ("expr", 1),
    ("inputs", 2),
    ("output_file", 2),
    ("eval", 3),
    ("check", 4),
    ("calculus", 5),
    ("sparsity", 6),
    ("jacobian", 7),
    ("axis_index", 7),
    ("layout", 8),
    ("claim", 8),
    ("emit", 8),
    ("error", 9),
    ("picture", 9),
    ("problem", 10),
    ("cli", 11),
    ("commands", 12),
    ("tui", 12),
    ("lib", 13),
    ("main", 13),
];

/// One source file: its module path (`["calculus", "derive"]`) and its text without
/// comments and without its test module.
struct Source {
    module: Vec<String>,
    code: String,
    lines: usize,
}

/// Every `.rs` file under `dir`, by path.
fn sources(dir: &Path, files: &mut BTreeMap<PathBuf, Source>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path).unwrap();
            let source = Source {
                module: module_of(&path),
                code: code_of(&text),
                lines: text.lines().count(),
            };
            files.insert(path, source);
        }
    }
}

/// `src/calculus/derive.rs` → `["calculus", "derive"]`; `src/inputs/mod.rs` → `["inputs"]`;
/// `src/lib.rs` → `[]`.
fn module_of(path: &Path) -> Vec<String> {
    let relative = path.strip_prefix("src").unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The text without `//` comments and without the `#[cfg(test)] mod …` block at its end.
fn code_of(text: &str) -> String {
    let mut code = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            // Test modules come last in this code base; a test-only item in the middle
            // (a `#[cfg(test)] fn`) is skipped with what follows it.
            break;
        }
        if !trimmed.starts_with("//") {
            code.push_str(line);
            code.push('\n');
        }
    }
    code
}

/// The paths written in `code` that start with `crate` or `super`, as segments, with
/// `use a::{b, c::d}` groups expanded one level.
fn paths(code: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    for root in ["crate", "super"] {
        let mut start = 0;
        while let Some(offset) = code[start..].find(root) {
            let at = start + offset;
            start = at + root.len();
            if at > 0 && (is_ident(bytes[at - 1]) || bytes[at - 1] == b':') {
                continue;
            }
            let rest = &code[at + root.len()..];
            let mut prefix = Vec::new();
            let mut tail = rest;
            while let Some(after) = tail.strip_prefix("::") {
                let len = after.bytes().take_while(|&b| is_ident(b)).count();
                if len == 0 {
                    break;
                }
                prefix.push(after[..len].to_string());
                tail = &after[len..];
            }
            if let Some(group) = tail.strip_prefix("::{") {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                for item in group.split(',') {
                    let mut segments = prefix.clone();
                    segments.extend(
                        item.trim()
                            .split("::")
                            .filter(|s| !s.is_empty() && *s != "self" && !s.contains(' '))
                            .map(str::to_string),
                    );
                    found.push((root.to_string(), segments));
                }
            } else if !prefix.is_empty() {
                found.push((root.to_string(), prefix));
            }
        }
    }
    found
}

/// The file each file imports, resolved as the module doc says.
fn imports(files: &BTreeMap<PathBuf, Source>) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let by_module: BTreeMap<&[String], &PathBuf> = files
        .iter()
        .map(|(path, source)| (source.module.as_slice(), path))
        .collect();
    let mut edges = BTreeMap::new();
    for (path, source) in files {
        let own_dir = path.file_name().is_some_and(|n| n == "mod.rs");
        let mut targets = BTreeSet::new();
        for (root, segments) in paths(&source.code) {
            let mut module: Vec<String> = if root == "crate" {
                Vec::new()
            } else if own_dir {
                source.module[..source.module.len().saturating_sub(1)].to_vec()
            } else {
                source.module[..source.module.len() - 1].to_vec()
            };
            let mut rest = segments.as_slice();
            while rest.first().is_some_and(|s| s == "super") {
                module.pop();
                rest = &rest[1..];
            }
            module.extend(rest.iter().cloned());
            let target = (0..=module.len())
                .rev()
                .find_map(|n| by_module.get(&module[..n]));
            if let Some(&target) = target
                && target != path
            {
                targets.insert(target.clone());
            }
        }
        edges.insert(path.clone(), targets);
    }
    edges
}

/// The rank of the top-level module of `path`.
fn rank(path: &Path) -> u32 {
    let module = module_of(path);
    let top = module.first().map_or("lib", String::as_str);
    let top = if path.ends_with("main.rs") {
        "main"
    } else {
        top
    };
    RANKS
        .iter()
        .find(|(name, _)| *name == top)
        .unwrap_or_else(|| panic!("{top} has no rank in tests/architecture.rs: give it one"))
        .1
}

/// A loop through `from`, if there is one: the files along it.
fn loop_through(
    from: &PathBuf,
    edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
) -> Option<Vec<PathBuf>> {
    let mut stack = vec![(from.clone(), vec![from.clone()])];
    let mut seen = BTreeSet::new();
    while let Some((at, trail)) = stack.pop() {
        for next in &edges[&at] {
            if next == from {
                return Some(trail);
            }
            if seen.insert(next.clone()) {
                let mut longer = trail.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

fn all_sources() -> BTreeMap<PathBuf, Source> {
    let mut files = BTreeMap::new();
    sources(Path::new("src"), &mut files);
    assert!(files.len() > 20, "the sources are found");
    files
}

#[test]
fn no_file_imports_itself_around_a_loop() {
    let edges = imports(&all_sources());
    let loops: Vec<String> = edges
        .keys()
        .filter_map(|path| loop_through(path, &edges))
        .map(|trail| {
            let names: Vec<String> = trail.iter().map(|p| p.display().to_string()).collect();
            format!("{} → back", names.join(" → "))
        })
        .collect();
    assert!(loops.is_empty(), "import loops:\n{}", loops.join("\n"));
}

#[test]
fn data_flows_one_way() {
    let edges = imports(&all_sources());
    let mut upward = Vec::new();
    for (from, targets) in &edges {
        for to in targets {
            if rank(to) > rank(from) {
                upward.push(format!("{} imports {}", from.display(), to.display()));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that run upward:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_file_is_longer_than_the_limit() {
    let long: Vec<String> = all_sources()
        .iter()
        .filter(|(_, source)| source.lines > MAX_LINES)
        .map(|(path, source)| format!("{}: {} lines", path.display(), source.lines))
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_checker_sees_imports_and_loops() {
    let code = code_of(
        "use crate::calculus::{formula::Term, render};\n// use crate::tui;\nuse super::app::App;\n",
    );
    let found = paths(&code);
    assert_eq!(
        found,
        vec![
            (
                "crate".to_string(),
                vec!["calculus".into(), "formula".into(), "Term".into()]
            ),
            (
                "crate".to_string(),
                vec!["calculus".into(), "render".into()]
            ),
            ("super".to_string(), vec!["app".into(), "App".into()]),
        ]
    );
    let a = PathBuf::from("src/a.rs");
    let b = PathBuf::from("src/b.rs");
    let edges = BTreeMap::from([
        (a.clone(), BTreeSet::from([b.clone()])),
        (b.clone(), BTreeSet::from([a.clone()])),
    ]);
    assert_eq!(loop_through(&a, &edges), Some(vec![a, b]));
}
