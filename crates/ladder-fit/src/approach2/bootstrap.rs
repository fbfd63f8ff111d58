//! Approach 2's uncertainty: a noise bootstrap. Each resample adds to every run's loss a
//! draw of the measured noise, locates every budget's minimum again and refits the
//! lines, as the IsoFLOP reanalyses do (Porian et al. 2024). The noise is measured from
//! the seeds where runs differ only by seed (their pooled spread, per budget: a short
//! run's loss scatters far more across seeds than a long one's), else from the
//! residuals of the profiles' parabolas. The bootstrap's spread of each budget's
//! `ln N_opt` weights that budget in the lines.
//!
//! With [`Resampling::WildFamilies`] the noise keeps what a family's runs share (the
//! runs of one model and seed: WSD branches of one stable phase share its initial
//! weights, data order and most of its steps). The share `ρ` of a run's seed variance
//! that its family's runs at other budgets also carry is measured from the seeds, and
//! each run's noise is drawn as `sd·(√(1−ρ)·z_run + √ρ·z_family)`: the same variance
//! per run, correlated within a family as measured.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::budget::sizes;
use super::{lines, profiles, Approach2Fit, Budget, Columns};
use crate::bootstrap::{
    Approach2Misfit, BootstrapOptions, Resampling, FAMILY_STREAMS, MODEL_STREAMS,
};
use crate::stats::mean_sd;
use crate::{Points, Spread};

/// More failed resamples than this share make the intervals unreliable.
const MOST_FAILED: f64 = 0.05;

/// The noise the bootstrap adds, and where it was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Noise {
    /// Standard deviation of one run's final loss (nats/token).
    #[serde(deserialize_with = "crate::json::number")]
    pub sd: f64,
    /// `seeds` (runs that differ only by seed) or `residuals` (of the parabolas).
    pub from: String,
    /// Degrees of freedom behind it.
    pub dof: usize,
    /// With seeds, the SD added to each budget's runs, in the order of the fit's
    /// budgets: a budget whose runs repeat with other seeds gets its own pooled spread,
    /// the others `sd`. Empty when the noise comes from the residuals (`sd` for all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_budget: Vec<f64>,
    /// With the family bootstrap: the share of a run's seed variance that the runs of its
    /// family (model and seed) at other budgets share; 0 without it, without seeds, or
    /// when the measured correlation is at or below 0.
    #[serde(default, skip_serializing_if = "crate::json::is_default")]
    pub shared: f64,
    /// Pairs of one family's runs behind `shared`.
    #[serde(default, skip_serializing_if = "crate::json::is_default")]
    pub shared_pairs: usize,
    /// The SD of the term drawn per model (in loss), from the profiles' lack-of-fit
    /// tests ([`profile_misfit`]), where [`Approach2Misfit`] drew it; 0 otherwise.
    #[serde(default, skip_serializing_if = "crate::json::is_default")]
    pub model_misfit: f64,
}

/// Bootstrap spreads of approach 2's exponents, and the weighted fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approach2Bootstrap {
    /// Spread of `a`.
    pub a: Option<Spread>,
    /// Spread of `b`.
    pub b: Option<Spread>,
    /// Spread of D*/N* at the top budget ([`Approach2Fit::top_budget`]).
    pub ratio: Option<Spread>,
    /// Resamples refitted.
    pub resamples: usize,
    /// Resamples that could not be fitted (a usable budget's minimum became non-convex
    /// or unbracketed, or too few budgets were left); counted, never dropped silently.
    pub failed: usize,
    /// Whether more than 5% of the resamples failed: the intervals are then unreliable.
    pub unreliable: bool,
    /// The noise added.
    pub noise: Option<Noise>,
    /// The fit with its lines weighted by the budgets' variances, and each profile's
    /// `ln_n_opt_se`; `None` when the noise cannot be measured.
    #[serde(skip)]
    pub weighted: Option<Approach2Fit>,
}

