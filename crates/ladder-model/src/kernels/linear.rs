//! The biased linear layer `y = x·Wᵀ + b`, with the bias added in the matmul's output
//! pass and a backward that produces every gradient contiguous.
//!
//! Composed, the bias is a broadcast add whose backward sums over the leading (B, T)
//! dimensions, a strided reduction ~48× slower than a row sweep
//! (../shared/notes/candle-cpu.md), and `Wᵀ`'s gradient comes out transposed and is
//! copied. Here `dx = dy·W`, `dW = dyᵀ·x` (a strided view that `gemm` reads directly,
//! giving `dW` in `W`'s own layout) and `db` is a row sweep over `dy`.

use candle_core::{CpuStorage, CustomOp1, CustomOp3, Layout, Result, Shape, Tensor};

use rayon::prelude::*;

use super::matmul::{matmul, side_by_side, Threads};
use super::{by_dtype, column_sums, contiguous, Float, ROWS_PER_TASK};

struct Linear;

#[allow(clippy::too_many_arguments)]
pub(super) fn forward<T: Float>(
    threads: Threads,
    sx: &CpuStorage,
    lx: &Layout,
    sw: &CpuStorage,
    lw: &Layout,
    sb: &CpuStorage,
    lb: &Layout,
) -> Result<(CpuStorage, Shape)> {
    let (rows, n) = (lx.dims()[0], lw.dims()[0]);
    let b = contiguous::<T>("linear", sb, lb)?;
    if b.len() != n {
        candle_core::bail!("linear: bias of {} for {n} outputs", b.len());
    }
    let mut y = T::cpu_storage_data(times_transposed::<T>(threads, sx, lx, sw, lw)?)?;
    y.par_chunks_mut(n * ROWS_PER_TASK).for_each(|rows| {
        for row in rows.chunks_exact_mut(n) {
            for (y, &b) in row.iter_mut().zip(b) {
                *y += b;
            }
        }
    });
    Ok((T::to_cpu_storage_owned(y), Shape::from((rows, n))))
}

/// `x·Wᵀ` for `x` `(rows, k)` at `lx` and `W` `(n, k)` at `lw`: the product of
/// candle's `x.matmul(&w.t())`, on `threads`.
pub(super) fn times_transposed<T: Float>(
    threads: Threads,
    sx: &CpuStorage,
    lx: &Layout,
    sw: &CpuStorage,
    lw: &Layout,
) -> Result<CpuStorage> {
    let (rows, k) = lx.shape().dims2()?;
    let (n, k2) = lw.shape().dims2()?;
    if k != k2 {
        candle_core::bail!("linear: x has {k} features, the weight {k2}");
    }
    let wt = lw.transpose(0, 1)?;
    matmul::<T>(threads, sx, sw, (1, rows, n, k), lx, &wt)
}

impl CustomOp3 for Linear {
    fn name(&self) -> &'static str {
        "ladder-linear"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sw: &CpuStorage,
        lw: &Layout,
        sb: &CpuStorage,
        lb: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        by_dtype!(
            self.name(),
            sx,
            forward(Threads::Candle, sx, lx, sw, lw, sb, lb)
        )
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let g = grad.contiguous()?;
        let dx = g.matmul(&w.detach())?;
        let dw = g.t()?.matmul(&x.detach())?;
        let db = g.apply_op1_no_bwd(&ColumnSums)?;
        Ok((Some(dx), Some(dw), Some(db)))
    }
}

/// `(R, C) ↦ (C)`: the sum of the rows.
struct ColumnSums;

fn sums<T: Float>(s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
    let (_, cols) = l.shape().dims2()?;
    let data = contiguous::<T>("column sums", s, l)?;
    Ok((
        T::to_cpu_storage_owned(column_sums(data, cols)),
        Shape::from(cols),
    ))
}

impl CustomOp1 for ColumnSums {
    fn name(&self) -> &'static str {
        "ladder-column-sums"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        by_dtype!(self.name(), s, sums(s, l))
    }
}

/// `x·Wᵀ + b` for `x` of shape `(..., K)`, `W` `(N, K)`, `b` `(N)`: fused on CPU, candle's
/// `Linear` elsewhere.
pub fn linear(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    if !x.device().is_cpu() {
        return linear_composed(x, w, b);
    }
    let dims = x.dims();
    let k = dims.last().copied().unwrap_or(1);
    let rows = x.elem_count() / k.max(1);
    let y = x.contiguous()?.reshape((rows, k))?.apply_op3(
        &w.contiguous()?,
        &b.contiguous()?,
        Linear,
    )?;
    let mut out = dims.to_vec();
    if let Some(last) = out.last_mut() {
        *last = w.dim(0)?;
    }
    y.reshape(out)
}

/// candle's `Linear` (matmul, then a broadcast bias add).
pub fn linear_composed(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    use candle_core::Module;
    candle_nn::Linear::new(w.clone(), Some(b.clone())).forward(x)
}

/// The gradients of `y = x·Wᵀ + b` for `x` `(rows, k)` at `lx`, `W` `(n, k)` at `lw` and
/// `dy` `(rows, n)` at `ldy`, all contiguous: `dx = dy·W` `(rows, k)`, `dW = dyᵀ·x`
/// `(n, k)` and `db` `(n)`, the same products as [`Linear`]'s backward, on `threads`.
pub(super) fn grads<T: Float>(
    threads: Threads,
    (sx, lx): (&CpuStorage, &Layout),
    (sw, lw): (&CpuStorage, &Layout),
    (sdy, ldy): (&CpuStorage, &Layout),
) -> Result<(CpuStorage, CpuStorage, Vec<T>)> {
    let (rows, n) = ldy.shape().dims2()?;
    let (_, k) = lw.shape().dims2()?;
    // `dx` and (`dW`, `db`) are independent: side by side, each on half the threads.
    let (dx, dw_db) = side_by_side(
        threads,
        |threads| matmul::<T>(threads, sdy, sw, (1, rows, k, n), ldy, lw),
        |threads| -> Result<_> {
            let dw = matmul::<T>(threads, sdy, sx, (1, n, k, rows), &ldy.transpose(0, 1)?, lx)?;
            let db = column_sums(contiguous::<T>("linear backward", sdy, ldy)?, n);
            Ok((dw, db))
        },
    );
    let (dx, (dw, db)) = (dx?, dw_db?);
    Ok((dx, dw, db))
}
