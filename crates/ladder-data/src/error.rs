//! Errors of the data crate.

use std::path::PathBuf;

use thiserror::Error;

/// What can go wrong when opening or reading a token source.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DataError {
    /// The corpus file could not be read.
    #[error("cannot read corpus {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The corpus is not valid UTF-8.
    #[error("corpus {path} is not valid UTF-8 at byte {offset}: convert it to UTF-8 first")]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// A source parameter is out of range.
    #[error("{field}: {message}")]
    BadParameter {
        /// The parameter, e.g. `split.fraction`.
        field: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A split holds fewer tokens than asked for.
    #[error("the {split} split holds {available} tokens but {requested} are needed: {hint}")]
    NotEnoughTokens {
        /// `train` or `validation`.
        split: &'static str,
        /// Tokens the split holds (as usable by sequences of the model's context).
        available: u64,
        /// Tokens asked for.
        requested: u64,
        /// How to fix it.
        hint: &'static str,
    },
}
