//! What a fit says: every approach that applies to the data, bootstrap intervals,
//! diagnostics and verdicts, as one serialisable report. [`analyse`] builds it.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::verdict::{self, Verdict};
use crate::{
    bootstrap_approach2, bootstrap_approach3, extrapolate, fit_approach1, fit_approach2,
    fit_approach3, fit_kaplan, group_budgets, Approach1Fit, Approach2Fit, Approach3Options,
    BootstrapOptions, ChinchillaLaw, Dataset, Diagnostics, Extrapolation, FitError, FormFit,
    KaplanFits, PowerLaw, Spread,
};

/// Whether to run approach 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approach2Mode {
    /// Run it when the data carry budget labels (a `C` column) or some budget has at
    /// least three points; report why it was skipped otherwise.
    Auto,
    /// Run it, and fail if the data do not allow it.
    Required,
    /// Do not run it.
    Off,
}

/// Settings of [`analyse`].
#[derive(Debug, Clone)]
pub struct AnalysisOptions {
    /// Parameter convention of N, recorded in the report (`total` or `non-embedding`).
    pub params: String,
    /// FLOP convention of the budgets, recorded in the report (`6nd` or `exact`).
    pub flops: String,
    /// Approach-3 settings.
    pub approach3: Approach3Options,
    /// Bootstrap settings; `resamples = 0` skips the bootstrap.
    pub bootstrap: BootstrapOptions,
    /// Whether to run approach 2.
    pub approach2: Approach2Mode,
    /// Relative tolerance within which budget labels are one budget.
    pub budget_tolerance: f64,
    /// Extrapolation test: fit on budgets up to `C_max / k`.
    pub extrapolation_k: f64,
    /// Points of the log FLOP grid of approach 1.
    pub envelope_grid: usize,
    /// `(N, D)` of runs to predict with approach 3 (with bootstrap intervals), for
    /// example a larger run before it is trained.
    pub predict: Vec<(f64, f64)>,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        Self {
            params: "total".into(),
            flops: "6nd".into(),
            approach3: Approach3Options::default(),
            bootstrap: BootstrapOptions::default(),
            approach2: Approach2Mode::Auto,
            budget_tolerance: 1e-3,
            extrapolation_k: 4.0,
            envelope_grid: 40,
            predict: Vec::new(),
        }
    }
}

/// Named spreads, serialised as `se.{name}`, `ci80.{name}` and `ci95.{name}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Intervals {
    /// Standard errors.
    pub se: BTreeMap<String, f64>,
    /// 80% percentile intervals `[lo, hi]`.
    pub ci80: BTreeMap<String, [f64; 2]>,
    /// 95% percentile intervals `[lo, hi]`.
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BootstrapInfo {
    /// Resamples refitted.
    pub resamples: usize,
    /// Resamples that could not be refitted.
    pub failed: usize,
    /// The seed.
    pub seed: u64,
}

impl BootstrapInfo {
    fn new(resamples: usize, failed: usize, options: &BootstrapOptions) -> Self {
        Self {
            resamples,
            failed,
            seed: options.seed,
        }
    }
}

/// Approach 3: `approach3.{E,A,B,alpha,beta,a,b,objective,…}` plus
/// `approach3.se.*`, `approach3.ci80.*`, `approach3.ci95.*`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Approach3Json {
    /// The fitted law.
    #[serde(flatten)]
    pub law: ChinchillaLaw,
    /// `N* ∝ C^a`: `β/(α+β)`.
    pub a: f64,
    /// `D* ∝ C^b`: `α/(α+β)`.
    pub b: f64,
    /// Sum of Huber terms at the fit.
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokensPerParam {
    /// Budget in FLOPs.
    #[serde(rename = "C")]
    pub c: f64,
    /// Compute-optimal parameters.
    pub n_opt: f64,
    /// Compute-optimal tokens.
    pub d_opt: f64,
    /// `D*/N*`.
    pub ratio: f64,
    /// Spread of `D*/N*`.
    pub ratio_spread: Option<Spread>,
    /// The predicted loss at the optimum.
    pub loss: f64,
    /// Spread of that loss.
    pub loss_spread: Option<Spread>,
}

