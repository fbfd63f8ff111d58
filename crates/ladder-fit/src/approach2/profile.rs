//! One IsoFLOP profile: the loss against `ln N` at one budget, and where its minimum is.
//!
//! Hoffmann et al. 2022 (§3.2) fit a parabola to each IsoFLOP profile and take its
//! vertex. A parabola through every point of a budget is pulled off the minimum when
//! the profile is asymmetric (small or large models train badly, so one side is
//! steeper) and the sampled sizes sit unevenly around the optimum, as they do on one
//! fixed grid of sizes across budgets. The reanalyses of IsoFLOP grids (Besiroglu et
//! al. 2024; Porian et al. 2024) locate the minimum from the points near it instead.
//! [`MinimumRule::Local`] does that: a parabola in `ln N` through the size with the
//! lowest (seed-mean) loss and its [`NEIGHBOURS`] nearest sizes on each side. Within
//! that window an asymmetric profile is close to a parabola, and the window moves with
//! the minimum instead of with the grid.

use serde::{Deserialize, Serialize};

use super::budget::{sizes, Budget, Size};
use crate::stats::polyfit;
use crate::{FitError, IsoPath, LackOfFit};

/// Sizes on each side of the lowest one that [`MinimumRule::Local`] fits.
pub const NEIGHBOURS: usize = 2;

/// How each budget's minimum is located.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum MinimumRule {
    /// A parabola in `ln N` through the size with the lowest loss and its
    /// [`NEIGHBOURS`] nearest sizes on each side; a budget whose lowest loss is at its
    /// smallest or largest size does not bracket its minimum and is left out of the
    /// exponents.
    #[default]
    Local,
    /// A parabola through the size with the lowest loss and its nearest size on each
    /// side: half the local window, so a quarter of the vertex's pull by an asymmetric
    /// profile where sizes sit far apart, at the price of more noise. Edges as `Local`.
    Nearest,
    /// One parabola through every point of the budget (for comparison).
    AllPoints,
    /// A cubic in `ln N` through every point of the budget, its minimum the cubic's local
    /// minimum: no window chosen by the noise, and the profile's leading asymmetry taken
    /// in (a budget of fewer than five sizes gets the parabola through all). Edges as
    /// `Local`.
    Cubic,
}

impl MinimumRule {
    /// Sizes on each side of the lowest one that the parabola takes.
    fn neighbours(self) -> usize {
        match self {
            MinimumRule::Local => NEIGHBOURS,
            MinimumRule::Nearest => 1,
            MinimumRule::AllPoints | MinimumRule::Cubic => usize::MAX,
        }
    }
}

/// One IsoFLOP profile and its parabola.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Budget in FLOPs.
    #[serde(rename = "C")]
    #[serde(deserialize_with = "crate::json::number")]
    pub c: f64,
    /// Points the parabolas used.
    pub points: usize,
    /// `loss ≈ c0 + c1·ln N + c2·(ln N)²` (plus `cubic_log_n·(ln N)³` under
    /// [`MinimumRule::Cubic`]).
    #[serde(deserialize_with = "crate::json::numbers")]
    pub coeffs_log_n: [f64; 3],
    /// Under [`MinimumRule::Cubic`]: the coefficient of `(ln N)³`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cubic_log_n: Option<f64>,
    /// The same against `ln D` (its curvature is checked, as the profile's in `ln N` is).
    #[serde(deserialize_with = "crate::json::numbers")]
    pub coeffs_log_d: [f64; 3],
    /// Loss-minimising N (from the parabola in `ln N`); `None` if it is not convex.
    pub n_opt: Option<f64>,
    /// D at `n_opt` on the line the budget's runs trace ([`crate::IsoPath`]): `C/6N`
    /// where N counts every parameter.
    pub d_opt: Option<f64>,
    /// The parabola's minimum loss.
    pub loss_min: Option<f64>,
    /// Smallest and largest N sampled.
    #[serde(deserialize_with = "crate::json::numbers")]
    pub n_range: [f64; 2],
    /// Smallest and largest N the parabolas used (the window around the lowest loss).
    #[serde(default, deserialize_with = "crate::json::numbers")]
    pub window: [f64; 2],
    /// Whether the lowest loss is at the smallest or largest size sampled: the minimum
    /// is not bracketed, and the profile is left out of the exponents.
    #[serde(default)]
    pub edge: bool,
    /// How much of the spread of the window's mean losses (one per size, seeds averaged,
    /// so that seed noise does not count against it) the parabola in `ln N` explains;
    /// `None` with three sizes or fewer, which any parabola passes through.
    #[serde(default)]
    pub r2: Option<f64>,
    /// The noise-weighted equivalent of `r2`: the lack-of-fit test of the parabola in
    /// `ln N` against the seed noise of the window's sizes ([`LackOfFit`], 3 parameters,
    /// each size's runs a group; its misfit and seed SD in loss, the parabola's units).
    /// `None` without seeds, or with three sizes or fewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lack_of_fit: Option<LackOfFit>,
    /// Bootstrap standard error of `ln n_opt` (the weight of this budget in the line).
    #[serde(default)]
    pub ln_n_opt_se: Option<f64>,
    /// What is doubtful about this profile (not convex, minimum outside the sampled
    /// sizes, not bracketed).
    pub warnings: Vec<String>,
    /// Sum of squared residuals of the parabola in `ln N`, and its degrees of freedom.
    #[serde(skip)]
    pub(crate) residuals: (f64, usize),
}

