//! `ladder tune CONFIG [--out DIR] [--factors F,...] [--tokens D] [--rounds R] [--jobs J]`.

use std::path::PathBuf;

use ladder_sweep::{bracket, tune_plan, DeviceChoice, DEFAULT_FACTORS, UNITS_FILE};

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
    /// Multiples of the configured learning rate to try, separated by spaces or commas.
    #[arg(long, num_args = 1.., value_delimiter = ',', default_values_t = DEFAULT_FACTORS)]
    pub factors: Vec<f64>,
    /// Training tokens per trial (default: each model's smallest planned D; give one
    /// value to compare sizes at equal tokens).
    #[arg(long)]
    pub tokens: Option<u64>,
    /// Seeds per rate: each trial trains this many times (other initial weights and data
    /// order), and the best rate is the one with the lowest mean final loss.
    #[arg(long, default_value_t = 1)]
    pub seeds: u64,
    /// Rounds of extension: after each, a model whose best rate is the smallest or
    /// largest tried gets a trial one grid step beyond it.
    #[arg(long, default_value_t = 4)]
    pub rounds: usize,
    /// Trials trained in parallel (default: one per core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Where to train: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: DeviceChoice,
}

pub(crate) fn tune(args: &TuneArgs) -> Result<(), Failure> {
    let plan = load_plan(&args.config)?;
    let mut trials = tune_plan(&plan, &args.factors, args.tokens, args.seeds).input()?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&trials.name));
    let options = TrainOptions {
        device: args.device,
        jobs: args.jobs,
        merge: true,
        stop_after: None,
        finish_within: None,
        jobs_sharing_cores: None,
    };
    let mut round = 0;
    let text = loop {
        train_plan(&trials, &out, options)?;
        let (table, text) = write_tuned(&out, &args.config)?;
        if round == args.rounds || bracket(&mut trials, &table) == 0 {
            break text;
        }
        round += 1;
        eprintln!("round {round}: best rates at the grid's edge, trying one step beyond");
        // The unit list is written once per directory: rewrite it for the longer plan.
        let _ = std::fs::remove_file(out.join(UNITS_FILE));
    };
    emit(&text)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::TuneArgs;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        tune: TuneArgs,
    }

    /// The help shows the default as `0.25 0.5 1 2 4`: that form parses, as commas do.
    #[test]
    fn factors_take_spaces_or_commas() {
        for args in [
            &["t", "c.toml", "--factors", "0.5", "0.707", "1"][..],
            &["t", "c.toml", "--factors", "0.5,0.707,1"],
            &["t", "--factors", "0.5", "0.707,1", "--", "c.toml"],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert_eq!(cli.tune.factors, [0.5, 0.707, 1.0], "{args:?}");
        }
    }
}
