//! The validated plan: every run with its shape, counts, budget and settings.

use std::path::Path;
use std::sync::Arc;

use ladder_core::{BudgetRule, ParamCount};
use ladder_data::TokenSource;
use ladder_model::{
    FlopCounts, GptConfig, ParamCounts, Parametrization, PositionEncoding, Precision,
};
use ladder_train::{AdamWConfig, Cooldown, RunSpec, ScheduleKind};

use crate::config::{ShapeConfig, SweepConfig, TrainConfig};
use crate::isoflop::{convention_n, IsoFlop};
use crate::rules::{self, BatchRule, Warmup};
use crate::source::{open_source, DataSpec};
use crate::{shape_for_size, shape_name, SweepError};

/// One run of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRun {
    /// Stable id, used for file names.
    pub id: String,
    /// Everything the trainer needs.
    pub spec: RunSpec,
    /// Parameter counts.
    pub params: ParamCounts,
    /// Training FLOPs per token.
    pub flops: FlopCounts,
    /// The IsoFLOP budget C the run belongs to, when the sweep is an IsoFLOP design.
    pub budget: Option<f64>,
}

impl PlannedRun {
    /// Training tokens D.
    pub fn tokens(&self) -> u64 {
        self.spec.tokens
    }

    /// Exact training FLOPs of the run, the measure of its cost.
    pub fn cost(&self) -> f64 {
        self.flops.exact * self.tokens() as f64
    }

    /// `C = 6·N·D` with N the total parameter count.
    pub fn c_6nd_total(&self) -> f64 {
        6.0 * self.params.total as f64 * self.tokens() as f64
    }

    /// `C = 6·N·D` with N the non-embedding count.
    pub fn c_6nd_nonemb(&self) -> f64 {
        6.0 * self.params.non_embedding as f64 * self.tokens() as f64
    }
}

/// A sweep, planned: the token source is open and every run is derived.
pub struct Plan {
    /// The sweep's name.
    pub name: String,
    /// The config file's text, stored with every run.
    pub config_text: String,
    /// The data source spec.
    pub data: DataSpec,
    /// The open token source.
    pub source: Arc<dyn TokenSource>,
    /// Size of the fixed validation set.
    pub eval_tokens: u64,
    /// The runs, in order.
    pub runs: Vec<PlannedRun>,
    /// Whether the runs of each model train as WSD branches of one stable phase.
    pub branching: bool,
    /// What planning left out or doubts, for the user.
    pub warnings: Vec<String>,
    /// How an IsoFLOP design turned budgets into D; `None` when the sweep is not an
    /// IsoFLOP design.
    pub budget_rule: Option<BudgetRule>,
    /// The warmup rule, for runs derived later (the tuning trials).
    pub(crate) warmup: Warmup,
    /// `train.warmup_steps` as given (not the default), for the capped-warmup warning of
    /// runs derived later.
    pub(crate) warmup_steps_given: Option<u64>,
}

/// Most training tokens a run may have: far past anything trainable here, and small
/// enough that step and token counts stay exact in u64 and f64.
const MAX_TOKENS: f64 = 1e15;

/// Most validation tokens (held in memory as u32: 400 MB).
const MAX_EVAL_TOKENS: u64 = 100_000_000;

fn positive(field: &str, v: f64) -> Result<f64, SweepError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(SweepError::invalid(
            field,
            format!("{v} must be a finite number > 0"),
        ))
    }
}

fn shapes(cfg: &SweepConfig) -> Result<Vec<(String, ShapeConfig)>, SweepError> {
    match (&cfg.model.shapes, &cfg.model.sizes) {
        (Some(list), None) if !list.is_empty() => Ok(list
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("model.shapes[{i}]"), s.clone()))
            .collect()),
        (None, Some(sizes)) if !sizes.is_empty() => sizes
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                if !(0.5..=256.0).contains(&s) {
                    return Err(SweepError::invalid(
                        format!("model.sizes[{i}]"),
                        format!(
                            "{s} must be in [0.5, 256] (the knob: depth ≈ size, width ≈ 32·size)"
                        ),
                    ));
                }
                Ok((format!("model.sizes[{i}]"), shape_for_size(s)))
            })
            .collect(),
        _ => Err(SweepError::invalid(
            "model",
            "give exactly one non-empty list: shapes or sizes",
        )),
    }
}

