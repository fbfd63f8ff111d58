//! `ladder status DIR`: which runs of a sweep directory are done, running, failed,
//! interrupted or missing, and which array tasks a rerun must redo.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::anyhow;
use ladder_lab::text::status_text;
use ladder_sweep::sweep_status;

use crate::exit::{emit, Failure};
use crate::merge::require_sweep_dir;

/// Arguments of `ladder status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The sweep directory (the --out of `ladder run`).
    pub dir: PathBuf,
    /// Minutes without a write after which a run in progress counts as interrupted.
    #[arg(long, default_value_t = 10.0)]
    pub stale_minutes: f64,
}

pub(crate) fn status(args: &StatusArgs) -> Result<(), Failure> {
    require_sweep_dir(&args.dir)?;
    if !(args.stale_minutes.is_finite() && args.stale_minutes > 0.0) {
        return Err(Failure::Input(anyhow!(
            "--stale-minutes: {} must be a number of minutes > 0",
            args.stale_minutes
        )));
    }
    let stale = Duration::from_secs_f64(args.stale_minutes * 60.0);
    let runs = sweep_status(&args.dir, stale).map_err(|e| Failure::Input(e.into()))?;
    emit(&status_text(&runs, &args.dir))
}