/// The noise of one run's loss: the pooled spread of runs that differ only by seed
/// (same budget and size), else the pooled residuals of `fit`'s parabolas; with seeds,
/// each budget that has them also gets its own pooled spread.
fn noise(c: &Columns, budgets: &[Budget], fit: &Approach2Fit) -> Option<Noise> {
    let (mut ss, mut dof) = (0.0, 0usize);
    let mut own = Vec::with_capacity(budgets.len());
    for b in budgets {
        let (mut ss_b, mut dof_b) = (0.0, 0usize);
        for s in sizes(&c.n, &b.indices)
            .iter()
            .filter(|s| s.indices.len() > 1)
        {
            let losses: Vec<f64> = s.indices.iter().map(|&i| c.loss[i]).collect();
            let (_, sd) = mean_sd(&losses);
            ss_b += sd * sd * (losses.len() - 1) as f64;
            dof_b += losses.len() - 1;
        }
        own.push((dof_b > 0 && ss_b > 0.0).then(|| (ss_b / dof_b as f64).sqrt()));
        ss += ss_b;
        dof += dof_b;
    }
    let from = if dof > 0 {
        "seeds"
    } else {
        for p in &fit.profiles {
            ss += p.residuals.0;
            dof += p.residuals.1;
        }
        "residuals"
    };
    (dof > 0 && ss > 0.0).then(|| {
        let sd = (ss / dof as f64).sqrt();
        Noise {
            sd,
            from: from.into(),
            dof,
            by_budget: if from == "seeds" {
                own.into_iter().map(|o| o.unwrap_or(sd)).collect()
            } else {
                Vec::new()
            },
            shared: 0.0,
            shared_pairs: 0,
            model_misfit: 0.0,
        }
    })
}

/// Whether the profiles' pooled lack-of-fit test rejects at 0.05: `F = (Σ SS_lack / Σ
/// df_lack) / (Σ SS_pure / Σ df_pure)` over the profiles with a test, on
/// `(Σ df_lack, Σ df_pure)` degrees of freedom. `false` without a test.
pub fn profiles_reject(profiles: &[super::Profile]) -> bool {
    pooled_lack_of_fit(profiles).is_some_and(|(_, p)| p < 0.05)
}

/// The profiles' pooled lack-of-fit F and its p-value (see [`profiles_reject`]).
pub fn pooled_lack_of_fit(profiles: &[super::Profile]) -> Option<(f64, f64)> {
    use statrs::distribution::{ContinuousCDF, FisherSnedecor};
    let [lack, df_lack, pure, df_pure] = profiles
        .iter()
        .filter_map(|p| p.lack_of_fit.as_ref())
        .fold([0.0; 4], |[l, dl, p, dp], t| {
            let df = t.points.saturating_sub(t.params) as f64;
            let dfp = t.runs.saturating_sub(t.points) as f64;
            let ms_pure = t.seed_sd * t.seed_sd;
            [l + t.f * ms_pure * df, dl + df, p + ms_pure * dfp, dp + dfp]
        });
    if !(df_lack > 0.0 && df_pure > 0.0 && pure > 0.0) {
        return None;
    }
    let f = (lack / df_lack) / (pure / df_pure);
    let p = FisherSnedecor::new(df_lack, df_pure).ok()?.sf(f);
    Some((f, p))
}

/// The SD by which the profiles' parabolas miss their sizes beyond the seeds' scatter:
/// `τ² = Σ_b df_b·(MS_lack,b − MS_pure,b)/k_b / Σ_b df_b` over the profiles with a
/// lack-of-fit test (`df_b` = sizes − 3, `k_b` runs per size), cut at 0. Under a term
/// per size of variance τ² and seed noise σ², a profile's `E[MS_lack] = σ² + k·τ²` and
/// `E[MS_pure] = σ²` (Draper & Smith §2.1), so each summand estimates τ² without bias.
/// Read as a misfit per model it also takes in the parabola's own misses of a smooth
/// asymmetric profile, small within a window of five sizes.
pub(crate) fn profile_misfit(profiles: &[super::Profile]) -> f64 {
    let (num, den) =
        profiles
            .iter()
            .filter_map(|p| p.lack_of_fit.as_ref())
            .fold((0.0, 0.0), |(num, den), t| {
                let df = t.points.saturating_sub(t.params) as f64;
                let pure = t.seed_sd * t.seed_sd;
                let k = t.runs as f64 / t.points as f64;
                (num + df * (t.f * pure - pure) / k, den + df)
            });
    if den > 0.0 {
        (num / den).max(0.0).sqrt()
    } else {
        0.0
    }
}

