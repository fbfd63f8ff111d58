//! Errors of the model crate.

use thiserror::Error;

/// What can go wrong when shaping or building a model.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A shape field has a value the model cannot use.
    #[error("{field}: {message}")]
    BadShape {
        /// The config field, e.g. `n_head`.
        field: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// candle failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}
