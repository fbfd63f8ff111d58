//! The held-out check of the compute optimum: approach 3 fitted on the budgets up to
//! `C_max / k` predicts the top budget's optimal loss, `N*` and `D*`; the top budget's
//! observed IsoFLOP minimum (approach 2's rule there) is the answer, and a naive
//! baseline, power laws in C through the smaller budgets' own minima, is the bar the law
//! has to clear. A law that does not beat a straight line through two minima has not
//! shown that it extrapolates.
//!
//! One draw of a sweep moves these errors by percents, so each gets an 80% interval from
//! the bootstrap the fit uses for a fixed design ([`bootstrap_fixed_design`]): every
//! resample reruns the whole check, the small budgets' fit and baseline and the top
//! budget's observed minimum alike. The interval is the basic bootstrap's (Davison &
//! Hinkley 1997, §5.2.1) about the error as observed, `e − (q₉₀* − e₀), e − (q₁₀* − e₀)`,
//! where `e₀` is the check's error on the full fit's own noise-free losses: what the
//! bootstrap's world holds as the true error.

use serde::{Deserialize, Serialize};

use crate::approach2::{locate_in, MinimumRule, Profile};
use crate::approach3::{bootstrap_fixed_design, refit_warm, screen_of, Screen};
use crate::{
    approach2_budgets, fit_approach3, Approach3Options, BootstrapOptions, Budget, ChinchillaLaw,
    Dataset, FitError, Points, Spread,
};

/// Resamples of the held-out check's bootstrap, at most: each refits approach 3 on the
/// small budgets, and 200 draws place an 80% interval's ends to within about a tenth of
/// its width.
pub const CHECK_RESAMPLES: usize = 200;

/// The largest share of the bootstrap's resamples that may fail to rerun the check (a
/// profile's minimum unbracketed) for its intervals to be reported.
pub const CHECK_FAILED_MAX: f64 = 0.2;

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
    /// The bootstrap spreads of the three errors (absent without a bootstrap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_spread: Option<ErrorSpreads>,
}

/// The bootstrap spreads of a prediction's relative errors: standard errors, 80% and
/// 95% intervals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ErrorSpreads {
    /// Of the loss.
    pub loss: Spread,
    /// Of N.
    #[serde(rename = "N")]
    pub n: Spread,
    /// Of D.
    #[serde(rename = "D")]
    pub d: Spread,
}

impl Predicted {
    fn against(optimum: Optimum, observed: &Optimum) -> Self {
        let rel = |p: f64, o: f64| (p - o) / o;
        Self {
            loss_error: rel(optimum.loss, observed.loss),
            n_error: rel(optimum.n, observed.n),
            d_error: rel(optimum.d, observed.d),
            optimum,
            error_spread: None,
        }
    }

    fn errors(&self) -> [f64; 3] {
        [self.loss_error, self.n_error, self.d_error]
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
    /// `|law error| − |baseline error|` of the optimal loss: below 0 where the law is
    /// closer to the observed minimum.
    #[serde(default, deserialize_with = "crate::json::number")]
    pub margin: f64,
    /// Its bootstrap spread (absent without a bootstrap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin_spread: Option<Spread>,
    /// Whether the law's optimal loss is closer to the observed one than the baseline's:
    /// by the margin's 80% interval where there is one (`None`, cannot tell, when it
    /// holds 0), else by the point errors.
    pub law_beats_baseline: Option<bool>,
    /// Bootstrap resamples rerun, and those that failed (for example a top profile
    /// without a bracketed minimum).
    #[serde(default)]
    pub resamples: usize,
    /// See `resamples`.
    #[serde(default)]
    pub failed: usize,
    /// Why a bootstrapped check has no interval (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_interval: Option<NoInterval>,
}

/// Why the bootstrap of the held-out check gave no interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoInterval {
    /// More than a fifth of the resamples could not rerun the check (noise left a
    /// profile's minimum unbracketed): the rest would describe only the easy draws.
    FailedResamples,
    /// The check could not run on the full fit's own noise-free losses, which the
    /// interval is centred on.
    NoCentre,
    /// Fewer than ten resamples reran the check.
    TooFewResamples,
}

impl NoInterval {
    /// Why, in words, after "no interval: ".
    pub fn reason(self) -> &'static str {
        match self {
            Self::FailedResamples => {
                "the check could not be rerun on more than a fifth of the bootstrap's \
                 resamples, where noise left a profile's minimum unbracketed"
            }
            Self::NoCentre => {
                "the check could not run on the fitted law's own noise-free losses, which \
                 the interval is centred on"
            }
            Self::TooFewResamples => "fewer than ten bootstrap resamples reran the check",
        }
    }
}

