//! Verdicts: whether the published claims hold on these points. Every criterion is
//! here, in one place, fixed before looking at any data (docs/fitting.md, "Verdicts").

use serde::{Deserialize, Serialize};

use crate::{Diagnostics, TokenUnit};

/// With seeds, "the power law holds" needs the lack-of-fit test (the law's misfit
/// against the seed noise, [`crate::LackOfFit`]) not to reject at this level…
pub const LACK_OF_FIT_P_LEVEL: f64 = 0.05;
/// …and without seeds, R² of the log loss at least this high (below it, one run per
/// point cannot tell misfit from noise)…
pub const POWER_LAW_MIN_R2: f64 = 0.98;
/// …and, either way, no monotone trend of the residuals against ln N or ln D:
/// Spearman's test must not reject "no trend" at this level.
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

/// "L(N, D) = E + A/N^α + B/D^β holds". With seeds: the lack-of-fit test does not find
/// a misfit beyond the seed noise, and the residuals show no trend. Without seeds the
/// residuals alone cannot separate misfit from noise: R² ≥ [`POWER_LAW_MIN_R2`] with no
/// trend holds, a trend rejects, and a lower R² without a trend cannot tell (a fixed R²
/// threshold rejects a true law whenever the runs are noisy).
pub fn power_law(diag: &Diagnostics) -> Verdict {
    let claim = "the power law L = E + A/N^alpha + B/D^beta holds".to_string();
    // A law the lack-of-fit test rejects is rejected whether or not its parameters are
    // identified: the test asks whether the best fit in the family misses the points'
    // means beyond the seed noise, and a wide interval of one parameter does not make any
    // member of the family fit better. Otherwise a degenerate fit cannot tell.
    let rejected = diag
        .lack_of_fit
        .as_ref()
        .is_some_and(|t| t.p < LACK_OF_FIT_P_LEVEL);
    if !diag.degenerate.is_empty() && !rejected {
        return Verdict {
            claim,
            holds: None,
            detail: format!("the fit is degenerate: {}", diag.degenerate.join("; ")),
        };
    }
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
    let trend_text = format!(
        "Spearman p vs N {:.3}, vs D {:.3} (a trend if < {TREND_P_LEVEL})",
        diag.trend_n.p, diag.trend_d.p
    );
    let (holds, mut detail) = match &diag.lack_of_fit {
        Some(t) => {
            let fits = t.p >= LACK_OF_FIT_P_LEVEL;
            (
                Some(fits && trends.is_empty()),
                format!(
                    "the law misses its points by {:.2}% RMS against a seed SD of {:.2}%: \
                     lack-of-fit F {:.2} on ({}, {}) dof, p {} ({}); {trend_text}",
                    100.0 * t.misfit_rms,
                    100.0 * t.seed_sd,
                    t.f,
                    t.points - t.params,
                    t.runs - t.points,
                    p_text(t.p),
                    if fits {
                        "within the seed noise"
                    } else {
                        "beyond the seed noise: more seeds would not remove it"
                    },
                ),
            )
        }
        None => {
            let r2_ok = diag.r2_log >= POWER_LAW_MIN_R2;
            let holds = match (r2_ok, trends.is_empty()) {
                (_, false) => Some(false),
                (true, true) => Some(true),
                (false, true) => None,
            };
            let mut detail = format!(
                "log-space R² {:.4} (holds at ≥ {POWER_LAW_MIN_R2}); {trend_text}",
                diag.r2_log
            );
            if holds.is_none() {
                detail.push_str(
                    "; with one run per point the residuals cannot tell misfit from noise: \
                     train [train] seeds ≥ 2 for the lack-of-fit test",
                );
            }
            (holds, detail)
        }
    };
    if !trends.is_empty() {
        detail.push_str(&format!(": {}", trends.join(", ")));
    }
    if !diag.degenerate.is_empty() {
        detail.push_str(&format!(
            "; the fit is also degenerate: {}",
            diag.degenerate.join("; ")
        ));
    }
    Verdict {
        claim,
        holds,
        detail,
    }
}

