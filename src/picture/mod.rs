//! Heat maps apart from the terminal: the exact block grid the explorer draws
//! ([`grid`]), what a block looks like and in which colour ([`paint`]), and the pictures
//! written from it ([`figure`] lays one out; [`svg`], [`raster`] and [`text`] write it).
//!
//! The explorer and the subcommands `slice --format svg|png` and `matrix` share all of it,
//! so a picture shows exactly what the explorer shows, without its cursor.

pub mod figure;
mod font;
pub mod grid;
pub mod paint;
pub mod raster;
pub mod svg;
pub mod text;