impl Plan {
    /// Validates `cfg` (read from `path`, whose directory resolves relative data paths)
    /// and derives every run.
    pub fn new(cfg: &SweepConfig, config_text: &str, path: &Path) -> Result<Self, SweepError> {
        let base = path.parent().unwrap_or(Path::new("."));
        if cfg.design.is_some() && cfg.tokens.budgets.is_none() {
            return Err(SweepError::invalid(
                "design",
                "chooses the budgets, which must be resolved before planning (ladder-lab's \
                 `resolve_design`, as `ladder plan` and `ladder run` do)",
            ));
        }
        let settings = Settings::new(cfg, base)?;
        let isoflop = IsoFlop::from_config(&cfg.tokens, settings.params)?;
        // Last of the checks: opening the source can take seconds (a large Markov chain's
        // entropy rate, a corpus to tokenise), which a typo elsewhere should not cost.
        let (data, source) = open_source(cfg, base)?;
        let models = models(cfg, source.vocab_size(), &settings)?;
        let sized: Vec<(f64, FlopCounts)> = models
            .iter()
            .map(|m| {
                let n = convention_n(&ParamCounts::of(m), settings.params);
                (n, FlopCounts::of(m))
            })
            .collect();
        let (mut runs, mut left_outs, mut warnings) = (Vec::new(), Vec::new(), Vec::new());
        for (index, &model) in models.iter().enumerate() {
            let budgets = match &isoflop {
                Some(design) => design
                    .runs_for(index, &sized)
                    .into_iter()
                    .map(|b| (b.field, b.tokens, Some(b.compute)))
                    .collect(),
                None => budgets(cfg, sized[index].0)?,
            };
            let capacity = source.train_capacity(model.context);
            // The batch rule per run; under WSD branching per model, from its shortest run,
            // since a model's runs share one stable phase and so one batch.
            let shortest = budgets.iter().map(|b| b.1).fold(f64::INFINITY, f64::min);
            let shared = settings.batch.batch_for(shortest, model.context);
            let pushed = runs.len();
            for (field, d, budget) in budgets {
                let batch = if cfg.train.branching {
                    shared
                } else {
                    settings.batch.batch_for(d, model.context)
                };
                let planned = settings.run(cfg, model, batch, &field, d, budget, capacity)?;
                match planned {
                    Ok(run) => runs.push(run),
                    Err(left_out) => left_outs.push(left_out),
                }
            }
            // A model the design leaves out pushed nothing: the last runs are another's.
            if runs.len() > pushed {
                warnings.extend(share_warmup(&mut runs, &settings.warmup));
            }
        }
        if let (Some(design), Some(first)) = (&isoflop, left_outs.first()) {
            let capacity = source.train_capacity(cfg.model.context).unwrap_or(u64::MAX);
            return Err(corpus_too_small(
                design,
                &sized,
                capacity,
                first,
                left_outs.len(),
            ));
        }
        let firsts = runs.len();
        for r in 1..settings.seeds {
            runs.extend(
                runs[..firsts]
                    .iter()
                    .map(|run| rules::replicate(run, r))
                    .collect::<Vec<_>>(),
            );
        }
        check_unique(&runs)?;
        source
            .validation_sequences(cfg.model.context, cfg.eval.tokens)
            .map_err(SweepError::Data)?;
        if runs.is_empty() {
            return Err(SweepError::invalid(
                "tokens",
                "no run fits the corpus: lower the budgets or use a larger corpus",
            ));
        }
        Ok(Self {
            warnings: capped_warmup(cfg.train.warmup_steps, &runs)
                .into_iter()
                .chain(warnings)
                .collect(),
            branching: cfg.train.branching,
            budget_rule: isoflop.map(|design| design.rule),
            warmup: settings.warmup,
            warmup_steps_given: cfg.train.warmup_steps,
            name: cfg.name.clone(),
            config_text: config_text.to_string(),
            data,
            source,
            eval_tokens: cfg.eval.tokens,
            runs,
        })
    }
}