/// The share of a run's seed variance that its family's runs at other budgets share:
/// each run's deviation from its point's seed mean, over its budget's seed SD `sd`,
/// correlated over the pairs of one family's runs (`family[i]` numbers run `i`'s family)
/// and clipped to `[0, 1)`; with the pairs counted. `(0, 0)` without seeds or pairs.
fn shared_share(c: &Columns, budgets: &[Budget], sd: &[f64], family: &[usize]) -> (f64, usize) {
    // Standardised deviations of the runs that have seeds beside them.
    let mut z: Vec<Option<f64>> = vec![None; c.loss.len()];
    for b in budgets {
        for s in sizes(&c.n, &b.indices)
            .iter()
            .filter(|s| s.indices.len() > 1)
        {
            let losses: Vec<f64> = s.indices.iter().map(|&i| c.loss[i]).collect();
            let (mean, _) = mean_sd(&losses);
            for &i in &s.indices {
                z[i] = (sd[i] > 0.0).then(|| (c.loss[i] - mean) / sd[i]);
            }
        }
    }
    let (mut square, mut terms) = (0.0, 0usize);
    let (mut product, mut pairs) = (0.0, 0usize);
    for g in crate::points::groups(family) {
        let zs: Vec<f64> = g.iter().filter_map(|&i| z[i]).collect();
        square += zs.iter().map(|v| v * v).sum::<f64>();
        terms += zs.len();
        for (j, a) in zs.iter().enumerate() {
            for b in &zs[j + 1..] {
                product += a * b;
                pairs += 1;
            }
        }
    }
    if pairs == 0 || square <= 0.0 {
        return (0.0, 0);
    }
    let rho = (product / pairs as f64) / (square / terms as f64);
    (rho.clamp(0.0, 0.99), pairs)
}

/// One resample's minima: `ln N_opt` and `ln D_opt` of each budget that `fit` used, or
/// `None` if one of them is no longer usable.
fn resample(
    c: &Columns,
    budgets: &[Budget],
    fit: &Approach2Fit,
    noise: &Draw,
    r: usize,
    seed: u64,
) -> Option<Vec<[f64; 2]>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(r as u64);
    let shared: Vec<f64> = if noise.shared > 0.0 {
        let mut family_rng = ChaCha8Rng::seed_from_u64(seed);
        family_rng.set_stream(FAMILY_STREAMS + r as u64);
        let count = noise.family.iter().max().map_or(0, |f| f + 1);
        (0..count)
            .map(|_| StandardNormal.sample(&mut family_rng))
            .collect()
    } else {
        Vec::new()
    };
    let by_model: Vec<f64> = if noise.model_misfit > 0.0 {
        let mut model_rng = ChaCha8Rng::seed_from_u64(seed);
        model_rng.set_stream(MODEL_STREAMS + r as u64);
        let count = noise.model.iter().max().map_or(0, |m| m + 1);
        (0..count)
            .map(|_| {
                let z: f64 = StandardNormal.sample(&mut model_rng);
                noise.model_misfit * z
            })
            .collect()
    } else {
        Vec::new()
    };
    let own = (1.0 - noise.shared).sqrt();
    let loss: Vec<f64> = c
        .loss
        .iter()
        .zip(&noise.sd)
        .enumerate()
        .map(|(i, (l, sd))| {
            let z: f64 = StandardNormal.sample(&mut rng);
            let model = by_model.get(noise.model[i]).copied().unwrap_or(0.0);
            if shared.is_empty() {
                l + sd * z + model
            } else {
                l + sd * (own * z + noise.shared.sqrt() * shared[noise.family[i]]) + model
            }
        })
        .collect();
    let again = profiles(c, &loss, budgets, fit.rule).ok()?;
    fit.profiles
        .iter()
        .zip(&again)
        .filter(|(p, _)| p.usable())
        .map(|(_, q)| match (q.usable(), q.n_opt, q.d_opt) {
            (true, Some(n), Some(d)) => Some([n.ln(), d.ln()]),
            _ => None,
        })
        .collect()
}

/// What one resample draws: each run's SD, its family, the family's share, each run's
/// model and the SD of the term per model.
struct Draw {
    sd: Vec<f64>,
    family: Vec<usize>,
    shared: f64,
    model: Vec<usize>,
    model_misfit: f64,
}

