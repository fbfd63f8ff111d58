//! What a fit says: every approach that applies to the data, bootstrap intervals,
//! diagnostics and verdicts, as one report that serialises to fit.json and reads back
//! from it. [`analyse`] builds it; formatting it as text is the caller's.

use std::collections::BTreeMap;

use ladder_core::{FlopCount, ParamCount};
use serde::{Deserialize, Serialize};

use crate::verdict::{self, Verdict};
use crate::{
    bootstrap_approach2, bootstrap_approach3, check_optimum, extrapolate, fit_approach1,
    fit_approach2, fit_approach3, fit_kaplan, group_budgets, group_planned, seed_spreads,
    Approach1Fit, Approach2Fit, Approach3Bootstrap, Approach3Fit, Approach3Options,
    BootstrapOptions, Budget, CheckBootstrap, ChinchillaLaw, Dataset, Diagnostics, Extrapolation,
    FitError, FormFit, IsoFlop, IsoPath, KaplanFits, MinimumRule, Noise, OptimumCheck, Reading,
    Resampling, SeedSpread, Spread,
};

/// Whether to run approach 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Approach2Mode {
    /// Run it when the data carry budget labels (a `C` column) or some budget has at
    /// least three points; report why it was skipped otherwise.
    Auto,
    /// Run it, and fail (bad input) if the data do not allow it.
    #[cfg_attr(feature = "clap", value(name = "require"))]
    Required,
    /// Do not run it.
    Off,
}

/// Settings of [`analyse`].
#[derive(Debug, Clone)]
pub struct AnalysisOptions {
    /// Parameter convention of N, recorded in the report.
    pub params: ParamCount,
    /// FLOP convention of the budgets, recorded in the report.
    pub flops: FlopCount,
    /// Approach-3 settings.
    pub approach3: Approach3Options,
    /// Bootstrap settings; `resamples = 0` skips the bootstrap.
    pub bootstrap: BootstrapOptions,
    /// Whether to run approach 2.
    pub approach2: Approach2Mode,
    /// How approach 2 locates each budget's minimum.
    pub minimum: MinimumRule,
    /// Relative tolerance within which budget labels are one budget.
    pub budget_tolerance: f64,
    /// Extrapolation test: fit on budgets up to `C_max / k`.
    pub extrapolation_k: f64,
    /// Whether the held-out check of the optimum bootstraps its errors (the check reruns
    /// once per resample). A caller that reads only the top budget's D*/N*, as the
    /// `[design]` search does, turns it off: the check's point errors stay.
    pub check_bootstrap: bool,
    /// Whether to fit Kaplan et al.'s forms ([`fit_kaplan`]). Simulated sweeps, which
    /// read only the Chinchilla quantities, leave them out: the joint form's 1,296 starts
    /// were a seventh of the `[design]` search's time.
    pub kaplan: bool,
    /// Points of the log FLOP grid of approach 1.
    pub envelope_grid: usize,
    /// `(N, D)` of runs to predict with approach 3 (with bootstrap intervals), for
    /// example a larger run before it is trained.
    pub predict: Vec<(f64, f64)>,
    /// A budget above the data's own at which to read the law's compute optimum too,
    /// with its bootstrap interval: it becomes the last of `tokens_per_param`. Each seed's
    /// own fit is read at the pooled top budget this way when its runs stop below it
    /// (sweeps pooled with different top budgets).
    pub read_at: Option<f64>,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        Self {
            params: ParamCount::Total,
            flops: FlopCount::SixNd,
            approach3: Approach3Options::default(),
            bootstrap: BootstrapOptions::default(),
            approach2: Approach2Mode::Auto,
            minimum: MinimumRule::Local,
            budget_tolerance: 1e-3,
            extrapolation_k: crate::DEFAULT_K,
            check_bootstrap: true,
            kaplan: true,
            envelope_grid: 40,
            predict: Vec::new(),
            read_at: None,
        }
    }
}

/// Named spreads, serialised as `se.{name}`, `ci80.{name}` and `ci95.{name}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Intervals {
    /// Standard errors.
    #[serde(deserialize_with = "crate::json::number_map")]
    pub se: BTreeMap<String, f64>,
    /// 80% percentile intervals `[lo, hi]`.
    #[serde(deserialize_with = "crate::json::interval_map")]
    pub ci80: BTreeMap<String, [f64; 2]>,
    /// 95% percentile intervals `[lo, hi]`.
    #[serde(deserialize_with = "crate::json::interval_map")]
    pub ci95: BTreeMap<String, [f64; 2]>,
}