/// What every run of a sweep shares, checked: the settings of `[model]`, `[train]` and
/// `[eval]` that do not depend on the data.
struct Settings {
    positions: PositionEncoding,
    precision: Precision,
    schedule: ScheduleKind,
    /// The parameter count `tokens.per_param` and IsoFLOP budgets use.
    params: ParamCount,
    lr_table: Option<crate::LrTable>,
    parametrization: Parametrization,
    warmup: Warmup,
    batch: BatchRule,
    seeds: u64,
}

impl Settings {
    fn new(cfg: &SweepConfig, base: &Path) -> Result<Self, SweepError> {
        let positions = match cfg.model.positions.as_str() {
            "learned" => PositionEncoding::Learned,
            "rope" => PositionEncoding::Rope,
            other => {
                return Err(SweepError::invalid(
                    "model.positions",
                    format!("`{other}`: use \"learned\" or \"rope\""),
                ))
            }
        };
        let t = &cfg.train;
        let precision = Precision::parse(&t.precision).ok_or_else(|| {
            SweepError::invalid(
                "train.precision",
                format!("`{}`: use \"f32\" or \"bf16\"", t.precision),
            )
        })?;
        let schedule = schedule(t)?;
        let lr_table = t
            .lr_table
            .as_ref()
            .map(|p| crate::LrTable::read(&base.join(p)))
            .transpose()?;
        check_train(t)?;
        check_eval(cfg)?;
        tokens_per_step(cfg)?;
        let params = cfg
            .tokens
            .params
            .parse()
            .map_err(|e: ladder_core::UnknownName| {
                SweepError::invalid("tokens.params", e.to_string())
            })?;
        Ok(Self {
            positions,
            precision,
            schedule,
            params,
            lr_table,
            parametrization: rules::parametrization(&cfg.model, t)?,
            warmup: Warmup::from_config(t, params)?,
            batch: BatchRule::from_config(t)?,
            seeds: rules::seeds(t)?,
        })
    }

    /// The learning rate of `model` at `batch`: from the tuned table, else `train.lr`,
    /// scaled by `lr_width / d_model` when `train.lr_width` is set, then by the batch
    /// rule's factor.
    fn lr_for(&self, t: &TrainConfig, model: &GptConfig, batch: usize) -> Result<f64, SweepError> {
        Ok(self.lr_at_full_batch(t, model)? * self.batch.lr_factor(batch))
    }

    fn lr_at_full_batch(&self, t: &TrainConfig, model: &GptConfig) -> Result<f64, SweepError> {
        if let Some(table) = &self.lr_table {
            return table.lr_for(model).ok_or_else(|| {
                SweepError::invalid(
                    "train.lr_table",
                    format!(
                        "has no learning rate for d_model {} n_layer {} n_head {}: run \
                         `ladder tune` on this config again",
                        model.d_model, model.n_layer, model.n_head
                    ),
                )
            });
        }
        Ok(match t.lr_width {
            Some(w) => t.lr * w as f64 / model.d_model as f64,
            None => t.lr,
        })
    }

