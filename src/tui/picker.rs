//! The curated examples of `assets/examples.toml`, offered by the picker (`x`).

use serde::Deserialize;

use crate::problem::ProblemSpec;

/// The examples file, built into the binary.
const EXAMPLES_TOML: &str = include_str!("../../assets/examples.toml");

/// One curated example.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Example {
    /// A short title.
    pub name: String,
    /// The expression.
    pub expression: String,
    /// `NAME=SHAPE` for each variable.
    pub shapes: Vec<String>,
    /// The variable to differentiate with respect to (default: the first).
    #[serde(default)]
    pub wrt: Option<String>,
    /// One line on the structure to look for.
    pub note: String,
}

impl Example {
    /// The problem of this example, with inputs drawn from `seed`.
    pub fn spec(&self, seed: u64) -> ProblemSpec {
        ProblemSpec {
            expression: self.expression.clone(),
            shapes: self.shapes.clone(),
            loads: Vec::new(),
            wrt: self.wrt.clone(),
            seed,
            max_memory: None,
        }
    }
}

#[derive(Deserialize)]
struct ExamplesFile {
    example: Vec<Example>,
}

/// The curated examples, in file order.
pub fn examples() -> Vec<Example> {
    // The file is part of the source tree and checked by the tests below.
    toml::from_str::<ExamplesFile>(EXAMPLES_TOML)
        .map(|file| file.example)
        .expect("assets/examples.toml is valid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::Problem;

    #[test]
    fn there_are_at_least_ten_examples_with_notes() {
        let all = examples();
        assert!(all.len() >= 10);
        for example in &all {
            assert!(!example.note.trim().is_empty(), "{}", example.name);
            assert!(!example.note.contains('\n'), "{}", example.name);
        }
    }

    #[test]
    fn every_example_builds() {
        for example in examples() {
            let problem = Problem::build(example.spec(0))
                .unwrap_or_else(|e| panic!("example '{}' does not build:\n{e}", example.name));
            if let Some(wrt) = &example.wrt {
                assert_eq!(problem.wrt_name(), wrt);
            }
        }
    }
}
