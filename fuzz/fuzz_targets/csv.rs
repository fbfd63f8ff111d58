//! The CSV reader of `ladder fit`: any text, with the default columns.
#![no_main]

use ladder_fit::{CsvOptions, Dataset};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = Dataset::from_csv_with(text, "fuzz.csv", &CsvOptions::default());
});
