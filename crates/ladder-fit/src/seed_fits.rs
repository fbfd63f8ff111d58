//! Each seed's runs fitted alone, set beside the fit of every seed: do the seeds agree
//! on the top budget's compute-optimal `D*/N*`?
//!
//! Three checks, each with a different pass rate for a correct sweep:
//! - every seed's value inside the pooled 80% interval: the pooled interval narrows as
//!   `1/√K` with `K` seeds while each seed's scatter does not, so a correct sweep fails it
//!   more often than not (23% passed, three seeds on the simulated depth-2 design);
//! - the pooled value inside every seed's own 80% interval: each seed's interval must
//!   carry its scatter (58% passed, the same simulation);
//! - Cochran's Q (Cochran 1954): each seed's `ln D*/N*` against their precision-weighted
//!   mean, in units of its own bootstrap SE, summed, against χ² with `K − 1` degrees of
//!   freedom. Its pass rate is set by the level chosen when the seeds' SEs are honest
//!   (82% at 0.1 in the same simulation; docs/LOG.md, 2026-12-05).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF};

use crate::{FitReport, Spread};

/// z of the 90th percentile: an 80% interval is ±1.2816 SE.
const Z80: f64 = 1.281_551_565_545;

/// One seed's own fit at the top budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedFit {
    /// The seed.
    pub seed: u64,
    /// Its runs.
    pub runs: usize,
    /// Its `D*/N*` at the top budget.
    pub ratio: f64,
    /// Its spread, when bootstrapped.
    pub ratio_spread: Option<Spread>,
    /// Its `a` (`N* ∝ C^a`), approach 3.
    pub a: f64,
    /// Its runs' top budget, when they stop below the pooled one and its law was read
    /// beyond them (sweeps pooled with different top budgets); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beyond_runs: Option<f64>,
}

/// One seed's runs fitted alone, for [`seed_agreement`].
#[derive(Debug, Clone)]
pub struct SeedRuns {
    /// The seed.
    pub seed: u64,
    /// Its runs.
    pub runs: usize,
    /// Its runs' top budget.
    pub top: f64,
    /// Their fit; read at the pooled top budget ([`crate::AnalysisOptions::read_at`])
    /// where `top` is below it.
    pub report: FitReport,
}

/// Cochran's Q over the seeds' `ln D*/N*`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Consistency {
    /// `Σ (y_k − ȳ)² / se_k²`, `ȳ` the mean weighted by `1/se_k²`.
    pub q: f64,
    /// Degrees of freedom: seeds − 1.
    pub dof: usize,
    /// `P(χ²_dof > q)`: small when the seeds scatter more than their own SEs allow.
    pub p: f64,
}

/// The seeds' own fits against the pooled fit, at the pooled fit's top budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedAgreement {
    /// The top budget in FLOPs.
    #[serde(rename = "C")]
    pub c: f64,
    /// The pooled `D*/N*` there.
    pub pooled: f64,
    /// Its spread.
    pub pooled_spread: Option<Spread>,
    /// Each seed's own fit, in seed order.
    pub seeds: Vec<SeedFit>,
    /// Seeds left out, with why (a fit that failed, no optimum at the top budget).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
    /// Every seed's value inside the pooled 80% interval (issue 24's wording); `None`
    /// without a pooled interval.
    pub every_seed_inside_pooled: Option<bool>,
    /// The pooled value inside every seed's own 80% interval; `None` when a seed has no
    /// interval.
    pub pooled_inside_every_seed: Option<bool>,
    /// Cochran's Q; `None` with fewer than two seeds with intervals.
    pub consistency: Option<Consistency>,
}

/// Cochran's Q of `values` (each an estimate and its standard error, in the same
/// units); `None` with fewer than two, or a standard error that is not positive.
pub fn cochran_q(values: &[(f64, f64)]) -> Option<Consistency> {
    if values.len() < 2
        || values
            .iter()
            .any(|&(y, se)| !(y.is_finite() && se.is_finite() && se > 0.0))
    {
        return None;
    }
    let weights: Vec<f64> = values.iter().map(|&(_, se)| 1.0 / (se * se)).collect();
    let mean = values
        .iter()
        .zip(&weights)
        .map(|(&(y, _), w)| w * y)
        .sum::<f64>()
        / weights.iter().sum::<f64>();
    let q: f64 = values
        .iter()
        .zip(&weights)
        .map(|(&(y, _), w)| w * (y - mean).powi(2))
        .sum();
    let dof = values.len() - 1;
    let p = ChiSquared::new(dof as f64).ok()?.sf(q);
    Some(Consistency { q, dof, p })
}

