//! Intervals calibrated by simulation: how much wider must a fit's bootstrap intervals be
//! to hold the truth as often as they claim, on this sweep's own design, noise and misfit?
//!
//! The bootstrap resamples what it can see of the noise; where the law misses its points
//! by more than the seeds scatter (a lack-of-fit the test rejects), its intervals cover
//! less than they claim: on results/lab-cpu's design with its measured misfit the top
//! D*/N*'s nominal 80% interval held the truth in about 62% of simulated sweeps
//! (docs/LOG.md, twenty-eighth session). The calibration measures that shortfall on the
//! sweep being fitted and corrects for it, as a parametric bootstrap calibration does
//! (Beran 1987, "Prepivoting to reduce level error of confidence sets"; Hall, *The
//! Bootstrap and Edgeworth Expansion*, §3.11):
//!
//! 1. **The truth to simulate**: the fit's own approach-3 law.
//! 2. **The noise and misfit**, split from the fit's residuals by the method of moments
//!    ([`NoiseModel::measure`]): the seeds' pure error (its share common to a model and
//!    seed's runs, as approach 2 measured it), a deviation per point that its seeds share,
//!    and a deviation per model (N) that all its runs share.
//! 3. **Sweeps drawn like the real one** ([`draw_like`]): every run at its own (N, D),
//!    budget, family and seed, its loss the law's times those terms, each sweep fitted
//!    exactly as the real one was.
//! 4. **A factor per quantity**: in each simulated sweep, the factor by which its interval
//!    must widen about its estimate (in log for a ratio) to reach the truth; the 80th (and
//!    95th) percentile of those factors widens the real fit's 80% (95%) interval. A
//!    factor below 1 (intervals already wide enough) is reported but not applied: the
//!    simulation cannot see a misfit that is not random about the law, such as a trend
//!    of the law's form, so it bounds the needed width from below.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::design::{held_out, quantities};
use crate::misfit_field::{fit_size_misfit, FixedVariances, MeanResidual, SizeMisfit};
use crate::{analyse, family_ids, AnalysisOptions, ChinchillaLaw, Dataset, FitReport, Point};

/// The first random stream of the calibration's draws: sweep `r` draws its run noise from
/// stream `CALIBRATION_STREAMS + 4r`, its family, point and model terms from the next three.
const CALIBRATION_STREAMS: u64 = 5 << 32;

/// Bootstrap resamples of each simulated sweep's fit, at most: a percentile interval of
/// 200 resamples covers as one of 1,000 does, up to the noise of its own tails, and the
/// calibration fits each sweep once.
pub const CALIBRATION_RESAMPLES: usize = 200;

/// The noise and misfit of a sweep's runs about a law, in log loss (relative standard
/// deviations).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseModel {
    /// Each run's own noise.
    #[serde(deserialize_with = "crate::json::number")]
    pub run: f64,
    /// Noise shared by the runs of one family (one model and seed, WSD branches of one
    /// stable phase).
    #[serde(deserialize_with = "crate::json::number")]
    pub family: f64,
    /// A deviation from the law per point, shared by its seeds.
    #[serde(deserialize_with = "crate::json::number")]
    pub point_misfit: f64,
    /// A deviation from the law per model (N), shared by every seed and budget of it.
    #[serde(deserialize_with = "crate::json::number")]
    pub model_misfit: f64,
    /// `seeds` (noise from the seeds' pure error, misfit from the point means) or
    /// `residuals` (no point has two seeds: the residuals' RMS as noise, no misfit).
    pub from: String,
}

impl NoiseModel {
    /// The noise and misfit of `data`'s runs about `law`, where `shared` is the share of
    /// the seed variance that a family's runs have in common (approach 2's
    /// `noise.shared`; 0 when unmeasured).
    ///
    /// With `r̄_p` a point's mean log residual over its `k_p` seeds and `m_g` the mean of
    /// model `g`'s `n_g` point means, the moments are
    /// `E[(r̄_p − m_g)²] ≈ τ_point² + σ_run²/k` (the family term cancels within a model) and
    /// `E[m_g²] ≈ τ_model² + σ_family²/k + (τ_point² + σ_run²/k)/n_g`, each residual mean
    /// square scaled by `m/(m − 5)` for the law's five fitted parameters. Negative
    /// estimates are set to 0.
    pub fn measure(data: &Dataset, law: &ChinchillaLaw, shared: f64) -> Self {
        let p = data.points.as_slice();
        let res: Vec<f64> = p
            .iter()
            .map(|q| (q.loss / law.loss(q.n, q.d)).ln())
            .collect();
        let groups = data.replicates();
        let (m, n) = (groups.len(), res.len());
        let dof = |m: usize| m as f64 / (m.saturating_sub(ChinchillaLaw::PARAMS)).max(1) as f64;
        let means: Vec<f64> = groups
            .iter()
            .map(|g| g.iter().map(|&i| res[i]).sum::<f64>() / g.len() as f64)
            .collect();
        let pure: f64 = groups
            .iter()
            .zip(&means)
            .map(|(g, mean)| g.iter().map(|&i| (res[i] - mean).powi(2)).sum::<f64>())
            .sum();
        if n <= m || pure <= 0.0 {
            let ms = res.iter().map(|r| r * r).sum::<f64>() / n.max(1) as f64;
            return Self {
                run: (ms * dof(n)).sqrt(),
                family: 0.0,
                point_misfit: 0.0,
                model_misfit: 0.0,
                from: "residuals".into(),
            };
        }
        let summaries: Vec<PointMean> = groups
            .iter()
            .zip(&means)
            .map(|(g, &residual)| PointMean {
                n: p[g[0]].n,
                d: p[g[0]].d,
                residual,
                runs: g.len(),
            })
            .collect();
        Self::from_point_means(&summaries, pure / (n - m) as f64, shared)
    }

