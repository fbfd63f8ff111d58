//! Lab 3's numbers: approach 3's prediction of a larger target run, made before the
//! target trains, against the loss it then reaches.

use ladder_fit::FitReport;
use ladder_store::RunRecord;
use ladder_sweep::Plan;
use serde::Serialize;

use super::{ci80, line, signed_percent};
use crate::LabError;

/// The target runs' `(N, D)`, to predict.
pub(crate) fn targets(target: &Plan) -> Vec<(f64, f64)> {
    target
        .runs
        .iter()
        .map(|r| (r.params.total as f64, r.tokens() as f64))
        .collect()
}

/// What approach 3 predicts for the target, before it trains.
pub(crate) fn predicted_text(fit: &FitReport) -> String {
    let mut out = String::new();
    for p in &fit.predictions {
        let impossible = match fit.entropy_rate {
            Some(h) if p.loss < h => format!(
                " (below the source's entropy rate {h:.4}, which no model reaches: the law \
                 extrapolates past what the ladder supports)"
            ),
            _ => String::new(),
        };
        line(
            &mut out,
            format!(
                "prediction before training the target (N = {:.3e}, D = {:.3e}): loss {:.4}, \
                 {}{impossible}",
                p.n,
                p.d,
                p.loss,
                ci80(p.loss_spread, 4)
            ),
        );
    }
    out
}

/// One target run, predicted and trained.
#[derive(Debug, Serialize)]
struct PredictionCheck {
    /// The target run's id.
    run: String,
    #[serde(rename = "N")]
    n: f64,
    #[serde(rename = "D")]
    d: f64,
    /// `C = 6·N·D` of the target over the largest budget of the ladder.
    compute_over_ladder: f64,
    predicted: f64,
    ci80: Option<[f64; 2]>,
    ci95: Option<[f64; 2]>,
    observed: f64,
    /// `(observed − predicted) / observed`.
    rel_error: f64,
    inside_ci80: Option<bool>,
    inside_ci95: Option<bool>,
}

/// Lab 3's numbers.
#[derive(Debug, Serialize)]
pub(crate) struct Lab3 {
    target: Vec<PredictionCheck>,
}

impl Lab3 {
    /// Sets the trained target runs (`runs`, of the sweep `target`) against `fit`'s
    /// predictions.
    pub(crate) fn new(
        target: &Plan,
        runs: &[RunRecord],
        fit: &FitReport,
    ) -> Result<Self, LabError> {
        let top = fit.tokens_per_param.last().map_or(f64::NAN, |t| t.c);
        let mut checks = Vec::new();
        for (planned, p) in target.runs.iter().zip(&fit.predictions) {
            let observed = runs
                .iter()
                .find(|r| r.id == planned.id)
                .and_then(RunRecord::final_val_loss)
                .ok_or_else(|| {
                    LabError::Runtime(format!("the target run {} has no loss", planned.id))
                })?;
            let inside = |ci: [f64; 2]| ci[0] <= observed && observed <= ci[1];
            checks.push(PredictionCheck {
                run: planned.id.clone(),
                n: p.n,
                d: p.d,
                compute_over_ladder: p.c / top,
                predicted: p.loss,
                ci80: p.loss_spread.map(|s| s.ci80),
                ci95: p.loss_spread.map(|s| s.ci95),
                observed,
                rel_error: (observed - p.loss) / observed,
                inside_ci80: p.loss_spread.map(|s| inside(s.ci80)),
                inside_ci95: p.loss_spread.map(|s| inside(s.ci95)),
            });
        }
        Ok(Self { target: checks })
    }

    /// Each target: predicted, trained, and whether the intervals held it.
    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        for t in &self.target {
            let inside = |v: Option<bool>| match v {
                Some(true) => "inside",
                Some(false) => "outside",
                None => "no interval for",
            };
            line(
                &mut out,
                format!(
                    "target {} ({:.0}x the ladder's top budget): predicted {:.4}, trained {:.4} \
                     ({}), {} the 80% interval, {} the 95% interval",
                    t.run,
                    t.compute_over_ladder,
                    t.predicted,
                    t.observed,
                    signed_percent(t.rel_error, 2),
                    inside(t.inside_ci80),
                    inside(t.inside_ci95)
                ),
            );
        }
        out
    }
}
