//! The line a budget's runs trace in `(N, D)`, and a law's compute optimum along it.
//!
//! An IsoFLOP design puts one budget's runs on `6·N_total·D = C`. Under N = total that is
//! the line along which [`ChinchillaLaw::compute_optimal`] looks. Under N = non-embedding
//! it is not: the same runs lie on a curve in `(N_ne, D)`, because the embedding's share
//! of a model falls as the model grows, while `compute_optimal` looks along
//! `6·N_ne·D = C`. Approach 2 takes its minimum along the runs' own curve, so a like-for-
//! like approach-3 optimum has to be taken there too: this is that curve, read off the
//! runs, and the law's minimum along it.

use crate::inference::golden_min;
use crate::ChinchillaLaw;

/// How far beyond the runs' sizes (in `ln N`) the optimum is looked for: a factor of
/// about 20 each side.
const REACH: f64 = 3.0;

/// A budget's runs as a curve `ln D = p(ln N)`: straight between neighbouring sizes (runs
/// of one size, the seeds, averaged), continued with the end segments' slopes beyond
/// them. Between two sizes there is no model to train, so nothing finer is measured.
#[derive(Debug, Clone, PartialEq)]
pub struct IsoPath {
    /// The budget's label in FLOPs.
    pub c: f64,
    /// `(ln N, ln D)` at each size, in increasing N.
    knots: Vec<(f64, f64)>,
}

impl IsoPath {
    /// The curve through `points` (`(N, D)` pairs) of the budget labelled `c`; `None`
    /// with fewer than two distinct sizes.
    pub fn through(points: &[(f64, f64)], c: f64) -> Option<Self> {
        let mut logs: Vec<(f64, f64)> = points.iter().map(|p| (p.0.ln(), p.1.ln())).collect();
        logs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut knots: Vec<(f64, f64, f64)> = Vec::new();
        for (x, y) in logs {
            match knots.last_mut() {
                Some(k) if k.0 == x => (k.1, k.2) = (k.1 + y, k.2 + 1.0),
                _ => knots.push((x, y, 1.0)),
            }
        }
        (knots.len() >= 2).then(|| Self {
            c,
            knots: knots.into_iter().map(|(x, y, k)| (x, y / k)).collect(),
        })
    }

    /// `ln D` at `ln N = x`.
    pub fn log_d(&self, x: f64) -> f64 {
        let k = &self.knots;
        // The segment that holds x, or the end segment beyond the runs' sizes.
        let i = k[1..k.len() - 1].partition_point(|p| p.0 < x);
        let ((x0, y0), (x1, y1)) = (k[i], k[i + 1]);
        y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    }

    /// The `(N, D)` along the curve where `law` is lowest, looked for within a factor of
    /// about 20 of the runs' sizes; `None` when the minimum is at that search's edge.
    pub fn optimum(&self, law: &ChinchillaLaw) -> Option<(f64, f64)> {
        let (first, last) = (self.knots[0].0, self.knots[self.knots.len() - 1].0);
        let [lo, hi] = [first - REACH, last + REACH];
        let loss = |x: f64| law.loss(x.exp(), self.log_d(x).exp());
        // A scan first: the loss along a curve need not be unimodal over the whole reach.
        let steps = 240;
        let at = |i: usize| lo + (hi - lo) * i as f64 / steps as f64;
        let best = (0..=steps)
            .min_by(|&i, &j| loss(at(i)).total_cmp(&loss(at(j))))
            .filter(|&i| i > 0 && i < steps)?;
        let x = golden_min(loss, at(best - 1), at(best + 1));
        Some((x.exp(), self.log_d(x).exp()))
    }
}

/// Where a compute optimum is looked for: along `6·N·D = C` in the fit's own N, along
/// the curve a budget's runs trace, or as approach 2 reads it off the law's losses.
#[derive(Debug, Clone, PartialEq)]
pub enum IsoFlop {
    /// `6·N·D = C`.
    Line(f64),
    /// A budget's runs.
    Path(IsoPath),
    /// Approach 2's reading at its top budget ([`crate::Reading`]).
    Approach2(Box<crate::Reading>),
}

