//! Measured training speed of one model shape: forward, backward and AdamW timed apart
//! on random tokens. `ladder plan` turns it into wall-time estimates; the `train` bench
//! prints it beside PyTorch's.

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use ladder_model::{Gpt, GptConfig, Kernels, ParamStore, Precision};
use rand::{Rng, SeedableRng};

use crate::{AdamW, AdamWConfig, TrainError};

/// Seconds spent in each phase over the timed steps.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StepTimes {
    /// Forward pass and loss, summed over the steps.
    pub forward: f64,
    /// Backward pass.
    pub backward: f64,
    /// Optimiser update.
    pub optimiser: f64,
    /// Steps timed.
    pub steps: usize,
    /// Tokens per step (`batch · context`).
    pub tokens_per_step: usize,
}

impl StepTimes {
    /// Seconds per step, all phases.
    pub fn step_seconds(&self) -> f64 {
        (self.forward + self.backward + self.optimiser) / self.steps.max(1) as f64
    }

    /// Training tokens per second.
    pub fn tokens_per_second(&self) -> f64 {
        self.tokens_per_step as f64 / self.step_seconds()
    }

    /// Seconds of one forward pass over `tokens` tokens (what an evaluation costs).
    pub fn forward_seconds(&self, tokens: u64) -> f64 {
        let per_token = self.forward / (self.steps.max(1) * self.tokens_per_step.max(1)) as f64;
        per_token * tokens as f64
    }
}

/// A device as runs record it: `cpu`, `cuda:N` or `metal:N`.
pub fn device_name(device: &Device) -> String {
    match device.location() {
        candle_core::DeviceLocation::Cpu => "cpu".into(),
        candle_core::DeviceLocation::Cuda { gpu_id } => format!("cuda:{gpu_id}"),
        candle_core::DeviceLocation::Metal { gpu_id } => format!("metal:{gpu_id}"),
    }
}

/// What to time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimingSpec {
    /// Model shape.
    pub model: GptConfig,
    /// Sequences per step.
    pub batch_size: usize,
    /// Optimiser settings.
    pub adamw: AdamWConfig,
    /// Kernel implementation.
    pub kernels: Kernels,
    /// Precision of the matrix products.
    pub precision: Precision,
    /// Untimed steps first (allocator and caches warm up).
    pub warmup: usize,
    /// Timed steps.
    pub steps: usize,
    /// Seed of the weights and tokens.
    pub seed: u64,
}

/// Trains `spec.warmup + spec.steps` steps on uniformly random tokens and times the last
/// `spec.steps`.
pub fn time_steps(spec: &TimingSpec, device: &Device) -> Result<StepTimes, TrainError> {
    time_steps_after(spec, device, || {})
}

/// [`time_steps`], calling `warmed_up` once between the warmup and the timed steps. Runs
/// timed side by side wait there for each other (the bench's start line), so that no
/// run's timed steps overlap another's start-up: model building and first steps fault
/// in fresh pages, which serialises the threads of a process on its memory map.
pub fn time_steps_after(
    spec: &TimingSpec,
    device: &Device,
    warmed_up: impl FnOnce(),
) -> Result<StepTimes, TrainError> {
    let mut warmed_up = Some(warmed_up);
    let (b, t, v) = (spec.batch_size, spec.model.context, spec.model.vocab);
    let store = ParamStore::new(spec.seed);
    let model = Gpt::with_kernels(
        spec.model,
        spec.kernels,
        store.var_builder(DType::F32, device),
    )?
    .with_precision(spec.precision);
    let mut opt =
        AdamW::with_lr_multipliers(store.vars_with_lr_multipliers(&spec.model), spec.adamw)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(spec.seed);
    let tokens: Vec<u32> = (0..b * (t + 1))
        .map(|_| rng.random_range(0..v as u32))
        .collect();
    let seq = Tensor::from_vec(tokens, (b, t + 1), device)?;
    let x = seq.narrow(1, 0, t)?.contiguous()?;
    let y = seq.narrow(1, 1, t)?.contiguous()?;
    let mut times = StepTimes {
        steps: spec.steps,
        tokens_per_step: b * t,
        ..StepTimes::default()
    };
    for step in 0..spec.warmup + spec.steps {
        if step == spec.warmup {
            if let Some(f) = warmed_up.take() {
                f();
            }
        }
        let t0 = Instant::now();
        let loss = model.loss(&x, &y)?;
        loss.to_dtype(DType::F32)?.to_scalar::<f32>()?; // waits for the device
        let t1 = Instant::now();
        let grads = loss.backward()?;
        device.synchronize()?;
        let t2 = Instant::now();
        opt.step(&grads, 1e-3)?;
        device.synchronize()?;
        let t3 = Instant::now();
        if step >= spec.warmup {
            times.forward += (t1 - t0).as_secs_f64();
            times.backward += (t2 - t1).as_secs_f64();
            times.optimiser += (t3 - t2).as_secs_f64();
        }
    }
    Ok(times)
}
