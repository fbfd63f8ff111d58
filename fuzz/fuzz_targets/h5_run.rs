//! The HDF5 run and sweep reader: any bytes as a run file, then the merge's checks.
#![no_main]

use std::path::Path;

use ladder_store::read_runs_from_bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(runs) = read_runs_from_bytes(bytes.to_vec(), Path::new("fuzz.h5")) {
        for run in &runs {
            let _ = (run.final_val_loss(), run.status.name(), run.attrs());
        }
    }
});