impl Intervals {
    fn insert(&mut self, name: &str, s: Spread) {
        self.se.insert(name.into(), s.se);
        self.ci80.insert(name.into(), s.ci80);
        self.ci95.insert(name.into(), s.ci95);
    }
}

/// How the bootstrap ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapInfo {
    /// Resamples refitted.
    pub resamples: usize,
    /// Resamples that could not be refitted.
    pub failed: usize,
    /// The seed.
    pub seed: u64,
    /// Whether more than 5% of the resamples failed, so that the intervals, read off
    /// the others, are unreliable.
    #[serde(default)]
    pub unreliable: bool,
    /// What approach 3's bootstrap resampled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Resampling>,
}

impl BootstrapInfo {
    fn new(resamples: usize, failed: usize, options: &BootstrapOptions) -> Self {
        Self {
            resamples,
            failed,
            seed: options.seed,
            unreliable: failed as f64 > 0.05 * (resamples + failed) as f64,
            method: None,
        }
    }
}

/// Approach 3: `approach3.{E,A,B,alpha,beta,a,b,objective,…}` plus
/// `approach3.se.*`, `approach3.ci80.*`, `approach3.ci95.*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approach3Json {
    /// The fitted law.
    #[serde(flatten)]
    pub law: ChinchillaLaw,
    /// `N* ∝ C^a`: `β/(α+β)`.
    #[serde(deserialize_with = "crate::json::number")]
    pub a: f64,
    /// `D* ∝ C^b`: `α/(α+β)`.
    #[serde(deserialize_with = "crate::json::number")]
    pub b: f64,
    /// Sum of Huber terms at the fit.
    #[serde(deserialize_with = "crate::json::number")]
    pub objective: f64,
    /// Starts that ended finite.
    pub converged_starts: usize,
    /// Starts of the grid.
    pub total_starts: usize,
    /// Bootstrap intervals (empty without a bootstrap).
    #[serde(flatten)]
    pub intervals: Intervals,
    /// How the bootstrap ran.
    pub bootstrap: Option<BootstrapInfo>,
}

/// The compute optimum at one budget, with bootstrap intervals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokensPerParam {
    /// Budget in FLOPs.
    #[serde(rename = "C")]
    #[serde(deserialize_with = "crate::json::number")]
    pub c: f64,
    /// Compute-optimal parameters.
    #[serde(deserialize_with = "crate::json::number")]
    pub n_opt: f64,
    /// Compute-optimal tokens.
    #[serde(deserialize_with = "crate::json::number")]
    pub d_opt: f64,
    /// `D*/N*`.
    #[serde(deserialize_with = "crate::json::number")]
    pub ratio: f64,
    /// Spread of `D*/N*`.
    pub ratio_spread: Option<Spread>,
    /// The predicted loss at the optimum.
    #[serde(deserialize_with = "crate::json::number")]
    pub loss: f64,
    /// Spread of that loss.
    pub loss_spread: Option<Spread>,
}

/// Approach 3's prediction for one `(N, D)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Parameters.
    #[serde(rename = "N")]
    #[serde(deserialize_with = "crate::json::number")]
    pub n: f64,
    /// Training tokens.
    #[serde(rename = "D")]
    #[serde(deserialize_with = "crate::json::number")]
    pub d: f64,
    /// `6·N·D`.
    #[serde(rename = "C")]
    #[serde(deserialize_with = "crate::json::number")]
    pub c: f64,
    /// The predicted loss.
    #[serde(deserialize_with = "crate::json::number")]
    pub loss: f64,
    /// Its spread over the bootstrap's refits.
    pub loss_spread: Option<Spread>,
}

/// Approach 2 and its bootstrap: `approach2.{a,b}`, `approach2.ci95.{a,b}`, ….
/// `approach2.ci80.ratio` (and `se`, `ci95`) is the spread of D*/N* at the top budget,
/// whose value the lines give ([`Approach2Fit::optimum_at`] at
/// [`Approach2Fit::top_budget`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approach2Json {
    /// The fit and its profiles.
    #[serde(flatten)]
    pub fit: Approach2Fit,
    /// Bootstrap intervals of `a` and `b`.
    #[serde(flatten)]
    pub intervals: Intervals,
    /// How the bootstrap ran.
    pub bootstrap: Option<BootstrapInfo>,
    /// The noise the bootstrap added to every run's loss, and where it was measured.
    #[serde(default)]
    pub noise: Option<Noise>,
}