/// A p-value as text: three decimals, or scientific below 0.001.
fn p_text(p: f64) -> String {
    if p < 1e-3 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

/// Bytes per English subword token, only to show a byte-level ratio on the claim's
/// scale: OpenAI's rule of thumb ("one token generally corresponds to ~4 characters of
/// text for common English text"). Not measured here, so no verdict rests on it.
pub const BYTES_PER_TOKEN_RULE_OF_THUMB: f64 = 4.0;

/// One estimate of the compute-optimal D*/N* at budget `c`, with its 80% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatioEstimate {
    /// The budget (FLOPs).
    pub c: f64,
    /// D*/N*.
    pub ratio: f64,
    /// Its 80% bootstrap interval.
    pub ci80: Option<[f64; 2]>,
}

/// "D/N ≈ 20 holds" when 20 lies inside the 80% bootstrap interval of the compute-optimal
/// ratio at the largest budget. The estimate is the law's (`law`, approach 3); when the
/// power-law verdict rejects the law or the fit is degenerate, the law's optimum is set
/// aside and approach 2's (`minima`: its lines through bracketed IsoFLOP minima, which
/// assume no L(N, D) form) is used if there is one, else the verdict cannot tell. An
/// interval wider than [`RATIO_MAX_SPAN`], or D counted in bytes (`unit`), cannot tell.
pub fn tokens_per_param(
    law: RatioEstimate,
    minima: Option<RatioEstimate>,
    unit: TokenUnit,
    diag: &Diagnostics,
    power_law: &Verdict,
) -> Verdict {
    let claim = format!("D/N ≈ {CHINCHILLA_TOKENS_PER_PARAM} at the compute optimum");
    // A law the runs reject says nothing about where their optimum is, and its
    // intervals (the residual bootstrap assumes the law) are not the data's.
    let set_aside = if power_law.holds == Some(false) {
        Some(format!(
            "the fitted law does not describe the runs ({})",
            power_law.detail
        ))
    } else if !diag.degenerate.is_empty() {
        Some(format!(
            "the fit is degenerate ({})",
            diag.degenerate.join("; ")
        ))
    } else {
        None
    };
    let (estimate, from) = match (set_aside, minima) {
        (None, _) => (law, String::new()),
        (Some(why), Some(m)) => (m, format!("from approach 2's IsoFLOP minima, as {why}: ")),
        (Some(why), None) => {
            let c = law.c;
            let ratio = law.ratio;
            return Verdict {
                claim,
                holds: None,
                detail: format!(
                    "at C = {c:.3e}: D*/N* = {ratio:.1} from the law, but {why}, so its optimum \
                     is no evidence either way, and approach 2 has no bracketed minima with a \
                     reliable interval to stand in"
                ),
            };
        }
    };
    let RatioEstimate { c, ratio, ci80 } = estimate;
    let mut verdict = ratio_verdict(claim, c, ratio, ci80, unit);
    verdict.detail.insert_str(0, &from);
    verdict
}

