//! Extrapolation error: fit approach 3 on the budgets up to `C_max / k`, predict the
//! held-out larger runs, and report how far off each prediction is. This is the test
//! that matters for a scaling law: whether small runs predict large ones.

use serde::{Deserialize, Serialize};

use crate::{fit_approach3, Approach3Options, Dataset, FitError, Point, Points};

/// The held-out factor k used when neither the user nor the sweep's design names one:
/// the law is fitted on the budgets up to `C_max / 4`.
pub const DEFAULT_K: f64 = 4.0;

/// One held-out run and its prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldOut {
    /// Run label.
    pub run: String,
    /// Budget label in FLOPs.
    #[serde(rename = "C")]
    #[serde(deserialize_with = "crate::json::number")]
    pub c: f64,
    /// Observed loss.
    #[serde(deserialize_with = "crate::json::number")]
    pub loss: f64,
    /// Predicted loss; `None` when the small-budget fit predicts no finite loss here.
    pub predicted: Option<f64>,
    /// `(predicted − loss) / loss`; `None` with `predicted`.
    pub rel_error: Option<f64>,
}

/// The extrapolation test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extrapolation {
    /// The factor `k`.
    #[serde(deserialize_with = "crate::json::number")]
    pub k: f64,
    /// Budgets up to this many FLOPs were fitted.
    #[serde(deserialize_with = "crate::json::number")]
    pub c_cut: f64,
    /// Points fitted.
    pub fitted_points: usize,
    /// Every held-out run.
    pub held_out: Vec<HeldOut>,
    /// Mean of the relative errors (signed: > 0 means the law predicts too high a loss);
    /// `None` when any prediction is undefined.
    pub mean_rel_error: Option<f64>,
    /// Mean of their absolute values; `None` with `mean_rel_error`.
    pub mean_abs_rel_error: Option<f64>,
    /// Why the error is undefined, when it is: the small-budget fit ran its parameters
    /// off to infinity, so it predicts no finite loss for some held-out runs.
    pub undefined: Option<String>,
}

/// Budget labels are written to a few significant digits (a config's `budgets`), so a
/// budget planned at exactly `C_max / k` (budgets √2 apart, k = 8) may read a hair above
/// it; this much relative slack keeps it on the fitted side.
const LABEL_SLACK: f64 = 1e-3;

