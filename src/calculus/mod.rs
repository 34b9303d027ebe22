//! Index formulas: types, derivation rules, simplification, rendering, derivation steps.
//!
//! [`raw_formula`] differentiates a graph into the expanded chain-rule sum,
//! [`simplify`] eliminates deltas and merges terms ([`jacobian_formula`] does both;
//! [`jacobian_formula_within`] refuses a formula of more than a given number of terms),
//! [`render`] writes a formula in Unicode, ASCII or LaTeX, and [`derivation_steps`] writes
//! the whole derivation as a worked answer.

pub mod derive;
pub mod formula;
pub mod render;
pub mod simplify;
pub mod steps;
#[cfg(test)]
mod test_support;

pub use derive::{MAX_TERMS, TooManyTerms, raw_formula, raw_formula_within};
pub use formula::{Factor, Formula, IndexId, IndexRole, IndexVar, Slot, TensorDef, TensorId, Term};
pub use render::{Notation, definitions, lhs, node_name, render, render_factor, render_term};
pub use simplify::{jacobian_formula, jacobian_formula_within, simplify};
pub use steps::{Step, derivation_steps};
