//! Building blocks: each holds its parameters and runs either the fused kernels or the
//! composed candle ops ([`Kernels`]).

use candle_core::{DType, Device, Result, Tensor, D};
use candle_nn::{Init, VarBuilder};

use crate::kernels::{self, Kernels};
use crate::Precision;

/// How a forward pass computes: which kernels, and the precision of the products.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Exec {
    pub(crate) kernels: Kernels,
    pub(crate) precision: Precision,
}

impl Exec {
    /// Whether units larger than one composite (a whole block, the head with the loss)
    /// run as one fused node on `device`: the fused f32 kernels on CPU.
    pub(crate) fn whole_units_on(&self, device: &Device) -> bool {
        self.kernels == Kernels::Fused && self.precision == Precision::F32 && device.is_cpu()
    }
}

/// LayerNorm over the last dimension with a gain and a shift.
pub(crate) struct LayerNorm {
    pub(crate) weight: Tensor,
    pub(crate) bias: Tensor,
    pub(crate) eps: f64,
}

impl LayerNorm {
    pub(crate) fn new(dim: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            weight: vb.get_with_hints(dim, "weight", Init::Const(1.0))?,
            bias: vb.get_with_hints(dim, "bias", Init::Const(0.0))?,
            eps: 1e-5,
        })
    }

    pub(crate) fn forward(&self, x: &Tensor, e: Exec) -> Result<Tensor> {
        match e.kernels {
            Kernels::Fused | Kernels::PerOp => {
                kernels::layer_norm(x, &self.weight, &self.bias, self.eps)
            }
            Kernels::Composed => {
                kernels::layer_norm_composed(x, &self.weight, &self.bias, self.eps)
            }
        }
    }
}

/// A linear layer `y = x·Wᵀ + b` with weights drawn from N(0, `std`²) and zero bias.
pub(crate) struct Linear {
    pub(crate) weight: Tensor,
    pub(crate) bias: Tensor,
}

impl Linear {
    pub(crate) fn new(in_dim: usize, out_dim: usize, std: f64, vb: VarBuilder) -> Result<Self> {
        let init = Init::Randn {
            mean: 0.0,
            stdev: std,
        };
        Ok(Self {
            weight: vb.get_with_hints((out_dim, in_dim), "weight", init)?,
            bias: vb.get_with_hints(out_dim, "bias", Init::Const(0.0))?,
        })
    }

    pub(crate) fn forward(&self, x: &Tensor, e: Exec) -> Result<Tensor> {
        match (e.precision, e.kernels) {
            (Precision::F32, Kernels::Fused | Kernels::PerOp) => {
                kernels::linear(x, &self.weight, &self.bias)
            }
            (Precision::F32, Kernels::Composed) => {
                kernels::linear_composed(x, &self.weight, &self.bias)
            }
            // The fused linear is f32 only: autocast goes through composed ops.
            (p, _) => p.linear(x, &self.weight, &self.bias),
        }
    }
}

/// Rotary position embedding tables (Su et al. 2021): `cos` and `sin` of shape
/// `(context, head_dim/2)` for the rotate-half layout.
pub(crate) struct Rotary {
    cos: Tensor,
    sin: Tensor,
}

impl Rotary {
    pub(crate) fn new(
        head_dim: usize,
        context: usize,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        let half = head_dim / 2;
        let inv_freq: Vec<f64> = (0..half)
            .map(|i| 1.0 / 10_000f64.powf(2.0 * i as f64 / head_dim as f64))
            .collect();
        let angles: Vec<f64> = (0..context)
            .flat_map(|t| inv_freq.iter().map(move |f| t as f64 * f))
            .collect();
        let angles = Tensor::from_vec(angles, (context, half), device)?;
        Ok(Self {
            cos: angles.cos()?.to_dtype(dtype)?,
            sin: angles.sin()?.to_dtype(dtype)?,
        })
    }

    /// Rotates `x` of shape `(B, H, T, hd)` by position, with composed ops.
    pub(crate) fn apply(&self, x: &Tensor) -> Result<Tensor> {
        let (_, _, t, hd) = x.dims4()?;
        let half = hd / 2;
        let cos = self.cos.narrow(0, 0, t)?; // (T, hd/2)
        let sin = self.sin.narrow(0, 0, t)?;
        let x1 = x.narrow(D::Minus1, 0, half)?;
        let x2 = x.narrow(D::Minus1, half, half)?;
        let r1 = (x1.broadcast_mul(&cos)? - x2.broadcast_mul(&sin)?)?;
        let r2 = (x1.broadcast_mul(&sin)? + x2.broadcast_mul(&cos)?)?;
        Tensor::cat(&[r1, r2], D::Minus1)
    }
}
