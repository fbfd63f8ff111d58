//! The language-model head and the mean cross-entropy as one graph node.
//!
//! `loss = mean_r CE(x_r·Wᵀ, t_r)` for the final hidden states `x` `(R, C)` and the head
//! `W` `(V, C)`. Composed, the logits `(R, V)` are a matmul node, two reshapes and the
//! cross-entropy's input, each paying candle's zero-then-add for its gradient, on the
//! largest activation of a small model (V = 1024 is 64× d_model 16). Here the forward
//! computes the logits a block of rows at a time and, while a block is in cache, its
//! losses and its gradient `dz = (softmax − onehot)/R` (for the upstream gradient 1 that
//! `backward()` starts from), in place: the logits never make a round trip through
//! memory and the softmax is computed once. The backward is then two products. The
//! arithmetic is the composed path's, call for call (the cross-entropy's row functions,
//! `Wᵀ`'s gradient computed as `xᵀ·dz` and transposed, as candle's transpose node does),
//! so the loss and the gradients are the same bits, on any number of threads, wherever
//! `gemm` gives a block of logits the whole product's bits: widths up to 512 and every
//! block more than one row (`matmul::matmul_by_rows`); elsewhere they agree to rounding.

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Result, Shape, Tensor, WithDType};

use super::matmul::{self, matmul, Threads};
use super::{by_dtype, contiguous, cross_entropy, Float, Stash};

/// What the forward keeps: `dz` for an upstream gradient of 1.
struct Saved {
    dz: CpuStorage,
}

/// `(x, W, targets) ↦ mean cross-entropy`.
#[derive(Clone)]
struct HeadLoss {
    saved: Stash<Saved>,
    /// Whether a backward may follow (the forward then computes `dz`).
    grad: bool,
}

/// `(R, C)`, `(V, C)` and `(R)` from the layouts, checked.
fn dims(op: &str, lx: &Layout, lw: &Layout) -> Result<(usize, usize, usize)> {
    let (rows, c) = lx.shape().dims2()?;
    let (vocab, c2) = lw.shape().dims2()?;
    if c != c2 || !lx.is_contiguous() || !lw.is_contiguous() {
        candle_core::bail!(
            "{op}: x {:?} and the head {:?} must be contiguous with the same width",
            lx.dims(),
            lw.dims()
        );
    }
    Ok((rows, vocab, c))
}

/// Logit rows per block: about 512 KiB of them, so that a block stays in the L2 cache
/// from the product through the softmax, in whole groups of the loss's partial sums.
fn block_rows(vocab: usize) -> usize {
    let groups = (1 << 17) / (cross_entropy::ROWS_PER_TASK * vocab.max(1));
    cross_entropy::ROWS_PER_TASK * groups.max(1)
}

fn forward<T: Float>(
    op: &HeadLoss,
    sx: &CpuStorage,
    lx: &Layout,
    sw: &CpuStorage,
    lw: &Layout,
    st: &CpuStorage,
    lt: &Layout,
) -> Result<(CpuStorage, Shape)> {
    let name = "head loss";
    let (rows, vocab, c) = dims(name, lx, lw)?;
    let t = cross_entropy::targets(name, st, lt, rows, vocab)?;
    let scale = T::one() / T::from(rows).unwrap_or_else(T::one);
    // The logits a block of rows at a time, each block's losses and, for the backward,
    // its `dz` computed in place while the block is in cache: the logits never make a
    // round trip through memory, and the softmax is computed once, not again backward.
    let (dz, partials) = matmul::matmul_by_rows::<T, Vec<f64>>(
        sx,
        sw,
        (rows, vocab, c),
        (lx, &lw.transpose(0, 1)?),
        block_rows(vocab),
        |first, z: &mut [T]| {
            let t = &t[first..first + z.len() / vocab];
            z.chunks_mut(vocab * cross_entropy::ROWS_PER_TASK)
                .zip(t.chunks(cross_entropy::ROWS_PER_TASK))
                .map(|(z, t)| {
                    z.chunks_exact_mut(vocab)
                        .zip(t)
                        .map(|(row, &t)| {
                            let (sum, nll) = cross_entropy::exp_row(row, t as usize);
                            if op.grad {
                                cross_entropy::grad_row(row, sum, t as usize, scale);
                            }
                            nll
                        })
                        .sum::<f64>()
                })
                .collect()
        },
    )?;
    // Fixed groups of rows summed in order: the same result on any number of threads.
    let total: f64 = partials.iter().flatten().sum();
    let mean = <T as WithDType>::from_f64(total / rows as f64);
    if op.grad {
        let dz = T::to_cpu_storage_owned(dz);
        op.saved.keep(name, Saved { dz })?;
    }
    Ok((T::to_cpu_storage_owned(vec![mean]), Shape::from(())))
}

