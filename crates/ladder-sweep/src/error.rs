//! Errors of sweeps.

use std::path::PathBuf;

use thiserror::Error;

/// What can go wrong planning or running a sweep.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SweepError {
    /// The TOML could not be parsed (syntax, unknown key or wrong type).
    #[error("{path}: {message}")]
    Parse {
        /// The config file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A value is out of range; `field` is its TOML path.
    #[error("{field}: {message}")]
    Invalid {
        /// TOML path, e.g. `model.shapes[2].n_head`.
        field: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The output directory holds a sweep of a different config.
    #[error("{dir} holds results of a different config ({found}); use another --out, or the original config")]
    ConfigMismatch {
        /// The output directory.
        dir: PathBuf,
        /// Where the other config is.
        found: PathBuf,
    },
    /// Some runs failed; the others are kept.
    #[error("{failed} of {total} runs failed: {first}")]
    RunsFailed {
        /// Number of failed runs.
        failed: usize,
        /// Number of runs.
        total: usize,
        /// The first failure.
        first: String,
    },
    /// Reading or writing the output failed.
    #[error(transparent)]
    Store(#[from] ladder_store::StoreError),
    /// The data source failed.
    #[error(transparent)]
    Data(#[from] ladder_data::DataError),
    /// File-system error.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl SweepError {
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}
