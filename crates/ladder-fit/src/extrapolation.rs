//! Extrapolation error: fit approach 3 on the budgets up to `C_max / k`, predict the
//! held-out larger runs, and report how far off each prediction is. This is the test
//! that matters for a scaling law: whether small runs predict large ones.

use serde::Serialize;

use crate::{fit_approach3, Approach3Options, Dataset, FitError, Point, Points};

/// One held-out run and its prediction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldOut {
    /// Run label.
    pub run: String,
    /// Budget label in FLOPs.
    #[serde(rename = "C")]
    pub c: f64,
    /// Observed loss.
    pub loss: f64,
    /// Predicted loss.
    pub predicted: f64,
    /// `(predicted − loss) / loss`.
    pub rel_error: f64,
}

/// The extrapolation test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extrapolation {
    /// The factor `k`.
    pub k: f64,
    /// Budgets up to this many FLOPs were fitted.
    pub c_cut: f64,
    /// Points fitted.
    pub fitted_points: usize,
    /// Every held-out run.
    pub held_out: Vec<HeldOut>,
    /// Mean of the relative errors (signed: > 0 means the law predicts too high a loss).
    pub mean_rel_error: f64,
    /// Mean of their absolute values.
    pub mean_abs_rel_error: f64,
}

/// Fits on budgets `≤ C_max / k` and predicts the rest.
pub fn extrapolate(
    data: &Dataset,
    k: f64,
    options: &Approach3Options,
) -> Result<Extrapolation, FitError> {
    let c_max = data.budgets.iter().copied().fold(0.0, f64::max);
    let c_cut = c_max / k;
    let pts = data.points.as_slice();
    let (train, test): (Vec<usize>, Vec<usize>) =
        (0..pts.len()).partition(|&i| data.budgets[i] <= c_cut);
    if test.is_empty() {
        return Err(FitError::NoHeldOut { c_cut });
    }
    let fit_points: Vec<Point> = train.iter().map(|&i| pts[i]).collect();
    let fitted_points = fit_points.len();
    let fit = fit_approach3(&Points::new(fit_points)?, options)?;
    let held_out: Vec<HeldOut> = test
        .iter()
        .map(|&i| {
            let predicted = fit.law.loss(pts[i].n, pts[i].d);
            HeldOut {
                run: data.runs[i].clone(),
                c: data.budgets[i],
                loss: pts[i].loss,
                predicted,
                rel_error: (predicted - pts[i].loss) / pts[i].loss,
            }
        })
        .collect();
    let n = held_out.len() as f64;
    Ok(Extrapolation {
        k,
        c_cut,
        fitted_points,
        mean_rel_error: held_out.iter().map(|h| h.rel_error).sum::<f64>() / n,
        mean_abs_rel_error: held_out.iter().map(|h| h.rel_error.abs()).sum::<f64>() / n,
        held_out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ChinchillaLaw;

    #[test]
    fn an_exact_law_extrapolates_exactly() {
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        let mut pts = Vec::new();
        for i in 0..8 {
            for j in 0..8 {
                let (n, d) = (1e6 * 3f64.powi(i), 1e8 * 3f64.powi(j));
                pts.push(Point {
                    n,
                    d,
                    loss: law.loss(n, d),
                });
            }
        }
        let data = Dataset::unlabelled(Points::new(pts).unwrap());
        let x = extrapolate(&data, 10.0, &Approach3Options::default()).unwrap();
        assert!(!x.held_out.is_empty() && x.fitted_points >= 5);
        assert!(x.mean_abs_rel_error < 1e-4, "{x:?}");
        assert!(matches!(
            extrapolate(&data, 0.5, &Approach3Options::default()),
            Err(FitError::NoHeldOut { .. })
        ));
    }
}
