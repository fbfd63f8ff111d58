//! Verdicts: whether the published claims hold on these points. Every criterion is
//! here, in one place, fixed before looking at any data (docs/fitting.md, "Verdicts").

use serde::{Deserialize, Serialize};

use crate::Diagnostics;

/// "The power law holds" needs R² of the log loss at least this high…
pub const POWER_LAW_MIN_R2: f64 = 0.98;
/// …and no monotone trend of the residuals against ln N or ln D: Spearman's test
/// must not reject "no trend" at this level.
pub const TREND_P_LEVEL: f64 = 0.05;
/// An 80% interval of D*/N* wider than this factor (hi/lo) cannot support or reject the
/// claim: the verdict is "cannot tell".
pub const RATIO_MAX_SPAN: f64 = 10.0;
/// Hoffmann et al. 2022's compute-optimal tokens per parameter.
pub const CHINCHILLA_TOKENS_PER_PARAM: f64 = 20.0;

/// One claim and what the data say about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The claim tested.
    pub claim: String,
    /// `Some(true)` holds, `Some(false)` does not, `None` the data cannot tell.
    pub holds: Option<bool>,
    /// What the data show, with the numbers.
    pub detail: String,
}

/// "L(N, D) = E + A/N^α + B/D^β holds": R² and the residual trend tests.
pub fn power_law(diag: &Diagnostics) -> Verdict {
    let claim = "the power law L = E + A/N^alpha + B/D^beta holds".to_string();
    if !diag.degenerate.is_empty() {
        return Verdict {
            claim,
            holds: None,
            detail: format!("the fit is degenerate: {}", diag.degenerate.join("; ")),
        };
    }
    let r2_ok = diag.r2_log >= POWER_LAW_MIN_R2;
    let trends: Vec<String> = [("N", diag.trend_n), ("D", diag.trend_d)]
        .iter()
        .filter(|(_, t)| t.p < TREND_P_LEVEL)
        .map(|(v, t)| {
            format!(
                "residuals trend with {v} (Spearman rho {:.2}, p {:.3})",
                t.rho, t.p
            )
        })
        .collect();
    let holds = r2_ok && trends.is_empty();
    let mut detail = format!(
        "log-space R² {:.4} (needs ≥ {POWER_LAW_MIN_R2}); Spearman p vs N {:.3}, vs D {:.3} \
         (a trend if < {TREND_P_LEVEL})",
        diag.r2_log, diag.trend_n.p, diag.trend_d.p
    );
    if !trends.is_empty() {
        detail.push_str(&format!(": {}", trends.join(", ")));
    }
    Verdict {
        claim,
        holds: Some(holds),
        detail,
    }
}

/// "D/N ≈ 20 holds" when 20 lies inside the 80% bootstrap interval of the compute-optimal
/// ratio at budget `c` (the largest budget of the data). A degenerate fit, or an
/// interval wider than [`RATIO_MAX_SPAN`], cannot tell.
pub fn tokens_per_param(
    c: f64,
    ratio: f64,
    ci80: Option<[f64; 2]>,
    diag: &Diagnostics,
    power_law: &Verdict,
) -> Verdict {
    let claim = format!("D/N ≈ {CHINCHILLA_TOKENS_PER_PARAM} at the compute optimum");
    // A law the runs reject says nothing about where their optimum is, and its
    // intervals (the residual bootstrap assumes the law) are not the data's.
    if power_law.holds == Some(false) {
        return Verdict {
            claim,
            holds: None,
            detail: format!(
                "at C = {c:.3e}: D*/N* = {ratio:.1}, but the fitted law does not describe the \
                 runs ({}), so its optimum is no evidence either way",
                power_law.detail
            ),
        };
    }
    if !diag.degenerate.is_empty() {
        return Verdict {
            claim,
            holds: None,
            detail: format!(
                "at C = {c:.3e}: D*/N* = {ratio:.3e} from a degenerate fit ({})",
                diag.degenerate.join("; ")
            ),
        };
    }
    match ci80 {
        Some([lo, hi]) if hi > RATIO_MAX_SPAN * lo => Verdict {
            claim,
            holds: None,
            detail: format!(
                "at C = {c:.3e}: D*/N* = {ratio:.1}, but its 80% interval [{lo:.3}, {hi:.3e}] \
                 spans more than a factor {RATIO_MAX_SPAN}: the data cannot pin the ratio down"
            ),
        },
        Some([lo, hi]) => {
            let holds = lo <= CHINCHILLA_TOKENS_PER_PARAM && CHINCHILLA_TOKENS_PER_PARAM <= hi;
            let shows = if holds {
                "20 is inside the interval".to_string()
            } else if hi < CHINCHILLA_TOKENS_PER_PARAM {
                format!("the data favour fewer tokens per parameter: at most {hi:.1}")
            } else {
                format!("the data favour more tokens per parameter: at least {lo:.1}")
            };
            Verdict {
                claim,
                holds: Some(holds),
                detail: format!(
                    "at C = {c:.3e}: D*/N* = {ratio:.1}, 80% interval [{lo:.1}, {hi:.1}]; {shows}"
                ),
            }
        }
        None => Verdict {
            claim,
            holds: None,
            detail: format!(
                "at C = {c:.3e}: D*/N* = {ratio:.1}, but without a bootstrap interval the claim \
                 cannot be tested"
            ),
        },
    }
}

/// "The law extrapolates to the top budget's optimum": approach 3 fitted on the small
/// budgets predicts the top budget's optimal loss closer than the baseline (power laws
/// in C through the small budgets' minima) does.
pub fn extrapolates(check: &crate::OptimumCheck) -> Verdict {
    let claim = format!(
        "the law fitted on C ≤ C_max/{} predicts the top budget's optimal loss better than a \
         power law through the smaller budgets' minima",
        check.k
    );
    Verdict {
        claim,
        holds: Some(check.law_beats_baseline),
        detail: format!(
            "at C = {:.3e}: observed minimum {:.4}; the law predicts {:.4} ({:+.2}%), the \
             baseline {:.4} ({:+.2}%)",
            check.c,
            check.observed.loss,
            check.law.optimum.loss,
            100.0 * check.law.loss_error,
            check.baseline.optimum.loss,
            100.0 * check.baseline.loss_error
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Trend;

    fn diagnostics(r2_log: f64) -> Diagnostics {
        let flat = Trend { rho: 0.0, p: 0.9 };
        Diagnostics {
            r2_log,
            trend_n: flat,
            trend_d: flat,
            degenerate: Vec::new(),
            residuals: Vec::new(),
        }
    }

    #[test]
    fn a_rejected_law_says_nothing_about_the_ratio() {
        let interval = Some([40.0, 60.0]);
        let good = diagnostics(0.995);
        let fits = power_law(&good);
        assert_eq!(fits.holds, Some(true));
        let v = tokens_per_param(1e12, 50.0, interval, &good, &fits);
        assert_eq!(v.holds, Some(false), "{}", v.detail);
        let poor = diagnostics(0.9);
        let rejected = power_law(&poor);
        assert_eq!(rejected.holds, Some(false));
        let v = tokens_per_param(1e12, 50.0, interval, &poor, &rejected);
        assert_eq!(v.holds, None, "{}", v.detail);
        assert!(
            v.detail.contains("does not describe the runs"),
            "{}",
            v.detail
        );
    }
}
