//! The training loop of one run.

use candle_core::Device;
use ladder_data::TokenSource;
use ladder_model::{GptConfig, Precision};

use crate::{
    AdamWConfig, CosineSchedule, EvalPoint, Observer, RunStart, RunSummary, Schedule, ScheduleKind,
    TrainError, Trainer, WsdSchedule,
};

/// Everything that determines one run, given the data.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// Model shape.
    pub model: GptConfig,
    /// Sequences per step; tokens per step = `batch_size · context`.
    pub batch_size: usize,
    /// Training tokens D; a multiple of the tokens per step.
    pub tokens: u64,
    /// Peak learning rate.
    pub lr: f64,
    /// Warmup steps.
    pub warmup_steps: u64,
    /// Final learning rate as a fraction of the peak.
    pub lr_floor: f64,
    /// Cosine, or warmup-stable-decay.
    pub schedule: ScheduleKind,
    /// Optimiser settings.
    pub adamw: AdamWConfig,
    /// Evaluate every this many steps (and after the last).
    pub eval_every_steps: u64,
    /// Seed of the initial weights.
    pub seed: u64,
    /// Which data order the run reads ([`ladder_data::TokenSource::train_sequences`]):
    /// 0 for the sweep's first seed, r for its replicate r.
    pub replicate: u64,
    /// Precision of the matrix products (f32, or bf16 autocast).
    pub precision: Precision,
}

impl RunSpec {
    /// Tokens per optimiser step.
    pub fn tokens_per_step(&self) -> u64 {
        (self.batch_size * self.model.context) as u64
    }

    /// Optimiser steps of the run.
    pub fn steps(&self) -> u64 {
        self.tokens / self.tokens_per_step()
    }

    /// The step where the learning rate starts to fall: the cooldown's first step under
    /// WSD (at least one cooldown step), the end of warmup under cosine.
    pub fn decay_start(&self) -> u64 {
        match self.schedule {
            ScheduleKind::Cosine => self.warmup_steps,
            ScheduleKind::Wsd { fraction, .. } => {
                let cooldown = ((fraction * self.steps() as f64).round() as u64).max(1);
                self.steps().saturating_sub(cooldown).max(self.warmup_steps)
            }
        }
    }

    /// The run's learning-rate schedule.
    pub fn schedule(&self) -> Schedule {
        match self.schedule {
            ScheduleKind::Cosine => Schedule::Cosine(CosineSchedule {
                peak: self.lr,
                warmup: self.warmup_steps,
                total: self.steps(),
                floor: self.lr_floor,
            }),
            ScheduleKind::Wsd { shape, .. } => Schedule::Wsd(WsdSchedule {
                peak: self.lr,
                warmup: self.warmup_steps,
                decay_start: self.decay_start(),
                total: self.steps(),
                floor: self.lr_floor,
                shape,
            }),
        }
    }
}

/// Trains one model on `source` for `spec.tokens` tokens, evaluating on `val`, and
/// reports every step and evaluation to `observer`.
pub fn train(
    spec: &RunSpec,
    source: &dyn TokenSource,
    val: &[Vec<u32>],
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<RunSummary, TrainError> {
    check_capacity(spec, source)?;
    let mut trainer = Trainer::new(spec, source, val, device)?;
    observer
        .on_start(&RunStart {
            steps: spec.steps(),
            tokens: spec.tokens,
        })
        .map_err(TrainError::Observer)?;
    trainer.run_until(spec.steps(), observer)?;
    finish(spec, trainer.evals(), observer)
}

/// Refuses a run the source cannot feed single-epoch.
pub(crate) fn check_capacity(spec: &RunSpec, source: &dyn TokenSource) -> Result<(), TrainError> {
    match source.train_capacity(spec.model.context) {
        Some(capacity) if capacity < spec.tokens => Err(TrainError::SourceExhausted {
            delivered: capacity,
            needed: spec.tokens,
        }),
        _ => Ok(()),
    }
}

/// Reports the last evaluation as the run's summary.
pub(crate) fn finish(
    spec: &RunSpec,
    evals: &[EvalPoint],
    observer: &mut dyn Observer,
) -> Result<RunSummary, TrainError> {
    let summary = RunSummary {
        last: *evals.last().ok_or(TrainError::SourceExhausted {
            delivered: 0,
            needed: spec.tokens,
        })?,
    };
    observer.on_finish(&summary).map_err(TrainError::Observer)?;
    Ok(summary)
}
