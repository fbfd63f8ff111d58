//! How well a fitted law describes its points: R² in log space, residuals per run,
//! rank tests for a trend left in the residuals, and flags for degenerate fits.

use serde::{Deserialize, Serialize};

use crate::stats::{r_squared, spearman};
use crate::{Approach3Bootstrap, ChinchillaLaw, Dataset, LackOfFit};

/// One point's residual.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Residual {
    /// Run label.
    pub run: String,
    /// Parameters.
    #[serde(rename = "N")]
    #[serde(deserialize_with = "crate::json::number")]
    pub n: f64,
    /// Tokens.
    #[serde(rename = "D")]
    #[serde(deserialize_with = "crate::json::number")]
    pub d: f64,
    /// Observed loss.
    #[serde(deserialize_with = "crate::json::number")]
    pub loss: f64,
    /// The law's prediction.
    #[serde(deserialize_with = "crate::json::number")]
    pub predicted: f64,
    /// `ln loss − ln predicted`.
    #[serde(deserialize_with = "crate::json::number")]
    pub log_residual: f64,
}

/// Spearman's rank correlation of the log residuals with a variable, and its p-value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    /// Rank correlation.
    #[serde(deserialize_with = "crate::json::number")]
    pub rho: f64,
    /// Two-sided p-value (normal approximation; 1 below 10 points).
    #[serde(deserialize_with = "crate::json::number")]
    pub p: f64,
}

/// Diagnostics of an approach-3 fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// R² of `ln loss` against `ln predicted`.
    #[serde(deserialize_with = "crate::json::number")]
    pub r2_log: f64,
    /// Trend of the residuals against `ln N`.
    pub trend_n: Trend,
    /// Trend of the residuals against `ln D`.
    pub trend_d: Trend,
    /// Why the fit cannot be trusted, if it cannot; empty otherwise.
    pub degenerate: Vec<String>,
    /// Residual of every point.
    pub residuals: Vec<Residual>,
    /// The lack-of-fit test against the seed noise, where points have several seeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lack_of_fit: Option<LackOfFit>,
}

/// Exponents outside `(EXPONENT_FLOOR, EXPONENT_CEILING)` mean the fit ran to an edge.
pub const EXPONENT_FLOOR: f64 = 1e-3;
/// See [`EXPONENT_FLOOR`].
pub const EXPONENT_CEILING: f64 = 2.5;
/// An irreducible loss below this is at its floor (the fit drove E to zero).
pub const E_FLOOR: f64 = 1e-3;
/// A coefficient whose bootstrap 95% interval spans more than this factor is not
/// identified by the data.
pub const UNIDENTIFIED_SPAN: f64 = 100.0;
/// A term smaller than this fraction of the loss at every point is not seen by the data.
pub const NEGLIGIBLE_TERM: f64 = 1e-3;

impl Diagnostics {
    /// Diagnoses `law` fitted to `data`, with the bootstrap if there was one.
    pub fn new(data: &Dataset, law: &ChinchillaLaw, boot: Option<&Approach3Bootstrap>) -> Self {
        let residuals: Vec<Residual> = data
            .points
            .as_slice()
            .iter()
            .zip(&data.runs)
            .map(|(p, run)| {
                let predicted = law.loss(p.n, p.d);
                Residual {
                    run: run.clone(),
                    n: p.n,
                    d: p.d,
                    loss: p.loss,
                    predicted,
                    log_residual: p.loss.ln() - predicted.ln(),
                }
            })
            .collect();
        let observed: Vec<f64> = residuals.iter().map(|r| r.loss.ln()).collect();
        let predicted: Vec<f64> = residuals.iter().map(|r| r.predicted.ln()).collect();
        let res: Vec<f64> = residuals.iter().map(|r| r.log_residual).collect();
        let trend = |x: Vec<f64>| {
            let (rho, p) = spearman(&x, &res);
            Trend { rho, p }
        };
        Self {
            r2_log: r_squared(&observed, &predicted),
            trend_n: trend(residuals.iter().map(|r| r.n.ln()).collect()),
            trend_d: trend(residuals.iter().map(|r| r.d.ln()).collect()),
            degenerate: degenerate(data, law, boot),
            lack_of_fit: LackOfFit::new(&res, &data.replicates(), ChinchillaLaw::PARAMS),
            residuals,
        }
    }

