//! The training loop of one run.

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use ladder_data::TokenSource;
use ladder_model::{FlopCounts, Gpt, GptConfig, ParamStore, Precision};

use crate::{
    AdamW, AdamWConfig, CosineSchedule, EvalPoint, Observer, RunStart, RunSummary, TrainError,
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
    /// Optimiser settings.
    pub adamw: AdamWConfig,
    /// Evaluate every this many steps (and after the last).
    pub eval_every_steps: u64,
    /// Seed of the initial weights.
    pub seed: u64,
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
}

fn batch(seqs: &[Vec<u32>], t: usize, device: &Device) -> candle_core::Result<(Tensor, Tensor)> {
    let b = seqs.len();
    let x: Vec<u32> = seqs.iter().flat_map(|s| s[..t].iter().copied()).collect();
    let y: Vec<u32> = seqs.iter().flat_map(|s| s[1..=t].iter().copied()).collect();
    Ok((
        Tensor::from_vec(x, (b, t), device)?,
        Tensor::from_vec(y, (b, t), device)?,
    ))
}

/// Mean loss of `model` over `val`, in batches of `batch_size` sequences.
fn evaluate(
    model: &Gpt,
    val: &[Vec<u32>],
    batch_size: usize,
    device: &Device,
) -> Result<f64, TrainError> {
    let t = model.config().context;
    let mut total = 0.0;
    for chunk in val.chunks(batch_size) {
        let (x, y) = batch(chunk, t, device)?;
        let loss = model
            .loss(&x, &y)?
            .to_dtype(DType::F64)?
            .to_scalar::<f64>()?;
        total += loss * chunk.len() as f64;
    }
    Ok(total / val.len() as f64)
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
    let t = spec.model.context;
    if let Some(capacity) = source.train_capacity(t) {
        if capacity < spec.tokens {
            return Err(TrainError::SourceExhausted {
                delivered: capacity,
                needed: spec.tokens,
            });
        }
    }
    let store = ParamStore::new(spec.seed);
    let model =
        Gpt::new(spec.model, store.var_builder(DType::F32, device))?.with_precision(spec.precision);
    let mut opt = AdamW::new(store.vars(), spec.adamw)?;
    let steps = spec.steps();
    let schedule = CosineSchedule {
        peak: spec.lr,
        warmup: spec.warmup_steps,
        total: steps,
        floor: spec.lr_floor,
    };
    let flops_per_token = FlopCounts::of(&spec.model).exact;
    observer
        .on_start(&RunStart {
            steps,
            tokens: spec.tokens,
        })
        .map_err(TrainError::Observer)?;

    let start = Instant::now();
    let mut sequences = source.train_sequences(t);
    let (mut loss_sum, mut loss_count, mut last) = (0.0, 0u64, None);
    for step in 0..steps {
        let seqs: Vec<Vec<u32>> = sequences.by_ref().take(spec.batch_size).collect();
        if seqs.len() < spec.batch_size {
            let delivered = step * spec.tokens_per_step() + (seqs.len() * t) as u64;
            return Err(TrainError::SourceExhausted {
                delivered,
                needed: spec.tokens,
            });
        }
        let (x, y) = batch(&seqs, t, device)?;
        let loss = model.loss(&x, &y)?;
        let loss_value = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        if !loss_value.is_finite() {
            return Err(TrainError::Diverged { step });
        }
        let lr = schedule.lr(step);
        opt.step(&loss.backward()?, lr)?;
        let tokens = (step + 1) * spec.tokens_per_step();
        observer
            .on_step(step + 1, tokens, loss_value)
            .map_err(TrainError::Observer)?;
        loss_sum += loss_value;
        loss_count += 1;
        if (step + 1) % spec.eval_every_steps == 0 || step + 1 == steps {
            let point = EvalPoint {
                step: step + 1,
                tokens,
                flops: tokens as f64 * flops_per_token,
                train_loss: loss_sum / loss_count as f64,
                val_loss: evaluate(&model, val, spec.batch_size, device)?,
                lr,
                wall_s: start.elapsed().as_secs_f64(),
            };
            observer.on_eval(&point).map_err(TrainError::Observer)?;
            (loss_sum, loss_count, last) = (0.0, 0, Some(point));
        }
    }
    let summary = RunSummary {
        last: last.ok_or(TrainError::SourceExhausted {
            delivered: 0,
            needed: spec.tokens,
        })?,
    };
    observer.on_finish(&summary).map_err(TrainError::Observer)?;
    Ok(summary)
}
