//! Lab 4's numbers: inference-aware sizing (Sardana et al. 2024) with the fitted law at
//! its largest budget, and Chinchilla's law at Llama 3 8B's loss.

use ladder_fit::{
    chinchilla_for_loss, optimum_for_loss, preset, served_tokens_for_optimum, Allocation,
    ChinchillaLaw, FitReport, MODELS,
};
use serde::Serialize;

use super::{line, signed_percent};
use crate::LabError;

/// One scenario: the cheapest model for `loss` when it will serve `tokens_served`
/// tokens, against Chinchilla's compute-optimal model of the same loss.
#[derive(Debug, Serialize)]
struct Scenario {
    law: String,
    loss: f64,
    tokens_served: f64,
    inference_optimal: Allocation,
    inference_optimal_ratio: f64,
    chinchilla: Allocation,
    chinchilla_ratio: f64,
    /// `N_chinchilla / N_inference`.
    smaller_by: f64,
    /// `(total FLOPs, inference-optimal) / (total FLOPs, Chinchilla) − 1`.
    total_cost_change: f64,
    /// The share of Chinchilla's total FLOPs that the inference-aware model saves
    /// (`−total_cost_change`).
    saving: f64,
}

/// Llama 3 8B under Chinchilla's law.
#[derive(Debug, Serialize)]
struct Llama {
    #[serde(rename = "N")]
    n: f64,
    #[serde(rename = "D")]
    d: f64,
    ratio: f64,
    /// The loss Chinchilla's law predicts for it.
    loss: f64,
    /// The Chinchilla-optimal model of that loss.
    chinchilla: Allocation,
    chinchilla_ratio: f64,
    /// Lifetime tokens served for which Llama 3 8B is the cheapest way to its loss.
    tokens_served_for_optimum: f64,
    /// Those tokens over its training tokens.
    served_over_trained: f64,
}

/// Lab 4's numbers.
#[derive(Debug, Serialize)]
pub(crate) struct Lab4 {
    scenarios: Vec<Scenario>,
    llama3_8b: Llama,
}

impl Scenario {
    fn new(law: &ChinchillaLaw, name: &str, loss: f64, t: f64) -> Result<Self, LabError> {
        let unreachable = || {
            LabError::Runtime(format!(
                "the {name} law cannot reach loss {loss:.4} (its E is {:.4})",
                law.e
            ))
        };
        let best = optimum_for_loss(law, loss, t).ok_or_else(unreachable)?;
        let chin = chinchilla_for_loss(law, loss, t).ok_or_else(unreachable)?;
        Ok(Self {
            law: name.into(),
            loss,
            tokens_served: t,
            inference_optimal: best,
            inference_optimal_ratio: best.d / best.n,
            chinchilla: chin,
            chinchilla_ratio: chin.d / chin.n,
            smaller_by: chin.n / best.n,
            total_cost_change: best.total_flops() / chin.total_flops() - 1.0,
            saving: 1.0 - best.total_flops() / chin.total_flops(),
        })
    }
}

fn missing(what: &str) -> LabError {
    LabError::Runtime(what.to_string())
}

impl Llama {
    /// Llama 3 8B's loss under `chinchilla`, and what serving makes it the optimum.
    fn new(chinchilla: &ChinchillaLaw) -> Result<Self, LabError> {
        let (_, n, d, _) = MODELS
            .iter()
            .find(|m| m.0 == "Llama 3 8B")
            .copied()
            .ok_or_else(|| missing("no Llama 3 8B in the model table"))?;
        let loss = chinchilla.loss(n, d);
        let chin = chinchilla_for_loss(chinchilla, loss, 0.0)
            .ok_or_else(|| missing(&format!("Chinchilla's law cannot reach {loss}")))?;
        let served = served_tokens_for_optimum(chinchilla, loss, n)
            .ok_or_else(|| missing("Llama 3 8B is not below Chinchilla's size for its loss"))?;
        Ok(Self {
            n,
            d,
            ratio: d / n,
            loss,
            chinchilla: chin,
            chinchilla_ratio: chin.d / chin.n,
            tokens_served_for_optimum: served,
            served_over_trained: served / d,
        })
    }
}

impl Lab4 {
    /// The fitted law's optimum at its largest budget serving 0, 1, 10 and 100 times its
    /// training tokens, and Chinchilla's law at Llama 3 8B's loss.
    pub(crate) fn new(fit: &FitReport) -> Result<Self, LabError> {
        let fitted = fit.approach3.law;
        let top = fit
            .tokens_per_param
            .last()
            .ok_or_else(|| missing("the fit has no budget"))?;
        let mut scenarios = Vec::new();
        for multiple in [0.0, 1.0, 10.0, 100.0] {
            scenarios.push(Scenario::new(
                &fitted,
                "fitted",
                top.loss,
                multiple * top.d_opt,
            )?);
        }
        let chinchilla = preset("chinchilla")
            .ok_or_else(|| missing("no chinchilla preset"))?
            .law;
        let llama3_8b = Llama::new(&chinchilla)?;
        for t in [1e12, 2e13, llama3_8b.tokens_served_for_optimum] {
            scenarios.push(Scenario::new(&chinchilla, "chinchilla", llama3_8b.loss, t)?);
        }
        Ok(Self {
            scenarios,
            llama3_8b,
        })
    }

    /// Every scenario and Llama 3 8B's line.
    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        line(
            &mut out,
            "inference-aware sizing (Sardana et al. 2024): the cheapest model for a loss that \
             will serve T tokens",
        );
        for s in &self.scenarios {
            line(
                &mut out,
                format!(
                    "  {:<10} loss {:.4}, T = {:.2e}: N = {:.3e} (D/N {:.0}) vs Chinchilla's {:.3e} \
                     (D/N {:.0}); {:.2}x smaller, total cost {}",
                    s.law,
                    s.loss,
                    s.tokens_served,
                    s.inference_optimal.n,
                    s.inference_optimal_ratio,
                    s.chinchilla.n,
                    s.chinchilla_ratio,
                    s.smaller_by,
                    signed_percent(s.total_cost_change, 1)
                ),
            );
        }
        let l = &self.llama3_8b;
        line(
            &mut out,
            format!(
                "Llama 3 8B: {:.0} tokens per parameter; Chinchilla's law gives it loss {:.4}, which \
                 a Chinchilla-optimal {:.3e}-parameter model reaches on {:.3e} tokens; 8B is the \
                 cheapest way there if it serves {:.2e} tokens ({:.1}x its training tokens)",
                l.ratio,
                l.loss,
                l.chinchilla.n,
                l.chinchilla.d,
                l.tokens_served_for_optimum,
                l.served_over_trained
            ),
        );
        out
    }
}
