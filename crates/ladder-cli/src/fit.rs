//! `ladder fit INPUT`.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use ladder_fit::{fit_approach3, Approach3Options, FitReport, Point, Points};
use ladder_store::read_runs;

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
    fn label(self) -> &'static str {
        match self {
            ParamConvention::Total => "total",
            ParamConvention::NonEmbedding => "non-embedding",
        }
    }
}

/// Arguments of `ladder fit`.
#[derive(Debug, clap::Args)]
pub struct FitArgs {
    /// A sweep.h5 (or run .h5) written by `ladder run`, or a CSV with columns N,D,loss.
    pub input: PathBuf,
    /// Also write the fit as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Parameter count used as N.
    #[arg(long, value_enum, default_value_t = ParamConvention::Total)]
    pub params: ParamConvention,
}

/// Points from a sweep file: every finished run's final validation loss.
fn points_from_h5(path: &Path, params: ParamConvention) -> Result<Points, Failure> {
    let runs = read_runs(path).input()?;
    let key = match params {
        ParamConvention::Total => "N_total",
        ParamConvention::NonEmbedding => "N_nonemb",
    };
    let mut points = Vec::new();
    for run in runs.iter().filter(|r| r.text("status") == Some("finished")) {
        let missing = |what: &str| anyhow!("{}: run {} has no {what}", path.display(), run.id);
        points.push(Point {
            n: run.number(key).ok_or_else(|| missing(key)).input()?,
            d: run.number("D").ok_or_else(|| missing("D")).input()?,
            loss: run
                .final_val_loss()
                .ok_or_else(|| missing("evaluation"))
                .input()?,
        });
    }
    Points::new(points)
        .with_context(|| format!("{}", path.display()))
        .input()
}

/// Reads the points of `input`, by extension.
pub(crate) fn read_points(input: &Path, params: ParamConvention) -> Result<Points, Failure> {
    match input.extension().and_then(|e| e.to_str()) {
        Some("h5") => points_from_h5(input, params),
        Some("csv") => {
            let text = std::fs::read_to_string(input)
                .with_context(|| format!("cannot read {}", input.display()))
                .input()?;
            Points::from_csv(&text, &input.display().to_string()).input()
        }
        _ => Err(Failure::Input(anyhow!(
            "{}: unknown input type: give a .h5 written by `ladder run` or a .csv with columns N,D,loss",
            input.display()
        ))),
    }
}

/// The budgets at which to report D*/N*: every distinct 6·N·D if there are at most
/// eight, else eight log-spaced values across their range.
fn budgets(points: &Points) -> Vec<f64> {
    let mut c: Vec<f64> = points.as_slice().iter().map(|p| 6.0 * p.n * p.d).collect();
    c.sort_by(f64::total_cmp);
    c.dedup_by(|a, b| (*a / *b - 1.0).abs() < 1e-3);
    if c.len() <= 8 {
        return c;
    }
    let (lo, hi) = (c[0].ln(), c[c.len() - 1].ln());
    (0..8)
        .map(|i| (lo + (hi - lo) * i as f64 / 7.0).exp())
        .collect()
}

/// Fits, prints the table and verdicts, and writes JSON if asked.
pub(crate) fn fit_and_report(
    points: &Points,
    params: ParamConvention,
    json: Option<&Path>,
) -> Result<(), Failure> {
    let fit = fit_approach3(points, &Approach3Options::default()).input()?;
    let report = FitReport::new(&fit, &budgets(points), params.label(), points.len());
    let mut out = format!("{report}\n");
    for verdict in report.verdicts() {
        line(&mut out, format!("verdict: {verdict}"));
    }
    line(
        &mut out,
        "(point estimates; confidence intervals are not computed yet)",
    );
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&report).runtime()?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))
            .runtime()?;
        line(&mut out, format!("fit written to {}", path.display()));
    }
    emit(&out)
}

pub(crate) fn fit(args: &FitArgs) -> Result<(), Failure> {
    let points = read_points(&args.input, args.params)?;
    fit_and_report(&points, args.params, args.json.as_deref())
}
