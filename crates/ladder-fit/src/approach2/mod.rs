//! Chinchilla approach 2 (Hoffmann et al. 2022, §3.2): at each compute budget, locate
//! the loss-minimising model size on the IsoFLOP profile (see [`MinimumRule`]); a line
//! through `(ln C, ln N_opt)` then gives `a` in `N_opt ∝ C^a` (and `b` for `D_opt`).
//! With a bootstrap, the line is weighted by each budget's bootstrap variance of
//! `ln N_opt` (weighted least squares), so a noisy or flat profile counts for less.

mod bootstrap;
mod budget;
mod profile;
mod reading;

use serde::{Deserialize, Serialize};

use crate::stats::polyfit;
use crate::{FitError, Points};

pub use bootstrap::{
    bootstrap_approach2, pooled_lack_of_fit, profiles_reject, Approach2Bootstrap, Noise,
};
pub use budget::{group_budgets, group_planned, Budget};
pub use profile::{MinimumRule, Profile, NEIGHBOURS};
pub use reading::Reading;

/// The result of approach 2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approach2Fit {
    /// Exponent of `N_opt ∝ C^a`.
    #[serde(deserialize_with = "crate::json::number")]
    pub a: f64,
    /// Exponent of `D_opt ∝ C^b`.
    #[serde(deserialize_with = "crate::json::number")]
    pub b: f64,
    /// `N_opt = k_n · C^a`: the prefactor `k_n`.
    #[serde(deserialize_with = "crate::json::number")]
    pub k_n: f64,
    /// `D_opt = k_d · C^b`: the prefactor `k_d`.
    #[serde(deserialize_with = "crate::json::number")]
    pub k_d: f64,
    /// Every profile, in order of budget.
    pub profiles: Vec<Profile>,
    /// Profiles whose minima entered the line fits.
    pub budgets_used: usize,
    /// How each minimum was located.
    #[serde(default = "all_points")]
    pub rule: MinimumRule,
    /// Whether the lines are weighted by the budgets' bootstrap variances.
    #[serde(default)]
    pub weighted: bool,
}

impl Approach2Fit {
    /// The largest budget of the profiles (used or not): where approach 3's top
    /// D*/N* is read too.
    pub fn top_budget(&self) -> f64 {
        self.profiles.iter().map(|p| p.c).fold(f64::NAN, f64::max)
    }

    /// The lines fitted again with the minima of the profiles `used` replaced by
    /// `minima` (`ln N_opt`, `ln D_opt` of each, in the same order), weighted by
    /// `weights` (one per profile) when given: a bootstrap draw's, or a law's reading.
    pub(crate) fn relined(
        &self,
        used: &[usize],
        minima: &[[f64; 2]],
        weights: Option<&[f64]>,
    ) -> Option<Approach2Fit> {
        let mut profiles = self.profiles.clone();
        for (&k, m) in used.iter().zip(minima) {
            profiles[k].n_opt = Some(m[0].exp());
            profiles[k].d_opt = Some(m[1].exp());
        }
        lines(profiles, weights, self.rule).ok()
    }

    /// The compute-optimal allocation the lines give at budget `c`: `[N*, D*, D*/N*]`.
    /// Law-free: it rests on the IsoFLOP minima, not on L(N, D)'s form.
    pub fn optimum_at(&self, c: f64) -> [f64; 3] {
        let n = self.k_n * c.powf(self.a);
        let d = self.k_d * c.powf(self.b);
        [n, d, d / n]
    }
}

/// What a fit.json written before the local rule existed used.
fn all_points() -> MinimumRule {
    MinimumRule::AllPoints
}

/// Slope and intercept of the (weighted) least-squares line through `(x, y)`.
fn line(x: &[f64], y: &[f64], w: Option<&[f64]>) -> Option<(f64, f64)> {
    let Some(w) = w else {
        let c = polyfit(x, y, 1)?;
        return Some((c[1], c[0]));
    };
    let sw: f64 = w.iter().sum();
    let mx = x.iter().zip(w).map(|(x, w)| x * w).sum::<f64>() / sw;
    let my = y.iter().zip(w).map(|(y, w)| y * w).sum::<f64>() / sw;
    let sxx: f64 = x.iter().zip(w).map(|(x, w)| w * (x - mx).powi(2)).sum();
    let sxy: f64 = (0..x.len()).map(|i| w[i] * (x[i] - mx) * (y[i] - my)).sum();
    let slope = sxy / sxx;
    (sxx > 0.0 && slope.is_finite()).then_some((slope, my - slope * mx))
}

/// The points as three slices, for refits over perturbed losses.
struct Columns {
    n: Vec<f64>,
    d: Vec<f64>,
    loss: Vec<f64>,
}

