//! Fused CPU kernels with hand-written backward passes, as candle custom ops.
//!
//! Each composite of the model's hot path (causal attention, LayerNorm, GELU, the
//! biased linear layer, softmax cross-entropy) is one graph node with its own backward,
//! instead of the dozen nodes its composed form builds, and a whole transformer block
//! can be one node too ([`transformer_block`]), built from the same kernels, as can the
//! LM head with the loss ([`head_cross_entropy`]). That removes most of candle's
//! per-node costs: a fresh allocation per intermediate, and a zero-then-add gradient
//! accumulation per node (../shared/notes/candle-cpu.md). Matrix products inside the
//! kernels make the same `gemm` call as candle's own CPU matmul, into an output that is
//! not zeroed first (`matmul.rs`).
//!
//! Every op here runs on CPU only. The public functions take a tensor on any device and
//! fall back to the composed candle ops elsewhere (CUDA), so the model stays
//! device-generic. Each op has a finite-difference gradient test and a test against the
//! composed ops (`tests/kernels.rs`).

use std::sync::{Arc, OnceLock};

use candle_core::{CpuStorage, Layout, Result, WithDType};
use rayon::prelude::*;

mod attention;
mod block;
mod cross_entropy;
mod gelu;
mod head_loss;
mod layer_norm;
mod linear;
mod matmul;
mod simd;

pub use attention::{
    attend_composed, attend_in, causal_attention, causal_attention_composed, causal_mask,
    merge_heads, split_heads,
};
pub use block::transformer_block;
pub use cross_entropy::{cross_entropy, cross_entropy_composed};
pub use gelu::{gelu, gelu_composed};
pub use head_loss::head_cross_entropy;
pub use layer_norm::{layer_norm, layer_norm_composed};
pub use linear::{linear, linear_composed};

/// The instruction set of candle's CPU matrix products on this machine: `avx512`,
/// `avx2`, `neon` or `scalar`, by the rule `gemm` 0.19 picks its microkernels with at run
/// time (`init_gemm_fn`: AVX-512F, else FMA, whose kernels are its AVX2 ones; NEON on
/// aarch64). Runs record it beside the crate versions: a bit-for-bit rerun needs it.
pub fn cpu_matmul_isa() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return "avx512";
        }
        if std::arch::is_x86_feature_detected!("fma") {
            return "avx2";
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            return "neon";
        }
    }
    "scalar"
}

/// Which implementation of the model's composites to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kernels {
    /// The fused custom ops of this module on CPU, with each f32 transformer block
    /// without RoPE as one node ([`transformer_block`]); composed ops on other devices.
    #[default]
    Fused,
    /// The fused custom ops one composite at a time, never a whole block: what `Fused`
    /// runs where a block cannot be one node (RoPE, bf16 autocast), and its reference.
    PerOp,
    /// candle's composed ops everywhere: the reference the fused ops are tested against.
    Composed,
}

/// The float types the kernels support (f32 for training, f64 for gradient tests).
pub(crate) trait Float:
    WithDType
    + num_traits::Float
    + num_traits::NumAssign
    + simd::Elementwise
    + std::iter::Sum
    + Send
    + Sync
    + 'static
{
}
impl Float for f32 {}
impl Float for f64 {}

/// The contiguous elements of `storage` under `layout`, or an error naming `op`.
pub(crate) fn contiguous<'a, T: Float>(
    op: &str,
    storage: &'a CpuStorage,
    layout: &Layout,
) -> Result<&'a [T]> {
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("{op} needs contiguous inputs")
    };
    Ok(&T::cpu_storage_as_slice(storage)?[start..end])
}

/// Calls `$f::<f32>` or `$f::<f64>` by the dtype of `$storage`.
macro_rules! by_dtype {
    ($op:expr, $storage:expr, $f:ident ( $($arg:expr),* )) => {
        match $storage {
            candle_core::CpuStorage::F32(_) => $f::<f32>($($arg),*),
            candle_core::CpuStorage::F64(_) => $f::<f64>($($arg),*),
            s => candle_core::bail!("{} supports f32 and f64, not {:?}", $op, candle_core::backend::BackendStorage::dtype(s)),
        }
    };
}
pub(crate) use by_dtype;

/// What a fused op's forward keeps for its backward: written once by the forward, read by
/// the gradient op, which holds a clone of the same cell.
pub(crate) struct Stash<S>(Arc<OnceLock<S>>);

impl<S> Stash<S> {
    pub(crate) fn new() -> Self {
        Self(Arc::new(OnceLock::new()))
    }

    /// Keeps `value`; `op` names the op in the error if its forward ran twice.
    pub(crate) fn keep(&self, op: &str, value: S) -> Result<()> {
        self.0
            .set(value)
            .map_err(|_| candle_core::Error::Msg(format!("{op}: the forward ran twice")))
    }

    /// What the forward kept; `op` names the op in the error if it kept nothing.
    pub(crate) fn get(&self, op: &str) -> Result<&S> {
        match self.0.get() {
            Some(value) => Ok(value),
            None => candle_core::bail!("{op}: the forward saved nothing"),
        }
    }
}

impl<S> Clone for Stash<S> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

/// Rows per parallel task in the row-wise kernels.
pub(crate) const ROWS_PER_TASK: usize = 64;

/// Sums the rows of a row-major `(rows, cols)` slice into `cols` values: partial sums
/// over fixed blocks of rows in parallel, then their sum in block order, so the result
/// does not depend on how many threads ran.
pub(crate) fn column_sums<T: Float>(data: &[T], cols: usize) -> Vec<T> {
    let partials: Vec<Vec<T>> = data
        .par_chunks(cols * ROWS_PER_TASK)
        .map(|block| {
            block
                .chunks_exact(cols)
                .fold(vec![T::zero(); cols], add_into)
        })
        .collect();
    partials
        .iter()
        .fold(vec![T::zero(); cols], |acc, p| add_into(acc, p))
}

/// `acc += row`, element-wise.
pub(crate) fn add_into<T: Float>(mut acc: Vec<T>, row: &[T]) -> Vec<T> {
    for (s, &x) in acc.iter_mut().zip(row) {
        *s += x;
    }
    acc
}
