//! Index formulas: types, derivation rules, simplification, rendering, derivation steps.

pub mod formula;

pub use formula::{Factor, Formula, IndexId, IndexRole, IndexVar, Slot, TensorDef, TensorId, Term};
