//! Fitting a sweep's data: the options `ladder fit` takes, the analysis they run, and
//! fit.json written and read back.

use std::path::Path;

use ladder_core::{FlopCount, ParamCount};
use ladder_fit::{
    analyse, seed_agreement, AnalysisOptions, Approach2Misfit, Approach2Mode, BootstrapOptions,
    Calibration, CalibrationOptions, ChinchillaLaw, Dataset, FitReport, MinimumRule, Resampling,
    SeedAgreement, SeedRuns,
};

use crate::{FitInput, LabError};

/// How to fit: conventions, bootstrap and approaches. The default is `ladder fit`'s.
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// Which parameter count is N.
    pub params: ParamCount,
    /// Which FLOP count labels a run's budget (a sweep file's; a CSV's `C` column is
    /// taken as given).
    pub flops: FlopCount,
    /// Bootstrap resamples for the intervals (0: no intervals).
    pub bootstrap: usize,
    /// Seed of the bootstrap.
    pub seed: u64,
    /// What the bootstraps resample (default: [`Resampling::Sweep`], for a sweep's fixed
    /// design: its families' residuals with seeds, else its runs' residuals).
    pub resampling: Resampling,
    /// Whether to run approach 2.
    pub approach2: Approach2Mode,
    /// How approach 2 locates each budget's minimum.
    pub minimum: MinimumRule,
    /// Whether approach 2's bootstrap draws its profiles' misfit.
    pub approach2_misfit: Approach2Misfit,
    /// Budget labels within this relative difference form one IsoFLOP budget.
    pub budget_tolerance: f64,
    /// Extrapolation test: fit on budgets up to `C_max / k`, predict the larger runs.
    pub extrapolate_k: f64,
    /// `(N, D)` to predict with approach 3, with bootstrap intervals.
    pub predict: Vec<(f64, f64)>,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            params: ParamCount::Total,
            flops: FlopCount::SixNd,
            bootstrap: 1000,
            seed: 0,
            resampling: Resampling::Sweep,
            approach2: Approach2Mode::Auto,
            minimum: MinimumRule::Local,
            approach2_misfit: Approach2Misfit::Auto,
            budget_tolerance: 1e-3,
            extrapolate_k: ladder_fit::DEFAULT_K,
            predict: Vec::new(),
        }
    }
}

impl FitOptions {
    /// The analysis these options ask ladder-fit for.
    pub fn analysis(&self) -> AnalysisOptions {
        AnalysisOptions {
            params: self.params,
            flops: self.flops,
            bootstrap: BootstrapOptions {
                resamples: self.bootstrap,
                seed: self.seed,
                resampling: self.resampling,
                approach2_misfit: self.approach2_misfit,
                ..BootstrapOptions::default()
            },
            approach2: self.approach2,
            minimum: self.minimum,
            budget_tolerance: self.budget_tolerance,
            extrapolation_k: self.extrapolate_k,
            predict: self.predict.clone(),
            ..AnalysisOptions::default()
        }
    }
}

/// Fits `data` (read from `what`, which names it in errors).
pub fn fit(data: &Dataset, options: &FitOptions, what: &Path) -> Result<FitReport, LabError> {
    fit_with(data, &options.analysis(), what)
}

/// Fits `data` (read from `what`) with `analysis` as it stands.
fn fit_with(
    data: &Dataset,
    analysis: &AnalysisOptions,
    what: &Path,
) -> Result<FitReport, LabError> {
    analyse(data, analysis).map_err(|source| LabError::Fit {
        what: what.display().to_string(),
        source,
    })
}

/// The points of each seed of `input` (seed, indices), in seed order, for
/// [`fit_per_seed`]: an input error unless the input says each run's seed (a sweep file
/// does) and holds two seeds or more.
pub fn seed_groups(input: &FitInput, what: &Path) -> Result<Vec<(u64, Vec<usize>)>, LabError> {
    let Some(seeds) = &input.seeds else {
        return Err(LabError::Input(format!(
            "{}: --per-seed needs each run's seed, which a sweep file (.h5) records; for a \
             CSV, fit each seed with --where seed=K",
            what.display()
        )));
    };
    let mut distinct = seeds.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 2 {
        return Err(LabError::Input(format!(
            "{}: --per-seed needs runs of two seeds or more; these runs have {}",
            what.display(),
            match distinct.first() {
                Some(seed) => format!("one (seed {seed})"),
                None => "none".to_string(),
            }
        )));
    }
    Ok(distinct
        .into_iter()
        .map(|seed| {
            (
                seed,
                (0..seeds.len()).filter(|&i| seeds[i] == seed).collect(),
            )
        })
        .collect())
}