impl Profile {
    /// Whether the profile's minimum enters the fit of the exponents: convex, and
    /// bracketed by the sampled sizes.
    pub fn usable(&self) -> bool {
        self.n_opt.is_some() && self.d_opt.is_some() && !self.edge
    }

    /// The fitted curve's loss at `ln N`.
    pub fn loss_at(&self, ln_n: f64) -> f64 {
        curve_at(self.coeffs_log_n, self.cubic_log_n, ln_n)
    }
}

/// `c0 + c1·x + c2·x² (+ c3·x³)`.
fn curve_at(c: [f64; 3], cubic: Option<f64>, x: f64) -> f64 {
    c[0] + c[1] * x + c[2] * x * x + cubic.map_or(0.0, |c3| c3 * x * x * x)
}

/// The curve `rule` fits through `(x, y)`: a parabola's coefficients, and under
/// [`MinimumRule::Cubic`] with five distinct `x` or more the cubic's `x³` coefficient.
pub(crate) fn fit_curve(
    x: &[f64],
    y: &[f64],
    rule: MinimumRule,
) -> Option<([f64; 3], Option<f64>)> {
    let mut distinct: Vec<f64> = x.to_vec();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    if rule == MinimumRule::Cubic && distinct.len() >= 5 {
        let c = polyfit(x, y, 3)?;
        return Some(([c[0], c[1], c[2]], Some(c[3])));
    }
    let c = polyfit(x, y, 2)?;
    Some(([c[0], c[1], c[2]], None))
}

/// The curve's minimum: a parabola's vertex if convex, a cubic's local minimum if it has
/// one.
pub(crate) fn minimum(c: [f64; 3], cubic: Option<f64>) -> Option<f64> {
    let Some(c3) = cubic.filter(|c3| *c3 != 0.0) else {
        return vertex(c);
    };
    // Roots of 3·c3·x² + 2·c2·x + c1, the stable way; the minimum is the one where
    // 2·c2 + 6·c3·x > 0.
    let (a, b, k) = (3.0 * c3, 2.0 * c[2], c[1]);
    let disc = b * b - 4.0 * a * k;
    if disc.is_nan() || disc <= 0.0 {
        return None;
    }
    let q = -0.5 * (b + b.signum() * disc.sqrt());
    [q / a, k / q]
        .into_iter()
        .find(|x| x.is_finite() && 2.0 * c[2] + 6.0 * c3 * x > 0.0)
}

/// A size's loss averaged over its runs (its seeds).
fn mean_loss(s: &Size, loss: &[f64]) -> f64 {
    s.indices.iter().map(|&i| loss[i]).sum::<f64>() / s.indices.len() as f64
}

/// The sizes the parabola of `rule` uses, and whether the lowest loss is at an edge.
fn window<'s>(sizes: &'s [Size], loss: &[f64], rule: MinimumRule) -> (&'s [Size], bool) {
    if rule == MinimumRule::AllPoints {
        return (sizes, false);
    }
    let mean = |s: &Size| mean_loss(s, loss);
    let lowest = (0..sizes.len())
        .min_by(|&a, &b| mean(&sizes[a]).total_cmp(&mean(&sizes[b])))
        .unwrap_or(0);
    let edge = lowest == 0 || lowest + 1 == sizes.len();
    if rule == MinimumRule::Cubic {
        return (sizes, edge);
    }
    // Three sizes at least: at an edge, the three nearest it.
    let side = rule.neighbours();
    let lo = lowest
        .saturating_sub(side)
        .min(sizes.len().saturating_sub(3));
    let hi = (lowest + side + 1).min(sizes.len()).max(lo + 3);
    (&sizes[lo..hi], edge)
}

/// The vertex of a parabola `[c0, c1, c2]`, if it is convex.
pub(crate) fn vertex(c: [f64; 3]) -> Option<f64> {
    (c[2] > 0.0).then(|| -c[1] / (2.0 * c[2]))
}

