//! Sweeps: the TOML config, the plan of runs it expands to, and the parallel,
//! resumable runner.
//!
//! - [`SweepConfig`]: serde structs that mirror the TOML file exactly;
//! - [`Plan`]: the validated, fully derived list of [`PlannedRun`]s, with every bad
//!   field reported by its TOML path;
//! - [`run_sweep`]: trains every unfinished run on a rayon pool, each into its own
//!   crash-safe HDF5 file, then rebuilds `sweep.h5`.
#![deny(missing_docs)]

mod config;
mod deadline;
mod device;
mod error;
mod estimate;
mod isoflop;
mod plan;
mod rules;
mod runner;
mod size;
mod source;
mod sweep_dir;
mod tune;
mod units;

pub use config::{DesignConfig, SweepConfig, TokensConfig};
pub use deadline::{Deadline, UnitTiming};
pub use device::DeviceChoice;
pub use error::SweepError;
pub use estimate::{makespan, run_seconds};
pub use isoflop::{expected_optimum, nearest_sizes};
pub use plan::{Plan, PlannedRun};
pub use runner::{
    jobs_sharing_cores, pending_runs, run_sweep, threads_per_job, ExtraObserver, RunContext,
    SweepOptions, SweepOutcome,
};
pub use size::{shape_for_size, shape_name};
pub use source::DataSpec;
pub use sweep_dir::{claim_dir, failed_path, sweep_status, RunState, RunStatus, UNITS_FILE};
pub use tune::{best_rates, bracket, tune_plan, LrTable, TunedLr, DEFAULT_FACTORS};
pub use units::{units, Unit};