/// Sets each seed's own fit beside `pooled`, at the pooled fit's top budget. A seed's SE
/// in `ln D*/N*` is read off its 80% interval (half its width in logs over 1.2816), which
/// allows for the skew of a ratio's percentiles.
pub fn seed_agreement(pooled: &FitReport, per_seed: &[SeedRuns]) -> Option<SeedAgreement> {
    let top = pooled.tokens_per_param.last()?;
    let same = |c: f64| (c / top.c - 1.0).abs() < 1e-6;
    let mut seeds = Vec::new();
    let mut left_out = Vec::new();
    for own in per_seed {
        let seed = own.seed;
        match own.report.tokens_per_param.last() {
            Some(at) if same(at.c) => seeds.push(SeedFit {
                seed,
                runs: own.runs,
                ratio: at.ratio,
                ratio_spread: at.ratio_spread,
                a: own.report.approach3.a,
                beyond_runs: (own.top < top.c && !same(own.top)).then_some(own.top),
            }),
            Some(at) => left_out.push(format!(
                "seed {seed}: its fit was read at {:.4e}, not the pooled top budget {:.4e}",
                at.c, top.c
            )),
            None => left_out.push(format!("seed {seed}: no compute optimum")),
        }
    }
    let inside = |ci: [f64; 2], v: f64| ci[0] <= v && v <= ci[1];
    let every_seed_inside_pooled = top
        .ratio_spread
        .map(|s| seeds.iter().all(|f| inside(s.ci80, f.ratio)));
    let pooled_inside_every_seed = seeds
        .iter()
        .map(|f| f.ratio_spread.map(|s| inside(s.ci80, top.ratio)))
        .collect::<Option<Vec<bool>>>()
        .map(|all| all.iter().all(|&b| b));
    let logs: Option<Vec<(f64, f64)>> = seeds
        .iter()
        .map(|f| {
            let [lo, hi] = f.ratio_spread?.ci80;
            (lo > 0.0 && f.ratio > 0.0).then(|| (f.ratio.ln(), (hi / lo).ln() / (2.0 * Z80)))
        })
        .collect();
    Some(SeedAgreement {
        c: top.c,
        pooled: top.ratio,
        pooled_spread: top.ratio_spread,
        every_seed_inside_pooled,
        pooled_inside_every_seed,
        consistency: logs.as_deref().and_then(cochran_q),
        seeds,
        left_out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cochran_q_matches_a_hand_computed_value() {
        // Estimates 1, 2, 4 with SEs 1, 1, 2: weights 1, 1, 1/4, weighted mean 4/2.25 =
        // 16/9; Q = (7/9)² + (2/9)² + (20/9)²/4 = (49 + 4 + 100)/81 = 17/9.
        let c = cochran_q(&[(1.0, 1.0), (2.0, 1.0), (4.0, 2.0)]).unwrap();
        assert!((c.q - 17.0 / 9.0).abs() < 1e-12, "{}", c.q);
        assert_eq!(c.dof, 2);
        // With 2 dof the χ² survival function is exp(−q/2).
        assert!((c.p - (-c.q / 2.0).exp()).abs() < 1e-12, "{}", c.p);
        // Equal estimates agree perfectly; one estimate, or no SE, is no test.
        assert_eq!(cochran_q(&[(3.0, 0.5), (3.0, 0.1)]).unwrap().q, 0.0);
        assert!(cochran_q(&[(3.0, 0.5)]).is_none());
        assert!(cochran_q(&[(3.0, 0.5), (2.0, 0.0)]).is_none());
    }

    #[test]
    fn q_rejects_seeds_that_scatter_beyond_their_intervals() {
        // Three seeds 0.3 apart in logs with SEs of 0.1 do not agree; with SEs of 0.3 they do.
        let spread =
            |v: [f64; 3], se: f64| -> Vec<(f64, f64)> { v.iter().map(|&y| (y, se)).collect() };
        let tight = cochran_q(&spread([3.3, 3.6, 3.9], 0.1)).unwrap();
        let loose = cochran_q(&spread([3.3, 3.6, 3.9], 0.3)).unwrap();
        assert!(tight.p < 0.001, "{}", tight.p);
        assert!(loose.p > 0.3, "{}", loose.p);
    }
}