    /// Whether the points determine `law`'s compute optimum at all: at least two model
    /// sizes and two token counts among them, no exponent at an edge of its range, E
    /// not at its floor and neither term negligible at every point. A weakly identified
    /// A or B (a wide bootstrap interval, also reported as degenerate) still determines
    /// one, whose own interval carries that.
    pub fn optimum_determined(&self, law: &ChinchillaLaw) -> bool {
        let distinct = |of: fn(&Residual) -> f64| {
            let mut v: Vec<f64> = self.residuals.iter().map(of).collect();
            v.sort_by(f64::total_cmp);
            v.dedup();
            v.len()
        };
        let points: Vec<[f64; 3]> = self.residuals.iter().map(|r| [r.n, r.d, r.loss]).collect();
        distinct(|r| r.n) >= 2 && distinct(|r| r.d) >= 2 && unidentified(law, &points).is_empty()
    }
}

/// Which exponents lie outside `(EXPONENT_FLOOR, EXPONENT_CEILING)`, and whether `e`
/// (the irreducible loss, for forms that have one) is at its floor: one reason each.
pub(crate) fn edges(exponents: &[(&str, f64)], e: Option<f64>) -> Vec<String> {
    let mut out: Vec<String> = exponents
        .iter()
        .filter(|(_, v)| *v <= EXPONENT_FLOOR || *v >= EXPONENT_CEILING)
        .map(|(name, v)| {
            format!("{name} = {v:.4} is at the edge of its range ({EXPONENT_FLOOR}, {EXPONENT_CEILING})")
        })
        .collect();
    if let Some(e) = e.filter(|e| *e < E_FLOOR) {
        out.push(format!(
            "E = {e:.2e} is at its floor: the points show no irreducible loss, so E and the \
             exponents are not identified"
        ));
    }
    out
}

/// The reasons, if any, why `law` is not determined by `points` ([N, D, loss] each) at
/// all: an exponent at an edge of its range, E at its floor, a term negligible at every
/// point.
fn unidentified(law: &ChinchillaLaw, points: &[[f64; 3]]) -> Vec<String> {
    let mut out = edges(&[("alpha", law.alpha), ("beta", law.beta)], Some(law.e));
    for (name, term) in [
        ("A", &|n: f64, _d: f64| law.a / n.powf(law.alpha)),
        ("B", &|_n: f64, d: f64| law.b / d.powf(law.beta)),
    ] as [(&str, &dyn Fn(f64, f64) -> f64); 2]
    {
        if points
            .iter()
            .all(|&[n, d, loss]| term(n, d) < NEGLIGIBLE_TERM * loss)
        {
            out.push(format!(
                "{name}'s term is below {:.1}% of the loss at every point: {name} is not identified",
                100.0 * NEGLIGIBLE_TERM
            ));
        }
    }
    out
}

/// The reasons, if any, why the fit is degenerate.
fn degenerate(
    data: &Dataset,
    law: &ChinchillaLaw,
    boot: Option<&Approach3Bootstrap>,
) -> Vec<String> {
    let points: Vec<[f64; 3]> = data
        .points
        .as_slice()
        .iter()
        .map(|p| [p.n, p.d, p.loss])
        .collect();
    let mut out = unidentified(law, &points);
    if let Some(b) = boot {
        for (name, spread) in &b.params {
            if (*name == "A" || *name == "B") && spread.ci95[1] > UNIDENTIFIED_SPAN * spread.ci95[0]
            {
                out.push(format!(
                    "{name}'s bootstrap 95% interval [{:.3e}, {:.3e}] spans more than a factor \
                     {UNIDENTIFIED_SPAN}: {name} is not identified",
                    spread.ci95[0], spread.ci95[1]
                ));
            }
        }
    }
    out
}
