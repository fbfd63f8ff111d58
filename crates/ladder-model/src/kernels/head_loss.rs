//! The language-model head and the mean cross-entropy as one graph node.
//!
//! `loss = mean_r CE(x_r·Wᵀ, t_r)` for the final hidden states `x` `(R, C)` and the head
//! `W` `(V, C)`. Composed, the logits `(R, V)` are a matmul node, two reshapes and the
//! cross-entropy's input, each paying candle's zero-then-add for its gradient, on the
//! largest activation of a small model (V = 256 is 4× d_model 64). Here the logits live
//! inside the op between its forward and backward, and the products and the
//! cross-entropy are the same calls as the composed path's (including `Wᵀ`'s gradient
//! computed as `xᵀ·dz` and transposed, as candle's transpose node does), so the loss and
//! the gradients are the same bits.

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Result, Shape, Tensor};

use super::matmul::{matmul, Threads};
use super::{by_dtype, cross_entropy, linear, Float, Stash};

/// What the forward keeps: the logits, and the targets as it read them.
struct Saved {
    logits: CpuStorage,
    targets: CpuStorage,
}

/// `(x, W, targets) ↦ mean cross-entropy`.
#[derive(Clone)]
struct HeadLoss {
    saved: Stash<Saved>,
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

fn forward<T: Float>(
    op: &HeadLoss,
    sx: &CpuStorage,
    lx: &Layout,
    sw: &CpuStorage,
    lw: &Layout,
    st: &CpuStorage,
    lt: &Layout,
) -> Result<(CpuStorage, Shape)> {
    let (rows, vocab, _) = dims("head loss", lx, lw)?;
    let logits = linear::times_transposed::<T>(sx, lx, sw, lw)?;
    let lz = Layout::contiguous((rows, vocab));
    let loss = cross_entropy::forward::<T>(&logits, &lz, st, lt)?;
    let Some((start, end)) = lt.contiguous_offsets() else {
        candle_core::bail!("head loss needs contiguous targets")
    };
    let targets = CpuStorage::U32(st.as_slice::<u32>()?[start..end].to_vec());
    op.saved.keep("head loss", Saved { logits, targets })?;
    Ok(loss)
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

/// `(x, W, g) ↦ [dx | dW]`, flat, from the saved logits.
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
    let lt = Layout::contiguous(rows);
    let (dz, _) = cross_entropy::backward::<T>(&s.logits, &lz, &s.targets, &lt, sg, lg)?;
    // dx = dz·W; dWᵀ = xᵀ·dz, then transposed into W's layout.
    let dx = matmul::<T>(Threads::Candle, &dz, sw, (1, rows, c, vocab), &lz, lw)?;
    let dwt = matmul::<T>(
        Threads::Candle,
        sx,
        &dz,
        (1, c, vocab, rows),
        &lx.transpose(0, 1)?,
        &lz,
    )?;
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
    };
    let targets = targets.to_dtype(DType::U32)?.contiguous()?;
    x.contiguous()?.apply_op3(&w.contiguous()?, &targets, op)
}
