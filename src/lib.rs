//! jacscope: explore the Jacobians of matrix expressions in index notation.
//!
//! Data flows one way: text → [`expr`] (tokens, AST with spans, shapes) → [`calculus`]
//! (index formula) → [`jacobian`] (formula bound to numbers) → views (the CLI printers and
//! the TUI). [`inputs`] provides the numbers, [`eval`] the forward values (with
//! [`eval::kernels`], the numerical kernels the bound formula shares), [`check`] an
//! independent finite-difference witness, [`sparsity`] the structural support, and
//! [`axis_index`] reads the indices of J a person types.

pub mod axis_index;
pub mod calculus;
pub mod check;
pub mod claim;
pub mod cli;
pub mod commands;
pub mod error;
pub mod eval;
pub mod expr;
pub mod inputs;
pub mod jacobian;
pub mod layout;
pub mod numfmt;
pub mod output_file;
pub mod problem;
pub mod progress;
#[cfg(unix)]
pub mod signal_exit;
pub mod sparsity;
pub mod tui;
