//! Scaling-law fitting on plain `(N, D, loss)` data.
//!
//! This crate is pure numerics: it depends on neither candle nor HDF5, so it can be
//! used and tested on plain slices of points (argmin's separation of algorithms from
//! backends is the model). What it offers:
//!
//! - [`Points`]: validated `(N, D, loss)` observations, read from CSV or built in code;
//! - [`ChinchillaLaw`]: `L(N, D) = E + A/N^α + B/D^β` and its compute-optimal allocation
//!   (Hoffmann et al. 2022, eq. 2 and 4);
//! - [`fit_approach3`]: Chinchilla approach 3, the Huber fit in log space from
//!   Hoffmann's grid of starts, as replicated by Besiroglu et al. 2024;
//! - [`FitReport`]: the derived quantities, JSON output and the verdict lines.
#![deny(missing_docs)]

mod approach3;
mod bootstrap;
mod check;
mod diagnostics;
mod envelope;
mod error;
mod extrapolation;
mod huber;
mod isoflop;
mod kaplan;
mod law;
mod minimize;
mod points;
mod report;
mod stats;
pub mod verdict;

pub use approach3::{
    bootstrap_approach3, fit_approach3, Approach3Bootstrap, Approach3Fit, Approach3Options,
    StartGrid,
};
pub use bootstrap::{bootstrap, BootstrapOptions, Draws};
pub use check::{run_checks, Baseline, Check, CheckError, Outcome};
pub use diagnostics::{Diagnostics, Residual, Trend};
pub use envelope::{fit_approach1, Approach1Fit, EnvelopePoint};
pub use error::FitError;
pub use extrapolation::{extrapolate, Extrapolation, HeldOut};
pub use huber::{huber, huber_derivative};
pub use isoflop::{
    bootstrap_approach2, fit_approach2, group_budgets, Approach2Bootstrap, Approach2Fit, Budget,
    Profile,
};
pub use kaplan::{
    fit_kaplan, fit_kaplan_joint, fit_power_law, FormFit, KaplanFits, KaplanJoint, PowerLaw,
    PowerLawPair,
};
pub use law::ChinchillaLaw;
pub use points::{CsvOptions, Curve, Dataset, Point, Points};
pub use report::{
    analyse, report_budgets, AnalysisOptions, Approach2Json, Approach2Mode, Approach3Json,
    BootstrapInfo, FitReport, Intervals, TokensPerParam,
};
pub use stats::{mean_sd, polyfit, quantile_sorted, r_squared, spearman, Spread};