    /// The noise and misfit of a fit as its report keeps them (a fit.json): each point's
    /// mean loss over its seeds (`seeds`) against the fit's approach-3 law, the pooled
    /// seed SD of its lack-of-fit test and approach 2's shared share, split as
    /// [`NoiseModel::measure`] splits a sweep's. `None` without seeds. A point's residual
    /// is read as `ln(mean loss / law)` rather than the mean of its runs' log residuals,
    /// a difference of about half the seed variance, nearly the same at every point;
    /// points of one run (which a report does not keep) are left out.
    pub fn of_report(fit: &FitReport) -> Option<Self> {
        let (summaries, sigma2) = report_point_means(fit)?;
        Some(Self::from_point_means(
            &summaries,
            sigma2,
            shared_share(fit),
        ))
    }

    /// A misfit by size fitted to a fit.json's point means (see [`SizeMisfit`]): the
    /// per-model term's SD and correlation length that the restricted likelihood
    /// prefers, the run, family and point variances held at [`NoiseModel::of_report`]'s
    /// (the family share 0 where approach 2 did not measure it, as without a bootstrap:
    /// on results/lab-cpu that moves the length from 0.75 to 0.375). `None` where
    /// `of_report` is, or with fewer than three models.
    pub fn size_misfit_of_report(fit: &FitReport) -> Option<SizeMisfit> {
        let (summaries, sigma2) = report_point_means(fit)?;
        let noise = Self::from_point_means(&summaries, sigma2, shared_share(fit));
        let points: Vec<MeanResidual> = summaries
            .iter()
            .map(|q| MeanResidual {
                n: q.n,
                d: q.d,
                residual: q.residual,
                runs: q.runs,
            })
            .collect();
        let fixed = FixedVariances {
            run: noise.run.powi(2),
            family: noise.family.powi(2),
            point: noise.point_misfit.powi(2),
        };
        fit_size_misfit(&points, &fit.approach3.law, fixed)
    }

    /// The moments of [`NoiseModel::measure`] from each point's mean log residual, its
    /// model and its runs, and the seeds' pure-error variance `sigma2`.
    fn from_point_means(points: &[PointMean], sigma2: f64, shared: f64) -> Self {
        let m = points.len();
        let scale = m as f64 / m.saturating_sub(ChinchillaLaw::PARAMS).max(1) as f64;
        let rho = shared.clamp(0.0, 1.0);
        let (run2, family2) = (sigma2 * (1.0 - rho), sigma2 * rho);
        let means: Vec<f64> = points.iter().map(|q| q.residual).collect();
        let inverse_k: Vec<f64> = points.iter().map(|q| 1.0 / q.runs as f64).collect();
        // The point means grouped by model, in order of each model's first point.
        let model_of = family_ids(points.iter().map(|q| q.n.to_bits()));
        let models = crate::points::groups(&model_of);
        let model_means: Vec<f64> = models
            .iter()
            .map(|g| g.iter().map(|&j| means[j]).sum::<f64>() / g.len() as f64)
            .collect();
        let (within, within_dof) =
            models
                .iter()
                .zip(&model_means)
                .fold((0.0, 0usize), |(ss, dof), (g, mean)| {
                    let s: f64 = g.iter().map(|&j| (means[j] - mean).powi(2)).sum();
                    (ss + s, dof + g.len() - 1)
                });
        let mean_inverse_k = inverse_k.iter().sum::<f64>() / m as f64;
        let point2 = if within_dof > 0 {
            (scale * within / within_dof as f64 - run2 * mean_inverse_k).max(0.0)
        } else {
            0.0
        };
        // What the noise and the point misfit put into a model's mean, averaged over models.
        let expected: f64 = models
            .iter()
            .map(|g| {
                let k = g.iter().map(|&j| inverse_k[j]).sum::<f64>() / g.len() as f64;
                family2 * k + (point2 + run2 * k) / g.len() as f64
            })
            .sum::<f64>()
            / models.len() as f64;
        let between = model_means.iter().map(|x| x * x).sum::<f64>() / models.len() as f64;
        let model2 = if models.len() > 1 {
            (scale * between - expected).max(0.0)
        } else {
            0.0
        };
        Self {
            run: run2.sqrt(),
            family: family2.sqrt(),
            point_misfit: point2.sqrt(),
            model_misfit: model2.sqrt(),
            from: "seeds".into(),
        }
    }
}

