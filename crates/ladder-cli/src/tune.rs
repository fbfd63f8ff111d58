//! `ladder tune CONFIG [--out DIR] [--factors F,...] [--tokens D] [--jobs J]`.

use std::path::PathBuf;

use ladder_sweep::{tune_plan, DeviceChoice, DEFAULT_FACTORS};

use ladder_lab::{load_plan, write_tuned, TrainOptions};

use crate::exit::{emit, Failure, ResultExt};
use crate::run::train_plan;

/// Arguments of `ladder tune`.
#[derive(Debug, clap::Args)]
pub struct TuneArgs {
    /// Sweep config (TOML) whose models to tune.
    pub config: PathBuf,
    /// Output directory (default: results/<sweep name>-tune); gets tuned.toml.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Multiples of the configured learning rate to try.
    #[arg(long, value_delimiter = ',', default_values_t = DEFAULT_FACTORS)]
    pub factors: Vec<f64>,
    /// Training tokens per trial (default: each model's smallest planned D).
    #[arg(long)]
    pub tokens: Option<u64>,
    /// Trials trained in parallel (default: one per core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Where to train: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: DeviceChoice,
}

pub(crate) fn tune(args: &TuneArgs) -> Result<(), Failure> {
    let plan = load_plan(&args.config)?;
    let trials = tune_plan(&plan, &args.factors, args.tokens).input()?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&trials.name));
    let options = TrainOptions {
        device: args.device,
        jobs: args.jobs,
        merge: true,
    };
    train_plan(&trials, &out, options)?;
    let (_, text) = write_tuned(&out, &args.config)?;
    emit(&text)
}
