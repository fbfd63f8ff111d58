//! A seeded variable store: the `VarBuilder` backend that creates every parameter from
//! one ChaCha stream, in construction order, so that a seed fixes the initial model on
//! any device (candle cannot seed its CPU generator).

use std::sync::Mutex;

use candle_core::{DType, Device, Result, Shape, Tensor, Var};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Uniform};

/// Named trainable variables in creation order, initialised from a seed.
pub struct ParamStore {
    inner: Mutex<Inner>,
}

struct Inner {
    rng: ChaCha8Rng,
    vars: Vec<(String, Var)>,
}

impl ParamStore {
    /// An empty store whose initial values will be drawn from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            inner: Mutex::new(Inner {
                rng: ChaCha8Rng::seed_from_u64(seed),
                vars: Vec::new(),
            }),
        }
    }

    /// A `VarBuilder` that creates its variables in this store.
    pub fn var_builder(&self, dtype: DType, device: &Device) -> VarBuilder<'_> {
        VarBuilder::from_backend(Box::new(Borrowed(self)), dtype, device.clone())
    }

    /// Every variable with its name, in creation order.
    pub fn named_vars(&self) -> Vec<(String, Var)> {
        self.lock().vars.clone()
    }

    /// Every variable, in creation order.
    pub fn vars(&self) -> Vec<Var> {
        self.lock().vars.iter().map(|(_, v)| v.clone()).collect()
    }

    /// Every variable with its learning-rate multiplier under `model`'s parametrization
    /// (1 for all under the standard one), in creation order.
    pub fn vars_with_lr_multipliers(&self, model: &crate::GptConfig) -> Vec<(Var, f64)> {
        let p = model.parametrization;
        self.lock()
            .vars
            .iter()
            .map(|(name, v)| (v.clone(), p.lr_multiplier(model.d_model, name, v.rank())))
            .collect()
    }

    /// Total number of scalar parameters.
    pub fn num_params(&self) -> usize {
        self.lock().vars.iter().map(|(_, v)| v.elem_count()).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock only means another thread panicked mid-insert; the list
        // itself is still consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn sample(rng: &mut ChaCha8Rng, n: usize, init: Init) -> Result<Vec<f64>> {
    Ok(match init {
        Init::Const(c) => vec![c; n],
        Init::Randn { mean, stdev } => {
            let normal = Normal::new(mean, stdev).map_err(candle_core::Error::wrap)?;
            (0..n).map(|_| normal.sample(rng)).collect()
        }
        Init::Uniform { lo, up } => {
            let uniform = Uniform::new(lo, up).map_err(candle_core::Error::wrap)?;
            (0..n).map(|_| uniform.sample(rng)).collect()
        }
        Init::Kaiming { .. } => candle_core::bail!("ParamStore does not implement Kaiming init"),
    })
}

impl SimpleBackend for ParamStore {
    fn get(&self, s: Shape, name: &str, h: Init, dtype: DType, dev: &Device) -> Result<Tensor> {
        let mut inner = self.lock();
        if let Some((_, v)) = inner.vars.iter().find(|(n, _)| n == name) {
            if v.shape() != &s {
                candle_core::bail!(
                    "variable {name} exists with shape {:?}, not {s:?}",
                    v.shape()
                );
            }
            return Ok(v.as_tensor().clone());
        }
        let values = sample(&mut inner.rng, s.elem_count(), h)?;
        let tensor = Tensor::from_vec(values, s, dev)?.to_dtype(dtype)?;
        let var = Var::from_tensor(&tensor)?;
        inner.vars.push((name.to_string(), var.clone()));
        Ok(var.as_tensor().clone())
    }

    fn get_unchecked(&self, name: &str, _dtype: DType, _dev: &Device) -> Result<Tensor> {
        candle_core::bail!(
            "ParamStore creates variables with a shape; {name} was asked for without one"
        )
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.lock().vars.iter().any(|(n, _)| n == name)
    }
}

/// Lends a store to a `VarBuilder` without giving it away.
struct Borrowed<'a>(&'a ParamStore);

impl SimpleBackend for Borrowed<'_> {
    fn get(&self, s: Shape, name: &str, h: Init, dtype: DType, dev: &Device) -> Result<Tensor> {
        self.0.get(s, name, h, dtype, dev)
    }

    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> Result<Tensor> {
        self.0.get_unchecked(name, dtype, dev)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.0.contains_tensor(name)
    }
}
