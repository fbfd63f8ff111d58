//! Crash-safe HDF5 storage of runs and sweeps, in pure Rust (`hdf5-pure`).
//!
//! - [`RunWriter`]: an [`Observer`](ladder_core::Observer) that keeps one run in
//!   `runs/<id>.h5.tmp`, appending a row to each curve at every evaluation, and renames
//!   it to `runs/<id>.h5` when the run finishes;
//! - [`merge_sweep`]: rebuilds `sweep.h5` from the finished run files that belong to the
//!   sweep ([`check_run_file`]), through a temporary file and a rename, never replacing
//!   a sweep.h5 with one that has fewer runs;
//! - [`read_runs`]: reads a run or sweep file back into [`RunRecord`]s.
//!
//! The schema is documented in `results/README.md`.
#![deny(missing_docs)]

mod attrs;
mod error;
mod meta;
mod read;
mod run_file;
mod sweep_file;

pub use attrs::Attr;
pub use error::StoreError;
pub use meta::RunMeta;
pub use read::{read_run, read_runs, read_runs_from_bytes, Curves, RunRecord, Status};
pub use run_file::{finished_path, tmp_path, RunLock, RunWriter, CURVES};
pub use sweep_file::{check_run_file, config_hash, merge_sweep, Merged};

/// Version of the file layout, stored as the `schema` attribute.
pub const SCHEMA_VERSION: i64 = 1;