/// A finished analysis, ready to print or serialise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// Parameter convention of N.
    pub params: ParamCount,
    /// FLOP convention of the budgets.
    pub flops: FlopCount,
    /// Number of points (runs).
    pub points: usize,
    /// The spread of the final loss at every `(N, D)` trained with several seeds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seeds: Vec<SeedSpread>,
    /// The training curves compared size against size at equal tokens: inversions beyond
    /// twice the seed spread. `None` without curves of two sizes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_order: Option<crate::SizeOrder>,
    /// Approach 3.
    pub approach3: Approach3Json,
    /// The compute optimum implied by approach 3 at each report budget, along
    /// `6·N·D = C` in the fit's N.
    pub tokens_per_param: Vec<TokensPerParam>,
    /// Approach 3's compute optimum along each of approach 2's IsoFLOP profiles, on the
    /// curve its runs trace in `(N, D)` ([`crate::IsoPath`]): where approach 2 takes its
    /// minimum, so the two compare like for like under either parameter convention.
    /// Labelled as approach 2 labels the profile; absent without approach 2.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub optimum_on_profiles: Vec<TokensPerParam>,
    /// What approach 2 reports at its top budget when every run's loss is the law's own
    /// ([`crate::Reading`]: the same windows, parabolas and weighted lines). A parabola
    /// reads an asymmetric profile off-centre, so under the law approach 2 scatters
    /// around this, not around the law's optimum: the like-for-like reference for
    /// whether the two approaches agree. Absent without approach 2's lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approach2_of_law: Option<TokensPerParam>,
    /// Approach 3's loss at each asked-for `(N, D)` (absent when none was asked for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub predictions: Vec<Prediction>,
    /// Approach 2, if it ran.
    pub approach2: Option<Approach2Json>,
    /// Why approach 2 did not run, if it did not.
    pub approach2_skipped: Option<String>,
    /// Approach 1, from the training curves.
    pub approach1: FormFit<Approach1Fit>,
    /// Kaplan et al. 2020's forms.
    pub kaplan: KaplanFits,
    /// Approach 3 fitted on the small budgets, predicting the top budget's optimum,
    /// against the minimum observed there and a naive baseline.
    #[serde(default = "not_in_file")]
    pub optimum_check: FormFit<OptimumCheck>,
    /// Approach 3 fitted on the small budgets, predicting every larger run.
    pub extrapolation: FormFit<Extrapolation>,
    /// Diagnostics of the approach-3 fit.
    pub diagnostics: Diagnostics,
    /// The claims and what the data say.
    pub verdicts: Vec<Verdict>,
    /// The source's exact entropy rate (nats/token), when the data know it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entropy_rate: Option<f64>,
    /// Every fitted or predicted loss below that rate, which no model can reach: a sign
    /// that the law extrapolates past what the data support.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub below_entropy_rate: Vec<String>,
    /// Each seed's runs fitted alone, set beside this fit (`ladder fit --per-seed`);
    /// absent unless asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed_fits: Option<crate::SeedAgreement>,
    /// The intervals calibrated by simulation on this sweep's design, noise and misfit
    /// (`ladder fit --calibrate`); absent unless asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<crate::Calibration>,
}

/// What a fit.json written before a part existed holds in its place.
fn not_in_file<T>() -> FormFit<T> {
    FormFit::Skipped {
        skipped: "not in this fit.json (written by an earlier ladder)".into(),
    }
}

