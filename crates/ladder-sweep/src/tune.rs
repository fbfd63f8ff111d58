//! Learning-rate tuning per model (`ladder tune`): short runs of every model of a plan
//! at several multiples of its learning rate, and the table of the best ones that a
//! config then reads (`[train] lr_table`).
//!
//! Porian et al. 2024 trace much of the disagreement between Kaplan's and Hoffmann's
//! exponents to learning rates, batch sizes and AdamW β2 left untuned at small scale:
//! one learning rate for every size biases the loss of the sizes it does not suit.

use std::path::Path;

use ladder_model::GptConfig;
use ladder_store::RunRecord;
use serde::{Deserialize, Serialize};

use crate::{Plan, PlannedRun, SweepError};

/// The learning rates to try: these multiples of each model's configured rate, a
/// factor of 2 apart (wide enough for an untuned guess, narrow enough to resolve the
/// optimum within √2).
pub const DEFAULT_FACTORS: [f64; 5] = [0.25, 0.5, 1.0, 2.0, 4.0];

/// One model's tuned learning rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TunedLr {
    /// Width.
    pub d_model: usize,
    /// Depth.
    pub n_layer: usize,
    /// Heads.
    pub n_head: usize,
    /// The best learning rate found.
    pub lr: f64,
    /// Every (learning rate, final validation loss) tried, by learning rate.
    pub tried: Vec<(f64, f64)>,
    /// Training tokens of each trial.
    pub tokens: u64,
}

/// The file `ladder tune` writes and `[train] lr_table` reads.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LrTable {
    /// One entry per model.
    pub model: Vec<TunedLr>,
}

impl LrTable {
    /// Reads a table; errors name the file.
    pub fn read(path: &Path) -> Result<Self, SweepError> {
        let text = std::fs::read_to_string(path).map_err(|source| SweepError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| SweepError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// The tuned rate of `model`, if the table has it.
    pub fn lr_for(&self, model: &GptConfig) -> Option<f64> {
        self.model
            .iter()
            .find(|t| {
                (t.d_model, t.n_layer, t.n_head) == (model.d_model, model.n_layer, model.n_head)
            })
            .map(|t| t.lr)
    }
}

/// The tuning sweep of `plan`: every model (at its first run's settings) trained on
/// `tokens` tokens (default: the model's smallest planned D) at each `factor` times its
/// learning rate, as cosine runs trained separately.
pub fn tune_plan(plan: &Plan, factors: &[f64], tokens: Option<u64>) -> Result<Plan, SweepError> {
    if factors.is_empty() || factors.iter().any(|f| !(f.is_finite() && *f > 0.0)) {
        return Err(SweepError::invalid(
            "--factors",
            "give positive multiples of the learning rate, e.g. 0.25,0.5,1,2,4",
        ));
    }
    let mut runs = Vec::new();
    let mut models: Vec<&PlannedRun> = Vec::new();
    for run in &plan.runs {
        match models.iter_mut().find(|m| m.spec.model == run.spec.model) {
            Some(m) if run.tokens() < m.tokens() => *m = run,
            Some(_) => {}
            None => models.push(run),
        }
    }
    for base in models {
        let step = base.spec.tokens_per_step();
        let d = tokens.map_or(base.tokens(), |t| (t / step).max(1) * step);
        if let Some(capacity) = plan.source.train_capacity(base.spec.model.context) {
            if d > capacity {
                return Err(SweepError::invalid(
                    "--tokens",
                    format!("{d} tokens but the training split holds {capacity}"),
                ));
            }
        }
        let m = &base.spec.model;
        for &f in factors {
            let mut run = base.clone();
            run.spec.tokens = d;
            run.spec.lr = base.spec.lr * f;
            run.spec.schedule = ladder_train::ScheduleKind::Cosine;
            run.spec.warmup_steps = run.spec.warmup_steps.min(run.spec.steps() / 10);
            run.budget = None;
            run.id = format!(
                "d{}-l{}-h{}-D{d}-lr{:.4e}",
                m.d_model, m.n_layer, m.n_head, run.spec.lr
            );
            runs.push(run);
        }
    }
    let factors: Vec<String> = factors.iter().map(f64::to_string).collect();
    Ok(Plan {
        name: format!("{}-tune", plan.name),
        config_text: format!(
            "{}\n# ladder tune: learning rate × [{}], {} tokens per trial\n",
            plan.config_text,
            factors.join(", "),
            tokens.map_or("each model's smallest D".into(), |t| t.to_string())
        ),
        data: plan.data.clone(),
        source: plan.source.clone(),
        eval_tokens: plan.eval_tokens,
        runs,
        branching: false,
        budget_rule: None,
        warnings: Vec::new(),
    })
}

/// The best learning rate of every model from the finished runs of a tuning sweep, and
/// a warning for each model whose best rate is the smallest or largest tried.
pub fn best_rates(runs: &[RunRecord]) -> (LrTable, Vec<String>) {
    let mut table = LrTable::default();
    let mut warnings = Vec::new();
    for run in runs.iter().filter(|r| r.is_finished()) {
        let (m, lr) = (&run.meta, run.meta.lr);
        let Some(loss) = run.final_val_loss() else {
            continue;
        };
        let key = (m.d_model as usize, m.n_layer as usize, m.n_head as usize);
        let found = table
            .model
            .iter()
            .position(|t| (t.d_model, t.n_layer, t.n_head) == key);
        let i = found.unwrap_or_else(|| {
            table.model.push(TunedLr {
                d_model: key.0,
                n_layer: key.1,
                n_head: key.2,
                lr,
                tried: Vec::new(),
                tokens: m.d,
            });
            table.model.len() - 1
        });
        table.model[i].tried.push((lr, loss));
    }
    for t in &mut table.model {
        t.tried.sort_by(|a, b| a.0.total_cmp(&b.0));
        let best = (0..t.tried.len())
            .min_by(|&a, &b| t.tried[a].1.total_cmp(&t.tried[b].1))
            .unwrap_or(0);
        t.lr = t.tried[best].0;
        if t.tried.len() > 1 && (best == 0 || best + 1 == t.tried.len()) {
            warnings.push(format!(
                "d{}-l{}-h{}: the best learning rate {:.3e} is at the edge of the grid: \
                 widen --factors",
                t.d_model, t.n_layer, t.n_head, t.lr
            ));
        }
    }
    table
        .model
        .sort_by_key(|t| (t.d_model, t.n_layer, t.n_head));
    (table, warnings)
}
