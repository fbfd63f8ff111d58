//! `ladder plan CONFIG`.

use std::path::PathBuf;

use ladder_lab::text::plan_text;
use ladder_lab::{jobs_or_cores, load_plan_in, share_threads, Timing};
use ladder_sweep::units;

use crate::exit::{emit, Failure};

/// Arguments of `ladder plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Sweep config (TOML).
    pub config: PathBuf,
    /// Parallel jobs the wall-time estimate assumes (default: one per core, as `run`).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Skip timing each shape, and so the wall-time estimate.
    #[arg(long)]
    pub no_timing: bool,
}

pub(crate) fn plan(args: &PlanArgs) -> Result<(), Failure> {
    let (plan, search) = load_plan_in(&args.config, None, &mut |step| eprintln!("{step}..."))?;
    if let Some(search) = &search {
        emit(search)?;
    }
    // As `run` from an empty directory: no more jobs than units.
    let jobs = jobs_or_cores(args.jobs)?.min(units(&plan).len().max(1));
    share_threads(jobs);
    let timing = if args.no_timing {
        None
    } else {
        Some(Timing::measure(&plan, &mut |run, measured| {
            let m = &run.spec.model;
            match measured {
                None => eprint!(
                    "timing d_model {} n_layer {} (batch {})... ",
                    m.d_model, m.n_layer, run.spec.batch_size
                ),
                Some(tokens_per_second) => eprintln!("{tokens_per_second:.0} tokens/s"),
            }
        })?)
    };
    emit(&plan_text(&plan, timing.as_ref(), jobs))
}
