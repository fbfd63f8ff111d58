//! Chinchilla approach 2 (Hoffmann et al. 2022, §3.2): at each compute budget, fit a
//! parabola to the final loss against log N (and against log D); its minimum is the
//! compute-optimal size at that budget. A least-squares line through
//! `(log C, log N_opt)` then gives `a` in `N_opt ∝ C^a` (and `b` for `D_opt`).

use serde::{Deserialize, Serialize};

use crate::bootstrap::{bootstrap, BootstrapOptions};
use crate::stats::polyfit;
use crate::{FitError, Points, Spread};

/// Points that share a compute budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    /// The budget in FLOPs (the label the points carry).
    pub c: f64,
    /// Indices of its points.
    pub indices: Vec<usize>,
}

/// Groups points by budget label: sorted by `labels`, a new group starts where a label
/// exceeds the first of the current group by more than the relative `tolerance`.
pub fn group_budgets(labels: &[f64], tolerance: f64) -> Vec<Budget> {
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by(|&a, &b| labels[a].total_cmp(&labels[b]));
    let mut groups: Vec<Budget> = Vec::new();
    for i in order {
        match groups.last_mut() {
            Some(g) if labels[i] <= g.c * (1.0 + tolerance) => g.indices.push(i),
            _ => groups.push(Budget {
                c: labels[i],
                indices: vec![i],
            }),
        }
    }
    // Label each group by the geometric mean of its members.
    for g in &mut groups {
        let mean_log =
            g.indices.iter().map(|&i| labels[i].ln()).sum::<f64>() / g.indices.len() as f64;
        g.c = mean_log.exp();
    }
    groups
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
    /// `loss ≈ c0 + c1·ln N + c2·(ln N)²`.
    #[serde(deserialize_with = "crate::json::numbers")]
    pub coeffs_log_n: [f64; 3],
    /// The same against `ln D`.
    #[serde(deserialize_with = "crate::json::numbers")]
    pub coeffs_log_d: [f64; 3],
    /// Loss-minimising N (from the parabola in `ln N`); `None` if it is not convex.
    pub n_opt: Option<f64>,
    /// Loss-minimising D (from the parabola in `ln D`); `None` if it is not convex.
    pub d_opt: Option<f64>,
    /// The parabola's minimum loss.
    pub loss_min: Option<f64>,
    /// Smallest and largest N sampled.
    #[serde(deserialize_with = "crate::json::numbers")]
    pub n_range: [f64; 2],
    /// What is doubtful about this profile (minimum outside the sampled range, not
    /// convex).
    pub warnings: Vec<String>,
}

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
}

/// Fits one budget's profiles.
fn profile(points: &Points, budget: &Budget) -> Result<Profile, FitError> {
    let p = points.as_slice();
    let pts: Vec<_> = budget.indices.iter().map(|&i| p[i]).collect();
    let mut sizes: Vec<f64> = pts.iter().map(|p| p.n).collect();
    sizes.sort_by(f64::total_cmp);
    sizes.dedup();
    if sizes.len() < 3 {
        return Err(FitError::BudgetTooNarrow {
            budget: budget.c,
            sizes: sizes.len(),
        });
    }
    let loss: Vec<f64> = pts.iter().map(|p| p.loss).collect();
    let log_n: Vec<f64> = pts.iter().map(|p| p.n.ln()).collect();
    let log_d: Vec<f64> = pts.iter().map(|p| p.d.ln()).collect();
    let fit = |x: &[f64]| -> Result<[f64; 3], FitError> {
        let c = polyfit(x, &loss, 2).ok_or(FitError::BudgetTooNarrow {
            budget: budget.c,
            sizes: sizes.len(),
        })?;
        Ok([c[0], c[1], c[2]])
    };
    let (cn, cd) = (fit(&log_n)?, fit(&log_d)?);
    let n_range = [sizes[0], sizes[sizes.len() - 1]];
    let mut warnings = Vec::new();
    let vertex = |c: [f64; 3], what: &str, warnings: &mut Vec<String>| {
        if c[2] > 0.0 {
            Some(-c[1] / (2.0 * c[2]))
        } else {
            warnings.push(format!(
                "the profile against log {what} is not convex (curvature {:.3e}): no minimum, \
                 left out of the fit of the exponent",
                c[2]
            ));
            None
        }
    };
    let xn = vertex(cn, "N", &mut warnings);
    let xd = vertex(cd, "D", &mut warnings);
    if let Some(x) = xn {
        let n = x.exp();
        if n < n_range[0] || n > n_range[1] {
            warnings.push(format!(
                "N_opt = {n:.3e} lies outside the sampled sizes [{:.3e}, {:.3e}]: an \
                 extrapolated minimum; add sizes on that side",
                n_range[0], n_range[1]
            ));
        }
    }
    Ok(Profile {
        c: budget.c,
        points: pts.len(),
        coeffs_log_n: cn,
        coeffs_log_d: cd,
        n_opt: xn.map(f64::exp),
        d_opt: xd.map(f64::exp),
        loss_min: xn.map(|x| cn[0] + cn[1] * x + cn[2] * x * x),
        n_range,
        warnings,
    })
}