/// Approach 3's prediction for one `(N, D)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// Parameters.
    #[serde(rename = "N")]
    pub n: f64,
    /// Training tokens.
    #[serde(rename = "D")]
    pub d: f64,
    /// `6·N·D`.
    #[serde(rename = "C")]
    pub c: f64,
    /// The predicted loss.
    pub loss: f64,
    /// Its spread over the bootstrap's refits.
    pub loss_spread: Option<Spread>,
}

/// Approach 2 and its bootstrap: `approach2.{a,b}`, `approach2.ci95.{a,b}`, ….
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Approach2Json {
    /// The fit and its profiles.
    #[serde(flatten)]
    pub fit: Approach2Fit,
    /// Bootstrap intervals of `a` and `b`.
    #[serde(flatten)]
    pub intervals: Intervals,
    /// How the bootstrap ran.
    pub bootstrap: Option<BootstrapInfo>,
}

/// A finished analysis, ready to print or serialise.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitReport {
    /// Parameter convention of N.
    pub params: String,
    /// FLOP convention of the budgets.
    pub flops: String,
    /// Number of points.
    pub points: usize,
    /// Approach 3.
    pub approach3: Approach3Json,
    /// The compute optimum implied by approach 3 at each report budget.
    pub tokens_per_param: Vec<TokensPerParam>,
    /// Approach 3's loss at each asked-for `(N, D)` (absent when none was asked for).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub predictions: Vec<Prediction>,
    /// Approach 2, if it ran.
    pub approach2: Option<Approach2Json>,
    /// Why approach 2 did not run, if it did not.
    pub approach2_skipped: Option<String>,
    /// Approach 1, from the training curves.
    pub approach1: FormFit<Approach1Fit>,
    /// Kaplan et al. 2020's forms.
    pub kaplan: KaplanFits,
    /// Approach 3 fitted on the small budgets, predicting the large ones.
    pub extrapolation: FormFit<Extrapolation>,
    /// Diagnostics of the approach-3 fit.
    pub diagnostics: Diagnostics,
    /// The claims and what the data say.
    pub verdicts: Vec<Verdict>,
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
    let points = &data.points;
    let fit = fit_approach3(points, &options.approach3)?;
    let law = fit.law;
    let budgets = report_budgets(&data.budgets);
    let boot_on = options.bootstrap.resamples > 0;
    let boot3 = boot_on.then(|| {
        bootstrap_approach3(
            points,
            &fit,
            &options.approach3,
            &options.bootstrap,
            &budgets,
            &options.predict,
        )
    });
    let mut intervals = Intervals::default();
    if let Some(b) = &boot3 {
        for (name, s) in &b.params {
            intervals.insert(name, *s);
        }
    }
    let tokens_per_param = budgets
        .iter()
        .enumerate()
        .map(|(k, &c)| {
            let (n_opt, d_opt) = law.compute_optimal(c);
            TokensPerParam {
                c,
                n_opt,
                d_opt,
                ratio: d_opt / n_opt,
                ratio_spread: boot3.as_ref().and_then(|b| b.tokens_per_param[k]),
                loss: law.loss(n_opt, d_opt),
                loss_spread: boot3.as_ref().and_then(|b| b.loss_at_optimum[k]),
            }
        })
        .collect::<Vec<_>>();

    let (approach2, approach2_skipped) = approach2(data, options)?;
    let diagnostics = Diagnostics::new(data, &law, boot3.as_ref());
    let mut verdicts = vec![verdict::power_law(&diagnostics)];
    if let Some(t) = tokens_per_param.last() {
        verdicts.push(verdict::tokens_per_param(
            t.c,
            t.ratio,
            t.ratio_spread.map(|s| s.ci80),
            &diagnostics,
        ));
    }
    Ok(FitReport {
        params: options.params.clone(),
        flops: options.flops.clone(),
        points: points.len(),
        approach3: Approach3Json {
            law,
            a: law.n_exponent(),
            b: law.d_exponent(),
            objective: fit.objective,
            converged_starts: fit.converged_starts,
            total_starts: fit.total_starts,
            intervals,
            bootstrap: boot3
                .as_ref()
                .map(|b| BootstrapInfo::new(b.resamples, b.failed, &options.bootstrap)),
        },
        tokens_per_param,
        predictions: options
            .predict
            .iter()
            .enumerate()
            .map(|(t, &(n, d))| Prediction {
                n,
                d,
                c: 6.0 * n * d,
                loss: law.loss(n, d),
                loss_spread: boot3.as_ref().and_then(|b| b.predicted[t]),
            })
            .collect(),
        approach2,
        approach2_skipped,
        approach1: fit_approach1(&data.curves, options.envelope_grid).into(),
        kaplan: fit_kaplan(points, &data.budgets),
        extrapolation: extrapolate(data, options.extrapolation_k, &options.approach3).into(),
        diagnostics,
        verdicts,
    })
}