/// Locates the minimum of `budget`'s profile (points given as `n`, `d`, `loss`) by
/// `rule`.
pub(crate) fn locate(
    n: &[f64],
    d: &[f64],
    loss: &[f64],
    budget: &Budget,
    rule: MinimumRule,
) -> Result<Profile, FitError> {
    let all = sizes(n, &budget.indices);
    let narrow = || FitError::BudgetTooNarrow {
        budget: budget.c,
        sizes: all.len(),
    };
    if all.len() < 3 {
        return Err(narrow());
    }
    let (used, edge) = window(&all, loss, rule);
    let idx: Vec<usize> = used
        .iter()
        .flat_map(|s| s.indices.iter().copied())
        .collect();
    let y: Vec<f64> = idx.iter().map(|&i| loss[i]).collect();
    let log_n: Vec<f64> = idx.iter().map(|&i| n[i].ln()).collect();
    let log_d: Vec<f64> = idx.iter().map(|&i| d[i].ln()).collect();
    let (cn, cubic) = fit_curve(&log_n, &y, rule).ok_or_else(narrow)?;
    let cd = polyfit(&log_d, &y, 2).ok_or_else(narrow)?;
    let cd = [cd[0], cd[1], cd[2]];
    let params = 3 + usize::from(cubic.is_some());
    let residuals: Vec<f64> = log_n
        .iter()
        .zip(&y)
        .map(|(x, y)| y - curve_at(cn, cubic, *x))
        .collect();
    let rss = residuals.iter().map(|r| r * r).sum();
    let r2 = r_squared(used, loss, cn, cubic);
    // Each size's runs, as positions in `residuals` (which follow `used`'s order).
    let mut next = 0;
    let groups: Vec<Vec<usize>> = used
        .iter()
        .map(|s| {
            let g = (next..next + s.indices.len()).collect();
            next += s.indices.len();
            g
        })
        .collect();
    let lack_of_fit = LackOfFit::new(&residuals, &groups, params);
    let xn = minimum(cn, cubic);
    // D at the minimum is the budget's own D there, on the line its runs trace (under
    // N = non-embedding not `C/6N`), so that the minimum is a point of the profile: a
    // separate parabola in ln D puts its vertex elsewhere wherever the profile is not
    // a parabola.
    let runs: Vec<(f64, f64)> = budget.indices.iter().map(|&i| (n[i], d[i])).collect();
    let path = IsoPath::through(&runs, budget.c).ok_or_else(narrow)?;
    let n_range = [all[0].ln_n.exp(), all[all.len() - 1].ln_n.exp()];
    Ok(Profile {
        c: budget.c,
        points: idx.len(),
        coeffs_log_n: cn,
        cubic_log_n: cubic,
        coeffs_log_d: cd,
        n_opt: xn.map(f64::exp),
        d_opt: xn.map(|x| path.log_d(x).exp()),
        loss_min: xn.map(|x| curve_at(cn, cubic, x)),
        n_range,
        window: [used[0].ln_n.exp(), used[used.len() - 1].ln_n.exp()],
        edge,
        r2,
        lack_of_fit,
        ln_n_opt_se: None,
        warnings: warnings([cn, cd], cubic, xn, n_range, edge),
        residuals: (rss, idx.len().saturating_sub(params)),
    })
}

/// R² of the parabola `c` (in `ln N`) over the mean loss of each size in `used`; `None`
/// when those means do not vary, or are only three (a parabola passes through them).
fn r_squared(used: &[Size], loss: &[f64], c: [f64; 3], cubic: Option<f64>) -> Option<f64> {
    if used.len() <= 3 + usize::from(cubic.is_some()) {
        return None;
    }
    let means: Vec<(f64, f64)> = used.iter().map(|s| (s.ln_n, mean_loss(s, loss))).collect();
    let mean = means.iter().map(|p| p.1).sum::<f64>() / means.len() as f64;
    let total: f64 = means.iter().map(|p| (p.1 - mean).powi(2)).sum();
    let rss: f64 = means
        .iter()
        .map(|&(x, y)| (y - curve_at(c, cubic, x)).powi(2))
        .sum();
    (total > 0.0).then(|| 1.0 - rss / total)
}

/// What is doubtful about a profile with parabolas `coeffs` (in `ln N`, `ln D`).
fn warnings(
    coeffs: [[f64; 3]; 2],
    cubic: Option<f64>,
    xn: Option<f64>,
    n_range: [f64; 2],
    edge: bool,
) -> Vec<String> {
    let mut warnings = Vec::new();
    if cubic.is_some() && xn.is_none() {
        warnings.push(
            "the cubic against log N has no local minimum: left out of the fit of the exponent"
                .into(),
        );
    }
    for (c, what) in coeffs.iter().zip(["N", "D"]) {
        if what == "N" && cubic.is_some() {
            continue;
        }
        if c[2] <= 0.0 {
            warnings.push(format!(
                "the profile against log {what} is not convex (curvature {:.3e}): no minimum, \
                 left out of the fit of the exponent",
                c[2]
            ));
        }
    }
    if edge {
        warnings.push(
            "the lowest loss is at the smallest or largest size sampled: the minimum is not \
             bracketed, left out of the fit of the exponents; add sizes on that side"
                .into(),
        );
    }
    if let Some(n) = xn.map(f64::exp) {
        if n < n_range[0] || n > n_range[1] {
            warnings.push(format!(
                "N_opt = {n:.3e} lies outside the sampled sizes [{:.3e}, {:.3e}]: an \
                 extrapolated minimum; add sizes on that side",
                n_range[0], n_range[1]
            ));
        }
    }
    warnings
}
