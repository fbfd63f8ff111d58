//! Approach 2's reading of a law: what approach 2 would report if every run's loss were
//! the law's own.
//!
//! A parabola in `ln N` puts the minimum of an asymmetric profile off-centre. Under the
//! Chinchilla form a profile is `E + P·e^(−αx) + Q·e^(βx)` in `x = ln N`, whose third
//! derivative over its second at the minimum is `β − α`, so a parabola through sizes
//! spread over a window reads the minimum low in N by about `(β − α)·m₄/(6·m₂)`, where
//! `m₂` and `m₄` are the window's second and fourth moments in `x`: on a design with
//! sizes 1.5× apart, D*/N* about 10% high. Comparing approach 2 with the law's true
//! optimum then mixes that design bias into the test of whether the two agree. The like-
//! for-like reference is this reading: the same sizes in each window, the same
//! parabolas, the same (weighted) lines through the minima, on the law's noise-free
//! losses.

use super::profile::{fit_curve, minimum};
use super::{Approach2Fit, Budget};
use crate::{ChinchillaLaw, IsoPath, Points};

/// Approach 2's fit, with what it needs to be repeated on a law's losses.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    fit: Approach2Fit,
    /// The profiles whose minima entered the lines.
    used: Vec<UsedProfile>,
    /// Their indices among the fit's profiles.
    indices: Vec<usize>,
    /// The lines' weights, one per profile, when the fit's lines were weighted.
    weights: Option<Vec<f64>>,
}

/// One profile whose minimum entered approach 2's lines.
#[derive(Debug, Clone, PartialEq)]
struct UsedProfile {
    /// The runs of its window, as `(N, D)`.
    window: Vec<(f64, f64)>,
    /// The curve its runs trace.
    path: IsoPath,
}

impl Reading {
    /// The reading of `fit`, made from `points` grouped into `budgets` (the budgets the
    /// fit's profiles were located on, in the same order); `None` when they do not match
    /// or fewer than two profiles entered the lines.
    pub fn new(points: &Points, budgets: &[Budget], fit: &Approach2Fit) -> Option<Self> {
        if budgets.len() != fit.profiles.len() {
            return None;
        }
        let p = points.as_slice();
        let within = |n: f64, [lo, hi]: [f64; 2]| n >= lo * (1.0 - 1e-9) && n <= hi * (1.0 + 1e-9);
        let (indices, used): (Vec<usize>, Vec<UsedProfile>) = fit
            .profiles
            .iter()
            .zip(budgets)
            .enumerate()
            .filter(|(_, (profile, _))| profile.usable())
            .map(|(k, (profile, budget))| {
                let runs: Vec<(f64, f64)> =
                    budget.indices.iter().map(|&i| (p[i].n, p[i].d)).collect();
                let window = runs
                    .iter()
                    .copied()
                    .filter(|&(n, _)| within(n, profile.window))
                    .collect();
                let path = IsoPath::through(&runs, budget.c)?;
                Some((k, UsedProfile { window, path }))
            })
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .unzip();
        let weights = fit.weighted.then(|| {
            fit.profiles
                .iter()
                .map(|p| p.ln_n_opt_se.map_or(1.0, |se| 1.0 / (se * se)))
                .collect()
        });
        (used.len() >= 2).then(|| Self {
            fit: fit.clone(),
            used,
            indices,
            weights,
        })
    }

    /// The budget at which the reading is taken: approach 2's top budget.
    pub fn top(&self) -> f64 {
        self.fit.top_budget()
    }

    /// `(N*, D*)` at the top budget as approach 2 reads them off `law`'s losses; `None`
    /// when a window's parabola is not convex or the lines cannot be fitted.
    pub fn optimum(&self, law: &ChinchillaLaw) -> Option<(f64, f64)> {
        let minima = self
            .used
            .iter()
            .map(|UsedProfile { window, path }| {
                let x: Vec<f64> = window.iter().map(|p| p.0.ln()).collect();
                let y: Vec<f64> = window.iter().map(|&(n, d)| law.loss(n, d)).collect();
                let (c, cubic) = fit_curve(&x, &y, self.fit.rule)?;
                let x = minimum(c, cubic)?;
                Some([x, path.log_d(x)])
            })
            .collect::<Option<Vec<_>>>()?;
        let refit = self
            .fit
            .relined(&self.indices, &minima, self.weights.as_deref())?;
        let [n, d, _] = refit.optimum_at(self.top());
        Some((n, d))
    }
}
