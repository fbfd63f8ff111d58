//! `ladder plan CONFIG`.

use std::path::PathBuf;

use ladder_lab::text::plan_text;
use ladder_lab::{job_devices, jobs_or_cores, load_plan_in, share_threads, LabError, Timing};
use ladder_sweep::{claim_dir, units, DeviceChoice};

use crate::exit::{emit, Failure};

/// Arguments of `ladder plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Sweep config (TOML).
    pub config: PathBuf,
    /// Parallel jobs the wall-time estimate assumes (default: as `run`, one per core on
    /// the CPU, one per GPU with CUDA).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Where the runs will train, and so where each shape is timed (and a `[design]`'s
    /// sizes, unless it assumes `flops_per_second`): cpu, cuda or cuda:N, as `run`.
    #[arg(long, default_value = "cpu")]
    pub device: DeviceChoice,
    /// Skip timing each shape, and so the wall-time estimate.
    #[arg(long)]
    pub no_timing: bool,
    /// Sweep directory to claim for this plan: writes DIR/config.toml as `ladder run
    /// --out DIR` would, so that a `[design]` resolved here is the one `run` (or
    /// `slurm`) trains; a directory that already holds a resolution keeps it.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub(crate) fn plan(args: &PlanArgs) -> Result<(), Failure> {
    let out = args.out.as_deref();
    let (plan, search) = load_plan_in(&args.config, out, args.device, &mut |step| {
        eprintln!("{step}...")
    })?;
    if let Some(search) = &search {
        emit(search)?;
    }
    if let Some(dir) = out {
        claim_dir(&plan, dir).map_err(LabError::from)?;
        eprintln!(
            "claimed {} for this plan: `ladder run {} --out {}` trains it",
            dir.display(),
            args.config.display(),
            dir.display()
        );
    }
    // As `run`: no more jobs than units.
    let mut devices = if args.no_timing {
        vec![candle_core::Device::Cpu; jobs_or_cores(args.jobs)?]
    } else {
        job_devices(args.device, args.jobs)?
    };
    devices.truncate(units(&plan).len().max(1));
    let jobs = devices.len();
    share_threads(jobs);
    let timing = if args.no_timing {
        None
    } else {
        Some(Timing::measure(&plan, &devices, &mut |run, measured| {
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