/// Whether budget `c` is one the held-out fits use: `c ≤ C_max / k`, up to the rounding
/// of budget labels.
pub fn held_in(c: f64, c_max: f64, k: f64) -> bool {
    c <= c_max / k * (1.0 + LABEL_SLACK)
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
        (0..pts.len()).partition(|&i| held_in(data.budgets[i], c_max, k));
    if test.is_empty() {
        return Err(FitError::NoHeldOut { c_cut });
    }
    let fit_points: Vec<Point> = train.iter().map(|&i| pts[i]).collect();
    let fitted_points = fit_points.len();
    let fit = fit_approach3(&Points::new(fit_points)?, options)?;
    let held_out: Vec<HeldOut> = test
        .iter()
        .map(|&i| {
            let predicted = Some(fit.law.loss(pts[i].n, pts[i].d)).filter(|p| p.is_finite());
            HeldOut {
                run: data.runs[i].clone(),
                c: data.budgets[i],
                loss: pts[i].loss,
                predicted,
                rel_error: predicted.map(|p| (p - pts[i].loss) / pts[i].loss),
            }
        })
        .collect();
    let errors: Option<Vec<f64>> = held_out.iter().map(|h| h.rel_error).collect();
    let n = held_out.len() as f64;
    let undefined = match errors {
        Some(_) => None,
        None => Some(format!(
            "approach 3 fitted on the {fitted_points} points with C ≤ {c_cut:.3e} predicts no \
             finite loss for {} of the {} larger runs: its parameters ran off to infinity \
             (E = {:.3e}, A = {:.3e}, B = {:.3e}), so the small budgets do not identify the law \
             and the extrapolation error is undefined",
            held_out.iter().filter(|h| h.predicted.is_none()).count(),
            held_out.len(),
            fit.law.e,
            fit.law.a,
            fit.law.b,
        )),
    };
    Ok(Extrapolation {
        k,
        c_cut,
        fitted_points,
        mean_rel_error: errors.as_ref().map(|e| e.iter().sum::<f64>() / n),
        mean_abs_rel_error: errors.map(|e| e.iter().map(|x| x.abs()).sum::<f64>() / n),
        undefined,
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
        assert!(x.mean_abs_rel_error.unwrap() < 1e-4, "{x:?}");
        assert!(x.undefined.is_none());
        assert!(matches!(
            extrapolate(&data, 0.5, &Approach3Options::default()),
            Err(FitError::NoHeldOut { .. })
        ));
    }

    #[test]
    fn a_budget_planned_at_c_max_over_k_is_held_in_whichever_way_its_label_rounds() {
        // Budgets √2 apart, written to 5 significant digits: 7.0795e12 / 8 = 8.84937e11.
        assert!(held_in(8.8493e11, 7.0795e12, 8.0));
        assert!(held_in(8.8494e11, 7.0795e12, 8.0));
        // The next budget up (×√2) is held out.
        assert!(!held_in(1.2515e12, 7.0795e12, 8.0));
        assert!(!held_in(8.9e11, 7.0795e12, 8.0));
    }

    /// The first CPU lab on Gutenberg (results/lab-cpu at 1b81f39, an earlier design than
    /// results/lab-cpu-knob's): the ten runs of the two smallest budgets do not identify
    /// the law, and their fit predicts no finite loss for the larger ones. The report must
    /// say so, not print NaN.
    #[test]
    fn a_diverged_small_budget_fit_is_reported_as_undefined() {
        let rows = [
            (42144.0, 2965504.0, 4.59076, 7.5000e11),
            (62336.0, 2007040.0, 4.68394, 7.5000e11),
            (111936.0, 1118208.0, 5.01545, 7.5000e11),
            (173824.0, 720896.0, 5.25748, 7.5000e11),
            (223808.0, 557056.0, 5.40101, 7.5000e11),
            (62336.0, 6017024.0, 4.28014, 2.2500e12),
            (111936.0, 3350528.0, 4.52015, 2.2500e12),
            (173824.0, 2158592.0, 4.71621, 2.2500e12),
            (223808.0, 1675264.0, 4.79244, 2.2500e12),
            (325840.0, 1150976.0, 4.98586, 2.2500e12),
            (111936.0, 10051584.0, 4.03853, 6.7500e12),
            (173824.0, 6471680.0, 4.1591, 6.7500e12),
            (223808.0, 5025792.0, 4.19931, 6.7500e12),
            (325840.0, 3452928.0, 4.41342, 6.7500e12),
            (446304.0, 2519040.0, 4.26724, 6.7500e12),
            (223808.0, 15081472.0, 3.77162, 2.0250e13),
            (325840.0, 10358784.0, 3.75503, 2.0250e13),
            (446304.0, 7561216.0, 3.70616, 2.0250e13),
            (737184.0, 4579328.0, 3.7952, 2.0250e13),
            (940800.0, 3588096.0, 3.87919, 2.0250e13),
        ];
        let points = rows
            .iter()
            .map(|&(n, d, loss, _)| Point { n, d, loss })
            .collect();
        let data = Dataset {
            points: Points::new(points).unwrap(),
            budgets: rows.iter().map(|r| r.3).collect(),
            budgets_given: true,
            planned: None,
            entropy_rate: None,
            unit: crate::TokenUnit::Tokens,
            runs: (0..rows.len()).map(|i| format!("run{i}")).collect(),
            families: (0..rows.len()).collect(),
            curves: Vec::new(),
        };
        let x = extrapolate(&data, 8.0, &Approach3Options::default()).unwrap();
        assert_eq!((x.fitted_points, x.held_out.len()), (10, 10));
        let why = x.undefined.as_deref().expect("the fit diverges");
        assert!(
            why.contains("no finite loss") && !why.contains("NaN"),
            "{why}"
        );
        assert!(x.mean_rel_error.is_none() && x.mean_abs_rel_error.is_none());
        assert!(x
            .held_out
            .iter()
            .any(|h| h.predicted.is_none() && h.rel_error.is_none()));
        let json = serde_json::to_value(&x).unwrap();
        assert!(json["mean_rel_error"].is_null() && json["undefined"].is_string());
    }
}
