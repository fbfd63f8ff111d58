//! The rules that set each run's training from its model and length, documented in
//! docs/config.md: the parametrization (standard or μP), the warmup, the batch size and
//! the seed replicates.

use ladder_core::ParamCount;
use ladder_model::{ParamCounts, Parametrization};
use ladder_train::RunSpec;

use crate::config::{ModelConfig, TrainConfig};
use crate::isoflop::convention_n;
use crate::{PlannedRun, SweepError};

/// `[model] parametrization` and `base_width`, checked against `[train]`.
pub(crate) fn parametrization(
    m: &ModelConfig,
    t: &TrainConfig,
) -> Result<Parametrization, SweepError> {
    match (m.parametrization.as_deref(), m.base_width) {
        (None | Some("standard"), None) => Ok(Parametrization::Standard),
        (None | Some("standard"), Some(_)) => Err(SweepError::invalid(
            "model.base_width",
            "only μP has a base width: add parametrization = \"mup\" or remove it",
        )),
        (Some("mup"), None) => Err(SweepError::invalid(
            "model.base_width",
            "μP needs the width at which train.lr was tuned, e.g. base_width = 64",
        )),
        (Some("mup"), Some(0)) => Err(SweepError::invalid(
            "model.base_width",
            "must be a width of at least 1",
        )),
        (Some("mup"), Some(base_width)) => {
            for (field, set) in [
                ("train.lr_width", t.lr_width.is_some()),
                ("train.lr_table", t.lr_table.is_some()),
            ] {
                if set {
                    return Err(SweepError::invalid(
                        field,
                        "μP already sets each width's learning rates: remove it, or use \
                         parametrization = \"standard\"",
                    ));
                }
            }
            Ok(Parametrization::Mup { base_width })
        }
        (Some(other), _) => Err(SweepError::invalid(
            "model.parametrization",
            format!("`{other}`: use \"standard\" or \"mup\""),
        )),
    }
}

/// How many warmup steps a run gets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Warmup {
    /// `warmup_steps`, at most a tenth of the run.
    Steps(u64),
    /// `warmup_fraction` of the run, clamped to `[min, max]` and to half the run.
    Fraction { fraction: f64, min: u64, max: u64 },
    /// `warmup_tokens_per_param` × N tokens (N under `params`), clamped to `[min, max]`
    /// steps and to half the run: set by the model alone, so that all its runs share it
    /// whatever budgets a design puts it in (Porian et al. 2024 warm up for N tokens).
    PerParam {
        tokens_per_param: f64,
        params: ParamCount,
        min: u64,
        max: u64,
    },
}

/// Warmup steps when `[train]` names none.
const DEFAULT_WARMUP_STEPS: u64 = 20;
/// The fewest warmup steps of the fraction rule when `warmup_min_steps` is not given.
const DEFAULT_WARMUP_MIN: u64 = 10;

/// The fewest warmup steps of the per-parameter rule when `warmup_min_steps` is not
/// given: 2/(1 − β2), the untuned linear warmup of Ma & Yarats 2021 for Adam, about the
/// steps its second-moment estimate needs to settle (200 at β2 = 0.99). Without it a
/// small model's N tokens can be a dozen steps: on lab-cpu's design, d48's 73 steps at
/// 5.66e-3 cost one seed 10-15% of loss in its short runs (docs/LOG.md, thirty-seventh
/// session).
fn adam_warmup_floor(beta2: f64) -> u64 {
    if (0.0..1.0).contains(&beta2) {
        (2.0 / (1.0 - beta2)).ceil() as u64
    } else {
        DEFAULT_WARMUP_MIN
    }
}

impl Warmup {
    /// The rule `[train]` asks for; `params` is the sweep's parameter convention
    /// (`tokens.params`), the N of `warmup_tokens_per_param`.
    pub(crate) fn from_config(t: &TrainConfig, params: ParamCount) -> Result<Self, SweepError> {
        let sized = match (t.warmup_fraction, t.warmup_tokens_per_param) {
            (Some(_), Some(_)) => {
                return Err(SweepError::invalid(
                    "train.warmup_tokens_per_param",
                    "give warmup_fraction or warmup_tokens_per_param, not both",
                ))
            }
            (None, None) => None,
            (Some(fraction), None) => {
                if !(fraction > 0.0 && fraction <= 0.5) {
                    return Err(SweepError::invalid(
                        "train.warmup_fraction",
                        format!("{fraction} must be in (0, 0.5]"),
                    ));
                }
                Some(("train.warmup_fraction", fraction, false))
            }
            (None, Some(k)) => {
                if !(k.is_finite() && k > 0.0) {
                    return Err(SweepError::invalid(
                        "train.warmup_tokens_per_param",
                        format!("{k} must be a positive number of tokens per parameter, e.g. 1"),
                    ));
                }
                Some(("train.warmup_tokens_per_param", k, true))
            }
        };
        let Some((field, value, per_param)) = sized else {
            if t.warmup_min_steps.is_some() || t.warmup_max_steps.is_some() {
                return Err(SweepError::invalid(
                    "train.warmup_min_steps",
                    "warmup_min_steps and warmup_max_steps bound warmup_fraction or \
                     warmup_tokens_per_param: add one",
                ));
            }
            return Ok(Self::Steps(t.warmup_steps.unwrap_or(DEFAULT_WARMUP_STEPS)));
        };
        if t.warmup_steps.is_some() {
            return Err(SweepError::invalid(
                "train.warmup_steps",
                format!(
                    "give warmup_steps or {}, not both",
                    &field["train.".len()..]
                ),
            ));
        }
        let min = t.warmup_min_steps.unwrap_or(if per_param {
            adam_warmup_floor(t.beta2)
        } else {
            DEFAULT_WARMUP_MIN
        });
        let max = t.warmup_max_steps.unwrap_or(u64::MAX);
        if max < min {
            return Err(SweepError::invalid(
                "train.warmup_max_steps",
                format!("{max} is below warmup_min_steps ({min})"),
            ));
        }
        Ok(if !per_param {
            Self::Fraction {
                fraction: value,
                min,
                max,
            }
        } else {
            Self::PerParam {
                tokens_per_param: value,
                params,
                min,
                max,
            }
        })
    }

