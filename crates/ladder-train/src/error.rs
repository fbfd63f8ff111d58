//! Errors of a training run.

use thiserror::Error;

use crate::ObserverError;

/// What can stop a run.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TrainError {
    /// candle failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// The token source ran out before the run's budget: it should have been refused
    /// before training started.
    #[error("the token source ran out after {delivered} of {needed} training tokens")]
    SourceExhausted {
        /// Tokens delivered.
        delivered: u64,
        /// Tokens needed.
        needed: u64,
    },
    /// The loss became NaN or infinite.
    #[error("loss diverged (non-finite) at step {step}: lower the learning rate")]
    Diverged {
        /// The step.
        step: u64,
    },
    /// An observer (for example the HDF5 writer) failed.
    #[error("observer failed: {0}")]
    Observer(#[source] ObserverError),
}