/// Bootstraps approach 2 as fitted in `fit` (unweighted, from [`super::fit_approach2`])
/// by adding the measured noise to every run's loss. `families` numbers each point's
/// family (as [`crate::family_ids`] does); only the wild methods read it (approach 2's
/// noise is drawn per run and per family under [`Resampling::WildModels`] too: a profile's
/// fit has no law whose misfit its seeds could share).
pub fn bootstrap_approach2(
    points: &Points,
    families: &[usize],
    budgets: &[Budget],
    fit: &Approach2Fit,
    options: &BootstrapOptions,
) -> Approach2Bootstrap {
    let c = Columns::of(points);
    let Some(mut noise) = noise(&c, budgets, fit) else {
        return Approach2Bootstrap {
            a: None,
            b: None,
            ratio: None,
            resamples: 0,
            failed: 0,
            unreliable: true,
            noise: None,
            weighted: None,
        };
    };
    // Each run's SD: its budget's own with seeds, else the pooled one.
    let mut sd = vec![noise.sd; c.loss.len()];
    for (b, &own) in budgets.iter().zip(&noise.by_budget) {
        for &i in &b.indices {
            sd[i] = own;
        }
    }
    // Numbered in order of first appearance, one family term each.
    let family = crate::family_ids(families.iter());
    let wild = matches!(
        options.resampling,
        Resampling::WildFamilies | Resampling::WildModels
    );
    if wild && family.len() == sd.len() {
        (noise.shared, noise.shared_pairs) = shared_share(&c, budgets, &sd, &family);
    }
    let draw_misfit = match options.approach2_misfit {
        Approach2Misfit::Off => false,
        Approach2Misfit::PerModel => true,
        Approach2Misfit::Auto => profiles_reject(&fit.profiles),
    };
    if draw_misfit && noise.from == "seeds" {
        noise.model_misfit = profile_misfit(&fit.profiles);
    }
    let draw = Draw {
        sd,
        family,
        shared: noise.shared,
        model: crate::family_ids(c.n.iter().map(|n| n.to_bits())),
        model_misfit: noise.model_misfit,
    };
    let draws: Vec<Option<Vec<[f64; 2]>>> = (0..options.resamples)
        .into_par_iter()
        .map(|r| resample(&c, budgets, fit, &draw, r, options.seed))
        .collect();
    let failed = draws.iter().filter(|d| d.is_none()).count();
    let ok: Vec<Vec<[f64; 2]>> = draws.into_iter().flatten().collect();
    let used: Vec<usize> = (0..fit.profiles.len())
        .filter(|&k| fit.profiles[k].usable())
        .collect();
    let se: Vec<f64> = (0..used.len())
        .map(|j| mean_sd(&ok.iter().map(|m| m[j][0]).collect::<Vec<_>>()).1)
        .collect();
    let weighted = weighted_fit(fit, &used, &se);
    let top = fit.top_budget();
    let w = weights(fit.profiles.len(), &used, &se);
    let exponents = |m: &Vec<[f64; 2]>| -> Option<[f64; 3]> {
        let refit = fit.relined(&used, m, w.as_deref())?;
        Some([refit.a, refit.b, refit.optimum_at(top)[2]])
    };
    let ab: Vec<[f64; 3]> = ok.iter().filter_map(exponents).collect();
    let failed = failed + ok.len() - ab.len();
    let column = |q: usize| Spread::of(&ab.iter().map(|r| r[q]).collect::<Vec<_>>());
    Approach2Bootstrap {
        a: column(0),
        b: column(1),
        ratio: column(2),
        resamples: ab.len(),
        failed,
        unreliable: failed as f64 > MOST_FAILED * options.resamples as f64,
        noise: Some(noise),
        weighted,
    }
}

/// One weight per profile: `1/se²` for the used ones (1 for the others, which the lines
/// leave out); `None` when a standard error is not positive and finite.
fn weights(profiles: usize, used: &[usize], se: &[f64]) -> Option<Vec<f64>> {
    if se.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
        return None;
    }
    let mut w = vec![1.0; profiles];
    for (j, &k) in used.iter().enumerate() {
        w[k] = 1.0 / (se[j] * se[j]);
    }
    Some(w)
}

/// `fit`'s lines weighted by the budgets' standard errors `se`, each profile carrying
/// its own.
fn weighted_fit(fit: &Approach2Fit, used: &[usize], se: &[f64]) -> Option<Approach2Fit> {
    let w = weights(fit.profiles.len(), used, se)?;
    let mut profiles = fit.profiles.clone();
    for (j, &k) in used.iter().enumerate() {
        profiles[k].ln_n_opt_se = Some(se[j]);
    }
    lines(profiles, Some(&w), fit.rule).ok()
}