/// Slope and intercept of the least-squares line through `(x, y)`.
fn line(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    let c = polyfit(x, y, 1)?;
    Some((c[1], c[0]))
}

/// Fits approach 2 over `budgets` (see [`group_budgets`]). Every budget needs at least
/// three distinct model sizes, and at least two budgets need a convex profile.
pub fn fit_approach2(points: &Points, budgets: &[Budget]) -> Result<Approach2Fit, FitError> {
    let profiles = budgets
        .iter()
        .map(|b| profile(points, b))
        .collect::<Result<Vec<_>, _>>()?;
    let usable = |opt: fn(&Profile) -> Option<f64>| -> (Vec<f64>, Vec<f64>) {
        profiles
            .iter()
            .filter_map(|p| Some((p.c.ln(), opt(p)?.ln())))
            .unzip()
    };
    let (cn, n) = usable(|p| p.n_opt);
    let (cd, d) = usable(|p| p.d_opt);
    let too_few = FitError::TooFewBudgets {
        usable: cn.len().min(cd.len()),
        total: profiles.len(),
    };
    if cn.len() < 2 || cd.len() < 2 {
        return Err(too_few);
    }
    let (a, ln_kn) = line(&cn, &n).ok_or(too_few)?;
    let (b, ln_kd) = line(&cd, &d).ok_or(FitError::TooFewBudgets {
        usable: cd.len(),
        total: profiles.len(),
    })?;
    Ok(Approach2Fit {
        a,
        b,
        k_n: ln_kn.exp(),
        k_d: ln_kd.exp(),
        budgets_used: cn.len(),
        profiles,
    })
}

/// Bootstrap spreads of approach 2's exponents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approach2Bootstrap {
    /// Spread of `a`.
    pub a: Option<Spread>,
    /// Spread of `b`.
    pub b: Option<Spread>,
    /// Resamples refitted.
    pub resamples: usize,
    /// Resamples that could not be fitted (a budget left with fewer than three sizes).
    pub failed: usize,
}

/// Bootstraps approach 2, resampling points within each budget.
pub fn bootstrap_approach2(
    points: &Points,
    budgets: &[Budget],
    options: &BootstrapOptions,
) -> Approach2Bootstrap {
    let strata: Vec<Vec<usize>> = budgets.iter().map(|b| b.indices.clone()).collect();
    let draws = bootstrap(&strata, options, |idx| {
        // Rebuild the budgets over the resampled points, stratum by stratum.
        let mut start = 0;
        let mut pts = Vec::with_capacity(idx.len());
        let mut groups = Vec::with_capacity(budgets.len());
        for b in budgets {
            let take = &idx[start..start + b.indices.len()];
            groups.push(Budget {
                c: b.c,
                indices: (pts.len()..pts.len() + take.len()).collect(),
            });
            pts.extend(take.iter().map(|&i| points.as_slice()[i]));
            start += b.indices.len();
        }
        let pts = Points::new(pts).ok()?;
        let fit = fit_approach2(&pts, &groups).ok()?;
        Some(vec![fit.a, fit.b])
    });
    Approach2Bootstrap {
        a: draws.spread(0),
        b: draws.spread(1),
        resamples: draws.rows.len(),
        failed: draws.failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ChinchillaLaw, Point};

    #[test]
    fn groups_by_relative_tolerance() {
        let g = group_budgets(&[1e18, 1.0005e18, 3e18, 1e18, 2.9999e18], 1e-3);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].indices.len(), 3);
        assert!((g[1].c / 3e18 - 1.0).abs() < 1e-4);
    }

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
        let e = fit_approach2(&pts, &budgets).unwrap_err();
        assert!(
            matches!(e, FitError::BudgetTooNarrow { sizes: 1, .. }),
            "{e}"
        );
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
        let fit = fit_approach2(&points, &group_budgets(&labels, 1e-3)).unwrap();
        assert!((fit.a - law.n_exponent()).abs() < 0.01, "a {}", fit.a);
        assert!((fit.b - law.d_exponent()).abs() < 0.01, "b {}", fit.b);
        assert_eq!(fit.budgets_used, 5);
        assert!(fit.profiles.iter().all(|p| p.warnings.is_empty()));

        // Sizes all far below the optimum: the minimum is extrapolated and flagged.
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
        let points = Points::new(side).unwrap();
        let p = profile(
            &points,
            &Budget {
                c,
                indices: (0..5).collect(),
            },
        )
        .unwrap();
        assert!(
            p.warnings.iter().any(|w| w.contains("outside")),
            "{:?}",
            p.warnings
        );
    }
}