/// Fits each seed's runs of `input` (`groups`, from [`seed_groups`]) alone, as `pooled`
/// was fitted (`options`), and sets them beside it at its top budget. A seed whose runs
/// stop below that budget (sweeps pooled with different tops) has its law read there,
/// beyond its runs, and says so. A seed whose runs cannot be fitted is left out with why.
pub fn fit_per_seed(
    input: &FitInput,
    groups: &[(u64, Vec<usize>)],
    pooled: &FitReport,
    options: &FitOptions,
    what: &Path,
) -> Result<SeedAgreement, LabError> {
    let no_optimum = || {
        LabError::Input(format!(
            "{}: the pooled fit has no compute optimum to set the seeds beside",
            what.display()
        ))
    };
    let pooled_top = pooled.tokens_per_param.last().ok_or_else(no_optimum)?.c;
    let mut fitted = Vec::new();
    let mut failed = Vec::new();
    for (seed, keep) in groups {
        let own = input
            .data
            .subset(keep)
            .map_err(|source| LabError::Fit {
                what: format!("{} (seed {seed})", what.display()),
                source,
            })
            .and_then(|data| {
                let top = data.budgets.iter().copied().fold(0.0, f64::max);
                // Within the budget tolerance, the seed's top is the pooled one.
                let below = top < pooled_top * (1.0 - options.budget_tolerance);
                let analysis = AnalysisOptions {
                    read_at: below.then_some(pooled_top),
                    ..options.analysis()
                };
                fit_with(&data, &analysis, what).map(|report| SeedRuns {
                    seed: *seed,
                    runs: keep.len(),
                    top,
                    report,
                })
            });
        match own {
            Ok(runs) => fitted.push(runs),
            Err(e) => failed.push(format!("seed {seed}: {e}")),
        }
    }
    let mut agreement = seed_agreement(pooled, &fitted).ok_or_else(no_optimum)?;
    agreement.left_out.extend(failed);
    Ok(agreement)
}

/// `report`, the fit of `data` (read from `what`) with `options`, calibrated by `sweeps`
/// simulated sweeps ([`ladder_fit::calibrate`]), their noise seeded by the bootstrap's
/// seed. An input error when the fit gave no interval to calibrate.
pub fn calibrate(
    data: &Dataset,
    report: &FitReport,
    options: &FitOptions,
    sweeps: usize,
    what: &Path,
) -> Result<Calibration, LabError> {
    ladder_fit::calibrate(
        data,
        report,
        &CalibrationOptions {
            sweeps,
            seed: options.seed,
            analysis: options.analysis(),
        },
    )
    .ok_or_else(|| {
        LabError::Input(format!(
            "{}: --calibrate: the fit gave no bootstrap interval to calibrate (give \
             --bootstrap 1000, the default)",
            what.display()
        ))
    })
}

/// Writes `value` as pretty JSON, with a final newline.
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), LabError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| LabError::Runtime(format!("{}: {e}", path.display())))?;
    std::fs::write(path, text + "\n").map_err(|source| LabError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// The approach-3 law of a fit.json: the one part of it that `ladder laws --fit` needs,
/// so that a hand-written `{"approach3": {"E": …, "A": …, "B": …, "alpha": …, "beta": …}}`
/// serves as well.
pub fn read_law(path: &Path) -> Result<ChinchillaLaw, LabError> {
    #[derive(serde::Deserialize)]
    struct Approach3Of {
        approach3: ChinchillaLaw,
    }
    let text = read_text(path)?;
    serde_json::from_str::<Approach3Of>(&text)
        .map(|f| f.approach3)
        .map_err(|e| LabError::Format {
            path: path.to_path_buf(),
            message: format!(
                "no law in approach3.E, .A, .B, .alpha and .beta ({e}): give a fit.json \
                 written by `ladder fit --json`"
            ),
        })
}

fn read_text(path: &Path) -> Result<String, LabError> {
    std::fs::read_to_string(path).map_err(|source| LabError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a fit.json written by `ladder fit --json`, `ladder run` or `ladder lab run`.
pub fn read_fit(path: &Path) -> Result<FitReport, LabError> {
    serde_json::from_str(&read_text(path)?).map_err(|e| LabError::Format {
        path: path.to_path_buf(),
        message: format!("not a fit.json written by `ladder fit --json` ({e})"),
    })
}
