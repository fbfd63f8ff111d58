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
    /// There are fewer points than the law has free parameters.
    #[error(
        "{got} points cannot determine a {needed}-parameter law: add runs (at least {needed})"
    )]
    TooFewPoints {
        /// Number of points given.
        got: usize,
        /// Number of free parameters.
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
    /// No start of the optimiser converged to a finite objective.
    #[error("no start of the optimiser reached a finite objective")]
    NoConvergence,
}