/// The budgets at which to report `D*/N*`: every distinct budget if there are at most
/// eight, else eight log-spaced values across their range. The last is the largest.
pub fn report_budgets(labels: &[f64]) -> Vec<f64> {
    let mut c = labels.to_vec();
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

/// Runs approach 3 (always), approach 2 (per `options.approach2`), the bootstraps,
/// diagnostics and verdicts on `data`.
pub fn analyse(data: &Dataset, options: &AnalysisOptions) -> Result<FitReport, FitError> {
    let mut options = options.clone();
    options.bootstrap.resampling = options.bootstrap.resampling.resolve(data);
    let options = &options;
    let points = &data.points;
    let fit = fit_approach3(points, &options.approach3)?;
    let law = fit.law;
    let groups = approach2_budgets(data, options.budget_tolerance);
    let (approach2, approach2_skipped) = approach2(data, &groups, options)?;
    let labels: Vec<f64> = data
        .budgets
        .iter()
        .copied()
        .chain(options.read_at)
        .collect();
    let mut budgets: Vec<IsoFlop> = report_budgets(&labels)
        .into_iter()
        .map(IsoFlop::Line)
        .collect();
    let lines = budgets.len();
    if approach2.is_some() {
        budgets.extend(profile_paths(points, &groups).map(IsoFlop::Path));
    }
    let paths = budgets.len();
    let reading = approach2
        .as_ref()
        .and_then(|a2| Reading::new(points, &groups, &a2.fit));
    budgets.extend(reading.map(|r| IsoFlop::Approach2(Box::new(r))));
    let boot_on = options.bootstrap.resamples > 0;
    let clusters = match options.bootstrap.resampling {
        Resampling::WildFamilies => data.family_groups(),
        Resampling::WildModels => data.model_groups(),
        Resampling::Pairs | Resampling::Residuals | Resampling::Sweep => data.replicates(),
    };
    let boot3 = boot_on.then(|| {
        bootstrap_approach3(
            points,
            &clusters,
            &fit,
            &options.approach3,
            &options.bootstrap,
            &budgets,
            &options.predict,
        )
    });
    let mut tokens_per_param = optima(&law, &budgets, boot3.as_ref());
    let approach2_of_law = tokens_per_param.split_off(paths).pop().flatten();
    let optimum_on_profiles: Vec<TokensPerParam> = tokens_per_param
        .split_off(lines)
        .into_iter()
        .flatten()
        .collect();
    let tokens_per_param: Vec<TokensPerParam> = tokens_per_param.into_iter().flatten().collect();
    let diagnostics = Diagnostics::new(data, &law, boot3.as_ref());
    let predictions = predictions(&law, &options.predict, boot3.as_ref());
    let optimum_check = check_optimum(
        data,
        options.extrapolation_k,
        options.budget_tolerance,
        options.minimum,
        &options.approach3,
        options.check_bootstrap.then_some(CheckBootstrap {
            law: &law,
            clusters: &clusters,
            options: &options.bootstrap,
        }),
    );
    let mut verdicts = vec![verdict::power_law(&diagnostics)];
    if let Some(t) = tokens_per_param.last() {
        let law = verdict::RatioEstimate {
            c: t.c,
            ratio: t.ratio,
            ci80: t.ratio_spread.map(|s| s.ci80),
        };
        verdicts.push(verdict::tokens_per_param(
            law,
            approach2.as_ref().and_then(minima_estimate),
            data.unit,
            &diagnostics,
            &verdicts[0],
        ));
    }
    if let Ok(check) = &optimum_check {
        verdicts.push(verdict::extrapolates(check));
    }
    let below_entropy_rate = data
        .entropy_rate
        .map(|h| below_floor(h, &law, &tokens_per_param, &predictions))
        .unwrap_or_default();
    let seeds = seed_spreads(data);
    Ok(FitReport {
        entropy_rate: data.entropy_rate,
        below_entropy_rate,
        seed_fits: None,
        calibration: None,
        params: options.params,
        flops: options.flops,
        points: points.len(),
        size_order: {
            let spreads: Vec<f64> = seeds.iter().map(|s| s.sd).collect();
            let median = (!spreads.is_empty()).then(|| {
                let mut v = spreads;
                v.sort_by(f64::total_cmp);
                crate::quantile_sorted(&v, 0.5)
            });
            crate::size_order(&data.curves, median)
        },
        seeds,
        approach3: Approach3Json::new(&fit, boot3.as_ref(), &options.bootstrap),
        tokens_per_param,
        optimum_on_profiles,
        approach2_of_law,
        predictions,
        approach2,
        approach2_skipped,
        approach1: fit_approach1(&data.curves, options.envelope_grid).into(),
        kaplan: if options.kaplan {
            fit_kaplan(points, &data.budgets)
        } else {
            KaplanFits::skipped("not fitted (a simulated sweep)")
        },
        optimum_check: optimum_check.into(),
        extrapolation: extrapolate(data, options.extrapolation_k, &options.approach3).into(),
        diagnostics,
        verdicts,
    })
}

impl Approach3Json {
    fn new(
        fit: &Approach3Fit,
        boot: Option<&Approach3Bootstrap>,
        options: &BootstrapOptions,
    ) -> Self {
        let mut intervals = Intervals::default();
        for (name, s) in boot.iter().flat_map(|b| &b.params) {
            intervals.insert(name, *s);
        }
        let law = fit.law;
        Self {
            law,
            a: law.n_exponent(),
            b: law.d_exponent(),
            objective: fit.objective,
            converged_starts: fit.converged_starts,
            total_starts: fit.total_starts,
            intervals,
            bootstrap: boot.map(|b| BootstrapInfo {
                method: Some(options.resampling),
                ..BootstrapInfo::new(b.resamples, b.failed, options)
            }),
        }
    }
}

/// The curve each of approach 2's budgets traces in `(N, D)`, for those of two sizes or
/// more.
fn profile_paths<'a>(
    points: &'a crate::Points,
    budgets: &'a [Budget],
) -> impl Iterator<Item = IsoPath> + 'a {
    let p = points.as_slice();
    budgets.iter().filter_map(|b| {
        let runs: Vec<(f64, f64)> = b.indices.iter().map(|&i| (p[i].n, p[i].d)).collect();
        IsoPath::through(&runs, b.c)
    })
}

