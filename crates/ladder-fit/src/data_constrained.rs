//! Data-constrained scaling (Muennighoff et al. 2023, "Scaling Data-Constrained Language
//! Models", eq. 5): repeated tokens and parameters beyond what the unique data can use
//! are worth less than fresh ones, with a value that decays exponentially in the number
//! of repetitions.
//!
//! With `U` unique tokens trained for `D` tokens in all, `R_D = D/U − 1` repetitions are
//! worth `D' = U + U·R_D*·(1 − e^(−R_D/R_D*))` fresh tokens. Parameters beyond `U_N`,
//! the compute-optimal size for `U` tokens, are discounted the same way with `R_N*`.
//! The loss is the Chinchilla form evaluated at `(N', D')`.

use crate::inference::golden_min;
use crate::ChinchillaLaw;

/// How fast repeated data and excess parameters lose their value: the repetition
/// counts `R_D*` and `R_N*` at which the discount reaches `1 − 1/e`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Repetition {
    /// `R_D*`, for repeated tokens.
    pub r_d_star: f64,
    /// `R_N*`, for parameters beyond what the unique tokens can use.
    pub r_n_star: f64,
}

/// A Chinchilla-form law with Muennighoff et al.'s repetition discount.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DataConstrainedLaw {
    /// The law for unique data, `L(N, D)` when nothing repeats.
    pub base: ChinchillaLaw,
    /// The discount for repetition.
    pub repetition: Repetition,
}

/// `x + x·r*·(1 − e^(−r/r*))`: what `x·(1 + r)` units are worth when `r` of them are
/// repeats.
fn effective(x: f64, repeats: f64, star: f64) -> f64 {
    x + x * star * (1.0 - (-repeats / star).exp())
}

impl DataConstrainedLaw {
    /// The model size for which `d` tokens are compute-optimal under the base law:
    /// `N = G·(G·D)^(β/α)` with `G = (αA/(βB))^(1/(α+β))` (the inverse of
    /// [`ChinchillaLaw::compute_optimal`]'s `D*(C)`).
    pub fn optimal_n_for_tokens(&self, d: f64) -> f64 {
        let l = &self.base;
        let g = (l.alpha * l.a / (l.beta * l.b)).powf(1.0 / (l.alpha + l.beta));
        g * (g * d).powf(l.beta / l.alpha)
    }

    /// Effective `(N', D')` for `n` parameters trained on `d` tokens of which `unique`
    /// are distinct. More unique tokens than `d` means nothing repeats.
    pub fn effective(&self, n: f64, d: f64, unique: f64) -> (f64, f64) {
        let u = unique.min(d);
        let r_d = (d / u - 1.0).max(0.0);
        let u_n = n.min(self.optimal_n_for_tokens(u));
        let r_n = (n / u_n - 1.0).max(0.0);
        (
            effective(u_n, r_n, self.repetition.r_n_star),
            effective(u, r_d, self.repetition.r_d_star),
        )
    }

    /// Predicted loss of `n` parameters trained on `d` tokens drawn from `unique`
    /// distinct ones.
    pub fn loss(&self, n: f64, d: f64, unique: f64) -> f64 {
        let (n_eff, d_eff) = self.effective(n, d, unique);
        self.base.loss(n_eff, d_eff)
    }

    /// The loss-minimising `(N, D)` on the IsoFLOP curve `D = C/(6N)` with `unique`
    /// distinct tokens available: a scan over six decades around the base law's optimum,
    /// refined by golden-section search. `None` for a non-positive budget or data.
    pub fn compute_optimal(&self, c: f64, unique: f64) -> Option<(f64, f64)> {
        if !(c > 0.0 && unique > 0.0) {
            return None;
        }
        let loss = |log_n: f64| {
            let n = log_n.exp();
            self.loss(n, c / (6.0 * n), unique)
        };
        let centre = self.base.compute_optimal(c).0.ln();
        let (span, steps) = (3.0 * std::f64::consts::LN_10, 600);
        let step = 2.0 * span / steps as f64;
        let (best, _) = (0..=steps)
            .map(|i| centre - span + i as f64 * step)
            .map(|x| (x, loss(x)))
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        let n = golden_min(loss, best - step, best + step).exp();
        Some((n, c / (6.0 * n)))
    }
}

#[cfg(test)]
mod tests {
    use crate::presets::MUENNIGHOFF_2023;

    /// Without repetition the law is its base law.
    #[test]
    fn unique_data_is_the_base_law() {
        let law = MUENNIGHOFF_2023;
        let (n, d) = (1e9, 2e10);
        let base = law.base.loss(n, d);
        assert!((law.loss(n, d, d) - base).abs() < 1e-12);
        assert!((law.loss(n, d, 10.0 * d) - base).abs() < 1e-12);
        // Repeating 4 times costs little, 40 times a lot (Muennighoff et al.'s headline).
        let four = law.loss(n, d, d / 4.0) - base;
        let forty = law.loss(n, d, d / 40.0) - base;
        assert!(four > 0.0 && forty > 5.0 * four, "{four} {forty}");
    }

    /// The two models of Muennighoff et al.'s Figure 1 (right), 25B unique tokens: the
    /// authors' code prints 2.2256440889984477 for 6.34B parameters on 242B tokens and
    /// 2.2269634075087867 for 8.67B on 178B (datablations README, "Parametric Fit").
    #[test]
    fn figure_one_losses_match_the_authors_code() {
        let law = MUENNIGHOFF_2023;
        let a = law.loss(6.34e9, 242e9, 25e9);
        let b = law.loss(8.67e9, 178e9, 25e9);
        assert!((a - 2.225_644_088_998_447_7).abs() < 1e-6, "{a}");
        assert!((b - 2.226_963_407_508_786_7).abs() < 1e-6, "{b}");
    }

    /// At the budget of the 8.67B/178B model with 25B unique tokens the authors' grid
    /// search gives 227B tokens (9.1 epochs) and 6.8B parameters; the grid steps by
    /// 0.4%, so agreement within 2% is what their numbers allow.
    #[test]
    fn optimum_matches_the_authors_allocation() {
        let c = 6.0 * 8.67e9 * 178e9;
        let (n, d) = MUENNIGHOFF_2023.compute_optimal(c, 25e9).unwrap();
        assert!((n / 6.8e9 - 1.0).abs() < 0.02, "{n}");
        assert!((d / 227e9 - 1.0).abs() < 0.02, "{d}");
        let at = |f: f64| MUENNIGHOFF_2023.loss(n * f, d / f, 25e9);
        assert!(at(1.0) < at(0.97) && at(1.0) < at(1.03));
    }
}