    /// The run of `model` on about `d` tokens in steps of `batch` sequences (`field` is
    /// the TOML path that asked for it), rounded to whole steps; `Ok(Err(why))` when an
    /// IsoFLOP design's run does not fit the training split single-epoch and is left out.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        cfg: &SweepConfig,
        model: GptConfig,
        batch: usize,
        field: &str,
        d: f64,
        budget: Option<f64>,
        capacity: Option<u64>,
    ) -> Result<Result<PlannedRun, String>, SweepError> {
        if d > MAX_TOKENS {
            return Err(SweepError::invalid(
                field,
                format!(
                    "{d:e} training tokens is beyond what ladder trains (at most {MAX_TOKENS:e})"
                ),
            ));
        }
        let per_step = (batch * model.context) as u64;
        let steps = (d / per_step as f64).round().max(1.0) as u64;
        let tokens = steps * per_step;
        match capacity {
            // An IsoFLOP design asks for sizes, not these exact runs: leave out the one
            // the corpus cannot feed single-epoch, and say so.
            Some(capacity) if tokens > capacity && budget.is_some() => {
                return Ok(Err(format!(
                    "{field}: d{}-l{}-h{} needs {tokens} training tokens \
                     and the training split holds {capacity} (single epoch)",
                    model.d_model, model.n_layer, model.n_head
                )))
            }
            Some(capacity) if tokens > capacity => {
                return Err(SweepError::invalid(
                    field,
                    format!(
                    "asks for {tokens} training tokens but the training split holds {capacity}: \
                         lower it or use a larger corpus (each token is used at most once)"
                ),
                ))
            }
            _ => {}
        }
        let spec = self.spec(cfg, model, batch, tokens, steps)?;
        Ok(Ok(PlannedRun {
            id: format!("{}-D{tokens}", shape_name(&model)),
            spec,
            params: ParamCounts::of(&model),
            flops: FlopCounts::of(&model),
            budget,
        }))
    }

    /// What the trainer needs for `model` on `tokens` tokens in `steps` steps of `batch`.
    fn spec(
        &self,
        cfg: &SweepConfig,
        model: GptConfig,
        batch: usize,
        tokens: u64,
        steps: u64,
    ) -> Result<RunSpec, SweepError> {
        let t = &cfg.train;
        let mut spec = RunSpec {
            model,
            batch_size: batch,
            tokens,
            lr: self.lr_for(t, &model, batch)?,
            warmup_steps: 0,
            lr_floor: t.lr_floor,
            adamw: AdamWConfig {
                beta1: t.beta1,
                beta2: t.beta2,
                eps: 1e-8,
                weight_decay: t.weight_decay,
                grad_clip: (t.grad_clip > 0.0).then_some(t.grad_clip),
            },
            eval_every_steps: (cfg.eval.every_tokens / (batch * model.context) as u64).max(1),
            seed: cfg.seed,
            replicate: 0,
            precision: self.precision,
            schedule: self.schedule,
        };
        debug_assert_eq!(spec.steps(), steps);
        spec.warmup_steps = self.warmup.steps(&spec);
        Ok(spec)
    }
}

/// The ranges of `[train]`'s numbers.
fn check_train(t: &TrainConfig) -> Result<(), SweepError> {
    if t.lr_width == Some(0) {
        return Err(SweepError::invalid("train.lr_width", "must be a width ≥ 1"));
    }
    if t.batch_size == 0 {
        return Err(SweepError::invalid(
            "train.batch_size",
            "must be at least 1",
        ));
    }
    positive("train.lr", t.lr)?;
    for (field, v) in [("train.beta1", t.beta1), ("train.beta2", t.beta2)] {
        if !(0.0..1.0).contains(&v) {
            return Err(SweepError::invalid(field, format!("{v} must be in [0, 1)")));
        }
    }
    if !(0.0..=1.0).contains(&t.lr_floor) {
        return Err(SweepError::invalid(
            "train.lr_floor",
            format!("{} must be in [0, 1]", t.lr_floor),
        ));
    }
    if !(t.weight_decay >= 0.0 && t.grad_clip >= 0.0) {
        return Err(SweepError::invalid(
            "train",
            "weight_decay and grad_clip must be >= 0",
        ));
    }
    Ok(())
}

/// The ranges of `[eval]`'s numbers.
fn check_eval(cfg: &SweepConfig) -> Result<(), SweepError> {
    if cfg.eval.tokens > MAX_EVAL_TOKENS {
        return Err(SweepError::invalid(
            "eval.tokens",
            format!(
                "{}: the validation set is held in memory; use at most {MAX_EVAL_TOKENS}",
                cfg.eval.tokens
            ),
        ));
    }
    if cfg.eval.every_tokens == 0 || cfg.eval.tokens == 0 {
        return Err(SweepError::invalid(
            "eval",
            "every_tokens and tokens must be at least 1",
        ));
    }
    Ok(())
}

/// Training tokens per optimiser step: `batch_size · context`.
fn tokens_per_step(cfg: &SweepConfig) -> Result<u64, SweepError> {
    let t = &cfg.train;
    t.batch_size
        .checked_mul(cfg.model.context)
        .filter(|&n| n as f64 <= MAX_TOKENS)
        .map(|n| n as u64)
        .ok_or_else(|| {
            SweepError::invalid(
                "train.batch_size",
                format!(
                    "{} sequences of {} tokens per step is beyond what ladder trains",
                    t.batch_size, cfg.model.context
                ),
            )
        })
}

