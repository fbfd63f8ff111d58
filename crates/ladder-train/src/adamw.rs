//! AdamW (Loshchilov & Hutter 2019) with decoupled weight decay on matrices only and
//! global-norm gradient clipping, as in nanoGPT's `configure_optimizers`.
//!
//! candle-nn's `AdamW` decays every variable, biases and LayerNorm gains included, and
//! has no parameter groups (../shared/notes/candle-cpu.md), hence this one.

use candle_core::{backprop::GradStore, Result, Tensor, Var};

/// AdamW hyper-parameters (the learning rate comes from the schedule).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWConfig {
    /// First-moment decay β1.
    pub beta1: f64,
    /// Second-moment decay β2.
    pub beta2: f64,
    /// Denominator epsilon.
    pub eps: f64,
    /// Decoupled weight decay, applied to variables of rank ≥ 2 only.
    pub weight_decay: f64,
    /// Clip the global gradient norm to this value; `None` disables clipping.
    pub grad_clip: Option<f64>,
}

struct Slot {
    var: Var,
    m: Tensor,
    v: Tensor,
    decay: bool,
    /// The variable's learning rate as a multiple of the schedule's (μP's per-layer
    /// rates; 1 otherwise).
    lr_multiplier: f64,
}

/// The optimiser state.
pub struct AdamW {
    config: AdamWConfig,
    slots: Vec<Slot>,
    step: i32,
}

impl AdamW {
    /// An optimiser over `vars` with zeroed moments, one learning rate for all.
    pub fn new(vars: Vec<Var>, config: AdamWConfig) -> Result<Self> {
        Self::with_lr_multipliers(vars.into_iter().map(|v| (v, 1.0)).collect(), config)
    }