impl Columns {
    fn of(points: &Points) -> Self {
        let p = points.as_slice();
        Self {
            n: p.iter().map(|p| p.n).collect(),
            d: p.iter().map(|p| p.d).collect(),
            loss: p.iter().map(|p| p.loss).collect(),
        }
    }
}

/// Every budget's profile, located by `rule` over the losses `loss`.
fn profiles(
    c: &Columns,
    loss: &[f64],
    budgets: &[Budget],
    rule: MinimumRule,
) -> Result<Vec<Profile>, FitError> {
    budgets
        .iter()
        .map(|b| profile::locate(&c.n, &c.d, loss, b, rule))
        .collect()
}

/// One budget's profile, its minimum located by `rule`.
pub(crate) fn locate_in(
    points: &Points,
    budget: &Budget,
    rule: MinimumRule,
) -> Result<Profile, FitError> {
    let c = Columns::of(points);
    profile::locate(&c.n, &c.d, &c.loss, budget, rule)
}

/// The lines through the usable profiles' minima, weighted by `weights` (one per
/// profile, ignored for the unusable ones) when given.
fn lines(
    profiles: Vec<Profile>,
    weights: Option<&[f64]>,
    rule: MinimumRule,
) -> Result<Approach2Fit, FitError> {
    let used: Vec<usize> = (0..profiles.len())
        .filter(|&k| profiles[k].usable())
        .collect();
    let too_few = || FitError::TooFewBudgets {
        usable: used.len(),
        total: profiles.len(),
    };
    if used.len() < 2 {
        return Err(too_few());
    }
    let ln_c: Vec<f64> = used.iter().map(|&k| profiles[k].c.ln()).collect();
    let pick = |f: fn(&Profile) -> Option<f64>| -> Vec<f64> {
        used.iter()
            .map(|&k| f(&profiles[k]).map_or(f64::NAN, f64::ln))
            .collect()
    };
    let w: Option<Vec<f64>> = weights.map(|w| used.iter().map(|&k| w[k]).collect());
    let (a, ln_kn) = line(&ln_c, &pick(|p| p.n_opt), w.as_deref()).ok_or_else(too_few)?;
    let (b, ln_kd) = line(&ln_c, &pick(|p| p.d_opt), w.as_deref()).ok_or_else(too_few)?;
    Ok(Approach2Fit {
        a,
        b,
        k_n: ln_kn.exp(),
        k_d: ln_kd.exp(),
        budgets_used: used.len(),
        profiles,
        rule,
        weighted: weights.is_some(),
    })
}

