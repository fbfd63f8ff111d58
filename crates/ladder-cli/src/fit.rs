//! `ladder fit INPUT`.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use ladder_core::BudgetRule;
use ladder_fit::{
    analyse, AnalysisOptions, Approach2Mode, BootstrapOptions, CsvOptions, Curve, Dataset, Point,
    Points,
};
use ladder_store::{read_runs, RunRecord, Status};

use crate::exit::{emit, line, Failure, ResultExt};

/// Which parameter count is N.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ParamConvention {
    /// Every parameter (Hoffmann et al. 2022).
    Total,
    /// Without embeddings and LM head (Kaplan et al. 2020).
    NonEmbedding,
}

impl ParamConvention {
    pub(crate) fn count(self) -> ladder_core::ParamCount {
        match self {
            ParamConvention::Total => ladder_core::ParamCount::Total,
            ParamConvention::NonEmbedding => ladder_core::ParamCount::NonEmbedding,
        }
    }

    fn label(self) -> &'static str {
        match self {
            ParamConvention::Total => "total",
            ParamConvention::NonEmbedding => "non-embedding",
        }
    }
}

/// Which FLOP count labels a run's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FlopConvention {
    /// `6·N·D` with the chosen parameter count (Hoffmann et al. 2022).
    #[value(name = "6nd")]
    SixNd,
    /// Every matmul incl. the LM head and attention (the run file's `C_exact`).
    Exact,
}

impl FlopConvention {
    fn count(self) -> ladder_core::FlopCount {
        match self {
            FlopConvention::SixNd => ladder_core::FlopCount::SixNd,
            FlopConvention::Exact => ladder_core::FlopCount::Exact,
        }
    }

    fn label(self) -> &'static str {
        match self {
            FlopConvention::SixNd => "6nd",
            FlopConvention::Exact => "exact",
        }
    }
}

/// Whether to run approach 2 (IsoFLOP parabolas).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Approach2Arg {
    /// When the data have IsoFLOP budgets; otherwise say why not.
    Auto,
    /// Always; bad input (exit 2) if the data do not allow it.
    Require,
    /// Never.
    Off,
}

/// How to fit: conventions, bootstrap and approaches.
#[derive(Debug, Clone, clap::Args)]
pub struct FitOptions {
    /// Parameter count used as N.
    #[arg(long, value_enum, default_value_t = ParamConvention::Total)]
    pub params: ParamConvention,
    /// FLOP count that labels each run's budget (`.h5` input; a CSV's `C` column is
    /// taken as given).
    #[arg(long, value_enum, default_value_t = FlopConvention::SixNd)]
    pub flops: FlopConvention,
    /// Bootstrap resamples for the intervals (0: no intervals).
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Approach 2 (IsoFLOP parabolas).
    #[arg(long, value_enum, default_value_t = Approach2Arg::Auto)]
    pub approach2: Approach2Arg,
    /// Budget labels within this relative difference form one IsoFLOP budget.
    #[arg(long, default_value_t = 1e-3)]
    pub budget_tolerance: f64,
    /// Extrapolation test: fit on budgets up to C_max/K and predict the larger runs.
    #[arg(long, default_value_t = 4.0)]
    pub extrapolate_k: f64,
    /// Predict the loss of N parameters trained on D tokens with approach 3, with
    /// bootstrap intervals, e.g. `--predict 1e6,2e7` for a run not yet trained.
    /// Repeatable.
    #[arg(long, value_name = "N,D", value_parser = n_and_d)]
    pub predict: Vec<(f64, f64)>,
}

/// `N,D`: two positive numbers.
fn n_and_d(s: &str) -> Result<(f64, f64), String> {
    let parse = |v: &str, what: &str| match v.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("`{v}` is not a positive number of {what}")),
    };
    match s.split_once(',') {
        Some((n, d)) => Ok((parse(n, "parameters")?, parse(d, "tokens")?)),
        None => Err(format!(
            "`{s}` is not N,D (parameters,tokens), e.g. 1e6,2e7"
        )),
    }
}

impl FitOptions {
    /// The options as the command line defaults them (`ladder fit` with no option).
    pub(crate) fn defaults() -> Self {
        #[derive(clap::Parser)]
        struct Defaults {
            #[command(flatten)]
            fit: FitOptions,
        }
        <Defaults as clap::Parser>::parse_from(["ladder"]).fit
    }

    /// The parameter convention, as fit.json names it.
    pub(crate) fn params_label(&self) -> &'static str {
        self.params.label()
    }

    /// The FLOP convention, as fit.json names it.
    pub(crate) fn flops_label(&self) -> &'static str {
        self.flops.label()
    }

    pub(crate) fn analysis(&self) -> AnalysisOptions {
        AnalysisOptions {
            params: self.params.label().into(),
            flops: self.flops.label().into(),
            bootstrap: BootstrapOptions {
                resamples: self.bootstrap,
                seed: self.seed,
                ..BootstrapOptions::default()
            },
            approach2: match self.approach2 {
                Approach2Arg::Auto => Approach2Mode::Auto,
                Approach2Arg::Require => Approach2Mode::Required,
                Approach2Arg::Off => Approach2Mode::Off,
            },
            budget_tolerance: self.budget_tolerance,
            extrapolation_k: self.extrapolate_k,
            predict: self.predict.clone(),
            ..AnalysisOptions::default()
        }
    }
}