    /// An optimiser over `vars`, each with its learning rate as a multiple of the
    /// schedule's (as torch's parameter groups; the decoupled decay scales with it).
    pub fn with_lr_multipliers(vars: Vec<(Var, f64)>, config: AdamWConfig) -> Result<Self> {
        let slots = vars
            .into_iter()
            .map(|(var, lr_multiplier)| {
                Ok(Slot {
                    m: var.zeros_like()?,
                    v: var.zeros_like()?,
                    decay: var.rank() >= 2,
                    lr_multiplier,
                    var,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            config,
            slots,
            step: 0,
        })
    }

    /// The moments (in the order of the variables) and the step count.
    pub fn state(&self) -> (Vec<Tensor>, Vec<Tensor>, i32) {
        let m = self.slots.iter().map(|s| s.m.clone()).collect();
        let v = self.slots.iter().map(|s| s.v.clone()).collect();
        (m, v, self.step)
    }

    /// Replaces the moments and the step count (from [`AdamW::state`] of the same vars).
    pub fn set_state(&mut self, m: Vec<Tensor>, v: Vec<Tensor>, step: i32) -> Result<()> {
        if m.len() != self.slots.len() || v.len() != self.slots.len() {
            candle_core::bail!(
                "optimiser state for {} variables, not {}",
                m.len(),
                self.slots.len()
            );
        }
        for ((slot, m), v) in self.slots.iter_mut().zip(m).zip(v) {
            if m.shape() != slot.var.shape() || v.shape() != slot.var.shape() {
                candle_core::bail!(
                    "optimiser state of shape {:?} for a variable of shape {:?}",
                    m.shape(),
                    slot.var.shape()
                );
            }
            (slot.m, slot.v) = (m, v);
        }
        self.step = step;
        Ok(())
    }

    /// Global L2 norm of the gradients of the optimised variables.
    pub fn grad_norm(&self, grads: &GradStore) -> Result<f64> {
        let mut total = 0.0;
        for slot in &self.slots {
            if let Some(g) = grads.get(slot.var.as_tensor()) {
                total += g
                    .sqr()?
                    .sum_all()?
                    .to_dtype(candle_core::DType::F64)?
                    .to_scalar::<f64>()?;
            }
        }
        Ok(total.sqrt())
    }

    /// One update at learning rate `lr`; returns the gradient norm before clipping.
    pub fn step(&mut self, grads: &GradStore, lr: f64) -> Result<f64> {
        let c = self.config;
        let norm = self.grad_norm(grads)?;
        let scale = match c.grad_clip {
            Some(max) if norm > max => max / (norm + 1e-6),
            _ => 1.0,
        };
        self.step += 1;
        let bias1 = 1.0 - c.beta1.powi(self.step);
        let bias2 = 1.0 - c.beta2.powi(self.step);
        for slot in &mut self.slots {
            let Some(g) = grads.get(slot.var.as_tensor()) else {
                continue;
            };
            let g = (g * scale)?;
            slot.m = ((&slot.m * c.beta1)? + (&g * (1.0 - c.beta1))?)?;
            slot.v = ((&slot.v * c.beta2)? + (g.sqr()? * (1.0 - c.beta2))?)?;
            let m_hat = (&slot.m / bias1)?;
            let v_hat = (&slot.v / bias2)?;
            let update = (m_hat / (v_hat.sqrt()? + c.eps)?)?;
            let lr = lr * slot.lr_multiplier;
            let theta = slot.var.as_tensor();
            let decayed = if slot.decay {
                (theta * (1.0 - lr * c.weight_decay))?
            } else {
                theta.clone()
            };
            slot.var.set(&(decayed - (update * lr)?)?)?;
        }
        Ok(norm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// torch.optim.AdamW(lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1) on a
    /// 2-D parameter of 1.0 with a constant gradient 0.5 gives 0.89 after one step and
    /// 0.7811 after two (p ← p(1 − lr·wd) − lr·m̂/(√v̂ + eps)).
    #[test]
    fn matches_pytorch_reference_steps() {
        let w = Var::new(&[[1.0f64]], &Device::Cpu).unwrap();
        let b = Var::new(&[1.0f64], &Device::Cpu).unwrap();
        let config = AdamWConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.1,
            grad_clip: None,
        };
        let mut opt = AdamW::new(vec![w.clone(), b.clone()], config).unwrap();
        let expected_w = [0.89, 0.7811];
        let expected_b = [0.9, 0.8]; // rank 1: no decay
        for i in 0..2 {
            let loss = ((w.as_tensor().sum_all().unwrap() + b.as_tensor().sum_all().unwrap())
                .unwrap()
                * 0.5)
                .unwrap();
            let grads = loss.backward().unwrap();
            opt.step(&grads, 0.1).unwrap();
            let wv = w.flatten_all().unwrap().to_vec1::<f64>().unwrap()[0];
            let bv = b.to_vec1::<f64>().unwrap()[0];
            assert!((wv - expected_w[i]).abs() < 1e-6, "step {i}: w {wv}");
            assert!((bv - expected_b[i]).abs() < 1e-6, "step {i}: b {bv}");
        }
    }

    /// A multiplier k gives the update of a plain optimiser at learning rate k·lr.
    #[test]
    fn a_multiplier_scales_the_variables_rate() {
        let config = AdamWConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.1,
            grad_clip: None,
        };
        let run = |k: f64, lr: f64| {
            let w = Var::new(&[[1.0f64, -2.0]], &Device::Cpu).unwrap();
            let mut opt = AdamW::with_lr_multipliers(vec![(w.clone(), k)], config).unwrap();
            for _ in 0..3 {
                let loss = w.as_tensor().sqr().unwrap().sum_all().unwrap();
                opt.step(&loss.backward().unwrap(), lr).unwrap();
            }
            w.flatten_all().unwrap().to_vec1::<f64>().unwrap()
        };
        let (scaled, plain) = (run(0.25, 0.2), run(1.0, 0.05));
        for (a, b) in scaled.iter().zip(&plain) {
            assert!((a - b).abs() < 1e-12, "{scaled:?} vs {plain:?}");
        }
        assert!(
            (run(1.0, 0.2)[0] - scaled[0]).abs() > 1e-3,
            "the multiplier matters"
        );
    }

    #[test]
    fn reports_the_unclipped_gradient_norm() {
        let w = Var::new(&[3.0f64, 4.0], &Device::Cpu).unwrap();
        let config = AdamWConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            grad_clip: Some(1.0),
        };
        let mut opt = AdamW::new(vec![w.clone()], config).unwrap();
        let loss = (w.as_tensor().sqr().unwrap().sum_all().unwrap() * 0.5).unwrap();
        let grads = loss.backward().unwrap();
        let norm = opt.step(&grads, 0.1).unwrap();
        assert!((norm - 5.0).abs() < 1e-12, "reports the unclipped norm");
    }
}
