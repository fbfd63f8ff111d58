//! Errors of the fitting crate.

use thiserror::Error;

/// What can go wrong when reading points or fitting a law.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FitError {
    /// A CSV input could not be parsed; `line` is 1-based.
    #[error("{source_name}: line {line}: {message}")]
    Csv {
        /// File name or other label of the input.
        source_name: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A point has a non-positive or non-finite value.
    #[error("point {index}: {field} = {value} must be finite and > 0")]
    BadPoint {
        /// 0-based index of the point.
        index: usize,
        /// Which field (`N`, `D` or `loss`).
        field: &'static str,
        /// The offending value.
        value: f64,
    },
    /// There are too few points for the law's free parameters.
    #[error("{got} points are too few to fit this law: add runs (it needs at least {needed})")]
    TooFewPoints {
        /// Number of points given.
        got: usize,
        /// Points needed.
        needed: usize,
    },
    /// An IsoFLOP budget has too few distinct model sizes for a parabola.
    #[error(
        "the budget C = {budget:.3e} FLOPs has {sizes} distinct model size(s): an IsoFLOP parabola \
         needs at least 3; add sizes at that budget or drop its points"
    )]
    BudgetTooNarrow {
        /// The budget in FLOPs.
        budget: f64,
        /// Distinct model sizes at that budget.
        sizes: usize,
    },
    /// Too few budgets have a usable (convex) IsoFLOP profile for a line fit.
    #[error(
        "{usable} of {total} budgets have a convex IsoFLOP profile: the exponent needs at least 2"
    )]
    TooFewBudgets {
        /// Budgets with a minimum.
        usable: usize,
        /// All budgets.
        total: usize,
    },
    /// The training curves give no envelope to fit (approach 1).
    #[error("approach 1: {0}")]
    NoEnvelope(String),
    /// An IsoFLOP budget has no bracketed minimum (a convex profile whose lowest loss is
    /// not at its smallest or largest size).
    #[error(
        "the budget {budget:.3e} has no bracketed IsoFLOP minimum: add sizes around its lowest loss"
    )]
    NoMinimum {
        /// The budget in FLOPs.
        budget: f64,
    },
    /// No run lies above the extrapolation cut.
    #[error("no run has a budget above C_max/k = {c_cut:.3e} FLOPs to hold out")]
    NoHeldOut {
        /// The cut in FLOPs.
        c_cut: f64,
    },
    /// No start of the optimiser converged to a finite objective.
    #[error("no start of the optimiser reached a finite objective")]
    NoConvergence,
}