/// Arguments of `ladder fit`.
#[derive(Debug, clap::Args)]
pub struct FitArgs {
    /// A sweep.h5 (or run .h5) written by `ladder run`, or a CSV with columns N,D,loss
    /// and optionally C (budget label, FLOPs) and run (label).
    pub input: PathBuf,
    /// Also write the fit as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// CSV input: the column named HEADER holds NAME (N, D, loss, C, run or tokens), e.g.
    /// `--column N=N_params`. Repeatable.
    #[arg(long = "column", value_name = "NAME=HEADER", value_parser = column_map)]
    pub columns: Vec<(String, String)>,
    /// CSV input: keep only rows whose column is exactly this value, e.g.
    /// `--where epoch_excluded=0`. Repeatable.
    #[arg(long = "where", value_name = "COLUMN=VALUE", value_parser = key_value)]
    pub filters: Vec<(String, String)>,
    #[command(flatten)]
    pub options: FitOptions,
}

/// `KEY=VALUE` with a non-empty key.
fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

/// `NAME=HEADER` where NAME is a column ladder reads.
fn column_map(s: &str) -> Result<(String, String), String> {
    const NAMES: [&str; 6] = ["N", "D", "loss", "C", "run", "tokens"];
    let (name, header) = key_value(s)?;
    if NAMES.contains(&name.as_str()) {
        Ok((name, header))
    } else {
        Err(format!("`{name}` is not one of {}", NAMES.join(", ")))
    }
}

/// Points from a sweep file: every finished run's final validation loss.
pub(crate) fn dataset_from_h5(path: &Path, options: &FitOptions) -> Result<Dataset, Failure> {
    dataset_from_runs(&read_runs(path).input()?, path, options)
}

/// The fit's data from the runs of the sweep file `path`, already read.
pub(crate) fn dataset_from_runs(
    runs: &[RunRecord],
    path: &Path,
    options: &FitOptions,
) -> Result<Dataset, Failure> {
    let params = options.params.count();
    let rule = BudgetRule::new(options.flops.count(), params);
    let (mut points, mut budgets, mut labels, mut curves) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in runs.iter().filter(|r| !r.is_finished()) {
        eprintln!(
            "warning: {}: run {} is left out of the fit: status {}{}",
            path.display(),
            run.id,
            run.status.name(),
            match run.status {
                Status::Diverged { step } => format!(" at step {step}"),
                _ => String::new(),
            }
        );
    }
    for run in runs.iter().filter(|r| r.is_finished()) {
        let m = &run.meta;
        let n = m.n(params) as f64;
        points.push(Point {
            n,
            d: m.d as f64,
            loss: run
                .final_val_loss()
                .ok_or_else(|| anyhow!("{}: run {} has no evaluation", path.display(), run.id))
                .input()?,
        });
        // An IsoFLOP run's planned budget labels it exactly (its D is rounded to whole
        // steps, so its own C is off by up to half a step), when the fit counts C as the
        // plan did.
        budgets.push(match m.c_budget {
            Some(c) if m.budget_rule == Some(rule) => c,
            _ => m.compute(rule),
        });
        labels.push(run.id.clone());
        curves.push(Curve {
            run: run.id.clone(),
            n,
            tokens: run.curves.tokens.clone(),
            loss: run.curves.val_loss.clone(),
        });
    }
    let points = Points::new(points)
        .with_context(|| format!("{}", path.display()))
        .input()?;
    Ok(Dataset {
        points,
        budgets,
        budgets_given: false,
        runs: labels,
        curves,
    })
}

/// Reads the points of `input`, by extension.
pub(crate) fn read_dataset(
    input: &Path,
    options: &FitOptions,
    csv: &CsvOptions,
) -> Result<Dataset, Failure> {
    match input.extension().and_then(|e| e.to_str()) {
        Some("h5") if *csv != CsvOptions::default() => Err(Failure::Input(anyhow!(
            "{}: --column and --where apply to CSV input only",
            input.display()
        ))),
        Some("h5") => dataset_from_h5(input, options),
        Some("csv") => {
            let text = std::fs::read_to_string(input)
                .with_context(|| format!("cannot read {}", input.display()))
                .input()?;
            Dataset::from_csv_with(&text, &input.display().to_string(), csv).input()
        }
        _ => Err(Failure::Input(anyhow!(
            "{}: unknown input type: give a .h5 written by `ladder run` or a .csv with columns N,D,loss",
            input.display()
        ))),
    }
}

/// Fits, prints the tables and verdicts, and writes JSON if asked.
pub(crate) fn fit_and_report(
    data: &Dataset,
    options: &FitOptions,
    json: Option<&Path>,
) -> Result<(), Failure> {
    let report = analyse(data, &options.analysis()).input()?;
    let mut out = format!("{report}");
    if let Some(path) = json {
        write_json(path, &report)?;
        line(&mut out, format!("fit written to {}", path.display()));
    }
    emit(&out)
}

/// Writes `value` as pretty JSON, with a final newline.
pub(crate) fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).runtime()?;
    std::fs::write(path, text + "\n")
        .with_context(|| format!("cannot write {}", path.display()))
        .runtime()
}

pub(crate) fn fit(args: &FitArgs) -> Result<(), Failure> {
    let csv = CsvOptions {
        columns: args.columns.clone(),
        filters: args.filters.clone(),
    };
    let data = read_dataset(&args.input, &args.options, &csv)?;
    fit_and_report(&data, &args.options, args.json.as_deref())
}
