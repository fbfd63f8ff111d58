//! A whole pre-norm transformer block as one graph node, with its backward.
//!
//! `y = x₂ + W₄·gelu(W₃·ln₂(x₂))`, `x₂ = x + W₂·attn(W₁·ln₁(x))` (biases omitted), from
//! the same kernels as the one-node-per-composite path (LayerNorm, biased linear, causal
//! attention, GELU), run back to back on the block's own buffers.
//!
//! Why: candle's backprop pays per graph node. It accumulates each node's gradient into
//! a freshly zeroed tensor (zeros, then add), which at d 256 is about a quarter of a
//! training step in `memset` and adds (docs/LOG.md, 2026-12-01). Per block the per-op
//! path has ten composites plus the reshapes around its four linears, each an
//! activation-sized node; this op is one node, and only its input `x` pays. The twelve
//! parameters reach it as one flat tensor, a `cat` of the flattened parameters (a copy
//! of ~12·d² values per step); `cat`'s backward hands each parameter its slice of the
//! flat gradient.
//!
//! The forward saves its intermediates (both LayerNorm outputs, `qkv`, the attention
//! output, `x₂`, the MLP's pre-activation and its GELU) for the backward, as the per-op
//! graph holds them. The backward is the chain rule through the same kernels' backward
//! passes in reverse order, with the same products, so it gives the per-op path's
//! gradients.

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::{attention, by_dtype, contiguous, gelu, layer_norm, linear, Float, Stash};

/// Elements per parallel task of the residual adds.
const ELEMENTS_PER_TASK: usize = 1 << 14;

/// Positions of the parameters in the packed vector, in [`transformer_block`]'s order.
const LN1_W: usize = 0;
const LN1_B: usize = 1;
const QKV_W: usize = 2;
const QKV_B: usize = 3;
const PROJ_W: usize = 4;
const PROJ_B: usize = 5;
const LN2_W: usize = 6;
const LN2_B: usize = 7;
const FC_W: usize = 8;
const FC_B: usize = 9;
const OUT_W: usize = 10;
const OUT_B: usize = 11;

/// The names of the parameters in packing order, for error messages.
const NAMES: [&str; 12] = [
    "ln1.weight",
    "ln1.bias",
    "attn.qkv.weight",
    "attn.qkv.bias",
    "attn.proj.weight",
    "attn.proj.bias",
    "ln2.weight",
    "ln2.bias",
    "mlp.fc.weight",
    "mlp.fc.bias",
    "mlp.proj.weight",
    "mlp.proj.bias",
];

/// Where each parameter lies in the packed vector of a block of width `d` and MLP
/// width `d_ff`.
#[derive(Clone, Copy)]
struct Packing {
    d: usize,
    d_ff: usize,
}

impl Packing {
    fn shapes(&self) -> [Vec<usize>; 12] {
        let (d, f) = (self.d, self.d_ff);
        [
            vec![d],
            vec![d],
            vec![3 * d, d],
            vec![3 * d],
            vec![d, d],
            vec![d],
            vec![d],
            vec![d],
            vec![f, d],
            vec![f],
            vec![d, f],
            vec![d],
        ]
    }

    fn offset(&self, i: usize) -> usize {
        self.shapes()[..i]
            .iter()
            .map(|s| s.iter().product::<usize>())
            .sum()
    }

    fn len(&self) -> usize {
        self.offset(NAMES.len())
    }

    /// Parameter `i` as a layout over a packed vector that starts at `start`.
    fn layout(&self, i: usize, start: usize) -> Layout {
        Layout::contiguous_with_offset(self.shapes()[i].as_slice(), start + self.offset(i))
    }
}

/// What the forward keeps for the backward.
struct Saved {
    xn1: CpuStorage,
    qkv: CpuStorage,
    att: CpuStorage,
    x2: CpuStorage,
    xn2: CpuStorage,
    h: CpuStorage,
    g: CpuStorage,
}

/// `(x, packed parameters) ↦ y`.
#[derive(Clone)]
struct Block {
    n_head: usize,
    eps: f64,
    packing: Packing,
    saved: Stash<Saved>,
}

/// `acc + other`, element-wise, reusing `acc`'s buffer.
fn add<T: Float>(acc: CpuStorage, other: &[T]) -> Result<CpuStorage> {
    let mut acc = T::cpu_storage_data(acc)?;
    acc.par_chunks_mut(ELEMENTS_PER_TASK)
        .zip(other.par_chunks(ELEMENTS_PER_TASK))
        .for_each(|(a, b)| {
            for (a, &b) in a.iter_mut().zip(b) {
                *a += b;
            }
        });
    Ok(T::to_cpu_storage_owned(acc))
}

/// The block's dimensions from `x`'s layout, checked against the packing.
fn dims(op: &str, packing: Packing, lx: &Layout, lp: &Layout) -> Result<(usize, usize)> {
    let (b, t, d) = lx.shape().dims3()?;
    if d != packing.d || lp.shape().elem_count() != packing.len() {
        candle_core::bail!("{op}: x of width {d} or its packed parameters do not match the block");
    }
    if !lx.is_contiguous() || !lp.is_contiguous() {
        candle_core::bail!("{op} needs contiguous inputs");
    }
    Ok((b, t))
}