/// `law`'s compute optimum at each of `budgets` (`None` where it has none), with the
/// bootstrap's spreads.
fn optima(
    law: &ChinchillaLaw,
    budgets: &[IsoFlop],
    boot: Option<&Approach3Bootstrap>,
) -> Vec<Option<TokensPerParam>> {
    budgets
        .iter()
        .enumerate()
        .map(|(k, iso)| {
            let (n_opt, d_opt) = iso.optimum(law)?;
            Some(TokensPerParam {
                c: iso.c(),
                n_opt,
                d_opt,
                ratio: d_opt / n_opt,
                ratio_spread: boot.and_then(|b| b.tokens_per_param[k]),
                loss: law.loss(n_opt, d_opt),
                loss_spread: boot.and_then(|b| b.loss_at_optimum[k]),
            })
        })
        .collect()
}

/// What falls below the entropy rate `h`: the fitted E, the optimal losses and the
/// predictions.
fn below_floor(
    h: f64,
    law: &ChinchillaLaw,
    optima: &[TokensPerParam],
    predictions: &[Prediction],
) -> Vec<String> {
    let mut below = Vec::new();
    if law.e < h {
        below.push(format!(
            "E = {:.4} is below the source's entropy rate {h:.4}: the fit puts the floor too low",
            law.e
        ));
    }
    for t in optima.iter().filter(|t| t.loss < h) {
        below.push(format!(
            "the optimal loss {:.4} at C = {:.3e} is below the entropy rate {h:.4}",
            t.loss, t.c
        ));
    }
    for p in predictions.iter().filter(|p| p.loss < h) {
        below.push(format!(
            "the predicted loss {:.4} of N = {:.3e}, D = {:.3e} is below the entropy rate \
             {h:.4}: no model reaches it",
            p.loss, p.n, p.d
        ));
    }
    below
}

/// `law`'s loss at each asked-for `(N, D)`, with the bootstrap's spreads.
fn predictions(
    law: &ChinchillaLaw,
    predict: &[(f64, f64)],
    boot: Option<&Approach3Bootstrap>,
) -> Vec<Prediction> {
    predict
        .iter()
        .enumerate()
        .map(|(t, &(n, d))| Prediction {
            n,
            d,
            c: 6.0 * n * d,
            loss: law.loss(n, d),
            loss_spread: boot.and_then(|b| b.predicted[t]),
        })
        .collect()
}

/// Approach 2's budgets: the planned ones when the data know them, else the points
/// grouped by their budget labels.
pub fn approach2_budgets(data: &Dataset, tolerance: f64) -> Vec<Budget> {
    match &data.planned {
        Some(planned) => group_planned(planned, &data.budgets, tolerance),
        None => group_budgets(&data.budgets, tolerance),
    }
}

/// Approach 2's D*/N* at the top budget, when it can stand in for the law's: the top
/// budget's own minimum is bracketed and the bootstrap interval is reliable.
fn minima_estimate(a2: &Approach2Json) -> Option<verdict::RatioEstimate> {
    let top = a2.fit.top_budget();
    let top_usable = a2.fit.profiles.iter().any(|p| p.c == top && p.usable());
    let reliable = a2.bootstrap.as_ref().is_some_and(|b| !b.unreliable);
    let ci80 = a2.intervals.ci80.get("ratio").copied()?;
    (top_usable && reliable).then(|| verdict::RatioEstimate {
        c: top,
        ratio: a2.fit.optimum_at(top)[2],
        ci80: Some(ci80),
    })
}

