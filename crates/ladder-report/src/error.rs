//! What can go wrong while writing a report.

use std::path::PathBuf;

use thiserror::Error;

/// A report that could not be written.
#[derive(Debug, Error)]
pub enum ReportError {
    /// A file or directory could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A CSV export failed.
    #[error("cannot write {path}: {source}")]
    Csv {
        /// The CSV file.
        path: PathBuf,
        /// Why.
        source: csv::Error,
    },
    /// plotters could not draw a figure.
    #[error("cannot draw {figure}: {message}")]
    Plot {
        /// The figure's file stem.
        figure: String,
        /// plotters' message.
        message: String,
    },
    /// The sweep has nothing to report.
    #[error("{0}")]
    Empty(String),
}

impl ReportError {
    /// A closure that wraps an I/O error with its path, for `map_err`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}
