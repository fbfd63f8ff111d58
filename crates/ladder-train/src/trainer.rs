//! The training loop as a value: a model, its optimiser and its place in the data
//! stream, which can be advanced step by step, copied (a snapshot), restored, and
//! saved to disk. One run is `Trainer::new` then `run_until(steps)`; WSD branching
//! (`branch.rs`) snapshots a stable phase and restores it once per cooldown.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use ladder_data::{Sequences, TokenSource};
use ladder_model::{FlopCounts, Gpt, ParamStore};
use serde::{Deserialize, Serialize};

use crate::{AdamW, EvalPoint, Observer, RunSpec, TrainError};

/// Everything that determines how training continues from a step.
pub struct Snapshot {
    /// Steps done.
    pub step: u64,
    tensors: HashMap<String, Tensor>,
    scalars: Scalars,
}

/// The non-tensor part of a snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Scalars {
    step: u64,
    adam_step: i32,
    loss_sum: f64,
    loss_count: u64,
    evals: Vec<EvalPoint>,
}

impl Snapshot {
    /// The evaluations up to the snapshot.
    pub fn evals(&self) -> Vec<EvalPoint> {
        self.scalars.evals.clone()
    }

    /// Writes `path` (safetensors) and `path` with `.json` appended, each atomically.
    pub fn save(&self, path: &Path) -> Result<(), TrainError> {
        let json = json_path(path);
        let text = serde_json::to_string(&self.scalars).map_err(candle_core::Error::wrap)?;
        let tmp = path.with_extension("tmp");
        candle_core::safetensors::save(&self.tensors, &tmp)?;
        std::fs::rename(&tmp, path).map_err(candle_core::Error::wrap)?;
        let tmp = json.with_extension("tmp");
        std::fs::write(&tmp, text).map_err(candle_core::Error::wrap)?;
        std::fs::rename(&tmp, &json).map_err(candle_core::Error::wrap)?;
        Ok(())
    }

    /// Reads a snapshot written by [`Snapshot::save`].
    pub fn load(path: &Path, device: &Device) -> Result<Self, TrainError> {
        let text = std::fs::read_to_string(json_path(path)).map_err(candle_core::Error::wrap)?;
        let scalars: Scalars = serde_json::from_str(&text).map_err(candle_core::Error::wrap)?;
        let tensors = candle_core::safetensors::load(path, device)?;
        Ok(Self {
            step: scalars.step,
            tensors,
            scalars,
        })
    }
}

fn json_path(path: &Path) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".json");
    name.into()
}

/// A model in training.
pub struct Trainer<'a> {
    spec: RunSpec,
    store: ParamStore,
    model: Gpt,
    opt: AdamW,
    source: &'a dyn TokenSource,
    sequences: Sequences<'a>,
    val: &'a [Vec<u32>],
    device: Device,
    step: u64,
    loss_sum: f64,
    loss_count: u64,
    evals: Vec<EvalPoint>,
    start: Instant,
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

impl<'a> Trainer<'a> {
    /// A freshly initialised model (seed `spec.seed`) at the start of the data stream.
    pub fn new(
        spec: &RunSpec,
        source: &'a dyn TokenSource,
        val: &'a [Vec<u32>],
        device: &Device,
    ) -> Result<Self, TrainError> {
        let store = ParamStore::new(spec.seed);
        let model = Gpt::new(spec.model, store.var_builder(DType::F32, device))?
            .with_precision(spec.precision);
        let opt =
            AdamW::with_lr_multipliers(store.vars_with_lr_multipliers(&spec.model), spec.adamw)?;
        Ok(Self {
            spec: spec.clone(),
            store,
            model,
            opt,
            source,
            sequences: source.train_sequences(spec.model.context, spec.replicate),
            val,
            device: device.clone(),
            step: 0,
            loss_sum: 0.0,
            loss_count: 0,
            evals: Vec::new(),
            start: Instant::now(),
        })
    }

    /// Steps done.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Evaluations so far.
    pub fn evals(&self) -> &[EvalPoint] {
        &self.evals
    }

    /// Switches to `spec`'s schedule and length (same model and optimiser settings).
    pub fn set_spec(&mut self, spec: &RunSpec) {
        self.spec = spec.clone();
    }

    /// Mean loss of the model over the validation set.
    fn evaluate(&self) -> Result<f64, TrainError> {
        let t = self.spec.model.context;
        let mut total = 0.0;
        for chunk in self.val.chunks(self.spec.batch_size) {
            let (x, y) = batch(chunk, t, &self.device)?;
            let loss = self.model.loss(&x, &y)?.to_dtype(DType::F64)?;
            total += loss.to_scalar::<f64>()? * chunk.len() as f64;
        }
        Ok(total / self.val.len() as f64)
    }

