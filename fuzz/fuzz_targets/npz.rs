//! Fuzzes `.npz` loading: any bytes load as finite arrays of rank ≤ 2 or are refused with
//! a printable message; never a panic.

#![no_main]

mod load;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| load::load(data, "p.npz", true));