fn forward<T: Float>(
    op: &Block,
    sx: &CpuStorage,
    lx: &Layout,
    sp: &CpuStorage,
    lp: &Layout,
) -> Result<(CpuStorage, Shape)> {
    let pk = op.packing;
    let (b, t) = dims("transformer block", pk, lx, lp)?;
    let (rows, d, f) = (b * t, pk.d, pk.d_ff);
    let at = |i| pk.layout(i, lp.start_offset());
    let x = Layout::contiguous_with_offset((rows, d), lx.start_offset());
    let (narrow, wide) = (Layout::contiguous((rows, d)), Layout::contiguous((rows, f)));

    let (xn1, _) = layer_norm::forward::<T>(op.eps, sx, &x, sp, &at(LN1_W), sp, &at(LN1_B))?;
    let (qkv, _) = linear::forward::<T>(&xn1, &narrow, sp, &at(QKV_W), sp, &at(QKV_B))?;
    let (att, _) = attention::forward::<T>(op.n_head, &qkv, &Layout::contiguous((b, t, 3 * d)))?;
    let (a, _) = linear::forward::<T>(&att, &narrow, sp, &at(PROJ_W), sp, &at(PROJ_B))?;
    let x2 = add(a, contiguous::<T>("transformer block", sx, &x)?)?;
    let (xn2, _) = layer_norm::forward::<T>(op.eps, &x2, &narrow, sp, &at(LN2_W), sp, &at(LN2_B))?;
    let (h, _) = linear::forward::<T>(&xn2, &narrow, sp, &at(FC_W), sp, &at(FC_B))?;
    let (g, _) = gelu::gelu_fwd::<T>(&h, &wide)?;
    let (m, _) = linear::forward::<T>(&g, &wide, sp, &at(OUT_W), sp, &at(OUT_B))?;
    let y = add(m, T::cpu_storage_as_slice(&x2)?)?;

    let saved = Saved {
        xn1,
        qkv,
        att,
        x2,
        xn2,
        h,
        g,
    };
    op.saved.keep("transformer block", saved)?;
    Ok((y, Shape::from((b, t, d))))
}

impl CustomOp2 for Block {
    fn name(&self) -> &'static str {
        "ladder-transformer-block"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sp: &CpuStorage,
        lp: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        by_dtype!(self.name(), sx, forward(self, sx, lx, sp, lp))
    }

    fn bwd(
        &self,
        x: &Tensor,
        params: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let op = BlockGrad(self.clone());
        let n = x.elem_count();
        let packed = x.apply_op3_no_bwd(params, &grad.contiguous()?, &op)?;
        let dx = packed.narrow(0, 0, n)?.reshape(x.shape())?;
        let dp = packed.narrow(0, n, self.packing.len())?;
        Ok((Some(dx), Some(dp)))
    }
}

/// `(x, packed parameters, dy) ↦ [dx | d parameters]`, flat, from the forward's saved
/// intermediates.
struct BlockGrad(Block);

