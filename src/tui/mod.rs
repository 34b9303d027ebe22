//! The interactive explorer: app state and `update(Action)`, keymap, event loop, render,
//! heat map and theme.

pub mod heatmap;
pub mod theme;