/// Approach 2 per `options.approach2` over `budgets` ([`approach2_budgets`]): the fit,
/// or why it was skipped.
fn approach2(
    data: &Dataset,
    budgets: &[Budget],
    options: &AnalysisOptions,
) -> Result<(Option<Approach2Json>, Option<String>), FitError> {
    let attempt = match options.approach2 {
        Approach2Mode::Off => return Ok((None, Some("not asked for".into()))),
        Approach2Mode::Required => true,
        Approach2Mode::Auto => {
            data.budgets_given
                || data.planned.is_some()
                || budgets.iter().any(|b| b.indices.len() >= 3)
        }
    };
    if !attempt {
        return Ok((
            None,
            Some(
                "no budget has 3 or more runs: approach 2 needs an IsoFLOP ladder (several sizes \
                 per budget, or a C column)"
                    .into(),
            ),
        ));
    }
    let fit = match fit_approach2(&data.points, budgets, options.minimum) {
        Ok(fit) => fit,
        Err(e) if options.approach2 == Approach2Mode::Auto => {
            return Ok((None, Some(e.to_string())))
        }
        Err(e) => return Err(e),
    };
    if options.bootstrap.resamples == 0 {
        let json = Approach2Json {
            fit,
            intervals: Intervals::default(),
            bootstrap: None,
            noise: None,
        };
        return Ok((Some(json), None));
    }
    let b = bootstrap_approach2(
        &data.points,
        &data.families,
        budgets,
        &fit,
        &options.bootstrap,
    );
    let mut intervals = Intervals::default();
    for (name, s) in [("a", b.a), ("b", b.b), ("ratio", b.ratio)] {
        if let Some(s) = s {
            intervals.insert(name, s);
        }
    }
    let json = Approach2Json {
        fit: b.weighted.unwrap_or(fit),
        intervals,
        bootstrap: Some(BootstrapInfo::new(
            b.resamples,
            b.failed,
            &options.bootstrap,
        )),
        noise: b.noise,
    };
    Ok((Some(json), None))
}

#[cfg(test)]
mod tests {
    // In tests a panic is the failure report.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::verdict::Verdict;
    use crate::ChinchillaLaw;

    /// A simulated sweep leaves out what its reader never reads (the held-out check's
    /// bootstrap, Kaplan's forms): the check keeps its point errors, the Kaplan forms say
    /// why they are missing, and nothing else the fit reports moves.
    #[test]
    fn a_fit_without_the_checks_bootstrap_or_kaplans_forms_keeps_everything_else() {
        let data =
            crate::optimum_check::tests::sweep(&ChinchillaLaw::HOFFMANN_ROUNDED, 0.005, 1.0, 3);
        let full = AnalysisOptions {
            bootstrap: BootstrapOptions {
                resamples: 40,
                ..BootstrapOptions::default()
            },
            ..AnalysisOptions::default()
        };
        let lean = AnalysisOptions {
            check_bootstrap: false,
            kaplan: false,
            ..full.clone()
        };
        let (mut with, without) = (
            analyse(&data, &full).unwrap(),
            analyse(&data, &lean).unwrap(),
        );
        let (FormFit::Fitted(a), FormFit::Fitted(b)) =
            (&with.optimum_check, &without.optimum_check)
        else {
            panic!("the check ran: {:?}", with.optimum_check);
        };
        assert!(a.margin_spread.is_some() && a.resamples > 0);
        assert!(b.margin_spread.is_none() && b.resamples + b.failed == 0);
        assert_eq!(
            (a.law.loss_error, a.baseline.loss_error),
            (b.law.loss_error, b.baseline.loss_error)
        );
        assert!(matches!(with.kaplan.joint, FormFit::Fitted(_)));
        assert!(matches!(without.kaplan.joint, FormFit::Skipped { .. }));
        assert!(matches!(without.kaplan.l_n.with_e, FormFit::Skipped { .. }));
        // Everything but those and the check's verdict is the same fit.
        with.optimum_check = without.optimum_check.clone();
        with.kaplan = without.kaplan.clone();
        let held_out = |v: &Verdict| v.claim.contains("C_max/");
        with.verdicts.retain(|v| !held_out(v));
        let mut rest = without.clone();
        rest.verdicts.retain(|v| !held_out(v));
        assert_eq!(
            serde_json::to_string(&with).unwrap(),
            serde_json::to_string(&rest).unwrap()
        );
    }
}