/// Every model of `[model]`, checked, with its shape errors named by their TOML path.
fn models(
    cfg: &SweepConfig,
    vocab: usize,
    settings: &Settings,
) -> Result<Vec<GptConfig>, SweepError> {
    shapes(cfg)?
        .into_iter()
        .map(|(field, shape)| {
            GptConfig::new(GptConfig {
                vocab,
                context: cfg.model.context,
                d_model: shape.d_model,
                n_layer: shape.n_layer,
                n_head: shape.n_head,
                d_ff: shape.d_ff.unwrap_or(4 * shape.d_model),
                positions: settings.positions,
                tied_head: cfg.model.tied_head,
                parametrization: settings.parametrization,
            })
            .map_err(|e| match e {
                ladder_model::ModelError::BadShape { field: f, message } => {
                    let prefix = if f == "context" {
                        "model".to_string()
                    } else {
                        field.clone()
                    };
                    SweepError::invalid(format!("{prefix}.{f}"), message)
                }
                other => SweepError::invalid(&field, other.to_string()),
            })
        })
        .collect()
}

/// The error of an IsoFLOP design whose budgets ask for more tokens than the training
/// split holds: the first run left out, how many were, and the largest budget that fits.
fn corpus_too_small(
    design: &IsoFlop,
    sized: &[(f64, FlopCounts)],
    capacity: u64,
    first: &str,
    count: usize,
) -> SweepError {
    let (field, why) = first.split_once(": ").unwrap_or(("tokens.budgets", first));
    let largest = match design.largest_budget(sized, capacity as f64) {
        Some(c) => format!(
            "the largest budget whose sizes all fit is {c:.3e} FLOPs: lower the budgets to \
             at most that, or use a larger corpus"
        ),
        None => "no budget fits these sizes: use a larger corpus or smaller models".into(),
    };
    SweepError::invalid(
        field,
        format!(
            "the corpus cannot hold this design: {why}{}; {largest}",
            if count > 1 {
                format!(" ({} runs in all do not fit)", count)
            } else {
                String::new()
            }
        ),
    )
}

/// Refuses a plan with two runs of the same id.
fn check_unique(runs: &[PlannedRun]) -> Result<(), SweepError> {
    for (i, r) in runs.iter().enumerate() {
        if runs[..i].iter().any(|q| q.id == r.id) {
            return Err(SweepError::invalid(
                "model",
                format!(
                    "run {} appears twice: remove the duplicate shape or budget",
                    r.id
                ),
            ));
        }
    }
    Ok(())
}

impl Plan {
    /// Under WSD branching, the training FLOPs of the whole plan as branches and as
    /// separate runs: `(branched, separate)`. `None` without branching.
    pub fn branching_cost(&self) -> Option<(f64, f64)> {
        if !self.branching {
            return None;
        }
        let separate = self.runs.iter().map(PlannedRun::cost).sum();
        let branched = crate::units::stable_groups(self)
            .iter()
            .map(|g| crate::runner::branch_cost(g, &vec![true; g.len()]))
            .sum();
        Some((branched, separate))
    }
}

/// The schedule `[train]` asks for.
fn schedule(t: &TrainConfig) -> Result<ScheduleKind, SweepError> {
    let kind = match t.schedule.as_str() {
        "cosine" => ScheduleKind::Cosine,
        "wsd" => {
            if !(t.cooldown > 0.0 && t.cooldown < 1.0) {
                return Err(SweepError::invalid(
                    "train.cooldown",
                    format!(
                        "{} must be strictly between 0 and 1 (Hägele et al.: 0.2)",
                        t.cooldown
                    ),
                ));
            }
            let shape = match t.cooldown_shape.as_str() {
                "1-sqrt" => Cooldown::OneMinusSqrt,
                "linear" => Cooldown::Linear,
                other => {
                    return Err(SweepError::invalid(
                        "train.cooldown_shape",
                        format!("`{other}`: use \"1-sqrt\" or \"linear\""),
                    ))
                }
            };
            ScheduleKind::Wsd {
                fraction: t.cooldown,
                shape,
            }
        }
        other => {
            return Err(SweepError::invalid(
                "train.schedule",
                format!("`{other}`: use \"cosine\" or \"wsd\""),
            ))
        }
    };
    if t.branching && kind == ScheduleKind::Cosine {
        return Err(SweepError::invalid(
            "train.branching",
            "needs schedule = \"wsd\": cosine runs of different lengths share no stable phase",
        ));
    }
    Ok(kind)
}

