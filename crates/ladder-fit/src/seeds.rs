//! Runs that differ only by seed: the spread of their final losses at each point, the
//! noise floor that no law can fit below.

use serde::{Deserialize, Serialize};

use crate::stats::mean_sd;
use crate::Dataset;

/// The final losses of the runs at one `(N, D)` that differ only by seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedSpread {
    /// Parameters.
    #[serde(rename = "N")]
    #[serde(deserialize_with = "crate::json::number")]
    pub n: f64,
    /// Training tokens.
    #[serde(rename = "D")]
    #[serde(deserialize_with = "crate::json::number")]
    pub d: f64,
    /// Budget label in FLOPs.
    #[serde(rename = "C")]
    #[serde(deserialize_with = "crate::json::number")]
    pub c: f64,
    /// Runs (seeds).
    pub runs: usize,
    /// Mean final loss.
    #[serde(deserialize_with = "crate::json::number")]
    pub mean: f64,
    /// Standard deviation of the final loss over the seeds.
    #[serde(deserialize_with = "crate::json::number")]
    pub sd: f64,
}

/// The spread at every point of `data` with two or more runs.
pub fn seed_spreads(data: &Dataset) -> Vec<SeedSpread> {
    let p = data.points.as_slice();
    data.replicates()
        .into_iter()
        .filter(|g| g.len() > 1)
        .map(|g| {
            let losses: Vec<f64> = g.iter().map(|&i| p[i].loss).collect();
            let (mean, sd) = mean_sd(&losses);
            SeedSpread {
                n: p[g[0]].n,
                d: p[g[0]].d,
                c: data.budgets[g[0]],
                runs: g.len(),
                mean,
                sd,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Point, Points};

    #[test]
    fn only_points_with_several_seeds_have_a_spread() {
        let pt = |n: f64, loss: f64| Point { n, d: 1e6, loss };
        let points = Points::new(vec![pt(1e4, 3.0), pt(2e4, 2.9), pt(1e4, 3.2)]).unwrap();
        let spreads = seed_spreads(&Dataset::unlabelled(points));
        assert_eq!(spreads.len(), 1);
        let s = &spreads[0];
        assert_eq!((s.n, s.runs), (1e4, 2));
        assert!((s.mean - 3.1).abs() < 1e-12);
        assert!((s.sd - 0.2f64.hypot(0.0) / 2f64.sqrt()).abs() < 1e-12);
    }
}
