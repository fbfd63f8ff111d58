//! Building blocks composed from ops that record gradients.

use candle_core::{DType, Device, Module, Result, Tensor, D};
use candle_nn::{Init, VarBuilder};

/// GPT-2's initialisation scale for weight matrices and embeddings.
pub(crate) const INIT_STD: f64 = 0.02;

/// LayerNorm over the last dimension, written out so that autograd sees every op
/// (candle's fused `layer_norm` records no gradient).
pub(crate) struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f64,
}

impl LayerNorm {
    pub(crate) fn new(dim: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            weight: vb.get_with_hints(dim, "weight", Init::Const(1.0))?,
            bias: vb.get_with_hints(dim, "bias", Init::Const(0.0))?,
            eps: 1e-5,
        })
    }
}

impl Module for LayerNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mean = x.mean_keepdim(D::Minus1)?;
        let centred = x.broadcast_sub(&mean)?;
        let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = centred.broadcast_div(&(var + self.eps)?.sqrt()?)?;
        normed
            .broadcast_mul(&self.weight)?
            .broadcast_add(&self.bias)
    }
}

/// A linear layer `y = x·Wᵀ + b` with weights drawn from N(0, `std`²) and zero bias.
pub(crate) fn linear(
    in_dim: usize,
    out_dim: usize,
    std: f64,
    vb: VarBuilder,
) -> Result<candle_nn::Linear> {
    let weight = vb.get_with_hints(
        (out_dim, in_dim),
        "weight",
        Init::Randn {
            mean: 0.0,
            stdev: std,
        },
    )?;
    let bias = vb.get_with_hints(out_dim, "bias", Init::Const(0.0))?;
    Ok(candle_nn::Linear::new(weight, Some(bias)))
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