/// Approach 2 per `options.approach2`: the fit, or why it was skipped.
fn approach2(
    data: &Dataset,
    options: &AnalysisOptions,
) -> Result<(Option<Approach2Json>, Option<String>), FitError> {
    let budgets = group_budgets(&data.budgets, options.budget_tolerance);
    let attempt = match options.approach2 {
        Approach2Mode::Off => return Ok((None, Some("not asked for".into()))),
        Approach2Mode::Required => true,
        Approach2Mode::Auto => data.budgets_given || budgets.iter().any(|b| b.indices.len() >= 3),
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
    let fit = match fit_approach2(&data.points, &budgets) {
        Ok(fit) => fit,
        Err(e) if options.approach2 == Approach2Mode::Auto => {
            return Ok((None, Some(e.to_string())))
        }
        Err(e) => return Err(e),
    };
    let mut intervals = Intervals::default();
    let mut bootstrap = None;
    if options.bootstrap.resamples > 0 {
        let b = bootstrap_approach2(&data.points, &budgets, &options.bootstrap);
        for (name, s) in [("a", b.a), ("b", b.b)] {
            if let Some(s) = s {
                intervals.insert(name, s);
            }
        }
        bootstrap = Some(BootstrapInfo::new(
            b.resamples,
            b.failed,
            &options.bootstrap,
        ));
    }
    Ok((
        Some(Approach2Json {
            fit,
            intervals,
            bootstrap,
        }),
        None,
    ))
}

/// `v` with `prec` decimals, or in scientific notation when that would be unreadable.
fn num(v: f64, prec: usize) -> String {
    if v != 0.0 && (v.abs() >= 1e6 || v.abs() < 1e-3) {
        format!("{v:.3e}")
    } else {
        format!("{v:.prec$}")
    }
}

/// `[lo, hi]` as text, or a dash.
fn interval(ci: Option<[f64; 2]>, prec: usize) -> String {
    match ci {
        Some([lo, hi]) => format!("[{}, {}]", num(lo, prec), num(hi, prec)),
        None => "-".into(),
    }
}

impl fmt::Display for FitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a3 = &self.approach3;
        let law = a3.law;
        writeln!(
            f,
            "Chinchilla approach 3 ({} points, N = {} parameters, C = {} FLOPs)",
            self.points, self.params, self.flops
        )?;
        writeln!(f, "  L(N, D) = E + A/N^alpha + B/D^beta")?;
        match &a3.bootstrap {
            Some(b) => writeln!(
                f,
                "  intervals: bootstrap, {} resamples ({} failed), seed {}",
                b.resamples, b.failed, b.seed
            )?,
            None => writeln!(f, "  intervals: none (no bootstrap)")?,
        }
        writeln!(
            f,
            "  {:<10} {:>12} {:>10} {:>26}",
            "", "value", "SE", "95% interval"
        )?;
        for (name, v, prec) in [
            ("E", law.e, 4),
            ("A", law.a, 1),
            ("B", law.b, 1),
            ("alpha", law.alpha, 4),
            ("beta", law.beta, 4),
            ("a", a3.a, 4),
            ("b", a3.b, 4),
        ] {
            let se = a3
                .intervals
                .se
                .get(name)
                .map_or("-".into(), |s| num(*s, prec));
            let ci = interval(a3.intervals.ci95.get(name).copied(), prec);
            writeln!(f, "  {name:<10} {:>12} {se:>10} {ci:>26}", num(v, prec))?;
        }
        writeln!(f, "  objective  {:.10}", a3.objective)?;
        writeln!(
            f,
            "  starts converged: {}/{}",
            a3.converged_starts, a3.total_starts
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "  {:>10} {:>10} {:>10} {:>7} {:>18} {:>8} {:>18}",
            "C (FLOPs)", "N*", "D*", "D*/N*", "80% interval", "loss*", "95% interval"
        )?;
        for t in &self.tokens_per_param {
            writeln!(
                f,
                "  {:>10.3e} {:>10.3e} {:>10.3e} {:>7} {:>18} {:>8.4} {:>18}",
                t.c,
                t.n_opt,
                t.d_opt,
                num(t.ratio, 1),
                interval(t.ratio_spread.map(|s| s.ci80), 1),
                t.loss,
                interval(t.loss_spread.map(|s| s.ci95), 3)
            )?;
        }
        writeln!(f)?;
        if !self.predictions.is_empty() {
            writeln!(f, "Approach 3's predictions")?;
            writeln!(
                f,
                "  {:>10} {:>10} {:>10} {:>8} {:>18} {:>18}",
                "N", "D", "C=6ND", "loss", "80% interval", "95% interval"
            )?;
            for p in &self.predictions {
                writeln!(
                    f,
                    "  {:>10.3e} {:>10.3e} {:>10.3e} {:>8.4} {:>18} {:>18}",
                    p.n,
                    p.d,
                    p.c,
                    p.loss,
                    interval(p.loss_spread.map(|s| s.ci80), 3),
                    interval(p.loss_spread.map(|s| s.ci95), 3)
                )?;
            }
            writeln!(f)?;
        }
        match (&self.approach2, &self.approach2_skipped) {
            (Some(a2), _) => {
                writeln!(
                    f,
                    "Chinchilla approach 2 (IsoFLOP parabolas, {} of {} budgets used)",
                    a2.fit.budgets_used,
                    a2.fit.profiles.len()
                )?;
                for (name, v) in [("a", a2.fit.a), ("b", a2.fit.b)] {
                    writeln!(
                        f,
                        "  {name} = {v:.4}, 95% interval {}",
                        interval(a2.intervals.ci95.get(name).copied(), 4)
                    )?;
                }
                writeln!(
                    f,
                    "  {:>10} {:>7} {:>10} {:>8}",
                    "C (FLOPs)", "points", "N_opt", "loss"
                )?;
                for p in &a2.fit.profiles {
                    let n = p.n_opt.map_or("-".into(), |n| format!("{n:.3e}"));
                    let l = p.loss_min.map_or("-".into(), |l| format!("{l:.4}"));
                    writeln!(f, "  {:>10.3e} {:>7} {n:>10} {l:>8}", p.c, p.points)?;
                    for w in &p.warnings {
                        writeln!(f, "    warning: {w}")?;
                    }
                }
            }
            (None, Some(why)) => writeln!(f, "Chinchilla approach 2: skipped: {why}")?,
            (None, None) => {}
        }
        writeln!(f)?;
        match &self.approach1 {
            FormFit::Fitted(a1) => writeln!(
                f,
                "Chinchilla approach 1 (training-curve envelope, {} grid points, {} sizes on it): \
                 a = {:.4}, b = {:.4} (mid-run points of a cosine schedule overstate the loss of \
                 a shorter run)",
                a1.envelope.len(),
                a1.sizes_on_envelope,
                a1.a,
                a1.b
            )?,
            FormFit::Skipped { skipped } => {
                writeln!(f, "Chinchilla approach 1: skipped: {skipped}")?
            }
        }
        writeln!(f)?;
        writeln!(f, "Kaplan et al. 2020 forms (log-space Huber fits)")?;
        let k = &self.kaplan;
        for (name, pair) in [
            ("L(N), each N at its largest D", &k.l_n),
            ("L(D), each D at its largest N", &k.l_d),
            ("L(C), compute frontier", &k.l_c),
        ] {
            for (form, fit) in [
                ("E + (x_c/x)^alpha", &pair.with_e),
                ("(x_c/x)^alpha", &pair.without_e),
            ] {
                write!(f, "  {name:<30} {form:<18} ")?;
                match fit {
                    FormFit::Fitted(PowerLaw {
                        e,
                        x_c,
                        alpha,
                        r2_log,
                        points,
                        degenerate,
                    }) => {
                        write!(
                            f,
                            "alpha {alpha:.4}  x_c {x_c:.3e}  E {e:.4}  R² {r2_log:.4}  ({points} points)"
                        )?;
                        match degenerate {
                            Some(why) => writeln!(f, "  degenerate: {why}")?,
                            None => writeln!(f)?,
                        }
                    }
                    FormFit::Skipped { skipped } => writeln!(f, "skipped: {skipped}")?,
                }
            }
        }
        match &k.joint {
            FormFit::Fitted(j) => {
                write!(
                    f,
                    "  L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D: alpha_N {:.4}  alpha_D {:.4}  \
                     N_c {:.3e}  D_c {:.3e}  R² {:.4}",
                    j.alpha_n, j.alpha_d, j.n_c, j.d_c, j.r2_log
                )?;
                match &j.degenerate {
                    Some(why) => writeln!(f, "  degenerate: {why}")?,
                    None => writeln!(f)?,
                }
            }
            FormFit::Skipped { skipped } => writeln!(f, "  joint L(N, D): skipped: {skipped}")?,
        }
        writeln!(f)?;
        match &self.extrapolation {
            FormFit::Fitted(x) => {
                match (x.mean_rel_error, x.mean_abs_rel_error, &x.undefined) {
                    (Some(mean), Some(mean_abs), _) => writeln!(
                        f,
                        "extrapolation: approach 3 on the {} points with C ≤ C_max/{} = {:.3e} \
                         predicts the {} larger runs with mean relative error {:+.2}% \
                         (mean |error| {:.2}%)",
                        x.fitted_points,
                        x.k,
                        x.c_cut,
                        x.held_out.len(),
                        100.0 * mean,
                        100.0 * mean_abs
                    )?,
                    (_, _, why) => writeln!(
                        f,
                        "extrapolation (C_max/{}): undefined: {}",
                        x.k,
                        why.as_deref().unwrap_or("a prediction is not finite")
                    )?,
                }
                for h in x.held_out.iter().take(10) {
                    match (h.predicted, h.rel_error) {
                        (Some(p), Some(e)) => writeln!(
                            f,
                            "  {:<24} C {:.3e}  loss {:.4}  predicted {:.4}  {:+.2}%",
                            h.run,
                            h.c,
                            h.loss,
                            p,
                            100.0 * e
                        )?,
                        _ => writeln!(
                            f,
                            "  {:<24} C {:.3e}  loss {:.4}  predicted: none (not finite)",
                            h.run, h.c, h.loss
                        )?,
                    }
                }
                if x.held_out.len() > 10 {
                    writeln!(f, "  … {} more in the JSON", x.held_out.len() - 10)?;
                }
            }
            FormFit::Skipped { skipped } => writeln!(f, "extrapolation: skipped: {skipped}")?,
        }
        writeln!(f)?;
        let d = &self.diagnostics;
        writeln!(
            f,
            "diagnostics: log-space R² {:.4}; residual trend vs N rho {:.2} (p {:.3}), vs D rho {:.2} (p {:.3})",
            d.r2_log, d.trend_n.rho, d.trend_n.p, d.trend_d.rho, d.trend_d.p
        )?;
        for why in &d.degenerate {
            writeln!(f, "degenerate: {why}")?;
        }
        for v in &self.verdicts {
            let word = match v.holds {
                Some(true) => "holds",
                Some(false) => "does not hold",
                None => "cannot tell",
            };
            writeln!(f, "verdict: {}: {word}: {}", v.claim, v.detail)?;
        }
        Ok(())
    }
}
