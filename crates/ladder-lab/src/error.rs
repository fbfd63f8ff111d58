//! What can go wrong in the pipeline, and whether it is the input's fault.

use std::path::PathBuf;

use thiserror::Error;

/// A pipeline step that failed. [`LabError::is_bad_input`] says whether the user can fix
/// it by changing what they gave (the command line exits 2) or it failed while working
/// (exit 1).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LabError {
    /// A value or option is wrong; the message names it and how to fix it.
    #[error("{0}")]
    Input(String),
    /// A file the user named cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A JSON or TOML file the user named is not what it should be.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A sweep config is invalid.
    #[error("invalid config {path}: {source}")]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong, with its TOML path.
        source: ladder_sweep::SweepError,
    },
    /// A results file cannot be read.
    #[error(transparent)]
    Results(#[from] ladder_store::StoreError),
    /// The data cannot be fitted.
    #[error("{what}: {source}")]
    Fit {
        /// The input that was being fitted.
        what: String,
        /// Why.
        source: ladder_fit::FitError,
    },
    /// A CSV of points cannot be read; the message names the file and the line.
    #[error(transparent)]
    Csv(ladder_fit::FitError),
    /// Training a sweep failed.
    #[error(transparent)]
    Sweep(#[from] ladder_sweep::SweepError),
    /// A report could not be written.
    #[error("{dir}: {source}")]
    Report {
        /// The results the report is of.
        dir: PathBuf,
        /// Why.
        source: ladder_report::ReportError,
    },
    /// An output file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Something failed while working.
    #[error("{0}")]
    Runtime(String),
}

/// The error and its causes joined by `: `, leaving out a cause whose text the message
/// already holds (errors that print their source, as most here do, would repeat it).
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = String::new();
    let mut cause = Some(error);
    while let Some(e) = cause {
        let text = e.to_string();
        if !message.contains(&text) {
            if !message.is_empty() {
                message.push_str(": ");
            }
            message.push_str(&text);
        }
        cause = e.source();
    }
    message
}

impl LabError {
    /// Whether the user's input is at fault (a config, a file, an option), not the work.
    pub fn is_bad_input(&self) -> bool {
        use ladder_sweep::SweepError as S;
        match self {
            LabError::Input(_)
            | LabError::Read { .. }
            | LabError::Format { .. }
            | LabError::Config { .. }
            | LabError::Results(_)
            | LabError::Csv(_)
            | LabError::Fit { .. } => true,
            LabError::Sweep(e) => matches!(
                e,
                S::Parse { .. } | S::ConfigMismatch { .. } | S::Invalid { .. }
            ),
            LabError::Report { source, .. } => {
                matches!(source, ladder_report::ReportError::Empty(_))
            }
            LabError::Write { .. } | LabError::Runtime(_) => false,
        }
    }
}