#[allow(clippy::too_many_arguments)]
fn backward<T: Float>(
    op: &Block,
    sx: &CpuStorage,
    lx: &Layout,
    sp: &CpuStorage,
    lp: &Layout,
    sg: &CpuStorage,
    lg: &Layout,
) -> Result<(CpuStorage, Shape)> {
    let pk = op.packing;
    let (b, t) = dims("transformer block backward", pk, lx, lp)?;
    let (rows, d, f) = (b * t, pk.d, pk.d_ff);
    if lg.dims() != lx.dims() || !lg.is_contiguous() {
        candle_core::bail!(
            "transformer block backward: the gradient must be a contiguous (B, T, C)"
        );
    }
    let s = op.saved.get("transformer block backward")?;
    let at = |i| pk.layout(i, lp.start_offset());
    let x = Layout::contiguous_with_offset((rows, d), lx.start_offset());
    let dy = Layout::contiguous_with_offset((rows, d), lg.start_offset());
    let (narrow, wide) = (Layout::contiguous((rows, d)), Layout::contiguous((rows, f)));
    let n = rows * d;
    let mut out = vec![T::zero(); n + pk.len()];
    let (dx, dp) = out.split_at_mut(n);
    let mut put = |i: usize, grad: &[T]| {
        let at = pk.offset(i);
        dp[at..at + grad.len()].copy_from_slice(grad);
    };

    // MLP: y = x₂ + W₄·gelu(h) + b₄, h = W₃·ln₂(x₂) + b₃.
    let (dg, dw, db) = linear::grads::<T>((&s.g, &wide), (sp, &at(OUT_W)), (sg, &dy))?;
    put(OUT_W, T::cpu_storage_as_slice(&dw)?);
    put(OUT_B, &db);
    let (dh, _) = gelu::gelu_grad::<T>(&s.h, &wide, &dg, &wide)?;
    let (dxn2, dw, db) = linear::grads::<T>((&s.xn2, &narrow), (sp, &at(FC_W)), (&dh, &wide))?;
    put(FC_W, T::cpu_storage_as_slice(&dw)?);
    put(FC_B, &db);
    let (ln2, _) =
        layer_norm::backward::<T>(op.eps, &s.x2, &narrow, sp, &at(LN2_W), &dxn2, &narrow)?;
    let mut ln2 = T::cpu_storage_data(ln2)?;
    put(LN2_W, &ln2[n..n + d]);
    put(LN2_B, &ln2[n + d..]);
    ln2.truncate(n);
    // dx₂ = the LayerNorm's share + dy (a sum of two: the same bits in either order).
    let dy_values = contiguous::<T>("transformer block backward", sg, &dy)?;
    let dx2 = add(T::to_cpu_storage_owned(ln2), dy_values)?;

    // Attention: x₂ = x + W₂·attn(qkv) + b₂, qkv = W₁·ln₁(x) + b₁.
    let (datt, dw, db) = linear::grads::<T>((&s.att, &narrow), (sp, &at(PROJ_W)), (&dx2, &narrow))?;
    put(PROJ_W, T::cpu_storage_as_slice(&dw)?);
    put(PROJ_B, &db);
    let (b3, b1) = (
        Layout::contiguous((b, t, 3 * d)),
        Layout::contiguous((b, t, d)),
    );
    let (dqkv, _) = attention::backward::<T>(op.n_head, &s.qkv, &b3, &datt, &b1)?;
    let qkv_rows = Layout::contiguous((rows, 3 * d));
    let (dxn1, dw, db) =
        linear::grads::<T>((&s.xn1, &narrow), (sp, &at(QKV_W)), (&dqkv, &qkv_rows))?;
    put(QKV_W, T::cpu_storage_as_slice(&dw)?);
    put(QKV_B, &db);
    let (ln1, _) = layer_norm::backward::<T>(op.eps, sx, &x, sp, &at(LN1_W), &dxn1, &narrow)?;
    let ln1 = T::cpu_storage_as_slice(&ln1)?;
    put(LN1_W, &ln1[n..n + d]);
    put(LN1_B, &ln1[n + d..]);
    let dx2 = T::cpu_storage_as_slice(&dx2)?;
    dx.par_chunks_mut(ELEMENTS_PER_TASK)
        .zip(ln1[..n].par_chunks(ELEMENTS_PER_TASK))
        .zip(dx2.par_chunks(ELEMENTS_PER_TASK))
        .for_each(|((dx, a), b)| {
            for ((dx, &a), &b) in dx.iter_mut().zip(a).zip(b) {
                *dx = a + b;
            }
        });
    Ok((T::to_cpu_storage_owned(out), Shape::from(n + pk.len())))
}

impl CustomOp3 for BlockGrad {
    fn name(&self) -> &'static str {
        "ladder-transformer-block-grad"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sp: &CpuStorage,
        lp: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        by_dtype!(self.name(), sx, backward(&self.0, sx, lx, sp, lp, sg, lg))
    }
}

/// One pre-norm transformer block, `x₂ = x + attn(ln₁(x))`, `y = x₂ + mlp(ln₂(x₂))`, on
/// `x` `(B, T, C)` with `n_head` heads, GELU (tanh) and LayerNorm epsilon `eps`, as one
/// graph node on CPU. `params` are, in order: `ln1` weight and bias `(C)`, the QKV
/// projection `(3C, C)` and `(3C)`, the attention output projection `(C, C)` and `(C)`,
/// `ln2` weight and bias, the MLP's first layer `(F, C)` and `(F)` and its second
/// `(C, F)` and `(C)`; linear weights are `(out, in)`.
///
/// Only for CPU tensors: on other devices the caller composes the block from the other
/// kernels (`Gpt` does).
pub fn transformer_block(
    x: &Tensor,
    params: [&Tensor; 12],
    n_head: usize,
    eps: f64,
) -> Result<Tensor> {
    if !x.device().is_cpu() {
        candle_core::bail!("transformer_block: the fused block runs on CPU only");
    }
    let d = x.dim(candle_core::D::Minus1)?;
    let packing = Packing {
        d,
        d_ff: params[FC_B].elem_count(),
    };
    for ((p, name), shape) in params.iter().zip(NAMES).zip(packing.shapes()) {
        if p.dims() != shape.as_slice() {
            candle_core::bail!(
                "transformer_block: {name} has shape {:?}, expected {shape:?} for width {d} and MLP width {}",
                p.dims(),
                packing.d_ff
            );
        }
    }
    let flat = params
        .iter()
        .map(|p| p.flatten_all())
        .collect::<Result<Vec<_>>>()?;
    let packed = Tensor::cat(&flat, 0)?;
    let op = Block {
        n_head,
        eps,
        packing,
        saved: Stash::new(),
    };
    x.contiguous()?.apply_op2(&packed, op)
}
