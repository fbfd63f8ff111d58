//! ladder's pipeline, shared by the command line, the teaching labs and the report:
//!
//! - [`Results`]: a sweep's results opened, turned into the fit's input under typed
//!   conventions ([`fit_input`], [`read_input`] for `.h5` and CSV), and reported;
//! - [`fit()`], [`FitOptions`], [`read_fit`], [`write_json`]: the fit as `ladder fit`
//!   runs it, and fit.json both ways; [`fit_text`] prints it;
//! - [`Session`]: a plan trained on the CPU or GPUs, the caller watching through an
//!   observer; [`load_plan`] and [`Timing`] behind `ladder plan`;
//! - [`design_points`], [`design_law`], [`design_text`]: a config simulated before it
//!   is trained (`ladder design`);
//! - [`labs`]: the teaching labs, end to end ([`labs::run_lab`]);
//! - [`SlurmJob`]: a sweep as a Slurm job array and its merge job;
//! - [`laws`]: the calculator over published laws and fit.json files.
//!
//! Nothing here parses arguments or prints: the command line does, with the values
//! and text these functions return.
#![deny(missing_docs)]

pub mod auto;
mod design;
mod error;
mod fit;
mod input;
pub mod labs;
pub mod laws;
mod plans;
mod progress;
mod results;
mod slurm;
pub mod text;
mod train;
mod tune;

pub use design::{
    design_law, design_points, design_text, drawn_misfit, misfit_note, plan_seeds, simulate_plan,
    size_misfit_note, smooth_misfit_hint, split_noise, DesignLaw, DesignRequest, MisfitLength,
};
pub use error::{error_chain, LabError};
pub use fit::{
    calibrate, fit, fit_per_seed, read_fit, read_law, seed_groups, write_json, FitOptions,
};
pub use input::{fit_input, held_out_factor, pool_inputs, read_input, read_inputs, FitInput};
pub use plans::{duration, job_devices, load_plan, load_plan_in, plan_text, Timing};
pub use progress::{ProgressLog, Sink};
pub use results::Results;
pub use slurm::{SlurmJob, SlurmScripts};
pub use text::fit_text;
pub use train::{jobs_or_cores, share_threads, Session, TrainOptions};
pub use tune::write_tuned;
