//! `ladder fit INPUT`.

use std::path::{Path, PathBuf};

use ladder_core::{FlopCount, ParamCount};
use ladder_fit::{
    Approach2Misfit, Approach2Mode, CsvOptions, FitReport, MinimumRule, Resampling, TokenUnit,
};
use ladder_lab::{fit_text, read_inputs, write_json, FitInput};

use crate::exit::{emit, line, Failure};

/// What approach 3's bootstrap resamples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ResamplingArg {
    /// For a sweep (its design is fixed by the plan): wild-families when its runs form
    /// families (WSD branches of one model and seed), else residuals. Pairs for a CSV of
    /// points from elsewhere (as Epoch AI bootstrapped Chinchilla's).
    Auto,
    /// The runs, with replacement (clusters of seeds kept together).
    Pairs,
    /// The fit's residuals in log loss, added back to the fitted values: the design's
    /// (N, D) stay fixed.
    Residuals,
    /// The residuals with one random sign per family (the runs of one model and seed,
    /// which share their noise), each family's adjusted for what the fit absorbed of it
    /// (CR2): the design stays fixed and so does what a family's runs share (wild
    /// cluster bootstrap).
    WildFamilies,
    /// The residuals with one random sign per model (every seed and budget of one size),
    /// adjusted as wild-families: a point's seeds keep what they share, the law's misfit
    /// at that point, which wild-families resamples as if it were seed noise.
    WildModels,
}

impl ResamplingArg {
    /// The resampling for a sweep's runs (`sweep`) or for a table of points.
    pub(crate) fn resampling(self, sweep: bool) -> Resampling {
        match self {
            ResamplingArg::Auto if sweep => Resampling::Sweep,
            ResamplingArg::Auto | ResamplingArg::Pairs => Resampling::Pairs,
            ResamplingArg::Residuals => Resampling::Residuals,
            ResamplingArg::WildFamilies => Resampling::WildFamilies,
            ResamplingArg::WildModels => Resampling::WildModels,
        }
    }
}

/// How to fit: conventions, bootstrap and approaches.
#[derive(Debug, Clone, clap::Args)]
pub struct FitOptions {
    /// Parameter count used as N.
    #[arg(long, value_enum, default_value_t = ParamCount::Total)]
    pub params: ParamCount,
    /// FLOP count that labels each run's budget (`.h5` input; a CSV's `C` column is
    /// taken as given).
    #[arg(long, value_enum, default_value_t = FlopCount::SixNd)]
    pub flops: FlopCount,
    /// Bootstrap resamples for the intervals (0: no intervals).
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// What the bootstraps resample (approach 3 resamples it; with wild-families approach
    /// 2 draws the noise a model and seed share as well).
    #[arg(long, value_enum, default_value_t = ResamplingArg::Auto)]
    pub bootstrap_method: ResamplingArg,
    /// Approach 2 (IsoFLOP parabolas).
    #[arg(long, value_enum, default_value_t = Approach2Mode::Auto)]
    pub approach2: Approach2Mode,
    /// How approach 2 locates each budget's minimum.
    #[arg(long, value_enum, default_value_t = MinimumRule::Local)]
    pub approach2_minimum: MinimumRule,
    /// Whether approach 2's bootstrap also draws the misfit its profiles show beyond the
    /// seeds' scatter, one term per model (with seeds only).
    #[arg(long, value_enum, default_value_t = Approach2Misfit::Auto)]
    pub approach2_misfit: Approach2Misfit,
    /// Budget labels within this relative difference form one IsoFLOP budget.
    #[arg(long, default_value_t = 1e-3)]
    pub budget_tolerance: f64,
    /// Extrapolation test: fit on budgets up to C_max/K and predict the larger runs
    /// [default: the `[design] held_out` of the sweep's config, else 4].
    #[arg(long, value_name = "K", value_parser = held_out_k)]
    pub extrapolate_k: Option<f64>,
    /// Predict the loss of N parameters trained on D tokens with approach 3, with
    /// bootstrap intervals, e.g. `--predict 1e6,2e7` for a run not yet trained.
    /// Repeatable.
    #[arg(long, value_name = "N,D", value_parser = n_and_d)]
    pub predict: Vec<(f64, f64)>,
}

/// `K` of C_max/K: a number above 1, so that some budget is held out.
pub(crate) fn held_out_k(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(k) if k.is_finite() && k > 1.0 => Ok(k),
        _ => Err(format!(
            "`{s}` is not a factor above 1: the law is fitted on the budgets up to C_max/K \
             and checked on the larger ones, e.g. 4 or 8"
        )),
    }
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
    /// The options as the pipeline takes them, for a sweep's runs (`sweep`) or a table
    /// of points.
    pub(crate) fn options(&self, sweep: bool) -> ladder_lab::FitOptions {
        ladder_lab::FitOptions {
            params: self.params,
            flops: self.flops,
            bootstrap: self.bootstrap,
            seed: self.seed,
            resampling: self.bootstrap_method.resampling(sweep),
            approach2: self.approach2,
            minimum: self.approach2_minimum,
            approach2_misfit: self.approach2_misfit,
            budget_tolerance: self.budget_tolerance,
            extrapolate_k: self.extrapolate_k.unwrap_or(ladder_fit::DEFAULT_K),
            predict: self.predict.clone(),
        }
    }

    /// The options for fitting `input`, read with [`Self::options`]: the held-out factor
    /// is the one given, else the one its sweep's design was built to check at, else the
    /// default.
    pub(crate) fn for_input(&self, sweep: bool, input: &FitInput) -> ladder_lab::FitOptions {
        ladder_lab::FitOptions {
            extrapolate_k: self
                .extrapolate_k
                .or(input.held_out)
                .unwrap_or(ladder_fit::DEFAULT_K),
            ..self.options(sweep)
        }
    }
}

