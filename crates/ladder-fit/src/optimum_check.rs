//! The held-out check of the compute optimum: approach 3 fitted on the budgets up to
//! `C_max / k` predicts the top budget's optimal loss, `N*` and `D*`; the top budget's
//! observed IsoFLOP minimum (approach 2's rule there) is the answer, and a naive
//! baseline, power laws in C through the smaller budgets' own minima, is the bar the law
//! has to clear. A law that does not beat a straight line through two minima has not
//! shown that it extrapolates.

use serde::{Deserialize, Serialize};

use crate::approach2::{locate_in, MinimumRule, Profile};
use crate::{
    approach2_budgets, fit_approach3, Approach3Options, Budget, Dataset, FitError, Point, Points,
};

/// A compute optimum: its loss, size and tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Optimum {
    /// The loss at the optimum.
    #[serde(deserialize_with = "crate::json::number")]
    pub loss: f64,
    /// Parameters.
    #[serde(rename = "N")]
    #[serde(deserialize_with = "crate::json::number")]
    pub n: f64,
    /// Training tokens.
    #[serde(rename = "D")]
    #[serde(deserialize_with = "crate::json::number")]
    pub d: f64,
}

/// A predicted optimum and its relative errors against the observed one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Predicted {
    /// The prediction.
    #[serde(flatten)]
    pub optimum: Optimum,
    /// `(predicted − observed) / observed` of the loss.
    #[serde(deserialize_with = "crate::json::number")]
    pub loss_error: f64,
    /// The same of N.
    #[serde(deserialize_with = "crate::json::number")]
    pub n_error: f64,
    /// The same of D.
    #[serde(deserialize_with = "crate::json::number")]
    pub d_error: f64,
}

impl Predicted {
    fn against(optimum: Optimum, observed: &Optimum) -> Self {
        let rel = |p: f64, o: f64| (p - o) / o;
        Self {
            loss_error: rel(optimum.loss, observed.loss),
            n_error: rel(optimum.n, observed.n),
            d_error: rel(optimum.d, observed.d),
            optimum,
        }
    }
}

/// The held-out check of the top budget's optimum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimumCheck {
    /// Budgets up to `C_max / k` were fitted.
    #[serde(deserialize_with = "crate::json::number")]
    pub k: f64,
    /// The top budget.
    #[serde(rename = "C")]
    #[serde(deserialize_with = "crate::json::number")]
    pub c: f64,
    /// Budgets fitted, and their points.
    pub fitted_budgets: usize,
    /// Points fitted.
    pub fitted_points: usize,
    /// The top budget's observed IsoFLOP minimum.
    pub observed: Optimum,
    /// Approach 3 on the small budgets, at the top budget.
    pub law: Predicted,
    /// Power laws in C through the small budgets' minima, at the top budget.
    pub baseline: Predicted,
    /// Whether the law's optimal loss is closer to the observed one than the baseline's.
    pub law_beats_baseline: bool,
}

/// A profile's minimum as an [`Optimum`], if it is usable.
fn observed(p: &Profile) -> Option<Optimum> {
    match (p.usable(), p.loss_min, p.n_opt, p.d_opt) {
        (true, Some(loss), Some(n), Some(d)) => Some(Optimum { loss, n, d }),
        _ => None,
    }
}

/// The value at `x` of the least-squares line through `(xs, ys)` in log space.
fn power_law_at(xs: &[f64], ys: &[f64], x: f64) -> f64 {
    let lx: Vec<f64> = xs.iter().map(|v| v.ln()).collect();
    let ly: Vec<f64> = ys.iter().map(|v| v.ln()).collect();
    let n = lx.len() as f64;
    let (mx, my) = (lx.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
    let sxx: f64 = lx.iter().map(|v| (v - mx).powi(2)).sum();
    let sxy: f64 = lx.iter().zip(&ly).map(|(a, b)| (a - mx) * (b - my)).sum();
    (my + sxy / sxx * (x.ln() - mx)).exp()
}

/// Fits approach 3 on the budgets up to `C_max / k` and checks its optimum at the top
/// budget against the minimum observed there and against the baseline; minima are
/// located by `rule`. Needs two or more small budgets with a bracketed minimum, and a
/// bracketed minimum at the top.
pub fn check_optimum(
    data: &Dataset,
    k: f64,
    tolerance: f64,
    rule: MinimumRule,
    options: &Approach3Options,
) -> Result<OptimumCheck, FitError> {
    let budgets = approach2_budgets(data, tolerance);
    let Some(top) = budgets.last() else {
        return Err(FitError::NoHeldOut { c_cut: 0.0 });
    };
    let small: Vec<&Budget> = budgets
        .iter()
        .filter(|b| crate::held_in(b.c, top.c, k))
        .collect();
    let located = |b: &Budget| locate_in(&data.points, b, rule).ok();
    let observed_top = located(top)
        .as_ref()
        .and_then(observed)
        .ok_or(FitError::NoMinimum { budget: top.c })?;
    let minima: Vec<(f64, Optimum)> = small
        .iter()
        .filter_map(|b| Some((b.c, observed(&located(b)?)?)))
        .collect();
    if minima.len() < 2 {
        return Err(FitError::TooFewBudgets {
            usable: minima.len(),
            total: small.len(),
        });
    }
    let pts = data.points.as_slice();
    let fit_points: Vec<Point> = small
        .iter()
        .flat_map(|b| b.indices.iter().map(|&i| pts[i]))
        .collect();
    let fitted_points = fit_points.len();
    let fit = fit_approach3(&Points::new(fit_points)?, options)?;
    let (n, d) = fit.law.compute_optimal(top.c);
    let law = Optimum {
        loss: fit.law.loss(n, d),
        n,
        d,
    };
    let cs: Vec<f64> = minima.iter().map(|m| m.0).collect();
    let along = |f: fn(&Optimum) -> f64| {
        let ys: Vec<f64> = minima.iter().map(|m| f(&m.1)).collect();
        power_law_at(&cs, &ys, top.c)
    };
    let baseline = Optimum {
        loss: along(|o| o.loss),
        n: along(|o| o.n),
        d: along(|o| o.d),
    };
    let (law, baseline) = (
        Predicted::against(law, &observed_top),
        Predicted::against(baseline, &observed_top),
    );
    Ok(OptimumCheck {
        k,
        c: top.c,
        fitted_budgets: small.len(),
        fitted_points,
        observed: observed_top,
        law_beats_baseline: law.loss_error.abs() < baseline.loss_error.abs(),
        law,
        baseline,
    })
}