impl CustomOp3 for HeadLoss {
    fn name(&self) -> &'static str {
        "ladder-head-loss"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sw: &CpuStorage,
        lw: &Layout,
        st: &CpuStorage,
        lt: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        by_dtype!(self.name(), sx, forward(self, sx, lx, sw, lw, st, lt))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _targets: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let op = HeadLossGrad(self.clone());
        let packed = x.apply_op3_no_bwd(w, &grad.contiguous()?, &op)?;
        let n = x.elem_count();
        let dx = packed.narrow(0, 0, n)?.reshape(x.shape())?;
        let dw = packed.narrow(0, n, w.elem_count())?.reshape(w.shape())?;
        Ok((Some(dx), Some(dw), None))
    }
}

/// `(x, W, g) ↦ [dx | dW]`, flat, from the saved `dz`.
struct HeadLossGrad(HeadLoss);

#[allow(clippy::too_many_arguments)]
fn backward<T: Float>(
    op: &HeadLoss,
    sx: &CpuStorage,
    lx: &Layout,
    sw: &CpuStorage,
    lw: &Layout,
    sg: &CpuStorage,
    lg: &Layout,
) -> Result<(CpuStorage, Shape)> {
    let (rows, vocab, c) = dims("head loss backward", lx, lw)?;
    let s = op.saved.get("head loss backward")?;
    let lz = Layout::contiguous((rows, vocab));
    let g = contiguous::<T>("head loss backward", sg, lg)?[0];
    // `dz` was computed for g = 1, the gradient `backward()` starts from.
    let scaled;
    let dz = if g == T::one() {
        &s.dz
    } else {
        let dz: Vec<T> = T::cpu_storage_as_slice(&s.dz)?
            .iter()
            .map(|&d| d * g)
            .collect();
        scaled = T::to_cpu_storage_owned(dz);
        &scaled
    };
    // dx = dz·W; dWᵀ = xᵀ·dz, then transposed into W's layout.
    // The two products are independent: side by side, each on half the threads.
    let (dx, dwt) = matmul::side_by_side(
        Threads::Candle,
        |threads| matmul::<T>(threads, dz, sw, (1, rows, c, vocab), &lz, lw),
        |threads| -> Result<_> {
            let lxt = lx.transpose(0, 1)?;
            matmul::<T>(threads, sx, dz, (1, c, vocab, rows), &lxt, &lz)
        },
    );
    let (dx, dwt) = (dx?, dwt?);
    let dwt = T::cpu_storage_as_slice(&dwt)?;
    let mut out = T::cpu_storage_data(dx)?;
    out.reserve(vocab * c);
    for v in 0..vocab {
        out.extend((0..c).map(|k| dwt[k * vocab + v]));
    }
    Ok((
        T::to_cpu_storage_owned(out),
        Shape::from(rows * c + vocab * c),
    ))
}

impl CustomOp3 for HeadLossGrad {
    fn name(&self) -> &'static str {
        "ladder-head-loss-grad"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sw: &CpuStorage,
        lw: &Layout,
        sg: &CpuStorage,
        lg: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        by_dtype!(self.name(), sx, backward(&self.0, sx, lx, sw, lw, sg, lg))
    }
}

/// Mean cross-entropy (nats) of the logits `x·Wᵀ` for hidden states `x` `(R, C)`, head
/// `W` `(V, C)` and `targets` `(R)`, as one graph node on CPU; the matmul and
/// [`super::cross_entropy`] elsewhere.
pub fn head_cross_entropy(x: &Tensor, w: &Tensor, targets: &Tensor) -> Result<Tensor> {
    if !x.device().is_cpu() {
        return super::cross_entropy(&x.matmul(&w.t()?)?, targets);
    }
    let op = HeadLoss {
        saved: Stash::new(),
        grad: x.track_op() || w.track_op(),
    };
    let targets = targets.to_dtype(DType::U32)?.contiguous()?;
    x.contiguous()?.apply_op3(&w.contiguous()?, &targets, op)
}