/// Arguments of `ladder fit`.
#[derive(Debug, clap::Args)]
pub struct FitArgs {
    /// A sweep.h5 (or run .h5) written by `ladder run`, or a CSV with columns N,D,loss
    /// and optionally C (budget label, FLOPs) and run (label). Several sweep files are
    /// fitted as one: their runs pooled (draws of one design on other seeds), each run
    /// labelled with its sweep's directory, families kept within their sweep, a seed
    /// trained in two of them refused.
    #[arg(required = true, num_args = 1..)]
    pub inputs: Vec<PathBuf>,
    /// Also write the fit as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// CSV input: the column named HEADER holds NAME (N, D, loss, C, run, tokens or
    /// seed: the runs of one N and seed form a family for `wild-families`), e.g.
    /// `--column N=N_params`. Repeatable.
    #[arg(long = "column", value_name = "NAME=HEADER", value_parser = column_map)]
    pub columns: Vec<(String, String)>,
    /// CSV input: keep only rows whose column is exactly this value, e.g.
    /// `--where epoch_excluded=0`. Repeatable.
    #[arg(long = "where", value_name = "COLUMN=VALUE", value_parser = key_value)]
    pub filters: Vec<(String, String)>,
    /// CSV input: what D counts (default: bytes if a `tokenizer` column says `byte` on
    /// every row, else tokens). A claim in tokens, such as D/N ≈ 20, cannot be tested on
    /// bytes.
    #[arg(long, value_enum)]
    pub unit: Option<TokenUnit>,
    /// Also fit each seed's runs alone, as the pooled fit (sweep files only), and set
    /// them beside it at the top budget: each seed's D*/N* inside the pooled 80% interval,
    /// the pooled value inside each seed's own, and Cochran's Q of their agreement.
    #[arg(long)]
    pub per_seed: bool,
    /// Calibrate the intervals by simulation: draw this many sweeps like these runs from
    /// approach 3's law, with the noise and misfit measured about it, fit each the same
    /// way, and widen each interval until it holds the law as often as it claims (0:
    /// off; 100 is a good start, about 100 fits).
    #[arg(long, default_value_t = 0, value_name = "SWEEPS")]
    pub calibrate: usize,
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
    const NAMES: [&str; 7] = ["N", "D", "loss", "C", "run", "tokens", "seed"];
    let (name, header) = key_value(s)?;
    if NAMES.contains(&name.as_str()) {
        Ok((name, header))
    } else {
        Err(format!("`{name}` is not one of {}", NAMES.join(", ")))
    }
}

/// Prints why runs were left out of the fit.
pub(crate) fn warn_left_out(input: &FitInput) {
    for why in &input.left_out {
        eprintln!("warning: {why}");
    }
}

/// Fits `input` (read from `what`), prints the tables and verdicts, and writes JSON if
/// asked.
pub(crate) fn fit_and_print(
    input: &FitInput,
    options: &ladder_lab::FitOptions,
    what: &Path,
    json: Option<&Path>,
) -> Result<FitReport, Failure> {
    let report = ladder_lab::fit(&input.data, options, what)?;
    print_report(&report, json)?;
    Ok(report)
}

/// Prints a fit's tables and verdicts, and writes its JSON if asked.
fn print_report(report: &FitReport, json: Option<&Path>) -> Result<(), Failure> {
    let mut out = fit_text(report);
    if let Some(path) = json {
        write_json(path, report)?;
        line(&mut out, format!("fit written to {}", path.display()));
    }
    emit(&out)
}

pub(crate) fn fit(args: &FitArgs) -> Result<(), Failure> {
    let csv = CsvOptions {
        columns: args.columns.clone(),
        filters: args.filters.clone(),
        unit: args.unit,
    };
    let sweep = args.inputs[0].extension().is_some_and(|e| e == "h5");
    let input = read_inputs(&args.inputs, &args.options.options(sweep), &csv)?;
    let options = args.options.for_input(sweep, &input);
    // What names the input in messages: its path, or every path joined.
    let what = PathBuf::from(
        args.inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" + "),
    );
    warn_left_out(&input);
    if !args.per_seed && args.calibrate == 0 {
        return fit_and_print(&input, &options, &what, args.json.as_deref()).map(drop);
    }
    // Checked before the pooled fit, so that a wrong input fails at once.
    let groups = if args.per_seed {
        Some(ladder_lab::seed_groups(&input, &what)?)
    } else {
        None
    };
    // So is a calibration with no intervals (ladder_lab::calibrate refuses it too, after
    // the fit).
    if args.calibrate > 0 && options.bootstrap == 0 {
        return Err(ladder_lab::LabError::Input(
            "--calibrate: there are no intervals to calibrate with --bootstrap 0; give \
             --bootstrap 1000 (the default)"
                .into(),
        )
        .into());
    }
    let mut report = ladder_lab::fit(&input.data, &options, &what)?;
    if let Some(groups) = &groups {
        report.seed_fits = Some(ladder_lab::fit_per_seed(
            &input, groups, &report, &options, &what,
        )?);
    }
    if args.calibrate > 0 {
        report.calibration = Some(ladder_lab::calibrate(
            &input.data,
            &report,
            &options,
            args.calibrate,
            &what,
        )?);
    }
    print_report(&report, args.json.as_deref())
}
