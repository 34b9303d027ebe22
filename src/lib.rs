//! jacscope: explore the Jacobians of matrix expressions in index notation.
//!
//! Data flows one way: text → [`expr`] (tokens, AST with spans, shapes) → [`calculus`]
//! (index formula) → [`jacobian`] (formula bound to numbers) → views (the CLI printers and
//! the TUI). [`inputs`] provides the numbers, [`eval`] the forward values (with
//! [`eval::kernels`], the numerical kernels the bound formula shares), [`check`] an
//! independent finite-difference witness and its verdict, [`sparsity`] the structural
//! support, [`axis_index`] reads the indices of J a person types, [`layout`] the
//! conventions and [`claim`] what a person claims J is; [`problem`] turns the command line's
//! text, shapes, files and seed into an evaluated problem and its overview. Every fact both
//! views print has one writer among these; [`commands`] and [`tui`] only lay text out.
//! `tests/architecture.rs` keeps the order: no import loops, no import against the flow.

pub mod axis_index;
pub mod calculus;
pub mod check;
pub mod claim;
pub mod cli;
pub mod commands;
pub mod emit;
pub mod error;
pub mod eval;
pub mod expr;
pub mod inputs;
pub mod jacobian;
pub mod layout;
pub mod numfmt;
pub mod output_file;
pub mod picture;
pub mod problem;
pub mod progress;
#[cfg(unix)]
pub mod signal_exit;
pub mod sparsity;
pub mod tui;
