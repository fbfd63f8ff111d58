//! Errors of the storage crate.

use std::path::PathBuf;

use thiserror::Error;

/// What can go wrong reading or writing result files.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// HDF5 read or write failed.
    #[error("{path}: {source}")]
    Hdf5 {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: hdf5_pure::Error,
    },
    /// A file-system operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Another process is writing this run (it holds the run's lock).
    #[error("run {run} is being trained by another process (it holds {lock}); let it finish, or stop it and rerun")]
    Busy {
        /// The run id.
        run: String,
        /// The lock file.
        lock: PathBuf,
    },
    /// A file does not follow ladder's schema.
    #[error("{path}: {message}")]
    Schema {
        /// The file.
        path: PathBuf,
        /// What is missing or wrong.
        message: String,
    },
}

impl StoreError {
    pub(crate) fn hdf5(path: &std::path::Path) -> impl FnOnce(hdf5_pure::Error) -> Self + '_ {
        move |source| Self::Hdf5 {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