/// The verdict on an estimate that stands: its interval against the claim.
fn ratio_verdict(
    claim: String,
    c: f64,
    ratio: f64,
    ci80: Option<[f64; 2]>,
    unit: TokenUnit,
) -> Verdict {
    match ci80 {
        Some([lo, hi]) if hi > RATIO_MAX_SPAN * lo => Verdict {
            claim,
            holds: None,
            detail: format!(
                "at C = {c:.3e}: D*/N* = {ratio:.1}, but its 80% interval [{lo:.3}, {hi:.3e}] \
                 spans more than a factor {RATIO_MAX_SPAN}: the data cannot pin the ratio down"
            ),
        },
        Some([lo, hi]) if unit == TokenUnit::Bytes => {
            let k = BYTES_PER_TOKEN_RULE_OF_THUMB;
            Verdict {
                claim,
                holds: None,
                detail: format!(
                    "at C = {c:.3e}: D*/N* = {ratio:.1} bytes per parameter, 80% interval \
                     [{lo:.1}, {hi:.1}]; the claim counts subword tokens and this sweep counts \
                     bytes, so it cannot test the claim without a bytes-per-token conversion it \
                     does not measure (at ~{k} bytes per English token, a rule of thumb: \
                     {:.1} [{:.1}, {:.1}] tokens per parameter)",
                    ratio / k,
                    lo / k,
                    hi / k
                ),
            }
        }
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
    let pct = |x: f64| format!("{:+.2}%", 100.0 * x);
    let error = |p: &crate::Predicted| match p.error_spread {
        Some(s) => format!(
            "{}, 80% [{}, {}]",
            pct(p.loss_error),
            pct(s.loss.ci80[0]),
            pct(s.loss.ci80[1])
        ),
        None => pct(p.loss_error),
    };
    let margin = match check.margin_spread.map(|s| s.ci80) {
        Some([lo, hi]) => format!(
            "; |law error| − |baseline error| = {:+.2} points, 80% [{:+.2}, {:+.2}]: {}",
            100.0 * check.margin,
            100.0 * lo,
            100.0 * hi,
            match check.law_beats_baseline {
                Some(true) => "the law is closer, beyond the noise",
                Some(false) => "the baseline is closer, beyond the noise",
                None => "within the noise of the check",
            }
        ),
        None if check.resamples + check.failed > 0 => format!(
            "; no interval: {} ({} of {} failed)",
            check
                .no_interval
                .unwrap_or(crate::NoInterval::FailedResamples)
                .reason(),
            check.failed,
            check.resamples + check.failed
        ),
        None => " (point errors, without a bootstrap)".to_string(),
    };
    Verdict {
        claim,
        holds: check.law_beats_baseline,
        detail: format!(
            "at C = {:.3e}: observed minimum {:.4}; the law predicts {:.4} ({}), the \
             baseline {:.4} ({}){margin}",
            check.c,
            check.observed.loss,
            check.law.optimum.loss,
            error(&check.law),
            check.baseline.optimum.loss,
            error(&check.baseline),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Trend;
    use crate::LackOfFit;

    fn diagnostics(r2_log: f64) -> Diagnostics {
        let flat = Trend { rho: 0.0, p: 0.9 };
        Diagnostics {
            r2_log,
            trend_n: flat,
            trend_d: flat,
            degenerate: Vec::new(),
            residuals: Vec::new(),
            lack_of_fit: None,
        }
    }

    fn with_seeds(r2_log: f64, p: f64) -> Diagnostics {
        Diagnostics {
            lack_of_fit: Some(LackOfFit {
                runs: 80,
                points: 20,
                params: 5,
                misfit_rms: 0.02,
                seed_sd: 0.005,
                f: 4.0,
                p,
            }),
            ..diagnostics(r2_log)
        }
    }

    fn estimate(c: f64, ratio: f64, ci80: Option<[f64; 2]>) -> RatioEstimate {
        RatioEstimate { c, ratio, ci80 }
    }

    #[test]
    fn a_rejected_law_gives_way_to_the_isoflop_minima() {
        let rejected = power_law(&with_seeds(0.995, 1e-4));
        let law = estimate(1e12, 50.0, Some([40.0, 60.0]));
        let minima = estimate(1e12, 21.0, Some([17.0, 26.0]));
        let v = tokens_per_param(
            law,
            Some(minima),
            TokenUnit::Tokens,
            &with_seeds(0.995, 1e-4),
            &rejected,
        );
        assert_eq!(v.holds, Some(true), "{}", v.detail);
        assert!(
            v.detail.starts_with(
                "from approach 2's IsoFLOP minima, as the fitted law does not describe the runs"
            ),
            "{}",
            v.detail
        );
        // A law that holds is read as it is: the minima do not override it.
        let good = with_seeds(0.995, 0.4);
        let v = tokens_per_param(
            law,
            Some(minima),
            TokenUnit::Tokens,
            &good,
            &power_law(&good),
        );
        assert_eq!(v.holds, Some(false), "{}", v.detail);
    }

    #[test]
    fn a_rejected_law_says_nothing_about_the_ratio() {
        let interval = Some([40.0, 60.0]);
        let good = with_seeds(0.995, 0.4);
        let fits = power_law(&good);
        assert_eq!(fits.holds, Some(true), "{}", fits.detail);
        let v = tokens_per_param(
            estimate(1e12, 50.0, interval),
            None,
            TokenUnit::Tokens,
            &good,
            &fits,
        );
        assert_eq!(v.holds, Some(false), "{}", v.detail);
        let poor = with_seeds(0.995, 1e-4);
        let rejected = power_law(&poor);
        assert_eq!(rejected.holds, Some(false), "{}", rejected.detail);
        let v = tokens_per_param(
            estimate(1e12, 50.0, interval),
            None,
            TokenUnit::Tokens,
            &poor,
            &rejected,
        );
        assert_eq!(v.holds, None, "{}", v.detail);
        assert!(
            v.detail.contains("does not describe the runs"),
            "{}",
            v.detail
        );
    }

    #[test]
    fn bytes_cannot_test_a_claim_in_tokens() {
        let good = with_seeds(0.995, 0.4);
        let fits = power_law(&good);
        let interval = Some([78.0, 96.0]);
        let v = tokens_per_param(
            estimate(9e12, 86.0, interval),
            None,
            TokenUnit::Bytes,
            &good,
            &fits,
        );
        assert_eq!(v.holds, None, "{}", v.detail);
        assert!(v.detail.contains("bytes per parameter"), "{}", v.detail);
        assert!(
            v.detail.contains("21.5 [19.5, 24.0] tokens"),
            "{}",
            v.detail
        );
        // The same numbers counted in tokens are a verdict.
        let v = tokens_per_param(
            estimate(9e12, 86.0, interval),
            None,
            TokenUnit::Tokens,
            &good,
            &fits,
        );
        assert_eq!(v.holds, Some(false), "{}", v.detail);
    }

    #[test]
    fn a_degenerate_fit_cannot_tell_unless_the_lack_of_fit_test_rejects_the_law() {
        let degenerate = |p: f64| Diagnostics {
            degenerate: vec!["B is not identified".into()],
            ..with_seeds(0.99, p)
        };
        let v = power_law(&degenerate(0.4));
        assert_eq!(v.holds, None, "{}", v.detail);
        assert!(
            v.detail.starts_with("the fit is degenerate"),
            "{}",
            v.detail
        );
        let v = power_law(&degenerate(1e-6));
        assert_eq!(v.holds, Some(false), "{}", v.detail);
        assert!(
            v.detail.contains("beyond the seed noise")
                && v.detail
                    .ends_with("the fit is also degenerate: B is not identified"),
            "{}",
            v.detail
        );
    }

    #[test]
    fn with_seeds_the_lack_of_fit_test_decides_not_r2() {
        // Noisy runs that the law fits to within their seed noise: holds at a low R².
        let v = power_law(&with_seeds(0.9, 0.3));
        assert_eq!(v.holds, Some(true), "{}", v.detail);
        assert!(v.detail.contains("within the seed noise"), "{}", v.detail);
        // Precise runs that the law misses: rejected at a high R².
        let v = power_law(&with_seeds(0.999, 1e-6));
        assert_eq!(v.holds, Some(false), "{}", v.detail);
        assert!(v.detail.contains("beyond the seed noise"), "{}", v.detail);
    }

    #[test]
    fn without_seeds_a_low_r2_cannot_tell_and_a_trend_rejects() {
        assert_eq!(power_law(&diagnostics(0.99)).holds, Some(true));
        let v = power_law(&diagnostics(0.9));
        assert_eq!(v.holds, None, "{}", v.detail);
        assert!(v.detail.contains("seeds ≥ 2"), "{}", v.detail);
        let trending = Diagnostics {
            trend_n: Trend { rho: 0.8, p: 1e-4 },
            ..diagnostics(0.99)
        };
        let v = power_law(&trending);
        assert_eq!(v.holds, Some(false), "{}", v.detail);
        assert!(v.detail.contains("trend with N"), "{}", v.detail);
    }
}
