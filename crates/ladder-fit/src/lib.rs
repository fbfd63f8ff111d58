//! Scaling-law fitting on plain `(N, D, loss)` data.
//!
//! This crate is pure numerics: it depends on neither candle nor HDF5, so it can be
//! used and tested on plain slices of points. What it offers:
//!
//! - [`Points`] and [`Dataset`]: validated `(N, D, loss)` observations with budget and
//!   run labels and training curves, read from CSV or built in code;
//! - [`ChinchillaLaw`]: `L(N, D) = E + A/N^α + B/D^β` and its compute-optimal allocation
//!   (Hoffmann et al. 2022, eq. 2 and 4);
//! - [`fit_approach1`], [`fit_approach2`], [`fit_approach3`]: Chinchilla's three
//!   approaches (training-curve envelope, IsoFLOP parabolas, the Huber fit from
//!   Hoffmann's grid of starts as replicated by Besiroglu et al. 2024);
//! - [`fit_kaplan`]: Kaplan et al. 2020's single-variable and joint forms;
//! - [`bootstrap`], [`bootstrap_approach2`], [`bootstrap_approach3`]: seeded, parallel
//!   percentile intervals;
//! - [`Diagnostics`], [`extrapolate`] and [`verdict`]: how well a law fits, whether it
//!   predicts larger runs, and what the data say about the published claims;
//! - [`analyse`] and [`FitReport`]: all of the above as one report (text and JSON);
//! - [`run_checks`]: regression checks of a fit against a baseline.
//!
//! The optimiser is a small allocation-free L-BFGS (`minimize.rs`).
#![deny(missing_docs)]

mod approach2;
mod approach3;
mod bootstrap;
mod calibration;
mod check;
mod claims;
mod csv_file;
mod data_constrained;
mod design;
mod diagnostics;
mod envelope;
mod error;
mod extrapolation;
mod huber;
mod inference;
mod iso_path;
mod json;
mod kaplan;
mod lack_of_fit;
mod law;
mod minimize;
mod misfit_field;
mod optimum_check;
mod points;
mod presets;
mod report;
mod seed_fits;
mod seeds;
mod size_order;
mod stats;
mod test_time;
pub mod verdict;

pub use approach2::{
    bootstrap_approach2, fit_approach2, group_budgets, group_planned, Approach2Bootstrap,
    Approach2Fit, Budget, MinimumRule, Noise, Profile, Reading, NEIGHBOURS,
};
pub use approach2::{pooled_lack_of_fit, profiles_reject};
pub use approach3::{
    bootstrap_approach3, fit_approach3, Approach3Bootstrap, Approach3Fit, Approach3Options,
    StartGrid,
};
pub use bootstrap::{
    bootstrap, bootstrap_clusters, Approach2Misfit, BootstrapOptions, Draws, Resampling,
};
pub use calibration::{
    calibrate, draw_like, needed_factor, quantile_range, widen, CalibratedInterval, Calibration,
    CalibrationOptions, NoiseModel, CALIBRATION_RESAMPLES,
};
pub use check::{run_checks, Baseline, Check, CheckError, Outcome};
pub use claims::{Claim, ClaimKind, Claims, MODELS};
pub use csv_file::CsvOptions;
pub use data_constrained::{DataConstrainedLaw, Repetition};
pub use design::{
    simulate, DesignPoint, DesignReport, QuantitySummary, SeedChecks, SimulationOptions,
    VerdictCount,
};
pub use diagnostics::{Diagnostics, Residual, Trend};
pub use envelope::{fit_approach1, Approach1Fit, EnvelopePoint};
pub use error::FitError;
pub use extrapolation::{extrapolate, held_in, Extrapolation, HeldOut, DEFAULT_K};
pub use huber::{huber, huber_derivative};
pub use inference::{
    chinchilla_for_loss, chinchilla_within_budget, optimum_for_budget, optimum_for_loss,
    served_tokens_for_optimum, Allocation,
};
pub use iso_path::{IsoFlop, IsoPath};
pub use kaplan::{
    fit_kaplan, fit_kaplan_joint, fit_power_law, FormFit, KaplanFits, KaplanJoint, PowerLaw,
    PowerLawPair,
};
pub use lack_of_fit::LackOfFit;
pub use law::ChinchillaLaw;
pub use misfit_field::{smooth_in_size, SizeMisfit};
pub use optimum_check::{
    check_optimum, CheckBootstrap, ErrorSpreads, NoInterval, Optimum, OptimumCheck, Predicted,
    CHECK_FAILED_MAX, CHECK_RESAMPLES,
};
pub use points::{family_ids, Curve, Dataset, Point, Points, TokenUnit};
pub use presets::{kaplan2020, preset, Preset, MUENNIGHOFF_2023, PRESETS};
pub use report::{
    analyse, approach2_budgets, report_budgets, AnalysisOptions, Approach2Json, Approach2Mode,
    Approach3Json, BootstrapInfo, FitReport, Intervals, Prediction, TokensPerParam,
};
pub use seed_fits::{cochran_q, seed_agreement, Consistency, SeedAgreement, SeedFit, SeedRuns};
pub use seeds::{seed_spreads, SeedSpread};
pub use size_order::{size_order, Inversion, SizeOrder};
pub use stats::{mean_sd, polyfit, quantile_sorted, r_squared, spearman, Spread};
pub use test_time::LogLinear;