impl OptimumCheck {
    /// The comparison with the baseline in words, as a sentence's predicate after "the
    /// law": how the margin's interval reads, or the point errors' order without one.
    pub fn comparison(&self) -> String {
        let words = match (self.law_beats_baseline, self.margin_spread.is_some()) {
            (Some(true), true) => "beats the baseline on the optimal loss, beyond the noise",
            (Some(false), true) => {
                "does not beat the baseline on the optimal loss: the baseline is closer, \
                 beyond the noise"
            }
            (None, true) => {
                "cannot be told from the baseline on the optimal loss: the 80% interval of \
                 the difference in their errors holds 0"
            }
            (None, false) => {
                let why = self.no_interval.unwrap_or(NoInterval::FailedResamples);
                return format!(
                    "cannot be told from the baseline on the optimal loss: no interval, {}",
                    why.reason()
                );
            }
            (Some(true), false) => "beats the baseline on the optimal loss (point errors)",
            (Some(false), false) => "does not beat the baseline on the optimal loss (point errors)",
        };
        words.to_string()
    }
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

/// The check's design: which budgets are fitted and which is predicted, how minima are
/// located and the law fitted. Run on any losses at the sweep's (N, D).
struct HeldOut<'d> {
    small: Vec<&'d Budget>,
    top: &'d Budget,
    rule: MinimumRule,
    options: &'d Approach3Options,
}

/// What one run of the check finds: the top budget's observed minimum, the law's
/// prediction (and the small budgets' law it came from) and the baseline's.
struct Outcome {
    observed: Optimum,
    law: Predicted,
    fitted: ChinchillaLaw,
    baseline: Predicted,
}

impl Outcome {
    /// The law's three errors, then the baseline's.
    fn errors(&self) -> Vec<f64> {
        let mut e = self.law.errors().to_vec();
        e.extend(self.baseline.errors());
        e
    }
}

/// `|law error| − |baseline error|` of the loss, from [`Outcome::errors`].
fn margin(errors: &[f64]) -> f64 {
    errors[0].abs() - errors[3].abs()
}

/// How [`HeldOut::run`] refits the small budgets' law as a bootstrap resample is: the
/// grid scored on `screen` (made on the small budgets' design), `keep` starts kept, and
/// warm from `law`.
#[derive(Clone, Copy)]
struct Warm<'a> {
    law: &'a ChinchillaLaw,
    keep: usize,
    screen: &'a Screen,
}

impl HeldOut<'_> {
    /// The points of the small budgets, which the law is fitted to.
    fn fit_points(&self, points: &Points) -> Result<Points, FitError> {
        let pts = points.as_slice();
        Points::new(
            self.small
                .iter()
                .flat_map(|b| b.indices.iter().map(|&i| pts[i]))
                .collect(),
        )
    }

    /// The check on `points`' losses. With `warm`, the small budgets' law is refitted as
    /// a bootstrap resample is ([`Warm`]), not from the whole grid.
    fn run(&self, points: &Points, warm: Option<Warm>) -> Result<Outcome, FitError> {
        let located = |b: &Budget| locate_in(points, b, self.rule).ok();
        let observed_top = located(self.top)
            .as_ref()
            .and_then(observed)
            .ok_or(FitError::NoMinimum { budget: self.top.c })?;
        let minima: Vec<(f64, Optimum)> = self
            .small
            .iter()
            .filter_map(|b| Some((b.c, observed(&located(b)?)?)))
            .collect();
        if minima.len() < 2 {
            return Err(FitError::TooFewBudgets {
                usable: minima.len(),
                total: self.small.len(),
            });
        }
        let fit_points = self.fit_points(points)?;
        let fitted = match warm {
            Some(w) => refit_warm(&fit_points, self.options, w.screen, w.keep, w.law)
                .ok_or(FitError::NoConvergence)?,
            None => fit_approach3(&fit_points, self.options)?.law,
        };
        let c = self.top.c;
        let (n, d) = fitted.compute_optimal(c);
        let law = Optimum {
            loss: fitted.loss(n, d),
            n,
            d,
        };
        let cs: Vec<f64> = minima.iter().map(|m| m.0).collect();
        let along = |f: fn(&Optimum) -> f64| {
            let ys: Vec<f64> = minima.iter().map(|m| f(&m.1)).collect();
            power_law_at(&cs, &ys, c)
        };
        let baseline = Optimum {
            loss: along(|o| o.loss),
            n: along(|o| o.n),
            d: along(|o| o.d),
        };
        Ok(Outcome {
            law: Predicted::against(law, &observed_top),
            fitted,
            baseline: Predicted::against(baseline, &observed_top),
            observed: observed_top,
        })
    }
}