/// Fits approach 2 over `budgets` (see [`group_budgets`]) with minima located by
/// `rule`, unweighted. Every budget needs at least three distinct model sizes, and at
/// least two budgets a usable minimum. [`bootstrap_approach2`] gives the weighted fit.
pub fn fit_approach2(
    points: &Points,
    budgets: &[Budget],
    rule: MinimumRule,
) -> Result<Approach2Fit, FitError> {
    let c = Columns::of(points);
    lines(profiles(&c, &c.loss, budgets, rule)?, None, rule)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ChinchillaLaw, Point};

    #[test]
    fn a_budget_with_one_size_is_an_error() {
        let pts = Points::new(vec![
            Point {
                n: 1e6,
                d: 1e8,
                loss: 3.0
            };
            3
        ])
        .unwrap();
        let budgets = group_budgets(&[6e14; 3], 1e-3);
        let e = fit_approach2(&pts, &budgets, MinimumRule::Local).unwrap_err();
        assert!(
            matches!(e, FitError::BudgetTooNarrow { sizes: 1, .. }),
            "{e}"
        );
    }

    /// The profile (all points) of one budget, 6e12: sizes 1e4·2^j with mean losses
    /// `means`, two seeds each at ±`e`.
    fn two_seed_profile(means: &[f64], e: f64) -> Profile {
        let c = 6e12;
        let mut pts = Vec::new();
        for (j, &l) in means.iter().enumerate() {
            let n = 1e4 * 2f64.powi(j as i32);
            for s in [-e, e] {
                pts.push(Point {
                    n,
                    d: c / (6.0 * n),
                    loss: l + s,
                });
            }
        }
        let points = Points::new(pts).unwrap();
        let columns = Columns::of(&points);
        let budgets = group_budgets(&vec![c; 2 * means.len()], 1e-3);
        profiles(&columns, &columns.loss, &budgets, MinimumRule::AllPoints)
            .unwrap()
            .swap_remove(0)
    }

    #[test]
    fn a_zigzag_profile_has_a_low_r_squared_and_seeds_do_not_lower_it() {
        // Five sizes at one budget, zigzagging around a shallow bowl: the parabola misses
        // the means. Two seeds per size, ±0.05 apart: R² is that of the means.
        let bowl = [3.0, 2.6, 2.9, 2.55, 2.95];
        let r2 = two_seed_profile(&bowl, 0.05).r2.unwrap();
        // The means by hand: the parabola through (0..5, bowl) leaves most of their
        // spread unexplained.
        let x: Vec<f64> = (0..5).map(|j| (1e4 * 2f64.powi(j)).ln()).collect();
        let coeffs = crate::stats::polyfit(&x, &bowl, 2).unwrap();
        let fitted = |x: f64| coeffs[0] + coeffs[1] * x + coeffs[2] * x * x;
        let mean = bowl.iter().sum::<f64>() / 5.0;
        let rss: f64 = x
            .iter()
            .zip(&bowl)
            .map(|(x, y)| (y - fitted(*x)).powi(2))
            .sum();
        let total: f64 = bowl.iter().map(|y| (y - mean).powi(2)).sum();
        assert!((r2 - (1.0 - rss / total)).abs() < 1e-9, "{r2}");
        assert!(r2 < 0.5, "{r2}");
    }

    /// Five sizes equally spaced in ln N around a parabola, each mean moved by `a` times
    /// (1, −4, 6, −4, 1), which no parabola absorbs (orthogonal to 1, x, x²), two seeds
    /// ±e about each mean.
    fn zigzag_profile(a: f64, e: f64) -> Profile {
        let means: Vec<f64> = [1.0, -4.0, 6.0, -4.0, 1.0]
            .into_iter()
            .enumerate()
            .map(|(j, w)| 3.0 + 0.1 * (j as f64 - 2.0).powi(2) + a * w)
            .collect();
        two_seed_profile(&means, e)
    }

    #[test]
    fn a_profiles_lack_of_fit_weighs_the_parabolas_misfit_against_the_seeds() {
        // Five sizes equally spaced in ln N around a parabola, each mean moved by `a`
        // times (1, −4, 6, −4, 1), which no parabola absorbs (orthogonal to 1, x, x²),
        // two seeds ±e about each mean. MS_lack = 2·70a²/2, MS_pure = 10e²/5: F = 35a²/e².
        let profile = |a: f64, e: f64| zigzag_profile(a, e).lack_of_fit.unwrap();
        let misses = profile(0.01, 0.01);
        assert_eq!((misses.runs, misses.points, misses.params), (10, 5, 3));
        assert!((misses.f / 35.0 - 1.0).abs() < 1e-6, "{}", misses.f);
        assert!(misses.p < 0.01, "{}", misses.p);
        let explains = profile(0.001, 0.01);
        assert!((explains.f / 0.35 - 1.0).abs() < 1e-4, "{}", explains.f);
        assert!(explains.p > 0.5, "{}", explains.p);
    }

    #[test]
    fn the_profiles_misfit_is_their_lack_of_fit_beyond_the_seeds() {
        // As above: MS_lack = 70a², MS_pure = 2e², two runs a size, so the misfit per size
        // is τ² = (70a² − 2e²)/2 = 35a² − e²; pooled over profiles by their dof.
        let profile = zigzag_profile;
        let tau = bootstrap::profile_misfit(&[profile(0.01, 0.01)]);
        assert!((tau - (35e-4f64 - 1e-4).sqrt()).abs() < 1e-9, "{tau}");
        // Two profiles of equal dof: their τ² averaged.
        let both = bootstrap::profile_misfit(&[profile(0.01, 0.01), profile(0.02, 0.01)]);
        let want = ((35e-4 - 1e-4 + 35.0 * 4e-4 - 1e-4) / 2.0f64).sqrt();
        assert!((both - want).abs() < 1e-9, "{both} {want}");
        // Within the seeds' scatter: none; without a test (no seeds): none.
        assert_eq!(bootstrap::profile_misfit(&[profile(0.001, 0.01)]), 0.0);
        let mut untested = profile(0.01, 0.01);
        untested.lack_of_fit = None;
        assert_eq!(bootstrap::profile_misfit(&[untested]), 0.0);
    }

    #[test]
    fn weighted_line_recovers_a_line_and_follows_the_weights() {
        let x = [0.0, 1.0, 2.0, 3.0];
        let y = [1.0, 3.0, 5.0, 7.0];
        let (s, i) = line(&x, &y, Some(&[1.0, 2.0, 3.0, 4.0])).unwrap();
        assert!((s - 2.0).abs() < 1e-12 && (i - 1.0).abs() < 1e-12);
        // An outlier with almost no weight hardly moves the line.
        let y = [1.0, 3.0, 5.0, 100.0];
        let (s, _) = line(&x, &y, Some(&[1.0, 1.0, 1.0, 1e-9])).unwrap();
        assert!((s - 2.0).abs() < 1e-6, "{s}");
    }

    #[test]
    fn a_cubics_minimum_is_its_local_minimum() {
        // x³ − 3x: stationary at ±1, the minimum at +1; its mirror at −1; x³ + x has none.
        assert_eq!(profile::minimum([0.0, -3.0, 0.0], Some(1.0)), Some(1.0));
        assert_eq!(profile::minimum([0.0, 3.0, 0.0], Some(-1.0)), Some(-1.0));
        assert_eq!(profile::minimum([0.0, 1.0, 0.0], Some(1.0)), None);
        // Without a cubic term, the parabola's vertex.
        assert_eq!(profile::minimum([1.0, -4.0, 1.0], None), Some(2.0));
        assert_eq!(profile::minimum([1.0, -4.0, 1.0], Some(0.0)), Some(2.0));
    }

    /// The exact pooled depth-2 law (α 0.34, β 0.86: an asymmetric profile) at the top
    /// budget of configs/lab-gpu.toml's design, its seven sizes: a cubic through every size
    /// reads the minimum within 2% in N; the local parabola reads it 6% low.
    #[test]
    fn a_cubic_through_every_size_reads_an_asymmetric_profile_nearly_unbiased() {
        let law = ChinchillaLaw {
            e: 1.1853,
            a: 18.536,
            alpha: 0.33562,
            b: 89249.0,
            beta: 0.86151,
        };
        let c = 3.981e13;
        let sizes = [
            186560.0, 260736.0, 445952.0, 680320.0, 963840.0, 1678336.0, 2589440.0,
        ];
        let pts: Vec<Point> = sizes
            .iter()
            .map(|&n| Point {
                n,
                d: c / (6.0 * n),
                loss: law.loss(n, c / (6.0 * n)),
            })
            .collect();
        let points = Points::new(pts).unwrap();
        let columns = Columns::of(&points);
        let budgets = group_budgets(&vec![c; sizes.len()], 1e-3);
        let read = |rule| {
            let p = profiles(&columns, &columns.loss, &budgets, rule)
                .unwrap()
                .swap_remove(0);
            (p.n_opt.unwrap() / law.compute_optimal(c).0).ln()
        };
        let (local, cubic) = (read(MinimumRule::Local), read(MinimumRule::Cubic));
        assert!(cubic.abs() < 0.02, "cubic {cubic}");
        assert!(local < -0.05, "local {local}");
    }

    #[test]
    fn recovers_the_exponent_of_a_known_law_and_flags_edge_minima() {
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        let mut pts = Vec::new();
        let mut labels = Vec::new();
        for k in 0..5 {
            let c = 1e18 * 10f64.powi(k);
            let (n_opt, _) = law.compute_optimal(c);
            for j in -4..=4 {
                let n = n_opt * 10f64.powf(0.25 * j as f64);
                let d = c / (6.0 * n);
                pts.push(Point {
                    n,
                    d,
                    loss: law.loss(n, d),
                });
                labels.push(c);
            }
        }
        let points = Points::new(pts).unwrap();
        for rule in [MinimumRule::Local, MinimumRule::AllPoints] {
            let fit = fit_approach2(&points, &group_budgets(&labels, 1e-3), rule).unwrap();
            assert!(
                (fit.a - law.n_exponent()).abs() < 0.01,
                "{rule:?} a {}",
                fit.a
            );
            assert!(
                (fit.b - law.d_exponent()).abs() < 0.01,
                "{rule:?} b {}",
                fit.b
            );
            assert_eq!(fit.budgets_used, 5);
            assert!(fit.profiles.iter().all(|p| p.warnings.is_empty()));
            // Near its minimum a smooth profile is a parabola in ln N (5 sizes in the
            // local window, 9 in all).
            for p in &fit.profiles {
                assert!(p.r2.is_some_and(|r2| r2 > 0.98), "{rule:?} R² {:?}", p.r2);
            }
        }

        // Sizes all far below the optimum: the minimum is not bracketed, extrapolated,
        // and flagged.
        let c = 1e20;
        let (n_opt, _) = law.compute_optimal(c);
        let side: Vec<Point> = (1..6)
            .map(|j| {
                let n = n_opt / 10f64.powf(0.5 * j as f64);
                Point {
                    n,
                    d: c / (6.0 * n),
                    loss: law.loss(n, c / (6.0 * n)),
                }
            })
            .collect();
        let columns = Columns::of(&Points::new(side).unwrap());
        let budget = Budget {
            c,
            indices: (0..5).collect(),
        };
        let p = profile::locate(
            &columns.n,
            &columns.d,
            &columns.loss,
            &budget,
            MinimumRule::Local,
        )
        .unwrap();
        assert!(p.edge && !p.usable());
        assert!(
            p.warnings.iter().any(|w| w.contains("not bracketed")),
            "{:?}",
            p.warnings
        );
    }
}
