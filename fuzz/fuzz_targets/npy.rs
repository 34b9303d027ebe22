//! Fuzzes `.npy` loading: any bytes load as a finite array of rank ≤ 2 or are refused
//! with a printable message; never a panic or an allocation the file does not back.

#![no_main]

mod load;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| load::load(data, "X.npy", false));
