//! The lack-of-fit test: does a law miss its runs by more than the runs' own seed noise?
//!
//! Where points are trained with several seeds, the residuals split in two (Draper &
//! Smith, *Applied Regression Analysis*, 3rd ed., §2.1; NIST/SEMATECH e-Handbook §4.4.4.3):
//! the **pure error**, the spread of each point's runs about their own mean, which no law
//! can fit; and the **lack of fit**, the spread of the point means about the law. Under
//! "the law is right and the noise is the seeds'", `F = MS_lack / MS_pure` follows an F
//! distribution with `(m − p, n − m)` degrees of freedom (`n` runs at `m` distinct
//! points, `p` fitted parameters). A small p-value says the law misses the points by
//! more than the seeds scatter: a misfit that more seeds cannot remove. Unlike a fixed R²
//! threshold, the test neither rejects a true law because the runs are noisy nor passes a
//! wrong one because they are many.
//!
//! Residuals are in log loss, as approach 3 fits them; the test assumes the seed noise
//! is the same at every point (in log loss), which the seed table lets a reader check.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, FisherSnedecor};

/// The lack-of-fit F test of a law's residuals against the seed noise.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LackOfFit {
    /// Runs.
    pub runs: usize,
    /// Distinct points (replicate groups).
    pub points: usize,
    /// Parameters the law fitted.
    pub params: usize,
    /// RMS of the point means' log residuals: how far the law misses a point.
    #[serde(deserialize_with = "crate::json::number")]
    pub misfit_rms: f64,
    /// Pooled seed SD of the log loss (pure error, `n − m` degrees of freedom).
    #[serde(deserialize_with = "crate::json::number")]
    pub seed_sd: f64,
    /// `MS_lack / MS_pure`.
    #[serde(deserialize_with = "crate::json::number")]
    pub f: f64,
    /// `P(F ≥ f)` under the law with seed noise only.
    #[serde(deserialize_with = "crate::json::number")]
    pub p: f64,
}

impl LackOfFit {
    /// The test on `residuals` (log residuals, one per run) grouped by `groups` (indices
    /// into `residuals` of the runs at one point) for a law of `params` parameters.
    /// `None` when it cannot run: no point has two runs, no more points than parameters,
    /// or the seeds agree exactly.
    pub fn new(residuals: &[f64], groups: &[Vec<usize>], params: usize) -> Option<Self> {
        let n = residuals.len();
        let m = groups.len();
        if m <= params || n <= m {
            return None;
        }
        let mut pure = 0.0;
        let mut lack = 0.0;
        let mut means = 0.0;
        for g in groups {
            let mean = g.iter().map(|&i| residuals[i]).sum::<f64>() / g.len() as f64;
            pure += g
                .iter()
                .map(|&i| (residuals[i] - mean).powi(2))
                .sum::<f64>();
            lack += g.len() as f64 * mean * mean;
            means += mean * mean;
        }
        if pure <= 0.0 {
            return None;
        }
        let (df_lack, df_pure) = ((m - params) as f64, (n - m) as f64);
        let f = (lack / df_lack) / (pure / df_pure);
        let p = FisherSnedecor::new(df_lack, df_pure).ok()?.sf(f);
        Some(Self {
            runs: n,
            points: m,
            params,
            misfit_rms: (means / m as f64).sqrt(),
            seed_sd: (pure / df_pure).sqrt(),
            f,
            p,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points `0..m`, `k` runs each: residual `offset(point) + noise[run]`.
    fn residuals(m: usize, k: usize, offset: impl Fn(usize) -> f64) -> (Vec<f64>, Vec<Vec<usize>>) {
        let noise = [0.01, -0.01, 0.005, -0.005];
        let r = (0..m * k).map(|i| offset(i / k) + noise[i % k]).collect();
        let groups = (0..m).map(|j| (j * k..(j + 1) * k).collect()).collect();
        (r, groups)
    }

    #[test]
    fn known_answer() {
        // Two points of 2 runs, one parameter: means 0.1 and −0.1, within-pair ±0.01.
        let r = [0.11, 0.09, -0.09, -0.11];
        let t = LackOfFit::new(&r, &[vec![0, 1], vec![2, 3]], 1).unwrap();
        // lack = 2·0.01 + 2·0.01 = 0.04 over 1 dof; pure = 4·1e-4 over 2 dof.
        assert!((t.f - 0.04 / 2e-4).abs() < 1e-9, "{}", t.f);
        // F(1, 2): P(F ≥ f) = 1 − sqrt(f / (f + 2)) exactly (a t² with 2 dof).
        let expected = 1.0 - (t.f / (t.f + 2.0)).sqrt();
        assert!((t.p - expected).abs() < 1e-9, "{} vs {expected}", t.p);
        assert!((t.misfit_rms - 0.1).abs() < 1e-12);
        assert!((t.seed_sd - 2e-4f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn misfit_within_the_seed_noise_passes_and_beyond_it_fails() {
        // Point means scattered by less than the seeds: no evidence of misfit.
        let (r, g) = residuals(20, 4, |j| if j % 2 == 0 { 0.002 } else { -0.002 });
        let t = LackOfFit::new(&r, &g, 5).unwrap();
        assert!(t.p > 0.5, "{t:?}");
        // A 3% systematic miss against seeds that agree within 1%: rejected.
        let (r, g) = residuals(20, 4, |j| if j % 2 == 0 { 0.03 } else { -0.03 });
        let t = LackOfFit::new(&r, &g, 5).unwrap();
        assert!(t.p < 1e-6, "{t:?}");
    }

    #[test]
    fn needs_replicates_and_more_points_than_parameters() {
        let r = [0.1, -0.1, 0.05];
        let singles = vec![vec![0], vec![1], vec![2]];
        assert!(LackOfFit::new(&r, &singles, 1).is_none());
        let (r, g) = residuals(5, 2, |_| 0.0);
        assert!(LackOfFit::new(&r, &g, 5).is_none());
    }
}