/// A fit.json's point means about its approach-3 law (from its `seeds`) and its seeds'
/// pure-error variance; `None` without seeds or with too few points.
fn report_point_means(fit: &FitReport) -> Option<(Vec<PointMean>, f64)> {
    let lack = fit.diagnostics.lack_of_fit.as_ref()?;
    let law = &fit.approach3.law;
    let summaries: Vec<PointMean> = fit
        .seeds
        .iter()
        .map(|s| PointMean {
            n: s.n,
            d: s.d,
            residual: (s.mean / law.loss(s.n, s.d)).ln(),
            runs: s.runs,
        })
        .collect();
    (lack.seed_sd > 0.0 && summaries.len() > ChinchillaLaw::PARAMS)
        .then(|| (summaries, lack.seed_sd.powi(2)))
}

/// One point's runs summarised for [`NoiseModel::from_point_means`].
struct PointMean {
    /// The model's parameters.
    n: f64,
    /// Its tokens.
    d: f64,
    /// The mean log residual of its runs about the law.
    residual: f64,
    /// Its runs (seeds).
    runs: usize,
}

/// The share of `fit`'s seed variance that the runs of one model and seed have in common,
/// as approach 2 measured it from seeds; 0 when unmeasured.
fn shared_share(fit: &FitReport) -> f64 {
    fit.approach2
        .as_ref()
        .and_then(|a| a.noise.as_ref())
        .filter(|n| n.from == "seeds")
        .map_or(0.0, |n| n.shared)
}

/// A sweep drawn like `data` under `law`: every run at its own (N, D), budget, family and
/// label, its loss `law.loss(N, D)` times `exp` of its own noise, its family's term, its
/// point's misfit and its model's misfit as `noise` gives them, from sweep `rep`'s
/// streams of `seed`. No training curves (approach 1 is not calibrated).
pub fn draw_like(
    data: &Dataset,
    law: &ChinchillaLaw,
    noise: &NoiseModel,
    seed: u64,
    rep: usize,
) -> Dataset {
    let stream = |k: u64| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(CALIBRATION_STREAMS + 4 * rep as u64 + k);
        rng
    };
    let terms = |count: usize, sd: f64, mut rng: ChaCha8Rng| -> Vec<f64> {
        (0..count)
            .map(|_| {
                let z: f64 = StandardNormal.sample(&mut rng);
                sd * z
            })
            .collect()
    };
    let p = data.points.as_slice();
    let point = family_ids((0..p.len()).map(|i| (p[i].n, p[i].d, data.budgets[i])));
    let model = family_ids(p.iter().map(|q| q.n.to_bits()));
    let count = |ids: &[usize]| ids.iter().max().map_or(0, |m| m + 1);
    let run = terms(p.len(), noise.run, stream(0));
    let family = terms(count(&data.families), noise.family, stream(1));
    let by_point = terms(count(&point), noise.point_misfit, stream(2));
    let by_model = terms(count(&model), noise.model_misfit, stream(3));
    let points = p
        .iter()
        .enumerate()
        .map(|(i, q)| Point {
            n: q.n,
            d: q.d,
            loss: law.loss(q.n, q.d)
                * (run[i] + family[data.families[i]] + by_point[point[i]] + by_model[model[i]])
                    .exp(),
        })
        .collect();
    Dataset {
        points: crate::Points::new(points).expect("a law's losses at valid points are valid"),
        curves: Vec::new(),
        ..data.clone()
    }
}

/// How to calibrate a fit.
#[derive(Debug, Clone)]
pub struct CalibrationOptions {
    /// Simulated sweeps.
    pub sweeps: usize,
    /// Seed of their noise.
    pub seed: u64,
    /// How the real sweep was fitted; each simulated one is fitted the same way, with at
    /// most [`CALIBRATION_RESAMPLES`] bootstrap resamples.
    pub analysis: AnalysisOptions,
}

/// One quantity's interval, calibrated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibratedInterval {
    /// The quantity, as the design simulator names it.
    pub name: String,
    /// Whether it is a ratio (D*/N*): widened in log.
    pub ratio: bool,
    /// The real fit's estimate.
    #[serde(deserialize_with = "crate::json::number")]
    pub estimate: f64,
    /// The real fit's 80% interval.
    #[serde(deserialize_with = "crate::json::numbers")]
    pub ci80: [f64; 2],
    /// The real fit's 95% interval.
    #[serde(deserialize_with = "crate::json::numbers")]
    pub ci95: [f64; 2],
    /// Simulated sweeps whose fit gave this interval.
    pub sweeps: usize,
    /// Share of the simulated 80% intervals that held the truth.
    pub coverage80: f64,
    /// Share of the simulated 95% intervals that held the truth.
    pub coverage95: f64,
    /// The 80th percentile of the factors the simulated 80% intervals needed; `None`
    /// when more than a fifth could not reach the truth by widening.
    pub factor80: Option<f64>,
    /// How far `factor80` may be off for the finite number of sweeps: a distribution-free
    /// 80% interval of the 80th percentile from the order statistics (ranks `R·q ±
    /// 1.28·√(R·q·(1−q))`); `None` when its upper end is infinite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor80_range: Option<[f64; 2]>,
    /// The 95th percentile of the 95% intervals' factors.
    pub factor95: Option<f64>,
    /// The 80% interval widened by `max(1, factor80)` about the estimate; `None` when
    /// the factor is.
    pub calibrated80: Option<[f64; 2]>,
    /// The 95% interval widened by `max(1, factor95)`.
    pub calibrated95: Option<[f64; 2]>,
}