/// What to say when `train.warmup_steps`, given, is more than a tenth of some runs,
/// which then warm up for a tenth of their steps (under WSD branching, their whole
/// model's runs, which share the shortest run's warmup): a warmup copied from another
/// plan's runs would otherwise be halved without a word.
pub(crate) fn capped_warmup(given: Option<u64>, runs: &[PlannedRun]) -> Option<String> {
    let asked = given?;
    let capped: Vec<&PlannedRun> = runs
        .iter()
        .filter(|r| r.spec.warmup_steps < asked)
        .collect();
    let shortest = capped.iter().min_by_key(|r| r.spec.steps())?;
    Some(format!(
        "train.warmup_steps = {asked} is capped at a tenth of each run: {} of {} runs warm up \
         for fewer steps (the shortest, {}, has {} steps and warms up for {}); use \
         warmup_fraction to size the warmup to each run",
        capped.len(),
        runs.len(),
        shortest.id,
        shortest.spec.steps(),
        shortest.spec.warmup_steps,
    ))
}

/// Under WSD, the runs of one model (the last ones pushed, same shape) share their
/// warmup, the shortest run's: otherwise their stable phases would differ, and a WSD run
/// would not be the cooldown branch of a longer one (Hägele et al. 2024, §4). Under
/// `warmup_fraction` the shortest run is the lowest budget the design puts the model in,
/// so the design sets its warmup; `warmup_tokens_per_param` gives every run of a model the
/// same warmup, and a warning says when its shortest run's half-run cap shortened it.
fn share_warmup(runs: &mut [PlannedRun], rule: &Warmup) -> Option<String> {
    let last = runs.last()?;
    if !matches!(last.spec.schedule, ScheduleKind::Wsd { .. }) {
        return None;
    }
    let model = last.spec.model;
    let same: Vec<usize> = (0..runs.len())
        .filter(|&i| runs[i].spec.model == model)
        .collect();
    let shortest = *same.iter().min_by_key(|&&i| runs[i].spec.warmup_steps)?;
    let warmup = runs[shortest].spec.warmup_steps;
    let asked = rule.model_steps(&runs[shortest].spec);
    let warning = asked.filter(|&asked| asked > warmup).map(|asked| {
        format!(
            "train.warmup_tokens_per_param: {} warms up for {warmup} steps, not {asked}, \
             in all its runs, since its shortest run ({}, {} steps) may spend at most half \
             of itself warming up; that model's warmup then depends on the design: lower \
             warmup_tokens_per_param or give the model longer runs",
            shape_name(&model),
            runs[shortest].id,
            runs[shortest].spec.steps(),
        )
    });
    for i in same {
        runs[i].spec.warmup_steps = warmup;
    }
    warning
}

/// The token counts D of one model (N under `tokens.params`) with the TOML path of each.
fn budgets(cfg: &SweepConfig, n: f64) -> Result<Vec<(String, f64, Option<f64>)>, SweepError> {
    match (&cfg.tokens.counts, &cfg.tokens.per_param) {
        (Some(c), None) if !c.is_empty() => c
            .iter()
            .enumerate()
            .map(|(i, &d)| {
                let field = format!("tokens.counts[{i}]");
                Ok((field.clone(), positive(&field, d)?, None))
            })
            .collect(),
        (None, Some(k)) if !k.is_empty() => k
            .iter()
            .enumerate()
            .map(|(i, &m)| {
                let field = format!("tokens.per_param[{i}]");
                Ok((field.clone(), positive(&field, m)? * n, None))
            })
            .collect(),
        _ => Err(SweepError::invalid(
            "tokens",
            "give exactly one non-empty list: counts, per_param or budgets (IsoFLOP)",
        )),
    }
}