    /// Trains up to step `until` under the spec's schedule, evaluating every
    /// `eval_every_steps` and at the spec's last step; reports to `observer`.
    pub fn run_until(&mut self, until: u64, observer: &mut dyn Observer) -> Result<(), TrainError> {
        let (t, b) = (self.spec.model.context, self.spec.batch_size);
        let schedule = self.spec.schedule();
        let flops_per_token = FlopCounts::of(&self.spec.model).exact;
        let total = self.spec.steps();
        while self.step < until {
            let seqs: Vec<Vec<u32>> = self.sequences.by_ref().take(b).collect();
            if seqs.len() < b {
                let delivered = self.step * self.spec.tokens_per_step() + (seqs.len() * t) as u64;
                return Err(TrainError::SourceExhausted {
                    delivered,
                    needed: self.spec.tokens,
                });
            }
            let (x, y) = batch(&seqs, t, &self.device)?;
            let loss = self.model.loss(&x, &y)?;
            let loss_value = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            if !loss_value.is_finite() {
                observer
                    .on_diverged(self.step)
                    .map_err(TrainError::Observer)?;
                return Err(TrainError::Diverged { step: self.step });
            }
            let lr = schedule.lr(self.step);
            self.opt.step(&loss.backward()?, lr)?;
            self.step += 1;
            let tokens = self.step * self.spec.tokens_per_step();
            observer
                .on_step(self.step, tokens, loss_value)
                .map_err(TrainError::Observer)?;
            self.loss_sum += loss_value;
            self.loss_count += 1;
            if self.step.is_multiple_of(self.spec.eval_every_steps) || self.step == total {
                let point = EvalPoint {
                    step: self.step,
                    tokens,
                    flops: tokens as f64 * flops_per_token,
                    train_loss: self.loss_sum / self.loss_count as f64,
                    val_loss: self.evaluate()?,
                    lr,
                    wall_s: self.start.elapsed().as_secs_f64(),
                };
                observer.on_eval(&point).map_err(TrainError::Observer)?;
                self.evals.push(point);
                (self.loss_sum, self.loss_count) = (0.0, 0);
            }
        }
        Ok(())
    }

    /// A copy of the training state.
    pub fn snapshot(&self) -> Result<Snapshot, TrainError> {
        let mut tensors = HashMap::new();
        let (m, v, adam_step) = self.opt.state();
        for (i, (name, var)) in self.store.named_vars().iter().enumerate() {
            tensors.insert(format!("w/{name}"), var.as_tensor().copy()?);
            tensors.insert(format!("m/{name}"), m[i].copy()?);
            tensors.insert(format!("v/{name}"), v[i].copy()?);
        }
        Ok(Snapshot {
            step: self.step,
            tensors,
            scalars: Scalars {
                step: self.step,
                adam_step,
                loss_sum: self.loss_sum,
                loss_count: self.loss_count,
                evals: self.evals.clone(),
            },
        })
    }

    /// Returns to `snap`: weights, optimiser moments, evaluations and the position in
    /// the data stream.
    pub fn restore(&mut self, snap: &Snapshot) -> Result<(), TrainError> {
        let get = |key: String| {
            snap.tensors.get(&key).cloned().ok_or_else(|| {
                TrainError::Candle(candle_core::Error::Msg(format!(
                    "snapshot has no tensor {key}: it is from another model"
                )))
            })
        };
        let (mut m, mut v) = (Vec::new(), Vec::new());
        for (name, var) in self.store.named_vars() {
            var.set(&get(format!("w/{name}"))?)?;
            m.push(get(format!("m/{name}"))?.copy()?);
            v.push(get(format!("v/{name}"))?.copy()?);
        }
        self.opt.set_state(m, v, snap.scalars.adam_step)?;
        self.step = snap.step;
        self.loss_sum = snap.scalars.loss_sum;
        self.loss_count = snap.scalars.loss_count;
        self.evals = snap.evals();
        let skip = (snap.step * self.spec.batch_size as u64) as usize;
        self.sequences = self
            .source
            .train_sequences(self.spec.model.context, self.spec.replicate);
        // `nth(skip - 1)` consumes exactly `skip` sequences.
        if skip > 0 {
            self.sequences.nth(skip - 1);
        }
        Ok(())
    }
}