/// A fit's intervals calibrated by simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Sweeps simulated.
    pub sweeps: usize,
    /// Sweeps whose fit succeeded.
    pub fitted: usize,
    /// Bootstrap resamples of each simulated fit.
    pub resamples: usize,
    /// Seed of the simulation.
    pub seed: u64,
    /// The noise and misfit drawn.
    pub noise: NoiseModel,
    /// The calibrated intervals, for every quantity the real fit gave an interval of.
    pub intervals: Vec<CalibratedInterval>,
}

impl Calibration {
    /// The calibrated interval of `name`, if any.
    pub fn get(&self, name: &str) -> Option<&CalibratedInterval> {
        self.intervals.iter().find(|i| i.name == name)
    }
}

/// `x` on the scale an interval is widened on: log for a ratio.
fn scale(x: f64, ratio: bool) -> f64 {
    if ratio {
        x.ln()
    } else {
        x
    }
}

/// The factor by which `ci` must widen about `estimate` (clamped into `ci`) to reach
/// `truth`: each side scaled by the same factor, on the log scale for a ratio. Infinite
/// when the side towards the truth has no width.
pub fn needed_factor(estimate: f64, ci: [f64; 2], truth: f64, ratio: bool) -> f64 {
    let [lo, hi] = ci.map(|x| scale(x, ratio));
    let centre = scale(estimate, ratio).clamp(lo, hi);
    let t = scale(truth, ratio);
    let (gap, side) = if t >= centre {
        (t - centre, hi - centre)
    } else {
        (centre - t, centre - lo)
    };
    if gap == 0.0 {
        0.0
    } else if side > 0.0 {
        gap / side
    } else {
        f64::INFINITY
    }
}

/// `ci` widened about `estimate` (clamped into it) by `factor` on each side.
pub fn widen(estimate: f64, ci: [f64; 2], factor: f64, ratio: bool) -> [f64; 2] {
    let [lo, hi] = ci.map(|x| scale(x, ratio));
    let centre = scale(estimate, ratio).clamp(lo, hi);
    let back = |x: f64| if ratio { x.exp() } else { x };
    [
        back(centre - factor * (centre - lo)),
        back(centre + factor * (hi - centre)),
    ]
}

/// The `q`-quantile of `sorted`, `None` when it is infinite.
fn factor_quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let v = crate::quantile_sorted(sorted, q);
    v.is_finite().then_some(v)
}

/// A distribution-free 80% interval of the `q`-quantile of the population `sorted` was
/// drawn from: the order statistics at ranks `R·q ∓ 1.28·√(R·q·(1−q))` (the normal
/// approximation to the binomial count below the quantile), clamped to the sample.
/// `None` for an empty sample or an infinite upper end.
pub fn quantile_range(sorted: &[f64], q: f64) -> Option<[f64; 2]> {
    let r = sorted.len() as f64;
    if sorted.is_empty() {
        return None;
    }
    let spread = 1.2816 * (r * q * (1.0 - q)).sqrt();
    let rank = |x: f64| (x.clamp(1.0, r) as usize) - 1;
    let (lo, hi) = (
        sorted[rank((r * q - spread).floor())],
        sorted[rank((r * q + spread).ceil())],
    );
    hi.is_finite().then_some([lo, hi])
}

