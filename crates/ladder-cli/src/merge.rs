//! `ladder merge DIR [--force]`: gathers the finished run files of a sweep directory into
//! its sweep.h5, after checking that each belongs to the sweep.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, Context};
use ladder_lab::text::merge_text;
use ladder_store::{merge_sweep, StoreError};
use ladder_sweep::sweep_status;

use crate::exit::{emit, Failure, ResultExt};

/// Arguments of `ladder merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The sweep directory (the --out of `ladder run`).
    pub dir: PathBuf,
    /// Drop the runs that the existing sweep.h5 holds and runs/ has no file for (kept
    /// otherwise, when they belong to the sweep).
    #[arg(long)]
    pub force: bool,
}

pub(crate) fn merge(args: &MergeArgs) -> Result<(), Failure> {
    require_sweep_dir(&args.dir)?;
    let config_path = args.dir.join("config.toml");
    let config = std::fs::read_to_string(&config_path)
        .with_context(|| format!("cannot read {}", config_path.display()))
        .runtime()?;
    let merged = merge_sweep(&args.dir, &config, args.force).map_err(|e| match e {
        e @ StoreError::Schema { .. } => Failure::Input(e.into()),
        e => Failure::Runtime(e.into()),
    })?;
    let statuses = sweep_status(&args.dir, Duration::from_secs(600)).ok();
    emit(&merge_text(&merged, statuses.as_deref(), &args.dir))
}

/// `DIR` must hold a sweep: its config.toml, else a clear error.
pub(crate) fn require_sweep_dir(dir: &std::path::Path) -> Result<(), Failure> {
    if dir.join("config.toml").is_file() {
        Ok(())
    } else {
        Err(Failure::Input(anyhow!(
            "{} is not a sweep directory (no config.toml): give the --out of `ladder run`",
            dir.display()
        )))
    }
}