    /// Warmup steps of `run` (its model, batch and length as planned).
    pub(crate) fn steps(&self, run: &RunSpec) -> u64 {
        self.steps_of(run.steps(), self.n_steps(run))
    }

    /// The warmup the per-parameter rule asks of `run`'s model, within its bounds but
    /// before the half-run cap: what every run of the model gets where no run is too
    /// short for it. `None` for the rules sized by the run.
    pub(crate) fn model_steps(&self, run: &RunSpec) -> Option<u64> {
        self.per_model()
            .then(|| self.steps_of(u64::MAX, self.n_steps(run)))
    }

    /// The model's N in steps of the run's batch (read by the per-parameter rule only).
    fn n_steps(&self, run: &RunSpec) -> f64 {
        match *self {
            Self::PerParam { params, .. } => {
                convention_n(&ParamCounts::of(&run.model), params) / run.tokens_per_step() as f64
            }
            _ => 0.0,
        }
    }

    /// Warmup steps of a run of `steps` steps whose model's N, in steps of its batch, is
    /// `n_steps` (read by the per-parameter rule only).
    fn steps_of(&self, steps: u64, n_steps: f64) -> u64 {
        match *self {
            Self::Steps(w) => w.min(steps / 10),
            Self::Fraction { fraction, min, max } => {
                let w = (fraction * steps as f64).round() as u64;
                w.clamp(min, max).min(steps / 2)
            }
            Self::PerParam {
                tokens_per_param,
                min,
                max,
                ..
            } => {
                let w = (tokens_per_param * n_steps).round() as u64;
                w.clamp(min, max).min(steps / 2)
            }
        }
    }

    /// Whether the rule sets a model's warmup without regard to the run's length.
    pub(crate) fn per_model(&self) -> bool {
        matches!(self, Self::PerParam { .. })
    }
}

/// The batch size of each model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BatchRule {
    /// `batch_size`: the batch of every run without the rule, the largest with it.
    pub(crate) largest: usize,
    /// `min_batch_size`.
    smallest: usize,
    /// `min_steps`, when the rule is on.
    min_steps: Option<u64>,
}

impl BatchRule {
    pub(crate) fn from_config(t: &TrainConfig) -> Result<Self, SweepError> {
        let smallest = t.min_batch_size.unwrap_or(1);
        if t.min_batch_size.is_some() && t.min_steps.is_none() {
            return Err(SweepError::invalid(
                "train.min_batch_size",
                "bounds the batch rule, which min_steps turns on: add min_steps",
            ));
        }
        if smallest == 0 || smallest > t.batch_size {
            return Err(SweepError::invalid(
                "train.min_batch_size",
                format!("{smallest} must be in [1, batch_size = {}]", t.batch_size),
            ));
        }
        if t.min_steps == Some(0) {
            return Err(SweepError::invalid("train.min_steps", "must be at least 1"));
        }
        Ok(Self {
            largest: t.batch_size,
            smallest,
            min_steps: t.min_steps,
        })
    }

    /// The batch of a model whose shortest run has `tokens` tokens of `context` each
    /// sequence: halve `batch_size` until that run has `min_steps` steps.
    pub(crate) fn batch_for(&self, tokens: f64, context: usize) -> usize {
        let Some(min_steps) = self.min_steps else {
            return self.largest;
        };
        let mut batch = self.largest;
        while batch / 2 >= self.smallest && tokens / ((batch * context) as f64) < min_steps as f64 {
            batch /= 2;
        }
        batch
    }

    /// The learning-rate factor of `batch`: √(batch / batch_size), the square-root rule
    /// for Adam (Malladi et al. 2022, "On the SDEs and Scaling Rules for Adaptive
    /// Gradient Algorithms").
    pub(crate) fn lr_factor(&self, batch: usize) -> f64 {
        (batch as f64 / self.largest as f64).sqrt()
    }
}

