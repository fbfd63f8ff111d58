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

use crate::plan::capped_warmup;
use crate::{shape_name, Plan, PlannedRun, SweepError};

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
    /// Seeds averaged per rate: each loss in `tried` is their mean (the fewest finished
    /// over the rates tried).
    #[serde(default = "one")]
    pub seeds: u64,
}

fn one() -> u64 {
    1
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
/// learning rate, `seeds` times each (other initial weights and data order, as the
/// plan's replicates), each trained on its own (no branching) under the plan's
/// schedule: a rate tuned under a cosine decay is not the best one under WSD, whose peak
/// lasts longer. [`bracket`] extends it until every model's best rate has a worse one
/// on each side.
pub fn tune_plan(
    plan: &Plan,
    factors: &[f64],
    tokens: Option<u64>,
    seeds: u64,
) -> Result<Plan, SweepError> {
    if factors.is_empty() || factors.iter().any(|f| !(f.is_finite() && *f > 0.0)) {
        return Err(SweepError::invalid(
            "--factors",
            "give positive multiples of the learning rate, e.g. 0.25,0.5,1,2,4",
        ));
    }
    if !(1..=1000).contains(&seeds) {
        return Err(SweepError::invalid(
            "--seeds",
            format!("{seeds}: train each rate 1 to 1000 times"),
        ));
    }
    let mut runs = Vec::new();
    let mut models: Vec<&PlannedRun> = Vec::new();
    for run in plan.runs.iter().filter(|r| r.spec.replicate == 0) {
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
        let mut trial = base.clone();
        trial.spec.tokens = d;
        trial.spec.warmup_steps = plan.warmup.steps(&trial.spec);
        trial.budget = None;
        for &f in factors {
            runs.extend(with_seeds(at_rate(&trial, base.spec.lr * f), seeds));
        }
    }
    let factors: Vec<String> = factors.iter().map(f64::to_string).collect();
    // The trials' own lengths (`--tokens`) decide which of them a given warmup_steps is
    // capped in, not the plan's.
    let warnings = capped_warmup(plan.warmup_steps_given, &runs)
        .into_iter()
        .collect();
    Ok(Plan {
        name: format!("{}-tune", plan.name),
        config_text: format!(
            "{}\n# ladder tune: learning rate × [{}], {} tokens per trial, {seeds} seed(s)\n",
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
        warnings,
        warmup: plan.warmup,
        warmup_steps_given: plan.warmup_steps_given,
    })
}

/// The trial `run` at learning rate `lr`.
fn at_rate(run: &PlannedRun, lr: f64) -> PlannedRun {
    let mut trial = run.clone();
    trial.spec.lr = lr;
    trial.id = format!(
        "{}-D{}-lr{lr:.4e}",
        shape_name(&run.spec.model),
        run.tokens()
    );
    trial
}

/// `trial` and its replicates 1 to `seeds − 1`.
fn with_seeds(trial: PlannedRun, seeds: u64) -> Vec<PlannedRun> {
    let replicates: Vec<PlannedRun> = (1..seeds)
        .map(|r| crate::rules::replicate(&trial, r))
        .collect();
    std::iter::once(trial).chain(replicates).collect()
}

/// Extends the tuning sweep `trials` after a round: every model whose best rate (in
/// `table`, from the finished trials) is the smallest or largest tried gets one more
/// trial a grid step beyond it (the grid's smallest ratio between neighbouring rates),
/// with as many seeds as its other rates. Returns how many trials it added; 0 when every
/// best rate is bracketed.
pub fn bracket(trials: &mut Plan, table: &LrTable) -> usize {
    let mut added = Vec::new();
    for t in &table.model {
        let rates: Vec<f64> = t.tried.iter().map(|p| p.0).collect();
        let Some(best) = rates.iter().position(|&r| r == t.lr) else {
            continue;
        };
        let ratio = rates
            .windows(2)
            .map(|w| w[1] / w[0])
            .fold(f64::INFINITY, f64::min);
        let ratio = if ratio.is_finite() && ratio > 1.0 {
            ratio
        } else {
            2.0
        };
        let next = if best == 0 {
            t.lr / ratio
        } else if best + 1 == rates.len() {
            t.lr * ratio
        } else {
            continue;
        };
        let model = (t.d_model, t.n_layer, t.n_head);
        let of_model = |r: &&PlannedRun| {
            let m = &r.spec.model;
            (m.d_model, m.n_layer, m.n_head) == model
        };
        let seeds = 1 + trials
            .runs
            .iter()
            .filter(of_model)
            .map(|r| r.spec.replicate)
            .max()
            .unwrap_or(0);
        let Some(run) = trials
            .runs
            .iter()
            .filter(of_model)
            .find(|r| r.spec.replicate == 0)
        else {
            continue;
        };
        added.extend(with_seeds(at_rate(run, next), seeds));
    }
    let n = added.len();
    trials.runs.extend(added);
    n
}

/// The best learning rate of every model from the finished runs of a tuning sweep (by
/// the mean final loss over its seeds), and a warning for each model whose best rate is
/// the smallest or largest tried.
pub fn best_rates(runs: &[RunRecord]) -> (LrTable, Vec<String>) {
    let trials = runs.iter().filter(|r| r.is_finished()).filter_map(|run| {
        let m = &run.meta;
        let key = (m.d_model as usize, m.n_layer as usize, m.n_head as usize);
        Some((key, m.d, m.lr, run.final_val_loss()?))
    });
    table_of(trials)
}

/// A model, as (width, depth, heads).
type ModelKey = (usize, usize, usize);

/// Each rate tried, with the final losses of its seeds.
type Losses = Vec<(f64, Vec<f64>)>;

/// [`best_rates`] over (model, tokens, rate, final loss), one per finished trial.
fn table_of(trials: impl Iterator<Item = (ModelKey, u64, f64, f64)>) -> (LrTable, Vec<String>) {
    let mut models: Vec<(ModelKey, u64, Losses)> = Vec::new();
    for (key, tokens, lr, loss) in trials {
        let i = match models.iter().position(|m| m.0 == key) {
            Some(i) => i,
            None => {
                models.push((key, tokens, Vec::new()));
                models.len() - 1
            }
        };
        let rates = &mut models[i].2;
        match rates.iter_mut().find(|r| r.0 == lr) {
            Some(r) => r.1.push(loss),
            None => rates.push((lr, vec![loss])),
        }
    }
    let mut table = LrTable::default();
    let mut warnings = Vec::new();
    for (key, tokens, mut rates) in models {
        rates.sort_by(|a, b| a.0.total_cmp(&b.0));
        let tried: Vec<(f64, f64)> = rates
            .iter()
            .map(|(lr, l)| (*lr, l.iter().sum::<f64>() / l.len() as f64))
            .collect();
        let best = (0..tried.len())
            .min_by(|&a, &b| tried[a].1.total_cmp(&tried[b].1))
            .unwrap_or(0);
        let t = TunedLr {
            d_model: key.0,
            n_layer: key.1,
            n_head: key.2,
            lr: tried[best].0,
            tokens,
            seeds: rates.iter().map(|r| r.1.len() as u64).min().unwrap_or(1),
            tried,
        };
        if t.tried.len() > 1 && (best == 0 || best + 1 == t.tried.len()) {
            warnings.push(format!(
                "d{}-l{}-h{}: the best learning rate {:.3e} is at the edge of the grid: \
                 allow more --rounds or widen --factors",
                t.d_model, t.n_layer, t.n_head, t.lr
            ));
        }
        table.model.push(t);
    }
    table
        .model
        .sort_by_key(|t| (t.d_model, t.n_layer, t.n_head));
    (table, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_rate_is_that_of_the_lowest_mean_over_seeds() {
        let m = (32, 1, 2);
        // One seed of 2e-3 is the lowest loss, but its mean over two seeds is not.
        let trials = [
            (m, 1000, 1e-3, 2.50),
            (m, 1000, 2e-3, 2.30),
            (m, 1000, 2e-3, 2.50),
            (m, 1000, 4e-3, 2.35),
            (m, 1000, 4e-3, 2.37),
            (m, 1000, 1e-3, 2.52),
            (m, 1000, 8e-3, 2.60),
        ];
        let (table, warnings) = table_of(trials.into_iter());
        let t = &table.model[0];
        assert_eq!(t.lr, 4e-3);
        assert_eq!(t.seeds, 1, "8e-3 has one seed");
        assert_eq!(t.tried.len(), 4);
        assert!((t.tried[1].1 - 2.40).abs() < 1e-12 && (t.tried[2].1 - 2.36).abs() < 1e-12);
        assert!(warnings.is_empty());
    }
}
