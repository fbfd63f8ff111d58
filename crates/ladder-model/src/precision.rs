//! Mixed precision: the arithmetic the matrix products run in.
//!
//! Under [`Precision::Bf16`] the model autocasts as PyTorch's `torch.autocast` does for
//! bf16: the inputs of every matrix product (the linear layers, the attention scores
//! and weighted sum, the head) are rounded to bfloat16 and the product runs in bf16,
//! while the weights, LayerNorm, softmax, GELU, the loss, the gradients and the
//! optimiser state stay f32. The casts are ordinary candle ops, so gradients flow
//! through them back to the f32 master weights.
//!
//! bf16 pays on GPUs with bf16 tensor cores. candle 0.11 has no bf16 GEMM on the CPU:
//! it widens to f32, multiplies and rounds back, so on a CPU bf16 is slower than f32 and
//! only useful to see what the rounding does to a run.

use std::fmt;

use candle_core::{DType, Result, Tensor};

/// The precision of the matrix products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// Everything in f32.
    #[default]
    F32,
    /// Matrix products in bf16, everything else f32 (autocast).
    Bf16,
}

impl Precision {
    /// Parses the config spelling, `"f32"` or `"bf16"`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "f32" => Some(Self::F32),
            "bf16" => Some(Self::Bf16),
            _ => None,
        }
    }

    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::Bf16 => "bf16",
        }
    }

    /// `a · b` (batched as `Tensor::matmul`) in this precision; the result has `a`'s dtype.
    pub fn matmul(self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        match self {
            Self::F32 => a.matmul(b),
            Self::Bf16 => a
                .to_dtype(DType::BF16)?
                .matmul(&b.to_dtype(DType::BF16)?)?
                .to_dtype(a.dtype()),
        }
    }

    /// `x · Wᵀ + b` for `x` of shape `(…, in)`, `W` `(out, in)`, `b` `(out)`, with the
    /// product in this precision and the bias added in `x`'s dtype.
    pub fn linear(self, x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
        let Some((&cols, lead)) = x.dims().split_last() else {
            candle_core::bail!("linear: the input is a scalar, expected (…, {})", w.dim(1)?)
        };
        let mut out_shape = lead.to_vec();
        out_shape.push(w.dim(0)?);
        self.matmul(&x.reshape((lead.iter().product::<usize>(), cols))?, &w.t()?)?
            .broadcast_add(b)?
            .reshape(out_shape)
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