/// The bootstrap of the check: the sweeps drawn about the full fit's `law` by `boot`
/// (see [`bootstrap_fixed_design`]).
pub struct CheckBootstrap<'b> {
    /// The full fit's law.
    pub law: &'b ChinchillaLaw,
    /// The clusters whose residuals a wild bootstrap flips together.
    pub clusters: &'b [Vec<usize>],
    /// Its settings; at most [`CHECK_RESAMPLES`] resamples are drawn.
    pub options: &'b BootstrapOptions,
}

/// The basic bootstrap's spreads of the errors `observed` and of their margin
/// ([`margin`]), from the draws `rows` and the errors `truth` in the bootstrap's world:
/// each draw is reflected about the observed errors in log ratio, `ln(1 + e) − (ln(1 +
/// e*) − ln(1 + e₀))` (so that a reflected error stays above −100%), which stands for a
/// draw of the true errors, and the spreads are the reflected draws' ([`Spread::of`]:
/// the 80% interval spans their 10th to 90th percentiles). The margin is read off the reflected draws too, so that its interval
/// folds the signed errors' (whose sampling spread is roughly the same about any truth)
/// rather than being reflected itself. `None` with fewer than ten draws.
fn basic_spreads(observed: &[f64], truth: &[f64], rows: &[Vec<f64>]) -> Option<Vec<Spread>> {
    if rows.len() < 10 {
        return None;
    }
    let reflected: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| {
            let mut e: Vec<f64> = (0..observed.len())
                .map(|q| (observed[q].ln_1p() - (r[q].ln_1p() - truth[q].ln_1p())).exp_m1())
                .collect();
            e.push(margin(&e));
            e
        })
        .collect();
    (0..=observed.len())
        .map(|q| Spread::of(&reflected.iter().map(|r| r[q]).collect::<Vec<_>>()))
        .collect()
}

/// Whether the law beats the baseline: by the margin's 80% interval `ci` (it must lie
/// below 0, or above 0 for the baseline; `None` when it holds 0); without one, `None`
/// if a bootstrap was `tried` (it could not give an interval), else by the point
/// `margin`.
fn beats(margin: f64, ci: Option<[f64; 2]>, tried: bool) -> Option<bool> {
    match ci {
        Some([_, hi]) if hi < 0.0 => Some(true),
        Some([lo, _]) if lo > 0.0 => Some(false),
        Some(_) => None,
        None if tried => None,
        None => Some(margin < 0.0),
    }
}