/// Calibrates `fit`, the fit of `data`, by `options.sweeps` sweeps drawn like `data` from
/// `fit`'s law with the noise and misfit measured about it. `None` when `fit` gave no
/// interval to calibrate.
pub fn calibrate(
    data: &Dataset,
    fit: &FitReport,
    options: &CalibrationOptions,
) -> Option<Calibration> {
    let law = fit.approach3.law;
    let noise = NoiseModel::measure(data, &law, shared_share(fit));
    let mut analysis = options.analysis.clone();
    // The simulated sweeps are read for the calibrated quantities only.
    analysis.kaplan = false;
    // Each simulated sweep's approach 2 draws the profiles' misfit exactly when the real
    // fit's did, so that its factors widen an interval built as the real one was.
    let drew = fit
        .approach2
        .as_ref()
        .and_then(|a| a.noise.as_ref())
        .is_some_and(|n| n.model_misfit > 0.0);
    analysis.bootstrap.approach2_misfit = if drew {
        crate::Approach2Misfit::PerModel
    } else {
        crate::Approach2Misfit::Off
    };
    analysis.bootstrap.resamples = analysis.bootstrap.resamples.min(CALIBRATION_RESAMPLES);
    let top = data.budgets.iter().copied().fold(0.0, f64::max);
    let mut named = quantities(&law, top);
    named.extend(held_out(data, &law, &analysis));
    let wanted: Vec<_> = named
        .into_iter()
        .filter_map(|(name, truth, ratio, read)| {
            let (estimate, spread) = read(fit)?;
            Some((name, truth, ratio, read, estimate, spread?))
        })
        .collect();
    if wanted.is_empty() || analysis.bootstrap.resamples == 0 {
        return None;
    }
    let fits: Vec<FitReport> = (0..options.sweeps)
        .filter_map(|r| analyse(&draw_like(data, &law, &noise, options.seed, r), &analysis).ok())
        .collect();
    let intervals = wanted
        .into_iter()
        .map(|(name, truth, ratio, read, estimate, spread)| {
            let simulated: Vec<(f64, crate::Spread)> = fits
                .iter()
                .filter_map(|f| match read(f) {
                    Some((e, Some(s))) => Some((e, s)),
                    _ => None,
                })
                .collect();
            let covered = |pick: fn(&crate::Spread) -> [f64; 2]| {
                simulated
                    .iter()
                    .filter(|(_, s)| pick(s)[0] <= truth && truth <= pick(s)[1])
                    .count() as f64
                    / simulated.len().max(1) as f64
            };
            let factors = |pick: fn(&crate::Spread) -> [f64; 2]| {
                let mut k: Vec<f64> = simulated
                    .iter()
                    .map(|(e, s)| needed_factor(*e, pick(s), truth, ratio))
                    .collect();
                k.sort_by(f64::total_cmp);
                k
            };
            let (k80, k95) = (factors(|s| s.ci80), factors(|s| s.ci95));
            let (factor80, factor95) = if simulated.is_empty() {
                (None, None)
            } else {
                (factor_quantile(&k80, 0.8), factor_quantile(&k95, 0.95))
            };
            CalibratedInterval {
                name: name.into(),
                ratio,
                estimate,
                ci80: spread.ci80,
                ci95: spread.ci95,
                sweeps: simulated.len(),
                coverage80: covered(|s| s.ci80),
                coverage95: covered(|s| s.ci95),
                factor80,
                factor80_range: quantile_range(&k80, 0.8),
                factor95,
                calibrated80: factor80.map(|k| widen(estimate, spread.ci80, k.max(1.0), ratio)),
                calibrated95: factor95.map(|k| widen(estimate, spread.ci95, k.max(1.0), ratio)),
            }
        })
        .collect();
    Some(Calibration {
        sweeps: options.sweeps,
        fitted: fits.len(),
        resamples: analysis.bootstrap.resamples,
        seed: options.seed,
        noise,
        intervals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BootstrapOptions, TokenUnit};

    /// `sizes` models, log-spaced from half the optimal N of the smallest of three
    /// IsoFLOP budgets of Hoffmann et al.'s law to twice that of the largest, each at every
    /// budget, each point trained with `seeds` seeds (a family per model and seed), every
    /// loss exactly the law's.
    fn sweep(law: &ChinchillaLaw, sizes: usize, seeds: usize) -> Dataset {
        let budgets = [1e18, 1e19, 1e20];
        let lo = (0.5 * law.compute_optimal(budgets[0]).0).ln();
        let hi = (2.0 * law.compute_optimal(budgets[2]).0).ln();
        let mut runs = Vec::new();
        for seed in 0..seeds {
            for c in budgets {
                for j in 0..sizes {
                    let n = (lo + (hi - lo) * j as f64 / (sizes - 1) as f64).exp();
                    runs.push((seed, n, c / (6.0 * n), c));
                }
            }
        }
        let points = runs
            .iter()
            .map(|&(_, n, d, _)| Point {
                n,
                d,
                loss: law.loss(n, d),
            })
            .collect();
        Dataset {
            points: crate::Points::new(points).unwrap(),
            budgets: runs.iter().map(|r| r.3).collect(),
            budgets_given: false,
            planned: Some(runs.iter().map(|r| r.3).collect()),
            entropy_rate: None,
            unit: TokenUnit::Tokens,
            runs: (1..=runs.len()).map(|i| i.to_string()).collect(),
            families: family_ids(runs.iter().map(|r| (r.0, r.1.to_bits()))),
            curves: Vec::new(),
        }
    }

    fn noise(run: f64, family: f64, point: f64, model: f64) -> NoiseModel {
        NoiseModel {
            run,
            family,
            point_misfit: point,
            model_misfit: model,
            from: "seeds".into(),
        }
    }

    /// Each run's ln(loss / law).
    fn offsets(data: &Dataset, law: &ChinchillaLaw) -> Vec<f64> {
        data.points
            .as_slice()
            .iter()
            .map(|p| (p.loss / law.loss(p.n, p.d)).ln())
            .collect()
    }

    #[test]
    fn the_factor_widens_an_interval_to_just_reach_the_truth() {
        // A ratio, widened in log: the upper side ln(12.5/10) must stretch to ln(15/10).
        let k = needed_factor(10.0, [8.0, 12.5], 15.0, true);
        assert!((k - (1.5f64.ln() / 1.25f64.ln())).abs() < 1e-12);
        let wide = widen(10.0, [8.0, 12.5], k, true);
        assert!((wide[1] - 15.0).abs() < 1e-9);
        assert!((wide[0] - 10.0 * (0.8f64.ln() * k).exp()).abs() < 1e-9);
        // On the linear scale, towards the lower side.
        let k = needed_factor(0.5, [0.4, 0.7], 0.2, false);
        assert!((k - 3.0).abs() < 1e-12);
        let [lo, hi] = widen(0.5, [0.4, 0.7], 3.0, false);
        assert!((lo - 0.2).abs() < 1e-12 && (hi - 1.1).abs() < 1e-12);
        // A truth inside needs less than 1, at the estimate nothing.
        assert!(needed_factor(0.5, [0.4, 0.7], 0.6, false) < 1.0);
        assert_eq!(needed_factor(0.5, [0.4, 0.7], 0.5, false), 0.0);
        // An estimate outside its interval is taken at the interval's edge: the far side
        // widens, the side of no width cannot.
        assert!((needed_factor(0.3, [0.4, 0.7], 1.0, false) - 2.0).abs() < 1e-12);
        assert_eq!(needed_factor(0.3, [0.4, 0.7], 0.35, false), f64::INFINITY);
    }

    #[test]
    fn the_quantiles_range_comes_from_the_order_statistics() {
        // 100 values 1..=100: the 80th percentile's ranks 80 ∓ 1.28·4 = 74.9 and 85.1,
        // floored and ceiled to 74 and 86.
        let x: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile_range(&x, 0.8), Some([74.0, 86.0]));
        // Clamped to the sample, and no range with an infinite upper end.
        assert_eq!(quantile_range(&[1.0, 2.0], 0.95), Some([1.0, 2.0]));
        assert_eq!(quantile_range(&[1.0, f64::INFINITY], 0.8), None);
        assert_eq!(quantile_range(&[], 0.8), None);
    }

    #[test]
    fn draws_share_each_term_where_it_belongs() {
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        let data = sweep(&law, 4, 2);
        let p = data.points.as_slice();
        let at = |model: NoiseModel| offsets(&draw_like(&data, &law, &model, 3, 0), &law);
        // Each term alone: equal offsets exactly where runs share its key, different
        // offsets elsewhere.
        let check = |off: Vec<f64>, same: &dyn Fn(usize, usize) -> bool| {
            for i in 0..off.len() {
                for j in i + 1..off.len() {
                    let equal = (off[i] - off[j]).abs() < 1e-12;
                    assert_eq!(equal, same(i, j), "runs {i} and {j}: {off:?}");
                }
            }
        };
        check(at(noise(0.01, 0.0, 0.0, 0.0)), &|_, _| false);
        check(at(noise(0.0, 0.01, 0.0, 0.0)), &|i, j| {
            data.families[i] == data.families[j]
        });
        check(at(noise(0.0, 0.0, 0.01, 0.0)), &|i, j| {
            (p[i].n, p[i].d) == (p[j].n, p[j].d)
        });
        check(at(noise(0.0, 0.0, 0.0, 0.01)), &|i, j| p[i].n == p[j].n);
        // The terms add, each from its own stream; the same seed and sweep draw the same.
        let sum: Vec<f64> = [
            noise(0.01, 0.0, 0.0, 0.0),
            noise(0.0, 0.01, 0.0, 0.0),
            noise(0.0, 0.0, 0.01, 0.0),
            noise(0.0, 0.0, 0.0, 0.01),
        ]
        .into_iter()
        .map(at)
        .fold(vec![0.0; p.len()], |acc, o| {
            acc.iter().zip(&o).map(|(a, b)| a + b).collect()
        });
        let all = at(noise(0.01, 0.01, 0.01, 0.01));
        assert!(all.iter().zip(&sum).all(|(a, b)| (a - b).abs() < 1e-12));
        let other = offsets(
            &draw_like(&data, &law, &noise(0.01, 0.0, 0.0, 0.0), 3, 1),
            &law,
        );
        assert!(other
            .iter()
            .zip(&at(noise(0.01, 0.0, 0.0, 0.0)))
            .all(|(a, b)| a != b));
    }

    #[test]
    fn the_noise_model_recovers_the_terms_it_was_drawn_with() {
        // 40 models at three budgets (120 points), three seeds each: enough that each
        // moment is within a fifth or so of its truth.
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        let data = sweep(&law, 40, 3);
        let truth = noise(0.005, 0.004, 0.003, 0.008);
        let shared = truth.family.powi(2) / (truth.family.powi(2) + truth.run.powi(2));
        let mut measured = Vec::new();
        for rep in 0..8 {
            let drawn = draw_like(&data, &law, &truth, 11, rep);
            measured.push(NoiseModel::measure(&drawn, &law, shared));
        }
        let mean =
            |f: fn(&NoiseModel) -> f64| measured.iter().map(f).sum::<f64>() / measured.len() as f64;
        for (what, got, want, tolerance) in [
            ("run", mean(|m| m.run), truth.run, 0.1),
            ("family", mean(|m| m.family), truth.family, 0.1),
            ("point", mean(|m| m.point_misfit), truth.point_misfit, 0.25),
            ("model", mean(|m| m.model_misfit), truth.model_misfit, 0.2),
        ] {
            assert!(
                (got / want - 1.0).abs() < tolerance,
                "{what}: measured {got:.5}, drawn with {want:.5}"
            );
        }
        assert!(measured.iter().all(|m| m.from == "seeds"));
        // Without a misfit, the misfit terms come out small against the noise (each
        // draw's estimate scatters about 0.0017 around 0, then is cut at 0).
        let clean = noise(0.005, 0.0, 0.0, 0.0);
        let (point, model) = (0..8).fold((0.0, 0.0), |(p, m), rep| {
            let n = NoiseModel::measure(&draw_like(&data, &law, &clean, 11, rep), &law, 0.0);
            (p + n.point_misfit / 8.0, m + n.model_misfit / 8.0)
        });
        assert!(point < 0.0015 && model < 0.0015, "{point} {model}");
        // One seed per point: the residuals' RMS as noise, no misfit.
        let single = sweep(&law, 5, 1);
        let m = NoiseModel::measure(&draw_like(&single, &law, &clean, 11, 0), &law, 0.0);
        assert_eq!(m.from, "residuals");
        assert_eq!((m.family, m.point_misfit, m.model_misfit), (0.0, 0.0, 0.0));
        assert!(m.run > 0.002 && m.run < 0.01, "{m:?}");
    }

    #[test]
    fn a_fits_report_gives_the_noise_model_its_runs_give() {
        // What a fit.json keeps (point means, seed SD, shared share) splits the noise as
        // the runs themselves do, up to reading a point's mean loss instead of its mean
        // log loss; and through JSON, as `ladder plan` reads a prior.
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        let truth = noise(0.005, 0.004, 0.003, 0.008);
        let data = draw_like(&sweep(&law, 12, 3), &law, &truth, 7, 0);
        // A few resamples: approach 2 measures the shared share as it bootstraps.
        let analysis = AnalysisOptions {
            bootstrap: BootstrapOptions {
                resamples: 4,
                resampling: crate::Resampling::WildFamilies,
                ..BootstrapOptions::default()
            },
            kaplan: false,
            ..AnalysisOptions::default()
        };
        let fit = analyse(&data, &analysis).unwrap();
        assert!(shared_share(&fit) > 0.1, "{}", shared_share(&fit));
        let from_runs = NoiseModel::measure(&data, &fit.approach3.law, shared_share(&fit));
        let json: FitReport = serde_json::from_str(&serde_json::to_string(&fit).unwrap()).unwrap();
        let from_report = NoiseModel::of_report(&json).unwrap();
        assert_eq!(from_report.from, "seeds");
        for (what, got, want) in [
            ("run", from_report.run, from_runs.run),
            ("family", from_report.family, from_runs.family),
            ("point", from_report.point_misfit, from_runs.point_misfit),
            ("model", from_report.model_misfit, from_runs.model_misfit),
        ] {
            assert!(
                want > 0.001 && (got / want - 1.0).abs() < 0.02,
                "{what}: {got:.5} from the report, {want:.5} from the runs"
            );
        }
        // One seed a point: no seeds kept, nothing to split.
        let single = draw_like(&sweep(&law, 12, 1), &law, &truth, 7, 0);
        let fit = analyse(&single, &analysis).unwrap();
        assert_eq!(NoiseModel::of_report(&fit), None);
    }

    #[test]
    fn approach2s_bootstrap_draws_the_misfit_by_model_its_profiles_show() {
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        let design = sweep(&law, 12, 3);
        let fit = |data: &Dataset, misfit: crate::Approach2Misfit| {
            let analysis = AnalysisOptions {
                bootstrap: BootstrapOptions {
                    resamples: 60,
                    resampling: crate::Resampling::WildFamilies,
                    approach2_misfit: misfit,
                    ..BootstrapOptions::default()
                },
                kaplan: false,
                ..AnalysisOptions::default()
            };
            analyse(data, &analysis).unwrap().approach2.unwrap()
        };
        let width = |a: &crate::Approach2Json| {
            let [lo, hi] = a.intervals.ci80["ratio"];
            hi / lo
        };
        // A misfit of 1% per model against 0.3% of seed noise: the profiles see it, and
        // approach 2's intervals widen for it.
        let missed = draw_like(&design, &law, &noise(0.003, 0.0, 0.0, 0.01), 9, 0);
        let off = fit(&missed, crate::Approach2Misfit::Off);
        let on = fit(&missed, crate::Approach2Misfit::PerModel);
        assert!(crate::profiles_reject(&off.fit.profiles));
        let tau = on.noise.as_ref().unwrap().model_misfit;
        assert_eq!(off.noise.as_ref().unwrap().model_misfit, 0.0);
        assert!(tau > 0.003, "{tau}");
        assert!(width(&on) > width(&off), "{} {}", width(&on), width(&off));
        assert_eq!(fit(&missed, crate::Approach2Misfit::Auto), on);
        // Seed noise alone: `auto` draws the term only if the pooled test rejects.
        let clean = draw_like(&design, &law, &noise(0.003, 0.0, 0.0, 0.0), 9, 0);
        let auto = fit(&clean, crate::Approach2Misfit::Auto);
        let want = if crate::profiles_reject(&auto.fit.profiles) {
            fit(&clean, crate::Approach2Misfit::PerModel)
        } else {
            fit(&clean, crate::Approach2Misfit::Off)
        };
        assert_eq!(auto, want);
    }

    #[test]
    fn a_misfit_by_model_widens_the_calibrated_interval() {
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        let design = sweep(&law, 5, 3);
        let real = draw_like(&design, &law, &noise(0.004, 0.0, 0.0, 0.01), 5, 0);
        let analysis = AnalysisOptions {
            bootstrap: BootstrapOptions {
                resamples: 60,
                ..BootstrapOptions::default()
            },
            ..AnalysisOptions::default()
        };
        let fit = analyse(&real, &analysis).unwrap();
        let options = CalibrationOptions {
            sweeps: 16,
            seed: 1,
            analysis: analysis.clone(),
        };
        let c = calibrate(&real, &fit, &options).unwrap();
        assert_eq!((c.sweeps, c.resamples), (16, 60));
        assert!(c.fitted >= 14, "{} of 16 fitted", c.fitted);
        // The misfit by model is seen as such, not as seed noise.
        assert!(
            c.noise.model_misfit > 2.0 * c.noise.point_misfit,
            "{:?}",
            c.noise
        );
        let ratio = c.get("tokens_per_param.-1.ratio").unwrap();
        assert!(ratio.ratio && ratio.sweeps >= 14);
        let fitted = fit.tokens_per_param.last().unwrap();
        assert_eq!(ratio.estimate, fitted.ratio);
        assert_eq!(ratio.ci80, fitted.ratio_spread.unwrap().ci80);
        // Calibration never narrows an interval, and here it must widen it: a fifth of
        // the simulated intervals or more missed the law they were drawn from.
        let k = ratio.factor80.unwrap();
        let [lo, hi] = ratio.calibrated80.unwrap();
        assert!(lo <= ratio.ci80[0] && ratio.ci80[1] <= hi);
        assert!(k > 1.0 && ratio.coverage80 < 0.8, "{ratio:?}");
        assert_eq!(
            [lo, hi],
            widen(ratio.estimate, ratio.ci80, k, true),
            "widened about the estimate by the factor"
        );
        // The same seed draws the same calibration.
        assert_eq!(calibrate(&real, &fit, &options).unwrap(), c);
    }

    #[test]
    fn the_held_out_checks_error_and_margin_are_calibrated_about_their_truth() {
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        let real = crate::optimum_check::tests::sweep(&law, 0.005, 1.0, 3);
        let analysis = AnalysisOptions {
            bootstrap: BootstrapOptions {
                resamples: 40,
                ..BootstrapOptions::default()
            },
            extrapolation_k: 8.0,
            ..AnalysisOptions::default()
        };
        let fit = analyse(&real, &analysis).unwrap();
        let crate::FormFit::Fitted(check) = &fit.optimum_check else {
            panic!("the held-out check ran: {:?}", fit.optimum_check);
        };
        let options = CalibrationOptions {
            sweeps: 8,
            seed: 2,
            analysis: analysis.clone(),
        };
        let c = calibrate(&real, &fit, &options).unwrap();
        let error = c.get("held_out.law_error").unwrap();
        assert_eq!(error.estimate, check.law.loss_error);
        assert_eq!(error.ci80, check.law.error_spread.unwrap().loss.ci80);
        let margin = c.get("held_out.margin").unwrap();
        assert_eq!(margin.estimate, check.margin);
        assert_eq!(margin.ci80, check.margin_spread.unwrap().ci80);
        assert!(!error.ratio && error.sweeps >= 7 && margin.sweeps >= 7);
        // Their truths: the check on the fit's law's own losses at these runs, where
        // the law's error is small (the parabola's reading of an asymmetric profile).
        let truths = held_out(&real, &fit.approach3.law, &analysis);
        assert_eq!(
            truths.iter().map(|t| t.0).collect::<Vec<_>>(),
            ["held_out.law_error", "held_out.margin"]
        );
        assert!(truths[0].1.abs() < 0.005, "{}", truths[0].1);
        assert_eq!(
            (truths[0].3)(&fit),
            Some((error.estimate, check.law.error_spread.map(|s| s.loss)))
        );
    }
}
