//! Lab 1's numbers: Kaplan et al. 2020's single-variable exponents, fitted with and
//! without an irreducible term, under both parameter conventions.

use ladder_core::ParamCount;
use ladder_fit::{FitReport, FormFit, PowerLaw};
use serde::Serialize;

use super::line;

/// One of Kaplan's single-variable forms, fitted with and without E.
#[derive(Debug, Serialize)]
pub(crate) struct KaplanRow {
    /// `L(N)` or `L(D)`.
    law: &'static str,
    /// Parameter convention of N.
    params: ParamCount,
    alpha_without_e: Option<f64>,
    alpha_with_e: Option<f64>,
    #[serde(rename = "E")]
    e: Option<f64>,
    /// R² (log space) of the form with E.
    r2_log_with_e: Option<f64>,
    /// `(E − H) / H`, against the source's entropy rate H.
    e_vs_entropy: Option<f64>,
    /// Kaplan et al. 2020's exponent (eqs. 1.1 and 1.2).
    published: f64,
}

/// Lab 1's numbers.
#[derive(Debug, Serialize)]
pub(crate) struct Lab1 {
    kaplan: Vec<KaplanRow>,
}

impl Lab1 {
    /// The forms of `fit` (total parameters) and `nonemb` (non-embedding), against the
    /// source's entropy rate when it is known.
    pub(crate) fn new(fit: &FitReport, nonemb: Option<&FitReport>, entropy: Option<f64>) -> Self {
        let fitted = |f: &FormFit<PowerLaw>| match f {
            FormFit::Fitted(p) => Some(p.clone()),
            FormFit::Skipped { .. } => None,
        };
        let mut kaplan = Vec::new();
        for (params, report) in [
            (ParamCount::Total, Some(fit)),
            (ParamCount::NonEmbedding, nonemb),
        ] {
            let Some(report) = report else { continue };
            let k = &report.kaplan;
            for (law, pair, published) in [("L(N)", &k.l_n, 0.076), ("L(D)", &k.l_d, 0.095)] {
                let (without, with) = (fitted(&pair.without_e), fitted(&pair.with_e));
                kaplan.push(KaplanRow {
                    law,
                    params,
                    alpha_without_e: without.map(|p| p.alpha),
                    alpha_with_e: with.as_ref().map(|p| p.alpha),
                    e: with.as_ref().map(|p| p.e),
                    e_vs_entropy: with.as_ref().zip(entropy).map(|(p, h)| (p.e - h) / h),
                    r2_log_with_e: with.map(|p| p.r2_log),
                    published,
                });
            }
        }
        Self { kaplan }
    }

    /// The exponents against the paper's.
    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        line(
            &mut out,
            "Kaplan's forms (L = (x_c/x)^α without E; L = E + (x_c/x)^α with E):",
        );
        let num = |v: Option<f64>| v.map_or("not fitted".into(), |v| format!("{v:.3}"));
        for r in &self.kaplan {
            line(
                &mut out,
                format!(
                    "  {} with N {:<13}: α = {} without E, {} with E (E = {}); Kaplan et al.: {}",
                    r.law,
                    r.params.name(),
                    num(r.alpha_without_e),
                    num(r.alpha_with_e),
                    num(r.e),
                    r.published
                ),
            );
        }
        out
    }
}
