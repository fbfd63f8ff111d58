//! `ladder tune CONFIG [--out DIR] [--factors F,...] [--tokens D] [--jobs J]`.

use std::path::PathBuf;

use anyhow::Context;
use ladder_store::read_runs;
use ladder_sweep::{best_rates, tune_plan, DeviceChoice, DEFAULT_FACTORS};

use ladder_lab::{load_plan, TrainOptions};

use crate::exit::{emit, line, Failure, ResultExt};
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
    let runs = read_runs(&out.join("sweep.h5")).runtime()?;
    let (table, warnings) = best_rates(&runs);
    let path = out.join("tuned.toml");
    let text = format!(
        "# Learning rates tuned by `ladder tune {}`: per model, the rate with the lowest final\n\
         # validation loss among `tried` (rate, loss). Use it with [train] lr_table = \"<this file>\".\n{}",
        args.config.display(),
        toml::to_string(&table).context("writing the table").runtime()?
    );
    std::fs::write(&path, text)
        .with_context(|| format!("cannot write {}", path.display()))
        .runtime()?;
    let mut report = String::new();
    for t in &table.model {
        let tried: Vec<String> = t
            .tried
            .iter()
            .map(|(lr, loss)| {
                let mark = if *lr == t.lr { "*" } else { "" };
                format!("{lr:.2e}: {loss:.4}{mark}")
            })
            .collect();
        line(
            &mut report,
            format!(
                "d{}-l{}-h{} on {} tokens: {}",
                t.d_model,
                t.n_layer,
                t.n_head,
                t.tokens,
                tried.join("  ")
            ),
        );
    }
    for w in &warnings {
        line(&mut report, format!("warning: {w}"));
    }
    line(
        &mut report,
        format!(
            "best rates (*) written to {}: add lr_table = \"<its path relative to the config>\" \
             to [train]",
            path.display()
        ),
    );
    emit(&report)
}
