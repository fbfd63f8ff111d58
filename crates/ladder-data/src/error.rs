//! Errors of the data crate.

use std::path::PathBuf;

use thiserror::Error;

/// What can go wrong when opening or reading a token source.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DataError {
    /// The corpus file could not be read.
    #[error("cannot read corpus {path}")]
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
    /// A record of a structured corpus (a JSON line) is malformed.
    #[error("corpus {path}, line {line}: {message}")]
    BadRecord {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The corpus holds no text.
    #[error("corpus {path} holds no text: point data.path at a non-empty corpus")]
    Empty {
        /// The file or directory.
        path: PathBuf,
    },
    /// A corpus does not match its manifest.
    #[error("{path}: {what} is {actual}, but the manifest says {expected}: this is not the published file (re-download it, or drop data.corpus to use it unchecked)")]
    Mismatch {
        /// The file or corpus path.
        path: PathBuf,
        /// What was compared.
        what: String,
        /// The manifest's value.
        expected: String,
        /// The value found.
        actual: String,
    },
    /// The tokenizer failed to train, load, save, encode or decode.
    #[error("tokenizer: {message}")]
    Tokenizer {
        /// What failed.
        message: String,
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
