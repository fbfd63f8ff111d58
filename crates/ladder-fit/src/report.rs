//! What a fit says: the fitted law, the compute-optimal allocation at given budgets,
//! a JSON shape for machines and verdict lines for people.

use std::fmt;

use serde::Serialize;

use crate::{Approach3Fit, ChinchillaLaw};

/// The tokens-per-parameter ratio at the compute optimum that Hoffmann et al. 2022
/// made famous (their Table 3 gives ≈ 20 across budgets).
pub const CHINCHILLA_TOKENS_PER_PARAM: f64 = 20.0;

/// Approach-3 parameters and objective, serialised as `approach3.{E,A,B,alpha,beta,objective}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Approach3Json {
    #[serde(flatten)]
    law: ChinchillaLaw,
    objective: f64,
    converged_starts: usize,
    total_starts: usize,
}

/// `D*/N*` at one budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TokensPerParam {
    /// Compute budget in FLOPs (6·N·D).
    #[serde(rename = "C")]
    pub c: f64,
    /// Compute-optimal parameters at that budget.
    pub n_opt: f64,
    /// Compute-optimal tokens at that budget.
    pub d_opt: f64,
    /// `D*/N*`.
    pub ratio: f64,
}

/// The compute-optimal allocation: `N* ∝ C^a`, `D* ∝ C^b`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptimalAllocation {
    /// Exponent of `N*`: `β/(α+β)`.
    pub a: f64,
    /// Exponent of `D*`: `α/(α+β)`.
    pub b: f64,
    /// `D*/N*` at each budget.
    pub tokens_per_param: Vec<TokensPerParam>,
}

/// A finished fit, ready to print or serialise.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitReport {
    /// Which parameter count the fit used: `total` or `non-embedding`.
    pub params: String,
    /// Number of points fitted.
    pub points: usize,
    /// The approach-3 fit.
    pub approach3: Approach3Json,
    /// The compute-optimal allocation it implies.
    pub optimal: OptimalAllocation,
}

impl FitReport {
    /// Builds the report of `fit` with `D*/N*` at each of `budgets` (FLOPs).
    pub fn new(fit: &Approach3Fit, budgets: &[f64], params: &str, points: usize) -> Self {
        let law = fit.law;
        let tokens_per_param = budgets
            .iter()
            .map(|&c| {
                let (n_opt, d_opt) = law.compute_optimal(c);
                TokensPerParam {
                    c,
                    n_opt,
                    d_opt,
                    ratio: d_opt / n_opt,
                }
            })
            .collect();
        Self {
            params: params.to_string(),
            points,
            approach3: Approach3Json {
                law,
                objective: fit.objective,
                converged_starts: fit.converged_starts,
                total_starts: fit.total_starts,
            },
            optimal: OptimalAllocation {
                a: law.n_exponent(),
                b: law.d_exponent(),
                tokens_per_param,
            },
        }
    }

    /// The fitted law.
    pub fn law(&self) -> ChinchillaLaw {
        self.approach3.law
    }

    /// One line per claim, comparing this fit with Hoffmann et al. 2022. These are point
    /// estimates: without confidence intervals they cannot confirm or reject a claim.
    pub fn verdicts(&self) -> Vec<String> {
        let law = self.law();
        let mut lines = Vec::new();
        for (name, v) in [("alpha", law.alpha), ("beta", law.beta)] {
            if v <= 1e-3 || v >= 2.5 {
                lines.push(format!("{name} = {v:.4} is at the edge of its range: the fit is degenerate, do not trust it"));
            }
        }
        if law.e < 1e-3 {
            lines.push(format!(
                "E = {:.2e} sits at its lower bound: the points do not show an irreducible loss, so E, and the \
                 exponents with it, are not identified",
                law.e
            ));
        }
        lines.push(format!(
            "N* ∝ C^{:.3}, D* ∝ C^{:.3} (Chinchilla approach 3: a ≈ 0.46, b ≈ 0.54; equal scaling is 0.5)",
            self.optimal.a, self.optimal.b
        ));
        for t in &self.optimal.tokens_per_param {
            let factor = t.ratio / CHINCHILLA_TOKENS_PER_PARAM;
            let judgement = if (0.5..=2.0).contains(&factor) {
                "within 2x of the claim"
            } else {
                "more than 2x from the claim"
            };
            lines.push(format!(
                "D/N at C={:.3e}: {:.1} (Chinchilla ≈ 20): {judgement}",
                t.c, t.ratio
            ));
        }
        lines
    }
}

impl fmt::Display for FitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let law = self.law();
        writeln!(
            f,
            "Chinchilla approach 3 ({} points, N = {} parameters)",
            self.points, self.params
        )?;
        writeln!(f, "  L(N, D) = E + A/N^alpha + B/D^beta")?;
        writeln!(f, "  {:<10} {:>14}", "E", format!("{:.4}", law.e))?;
        writeln!(f, "  {:<10} {:>14}", "A", format!("{:.4e}", law.a))?;
        writeln!(f, "  {:<10} {:>14}", "B", format!("{:.4e}", law.b))?;
        writeln!(f, "  {:<10} {:>14}", "alpha", format!("{:.4}", law.alpha))?;
        writeln!(f, "  {:<10} {:>14}", "beta", format!("{:.4}", law.beta))?;
        writeln!(
            f,
            "  {:<10} {:>14}",
            "objective",
            format!("{:.6e}", self.approach3.objective)
        )?;
        writeln!(
            f,
            "  starts converged: {}/{}",
            self.approach3.converged_starts, self.approach3.total_starts
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "  {:>12} {:>12} {:>12} {:>8}",
            "C (FLOPs)", "N*", "D*", "D*/N*"
        )?;
        for t in &self.optimal.tokens_per_param {
            writeln!(
                f,
                "  {:>12.3e} {:>12.3e} {:>12.3e} {:>8.1}",
                t.c, t.n_opt, t.d_opt, t.ratio
            )?;
        }
        Ok(())
    }
}