impl IsoFlop {
    /// The budget's label in FLOPs.
    pub fn c(&self) -> f64 {
        match self {
            IsoFlop::Line(c) => *c,
            IsoFlop::Path(p) => p.c,
            IsoFlop::Approach2(r) => r.top(),
        }
    }

    /// `law`'s compute optimum `(N, D)` there, if it has one.
    pub fn optimum(&self, law: &ChinchillaLaw) -> Option<(f64, f64)> {
        match self {
            IsoFlop::Line(c) => Some(law.compute_optimal(*c)),
            IsoFlop::Path(p) => p.optimum(law),
            IsoFlop::Approach2(r) => r.optimum(law),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAW: ChinchillaLaw = ChinchillaLaw {
        e: 1.8,
        a: 400.0,
        b: 2000.0,
        alpha: 0.34,
        beta: 0.28,
    };

    #[test]
    fn on_a_budgets_own_line_it_is_the_compute_optimum() {
        let c = 1e19;
        let runs: Vec<(f64, f64)> = [2e7, 5e7, 1e8, 3e8, 6e8]
            .iter()
            .map(|&n| (n, c / (6.0 * n)))
            .collect();
        let path = IsoPath::through(&runs, c).unwrap();
        let (n, d) = path.optimum(&LAW).unwrap();
        let (n0, d0) = LAW.compute_optimal(c);
        assert!((n / n0 - 1.0).abs() < 1e-6, "{n} vs {n0}");
        assert!((d / d0 - 1.0).abs() < 1e-6, "{d} vs {d0}");
    }

    #[test]
    fn under_a_shifted_count_it_follows_the_runs_not_six_n_d() {
        // The runs are iso in N + 3e4 (a fixed embedding); the law is in N alone.
        let (c, emb) = (2e13, 3e4);
        let runs: Vec<(f64, f64)> = [1e4, 2e4, 4e4, 8e4, 1.6e5, 3.2e5]
            .iter()
            .map(|&n| (n, c / (6.0 * (n + emb))))
            .collect();
        let path = IsoPath::through(&runs, c).unwrap();
        let law = ChinchillaLaw {
            e: 0.9,
            a: 60.0,
            b: 600.0,
            alpha: 0.4,
            beta: 0.35,
        };
        let (n, d) = path.optimum(&law).unwrap();
        // The true optimum along N + emb = c / 6D, by brute force on the exact curve
        // (about 6e4, inside the runs' sizes).
        let truth = (0..200_000)
            .map(|i| 1e3 * 1e4f64.powf(i as f64 / 200_000.0))
            .min_by(|&x, &y| {
                let l = |n: f64| law.loss(n, c / (6.0 * (n + emb)));
                l(x).total_cmp(&l(y))
            })
            .unwrap();
        assert!((n / truth - 1.0).abs() < 0.02, "{n} vs {truth}");
        assert!((d / (c / (6.0 * (truth + emb))) - 1.0).abs() < 0.02);
        // And it is not the optimum along 6·N·D = C.
        let (n6, _) = law.compute_optimal(c);
        assert!((n6 / truth - 1.0).abs() > 0.1, "{n6} vs {truth}");
    }

    #[test]
    fn one_size_is_no_path_and_a_minimum_at_the_reach_is_none() {
        assert!(IsoPath::through(&[(1e4, 1e6), (1e4, 1e6)], 6e10).is_none());
        let runs = [(1e4, 1e6), (2e4, 5e5)];
        let path = IsoPath::through(&runs, 6e10).unwrap();
        // A law without a data term: bigger is always better, so no interior minimum.
        let law = ChinchillaLaw { b: 0.0, ..LAW };
        assert!(path.optimum(&law).is_none());
    }
}
