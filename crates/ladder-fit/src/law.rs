//! The Chinchilla parametric law and its compute-optimal allocation.

use serde::{Deserialize, Serialize};

/// `L(N, D) = E + A/N^α + B/D^β` (Hoffmann et al. 2022, eq. 2).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChinchillaLaw {
    /// Irreducible loss.
    #[serde(rename = "E")]
    #[serde(deserialize_with = "crate::json::number")]
    pub e: f64,
    /// Model-size coefficient.
    #[serde(rename = "A")]
    #[serde(deserialize_with = "crate::json::number")]
    pub a: f64,
    /// Data coefficient.
    #[serde(rename = "B")]
    #[serde(deserialize_with = "crate::json::number")]
    pub b: f64,
    /// Model-size exponent.
    #[serde(deserialize_with = "crate::json::number")]
    pub alpha: f64,
    /// Data exponent.
    #[serde(deserialize_with = "crate::json::number")]
    pub beta: f64,
}

impl ChinchillaLaw {
    /// Free parameters: E, A, B, α, β.
    pub const PARAMS: usize = 5;

    /// Hoffmann et al. 2022's approach-3 fit as published (rounded): E 1.69, A 406.4,
    /// B 410.7, α 0.34, β 0.28.
    pub const HOFFMANN_ROUNDED: Self = Self {
        e: 1.69,
        a: 406.4,
        b: 410.7,
        alpha: 0.34,
        beta: 0.28,
    };

    /// Predicted loss of a model of `n` parameters trained on `d` tokens.
    pub fn loss(&self, n: f64, d: f64) -> f64 {
        self.e + self.a / n.powf(self.alpha) + self.b / d.powf(self.beta)
    }

    /// The parameters as approach 3 optimises them: `[log A, log B, log E, α, β]`.
    pub fn log_params(&self) -> [f64; 5] {
        [self.a.ln(), self.b.ln(), self.e.ln(), self.alpha, self.beta]
    }

    /// Exponent `a` of `N* ∝ C^a`: `β/(α+β)` (Hoffmann et al. 2022, eq. 4).
    pub fn n_exponent(&self) -> f64 {
        self.beta / (self.alpha + self.beta)
    }

    /// Exponent `b` of `D* ∝ C^b`: `α/(α+β)`.
    pub fn d_exponent(&self) -> f64 {
        self.alpha / (self.alpha + self.beta)
    }

    /// The loss-minimising `(N*, D*)` under the budget `C = 6·N·D`
    /// (Hoffmann et al. 2022, eq. 4): with `G = (αA/(βB))^(1/(α+β))`,
    /// `N* = G·(C/6)^a` and `D* = (C/6)^b / G`.
    pub fn compute_optimal(&self, c: f64) -> (f64, f64) {
        let g = (self.alpha * self.a / (self.beta * self.b)).powf(1.0 / (self.alpha + self.beta));
        let n = g * (c / 6.0).powf(self.n_exponent());
        let d = (c / 6.0).powf(self.d_exponent()) / g;
        (n, d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Epoch AI's fit of the Chinchilla points (Besiroglu et al. 2024); the ratios
    /// 25.6 at 1e18 and 18.3 at 5.88e23 are quoted in ../shared/reference/README.md.
    const EPOCH: ChinchillaLaw = ChinchillaLaw {
        e: 1.8172,
        a: 482.01,
        b: 2085.43,
        alpha: 0.3478,
        beta: 0.3658,
    };

    #[test]
    fn optimum_spends_the_whole_budget_and_minimises_loss() {
        let c = 1e20;
        let (n, d) = EPOCH.compute_optimal(c);
        assert!((6.0 * n * d / c - 1.0).abs() < 1e-12);
        let best = EPOCH.loss(n, d);
        for f in [0.8, 0.95, 1.05, 1.25] {
            assert!(EPOCH.loss(n * f, d / f) > best);
        }
    }

    #[test]
    fn tokens_per_param_match_reference_table() {
        for (c, ratio) in [(1e18, 25.6), (5.88e23, 18.3)] {
            let (n, d) = EPOCH.compute_optimal(c);
            assert!((d / n - ratio).abs() < 0.15, "C={c}: {}", d / n);
        }
    }
}