/// Fits approach 3 on the budgets up to `C_max / k` and checks its optimum at the top
/// budget against the minimum observed there and against the baseline; minima are
/// located by `rule`. Needs two or more small budgets with a bracketed minimum, and a
/// bracketed minimum at the top. With `boot`, every error and the margin get an 80%
/// interval (see the module's documentation).
pub fn check_optimum(
    data: &Dataset,
    k: f64,
    tolerance: f64,
    rule: MinimumRule,
    options: &Approach3Options,
    boot: Option<CheckBootstrap>,
) -> Result<OptimumCheck, FitError> {
    let budgets = approach2_budgets(data, tolerance);
    let Some(top) = budgets.last() else {
        return Err(FitError::NoHeldOut { c_cut: 0.0 });
    };
    let check = HeldOut {
        small: budgets
            .iter()
            .filter(|b| crate::held_in(b.c, top.c, k))
            .collect(),
        top,
        rule,
        options,
    };
    let mut outcome = check.run(&data.points, None)?;
    let mut margin_spread = None;
    let (mut resamples, mut failed) = (0, 0);
    let mut no_interval = None;
    if let Some(b) = boot.filter(|b| b.options.resamples > 0) {
        let noise_free = data.points.on_law(b.law)?;
        let screen = screen_of(&check.fit_points(&data.points)?, options);
        let warm = Some(Warm {
            law: &outcome.fitted,
            keep: b.options.screen_keep,
            screen: &screen,
        });
        let truth = check.run(&noise_free, warm).ok();
        let options = BootstrapOptions {
            resamples: b.options.resamples.min(CHECK_RESAMPLES),
            ..*b.options
        };
        let draws = bootstrap_fixed_design(&data.points, b.clusters, b.law, &options, |drawn| {
            Some(check.run(drawn, warm).ok()?.errors())
        });
        (resamples, failed) = (draws.rows.len(), draws.failed);
        // Intervals from the resamples that could rerun the check describe those only:
        // past a fifth failed, that selection says more than the interval would.
        let spreads = if failed as f64 > CHECK_FAILED_MAX * options.resamples as f64 {
            Err(NoInterval::FailedResamples)
        } else if let Some(t) = truth {
            basic_spreads(&outcome.errors(), &t.errors(), &draws.rows)
                .ok_or(NoInterval::TooFewResamples)
        } else {
            Err(NoInterval::NoCentre)
        };
        match spreads {
            Err(why) => no_interval = Some(why),
            Ok(s) => {
                let three = |o: usize| ErrorSpreads {
                    loss: s[o],
                    n: s[o + 1],
                    d: s[o + 2],
                };
                outcome.law.error_spread = Some(three(0));
                outcome.baseline.error_spread = Some(three(3));
                margin_spread = Some(s[6]);
            }
        }
    }
    let margin = outcome.law.loss_error.abs() - outcome.baseline.loss_error.abs();
    let law_beats_baseline = beats(
        margin,
        margin_spread.map(|s| s.ci80),
        resamples + failed > 0,
    );
    Ok(OptimumCheck {
        k,
        c: top.c,
        fitted_budgets: check.small.len(),
        fitted_points: check.small.iter().map(|b| b.indices.len()).sum(),
        observed: outcome.observed,
        law: outcome.law,
        baseline: outcome.baseline,
        margin,
        margin_spread,
        law_beats_baseline,
        resamples,
        failed,
        no_interval,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal};

    use super::*;
    use crate::{MinimumRule, Point, Resampling, TokenUnit};

    const BUDGETS: [f64; 5] = [1e18, 3e18, 1e19, 3e19, 1e20];

    /// Seven sizes per budget, log-spaced over a factor of 16 about the law's optimum,
    /// one run each; every loss the law's times `shift` at the top budget and times
    /// `exp(noise)` (a log-normal draw of that SD) everywhere, drawn from `seed`.
    pub(crate) fn sweep(law: &ChinchillaLaw, noise: f64, shift: f64, seed: u64) -> Dataset {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let normal = Normal::new(0.0, noise.max(1e-300)).unwrap();
        let mut points = Vec::new();
        let mut budgets = Vec::new();
        for c in BUDGETS {
            let opt = law.compute_optimal(c).0;
            for j in 0..7 {
                let n = opt * 16f64.powf(j as f64 / 6.0 - 0.5);
                let d = c / (6.0 * n);
                let top = if c == BUDGETS[4] { shift } else { 1.0 };
                let draw = if noise > 0.0 {
                    normal.sample(&mut rng)
                } else {
                    0.0
                };
                points.push(Point {
                    n,
                    d,
                    loss: law.loss(n, d) * top * draw.exp(),
                });
                budgets.push(c);
            }
        }
        let runs = points.len();
        Dataset {
            points: Points::new(points).unwrap(),
            planned: Some(budgets.clone()),
            budgets,
            budgets_given: true,
            entropy_rate: None,
            unit: TokenUnit::Tokens,
            runs: (1..=runs).map(|i| i.to_string()).collect(),
            families: (0..runs).collect(),
            curves: Vec::new(),
        }
    }

    /// The check on `data`, with a residual bootstrap of `resamples` about the full
    /// data's law when `resamples > 0`.
    fn check(data: &Dataset, resamples: usize) -> OptimumCheck {
        let options = Approach3Options::default();
        let law = fit_approach3(&data.points, &options).unwrap().law;
        let boot = BootstrapOptions {
            resamples,
            resampling: Resampling::Residuals,
            ..BootstrapOptions::default()
        };
        let clusters: Vec<Vec<usize>> = (0..data.points.len()).map(|i| vec![i]).collect();
        check_optimum(
            data,
            8.0,
            0.01,
            MinimumRule::default(),
            &options,
            Some(CheckBootstrap {
                law: &law,
                clusters: &clusters,
                options: &boot,
            }),
        )
        .unwrap()
    }

    fn holds(ci: [f64; 2], x: f64) -> bool {
        ci[0] <= x && x <= ci[1]
    }

    #[test]
    fn the_law_errors_interval_holds_the_noise_free_error_about_as_often_as_it_says() {
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        let truth = check(&sweep(&law, 0.0, 1.0, 0), 0);
        assert_eq!((truth.fitted_budgets, truth.fitted_points), (3, 21));
        assert!(truth.law.loss_error.abs() < 0.005, "{truth:?}");
        let draws = 16;
        let covered = (0..draws)
            .filter(|&seed| {
                let c = check(&sweep(&law, 0.01, 1.0, seed), 100);
                // A resample fails where noise leaves a profile's minimum unbracketed.
                assert!(c.resamples + c.failed == 100 && c.failed <= 10, "{c:?}");
                holds(c.law.error_spread.unwrap().loss.ci80, truth.law.loss_error)
            })
            .count();
        // 80% intervals: 10 or more of 16 unless coverage is poor (P(≤ 9) = 2.7% at 80%).
        assert!(covered >= 10, "{covered} of {draws}");
    }

    #[test]
    fn a_top_budget_off_the_law_is_outside_the_laws_interval() {
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        let c = check(&sweep(&law, 0.005, 0.96, 1), 100);
        let ci = c.law.error_spread.unwrap().loss.ci80;
        assert!(c.law.loss_error > 0.03, "{c:?}");
        assert!(ci[0] > 0.0 && holds(ci, 1.0 / 0.96 - 1.0), "{ci:?}");
        // The baseline runs through the small budgets' minima too: both miss alike.
        assert!(c.baseline.error_spread.unwrap().loss.ci80[0] > 0.0, "{c:?}");
    }

    #[test]
    fn the_verdict_reads_the_margins_interval_and_without_one_the_points() {
        assert_eq!(super::beats(-0.01, None, false), Some(true));
        assert_eq!(super::beats(0.01, None, false), Some(false));
        assert_eq!(
            super::beats(-0.01, None, true),
            None,
            "a bootstrap without an interval"
        );
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        let data = sweep(&law, 0.005, 1.0, 2);
        let point = check(&data, 0);
        assert!(point.margin_spread.is_none() && point.law.error_spread.is_none());
        assert_eq!(point.law_beats_baseline, Some(point.margin < 0.0));
        assert!(point.comparison().contains("point errors"));
        let mut c = check(&data, 100);
        let spread = c.margin_spread.unwrap();
        let [lo, hi] = spread.ci80;
        assert!(lo < c.margin && c.margin < hi, "{c:?}");
        for (ci, expected, words) in [
            ([-0.02, -0.01], Some(true), "beyond the noise"),
            ([0.01, 0.02], Some(false), "the baseline is closer"),
            ([-0.01, 0.01], None, "holds 0"),
        ] {
            c.margin_spread = Some(Spread { ci80: ci, ..spread });
            c.law_beats_baseline = super::beats(0.005, Some(ci), true);
            assert_eq!(c.law_beats_baseline, expected);
            assert!(c.comparison().contains(words));
            let v = crate::verdict::extrapolates(&c);
            assert_eq!(v.holds, expected);
            assert!(v.detail.contains("80% ["), "{}", v.detail);
        }
        assert_eq!(c.no_interval, None);
    }

    #[test]
    fn a_bootstrap_without_an_interval_says_why() {
        let law = ChinchillaLaw::HOFFMANN_ROUNDED;
        let c = check(&sweep(&law, 0.005, 1.0, 2), 6);
        assert_eq!((c.resamples + c.failed, c.failed), (6, 0), "{c:?}");
        assert!(c.margin_spread.is_none() && c.law_beats_baseline.is_none());
        assert_eq!(c.no_interval, Some(NoInterval::TooFewResamples));
        assert!(
            c.comparison().contains("fewer than ten"),
            "{}",
            c.comparison()
        );
        let v = crate::verdict::extrapolates(&c);
        assert!(v.holds.is_none());
        assert!(
            v.detail.contains("no interval: fewer than ten")
                && v.detail.contains("(0 of 6 failed)"),
            "{}",
            v.detail
        );
        // Written only when there is a reason.
        let json = serde_json::to_string(&c).unwrap();
        assert!(
            json.contains(r#""no_interval":"too_few_resamples""#),
            "{json}"
        );
        let round: OptimumCheck = serde_json::from_str(&json).unwrap();
        assert_eq!(round.no_interval, c.no_interval);
    }
}