/// `[train] seeds`, checked.
pub(crate) fn seeds(t: &TrainConfig) -> Result<u64, SweepError> {
    match t.seeds {
        None => Ok(1),
        Some(k) if (1..=1000).contains(&k) => Ok(k),
        Some(k) => Err(SweepError::invalid(
            "train.seeds",
            format!("{k}: train each point 1 to 1000 times"),
        )),
    }
}

/// Replicate `r` (≥ 1) of `run`: initial weights from seed `seed + r`, the data order of
/// replicate `r`, and the id suffixed `-s{r}`.
pub(crate) fn replicate(run: &PlannedRun, r: u64) -> PlannedRun {
    let mut copy = run.clone();
    copy.id = format!("{}-s{r}", run.id);
    copy.spec.seed = run.spec.seed.wrapping_add(r);
    copy.spec.replicate = r;
    copy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fraction_warmup_is_clamped() {
        let w = Warmup::Fraction {
            fraction: 0.05,
            min: 10,
            max: 100,
        };
        assert_eq!(w.steps_of(1000, 0.0), 50);
        assert_eq!(w.steps_of(100, 0.0), 10, "the floor");
        assert_eq!(w.steps_of(10_000, 0.0), 100, "the cap");
        assert_eq!(w.steps_of(12, 0.0), 6, "never more than half the run");
        assert_eq!(
            Warmup::Steps(50).steps_of(300, 0.0),
            30,
            "fixed steps: a tenth at most"
        );
    }

    #[test]
    fn per_param_warmup_ignores_the_run_length_within_its_bounds() {
        let w = Warmup::PerParam {
            tokens_per_param: 2.0,
            params: ParamCount::Total,
            min: 10,
            max: 500,
        };
        // N of 120.4 steps: 2N tokens is 241 steps, whatever the run's length.
        for steps in [700, 2_000, 50_000] {
            assert_eq!(w.steps_of(steps, 120.4), 241);
        }
        assert_eq!(w.steps_of(400, 120.4), 200, "never more than half the run");
        assert_eq!(w.steps_of(50_000, 2.0), 10, "the floor");
        assert_eq!(w.steps_of(50_000, 1e4), 500, "the cap");
    }

    fn train(text: &str) -> TrainConfig {
        let base = "batch_size = 8\nlr = 1e-3\n";
        toml::from_str(&format!("{base}{text}")).expect("a [train] table")
    }

    #[test]
    fn the_warmup_rules_exclude_each_other_by_name() {
        let total = ParamCount::Total;
        let field = |text: &str| match Warmup::from_config(&train(text), total) {
            Err(SweepError::Invalid { field, .. }) => field,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(
            field("warmup_fraction = 0.2\nwarmup_tokens_per_param = 1"),
            "train.warmup_tokens_per_param"
        );
        assert_eq!(
            field("warmup_steps = 5\nwarmup_tokens_per_param = 1"),
            "train.warmup_steps"
        );
        assert_eq!(
            field("warmup_tokens_per_param = 0"),
            "train.warmup_tokens_per_param"
        );
        assert_eq!(
            field("warmup_tokens_per_param = nan"),
            "train.warmup_tokens_per_param"
        );
        assert_eq!(field("warmup_min_steps = 5"), "train.warmup_min_steps");
        // Unless given, the per-parameter rule's floor is 2/(1 − β2) steps.
        for (beta2, floor) in [("0.99", 200), ("0.95", 40), ("0.999", 2000)] {
            let text = format!("warmup_tokens_per_param = 1\nbeta2 = {beta2}");
            let rule = Warmup::from_config(&train(&text), total).expect("valid");
            assert!(
                matches!(rule, Warmup::PerParam { min, .. } if min == floor),
                "{beta2}: {rule:?}"
            );
        }
        assert_eq!(
            Warmup::from_config(
                &train("warmup_tokens_per_param = 1\nwarmup_min_steps = 3"),
                total
            )
            .expect("valid"),
            Warmup::PerParam {
                tokens_per_param: 1.0,
                params: total,
                min: 3,
                max: u64::MAX
            }
        );
    }

    #[test]
    fn the_batch_halves_until_the_shortest_run_has_its_steps() {
        let rule = BatchRule {
            largest: 32,
            smallest: 4,
            min_steps: Some(500),
        };
        // 1e6 tokens of 128: 32 → 244 steps, 16 → 488, 8 → 976.
        assert_eq!(rule.batch_for(1e6, 128), 8);
        assert_eq!(rule.batch_for(1e8, 128), 32);
        assert_eq!(rule.batch_for(1e3, 128), 4, "never below min_batch_size");
        assert!((rule.lr_factor(8) - 0.5).abs() < 1e-15);
        let off = BatchRule {
            min_steps: None,
            ..rule
        };
        assert_eq!(off.batch_for(1e3, 128), 32);
    }
}
